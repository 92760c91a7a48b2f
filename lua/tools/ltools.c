/* ltools.c - vv.dot, vv.check_resolver, vv.command: seeing conflicts. */

/* The tools are Lua code: the .lua files in lua/tools, kept to what Lua 5.1
 * to 5.4 and LuaJIT all run, compiled in as vvl_tools_lua (luasrc.h).
 * Each file is a part: a chunk run once with (vv, T), which may set
 * functions of the module (dot.lua sets vv.dot) and returns what it lends
 * the other parts (show.lua its value display).  T holds:
 *
 *   T.need(name)            what the part name.lua returned (true when
 *                           nothing), running it the first time
 *   T.state(db, ks, key)    the key's whole state, tombstones too, or nil
 *                           when the key is unknown (ltools_state.c)
 *   T.isstore(v)            is v an open store
 *   T.load(path, codec, instructions, memory)
 *                           a resolver script in its own sandbox (as a
 *                           keyspace would run it), or nil, message
 *                           (ltools_checker.c)
 *   T.resolve(r, siblings, key)
 *                           ok, result bytes or message, instructions
 *                           and bytes of memory the call used
 *   T.exact(r), T.limits(r) count every instruction; r's budgets */

#include "lua.h"
#include "lauxlib.h"
#include "common/luasrc.h"
#include "ltools_int.h"
#include "ltools.h"

/* T.need(name): upvalues are the parts' results by name (false while a
 * part runs), the module and T. */
static int tl_need(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const vvl_luasrc *src;
    lua_settop(L, 1);
    lua_pushvalue(L, 1);
    lua_rawget(L, lua_upvalueindex(1));
    if (lua_toboolean(L, 2)) return 1;
    if (!lua_isnil(L, 2))
        return luaL_error(L, "tools part '%s' needs itself", name);
    src = vvl_luasrc_find(vvl_tools_lua, name);
    if (src == NULL) return luaL_error(L, "no tools part '%s'", name);
    lua_pushvalue(L, 1);
    lua_pushboolean(L, 0);
    lua_rawset(L, lua_upvalueindex(1));         /* running */
    vvl_luasrc_load(L, src);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, lua_upvalueindex(3));
    lua_call(L, 2, 1);
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, lua_upvalueindex(1));         /* done */
    return 1;
}

/* Make T, then run every part with the module and T. */
void vvl_open_tools(lua_State *L)
{
    int mod = lua_gettop(L);
    const vvl_luasrc *part;
    lua_createtable(L, 0, 8);                   /* T */
    vvl_tools_state(L);
    vvl_tools_checker(L);
    lua_newtable(L);                            /* the parts' results */
    lua_pushvalue(L, mod);
    lua_pushvalue(L, mod + 1);
    lua_pushcclosure(L, tl_need, 3);
    lua_setfield(L, mod + 1, "need");
    for (part = vvl_tools_lua; part->name != NULL; part++) {
        lua_getfield(L, mod + 1, "need");
        lua_pushstring(L, part->name);
        lua_call(L, 1, 0);
    }
    lua_settop(L, mod);
}
