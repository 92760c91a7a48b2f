/* resolver.c - sandboxed Lua resolver scripts, one lua_State per keyspace. */
/*
 * A keyspace with a script resolver owns a private lua_State built here:
 *
 *  - memory: lua_newstate with a counting allocator.  During a call, growth
 *    past (bytes held when the call starts + budget_memory) is refused and
 *    surfaces as a memory error; frees and shrinks always succeed.
 *  - libraries: base (a whitelist), string, table, math and utf8 only.
 *    The script's environment is an empty table whose reads fall through
 *    to that whitelist and raise on unknown names, and whose writes raise.
 *    Library tables are read-only proxies; every metatable the sandbox
 *    made, and the string metatable, is protected by __metatable.
 *  - text only: binary chunks are refused before and by the loader.
 *  - instructions: a count hook adds up VM instructions; C functions whose
 *    work a hook cannot see (pattern matching, string.rep, table.move,
 *    table.concat, table.unpack, table.sort) charge their steps to the
 *    same meter.  Once the budget is spent the hook fires on every
 *    instruction and line and raises, so a pcall in the script cannot
 *    swallow the stop; the sandbox's pcall/xpcall re-raise budget and
 *    memory errors as well.
 *  - no history: the chunk is run afresh for every resolution (its _ENV
 *    reset first), so nothing a call leaves in locals, upvalues or tables
 *    can reach the next one; math.random is absent; tostring and
 *    string.format show no addresses; table.sort is stable.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#if defined(LUA_JITLIBNAME)
#include "luajit.h"
#endif
#include "compat.h"
#include "lcodec.h"                     /* and vv_int.h */
#include "resolver.h"

#ifndef LUA_OK
#define LUA_OK 0
#endif

#define RS_PERIOD     1000      /* count hook period, instructions */
#define RS_NEST_MAX   64        /* deepest table a result may hold */
#define RS_MSG_MAX    1500      /* longest error text kept */
#define RS_CATCH_COST 100       /* steps charged for a caught error */
#define RS_SHORT_SORT 12        /* sort shorter lists by insertion */

struct vvl_resolver {
    lua_State *L;
    size_t mem_used;            /* bytes the state holds */
    size_t mem_limit;           /* refuse growth past this; SIZE_MAX: off */
    size_t max_mem;             /* budget_memory */
    uint64_t max_steps;         /* budget_instructions */
    uint64_t steps;             /* spent in this call */
    int period;                 /* count hook period */
    int tripped;                /* the step budget ran out in this call */
    int oom;                    /* a memory error ended (part of) the call */
    int refused;                /* the memory limit refused an allocation */
    int codec;                  /* VVL_MSGPACK / VVL_RAW */
    int chunk_ref;              /* the compiled script */
    int env_ref;                /* the script's environment */
    int stop_ref;               /* the error value of a spent budget */
    int msgh_ref, call_ref;     /* rs_msgh, rs_call */
    int names_ref;              /* the sibling field names, as strings */
    char *ks, *path;
    char where[160];            /* where the budget ran out */
    size_t mem_start, mem_peak; /* held when the last call began; most */
};

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
    vvi_buf out;                /* the encoded result */
    char msg[256];              /* a failure found by C code */
} rs_ctx;

/* ---- memory ------------------------------------------------------------ */

/* The lua_Alloc of a sandbox: counts bytes; refuses growth past the limit,
 * never a free or a shrink. */
static void *rs_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    vvl_resolver *r = (vvl_resolver *)ud;
    void *np;
    if (ptr == NULL) osize = 0;         /* osize is a type tag then */
    if (nsize == 0) {
        vvi_free(ptr);
        r->mem_used -= osize;
        return NULL;
    }
    if (nsize > osize && (r->mem_used >= r->mem_limit ||
                          nsize - osize > r->mem_limit - r->mem_used)) {
        r->refused = 1;
        return NULL;
    }
    np = vvi_realloc(ptr, nsize);
    if (np == NULL) return nsize <= osize ? ptr : NULL;
    r->mem_used = r->mem_used - osize + nsize;
    if (r->mem_used > r->mem_peak) r->mem_peak = r->mem_used;
    return np;
}

/* The resolver that owns L (the allocator's argument). */
static vvl_resolver *rs_self(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (vvl_resolver *)ud;
}

/* ---- the instruction budget --------------------------------------------- */

static void rs_hook(lua_State *L, lua_Debug *ar);
static int rs_call(lua_State *L);

/* The budget is spent: fire on every instruction and line from now on,
 * and raise (the error value needs no allocation). */
static void rs_stop(lua_State *L, vvl_resolver *r)
{
    r->tripped = 1;
    lua_sethook(L, rs_hook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->stop_ref);
    lua_error(L);
}

/* Count hook: add up instructions, stop when the budget is spent. */
static void rs_hook(lua_State *L, lua_Debug *ar)
{
    vvl_resolver *r = rs_self(L);
    (void)ar;
    if (!r->tripped) {
        r->steps += (uint64_t)r->period;
        if (r->steps < r->max_steps) return;
    }
    rs_stop(L, r);
}

/* Charge n steps of C work to the running call (vvl_charge_fn). */
static void rs_charge(lua_State *L, void *ud, uint64_t n)
{
    vvl_resolver *r = (vvl_resolver *)ud;
    if (!r->tripped) {
        r->steps += n;
        if (r->steps < r->max_steps) return;
    }
    rs_stop(L, r);
}

/* Start the budgets of a call: instructions counted from 0, memory
 * allowed to grow by max_mem over what the state holds now. */
static void rs_arm(vvl_resolver *r)
{
    r->steps = 0;
    r->tripped = 0;
    r->oom = 0;
    r->refused = 0;
    r->where[0] = 0;
    r->mem_start = r->mem_peak = r->mem_used;
    r->mem_limit = r->max_mem > SIZE_MAX - r->mem_used
                   ? SIZE_MAX : r->mem_used + r->max_mem;
    lua_sethook(r->L, rs_hook, LUA_MASKCOUNT, r->period);
}

/* End the budgets: no hook, no memory limit. */
static void rs_disarm(vvl_resolver *r)
{
    lua_sethook(r->L, NULL, 0, 0);
    r->mem_limit = SIZE_MAX;
}

/* ---- sandbox functions --------------------------------------------------- */

/* The message handler of a call: a traceback for script errors; for a
 * spent budget, only where it happened. */
static int rs_msgh(lua_State *L)
{
    vvl_resolver *r = rs_self(L);
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

/* Re-raise the error on top when it must not be caught by the script:
 * a spent budget or a memory error.  Otherwise charge the catch: raising
 * and unwinding cost far more than an instruction (RS_CATCH_COST). */
static void rs_rethrow(lua_State *L, int st)
{
    vvl_resolver *r = rs_self(L);
    if (st == LUA_ERRMEM) r->oom = 1;
    if (st == LUA_ERRMEM || st == LUA_ERRERR || r->tripped || r->oom)
        lua_error(L);
    rs_charge(L, r, RS_CATCH_COST);
}

/* pcall(f, ...) that cannot catch a spent budget or a memory error. */
static int rs_pcall(lua_State *L)
{
    int st;
    luaL_checkany(L, 1);
    st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (st != LUA_OK) {
        rs_rethrow(L, st);
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    return lua_gettop(L);
}

/* xpcall(f, msgh, ...), under the same rule as rs_pcall.  The handler
 * runs after the stack has unwound, not as Lua's message handler: Lua
 * calls a message handler with hooks off, where a looping handler could
 * not be stopped. */
static int rs_xpcall(lua_State *L)
{
    int n = lua_gettop(L), st;
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_insert(L, 1);                   /* msgh, f, msgh, args */
    lua_remove(L, 3);                   /* msgh, f, args */
    st = lua_pcall(L, n - 2, LUA_MULTRET, 0);
    if (st != LUA_OK) {
        rs_rethrow(L, st);
        lua_pushvalue(L, 1);
        lua_insert(L, -2);              /* msgh, msgh, error */
        st = lua_pcall(L, 1, 1, 0);
        if (st != LUA_OK) rs_rethrow(L, st);
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_replace(L, 1);
    return lua_gettop(L);
}

/* Is the value at i one whose stock text form shows an address? */
static int rs_addressed(lua_State *L, int i)
{
    int t = lua_type(L, i);
    if (t != LUA_TTABLE && t != LUA_TFUNCTION && t != LUA_TUSERDATA &&
        t != LUA_TTHREAD && t != LUA_TLIGHTUSERDATA)
        return 0;
    if (luaL_getmetafield(L, i, "__tostring")) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

/* tostring(v): as stock, but "table" instead of "table: 0x55..." so a
 * result cannot depend on where the allocator put something. */
static int rs_tostring(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    if (rs_addressed(L, 1)) {
        lua_pushstring(L, luaL_typename(L, 1));
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

/* string.format: as stock, without '%p' and without addresses. */
static int rs_format(lua_State *L)
{
    size_t lf, i;
    const char *f = luaL_checklstring(L, 1, &lf);
    int n = lua_gettop(L), k;
    for (i = 0; i + 1 < lf; i++) {
        if (f[i] != '%') continue;
        i++;
        while (i < lf && f[i] != 0 && strchr("-+ #0123456789.", f[i])) i++;
        if (i < lf && f[i] == 'p')
            return luaL_error(L, "'%%p' is not available in resolvers");
    }
    for (k = 2; k <= n; k++)
        if (rs_addressed(L, k)) {
            lua_pushstring(L, luaL_typename(L, k));
            lua_replace(L, k);
        }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, 1);
    return 1;
}

/* string.rep: an empty result costs nothing; a long one is charged.  (The
 * stock version loops n times even when every piece is empty.) */
static int rs_rep(lua_State *L)
{
    size_t l, lsep = 0;
    lua_Integer n;
    luaL_checklstring(L, 1, &l);
    n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || (l == 0 && lsep == 0)) {
        lua_pushliteral(L, "");
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    /* the result fit in the memory budget, so n is small enough for the
     * loop to have run; charge it now */
    rs_charge(L, lua_touserdata(L, lua_upvalueindex(2)), (uint64_t)n / 16);
    return 1;
}

/* setmetatable(t, mt) for tables only, without __gc (finalizers run
 * where no budget applies) and without __mode (what weak tables keep
 * depends on when the collector ran). */
static int rs_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2,
                  "nil or table expected");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        lua_rawget(L, 2);
        if (!lua_isnil(L, -1))
            return luaL_error(L, "'__gc' metamethods are not available "
                              "in resolvers");
        lua_pop(L, 1);
        lua_pushliteral(L, "__mode");
        lua_rawget(L, 2);
        if (!lua_isnil(L, -1))
            return luaL_error(L, "weak tables ('__mode') are not available "
                              "in resolvers");
        lua_pop(L, 1);
    }
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* Reading a global the sandbox does not have. */
static int rs_unknown_global(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING)
        return luaL_error(L, "unknown global '%s' (not available in "
                          "resolvers)", lua_tostring(L, 2));
    return luaL_error(L, "unknown global (a %s key)", luaL_typename(L, 2));
}

/* Writing a global: resolvers keep no global state. */
static int rs_global_write(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING)
        return luaL_error(L, "assignment to global '%s' (resolvers keep "
                          "no globals; use a local)", lua_tostring(L, 2));
    return luaL_error(L, "assignment to a global (resolvers keep no "
                      "globals; use a local)");
}

/* Writing into a library table. */
static int rs_readonly(lua_State *L)
{
    return luaL_error(L, "library table '%s' is read-only",
                      lua_tostring(L, lua_upvalueindex(1)));
}

/* ---- the table library on plain tables ------------------------------- */

/* Call the original function (upvalue 1) with all arguments. */
static int rs_forward(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* Refuse a table argument that has a metatable: __len, __index and
 * __newindex could otherwise stretch a C loop beyond any budget. */
static void rs_plain(lua_State *L, int i)
{
    if (lua_type(L, i) == LUA_TTABLE && lua_getmetatable(L, i))
        luaL_argerror(L, i, "plain table expected (no metatable)");
}

/* Charge the length of the range [i, j] (nothing when empty). */
static void rs_charge_range(lua_State *L, lua_Integer i, lua_Integer j)
{
    if (j >= i)
        rs_charge(L, lua_touserdata(L, lua_upvalueindex(2)),
                  (uint64_t)j - (uint64_t)i + 1);
}

/* table.insert / table.remove: plain tables only. */
static int rs_tplain(lua_State *L)
{
    rs_plain(L, 1);
    return rs_forward(L);
}

/* table.concat(list, sep, i, j): plain, the range charged. */
static int rs_tconcat(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    rs_plain(L, 1);
    rs_charge_range(L, luaL_optinteger(L, 3, 1),
                    luaL_optinteger(L, 4, (lua_Integer)vvc_rawlen(L, 1)));
    return rs_forward(L);
}

/* table.unpack(list, i, j): plain, the range charged. */
static int rs_tunpack(lua_State *L)
{
    rs_plain(L, 1);
    if (lua_type(L, 1) == LUA_TTABLE)
        rs_charge_range(L, luaL_optinteger(L, 2, 1),
                        luaL_optinteger(L, 3,
                                        (lua_Integer)vvc_rawlen(L, 1)));
    return rs_forward(L);
}

/* table.move(a1, f, e, t [, a2]): plain, the range charged (the stock
 * loop runs e - f + 1 times even over nothing). */
static int rs_tmove(lua_State *L)
{
    rs_plain(L, 1);
    rs_plain(L, 5);
    rs_charge_range(L, luaL_checkinteger(L, 2), luaL_checkinteger(L, 3));
    return rs_forward(L);
}

/* Is the value at a less than the one at b, by the comparator at 2?
 * Without one, two strings compare bytewise (stock '<' follows the C
 * library's collation, which the host program's locale may change). */
static int rs_sort_less(lua_State *L, int a, int b)
{
    int res;
    if (lua_isnil(L, 2)) {
        if (lua_type(L, a) == LUA_TSTRING && lua_type(L, b) == LUA_TSTRING) {
            size_t la, lb;
            const char *sa = lua_tolstring(L, a, &la);
            const char *sb = lua_tolstring(L, b, &lb);
            res = memcmp(sa, sb, la < lb ? la : lb);
            return res < 0 || (res == 0 && la < lb);
        }
        return vvc_lessthan(L, a, b);
    }
    lua_pushvalue(L, 2);
    lua_pushvalue(L, a);
    lua_pushvalue(L, b);
    lua_call(L, 2, 1);
    res = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return res;
}

/* Merge src[lo..mid] and src[mid+1..hi] into dst[lo..hi], stably. */
static void rs_merge(lua_State *L, void *meter, int src, int dst,
                     lua_Integer lo, lua_Integer mid, lua_Integer hi)
{
    lua_Integer i = lo, j = mid + 1, k = lo;
    while (i <= mid && j <= hi) {
        int top;
        vvc_rawgeti(L, src, i);
        vvc_rawgeti(L, src, j);
        top = lua_gettop(L);
        rs_charge(L, meter, 1);
        if (rs_sort_less(L, top, top - 1)) {    /* right < left */
            vvc_rawseti(L, dst, k++);
            lua_pop(L, 1);
            j++;
        } else {
            lua_pop(L, 1);
            vvc_rawseti(L, dst, k++);
            i++;
        }
    }
    for (; i <= mid; i++) {
        vvc_rawgeti(L, src, i);
        vvc_rawseti(L, dst, k++);
    }
    for (; j <= hi; j++) {
        vvc_rawgeti(L, src, j);
        vvc_rawseti(L, dst, k++);
    }
}

/* Stable insertion sort of list[1..n] in place (short lists: no scratch
 * table, few moves). */
static void rs_insertion(lua_State *L, void *meter, lua_Integer n)
{
    lua_Integer i, j;
    for (i = 2; i <= n; i++) {
        int key;
        vvc_rawgeti(L, 1, i);
        key = lua_gettop(L);
        for (j = i - 1; j >= 1; j--) {
            vvc_rawgeti(L, 1, j);
            rs_charge(L, meter, 1);
            if (!rs_sort_less(L, key, key + 1)) {
                lua_pop(L, 1);
                break;
            }
            vvc_rawseti(L, 1, j + 1);               /* shift a[j] up */
        }
        vvc_rawseti(L, 1, j + 1);                   /* the key */
    }
}

/* table.sort(list [, less]): a stable sort of a plain table (insertion
 * up to RS_SHORT_SORT elements, else bottom-up merge sort).  Unlike the
 * stock quicksort (random pivots, unstable), equal elements keep their
 * order, so the result is the same on every replica; every comparison is
 * charged, whatever the comparator does. */
static int rs_tsort(lua_State *L)
{
    void *meter = lua_touserdata(L, lua_upvalueindex(1));
    lua_Integer n, w, lo;
    int src = 1, dst = 3;
    luaL_checktype(L, 1, LUA_TTABLE);
    rs_plain(L, 1);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    n = (lua_Integer)vvc_rawlen(L, 1);
    if (n < 2) return 0;
    luaL_argcheck(L, n < INT32_MAX, 1, "array too big");
    if (n <= RS_SHORT_SORT) {
        rs_insertion(L, meter, n);
        return 0;
    }
    lua_createtable(L, (int)n, 0);              /* 3: scratch */
    for (w = 1; w < n; w *= 2) {
        for (lo = 1; lo <= n; lo += 2 * w) {
            lua_Integer mid = lo + w - 1, hi = lo + 2 * w - 1;
            if (mid > n) mid = n;
            if (hi > n) hi = n;
            rs_merge(L, meter, src, dst, lo, mid, hi);
        }
        src = 4 - src;                          /* swap 1 and 3 */
        dst = 4 - dst;
    }
    if (src != 1)
        for (lo = 1; lo <= n; lo++) {
            vvc_rawgeti(L, 3, lo);
            vvc_rawseti(L, 1, lo);
        }
    return 0;
}

/* ---- building the sandbox --------------------------------------------- */

/* Open a library by calling its luaopen_ function; leaves its table. */
static void rs_openlib(lua_State *L, const char *name, lua_CFunction f)
{
    lua_pushcfunction(L, f);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
}

/* Replace lib[name] (lib at index t) by a closure of f over the original
 * and the resolver; absent names stay absent. */
static void rs_wrap(lua_State *L, vvl_resolver *r, int t, const char *name,
                    lua_CFunction f)
{
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, f, 2);
    lua_setfield(L, t, name);
}

/* Remove lib[name] (lib at index t). */
static void rs_drop(lua_State *L, int t, const char *name)
{
    lua_pushnil(L);
    lua_setfield(L, t, name);
}

/* Push a metatable locked against getmetatable/setmetatable. */
static void rs_lockedmeta(lua_State *L)
{
    lua_newtable(L);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
}

/* Push a read-only proxy of the library table at index lib. */
static void rs_proxy(lua_State *L, int lib, const char *name)
{
    lua_newtable(L);
    rs_lockedmeta(L);
    lua_pushvalue(L, lib);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, name);
    lua_pushcclosure(L, rs_readonly, 1);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
}

/* The base functions a resolver may use; a few are replaced below. */
static const char *const rs_base_names[] = {
    "assert", "error", "ipairs", "next", "pairs", "select", "tonumber",
    "type", "rawequal", "rawlen", "rawget", "getmetatable", "_VERSION",
    NULL
};

/* Build the whitelist table G at the top of the stack from the opened
 * libraries at indices base, str, tab, mth, utf (0: absent). */
static void rs_globals(lua_State *L, int base, int str, int tab, int mth,
                       int utf)
{
    const char *const *nm;
    int g;
    lua_newtable(L);
    g = lua_gettop(L);
    for (nm = rs_base_names; *nm; nm++) {
        lua_getfield(L, base, *nm);
        lua_setfield(L, g, *nm);
    }
    lua_pushcfunction(L, rs_pcall);
    lua_setfield(L, g, "pcall");
    lua_pushcfunction(L, rs_xpcall);
    lua_setfield(L, g, "xpcall");
    lua_getfield(L, base, "tostring");
    lua_pushcclosure(L, rs_tostring, 1);
    lua_setfield(L, g, "tostring");
    lua_getfield(L, base, "setmetatable");
    lua_pushcclosure(L, rs_setmetatable, 1);
    lua_setfield(L, g, "setmetatable");
    rs_proxy(L, str, "string");
    lua_setfield(L, g, "string");
    rs_proxy(L, tab, "table");
    lua_setfield(L, g, "table");
    rs_proxy(L, mth, "math");
    lua_setfield(L, g, "math");
    if (utf) {
        rs_proxy(L, utf, "utf8");
        lua_setfield(L, g, "utf8");
    }
    rs_lockedmeta(L);
    lua_pushcfunction(L, rs_unknown_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, g);
}

/* Make the libraries safe in place: the string table (reachable from
 * every string through its metatable) loses dump and gets the bounded
 * matcher, rep and format; math loses its random generator; the table
 * functions work on plain tables and charge their loops. */
static void rs_harden(lua_State *L, vvl_resolver *r, int str, int tab,
                      int mth)
{
    rs_drop(L, str, "dump");
    rs_drop(L, str, "gfind");                   /* 5.1: stock gmatch */
    lua_pushvalue(L, str);
    vvl_open_match(L, rs_charge, r);
    lua_pop(L, 1);
    rs_wrap(L, r, str, "rep", rs_rep);
    rs_wrap(L, r, str, "format", rs_format);
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    rs_drop(L, mth, "random");
    rs_drop(L, mth, "randomseed");

    rs_wrap(L, r, tab, "insert", rs_tplain);
    rs_wrap(L, r, tab, "remove", rs_tplain);
    rs_wrap(L, r, tab, "concat", rs_tconcat);
    rs_wrap(L, r, tab, "unpack", rs_tunpack);
    rs_wrap(L, r, tab, "move", rs_tmove);
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, rs_tsort, 1);
    lua_setfield(L, tab, "sort");
    rs_drop(L, tab, "foreach");                 /* 5.1 leftovers */
    rs_drop(L, tab, "foreachi");
    rs_drop(L, tab, "maxn");
    rs_drop(L, tab, "setn");
}

/* What rs_setup needs: the resolver and the script text. */
typedef struct rs_load {
    vvl_resolver *r;
    const char *src;
    size_t len;
} rs_load;

/* Protected: open the libraries, build the sandbox, compile the script
 * (text only) and keep what calls need in the registry. */
static int rs_setup(lua_State *L)
{
    rs_load *ld = (rs_load *)lua_touserdata(L, 1);
    vvl_resolver *r = ld->r;
    int base, str, tab, mth, utf = 0, st;
    const char *src = ld->src;
    size_t len = ld->len;
    lua_settop(L, 0);
    rs_openlib(L, "_G", luaopen_base);
    base = lua_gettop(L);
    rs_openlib(L, LUA_STRLIBNAME, luaopen_string);
    str = lua_gettop(L);
    rs_openlib(L, LUA_TABLIBNAME, luaopen_table);
    tab = lua_gettop(L);
    rs_openlib(L, LUA_MATHLIBNAME, luaopen_math);
    mth = lua_gettop(L);
#if LUA_VERSION_NUM >= 503
    rs_openlib(L, LUA_UTF8LIBNAME, luaopen_utf8);
    utf = lua_gettop(L);
#endif
    rs_harden(L, r, str, tab, mth);
    rs_globals(L, base, str, tab, mth, utf);    /* G */

    lua_newtable(L);                            /* the environment */
    rs_lockedmeta(L);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, rs_global_write);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    r->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_pushliteral(L, "instruction budget exceeded");
    r->stop_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushcfunction(L, rs_msgh);
    r->msgh_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushcfunction(L, rs_call);
    r->call_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    for (st = 0; rs_fields[st]; st++) {
        lua_pushstring(L, rs_fields[st]);
        vvc_rawseti(L, -2, st + 1);
    }
    r->names_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    if (len > 0 && src[0] == '#') {             /* skip a "#!" line */
        const char *nl = memchr(src, '\n', len);
        len = nl ? len - (size_t)(nl - src) : 0;
        src = nl ? nl : src + ld->len;
    }
    if (len > 0 && src[0] == LUA_SIGNATURE[0])
        return luaL_error(L, "binary chunks are not accepted");
    lua_pushfstring(L, "@%s", r->path);
#if LUA_VERSION_NUM >= 502 || defined(LUA_JITLIBNAME)
    st = luaL_loadbufferx(L, src, len, lua_tostring(L, -1), "t");
#else
    st = luaL_loadbuffer(L, src, len, lua_tostring(L, -1));
#endif
    if (st == LUA_ERRSYNTAX) {
        lua_pushfstring(L, "syntax error: %s", lua_tostring(L, -1));
        return lua_error(L);
    }
    if (st != LUA_OK) return lua_error(L);
#if LUA_VERSION_NUM < 502
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->env_ref);
    lua_setfenv(L, -2);
#endif
    r->chunk_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* ---- one resolution ------------------------------------------------------ */

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
 * on a bad return, set c->msg and return 0. */
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
    rs_arm(r);
    rs_getresolve(L, r, c->msg, sizeof c->msg);
    rs_disarm(r);
    return 0;
}

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
    rs_arm(r);
    if (!rs_getresolve(L, r, c->msg, sizeof c->msg)) return 0; /* 3 */
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);                                      /* 3 */
    rs_disarm(r);
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

/* Make the malloc'd message of a failed call or load:
 * "resolver for keyspace 'ks' (path): cause". */
static char *rs_message(vvl_resolver *r, int st, const rs_ctx *c)
{
    char cause[RS_MSG_MAX + 160];
    const char *text;
    size_t n;
    char *m;
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
        snprintf(cause, sizeof cause, "%s", c->msg);
    }
    n = strlen(r->ks) + strlen(r->path) + strlen(cause) + 40;
    m = (char *)malloc(n);
    if (m)
        snprintf(m, n, "resolver for keyspace '%s' (%s): %s", r->ks,
                 r->path, cause);
    return m;
}

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
    vvi_buf_init(&c.out);
    r->tripped = r->oom = r->refused = 0;
    r->mem_limit = SIZE_MAX;
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->msgh_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->call_ref);
    lua_pushlightuserdata(L, &c);
    st = lua_pcall(L, 1, 0, 1);
    rs_disarm(r);
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
    vvi_buf_free(&c.out);
    if (err) *err = rs_message(r, st, &c);
    lua_settop(L, 0);
    if (st != LUA_OK) lua_gc(L, LUA_GCCOLLECT, 0);  /* drop a bomb now */
    return VV_ERESOLVER;
}

/* ---- loading ------------------------------------------------------------- */

void vvl_resolver_free(void *ud)
{
    vvl_resolver *r = (vvl_resolver *)ud;
    if (!r) return;
    if (r->L) lua_close(r->L);
    free(r->ks);
    free(r->path);
    free(r);
}

void vvl_resolver_usage(const vvl_resolver *r, uint64_t *steps,
                        size_t *memory)
{
    if (steps) *steps = r ? r->steps : 0;
    if (memory) *memory = r ? r->mem_peak - r->mem_start : 0;
}

void vvl_resolver_exact(vvl_resolver *r)
{
    if (r) r->period = 1;
}

size_t vvl_resolver_memory(const vvl_resolver *r)
{
    return r ? r->mem_used : 0;
}

/* A malloc'd "resolver for keyspace 'ks' (path): text" for load errors. */
static char *rs_loaderr(const char *ks, const char *path, const char *text)
{
    size_t n = strlen(ks) + strlen(path) + strlen(text) + 40;
    char *m = (char *)malloc(n);
    if (m)
        snprintf(m, n, "resolver for keyspace '%s' (%s): %s", ks, path,
                 text);
    return m;
}

int vvl_resolver_load(const char *ks, const char *path, const char *src,
                      size_t len, const vv_ks_config *cfg,
                      vvl_resolver **out, char **err)
{
    vvl_resolver *r;
    rs_load ld;
    rs_ctx c;
    int codec, st;
    if (err) *err = NULL;
    if (!out) return VV_EINVAL;
    *out = NULL;
    if (!ks || !path || (!src && len > 0)) return VV_EINVAL;
    codec = vvl_codec(cfg ? cfg->codec : NULL);
    if (codec < 0) {
        if (err) *err = rs_loaderr(ks, path, "unknown codec");
        return VV_EINVAL;
    }
    r = (vvl_resolver *)calloc(1, sizeof *r);
    if (!r) return VV_ENOMEM;
    r->mem_limit = SIZE_MAX;
    r->codec = codec;
    r->max_steps = cfg && cfg->budget_instructions
                   ? cfg->budget_instructions : VVL_BUDGET_INSTRUCTIONS;
    r->max_mem = cfg && cfg->budget_memory
                 ? (cfg->budget_memory > SIZE_MAX ? SIZE_MAX
                    : (size_t)cfg->budget_memory)
                 : VVL_BUDGET_MEMORY;
    r->period = r->max_steps < RS_PERIOD ? (int)r->max_steps : RS_PERIOD;
    r->ks = vvi_strndup(ks, strlen(ks));
    r->path = vvi_strndup(path, strlen(path));
    if (r->ks) r->L = lua_newstate(rs_alloc, r);
    if (!r->path || !r->L) {
        vvl_resolver_free(r);
        if (err) *err = rs_loaderr(ks, path, "out of memory");
        return VV_ENOMEM;
    }
#if defined(LUA_JITLIBNAME)
    luaJIT_setmode(r->L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
#endif
    ld.r = r;
    ld.src = src ? src : "";
    ld.len = len;
    memset(&c, 0, sizeof c);
    c.r = r;
    if (!lua_checkstack(r->L, 4)) st = LUA_ERRMEM;
    else {
        lua_pushcfunction(r->L, rs_setup);
        lua_pushlightuserdata(r->L, &ld);
        st = lua_pcall(r->L, 1, 0, 0);
    }
    if (st == LUA_OK) {
        lua_rawgeti(r->L, LUA_REGISTRYINDEX, r->msgh_ref);
        lua_pushcfunction(r->L, rs_probe);
        lua_pushlightuserdata(r->L, &c);
        st = lua_pcall(r->L, 1, 0, 1);
        rs_disarm(r);
    }
    if (st != LUA_OK || c.msg[0]) {
        int rc = st == LUA_ERRMEM && !r->refused ? VV_ENOMEM : VV_ERESOLVER;
        if (err) *err = rs_message(r, st, &c);
        vvl_resolver_free(r);
        return rc;
    }
    lua_settop(r->L, 0);
    lua_gc(r->L, LUA_GCCOLLECT, 0);
    *out = r;
    return VV_OK;
}

int vvl_resolver_load_file(const char *ks, const char *path,
                           const vv_ks_config *cfg, vvl_resolver **out,
                           char **err)
{
    FILE *f;
    char *buf, why[160];
    size_t n;
    int rc;
    if (err) *err = NULL;
    if (!out) return VV_EINVAL;
    *out = NULL;
    if (!ks || !path) return VV_EINVAL;
    f = fopen(path, "rb");
    if (!f) {
        snprintf(why, sizeof why, "cannot open the script: %s",
                 strerror(errno));
        if (err) *err = rs_loaderr(ks, path, why);
        return VV_ERESOLVER;
    }
    buf = (char *)malloc(VVL_SCRIPT_MAX + 1);
    if (!buf) {
        fclose(f);
        return VV_ENOMEM;
    }
    n = fread(buf, 1, VVL_SCRIPT_MAX + 1, f);
    if (ferror(f) || n > VVL_SCRIPT_MAX) {
        snprintf(why, sizeof why, ferror(f) ? "cannot read the script: %s"
                 : "the script is larger than %s", ferror(f)
                 ? strerror(errno) : "1 MiB");
        if (err) *err = rs_loaderr(ks, path, why);
        fclose(f);
        free(buf);
        return VV_ERESOLVER;
    }
    fclose(f);
    rc = vvl_resolver_load(ks, path, buf, n, cfg, out, err);
    free(buf);
    return rc;
}

/* ---- the public entry point ------------------------------------------ */

int vv_keyspace_script(vv_db *db, const char *ks, const char *path,
                       const vv_ks_config *cfg)
{
    vv_ks_config c;
    vvl_resolver *r = NULL;
    char *err = NULL, *codec = NULL;
    int rc;
    if (!db) return VV_EINVAL;
    if (!ks || !*ks || !path || !*path)
        return vvi_fail(db, VV_EINVAL, "vv_keyspace_script: a keyspace "
                        "name and a script path are required");
    if (cfg) {
        c = *cfg;
    } else if (vv_keyspace_config(db, ks, &c) == VV_OK) {
        /* keep the keyspace's codec and limits; the strings are the
         * store's, so hold a copy of the codec across vv_keyspace */
        if (c.codec) {
            codec = vvi_strndup(c.codec, strlen(c.codec));
            if (!codec)
                return vvi_fail(db, VV_ENOMEM, "out of memory");
        }
        c.codec = codec;
    } else {
        memset(&c, 0, sizeof c);
    }
    rc = vvl_resolver_load_file(ks, path, &c, &r, &err);
    if (rc != VV_OK) {
        rc = vvi_fail(db, rc, "%s", err ? err : vv_strerror(rc));
        free(err);
        free(codec);
        return rc;
    }
    c.resolver = VV_RESOLVE_CUSTOM;
    c.resolver_name = path;
    c.script = path;
    c.resolve = vvl_resolve;
    c.resolve_ud = r;
    c.resolve_free = vvl_resolver_free;
    rc = vv_keyspace(db, ks, &c);
    if (rc != VV_OK) vvl_resolver_free(r);
    free(codec);
    return rc;
}
