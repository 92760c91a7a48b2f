-- model.lua - the Tarantool integration under concurrent writes, checked
-- against a model of causality (run by tests/t_tarantool.sh with
-- tarantool, against three instances of lua/tarantool/cluster.sh).
--
-- Writer fibers put, put with a (maybe stale, maybe foreign) context and
-- delete through all three instances at once, while instance 3 is cut off
-- from the others (both directions) and brought back, and instance 2 is
-- SIGKILLed and restarted on its directory.  For every acknowledged write
-- the model keeps its dot (from the context the write returned) and the
-- context it was made with; a write w has been seen by write x when x's
-- context covers w's dot.  Afterwards, for every key, every instance must
-- hold the same state bytes, and its siblings must be exactly the
-- acknowledged puts that no acknowledged write had seen: none lost, no
-- false conflict, no delete undone.  Then a resolver script, and bad
-- states written raw (locally and through replication).
--
-- Environment: VVT_PORT (first port), VVT_DIR (the set's directory),
-- CLUSTER (lua/tarantool/cluster.sh), VVT_OPS (operations, default 20000),
-- VVT_SEED.  Prints "ok - ..." / "not ok - ..." lines; exit status 1 when
-- one failed.
local fiber = require "fiber"
local clock = require "clock"
package.path = assert(os.getenv("VVT_ROOT"), "VVT_ROOT") ..
               "/tests/tarantool/?.lua;" .. package.path
local causal = require "causal"

io.stdout:setvbuf("no")
require("log").level(1)     -- no "connection refused" lines while 2 is down
local PORT0 = assert(tonumber(os.getenv("VVT_PORT")), "VVT_PORT")
local DIR = assert(os.getenv("VVT_DIR"), "VVT_DIR")
local CLUSTER = assert(os.getenv("CLUSTER"), "CLUSTER")
local OPS = tonumber(os.getenv("VVT_OPS")) or 20000
local SEED = tonumber(os.getenv("VVT_SEED")) or os.time()
local KEYS = 32
local FIBERS = 4                        -- writers per instance
math.randomseed(SEED)

local drive = dofile(os.getenv("VVT_ROOT") .. "/tests/tarantool/drive.lua")
local ok = drive.ok
local function say(fmt, ...) print("# " .. string.format(fmt, ...)) end
local set = drive.set(PORT0)
local C, call = set.C, set.call
local OPT = { timeout = 20 }
local function sh(cmd) return drive.sh(cmd, DIR .. "/driver-sh.log") end

-- ---- the model -------------------------------------------------------

local model = causal.new()
local pool = {}                -- key -> recent read contexts {text, from}
local stats = { reads = 0, puts = 0, ctx_puts = 0, deletes = 0,
                refused = 0, unknown = 0, foreign_ctx = 0 }
local nops = 0
local bad_reads = {}

local function keyname(k) return "k" .. k end

-- Remember a read's context for later writes (a few per key).
local function remember(key, text, from)
  local p = pool[key] or {}
  pool[key] = p
  table.insert(p, 1, { text = text, from = from })
  if #p > 4 then p[#p] = nil end
end

-- One operation through instance i.
local function op(i)
  local k = keyname(math.random(KEYS))
  local r = math.random()
  if r < 0.35 then                                  -- a client reads
    local res = call(i, "T_GET", { "kv", k })
    stats.reads = stats.reads + 1
    if res ~= nil then
      for _, s in ipairs(res.sibs) do
        if not model:known(s[1]) then
          bad_reads[#bad_reads + 1] = k .. ": " .. tostring(s[1])
        end
      end
      remember(k, res.context, i)
    end
    return
  end
  local tomb = r >= 0.85
  local p = pool[k]
  local ctx
  if r < 0.65 and p and #p > 0 then               -- with a read's context
    ctx = p[math.random(#p)]
  elseif tomb and p and #p > 0 then               -- a delete of what was read
    ctx = p[1]
  end
  local w = model:write(k, tomb, ctx and ctx.text)
  if ctx and ctx.from ~= i then stats.foreign_ctx = stats.foreign_ctx + 1 end
  local okc, actor, newctx = pcall(call, i, tomb and "T_DEL" or "T_PUT",
    tomb and { "kv", k, ctx and ctx.text } or
             { "kv", k, w.value, ctx and ctx.text })
  if okc then
    model:acked(w, actor, newctx)
    if tomb then stats.deletes = stats.deletes + 1
    elseif ctx then stats.ctx_puts = stats.ctx_puts + 1
    else stats.puts = stats.puts + 1 end
  elseif tostring(actor):find("max_siblings", 1, true) then
    model:refused(w)                        -- not applied: no dot given
    stats.refused = stats.refused + 1
  else
    model:unknown(w)
    stats.unknown = stats.unknown + 1
    say("write %d through %d: %s", w.id, i, tostring(actor))
  end
end

-- ---- writers and phases ------------------------------------------------

local stop = false
local gate = 0                  -- writers wait while nops >= gate
local paused = { false, false, false }
local inflight = { 0, 0, 0 }
local done = fiber.channel(3 * FIBERS)

local function writer(i)
  while not stop do
    if paused[i] or nops >= gate then
      fiber.sleep(0.005)
    else
      inflight[i] = inflight[i] + 1
      local okc, err = pcall(op, i)
      inflight[i] = inflight[i] - 1
      if not okc then
        say("operation through %d failed: %s", i, tostring(err))
        fiber.sleep(0.05)
      end
      nops = nops + 1
    end
  end
  done:put(true)
end

-- Let the writers run until n operations in all, and wait for them.
local function until_ops(n)
  gate = n
  while nops < n do fiber.sleep(0.005) end
end

-- instance i pulls from exactly the instances in list
local set_links = set.links

local t0 = clock.monotonic()
for i = 1, 3 do
  for _ = 1, FIBERS do fiber.create(writer, i) end
end

-- the carts: three concurrent writes while 3 is cut off (below)
local function carts()
  call(1, "T_PUT", { "u", "cart", { "eggs" } })
  call(2, "T_PUT", { "u", "cart", { "milk" } })
  call(3, "T_PUT", { "u", "cart", { "bacon" } })
end

until_ops(OPS * 0.2)
-- a full partition of instance 3: it stops pulling, and 1 and 2 stop
-- pulling from it (a one-sided box.cfg{replication = {}} would leave the
-- other direction running)
set_links(3, {})
set_links(1, { 1, 2 })
set_links(2, { 1, 2 })
local cut_at = nops
local okc, err = pcall(carts)
ok(okc, "concurrent cart writes on the three instances while 3 is cut off",
   err)
until_ops(OPS * 0.45)
for i = 1, 3 do set_links(i, { 1, 2, 3 }) end
ok(true, string.format("replication cut (instance 3 alone, both directions) "
   .. "during %d operations, then restored", nops - cut_at))

until_ops(OPS * 0.55)
-- instance 2 dies: its writers hold their next call for the instant of
-- the kill, so every write has a known outcome (the model needs each
-- write's dot); everything else goes on
paused[2] = true
while inflight[2] > 0 do fiber.sleep(0.001) end
local kill_rc = sh(CLUSTER .. " kill 2")
local killed_at = nops
until_ops(OPS * 0.7)
gate = OPS * 0.75                       -- writes go on while 2 restarts
local restart_rc = sh(CLUSTER .. " restart 2")
paused[2] = false
ok(kill_rc == 0 and restart_rc == 0,
   string.format("instance 2 SIGKILLed mid-run, restarted on its directory "
                 .. "(%d operations through 1 and 3 meanwhile)",
                 nops - killed_at),
   "kill " .. kill_rc .. ", restart " .. restart_rc)

until_ops(OPS)
stop = true
gate = 0
for _ = 1, 3 * FIBERS do done:get() end
local secs = clock.monotonic() - t0
ok(stats.unknown == 0 and #bad_reads == 0,
   string.format("%d operations through 3 instances in %.1f s: %d reads, %d "
     .. "puts, %d puts with a context (%d from another instance's read), "
     .. "%d deletes, %d refused by max_siblings", nops, secs, stats.reads,
     stats.puts, stats.ctx_puts, stats.foreign_ctx, stats.deletes,
     stats.refused),
   string.format("%d writes with unknown outcome; reads of unknown values: %s",
                 stats.unknown, table.concat(bad_reads, ", ")))

-- ---- convergence ------------------------------------------------------

-- wait until all three hold the same rows, byte for byte
local function converge(timeout)
  local t = clock.monotonic()
  local d
  while clock.monotonic() - t < timeout do
    d = {}
    local okd = pcall(function()
      for i = 1, 3 do d[i] = { call(i, "T_DIGEST", {}) } end
    end)
    if okd and d[1][1] == d[2][1] and d[2][1] == d[3][1] then
      return true, clock.monotonic() - t, d[1][2]
    end
    fiber.sleep(0.05)
  end
  return false, timeout, d
end

local conv, waited, rows = converge(30)
local detail = ""
if not conv and type(rows) == "table" then
  for i = 1, 3 do
    local d = rows[i] or {}
    detail = detail .. string.format("instance %d: %s, %s rows\n", i,
                                     tostring(d[1]), tostring(d[2]))
  end
  rows = "not the same"
end
ok(conv, string.format("converged: every row's state bytes equal on all "
   .. "three, %s rows (%.2f s after the writers stopped)", tostring(rows),
   waited), detail)

-- ---- the model check ----------------------------------------------------

local keys = {}
for k = 1, KEYS do keys[k] = keyname(k) end
local res = model:check(keys, function(key)
  local r = call(1, "T_GET", { "kv", key })
  local vals = {}
  for i, x in ipairs(r ~= nil and r.sibs or {}) do vals[i] = x[1] end
  return vals
end)
ok(#res.lost == 0 and res.unchecked == 0, string.format("no acknowledged "
   .. "write lost (%d acknowledged writes on %d keys; %d keys end with "
   .. "several siblings)", res.acked, KEYS, res.multi),
   table.concat(res.lost, " "))
ok(#res.false_conflicts == 0, "no false conflict: no sibling that an "
   .. "acknowledged write's context had seen",
   table.concat(res.false_conflicts, " "))
ok(#res.resurrected == 0, string.format("no resurrected delete (%d versions "
   .. "removed by deletes)", res.covered), table.concat(res.resurrected, " "))

-- ---- the resolver script ---------------------------------------------

local vals = {}
for i = 1, 3 do
  local r = call(i, "T_GET", { "u", "cart" })
  if r == nil then r = {} end
  local v = r.value
  if type(v) == "table" then
    local copy = {}
    for j, x in ipairs(v) do copy[j] = tostring(x) end
    table.sort(copy)
    vals[i] = table.concat(copy, ",")
  else
    vals[i] = tostring(v) .. " " .. tostring(r.error)
  end
end
ok(vals[1] == "bacon,eggs,milk" and vals[2] == vals[1] and vals[3] == vals[1],
   "the union resolver script gives the same cart on all three: " .. vals[1],
   table.concat(vals, " | "))

-- ---- bad states ---------------------------------------------------------

local function log_has(i, text)
  local f = io.open(DIR .. "/i" .. i .. "/tarantool.log")
  if not f then return false end
  local s = f:read("*a")
  f:close()
  return s:find(text, 1, true) ~= nil
end

-- five keys with a live version each (a deleted one could be reaped
-- meanwhile), the same on all three
local good = {}
for _, k in ipairs { "k1", "k2", "k3", "k4", "k5" } do
  local r = call(1, "T_GET", { "kv", k })
  call(1, "T_PUT", { "kv", k, "good", r ~= nil and r.context or nil })
end
converge(20)
for _, k in ipairs { "k1", "k2", "k3", "k4", "k5" } do
  good[k] = call(1, "T_STATE", { "kv", k })
end
-- a local raw write of junk on 1, and a row delete: refused by its own
-- trigger, the caller gets the error (over net.box here), the state stays
local rawok, rawerr = pcall(C[1].eval, C[1],
                            "box.space.vv:replace{'kv', 'k1', 'junk'}", {}, OPT)
ok(not rawok and tostring(rawerr):find("key {kv, k1}: refused a raw write: "
   .. "state is corrupt or truncated", 1, true) and
   call(1, "T_STATE", { "kv", "k1" }) == good.k1,
   "a local raw write of bad bytes raises for its caller, the state kept",
   tostring(rawerr))
rawok, rawerr = pcall(C[1].eval, C[1], "box.space.vv:delete{'kv', 'k5'}", {},
                      OPT)
ok(not rawok and tostring(rawerr):find("refused a row delete", 1, true) and
   call(1, "T_STATE", { "kv", "k5" }) == good.k5,
   "a raw row delete raises for its caller, the row kept", tostring(rawerr))
-- through replication: instance 3 writes, its trigger off, a corrupt
-- state (one byte changed) under k2 and k4's state under k3
local corrupt = good.k2:sub(1, 20) .. string.char((good.k2:byte(21) + 1) % 256)
                .. good.k2:sub(22)
call(3, "T_RAW", { "kv", "k2", corrupt })
call(3, "T_RAW", { "kv", "k3", good.k4 })
fiber.sleep(1)
local kept = true
for i = 1, 2 do
  kept = kept and call(i, "T_STATE", { "kv", "k2" }) == good.k2
              and call(i, "T_STATE", { "kv", "k3" }) == good.k3
end
-- (an instance logs the refusal when the row reaches it from 3 itself;
-- when the other's refusal, a NOP under the same id, comes first, the
-- row is skipped: either way the good state stays)
local function logged(text)
  return log_has(1, text) or log_has(2, text)
end
ok(kept and logged("key {kv, k2}: refused a state from replication: "
                   .. "state is corrupt or truncated"),
   "a corrupt state arriving by replication is refused on 1 and 2, logged, "
   .. "their good state kept")
ok(kept and logged("key {kv, k3}: refused a state from replication: "
                   .. "it is the state of another key (k4)"),
   "a state of another key arriving by replication is refused, logged")
local links = {}
for i = 1, 3 do
  local n, stopped = call(i, "T_LINKS", {})
  links[i] = n == 2 and #stopped == 0
end
ok(links[1] and links[2] and links[3],
   "replication keeps running on every link after the refusals")
-- repair: new writes through 1 reach 3, which takes them over its junk
for _, k in ipairs { "k2", "k3" } do
  local r = call(1, "T_GET", { "kv", k })
  call(1, "T_PUT", { "kv", k, "repaired", r ~= nil and r.context or nil })
end
local conv2 = converge(20)
local r3 = call(3, "T_GET", { "kv", "k2" })
ok(conv2 and r3 ~= nil and #r3.sibs == 1 and r3.sibs[1][1] == "repaired",
   "new writes repair the bad rows on 3; all three converge again")

-- ---- rows replicated while box.cfg runs -------------------------------

-- 3, cut off, writes b to 40 keys and dies; 1 writes a to the same keys;
-- 3 restarts with a quorum, so box.cfg takes in 1's rows before it
-- returns: the trigger, put on by vvt.prepare while box.cfg recovers,
-- must merge them with 3's own (installed after box.cfg, it would come
-- too late and 3 would keep only a)
set_links(3, {})
set_links(1, { 1, 2 })
set_links(2, { 1, 2 })
for j = 1, 40 do call(3, "T_PUT", { "kv", "e" .. j, "b" .. j }) end
local early_kill = sh(CLUSTER .. " kill 3")
for i = 1, 2 do set_links(i, { 1, 2, 3 }) end
for j = 1, 40 do call(1, "T_PUT", { "kv", "e" .. j, "a" .. j }) end
local early_restart = sh("VVT_QUORUM=2 " .. CLUSTER .. " restart 3")
local conv3 = converge(20)
local both = 0
for j = 1, 40 do
  local r = call(3, "T_GET", { "kv", "e" .. j })
  local seen = {}
  for _, x in ipairs(r ~= nil and r.sibs or {}) do seen[x[1]] = true end
  if seen["a" .. j] and seen["b" .. j] then both = both + 1 end
end
ok(early_kill == 0 and early_restart == 0 and conv3 and both == 40,
   string.format("rows replicated while box.cfg runs are merged: %d of 40 "
                 .. "keys hold both versions on all three", both))

local merges = 0
for i = 1, 3 do
  merges = merges + C[i]:eval("return require('vv.tarantool').stats().merged",
                              {}, OPT)
end
ok(merges > 0, string.format("the triggers merged %d concurrent states",
                             merges))
say("seed %d", SEED)
drive.exit()
