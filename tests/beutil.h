/* beutil.h - the LMDB backend under test without a store: open, one-record
 * transactions, scans. */
#ifndef VV_BEUTIL_H
#define VV_BEUTIL_H
#include "testutil.h"
#include "lmdbutil.h"
#include "vv_int.h"

typedef struct be {
    void *h;
    const vvi_backend *ops;
} be;

/* Open the backend with options o; returns the vv code. */
static inline int be_open_opts(be *b, const vv_options *o, char **err)
{
    return vvi_lmdb_open(o, &b->h, &b->ops, err);
}

/* Open the backend on dir (without fsync); returns the vv code. */
static inline int be_open(be *b, const char *dir, int read_only)
{
    vv_options o;
    char *err = NULL;
    int rc;
    tu_options(&o, "t", dir, NULL);
    o.read_only = read_only;
    rc = be_open_opts(b, &o, &err);
    free(err);
    return rc;
}

/* Close the backend (once; a closed one is left alone). */
static inline void be_close(be *b)
{
    if (b->h) b->ops->close(b->h);
    b->h = NULL;
}

/* Put one record in its own write transaction. */
static inline void be_put1(be *b, uint32_t ks, const char *k, const char *v)
{
    assert_int_equal(b->ops->begin(b->h, 1), VV_OK);
    assert_int_equal(b->ops->put(b->h, ks, k, strlen(k), v, strlen(v)),
                     VV_OK);
    assert_int_equal(b->ops->commit(b->h), VV_OK);
}

/* Read one record in a read transaction: VV_OK and a copy in out. */
static inline int be_get1(be *b, uint32_t ks, const char *k, char *out,
                          size_t n)
{
    const void *v;
    size_t vlen;
    int rc;
    assert_int_equal(b->ops->begin(b->h, 0), VV_OK);
    rc = b->ops->get(b->h, ks, k, strlen(k), &v, &vlen);
    if (rc == VV_OK) {
        assert_true(vlen < n);
        memcpy(out, v, vlen);
        out[vlen] = 0;
    }
    assert_int_equal(b->ops->commit(b->h), VV_OK);
    return rc;
}

/* The record ks/k holds want. */
static inline void be_expect(be *b, uint32_t ks, const char *k,
                             const char *want)
{
    char got[4096];
    assert_int_equal(be_get1(b, ks, k, got, sizeof got), VV_OK);
    assert_string_equal(got, want);
}
#endif
