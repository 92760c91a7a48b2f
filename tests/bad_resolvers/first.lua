-- first.lua - KNOWN BAD: "first sibling wins".  The result depends on the
-- order of the siblings, so it is really "whichever actor name sorts
-- first" (incarnation names are random).  vv check-resolver flags: order.
return function(siblings, key)
  return siblings[1].value
end
