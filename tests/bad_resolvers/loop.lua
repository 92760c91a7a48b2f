-- loop.lua - KNOWN BAD: never returns.  The instruction budget stops it;
-- vv check-resolver flags: budget.
return function(siblings, key)
  local n = 0
  while true do n = n + 1 end
end
