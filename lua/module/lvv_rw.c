/* lvv_rw.c - reads and writes from Lua: put, delete, get, update, export,
 * merge, for the store's methods and for keyspace handles. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lvv.h"

/* Encode the value at i for keyspace ks into the store's buffer, as a
 * new encoding (enc_gen moves).  Should the buffer be filled again while
 * this encodes (a finalizer's write), encode again: what the buffer
 * holds on return is this value. */
static int encode_into_store(lua_State *L, lstore *s, const char *ks, int i,
                             char *err, size_t errlen)
{
    int rc, tries = 0;
    uint32_t g;
    do {
        s->enc.len = 0;
        s->enc.oom = 0;
        g = ++s->enc_gen;
        rc = vvl_encode(L, i, vvl_ks_codec(s, ks), &s->enc, err, errlen);
    } while (rc == VV_OK && s->enc_gen != g && ++tries < 8);
    if (rc == VV_OK && s->enc_gen != g) {
        snprintf(err, errlen, "the encode buffer was taken by nested calls");
        return VV_EINVAL;
    }
    return rc;
}

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
    rc = encode_into_store(L, s, ks, i, err, sizeof err);
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
    rc = encode_into_store(L, s, ks, i, err, sizeof err);
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

/* The write of put (the value at vi) and delete (vi 0): push the key's
 * new context, in a clock sized to it.  The engine makes it in a clock on
 * the C stack; one that outgrew it onto the heap is parked in a work area
 * while its userdata is made (lvv.h).  A work area is taken only then, or
 * first when a call has the store's: taking a new one allocates, and
 * nothing may allocate between the encoding and the write. */
static int write(lua_State *L, vvl_call *c, const char *fn, int vi)
{
    lstore *s = c->s;
    size_t klen;
    const char *key = vvl_checkstr(L, c->key, &klen);
    const vv_clock *ctx;
    const void *v = "";
    size_t vlen = 0;
    lwork *w = NULL;
    vv_clock t;
    int rc, at = 0;
    if (vi) luaL_checkany(L, vi);
    ctx = vvl_optclock(L, vi ? vi + 1 : c->key + 1);
    if (s->work == NULL)                        /* a call has it */
        w = vvl_work_take(L, s, vvl_call_store(L, c), &at);
    if (vi) {
        const vv_buf *b = vvl_encode_arg(L, s, c->ks, vi, NULL);
        v = b->p;
        vlen = b->len;
    }
    vv_clock_init(&t);
    rc = vv_write(s->db, c->ks, key, klen, v, vlen, vi == 0, ctx, &t);
    if (rc) {
        vv_clock_clear(&t);
        return vvl_db_fail(L, s, fn, rc);
    }
    if (!vv_clock_heap(&t)) {                   /* the common case */
        vvl_clock_push(L, &t, 0, NULL);         /* NULL: no heap */
        return 1;
    }
    if (w == NULL)                              /* the store's: no alloc */
        w = vvl_work_take(L, s, vvl_call_store(L, c), &at);
    vvl_clock_push(L, &t, 0, &w->spare);
    vvl_work_give(L, s, w, at, c->store);
    return 1;
}

/* put(key, value [, context]) -> the key's new context. */
int vvl_put(lua_State *L, vvl_call *c)
{
    return write(L, c, "put", c->key + 1);
}

/* delete(key [, context]) -> the key's new context. */
int vvl_delete(lua_State *L, vvl_call *c)
{
    return write(L, c, "delete", 0);
}

/* get(key) -> nil when absent or deleted, else {siblings=, values=,
 * context=, value=, error=} (lvv_read.c).  The read goes into the work
 * area the call takes, which no nested call touches. */
int vvl_get(lua_State *L, vvl_call *c)
{
    size_t klen;
    const char *key = vvl_checkstr(L, c->key, &klen);
    lstore *s = c->s;
    int at, store = vvl_call_store(L, c), rc;
    lwork *w = vvl_work_take(L, s, store, &at);
    rc = vv_get_reuse(s->db, c->ks, key, klen, &w->rd);
    if (rc == VV_ENOTFOUND) {
        vvl_work_give(L, s, w, at, store);
        lua_pushnil(L);
        return 1;
    }
    if (rc) return vvl_db_fail(L, s, "get", rc);
    vvl_push_read(L, s, w->rd, c->ks, vvl_ks_codec(s, c->ks), store, c->key,
                  1, &w->spare);
    vvl_work_give(L, s, w, at, store);
    return 1;
}

int vvl_get_result(lua_State *L, vvl_call *c, const vv_read *rd,
                   vv_clock *park)
{
    int codec = vvl_ks_codec(c->s, c->ks);
    int store = vvl_call_store(L, c);
    vvl_push_read(L, c->s, rd, c->ks, codec, store, c->key, 1, park);
    return 1;
}

/* The body of vvl_update_value, inlined on update's own path. */
static inline int update_value(lua_State *L, vvl_call *c, const vv_read *rd,
                               int codec)
{
    const vv_sibling *sb = vv_read_sibling(rd, 0);
    char err[200];
    if (vvl_decode(L, sb->value, sb->len, codec, err, sizeof err) == VV_OK)
        return 0;
    lua_pushfstring(L, "update: keyspace '%s' holds a value its codec "
                    "cannot read (%s)", c->ks, err);
    return -1;
}

int vvl_update_value(lua_State *L, vvl_call *c, const vv_read *rd,
                     int codec)
{
    return update_value(L, c, rd, codec);
}

/* Push the value get would show as r.value for the read w->rd (nil when
 * there is none), then r.values when the read holds several siblings,
 * else nil: lvv_read.c builds a whole read for the rare reads of several
 * siblings (a resolver may run). */
static void push_read_value(lua_State *L, vvl_call *c, lwork *w, int codec,
                            int store)
{
    if (vv_read_count(w->rd) == 1) {
        if (update_value(L, c, w->rd, codec)) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
            lua_error(L);
        }
        lua_pushnil(L);
        return;
    }
    vvl_push_read(L, c->s, w->rd, c->ks, codec, store, c->key, 1,
                  &w->spare);
    lua_pushvalue(L, VVL_UV(VVL_UV_KVALUE));
    lua_rawget(L, -2);
    lua_getfield(L, -2, "values");
    lua_remove(L, -3);
}

/* update(key, fn) -> what fn returned.  Reads key, calls fn(value,
 * values) with the value get shows as r.value (nil when the key is
 * absent, deleted, or holds several siblings its resolver leaves
 * unresolved) and, when the key holds several siblings, r.values (else
 * nil), and, unless
 * fn returns nil, writes the result with the read's context: it replaces
 * exactly what the read saw, so any write that came in between stays as
 * a sibling.  A read-modify-write in one call, without a read result or
 * clocks for Lua to collect. */
int vvl_update(lua_State *L, vvl_call *c)
{
    lstore *s = c->s;
    size_t klen;
    const char *key = vvl_checkstr(L, c->key, &klen);
    int fn = c->key + 1, codec, rc, found, store, at;
    vv_clock cl, *ctx = &cl;                    /* what the read saw */
    const vv_buf *b;
    lwork *w;
    luaL_checktype(L, fn, LUA_TFUNCTION);
    lua_settop(L, fn);
    store = vvl_call_store(L, c);
    codec = vvl_ks_codec(s, c->ks);
    w = vvl_work_take(L, s, store, &at);
    rc = vv_get_reuse(s->db, c->ks, key, klen, &w->rd);
    if (rc && rc != VV_ENOTFOUND) return vvl_db_fail(L, s, "update", rc);
    found = rc == VV_OK;
    vv_clock_init(&cl);
    if (found && vv_read_context_into(w->rd, &cl) != VV_OK) {
        vv_clock_clear(&cl);
        return luaL_error(L, "update: not enough memory");
    }
    if (vv_clock_heap(&cl))                     /* so Lua frees it */
        ctx = &vvl_clock_push(L, &cl, 0, &w->spare)->c;
    lua_pushvalue(L, fn);
    if (found) push_read_value(L, c, w, codec, store);
    else { lua_pushnil(L); lua_pushnil(L); }
    vvl_work_give(L, s, w, at, store);          /* fn may read the store */
    lua_call(L, 2, 1);                          /* top: its result */
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
