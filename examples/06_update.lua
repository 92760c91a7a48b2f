-- 06_update.lua - a read-modify-write in one call: db:update(ks, key, fn).
--
-- An auction keeps the highest bid of each lot.  A bid is read-modify-
-- write: read the highest bid, write the new one only if it is higher.
-- db:update reads the key, calls fn with the value a read shows (and,
-- when the key holds several siblings, their values), and writes fn's
-- result with what the read saw (nil: writes nothing).
-- Bids taken at two replicas at the same time become siblings, and the
-- keyspace's resolver (scripts/max.lua) shows the highest; the next
-- update replaces both.
--
-- Run from the top of the source tree:
--   LUA_CPATH='build/?.so' lua5.4 examples/06_update.lua
local vv = require "vv"

local KS, LOT = "bids", "lot:7"
local east, west = vv.open { node = "east" }, vv.open { node = "west" }
for _, db in ipairs { east, west } do
  db:keyspace(KS, { resolver = "scripts/max.lua" })
end

-- A bid of amount at db: written only when it beats what db shows.
local function bid(db, name, amount)
  local written = db:update(KS, LOT, function(best)
    if best ~= nil and best >= amount then return nil end
    return amount
  end)
  print(string.format("  %s bids %d at %s: %s", name, amount, db:node(),
                      written and "written, the highest " .. db:node() .. " knows"
                      or "too low, nothing written"))
end

-- What db shows for the lot.
local function show(db)
  local r = db:get(KS, LOT)
  print(string.format("  %s: highest %s, from %d version(s)", db:node(),
                      tostring(r.value), #r.siblings))
end

print("Bids at east, one after the other:")
bid(east, "ann", 100)
bid(east, "bob", 90)
bid(east, "cat", 120)
show(east)

print("\nwest learns east's state, then both take a bid at the same time:")
west:merge(KS, LOT, east:export(KS, LOT))
bid(east, "dan", 150)
bid(west, "eve", 140)
print("They exchange states: both bids stay, as siblings; max.lua shows")
print("the higher one.")
east:merge(KS, LOT, west:export(KS, LOT))
west:merge(KS, LOT, east:export(KS, LOT))
show(east)
show(west)

print("\nThe next bid reads the highest (150) and replaces both versions:")
bid(west, "fay", 160)
east:merge(KS, LOT, west:export(KS, LOT))
show(east)
show(west)

print("\nA write that arrives while fn runs is not lost: it stays a sibling.")
east:update(KS, LOT, function(best)
  east:put(KS, LOT, 165)                  -- e.g. another client, meanwhile
  return best + 10
end)
local r = east:get(KS, LOT)
local seen = {}
for i, v in ipairs(r.values) do seen[i] = tostring(v) end
table.sort(seen)
print(string.format("  east: versions %s, highest %s", table.concat(seen, " and "),
                    tostring(r.value)))

print("\nEach replica counts the bids it took.  With several siblings, fn")
print("also gets every sibling's value: one update adds the counts up and")
print("replaces them all.")
east:update(KS, "bids taken", function(count) return (count or 0) + 4 end)
west:update(KS, "bids taken", function(count) return (count or 0) + 2 end)
east:merge(KS, "bids taken", west:export(KS, "bids taken"))
print(string.format("  east: %d version(s) of the count",
                    #east:get(KS, "bids taken").siblings))
local total = east:update(KS, "bids taken", function(count, counts)
  local sum = 0
  for _, c in ipairs(counts or { count }) do sum = sum + c end
  return sum
end)
print(string.format("  east: %d bids taken, in %d version(s)", total,
                    #east:get(KS, "bids taken").siblings))
