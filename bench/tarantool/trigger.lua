-- trigger.lua - what vv.tarantool's merge trigger costs per row, on one
-- instance (run by bench/bench_tarantool.sh with tarantool; arguments:
-- the build directory, a scratch directory).  With wal_mode = "none" and
-- transactions of 1,000 rows, the figures are the tx thread's work alone:
-- a replace of the same rows into a space without a trigger, into one
-- whose trigger is an empty Lua function (what Tarantool's call of any
-- Lua trigger costs), and into vv's space, where each row's state is the
-- key's first, covers the stored one, or brings a concurrent version (a
-- new merge, stored as a fresh tuple).  The rows are local raw replaces,
-- the path a replicated row takes through the trigger but for the
-- session's type.  Best of 3 rounds of 50,000 rows.
local build, dir = assert(arg[1]), assert(arg[2])
package.cpath = build .. "/luajit/?.so;" .. package.cpath
package.path = build .. "/luajit/?.lua;" .. package.path
local vv = require "vv"
local vvt = require "vv.tarantool"
local clock = require "clock"
io.stdout:setvbuf("no")
box.cfg { work_dir = dir, log = "tarantool.log", wal_mode = "none",
          memtx_memory = 512 * 2 ^ 20, feedback_enabled = false }
vvt.open { node = "t1", reap = false }
local N, ROUNDS = 50000, 3

-- the states of keys prefix..i: a (first), b (covers a), c (concurrent
-- with b)
local w1, w2 = vv.open { node = "w1" }, vv.open { node = "w2" }
local function states(prefix)
  local A, B, C = {}, {}, {}
  for i = 1, N do
    local k = prefix .. i
    local ctx = w1:put("kv", k, { "apple", "banana" })
    A[i] = w1:export("kv", k)
    w1:put("kv", k, { "cherry" }, ctx)
    B[i] = w1:export("kv", k)
    w2:put("kv", k, { "pear" })
    C[i] = w2:export("kv", k)
  end
  return A, B, C
end

local function space(name, trigger)
  local s = box.schema.space.create(name, { format = {
    { "ks", "string" }, { "key", "string" }, { "state", "string" } } })
  s:create_index("pk", { parts = { "ks", "key" } })
  if trigger then s:before_replace(trigger) end
  return s
end

-- ns a row to replace rows[i] into s, in transactions of 1,000
local function pass(s, rows, prefix)
  collectgarbage()
  local t0 = clock.monotonic()
  box.begin()
  for i = 1, N do
    s:replace { "kv", prefix .. i, rows[i] }
    if i % 1000 == 0 then box.commit(); box.begin() end
  end
  box.commit()
  return (clock.monotonic() - t0) * 1e9 / N
end

local best = {}
local function keep(name, ns) best[name] = math.min(best[name] or 1e18, ns) end
local empty = function() end
local B, C
for r = 1, ROUNDS do
  local p = "r" .. r .. "k"
  local A
  A, B, C = states(p)
  local plain, blank = space("plain" .. r), space("empty" .. r, empty)
  local v = box.space.vv
  keep("plain first", pass(plain, A, p))
  keep("empty first", pass(blank, A, p))
  keep("vv first", pass(v, A, p))
  keep("plain covers", pass(plain, B, p))
  keep("empty covers", pass(blank, B, p))
  keep("vv covers", pass(v, B, p))
  keep("plain concurrent", pass(plain, C, p))
  keep("empty concurrent", pass(blank, C, p))
  keep("vv concurrent", pass(v, C, p))
  plain:drop()
  blank:drop()
end

print(string.format("the merge trigger per row (one instance, no WAL, "
  .. "transactions of 1,000, best of %d x %d rows):", ROUNDS, N))
print(string.format("%-40s %9s %9s %9s %9s", "", "no trigger",
                    "empty", "vv", "vv extra"))
for _, case in ipairs {
  { "first", "a key's first state (checked)" },
  { "covers", "a state covering the stored one" },
  { "concurrent", "a concurrent version (merge, new tuple)" },
} do
  local p, e, x = best["plain " .. case[1]], best["empty " .. case[1]],
                  best["vv " .. case[1]]
  print(string.format("%-40s %6.0f ns %6.0f ns %6.0f ns %6.0f ns", case[2], p,
                      e, x, x - p))
end
local m0 = clock.monotonic()
for i = 1, N do vv.merge_states(B[i], C[i]) end
print(string.format("(vv.merge_states of such two states alone: %.0f ns; "
  .. "an empty Lua trigger is Tarantool's cost of calling one)",
  (clock.monotonic() - m0) * 1e9 / N))
os.exit(0)
