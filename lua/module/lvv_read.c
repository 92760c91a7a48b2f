/* lvv_read.c - what db:get gives Lua: a table {value, values, siblings,
 * context, error}, with the parts a read-modify-write does not use built
 * only when first touched. */

/* A read of one sibling (the common case) builds the table with `value`
 * and `context` only.  `siblings` and `values` come from a metatable's
 * __index the first time either is read; what they need (the sibling's
 * actor, counter and timestamp) rides behind the context clock's
 * userdata, which the table also keeps under a private light userdata
 * key.  __pairs builds them first, so pairs(r) sees every field.  Once
 * built, the private key goes: the table is then an ordinary table.
 * Lua 5.1 and LuaJIT have no __pairs, so there (and for reads with
 * several siblings, or with a host function resolver) everything is
 * built at once, as a plain table. */

#include <string.h>
#include "lvv.h"

#if LUA_VERSION_NUM >= 502
#define LAZY_READS 1
#else
#define LAZY_READS 0
#endif

/* The sibling of a one-sibling read, kept behind its context clock. */
typedef struct lsib {
    uint64_t counter, timestamp;
    size_t actor_len, node_len;
    char actor[1];                      /* actor_len bytes */
} lsib;

/* Push a stored value decoded with codec; a value the codec cannot read
 * raises (it was written by other means with another codec). */
void vvl_push_value(lua_State *L, const char *ks, const void *p, size_t n,
                    int codec)
{
    char err[200];
    if (vvl_decode(L, p, n, codec, err, sizeof err))
        luaL_error(L, "get: keyspace '%s' holds a value its codec cannot "
                   "read (%s); open it with codec = \"raw\" to see the bytes",
                   ks, err);
}

/* Push one sibling {value, node, actor, counter, timestamp}; the value is
 * at index v. */
static void push_sibling(lua_State *L, int v, const char *actor,
                         size_t actor_len, size_t node_len, uint64_t counter,
                         uint64_t timestamp)
{
    lua_createtable(L, 0, 5);
    lua_pushvalue(L, v);
    lua_setfield(L, -2, "value");
    lua_pushlstring(L, actor, node_len);
    lua_setfield(L, -2, "node");
    lua_pushlstring(L, actor, actor_len);
    lua_setfield(L, -2, "actor");
    vvc_pushuint64(L, counter);
    lua_setfield(L, -2, "counter");
    vvc_pushuint64(L, timestamp);
    lua_setfield(L, -2, "timestamp");
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
        vvl_push_value(L, ks, sb->value, sb->len, codec);
        if (values) {
            lua_pushvalue(L, -1);
            vvc_rawseti(L, values, (lua_Integer)(i + 1));
        }
        push_sibling(L, lua_gettop(L), sb->actor, sb->actor_len,
                     sb->node_len, sb->counter, sb->timestamp);
        lua_remove(L, -2);                          /* the value */
        vvc_rawseti(L, -2, (lua_Integer)(i + 1));
    }
}

/* Push a clock userdata holding the read's context, sized to it, with
 * extra bytes after it (park: vvl_clock_push). */
static lclock *push_context(lua_State *L, const vv_read *r, size_t extra,
                            vv_clock *park)
{
    vv_clock t;
    vv_clock_init(&t);
    if (vv_read_context_into(r, &t)) {
        vv_clock_clear(&t);
        luaL_error(L, "get: not enough memory");
    }
    return vvl_clock_push(L, &t, extra, park);
}

/* Run a host function resolver for the result table at res: set
 * res.value, or res.error naming the keyspace.  With writeback, store the
 * result over what the read saw and make res.context cover it. */
static void run_fnresolver(lua_State *L, lstore *s, int res, int settings,
                           const char *ks, int key, const vv_read *r,
                           int codec, int wb)
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
    if (wb && lua_toboolean(L, -1)) {
        size_t klen;
        const char *k = lua_tolstring(L, key, &klen);
        lclock *nc = vvl_newclock(L);           /* may close the store */
        rc = s->db == NULL ? VV_EINVAL :
             vv_write(s->db, ks, k, klen, x->b.p, x->b.len, 0,
                      vv_read_context(r), &nc->c);
        vvl_clock_settle(L, -1, nc);
        if (rc == VV_OK)
            lua_setfield(L, res, "context");    /* covers the write-back */
        else
            lua_pop(L, 1);                      /* best effort: a read stays */
    }
    vvl_box_release(x);
    lua_pop(L, 3);
}

/* The whole result at once, as a plain table: several siblings, a host
 * function resolver, or a Lua without __pairs. */
static void push_eager(lua_State *L, lstore *s, const vv_read *r,
                       const char *ks, int codec, int settings, int key,
                       int wb, vv_clock *park)
{
    size_t n = vv_read_count(r);
    int res, rc;
    lua_createtable(L, 0, 5);
    res = lua_gettop(L);
    lua_createtable(L, n > 1024 ? 1024 : (int)n, 0);        /* values */
    push_siblings(L, r, ks, codec, res + 1);
    lua_setfield(L, res, "siblings");
    lua_setfield(L, res, "values");
    push_context(L, r, 0, park);
    lua_setfield(L, res, "context");
    if (n == 1) {
        lua_getfield(L, res, "values");
        vvc_rawgeti(L, -1, 1);
        lua_setfield(L, res, "value");
        lua_pop(L, 1);
    } else if (vvl_has_fn(L, settings)) {
        run_fnresolver(L, s, res, settings, ks, key, r, codec, wb);
    } else {
        const void *v;
        size_t vlen;
        rc = vv_read_value(r, &v, &vlen);
        if (rc == VV_OK) {
            vvl_push_value(L, ks, v, vlen, codec);
            lua_setfield(L, res, "value");
        } else if (rc == VV_ERESOLVER) {
            const char *m = vv_read_error(r);
            lua_pushstring(L, m ? m : "resolver failed");
            lua_setfield(L, res, "error");
        }
    }
    lua_settop(L, res);
}

#if LAZY_READS
static const char readkey = 0;          /* its address: the private key */

/* A one-sibling read: value and context now, the rest when touched. */
static void push_lazy(lua_State *L, const vv_read *r, const char *ks,
                      int codec, vv_clock *park)
{
    const vv_sibling *sb = vv_read_sibling(r, 0);
    lclock *c;
    lsib *b;
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, VVL_UV(VVL_UV_KVALUE));
    vvl_push_value(L, ks, sb->value, sb->len, codec);
    lua_rawset(L, -3);
    lua_pushvalue(L, VVL_UV(VVL_UV_KCONTEXT));
    c = push_context(L, r, sizeof *b + sb->actor_len, park);
    b = (lsib *)vvl_clock_extra(c);
    b->counter = sb->counter;
    b->timestamp = sb->timestamp;
    b->actor_len = sb->actor_len;
    b->node_len = sb->node_len;
    memcpy(b->actor, sb->actor, sb->actor_len);
    lua_pushlightuserdata(L, (void *)&readkey);
    lua_pushvalue(L, -2);
    lua_rawset(L, -5);                          /* r[private] = clock */
    lua_rawset(L, -3);                          /* r.context = clock */
    lua_pushvalue(L, VVL_UV(VVL_UV_READ));
    lua_setmetatable(L, -2);
}

/* Build siblings and values of the lazy read r (at index i) if they are
 * not yet there, and drop the private key. */
static void read_build(lua_State *L, int i)
{
    lclock *c;
    const lsib *b;
    int top = lua_gettop(L);
    lua_pushlightuserdata(L, (void *)&readkey);
    lua_rawget(L, i);
    c = vvl_toclock(L, -1);
    if (c == NULL || !c->extra) {
        lua_settop(L, top);
        return;
    }
    b = (const lsib *)vvl_clock_extra(c);
    lua_pushliteral(L, "value");
    lua_rawget(L, i);                           /* top + 2 */
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, top + 2);
    vvc_rawseti(L, -2, 1);
    lua_setfield(L, i, "values");
    lua_createtable(L, 1, 0);
    push_sibling(L, top + 2, b->actor, b->actor_len, b->node_len, b->counter,
                 b->timestamp);
    vvc_rawseti(L, -2, 1);
    lua_setfield(L, i, "siblings");
    lua_pushlightuserdata(L, (void *)&readkey);
    lua_pushnil(L);
    lua_rawset(L, i);
    lua_settop(L, top);
}

/* __index of a lazy read: siblings and values on first use. */
static int read_index(lua_State *L)
{
    const char *k = lua_tostring(L, 2);
    if (lua_type(L, 2) != LUA_TSTRING ||
        (strcmp(k, "siblings") != 0 && strcmp(k, "values") != 0))
        return 0;
    read_build(L, 1);
    lua_pushvalue(L, 2);
    lua_rawget(L, 1);
    return 1;
}

/* next(t, k), the iterator __pairs gives. */
static int read_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

/* __pairs of a lazy read: every field, built first. */
static int read_pairs(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    read_build(L, 1);
    lua_pushcfunction(L, read_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* read:materialize() from the metatable: build every field (for code
 * that reads tables raw, such as the REPL's printer). */
static int read_materialize(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    read_build(L, 1);
    lua_settop(L, 1);
    return 1;
}
#endif

void vvl_push_read(lua_State *L, lstore *s, const vv_read *r, const char *ks,
                   int codec, int store, int key, int wb, vv_clock *park)
{
#if LAZY_READS
    if (vv_read_count(r) == 1) {
        push_lazy(L, r, ks, codec, park);
        return;
    }
#endif
    vvl_ks_local(L, store, ks);                             /* settings */
    push_eager(L, s, r, ks, codec, lua_gettop(L), key, wb, park);
    lua_remove(L, -2);
}

const luaL_Reg vvl_read_metameth[] = {
#if LAZY_READS
    {"__index", read_index},
    {"__pairs", read_pairs},
    {"materialize", read_materialize},
#endif
    {NULL, NULL}
};
