-- vv-scm-1.rockspec - the Lua module "vv" built by LuaRocks from this tree:
--   luarocks make rockspecs/vv-scm-1.rockspec
-- Debian packages it needs: liblmdb-dev libxxhash-dev libmsgpack-dev.
rockspec_format = "3.0"
package = "vv"
version = "scm-1"
source = {
   url = "git+file://.",
}
description = {
   summary = "Versioned key-value data: vector clocks, siblings, Lua resolvers",
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
   type = "builtin",
   modules = {
      vv = {
         -- every core/*.c, and lua/*.c but the REPL (tests/t_rockspec.sh
         -- checks this list against the tree)
         sources = {
            "core/actors.c",
            "core/clock.c",
            "core/db.c",
            "core/dvv.c",
            "core/export.c",
            "core/history.c",
            "core/keyspace.c",
            "core/lmdb.c",
            "core/lmdb_grow.c",
            "core/lmdb_open.c",
            "core/log.c",
            "core/mem.c",
            "core/read.c",
            "core/stats.c",
            "core/sync.c",
            "core/util.c",
            "core/write.c",
            "lua/lcodec.c",
            "lua/lmatch.c",
            "lua/ltools.c",
            "lua/lvv.c",
            "lua/lvv_clock.c",
            "lua/lvv_inspect.c",
            "lua/lvv_rw.c",
            "lua/lvv_store.c",
            "lua/lvv_sync.c",
            "lua/resolver.c",
            "lua/resolver_budget.c",
            "lua/resolver_call.c",
            "lua/resolver_lib.c",
            "lua/resolver_sandbox.c",
            "lua/resolver_sort.c",
         },
         defines = { "_DEFAULT_SOURCE" },
         incdirs = { "core", "lua", "$(LMDB_INCDIR)", "$(XXHASH_INCDIR)",
                     "$(MSGPACK_INCDIR)" },
         libdirs = { "$(LMDB_LIBDIR)", "$(XXHASH_LIBDIR)", "$(MSGPACK_LIBDIR)" },
         libraries = { "lmdb", "xxhash", "msgpackc", "m" },
      },
   },
   copy_directories = { "docs" },
}
