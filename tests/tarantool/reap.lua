-- reap.lua - tombstones reaped when safe, on three instances (run by
-- tests/t_tarantool.sh with tarantool, against the set of
-- lua/tarantool/cluster.sh started with a short VVT_REAP).
--
-- Writer fibers run put/delete cycles over 500 keys through all three
-- instances while their reapers work: each cycle puts a value with the
-- context the writer last had for the key (often stale, often from
-- another instance) and then, mostly, deletes with the context the put
-- returned.  In the second half instance 3 is cut off (both directions):
-- meanwhile no instance may reap anything.  Once together and quiet,
-- every instance must hold rows for exactly the keys the model says are
-- live, the same bytes everywhere, and every key must read what the
-- model of causality (causal.lua) says: no write lost, no deleted value
-- back.
--
-- Environment: VVT_PORT, VVT_DIR, VVT_ROOT, VVT_REAP_CYCLES (default
-- 20000), VVT_SEED.  Prints "ok - ..." / "not ok - ..." lines.
local fiber = require "fiber"
local clock = require "clock"
local json = require "json"

io.stdout:setvbuf("no")
require("log").level(1)
local ROOT = assert(os.getenv("VVT_ROOT"), "VVT_ROOT")
package.path = ROOT .. "/tests/tarantool/?.lua;" .. package.path
local causal = require "causal"
local PORT0 = assert(tonumber(os.getenv("VVT_PORT")), "VVT_PORT")
local CYCLES = tonumber(os.getenv("VVT_REAP_CYCLES")) or 20000
local SEED = tonumber(os.getenv("VVT_SEED")) or os.time()
local KEYS, FIBERS, KS = 500, 4, "rp"
local OPT = { timeout = 20 }
math.randomseed(SEED)

local drive = dofile(ROOT .. "/tests/tarantool/drive.lua")
local ok, wait_for = drive.ok, drive.wait_for
local set = drive.set(PORT0)
local C, call, set_links = set.C, set.call, set.links

local keys = {}
for k = 1, KEYS do keys[k] = "r" .. k end
local model = causal.new()
local last = {}                -- key -> the context a writer last had
local done, stop = 0, false
local stats = { puts = 0, deletes = 0, failed = 0 }

-- Write key k through instance i (a delete when tomb) with the context
-- last had for it, as the model's write; whether it was acknowledged.
local function send(i, k, tomb)
  local w = model:write(k, tomb, last[k])
  local okc, actor, ctx = pcall(call, i, tomb and "T_DEL" or "T_PUT",
                                tomb and { KS, k, last[k] }
                                or { KS, k, w.value, last[k] })
  if not okc then
    model:unknown(w)
    stats.failed = stats.failed + 1
    return false
  end
  model:acked(w, actor, ctx)
  last[k] = ctx
  if tomb then stats.deletes = stats.deletes + 1
  else stats.puts = stats.puts + 1 end
  return true
end

-- One cycle through instance i: a put, then mostly a delete of it (with
-- the context the put returned).
local function cycle(i)
  local k = keys[math.random(KEYS)]
  if send(i, k, false) and math.random() < 0.85 then send(i, k, true) end
end

local gate = 0
local ch = fiber.channel(3 * FIBERS)
local writing = { true, true, true }
for i = 1, 3 do
  for _ = 1, FIBERS do
    fiber.create(function()
      while not stop do
        if done >= gate or not writing[i] then fiber.sleep(0.005)
        else
          done = done + 1
          cycle(i)
        end
      end
      ch:put(true)
    end)
  end
end
local function run_until(n)
  gate = n
  while done < n do fiber.sleep(0.01) end
end

local function reaped()
  local n = {}
  for i = 1, 3 do n[i] = call(i, "T_REAPER").reaped end
  return n
end

local t0 = clock.monotonic()
run_until(CYCLES / 2)
fiber.sleep(0.3)
-- instance 3 alone, both directions; its writers go on there
set_links(3, {})
set_links(1, { 1, 2 })
set_links(2, { 1, 2 })
fiber.sleep(0.5)               -- reaps already decided may finish
local before = reaped()
run_until(CYCLES)
gate = CYCLES
fiber.sleep(2)                 -- many rounds of every reaper
local during = reaped()
local tombs = select(2, call(1, "T_ROWS", { KS }))
ok(during[1] == before[1] and during[2] == before[2] and
   during[3] == before[3] and tombs > 0,
   string.format("while instance 3 is cut off, no instance reaps (%d rows "
     .. "of deleted keys wait on instance 1)", tombs),
   json.encode({ before = before, during = during }))
for i = 1, 3 do set_links(i, { 1, 2, 3 }) end
stop = true
for _ = 1, 3 * FIBERS do ch:get() end
local secs = clock.monotonic() - t0

-- the quiet period: rows of exactly the live keys, the same everywhere
local live = model:live(keys)
local nlive = 0
for _ in pairs(live) do nlive = nlive + 1 end
local function settled()
  local digests = {}
  for i = 1, 3 do
    local have, tomb = call(i, "T_ROWS", { KS })
    if tomb ~= 0 or #have ~= nlive then return false end
    for _, k in ipairs(have) do
      if not live[k] then return false end
    end
    digests[i] = call(i, "T_DIGEST")
  end
  return digests[1] == digests[2] and digests[2] == digests[3]
end
local q0 = clock.monotonic()
local good = false
while clock.monotonic() - q0 < 30 do
  local okc, res = pcall(settled)
  if okc and res then good = true; break end
  fiber.sleep(0.1)
end
local rows = {}
for i = 1, 3 do
  local have, tomb = call(i, "T_ROWS", { KS })
  rows[i] = #have .. " rows, " .. tomb .. " tombstone-only"
end
local after = reaped()
ok(good, string.format("%d put/delete cycles (%d puts, %d deletes) over %d "
   .. "keys through 3 instances in %.1f s; %.1f s after they stopped every "
   .. "instance holds rows for exactly the %d live keys, the same bytes "
   .. "(reaped by instance: %d, %d, %d)", CYCLES, stats.puts, stats.deletes,
   KEYS, secs, clock.monotonic() - q0, nlive, after[1], after[2], after[3]),
   table.concat(rows, "; "))

local res = model:check(keys, function(key)
  local r = call(1, "T_GET", { KS, key })
  local vals = {}
  for i, x in ipairs(r ~= nil and r.sibs or {}) do vals[i] = x[1] end
  return vals
end)
ok(stats.failed == 0 and res.unchecked == 0 and #res.lost == 0 and
   #res.false_conflicts == 0 and #res.resurrected == 0,
   string.format("the model of causality holds after the reaps: no write "
     .. "lost, no false conflict, no deleted value back (%d acknowledged "
     .. "writes, %d versions removed by deletes)", res.acked, res.covered),
   json.encode({ failed = stats.failed, lost = res.lost,
                 false_conflicts = res.false_conflicts,
                 resurrected = res.resurrected }))

-- ---- a row on its way from an instance that has the tombstone -------------
-- Instance 3 writes V2 onto a key holding V while nobody pulls from it
-- (it still pulls from 1 and 2); then 1 deletes what it saw (V).  3 merges
-- the tombstone and acknowledges it, but its row carrying V (written
-- before it had the tombstone) has not reached 1: reaping now would let V
-- come back with that row.  1 must wait for it.
local function state_of(i, key)
  return C[i]:eval("local t = box.space.vv:get{...} return t and t[3]",
                   { "rq", key }, OPT)
end
local function vals(i, key)
  local r = call(i, "T_GET", { "rq", key })
  local out = {}
  for j, x in ipairs(r ~= nil and r.sibs or {}) do out[j] = x[1] end
  table.sort(out)
  return table.concat(out, ",")
end
call(1, "T_PUT", { "rq", "inflight", "V" })
wait_for(10, function()
  return vals(2, "inflight") == "V" and vals(3, "inflight") == "V"
end)
set_links(1, { 1, 2 })
set_links(2, { 1, 2 })
call(3, "T_PUT", { "rq", "inflight", "V2" })        -- carries V too
local r1 = call(1, "T_GET", { "rq", "inflight" })
call(1, "T_DEL", { "rq", "inflight", r1.context })  -- covers V only
local merged3 = wait_for(10, function()
  local live, tombs = C[3]:eval("return require('vv').state_count(...)",
                                { state_of(3, "inflight") }, OPT)
  return live == 1 and tombs == 1
end)
fiber.sleep(1.5)                                    -- several rounds
local waited = state_of(1, "inflight") ~= nil and state_of(2, "inflight") ~= nil
local waiting = call(1, "T_REAPER").waiting
ok(merged3 and waited and waiting >= 1,
   "a tombstone waits while a row written before its writer had it is "
   .. "still on its way (instance 3 acknowledged the delete; its older "
   .. "row has not reached 1): not reaped", json.encode({ merged3 = merged3,
   waited = waited, waiting = waiting }))
set_links(1, { 1, 2, 3 })
set_links(2, { 1, 2, 3 })
local back = wait_for(15, function()
  return vals(1, "inflight") == "V2" and vals(2, "inflight") == "V2" and
         vals(3, "inflight") == "V2" and
         state_of(1, "inflight") == state_of(3, "inflight") and
         state_of(2, "inflight") == state_of(3, "inflight")
end)
ok(back, "once the row arrives, every instance holds V2 alone: V, deleted, "
   .. "does not come back", vals(1, "inflight") .. " | " ..
   vals(2, "inflight") .. " | " .. vals(3, "inflight"))
print("# seed " .. SEED)
drive.exit()
