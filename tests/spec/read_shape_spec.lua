-- read_shape_spec.lua - a read result looks and behaves like the
-- documented table, whichever way vv builds it (at once, or the parts a
-- read-modify-write does not use on first touch): field access, pairs,
-- length, nested siblings, the context clock, and a second look.
local vv = require "vv"

-- Every field pairs() shows, as a set of names.
local function fields(r)
  local seen = {}
  for k, v in pairs(r) do
    assert(type(k) == "string", "pairs gives a non-string key: " .. tostring(k))
    seen[k] = v
  end
  return seen
end

-- A store with key "one" (one sibling) and key "two" (two siblings).
local function fixture()
  local a, b = vv.open { node = "s0" }, vv.open { node = "s1" }
  a:put("ks", "one", { n = 1, tags = { "x", "y" } })
  a:put("ks", "two", "left")
  b:put("ks", "two", "right")
  a:merge("ks", "two", b:export("ks", "two"))
  return a, b
end

describe("a read of one sibling", function()
  it("has value, values, siblings and context through field access", function()
    local db = fixture()
    local r = db:get("ks", "one")
    eq(type(r), "table")
    eq(r.value.n, 1)
    eq(r.value.tags[2], "y")
    eq(#r.values, 1)
    eq(r.values[1], r.value)
    eq(#r.siblings, 1)
    local s = r.siblings[1]
    eq(s.value, r.value)
    eq(s.node, "s0")
    eq(s.actor, db:actor())
    eq(s.counter, 1)
    assert(type(s.timestamp) == "number" and s.timestamp > 0)
    eq(r.error, nil)
    eq(r.nothing, nil)
  end)

  it("shows exactly its fields to pairs, before and after they are touched", function()
    local db = fixture()
    local f = fields(db:get("ks", "one"))
    assert(f.value and f.values and f.siblings and f.context,
           "pairs misses a field")
    local n = 0
    for _ in pairs(f) do n = n + 1 end
    eq(n, 4)
    local r = db:get("ks", "one")
    local _ = r.siblings
    local g = fields(r)
    n = 0
    for _ in pairs(g) do n = n + 1 end
    eq(n, 4)
    eq(g.siblings, r.siblings)
  end)

  it("gives the same tables on a second look", function()
    local db = fixture()
    local r = db:get("ks", "one")
    assert(r.siblings == r.siblings and r.values == r.values)
    assert(r.context == r.context)
    eq(r.siblings[1].value, r.values[1])
  end)

  it("has a context clock that prints, compares and writes", function()
    local db = fixture()
    local r = db:get("ks", "one")
    eq(tostring(r.context), "{" .. db:actor() .. ":1}")
    eq(getmetatable(r.context).__name, "vv.clock")
    assert(r.context == vv.clock { [db:actor()] = 1 })
    assert(r.context <= vv.clock { [db:actor()] = 1 })
    local c = db:put("ks", "one", "new", r.context)
    assert(r.context < c)
    eq(#db:get("ks", "one").siblings, 1)
    eq(db:get("ks", "one").value, "new")
  end)

  it("keeps its context when the clock is changed in place later", function()
    local db = fixture()
    local r = db:get("ks", "one")
    local c = r.context
    c:tick("zz"):tick("zy"):tick("zx"):tick("zw"):tick("zv")
    eq(c:size(), 6)
    eq(c:get(db:actor()), 1)
    eq(#r.siblings, 1)                 -- still built from the read
    eq(r.siblings[1].counter, 1)
  end)

  it("is independent of the next read of the same store", function()
    local db = fixture()
    local r1 = db:get("ks", "one")
    local r2 = db:get("ks", "two")
    eq(#r1.siblings, 1)
    eq(#r2.siblings, 2)
    eq(r1.value.n, 1)
  end)

  it("is an ordinary table to the user: fields can be set and added", function()
    local db = fixture()
    local r = db:get("ks", "one")
    r.mine = true
    r.value = "changed"
    eq(r.mine, true)
    eq(r.value, "changed")
    eq(#r.siblings, 1)
  end)
end)

describe("a read of several siblings", function()
  it("has the same shape", function()
    local db = fixture()
    local r = db:get("ks", "two")
    eq(r.value, nil)
    eq(#r.values, 2)
    eq(#r.siblings, 2)
    local f = fields(r)
    assert(f.values and f.siblings and f.context)
    eq(r.siblings[1].value, r.values[1])
    assert(tostring(r.context):match("^{s0%.[a-z2-7]+:2, s1%.[a-z2-7]+:1}$"),
           tostring(r.context))
  end)
end)
