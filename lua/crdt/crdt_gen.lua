-- crdt_gen.lua - states of vv.crdt's types from random histories: the
-- values vv.check_resolver draws sibling lists from for these types
-- (lua/tools/check_cases.lua).  Lua 5.1 to 5.4, LuaJIT.
local vv = ...

local WRITERS = { "r1.aaaaaaaa", "r2.bbbbbbbb", "r3.cccccccc" }
local ITEMS = { "eggs", "milk", "bacon", 1, 2, true }
local VALUES = { "dark", "light", 7, { 1, 2 }, { name = "ann" }, false }
local FIELDS = { "eggs", "milk", "tags", "name", "note" }
local KIND = { eggs = "counter", milk = "counter", tags = "set",
  name = "lww", note = "mv" }

-- One random change of a state st of type t by writer w; r(n) draws a
-- whole number from 1 to n.  Returns the new state (st when nothing
-- changed).
local CHANGE = {
  counter = function(t, st, w, clock, r)
    return t.ops.add(st, w, clock, r(7) - 4)
  end,
  set = function(t, st, w, clock, r)
    local x = ITEMS[r(#ITEMS)]
    if r(3) == 1 then return t.ops.remove(st, w, clock, x) or st end
    return t.ops.add(st, w, clock, x)
  end,
  lww_register = function(t, st, w, clock, r)
    return t.ops.set(st, w, clock, VALUES[r(#VALUES)])
  end,
  mv_register = function(t, st, w, clock, r)
    return t.ops.set(st, w, clock, VALUES[r(#VALUES)])
  end,
  map = function(t, st, w, clock, r)
    local name = FIELDS[r(#FIELDS)]
    local kind = KIND[name]
    if r(6) == 1 then return t.ops.remove(st, w, clock, name) or st end
    if kind == "counter" then
      return t.ops.update(st, w, clock, name, kind, "add", r(5) - 2)
    elseif kind == "set" then
      local op = r(3) == 1 and "remove" or "add"
      return t.ops.update(st, w, clock, name, kind, op, ITEMS[r(#ITEMS)])
        or st
    end
    return t.ops.update(st, w, clock, name, kind, "set", VALUES[r(#VALUES)])
  end,
}

--- G.states(name, r, n, copy) -> n states of type name (a list), each held by
-- one of three writers after a random history of changes (each writer
-- makes one first) and merges between them, so any of them may meet as
-- siblings.  copy(v) copies a value.  Register stamps
-- come from a clock that often stands still, so ties happen.
local function states(name, r, n, copy)
  local t = vv.crdt[name].type
  local change = CHANGE[name]
  local now = 1700000000000
  local function clock() return now end
  local held = {}
  for i = 1, 3 do held[i] = change(t, t.new(), WRITERS[i], clock, r) end
  for _ = 1, 2 + r(10) do
    local i = r(3)
    if r(3) == 1 then
      held[i] = t.merge(copy(held[i]), copy(held[r(3)]))
    else
      if r(3) == 1 then now = now + r(3) end
      held[i] = change(t, copy(held[i]), WRITERS[i], clock, r)
    end
  end
  local out = {}
  for k = 1, n do
    out[k] = copy(held[r(3)])
  end
  return out
end

return { states = states }
