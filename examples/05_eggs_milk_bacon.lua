-- 05_eggs_milk_bacon.lua - one replica, version numbers, and a write based
-- on an old version: it replaces only what it had seen.
--
-- Run from the top of the source tree:
--   LUA_CPATH='build/?.so' lua5.4 examples/05_eggs_milk_bacon.lua
local vv = require "vv"

local KS = "shopping"
local db = vv.open { node = "server" }

local function list(t) return "[" .. table.concat(t, ", ") .. "]" end

-- The key's current state: its siblings as lists, e.g. "[eggs] and [milk]"
-- (listed alphabetically, to read like the story).
local function state()
  local r = db:get(KS, "cart")
  local parts = {}
  for i, s in ipairs(r.siblings) do parts[i] = list(s.value) end
  table.sort(parts)
  return table.concat(parts, " and "), r
end

print("A single server holds a shopping cart. Every write gets a new version")
print("number, and every write says which version it was based on.")
print()
print("Client 1 writes [eggs] (based on nothing: the cart is empty).")
local seen_by_1 = db:put(KS, "cart", { "eggs" })
print("  version 1 = " .. state())
print("  client 1 remembers the context it got back: " .. tostring(seen_by_1))

print()
print("Client 2 writes [milk]. It never read the cart, so its write is based")
print("on nothing either: it is concurrent with [eggs] and cannot replace it.")
db:put(KS, "cart", { "milk" })
print("  version 2 = " .. state())

print()
print("Client 1 now writes [eggs, bacon], based on version 1 (all it saw).")
db:put(KS, "cart", { "eggs", "bacon" }, seen_by_1)
local v3, r = state()
print("  version 3 = " .. v3)
print("The write replaced [eggs], which it had seen, but not [milk], which")
print("it had not seen: it cannot overwrite data it never knew about.")

print()
print("The versions, as vv numbers them (the dot: node and counter):")
for _, s in ipairs(r.siblings) do
  print(string.format("  %-16s written by %s, counter %d", list(s.value),
    s.node, s.counter))
end
print("The context now covers all of them: " .. tostring(r.context))

print()
print("A client that reads both and writes a merged cart with this context")
print("replaces both versions:")
local merged = {}
for _, v in ipairs(r.values) do
  for _, item in ipairs(v) do merged[#merged + 1] = item end
end
db:put(KS, "cart", merged, r.context)
print("  version 4 = " .. state())
db:close()
