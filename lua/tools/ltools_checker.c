/* ltools_checker.c - the resolver checker's sandboxes: T.load, T.resolve,
 * T.exact, T.limits. */

/* Each loaded script is a "vv.checker" userdata around a vvl_resolver: a
 * sandbox as a keyspace would run it.  C memory held while Lua may raise
 * lives in a "vv.toolsbuf" userdata, so an error never leaks it. */

#include <stdlib.h>
#include <string.h>
#include "lua.h"
#include "lauxlib.h"
#include "vv.h"
#include "vv_bind.h"
#include "common/compat.h"
#include "sandbox/resolver.h"
#include "ltools_int.h"

#define TBUF    "vv.toolsbuf"
#define CHECKER "vv.checker"

/* ---- buffers owned by the Lua GC -------------------------------------- */

/* Push a new, empty buffer userdata. */
static vv_buf *tl_newbuf(lua_State *L)
{
    vv_buf *b = (vv_buf *)lua_newuserdata(L, sizeof *b);
    vv_buf_init(b);
    vvc_setmetatable(L, TBUF);
    return b;
}

/* __gc of a buffer; safe twice. */
static int tl_buf_gc(lua_State *L)
{
    vv_buf *b = (vv_buf *)luaL_checkudata(L, 1, TBUF);
    vv_buf_free(b);
    return 0;
}

/* ---- the resolver checker's sandboxes -------------------------------- */

/* A "vv.checker" userdata: a loaded script and the budgets it runs under. */
typedef struct tl_checker {
    vvl_resolver *r;            /* NULL once collected */
    uint64_t instructions, memory;
} tl_checker;

/* The loaded resolver at argument i. */
static tl_checker *tl_tochecker(lua_State *L, int i)
{
    tl_checker *c = (tl_checker *)luaL_checkudata(L, i, CHECKER);
    if (c->r == NULL) luaL_error(L, "the resolver was freed");
    return c;
}

/* __gc of a loaded resolver; safe twice. */
static int tl_checker_gc(lua_State *L)
{
    tl_checker *c = (tl_checker *)luaL_checkudata(L, 1, CHECKER);
    vvl_resolver_free(c->r);
    c->r = NULL;
    return 0;
}

/* An optional whole-number argument >= 0 (0 when absent). */
static uint64_t tl_optu64(lua_State *L, int i)
{
    uint64_t v = 0;
    if (!lua_isnoneornil(L, i) && vvc_touint64(L, i, &v) != 0)
        luaL_argerror(L, i, "non-negative whole number expected");
    return v;
}

/* T.load(path, codec, instructions, memory) -> resolver, or nil, msg. */
static int tl_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    vv_ks_config cfg;
    tl_checker *c;
    char *err = NULL;
    int rc;
    memset(&cfg, 0, sizeof cfg);
    cfg.codec = luaL_optstring(L, 2, "msgpack");
    cfg.budget_instructions = tl_optu64(L, 3);
    cfg.budget_memory = tl_optu64(L, 4);
    c = (tl_checker *)lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    vvc_setmetatable(L, CHECKER);
    rc = vvl_resolver_load_file("check", path, &cfg, &c->r, &err);
    if (rc != VV_OK) {
        lua_pushnil(L);
        lua_pushstring(L, err ? err : vv_strerror(rc));
        free(err);
        return 2;
    }
    c->instructions = cfg.budget_instructions ? cfg.budget_instructions
                      : VVL_BUDGET_INSTRUCTIONS;
    c->memory = cfg.budget_memory ? cfg.budget_memory : VVL_BUDGET_MEMORY;
    return 1;
}

/* T.exact(r): count every instruction of r's calls. */
static int tl_exact(lua_State *L)
{
    vvl_resolver_exact(tl_tochecker(L, 1)->r);
    return 0;
}

/* T.limits(r) -> instruction budget, memory budget. */
static int tl_limits(lua_State *L)
{
    tl_checker *c = tl_tochecker(L, 1);
    vvc_pushuint64(L, c->instructions);
    vvc_pushuint64(L, c->memory);
    return 2;
}

/* Read field name of the table at t as a 64-bit whole number. */
static uint64_t tl_field_u64(lua_State *L, int t, const char *name)
{
    uint64_t v = 0;
    lua_getfield(L, t, name);
    if (vvc_touint64(L, -1, &v) != 0)
        luaL_error(L, "resolve: sibling field '%s' must be a whole number",
                   name);
    lua_pop(L, 1);
    return v;
}

/* T.resolve(r, siblings, key) -> ok, bytes or message, instructions,
 * memory.  Each sibling is {bytes=, actor=, counter=, timestamp=}, bytes
 * already encoded with the codec r was loaded with. */
static int tl_resolve(lua_State *L)
{
    tl_checker *c = tl_tochecker(L, 1);
    size_t n, i, klen, outlen = 0;
    const char *key;
    vv_sibling *sibs;
    vv_buf *ob, *eb;
    void *out = NULL;
    char *err = NULL;
    uint64_t steps = 0;
    size_t mem = 0;
    int rc;
    luaL_checktype(L, 2, LUA_TTABLE);
    key = luaL_checklstring(L, 3, &klen);
    lua_settop(L, 3);
    n = vvc_rawlen(L, 2);
    luaL_argcheck(L, n >= 1 && n <= 100000, 2, "1 to 100000 siblings");
    sibs = (vv_sibling *)lua_newuserdata(L, n * sizeof *sibs);   /* 4 */
    luaL_checkstack(L, 4, NULL);
    for (i = 0; i < n; i++) {
        vv_sibling *s = &sibs[i];
        size_t k;
        lua_rawgeti(L, 2, (int)i + 1);
        if (!lua_istable(L, -1))
            return luaL_error(L, "resolve: sibling %d is not a table",
                              (int)i + 1);
        lua_getfield(L, -1, "bytes");
        lua_getfield(L, -2, "actor");
        if (!lua_isstring(L, -2) || !lua_isstring(L, -1))
            return luaL_error(L, "resolve: sibling %d needs bytes and actor",
                              (int)i + 1);
        /* the strings stay referenced by the siblings table (argument 2) */
        s->value = lua_tolstring(L, -2, &s->len);
        s->actor = lua_tolstring(L, -1, &s->actor_len);
        s->node_len = s->actor_len;
        for (k = s->actor_len; k > 0; k--)
            if (s->actor[k - 1] == '.') { s->node_len = k - 1; break; }
        lua_pop(L, 2);
        s->counter = tl_field_u64(L, lua_gettop(L), "counter");
        s->timestamp = tl_field_u64(L, lua_gettop(L), "timestamp");
        lua_pop(L, 1);
    }
    ob = tl_newbuf(L);                  /* own the result and the message */
    eb = tl_newbuf(L);
    rc = vvl_resolve(c->r, "check", key, klen, sibs, n, &out, &outlen, &err);
    ob->p = (unsigned char *)out;
    ob->len = ob->cap = outlen;
    eb->p = (unsigned char *)err;
    vvl_resolver_usage(c->r, &steps, &mem);
    lua_pushboolean(L, rc == VV_OK);
    if (rc == VV_OK) lua_pushlstring(L, (const char *)out, outlen);
    else lua_pushstring(L, err ? err : vv_strerror(rc));
    vv_buf_free(ob);
    vv_buf_free(eb);
    vvc_pushuint64(L, steps);
    vvc_pushuint64(L, (uint64_t)mem);
    return 4;
}

/* The primitives of this file. */
static const luaL_Reg checker_prim[] = {
    {"load", tl_load},
    {"resolve", tl_resolve},
    {"exact", tl_exact},
    {"limits", tl_limits},
    {NULL, NULL}
};

/* Make the metatables, then add load, resolve, exact and limits to the
 * table on top. */
void vvl_tools_checker(lua_State *L)
{
    luaL_newmetatable(L, TBUF);
    lua_pushcfunction(L, tl_buf_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, CHECKER);
    lua_pushcfunction(L, tl_checker_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushstring(L, CHECKER);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    vvc_setfuncs(L, checker_prim, 0);
}
