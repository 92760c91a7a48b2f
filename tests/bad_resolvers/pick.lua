-- pick.lua - KNOWN BAD: a "random" pick.  The sandbox has no random
-- numbers and no clock, but the order in which `next` walks a table with
-- string keys depends on a hash seed that differs between Lua states
-- (Lua 5.2 and later, LuaJIT), so two replicas can pick differently.  vv
-- check-resolver flags: determinism (and order).
return function(siblings, key)
  local set = {}
  for _, s in ipairs(siblings) do set[tostring(s.value)] = s.value end
  local _, v = next(set)
  return v
end
