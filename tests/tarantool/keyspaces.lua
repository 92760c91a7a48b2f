-- keyspaces.lua - one keyspace configuration for the whole replica set
-- (run by tests/t_tarantool.sh with tarantool, against the three
-- instances of lua/tarantool/cluster.sh that model.lua used).
--
-- Instances 1 and 3, cut off from each other, configure keyspace "cf"
-- with different resolvers while three concurrent versions of its keys
-- are written; once together, all three must run one configuration and
-- read the same value.  Then a script changed on instance 2 must be used
-- by all; a script that cannot be kept on instance 3 must be refused
-- there, logged, shown in reads and in vvt.status() on every instance,
-- and taken once it can be; a script that does not load and a function
-- resolver are refused where they are given, changing nothing.
--
-- Environment: VVT_PORT, VVT_DIR, VVT_ROOT.  Prints "ok - ..." /
-- "not ok - ..." lines; exit status 1 when one failed.
local fiber = require "fiber"
local clock = require "clock"
local digest = require "digest"
local fio = require "fio"

io.stdout:setvbuf("no")
require("log").level(1)
local PORT0 = assert(tonumber(os.getenv("VVT_PORT")), "VVT_PORT")
local DIR = assert(os.getenv("VVT_DIR"), "VVT_DIR")
local ROOT = assert(os.getenv("VVT_ROOT"), "VVT_ROOT")

local drive = dofile(ROOT .. "/tests/tarantool/drive.lua")
local ok, wait_for = drive.ok, drive.wait_for
local set = drive.set(PORT0)
local call, eval, set_links = set.call, set.eval, set.links

-- what instance i shows for keyspace "cf" (its own vvt.status() entry)
local function cf(i)
  local st = call(i, "T_STATUS")
  return st.keyspaces.cf or {}, st
end

-- do all three run the same configuration of "cf" (each as want says)?
local function same_config(want)
  local a, b, c = cf(1), cf(2), cf(3)
  return a.config ~= nil and a.config == b.config and b.config == c.config
         and (want == nil or (want(a) and want(b) and want(c))), a
end

local KEYS = { "x", "y", "z" }
local function values()
  local out = {}
  for i = 1, 3 do
    local parts = {}
    for _, k in ipairs(KEYS) do
      local r = call(i, "T_GET", { "cf", k })
      parts[#parts + 1] = tostring(r and r.value) .. "/" .. tostring(r and
                                                                   r.error)
    end
    out[i] = table.concat(parts, " ")
  end
  return out
end
local function all_read(text)
  local v = values()
  return v[1] == text and v[2] == text and v[3] == text, table.concat(v, " | ")
end

-- ---- two instances, two resolvers, while apart -------------------------

set_links(3, {})
set_links(1, { 1, 2 })
set_links(2, { 1, 2 })
local okc, err = pcall(function()
  call(1, "T_KS", { "cf", { resolver = "lww" } })
  for n, k in ipairs(KEYS) do
    call(1, "T_PUT", { "cf", k, 10 * n + 1 })
    call(2, "T_PUT", { "cf", k, 10 * n + 5 })
    call(3, "T_PUT", { "cf", k, 10 * n + 3 })
  end
  fiber.sleep(0.01)           -- the later change: instance 3's
  call(3, "T_KS", { "cf", { resolver = ROOT .. "/scripts/max.lua" } })
end)
ok(okc, "instances 1 and 3, cut off from each other, configure keyspace cf "
   .. "with different resolvers (lww, max.lua) while the set writes three "
   .. "concurrent versions of each key", err)
for i = 1, 3 do set_links(i, { 1, 2, 3 }) end
local max_src = io.open(ROOT .. "/scripts/max.lua"):read("*a")
local max_hash = "sha256:" .. digest.sha256_hex(max_src):sub(1, 16)
local one, shown = wait_for(15, function()
  return same_config(function(a) return a.script == max_hash end)
end)
local same, detail = wait_for(10, function()
  return all_read("15/nil 25/nil 35/nil")
end)
ok(one and same, "together again, all three run one configuration (the later "
   .. "one, max.lua " .. max_hash .. ") and read the same values: "
   .. tostring(detail),
   require("json").encode(shown) .. " " .. tostring(detail))

-- ---- a script changed on one instance is used by all ---------------------

local function script(name, src)
  local path = DIR .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(src)
  f:close()
  return path, "sha256:" .. digest.sha256_hex(src):sub(1, 16), src
end
local min_path, min_hash = script("min.lua", [[
-- the smallest value
return function(siblings)
  local m = siblings[1].value
  for i = 2, #siblings do
    if siblings[i].value < m then m = siblings[i].value end
  end
  return m
end
]])
call(2, "T_KS", { "cf", { resolver = min_path } })
one = wait_for(10, function()
  return same_config(function(a) return a.script == min_hash end)
end)
same, detail = wait_for(10, function()
  return all_read("11/nil 21/nil 31/nil")
end)
ok(one and same, "a script changed on instance 2 (min.lua " .. min_hash
   .. ") is what all three run: " .. tostring(detail), tostring(detail))

-- ---- a script refused where it cannot be used ---------------------------

local last_src = [[
-- the last sibling's value (siblings come in actor order)
return function(siblings) return siblings[#siblings].value end
]]
local last_path, last_hash = script("last.lua", last_src)
-- on instance 3 the script's file cannot be made: a directory is where
-- it would go
local blocker = fio.pathjoin(DIR, "i3", "vv-scripts",
                             digest.sha256_hex(last_src) .. ".lua")
fio.mktree(blocker)
call(1, "T_KS", { "cf", { resolver = last_path } })
local refused = wait_for(10, function()
  local a = cf(3)
  return a.error ~= nil and a.error:find("cannot be used on this instance",
                                         1, true) ~= nil
end)
local a3, st1 = cf(3), select(2, cf(1))
local r3 = call(3, "T_GET", { "cf", "x" })
local log3 = io.open(fio.pathjoin(DIR, "i3", "tarantool.log")):read("*a")
ok(refused and r3 and r3.value == nil and
   tostring(r3.error):find("cannot be used on this instance", 1, true) and
   log3:find("keyspace 'cf': the replica set's configuration", 1, true) and
   cf(1).script == last_hash and cf(2).script == last_hash,
   "a script that cannot be kept on instance 3 is refused there: logged, "
   .. "and its reads show siblings unresolved with the reason in r.error; "
   .. "1 and 2 run it", require("json").encode(a3) .. " "
   .. require("json").encode(r3))
local seen = wait_for(10, function()
  local t3 = select(2, cf(1)).instances.t3
  return t3 and t3.keyspaces.cf and t3.keyspaces.cf.error ~= nil
end)
st1 = select(2, cf(1))
ok(seen and st1.instances.t1.keyspaces.cf.script == last_hash and
   st1.instances.t2.keyspaces.cf.script == last_hash,
   "vvt.status() on instance 1 shows each instance's script hash and "
   .. "instance 3's refusal", require("json").encode(st1.instances))
fio.rmtree(blocker)
one = wait_for(10, function()
  return same_config(function(a) return a.script == last_hash and
                                        a.error == nil end)
end)
same, detail = wait_for(10, function()
  return all_read("13/nil 23/nil 33/nil")
end)
ok(one and same, "once it can, instance 3 takes the script too, and all "
   .. "three read the last sibling: " .. tostring(detail), tostring(detail))

-- ---- refused where they are given ----------------------------------------

local before = cf(1).config
local bad_path = script("bad.lua",
                        "return function(s) return s[1].value end end")
local good1, err1 = pcall(call, 1, "T_KS", { "cf", { resolver = bad_path } })
local good2, err2 = pcall(eval, 1, "DB:keyspace('cf', { resolver = "
                          .. "function() end })")
fiber.sleep(0.3)
ok(not good1 and not good2 and
   tostring(err2):find("a function resolver lives in one process", 1, true)
   and same_config(function(a) return a.config == before end),
   "a script that does not load and a function resolver raise where they "
   .. "are given; the set's configuration stays",
   tostring(err1) .. " | " .. tostring(err2))
drive.exit()
