-- sum.lua - KNOWN BAD: a counter kept by adding up the siblings.  Two
-- replicas that both see 5 and write back the sum hold 10 and 10, which
-- resolve to 20: resolving a result with itself changes it.  vv
-- check-resolver flags: idempotence.
return function(siblings, key)
  local total = 0
  for _, s in ipairs(siblings) do
    if type(s.value) == "number" then total = total + s.value end
  end
  return total
end
