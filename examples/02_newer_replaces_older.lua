-- 02_newer_replaces_older.lua - when one version happened after another,
-- the newer one replaces the older: no conflict, on every replica.
--
-- Run from the top of the source tree:
--   LUA_CPATH='build/?.so' lua5.4 examples/02_newer_replaces_older.lua
local vv = require "vv"

local KS = "demo"

local function state(db, key)
  local r = db:get(KS, key)
  if not r then return "(nothing)" end
  local parts = {}
  for i, s in ipairs(r.siblings) do parts[i] = tostring(s.value) end
  return table.concat(parts, " | ") .. "   (versions: " .. #r.siblings .. ")"
end

local s0 = vv.open { node = "s0" }
local s1 = vv.open { node = "s1" }

print("Two replicas, s0 and s1.")
print("A client writes key1 = 10 at s0: call this version v1.")
local v1 = s0:put(KS, "key1", 10)
print("  v1 = " .. tostring(v1))
local old_message = s0:export(KS, "key1")
s1:merge(KS, "key1", old_message)
print("Replication copies v1 to s1.")
print("  s0 = " .. state(s0, "key1"))
print("  s1 = " .. state(s1, "key1"))

print()
print("Later a client reads key1 at s0. The read returns the value and a")
print("context: the version vector of everything the client has now seen.")
local r = s0:get(KS, "key1")
print("  read: value = " .. tostring(r.value) ..
  ", context = " .. tostring(r.context))
print("It writes key1 = 20 with that context: version v2.")
local v2 = s0:put(KS, "key1", 20, r.context)
print("  v2 = " .. tostring(v2))
print("  compare(v1, v2) = " .. vv.compare(v1, v2) ..
  "   (v1 happened before v2: v2 had seen v1)")
print("So v2 replaces v1 at s0. No conflict, no second version:")
print("  s0 = " .. state(s0, "key1"))

print()
print("Replication brings v2 to s1, which still holds v1.")
s1:merge(KS, "key1", s0:export(KS, "key1"))
print("s1 sees that v2 comes after the v1 it holds, and drops v1:")
print("  s1 = " .. state(s1, "key1"))

print()
print("A duplicate of the old message (v1) arrives at s1 late.")
s1:merge(KS, "key1", old_message)
print("It is older than what s1 holds, so nothing changes:")
print("  s1 = " .. state(s1, "key1"))

print()
print("Contrast: a write WITHOUT a context claims to have seen nothing, so")
print("it cannot replace anything. It is kept beside v2 as a sibling:")
s1:put(KS, "key1", 30)
print("  s1 = " .. state(s1, "key1"))
s0:close(); s1:close()
