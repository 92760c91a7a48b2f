/* pattern_lib.c - string.find, match, gmatch and gsub of the sandbox. */
/*
 * Stock string.find/match/gmatch/gsub run inside one C call that a count
 * hook cannot interrupt, and a backtracking pattern such as
 * ".-.-.-.-.-.-.-b" against a long subject runs for minutes there.  These
 * four take the same arguments and give the same results as Lua 5.4's on
 * every host (5.1, 5.3, 5.4, LuaJIT), through vv's own matcher
 * (pattern.c), which charges its steps to the sandbox's instruction
 * budget.  Each function has the meter as upvalue 1.
 */
#include <string.h>
#include "lauxlib.h"
#include "pattern.h"

/* The bytes that make a pattern more than its text (find's plain test). */
static const unsigned char plib_special[256] = {
    ['^'] = 1, ['$'] = 1, ['*'] = 1, ['+'] = 1, ['?'] = 1, ['.'] = 1,
    ['('] = 1, ['['] = 1, ['%'] = 1, ['-'] = 1,
};

/* The meter of the running function. */
static const pat_meter *plib_meter(lua_State *L)
{
    return (const pat_meter *)lua_touserdata(L, lua_upvalueindex(1));
}

/* A position (1-based; negative counts from the end) as an offset from
 * the start of a subject of ls bytes: 0 for 0 and for anything before
 * the start; ls + 1 or more means past the end. */
static size_t plib_offset(lua_Integer pos, size_t ls)
{
    if (pos > 0) return (size_t)pos - 1;
    if (pos == 0 || (size_t)-(pos + 1) >= ls) return 0;
    return ls - (size_t)-(pos + 1) - 1;
}

/* Does p[0..lp) have no byte that means something in a pattern? */
static int plib_literal(const char *p, size_t lp)
{
    size_t i;
    for (i = 0; i < lp; i++)
        if (plib_special[(unsigned char)p[i]]) return 0;
    return 1;
}

/* The first p[0..lp) in s[0..ls), or NULL: candidates by their first
 * byte, each compared whole; the bytes looked at charged through r. */
static const char *plib_plain(pat_run *r, const char *s, size_t ls,
                              const char *p, size_t lp)
{
    const char *end = s + ls, *c;
    if (lp == 0) return s;
    while (lp <= (size_t)(end - s) &&
           (c = memchr(s, p[0], (size_t)(end - s) - lp + 1)) != NULL) {
        pat_count(r, 1 + (uint64_t)(c - s) / 16 + lp / 32);
        if (memcmp(c + 1, p + 1, lp - 1) == 0) return c;
        s = c + 1;
    }
    pat_count(r, 1 + (uint64_t)(end - s) / 16);
    return NULL;
}

/* Push capture i of the match [s, e): its text, or its position for a
 * position capture; with no captures, i 0 is the whole match. */
static void plib_capture(pat_run *r, int i, const char *s, const char *e)
{
    lua_State *L = r->L;
    if (i >= r->prog->ncap) {
        if (i != 0) luaL_error(L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(L, s, (size_t)(e - s));
    } else if (r->cap[i].len == PAT_CAP_POS) {
        lua_pushinteger(L, (lua_Integer)(r->cap[i].at - r->s0) + 1);
    } else if (r->cap[i].len == PAT_CAP_OPEN) {
        luaL_error(L, "unfinished capture");
    } else {
        lua_pushlstring(L, r->cap[i].at, (size_t)r->cap[i].len);
    }
}

/* Push every capture of the match [s, e), or the whole match when the
 * pattern has none and s is not NULL; returns how many. */
static int plib_captures(pat_run *r, const char *s, const char *e)
{
    int i, n = r->prog->ncap == 0 && s != NULL ? 1 : r->prog->ncap;
    luaL_checkstack(r->L, n, "too many captures");
    for (i = 0; i < n; i++) plib_capture(r, i, s, e);
    return n;
}

/* string.find (find 1) and string.match (find 0). */
static int plib_search(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = plib_offset(luaL_optinteger(L, 3, 1), ls);
    const char *at, *e = NULL;
    int anchored;
    pat_space sp;
    pat_run r;
    if (init > ls) {
        lua_pushnil(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || plib_literal(p, lp))) {
        pat_start(&r, L, plib_meter(L), NULL, s, ls);
        at = plib_plain(&r, s + init, ls - init, p, lp);
        pat_flush(&r);
        if (at == NULL) {
            lua_pushnil(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(at - s) + 1);
        lua_pushinteger(L, (lua_Integer)(at - s + (ptrdiff_t)lp));
        return 2;
    }
    anchored = lp > 0 && p[0] == '^';
    pat_start(&r, L, plib_meter(L), NULL, s, ls);
    pat_compile(&r, &sp, p + anchored, lp - (size_t)anchored);
    at = pat_find(&r, s + init, anchored, NULL, &e);
    pat_flush(&r);
    if (at == NULL) {
        lua_pushnil(L);
        return 1;
    }
    if (!find) return plib_captures(&r, at, e);
    lua_pushinteger(L, (lua_Integer)(at - s) + 1);
    lua_pushinteger(L, (lua_Integer)(e - s));
    return 2 + plib_captures(&r, NULL, NULL);
}

static int plib_find(lua_State *L) { return plib_search(L, 1); }
static int plib_match(lua_State *L) { return plib_search(L, 0); }

/* Where a gmatch iterator is: offsets into its subject. */
typedef struct plib_iter {
    size_t pos;             /* where the next search starts */
    size_t last;            /* the end of the last match */
    int matched;            /* last is set */
} plib_iter;

/* A gmatch iterator; upvalues: meter, subject, program, plib_iter. */
static int plib_gmatch_next(lua_State *L)
{
    size_t ls;
    const char *s = lua_tolstring(L, lua_upvalueindex(2), &ls);
    pat_prog *g = (pat_prog *)lua_touserdata(L, lua_upvalueindex(3));
    plib_iter *it = (plib_iter *)lua_touserdata(L, lua_upvalueindex(4));
    const char *at, *e = NULL;
    pat_run r;
    if (it->pos > ls) return 0;
    pat_start(&r, L, plib_meter(L), g, s, ls);
    at = pat_find(&r, s + it->pos, 0, it->matched ? s + it->last : NULL,
                  &e);
    pat_flush(&r);
    if (at == NULL) {
        it->pos = ls + 1;
        return 0;
    }
    it->pos = it->last = (size_t)(e - s);
    it->matched = 1;
    return plib_captures(&r, at, e);
}

/* string.gmatch(s, pattern [, init]): a '^' is a byte like any other. */
static int plib_gmatch(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = plib_offset(luaL_optinteger(L, 3, 1), ls);
    plib_iter *it;
    pat_run r;
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));      /* meter */
    lua_pushvalue(L, 1);                        /* subject */
    pat_start(&r, L, plib_meter(L), NULL, s, ls);
    pat_compile(&r, NULL, p, lp);               /* program */
    pat_flush(&r);
    it = (plib_iter *)lua_newuserdata(L, sizeof *it);
    it->pos = init > ls ? ls + 1 : init;
    it->last = 0;
    it->matched = 0;
    lua_pushcclosure(L, plib_gmatch_next, 4);
    return 1;
}

/* Add the replacement text t[0..lt) for the match [s, e) to b: %0 is the
 * match, %1-%9 its captures, %% a '%'. */
static void plib_expand(pat_run *r, luaL_Buffer *b, const char *s,
                        const char *e, const char *t, size_t lt)
{
    const char *te = t + lt, *q;
    pat_count(r, 1 + lt / 16);
    while ((q = memchr(t, '%', (size_t)(te - t))) != NULL) {
        luaL_addlstring(b, t, (size_t)(q - t));
        t = q + 2;
        if (++q == te || (*q != '%' && (*q < '0' || *q > '9')))
            luaL_error(r->L, "invalid use of '%%' in replacement string");
        if (*q == '%') {
            luaL_addchar(b, '%');
        } else if (*q == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else {
            plib_capture(r, *q - '1', s, e);
            luaL_addvalue(b);           /* a position becomes its digits */
        }
    }
    luaL_addlstring(b, t, (size_t)(te - t));
}

/* Add the replacement of the match [s, e) to b: from the string (or
 * number) t[0..lt), or what the table or function at 3 gives, where nil
 * and false keep the match. */
static void plib_replace(pat_run *r, luaL_Buffer *b, const char *s,
                         const char *e, const char *t, size_t lt)
{
    lua_State *L = r->L;
    if (t != NULL) {
        plib_expand(r, b, s, e, t, lt);
        return;
    }
    if (lua_type(L, 3) == LUA_TFUNCTION) {
        int n;
        lua_pushvalue(L, 3);
        n = plib_captures(r, s, e);
        lua_call(L, n, 1);
    } else {
        plib_capture(r, 0, s, e);
        lua_gettable(L, 3);
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)",
                   luaL_typename(L, -1));
    } else {
        luaL_addvalue(b);
    }
}

/* string.gsub(s, pattern, repl [, n]). */
static int plib_gsub(lua_State *L)
{
    size_t ls, lp, lt = 0;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *src = s, *last = NULL, *at, *e = NULL, *t = NULL;
    int tr = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1), n = 0;
    int anchored = lp > 0 && p[0] == '^';
    pat_space sp;
    pat_run r;
    luaL_Buffer b;
    if (tr != LUA_TNUMBER && tr != LUA_TSTRING && tr != LUA_TFUNCTION &&
        tr != LUA_TTABLE)
        return luaL_argerror(L, 3, lua_pushfstring(L,
            "string/function/table expected, got %s", luaL_typename(L, 3)));
    if (tr == LUA_TNUMBER || tr == LUA_TSTRING)
        t = lua_tolstring(L, 3, &lt);
    pat_start(&r, L, plib_meter(L), NULL, s, ls);
    pat_compile(&r, &sp, p + anchored, lp - (size_t)anchored);
    luaL_buffinit(L, &b);
    while (n < max &&
           (at = pat_find(&r, src, anchored, last, &e)) != NULL) {
        n++;
        luaL_addlstring(&b, src, (size_t)(at - src));
        plib_replace(&r, &b, at, e, t, lt);
        src = last = e;
        if (anchored) break;
    }
    luaL_addlstring(&b, src, (size_t)(r.end - src));
    pat_count(&r, ls / 64);
    pat_flush(&r);
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

void vvl_open_match(lua_State *L, vvl_charge_fn charge, void *ud)
{
    static const luaL_Reg fns[] = {
        {"find", plib_find},
        {"match", plib_match},
        {"gmatch", plib_gmatch},
        {"gsub", plib_gsub},
        {NULL, NULL}
    };
    const luaL_Reg *f;
    pat_meter *m = (pat_meter *)lua_newuserdata(L, sizeof *m);
    m->charge = charge;
    m->ud = ud;
    for (f = fns; f->name != NULL; f++) {
        lua_pushvalue(L, -1);                   /* meter */
        lua_pushcclosure(L, f->func, 1);
        lua_setfield(L, -3, f->name);
    }
    lua_pop(L, 1);                              /* meter */
}
