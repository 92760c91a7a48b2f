/* lvv.c - the Lua module "vv": vector clocks and versioned stores. */

/* Layout follows liolib/lstrlib: static clock_* and db_* functions, the
 * method tables, createmeta(), and luaopen_vv last.  Every C resource a
 * call holds while it may raise (a read, a byte buffer, memory from vv)
 * sits in a small "vv.box" userdata first, so a Lua error or a memory
 * error never leaks it.  Version differences live in compat.h. */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lua.h"
#include "lauxlib.h"
#include "vv.h"
#include "lcodec.h"
#include "compat.h"
#include "ltools.h"

#define CLOCK "vv.clock"
#define STORE "vv.store"
#define BOX   "vv.box"

int luaopen_vv(lua_State *L);

/* ==== boxes: C memory owned by the Lua GC during a call ============== */

#define BOX_MEM  1                  /* p from vv (vv_free) */
#define BOX_BUF  2                  /* a vvi_buf */
#define BOX_READ 3                  /* a vv_read */

typedef struct box {
    int kind;
    void *p;
    vvi_buf b;
} box;

/* Push a new empty box of a kind. */
static box *newbox(lua_State *L, int kind)
{
    box *x = (box *)lua_newuserdata(L, sizeof *x);
    x->kind = kind;
    x->p = NULL;
    vvi_buf_init(&x->b);
    vvc_setmetatable(L, BOX);
    return x;
}

/* Release what a box holds; safe to call twice. */
static void box_release(box *x)
{
    switch (x->kind) {
    case BOX_MEM:  vv_free(x->p); break;
    case BOX_READ: vv_read_free((vv_read *)x->p); break;
    default: break;
    }
    x->p = NULL;
    vvi_buf_free(&x->b);
}

/* __gc of a box. */
static int box_gc(lua_State *L)
{
    box_release((box *)luaL_checkudata(L, 1, BOX));
    return 0;
}

/* ==== clocks ========================================================= */

typedef struct lclock {
    vv_clock *c;                    /* NULL once collected */
} lclock;

/* Push a clock userdata holding nothing yet; fill ->c afterwards. */
static lclock *newclock(lua_State *L)
{
    lclock *p = (lclock *)lua_newuserdata(L, sizeof *p);
    p->c = NULL;
    vvc_setmetatable(L, CLOCK);
    return p;
}

/* The clock at argument i, or a "clock expected" argument error. */
static vv_clock *checkclock(lua_State *L, int i)
{
    lclock *p = (lclock *)vvc_testudata(L, i, CLOCK);
    if (p == NULL || p->c == NULL) {
        vvc_typeerror(L, i, "clock");
        return NULL;                    /* not reached */
    }
    return p->c;
}

/* The clock at argument i, NULL when nil or absent. */
static vv_clock *optclock(lua_State *L, int i)
{
    return lua_isnoneornil(L, i) ? NULL : checkclock(L, i);
}

/* A string argument without coercion from numbers. */
static const char *checkstr(lua_State *L, int i, size_t *len)
{
    if (lua_type(L, i) != LUA_TSTRING) vvc_typeerror(L, i, "string");
    return lua_tolstring(L, i, len);
}

/* Raise for a failed clock call. */
static int clock_fail(lua_State *L, const char *fn, int rc, const char *node)
{
    if (rc == VV_EOVERFLOW)
        return luaL_error(L, "%s: counter of node '%s' would overflow", fn,
                          node);
    if (rc == VV_EINVAL)
        return luaL_error(L, "%s: invalid node name '%s' (1..%d bytes)", fn,
                          node, VV_NODE_MAX);
    return luaL_error(L, "%s: %s", fn, vv_strerror(rc));
}

/* Raise "clock: <what> \"<text>\"", quoting at most 60 bytes of text. */
static int clock_textfail(lua_State *L, const char *what, const char *s,
                          size_t len)
{
    char q[80];
    snprintf(q, sizeof q, "%.*s%s", (int)(len > 60 ? 60 : len), s,
             len > 60 ? "..." : "");
    return luaL_error(L, "clock: %s \"%s\"", what, q);
}

/* Fill an empty clock from the table at t: string node -> counter. */
static void clock_fromtable(lua_State *L, int t, vv_clock *c)
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        size_t len;
        const char *node;
        uint64_t n = 0;
        int rc;
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "clock: node names must be strings, got %s",
                       luaL_typename(L, -2));
        node = lua_tolstring(L, -2, &len);
        rc = vvc_touint64(L, -1, &n);
        if (rc == -2)
            luaL_error(L, "clock: counter of node '%s' overflows (2^64 or "
                       "more)", node);
        if (rc)
            luaL_error(L, "clock: counter of node '%s' must be a non-negative "
                       "integer, got %s", node,
                       lua_type(L, -1) == LUA_TNUMBER
                           ? lua_tostring(L, -1) : luaL_typename(L, -1));
        if ((rc = vv_clock_set(c, node, len, n)))
            clock_fail(L, "clock", rc, node);
        lua_pop(L, 1);
    }
}

/* vv.clock([t]) -> a new clock: empty, from a table {node = n}, from the
 * text form "{a:1, b:2}", or a copy of a clock. */
static int clock_new(lua_State *L)
{
    lclock *p;
    int rc;
    switch (lua_type(L, 1)) {
    case LUA_TNONE:
    case LUA_TNIL:
        p = newclock(L);
        if ((rc = vv_clock_new(&p->c))) return clock_fail(L, "clock", rc, "");
        return 1;
    case LUA_TTABLE:
        p = newclock(L);
        if ((rc = vv_clock_new(&p->c))) return clock_fail(L, "clock", rc, "");
        clock_fromtable(L, 1, p->c);
        return 1;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, 1, &len);
        p = newclock(L);
        rc = vv_clock_parse(s, len, &p->c);
        if (rc == VV_EOVERFLOW)
            return clock_textfail(L, "counter overflows (2^64 or more) in",
                                  s, len);
        if (rc == VV_EINVAL)
            return clock_textfail(L, "malformed clock text (expected like "
                                  "{a:1, b:2})", s, len);
        if (rc) return clock_fail(L, "clock", rc, "");
        return 1;
    }
    default:
        if (vvc_testudata(L, 1, CLOCK)) {
            vv_clock *c = checkclock(L, 1);
            p = newclock(L);
            if ((rc = vv_clock_copy(c, &p->c)))
                return clock_fail(L, "clock", rc, "");
            return 1;
        }
        return vvc_typeerror(L, 1, "table, string or clock");
    }
}

/* c:get(node) -> counter (0 when absent). */
static int clock_get(lua_State *L)
{
    vv_clock *c = checkclock(L, 1);
    size_t len;
    const char *node = checkstr(L, 2, &len);
    vvc_pushuint64(L, vv_clock_get(c, node, len));
    return 1;
}

/* c:tick(node) -> c, node's counter incremented. */
static int clock_tick(lua_State *L)
{
    vv_clock *c = checkclock(L, 1);
    size_t len;
    const char *node = checkstr(L, 2, &len);
    int rc = vv_clock_tick(c, node, len);
    if (rc) return clock_fail(L, "tick", rc, node);
    lua_settop(L, 1);
    return 1;
}

/* c:set(node, n) -> c, node's counter set to n (0 removes it). */
static int clock_set(lua_State *L)
{
    vv_clock *c = checkclock(L, 1);
    size_t len;
    const char *node = checkstr(L, 2, &len);
    uint64_t n = 0;
    int rc = vvc_touint64(L, 3, &n);
    if (rc == -2)
        return luaL_argerror(L, 3, "counter overflows (2^64 or more)");
    if (rc) return luaL_argerror(L, 3, "non-negative integer expected");
    if ((rc = vv_clock_set(c, node, len, n)))
        return clock_fail(L, "set", rc, node);
    lua_settop(L, 1);
    return 1;
}

/* c:merge(other) -> c, the pointwise maximum of both. */
static int clock_merge(lua_State *L)
{
    vv_clock *c = checkclock(L, 1);
    vv_clock *o = checkclock(L, 2);
    int rc = vv_clock_merge(c, o);
    if (rc) return clock_fail(L, "merge", rc, "");
    lua_settop(L, 1);
    return 1;
}

/* c:copy() -> an independent clock equal to c. */
static int clock_copy(lua_State *L)
{
    vv_clock *c = checkclock(L, 1);
    lclock *p = newclock(L);
    int rc = vv_clock_copy(c, &p->c);
    if (rc) return clock_fail(L, "copy", rc, "");
    return 1;
}

/* c:totable() -> {node = counter, ...}. */
static int clock_totable(lua_State *L)
{
    vv_clock *c = checkclock(L, 1);
    size_t i, n = vv_clock_size(c);
    lua_createtable(L, 0, n > 1024 ? 1024 : (int)n);
    for (i = 0; i < n; i++) {
        const char *node;
        size_t len;
        uint64_t v;
        if (vv_clock_entry(c, i, &node, &len, &v)) break;
        lua_pushlstring(L, node, len);
        vvc_pushuint64(L, v);
        lua_rawset(L, -3);
    }
    return 1;
}

/* c:size(), #c -> number of nodes with a non-zero counter. */
static int clock_size(lua_State *L)
{
    vv_clock *c = checkclock(L, 1);
    vvc_pushuint64(L, (uint64_t)vv_clock_size(c));
    return 1;
}

/* c:encode() -> compact binary string (a format byte, then varints). */
static int clock_encode(lua_State *L)
{
    vv_clock *c = checkclock(L, 1);
    box *x = newbox(L, BOX_MEM);
    size_t len = 0;
    int rc = vv_clock_encode(c, &x->p, &len);
    if (rc) return clock_fail(L, "encode", rc, "");
    lua_pushlstring(L, (const char *)x->p, len);
    box_release(x);
    return 1;
}

/* vv.decode_clock(bin) -> the clock c:encode() gave. */
static int clock_decode(lua_State *L)
{
    size_t len;
    const char *s = checkstr(L, 1, &len);
    lclock *p = newclock(L);
    int rc = vv_clock_decode(s, len, &p->c);
    if (rc == VV_ECORRUPT)
        return luaL_error(L, "decode_clock: corrupt or truncated clock "
                          "encoding (%d bytes)", (int)len);
    if (rc == VV_EVERSION)
        return luaL_error(L, "decode_clock: unsupported clock format "
                          "version %d", len ? (unsigned char)s[0] : -1);
    if (rc) return clock_fail(L, "decode_clock", rc, "");
    return 1;
}

/* tostring(c) -> "{a:1, b:2}". */
static int clock_tostring(lua_State *L)
{
    lclock *p = (lclock *)luaL_checkudata(L, 1, CLOCK);
    box *x;
    size_t len = 0;
    int rc;
    if (p->c == NULL) {
        lua_pushliteral(L, "vv.clock (collected)");
        return 1;
    }
    x = newbox(L, BOX_MEM);
    rc = vv_clock_format(p->c, (char **)&x->p, &len);
    if (rc) return clock_fail(L, "tostring", rc, "");
    lua_pushlstring(L, (const char *)x->p, len);
    box_release(x);
    return 1;
}

/* Push the name of a vv_clock_compare result. */
static void pushorder(lua_State *L, int order)
{
    switch (order) {
    case VV_EQUAL:  lua_pushliteral(L, "equal"); break;
    case VV_BEFORE: lua_pushliteral(L, "before"); break;
    case VV_AFTER:  lua_pushliteral(L, "after"); break;
    default:        lua_pushliteral(L, "concurrent"); break;
    }
}

/* vv.compare(a, b) -> "equal" | "before" | "after" | "concurrent". */
static int clock_compare(lua_State *L)
{
    vv_clock *a = checkclock(L, 1);
    vv_clock *b = checkclock(L, 2);
    pushorder(L, vv_clock_compare(a, b));
    return 1;
}

/* a == b: the same counters (a non-clock is never equal). */
static int clock_eq(lua_State *L)
{
    lclock *a = (lclock *)vvc_testudata(L, 1, CLOCK);
    lclock *b = (lclock *)vvc_testudata(L, 2, CLOCK);
    lua_pushboolean(L, a && b && a->c && b->c &&
                       vv_clock_compare(a->c, b->c) == VV_EQUAL);
    return 1;
}

/* a < b: a happened strictly before b. */
static int clock_lt(lua_State *L)
{
    vv_clock *a = checkclock(L, 1);
    vv_clock *b = checkclock(L, 2);
    lua_pushboolean(L, vv_clock_compare(a, b) == VV_BEFORE);
    return 1;
}

/* a <= b: before or equal (concurrent clocks are false both ways). */
static int clock_le(lua_State *L)
{
    vv_clock *a = checkclock(L, 1);
    vv_clock *b = checkclock(L, 2);
    int o = vv_clock_compare(a, b);
    lua_pushboolean(L, o == VV_BEFORE || o == VV_EQUAL);
    return 1;
}

/* __gc and __close: free the clock once. */
static int clock_gc(lua_State *L)
{
    lclock *p = (lclock *)luaL_checkudata(L, 1, CLOCK);
    vv_clock_free(p->c);
    p->c = NULL;
    return 0;
}

/* ==== stores ========================================================= */

typedef struct lstore {
    vv_db *db;                      /* NULL once closed */
    int batch;                      /* db:batch nesting */
} lstore;

/* The store at argument 1, open. */
static lstore *checkstore(lua_State *L)
{
    lstore *s = (lstore *)vvc_testudata(L, 1, STORE);
    if (s == NULL) {
        vvc_typeerror(L, 1, "store");
        return NULL;                    /* not reached */
    }
    if (s->db == NULL) luaL_error(L, "attempt to use a closed store");
    return s;
}

/* Raise for a failed store call, with the store's message. */
static int db_fail(lua_State *L, lstore *s, const char *fn, int rc)
{
    const char *m = s->db ? vv_errmsg(s->db) : "";
    if (m == NULL || m[0] == '\0') m = vv_strerror(rc);
    return luaL_error(L, "%s: %s", fn, m);
}

/* A keyspace name argument: a string without NUL bytes. */
static const char *checkks(lua_State *L, int i)
{
    size_t len;
    const char *ks = checkstr(L, i, &len);
    if (strlen(ks) != len)
        luaL_argerror(L, i, "keyspace name contains a NUL byte");
    return ks;
}

/* The codec of keyspace ks as recorded by the store (msgpack when the
 * keyspace is new). */
static int ks_codec(lstore *s, const char *ks)
{
    vv_ks_config cfg;
    int codec;
    if (vv_keyspace_config(s->db, ks, &cfg) != VV_OK) return VVL_MSGPACK;
    codec = vvl_codec(cfg.codec);
    return codec < 0 ? VVL_MSGPACK : codec;
}

/* Push the binding's own settings for keyspace ks: a table {fn=, wb=}
 * kept in the store's user value, or nil. */
static void ks_local(lua_State *L, int store, const char *ks)
{
    vvc_getuservalue(L, store);
    lua_getfield(L, -1, ks);
    lua_remove(L, -2);
}

/* Do the keyspace settings at i hold a host function resolver? */
static int has_fn(lua_State *L, int i)
{
    int fn;
    if (!lua_istable(L, i)) return 0;
    lua_getfield(L, i, "fn");
    fn = lua_isfunction(L, -1);
    lua_pop(L, 1);
    return fn;
}

/* Options vv.open knows. */
static const char *const open_opts[] = {
    "node", "path", "map_size", "map_max", "read_only", "no_sync", NULL
};

/* An optional size option from the table at t. */
static size_t opt_size(lua_State *L, int t, const char *fn, const char *name)
{
    uint64_t v = 0;
    int rc;
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1)) { lua_pop(L, 1); return 0; }
    rc = vvc_touint64(L, -1, &v);
    if (rc || v > (uint64_t)SIZE_MAX)
        luaL_error(L, "%s: option '%s' must be a non-negative integer", fn,
                   name);
    lua_pop(L, 1);
    return (size_t)v;
}

/* Raise unless every key of the options table at t is in names. */
static void check_opts(lua_State *L, int t, const char *fn,
                       const char *const names[])
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        int i, ok = 0;
        if (lua_type(L, -2) == LUA_TSTRING)
            for (i = 0; names[i] && !ok; i++)
                ok = strcmp(lua_tostring(L, -2), names[i]) == 0;
        if (!ok)
            luaL_error(L, "%s: unknown option '%s'", fn,
                       lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                      : luaL_typename(L, -2));
        lua_pop(L, 1);
    }
}

/* An optional string option. */
static const char *opt_string(lua_State *L, int t, const char *fn,
                              const char *name)
{
    const char *v = NULL;
    lua_getfield(L, t, name);
    if (!lua_isnil(L, -1)) {
        size_t len;
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: option '%s' must be a string, got %s", fn, name,
                       luaL_typename(L, -1));
        v = lua_tolstring(L, -1, &len);
        if (strlen(v) != len)
            luaL_error(L, "%s: option '%s' contains a NUL byte", fn, name);
    }
    lua_pop(L, 1);      /* the string stays alive in the options table */
    return v;
}

/* An optional boolean option. */
static int opt_bool(lua_State *L, int t, const char *fn, const char *name)
{
    int v;
    lua_getfield(L, t, name);
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TBOOLEAN)
        luaL_error(L, "%s: option '%s' must be a boolean, got %s", fn, name,
                   luaL_typename(L, -1));
    v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* vv.open{node = "s0" [, path = "dir"]} -> store. */
static int db_open(lua_State *L)
{
    vv_options o;
    lstore *s;
    char *err = NULL;
    int rc;
    luaL_checktype(L, 1, LUA_TTABLE);
    check_opts(L, 1, "open", open_opts);
    memset(&o, 0, sizeof o);
    o.node = opt_string(L, 1, "open", "node");
    o.path = opt_string(L, 1, "open", "path");
    if (o.node == NULL && o.path == NULL)   /* a directory may name its node */
        return luaL_error(L, "open: option 'node' (a string) is required");
    o.map_size = opt_size(L, 1, "open", "map_size");
    o.map_max = opt_size(L, 1, "open", "map_max");
    o.read_only = opt_bool(L, 1, "open", "read_only");
    o.no_sync = opt_bool(L, 1, "open", "no_sync");

    s = (lstore *)vvc_newuserdata(L, sizeof *s);
    s->db = NULL;
    s->batch = 0;
    vvc_setmetatable(L, STORE);
    lua_newtable(L);                    /* per-keyspace settings */
    vvc_setuservalue(L, -2);
    rc = vv_db_open(&o, &s->db, &err);
    if (rc) {
        lua_pushfstring(L, "open: %s", err ? err : vv_strerror(rc));
        vv_free(err);
        return lua_error(L);
    }
    vv_free(err);
    return 1;
}

/* db:close(): close the store; safe to call again (also __gc/__close). */
static int db_close(lua_State *L)
{
    lstore *s = (lstore *)luaL_checkudata(L, 1, STORE);
    vv_db_close(s->db);
    s->db = NULL;
    return 0;
}

/* tostring(db) -> "vv.store (actor)" or "vv.store (closed)". */
static int db_tostring(lua_State *L)
{
    lstore *s = (lstore *)luaL_checkudata(L, 1, STORE);
    if (s->db == NULL)
        lua_pushliteral(L, "vv.store (closed)");
    else
        lua_pushfstring(L, "vv.store (%s)", vv_db_actor(s->db));
    return 1;
}

/* db:node(), db:actor() -> this store's node name and actor. */
static int db_node(lua_State *L)
{
    lua_pushstring(L, vv_db_node(checkstore(L)->db));
    return 1;
}

static int db_actor(lua_State *L)
{
    lua_pushstring(L, vv_db_actor(checkstore(L)->db));
    return 1;
}

static const char *const ks_opts[] = {
    "resolver", "codec", "writeback", "budget", "warn_siblings",
    "max_siblings", "history", NULL
};
static const char *const budget_opts[] = { "instructions", "memory", NULL };

/* A limit option that must fit 32 bits. */
static uint32_t opt_u32(lua_State *L, int t, const char *name)
{
    size_t v = opt_size(L, t, "keyspace", name);
    if ((uint64_t)v > UINT32_MAX)
        luaL_error(L, "keyspace: option '%s' is too large", name);
    return (uint32_t)v;
}

/* Is this resolver string a script path (not a built-in name)? */
static int is_path(const char *r)
{
    size_t n = strlen(r);
    return strchr(r, '/') != NULL || (n > 4 && strcmp(r + n - 4, ".lua") == 0);
}

/* Push the recorded configuration of keyspace ks as a table, or nil. */
static int push_ksconfig(lua_State *L, lstore *s, const char *ks)
{
    vv_ks_config c;
    if (vv_keyspace_config(s->db, ks, &c) != VV_OK) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 8);
    ks_local(L, 1, ks);
    if (has_fn(L, lua_gettop(L)))
        lua_getfield(L, -1, "fn");
    else
        lua_pushstring(L, c.script ? c.script
                          : c.resolver_name ? c.resolver_name : "siblings");
    lua_setfield(L, -3, "resolver");
    lua_pop(L, 1);
    lua_pushstring(L, c.codec ? c.codec : "msgpack");
    lua_setfield(L, -2, "codec");
    lua_pushboolean(L, c.writeback);
    lua_setfield(L, -2, "writeback");
    vvc_pushuint64(L, c.warn_siblings);
    lua_setfield(L, -2, "warn_siblings");
    vvc_pushuint64(L, c.max_siblings);
    lua_setfield(L, -2, "max_siblings");
    vvc_pushuint64(L, c.history);
    lua_setfield(L, -2, "history");
    lua_createtable(L, 0, 2);
    vvc_pushuint64(L, c.budget_instructions);
    lua_setfield(L, -2, "instructions");
    vvc_pushuint64(L, c.budget_memory);
    lua_setfield(L, -2, "memory");
    lua_setfield(L, -2, "budget");
    return 1;
}

/* db:keyspace(name [, opts]) -> the keyspace's configuration table.
 * With opts, (re)configure it first; fields left out take their
 * defaults.  Everything is checked before anything changes. */
static int db_keyspace(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    vv_ks_config cfg;
    const char *script = NULL;
    int rc, fn = 0;
    if (lua_isnoneornil(L, 3)) return push_ksconfig(L, s, ks);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    check_opts(L, 3, "keyspace", ks_opts);
    memset(&cfg, 0, sizeof cfg);

    cfg.codec = opt_string(L, 3, "keyspace", "codec");
    if (cfg.codec == NULL) cfg.codec = "msgpack";
    if (vvl_codec(cfg.codec) < 0)
        return luaL_error(L, "keyspace: unknown codec '%s' (msgpack or raw)",
                          cfg.codec);
    cfg.writeback = opt_bool(L, 3, "keyspace", "writeback");
    cfg.warn_siblings = opt_u32(L, 3, "warn_siblings");
    cfg.max_siblings = opt_u32(L, 3, "max_siblings");
    cfg.history = opt_u32(L, 3, "history");
    lua_getfield(L, 3, "budget");                       /* 4 */
    if (!lua_isnil(L, 4)) {
        if (!lua_istable(L, 4))
            return luaL_error(L, "keyspace: option 'budget' must be a table, "
                              "got %s", luaL_typename(L, 4));
        check_opts(L, 4, "keyspace budget", budget_opts);
        cfg.budget_instructions = opt_size(L, 4, "keyspace budget",
                                           "instructions");
        cfg.budget_memory = opt_size(L, 4, "keyspace budget", "memory");
    }
    lua_getfield(L, 3, "resolver");                     /* 5 */
    switch (lua_type(L, 5)) {
    case LUA_TNIL:
        cfg.resolver = VV_RESOLVE_SIBLINGS;
        cfg.resolver_name = "siblings";
        break;
    case LUA_TFUNCTION:
        cfg.resolver = VV_RESOLVE_SIBLINGS;     /* the binding calls it */
        cfg.resolver_name = "function";
        fn = 1;
        break;
    case LUA_TSTRING: {
        const char *r = opt_string(L, 3, "keyspace", "resolver");
        if (strcmp(r, "siblings") == 0) {
            cfg.resolver = VV_RESOLVE_SIBLINGS;
            cfg.resolver_name = "siblings";
        } else if (strcmp(r, "lww") == 0) {
            cfg.resolver = VV_RESOLVE_LWW;
            cfg.resolver_name = "lww";
        } else if (is_path(r)) {
            script = r;
        } else {
            return luaL_error(L, "keyspace: unknown resolver '%s' "
                              "(\"siblings\", \"lww\", a script path or a "
                              "function)", r);
        }
        break;
    }
    default:
        return luaL_error(L, "keyspace: option 'resolver' must be a string or "
                          "a function, got %s", luaL_typename(L, 5));
    }

    if (script)
        rc = vv_keyspace_script(s->db, ks, script, &cfg);
    else
        rc = vv_keyspace(s->db, ks, &cfg);
    if (rc) return db_fail(L, s, "keyspace", rc);

    vvc_getuservalue(L, 1);                             /* 6 */
    if (fn || cfg.writeback) {
        lua_createtable(L, 0, 2);
        if (fn) {
            lua_pushvalue(L, 5);
            lua_setfield(L, -2, "fn");
        }
        lua_pushboolean(L, cfg.writeback);
        lua_setfield(L, -2, "wb");
    } else {
        lua_pushnil(L);
    }
    lua_setfield(L, 6, ks);
    return push_ksconfig(L, s, ks);
}

/* Encode the value at i for keyspace ks into a new box on the stack;
 * an encoding failure is an argument error on i. */
static box *encode_arg(lua_State *L, lstore *s, const char *ks, int i)
{
    char err[200];
    box *x = newbox(L, BOX_BUF);
    int rc = vvl_encode(L, i, ks_codec(s, ks), &x->b, err, sizeof err);
    if (rc == VV_ENOMEM) luaL_error(L, "not enough memory");
    if (rc) luaL_argerror(L, i, err);
    return x;
}

/* db:put(ks, key, value [, context]) -> the key's new context. */
static int db_put(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    size_t klen;
    const char *key = checkstr(L, 3, &klen);
    vv_clock *ctx;
    box *x;
    lclock *nc;
    int rc;
    luaL_checkany(L, 4);
    ctx = optclock(L, 5);
    x = encode_arg(L, s, ks, 4);
    nc = newclock(L);
    rc = vv_put(s->db, ks, key, klen, x->b.p, x->b.len, ctx, &nc->c);
    box_release(x);
    if (rc) return db_fail(L, s, "put", rc);
    return 1;
}

/* db:delete(ks, key [, context]) -> the key's new context. */
static int db_delete(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    size_t klen;
    const char *key = checkstr(L, 3, &klen);
    vv_clock *ctx = optclock(L, 4);
    lclock *nc = newclock(L);
    int rc = vv_delete(s->db, ks, key, klen, ctx, &nc->c);
    if (rc) return db_fail(L, s, "delete", rc);
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
    x = newbox(L, BOX_BUF);                 /* result, box */
    rc = vvl_encode(L, -2, codec, &x->b, err, sizeof err);
    if (rc) {
        lua_pushfstring(L, "keyspace '%s': resolver returned a value that "
                        "cannot be stored: %s", ks, err);
        lua_setfield(L, res, "error");
        box_release(x);
        lua_pop(L, 2);
        return;
    }
    lua_pushvalue(L, -2);
    lua_setfield(L, res, "value");
    lua_getfield(L, settings, "wb");
    if (lua_toboolean(L, -1) && s->db != NULL) {
        size_t klen;
        const char *k = lua_tolstring(L, key, &klen);
        lclock *nc = newclock(L);
        if (vv_put(s->db, ks, k, klen, x->b.p, x->b.len, vv_read_context(r),
                   &nc->c) == VV_OK)
            lua_setfield(L, res, "context");    /* covers the write-back */
        else
            lua_pop(L, 1);                      /* best effort: a read stays */
    }
    box_release(x);
    lua_pop(L, 3);
}

/* db:get(ks, key) -> nil when absent or deleted, else
 * {siblings=, values=, context=, value=, error=}. */
static int db_get(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    size_t klen, n;
    const char *key = checkstr(L, 3, &klen);
    int codec = ks_codec(s, ks), rc;
    box *x;
    vv_read *r;
    lclock *ctx;
    lua_settop(L, 3);
    ks_local(L, 1, ks);                                 /* 4: settings */
    x = newbox(L, BOX_READ);                            /* 5 */
    rc = vv_get(s->db, ks, key, klen, (vv_read **)&x->p);
    if (rc == VV_ENOTFOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (rc) return db_fail(L, s, "get", rc);
    r = (vv_read *)x->p;
    n = vv_read_count(r);
    lua_createtable(L, 0, 5);                           /* 6: result */
    lua_createtable(L, n > 1024 ? 1024 : (int)n, 0);    /* 7: values */
    push_siblings(L, r, ks, codec, 7);
    lua_setfield(L, 6, "siblings");
    lua_setfield(L, 6, "values");
    ctx = newclock(L);
    if (!(ctx->c = vv_read_take_context(r)))
        return clock_fail(L, "get", VV_ENOMEM, "");
    lua_setfield(L, 6, "context");
    if (n == 1) {
        lua_getfield(L, 6, "values");
        lua_rawgeti(L, -1, 1);
        lua_setfield(L, 6, "value");
        lua_pop(L, 1);
    } else if (has_fn(L, 4)) {
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
    box_release(x);
    lua_settop(L, 6);
    return 1;
}

/* db:export(ks, key) -> the key's whole state as bytes, or nil. */
static int db_export(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    size_t klen, len = 0;
    const char *key = checkstr(L, 3, &klen);
    box *x = newbox(L, BOX_MEM);
    int rc = vv_export(s->db, ks, key, klen, &x->p, &len);
    if (rc == VV_ENOTFOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (rc) return db_fail(L, s, "export", rc);
    lua_pushlstring(L, (const char *)x->p, len);
    box_release(x);
    return 1;
}

/* db:merge(ks, key, state) -> true; a bad state raises, nothing changes. */
static int db_merge(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    size_t klen, len;
    const char *key = checkstr(L, 3, &klen);
    const char *st = checkstr(L, 4, &len);
    int rc = vv_merge(s->db, ks, key, klen, st, len);
    if (rc) return db_fail(L, s, "merge", rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* db:batch(fn, ...) -> fn's results; fn's writes commit together, or
 * none of them stays when fn raises (the error goes on).  A batch inside
 * a batch joins the outer one. */
static int db_batch(lua_State *L)
{
    lstore *s = checkstore(L);
    int rc, base;
    luaL_checktype(L, 2, LUA_TFUNCTION);
    base = 1;                           /* results start after the store */
    if (s->batch > 0) {
        lua_call(L, lua_gettop(L) - 2, LUA_MULTRET);
        return lua_gettop(L) - base;
    }
    if ((rc = vv_begin(s->db))) return db_fail(L, s, "batch", rc);
    s->batch = 1;
    rc = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
    s->batch = 0;
    if (rc != 0) {
        if (s->db) vv_abort(s->db);
        return lua_error(L);
    }
    if (s->db == NULL)
        return luaL_error(L, "batch: the store was closed inside the batch");
    if ((rc = vv_commit(s->db))) return db_fail(L, s, "batch", rc);
    return lua_gettop(L) - base;
}

/* ---- sync ---------------------------------------------------------- */

/* Push the bytes of a box filled by vv and release them. */
static int push_mem(lua_State *L, box *x, size_t len)
{
    lua_pushlstring(L, (const char *)x->p, len);
    box_release(x);
    return 1;
}

/* db:digest(ks) -> bytes: what this store has of keyspace ks. */
static int db_digest(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    box *x = newbox(L, BOX_MEM);
    size_t len = 0;
    int rc = vv_digest(s->db, ks, &x->p, &len);
    if (rc) return db_fail(L, s, "digest", rc);
    return push_mem(L, x, len);
}

/* db:delta(ks, digest) -> bytes: the states the digest's maker misses. */
static int db_delta(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    size_t dlen, len = 0;
    const char *d = checkstr(L, 3, &dlen);
    box *x = newbox(L, BOX_MEM);
    int rc = vv_delta(s->db, ks, d, dlen, &x->p, &len);
    if (rc) return db_fail(L, s, "delta", rc);
    return push_mem(L, x, len);
}

/* db:apply(ks, delta) -> number of keys changed; a bad delta raises and
 * changes nothing. */
static int db_apply(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    size_t len, changed = 0;
    const char *d = checkstr(L, 3, &len);
    int rc = vv_apply(s->db, ks, d, len, &changed);
    if (rc) return db_fail(L, s, "apply", rc);
    vvc_pushuint64(L, (uint64_t)changed);
    return 1;
}

/* db:reap(ks, {digest, ...}) -> number of tombstone-only keys dropped. */
static int db_reap(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
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
    if (rc) return db_fail(L, s, "reap", rc);
    vvc_pushuint64(L, (uint64_t)reaped);
    return 1;
}

/* ---- history ------------------------------------------------------- */

/* A history entry or dot as collect_hist lays it out in a buffer. */
typedef struct hrec {
    size_t actor_len, node_len, preview_len, value_len, nreplaced;
    uint64_t counter, timestamp;
    int tombstone, how, has_actor;
} hrec;

typedef struct hdot {
    size_t actor_len, node_len;
    uint64_t counter;
} hdot;

/* vv_history callback: copy one entry into the buffer (no Lua calls
 * here, so nothing can raise inside the store). */
static int collect_hist(void *ud, const vv_hist *e)
{
    vvi_buf *b = ud;
    hrec h;
    size_t i;
    memset(&h, 0, sizeof h);
    h.has_actor = e->dot.actor != NULL;
    h.actor_len = h.has_actor ? e->dot.actor_len : 0;
    h.node_len = h.has_actor ? e->dot.node_len : 0;
    h.counter = e->dot.counter;
    h.timestamp = e->timestamp;
    h.tombstone = e->tombstone;
    h.how = e->how;
    h.preview_len = e->preview ? e->preview_len : 0;
    h.value_len = e->value_len;
    h.nreplaced = e->replaced ? e->nreplaced : 0;
    vvi_buf_add(b, &h, sizeof h);
    vvi_buf_add(b, e->dot.actor, h.actor_len);
    vvi_buf_add(b, e->preview, h.preview_len);
    for (i = 0; i < h.nreplaced; i++) {
        const vv_dot *d = &e->replaced[i];
        hdot x;
        x.actor_len = d->actor ? d->actor_len : 0;
        x.node_len = d->actor ? d->node_len : 0;
        x.counter = d->counter;
        vvi_buf_add(b, &x, sizeof x);
        vvi_buf_add(b, d->actor, x.actor_len);
    }
    return b->oom ? VV_ENOMEM : 0;
}

/* Push {actor=, node=, counter=} for a dot at p; returns its size. */
static size_t push_dot(lua_State *L, const unsigned char *p, size_t alen,
                       size_t nlen, uint64_t counter)
{
    lua_createtable(L, 0, 3);
    lua_pushlstring(L, (const char *)p, alen);
    lua_setfield(L, -2, "actor");
    lua_pushlstring(L, (const char *)p, nlen);
    lua_setfield(L, -2, "node");
    vvc_pushuint64(L, counter);
    lua_setfield(L, -2, "counter");
    return alen;
}

/* db:history(ks, key) -> array of entries, oldest first, each
 * {actor=, node=, counter=, timestamp=, tombstone=, how=, preview=,
 * value_len=, value=, replaced={dots}} (empty when none is kept). */
static int db_history(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    size_t klen, off = 0;
    const char *key = checkstr(L, 3, &klen);
    int codec = ks_codec(s, ks), i = 0, rc;
    box *x = newbox(L, BOX_BUF);
    rc = vv_history(s->db, ks, key, klen, collect_hist, &x->b);
    if (rc) return db_fail(L, s, "history", rc);
    lua_newtable(L);
    while (off < x->b.len) {
        hrec h;
        size_t j;
        const unsigned char *p;
        memcpy(&h, x->b.p + off, sizeof h);
        p = x->b.p + off + sizeof h;
        lua_createtable(L, 0, 10);
        if (h.has_actor) {
            push_dot(L, p, h.actor_len, h.node_len, h.counter);
            lua_getfield(L, -1, "actor");
            lua_setfield(L, -3, "actor");
            lua_getfield(L, -1, "node");
            lua_setfield(L, -3, "node");
            lua_getfield(L, -1, "counter");
            lua_setfield(L, -3, "counter");
            lua_pop(L, 1);
        }
        p += h.actor_len;
        vvc_pushuint64(L, h.timestamp);
        lua_setfield(L, -2, "timestamp");
        lua_pushboolean(L, h.tombstone);
        lua_setfield(L, -2, "tombstone");
        lua_pushstring(L, h.how == VV_HIST_MERGE ? "merge" : "write");
        lua_setfield(L, -2, "how");
        lua_pushlstring(L, (const char *)p, h.preview_len);
        lua_setfield(L, -2, "preview");
        vvc_pushuint64(L, (uint64_t)h.value_len);
        lua_setfield(L, -2, "value_len");
        if (!h.tombstone && h.has_actor && h.preview_len == h.value_len &&
            vvl_decode(L, p, h.preview_len, codec, NULL, 0) == VV_OK)
            lua_setfield(L, -2, "value");   /* the whole value was kept */
        p += h.preview_len;
        lua_createtable(L, (int)(h.nreplaced > 64 ? 64 : h.nreplaced), 0);
        for (j = 0; j < h.nreplaced; j++) {
            hdot d;
            memcpy(&d, p, sizeof d);
            p += sizeof d;
            p += push_dot(L, p, d.actor_len, d.node_len, d.counter);
            lua_rawseti(L, -2, (int)(j + 1));
        }
        lua_setfield(L, -2, "replaced");
        lua_rawseti(L, -2, ++i);
        off = (size_t)(p - x->b.p);
    }
    box_release(x);
    return 1;
}

/* Collect names or keys into a buffer: a size_t length, then bytes. */
static int collect_name(void *ud, const char *name)
{
    vvi_buf *b = ud;
    size_t n = strlen(name);
    vvi_buf_add(b, &n, sizeof n);
    vvi_buf_add(b, name, n);
    return b->oom ? VV_ENOMEM : 0;
}

static int collect_key(void *ud, const void *key, size_t klen)
{
    vvi_buf *b = ud;
    vvi_buf_add(b, &klen, sizeof klen);
    vvi_buf_add(b, key, klen);
    return b->oom ? VV_ENOMEM : 0;
}

/* Push the strings a collect_* buffer holds as an array. */
static void push_collected(lua_State *L, const vvi_buf *b)
{
    size_t off = 0;
    int i = 0;
    lua_newtable(L);
    while (off < b->len) {
        size_t n;
        memcpy(&n, b->p + off, sizeof n);
        off += sizeof n;
        lua_pushlstring(L, (const char *)b->p + off, n);
        lua_rawseti(L, -2, ++i);
        off += n;
    }
}

/* db:keyspaces() -> array of keyspace names. */
static int db_keyspaces(lua_State *L)
{
    lstore *s = checkstore(L);
    box *x = newbox(L, BOX_BUF);
    int rc = vv_keyspaces(s->db, collect_name, &x->b);
    if (rc) return db_fail(L, s, "keyspaces", rc);
    push_collected(L, &x->b);
    box_release(x);
    return 1;
}

/* db:keys(ks) -> array of the keyspace's keys (deleted ones too), in
 * bytewise order. */
static int db_keys(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = checkks(L, 2);
    box *x = newbox(L, BOX_BUF);
    int rc = vv_keys(s->db, ks, collect_key, &x->b);
    if (rc) return db_fail(L, s, "keys", rc);
    push_collected(L, &x->b);
    box_release(x);
    return 1;
}

/* db:stats([ks]) -> {keys=, tombstones=, siblings={8 buckets},
 * max_siblings=, warnings=, bytes=}. */
static int db_stats(lua_State *L)
{
    lstore *s = checkstore(L);
    const char *ks = lua_isnoneornil(L, 2) ? NULL : checkks(L, 2);
    vv_stats st;
    int rc = vv_stats_get(s->db, ks, &st), i;
    if (rc) return db_fail(L, s, "stats", rc);
    lua_createtable(L, 0, 6);
    vvc_pushuint64(L, st.keys);
    lua_setfield(L, -2, "keys");
    vvc_pushuint64(L, st.tombstones);
    lua_setfield(L, -2, "tombstones");
    lua_createtable(L, 8, 0);
    for (i = 0; i < 8; i++) {
        vvc_pushuint64(L, st.siblings[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "siblings");
    vvc_pushuint64(L, st.max_siblings);
    lua_setfield(L, -2, "max_siblings");
    vvc_pushuint64(L, st.warnings);
    lua_setfield(L, -2, "warnings");
    vvc_pushuint64(L, st.bytes);
    lua_setfield(L, -2, "bytes");
    return 1;
}

/* ==== values ======================================================== */

/* The codec named by optional argument i ("msgpack" or "raw"). */
static int checkcodec(lua_State *L, int i)
{
    const char *name = luaL_optstring(L, i, "msgpack");
    int codec = vvl_codec(name);
    if (codec < 0)
        luaL_argerror(L, i, lua_pushfstring(L, "unknown codec '%s' (msgpack "
                                            "or raw)", name));
    return codec;
}

/* vv.encode(value [, codec]) -> the bytes a keyspace stores for value. */
static int lib_encode(lua_State *L)
{
    int codec;
    box *x;
    char err[200];
    int rc;
    luaL_checkany(L, 1);
    codec = checkcodec(L, 2);
    x = newbox(L, BOX_BUF);
    rc = vvl_encode(L, 1, codec, &x->b, err, sizeof err);
    if (rc == VV_ENOMEM) return luaL_error(L, "not enough memory");
    if (rc) return luaL_argerror(L, 1, err);
    lua_pushlstring(L, (const char *)x->b.p, x->b.len);
    box_release(x);
    return 1;
}

/* vv.decode(bytes [, codec]) -> the value; corrupt bytes raise. */
static int lib_decode(lua_State *L)
{
    size_t len;
    const char *p = checkstr(L, 1, &len);
    int codec = checkcodec(L, 2);
    char err[200];
    if (vvl_decode(L, p, len, codec, err, sizeof err))
        return luaL_error(L, "decode: %s", err);
    return 1;
}

/* ==== registration =================================================== */

static const luaL_Reg clock_meth[] = {
    {"get", clock_get},
    {"tick", clock_tick},
    {"set", clock_set},
    {"merge", clock_merge},
    {"copy", clock_copy},
    {"totable", clock_totable},
    {"encode", clock_encode},
    {"size", clock_size},
    {"compare", clock_compare},
    {NULL, NULL}
};

static const luaL_Reg clock_metameth[] = {
    {"__index", NULL},              /* placeholder */
    {"__tostring", clock_tostring},
    {"__eq", clock_eq},
    {"__lt", clock_lt},
    {"__le", clock_le},
    {"__len", clock_size},
    {"__gc", clock_gc},
    {"__close", clock_gc},
    {NULL, NULL}
};

static const luaL_Reg store_meth[] = {
    {"keyspace", db_keyspace},
    {"put", db_put},
    {"get", db_get},
    {"delete", db_delete},
    {"export", db_export},
    {"merge", db_merge},
    {"batch", db_batch},
    {"stats", db_stats},
    {"digest", db_digest},
    {"delta", db_delta},
    {"apply", db_apply},
    {"reap", db_reap},
    {"history", db_history},
    {"keys", db_keys},
    {"keyspaces", db_keyspaces},
    {"node", db_node},
    {"actor", db_actor},
    {"close", db_close},
    {NULL, NULL}
};

static const luaL_Reg store_metameth[] = {
    {"__index", NULL},              /* placeholder */
    {"__tostring", db_tostring},
    {"__gc", db_close},
    {"__close", db_close},
    {NULL, NULL}
};

static const luaL_Reg box_metameth[] = {
    {"__gc", box_gc},
    {NULL, NULL}
};

static const luaL_Reg vvlib[] = {
    {"clock", clock_new},
    {"decode_clock", clock_decode},
    {"compare", clock_compare},
    {"open", db_open},
    {"encode", lib_encode},
    {"decode", lib_decode},
    {NULL, NULL}
};

/* Create metatable tname with metamethods mm and, when meth is given, an
 * __index table of methods. */
static void createmeta(lua_State *L, const char *tname, const luaL_Reg *mm,
                       const luaL_Reg *meth)
{
    luaL_newmetatable(L, tname);        /* metatable */
    lua_pushstring(L, tname);
    lua_setfield(L, -2, "__name");      /* 5.1 and LuaJIT do not set it */
    vvc_setfuncs(L, mm, 0);
    if (meth) {
        lua_createtable(L, 0, 16);      /* method table */
        vvc_setfuncs(L, meth, 0);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
}

/* require "vv" */
int luaopen_vv(lua_State *L)
{
    createmeta(L, CLOCK, clock_metameth, clock_meth);
    createmeta(L, STORE, store_metameth, store_meth);
    createmeta(L, BOX, box_metameth, NULL);
    lua_createtable(L, 0, 8);
    vvc_setfuncs(L, vvlib, 0);
    lua_pushliteral(L, VV_VERSION);
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "vv");
    lua_setfield(L, -2, "_NAME");
    vvl_open_tools(L);              /* vv.dot, vv.check_resolver, ... */
    return 1;
}
