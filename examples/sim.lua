-- sim.lua - N replicas in one process, kept in step by keyspace sync only,
-- under random writes, partitions and an unreliable network; checked
-- against a model of what each replica must show.
--
-- Run from the top of the source tree:
--   LUA_CPATH='build/?.so' lua5.4 examples/sim.lua [options]
--     --replicas N  (5)     --keys K   (12)    --steps S (4000)
--     --seed X      (1)     --verbose          --help
--
-- What happens:
--  * clients read a key at some replica and later write it, with that
--    (often stale) context, at any replica; some write with no context;
--    some delete what a replica shows;
--  * a replica pulls from another: its digest goes out, the other's delta
--    comes back through the "network", which loses, duplicates, delays
--    and reorders messages;
--  * partitions split the replicas in two groups for a while; messages
--    across the cut are dropped; they heal;
--  * now and then, after a burst of gossip, a replica reaps tombstones,
--    naming every other replica.
-- A model tracks, per replica and key, which writes the replica has heard
-- of, and what each write's context had seen.  A replica must show exactly
-- the writes it has heard of that no write it has heard of had seen, and
-- that are not deletes: no write lost, no false conflict.  After the last
-- heal and rounds of sync, every replica must show the same siblings in
-- the same order.
local vv = require "vv"

local KS = "sim"

-- ---- sets of write ids ------------------------------------------------
local function union(a, b) for w in pairs(b) do a[w] = true end return a end
local function copy(s) return union({}, s) end

-- ---- a tiny deterministic random generator (same on every Lua) ---------
local function rng(seed)
  local x = seed % 2147483647
  if x <= 0 then x = x + 2147483646 end
  return function(n)                      -- 1..n
    x = (x * 16807) % 2147483647
    return x % n + 1
  end
end

-- ---- the simulation ------------------------------------------------------
local function run(opt)
  local R, K, STEPS = opt.replicas or 5, opt.keys or 12, opt.steps or 4000
  local rand = rng(opt.seed or 1)
  local say = opt.verbose and print or function() end
  local db, side = {}, {}
  local writes = {}       -- id -> { seen = set, tomb = bool }
  local known = {}        -- known[r][k] = set of write ids replica r heard of
  local clients = {}      -- a pool of contexts from reads
  local net = {}          -- deltas in flight: { from, to, x, known }
  local st = { writes = 0, deletes = 0, syncs = 0, bytes = 0, lost = 0,
               dup = 0, cut = 0, reaped = 0, max_siblings = 0,
               partitions = 0, checks = 0 }

  for r = 1, R do
    db[r] = vv.open { node = "r" .. r }
    db[r]:keyspace(KS, { max_siblings = 100000, warn_siblings = 100000 })
    known[r], side[r] = {}, 1
    for k = 1, K do known[r][k] = {} end
  end
  local function key(k) return "k" .. k end

  -- what the model says replica r must show for key k: sorted ids
  local function expected(r, k)
    local dom, out = {}, {}
    for w in pairs(known[r][k]) do union(dom, writes[w].seen) end
    for w in pairs(known[r][k]) do
      if not dom[w] and not writes[w].tomb then out[#out + 1] = w end
    end
    table.sort(out)
    return out
  end

  local function shown(r, k)
    local g, out = db[r]:get(KS, key(k)), {}
    if not g then return out end
    for i, v in ipairs(g.values) do out[i] = tonumber(v:sub(2)) end
    table.sort(out)
    if #out > st.max_siblings then st.max_siblings = #out end
    return out
  end

  local function check(when)
    st.checks = st.checks + 1
    for r = 1, R do
      for k = 1, K do
        local want, got = expected(r, k), shown(r, k)
        local a, b = table.concat(want, ","), table.concat(got, ",")
        if a ~= b then
          error(string.format("%s: replica r%d key %s shows {%s}, the model "
            .. "says {%s}", when, r, key(k), b, a), 0)
        end
      end
    end
  end

  -- r pulls from s: digest out, delta back (into the network)
  local function pull(r, s)
    local d = db[r]:digest(KS)
    local x = db[s]:delta(KS, d)
    st.bytes = st.bytes + #d + #x
    local snap = {}
    for k = 1, K do snap[k] = copy(known[s][k]) end
    return { from = s, to = r, x = x, known = snap }
  end

  local function deliver(m)
    if side[m.from] ~= side[m.to] then st.cut = st.cut + 1 return end
    -- opt.fault = "skip-apply": a broken replica that drops what arrives
    -- while the model believes it; the checks must catch it (tests)
    if opt.fault ~= "skip-apply" then db[m.to]:apply(KS, m.x) end
    st.syncs = st.syncs + 1
    for k = 1, K do union(known[m.to][k], m.known[k]) end
  end

  -- everyone pulls from everyone until a round changes nothing
  local function settle()
    for _ = 1, 8 do
      local changed = 0
      for r = 1, R do
        for s = 1, R do
          if r ~= s then
            local d = db[r]:digest(KS)
            local x = db[s]:delta(KS, d)
            st.bytes = st.bytes + #d + #x
            changed = changed + db[r]:apply(KS, x)
            st.syncs = st.syncs + 1
            for k = 1, K do union(known[r][k], known[s][k]) end
          end
        end
      end
      if changed == 0 then return end
    end
    error("sync did not settle", 0)
  end

  for step = 1, STEPS do
    local op, r, k = rand(100), rand(R), rand(K)
    if op <= 12 then                                  -- a client reads
      local g = db[r]:get(KS, key(k))
      if g then
        clients[rand(10)] = { k = k, ctx = g.context, seen = copy(known[r][k]) }
      end
    elseif op <= 50 then                              -- a write or a delete
      local w = #writes + 1
      local c = clients[rand(10)]
      local ctx, seen = nil, {}
      local del = rand(5) == 1
      if del and rand(2) == 1 then                    -- delete what r shows
        local g = db[r]:get(KS, key(k))
        if g then ctx, seen = g.context, copy(known[r][k]) end
      elseif c and c.k == k and rand(4) > 1 then      -- a stale context
        ctx, seen = c.ctx, c.seen
      end
      writes[w] = { seen = seen, tomb = del }
      if del then
        db[r]:delete(KS, key(k), ctx)
        st.deletes = st.deletes + 1
      else
        db[r]:put(KS, key(k), "w" .. w, ctx)
      end
      st.writes = st.writes + 1
      union(known[r][k], seen)[w] = true
    elseif op <= 72 then                              -- r asks s for news
      local s = rand(R)
      if s ~= r and side[r] == side[s] then net[#net + 1] = pull(r, s) end
    elseif op <= 92 then                              -- a message arrives
      if #net > 0 then
        local i = rand(#net)                          -- in any order
        deliver(net[i])
        if rand(4) == 1 then st.dup = st.dup + 1      -- it will come again
        else table.remove(net, i) end
      end
    elseif op <= 95 then                              -- one is lost
      if #net > 0 then
        table.remove(net, rand(#net))
        st.lost = st.lost + 1
      end
    elseif op <= 97 then                              -- partitions
      if rand(2) == 1 then
        for q = 1, R do side[q] = rand(3) == 1 and 2 or 1 end
        st.partitions = st.partitions + 1
        say(string.format("step %d: partition %s", step,
                          table.concat(side, " ")))
      else
        for q = 1, R do side[q] = 1 end
      end
    else                                              -- reap, naming all
      local healed = true
      for q = 1, R do healed = healed and side[q] == side[1] end
      if healed then                                  -- all digests reach r
        if rand(2) == 1 then settle() end             -- after a gossip burst
        local ds = {}
        for q = 1, R do if q ~= r then ds[#ds + 1] = db[q]:digest(KS) end end
        local n = db[r]:reap(KS, ds)
        st.reaped = st.reaped + n
        if n > 0 then
          say(string.format("step %d: r%d reaped %d", step, r, n))
        end
      end
    end
    if step % 10 == 0 then check("step " .. step) end
  end

  -- the last heal: what is in flight lands or is lost, then gossip
  for q = 1, R do side[q] = 1 end
  for i, m in ipairs(net) do
    if i % 2 == 0 then deliver(m) else st.lost = st.lost + 1 end
  end
  net = {}
  check("after the heal")
  settle()
  check("after the last rounds")

  -- same siblings, same order, on every replica
  for k = 1, K do
    local first
    for r = 1, R do
      local g, sig = db[r]:get(KS, key(k)), {}
      if g then
        for i, s in ipairs(g.siblings) do
          sig[i] = string.format("%s@%s:%s", tostring(s.value), s.node,
                                 tostring(s.counter))
        end
      end
      sig = table.concat(sig, " ")
      if r == 1 then first = sig
      elseif sig ~= first then
        error(string.format("key %s: r1 shows [%s], r%d [%s]", key(k), first,
                            r, sig), 0)
      end
    end
  end
  for r = 1, R do db[r]:close() end
  return st
end

local function report(st, opt)
  print(string.format("replicas %d, keys %d, steps %d, seed %d",
                      opt.replicas or 5, opt.keys or 12, opt.steps or 4000,
                      opt.seed or 1))
  print(string.format("writes %d (deletes %d), syncs applied %d, "
                      .. "bytes moved %d", st.writes, st.deletes, st.syncs,
                      st.bytes))
  print(string.format("messages lost %d, duplicated %d, cut by partitions %d;"
                      .. " partitions %d", st.lost, st.dup, st.cut,
                      st.partitions))
  print(string.format("max siblings seen %d, tombstones reaped %d, model "
                      .. "checks %d", st.max_siblings, st.reaped, st.checks))
  print("all replicas agree, no write lost, no false conflict")
end

local M = { run = run, report = report }

-- run as a program (not when a test loads it with dofile)
if arg and arg[0] and arg[0]:match("sim%.lua$") then
  local opt, i = {}, 1
  while arg[i] do
    local a, v = arg[i], arg[i + 1]
    if a == "--replicas" then opt.replicas = tonumber(v); i = i + 1
    elseif a == "--keys" then opt.keys = tonumber(v); i = i + 1
    elseif a == "--steps" then opt.steps = tonumber(v); i = i + 1
    elseif a == "--seed" then opt.seed = tonumber(v); i = i + 1
    elseif a == "--verbose" then opt.verbose = true
    else
      io.stderr:write("usage: sim.lua [--replicas N] [--keys K] [--steps S]"
                      .. " [--seed X] [--verbose]\n")
      os.exit(a == "--help" and 0 or 2)
    end
    i = i + 1
  end
  local ok, st = pcall(run, opt)
  if not ok then
    io.stderr:write("sim: FAILED: " .. tostring(st) .. "\n")
    os.exit(1)
  end
  report(st, opt)
end

return M
