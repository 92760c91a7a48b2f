/* vvrepl.c - the vv command: a Lua prompt with vv loaded and a store ready. */

/* The parts, by file: vvrepl_args.c reads the options, vvrepl_run.c runs
 * chunks, vvrepl_loop.c is the prompt (vvrepl_line.c reads its lines,
 * vvrepl_complete.c completes names, vvrepl_pp.c shows values), and
 * vvrepl_cmd.c has the commands `vv check-resolver`, `vv dot`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "vv.h"
#include "vvrepl.h"

int luaopen_vv(lua_State *L);   /* lua/module/lvv.c */

const char *repl_progname = "vv";

/* Run the -e chunks in order (options before the script only). */
static int repl_runargs(lua_State *L, char **argv, int last) {
    int i;
    for (i = 1; i < last; i++) {
        if (strcmp(argv[i], "--node") == 0 || strcmp(argv[i], "--path") == 0)
            i++;
        else if (strcmp(argv[i], "-e") == 0) {
            if (repl_dostring(L, argv[++i], "=(command line)") != LUA_OK)
                return 0;
        }
    }
    return 1;
}

/*
** The global `arg`, as the lua command makes it: arg[0] is the script,
** arg[1..] its arguments, negative indices the interpreter and options.
*/
static void repl_createargtable(lua_State *L, char **argv, int argc,
                                int script) {
    int i, narg;
    if (script == 0)
        script = argc;                     /* no script: all negative */
    narg = argc - (script + 1);
    lua_createtable(L, narg > 0 ? narg : 0, script + 1);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* db = vv.open{node = NODE, path = PATH} as a global. */
int repl_opendb(lua_State *L, const repl_opts *o) {
    int status, attempt;
    /* no --node: "repl" in memory; with --path, the node the directory
     * records, or "repl" when the directory holds no store yet */
    for (attempt = 0; attempt < 2; attempt++) {
        const char *node = o->node != NULL ? o->node
                         : (o->path == NULL || attempt) ? REPL_NODE : NULL;
        lua_getglobal(L, "vv");
        lua_getfield(L, -1, "open");
        lua_remove(L, -2);
        lua_createtable(L, 0, 2);
        if (node != NULL) {
            lua_pushstring(L, node);
            lua_setfield(L, -2, "node");
        }
        if (o->path != NULL) {
            lua_pushstring(L, o->path);
            lua_setfield(L, -2, "path");
        }
        status = repl_docall(L, 1, 1);
        if (status == LUA_OK || node != NULL) break;
        if (!strstr(lua_tostring(L, -1) ? lua_tostring(L, -1) : "",
                    "node name is required"))
            break;
        lua_pop(L, 1);                  /* a new directory: use the default */
    }
    if (status == LUA_OK)
        lua_setglobal(L, "db");
    return repl_report(L, status);
}

/* Load the libraries, vv (global and in package.loaded) and pp. */
void repl_openlibs(lua_State *L) {
    luaL_openlibs(L);
    luaL_requiref(L, "vv", luaopen_vv, 1);
    lua_pop(L, 1);
    lua_pushcfunction(L, repl_loadpp);
    lua_call(L, 0, 0);
}

/* Show the version line. */
static void repl_version(void) {
    printf("vv %s (%s)\n", VV_VERSION, LUA_RELEASE);
    fflush(stdout);
}

/* The usual run: options, -e chunks, script, and/or the prompt. */
static int repl_pmain(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    repl_opts o;
    int tty;
    repl_collect(argc, argv, &o);
    if (o.bad != NULL) {
        fprintf(stderr, "%s: unknown or incomplete option '%s'\n",
                repl_progname, o.bad);
        repl_usage(stderr);
        return 0;
    }
    if (o.help) {
        repl_usage(stdout);
        lua_pushboolean(L, 1);
        return 1;
    }
    if (o.version)
        repl_version();
    repl_openlibs(L);
    repl_createargtable(L, argv, argc, o.script);
    if (repl_opendb(L, &o) != LUA_OK)
        return 0;
    if (!repl_runargs(L, argv, o.script ? o.script : argc))
        return 0;
    if (o.script && repl_doscript(L, argv[o.script]) != LUA_OK)
        return 0;
    tty = isatty(0);
    if (o.interactive || (!o.script && !o.has_e && !o.version && tty)) {
        if (tty) {
            repl_version();
            printf("store 'db': node \"%s\", %s%s.  :help lists "
                   "commands; Ctrl-D leaves.\n",
                   o.node ? o.node : o.path ? "(the directory's)" : REPL_NODE,
                   o.path ? "durable in " : "in memory",
                   o.path ? o.path : "");
        }
        repl_loop(L);
    }
    else if (!o.script && !o.has_e && !o.version) {
        if (repl_doscript(L, NULL) != LUA_OK)   /* vv < file */
            return 0;
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv) {
    int status, ok;
    const repl_cmd *cmd = repl_findcmd(argc, argv);
    lua_State *L = luaL_newstate();
    if (argv[0] && argv[0][0])
        repl_progname = argv[0];
    if (L == NULL) {
        repl_message(repl_progname, "cannot create state: not enough memory");
        return EXIT_FAILURE;
    }
    lua_pushcfunction(L, cmd ? repl_pcmd : repl_pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    if (cmd != NULL)
        lua_pushlightuserdata(L, (void *)cmd);
    if (cmd != NULL)                       /* plain messages, no traceback */
        status = lua_pcall(L, 3, 1, 0);
    else
        status = repl_docall(L, 2, 1);
    ok = status == LUA_OK && lua_toboolean(L, -1);
    repl_report(L, status);
    lua_close(L);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
