/* vvrepl_run.c - running chunks for the vv command: message handler,
 * Ctrl-C stopping a call, reporting errors. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "vvrepl.h"

static lua_State *globalL = NULL;          /* for the SIGINT handler */

/* Print a message prefixed with the program name, on stderr. */
void repl_message(const char *pname, const char *msg) {
    if (pname)
        fprintf(stderr, "%s: ", pname);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

/* Report a failed call (message on the stack top) and pop it. */
int repl_report(lua_State *L, int status) {
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        repl_message(repl_progname, msg ? msg : "(error without a message)");
        lua_pop(L, 1);
    }
    return status;
}

/*
** Message handler of every protected call: turn the error into a string
** (using __tostring when the object has one) and add a traceback.
*/
static int repl_msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") &&
                lua_type(L, -1) == LUA_TSTRING)
            return 1;                      /* that is the message */
        msg = lua_pushfstring(L, "(error object is a %s value)",
                              luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Hook set by a SIGINT during a call: clear itself and stop the chunk. */
static void repl_stop(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/*
** SIGINT while Lua runs: only a hook can be set safely from here; it fires
** at the next instruction and raises.  The handler is installed with
** SA_RESETHAND, so a second Ctrl-C kills the process (code stuck in C).
*/
static void repl_action(int sig) {
    int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    (void)sig;
    lua_sethook(globalL, repl_stop, mask, 1);
}

/*
** Call the function below narg arguments with a traceback handler, and
** SIGINT stopping it; then SIGINT does what it did before.
*/
int repl_docall(lua_State *L, int narg, int nres) {
    int status;
    int base = lua_gettop(L) - narg;
    struct sigaction old;
    lua_pushcfunction(L, repl_msghandler);
    lua_insert(L, base);
    globalL = L;
    repl_signal(SIGINT, repl_action, SA_RESETHAND, &old);
    status = lua_pcall(L, narg, nres, base);
    sigaction(SIGINT, &old, NULL);
    lua_remove(L, base);
    return status;
}

/* Run a chunk from a string (-e). */
int repl_dostring(lua_State *L, const char *s, const char *name) {
    int status = luaL_loadbuffer(L, s, strlen(s), name);
    if (status == LUA_OK)
        status = repl_docall(L, 0, 0);
    return repl_report(L, status);
}

/* Push arg[1..#arg] (the script's arguments) and return how many. */
static int repl_pushargs(lua_State *L) {
    int i, n;
    if (lua_getglobal(L, "arg") != LUA_TTABLE)
        luaL_error(L, "'arg' is not a table");
    n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -i);
    return n;
}

/* Run a script file (NULL or "-": stdin) with its arguments as `...`. */
int repl_doscript(lua_State *L, const char *fname) {
    int status;
    if (fname != NULL && strcmp(fname, "-") == 0)
        fname = NULL;
    status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = repl_pushargs(L);
        status = repl_docall(L, n, LUA_MULTRET);
    }
    return repl_report(L, status);
}
