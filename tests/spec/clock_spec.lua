-- clock_spec.lua - vv.clock: construction, operations, order, text and
-- binary forms, and every kind of bad input.
local vv = require "vv"

local INT = math.type ~= nil -- the host has integers (5.3+)

describe("vv.clock", function()
  it("starts empty", function()
    local c = vv.clock()
    eq(tostring(c), "{}")
    eq(c:get("s0"), 0)
    eq(#c, 0)
    eq(c:size(), 0)
    eq(c:totable(), {})
    assert(#c:encode() >= 1, "even the empty clock encodes to a byte")
  end)

  it("is built from a table and reads back", function()
    local c = vv.clock { s0 = 1, s1 = 2 }
    eq(c:get("s0"), 1)
    eq(c:get("s1"), 2)
    eq(c:get("s2"), 0)
    eq(c:totable(), { s0 = 1, s1 = 2 })
    eq(tostring(c), "{s0:1, s1:2}")
    if INT then eq(math.type(c:get("s0")), "integer") end
  end)

  it("drops zero counters", function()
    eq(tostring(vv.clock { a = 0, b = 3 }), "{b:3}")
    eq(vv.clock { a = 0 }:size(), 0)
  end)

  it("accepts whole floats as counters", function()
    eq(vv.clock { a = 2.0 }:get("a"), 2)
  end)

  it("is built from its text form", function()
    local c = vv.clock "{s0:1, s1:2}"
    eq(c:totable(), { s0 = 1, s1 = 2 })
    eq(tostring(vv.clock "{}"), "{}")
    eq(tostring(vv.clock "{ b:1 ,a:2 }"), "{a:2, b:1}")
  end)

  it("prints nodes in bytewise order", function()
    local c = vv.clock { b = 1, a = 2, B = 3, ["a.x"] = 4, aa = 5 }
    eq(tostring(c), "{B:3, a:2, a.x:4, aa:5, b:1}")
  end)

  it("round-trips text with unusual node names", function()
    local c = vv.clock { ["has space"] = 1, ['q"uote'] = 2, ["\0\255"] = 3,
                         plain = 4 }
    local d = vv.clock(tostring(c))
    assert(c == d, tostring(c) .. " vs " .. tostring(d))
    eq(d:get("\0\255"), 3)
  end)

  it("copies a clock given to vv.clock", function()
    local c = vv.clock { a = 1 }
    local d = vv.clock(c)
    d:tick("a")
    eq(c:get("a"), 1)
    eq(d:get("a"), 2)
  end)

  it("ticks in place and returns itself", function()
    local c = vv.clock()
    local r = c:tick("s0")
    assert(rawequal(r, c))
    c:tick("s0"):tick("s1")
    eq(c:totable(), { s0 = 2, s1 = 1 })
  end)

  it("sets counters", function()
    local c = vv.clock { a = 5 }
    assert(rawequal(c:set("a", 9), c))
    eq(c:get("a"), 9)
    c:set("a", 0)
    eq(tostring(c), "{}")
    raises("non%-negative integer", c.set, c, "a", -1)
    raises("non%-negative integer", c.set, c, "a", 0.5)
  end)

  it("merges to the pointwise maximum, in place", function()
    local a = vv.clock { x = 1, y = 5 }
    local b = vv.clock { y = 2, z = 7 }
    assert(rawequal(a:merge(b), a))
    eq(a:totable(), { x = 1, y = 5, z = 7 })
    eq(b:totable(), { y = 2, z = 7 }, "the argument is unchanged")
    a:merge(vv.clock())
    eq(a:totable(), { x = 1, y = 5, z = 7 })
  end)

  it("copies independently", function()
    local a = vv.clock { x = 1 }
    local b = a:copy()
    b:tick("x"):tick("y")
    eq(a:totable(), { x = 1 })
    eq(b:totable(), { x = 2, y = 1 })
  end)

  it("encodes and decodes", function()
    for _, t in ipairs { {}, { a = 1 }, { s0 = 1, s1 = 2 },
                         { n = 300, m = 70000, ["\1"] = 1 } } do
      local c = vv.clock(t)
      local bin = c:encode()
      assert(type(bin) == "string" and #bin >= 1)
      local d = vv.decode_clock(bin)
      assert(c == d)
      eq(d:totable(), t)
    end
  end)

  it("compares causally", function()
    local a = vv.clock { s0 = 1 }
    local b = vv.clock { s0 = 2 }
    local c = vv.clock { s1 = 1 }
    local a2 = vv.clock { s0 = 1 }
    eq(vv.compare(a, a2), "equal")
    eq(vv.compare(a, b), "before")
    eq(vv.compare(b, a), "after")
    eq(vv.compare(a, c), "concurrent")
    eq(a:compare(b), "before")
    eq(vv.compare(vv.clock(), vv.clock()), "equal")
    eq(vv.compare(vv.clock(), a), "before")
  end)

  it("has ==, < and <=", function()
    local a = vv.clock { s0 = 1 }
    local b = vv.clock { s0 = 2, s1 = 1 }
    local c = vv.clock { s1 = 1 }
    assert(a == vv.clock { s0 = 1 })
    assert(a ~= b)
    assert(a < b and a <= b)
    assert(not (b < a) and not (b <= a))
    assert(b > a and b >= a)
    assert(a <= vv.clock { s0 = 1 } and not (a < vv.clock { s0 = 1 }))
    -- concurrent: false both ways
    assert(not (a < c) and not (c < a))
    assert(not (a <= c) and not (c <= a))
    assert(a ~= c)
  end)

  it("is never equal to a non-clock", function()
    local a = vv.clock()
    assert(a ~= "{}")
    assert(a ~= {})
    assert(a ~= nil)
  end)

  it("keeps counters up to 2^64-1", function()
    local c = vv.clock "{a:18446744073709551615}"
    eq(tostring(c), "{a:18446744073709551615}")
    assert(c:get("a") >= 2 ^ 63)
    raises("overflow", c.tick, c, "a")
    eq(tostring(c), "{a:18446744073709551615}", "unchanged after the error")
    if INT then
      local d = vv.clock { a = math.maxinteger }
      eq(d:get("a"), math.maxinteger)
      eq(math.type(d:get("a")), "integer")
    end
  end)

  it("collects garbage", function()
    for i = 1, 2000 do vv.clock({ n = i }):tick("m") end
    collectgarbage()
    collectgarbage()
  end)
end)

describe("vv.clock bad input", function()
  it("refuses malformed text", function()
    for _, s in ipairs { "", "{", "}", "s0:1", "{s0:}", "{:1}", "{s0 1}",
                         "{s0:1,}", "{s0:1 s1:2}", "{s0:1}x", "{s0:0x10}",
                         "{s0:1.5}", "{s0:1e3}", "{s0:abc}", "[s0:1]" } do
      raises("clock", vv.clock, s)
    end
  end)

  it("refuses negative counters in text", function()
    raises("clock", vv.clock, "{s0:-1}")
  end)

  it("refuses duplicate nodes in text", function()
    raises("clock", vv.clock, "{a:1, a:2}")
  end)

  it("refuses counters that overflow 64 bits", function()
    raises("overflow", vv.clock, "{a:18446744073709551616}")
    raises("overflow", vv.clock, "{a:99999999999999999999999}")
    raises("overflow", vv.clock, { a = 2 ^ 64 })
    raises("overflow", vv.clock, { a = 1 / 0 })
  end)

  it("refuses negative and fractional counters in tables", function()
    raises("non%-negative integer", vv.clock, { a = -1 })
    raises("non%-negative integer", vv.clock, { a = 1.5 })
    raises("non%-negative integer", vv.clock, { a = 0 / 0 })
    raises("non%-negative integer", vv.clock, { a = "1" })
    raises("non%-negative integer", vv.clock, { a = true })
  end)

  it("refuses non-string node names", function()
    raises("node names must be strings, got number", vv.clock, { 1 })
    raises("node names must be strings, got boolean", vv.clock,
           { [true] = 1 })
    raises("string expected, got number", vv.clock().get, vv.clock(), 1)
    raises("string expected, got nil", vv.clock().tick, vv.clock(), nil)
  end)

  it("refuses empty and over-long node names", function()
    raises("invalid node name", vv.clock, { [""] = 1 })
    raises("invalid node name", vv.clock, { [("n"):rep(256)] = 1 })
    raises("invalid node name", vv.clock().tick, vv.clock(), "")
    eq(vv.clock { [("n"):rep(255)] = 1 }:size(), 1)
  end)

  it("refuses bad constructor arguments", function()
    raises("bad argument #1 to '[%w.]*clock' %(table, string or clock "
           .. "expected, got boolean%)", function() local c = vv.clock(true); return c end)
    raises("table, string or clock expected, got number", vv.clock, 5)
  end)

  it("refuses non-clock arguments", function()
    local c = vv.clock()
    raises("clock expected, got string", c.merge, c, "{}")
    raises("clock expected, got table", vv.compare, c, {})
    raises("clock expected, got no value", vv.compare, c)
    raises("clock expected, got nil", c.get, nil, "a")
    raises("clock expected", vv.compare, io.stdout, c)
    if INT then -- 5.1 compares only values of one type through __lt
      raises("clock expected", function() return c < 1 end)
    end
  end)

  it("refuses truncated or corrupt binary", function()
    local bin = vv.clock { s0 = 1, s1 = 300 }:encode()
    for i = 0, #bin - 1 do
      raises("decode_clock", vv.decode_clock, bin:sub(1, i))
    end
    raises("decode_clock", vv.decode_clock, bin .. "\0")
    raises("decode_clock", vv.decode_clock, "\255\1\1a\1")
    raises("string expected, got number", vv.decode_clock, 5)
    -- random bytes: an error or a clock, never a crash
    math.randomseed(11)
    for _ = 1, 2000 do
      local t = {}
      for i = 1, math.random(0, 12) do t[i] = string.char(math.random(0, 255)) end
      local ok, c = pcall(vv.decode_clock, table.concat(t))
      if ok then assert(vv.decode_clock(c:encode()) == c) end
    end
  end)
end)
