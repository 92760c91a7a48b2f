/* lvv_store.c - vv.open and the store handle: options, keyspace configs, batches. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lvv.h"

/* ==== stores ========================================================= */

/* The store at argument 1, open. */
lstore *vvl_checkstore(lua_State *L)
{
    lstore *s = (lstore *)vvl_isudata(L, 1, VVL_UV_STORE);
    if (s == NULL) {
        vvc_typeerror(L, 1, "store");
        return NULL;                    /* not reached */
    }
    if (s->db == NULL) luaL_error(L, "attempt to use a closed store");
    return s;
}

/* The message of a failed store call: the store's, or the code's name. */
const char *vvl_db_message(lstore *s, int rc)
{
    const char *m = s->db ? vv_errmsg(s->db) : "";
    if (m == NULL || m[0] == '\0') m = vv_strerror(rc);
    return m;
}

/* Raise for a failed store call, with the store's message: copied first,
 * since making the error string may run a finalizer that closes the
 * store (the message is at most the store's 512 bytes). */
int vvl_db_fail(lua_State *L, lstore *s, const char *fn, int rc)
{
    char m[512];
    if (s->db == NULL)                  /* closed under the call */
        return luaL_error(L, "%s: the store was closed", fn);
    snprintf(m, sizeof m, "%s", vvl_db_message(s, rc));
    return luaL_error(L, "%s: %s", fn, m);
}

void vvl_still_open(lua_State *L, lstore *s)
{
    if (s->db == NULL) luaL_error(L, "attempt to use a closed store");
}

/* ==== work areas ===================================================== */

/* Free what a work area holds; it stays usable (and empty). */
static void work_clear(lwork *w)
{
    vv_read_free(w->rd);
    w->rd = NULL;
    vv_clock_clear(&w->spare);
}

/* Push a new empty work area. */
static lwork *work_new(lua_State *L)
{
    lwork *w = (lwork *)vvc_newudata(L, sizeof *w);
    w->rd = NULL;
    vv_clock_init(&w->spare);
    vvc_setmetatable(L, WORK);
    return w;
}

/* __gc of a work area. */
int vvl_work_gc(lua_State *L)
{
    work_clear((lwork *)luaL_checkudata(L, 1, WORK));
    return 0;
}

lwork *vvl_work_new(lua_State *L, int *at)
{
    lwork *w = work_new(L);
    *at = lua_gettop(L);
    return w;
}

/* Keep w unless the store has a work area again (a nested call gave its
 * own back first) or is closed.  A work area the store did not keep
 * before becomes the one it keeps: the one a call took and lost to an
 * error goes to the collector then, and one an outer call still has is
 * kept alive by that call's stack. */
void vvl_work_adopt(lua_State *L, lstore *s, lwork *w, int at, int store)
{
    if (s->work != NULL || s->db == NULL) return;
    if (w != s->home) {
        lua_pushvalue(L, at);
#if LUA_VERSION_NUM >= 504
        lua_setiuservalue(L, store, 2);
#else
        vvc_getuservalue(L, store);
        lua_insert(L, -2);
        vvc_rawseti(L, -2, 1);
        lua_pop(L, 1);
#endif
        s->home = w;
    }
    s->work = w;
}

/* A keyspace name argument: a string without NUL bytes. */
const char *vvl_checkks(lua_State *L, int i)
{
    size_t len;
    const char *ks = vvl_checkstr(L, i, &len);
    if (strlen(ks) != len)
        luaL_argerror(L, i, "keyspace name contains a NUL byte");
    return ks;
}

/* The codec of keyspace ks as recorded by the store (msgpack when the
 * keyspace is new): as this handle last read it, which costs no
 * transaction on every operation. */
int vvl_ks_codec(lstore *s, const char *ks)
{
    const vv_ks_config *seen;
    vv_ks_config cfg;
    int codec;
    if (s->db == NULL) return VVL_MSGPACK;      /* closed: nothing to read */
    seen = vv_keyspace_seen(s->db, ks);
    if (!seen) {
        if (vv_keyspace_config(s->db, ks, &cfg) != VV_OK) return VVL_MSGPACK;
        seen = &cfg;
    }
    codec = vvl_codec(seen->codec);
    return codec < 0 ? VVL_MSGPACK : codec;
}

/* Push the binding's own settings for keyspace ks: a table {fn=, wb=,
 * ks=, store=} kept in the store's user value, or nil. */
void vvl_ks_local(lua_State *L, int store, const char *ks)
{
    vvc_getuservalue(L, store);
    lua_getfield(L, -1, ks);
    lua_remove(L, -2);
}

/* Do the keyspace settings at i hold a host function resolver?  Only
 * while the store's record still names one ("function"): a config that
 * another process changed since wins, and the function is let go.  The
 * write-back flag follows the record too. */
int vvl_has_fn(lua_State *L, int i)
{
    const vv_ks_config *c = NULL;
    lstore *s;
    int fn;
    if (!lua_istable(L, i)) return 0;
    lua_getfield(L, i, "fn");
    fn = lua_isfunction(L, -1);
    lua_getfield(L, i, "store");
    s = (lstore *)lua_touserdata(L, -1);
    lua_getfield(L, i, "ks");
    if (fn && s && s->db && lua_isstring(L, -1))
        c = vv_keyspace_seen(s->db, lua_tostring(L, -1));
    lua_pop(L, 3);
    if (!fn) return 0;
    if (!c || !c->resolver_name || strcmp(c->resolver_name, "function")) {
        lua_pushnil(L);
        lua_setfield(L, i, "fn");
        return 0;
    }
    lua_pushboolean(L, c->writeback);
    lua_setfield(L, i, "wb");
    return 1;
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
    o.scripts = vv_keyspace_script;     /* re-attach recorded scripts */

#if LUA_VERSION_NUM >= 504
    s = (lstore *)lua_newuserdatauv(L, sizeof *s, 2);   /* settings, work */
#else
    s = (lstore *)vvc_newuserdata(L, sizeof *s);
#endif
    s->db = NULL;
    s->batch = 0;
    s->home = s->work = NULL;
    vv_buf_init(&s->enc);
    s->enc_gen = 0;
    lua_pushvalue(L, VVL_UV(VVL_UV_STORE));
    lua_setmetatable(L, -2);
    lua_newtable(L);                    /* per-keyspace settings */
    s->home = s->work = work_new(L);    /* the work area (vvl_push_home) */
#if LUA_VERSION_NUM >= 504
    lua_setiuservalue(L, -3, 2);
#else
    vvc_rawseti(L, -2, 1);
#endif
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

/* Close the store s (again: nothing).  A call inside, which a finalizer
 * or a resolver may have interrupted, keeps its work area (its stack
 * holds it) and finds s->db NULL when it next looks. */
static void store_close(lstore *s)
{
    vv_db_close(s->db);
    s->db = NULL;
    vv_buf_free(&s->enc);
    s->work = NULL;                     /* the collector frees it */
}

/* db:close(): close the store; safe to call again (also __close).  The
 * store's work area, when no call has it, is emptied at once. */
static int db_close(lua_State *L)
{
    lstore *s = (lstore *)vvl_isudata(L, 1, VVL_UV_STORE);
    if (s == NULL) return vvc_typeerror(L, 1, "store");
    if (s->work) work_clear(s->work);
    store_close(s);
    return 0;
}

/* __gc of a store: its work areas go with it (their own __gc). */
static int db_gc(lua_State *L)
{
    lstore *s = (lstore *)vvl_isudata(L, 1, VVL_UV_STORE);
    if (s != NULL) store_close(s);
    return 0;
}

/* The store's actor or node name, copied: pushing it may run a finalizer
 * that closes the store (and frees the name) before the push copies it.
 * Raises for a closed store. */
static const char *db_name(lua_State *L, lstore *s, int actor, char *buf,
                           size_t n)
{
    vvl_still_open(L, s);
    snprintf(buf, n, "%s", actor ? vv_db_actor(s->db) : vv_db_node(s->db));
    return buf;
}

/* tostring(db) -> "vv.store (actor)" or "vv.store (closed)". */
static int db_tostring(lua_State *L)
{
    lstore *s = (lstore *)vvl_isudata(L, 1, VVL_UV_STORE);
    char a[VV_NODE_MAX + 32];
    if (s == NULL) return vvc_typeerror(L, 1, "store");
    if (s->db == NULL)
        lua_pushliteral(L, "vv.store (closed)");
    else
        lua_pushfstring(L, "vv.store (%s)", db_name(L, s, 1, a, sizeof a));
    return 1;
}

/* db:node(), db:actor() -> this store's node name and actor. */
static int db_node(lua_State *L)
{
    char a[VV_NODE_MAX + 32];
    lua_pushstring(L, db_name(L, vvl_checkstore(L), 0, a, sizeof a));
    return 1;
}

static int db_actor(lua_State *L)
{
    char a[VV_NODE_MAX + 32];
    lua_pushstring(L, db_name(L, vvl_checkstore(L), 1, a, sizeof a));
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

/* Push the recorded configuration of keyspace ks as a table, or nil.
 * Its strings belong to the store, which a finalizer run by any push may
 * close: they are copied into a box first. */
static int push_ksconfig(lua_State *L, lstore *s, const char *ks)
{
    vv_ks_config c;
    box *x = vvl_newbox(L, BOX_BUF);
    const char *r, *codec;
    size_t rlen;
    vvl_still_open(L, s);
    if (vv_keyspace_config(s->db, ks, &c) != VV_OK) {
        lua_pushnil(L);
        return 1;
    }
    r = c.script ? c.script : c.resolver_name ? c.resolver_name : "siblings";
    codec = c.codec ? c.codec : "msgpack";
    rlen = strlen(r) + 1;
    vv_buf_add(&x->b, r, rlen);
    vv_buf_add(&x->b, codec, strlen(codec) + 1);
    if (x->b.oom) return luaL_error(L, "keyspace: not enough memory");
    r = (const char *)x->b.p;
    codec = r + rlen;
    lua_createtable(L, 0, 8);
    vvl_ks_local(L, 1, ks);
    if (vvl_has_fn(L, lua_gettop(L)))
        lua_getfield(L, -1, "fn");
    else
        lua_pushstring(L, r);
    lua_setfield(L, -3, "resolver");
    lua_pop(L, 1);
    lua_pushstring(L, codec);
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
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
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
    if (rc) return vvl_db_fail(L, s, "keyspace", rc);

    vvc_getuservalue(L, 1);                             /* 6 */
    if (fn || cfg.writeback) {
        lua_createtable(L, 0, 4);
        if (fn) {
            lua_pushvalue(L, 5);
            lua_setfield(L, -2, "fn");
        }
        lua_pushboolean(L, cfg.writeback);
        lua_setfield(L, -2, "wb");
        lua_pushstring(L, ks);                  /* for vvl_has_fn */
        lua_setfield(L, -2, "ks");
        lua_pushlightuserdata(L, s);            /* lives as long as s */
        lua_setfield(L, -2, "store");
    } else {
        lua_pushnil(L);
    }
    lua_setfield(L, 6, ks);
    return push_ksconfig(L, s, ks);
}

/* db:batch(fn, ...) -> fn's results; fn's writes commit together, or
 * none of them stays when fn raises (the error goes on).  A batch inside
 * a batch joins the outer one. */
static int db_batch(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    int rc, base;
    luaL_checktype(L, 2, LUA_TFUNCTION);
    base = 1;                           /* results start after the store */
    if (s->batch > 0) {
        lua_call(L, lua_gettop(L) - 2, LUA_MULTRET);
        return lua_gettop(L) - base;
    }
    if ((rc = vv_begin(s->db))) return vvl_db_fail(L, s, "batch", rc);
    s->batch = 1;
    rc = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
    s->batch = 0;
    if (rc != 0) {
        if (s->db) vv_abort(s->db);
        return lua_error(L);
    }
    if (s->db == NULL)
        return luaL_error(L, "batch: the store was closed inside the batch");
    if ((rc = vv_commit(s->db))) return vvl_db_fail(L, s, "batch", rc);
    return lua_gettop(L) - base;
}

/* ---- registration ---------------------------------------------------- */

/* Store methods of this file. */
const luaL_Reg vvl_store_meth[] = {
    {"keyspace", db_keyspace},
    {"batch", db_batch},
    {"node", db_node},
    {"actor", db_actor},
    {"close", db_close},
    {NULL, NULL}
};

const luaL_Reg vvl_store_metameth[] = {
    {"__index", NULL},              /* placeholder */
    {"__tostring", db_tostring},
    {"__gc", db_gc},
    {"__close", db_close},
    {NULL, NULL}
};


/* vv.open. */
const luaL_Reg vvl_store_lib[] = {
    {"open", db_open},
    {NULL, NULL}
};
