-- keyorder.lua - a total order over table keys, so a table shows the same
-- way every time: numbers, then strings, then booleans, then the rest by
-- their text.  show.lua sorts with it, and so does the REPL's pretty
-- printer (lua/repl/vvrepl_pp.lua).  Lua 5.1 to 5.4, LuaJIT.
local type, tostring = type, tostring

local rank = { number = 1, string = 2, boolean = 3 }

return function(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (rank[ta] or 4) < (rank[tb] or 4) end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end
