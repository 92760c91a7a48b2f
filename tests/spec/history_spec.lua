-- history_spec.lua - random histories on three replicas, checked against
-- a model of what each write's context had seen.
--
-- Every write gets a unique id (its value).  The model keeps, per replica
-- and key, the writes the replica holds (known) and the writes its context
-- covers (covered); a write's "seen" set is the covered set of the read
-- whose context it used.  A replica must show exactly the known non-delete
-- writes that no known write has seen:
--   no lost write      - every such write is shown;
--   no false conflict  - nothing some known write had seen is shown;
--   no resurrection    - a replaced or deleted write never comes back.
-- After a full exchange every replica shows the same siblings in the same
-- order.
local vv = require "vv"

local NODES = { "s0", "s1", "s2" }
local KEYS = { "k1", "k2", "k3" }

local function copy(set)
  local t = {}
  for k in pairs(set) do t[k] = true end
  return t
end

local function union(into, from)
  for k in pairs(from) do into[k] = true end
end

local function fmtset(set)
  local t = {}
  for k in pairs(set) do t[#t + 1] = k end
  table.sort(t)
  return "{" .. table.concat(t, ",") .. "}"
end

-- One random history with seed; nops operations.
local function history(seed, nops)
  math.randomseed(seed)
  local dbs, model, reads, writes = {}, {}, {}, {}
  local last_ts, last_counter = {}, {}
  local nextid = 0
  for i, n in ipairs(NODES) do
    dbs[i] = vv.open { node = n }
    model[i], reads[i] = {}, {}
    last_ts[i], last_counter[i] = 0, 0
    for _, k in ipairs(KEYS) do
      model[i][k] = { known = {}, covered = {} }
      reads[i][k] = {}
    end
  end

  local function where(i, k, what)
    return string.format("seed %d, %s, key %s: %s", seed, NODES[i], k, what)
  end

  -- The ids a replica must show for key k.
  local function expected(i, k)
    local m = model[i][k]
    local dominated, live = {}, {}
    for id in pairs(m.known) do union(dominated, writes[id].seen) end
    for id in pairs(m.known) do
      if not writes[id].tomb and not dominated[id] then live[id] = true end
    end
    return live, dominated
  end

  -- Read key k on replica i and compare with the model; remember the
  -- read's context for later (stale) writes.
  local function check(i, k)
    local r = dbs[i]:get("h", k)
    local live, dominated = expected(i, k)
    local shown = {}
    if r then
      for j, v in ipairs(r.values) do
        local id = v.id
        assert(not shown[id], where(i, k, "write " .. id .. " shown twice"))
        shown[id] = true
        local w = writes[id]
        assert(w, where(i, k, "unknown value"))
        assert(not w.tomb, where(i, k, "a delete shown as a sibling"))
        assert(not dominated[id], where(i, k, "false conflict / resurrection:"
          .. " write " .. id .. " was seen by a later write"))
        eq(r.siblings[j].node, NODES[w.replica], where(i, k, "sibling node"))
      end
      if #r.values == 1 then eq(r.value, r.values[1]) end
    end
    for id in pairs(live) do
      assert(shown[id], where(i, k, "lost write " .. id .. "; shown "
        .. fmtset(shown) .. ", expected " .. fmtset(live)))
    end
    local rs = reads[i][k]
    if r then
      rs[#rs + 1] = { ctx = r.context, seen = copy(model[i][k].covered) }
      if #rs > 4 then table.remove(rs, 1) end
    end
    return r
  end

  -- A context to write with: none, a recent read on this replica (maybe
  -- stale), or now and then one from another replica.
  local function pick_context(i, k)
    local p = math.random()
    local from = i
    if p < 0.2 then return nil, {} end
    if p > 0.9 then from = math.random(1, #NODES) end
    local rs = reads[from][k]
    if #rs == 0 then return nil, {} end
    local rd = rs[math.random(1, #rs)]
    return rd.ctx, rd.seen
  end

  -- Record a new write in the model.
  local function wrote(i, k, seen, tomb)
    nextid = nextid + 1
    writes[nextid] = { seen = seen, tomb = tomb, replica = i }
    local m = model[i][k]
    m.known[nextid] = true
    union(m.covered, seen)
    m.covered[nextid] = true
    return nextid
  end

  for _ = 1, nops do
    local i = math.random(1, #NODES)
    local k = KEYS[math.random(1, #KEYS)]
    local op = math.random()
    if op < 0.35 then
      check(i, k)
    elseif op < 0.65 then
      local ctx, seen = pick_context(i, k)
      local id = wrote(i, k, seen, false)
      local newctx = dbs[i]:put("h", k, { id = id, pad = ("x"):rep(id % 7) },
                                ctx)
      assert(vv.compare(newctx, ctx or vv.clock()) == "after",
             where(i, k, "the new context covers the write"))
      -- the write is shown at once; its dot and time only go forward
      local r = dbs[i]:get("h", k)
      local found
      for j, v in ipairs(r.values) do
        if v.id == id then found = r.siblings[j] end
      end
      assert(found, where(i, k, "fresh write " .. id .. " not shown"))
      assert(found.timestamp >= last_ts[i], where(i, k, "time went back"))
      assert(found.counter > last_counter[i], where(i, k, "counter reused"))
      last_ts[i], last_counter[i] = found.timestamp, found.counter
    elseif op < 0.75 then
      local ctx, seen = pick_context(i, k)
      wrote(i, k, seen, true)
      dbs[i]:delete("h", k, ctx)
    else
      local j = math.random(1, #NODES - 1)
      if j >= i then j = j + 1 end
      local st = dbs[j]:export("h", k)
      if st then
        dbs[i]:merge("h", k, st)
        union(model[i][k].known, model[j][k].known)
        union(model[i][k].covered, model[j][k].covered)
      else
        assert(next(model[j][k].known) == nil,
               where(j, k, "export gave nothing for a written key"))
      end
    end
  end

  -- Full exchange: two rounds of every pair, then all agree.
  for _, k in ipairs(KEYS) do
    for _ = 1, 2 do
      for i = 1, #NODES do
        for j = 1, #NODES do
          if i ~= j then
            local st = dbs[j]:export("h", k)
            if st then
              dbs[i]:merge("h", k, st)
              union(model[i][k].known, model[j][k].known)
              union(model[i][k].covered, model[j][k].covered)
            end
          end
        end
      end
    end
    local first = check(1, k)
    for i = 2, #NODES do
      local r = check(i, k)
      if first == nil then
        eq(r, nil, where(i, k, "converged to deleted"))
      else
        assert(r, where(i, k, "converged state missing"))
        eq(#r.siblings, #first.siblings, where(i, k, "sibling count"))
        for j, s in ipairs(r.siblings) do
          local f = first.siblings[j]
          eq(s.value.id, f.value.id, where(i, k, "sibling order"))
          eq(s.actor, f.actor, where(i, k, "sibling actor"))
          eq(s.counter, f.counter, where(i, k, "sibling counter"))
          eq(s.timestamp, f.timestamp, where(i, k, "sibling timestamp"))
        end
        assert(r.context == first.context, where(i, k, "contexts differ"))
        eq(dbs[i]:export("h", k) ~= nil, true)
      end
    end
  end
  for _, db in ipairs(dbs) do db:close() end
  return nextid
end

-- Last write wins on three replicas: after a full exchange every replica
-- picks the same value, the sibling with the greatest (timestamp, actor,
-- counter).
local function lww_history(seed, nops)
  math.randomseed(seed)
  local dbs = {}
  for i, n in ipairs(NODES) do
    dbs[i] = vv.open { node = n }
    dbs[i]:keyspace("l", { resolver = "lww" })
  end
  for step = 1, nops do
    local i = math.random(1, #NODES)
    if math.random() < 0.6 then
      local r = dbs[i]:get("l", "k")
      dbs[i]:put("l", "k", step, (r and math.random() < 0.5) and r.context
                                  or nil)
    else
      local j = math.random(1, #NODES)
      local st = dbs[j]:export("l", "k")
      if st then dbs[i]:merge("l", "k", st) end
    end
  end
  for _ = 1, 2 do
    for i = 1, #NODES do
      for j = 1, #NODES do
        local st = dbs[j]:export("l", "k")
        if st then dbs[i]:merge("l", "k", st) end
      end
    end
  end
  local r1 = dbs[1]:get("l", "k")
  local best = r1.siblings[1]
  for _, s in ipairs(r1.siblings) do
    if s.timestamp > best.timestamp or (s.timestamp == best.timestamp and
       (s.actor > best.actor or (s.actor == best.actor and
                                 s.counter > best.counter))) then
      best = s
    end
  end
  eq(r1.value, best.value, "seed " .. seed .. ": lww picks the greatest")
  for i = 2, #NODES do
    eq(dbs[i]:get("l", "k").value, r1.value, "seed " .. seed .. ": lww agrees")
  end
end

describe("random histories", function()
  local seeds = { 1, 2, 3, 42, 2024, 31337 }
  local env = os.getenv("VV_SEED")
  if env then seeds = { tonumber(env) } end
  for _, seed in ipairs(seeds) do
    it("keep every write and converge (seed " .. seed .. ")", function()
      local n = history(seed, 500)
      assert(n > 100, "the history made writes")
    end)
  end
  for _, seed in ipairs { 5, 6, 7 } do
    it("agree on last write wins (seed " .. seed .. ")", function()
      lww_history(seed, 200)
    end)
  end
end)
