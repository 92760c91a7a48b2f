/* compat.h - one small Lua C API for vv on Lua 5.1, 5.3, 5.4 and LuaJIT. */
#ifndef VV_COMPAT_H
#define VV_COMPAT_H

/* Every version test of vv's Lua side lives in this file, so the module
 * and the codec read the same on every host.  Lua 5.1 and LuaJIT have
 * only floating-point numbers: integers there are exact up to 2^53. */

#include <stdint.h>
#include "lua.h"
#include "lauxlib.h"

#if LUA_VERSION_NUM >= 503
#define VVC_INTEGERS 1          /* the host has a distinct integer type */
#else
#define VVC_INTEGERS 0
#endif

#define VVC_EXACT 9007199254740992.0        /* 2^53 */
#define VVC_TWO64 18446744073709551616.0    /* 2^64 */
#define VVC_TWO63 9223372036854775808.0     /* 2^63 */

/* Turn a relative stack index into an absolute one. */
static inline int vvc_absindex(lua_State *L, int i)
{
    return (i > 0 || i <= LUA_REGISTRYINDEX) ? i : lua_gettop(L) + i + 1;
}

/* luaL_setfuncs: register l into the table on top (below nup upvalues);
 * a NULL function registers false, as a placeholder. */
static inline void vvc_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
#if LUA_VERSION_NUM >= 502
    luaL_setfuncs(L, l, nup);
#else
    luaL_checkstack(L, nup, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        if (l->func == NULL) {
            lua_pushboolean(L, 0);
        } else {
            for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
            lua_pushcclosure(L, l->func, nup);
        }
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
#endif
}

/* luaL_testudata: the userdata at i when its metatable is tname's. */
static inline void *vvc_testudata(lua_State *L, int i, const char *tname)
{
    void *p = lua_touserdata(L, i);
    int same;
    if (p == NULL || !lua_getmetatable(L, i)) return NULL;
    luaL_getmetatable(L, tname);
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? p : NULL;
}

/* luaL_setmetatable: give the value on top tname's metatable. */
static inline void vvc_setmetatable(lua_State *L, const char *tname)
{
    luaL_getmetatable(L, tname);
    lua_setmetatable(L, -2);
}

/* A full userdata without a user value (5.4 makes room for one unless
 * told not to). */
static inline void *vvc_newudata(lua_State *L, size_t size)
{
#if LUA_VERSION_NUM >= 504
    return lua_newuserdatauv(L, size, 0);
#else
    return lua_newuserdata(L, size);
#endif
}

/* A full userdata with room for one user value (a table). */
static inline void *vvc_newuserdata(lua_State *L, size_t size)
{
#if LUA_VERSION_NUM >= 504
    return lua_newuserdatauv(L, size, 1);
#else
    return lua_newuserdata(L, size);
#endif
}

/* Pop a table and make it the user value of the userdata at i. */
static inline void vvc_setuservalue(lua_State *L, int i)
{
#if LUA_VERSION_NUM >= 504
    lua_setiuservalue(L, i, 1);
#elif LUA_VERSION_NUM >= 502
    lua_setuservalue(L, i);
#else
    lua_setfenv(L, i);
#endif
}

/* Push the user value of the userdata at i. */
static inline void vvc_getuservalue(lua_State *L, int i)
{
#if LUA_VERSION_NUM >= 504
    lua_getiuservalue(L, i, 1);
#elif LUA_VERSION_NUM >= 502
    lua_getuservalue(L, i);
#else
    lua_getfenv(L, i);
#endif
}

/* Length of a string or sequence without metamethods. */
static inline size_t vvc_rawlen(lua_State *L, int i)
{
#if LUA_VERSION_NUM >= 502
    return (size_t)lua_rawlen(L, i);
#else
    return lua_objlen(L, i);
#endif
}

/* Push t[i] (t at index t) without metamethods. */
static inline void vvc_rawgeti(lua_State *L, int t, lua_Integer i)
{
#if LUA_VERSION_NUM >= 503
    lua_rawgeti(L, t, i);
#else
    lua_rawgeti(L, t, (int)i);
#endif
}

/* Pop a value into t[i] (t at index t) without metamethods. */
static inline void vvc_rawseti(lua_State *L, int t, lua_Integer i)
{
#if LUA_VERSION_NUM >= 503
    lua_rawseti(L, t, i);
#else
    lua_rawseti(L, t, (int)i);
#endif
}

/* Is the value at a less than the one at b (metamethods apply)? */
static inline int vvc_lessthan(lua_State *L, int a, int b)
{
#if LUA_VERSION_NUM >= 502
    return lua_compare(L, a, b, LUA_OPLT);
#else
    return lua_lessthan(L, a, b);
#endif
}

/* Raise "bad argument #arg to 'f' (tname expected, got <type>)", naming
 * vv's own userdata by their metatable's __name. */
static inline int vvc_typeerror(lua_State *L, int arg, const char *tname)
{
    const char *got;
    if (luaL_getmetafield(L, arg, "__name") && lua_type(L, -1) == LUA_TSTRING)
        got = lua_tostring(L, -1);
    else if (lua_isnone(L, arg))
        got = "no value";
    else
        got = luaL_typename(L, arg);
    return luaL_argerror(L, arg,
                         lua_pushfstring(L, "%s expected, got %s", tname, got));
}

/* Is the number at i an integer as the host sees it?  5.3+: an integer
 * subtype value; 5.1/LuaJIT: a whole number within +-2^53.  The value
 * goes to *out. */
static inline int vvc_isint64(lua_State *L, int i, int64_t *out)
{
#if VVC_INTEGERS
    if (!lua_isinteger(L, i)) return 0;
    *out = (int64_t)lua_tointeger(L, i);
    return 1;
#else
    lua_Number d = lua_tonumber(L, i);
    if (d != d || d < -VVC_EXACT || d > VVC_EXACT ||
        d != (lua_Number)(int64_t)d)
        return 0;
    *out = (int64_t)d;
    return 1;
#endif
}

/* Push a signed 64-bit integer (a float on 5.1/LuaJIT). */
static inline void vvc_pushint64(lua_State *L, int64_t v)
{
#if VVC_INTEGERS
    lua_pushinteger(L, (lua_Integer)v);
#else
    lua_pushnumber(L, (lua_Number)v);
#endif
}

/* Push an unsigned 64-bit integer: an integer when it fits lua_Integer,
 * else the nearest float. */
static inline void vvc_pushuint64(lua_State *L, uint64_t v)
{
#if VVC_INTEGERS
    if (v <= (uint64_t)LUA_MAXINTEGER) {
        lua_pushinteger(L, (lua_Integer)v);
        return;
    }
#endif
    lua_pushnumber(L, (lua_Number)v);
}

/* Read a non-negative whole number below 2^64 (a counter) at i.
 * Returns 0 and sets *out; -1 when not a non-negative whole number;
 * -2 when 2^64 or more. */
static inline int vvc_touint64(lua_State *L, int i, uint64_t *out)
{
    lua_Number d;
    if (lua_type(L, i) != LUA_TNUMBER) return -1;
#if VVC_INTEGERS
    if (lua_isinteger(L, i)) {
        lua_Integer n = lua_tointeger(L, i);
        if (n < 0) return -1;
        *out = (uint64_t)n;
        return 0;
    }
#endif
    d = lua_tonumber(L, i);
    if (d != d || d < 0) return -1;             /* NaN or negative */
    if (d >= VVC_TWO64) return -2;              /* too big, or inf */
    if ((lua_Number)(uint64_t)d != d) return -1; /* has a fraction */
    *out = (uint64_t)d;
    return 0;
}

#endif /* VV_COMPAT_H */
