/* lvv_rw.c - reads and writes from Lua: put, delete, get, export, merge. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lvv.h"

/* Encode the value at i for keyspace ks into a new box on the stack;
 * an encoding failure is an argument error on i. */
static box *encode_arg(lua_State *L, lstore *s, const char *ks, int i)
{
    char err[200];
    box *x = vvl_newbox(L, BOX_BUF);
    int rc = vvl_encode(L, i, vvl_ks_codec(s, ks), &x->b, err, sizeof err);
    if (rc == VV_ENOMEM) luaL_error(L, "not enough memory");
    if (rc) luaL_argerror(L, i, err);
    return x;
}

/* db:put(ks, key, value [, context]) -> the key's new context. */
static int db_put(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t klen;
    const char *key = vvl_checkstr(L, 3, &klen);
    vv_clock *ctx;
    box *x;
    lclock *nc;
    int rc;
    luaL_checkany(L, 4);
    ctx = vvl_optclock(L, 5);
    x = encode_arg(L, s, ks, 4);
    nc = vvl_newclock(L);
    rc = vv_put(s->db, ks, key, klen, x->b.p, x->b.len, ctx, &nc->c);
    vvl_box_release(x);
    if (rc) return vvl_db_fail(L, s, "put", rc);
    return 1;
}

/* db:delete(ks, key [, context]) -> the key's new context. */
static int db_delete(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t klen;
    const char *key = vvl_checkstr(L, 3, &klen);
    vv_clock *ctx = vvl_optclock(L, 4);
    lclock *nc = vvl_newclock(L);
    int rc = vv_delete(s->db, ks, key, klen, ctx, &nc->c);
    if (rc) return vvl_db_fail(L, s, "delete", rc);
    return 1;
}

/* Push a stored value decoded with codec; a value the codec cannot read
 * raises (it was written by other means with another codec). */
static void push_value(lua_State *L, const char *ks, const void *p, size_t n,
                       int codec)
{
    char err[200];
    if (vvl_decode(L, p, n, codec, err, sizeof err))
        luaL_error(L, "get: keyspace '%s' holds a value its codec cannot "
                   "read (%s); open it with codec = \"raw\" to see the bytes",
                   ks, err);
}

/* Push the read's siblings as an array of {value, node, actor, counter,
 * timestamp}; with values != 0 also fill the array at values. */
static void push_siblings(lua_State *L, const vv_read *r, const char *ks,
                          int codec, int values)
{
    size_t i, n = vv_read_count(r);
    lua_createtable(L, n > 1024 ? 1024 : (int)n, 0);
    for (i = 0; i < n; i++) {
        const vv_sibling *sb = vv_read_sibling(r, i);
        lua_createtable(L, 0, 5);
        push_value(L, ks, sb->value, sb->len, codec);
        if (values) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, values, (int)(i + 1));
        }
        lua_setfield(L, -2, "value");
        lua_pushlstring(L, sb->actor, sb->node_len);
        lua_setfield(L, -2, "node");
        lua_pushlstring(L, sb->actor, sb->actor_len);
        lua_setfield(L, -2, "actor");
        vvc_pushuint64(L, sb->counter);
        lua_setfield(L, -2, "counter");
        vvc_pushuint64(L, sb->timestamp);
        lua_setfield(L, -2, "timestamp");
        lua_rawseti(L, -2, (int)(i + 1));
    }
}

/* Run a host function resolver for the result table at res: set
 * res.value, or res.error naming the keyspace.  With writeback, store the
 * result over what the read saw and make res.context cover it. */
static void run_fnresolver(lua_State *L, lstore *s, int res, int settings,
                           const char *ks, int key, const vv_read *r,
                           int codec)
{
    char err[200];
    box *x;
    int rc;
    lua_getfield(L, settings, "fn");
    push_siblings(L, r, ks, codec, 0);
    lua_pushvalue(L, key);
    if (lua_pcall(L, 2, 1, 0) != 0) {
        const char *m = lua_tostring(L, -1);
        lua_pushfstring(L, "keyspace '%s': resolver failed: %s", ks,
                        m ? m : luaL_typename(L, -1));
        lua_setfield(L, res, "error");
        lua_pop(L, 1);
        return;
    }
    x = vvl_newbox(L, BOX_BUF);                 /* result, box */
    rc = vvl_encode(L, -2, codec, &x->b, err, sizeof err);
    if (rc) {
        lua_pushfstring(L, "keyspace '%s': resolver returned a value that "
                        "cannot be stored: %s", ks, err);
        lua_setfield(L, res, "error");
        vvl_box_release(x);
        lua_pop(L, 2);
        return;
    }
    lua_pushvalue(L, -2);
    lua_setfield(L, res, "value");
    lua_getfield(L, settings, "wb");
    if (lua_toboolean(L, -1) && s->db != NULL) {
        size_t klen;
        const char *k = lua_tolstring(L, key, &klen);
        lclock *nc = vvl_newclock(L);
        if (vv_put(s->db, ks, k, klen, x->b.p, x->b.len, vv_read_context(r),
                   &nc->c) == VV_OK)
            lua_setfield(L, res, "context");    /* covers the write-back */
        else
            lua_pop(L, 1);                      /* best effort: a read stays */
    }
    vvl_box_release(x);
    lua_pop(L, 3);
}

/* db:get(ks, key) -> nil when absent or deleted, else
 * {siblings=, values=, context=, value=, error=}. */
static int db_get(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t klen, n;
    const char *key = vvl_checkstr(L, 3, &klen);
    int codec = vvl_ks_codec(s, ks), rc;
    box *x;
    vv_read *r;
    lclock *ctx;
    lua_settop(L, 3);
    vvl_ks_local(L, 1, ks);                                 /* 4: settings */
    x = vvl_newbox(L, BOX_READ);                            /* 5 */
    rc = vv_get(s->db, ks, key, klen, (vv_read **)&x->p);
    if (rc == VV_ENOTFOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (rc) return vvl_db_fail(L, s, "get", rc);
    r = (vv_read *)x->p;
    n = vv_read_count(r);
    lua_createtable(L, 0, 5);                           /* 6: result */
    lua_createtable(L, n > 1024 ? 1024 : (int)n, 0);    /* 7: values */
    push_siblings(L, r, ks, codec, 7);
    lua_setfield(L, 6, "siblings");
    lua_setfield(L, 6, "values");
    ctx = vvl_newclock(L);
    if (!(ctx->c = vv_read_take_context(r)))
        return vvl_clock_fail(L, "get", VV_ENOMEM, "");
    lua_setfield(L, 6, "context");
    if (n == 1) {
        lua_getfield(L, 6, "values");
        lua_rawgeti(L, -1, 1);
        lua_setfield(L, 6, "value");
        lua_pop(L, 1);
    } else if (vvl_has_fn(L, 4)) {
        run_fnresolver(L, s, 6, 4, ks, 3, r, codec);
    } else {
        const void *v;
        size_t vlen;
        rc = vv_read_value(r, &v, &vlen);
        if (rc == VV_OK) {
            push_value(L, ks, v, vlen, codec);
            lua_setfield(L, 6, "value");
        } else if (rc == VV_ERESOLVER) {
            const char *m = vv_read_error(r);
            lua_pushstring(L, m ? m : "resolver failed");
            lua_setfield(L, 6, "error");
        }
    }
    vvl_box_release(x);
    lua_settop(L, 6);
    return 1;
}

/* db:export(ks, key) -> the key's whole state as bytes, or nil. */
static int db_export(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t klen, len = 0;
    const char *key = vvl_checkstr(L, 3, &klen);
    box *x = vvl_newbox(L, BOX_MEM);
    int rc = vv_export(s->db, ks, key, klen, &x->p, &len);
    if (rc == VV_ENOTFOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (rc) return vvl_db_fail(L, s, "export", rc);
    lua_pushlstring(L, (const char *)x->p, len);
    vvl_box_release(x);
    return 1;
}

/* db:merge(ks, key, state) -> true; a bad state raises, nothing changes. */
static int db_merge(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t klen, len;
    const char *key = vvl_checkstr(L, 3, &klen);
    const char *st = vvl_checkstr(L, 4, &len);
    int rc = vv_merge(s->db, ks, key, klen, st, len);
    if (rc) return vvl_db_fail(L, s, "merge", rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- registration ---------------------------------------------------- */

/* Store methods of this file. */
const luaL_Reg vvl_rw_meth[] = {
    {"put", db_put},
    {"get", db_get},
    {"delete", db_delete},
    {"export", db_export},
    {"merge", db_merge},
    {NULL, NULL}
};
