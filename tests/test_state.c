/* test_state.c - detached states: merge, write and read without storing. */
#include "testutil.h"
#include "lmdbutil.h"
#include "vv_int.h"

/* ---- helpers ---------------------------------------------------------- */

/* A state: bytes from vv (vv_free) with their length. */
typedef struct st_bytes { void *p; size_t n; } st_bytes;

/* Are two states the same bytes? */
static int st_same(const st_bytes *a, const st_bytes *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

/* vv_state_merge that must succeed. */
static st_bytes st_merge(const st_bytes *a, const st_bytes *b)
{
    st_bytes o = { NULL, 0 };
    int rc = vv_state_merge(a->p, a->n, b->p, b->n, &o.p, &o.n);
    assert_int_equal(rc, VV_OK);
    assert_non_null(o.p);
    return o;
}

/* A copy of a state's bytes (vv_free). */
static st_bytes st_copy(const st_bytes *a)
{
    st_bytes o;
    o.n = a->n;
    o.p = malloc(a->n ? a->n : 1);
    assert_non_null(o.p);
    memcpy(o.p, a->p, a->n);
    return o;
}

/* A random write at db on ks/k: a put or (1 in 5) a delete, with the
 * context of a read at db (2 in 3) or none. */
static void st_random_write(vv_db *db, unsigned *seed, int *wno)
{
    vv_read *r = NULL;
    const vv_clock *ctx = NULL;
    char val[32];
    int rc;
    if (rand_r(seed) % 3 && vv_get(db, "ks", "k", 1, &r) == VV_OK)
        ctx = vv_read_context(r);
    snprintf(val, sizeof val, "w%d", (*wno)++);
    if (rand_r(seed) % 5 == 0)
        rc = vv_delete(db, "ks", "k", 1, ctx, NULL);
    else
        rc = vv_put(db, "ks", "k", 1, val, strlen(val), ctx, NULL);
    assert_int_equal(rc, VV_OK);
    vv_read_free(r);
}

/* Random histories of key "k" on four stores (writes, deletes, merges
 * between them); every export taken on the way goes into pool (up to
 * max).  Returns how many. */
static int st_pool(unsigned seed, st_bytes *pool, int max)
{
    vv_db *db[4];
    uint64_t now = 1000;
    int i, n = 0, wno = 0;
    tu_open_n(db, 4, &now);
    for (i = 0; n < max && i < 400; i++) {
        int a = rand_r(&seed) % 4, op = rand_r(&seed) % 10;
        now += (uint64_t)(rand_r(&seed) % 3);
        if (op < 5) st_random_write(db[a], &seed, &wno);
        else if (op < 8) tu_copy(db[a], db[rand_r(&seed) % 4], "ks", "k");
        else if (vv_export(db[a], "ks", "k", 1, &pool[n].p, &pool[n].n)
                 == VV_OK)
            n++;
    }
    tu_close_n(db, 4);
    return n;
}

/* The export of a fresh store that merged states idx[0..n) in order. */
static st_bytes st_store_merge(st_bytes *pool, const int *idx, int n)
{
    vv_db *t = tu_open("t", NULL);
    st_bytes o;
    int i;
    for (i = 0; i < n; i++)
        assert_int_equal(vv_merge(t, "ks", "k", 1, pool[idx[i]].p,
                                  pool[idx[i]].n), VV_OK);
    assert_int_equal(vv_export(t, "ks", "k", 1, &o.p, &o.n), VV_OK);
    vv_db_close(t);
    return o;
}

/* Merge states idx[lo..hi) with a random grouping (a random split into
 * two halves, each merged recursively). */
static st_bytes st_tree_merge(st_bytes *pool, const int *idx, int lo, int hi,
                              unsigned *seed)
{
    st_bytes l, r, o;
    int mid;
    if (hi - lo == 1) return st_copy(&pool[idx[lo]]);
    mid = lo + 1 + rand_r(seed) % (hi - lo - 1);
    l = st_tree_merge(pool, idx, lo, mid, seed);
    r = st_tree_merge(pool, idx, mid, hi, seed);
    o = rand_r(seed) % 2 ? st_merge(&l, &r) : st_merge(&r, &l);
    vv_free(l.p);
    vv_free(r.p);
    return o;
}

/* Shuffle idx[0..n). */
static void st_shuffle(int *idx, int n, unsigned *seed)
{
    int i;
    for (i = n - 1; i > 0; i--) {
        int j = rand_r(seed) % (i + 1), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* ---- vv_state_merge --------------------------------------------------- */

/* Merging exported states in any order and grouping gives the bytes a
 * store gives after merging them; and merge is commutative, idempotent. */
static void test_merge_equals_store(void **st)
{
    unsigned seed;
    (void)st;
    for (seed = 1; seed <= 30; seed++) {
        st_bytes pool[24], want, got, ab, ba, aa;
        int idx[24], n, i, k, round;
        unsigned s = seed * 7919u;
        n = st_pool(seed, pool, 24);
        assert_true(n >= 4);
        for (i = 0; i < n; i++) idx[i] = i;
        for (round = 0; round < 6; round++) {
            int m = 1 + rand_r(&s) % n;
            st_shuffle(idx, n, &s);
            want = st_store_merge(pool, idx, m);
            st_shuffle(idx, m, &s);
            got = st_tree_merge(pool, idx, 0, m, &s);
            assert_true(st_same(&got, &want));
            vv_free(got.p);
            vv_free(want.p);
        }
        for (i = 0; i + 1 < n; i++) {
            k = rand_r(&s) % n;
            ab = st_merge(&pool[i], &pool[k]);
            ba = st_merge(&pool[k], &pool[i]);
            aa = st_merge(&pool[i], &pool[i]);
            assert_true(st_same(&ab, &ba));            /* commutative */
            assert_true(st_same(&aa, &pool[i]));       /* idempotent */
            got = st_merge(&ab, &pool[k]);
            assert_true(st_same(&got, &ab));           /* absorbs */
            vv_free(ab.p);
            vv_free(ba.p);
            vv_free(aa.p);
            vv_free(got.p);
        }
        for (i = 0; i < n; i++) vv_free(pool[i].p);
    }
}

/* Corrupt, truncated, foreign or unknown-format states are refused,
 * whichever side they are on, and nothing comes out. */
static void test_merge_refuses(void **st)
{
    vv_db *a = tu_open("a", NULL), *b = tu_open("b", NULL);
    st_bytes s, x, o;
    unsigned char *c;
    const void *key;
    size_t klen, i;
    unsigned seed = 7;
    (void)st;
    tu_put(a, "ks", "k", "one", NULL);
    tu_put(b, "ks", "k", "two", NULL);
    tu_put(b, "ks", "x", "three", NULL);
    assert_int_equal(vv_export(a, "ks", "k", 1, &s.p, &s.n), VV_OK);
    assert_int_equal(vv_export(b, "ks", "x", 1, &x.p, &x.n), VV_OK);
    assert_int_equal(vv_state_check(s.p, s.n, &key, &klen), VV_OK);
    assert_int_equal(klen, 1);
    assert_memory_equal(key, "k", 1);
    /* another key */
    o.p = (void *)1;
    assert_int_equal(vv_state_merge(s.p, s.n, x.p, x.n, &o.p, &o.n),
                     VV_EFOREIGN);
    assert_null(o.p);
    assert_int_equal(o.n, 0);
    /* every truncation, on either side */
    for (i = 0; i < s.n; i++) {
        assert_int_equal(vv_state_merge(s.p, i, s.p, s.n, &o.p, &o.n),
                         VV_ECORRUPT);
        assert_int_equal(vv_state_merge(s.p, s.n, s.p, i, &o.p, &o.n),
                         VV_ECORRUPT);
        assert_int_not_equal(vv_state_check(s.p, i, NULL, NULL), VV_OK);
    }
    assert_int_equal(vv_state_merge(NULL, 0, s.p, s.n, &o.p, &o.n),
                     VV_ECORRUPT);
    /* every flipped byte: the checksum catches it */
    c = malloc(s.n);
    assert_non_null(c);
    for (i = 0; i < s.n; i++) {
        memcpy(c, s.p, s.n);
        c[i] ^= 0x5a;
        assert_int_not_equal(vv_state_merge(c, s.n, s.p, s.n, &o.p, &o.n),
                             VV_OK);
        assert_null(o.p);
    }
    /* random bodies with a valid header and checksum: refused or merged,
     * never a crash; what merges passes the check again */
    for (i = 0; i < 3000; i++) {
        size_t j, len = 4 + 8 + (size_t)rand_r(&seed) % 40;
        unsigned char *p = malloc(len);
        assert_non_null(p);
        memcpy(p, "VVS\1", 4);
        for (j = 4; j < len - 8; j++) p[j] = (unsigned char)rand_r(&seed);
        if (len > 5 && i % 2) p[4] = 1, p[5] = 'k';  /* key "k" */
        vvi_sum_set(p, len);
        if (vv_state_merge(p, len, p, len, &o.p, &o.n) == VV_OK) {
            assert_int_equal(vv_state_check(o.p, o.n, NULL, NULL), VV_OK);
            vv_free(o.p);
        }
        free(p);
    }
    /* an unknown format */
    memcpy(c, s.p, s.n);
    c[3] = 9;
    vvi_sum_set(c, s.n);
    assert_int_equal(vv_state_merge(s.p, s.n, c, s.n, &o.p, &o.n),
                     VV_EVERSION);
    assert_int_equal(vv_state_check(c, s.n, NULL, NULL), VV_EVERSION);
    assert_int_equal(vv_state_merge(s.p, s.n, s.p, s.n, NULL, &o.n),
                     VV_EINVAL);
    free(c);
    vv_free(s.p);
    vv_free(x.p);
    vv_db_close(a);
    vv_db_close(b);
}

/* ---- vv_state_put ---------------------------------------------------- */

/* Copy every file of directory from into directory to (a closed store:
 * the copy is the same replica, same actor, same counter). */
/* vv_state_key (vv_bind.h): the key of a checked state, NULL outputs
 * allowed; a state too short to name its key is refused. */
static void test_state_key(void **st)
{
    vv_db *a = tu_open("a", NULL);
    st_bytes s;
    const void *key = NULL;
    size_t klen = 0;
    (void)st;
    tu_put(a, "ks", "a key", "one", NULL);
    assert_int_equal(vv_export(a, "ks", "a key", 5, &s.p, &s.n), VV_OK);
    assert_int_equal(vv_state_key(s.p, s.n, &key, &klen), VV_OK);
    assert_int_equal(klen, 5);
    assert_memory_equal(key, "a key", 5);
    assert_int_equal(vv_state_key(s.p, s.n, NULL, NULL), VV_OK);
    key = s.p;
    assert_int_equal(vv_state_key(s.p, 11, &key, &klen), VV_ECORRUPT);
    assert_null(key);
    assert_int_equal(klen, 0);
    assert_int_equal(vv_state_key(NULL, 0, &key, NULL), VV_ECORRUPT);
    /* the key's length runs past the end */
    assert_int_equal(vv_state_key(s.p, 4 + 1 + 2 + 8, &key, &klen),
                     VV_ECORRUPT);
    vv_free(s.p);
    vv_db_close(a);
}

/* What vv_state_inspect's functions saw. */
typedef struct st_seen {
    vv_dot dots[4];
    vv_version vers[4];
    int ndots, nvers;
    int stop_at;                 /* calls before a non-zero return (0: none) */
} st_seen;

static int st_seen_dot(void *ud, const vv_dot *d)
{
    st_seen *s = ud;
    assert_true(s->ndots < 4);
    s->dots[s->ndots++] = *d;
    return s->stop_at && s->ndots + s->nvers == s->stop_at ? 7 : 0;
}

static int st_seen_ver(void *ud, const vv_version *v)
{
    st_seen *s = ud;
    assert_true(s->nvers < 4);
    s->vers[s->nvers++] = *v;
    return s->stop_at && s->ndots + s->nvers == s->stop_at ? 7 : 0;
}

/* vv_state_inspect: the context, then the versions (live and tombstone)
 * in name order; a non-zero return stops; a corrupt state gets no call. */
static void test_state_inspect(void **st)
{
    uint64_t ta = 1000, tb = 2000;
    vv_db *a = tu_open("a", &ta), *b = tu_open("bb", &tb);
    st_bytes s, x;
    st_seen seen;
    unsigned char *c;
    (void)st;
    tu_put(a, "ks", "k", "one", NULL);
    tu_put(b, "ks", "k", "two", NULL);
    tu_del(b, "ks", "k");                  /* b: a tombstone at counter 2 */
    assert_int_equal(vv_export(a, "ks", "k", 1, &x.p, &x.n), VV_OK);
    assert_int_equal(vv_merge(b, "ks", "k", 1, x.p, x.n), VV_OK);
    assert_int_equal(vv_export(b, "ks", "k", 1, &s.p, &s.n), VV_OK);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(vv_state_inspect(s.p, s.n, st_seen_dot, st_seen_ver,
                                      &seen), VV_OK);
    assert_int_equal(seen.ndots, 2);
    assert_int_equal(seen.nvers, 2);
    assert_int_equal(seen.dots[0].actor_len, strlen(vv_db_actor(a)));
    assert_memory_equal(seen.dots[0].actor, vv_db_actor(a),
                        seen.dots[0].actor_len);
    assert_int_equal(seen.dots[0].node_len, 1);
    assert_int_equal(seen.dots[0].counter, 1);
    assert_memory_equal(seen.dots[1].actor, vv_db_actor(b),
                        strlen(vv_db_actor(b)));
    assert_int_equal(seen.dots[1].node_len, 2);
    assert_int_equal(seen.dots[1].counter, 2);
    assert_memory_equal(seen.vers[0].dot.actor, vv_db_actor(a),
                        strlen(vv_db_actor(a)));
    assert_int_equal(seen.vers[0].dot.counter, 1);
    assert_int_equal(seen.vers[0].timestamp, 1000);
    assert_int_equal(seen.vers[0].tombstone, 0);
    assert_int_equal(seen.vers[0].len, 3);
    assert_memory_equal(seen.vers[0].value, "one", 3);
    assert_int_equal(seen.vers[1].dot.counter, 2);
    assert_int_equal(seen.vers[1].dot.node_len, 2);
    assert_true(seen.vers[1].timestamp >= 2000);
    assert_int_equal(seen.vers[1].tombstone, 1);
    assert_int_equal(seen.vers[1].len, 0);
    /* either function may be left out */
    memset(&seen, 0, sizeof seen);
    assert_int_equal(vv_state_inspect(s.p, s.n, NULL, st_seen_ver, &seen),
                     VV_OK);
    assert_int_equal(seen.ndots, 0);
    assert_int_equal(seen.nvers, 2);
    /* a non-zero return stops the walk and comes back */
    memset(&seen, 0, sizeof seen);
    seen.stop_at = 3;
    assert_int_equal(vv_state_inspect(s.p, s.n, st_seen_dot, st_seen_ver,
                                      &seen), 7);
    assert_int_equal(seen.ndots + seen.nvers, 3);
    /* a corrupt or truncated state: refused before any call */
    c = malloc(s.n);
    assert_non_null(c);
    memcpy(c, s.p, s.n);
    c[s.n / 2] ^= 0x20;
    memset(&seen, 0, sizeof seen);
    assert_int_equal(vv_state_inspect(c, s.n, st_seen_dot, st_seen_ver,
                                      &seen), VV_ECORRUPT);
    assert_int_equal(vv_state_inspect(s.p, s.n - 1, st_seen_dot,
                                      st_seen_ver, &seen), VV_ECORRUPT);
    assert_int_equal(seen.ndots + seen.nvers, 0);
    free(c);
    vv_free(s.p);
    vv_free(x.p);
    vv_db_close(a);
    vv_db_close(b);
}

static void st_clone_dir(const char *from, const char *to)
{
    DIR *d = opendir(from);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char a[4096], b[4096];
        unsigned char *p;
        size_t n = 0;
        if (e->d_name[0] == '.') continue;
        p = lu_slurp(lu_join(a, sizeof a, from, e->d_name), &n);
        assert_non_null(p);
        assert_int_equal(lu_spit(lu_join(b, sizeof b, to, e->d_name), p, n),
                         0);
        free(p);
    }
    closedir(d);
}

/* Two handles on one replica identity: durable stores in two directories
 * holding the same files, both with the clock *now and keyspace "ks"
 * limited to 5 siblings; db[1] made to write as db[0]'s actor (each
 * handle takes a fresh actor of its own otherwise). */
static void st_twins(char *dirs[2], vv_db *db[2], uint64_t *now)
{
    vv_ks_config cfg;
    vv_db *t;
    dirs[0] = lu_tmpdir("state");
    dirs[1] = lu_tmpdir("state");
    assert_non_null(dirs[0]);
    assert_non_null(dirs[1]);
    t = tu_open_dir("me", dirs[0], now);
    memset(&cfg, 0, sizeof cfg);
    cfg.warn_siblings = 1000;
    cfg.max_siblings = 5;
    assert_int_equal(vv_keyspace(t, "ks", &cfg), VV_OK);
    vv_db_close(t);
    st_clone_dir(dirs[0], dirs[1]);
    db[0] = tu_open_dir("me", dirs[0], now);
    db[1] = tu_open_dir("me", dirs[1], now);
    assert_string_not_equal(vv_db_actor(db[0]), vv_db_actor(db[1]));
    assert_int_equal(vvi_db_twin(db[1], db[0]), VV_OK);
    assert_string_equal(vv_db_actor(db[0]), vv_db_actor(db[1]));
}

static void st_twins_close(char *dirs[2], vv_db *db[2])
{
    int i;
    for (i = 0; i < 2; i++) {
        vv_db_close(db[i]);
        lu_rmrf(dirs[i]);
        free(dirs[i]);
    }
}

/* Do the two reads show the same siblings, in the same order, the same
 * context and the same value? */
static void st_same_read(const vv_read *x, const vv_read *y)
{
    size_t i;
    const void *vx, *vy;
    size_t nx, ny;
    int rx, ry;
    assert_int_equal(vv_read_count(x), vv_read_count(y));
    for (i = 0; i < vv_read_count(x); i++) {
        const vv_sibling *a = vv_read_sibling(x, i), *b = vv_read_sibling(y, i);
        assert_int_equal(a->len, b->len);
        assert_memory_equal(a->value, b->value, a->len);
        assert_int_equal(a->actor_len, b->actor_len);
        assert_memory_equal(a->actor, b->actor, a->actor_len);
        assert_int_equal(a->node_len, b->node_len);
        assert_int_equal(a->counter, b->counter);
        assert_int_equal(a->timestamp, b->timestamp);
    }
    assert_int_equal(vv_clock_compare(vv_read_context(x), vv_read_context(y)),
                     VV_EQUAL);
    rx = vv_read_value(x, &vx, &nx);
    ry = vv_read_value(y, &vy, &ny);
    assert_int_equal(rx, ry);
    if (rx == VV_OK) {
        assert_int_equal(nx, ny);
        assert_memory_equal(vx, vy, nx);
    }
}

/* A write onto a detached state gives what the same write gives on a
 * store holding that state: same result code, same bytes, same context;
 * and reading the detached state gives what vv_get gives.  Twin stores
 * (one replica identity, two directories) take the same writes: db[0]
 * on its stored key, db[1] on the state kept aside; other replicas write
 * too and their states reach both. */
static void test_put_matches_store(void **st)
{
    unsigned seed;
    int limits = 0;
    (void)st;
    for (seed = 1; seed <= 8; seed++) {
        char *dirs[2];
        vv_db *db[2], *other[2];
        uint64_t now = 5000;
        st_bytes cur = { NULL, 0 };
        vv_clock *held[4] = { NULL, NULL, NULL, NULL };
        unsigned s = seed;
        int i, wno = 0;
        st_twins(dirs, db, &now);
        tu_open_n(other, 2, &now);
        for (i = 0; i < 300; i++) {
            int op = rand_r(&s) % 10;
            now += (uint64_t)(rand_r(&s) % 3);
            if (op < 3) {                        /* another replica writes */
                st_random_write(other[rand_r(&s) % 2], &s, &wno);
            } else if (op < 5) {                 /* its state arrives */
                vv_db *o = other[rand_r(&s) % 2];
                st_bytes x;
                if (vv_export(o, "ks", "k", 1, &x.p, &x.n) != VV_OK) continue;
                assert_int_equal(vv_merge(db[0], "ks", "k", 1, x.p, x.n),
                                 VV_OK);
                if (cur.p) {
                    st_bytes m = st_merge(&cur, &x);
                    vv_free(cur.p);
                    vv_free(x.p);
                    cur = m;
                } else cur = x;
                /* the others hear from us too, now and then */
                tu_copy(db[0], other[rand_r(&s) % 2], "ks", "k");
            } else if (op < 6) {                 /* a client reads at us */
                vv_read *r = NULL;
                int h = rand_r(&s) % 4;
                if (vv_get(db[0], "ks", "k", 1, &r) != VV_OK) continue;
                vv_clock_free(held[h]);
                held[h] = vv_read_take_context(r);
                vv_read_free(r);
            } else {                             /* a write at us */
                const vv_clock *ctx = NULL;
                vv_clock *c0 = NULL, *c1 = NULL;
                st_bytes want = { NULL, 0 }, got = { NULL, 0 };
                int tomb = rand_r(&s) % 5 == 0, rc0, rc1, h = rand_r(&s) % 5;
                char val[32];
                vv_read *r0 = NULL, *r1 = NULL;
                if (h < 4) ctx = held[h];       /* maybe stale, maybe none */
                snprintf(val, sizeof val, "w%d", wno++);
                rc0 = tomb ? vv_delete(db[0], "ks", "k", 1, ctx, &c0)
                    : vv_put(db[0], "ks", "k", 1, val, strlen(val), ctx, &c0);
                rc1 = vv_state_put(db[1], "ks", "k", 1, cur.p, cur.n, val,
                                   strlen(val), tomb, ctx, &got.p, &got.n,
                                   &c1);
                assert_int_equal(rc0, rc1);
                if (rc0 == VV_ELIMIT) {
                    limits++;
                    assert_null(got.p);
                    assert_null(c1);
                    assert_string_equal(vv_errmsg(db[0]), vv_errmsg(db[1]));
                    continue;
                }
                assert_int_equal(rc0, VV_OK);
                assert_int_equal(vv_export(db[0], "ks", "k", 1, &want.p,
                                           &want.n), VV_OK);
                assert_true(st_same(&got, &want));
                assert_int_equal(vv_clock_compare(c0, c1), VV_EQUAL);
                vv_free(cur.p);
                cur = got;
                vv_free(want.p);
                vv_clock_free(c0);
                vv_clock_free(c1);
                /* the same read, stored or detached */
                rc0 = vv_get(db[0], "ks", "k", 1, &r0);
                rc1 = vv_state_get(db[1], "ks", cur.p, cur.n, &r1);
                assert_int_equal(rc0, rc1);
                if (rc0 == VV_OK) st_same_read(r0, r1);
                else {
                    assert_int_equal(rc0, VV_ENOTFOUND);
                    assert_null(r1);
                }
                vv_read_free(r0);
                vv_read_free(r1);
            }
        }
        for (i = 0; i < 4; i++) vv_clock_free(held[i]);
        vv_free(cur.p);
        tu_close_n(other, 2);
        st_twins_close(dirs, db);
    }
    assert_true(limits > 0);                     /* max_siblings was hit */
}

/* Bad writes onto detached states are refused with the store's checks;
 * a refused write gives out no dot. */
static void test_put_refuses(void **st)
{
    char *dirs[2];
    vv_db *db[2], *o = tu_open("o", NULL);
    uint64_t now = 100;
    st_bytes s, mine, got;
    vv_clock *c, *ahead;
    char text[300];
    int i;
    (void)st;
    st_twins(dirs, db, &now);
    tu_put(o, "ks", "k", "theirs", NULL);
    assert_int_equal(vv_export(o, "ks", "k", 1, &s.p, &s.n), VV_OK);
    /* a state of another key */
    got.p = (void *)1;
    assert_int_equal(vv_state_put(db[1], "ks", "x", 1, s.p, s.n, "v", 1, 0,
                                  NULL, &got.p, &got.n, NULL), VV_EFOREIGN);
    assert_null(got.p);
    assert_non_null(strstr(vv_errmsg(db[1]), "another key"));
    /* truncated */
    assert_int_equal(vv_state_put(db[1], "ks", "k", 1, s.p, s.n - 1, "v", 1,
                                  0, NULL, &got.p, &got.n, NULL),
                     VV_ECORRUPT);
    assert_non_null(strstr(vv_errmsg(db[1]), "corrupt"));
    /* a context claiming our dots that we never gave out */
    snprintf(text, sizeof text, "{%s:3}", vv_db_actor(db[1]));
    ahead = tu_clock(text);
    assert_int_equal(vv_state_put(db[1], "ks", "k", 1, NULL, 0, "v", 1, 0,
                                  ahead, &got.p, &got.n, NULL), VV_EINVAL);
    vv_clock_free(ahead);
    /* a state claiming our dots that we never gave out: db[0] (same
     * actor) writes three times; db[1] has given out none */
    for (i = 0; i < 3; i++) tu_put(db[0], "ks", "k", "x", NULL);
    assert_int_equal(vv_export(db[0], "ks", "k", 1, &mine.p, &mine.n), VV_OK);
    assert_int_equal(vv_state_put(db[1], "ks", "k", 1, mine.p, mine.n, "v",
                                  1, 0, NULL, &got.p, &got.n, NULL),
                     VV_ECORRUPT);
    assert_non_null(strstr(vv_errmsg(db[1]), "never gave out"));
    /* none of that used a dot: the first write is counter 1 */
    assert_int_equal(vv_state_put(db[1], "ks", "k", 1, s.p, s.n, "v", 1, 0,
                                  NULL, &got.p, &got.n, &c), VV_OK);
    assert_int_equal(vv_clock_get(c, vv_db_actor(db[1]),
                                  strlen(vv_db_actor(db[1]))), 1);
    assert_int_equal(vv_clock_get(c, vv_db_actor(o), strlen(vv_db_actor(o))),
                     1);
    vv_clock_free(c);
    vv_free(got.p);
    /* misuse */
    assert_int_equal(vv_state_put(NULL, "ks", "k", 1, NULL, 0, "v", 1, 0,
                                  NULL, &got.p, &got.n, NULL), VV_EINVAL);
    assert_int_equal(vv_state_put(db[1], "ks", "k", 1, NULL, 0, "v", 1, 0,
                                  NULL, NULL, &got.n, NULL), VV_EINVAL);
    assert_int_equal(vv_state_put(db[1], "", "k", 1, NULL, 0, "v", 1, 0,
                                  NULL, &got.p, &got.n, NULL), VV_EINVAL);
    assert_int_equal(vv_state_put(db[1], "ks", NULL, 1, NULL, 0, "v", 1, 0,
                                  NULL, &got.p, &got.n, NULL), VV_EINVAL);
    assert_int_equal(vv_state_put(db[1], "ks", "k", 1, NULL, 0, NULL, 3, 0,
                                  NULL, &got.p, &got.n, NULL), VV_EINVAL);
    /* a reopened handle writes as a new actor: no dot is given twice */
    snprintf(text, sizeof text, "%s", vv_db_actor(db[1]));
    vv_db_close(db[1]);
    db[1] = tu_open_dir("me", dirs[1], &now);
    assert_string_not_equal(vv_db_actor(db[1]), text);
    assert_int_equal(vv_state_put(db[1], "ks", "k", 1, NULL, 0, "v", 1, 0,
                                  NULL, &got.p, &got.n, &c), VV_OK);
    assert_int_equal(vv_clock_get(c, vv_db_actor(db[1]),
                                  strlen(vv_db_actor(db[1]))), 1);
    assert_int_equal(vv_clock_get(c, text, strlen(text)), 0);
    vv_clock_free(c);
    vv_free(got.p);
    vv_free(s.p);
    vv_free(mine.p);
    vv_db_close(o);
    st_twins_close(dirs, db);
}

/* Timestamps of detached writes never go backwards, and follow a state
 * whose versions are ahead of the wall clock (within 5 minutes). */
static void test_put_timestamps(void **st)
{
    uint64_t now = 1000000, later = 1000000 + 60000;
    vv_db *me = tu_open("me", &now), *fast = tu_open("fast", &later);
    st_bytes s, a, b;
    vv_read *r = NULL;
    (void)st;
    tu_put(fast, "ks", "k", "ahead", NULL);
    assert_int_equal(vv_export(fast, "ks", "k", 1, &s.p, &s.n), VV_OK);
    assert_int_equal(vv_state_put(me, "ks", "k", 1, s.p, s.n, "mine", 4, 0,
                                  NULL, &a.p, &a.n, NULL), VV_OK);
    now -= 500;                                  /* the wall clock steps back */
    assert_int_equal(vv_state_put(me, "ks", "k", 1, NULL, 0, "next", 4, 0,
                                  NULL, &b.p, &b.n, NULL), VV_OK);
    assert_int_equal(vv_state_get(me, "ks", a.p, a.n, &r), VV_OK);
    assert_int_equal(vv_read_count(r), 2);
    assert_int_equal(vv_read_sibling(r, 1)->timestamp, later); /* "me" */
    assert_int_equal(vv_state_get(me, "ks", b.p, b.n, &r), VV_OK); /* reuse */
    assert_int_equal(vv_read_count(r), 1);
    assert_int_equal(vv_read_sibling(r, 0)->timestamp, later);
    vv_read_free(r);
    vv_free(s.p);
    vv_free(a.p);
    vv_free(b.p);
    vv_db_close(me);
    vv_db_close(fast);
}

/* ---- vv_state_get ------------------------------------------------------ */

/* A resolver that joins sibling values with '+'. */
static int st_join(void *ud, const char *ks, const void *key, size_t klen,
                   const vv_sibling *sibs, size_t n, void **out,
                   size_t *out_len, char **err)
{
    size_t i, len = 0;
    char *p;
    (void)ud; (void)ks; (void)key; (void)klen; (void)err;
    for (i = 0; i < n; i++) len += sibs[i].len + 1;
    if (!(p = malloc(len))) return VV_ENOMEM;
    len = 0;
    for (i = 0; i < n; i++) {
        if (i) p[len++] = '+';
        memcpy(p + len, sibs[i].value, sibs[i].len);
        len += sibs[i].len;
    }
    *out = p;
    *out_len = len;
    return VV_OK;
}

/* Reads of detached states go through the keyspace's resolver (lww,
 * custom, none for an unknown keyspace); only tombstones read as not
 * found; writeback stores nothing. */
static void test_get_resolvers(void **st)
{
    uint64_t t0 = 10, t1 = 20;
    vv_db *a = tu_open("a", &t0), *b = tu_open("b", &t1), *me = tu_open("me", NULL);
    vv_ks_config cfg;
    st_bytes sa, sb, m, d;
    vv_read *r = NULL;
    const void *v;
    size_t n;
    (void)st;
    memset(&cfg, 0, sizeof cfg);
    cfg.resolver = VV_RESOLVE_LWW;
    assert_int_equal(vv_keyspace(me, "l", &cfg), VV_OK);
    cfg.resolver = VV_RESOLVE_CUSTOM;
    cfg.resolve = st_join;
    cfg.writeback = 1;
    assert_int_equal(vv_keyspace(me, "j", &cfg), VV_OK);
    tu_put(a, "ks", "k", "early", NULL);
    tu_put(b, "ks", "k", "late", NULL);
    assert_int_equal(vv_export(a, "ks", "k", 1, &sa.p, &sa.n), VV_OK);
    assert_int_equal(vv_export(b, "ks", "k", 1, &sb.p, &sb.n), VV_OK);
    m = st_merge(&sa, &sb);
    assert_int_equal(vv_state_get(me, "l", m.p, m.n, &r), VV_OK);
    assert_int_equal(vv_read_value(r, &v, &n), VV_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(v, "late", 4);
    vv_read_free(r);
    r = NULL;
    assert_int_equal(vv_state_get(me, "j", m.p, m.n, &r), VV_OK);
    assert_int_equal(vv_read_value(r, &v, &n), VV_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(v, "early+late", 10);
    vv_read_free(r);
    r = NULL;
    assert_int_equal(tu_nkeys(me, "j"), 0);      /* no writeback */
    assert_int_equal(vv_state_get(me, "none", m.p, m.n, &r), VV_OK);
    assert_int_equal(vv_read_count(r), 2);
    assert_int_equal(vv_read_value(r, &v, &n), VV_ENOTFOUND);
    assert_int_equal(vv_keyspace_config(me, "none", &cfg), VV_ENOTFOUND);
    /* only tombstones: not found, the reused read left empty */
    assert_int_equal(vv_delete(a, "ks", "k", 1, NULL, NULL), VV_OK);
    vv_read_free(r);
    r = NULL;
    assert_int_equal(vv_get(a, "ks", "k", 1, &r), VV_OK);
    assert_int_equal(vv_delete(a, "ks", "k", 1, vv_read_context(r), NULL),
                     VV_OK);
    assert_int_equal(vv_export(a, "ks", "k", 1, &d.p, &d.n), VV_OK);
    assert_int_equal(vv_state_get(me, "l", d.p, d.n, &r), VV_ENOTFOUND);
    assert_non_null(r);
    assert_int_equal(vv_read_count(r), 0);
    vv_read_free(r);
    r = NULL;
    assert_int_equal(vv_state_get(me, "l", d.p, d.n, &r), VV_ENOTFOUND);
    assert_null(r);
    /* bad states */
    assert_int_equal(vv_state_get(me, "l", d.p, d.n - 2, &r), VV_ECORRUPT);
    assert_null(r);
    assert_int_equal(vv_state_get(me, "l", NULL, 0, &r), VV_ECORRUPT);
    assert_int_equal(vv_state_get(NULL, "l", m.p, m.n, &r), VV_EINVAL);
    assert_int_equal(vv_state_get(me, "l", m.p, m.n, NULL), VV_EINVAL);
    vv_free(sa.p);
    vv_free(sb.p);
    vv_free(m.p);
    vv_free(d.p);
    vv_db_close(a);
    vv_db_close(b);
    vv_db_close(me);
}

/* Allocation failures inside the detached calls fail cleanly (no leak,
 * no crash under ASan) and give out no dot. */
static void test_alloc_failures(void **st)
{
    vv_db *a = tu_open("a", NULL), *b = tu_open("b", NULL);
    st_bytes sa, sb, o;
    int i, ok = 0;
    (void)st;
    tu_put(a, "ks", "k", "one", NULL);
    tu_put(b, "ks", "k", "two", NULL);
    assert_int_equal(vv_export(a, "ks", "k", 1, &sa.p, &sa.n), VV_OK);
    assert_int_equal(vv_export(b, "ks", "k", 1, &sb.p, &sb.n), VV_OK);
    for (i = 1; i < 60; i++) {
        vv_read *r = NULL;
        vv_clock *c = NULL;
        int rc;
        vvi_fail_alloc_after(i);
        rc = vv_state_merge(sa.p, sa.n, sb.p, sb.n, &o.p, &o.n);
        vvi_fail_alloc_after(0);
        if (rc == VV_OK) { ok++; vv_free(o.p); }
        else assert_int_equal(rc, VV_ENOMEM);
        vvi_fail_alloc_after(i);
        rc = vv_state_put(a, "ks", "k", 1, sb.p, sb.n, "v", 1, 0, NULL, &o.p,
                          &o.n, &c);
        vvi_fail_alloc_after(0);
        if (rc == VV_OK) { vv_free(o.p); vv_clock_free(c); }
        else { assert_int_equal(rc, VV_ENOMEM); assert_null(c); }
        vvi_fail_alloc_after(i);
        rc = vv_state_get(a, "ks", sb.p, sb.n, &r);
        vvi_fail_alloc_after(0);
        if (rc == VV_OK) vv_read_free(r);
        else { assert_int_equal(rc, VV_ENOMEM); assert_null(r); }
    }
    assert_true(ok > 0);
    vv_free(sa.p);
    vv_free(sb.p);
    vv_db_close(a);
    vv_db_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_equals_store),
        cmocka_unit_test(test_merge_refuses),
        cmocka_unit_test(test_state_key),
        cmocka_unit_test(test_state_inspect),
        cmocka_unit_test(test_put_matches_store),
        cmocka_unit_test(test_put_refuses),
        cmocka_unit_test(test_put_timestamps),
        cmocka_unit_test(test_get_resolvers),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
