/* test_clock.c - vector clocks: operations, both encodings, every error path. */
#include "testutil.h"
#include "vv_int.h"

static char *fmt(const vv_clock *c)
{
    char *s = NULL;
    assert_int_equal(vv_clock_format(c, &s, NULL), VV_OK);
    return s;
}

static void assert_text(const vv_clock *c, const char *want)
{
    char *s = fmt(c);
    assert_string_equal(s, want);
    vv_free(s);
}

static void test_empty(void **st)
{
    vv_clock *c;
    (void)st;
    assert_int_equal(vv_clock_new(&c), VV_OK);
    assert_int_equal(vv_clock_size(c), 0);
    assert_int_equal(vv_clock_get(c, "s0", 2), 0);
    assert_text(c, "{}");
    vv_clock_free(c);
    vv_clock_free(NULL);                     /* no-op */
}

static void test_tick_get_set(void **st)
{
    vv_clock *c;
    (void)st;
    vv_clock_new(&c);
    assert_int_equal(vv_clock_tick(c, "s1", 2), VV_OK);
    assert_int_equal(vv_clock_tick(c, "s0", 2), VV_OK);
    assert_int_equal(vv_clock_tick(c, "s1", 2), VV_OK);
    assert_int_equal(vv_clock_get(c, "s1", 2), 2);
    assert_int_equal(vv_clock_get(c, "s0", 2), 1);
    assert_text(c, "{s0:1, s1:2}");
    assert_int_equal(vv_clock_set(c, "s1", 2, 0), VV_OK);   /* 0 removes */
    assert_text(c, "{s0:1}");
    assert_int_equal(vv_clock_set(c, "s0", 2, UINT64_MAX), VV_OK);
    assert_int_equal(vv_clock_tick(c, "s0", 2), VV_EOVERFLOW);
    assert_int_equal(vv_clock_get(c, "s0", 2), UINT64_MAX);
    assert_int_equal(vv_clock_tick(c, "", 0), VV_EINVAL);
    assert_int_equal(vv_clock_tick(NULL, "a", 1), VV_EINVAL);
    {
        char big[300];
        memset(big, 'a', sizeof big);
        assert_int_equal(vv_clock_set(c, big, 256, 1), VV_EINVAL);
        assert_int_equal(vv_clock_set(c, big, 255, 1), VV_OK);
    }
    vv_clock_free(c);
}

static void test_bytewise_order(void **st)
{
    vv_clock *c = tu_clock("{b:1, a:2, ab:3, B:4}");
    (void)st;
    assert_text(c, "{B:4, a:2, ab:3, b:1}");
    vv_clock_free(c);
}

static void test_compare(void **st)
{
    vv_clock *a = tu_clock("{s0:1}"), *b = tu_clock("{s1:1}");
    vv_clock *c = tu_clock("{s0:1, s1:1}"), *d = tu_clock("{s0:1}");
    vv_clock *e = tu_clock("{}");
    (void)st;
    assert_int_equal(vv_clock_compare(a, b), VV_CONCURRENT);
    assert_int_equal(vv_clock_compare(a, c), VV_BEFORE);
    assert_int_equal(vv_clock_compare(c, a), VV_AFTER);
    assert_int_equal(vv_clock_compare(a, d), VV_EQUAL);
    assert_int_equal(vv_clock_compare(e, a), VV_BEFORE);
    assert_int_equal(vv_clock_compare(e, e), VV_EQUAL);
    vv_clock_free(a); vv_clock_free(b); vv_clock_free(c);
    vv_clock_free(d); vv_clock_free(e);
}

static void test_merge(void **st)
{
    vv_clock *a = tu_clock("{s0:3, s2:1}"), *b = tu_clock("{s0:1, s1:5, s3:2}");
    vv_clock *c;
    (void)st;
    assert_int_equal(vv_clock_merge(a, b), VV_OK);
    assert_text(a, "{s0:3, s1:5, s2:1, s3:2}");
    assert_int_equal(vv_clock_compare(a, b), VV_AFTER);
    /* same node set: in place */
    c = tu_clock("{s0:9, s1:1, s2:1, s3:1}");
    assert_int_equal(vv_clock_merge(a, c), VV_OK);
    assert_text(a, "{s0:9, s1:5, s2:1, s3:2}");
    /* merge is idempotent and commutative */
    assert_int_equal(vv_clock_merge(a, a), VV_OK);
    assert_text(a, "{s0:9, s1:5, s2:1, s3:2}");
    assert_int_equal(vv_clock_merge(NULL, a), VV_EINVAL);
    vv_clock_free(a); vv_clock_free(b); vv_clock_free(c);
}

static void test_copy_independent(void **st)
{
    vv_clock *a = tu_clock("{x:1}"), *b;
    (void)st;
    assert_int_equal(vv_clock_copy(a, &b), VV_OK);
    vv_clock_tick(b, "x", 1);
    assert_int_equal(vv_clock_get(a, "x", 1), 1);
    assert_int_equal(vv_clock_get(b, "x", 1), 2);
    vv_clock_free(a); vv_clock_free(b);
}

static void test_binary_roundtrip(void **st)
{
    const char *cases[] = { "{}", "{s0:1}", "{a:1, b:18446744073709551615}",
                            "{\"sp ace\":7, s0.abc:300}" };
    size_t i;
    (void)st;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        vv_clock *c = tu_clock(cases[i]), *d;
        void *bin;
        size_t n;
        assert_int_equal(vv_clock_encode(c, &bin, &n), VV_OK);
        assert_true(n >= 1);
        assert_int_equal(((unsigned char *)bin)[0], 0x01);
        assert_int_equal(vv_clock_decode(bin, n, &d), VV_OK);
        assert_int_equal(vv_clock_compare(c, d), VV_EQUAL);
        {   /* every truncation is refused */
            size_t k;
            for (k = 0; k < n; k++) {
                vv_clock *x = NULL;
                assert_int_not_equal(vv_clock_decode(bin, k, &x), VV_OK);
                assert_null(x);
            }
        }
        vv_free(bin);
        vv_clock_free(c);
        vv_clock_free(d);
    }
}

static void test_binary_errors(void **st)
{
    vv_clock *c = NULL;
    /* format byte, count, then entries */
    const unsigned char unsorted[] = { 1, 2, 1, 'b', 1, 1, 'a', 1 };
    const unsigned char dup[] = { 1, 2, 1, 'a', 1, 1, 'a', 2 };
    const unsigned char zero[] = { 1, 1, 1, 'a', 0 };
    const unsigned char trailing[] = { 1, 0, 0 };
    const unsigned char version[] = { 2, 0 };
    const unsigned char noncanon[] = { 1, 1, 1, 'a', 0x81, 0x00 };
    const unsigned char longv[] = { 1, 1, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x02 };
    const unsigned char empty_name[] = { 1, 1, 0, 1 };
    (void)st;
    assert_int_equal(vv_clock_decode(unsorted, sizeof unsorted, &c), VV_ECORRUPT);
    assert_int_equal(vv_clock_decode(dup, sizeof dup, &c), VV_ECORRUPT);
    assert_int_equal(vv_clock_decode(zero, sizeof zero, &c), VV_ECORRUPT);
    assert_int_equal(vv_clock_decode(trailing, sizeof trailing, &c), VV_ECORRUPT);
    assert_int_equal(vv_clock_decode(version, sizeof version, &c), VV_EVERSION);
    assert_int_equal(vv_clock_decode(noncanon, sizeof noncanon, &c), VV_ECORRUPT);
    assert_int_equal(vv_clock_decode(longv, sizeof longv, &c), VV_ECORRUPT);
    assert_int_equal(vv_clock_decode(empty_name, sizeof empty_name, &c), VV_ECORRUPT);
    assert_int_equal(vv_clock_decode("", 0, &c), VV_ECORRUPT);
    assert_null(c);
}

static void test_binary_fuzz(void **st)
{
    unsigned char buf[64];
    unsigned seed = 12345;
    int i, ok = 0;
    (void)st;
    for (i = 0; i < 200000; i++) {
        size_t n = (size_t)(rand_r(&seed) % sizeof buf), k;
        vv_clock *c = NULL;
        for (k = 0; k < n; k++) buf[k] = (unsigned char)rand_r(&seed);
        if (n) buf[0] = (unsigned char)(rand_r(&seed) % 4 ? 1 : buf[0]);
        if (vv_clock_decode(buf, n, &c) == VV_OK) {
            /* anything accepted re-encodes to the same bytes */
            void *bin;
            size_t m;
            ok++;
            assert_int_equal(vv_clock_encode(c, &bin, &m), VV_OK);
            assert_int_equal(m, n);
            assert_memory_equal(bin, buf, n);
            vv_free(bin);
            vv_clock_free(c);
        } else assert_null(c);
    }
    assert_true(ok > 0);
}

static void test_text_parse_ok(void **st)
{
    vv_clock *c;
    (void)st;
    c = tu_clock("  { s0 : 1 ,\n s1:2 }  ");
    assert_text(c, "{s0:1, s1:2}");
    vv_clock_free(c);
    c = tu_clock("{s0:0, s1:3}");                /* zero: absent */
    assert_text(c, "{s1:3}");
    vv_clock_free(c);
    c = tu_clock("{\"a\\x00b\":1, \"q\\\"\":2}");
    assert_int_equal(vv_clock_get(c, "a\0b", 3), 1);
    assert_int_equal(vv_clock_get(c, "q\"", 2), 2);
    assert_text(c, "{\"a\\x00b\":1, \"q\\\"\":2}");
    vv_clock_free(c);
    c = tu_clock("{s0:18446744073709551615}");
    assert_int_equal(vv_clock_get(c, "s0", 2), UINT64_MAX);
    vv_clock_free(c);
}

static void test_text_parse_errors(void **st)
{
    const char *bad[] = {
        "", "{", "}", "{s0}", "{s0:}", "{:1}", "{s0:1,}", "{s0:1 s1:2}",
        "{s0:-1}", "{s0:+1}", "{s0:1.5}", "{s0:01}", "{s0:1, s0:2}",
        "{s0:1, s0:0}", "{s0:0, s0:0}", "{s0:1}x", "[s0:1]", "{\"s0:1}",
        "{\"\":1}", "{\"\\q\":1}", "{\"\\x4\":1}", "{s0:0x10}", "{s 0:1}",
        "{s0:1}}", "{s0::1}", "{\"\x01\":1}",
    };
    size_t i;
    (void)st;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        vv_clock *c = (vv_clock *)1;
        int rc = vv_clock_parse(bad[i], strlen(bad[i]), &c);
        if (rc != VV_EINVAL) fprintf(stderr, "accepted: %s\n", bad[i]);
        assert_int_equal(rc, VV_EINVAL);
        assert_null(c);
    }
    {
        vv_clock *c;
        const char *o = "{s0:18446744073709551616}";
        assert_int_equal(vv_clock_parse(o, strlen(o), &c), VV_EOVERFLOW);
        assert_int_equal(vv_clock_parse(NULL, 0, &c), VV_EINVAL);
    }
    {   /* a 256-byte name */
        char t[300];
        vv_clock *c;
        memset(t, 'n', sizeof t);
        t[0] = '{';
        memcpy(t + 257, ":1}", 3);
        assert_int_equal(vv_clock_parse(t, 260, &c), VV_EINVAL);
        memcpy(t + 256, ":1}", 3);
        assert_int_equal(vv_clock_parse(t, 259, &c), VV_OK);
        vv_clock_free(c);
    }
}

static void test_text_roundtrip_random(void **st)
{
    unsigned seed = 7;
    int i;
    (void)st;
    for (i = 0; i < 2000; i++) {
        vv_clock *c, *d;
        char *s;
        int k, n = rand_r(&seed) % 6;
        vv_clock_new(&c);
        for (k = 0; k < n; k++) {
            char name[4];
            size_t len = 1 + (size_t)(rand_r(&seed) % 3), j;
            for (j = 0; j < len; j++) name[j] = (char)(rand_r(&seed) % 256);
            vv_clock_set(c, name, len, (uint64_t)rand_r(&seed) * 7919u);
        }
        s = fmt(c);
        assert_int_equal(vv_clock_parse(s, strlen(s), &d), VV_OK);
        assert_int_equal(vv_clock_compare(c, d), VV_EQUAL);
        vv_free(s);
        vv_clock_free(c);
        vv_clock_free(d);
    }
}

static void test_alloc_failures(void **st)
{
    int i;
    (void)st;
    for (i = 1; i < 40; i++) {                   /* every allocation fails once */
        vv_clock *a = NULL, *b = NULL;
        int rc;
        vvi_fail_alloc_after(i);
        rc = vv_clock_parse("{a:1, b:2, c:3}", 15, &a);
        if (rc == VV_OK) {
            rc = vv_clock_parse("{b:1, d:2, e:9}", 15, &b);
            if (rc == VV_OK) {
                rc = vv_clock_merge(a, b);
                if (rc != VV_OK) {
                    assert_int_equal(rc, VV_ENOMEM);
                    assert_int_equal(vv_clock_size(a), 3);   /* unchanged */
                }
            } else assert_int_equal(rc, VV_ENOMEM);
        } else assert_int_equal(rc, VV_ENOMEM);
        vvi_fail_alloc_after(0);
        vv_clock_free(a);
        vv_clock_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_tick_get_set),
        cmocka_unit_test(test_bytewise_order),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_copy_independent),
        cmocka_unit_test(test_binary_roundtrip),
        cmocka_unit_test(test_binary_errors),
        cmocka_unit_test(test_binary_fuzz),
        cmocka_unit_test(test_text_parse_ok),
        cmocka_unit_test(test_text_parse_errors),
        cmocka_unit_test(test_text_roundtrip_random),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
