/* lvv_sync.c - keyspace sync from Lua: digest, delta, apply, reap. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lvv.h"

/* ---- sync ---------------------------------------------------------- */

/* db:digest(ks) -> bytes: what this store has of keyspace ks. */
static int db_digest(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    box *x = vvl_newbox(L, BOX_MEM);
    size_t len = 0;
    int rc = vv_digest(s->db, ks, &x->p, &len);
    if (rc) return vvl_db_fail(L, s, "digest", rc);
    return vvl_push_mem(L, x, len);
}

/* db:delta(ks, digest) -> bytes: the states the digest's maker misses. */
static int db_delta(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t dlen, len = 0;
    const char *d = vvl_checkstr(L, 3, &dlen);
    box *x = vvl_newbox(L, BOX_MEM);
    int rc = vv_delta(s->db, ks, d, dlen, &x->p, &len);
    if (rc) return vvl_db_fail(L, s, "delta", rc);
    return vvl_push_mem(L, x, len);
}

/* db:apply(ks, delta) -> number of keys changed; a bad delta raises and
 * changes nothing. */
static int db_apply(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t len, changed = 0;
    const char *d = vvl_checkstr(L, 3, &len);
    int rc = vv_apply(s->db, ks, d, len, &changed);
    if (rc) return vvl_db_fail(L, s, "apply", rc);
    vvc_pushuint64(L, (uint64_t)changed);
    return 1;
}

/* db:reap(ks, {digest, ...}) -> number of tombstone-only keys dropped. */
static int db_reap(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t i, n, reaped = 0;
    const void **ds;
    size_t *lens;
    int rc;
    luaL_checktype(L, 3, LUA_TTABLE);
    n = vvc_rawlen(L, 3);
    if (n > (size_t)INT_MAX / 2) return luaL_argerror(L, 3, "too many digests");
    ds = (const void **)lua_newuserdata(L, (n ? n : 1) * sizeof *ds);
    lens = (size_t *)lua_newuserdata(L, (n ? n : 1) * sizeof *lens);
    for (i = 0; i < n; i++) {
        lua_rawgeti(L, 3, (int)(i + 1));
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_argerror(L, 3, lua_pushfstring(L, "digest %d is a %s,"
                                 " not a string", (int)(i + 1),
                                 luaL_typename(L, -1)));
        ds[i] = lua_tolstring(L, -1, &lens[i]);
        lua_pop(L, 1);                  /* the table keeps it alive */
    }
    rc = vv_reap(s->db, ks, ds, lens, n, &reaped);
    if (rc) return vvl_db_fail(L, s, "reap", rc);
    vvc_pushuint64(L, (uint64_t)reaped);
    return 1;
}


/* ---- registration ---------------------------------------------------- */

/* Store methods of this file. */
const luaL_Reg vvl_sync_meth[] = {
    {"digest", db_digest},
    {"delta", db_delta},
    {"apply", db_apply},
    {"reap", db_reap},
    {NULL, NULL}
};
