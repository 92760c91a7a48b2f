/* test_fastpath.c - the engine's paths on stored bytes against the full
 * decode/encode path: the same stored bytes, reads, contexts and errors
 * on random histories, corrupt states and states too large to patch. */
#include "testutil.h"
#include "lmdbutil.h"
#include "db_int.h"
#include "bytes_check.h"

#define NKEYS 4
#define NOUT  3                  /* replicas outside the twins */

/* The stored bytes of key in keyspace ks of db (through its backend, in
 * a transaction of its own); *n = (size_t)-1 when there is none. */
static unsigned char *fp_stored(vv_db *db, const char *ks, const char *key,
                                size_t *n)
{
    const vvi_backend *be;
    void *h;
    const void *p;
    unsigned char *copy = NULL;
    vvi_ks *k;
    be = vvi_db_backend(db, &h);
    *n = (size_t)-1;
    if (!(k = vvi_ks_find(db, ks))) return NULL;
    assert_int_equal(be->begin(h, 0), VV_OK);
    if (be->get(h, k->id, key, strlen(key), &p, n) == VV_OK) {
        copy = malloc(*n ? *n : 1);
        assert_non_null(copy);
        memcpy(copy, p, *n);
    } else *n = (size_t)-1;
    be->abort(h);
    return copy;
}

/* Overwrite the stored bytes of key (through the backend). */
static void fp_store_raw(vv_db *db, const char *ks, const char *key,
                         const void *p, size_t n)
{
    const vvi_backend *be;
    void *h;
    vvi_ks *k = vvi_ks_find(db, ks);
    assert_non_null(k);
    be = vvi_db_backend(db, &h);
    assert_int_equal(be->begin(h, 1), VV_OK);
    assert_int_equal(be->put(h, k->id, key, strlen(key), p, n), VV_OK);
    assert_int_equal(be->commit(h), VV_OK);
}

/* The twins store the same bytes under key. */
static void fp_same_stored(vv_db *a, vv_db *b, const char *ks,
                           const char *key)
{
    size_t na, nb;
    unsigned char *pa = fp_stored(a, ks, key, &na);
    unsigned char *pb = fp_stored(b, ks, key, &nb);
    assert_int_equal(na, nb);
    if (na != (size_t)-1) assert_memory_equal(pa, pb, na);
    free(pa);
    free(pb);
}

/* Two clocks hold the same entries (both may be NULL). */
static void fp_same_clock(const vv_clock *x, const vv_clock *y)
{
    void *tx, *ty;
    size_t nx, ny;
    if (!x || !y) {
        assert_true(x == y);
        return;
    }
    assert_int_equal(vv_clock_encode(x, &tx, &nx), VV_OK);
    assert_int_equal(vv_clock_encode(y, &ty, &ny), VV_OK);
    assert_int_equal(nx, ny);
    assert_memory_equal(tx, ty, nx);
    vv_free(tx);
    vv_free(ty);
}

/* Two reads show the same siblings in the same order, the same context
 * and the same value. */
static void fp_same_read(const vv_read *x, const vv_read *y)
{
    size_t i, nx, ny;
    const void *vx, *vy;
    int rx, ry;
    assert_int_equal(vv_read_count(x), vv_read_count(y));
    for (i = 0; i < vv_read_count(x); i++) {
        const vv_sibling *a = vv_read_sibling(x, i), *b = vv_read_sibling(y, i);
        assert_int_equal(a->len, b->len);
        if (a->len) assert_memory_equal(a->value, b->value, a->len);
        assert_int_equal(a->actor_len, b->actor_len);
        assert_memory_equal(a->actor, b->actor, a->actor_len);
        assert_int_equal(a->node_len, b->node_len);
        assert_int_equal(a->counter, b->counter);
        assert_int_equal(a->timestamp, b->timestamp);
    }
    fp_same_clock(vv_read_context(x), vv_read_context(y));
    rx = vv_read_value(x, &vx, &nx);
    ry = vv_read_value(y, &vy, &ny);
    assert_int_equal(rx, ry);
    if (rx == VV_OK) {
        assert_int_equal(nx, ny);
        if (nx) assert_memory_equal(vx, vy, nx);
    }
}

/* Read key at a on the paths on stored bytes and at b on the full path,
 * compare (codes, reads, stored bytes, exports); returns a's read (the
 * caller frees it) or NULL. */
static vv_read *fp_check_key(vv_db *a, vv_db *b, const char *ks,
                             const char *key)
{
    vv_read *ra = NULL, *rb = NULL;
    void *ea = NULL, *eb = NULL;
    size_t la = 0, lb = 0;
    int ca, cb;
    vvi_full_path = 0;
    ca = vv_get(a, ks, key, strlen(key), &ra);
    vvi_full_path = 1;
    cb = vv_get(b, ks, key, strlen(key), &rb);
    vvi_full_path = 0;
    assert_int_equal(ca, cb);
    if (ca == VV_OK) fp_same_read(ra, rb);
    else assert_string_equal(vv_errmsg(a), vv_errmsg(b));
    fp_same_stored(a, b, ks, key);
    ca = vv_export(a, ks, key, strlen(key), &ea, &la);
    cb = vv_export(b, ks, key, strlen(key), &eb, &lb);
    assert_int_equal(ca, cb);
    if (ca == VV_OK) {
        assert_int_equal(la, lb);
        assert_memory_equal(ea, eb, la);
    }
    vv_free(ea);
    vv_free(eb);
    vv_read_free(rb);
    return ra;
}

/* A copy of ctx whose entries' actor hints are wrong (salt: which way:
 * none, out of range, or another actor's number). */
static vv_clock *fp_bad_hints(const vv_clock *ctx, unsigned salt)
{
    vv_clock *c;
    size_t i;
    if (!ctx) return NULL;
    assert_int_equal(vv_clock_copy(ctx, &c), VV_OK);
    for (i = 0; i < c->n; i++)
        c->e[i].hint = salt % 3 == 0 ? 0 : salt % 3 == 1 ? UINT32_MAX
                     : c->e[i].hint + 1 + (uint32_t)i;
    return c;
}

/* A put or delete with context ctx at both twins (a on the paths on
 * stored bytes, b on the full path), each way of asking for the new
 * context in turn (way 0: none, 1: a new clock, 2: vv_write into a
 * clock); the codes, messages and new contexts must agree.  b gets ctx
 * with wrong actor hints (vvi_ctx_map must not trust them). */
static int fp_write(vv_db *a, vv_db *b, const char *ks, const char *key,
                    const char *val, int tomb, const vv_clock *ctx, int way)
{
    static unsigned salt;
    vv_clock *na = NULL, *nb = NULL, ia, ib, *bad = fp_bad_hints(ctx, salt++);
    int ca, cb, i;
    size_t vl = val ? strlen(val) : 0;
    vv_clock_init(&ia);
    vv_clock_init(&ib);
    for (i = 0; i < 2; i++) {
        vv_db *db = i ? b : a;
        const vv_clock *ctx_i = i ? bad : ctx;
        vv_clock **nc = i ? &nb : &na;
        int *rc = i ? &cb : &ca;
        vvi_full_path = i;
        if (way == 2)
            *rc = vv_write(db, ks, key, strlen(key), val, vl, tomb, ctx_i,
                           i ? &ib : &ia);
        else if (tomb)
            *rc = vv_delete(db, ks, key, strlen(key), ctx_i,
                            way ? nc : NULL);
        else
            *rc = vv_put(db, ks, key, strlen(key), val, vl, ctx_i,
                         way ? nc : NULL);
    }
    vvi_full_path = 0;
    assert_int_equal(ca, cb);
    if (ca != VV_OK) assert_string_equal(vv_errmsg(a), vv_errmsg(b));
    fp_same_clock(na, nb);
    if (way == 2) fp_same_clock(&ia, &ib);
    vv_clock_free(na);
    vv_clock_free(nb);
    vv_clock_free(bad);
    vv_clock_clear(&ia);
    vv_clock_clear(&ib);
    fp_same_stored(a, b, ks, key);
    return ca;
}

/* Merge key's state at replica from into both twins. */
static void fp_merge_in(vv_db *from, vv_db *a, vv_db *b, const char *ks,
                        const char *key)
{
    void *st = NULL;
    size_t n = 0;
    if (vv_export(from, ks, key, strlen(key), &st, &n) != VV_OK) return;
    assert_int_equal(vv_merge(a, ks, key, strlen(key), st, n), VV_OK);
    assert_int_equal(vv_merge(b, ks, key, strlen(key), st, n), VV_OK);
    vv_free(st);
}

/* Open the twins (in memory, or durable in dirs) and the outside
 * replicas; "lim" allows 3 siblings. */
static void fp_open(vv_db **a, vv_db **b, vv_db **out, char **dirs,
                    uint64_t *now)
{
    vv_ks_config cfg;
    int i;
    *a = dirs ? tu_open_dir("tw", dirs[0], now) : tu_open("tw", now);
    *b = dirs ? tu_open_dir("tw", dirs[1], now) : tu_open("tw", now);
    assert_int_equal(vvi_db_twin(*b, *a), VV_OK);
    for (i = 0; i < NOUT; i++) {
        char node[16];
        snprintf(node, sizeof node, "o%d", i);
        out[i] = tu_open(node, now);
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.warn_siblings = 1000;
    cfg.max_siblings = 3;
    assert_int_equal(vv_keyspace(*a, "lim", &cfg), VV_OK);
    assert_int_equal(vv_keyspace(*b, "lim", &cfg), VV_OK);
    cfg.max_siblings = 1000;
    assert_int_equal(vv_keyspace(*a, "ks", &cfg), VV_OK);
    assert_int_equal(vv_keyspace(*b, "ks", &cfg), VV_OK);
}

/* Random histories: writes at the twins with a fresh, a stale, a foreign
 * or no context (and contexts claiming dots never given out), writes at
 * outside replicas, merges both ways; after every step the twins agree
 * byte for byte. */
static void fp_history(char **dirs, unsigned seed, int steps)
{
    vv_db *a, *b, *out[NOUT];
    vv_clock *stale[NKEYS] = { NULL };
    uint64_t now = 1700000000000ull;
    int i, w = 0;
    fp_open(&a, &b, out, dirs, &now);
    for (i = 0; i < steps; i++) {
        int op = rand_r(&seed) % 10, k = rand_r(&seed) % NKEYS;
        const char *ks = rand_r(&seed) % 4 ? "ks" : "lim";
        vv_db *o = out[rand_r(&seed) % NOUT];
        char key[16], val[32];
        vv_read *r;
        snprintf(key, sizeof key, "k%d", k);
        snprintf(val, sizeof val, "w%d", w++);
        now += rand_r(&seed) % 3;                /* ties too */
        if (op < 5) {                            /* write at the twins */
            vv_clock *ctx = NULL, *own = NULL;
            int c = rand_r(&seed) % 5, tomb = rand_r(&seed) % 5 == 0;
            if (c == 1 || c == 2) {
                r = fp_check_key(a, b, ks, key);
                if (r) own = vv_read_take_context(r);
                vv_read_free(r);
                ctx = own;
                if (c == 2 && own) {             /* keep it for later */
                    vv_clock_free(stale[k]);
                    assert_int_equal(vv_clock_copy(own, &stale[k]), VV_OK);
                }
            } else if (c == 3) ctx = stale[k];
            else if (c == 4 && vv_get(o, ks, key, strlen(key), &r) == VV_OK) {
                own = vv_read_take_context(r);   /* another replica's */
                vv_read_free(r);
                ctx = own;
                if (rand_r(&seed) % 8 == 0)      /* and a forged dot */
                    vv_clock_set(own, vv_db_actor(a), strlen(vv_db_actor(a)),
                                 1000000);
            }
            fp_write(a, b, ks, key, tomb ? NULL : val, tomb, ctx,
                     rand_r(&seed) % 3);
            vv_clock_free(own);
        } else if (op < 7) {                     /* write elsewhere */
            vv_clock *ctx = NULL;
            if (rand_r(&seed) % 2 &&
                vv_get(o, ks, key, strlen(key), &r) == VV_OK) {
                ctx = vv_read_take_context(r);
                vv_read_free(r);
            }
            if (rand_r(&seed) % 6 == 0)
                vv_delete(o, ks, key, strlen(key), ctx, NULL);
            else
                vv_put(o, ks, key, strlen(key), val, strlen(val), ctx, NULL);
            vv_clock_free(ctx);
        } else if (op < 9) {                     /* merge into the twins */
            fp_merge_in(o, a, b, ks, key);
        } else {                                 /* and back out */
            void *st = NULL;
            size_t n = 0;
            if (vv_export(a, ks, key, strlen(key), &st, &n) == VV_OK)
                assert_int_equal(vv_merge(o, ks, key, strlen(key), st, n),
                                 VV_OK);
            vv_free(st);
        }
        vv_read_free(fp_check_key(a, b, ks, key));
    }
    for (i = 0; i < NKEYS; i++) vv_clock_free(stale[i]);
    for (i = 0; i < NOUT; i++) vv_db_close(out[i]);
    vv_db_close(a);
    vv_db_close(b);
}

static void test_history_memory(void **state)
{
    unsigned seed;
    (void)state;
    for (seed = 1; seed <= 40; seed++) fp_history(NULL, seed, 300);
}

static void test_history_lmdb(void **state)
{
    unsigned seed;
    (void)state;
    for (seed = 100; seed < 104; seed++) {
        char *dirs[2];
        dirs[0] = lu_tmpdir("fastpath");
        dirs[1] = lu_tmpdir("fastpath");
        assert_non_null(dirs[0]);
        assert_non_null(dirs[1]);
        fp_history(dirs, seed, 200);
        lu_rmrf(dirs[0]);
        lu_rmrf(dirs[1]);
        free(dirs[0]);
        free(dirs[1]);
    }
}

/* Stored states with bytes changed at random (flipped, cut, extended,
 * an actor number out of the table): the twins give the same codes,
 * reads and stored bytes, on reads and on writes. */
static void test_corrupt_states(void **state)
{
    unsigned seed = 7;
    int round;
    (void)state;
    for (round = 0; round < 400; round++) {
        vv_db *a, *b, *out[NOUT];
        uint64_t now = 1700000000000ull;
        unsigned char *p;
        size_t n, at;
        int i;
        fp_open(&a, &b, out, NULL, &now);
        for (i = 0; i < 4; i++) {                /* a state worth breaking */
            char val[16];
            snprintf(val, sizeof val, "v%d", i);
            tu_put(out[i % NOUT], "ks", "k", val, NULL);
            fp_merge_in(out[i % NOUT], a, b, "ks", "k");
            fp_write(a, b, "ks", "k", val, 0, NULL, 0);
        }
        p = fp_stored(a, "ks", "k", &n);
        assert_non_null(p);
        p = realloc(p, n + 16);
        assert_non_null(p);
        at = rand_r(&seed) % n;
        switch (rand_r(&seed) % 4) {
        case 0: p[at] ^= (unsigned char)(1u << rand_r(&seed) % 8); break;
        case 1: n = at; break;                   /* cut */
        case 2: p[n++] = (unsigned char)rand_r(&seed); break;
        default: p[at] = (unsigned char)(rand_r(&seed) % 0x80); break;
        }
        fp_store_raw(a, "ks", "k", p, n);
        fp_store_raw(b, "ks", "k", p, n);
        free(p);
        vv_read_free(fp_check_key(a, b, "ks", "k"));
        fp_write(a, b, "ks", "k", "after", rand_r(&seed) % 4 == 0, NULL,
                 rand_r(&seed) % 3);
        vv_read_free(fp_check_key(a, b, "ks", "k"));
        for (i = 0; i < NOUT; i++) vv_db_close(out[i]);
        vv_db_close(a);
        vv_db_close(b);
    }
}

/* States beyond what a patch takes: 130 versions (siblings and
 * tombstones), and a context of 70 actors; the twins still agree. */
static void test_large_states(void **state)
{
    vv_db *a, *b, *out[NOUT], *many[70];
    uint64_t now = 1700000000000ull;
    vv_read *r;
    vv_clock *ctx;
    int i;
    (void)state;
    fp_open(&a, &b, out, NULL, &now);
    for (i = 0; i < 130; i++) {                  /* concurrent: all stay */
        char val[16];
        snprintf(val, sizeof val, "s%d", i);
        now++;
        fp_write(a, b, "ks", "wide", i % 3 ? val : NULL, i % 3 == 0, NULL,
                 i % 3);
    }
    vv_read_free(fp_check_key(a, b, "ks", "wide"));
    for (i = 0; i < 70; i++) {                   /* 70 writers, merged */
        char node[16];
        snprintf(node, sizeof node, "m%02d", i);
        many[i] = tu_open(node, &now);
        tu_put(many[i], "ks", "deep", node, NULL);
        fp_merge_in(many[i], a, b, "ks", "deep");
    }
    r = fp_check_key(a, b, "ks", "deep");
    assert_non_null(r);
    assert_int_equal(vv_read_count(r), 70);
    ctx = vv_read_take_context(r);
    vv_read_free(r);
    fp_write(a, b, "ks", "deep", "one", 0, ctx, 1);
    fp_write(a, b, "ks", "deep", "two", 0, ctx, 2);
    r = fp_check_key(a, b, "ks", "deep");
    assert_int_equal(vv_read_count(r), 2);       /* one and two */
    vv_read_free(r);
    vv_clock_free(ctx);
    for (i = 0; i < 70; i++) vv_db_close(many[i]);
    for (i = 0; i < NOUT; i++) vv_db_close(out[i]);
    vv_db_close(a);
    vv_db_close(b);
}

/* Stored states with numbers of every varint length (timestamps and
 * counters of 1 to 10 bytes) decode to what was encoded, and the view a
 * read takes agrees with the decode; a redundant varint is refused. */
static void test_varints(void **state)
{
    unsigned seed = 3;
    int round;
    (void)state;
    for (round = 0; round < 2000; round++) {
        vvi_dvv s, d;
        vvi_ver v, live[8];
        vvi_ent ctx[32];
        size_t nctx, nlive, bits = (size_t)(round % 64) + 1;
        uint64_t x = ((uint64_t)rand_r(&seed) << 42) ^
                     ((uint64_t)rand_r(&seed) << 21) ^ (uint64_t)rand_r(&seed);
        unsigned char mem[256];
        vv_buf b;
        x = bits == 64 ? x | 1ull << 63 : (x & ((1ull << bits) - 1)) | 1;
        vvi_dvv_init(&s);
        assert_int_equal(vvi_ctx_max(&s, 0, x), VV_OK);
        assert_int_equal(vvi_ctx_max(&s, 1, 3), VV_OK);
        v.a = 0;
        v.n = x;
        v.ts = x ^ 0x5555;
        v.tomb = 0;
        v.val = (const unsigned char *)"val";
        v.len = 3;
        assert_int_equal(vvi_dvv_add(&s, &v), VV_OK);
        s.seq = x;
        vvi_buf_init_fixed(&b, mem, sizeof mem);
        vvi_dvv_encode(&s, &b);
        assert_false(b.oom);
        assert_int_equal(vvi_dvv_decode(&d, b.p, b.len), VV_OK);
        assert_int_equal(d.nctx, 2);
        assert_true(d.ctx[0].n == x && d.v[0].n == x && d.seq == x);
        assert_true(d.v[0].ts == v.ts);
        assert_int_equal(vvi_dvv_view(b.p, b.len, 2, ctx, 32, &nctx, live, 8,
                                      &nlive), VV_OK);
        assert_int_equal(nctx, 2);
        assert_int_equal(nlive, 1);
        assert_true(ctx[0].n == x && live[0].n == x && live[0].ts == v.ts);
        assert_int_equal(vvi_dvv_view(b.p, b.len, 1, ctx, 32, &nctx, live, 8,
                                      &nlive), VV_ECORRUPT);  /* actor 1 */
        vvi_dvv_free(&d);
        {   /* the seq again with a redundant last byte */
            b.p[b.len - 1] |= 0x80;
            vv_buf_add(&b, "\0", 1);
            assert_int_equal(vvi_dvv_decode(&d, b.p, b.len), VV_ECORRUPT);
            assert_int_equal(vvi_dvv_view(b.p, b.len, 2, ctx, 32, &nctx, live,
                                          8, &nlive), VV_ECORRUPT);
        }
        vv_buf_free(&b);
        vvi_dvv_free(&s);
    }
}

/* Stored states encoded from random states (actors, counters and
 * timestamps of every size, tombstones, a seq or none), then changed at
 * random (bytes flipped, cut, added), and random bytes: the read's view
 * and the put's patch agree with the decoder on each (bytes_check.h). */
static void test_bytes_agree(void **state)
{
    unsigned seed = 11;
    int round;
    (void)state;
    for (round = 0; round < 20000; round++) {
        unsigned char mem[512], *p;
        vvi_dvv s;
        vv_buf b;
        size_t i, n;
        int nc = rand_r(&seed) % 6, nv = rand_r(&seed) % 5;
        uint32_t na = rand_r(&seed) % 2 ? 8 : BC_NA + 4;  /* actors met */
        vvi_dvv_init(&s);
        for (i = 0; i < (size_t)nc; i++) {
            uint64_t c = (uint64_t)rand_r(&seed) << (rand_r(&seed) % 40);
            assert_int_equal(vvi_ctx_max(&s, (uint32_t)rand_r(&seed) % na,
                                         c ? c : 1), VV_OK);
        }
        for (i = 0; i < (size_t)nv; i++) {
            vvi_ver v;
            v.a = (uint32_t)rand_r(&seed) % na;
            v.n = rand_r(&seed) % 2 ? (uint64_t)rand_r(&seed) % 8 + 1
                                    : (uint64_t)rand_r(&seed) % 2000 + 1;
            v.ts = (uint64_t)rand_r(&seed) << (rand_r(&seed) % 30);
            v.tomb = rand_r(&seed) % 4 == 0;
            v.val = (const unsigned char *)"some value";
            v.len = v.tomb ? 0 : (size_t)(rand_r(&seed) % 11);
            assert_int_equal(vvi_dvv_add(&s, &v), VV_OK);
        }
        s.seq = rand_r(&seed) % 3 ? (uint64_t)rand_r(&seed) : 0;
        vvi_buf_init_fixed(&b, mem, sizeof mem);
        vvi_dvv_encode(&s, &b);
        vvi_dvv_free(&s);
        assert_false(b.oom);
        n = b.len;
        p = b.p;
        if (round % 3 == 1 && n) {               /* changed at random */
            size_t at = (size_t)rand_r(&seed) % n;
            switch (rand_r(&seed) % 3) {
            case 0: p[at] ^= (unsigned char)(1u << rand_r(&seed) % 8); break;
            case 1: n = at; break;
            default: vv_buf_add(&b, "\x81", 1); p = b.p; n = b.len; break;
            }
        } else if (round % 3 == 2) {             /* noise */
            for (i = 0; i < n; i++) p[i] = (unsigned char)rand_r(&seed);
            if (n) p[0] = 0x01;
        }
        assert_int_equal(bc_check(p, n), 0);
        vv_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varints),
        cmocka_unit_test(test_bytes_agree),
        cmocka_unit_test(test_history_memory),
        cmocka_unit_test(test_history_lmdb),
        cmocka_unit_test(test_corrupt_states),
        cmocka_unit_test(test_large_states),
    };
    return cmocka_run_group_tests_name("fastpath", tests, NULL, NULL);
}
