/* vvrepl_interrupt.c - running a chunk that Ctrl-C stops; its traceback. */

/*
** A signal handler may do almost nothing with a Lua state, but it may
** set a hook: the first Ctrl-C during run() sets one that raises
** "interrupted!" at the chunk's next instruction.  The hook stays until
** run() returns, raising again at each instruction, so a chunk that
** catches errors with pcall is stopped all the same.  The handler is
** installed with SA_RESETHAND: when no instruction comes (a chunk stuck
** in a C function), a second Ctrl-C ends the program.
*/
#include <signal.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "vvrepl.h"

#define RUN_HEADER   "stack traceback:"

static lua_State *volatile run_L = NULL;   /* the state run() is calling */

/*
** The hook a Ctrl-C sets: raise "interrupted!" at every instruction until
** run() ends, naming the line the chunk was at (level 0: a hook has no
** frame of its own).
*/
static void run_stop(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, run_stop, LUA_MASKCOUNT, 1);
    luaL_where(L, 0);
    lua_pushliteral(L, "interrupted!");
    lua_concat(L, 2);
    lua_error(L);
}

/* SIGINT during run(): have the chunk stop at its next instruction. */
static void run_sigint(int sig) {
    (void)sig;
    if (run_L != NULL)
        lua_sethook(run_L, run_stop, LUA_MASKCOUNT, 1);
}

/*
** The message handler of run()'s call.  It leaves the error object as it
** is (the prompt decides how to show it) and keeps, in its second
** upvalue, the traceback of the frames between the error and run().
** The first upvalue is the traceback of run() and the frames below it,
** taken before the call: that tail is cut from the full traceback, so
** users see their chunk's frames, not the REPL's.
*/
static int run_trace(lua_State *L) {
    size_t nfull, ntail, nhead = sizeof(RUN_HEADER) - 1;
    const char *tail = lua_tolstring(L, lua_upvalueindex(1), &ntail);
    const char *full;
    luaL_traceback(L, L, NULL, 1);         /* level 1: where it was raised */
    full = lua_tolstring(L, -1, &nfull);
    if (tail != NULL && ntail >= nhead) {
        tail += nhead;                     /* the frames, "\n\t..." each */
        ntail -= nhead;
        if (nfull >= ntail &&
                memcmp(full + nfull - ntail, tail, ntail) == 0) {
            nfull -= ntail;
            lua_pushlstring(L, full, nfull);
        }
    }
    if (nfull > nhead)                     /* any frame left */
        lua_replace(L, lua_upvalueindex(2));
    lua_settop(L, 1);
    return 1;
}

/*
** run(f, ...): call f with the arguments so that Ctrl-C stops it.
** Returns true and f's results; or false, the error object and the
** traceback of f's frames (nil when there is none, as after a memory
** error).  SIGINT and any hook of the user's are as before afterwards.
*/
int repl_run(lua_State *L) {
    int nargs = lua_gettop(L) - 1, status;
    lua_State *outer = run_L;
    lua_Hook hook = lua_gethook(L);
    int mask = lua_gethookmask(L), count = lua_gethookcount(L);
    struct sigaction sa, old;
    luaL_checktype(L, 1, LUA_TFUNCTION);
    luaL_traceback(L, L, NULL, 0);         /* run() and the frames below */
    lua_pushnil(L);                        /* f's traceback, when it fails */
    lua_pushcclosure(L, run_trace, 2);
    lua_insert(L, 1);                      /* handler, f, args */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = run_sigint;
    sa.sa_flags = SA_RESETHAND;            /* no SA_RESTART: reads fail */
    sigemptyset(&sa.sa_mask);
    run_L = L;
    sigaction(SIGINT, &sa, &old);
    status = lua_pcall(L, nargs, LUA_MULTRET, 1);
    sigaction(SIGINT, &old, NULL);
    run_L = outer;
    if (lua_gethook(L) == run_stop)        /* set by a Ctrl-C: take it off */
        lua_sethook(L, hook, mask, count);
    if (status == LUA_OK) {
        lua_pushboolean(L, 1);
        lua_replace(L, 1);                 /* true, results */
        return lua_gettop(L);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, -2);                     /* false, error object */
    lua_getupvalue(L, 1, 2);               /* the traceback, or nil */
    return 3;
}
