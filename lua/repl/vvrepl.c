/* vvrepl.c - the vv command: a Lua prompt with vv loaded and a store ready. */

/*
** main() makes a Lua state with the standard libraries and vv, loads the
** Lua parts compiled into the program (mk/lua2c.c) and hands the command
** line to vvrepl_start.lua, which does the rest: options, the store
** `db`, -e chunks, a script, a command such as `vv dot`, or the prompt.
** The exit status is 0 when it returns true.
*/
#include <stdio.h>
#include <stdlib.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "vv.h"
#include "common/luasrc.h"
#include "vvrepl.h"

int luaopen_vv(lua_State *L);   /* lua/module/lvv.c */

/* Push the chunk of a compiled-in Lua file; raises when the build lacks it. */
static void repl_part(lua_State *L, const vvl_luasrc *list, const char *name) {
    const vvl_luasrc *src = vvl_luasrc_find(list, name);
    if (src == NULL)
        luaL_error(L, "this build lacks %s.lua", name);
    vvl_luasrc_load(L, src);
}

/*
** Push the primitives the Lua parts get from C: the console's functions,
** run (a call Ctrl-C stops) and the version line.
*/
static void repl_primitives(lua_State *L) {
    lua_newtable(L);
    repl_console(L);
    lua_pushcfunction(L, repl_run);
    lua_setfield(L, -2, "run");
    lua_pushliteral(L, "vv " VV_VERSION " (" LUA_RELEASE ")");
    lua_setfield(L, -2, "version");
}

/*
** The program, in a protected call: argc and argv in, whether it went
** well out.  The pretty printer gets the tools' key order and becomes
** the global pp; vvrepl_start.lua gets the primitives, the printer's
** format function, the prompt's chunk and the command line as a table.
*/
static int repl_main(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1), i;
    char **argv = (char **)lua_touserdata(L, 2);
    luaL_openlibs(L);
    luaL_requiref(L, "vv", luaopen_vv, 1); /* global and package.loaded */
    repl_part(L, vvl_repl_lua, "vvrepl_start");
    repl_primitives(L);
    repl_part(L, vvl_repl_lua, "vvrepl_pp");
    repl_part(L, vvl_tools_lua, "keyorder");
    lua_call(L, 0, 1);                     /* keyorder's comparison */
    lua_call(L, 1, 2);                     /* format, pp */
    lua_setglobal(L, "pp");
    repl_part(L, vvl_repl_lua, "vvrepl_prompt");
    lua_createtable(L, argc, 1);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_call(L, 4, 1);
    return 1;
}

int main(int argc, char **argv) {
    const char *name = argv[0] != NULL && argv[0][0] ? argv[0] : "vv";
    lua_State *L = luaL_newstate();
    int ok = 0;
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create a Lua state: not enough memory\n",
                name);
        return EXIT_FAILURE;
    }
    lua_pushcfunction(L, repl_main);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    if (lua_pcall(L, 2, 1, 0) == LUA_OK)
        ok = lua_toboolean(L, -1);
    else {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "%s: %s\n", name, msg ? msg : "(no message)");
    }
    lua_close(L);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
