/* syncutil.h - keyspace sync of "ks" between stores under test: messages,
 * rounds, reaping, and a fingerprint of everything a store holds. */
#ifndef VV_SYNCUTIL_H
#define VV_SYNCUTIL_H
#include "testutil.h"
#include "vv_int.h"

/* A digest or delta: bytes from vv, freed with vv_free(m.p). */
typedef struct su_msg {
    void *p;
    size_t n;
} su_msg;

/* db's digest of "ks": what it has. */
static inline su_msg su_digest(vv_db *db)
{
    su_msg m;
    assert_int_equal(vv_digest(db, "ks", &m.p, &m.n), VV_OK);
    return m;
}

/* The delta from makes for the digest d: what d's maker misses. */
static inline su_msg su_delta(vv_db *from, su_msg d)
{
    su_msg m;
    int rc = vv_delta(from, "ks", d.p, d.n, &m.p, &m.n);
    if (rc) fprintf(stderr, "delta: %s\n", vv_errmsg(from));
    assert_int_equal(rc, VV_OK);
    return m;
}

/* Apply the delta x to to; the number of keys it changed. */
static inline size_t su_apply(vv_db *to, su_msg x)
{
    size_t n = 12345;
    int rc = vv_apply(to, "ks", x.p, x.n, &n);
    if (rc) fprintf(stderr, "apply: %s\n", vv_errmsg(to));
    assert_int_equal(rc, VV_OK);
    return n;
}

/* One round from a to b; the keys changed on b; bytes moved in *bytes. */
static inline size_t su_sync(vv_db *a, vv_db *b, size_t *bytes)
{
    su_msg d = su_digest(b), x = su_delta(a, d);
    size_t n = su_apply(b, x);
    if (bytes) *bytes += d.n + x.n;
    vv_free(d.p);
    vv_free(x.p);
    return n;
}

/* Sync from a to b is quiet: a near-empty delta that changes nothing. */
static inline void su_quiet(vv_db *a, vv_db *b)
{
    su_msg d = su_digest(b), x = su_delta(a, d);
    assert_true(x.n < 64);
    assert_int_equal(su_apply(b, x), 0);
    vv_free(d.p);
    vv_free(x.p);
}

/* A full round: every store of r syncs from every other. */
static inline void su_round(vv_db **r, int n)
{
    int i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            if (i != j) su_sync(r[i], r[j], NULL);
}

/* Full rounds until one changes nothing. */
static inline void su_settle(vv_db **r, int n)
{
    int i, j, round;
    for (round = 0; round < 6; round++) {
        size_t changed = 0;
        for (i = 0; i < n; i++)
            for (j = 0; j < n; j++)
                if (i != j) changed += su_sync(r[i], r[j], NULL);
        if (!changed) return;
    }
    fail_msg("sync did not settle in 6 rounds");
}

/* Reap db's tombstones with the digests of the n (at most 8) others; the
 * number of keys reaped. */
static inline size_t su_reap(vv_db *db, vv_db **others, int n)
{
    const void *ds[8] = {0};
    size_t ls[8] = {0}, reaped = 999;
    su_msg m[8];
    int i;
    assert_true(n <= 8);
    for (i = 0; i < n; i++) {
        m[i] = su_digest(others[i]);
        ds[i] = m[i].p;
        ls[i] = m[i].n;
    }
    assert_int_equal(vv_reap(db, "ks", ds, ls, (size_t)n, &reaped), VV_OK);
    for (i = 0; i < n; i++) vv_free(m[i].p);
    return reaped;
}

/* The keys of a keyspace, as vv_keys lists them. */
typedef struct su_keys {
    char (*k)[VV_KEY_MAX];
    size_t *len, n, cap;
} su_keys;

/* vv_keys callback: append the key to an su_keys. */
static inline int su_list_key(void *ud, const void *key, size_t klen)
{
    su_keys *l = ud;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->k = realloc(l->k, l->cap * sizeof *l->k);
        l->len = realloc(l->len, l->cap * sizeof *l->len);
        assert_true(l->k && l->len);
    }
    assert_true(klen <= VV_KEY_MAX);
    memcpy(l->k[l->n], key, klen);
    l->len[l->n++] = klen;
    return 0;
}

/* Everything a store holds of "ks" (all key states, exported), hashed:
 * equal fingerprints mean the same states, whatever the store.  The
 * number of keys in *nkeys. */
static inline uint64_t su_fingerprint(vv_db *db, size_t *nkeys)
{
    su_keys l;
    uint64_t h = 1;
    size_t i;
    memset(&l, 0, sizeof l);
    assert_int_equal(vv_keys(db, "ks", su_list_key, &l), VV_OK);
    for (i = 0; i < l.n; i++) {
        void *st;
        size_t n;
        assert_int_equal(vv_export(db, "ks", l.k[i], l.len[i], &st, &n),
                         VV_OK);
        h = vvi_hash64(st, n, h);
        vv_free(st);
    }
    if (nkeys) *nkeys = l.n;
    free(l.k);
    free(l.len);
    return h;
}
#endif
