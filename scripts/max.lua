-- max.lua - the greatest value wins.
--
-- What it does: the values are numbers (or all strings); the result is the
-- greatest one.  Strings compare byte by byte.
--
-- When to use it: values that only grow, so the largest is the newest
-- truth: a high-water mark, the last sequence number seen, a schema
-- version, the highest bid.
--
-- Known limit: this is not a counter.  Two replicas that both add 1 to 5
-- write 6 and 6, and the merge is 6, not 7.  Count per node instead
-- (a table node -> count, merged with the per-node max, summed on read).

return function(siblings, key)
  local best = siblings[1].value
  local kind = type(best)
  if kind ~= "number" and kind ~= "string" then
    error("max.lua: values must be numbers or strings, got a " .. kind)
  end
  for i = 2, #siblings do
    local v = siblings[i].value
    if type(v) ~= kind then
      error("max.lua: cannot compare a " .. kind .. " with a " .. type(v))
    end
    if kind == "string" then
      -- bytewise, whatever the locale: compare through a one-pair sort
      local pair = { best, v }
      table.sort(pair)
      best = pair[2]
    elseif v > best then
      best = v
    end
  end
  return best
end
