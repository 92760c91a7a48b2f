/* state.c - detached states: merge, write and read exported key states. */
/*
 * An exported state (export.c) names its actors, so it needs no store to
 * be understood.  Each call here parses and checks the states it is given
 * completely (vvi_export_parse), turns them into vvi_dvvs over an actor
 * table, and runs the very code the store runs on stored keys: the merge
 * of dvv.c, the write step of write.c (vvi_write_apply), the reads of
 * read.c.  The result goes out as exported bytes (always canonical: names
 * and dots sorted, varints minimal) or as a read.
 *
 * Actor tables: a merge or a read uses a private one, so a store is left
 * untouched (a durable store's table is shared with other processes and
 * must only grow inside its write transactions).  A write numbers actors
 * in the store's own table inside a write transaction, as vv_put does,
 * so the store records its counter like for any other write.
 */
#include <string.h>
#include "db_int.h"

/* Check that a state names a key vv accepts (states from vv_export
 * always do). */
static int st_key_ok(const vvi_xview *x)
{
    return x->klen <= VV_KEY_MAX ? VV_OK : VV_ECORRUPT;
}

/* Parse state (any key) and check its key; x is released on failure. */
static int st_parse(const void *state, size_t len, vvi_xview *x)
{
    int rc = vvi_export_parse(state, len, NULL, 0, 1, x);
    if (rc == VV_OK) rc = st_key_ok(x);
    if (rc) vvi_xview_free(x);
    return rc;
}

/* The key of a state checked before: the light read vv_apply's second
 * pass does too (vvi_export_check without full). */
int vv_state_key(const void *state, size_t len, const void **key,
                 size_t *klen)
{
    const void *k;
    size_t kl;
    int rc = vvi_export_check(state, len, 0, &k, &kl);
    if (key) *key = k;
    if (klen) *klen = kl;
    return rc;
}

/* Check the state completely, let the view go, then walk its bytes:
 * nothing is held while the functions run, so they may longjmp out (a
 * binding's error). */
int vv_state_inspect(const void *state, size_t len,
                     int (*dot_fn)(void *ud, const vv_dot *d),
                     int (*ver_fn)(void *ud, const vv_version *v), void *ud)
{
    vvi_xview x;
    int rc = st_parse(state, len, &x);
    if (rc) return rc;
    vvi_xview_free(&x);
    return vvi_export_walk(state, len, dot_fn, ver_fn, ud);
}

int vv_state_check(const void *state, size_t len, const void **key,
                   size_t *klen)
{
    vvi_xview x;
    int rc;
    if (key) *key = NULL;
    if (klen) *klen = 0;
    if ((rc = st_parse(state, len, &x))) return rc;
    if (key) *key = x.key;
    if (klen) *klen = x.klen;
    vvi_xview_free(&x);
    return VV_OK;
}

int vv_state_merge(const void *a, size_t alen, const void *b, size_t blen,
                   void **out, size_t *outlen)
{
    vvi_xview xa, xb;
    vvi_actors act;
    vvi_dvv sa, sb;
    vv_buf buf;
    int rc;
    if (out) *out = NULL;
    if (outlen) *outlen = 0;
    if (!out || !outlen) return VV_EINVAL;
    if ((rc = st_parse(a, alen, &xa))) return rc;
    if ((rc = st_parse(b, blen, &xb))) {
        vvi_xview_free(&xa);
        return rc;
    }
    if (xa.klen != xb.klen ||
        (xa.klen && memcmp(xa.key, xb.key, xa.klen) != 0)) {
        vvi_xview_free(&xa);
        vvi_xview_free(&xb);
        return VV_EFOREIGN;
    }
    memset(&act, 0, sizeof act);
    vvi_dvv_init(&sa);
    vvi_dvv_init(&sb);
    vv_buf_init(&buf);
    rc = vvi_xview_load(&act, &xa, &sa);
    if (rc == VV_OK) rc = vvi_xview_load(&act, &xb, &sb);
    if (rc == VV_OK) rc = vvi_dvv_merge(&sa, &sb);
    if (rc == VV_OK) rc = vvi_dvv_export(&act, &sa, xa.key, xa.klen, &buf);
    vvi_dvv_free(&sa);
    vvi_dvv_free(&sb);
    vvi_actors_free(&act);
    vvi_xview_free(&xa);
    vvi_xview_free(&xb);
    if (rc) {
        vv_buf_free(&buf);
        return rc == VV_EINVAL ? VV_ECORRUPT : rc;
    }
    *out = buf.p;
    *outlen = buf.len;
    return VV_OK;
}

/* The write of vv_state_put inside the open write transaction: the
 * state loaded into db's actor numbers and checked against db's counter,
 * db's last timestamp moved up to the state's newest, the write applied
 * and the result exported into b.  *v gets the version written. */
static int st_write(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                    const vvi_xview *x, const vvi_ent *cc, size_t ncc,
                    const void *value, size_t vlen, int tomb, vv_buf *b,
                    vvi_dvv *s, vvi_ver *v)
{
    uint64_t ts = db->last_ts;
    int rc;
    if (x && (rc = vvi_xview_load(&db->act, x, s)))
        return vv_db_fail(db, rc, "%s", vv_strerror(rc));
    if ((rc = vvi_claims_ok(db, s))) return rc;
    if (x) vvi_ts_follow(db, x->maxts);
    rc = vvi_write_apply(db, k, key, klen, s, cc, ncc, value, vlen, tomb, v);
    if (rc == VV_OK && (rc = vvi_dvv_export(&db->act, s, key, klen, b)))
        vv_db_fail(db, rc, "out of memory");
    if (rc) db->last_ts = ts;                    /* no write: no move */
    return rc;
}

int vv_state_put(vv_db *db, const char *ks, const void *key, size_t klen,
                 const void *state, size_t slen, const void *value,
                 size_t vlen, int tomb, const vv_clock *ctx, void **out,
                 size_t *outlen, vv_clock **newctx)
{
    vvi_xview x;
    vvi_ks *k;
    vvi_dvv s;
    vvi_ent stack[16], *cc = NULL;
    size_t ncc = 0;
    vvi_ver v;
    vv_buf b;
    int rc;
    if (out) *out = NULL;
    if (outlen) *outlen = 0;
    if (newctx) *newctx = NULL;
    if (!db) return VV_EINVAL;
    db->err[0] = 0;
    if (!out || !outlen)
        return vv_db_fail(db, VV_EINVAL, "state_put: no place for the result");
    if ((rc = vvi_ks_name_ok(db, ks)) || (rc = vvi_key_ok(db, key, klen)))
        return rc;
    if (tomb) { value = ""; vlen = 0; }
    if (!value && vlen) return vv_db_fail(db, VV_EINVAL, "value missing");
    if (!value) value = "";
    memset(&x, 0, sizeof x);
    if (state || slen) {
        rc = vvi_export_parse(state, slen, key, klen, 0, &x);
        if (rc) {
            vvi_xview_free(&x);
            return vvi_export_fail(db, rc, state, slen);
        }
    }
    if ((rc = vvi_txn_begin(db, 1))) {
        vvi_xview_free(&x);
        return rc;
    }
    vvi_dvv_init(&s);
    vv_buf_init(&b);
    if ((rc = vvi_ks_get(db, ks, 1, &k))) goto done;
    if ((rc = vvi_ctx_map(db, ctx, stack, 16, &cc, &ncc))) {
        if (!db->err[0]) vv_db_fail(db, rc, "context: %s", vv_strerror(rc));
        goto done;
    }
    rc = st_write(db, k, key, klen, state || slen ? &x : NULL, cc, ncc,
                  value, vlen, tomb, &b, &s, &v);
    if (rc) goto done;
    db->counter = v.n;
    db->last_ts = v.ts;
    if (newctx && (rc = vvi_ctx_clock(db, &s, newctx)))
        vv_db_fail(db, rc, "out of memory");
done:
    vvi_dvv_free(&s);
    if (cc != stack) vv_free(cc);
    vvi_xview_free(&x);
    rc = vvi_txn_end(db, rc);
    if (rc) {
        vv_buf_free(&b);
        if (newctx && *newctx) { vv_clock_free(*newctx); *newctx = NULL; }
        return rc;
    }
    *out = b.p;
    *outlen = b.len;
    return VV_OK;
}

int vv_state_get(vv_db *db, const char *ks, const void *state, size_t slen,
                 vv_read **out)
{
    vvi_xview x;
    vvi_actors act;
    vvi_dvv s;
    vvi_ks *k = NULL, dflt;
    int rc, made;
    if (!db || !out) return VV_EINVAL;
    made = *out == NULL;
    db->err[0] = 0;
    if ((rc = vvi_ks_name_ok(db, ks))) goto fail;
    if ((rc = st_parse(state, slen, &x))) {
        vvi_export_fail(db, rc, state, slen);
        goto fail;
    }
    if ((rc = vvi_txn_begin(db, 0))) {
        vvi_xview_free(&x);
        goto fail;
    }
    rc = vvi_ks_get(db, ks, 0, &k);
    rc = vvi_txn_end(db, rc == VV_ENOTFOUND ? VV_OK : rc);
    if (rc) {
        vvi_xview_free(&x);
        goto fail;
    }
    if (!k) {                                    /* the defaults */
        memset(&dflt, 0, sizeof dflt);
        dflt.name = (char *)ks;
        k = &dflt;
    }
    memset(&act, 0, sizeof act);
    vvi_dvv_init(&s);
    rc = vvi_xview_load(&act, &x, &s);
    if (rc == VV_OK) rc = vvi_read_dvv(&act, k, &s, x.key, x.klen, out);
    if (rc && rc != VV_ENOTFOUND) vv_db_fail(db, rc, "%s", vv_strerror(rc));
    vvi_dvv_free(&s);
    vvi_actors_free(&act);
    vvi_xview_free(&x);
    if (rc == VV_OK) return VV_OK;
fail:
    if (made && *out) {
        vv_read_free(*out);
        *out = NULL;
    } else if (*out) {
        vvi_read_reset(*out);
    }
    return rc;
}
