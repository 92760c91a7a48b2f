-- check_cases.lua - the sibling lists vv.check_resolver feeds a resolver:
-- generated from a seed, the same on every host and every run (Lua 5.1 to
-- 5.4, LuaJIT).
local _, T = ...
local type, pairs, ipairs = type, pairs, ipairs
local concat, sort = table.concat, table.sort
local char = string.char

-- Park-Miller: the same cases on every host and every run.
local function prng(seed)
  local x = seed % 2147483646 + 1
  return function(n)
    x = (x * 16807) % 2147483647
    return x % n + 1
  end
end

local WORDS = { "", "a", "eggs", "milk", "bacon", "bread", "x y", "\"q\"",
  "caf\195\169" }
local FIELDS = { "name", "email", "n", "tags", "priority", "user" }

local function gen_number(r)
  local k = r(6)
  if k == 1 then return 0 end
  if k == 2 then return -r(1000) end
  if k == 3 then return r(100) + 0.5 end
  return r(1000)
end

local function gen_string(r)
  if r(2) == 1 then return WORDS[r(#WORDS)] end
  local t = {}
  for i = 1, r(8) - 1 do t[i] = char(96 + r(26)) end
  return concat(t)
end

local function gen_item(r)
  local k = r(3)
  if k == 1 then return r(20) end
  if k == 2 then return WORDS[1 + r(#WORDS - 1)] end
  return r(2) == 1
end

local function gen_list(r)
  local t = {}
  for i = 1, r(5) - 1 do t[i] = gen_item(r) end
  return t
end

local function gen_record(r)
  local t = {}
  for _ = 1, r(4) do
    local f = FIELDS[r(#FIELDS)]
    if f == "n" or f == "priority" then t[f] = r(10)
    elseif f == "tags" then t[f] = gen_list(r)
    elseif f == "user" then t[f] = ({ "admin", "bob", "carol" })[r(3)]
    else t[f] = gen_string(r) end
  end
  return t
end

local KINDS = { gen_number, gen_string, gen_list, gen_record,
  function(r) return r(2) == 1 end }

local function gen_mixed(r, i, first)
  local k = r(#KINDS)
  if i == 2 and k == first then k = k % #KINDS + 1 end
  return KINDS[k](r), k
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[copy(k)] = copy(x) end
  return t
end

local ACTORS = { s0 = "s0.aaaaaaaa", s1 = "s1.bbbbbbbb", s2 = "s2.cccccccc",
  s3 = "s3.dddddddd" }

-- A sibling list as a store would give it: 2..4 versions with distinct
-- dots, in (actor, counter) order; timestamps sometimes equal; values
-- sometimes repeated (a family of states draws them all at once, from
-- one history).
local function make_case(r, fam)
  local n = 1 + r(3)
  local sibs, counters, ts, first = {}, {}, 1700000000000 + r(100000), nil
  local drawn = fam.states and fam.states(r, n)
  for i = 1, n do
    local node = "s" .. (r(4) - 1)
    local actor = ACTORS[node]
    counters[actor] = (counters[actor] or r(5)) + r(3)
    if r(4) ~= 1 then ts = ts + r(5000) end
    local v
    if drawn then
      v = drawn[i]
    elseif i >= (fam.mixed and 3 or 2) and r(4) == 1 then
      v = copy(sibs[r(i - 1)].value)
    elseif fam.mixed then
      local k
      v, k = gen_mixed(r, i, first)
      first = first or k
    else
      v = fam.gen(r)
    end
    sibs[i] = { value = v, node = node, actor = actor,
      counter = counters[actor], timestamp = ts }
  end
  sort(sibs, function(a, b)
    if a.actor ~= b.actor then return a.actor < b.actor end
    return a.counter < b.counter
  end)
  return sibs
end

-- Other orders of a list: every one for up to 3 siblings, else a few.
local function permutations(S, r)
  local n, out = #S, {}
  local function make(idx)
    local t = {}
    for i, j in ipairs(idx) do t[i] = S[j] end
    return t
  end
  if n == 2 then
    out[1] = make({ 2, 1 })
  elseif n == 3 then
    local all = { { 1, 3, 2 }, { 2, 1, 3 }, { 2, 3, 1 }, { 3, 1, 2 },
      { 3, 2, 1 } }
    for i, idx in ipairs(all) do out[i] = make(idx) end
  elseif n >= 4 then
    local rev, rot = {}, {}
    for i = 1, n do rev[i] = n + 1 - i; rot[i] = i % n + 1 end
    out[1], out[2] = make(rev), make(rot)
    local sh = {}
    for i = 1, n do sh[i] = i end
    for i = n, 2, -1 do
      local j = r(i)
      sh[i], sh[j] = sh[j], sh[i]
    end
    out[3] = make(sh)
  end
  return out
end

-- The states of vv.crdt's types (docs/crdt.md), one family each: a
-- resolver written for one of them is checked on real states of it.
local CRDT = T.need "crdt_gen"
local function crdt_family(name, title)
  return { name = title, states = function(r, n)
    return CRDT.states(name, r, n, copy)
  end }
end

-- The families of values to draw sibling lists from: the caller's samples,
-- strings for the raw codec, else every kind msgpack stores and the
-- states of vv.crdt's types.
local function families(o)
  if o.samples then
    local samples = o.samples
    return { { name = "samples", gen = function(r)
      return copy(samples[r(#samples)])
    end } }
  elseif o.codec == "raw" then
    return { { name = "strings", gen = gen_string } }
  end
  return { { name = "numbers", gen = gen_number },
    { name = "strings", gen = gen_string },
    { name = "lists", gen = gen_list },
    { name = "records", gen = gen_record },
    { name = "mixed", mixed = true },
    crdt_family("counter", "counters"), crdt_family("set", "sets"),
    crdt_family("lww_register", "lww registers"),
    crdt_family("mv_register", "mv registers"),
    crdt_family("map", "maps") }
end

return { prng = prng, copy = copy, ACTORS = ACTORS, make_case = make_case,
  permutations = permutations, families = families }
