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

/* ---- name order against a plain model ------------------------------- */
/* Names drawn so that many share long prefixes, hold zero and 0xff
 * bytes, and straddle the lengths where the entry's key and its inline
 * copy end (8, 16, 23, 24 bytes). */
typedef struct mname {
    char s[40];
    size_t len;
} mname;

static void rand_name(unsigned *seed, mname *m)
{
    static const char alpha[] = { 0, 1, 'a', 'b', (char)0xff };
    static const size_t lens[] = { 1, 2, 7, 8, 9, 15, 16, 17, 22, 23, 24,
                                   25, 31, 32, 33, 39 };
    size_t j;
    m->len = lens[rand_r(seed) % (sizeof lens / sizeof *lens)];
    for (j = 0; j < m->len; j++)
        m->s[j] = alpha[rand_r(seed) % (j < 20 ? 2 : 5)];
}

/* Index of name m among the model's n names, or n when absent. */
static size_t model_find(const mname *nm, size_t n, const mname *m)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (nm[i].len == m->len && memcmp(nm[i].s, m->s, m->len) == 0) break;
    return i;
}

/* The counter of name m in the model (0 when absent). */
static uint64_t model_get(const mname *nm, const uint64_t *cnt, size_t n,
                          const mname *m)
{
    size_t i = model_find(nm, n, m);
    return i < n ? cnt[i] : 0;
}

static void test_order_model(void **st)
{
    unsigned seed = 99;
    int round;
    (void)st;
    for (round = 0; round < 3000; round++) {
        mname nm[12];
        uint64_t ca[12], cb[12];
        vv_clock *a, *b, *m;
        size_t i, k, n = 1 + (size_t)(rand_r(&seed) % 12);
        int less = 0, more = 0, want;
        void *bin;
        size_t blen;
        for (i = 0; i < n; i++) {                /* distinct names */
            do rand_name(&seed, &nm[i]);
            while (model_find(nm, i, &nm[i]) < i);
            ca[i] = (uint64_t)(rand_r(&seed) % 3);
            cb[i] = (uint64_t)(rand_r(&seed) % 3);
        }
        vv_clock_new(&a);
        vv_clock_new(&b);
        for (i = 0; i < n; i++) {
            assert_int_equal(vv_clock_set(a, nm[i].s, nm[i].len, ca[i]), VV_OK);
            assert_int_equal(vv_clock_set(b, nm[i].s, nm[i].len, cb[i]), VV_OK);
        }
        for (k = 0; k < 2; k++) {                /* strictly in byte order */
            const vv_clock *c = k ? b : a;
            for (i = 1; i < vv_clock_size(c); i++) {
                const char *p, *q;
                size_t pl, ql;
                vv_clock_entry(c, i - 1, &p, &pl, NULL);
                vv_clock_entry(c, i, &q, &ql, NULL);
                assert_true(vvi_node_cmp(p, pl, q, ql) < 0);
            }
        }
        for (i = 0; i < n; i++) {
            assert_int_equal(vv_clock_get(a, nm[i].s, nm[i].len), ca[i]);
            assert_int_equal(vv_clock_get(b, nm[i].s, nm[i].len), cb[i]);
            if (ca[i] < cb[i]) less = 1;
            if (ca[i] > cb[i]) more = 1;
        }
        want = less && more ? VV_CONCURRENT : less ? VV_BEFORE
             : more ? VV_AFTER : VV_EQUAL;
        assert_int_equal(vv_clock_compare(a, b), want);
        assert_int_equal(vv_clock_compare(b, a), want == VV_BEFORE ? VV_AFTER
                         : want == VV_AFTER ? VV_BEFORE : want);
        assert_int_equal(vv_clock_copy(a, &m), VV_OK);
        assert_int_equal(vv_clock_merge(m, b), VV_OK);
        for (i = 0; i < n; i++)
            assert_int_equal(vv_clock_get(m, nm[i].s, nm[i].len),
                             ca[i] > cb[i] ? ca[i] : cb[i]);
        assert_int_equal(vv_clock_compare(m, a) & VV_BEFORE, 0);
        assert_int_equal(vv_clock_compare(m, b) & VV_BEFORE, 0);
        {   /* absent names read 0: one byte changed or one more byte */
            mname x = nm[0];
            x.s[x.len - 1] ^= 0x40;
            assert_int_equal(vv_clock_get(a, x.s, x.len),
                             model_get(nm, ca, n, &x));
            x = nm[0];
            x.s[x.len++] = 0;
            assert_int_equal(vv_clock_get(a, x.s, x.len),
                             model_get(nm, ca, n, &x));
        }
        {   /* the binary form round-trips and stays in order */
            vv_clock *d;
            assert_int_equal(vv_clock_encode(m, &bin, &blen), VV_OK);
            assert_int_equal(vv_clock_decode(bin, blen, &d), VV_OK);
            assert_int_equal(vv_clock_compare(m, d), VV_EQUAL);
            vv_free(bin);
            vv_clock_free(d);
        }
        vv_clock_free(a);
        vv_clock_free(b);
        vv_clock_free(m);
    }
}

/* A decoder refuses names out of order even when they differ only past
 * the entry's key (byte 24 and on) or only in length. */
static void test_binary_order_tails(void **st)
{
    unsigned char buf[128];
    size_t n = 0;
    vv_clock *c = NULL;
    (void)st;
    buf[n++] = 1;
    buf[n++] = 2;
    buf[n++] = 30;                               /* "x"*29 + "b" */
    memset(buf + n, 'x', 29); n += 29; buf[n++] = 'b';
    buf[n++] = 1;
    buf[n++] = 30;                               /* "x"*29 + "a": smaller */
    memset(buf + n, 'x', 29); n += 29; buf[n++] = 'a';
    buf[n++] = 1;
    assert_int_equal(vv_clock_decode(buf, n, &c), VV_ECORRUPT);
    assert_null(c);
    buf[64] = 'b';                               /* now a duplicate */
    assert_int_equal(vv_clock_decode(buf, n, &c), VV_ECORRUPT);
    buf[32] = 'a';                               /* in order: accepted */
    assert_int_equal(vv_clock_decode(buf, n, &c), VV_OK);
    assert_int_equal(vv_clock_size(c), 2);
    vv_clock_free(c);
    n = 0;                                       /* "ab\0" before "ab" */
    buf[n++] = 1; buf[n++] = 2;
    buf[n++] = 3; buf[n++] = 'a'; buf[n++] = 'b'; buf[n++] = 0; buf[n++] = 1;
    buf[n++] = 2; buf[n++] = 'a'; buf[n++] = 'b'; buf[n++] = 1;
    assert_int_equal(vv_clock_decode(buf, n, &c), VV_ECORRUPT);
}

/* A merge that raised counters before it found a node to add, and then
 * runs out of memory, leaves the clock as it was. */
static void test_merge_failure_undo(void **st)
{
    static const char *const cases[][2] = {
        { "{a:1, b:1, c:1}", "{a:5, b:5, c:5, d:1}" },
        { "{a:1, b:9, c:1}", "{a:5, b:5, c:5, zz:1}" },
        { "{a:1, c:1}", "{a:2, b:1, c:2}" },
        { "{m:1}", "{a:1, m:2}" },
    };
    size_t i;
    (void)st;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        vv_clock *a = tu_clock(cases[i][0]), *b = tu_clock(cases[i][1]);
        vv_clock *before;
        assert_int_equal(vv_clock_copy(a, &before), VV_OK);
        vvi_fail_alloc_after(1);
        assert_int_equal(vv_clock_merge(a, b), VV_ENOMEM);
        vvi_fail_alloc_after(0);
        assert_int_equal(vv_clock_compare(a, before), VV_EQUAL);
        assert_int_equal(vv_clock_merge(a, b), VV_OK);
        assert_int_equal(vv_clock_compare(a, b) & VV_BEFORE, 0);
        assert_int_equal(vv_clock_size(a), vv_clock_size(before) + 1);
        vv_clock_free(a);
        vv_clock_free(b);
        vv_clock_free(before);
    }
    {   /* a long name on the new node: its copy is what fails */
        char name[40];
        vv_clock *a = tu_clock("{a:1, b:1}"), *b = tu_clock("{a:3, b:3}");
        vv_clock *before;
        memset(name, 'z', sizeof name);
        assert_int_equal(vv_clock_set(b, name, sizeof name, 4), VV_OK);
        assert_int_equal(vv_clock_copy(a, &before), VV_OK);
        vvi_fail_alloc_after(2);                 /* the array, then the name */
        assert_int_equal(vv_clock_merge(a, b), VV_ENOMEM);
        vvi_fail_alloc_after(0);
        assert_int_equal(vv_clock_compare(a, before), VV_EQUAL);
        vv_clock_free(a);
        vv_clock_free(b);
        vv_clock_free(before);
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

/* A clock in memory of exactly VV_CLOCK_SIZE(room) bytes (ASan sees a
 * write past it), with what the full clock src holds. */
static vv_clock *small_clock(size_t room, vv_clock *src)
{
    vv_clock *c = malloc(VV_CLOCK_SIZE(room));
    assert_non_null(c);
    assert_true(vv_clock_room(src) <= room);
    vv_clock_take_room(c, room, src);
    assert_int_equal(vv_clock_size(src), 0);
    return c;
}

/* Clocks sized to their entries (vv_clock_take_room) work like any other
 * under every change, as they grow out of their room onto the heap. */
static void test_clock_room(void **st)
{
    unsigned seed = 7;
    size_t room;
    (void)st;
    for (room = 0; room <= VV_CLOCK_INLINE; room++) {
        int round;
        for (round = 0; round < 200; round++) {
            vv_clock full, *ref, *c, *o;
            mname m;
            size_t i, n = (size_t)(rand_r(&seed) % (room + 1));
            int step;
            char *a, *b;
            vv_clock_init(&full);
            assert_int_equal(vv_clock_new(&ref), VV_OK);
            for (i = 0; i < n; i++) {
                rand_name(&seed, &m);
                assert_int_equal(vv_clock_set(&full, m.s, m.len, i + 1), VV_OK);
                assert_int_equal(vv_clock_set(ref, m.s, m.len, i + 1), VV_OK);
            }
            assert_int_equal(vv_clock_room(&full), vv_clock_size(&full));
            c = small_clock(room, &full);
            for (step = 0; step < 12; step++) {
                rand_name(&seed, &m);
                switch (rand_r(&seed) % 3) {
                case 0:
                    assert_int_equal(vv_clock_tick(c, m.s, m.len), VV_OK);
                    assert_int_equal(vv_clock_tick(ref, m.s, m.len), VV_OK);
                    break;
                case 1: {
                    uint64_t k = (uint64_t)(rand_r(&seed) % 3);
                    assert_int_equal(vv_clock_set(c, m.s, m.len, k), VV_OK);
                    assert_int_equal(vv_clock_set(ref, m.s, m.len, k), VV_OK);
                    break;
                }
                default:
                    vv_clock_new(&o);
                    vv_clock_set(o, m.s, m.len, 5);
                    rand_name(&seed, &m);
                    vv_clock_set(o, m.s, m.len, 1);
                    assert_int_equal(vv_clock_merge(c, o), VV_OK);
                    assert_int_equal(vv_clock_merge(ref, o), VV_OK);
                    vv_clock_free(o);
                }
                a = fmt(c);
                b = fmt(ref);
                assert_string_equal(a, b);
                vv_free(a);
                vv_free(b);
                assert_int_equal(vv_clock_compare(c, ref), VV_EQUAL);
            }
            vv_clock_clear(c);                  /* then it is dropped */
            free(c);
            vv_clock_free(ref);
        }
    }
    {                                           /* a heap array moves */
        vv_clock full, *c;
        char name[16];
        int i;
        vv_clock_init(&full);
        for (i = 0; i < 9; i++) {
            snprintf(name, sizeof name, "n%d", i);
            vv_clock_tick(&full, name, strlen(name));
        }
        assert_int_equal(vv_clock_room(&full), 0);
        c = small_clock(0, &full);
        assert_int_equal(vv_clock_size(c), 9);
        assert_true(vv_clock_heap(c));
        vv_clock_clear(c);
        free(c);
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
        cmocka_unit_test(test_order_model),
        cmocka_unit_test(test_binary_order_tails),
        cmocka_unit_test(test_merge_failure_undo),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_clock_room),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
