/* lvv.c - the Lua module "vv": registration, boxes, vv.encode/decode. */

/* Layout follows liolib/lstrlib: static clock_* and db_* functions in
 * lvv_clock.c, lvv_store.c, lvv_rw.c, lvv_sync.c, lvv_inspect.c,
 * lvv_state.c and lvv_handle.c, each with its method table; this file
 * makes the metatables and luaopen_vv comes last.  On LuaJIT, lvv_ffi.c
 * then moves the hot calls onto ffi.  Every C resource a call holds
 * while it may raise (a read, a byte buffer, memory from vv) sits in a
 * small "vv.box" userdata first, so a Lua error or a memory error never
 * leaks it.  Version differences live in compat.h. */

#include <string.h>
#include <time.h>
#include "lvv.h"
#include "tools/ltools.h"
#include "sandbox/resolver.h"

int luaopen_vv(lua_State *L);

/* ==== boxes: C memory owned by the Lua GC during a call ============== */

/* Push a new empty box of a kind. */
box *vvl_newbox(lua_State *L, int kind)
{
    box *x = (box *)lua_newuserdata(L, sizeof *x);
    x->kind = kind;
    x->p = NULL;
    vv_buf_init(&x->b);
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
    vv_buf_free(&x->b);
}

int vvl_push_mem(lua_State *L, box *x, size_t len)
{
    lua_pushlstring(L, (const char *)x->p, len);
    vvl_box_release(x);
    return 1;
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

/* vv.now() -> the wall clock in whole milliseconds since the epoch, the
 * clock a store stamps its writes with (vv.crdt's registers use it). */
static int lib_now(lua_State *L)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    lua_pushnumber(L, (lua_Number)t.tv_sec * 1000 + t.tv_nsec / 1000000);
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
    {"now", lib_now},
    {NULL, NULL}
};

void vvl_setfuncs_uv(lua_State *L, int t, const luaL_Reg *l, int base)
{
    int i;
    lua_pushvalue(L, t);
    for (i = 0; i < VVL_NUP; i++) lua_pushvalue(L, base + i);
    vvc_setfuncs(L, l, VVL_NUP);
    lua_pop(L, 1);
}

/* Fill metatable mt: its name, metamethods mm and (when methods, a table
 * index) __index. */
static void fillmeta(lua_State *L, int mt, const char *name,
                     const luaL_Reg *mm, int methods, int base)
{
    lua_pushstring(L, name);
    lua_setfield(L, mt, "__name");      /* 5.1 and LuaJIT do not set it */
    vvl_setfuncs_uv(L, mt, mm, base);
    if (methods) {
        lua_pushvalue(L, methods);
        lua_setfield(L, mt, "__index");
    }
}

/* require "vv".  The metatables and a few strings are made first: every
 * function of the module gets them as upvalues (lvv.h, VVL_UV_*), so
 * checking a userdata or setting a field costs no registry lookup. */
int luaopen_vv(lua_State *L)
{
    static const luaL_Reg *const store_meths[] = {
        vvl_store_meth, vvl_rw_meth, vvl_sync_meth, vvl_inspect_meth,
        vvl_state_meth, vvl_handle_store, NULL
    };
    static const luaL_Reg clock_gc[] = {
        {"__gc", vvl_clock_gc},
        {NULL, NULL}
    };
    const luaL_Reg *const *m;
    int base, cm, sm, hm;
    luaL_newmetatable(L, STORE);        /* the upvalues, in VVL_UV_ order */
    base = lua_gettop(L);
    luaL_newmetatable(L, CLOCK);
    luaL_newmetatable(L, CLOCK0);
    luaL_newmetatable(L, READ);
    lua_pushliteral(L, "value");
    lua_pushliteral(L, "context");
    luaL_newmetatable(L, HANDLE);
    lua_createtable(L, 0, 12);          /* clock methods */
    cm = lua_gettop(L);
    vvl_setfuncs_uv(L, cm, vvl_clock_meth, base);
    lua_createtable(L, 0, 24);          /* store methods */
    sm = lua_gettop(L);
    for (m = store_meths; *m; m++) vvl_setfuncs_uv(L, sm, *m, base);
    lua_createtable(L, 0, 8);           /* keyspace handle methods */
    hm = lua_gettop(L);
    vvl_setfuncs_uv(L, hm, vvl_handle_meth, base);
    fillmeta(L, base + VVL_UV_HANDLE - 1, HANDLE, vvl_handle_metameth, hm,
             base);
    fillmeta(L, base + VVL_UV_STORE - 1, STORE, vvl_store_metameth, sm, base);
    fillmeta(L, base + VVL_UV_CLOCK0 - 1, CLOCK, vvl_clock_metameth, cm,
             base);
    /* both clock metatables share the very same metamethods: Lua 5.1
     * compares two values only when their __lt/__le/__eq are equal */
    lua_pushnil(L);
    while (lua_next(L, base + VVL_UV_CLOCK0 - 1)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, base + VVL_UV_CLOCK - 1);
    }
    vvl_setfuncs_uv(L, base + VVL_UV_CLOCK - 1, clock_gc, base);
    fillmeta(L, base + VVL_UV_READ - 1, READ, vvl_read_metameth, 0, base);
    luaL_newmetatable(L, BOX);
    lua_pushstring(L, BOX);
    lua_setfield(L, -2, "__name");
    vvc_setfuncs(L, box_metameth, 0);
    lua_pop(L, 1);
    luaL_newmetatable(L, WORK);
    lua_pushstring(L, WORK);
    lua_setfield(L, -2, "__name");
    lua_pushcfunction(L, vvl_work_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    lua_createtable(L, 0, 12);          /* the module */
    vvl_setfuncs_uv(L, lua_gettop(L), vvl_clock_lib, base);
    vvl_setfuncs_uv(L, lua_gettop(L), vvl_store_lib, base);
    vvl_setfuncs_uv(L, lua_gettop(L), values_lib, base);
    vvl_setfuncs_uv(L, lua_gettop(L), vvl_state_lib, base);
    vvl_setfuncs_uv(L, lua_gettop(L), vvl_bench_lib, base);
    lua_pushliteral(L, VV_VERSION);
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "vv");
    lua_setfield(L, -2, "_NAME");
    vvl_open_ffi(L, lua_gettop(L), sm, hm, base);  /* LuaJIT: ffi */
    vvl_open_tools(L);              /* vv.dot, vv.check_resolver, ... */
    vvl_resolver_host(L);           /* can sandboxes count their bytes? */
    return 1;
}
