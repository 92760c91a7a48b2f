-- codec_spec.lua - how values are stored: MessagePack in one canonical
-- form (the same bytes on every host), raw strings, and refusals.
local vv = require "vv"

local INT = math.type ~= nil

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

describe("codec", function()
  it("writes the same bytes on every host", function()
    eq(hex(vv.encode(5)), "05")
    eq(hex(vv.encode(-1)), "ff")
    eq(hex(vv.encode(300)), "cd012c")
    eq(hex(vv.encode(-200)), "d1ff38")
    eq(hex(vv.encode(1099511627776)), "cf0000010000000000")
    eq(hex(vv.encode(0.5)), "cb3fe0000000000000")
    eq(hex(vv.encode(true)), "c3")
    eq(hex(vv.encode(false)), "c2")
    eq(hex(vv.encode("hi")), "a26869")
    eq(hex(vv.encode({})), "80")
    eq(hex(vv.encode({ 1, 2, 3 })), "93010203")
    eq(hex(vv.encode({ b = 1, a = 2 })), "82a16102a16201")
    eq(hex(vv.encode({ [1] = 1, [3] = 3 })), "8201010303")
    eq(hex(vv.encode({ items = { "apple" }, n = 1 })),
       "82a16e01a56974656d7391a56170706c65")
  end)

  it("gives equal tables equal bytes, whatever the insertion order", function()
    local a, b = {}, {}
    for i = 1, 100 do a["k" .. i] = { i, tostring(i) } end
    for i = 100, 1, -1 do b["k" .. i] = { i, tostring(i) } end
    a[2.5], b[2.5] = "f", "f"
    a[false], b[false] = 0, 0
    eq(vv.encode(a), vv.encode(b))
  end)

  it("gives random tables, built in any order, one form that reads back", function()
    local seed = tonumber(os.getenv("VV_SEED") or "") or 20261206
    math.randomseed(seed)
    local R = math.random
    -- a random value, and a plan to build it again in another order
    local function value(d)
      local c = R(10)
      if d > 3 or c <= 4 then
        local s = R(6)
        if s == 1 then return R(-300, 300) end
        if s == 2 then return R(0, 1000) / 8 end
        if s == 3 then return R(2) == 1 end
        return ("s"):rep(R(0, 40)) .. R(9)
      end
      local t, n = {}, R(0, 12)
      if c <= 7 then                    -- a sequence, or nearly one
        for i = 1, n do t[i] = value(d + 1) end
        local x = R(6)
        if x == 1 then t[n + 2] = value(d + 1)
        elseif x == 2 then t.x = value(d + 1)
        elseif x == 3 and n > 1 then t[R(n)] = nil end
      else
        for _ = 1, n do
          local k = R(3) == 1 and R(-5, 50) or "k" .. R(30)
          t[k] = value(d + 1)
        end
      end
      return t
    end
    -- the same table, its keys inserted in reverse order of traversal
    local function rebuild(v)
      if type(v) ~= "table" then return v end
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      local t = {}
      for i = #keys, 1, -1 do t[keys[i]] = rebuild(v[keys[i]]) end
      return t
    end
    local function is_seq(v)
      local n = 0
      for _ in pairs(v) do n = n + 1 end
      for i = 1, n do if v[i] == nil then return false end end
      return n > 0
    end
    for i = 1, 2000 do
      local v = value(0)
      local s = vv.encode(v)
      eq(vv.encode(rebuild(v)), s, "seed " .. seed .. ", value " .. i)
      eq(vv.decode(s), v, "seed " .. seed .. ", value " .. i)
      eq(vv.encode(vv.decode(s)), s, "seed " .. seed .. ", value " .. i)
      if type(v) == "table" then
        local b = s:byte(1)
        local array = (b >= 0x90 and b <= 0x9f) or b == 0xdc or b == 0xdd
        eq(array, is_seq(v), "an array exactly for a sequence: value " .. i)
      end
    end
  end)

  it("round-trips values", function()
    local vals = { true, false, 0, 1, -1, 255, -129, 65536, 2 ^ 31, -2 ^ 40,
                   0.25, -1.5e300, 1 / 0, -1 / 0, "", "text", "\0\1\255",
                   ("x"):rep(70000), {}, { 1, 2, 3 }, { a = { b = { c = "d" } } },
                   { [1] = "a", [5] = "e" }, { [true] = 1, [2.5] = "x" },
                   { nested = { { 1 }, { { 2 } } }, flag = false } }
    for i, v in ipairs(vals) do
      local s = vv.encode(v)
      local w = vv.decode(s)
      eq(w, v, "value " .. i)
      eq(vv.encode(w), s, "stable bytes of value " .. i)
    end
    local n = vv.decode(vv.encode(0 / 0))
    assert(n ~= n, "NaN survives")
  end)

  it("keeps integers integers and floats floats", function()
    if not INT then return end
    eq(math.type(vv.decode(vv.encode(3))), "integer")
    eq(math.type(vv.decode(vv.encode(3.0))), "float")
    eq(vv.decode(vv.encode(math.maxinteger)), math.maxinteger)
    eq(vv.decode(vv.encode(math.mininteger)), math.mininteger)
    eq(vv.decode(vv.encode({ n = 9007199254740993 })).n, 9007199254740993)
  end)

  it("refuses functions, userdata, threads, nil and cycles", function()
    raises("cannot encode a function", vv.encode, print)
    raises("cannot encode a userdata", vv.encode, io.stdout)
    raises("cannot encode a userdata", vv.encode, vv.clock())
    raises("cannot encode a thread", vv.encode,
           coroutine.create(function() end))
    raises("cannot encode nil", vv.encode, nil)
    raises("cannot encode a function %(at %.a%[2%]%)", vv.encode,
           { a = { 1, print } })
    raises("table key of type table", vv.encode, { [{}] = 1 })
    local t = { x = {} }
    t.x.back = t
    raises("cannot encode a cycle %(at %.x%.back%)", vv.encode, t)
    local shared = { 1 }
    eq(vv.decode(vv.encode({ shared, shared })), { { 1 }, { 1 } })
  end)

  it("writes a sequence as an array however the table was built", function()
    local want = vv.encode({ "a", "b", "c", "d" })
    eq(want, "\148\161a\161b\161c\161d")
    local rev = {}
    for i = 4, 1, -1 do rev[i] = ("abcd"):sub(i, i) end
    eq(vv.encode(rev), want)
    local filled = { "a", nil, nil, "d" }
    filled[3], filled[2] = "c", "b"
    eq(vv.encode(filled), want)
    local grown = { x = 1 }
    for i = 1, 4 do grown[i] = ("abcd"):sub(i, i) end
    grown.x = nil                           -- keys 1..4 left, some hashed
    eq(vv.encode(grown), want)
    -- not sequences: maps, ordered by their keys' bytes
    eq(vv.encode({ "a", nil, "c" }), "\130\1\161a\3\161c")
    eq(vv.encode({ [0] = 0, "a" }), "\130\0\0\1\161a")
    eq(vv.encode({ "a", x = 1 }), "\130\1\161a\161x\1")
    eq(vv.encode({ "a", [1.5] = 1 }), vv.encode({ [1.5] = 1, [1] = "a" }))
    eq(vv.encode({ [2] = "b" }), "\129\2\161b")
    eq(vv.encode({}), "\128")
    local big = {}
    for i = 1, 300 do big[i] = i end
    eq(vv.decode(vv.encode(big)), big)
    eq(vv.encode(big):sub(1, 3), "\220\1\44")  -- array 16, 300 items
  end)

  it("names the path to a value it refuses, through arrays and maps", function()
    raises("cannot encode a function %(at %[3%]%.x%[2%]%)", vv.encode,
           { 1, 2, { x = { 0, print } } })
    raises("cannot encode a thread %(at %.list%[2%]%[\"a b\"%]%)", vv.encode,
           { list = { 1, { ["a b"] = coroutine.create(function() end) } } })
    raises("table key of type function %(at %[1%]%)", vv.encode,
           { { [print] = 1 } })
    local t = { 1, {} }
    t[2][1] = t
    raises("cannot encode a cycle %(at %[2%]%[1%]%)", vv.encode, t)
    -- a refusal inside one value leaves no path behind for the next
    raises("cannot encode a function%)$", vv.encode, print)
  end)

  it("limits nesting to 64 levels", function()
    local v = "leaf"
    for _ = 1, 64 do v = { v } end
    eq(vv.decode(vv.encode(v)), v)
    raises("nested deeper than 64", vv.encode, { v })
  end)

  it("refuses corrupt bytes", function()
    raises("truncated", vv.decode, "")
    raises("truncated", vv.decode, "\146\1")
    raises("trailing", vv.decode, "\1\1")
    raises("reserved", vv.decode, "\193")
    raises("duplicate", vv.decode, "\130\1\1\1\2")
    local s = vv.encode({ a = { 1, 2, "three" }, b = 4.5 })
    for i = 0, #s - 1 do raises("bad msgpack", vv.decode, s:sub(1, i)) end
  end)

  it("stores raw strings untouched", function()
    local bytes = "\0\255 not msgpack \193"
    eq(vv.encode(bytes, "raw"), bytes)
    eq(vv.decode(bytes, "raw"), bytes)
    raises("strings only, got number", vv.encode, 5, "raw")
    raises("strings only, got table", vv.encode, {}, "raw")
    raises("unknown codec 'json'", vv.encode, 1, "json")
  end)
end)

describe("codec through a store", function()
  local db = vv.open { node = "c0" }
  db:keyspace("raw", { codec = "raw" })

  it("stores and reads back every kind of value", function()
    local vals = { true, 0, -7, 1.5, "s", { 1, { 2 } }, { k = { v = true } } }
    for i, v in ipairs(vals) do
      db:put("m", "k" .. i, v)
      eq(db:get("m", "k" .. i).value, v)
    end
    if INT then
      db:put("m", "int", 42)
      eq(math.type(db:get("m", "int").value), "integer")
      db:put("m", "flt", 42.0)
      eq(math.type(db:get("m", "flt").value), "float")
    end
  end)

  it("refuses unsupported values and leaves the key unchanged", function()
    db:put("m", "keep", "old")
    raises("bad argument #3 to 'put' %(cannot encode a function",
           function() db:put("m", "keep", print) end)
    raises("cannot encode a cycle", function()
      local t = {}
      t[1] = t
      db:put("m", "keep", t)
    end)
    raises("cannot encode nil", function() db:put("m", "keep", nil) end)
    raises("cannot encode a userdata", function()
      db:put("m", "keep", db)
    end)
    local r = db:get("m", "keep")
    eq(r.value, "old")
    eq(#r.siblings, 1)
  end)

  it("keeps raw keyspaces byte for byte", function()
    local bytes = "\0\1\2\255"
    db:put("raw", "b", bytes)
    eq(db:get("raw", "b").value, bytes)
    raises("strings only, got number", function() db:put("raw", "b", 1) end)
    eq(db:get("raw", "b").value, bytes)
  end)

  it("says so when stored bytes are not the keyspace's codec", function()
    db:put("raw", "x", "\193")
    db:keyspace("raw", { codec = "msgpack" })
    raises("codec cannot read", function() db:get("raw", "x") end)
    db:keyspace("raw", { codec = "raw" })
    eq(db:get("raw", "x").value, "\193")
  end)
end)
