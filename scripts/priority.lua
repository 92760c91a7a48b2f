-- priority.lua - a field decides.
--
-- What it does: each value is a record (a table) with a field that ranks
-- it, `priority` here.  The record with the highest rank wins; records of
-- equal rank are settled like lww.lua (newest timestamp, then actor, then
-- counter).  A record without the field, or a value that is not a table,
-- ranks below every other.
--
-- When to use it: when one kind of change must not be undone by a
-- concurrent lesser one: an escalated ticket stays escalated, a "closed"
-- order stays closed whatever concurrent edit happened to the draft.
--
-- To adapt it: set FIELD to your field.  When the field holds words,
-- list them in RANK from lowest to highest, e.g.
--   local RANK = { "draft", "submitted", "approved", "closed" }

local FIELD = "priority"
local RANK = nil

local rank_of = {}
if RANK then
  for i, word in ipairs(RANK) do rank_of[word] = i end
end

-- The rank of a sibling: a number, or -math.huge when it has none.
local function rank(s)
  local v = s.value
  if type(v) ~= "table" then return -math.huge end
  local f = v[FIELD]
  if RANK then return rank_of[f] or -math.huge end
  if type(f) == "number" then return f end
  return -math.huge
end

-- Is sibling a newer than sibling b?  Timestamp, then actor, then
-- counter: the version order of the built-in "lww", the same in every
-- shipped script and on every replica.
local function newer(a, b)
  if a.timestamp ~= b.timestamp then return a.timestamp > b.timestamp end
  if a.actor ~= b.actor then return a.actor > b.actor end
  return a.counter > b.counter
end

-- Does sibling a beat sibling b?  The higher rank, else the newer.
local function beats(a, b)
  local ra, rb = rank(a), rank(b)
  if ra ~= rb then return ra > rb end
  return newer(a, b)
end

return function(siblings, key)
  local best = siblings[1]
  for i = 2, #siblings do
    if beats(siblings[i], best) then best = siblings[i] end
  end
  return best.value
end
