/* lvv_handle.c - keyspace handles: db:keyspace_handle(name) and its calls. */
/*
 * A handle binds a store to one keyspace, so that the hot calls take the
 * key first and skip the keyspace argument's checks:
 *
 *   local carts = db:keyspace_handle("carts")
 *   carts:put("alice", { "apple" })        -- db:put("carts", "alice", ...)
 *   local r = carts:get("alice")           -- db:get("carts", "alice")
 *
 * get, put, delete, update, export and merge give what the store's own
 * methods give, with the same errors; the operations themselves are
 * lvv_rw.c's.  The handle holds the store (its user value is {store}),
 * so the store lives at least as long as its handles; a closed store
 * makes its handles raise as the store does.
 */
#include <string.h>
#include "lvv.h"

/* db:keyspace_handle(name) -> a handle on keyspace name of db.  The
 * keyspace is not created until a write uses it, as for db:put. */
static int db_keyspace_handle(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t len = strlen(ks);
    lhandle *h;
    if (len == 0 || len > VVL_KS_MAX)
        return luaL_argerror(L, 2, "keyspace name of 1 to 255 bytes "
                             "expected");
    h = (lhandle *)vvc_newuserdata(L, sizeof *h);
    h->s = s;
    h->kslen = len;
    memcpy(h->ks, ks, len + 1);
    lua_pushvalue(L, VVL_UV(VVL_UV_HANDLE));
    lua_setmetatable(L, -2);
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 1);
    vvc_rawseti(L, -2, 1);
    vvc_setuservalue(L, -2);
    return 1;
}

/* The handle at index 1, or an argument error. */
static lhandle *checkhandle(lua_State *L)
{
    lhandle *h = (lhandle *)vvl_isudata(L, 1, VVL_UV_HANDLE);
    if (h == NULL) {
        vvc_typeerror(L, 1, "keyspace handle");
        return NULL;                    /* not reached */
    }
    return h;
}

void vvl_handlecall(lua_State *L, vvl_call *c)
{
    lhandle *h = checkhandle(L);
    if (h->s->db == NULL) luaL_error(L, "attempt to use a closed store");
    c->s = h->s;
    c->ks = h->ks;
    c->key = 2;
    c->store = 0;
    c->handle = 1;
}

/* h:put(key, value [, context]) -> the key's new context. */
static int h_put(lua_State *L)
{
    vvl_call c;
    vvl_handlecall(L, &c);
    return vvl_put(L, &c);
}

/* h:delete(key [, context]) -> the key's new context. */
static int h_delete(lua_State *L)
{
    vvl_call c;
    vvl_handlecall(L, &c);
    return vvl_delete(L, &c);
}

/* h:get(key) -> nil when absent or deleted, else the read. */
static int h_get(lua_State *L)
{
    vvl_call c;
    vvl_handlecall(L, &c);
    return vvl_get(L, &c);
}

/* h:update(key, fn) -> what fn returned. */
static int h_update(lua_State *L)
{
    vvl_call c;
    vvl_handlecall(L, &c);
    return vvl_update(L, &c);
}

/* h:export(key) -> the key's whole state as bytes, or nil. */
static int h_export(lua_State *L)
{
    vvl_call c;
    vvl_handlecall(L, &c);
    return vvl_export(L, &c);
}

/* h:merge(key, state) -> true. */
static int h_merge(lua_State *L)
{
    vvl_call c;
    vvl_handlecall(L, &c);
    return vvl_merge(L, &c);
}

/* h:name() -> the keyspace's name. */
static int h_name(lua_State *L)
{
    lhandle *h = checkhandle(L);
    lua_pushlstring(L, h->ks, h->kslen);
    return 1;
}

/* tostring(h) -> "vv.keyspace_handle (<name>)". */
static int h_tostring(lua_State *L)
{
    lhandle *h = checkhandle(L);
    lua_pushfstring(L, "%s (%s)", HANDLE, h->ks);
    return 1;
}

/* ---- registration ---------------------------------------------------- */

const luaL_Reg vvl_handle_meth[] = {
    {"get", h_get},
    {"put", h_put},
    {"delete", h_delete},
    {"update", h_update},
    {"export", h_export},
    {"merge", h_merge},
    {"name", h_name},
    {NULL, NULL}
};

const luaL_Reg vvl_handle_metameth[] = {
    {"__index", NULL},              /* placeholder */
    {"__tostring", h_tostring},
    {NULL, NULL}
};

/* The store method of this file. */
const luaL_Reg vvl_handle_store[] = {
    {"keyspace_handle", db_keyspace_handle},
    {NULL, NULL}
};
