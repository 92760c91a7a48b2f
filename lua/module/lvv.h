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
#define WORK   "vv.work"

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
typedef struct lwork lwork;         /* what a call borrows from it */

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

/* Push a clock userdata holding the entries of t (a clock from
 * vv_clock_init that an engine call filled), sized to them (a clock of
 * one entry takes a third of the memory: the collector's work follows
 * the bytes), with extra bytes after it; t is left empty.  A t holding
 * heap memory is first moved into park, an empty clock from
 * vv_clock_init that the collector owns (a work area's spare), so that
 * a raise while the userdata is made loses nothing; park NULL says that
 * t holds no heap memory (the caller has looked: vv_clock_heap). */
lclock *vvl_clock_push(lua_State *L, vv_clock *t, size_t extra,
                       vv_clock *park);
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
/*
 * Re-entrant calls.  Any allocation a call makes may run the collector,
 * which may run a finalizer, which may call the same store: read, write,
 * close it.  Lua code the store calls (a host function resolver, update's
 * function, a batch's function) may do the same.  So what a call borrows
 * from its store while it allocates is lent, never shared:
 *
 *   - the work area (a read and a spare clock, reused call after call):
 *     a call that reads takes it (vvl_work_take) and gives it back
 *     (vvl_work_give); meanwhile the store has none, and a nested call
 *     gets a new one of its own.  The call keeps the work area on its Lua
 *     stack, so when an error ends the call before it gives it back (out
 *     of memory, a finalizer's error), the collector frees it, and the
 *     next call, finding none, makes one that the store keeps from then
 *     on: a lost work area costs one allocation, never a wrong result.
 *   - a write's new context is made in a clock on the C stack; only one
 *     that outgrew it onto the heap is parked in a work area's spare
 *     while its userdata is made (vvl_clock_push).
 *   - the encode buffer (enc) is only used between an encoding and the
 *     engine call that takes the bytes, with nothing allocated between
 *     (the encoder allocates nothing in Lua).
 *   - the vv_db: db:close closes it at once, even inside a call.  Reads
 *     are copies, so a call that already read goes on and gives its
 *     result; every use of s->db after an allocation checks it (or fails
 *     through vvl_db_fail, which then says the store was closed), and no
 *     string the vv_db owns (a message, a name, a config) is pushed while
 *     it might close: a push may run the collector before it copies (Lua
 *     5.1, LuaJIT).
 *   - on LuaJIT the ffi path (lvv_ffi.c) reads into results of its own,
 *     one per call in progress, and never into the store's work area.
 */
struct lwork {
    vv_read *rd;                    /* reads go here (vv_get_reuse) */
    vv_clock spare;                 /* parks a heap clock (vvl_clock_push) */
};

struct lstore {
    vv_db *db;                      /* NULL once closed */
    int batch;                      /* db:batch nesting */
    lwork *home;                    /* the work area the store keeps (its
                                       user value's [1]) */
    lwork *work;                    /* home while no call has it, else NULL */
    vv_buf enc;                     /* reused to encode values */
    uint32_t enc_gen;               /* moves each time enc is filled: the
                                       ffi path's ENC writes name the
                                       encoding they mean (lvv_ffi.c) */
};

/* The store's work area is kept as its second user value on Lua 5.4,
 * else as [1] of its user value (a table). */
static inline void vvl_push_home(lua_State *L, int store)
{
#if LUA_VERSION_NUM >= 504
    lua_getiuservalue(L, store, 2);
#else
    vvc_getuservalue(L, store);
    vvc_rawgeti(L, -1, 1);
#endif
}

/* Push a new work area, its stack index in *at (vvl_work_take). */
lwork *vvl_work_new(lua_State *L, int *at);
/* The rest of vvl_work_give: keep w, a work area the store did not keep. */
void vvl_work_adopt(lua_State *L, lstore *s, lwork *w, int at, int store);

/* Take the store's work area for a call: push it (the call's stack keeps
 * it alive: a nested call may make the store keep another) and return it;
 * a new one, its stack index in *at, when a call already has the store's.
 * store is the store userdata's stack index. */
static inline lwork *vvl_work_take(lua_State *L, lstore *s, int store,
                                   int *at)
{
    lwork *w = s->work;
    if (w == NULL) return vvl_work_new(L, at);  /* a call has it */
    s->work = NULL;
    vvl_push_home(L, store);
    *at = 0;                                    /* not needed: the home */
    return w;
}

/* Give back the work area w (at stack index at) when the call no longer
 * uses what it holds: the store keeps it unless it has one already (or
 * is closed). */
static inline void vvl_work_give(lua_State *L, lstore *s, lwork *w, int at,
                                 int store)
{
    if (w == s->home && s->work == NULL && s->db != NULL) {
        s->work = w;                            /* the common case */
        return;
    }
    vvl_work_adopt(L, s, w, at, store);
}

/* Raise unless the store is still open (after an allocation, which may
 * have run a finalizer that closed it). */
void vvl_still_open(lua_State *L, lstore *s);
/* __gc of work areas (WORK). */
int vvl_work_gc(lua_State *L);

/* The store at argument 1, open. */
lstore *vvl_checkstore(lua_State *L);
/* Raise for a failed store call, with the store's message ("the store
 * was closed" when it was). */
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
/* Push what get gives for the read rd (with at least one sibling), which
 * the call holds: its work area's, or on the ffi path its own; park is a
 * clock the call holds too (vvl_clock_push). */
int vvl_get_result(lua_State *L, vvl_call *c, const vv_read *rd,
                   vv_clock *park);
/* Push sibling 0 of the read rd decoded with codec: 0; or -1 with the
 * message update raises for a value the codec cannot read pushed
 * instead. */
int vvl_update_value(lua_State *L, vvl_call *c, const vv_read *rd,
                     int codec);

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
 * for a state that no key of the store holds).  r and park (where
 * vvl_clock_push parks a heap context) are the call's own. */
void vvl_push_read(lua_State *L, lstore *s, const vv_read *r, const char *ks,
                   int codec, int store, int key, int wb, vv_clock *park);

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
