/* resolver_call.c - one resolution: siblings in, the merged value out. */
/*
 * A call decodes the siblings once into records, runs the chunk afresh
 * (its _ENV reset, so nothing a call leaves in locals, upvalues or tables
 * reaches the next one) under the budgets, calls the resolve function it
 * gives with (siblings, key), checks that the result is plain data within
 * the memory budget and encodes it.  A failure becomes one message:
 * "resolver for keyspace 'ks' (path): cause".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "resolver_int.h"

#define RS_NEST_MAX   64        /* deepest table a result may hold */
#define RS_MSG_MAX    1500      /* longest error text kept */

/* The sibling field names, kept as strings in the table at stack index
 * RS_NAMES during a call (no re-interning per field). */
#define RS_NAMES        2
#define RS_F_VALUE      1
#define RS_F_NODE       2
#define RS_F_ACTOR      3
#define RS_F_COUNTER    4
#define RS_F_TIMESTAMP  5
static const char *const rs_fields[] = {
    "value", "node", "actor", "counter", "timestamp", NULL
};

/* One resolution in progress (rs_call's argument). */
typedef struct rs_ctx {
    vvl_resolver *r;
    const void *key;
    size_t klen;
    const vv_sibling *sibs;
    size_t n;
    vv_buf out;                 /* the encoded result */
    char msg[256];              /* a failure found by C code */
} rs_ctx;

/* ---- the chunk and its resolve function ---------------------------------- */

/* Push the chunk with a fresh _ENV (a script may assign to _ENV). */
static void rs_pushchunk(lua_State *L, vvl_resolver *r)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->chunk_ref);
#if LUA_VERSION_NUM >= 502
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->env_ref);
    lua_setupvalue(L, -2, 1);
#endif
}

/* Run the chunk (budgets armed) and leave the resolve function on top;
 * on a bad return, describe it in msg[0..size) and return 0. */
static int rs_getresolve(lua_State *L, vvl_resolver *r, char *msg,
                         size_t size)
{
    rs_pushchunk(L, r);
    lua_call(L, 0, 1);
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "resolve");
        lua_remove(L, -2);
    }
    if (lua_type(L, -1) != LUA_TFUNCTION) {
        snprintf(msg, size, "the script must return a function or a "
                 "table with a 'resolve' function (it returned a %s)",
                 luaL_typename(L, -1));
        return 0;
    }
    return 1;
}

/* Protected: check at load time that the chunk gives a resolve function
 * (argument: the rs_ctx; only r and msg are used). */
static int rs_probe(lua_State *L)
{
    rs_ctx *c = (rs_ctx *)lua_touserdata(L, 1);
    vvl_resolver *r = c->r;
    lua_settop(L, 0);
    vvl_rs_arm(r);
    rs_getresolve(L, r, c->msg, sizeof c->msg);
    vvl_rs_disarm(r);
    return 0;
}

/* ---- the siblings -------------------------------------------------------- */

/* t[name f] = v, for the record t below the value v on top. */
static void rs_setname(lua_State *L, int f)
{
    vvc_rawgeti(L, RS_NAMES, f);
    lua_insert(L, -2);
    lua_rawset(L, -3);
}

/* Push one sibling record {value, node, actor, counter, timestamp}; 0 and
 * c->msg when its value does not decode. */
static int rs_pushsibling(lua_State *L, rs_ctx *c, const vv_sibling *s,
                          size_t i)
{
    char err[160];
    lua_createtable(L, 0, 5);
    if (vvl_decode(L, s->value, s->len, c->r->codec, err, sizeof err)
        != VV_OK) {
        snprintf(c->msg, sizeof c->msg, "sibling %zu does not decode: %s",
                 i + 1, err);
        return 0;
    }
    rs_setname(L, RS_F_VALUE);
    lua_pushlstring(L, s->actor, s->node_len);
    rs_setname(L, RS_F_NODE);
    lua_pushlstring(L, s->actor, s->actor_len);
    rs_setname(L, RS_F_ACTOR);
    vvc_pushuint64(L, s->counter);
    rs_setname(L, RS_F_COUNTER);
    vvc_pushuint64(L, s->timestamp);
    rs_setname(L, RS_F_TIMESTAMP);
    return 1;
}

/* ---- the result ---------------------------------------------------------- */

/* Set c->msg to "the script returned <what>" and return -1. */
static int rs_bad(rs_ctx *c, const char *what, const char *detail)
{
    snprintf(c->msg, sizeof c->msg, "unsupported return value: %s%s",
             what, detail);
    return -1;
}

/* Check the value at idx can be stored: plain data (nil, booleans,
 * numbers, strings, tables without metatables), no cycle, nesting at
 * most RS_NEST_MAX, and a size estimate within the memory budget.  seen
 * maps each table visited to its size (false while inside it), so shared
 * subtables cost one visit.  Returns 0 or -1 with c->msg. */
static int rs_walk(lua_State *L, rs_ctx *c, int idx, int seen, int depth,
                   uint64_t *size)
{
    uint64_t mine = 5;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
    case LUA_TBOOLEAN: *size += 1; return 0;
    case LUA_TNUMBER: *size += 9; return 0;
    case LUA_TSTRING: *size += 5 + vvc_rawlen(L, idx); return 0;
    case LUA_TTABLE: break;
    default: return rs_bad(c, "a ", luaL_typename(L, idx));
    }
    if (depth >= RS_NEST_MAX)
        return rs_bad(c, "tables nested deeper than 64", "");
    luaL_checkstack(L, 6, "result too deep");
    if (lua_getmetatable(L, idx))
        return rs_bad(c, "a table with a metatable", " (only plain data "
                      "can be stored)");
    lua_pushvalue(L, idx);
    lua_rawget(L, seen);
    if (lua_type(L, -1) == LUA_TBOOLEAN) return rs_bad(c, "a cyclic table", "");
    if (lua_type(L, -1) == LUA_TNUMBER) {
        *size += (uint64_t)lua_tonumber(L, -1);
        lua_pop(L, 1);
        goto sized;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 0);
    lua_rawset(L, seen);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int top = lua_gettop(L);
        if (rs_walk(L, c, top - 1, seen, depth + 1, &mine) ||
            rs_walk(L, c, top, seen, depth + 1, &mine))
            return -1;
        lua_pop(L, 1);
        if (mine > c->r->max_mem) break;
    }
    lua_pushvalue(L, idx);
    lua_pushnumber(L, (lua_Number)mine);
    lua_rawset(L, seen);
    *size += mine;
sized:
    if (*size > c->r->max_mem)
        return rs_bad(c, "a value larger than the memory budget", "");
    return 0;
}

/* The common case first: is the value at idx a scalar, or a table
 * without metatable holding only scalars, within the size limit?  Then
 * it needs no visited-set walk. */
static int rs_flat(lua_State *L, rs_ctx *c, int idx)
{
    uint64_t size = 5;
    int t = lua_type(L, idx);
    if (t == LUA_TBOOLEAN || t == LUA_TNUMBER) return 1;
    if (t == LUA_TSTRING) return vvc_rawlen(L, idx) < c->r->max_mem;
    if (t != LUA_TTABLE || lua_getmetatable(L, idx)) return 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int i;
        for (i = -2; i <= -1; i++) {
            t = lua_type(L, i);
            if (t == LUA_TSTRING) size += 5 + vvc_rawlen(L, i);
            else if (t == LUA_TBOOLEAN || t == LUA_TNUMBER) size += 9;
            else {
                lua_pop(L, 2);
                return 0;
            }
        }
        lua_pop(L, 1);
    }
    return size <= c->r->max_mem;
}

/* ---- the call ------------------------------------------------------------ */

/* Protected: decode the siblings, run the script under its budgets,
 * check and encode what it returned into c->out. */
static int rs_call(lua_State *L)
{
    rs_ctx *c = (rs_ctx *)lua_touserdata(L, 1);
    vvl_resolver *r = c->r;
    uint64_t size = 0;
    size_t i;
    int rc;
    lua_settop(L, 0);
    luaL_checkstack(L, 16, NULL);
    lua_createtable(L, c->n < INT32_MAX ? (int)c->n : 0, 0); /* 1 */
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->names_ref);        /* RS_NAMES */
    for (i = 0; i < c->n; i++) {
        if (!rs_pushsibling(L, c, &c->sibs[i], i)) return 0;
        vvc_rawseti(L, 1, i + 1);
    }
    lua_pop(L, 1);
    lua_pushlstring(L, (const char *)c->key, c->klen);     /* 2 */
    vvl_rs_arm(r);
    if (!rs_getresolve(L, r, c->msg, sizeof c->msg)) return 0; /* 3 */
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);                                      /* 3 */
    vvl_rs_disarm(r);
    if (lua_isnil(L, 3)) {
        snprintf(c->msg, sizeof c->msg, "the script returned nil (a "
                 "resolver returns the merged value)");
        return 0;
    }
    if (!rs_flat(L, c, 3)) {
        lua_newtable(L);                                    /* 4: seen */
        if (rs_walk(L, c, 3, 4, 0, &size)) return 0;
        lua_settop(L, 3);
    }
    rc = vvl_encode(L, 3, r->codec, &c->out, c->msg, sizeof c->msg);
    if (rc == VV_OK && c->out.oom) rc = VV_ENOMEM;
    if (rc != VV_OK && c->msg[0] == 0)
        snprintf(c->msg, sizeof c->msg, "%s", vv_strerror(rc));
    return 0;
}

/* The message handler of a call: a traceback for script errors; for a
 * spent budget, only where it happened. */
static int rs_msgh(lua_State *L)
{
    vvl_resolver *r = vvl_rs_self(L);
    size_t saved = r->mem_limit;
    const char *msg;
    r->mem_limit = SIZE_MAX;            /* a traceback needs a little */
    if (r->tripped) {
        int level;
        for (level = 1; level < 4 && r->where[0] == 0; level++) {
            const char *w;
            luaL_where(L, level);
            w = lua_tostring(L, -1);
            if (w && *w) snprintf(r->where, sizeof r->where, "%s", w);
            lua_pop(L, 1);
        }
        r->mem_limit = saved;
        return 1;
    }
    msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)",
                              luaL_typename(L, 1));
#if LUA_VERSION_NUM >= 502 || defined(LUA_JITLIBNAME)
    luaL_traceback(L, L, msg, 1);
#else
    lua_pushstring(L, msg);
#endif
    r->mem_limit = saved;
    return 1;
}

/* Keep in the registry what every call needs: the error value of a spent
 * budget, the message handler, rs_call and the sibling field names.  Runs
 * protected (it may raise a memory error). */
void vvl_rs_prepare(lua_State *L, vvl_resolver *r)
{
    int i;
    lua_pushliteral(L, "instruction budget exceeded");
    r->stop_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushcfunction(L, rs_msgh);
    r->msgh_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushcfunction(L, rs_call);
    r->call_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    for (i = 0; rs_fields[i]; i++) {
        lua_pushstring(L, rs_fields[i]);
        vvc_rawseti(L, -2, i + 1);
    }
    r->names_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Run the chunk once under the budgets (at load time) and check that it
 * gives a resolve function.  Returns the pcall status; a bad return is
 * described in msg[0..size) (empty otherwise). */
int vvl_rs_probe(vvl_resolver *r, char *msg, size_t size)
{
    rs_ctx c;
    int st;
    memset(&c, 0, sizeof c);
    c.r = r;
    lua_rawgeti(r->L, LUA_REGISTRYINDEX, r->msgh_ref);
    lua_pushcfunction(r->L, rs_probe);
    lua_pushlightuserdata(r->L, &c);
    st = lua_pcall(r->L, 1, 0, 1);
    vvl_rs_disarm(r);
    snprintf(msg, size, "%s", c.msg);
    return st;
}

/* ---- messages ------------------------------------------------------------ */

/* A malloc'd "resolver for keyspace 'ks' (path): text"; NULL when out of
 * memory. */
char *vvl_rs_errtext(const char *ks, const char *path, const char *text)
{
    size_t n = strlen(ks) + strlen(path) + strlen(text) + 40;
    char *m = (char *)malloc(n);
    if (m)
        snprintf(m, n, "resolver for keyspace '%s' (%s): %s", ks, path,
                 text);
    return m;
}

/* Make the malloc'd message of a failed call or load:
 * "resolver for keyspace 'ks' (path): cause". */
char *vvl_rs_message(vvl_resolver *r, int st, const char *msg)
{
    char cause[RS_MSG_MAX + 160];
    const char *text;
    if (r->tripped) {
        size_t wl = strlen(r->where);
        while (wl > 0 && (r->where[wl - 1] == ' ' || r->where[wl - 1] == ':'))
            wl--;                       /* "x.lua:3: " -> "x.lua:3" */
        snprintf(cause, sizeof cause, "instruction budget exceeded (%llu "
                 "instructions)%s%.*s",
                 (unsigned long long)r->max_steps, wl ? " at " : "",
                 (int)wl, r->where);
    } else if ((st == LUA_ERRMEM || r->oom) && r->refused) {
        snprintf(cause, sizeof cause, "memory budget exceeded (%zu bytes)",
                 r->max_mem);
    } else if (st == LUA_ERRMEM || r->oom) {
        snprintf(cause, sizeof cause, "out of memory");
    } else if (st != LUA_OK) {
        static const char host[] = "\n\t[C]: in ?";  /* rs_call's frame */
        size_t cl;
        text = lua_tostring(r->L, -1);
        snprintf(cause, sizeof cause, "%.*s", RS_MSG_MAX,
                 text ? text : "error");
        cl = strlen(cause);
        while (cl >= sizeof host - 1 &&
               strcmp(cause + cl - (sizeof host - 1), host) == 0)
            cause[cl -= sizeof host - 1] = 0;
    } else {
        snprintf(cause, sizeof cause, "%s", msg);
    }
    return vvl_rs_errtext(r->ks, r->path, cause);
}

/* ---- the vv_resolve_fn (lua/sandbox/resolver.h) ---------------------------------- */

/* Resolve the n siblings of key with the script: the encoded result in
 * *out (malloc'd), or VV_ERESOLVER and a message in *err. */
int vvl_resolve(void *ud, const char *ks, const void *key, size_t klen,
                const vv_sibling *sibs, size_t n, void **out,
                size_t *out_len, char **err)
{
    vvl_resolver *r = (vvl_resolver *)ud;
    lua_State *L;
    rs_ctx c;
    int st;
    (void)ks;
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (err) *err = NULL;
    if (!r || !out || !out_len || (n > 0 && !sibs)) return VV_EINVAL;
    L = r->L;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.key = key ? key : "";
    c.klen = key ? klen : 0;
    c.sibs = sibs;
    c.n = n;
    vv_buf_init(&c.out);
    r->tripped = r->oom = r->refused = 0;
    r->mem_limit = SIZE_MAX;
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->msgh_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->call_ref);
    lua_pushlightuserdata(L, &c);
    st = lua_pcall(L, 1, 0, 1);
    vvl_rs_disarm(r);
    if (st == LUA_OK && c.msg[0] == 0) {
        lua_settop(L, 0);
        if (c.out.p == NULL) {                  /* never hand out NULL */
            c.out.p = (unsigned char *)malloc(1);
            if (!c.out.p) return VV_ENOMEM;
        }
        *out = c.out.p;
        *out_len = c.out.len;
        return VV_OK;
    }
    vv_buf_free(&c.out);
    if (err) *err = vvl_rs_message(r, st, c.msg);
    lua_settop(L, 0);
    if (st != LUA_OK) lua_gc(L, LUA_GCCOLLECT, 0);  /* drop a bomb now */
    return VV_ERESOLVER;
}
