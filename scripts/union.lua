-- union.lua - set union of list values: the shopping cart.
--
-- What it does: each sibling's value is a list of items (strings, numbers
-- or booleans).  The result is one list with every item that appears in
-- any sibling, each once, sorted (numbers, then strings, then booleans),
-- so every replica returns exactly the same list.
--
-- When to use it: things that concurrent writers only add to: shopping
-- carts, tags, sets of followers or permissions.
--
-- Known limit: it is an "add wins" set.  An item removed on one replica
-- comes back if a concurrent sibling still holds it.  When removals must
-- stick, keep them too: store { items = {...}, removed = {...} }, take the
-- union of both lists, and show items minus removed.
--
-- Example: siblings {"milk", "eggs"} and {"eggs", "bread"} merge into
-- {"bread", "eggs", "milk"}.

local order = { number = 1, string = 2, boolean = 3 }

-- A total order over items, the same on every replica.
local function before(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return order[ta] < order[tb] end
  if ta == "boolean" then return b and not a end
  return a < b
end

return function(siblings, key)
  local seen, items = {}, {}
  for _, s in ipairs(siblings) do
    if type(s.value) ~= "table" then
      error("union.lua: the value of key " .. key .. " is not a list")
    end
    for _, item in ipairs(s.value) do
      if not order[type(item)] then
        error("union.lua: items must be strings, numbers or booleans")
      end
      if not seen[item] then
        seen[item] = true
        items[#items + 1] = item
      end
    end
  end
  table.sort(items, before)
  return items
end
