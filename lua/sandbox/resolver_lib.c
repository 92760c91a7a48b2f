/* resolver_lib.c - safe replacements of base, string and table functions. */
/*
 * Each replacement keeps the stock function's behaviour except where that
 * would let a script escape its budgets or depend on where the allocator
 * put something:
 *
 *  - pcall and xpcall re-raise budget and memory errors, and charge a
 *    caught error (raising and unwinding cost far more than an instruction).
 *  - tostring and string.format show no addresses; format refuses '%p'.
 *  - string.rep charges a long result and returns an empty one at once.
 *  - setmetatable refuses __gc and __mode.
 *  - the table library takes plain tables only (no __len, __index or
 *    __newindex to stretch a C loop) and charges the ranges it walks;
 *    table.sort is resolver_sort.c.
 *
 * A replacement is a C closure over the stock function (upvalue 1) and,
 * where it charges, the resolver (upvalue 2).
 */
#include <stdint.h>
#include <string.h>
#include "resolver_int.h"

#define RS_CATCH_COST 100       /* steps charged for a caught error */

/* ---- calling the stock function ------------------------------------------ */

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

/* Call the stock function (upvalue 1) with all arguments; return all its
 * results. */
static int rs_forward(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* ---- base functions ------------------------------------------------------ */

/* Re-raise the error on top when it must not be caught by the script:
 * a spent budget or a memory error.  Otherwise charge the catch: raising
 * and unwinding cost far more than an instruction (RS_CATCH_COST). */
static void rs_rethrow(lua_State *L, int st)
{
    vvl_resolver *r = vvl_rs_self(L);
    if (st == LUA_ERRMEM) r->oom = 1;
    if (st == LUA_ERRMEM || st == LUA_ERRERR || r->tripped || r->oom)
        lua_error(L);
    vvl_rs_charge(L, r, RS_CATCH_COST);
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
    return rs_forward(L);
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
    return rs_forward(L);
}

/* Set pcall, xpcall, tostring and setmetatable in the table at g; the
 * last two wrap the stock ones of the base library at index base. */
void vvl_rs_base(lua_State *L, int base, int g)
{
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
}

/* ---- the string library -------------------------------------------------- */

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
    return rs_forward(L);
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
    rs_forward(L);
    /* the result fit in the memory budget, so n is small enough for the
     * loop to have run; charge it now */
    vvl_rs_charge(L, lua_touserdata(L, lua_upvalueindex(2)),
                  (uint64_t)n / 16);
    return 1;
}

/* Replace rep and format in the string library at index str. */
void vvl_rs_string(lua_State *L, vvl_resolver *r, int str)
{
    rs_wrap(L, r, str, "rep", rs_rep);
    rs_wrap(L, r, str, "format", rs_format);
}

/* ---- the table library on plain tables ----------------------------------- */

/* Refuse a table argument that has a metatable: __len, __index and
 * __newindex could otherwise stretch a C loop beyond any budget. */
void vvl_rs_plain(lua_State *L, int i)
{
    if (lua_type(L, i) == LUA_TTABLE && lua_getmetatable(L, i))
        luaL_argerror(L, i, "plain table expected (no metatable)");
}

/* Charge the length of the range [i, j] (nothing when empty). */
static void rs_charge_range(lua_State *L, lua_Integer i, lua_Integer j)
{
    if (j >= i)
        vvl_rs_charge(L, lua_touserdata(L, lua_upvalueindex(2)),
                      (uint64_t)j - (uint64_t)i + 1);
}

/* table.insert / table.remove: plain tables only. */
static int rs_tplain(lua_State *L)
{
    vvl_rs_plain(L, 1);
    return rs_forward(L);
}

/* table.concat(list, sep, i, j): plain, the range charged. */
static int rs_tconcat(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    vvl_rs_plain(L, 1);
    rs_charge_range(L, luaL_optinteger(L, 3, 1),
                    luaL_optinteger(L, 4, (lua_Integer)vvc_rawlen(L, 1)));
    return rs_forward(L);
}

/* table.unpack(list, i, j): plain, the range charged. */
static int rs_tunpack(lua_State *L)
{
    vvl_rs_plain(L, 1);
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
    vvl_rs_plain(L, 1);
    vvl_rs_plain(L, 5);
    rs_charge_range(L, luaL_checkinteger(L, 2), luaL_checkinteger(L, 3));
    return rs_forward(L);
}

/* Replace the functions of the table library at index tab that loop in
 * C: plain tables only, ranges charged, a stable charged sort. */
void vvl_rs_table(lua_State *L, vvl_resolver *r, int tab)
{
    rs_wrap(L, r, tab, "insert", rs_tplain);
    rs_wrap(L, r, tab, "remove", rs_tplain);
    rs_wrap(L, r, tab, "concat", rs_tconcat);
    rs_wrap(L, r, tab, "unpack", rs_tunpack);
    rs_wrap(L, r, tab, "move", rs_tmove);
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, vvl_rs_sort, 1);
    lua_setfield(L, tab, "sort");
}
