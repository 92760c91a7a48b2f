/* lvv_ffi.c - on LuaJIT, the hot calls of require "vv" through ffi. */
/*
 * LuaJIT compiles Lua, and calls made through its ffi library, to machine
 * code, but never a call of a Lua C API function: a trace stops at one
 * and goes on after it, and the C function builds its results through
 * the C API one field at a time.  So on LuaJIT the module hands
 * vvffi.lua (compiled in, lua/module/vvffi.lua) the addresses of the
 * entry points below, in one struct of function pointers, and the few C
 * API helpers it needs; vvffi.lua replaces the hot methods (get, put,
 * delete, update, export, merge, the detached-state calls, and the same
 * on keyspace handles) with Lua functions that call these entry points
 * and build their results in Lua.  Everything else stays the C API
 * module's, and VV_FFI=0 in the environment keeps all of it.
 *
 * An entry point takes plain C types: a store or keyspace handle and
 * clocks as pointers to their userdata (vvffi.lua has checked their
 * metatables), strings as pointer and length.  It returns vv's code, or
 * one of two codes of its own that send the call to the C API function,
 * which then raises the error the store raises (or does the work
 * itself):
 *
 *   VVF_CHECK   the arguments need the C API's checks: a closed store, a
 *               keyspace name with a NUL byte, a clock that was closed
 *   VVF_CODEC   the value needs the C encoder (the keyspace's codec
 *               differs from what vvffi.lua encoded for)
 *
 * Both are returned before anything changed.  Results go into a vvf_res,
 * the head of a vvf_slot, a userdata that vvffi.lua takes for the call
 * (busy) and gives back at its end (X.newres makes one when the one it
 * keeps is busy; readrest gives back the slot it is passed): a
 * read's one sibling points into the slot's own reused read, a clock made
 * waits in the slot's spare until vvffi.lua takes it, and bytes that vv
 * made (an export, a state) stay there until vvffi.lua has copied them
 * into a Lua string and releases them (or the next call that makes some,
 * or the collector, does).  Copying them allocates, which may run a
 * finalizer that calls the store again (lvv.h, "Re-entrant calls"): that
 * call takes another slot, so what Lua still reads stays as it was.  A
 * slot an error takes away is collected; the next call makes another.
 * The store and clock userdata are passed as themselves (void *), never
 * as pointers kept in Lua: an argument keeps its userdata alive for the
 * call.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "lvv.h"
#include "common/luasrc.h"

#if LUA_VERSION_NUM == 501             /* LuaJIT runs the 5.1 API */

#define VVF_VERSION 3           /* of struct vvf_api and vvf_res */
#define VVF_CHECK   (-1)
#define VVF_CODEC   (-2)

/* How a write gives its value. */
#define VVF_STR 0               /* a string: msgpack header pre, bytes body */
#define VVF_VAL 1               /* a scalar's msgpack bytes in pre */
#define VVF_ENC 2               /* already in the store's buffer (enc) */
#define VVF_DEL 3               /* none: a delete */

/* What an entry point leaves for Lua (vvffi.lua declares the same). */
typedef struct vvf_res {
    const unsigned char *p;     /* value or state bytes */
    size_t len;
    const char *actor;          /* a read's one sibling: its writer */
    size_t actor_len, node_len;
    double counter, timestamp;
    int count;                  /* a read's live siblings */
    int codec;                  /* the keyspace's codec (VVL_*) */
    int heap;                   /* a clock filled holds heap memory */
    int room;                   /* the spare's result: entries inside */
    int busy;                   /* a call holds the slot (vvffi.lua) */
    const char *msg;            /* why a call failed */
    void *mem;                  /* vv's memory behind p (vv_free) */
} vvf_res;

/* What a call holds: its results, and what they point into. */
typedef struct vvf_slot {
    vvf_res r;                  /* first: vvffi.lua sees only this */
    vv_read *rd;                /* reads go here (vv_get_reuse) */
    vv_clock spare;             /* a clock made, until take */
    char msg[512];              /* msg points here */
} vvf_slot;

#define SLOT "vv.ffi_slot"
#define slot_of(o) ((vvf_slot *)(void *)(o))

/* ---- helpers ------------------------------------------------------------ */

/* The store of a call, and its keyspace: obj is a store (lstore) and ks
 * its keyspace's name, or obj is a keyspace handle (lhandle) and ks NULL.
 * vvffi.lua passes the userdata themselves, which keeps them alive for
 * the call. */
static lstore *target(void *obj, const char **ks, size_t *kslen)
{
    if (*ks == NULL) {
        lhandle *h = (lhandle *)obj;
        *ks = h->ks;
        *kslen = h->kslen;
        return h->s;
    }
    return (lstore *)obj;
}

/* Record the store's message for a failure rc and return rc: copied,
 * since the store may close before Lua has read it. */
static int res_fail(vvf_res *o, lstore *s, int rc)
{
    vvf_slot *t = slot_of(o);
    snprintf(t->msg, sizeof t->msg, "%s", vvl_db_message(s, rc));
    o->msg = t->msg;
    return rc;
}

/* Free the bytes vv made for the last call. */
static void res_release(vvf_res *o)
{
    vv_free(o->mem);
    o->mem = NULL;
    o->p = NULL;
    o->len = 0;
}

/* Can this call go on without the C API's checks: an open store and a
 * keyspace name without NUL bytes? */
static int call_ok(const lstore *s, const char *ks, size_t kslen)
{
    return s->db != NULL && strlen(ks) == kslen;
}

/* The slot's read: its sibling count, and its one sibling when there is
 * one. */
static void res_read(vvf_res *o, lstore *s, const char *ks)
{
    const vv_read *rd = slot_of(o)->rd;
    size_t n = vv_read_count(rd);
    o->codec = vvl_ks_codec(s, ks);
    o->count = n > INT_MAX ? INT_MAX : (int)n;
    if (n == 1) {
        const vv_sibling *sb = vv_read_sibling(rd, 0);
        o->p = (const unsigned char *)sb->value;
        o->len = sb->len;
        o->actor = sb->actor;
        o->actor_len = sb->actor_len;
        o->node_len = sb->node_len;
        o->counter = (double)sb->counter;
        o->timestamp = (double)sb->timestamp;
    }
}

/* The value bytes of a write, as the keyspace's codec stores them: a
 * string header and body are joined in the store's buffer for msgpack;
 * the raw codec takes a string's bytes as they are and nothing else. */
static int write_value(lstore *s, const char *ks, int how,
                       const unsigned char *pre, size_t prelen,
                       const char *body, size_t blen, const void **v,
                       size_t *vlen)
{
    int codec;
    switch (how) {
    case VVF_ENC:                       /* prelen: the encoding meant */
        if (prelen != s->enc_gen) return VVF_CHECK;
        *v = s->enc.p;
        *vlen = s->enc.len;
        return VV_OK;
    case VVF_DEL:
        *v = "";
        *vlen = 0;
        return VV_OK;
    case VVF_STR:
    case VVF_VAL:
        break;
    default:
        return VVF_CHECK;
    }
    codec = vvl_ks_codec(s, ks);
    if (codec == VVL_RAW) {
        if (how != VVF_STR) return VVF_CODEC;
        *v = body;
        *vlen = blen;
        return VV_OK;
    }
    if (how == VVF_STR && blen > 0) {
        s->enc.len = 0;
        s->enc.oom = 0;
        s->enc_gen++;
        vv_buf_add(&s->enc, pre, prelen);
        vv_buf_add(&s->enc, body, blen);
        if (s->enc.oom) return VVF_CODEC;   /* the C path says it */
        *v = s->enc.p;
        *vlen = s->enc.len;
        return VV_OK;
    }
    *v = pre;
    *vlen = prelen;
    return VV_OK;
}

/* ---- entry points ------------------------------------------------------- */

/* Is the store open? */
static int ffi_open(void *obj, const char *ks)
{
    size_t kslen = 0;
    return target(obj, &ks, &kslen)->db != NULL;
}

/* The end of a read into the slot's read: what it found, into o. */
static int read_done(vvf_res *o, lstore *s, const char *ks, int rc)
{
    if (rc == VV_ENOTFOUND) return rc;
    if (rc) return res_fail(o, s, rc);
    res_read(o, s, ks);
    return VV_OK;
}

/* get: read key into the slot's read. */
static int ffi_get(void *obj, const char *ks, size_t kslen, const char *key,
                   size_t klen, vvf_res *o)
{
    lstore *s = target(obj, &ks, &kslen);
    if (!call_ok(s, ks, kslen)) return VVF_CHECK;
    return read_done(o, s, ks,
                     vv_get_reuse(s->db, ks, key, klen, &slot_of(o)->rd));
}

/* A clock made in the slot's spare: how much room its clock needs. */
static int res_spare(vvf_res *o)
{
    o->room = (int)vv_clock_room(&slot_of(o)->spare);
    return VV_OK;
}

/* The slot's spare, emptied (of what a call that raised left there). */
static vv_clock *spare(vvf_res *o)
{
    vv_clock *t = &slot_of(o)->spare;
    vv_clock_clear(t);
    return t;
}

/* The context of the slot's read into its spare (then take). */
static int ffi_readctx(vvf_res *o)
{
    vvf_slot *t = slot_of(o);
    if (t->rd == NULL) return VVF_CHECK;
    if (vv_read_context_into(t->rd, spare(o))) {
        vv_clock_clear(&t->spare);
        return VV_ENOMEM;
    }
    return res_spare(o);
}

/* Move the clock the slot's spare holds into clock, a new empty clock
 * with the room res_spare asked for. */
static int ffi_take(void *clock, vvf_res *o)
{
    vvf_slot *t = slot_of(o);
    lclock *c = (lclock *)clock;
    o->heap = 0;
    if (!c->live || vv_clock_size(&c->c) != 0 ||
        vv_clock_room(&t->spare) > c->room) {
        vv_clock_clear(&t->spare);
        return VVF_CHECK;
    }
    vv_clock_take_room(&c->c, c->room, &t->spare);
    o->heap = vv_clock_heap(&c->c);
    return VV_OK;
}

/* The context of the slot's read into c, a new empty clock. */
static int ffi_context(void *clock, vvf_res *o)
{
    const vv_read *rd = slot_of(o)->rd;
    lclock *c = (lclock *)clock;
    int rc;
    o->heap = 0;
    if (rd == NULL || !c->live) return VVF_CHECK;
    rc = vv_read_context_into(rd, &c->c);
    o->heap = vv_clock_heap(&c->c);
    return rc;
}

/* Empty the clock c (which vvffi.lua alone holds) for another use. */
static void ffi_clear(void *clock)
{
    lclock *c = (lclock *)clock;
    if (c->live) vv_clock_clear(&c->c);
}

/* put and delete (how): with want, the key's context afterwards into
 * the slot's spare (then take); ctx a live clock or NULL. */
static int ffi_write(void *obj, const char *ks, size_t kslen,
                     const char *key, size_t klen, int how,
                     const unsigned char *pre, size_t prelen,
                     const char *body, size_t blen, void *ctx, int want,
                     vvf_res *o)
{
    lstore *s = target(obj, &ks, &kslen);
    lclock *cc = (lclock *)ctx;
    vv_clock *t = NULL;
    const void *v;
    size_t vlen;
    int rc;
    if (!call_ok(s, ks, kslen) || (cc && !cc->live)) return VVF_CHECK;
    rc = write_value(s, ks, how, pre, prelen, body, blen, &v, &vlen);
    if (rc) return rc;
    if (want) t = spare(o);
    rc = vv_write(s->db, ks, key, klen, v, vlen, how == VVF_DEL,
                  cc ? &cc->c : NULL, t);
    if (rc) {
        if (t) vv_clock_clear(t);
        return res_fail(o, s, rc);
    }
    return t ? res_spare(o) : VV_OK;
}

/* export: the key's state into o. */
static int ffi_export(void *obj, const char *ks, size_t kslen,
                      const char *key, size_t klen, vvf_res *o)
{
    lstore *s = target(obj, &ks, &kslen);
    size_t len = 0;
    int rc;
    if (!call_ok(s, ks, kslen)) return VVF_CHECK;
    res_release(o);
    rc = vv_export(s->db, ks, key, klen, &o->mem, &len);
    if (rc == VV_ENOTFOUND) return rc;
    if (rc) return res_fail(o, s, rc);
    o->p = (const unsigned char *)o->mem;
    o->len = len;
    return VV_OK;
}

/* merge. */
static int ffi_merge(void *obj, const char *ks, size_t kslen,
                     const char *key, size_t klen, const char *st,
                     size_t slen, vvf_res *o)
{
    lstore *s = target(obj, &ks, &kslen);
    int rc;
    if (!call_ok(s, ks, kslen)) return VVF_CHECK;
    rc = vv_merge(s->db, ks, key, klen, st, slen);
    return rc ? res_fail(o, s, rc) : VV_OK;
}

/* vv.merge_states: the merge into o (a failure's message is the C API
 * function's to give). */
static int ffi_merge_states(const char *a, size_t alen, const char *b,
                            size_t blen, vvf_res *o)
{
    size_t len = 0;
    int rc;
    res_release(o);
    rc = vv_state_merge(a, alen, b, blen, &o->mem, &len);
    if (rc) return rc;
    o->p = (const unsigned char *)o->mem;
    o->len = len;
    return VV_OK;
}

/* vv.state_key: check the state; its key into o (borrowed from st). */
static int ffi_state_key(const char *st, size_t len, vvf_res *o)
{
    const void *key = NULL;
    size_t klen = 0;
    int rc = vv_state_check(st, len, &key, &klen);
    if (rc) return rc;
    o->p = (const unsigned char *)key;
    o->len = klen;
    return VV_OK;
}

/* put_state and delete_state: the new state into o, its context into
 * the slot's spare (then take). */
static int ffi_state_put(void *obj, const char *ks, size_t kslen,
                         const char *key, size_t klen, const char *st,
                         size_t slen, int how, const unsigned char *pre,
                         size_t prelen, const char *body, size_t blen,
                         void *ctx, vvf_res *o)
{
    lstore *s = target(obj, &ks, &kslen);
    lclock *cc = (lclock *)ctx;
    vv_clock *nc = NULL, *t;
    const void *v;
    size_t vlen, len = 0;
    int rc;
    if (!call_ok(s, ks, kslen) || (cc && !cc->live)) return VVF_CHECK;
    rc = write_value(s, ks, how, pre, prelen, body, blen, &v, &vlen);
    if (rc) return rc;
    t = spare(o);
    res_release(o);
    rc = vv_state_put(s->db, ks, key, klen, st, slen, v, vlen,
                      how == VVF_DEL, cc ? &cc->c : NULL, &o->mem, &len,
                      &nc);
    if (rc) {
        vv_clock_free(nc);
        return res_fail(o, s, rc);
    }
    if (nc) vv_clock_move(t, nc);
    o->p = (const unsigned char *)o->mem;
    o->len = len;
    return res_spare(o);
}

/* get_state: read the state into the slot's read. */
static int ffi_state_get(void *obj, const char *ks, size_t kslen,
                         const char *st, size_t slen, vvf_res *o)
{
    lstore *s = target(obj, &ks, &kslen);
    if (!call_ok(s, ks, kslen)) return VVF_CHECK;
    return read_done(o, s, ks,
                     vv_state_get(s->db, ks, st, slen, &slot_of(o)->rd));
}

/* The entry points, with what vvffi.lua checks before it uses them. */
struct vvf_api {
    int version, res_size;
    int (*open)(void *, const char *);
    int (*get)(void *, const char *, size_t, const char *, size_t,
               vvf_res *);
    int (*context)(void *, vvf_res *);
    int (*readctx)(vvf_res *);
    int (*take)(void *, vvf_res *);
    int (*write)(void *, const char *, size_t, const char *, size_t, int,
                 const unsigned char *, size_t, const char *, size_t,
                 void *, int, vvf_res *);
    int (*export_)(void *, const char *, size_t, const char *, size_t,
                   vvf_res *);
    int (*merge)(void *, const char *, size_t, const char *, size_t,
                 const char *, size_t, vvf_res *);
    int (*merge_states)(const char *, size_t, const char *, size_t,
                        vvf_res *);
    int (*state_key)(const char *, size_t, vvf_res *);
    int (*state_put)(void *, const char *, size_t, const char *, size_t,
                     const char *, size_t, int, const unsigned char *, size_t,
                     const char *, size_t, void *, vvf_res *);
    int (*state_get)(void *, const char *, size_t, const char *, size_t,
                     vvf_res *);
    void (*release)(vvf_res *);
    void (*clear)(void *);
};

static const struct vvf_api api = {
    VVF_VERSION, (int)sizeof(vvf_res),
    ffi_open, ffi_get, ffi_context, ffi_readctx, ffi_take, ffi_write,
    ffi_export, ffi_merge,
    ffi_merge_states, ffi_state_key, ffi_state_put, ffi_state_get,
    res_release, ffi_clear
};

/* ---- C API helpers for vvffi.lua ---------------------------------------- */

/* The call of a helper (obj, ks, key, ...): obj a store (then ks names
 * the keyspace) or a keyspace handle (ks is nil), as for the entry
 * points. */
static void helper_call(lua_State *L, vvl_call *c)
{
    if (vvl_isudata(L, 1, VVL_UV_HANDLE)) {
        vvl_handlecall(L, c);
        c->key = 3;
    } else {
        vvl_dbcall(L, c);
    }
}

/* newclocks(t, n, room) -> n: t[1..n] = n new empty clocks with room for
 * room entries inside them (VV_CLOCK_INLINE: clocks as vv_clock_init
 * makes them), for the entry points to fill (one call makes a batch: a
 * call of a C function stops a trace, a table read does not). */
static int h_newclocks(lua_State *L)
{
    lua_Integer i, n = luaL_checkinteger(L, 2);
    lua_Integer room = luaL_checkinteger(L, 3);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argcheck(L, n > 0 && n <= 1024, 2, "1 to 1024 clocks");
    luaL_argcheck(L, room >= 0 && room <= VV_CLOCK_INLINE, 3, "a room");
    for (i = 1; i <= n; i++) {
        if (room == VV_CLOCK_INLINE) vvl_newclock(L);
        else vvl_newclock_room(L, (size_t)room, 0);
        vvc_rawseti(L, 1, i);
    }
    lua_pushinteger(L, n);
    return 1;
}

/* settle(c): c went onto the heap; give it the metatable with __gc. */
static int h_settle(lua_State *L)
{
    lclock *p = vvl_toclock(L, 1);
    if (p != NULL) vvl_clock_settle(L, 1, p);
    return 0;
}

/* The slot at index i (X.newres), whose read must hold what the entry
 * point just read. */
static vvf_slot *need_read(lua_State *L, int i)
{
    vvf_slot *t = (vvf_slot *)luaL_checkudata(L, i, SLOT);
    if (t->rd == NULL || vv_read_count(t->rd) == 0)
        luaL_error(L, "vv: no read to show");
    return t;
}

/* readrest(obj, ks, key, slot) -> what get gives for the slot's read
 * (several siblings, or a value for C to decode: resolvers run here); the
 * slot is given back (vvffi.lua calls this in a tail call, so that an
 * error names the caller's line). */
static int h_readrest(lua_State *L)
{
    vvl_call c;
    vvf_slot *t;
    helper_call(L, &c);
    vvl_checkstr(L, 3, NULL);
    t = need_read(L, 4);
    lua_settop(L, 4);
    vvl_get_result(L, &c, t->rd, &t->spare);
    t->r.busy = 0;                              /* given back */
    return 1;
}

/* decsib(obj, ks, slot) -> true and the slot's read's one value decoded
 * in C (a table), or false and the message update raises for bytes the
 * codec refuses (vvffi.lua raises it, so that it names the caller's
 * line). */
static int h_decsib(lua_State *L)
{
    vvl_call c;
    vvf_slot *t;
    helper_call(L, &c);
    t = need_read(L, 3);
    lua_pushboolean(L, 1);
    if (vvl_update_value(L, &c, t->rd, vvl_ks_codec(c.s, c.ks))) {
        lua_pushboolean(L, 0);
        lua_replace(L, -3);
    }
    return 2;
}

/* __gc of a slot. */
static int slot_gc(lua_State *L)
{
    vvf_slot *t = (vvf_slot *)luaL_checkudata(L, 1, SLOT);
    res_release(&t->r);
    vv_read_free(t->rd);
    t->rd = NULL;
    vv_clock_clear(&t->spare);
    return 0;
}

/* newres() -> a new slot, for a call when none is free. */
static int h_newres(lua_State *L)
{
    vvf_slot *t = (vvf_slot *)vvc_newudata(L, sizeof *t);
    memset(t, 0, sizeof *t);
    vv_clock_init(&t->spare);
    vvc_setmetatable(L, SLOT);
    return 1;
}

/* encval(obj, ks, v) -> the number of the encoding when the table v is
 * now in the store's buffer, for a write with VVF_ENC to name (a
 * finalizer run between this call and the write may fill the buffer
 * again: the write then fails with VVF_CHECK instead of taking its
 * bytes); else nil and the message update raises. */
static int h_encval(lua_State *L)
{
    vvl_call c;
    helper_call(L, &c);
    if (vvl_encode_store(L, c.s, c.ks, 3, VVL_UNSTORABLE) == VV_OK) {
        lua_pushinteger(L, (lua_Integer)c.s->enc_gen);
        return 1;
    }
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static const luaL_Reg helpers[] = {
    {"newclocks", h_newclocks},
    {"settle", h_settle},
    {"readrest", h_readrest},
    {"newres", h_newres},
    {"decsib", h_decsib},
    {"encval", h_encval},
    {NULL, NULL}
};

void vvl_open_ffi(lua_State *L, int mod, int sm, int hm, int base)
{
    lua_getglobal(L, "jit");                    /* LuaJIT only */
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    luaL_newmetatable(L, SLOT);
    lua_pushcfunction(L, slot_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    vvl_luasrc_load(L, vvl_luasrc_find(vvl_module_lua, "vvffi"));
    lua_pushvalue(L, mod);
    lua_pushvalue(L, sm);
    lua_pushvalue(L, hm);
    lua_pushlightuserdata(L, (void *)&api);
    lua_createtable(L, 0, 8);                   /* helpers */
    vvl_setfuncs_uv(L, lua_gettop(L), helpers, base);
    lua_pushvalue(L, base + VVL_UV_STORE - 1);
    lua_setfield(L, -2, "STORE");
    lua_pushvalue(L, base + VVL_UV_CLOCK0 - 1);
    lua_setfield(L, -2, "CLOCK0");
    lua_pushvalue(L, base + VVL_UV_CLOCK - 1);
    lua_setfield(L, -2, "CLOCK");
    lua_pushvalue(L, base + VVL_UV_HANDLE - 1);
    lua_setfield(L, -2, "HANDLE");
    lua_call(L, 5, 0);
}

#else

void vvl_open_ffi(lua_State *L, int mod, int sm, int hm, int base)
{
    (void)L; (void)mod; (void)sm; (void)hm; (void)base;
}

#endif
