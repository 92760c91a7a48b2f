-- lvv_sync_spec.lua - the Lua side of keyspace sync (digest, delta, apply,
-- reap) and of the per-key causal history.
local vv = require "vv"

local function values(db, ks, key)
  local r = db:get(ks, key)
  if not r then return nil end
  local t = {}
  for i, v in ipairs(r.values) do t[i] = v end
  table.sort(t, function(a, b) return tostring(a) < tostring(b) end)
  return t
end

-- b pulls from a: b's digest, a's delta, b applies it.
local function pull(b, a, ks)
  return b:apply(ks, a:delta(ks, b:digest(ks)))
end

describe("sync", function()
  it("brings a replica up to date and then sends nothing new", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    for i = 1, 30 do a:put("ks", "k" .. i, i) end
    local d = b:digest("ks")
    assert(type(d) == "string" and #d > 0)
    eq(pull(b, a, "ks"), 30)
    for i = 1, 30 do eq(b:get("ks", "k" .. i).value, i) end
    eq(pull(b, a, "ks"), 0, "nothing changed since")
    a:put("ks", "k3", "new", a:get("ks", "k3").context)
    local x = a:delta("ks", b:digest("ks"))
    eq(b:apply("ks", x), 1)
    eq(b:apply("ks", x), 0, "a duplicate changes nothing")
    eq(b:get("ks", "k3").value, "new")
  end)

  it("converges three replicas with concurrent writes", function()
    local dbs = { vv.open { node = "s0" }, vv.open { node = "s1" },
                  vv.open { node = "s2" } }
    for i, db in ipairs(dbs) do
      db:put("c", "shared", "from " .. i)
      db:put("c", "own" .. i, i)
    end
    for _ = 1, 2 do
      for i = 1, 3 do
        for j = 1, 3 do
          if i ~= j then pull(dbs[i], dbs[j], "c") end
        end
      end
    end
    for i = 1, 3 do
      eq(values(dbs[i], "c", "shared"), { "from 1", "from 2", "from 3" })
      for j = 1, 3 do eq(dbs[i]:get("c", "own" .. j).value, j) end
    end
  end)

  it("refuses corrupt or foreign messages and changes nothing", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    a:put("ks", "k", "a's")
    b:put("ks", "k", "b's")
    local x = a:delta("ks", b:digest("ks"))
    for i = 0, #x - 1 do
      raises("apply:", function() b:apply("ks", x:sub(1, i)) end)
    end
    local flip = x:sub(1, 10) .. string.char((x:byte(11) + 1) % 256)
                 .. x:sub(12)
    raises("apply:", function() b:apply("ks", flip) end)
    raises("apply:", function() b:apply("other", x) end)
    raises("delta:", function() a:delta("ks", "not a digest") end)
    raises("delta:", function() a:delta("ks", b:digest("other")) end)
    raises("bad argument #2 to 'apply' %(string expected, got nil%)",
           function() b:apply("ks", nil) end)
    eq(values(b, "ks", "k"), { "b's" })
    eq(b:apply("ks", x), 1)
    eq(values(b, "ks", "k"), { "a's", "b's" })
  end)

  it("reaps tombstones every replica has merged", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    a:put("ks", "gone", 1)
    a:put("ks", "kept", 2)
    pull(b, a, "ks")
    a:delete("ks", "gone", a:get("ks", "gone").context)
    pull(b, a, "ks")
    pull(a, b, "ks")
    eq(b:get("ks", "gone"), nil)
    local n = a:reap("ks", { b:digest("ks") })
    assert(type(n) == "number" and n <= 1)
    eq(a:get("ks", "gone"), nil, "still deleted")
    eq(a:get("ks", "kept").value, 2)
    -- a late delta from b does not bring the value back
    pull(a, b, "ks")
    eq(a:get("ks", "gone"), nil)
    raises("digest 1 is a number", function() a:reap("ks", { 5 }) end)
    raises("table expected", function() a:reap("ks", "x") end)
  end)
end)

describe("history", function()
  it("keeps the newest writes and merges of a key", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    a:keyspace("h", { history = 3 })
    eq(a:keyspace("h").history, 3)
    eq(a:history("h", "k"), {})
    a:put("h", "k", "v1")
    local r = a:get("h", "k")
    a:put("h", "k", "v2", r.context)
    local hs = a:history("h", "k")
    eq(#hs, 2)
    eq(hs[1].how, "write")
    eq(hs[1].value, "v1")
    eq(hs[2].value, "v2")
    eq(hs[2].node, "a")
    eq(hs[2].actor, a:actor())
    eq(hs[2].tombstone, false)
    eq(hs[2].preview, vv.encode("v2"))
    eq(hs[2].value_len, #vv.encode("v2"))
    eq(#hs[2].replaced, 1)
    eq(hs[2].replaced[1].counter, hs[1].counter)
    b:put("h", "k", "from b")
    a:merge("h", "k", b:export("h", "k"))
    hs = a:history("h", "k")
    eq(#hs, 3)
    eq(hs[3].how, "merge")
    eq(hs[3].node, "b")
    a:delete("h", "k", a:get("h", "k").context)
    hs = a:history("h", "k")
    eq(#hs, 3, "only the newest 3 stay")
    eq(hs[3].tombstone, true)
    eq(hs[3].value, nil)
  end)

  it("keeps none by default and refuses too long a history", function()
    local db = vv.open { node = "a" }
    db:put("plain", "k", 1)
    eq(db:history("plain", "k"), {})
    raises("keyspace:", function()
      db:keyspace("h", { history = 1000000 })
    end)
  end)
end)
