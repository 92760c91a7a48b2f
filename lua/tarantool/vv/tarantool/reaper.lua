-- vv/tarantool/reaper.lua - rows of deleted keys removed once it is safe
-- (part of require "vv.tarantool"; docs/tarantool.md, "Tombstones").
--
-- A key deleted with db:delete keeps a row holding its tombstone, so that
-- the delete wins over the versions it saw wherever they turn up.  Once
-- no instance can ever again receive a row carrying one of those
-- versions, the row can go.  Each instance watches the keys it deleted
-- (and, after a start, every row holding a tombstone); for a key whose
-- state T holds only deletes:
--
--   1. note the local vclock V1;
--   2. wait until every registered peer has acknowledged V1 (its
--      downstream vclock >= V1: it has merged T); then V2 = the
--      componentwise maximum of those acknowledgements and the local
--      vclock: every row written anywhere before its writer had T is
--      numbered at most V2;
--   3. wait until every peer has acknowledged V2 and the local vclock is
--      at V2: no row carrying a version T covers can reach any instance
--      any more; then, if the row still holds exactly T, reap it.
--
-- A peer that is not connected counts as not there yet.  The reap is
-- this instance's own write, in one transaction: the row replaced by a
-- marker naming T, then deleted.  Every other instance applies the marker
-- only where its own row holds exactly T (the trigger keeps its row
-- otherwise, and ignores the delete that follows); since the marker and
-- the delete are in its WAL as they came, the instances that hear of them
-- through it see the same.
local log = require "log"
local fiber = require "fiber"
local vv = require "vv"

return function(I)
  local R = {}

  local BATCH = 200            -- reaps per transaction
  local SCAN = 1000            -- rows per step of the start-up scan

  -- The reaper record of space record rec.
  local function reaper(rec)
    local r = rec.reap
    if r == nil then
      r = { pending = {}, gens = {}, reaped = 0, applied = 0,
            interval = 1, scanned = false, waiting = 0 }
      rec.reap = r
    end
    return r
  end

  --- Note that ks/key may hold only deletes (a delete was written here).
  function R.note(rec, ks, key)
    local r = rec.reap
    if r ~= nil then r.pending[ks .. "\0" .. key] = { ks, key } end
  end

  -- Does vclock a cover vclock b (componentwise, component 0 left out)?
  local function covers(a, b)
    for id, lsn in pairs(b) do
      if id ~= 0 and (a[id] or 0) < lsn then return false end
    end
    return true
  end

  -- The acknowledged vclocks of every registered peer, or nil when one is
  -- not following this instance.
  local function acked()
    local self_id = box.info.id
    local repl = box.info.replication
    local out = {}
    for _, t in box.space._cluster:pairs() do
      local id = t[1]
      if id ~= self_id then
        local r = repl[id]
        local d = r and r.downstream
        if d == nil or d.status ~= "follow" or d.vclock == nil then
          return nil
        end
        out[#out + 1] = d.vclock
      end
    end
    return out
  end

  local function all_cover(list, v)
    for _, a in ipairs(list) do
      if not covers(a, v) then return false end
    end
    return true
  end

  local function vmax(list, v)
    local m = {}
    for id, lsn in pairs(v) do m[id] = lsn end
    for _, a in ipairs(list) do
      for id, lsn in pairs(a) do
        if (m[id] or 0) < lsn then m[id] = lsn end
      end
    end
    return m
  end

  -- Does state st hold tombstones, and only tombstones?
  local function kind(st)
    if st == nil or st:byte(1) == 0 then return "gone" end
    local live, tombs = vv.state_count(st)
    if live == nil or tombs == 0 then return "gone" end
    if live > 0 then return "mixed" end
    return "tomb"
  end

  -- Reap the keys of gen that still hold exactly their T, BATCH to a
  -- transaction; those that changed go back to pending.
  local function reap(store, r, gen)
    local list = {}
    for id, c in pairs(gen.keys) do list[#list + 1] = { id, c } end
    local i = 1
    while i <= #list do
      local last = math.min(#list, i + BATCH - 1)
      local n = 0
      local ok, err = pcall(I.in_txn, function()
        for j = i, last do
          local id, c = list[j][1], list[j][2]
          local st = I.stored(store, c[1], c[2])
          if st == c[3] then
            I.own_replace(store, c[1], c[2], I.MARK .. st)
            I.own_delete(store, c[1], c[2])
            n = n + 1
          elseif kind(st) ~= "gone" then
            r.pending[id] = { c[1], c[2] }
          end
        end
      end)
      if ok then
        r.reaped = r.reaped + n
      else
        store._rec.own = false
        log.warn("vv: reaping tombstones: %s (tried again later)",
                 tostring(err))
        for j = i, last do r.pending[list[j][1]] = { list[j][2][1],
                                                     list[j][2][2] } end
      end
      i = last + 1
      fiber.yield()
    end
  end

  -- After a start: every row that holds a tombstone is pending.
  local function scan(store, r)
    local space = store._space
    local last
    while true do
      local rows = last and space:select(last, { iterator = "GT",
                                                 limit = SCAN })
                   or space:select({}, { limit = SCAN })
      if #rows == 0 then break end
      for _, t in ipairs(rows) do
        local ks, key, st = I.slice(t, 0)
        if ks:byte(1) ~= 0 and kind(st) ~= "gone" then
          r.pending[ks .. "\0" .. key] = { ks, key }
        end
      end
      local t = rows[#rows]
      last = { t[1], t[2] }
      fiber.yield()
    end
    r.scanned = true
  end

  -- One round: new tombstone keys start a generation; generations move
  -- on as the peers' acknowledgements allow.
  local function round(store, r)
    if not r.scanned then scan(store, r) end
    local gen = { keys = {}, n = 0 }
    local checked = 0
    -- deletes go on noting keys while this yields: into a fresh table
    local list = r.pending
    r.pending = {}
    for id, c in pairs(list) do
      local st = I.stored(store, c[1], c[2])
      local k = kind(st)
      if k == "tomb" then
        gen.keys[id] = { c[1], c[2], st }
        gen.n = gen.n + 1
      elseif k == "mixed" then
        r.pending[id] = c
      end
      checked = checked + 1
      if checked % SCAN == 0 then fiber.yield() end
    end
    if gen.n > 0 then
      -- V1: a vclock that covers every row that made these states.  A
      -- row is visible in memtx once it is queued for the WAL, and the
      -- vclock counts it once written; the WAL writes in order, so once
      -- a write of this instance queued after them is written (this
      -- instance's status row: a small replicated write), it covers them
      if I.barrier(store) then
        gen.v1 = box.info.vclock
        r.gens[#r.gens + 1] = gen
      else
        for id, c in pairs(gen.keys) do r.pending[id] = { c[1], c[2] } end
      end
    end
    if #r.gens == 0 then return end
    local peers = acked()
    local keep, waiting = {}, 0
    for _, g in ipairs(r.gens) do
      if peers ~= nil and g.v2 == nil and all_cover(peers, g.v1) then
        g.v2 = vmax(peers, box.info.vclock)
      end
      if peers ~= nil and g.v2 ~= nil and all_cover(peers, g.v2) and
         covers(box.info.vclock, g.v2) and not box.info.ro then
        reap(store, r, g)
      else
        keep[#keep + 1] = g
        waiting = waiting + g.n
      end
    end
    r.gens = keep
    r.waiting = waiting
  end

  --- Start the reaper of store's space (one per space).
  function R.start(store, opts)
    local rec = store._rec
    local r = reaper(rec)
    if opts.reap == false or r.fiber ~= nil then return end
    if type(opts.reap) == "table" and opts.reap.interval then
      r.interval = opts.reap.interval
    end
    r.store = store
    r.fiber = fiber.create(function()
      while r.store ~= nil and not r.store._closed do
        local ok, err = pcall(round, r.store, r)
        if not ok then
          log.error("vv: reaping tombstones: %s", tostring(err))
        end
        fiber.sleep(r.interval)
      end
      r.fiber = nil
    end)
    r.fiber:name("vv-reaper", { truncate = true })
  end

  --- Hand the reaper over to another store of the space when store closes.
  function R.stop(store)
    local r = store._rec.reap
    if r == nil or r.store ~= store then return end
    r.store = nil
    for other in pairs(store._rec.stores) do
      if other ~= store and not other._closed then r.store = other; break end
    end
  end

  --- What vvt.status() shows of the reaper.
  function R.status(rec)
    local r = rec.reap
    if r == nil then return nil end
    local pending = 0
    for _ in pairs(r.pending) do pending = pending + 1 end
    return { pending = pending, waiting = r.waiting, reaped = r.reaped,
             applied = r.applied, running = r.fiber ~= nil }
  end

  return R
end
