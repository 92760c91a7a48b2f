-- user.lua - a chosen user's or node's version wins.
--
-- What it does: PREFER lists names from most to least trusted.  A sibling
-- matches a name when its record's `user` field (value.user) is that name,
-- or else when the node that wrote it is.  The sibling matching the
-- earliest name wins; among equals, and when nothing matches, the newest
-- version wins (timestamp, then actor, then counter), as in lww.lua.
--
-- When to use it: one party is authoritative.  An administrator's edit
-- beats a customer's concurrent one; the primary site beats a branch
-- office ("node" names are the names given to vv.open{node = ...}).
--
-- To adapt it: put your names in PREFER; set USER_FIELD to the field that
-- names the author in your records (or nil to look at nodes only).

local PREFER = { "admin", "s0" }
local USER_FIELD = "user"

local place = {}
for i, name in ipairs(PREFER) do place[name] = i end

-- Where a sibling stands in PREFER (math.huge: nowhere).
local function standing(s)
  local v = s.value
  if USER_FIELD and type(v) == "table" then
    local who = v[USER_FIELD]
    if type(who) == "string" and place[who] then return place[who] end
  end
  return place[s.node] or math.huge
end

-- Is sibling a newer than sibling b?  Timestamp, then actor, then
-- counter: the version order of the built-in "lww", the same in every
-- shipped script and on every replica.
local function newer(a, b)
  if a.timestamp ~= b.timestamp then return a.timestamp > b.timestamp end
  if a.actor ~= b.actor then return a.actor > b.actor end
  return a.counter > b.counter
end

-- Does sibling a beat sibling b?  The earlier in PREFER, else the newer.
local function beats(a, b)
  local pa, pb = standing(a), standing(b)
  if pa ~= pb then return pa < pb end
  return newer(a, b)
end

return function(siblings, key)
  local best = siblings[1]
  for i = 2, #siblings do
    if beats(siblings[i], best) then best = siblings[i] end
  end
  return best.value
end
