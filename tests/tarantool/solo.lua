-- solo.lua - require "vv.tarantool" on one instance (run by
-- tests/t_tarantool.sh with tarantool; box.cfg in a temporary directory):
-- the store contract's calls, their errors, batches, and the trigger on
-- local raw writes.  Prints "ok - ..." / "not ok - ..."; the directory is
-- the first argument.
package.cpath = os.getenv("B") .. "/luajit/?.so;" .. package.cpath
package.path = os.getenv("B") .. "/luajit/?.lua;" .. package.path
io.stdout:setvbuf("no")
local vv = require "vv"
local vvt = require "vv.tarantool"
local dir = assert(arg[1], "a directory")
local drive = dofile(assert(os.getenv("VVT_ROOT"), "VVT_ROOT") ..
                    "/tests/tarantool/drive.lua")
local ok = drive.ok

-- Does fn(...) raise a message containing text?
local function raises(text, fn, ...)
  local good, err = pcall(fn, ...)
  return not good and tostring(err):find(text, 1, true) ~= nil, err
end

ok(raises("option 'node'", vvt.open, {}) and
   raises("call box.cfg first", vvt.open, { node = "x" }),
   "vvt.open wants a node, and box.cfg first")
vvt.prepare { space = "vv" }
box.cfg { work_dir = dir, log = "tarantool.log", memtx_memory = 32 * 2 ^ 20,
          feedback_enabled = false, listen = "unix/:" .. dir .. "/solo.sock" }
box.schema.user.grant("guest", "super", nil, nil, { if_not_exists = true })
ok(raises("before box.cfg", vvt.prepare, { space = "other" }),
   "vvt.prepare after box.cfg raises")

local db = vvt.open { node = "solo", reap = false }  -- reaping: below
ok(box.space.vv ~= nil and #box.space.vv:before_replace() == 1,
   "vvt.open creates the space and puts the trigger on it")
vvt.open { node = "solo2", reap = false }:close()
ok(#box.space.vv:before_replace() == 1, "a second open adds no trigger")

-- the contract's calls, as vv.open's store answers them
local ref = vv.open { node = "ref" }
local c1 = db:put("carts", "alice", { "eggs" })
ref:put("carts", "alice", { "milk" })
ok(db:merge("carts", "alice", ref:export("carts", "alice")) == true,
   "merge of another replica's state")
local r = db:get("carts", "alice")
ok(#r.siblings == 2 and r.value == nil and #r.values == 2 and
   r.siblings[1].node == "ref" and r.siblings[2].node == "solo",
   "concurrent versions are siblings, in actor order")
db:put("carts", "alice", { "eggs", "bacon" }, c1)
r = db:get("carts", "alice")
local vals = {}
for i, v in ipairs(r.values) do vals[i] = table.concat(v, ",") end
table.sort(vals)
ok(table.concat(vals, " | ") == "eggs,bacon | milk",
   "a put with a context replaces what it saw: eggs,bacon | milk",
   table.concat(vals, " | "))
ok(db:export("carts", "alice") == box.space.vv:get { "carts", "alice" }[3] and
   vv.state_key(db:export("carts", "alice")) == "alice",
   "export is the row's state")
db:delete("carts", "alice", r.context)
ok(db:get("carts", "alice") == nil and db:export("carts", "alice") ~= nil,
   "delete leaves a tombstone: get gives nil, the row stays")
ok(db:get("carts", "nobody") == nil and db:export("carts", "nobody") == nil,
   "an unknown key reads nil")
db:keyspace("u", { resolver = os.getenv("VVT_ROOT") .. "/scripts/union.lua" })
db:put("u", "k", { "a" })
db:merge("u", "k", (function()
  local o = vv.open { node = "o" }
  o:put("u", "k", { "b" })
  return o:export("u", "k")
end)())
local u = db:get("u", "k").value
table.sort(u)
ok(table.concat(u, ",") == "a,b", "a resolver script resolves")

-- errors: as vv.open's, nothing changes
local before = db:export("carts", "alice")
ok(raises("bad argument #4 to 'put' (clock expected", db.put, db, "carts",
          "alice", "v", "nope") and
   raises("bad argument #3 to 'delete' (clock expected", db.delete, db,
          "carts", "alice", 42) and
   raises("bad argument #3 to 'put' (cannot encode a function", db.put, db,
          "carts", "alice", function() end),
   "bad arguments raise, numbered as put's and delete's")
ok(raises("merge: state is corrupt or truncated", db.merge, db, "carts",
          "alice", "junk") and
   raises("merge: state belongs to another key", db.merge, db, "carts",
          "bob", before) and
   db:export("carts", "alice") == before,
   "bad states raise in merge, the stored state unchanged")
local claim = vv.clock(string.format("{%s:99}", db:actor()))
ok(raises("only given out", db.put, db, "carts", "alice", "v", claim),
   "a context claiming this instance's dots it never gave out raises")

-- update: the read-modify-write in one transaction, as vv.open's
local seen
ok(db:update("up", "k", function(v, vals) seen = { v, vals }; return 1 end)
   == 1 and seen[1] == nil and seen[2] == nil and db:get("up", "k").value == 1,
   "update of an absent key: fn(nil, nil), its result written")
ok(db:update("up", "k", function(v, vals) seen = { v, vals }; return v + 1 end)
   == 2 and seen[1] == 1 and seen[2] == nil and db:get("up", "k").value == 2
   and #db:get("up", "k").siblings == 1,
   "update of one version replaces it")
ref:put("up", "k", 40)
db:merge("up", "k", ref:export("up", "k"))
ok(#db:get("up", "k").siblings == 2, "two siblings before the update")
ok(db:update("up", "k", function(v, vals)
     seen = { v, vals }
     return vals[1] + vals[2]
   end) == 42 and seen[1] == nil and #seen[2] == 2 and
   db:get("up", "k").value == 42 and #db:get("up", "k").siblings == 1,
   "update of siblings: fn(nil, values), its result replaces them all")
local kept = db:export("up", "k")
ok(db:update("up", "k", function() return nil end) == nil and
   db:export("up", "k") == kept,
   "update whose function returns nil writes nothing")
local okf, errf = pcall(db.update, db, "up", "k", function() error("mine", 0) end)
ok(not okf and errf == "mine" and db:export("up", "k") == kept,
   "an error of update's function is raised as it was, nothing written")
okf, errf = pcall(db.update, db, "up", "k", function() return print end)
ok(not okf and errf == "update: the function's result cannot be stored: " ..
   "cannot encode a function" and
   db:export("up", "k") == kept,
   "update with an unstorable result raises as vv.open's, nothing written",
   errf)
ok(raises("bad argument #3 to 'update' (function expected, got number)",
          db.update, db, "up", "k", 5),
   "update wants a function")
okf = pcall(db.update, db, "up", "k", function(v)
  require("fiber").yield()
  return v + 1
end)
ok(not okf and db:export("up", "k") == kept,
   "a yield inside update's function ends it, nothing written")

-- batches are box transactions
db:batch(function()
  db:put("b", "1", 1)
  db:put("b", "2", 2)
end)
local good = pcall(db.batch, db, function()
  db:put("b", "3", 3)
  error("boom")
end)
ok(db:get("b", "1").value == 1 and db:get("b", "2").value == 2 and
   not good and db:get("b", "3") == nil,
   "db:batch commits together, or rolls back on an error")

-- the trigger on local raw writes: refused, and the writer is told,
-- here and over net.box (any connector); the stored state stays
local row = box.space.vv:get { "b", "1" }[3]
local conn = require("net.box").connect("unix/:" .. dir .. "/solo.sock")
local raw = {
  { "bad bytes", "replace", { "b", "1", "junk" },
    "refused a raw write: state is corrupt or truncated; write through "
    .. "vv.tarantool (db:put, db:merge)" },
  { "another key's state", "replace", { "b", "1", db:export("b", "2") },
    "refused a raw write: it is the state of another key (2)" },
  { "a number for a state", "replace", { "b", "1", 42 },
    "refused a raw write: the state field is a number, not a string" },
  { "bad bytes, no row yet", "insert", { "b", "new", "junk" },
    "refused a raw write: state is corrupt or truncated" },
  { "a row", "delete", { "b", "1" },
    "refused a row delete: row deletes are not vv deletes; vv keeps deletes "
    .. "as tombstones: use db:delete" },
}
for _, case in ipairs(raw) do
  local what, op, arg, text = case[1], case[2], case[3], case[4]
  local lgood, lerr = pcall(box.space.vv[op], box.space.vv, arg)
  local rgood, rerr = pcall(function()
    return conn.space.vv[op](conn.space.vv, arg)
  end)
  local want = "vv: space 'vv' key {b, " .. arg[2] .. "}: " .. text
  ok(not lgood and tostring(lerr):find(want, 1, true) ~= nil and
     not rgood and tostring(rerr):find(want, 1, true) ~= nil and
     box.space.vv:get { "b", "1" }[3] == row and
     box.space.vv:get { "b", "new" } == nil,
     "a raw " .. op .. " of " .. what .. " raises for its caller, locally "
     .. "and over net.box; the stored state stays",
     tostring(lerr) .. " | " .. tostring(rerr))
end
conn:close()
local st = vvt.stats()
ok(st.refused == 2 * #raw and st.written > 0, "the trigger counts them",
   require("json").encode(st))

-- a single instance reaps a deleted key's row once the row holds only
-- tombstones (no peer to wait for); a key that still has a live version
-- keeps its row
vvt.schema { space = "vr" }
local rdb = vvt.open { node = "reaper", space = "vr",
                      reap = { interval = 0.05 } }
local c = rdb:put("t", "gone", "v")
rdb:delete("t", "gone", c)
rdb:put("t", "stays", "v1")
local other = vv.open { node = "other" }
other:put("t", "stays", "v2")
rdb:merge("t", "stays", other:export("t", "stays"))
rdb:delete("t", "stays", c)              -- saw neither version: both stay
local t0 = require("clock").monotonic()
while box.space.vr:get { "t", "gone" } ~= nil and
      require("clock").monotonic() - t0 < 5 do
  require("fiber").sleep(0.01)
end
require("fiber").sleep(0.2)
local rst = vvt.status("vr").reaper
ok(box.space.vr:get { "t", "gone" } == nil and rdb:export("t", "gone") == nil
   and rdb:get("t", "stays") ~= nil and #rdb:get("t", "stays").siblings == 2
   and rst.reaped == 1, "one instance alone reaps a deleted key's row; a "
   .. "key with live versions keeps its row", require("json").encode(rst))
c = rdb:put("t", "gone", "again")
ok(rdb:get("t", "gone").value == "again" and
   #rdb:get("t", "gone").siblings == 1, "a reaped key can be written again")

-- a space with more fields than vv's three (vshard's bucket_id, say):
-- the trigger's merge keeps them
local s4 = box.schema.space.create("v4", { format = {
  { "ks", "string" }, { "key", "string" }, { "state", "string" },
  { "bucket_id", "unsigned" } } })
s4:create_index("pk", { parts = { "ks", "key" } })
vvt.open { node = "four", space = "v4", reap = false }
local w1, w2 = vv.open { node = "w1" }, vv.open { node = "w2" }
w1:put("t", "k", "one")
w2:put("t", "k", "two")
s4:replace { "t", "k", w1:export("t", "k"), 7 }
s4:replace { "t", "k", w2:export("t", "k"), 7 }
local row4 = s4:get { "t", "k" }
ok(row4[4] == 7 and row4[3] == vv.merge_states(w1:export("t", "k"),
                                               w2:export("t", "k")),
   "the trigger's merge keeps the fields after the state (bucket_id)")

-- vinyl spaces are refused
box.schema.space.create("vin", { engine = "vinyl", format = {
  { "ks", "string" }, { "key", "string" }, { "state", "string" } } })
box.space.vin:create_index("pk", { parts = { "ks", "key" } })
ok(raises("must be memtx", vvt.open, { node = "x", space = "vin" }),
   "a vinyl space is refused")
drive.exit()
