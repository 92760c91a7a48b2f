-- store_spec.lua - vv.open and the store methods: reads, writes with and
-- without contexts, deletes, resolvers, export/merge, batches, stats,
-- durability, and every listed kind of bad input.
local vv = require "vv"

local INT = math.type ~= nil

-- The values of a read, sorted, for order-free comparison.
local function sorted_values(r)
  local t = {}
  for i, v in ipairs(r.values) do t[i] = v end
  table.sort(t, function(a, b) return tostring(a) < tostring(b) end)
  return t
end

describe("vv module", function()
  it("has a version", function()
    assert(type(vv._VERSION) == "string" and vv._VERSION:match("^%d+%.%d+"))
  end)
end)

describe("vv.open", function()
  it("opens an in-memory store", function()
    local db = vv.open { node = "s0" }
    eq(db:node(), "s0")
    assert(db:actor():match("^s0%.[a-z2-7]+$"), db:actor())
    assert(tostring(db):match("^vv%.store %(s0%."))
    db:close()
  end)

  it("gives each in-memory open a new actor", function()
    local a, b = vv.open { node = "s0" }, vv.open { node = "s0" }
    assert(a:actor() ~= b:actor())
    a:close(); b:close()
  end)

  it("requires a node", function()
    raises("option 'node' %(a string%) is required", vv.open, {})
    raises("table expected, got no value", vv.open)
    raises("table expected, got string", vv.open, "s0")
    raises("option 'node' must be a string, got number", vv.open, { node = 1 })
    raises("unknown option 'nodes'", vv.open, { nodes = "s0" })
    raises("open:", vv.open, { node = "" })
  end)
end)

describe("store", function()
  it("reads nil for absent keys and unknown keyspaces", function()
    local db = vv.open { node = "s0" }
    eq(db:get("nowhere", "k"), nil)
    db:put("ks", "a", 1)
    eq(db:get("ks", "b"), nil)
  end)

  it("puts and gets one value", function()
    local db = vv.open { node = "s0" }
    local ctx = db:put("ks", "k", { items = { "apple" } })
    assert(vv.compare(ctx, vv.clock()) == "after")
    local r = db:get("ks", "k")
    eq(r.value, { items = { "apple" } })
    eq(r.values, { { items = { "apple" } } })
    eq(#r.siblings, 1)
    local s = r.siblings[1]
    eq(s.value, { items = { "apple" } })
    eq(s.node, "s0")
    eq(s.actor, db:actor())
    eq(s.counter, 1)
    assert(type(s.timestamp) == "number" and s.timestamp > 1.5e12,
           "wall-clock ms")
    if INT then
      eq(math.type(s.counter), "integer")
      eq(math.type(s.timestamp), "integer")
    end
    assert(r.context == ctx)
    eq(r.error, nil)
  end)

  it("replaces what a context saw", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", "v1")
    local r = db:get("ks", "k")
    db:put("ks", "k", "v2", r.context)
    r = db:get("ks", "k")
    eq(r.values, { "v2" })
    eq(r.value, "v2")
  end)

  it("keeps a write without context as a sibling", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", "a")
    db:put("ks", "k", "b")
    local r = db:get("ks", "k")
    eq(#r.siblings, 2)
    eq(sorted_values(r), { "a", "b" })
    eq(r.value, nil, "siblings resolver: no single value")
    eq(r.error, nil)
  end)

  it("keeps versions a stale context had not seen", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", "v1")
    local old = db:get("ks", "k").context
    db:put("ks", "k", "v2", old)            -- replaces v1
    db:put("ks", "k", "v3", old)            -- did not see v2
    local r = db:get("ks", "k")
    eq(sorted_values(r), { "v2", "v3" })
    db:put("ks", "k", "v4", r.context)      -- saw both
    eq(db:get("ks", "k").values, { "v4" })
  end)

  it("deletes what the context saw", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", "v1")
    local r = db:get("ks", "k")
    local ctx = db:delete("ks", "k", r.context)
    assert(vv.compare(ctx, r.context) == "after")
    eq(db:get("ks", "k"), nil)
    -- a write with the delete's context starts afresh
    db:put("ks", "k", "v2", ctx)
    eq(db:get("ks", "k").values, { "v2" })
  end)

  it("keeps what a delete had not seen", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", "v1")
    local r = db:get("ks", "k")
    db:put("ks", "k", "v2")                 -- concurrent with the read
    db:delete("ks", "k", r.context)
    eq(db:get("ks", "k").values, { "v2" })
  end)

  it("deletes nothing without a context", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", "v1")
    db:delete("ks", "k")
    eq(db:get("ks", "k").values, { "v1" })
    db:delete("ks", "never")
    eq(db:get("ks", "never"), nil)
  end)

  it("lists siblings in the same order on every replica", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    a:put("ks", "k", "from a")
    b:put("ks", "k", "from b")
    a:merge("ks", "k", b:export("ks", "k"))
    b:merge("ks", "k", a:export("ks", "k"))
    local ra, rb = a:get("ks", "k"), b:get("ks", "k")
    eq(#ra.siblings, 2)
    eq(ra.values, rb.values)
    for i = 1, 2 do
      eq(ra.siblings[i].actor, rb.siblings[i].actor)
      eq(ra.siblings[i].counter, rb.siblings[i].counter)
    end
    assert(ra.context == rb.context)
  end)

  it("exports nil for unknown keys and merges idempotently", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    eq(a:export("ks", "k"), nil)
    a:put("ks", "k", 1)
    local st = a:export("ks", "k")
    assert(type(st) == "string" and #st > 0)
    eq(b:merge("ks", "k", st), true)
    eq(b:merge("ks", "k", st), true)
    eq(b:get("ks", "k").values, { 1 })
    -- merging an older state changes nothing
    local r = b:get("ks", "k")
    b:put("ks", "k", 2, r.context)
    b:merge("ks", "k", st)
    eq(b:get("ks", "k").values, { 2 })
  end)

  it("merges a deletion", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    a:put("ks", "k", 1)
    b:merge("ks", "k", a:export("ks", "k"))
    a:delete("ks", "k", a:get("ks", "k").context)
    b:merge("ks", "k", a:export("ks", "k"))
    eq(b:get("ks", "k"), nil)
    assert(b:export("ks", "k"), "the tombstone is still exported")
  end)

  it("lists keys and keyspaces", function()
    local db = vv.open { node = "s0" }
    db:put("one", "b", 1)
    db:put("one", "a", 1)
    db:put("two", "x", 1)
    db:delete("one", "c")
    eq(db:keys("one"), { "a", "b", "c" })
    eq(db:keys("none"), {})
    local names = db:keyspaces()
    table.sort(names)
    eq(names, { "one", "two" })
  end)

  it("counts in stats", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "one", 1)
    db:put("ks", "two", 1)
    db:put("ks", "two", 2)
    db:put("ks", "gone", 1)
    db:delete("ks", "gone", db:get("ks", "gone").context)
    local st = db:stats("ks")
    eq(st.keys, 2)
    eq(st.tombstones, 1)
    eq(st.siblings[1], 1)
    eq(st.siblings[2], 1)
    eq(#st.siblings, 8)
    eq(st.max_siblings, 2)
    assert(type(st.bytes) == "number")
    eq(db:stats().keys, 2)
    eq(db:stats("empty").keys, 0)
  end)
end)

describe("db:update", function()
  it("reads, calls the function and writes its result", function()
    local db = vv.open { node = "s0" }
    eq(db:update("ks", "n", function(v) eq(v, nil); return 1 end), 1)
    eq(db:update("ks", "n", function(v) return v + 1 end), 2)
    local r = db:get("ks", "n")
    eq(r.value, 2)
    eq(#r.siblings, 1)
    eq(r.siblings[1].counter, 2)
    eq(db:update("ks", "t", function() return { a = { 1, 2 } } end).a[2], 2)
    eq(db:get("ks", "t").value.a[1], 1)
    db:close()
  end)

  it("writes nothing when the function returns nil", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", "v")
    local before = db:export("ks", "k")
    eq(db:update("ks", "k", function() return nil end), nil)
    eq(db:export("ks", "k"), before)
    eq(db:update("ks", "absent", function() end), nil)
    eq(db:get("ks", "absent"), nil)
    db:close()
  end)

  it("keeps a write made while the function ran as a sibling", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", "a")
    db:update("ks", "k", function(v)
      db:put("ks", "k", "meanwhile")         -- a blind write in between
      return v .. "+"
    end)
    local r = db:get("ks", "k")
    eq(#r.siblings, 2)
    local got = { r.values[1], r.values[2] }
    table.sort(got)
    eq(got[1], "a+")
    eq(got[2], "meanwhile")
    db:close()
  end)

  it("replaces every sibling it read, and sees the resolved value", function()
    local a, b = vv.open { node = "s0" }, vv.open { node = "s1" }
    a:keyspace("p", { resolver = "lww" })
    a:put("p", "k", 1)
    b:put("p", "k", 2)
    a:merge("p", "k", b:export("p", "k"))
    eq(#a:get("p", "k").siblings, 2)
    local want, seen = a:get("p", "k").value, nil
    assert(want == 1 or want == 2)
    a:update("p", "k", function(v) seen = v; return v * 10 end)
    eq(seen, want)
    eq(#a:get("p", "k").siblings, 1)
    eq(a:get("p", "k").value, seen * 10)
    a:close(); b:close()
  end)

  it("hands the function every sibling's value when there are several", function()
    local a, b = vv.open { node = "s0" }, vv.open { node = "s1" }
    local n, args = 0, nil
    local function fn(...) n = n + 1; args = { select("#", ...), ... } end
    a:update("ks", "absent", fn)
    eq(args, { 2, nil, nil })
    a:put("ks", "k", { "eggs" })
    a:update("ks", "k", fn)
    eq(args, { 2, { "eggs" }, nil })                -- one sibling: no list
    b:put("ks", "k", { "milk" })
    a:merge("ks", "k", b:export("ks", "k"))
    local r = a:get("ks", "k")
    eq(#r.siblings, 2)
    a:update("ks", "k", fn)
    eq(args[1], 2)
    eq(args[2], nil)                                -- unresolved
    eq(args[3], r.values)                           -- the read's order
    -- a union of the siblings replaces them both
    a:update("ks", "k", function(v, values)
      local out = {}
      for _, x in ipairs(values) do out[#out + 1] = x[1] end
      table.sort(out)
      return out
    end)
    r = a:get("ks", "k")
    eq(#r.siblings, 1)
    eq(r.value, { "eggs", "milk" })
    -- under a resolver, the resolved value and the siblings' values
    a:keyspace("p", { resolver = "lww" })
    a:put("p", "k", 1)
    b:put("p", "k", 2)
    a:merge("p", "k", b:export("p", "k"))
    r = a:get("p", "k")
    a:update("p", "k", fn)
    eq(args, { 2, r.value, r.values })
    eq(n, 4)
    a:close(); b:close()
  end)

  it("leaves the key unchanged when the function fails or returns junk", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", 5)
    local before = db:export("ks", "k")
    raises("boom", db.update, db, "ks", "k", function() error("boom") end)
    raises("update: the function's result cannot be stored", db.update, db,
           "ks", "k", function() return print end)
    raises("function expected", db.update, db, "ks", "k", 42)
    eq(db:export("ks", "k"), before)
    db:close()
  end)
end)

describe("keyspace", function()
  it("returns its configuration", function()
    local db = vv.open { node = "s0" }
    eq(db:keyspace("none"), nil)
    local c = db:keyspace("p", { resolver = "lww", codec = "raw",
                                 warn_siblings = 5, max_siblings = 9,
                                 budget = { instructions = 1000 } })
    eq(c.resolver, "lww")
    eq(c.codec, "raw")
    eq(c.warn_siblings, 5)
    eq(c.max_siblings, 9)
    eq(c.writeback, false)
    eq(c.budget.instructions, 1000)
    eq(db:keyspace("p").codec, "raw")
    db:keyspace("p", {})
    eq(db:keyspace("p").resolver, "siblings")
    eq(db:keyspace("p", { resolver = "lww", writeback = true }).resolver, "lww")
    eq(db:keyspace("p").writeback, true)
    eq(db:keyspace("p").codec, "msgpack")
  end)

  it("is created on first use with the siblings resolver", function()
    local db = vv.open { node = "s0" }
    db:put("fresh", "k", 1)
    eq(db:keyspace("fresh").resolver, "siblings")
  end)

  it("resolves by last write wins", function()
    local db = vv.open { node = "s0" }
    db:keyspace("prefs", { resolver = "lww" })
    db:put("prefs", "theme", "dark")
    db:put("prefs", "theme", "light")
    local r = db:get("prefs", "theme")
    eq(#r.siblings, 2)
    eq(r.value, "light")
  end)

  it("picks the same lww winner on every replica", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    for _, db in ipairs { a, b } do db:keyspace("p", { resolver = "lww" }) end
    a:put("p", "k", "A")
    b:put("p", "k", "B")
    a:merge("p", "k", b:export("p", "k"))
    b:merge("p", "k", a:export("p", "k"))
    local ra, rb = a:get("p", "k"), b:get("p", "k")
    eq(ra.value, rb.value)
    local best = ra.siblings[1]
    for _, s in ipairs(ra.siblings) do
      if s.timestamp > best.timestamp then best = s end
    end
    assert(ra.value == best.value or ra.siblings[1].timestamp ==
           ra.siblings[2].timestamp)
  end)

  it("runs a host function resolver", function()
    local db = vv.open { node = "s0" }
    local seen_key
    db:keyspace("carts", { resolver = function(siblings, key)
      seen_key = key
      local set, out = {}, {}
      for _, s in ipairs(siblings) do
        assert(s.node == "s0" and s.counter and s.timestamp)
        for _, item in ipairs(s.value) do
          if not set[item] then set[item] = true; out[#out + 1] = item end
        end
      end
      table.sort(out)
      return out
    end })
    db:put("carts", "c1", { "apple" })
    eq(db:get("carts", "c1").value, { "apple" }, "one sibling: no call")
    eq(seen_key, nil)
    db:put("carts", "c1", { "banana", "apple" })
    local r = db:get("carts", "c1")
    eq(seen_key, "c1")
    eq(r.value, { "apple", "banana" })
    eq(#r.siblings, 2, "siblings stay")
    eq(r.error, nil)
    eq(db:keyspace("carts").resolver, db:keyspace("carts").resolver)
    assert(type(db:keyspace("carts").resolver) == "function")
  end)

  it("reports a failing function resolver in r.error", function()
    local db = vv.open { node = "s0" }
    db:keyspace("tix", { resolver = function() error("no way") end })
    db:put("tix", "t", 1)
    db:put("tix", "t", 2)
    local r = db:get("tix", "t")
    assert(r.error:find("keyspace 'tix'"), r.error)
    assert(r.error:find("no way"), r.error)
    eq(r.value, nil)
    eq(sorted_values(r), { 1, 2 })
    -- the store stays usable
    db:put("tix", "t", 3, r.context)
    eq(db:get("tix", "t").value, 3)
  end)

  it("reports a resolver result that cannot be stored", function()
    local db = vv.open { node = "s0" }
    db:keyspace("bad", { resolver = function() return print end })
    db:put("bad", "k", 1)
    db:put("bad", "k", 2)
    local r = db:get("bad", "k")
    assert(r.error:find("keyspace 'bad'") and r.error:find("function"),
           r.error)
    eq(#r.siblings, 2)
  end)

  it("does not let a resolver change what the read shows", function()
    local db = vv.open { node = "s0" }
    db:keyspace("m", { resolver = function(s)
      s[1].value = "changed"; s[2] = nil; return "x"
    end })
    db:put("m", "k", "a")
    db:put("m", "k", "b")
    local r = db:get("m", "k")
    eq(#r.siblings, 2)
    eq(sorted_values(r), { "a", "b" })
  end)

  it("writes a function's result back when asked", function()
    local db = vv.open { node = "s0" }
    db:keyspace("w", { writeback = true, resolver = function(s)
      local n = 0
      for _, x in ipairs(s) do n = n + x.value end
      return n
    end })
    db:put("w", "k", 1)
    db:put("w", "k", 2)
    local r = db:get("w", "k")
    eq(r.value, 3)
    local r2 = db:get("w", "k")
    eq(r2.values, { 3 }, "one version after the write-back")
    -- the first read's context covers the write-back
    db:put("w", "k", 10, r.context)
    eq(db:get("w", "k").values, { 10 })
  end)

  it("runs a resolver script given by path", function()
    local base = os.tmpname()
    local good, bad = base .. "_sum.lua", base .. "_bad.lua"
    local f = assert(io.open(good, "w"))
    f:write("return function(siblings, key)\n",
            "  local n = 0\n",
            "  for _, s in ipairs(siblings) do n = n + s.value end\n",
            "  return n\n",
            "end\n")
    f:close()
    f = assert(io.open(bad, "w"))
    f:write("return { resolve = function() error('no sum today') end }\n")
    f:close()
    local db = vv.open { node = "s0" }
    local c = db:keyspace("sum", { resolver = good })
    eq(c.resolver, good)
    db:put("sum", "k", 1)
    db:put("sum", "k", 2)
    eq(db:get("sum", "k").value, 3)
    db:keyspace("sum", { resolver = bad })
    local r = db:get("sum", "k")
    assert(r.error and r.error:find("no sum today"), tostring(r.error))
    eq(r.value, nil)
    eq(sorted_values(r), { 1, 2 })
    os.remove(good); os.remove(bad); os.remove(base)
  end)

  it("survives a resolver that uses or closes the store", function()
    local db = vv.open { node = "s0" }
    db:keyspace("other", {})
    db:put("other", "x", "seen")
    db:keyspace("r", { writeback = true, resolver = function(s)
      return db:get("other", "x").value .. #s
    end })
    db:put("r", "k", 1)
    db:put("r", "k", 2)
    eq(db:get("r", "k").value, "seen2")
    db:keyspace("c", { writeback = true, resolver = function()
      db:close(); return "closed"
    end })
    db:put("c", "k", 1)
    db:put("c", "k", 2)
    eq(db:get("c", "k").value, "closed")
    raises("closed store", function() db:get("c", "k") end)
  end)

  it("enforces max_siblings without changing data", function()
    local db = vv.open { node = "s0" }
    db:keyspace("lim", { max_siblings = 2 })
    db:put("lim", "k", 1)
    db:put("lim", "k", 2)
    raises("put:", function() db:put("lim", "k", 3) end)
    eq(sorted_values(db:get("lim", "k")), { 1, 2 })
  end)

  it("refuses bad configurations and keeps the old one", function()
    local db = vv.open { node = "s0" }
    db:keyspace("k", { resolver = "lww" })
    raises("unknown resolver 'nope'", function()
      db:keyspace("k", { resolver = "nope" })
    end)
    raises("unknown codec 'json'", function()
      db:keyspace("k", { codec = "json" })
    end)
    raises("option 'resolver' must be a string or a function, got number",
           function() db:keyspace("k", { resolver = 5 }) end)
    raises("unknown option 'resolve'", function()
      db:keyspace("k", { resolve = "lww" })
    end)
    raises("option 'budget' must be a table", function()
      db:keyspace("k", { budget = 5 })
    end)
    raises("unknown option 'cpu'", function()
      db:keyspace("k", { budget = { cpu = 1 } })
    end)
    raises("must be a non%-negative integer", function()
      db:keyspace("k", { max_siblings = -1 })
    end)
    raises("must be a boolean", function()
      db:keyspace("k", { writeback = "yes" })
    end)
    raises("keyspace:", function()
      db:keyspace("k", { resolver = "no/such/script.lua" })
    end)
    raises("keyspace:", function()
      db:keyspace("", { resolver = "lww" })
    end)
    raises("NUL", function() db:keyspace("a\0b", {}) end)
    eq(db:keyspace("k").resolver, "lww")
  end)
end)

describe("store bad input", function()
  it("refuses a context that is not a clock, changing nothing", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "k", "v1")
    raises("bad argument #4 to 'put' %(clock expected, got string%)",
           function() db:put("ks", "k", "v2", "{s0:1}") end)
    raises("bad argument #4 to 'put' %(clock expected, got table%)",
           function() db:put("ks", "k", "v2", {}) end)
    raises("bad argument #3 to 'delete' %(clock expected, got number%)",
           function() db:delete("ks", "k", 1) end)
    raises("clock expected, got vv.store",
           function() db:delete("ks", "k", db) end)
    eq(db:get("ks", "k").values, { "v1" })
  end)

  it("refuses bad keys and keyspace names", function()
    local db = vv.open { node = "s0" }
    raises("bad argument #2 to 'put' %(string expected, got number%)",
           function() db:put("ks", 1, "v") end)
    raises("bad argument #1 to 'put' %(string expected, got nil%)",
           function() db:put(nil, "k", "v") end)
    raises("put: key is 100000 bytes", function()
      db:put("ks", ("k"):rep(100000), "v")
    end)
    raises("bad argument #2 to 'get'", function() db:get("ks") end)
    eq(db:keys("ks"), {})
  end)

  it("refuses corrupt, truncated and foreign states", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    a:put("ks", "k", { 1, 2, 3 })
    a:put("ks", "other", "x")
    b:put("ks", "k", "mine")
    local st = a:export("ks", "k")
    for i = 0, #st - 1 do
      raises("merge:", function() b:merge("ks", "k", st:sub(1, i)) end)
    end
    for i = 1, #st do
      local bad = st:sub(1, i - 1) .. string.char((st:byte(i) + 1) % 256)
                  .. st:sub(i + 1)
      raises("merge:", function() b:merge("ks", "k", bad) end)
    end
    raises("merge:", function()
      b:merge("ks", "k", a:export("ks", "other"))
    end)
    raises("bad argument #3 to 'merge' %(string expected, got nil%)",
           function() b:merge("ks", "k", nil) end)
    local r = b:get("ks", "k")
    eq(r.values, { "mine" })
  end)

  it("refuses a closed store", function()
    local db = vv.open { node = "s0" }
    db:close()
    db:close()                      -- idempotent
    raises("closed store", function() db:get("ks", "k") end)
    raises("closed store", function() db:put("ks", "k", 1) end)
    eq(tostring(db), "vv.store (closed)")
    raises("store expected, got table", function() db.get({}, "ks", "k") end)
  end)

  it("closes with <close> on 5.4", function()
    if _VERSION ~= "Lua 5.4" then return end
    local f = assert(load([[
      local vv = ...
      local keep
      do
        local db <close> = vv.open { node = "s0" }
        keep = db
      end
      return keep
    ]]))
    eq(tostring(f(vv)), "vv.store (closed)")
  end)

  it("survives garbage collection of many stores", function()
    for i = 1, 50 do
      local db = vv.open { node = "g" .. i }
      db:put("ks", "k", i)
    end
    collectgarbage()
    collectgarbage()
  end)
end)

describe("batch", function()
  it("commits together and returns fn's results", function()
    local db = vv.open { node = "s0" }
    local x, y = db:batch(function(a)
      db:put("ks", "a", a)
      db:put("ks", "b", 2)
      return "done", 7
    end, 1)
    eq(x, "done")
    eq(y, 7)
    eq(db:get("ks", "a").value, 1)
    eq(db:get("ks", "b").value, 2)
  end)

  it("keeps none of the writes when fn raises", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "a", "before")
    local err = raises("boom", function()
      db:batch(function()
        db:put("ks", "a", "during", db:get("ks", "a").context)
        db:put("ks", "new", 1)
        error("boom")
      end)
    end)
    assert(err)
    eq(db:get("ks", "a").values, { "before" })
    eq(db:get("ks", "new"), nil)
    db:put("ks", "after", 1)        -- usable afterwards
    eq(db:get("ks", "after").value, 1)
  end)

  it("joins an outer batch", function()
    local db = vv.open { node = "s0" }
    raises("outer", function()
      db:batch(function()
        db:batch(function() db:put("ks", "inner", 1) end)
        error("outer")
      end)
    end)
    eq(db:get("ks", "inner"), nil)
    db:batch(function()
      db:batch(function() db:put("ks", "inner", 2) end)
    end)
    eq(db:get("ks", "inner").value, 2)
  end)

  it("refuses a non-function", function()
    local db = vv.open { node = "s0" }
    raises("function expected", function() db:batch(5) end)
  end)
end)

describe("durable store", function()
  it("keeps data and keyspace settings across reopen", function()
    local dir = tmpdir()
    local db = vv.open { node = "d0", path = dir, no_sync = true }
    local actor = db:actor()
    db:keyspace("raw", { codec = "raw" })
    db:keyspace("p", { resolver = "lww" })
    db:put("raw", "b", "\0bytes")
    db:put("ks", "k", { n = 1 })
    db:put("p", "x", "a")
    db:put("p", "x", "b")
    db:batch(function()
      for i = 1, 20 do db:put("many", "k" .. i, i) end
    end)
    db:close()
    db = vv.open { node = "d0", path = dir }
    assert(db:actor() ~= actor)                   -- each opening writes anew
    eq(db:get("raw", "b").value, "\0bytes")
    eq(db:get("ks", "k").value, { n = 1 })
    eq(db:get("p", "x").value, "b")
    eq(db:keyspace("raw").codec, "raw")
    eq(#db:keys("many"), 20)
    -- the new actor's write replaces what it read
    local r = db:get("ks", "k")
    db:put("ks", "k", { n = 2 }, r.context)
    r = db:get("ks", "k")
    eq(r.value, { n = 2 })
    eq(r.siblings[1].actor, db:actor())
    eq(r.siblings[1].counter, 1)
    eq(r.context:get(actor), 2)                  -- the old dot, replaced
    db:close()
    rmdir(dir)
  end)

  it("rolls back a failed batch on disk", function()
    local dir = tmpdir()
    local db = vv.open { node = "d0", path = dir, no_sync = true }
    db:put("ks", "k", 1)
    pcall(db.batch, db, function()
      db:put("ks", "k", 2, db:get("ks", "k").context)
      error("stop")
    end)
    db:close()
    db = vv.open { node = "d0", path = dir }
    eq(db:get("ks", "k").values, { 1 })
    db:close()
    rmdir(dir)
  end)
end)
