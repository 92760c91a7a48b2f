-- lmdb_spec.lua - durable stores from Lua: everything comes back after
-- close and reopen (siblings with their dots, tombstones, resolver
-- scripts, stats), a restored directory gives no dot twice, and disk
-- errors are clear errors that lose nothing.
local vv = require "vv"
local LUA = os.getenv("VV_HOST") or (arg and arg[-1]) or "lua5.4"

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Copy a closed store's files from one directory into another.
local function copy_store(from, to)
  os.execute("mkdir -p " .. q(to))
  for _, f in ipairs { "data.mdb", "lock.mdb" } do
    spit(to .. "/" .. f, slurp(from .. "/" .. f))
  end
end

-- Run code in a process of its own (this Lua host) with db, node s0's
-- store in dir, open; true when it ran without an error.
local function in_child(dir, code)
  local prog = 'local vv = require "vv"; local db = vv.open { node = "s0", ' ..
    "path = " .. string.format("%q", dir) .. " }; " .. code .. "; db:close()"
  local ok = os.execute(LUA .. " -e " .. q(prog))
  return ok == true or ok == 0
end

-- A copy of scripts/union.lua in a temporary file: its path.
local function union_copy()
  local path = os.tmpname()
  spit(path, slurp("scripts/union.lua"))
  return path
end

-- db's ks/k holds the siblings a and b (in any order), of two actors.
local function two_writes(db, a, b)
  local r = db:get("ks", "k")
  local v = r.values
  table.sort(v)
  eq(v, { a, b })
  assert(r.siblings[1].actor ~= r.siblings[2].actor)
  return r
end

-- Siblings as comparable tables: node, actor, counter, timestamp, value.
local function sibs(r)
  local t = {}
  for i, s in ipairs(r.siblings) do
    t[i] = { s.node, s.actor, s.counter, s.timestamp, s.value }
  end
  return t
end

describe("durable store (LMDB)", function()
  it("reopens without a node name, taking the one its directory records", function()
    local dir = tmpdir()
    local db = vv.open { node = "s7", path = dir }
    db:put("ks", "k", "v")
    local actor = db:actor()
    db:close()
    local again = vv.open { path = dir }
    eq(again:node(), "s7")
    assert(again:actor():match("^s7%.[a-z2-7]+$"), again:actor())
    assert(again:actor() ~= actor)                      -- a new incarnation
    eq(again:get("ks", "k").value, "v")
    again:close()
    raises("node .*s7", vv.open, { node = "s8", path = dir })
    rmdir(dir)
    -- a new directory still needs a name, and nothing is created under it
    local fresh = tmpdir()
    raises("node name is required", vv.open, { path = fresh })
    raises("node", vv.open, {})
    rmdir(fresh)
  end)

  it("gives back every state, config and dot after reopen", function()
    local dir, script = tmpdir(), union_copy()
    local db = vv.open { node = "s0", path = dir, no_sync = true }
    local actor = db:actor()
    db:keyspace("carts", { resolver = script })
    db:keyspace("prefs", { resolver = "lww" })
    db:put("carts", "alice", { "eggs" })
    db:put("carts", "alice", { "milk" })                -- a sibling
    db:put("prefs", "theme", "dark")
    db:put("plain", "gone", true)
    db:delete("plain", "gone", db:get("plain", "gone").context)
    local other = vv.open { node = "s1" }
    other:put("plain", "shared", { n = 1, list = { 1, 2, 3 } })
    db:merge("plain", "shared", other:export("plain", "shared"))
    db:batch(function()
      for i = 1, 50 do db:put("bulk", string.format("k%03d", i), i) end
    end)
    local before = {
      alice = db:export("carts", "alice"), theme = db:export("prefs", "theme"),
      gone = db:export("plain", "gone"), shared = db:export("plain", "shared"),
    }
    local r = db:get("carts", "alice")
    local alice = sibs(r)
    eq(r.value, { "eggs", "milk" })
    local stats = db:stats()
    db:close()

    db = vv.open { node = "s0", path = dir }
    assert(db:actor() ~= actor)
    eq(db:export("carts", "alice"), before.alice)
    eq(db:export("prefs", "theme"), before.theme)
    eq(db:export("plain", "gone"), before.gone)
    eq(db:export("plain", "shared"), before.shared)
    r = db:get("carts", "alice")
    eq(sibs(r), alice)
    eq(r.value, { "eggs", "milk" })                    -- script re-attached
    eq(r.error, nil)
    eq(db:get("plain", "gone"), nil)
    eq(db:get("plain", "shared").value, { n = 1, list = { 1, 2, 3 } })
    eq(db:keyspace("prefs").resolver, "lww")
    eq(db:keyspace("carts").resolver, script)
    eq(#db:keys("bulk"), 50)
    local again = db:stats()
    eq(again.keys, stats.keys)
    eq(again.tombstones, stats.tombstones)
    eq(again.siblings, stats.siblings)
    assert(again.bytes > 0)
    -- this handle writes as a new actor, from its first dot
    local ctx = db:put("plain", "new", 1)
    eq(ctx:get(db:actor()), 1)
    eq(ctx:get(actor), 0)
    db:close()
    other:close()
    os.remove(script)
    rmdir(dir)
  end)

  it("reports a missing script for its keyspace only", function()
    local dir, script = tmpdir(), union_copy()
    local db = vv.open { node = "s0", path = dir, no_sync = true }
    db:keyspace("carts", { resolver = script })
    db:put("carts", "k", { "a" })
    db:put("carts", "k", { "b" })
    db:put("other", "k", "fine")
    db:close()
    os.remove(script)
    db = vv.open { node = "s0", path = dir }
    local r = db:get("carts", "k")
    eq(#r.siblings, 2)                                  -- intact
    assert(r.error and r.error:find(script, 1, true), tostring(r.error))
    eq(db:get("other", "k").value, "fine")
    db:close()
    rmdir(dir)
  end)

  it("gives no dot twice after a restore from a copy", function()
    local dir, backup = tmpdir(), tmpdir()
    local db = vv.open { node = "s0", path = dir, no_sync = true }
    db:put("ks", "before", 1)
    db:close()
    copy_store(dir, backup)                 -- a plain copy, store closed
    db = vv.open { node = "s0", path = dir, no_sync = true }
    db:put("ks", "k", "first")
    local s1 = vv.open { node = "s1" }      -- a replica gets the first write
    s1:merge("ks", "k", db:export("ks", "k"))
    db:close()
    copy_store(backup, dir)                 -- restored: the write is lost
    -- the program runs again and writes k without a context
    assert(in_child(dir, 'db:put("ks", "k", "second")'))
    db = vv.open { node = "s0", path = dir }
    eq(db:get("ks", "k").values, { "second" })
    db:merge("ks", "k", s1:export("ks", "k"))
    local r = two_writes(db, "first", "second")   -- both are siblings
    eq(r.siblings[1].node, "s0")
    eq(r.siblings[2].node, "s0")
    db:close()
    s1:close()
    rmdir(dir)
    rmdir(backup)
  end)

  it("gives each handle of two processes its own actor", function()
    local dir = tmpdir()
    local db = vv.open { node = "s0", path = dir, no_sync = true }
    assert(in_child(dir, 'db:put("ks", "k", "child")'))
    db:put("ks", "k", "parent")             -- opened before the child wrote
    local r = two_writes(db, "child", "parent")
    eq(r.siblings[1].counter, 1)
    eq(r.siblings[2].counter, 1)
    db:close()
    rmdir(dir)
  end)

  it("follows another process's keyspace config without a reopen", function()
    local dir, script = tmpdir(), union_copy()
    local db = vv.open { node = "s0", path = dir, no_sync = true }
    db:put("ks", "k", { "a" })
    db:put("ks", "k", { "b" })
    eq(db:get("ks", "k").value, nil)                 -- siblings
    assert(in_child(dir, 'db:keyspace("ks", { resolver = "lww" })'))
    eq(db:get("ks", "k").value, { "b" })             -- the later write
    eq(db:keyspace("ks").resolver, "lww")
    assert(in_child(dir, "db:keyspace('ks', { resolver = " ..
                         string.format("%q", script) .. " })"))
    eq(db:get("ks", "k").value, { "a", "b" })        -- the script's union
    eq(db:keyspace("ks").resolver, script)
    -- a host function of this process gives way to another's config
    db:keyspace("ks", { resolver = function() return { "mine" } end })
    eq(db:get("ks", "k").value, { "mine" })
    assert(in_child(dir, 'db:keyspace("ks", { resolver = function() ' ..
                         'return { "theirs" } end, warn_siblings = 7 })'))
    eq(db:get("ks", "k").value, { "mine" })          -- still "function"
    eq(db:keyspace("ks").warn_siblings, 7)
    assert(in_child(dir, 'db:keyspace("ks", { resolver = "lww" })'))
    eq(db:get("ks", "k").value, { "b" })
    eq(db:keyspace("ks").resolver, "lww")
    db:close()
    os.remove(script)
    rmdir(dir)
  end)

  it("fails clearly on a full map and keeps what was written", function()
    local dir = tmpdir()
    local db = vv.open { node = "s0", path = dir, no_sync = true,
                         map_size = 128 * 1024, map_max = 1024 * 1024 }
    local big, n = string.rep("x", 4000), 0
    local ok, err
    repeat
      ok, err = pcall(db.put, db, "ks", "k" .. n, big)
      if ok then n = n + 1 end
    until not ok or n > 1000
    assert(not ok and tostring(err):find("map"), tostring(err))
    assert(n > 20)
    -- a batch that does not fit leaves nothing
    ok = pcall(db.batch, db, function()
      for i = 1, 400 do db:put("ks", "batch" .. i, big) end
    end)
    assert(not ok)
    eq(db:get("ks", "batch1"), nil)
    db:close()
    db = vv.open { node = "s0", path = dir }
    for i = 0, n - 1 do eq(db:get("ks", "k" .. i).value, big) end
    db:put("ks", "more", "room now")
    db:close()
    rmdir(dir)
  end)

  it("refuses writes when read_only, and a second open", function()
    local dir = tmpdir()
    local db = vv.open { node = "s0", path = dir, no_sync = true }
    db:put("ks", "k", "v")
    raises("already open", vv.open, { node = "s0", path = dir })
    db:close()
    db = vv.open { node = "s0", path = dir, read_only = true }
    eq(db:get("ks", "k").value, "v")
    raises("read%-only", db.put, db, "ks", "k", "w")
    db:close()
    rmdir(dir)
  end)

  it("refuses a file that is not a store, and changes nothing", function()
    local dir = tmpdir()
    os.execute("mkdir '" .. dir .. "'")
    local junk = string.rep("not an lmdb file ", 600)
    spit(dir .. "/data.mdb", junk)
    raises("not an LMDB environment", vv.open, { node = "s0", path = dir })
    eq(slurp(dir .. "/data.mdb"), junk)
    rmdir(dir)
  end)
end)
