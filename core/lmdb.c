/* lmdb.c - the durable storage backend on LMDB: transactions and records. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <lmdb.h>

#include "lmdb_int.h"

/* ---- errors -------------------------------------------------------------- */
/* Record a message on the handle and return rc. */
int vvi_lmdb_fail(lmdb_store *l, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err, sizeof l->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* Map an LMDB (or errno) code to vv's, keeping LMDB's text in the
 * message: "<what>: <LMDB's words>". */
int vvi_lmdb_err(lmdb_store *l, int mrc, const char *what)
{
    int rc;
    switch (mrc) {
    case MDB_SUCCESS:          return VV_OK;
    case MDB_NOTFOUND:         rc = VV_ENOTFOUND; break;
    case MDB_MAP_FULL:         rc = VV_EMAPFULL; break;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE:     rc = VV_ECORRUPT; break;
    case MDB_VERSION_MISMATCH: rc = VV_EVERSION; break;
    case MDB_BAD_VALSIZE:      rc = VV_ELIMIT; break;
    case EACCES:
    case EROFS:
    case EPERM:                rc = VV_EREADONLY; break;
    case ENOMEM:               rc = VV_ENOMEM; break;
    case ENOSPC:
    case EIO:
    case ENOENT:
    case ENOTDIR:              rc = mrc; break;  /* errno passes through */
    default:                   rc = VV_ESTORAGE; break;
    }
    return vvi_lmdb_fail(l, rc, "lmdb %s: %s", what, mdb_strerror(mrc));
}

/* ---- keys -------------------------------------------------------------- */
/* Build varint(ks) ++ key in the scratch buffer; VV_ELIMIT when LMDB
 * cannot hold a key that long. */
static int lmdb_key(lmdb_store *l, uint32_t ks, const void *key, size_t klen,
                    MDB_val *k)
{
    size_t n = 0;
    while (ks >= 0x80) { l->key[n++] = (unsigned char)(ks | 0x80); ks >>= 7; }
    l->key[n++] = (unsigned char)ks;
    if (klen > l->maxkey - n)
        return vvi_lmdb_fail(l, VV_ELIMIT, "key of %zu bytes is too long for "
                             "the LMDB store (at most %zu)", klen,
                             l->maxkey - n);
    if (klen) memcpy(l->key + n, key, klen);
    k->mv_data = l->key;
    k->mv_size = n + klen;
    return VV_OK;
}

/* The database of a keyspace: the store's change logs (ids with
 * VVI_LOG_KS) live apart from the states, so that both trees stay
 * compact and each can grow at its end. */
static int lmdb_db(uint32_t ks)
{
    return ks & VVI_LOG_KS ? LMDB_LOG : LMDB_DATA;
}

MDB_dbi vvi_lmdb_dbi(const lmdb_store *l, int db)
{
    return db == LMDB_META ? l->meta : db == LMDB_LOG ? l->clog : l->data;
}

/* ---- transactions ---------------------------------------------------------- */
/* Begin a read transaction (reusing the reset one) or a write one.  A map
 * grown by another process is adopted (MDB_MAP_RESIZED); before a write
 * the map is grown while it is more than half used, so that a full map
 * inside a transaction stays rare. */
static int lmdb_begin(void *h, int write)
{
    lmdb_store *l = h;
    int mrc, tries;
    if (l->txn)
        return vvi_lmdb_fail(l, VV_EBUSY, "lmdb: a transaction is open");
    if (write && l->read_only)
        return vvi_lmdb_fail(l, VV_EREADONLY, "store %s is open read-only",
                             l->path);
    l->failed = 0;
    for (tries = 0; tries < 4; tries++) {
        if (write) {
            int rc = vvi_lmdb_grow(l, 0);
            if (rc) return rc;
            mrc = mdb_txn_begin(l->env, NULL, 0, &l->txn);
        } else if (l->rtxn) {
            mrc = mdb_txn_renew(l->rtxn);
            if (mrc == MDB_SUCCESS) l->txn = l->rtxn;
            else { mdb_txn_abort(l->rtxn); l->rtxn = NULL; }
        } else {
            mrc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &l->txn);
            if (mrc == MDB_SUCCESS) l->rtxn = l->txn;
        }
        if (mrc == MDB_READERS_FULL) {
            int dead = 0;
            mdb_reader_check(l->env, &dead);
            if (dead > 0) continue;
        }
        if (mrc != MDB_MAP_RESIZED) break;
        mrc = mdb_env_set_mapsize(l->env, 0);
        if (mrc) break;
    }
    if (mrc) {
        l->txn = NULL;
        return vvi_lmdb_err(l, mrc, write ? "begin write" : "begin read");
    }
    l->write = write;
    l->cur = NULL;                    /* a write txn's cursors die with it */
    l->at = 0;
    if (!write) l->snap = mdb_txn_id(l->txn);
    if (write) {
        l->txnid = mdb_txn_id(l->txn);
        l->log.len = 0;
        l->log.oom = 0;
        l->log_off = 0;
    }
    return VV_OK;
}

/* The snapshot the open read transaction sees: its LMDB txn id, kept by
 * lmdb_begin (0 for none or a write transaction). */
size_t vvi_lmdb_snapshot(void *h)
{
    lmdb_store *l = h;
    return l->txn && !l->write ? l->snap : 0;
}

/* Commit: durable when this returns VV_OK (unless no_sync). */
static int lmdb_commit(void *h)
{
    lmdb_store *l = h;
    int mrc, rc, i;
    if (!l->txn) {
        if (l->failed) { rc = l->failed; l->failed = 0; return rc; }
        return vvi_lmdb_fail(l, VV_EBUSY, "lmdb: no transaction open");
    }
    if (!l->write) {
        mdb_txn_reset(l->txn);
        l->txn = NULL;
        return VV_OK;
    }
    if (l->failed) {
        rc = l->failed;
        mdb_txn_abort(l->txn);
        l->txn = NULL;
        l->failed = 0;
        return rc;
    }
    for (i = 0; ; i++) {
        mrc = mdb_txn_commit(l->txn);
        l->txn = NULL;
        if (mrc != MDB_MAP_FULL || i == LMDB_REPLAYS) break;
        rc = vvi_lmdb_heal(l);
        if (rc) { l->failed = 0; return rc; }
    }
    if (l->log.cap > ((size_t)1 << 20)) vv_buf_free(&l->log);
    if (mrc) return vvi_lmdb_err(l, mrc, "commit");
    return VV_OK;
}

/* Abort the open transaction, if any. */
static void lmdb_abort(void *h)
{
    lmdb_store *l = h;
    l->failed = 0;
    if (!l->txn) return;
    if (l->write) mdb_txn_abort(l->txn);
    else mdb_txn_reset(l->txn);
    l->txn = NULL;
    if (l->log.cap > ((size_t)1 << 20)) vv_buf_free(&l->log);
}

/* ---- records --------------------------------------------------------------- */
/* A get in a write transaction reads through a cursor and remembers where
 * it stopped: the store's put of the same key that follows (read, merge,
 * write back) then needs no second search of the tree. */
static int lmdb_get_w(lmdb_store *l, MDB_val *k, const void **val, size_t *vlen)
{
    MDB_val fk = *k, v;
    int mrc, found;
    l->at = 0;
    if (!l->cur) {
        mrc = mdb_cursor_open(l->txn, l->data, &l->cur);
        if (mrc) { l->cur = NULL; return vvi_lmdb_err(l, mrc, "cursor"); }
    }
    mrc = mdb_cursor_get(l->cur, &fk, &v, MDB_SET_RANGE);
    if (mrc && mrc != MDB_NOTFOUND) return vvi_lmdb_err(l, mrc, "get");
    found = mrc == MDB_SUCCESS && fk.mv_size == k->mv_size &&
            memcmp(fk.mv_data, k->mv_data, k->mv_size) == 0;
    l->curkey.len = 0;
    vv_buf_add(&l->curkey, k->mv_data, k->mv_size);
    if (l->curkey.oom) vv_buf_free(&l->curkey);          /* just no hint */
    else if (found) l->at = LMDB_AT_KEY;
    else if (mrc == MDB_NOTFOUND) l->at = LMDB_AT_END;
    if (!found) return VV_ENOTFOUND;
    *val = v.mv_data;
    *vlen = v.mv_size;
    return VV_OK;
}

static int lmdb_get(void *h, uint32_t ks, const void *key, size_t klen,
                    const void **val, size_t *vlen)
{
    lmdb_store *l = h;
    MDB_val k, v;
    int mrc, rc;
    if (!l->txn) return vvi_lmdb_fail(l, VV_EBUSY, "lmdb: no transaction open");
    if (l->failed) return l->failed;
    rc = lmdb_key(l, ks, key, klen, &k);
    if (rc == VV_ELIMIT) return VV_ENOTFOUND;   /* cannot have been stored */
    if (rc) return rc;
    if (l->write && lmdb_db(ks) == LMDB_DATA)
        return lmdb_get_w(l, &k, val, vlen);
    mrc = mdb_get(l->txn, vvi_lmdb_dbi(l, lmdb_db(ks)), &k, &v);
    if (mrc == MDB_NOTFOUND) return VV_ENOTFOUND;      /* common: no text */
    if (mrc) return vvi_lmdb_err(l, mrc, "get");
    *val = v.mv_data;
    *vlen = v.mv_size;
    return VV_OK;
}

static int lmdb_put(void *h, uint32_t ks, const void *key, size_t klen,
                    const void *val, size_t vlen)
{
    lmdb_store *l = h;
    MDB_val k, v;
    int rc = vvi_lmdb_writable(l);
    if (rc) return rc;
    rc = lmdb_key(l, ks, key, klen, &k);
    if (rc) return rc;
    v.mv_data = (void *)val;
    v.mv_size = vlen;
    return vvi_lmdb_write(l, 'p', lmdb_db(ks), &k, &v);
}

static int lmdb_del(void *h, uint32_t ks, const void *key, size_t klen)
{
    lmdb_store *l = h;
    MDB_val k;
    int rc = vvi_lmdb_writable(l);
    if (rc) return rc;
    rc = lmdb_key(l, ks, key, klen, &k);
    if (rc == VV_ELIMIT) return VV_OK;          /* cannot have been stored */
    if (rc) return rc;
    return vvi_lmdb_write(l, 'd', lmdb_db(ks), &k, NULL);
}

/* Call fn for each key of keyspace ks from the first key >= start, in
 * bytewise order.  The prefix is varint(ks), so one keyspace's keys are
 * contiguous. */
static int lmdb_scan_from(void *h, uint32_t ks, const void *start, size_t slen,
                          int (*fn)(void *ud, const void *key, size_t klen,
                                    const void *val, size_t vlen), void *ud)
{
    lmdb_store *l = h;
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned char pre[8];
    size_t plen = 0, cut = slen;
    uint32_t x = ks;
    int mrc, rc = 0;
    if (!l->txn) return vvi_lmdb_fail(l, VV_EBUSY, "lmdb: no transaction open");
    if (l->failed) return l->failed;
    while (x >= 0x80) { pre[plen++] = (unsigned char)(x | 0x80); x >>= 7; }
    pre[plen++] = (unsigned char)x;
    /* a start longer than LMDB keys: seek to its longest storable prefix,
     * then step over the keys still below start */
    if (cut > l->maxkey - plen) cut = l->maxkey - plen;
    if ((rc = lmdb_key(l, ks, start, cut, &k))) return rc;
    mrc = mdb_cursor_open(l->txn, vvi_lmdb_dbi(l, lmdb_db(ks)), &cur);
    if (mrc) return vvi_lmdb_err(l, mrc, "cursor");
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (mrc == MDB_SUCCESS) {
        const unsigned char *kp;
        size_t kl;
        if (k.mv_size < plen || memcmp(k.mv_data, pre, plen) != 0) break;
        kp = (const unsigned char *)k.mv_data + plen;
        kl = k.mv_size - plen;
        if (cut < slen && vvi_node_cmp((const char *)kp, kl, start, slen) < 0) {
            mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        rc = fn(ud, kp, kl, v.mv_data, v.mv_size);
        if (rc) break;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc) return rc;
    if (mrc && mrc != MDB_NOTFOUND) return vvi_lmdb_err(l, mrc, "scan");
    return VV_OK;
}

/* Call fn for each key of keyspace ks in bytewise order. */
static int lmdb_scan(void *h, uint32_t ks,
                     int (*fn)(void *ud, const void *key, size_t klen,
                               const void *val, size_t vlen), void *ud)
{
    return lmdb_scan_from(h, ks, "", 0, fn, ud);
}

/* A meta record's key: its name without the NUL. */
static int lmdb_meta_key(lmdb_store *l, const char *name, MDB_val *k)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > l->maxkey)
        return vvi_lmdb_fail(l, VV_EINVAL, "lmdb: bad meta record name");
    k->mv_data = (void *)name;
    k->mv_size = n;
    return VV_OK;
}

static int lmdb_meta_get(void *h, const char *name, const void **val,
                         size_t *vlen)
{
    lmdb_store *l = h;
    MDB_val k, v;
    int mrc, rc;
    if (!l->txn) return vvi_lmdb_fail(l, VV_EBUSY, "lmdb: no transaction open");
    if (l->failed) return l->failed;
    rc = lmdb_meta_key(l, name, &k);
    if (rc) return rc;
    if (!l->write && k.mv_size < LMDB_MC_NAME) {
        unsigned i;
        for (i = 0; i < LMDB_MC_N; i++)
            if (l->mc[i].snap == l->snap && !strcmp(l->mc[i].name, name)) {
                *val = l->mc[i].val.p;
                *vlen = l->mc[i].val.len;
                return VV_OK;
            }
    }
    mrc = mdb_get(l->txn, l->meta, &k, &v);
    if (mrc == MDB_NOTFOUND) return VV_ENOTFOUND;
    if (mrc) return vvi_lmdb_err(l, mrc, "meta get");
    *val = v.mv_data;
    *vlen = v.mv_size;
    if (!l->write && k.mv_size < LMDB_MC_NAME) {
        /* a slot of an older snapshot: nothing can point into it now */
        lmdb_mc *c = NULL;
        unsigned i;
        for (i = 0; i < LMDB_MC_N && !c; i++)
            if (l->mc[i].snap != l->snap) c = &l->mc[i];
        if (!c) return VV_OK;
        c->val.len = 0;
        vv_buf_add(&c->val, v.mv_data, v.mv_size);
        if (c->val.oom) {
            vv_buf_free(&c->val);
            c->snap = 0;
        } else {
            memcpy(c->name, name, k.mv_size + 1);
            c->snap = l->snap;
            *val = c->val.p;
        }
    }
    return VV_OK;
}

static int lmdb_meta_put(void *h, const char *name, const void *val,
                         size_t vlen)
{
    lmdb_store *l = h;
    MDB_val k, v;
    int rc = vvi_lmdb_writable(l);
    if (rc) return rc;
    rc = lmdb_meta_key(l, name, &k);
    if (rc) return rc;
    v.mv_data = (void *)val;
    v.mv_size = vlen;
    return vvi_lmdb_write(l, 'p', LMDB_META, &k, &v);
}

/* Bytes on disk: the size of the data file. */
static int lmdb_bytes(void *h, uint64_t *out)
{
    lmdb_store *l = h;
    struct stat st;
    int fd = -1;
    if (mdb_env_get_fd(l->env, &fd) != 0 || fstat(fd, &st) != 0) {
        size_t map, used;
        vvi_lmdb_usage(l, &map, &used);
        *out = used;
        return VV_OK;
    }
    *out = (uint64_t)st.st_size;
    return VV_OK;
}

static const char *lmdb_errmsg(void *h)
{
    return ((lmdb_store *)h)->err;
}

/* Close: abandon an open transaction, close the environment. */
static void lmdb_close(void *h)
{
    lmdb_store *l = h;
    if (!l) return;
    if (l->txn && l->write) mdb_txn_abort(l->txn);
    if (l->rtxn) mdb_txn_abort(l->rtxn);
    if (l->env) mdb_env_close(l->env);
    if (l->dev || l->ino) vvi_lmdb_release(l->dev, l->ino);
    vv_buf_free(&l->curkey);
    vv_buf_free(&l->log);
    {
        int i;
        for (i = 0; i < LMDB_MC_N; i++) vv_buf_free(&l->mc[i].val);
    }
    vv_free(l->path);
    vv_free(l);
}

const vvi_backend vvi_lmdb_ops = {
    "lmdb",
    lmdb_begin, lmdb_commit, lmdb_abort,
    lmdb_get, lmdb_put, lmdb_del, lmdb_scan,
    lmdb_meta_get, lmdb_meta_put,
    lmdb_bytes, lmdb_errmsg, lmdb_close,
    lmdb_scan_from
};

