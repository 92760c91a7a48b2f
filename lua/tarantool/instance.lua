-- instance.lua - one Tarantool instance of a local full-mesh replica set
-- running vv (lua/tarantool/cluster.sh starts these; see docs/tarantool.md).
--
-- Everything comes from the environment:
--   VVT_ID     this instance's number, 1..N (its vv node is "t<ID>")
--   VVT_N      how many instances the set has
--   VVT_DIR    the set's directory; this instance works in VVT_DIR/i<ID>
--   VVT_PORT   the first port: instance I listens on 127.0.0.1:VVT_PORT+I-1
--   VVT_BUILD  the build directory holding luajit/vv.so and
--              luajit/vv/tarantool.lua (absolute)
--   VVT_INIT   optional: a Lua file run once the store is open (keyspace
--              configs, helpers); it sees the globals VVT and DB
--   VVT_RTIMEOUT  replication_timeout (default 0.5 s)
--   VVT_QUORUM replication_connect_quorum of this start (default: N on a
--              first start, 0 on a restart); a restart with a quorum
--              waits in box.cfg until it has caught up with its peers
--   VVT_REAP   seconds between rounds of the tombstone reaper (default 1)
--   VVT_MEMTX  memtx_memory in MB (default 64)
-- After start: the global DB is this instance's vv store
-- (vvt.open{node = "t<ID>", space = "vv"}), and a console listens on
-- VVT_DIR/i<ID>/admin.sock.
local fio = require "fio"
local log = require "log"

local ID = tonumber(os.getenv("VVT_ID"))
local N = tonumber(os.getenv("VVT_N"))
local BASE = os.getenv("VVT_DIR")
local PORT = tonumber(os.getenv("VVT_PORT"))
local BUILD = os.getenv("VVT_BUILD")
assert(ID and N and BASE and PORT and BUILD,
       "instance.lua: VVT_ID, VVT_N, VVT_DIR, VVT_PORT, VVT_BUILD needed")

package.cpath = BUILD .. "/luajit/?.so;" .. package.cpath
package.path = BUILD .. "/luajit/?.lua;" .. package.path
VVT = require "vv.tarantool"

local dir = fio.pathjoin(BASE, "i" .. ID)
fio.mktree(dir)
-- the merge trigger goes on the space while box.cfg recovers it, so rows
-- that replication brings during box.cfg are merged as well
VVT.prepare { space = "vv" }

local peers = {}
for i = 1, N do peers[i] = "vv:vv@127.0.0.1:" .. (PORT + i - 1) end
-- a first start: all N come up together and one bootstraps the set
-- (the others join it), so box.cfg waits for every peer; a restart on a
-- directory with a snapshot waits for none (peers are found later)
local fresh = #fio.glob(fio.pathjoin(dir, "*.snap")) == 0
local quorum = tonumber(os.getenv("VVT_QUORUM")) or (fresh and N or 0)
box.cfg {
  listen = "127.0.0.1:" .. (PORT + ID - 1),
  work_dir = dir,
  pid_file = "tarantool.pid",
  log = "tarantool.log",
  background = true,
  memtx_memory = (tonumber(os.getenv("VVT_MEMTX")) or 64) * 1024 * 1024,
  feedback_enabled = false,
  replication = peers,
  replication_connect_quorum = quorum,
  replication_connect_timeout = quorum > 0 and 30 or 1,
  replication_timeout = tonumber(os.getenv("VVT_RTIMEOUT")) or 0.5,
  replication_sync_timeout = 5,
  read_only = false,
}
-- later reconfigurations (a cut and its repair) must not wait for peers
if quorum > 0 then
  box.cfg { replication_connect_quorum = 0, replication_connect_timeout = 1 }
end

-- on the bootstrap instance only: the space first, the replication user
-- last, so joiners can log in only once the space exists and receive it
-- instead of creating it themselves (two creations would conflict)
box.once("vv-cluster-1", function()
  VVT.schema { space = "vv" }
  box.schema.user.create("vv", { password = "vv", if_not_exists = true })
  box.schema.user.grant("vv", "super", nil, nil, { if_not_exists = true })
end)

DB = VVT.open { node = "t" .. ID, space = "vv", timeout = 30,
                reap = { interval = tonumber(os.getenv("VVT_REAP")) or 1 } }
local init = os.getenv("VVT_INIT")
if init and init ~= "" then dofile(init) end
require("console").listen("unix/:" .. fio.pathjoin(dir, "admin.sock"))
log.info("vv instance %d up (%s start), actor %s", ID,
         fresh and "first" or "re", DB:actor())
