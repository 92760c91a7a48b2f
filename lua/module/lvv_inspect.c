/* lvv_inspect.c - looking into a store from Lua: history, keys, keyspaces, stats. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lvv.h"

/* ---- history ------------------------------------------------------- */

/* A history entry or dot as collect_hist lays it out in a buffer. */
typedef struct hrec {
    size_t actor_len, node_len, preview_len, value_len, nreplaced;
    uint64_t counter, timestamp;
    int tombstone, how, has_actor;
} hrec;

typedef struct hdot {
    size_t actor_len, node_len;
    uint64_t counter;
} hdot;

/* vv_history callback: copy one entry into the buffer (no Lua calls
 * here, so nothing can raise inside the store). */
static int collect_hist(void *ud, const vv_hist *e)
{
    vv_buf *b = ud;
    hrec h;
    size_t i;
    memset(&h, 0, sizeof h);
    h.has_actor = e->dot.actor != NULL;
    h.actor_len = h.has_actor ? e->dot.actor_len : 0;
    h.node_len = h.has_actor ? e->dot.node_len : 0;
    h.counter = e->dot.counter;
    h.timestamp = e->timestamp;
    h.tombstone = e->tombstone;
    h.how = e->how;
    h.preview_len = e->preview ? e->preview_len : 0;
    h.value_len = e->value_len;
    h.nreplaced = e->replaced ? e->nreplaced : 0;
    vv_buf_add(b, &h, sizeof h);
    vv_buf_add(b, e->dot.actor, h.actor_len);
    vv_buf_add(b, e->preview, h.preview_len);
    for (i = 0; i < h.nreplaced; i++) {
        const vv_dot *d = &e->replaced[i];
        hdot x;
        x.actor_len = d->actor ? d->actor_len : 0;
        x.node_len = d->actor ? d->node_len : 0;
        x.counter = d->counter;
        vv_buf_add(b, &x, sizeof x);
        vv_buf_add(b, d->actor, x.actor_len);
    }
    return b->oom ? VV_ENOMEM : 0;
}

/* Push {actor=, node=, counter=} for a dot at p; returns its size. */
static size_t push_dot(lua_State *L, const unsigned char *p, size_t alen,
                       size_t nlen, uint64_t counter)
{
    lua_createtable(L, 0, 3);
    lua_pushlstring(L, (const char *)p, alen);
    lua_setfield(L, -2, "actor");
    lua_pushlstring(L, (const char *)p, nlen);
    lua_setfield(L, -2, "node");
    vvc_pushuint64(L, counter);
    lua_setfield(L, -2, "counter");
    return alen;
}

/* db:history(ks, key) -> array of entries, oldest first, each
 * {actor=, node=, counter=, timestamp=, tombstone=, how=, preview=,
 * value_len=, value=, replaced={dots}} (empty when none is kept). */
static int db_history(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    size_t klen, off = 0;
    const char *key = vvl_checkstr(L, 3, &klen);
    int codec = vvl_ks_codec(s, ks), i = 0, rc;
    box *x = vvl_newbox(L, BOX_BUF);
    rc = vv_history(s->db, ks, key, klen, collect_hist, &x->b);
    if (rc) return vvl_db_fail(L, s, "history", rc);
    lua_newtable(L);
    while (off < x->b.len) {
        hrec h;
        size_t j;
        const unsigned char *p;
        memcpy(&h, x->b.p + off, sizeof h);
        p = x->b.p + off + sizeof h;
        lua_createtable(L, 0, 10);
        if (h.has_actor) {
            push_dot(L, p, h.actor_len, h.node_len, h.counter);
            lua_getfield(L, -1, "actor");
            lua_setfield(L, -3, "actor");
            lua_getfield(L, -1, "node");
            lua_setfield(L, -3, "node");
            lua_getfield(L, -1, "counter");
            lua_setfield(L, -3, "counter");
            lua_pop(L, 1);
        }
        p += h.actor_len;
        vvc_pushuint64(L, h.timestamp);
        lua_setfield(L, -2, "timestamp");
        lua_pushboolean(L, h.tombstone);
        lua_setfield(L, -2, "tombstone");
        lua_pushstring(L, h.how == VV_HIST_MERGE ? "merge" : "write");
        lua_setfield(L, -2, "how");
        lua_pushlstring(L, (const char *)p, h.preview_len);
        lua_setfield(L, -2, "preview");
        vvc_pushuint64(L, (uint64_t)h.value_len);
        lua_setfield(L, -2, "value_len");
        if (!h.tombstone && h.has_actor && h.preview_len == h.value_len &&
            vvl_decode(L, p, h.preview_len, codec, NULL, 0) == VV_OK)
            lua_setfield(L, -2, "value");   /* the whole value was kept */
        p += h.preview_len;
        lua_createtable(L, (int)(h.nreplaced > 64 ? 64 : h.nreplaced), 0);
        for (j = 0; j < h.nreplaced; j++) {
            hdot d;
            memcpy(&d, p, sizeof d);
            p += sizeof d;
            p += push_dot(L, p, d.actor_len, d.node_len, d.counter);
            lua_rawseti(L, -2, (int)(j + 1));
        }
        lua_setfield(L, -2, "replaced");
        lua_rawseti(L, -2, ++i);
        off = (size_t)(p - x->b.p);
    }
    vvl_box_release(x);
    return 1;
}

/* Collect names or keys into a buffer: a size_t length, then bytes. */
static int collect_name(void *ud, const char *name)
{
    vv_buf *b = ud;
    size_t n = strlen(name);
    vv_buf_add(b, &n, sizeof n);
    vv_buf_add(b, name, n);
    return b->oom ? VV_ENOMEM : 0;
}

static int collect_key(void *ud, const void *key, size_t klen)
{
    vv_buf *b = ud;
    vv_buf_add(b, &klen, sizeof klen);
    vv_buf_add(b, key, klen);
    return b->oom ? VV_ENOMEM : 0;
}

/* Push the strings a collect_* buffer holds as an array. */
static void push_collected(lua_State *L, const vv_buf *b)
{
    size_t off = 0;
    int i = 0;
    lua_newtable(L);
    while (off < b->len) {
        size_t n;
        memcpy(&n, b->p + off, sizeof n);
        off += sizeof n;
        lua_pushlstring(L, (const char *)b->p + off, n);
        lua_rawseti(L, -2, ++i);
        off += n;
    }
}

/* db:keyspaces() -> array of keyspace names. */
static int db_keyspaces(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    box *x = vvl_newbox(L, BOX_BUF);
    int rc = vv_keyspaces(s->db, collect_name, &x->b);
    if (rc) return vvl_db_fail(L, s, "keyspaces", rc);
    push_collected(L, &x->b);
    vvl_box_release(x);
    return 1;
}

/* db:keys(ks) -> array of the keyspace's keys (deleted ones too), in
 * bytewise order. */
static int db_keys(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = vvl_checkks(L, 2);
    box *x = vvl_newbox(L, BOX_BUF);
    int rc = vv_keys(s->db, ks, collect_key, &x->b);
    if (rc) return vvl_db_fail(L, s, "keys", rc);
    push_collected(L, &x->b);
    vvl_box_release(x);
    return 1;
}

/* db:stats([ks]) -> {keys=, tombstones=, siblings={8 buckets},
 * max_siblings=, warnings=, warned_keys=, bytes=}. */
static int db_stats(lua_State *L)
{
    lstore *s = vvl_checkstore(L);
    const char *ks = lua_isnoneornil(L, 2) ? NULL : vvl_checkks(L, 2);
    vv_stats st;
    int rc = vv_stats_get(s->db, ks, &st), i;
    if (rc) return vvl_db_fail(L, s, "stats", rc);
    lua_createtable(L, 0, 7);
    vvc_pushuint64(L, st.keys);
    lua_setfield(L, -2, "keys");
    vvc_pushuint64(L, st.tombstones);
    lua_setfield(L, -2, "tombstones");
    lua_createtable(L, 8, 0);
    for (i = 0; i < 8; i++) {
        vvc_pushuint64(L, st.siblings[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "siblings");
    vvc_pushuint64(L, st.max_siblings);
    lua_setfield(L, -2, "max_siblings");
    vvc_pushuint64(L, st.warnings);
    lua_setfield(L, -2, "warnings");
    vvc_pushuint64(L, st.warned_keys);
    lua_setfield(L, -2, "warned_keys");
    vvc_pushuint64(L, st.bytes);
    lua_setfield(L, -2, "bytes");
    return 1;
}

/* ---- registration ---------------------------------------------------- */

/* Store methods of this file. */
const luaL_Reg vvl_inspect_meth[] = {
    {"history", db_history},
    {"keys", db_keys},
    {"keyspaces", db_keyspaces},
    {"stats", db_stats},
    {NULL, NULL}
};
