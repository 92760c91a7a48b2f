/* lmdb_grow.c - LMDB map growth: the redo log that replays a transaction into a bigger map. */
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

/* ---- map growth and the redo log --------------------------------------- */
/* The current map size and the bytes in use (up to the last page). */
void vvi_lmdb_usage(lmdb_store *l, size_t *map, size_t *used)
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
int vvi_lmdb_grow(lmdb_store *l, int force)
{
    size_t map, used, want;
    int mrc;
    vvi_lmdb_usage(l, &map, &used);
    if (!force && used <= map / 2) return VV_OK;
    want = map;
    while (want < SIZE_MAX / 4 && (want < used * 2 || (force && want == map)))
        want *= 2;
    if (l->map_max && want > l->map_max) want = l->map_max;
    if (want <= map) {
        if (!force) return VV_OK;
        return vvi_lmdb_fail(l, VV_EMAPFULL, "lmdb: map full at %zu bytes "
                             "(map_max %zu)", map, l->map_max);
    }
    mrc = mdb_env_set_mapsize(l->env, want);
    if (mrc) return vvi_lmdb_err(l, mrc, "growing the map");
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
 * map.  Past LMDB_LOG_CAP the log is dropped and a full map is reported to
 * the caller instead of being healed. */
static void lmdb_log(lmdb_store *l, int op, int db, const MDB_val *k,
                     const MDB_val *v)
{
    size_t need;
    if (l->log_off) return;
    need = 2 + 20 + k->mv_size + (v ? v->mv_size : 0);
    if (l->log.len + need > LMDB_LOG_CAP) {
        vv_buf_free(&l->log);
        l->log_off = 1;
        return;
    }
    if (vv_buf_reserve(&l->log, need)) {
        vv_buf_free(&l->log);
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
static int lmdb_replay(lmdb_store *l)
{
    vvi_rd r;
    vvi_rd_init(&r, l->log.p, l->log.len);
    while (r.p < r.end && !r.err) {
        unsigned op = vvi_rd_byte(&r), db = vvi_rd_byte(&r);
        MDB_val k, v;
        MDB_dbi dbi = vvi_lmdb_dbi(l, (int)db);
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
int vvi_lmdb_heal(lmdb_store *l)
{
    int i, rc, mrc;
    for (i = 0; i < LMDB_REPLAYS; i++) {
        rc = vvi_lmdb_grow(l, 1);
        if (rc) return rc;
        if (l->log_off)
            return vvi_lmdb_fail(l, VV_EMAPFULL, "lmdb: map full; it was "
                                 "grown, but the transaction was too large "
                                 "to redo: retry it");
        mrc = mdb_txn_begin(l->env, NULL, 0, &l->txn);
        l->cur = NULL;
        l->at = 0;
        if (mrc) { l->txn = NULL; return vvi_lmdb_err(l, mrc, "begin"); }
        if (mdb_txn_id(l->txn) != l->txnid) {
            mdb_txn_abort(l->txn);
            l->txn = NULL;
            return vvi_lmdb_fail(l, VV_EMAPFULL, "lmdb: map full; it was "
                                 "grown, but another writer committed "
                                 "meanwhile: retry");
        }
        mrc = lmdb_replay(l);
        if (mrc == MDB_SUCCESS) return VV_OK;
        mdb_txn_abort(l->txn);
        l->txn = NULL;
        if (mrc != MDB_MAP_FULL)
            return vvi_lmdb_err(l, mrc, "redo after growth");
    }
    return vvi_lmdb_fail(l, VV_EMAPFULL, "lmdb: map full after %d growths",
                         LMDB_REPLAYS);
}

/* Check that a write transaction is open and usable. */
int vvi_lmdb_writable(lmdb_store *l)
{
    if (!l->txn) {
        if (l->failed) return l->failed;
        return vvi_lmdb_fail(l, VV_EBUSY, "lmdb: no transaction open");
    }
    if (!l->write)
        return vvi_lmdb_fail(l, VV_EREADONLY,
                             "lmdb: write in a read transaction");
    if (l->failed) return l->failed;
    return VV_OK;
}

/* Write (op 'p') or delete (op 'd') one record, healing a full map. */
int vvi_lmdb_write(lmdb_store *l, int op, int db, MDB_val *k, MDB_val *v)
{
    MDB_dbi dbi = vvi_lmdb_dbi(l, db);
    int mrc, rc = vvi_lmdb_writable(l);
    if (rc) return rc;
    lmdb_log(l, op, db, k, v);
    if (op == 'p' && db == LMDB_DATA && l->at && l->curkey.len == k->mv_size &&
        memcmp(l->curkey.p, k->mv_data, k->mv_size) == 0) {
        /* the get just before found the spot: no second search */
        mrc = mdb_cursor_put(l->cur, k, v,
                             l->at == LMDB_AT_KEY ? MDB_CURRENT : MDB_APPEND);
        if (mrc == MDB_KEYEXIST) mrc = mdb_put(l->txn, dbi, k, v, 0);
    } else if (op == 'p' && db == LMDB_LOG) {
        /* change-log keys grow: try appending at the end first */
        mrc = mdb_put(l->txn, dbi, k, v, MDB_APPEND);
        if (mrc == MDB_KEYEXIST) mrc = mdb_put(l->txn, dbi, k, v, 0);
    } else {
        mrc = op == 'p' ? mdb_put(l->txn, dbi, k, v, 0)
                        : mdb_del(l->txn, dbi, k, NULL);
    }
    if (db == LMDB_DATA) l->at = 0;
    if (mrc == MDB_NOTFOUND && op == 'd') return VV_OK;
    if (mrc == MDB_MAP_FULL) {
        mdb_txn_abort(l->txn);
        l->txn = NULL;
        rc = vvi_lmdb_heal(l);
    } else if (mrc) {
        rc = vvi_lmdb_err(l, mrc, op == 'p' ? "put" : "delete");
    }
    if (rc) l->failed = rc;
    return rc;
}

