/* lmatch.c - vv's bounded Lua pattern matcher for resolver sandboxes. */
/*
 * Stock string.find/match/gmatch/gsub run inside one C call that a count
 * hook cannot interrupt, and a backtracking pattern such as
 * ".-.-.-.-.-.-.-b" against a long subject takes minutes there.  These
 * versions speak the same pattern language as Lua 5.4 but count every
 * matching step and hand the count to a charge function every LM_FLUSH
 * steps; the resolver host adds them to the call's instruction budget
 * and raises once it is spent.  Character classes (%a, %d, ...) are ASCII
 * only, whatever the process locale, so every replica matches alike.
 */
#include <string.h>
#include "lua.h"
#include "lauxlib.h"
#include "resolver.h"

#define LM_MAXCAP    32         /* captures per pattern, as Lua's default */
#define LM_MAXDEPTH  200        /* nested matcher calls before "too complex" */
#define LM_FLUSH     1024       /* steps counted before charging them */
#define LM_CAP_OPEN  (-1)       /* capture started, not closed */
#define LM_CAP_POS   (-2)       /* position capture "()" */
#define LM_SPECIALS  "^$*+?.([%-"

/* The charge function and its argument, kept as a userdata upvalue. */
typedef struct lm_meter {
    vvl_charge_fn charge;
    void *ud;
} lm_meter;

/* One match attempt: subject, pattern, captures and the step count. */
typedef struct lm_match {
    const char *s0, *se;        /* subject [s0, se) */
    const char *pe;             /* end of the pattern */
    lua_State *L;
    const lm_meter *m;
    unsigned steps;             /* counted, not yet charged */
    int depth;                  /* recursion left */
    int level;                  /* captures in use */
    struct {
        const char *at;
        ptrdiff_t len;          /* or LM_CAP_OPEN / LM_CAP_POS */
    } cap[LM_MAXCAP];
} lm_match;

/* State of a gmatch iterator: offsets into its subject. */
typedef struct lm_iter {
    size_t pos;                 /* where the next search starts */
    size_t last;                /* end of the last match */
    int has_last;
} lm_iter;

/* Hand the counted steps (plus extra) to the meter; may raise. */
static void lm_charge(lm_match *ms, uint64_t extra)
{
    uint64_t n = ms->steps + extra;
    ms->steps = 0;
    if (n > 0) ms->m->charge(ms->L, ms->m->ud, n);
}

/* Count one step; charge them in batches. */
static void lm_tick(lm_match *ms)
{
    if (++ms->steps >= LM_FLUSH) lm_charge(ms, 0);
}

/* Ready ms for a new attempt (the step count carries over). */
static void lm_prep(lm_match *ms)
{
    ms->level = 0;
    ms->depth = LM_MAXDEPTH;
}

/* Start a match state over subject s[0..ls) and a pattern ending at pe. */
static void lm_init(lm_match *ms, lua_State *L, const lm_meter *m,
                    const char *s, size_t ls, const char *pe)
{
    ms->s0 = s;
    ms->se = s + ls;
    ms->pe = pe;
    ms->L = L;
    ms->m = m;
    ms->steps = 0;
    lm_prep(ms);
}

/* ---- character classes (ASCII) --------------------------------------- */

static int lm_lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
static int lm_isupper(int c) { return c >= 'A' && c <= 'Z'; }
static int lm_isdigit(int c) { return c >= '0' && c <= '9'; }
static int lm_isalpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Does byte c belong to class letter cl (the letter after '%')?  An
 * upper-case letter is the complement; any other byte stands for itself. */
static int lm_class(int c, int cl)
{
    int r;
    switch (lm_lower(cl)) {
    case 'a': r = lm_isalpha(c); break;
    case 'c': r = c < 32 || c == 127; break;
    case 'd': r = lm_isdigit(c); break;
    case 'g': r = c > 32 && c < 127; break;
    case 'l': r = c >= 'a' && c <= 'z'; break;
    case 'p': r = c > 32 && c < 127 && !lm_isalpha(c) && !lm_isdigit(c);
              break;
    case 's': r = c == ' ' || (c >= '\t' && c <= '\r'); break;
    case 'u': r = lm_isupper(c); break;
    case 'w': r = lm_isalpha(c) || lm_isdigit(c); break;
    case 'x': r = lm_isdigit(c) || (lm_lower(c) >= 'a' && lm_lower(c) <= 'f');
              break;
    default: return cl == c;
    }
    return lm_isupper(cl) ? !r : r;
}

/* Just past the single-character class that starts at p. */
static const char *lm_class_end(lm_match *ms, const char *p)
{
    const char *pe = ms->pe;
    char c = *p++;
    if (c == '%') {
        if (p >= pe)
            luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c != '[') return p;
    if (p < pe && *p == '^') p++;
    /* the first item is taken literally, even a ']' */
    do {
        if (p >= pe)
            luaL_error(ms->L, "malformed pattern (missing ']')");
        if (*p++ == '%') {
            if (p >= pe)
                luaL_error(ms->L, "malformed pattern (missing ']')");
            p++;
        }
    } while (p >= pe || *p != ']');
    return p + 1;
}

/* Does byte c belong to the set [...] from p (at '[') to ec (at ']')? */
static int lm_set(int c, const char *p, const char *ec)
{
    int neg = 0;
    p++;
    if (*p == '^') {
        neg = 1;
        p++;
    }
    while (p < ec) {
        if (*p == '%' && p + 1 < ec) {
            if (lm_class(c, (unsigned char)p[1])) return !neg;
            p += 2;
        } else if (p + 2 < ec && p[1] == '-') {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return !neg;
            p += 3;
        } else {
            if ((unsigned char)*p == c) return !neg;
            p++;
        }
    }
    return neg;
}

/* Does the subject byte at s match the class [p, ep)? */
static int lm_single(const lm_match *ms, const char *s, const char *p,
                     const char *ep)
{
    int c;
    if (s >= ms->se) return 0;
    c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case '%': return lm_class(c, (unsigned char)p[1]);
    case '[': return lm_set(c, p, ep - 1);
    default:  return (unsigned char)*p == c;
    }
}

static const char *lm_do(lm_match *ms, const char *s, const char *p);

/* Greedy repetition: take as many as match, then give back one by one. */
static const char *lm_max(lm_match *ms, const char *s, const char *p,
                          const char *ep)
{
    ptrdiff_t i = 0;
    while (lm_single(ms, s + i, p, ep)) {
        i++;
        lm_tick(ms);
    }
    for (; i >= 0; i--) {
        const char *r = lm_do(ms, s + i, ep + 1);
        if (r) return r;
    }
    return NULL;
}

/* Lazy repetition: try the rest first, take one more when it fails. */
static const char *lm_min(lm_match *ms, const char *s, const char *p,
                          const char *ep)
{
    for (;;) {
        const char *r = lm_do(ms, s, ep + 1);
        if (r) return r;
        if (!lm_single(ms, s, p, ep)) return NULL;
        s++;
    }
}

/* Open capture number ms->level at s ("(" or, with LM_CAP_POS, "()"). */
static const char *lm_open(lm_match *ms, const char *s, const char *p,
                           ptrdiff_t what)
{
    const char *r;
    if (ms->level >= LM_MAXCAP) luaL_error(ms->L, "too many captures");
    ms->cap[ms->level].at = s;
    ms->cap[ms->level].len = what;
    ms->level++;
    r = lm_do(ms, s, p);
    if (!r) ms->level--;
    return r;
}

/* Close the innermost open capture at s. */
static const char *lm_close(lm_match *ms, const char *s, const char *p)
{
    const char *r;
    int l = ms->level - 1;
    while (l >= 0 && ms->cap[l].len != LM_CAP_OPEN) l--;
    if (l < 0) luaL_error(ms->L, "invalid pattern capture");
    ms->cap[l].len = s - ms->cap[l].at;
    r = lm_do(ms, s, p);
    if (!r) ms->cap[l].len = LM_CAP_OPEN;
    return r;
}

/* %bxy: a balanced run from x to the matching y. */
static const char *lm_balance(lm_match *ms, const char *s, const char *p)
{
    int depth = 1;
    if (p + 1 >= ms->pe)
        luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->se || *s != p[0]) return NULL;
    while (++s < ms->se) {
        lm_tick(ms);
        if (*s == p[1]) {
            if (--depth == 0) return s + 1;
        } else if (*s == p[0]) {
            depth++;
        }
    }
    return NULL;
}

/* %1..%9: the same bytes as an earlier capture; NULL when they differ. */
static const char *lm_backref(lm_match *ms, const char *s, int d)
{
    int l = d - '1';
    size_t len;
    if (l < 0 || l >= ms->level || ms->cap[l].len == LM_CAP_OPEN)
        luaL_error(ms->L, "invalid capture index %%%d", l + 1);
    if (ms->cap[l].len < 0) return NULL;     /* a position capture */
    len = (size_t)ms->cap[l].len;
    lm_charge(ms, len / 64);
    if ((size_t)(ms->se - s) >= len && memcmp(ms->cap[l].at, s, len) == 0)
        return s + len;
    return NULL;
}

/* Match pattern p against the subject at s: the end of the match, or
 * NULL.  Recursion is bounded by LM_MAXDEPTH and every step is counted. */
static const char *lm_do(lm_match *ms, const char *s, const char *p)
{
    const char *pe = ms->pe;
    if (ms->depth-- == 0) luaL_error(ms->L, "pattern too complex");
    while (p < pe) {
        const char *ep;
        int hit;
        lm_tick(ms);
        switch (*p) {
        case '(':
            if (p + 1 < pe && p[1] == ')')
                s = lm_open(ms, s, p + 2, LM_CAP_POS);
            else
                s = lm_open(ms, s, p + 1, LM_CAP_OPEN);
            goto done;
        case ')':
            s = lm_close(ms, s, p + 1);
            goto done;
        case '$':
            if (p + 1 == pe) {
                if (s != ms->se) s = NULL;
                goto done;
            }
            break;                      /* a literal '$' */
        case '%':
            if (p + 1 >= pe) break;     /* lm_class_end raises */
            if (p[1] == 'b') {
                s = lm_balance(ms, s, p + 2);
                if (!s) goto done;
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                int prev, cur;
                p += 2;
                if (p >= pe || *p != '[')
                    luaL_error(ms->L, "missing '[' after '%%f' in pattern");
                ep = lm_class_end(ms, p);
                prev = (s == ms->s0) ? 0 : (unsigned char)s[-1];
                cur = (s < ms->se) ? (unsigned char)*s : 0;
                if (lm_set(prev, p, ep - 1) || !lm_set(cur, p, ep - 1)) {
                    s = NULL;
                    goto done;
                }
                p = ep;
                continue;
            }
            if (lm_isdigit((unsigned char)p[1])) {
                s = lm_backref(ms, s, p[1]);
                if (!s) goto done;
                p += 2;
                continue;
            }
            break;
        default:
            break;
        }
        /* one class, maybe followed by a quantifier */
        ep = lm_class_end(ms, p);
        hit = lm_single(ms, s, p, ep);
        if (ep < pe && *ep == '?') {
            if (hit) {
                const char *r = lm_do(ms, s + 1, ep + 1);
                if (r) {
                    s = r;
                    goto done;
                }
            }
            p = ep + 1;
            continue;
        }
        if (ep < pe && *ep == '+') {
            s = hit ? lm_max(ms, s + 1, p, ep) : NULL;
            goto done;
        }
        if (ep < pe && *ep == '*') {
            s = lm_max(ms, s, p, ep);
            goto done;
        }
        if (ep < pe && *ep == '-') {
            s = lm_min(ms, s, p, ep);
            goto done;
        }
        if (!hit) {
            s = NULL;
            goto done;
        }
        s++;
        p = ep;
    }
done:
    ms->depth++;
    return s;
}

/* ---- results ----------------------------------------------------------- */

/* Push capture i of a match [s, e); with no captures, i == 0 is the
 * whole match. */
static void lm_push_cap(lm_match *ms, int i, const char *s, const char *e)
{
    lua_State *L = ms->L;
    if (i >= ms->level) {
        if (i != 0) luaL_error(L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(L, s, (size_t)(e - s));
        return;
    }
    if (ms->cap[i].len == LM_CAP_OPEN) luaL_error(L, "unfinished capture");
    if (ms->cap[i].len == LM_CAP_POS)
        lua_pushinteger(L, (lua_Integer)(ms->cap[i].at - ms->s0) + 1);
    else
        lua_pushlstring(L, ms->cap[i].at, (size_t)ms->cap[i].len);
}

/* Push all captures (or the whole match when there are none and s is
 * given); returns how many. */
static int lm_push_caps(lm_match *ms, const char *s, const char *e)
{
    int i, n = (ms->level == 0 && s) ? 1 : ms->level;
    luaL_checkstack(ms->L, n, "too many captures");
    for (i = 0; i < n; i++) lm_push_cap(ms, i, s, e);
    return n;
}

/* The meter of the running function (upvalue 1). */
static const lm_meter *lm_meter_of(lua_State *L)
{
    return (const lm_meter *)lua_touserdata(L, lua_upvalueindex(1));
}

/* A 1-based, possibly negative start position as a 0-based offset; may
 * be len + 1 or more, which means "past the end". */
static size_t lm_start(lua_Integer pos, size_t len)
{
    if (pos > 0) return (size_t)pos - 1;
    if (pos == 0 || (size_t)0 - (size_t)pos > len) return 0;
    return len - ((size_t)0 - (size_t)pos);
}

/* Is p[0..lp) free of pattern specials? */
static int lm_plain(const char *p, size_t lp)
{
    size_t i;
    for (i = 0; i < lp; i++)
        if (p[i] != 0 && strchr(LM_SPECIALS, p[i])) return 0;
    return 1;
}

/* Plain substring search, its scanning charged to the meter. */
static const char *lm_memfind(lm_match *ms, const char *s, size_t ls,
                              const char *p, size_t lp)
{
    const char *end;
    if (lp == 0) return s;
    if (lp > ls) return NULL;
    end = s + (ls - lp) + 1;            /* candidate starts: [s, end) */
    while (s < end) {
        const char *c = memchr(s, p[0], (size_t)(end - s));
        if (!c) {
            lm_charge(ms, (uint64_t)(end - s) / 64);
            return NULL;
        }
        lm_charge(ms, 1 + (uint64_t)(c - s) / 64 + lp / 64);
        if (memcmp(c + 1, p + 1, lp - 1) == 0) return c;
        s = c + 1;
    }
    return NULL;
}

/* string.find (find != 0) and string.match. */
static int lm_find_aux(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = lm_start(luaL_optinteger(L, 3, 1), ls);
    lm_match ms;
    if (init > ls) {
        lua_pushnil(L);
        return 1;
    }
    lm_init(&ms, L, lm_meter_of(L), s, ls, p + lp);
    if (find && (lua_toboolean(L, 4) || lm_plain(p, lp))) {
        const char *r = lm_memfind(&ms, s + init, ls - init, p, lp);
        lm_charge(&ms, 0);
        if (r) {
            lua_pushinteger(L, (lua_Integer)(r - s) + 1);
            lua_pushinteger(L, (lua_Integer)(r - s + (ptrdiff_t)lp));
            return 2;
        }
    } else {
        const char *s1 = s + init;
        int anchor = lp > 0 && *p == '^';
        if (anchor) p++;
        do {
            const char *e;
            lm_prep(&ms);
            if ((e = lm_do(&ms, s1, p)) != NULL) {
                lm_charge(&ms, 0);
                if (find) {
                    lua_pushinteger(L, (lua_Integer)(s1 - s) + 1);
                    lua_pushinteger(L, (lua_Integer)(e - s));
                    return lm_push_caps(&ms, NULL, NULL) + 2;
                }
                return lm_push_caps(&ms, s1, e);
            }
        } while (s1++ < ms.se && !anchor);
        lm_charge(&ms, 0);
    }
    lua_pushnil(L);
    return 1;
}

static int lm_find(lua_State *L) { return lm_find_aux(L, 1); }
static int lm_matchf(lua_State *L) { return lm_find_aux(L, 0); }

/* The iterator gmatch returns: upvalues meter, subject, pattern, state. */
static int lm_gmatch_step(lua_State *L)
{
    size_t ls, lp, at;
    const char *s = lua_tolstring(L, lua_upvalueindex(2), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(3), &lp);
    lm_iter *it = (lm_iter *)lua_touserdata(L, lua_upvalueindex(4));
    lm_match ms;
    lm_init(&ms, L, lm_meter_of(L), s, ls, p + lp);
    for (at = it->pos; at <= ls; at++) {
        const char *e;
        lm_prep(&ms);
        e = lm_do(&ms, s + at, p);
        if (e && (!it->has_last || (size_t)(e - s) != it->last)) {
            it->pos = it->last = (size_t)(e - s);
            it->has_last = 1;
            lm_charge(&ms, 0);
            return lm_push_caps(&ms, s + at, e);
        }
    }
    it->pos = ls + 1;
    lm_charge(&ms, 0);
    return 0;
}

/* string.gmatch(s, pattern [, init]); '^' is an ordinary byte here. */
static int lm_gmatch(lua_State *L)
{
    size_t ls;
    lm_iter *it;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    lua_settop(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));      /* meter */
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    it = (lm_iter *)lua_newuserdata(L, sizeof *it);
    it->pos = lm_start(luaL_optinteger(L, 3, 1), ls);
    it->last = 0;
    it->has_last = 0;
    lua_pushcclosure(L, lm_gmatch_step, 4);
    return 1;
}

/* Append a replacement string with %0-%9 and %% to b. */
static void lm_add_s(lm_match *ms, luaL_Buffer *b, const char *s,
                     const char *e)
{
    lua_State *L = ms->L;
    size_t l, i;
    const char *r = lua_tolstring(L, 3, &l);
    for (i = 0; i < l; i++) {
        if (r[i] != '%') {
            luaL_addchar(b, r[i]);
            continue;
        }
        i++;
        if (i < l && r[i] == '%') {
            luaL_addchar(b, '%');
        } else if (i < l && lm_isdigit((unsigned char)r[i])) {
            if (r[i] == '0')
                luaL_addlstring(b, s, (size_t)(e - s));
            else {
                lm_push_cap(ms, r[i] - '1', s, e);
                lua_tostring(L, -1);            /* a position: to text */
                luaL_addvalue(b);
            }
        } else {
            luaL_error(L, "invalid use of '%%' in replacement string");
        }
    }
    lm_charge(ms, l / 16);
}

/* Append the replacement of match [s, e) to b, by the kind of arg 3. */
static void lm_add_value(lm_match *ms, luaL_Buffer *b, const char *s,
                         const char *e, int tr)
{
    lua_State *L = ms->L;
    if (tr == LUA_TFUNCTION) {
        int n;
        lua_pushvalue(L, 3);
        n = lm_push_caps(ms, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        lm_push_cap(ms, 0, s, e);
        lua_gettable(L, 3);
    } else {
        lm_add_s(ms, b, s, e);
        return;
    }
    if (!lua_toboolean(L, -1)) {                /* nil/false: keep */
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
static int lm_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *last = NULL;
    int tr = lua_type(L, 3);
    lua_Integer max_s = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    lua_Integer n = 0;
    int anchor = lp > 0 && *p == '^';
    lm_match ms;
    luaL_Buffer b;
    luaL_argcheck(L, tr == LUA_TNUMBER || tr == LUA_TSTRING ||
                  tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
                  "string/function/table expected");
    if (anchor) p++;
    lm_init(&ms, L, lm_meter_of(L), src, ls, p + (lp - (size_t)anchor));
    luaL_buffinit(L, &b);
    while (n < max_s) {
        const char *e;
        lm_prep(&ms);
        e = lm_do(&ms, src, p);
        if (e && e != last) {
            n++;
            lm_add_value(&ms, &b, src, e, tr);
            src = last = e;
        } else if (src < ms.se) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor) break;
    }
    luaL_addlstring(&b, src, (size_t)(ms.se - src));
    lm_charge(&ms, (uint64_t)(ms.se - src) / 64);
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

void vvl_open_match(lua_State *L, vvl_charge_fn charge, void *ud)
{
    static const luaL_Reg fns[] = {
        {"find", lm_find},
        {"match", lm_matchf},
        {"gmatch", lm_gmatch},
        {"gsub", lm_gsub},
        {NULL, NULL}
    };
    const luaL_Reg *f;
    lm_meter *m = (lm_meter *)lua_newuserdata(L, sizeof *m);
    m->charge = charge;
    m->ud = ud;
    for (f = fns; f->name; f++) {
        lua_pushvalue(L, -1);                   /* meter */
        lua_pushcclosure(L, f->func, 1);
        lua_setfield(L, -3, f->name);
    }
    lua_pop(L, 1);                              /* meter */
}
