/* lvv.h - what the files of the Lua module "vv" share (lvv*.c). */
#ifndef VV_LVV_H
#define VV_LVV_H

#include "lua.h"
#include "lauxlib.h"
#include "vvlua.h"
#include "lcodec.h"
#include "compat.h"

#define CLOCK "vv.clock"
#define STORE "vv.store"
#define BOX   "vv.box"

/* ---- boxes: C memory owned by the Lua GC during a call (lvv.c) -------- */
#define BOX_MEM  1                  /* p from vv (vv_free) */
#define BOX_BUF  2                  /* a vvi_buf */
#define BOX_READ 3                  /* a vv_read */

typedef struct box {
    int kind;
    void *p;
    vvi_buf b;
} box;

/* Push a new empty box of a kind. */
box *vvl_newbox(lua_State *L, int kind);
/* Release what a box holds; safe to call twice. */
void vvl_box_release(box *x);

/* ---- clocks (lvv_clock.c) ----------------------------------------------- */
typedef struct lclock {
    vv_clock *c;                    /* NULL once collected */
} lclock;

/* Push a clock userdata holding nothing yet; fill ->c afterwards. */
lclock *vvl_newclock(lua_State *L);
/* The clock at argument i, or a "clock expected" argument error. */
vv_clock *vvl_checkclock(lua_State *L, int i);
/* The clock at argument i, NULL when nil or absent. */
vv_clock *vvl_optclock(lua_State *L, int i);
/* A string argument without coercion from numbers. */
const char *vvl_checkstr(lua_State *L, int i, size_t *len);
/* Raise for a failed clock call. */
int vvl_clock_fail(lua_State *L, const char *fn, int rc, const char *node);

/* ---- stores (lvv_store.c) ----------------------------------------------- */
typedef struct lstore {
    vv_db *db;                      /* NULL once closed */
    int batch;                      /* db:batch nesting */
} lstore;

/* The store at argument 1, open. */
lstore *vvl_checkstore(lua_State *L);
/* Raise for a failed store call, with the store's message. */
int vvl_db_fail(lua_State *L, lstore *s, const char *fn, int rc);
/* A keyspace name argument: a string without NUL bytes. */
const char *vvl_checkks(lua_State *L, int i);
/* The codec of keyspace ks as recorded by the store. */
int vvl_ks_codec(lstore *s, const char *ks);
/* Push the binding's own settings for keyspace ks ({fn=, wb=}) or nil. */
void vvl_ks_local(lua_State *L, int store, const char *ks);
/* Do the keyspace settings at i hold a host function resolver? */
int vvl_has_fn(lua_State *L, int i);

/* ---- method tables ------------------------------------------------------ */
extern const luaL_Reg vvl_clock_meth[], vvl_clock_metameth[], vvl_clock_lib[];
extern const luaL_Reg vvl_store_meth[], vvl_store_metameth[], vvl_store_lib[];
extern const luaL_Reg vvl_rw_meth[];       /* lvv_rw.c */
extern const luaL_Reg vvl_sync_meth[];     /* lvv_sync.c */
extern const luaL_Reg vvl_inspect_meth[];  /* lvv_inspect.c */

#endif /* VV_LVV_H */
