-- set.lua - a set whose removes stick: the shopping cart done right.
--
-- What it does: the value of the key is a set state
--     { c = { [writer] = n },  e = { [element] = { [writer] = n } } }
-- Every add is an event (writer, n): the writer's next number for this
-- key.  c, the clock, says which events the state has seen: all of
-- writer's up to c[writer].  e holds each element that is in the set
-- with the events of the adds that put it there (one per writer at
-- most; usually one).  A remove deletes the element's entry and nothing
-- else: the clock still remembers its events.
--
-- Merging two states keeps an element's event when both states hold it,
-- or when one holds it and the other's clock has not seen it (a
-- concurrent add).  An event the other state has seen but does not hold
-- was removed there, and stays removed.  So:
--   * a remove takes away exactly the adds it saw;
--   * an add concurrent with a remove wins (the remove did not see it);
--   * adding again after a remove works (a new event);
--   * a removed element leaves nothing behind but the clock, which holds
--     one number per writer whatever the history.
-- (This is the observed-remove set without tombstones of Riak's ORSWOT.)
-- Compare union.lua, where a removed item comes back from any concurrent
-- version that still holds it.
--
-- When to use it: with vv.crdt.set (docs/crdt.md), which reads the key,
-- adds or removes for this store and writes back with the read's
-- context:
--     db:keyspace("carts", { resolver = "scripts/set.lua" })
--     vv.crdt.set.add(db, "carts", "alice", "eggs")
--     vv.crdt.set.remove(db, "carts", "alice", "eggs")
--     vv.crdt.set.get(db, "carts", "alice")   --> {} (elements, sorted)
-- Elements are strings, numbers or booleans.
--
-- The fields after `resolve` are the type for vv.crdt, which runs this
-- same file in the host: check, merge, new, value and the operations.
-- The functions shared with the other type scripts are copies of one
-- text (a test keeps them identical).

local NAME, KIND = "set.lua", "set"
local huge, byte = math.huge, string.byte
local ELEMENT = { number = 1, string = 2, boolean = 3 }

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

-- The event number of an entry: the entry itself, or its first item.
local function dot(e)
  if type(e) == "table" then return e[1] end
  return e
end

-- Writer a's entry after a merge of entries e (of a state with clock cx)
-- and f (clock cy), either possibly nil: the entry both hold, else the
-- one the other clock has not seen (seen there and gone: removed).
local function join_entry(e, f, cx, cy, a)
  if e ~= nil and f ~= nil and dot(e) == dot(f) then return e end
  if e ~= nil and dot(e) > (cy[a] or 0) then return e end
  if f ~= nil and dot(f) > (cx[a] or 0) then return f end
  return nil
end

-- Merge tables x and y (either possibly nil) key by key with
-- join(xv, yv, cx, cy, key); keys whose join is nil are left out.
-- Returns nil when nothing is left.
local function join_keys(x, y, cx, cy, join)
  local out, any = {}, false
  if x then
    for k, v in pairs(x) do
      local j = join(v, y and y[k], cx, cy, k)
      if j ~= nil then out[k], any = j, true end
    end
  end
  if y then
    for k, v in pairs(y) do
      if x == nil or x[k] == nil then
        local j = join(nil, v, cx, cy, k)
        if j ~= nil then out[k], any = j, true end
      end
    end
  end
  if any then return out end
  return nil
end

-- Merge two tables of writer -> entry (nil when no entry is left).
local function join_dots(x, y, cx, cy)
  return join_keys(x, y, cx, cy, join_entry)
end

-- Is dots events (writer -> n, a whole number from 1), at least one,
-- all seen by clock c?  One pass.
local function seen(dots, c)
  if type(dots) ~= "table" then return false end
  local any = false
  for a, n in pairs(dots) do
    if type(a) ~= "string" or type(n) ~= "number" or n < 1
      or n % 1 ~= 0 or n == huge or n > (c[a] or 0) then
      return false
    end
    any = true
  end
  return any
end

-- v, when it is a set state; else an error naming key.
local function check(v, key)
  if type(v) ~= "table" then bad(key, "a " .. type(v)) end
  for k in pairs(v) do
    if k ~= "c" and k ~= "e" then bad(key, "field " .. tostring(k)) end
  end
  if not counts(v.c, 1) then bad(key, "c must be a clock") end
  if type(v.e) ~= "table" then bad(key, "e must be a table") end
  for x, dots in pairs(v.e) do
    if not ELEMENT[type(x)] then bad(key, "an element is a " .. type(x)) end
    if not seen(dots, v.c) then
      bad(key, "element " .. tostring(x) .. " has bad events")
    end
  end
  return v
end

-- The merge of two set states.
local function merge(a, b)
  return { c = join_max(a.c, b.c),
           e = join_keys(a.e, b.e, a.c, b.c, join_dots) or {} }
end

-- The resolver: the merge of every sibling's state.
local function resolve(siblings, key)
  local st = check(siblings[1].value, key)
  for i = 2, #siblings do
    st = merge(st, check(siblings[i].value, key))
  end
  return st
end

-- Is string a before string b, byte by byte (whatever the locale)?
local function bytes_before(a, b)
  local n = #a < #b and #a or #b
  for i = 1, n do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- Is a before b?  Numbers, then strings (byte by byte, whatever the
-- locale), then false, then true: the same order on every replica.
local function before(a, b)
  local ta, tb = ELEMENT[type(a)], ELEMENT[type(b)]
  if ta ~= tb then return ta < tb end
  if ta == 1 then return a < b end
  if ta == 3 then return b and not a end
  return bytes_before(a, b)
end

-- The elements of a state, as a sorted list.
local function value(st)
  local out = {}
  for x in pairs(st.e) do out[#out + 1] = x end
  table.sort(out, before)
  return out
end

-- An element, or an error.
local function element(x, op)
  if not ELEMENT[type(x)] or x ~= x then
    error("set " .. op .. ": elements are strings, numbers or booleans, "
      .. "got " .. tostring(x), 0)
  end
  return x
end

-- add(st, writer, clock, x): writer adds x with a new event, which
-- replaces the events x had (this add has seen them).  Changes st.
local function add(st, writer, clock, x)
  element(x, "add")
  local n = (st.c[writer] or 0) + 1
  st.c[writer] = n
  st.e[x] = { [writer] = n }
  return st
end

-- remove(st, writer, clock, x): x leaves the set; nil (nothing to write)
-- when it is not in it.
local function remove(st, writer, clock, x)
  element(x, "remove")
  if st.e[x] == nil then return nil end
  st.e[x] = nil
  return st
end

return {
  resolve = resolve,
  check = check, merge = merge, value = value,
  new = function() return { c = {}, e = {} } end,
  ops = { add = add, remove = remove },
}
