/* history.c - opt-in causal history of keys: noting changes, reading them back. */
#include <string.h>
#include "db_int.h"

/* ---- causal history (opt-in per keyspace, read by vv_history) ------------ */
/* Backend keyspace HIST_KS | id holds a key's newest history entries:
 * byte HIST_FORMAT, varint count, count x entry, oldest first.  Entry:
 * varint actor + 1 (0: none), varint counter, varint timestamp, byte flags
 * (1: tombstone, 2: arrived by merge), varint value length, varint preview
 * length, preview bytes, varint nrep, nrep x (varint actor, varint
 * counter).  Actor numbers are this store's own: a history never leaves
 * the store.  Keyspace ids stay below VVI_LOG_KS, so HIST_KS | id meets
 * neither a keyspace nor a change log. */
#define HIST_KS      VVI_HIST_KS
#define HIST_FORMAT  1

void vvi_hist_free(vvi_hnote *h)
{
    vv_free(h->rep);
    vv_free(h->add);
    memset(h, 0, sizeof *h);
}

/* Does s hold the version with dot (a, n)? */
static int hist_has(const vvi_dvv *s, uint32_t a, uint64_t n)
{
    size_t i;
    for (i = 0; i < s->nv; i++)
        if (s->v[i].a == a && s->v[i].n == n) return 1;
    return 0;
}

/* Before state s changes: the versions of s that ctx covers (for a merge
 * with o: and that o does not hold as well), and the versions of o that s
 * has not seen. */
int vvi_hist_gather(const vvi_dvv *s, const vvi_ent *ctx, size_t nctx,
                       const vvi_dvv *o, vvi_hnote *h)
{
    size_t i;
    vvi_hist_free(h);
    if (!(h->rep = vv_malloc((s->nv + 1) * sizeof *h->rep))) return VV_ENOMEM;
    for (i = 0; i < s->nv; i++) {
        const vvi_ver *v = &s->v[i];
        if (vvi_ctx_get(ctx, nctx, v->a) >= v->n &&
            !(o && hist_has(o, v->a, v->n))) {
            h->rep[h->nrep].a = v->a;
            h->rep[h->nrep++].n = v->n;
        }
    }
    if (!o) return VV_OK;
    if (!(h->add = vv_malloc((o->nv + 1) * sizeof *h->add))) return VV_ENOMEM;
    for (i = 0; i < o->nv; i++)
        if (vvi_ctx_get(s->ctx, s->nctx, o->v[i].a) < o->v[i].n)
            h->add[h->nadd++] = o->v[i];
    return VV_OK;
}

/* One decoded entry; preview and replaced dots point into the record. */
typedef struct hist_ent {
    uint64_t a1, n, ts, vlen, nrep;
    unsigned flags;
    const unsigned char *preview, *rep;
    size_t plen;
} hist_ent;

/* Read one entry; VV_ECORRUPT when it is malformed. */
static int hist_read(vvi_rd *r, hist_ent *e)
{
    uint64_t i;
    e->a1 = vvi_rd_varint(r);
    e->n = vvi_rd_varint(r);
    e->ts = vvi_rd_varint(r);
    e->flags = vvi_rd_byte(r);
    e->vlen = vvi_rd_varint(r);
    e->plen = (size_t)vvi_rd_varint(r);
    if (r->err || e->plen > VV_HISTORY_PREVIEW || e->flags > 3 ||
        (e->a1 == 0) != (e->n == 0))
        return VV_ECORRUPT;
    e->preview = vvi_rd_bytes(r, e->plen);
    e->nrep = vvi_rd_varint(r);
    if (r->err || e->nrep > VV_HISTORY_REPLACED) return VV_ECORRUPT;
    e->rep = r->p;
    for (i = 0; i < e->nrep; i++) {
        vvi_rd_varint(r);
        vvi_rd_varint(r);
    }
    return r->err ? VV_ECORRUPT : VV_OK;
}

/* Append an entry for version v (NULL: a merge that only removed) to b. */
static void hist_put(vv_buf *b, const vvi_ver *v, int merge, uint64_t ts,
                     const vvi_hnote *h)
{
    size_t i, plen = v ? (v->len > VV_HISTORY_PREVIEW ? VV_HISTORY_PREVIEW
                                                      : v->len) : 0;
    size_t nrep = h->nrep > VV_HISTORY_REPLACED ? VV_HISTORY_REPLACED : h->nrep;
    vvi_buf_varint(b, v ? (uint64_t)v->a + 1 : 0);
    vvi_buf_varint(b, v ? v->n : 0);
    vvi_buf_varint(b, v ? v->ts : ts);
    vvi_buf_byte(b, (v && v->tomb ? 1u : 0u) | (merge ? 2u : 0u));
    vvi_buf_varint(b, v ? v->len : 0);
    vvi_buf_varint(b, plen);
    if (plen) vv_buf_add(b, v->val, plen);
    vvi_buf_varint(b, nrep);
    for (i = 0; i < nrep; i++) {
        vvi_buf_varint(b, h->rep[i].a);
        vvi_buf_varint(b, h->rep[i].n);
    }
}

/* After a change (inside its transaction): add its entries to the key's
 * history and keep the newest k->cfg.history.  written is the version a
 * write made; NULL for a merge (h->add).  An unreadable old list is
 * started afresh rather than failing the write. */
int vvi_hist_note(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                  const vvi_hnote *h, const vvi_ver *written)
{
    const void *p;
    size_t n, i, keeplen = 0, nnew, first = 0;
    const unsigned char *keep = NULL;
    uint64_t count = 0, drop, j;
    uint32_t lim = k->cfg.history;
    vv_buf b;
    int rc;
    nnew = written ? 1 : h->nadd ? h->nadd : h->nrep ? 1 : 0;
    if (!lim || !nnew) return VV_OK;
    rc = db->be->get(db->h, HIST_KS | k->id, key, klen, &p, &n);
    if (rc && rc != VV_ENOTFOUND)
        return vvi_be_fail(db, rc);
    if (rc == VV_OK) {
        vvi_rd r;
        hist_ent e;
        vvi_rd_init(&r, p, n);
        count = vvi_rd_byte(&r) == HIST_FORMAT ? vvi_rd_varint(&r) : 0;
        drop = count + nnew > lim ? count + nnew - lim : 0;
        for (j = 0; j < count && !r.err; j++) {
            if (j == drop) keep = r.p;
            if (hist_read(&r, &e)) break;
        }
        if (r.err || j < count || r.p != r.end) count = 0;   /* afresh */
        else if (keep) {
            keeplen = (size_t)(r.end - keep);
            count -= drop;
        } else count = 0;
    }
    if (nnew > lim) first = nnew - lim;
    vv_buf_init(&b);
    vvi_buf_byte(&b, HIST_FORMAT);
    vvi_buf_varint(&b, count + (nnew - first));
    if (keeplen) vv_buf_add(&b, keep, keeplen);
    if (written) hist_put(&b, written, 0, 0, h);
    else if (!h->nadd) hist_put(&b, NULL, 1, db->last_ts, h);
    else for (i = first; i < h->nadd; i++) hist_put(&b, &h->add[i], 1, 0, h);
    rc = b.oom ? VV_ENOMEM
       : db->be->put(db->h, HIST_KS | k->id, key, klen, b.p, b.len);
    vv_buf_free(&b);
    if (rc == VV_ENOMEM) return vv_db_fail(db, rc, "out of memory");
    if (rc)
        return vvi_be_fail(db, rc);
    return VV_OK;
}

/* ---- causal history: reading it ------------------------------------------ */
/* Set d to actor number a1 - 1 (none when a1 is 0) and counter n. */
static int hist_dot(const vv_db *db, uint64_t a1, uint64_t n, vv_dot *d)
{
    memset(d, 0, sizeof *d);
    if (a1 == 0) return VV_OK;
    if (a1 > db->act.na) return VV_ECORRUPT;
    d->actor = db->act.an[a1 - 1];
    d->actor_len = db->act.al[a1 - 1];
    d->node_len = db->act.nl[a1 - 1];
    d->counter = n;
    return VV_OK;
}

/* Decode a history record and call fn for each entry. */
static int hist_each(vv_db *db, const void *p, size_t n,
                     int (*fn)(void *ud, const vv_hist *e), void *ud)
{
    vv_dot reps[VV_HISTORY_REPLACED];
    uint64_t count, i, j;
    vvi_rd r;
    vvi_rd_init(&r, p, n);
    if (vvi_rd_byte(&r) != HIST_FORMAT) goto bad;
    count = vvi_rd_varint(&r);
    if (r.err) goto bad;
    for (i = 0; i < count; i++) {
        hist_ent e;
        vv_hist h;
        vvi_rd rr;
        int rc;
        if (hist_read(&r, &e)) goto bad;
        memset(&h, 0, sizeof h);
        if (hist_dot(db, e.a1, e.n, &h.dot)) goto bad;
        vvi_rd_init(&rr, e.rep, (size_t)(r.p - e.rep));
        for (j = 0; j < e.nrep; j++) {
            uint64_t a = vvi_rd_varint(&rr), c = vvi_rd_varint(&rr);
            if (rr.err || a >= UINT32_MAX || c == 0 ||
                hist_dot(db, a + 1, c, &reps[j]))
                goto bad;
        }
        h.timestamp = e.ts;
        h.tombstone = (int)(e.flags & 1);
        h.how = e.flags & 2 ? VV_HIST_MERGE : VV_HIST_WRITE;
        h.preview = e.preview;
        h.preview_len = e.plen;
        h.value_len = (size_t)e.vlen;
        h.replaced = reps;
        h.nreplaced = (size_t)e.nrep;
        if ((rc = fn(ud, &h))) return rc;
    }
    if (r.p != r.end) goto bad;
    return VV_OK;
bad:
    return vv_db_fail(db, VV_ECORRUPT, "the history of a key is unreadable");
}

int vv_history(vv_db *db, const char *ksname, const void *key, size_t klen,
               int (*fn)(void *ud, const vv_hist *e), void *ud)
{
    vvi_ks *k;
    const void *p;
    size_t n = 0;
    void *copy = NULL;
    int rc;
    if (!db || !fn) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = vvi_ks_name_ok(db, ksname)) || (rc = vvi_key_ok(db, key, klen)))
        return rc;
    if ((rc = vvi_txn_begin(db, 0))) return rc;
    rc = vvi_ks_get(db, ksname, 0, &k);
    if (rc == VV_OK) {
        rc = db->be->get(db->h, HIST_KS | k->id, key, klen, &p, &n);
        if (rc == VV_OK && !(copy = vv_malloc(n ? n : 1))) rc = VV_ENOMEM;
        else if (rc == VV_OK) memcpy(copy, p, n);
        else if (rc != VV_ENOTFOUND)
            vvi_be_fail(db, rc);
    }
    vvi_txn_read_end(db);
    if (rc == VV_ENOTFOUND) return VV_OK;
    if (rc == VV_ENOMEM) return vv_db_fail(db, rc, "out of memory");
    if (rc) return rc;
    rc = hist_each(db, copy, n, fn, ud);
    vv_free(copy);
    return rc;
}

