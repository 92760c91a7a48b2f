-- counter.lua - a counter that any replica may add to or take from: page
-- views, likes, stock levels.
--
-- What it does: the value of the key is a counter state
--     { p = { [writer] = n }, n = { [writer] = n } }
-- p holds what each writer added in all, n what it took away; the count
-- is the sum of p minus the sum of n.  A writer is an actor name
-- (db:actor(): node and incarnation, never used twice).  A writer only
-- ever raises its own two entries, so two states of the counter merge by
-- taking the greater entry of each writer: every increment is counted
-- once, whichever states meet in whatever order.  (Adding the siblings'
-- totals would count an increment once for every sibling that holds it.)
--
-- When to use it: with vv.crdt.counter (docs/crdt.md), which reads the
-- key, adds to this store's own entry and writes back with the read's
-- context:
--     db:keyspace("views", { resolver = "scripts/counter.lua" })
--     vv.crdt.counter.add(db, "views", "home", 1)
--     vv.crdt.counter.get(db, "views", "home")       --> 1
--
-- Cost: one entry per writer that ever changed the key (two when it also
-- took away); nothing per increment.
--
-- The fields after `resolve` are the type for vv.crdt, which runs this
-- same file in the host: check, merge, new, value and the operations.
-- The functions shared with the other type scripts are copies of one
-- text (a test keeps them identical).

local NAME, KIND = "counter.lua", "counter"
local floor, huge = math.floor, math.huge
local toint = math.tointeger or function(x) return x end

-- Raise: the value of key is not a state of this script's type.
local function bad(key, why)
  error(NAME .. ": the value of key " .. tostring(key) .. " is not a "
    .. KIND .. " (" .. why .. ")", 0)
end

-- Is t a table of writer name -> whole number at least low?
local function counts(t, low)
  if type(t) ~= "table" then return false end
  for a, n in pairs(t) do
    if type(a) ~= "string" or type(n) ~= "number" or n < low
      or n % 1 ~= 0 or n == huge then
      return false
    end
  end
  return true
end

-- The pointwise maximum of two tables of writer -> number (a new table).
local function join_max(x, y)
  local out = {}
  for a, n in pairs(x) do out[a] = n end
  for a, n in pairs(y) do
    local m = out[a]
    if m == nil or n > m then out[a] = n end
  end
  return out
end

-- v, when it is a counter state; else an error naming key.
local function check(v, key)
  if type(v) ~= "table" then bad(key, "a " .. type(v)) end
  for k in pairs(v) do
    if k ~= "p" and k ~= "n" then bad(key, "field " .. tostring(k)) end
  end
  if not counts(v.p, 0) or not counts(v.n, 0) then
    bad(key, "p and n must map writers to whole numbers")
  end
  return v
end

-- The merge of two counter states.
local function merge(a, b)
  return { p = join_max(a.p, b.p), n = join_max(a.n, b.n) }
end

-- The resolver: the merge of every sibling's state.
local function resolve(siblings, key)
  local st = check(siblings[1].value, key)
  for i = 2, #siblings do
    st = merge(st, check(siblings[i].value, key))
  end
  return st
end

-- The count a state holds.
local function value(st)
  local sum = 0
  for _, n in pairs(st.p) do sum = sum + n end
  for _, n in pairs(st.n) do sum = sum - n end
  return sum
end

-- add(st, writer, clock, k): writer adds k (a whole number; below zero
-- takes away) to its own entry.  Changes st and returns it.
local function add(st, writer, clock, k)
  if type(k) ~= "number" or k ~= floor(k) or k == huge or k == -huge then
    error("counter add: a whole number expected, got " .. tostring(k), 0)
  end
  k = toint(k) or k
  if k >= 0 then
    st.p[writer] = (st.p[writer] or 0) + k
  else
    st.n[writer] = (st.n[writer] or 0) - k
  end
  return st
end

return {
  resolve = resolve,
  check = check, merge = merge, value = value,
  new = function() return { p = {}, n = {} } end,
  ops = { add = add },
}
