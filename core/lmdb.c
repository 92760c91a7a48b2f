/* lmdb.c - the durable storage backend: one LMDB environment a directory. */
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
#include "vv_int.h"

/*
 * Layout (docs/storage.md has the full story)
 *   named DB "header": "format" -> magic "vv-lmdb\0", u32le format version,
 *                       u32le oldest format version able to read this one
 *   named DB "meta"  : record name (no NUL) -> bytes the store chose
 *   named DB "data"  : varint(keyspace id) ++ key -> state bytes
 *   named DB "log"   : the same, for the store's change-log keyspaces
 *                       (ids with VVI_LOG_KS set)
 * One write transaction of the store is one LMDB write transaction, so a
 * state and the counter that made its dot commit together or not at all.
 */

#define LM_FORMAT        1u          /* the format this build writes */
#define LM_MAGIC         "vv-lmdb"   /* 8 bytes with its NUL */
#define LM_MAGIC_LEN     8
#define LM_MAP_DEFAULT   ((size_t)64 << 20)   /* first map: 64 MiB */
#define LM_LOG_CAP       ((size_t)64 << 20)   /* redo log bound per txn */
#define LM_REPLAYS       8                    /* growth attempts per txn */
#define LM_REG_MAX       256                  /* open directories a process */
#define LM_KEY_BUF       (511 + 8)            /* LMDB's usual key limit */
#define LM_MC_N          4                    /* meta records cached */
#define LM_MC_NAME       24                   /* longest cached meta name */

/* Where the write cursor stands after a get (lm.at). */
#define LM_AT_KEY 1          /* on the key: a put replaces in place */
#define LM_AT_END 2          /* the key is absent and beyond the last */

/* Which database a redo-log record goes to. */
#define LM_DATA 'd'
#define LM_META 'm'
#define LM_LOG  'l'

/* A meta record as of one snapshot (an LMDB transaction id).  The store
 * reads a few meta records in every transaction to notice other
 * processes' changes; while nothing was committed (same id) the copy is
 * exact and saves LMDB lookups on the read path. */
typedef struct lm_mc {
    char name[LM_MC_NAME];
    size_t snap;             /* txn id the copy is of; 0: empty */
    vvi_buf val;
} lm_mc;

typedef struct lm {
    MDB_env *env;
    MDB_txn *txn;            /* the open transaction, or NULL */
    MDB_txn *rtxn;           /* a reset read transaction kept for reuse */
    MDB_dbi data, meta, clog, header;
    int write;               /* txn is a write transaction */
    int read_only;
    int failed;              /* first error inside the write txn (0: none) */
    size_t txnid;            /* id of the write txn (replays must match) */
    size_t snap;             /* id of the read txn's snapshot */
    lm_mc mc[LM_MC_N];       /* meta records, by snapshot */
    size_t map_max;          /* bound for growth (0: none) */
    size_t maxkey;           /* LMDB's key limit */
    unsigned char key[LM_KEY_BUF];  /* scratch: prefixed data key */
    MDB_cursor *cur;         /* write txn: where the last get landed */
    vvi_buf curkey;          /* ... for this key */
    int at;                  /* 0: unknown, LM_AT_KEY, LM_AT_END */
    vvi_buf log;             /* redo log of the write txn */
    int log_off;             /* the log went over LM_LOG_CAP */
    dev_t dev;               /* identity of the directory (registry) */
    ino_t ino;
    char *path;
    char err[512];
} lm;

/* ---- one open per directory per process ------------------------------- */
/* LMDB must not open one environment twice in a process: the second open
 * would not see the first one's file locks and would reset the shared
 * lock table.  This small registry refuses that case.  Entries carry the
 * pid so a child after fork() may open what its parent had open. */
static struct { dev_t dev; ino_t ino; pid_t pid; } reg[LM_REG_MAX];
static int reg_n;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

/* Claim (dev, ino) for this process: 0, EBUSY (open here) or EMFILE. */
static int reg_claim(dev_t dev, ino_t ino)
{
    int i, rc = 0, free_slot = -1;
    pid_t me = getpid();
    pthread_mutex_lock(&reg_lock);
    for (i = 0; i < reg_n; i++) {
        if (reg[i].pid != me) { free_slot = i; continue; }
        if (reg[i].dev == dev && reg[i].ino == ino) { rc = EBUSY; break; }
    }
    if (rc == 0) {
        if (free_slot < 0 && reg_n < LM_REG_MAX) free_slot = reg_n++;
        if (free_slot < 0) rc = EMFILE;
        else {
            reg[free_slot].dev = dev;
            reg[free_slot].ino = ino;
            reg[free_slot].pid = me;
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

/* Release the claim on (dev, ino). */
static void reg_release(dev_t dev, ino_t ino)
{
    int i;
    pid_t me = getpid();
    pthread_mutex_lock(&reg_lock);
    for (i = 0; i < reg_n; i++)
        if (reg[i].pid == me && reg[i].dev == dev && reg[i].ino == ino) {
            reg[i].pid = 0;
            break;
        }
    pthread_mutex_unlock(&reg_lock);
}

/* ---- errors -------------------------------------------------------------- */
/* Record a message on the handle and return rc. */
static int lm_fail(lm *l, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int lm_fail(lm *l, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err, sizeof l->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* Map an LMDB (or errno) code to vv's, keeping LMDB's text in the
 * message: "<what>: <LMDB's words>". */
static int lm_err(lm *l, int mrc, const char *what)
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
    return lm_fail(l, rc, "lmdb %s: %s", what, mdb_strerror(mrc));
}

/* ---- keys -------------------------------------------------------------- */
/* Build varint(ks) ++ key in the scratch buffer; VV_ELIMIT when LMDB
 * cannot hold a key that long. */
static int lm_key(lm *l, uint32_t ks, const void *key, size_t klen,
                  MDB_val *k)
{
    size_t n = 0;
    while (ks >= 0x80) { l->key[n++] = (unsigned char)(ks | 0x80); ks >>= 7; }
    l->key[n++] = (unsigned char)ks;
    if (klen > l->maxkey - n)
        return lm_fail(l, VV_ELIMIT, "key of %zu bytes is too long for the "
                       "LMDB store (at most %zu)", klen, l->maxkey - n);
    if (klen) memcpy(l->key + n, key, klen);
    k->mv_data = l->key;
    k->mv_size = n + klen;
    return VV_OK;
}

/* The database of a keyspace: the store's change logs (ids with
 * VVI_LOG_KS) live apart from the states, so that both trees stay
 * compact and each can grow at its end. */
static int lm_db(uint32_t ks)
{
    return ks & VVI_LOG_KS ? LM_LOG : LM_DATA;
}

static MDB_dbi lm_dbi(const lm *l, int db)
{
    return db == LM_META ? l->meta : db == LM_LOG ? l->clog : l->data;
}

/* ---- map growth and the redo log --------------------------------------- */
/* The current map size and the bytes in use (up to the last page). */
static void lm_usage(lm *l, size_t *map, size_t *used)
{
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info(l->env, &info);
    mdb_env_stat(l->env, &st);
    *map = info.me_mapsize;
    *used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
}

/* Grow the map to at least twice the bytes in use (and at least double
 * when forced), bounded by map_max.  Only with no transaction open in this
 * handle.  VV_EMAPFULL when the bound stops any growth. */
static int lm_grow(lm *l, int force)
{
    size_t map, used, want;
    int mrc;
    lm_usage(l, &map, &used);
    if (!force && used <= map / 2) return VV_OK;
    want = map;
    while (want < SIZE_MAX / 4 && (want < used * 2 || (force && want == map)))
        want *= 2;
    if (l->map_max && want > l->map_max) want = l->map_max;
    if (want <= map) {
        if (!force) return VV_OK;
        return lm_fail(l, VV_EMAPFULL, "lmdb: map full at %zu bytes "
                       "(map_max %zu)", map, l->map_max);
    }
    mrc = mdb_env_set_mapsize(l->env, want);
    if (mrc) return lm_err(l, mrc, "growing the map");
    return VV_OK;
}

/* Write varint n at p; returns the end. */
static unsigned char *log_varint(unsigned char *p, size_t n)
{
    while (n >= 0x80) { *p++ = (unsigned char)(n | 0x80); n >>= 7; }
    *p++ = (unsigned char)n;
    return p;
}

/* Remember a write so the transaction can be redone after growing the
 * map.  Past LM_LOG_CAP the log is dropped and a full map is reported to
 * the caller instead of being healed. */
static void lm_log(lm *l, int op, int db, const MDB_val *k, const MDB_val *v)
{
    size_t need;
    if (l->log_off) return;
    need = 2 + 20 + k->mv_size + (v ? v->mv_size : 0);
    if (l->log.len + need > LM_LOG_CAP) {
        vvi_buf_free(&l->log);
        l->log_off = 1;
        return;
    }
    if (vvi_buf_reserve(&l->log, need)) {
        vvi_buf_free(&l->log);
        l->log_off = 1;
        return;
    }
    {   /* one reservation, then plain stores: this runs on every write */
        unsigned char *p = l->log.p + l->log.len;
        *p++ = (unsigned char)op;
        *p++ = (unsigned char)db;
        p = log_varint(p, k->mv_size);
        memcpy(p, k->mv_data, k->mv_size);
        p += k->mv_size;
        if (v) {
            p = log_varint(p, v->mv_size);
            if (v->mv_size) memcpy(p, v->mv_data, v->mv_size);
            p += v->mv_size;
        }
        l->log.len = (size_t)(p - l->log.p);
    }
}

/* Apply the redo log to the (fresh) write transaction. */
static int lm_replay(lm *l)
{
    vvi_rd r;
    vvi_rd_init(&r, l->log.p, l->log.len);
    while (r.p < r.end && !r.err) {
        unsigned op = vvi_rd_byte(&r), db = vvi_rd_byte(&r);
        MDB_val k, v;
        MDB_dbi dbi = lm_dbi(l, (int)db);
        int mrc;
        k.mv_size = (size_t)vvi_rd_varint(&r);
        k.mv_data = (void *)vvi_rd_bytes(&r, k.mv_size);
        if (op == 'p') {
            v.mv_size = (size_t)vvi_rd_varint(&r);
            v.mv_data = (void *)vvi_rd_bytes(&r, v.mv_size);
            if (r.err) break;
            mrc = mdb_put(l->txn, dbi, &k, &v, 0);
        } else {
            if (r.err) break;
            mrc = mdb_del(l->txn, dbi, &k, NULL);
            if (mrc == MDB_NOTFOUND) mrc = 0;
        }
        if (mrc) return mrc;
    }
    vvi_assert(!r.err);
    return r.err ? MDB_CORRUPTED : MDB_SUCCESS;
}

/* The write transaction hit MDB_MAP_FULL and is gone (aborted by us or
 * freed by a failed commit).  Grow the map and redo the transaction from
 * the log, provided no other writer committed in between (the store's
 * reads would be stale).  Otherwise the caller sees VV_EMAPFULL with the
 * map already grown: a retry of the whole operation will fit. */
static int lm_heal(lm *l)
{
    int i, rc, mrc;
    for (i = 0; i < LM_REPLAYS; i++) {
        rc = lm_grow(l, 1);
        if (rc) return rc;
        if (l->log_off)
            return lm_fail(l, VV_EMAPFULL, "lmdb: map full; it was grown, "
                           "but the transaction was too large to redo: "
                           "retry it");
        mrc = mdb_txn_begin(l->env, NULL, 0, &l->txn);
        l->cur = NULL;
        l->at = 0;
        if (mrc) { l->txn = NULL; return lm_err(l, mrc, "begin"); }
        if (mdb_txn_id(l->txn) != l->txnid) {
            mdb_txn_abort(l->txn);
            l->txn = NULL;
            return lm_fail(l, VV_EMAPFULL, "lmdb: map full; it was grown, "
                           "but another writer committed meanwhile: retry");
        }
        mrc = lm_replay(l);
        if (mrc == MDB_SUCCESS) return VV_OK;
        mdb_txn_abort(l->txn);
        l->txn = NULL;
        if (mrc != MDB_MAP_FULL) return lm_err(l, mrc, "redo after growth");
    }
    return lm_fail(l, VV_EMAPFULL, "lmdb: map full after %d growths",
                   LM_REPLAYS);
}

/* Check that a write transaction is open and usable. */
static int lm_writable(lm *l)
{
    if (!l->txn) {
        if (l->failed) return l->failed;
        return lm_fail(l, VV_EBUSY, "lmdb: no transaction open");
    }
    if (!l->write)
        return lm_fail(l, VV_EREADONLY, "lmdb: write in a read transaction");
    if (l->failed) return l->failed;
    return VV_OK;
}

/* Write (op 'p') or delete (op 'd') one record, healing a full map. */
static int lm_write(lm *l, int op, int db, MDB_val *k, MDB_val *v)
{
    MDB_dbi dbi = lm_dbi(l, db);
    int mrc, rc = lm_writable(l);
    if (rc) return rc;
    lm_log(l, op, db, k, v);
    if (op == 'p' && db == LM_DATA && l->at && l->curkey.len == k->mv_size &&
        memcmp(l->curkey.p, k->mv_data, k->mv_size) == 0) {
        /* the get just before found the spot: no second search */
        mrc = mdb_cursor_put(l->cur, k, v,
                             l->at == LM_AT_KEY ? MDB_CURRENT : MDB_APPEND);
        if (mrc == MDB_KEYEXIST) mrc = mdb_put(l->txn, dbi, k, v, 0);
    } else if (op == 'p' && db == LM_LOG) {
        /* change-log keys grow: try appending at the end first */
        mrc = mdb_put(l->txn, dbi, k, v, MDB_APPEND);
        if (mrc == MDB_KEYEXIST) mrc = mdb_put(l->txn, dbi, k, v, 0);
    } else {
        mrc = op == 'p' ? mdb_put(l->txn, dbi, k, v, 0)
                        : mdb_del(l->txn, dbi, k, NULL);
    }
    if (db == LM_DATA) l->at = 0;
    if (mrc == MDB_NOTFOUND && op == 'd') return VV_OK;
    if (mrc == MDB_MAP_FULL) {
        mdb_txn_abort(l->txn);
        l->txn = NULL;
        rc = lm_heal(l);
    } else if (mrc) {
        rc = lm_err(l, mrc, op == 'p' ? "put" : "delete");
    }
    if (rc) l->failed = rc;
    return rc;
}

/* ---- transactions ---------------------------------------------------------- */
/* Begin a read transaction (reusing the reset one) or a write one.  A map
 * grown by another process is adopted (MDB_MAP_RESIZED); before a write
 * the map is grown while it is more than half used, so that a full map
 * inside a transaction stays rare. */
static int lm_begin(void *h, int write)
{
    lm *l = h;
    int mrc, tries;
    if (l->txn) return lm_fail(l, VV_EBUSY, "lmdb: a transaction is open");
    if (write && l->read_only)
        return lm_fail(l, VV_EREADONLY, "store %s is open read-only",
                       l->path);
    l->failed = 0;
    for (tries = 0; tries < 4; tries++) {
        if (write) {
            int rc = lm_grow(l, 0);
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
        return lm_err(l, mrc, write ? "begin write" : "begin read");
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

/* Commit: durable when this returns VV_OK (unless no_sync). */
static int lm_commit(void *h)
{
    lm *l = h;
    int mrc, rc, i;
    if (!l->txn) {
        if (l->failed) { rc = l->failed; l->failed = 0; return rc; }
        return lm_fail(l, VV_EBUSY, "lmdb: no transaction open");
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
        if (mrc != MDB_MAP_FULL || i == LM_REPLAYS) break;
        rc = lm_heal(l);
        if (rc) { l->failed = 0; return rc; }
    }
    if (l->log.cap > ((size_t)1 << 20)) vvi_buf_free(&l->log);
    if (mrc) return lm_err(l, mrc, "commit");
    return VV_OK;
}

/* Abort the open transaction, if any. */
static void lm_abort(void *h)
{
    lm *l = h;
    l->failed = 0;
    if (!l->txn) return;
    if (l->write) mdb_txn_abort(l->txn);
    else mdb_txn_reset(l->txn);
    l->txn = NULL;
    if (l->log.cap > ((size_t)1 << 20)) vvi_buf_free(&l->log);
}

/* ---- records --------------------------------------------------------------- */
/* A get in a write transaction reads through a cursor and remembers where
 * it stopped: the store's put of the same key that follows (read, merge,
 * write back) then needs no second search of the tree. */
static int lm_get_w(lm *l, MDB_val *k, const void **val, size_t *vlen)
{
    MDB_val fk = *k, v;
    int mrc, found;
    l->at = 0;
    if (!l->cur) {
        mrc = mdb_cursor_open(l->txn, l->data, &l->cur);
        if (mrc) { l->cur = NULL; return lm_err(l, mrc, "cursor"); }
    }
    mrc = mdb_cursor_get(l->cur, &fk, &v, MDB_SET_RANGE);
    if (mrc && mrc != MDB_NOTFOUND) return lm_err(l, mrc, "get");
    found = mrc == MDB_SUCCESS && fk.mv_size == k->mv_size &&
            memcmp(fk.mv_data, k->mv_data, k->mv_size) == 0;
    l->curkey.len = 0;
    vvi_buf_add(&l->curkey, k->mv_data, k->mv_size);
    if (l->curkey.oom) vvi_buf_free(&l->curkey);         /* just no hint */
    else if (found) l->at = LM_AT_KEY;
    else if (mrc == MDB_NOTFOUND) l->at = LM_AT_END;
    if (!found) return VV_ENOTFOUND;
    *val = v.mv_data;
    *vlen = v.mv_size;
    return VV_OK;
}

static int lm_get(void *h, uint32_t ks, const void *key, size_t klen,
                  const void **val, size_t *vlen)
{
    lm *l = h;
    MDB_val k, v;
    int mrc, rc;
    if (!l->txn) return lm_fail(l, VV_EBUSY, "lmdb: no transaction open");
    if (l->failed) return l->failed;
    rc = lm_key(l, ks, key, klen, &k);
    if (rc == VV_ELIMIT) return VV_ENOTFOUND;   /* cannot have been stored */
    if (rc) return rc;
    if (l->write && lm_db(ks) == LM_DATA) return lm_get_w(l, &k, val, vlen);
    mrc = mdb_get(l->txn, lm_dbi(l, lm_db(ks)), &k, &v);
    if (mrc == MDB_NOTFOUND) return VV_ENOTFOUND;      /* common: no text */
    if (mrc) return lm_err(l, mrc, "get");
    *val = v.mv_data;
    *vlen = v.mv_size;
    return VV_OK;
}

static int lm_put(void *h, uint32_t ks, const void *key, size_t klen,
                  const void *val, size_t vlen)
{
    lm *l = h;
    MDB_val k, v;
    int rc = lm_writable(l);
    if (rc) return rc;
    rc = lm_key(l, ks, key, klen, &k);
    if (rc) return rc;
    v.mv_data = (void *)val;
    v.mv_size = vlen;
    return lm_write(l, 'p', lm_db(ks), &k, &v);
}

static int lm_del(void *h, uint32_t ks, const void *key, size_t klen)
{
    lm *l = h;
    MDB_val k;
    int rc = lm_writable(l);
    if (rc) return rc;
    rc = lm_key(l, ks, key, klen, &k);
    if (rc == VV_ELIMIT) return VV_OK;          /* cannot have been stored */
    if (rc) return rc;
    return lm_write(l, 'd', lm_db(ks), &k, NULL);
}

/* Call fn for each key of keyspace ks from the first key >= start, in
 * bytewise order.  The prefix is varint(ks), so one keyspace's keys are
 * contiguous. */
static int lm_scan_from(void *h, uint32_t ks, const void *start, size_t slen,
                        int (*fn)(void *ud, const void *key, size_t klen,
                                  const void *val, size_t vlen), void *ud)
{
    lm *l = h;
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned char pre[8];
    size_t plen = 0, cut = slen;
    uint32_t x = ks;
    int mrc, rc = 0;
    if (!l->txn) return lm_fail(l, VV_EBUSY, "lmdb: no transaction open");
    if (l->failed) return l->failed;
    while (x >= 0x80) { pre[plen++] = (unsigned char)(x | 0x80); x >>= 7; }
    pre[plen++] = (unsigned char)x;
    /* a start longer than LMDB keys: seek to its longest storable prefix,
     * then step over the keys still below start */
    if (cut > l->maxkey - plen) cut = l->maxkey - plen;
    if ((rc = lm_key(l, ks, start, cut, &k))) return rc;
    mrc = mdb_cursor_open(l->txn, lm_dbi(l, lm_db(ks)), &cur);
    if (mrc) return lm_err(l, mrc, "cursor");
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
    if (mrc && mrc != MDB_NOTFOUND) return lm_err(l, mrc, "scan");
    return VV_OK;
}

/* Call fn for each key of keyspace ks in bytewise order. */
static int lm_scan(void *h, uint32_t ks,
                   int (*fn)(void *ud, const void *key, size_t klen,
                             const void *val, size_t vlen), void *ud)
{
    return lm_scan_from(h, ks, "", 0, fn, ud);
}

/* A meta record's key: its name without the NUL. */
static int lm_meta_key(lm *l, const char *name, MDB_val *k)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > l->maxkey)
        return lm_fail(l, VV_EINVAL, "lmdb: bad meta record name");
    k->mv_data = (void *)name;
    k->mv_size = n;
    return VV_OK;
}

static int lm_meta_get(void *h, const char *name, const void **val,
                       size_t *vlen)
{
    lm *l = h;
    MDB_val k, v;
    int mrc, rc;
    if (!l->txn) return lm_fail(l, VV_EBUSY, "lmdb: no transaction open");
    if (l->failed) return l->failed;
    rc = lm_meta_key(l, name, &k);
    if (rc) return rc;
    if (!l->write && k.mv_size < LM_MC_NAME) {
        unsigned i;
        for (i = 0; i < LM_MC_N; i++)
            if (l->mc[i].snap == l->snap && !strcmp(l->mc[i].name, name)) {
                *val = l->mc[i].val.p;
                *vlen = l->mc[i].val.len;
                return VV_OK;
            }
    }
    mrc = mdb_get(l->txn, l->meta, &k, &v);
    if (mrc == MDB_NOTFOUND) return VV_ENOTFOUND;
    if (mrc) return lm_err(l, mrc, "meta get");
    *val = v.mv_data;
    *vlen = v.mv_size;
    if (!l->write && k.mv_size < LM_MC_NAME) {
        /* a slot of an older snapshot: nothing can point into it now */
        lm_mc *c = NULL;
        unsigned i;
        for (i = 0; i < LM_MC_N && !c; i++)
            if (l->mc[i].snap != l->snap) c = &l->mc[i];
        if (!c) return VV_OK;
        c->val.len = 0;
        vvi_buf_add(&c->val, v.mv_data, v.mv_size);
        if (c->val.oom) {
            vvi_buf_free(&c->val);
            c->snap = 0;
        } else {
            memcpy(c->name, name, k.mv_size + 1);
            c->snap = l->snap;
            *val = c->val.p;
        }
    }
    return VV_OK;
}

static int lm_meta_put(void *h, const char *name, const void *val,
                       size_t vlen)
{
    lm *l = h;
    MDB_val k, v;
    int rc = lm_writable(l);
    if (rc) return rc;
    rc = lm_meta_key(l, name, &k);
    if (rc) return rc;
    v.mv_data = (void *)val;
    v.mv_size = vlen;
    return lm_write(l, 'p', LM_META, &k, &v);
}

/* Bytes on disk: the size of the data file. */
static int lm_bytes(void *h, uint64_t *out)
{
    lm *l = h;
    struct stat st;
    int fd = -1;
    if (mdb_env_get_fd(l->env, &fd) != 0 || fstat(fd, &st) != 0) {
        size_t map, used;
        lm_usage(l, &map, &used);
        *out = used;
        return VV_OK;
    }
    *out = (uint64_t)st.st_size;
    return VV_OK;
}

static const char *lm_errmsg(void *h)
{
    return ((lm *)h)->err;
}

/* Close: abandon an open transaction, close the environment. */
static void lm_close(void *h)
{
    lm *l = h;
    if (!l) return;
    if (l->txn && l->write) mdb_txn_abort(l->txn);
    if (l->rtxn) mdb_txn_abort(l->rtxn);
    if (l->env) mdb_env_close(l->env);
    if (l->dev || l->ino) reg_release(l->dev, l->ino);
    vvi_buf_free(&l->curkey);
    vvi_buf_free(&l->log);
    {
        int i;
        for (i = 0; i < LM_MC_N; i++) vvi_buf_free(&l->mc[i].val);
    }
    vvi_free(l->path);
    vvi_free(l);
}

static const vvi_backend lm_ops = {
    "lmdb",
    lm_begin, lm_commit, lm_abort,
    lm_get, lm_put, lm_del, lm_scan,
    lm_meta_get, lm_meta_put,
    lm_bytes, lm_errmsg, lm_close,
    lm_scan_from
};

/* ---- opening ----------------------------------------------------------------- */
static uint32_t get_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void put_u32le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Whether the unnamed (main) database holds any record. */
static int main_db_empty(MDB_txn *txn, int *empty)
{
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    int mrc = mdb_dbi_open(txn, NULL, 0, &dbi);
    if (mrc) return mrc;
    mrc = mdb_cursor_open(txn, dbi, &cur);
    if (mrc) return mrc;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    mdb_cursor_close(cur);
    if (mrc && mrc != MDB_NOTFOUND) return mrc;
    *empty = mrc == MDB_NOTFOUND;
    return MDB_SUCCESS;
}

/* Check the format header inside txn; write it (and create the other
 * databases) into an empty environment when txn can write. */
static int lm_setup(lm *l, MDB_txn *txn, int write)
{
    MDB_val k, v;
    unsigned create = write ? MDB_CREATE : 0;
    int mrc, empty = 0;
    mrc = mdb_dbi_open(txn, "header", 0, &l->header);
    if (mrc == MDB_NOTFOUND) {
        mrc = main_db_empty(txn, &empty);
        if (mrc) return lm_err(l, mrc, "reading the environment");
        if (!empty)
            return lm_fail(l, VV_ECORRUPT, "%s holds an LMDB environment "
                           "that is not a vv store (no format header)",
                           l->path);
        if (!write)
            return lm_fail(l, ENOENT, "%s: no vv store there yet (open it "
                           "once without read_only to create it)", l->path);
        mrc = mdb_dbi_open(txn, "header", MDB_CREATE, &l->header);
        if (mrc) return lm_err(l, mrc, "creating the header");
    } else if (mrc == MDB_INCOMPATIBLE) {
        return lm_fail(l, VV_ECORRUPT, "%s: the LMDB environment is not a "
                       "vv store (\"header\" is not a database)", l->path);
    } else if (mrc) {
        return lm_err(l, mrc, "opening the header");
    }
    k.mv_data = (void *)"format";
    k.mv_size = 6;
    mrc = mdb_get(txn, l->header, &k, &v);
    if (mrc == MDB_NOTFOUND && write) {
        unsigned char rec[LM_MAGIC_LEN + 8];
        memcpy(rec, LM_MAGIC, LM_MAGIC_LEN);
        put_u32le(rec + LM_MAGIC_LEN, LM_FORMAT);
        put_u32le(rec + LM_MAGIC_LEN + 4, LM_FORMAT);
        v.mv_data = rec;
        v.mv_size = sizeof rec;
        mrc = mdb_put(txn, l->header, &k, &v, 0);
        if (mrc) return lm_err(l, mrc, "writing the format header");
    } else if (mrc == MDB_NOTFOUND) {
        return lm_fail(l, VV_ECORRUPT, "%s: the format header is missing",
                       l->path);
    } else if (mrc) {
        return lm_err(l, mrc, "reading the format header");
    } else {
        const unsigned char *p = v.mv_data;
        uint32_t ver, compat;
        if (v.mv_size < LM_MAGIC_LEN + 8 ||
            memcmp(p, LM_MAGIC, LM_MAGIC_LEN) != 0)
            return lm_fail(l, VV_ECORRUPT, "%s: bad format header (not a "
                           "vv store)", l->path);
        ver = get_u32le(p + LM_MAGIC_LEN);
        compat = get_u32le(p + LM_MAGIC_LEN + 4);
        if (compat > LM_FORMAT)
            return lm_fail(l, VV_EVERSION, "%s has storage format version "
                           "%u (readable from version %u on); this build of "
                           "vv reads up to version %u: upgrade vv", l->path,
                           (unsigned)ver, (unsigned)compat,
                           (unsigned)LM_FORMAT);
    }
    mrc = mdb_dbi_open(txn, "meta", create, &l->meta);
    if (mrc == MDB_SUCCESS) mrc = mdb_dbi_open(txn, "data", create, &l->data);
    if (mrc == MDB_SUCCESS) mrc = mdb_dbi_open(txn, "log", create, &l->clog);
    if (mrc == MDB_NOTFOUND)
        return lm_fail(l, VV_ECORRUPT, "%s: a database of the store is "
                       "missing", l->path);
    if (mrc) return lm_err(l, mrc, "opening the databases");
    return VV_OK;
}

/* Give the handle's message to the caller, then free the handle. */
static int lm_open_fail(lm *l, int rc, char **err)
{
    if (err) *err = vvi_strndup(l->err, strlen(l->err));
    lm_close(l);
    return rc;
}

/* Open (creating if needed) the store in directory o->path. */
int vvi_lmdb_open(const vv_options *o, void **h, const vvi_backend **ops,
                  char **err)
{
    lm *l;
    struct stat st;
    MDB_txn *txn;
    unsigned flags = MDB_NOTLS;
    size_t map;
    int mrc, rc;
    *h = NULL;
    if (err) *err = NULL;
    l = vvi_malloc(sizeof *l);
    if (!l) {
        if (err) *err = vvi_strndup("out of memory", 13);
        return VV_ENOMEM;
    }
    memset(l, 0, sizeof *l);
    vvi_buf_init(&l->log);
    if (!o || !o->path || !*o->path)
        return lm_open_fail(l, lm_fail(l, VV_EINVAL, "no path"), err);
    l->path = vvi_strndup(o->path, strlen(o->path));
    if (!l->path)
        return lm_open_fail(l, lm_fail(l, VV_ENOMEM, "out of memory"), err);
    l->read_only = o->read_only != 0;
    l->map_max = o->map_max;

    if (!l->read_only && mkdir(l->path, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        rc = e == EACCES || e == EROFS ? VV_EREADONLY : e;
        return lm_open_fail(l, lm_fail(l, rc, "cannot create %s: %s",
                                       l->path, strerror(e)), err);
    }
    if (stat(l->path, &st) != 0) {
        int e = errno;
        return lm_open_fail(l, lm_fail(l, e, "%s: %s", l->path,
                                       strerror(e)), err);
    }
    if (!S_ISDIR(st.st_mode))
        return lm_open_fail(l, lm_fail(l, ENOTDIR, "%s is not a directory "
                                       "(a vv store is a directory)",
                                       l->path), err);
    rc = reg_claim(st.st_dev, st.st_ino);
    if (rc == EBUSY)
        return lm_open_fail(l, lm_fail(l, VV_EBUSY, "%s is already open in "
                                       "this process", l->path), err);
    if (rc)
        return lm_open_fail(l, lm_fail(l, rc, "%s: more than %d durable "
                                       "stores open in this process",
                                       l->path, LM_REG_MAX), err);
    l->dev = st.st_dev;
    l->ino = st.st_ino;

    mrc = mdb_env_create(&l->env);
    if (mrc) return lm_open_fail(l, lm_err(l, mrc, "env create"), err);
    map = o->map_size ? o->map_size : LM_MAP_DEFAULT;
    if (l->map_max && map > l->map_max) map = l->map_max;
    mdb_env_set_mapsize(l->env, map);
    mdb_env_set_maxdbs(l->env, 4);
    if (l->read_only) flags |= MDB_RDONLY;
    if (o->no_sync) flags |= MDB_NOSYNC;
    mrc = mdb_env_open(l->env, l->path, flags, 0666);
    if (mrc) {
        switch (mrc) {
        case MDB_INVALID:
            rc = lm_fail(l, VV_ECORRUPT, "%s/data.mdb is not an LMDB "
                         "environment (damaged or a foreign file): %s",
                         l->path, mdb_strerror(mrc));
            break;
        case MDB_VERSION_MISMATCH:
            rc = lm_fail(l, VV_EVERSION, "%s was written by another LMDB "
                         "version: %s", l->path, mdb_strerror(mrc));
            break;
        case EACCES: case EROFS: case EPERM:
            if (l->read_only)
                rc = lm_fail(l, VV_EREADONLY, "cannot open %s (%s): even a "
                             "read_only open needs write access to its "
                             "lock.mdb", l->path, mdb_strerror(mrc));
            else
                rc = lm_fail(l, VV_EREADONLY, "cannot open %s for writing "
                             "(%s); open it with read_only", l->path,
                             mdb_strerror(mrc));
            break;
        case ENOENT:
            rc = lm_fail(l, ENOENT, "%s: no vv store there (%s)", l->path,
                         mdb_strerror(mrc));
            break;
        default:
            rc = lm_err(l, mrc, "opening the environment");
            break;
        }
        return lm_open_fail(l, rc, err);
    }
    {   /* readers a killed process left behind */
        int dead = 0;
        mdb_reader_check(l->env, &dead);
    }
    l->maxkey = (size_t)mdb_env_get_maxkeysize(l->env);
    if (l->maxkey > LM_KEY_BUF - 8) l->maxkey = LM_KEY_BUF - 8;

    mrc = mdb_txn_begin(l->env, NULL, l->read_only ? MDB_RDONLY : 0, &txn);
    if (mrc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(l->env, 0);
        mrc = mdb_txn_begin(l->env, NULL, l->read_only ? MDB_RDONLY : 0,
                            &txn);
    }
    if (mrc) return lm_open_fail(l, lm_err(l, mrc, "begin"), err);
    rc = lm_setup(l, txn, !l->read_only);
    if (rc) {
        mdb_txn_abort(txn);
        return lm_open_fail(l, rc, err);
    }
    mrc = mdb_txn_commit(txn);
    if (mrc) return lm_open_fail(l, lm_err(l, mrc, "commit"), err);
    l->err[0] = 0;
    *h = l;
    *ops = &lm_ops;
    return VV_OK;
}
