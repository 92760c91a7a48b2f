/* lvv.c - the Lua module "vv": registration, boxes, vv.encode/decode. */

/* Layout follows liolib/lstrlib: static clock_* and db_* functions in
 * lvv_clock.c, lvv_store.c, lvv_rw.c, lvv_sync.c and lvv_inspect.c, each
 * with its method table; this file makes the metatables and luaopen_vv
 * comes last.  Every C resource a call holds while it may raise (a read,
 * a byte buffer, memory from vv) sits in a small "vv.box" userdata first,
 * so a Lua error or a memory error never leaks it.  Version differences
 * live in compat.h. */

#include <string.h>
#include "lvv.h"
#include "ltools.h"

int luaopen_vv(lua_State *L);

/* ==== boxes: C memory owned by the Lua GC during a call ============== */

/* Push a new empty box of a kind. */
box *vvl_newbox(lua_State *L, int kind)
{
    box *x = (box *)lua_newuserdata(L, sizeof *x);
    x->kind = kind;
    x->p = NULL;
    vvi_buf_init(&x->b);
    vvc_setmetatable(L, BOX);
    return x;
}

/* Release what a box holds; safe to call twice. */
void vvl_box_release(box *x)
{
    switch (x->kind) {
    case BOX_MEM:  vv_free(x->p); break;
    case BOX_READ: vv_read_free((vv_read *)x->p); break;
    default: break;
    }
    x->p = NULL;
    vvi_buf_free(&x->b);
}

/* __gc of a box. */
static int box_gc(lua_State *L)
{
    vvl_box_release((box *)luaL_checkudata(L, 1, BOX));
    return 0;
}

/* ==== values ======================================================== */

/* The codec named by optional argument i ("msgpack" or "raw"). */
static int checkcodec(lua_State *L, int i)
{
    const char *name = luaL_optstring(L, i, "msgpack");
    int codec = vvl_codec(name);
    if (codec < 0)
        luaL_argerror(L, i, lua_pushfstring(L, "unknown codec '%s' (msgpack "
                                            "or raw)", name));
    return codec;
}

/* vv.encode(value [, codec]) -> the bytes a keyspace stores for value. */
static int lib_encode(lua_State *L)
{
    int codec;
    box *x;
    char err[200];
    int rc;
    luaL_checkany(L, 1);
    codec = checkcodec(L, 2);
    x = vvl_newbox(L, BOX_BUF);
    rc = vvl_encode(L, 1, codec, &x->b, err, sizeof err);
    if (rc == VV_ENOMEM) return luaL_error(L, "not enough memory");
    if (rc) return luaL_argerror(L, 1, err);
    lua_pushlstring(L, (const char *)x->b.p, x->b.len);
    vvl_box_release(x);
    return 1;
}

/* vv.decode(bytes [, codec]) -> the value; corrupt bytes raise. */
static int lib_decode(lua_State *L)
{
    size_t len;
    const char *p = vvl_checkstr(L, 1, &len);
    int codec = checkcodec(L, 2);
    char err[200];
    if (vvl_decode(L, p, len, codec, err, sizeof err))
        return luaL_error(L, "decode: %s", err);
    return 1;
}

/* ==== registration =================================================== */

static const luaL_Reg box_metameth[] = {
    {"__gc", box_gc},
    {NULL, NULL}
};


static const luaL_Reg values_lib[] = {
    {"encode", lib_encode},
    {"decode", lib_decode},
    {NULL, NULL}
};

/* Create metatable tname with metamethods mm and an __index table of the
 * methods in the lists meth (NULL-terminated; none: no __index). */
static void createmeta(lua_State *L, const char *tname, const luaL_Reg *mm,
                       const luaL_Reg *const *meth)
{
    luaL_newmetatable(L, tname);        /* metatable */
    lua_pushstring(L, tname);
    lua_setfield(L, -2, "__name");      /* 5.1 and LuaJIT do not set it */
    vvc_setfuncs(L, mm, 0);
    if (meth && *meth) {
        lua_createtable(L, 0, 24);      /* method table */
        for (; *meth; meth++) vvc_setfuncs(L, *meth, 0);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
}

/* require "vv" */
int luaopen_vv(lua_State *L)
{
    static const luaL_Reg *const clock_meths[] = { vvl_clock_meth, NULL };
    static const luaL_Reg *const store_meths[] = {
        vvl_store_meth, vvl_rw_meth, vvl_sync_meth, vvl_inspect_meth, NULL
    };
    createmeta(L, CLOCK, vvl_clock_metameth, clock_meths);
    createmeta(L, STORE, vvl_store_metameth, store_meths);
    createmeta(L, BOX, box_metameth, NULL);
    lua_createtable(L, 0, 12);
    vvc_setfuncs(L, vvl_clock_lib, 0);
    vvc_setfuncs(L, vvl_store_lib, 0);
    vvc_setfuncs(L, values_lib, 0);
    lua_pushliteral(L, VV_VERSION);
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "vv");
    lua_setfield(L, -2, "_NAME");
    vvl_open_tools(L);              /* vv.dot, vv.check_resolver, ... */
    return 1;
}
