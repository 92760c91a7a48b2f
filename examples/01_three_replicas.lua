-- 01_three_replicas.lua - three replicas, two concurrent writes, a conflict
-- seen at a read, resolved by a client and written back: all converge.
--
-- Run from the top of the source tree:
--   LUA_CPATH='build/?.so' lua5.4 examples/01_three_replicas.lua
local vv = require "vv"

local KS = "demo"        -- a keyspace: a named group of keys

-- What a replica holds for a key, in words: "10", or "10 | 20" when it
-- keeps two concurrent versions (siblings).
local function state(db, key)
  local r = db:get(KS, key)
  if not r then return "(nothing)" end
  local parts = {}
  for i, s in ipairs(r.siblings) do parts[i] = tostring(s.value) end
  return table.concat(parts, " | ")
end

-- Replication: ship everything one replica knows about a key to another.
-- The receiver merges it with what it has; nothing it already had is lost.
local function send(from, to, key)
  to:merge(KS, key, from:export(KS, key))
end

local function show_all(title, replicas)
  print(title)
  for _, r in ipairs(replicas) do
    print(string.format("  %s = %s", r.name, state(r.db, "key1")))
  end
end

print("Three replicas keep copies of the same data: s0, s1 and s2 (N = 3).")
local s0 = { name = "s0", db = vv.open { node = "s0" } }
local s1 = { name = "s1", db = vv.open { node = "s1" } }
local s2 = { name = "s2", db = vv.open { node = "s2" } }
local all = { s0, s1, s2 }

print()
print("Client A writes key1 = 10 at s0.")
local version_a = s0.db:put(KS, "key1", 10)
print("Client B writes key1 = 20 at s1, at the same time: B has not seen A's")
print("write, and A has not seen B's.")
local version_b = s1.db:put(KS, "key1", 20)
local late = s1.db:export(KS, "key1")  -- a copy of s1's state, delivered late

print()
print("Replication is under way, but slow: s2 hears from s0, and the")
print("message from s1 is still on its way.")
send(s0.db, s2.db, "key1")
show_all("What each replica holds now:", all)
print("The replicas disagree: this is a write conflict.")

print()
print("Each write carries a version (a vector clock of what it had seen).")
print("An entry is named after the replica that wrote, plus a tag for this")
print("run of it, so a restarted replica never reuses a version number.")
print(string.format("  A's version: %s", tostring(version_a)))
print(string.format("  B's version: %s", tostring(version_b)))
print(string.format("  compare(A's version, B's version) = %s",
  vv.compare(version_a, version_b)))
print("Neither version had seen the other, so vv cannot pick one: when they")
print("meet, it keeps both instead of silently dropping one.")

print()
print("s1's message finally reaches s2.")
send(s1.db, s2.db, "key1")
local r = s2.db:get(KS, "key1")
print(string.format("A client reads key1 at s2 and gets %d versions:",
  #r.siblings))
for i, s in ipairs(r.siblings) do
  print(string.format("  value%d = %s   (written at %s)", i,
    tostring(s.value), s.node))
end
print("r.value is " .. tostring(r.value) .. ": with several versions the" ..
  " keyspace's resolver")
print("decides, and this one (the default, \"siblings\") leaves the choice")
print("to the client.")

print()
print("The client reconciles with its own rule (here: keep the larger number)")
local best = r.values[1]
for _, v in ipairs(r.values) do if v > best then best = v end end
print(string.format("and writes key1 = %s back at s2 with the read's context.",
  tostring(best)))
print("The context says: this write replaces every version I have read.")
s2.db:put(KS, "key1", best, r.context)
show_all("Right after the write-back:", all)

print()
print("Replication carries s2's state to s0 and s1.")
send(s2.db, s0.db, "key1")
send(s2.db, s1.db, "key1")
show_all("Every replica now holds:", all)

local same = true
for _, x in ipairs(all) do
  local rr = x.db:get(KS, "key1")
  if #rr.siblings ~= 1 or rr.value ~= best then same = false end
end
print("converged: " .. (same and "yes" or "no") ..
  " (one version, the same value, on all three replicas)")
print("No write was lost: both 10 and 20 reached a client, and the client")
print("decided. A duplicate of B's old message, arriving late, changes")
print("nothing: the write-back had seen that version.")
s0.db:merge(KS, "key1", late)
print(string.format("  s0 = %s", state(s0.db, "key1")))
for _, x in ipairs(all) do x.db:close() end
