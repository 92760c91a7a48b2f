-- 08_cart_set.lua - the seeds' cart (eggs, milk, bacon) at three
-- replicas: milk removed at one while butter is added at another.  The
-- same story twice, side by side: a cart merged by scripts/union.lua,
-- and a cart of the set type of vv.crdt (scripts/set.lua).  Union brings
-- the removed milk back; the set keeps it removed.
--
-- Run from the top of the source tree:
--   LUA_CPATH='build/?.so' lua5.4 examples/08_cart_set.lua
local vv = require "vv"
local crdt = vv.crdt

local s = {}
for i = 0, 2 do
  s[i] = vv.open { node = "s" .. i }
  s[i]:keyspace("union", { resolver = "scripts/union.lua" })
  s[i]:keyspace("set", { resolver = "scripts/set.lua" })
end

local function list(t) return "[" .. table.concat(t, ", ") .. "]" end

-- Send replica i's state of both carts to replica j.
local function send(i, j)
  for _, ks in ipairs { "union", "set" } do
    s[j]:merge(ks, "cart", s[i]:export(ks, "cart"))
  end
end

-- What replica i shows for both carts, side by side.
local function show(i)
  local u = s[i]:get("union", "cart")
  print(string.format("  s%d   union.lua: %-41s set.lua: %s", i,
    list(u.value) .. (#u.siblings > 1 and " (" .. #u.siblings
      .. " versions)" or ""),
    list(crdt.set.get(s[i], "set", "cart"))))
end

print("The cart is filled at s0 and reaches s1 and s2.")
s[0]:put("union", "cart", { "eggs", "milk", "bacon" })
for _, item in ipairs { "eggs", "milk", "bacon" } do
  crdt.set.add(s[0], "set", "cart", item)
end
send(0, 1); send(0, 2)
for i = 0, 2 do show(i) end

print()
print("The network splits.  At s1 the customer removes the milk; at s2,")
print("at the same time, she adds butter.  Each client reads the cart it")
print("sees and writes with the read's context.")
local r = s[1]:get("union", "cart")                    -- remove milk
local left = {}
for _, item in ipairs(r.value) do
  if item ~= "milk" then left[#left + 1] = item end
end
s[1]:put("union", "cart", left, r.context)
crdt.set.remove(s[1], "set", "cart", "milk")
r = s[2]:get("union", "cart")                          -- add butter
local more = { "butter" }
for _, item in ipairs(r.value) do more[#more + 1] = item end
s[2]:put("union", "cart", more, r.context)
crdt.set.add(s[2], "set", "cart", "butter")
for i = 0, 2 do show(i) end

print()
print("The network heals: every replica sends its carts to every other.")
for i = 0, 2 do
  for j = 0, 2 do if i ~= j then send(i, j) end end
end
for i = 0, 2 do show(i) end
print("union.lua merges [bacon, butter, eggs, milk]: s2's version still")
print("held the milk, so the milk is back.  set.lua merges [bacon, butter,")
print("eggs]: s1's remove had seen the add of milk, so it sticks.")

print()
print("A remove takes away only the adds it saw.  At s0 the customer adds")
print("milk again, and eggs (another dozen), while s1, which has not heard")
print("of them, removes the eggs.")
crdt.set.add(s[0], "set", "cart", "milk")
crdt.set.add(s[0], "set", "cart", "eggs")
crdt.set.remove(s[1], "set", "cart", "eggs")
send(0, 1); send(1, 0); send(0, 2); send(1, 2)
for i = 0, 2 do
  print(string.format("  s%d   set.lua: %s", i,
    list(crdt.set.get(s[i], "set", "cart"))))
end
print("The eggs stay: s1's remove had not seen s0's new add.  The milk is")
print("back: added after the remove.")

print()
local st = crdt.set.state(s[0]:get("set", "cart"))
local clock = {}
for actor, n in pairs(st.c) do
  clock[#clock + 1] = actor:sub(1, 2) .. ":" .. n
end
table.sort(clock)
print("The set's state holds each element with the add that put it there,")
print("and one clock, {" .. table.concat(clock, ", ") .. "}: no trace of "
  .. "the removed items.")
print(string.format("  %d bytes for %d elements", #vv.encode(st),
  #crdt.set.value(st)))
for i = 0, 2 do s[i]:close() end
