/* lvv.h - what the files of the Lua module "vv" share (lvv*.c). */
#ifndef VV_LVV_H
#define VV_LVV_H

#include "lua.h"
#include "lauxlib.h"
#include "common/vvlua.h"
#include "common/lcodec.h"
#include "common/compat.h"

#define CLOCK  "vv.clock"
#define CLOCK0 "vv.clock0"          /* registry name of inline clocks */
#define STORE  "vv.store"
#define BOX    "vv.box"
#define READ   "vv.read"
#define HANDLE "vv.keyspace_handle"

/* ---- the upvalues every function of the module has (lvv.c) -------------- */
#define VVL_UV_STORE   1            /* the store metatable */
#define VVL_UV_CLOCK   2            /* clocks holding heap memory (__gc) */
#define VVL_UV_CLOCK0  3            /* clocks all inside their userdata */
#define VVL_UV_READ    4            /* lazy read results */
#define VVL_UV_KVALUE  5            /* the string "value" */
#define VVL_UV_KCONTEXT 6           /* the string "context" */
#define VVL_UV_HANDLE  7            /* keyspace handles */
#define VVL_NUP        7
#define VVL_UV(i)      lua_upvalueindex(i)

/* Is the value at i a userdata whose metatable is upvalue uv's? */
static inline void *vvl_isudata(lua_State *L, int i, int uv)
{
    void *p = lua_touserdata(L, i);
    int same;
    if (p == NULL || !lua_getmetatable(L, i)) return NULL;
    same = lua_rawequal(L, -1, VVL_UV(uv));
    lua_pop(L, 1);
    return same ? p : NULL;
}

/* ---- boxes: C memory owned by the Lua GC during a call (lvv.c) -------- */
#define BOX_MEM  1                  /* p from vv (vv_free) */
#define BOX_BUF  2                  /* a vv_buf */
#define BOX_READ 3                  /* a vv_read */

typedef struct box {
    int kind;
    void *p;
    vv_buf b;
} box;

/* Push a new empty box of a kind. */
box *vvl_newbox(lua_State *L, int kind);
/* Give the table at t the functions of l, each with the module's shared
 * upvalues (the VVL_NUP values from index base on). */
void vvl_setfuncs_uv(lua_State *L, int t, const luaL_Reg *l, int base);
/* Release what a box holds; safe to call twice. */
void vvl_box_release(box *x);

typedef struct lstore lstore;       /* a store (lvv_store.c) */

/* ---- clocks (lvv_clock.c) ----------------------------------------------- */
typedef struct lclock {
    int live;                       /* 0 once collected or closed */
    int gc;                         /* it has the metatable with __gc */
    unsigned room;                  /* entries c keeps inside itself */
    size_t extra;                   /* bytes after it (vvl_clock_extra) */
    vv_clock c;                     /* last: VV_CLOCK_SIZE(room) bytes */
} lclock;

/* Push a new empty clock userdata with room for VV_CLOCK_INLINE entries
 * inside it (a clock from vv_clock_init); fill ->c afterwards. */
lclock *vvl_newclock(lua_State *L);
/* The same with extra bytes after the clock for its maker's own use. */
lclock *vvl_newclock_extra(lua_State *L, size_t extra);
/* Push a new empty clock userdata with room for room entries inside it
 * (vv_clock_take_room: not for vv_write's into), and extra bytes. */
lclock *vvl_newclock_room(lua_State *L, size_t room, size_t extra);
#define vvl_clock_extra(p) \
    ((void *)((char *)&(p)->c + VV_CLOCK_SIZE((p)->room)))

/* A result clock is made in the store's spare clock and then pushed in
 * a userdata sized to it, so that a clock of one entry takes a third of
 * the memory (the collector's work follows the bytes).  vvl_spare_out
 * gives the spare, empty, or NULL while another call has it out (a
 * finalizer run by an allocation during that call): that call then makes
 * its clock the old way, in a userdata pushed first.  If pushing raises,
 * the spare stays out, its entries owned by the store (freed by its next
 * use or its close). */
vv_clock *vvl_spare_out(lstore *s);
/* Put the spare back without a result (a failed call). */
void vvl_spare_in(lstore *s);
/* Push a clock userdata holding the spare's entries, sized to them, with
 * extra bytes after it; the spare is back in. */
lclock *vvl_spare_push(lua_State *L, lstore *s, size_t extra);
/* The clock at argument i, or a "clock expected" argument error. */
vv_clock *vvl_checkclock(lua_State *L, int i);
/* The clock at argument i, NULL when nil or absent. */
vv_clock *vvl_optclock(lua_State *L, int i);
/* A string argument without coercion from numbers. */
const char *vvl_checkstr(lua_State *L, int i, size_t *len);
/* Raise for a failed clock call. */
int vvl_clock_fail(lua_State *L, const char *fn, int rc, const char *node);
/* The clock userdata at i, or NULL (no check that it is live). */
lclock *vvl_toclock(lua_State *L, int i);
/* After the clock at i may have grown onto the heap: give it the
 * metatable with __gc, so that memory is freed with it. */
void vvl_clock_settle(lua_State *L, int i, lclock *p);
/* __gc and __close of clocks. */
int vvl_clock_gc(lua_State *L);

/* ---- stores (lvv_store.c) ----------------------------------------------- */
struct lstore {
    vv_db *db;                      /* NULL once closed */
    int batch;                      /* db:batch nesting */
    int spare_out;                  /* spare is in use (vvl_spare_out) */
    vv_read *rd;                    /* reused by db:get (NULL: none yet,
                                       or lent to a nested call) */
    vv_buf enc;                     /* reused to encode values */
    vv_clock spare;                 /* where result clocks are made */
};

/* The store at argument 1, open. */
lstore *vvl_checkstore(lua_State *L);
/* Raise for a failed store call, with the store's message. */
int vvl_db_fail(lua_State *L, lstore *s, const char *fn, int rc);
/* That message: the store's, or the code's name. */
const char *vvl_db_message(lstore *s, int rc);
/* A keyspace name argument: a string without NUL bytes. */
const char *vvl_checkks(lua_State *L, int i);
/* The codec of keyspace ks as recorded by the store. */
int vvl_ks_codec(lstore *s, const char *ks);
/* Push the binding's own settings for keyspace ks ({fn=, wb=}) or nil. */
void vvl_ks_local(lua_State *L, int store, const char *ks);
/* Do the keyspace settings at i hold a host function resolver? */
int vvl_has_fn(lua_State *L, int i);

/* ---- keyspace handles (lvv_handle.c) ----------------------------------- */
#define VVL_KS_MAX 255              /* longest keyspace name */

/* db:keyspace_handle(name): a store and one of its keyspaces.  Its user
 * value is a table holding the store userdata (which keeps s alive). */
typedef struct lhandle {
    lstore *s;
    size_t kslen;
    char ks[VVL_KS_MAX + 1];        /* NUL-terminated */
} lhandle;

/* ---- reads and writes (lvv_rw.c) ---------------------------------------- */
/* Where a read or write finds its store, keyspace and arguments:
 * db:op(ks, key, ...) has the store at 1 and the key at 3; a keyspace
 * handle's h:op(key, ...) has the key at 2, and its store is pushed only
 * when needed (store 0 until then; the handle is at index handle). */
typedef struct vvl_call {
    lstore *s;
    const char *ks;
    int key;                        /* index of the key; the rest follow */
    int store;                      /* index of the store userdata, or 0 */
    int handle;                     /* index of the handle (store 0) */
} vvl_call;

/* Fill c for db:op(ks, key, ...): checks the store and the keyspace. */
void vvl_dbcall(lua_State *L, vvl_call *c);
/* Fill c for h:op(key, ...) on the handle at index 1 (open store). */
void vvl_handlecall(lua_State *L, vvl_call *c);
/* The store's stack index, pushing it first for a handle's call. */
int vvl_call_store(lua_State *L, vvl_call *c);

/* The operations: each checks its arguments at c->key and on, then
 * pushes its result; the store methods and the handles' share them. */
int vvl_put(lua_State *L, vvl_call *c);
int vvl_delete(lua_State *L, vvl_call *c);
int vvl_get(lua_State *L, vvl_call *c);
int vvl_update(lua_State *L, vvl_call *c);
int vvl_export(lua_State *L, vvl_call *c);
int vvl_merge(lua_State *L, vvl_call *c);
/* Push what get gives for the store's read (s->rd, from vv_get_reuse,
 * with at least one sibling). */
int vvl_get_result(lua_State *L, vvl_call *c);
/* Push sibling 0 of the store's read decoded with codec: 0; or -1 with
 * the message update raises for a value the codec cannot read pushed
 * instead. */
int vvl_update_value(lua_State *L, vvl_call *c, int codec);

/* What update says of a result that cannot be stored. */
#define VVL_UNSTORABLE "update: the function's result cannot be stored"
/* Encode the value at i for keyspace ks into the store's buffer (s->enc):
 * VV_OK, or a failure with its message pushed ("not enough memory", or
 * "<what>: <why>", or with what NULL the reason alone). */
int vvl_encode_store(lua_State *L, lstore *s, const char *ks, int i,
                     const char *what);

/* Encode the value at i for keyspace ks into the store's buffer; an
 * encoding failure is an argument error on i (or, with what, an error
 * saying what gave the value). */
const vv_buf *vvl_encode_arg(lua_State *L, lstore *s, const char *ks,
                             int i, const char *what);

/* ---- read results (lvv_read.c) --------------------------------------- */
/* Push what db:get gives for read r of keyspace ks (the key is at index
 * key, the store userdata at index store).  With wb, a host function
 * resolver's result is written back when the keyspace asks for it (not
 * for a state that no key of the store holds). */
void vvl_push_read(lua_State *L, lstore *s, const vv_read *r, const char *ks,
                   int codec, int store, int key, int wb);

/* Push a stored value decoded with codec; a value the codec cannot read
 * raises as get says it. */
void vvl_push_value(lua_State *L, const char *ks, const void *p, size_t n,
                    int codec);
/* Push the len bytes a box holds from vv as a string, and release them. */
int vvl_push_mem(lua_State *L, box *x, size_t len);
/* Metamethods of lazy read results (READ). */
extern const luaL_Reg vvl_read_metameth[];

/* ---- method tables ------------------------------------------------------ */
extern const luaL_Reg vvl_clock_meth[], vvl_clock_metameth[], vvl_clock_lib[];
extern const luaL_Reg vvl_store_meth[], vvl_store_metameth[], vvl_store_lib[];
extern const luaL_Reg vvl_rw_meth[];       /* lvv_rw.c */
extern const luaL_Reg vvl_sync_meth[];     /* lvv_sync.c */
extern const luaL_Reg vvl_inspect_meth[];  /* lvv_inspect.c */
extern const luaL_Reg vvl_state_meth[], vvl_state_lib[]; /* lvv_state.c */
extern const luaL_Reg vvl_handle_meth[], vvl_handle_metameth[],
                      vvl_handle_store[];  /* lvv_handle.c */

/* ---- LuaJIT: the hot calls through ffi (lvv_ffi.c) --------------------- */
/* On LuaJIT (unless VV_FFI=0): replace the hot methods of the store
 * methods at sm, the handle methods at hm and the module at mod with
 * Lua functions that call C through ffi.  Does nothing elsewhere. */
void vvl_open_ffi(lua_State *L, int mod, int sm, int hm, int base);
/* vv._bench (lvv_bench.c): C loops over the engine, for make bench. */
extern const luaL_Reg vvl_bench_lib[];

#endif /* VV_LVV_H */
