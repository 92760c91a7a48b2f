/* export.c - exported key states: the format, export, checks and merge. */
#include <string.h>
#include "db_int.h"

/* Layout: "VVS", format byte, varint klen, key, varint nctx, nctx x (str
 * actor, varint n) in name order, varint nv, nv x (str actor, varint n,
 * varint ts, varint len<<1|tomb, bytes) in (name, n) order, xxh64 (8 LE). */
/* Append the export of state s of key to b; s numbers actors as act
 * does. */
int vvi_dvv_export(const vvi_actors *act, const vvi_dvv *s,
                   const void *key, size_t klen, vv_buf *b)
{
    size_t i, j, start = b->len;
    uint32_t *order = vv_malloc((s->nctx + 1) * sizeof *order);
    const vvi_ver **vs = vv_malloc((s->nv + 1) * sizeof *vs);
    int rc = VV_OK;
    if (!order || !vs) rc = VV_ENOMEM;
    else {
        for (i = 0; i < s->nctx; i++) {
            uint32_t t = (uint32_t)i;
            for (j = i; j > 0 && vvi_actor_cmp(act, s->ctx[order[j - 1]].a,
                                               s->ctx[t].a) > 0; j--)
                order[j] = order[j - 1];
            order[j] = t;
        }
        for (i = 0; i < s->nv; i++) {
            const vvi_ver *t = &s->v[i];
            for (j = i; j > 0 && vvi_ver_order(act, vs[j - 1], t) > 0; j--)
                vs[j] = vs[j - 1];
            vs[j] = t;
        }
        vv_buf_add(b, EXPORT_MAGIC, 3);
        vvi_buf_byte(b, EXPORT_FORMAT);
        vvi_buf_varint(b, klen);
        vv_buf_add(b, key, klen);
        vvi_buf_varint(b, s->nctx);
        for (i = 0; i < s->nctx; i++) {
            uint32_t a = s->ctx[order[i]].a;
            vvi_buf_varint(b, act->al[a]);
            vv_buf_add(b, act->an[a], act->al[a]);
            vvi_buf_varint(b, s->ctx[order[i]].n);
        }
        vvi_buf_varint(b, s->nv);
        for (i = 0; i < s->nv; i++) {
            vvi_buf_varint(b, act->al[vs[i]->a]);
            vv_buf_add(b, act->an[vs[i]->a], act->al[vs[i]->a]);
            vvi_buf_varint(b, vs[i]->n);
            vvi_buf_varint(b, vs[i]->ts);
            vvi_buf_varint(b, (uint64_t)vs[i]->len << 1 |
                              (vs[i]->tomb ? 1 : 0));
            vv_buf_add(b, vs[i]->val, vs[i]->len);
        }
        vvi_buf_sum(b, start);
        if (b->oom) rc = VV_ENOMEM;
    }
    vv_free(order);
    vv_free(vs);
    return rc;
}

int vv_export(vv_db *db, const char *ksname, const void *key, size_t klen,
              void **out, size_t *len)
{
    vvi_ks *k;
    vvi_dvv s;
    vv_buf b;
    int rc, found = 0;
    if (out) *out = NULL;
    if (len) *len = 0;
    if (!db || !out || !len) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = vvi_ks_name_ok(db, ksname)) || (rc = vvi_key_ok(db, key, klen))) return rc;
    if ((rc = vvi_txn_begin(db, 0))) return rc;
    vvi_dvv_init(&s);
    vv_buf_init(&b);
    rc = vvi_ks_get(db, ksname, 0, &k);
    if (rc == VV_OK) rc = vvi_key_load(db, k, key, klen, &s, &found);
    if (rc == VV_OK && !found) rc = VV_ENOTFOUND;
    if (rc == VV_OK) rc = vvi_dvv_export(&db->act, &s, key, klen, &b);
    vvi_dvv_free(&s);
    rc = vvi_txn_end(db, rc);
    if (rc) { vv_buf_free(&b); return rc; }
    *out = b.p;
    *len = b.len;
    return VV_OK;
}

void vvi_xview_free(vvi_xview *x)
{
    vv_free(x->ctx);
    vv_free(x->v);
    x->ctx = NULL;
    x->v = NULL;
    x->nctx = x->nv = 0;
}

/* Check everything about an exported state before anything is changed:
 * magic, format, checksum, every field, the order of names and dots, and
 * that each version's dot is inside the context.  Unless anykey, the
 * state must be of key (VV_EFOREIGN otherwise, found before the body is
 * parsed). */
int vvi_export_parse(const void *state, size_t len, const void *key,
                     size_t klen, int anykey, vvi_xview *x)
{
    vvi_rd r;
    const unsigned char *p = state, *kp;
    uint64_t n, i, kl;
    memset(x, 0, sizeof *x);
    if (!state || len < 3 + 1 + 8) return VV_ECORRUPT;
    if (memcmp(p, EXPORT_MAGIC, 3) != 0) return VV_ECORRUPT;
    if (p[3] != EXPORT_FORMAT) return VV_EVERSION;
    if (!vvi_sum_ok(p, len)) return VV_ECORRUPT;
    vvi_rd_init(&r, p + 4, len - 12);
    kl = vvi_rd_varint(&r);
    kp = vvi_rd_bytes(&r, (size_t)kl);
    if (r.err) return VV_ECORRUPT;
    if (!anykey && (kl != klen || (klen && memcmp(kp, key, klen) != 0)))
        return VV_EFOREIGN;
    x->key = kp;
    x->klen = (size_t)kl;
    n = vvi_rd_varint(&r);
    if (r.err || n > len) return VV_ECORRUPT;
    x->nctx = (size_t)n;
    if (!(x->ctx = vv_malloc((size_t)(n ? n : 1) * sizeof *x->ctx)))
        return VV_ENOMEM;
    for (i = 0; i < n; i++) {
        vvi_xent *e = &x->ctx[i];
        e->len = (size_t)vvi_rd_varint(&r);
        e->name = (const char *)vvi_rd_bytes(&r, e->len);
        e->n = vvi_rd_varint(&r);
        if (r.err || e->len < 1 || e->len > VV_NODE_MAX || e->n == 0) goto bad;
        if (i && vvi_node_cmp(x->ctx[i - 1].name, x->ctx[i - 1].len, e->name,
                              e->len) >= 0)
            goto bad;
    }
    n = vvi_rd_varint(&r);
    if (r.err || n > len) goto bad;
    x->nv = (size_t)n;
    if (!(x->v = vv_malloc((size_t)(n ? n : 1) * sizeof *x->v))) {
        vvi_xview_free(x);
        return VV_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        vvi_xver *v = &x->v[i];
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
            c = vvi_node_cmp(x->v[i - 1].name, x->v[i - 1].len, v->name, v->len);
            if (c > 0 || (c == 0 && x->v[i - 1].n >= v->n)) goto bad;
        }
        for (j = 0; j < x->nctx; j++)            /* its dot is in the context */
            if (vvi_node_cmp(x->ctx[j].name, x->ctx[j].len, v->name, v->len) == 0)
                seen = x->ctx[j].n;
        if (v->n > seen) goto bad;
        if (v->ts > x->maxts) x->maxts = v->ts;
    }
    if (r.p != r.end) goto bad;
    return VV_OK;
bad:
    vvi_xview_free(x);
    return VV_ECORRUPT;
}

/* ---- walking a checked export (vv_state_inspect) ---------------------- */

/* A name of the walk: its length and bytes, as a dot with counter n. */
static void walk_dot(vvi_rd *r, vv_dot *d)
{
    d->actor_len = (size_t)vvi_rd_varint(r);
    d->actor = (const char *)vvi_rd_bytes(r, d->actor_len);
    d->counter = vvi_rd_varint(r);
    d->node_len = d->actor ? vvi_node_len(d->actor, d->actor_len) : 0;
}

/* The walk reads the bytes in order and allocates nothing. */
int vvi_export_walk(const void *state, size_t len,
                    int (*dot_fn)(void *ud, const vv_dot *d),
                    int (*ver_fn)(void *ud, const vv_version *v), void *ud)
{
    vvi_rd r;
    uint64_t n, i;
    int rc = VV_OK;
    vvi_rd_init(&r, (const unsigned char *)state + 4, len - 12);
    n = vvi_rd_varint(&r);
    vvi_rd_bytes(&r, (size_t)n);                    /* the key */
    n = vvi_rd_varint(&r);
    for (i = 0; i < n && !rc; i++) {
        vv_dot d;
        walk_dot(&r, &d);
        if (dot_fn) rc = dot_fn(ud, &d);
    }
    n = rc ? 0 : vvi_rd_varint(&r);
    for (i = 0; i < n && !rc; i++) {
        vv_version v;
        uint64_t lt;
        walk_dot(&r, &v.dot);
        v.timestamp = vvi_rd_varint(&r);
        lt = vvi_rd_varint(&r);
        v.tombstone = (int)(lt & 1);
        v.len = (size_t)(lt >> 1);
        v.value = vvi_rd_bytes(&r, v.len);
        if (ver_fn) rc = ver_fn(ud, &v);
    }
    return rc;
}

/* Build o (empty) from a parsed export, numbering its actors in act (new
 * names are added).  Values borrow from the exported bytes. */
int vvi_xview_load(vvi_actors *act, const vvi_xview *x, vvi_dvv *o)
{
    size_t i;
    int rc = VV_OK;
    for (i = 0; i < x->nctx && !rc; i++) {
        uint32_t a;
        if (!(rc = vvi_actor_intern(act, x->ctx[i].name, x->ctx[i].len, &a)))
            rc = vvi_ctx_max(o, a, x->ctx[i].n);
    }
    for (i = 0; i < x->nv && !rc; i++) {
        vvi_ver v;
        if ((rc = vvi_actor_intern(act, x->v[i].name, x->v[i].len, &v.a))) break;
        v.n = x->v[i].n;
        v.ts = x->v[i].ts;
        v.tomb = x->v[i].tomb;
        v.val = x->v[i].val;
        v.len = x->v[i].vlen;
        rc = vvi_dvv_add(o, &v);
    }
    return rc;
}

/* Does state o (actors numbered as db's) claim dots of db's own actor
 * that db never gave out?  Such a state was forged, or made by another
 * store that took this actor's name. */
int vvi_claims_ok(vv_db *db, const vvi_dvv *o)
{
    if (vvi_ctx_get(o->ctx, o->nctx, db->self) > db->counter)
        return vv_db_fail(db, VV_ECORRUPT, "state claims dots of this store "
                          "(%s) that it never gave out", db->actor);
    return VV_OK;
}

/* Move db's last timestamp up to a remote one that is not too far ahead. */
void vvi_ts_follow(vv_db *db, uint64_t maxts)
{
    uint64_t now = db->now(db->now_ud);
    if (maxts > db->last_ts && maxts <= now + TS_AHEAD_MAX) db->last_ts = maxts;
}

/* Merge a parsed export into key inside the open write transaction.  A
 * state that changes nothing is not stored again (nor logged). */
static int merge_in(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                    const vvi_xview *x, int *changed)
{
    vvi_dvv s, o;
    vvi_hnote hist = { NULL, 0, NULL, 0 };
    size_t before;
    int rc = VV_OK, found;
    *changed = 0;
    vvi_dvv_init(&s);
    vvi_dvv_init(&o);
    if ((rc = vvi_xview_load(&db->act, x, &o))) {
        vv_db_fail(db, rc, "%s", vv_strerror(rc));
        goto out;
    }
    if ((rc = vvi_claims_ok(db, &o))) goto out;
    if ((rc = vvi_key_load(db, k, key, klen, &s, &found))) goto out;
    before = vvi_dvv_live(&s);
    if (k->cfg.history && (rc = vvi_hist_gather(&s, o.ctx, o.nctx, &o, &hist))) {
        vv_db_fail(db, rc, "out of memory");
        goto out;
    }
    if ((rc = vvi_dvv_merge(&s, &o))) { vv_db_fail(db, rc, "out of memory"); goto out; }
    if (found) {                                 /* compare with the stored */
        unsigned char mem[512];
        const void *p;
        size_t n;
        vv_buf b;
        vvi_buf_init_fixed(&b, mem, sizeof mem);
        vvi_dvv_encode(&s, &b);
        if (b.oom) rc = vv_db_fail(db, VV_ENOMEM, "out of memory");
        else if (db->be->get(db->h, k->id, key, klen, &p, &n) != VV_OK ||
                 n != b.len || memcmp(p, b.p, n) != 0)
            *changed = 1;
        vv_buf_free(&b);
        if (rc) goto out;
    } else *changed = s.nv > 0 || s.nctx > 0;
    if (*changed) {
        vvi_limits(db, k, key, klen, before, vvi_dvv_live(&s), 0);
        if ((rc = vvi_log_change(db, k, key, klen, &s.seq))) goto out;
        if ((rc = vvi_key_store(db, k, key, klen, &s))) goto out;
        if ((rc = vvi_hist_note(db, k, key, klen, &hist, NULL))) goto out;
    }
    vvi_ts_follow(db, x->maxts);
out:
    vvi_hist_free(&hist);
    vvi_dvv_free(&s);
    vvi_dvv_free(&o);
    return rc;
}

/* Record on db why an exported state was refused (rc from
 * vvi_export_parse). */
int vvi_export_fail(vv_db *db, int rc, const void *state, size_t len)
{
    if (rc == VV_EFOREIGN)
        return vv_db_fail(db, rc, "state belongs to another key");
    if (rc == VV_EVERSION)
        return vv_db_fail(db, rc, "state format %d is not one this build reads",
                          len > 3 ? ((const unsigned char *)state)[3] : 0);
    if (rc == VV_ENOMEM) return vv_db_fail(db, rc, "out of memory");
    return vv_db_fail(db, rc, "state is corrupt or truncated");
}

int vv_merge(vv_db *db, const char *ksname, const void *key, size_t klen,
             const void *state, size_t len)
{
    vvi_xview x;
    vvi_ks *k;
    int rc, changed;
    if (!db) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = vvi_ks_name_ok(db, ksname)) || (rc = vvi_key_ok(db, key, klen))) return rc;
    rc = vvi_export_parse(state, len, key, klen, 0, &x);
    if (rc) return vvi_export_fail(db, rc, state, len);
    if ((rc = vvi_txn_begin(db, 1))) { vvi_xview_free(&x); return rc; }
    if ((rc = vvi_ks_get(db, ksname, 1, &k)) == VV_OK)
        rc = merge_in(db, k, key, klen, &x, &changed);
    vvi_xview_free(&x);
    return vvi_txn_end(db, rc);
}

int vvi_key_export(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                   vv_buf *out)
{
    vvi_dvv s;
    int rc, found;
    rc = vvi_key_load(db, k, key, klen, &s, &found);
    if (rc == VV_OK && !found) rc = VV_ENOTFOUND;
    if (rc == VV_OK) rc = vvi_dvv_export(&db->act, &s, key, klen, out);
    vvi_dvv_free(&s);
    return rc;
}

int vvi_export_check(const void *state, size_t len, int full,
                     const void **key, size_t *klen)
{
    vvi_xview x;
    uint64_t kl;
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
        if ((rc = vvi_export_parse(state, len, NULL, 0, 1, &x))) return rc;
        vvi_xview_free(&x);
    }
    *key = kp;
    *klen = (size_t)kl;
    return VV_OK;
}

int vvi_key_merge(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                  const void *state, size_t len, int *changed)
{
    vvi_xview x;
    int rc;
    *changed = 0;
    if ((rc = vvi_key_ok(db, key, klen))) return rc;
    rc = vvi_export_parse(state, len, key, klen, 0, &x);
    if (rc) return vv_db_fail(db, rc, "state is corrupt or truncated");
    rc = merge_in(db, k, key, klen, &x, changed);
    vvi_xview_free(&x);
    return rc;
}
