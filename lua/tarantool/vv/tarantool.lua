-- vv/tarantool.lua - vv replicas on Tarantool: per-key states in a box
-- space, merged by a before_replace trigger when replication brings them.
--
--   local vvt = require "vv.tarantool"
--   vvt.prepare { space = "vv" }           -- before box.cfg (recommended)
--   box.cfg { ... }
--   local db = vvt.open { node = "t1", space = "vv" }
--   db:keyspace("carts", { resolver = "/abs/path/scripts/union.lua" })
--   db:put("carts", "alice", { "apple" })
--   local r = db:get("carts", "alice")     -- value, values, siblings, context
--
-- Each instance is one vv replica.  The state of each key (vv's exported
-- bytes) is a row {ks, key, state} of a memtx space; Tarantool's WAL,
-- snapshots and replication carry it.  A write reads the row, writes onto
-- the state with the instance's identity (db:put_state: a fresh vv actor
-- each process start, so no dot is ever given twice) and replaces the
-- row, with no yield in between.  When replication brings a row, the
-- space's before_replace trigger merges it with the local one
-- (vv.merge_states), so concurrent writes become siblings and every
-- instance converges to the same bytes.  docs/tarantool.md explains the
-- rules the trigger keeps and why.
local vv = require "vv"
local log = require "log"
local fiber = require "fiber"
local ffi = require "ffi"

local tuple_unref = ffi.C.box_tuple_unref
local tuple_new = box.tuple.new
local session_type = box.session.type
local merge_states, state_key = vv.merge_states, vv.state_key
local byte, sub = string.byte, string.sub
-- The fields of a tuple from the first (0-based) on, in one C call: the
-- tuple's own t[i] decodes in Lua, a microsecond each when interpreted
local slice = box.tuple.new({}).slice

-- Let go of the Lua object's reference to tuple t now.  Tarantool frees a
-- tuple that left its space only once no Lua object holds it, and a Lua
-- object goes only when the Lua collector runs, which counts Lua bytes,
-- not tuple bytes: a trigger's `old` and `new`, or a row read to write
-- onto it, would keep every replaced state of a key in memtx until then
-- (recovery of a WAL of large rows ran out of memtx_memory that way;
-- docs/tarantool.md, "Memory").  t must not be used afterwards, except to
-- hand it back to Tarantool at once (a trigger returning old: the space
-- still holds it).
local function release(t)
  ffi.gc(t, nil)
  tuple_unref(t)
end

local M = { _NAME = "vv.tarantool", _VERSION = vv._VERSION }

local DEFAULT_SPACE = "vv"
-- The ks field of the rows holding keyspace configurations (no vv
-- keyspace name holds a NUL byte, so none can clash with it)
local CONFIG_ROW = "\0config"
-- A reap marker's state field: MARK .. the tombstone it removes
-- (vv/tarantool/reaper.lua); no vv state starts with a NUL byte
local MARK = "\0vv-reap\0"

-- Per space name: { trigger = fn, own = bool, stats = {...} }.  `own` is
-- set while this module replaces a row it has just written onto the
-- stored state (nothing to merge or check: the trigger lets it pass).
local spaces = {}
local prepared = {}
-- True from vvt.prepare until box.cfg returns: the rows the trigger sees
-- then, but for the appliers', are the local snapshot and WAL (box.info's
-- status is no sign: it can leave "loading" before the WAL is replayed)
local booting = false
local Config                           -- vv/tarantool/config.lua
local Reaper                           -- vv/tarantool/reaper.lua

-- The record of space `name`, made on first use.
local function space_rec(name)
  local rec = spaces[name]
  if rec == nil then
    rec = { own = false, stats = { merged = 0, refused = 0, written = 0,
                                   replicated = 0, passed = 0 },
            stores = {} }
    -- run on the commit of a configuration row: the stores of the space
    -- apply it (made once, not per row)
    rec.on_config = function()
      for store in pairs(rec.stores) do store._cond:signal() end
    end
    spaces[name] = rec
  end
  return rec
end

-- A short printable form of a key for log lines.
local function show(s)
  s = tostring(s)
  if #s > 60 then s = s:sub(1, 60) .. "..." end
  return (s:gsub("[%c\128-\255]", "?"))
end

-- Is box.cfg done (box.cfg is a function before, a table after)?
local function configured()
  return type(box.cfg) ~= "function"
end

-- Is st a state vv accepts, of key?  (nil, why) if not.
local function valid(key, st)
  if type(st) ~= "string" then
    return nil, "the state field is a " .. type(st) .. ", not a string"
  end
  local k, why = state_key(st)
  if k == nil then return nil, why end
  if k ~= key then
    return nil, "it is the state of another key (" .. show(k) .. ")"
  end
  return true
end

-- The message a refused local request raises: what was refused, why,
-- and the call to use instead.
local function refusal(name, ks, key, what, why, use)
  return string.format("vv: space '%s' key {%s, %s}: refused %s: %s; %s",
                       name, show(ks), show(key), what, why, use)
end

local USE_PUT = "write through vv.tarantool (db:put, db:merge)"
local USE_DELETE = "vv keeps deletes as tombstones: use db:delete"

-- What decide says: keep the stored row (a NOP), let the request through
-- as it came, refuse it (a local caller's error is the second result), or
-- store the tuple that is the second result.  (Numbers: a tuple compared
-- with a table raises.)
local OLD, KEEP, REFUSE, TUPLE = 1, 2, 3, 4

-- A refusal: a local caller gets an error; a row from replication is
-- refused with a log line and the stored row stays (raising would stop
-- the applier).
local function refuse(rec, name, ks, key, applier, what, why, use)
  rec.stats.refused = rec.stats.refused + 1
  if not applier then
    return REFUSE, refusal(name, ks, key, what, why, use)
  end
  log.error("vv: space '%s' key {%s, %s}: refused %s from replication: "
            .. "%s; the local state stays", name, show(ks), show(key), what,
            tostring(why))
  return OLD
end

-- A fresh tuple: new's fields with state st in the third (a space with
-- more fields than vv's three, vshard's bucket_id say, keeps them).
local function with_state(new, ks, key, st, more)
  if more == nil then return tuple_new { ks, key, st } end
  local t = new:totable()
  t[3] = st
  return tuple_new(t)
end

-- A delete request (new == nil) on row old.
local function decide_delete(rec, name, old, applier)
  if old == nil then return KEEP end
  local ks, key, ost = slice(old, 0)
  -- the row of a reap marker goes (the delete the marker comes with)
  if type(ost) == "string" and byte(ost, 1) == 0 then return KEEP end
  if applier and rec.expect ~= nil and rec.expect == ks .. "\0" .. key then
    -- the delete that came with a marker this instance did not apply
    rec.expect = nil
    return OLD
  end
  if not valid(key, ost) then return KEEP end     -- a bad row may go
  if not applier then
    rec.stats.refused = rec.stats.refused + 1
    return REFUSE, refusal(name, ks, key, "a row delete", "row deletes are "
                           .. "not vv deletes", USE_DELETE)
  end
  rec.stats.refused = rec.stats.refused + 1
  log.warn("vv: space '%s' key {%s, %s}: refused a row delete from "
           .. "replication (vv keeps deletes as tombstones: use db:delete)",
           name, show(ks), show(key))
  return OLD
end

-- A reap marker from replication: another instance reaped the key's
-- tombstone T; the row goes here too only if it holds exactly T (the
-- delete that follows removes the marker); else it stays, and so does
-- the delete's.
local function decide_marker(rec, old, ks, key, st)
  if old ~= nil and slice(old, 2) == sub(st, #MARK + 1) then
    if rec.reap then rec.reap.applied = rec.reap.applied + 1 end
    return KEEP
  end
  rec.expect = ks .. "\0" .. key
  return OLD
end

-- What the trigger does with one request: KEEP, OLD, REFUSE and the
-- message, or TUPLE and the tuple to store.  Each state is decoded once:
-- the merge checks both; only when it fails is the incoming state checked
-- alone, to say why.
local function decide(rec, name, old, new, op, applier)
  if new == nil then return decide_delete(rec, name, old, applier) end
  local ks, key, st, more = slice(new, 0)
  if type(st) == "string" and byte(st, 1) == 0 then
    if applier and sub(st, 1, #MARK) == MARK then
      return decide_marker(rec, old, ks, key, st)
    end
  end
  if applier then rec.stats.replicated = rec.stats.replicated + 1 end
  if ks == CONFIG_ROW then box.on_commit(rec.on_config) end
  local ost = old ~= nil and slice(old, 2) or nil
  if ost == nil or byte(ost, 1) == 0 then        -- nothing here yet
    local ok, why = valid(key, st)
    if not ok then
      return refuse(rec, name, ks, key, applier, applier and "a state" or
                    "a raw write", why, USE_PUT)
    end
    if op == "INSERT" and ost ~= nil then
      return TUPLE, with_state(new, ks, key, st, more)
    end
    return KEEP
  end
  local ok, merged = pcall(merge_states, ost, st)
  if not ok then
    local good, why = valid(key, st)
    if not good then
      return refuse(rec, name, ks, key, applier, applier and "a state" or
                    "a raw write", why, USE_PUT)
    end
    -- st is good: when the stored state is not, take st as it is; else
    -- the merge itself failed, and that goes on as an error
    if valid(key, ost) then error(merged, 0) end
    merged = st
  end
  if merged == st and op ~= "INSERT" then
    -- the request stores the merge as it is (a replace: also where no row
    -- is; an insert onto a row would fail, so that gets a tuple)
    return KEEP
  end
  if merged ~= ost and merged ~= st then
    rec.stats.merged = rec.stats.merged + 1
  end
  -- a fresh tuple, even when the merge is the stored state: returning old
  -- would turn the row into a NOP, which is relayed as such and so would
  -- never reach an instance that hears of it only through this one
  return TUPLE, with_state(new, ks, key, merged, more)
end

-- The before_replace trigger of space `name`.  It never yields (vv's C
-- calls do not).  A refused local request raises, so that its caller
-- (over net.box too) gets the error and the row stays; for rows from
-- replication it never raises: an error in a before_replace trigger
-- stops the replication of every upstream that sends the row.
-- Per row it asks nothing of box but the session's type (once box.cfg is
-- done), makes no closure and decodes each state once; every tuple
-- reference it gets it lets go of at once.
local function make_trigger(name)
  local rec = space_rec(name)
  local stats = rec.stats
  return function(old, new, _, op)
    if rec.own then                   -- this module's own write
      stats.written = stats.written + 1
      if old ~= nil then release(old) end
      if new ~= nil then release(new) end
      return
    end
    local applier = session_type() == "applier"
    if booting and not applier then
      -- box.cfg is recovering the local snapshot and WAL: final states
      stats.passed = stats.passed + 1
      if old ~= nil then release(old) end
      if new ~= nil then release(new) end
      return
    end
    local ok, res, msg = pcall(decide, rec, name, old, new, op, applier)
    if old ~= nil then release(old) end
    if new ~= nil then release(new) end
    if ok then
      if res == KEEP then return end
      if res == TUPLE then return msg end
      if res == OLD then return old end
    else
      stats.refused = stats.refused + 1
      msg = "vv: space '" .. name .. "': the merge failed: " .. tostring(res)
      if applier then
        pcall(log.error, "%s; the local row stays", msg)
        return old
      end
    end
    error(msg, 0)
  end
end

-- Put the trigger on space `name` unless it is there already.
local function install(name)
  local s = box.space[name]
  if s == nil then return false end
  local rec = space_rec(name)
  if rec.trigger == nil then rec.trigger = make_trigger(name) end
  for _, f in ipairs(s:before_replace()) do
    if f == rec.trigger then return true end
  end
  s:before_replace(rec.trigger)
  log.info("vv: merge trigger installed on space '%s' (status %s)", name,
           box.info.status)
  return true
end

-- Set booting until box.cfg returns: box.cfg turns into a table before it
-- recovers anything, so its return is the sign that recovery is over.
-- A box.cfg that fails leaves Tarantool unconfigured: watch the next one.
local function watch_cfg()
  local cfg = box.cfg
  booting = true
  box.cfg = function(...)
    local ok, err = pcall(cfg, ...)
    booting = false
    if not ok then
      if not configured() then watch_cfg() end
      error(err, 2)
    end
  end
end

--- vvt.prepare{space = "vv"}: before box.cfg.  Installs the merge trigger
-- as soon as the space exists while box.cfg runs (from the snapshot, or
-- when a joining instance receives it), so that rows replicated during
-- box.cfg are merged too, not just replaced.
function M.prepare(opts)
  opts = opts or {}
  local name = opts.space or DEFAULT_SPACE
  if configured() then
    error("vvt.prepare: call it before box.cfg (vvt.open installs the "
          .. "trigger after box.cfg)", 2)
  end
  if prepared[name] then return end
  prepared[name] = true
  if not booting then watch_cfg() end
  box.ctl.on_schema_init(function()
    box.space._space:on_replace(function(_, new)
      if new ~= nil and new[3] == name then
        box.on_commit(function() pcall(install, name) end)
      end
    end)
  end)
end

--- vvt.schema{space = "vv"}: create the space (memtx, primary index on ks,
-- key) if it does not exist, and put the trigger on it.  Run it in one
-- place for the whole replica set: inside box.once on the instance that
-- bootstraps (before the replication user is created), or on one
-- instance of a running set; two instances creating the same space
-- before they hear of each other conflict in _space and stop replicating.
function M.schema(opts)
  opts = opts or {}
  local name = opts.space or DEFAULT_SPACE
  if box.space[name] == nil then
    local s = box.schema.space.create(name, {
      engine = "memtx", if_not_exists = true,
      format = { { "ks", "string" }, { "key", "string" },
                 { "state", "string" } } })
    s:create_index("pk", { parts = { "ks", "key" }, if_not_exists = true })
  end
  install(name)
  return box.space[name]
end

-- ---- the store handle ------------------------------------------------

local Store = {}
Store.__index = Store

-- Run fn(...) inside a box transaction (the caller's, when one is open);
-- on an error, roll back (a transaction of our own) and raise it.
local function in_txn(fn, ...)
  if box.is_in_txn() then return fn(...) end
  box.begin()
  local ok, a, b = pcall(fn, ...)
  if not ok then
    box.rollback()
    error(a, 0)
  end
  box.commit()
  return a, b
end

-- Raise the message of a failed call as vv.open's store does: "fn: why",
-- or "bad argument #n to 'fn' (...)" numbered as fn's arguments (the
-- *_state call underneath has the state as its third).
local function fail(fn, err)
  err = tostring(err):gsub("^[^:\n]*:%d+: ", "")
  local n, rest = err:match("^bad argument #(%d+) to '[%w_]+_state'(.*)$")
  if n then
    n = tonumber(n)
    error(string.format("bad argument #%d to '%s'%s", n > 3 and n - 1 or n,
                        fn, rest), 0)
  end
  err = err:gsub("^[%w_]+_state: ", "")
  error(fn .. ": " .. err, 0)
end

-- The stored state of ks/key (nil when the key was never written, or
-- its row is a reap marker: in a transaction of the applier's only).
local function stored(self, ks, key)
  local t = self._space:get { ks, key }
  if t == nil then return nil end
  local st = slice(t, 2)
  release(t)
  if st:byte(1) == 0 then return nil end
  return st
end

-- Replace the row of ks/key with state, as this module's own write: the
-- trigger lets it pass (the caller resets rec.own when this raises).
local function own_replace(self, ks, key, state)
  local rec = self._rec
  rec.own = true
  release(self._space:replace { ks, key, state })
  rec.own = false
end

-- Delete the row of ks/key as this module's own write (a reap).
local function own_delete(self, ks, key)
  local rec = self._rec
  rec.own = true
  local t = self._space:delete { ks, key }
  rec.own = false
  if t ~= nil then release(t) end
end

-- The set-wide keyspace configurations and the reaper of tombstones,
-- given what they share of this file.
local shared = { slice = slice, release = release, in_txn = in_txn,
                 stored = stored, own_replace = own_replace,
                 own_delete = own_delete, MARK = MARK }
Config = require("vv.tarantool.config")(shared)
shared.barrier = Config.publish
Reaper = require("vv.tarantool.reaper")(shared)

-- The write of put and delete: read the stored state, write onto it,
-- replace the row; no yield in between (memtx reads and writes do not
-- yield inside a transaction).
local function do_write(self, ks, key, value, ctx, tomb)
  local st = stored(self, ks, key)
  local new, c
  if tomb then new, c = self._db:delete_state(ks, key, st, ctx)
  else new, c = self._db:put_state(ks, key, st, value, ctx) end
  own_replace(self, ks, key, new)
  return c
end

-- Run f(self, ...) in a transaction (in_txn) as the call named fn: an
-- error ends this module's own write (rec.own) and is raised as fn's.
local function guarded(self, fn, f, ...)
  local ok, r = pcall(in_txn, f, self, ...)
  if not ok then
    self._rec.own = false
    fail(fn, r)
  end
  return r
end

--- db:put(ks, key, value [, context]) -> the key's new context.
function Store:put(ks, key, value, ctx)
  return guarded(self, "put", do_write, ks, key, value, ctx, false)
end

--- db:delete(ks, key [, context]) -> the key's new context.  The key's
-- row stays, holding the tombstone, until the reaper finds it safe to go.
function Store:delete(ks, key, ctx)
  local c = guarded(self, "delete", do_write, ks, key, nil, ctx, true)
  Reaper.note(self._rec, ks, key)
  return c
end

-- The stored state of ks/key and its read as db:get gives it (nil, nil
-- when never written; st, nil when deleted).  A keyspace whose
-- configuration this instance refused (its script did not load here)
-- reads siblings unresolved, with the refusal in r.error.
local function read(self, ks, key)
  local st = stored(self, ks, key)
  if st == nil then return nil, nil end
  local r = self._db:get_state(ks, st)
  local why = self._cfg[ks] and self._cfg[ks].refused
  if why and r and r.error == nil and #r.siblings > 1 then
    r.value, r.error = nil, why
  end
  return st, r
end

--- db:get(ks, key) -> nil when absent or deleted, else the read
-- {value, values, siblings, context, error} as vv's db:get gives it.
function Store:get(ks, key)
  local _, r = read(self, ks, key)
  return r
end

-- An error of update's function, carried through the transaction to be
-- raised again as it was.
local FN_ERROR = {}

-- The read-modify-write of db:update: read and resolve the row as get
-- does, call fn(value, values), write its result with the read's context
-- onto the same stored state.  No yield in between: a yield inside fn
-- ends the transaction (memtx aborts it), and nothing is written.
local function do_update(self, ks, key, fn)
  local st, r = read(self, ks, key)
  local v, values, ctx
  if r ~= nil then
    v, ctx = r.value, r.context
    if #r.siblings > 1 then values = r.values end
  end
  local ok, result = pcall(fn, v, values)
  if not ok then error({ [FN_ERROR] = true, result }, 0) end
  if result == nil then return nil end
  local db, new = self._db, nil
  ok, new = pcall(db.put_state, db, ks, key, st, result, ctx)
  if not ok then
    -- the state and context come from the read: a bad argument is the
    -- result, which vv.open's update reports in these words
    local why = tostring(new):match("bad argument #%d+ to '[^']*' %((.*)%)$")
    if why then error("the function's result cannot be stored: " .. why, 0) end
    error(new, 0)
  end
  own_replace(self, ks, key, new)
  return result
end

--- db:update(ks, key, fn) -> what fn returned: fn(value, values) gets the
-- value db:get would show as r.value (nil when absent, deleted, or
-- several siblings stay unresolved) and, when the key holds several
-- siblings, r.values; unless it returns nil its result is written with
-- the read's context, in one transaction with the read.  An error of fn
-- is raised as it was, and nothing is written.
function Store:update(ks, key, fn)
  if type(fn) ~= "function" then
    error("bad argument #3 to 'update' (function expected, got "
          .. type(fn) .. ")", 2)
  end
  local ok, r = pcall(in_txn, do_update, self, ks, key, fn)
  if not ok then
    self._rec.own = false
    if type(r) == "table" and r[FN_ERROR] then error(r[1], 0) end
    fail("update", r)
  end
  return r
end

--- db:export(ks, key) -> the key's state (nil when never written).
function Store:export(ks, key)
  return stored(self, ks, key)
end

-- The merge of db:merge: check the state, merge it with the stored one.
local function do_merge(self, ks, key, state)
  local k, why = vv.state_key(state)
  if k == nil then error(why, 0) end
  if k ~= key then error("state belongs to another key", 0) end
  local st = stored(self, ks, key)
  own_replace(self, ks, key, st and vv.merge_states(st, state) or state)
  return true
end

--- db:merge(ks, key, state) -> true; a bad state raises, nothing changes.
function Store:merge(ks, key, state)
  return guarded(self, "merge", do_merge, ks, key, state)
end

--- db:keyspace(ks, opts): configure the keyspace on every instance of
-- the replica set (vv/tarantool/config.lua): resolver (a built-in name or
-- a script path: its source is what travels), codec, limits, as vv.open
-- takes them; a function resolver is refused.  Applied here first: a
-- script that does not load raises and nothing is written.  Concurrent
-- changes converge to one (last writer wins).  db:keyspace(ks) -> this
-- instance's configuration table.
function Store:keyspace(ks, opts)
  return Config.keyspace(self, ks, opts)
end

--- db:batch(fn, ...): fn's writes in one box transaction.
function Store:batch(fn, ...)
  return in_txn(fn, ...)
end

--- db:actor() -> this instance's vv actor (node plus incarnation).
function Store:actor() return self._db:actor() end

--- db:space() -> the box space holding the states.
function Store:space() return self._space end

--- db:close(): release the vv store (the space and trigger stay).
function Store:close()
  if self._closed then return end
  self._rec.stores[self] = nil
  Config.stop(self)
  Reaper.stop(self)
  self._db:close()
end

--- vvt.open{node = "t1", space = "vv"} -> a store handle with vv.open's
-- put/get/delete/update/keyspace/export/merge.  After box.cfg.  Creates the
-- space when missing (see vvt.schema for where to do that in a set) or,
-- on a read-only instance, waits up to `timeout` seconds (default 10)
-- for it to arrive by replication; installs the merge trigger.
function M.open(opts)
  if type(opts) ~= "table" then error("vvt.open: options table expected", 2) end
  if type(opts.node) ~= "string" or opts.node == "" then
    error("vvt.open: option 'node' (this replica's name) is required", 2)
  end
  if not configured() then error("vvt.open: call box.cfg first", 2) end
  local name = opts.space or DEFAULT_SPACE
  if box.space[name] == nil and not box.info.ro then
    box.once("vv.tarantool:" .. name, M.schema, { space = name })
  end
  local waited = 0                      -- created elsewhere: on its way?
  while box.space[name] == nil and waited < (opts.timeout or 10) do
    fiber.sleep(0.05)
    waited = waited + 0.05
  end
  local s = box.space[name]
  if s == nil then
    error("vvt.open: space '" .. name .. "' does not exist", 2)
  end
  if s.engine ~= "memtx" then
    error("vvt.open: space '" .. name .. "' must be memtx (a vinyl read "
          .. "may yield between reading and writing a state)", 2)
  end
  install(name)
  if not prepared[name] and box.cfg.replication ~= nil and
     #box.cfg.replication > 0 then
    log.warn("vv: vvt.prepare{space = '%s'} was not called before box.cfg: "
             .. "rows replicated while box.cfg ran were applied unmerged",
             name)
  end
  local db = vv.open { node = opts.node }
  local store = setmetatable({ _db = db, _space = s, _rec = space_rec(name),
                               _name = name, _node = opts.node }, Store)
  Config.start(store, opts)
  store._rec.stores[store] = true
  store._rec.last = store
  Reaper.start(store, opts)
  return store
end

--- vvt.status([space]) -> what this instance runs, and what every
-- instance of the set reported: {node, actor, id, uuid, keyspaces =
-- {[ks] = {config, resolver, script, name, error}}, instances = {[node]
-- = the same}, trigger = vvt.stats()}.  `config` and `script` are the
-- first 16 hex digits of SHA-256 hashes; `error` says why this instance
-- refused the set's configuration of the keyspace.
function M.status(name)
  local rec = space_rec(name or DEFAULT_SPACE)
  local store = rec.last
  if store == nil or store._closed then
    error("vvt.status: no store is open on space '" .. (name or
          DEFAULT_SPACE) .. "' (vvt.open)", 2)
  end
  local out = Config.status(store)
  out.trigger = M.stats(name)
  out.reaper = Reaper.status(rec)
  return out
end

--- vvt.stats([space]) -> counters of the space's trigger: merged (rows
-- that brought concurrent versions), refused, written (own writes),
-- replicated (rows that came by replication), passed (recovery rows).
function M.stats(name)
  local st = space_rec(name or DEFAULT_SPACE).stats
  local out = {}
  for k, v in pairs(st) do out[k] = v end
  return out
end

return M
