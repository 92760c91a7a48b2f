-- state_spec.lua - detached states from Lua: vv.merge_states,
-- vv.state_key, vv.state_count, db:put_state, db:delete_state,
-- db:get_state.
local vv = require "vv"

-- A few exported states of key "k" from three replicas writing,
-- deleting and exchanging states at random (seeded).
local function state_pool(seed)
  local rs = { vv.open { node = "r0" }, vv.open { node = "r1" },
               vv.open { node = "r2" } }
  local pool, x, w = {}, seed, 0
  local function rnd(n) x = (x * 1103515245 + 12345) % 2147483648; return x % n + 1 end
  for _ = 1, 120 do
    local r, op = rs[rnd(3)], rnd(10)
    if op <= 5 then
      local cur = rnd(3) > 1 and r:get("ks", "k") or nil
      w = w + 1
      if rnd(5) == 1 then r:delete("ks", "k", cur and cur.context)
      else r:put("ks", "k", "w" .. w, cur and cur.context) end
    elseif op <= 8 then
      local s = r:export("ks", "k")
      if s then rs[rnd(3)]:merge("ks", "k", s) end
    else
      local s = r:export("ks", "k")
      if s then pool[#pool + 1] = s end
    end
  end
  return pool
end

-- The export of a fresh store that merged the states in list.
local function store_merge(list)
  local t = vv.open { node = "t" }
  for _, s in ipairs(list) do t:merge("ks", "k", s) end
  return t:export("ks", "k")
end

-- What a read shows, timestamps left out (two writes a millisecond apart
-- differ only there).
local function shape(r)
  if r == nil then return nil end
  local out = { context = tostring(r.context), value = r.value, sibs = {} }
  for i, s in ipairs(r.siblings) do
    out.sibs[i] = { s.value, s.node, s.actor, s.counter }
  end
  return out
end

describe("vv.merge_states", function()
  it("gives what a store gives after merging, in any order and grouping", function()
    for seed = 1, 6 do
      local pool = state_pool(seed)
      assert(#pool >= 3, "too few states")
      local want = store_merge(pool)
      local left = pool[1]
      for i = 2, #pool do left = vv.merge_states(left, pool[i]) end
      local right = pool[#pool]
      for i = #pool - 1, 1, -1 do right = vv.merge_states(pool[i], right) end
      local half = math.floor(#pool / 2)
      local a, b = pool[1], pool[half + 1]
      for i = 2, half do a = vv.merge_states(a, pool[i]) end
      for i = half + 2, #pool do b = vv.merge_states(pool[i], b) end
      eq(left == want, true, "left fold")
      eq(right == want, true, "right fold")
      eq(vv.merge_states(b, a) == want, true, "two halves")
      for _, s in ipairs(pool) do
        eq(vv.merge_states(s, s) == s, true, "idempotent")
        eq(vv.merge_states(s, want) == want, true, "absorbed")
      end
    end
  end)

  it("refuses corrupt, truncated, foreign and non-string states", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    a:put("ks", "k", "x")
    b:put("ks", "other", "y")
    local s, o = a:export("ks", "k"), b:export("ks", "other")
    raises("different keys", vv.merge_states, s, o)
    raises("corrupt or truncated", vv.merge_states, s, s:sub(1, -2))
    raises("corrupt or truncated", vv.merge_states, "", s)
    local flipped = s:sub(1, 10) .. string.char((s:byte(11) + 1) % 256) .. s:sub(12)
    raises("corrupt or truncated", vv.merge_states, flipped, s)
    raises("string expected", vv.merge_states, s, 42)
    raises("string expected", vv.merge_states, nil, s)
  end)
end)

describe("vv.state_key", function()
  it("names the key of a good state and explains a bad one", function()
    local a = vv.open { node = "a" }
    a:put("ks", "the key", "x")
    local s = a:export("ks", "the key")
    eq(vv.state_key(s), "the key")
    local k, why = vv.state_key(s:sub(1, -3))
    eq(k, nil)
    assert(why:find("corrupt"), why)
    k, why = vv.state_key("VVS\2" .. s:sub(5))
    eq(k, nil)
    assert(why:find("format"), why)
    raises("string expected", vv.state_key, {})
  end)
end)

describe("vv.state_count", function()
  it("counts live versions and tombstones as a read and stats see them",
     function()
    -- every state of a random history: the live count is what a read
    -- shows, and a state with no live version reads nil
    for seed = 1, 6 do
      for _, s in ipairs(state_pool(seed)) do
        local live, tombs = vv.state_count(s)
        local t = vv.open { node = "t" }
        t:merge("ks", "k", s)
        local r = t:get("ks", "k")
        eq(live, r and #r.siblings or 0, "live versions")
        local st = t:stats("ks")
        eq(st.tombstones, (live == 0 and tombs > 0) and 1 or 0,
           "only tombstones")
        assert(tombs >= 0)
      end
    end
    local a = vv.open { node = "a" }
    a:put("ks", "k", "x")
    eq({ vv.state_count(a:export("ks", "k")) }, { 1, 0 })
    a:delete("ks", "k", a:get("ks", "k").context)
    eq({ vv.state_count(a:export("ks", "k")) }, { 0, 1 })
    local b = vv.open { node = "b" }
    b:put("ks", "k", "y")
    a:merge("ks", "k", b:export("ks", "k"))
    eq({ vv.state_count(a:export("ks", "k")) }, { 1, 1 })
  end)
  it("refuses bad states as state_key does", function()
    local a = vv.open { node = "a" }
    a:put("ks", "k", "x")
    local s = a:export("ks", "k")
    local n, why = vv.state_count(s:sub(1, -2))
    eq(n, nil)
    assert(why:find("corrupt"), why)
    n, why = vv.state_count("VVS\2" .. s:sub(5))
    eq(n, nil)
    assert(why:find("format"), why)
    raises("string expected", vv.state_count, nil)
  end)
end)

describe("db:put_state and db:delete_state", function()
  it("write as db:put and db:delete write to a stored key", function()
    -- a stored and a detached write path, side by side: two handles of
    -- node "me" (each handle writes as an actor of its own, so what the
    -- detached one shows is compared with its actor named as the stored
    -- one's; both names sort before "other.*")
    local d1 = tmpdir()
    local stored = vv.open { node = "me", path = d1 }
    local detached = vv.open { node = "me" }
    stored:keyspace("ks", { resolver = "siblings" })
    detached:keyspace("ks", { resolver = "siblings" })
    assert(stored:actor() ~= detached:actor())
    local function swap(text, from, to)
      local i = text:find(from, 1, true)
      while i do
        text = text:sub(1, i - 1) .. to .. text:sub(i + #from)
        i = text:find(from, i + #to, true)
      end
      return text
    end
    local function same_actor(text)
      return swap(text, detached:actor(), stored:actor())
    end
    local function as_detached(ctx)               -- a stored read's context
      return ctx and vv.clock(swap(tostring(ctx), stored:actor(),
                                   detached:actor()))
    end
    local function renamed(sh)
      if sh == nil then return nil end
      sh.context = same_actor(sh.context)
      for _, s in ipairs(sh.sibs) do s[3] = same_actor(s[3]) end
      return sh
    end
    local other = vv.open { node = "other" }
    local cur, held = nil, {}
    for i = 1, 60 do
      local op = i % 6
      if op == 0 then                       -- another replica's state arrives
        other:put("ks", "k", "o" .. i, (other:get("ks", "k") or {}).context)
        local s = other:export("ks", "k")
        stored:merge("ks", "k", s)
        cur = cur and vv.merge_states(cur, s) or s
        -- (other does not hear from us here: its states must reach both
        -- paths the same; the C test covers our dots coming back)
      elseif op == 1 then                   -- a client reads
        local r = stored:get("ks", "k")
        held[#held + 1] = r and r.context
      else                                  -- a write, maybe stale
        local ctx = held[(i * 7) % (#held + 1)]
        local c1, c2
        if op == 5 then
          c1 = stored:delete("ks", "k", ctx)
          cur, c2 = detached:delete_state("ks", "k", cur, as_detached(ctx))
        else
          c1 = stored:put("ks", "k", { n = i }, ctx)
          cur, c2 = detached:put_state("ks", "k", cur, { n = i },
                                       as_detached(ctx))
        end
        eq(same_actor(tostring(c2)), tostring(c1), "context after write " .. i)
        eq(renamed(shape(detached:get_state("ks", cur))),
           shape(stored:get("ks", "k")), "read after write " .. i)
      end
    end
    stored:close()
    detached:close()
    rmdir(d1)
  end)

  it("starts from nil, replaces what a context saw, and deletes", function()
    local db = vv.open { node = "s0" }
    local s1, c1 = db:put_state("carts", "alice", nil, { "eggs" })
    eq(vv.state_key(s1), "alice")
    eq(db:get("carts", "alice"), nil)       -- nothing stored
    local s2 = db:put_state("carts", "alice", s1, { "milk" })
    eq(#db:get_state("carts", s2).siblings, 2)
    local s3 = db:put_state("carts", "alice", s2, { "eggs", "bacon" }, c1)
    local r = db:get_state("carts", s3)
    eq(#r.siblings, 2)
    eq(r.values[1][1] == "milk" or r.values[2][1] == "milk", true)
    local s4, c4 = db:delete_state("carts", "alice", s3, r.context)
    eq(db:get_state("carts", s4), nil)
    eq(tostring(c4), tostring(vv.clock(tostring(c4))))
    assert(vv.compare(c4, r.context) == "after")
  end)

  it("refuses bad states, contexts and values; the store stays usable", function()
    local db, o = vv.open { node = "s0" }, vv.open { node = "o" }
    o:put("ks", "k", "x")
    local s = o:export("ks", "k")
    raises("another key", db.put_state, db, "ks", "x", s, "v")
    raises("corrupt", db.put_state, db, "ks", "k", s:sub(2), "v")
    raises("clock expected", db.put_state, db, "ks", "k", s, "v", "nope")
    raises("function", db.put_state, db, "ks", "k", s, function() end)
    raises("string expected", db.put_state, db, "ks", "k", 42, "v")
    raises("corrupt", db.delete_state, db, "ks", "k", "junk")
    raises("corrupt", db.get_state, db, "ks", "junk")
    local s2, c = db:put_state("ks", "k", s, "v")
    eq(c:get(db:actor()), 1)                -- no dot lost to the failures
    eq(#db:get_state("ks", s2).siblings, 2)
    db:close()
    raises("closed", db.put_state, db, "ks", "k", s, "v")
  end)
end)

describe("db:get_state", function()
  it("resolves as the keyspace says, and writes nothing back", function()
    local a, b, db = vv.open { node = "a" }, vv.open { node = "b" },
                     vv.open { node = "me" }
    a:put("carts", "alice", { "apple" })
    b:put("carts", "alice", { "banana" })
    local m = vv.merge_states(a:export("carts", "alice"),
                              b:export("carts", "alice"))
    local r = db:get_state("carts", m)
    eq(#r.siblings, 2)
    eq(r.value, nil)
    eq(#r.values, 2)
    db:keyspace("u", { resolver = "scripts/union.lua" })
    local u = db:get_state("u", m).value
    table.sort(u)
    eq(u, { "apple", "banana" })
    local seen
    db:keyspace("f", { resolver = function(sibs, key)
      seen = key
      return #sibs
    end, writeback = true })
    eq(db:get_state("f", m).value, 2)
    eq(seen, "alice")
    eq(db:export("f", "alice"), nil)
    db:keyspace("l", { resolver = "lww" })
    local lww = db:get_state("l", m).value[1]
    assert(lww == "apple" or lww == "banana")
    -- the same answers a store holding the state gives
    local t = vv.open { node = "t" }
    t:keyspace("u", { resolver = "scripts/union.lua" })
    t:merge("u", "alice", m)
    eq(shape(db:get_state("u", m)).sibs, shape(t:get("u", "alice")).sibs)
  end)
end)
