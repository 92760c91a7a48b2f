-- bench_lua.lua - the Lua module against Lua-only baselines and against
-- the C engine, in the same run.  Run by `make bench` on Lua 5.4 and on
-- LuaJIT (which goes through ffi unless VV_FFI=0):
--   LUA_CPATH=build/?.so lua5.4 bench/bench_lua.lua
--   LUA_CPATH=build/luajit/?.so luajit bench/bench_lua.lua
-- Figures (issue 17), each a ratio against a baseline of the same run:
--   get+put round trips vs a pure-Lua store with the same semantics (dots,
--     one context per key, siblings replaced by what the context saw)
--   db:update vs the pure-Lua store's update, same semantics
--   db:get of one sibling vs vv_get in C over the same keys (vv._bench)
-- With VV_BENCH_SUMMARY set, each figure with a goal also goes to that file
-- as one line: figure, now, goal, met|missed, why (tab-separated).
local vv = require "vv"
local N = tonumber(os.getenv("VV_BENCH_KEYS") or "") or 100000

-- A pure-Lua dotted-version-vector store: key -> { ctx = {actor=n},
-- vers = { {actor=, n=, ts=, value=}, ... } }.
local PureStore = {}
PureStore.__index = PureStore

local function pure_open(actor)
  return setmetatable({ actor = actor, counter = 0, keys = {} }, PureStore)
end

function PureStore:put(key, value, ctx)
  local st = self.keys[key]
  if not st then st = { ctx = {}, vers = {} }; self.keys[key] = st end
  local kept = {}
  for _, v in ipairs(st.vers) do          -- drop what the context saw
    if not (ctx and v.n <= (ctx[v.actor] or 0)) then kept[#kept + 1] = v end
  end
  self.counter = self.counter + 1
  kept[#kept + 1] = { actor = self.actor, n = self.counter,
                      ts = os.time() * 1000, value = value }
  st.vers = kept
  if ctx then
    for a, n in pairs(ctx) do
      if n > (st.ctx[a] or 0) then st.ctx[a] = n end
    end
  end
  st.ctx[self.actor] = self.counter
  local out = {}                          -- the context handed back
  for a, n in pairs(st.ctx) do out[a] = n end
  return out
end

-- Read, call fn(value), write its result with what the read saw: the
-- same read-modify-write as db:update, without building a read result.
function PureStore:update(key, fn)
  local st = self.keys[key]
  local value, ctx = nil, nil
  if st and #st.vers > 0 then
    if #st.vers == 1 then value = st.vers[1].value end
    ctx = {}
    for a, n in pairs(st.ctx) do ctx[a] = n end
  end
  local v = fn(value)
  if v == nil then return nil end
  self:put(key, v, ctx)
  return v
end

function PureStore:get(key)
  local st = self.keys[key]
  if not st or #st.vers == 0 then return nil end
  local sibs, values = {}, {}
  for i, v in ipairs(st.vers) do
    sibs[i] = { value = v.value, node = v.actor, counter = v.n, timestamp = v.ts }
    values[i] = v.value
  end
  table.sort(sibs, function(a, b)
    if a.node ~= b.node then return a.node < b.node end
    return a.counter < b.counter
  end)
  local ctx = {}
  for a, n in pairs(st.ctx) do ctx[a] = n end
  return { siblings = sibs, values = values, context = ctx,
           value = #sibs == 1 and sibs[1].value or nil }
end

local best = dofile((arg and arg[0] and arg[0]:match("^(.*)/") or "bench")
  .. "/lib/best.lua")

local keys = {}
for i = 1, N do keys[i] = string.format("user:%08d", i) end

local db = vv.open { node = "s0" }
local pure = pure_open("s0.bench")
for i = 1, N do db:put("ks", keys[i], i); pure:put(keys[i], i) end

-- 1. round trips: read, then write with the read's context
local t_vv = best(function()
  for i = 1, N do
    local r = db:get("ks", keys[i])
    db:put("ks", keys[i], r.value + 1, r.context)
  end
end)
-- the same through a keyspace handle (when the build has them: the
-- script also runs against older builds, for before/after figures)
local h = db.keyspace_handle and db:keyspace_handle("ks")
local t_handle = h and best(function()
  for i = 1, N do
    local r = h:get(keys[i])
    h:put(keys[i], r.value + 1, r.context)
  end
end)
local t_pure = best(function()
  for i = 1, N do
    local r = pure:get(keys[i])
    pure:put(keys[i], r.value + 1, r.context)
  end
end)

-- 2. db:update vs the pure store's update
local function incr(v) return v + 1 end
local t_upd = best(function()
  for i = 1, N do db:update("ks", keys[i], incr) end
end)
local t_pupd = best(function()
  for i = 1, N do pure:update(keys[i], incr) end
end)

-- 3. a single-sibling get, and the engine alone over the same keys
local t_get = best(function()
  for i = 1, N do local _ = db:get("ks", keys[i]) end
end)
local function cbest(op)
  if not vv._bench then return 0 / 0 end        -- an older build
  local b = math.huge
  for _ = 1, 3 do
    collectgarbage(); collectgarbage()
    local t = vv._bench(db, "ks", keys, op)
    if t < b then b = t end
  end
  return b
end
local t_cget, t_cgetput = cbest("get"), cbest("getput")
-- what building a read's tables alone costs in Lua (no clock, no engine)
local ctx0 = vv.clock()
local t_shape = best(function()
  for i = 1, N do
    local k = keys[i]
    local _ = { siblings = { { value = i, node = "s0", actor = k,
                               counter = 1, timestamp = 2 } },
                values = { i }, context = ctx0, value = i }
  end
end)

local host = jit and jit.version or _VERSION
local ffi = vv._ffi and ", ffi" or (jit and ", C API: VV_FFI=0" or "")
local LJ = jit ~= nil and vv._ffi        -- the LuaJIT figures' path
local L54 = _VERSION == "Lua 5.4" and not jit
local ns = function(t) return t / N * 1e9 end
local summary = os.getenv("VV_BENCH_SUMMARY")
summary = summary and summary ~= "" and summary or nil

print(string.format("== Lua module (bench/bench_lua.lua, %s%s, %d keys, best of 3)",
  host, ffi, N))
print(string.format("%-44s %11s %11s %7s  %s", "", "vv", "baseline", "ratio",
  "goal"))

-- One figure: its line, and its summary line when it has a goal.  higher:
-- the ratio should be at least goal (else at most).
local function figure(name, full, a, b, unit, ratio, goal, higher, why)
  local met = goal and (higher and ratio >= goal or not higher and ratio <= goal)
  local gtext = goal and ((higher and ">= " or "<= ") .. goal .. "x"
                          .. (higher and "" or " C")) or nil
  local verdict = not goal and "(printed)"
    or met and gtext .. ": met" or gtext .. ": missed: " .. why
  print(string.format("%-44s %8.0f %s %8.0f %s %6.1fx  %s", name, a, unit, b,
    unit, ratio, verdict))
  if summary and goal then
    local f = assert(io.open(summary, "a"))
    local now = unit == "ns" and string.format("%.0f ns (%.1fx C)", a, ratio)
      or string.format("%.1fx", ratio)
    f:write(table.concat({ full, now, gtext,
      met and "met" or "missed", met and "" or why }, "\t"), "\n")
    f:close()
  end
end

local engine_rt = string.format("engine alone %.0f of %.0f ns a round trip "
  .. "(vs pure: %.1fx at best)", ns(t_cgetput), ns(t_vv), t_pure / t_cgetput)
local engine_up = string.format("engine alone %.0f of %.0f ns an update "
  .. "(vs pure: %.1fx at best)", ns(t_cgetput), ns(t_upd), t_pupd / t_cgetput)
local shape = string.format("; a read's 4 tables %.0f ns in plain Lua",
  ns(t_shape))

local rt_goal, up_goal, get_goal
if LJ then rt_goal, up_goal, get_goal = 3, 6, 2
elseif L54 then rt_goal, up_goal = 4, 8 end
local prefix = jit and "LuaJIT " or (_VERSION:gsub("^Lua ", "Lua ") .. " ")

figure("get+put round trips vs pure-Lua store",
  prefix .. "get+put vs pure-Lua store",
  N / t_vv, N / t_pure, "/s", t_pure / t_vv, rt_goal, true,
  engine_rt .. (jit and shape or ""))
if t_handle then
  figure("  the same through a keyspace handle",
    prefix .. "get+put through a keyspace handle vs the pure-Lua store",
    N / t_handle, N / t_pure, "/s", t_pure / t_handle, nil, true, "")
end
figure("db:update vs pure-Lua update",
  prefix .. "db:update vs pure-Lua update",
  N / t_upd, N / t_pupd, "/s", t_pupd / t_upd, up_goal, true, engine_up)
figure("db:get (1 sibling) vs C vv_get, same keys",
  prefix .. "db:get of one sibling vs C vv_get",
  ns(t_get), ns(t_cget), "ns", t_get / t_cget, get_goal, false,
  string.format("vv_get %.0f ns, the rest binding and collector%s",
    ns(t_cget), jit and shape or ""))
print(string.format("%-44s %8.0f ns", "  C vv_get + vv_write alone (vv._bench)",
  ns(t_cgetput)))
db:close()
