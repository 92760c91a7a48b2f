-- crdt.lua - vv.crdt: read, change and write keys that hold states of the
-- conflict-free types (docs/crdt.md).  Lua 5.1 to 5.4, LuaJIT, Tarantool.
--
-- The types are the resolver scripts scripts/counter.lua, set.lua,
-- lww_register.lua, mv_register.lua and map.lua themselves: they are
-- compiled into the module with this file (Makefile CRDT_LUA), run here
-- once, and what each returns (resolve, check, merge, new, value, ops)
-- is the type.  So the merge a keyspace's resolver runs in its sandbox
-- and the merge these helpers run on a read are one text.
local vv, T = ...
local type, rawget, pairs, ipairs, error, pcall, setmetatable, select =
  type, rawget, pairs, ipairs, error, pcall, setmetatable, select
local unpack = table.unpack or unpack
local floor = math.floor

local crdt = {}
local NAMES = { "counter", "set", "lww_register", "mv_register", "map" }
crdt.types = NAMES

-- The actor each store handle writes as (asked once per handle).
local actors = setmetatable({}, { __mode = "k" })
local function writer(db)
  local a = actors[db]
  if a == nil then
    a = db:actor()
    actors[db] = a
  end
  return a
end

-- Tarantool's clock module, when this runs inside Tarantool.
local tnt_clock = rawget(_G, "box") ~= nil and package and package.loaded
  and type(package.loaded.clock) == "table" and package.loaded.clock

--- vv.crdt.now() -> milliseconds since the epoch: the stamps of the
-- registers' writes: vv.now(), the clock stores stamp their writes with
-- (Tarantool's own clock inside Tarantool); a program with another clock
-- may replace this function.
local vv_now = vv.now
function crdt.now()
  if tnt_clock then return floor(tnt_clock.time() * 1000) end
  return vv_now()
end
local function clock() return crdt.now() end

-- Is x a read (what db:get returns) rather than a state?
local function is_read(x)
  return type(x) == "table" and rawget(x, "context") ~= nil
end

-- Raise a helper's argument error.
local function argerr(fname, n, what, got)
  error(string.format("bad argument #%d to '%s' (%s expected, got %s)", n,
    fname, what, type(got)), 3)
end

-- LuaJIT (x64) before its fix of April 2022 (LuaJIT issue 829) can
-- compile a trace that calls next() into code that cuts a pointer to 32
-- bits and crashes, now and then; the types' checks and merges are loops
-- over pairs and next.  So on LuaJIT the helpers and every function they
-- reach (through upvalues: the type's check, merge, ops and what those
-- call) run in the interpreter.  A trace that calls one of them stops
-- there.
local jit = rawget(_G, "jit")
local getupvalue = rawget(_G, "debug") and debug.getupvalue
local function interpret(f, done)
  if type(f) ~= "function" or done[f] then return end
  done[f] = true
  if not pcall(jit.off, f) then return end      -- a C function
  for i = 1, 255 do
    local name, v = getupvalue(f, i)
    if name == nil then break end
    interpret(v, done)
  end
end
local function no_traces(H)
  if type(jit) ~= "table" or type(jit.off) ~= "function"
    or getupvalue == nil then
    return
  end
  local done = {}
  for _, f in pairs(H) do interpret(f, done) end
  for _, f in pairs(H.type) do interpret(f, done) end
  for _, f in pairs(H.type.ops) do interpret(f, done) end
end

--- vv.crdt.define(type [, name]) -> the helpers of a type: a table with
-- check, merge, new, value and ops (what a type script returns).  The
-- helpers are state(read), value(read or state), get(db, ks, key) and,
-- for each operation op of the type, op(db, ks, key, ...).
function crdt.define(t, name)
  if type(t) ~= "table" then argerr("define", 1, "type table", t) end
  for _, f in ipairs { "check", "merge", "new", "value" } do
    if type(t[f]) ~= "function" then
      error("vv.crdt.define: the type has no function '" .. f .. "'", 2)
    end
  end
  if type(t.ops) ~= "table" then
    error("vv.crdt.define: the type has no table 'ops'", 2)
  end
  name = name or "type"
  local check, merge, new, value = t.check, t.merge, t.new, t.value
  local H = { type = t }

  -- The state of a key whose value is v and, when it holds several
  -- siblings, whose siblings' values are values: their merge (whatever
  -- the keyspace's resolver made of them), or v; new() for neither.
  local function state_of(v, values, key)
    if values ~= nil then
      local st = check(values[1], key)
      for i = 2, #values do st = merge(st, check(values[i], key)) end
      return st
    end
    if v == nil then return new() end
    return check(v, key)
  end

  -- The state a read shows (new() for no read).  A read's values may
  -- also be there for one sibling (Lua 5.1, LuaJIT): the same state.
  local function state(r, key)
    if r == nil then return new() end
    return state_of(r.value, rawget(r, "values"), key)
  end
  H.state = state

  function H.value(x, key)
    if x == nil then return value(new()) end
    if is_read(x) then return value(state(x, key)) end
    return value(check(x, key))
  end

  function H.get(db, ks, key)
    return value(state(db:get(ks, key), key))
  end

  for opname, op in pairs(t.ops) do
    local fname = name .. "." .. opname
    -- Read the key, merge what the read shows, apply the change as this
    -- store's writer, write back with the read's context (replacing
    -- exactly what the read saw).  A store of vv.open does it all in one
    -- db:update; a store of vv.tarantool (a table) reads and writes, with
    -- no yield between the read and the write (see docs/crdt.md on
    -- Tarantool).
    H[opname] = function(db, ks, key, ...)
      local td = type(db)
      if td == "userdata" then
        local n, a, b = select("#", ...), ...
        local args, st                  -- past two arguments: a table
        if n > 2 then args = { ... } end
        local out = db:update(ks, key, function(v, values)
          st = state_of(v, values, key)
          if n == 1 then return op(st, writer(db), clock, a) end
          if n == 2 then return op(st, writer(db), clock, a, b) end
          if n == 0 then return op(st, writer(db), clock) end
          return op(st, writer(db), clock, unpack(args, 1, n))
        end)
        if out == nil then return st end
        return out
      end
      if td ~= "table" then argerr(fname, 1, "store", db) end
      local r = db:get(ks, key)
      local st = state(r, key)
      local out = op(st, writer(db), clock, ...)
      if out == nil then return st end
      db:put(ks, key, out, r and r.context)
      return out
    end
  end
  no_traces(H)
  return H
end

for _, n in ipairs(NAMES) do crdt[n] = crdt.define(T.need(n), n) end
vv.crdt = crdt
return crdt
