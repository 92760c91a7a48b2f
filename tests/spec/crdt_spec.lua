-- crdt_spec.lua - vv.crdt and its type scripts (scripts/counter.lua,
-- set.lua, lww_register.lua, mv_register.lua, map.lua): random histories
-- of operations at three replicas, their states merged in random orders
-- and groupings, each replica's value compared after every step with a
-- sequential model of the type; the resolver checker on each script and
-- on a broken variant of each; the copies of the scripts' shared
-- functions.
local vv = require "vv"
local crdt = vv.crdt
local SRC = debug.getinfo(1, "S").source:match("^@(.*)$") or ""
local ROOT = SRC:match("^(.*)/tests/spec/[^/]*$") or "."
local loadtext = loadstring or load
local BAD = dofile(ROOT .. "/tests/bad_resolvers/crdt_patches.lua")
local KS, KEY = "t", "k"
-- The models below loop over pairs as vv.crdt does: on LuaJIT, run them
-- in the interpreter too (docs/crdt.md, LuaJIT issue 829).
if jit then jit.off(true, true) end

-- Park-Miller: the same histories on every host and every run.
local function prng(seed)
  local x = seed % 2147483646 + 1
  return function(n)
    x = (x * 16807) % 2147483647
    return x % n + 1
  end
end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

local function show(v)
  if type(v) ~= "table" then return tostring(v) end
  local keys, parts = {}, {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    parts[#parts + 1] = tostring(k) .. "=" .. show(v[k])
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- A list as a set (value -> true), to compare element lists.
local function asset(list)
  local s = {}
  for _, x in ipairs(list) do s[x] = true end
  return s
end

-- The ops of a model in K (op id -> true) that pass keep(op), in id order.
local function known(ops, K, keep)
  local out = {}
  for id = 1, #ops do
    local o = ops[id]
    if K[id] and (keep == nil or keep(o)) then out[#out + 1] = o end
  end
  return out
end

-- ---- the models -----------------------------------------------------------
-- Each type: op(r, H, db, ctx) makes a random change through the helpers
-- and returns its record (ctx: K, the replica's knowledge, ops, actor,
-- now); model(ops, K) is the value a replica that knows exactly the ops
-- in K must show.  Records get id and seen (a copy of K before the op).

local ITEMS = { "eggs", "milk", "bacon", 1, true }
local VALUES = { "dark", "light", 7, { 1, 2 }, false }

-- Is (t, a) later than (u, b)?  The registers' order.
local function later(t, a, u, b)
  if t ~= u then return t > u end
  return a > b
end

-- Set model: x is in the set when an add of x is known that no known
-- remove of x saw.
local function set_model(adds, removes)
  local out = {}
  for _, a in ipairs(adds) do
    local stays = true
    for _, rm in ipairs(removes) do
      if rm.x == a.x and rm.seen[a.id] then stays = false; break end
    end
    if stays then out[a.x] = true end
  end
  return out
end

-- Multi-value model: the known writes no other known write saw, their
-- values in the order of their writers.
local function mv_model(sets)
  local top = {}
  for _, w in ipairs(sets) do
    local seen = false
    for _, o in ipairs(sets) do
      if o.seen[w.id] then seen = true; break end
    end
    if not seen then top[#top + 1] = w end
  end
  table.sort(top, function(a, b) return a.actor < b.actor end)
  local out = {}
  for i, w in ipairs(top) do out[i] = w.v end
  return out
end

-- The stamp a register write gets: past every stamp of sets, and now.
local function stamp(now, sets)
  local t = now
  for _, w in ipairs(sets) do
    if w.t >= t then t = w.t + 1 end
  end
  return t
end

-- The greatest write of sets by (stamp, writer); nil when none.
local function lww_model(sets)
  local best
  for _, w in ipairs(sets) do
    if best == nil or later(w.t, w.actor, best.t, best.actor) then best = w end
  end
  return best and best.v
end

local MODELS = {}

MODELS.counter = {
  op = function(r, H, db)
    local k = r(7) - 4
    H.add(db, KS, KEY, k)
    return { k = k }
  end,
  model = function(ops, K)
    local sum = 0
    for _, o in ipairs(known(ops, K)) do sum = sum + o.k end
    return sum
  end,
}

MODELS.set = {
  op = function(r, H, db)
    local x = ITEMS[r(#ITEMS)]
    if r(3) == 1 then
      H.remove(db, KS, KEY, x)
      return { rm = true, x = x }
    end
    H.add(db, KS, KEY, x)
    return { add = true, x = x }
  end,
  model = function(ops, K)
    return set_model(known(ops, K, function(o) return o.add end),
      known(ops, K, function(o) return o.rm end))
  end,
  view = asset,
}

MODELS.lww_register = {
  op = function(r, H, db, ctx)
    local v = VALUES[r(#VALUES)]
    local t = stamp(ctx.now, known(ctx.ops, ctx.K))
    local st = H.set(db, KS, KEY, v)
    eq(st.t, t, "the stamp of the write")
    return { v = v, t = t, actor = ctx.actor }
  end,
  model = function(ops, K) return lww_model(known(ops, K)) end,
}

MODELS.mv_register = {
  op = function(r, H, db, ctx)
    local v = VALUES[r(#VALUES)]
    H.set(db, KS, KEY, v)
    return { v = v, actor = ctx.actor }
  end,
  model = function(ops, K) return mv_model(known(ops, K)) end,
}

-- The map: eggs a counter, tags a set, name an lww register, note an mv
-- register; a field's op is live while no known remove of the field saw
-- it.
local FIELDS = { "eggs", "tags", "name", "note" }
local KIND = { eggs = "counter", tags = "set", name = "lww", note = "mv" }

local function live(ops, K, field, kind)
  local drops = known(ops, K, function(o)
    return o.drop and o.field == field
  end)
  return known(ops, K, function(o)
    if o.field ~= field or o.kind ~= kind then return false end
    for _, d in ipairs(drops) do
      if d.seen[o.id] then return false end
    end
    return true
  end)
end

MODELS.map = {
  op = function(r, H, db, ctx)
    local field = FIELDS[r(#FIELDS)]
    local kind = KIND[field]
    if r(6) == 1 then
      H.remove(db, KS, KEY, field)
      return { drop = true, field = field }
    end
    local o = { field = field, kind = kind, actor = ctx.actor }
    if kind == "counter" then
      -- a writer's entry holds its running total since its entry was
      -- last removed (as far as it knew when it added)
      o.k = r(5) - 2
      local mine = live(ctx.ops, ctx.K, field, kind)
      local prev
      for _, p in ipairs(known(ctx.ops, ctx.K, function(p)
        return p.field == field and p.kind == kind and p.actor == ctx.actor
      end)) do prev = p end
      o.total = o.k
      for _, p in ipairs(mine) do
        if p == prev then o.total = p.total + o.k end
      end
      H.update(db, KS, KEY, field, kind, "add", o.k)
    elseif kind == "set" then
      o.x = ITEMS[r(#ITEMS)]
      o.rm = r(3) == 1
      o.add = not o.rm
      H.update(db, KS, KEY, field, kind, o.rm and "remove" or "add", o.x)
    else
      o.v = VALUES[r(#VALUES)]
      local st = H.update(db, KS, KEY, field, kind, "set", o.v)
      if kind == "lww" then
        o.t = stamp(ctx.now, live(ctx.ops, ctx.K, field, kind))
        eq(st.f[field].lww[ctx.actor][2], o.t, "the stamp of the write")
      end
    end
    return o
  end,
  model = function(ops, K)
    local out = {}
    -- each writer's last add, when no known remove saw it: its total
    local last = {}
    for _, o in ipairs(known(ops, K, function(o)
      return o.field == "eggs" and o.kind == "counter"
    end)) do last[o.actor] = o end
    local liveset = {}
    for _, o in ipairs(live(ops, K, "eggs", "counter")) do liveset[o] = true end
    for _, o in pairs(last) do
      if liveset[o] then out.eggs = (out.eggs or 0) + o.total end
    end
    local adds, rms = {}, {}
    for _, o in ipairs(live(ops, K, "tags", "set")) do
      if o.add then adds[#adds + 1] = o else rms[#rms + 1] = o end
    end
    local els = set_model(adds, rms)
    if next(els) then out.tags = els end
    local names = live(ops, K, "name", "lww")
    if #names > 0 then out.name = lww_model(names) end
    local notes = live(ops, K, "note", "mv")
    if #notes > 0 then out.note = mv_model(notes) end
    return out
  end,
  view = function(v)
    if v.tags then v.tags = asset(v.tags) end
    return v
  end,
}

-- ---- the run ---------------------------------------------------------------

-- A random history of `steps` steps of type name at three in-memory
-- replicas through helpers H (keyspace resolver: script, written back at
-- r3, or "siblings"):
-- operations, a replica's state sent to another now, old states
-- delivered late, in any order; then every replica sends its state to
-- every other.  After every step the replicas involved must show the
-- model of what they know; at the end all show the model of every op.
-- Returns counts of what happened; raises on a difference.
local function history(name, H, seed, steps, script)
  local M = MODELS[name]
  local r = prng(seed)
  local dbs, actors, K = {}, {}, {}
  for i = 1, 3 do
    dbs[i] = vv.open { node = "r" .. i }
    -- with a script, r3 writes each resolution back: merged states
    -- travel as versions of their own
    dbs[i]:keyspace(KS, { resolver = script or "siblings",
                          writeback = script ~= nil and i == 3 })
    actors[i] = dbs[i]:actor()
    K[i] = {}
  end
  local ops, pool, finals = {}, {}, {}
  local seen = { siblings = 0, ops = 0, sends = 0, late = 0 }
  local ctx = { now = 1000 }
  local saved_now = crdt.now
  crdt.now = function() return ctx.now end

  local function look(i, step)
    local rd = dbs[i]:get(KS, KEY)
    local got = H.value(rd, KEY)
    if M.view then got = M.view(got) end
    local want = M.model(ops, K[i])
    if not deq(got, want) then
      error(string.format("%s seed %d step %d: r%d shows %s, the model %s",
        name, seed, step, i, show(got), show(want)), 0)
    end
    if rd and #rd.siblings > 1 then
      seen.siblings = seen.siblings + 1
      if script then            -- the sandboxed resolver merges alike
        eq(rd.error, nil, "resolver error")
        eq(vv.encode(rd.value), vv.encode(H.state(rd, KEY)),
          "resolver and helpers")
      end
    end
  end

  local function deliver(j, state, knows)
    dbs[j]:merge(KS, KEY, state)
    for id in pairs(knows) do K[j][id] = true end
  end

  local ok, err = pcall(function()
    for step = 1, steps do
      local i, a = r(3), r(10)
      if a <= 5 then
        if r(3) == 1 then ctx.now = ctx.now + r(5) - 3 end
        ctx.K, ctx.ops, ctx.actor = K[i], ops, actors[i]
        local seen_now = copy(K[i])
        local o = M.op(r, H, dbs[i], ctx)
        o.id, o.seen = #ops + 1, seen_now
        ops[o.id] = o
        K[i][o.id] = true
        seen.ops = seen.ops + 1
        look(i, step)
      else
        local st = dbs[i]:export(KS, KEY)
        if st then pool[#pool + 1] = { st, copy(K[i]) } end
        local j = (i + r(2) - 1) % 3 + 1
        if a <= 8 and st then
          deliver(j, st, K[i])
          seen.sends = seen.sends + 1
        elseif #pool > 0 then
          local p = pool[r(#pool)]
          deliver(j, p[1], p[2])
          seen.late = seen.late + 1
        end
        look(j, step)
      end
    end
    for _ = 1, 2 do
      for i = 1, 3 do
        local st = dbs[i]:export(KS, KEY)
        if st then
          for j = 1, 3 do if j ~= i then deliver(j, st, K[i]) end end
        end
      end
    end
    local all = {}
    for id = 1, #ops do all[id] = true end
    local first
    for i = 1, 3 do
      eq(K[i], all, "every replica knows every op")
      look(i, steps + 1)
      local rd = dbs[i]:get(KS, KEY)
      local st = vv.encode(H.state(rd, KEY))
      first = first or st
      eq(st, first, "r" .. i .. " holds the state r1 holds")
      finals[i] = H.value(rd, KEY)
    end
  end)
  crdt.now = saved_now
  for i = 1, 3 do dbs[i]:close() end
  if not ok then error(err, 0) end
  return seen, ops, finals
end

local SEEDS, STEPS = 25, 150

describe("vv.crdt against a model of each type", function()
  for _, name in ipairs(crdt.types) do
    it(name .. ": random histories at three replicas", function()
      local script = ROOT .. "/scripts/" .. name .. ".lua"
      local total = { siblings = 0, ops = 0, sends = 0, late = 0 }
      for seed = 1, SEEDS do
        local seen = history(name, crdt[name], seed, STEPS, script)
        for k, v in pairs(seen) do total[k] = total[k] + v end
      end
      -- the histories did what they are for
      assert(total.ops > SEEDS * STEPS / 3, show(total))
      assert(total.siblings > SEEDS, "few concurrent versions: " .. show(total))
      assert(total.late > SEEDS, show(total))
    end)
  end

  it("counter: no increment lost or counted twice", function()
    for seed = 1, 4 do
      local _, ops, finals = history("counter", crdt.counter, seed, STEPS)
      local sum = 0
      for _, o in ipairs(ops) do sum = sum + o.k end
      eq(finals, { sum, sum, sum }, "every replica shows the sum of all adds")
    end
  end)

  it("set: a remove sticks exactly when it saw the add", function()
    local wins, sticks = 0, 0
    for seed = 1, SEEDS do
      local _, ops = history("set", crdt.set, seed, STEPS)
      for _, rm in ipairs(ops) do
        if rm.rm then
          for _, a in ipairs(ops) do
            if a.add and a.x == rm.x then
              if rm.seen[a.id] then sticks = sticks + 1
              elseif not a.seen[rm.id] then wins = wins + 1 end
            end
          end
        end
      end
    end
    -- both cases happen in these histories, and the model (checked at
    -- every step) keeps exactly the adds no remove saw
    assert(wins > 10 and sticks > 10, wins .. " " .. sticks)
  end)
end)

describe("broken variants of the type scripts", function()
  for _, p in ipairs(BAD.patches) do
    local t = assert(loadtext(BAD.text(ROOT, p), "=" .. p.script .. "_"
      .. p.name))()
    it(p.script .. " that " .. p.what .. ": the model test fails", function()
      local H = crdt.define(t, p.script)
      local dir = tmpdir()
      os.execute("mkdir -p '" .. dir .. "'")
      local script = BAD.write(ROOT, p, dir)
      local failed
      for seed = 1, SEEDS do
        local ok, err = pcall(history, p.script, H, seed, STEPS, script)
        if not ok then failed = err; break end
      end
      rmdir(dir)
      assert(failed, "no history told the broken merge apart")
      -- a value unlike the model's, replicas apart, or a state the
      -- broken merge made that its own check refuses
      assert(failed:find("the model", 1, true) or
        failed:find("holds the state", 1, true) or
        failed:find("is not a", 1, true), failed)
    end)
  end
end)

-- The family of vv.check_resolver's generated lists that holds each
-- type's states (lua/tools/check_cases.lua).
local FAMILY = { counter = "counters", set = "sets",
  lww_register = "lww registers", mv_register = "mv registers",
  map = "maps" }

describe("the type scripts under vv.check_resolver", function()
  it("each passes, and resolves every state of its own type", function()
    for _, name in ipairs(crdt.types) do
      local ok, rep = vv.check_resolver(ROOT .. "/scripts/" .. name .. ".lua")
      assert(ok, tostring(rep))
      local fam = FAMILY[name]
      local found = false
      for _, f in ipairs(rep.families) do found = found or f == fam end
      assert(found, name .. ": no family " .. fam)
      for _, note in ipairs(rep.notes) do
        assert(not note:find("'" .. fam .. "'", 1, true), name .. ": " .. note)
      end
    end
  end)

  it("flags the broken variant of each", function()
    local dir = tmpdir()
    os.execute("mkdir -p '" .. dir .. "'")
    for _, p in ipairs(BAD.patches) do
      local ok, rep = vv.check_resolver(BAD.write(ROOT, p, dir))
      eq(ok, false, p.script .. "_" .. p.name)
      assert(rep.problems[p.check], p.script .. "_" .. p.name .. ": "
        .. tostring(rep))
    end
    rmdir(dir)
  end)
end)

-- The functions every type script keeps its own copy of (the sandbox has
-- no require): each copy must be the same text.
local SHARED = { "bad", "counts", "join_max", "dot", "join_entry",
  "join_keys", "join_dots", "seen", "bytes_before", "entry", "before",
  "resolve" }

-- name -> text of each `local function name` of a script, with the
-- comment lines above it.
local function functions(path)
  local f = assert(io.open(path, "rb"))
  local src = f:read("*a")
  f:close()
  local lines, out = {}, {}
  for line in (src .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  for i, line in ipairs(lines) do
    local name = line:match("^local function ([%w_]+)%(")
    if name then
      local from, to = i, i
      while from > 1 and lines[from - 1]:match("^%-%-") do from = from - 1 end
      while lines[to] ~= "end" do to = to + 1 end
      out[name] = table.concat(lines, "\n", from, to)
    end
  end
  return out
end

describe("the type scripts' shared functions", function()
  it("are copies of one text", function()
    local texts, where, shared = {}, {}, {}
    for _, fname in ipairs(SHARED) do shared[fname] = true end
    for _, name in ipairs(crdt.types) do
      local path = ROOT .. "/scripts/" .. name .. ".lua"
      for fname, body in pairs(functions(path)) do
        if not shared[fname] then             -- the type's own
        elseif texts[fname] == nil then
          texts[fname], where[fname] = body, { name }
        elseif texts[fname] == body then
          table.insert(where[fname], name)
        else
          error("scripts/" .. name .. ".lua: " .. fname .. " differs from "
            .. "its copy in scripts/" .. where[fname][1] .. ".lua")
        end
      end
    end
    for _, fname in ipairs(SHARED) do
      assert(where[fname] and #where[fname] >= 2, fname .. " is shared")
    end
  end)
end)

-- Two in-memory replicas whose keyspace KS resolves with type name's
-- script.
local function pair(name, opts)
  local a, b = vv.open { node = "a" }, vv.open { node = "b" }
  for _, db in ipairs { a, b } do
    local cfg = { resolver = ROOT .. "/scripts/" .. name .. ".lua" }
    for k, v in pairs(opts or {}) do cfg[k] = v end
    db:keyspace(KS, cfg)
  end
  return a, b
end

-- Send from's state of KEY to to.
local function send(from, to) to:merge(KS, KEY, from:export(KS, KEY)) end

describe("vv.crdt helpers", function()
  it("counter: adds, takes away, reads 0 when absent", function()
    local db = vv.open { node = "a" }
    eq(crdt.counter.get(db, KS, KEY), 0)
    eq(crdt.counter.value(nil), 0)
    local st = crdt.counter.add(db, KS, KEY, 5)
    eq(crdt.counter.value(st), 5)
    crdt.counter.add(db, KS, KEY, -2)
    eq(crdt.counter.get(db, KS, KEY), 3)
    eq(crdt.counter.value(db:get(KS, KEY)), 3)
    eq(db:get(KS, KEY).value, { p = { [db:actor()] = 5 },
      n = { [db:actor()] = 2 } })
    if math.type then eq(math.type(db:get(KS, KEY).value.p[db:actor()]),
      "integer") end
    crdt.counter.add(db, KS, KEY, 2.0)   -- whole floats are stored as ints
    if math.type then eq(math.type(db:get(KS, KEY).value.p[db:actor()]),
      "integer") end
    raises("whole number expected", crdt.counter.add, db, KS, KEY, 1.5)
    raises("whole number expected", crdt.counter.add, db, KS, KEY, "1")
    raises("whole number expected", crdt.counter.add, db, KS, KEY, 0 / 0)
    raises("bad argument #1 to 'counter.add' %(store expected",
      crdt.counter.add, 42, KS, KEY, 1)
    db:close()
  end)

  it("counter: concurrent adds at two replicas are all counted", function()
    local a, b = pair("counter")
    crdt.counter.add(a, KS, KEY, 2)
    send(a, b)
    crdt.counter.add(a, KS, KEY, 3)
    crdt.counter.add(b, KS, KEY, 4)
    send(a, b); send(b, a)
    local r = b:get(KS, KEY)
    eq(#r.siblings, 2)
    eq(crdt.counter.value(r.value), 9)          -- the script's merge
    eq(crdt.counter.value(r), 9)                -- the helpers' merge
    crdt.counter.add(b, KS, KEY, 1)             -- replaces both
    eq(#b:get(KS, KEY).siblings, 1)
    eq(crdt.counter.get(b, KS, KEY), 10)
    a:close(); b:close()
  end)

  it("set: sorted elements, removes that stick, adds that win", function()
    local a, b = pair("set")
    for _, x in ipairs { "milk", true, "eggs", 2, false, "Bacon", 1.5 } do
      crdt.set.add(a, KS, KEY, x)
    end
    eq(crdt.set.get(a, KS, KEY), { 1.5, 2, "Bacon", "eggs", "milk", false,
      true })
    send(a, b)
    crdt.set.remove(b, KS, KEY, "milk")          -- saw a's add: sticks
    crdt.set.remove(b, KS, KEY, "eggs")
    crdt.set.add(a, KS, KEY, "eggs")             -- concurrent: wins
    send(a, b); send(b, a)
    eq(crdt.set.get(a, KS, KEY), { 1.5, 2, "Bacon", "eggs", false, true })
    eq(crdt.set.get(b, KS, KEY), crdt.set.get(a, KS, KEY))
    crdt.set.add(b, KS, KEY, "milk")             -- again, after the remove
    eq(crdt.set.get(b, KS, KEY)[5], "milk")
    -- no tombstone: the state holds the elements and one clock
    local st = crdt.set.state(b:get(KS, KEY))
    local n = 0
    for _ in pairs(st.e) do n = n + 1 end
    eq(n, 7)
    eq(st.c, { [a:actor()] = 8, [b:actor()] = 1 })
    -- removing what is not there writes nothing
    local c = vv.open { node = "c" }
    crdt.set.remove(c, KS, KEY, "tea")
    eq(c:get(KS, KEY), nil)
    raises("elements are strings, numbers or booleans",
      crdt.set.add, c, KS, KEY, { 1 })
    a:close(); b:close(); c:close()
  end)

  it("lww_register: later writes win, even against a clock gone back",
  function()
    local saved = crdt.now
    local now = 5000
    crdt.now = function() return now end
    local ok, err = pcall(function()
      local a, b = pair("lww_register")
      crdt.lww_register.set(a, KS, KEY, "dark")
      send(a, b)
      now = 10                                  -- b's clock is behind
      local st = crdt.lww_register.set(b, KS, KEY, "light")
      eq(st.t, 5001)                             -- after what it read
      send(b, a)
      eq(crdt.lww_register.get(a, KS, KEY), "light")
      now = 9000                                 -- concurrent, same stamp
      crdt.lww_register.set(a, KS, KEY, "red")
      crdt.lww_register.set(b, KS, KEY, "blue")
      send(a, b); send(b, a)
      local want = a:actor() > b:actor() and "red" or "blue"
      eq(crdt.lww_register.get(a, KS, KEY), want)
      eq(a:get(KS, KEY).value.v, want)            -- the script agrees
      eq(crdt.lww_register.get(b, KS, KEY), want)
      a:close(); b:close()
    end)
    crdt.now = saved
    assert(ok, err)
  end)

  it("lww_register: stamps in milliseconds, from the clock writes use",
  function()
    if rawget(_G, "box") then return end    -- Tarantool: its own clock
    local db = vv.open { node = "ms" }
    local before = vv.now()
    db:put(KS, "plain", 1)
    local st = crdt.lww_register.set(db, KS, KEY, "x")
    local ts = db:get(KS, "plain").siblings[1].timestamp
    assert(math.floor(st.t) == st.t, "a whole number of milliseconds")
    assert(before <= ts and ts <= st.t and st.t - before < 60000,
           "stamp " .. st.t .. " against the write's " .. ts)
    -- two writes one after the other, by the same writer, within a
    -- second: the later one wins on its own stamp
    local st2 = crdt.lww_register.set(db, KS, KEY, "y")
    assert(st2.t > st.t)
    eq(crdt.lww_register.get(db, KS, KEY), "y")
    db:close()
  end)

  it("mv_register: keeps concurrent values, the next write replaces them",
  function()
    local a, b = pair("mv_register")
    crdt.mv_register.set(a, KS, KEY, "Draft")
    send(a, b)
    crdt.mv_register.set(a, KS, KEY, { title = "A" })
    crdt.mv_register.set(b, KS, KEY, "B")
    send(a, b)
    local want = a:actor() < b:actor() and { { title = "A" }, "B" }
      or { "B", { title = "A" } }
    eq(crdt.mv_register.get(b, KS, KEY), want)
    crdt.mv_register.set(b, KS, KEY, "AB")
    send(b, a)
    eq(crdt.mv_register.get(a, KS, KEY), { "AB" })
    a:close(); b:close()
  end)

  it("map: fields of each kind, removes, a cart with quantities", function()
    local a, b = pair("map")
    local m = crdt.map
    m.update(a, KS, KEY, "eggs", "counter", "add", 12)
    m.update(a, KS, KEY, "milk", "counter", "add", 1)
    m.update(a, KS, KEY, "tags", "set", "add", "weekly")
    m.update(a, KS, KEY, "note", "lww", "set", "ring twice")
    m.update(a, KS, KEY, "who", "mv", "set", "ann")
    eq(m.get(a, KS, KEY), { eggs = 12, milk = 1, tags = { "weekly" },
      note = "ring twice", who = { "ann" } })
    send(a, b)
    m.remove(b, KS, KEY, "milk")                -- saw a's milk: gone
    m.update(b, KS, KEY, "eggs", "counter", "add", -2)
    m.update(a, KS, KEY, "eggs", "counter", "add", 6)
    m.update(b, KS, KEY, "tags", "set", "remove", "weekly")
    send(a, b); send(b, a)
    eq(m.get(a, KS, KEY), { eggs = 16, note = "ring twice",
      who = { "ann" } })
    eq(m.get(b, KS, KEY), m.get(a, KS, KEY))
    -- b removes eggs while a adds bread and 1 more egg: the add wins,
    -- with a's own running count
    m.remove(b, KS, KEY, "eggs")
    m.update(a, KS, KEY, "eggs", "counter", "add", 1)
    m.update(a, KS, KEY, "bread", "counter", "add", 1)
    send(a, b); send(b, a)
    eq(m.get(b, KS, KEY).eggs, 19)              -- a's 12 + 6 + 1
    eq(m.get(b, KS, KEY).bread, 1)
    -- an lww quantity restarts after a remove
    m.update(a, KS, KEY, "tea", "lww", "set", 3)
    send(a, b)
    m.remove(b, KS, KEY, "tea")
    m.update(a, KS, KEY, "tea", "lww", "set", 2)
    send(a, b); send(b, a)
    eq(m.get(b, KS, KEY).tea, 2)
    eq(m.remove(a, KS, KEY, "nothing"), crdt.map.state(a:get(KS, KEY)))
    raises("unknown change", m.update, a, KS, KEY, "x", "flag", "on")
    raises("field names are strings", m.update, a, KS, KEY, 1, "mv", "set", 1)
    a:close(); b:close()
  end)

  it("refuse a key that holds another value, and change nothing", function()
    local db = vv.open { node = "a" }
    db:put(KS, KEY, { "eggs", "milk" })
    local before = db:export(KS, KEY)
    raises("set.lua: the value of key k is not a set", crdt.set.add, db, KS,
      KEY, "bacon")
    raises("counter.lua: the value of key k is not a counter",
      crdt.counter.add, db, KS, KEY, 1)
    raises("map.lua: the value of key k is not a map", crdt.map.get, db, KS,
      KEY)
    eq(db:export(KS, KEY), before)
    db:keyspace("sets", { resolver = ROOT .. "/scripts/set.lua" })
    db:put("sets", KEY, { c = {}, e = { x = { a = 1 } } })  -- an unseen event
    eq(db:get("sets", KEY).error, nil)                      -- one sibling
    db:put("sets", KEY, { c = { a = 1 }, e = { x = { a = 1 } } })
    local r = db:get("sets", KEY)
    assert(r.error and r.error:find("element x has bad events", 1, true),
      tostring(r.error))
    eq(#r.siblings, 2)
    db:close()
  end)

  it("work on any handle with get, put and actor, and on a durable store",
  function()
    local db = vv.open { node = "a" }
    local h = {                                 -- e.g. vv.tarantool's
      get = function(_, ks, key) return db:get(ks, key) end,
      put = function(_, ks, key, v, ctx) return db:put(ks, key, v, ctx) end,
      actor = function() return db:actor() end,
    }
    crdt.set.add(h, KS, KEY, "eggs")
    crdt.set.add(db, KS, KEY, "milk")
    eq(crdt.set.get(h, KS, KEY), { "eggs", "milk" })
    db:close()
    local dir = tmpdir()
    local d1 = vv.open { node = "a", path = dir }
    crdt.counter.add(d1, KS, KEY, 2)
    local first = d1:actor()
    d1:close()
    local d2 = vv.open { node = "a", path = dir }  -- a new incarnation
    assert(d2:actor() ~= first)
    crdt.counter.add(d2, KS, KEY, 3)
    eq(crdt.counter.get(d2, KS, KEY), 5)
    eq(d2:get(KS, KEY).value.p, { [first] = 2, [d2:actor()] = 3 })
    d2:close()
    rmdir(dir)
  end)

  it("define: a type of one's own gets the same helpers", function()
    local flag = crdt.define({
      check = function(v) assert(type(v) == "boolean"); return v end,
      merge = function(x, y) return x or y end,
      new = function() return false end,
      value = function(v) return v end,
      ops = { raise = function() return true end },
    }, "flag")
    local db = vv.open { node = "a" }
    eq(flag.get(db, KS, KEY), false)
    flag.raise(db, KS, KEY)
    eq(flag.get(db, KS, KEY), true)
    raises("no function 'check'", crdt.define, { ops = {} })
    raises("type table expected", crdt.define, 42)
    db:close()
  end)
end)
