-- installed.lua - the set-up of docs/tarantool.md from an installed copy
-- (run by tests/t_tarantool.sh with tarantool after `make install
-- PREFIX=<prefix>`): Tarantool's module paths are set to what it searches
-- under a prefix (lib/lua/5.1, share/lua/5.1) and nothing else, so
-- require finds vv and vv.tarantool only where make install put them.
-- Arguments: the prefix, a working directory.  Prints "ok - ..." lines.
local prefix, dir = assert(arg[1], "a prefix"), assert(arg[2], "a directory")
package.cpath = prefix .. "/lib/lua/5.1/?.so"
package.path = prefix .. "/share/lua/5.1/?.lua"
io.stdout:setvbuf("no")
local drive = dofile(assert(os.getenv("VVT_ROOT"), "VVT_ROOT") ..
                    "/tests/tarantool/drive.lua")
local ok = drive.ok

local vvt = require "vv.tarantool"
ok(package.searchpath("vv", package.cpath) == prefix .. "/lib/lua/5.1/vv.so"
   and package.searchpath("vv.tarantool", package.path) ==
       prefix .. "/share/lua/5.1/vv/tarantool.lua",
   "require \"vv.tarantool\" finds the installed vv.so (lib/lua/5.1) and "
   .. "vv/tarantool.lua (share/lua/5.1)")
vvt.prepare { space = "vv" }
box.cfg { work_dir = dir, log = "tarantool.log", feedback_enabled = false }
local db = vvt.open { node = "t1", space = "vv" }
db:keyspace("carts", { resolver = prefix .. "/share/vv/scripts/union.lua" })
db:put("carts", "alice", { "apple" })
local other = require("vv").open { node = "t2" }
other:put("carts", "alice", { "pear" })
db:merge("carts", "alice", other:export("carts", "alice"))
local r = db:get("carts", "alice")
ok(r and #r.siblings == 2 and type(r.value) == "table" and
   table.concat(r.value, ",") == "apple,pear",
   "the docs' set-up runs from the installed copy: two siblings, the "
   .. "installed union.lua resolves them to apple,pear",
   require("json").encode(r and r.value))
drive.exit()
