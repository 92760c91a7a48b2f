/* test_sync.c - keyspace sync: digests, deltas, apply, reaping, a model. */
#include "testutil.h"
#include "lmdbutil.h"
#include "vv_int.h"

/* ---- helpers ------------------------------------------------------------ */
static vv_db *open_ks(const char *node, uint64_t *now)
{
    vv_db *db = tu_open(node, now);
    vv_ks_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.warn_siblings = cfg.max_siblings = 100000;   /* random writes pile up */
    assert_int_equal(vv_keyspace(db, "ks", &cfg), VV_OK);
    return db;
}

static void put(vv_db *db, const char *key, const char *val)
{
    assert_int_equal(vv_put(db, "ks", key, strlen(key), val, strlen(val),
                            NULL, NULL), VV_OK);
}

/* Replace what a read of key shows with val. */
static void overwrite(vv_db *db, const char *key, const char *val)
{
    vv_read *r;
    const vv_clock *ctx = NULL;
    int rc = vv_get(db, "ks", key, strlen(key), &r);
    if (rc == VV_OK) ctx = vv_read_context(r);
    else assert_int_equal(rc, VV_ENOTFOUND);
    assert_int_equal(vv_put(db, "ks", key, strlen(key), val, strlen(val),
                            ctx, NULL), VV_OK);
    if (rc == VV_OK) vv_read_free(r);
}

static void del(vv_db *db, const char *key)
{
    vv_read *r;
    assert_int_equal(vv_get(db, "ks", key, strlen(key), &r), VV_OK);
    assert_int_equal(vv_delete(db, "ks", key, strlen(key),
                               vv_read_context(r), NULL), VV_OK);
    vv_read_free(r);
}

/* Sibling values of key as "a|b" in read order ("" when none). */
static const char *sibs(vv_db *db, const char *key)
{
    static char out[4096];
    vv_read *r;
    size_t i, n = 0;
    int rc = vv_get(db, "ks", key, strlen(key), &r);
    out[0] = 0;
    if (rc == VV_ENOTFOUND) return out;
    assert_int_equal(rc, VV_OK);
    for (i = 0; i < vv_read_count(r); i++) {
        const vv_sibling *s = vv_read_sibling(r, i);
        if (i) out[n++] = '|';
        memcpy(out + n, s->value, s->len);
        n += s->len;
    }
    out[n] = 0;
    vv_read_free(r);
    return out;
}

typedef struct msg {
    void *p;
    size_t n;
} msg;

static msg digest(vv_db *db)
{
    msg m;
    assert_int_equal(vv_digest(db, "ks", &m.p, &m.n), VV_OK);
    return m;
}

static msg delta(vv_db *from, msg d)
{
    msg m;
    int rc = vv_delta(from, "ks", d.p, d.n, &m.p, &m.n);
    if (rc) fprintf(stderr, "delta: %s\n", vv_errmsg(from));
    assert_int_equal(rc, VV_OK);
    return m;
}

static size_t apply(vv_db *to, msg x)
{
    size_t n = 12345;
    int rc = vv_apply(to, "ks", x.p, x.n, &n);
    if (rc) fprintf(stderr, "apply: %s\n", vv_errmsg(to));
    assert_int_equal(rc, VV_OK);
    return n;
}

/* One round from a to b; the keys changed on b; bytes moved in *bytes. */
static size_t sync_ab(vv_db *a, vv_db *b, size_t *bytes)
{
    msg d = digest(b), x = delta(a, d);
    size_t n = apply(b, x);
    if (bytes) *bytes += d.n + x.n;
    vv_free(d.p);
    vv_free(x.p);
    return n;
}

/* Everything a store holds of "ks" (all key states, exported): equal
 * fingerprints mean the same states, whatever the store. */
typedef struct keylist {
    char (*k)[VV_KEY_MAX];
    size_t *len, n, cap;
} keylist;

static int list_key(void *ud, const void *key, size_t klen)
{
    keylist *l = ud;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->k = realloc(l->k, l->cap * sizeof *l->k);
        l->len = realloc(l->len, l->cap * sizeof *l->len);
    }
    assert_true(klen <= VV_KEY_MAX);
    memcpy(l->k[l->n], key, klen);
    l->len[l->n++] = klen;
    return 0;
}

static uint64_t fingerprint(vv_db *db, size_t *nkeys)
{
    keylist l;
    uint64_t h = 1;
    size_t i;
    memset(&l, 0, sizeof l);
    assert_int_equal(vv_keys(db, "ks", list_key, &l), VV_OK);
    for (i = 0; i < l.n; i++) {
        void *st;
        size_t n;
        assert_int_equal(vv_export(db, "ks", l.k[i], l.len[i], &st, &n), VV_OK);
        h = vvi_hash64(st, n, h);
        vv_free(st);
    }
    if (nkeys) *nkeys = l.n;
    free(l.k);
    free(l.len);
    return h;
}

static int count_key(void *ud, const void *key, size_t klen)
{
    (void)key; (void)klen;
    (*(size_t *)ud)++;
    return 0;
}

static size_t nkeys(vv_db *db)
{
    size_t n = 0;
    assert_int_equal(vv_keys(db, "ks", count_key, &n), VV_OK);
    return n;
}

/* ---- round trips --------------------------------------------------------- */
static void test_round_trip(void **st)
{
    vv_db *a = open_ks("a", NULL), *b = open_ks("b", NULL);
    size_t bytes = 0;
    msg d, x;
    int i;
    (void)st;
    for (i = 0; i < 50; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%02d", i);
        snprintf(v, sizeof v, "v%d", i);
        put(a, k, v);
    }
    del(a, "k07");
    {   /* keys of every length: empty, past the inline size, the longest */
        char big[VV_KEY_MAX + 1];
        memset(big, 'x', sizeof big);
        assert_int_equal(vv_put(a, "ks", "", 0, "empty", 5, NULL, NULL), VV_OK);
        assert_int_equal(vv_put(a, "ks", big, 100, "100", 3, NULL, NULL),
                         VV_OK);
        assert_int_equal(vv_put(a, "ks", big, VV_KEY_MAX, "max", 3, NULL,
                                NULL), VV_OK);
        assert_int_equal(vv_put(a, "ks", big, VV_KEY_MAX, "max2", 4, NULL,
                                NULL), VV_OK);
        assert_int_equal(sync_ab(a, b, &bytes), 53);
        assert_int_equal(fingerprint(a, NULL), fingerprint(b, NULL));
        assert_int_equal(vv_delete(a, "ks", big, 100, NULL, NULL), VV_OK);
        assert_int_equal(sync_ab(a, b, &bytes), 1);
    }
    assert_int_equal(fingerprint(a, NULL), fingerprint(b, NULL));
    assert_string_equal(sibs(b, "k13"), "v13");
    assert_string_equal(sibs(b, "k07"), "");        /* the delete came too */
    assert_int_equal(sync_ab(a, b, &bytes), 0);
    /* nothing new: the next delta is empty and changes nothing */
    d = digest(b);
    x = delta(a, d);
    assert_true(x.n < 64);
    assert_int_equal(apply(b, x), 0);
    vv_free(d.p);
    vv_free(x.p);
    /* one change: one key moves */
    overwrite(a, "k20", "new");
    assert_int_equal(sync_ab(a, b, NULL), 1);
    assert_string_equal(sibs(b, "k20"), "new");
    /* and back: b's merges gave b nothing a lacks */
    assert_int_equal(sync_ab(b, a, NULL), 0);
    /* an unknown keyspace gives an empty digest, a delta of nothing */
    {
        void *p, *q;
        size_t n, m, c;
        assert_int_equal(vv_digest(a, "nothing", &p, &n), VV_OK);
        assert_int_equal(vv_delta(b, "nothing", p, n, &q, &m), VV_OK);
        assert_int_equal(vv_apply(a, "nothing", q, m, &c), VV_OK);
        assert_int_equal(c, 0);
        vv_free(p);
        vv_free(q);
    }
    /* a store's own delta for itself is empty */
    d = digest(a);
    x = delta(a, d);
    assert_int_equal(apply(a, x), 0);
    vv_free(d.p);
    vv_free(x.p);
    vv_db_close(a);
    vv_db_close(b);
}

/* Three replicas writing concurrently converge through sync alone: same
 * siblings in the same order everywhere, no write lost. */
static void test_three_converge(void **st)
{
    vv_db *r[3];
    int i, j, round;
    uint64_t f0;
    (void)st;
    for (i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        r[i] = open_ks(name, NULL);
    }
    put(r[0], "cart", "eggs");
    put(r[1], "cart", "milk");
    put(r[2], "cart", "bacon");
    put(r[0], "only0", "x");
    put(r[2], "gone", "soon");
    sync_ab(r[2], r[1], NULL);
    del(r[1], "gone");
    for (round = 0; round < 2; round++)
        for (i = 0; i < 3; i++)
            for (j = 0; j < 3; j++)
                if (i != j) sync_ab(r[i], r[j], NULL);
    f0 = fingerprint(r[0], NULL);
    for (i = 0; i < 3; i++) {
        assert_int_equal(fingerprint(r[i], NULL), f0);
        assert_int_equal(strlen(sibs(r[i], "cart")), strlen("eggs|milk|bacon"));
        assert_non_null(strstr(sibs(r[i], "cart"), "eggs"));
        assert_non_null(strstr(sibs(r[i], "cart"), "milk"));
        assert_non_null(strstr(sibs(r[i], "cart"), "bacon"));
        assert_string_equal(sibs(r[i], "only0"), "x");
        assert_string_equal(sibs(r[i], "gone"), "");
    }
    assert_string_equal(sibs(r[0], "cart"), sibs(r[2], "cart"));
    /* a quiet system: after one more round (each store offers what its
     * merges changed), deltas are empty: changes do not echo */
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            if (i != j) assert_int_equal(sync_ab(r[i], r[j], NULL), 0);
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            if (i != j) {
                msg d = digest(r[j]), x = delta(r[i], d);
                assert_true(x.n < 64);
                assert_int_equal(apply(r[j], x), 0);
                vv_free(d.p);
                vv_free(x.p);
            }
    for (i = 0; i < 3; i++) vv_db_close(r[i]);
}

/* Changes reach a replica through a third one (a -> b -> c). */
static void test_transitive(void **st)
{
    vv_db *a = open_ks("a", NULL), *b = open_ks("b", NULL);
    vv_db *c = open_ks("c", NULL);
    (void)st;
    put(a, "k", "from-a");
    assert_int_equal(sync_ab(a, b, NULL), 1);
    assert_int_equal(sync_ab(b, c, NULL), 1);
    assert_string_equal(sibs(c, "k"), "from-a");
    overwrite(c, "k", "from-c");
    assert_int_equal(sync_ab(c, b, NULL), 1);
    assert_int_equal(sync_ab(b, a, NULL), 1);
    assert_string_equal(sibs(a, "k"), "from-c");
    vv_db_close(a);
    vv_db_close(b);
    vv_db_close(c);
}

/* An aborted batch leaves the change log as it was; many rewrites of a
 * few keys leave one entry each (the holes are squeezed out). */
static void test_log_abort_and_rewrites(void **st)
{
    vv_db *a = open_ks("a", NULL), *b = open_ks("b", NULL);
    vv_db *c = open_ks("c", NULL);
    char big[64];
    int i;
    (void)st;
    memset(big, 'y', sizeof big);
    put(a, "k1", "1");
    assert_int_equal(vv_put(a, "ks", big, sizeof big, "big", 3, NULL, NULL),
                     VV_OK);
    put(a, "k3", "3");
    assert_int_equal(sync_ab(a, b, NULL), 3);
    assert_int_equal(vv_begin(a), VV_OK);
    overwrite(a, "k1", "1b");
    assert_int_equal(vv_put(a, "ks", big, sizeof big, "big2", 4, NULL, NULL),
                     VV_OK);
    assert_int_equal(vv_put(a, "ks", big, 40, "new", 3, NULL, NULL), VV_OK);
    del(a, "k3");
    assert_int_equal(vv_abort(a), VV_OK);
    assert_int_equal(sync_ab(a, b, NULL), 0);        /* nothing happened */
    assert_int_equal(sync_ab(a, c, NULL), 3);        /* the log is whole */
    assert_int_equal(vv_put(a, "ks", big, sizeof big, "big3", 4, NULL, NULL),
                     VV_OK);
    assert_int_equal(sync_ab(a, b, NULL), 1);
    for (i = 0; i < 3000; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "r%d", i % 10);
        snprintf(v, sizeof v, "v%d", i);
        overwrite(a, k, v);
        if (i % 7 == 0) del(a, k);
    }
    assert_int_equal(fingerprint(a, NULL) != fingerprint(b, NULL), 1);
    assert_int_equal(sync_ab(a, b, NULL), 10);
    assert_int_equal(fingerprint(a, NULL), fingerprint(b, NULL));
    vv_db_close(a);
    vv_db_close(b);
    vv_db_close(c);
}

/* ---- cost follows the difference ----------------------------------------- */
static void test_cost_follows_difference(void **st)
{
    enum { N = 100000 };
    vv_db *r[3];
    size_t bytes, n;
    msg d, x;
    int i;
    (void)st;
    for (i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        r[i] = open_ks(name, NULL);
    }
    assert_int_equal(vv_begin(r[0]), VV_OK);
    for (i = 0; i < N; i++) {
        char k[24];
        snprintf(k, sizeof k, "user:%07d", i);
        put(r[0], k, "some value of a user");
    }
    assert_int_equal(vv_commit(r[0]), VV_OK);
    assert_int_equal(sync_ab(r[0], r[1], NULL), N);
    assert_int_equal(sync_ab(r[1], r[2], NULL), N);
    assert_int_equal(sync_ab(r[2], r[0], NULL), 0);
    assert_int_equal(sync_ab(r[0], r[2], NULL), 0);
    overwrite(r[1], "user:0054321", "changed");
    d = digest(r[2]);
    x = delta(r[1], d);
    assert_true(d.n + x.n < 4096);
    assert_int_equal(apply(r[2], x), 1);
    vv_free(d.p);
    vv_free(x.p);
    assert_string_equal(sibs(r[2], "user:0054321"), "changed");
    bytes = 0;
    assert_int_equal(sync_ab(r[2], r[0], &bytes), 1);
    assert_true(bytes < 4096);
    assert_string_equal(sibs(r[0], "user:0054321"), "changed");
    assert_int_equal(fingerprint(r[0], &n), fingerprint(r[1], NULL));
    assert_int_equal(n, N);
    for (i = 0; i < 3; i++) vv_db_close(r[i]);
}

/* ---- bad messages: refused, nothing changed ------------------------------ */
static void test_bad_messages(void **st)
{
    vv_db *a = open_ks("a", NULL), *b = open_ks("b", NULL);
    msg d, x, good;
    uint64_t before;
    size_t i, n;
    unsigned char *c;
    (void)st;
    put(a, "k1", "one");
    put(a, "k2", "two");
    put(b, "k1", "b's own");
    d = digest(b);
    x = delta(a, d);
    before = fingerprint(b, NULL);
    good = digest(b);
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
    assert_int_equal(fingerprint(b, NULL), before);
    {
        msg now = digest(b);
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
        assert_int_equal(vv_delta(a, "other", d.p, d.n, &o, &on), VV_EFOREIGN);
        ds[0] = c;
        ls[0] = d.n;
        assert_int_not_equal(vv_reap(a, "ks", ds, ls, 1, &on), VV_OK);
        assert_int_equal(vv_delta(a, "", d.p, d.n, &o, &on), VV_EINVAL);
        assert_int_equal(vv_delta(NULL, "ks", d.p, d.n, &o, &on), VV_EINVAL);
        assert_int_equal(vv_digest(a, NULL, &o, &on), VV_EINVAL);
        assert_int_equal(vv_apply(NULL, "ks", x.p, x.n, &on), VV_EINVAL);
    }
    {   /* a digest that says it has seen changes a never made */
        vvi_buf f;
        const char *self = vv_db_actor(a), *me = vv_db_actor(b);
        void *o;
        size_t on;
        vvi_buf_init(&f);
        vvi_buf_add(&f, "VVD", 3);
        vvi_buf_byte(&f, 1);
        vvi_buf_varint(&f, 2);
        vvi_buf_add(&f, "ks", 2);
        vvi_buf_varint(&f, strlen(me));
        vvi_buf_add(&f, me, strlen(me));
        vvi_buf_varint(&f, 0);                   /* its own seq */
        vvi_buf_varint(&f, 1);
        vvi_buf_varint(&f, strlen(self));
        vvi_buf_add(&f, self, strlen(self));
        vvi_buf_varint(&f, 1000);                /* a has made 2 */
        vvi_buf_sum(&f, 0);
        assert_int_equal(vv_delta(a, "ks", f.p, f.len, &o, &on), VV_ECORRUPT);
        assert_non_null(strstr(vv_errmsg(a), "only"));
        f.len -= 8 + 2;                          /* the same with 2: fine */
        vvi_buf_varint(&f, 2);
        vvi_buf_sum(&f, 0);
        assert_int_equal(vv_delta(a, "ks", f.p, f.len, &o, &on), VV_OK);
        vv_free(o);
        vvi_buf_free(&f);
    }
    /* the good one still works afterwards */
    assert_int_equal(apply(b, x), 2);
    assert_string_equal(sibs(b, "k2"), "two");
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
    vv_db *a = open_ks("a", NULL), *b = open_ks("b", NULL);
    msg d, x;
    size_t n, i, bad = 0;
    uint64_t before;
    (void)st;
    for (i = 0; i < 6; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", (int)i);
        put(a, k, "a value long enough to flip bytes in");
    }
    put(b, "mine", "b");
    before = fingerprint(b, NULL);
    d = digest(b);
    x = delta(a, d);
    for (i = x.n / 3; i < x.n - 8; i += 7) {     /* bytes in the states */
        unsigned char *c = malloc(x.n);
        int rc;
        memcpy(c, x.p, x.n);
        c[i] ^= 0x40;
        vvi_sum_set(c, x.n);                      /* a valid outer sum */
        rc = vv_apply(b, "ks", c, x.n, &n);
        assert_int_not_equal(rc, VV_OK);
        assert_int_equal(n, 0);
        assert_int_equal(fingerprint(b, NULL), before);
        bad++;
        free(c);
    }
    assert_true(bad > 10);
    assert_int_equal(apply(b, x), 6);
    vv_free(d.p);
    vv_free(x.p);
    vv_db_close(a);
    vv_db_close(b);
}

/* ---- lost, duplicated, reordered deltas ---------------------------------- */
static void test_lost_dup_reordered(void **st)
{
    vv_db *a = open_ks("a", NULL), *b = open_ks("b", NULL);
    msg d1, x1, d2, x2, d3, x3;
    (void)st;
    put(a, "k1", "1");
    d1 = digest(b);
    x1 = delta(a, d1);                            /* k1 */
    put(a, "k2", "2");
    overwrite(a, "k1", "1b");
    d2 = digest(b);
    x2 = delta(a, d2);                            /* k1 (1b), k2: from 0 */
    put(a, "k3", "3");
    /* x2 arrives first, then x1 late and twice: nothing goes back */
    assert_int_equal(apply(b, x2), 2);
    assert_int_equal(apply(b, x1), 0);
    assert_int_equal(apply(b, x1), 0);
    assert_int_equal(apply(b, x2), 0);
    assert_string_equal(sibs(b, "k1"), "1b");
    /* the next one starts after x2's end: only k3 */
    d3 = digest(b);
    x3 = delta(a, d3);
    assert_true(x3.n < x2.n + 64);
    assert_int_equal(apply(b, x3), 1);
    assert_string_equal(sibs(b, "k3"), "3");
    vv_free(d3.p);
    vv_free(x3.p);
    /* a lost delta: the next round carries its changes again */
    overwrite(a, "k2", "2b");
    d3 = digest(b);
    x3 = delta(a, d3);
    vv_free(x3.p);                                /* lost */
    vv_free(d3.p);
    put(a, "k4", "4");
    assert_int_equal(sync_ab(a, b, NULL), 2);
    assert_string_equal(sibs(b, "k2"), "2b");
    assert_string_equal(sibs(b, "k4"), "4");
    assert_int_equal(fingerprint(a, NULL), fingerprint(b, NULL));
    vv_free(d1.p); vv_free(x1.p); vv_free(d2.p); vv_free(x2.p);
    vv_db_close(a);
    vv_db_close(b);
}

/* A delta made for c and applied to b: merged (safe), but it does not move
 * b's watermark past what b may have missed. */
static void test_delta_for_another(void **st)
{
    vv_db *a = open_ks("a", NULL), *b = open_ks("b", NULL);
    vv_db *c = open_ks("c", NULL);
    msg dc, xc;
    (void)st;
    put(a, "k1", "1");
    assert_int_equal(sync_ab(a, c, NULL), 1);       /* c has k1 */
    put(a, "k2", "2");
    dc = digest(c);
    xc = delta(a, dc);                             /* k2 only */
    assert_int_equal(apply(b, xc), 1);              /* b: k2, not k1 */
    assert_string_equal(sibs(b, "k1"), "");
    assert_int_equal(sync_ab(a, b, NULL), 1);       /* k1 still comes */
    assert_string_equal(sibs(b, "k1"), "1");
    vv_free(dc.p);
    vv_free(xc.p);
    vv_db_close(a);
    vv_db_close(b);
    vv_db_close(c);
}

/* ---- reaping ------------------------------------------------------------- */
static void full_round(vv_db **r, int n)
{
    int i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            if (i != j) sync_ab(r[i], r[j], NULL);
}

/* Full rounds until one changes nothing. */
static void settle(vv_db **r, int n)
{
    int i, j, round;
    for (round = 0; round < 6; round++) {
        size_t changed = 0;
        for (i = 0; i < n; i++)
            for (j = 0; j < n; j++)
                if (i != j) changed += sync_ab(r[i], r[j], NULL);
        if (!changed) return;
    }
    fail_msg("sync did not settle in 6 rounds");
}

static size_t reap(vv_db *db, vv_db **others, int n)
{
    const void *ds[8] = {0};
    size_t ls[8] = {0}, reaped = 999;
    msg m[8];
    int i;
    for (i = 0; i < n; i++) {
        m[i] = digest(others[i]);
        ds[i] = m[i].p;
        ls[i] = m[i].n;
    }
    assert_int_equal(vv_reap(db, "ks", ds, ls, (size_t)n, &reaped), VV_OK);
    for (i = 0; i < n; i++) vv_free(m[i].p);
    return reaped;
}

static void test_reap(void **st)
{
    vv_db *r[3];
    msg dold, xold;
    int i;
    (void)st;
    for (i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        r[i] = open_ks(name, NULL);
    }
    put(r[0], "k", "old");
    put(r[0], "live", "stays");
    assert_int_equal(sync_ab(r[0], r[1], NULL), 2);
    /* a delta from r1 that carries "old", delivered much later */
    dold = digest(r[0]);
    xold = delta(r[1], dold);
    full_round(r, 3);
    del(r[0], "k");
    /* r1 and r2 have not seen the delete: nothing may go */
    assert_int_equal(reap(r[0], &r[1], 2), 0);
    assert_int_equal(nkeys(r[0]), 2);
    full_round(r, 3);
    /* everyone has merged the tombstone; r0 has merged what r1 and r2
     * had when they made these digests: take digests, sync from them to
     * r0, then reap */
    {
        const void *ds[2];
        size_t ls[2], n;
        msg m1 = digest(r[1]), m2 = digest(r[2]);
        sync_ab(r[1], r[0], NULL);
        sync_ab(r[2], r[0], NULL);
        ds[0] = m1.p; ls[0] = m1.n;
        ds[1] = m2.p; ls[1] = m2.n;
        assert_int_equal(vv_reap(r[0], "ks", ds, ls, 2, &n), VV_OK);
        assert_int_equal(n, 1);
        /* again: nothing left to reap */
        assert_int_equal(vv_reap(r[0], "ks", ds, ls, 2, &n), VV_OK);
        assert_int_equal(n, 0);
        vv_free(m1.p);
        vv_free(m2.p);
    }
    assert_int_equal(nkeys(r[0]), 1);              /* "live" */
    assert_string_equal(sibs(r[0], "live"), "stays");
    /* the late delta with "old" in it changes nothing: no resurrection */
    assert_int_equal(apply(r[0], xold), 0);
    assert_string_equal(sibs(r[0], "k"), "");
    assert_int_equal(nkeys(r[0]), 1);
    /* nor do further rounds, from replicas that still hold the tombstone */
    full_round(r, 3);
    for (i = 0; i < 3; i++) assert_string_equal(sibs(r[i], "k"), "");
    /* the others reap too, and then everyone has forgotten it */
    {
        vv_db *o1[2], *o2[2];
        o1[0] = r[0]; o1[1] = r[2];
        o2[0] = r[0]; o2[1] = r[1];
        full_round(r, 3);
        assert_int_equal(reap(r[1], o1, 2), 1);
        assert_int_equal(reap(r[2], o2, 2), 1);
        for (i = 0; i < 3; i++) assert_int_equal(nkeys(r[i]), 1);
    }
    /* the key can be written again, and that write travels */
    put(r[2], "k", "again");
    full_round(r, 3);
    for (i = 0; i < 3; i++) assert_string_equal(sibs(r[i], "k"), "again");
    /* reaping with no tombstones does nothing; the own digest is ignored */
    assert_int_equal(reap(r[1], r, 3), 0);
    vv_free(dold.p);
    vv_free(xold.p);
    for (i = 0; i < 3; i++) vv_db_close(r[i]);
}

/* A delta made before the other replica merged the tombstone, delivered
 * after it: reaping waits until this store has merged everything that
 * replica had when it said it had the tombstone, so the late delta finds
 * its states covered and brings nothing back. */
static void test_reap_late_delta(void **st)
{
    vv_db *a = open_ks("a", NULL), *b = open_ks("b", NULL);
    msg late;
    (void)st;
    put(a, "k", "old");
    assert_int_equal(sync_ab(a, b, NULL), 1);       /* b holds "old" */
    {
        msg d = digest(a);
        late = delta(b, d);                        /* carries "old" */
        vv_free(d.p);
    }
    del(a, "k");
    assert_int_equal(sync_ab(a, b, NULL), 1);       /* b has the tombstone */
    /* b has merged it, but a has not merged b's later states: not yet */
    assert_int_equal(reap(a, &b, 1), 0);
    assert_int_equal(sync_ab(b, a, NULL), 0);       /* nothing new, but a */
    assert_int_equal(reap(a, &b, 1), 1);            /* now knows b's mark */
    assert_int_equal(nkeys(a), 0);
    assert_int_equal(apply(a, late), 0);            /* covered: skipped */
    assert_string_equal(sibs(a, "k"), "");
    assert_int_equal(nkeys(a), 0);
    vv_free(late.p);
    vv_db_close(a);
    vv_db_close(b);
}

/* Why every replica must be named: one left out still holds the value the
 * tombstone deleted, and its next delta brings it back. */
static void test_reap_unnamed_replica_resurrects(void **st)
{
    vv_db *r[3], *lost;
    int i;
    (void)st;
    for (i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        r[i] = open_ks(name, NULL);
    }
    lost = open_ks("lost", NULL);
    put(r[0], "k", "old");
    full_round(r, 3);
    assert_int_equal(sync_ab(r[0], lost, NULL), 1);  /* lost has "old" */
    del(r[0], "k");
    full_round(r, 3);
    {
        msg m1 = digest(r[1]), m2 = digest(r[2]);
        const void *ds[2];
        size_t ls[2], n;
        full_round(r, 3);
        ds[0] = m1.p; ls[0] = m1.n;
        ds[1] = m2.p; ls[1] = m2.n;
        assert_int_equal(vv_reap(r[0], "ks", ds, ls, 2, &n), VV_OK);
        assert_int_equal(n, 1);
        vv_free(m1.p);
        vv_free(m2.p);
    }
    assert_string_equal(sibs(r[0], "k"), "");
    assert_int_equal(sync_ab(lost, r[0], NULL), 1);
    assert_string_equal(sibs(r[0], "k"), "old");    /* back: name them all */
    /* named, the same replica blocks the reap until it has the delete */
    {
        vv_db *all[3];
        all[0] = r[1]; all[1] = r[2]; all[2] = lost;
        del(r[0], "k");
        assert_int_equal(reap(r[0], all, 3), 0);
    }
    for (i = 0; i < 3; i++) vv_db_close(r[i]);
    vv_db_close(lost);
}

/* ---- durable stores: change numbers and watermarks survive ------------- */
static vv_db *open_dir(const char *node, const char *dir, const char *sub)
{
    char path[512];
    vv_options o;
    vv_db *db = NULL;
    char *err = NULL;
    int rc;
    memset(&o, 0, sizeof o);
    o.node = node;
    o.path = lu_join(path, sizeof path, dir, sub);
    o.no_sync = 1;
    rc = vv_db_open(&o, &db, &err);
    if (rc) fprintf(stderr, "open %s: %s\n", path, err ? err : "?");
    assert_int_equal(rc, VV_OK);
    vv_free(err);
    return db;
}

static void test_durable(void **st)
{
    char *dir = lu_tmpdir("sync");
    vv_db *a, *b;
    msg d, x;
    pid_t pid;
    int i;
    (void)st;
    assert_non_null(dir);
    a = open_dir("a", dir, "a");
    b = open_dir("b", dir, "b");
    for (i = 0; i < 20; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%02d", i);
        snprintf(v, sizeof v, "v%d", i);
        put(a, k, v);
    }
    assert_int_equal(sync_ab(a, b, NULL), 20);
    vv_db_close(a);
    vv_db_close(b);
    /* reopened: a's numbers go on, b remembers how far it got */
    a = open_dir("a", dir, "a");
    b = open_dir("b", dir, "b");
    overwrite(a, "k05", "after reopen");
    d = digest(b);
    x = delta(a, d);
    assert_true(x.n < 200);
    assert_int_equal(apply(b, x), 1);
    assert_string_equal(sibs(b, "k05"), "after reopen");
    vv_free(d.p);
    vv_free(x.p);
    /* another process writes to a's directory meanwhile */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        vv_db *c;
        vv_options o;
        char path[512];
        vv_read *r;
        int ok;
        memset(&o, 0, sizeof o);
        o.node = "a";
        o.path = lu_join(path, sizeof path, dir, "a");
        if (vv_db_open(&o, &c, NULL)) _exit(1);
        ok = vv_get(c, "ks", "k06", 3, &r) == VV_OK &&
             vv_put(c, "ks", "k06", 3, "child", 5, vv_read_context(r),
                    NULL) == VV_OK;
        if (ok) vv_read_free(r);
        vv_db_close(c);
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(lu_wait(pid), 0);
    overwrite(a, "k07", "parent");                 /* after the child's */
    assert_int_equal(sync_ab(a, b, NULL), 2);
    assert_string_equal(sibs(b, "k06"), "child");
    assert_string_equal(sibs(b, "k07"), "parent");
    /* reaping is durable too */
    del(a, "k08");
    assert_int_equal(sync_ab(a, b, NULL), 1);
    assert_int_equal(sync_ab(b, a, NULL), 0);
    assert_int_equal(reap(a, &b, 1), 1);
    vv_db_close(a);
    a = open_dir("a", dir, "a");
    assert_int_equal(nkeys(a), 19);
    assert_int_equal(sync_ab(b, a, NULL), 0);       /* nothing comes back */
    assert_int_equal(nkeys(a), 19);
    assert_int_equal(sync_ab(a, b, NULL), 0);
    vv_db_close(a);
    vv_db_close(b);
    lu_rmrf(dir);
    free(dir);
}

/* ---- randomized histories against a model ------------------------------- */
/* N replicas, clients writing with stale contexts, partitions, and sync
 * messages that are lost, duplicated and delivered out of order.  The
 * model (as in test_store.c) knows which writes each replica has seen per
 * key; a delta carries everything its source knew when it was made. */
#define MR 4            /* replicas */
#define MK 6            /* keys */
#define MW 1200         /* writes per run at most */
#define QMAX 24         /* sync messages in flight */
#include "model.h"

typedef struct flight {
    int from, to;
    msg x;
    bits known[MK];           /* what the source knew when it made x */
} flight;

static void check_all(model *m, vv_db **db, unsigned seed, int op)
{
    static char want[MW * 8], got[MW * 8];
    int r, k;
    for (r = 0; r < MR; r++)
        for (k = 0; k < MK; k++) {
            expected(m, r, k, want);
            shown(db[r], k, got);
            if (strcmp(want, got))
                fprintf(stderr, "seed %u op %d replica %d key k%d:\n"
                        " want %s\n  got %s\n", seed, op, r, k, want, got);
            assert_string_equal(want, got);
        }
}

static void model_run(unsigned seed0, int ops, size_t *bytes, int *syncs,
                      int *reaped)
{
    unsigned seed = seed0;
    static model m;
    static flight q[QMAX];
    vv_db *db[MR];
    client_ctx pool[12];
    int nq = 0, i, r, k, side[MR];
    uint64_t now = 1;
    memset(&m, 0, sizeof m);
    memset(pool, 0, sizeof pool);
    for (r = 0; r < MR; r++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", r);
        db[r] = open_ks(name, &now);
        side[r] = 0;
    }
    for (i = 0; i < ops && m.nw < MW - 1; i++) {
        int op = rand_r(&seed) % 100;
        now += (uint64_t)(rand_r(&seed) % 3);
        r = rand_r(&seed) % MR;
        k = rand_r(&seed) % MK;
        if (op < 12) {                            /* a client reads */
            model_read(&m, db[r], r, k, &pool[rand_r(&seed) % 12]);
        } else if (op < 50) {                     /* a write or a delete */
            client_ctx *c = &pool[rand_r(&seed) % 12];
            int w = m.nw++, dl = rand_r(&seed) % 5 == 0;
            char key[16], val[16];
            const vv_clock *ctx = NULL;
            vv_read *fresh = NULL;
            snprintf(key, sizeof key, "k%d", k);
            if (dl && rand_r(&seed) % 2 &&         /* delete what r shows */
                vv_get(db[r], "ks", key, strlen(key), &fresh) == VV_OK) {
                ctx = vv_read_context(fresh);
                m.seen[w] = m.known[r][k];
            } else if (c->used && c->key == k && rand_r(&seed) % 4) {
                ctx = c->clock;                   /* stale, from anywhere */
                m.seen[w] = c->seen;
            }
            snprintf(val, sizeof val, "w%d", w);
            m.tomb[w] = dl;
            if (dl)
                assert_int_equal(vv_delete(db[r], "ks", key, strlen(key),
                                           ctx, NULL), VV_OK);
            else
                assert_int_equal(vv_put(db[r], "ks", key, strlen(key), val,
                                        strlen(val), ctx, NULL), VV_OK);
            vv_read_free(fresh);
            bor(&m.known[r][k], &m.seen[w]);
            bset(&m.known[r][k], w);
        } else if (op < 72) {                     /* r asks: a delta flies */
            int from = rand_r(&seed) % MR;
            msg d;
            flight *f;
            if (from == r || nq == QMAX) continue;
            f = &q[nq++];
            d = digest(db[r]);
            f->from = from;
            f->to = r;
            f->x = delta(db[from], d);
            memcpy(f->known, m.known[from], sizeof f->known);
            *bytes += d.n + f->x.n;
            vv_free(d.p);
        } else if (op < 92) {                     /* one arrives (again?) */
            int j, kk;
            flight *f;
            if (!nq) continue;
            j = rand_r(&seed) % nq;
            f = &q[j];
            if (side[f->from] == side[f->to]) {   /* else the cut eats it */
                apply(db[f->to], f->x);
                (*syncs)++;
                for (kk = 0; kk < MK; kk++)
                    bor(&m.known[f->to][kk], &f->known[kk]);
            }
            if (rand_r(&seed) % 4) {              /* usually consumed: */
                vv_free(f->x.p);                  /* else a duplicate waits */
                q[j] = q[--nq];
            }
        } else if (op < 95) {                     /* one is lost */
            int j;
            if (!nq) continue;
            j = rand_r(&seed) % nq;
            vv_free(q[j].x.p);
            q[j] = q[--nq];
        } else if (op < 96) {                     /* partitions come and go */
            int rr;
            for (rr = 0; rr < MR; rr++) side[rr] = rand_r(&seed) % 3 ? 0 : 1;
        } else {                                  /* reap, naming everyone */
            vv_db *others[MR];
            int n = 0, rr, kk, o;
            if (rand_r(&seed) % 2) {              /* after a heal and gossip */
                settle(db, MR);
                for (rr = 0; rr < MR; rr++)
                    for (kk = 0; kk < MK; kk++)
                        for (o = 0; o < MR; o++)
                            bor(&m.known[rr][kk], &m.known[o][kk]);
            }
            for (rr = 0; rr < MR; rr++) if (rr != r) others[n++] = db[rr];
            *reaped += (int)reap(db[r], others, n);
        }
        if (i % 5 == 0) check_all(&m, db, seed0, i);
    }
    /* the last heal: everything in flight lands or is lost, then rounds */
    for (i = 0; i < nq; i++) {
        if (i % 2) {
            int kk;
            apply(db[q[i].to], q[i].x);
            for (kk = 0; kk < MK; kk++)
                bor(&m.known[q[i].to][kk], &q[i].known[kk]);
        }
        vv_free(q[i].x.p);
    }
    check_all(&m, db, seed0, -1);
    full_round(db, MR);
    full_round(db, MR);
    for (r = 0; r < MR; r++)
        for (k = 0; k < MK; k++) {
            int o;
            for (o = 0; o < MR; o++) bor(&m.known[r][k], &m.known[o][k]);
        }
    check_all(&m, db, seed0, -2);
    {   /* same siblings, same order, same states everywhere */
        uint64_t f0 = fingerprint(db[0], NULL);
        for (k = 0; k < MK; k++) {
            char key[16], first[MW * 8];
            snprintf(key, sizeof key, "k%d", k);
            strcpy(first, sibs(db[0], key));
            for (r = 1; r < MR; r++)
                assert_string_equal(sibs(db[r], key), first);
        }
        for (r = 1; r < MR; r++) assert_int_equal(fingerprint(db[r], NULL), f0);
    }
    for (i = 0; i < 12; i++) vv_clock_free(pool[i].clock);
    for (r = 0; r < MR; r++) vv_db_close(db[r]);
}

static void test_model_random_sync(void **st)
{
    unsigned seed;
    size_t bytes = 0;
    int syncs = 0, reaped = 0;
    (void)st;
    for (seed = 1; seed <= 16; seed++)
        model_run(seed, 1500, &bytes, &syncs, &reaped);
    fprintf(stderr, "model: %d deltas applied, %zu bytes, %d keys reaped\n",
            syncs, bytes, reaped);
    assert_true(syncs > 1000);
    assert_true(reaped > 0);                       /* the reap path ran */
}

/* ---- allocation failures: apply is all or nothing ----------------------- */
static void test_alloc_failures(void **st)
{
    vv_db *a = open_ks("a", NULL);
    int i, k;
    (void)st;
    for (k = 0; k < 8; k++) {
        char key[16], v[16];
        snprintf(key, sizeof key, "k%d", k);
        snprintf(v, sizeof v, "v%d", k);
        put(a, key, v);
    }
    for (i = 1; i < 400; i++) {
        vv_db *b = open_ks("b", NULL);
        msg d, x;
        size_t n = 0;
        uint64_t before;
        int rc;
        put(b, "k1", "mine");
        before = fingerprint(b, NULL);
        d = digest(b);
        x = delta(a, d);
        vvi_fail_alloc_after(i);
        rc = vv_apply(b, "ks", x.p, x.n, &n);
        vvi_fail_alloc_after(0);
        if (rc != VV_OK) {
            assert_int_equal(rc, VV_ENOMEM);
            assert_int_equal(fingerprint(b, NULL), before);
            assert_int_equal(sync_ab(a, b, NULL), 8);
        } else assert_int_equal(n, 8);
        assert_int_equal(fingerprint(b, NULL) != before, 1);
        vv_free(d.p);
        vv_free(x.p);
        vv_db_close(b);
    }
    vv_db_close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_three_converge),
        cmocka_unit_test(test_transitive),
        cmocka_unit_test(test_log_abort_and_rewrites),
        cmocka_unit_test(test_cost_follows_difference),
        cmocka_unit_test(test_bad_messages),
        cmocka_unit_test(test_apply_all_or_nothing),
        cmocka_unit_test(test_lost_dup_reordered),
        cmocka_unit_test(test_delta_for_another),
        cmocka_unit_test(test_reap),
        cmocka_unit_test(test_reap_late_delta),
        cmocka_unit_test(test_reap_unnamed_replica_resurrects),
        cmocka_unit_test(test_durable),
        cmocka_unit_test(test_model_random_sync),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
