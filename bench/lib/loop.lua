-- loop.lua - one kind of call in a loop, for counting instructions
-- (bench/lua_instructions.sh): lua loop.lua N MODE, MODE one of
--   getput   r = db:get(ks, k); db:put(ks, k, r.value + 1, r.context)
--   hgetput  the same through a keyspace handle
--   update   db:update(ks, k, incr)
--   get      db:get(ks, k)
--   cgetput, cget   the same loop in C (vv._bench) over the same keys
-- over 1000 keys of one sibling each.
local vv = require "vv"
local N, mode = tonumber(arg[1]), arg[2]
local K = 1000
local db = vv.open { node = "s0" }
local keys = {}
for i = 1, K do keys[i] = string.format("user:%08d", i); db:put("ks", keys[i], i) end
local function incr(v) return v + 1 end
if mode == "getput" then
  for j = 1, N do
    local k = keys[j % K + 1]
    local r = db:get("ks", k)
    db:put("ks", k, r.value + 1, r.context)
  end
elseif mode == "hgetput" then
  local h = db:keyspace_handle("ks")
  for j = 1, N do
    local k = keys[j % K + 1]
    local r = h:get(k)
    h:put(k, r.value + 1, r.context)
  end
elseif mode == "update" then
  for j = 1, N do db:update("ks", keys[j % K + 1], incr) end
elseif mode == "get" then
  for j = 1, N do local _ = db:get("ks", keys[j % K + 1]) end
elseif mode == "cgetput" or mode == "cget" then
  local ks = {}
  for j = 1, N do ks[j] = keys[j % K + 1] end
  vv._bench(db, "ks", ks, mode == "cget" and "get" or "getput")
else
  error("unknown mode " .. tostring(mode))
end
db:close()
