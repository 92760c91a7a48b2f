-- mv_register.lua - one value, and every concurrent one kept.
--
-- What it does: the value of the key is a register state
--     { c = { [writer] = n },  v = { [writer] = { n, value } } }
-- Every write is an event (writer, n); c, the clock, says which events
-- the state has seen.  v holds the writes no other write has seen: one
-- after a write that read everything, several after concurrent writes
-- (one per writer at most).  A write replaces every value it read.
-- Merging two states keeps a value both hold, or one that only one holds
-- and the other's clock has not seen; a value the other has seen and
-- does not hold was replaced there.  The register shows all values it
-- keeps, in the order of their writers' names, and the next write (which
-- reads them all) replaces them.
--
-- Siblings do this for whole keys already; this register does it inside
-- a value, so it can be a field of a map (map.lua) and be merged without
-- the siblings.
--
-- When to use it: values replaced as a whole where a concurrent write
-- must not be lost unseen (a document title, an address): the reader
-- sees both and decides.
--     db:keyspace("titles", { resolver = "scripts/mv_register.lua" })
--     vv.crdt.mv_register.set(db, "titles", "doc1", "Draft")
--     vv.crdt.mv_register.get(db, "titles", "doc1")   --> { "Draft" }
--
-- The fields after `resolve` are the type for vv.crdt, which runs this
-- same file in the host: check, merge, new, value and the operations.
-- The functions shared with the other type scripts are copies of one
-- text (a test keeps them identical).

local NAME, KIND = "mv_register.lua", "multi-value register"
local floor, huge, byte = math.floor, math.huge, string.byte

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

-- v, when it is a multi-value register state; else an error naming key.
local function check(v, key)
  if type(v) ~= "table" then bad(key, "a " .. type(v)) end
  for k in pairs(v) do
    if k ~= "c" and k ~= "v" then bad(key, "field " .. tostring(k)) end
  end
  if not counts(v.c, 1) then bad(key, "c must be a clock") end
  if type(v.v) ~= "table" then bad(key, "v must be a table") end
  for a, e in pairs(v.v) do
    if type(a) ~= "string" or not entry(e, a, v.c, 2) then
      bad(key, "bad entry for writer " .. tostring(a))
    end
  end
  return v
end

-- The merge of two register states.
local function merge(x, y)
  return { c = join_max(x.c, y.c),
           v = join_keys(x.v, y.v, x.c, y.c, join_entry) or {} }
end

-- The resolver: the merge of every sibling's state.
local function resolve(siblings, key)
  local st = check(siblings[1].value, key)
  for i = 2, #siblings do
    st = merge(st, check(siblings[i].value, key))
  end
  return st
end

-- The values a state keeps, in the order of their writers' names.
local function value(st)
  local writers, out = {}, {}
  for a in pairs(st.v) do writers[#writers + 1] = a end
  table.sort(writers, bytes_before)
  for i, a in ipairs(writers) do out[i] = st.v[a][2] end
  return out
end

-- set(st, writer, clock, v): writer writes v with a new event; it
-- replaces every value st holds.  Changes st.
local function set(st, writer, clock, v)
  if v == nil then error("register set: a value expected", 0) end
  local n = (st.c[writer] or 0) + 1
  st.c[writer] = n
  st.v = { [writer] = { n, v } }
  return st
end

return {
  resolve = resolve,
  check = check, merge = merge, value = value,
  new = function() return { c = {}, v = {} } end,
  ops = { set = set },
}
