-- handle_spec.lua - keyspace handles: db:keyspace_handle(name) gives the
-- store's reads and writes on one keyspace, with the same results and
-- errors as the store's own methods, and keeps its store alive.
local vv = require "vv"

-- The values of a read, sorted, for order-free comparison.
local function sorted(r)
  local t = {}
  for i, v in ipairs(r.values) do t[i] = v end
  table.sort(t, function(a, b) return tostring(a) < tostring(b) end)
  return t
end

describe("a keyspace handle", function()
  it("reads and writes what the store's methods read and write", function()
    local db = vv.open { node = "s0" }
    local h = db:keyspace_handle("carts")
    eq(h:name(), "carts")
    eq(tostring(h), "vv.keyspace_handle (carts)")
    eq(h:get("alice"), nil)
    local c = h:put("alice", { "apple" })
    assert(c == db:get("carts", "alice").context)
    local r = h:get("alice")
    eq(r.value, { "apple" })
    eq(#r.siblings, 1)
    eq(r.siblings[1].actor, db:actor())
    db:put("carts", "alice", { "pear" }, r.context)
    eq(h:get("alice").value, { "pear" })
    eq(h:update("n", function(v) return (v or 0) + 1 end), 1)
    eq(h:update("n", function(v) return v + 1 end), 2)
    eq(db:get("carts", "n").value, 2)
    eq(h:export("alice"), db:export("carts", "alice"))
    eq(h:export("nobody"), nil)
    local d = h:delete("alice", h:get("alice").context)
    eq(h:get("alice"), nil)
    assert(vv.compare(d, c) == "after")
    eq(db:keys("carts"), { "alice", "n" })
  end)

  it("merges, keeps siblings and runs the keyspace's resolver", function()
    local a, b = vv.open { node = "a" }, vv.open { node = "b" }
    local ha, hb = a:keyspace_handle("p"), b:keyspace_handle("p")
    ha:put("k", "from a")
    hb:put("k", "from b")
    eq(ha:merge("k", hb:export("k")), true)
    eq(sorted(ha:get("k")), { "from a", "from b" })
    eq(ha:get("k").value, nil)
    a:keyspace("p", { resolver = function(s)
      return s[1].value .. "+" .. s[2].value end })
    local v = ha:get("k").value
    assert(v == "from a+from b" or v == "from b+from a", v)
    a:keyspace("p", { resolver = "lww" })
    assert(ha:get("k").value == "from b" or ha:get("k").value == "from a")
    eq(ha:update("k", function(x) return x .. "!" end), ha:get("k").value)
    eq(#ha:get("k").siblings, 1)
  end)

  it("uses the keyspace's codec", function()
    local db = vv.open { node = "s0" }
    db:keyspace("raw", { codec = "raw" })
    local h = db:keyspace_handle("raw")
    h:put("k", "\0bytes")
    eq(h:get("k").value, "\0bytes")
    raises("bad argument #2 to 'put' %(the raw codec stores strings only, "
           .. "got number%)", function() h:put("k", 5) end)
  end)

  it("raises what the store's methods raise, numbered from the key", function()
    local db = vv.open { node = "s0" }
    local h = db:keyspace_handle("ks")
    raises("bad argument #1 to 'get' %(string expected, got number%)",
           function() h:get(1) end)
    raises("bad argument #1 to 'put' %(string expected, got no value%)",
           function() h:put() end)
    raises("bad argument #2 to 'put' %(value expected%)",
           function() h:put("k") end)
    raises("bad argument #3 to 'put' %(clock expected, got string%)",
           function() h:put("k", 1, "{s0:1}") end)
    raises("bad argument #2 to 'delete' %(clock expected, got number%)",
           function() h:delete("k", 1) end)
    raises("bad argument #2 to 'update' %(function expected, got no value%)",
           function() h:update("k") end)
    raises("bad argument #2 to 'merge' %(string expected, got nil%)",
           function() h:merge("k", nil) end)
    raises("merge: ", function() h:merge("k", "not a state") end)
    raises("put: key is 100000 bytes", function()
      h:put(("k"):rep(100000), 1)
    end)
    raises("keyspace handle expected, got vv.store",
           function() h.get(db, "k") end)
    raises("keyspace name of 1 to 255 bytes expected",
           function() db:keyspace_handle("") end)
    raises("keyspace name of 1 to 255 bytes expected",
           function() db:keyspace_handle(("x"):rep(256)) end)
    raises("NUL", function() db:keyspace_handle("a\0b") end)
    eq(db:keyspace_handle(("x"):rep(255)):name(), ("x"):rep(255))
    eq(db:keys("ks"), {})
  end)

  it("raises on a closed store, as the store does", function()
    local db = vv.open { node = "s0" }
    local h = db:keyspace_handle("ks")
    h:put("k", 1)
    db:close()
    raises("attempt to use a closed store", function() h:get("k") end)
    raises("attempt to use a closed store", function() h:put("k", 2) end)
    raises("attempt to use a closed store", function()
      h:update("k", function() return 3 end)
    end)
  end)

  it("keeps its store alive", function()
    local h = vv.open { node = "gone" }:keyspace_handle("ks")
    for i = 1, 3 do collectgarbage() end
    h:put("k", "still here")
    for i = 1, 3 do collectgarbage() end
    eq(h:get("k").value, "still here")
  end)

  it("sees a store closed in its own update", function()
    local db = vv.open { node = "s0" }
    local h = db:keyspace_handle("ks")
    h:put("k", 1)
    raises("update: the store was closed", function()
      h:update("k", function(v) db:close(); return v + 1 end)
    end)
  end)
end)
