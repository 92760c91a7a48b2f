-- lww_register.lua - one value, the last one written wins.
--
-- What it does: the value of the key is a register state
--     { v = value, t = stamp, a = writer }
-- t is the write's time stamp in milliseconds, made by the writer as
-- the greater of its clock (vv.crdt.now()) and one more than the stamp
-- it read: a write always stamps later than the write it replaced, even
-- when clocks disagree.  Two states merge to the one with the greater
-- stamp, and equal stamps to the one whose writer name is greater (byte
-- by byte), so every replica keeps the same value.
--
-- Unlike lww.lua, which picks among siblings by the versions' own time
-- stamps, the stamp travels inside the value: a register can be merged
-- without its siblings (vv.crdt does so on reads) and kept in a map
-- (map.lua).
--
-- When to use it: values replaced as a whole, where one of two
-- concurrent writes may be lost (a display name, a setting); use
-- mv_register.lua to keep both.
--     db:keyspace("prefs", { resolver = "scripts/lww_register.lua" })
--     vv.crdt.lww_register.set(db, "prefs", "theme", "dark")
--     vv.crdt.lww_register.get(db, "prefs", "theme")   --> "dark"
--
-- The fields after `resolve` are the type for vv.crdt, which runs this
-- same file in the host: check, merge, new, value and the operations.
-- The functions shared with the other type scripts are copies of one
-- text (a test keeps them identical).

local NAME, KIND = "lww_register.lua", "register"
local huge, byte = math.huge, string.byte

-- Raise: the value of key is not a state of this script's type.
local function bad(key, why)
  error(NAME .. ": the value of key " .. tostring(key) .. " is not a "
    .. KIND .. " (" .. why .. ")", 0)
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

-- Does stamp t of writer a come after stamp u of writer b?
local function later(t, a, u, b)
  if t ~= u then return t > u end
  return bytes_before(b, a)
end

-- v, when it is a register state; else an error naming key.
local function check(v, key)
  if type(v) ~= "table" then bad(key, "a " .. type(v)) end
  for k in pairs(v) do
    if k ~= "v" and k ~= "t" and k ~= "a" then
      bad(key, "field " .. tostring(k))
    end
  end
  if v.v == nil then bad(key, "no value v") end
  if type(v.t) ~= "number" or v.t ~= v.t or v.t == huge or v.t == -huge then
    bad(key, "stamp t must be a number")
  end
  if type(v.a) ~= "string" then bad(key, "writer a must be a string") end
  return v
end

-- The merge of two register states: the later one.
local function merge(x, y)
  if later(y.t, y.a, x.t, x.a) then return y end
  return x
end

-- The resolver: the merge of every sibling's state.
local function resolve(siblings, key)
  local st = check(siblings[1].value, key)
  for i = 2, #siblings do
    st = merge(st, check(siblings[i].value, key))
  end
  return st
end

-- set(st, writer, clock, v): writer writes v, stamped after st's stamp.
-- Returns a new state.
local function set(st, writer, clock, v)
  if v == nil then error("register set: a value expected", 0) end
  local t = clock()
  if t <= st.t then t = st.t + 1 end
  return { v = v, t = t, a = writer }
end

return {
  resolve = resolve,
  check = check, merge = merge,
  value = function(st) return st.v end,
  new = function() return { t = 0, a = "" } end,
  ops = { set = set },
}
