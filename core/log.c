/* log.c - the change log of each keyspace (what sync reads). */
#include <stdio.h>
#include <string.h>
#include "db_int.h"

/* Name of the meta record with keyspace id's last seq. */
static void seq_record(uint32_t id, char out[24])
{
    snprintf(out, 24, "seq:%lu", (unsigned long)id);
}

/* "seq:<id>": varint seq, then (added later; a record without it names
 * no session) varint n, n x (varint actor number, varint seq): for each
 * of the last SESS_MAX handles that changed the keyspace, the last seq it
 * gave out.  Those are changes this directory's history holds for sure,
 * even when it was restored from a copy since (sync.c). */
static int seq_decode(vv_db *db, vvi_ks *k, const void *p, size_t n)
{
    vvi_rd r;
    uint64_t cnt, i;
    vvi_rd_init(&r, p, n);
    k->seq = vvi_rd_varint(&r);
    k->nsess = 0;
    cnt = r.p < r.end ? vvi_rd_varint(&r) : 0;
    for (i = 0; i < cnt && !r.err; i++) {
        uint64_t a = vvi_rd_varint(&r), s = vvi_rd_varint(&r);
        if (a >= db->act.na || s > k->seq) r.err = VV_ECORRUPT;
        else if (k->nsess < SESS_MAX) {
            k->sess_a[k->nsess] = (uint32_t)a;
            k->sess_s[k->nsess++] = s;
        }
    }
    if (!r.err) return VV_OK;
    return vv_db_fail(db, VV_ECORRUPT, "change log counter of keyspace '%s' "
                      "is unreadable", k->name);
}

/* lmdb: take the keyspace's last seq from "seq:<id>" once a transaction
 * (another process may have moved it; seqs of an aborted transaction are
 * given out again, as nothing saw them). */
int vvi_seq_load(vv_db *db, vvi_ks *k)
{
    const void *p;
    size_t n;
    char name[24];
    int rc;
    if (!db->durable || k->seq_txn == db->txn_no) return VV_OK;
    seq_record(k->id, name);
    rc = db->be->meta_get(db->h, name, &p, &n);
    if (rc == VV_OK) {
        if ((rc = seq_decode(db, k, p, n))) return rc;
    } else if (rc == VV_ENOTFOUND) k->seq = 0, k->nsess = 0;
    else return vvi_be_fail(db, rc);
    k->seq_txn = db->txn_no;
    k->seq_dirty = 0;
    return VV_OK;
}

/* Note that this handle's last change of k is k->seq: its own entry, or
 * a new one in place of the oldest. */
static void seq_session(vv_db *db, vvi_ks *k)
{
    unsigned i, at = 0;
    for (i = 0; i < k->nsess; i++) {
        if (k->sess_a[i] == db->self) { at = i; break; }
        if (k->sess_s[i] < k->sess_s[at]) at = i;
    }
    if (i == k->nsess && k->nsess < SESS_MAX) at = k->nsess++;
    k->sess_a[at] = db->self;
    k->sess_s[at] = k->seq;
}

/* lmdb: record the counters that moved (at commit). */
int vvi_seqs_save(vv_db *db)
{
    vvi_ks *k;
    for (k = db->ks; k; k = k->next) {
        unsigned char b[16 + SESS_MAX * 15];
        char name[24];
        vv_buf buf;
        unsigned i;
        int rc;
        if (!k->seq_dirty) continue;
        seq_record(k->id, name);
        seq_session(db, k);
        vvi_buf_init_fixed(&buf, b, sizeof b);
        vvi_buf_varint(&buf, k->seq);
        vvi_buf_varint(&buf, k->nsess);
        for (i = 0; i < k->nsess; i++) {
            vvi_buf_varint(&buf, k->sess_a[i]);
            vvi_buf_varint(&buf, k->sess_s[i]);
        }
        rc = buf.oom ? VV_ENOMEM
                     : db->be->meta_put(db->h, name, buf.p, buf.len);
        vv_buf_free(&buf);
        if (rc) return rc;
        k->seq_dirty = 0;
    }
    return VV_OK;
}

/* The key's state is about to change: give it the keyspace's next seq and
 * move its change log entry there (VVI_LOG_KS | id: seq -> key). */
int vvi_log_change(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                   uint64_t *seq)
{
    unsigned char sk[8];
    int rc;
    if ((rc = vvi_seq_load(db, k))) return rc;
    if (k->seq == UINT64_MAX)
        return vv_db_fail(db, VV_EOVERFLOW, "change log counter exhausted");
    if (*seq) {
        vvi_seq_key(*seq, sk);
        rc = db->be->del(db->h, VVI_LOG_KS | k->id, sk, 8);
        if (rc && rc != VV_ENOTFOUND) goto fail;
    }
    vvi_seq_key(k->seq + 1, sk);
    if ((rc = db->be->put(db->h, VVI_LOG_KS | k->id, sk, 8, key, klen)))
        goto fail;
    *seq = ++k->seq;
    k->seq_dirty = 1;
    return VV_OK;
fail:
    return vvi_be_fail(db, rc);
}

int vvi_ks_info(vv_db *db, vvi_ks *k, uint32_t *id, uint64_t *seq)
{
    int rc = vvi_seq_load(db, k);
    *id = k->id;
    *seq = k->seq;
    return rc;
}

int vvi_ks_session(vv_db *db, vvi_ks *k, unsigned i, const char **name,
                   size_t *len, uint64_t *seq)
{
    if (i >= k->nsess || !db->durable) return 0;
    if (!(*name = vvi_actor_name(db, k->sess_a[i], len))) return 0;
    *seq = k->sess_s[i];
    return 1;
}

