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

-- Does row t hold a state vv accepts, of its own key?  (nil, why) if not.
local function valid(t)
  local st = t[3]
  if type(st) ~= "string" then
    return nil, "the state field is a " .. type(st) .. ", not a string"
  end
  local key, why = vv.state_key(st)
  if key == nil then return nil, why end
  if key ~= t[2] then
    return nil, "it is the state of another key (" .. show(key) .. ")"
  end
  return true
end

-- The message a refused local request raises: what was refused, why,
-- and the call to use instead.
local function refusal(name, t, what, why, use)
  return string.format("vv: space '%s' key {%s, %s}: refused %s: %s; %s",
                       name, show(t[1]), show(t[2]), what, why, use)
end

local USE_PUT = "write through vv.tarantool (db:put, db:merge)"
local USE_DELETE = "vv keeps deletes as tombstones: use db:delete"

-- What the trigger does with one request, as (action, tuple): "keep"
-- (let the request through as it is), "tuple" (store this tuple), "old"
-- (keep the stored row; for an insert with no row: store nothing), or
-- "refuse" with the message a local caller gets (rows from replication
-- are refused with "old" and a log line: raising would stop the applier).
local function decide(rec, name, old, new, applier)
  if new == nil then                             -- a delete request
    if old ~= nil then
      local ost = old[3]
      -- the row of a reap marker goes (the delete the marker comes with)
      if type(ost) == "string" and ost:byte(1) == 0 then return "keep" end
      -- the delete that came with a marker this instance did not apply
      if applier and rec.expect == old[1] .. "\0" .. old[2] then
        rec.expect = nil
        return "old"
      end
    end
    if old ~= nil and valid(old) then
      rec.stats.refused = rec.stats.refused + 1
      if not applier then
        return "refuse", refusal(name, old, "a row delete", "row deletes "
                                 .. "are not vv deletes", USE_DELETE)
      end
      log.warn("vv: space '%s' key {%s, %s}: refused a row delete from "
               .. "replication (vv keeps deletes as tombstones: use "
               .. "db:delete)", name, show(old[1]), show(old[2]))
      return "old"
    end
    return "keep"
  end
  local st = new[3]
  if applier and type(st) == "string" and st:sub(1, #MARK) == MARK then
    -- another instance reaped the key's tombstone T: the row goes here
    -- too only if it holds exactly T (the delete that follows removes
    -- the marker); else this row stays, and so does the delete's
    if old ~= nil and old[3] == st:sub(#MARK + 1) then
      if rec.reap then rec.reap.applied = rec.reap.applied + 1 end
      return "keep"
    end
    rec.expect = new[1] .. "\0" .. new[2]
    return "old"
  end
  local ok, why = valid(new)
  if not ok then
    rec.stats.refused = rec.stats.refused + 1
    if not applier then
      return "refuse", refusal(name, new, "a raw write", why, USE_PUT)
    end
    log.error("vv: space '%s' key {%s, %s}: refused a state from "
              .. "replication: %s; the local state stays", name,
              show(new[1]), show(new[2]), tostring(why))
    return "old"
  end
  if applier then
    rec.stats.replicated = rec.stats.replicated + 1
  end
  if new[1] == CONFIG_ROW then box.on_commit(rec.on_config) end
  if old == nil then                             -- nothing here yet
    return "tuple", box.tuple.new { new[1], new[2], new[3] }
  end
  local ok, merged = pcall(vv.merge_states, old[3], new[3])
  if not ok then
    -- new is valid: when old is not, take new as it is; else the merge
    -- itself failed, and that goes on as an error
    if not valid(old) then
      return "tuple", box.tuple.new { new[1], new[2], new[3] }
    end
    error(merged, 0)
  end
  if merged ~= old[3] and merged ~= new[3] then
    rec.stats.merged = rec.stats.merged + 1
  end
  -- always a fresh tuple, even when it equals old: returning old would
  -- turn the row into a NOP, which is relayed as such and so would never
  -- reach an instance that hears of it only through this one
  return "tuple", box.tuple.new { new[1], new[2], merged }
end

-- The before_replace trigger of space `name`.  It never yields (vv's C
-- calls do not).  A refused local request raises, so that its caller
-- (over net.box too) gets the error and the row stays; for rows from
-- replication it never raises: an error in a before_replace trigger
-- stops the replication of every upstream that sends the row.
local function make_trigger(name)
  local rec = space_rec(name)
  local function decision(old, new)
    if rec.own then
      rec.stats.written = rec.stats.written + 1
      return
    end
    -- recovery of the local WAL and snapshot: rows are final states
    if box.info.status == "loading" and box.session.type() ~= "applier" then
      rec.stats.passed = rec.stats.passed + 1
      return
    end
    local applier = box.session.type() == "applier"
    local ok, action, tuple = pcall(decide, rec, name, old, new, applier)
    if not ok then
      rec.stats.refused = rec.stats.refused + 1
      if not applier then
        return "refuse", "vv: space '" .. name .. "': the merge failed: "
               .. tostring(action)
      end
      pcall(log.error, "vv: space '%s': the merge failed (%s); the local "
            .. "row stays", name, tostring(action))
      return "old"
    end
    return action, tuple
  end
  return function(old, new)
    local action, tuple = decision(old, new)
    if old ~= nil then release(old) end
    if new ~= nil then release(new) end
    if action == "tuple" then return tuple end
    if action == "old" then return old end
    if action == "refuse" then error(tuple, 0) end
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

-- Is box.cfg done (box.cfg is a function before, a table after)?
local function configured()
  return type(box.cfg) ~= "function"
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

--- db:get(ks, key) -> nil when absent or deleted, else the read
-- {value, values, siblings, context, error} as vv's db:get gives it.  A
-- keyspace whose configuration this instance refused (its script did not
-- load here) reads siblings unresolved, with the refusal in r.error.
function Store:get(ks, key)
  local st = stored(self, ks, key)
  if st == nil then return nil end
  local r = self._db:get_state(ks, st)
  local why = self._cfg[ks] and self._cfg[ks].refused
  if why and r and r.error == nil and #r.siblings > 1 then
    r.value, r.error = nil, why
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
-- put/get/delete/keyspace/export/merge.  After box.cfg.  Creates the
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
