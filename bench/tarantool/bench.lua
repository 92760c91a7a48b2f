-- bench.lua - the Tarantool integration's benchmark (run by
-- bench/bench_tarantool.sh with tarantool, against three instances of
-- lua/tarantool/cluster.sh):
--   1. writes/s through instance 1: vv's db:put (read the row, write onto
--      the state, replace the row, the trigger letting it pass) against a
--      plain box.space:replace of the very same rows into a space without
--      a trigger, in autocommit by 20 fibers (the WAL's group commit sets
--      the pace) and in transactions of 100 (the CPU does);
--   2. how long after a write returns on instance 1 the other two hold
--      its state, merged with theirs (each key already holds a version
--      from instance 3, so the trigger merges): median and p90;
--   3. rows/s at which instance 2 applies rows replicated from instance 1
--      with the merge trigger, against the same rows into a space without
--      a trigger: instance 2 is cut off while 1 writes, then catches up
--      (timed on 2): rows whose state covers 2's (the usual case: the
--      writer had read the key), and rows each bringing a version
--      concurrent with 2's own (the trigger stores a new merge).
-- Each figure is measured in ROUNDS rounds (default 5), the vv run and
-- its baseline back to back in each; the ratio shown is the median of
-- the rounds' ratios (the machine's load varies between rounds more than
-- within one), the rates the best of the rounds.
local netbox = require "net.box"
local fiber = require "fiber"
local clock = require "clock"

io.stdout:setvbuf("no")
require("log").level(1)
local PORT0 = assert(tonumber(os.getenv("VVT_PORT")), "VVT_PORT")
local N = tonumber(os.getenv("VV_BENCH_TNT_WRITES")) or 20000
local ROUNDS = tonumber(os.getenv("VV_BENCH_TNT_ROUNDS")) or 5
local SAMPLES = tonumber(os.getenv("VV_BENCH_TNT_SAMPLES")) or 300

local c = {}
for i = 1, 3 do
  c[i] = netbox.connect("vv:vv@127.0.0.1:" .. (PORT0 + i - 1),
                        { wait_connected = 30 })
end
local OPT = { timeout = 120 }

-- runs on instance 1: one round of both, on fresh keys, by nf fibers
-- each writing alone (autocommit) or in transactions of batch writes;
-- returns the two rates and the mean row size
local ROUND = [[
local n, nf, batch, prefix = ...
local clock, fiber = require("clock"), require("fiber")
if box.space.plain == nil then
  local s = box.schema.space.create("plain", { format = {
    { "ks", "string" }, { "key", "string" }, { "state", "string" } } })
  s:create_index("pk", { parts = { "ks", "key" } })
end
local value = { "apple", "banana", "cherry" }
local function timed(work)
  local ch = fiber.channel(nf)
  local t0 = clock.monotonic()
  for f = 1, nf do
    fiber.create(function()
      local j = f
      while j <= n do
        if batch > 1 then box.begin() end
        for _ = 1, batch do
          if j > n then break end
          work(j)
          j = j + nf
        end
        if batch > 1 then box.commit() end
      end
      ch:put(true)
    end)
  end
  for _ = 1, nf do ch:get() end
  return n / (clock.monotonic() - t0)
end
local vvrate = timed(function(j) DB:put("bench", prefix .. j, value) end)
local states, bytes = {}, 0
for j = 1, n do
  states[j] = DB:export("bench", prefix .. j)
  bytes = bytes + #states[j] + #prefix + 8
end
local plain = box.space.plain
local plainrate = timed(function(j)
  plain:replace { "bench", prefix .. j, states[j] }
end)
return vvrate, plainrate, bytes / n
]]

-- the median of a list of numbers
local function median(t)
  table.sort(t)
  local n = #t
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end

-- One figure for make bench's summary table (bench/run.sh): appended to
-- the file VV_BENCH_SUMMARY names, tab-separated.
local function summary(figure, ratio, goal, why)
  local path = os.getenv("VV_BENCH_SUMMARY")
  if path == nil or path == "" then return end
  local f = io.open(path, "a")
  if f == nil then return end
  local met = ratio >= goal
  f:write(figure, "\t", string.format("%.2fx", ratio), "\t",
          string.format(">= %gx", goal), "\t", met and "met" or "missed",
          "\t", met and "" or why, "\n")
  f:close()
end

print(string.format("writes through one instance, %d a round, %d rounds "
  .. "(best rates, median ratio), fresh keys:", N, ROUNDS))
print(string.format("%-36s %14s %14s %7s %6s", "", "vv db:put",
                    "plain replace", "ratio", "goal"))
local modes = {
  { "autocommit, 20 fibers", 20, 1, 0.8,
    "Tarantool db:put vs replace, autocommit, 20 fibers" },
  { "transactions of 100, 1 fiber", 1, 100, 0.7,
    "Tarantool db:put vs replace, transactions of 100" },
}
local size = 0
for m, mode in ipairs(modes) do
  local best_vv, best_plain, ratios = 0, 0, {}
  for r = 1, ROUNDS do
    local a, b, sz = c[1]:eval(ROUND, { N, mode[2], mode[3],
                                        "m" .. m .. "r" .. r .. "k" }, OPT)
    if a > best_vv then best_vv = a end
    if b > best_plain then best_plain = b end
    ratios[r] = a / b
    size = sz
  end
  local ratio = median(ratios)
  print(string.format("%-36s %9.0f w/s %9.0f w/s %6.2fx %5s%s", mode[1],
                      best_vv, best_plain, ratio, ">=" .. mode[4] .. "x",
                      ratio >= mode[4] and "" or "  (missed)"))
  summary(mode[5], ratio, mode[4], string.format("a write costs %.2f us "
    .. "against %.2f us for a plain replace: db:put_state and Tarantool's "
    .. "call of the Lua trigger (per row: bench/tarantool/trigger.lua)",
    1e6 / best_vv, 1e6 / best_plain))
end
print(string.format("(vv: read the row, db:put_state, replace, the trigger "
  .. "passing it; plain: the same ~%d-byte rows, no trigger)",
  math.floor(size)))

-- every sample key holds a version written on instance 3, everywhere
local STATE = "local k = ... local t = box.space.vv:get { 'lat', k } "
              .. "return t and t[3]"
c[3]:eval([[local n = ...
  for i = 1, n do DB:put("lat", "k" .. i, "from t3") end]], { SAMPLES }, OPT)
local last = "k" .. SAMPLES
local t0 = clock.monotonic()
while not (c[1]:eval(STATE, { last }) and c[2]:eval(STATE, { last })) do
  if clock.monotonic() - t0 > 30 then error("the keys did not arrive") end
  fiber.sleep(0.01)
end

local lat = { {}, {} }
for i = 1, SAMPLES do
  local key = "k" .. i
  local want = c[1]:eval("local k = ... DB:put('lat', k, 'from t1') "
                         .. "return box.space.vv:get { 'lat', k }[3]", { key })
  local tw = clock.monotonic()
  local ch = fiber.channel(2)
  for j = 2, 3 do
    fiber.create(function()
      while c[j]:eval(STATE, { key }) ~= want do
        if clock.monotonic() - tw > 10 then break end
      end
      lat[j - 1][#lat[j - 1] + 1] = (clock.monotonic() - tw) * 1000
      ch:put(true)
    end)
  end
  ch:get()
  ch:get()
end
local function pct(t, p)
  table.sort(t)
  return t[math.max(1, math.ceil(#t * p))]
end
print(string.format("a write on instance 1 visible, merged, on the other "
  .. "two (%d writes,", SAMPLES))
print("  each onto a key holding another instance's version; polled over "
      .. "net.box):")
for j = 1, 2 do
  print(string.format("  instance %d: median %.2f ms, p90 %.2f ms", j + 1,
                      pct(lat[j], 0.5), pct(lat[j], 0.9)))
end

-- ---- 3. replicated rows applied ------------------------------------------

local RN = tonumber(os.getenv("VV_BENCH_TNT_ROWS")) or 20000
local id1 = c[1]:eval("return box.info.id")
local uri = {}
for i = 1, 3 do uri[i] = "vv:vv@127.0.0.1:" .. (PORT0 + i - 1) end
local function links(i, list)
  local l = {}
  for _, j in ipairs(list) do l[#l + 1] = uri[j] end
  c[i]:eval("box.cfg{replication = ...}", { l }, OPT)
end
-- 2 pulls nothing and nobody pulls from 2
local function cut()
  links(2, {})
  links(1, { 1, 3 })
  links(3, { 1, 3 })
end
-- 2 pulls from 1 alone until it has 1's rows: the seconds it took
local CATCH_UP = [[
local u, target, id = ...
local clock, fiber = require("clock"), require("fiber")
local t0 = clock.monotonic()
box.cfg { replication = { u } }
while (box.info.vclock[id] or 0) < target do fiber.sleep(0.0005) end
return clock.monotonic() - t0
]]
local function catch_up()
  local target = c[1]:eval("return box.info.vclock[box.info.id]")
  return c[2]:eval(CATCH_UP, { uri[1], target, id1 }, OPT)
end
c[1]:eval([[
if box.space.plainr == nil then
  local s = box.schema.space.create("plainr", { format = {
    { "ks", "string" }, { "key", "string" }, { "state", "string" } } })
  s:create_index("pk", { parts = { "ks", "key" } })
end]], {}, OPT)
-- 1 writes n keys (with the context of what it holds when ctx), in
-- transactions of 100, and keeps their states for the plain round
local WRITE = [[
local prefix, n, ctx = ...
local value = { "apple", "banana", "cherry" }
_G.bench_states = {}
box.begin()
for j = 1, n do
  local k = prefix .. j
  local c = nil
  if ctx then local r = DB:get("rep", k); c = r and r.context end
  DB:put("rep", k, value, c)
  _G.bench_states[j] = DB:export("rep", k)
  if j % 100 == 0 then box.commit(); box.begin() end
end
box.commit()
]]
local PLAIN = [[
local prefix, n = ...
box.begin()
for j = 1, n do
  box.space.plainr:replace { "rep", prefix .. j, _G.bench_states[j] }
  if j % 100 == 0 then box.commit(); box.begin() end
end
box.commit()
]]
local rates = { cover = 0, concurrent = 0, plain = 0 }
local ratios = { cover = {}, concurrent = {} }
for r = 1, ROUNDS do
  local a, b = "a" .. r .. "k", "b" .. r .. "k"
  -- keys 2 holds: a* from 1 (1 then writes over them with a context),
  -- b* written on 2 alone (1 then writes concurrent versions)
  c[1]:eval(WRITE, { a, RN, false }, OPT)
  catch_up()
  cut()
  c[2]:eval([[local p, n = ...
    box.begin()
    for j = 1, n do DB:put("rep", p .. j, "from t2")
      if j % 100 == 0 then box.commit(); box.begin() end end
    box.commit()]], { b, RN }, OPT)
  c[1]:eval(WRITE, { a, RN, true }, OPT)
  local cover = RN / catch_up()
  cut()
  c[1]:eval(WRITE, { b, RN, false }, OPT)
  local conc = RN / catch_up()
  cut()
  c[1]:eval(PLAIN, { b, RN }, OPT)
  local plain = RN / catch_up()
  cut()
  rates.cover = math.max(rates.cover, cover)
  rates.concurrent = math.max(rates.concurrent, conc)
  rates.plain = math.max(rates.plain, plain)
  ratios.cover[r] = cover / plain
  ratios.concurrent[r] = conc / plain
end
for i = 1, 3 do links(i, { 1, 2, 3 }) end
print(string.format("rows replicated from instance 1, applied by instance 2 "
  .. "(%d a round, %d rounds):", RN, ROUNDS))
print(string.format("%-36s %14s %14s %7s %6s", "", "vv trigger",
                    "no trigger", "ratio", "goal"))
local function line(what, x, rs)
  local ratio = median(rs)
  print(string.format("%-36s %9.0f r/s %9.0f r/s %6.2fx %6s%s", what, x,
                      rates.plain, ratio, ">=0.7x",
                      ratio >= 0.7 and "" or "  (missed)"))
end
line("each row covers the state there", rates.cover, ratios.cover)
summary("Tarantool replicated rows applied, trigger vs none",
        median(ratios.concurrent), 0.7, string.format("the merge of "
        .. "concurrent states and a fresh tuple per row: %.0f against %.0f "
        .. "rows/s", rates.concurrent, rates.plain))
line("each row brings a concurrent version", rates.concurrent,
     ratios.concurrent)
os.exit(0)
