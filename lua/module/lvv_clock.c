/* lvv_clock.c - vv.clock: vector clocks in Lua. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lvv.h"

/* ==== clocks ========================================================= */

/* Push a new empty clock userdata with room for room entries inside it
 * (its last member), and extra bytes after that.  The clock lives inside
 * it, so making one allocates nothing but the userdata. */
static lclock *newclock(lua_State *L, size_t room, size_t extra)
{
    lclock *p = (lclock *)vvc_newudata(L, offsetof(lclock, c) +
                                          VV_CLOCK_SIZE(room) + extra);
    p->live = 1;
    p->gc = 0;
    p->room = (unsigned)room;
    p->extra = extra;
    lua_pushvalue(L, VVL_UV(VVL_UV_CLOCK0));   /* no heap yet: no __gc */
    lua_setmetatable(L, -2);
    return p;
}

lclock *vvl_newclock_extra(lua_State *L, size_t extra)
{
    lclock *p = newclock(L, VV_CLOCK_INLINE, extra);
    vv_clock_init(&p->c);
    return p;
}

lclock *vvl_newclock_room(lua_State *L, size_t room, size_t extra)
{
    lclock *p = newclock(L, room, extra);
    vv_clock none;
    vv_clock_init(&none);
    vv_clock_take_room(&p->c, room, &none);     /* empty, of that room */
    return p;
}

/* The entries move, they are not copied: the heap array of a clock that
 * outgrew its room goes along as it is (lvv.h). */
lclock *vvl_clock_push(lua_State *L, vv_clock *t, size_t extra,
                       vv_clock *park)
{
    lclock *p;
    size_t room;
    int heap = park != NULL && vv_clock_heap(t);
    if (heap) {                                 /* a raise loses nothing */
        vv_clock_clear(park);                   /* a lost call's leftover */
        vv_clock_take(park, t);
        t = park;
    }
    room = vv_clock_room(t);
    p = newclock(L, room, extra);
    vv_clock_take_room(&p->c, room, t);         /* t: empty */
    if (heap) vvl_clock_settle(L, -1, p);
    return p;
}

lclock *vvl_toclock(lua_State *L, int i)
{
    void *p = lua_touserdata(L, i);
    int ok;
    if (p == NULL || !lua_getmetatable(L, i)) return NULL;
    ok = lua_rawequal(L, -1, VVL_UV(VVL_UV_CLOCK0)) ||
         lua_rawequal(L, -1, VVL_UV(VVL_UV_CLOCK));
    lua_pop(L, 1);
    return ok ? (lclock *)p : NULL;
}

void vvl_clock_settle(lua_State *L, int i, lclock *p)
{
    if (p->gc || !vv_clock_heap(&p->c)) return;
    i = vvc_absindex(L, i);
    lua_pushvalue(L, VVL_UV(VVL_UV_CLOCK));
    lua_setmetatable(L, i);
    p->gc = 1;
}

lclock *vvl_newclock(lua_State *L)
{
    return vvl_newclock_extra(L, 0);
}

/* Give the new clock p (on top) what the heap clock t holds (t is
 * freed). */
static void clock_adopt(lua_State *L, lclock *p, vv_clock *t)
{
    if (!t) return;
    vv_clock_move(&p->c, t);
    vvl_clock_settle(L, -1, p);
}

/* The clock at argument i, or a "clock expected" argument error. */
vv_clock *vvl_checkclock(lua_State *L, int i)
{
    lclock *p = vvl_toclock(L, i);
    if (p == NULL || !p->live) {
        vvc_typeerror(L, i, "clock");
        return NULL;                    /* not reached */
    }
    return &p->c;
}

/* The clock at argument i, NULL when nil or absent. */
vv_clock *vvl_optclock(lua_State *L, int i)
{
    return lua_isnoneornil(L, i) ? NULL : vvl_checkclock(L, i);
}

/* A string argument without coercion from numbers. */
const char *vvl_checkstr(lua_State *L, int i, size_t *len)
{
    if (lua_type(L, i) != LUA_TSTRING) vvc_typeerror(L, i, "string");
    return lua_tolstring(L, i, len);
}

/* Raise for a failed clock call. */
int vvl_clock_fail(lua_State *L, const char *fn, int rc, const char *node)
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

/* Fill the empty clock p (at index ci) from the table at t: string node
 * -> counter. */
static void clock_fromtable(lua_State *L, int t, int ci, lclock *p)
{
    vv_clock *c = &p->c;
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
        rc = vv_clock_set(c, node, len, n);
        vvl_clock_settle(L, ci, p);     /* before anything can raise */
        if (rc) vvl_clock_fail(L, "clock", rc, node);
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
        vvl_newclock(L);
        return 1;
    case LUA_TTABLE:
        p = vvl_newclock(L);
        clock_fromtable(L, 1, lua_gettop(L), p);
        return 1;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, 1, &len);
        vv_clock *t = NULL;
        p = vvl_newclock(L);
        rc = vv_clock_parse(s, len, &t);
        clock_adopt(L, p, t);
        if (rc == VV_EOVERFLOW)
            return clock_textfail(L, "counter overflows (2^64 or more) in",
                                  s, len);
        if (rc == VV_EINVAL)
            return clock_textfail(L, "malformed clock text (expected like "
                                  "{a:1, b:2})", s, len);
        if (rc) return vvl_clock_fail(L, "clock", rc, "");
        return 1;
    }
    default:
        if (vvl_toclock(L, 1)) {
            vv_clock *c = vvl_checkclock(L, 1), *t = NULL;
            p = vvl_newclock(L);
            rc = vv_clock_copy(c, &t);
            if (rc) return vvl_clock_fail(L, "clock", rc, "");
            clock_adopt(L, p, t);
            return 1;
        }
        return vvc_typeerror(L, 1, "table, string or clock");
    }
}

/* c:get(node) -> counter (0 when absent). */
static int clock_get(lua_State *L)
{
    vv_clock *c = vvl_checkclock(L, 1);
    size_t len;
    const char *node = vvl_checkstr(L, 2, &len);
    vvc_pushuint64(L, vv_clock_get(c, node, len));
    return 1;
}

/* c:tick(node) -> c, node's counter incremented. */
static int clock_tick(lua_State *L)
{
    vv_clock *c = vvl_checkclock(L, 1);
    size_t len;
    const char *node = vvl_checkstr(L, 2, &len);
    int rc = vv_clock_tick(c, node, len);
    vvl_clock_settle(L, 1, vvl_toclock(L, 1));
    if (rc) return vvl_clock_fail(L, "tick", rc, node);
    lua_settop(L, 1);
    return 1;
}

/* c:set(node, n) -> c, node's counter set to n (0 removes it). */
static int clock_set(lua_State *L)
{
    vv_clock *c = vvl_checkclock(L, 1);
    size_t len;
    const char *node = vvl_checkstr(L, 2, &len);
    uint64_t n = 0;
    int rc = vvc_touint64(L, 3, &n);
    if (rc == -2)
        return luaL_argerror(L, 3, "counter overflows (2^64 or more)");
    if (rc) return luaL_argerror(L, 3, "non-negative integer expected");
    rc = vv_clock_set(c, node, len, n);
    vvl_clock_settle(L, 1, vvl_toclock(L, 1));
    if (rc) return vvl_clock_fail(L, "set", rc, node);
    lua_settop(L, 1);
    return 1;
}

/* c:merge(other) -> c, the pointwise maximum of both. */
static int clock_merge(lua_State *L)
{
    vv_clock *c = vvl_checkclock(L, 1);
    vv_clock *o = vvl_checkclock(L, 2);
    int rc = vv_clock_merge(c, o);
    vvl_clock_settle(L, 1, vvl_toclock(L, 1));
    if (rc) return vvl_clock_fail(L, "merge", rc, "");
    lua_settop(L, 1);
    return 1;
}

/* c:copy() -> an independent clock equal to c. */
static int clock_copy(lua_State *L)
{
    vv_clock *c = vvl_checkclock(L, 1), *t = NULL;
    lclock *p = vvl_newclock(L);
    int rc = vv_clock_copy(c, &t);
    if (rc) return vvl_clock_fail(L, "copy", rc, "");
    clock_adopt(L, p, t);
    return 1;
}

/* c:totable() -> {node = counter, ...}. */
static int clock_totable(lua_State *L)
{
    vv_clock *c = vvl_checkclock(L, 1);
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
    vv_clock *c = vvl_checkclock(L, 1);
    vvc_pushuint64(L, (uint64_t)vv_clock_size(c));
    return 1;
}

/* c:encode() -> compact binary string (a format byte, then varints). */
static int clock_encode(lua_State *L)
{
    vv_clock *c = vvl_checkclock(L, 1);
    box *x = vvl_newbox(L, BOX_MEM);
    size_t len = 0;
    int rc = vv_clock_encode(c, &x->p, &len);
    if (rc) return vvl_clock_fail(L, "encode", rc, "");
    return vvl_push_mem(L, x, len);
}

/* vv.decode_clock(bin) -> the clock c:encode() gave. */
static int clock_decode(lua_State *L)
{
    size_t len;
    const char *s = vvl_checkstr(L, 1, &len);
    lclock *p = vvl_newclock(L);
    vv_clock *t = NULL;
    int rc = vv_clock_decode(s, len, &t);
    clock_adopt(L, p, t);
    if (rc == VV_ECORRUPT)
        return luaL_error(L, "decode_clock: corrupt or truncated clock "
                          "encoding (%d bytes)", (int)len);
    if (rc == VV_EVERSION)
        return luaL_error(L, "decode_clock: unsupported clock format "
                          "version %d", len ? (unsigned char)s[0] : -1);
    if (rc) return vvl_clock_fail(L, "decode_clock", rc, "");
    return 1;
}

/* tostring(c) -> "{a:1, b:2}". */
static int clock_tostring(lua_State *L)
{
    lclock *p = vvl_toclock(L, 1);
    box *x;
    size_t len = 0;
    int rc;
    if (p == NULL) return vvc_typeerror(L, 1, "clock");
    if (!p->live) {
        lua_pushliteral(L, "vv.clock (collected)");
        return 1;
    }
    x = vvl_newbox(L, BOX_MEM);
    rc = vv_clock_format(&p->c, (char **)&x->p, &len);
    if (rc) return vvl_clock_fail(L, "tostring", rc, "");
    return vvl_push_mem(L, x, len);
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
    vv_clock *a = vvl_checkclock(L, 1);
    vv_clock *b = vvl_checkclock(L, 2);
    pushorder(L, vv_clock_compare(a, b));
    return 1;
}

/* a == b: the same counters (a non-clock is never equal). */
static int clock_eq(lua_State *L)
{
    lclock *a = vvl_toclock(L, 1);
    lclock *b = vvl_toclock(L, 2);
    lua_pushboolean(L, a && b && a->live && b->live &&
                       vv_clock_compare(&a->c, &b->c) == VV_EQUAL);
    return 1;
}

/* a < b: a happened strictly before b. */
static int clock_lt(lua_State *L)
{
    vv_clock *a = vvl_checkclock(L, 1);
    vv_clock *b = vvl_checkclock(L, 2);
    lua_pushboolean(L, vv_clock_compare(a, b) == VV_BEFORE);
    return 1;
}

/* a <= b: before or equal (concurrent clocks are false both ways). */
static int clock_le(lua_State *L)
{
    vv_clock *a = vvl_checkclock(L, 1);
    vv_clock *b = vvl_checkclock(L, 2);
    int o = vv_clock_compare(a, b);
    lua_pushboolean(L, o == VV_BEFORE || o == VV_EQUAL);
    return 1;
}

/* __gc and __close: free the clock once. */
int vvl_clock_gc(lua_State *L)
{
    lclock *p = vvl_toclock(L, 1);
    if (p == NULL) return vvc_typeerror(L, 1, "clock");
    if (p->live) vv_clock_clear(&p->c);
    p->live = 0;
    return 0;
}

/* ---- registration ---------------------------------------------------- */

const luaL_Reg vvl_clock_meth[] = {
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

const luaL_Reg vvl_clock_metameth[] = {
    {"__index", NULL},              /* placeholder */
    {"__tostring", clock_tostring},
    {"__eq", clock_eq},
    {"__lt", clock_lt},
    {"__le", clock_le},
    {"__len", clock_size},
    {"__close", vvl_clock_gc},
    {NULL, NULL}
};


/* vv.clock, vv.decode_clock, vv.compare. */
const luaL_Reg vvl_clock_lib[] = {
    {"clock", clock_new},
    {"decode_clock", clock_decode},
    {"compare", clock_compare},
    {NULL, NULL}
};
