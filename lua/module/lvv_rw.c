/* lvv_rw.c - reads and writes from Lua: put, delete, get, export, merge. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lvv.h"

/* Encode the value at i for keyspace ks into the store's buffer; an
 * encoding failure is an argument error on i (or, with what, an error
 * saying what gave the value).  The buffer belongs to the store, so an
 * error raised on the way leaks nothing. */
const vv_buf *vvl_encode_arg(lua_State *L, lstore *s, const char *ks,
                             int i, const char *what)
{
    char err[200];
    int rc;
    s->enc.len = 0;
    s->enc.oom = 0;
    rc = vvl_encode(L, i, vvl_ks_codec(s, ks), &s->enc, err, sizeof err);
    if (rc == VV_ENOMEM) luaL_error(L, "not enough memory");
    if (rc && what) luaL_error(L, "%s: %s", what, err);
    if (rc) luaL_argerror(L, i, err);
    return &s->enc;
}

/* db:put(ks, key, value [, context]) -> the key's new context. */
static int db_put(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t klen;
    const char *key = vvl_checkstr(L, 3, &klen);
    vv_clock *ctx;
    const vv_buf *b;
    lclock *nc;
    int rc;
    luaL_checkany(L, 4);
    ctx = vvl_optclock(L, 5);
    b = vvl_encode_arg(L, s, ks, 4, NULL);
    nc = vvl_newclock(L);
    rc = vv_write(s->db, ks, key, klen, b->p, b->len, 0, ctx, &nc->c);
    vvl_clock_settle(L, -1, nc);
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
    int rc = vv_write(s->db, ks, key, klen, "", 0, 1, ctx, &nc->c);
    vvl_clock_settle(L, -1, nc);
    if (rc) return vvl_db_fail(L, s, "delete", rc);
    return 1;
}

/* db:get(ks, key) -> nil when absent or deleted, else
 * {siblings=, values=, context=, value=, error=} (lvv_read.c).  The
 * store's read is reused; a read with several siblings may run Lua (a
 * host function resolver) that reads again, so it is lent out first. */
static int db_get(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t klen;
    const char *key = vvl_checkstr(L, 3, &klen);
    int codec = vvl_ks_codec(s, ks), rc;
    lua_settop(L, 3);
    rc = vv_get_reuse(s->db, ks, key, klen, &s->rd);
    if (rc == VV_ENOTFOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (rc) return vvl_db_fail(L, s, "get", rc);
    if (vv_read_count(s->rd) > 1) {
        box *x = vvl_newbox(L, BOX_READ);       /* lent: a nested get */
        x->p = s->rd;                           /* makes its own */
        s->rd = NULL;
        vvl_push_read(L, s, (const vv_read *)x->p, ks, codec, 3, 1);
        if (s->rd == NULL) s->rd = (vv_read *)x->p;
        else vvl_box_release(x);
        x->p = NULL;
        return 1;
    }
    vvl_push_read(L, s, s->rd, ks, codec, 3, 1);
    return 1;
}

/* Push the value db:get would show as r.value for the store's read (nil
 * when there is none): lvv_read.c builds a whole read for the rare reads
 * of several siblings (a resolver may run). */
static void push_read_value(lua_State *L, lstore *s, const char *ks,
                            int codec, int key)
{
    if (vv_read_count(s->rd) == 1) {
        const vv_sibling *sb = vv_read_sibling(s->rd, 0);
        char err[200];
        if (vvl_decode(L, sb->value, sb->len, codec, err, sizeof err))
            luaL_error(L, "update: keyspace '%s' holds a value its codec "
                       "cannot read (%s)", ks, err);
        return;
    }
    vvl_push_read(L, s, s->rd, ks, codec, key, 1);
    lua_pushvalue(L, VVL_UV(VVL_UV_KVALUE));
    lua_rawget(L, -2);
    lua_remove(L, -2);
}

/* db:update(ks, key, fn) -> what fn returned.  Reads key, calls
 * fn(value) with the value db:get shows as r.value (nil when the key is
 * absent, deleted, or holds several siblings its resolver leaves
 * unresolved) and, unless fn returns nil, writes the result with the
 * read's context: it replaces exactly what the read saw, so any write
 * that came in between stays as a sibling.  A read-modify-write in one
 * call, without a read result or clocks for Lua to collect. */
static int db_update(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t klen;
    const char *key = vvl_checkstr(L, 3, &klen);
    int codec, rc, found;
    vv_clock c, *ctx = &c;                      /* what the read saw */
    const vv_buf *b;
    luaL_checktype(L, 4, LUA_TFUNCTION);
    codec = vvl_ks_codec(s, ks);
    lua_settop(L, 4);
    vv_clock_init(&c);
    rc = vv_get_reuse(s->db, ks, key, klen, &s->rd);
    if (rc && rc != VV_ENOTFOUND) return vvl_db_fail(L, s, "update", rc);
    found = rc == VV_OK;
    rc = VV_OK;
    if (found && (rc = vv_read_context_into(s->rd, &c)) == VV_OK &&
        vv_clock_heap(&c)) {
        lclock *p = vvl_newclock(L);            /* 5: so Lua frees it */
        vv_clock_take(&p->c, &c);
        vvl_clock_settle(L, 5, p);
        ctx = &p->c;
    }
    if (rc) {
        vv_clock_clear(&c);
        return luaL_error(L, "update: not enough memory");
    }
    lua_pushvalue(L, 4);                        /* fn */
    if (found) push_read_value(L, s, ks, codec, 3);
    else lua_pushnil(L);
    lua_call(L, 1, 1);                          /* top: its result */
    if (lua_isnil(L, -1)) return 1;
    if (s->db == NULL) return luaL_error(L, "update: the store was closed");
    b = vvl_encode_arg(L, s, ks, lua_gettop(L),
                   "update: the function's result cannot be stored");
    rc = vv_write(s->db, ks, key, klen, b->p, b->len, 0, ctx, NULL);
    if (rc) return vvl_db_fail(L, s, "update", rc);
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
    return vvl_push_mem(L, x, len);
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
    {"update", db_update},
    {"delete", db_delete},
    {"export", db_export},
    {"merge", db_merge},
    {NULL, NULL}
};
