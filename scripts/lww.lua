-- lww.lua - last writer wins, written as a script.
--
-- What it does: keeps the value of the sibling with the greatest
-- timestamp.  Writes in the same millisecond are told apart by the actor
-- name, then by the counter, so every replica picks the same winner.  The
-- built-in "lww" resolver does the same in C; this script shows how a
-- resolver is written and is a starting point for variants.
--
-- When to use it: values that are replaced as a whole, where losing one of
-- two concurrent writes is acceptable (a display name, a setting).  Not for
-- values that accumulate: use union.lua for sets, max.lua for high-water
-- marks, fields.lua for records edited field by field.
--
-- How a resolver works:
--  * The script returns a function (or a table with a `resolve` field).
--  * vv calls it with `siblings`, a list of concurrent versions
--      { value = <decoded value>, node = "s1", actor = "s1.ABCDEFGH",
--        counter = 7, timestamp = 1700000000123 }
--    in the same order on every replica, and `key`, a string.
--  * It returns the merged value: nil, booleans, numbers, strings and
--    plain tables of them (no functions, no metatables, no cycles).
--  * The file runs afresh, in a sandbox, for every resolution: nothing it
--    stores survives to the next call, and there is no io, os or require.
--    Errors and spent budgets show up as the read's error, with the
--    siblings left as they were.  See docs/resolvers.md.

-- Is sibling a newer than sibling b?  Timestamp, then actor, then
-- counter: the version order of the built-in "lww", the same in every
-- shipped script and on every replica.
local function newer(a, b)
  if a.timestamp ~= b.timestamp then return a.timestamp > b.timestamp end
  if a.actor ~= b.actor then return a.actor > b.actor end
  return a.counter > b.counter
end

return function(siblings, key)
  local best = siblings[1]
  for i = 2, #siblings do
    if newer(siblings[i], best) then best = siblings[i] end
  end
  return best.value
end
