-- causal.lua - a model of causality for vv's Tarantool tests (model.lua,
-- reap.lua, the soak): it records every write a driver makes through the
-- instances, and checks what an instance reads against it.
--
-- For every acknowledged write the model keeps its dot (the writer's
-- actor and counter, from the context the write returned) and the
-- context it was made with; write x has seen write w when x's context
-- covers w's dot.  A key must then read exactly the acknowledged puts
-- that no acknowledged write had seen: none lost, no false conflict, no
-- delete undone.  A write whose outcome is unknown (its instance died
-- before answering) makes its key unchecked.
--
--   local causal = require "causal"      -- with package.path set
--   local m = causal.new()
--   local w = m:write(key, tomb, ctx_text)   -- before sending it
--   m:acked(w, actor, new_ctx_text)          -- its answer
--   m:refused(w) / m:unknown(w)
--   local res = m:check(keys, read)   -- read(key) -> list of values
local M = {}

-- "{a:1, b:2}" -> { a = 1, b = 2 }
function M.parse_ctx(text)
  local t = {}
  if text == nil then return t end
  for a, n in tostring(text):gmatch("([^{}, :]+):(%d+)") do
    t[a] = tonumber(n)
  end
  return t
end

local Model = {}
Model.__index = Model

function M.new()
  -- agg[key] = {ctx = {actor = n}, tomb = {actor = n}}: the most each
  -- actor's dots were seen by the contexts of the key's acknowledged
  -- writes (by deletes' alone in tomb), folded in as writes are
  -- acknowledged, so that no write keeps its context
  return setmetatable({ writes = {}, by_key = {}, agg = {} }, Model)
end

--- A write about to be sent: its record (value "w<id>" for a put).
function Model:write(key, tomb, ctx_text)
  local id = #self.writes + 1
  local w = { id = id, key = key, tomb = tomb, state = "sent",
              ctx = ctx_text and M.parse_ctx(ctx_text) or nil,
              value = "w" .. id }
  self.writes[id] = w
  local list = self.by_key[key]
  if list == nil then list = {}; self.by_key[key] = list end
  list[#list + 1] = id
  return w
end

--- Its acknowledgement: the actor that wrote it and the context it returned.
function Model:acked(w, actor, ctx_text)
  w.state = "acked"
  w.dot = { actor, M.parse_ctx(ctx_text)[actor] }
  local a = self.agg[w.key]
  if a == nil then a = { ctx = {}, tomb = {} }; self.agg[w.key] = a end
  for actor_, n in pairs(w.ctx or {}) do
    if (a.ctx[actor_] or 0) < n then a.ctx[actor_] = n end
    if w.tomb and (a.tomb[actor_] or 0) < n then a.tomb[actor_] = n end
  end
  w.ctx = nil
end

function Model:refused(w) w.state = "refused"; w.ctx = nil end
function Model:unknown(w) w.state = "unknown"; w.ctx = nil end

--- Is v the value of one of the model's writes?
function Model:known(v)
  local id = tonumber(tostring(v):match("^w(%d+)$"))
  return id ~= nil and self.writes[id] ~= nil
end

-- Has some acknowledged write of the key seen write w (its context covers
-- w's dot)?  And some delete?
local function seen(a, w)
  local n = w.dot[2]
  return a ~= nil and (a.ctx[w.dot[1]] or 0) >= n,
         a ~= nil and (a.tomb[w.dot[1]] or 0) >= n
end

--- Check keys against what read(key) returns (a list of sibling values,
-- empty when the key reads nil).  Returns {lost = {...}, false_conflicts
-- = {...}, resurrected = {...}, acked = n, multi = n, covered = n,
-- unchecked = n}: lists of "key:value".
function Model:check(keys, read)
  local res = { lost = {}, false_conflicts = {}, resurrected = {},
                acked = 0, multi = 0, covered = 0, unchecked = 0 }
  for _, key in ipairs(keys) do
    local a, unknown = self.agg[key], false
    local want, why = {}, {}
    for _, id in ipairs(self.by_key[key] or {}) do
      local w = self.writes[id]
      if w.state == "unknown" or w.state == "sent" then unknown = true end
      if w.state == "acked" then
        res.acked = res.acked + 1
        local by, by_tomb = seen(a, w)
        if not by and not w.tomb then want[w.value] = true end
        if by then why[w.value] = by_tomb and "tomb" or "put" end
        if by_tomb and not w.tomb then res.covered = res.covered + 1 end
      end
    end
    if unknown then
      res.unchecked = res.unchecked + 1
    else
      local have, n = {}, 0
      for _, v in ipairs(read(key)) do have[tostring(v)] = true end
      for v in pairs(have) do
        n = n + 1
        if not want[v] then
          if why[v] == "tomb" then
            res.resurrected[#res.resurrected + 1] = key .. ":" .. v
          else
            res.false_conflicts[#res.false_conflicts + 1] = key .. ":" .. v
          end
        end
      end
      if n > 1 then res.multi = res.multi + 1 end
      for v in pairs(want) do
        if not have[v] then res.lost[#res.lost + 1] = key .. ":" .. v end
      end
    end
  end
  return res
end

--- The keys whose acknowledged writes leave them live (some put no
-- acknowledged write has seen), as a set.
function Model:live(keys)
  local out = {}
  for _, key in ipairs(keys) do
    local a = self.agg[key]
    for _, id in ipairs(self.by_key[key] or {}) do
      local w = self.writes[id]
      if w.state == "acked" and not w.tomb and not seen(a, w) then
        out[key] = true
        break
      end
    end
  end
  return out
end

return M
