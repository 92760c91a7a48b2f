/* lvv_bench.c - vv._bench: the engine's own loop, for make bench only. */
/*
 * Not part of the API.  bench/bench_lua.lua compares a Lua loop of
 * db:get (or db:get and db:put) with the same loop in C, over the same
 * key strings, in the same process and the same run: what the two differ
 * by is the binding's cost.
 */
#include <string.h>
#include <time.h>
#include "lvv.h"

/* vv._bench(db, ks, keys, op) -> the CPU seconds of one pass over the
 * array keys (strings): op "get" reads each with vv_get_reuse; "getput"
 * also writes its value back with the read's context, into a context
 * clock, as a Lua read-modify-write does.  The keys' addresses are taken
 * before the clock starts.  A failure raises. */
static int lib_bench(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    const char *op = luaL_checkstring(L, 4);
    int put = strcmp(op, "getput") == 0, rc = VV_OK;
    size_t n, i;
    box *x, *rd;
    struct bkey { const char *p; size_t len; } *k;
    vv_clock c, nc;
    clock_t t0;
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_argcheck(L, put || strcmp(op, "get") == 0, 4, "get or getput");
    n = vvc_rawlen(L, 3);
    rd = vvl_newbox(L, BOX_READ);               /* the loop's own read */
    x = vvl_newbox(L, BOX_MEM);
    if (n == 0 || (x->p = vv_malloc(n * sizeof *k)) == NULL)
        return luaL_error(L, "_bench: no keys, or not enough memory");
    k = (struct bkey *)x->p;
    for (i = 0; i < n; i++) {
        vvc_rawgeti(L, 3, (lua_Integer)(i + 1));
        k[i].p = vvl_checkstr(L, -1, &k[i].len);
        lua_pop(L, 1);                  /* the table keeps the string */
    }
    vv_clock_init(&c);
    vv_clock_init(&nc);
    t0 = clock();
    for (i = 0; i < n && rc == VV_OK; i++) {
        const vv_sibling *sb;
        rc = vv_get_reuse(s->db, ks, k[i].p, k[i].len, (vv_read **)&rd->p);
        if (rc || !put) continue;
        sb = vv_read_sibling((vv_read *)rd->p, 0);
        vv_clock_clear(&c);
        rc = vv_read_context_into((vv_read *)rd->p, &c);
        if (rc == VV_OK)
            rc = vv_write(s->db, ks, k[i].p, k[i].len, sb->value, sb->len,
                          0, &c, &nc);
    }
    lua_pushnumber(L, (lua_Number)(clock() - t0) / CLOCKS_PER_SEC);
    vv_clock_clear(&c);
    vv_clock_clear(&nc);
    vvl_box_release(x);
    vvl_box_release(rd);
    if (rc) return vvl_db_fail(L, s, "_bench", rc);
    return 1;
}

const luaL_Reg vvl_bench_lib[] = {
    {"_bench", lib_bench},
    {NULL, NULL}
};
