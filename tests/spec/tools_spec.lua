-- tools_spec.lua - seeing and trusting conflicts: vv.dot, vv.check_resolver,
-- vv.command, causal history and sibling limits (issue 8).
local vv = require "vv"

local SRC = debug.getinfo(1, "S").source:match("^@(.*)$") or ""
local ROOT = SRC:match("^(.*)/tests/spec/[^/]*$") or "."
local BAD = ROOT .. "/tests/bad_resolvers/"
local SCRIPTS = { "fields", "lww", "max", "priority", "union", "user",
  "counter", "set", "lww_register", "mv_register", "map" }
local HOST = HOST or _VERSION

-- has(text, s): text contains s literally.
local function has(text, s, what)
  if not text:find(s, 1, true) then
    error((what or "text") .. " lacks " .. string.format("%q", s)
      .. ":\n" .. text, 2)
  end
end

local function count(text, s)
  local n, i = 0, 1
  while true do
    local j = text:find(s, i, true)
    if not j then return n end
    n, i = n + 1, j + #s
  end
end

-- The DOT id of a dot: "actor:counter".
local function id(db, n) return '"' .. db:actor() .. ":" .. n .. '"' end

-- The edges of a DOT text as a set "from -> to".
local function edges(text)
  local set = {}
  for from, to in text:gmatch('\n  ("[^"]*") %-> ("[^"]*")') do
    set[from .. " -> " .. to] = true
  end
  return set
end

local function nedges(text)
  local n = 0
  for _ in pairs(edges(text)) do n = n + 1 end
  return n
end

describe("vv.dot", function()
  it("draws eggs, milk, bacon with replaced edges", function()
    local db = vv.open { node = "server" }
    db:keyspace("shopping", { history = 16 })
    local c1 = db:put("shopping", "cart", { "eggs" })
    db:put("shopping", "cart", { "milk" })
    db:put("shopping", "cart", { "eggs", "bacon" }, c1)
    local text = vv.dot(db, "shopping", "cart")
    has(text, "digraph vv {")
    for n = 1, 3 do has(text, "\n  " .. id(db, n) .. " [") end
    eq(nedges(text), 1)
    assert(edges(text)[id(db, 3) .. " -> " .. id(db, 1)])
    eq(count(text, "fillcolor=\"#ffe9a8\""), 2)      -- two siblings
    has(text, '[\\"eggs\\", \\"bacon\\"]')           -- value previews
    has(text, "2 siblings")
    local r = db:get("shopping", "cart")
    db:put("shopping", "cart", { "eggs", "bacon", "milk" }, r.context)
    text = vv.dot(db, "shopping", "cart")
    eq(nedges(text), 3)
    assert(edges(text)[id(db, 4) .. " -> " .. id(db, 2)])
    assert(edges(text)[id(db, 4) .. " -> " .. id(db, 3)])
    eq(count(text, "fillcolor=\"#ffe9a8\""), 1)
    db:close()
  end)

  it("draws three replicas: merges, a write-back, a tombstone", function()
    local s0, s1, s2 = vv.open { node = "s0" }, vv.open { node = "s1" },
      vv.open { node = "s2" }
    for _, db in ipairs { s0, s1, s2 } do db:keyspace("d", { history = 8 }) end
    s0:put("d", "k", 10)
    s1:put("d", "k", 20)
    s2:merge("d", "k", s0:export("d", "k"))
    s2:merge("d", "k", s1:export("d", "k"))
    local r = s2:get("d", "k")
    local ctx = s2:put("d", "k", 20, r.context)
    local text = vv.dot(s2, "d", "k")
    eq(count(text, "arrived by merge"), 2)
    eq(count(text, "written here"), 1)
    assert(edges(text)[id(s2, 1) .. " -> " .. id(s0, 1)])
    assert(edges(text)[id(s2, 1) .. " -> " .. id(s1, 1)])
    s0:merge("d", "k", s2:export("d", "k"))
    text = vv.dot(s0, "d", "k")
    has(text, "replaced (merge)")
    assert(edges(text)[id(s2, 1) .. " -> " .. id(s0, 1)])
    s2:delete("d", "k", ctx)
    text = vv.dot(s2, "d", "k")
    has(text, "tombstone\\n(deleted)")
    has(text, "0 siblings")
    for _, db in ipairs { s0, s1, s2 } do db:close() end
  end)

  it("shows the current versions when history is off", function()
    local db = vv.open { node = "s0" }
    db:put("plain", "k", "a")
    db:put("plain", "k", "b")
    local text = vv.dot(db, "plain", "k")
    has(text, "history off")
    eq(count(text, "fillcolor=\"#ffe9a8\""), 2)
    eq(nedges(text), 0)
    text = vv.dot(db, "plain", "nokey")
    has(text, "0 siblings")
    raises("keyspace name expected", vv.dot, db, 1, "k")
    raises("key expected", vv.dot, db, "plain")
    raises("store expected", vv.dot, {}, "plain", "k")
    db:close()
    raises("closed store", vv.dot, db, "plain", "k")
  end)

  it("keeps only the configured number of entries", function()
    local db = vv.open { node = "s0" }
    eq(db:keyspace("b", { history = 2 }).history, 2)
    local ctx
    for i = 1, 6 do ctx = db:put("b", "k", i, ctx) end
    eq(#db:history("b", "k"), 2)
    local text = vv.dot(db, "b", "k")
    -- kept: 5 and 6; 4 is known only as what 5 replaced
    has(text, "not in the kept history")
    eq(count(text, "written here"), 2)
    eq(nedges(text), 2)
    raises("history", db.keyspace, db, "b", { history = 100000 })
    db:close()
  end)

  it("escapes names and values for Graphviz", function()
    local db = vv.open { node = "s0" }
    db:keyspace("q\"s", { history = 4 })
    db:put("q\"s", "a\\b\n", "x\"y\0z\200")
    local text = vv.dot(db, "q\"s", "a\\b\n")
    has(text, 'x\\\\\\"y')           -- x\"y inside a DOT string
    has(text, "\\\\x00z")
    assert(not text:find("\0", 1, true) and not text:find("\200", 1, true))
    db:close()
  end)
end)

describe("vv.check_resolver", function()
  it("passes every shipped script", function()
    for _, name in ipairs(SCRIPTS) do
      local ok, rep = vv.check_resolver(ROOT .. "/scripts/" .. name .. ".lua",
        { cases = 15 })
      assert(ok, tostring(rep))
      eq(rep.ok, true)
      assert(rep.budget.instructions > 0, name)
      has(tostring(rep), "result: ok")
    end
  end)

  it("flags first-sibling-wins as order dependent", function()
    local ok, rep = vv.check_resolver(BAD .. "first.lua")
    eq(ok, false)
    assert(rep.problems.order, tostring(rep))
    eq(rep.problems.idempotence, nil)
    has(tostring(rep), "FAIL order")
    eq(#rep.problems.order.example, 2)              -- the two orders
  end)

  it("flags a summing counter as not idempotent", function()
    local ok, rep = vv.check_resolver(BAD .. "sum.lua")
    eq(ok, false)
    assert(rep.problems.idempotence, tostring(rep))
    eq(rep.problems.order, nil)
    has(tostring(rep), "FAIL idempotence")
  end)

  it("flags a pick that differs between sandboxes", function()
    if HOST == "lua5.1" then return end     -- 5.1 does not seed its hashes
    local ok, rep = vv.check_resolver(BAD .. "pick.lua")
    eq(ok, false)
    assert(rep.problems.determinism or rep.problems.replicas, tostring(rep))
  end)

  it("flags a host function with hidden state", function()
    local calls = 0
    local ok, rep = vv.check_resolver(function(siblings)
      calls = calls + 1
      return siblings[calls % #siblings + 1].value
    end, { cases = 10 })
    eq(ok, false)
    assert(rep.problems.determinism, tostring(rep))
    eq(rep.budget.instructions, nil)                  -- not measured
  end)

  it("flags budgets and unsupported values", function()
    local ok, rep = vv.check_resolver(BAD .. "loop.lua",
      { budget = { instructions = 20000 } })
    eq(ok, false)
    assert(rep.problems.budget, tostring(rep))
    eq(rep.budget.max_instructions, 20000)
    ok, rep = vv.check_resolver(BAD .. "badreturn.lua", { cases = 5 })
    eq(ok, false)
    assert(rep.problems.returns, tostring(rep))
    ok, rep = vv.check_resolver(BAD .. "missing.lua")
    eq(ok, false)
    assert(rep.problems.load, tostring(rep))
  end)

  it("checks the user's sample values", function()
    local max = ROOT .. "/scripts/max.lua"
    local ok, rep = vv.check_resolver(max, { samples = { 1, 5, 7.5, -3 },
      cases = 20 })
    assert(ok, tostring(rep))
    eq(rep.families, { "samples" })
    ok, rep = vv.check_resolver(max, { samples = { 1, "a" }, cases = 20 })
    eq(ok, false)
    assert(rep.problems.errors, tostring(rep))
    raises("unknown option 'bogus'", vv.check_resolver, max, { bogus = 1 })
    raises("sample 1 cannot be stored", vv.check_resolver, max,
      { samples = { print } })
    raises("script path or function expected", vv.check_resolver, 42)
    raises("option 'cases'", vv.check_resolver, max, { cases = 0 })
  end)
end)

describe("vv.command", function()
  it("shows siblings, keyspaces and stats as text", function()
    local db = vv.open { node = "s0" }
    db:keyspace("ks", { history = 3, warn_siblings = 7 })
    db:put("ks", "k", "apple")
    db:put("ks", "k", "pear")
    local out = vv.command(db, ":siblings ks k")
    has(out, '"k" in "ks": 2 siblings')
    has(out, '"apple"')
    has(out, '"pear"')
    has(out, "s0:1")
    has(out, "no single value")
    out = vv.command(db, "keyspaces")
    has(out, "ks")
    has(out, "7/100")
    out = vv.command(db, "stats ks")
    has(out, "keys 1")
    has(out, "2: 1")
    has(vv.command(db, "help"), ":dot KS KEY FILE")
    has(vv.command(db, 'siblings ks "no such"'), "not found")
    raises("unknown command ':nope'", vv.command, db, ":nope")
    raises("usage: :siblings", vv.command, db, ":siblings ks")
    local file = os.tmpname()
    has(vv.command(db, "dot ks k " .. file), "wrote " .. file)
    local f = assert(io.open(file))
    local text = f:read("*a")
    f:close()
    os.remove(file)
    eq(text, vv.dot(db, "ks", "k"))
    db:close()
  end)
end)

describe("sibling limits", function()
  it("warn and refuse at the configured counts, losing nothing", function()
    local db = vv.open { node = "s0" }
    local cfg = db:keyspace("lim", { warn_siblings = 3, max_siblings = 5 })
    eq(cfg.warn_siblings, 3)
    eq(cfg.max_siblings, 5)
    for i = 1, 3 do db:put("lim", "k", i) end
    eq(db:stats("lim").warnings, 0)                  -- 3 is not above 3
    db:put("lim", "k", 4)
    eq(db:stats("lim").warnings, 1)                  -- the first limit
    db:put("lim", "k", 5)
    raises("max_siblings 5", db.put, db, "lim", "k", 6)
    local r = db:get("lim", "k")
    eq(r.values, { 1, 2, 3, 4, 5 })                  -- none dropped
    local st = db:stats("lim")
    eq(st.max_siblings, 5)
    eq(st.siblings, { 0, 0, 0, 0, 1, 0, 0, 0 })      -- one key, 5-8
    eq(st.warnings, 2)
    eq(st.warned_keys, 1)                            -- one crossing, logged
    -- a merge is never refused: a sixth concurrent version still arrives
    local other = vv.open { node = "s1" }
    other:put("lim", "k", 6)
    db:merge("lim", "k", other:export("lim", "k"))
    eq(#db:get("lim", "k").values, 6)
    eq(db:stats("lim").warnings, 3)
    eq(db:stats("lim").warned_keys, 1)               -- it stayed over
    -- a write with the read's context collapses them
    db:put("lim", "k", 21, db:get("lim", "k").context)
    st = db:stats("lim")
    eq(st.siblings, { 1, 0, 0, 0, 0, 0, 0, 0 })
    eq(db:get("lim", "k").value, 21)
    other:close()
    db:close()
  end)
end)
