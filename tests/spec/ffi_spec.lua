-- ffi_spec.lua - on LuaJIT the hot calls go through ffi (unless VV_FFI=0)
-- and must give exactly what the C API functions give: the same bytes
-- for every value written, the same values read, the same error messages
-- to the letter, objects kept alive while the collector runs, and loops
-- that compile without a trace abort in vv.  Every check but the last
-- runs on every host, so each path is held to the same expectations.
local vv = require "vv"
local INT = math.type ~= nil
local SRC = debug.getinfo(1, "S").short_src

-- exactly(text, f): f, written on one line, raises text with the
-- position of that line (as an error raised by C names its caller).
local function exactly(text, f)
  local line = debug.getinfo(f, "S").linedefined
  local ok, e = pcall(f)
  assert(not ok, "no error, expected: " .. text)
  eq(e, SRC .. ":" .. line .. ": " .. text)
end

-- bare(text, f): f raises text, with no position added.
local function bare(text, f)
  local ok, e = pcall(f)
  assert(not ok, "no error, expected: " .. text)
  eq(e, text)
end

-- Are a and b the same value: same type, same number subtype, the same
-- number (NaN equals NaN, -0.0 differs from 0.0), equal strings?
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "number" then return a == b end
  if INT and math.type(a) ~= math.type(b) then return false end
  if a ~= a then return b ~= b end
  if a == 0 and b == 0 then return 1 / a == 1 / b end
  return a == b
end

-- The scalars to try: every msgpack form's edges, then random ones.
local function scalars()
  local t = { true, false, 0, -0.0, 1, -1, 31, 32, 127, 128, -31, -32, -33,
    255, 256, -127, -128, -129, 65535, 65536, -32767, -32768, -32769,
    2^31 - 1, 2^31, -2^31 + 1, -2^31, -2^31 - 1, 2^32 - 1, 2^32, -2^32,
    2^53 - 1, 2^53, -2^53, 2^53 + 2, -(2^53 + 2), 2^63, -2^63, 2^64, 2^70,
    1.5, -1.5, 0.1, 1e300, -1e-300, 5e-324, math.huge, -math.huge, 0 / 0,
    "", "a", ("b"):rep(31), ("c"):rep(32), ("d"):rep(255), ("e"):rep(256),
    ("f"):rep(65535), ("g"):rep(65536), "\0\255\128", string.char(0xc1) }
  if INT then
    for _, x in ipairs { math.maxinteger, math.mininteger, 2.0, -0.5, 3 } do
      t[#t + 1] = x
    end
    t[#t + 1] = math.tointeger(2^53)
    t[#t + 1] = math.tointeger(-2^40)
  end
  local seed = 17
  local function rnd(n)                   -- a small LCG: same on every host
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  end
  for _ = 1, 300 do
    local kind = rnd(4)
    local mag = 2 ^ rnd(60)
    if kind == 0 then
      t[#t + 1] = (rnd(2) == 0 and 1 or -1) * math.floor(mag + rnd(1000))
    elseif kind == 1 then
      t[#t + 1] = (rnd(2) == 0 and 1 or -1) * mag / (rnd(999) + 1.5)
    else
      local b = {}
      for i = 1, rnd(kind == 2 and 40 or 300) do
        b[i] = string.char(rnd(256))
      end
      t[#t + 1] = table.concat(b)
    end
  end
  return t
end

-- The bytes keyspace ks of db holds under key: flip the codec to raw for
-- one read, then back.
local function stored(db, ks, key)
  db:keyspace(ks, { codec = "raw" })
  local b = db:get(ks, key).value
  db:keyspace(ks, {})
  return b
end

describe("the path the hot calls take", function()
  it("is ffi on LuaJIT unless VV_FFI=0, the C API elsewhere", function()
    local want = rawget(_G, "jit") ~= nil and os.getenv("VV_FFI") ~= "0"
                 or nil
    eq(vv._ffi, want)
  end)
end)

describe("values through the hot calls", function()
  it("are written as the C codec writes them, by every write", function()
    local db = vv.open { node = "s0" }
    local h = db:keyspace_handle("m")
    for i, v in ipairs(scalars()) do
      local want = vv.encode(v)
      local k = "k" .. i
      db:put("m", k, v)
      eq(stored(db, "m", k), want, "put " .. tostring(v))
      db:update("m", k, function() return v end)
      eq(stored(db, "m", k), want, "update " .. tostring(v))
      h:put(k, v, db:get("m", k).context)
      eq(stored(db, "m", k), want, "handle put " .. tostring(v))
      h:update(k, function() return v end)
      eq(stored(db, "m", k), want, "handle update " .. tostring(v))
      local st = db:put_state("m", k, nil, v)
      db:keyspace("m", { codec = "raw" })
      eq(db:get_state("m", st).value, want, "put_state " .. tostring(v))
      db:keyspace("m", {})
    end
  end)

  it("are read as the C codec reads them, by every read", function()
    local db = vv.open { node = "s0" }
    local h = db:keyspace_handle("m")
    for i, v in ipairs(scalars()) do
      local bytes, k = vv.encode(v), "k" .. i
      local want = vv.decode(bytes)
      db:keyspace("m", { codec = "raw" })
      db:put("m", k, bytes)
      db:keyspace("m", {})
      local r = db:get("m", k)
      assert(same(r.value, want), "get " .. tostring(v))
      assert(same(r.values[1], want) and same(r.siblings[1].value, want))
      assert(same(h:get(k).value, want), "handle get " .. tostring(v))
      assert(same(db:get_state("m", db:export("m", k)).value, want),
             "get_state " .. tostring(v))
      local seen
      db:update("m", k, function(x) seen = x end)
      assert(same(seen, want), "update " .. tostring(v))
    end
  end)

  it("keeps a raw keyspace's bytes as they are", function()
    local db = vv.open { node = "s0" }
    db:keyspace("r", { codec = "raw" })
    for i, v in ipairs(scalars()) do
      if type(v) == "string" then
        db:put("r", "k" .. i, v)
        eq(db:get("r", "k" .. i).value, v)
        eq(db:update("r", "k" .. i, function(x) return x .. "!" end), v .. "!")
        eq(db:get("r", "k" .. i).value, v .. "!")
      end
    end
  end)

  it("give tables and several siblings as the C API builds them", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    a:put("ks", "t", { 1, { x = "y" }, n = 2.5 })
    eq(a:get("ks", "t").value, { 1, { x = "y" }, n = 2.5 })
    eq(a:update("ks", "t", function(t) t.n = 3; return t end).n, 3)
    eq(a:get("ks", "t").values, { { 1, { x = "y" }, n = 3 } })
    a:put("ks", "two", "left")
    b:put("ks", "two", "right")
    a:merge("ks", "two", b:export("ks", "two"))
    local r = a:get("ks", "two")
    eq(#r.siblings, 2)
    eq(r.value, nil)
    eq(a:update("ks", "two", function(v) eq(v, nil); return "both" end),
       "both")
    eq(a:get("ks", "two").values, { "both" })
  end)
end)

describe("the hot calls' errors", function()
  it("read to the letter what the C API raises", function()
    local db = vv.open { node = "s0" }
    local big = ("k"):rep(100000)
    db:put("ks", "k", "v")
    db:keyspace("raw", { codec = "raw" })
    db:keyspace("bad", { codec = "raw" })
    db:put("bad", "k", string.char(0xa5) .. "ab")  -- a truncated msgpack str
    db:keyspace("bad", {})
    local st = db:export("ks", "k")
    local h = db:keyspace_handle("ks")
    exactly("bad argument #2 to 'put' (string expected, got number)",
      function() db:put("ks", 1, "v") end)
    exactly("bad argument #1 to 'put' (string expected, got nil)",
      function() db:put(nil, "k", "v") end)
    exactly("bad argument #3 to 'put' (value expected)",
      function() db:put("ks", "k") end)
    exactly("bad argument #3 to 'put' (cannot encode nil (a value is " ..
      "required))",
      function() db:put("ks", "k", nil) end)
    exactly("bad argument #4 to 'put' (clock expected, got string)",
      function() db:put("ks", "k", 1, "{}") end)
    exactly("bad argument #4 to 'put' (clock expected, got vv.store)",
      function() db:put("ks", "k", 1, db) end)
    exactly("bad argument #3 to 'put' (cannot encode a function (at .f))",
      function() db:put("ks", "k", { f = print }) end)
    exactly("bad argument #4 to 'put_state' (cannot encode a function " ..
      "(at .f[2]))",
      function() db:put_state("ks", "k", nil, { f = { 1, print } }) end)
    exactly("bad argument #4 to 'put_state' (the raw codec stores strings " ..
      "only, got table)",
      function() db:put_state("raw", "k", nil, { 1 }) end)
    exactly("bad argument #2 to 'put' (cannot encode a function (at [1]))",
      function() h:put("k", { print }) end)
    exactly("bad argument #1 to 'put' (keyspace name contains a NUL byte)",
      function() db:put("a\0b", "k", 1) end)
    exactly("bad argument #3 to 'put' (the raw codec stores strings only, " ..
      "got number)",
      function() db:put("raw", "k", 1) end)
    exactly("put: key is 100000 bytes; the limit is 400",
      function() db:put("ks", big, 1) end)
    exactly("bad argument #1 to 'put' (store expected, got table)",
      function() db.put({}, "ks", "k", 1) end)
    exactly("bad argument #2 to 'get' (string expected, got no value)",
      function() db:get("ks") end)
    exactly("get: key is 100000 bytes; the limit is 400",
      function() db:get("ks", big) end)
    exactly("get: keyspace 'bad' holds a value its codec cannot read (bad " ..
      "msgpack value: truncated string); open it with codec = " ..
      "\"raw\" to see the bytes",
      function() db:get("bad", "k") end)
    exactly("bad argument #3 to 'delete' (clock expected, got number)",
      function() db:delete("ks", "k", 1) end)
    exactly("bad argument #3 to 'update' (function expected, got no value)",
      function() db:update("ks", "k") end)
    local function fn_print() return print end
    local function fn_true() return true end
    local function fn_one() return 1 end
    local function fn_boom() error("boom", 2) end
    local function fn_inside() error("inside") end
    local inside = debug.getinfo(fn_inside, "S").linedefined
    exactly("update: the function's result cannot be stored: cannot " ..
      "encode a function",
      function() db:update("ks", "k", fn_print) end)
    exactly("update: the function's result cannot be stored: the raw " ..
      "codec stores strings only, got boolean",
      function() db:update("raw", "k", fn_true) end)
    exactly("update: keyspace 'bad' holds a value its codec cannot read " ..
      "(bad msgpack value: truncated string)",
      function() db:update("bad", "k", fn_one) end)
    bare("boom", function() db:update("ks", "k", fn_boom) end)
    bare("boom", function() h:update("k", fn_boom) end)
    bare(SRC .. ":" .. inside .. ": inside",
      function() db:update("ks", "k", fn_inside) end)
    local t = {}
    eq(select(2, pcall(db.update, db, "ks", "k", function() error(t) end)), t)
    exactly("bad argument #2 to 'export' (string expected, got number)",
      function() db:export("ks", 5) end)
    exactly("bad argument #3 to 'merge' (string expected, got nil)",
      function() db:merge("ks", "k", nil) end)
    exactly("merge: state is corrupt or truncated",
      function() db:merge("ks", "k", "junk") end)
    exactly("bad argument #3 to 'put_state' (string expected, got number)",
      function() db:put_state("ks", "k", 5, 1) end)
    exactly("bad argument #4 to 'put_state' (value expected)",
      function() db:put_state("ks", "k", st) end)
    exactly("put_state: state is corrupt or truncated",
      function() db:put_state("ks", "k", "junk", 1) end)
    exactly("bad argument #4 to 'delete_state' (clock expected, got table)",
      function() db:delete_state("ks", "k", st, {}) end)
    exactly("bad argument #2 to 'get_state' (string expected, got nil)",
      function() db:get_state("ks", nil) end)
    exactly("merge_states: state is corrupt or truncated",
      function() vv.merge_states(st, "junk") end)
    exactly("bad argument #1 to 'state_key' (string expected, got number)",
      function() vv.state_key(5) end)
    exactly("bad argument #1 to 'get' (string expected, got number)",
      function() h:get(1) end)
    exactly("bad argument #2 to 'put' (value expected)",
      function() h:put("k") end)
    local function fn_thread() return coroutine.create(fn_one) end
    exactly("update: the function's result cannot be stored: cannot " ..
      "encode a thread",
      function() h:update("k", fn_thread) end)
    local k, why = vv.state_key("junk")
    eq(k, nil)
    eq(why, "state is corrupt or truncated")
    db:close()
    exactly("attempt to use a closed store", function() db:get("ks", "k") end)
    exactly("attempt to use a closed store",
      function() db:put("ks", "k", 1) end)
    exactly("attempt to use a closed store",
      function() h:update("k", print) end)
  end)

  it("leave the store as it was", function()
    local db = vv.open { node = "s0" }
    db:keyspace("lim", { max_siblings = 2 })
    db:put("lim", "k", 1)
    db:put("lim", "k", 2)
    local before = db:export("lim", "k")
    raises("put: ", function() db:put("lim", "k", 3) end)
    raises("put_state: ", function() db:put_state("lim", "k", before, 3) end)
    eq(db:export("lim", "k"), before)
  end)
end)

describe("objects the hot calls work on", function()
  it("stay alive while the collector runs", function()
    local pause = collectgarbage("setpause", 10)
    for i = 1, 300 do
      local h = vv.open { node = "t" .. i }:keyspace_handle("ks")
      h:put("k", i)
      local got = h:update("k", function(v)
        collectgarbage()
        collectgarbage()
        return v + 1
      end)
      eq(got, i + 1)
      collectgarbage()
      eq(h:get("k").value, i + 1)
      local db = vv.open { node = "u" .. i }
      db:put("ks", "k", "x")
      for _ = 1, 5 do
        db:put("ks", "k", "y", db:get("ks", "k").context)
      end
      eq(db:get("ks", "k").values, { "y" })
    end
    collectgarbage("setpause", pause)
  end)

  it("give clocks that outgrow their userdata a collector of their own",
     function()
    local db = vv.open { node = "s0" }
    local names = {}
    for i = 1, 6 do
      local node = ("n%d-with-a-very-long-node-name"):format(i)
      local other = vv.open { node = node }
      other:put("ks", "k", i)
      db:merge("ks", "k", other:export("ks", "k"))
      names[i] = other:actor()
    end
    local r = db:get("ks", "k")
    eq(r.context:size(), 6)
    local c = db:put("ks", "k", "all", r.context)
    eq(c:size(), 7)
    for _, n in ipairs(names) do eq(c:get(n), 1) end
    eq(db:get("ks", "k").values, { "all" })
    eq(db:update("ks", "k", function(v) return v .. "!" end), "all!")
    local st, sc = db:put_state("ks", "k", db:export("ks", "k"), "s",
                                db:get("ks", "k").context)
    eq(sc:size(), 7)
    eq(db:get_state("ks", st).value, "s")
    collectgarbage()
  end)

  it("survive updates inside updates", function()
    local db = vv.open { node = "s0" }
    db:put("ks", "a", 1)
    db:put("ks", "b", 10)
    local r = db:update("ks", "a", function(v)
      db:update("ks", "b", function(w)
        db:update("ks", "a", function(x) return x + 100 end)
        return w + 1
      end)
      return v + 1
    end)
    eq(r, 2)
    eq(db:get("ks", "b").value, 11)
    local ra = db:get("ks", "a")
    table.sort(ra.values)
    eq(ra.values, { 2, 101 })                 -- the inner write stays
  end)
end)

describe("a loop of the hot calls on LuaJIT", function()
  it("compiles without a trace abort inside vv", function()
    if not vv._ffi then return end
    local jutil, vmdef = require "jit.util", require "jit.vmdef"
    local aborts = {}
    local function trace(what, _, func, pc, otr, oex)
      if what ~= "abort" then return end
      local info = jutil.funcinfo(func, pc)
      local src = tostring(info.source)
      -- a trace that runs on into this loop and unrolls it is about this
      -- loop's shape, not about vv (the JIT tries again elsewhere)
      if vmdef.traceerr[otr] == "loop unroll limit reached" then return end
      if src:find("vvffi", 1, true) then
        local why = vmdef.traceerr[otr] or tostring(otr)
        if type(oex) == "number" and why:find("%%d") then
          why = why:format(oex)
        elseif why:find("%%s") then
          why = why:format(tostring(oex))
        end
        aborts[#aborts + 1] = src .. ":" .. tostring(info.currentline)
          .. ": " .. why
      end
    end
    local db = vv.open { node = "s0" }
    local h = db:keyspace_handle("h")
    local function incr(v) return (v or 0) + 1 end
    jit.flush()
    jit.attach(trace, "trace")
    for i = 1, 3000 do
      local k = "k" .. (i % 50)
      local r = db:get("ks", k)
      db:put("ks", k, r and r.value + 1 or 1, r and r.context)
      db:update("ks", k, incr)
      h:put(k, "v", h:get(k) and h:get(k).context)
      h:update(k, function(v) return v .. "" end)
      local st = db:export("ks", k)
      db:merge("m", k, st)
      local s2 = db:put_state("ks", k, st, i, db:get_state("ks", st).context)
      eq(vv.state_key(s2), k)
      st = vv.merge_states(st, s2)
      eq(db:get_state("ks", st).value, i)
      db:delete("d", k, db:put("d", k, true))
    end
    jit.attach(trace)
    eq(#aborts, 0, "trace aborts: " .. table.concat(aborts, "; "))
  end)
end)
