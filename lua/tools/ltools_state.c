/* ltools_state.c - T.state and T.isstore: a key's whole state for vv.dot. */

/* Stores are lvv.c's "vv.store" userdata, whose block starts with the
 * store's vv_db pointer (NULL once closed). */

#include <string.h>
#include "lua.h"
#include "lauxlib.h"
#include "vv.h"
#include "common/compat.h"
#include "ltools_int.h"

#define STORE   "vv.store"

/* The head of lvv.c's store userdata. */
typedef struct tstore {
    vv_db *db;
} tstore;

/* The open store at argument i. */
static vv_db *tl_checkdb(lua_State *L, int i)
{
    tstore *s = (tstore *)vvc_testudata(L, i, STORE);
    if (s == NULL) vvc_typeerror(L, i, "store");
    if (s->db == NULL) luaL_error(L, "attempt to use a closed store");
    return s->db;
}

/* T.isstore(v) -> true for an open store, false for a closed one, nil
 * for anything else. */
static int tl_isstore(lua_State *L)
{
    tstore *s = (tstore *)vvc_testudata(L, 1, STORE);
    if (s == NULL) lua_pushnil(L);
    else lua_pushboolean(L, s->db != NULL);
    return 1;
}

/* A string argument without NUL bytes (keyspace names). */
static const char *tl_checkks(lua_State *L, int i)
{
    size_t n;
    const char *s = luaL_checklstring(L, i, &n);
    if (strlen(s) != n) luaL_argerror(L, i, "keyspace name contains a NUL");
    return s;
}

/* Raise with the store's message. */
static int tl_fail(lua_State *L, vv_db *db, const char *fn, int rc)
{
    const char *m = vv_errmsg(db);
    return luaL_error(L, "%s: %s", fn, m && *m ? m : vv_strerror(rc));
}

/* Push the node part of an actor name ("s0" of "s0.abcdefgh"). */
static void tl_pushnode(lua_State *L, const char *a, size_t n)
{
    size_t k;
    for (k = n; k > 0; k--)
        if (a[k - 1] == '.') { n = k - 1; break; }
    lua_pushlstring(L, a, n);
}

/* Set t.actor, t.node, t.counter of the table on top. */
static void tl_setdot(lua_State *L, const char *a, size_t alen,
                      uint64_t n)
{
    if (a != NULL) {
        lua_pushlstring(L, a, alen);
        lua_setfield(L, -2, "actor");
        tl_pushnode(L, a, alen);
        lua_setfield(L, -2, "node");
    }
    vvc_pushuint64(L, n);
    lua_setfield(L, -2, "counter");
}

/* ---- T.state --------------------------------------------------------- */

/* Where the walk of a state puts what it finds (absolute indices). */
typedef struct tl_walk {
    lua_State *L;
    int ctx, vers;                 /* the two lists being filled */
    int nctx, nvers;
} tl_walk;

/* A context entry: {actor=, node=, counter=} appended to w->ctx. */
static int tl_ctx_dot(void *ud, const vv_dot *d)
{
    tl_walk *w = ud;
    lua_State *L = w->L;
    lua_createtable(L, 0, 3);
    tl_setdot(L, d->actor, d->actor_len, d->counter);
    lua_rawseti(L, w->ctx, ++w->nctx);
    return 0;
}

/* A version: {actor=, node=, counter=, timestamp=, tombstone=, value=}
 * appended to w->vers. */
static int tl_version(void *ud, const vv_version *v)
{
    tl_walk *w = ud;
    lua_State *L = w->L;
    lua_createtable(L, 0, 6);
    tl_setdot(L, v->dot.actor, v->dot.actor_len, v->dot.counter);
    vvc_pushuint64(L, v->timestamp);
    lua_setfield(L, -2, "timestamp");
    lua_pushboolean(L, v->tombstone);
    lua_setfield(L, -2, "tombstone");
    lua_pushlstring(L, (const char *)v->value, v->len);
    lua_setfield(L, -2, "value");
    lua_rawseti(L, w->vers, ++w->nvers);
    return 0;
}

/* T.state(db, ks, key) -> {context={dots}, versions={ {actor=, node=,
 * counter=, timestamp=, tombstone=, value=bytes} }}, or nil. */
static int tl_state(lua_State *L)
{
    vv_db *db = tl_checkdb(L, 1);
    const char *ks = tl_checkks(L, 2);
    size_t klen, len = 0;
    const char *key = luaL_checklstring(L, 3, &klen);
    void *out = NULL;
    const char *s;
    tl_walk w;
    int rc = vv_export(db, ks, key, klen, &out, &len);
    if (rc == VV_ENOTFOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (rc) return tl_fail(L, db, "state", rc);
    lua_pushlstring(L, (const char *)out, len);     /* the bytes, kept */
    vv_free(out);
    s = lua_tolstring(L, -1, &len);
    lua_createtable(L, 0, 2);                       /* the result */
    lua_newtable(L);
    w.ctx = lua_gettop(L);
    lua_newtable(L);
    w.vers = lua_gettop(L);
    w.L = L;
    w.nctx = w.nvers = 0;
    if (vv_state_inspect(s, len, tl_ctx_dot, tl_version, &w) != VV_OK)
        return luaL_error(L, "state: the export is unreadable");
    lua_setfield(L, -3, "versions");
    lua_setfield(L, -2, "context");
    return 1;
}

/* The primitives of this file. */
static const luaL_Reg state_prim[] = {
    {"state", tl_state},
    {"isstore", tl_isstore},
    {NULL, NULL}
};

/* Add state and isstore to the table on top. */
void vvl_tools_state(lua_State *L)
{
    vvc_setfuncs(L, state_prim, 0);
}
