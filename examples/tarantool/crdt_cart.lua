-- crdt_cart.lua - the cart of examples/08_cart_set.lua on three Tarantool
-- instances t1, t2, t3: milk removed at t2 while butter is added at t3,
-- once in a keyspace merged by scripts/union.lua and once as a set of
-- vv.crdt (scripts/set.lua).  Union brings the milk back on every
-- instance; the set keeps it removed.
-- Run by examples/tarantool/demo.sh (make tarantool-demo) after
-- stories.lua, on the same three instances: each gets a vv.tarantool
-- handle of its own (vvt.open on the space "vv") through net.box eval.
-- Prints what happens and "ok - " / "not ok - " for each check.
local netbox = require "net.box"
local fiber = require "fiber"

io.stdout:setvbuf("no")
require("log").level(1)
local PORT0 = assert(tonumber(os.getenv("VVT_PORT")), "VVT_PORT")
local ROOT = assert(os.getenv("VVT_ROOT"), "VVT_ROOT")

local uri, c = {}, {}
for i = 1, 3 do
  uri[i] = "vv:vv@127.0.0.1:" .. (PORT0 + i - 1)
  c[i] = netbox.connect(uri[i], { wait_connected = 30, reconnect_after = 0.1 })
end
local failed = 0

local function check(cond, what)
  print((cond and "ok - " or "not ok - ") .. what)
  if not cond then failed = failed + 1 end
end

-- What each instance runs once: a vv.tarantool handle and the cart's
-- calls, in the global CART.
local SETUP = [[
local node, root = ...
local vvt = require "vv.tarantool"
local crdt = require("vv").crdt
if CART then return end
local db = vvt.open { node = node, space = "vv" }
db:keyspace("cart_union", { resolver = root .. "/scripts/union.lua" })
db:keyspace("cart_set", { resolver = root .. "/scripts/set.lua" })
local function text(list) return "[" .. table.concat(list, ", ") .. "]" end
CART = {
  -- the cart as a list of items, merged by union.lua
  fill = function(items) db:put("cart_union", "alice", items) end,
  drop = function(item)                    -- read, write without item
    local r = db:get("cart_union", "alice")
    local left = {}
    for _, x in ipairs(r.value) do if x ~= item then left[#left + 1] = x end end
    db:put("cart_union", "alice", left, r.context)
  end,
  put = function(item)                     -- read, write with item
    local r = db:get("cart_union", "alice")
    local more = { item }
    for _, x in ipairs(r.value) do more[#more + 1] = x end
    db:put("cart_union", "alice", more, r.context)
  end,
  -- the cart as a set of vv.crdt
  add = function(item) crdt.set.add(db, "cart_set", "alice", item) end,
  remove = function(item) crdt.set.remove(db, "cart_set", "alice", item) end,
  show = function()
    local r = db:get("cart_union", "alice")
    return text(r.value), #r.siblings,
           text(crdt.set.get(db, "cart_set", "alice"))
  end,
  state = function(ks) return db:export(ks, "alice") end,
}
]]

-- Who each instance pulls from: links{ {..}, {..}, {..} } (numbers).
local function links(l)
  for i = 1, 3 do
    local u = {}
    for _, j in ipairs(l[i]) do u[#u + 1] = uri[j] end
    c[i]:eval("box.cfg { replication = ... }", { u })
  end
end
local function partition() links { {}, {}, {} } end
local function heal() links { { 1, 2, 3 }, { 1, 2, 3 }, { 1, 2, 3 } } end

local function call(i, fn, ...)
  return c[i]:eval("return CART." .. fn .. "(...)", { ... })
end

-- Until all three hold the same states of both carts (5 s at most).
local function same()
  for _ = 1, 500 do
    local ok = true
    for _, ks in ipairs { "cart_union", "cart_set" } do
      local a = call(1, "state", ks)
      ok = ok and a ~= nil and a == call(2, "state", ks)
        and a == call(3, "state", ks)
    end
    if ok then return true end
    fiber.sleep(0.01)
  end
  return false
end

local function shows()
  local out = {}
  for i = 1, 3 do
    local u, n, s = call(i, "show")
    out[i] = { u, n, s }
    print(string.format("    t%d  union.lua: %-42s set.lua: %s", i,
      u .. (n > 1 and " (" .. n .. " versions)" or ""), s))
  end
  return out
end

print()
print("== 8. A cart whose removes stick (vv.crdt, scripts/set.lua)")
for i = 1, 3 do c[i]:eval(SETUP, { "t" .. i, ROOT }) end
heal()
print("Alice fills her cart at t1: eggs, milk, bacon.  One cart is a list")
print("merged by union.lua, the other a set of vv.crdt.")
call(1, "fill", { "eggs", "milk", "bacon" })
for _, item in ipairs { "eggs", "milk", "bacon" } do call(1, "add", item) end
check(same(), "both carts reach every instance")
shows()
print("The network splits.  At t2 she removes the milk; at t3, at the same")
print("time, she adds butter.")
partition()
call(2, "drop", "milk")
call(2, "remove", "milk")
call(3, "put", "butter")
call(3, "add", "butter")
shows()
print("The network heals.")
heal()
check(same(), "the carts meet on every instance")
local seen = shows()
local union_back, set_gone = true, true
for i = 1, 3 do
  union_back = union_back and seen[i][1] == "[bacon, butter, eggs, milk]"
  set_gone = set_gone and seen[i][3] == "[bacon, butter, eggs]"
end
check(union_back, "union.lua brings the removed milk back on every instance")
check(set_gone, "the set keeps the milk removed on every instance")

os.exit(failed == 0 and 0 or 1)
