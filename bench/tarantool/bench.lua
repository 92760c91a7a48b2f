-- bench.lua - the Tarantool integration's benchmark (run by
-- bench/bench_tarantool.sh with tarantool, against three instances of
-- lua/tarantool/cluster.sh):
--   1. writes/s through instance 1: vv's db:put (read the row, write onto
--      the state, replace the row, the trigger letting it pass) against a
--      plain box.space:replace of the very same rows into a space without
--      a trigger, best of 3 rounds, in autocommit by 20 fibers (the WAL's
--      group commit sets the pace) and in transactions of 100 (the CPU
--      does);
--   2. how long after a write returns on instance 1 the other two hold
--      its state, merged with theirs (each key already holds a version
--      from instance 3, so the trigger merges): median and p90.
local netbox = require "net.box"
local fiber = require "fiber"
local clock = require "clock"

io.stdout:setvbuf("no")
require("log").level(1)
local PORT0 = assert(tonumber(os.getenv("VVT_PORT")), "VVT_PORT")
local N = tonumber(os.getenv("VV_BENCH_TNT_WRITES")) or 20000
local ROUNDS = 3
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

print(string.format("writes through one instance, %d a round, best of %d "
  .. "rounds, fresh keys:", N, ROUNDS))
print(string.format("%-36s %14s %14s %7s", "", "vv db:put", "plain replace",
                    "ratio"))
local modes = {
  { "autocommit, 20 fibers", 20, 1 },
  { "transactions of 100, 1 fiber", 1, 100 },
}
local size = 0
for m, mode in ipairs(modes) do
  local best_vv, best_plain = 0, 0
  for r = 1, ROUNDS do
    local a, b, s = c[1]:eval(ROUND, { N, mode[2], mode[3],
                                       "m" .. m .. "r" .. r .. "k" }, OPT)
    if a > best_vv then best_vv = a end
    if b > best_plain then best_plain = b end
    size = s
  end
  print(string.format("%-36s %9.0f w/s %9.0f w/s %6.2fx", mode[1], best_vv,
                      best_plain, best_vv / best_plain))
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
os.exit(0)
