/* vvrepl_cmd.c - the vv command's commands: `vv NAME args...`. */

/* Each runs in a protected call with vv loaded; add one by writing its
 * function and a line in repl_cmds. */
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "vvrepl.h"

/* Look up vv.<fn>; raise a clear error when this build lacks it. */
static void cmd_getfn(lua_State *L, const char *fn, const char *cmd) {
    lua_getglobal(L, "vv");
    if (lua_getfield(L, -1, fn) != LUA_TFUNCTION)
        luaL_error(L, "'%s' is not available in this build (no vv.%s)",
                   cmd, fn);
    lua_remove(L, -2);
}

/* vv check-resolver SCRIPT: vv.check_resolver(path) -> ok, report. */
static int cmd_check_resolver(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    if (argc != 3)
        return luaL_error(L, "usage: %s check-resolver SCRIPT.lua",
                          repl_progname);
    cmd_getfn(L, "check_resolver", "check-resolver");
    lua_pushstring(L, argv[2]);
    lua_call(L, 1, 2);
    repl_pushformat(L);
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    puts(lua_tostring(L, -1));
    lua_pop(L, 2);
    lua_pushboolean(L, lua_toboolean(L, -1));
    return 1;
}

/* vv dot KS KEY [--path DIR] [--node NAME]: vv.dot(db, ks, key). */
static int cmd_dot(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    repl_opts o;
    const char *pos[2];
    int i, npos = 0;
    memset(&o, 0, sizeof o);
    for (i = 2; i < argc; i++) {
        const char *v;
        if ((v = repl_optvalue(argv, &i, "--path")) != NULL)
            o.path = v;
        else if ((v = repl_optvalue(argv, &i, "--node")) != NULL)
            o.node = v;
        else if (argv[i][0] != '-' && npos < 2)
            pos[npos++] = argv[i];
        else
            npos = 3;
    }
    if (npos != 2)
        return luaL_error(L, "usage: %s dot KS KEY [--path DIR] [--node NAME]",
                          repl_progname);
    cmd_getfn(L, "dot", "dot");
    if (repl_opendb(L, &o) != LUA_OK)
        return luaL_error(L, "cannot open the store");
    lua_getglobal(L, "db");
    lua_pushstring(L, pos[0]);
    lua_pushstring(L, pos[1]);
    lua_call(L, 3, 1);
    fputs(luaL_tolstring(L, -1, NULL), stdout);
    lua_pushboolean(L, 1);
    return 1;
}

/* The commands, by name. */
static const repl_cmd repl_cmds[] = {
    {"check-resolver", cmd_check_resolver},
    {"dot", cmd_dot},
    {NULL, NULL}
};

/* The command named by argv[1], or NULL. */
const repl_cmd *repl_findcmd(int argc, char **argv) {
    const repl_cmd *cmd;
    if (argc < 2)
        return NULL;
    for (cmd = repl_cmds; cmd->name != NULL; cmd++)
        if (strcmp(argv[1], cmd->name) == 0)
            return cmd;
    return NULL;
}

/* Run a command with vv loaded: the libraries first, then the command. */
int repl_pcmd(lua_State *L) {
    const repl_cmd *cmd = (const repl_cmd *)lua_touserdata(L, 3);
    repl_openlibs(L);
    lua_settop(L, 2);
    return cmd->run(L);
}
