-- init.lua - what each instance of the demo runs after opening its store
-- (lua/tarantool/cluster.sh runs it as VVT_INIT; DB is the instance's vv
-- store, vvt.open{node = "t<ID>", space = "vv"}).  Keyspace configs are
-- the replica set's: the first instance to run this writes them, the
-- others find them unchanged and write nothing (a different config here
-- would be a change for the whole set).  The functions are what
-- stories.lua calls over net.box (contexts travel as text).
local vv = require "vv"
local root = assert(os.getenv("VVT_ROOT"), "VVT_ROOT: the source tree")

DB:keyspace("carts", { resolver = root .. "/scripts/union.lua" })
DB:keyspace("prefs", { resolver = "lww" })

local function ctx(text)
  if text == nil or text == box.NULL then return nil end
  return vv.clock(text)
end

-- PUT(ks, key, value [, context]) -> the new context, as text.
function PUT(ks, key, value, c)
  return tostring(DB:put(ks, key, value, ctx(c)))
end

-- SHOW(ks, key) -> what a read shows, as text: "10", "10 | 20" (several
-- siblings), a resolver's value "(resolved) apple, banana"; and the
-- read's context as text.
function SHOW(ks, key)
  local r = DB:get(ks, key)
  if r == nil then return "(nothing)", nil end
  local function text(v)
    if type(v) == "table" then return "[" .. table.concat(v, ", ") .. "]" end
    return tostring(v)
  end
  local parts = {}
  for i, v in ipairs(r.values) do parts[i] = text(v) end
  local s = table.concat(parts, " | ")
  if #r.values > 1 and r.value ~= nil then
    s = s .. "  -> resolved: " .. text(r.value)
  end
  return s, tostring(r.context)
end

-- STATE(ks, key) -> the key's exported state (what replication carries).
function STATE(ks, key)
  return DB:export(ks, key)
end

-- LINKS(uris): pull from exactly these peers from now on.
function LINKS(uris)
  box.cfg { replication = uris }
end
