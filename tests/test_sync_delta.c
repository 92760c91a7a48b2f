/* test_sync_delta.c - keyspace sync by digest, delta and apply: a delta
 * carries what the other side misses and no more; replicas converge;
 * deltas lost, repeated, late or meant for another are harmless. */
#include "syncutil.h"

/* Every kind of key and a delete travel in one round; then only what
 * changed; an unknown keyspace and a store's own delta are empty. */
static void test_round_trip(void **st)
{
    vv_db *a = tu_open_ks("a", NULL), *b = tu_open_ks("b", NULL);
    size_t bytes = 0;
    su_msg d, x;
    (void)st;
    tu_fill(a, "ks", 50);
    tu_del(a, "ks", "k07");
    {   /* keys of every length: empty, past the inline size, the longest */
        char big[VV_KEY_MAX + 1];
        memset(big, 'x', sizeof big);
        assert_int_equal(vv_put(a, "ks", "", 0, "empty", 5, NULL, NULL),
                         VV_OK);
        assert_int_equal(vv_put(a, "ks", big, 100, "100", 3, NULL, NULL),
                         VV_OK);
        assert_int_equal(vv_put(a, "ks", big, VV_KEY_MAX, "max", 3, NULL,
                                NULL), VV_OK);
        assert_int_equal(vv_put(a, "ks", big, VV_KEY_MAX, "max2", 4, NULL,
                                NULL), VV_OK);
        assert_int_equal(su_sync(a, b, &bytes), 53);
        assert_int_equal(su_fingerprint(a, NULL), su_fingerprint(b, NULL));
        assert_int_equal(vv_delete(a, "ks", big, 100, NULL, NULL), VV_OK);
        assert_int_equal(su_sync(a, b, &bytes), 1);
    }
    assert_int_equal(su_fingerprint(a, NULL), su_fingerprint(b, NULL));
    assert_string_equal(tu_sibs(b, "ks", "k13"), "v13");
    assert_string_equal(tu_sibs(b, "ks", "k07"), "");  /* the delete too */
    assert_int_equal(su_sync(a, b, &bytes), 0);
    /* nothing new: the next delta is empty and changes nothing */
    su_quiet(a, b);
    /* one change: one key moves */
    tu_overwrite(a, "ks", "k20", "new");
    assert_int_equal(su_sync(a, b, NULL), 1);
    assert_string_equal(tu_sibs(b, "ks", "k20"), "new");
    /* and back: b's merges gave b nothing a lacks */
    assert_int_equal(su_sync(b, a, NULL), 0);
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
    d = su_digest(a);
    x = su_delta(a, d);
    assert_int_equal(su_apply(a, x), 0);
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
    int i, j;
    uint64_t f0;
    char *cart0;
    (void)st;
    tu_open_n(r, 3, NULL);
    tu_put(r[0], "ks", "cart", "eggs", NULL);
    tu_put(r[1], "ks", "cart", "milk", NULL);
    tu_put(r[2], "ks", "cart", "bacon", NULL);
    tu_put(r[0], "ks", "only0", "x", NULL);
    tu_put(r[2], "ks", "gone", "soon", NULL);
    su_sync(r[2], r[1], NULL);
    tu_del(r[1], "ks", "gone");
    su_round(r, 3);
    su_round(r, 3);
    f0 = su_fingerprint(r[0], NULL);
    for (i = 0; i < 3; i++) {
        assert_int_equal(su_fingerprint(r[i], NULL), f0);
        assert_int_equal(strlen(tu_sibs(r[i], "ks", "cart")),
                         strlen("eggs|milk|bacon"));
        assert_non_null(strstr(tu_sibs(r[i], "ks", "cart"), "eggs"));
        assert_non_null(strstr(tu_sibs(r[i], "ks", "cart"), "milk"));
        assert_non_null(strstr(tu_sibs(r[i], "ks", "cart"), "bacon"));
        assert_string_equal(tu_sibs(r[i], "ks", "only0"), "x");
        assert_string_equal(tu_sibs(r[i], "ks", "gone"), "");
    }
    cart0 = strdup(tu_sibs(r[0], "ks", "cart"));  /* same order too */
    assert_non_null(cart0);
    assert_string_equal(tu_sibs(r[2], "ks", "cart"), cart0);
    free(cart0);
    /* a quiet system: after one more round (each store offers what its
     * merges changed), deltas are empty: changes do not echo */
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            if (i != j) assert_int_equal(su_sync(r[i], r[j], NULL), 0);
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            if (i != j) su_quiet(r[i], r[j]);
    tu_close_n(r, 3);
}

/* Changes reach a replica through a third one (a -> b -> c). */
static void test_transitive(void **st)
{
    vv_db *a = tu_open_ks("a", NULL), *b = tu_open_ks("b", NULL);
    vv_db *c = tu_open_ks("c", NULL);
    (void)st;
    tu_put(a, "ks", "k", "from-a", NULL);
    assert_int_equal(su_sync(a, b, NULL), 1);
    assert_int_equal(su_sync(b, c, NULL), 1);
    assert_string_equal(tu_sibs(c, "ks", "k"), "from-a");
    tu_overwrite(c, "ks", "k", "from-c");
    assert_int_equal(su_sync(c, b, NULL), 1);
    assert_int_equal(su_sync(b, a, NULL), 1);
    assert_string_equal(tu_sibs(a, "ks", "k"), "from-c");
    vv_db_close(a);
    vv_db_close(b);
    vv_db_close(c);
}

/* An aborted batch leaves the change log as it was; many rewrites of a
 * few keys leave one entry each (the holes are squeezed out). */
static void test_log_abort_and_rewrites(void **st)
{
    vv_db *a = tu_open_ks("a", NULL), *b = tu_open_ks("b", NULL);
    vv_db *c = tu_open_ks("c", NULL);
    char big[64];
    int i;
    (void)st;
    memset(big, 'y', sizeof big);
    tu_put(a, "ks", "k1", "1", NULL);
    assert_int_equal(vv_put(a, "ks", big, sizeof big, "big", 3, NULL, NULL),
                     VV_OK);
    tu_put(a, "ks", "k3", "3", NULL);
    assert_int_equal(su_sync(a, b, NULL), 3);
    assert_int_equal(vv_begin(a), VV_OK);
    tu_overwrite(a, "ks", "k1", "1b");
    assert_int_equal(vv_put(a, "ks", big, sizeof big, "big2", 4, NULL, NULL),
                     VV_OK);
    assert_int_equal(vv_put(a, "ks", big, 40, "new", 3, NULL, NULL), VV_OK);
    tu_del(a, "ks", "k3");
    assert_int_equal(vv_abort(a), VV_OK);
    assert_int_equal(su_sync(a, b, NULL), 0);        /* nothing happened */
    assert_int_equal(su_sync(a, c, NULL), 3);        /* the log is whole */
    assert_int_equal(vv_put(a, "ks", big, sizeof big, "big3", 4, NULL, NULL),
                     VV_OK);
    assert_int_equal(su_sync(a, b, NULL), 1);
    for (i = 0; i < 3000; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "r%d", i % 10);
        snprintf(v, sizeof v, "v%d", i);
        tu_overwrite(a, "ks", k, v);
        if (i % 7 == 0) tu_del(a, "ks", k);
    }
    assert_int_equal(su_fingerprint(a, NULL) != su_fingerprint(b, NULL), 1);
    assert_int_equal(su_sync(a, b, NULL), 10);
    assert_int_equal(su_fingerprint(a, NULL), su_fingerprint(b, NULL));
    vv_db_close(a);
    vv_db_close(b);
    vv_db_close(c);
}

/* The cost follows the difference: one changed key among 100000 moves in
 * a few kilobytes of digest and delta. */
static void test_cost_follows_difference(void **st)
{
    enum { N = 100000 };
    vv_db *r[3];
    size_t bytes, n;
    su_msg d, x;
    int i;
    (void)st;
    tu_open_n(r, 3, NULL);
    assert_int_equal(vv_begin(r[0]), VV_OK);
    for (i = 0; i < N; i++) {
        char k[24];
        snprintf(k, sizeof k, "user:%07d", i);
        tu_put(r[0], "ks", k, "some value of a user", NULL);
    }
    assert_int_equal(vv_commit(r[0]), VV_OK);
    assert_int_equal(su_sync(r[0], r[1], NULL), N);
    assert_int_equal(su_sync(r[1], r[2], NULL), N);
    assert_int_equal(su_sync(r[2], r[0], NULL), 0);
    assert_int_equal(su_sync(r[0], r[2], NULL), 0);
    tu_overwrite(r[1], "ks", "user:0054321", "changed");
    d = su_digest(r[2]);
    x = su_delta(r[1], d);
    assert_true(d.n + x.n < 4096);
    assert_int_equal(su_apply(r[2], x), 1);
    vv_free(d.p);
    vv_free(x.p);
    assert_string_equal(tu_sibs(r[2], "ks", "user:0054321"), "changed");
    bytes = 0;
    assert_int_equal(su_sync(r[2], r[0], &bytes), 1);
    assert_true(bytes < 4096);
    assert_string_equal(tu_sibs(r[0], "ks", "user:0054321"), "changed");
    assert_int_equal(su_fingerprint(r[0], &n), su_fingerprint(r[1], NULL));
    assert_int_equal(n, N);
    tu_close_n(r, 3);
}

/* Deltas lost, duplicated and delivered out of order: nothing goes back,
 * and a lost one's changes come with the next round. */
static void test_lost_dup_reordered(void **st)
{
    vv_db *a = tu_open_ks("a", NULL), *b = tu_open_ks("b", NULL);
    su_msg d1, x1, d2, x2, d3, x3;
    (void)st;
    tu_put(a, "ks", "k1", "1", NULL);
    d1 = su_digest(b);
    x1 = su_delta(a, d1);                          /* k1 */
    tu_put(a, "ks", "k2", "2", NULL);
    tu_overwrite(a, "ks", "k1", "1b");
    d2 = su_digest(b);
    x2 = su_delta(a, d2);                          /* k1 (1b), k2: from 0 */
    tu_put(a, "ks", "k3", "3", NULL);
    /* x2 arrives first, then x1 late and twice: nothing goes back */
    assert_int_equal(su_apply(b, x2), 2);
    assert_int_equal(su_apply(b, x1), 0);
    assert_int_equal(su_apply(b, x1), 0);
    assert_int_equal(su_apply(b, x2), 0);
    assert_string_equal(tu_sibs(b, "ks", "k1"), "1b");
    /* the next one starts after x2's end: only k3 */
    d3 = su_digest(b);
    x3 = su_delta(a, d3);
    assert_true(x3.n < x2.n + 64);
    assert_int_equal(su_apply(b, x3), 1);
    assert_string_equal(tu_sibs(b, "ks", "k3"), "3");
    vv_free(d3.p);
    vv_free(x3.p);
    /* a lost delta: the next round carries its changes again */
    tu_overwrite(a, "ks", "k2", "2b");
    d3 = su_digest(b);
    x3 = su_delta(a, d3);
    vv_free(x3.p);                                 /* lost */
    vv_free(d3.p);
    tu_put(a, "ks", "k4", "4", NULL);
    assert_int_equal(su_sync(a, b, NULL), 2);
    assert_string_equal(tu_sibs(b, "ks", "k2"), "2b");
    assert_string_equal(tu_sibs(b, "ks", "k4"), "4");
    assert_int_equal(su_fingerprint(a, NULL), su_fingerprint(b, NULL));
    vv_free(d1.p); vv_free(x1.p); vv_free(d2.p); vv_free(x2.p);
    vv_db_close(a);
    vv_db_close(b);
}

/* A delta made for c and applied to b: merged (safe), but it does not move
 * b's watermark past what b may have missed. */
static void test_delta_for_another(void **st)
{
    vv_db *a = tu_open_ks("a", NULL), *b = tu_open_ks("b", NULL);
    vv_db *c = tu_open_ks("c", NULL);
    su_msg dc, xc;
    (void)st;
    tu_put(a, "ks", "k1", "1", NULL);
    assert_int_equal(su_sync(a, c, NULL), 1);      /* c has k1 */
    tu_put(a, "ks", "k2", "2", NULL);
    dc = su_digest(c);
    xc = su_delta(a, dc);                          /* k2 only */
    assert_int_equal(su_apply(b, xc), 1);          /* b: k2, not k1 */
    assert_string_equal(tu_sibs(b, "ks", "k1"), "");
    assert_int_equal(su_sync(a, b, NULL), 1);      /* k1 still comes */
    assert_string_equal(tu_sibs(b, "ks", "k1"), "1");
    vv_free(dc.p);
    vv_free(xc.p);
    vv_db_close(a);
    vv_db_close(b);
    vv_db_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_three_converge),
        cmocka_unit_test(test_transitive),
        cmocka_unit_test(test_log_abort_and_rewrites),
        cmocka_unit_test(test_cost_follows_difference),
        cmocka_unit_test(test_lost_dup_reordered),
        cmocka_unit_test(test_delta_for_another),
    };
    return cmocka_run_group_tests_name("sync_delta", tests, NULL, NULL);
}
