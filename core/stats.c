/* stats.c - scans of a keyspace: its keys and its counters. */
#include <string.h>
#include "db_int.h"

typedef struct keys_ud {
    int (*fn)(void *ud, const void *key, size_t klen);
    void *ud;
} keys_ud;

static int keys_cb(void *ud, const void *key, size_t klen, const void *v, size_t n)
{
    keys_ud *k = ud;
    (void)v; (void)n;
    return k->fn(k->ud, key, klen);
}

int vv_keys(vv_db *db, const char *ksname,
            int (*fn)(void *ud, const void *key, size_t klen), void *ud)
{
    vvi_ks *k;
    keys_ud ku;
    int rc;
    if (!db || !fn) return VV_EINVAL;
    if ((rc = vvi_ks_name_ok(db, ksname))) return rc;
    if ((rc = vvi_txn_begin(db, 0))) return rc;
    rc = vvi_ks_get(db, ksname, 0, &k);
    if (rc == VV_ENOTFOUND) rc = VV_OK, k = NULL;
    ku.fn = fn;
    ku.ud = ud;
    if (rc == VV_OK && k) rc = db->be->scan(db->h, k->id, keys_cb, &ku);
    vvi_txn_read_end(db);
    return rc;
}

static int stats_cb(void *ud, const void *key, size_t klen, const void *v, size_t n)
{
    vv_stats *st = ud;
    vvi_dvv s;
    size_t live;
    (void)key; (void)klen;
    if (vvi_dvv_decode(&s, v, n)) return VV_ECORRUPT;
    live = vvi_dvv_live(&s);
    vvi_dvv_free(&s);
    if (live == 0) { st->tombstones++; return 0; }
    st->keys++;
    if (live > st->max_siblings) st->max_siblings = live;
    st->siblings[live <= 4 ? live - 1 : live <= 8 ? 4 : live <= 16 ? 5 : live <= 64 ? 6 : 7]++;
    return 0;
}

int vv_stats_get(vv_db *db, const char *ksname, vv_stats *out)
{
    vvi_ks *k;
    int rc = VV_OK;
    if (!db || !out) return VV_EINVAL;
    memset(out, 0, sizeof *out);
    if ((rc = vvi_txn_begin(db, 0))) return rc;
    if (ksname) {
        rc = vvi_ks_get(db, ksname, 0, &k);
        if (rc == VV_OK) {
            out->warnings = k->warnings;
            out->warned_keys = k->warned;
            rc = db->be->scan(db->h, k->id, stats_cb, out);
        } else if (rc == VV_ENOTFOUND) rc = VV_OK;
    } else {
        for (k = db->ks; k && !rc; k = k->next) {
            out->warnings += k->warnings;
            out->warned_keys += k->warned;
            rc = db->be->scan(db->h, k->id, stats_cb, out);
        }
    }
    if (rc == VV_OK) rc = db->be->bytes(db->h, &out->bytes);
    vvi_txn_read_end(db);
    if (rc) return vv_db_fail(db, rc, "stats: %s", vv_strerror(rc));
    return VV_OK;
}

