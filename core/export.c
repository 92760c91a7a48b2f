/* export.c - exported key states: the format, export, checks and merge. */
#include <string.h>
#include "db_int.h"

/* Layout: "VVS", format byte, varint klen, key, varint nctx, nctx x (str
 * actor, varint n) in name order, varint nv, nv x (str actor, varint n,
 * varint ts, varint len<<1|tomb, bytes) in (name, n) order, xxh64 (8 LE). */
/* Append the export of state s of key to b. */
static int state_export(vv_db *db, const vvi_state *s, const void *key,
                        size_t klen, vvi_buf *b)
{
    size_t i, j, start = b->len;
    uint32_t *order = vvi_malloc((s->nctx + 1) * sizeof *order);
    const vvi_ver **vs = vvi_malloc((s->nv + 1) * sizeof *vs);
    int rc = VV_OK;
    if (!order || !vs) rc = VV_ENOMEM;
    else {
        for (i = 0; i < s->nctx; i++) {
            uint32_t t = (uint32_t)i;
            for (j = i; j > 0 && vvi_actor_cmp(&db->act, s->ctx[order[j - 1]].a,
                                               s->ctx[t].a) > 0; j--)
                order[j] = order[j - 1];
            order[j] = t;
        }
        for (i = 0; i < s->nv; i++) {
            const vvi_ver *t = &s->v[i];
            for (j = i; j > 0 && vvi_sib_cmp(db, vs[j - 1], t) > 0; j--)
                vs[j] = vs[j - 1];
            vs[j] = t;
        }
        vvi_buf_add(b, EXPORT_MAGIC, 3);
        vvi_buf_byte(b, EXPORT_FORMAT);
        vvi_buf_varint(b, klen);
        vvi_buf_add(b, key, klen);
        vvi_buf_varint(b, s->nctx);
        for (i = 0; i < s->nctx; i++) {
            uint32_t a = s->ctx[order[i]].a;
            vvi_buf_varint(b, db->act.al[a]);
            vvi_buf_add(b, db->act.an[a], db->act.al[a]);
            vvi_buf_varint(b, s->ctx[order[i]].n);
        }
        vvi_buf_varint(b, s->nv);
        for (i = 0; i < s->nv; i++) {
            vvi_buf_varint(b, db->act.al[vs[i]->a]);
            vvi_buf_add(b, db->act.an[vs[i]->a], db->act.al[vs[i]->a]);
            vvi_buf_varint(b, vs[i]->n);
            vvi_buf_varint(b, vs[i]->ts);
            vvi_buf_varint(b, (uint64_t)vs[i]->len << 1 |
                              (vs[i]->tomb ? 1 : 0));
            vvi_buf_add(b, vs[i]->val, vs[i]->len);
        }
        vvi_buf_sum(b, start);
        if (b->oom) rc = VV_ENOMEM;
    }
    vvi_free(order);
    vvi_free(vs);
    return rc;
}

int vv_export(vv_db *db, const char *ksname, const void *key, size_t klen,
              void **out, size_t *len)
{
    kspace *k;
    vvi_state s;
    vvi_buf b;
    int rc, found = 0;
    if (out) *out = NULL;
    if (len) *len = 0;
    if (!db || !out || !len) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = vvi_ks_name_ok(db, ksname)) || (rc = vvi_key_ok(db, key, klen))) return rc;
    if ((rc = vvi_txn_begin(db, 0))) return rc;
    vvi_state_init(&s);
    vvi_buf_init(&b);
    rc = vvi_ks_get(db, ksname, 0, &k);
    if (rc == VV_OK) rc = vvi_key_load(db, k, key, klen, &s, &found);
    if (rc == VV_OK && !found) rc = VV_ENOTFOUND;
    if (rc == VV_OK) rc = state_export(db, &s, key, klen, &b);
    vvi_state_free(&s);
    rc = vvi_txn_end(db, rc);
    if (rc) { vvi_buf_free(&b); return rc; }
    *out = b.p;
    *len = b.len;
    return VV_OK;
}

/* A parsed export: names borrowed from the bytes. */
typedef struct imp_ent { const char *name; size_t len; uint64_t n; } imp_ent;
typedef struct imp_ver {
    const char *name; size_t len;
    uint64_t n, ts;
    int tomb;
    const unsigned char *val; size_t vlen;
} imp_ver;

/* Check everything about an exported state before anything is changed. */
static int import_parse(const void *state, size_t len, const void *key,
                        size_t klen, imp_ent **ctx, size_t *nctx,
                        imp_ver **vers, size_t *nv, uint64_t *maxts)
{
    vvi_rd r;
    const unsigned char *p = state, *kp;
    uint64_t n, i, kl;
    *ctx = NULL;
    *vers = NULL;
    *maxts = 0;
    if (!state || len < 3 + 1 + 8) return VV_ECORRUPT;
    if (memcmp(p, EXPORT_MAGIC, 3) != 0) return VV_ECORRUPT;
    if (p[3] != EXPORT_FORMAT) return VV_EVERSION;
    if (!vvi_sum_ok(p, len)) return VV_ECORRUPT;
    vvi_rd_init(&r, p + 4, len - 12);
    kl = vvi_rd_varint(&r);
    kp = vvi_rd_bytes(&r, (size_t)kl);
    if (r.err) return VV_ECORRUPT;
    if (kl != klen || (klen && memcmp(kp, key, klen) != 0)) return VV_EFOREIGN;
    n = vvi_rd_varint(&r);
    if (r.err || n > len) return VV_ECORRUPT;
    *nctx = (size_t)n;
    if (!(*ctx = vvi_malloc((size_t)(n ? n : 1) * sizeof **ctx))) return VV_ENOMEM;
    for (i = 0; i < n; i++) {
        imp_ent *e = &(*ctx)[i];
        e->len = (size_t)vvi_rd_varint(&r);
        e->name = (const char *)vvi_rd_bytes(&r, e->len);
        e->n = vvi_rd_varint(&r);
        if (r.err || e->len < 1 || e->len > VV_NODE_MAX || e->n == 0) goto bad;
        if (i && vvi_node_cmp((*ctx)[i - 1].name, (*ctx)[i - 1].len, e->name, e->len) >= 0)
            goto bad;
    }
    n = vvi_rd_varint(&r);
    if (r.err || n > len) goto bad;
    *nv = (size_t)n;
    if (!(*vers = vvi_malloc((size_t)(n ? n : 1) * sizeof **vers))) {
        vvi_free(*ctx); *ctx = NULL;
        return VV_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        imp_ver *v = &(*vers)[i];
        uint64_t lt, seen = 0;
        size_t j;
        int c;
        v->len = (size_t)vvi_rd_varint(&r);
        v->name = (const char *)vvi_rd_bytes(&r, v->len);
        v->n = vvi_rd_varint(&r);
        v->ts = vvi_rd_varint(&r);
        lt = vvi_rd_varint(&r);
        if (r.err || v->len < 1 || v->len > VV_NODE_MAX || v->n == 0) goto bad;
        v->tomb = (int)(lt & 1);
        v->vlen = (size_t)(lt >> 1);
        if (v->tomb && v->vlen) goto bad;
        v->val = vvi_rd_bytes(&r, v->vlen);
        if (r.err) goto bad;
        if (i) {
            c = vvi_node_cmp((*vers)[i - 1].name, (*vers)[i - 1].len, v->name, v->len);
            if (c > 0 || (c == 0 && (*vers)[i - 1].n >= v->n)) goto bad;
        }
        for (j = 0; j < *nctx; j++)              /* its dot is in the context */
            if (vvi_node_cmp((*ctx)[j].name, (*ctx)[j].len, v->name, v->len) == 0)
                seen = (*ctx)[j].n;
        if (v->n > seen) goto bad;
        if (v->ts > *maxts) *maxts = v->ts;
    }
    if (r.p != r.end) goto bad;
    return VV_OK;
bad:
    vvi_free(*ctx);
    vvi_free(*vers);
    *ctx = NULL;
    *vers = NULL;
    return VV_ECORRUPT;
}

/* Merge a parsed export into key inside the open write transaction.  A
 * state that changes nothing is not stored again (nor logged). */
static int merge_in(vv_db *db, kspace *k, const void *key, size_t klen,
                    const imp_ent *ictx, size_t nctx, const imp_ver *iv,
                    size_t nv, uint64_t maxts, int *changed)
{
    vvi_state s, o;
    vvi_hnote hist = { NULL, 0, NULL, 0 };
    size_t i, before;
    int rc = VV_OK, found;
    *changed = 0;
    vvi_state_init(&s);
    vvi_state_init(&o);
    for (i = 0; i < nctx && !rc; i++) {
        uint32_t a;
        if (!(rc = vvi_actor_intern(&db->act, ictx[i].name, ictx[i].len, &a)))
            rc = vvi_ctx_max(&o, a, ictx[i].n);
    }
    for (i = 0; i < nv && !rc; i++) {
        vvi_ver v;
        if ((rc = vvi_actor_intern(&db->act, iv[i].name, iv[i].len, &v.a))) break;
        v.n = iv[i].n;
        v.ts = iv[i].ts;
        v.tomb = iv[i].tomb;
        v.val = iv[i].val;
        v.len = iv[i].vlen;
        rc = vvi_state_add(&o, &v);
    }
    if (rc) { vvi_fail(db, rc, "%s", vv_strerror(rc)); goto out; }
    if (vvi_ctx_get(o.ctx, o.nctx, db->self) > db->counter) {
        rc = vvi_fail(db, VV_ECORRUPT, "state claims dots of this store (%s) "
                      "that it never gave out", db->actor);
        goto out;
    }
    if ((rc = vvi_key_load(db, k, key, klen, &s, &found))) goto out;
    before = vvi_state_live(&s);
    if (k->cfg.history && (rc = vvi_hist_gather(&s, o.ctx, o.nctx, &o, &hist))) {
        vvi_fail(db, rc, "out of memory");
        goto out;
    }
    if ((rc = vvi_state_merge(&s, &o))) { vvi_fail(db, rc, "out of memory"); goto out; }
    if (found) {                                 /* compare with the stored */
        unsigned char mem[512];
        const void *p;
        size_t n;
        vvi_buf b;
        vvi_buf_init_fixed(&b, mem, sizeof mem);
        vvi_state_encode(&s, &b);
        if (b.oom) rc = vvi_fail(db, VV_ENOMEM, "out of memory");
        else if (db->be->get(db->h, k->id, key, klen, &p, &n) != VV_OK ||
                 n != b.len || memcmp(p, b.p, n) != 0)
            *changed = 1;
        vvi_buf_free(&b);
        if (rc) goto out;
    } else *changed = s.nv > 0 || s.nctx > 0;
    if (*changed) {
        vvi_limits(db, k, key, klen, before, &s, 0);
        if ((rc = vvi_log_change(db, k, key, klen, &s))) goto out;
        if ((rc = vvi_key_store(db, k, key, klen, &s))) goto out;
        if ((rc = vvi_hist_note(db, k, key, klen, &hist, NULL))) goto out;
    }
    {   /* hybrid clock: follow remote clocks that are not too far ahead */
        uint64_t now = db->now(db->now_ud);
        if (maxts > db->last_ts && maxts <= now + TS_AHEAD_MAX) db->last_ts = maxts;
    }
out:
    vvi_hist_free(&hist);
    vvi_state_free(&s);
    vvi_state_free(&o);
    return rc;
}

int vv_merge(vv_db *db, const char *ksname, const void *key, size_t klen,
             const void *state, size_t len)
{
    imp_ent *ictx = NULL;
    imp_ver *iv = NULL;
    size_t nctx = 0, nv = 0;
    uint64_t maxts;
    kspace *k;
    int rc, changed;
    if (!db) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = vvi_ks_name_ok(db, ksname)) || (rc = vvi_key_ok(db, key, klen))) return rc;
    rc = import_parse(state, len, key, klen, &ictx, &nctx, &iv, &nv, &maxts);
    if (rc == VV_EFOREIGN)
        return vvi_fail(db, rc, "state belongs to another key");
    if (rc == VV_EVERSION)
        return vvi_fail(db, rc, "state format %d is not one this build reads",
                        len > 3 ? ((const unsigned char *)state)[3] : 0);
    if (rc) return vvi_fail(db, rc, "state is corrupt or truncated");
    if ((rc = vvi_txn_begin(db, 1))) { vvi_free(ictx); vvi_free(iv); return rc; }
    if ((rc = vvi_ks_get(db, ksname, 1, &k)) == VV_OK)
        rc = merge_in(db, k, key, klen, ictx, nctx, iv, nv, maxts, &changed);
    vvi_free(ictx);
    vvi_free(iv);
    return vvi_txn_end(db, rc);
}

int vvi_key_export(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                   vvi_buf *out)
{
    vvi_state s;
    int rc, found;
    rc = vvi_key_load(db, k, key, klen, &s, &found);
    if (rc == VV_OK && !found) rc = VV_ENOTFOUND;
    if (rc == VV_OK) rc = state_export(db, &s, key, klen, out);
    vvi_state_free(&s);
    return rc;
}

int vvi_export_check(const void *state, size_t len, int full,
                     const void **key, size_t *klen)
{
    imp_ent *ictx;
    imp_ver *iv;
    size_t nctx, nv;
    uint64_t maxts, kl;
    vvi_rd r;
    const unsigned char *kp;
    int rc;
    *key = NULL;
    *klen = 0;
    if (!state || len < 3 + 1 + 8) return VV_ECORRUPT;
    vvi_rd_init(&r, (const unsigned char *)state + 4, len - 12);
    kl = vvi_rd_varint(&r);
    kp = vvi_rd_bytes(&r, (size_t)kl);
    if (r.err) return VV_ECORRUPT;
    if (full) {
        rc = import_parse(state, len, kp, (size_t)kl, &ictx, &nctx, &iv, &nv,
                          &maxts);
        if (rc) return rc;
        vvi_free(ictx);
        vvi_free(iv);
    }
    *key = kp;
    *klen = (size_t)kl;
    return VV_OK;
}

int vvi_key_merge(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                  const void *state, size_t len, int *changed)
{
    imp_ent *ictx = NULL;
    imp_ver *iv = NULL;
    size_t nctx = 0, nv = 0;
    uint64_t maxts;
    int rc;
    *changed = 0;
    if ((rc = vvi_key_ok(db, key, klen))) return rc;
    rc = import_parse(state, len, key, klen, &ictx, &nctx, &iv, &nv, &maxts);
    if (rc) return vvi_fail(db, rc, "state is corrupt or truncated");
    rc = merge_in(db, k, key, klen, ictx, nctx, iv, nv, maxts, changed);
    vvi_free(ictx);
    vvi_free(iv);
    return rc;
}

