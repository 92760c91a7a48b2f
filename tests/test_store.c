/* test_store.c - sibling sets, contexts, deletes, export/merge, the seeds. */
#include <unistd.h>
#include "testutil.h"
#include "vv_int.h"
#include "plainvv.h"

static void test_open_errors(void **st)
{
    vv_options o;
    vv_db *db = (vv_db *)1;
    char *err = NULL;
    (void)st;
    memset(&o, 0, sizeof o);
    assert_int_equal(vv_db_open(&o, &db, &err), VV_EINVAL);
    assert_null(db);
    assert_non_null(err);
    assert_non_null(strstr(err, "node"));
    vv_free(err);
    assert_int_equal(vv_db_open(NULL, &db, NULL), VV_EINVAL);
    vv_db_close(NULL);
}

static void test_actor_incarnation(void **st)
{
    vv_db *a = tu_open("s0", NULL), *b = tu_open("s0", NULL);
    (void)st;
    assert_string_equal(vv_db_node(a), "s0");
    assert_int_equal(strlen(vv_db_actor(a)), 2 + 1 + 8);
    assert_memory_equal(vv_db_actor(a), "s0.", 3);
    /* two lives of the same node never share an actor */
    assert_string_not_equal(vv_db_actor(a), vv_db_actor(b));
    vv_db_close(a);
    vv_db_close(b);
}

static void test_put_get_single(void **st)
{
    uint64_t now = 1000;
    vv_db *db = tu_open("s0", &now);
    vv_read *r;
    const void *v;
    size_t n;
    vv_clock *ctx;
    (void)st;
    assert_int_equal(vv_get(db, "ks", "k", 1, &r), VV_ENOTFOUND);
    assert_null(r);
    assert_int_equal(vv_put(db, "ks", "k", 1, "hello", 5, NULL, &ctx), VV_OK);
    assert_int_equal(vv_clock_size(ctx), 1);
    assert_int_equal(vv_get(db, "ks", "k", 1, &r), VV_OK);
    assert_int_equal(vv_read_count(r), 1);
    assert_int_equal(vv_read_value(r, &v, &n), VV_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(v, "hello", 5);
    assert_int_equal(vv_read_sibling(r, 0)->timestamp, 1000);
    assert_int_equal(vv_read_sibling(r, 0)->counter, 1);
    assert_int_equal(vv_read_sibling(r, 0)->node_len, 2);
    assert_int_equal(vv_clock_compare(vv_read_context(r), ctx), VV_EQUAL);
    assert_null(vv_read_error(r));
    vv_read_free(r);
    vv_clock_free(ctx);
    vv_db_close(db);
}

/* Seed: "newer replaces older" -- a write with the read's context. */
/* vv_get_reuse: one read serves many keys of different sizes, a miss
 * empties it, and what it shows is always the key just read. */
static void test_get_reuse(void **st)
{
    uint64_t now = 1000;
    vv_db *db = tu_open("s0", &now), *s1 = tu_open("s1", &now);
    vv_read *r = NULL, *first;
    const void *v;
    size_t n;
    char big[3000];
    vv_clock *c;
    (void)st;
    memset(big, 'b', sizeof big);
    tu_put(db, "ks", "small", "x", NULL);
    assert_int_equal(vv_put(db, "ks", "big", 3, big, sizeof big, NULL, NULL),
                     VV_OK);
    assert_int_equal(vv_put(s1, "ks", "small", 5, "y", 1, NULL, NULL), VV_OK);
    assert_int_equal(tu_copy(s1, db, "ks", "small"), 1);
    assert_int_equal(vv_get_reuse(db, "ks", "big", 3, &r), VV_OK);
    first = r;
    assert_int_equal(vv_read_value(r, &v, &n), VV_OK);
    assert_int_equal(n, sizeof big);
    assert_memory_equal(v, big, sizeof big);
    assert_int_equal(vv_get_reuse(db, "ks", "small", 5, &r), VV_OK);
    assert_ptr_equal(r, first);                 /* the same read */
    assert_int_equal(vv_read_count(r), 2);
    assert_int_equal(vv_read_value(r, &v, &n), VV_ENOTFOUND);
    assert_int_equal(vv_read_sibling(r, 0)->len, 1);
    assert_memory_equal(vv_read_sibling(r, 0)->value, "x", 1);
    assert_memory_equal(vv_read_sibling(r, 1)->value, "y", 1);
    assert_int_equal(vv_clock_size(vv_read_context(r)), 2);
    assert_int_equal(vv_get_reuse(db, "ks", "none", 4, &r), VV_ENOTFOUND);
    assert_ptr_equal(r, first);
    assert_int_equal(vv_read_count(r), 0);
    assert_null(vv_read_sibling(r, 0));
    assert_int_equal(vv_read_value(r, &v, &n), VV_ENOTFOUND);
    assert_int_equal(vv_get_reuse(db, "ks", "big", 3, &r), VV_OK);
    assert_int_equal(vv_read_count(r), 1);
    c = vv_read_take_context(r);                /* the caller owns it */
    assert_int_equal(vv_clock_size(c), 1);
    assert_int_equal(vv_get_reuse(db, "ks", "small", 5, &r), VV_OK);
    assert_int_equal(vv_clock_size(c), 1);
    vv_clock_free(c);
    vv_read_free(r);
    r = NULL;                                   /* NULL: a new read */
    assert_int_equal(vv_get_reuse(db, "ks", "none", 4, &r), VV_ENOTFOUND);
    assert_null(r);
    assert_int_equal(vv_get_reuse(NULL, "ks", "k", 1, &r), VV_EINVAL);
    vv_db_close(db);
    vv_db_close(s1);
}

static void test_newer_replaces_older(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_clock *ctx;
    (void)st;
    tu_put(db, "ks", "key1", "10", NULL);
    ctx = tu_context(db, "ks", "key1");
    assert_string_equal(tu_sibs(db, "ks", "key1"), "10");
    tu_put(db, "ks", "key1", "20", ctx);
    assert_string_equal(tu_sibs(db, "ks", "key1"), "20");
    vv_clock_free(ctx);
    vv_db_close(db);
}

/* Seed: concurrent versions are both kept. */
static void test_concurrent_kept(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_read *r;
    const void *v;
    size_t n;
    (void)st;
    tu_put(db, "ks", "key1", "10", NULL);
    tu_put(db, "ks", "key1", "20", NULL);
    assert_string_equal(tu_sibs(db, "ks", "key1"), "10|20");
    assert_int_equal(vv_get(db, "ks", "key1", 4, &r), VV_OK);
    assert_int_equal(vv_read_value(r, &v, &n), VV_ENOTFOUND);  /* siblings */
    vv_read_free(r);
    vv_db_close(db);
}

/* Seed: the single-replica eggs/milk/bacon story. */
static void test_eggs_milk_bacon(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_clock *v1;
    (void)st;
    tu_put(db, "ks", "list", "[eggs]", NULL);             /* version 1 */
    v1 = tu_context(db, "ks", "list");
    tu_put(db, "ks", "list", "[milk]", NULL);             /* version 2 */
    assert_string_equal(tu_sibs(db, "ks", "list"), "[eggs]|[milk]");
    tu_put(db, "ks", "list", "[eggs, bacon]", v1);        /* based on v1 */
    /* v3 = [eggs, bacon] and [milk]: milk was not seen, so it stays */
    {
        const char *s = tu_sibs(db, "ks", "list");
        assert_true(strcmp(s, "[milk]|[eggs, bacon]") == 0 ||
                    strcmp(s, "[eggs, bacon]|[milk]") == 0);
        assert_null(strstr(s, "[eggs]|"));
    }
    vv_clock_free(v1);
    vv_db_close(db);
}

/* Seed: three replicas, two clients, conflict detected and resolved. */
static void test_three_replicas(void **st)
{
    vv_db *s0 = tu_open("s0", NULL), *s1 = tu_open("s1", NULL);
    vv_db *s2 = tu_open("s2", NULL);
    vv_clock *ctx;
    char a[64], b[64], c[64];
    (void)st;
    tu_put(s0, "ks", "key1", "10", NULL);    /* client A at s0 */
    tu_put(s1, "ks", "key1", "20", NULL);    /* client B at s1 */
    tu_copy(s0, s2, "ks", "key1");           /* s2 hears from s0 */
    assert_string_equal(tu_sibs(s0, "ks", "key1"), "10");
    assert_string_equal(tu_sibs(s1, "ks", "key1"), "20");
    assert_string_equal(tu_sibs(s2, "ks", "key1"), "10");
    tu_copy(s1, s2, "ks", "key1");           /* now s2 sees the conflict */
    strcpy(a, tu_sibs(s2, "ks", "key1"));
    ctx = tu_context(s2, "ks", "key1");
    assert_true(strcmp(a, "10|20") == 0 || strcmp(a, "20|10") == 0);
    tu_put(s2, "ks", "key1", "30", ctx);     /* a client resolves it */
    vv_clock_free(ctx);
    tu_copy(s2, s0, "ks", "key1");
    tu_copy(s2, s1, "ks", "key1");
    strcpy(a, tu_sibs(s0, "ks", "key1"));
    strcpy(b, tu_sibs(s1, "ks", "key1"));
    strcpy(c, tu_sibs(s2, "ks", "key1"));
    assert_string_equal(a, "30");
    assert_string_equal(b, "30");
    assert_string_equal(c, "30");
    vv_db_close(s0); vv_db_close(s1); vv_db_close(s2);
}

static void test_deterministic_order(void **st)
{
    vv_db *a = tu_open("a", NULL), *b = tu_open("b", NULL);
    char x[256];
    (void)st;
    tu_put(a, "ks", "k", "from-a", NULL);
    tu_put(b, "ks", "k", "from-b", NULL);
    tu_put(b, "ks", "k", "from-b2", NULL);
    tu_copy(a, b, "ks", "k");
    tu_copy(b, a, "ks", "k");
    strcpy(x, tu_sibs(a, "ks", "k"));
    assert_string_equal(x, tu_sibs(b, "ks", "k"));
    vv_db_close(a); vv_db_close(b);
}

static void test_delete_tombstone(void **st)
{
    vv_db *a = tu_open("a", NULL), *b = tu_open("b", NULL);
    vv_read *r;
    (void)st;
    tu_put(a, "ks", "k", "v1", NULL);
    tu_copy(a, b, "ks", "k");
    tu_del(a, "ks", "k");
    assert_int_equal(vv_get(a, "ks", "k", 1, &r), VV_ENOTFOUND);
    /* b still has v1; merging either way must not bring it back */
    tu_copy(b, a, "ks", "k");
    assert_int_equal(vv_get(a, "ks", "k", 1, &r), VV_ENOTFOUND);
    tu_copy(a, b, "ks", "k");
    assert_int_equal(vv_get(b, "ks", "k", 1, &r), VV_ENOTFOUND);
    /* a write concurrent with the delete survives it */
    tu_put(b, "ks", "k", "v2", NULL);
    tu_copy(b, a, "ks", "k");
    assert_string_equal(tu_sibs(a, "ks", "k"), "v2");
    {   /* the tombstone still exists in the exported state */
        void *s;
        size_t n;
        assert_int_equal(vv_export(a, "ks", "k", 1, &s, &n), VV_OK);
        vv_free(s);
    }
    vv_db_close(a); vv_db_close(b);
}

static void test_lww(void **st)
{
    uint64_t ta = 5000, tb = 4000;
    vv_db *a = tu_open("a", &ta), *b = tu_open("b", &tb);
    vv_ks_config cfg;
    vv_read *r;
    const void *v;
    size_t n;
    (void)st;
    memset(&cfg, 0, sizeof cfg);
    cfg.resolver = VV_RESOLVE_LWW;
    assert_int_equal(vv_keyspace(a, "ks", &cfg), VV_OK);
    assert_int_equal(vv_keyspace(b, "ks", &cfg), VV_OK);
    tu_put(a, "ks", "k", "older-clock-later", NULL);  /* ts 5000 */
    tu_put(b, "ks", "k", "newer", NULL);              /* ts 4000 */
    tu_copy(b, a, "ks", "k");
    tu_copy(a, b, "ks", "k");
    assert_int_equal(vv_get(a, "ks", "k", 1, &r), VV_OK);
    assert_int_equal(vv_read_count(r), 2);
    assert_int_equal(vv_read_value(r, &v, &n), VV_OK);
    assert_memory_equal(v, "older-clock-later", n);
    vv_read_free(r);
    /* tie on timestamp: same pick on both replicas */
    ta = tb = 9000;
    tu_put(a, "ks", "t", "x", NULL);
    tu_put(b, "ks", "t", "y", NULL);
    tu_copy(a, b, "ks", "t");
    tu_copy(b, a, "ks", "t");
    {
        vv_read *ra, *rb;
        const void *va, *vb;
        size_t na, nb;
        assert_int_equal(vv_get(a, "ks", "t", 1, &ra), VV_OK);
        assert_int_equal(vv_get(b, "ks", "t", 1, &rb), VV_OK);
        assert_int_equal(vv_read_value(ra, &va, &na), VV_OK);
        assert_int_equal(vv_read_value(rb, &vb, &nb), VV_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(va, vb, na);
        vv_read_free(ra); vv_read_free(rb);
    }
    vv_db_close(a); vv_db_close(b);
}

static void test_timestamps_never_backwards(void **st)
{
    uint64_t now = 10000;
    vv_db *db = tu_open("a", &now);
    vv_read *r;
    (void)st;
    tu_put(db, "ks", "k1", "x", NULL);
    now = 500;                                 /* the wall clock jumps back */
    tu_put(db, "ks", "k2", "y", NULL);
    assert_int_equal(vv_get(db, "ks", "k2", 2, &r), VV_OK);
    assert_true(vv_read_sibling(r, 0)->timestamp >= 10000);
    vv_read_free(r);
    vv_db_close(db);
}

/* Two clients alternately writing with the context of their own last
 * write: dots keep the 2 truly concurrent values, plain clocks keep all. */
static void test_sibling_explosion(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_clock *ca = NULL, *cb = NULL;
    plain_key pk;
    uint64_t pa = 0, pb = 0;
    vv_read *r;
    int i;
    size_t maxs = 0;
    (void)st;
    memset(&pk, 0, sizeof pk);
    for (i = 0; i < 100; i++) {
        char v[16];
        vv_clock **c = i % 2 ? &cb : &ca, *next;
        snprintf(v, sizeof v, "%c%d", i % 2 ? 'B' : 'A', i);
        assert_int_equal(vv_put(db, "ks", "cart", 4, v, strlen(v), *c,
                                &next), VV_OK);
        vv_clock_free(*c);
        *c = next;
        if (i % 2) pb = plain_put(&pk, pb, i); else pa = plain_put(&pk, pa, i);
        assert_int_equal(vv_get(db, "ks", "cart", 4, &r), VV_OK);
        if (vv_read_count(r) > maxs) maxs = vv_read_count(r);
        vv_read_free(r);
    }
    assert_true(maxs <= 2);
    assert_true(pk.nsib >= 99);                  /* the explosion */
    vv_clock_free(ca); vv_clock_free(cb);
    vv_db_close(db);
}

static void test_bad_input(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    char big[VV_KEY_MAX + 1];
    vv_clock *future;
    vv_read *r;
    char ctxtext[64];
    (void)st;
    memset(big, 'k', sizeof big);
    assert_int_equal(vv_put(db, "ks", big, sizeof big, "v", 1, NULL, NULL),
                     VV_EINVAL);
    assert_non_null(strstr(vv_errmsg(db), "limit"));
    assert_int_equal(vv_put(db, "", "k", 1, "v", 1, NULL, NULL), VV_EINVAL);
    assert_int_equal(vv_put(db, NULL, "k", 1, "v", 1, NULL, NULL), VV_EINVAL);
    assert_int_equal(vv_put(NULL, "ks", "k", 1, "v", 1, NULL, NULL), VV_EINVAL);
    tu_put(db, "ks", "k", "v", NULL);
    /* a context claiming dots this store never gave out */
    snprintf(ctxtext, sizeof ctxtext, "{\"%s\":99}", vv_db_actor(db));
    future = tu_clock(ctxtext);
    assert_int_equal(vv_put(db, "ks", "k", 1, "w", 1, future, NULL), VV_EINVAL);
    vv_clock_free(future);
    assert_string_equal(tu_sibs(db, "ks", "k"), "v");
    assert_int_equal(vv_get(db, "ks", "k", 1, NULL), VV_EINVAL);
    (void)r;
    vv_db_close(db);
}

static int count_names(void *ud, const char *name)
{
    (void)name;
    (*(int *)ud)++;
    return 0;
}

static void test_keyspaces_isolated(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_ks_config cfg;
    int n = 0;
    (void)st;
    assert_int_equal(vv_put(db, "one", "k", 1, "1", 1, NULL, NULL), VV_OK);
    assert_int_equal(vv_put(db, "two", "k", 1, "2", 1, NULL, NULL), VV_OK);
    assert_string_equal(tu_sibs(db, "one", "k"), "1");
    assert_string_equal(tu_sibs(db, "two", "k"), "2");
    assert_int_equal(vv_keyspace_config(db, "one", &cfg), VV_OK);
    assert_string_equal(cfg.resolver_name, "siblings");
    assert_string_equal(cfg.codec, "msgpack");
    assert_int_equal(vv_keyspace_config(db, "three", &cfg), VV_ENOTFOUND);
    assert_int_equal(vv_keyspaces(db, count_names, &n), VV_OK);
    assert_int_equal(n, 2);
    vv_db_close(db);
}

static void test_keys_and_stats(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_stats s;
    (void)st;
    tu_put(db, "ks", "a", "1", NULL);
    tu_put(db, "ks", "b", "1", NULL);
    tu_put(db, "ks", "b", "2", NULL);
    tu_del(db, "ks", "a");
    assert_int_equal(tu_nkeys(db, "ks"), 2);
    assert_int_equal(vv_stats_get(db, "ks", &s), VV_OK);
    assert_int_equal(s.keys, 1);
    assert_int_equal(s.tombstones, 1);
    assert_int_equal(s.siblings[1], 1);
    assert_int_equal(s.max_siblings, 2);
    assert_true(s.bytes > 0);
    vv_db_close(db);
}

static void test_sibling_limits(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_ks_config cfg;
    vv_stats s;
    vv_clock *ctx;
    int i;
    (void)st;
    memset(&cfg, 0, sizeof cfg);
    cfg.warn_siblings = 3;
    cfg.max_siblings = 5;
    assert_int_equal(vv_keyspace(db, "ks", &cfg), VV_OK);
    for (i = 0; i < 5; i++) tu_put(db, "ks", "k", "x", NULL);
    assert_int_equal(vv_put(db, "ks", "k", 1, "y", 1, NULL, NULL), VV_ELIMIT);
    assert_non_null(strstr(vv_errmsg(db), "max_siblings"));
    assert_int_equal(vv_stats_get(db, "ks", &s), VV_OK);
    assert_int_equal(s.warnings, 2);             /* 4 and 5 siblings */
    assert_int_equal(s.max_siblings, 5);         /* nothing dropped */
    ctx = tu_context(db, "ks", "k");             /* collapse with context */
    assert_int_equal(vv_put(db, "ks", "k", 1, "z", 1, ctx, NULL), VV_OK);
    assert_string_equal(tu_sibs(db, "ks", "k"), "z");
    vv_clock_free(ctx);
    vv_db_close(db);
}

/* Send stderr to a new temporary file (its name in path, a buffer of
 * at least 32 bytes); returns the descriptor to give back to
 * stderr_lines. */
static int stderr_to_file(char *path)
{
    int fd, saved;
    snprintf(path, 32, "/tmp/vv-stderr-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    close(fd);
    return saved;
}

/* Put stderr back (saved from stderr_to_file) and count the lines that
 * went to the file at path (removed). */
static size_t stderr_lines(int saved, const char *path)
{
    FILE *f;
    size_t n = 0;
    int c;
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    f = fopen(path, "r");
    assert_non_null(f);
    while ((c = getc(f)) != EOF) n += c == '\n';
    fclose(f);
    unlink(path);
    return n;
}

/* Over warn_siblings a key logs one line when a write or merge takes it
 * over, none while it stays over, and one again when it came back and
 * goes over again; each change that leaves it over counts a warning. */
static void test_sibling_warnings(void **st)
{
    vv_db *db = tu_open("s0", NULL), *other = tu_open("s1", NULL);
    vv_ks_config cfg;
    vv_stats s;
    vv_clock *ctx;
    char path[32];
    int i, saved;
    (void)st;
    memset(&cfg, 0, sizeof cfg);
    cfg.warn_siblings = 5;
    cfg.max_siblings = 2000;
    assert_int_equal(vv_keyspace(db, "ks", &cfg), VV_OK);
    saved = stderr_to_file(path);
    for (i = 0; i < 1000; i++)
        assert_int_equal(vv_put(db, "ks", "k", 1, "x", 1, NULL, NULL), VV_OK);
    assert_int_equal(stderr_lines(saved, path), 1);
    assert_int_equal(vv_stats_get(db, "ks", &s), VV_OK);
    assert_int_equal(s.warnings, 995);           /* puts 6 to 1000 */
    assert_int_equal(s.warned_keys, 1);
    ctx = tu_context(db, "ks", "k");             /* back to one sibling */
    saved = stderr_to_file(path);
    assert_int_equal(vv_put(db, "ks", "k", 1, "y", 1, ctx, NULL), VV_OK);
    for (i = 0; i < 5; i++)                      /* 6: over again */
        assert_int_equal(vv_put(db, "ks", "k", 1, "x", 1, NULL, NULL), VV_OK);
    for (i = 0; i < 5; i++)                      /* m: 5, then a merge */
        assert_int_equal(vv_put(db, "ks", "m", 1, "x", 1, NULL, NULL), VV_OK);
    assert_int_equal(vv_put(other, "ks", "m", 1, "o", 1, NULL, NULL), VV_OK);
    assert_true(tu_copy(other, db, "ks", "m"));
    assert_int_equal(stderr_lines(saved, path), 2);
    vv_clock_free(ctx);
    assert_int_equal(vv_stats_get(db, NULL, &s), VV_OK);
    assert_int_equal(s.warnings, 997);
    assert_int_equal(s.warned_keys, 3);
    vv_db_close(db);
    vv_db_close(other);
}

static int echo_resolver(void *ud, const char *ks, const void *key, size_t klen,
                         const vv_sibling *s, size_t n, void **out,
                         size_t *outn, char **err)
{
    size_t i, len = 0;
    char *p;
    (void)ks; (void)key; (void)klen;
    if (ud) { *err = strdup("resolver says no"); return VV_ERESOLVER; }
    for (i = 0; i < n; i++) len += s[i].len;
    p = malloc(len + 1);
    for (len = 0, i = 0; i < n; i++) {
        memcpy(p + len, s[i].value, s[i].len);
        len += s[i].len;
    }
    *out = p;
    *outn = len;
    return VV_OK;
}

static void test_custom_resolver_and_writeback(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_ks_config cfg;
    vv_read *r;
    const void *v;
    size_t n;
    (void)st;
    memset(&cfg, 0, sizeof cfg);
    cfg.resolver = VV_RESOLVE_CUSTOM;
    cfg.resolve = echo_resolver;
    tu_put(db, "ks", "k", "a", NULL);
    tu_put(db, "ks", "k", "b", NULL);
    assert_int_equal(vv_keyspace(db, "ks", &cfg), VV_OK);
    assert_int_equal(vv_get(db, "ks", "k", 1, &r), VV_OK);
    assert_int_equal(vv_read_value(r, &v, &n), VV_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(v, "ab", 2);
    vv_read_free(r);
    cfg.resolve_ud = (void *)1;                  /* now it fails */
    assert_int_equal(vv_keyspace(db, "ks", &cfg), VV_OK);
    assert_int_equal(vv_get(db, "ks", "k", 1, &r), VV_OK);
    assert_int_equal(vv_read_value(r, &v, &n), VV_ERESOLVER);
    assert_string_equal(vv_read_error(r), "resolver says no");
    assert_int_equal(vv_read_count(r), 2);       /* siblings intact */
    vv_read_free(r);
    cfg.resolve_ud = NULL;
    cfg.writeback = 1;
    assert_int_equal(vv_keyspace(db, "ks", &cfg), VV_OK);
    assert_int_equal(vv_get(db, "ks", "k", 1, &r), VV_OK);
    /* the read's context covers the written-back version: writing with it
     * replaces everything, leaving no stray sibling */
    assert_int_equal(vv_put(db, "ks", "k", 1, "c", 1, vv_read_context(r),
                            NULL), VV_OK);
    vv_read_free(r);
    assert_string_equal(tu_sibs(db, "ks", "k"), "c");
    vv_db_close(db);
}

static void test_batch(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    (void)st;
    assert_int_equal(vv_commit(db), VV_EBUSY);
    assert_int_equal(vv_begin(db), VV_OK);
    assert_int_equal(vv_begin(db), VV_EBUSY);
    tu_put(db, "ks", "a", "1", NULL);
    tu_put(db, "ks", "b", "2", NULL);
    assert_string_equal(tu_sibs(db, "ks", "a"), "1");   /* own writes */
    assert_int_equal(vv_abort(db), VV_OK);
    assert_string_equal(tu_sibs(db, "ks", "a"), "");
    assert_int_equal(vv_begin(db), VV_OK);
    tu_put(db, "ks", "a", "1", NULL);
    assert_int_equal(vv_commit(db), VV_OK);
    assert_string_equal(tu_sibs(db, "ks", "a"), "1");
    vv_db_close(db);
}

/* ---- export / merge: format checks and fuzzing ---------------------- */
static void test_export_merge_errors(void **st)
{
    vv_db *a = tu_open("a", NULL), *b = tu_open("b", NULL);
    void *s;
    size_t n, i;
    unsigned char *c;
    (void)st;
    assert_int_equal(vv_export(a, "ks", "k", 1, &s, &n), VV_ENOTFOUND);
    tu_put(a, "ks", "k", "value-a", NULL);
    tu_put(a, "ks", "k", "value-a2", NULL);
    tu_put(b, "ks", "k", "value-b", NULL);
    assert_int_equal(vv_export(a, "ks", "k", 1, &s, &n), VV_OK);
    assert_memory_equal(s, "VVS\x01", 4);
    /* merged under another key: refused */
    assert_int_equal(vv_merge(b, "ks", "x", 1, s, n), VV_EFOREIGN);
    c = malloc(n);
    /* every truncation refused, nothing changes */
    for (i = 0; i < n; i++)
        assert_int_not_equal(vv_merge(b, "ks", "k", 1, s, i), VV_OK);
    /* every single-byte flip refused */
    for (i = 0; i < n; i++) {
        int bit;
        for (bit = 0; bit < 8; bit++) {
            memcpy(c, s, n);
            c[i] ^= (unsigned char)(1u << bit);
            assert_int_not_equal(vv_merge(b, "ks", "k", 1, c, n), VV_OK);
        }
    }
    {   /* random bytes, with a valid header and a valid checksum too */
        unsigned seed = 99;
        for (i = 0; i < 20000; i++) {
            size_t len = 12 + (size_t)rand_r(&seed) % 60, k;
            unsigned char *p = malloc(len);
            for (k = 0; k < len; k++) p[k] = (unsigned char)rand_r(&seed);
            memcpy(p, "VVS\x01", 4);
            if (i % 2) { p[4] = 1; p[5] = 'k'; }
            vvi_sum_set(p, len);
            (void)vv_merge(b, "ks", "k", 1, p, len);   /* must not crash */
            free(p);
        }
    }
    assert_string_equal(tu_sibs(b, "ks", "k"), "value-b");
    {   /* a newer format */
        memcpy(c, s, n);
        c[3] = 9;
        assert_int_equal(vv_merge(b, "ks", "k", 1, c, n), VV_EVERSION);
    }
    free(c);
    assert_int_equal(vv_merge(b, "ks", "k", 1, s, n), VV_OK);
    assert_int_equal(vv_merge(b, "ks", "k", 1, s, n), VV_OK);   /* idempotent */
    {
        const char *x = tu_sibs(b, "ks", "k");
        assert_non_null(strstr(x, "value-a"));
        assert_non_null(strstr(x, "value-a2"));
        assert_non_null(strstr(x, "value-b"));
    }
    vv_free(s);
    vv_db_close(a); vv_db_close(b);
}

/* A restarted node (new incarnation) writing k again never collides with
 * its earlier life's dots (the lost-write failure of dot reuse). */
static void test_no_dot_reuse_after_restart(void **st)
{
    vv_db *s0 = tu_open("s0", NULL), *s1 = tu_open("s1", NULL);
    const char *x;
    (void)st;
    tu_put(s0, "ks", "k", "first-life", NULL);
    tu_copy(s0, s1, "ks", "k");
    vv_db_close(s0);                             /* wiped: in memory */
    s0 = tu_open("s0", NULL);
    tu_put(s0, "ks", "k", "second-life", NULL);
    tu_copy(s0, s1, "ks", "k");
    x = tu_sibs(s1, "ks", "k");
    assert_non_null(strstr(x, "first-life"));
    assert_non_null(strstr(x, "second-life"));
    vv_db_close(s0); vv_db_close(s1);
}

/* ---- randomized histories against a model -------------------------- */
#define MR 3          /* replicas */
#define MK 3          /* keys */
#define MW 1600       /* writes per run at most */
#include "model.h"

/* Copy key's state from every replica to every other. */
static void exchange(vv_db **db, const char *key)
{
    int a, b;
    for (a = 0; a < MR; a++)
        for (b = 0; b < MR; b++)
            if (a != b) tu_copy(db[a], db[b], "ks", key);
}

/* One random history of up to ops steps from seed0: clients read and
 * write with contexts maybe stale, replicas copy keys one way; checked
 * against the model every seventh step and after a full exchange. */
static void model_run(unsigned seed0, int ops)
{
    unsigned seed = seed0;
    static model m;
    vv_db *db[MR];
    client_ctx pool[16];
    int i, r, k, op;
    uint64_t now = 1;
    memset(&m, 0, sizeof m);
    memset(pool, 0, sizeof pool);
    tu_open_n(db, MR, &now);
    for (i = 0; i < ops && m.nw < MW - 1; i++) {
        now += (uint64_t)(rand_r(&seed) % 3);
        r = rand_r(&seed) % MR;
        k = rand_r(&seed) % MK;
        op = rand_r(&seed) % 10;
        if (op < 2) {                             /* a client reads */
            model_read(&m, db[r], r, k, &pool[rand_r(&seed) % 16]);
        } else if (op < 7) {                      /* a write or a delete */
            client_ctx *c = &pool[rand_r(&seed) % 16];
            int w = m.nw++, del = rand_r(&seed) % 6 == 0;
            const vv_clock *ctx = NULL;
            if (c->used && c->key == k && rand_r(&seed) % 4) {
                ctx = c->clock;     /* maybe stale, maybe from elsewhere */
                m.seen[w] = c->seen;
            }
            model_write(&m, db[r], r, k, w, del, ctx);
        } else {                                  /* one-way sync */
            int to = rand_r(&seed) % MR;
            char key[16];
            snprintf(key, sizeof key, "k%d", k);
            if (to == r) continue;
            tu_copy(db[r], db[to], "ks", key);
            bor(&m.known[to][k], &m.known[r][k]);
        }
        if (i % 7 == 0) model_check(&m, db, seed0, i);
    }
    /* full exchange: everyone converges to the same list, same order */
    for (k = 0; k < MK; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        exchange(db, key);
        exchange(db, key);
        model_share(&m, k);
        model_agree(db, k);
        model_check_key(&m, db, k, seed0, -1);
    }
    for (i = 0; i < 16; i++) vv_clock_free(pool[i].clock);
    tu_close_n(db, MR);
}

static void test_model_random_histories(void **st)
{
    unsigned seed;
    (void)st;
    for (seed = 1; seed <= 12; seed++) model_run(seed, 2500);
}

/* Merge order does not matter: any permutation of the same states gives
 * the same siblings, and merging twice changes nothing. */
static void test_merge_order_free(void **st)
{
    vv_db *src[4], *t1, *t2;
    void *s[4];
    size_t n[4];
    int i;
    char a[512];
    (void)st;
    for (i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        src[i] = tu_open(name, NULL);
    }
    tu_put(src[0], "ks", "k", "x0", NULL);
    tu_copy(src[0], src[1], "ks", "k");
    tu_overwrite(src[1], "ks", "k", "x1");       /* replaces x0 */
    tu_put(src[2], "ks", "k", "x2", NULL);
    tu_put(src[3], "ks", "k", "x3", NULL);
    assert_int_equal(vv_delete(src[3], "ks", "k", 1, NULL, NULL), VV_OK);
    for (i = 0; i < 4; i++)
        assert_int_equal(vv_export(src[i], "ks", "k", 1, &s[i], &n[i]),
                         VV_OK);
    t1 = tu_open("t1", NULL);
    t2 = tu_open("t2", NULL);
    for (i = 0; i < 4; i++)
        assert_int_equal(vv_merge(t1, "ks", "k", 1, s[i], n[i]), VV_OK);
    for (i = 3; i >= 0; i--) {
        assert_int_equal(vv_merge(t2, "ks", "k", 1, s[i], n[i]), VV_OK);
        assert_int_equal(vv_merge(t2, "ks", "k", 1, s[i], n[i]), VV_OK);
    }
    strcpy(a, tu_sibs(t1, "ks", "k"));
    assert_string_equal(a, tu_sibs(t2, "ks", "k"));
    assert_null(strstr(a, "x0"));               /* replaced: never back */
    assert_non_null(strstr(a, "x1"));
    assert_non_null(strstr(a, "x2"));
    assert_non_null(strstr(a, "x3"));
    for (i = 0; i < 4; i++) { vv_free(s[i]); vv_db_close(src[i]); }
    vv_db_close(t1); vv_db_close(t2);
}

static void test_alloc_failures_leave_state(void **st)
{
    int i;
    (void)st;
    for (i = 1; i < 120; i++) {
        vv_db *db = tu_open("s0", NULL), *o = tu_open("o", NULL);
        void *s;
        size_t n;
        int rc;
        tu_put(db, "ks", "k", "old", NULL);
        tu_put(o, "ks", "k", "other", NULL);
        assert_int_equal(vv_export(o, "ks", "k", 1, &s, &n), VV_OK);
        vvi_fail_alloc_after(i);
        rc = vv_put(db, "ks", "k", 1, "new", 3, NULL, NULL);
        if (rc == VV_OK) rc = vv_merge(db, "ks", "k", 1, s, n);
        vvi_fail_alloc_after(0);
        if (rc != VV_OK) {
            const char *x;
            assert_int_equal(rc, VV_ENOMEM);
            x = tu_sibs(db, "ks", "k");
            /* either nothing happened, or the put did and the merge did not */
            assert_true(strcmp(x, "old") == 0 ||
                        (strstr(x, "old") && strstr(x, "new") &&
                         !strstr(x, "other")));
        }
        vv_free(s);
        vv_db_close(db);
        vv_db_close(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_actor_incarnation),
        cmocka_unit_test(test_put_get_single),
        cmocka_unit_test(test_get_reuse),
        cmocka_unit_test(test_newer_replaces_older),
        cmocka_unit_test(test_concurrent_kept),
        cmocka_unit_test(test_eggs_milk_bacon),
        cmocka_unit_test(test_three_replicas),
        cmocka_unit_test(test_deterministic_order),
        cmocka_unit_test(test_delete_tombstone),
        cmocka_unit_test(test_lww),
        cmocka_unit_test(test_timestamps_never_backwards),
        cmocka_unit_test(test_sibling_explosion),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_keyspaces_isolated),
        cmocka_unit_test(test_keys_and_stats),
        cmocka_unit_test(test_sibling_limits),
        cmocka_unit_test(test_sibling_warnings),
        cmocka_unit_test(test_custom_resolver_and_writeback),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_export_merge_errors),
        cmocka_unit_test(test_no_dot_reuse_after_restart),
        cmocka_unit_test(test_model_random_histories),
        cmocka_unit_test(test_merge_order_free),
        cmocka_unit_test(test_alloc_failures_leave_state),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
