-- vv/tarantool/config.lua - one keyspace configuration for the replica
-- set (part of require "vv.tarantool"; docs/tarantool.md, "One
-- configuration for the set").
--
-- Each keyspace's configuration (resolver: a built-in name or a script's
-- source; codec; limits) is a vv key of its own: the row {"\0config", ks,
-- state} of the store's space, written with db:keyspace on any instance.
-- Tarantool replicates it and the merge trigger merges it like any other
-- state, so concurrent changes become siblings, and every instance reads
-- the same winner: the built-in "lww" resolver (timestamp, then actor,
-- then counter) is deterministic.  Each instance applies the winner to
-- its own vv store when the row commits there.  A script travels as its
-- source, identified by its SHA-256; each instance keeps it as a file
-- named by that hash.  A configuration an instance cannot use (its
-- script does not load there) is refused there: logged, reported by
-- vvt.status(), and reads of the keyspace say so in r.error instead of
-- resolving some other way.  Each instance also writes the row
-- {"\0status", node, state}: what it applied, so that vvt.status() on
-- any instance shows every instance.
local vv = require "vv"
local log = require "log"
local fiber = require "fiber"
local fio = require "fio"
local digest = require "digest"

return function(I)
  local C = {}

  C.ROW = "\0config"           -- the ks field of configuration rows
  C.STATUS = "\0status"        -- the ks field of instances' status rows
  local KS = "config"          -- their keyspace in the config store
  local RETRY = 1              -- seconds between retries of a refused one

  local FIELDS = { "resolver", "name", "source", "codec", "writeback",
                   "warn_siblings", "max_siblings", "history", "budget" }
  local OPTS = { resolver = true, codec = true, writeback = true,
                 warn_siblings = true, max_siblings = true, history = true,
                 budget = true }

  -- Is this resolver string a script path (as vv.open decides)?
  local function is_path(r)
    return r:find("/", 1, true) ~= nil or r:sub(-4) == ".lua"
  end

  local function sha(s) return digest.sha256_hex(s) end

  -- The configuration value db:keyspace(ks, opts) writes: opts with a
  -- script path replaced by the script's source (and its file name).
  local function value_of(ks, opts)
    if type(opts) ~= "table" then
      error("keyspace: options table expected", 3)
    end
    local v = {}
    for k, x in pairs(opts) do
      if not OPTS[k] then
        error("keyspace: unknown option '" .. tostring(k) .. "'", 3)
      end
      v[k] = x
    end
    local r = opts.resolver
    if type(r) == "function" then
      error("keyspace '" .. ks .. "': a function resolver lives in one "
            .. "process, and the replica set shares one configuration: "
            .. "give a resolver script (a path) instead", 3)
    end
    if type(r) == "string" and is_path(r) then
      local f, err = io.open(r, "rb")
      if f == nil then
        error("keyspace '" .. ks .. "': cannot read the resolver script: "
              .. tostring(err), 3)
      end
      v.source = f:read("*a")
      f:close()
      v.resolver = "script"
      v.name = r:match("[^/]*$")
    end
    if type(v.budget) == "table" then
      v.budget = { instructions = v.budget.instructions,
                   memory = v.budget.memory }
    end
    return v
  end

  -- A canonical text of a configuration value (equal values, equal
  -- texts), with the script as its hash.
  local function canon(v)
    local parts = {}
    for _, k in ipairs(FIELDS) do
      local x = v[k]
      if k == "source" and x ~= nil then x = "sha256:" .. sha(x) end
      if type(x) == "table" then
        x = string.format("{%s,%s}", tostring(x.instructions),
                          tostring(x.memory))
      end
      if x ~= nil then parts[#parts + 1] = k .. "=" .. tostring(x) end
    end
    return table.concat(parts, ";")
  end

  -- The short identity shown for a configuration and a script.
  local function short(hex) return hex:sub(1, 16) end

  -- Keep a script's source as <dir>/<sha256>.lua; its path.
  local function script_file(dir, source)
    local path = fio.pathjoin(dir, sha(source) .. ".lua")
    local f = io.open(path, "rb")
    if f ~= nil then
      local same = f:read("*a") == source
      f:close()
      if same then return path end
    end
    if not fio.path.is_dir(dir) and not fio.mktree(dir) then
      error("cannot make the script directory " .. dir, 0)
    end
    local tmp = path .. ".tmp"
    local err
    f, err = io.open(tmp, "wb")
    if f ~= nil then
      local okw
      okw, err = f:write(source)
      f:close()
      if okw then
        okw, err = os.rename(tmp, path)
        if okw then return path end
        err = tostring(err):gsub("^[^:]*: ", "")
      end
      os.remove(tmp)
    end
    error("cannot keep the script as " .. path .. ": " .. tostring(err), 0)
  end

  -- The options of vv's db:keyspace for value v; the script's file made.
  local function local_opts(store, v)
    local o = {}
    for k in pairs(OPTS) do o[k] = v[k] end
    if v.resolver == "script" then
      o.resolver = script_file(store._scripts, v.source)
    end
    return o
  end

  -- The options of v without its resolver (a refused configuration).
  local function local_opts_safe(v)
    local o = {}
    for k in pairs(OPTS) do o[k] = v[k] end
    o.resolver = nil
    return o
  end

  -- What vvt.status() shows of configuration value v (and a refusal).
  local function describe(v, err)
    local d = { config = short(sha(canon(v))),
                resolver = v.resolver or "siblings", error = err }
    if v.source ~= nil then
      d.script = "sha256:" .. short(sha(v.source))
      d.name = v.name
    end
    return d
  end

  -- Apply value v (from state st) to store's keyspace ks.  A script that
  -- does not load here is refused: the keyspace keeps the rest of the
  -- configuration, with no resolver, and reads report the refusal.
  local function apply(store, ks, v, st)
    local ok, err = pcall(function()
      store._db:keyspace(ks, local_opts(store, v))
    end)
    local rec = store._cfg[ks]
    local prev = rec and rec.st
    if ok then
      store._cfg[ks] = { st = st, show = describe(v) }
      if prev ~= st then
        log.info("vv: keyspace '%s' configured: config %s%s", ks,
                 store._cfg[ks].show.config,
                 v.source and (", script " .. store._cfg[ks].show.script
                               .. " (" .. tostring(v.name) .. ")") or "")
      end
      return true
    end
    err = tostring(err):gsub("^keyspace: ", "")
    local why = string.format("keyspace '%s': the replica set's "
      .. "configuration %s cannot be used on this instance: %s; reads "
      .. "show siblings unresolved until it can", ks,
      short(sha(canon(v))), err)
    if not (rec and rec.st == st and rec.show.error == why) then
      log.error("vv: %s", why)
    end
    local o = local_opts_safe(v)
    pcall(function() store._db:keyspace(ks, o) end)
    store._cfg[ks] = { st = st, show = describe(v, why), refused = why }
    return false
  end

  -- The winning configuration value of state st (nil, why when none).
  local function winner(store, st)
    local ok, r = pcall(store._cdb.get_state, store._cdb, KS, st)
    if not ok then return nil, tostring(r) end
    if r == nil or type(r.value) ~= "table" then
      return nil, "not a configuration"
    end
    return r.value
  end

  -- Apply every configuration row whose state changed since this store
  -- last applied it (or that was refused: try again).  Returns whether
  -- anything this instance shows changed.
  function C.sync(store)
    local changed = false
    for _, t in store._space:pairs({ C.ROW }, { iterator = "EQ" }) do
      local ks, st = I.slice(t, 1)
      local rec = store._cfg[ks]
      if rec == nil or rec.st ~= st or rec.refused then
        local before = rec and rec.show.error
        local v, why = winner(store, st)
        if v ~= nil then
          apply(store, ks, v, st)
        elseif not (rec and rec.st == st) then
          log.error("vv: keyspace '%s': its configuration row cannot be "
                    .. "read (%s); the keyspace stays as it was", ks, why)
          store._cfg[ks] = { st = st, show = { error = why } }
        end
        local now = store._cfg[ks]
        changed = changed or rec == nil or rec.st ~= st or
                  before ~= (now and now.show.error)
      end
    end
    return changed
  end

  -- This instance's status value: what it applied, keyspace by keyspace.
  local function status_value(store)
    local ks = {}
    for name, rec in pairs(store._cfg) do ks[name] = rec.show end
    return { node = store._node, actor = store._db:actor(),
             id = box.info.id, uuid = box.info.uuid, keyspaces = ks }
  end

  -- Write this instance's status row (when it may write); whether it did.
  local function publish(store)
    if box.info.ro then return false end
    local ok, err = pcall(I.in_txn, function()
      local st = I.stored(store, C.STATUS, store._node)
      local ctx
      if st ~= nil then
        local r = store._cdb:get_state(KS, st)
        ctx = r and r.context
      end
      local new = store._cdb:put_state(KS, store._node, st,
                                       status_value(store), ctx)
      I.own_replace(store, C.STATUS, store._node, new)
    end)
    if not ok then
      store._rec.own = false
      log.warn("vv: could not write this instance's status row: %s",
               tostring(err))
    end
    return ok
  end
  C.publish = publish

  --- store:keyspace(ks, opts): the set-wide write (see the module's
  -- header); without opts, this instance's configuration table.
  function C.keyspace(store, ks, opts)
    if opts == nil then return store._db:keyspace(ks) end
    if type(ks) ~= "string" then
      error("bad argument #1 to 'keyspace' (string expected, got "
            .. type(ks) .. ")", 2)
    end
    local v = value_of(ks, opts)
    if box.info.ro then
      error("keyspace '" .. ks .. "': this instance is read-only; "
            .. "configure keyspaces on a writable one (the configuration "
            .. "reaches every instance)", 2)
    end
    local st = I.stored(store, C.ROW, ks)
    local cur, ctx
    if st ~= nil then
      local r = store._cdb:get_state(KS, st)
      cur, ctx = r and r.value, r and r.context
    end
    if cur ~= nil and canon(cur) == canon(v) then
      -- the set runs this already: nothing to write
      apply(store, ks, v, st)
      return store._db:keyspace(ks)
    end
    -- here first, so that a script that does not load is refused before
    -- anything reaches the set
    store._db:keyspace(ks, local_opts(store, v))
    local new
    local ok, err = pcall(I.in_txn, function()
      new = store._cdb:put_state(KS, ks, I.stored(store, C.ROW, ks), v, ctx)
      I.own_replace(store, C.ROW, ks, new)
    end)
    if not ok then
      store._rec.own = false
      if cur ~= nil then pcall(apply, store, ks, cur, st) end
      error("keyspace: " .. tostring(err), 2)
    end
    apply(store, ks, v, new)
    publish(store)
    return store._db:keyspace(ks)
  end

  -- The fiber that applies configuration rows when they commit here.
  local function run(store)
    while not store._closed do
      store._cond:wait(RETRY)
      if store._closed then break end
      local ok, changed = pcall(C.sync, store)
      if not ok then
        log.error("vv: applying keyspace configurations: %s",
                  tostring(changed))
      elseif changed then
        publish(store)
      end
    end
  end

  --- Start the configuration of store: apply the rows there are, then
  -- follow them.
  function C.start(store, opts)
    store._cdb = vv.open { node = store._node }
    store._cdb:keyspace(KS, { resolver = "lww" })
    store._cfg = {}
    store._scripts = opts.scripts or
      fio.pathjoin(fio.abspath(box.cfg.work_dir or "."), "vv-scripts")
    store._cond = fiber.cond()
    C.sync(store)
    publish(store)
    store._fiber = fiber.create(run, store)
    store._fiber:name("vv-config", { truncate = true })
  end

  function C.stop(store)
    store._closed = true
    if store._cond then store._cond:signal() end
    if store._cdb then store._cdb:close() end
  end

  --- The refusal of keyspace ks on this instance (nil when none).
  function C.refused(store, ks)
    local rec = store._cfg[ks]
    return rec and rec.refused
  end

  --- What vvt.status() shows: this instance's keyspaces, and every
  -- instance's status row.
  function C.status(store)
    local out = status_value(store)
    local all = {}
    for _, t in store._space:pairs({ C.STATUS }, { iterator = "EQ" }) do
      local node, st = I.slice(t, 1)
      local v = winner(store, st)
      if v ~= nil then all[node] = v end
    end
    all[store._node] = status_value(store)
    out.instances = all
    return out
  end

  return C
end
