-- memory.lua - vv.tarantool in bounded memtx memory (run by
-- tests/t_tarantool.sh with tarantool).  Many large writes replace the
-- states of a few keys: about 100 MB of tuples pass through memtx while
-- 40 KB stay live.  Each role is one Tarantool process:
--
--   memory.lua source DIR    instance A (memtx 256 MB): waits for B, writes
--                            25,000 puts of 4 KB onto 10 keys (each with
--                            the context of the last), waits until B has
--                            them all, then SIGKILLs itself (no snapshot:
--                            its WAL holds every write)
--   memory.lua replica DIR   instance B (memtx 48 MB, vvt.prepare): joins
--                            A and takes the writes in through its applier
--                            and the merge trigger; its memtx use is
--                            sampled meanwhile
--   memory.lua recover DIR plain|vv
--                            A's files recovered under memtx 48 MB, by
--                            plain Tarantool, or with vvt.prepare before
--                            box.cfg (then every key is read through vv)
--
-- Prints "ok - ..." / "not ok - ..." lines; exit status 1 when one failed
-- (a box.cfg that cannot recover ends the process with a fatal error).
-- Environment: B (the build directory, absolute), VVT_ROOT (the source
-- tree), VVT_MEM_WRITES.
package.cpath = os.getenv("B") .. "/luajit/?.so;" .. package.cpath
package.path = os.getenv("B") .. "/luajit/?.lua;" .. package.path
io.stdout:setvbuf("no")
local fio = require "fio"
local fiber = require "fiber"
local clock = require "clock"
local ffi = require "ffi"

local role, dir, mode = arg[1], assert(arg[2], "a directory"), arg[3]
local N = tonumber(os.getenv("VVT_MEM_WRITES")) or 25000
local KEYS, SIZE, SMALL = 10, 4096, 48
local A_URI = "unix/:" .. dir .. "/a.sock"
local MB = 2 ^ 20

local drive = dofile(assert(os.getenv("VVT_ROOT"), "VVT_ROOT") ..
                    "/tests/tarantool/drive.lua")
local ok = drive.ok

-- The value the i-th write puts, and the last write of each key.
local filler = string.rep("x", SIZE)
local function value(i) return filler .. i end
local function last_of(k)
  local i = N - (N - k) % KEYS
  return i
end

-- Does this instance's log hold a memtx allocation failure?
local function oom_logged(log)
  local f = io.open(log)
  if not f then return false end
  local s = f:read("*a")
  f:close()
  return s:find("Failed to allocate", 1, true) ~= nil
end

local function arena() return box.slab.info().arena_used end

if role == "source" then
  local vvt = require "vv.tarantool"
  fio.mktree(dir .. "/a")
  vvt.prepare { space = "vv" }
  box.cfg { work_dir = dir .. "/a", log = "tarantool.log", listen = A_URI,
            memtx_memory = 256 * MB, feedback_enabled = false }
  box.once("mem", function()
    vvt.schema { space = "vv" }
    box.schema.user.create("vv", { password = "vv" })
    box.schema.user.grant("vv", "super")
  end)
  local db = vvt.open { node = "a" }
  local function b_lsn()
    for _, r in pairs(box.info.replication) do
      if r.id ~= box.info.id and r.downstream and r.downstream.vclock then
        return r.downstream.vclock[box.info.id] or 0
      end
    end
  end
  local t0 = clock.monotonic()
  while b_lsn() == nil and clock.monotonic() - t0 < 30 do fiber.sleep(0.01) end
  local ctx = {}
  for i = 1, N do
    local k = i % KEYS
    ctx[k] = db:put("kv", "k" .. k, value(i), ctx[k])
    if i % 50 == 0 then fiber.yield() end
  end
  while (b_lsn() or 0) < box.info.lsn and clock.monotonic() - t0 < 60 do
    fiber.sleep(0.01)
  end
  ok((b_lsn() or 0) >= box.info.lsn, string.format("%d puts of %d bytes "
     .. "onto %d keys on A, all of them acknowledged by B", N, SIZE, KEYS))
  -- a crash: no snapshot, the WAL holds every write
  ffi.cdef "int kill(int pid, int sig); int getpid(void);"
  ffi.C.kill(ffi.C.getpid(), 9)
elseif role == "replica" then
  local vvt = require "vv.tarantool"
  fio.mktree(dir .. "/b")
  vvt.prepare { space = "vv" }
  box.cfg { work_dir = dir .. "/b", log = "tarantool.log",
            memtx_memory = SMALL * MB, feedback_enabled = false,
            replication = { "vv:vv@" .. A_URI }, read_only = true,
            replication_timeout = 0.1 }
  local db = vvt.open { node = "b" }
  local peak, done = arena(), false
  fiber.create(function()
    while not done do
      local a = arena()
      if a > peak then peak = a end
      fiber.sleep(0.002)
    end
  end)
  local function caught_up()
    for k = 0, KEYS - 1 do
      local r = db:get("kv", "k" .. k)
      if r == nil or r.value ~= value(last_of(k)) then return false end
    end
    return true
  end
  local t0 = clock.monotonic()
  while not caught_up() and clock.monotonic() - t0 < 60 do fiber.sleep(0.01) end
  done = true
  ok(caught_up(), "B, with memtx_memory = " .. SMALL .. " MB, took in "
     .. "every write through its applier and the merge trigger")
  ok(not oom_logged(dir .. "/b/tarantool.log") and peak < 12 * MB,
     string.format("B's memtx use stayed bounded while the rows streamed "
                   .. "in: peak arena_used %.1f MB, no allocation failure",
                   peak / MB))
  print(string.format("# replica B: peak arena_used %.2f MB", peak / MB))
  -- stay until A is gone: it waits for this instance's acknowledgement
  local function a_up()
    for _, r in pairs(box.info.replication) do
      if r.upstream and r.upstream.status == "follow" then return true end
    end
    return false
  end
  t0 = clock.monotonic()
  while a_up() and clock.monotonic() - t0 < 30 do fiber.sleep(0.01) end
  drive.exit()
elseif role == "recover" then
  local vvt
  if mode == "vv" then
    vvt = require "vv.tarantool"
    vvt.prepare { space = "vv" }
  end
  local t0 = clock.monotonic()
  box.cfg { work_dir = dir .. "/a", log = "recover-" .. mode .. ".log",
            memtx_memory = SMALL * MB, feedback_enabled = false }
  local secs = clock.monotonic() - t0
  local used = arena()
  local rows = box.space.vv:count({ "kv" })
  if mode == "plain" then
    ok(rows == KEYS, string.format("plain Tarantool recovers A's WAL under "
       .. "memtx_memory = %d MB: %d rows, arena_used %.1f MB (%.2f s)",
       SMALL, rows, used / MB, secs))
  else
    local db = vvt.open { node = "a" }
    local good = 0
    for k = 0, KEYS - 1 do
      local r = db:get("kv", "k" .. k)
      if r and #r.siblings == 1 and r.value == value(last_of(k)) then
        good = good + 1
      end
    end
    ok(good == KEYS, string.format("with vvt.prepare, the same WAL recovers "
       .. "under memtx_memory = %d MB and every key reads its last write "
       .. "(%d of %d): arena_used %.1f MB (%.2f s)", SMALL, good, KEYS,
       used / MB, secs))
  end
  print(string.format("# recovery %s: arena_used %.2f MB, %.2f s", mode,
                      used / MB, secs))
  drive.exit()
else
  io.stderr:write("usage: memory.lua source|replica|recover DIR [plain|vv]\n")
  os.exit(2)
end
