/* write.c - writes: put and delete with a context, sibling limits. */
#include <stdio.h>
#include <string.h>
#include "db_int.h"

/* Check the sibling limits after a change that took the key from before
 * live siblings to those of s; writes over max are refused.  Every change
 * that leaves the key over warn counts a warning; the one that takes it
 * over (a crossing) also logs a line. */
int vvi_limits(vv_db *db, vvi_ks *k, const void *key, size_t klen,
               size_t before, const vvi_dvv *s, int refuse)
{
    size_t live = vvi_dvv_live(s);
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

/* Map a caller's context onto actor numbers (db_int.h). */
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
        int rc = vvi_actor_intern(&db->act, vvi_cname(&c->e[i]), c->e[i].len, &e[i].a);
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

/* Fill the empty clock c with the key's context (actor names, sorted). */
int vvi_ctx_fill(vv_db *db, const vvi_dvv *s, vv_clock *c)
{
    size_t i, k;
    int rc;
    for (i = 0; i < s->nctx; i++)
        if ((rc = vvi_clock_push(c, db->act.an[s->ctx[i].a],
                                 db->act.al[s->ctx[i].a], s->ctx[i].n)))
            return rc;
    for (i = 1; i < c->n; i++) {                 /* sort by name */
        vv_centry t = c->e[i];
        for (k = i; k > 0 && vvi_node_cmp(vvi_cname(&c->e[k - 1]), c->e[k - 1].len,
                                          vvi_cname(&t), t.len) > 0; k--)
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

/* Apply a put or delete to state s (db_int.h): the version takes db's
 * next dot and a timestamp that never goes backwards; the store's write
 * path and writes onto detached states (state.c) share it. */
int vvi_write_apply(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                    vvi_dvv *s, const vvi_ent *cc, size_t ncc,
                    const void *value, size_t vlen, int tomb, vvi_ver *v)
{
    uint64_t now;
    size_t before = vvi_dvv_live(s);
    int rc;
    if (db->counter == UINT64_MAX)
        return vv_db_fail(db, VV_EOVERFLOW, "dot counter exhausted");
    now = db->now(db->now_ud);
    v->a = db->self;
    v->n = db->counter + 1;
    v->ts = now > db->last_ts ? now : db->last_ts;
    v->tomb = tomb;
    v->val = value;
    v->len = tomb ? 0 : vlen;
    if ((rc = vvi_dvv_write(s, cc, ncc, v)))
        return vv_db_fail(db, rc, "%s", vv_strerror(rc));
    return vvi_limits(db, k, key, klen, before, s, 1);
}

/* A put or delete; the key's context afterwards goes to a new clock in
 * *newctx, or into the clock into (either may be NULL). */
static int write_op(vv_db *db, const char *ksname, const void *key, size_t klen,
                    const void *value, size_t vlen, int tomb,
                    const vv_clock *ctx, vv_clock **newctx, vv_clock *into)
{
    vvi_ks *k;
    vvi_dvv s;
    vvi_ent stack[16], *cc = NULL;
    size_t ncc = 0;
    vvi_ver v;
    vvi_hnote hist = { NULL, 0, NULL, 0 };
    int rc, found;
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
    if ((rc = vvi_key_load(db, k, key, klen, &s, &found))) goto out;
    if (k->cfg.history && (rc = vvi_hist_gather(&s, cc, ncc, NULL, &hist))) {
        vv_db_fail(db, rc, "out of memory");
        goto out;
    }
    if ((rc = vvi_write_apply(db, k, key, klen, &s, cc, ncc, value, vlen,
                              tomb, &v)))
        goto out;
    if ((rc = vvi_log_change(db, k, key, klen, &s))) goto out;
    if ((rc = vvi_key_store(db, k, key, klen, &s))) goto out;
    if ((rc = vvi_hist_note(db, k, key, klen, &hist, &v))) goto out;
    db->counter = v.n;
    db->last_ts = v.ts;
    if (newctx && (rc = vvi_ctx_clock(db, &s, newctx)))
        vv_db_fail(db, rc, "out of memory");
    if (into && !rc) {
        vv_clock_clear(into);
        if ((rc = vvi_ctx_fill(db, &s, into))) vv_db_fail(db, rc, "out of memory");
    }
out:
    vvi_hist_free(&hist);
    vvi_dvv_free(&s);
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
