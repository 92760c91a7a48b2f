/* lcodec.c - Lua values <-> stored bytes: canonical MessagePack, or raw. */

/* Encoding goes through msgpack-c's packer.  Tables whose keys are exactly
 * 1..n become arrays; any other table becomes a map whose entries are
 * sorted by the bytes of their encoded keys, so equal tables give equal
 * bytes on every replica and every Lua host.  Decoding is a small strict
 * reader of its own: it pushes straight onto the Lua stack, allocates
 * nothing in C (a Lua memory error cannot leak) and shares the encoder's
 * nesting limit (msgpack-c's unpacker stops at 32 levels). */

#include <stdio.h>
#include <string.h>
#include <msgpack.h>
#include "lcodec.h"
#include "compat.h"

#define MAXDEPTH 64                 /* deepest table nesting */
#define PATHMAX  96                 /* longest key path shown in messages */

/* Codec id from a keyspace's codec name. */
int vvl_codec(const char *name)
{
    if (name == NULL || name[0] == '\0' || strcmp(name, "msgpack") == 0)
        return VVL_MSGPACK;
    if (strcmp(name, "raw") == 0) return VVL_RAW;
    return -1;
}

/* ---- encoding ------------------------------------------------------- */

typedef struct enc {
    lua_State *L;
    char *err;
    size_t errlen;
    int depth;                      /* tables open on the current path */
    const void *open[MAXDEPTH];     /* those tables, to find cycles */
    /* The keys leading to the value being encoded, for messages only (the
     * path is spelled when something fails, never on the way): level i's
     * key is at stack index key[i], or, when that is 0, it is the array
     * index idx[i].  Levels 0..nk-1 hold one. */
    int key[MAXDEPTH];
    int64_t idx[MAXDEPTH];
    int nk;
    /* The scratch buffer of the map open at each level, kept from one map
     * to the next for the whole encoding (levels 0..nscratch-1 made). */
    vv_buf scratch[MAXDEPTH];
    int nscratch;
} enc;

/* One table entry while a table is encoded: its key's and value's bytes
 * inside the level's scratch buffer. */
typedef struct entry {
    size_t koff, klen, voff, vlen;
    const unsigned char *k;         /* set once the scratch stops moving */
} entry;

/* msgpack-c write callback: append to a vv_buf. */
static int buf_write(void *data, const char *p, size_t n)
{
    vv_buf *b = data;
    vv_buf_add(b, p, n);
    return b->oom ? -1 : 0;
}

/* Append level's key to path (plen its length, at most PATHMAX): .name
 * for plain identifiers, [n] for numbers, ["..."] or [true] for the rest;
 * a path that would grow past PATHMAX is cut and ends in "...". */
static void path_add(const enc *e, int level, char *path, size_t *plen)
{
    lua_State *L = e->L;
    int at = e->key[level];
    size_t room = PATHMAX - *plen, n = 0, len, i;
    char seg[PATHMAX + 1];
    if (*plen >= PATHMAX) return;
    if (at == 0) {
        n = (size_t)snprintf(seg, sizeof seg, "[%lld]",
                             (long long)e->idx[level]);
    } else {
        switch (lua_type(L, at)) {
        case LUA_TSTRING: {
            const char *s = lua_tolstring(L, at, &len);
            int ident = len > 0 && !(s[0] >= '0' && s[0] <= '9');
            for (i = 0; i < len && ident; i++)
                ident = (s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
                         (s[i] >= 'A' && s[i] <= 'Z') ||
                         (s[i] >= '0' && s[i] <= '9'));
            if (ident) {
                n = (size_t)snprintf(seg, sizeof seg, ".%.*s", (int)len, s);
            } else {
                n = (size_t)snprintf(seg, sizeof seg, "[\"");
                for (i = 0; i < len && n < sizeof seg - 8; i++) {
                    unsigned c = (unsigned char)s[i];
                    if (c >= 32 && c < 127 && c != '"' && c != '\\')
                        seg[n++] = (char)c;
                    else
                        n += (size_t)snprintf(seg + n, sizeof seg - n,
                                              "\\%u", c);
                }
                n += (size_t)snprintf(seg + n, sizeof seg - n, "\"]");
            }
            break;
        }
        case LUA_TNUMBER: {
            int64_t k;
            if (vvc_isint64(L, at, &k))
                n = (size_t)snprintf(seg, sizeof seg, "[%lld]", (long long)k);
            else
                n = (size_t)snprintf(seg, sizeof seg, "[%.17g]",
                                     (double)lua_tonumber(L, at));
            break;
        }
        case LUA_TBOOLEAN:
            n = (size_t)snprintf(seg, sizeof seg, "[%s]",
                                 lua_toboolean(L, at) ? "true" : "false");
            break;
        default:
            n = (size_t)snprintf(seg, sizeof seg, "[?]");
            break;
        }
    }
    if (n > sizeof seg - 1) n = sizeof seg - 1;
    if (n > room) {                 /* too long: cut and mark it */
        memcpy(path + *plen, seg, room);
        memcpy(path + PATHMAX, "...", 4);
        *plen = PATHMAX;
        return;
    }
    memcpy(path + *plen, seg, n);
    *plen += n;
    path[*plen] = '\0';
}

/* Record an error message, followed by the key path when inside a table. */
static int enc_fail(enc *e, const char *what)
{
    char path[PATHMAX + 4];
    size_t plen = 0;
    int i;
    if (e->err && e->errlen) {
        path[0] = '\0';
        for (i = 0; i < e->nk; i++) path_add(e, i, path, &plen);
        if (plen)
            snprintf(e->err, e->errlen, "%s (at %s)", what, path);
        else
            snprintf(e->err, e->errlen, "%s", what);
    }
    return VV_EINVAL;
}

/* Out of memory while building the bytes. */
static int enc_nomem(enc *e)
{
    if (e->err && e->errlen) snprintf(e->err, e->errlen, "out of memory");
    return VV_ENOMEM;
}

/* A double in its canonical form: one NaN, whatever its sign or payload. */
static int pack_double(msgpack_packer *pk, double d)
{
    static const unsigned char nan[9] =
        {0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
    if (d != d) return pk->callback(pk->data, (const char *)nan, sizeof nan);
    return msgpack_pack_double(pk, d);
}

/* Encode the number at idx: integers (5.3+ integer subtype; on 5.1 and
 * LuaJIT whole numbers within 2^53) as msgpack ints, the rest as doubles. */
static int enc_number(enc *e, int idx, msgpack_packer *pk)
{
    int64_t i;
    if (vvc_isint64(e->L, idx, &i)) return msgpack_pack_int64(pk, i);
    return pack_double(pk, (double)lua_tonumber(e->L, idx));
}

/* Encode a table key at idx; only strings, numbers (not NaN) and booleans
 * make keys whose order and equality mean the same on every replica. */
static int enc_key(enc *e, int idx, msgpack_packer *pk)
{
    lua_State *L = e->L;
    size_t len;
    const char *s;
    char msg[80];
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &len);
        if (msgpack_pack_str(pk, len) || msgpack_pack_str_body(pk, s, len))
            return enc_nomem(e);
        return VV_OK;
    case LUA_TNUMBER:
        if (lua_tonumber(L, idx) != lua_tonumber(L, idx))
            return enc_fail(e, "cannot encode a NaN table key");
        return enc_number(e, idx, pk) ? enc_nomem(e) : VV_OK;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx) ? msgpack_pack_true(pk)
                                  : msgpack_pack_false(pk))
            return enc_nomem(e);
        return VV_OK;
    default:
        snprintf(msg, sizeof msg, "cannot encode a table key of type %s",
                 luaL_typename(L, idx));
        return enc_fail(e, msg);
    }
}

/* Order entries by the bytes of their encoded keys (a shorter prefix
 * first).  For positive integers this is numeric order, because msgpack
 * writes them big-endian in ever wider formats. */
static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->k, y->k, n);
    if (c) return c;
    return (x->klen > y->klen) - (x->klen < y->klen);
}

static int enc_value(enc *e, int idx, vv_buf *out);

/* Are the keys of the table at idx exactly 1..n, n its length (> 0)?  One
 * pass over the keys, ending at the first that is not one of them. */
static int is_sequence(lua_State *L, int idx, size_t *len)
{
    size_t n = vvc_rawlen(L, idx), count = 0;
    int64_t k;
    if (n == 0 || n > INT32_MAX) return 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {          /* key at -2, value at -1 */
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER || !vvc_isint64(L, -1, &k) ||
            k < 1 || (uint64_t)k > n || ++count > n) {
            lua_pop(L, 1);
            return 0;
        }
    }
    *len = n;
    return count == n;                  /* n distinct keys in 1..n */
}

/* Encode the sequence of n values at idx into out: an array, each value
 * written where it goes. */
static int enc_array(enc *e, int idx, size_t n, vv_buf *out)
{
    lua_State *L = e->L;
    int level = e->depth - 1, rc;
    msgpack_packer pk;
    size_t i;
    msgpack_packer_init(&pk, out, buf_write);
    if (msgpack_pack_array(&pk, n)) return enc_nomem(e);
    e->key[level] = 0;
    for (i = 1; i <= n; i++) {
        vvc_rawgeti(L, idx, (lua_Integer)i);
        e->idx[level] = (int64_t)i;
        e->nk = e->depth;
        rc = enc_value(e, lua_gettop(L), out);
        lua_pop(L, 1);
        if (rc) return rc;
    }
    e->nk = level;
    return out->oom ? enc_nomem(e) : VV_OK;
}

/* Encode the table at idx into out, as an array when its keys are exactly
 * 1..n and as a canonically ordered map otherwise: each entry's key and
 * value into a scratch buffer, the entries sorted by their keys' bytes. */
static int enc_table(enc *e, int idx, vv_buf *out)
{
    lua_State *L = e->L;
    const void *self = lua_topointer(L, idx);
    vv_buf *scratch;
    msgpack_packer spk, opk;
    entry few[16], *ents = few;         /* on the heap past 16 entries */
    size_t n = 0, cap = 16, i;
    int rc = VV_OK, d, level;

    for (d = 0; d < e->depth; d++)
        if (e->open[d] == self) return enc_fail(e, "cannot encode a cycle");
    if (e->depth >= MAXDEPTH)
        return enc_fail(e, "cannot encode tables nested deeper than 64");
    if (!lua_checkstack(L, 4)) return enc_fail(e, "Lua stack overflow");
    level = e->depth;
    e->open[e->depth++] = self;
    if (is_sequence(L, idx, &n)) {
        rc = enc_array(e, idx, n, out);
        e->depth--;
        return rc;
    }

    n = 0;
    while (e->nscratch <= level) vv_buf_init(&e->scratch[e->nscratch++]);
    scratch = &e->scratch[level];
    scratch->len = 0;
    msgpack_packer_init(&spk, scratch, buf_write);
    lua_pushnil(L);
    while (lua_next(L, idx)) {          /* key at -2, value at -1 */
        if (n == cap) {
            entry *p;
            size_t ncap = cap * 2;
            if (ncap > SIZE_MAX / sizeof *ents ||
                (p = vv_realloc(ents == few ? NULL : ents,
                                ncap * sizeof *ents)) == NULL) {
                rc = enc_nomem(e);
                lua_pop(L, 2);
                goto done;
            }
            if (ents == few) memcpy(p, few, sizeof few);
            ents = p;
            cap = ncap;
        }
        ents[n].koff = scratch->len;
        rc = enc_key(e, lua_gettop(L) - 1, &spk);
        if (rc) { lua_pop(L, 2); goto done; }
        ents[n].klen = scratch->len - ents[n].koff;
        ents[n].voff = scratch->len;
        e->key[level] = lua_gettop(L) - 1;
        e->nk = e->depth;
        rc = enc_value(e, lua_gettop(L), scratch);
        if (rc) { lua_pop(L, 2); goto done; }
        e->nk = level;
        ents[n].vlen = scratch->len - ents[n].voff;
        n++;
        lua_pop(L, 1);                  /* keep the key for lua_next */
    }
    if (scratch->oom) { rc = enc_nomem(e); goto done; }
    if (n > UINT32_MAX) {
        rc = enc_fail(e, "cannot encode a table of more than 2^32-1 entries");
        goto done;
    }
    for (i = 0; i < n; i++) ents[i].k = scratch->p + ents[i].koff;
    if (n > 16) {
        qsort(ents, n, sizeof *ents, entry_cmp);
    } else {                            /* few: insertion */
        for (i = 1; i < n; i++) {
            entry x = ents[i];
            size_t j = i;
            for (; j > 0 && entry_cmp(&ents[j - 1], &x) > 0; j--)
                ents[j] = ents[j - 1];
            ents[j] = x;
        }
    }

    msgpack_packer_init(&opk, out, buf_write);
    if (msgpack_pack_map(&opk, n)) {
        rc = enc_nomem(e);
        goto done;
    }
    for (i = 0; i < n; i++) {
        vv_buf_add(out, ents[i].k, ents[i].klen);
        vv_buf_add(out, scratch->p + ents[i].voff, ents[i].vlen);
    }
    if (out->oom) rc = enc_nomem(e);
done:
    if (ents != few) vv_free(ents);
    e->depth--;
    return rc;
}

/* Encode the value at (absolute) idx into out. */
static int enc_value(enc *e, int idx, vv_buf *out)
{
    lua_State *L = e->L;
    msgpack_packer pk;
    const char *s;
    size_t len;
    char msg[80];
    int r;
    msgpack_packer_init(&pk, out, buf_write);
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        r = lua_toboolean(L, idx) ? msgpack_pack_true(&pk)
                                  : msgpack_pack_false(&pk);
        break;
    case LUA_TNUMBER:
        r = enc_number(e, idx, &pk);
        break;
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &len);
        if (len > UINT32_MAX)
            return enc_fail(e, "cannot encode a string of 4 GiB or more");
        r = msgpack_pack_str(&pk, len) || msgpack_pack_str_body(&pk, s, len);
        break;
    case LUA_TTABLE:
        return enc_table(e, idx, out);
    case LUA_TNIL:
    case LUA_TNONE:
        return enc_fail(e, "cannot encode nil (a value is required)");
    default:
        snprintf(msg, sizeof msg, "cannot encode a %s", luaL_typename(L, idx));
        return enc_fail(e, msg);
    }
    return r ? enc_nomem(e) : VV_OK;
}

/* Encode the value at idx with codec into out (appending). */
int vvl_encode(lua_State *L, int idx, int codec, vv_buf *out,
               char *err, size_t errlen)
{
    enc e;
    size_t start = out->len;
    int rc;
    if (err && errlen) err[0] = '\0';
    idx = vvc_absindex(L, idx);
    if (codec == VVL_RAW) {
        const char *s;
        size_t len;
        if (lua_type(L, idx) != LUA_TSTRING) {
            if (err && errlen)
                snprintf(err, errlen, "the raw codec stores strings only, "
                         "got %s", luaL_typename(L, idx));
            return VV_EINVAL;
        }
        s = lua_tolstring(L, idx, &len);
        vv_buf_add(out, s, len);
        if (out->oom) {
            if (err && errlen) snprintf(err, errlen, "out of memory");
            return VV_ENOMEM;
        }
        return VV_OK;
    }
    if (codec != VVL_MSGPACK) {
        if (err && errlen) snprintf(err, errlen, "unknown codec %d", codec);
        return VV_EINVAL;
    }
    e.L = L;
    e.err = err;
    e.errlen = errlen;
    e.depth = 0;
    e.nk = 0;
    e.nscratch = 0;
    rc = enc_value(&e, idx, out);
    while (e.nscratch > 0) vv_buf_free(&e.scratch[--e.nscratch]);
    if (rc) out->len = start;           /* leave out as it was */
    return rc;
}

/* ---- decoding ------------------------------------------------------- */

typedef struct dec {
    lua_State *L;
    const unsigned char *p, *end;
    char *err;
    size_t errlen;
} dec;

/* Record why the bytes were refused. */
static int dec_fail(dec *d, const char *what)
{
    if (d->err && d->errlen)
        snprintf(d->err, d->errlen, "bad msgpack value: %s", what);
    return VV_ECORRUPT;
}

/* Read an n-byte big-endian unsigned number; 0 and a failure when short. */
static int dec_uint(dec *d, size_t n, uint64_t *v)
{
    size_t i;
    if ((size_t)(d->end - d->p) < n) return dec_fail(d, "truncated");
    *v = 0;
    for (i = 0; i < n; i++) *v = (*v << 8) | d->p[i];
    d->p += n;
    return VV_OK;
}

static int dec_value(dec *d, int depth);

/* Push a string or binary body of n bytes. */
static int dec_str(dec *d, uint64_t n)
{
    if ((uint64_t)(d->end - d->p) < n) return dec_fail(d, "truncated string");
    lua_pushlstring(d->L, (const char *)d->p, (size_t)n);
    d->p += n;
    return VV_OK;
}

/* Push an array of n values as a sequence (a nil leaves a hole); depth
 * containers enclose it. */
static int dec_array(dec *d, uint64_t n, int depth)
{
    uint64_t i;
    if (depth >= MAXDEPTH) return dec_fail(d, "nested deeper than 64");
    if (n > (uint64_t)(d->end - d->p)) return dec_fail(d, "truncated array");
    lua_createtable(d->L, n > INT32_MAX ? 0 : (int)n, 0);
    for (i = 0; i < n; i++) {
        int rc = dec_value(d, depth + 1);
        if (rc) return rc;
        if (lua_isnil(d->L, -1))
            lua_pop(d->L, 1);
        else
            lua_rawseti(d->L, -2, (int)(i + 1));
    }
    return VV_OK;
}

/* Push a map of n pairs.  Keys must be strings, numbers (not NaN) or
 * booleans and must not repeat; pairs with a nil value are skipped. */
static int dec_map(dec *d, uint64_t n, int depth)
{
    lua_State *L = d->L;
    uint64_t i;
    if (depth >= MAXDEPTH) return dec_fail(d, "nested deeper than 64");
    if (n > (uint64_t)(d->end - d->p) / 2) return dec_fail(d, "truncated map");
    lua_createtable(L, 0, n > INT32_MAX ? 0 : (int)n);
    for (i = 0; i < n; i++) {
        int rc = dec_value(d, depth + 1), t;
        if (rc) return rc;
        t = lua_type(L, -1);
        if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN)
            return dec_fail(d, "map key is not a string, number or boolean");
        if (t == LUA_TNUMBER && lua_tonumber(L, -1) != lua_tonumber(L, -1))
            return dec_fail(d, "map key is NaN");
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (!lua_isnil(L, -1)) return dec_fail(d, "duplicate map key");
        lua_pop(L, 1);
        rc = dec_value(d, depth + 1);
        if (rc) return rc;
        if (lua_isnil(L, -1))
            lua_pop(L, 2);
        else
            lua_rawset(L, -3);
    }
    return VV_OK;
}

/* Decode one value inside depth containers and push it.  On failure the
 * stack may hold partial results; vvl_decode puts it back. */
static int dec_value(dec *d, int depth)
{
    lua_State *L = d->L;
    uint64_t v;
    unsigned c;
    int rc;
    if (!lua_checkstack(L, 4)) return dec_fail(d, "Lua stack overflow");
    if (d->p >= d->end) return dec_fail(d, "truncated");
    c = *d->p++;
    if (c <= 0x7f) { vvc_pushint64(L, (int64_t)c); return VV_OK; }
    if (c >= 0xe0) { vvc_pushint64(L, (int64_t)c - 256); return VV_OK; }
    if (c <= 0x8f) return dec_map(d, c & 0x0f, depth);
    if (c <= 0x9f) return dec_array(d, c & 0x0f, depth);
    if (c <= 0xbf) return dec_str(d, c & 0x1f);
    switch (c) {
    case 0xc0: lua_pushnil(L); return VV_OK;
    case 0xc2: lua_pushboolean(L, 0); return VV_OK;
    case 0xc3: lua_pushboolean(L, 1); return VV_OK;
    case 0xc4: case 0xd9:                               /* bin8, str8 */
        return (rc = dec_uint(d, 1, &v)) ? rc : dec_str(d, v);
    case 0xc5: case 0xda:                               /* bin16, str16 */
        return (rc = dec_uint(d, 2, &v)) ? rc : dec_str(d, v);
    case 0xc6: case 0xdb:                               /* bin32, str32 */
        return (rc = dec_uint(d, 4, &v)) ? rc : dec_str(d, v);
    case 0xca: {                                        /* float32 */
        uint32_t u;
        float f;
        if ((rc = dec_uint(d, 4, &v))) return rc;
        u = (uint32_t)v;
        memcpy(&f, &u, sizeof f);
        lua_pushnumber(L, (lua_Number)f);
        return VV_OK;
    }
    case 0xcb: {                                        /* float64 */
        double f;
        if ((rc = dec_uint(d, 8, &v))) return rc;
        memcpy(&f, &v, sizeof f);
        lua_pushnumber(L, (lua_Number)f);
        return VV_OK;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf:         /* uint8..64 */
        if ((rc = dec_uint(d, (size_t)1 << (c - 0xcc), &v))) return rc;
        vvc_pushuint64(L, v);
        return VV_OK;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {       /* int8..64 */
        size_t n = (size_t)1 << (c - 0xd0);
        int64_t s;
        if ((rc = dec_uint(d, n, &v))) return rc;
        if (n < 8 && (v >> (8 * n - 1)))                /* sign-extend */
            v |= ~(uint64_t)0 << (8 * n);
        memcpy(&s, &v, sizeof s);
        vvc_pushint64(L, s);
        return VV_OK;
    }
    case 0xdc: return (rc = dec_uint(d, 2, &v)) ? rc : dec_array(d, v, depth);
    case 0xdd: return (rc = dec_uint(d, 4, &v)) ? rc : dec_array(d, v, depth);
    case 0xde: return (rc = dec_uint(d, 2, &v)) ? rc : dec_map(d, v, depth);
    case 0xdf: return (rc = dec_uint(d, 4, &v)) ? rc : dec_map(d, v, depth);
    case 0xc1:
        return dec_fail(d, "reserved byte 0xc1");
    default:                                            /* ext types */
        return dec_fail(d, "extension types are not supported");
    }
}

/* Decode exactly n bytes with codec and push one value. */
int vvl_decode(lua_State *L, const void *p, size_t n, int codec,
               char *err, size_t errlen)
{
    dec d;
    int top = lua_gettop(L), rc;
    if (err && errlen) err[0] = '\0';
    if (codec == VVL_RAW) {
        if (!lua_checkstack(L, 1)) {
            if (err && errlen) snprintf(err, errlen, "Lua stack overflow");
            return VV_ECORRUPT;
        }
        lua_pushlstring(L, p, n);
        return VV_OK;
    }
    if (codec != VVL_MSGPACK) {
        if (err && errlen) snprintf(err, errlen, "unknown codec %d", codec);
        return VV_ECORRUPT;
    }
    d.L = L;
    d.p = p;
    d.end = d.p + n;
    d.err = err;
    d.errlen = errlen;
    rc = dec_value(&d, 0);
    if (rc == VV_OK && d.p != d.end) rc = dec_fail(&d, "trailing bytes");
    if (rc) lua_settop(L, top);
    return rc;
}
