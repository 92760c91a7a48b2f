-- stories.lua - the seed stories on three Tarantool instances t1, t2, t3
-- (the story's s0, s1, s2), each a vv replica of a master-master set.
-- Run by examples/tarantool/demo.sh (make tarantool-demo) with tarantool;
-- the instances run examples/tarantool/init.lua.  Prints what happens and
-- "ok - " / "not ok - " for each thing it checks.
local netbox = require "net.box"
local fiber = require "fiber"
local popen = require "popen"

io.stdout:setvbuf("no")
require("log").level(1)     -- no "connection refused" lines while t2 is down
local PORT0 = assert(tonumber(os.getenv("VVT_PORT")), "VVT_PORT")
local CLUSTER = assert(os.getenv("CLUSTER"), "CLUSTER")
local LOG = os.getenv("VVT_DIR") .. "/demo-sh.log"

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

local function put(i, ks, key, value, ctx)
  return c[i]:call("PUT", { ks, key, value, ctx })
end
local function show(i, ks, key) return c[i]:call("SHOW", { ks, key }) end
local function state(i, ks, key) return c[i]:call("STATE", { ks, key }) end

-- Print what each instance shows for ks/key.
local function shows(ks, key)
  for i = 1, 3 do print(string.format("    t%d: %s", i, (show(i, ks, key)))) end
end

-- Until all three hold the same state bytes for ks/key (5 s at most).
local function same(ks, key)
  for _ = 1, 500 do
    local a = state(1, ks, key)
    if a ~= nil and a == state(2, ks, key) and a == state(3, ks, key) then
      return true
    end
    fiber.sleep(0.01)
  end
  return false
end

-- Who each instance pulls from: links{ {..}, {..}, {..} } (numbers).
local function links(l)
  for i = 1, 3 do
    local u = {}
    for _, j in ipairs(l[i]) do u[#u + 1] = uri[j] end
    c[i]:call("LINKS", { u })
  end
end
local function partition() links { {}, {}, {} } end
local function heal() links { { 1, 2, 3 }, { 1, 2, 3 }, { 1, 2, 3 } } end

local function sh(cmd)
  local p = popen.shell(cmd .. " >> '" .. LOG .. "' 2>&1")
  local st = p:wait()
  p:close()
  return st.exit_code == 0
end

print("Three Tarantool instances t1, t2, t3 replicate master-master in a full")
print("mesh.  Each is a vv replica: per-key states live in the box space 'vv',")
print("and a trigger merges every state replication brings with the local one.")

print()
print("== 1. Concurrent writes: both versions are kept")
print("The network splits: no instance hears from another.")
partition()
print("Client A writes key1 = 10 at t1; client B writes key1 = 20 at t2.")
put(1, "demo", "key1", 10)
put(2, "demo", "key1", 20)
print("t3 now hears from t1 only.")
links { {}, {}, { 1 } }
fiber.sleep(0.3)
shows("demo", "key1")
print("The network heals.")
heal()
check(same("demo", "key1"), "all three hold the same state of key1")
shows("demo", "key1")
local text, ctx = show(3, "demo", "key1")
check(text == "10 | 20", "a read shows both versions: " .. text)
print("    context: " .. ctx)
print("A client reads at t3, decides (30) and writes with the read's context:")
put(3, "demo", "key1", 30, ctx)
check(same("demo", "key1"), "the resolution reaches every instance")
shows("demo", "key1")

print()
print("== 2. A newer version replaces an older one")
local c1 = put(1, "demo", "key2", "v1")
check(same("demo", "key2"), "v1 is everywhere")
print("A client that read v1 (context " .. c1 .. ") writes v2 at t2:")
put(2, "demo", "key2", "v2", c1)
check(same("demo", "key2"), "v2 reaches every instance")
shows("demo", "key2")
check((show(1, "demo", "key2")) == "v2", "v2 replaced v1: no conflict")

print()
print("== 3. Shopping carts merged by a resolver script (scripts/union.lua)")
partition()
print("Alice adds an apple at t1 while the network is split; at t2 she adds")
print("a banana.")
put(1, "carts", "alice", { "apple" })
put(2, "carts", "alice", { "banana" })
heal()
check(same("carts", "alice"), "the carts meet on every instance")
shows("carts", "alice")
local v1, v2, v3 = show(1, "carts", "alice"), show(2, "carts", "alice"),
                   show(3, "carts", "alice")
check(v1 == v2 and v2 == v3 and v1:find("resolved: [apple, banana]", 1, true),
      "every instance resolves the cart to [apple, banana]")

print()
print("== 4. Eggs, milk and bacon")
partition()
print("Client 1 writes [eggs] at t1 (version 1) and keeps the context.")
local seen1 = put(1, "shop", "list", { "eggs" })
print("Client 2, at t2, never read the list: it writes [milk].")
put(2, "shop", "list", { "milk" })
heal()
check(same("shop", "list"), "version 2 everywhere")
print("Version 2:")
shows("shop", "list")
print("Client 1 writes [eggs, bacon] at t3, based on version 1 (all it saw).")
put(3, "shop", "list", { "eggs", "bacon" }, seen1)
check(same("shop", "list"), "version 3 everywhere")
print("Version 3:")
shows("shop", "list")
local v = show(2, "shop", "list")
check(v == "[eggs, bacon] | [milk]" or v == "[milk] | [eggs, bacon]",
      "[eggs, bacon] replaced [eggs], [milk] stays: " .. v)

print()
print("== 5. Last write wins (keyspace 'prefs', resolver lww)")
partition()
put(1, "prefs", "theme", "dark")
fiber.sleep(0.01)
put(2, "prefs", "theme", "light")
heal()
check(same("prefs", "theme"), "both writes reach every instance")
shows("prefs", "theme")
local p1, p2, p3 = show(1, "prefs", "theme"), show(2, "prefs", "theme"),
                   show(3, "prefs", "theme")
check(p1 == p2 and p2 == p3 and p1:find("resolved: light", 1, true),
      "every instance picks the later write, light")

print()
print("== 6. An instance dies (SIGKILL) and comes back")
local before = c[2]:eval("return DB:actor()")
check(sh(CLUSTER .. " kill 2"), "t2 killed")
put(1, "demo", "key3", "while t2 was down")
put(3, "carts", "alice", { "apple", "banana", "cherry" },
    select(2, show(3, "carts", "alice")))
check(sh(CLUSTER .. " restart 2"), "t2 restarted on its own directory")
check(same("demo", "key3") and same("carts", "alice"),
      "t2 caught up with what it missed")
shows("carts", "alice")
local after = c[2]:eval("return DB:actor()")
print("    t2's vv actor before: " .. before .. ", after: " .. after)
check(before ~= after, "a restarted instance writes as a new actor: no dot "
      .. "is ever given twice")

print()
print("== 7. A read-modify-write in one call: db:update")
print("The network splits; t1 and t2 each count the visits they served.")
partition()
c[1]:eval("return DB:update('demo', 'visits', function(n) return (n or 0) + 3 end)")
c[2]:eval("return DB:update('demo', 'visits', function(n) return (n or 0) + 4 end)")
heal()
check(same("demo", "visits"), "both counts reach every instance")
shows("demo", "visits")
print("At t3 one update adds them up: its function gets every sibling's")
print("value, and its result replaces what it read.")
local total = c[3]:eval([[
  return DB:update('demo', 'visits', function(n, all)
    local sum = 0
    for _, v in ipairs(all or { n }) do sum = sum + v end
    return sum
  end)]])
check(total == 7 and same("demo", "visits"),
      "the sum, 7, replaces both versions on every instance")
shows("demo", "visits")

os.exit(failed == 0 and 0 or 1)
