-- resolver_spec.lua - resolver scripts from Lua, on every host: the shipped
-- policies on real replica conflicts, and the sandbox holding against
-- hostile scripts (the C suite tests/test_resolver_*.c goes further).
local vv = require "vv"

local files = {}

-- Write a script file; returns its path (removed at the end).
local function script(text)
  local p = os.tmpname()
  local f = assert(io.open(p, "wb"))
  f:write(text)
  f:close()
  files[#files + 1] = p
  return p
end

-- Two replicas whose keyspace ks uses resolver.
local function replicas(ks, resolver)
  local a, b = vv.open { node = "s0" }, vv.open { node = "s1" }
  a:keyspace(ks, { resolver = resolver })
  b:keyspace(ks, { resolver = resolver })
  return a, b
end

-- a writes va, b writes vb concurrently; then they exchange states.
local function conflict(a, b, ks, key, va, vb)
  a:put(ks, key, va)
  b:put(ks, key, vb)
  b:merge(ks, key, a:export(ks, key))
  a:merge(ks, key, b:export(ks, key))
end

describe("resolver scripts", function()
  it("union.lua merges carts the same way on both replicas", function()
    local a, b = replicas("carts", "scripts/union.lua")
    conflict(a, b, "carts", "alice", { "milk", "eggs" }, { "eggs", "bread" })
    local ra, rb = a:get("carts", "alice"), b:get("carts", "alice")
    eq(ra.error, nil)
    eq(ra.value, { "bread", "eggs", "milk" })
    eq(rb.value, ra.value)
    eq(#ra.siblings, 2)
    a:close()
    b:close()
  end)

  it("max.lua, lww.lua and priority.lua pick their winner", function()
    local a, b = replicas("m", "scripts/max.lua")
    conflict(a, b, "m", "k", 41, 7)
    eq(a:get("m", "k").value, 41)
    for _, db in ipairs { a, b } do
      db:keyspace("l", { resolver = "scripts/lww.lua" })
      db:keyspace("p", { resolver = "scripts/priority.lua" })
    end
    conflict(a, b, "l", "k", "x", "y")
    eq(a:get("l", "k").value, b:get("l", "k").value)
    conflict(a, b, "p", "k", { priority = 9, t = "a" }, { priority = 1 })
    eq(a:get("p", "k").value, { priority = 9, t = "a" })
    eq(b:get("p", "k").value, { priority = 9, t = "a" })
  end)

  it("stops hostile scripts with r.error, siblings intact", function()
    local cases = {
      { "while true do end", "instruction budget exceeded" },
      { "while true do pcall(function() while true do end end) end",
        "instruction budget exceeded" },
      { "xpcall(function() while true do end end, " ..
        "function() while true do end end)", "instruction budget exceeded" },
      { "return string.rep('a', 20000):find('.-.-.-.-.-.-.-b')",
        "instruction budget exceeded" },
      { "local s = 'x' while true do s = s .. s end",
        "memory budget exceeded" },
      { "os.exit(3)", "unknown global 'os'" },
      { "return io.open('x', 'w')", "unknown global 'io'" },
      { "return require('os')", "unknown global 'require'" },
      { "leak = 1", "assignment to global 'leak'" },
      { "local t = {} t[1] = t return t", "cyclic table" },
      { "return function() end", "a function" },
      { "setmetatable({}, {__gc = function() end})", "__gc" },
    }
    local a, b = replicas("plain", "siblings")
    for i, c in ipairs(cases) do
      local ks = "h" .. i
      local path = script("return function(siblings, key)\n" .. c[1] ..
                          "\nend\n")
      a:keyspace(ks, { resolver = path })
      conflict(a, b, ks, "k", { "a" }, { "b" })
      local r = a:get(ks, "k")
      eq(r.value, nil, c[1])
      assert(r.error and r.error:find(c[2], 1, true),
             c[1] .. ": " .. tostring(r.error))
      assert(r.error:find("resolver for keyspace '" .. ks .. "'", 1, true))
      eq(#r.siblings, 2)
      -- the store still answers
      a:put(ks, "k", { "fixed" }, r.context)
      eq(a:get(ks, "k").value, { "fixed" })
    end
    a:close()
    b:close()
  end)

  it("keeps the old resolver when a new script fails to load", function()
    local a, b = replicas("m", "scripts/max.lua")
    conflict(a, b, "m", "k", 3, 5)
    raises("syntax error", function()
      a:keyspace("m", { resolver = script("return function(") })
    end)
    raises("instruction budget", function()
      a:keyspace("m", { resolver = script("while true do end") })
    end)
    raises("binary chunks", function()
      a:keyspace("m", { resolver = script(string.dump(function() end)) })
    end)
    eq(a:get("m", "k").value, 5)
    eq(a:keyspace("m").resolver, "scripts/max.lua")
  end)

  it("honours per-keyspace budgets", function()
    local path = script("return function() local n = 0 " ..
                        "for i = 1, 1e5 do n = n + 1 end return n end")
    local a, b = replicas("w", path)
    conflict(a, b, "w", "k", 1, 2)
    eq(a:get("w", "k").value, 100000)
    a:keyspace("w", { resolver = path, budget = { instructions = 1000 } })
    assert(a:get("w", "k").error:find("instruction budget exceeded (1000 ",
                                      1, true))
  end)
end)

for _, p in ipairs(files) do os.remove(p) end
