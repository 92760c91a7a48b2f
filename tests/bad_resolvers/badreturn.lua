-- badreturn.lua - KNOWN BAD: returns something vv cannot store (a
-- function).  vv check-resolver flags: returns.
return function(siblings, key)
  return function() return siblings[1].value end
end
