/* lvv_rw.c - reads and writes from Lua: put, delete, get, update, export,
 * merge, for the store's methods and for keyspace handles. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lvv.h"

/* Push the message of a failed encoding: "not enough memory", or with
 * what "<what>: <why>", else the reason alone. */
static void push_encode_error(lua_State *L, int rc, const char *what,
                              const char *err)
{
    if (rc == VV_ENOMEM) lua_pushliteral(L, "not enough memory");
    else if (what) lua_pushfstring(L, "%s: %s", what, err);
    else lua_pushstring(L, err);
}

int vvl_encode_store(lua_State *L, lstore *s, const char *ks, int i,
                     const char *what)
{
    char err[200];
    int rc;
    s->enc.len = 0;
    s->enc.oom = 0;
    rc = vvl_encode(L, i, vvl_ks_codec(s, ks), &s->enc, err, sizeof err);
    if (rc) push_encode_error(L, rc, what, err);
    return rc;
}

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
    if (rc == VV_OK) return &s->enc;
    if (rc != VV_ENOMEM && what == NULL) luaL_argerror(L, i, err);
    push_encode_error(L, rc, what, err);
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
    lua_error(L);
    return NULL;                        /* not reached */
}

/* ---- where a call finds its store ------------------------------------ */

void vvl_dbcall(lua_State *L, vvl_call *c)
{
    c->s = vvl_checkstore(L);
    c->ks = vvl_checkks(L, 2);
    c->key = 3;
    c->store = 1;
    c->handle = 0;
}

int vvl_call_store(lua_State *L, vvl_call *c)
{
    if (c->store == 0) {
        vvc_getuservalue(L, c->handle);         /* {store} */
        vvc_rawgeti(L, -1, 1);
        lua_remove(L, -2);
        c->store = lua_gettop(L);
    }
    return c->store;
}

/* ---- the operations ---------------------------------------------------- */

/* The write of put and delete (tomb): push the key's new context, in a
 * clock sized to it (made in the store's spare clock). */
static int write(lua_State *L, vvl_call *c, const char *fn, const char *key,
                 size_t klen, const void *v, size_t vlen, int tomb,
                 const vv_clock *ctx)
{
    vv_clock *t = vvl_spare_out(c->s);
    lclock *nc = NULL;
    int rc;
    if (t == NULL) {                            /* the spare is in use */
        nc = vvl_newclock(L);
        t = &nc->c;
    }
    rc = vv_write(c->s->db, c->ks, key, klen, v, vlen, tomb, ctx, t);
    if (nc) vvl_clock_settle(L, -1, nc);
    else if (rc) vvl_spare_in(c->s);
    if (rc) return vvl_db_fail(L, c->s, fn, rc);
    if (!nc) vvl_spare_push(L, c->s, 0);
    return 1;
}

/* put(key, value [, context]) -> the key's new context. */
int vvl_put(lua_State *L, vvl_call *c)
{
    size_t klen;
    const char *key = vvl_checkstr(L, c->key, &klen);
    vv_clock *ctx;
    const vv_buf *b;
    luaL_checkany(L, c->key + 1);
    ctx = vvl_optclock(L, c->key + 2);
    b = vvl_encode_arg(L, c->s, c->ks, c->key + 1, NULL);
    return write(L, c, "put", key, klen, b->p, b->len, 0, ctx);
}

/* delete(key [, context]) -> the key's new context. */
int vvl_delete(lua_State *L, vvl_call *c)
{
    size_t klen;
    const char *key = vvl_checkstr(L, c->key, &klen);
    vv_clock *ctx = vvl_optclock(L, c->key + 1);
    return write(L, c, "delete", key, klen, "", 0, 1, ctx);
}

/* get(key) -> nil when absent or deleted, else {siblings=, values=,
 * context=, value=, error=} (lvv_read.c). */
int vvl_get(lua_State *L, vvl_call *c)
{
    size_t klen;
    const char *key = vvl_checkstr(L, c->key, &klen);
    int rc = vv_get_reuse(c->s->db, c->ks, key, klen, &c->s->rd);
    if (rc == VV_ENOTFOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (rc) return vvl_db_fail(L, c->s, "get", rc);
    return vvl_get_result(L, c);
}

/* The store's read is reused; a read with several siblings may run Lua
 * (a host function resolver) that reads again, so it is lent out first. */
int vvl_get_result(lua_State *L, vvl_call *c)
{
    lstore *s = c->s;
    int codec = vvl_ks_codec(s, c->ks);
    int store = vvl_call_store(L, c);
    if (vv_read_count(s->rd) > 1) {
        box *x = vvl_newbox(L, BOX_READ);       /* lent: a nested get */
        x->p = s->rd;                           /* makes its own */
        s->rd = NULL;
        vvl_push_read(L, s, (const vv_read *)x->p, c->ks, codec, store,
                      c->key, 1);
        if (s->rd == NULL) s->rd = (vv_read *)x->p;
        else vvl_box_release(x);
        x->p = NULL;
        return 1;
    }
    vvl_push_read(L, s, s->rd, c->ks, codec, store, c->key, 1);
    return 1;
}

/* The body of vvl_update_value, inlined on update's own path. */
static inline int update_value(lua_State *L, vvl_call *c, int codec)
{
    const vv_sibling *sb = vv_read_sibling(c->s->rd, 0);
    char err[200];
    if (vvl_decode(L, sb->value, sb->len, codec, err, sizeof err) == VV_OK)
        return 0;
    lua_pushfstring(L, "update: keyspace '%s' holds a value its codec "
                    "cannot read (%s)", c->ks, err);
    return -1;
}

int vvl_update_value(lua_State *L, vvl_call *c, int codec)
{
    return update_value(L, c, codec);
}

/* Push the value get would show as r.value for the store's read (nil
 * when there is none): lvv_read.c builds a whole read for the rare reads
 * of several siblings (a resolver may run). */
static void push_read_value(lua_State *L, vvl_call *c, int codec, int store)
{
    if (vv_read_count(c->s->rd) == 1) {
        if (update_value(L, c, codec)) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
            lua_error(L);
        }
        return;
    }
    vvl_push_read(L, c->s, c->s->rd, c->ks, codec, store, c->key, 1);
    lua_pushvalue(L, VVL_UV(VVL_UV_KVALUE));
    lua_rawget(L, -2);
    lua_remove(L, -2);
}

/* update(key, fn) -> what fn returned.  Reads key, calls fn(value) with
 * the value get shows as r.value (nil when the key is absent, deleted,
 * or holds several siblings its resolver leaves unresolved) and, unless
 * fn returns nil, writes the result with the read's context: it replaces
 * exactly what the read saw, so any write that came in between stays as
 * a sibling.  A read-modify-write in one call, without a read result or
 * clocks for Lua to collect. */
int vvl_update(lua_State *L, vvl_call *c)
{
    lstore *s = c->s;
    size_t klen;
    const char *key = vvl_checkstr(L, c->key, &klen);
    int fn = c->key + 1, codec, rc, found, store;
    vv_clock cl, *ctx = &cl;                    /* what the read saw */
    const vv_buf *b;
    luaL_checktype(L, fn, LUA_TFUNCTION);
    lua_settop(L, fn);
    store = vvl_call_store(L, c);
    vv_clock_init(&cl);
    rc = vv_get_reuse(s->db, c->ks, key, klen, &s->rd);
    if (rc && rc != VV_ENOTFOUND) return vvl_db_fail(L, s, "update", rc);
    codec = vvl_ks_codec(s, c->ks);
    found = rc == VV_OK;
    rc = VV_OK;
    if (found && (rc = vv_read_context_into(s->rd, &cl)) == VV_OK &&
        vv_clock_heap(&cl)) {
        lclock *p = vvl_newclock(L);            /* so Lua frees it */
        vv_clock_take(&p->c, &cl);
        vvl_clock_settle(L, -1, p);
        ctx = &p->c;
    }
    if (rc) {
        vv_clock_clear(&cl);
        return luaL_error(L, "update: not enough memory");
    }
    lua_pushvalue(L, fn);
    if (found) push_read_value(L, c, codec, store);
    else lua_pushnil(L);
    lua_call(L, 1, 1);                          /* top: its result */
    if (lua_isnil(L, -1)) return 1;
    if (s->db == NULL) return luaL_error(L, "update: the store was closed");
    b = vvl_encode_arg(L, s, c->ks, lua_gettop(L), VVL_UNSTORABLE);
    rc = vv_write(s->db, c->ks, key, klen, b->p, b->len, 0, ctx, NULL);
    if (rc) return vvl_db_fail(L, s, "update", rc);
    return 1;
}

/* export(key) -> the key's whole state as bytes, or nil. */
int vvl_export(lua_State *L, vvl_call *c)
{
    size_t klen, len = 0;
    const char *key = vvl_checkstr(L, c->key, &klen);
    box *x = vvl_newbox(L, BOX_MEM);
    int rc = vv_export(c->s->db, c->ks, key, klen, &x->p, &len);
    if (rc == VV_ENOTFOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (rc) return vvl_db_fail(L, c->s, "export", rc);
    return vvl_push_mem(L, x, len);
}

/* merge(key, state) -> true; a bad state raises, nothing changes. */
int vvl_merge(lua_State *L, vvl_call *c)
{
    size_t klen, len;
    const char *key = vvl_checkstr(L, c->key, &klen);
    const char *st = vvl_checkstr(L, c->key + 1, &len);
    int rc = vv_merge(c->s->db, c->ks, key, klen, st, len);
    if (rc) return vvl_db_fail(L, c->s, "merge", rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- the store's methods --------------------------------------------- */

/* db:put(ks, key, value [, context]) -> the key's new context. */
static int db_put(lua_State *L)
{
    vvl_call c;
    vvl_dbcall(L, &c);
    return vvl_put(L, &c);
}

/* db:delete(ks, key [, context]) -> the key's new context. */
static int db_delete(lua_State *L)
{
    vvl_call c;
    vvl_dbcall(L, &c);
    return vvl_delete(L, &c);
}

/* db:get(ks, key) -> nil when absent or deleted, else the read. */
static int db_get(lua_State *L)
{
    vvl_call c;
    vvl_dbcall(L, &c);
    return vvl_get(L, &c);
}

/* db:update(ks, key, fn) -> what fn returned. */
static int db_update(lua_State *L)
{
    vvl_call c;
    vvl_dbcall(L, &c);
    return vvl_update(L, &c);
}

/* db:export(ks, key) -> the key's whole state as bytes, or nil. */
static int db_export(lua_State *L)
{
    vvl_call c;
    vvl_dbcall(L, &c);
    return vvl_export(L, &c);
}

/* db:merge(ks, key, state) -> true. */
static int db_merge(lua_State *L)
{
    vvl_call c;
    vvl_dbcall(L, &c);
    return vvl_merge(L, &c);
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
