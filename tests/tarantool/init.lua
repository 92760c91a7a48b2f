-- init.lua - what each instance of the test set runs after opening its
-- store (VVT_INIT of lua/tarantool/cluster.sh): the keyspaces and small
-- functions the driver (model.lua) calls over net.box, which cannot carry
-- clocks or read tables with userdata: contexts travel as text.
local vv = require "vv"
local digest = require "digest"
local root = assert(os.getenv("VVT_ROOT"), "VVT_ROOT: the source tree")

DB:keyspace("kv", { warn_siblings = 1000, max_siblings = 60 })
DB:keyspace("u", { resolver = root .. "/scripts/union.lua" })

local function ctx_of(text)
  if text == nil or text == box.NULL then return nil end
  return vv.clock(text)
end

-- T_PUT(ks, key, value, ctx_text) -> this instance's actor, new context.
function T_PUT(ks, key, value, ctx)
  local c = DB:put(ks, key, value, ctx_of(ctx))
  return DB:actor(), tostring(c)
end

-- T_DEL(ks, key, ctx_text) -> this instance's actor, new context.
function T_DEL(ks, key, ctx)
  local c = DB:delete(ks, key, ctx_of(ctx))
  return DB:actor(), tostring(c)
end

-- T_GET(ks, key) -> nil, or {sibs = {{value, actor, counter}...},
-- context = text, value =, error =}.
function T_GET(ks, key)
  local r = DB:get(ks, key)
  if r == nil then return nil end
  local sibs = {}
  for i, s in ipairs(r.siblings) do sibs[i] = { s.value, s.actor, s.counter } end
  return { sibs = sibs, context = tostring(r.context), value = r.value,
           error = r.error }
end

-- T_DIGEST() -> md5 of every row (ks, key, state bytes) in key order, and
-- the number of rows: equal on two instances = the same states.
function T_DIGEST()
  local parts = {}
  for _, t in box.space.vv:pairs() do
    parts[#parts + 1] = t[1] .. "\0" .. t[2] .. "\0" .. t[3]
  end
  return digest.md5_hex(table.concat(parts, "\1")), #parts
end

-- T_STATE(ks, key) -> the stored state bytes (nil when none).
function T_STATE(ks, key)
  local t = box.space.vv:get { ks, key }
  return t and t[3]
end

-- T_LINKS() -> how many peers this instance follows both ways, and the
-- messages of stopped links (a refusal must never stop replication).
function T_LINKS()
  local n, stopped = 0, {}
  for _, r in pairs(box.info.replication) do
    if r.id ~= box.info.id then
      local up, down = r.upstream, r.downstream
      if up and up.status == "follow" and down and down.status == "follow" then
        n = n + 1
      end
      if up and up.status == "stopped" then
        stopped[#stopped + 1] = tostring(up.message)
      end
    end
  end
  return n, stopped
end

-- T_RAW(ks, key, bytes): write bytes into the row with the merge
-- trigger off, as a buggy or hostile writer would (test only); the
-- trigger is put back at once.
function T_RAW(ks, key, bytes)
  local s = box.space.vv
  for _, f in ipairs(s:before_replace()) do s:before_replace(nil, f) end
  local ok, err = pcall(s.replace, s, { ks, key, bytes })
  VVT.schema { space = "vv" }
  if not ok then error(err) end
end

-- T_KS(ks, opts): configure keyspace ks for the whole set.
function T_KS(ks, opts)
  DB:keyspace(ks, opts)
end

-- T_STATUS() -> vvt.status() of this instance.
function T_STATUS()
  return VVT.status()
end

-- T_ROWS(ks) -> the keys of ks that have a row here (sorted), and how
-- many of those rows hold only tombstones.
function T_ROWS(ks)
  local keys, tombs = {}, 0
  for _, t in box.space.vv:pairs({ ks }, { iterator = "EQ" }) do
    keys[#keys + 1] = t[2]
    local live, n = vv.state_count(t[3])
    if live == 0 and n > 0 then tombs = tombs + 1 end
  end
  return keys, tombs
end

-- T_REAPER() -> the reaper's counters here (vvt.status().reaper).
function T_REAPER()
  return VVT.status().reaper
end
