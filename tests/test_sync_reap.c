/* test_sync_reap.c - reaping tombstones: only once every named replica
 * has them and this store has merged what those replicas had; then no
 * late delta or round brings the deleted value back. */
#include "syncutil.h"

/* A tombstone is reaped once everyone has it, on every replica in turn;
 * a late delta and later rounds do not resurrect the value; the key can
 * be written again. */
static void test_reap(void **st)
{
    vv_db *r[3];
    su_msg dold, xold;
    int i;
    (void)st;
    tu_open_n(r, 3, NULL);
    tu_put(r[0], "ks", "k", "old", NULL);
    tu_put(r[0], "ks", "live", "stays", NULL);
    assert_int_equal(su_sync(r[0], r[1], NULL), 2);
    /* a delta from r1 that carries "old", delivered much later */
    dold = su_digest(r[0]);
    xold = su_delta(r[1], dold);
    su_round(r, 3);
    tu_del(r[0], "ks", "k");
    /* r1 and r2 have not seen the delete: nothing may go */
    assert_int_equal(su_reap(r[0], &r[1], 2), 0);
    assert_int_equal(tu_nkeys(r[0], "ks"), 2);
    su_round(r, 3);
    /* everyone has merged the tombstone; r0 has merged what r1 and r2
     * had when they made these digests: take digests, sync from them to
     * r0, then reap */
    {
        const void *ds[2];
        size_t ls[2], n;
        su_msg m1 = su_digest(r[1]), m2 = su_digest(r[2]);
        su_sync(r[1], r[0], NULL);
        su_sync(r[2], r[0], NULL);
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
    assert_int_equal(tu_nkeys(r[0], "ks"), 1);     /* "live" */
    assert_string_equal(tu_sibs(r[0], "ks", "live"), "stays");
    /* the late delta with "old" in it changes nothing: no resurrection */
    assert_int_equal(su_apply(r[0], xold), 0);
    assert_string_equal(tu_sibs(r[0], "ks", "k"), "");
    assert_int_equal(tu_nkeys(r[0], "ks"), 1);
    /* nor do further rounds, from replicas that still hold the tombstone */
    su_round(r, 3);
    for (i = 0; i < 3; i++) assert_string_equal(tu_sibs(r[i], "ks", "k"), "");
    /* the others reap too, and then everyone has forgotten it */
    {
        vv_db *o1[2], *o2[2];
        o1[0] = r[0]; o1[1] = r[2];
        o2[0] = r[0]; o2[1] = r[1];
        su_round(r, 3);
        assert_int_equal(su_reap(r[1], o1, 2), 1);
        assert_int_equal(su_reap(r[2], o2, 2), 1);
        for (i = 0; i < 3; i++) assert_int_equal(tu_nkeys(r[i], "ks"), 1);
    }
    /* the key can be written again, and that write travels */
    tu_put(r[2], "ks", "k", "again", NULL);
    su_round(r, 3);
    for (i = 0; i < 3; i++)
        assert_string_equal(tu_sibs(r[i], "ks", "k"), "again");
    /* reaping with no tombstones does nothing; the own digest is ignored */
    assert_int_equal(su_reap(r[1], r, 3), 0);
    vv_free(dold.p);
    vv_free(xold.p);
    tu_close_n(r, 3);
}

/* A delta made before the other replica merged the tombstone, delivered
 * after it: reaping waits until this store has merged everything that
 * replica had when it said it had the tombstone, so the late delta finds
 * its states covered and brings nothing back. */
static void test_reap_late_delta(void **st)
{
    vv_db *a = tu_open_ks("a", NULL), *b = tu_open_ks("b", NULL);
    su_msg late;
    (void)st;
    tu_put(a, "ks", "k", "old", NULL);
    assert_int_equal(su_sync(a, b, NULL), 1);       /* b holds "old" */
    {
        su_msg d = su_digest(a);
        late = su_delta(b, d);                     /* carries "old" */
        vv_free(d.p);
    }
    tu_del(a, "ks", "k");
    assert_int_equal(su_sync(a, b, NULL), 1);       /* b has the tombstone */
    /* b has merged it, but a has not merged b's later states: not yet */
    assert_int_equal(su_reap(a, &b, 1), 0);
    assert_int_equal(su_sync(b, a, NULL), 0);       /* nothing new, but a */
    assert_int_equal(su_reap(a, &b, 1), 1);         /* now knows b's mark */
    assert_int_equal(tu_nkeys(a, "ks"), 0);
    assert_int_equal(su_apply(a, late), 0);         /* covered: skipped */
    assert_string_equal(tu_sibs(a, "ks", "k"), "");
    assert_int_equal(tu_nkeys(a, "ks"), 0);
    vv_free(late.p);
    vv_db_close(a);
    vv_db_close(b);
}

/* Why every replica must be named: one left out still holds the value the
 * tombstone deleted, and its next delta brings it back. */
static void test_reap_unnamed_replica_resurrects(void **st)
{
    vv_db *r[3], *lost;
    (void)st;
    tu_open_n(r, 3, NULL);
    lost = tu_open_ks("lost", NULL);
    tu_put(r[0], "ks", "k", "old", NULL);
    su_round(r, 3);
    assert_int_equal(su_sync(r[0], lost, NULL), 1);  /* lost has "old" */
    tu_del(r[0], "ks", "k");
    su_round(r, 3);
    {
        su_msg m1 = su_digest(r[1]), m2 = su_digest(r[2]);
        const void *ds[2];
        size_t ls[2], n;
        su_round(r, 3);
        ds[0] = m1.p; ls[0] = m1.n;
        ds[1] = m2.p; ls[1] = m2.n;
        assert_int_equal(vv_reap(r[0], "ks", ds, ls, 2, &n), VV_OK);
        assert_int_equal(n, 1);
        vv_free(m1.p);
        vv_free(m2.p);
    }
    assert_string_equal(tu_sibs(r[0], "ks", "k"), "");
    assert_int_equal(su_sync(lost, r[0], NULL), 1);
    /* back: name them all */
    assert_string_equal(tu_sibs(r[0], "ks", "k"), "old");
    /* named, the same replica blocks the reap until it has the delete */
    {
        vv_db *all[3];
        all[0] = r[1]; all[1] = r[2]; all[2] = lost;
        tu_del(r[0], "ks", "k");
        assert_int_equal(su_reap(r[0], all, 3), 0);
    }
    tu_close_n(r, 3);
    vv_db_close(lost);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reap),
        cmocka_unit_test(test_reap_late_delta),
        cmocka_unit_test(test_reap_unnamed_replica_resurrects),
    };
    return cmocka_run_group_tests_name("sync_reap", tests, NULL, NULL);
}
