-- soak.lua - vv on three Tarantool instances for a long while, with
-- faults (run by tests/tarantool/soak.sh: make soak-tarantool).
--
-- Writer fibers, four per instance, run a mix through all three: puts
-- with no context, puts with a read's context (often read on another
-- instance), deletes of what was read, and puts of one-item lists to keys
-- resolved by scripts/union.lua; reads in between.  Meanwhile, at random:
-- an instance is cut off from the others (both directions) for a few
-- seconds, or SIGKILLed and restarted on its directory (its writers hold
-- their next call for the instant of the kill, so every write has a known
-- outcome).  At the end: links restored, a quiet period, then the verdict
-- of the model of causality (causal.lua) over every key, that every
-- instance holds the same rows and reads every key the same (value,
-- siblings, the union's resolution), and the memtx and row counts.
--
-- Environment: VVT_PORT, VVT_DIR, VVT_ROOT, CLUSTER, SOAK_SECONDS (default
-- 300), SOAK_RATE (operations a second, default 2000), VVT_SEED.
local fiber = require "fiber"
local clock = require "clock"
local json = require "json"

io.stdout:setvbuf("no")
-- the driver's own log (net.box reconnecting while an instance is down)
require("log").cfg { log = (os.getenv("VVT_DIR") or ".") .. "/soak.log" }
local ROOT = assert(os.getenv("VVT_ROOT"), "VVT_ROOT")
package.path = ROOT .. "/tests/tarantool/?.lua;" .. package.path
local causal = require "causal"
local PORT0 = assert(tonumber(os.getenv("VVT_PORT")), "VVT_PORT")
local DIR = assert(os.getenv("VVT_DIR"), "VVT_DIR")
local CLUSTER = assert(os.getenv("CLUSTER"), "CLUSTER")
local SECONDS = tonumber(os.getenv("SOAK_SECONDS")) or 300
local RATE = tonumber(os.getenv("SOAK_RATE")) or 2000
local SEED = tonumber(os.getenv("VVT_SEED")) or os.time()
local FIBERS = 4
math.randomseed(SEED)

local drive = dofile(ROOT .. "/tests/tarantool/drive.lua")
local ok = drive.ok
local function say(fmt, ...)
  print(string.format("# [%5.0f s] " .. fmt, clock.monotonic() - T0, ...))
end
T0 = clock.monotonic()
local set = drive.set(PORT0)
local C, call, set_links = set.C, set.call, set.links
local OPT = { timeout = 30 }
local function sh(cmd) return drive.sh(cmd, DIR .. "/soak-sh.log") end

-- the keys: kv (plain values) and u (one-item lists, union.lua)
local KV, U = {}, {}
for k = 1, 300 do KV[k] = "s" .. k end
for k = 1, 40 do U[k] = "c" .. k end
local model = causal.new()
local pool = {}                 -- ks/key -> recent read contexts
local stats = { reads = 0, puts = 0, ctx_puts = 0, deletes = 0, lists = 0,
                refused = 0, unknown = 0, bad_reads = 0 }

local function remember(id, text)
  local p = pool[id] or {}
  pool[id] = p
  table.insert(p, 1, text)
  if #p > 3 then p[#p] = nil end
end

-- sibling values of a read as model values ("w<id>")
local function values(ks, r)
  local out = {}
  for i, s in ipairs(r ~= nil and r.sibs or {}) do
    local v = s[1]
    if ks == "u" and type(v) == "table" then v = v[1] end
    out[i] = v
  end
  return out
end

-- one operation through instance i
local function op(i)
  local lists = math.random() < 0.2
  local ks = lists and "u" or "kv"
  local keys = lists and U or KV
  local k = keys[math.random(#keys)]
  local id = ks .. "/" .. k
  local r = math.random()
  if r < 0.3 then
    local res = call(i, "T_GET", { ks, k })
    stats.reads = stats.reads + 1
    for _, v in ipairs(values(ks, res)) do
      if not model:known(v) then stats.bad_reads = stats.bad_reads + 1 end
    end
    if res ~= nil then remember(id, res.context) end
    return
  end
  local tomb = not lists and r >= 0.85
  local p = pool[id]
  local ctx
  if (r < 0.6 or tomb) and p and #p > 0 then ctx = p[math.random(#p)] end
  local w = model:write(id, tomb, ctx)
  local value = lists and { w.value } or w.value
  local good, actor, newctx = pcall(call, i, tomb and "T_DEL" or "T_PUT",
    tomb and { ks, k, ctx } or { ks, k, value, ctx })
  if good then
    model:acked(w, actor, newctx)
    remember(id, newctx)
    if tomb then stats.deletes = stats.deletes + 1
    elseif lists then stats.lists = stats.lists + 1
    elseif ctx then stats.ctx_puts = stats.ctx_puts + 1
    else stats.puts = stats.puts + 1 end
  elseif tostring(actor):find("max_siblings", 1, true) or
         tostring(actor):find("read-only mode", 1, true) then
    -- refused before anything was written: by the sibling limit, or while
    -- the instance is read-only (Tarantool makes it so for a moment while
    -- box.cfg changes its replication links)
    model:refused(w)
    stats.refused = stats.refused + 1
  else
    model:unknown(w)
    stats.unknown = stats.unknown + 1
    say("write through %d: %s", i, tostring(actor))
  end
end

-- ---- writers -------------------------------------------------------------

local stop = false
local paused = { false, false, false }
local inflight = { 0, 0, 0 }
local done = fiber.channel(3 * FIBERS)
local nops = 0
local pause = 3 * FIBERS / RATE        -- seconds between one fiber's calls
for i = 1, 3 do
  for _ = 1, FIBERS do
    fiber.create(function()
      while not stop do
        if paused[i] then fiber.sleep(0.005)
        else
          inflight[i] = inflight[i] + 1
          local good, err = pcall(op, i)
          inflight[i] = inflight[i] - 1
          if not good then say("operation through %d: %s", i, tostring(err)) end
          nops = nops + 1
          fiber.sleep(pause * (0.5 + math.random()))
        end
      end
      done:put(true)
    end)
  end
end

-- ---- faults --------------------------------------------------------------

local faults = { cuts = 0, kills = 0 }
local deadline = T0 + SECONDS
while clock.monotonic() < deadline - 5 do
  fiber.sleep(3 + math.random() * 7)
  if clock.monotonic() >= deadline - 5 then break end
  local i = math.random(3)
  if math.random() < 0.5 then
    local others = {}
    for j = 1, 3 do if j ~= i then others[#others + 1] = j end end
    set_links(i, {})
    for _, j in ipairs(others) do set_links(j, others) end
    local secs = 1 + math.random() * 4
    say("instance %d cut off for %.1f s (%d operations so far)", i, secs, nops)
    fiber.sleep(secs)
    for j = 1, 3 do set_links(j, { 1, 2, 3 }) end
    faults.cuts = faults.cuts + 1
  else
    paused[i] = true
    while inflight[i] > 0 do fiber.sleep(0.001) end
    local krc = sh(CLUSTER .. " kill " .. i)
    fiber.sleep(math.random() * 2)
    local rrc = sh(CLUSTER .. " restart " .. i)
    paused[i] = false
    say("instance %d SIGKILLed and restarted (kill %d, restart %d)", i, krc,
        rrc)
    if krc ~= 0 or rrc ~= 0 then
      ok(false, "instance " .. i .. " restarted after its SIGKILL")
    end
    faults.kills = faults.kills + 1
  end
end
while clock.monotonic() < deadline do fiber.sleep(0.1) end
stop = true
for _ = 1, 3 * FIBERS do done:get() end
for j = 1, 3 do set_links(j, { 1, 2, 3 }) end
local secs = clock.monotonic() - T0
ok(stats.unknown == 0 and stats.bad_reads == 0,
   string.format("%d operations through 3 instances in %.0f s: %d reads, %d "
     .. "puts, %d puts with a context, %d deletes, %d list puts (union.lua), "
     .. "%d refused (sibling limit, read-only instance); %d cuts, %d "
     .. "SIGKILLs and restarts", nops,
     secs, stats.reads, stats.puts, stats.ctx_puts, stats.deletes,
     stats.lists, stats.refused, faults.cuts, faults.kills),
   string.format("%d writes with unknown outcome, %d reads of unknown values",
                 stats.unknown, stats.bad_reads))

-- ---- the verdict -----------------------------------------------------------

local function digests()
  local d = {}
  for i = 1, 3 do d[i] = { call(i, "T_DIGEST") } end
  return d
end
local q0 = clock.monotonic()
local same, d = false, nil
while clock.monotonic() - q0 < 60 do
  local good, res = pcall(digests)
  if good then
    d = res
    if d[1][1] == d[2][1] and d[2][1] == d[3][1] then same = true; break end
  end
  fiber.sleep(0.2)
end
ok(same, string.format("every instance holds the same rows, byte for byte "
   .. "(%s rows; %.1f s after the writers stopped)", d and d[1][2] or "?",
   clock.monotonic() - q0), json.encode(d))

-- the reapers, once the set is quiet: no row holds only tombstones
local function tomb_rows()
  local n = {}
  for i = 1, 3 do
    n[i] = C[i]:eval([[local vv, n = require("vv"), 0
      for _, t in box.space.vv:pairs() do
        local live, tombs = vv.state_count(t[3])
        if live == 0 and tombs and tombs > 0 then n = n + 1 end
      end
      return n]], {}, OPT)
  end
  return n
end
local r0, left = clock.monotonic(), tomb_rows()
local first = left[1]
while left[1] + left[2] + left[3] > 0 and clock.monotonic() - r0 < 60 do
  fiber.sleep(0.5)
  left = tomb_rows()
end
ok(left[1] + left[2] + left[3] == 0,
   string.format("the quiet set reaps every row that holds only tombstones "
     .. "(%d on instance 1 when the writers stopped, none %.1f s later)",
     first, clock.monotonic() - r0),
   json.encode(left))
same = false
for _ = 1, 50 do
  local dd = digests()
  if dd[1][1] == dd[2][1] and dd[2][1] == dd[3][1] then same = true; break end
  fiber.sleep(0.1)
end
ok(same, "after the reaps every instance still holds the same rows")

local all, mismatch = {}, {}
for _, k in ipairs(KV) do all[#all + 1] = { "kv", k } end
for _, k in ipairs(U) do all[#all + 1] = { "u", k } end
local reads = {}
for _, kk in ipairs(all) do
  local texts = {}
  for i = 1, 3 do
    local r = call(i, "T_GET", kk)
    local vals = values(kk[1], r)
    table.sort(vals)
    texts[i] = json.encode({ v = r ~= nil and r.value or nil, s = vals,
                             e = r ~= nil and r.error or nil })
    if i == 1 then reads[kk[1] .. "/" .. kk[2]] = values(kk[1], r) end
  end
  if texts[1] ~= texts[2] or texts[2] ~= texts[3] then
    mismatch[#mismatch + 1] = kk[1] .. "/" .. kk[2]
  end
end
ok(#mismatch == 0, string.format("every instance reads every key the same "
   .. "(%d keys: value, siblings, the union's resolution)", #all),
   table.concat(mismatch, " "))

local ids = {}
for _, kk in ipairs(all) do ids[#ids + 1] = kk[1] .. "/" .. kk[2] end
local res = model:check(ids, function(id) return reads[id] end)
ok(#res.lost == 0 and #res.false_conflicts == 0 and #res.resurrected == 0
   and res.unchecked == 0,
   string.format("the model of causality: no acknowledged write lost, no "
     .. "false conflict, no deleted value back (%d acknowledged writes, %d "
     .. "versions removed by deletes, %d keys with several siblings)",
     res.acked, res.covered, res.multi),
   json.encode({ lost = res.lost, false_conflicts = res.false_conflicts,
                 resurrected = res.resurrected, unchecked = res.unchecked }))

-- memtx, rows, the reaper
for i = 1, 3 do
  local m = C[i]:eval([[
    local s = box.slab.info()
    local rows, tombs = 0, 0
    local vv = require("vv")
    for _, t in box.space.vv:pairs() do
      rows = rows + 1
      local live, n = vv.state_count(t[3])
      if live == 0 and n and n > 0 then tombs = tombs + 1 end
    end
    local st = VVT.status()
    return { arena = s.arena_used, quota = s.quota_size, rows = rows,
             tombs = tombs, bsize = box.space.vv:bsize(),
             reaped = st.reaper.reaped, applied = st.reaper.applied,
             pending = st.reaper.pending, waiting = st.reaper.waiting,
             merged = st.trigger.merged, refused = st.trigger.refused }]],
    {}, OPT)
  say("instance %d: memtx arena_used %.1f MB of %.0f MB (rows %.1f MB); %d "
      .. "rows, %d holding only tombstones; reaper: %d reaped, %d applied "
      .. "from others, %d pending, %d waiting; trigger: %d merges, %d "
      .. "refused", i, m.arena / 2 ^ 20, m.quota / 2 ^ 20,
      tonumber(m.bsize) / 2 ^ 20, m.rows, m.tombs, m.reaped, m.applied,
      m.pending, m.waiting, m.merged, m.refused)
end
say("seed %d", SEED)
drive.exit()
