-- check_resolver.lua - vv.check_resolver(script, opts): run a resolver on
-- generated sibling lists and report what would make replicas disagree
-- (Lua 5.1 to 5.4, LuaJIT).
local vv, T = ...
local type, pairs, ipairs, tostring, error, pcall =
  type, pairs, ipairs, tostring, error, pcall
local setmetatable, next = setmetatable, next
local format, sub, floor = string.format, string.sub, math.floor
local C = T.need "check_cases"
local R = T.need "check_report"
local prng, copy, ACTORS = C.prng, C.copy, C.ACTORS
local make_case, permutations = C.make_case, C.permutations
local sibtext, restext, example = R.sibtext, R.restext, R.example
local TITLES = R.TITLES

-- Strip the "resolver for keyspace '...' (path): " prefix and tracebacks.
local function short_err(msg)
  msg = tostring(msg)
  msg = msg:gsub("^resolver for keyspace '[^']*' %b(): ", "")
  msg = msg:gsub("\nstack traceback:.*$", "")
  if #msg > 160 then msg = sub(msg, 1, 160) .. "..." end
  return msg
end

local function classify(msg)
  if msg:find("budget exceeded", 1, true) then return "budget" end
  if msg:find("unsupported return value", 1, true)
    or msg:find("the script returned nil", 1, true) then
    return "returns"
  end
  return "error"
end

local function same(a, b)
  if a.ok ~= b.ok then return false end
  return not a.ok or a.bytes == b.bytes
end

local OPTS = { samples = true, codec = true, cases = true, seed = true,
  budget = true, key = true, replicas = true }

local function argfail(msg) error("check_resolver: " .. msg, 3) end

-- Read and check the options.
local function options(script, opts)
  local ts = type(script)
  if ts ~= "string" and ts ~= "function" then
    argfail("bad argument #1 (script path or function expected, got "
      .. ts .. ")")
  end
  if opts ~= nil and type(opts) ~= "table" then
    argfail("bad argument #2 (table expected, got " .. type(opts) .. ")")
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not OPTS[k] then argfail("unknown option '" .. tostring(k) .. "'") end
  end
  local o = { codec = opts.codec or "msgpack", cases = opts.cases or 40,
    seed = opts.seed or 1, key = opts.key or "key",
    replicas = opts.replicas ~= false, samples = opts.samples,
    budget = opts.budget or {} }
  if o.codec ~= "msgpack" and o.codec ~= "raw" then
    argfail("option 'codec' must be \"msgpack\" or \"raw\"")
  end
  if type(o.cases) ~= "number" or o.cases < 1 or o.cases > 100000
    or o.cases ~= floor(o.cases) then
    argfail("option 'cases' must be a whole number from 1 to 100000")
  end
  if type(o.seed) ~= "number" or o.seed ~= floor(o.seed) or o.seed < 0 then
    argfail("option 'seed' must be a non-negative whole number")
  end
  if type(o.key) ~= "string" then argfail("option 'key' must be a string") end
  if type(o.budget) ~= "table" then
    argfail("option 'budget' must be a table {instructions=, memory=}")
  end
  for k, v in pairs(o.budget) do
    if (k ~= "instructions" and k ~= "memory") or type(v) ~= "number"
      or v < 0 or v ~= floor(v) then
      argfail("option 'budget' takes whole numbers 'instructions' and "
        .. "'memory'")
    end
  end
  if o.samples ~= nil then
    if type(o.samples) ~= "table" or #o.samples == 0 then
      argfail("option 'samples' must be a non-empty list of values")
    end
    for i, v in ipairs(o.samples) do
      local ok, err = pcall(vv.encode, v, o.codec)
      if not ok then
        argfail("sample " .. i .. " cannot be stored: " .. short_err(err))
      end
    end
  end
  return o
end

-- A caller of the resolver: call(instance, siblings) -> result
-- {ok=, value=, bytes=} or {ok=false, err=, kind=}.
local function caller(script, o, usage)
  local key, codec = o.key, o.codec
  if type(script) == "function" then
    return function(_, S)
      local list = {}
      for i, s in ipairs(S) do
        list[i] = { value = copy(s.value), node = s.node, actor = s.actor,
          counter = s.counter, timestamp = s.timestamp }
      end
      local ok, res = pcall(script, list, key)
      if not ok then
        return { ok = false, err = short_err(res), kind = "error" }
      end
      if res == nil then
        return { ok = false, err = "the function returned nil",
          kind = "returns" }
      end
      local eok, bytes = pcall(vv.encode, res, codec)
      if not eok then
        return { ok = false, kind = "returns",
          err = "unsupported return value: " .. short_err(bytes) }
      end
      return { ok = true, bytes = bytes, value = vv.decode(bytes, codec) }
    end
  end
  return function(inst, S)
    for _, s in ipairs(S) do
      if not s.bytes then s.bytes = vv.encode(s.value, codec) end
    end
    local ok, out, steps, mem = T.resolve(inst, S, key)
    if inst == usage.inst then
      if steps > usage.instructions then usage.instructions = steps end
      if mem > usage.memory then usage.memory = mem end
    end
    if not ok then
      local msg = short_err(out)
      return { ok = false, err = msg, kind = classify(msg) }
    end
    return { ok = true, bytes = out, value = vv.decode(out, codec) }
  end
end

-- Resolve S on three in-memory replicas through the store itself: each
-- writes one sibling concurrently, they exchange states, each reads.
local function replica_run(script, o, S)
  local dbs, KS = {}, "check"
  local cfg = { codec = o.codec }
  if type(script) == "string" then
    cfg.resolver = script:find("/", 1, true) and script or "./" .. script
    if next(o.budget) then cfg.budget = o.budget end
  else
    cfg.resolver = script
  end
  for i = 1, 3 do
    dbs[i] = vv.open { node = "r" .. i }
    dbs[i]:keyspace(KS, cfg)
  end
  for i, s in ipairs(S) do dbs[(i - 1) % 3 + 1]:put(KS, o.key, s.value) end
  for i = 1, 3 do
    local st = dbs[i]:export(KS, o.key)
    if st then
      for j = 1, 3 do if j ~= i then dbs[j]:merge(KS, o.key, st) end end
    end
  end
  local out = {}
  for i = 1, 3 do
    local r = dbs[i]:get(KS, o.key)
    if r.error then
      out[i] = { ok = false, err = short_err(r.error) }
    else
      local bytes = vv.encode(r.value, o.codec)
      out[i] = { ok = true, value = r.value, bytes = bytes }
    end
    out[i].n = #r.siblings
    dbs[i]:close()
  end
  return out
end

local REPORT_MT = { __tostring = function(r) return r.text end }

function vv.check_resolver(script, opts)
  local o = options(script, opts)
  local rep = { script = type(script) == "string" and script or "(function)",
    cases = 0, calls = 0, families = {}, problems = {}, notes = {},
    ran = {}, budget = {} }
  local function fail(check, example)
    if not rep.problems[check] then
      rep.problems[check] = { check = check, message = TITLES[check],
        example = example }
    end
  end
  local function finish()
    local n = 0
    for _ in pairs(rep.problems) do n = n + 1 end
    rep.ok = n == 0
    rep.text = R.text(rep)
    return rep.ok, setmetatable(rep, REPORT_MT)
  end

  local usage = { instructions = 0, memory = 0 }
  local A, B
  if type(script) == "string" then
    local bi, bm = o.budget.instructions or 0, o.budget.memory or 0
    local err
    A, err = T.load(script, o.codec, bi, bm)
    if not A then
      fail("load", { short_err(err) })
      return finish()
    end
    B = T.load(script, o.codec, bi, bm)
    T.exact(A)
    usage.inst = A
    local li, lm = T.limits(A)
    rep.budget.max_instructions, rep.budget.max_memory = li, lm
  end
  local call0 = caller(script, o, usage)
  local function call(inst, S)
    rep.calls = rep.calls + 1
    return call0(inst, S)
  end

  local fams = C.families(o)
  if o.codec == "raw" then
    for _, f in ipairs(fams) do
      if f.name == "samples" then
        for _, v in ipairs(o.samples) do
          if type(v) ~= "string" then
            argfail("codec \"raw\" takes string samples only")
          end
        end
      end
    end
  end

  local accepted, okcount, errcount, stop = {}, 0, 0, false
  rep.ran.order, rep.ran.idempotence, rep.ran.determinism = true, true, true
  rep.ran.returns = true
  for fi, fam in ipairs(fams) do
    local r = prng(o.seed * 7919 + fi)
    local fok, ferr, firsterr = 0, 0, nil
    if stop then break end
    rep.families[#rep.families + 1] = fam.name
    for _ = 1, o.cases do
      if stop then break end
      local S = make_case(r, fam)
      rep.cases = rep.cases + 1
      local res = call(A, S)
      if res.kind == "budget" then
        stop = true                 -- the rest would only spend budgets
        rep.notes[#rep.notes + 1] = "stopped at the first call that ran "
          .. "out of its budget"
      end
      if res.ok then
        fok = fok + 1
        if #S <= 3 and #accepted < 4 and fok % 3 == 1 then
          accepted[#accepted + 1] = S
        end
      elseif res.kind == "error" then
        ferr = ferr + 1
        firsterr = firsterr or { S, res }
      else
        fail(res.kind, { example(S, res) })
      end
      local again = call(A, S)
      if not same(res, again) then
        fail("determinism", { example(S, res),
          "the same again -> " .. restext(again) })
      elseif B then
        local other = call(B, S)
        if not same(res, other) then
          fail("determinism", { example(S, res),
            "in another sandbox -> " .. restext(other) })
        end
      end
      for _, P in ipairs(permutations(S, r)) do
        local rp = call(A, P)
        if not same(res, rp) then
          fail("order", { example(S, res), example(P, rp) })
          break
        end
      end
      if res.ok then
        local top, ts = 0, 0
        for _, s in ipairs(S) do
          if s.timestamp > ts then ts = s.timestamp end
          if s.counter > top then top = s.counter end
        end
        local pair = {
          { value = copy(res.value), bytes = res.bytes, node = "s0",
            actor = ACTORS.s0, counter = top + 1, timestamp = ts + 1 },
          { value = copy(res.value), bytes = res.bytes, node = "s1",
            actor = ACTORS.s1, counter = top + 1, timestamp = ts + 2 } }
        local ri = call(A, pair)
        if not (ri.ok and ri.bytes == res.bytes) then
          fail("idempotence", { example(S, res), example(pair, ri) })
        end
      end
    end
    okcount, errcount = okcount + fok, errcount + ferr
    if ferr > 0 then
      local ex = firsterr
      if o.samples then
        fail("errors", { example(ex[1], ex[2]) })
      else
        rep.notes[#rep.notes + 1] = format("raised an error for %d of %d "
          .. "'%s' lists, e.g. %s -> %s", ferr, o.cases, fam.name,
          sibtext(ex[1]), ex[2].err)
      end
    end
  end
  if stop then                      -- too few cases to tell
    rep.ran.order, rep.ran.idempotence, rep.ran.determinism = nil, nil, nil
    rep.ran.returns = nil
  end
  if not stop then
    rep.ran.errors = errcount == 0 and "no errors" or format("%d of %d "
      .. "lists raised an error (notes below)", errcount, rep.cases)
  end
  if okcount == 0 and errcount > 0 and not o.samples then
    fail("errors", { "no generated sibling list was resolved; pass your "
      .. "own values with opts.samples" })
  end
  if errcount > 0 and not o.samples then
    rep.notes[#rep.notes + 1] = "errors leave the siblings in place and "
      .. "show as the read's error; pass the values you store as "
      .. "opts.samples to check them alone"
  end

  if o.replicas and #accepted > 0 then
    rep.ran.replicas = true
    for _, S in ipairs(accepted) do
      local ok, out = pcall(replica_run, script, o, S)
      if not ok then
        fail("replicas", { "the replicas could not be set up: "
          .. short_err(out) })
        break
      end
      if not (same(out[1], out[2]) and same(out[1], out[3])) then
        local ex = { "values written on r1, r2, r3: " .. sibtext(S) }
        for i = 1, 3 do
          ex[#ex + 1] = "r" .. i .. " (" .. out[i].n .. " siblings) -> "
            .. restext(out[i])
        end
        fail("replicas", ex)
        break
      end
    end
  end
  if A then
    rep.budget.instructions, rep.budget.memory = usage.instructions,
      usage.memory
    if usage.instructions * 2 > rep.budget.max_instructions then
      rep.notes[#rep.notes + 1] = "a call used more than half of its "
        .. "instruction budget"
    end
  end
  return finish()
end
