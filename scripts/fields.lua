-- fields.lua - per-field merge of records, last writer per field.
--
-- What it does: each value is a record (a table with string keys).  The
-- result holds every field any sibling has; each field takes its value
-- from the sibling that changed that field last.
--
-- How "last" is known: vv stamps whole versions, not fields.  So that a
-- concurrent change of `email` on one replica and of `phone` on another
-- both survive, writers keep an `_at` table in the record: field name ->
-- time of that field's last change (milliseconds, or any number that
-- grows).  A field without an `_at` entry counts as changed at its
-- version's timestamp.  Ties go to the newer version (timestamp, then
-- actor, then counter).  The result's `_at` holds the winning times, so a
-- merged record can be written back and merged again.
--
-- When to use it: profiles, settings, documents edited field by field on
-- several replicas.
--
-- Known limit: a field deleted on one side comes back from a sibling that
-- still has it; to delete a field so that the deletion wins, set it to
-- false (with a fresh `_at` time) instead of removing it.

-- Is sibling a newer than sibling b?  Timestamp, then actor, then
-- counter: the version order of the built-in "lww", the same in every
-- shipped script and on every replica.
local function newer(a, b)
  if a.timestamp ~= b.timestamp then return a.timestamp > b.timestamp end
  if a.actor ~= b.actor then return a.actor > b.actor end
  return a.counter > b.counter
end

return function(siblings, key)
  local list = {}
  for i, s in ipairs(siblings) do
    if type(s.value) ~= "table" then
      error("fields.lua: the value of key " .. key .. " is not a record")
    end
    list[i] = s
  end
  -- oldest first (a stable sort: ties keep their order)
  table.sort(list, function(a, b) return newer(b, a) end)

  local out, at = {}, {}
  for _, s in ipairs(list) do      -- oldest first: later ones may replace
    local stamps = type(s.value._at) == "table" and s.value._at or {}
    for field, v in pairs(s.value) do
      if field ~= "_at" then
        local t = stamps[field] or s.timestamp
        if at[field] == nil or t >= at[field] then
          out[field], at[field] = v, t
        end
      end
    end
  end
  out._at = at
  return out
end
