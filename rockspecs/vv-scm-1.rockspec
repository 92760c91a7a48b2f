-- vv-scm-1.rockspec - the Lua module "vv" built by LuaRocks from this tree:
--   luarocks make rockspecs/vv-scm-1.rockspec
-- Debian packages it needs: liblmdb-dev libxxhash-dev libmsgpack-dev, and
-- make and a C compiler (build-essential).
rockspec_format = "3.0"
package = "vv"
version = "scm-1"
source = {
   url = "git+file://.",
}
description = {
   summary = "Versioned key-value data: vector clocks, siblings, Lua resolvers",
   license = "MIT",
   detailed = [[
vv keeps every concurrent write of a key as a sibling, tracked with
dotted version vectors, until a client writes with a context that has
seen them.  Keyspaces resolve siblings with last-write-wins, a Lua
function, or a sandboxed resolver script.  Stores live in memory or on
disk (LMDB) and converge by exchanging key states.
]],
}
dependencies = {
   "lua >= 5.1, < 5.5",
}
external_dependencies = {
   LMDB = { header = "lmdb.h", library = "lmdb" },
   XXHASH = { header = "xxhash.h", library = "xxhash" },
   MSGPACK = { header = "msgpack.h", library = "msgpackc" },
}
build = {
   -- The root Makefile builds the module: it first turns lua/tools/*.lua
   -- into C (mk/lua2c.c, built with the host's cc), which the builtin
   -- type cannot do.  A fresh directory each time, as one checkout may
   -- build for several Lua versions.  tests/t_packaging.sh checks that
   -- the rock compiles every library source and embeds every tools part.
   type = "command",
   build_command = [[rm -rf build/luarocks && $(MAKE) module B=build/luarocks ]]
      .. [[CC="$(CC)" OPT="$(CFLAGS)" MODFLAGS="$(LIBFLAG)" ]]
      .. [[LUA_CF="-I$(LUA_INCDIR)" ]]
      .. [[DEP_CF="-I$(LMDB_INCDIR) -I$(XXHASH_INCDIR) -I$(MSGPACK_INCDIR)" ]]
      .. [[LDFLAGS="-L$(LMDB_LIBDIR) -L$(XXHASH_LIBDIR) -L$(MSGPACK_LIBDIR)"]],
   install_command = [[$(MAKE) install-module B=build/luarocks ]]
      .. [[INST_LIBDIR="$(LIBDIR)"]],
   copy_directories = { "docs" },
}
