/* lvv_state.c - detached states from Lua: merge, write and read states. */
/*
 * A key's exported state (db:export) can live outside any store, e.g. in
 * the rows of another database.  These functions work on such states
 * without storing them (core/vv.h, "Detached states"):
 *
 *   vv.merge_states(a, b)            -> the merged state (no store)
 *   vv.state_key(state)              -> its key, or nil and why
 *   vv.state_count(state)            -> live versions, tombstones
 *   db:put_state(ks, key, state, value [, ctx]) -> new state, context
 *   db:delete_state(ks, key, state [, ctx])     -> new state, context
 *   db:get_state(ks, state)          -> what db:get gives for that state
 *
 * A write takes db's identity (its actor and dot counter, its clock, the
 * keyspace's codec and limits); a read goes through the keyspace's
 * resolver.  The store keeps nothing of the key.
 */
#include <string.h>
#include "lvv.h"

/* Raise the message for a state refused with rc (no store involved). */
static int st_fail(lua_State *L, const char *fn, int rc)
{
    switch (rc) {
    case VV_EFOREIGN:
        return luaL_error(L, "%s: the states belong to different keys", fn);
    case VV_EVERSION:
        return luaL_error(L, "%s: state format is not one this build reads",
                          fn);
    case VV_ENOMEM:
        return luaL_error(L, "%s: not enough memory", fn);
    default:
        return luaL_error(L, "%s: state is corrupt or truncated", fn);
    }
}

/* vv.merge_states(a, b) -> the merge of two states of one key: the bytes
 * a store holding both would export.  Bad states raise. */
static int lib_merge_states(lua_State *L)
{
    size_t alen, blen, len = 0;
    const char *a = vvl_checkstr(L, 1, &alen);
    const char *b = vvl_checkstr(L, 2, &blen);
    box *x = vvl_newbox(L, BOX_MEM);
    int rc = vv_state_merge(a, alen, b, blen, &x->p, &len);
    if (rc) return st_fail(L, "merge_states", rc);
    return vvl_push_mem(L, x, len);
}

/* A state refused by a check (rc not VV_OK) for fn: nil and a message
 * pushed, 2 returned.  Running out of memory raises. */
static int st_refused(lua_State *L, const char *fn, int rc)
{
    if (rc == VV_ENOMEM) return luaL_error(L, "%s: not enough memory", fn);
    lua_pushnil(L);
    lua_pushstring(L, rc == VV_EVERSION
                   ? "state format is not one this build reads"
                   : "state is corrupt or truncated");
    return 2;
}

/* Check the state at argument 1 completely for fn: 0 when it is good (its
 * bytes in *st, *len, its key in *key, *klen); else nil and a message are
 * pushed and 2 returned (st_refused). */
static int st_check(lua_State *L, const char *fn, const char **st,
                    size_t *len, const void **key, size_t *klen)
{
    int rc;
    *st = vvl_checkstr(L, 1, len);
    rc = vv_state_check(*st, *len, key, klen);
    return rc == VV_OK ? 0 : st_refused(L, fn, rc);
}

/* vv.state_key(state) -> the key the state names, after checking all of
 * it; nil and a message when it fails the checks. */
static int lib_state_key(lua_State *L)
{
    size_t len, klen = 0;
    const char *st;
    const void *key = NULL;
    int n = st_check(L, "state_key", &st, &len, &key, &klen);
    if (n) return n;
    lua_pushlstring(L, (const char *)key, klen);
    return 1;
}

/* Count one version of a state for lib_state_count. */
static int st_count_one(void *ud, const vv_version *v)
{
    uint64_t *n = ud;
    n[v->tombstone ? 1 : 0]++;
    return 0;
}

/* vv.state_count(state) -> the number of live versions and of tombstones
 * the state holds, after checking all of it; nil and a message when it
 * fails the checks.  Lets a host that keeps states in its own rows find
 * keys that hold only deletes (0 live) without reading their values. */
static int lib_state_count(lua_State *L)
{
    size_t len;
    const char *st = vvl_checkstr(L, 1, &len);
    uint64_t n[2] = {0, 0};             /* live, tombstones */
    int rc = vv_state_inspect(st, len, NULL, st_count_one, n);
    if (rc) return st_refused(L, "state_count", rc);
    vvc_pushuint64(L, n[0]);
    vvc_pushuint64(L, n[1]);
    return 2;
}

/* The write of db:put_state / db:delete_state: the state at index 4 (nil
 * for a key never written), the value at vi (0 for a delete), the
 * context at ci.  Returns the new state and its context.  What is made
 * before the encoding is made first: nothing may allocate between the
 * encoding and the write (lvv.h). */
static int st_write(lua_State *L, const char *fn, int vi, int ci)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t klen, slen = 0, len = 0;
    const char *key = vvl_checkstr(L, 3, &klen);
    const char *st = lua_isnoneornil(L, 4) ? NULL : vvl_checkstr(L, 4, &slen);
    const vv_buf *b = NULL;
    vv_clock *ctx, *nc = NULL, t;
    lwork *w;
    box *x;
    int rc, at;
    if (vi) luaL_checkany(L, vi);
    ctx = vvl_optclock(L, ci);
    x = vvl_newbox(L, BOX_MEM);
    w = vvl_work_take(L, s, 1, &at);            /* parks a heap context */
    if (vi) b = vvl_encode_arg(L, s, ks, vi, NULL);
    rc = vv_state_put(s->db, ks, key, klen, st, slen,
                      b ? (const void *)b->p : "",
                      b ? b->len : 0, vi == 0, ctx, &x->p, &len, &nc);
    if (rc) {
        vv_clock_free(nc);
        return vvl_db_fail(L, s, fn, rc);
    }
    vv_clock_init(&t);
    if (nc) vv_clock_move(&t, nc);
    vvl_clock_push(L, &t, 0, &w->spare);
    vvl_work_give(L, s, w, at, 1);
    vvl_push_mem(L, x, len);
    lua_insert(L, -2);                          /* state, context */
    return 2;
}

/* db:put_state(ks, key, state, value [, context]) -> new state, context:
 * db:put on a key whose state is `state` (nil: never written), the
 * result returned instead of stored. */
static int db_put_state(lua_State *L)
{
    return st_write(L, "put_state", 5, 6);
}

/* db:delete_state(ks, key, state [, context]) -> new state, context. */
static int db_delete_state(lua_State *L)
{
    return st_write(L, "delete_state", 0, 5);
}

/* db:get_state(ks, state) -> what db:get gives for a key holding state
 * (nil when it holds only deletes).  A keyspace's writeback does not
 * apply: there is no stored key to write back to. */
static int db_get_state(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t slen, klen = 0;
    const char *st = vvl_checkstr(L, 3, &slen);
    const void *key = NULL;
    int rc, at, codec = vvl_ks_codec(s, ks);
    lwork *w;
    lua_settop(L, 3);
    w = vvl_work_take(L, s, 1, &at);
    rc = vv_state_get(s->db, ks, st, slen, &w->rd);
    if (rc == VV_ENOTFOUND) {
        vvl_work_give(L, s, w, at, 1);
        lua_pushnil(L);
        return 1;
    }
    if (rc) return vvl_db_fail(L, s, "get_state", rc);
    vv_state_key(st, slen, &key, &klen);        /* checked: just its key */
    lua_pushlstring(L, (const char *)key, klen); /* the key */
    /* no write-back: no key of the store holds this state */
    vvl_push_read(L, s, w->rd, ks, codec, 1, lua_gettop(L), 0, &w->spare);
    vvl_work_give(L, s, w, at, 1);
    return 1;
}

/* ---- registration ---------------------------------------------------- */

/* Store methods of this file. */
const luaL_Reg vvl_state_meth[] = {
    {"put_state", db_put_state},
    {"delete_state", db_delete_state},
    {"get_state", db_get_state},
    {NULL, NULL}
};

/* Module functions of this file. */
const luaL_Reg vvl_state_lib[] = {
    {"merge_states", lib_merge_states},
    {"state_key", lib_state_key},
    {"state_count", lib_state_count},
    {NULL, NULL}
};
