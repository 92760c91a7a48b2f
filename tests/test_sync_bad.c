/* test_sync_bad.c - bad sync messages and failures: truncated, flipped,
 * foreign or forged digests and deltas are refused, and a refused or
 * failed apply changes nothing. */
#include "syncutil.h"

/* Every truncation and bit flip of a delta and of a digest, messages of
 * another keyspace or kind, bad arguments, a digest claiming changes never
 * made: refused, states and watermarks unchanged. */
static void test_bad_messages(void **st)
{
    vv_db *a = tu_open_ks("a", NULL), *b = tu_open_ks("b", NULL);
    su_msg d, x, good;
    uint64_t before;
    size_t i, n;
    unsigned char *c;
    (void)st;
    tu_put(a, "ks", "k1", "one", NULL);
    tu_put(a, "ks", "k2", "two", NULL);
    tu_put(b, "ks", "k1", "b's own", NULL);
    d = su_digest(b);
    x = su_delta(a, d);
    before = su_fingerprint(b, NULL);
    good = su_digest(b);
    c = malloc(x.n);
    /* every truncation */
    for (i = 0; i < x.n; i++) {
        assert_int_not_equal(vv_apply(b, "ks", x.p, i, &n), VV_OK);
        assert_int_equal(n, 0);
    }
    /* every byte, every bit flipped */
    for (i = 0; i < x.n * 8; i++) {
        int rc;
        memcpy(c, x.p, x.n);
        c[i / 8] ^= (unsigned char)(1u << (i % 8));
        rc = vv_apply(b, "ks", c, x.n, &n);
        assert_true(rc == VV_ECORRUPT || rc == VV_EVERSION);
    }
    /* another keyspace's delta, and the right one under another name */
    assert_int_equal(vv_apply(b, "other", x.p, x.n, &n), VV_EFOREIGN);
    assert_non_null(strstr(vv_errmsg(b), "keyspace"));
    /* a digest where a delta belongs */
    assert_int_equal(vv_apply(b, "ks", d.p, d.n, &n), VV_ECORRUPT);
    assert_int_equal(vv_apply(b, "ks", NULL, 0, &n), VV_ECORRUPT);
    /* nothing changed: states, and watermarks (the digest) */
    assert_int_equal(su_fingerprint(b, NULL), before);
    {
        su_msg now = su_digest(b);
        assert_int_equal(now.n, good.n);
        assert_memory_equal(now.p, good.p, now.n);
        vv_free(now.p);
    }
    /* bad digests for vv_delta and vv_reap */
    c = realloc(c, d.n);
    for (i = 0; i < d.n * 8; i++) {
        void *o = (void *)1;
        size_t on = 1;
        memcpy(c, d.p, d.n);
        c[i / 8] ^= (unsigned char)(1u << (i % 8));
        assert_int_not_equal(vv_delta(a, "ks", c, d.n, &o, &on), VV_OK);
        assert_null(o);
        assert_int_equal(on, 0);
    }
    for (i = 0; i < d.n; i++) {
        void *o;
        size_t on;
        assert_int_not_equal(vv_delta(a, "ks", d.p, i, &o, &on), VV_OK);
    }
    {
        void *o;
        size_t on;
        const void *ds[1];
        size_t ls[1];
        assert_int_equal(vv_delta(a, "other", d.p, d.n, &o, &on),
                         VV_EFOREIGN);
        ds[0] = c;
        ls[0] = d.n;
        assert_int_not_equal(vv_reap(a, "ks", ds, ls, 1, &on), VV_OK);
        assert_int_equal(vv_delta(a, "", d.p, d.n, &o, &on), VV_EINVAL);
        assert_int_equal(vv_delta(NULL, "ks", d.p, d.n, &o, &on), VV_EINVAL);
        assert_int_equal(vv_digest(a, NULL, &o, &on), VV_EINVAL);
        assert_int_equal(vv_apply(NULL, "ks", x.p, x.n, &on), VV_EINVAL);
    }
    {   /* a digest that says it has seen changes a never made */
        vv_buf f;
        const char *self = vv_db_actor(a), *me = vv_db_actor(b);
        void *o;
        size_t on;
        vv_buf_init(&f);
        vv_buf_add(&f, "VVD", 3);
        vvi_buf_byte(&f, 1);
        vvi_buf_varint(&f, 2);
        vv_buf_add(&f, "ks", 2);
        vvi_buf_varint(&f, strlen(me));
        vv_buf_add(&f, me, strlen(me));
        vvi_buf_varint(&f, 0);                   /* its own seq */
        vvi_buf_varint(&f, 1);
        vvi_buf_varint(&f, strlen(self));
        vv_buf_add(&f, self, strlen(self));
        vvi_buf_varint(&f, 1000);                /* a has made 2 */
        vvi_buf_sum(&f, 0);
        assert_int_equal(vv_delta(a, "ks", f.p, f.len, &o, &on),
                         VV_ECORRUPT);
        assert_non_null(strstr(vv_errmsg(a), "only"));
        f.len -= 8 + 2;                          /* the same with 2: fine */
        vvi_buf_varint(&f, 2);
        vvi_buf_sum(&f, 0);
        assert_int_equal(vv_delta(a, "ks", f.p, f.len, &o, &on), VV_OK);
        vv_free(o);
        vv_buf_free(&f);
    }
    /* the good one still works afterwards */
    assert_int_equal(su_apply(b, x), 2);
    assert_string_equal(tu_sibs(b, "ks", "k2"), "two");
    free(c);
    vv_free(d.p);
    vv_free(x.p);
    vv_free(good.p);
    vv_db_close(a);
    vv_db_close(b);
}

/* A delta whose outer checksum is right but one embedded state is not is
 * refused as a whole: the valid keys in it do not land either. */
static void test_apply_all_or_nothing(void **st)
{
    vv_db *a = tu_open_ks("a", NULL), *b = tu_open_ks("b", NULL);
    su_msg d, x;
    size_t n, i, bad = 0;
    uint64_t before;
    (void)st;
    for (i = 0; i < 6; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", (int)i);
        tu_put(a, "ks", k, "a value long enough to flip bytes in", NULL);
    }
    tu_put(b, "ks", "mine", "b", NULL);
    before = su_fingerprint(b, NULL);
    d = su_digest(b);
    x = su_delta(a, d);
    for (i = x.n / 3; i < x.n - 8; i += 7) {     /* bytes in the states */
        unsigned char *c = malloc(x.n);
        int rc;
        memcpy(c, x.p, x.n);
        c[i] ^= 0x40;
        vvi_sum_set(c, x.n);                      /* a valid outer sum */
        rc = vv_apply(b, "ks", c, x.n, &n);
        assert_int_not_equal(rc, VV_OK);
        assert_int_equal(n, 0);
        assert_int_equal(su_fingerprint(b, NULL), before);
        bad++;
        free(c);
    }
    assert_true(bad > 10);
    assert_int_equal(su_apply(b, x), 6);
    vv_free(d.p);
    vv_free(x.p);
    vv_db_close(a);
    vv_db_close(b);
}

/* Allocation failing at every step of an apply: VV_ENOMEM and nothing
 * changed, and the next round brings everything. */
static void test_alloc_failures(void **st)
{
    vv_db *a = tu_open_ks("a", NULL);
    int i;
    (void)st;
    tu_fill(a, "ks", 8);
    for (i = 1; i < 400; i++) {
        vv_db *b = tu_open_ks("b", NULL);
        su_msg d, x;
        size_t n = 0;
        uint64_t before;
        int rc;
        tu_put(b, "ks", "k01", "mine", NULL);   /* one of a's keys too */
        before = su_fingerprint(b, NULL);
        d = su_digest(b);
        x = su_delta(a, d);
        vvi_fail_alloc_after(i);
        rc = vv_apply(b, "ks", x.p, x.n, &n);
        vvi_fail_alloc_after(0);
        if (rc != VV_OK) {
            assert_int_equal(rc, VV_ENOMEM);
            assert_int_equal(su_fingerprint(b, NULL), before);
            assert_int_equal(su_sync(a, b, NULL), 8);
        } else assert_int_equal(n, 8);
        assert_int_equal(su_fingerprint(b, NULL) != before, 1);
        vv_free(d.p);
        vv_free(x.p);
        vv_db_close(b);
    }
    vv_db_close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_messages),
        cmocka_unit_test(test_apply_all_or_nothing),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests_name("sync_bad", tests, NULL, NULL);
}
