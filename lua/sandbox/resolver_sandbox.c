/* resolver_sandbox.c - a resolver's environment: whitelisted, read-only. */
/*
 * A keyspace with a script resolver owns a private lua_State; this file
 * builds what its script sees:
 *
 *  - libraries: base (a whitelist), string, table, math and utf8 only.
 *    The script's environment is an empty table whose reads fall through
 *    to that whitelist and raise on unknown names, and whose writes raise.
 *    Library tables are read-only proxies; every metatable the sandbox
 *    made, and the string metatable, is protected by __metatable.
 *  - hardened libraries: no string.dump, no math.random; the string
 *    library (reachable from every string) gets the bounded matcher
 *    (pattern.c); functions that could escape a budget or show an address
 *    are replaced (resolver_lib.c, resolver_sort.c).
 */
#include "lualib.h"
#include "resolver_int.h"

/* ---- what a script may not do -------------------------------------------- */

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

/* ---- building the sandbox ------------------------------------------------ */

/* Open a library by calling its luaopen_ function; leaves its table. */
static void rs_openlib(lua_State *L, const char *name, lua_CFunction f)
{
    lua_pushcfunction(L, f);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
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
    vvl_rs_base(L, base, g);
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
    vvl_open_match(L, vvl_rs_charge, r);
    lua_pop(L, 1);
    vvl_rs_string(L, r, str);
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    rs_drop(L, mth, "random");
    rs_drop(L, mth, "randomseed");

    vvl_rs_table(L, r, tab);
    rs_drop(L, tab, "foreach");                 /* 5.1 leftovers */
    rs_drop(L, tab, "foreachi");
    rs_drop(L, tab, "maxn");
    rs_drop(L, tab, "setn");
}

/* Open the libraries, make them safe, build the whitelist and the
 * script's environment (kept as r->env_ref).  Runs protected (it may
 * raise a memory error); leaves the stack as it found it. */
void vvl_rs_sandbox(lua_State *L, vvl_resolver *r)
{
    int top = lua_gettop(L);
    int base, str, tab, mth, utf = 0;
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
    lua_settop(L, top);
}
