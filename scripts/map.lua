-- map.lua - named fields, each a counter, a set or a register, merged
-- field by field: a profile, a cart with quantities.
--
-- What it does: the value of the key is a map state
--     { c = { [writer] = n },  f = { [name] = { [kind] = store } } }
-- Every change of a field is an event (writer, n); c, the clock, says
-- which events the map has seen.  A field's store holds what is left of
-- the events that changed it, by kind:
--   counter  { [writer] = { n, added, taken } }   count: added - taken
--   set      { [element] = { [writer] = n } }     as in set.lua
--   lww      { [writer] = { n, stamp, value } }   the greatest stamp wins
--   mv       { [writer] = { n, value } }          every value kept
-- Each entry carries the event that made it, so the whole map merges by
-- one rule: an entry both states hold stays; an entry only one holds
-- stays unless the other's clock has seen its event (then it was removed
-- or replaced there).  Removing a field deletes its stores: what the
-- remove saw is gone everywhere, while a concurrent change of the field
-- (an event the remove did not see) survives: an element added, a value
-- written.  A counter keeps one entry per writer, its running totals, so
-- a writer adding concurrently with the remove brings back its own whole
-- count (what it had added before, too); the other writers' counts the
-- remove saw stay gone.  For a cart whose quantities must restart after
-- a remove, keep each quantity in an lww field (set, not add).  A field
-- with nothing left (a set whose elements were all removed) disappears.
--
-- When to use it: with vv.crdt.map (docs/crdt.md):
--     db:keyspace("carts", { resolver = "scripts/map.lua" })
--     vv.crdt.map.update(db, "carts", "alice", "eggs", "counter", "add", 12)
--     vv.crdt.map.update(db, "carts", "alice", "note", "lww", "set", "ring")
--     vv.crdt.map.remove(db, "carts", "alice", "eggs")
--     vv.crdt.map.get(db, "carts", "alice")   --> { note = "ring" }
-- Two writers that make one name a field of two kinds concurrently keep
-- both; the map's value shows the first of counter, set, lww, mv.
--
-- The fields after `resolve` are the type for vv.crdt, which runs this
-- same file in the host: check, merge, new, value and the operations.
-- The functions shared with the other type scripts are copies of one
-- text (a test keeps them identical).

local NAME, KIND = "map.lua", "map"
local floor, huge, byte = math.floor, math.huge, string.byte
local ELEMENT = { number = 1, string = 2, boolean = 3 }
local KINDS = { "counter", "set", "lww", "mv" }
local SIZE = { counter = 3, lww = 3, mv = 2 }  -- items of an entry

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

-- Is string a before string b, byte by byte (whatever the locale)?
local function bytes_before(a, b)
  local n = #a < #b and #a or #b
  for i = 1, n do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- Is e an entry { n, value } whose event clock c has seen?  size is the
-- number of items it has.
local function entry(e, a, c, size)
  if type(e) ~= "table" or #e ~= size or e[size] == nil then return false end
  local n = e[1]
  return type(n) == "number" and n >= 1 and n == floor(n)
    and n <= (c[a] or 0)
end

-- Is n a whole number >= 0?
local function whole(n)
  return type(n) == "number" and n >= 0 and n == floor(n) and n ~= huge
end

-- Is s a store of kind with events clock c has seen?
local function store(kind, s, c)
  if type(s) ~= "table" or next(s) == nil then return false end
  for k, e in pairs(s) do
    if kind == "set" then
      if not ELEMENT[type(k)] or not seen(e, c) then return false end
    elseif type(k) ~= "string" or not entry(e, k, c, SIZE[kind]) then
      return false
    elseif kind == "counter" and not (whole(e[2]) and whole(e[3])) then
      return false
    elseif kind == "lww" and (type(e[2]) ~= "number" or e[2] ~= e[2]) then
      return false
    end
  end
  return true
end

-- v, when it is a map state; else an error naming key.
local function check(v, key)
  if type(v) ~= "table" then bad(key, "a " .. type(v)) end
  for k in pairs(v) do
    if k ~= "c" and k ~= "f" then bad(key, "field " .. tostring(k)) end
  end
  if not counts(v.c, 1) then bad(key, "c must be a clock") end
  if type(v.f) ~= "table" then bad(key, "f must be a table") end
  for name, kinds in pairs(v.f) do
    if type(name) ~= "string" or type(kinds) ~= "table"
      or next(kinds) == nil then
      bad(key, "bad field " .. tostring(name))
    end
    for kind, s in pairs(kinds) do
      if not SIZE[kind] and kind ~= "set" then
        bad(key, "field " .. name .. " has an unknown kind")
      end
      if not store(kind, s, v.c) then
        bad(key, "field " .. name .. " has a bad " .. kind .. " store")
      end
    end
  end
  return v
end

-- Merge the stores of one kind of a field.
local function join_store(x, y, cx, cy, kind)
  if kind == "set" then return join_keys(x, y, cx, cy, join_dots) end
  return join_dots(x, y, cx, cy)
end

-- Merge one field (kind -> store) of two maps.
local function join_field(x, y, cx, cy)
  return join_keys(x, y, cx, cy, join_store)
end

-- The merge of two map states.
local function merge(a, b)
  return { c = join_max(a.c, b.c),
           f = join_keys(a.f, b.f, a.c, b.c, join_field) or {} }
end

-- The resolver: the merge of every sibling's state.
local function resolve(siblings, key)
  local st = check(siblings[1].value, key)
  for i = 2, #siblings do
    st = merge(st, check(siblings[i].value, key))
  end
  return st
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

-- What a store of kind shows.
local function show(kind, s)
  local out = kind == "counter" and 0 or {}
  local keys = {}
  for k in pairs(s) do keys[#keys + 1] = k end
  table.sort(keys, kind == "set" and before or bytes_before)
  for i, k in ipairs(keys) do
    local e = s[k]
    if kind == "counter" then out = out + e[2] - e[3]
    elseif kind == "set" then out[i] = k
    elseif kind == "mv" then out[i] = e[2]
    elseif out.k == nil or e[2] > out.t or e[2] == out.t then
      out = { k = k, t = e[2], v = e[3] }     -- lww: keys sorted, ties later
    end
  end
  if kind == "lww" then return out.v end
  return out
end

-- The fields of a state, name -> what the field shows.
local function value(st)
  local out = {}
  for name, kinds in pairs(st.f) do
    for _, kind in ipairs(KINDS) do
      if kinds[kind] then
        out[name] = show(kind, kinds[kind])
        break
      end
    end
  end
  return out
end

-- The store of kind in field name of st, made when missing.
local function field(st, name, kind)
  local kinds = st.f[name]
  if kinds == nil then kinds = {}; st.f[name] = kinds end
  local s = kinds[kind]
  if s == nil then s = {}; kinds[kind] = s end
  return s
end

-- Drop the store of kind from field name when it is empty, and the field
-- when it has no store left.
local function tidy(st, name, kind)
  local kinds = st.f[name]
  if next(kinds[kind]) == nil then kinds[kind] = nil end
  if next(kinds) == nil then st.f[name] = nil end
end

-- The next event of writer in st (counted in st.c).
local function event(st, writer)
  local n = (st.c[writer] or 0) + 1
  st.c[writer] = n
  return n
end

-- update(st, writer, clock, name, kind, op, arg): change field name:
--   "counter", "add", k     add k (below zero: take away)
--   "set", "add", x         add element x
--   "set", "remove", x      remove x (nil, nothing to write, if absent)
--   "lww", "set", v         write v, stamped after every stamp read
--   "mv", "set", v          write v, replacing every value read
-- Changes st and returns it.
local function update(st, writer, clock, name, kind, op, arg)
  if type(name) ~= "string" then
    error("map update: field names are strings, got " .. tostring(name), 0)
  end
  local function usage()
    error("map update: unknown change " .. tostring(kind) .. " "
      .. tostring(op) .. " (counter add, set add, set remove, lww set, "
      .. "mv set)", 0)
  end
  if kind == "counter" and op == "add" then
    if type(arg) ~= "number" or arg ~= floor(arg) or arg == huge
      or arg == -huge then
      error("map update: a whole number expected, got " .. tostring(arg), 0)
    end
    arg = (math.tointeger and math.tointeger(arg)) or arg
    local s = field(st, name, kind)
    local old = s[writer]
    local added, taken = old and old[2] or 0, old and old[3] or 0
    if arg >= 0 then added = added + arg else taken = taken - arg end
    s[writer] = { event(st, writer), added, taken }
  elseif kind == "set" and (op == "add" or op == "remove") then
    if not ELEMENT[type(arg)] or arg ~= arg then
      error("map update: elements are strings, numbers or booleans, got "
        .. tostring(arg), 0)
    end
    if op == "remove" then
      local kinds = st.f[name]
      if kinds == nil or kinds.set == nil or kinds.set[arg] == nil then
        return nil
      end
      kinds.set[arg] = nil
      tidy(st, name, kind)
    else
      field(st, name, kind)[arg] = { [writer] = event(st, writer) }
    end
  elseif (kind == "lww" or kind == "mv") and op == "set" then
    if arg == nil then error("map update: a value expected", 0) end
    local s = field(st, name, kind)
    local e
    if kind == "lww" then
      local t = clock()
      for _, old in pairs(s) do
        if t <= old[2] then t = old[2] + 1 end
      end
      e = { event(st, writer), t, arg }
    else
      e = { event(st, writer), arg }
    end
    st.f[name][kind] = { [writer] = e }
  else
    usage()
  end
  return st
end

-- remove(st, writer, clock, name): field name leaves the map, every kind
-- of it; nil (nothing to write) when there is no such field.
local function remove(st, writer, clock, name)
  if st.f[name] == nil then return nil end
  st.f[name] = nil
  return st
end

return {
  resolve = resolve,
  check = check, merge = merge, value = value,
  new = function() return { c = {}, f = {} } end,
  ops = { update = update, remove = remove },
}
