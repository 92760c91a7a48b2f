/* write.c - writes: put and delete with a context, sibling limits. */
#include <stdio.h>
#include <string.h>
#include "db_int.h"

/* Check the sibling limits after a change that took the key from before
 * live siblings to live; writes over max are refused.  Every change
 * that leaves the key over warn counts a warning; the one that takes it
 * over (a crossing) also logs a line. */
int vvi_limits(vv_db *db, vvi_ks *k, const void *key, size_t klen,
               size_t before, size_t live, int refuse)
{
    uint32_t warn = k->cfg.warn_siblings ? k->cfg.warn_siblings : 25;
    uint32_t max = k->cfg.max_siblings ? k->cfg.max_siblings : 100;
    if (refuse && live > max)
        return vv_db_fail(db, VV_ELIMIT, "keyspace '%s': key would have %zu "
                          "siblings, over max_siblings %u; read it and write "
                          "with its context to collapse them", k->name, live, max);
    if (live > warn) {
        k->warnings++;
        if (before <= warn) {
            k->warned++;
            fprintf(stderr, "vv: keyspace '%s' key '%.*s' has %zu siblings "
                    "(warn_siblings %u)\n", k->name,
                    (int)(klen > 60 ? 60 : klen), (const char *)key, live,
                    warn);
        }
    }
    return VV_OK;
}

/* Map a caller's context onto actor numbers (db_int.h).  A context this
 * store handed out carries each entry's actor number as its hint: one
 * compare of the keys confirms it. */
int vvi_ctx_map(vv_db *db, const vv_clock *c, vvi_ent *stack, size_t nstack,
                vvi_ent **out, size_t *n)
{
    size_t i, k;
    vvi_ent *e;
    *out = stack;
    *n = 0;
    if (!c || c->n == 0) return VV_OK;
    e = c->n <= nstack ? stack : vv_malloc(c->n * sizeof *e);
    if (!e) return VV_ENOMEM;
    for (i = 0; i < c->n; i++) {
        const vv_centry *ce = &c->e[i];
        uint32_t h = ce->hint;
        int rc = VV_OK;
        if (h < db->act.na && vvi_cent_eq(&db->act.ce[h], ce)) e[i].a = h;
        else rc = vvi_actor_intern_ent(&db->act, ce, &e[i].a);
        if (rc) { if (e != stack) vv_free(e); return rc; }
        e[i].n = c->e[i].n;
        if (e[i].a == db->self && e[i].n > db->counter) {
            if (e != stack) vv_free(e);
            return vv_db_fail(db, VV_EINVAL, "context claims %s:%llu but this "
                              "store has only given out %llu", db->actor,
                              (unsigned long long)c->e[i].n,
                              (unsigned long long)db->counter);
        }
    }
    for (i = 1; i < c->n; i++) {                 /* insertion sort by number */
        vvi_ent t = e[i];
        for (k = i; k > 0 && e[k - 1].a > t.a; k--) e[k] = e[k - 1];
        e[k] = t;
    }
    *out = e;
    *n = c->n;
    return VV_OK;
}

/* Fill the empty clock c with the key's context (actor names, sorted):
 * each entry copied from the actor's key, in the order of the names'
 * key words (a short context is ordered first, by actor numbers, and
 * each entry copied once), the actor's number going along as the
 * entry's hint. */
int vvi_ctx_fill(vv_db *db, const vvi_dvv *s, vv_clock *c)
{
    return vvi_ctx_fill_ents(&db->act, s->ctx, s->nctx, c);
}

int vvi_ctx_fill_ents(const vvi_actors *act, const vvi_ent *ctx, size_t n,
                      vv_clock *c)
{
    size_t i, k;
    int rc;
    if (n <= 16) {
        uint32_t ord[16];
        for (i = 0; i < n; i++) {                /* few: insertion */
            uint32_t a = ctx[i].a;
            for (k = i; k > 0 && vvi_actor_cmp(act, ctx[ord[k - 1]].a, a) > 0;
                 k--)
                ord[k] = ord[k - 1];
            ord[k] = (uint32_t)i;
        }
        if ((rc = vvi_clock_reserve(c, c->n + n))) return rc;
        for (i = 0; i < n; i++) {                /* the actor's entry */
            const vvi_ent *e = &ctx[ord[i]];
            vv_centry *d = &c->e[c->n];
            *d = act->ce[e->a];                  /* key, length, hint */
            d->n = e->n;
            d->heap = NULL;
            if (d->len > VV_CLOCK_INL) {
                if (!(d->heap = vv_malloc(d->len))) return VV_ENOMEM;
                memcpy(d->heap, act->an[e->a], d->len);
            }
            c->n++;
        }
        return VV_OK;
    }
    for (i = 0; i < n; i++)
        if ((rc = vvi_clock_push_ent(c, &act->ce[ctx[i].a], ctx[i].n)))
            return rc;
    for (i = 1; i < c->n; i++) {                 /* sort by name */
        vv_centry t = c->e[i];
        for (k = i; k > 0 && vvi_cent_cmp(&c->e[k - 1], &t) > 0; k--)
            c->e[k] = c->e[k - 1];
        c->e[k] = t;
    }
    return VV_OK;
}

/* The key's context as a new clock (NULL on failure). */
int vvi_ctx_clock(vv_db *db, const vvi_dvv *s, vv_clock **out)
{
    int rc = vv_clock_new(out);
    if (rc == VV_OK && (rc = vvi_ctx_fill(db, s, *out))) {
        vv_clock_free(*out);
        *out = NULL;
    }
    return rc;
}

/* The version a put or delete writes (db_int.h). */
int vvi_write_ver(vv_db *db, const void *value, size_t vlen, int tomb,
                  vvi_ver *v)
{
    uint64_t now;
    if (db->counter == UINT64_MAX)
        return vv_db_fail(db, VV_EOVERFLOW, "dot counter exhausted");
    now = db->now(db->now_ud);
    v->a = db->self;
    v->n = db->counter + 1;
    v->ts = now > db->last_ts ? now : db->last_ts;
    v->tomb = tomb;
    v->val = value;
    v->len = tomb ? 0 : vlen;
    return VV_OK;
}

/* Write version v into state s, checking the sibling limits. */
static int write_into(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                      vvi_dvv *s, const vvi_ent *cc, size_t ncc,
                      const vvi_ver *v)
{
    size_t before = vvi_dvv_live(s);
    int rc;
    if ((rc = vvi_dvv_write(s, cc, ncc, v)))
        return vv_db_fail(db, rc, "%s", vv_strerror(rc));
    return vvi_limits(db, k, key, klen, before, vvi_dvv_live(s), 1);
}

/* Apply a put or delete to state s (db_int.h): the version takes db's
 * next dot and a timestamp that never goes backwards; the store's write
 * path and writes onto detached states (state.c) share it. */
int vvi_write_apply(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                    vvi_dvv *s, const vvi_ent *cc, size_t ncc,
                    const void *value, size_t vlen, int tomb, vvi_ver *v)
{
    int rc = vvi_write_ver(db, value, vlen, tomb, v);
    return rc ? rc : write_into(db, k, key, klen, s, cc, ncc, v);
}

/* The write of version v with context cc straight on the key's stored
 * bytes (vvi_dvv_patch): no dvv, one pass, the sibling limits, the change
 * log, the new bytes stored.  The key's context afterwards goes to
 * ctx[0..*nctx) (room for cap).  *full is set, with nothing done, for a
 * state the patch does not take (unreadable or large): the full path
 * then writes it, or says why not. */
static int write_patch(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                       const vvi_ent *cc, size_t ncc, const vvi_ver *v,
                       vvi_ent *ctx, size_t cap, size_t *nctx, int *full)
{
    unsigned char mem[512];
    const void *p = NULL;
    size_t n = 0;
    vv_buf b;
    vvi_patch pt;
    int rc = db->be->get(db->h, k->id, key, klen, &p, &n);
    *full = 0;
    if (rc == VV_ENOTFOUND) p = NULL;
    else if (rc) return vvi_be_fail(db, rc);
    vvi_buf_init_fixed(&b, mem, sizeof mem);
    pt.ctx = ctx;
    pt.cap = cap;
    if (vvi_dvv_patch(p, n, db->act.na, cc, ncc, v, &pt, &b)) {
        vv_buf_free(&b);
        *full = 1;
        return VV_OK;
    }
    rc = vvi_limits(db, k, key, klen, pt.before, pt.after, 1);
    if (rc == VV_OK) rc = vvi_log_change(db, k, key, klen, &pt.seq);
    if (rc == VV_OK) {
        vvi_buf_varint(&b, pt.seq);
        if (b.oom) rc = vv_db_fail(db, VV_ENOMEM, "out of memory");
        else if ((rc = db->be->put(db->h, k->id, key, klen, b.p, b.len)))
            rc = vvi_be_fail(db, rc);
    }
    vv_buf_free(&b);
    *nctx = pt.nctx;
    return rc;
}

/* A put or delete; the key's context afterwards goes to a new clock in
 * *newctx, or into the clock into (either may be NULL). */
static int write_op(vv_db *db, const char *ksname, const void *key, size_t klen,
                    const void *value, size_t vlen, int tomb,
                    const vv_clock *ctx, vv_clock **newctx, vv_clock *into)
{
    vvi_ks *k;
    vvi_dvv s;
    vvi_ent stack[16], *cc = NULL, nctx[64];
    size_t ncc = 0, nn = 0;
    vvi_ver v;
    vvi_hnote hist = { NULL, 0, NULL, 0 };
    int rc, found, full = 1;
    if (newctx) *newctx = NULL;
    if (!db) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = vvi_ks_name_ok(db, ksname)) || (rc = vvi_key_ok(db, key, klen))) return rc;
    if (!value && vlen) return vv_db_fail(db, VV_EINVAL, "value missing");
    if ((rc = vvi_txn_begin(db, 1))) return rc;
    vvi_dvv_init(&s);
    if ((rc = vvi_ks_get(db, ksname, 1, &k))) goto out;
    if ((rc = vvi_ctx_map(db, ctx, stack, 16, &cc, &ncc))) {
        if (!db->err[0]) vv_db_fail(db, rc, "context: %s", vv_strerror(rc));
        goto out;
    }
    if ((rc = vvi_write_ver(db, value, vlen, tomb, &v))) goto out;
    if (!k->cfg.history && !vvi_full_path &&
        (rc = write_patch(db, k, key, klen, cc, ncc, &v, nctx, 64, &nn,
                          &full)))
        goto out;
    if (full) {                                  /* decoded, written, encoded */
        if ((rc = vvi_key_load(db, k, key, klen, &s, &found))) goto out;
        if (k->cfg.history &&
            (rc = vvi_hist_gather(&s, cc, ncc, NULL, &hist))) {
            vv_db_fail(db, rc, "out of memory");
            goto out;
        }
        if ((rc = write_into(db, k, key, klen, &s, cc, ncc, &v))) goto out;
        if ((rc = vvi_log_change(db, k, key, klen, &s.seq))) goto out;
        if ((rc = vvi_key_store(db, k, key, klen, &s))) goto out;
        if ((rc = vvi_hist_note(db, k, key, klen, &hist, &v))) goto out;
    }
    db->counter = v.n;
    db->last_ts = v.ts;
    if (newctx) {                                /* freed below on failure */
        if ((rc = vv_clock_new(newctx)) == VV_OK)
            rc = full ? vvi_ctx_fill(db, &s, *newctx)
                      : vvi_ctx_fill_ents(&db->act, nctx, nn, *newctx);
        if (rc) vv_db_fail(db, rc, "out of memory");
    }
    if (into && !rc) {
        vv_clock_clear(into);
        if ((rc = full ? vvi_ctx_fill(db, &s, into)
                       : vvi_ctx_fill_ents(&db->act, nctx, nn, into)))
            vv_db_fail(db, rc, "out of memory");
    }
out:
    if (full) {                                  /* what the full path held */
        vvi_hist_free(&hist);
        vvi_dvv_free(&s);
    }
    if (cc != stack) vv_free(cc);
    rc = vvi_txn_end(db, rc);
    if (rc && newctx && *newctx) { vv_clock_free(*newctx); *newctx = NULL; }
    if (rc && into) vv_clock_clear(into);
    return rc;
}

int vv_write(vv_db *db, const char *ks, const void *key, size_t klen,
             const void *value, size_t vlen, int tomb, const vv_clock *ctx,
             vv_clock *into)
{
    if (db && !value && vlen == 0) value = "";
    return write_op(db, ks, key, klen, tomb ? "" : value, tomb ? 0 : vlen,
                    tomb, ctx, NULL, into);
}

int vv_put(vv_db *db, const char *ks, const void *key, size_t klen,
           const void *value, size_t vlen, const vv_clock *ctx,
           vv_clock **newctx)
{
    if (db && !value && vlen == 0) value = "";
    return write_op(db, ks, key, klen, value, vlen, 0, ctx, newctx, NULL);
}

int vv_delete(vv_db *db, const char *ks, const void *key, size_t klen,
              const vv_clock *ctx, vv_clock **newctx)
{
    return write_op(db, ks, key, klen, "", 0, 1, ctx, newctx, NULL);
}
