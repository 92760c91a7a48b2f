/* vvrepl_pp.c - showing values at the vv prompt, with lua/repl/vvrepl_pp.lua. */

/* The pretty printer is written in Lua and kept in the registry: the REPL
 * shows results with it, `vv check-resolver` its report, and users call
 * it as the global pp. */
#include <stdio.h>

#include "lua.h"
#include "lauxlib.h"
#include "common/luasrc.h"
#include "vvrepl.h"

#define REPL_PPKEY  "vv.repl.pp"

/* Push the compiled file name of list; raises when the build lacks it. */
static void pp_load(lua_State *L, const vvl_luasrc *list, const char *name) {
    const vvl_luasrc *src = vvl_luasrc_find(list, name);
    if (src == NULL)
        luaL_error(L, "this build lacks %s.lua", name);
    vvl_luasrc_load(L, src);
}

/*
** Load the pretty printer, giving it the tools' key order: its formatting
** function goes in the registry for repl_print, the printing one becomes
** the global `pp` for users.
*/
int repl_loadpp(lua_State *L) {
    pp_load(L, vvl_repl_lua, "vvrepl_pp");
    pp_load(L, vvl_tools_lua, "keyorder");
    lua_call(L, 0, 1);
    lua_call(L, 1, 2);
    lua_setglobal(L, "pp");
    lua_setfield(L, LUA_REGISTRYINDEX, REPL_PPKEY);
    return 0;
}

/* Push the function that gives the text of its arguments. */
void repl_pushformat(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, REPL_PPKEY);
}

/* Show the values on the stack through the pretty printer. */
void repl_print(lua_State *L) {
    int n = lua_gettop(L);
    if (n > 0) {
        luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
        repl_pushformat(L);
        lua_insert(L, 1);
        if (lua_pcall(L, n, 1, 0) != LUA_OK)
            repl_message(repl_progname, lua_pushfstring(L,
                "error showing a value (%s)", lua_tostring(L, -1)));
        else {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            fwrite(s, 1, len, stdout);
            fputc('\n', stdout);
            fflush(stdout);
        }
    }
}
