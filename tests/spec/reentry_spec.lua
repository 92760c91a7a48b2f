-- reentry_spec.lua - Lua code that runs in the middle of a call of the
-- store (a finalizer run by the collector while the call allocates, a
-- host function resolver, update's function, a batch's function) may use
-- the same store: read, write, close it.  The call in progress must give
-- exactly what it would have given alone (or, when its store was closed
-- under it, a clear error), every nested call its own right result, and
-- nothing may crash.  Finalizers: tables with __gc on Lua 5.2+, newproxy
-- userdata on Lua 5.1 and LuaJIT (and ffi.gc cdata there too).
local vv = require "vv"
local HAS_FFI, ffi = pcall(require, "ffi")
HAS_FFI = HAS_FFI and rawget(_G, "jit") ~= nil

-- An object whose finalizer is fn.
local function gcobj(fn)
  if newproxy then
    local p = newproxy(true)
    getmetatable(p).__gc = fn
    return p
  end
  return setmetatable({}, { __gc = fn })
end

-- A storm of finalizers: while st.armed, finalizers the collector runs
-- call action(st, n) (n counts them) under pcall, its errors kept in
-- st.errors; every finalizer leaves another one behind, and the collector
-- runs all the time, so that finalizers run inside whatever allocates.
-- With ffi, half of them are ffi.gc finalizers of cdata.  Hosts run very
-- different numbers of finalizers per allocation (Lua 5.3 runs dozens
-- where 5.4 runs one), so only every st.stride-th finalizer acts, and at
-- most st.budget of them per round of the test (under() sets both).
local function storm(action)
  local st = { armed = false, hits = 0, errors = {}, live = true,
               seen = 0, stride = 1, budget = 0 }
  local fin
  local function one()
    if HAS_FFI and st.seen % 2 == 1 then
      ffi.gc(ffi.new("char[1]"), fin)
    else
      gcobj(fin)
    end
  end
  fin = function()
    if not st.live then return end
    one()
    st.seen = st.seen + 1
    if st.armed and st.budget > 0 and st.seen % st.stride == 0 then
      st.budget = st.budget - 1
      st.hits = st.hits + 1
      local ok, e = pcall(action, st, st.hits)
      if not ok then st.errors[#st.errors + 1] = tostring(e) end
    end
  end
  for _ = 1, 40 do one() end
  -- Lua 5.3 runs finalizers at nearly every allocation anyway; a
  -- collector that runs all the time there only makes the test slow.
  local busy53 = _VERSION == "Lua 5.3"
  st.pause = collectgarbage("setpause", busy53 and 100 or 10)
  st.stepmul = collectgarbage("setstepmul", busy53 and 200 or 400)
  return st
end

-- Before a round of the test: BUDGET actions at most, spread over it (the
-- stride grows while rounds use up their budget).
local BUDGET = 6
local function next_round(st)
  if st.budget == 0 then
    st.stride = st.stride * 2
  elseif st.budget > BUDGET / 2 and st.stride > 1 then
    st.stride = math.floor(st.stride / 2)
  end
  st.budget = BUDGET
end

-- End a storm: no more finalizers, the collector as it was.
local function calm(st)
  st.armed = false
  st.live = false
  collectgarbage("setpause", st.pause)
  collectgarbage("setstepmul", st.stepmul)
  collectgarbage()
  collectgarbage()
end

-- Run body(i) for i = 1..n with the storm armed; on LuaJIT a second time
-- with the compiler off (finalizers then run at every allocation of the
-- ffi path, not only where a trace exits).  The finalizers must have run
-- inside, and raised nothing unless allowed.
local function under(st, n, body, allow)
  local function run()
    st.armed = true
    for i = 1, n do
      next_round(st)
      body(i)
    end
    st.armed = false
  end
  run()
  if rawget(_G, "jit") then
    jit.off()
    local ok, e = pcall(run)
    jit.on()
    st.armed = false
    if not ok then error(e, 0) end
  end
  assert(st.hits > 0, "no finalizer ran inside the calls")
  for _, e in ipairs(st.errors) do
    if not (allow and e:find(allow)) then
      error("a finalizer's call failed: " .. e, 0)
    end
  end
end

-- A table big enough that decoding it allocates a lot.
local function bigtable(tag)
  local t = {}
  for i = 1, 60 do
    t[i] = { name = tag .. i, n = i, tags = { "a" .. i, ("b"):rep(i) } }
  end
  return t
end

-- What the finalizers do to the store db under test: reads, writes,
-- updates, deletes, exports and merges of their own keys (f:*), through
-- the store and through a keyspace handle, and reads of the keys under
-- test (which they never change).  Returns the action.
local function busy(db, h, other)
  local blob = ("z"):rep(3000)
  local function ctx(store, k)              -- replace what is there
    local r = store:get("ks", k)
    return r and r.context
  end
  return function(st, n)
    local k = "f:" .. (n % 7)
    local m = n % 9
    if m == 0 then
      db:put("ks", k, { n = n, blob = blob }, ctx(db, k))
    elseif m == 1 then
      local r = db:get("ks", "t")
      assert(r.value[60].name == "t60", "a finalizer's read is wrong")
    elseif m == 2 then
      db:update("ks", "f:count", function(v) return (v or 0) + 1 end)
      st.updates = (st.updates or 0) + 1
    elseif m == 3 then
      h:put(k, n, ctx(db, k))
      local r = h:get(k)
      assert(r.value == n, "a finalizer's handle read is wrong")
    elseif m == 4 then
      local r = db:get("ks", "many")
      assert(#r.siblings == 3, "a finalizer's read of siblings is wrong")
    elseif m == 5 then
      db:delete("ks", k, ctx(db, k))
      db:merge("ks", "s", db:export("ks", "s"))  -- the same: no change
    elseif m == 6 then
      local st2 = db:export("ks", "long")
      local r = db:get_state("ks", st2)
      assert(#r.value == 5000, "a finalizer's state read is wrong")
      db:put_state("ks", "f:st", nil, { n })
    elseif m == 7 then
      other:put("ks", k, blob .. n, ctx(other, k))   -- another store
      assert(other:get("ks", k).value == blob .. n)
    else
      db:put("ks", k, blob .. n, ctx(db, k))
      assert(db:get("ks", k).value == blob .. n)
    end
  end
end

-- A store with the keys under test; other stores feed it siblings.
local function setup()
  local db = vv.open { node = "s0" }
  local a, b = vv.open { node = "s1" }, vv.open { node = "s2" }
  db:put("ks", "n", 42)
  db:put("ks", "s", "hello")
  db:put("ks", "long", ("x"):rep(5000))
  db:put("ks", "t", bigtable("t"))
  db:put("ks", "many", "zero")
  a:put("ks", "many", bigtable("a"))
  b:put("ks", "many", "two")
  db:merge("ks", "many", a:export("ks", "many"))
  db:merge("ks", "many", b:export("ks", "many"))
  a:close()
  b:close()
  local want = {}
  for _, k in ipairs { "n", "s", "long", "t", "many" } do
    local r = db:get("ks", k)
    want[k] = { values = r.values, context = tostring(r.context),
                n = #r.siblings, sib = r.siblings }
  end
  return db, want
end

-- Is r exactly the read want describes?
local function check(r, want, what)
  assert(r, what .. ": no read")
  eq(#r.siblings, want.n, what .. ": siblings")
  eq(tostring(r.context), want.context, what .. ": context")
  for i = 1, want.n do
    assert(deq(r.values[i], want.values[i]), what .. ": value " .. i)
    assert(deq(r.siblings[i].value, want.values[i]), what .. ": sibling " .. i)
    eq(r.siblings[i].actor, want.sib[i].actor, what .. ": actor " .. i)
    eq(r.siblings[i].counter, want.sib[i].counter, what .. ": counter " .. i)
  end
  if want.n == 1 then
    assert(deq(r.value, want.values[1]), what .. ": value")
  else
    eq(r.value, nil, what .. ": value of siblings")
  end
end

describe("finalizers that use the store during a call", function()
  it("leave every read exactly right, of every shape", function()
    local db, want = setup()
    local other = vv.open { node = "o" }
    local h = db:keyspace_handle("ks")
    local st = storm(busy(db, h, other))
    local keys = { "n", "s", "long", "t", "many" }
    under(st, 120, function(i)
      local k = keys[i % #keys + 1]
      check(db:get("ks", k), want[k], "get " .. k)
      check(h:get(k), want[k], "handle get " .. k)
      check(db:get_state("ks", db:export("ks", k)), want[k], "get_state " .. k)
    end)
    calm(st)
    eq(db:get("ks", "f:count").value, st.updates)
    db:close()
    other:close()
  end)

  it("leave updates, puts and deletes exactly right", function()
    local db = setup()
    local other = vv.open { node = "o" }
    local h = db:keyspace_handle("ks")
    local st = storm(busy(db, h, other))
    db:put("ks", "c", 0)
    db:put("ks", "cart", {})
    local n = 0
    under(st, 150, function(i)
      n = n + 1
      eq(db:update("ks", "c", function(v) return v + 1 end), n)
      eq(h:update("cart", function(t) t[#t + 1] = "i" .. n; return t end)[n],
         "i" .. n)
      local v = bigtable("p" .. i)
      local c = db:put("ks", "p", v, db:get("ks", "p") and
                       db:get("ks", "p").context or nil)
      local r = db:get("ks", "p")
      assert(deq(r.value, v), "put's value")
      eq(tostring(r.context), tostring(c), "put's context")
      local d = h:delete("p", r.context)
      eq(db:get("ks", "p"), nil)
      assert(vv.compare(d, c) == "after")
      local s, sc = db:put_state("ks", "q", nil, v)
      local back = db:get_state("ks", s)
      assert(deq(back.value, v), "put_state's value")
      eq(tostring(back.context), tostring(sc))
    end)
    calm(st)
    local r = db:get("ks", "c")
    eq(#r.siblings, 1)
    eq(r.value, n)
    r = db:get("ks", "cart")
    eq(#r.siblings, 1)
    eq(#r.value, n)
    for i = 1, n do eq(r.value[i], "i" .. i) end
    eq(db:get("ks", "f:count").value, st.updates)
    db:close()
    other:close()
  end)

  it("may close the store: the call gives its result or says so", function()
    local ran = 0
    for round = 1, 40 do
      local db, want = setup()
      local h = db:keyspace_handle("ks")
      local st = storm(function(st)
        if st.hits > round % 5 then db:close() end
        db:get("ks", "t")
      end)
      st.armed = true
      local keys = { "t", "many", "long" }
      for i = 1, 30 do
        next_round(st)
        local k = keys[i % 3 + 1]
        local calls = {
          function() check(db:get("ks", k), want[k], "get") end,
          function() check(h:get(k), want[k], "handle get") end,
          function() db:update("ks", "c", function(v) return (v or 0) + 1 end) end,
          function() db:put("ks", "p", bigtable("p"), nil) end,
          function() db:put_state("ks", "p", nil, bigtable("p")) end,
          function() db:get_state("ks", db:export("ks", k)) end,
          function() db:keyspace("ks") end,
          function() return tostring(db), db:node(), db:actor() end,
          function() db:stats() end,
          function() db:keys("ks") end,
          function() db:history("ks", k) end,
          function() db:digest("ks") end,
        }
        for _, f in ipairs(calls) do
          local ok, e = pcall(f)
          if not ok and not tostring(e):find("closed") then
            error(e, 0)
          end
        end
      end
      ran = ran + st.hits
      calm(st)
      db:close()
    end
    assert(ran > 0, "no finalizer ran")
  end)

  it("may raise: later calls are exactly right", function()
    local db, want = setup()
    local st = storm(function(st)
      db:get("ks", "many")
      if st.hits % 3 == 0 then error("finalizer fails") end
    end)
    local raised = 0
    under(st, 150, function(i)
      local ok, e = pcall(db.get, db, "ks", i % 2 == 0 and "t" or "many")
      if ok then
        check(e, want[i % 2 == 0 and "t" or "many"], "get")
      else
        raised = raised + 1
        assert(tostring(e):find("finalizer fails"), e)
      end
      ok, e = pcall(db.update, db, "ks", "c", function(v) return (v or 0) + 1 end)
      if not ok then assert(tostring(e):find("finalizer fails"), e) end
    end, "finalizer fails")
    calm(st)
    for _, k in ipairs { "n", "s", "long", "t", "many" } do
      for _ = 1, 3 do check(db:get("ks", k), want[k], "after: " .. k) end
    end
    db:close()
  end)

  it("may use the store inside a batch", function()
    local db = vv.open { node = "s0" }
    local st = storm(function(st, n) db:put("ks", "f" .. n, n) end)
    local n = 0
    under(st, 20, function()
      db:batch(function()
        for _ = 1, 20 do
          n = n + 1
          db:put("ks", "b" .. n, bigtable("b" .. n))
        end
      end)
    end)
    calm(st)
    for i = 1, n do eq(db:get("ks", "b" .. i).value[1].name, "b" .. i .. "1") end
    for i = 1, st.hits do
      local r = db:get("ks", "f" .. i)
      if r then eq(r.value, i) end
    end
    db:close()
  end)

  it("leave vv.crdt's counters and sets exact", function()
    local db = vv.open { node = "s0" }
    local crdt = vv.crdt
    local st = storm(function(st, n)
      crdt.counter.add(db, "cnt", "fin", 1)
      st.adds = (st.adds or 0) + 1
      crdt.set.add(db, "set", "fin", "x" .. n)
    end)
    local n = 0
    -- a helper is one db:update of a small state: it takes many rounds
    -- before the collector of Lua 5.3 (pause 100) runs inside one
    under(st, 400, function()
      n = n + 1
      crdt.counter.add(db, "cnt", "main", 2)
      crdt.set.add(db, "set", "main", "m" .. n)
      eq(crdt.counter.get(db, "cnt", "main"), 2 * n)
    end)
    calm(st)
    eq(crdt.counter.get(db, "cnt", "fin"), st.adds)
    eq(#crdt.set.get(db, "set", "main"), n)
    db:close()
  end)
end)

describe("Lua code the store calls", function()
  it("a resolver may read, write and close the store", function()
    local db = vv.open { node = "s0" }
    local a = vv.open { node = "s1" }
    local inside = false
    db:keyspace("fn", { resolver = function(sibs, key)
      if key == "close" then db:close(); return "closed" end
      if not inside then
        inside = true
        db:get("fn", "other")                    -- its resolver runs too
        local w = db:get("plain", "w")
        db:put("plain", "w", bigtable("w"), w and w.context)
        eq(db:get("plain", "w").value[3].name, "w3")
        inside = false
      end
      local vals = {}
      for i, s in ipairs(sibs) do vals[i] = s.value end
      table.sort(vals)
      return table.concat(vals, "+")
    end })
    for _, k in ipairs { "k", "other", "close" } do
      db:put("fn", k, "a")
      a:put("fn", k, "b")
      db:merge("fn", k, a:export("fn", k))
    end
    for _ = 1, 50 do
      local r = db:get("fn", "k")
      eq(r.value, "a+b")
      eq(#r.siblings, 2)
    end
    local r = db:get("fn", "close")
    eq(r.value, "closed")
    eq(#r.siblings, 2)
    raises("closed", function() db:get("fn", "k") end)
    a:close()
  end)

  it("update's function may read, write and close the store", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", 1)
    eq(db:update("ks", "k", function(v)
      db:put("ks", "k", 100)                     -- concurrent with the update
      eq(#db:get("ks", "k").siblings, 2)
      return v + 1
    end), 2)
    local r = db:get("ks", "k")
    eq(#r.siblings, 2)
    eq(r.values[1] + r.values[2], 102)
    raises("the store was closed", function()
      db:update("ks", "k", function() db:close(); return 5 end)
    end)
  end)

  it("a batch's function may close the store", function()
    local db = vv.open { node = "s0" }
    raises("closed inside the batch", function()
      db:batch(function() db:put("ks", "k", 1); db:close() end)
    end)
  end)

  it("the codec calls no metamethod of a value", function()
    local db = vv.open { node = "s0" }
    local function no() error("a metamethod ran") end
    local mt = { __index = no, __newindex = no, __len = no, __pairs = no,
                 __tostring = no, __eq = no, __lt = no, __le = no,
                 __concat = no, __call = no }
    local v = setmetatable({ 1, 2, x = setmetatable({ "y" }, mt) }, mt)
    db:put("ks", "k", v)
    local r = db:get("ks", "k")
    eq(rawget(r.value, 1), 1)
    eq(rawget(rawget(r.value, "x"), 1), "y")
    eq(vv.decode(vv.encode(v)), { 1, 2, x = { "y" } })
    db:close()
  end)
end)
