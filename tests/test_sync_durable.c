/* test_sync_durable.c - sync between durable stores: change numbers and
 * watermarks survive a reopen, another process's writes are offered, a
 * reaped key stays gone. */
#include "syncutil.h"
#include "lmdbutil.h"

/* Open node's store in dir/sub. */
static vv_db *open_sub(const char *node, const char *dir, const char *sub)
{
    char path[4096];
    return tu_open_dir(node, lu_join(path, sizeof path, dir, sub), NULL);
}

/* Child: replace k06 in node a's store in dir/a (arg is dir). */
static int k06_child(void *arg)
{
    char path[4096];
    vv_db *c = tu_child_open("a", lu_join(path, sizeof path, arg, "a"));
    vv_read *r;
    int ok;
    if (!c) return 1;
    ok = vv_get(c, "ks", "k06", 3, &r) == VV_OK &&
         vv_put(c, "ks", "k06", 3, "child", 5, vv_read_context(r),
                NULL) == VV_OK;
    if (ok) vv_read_free(r);
    vv_db_close(c);
    return ok ? 0 : 1;
}

/* Two durable stores sync, are closed and reopened, sync on; a child
 * process writes meanwhile; a reaped key is still gone after reopen. */
static void test_durable(void **st)
{
    const char *dir = *st;
    vv_db *a, *b;
    su_msg d, x;
    a = open_sub("a", dir, "a");
    b = open_sub("b", dir, "b");
    tu_fill(a, "ks", 20);
    assert_int_equal(su_sync(a, b, NULL), 20);
    vv_db_close(a);
    vv_db_close(b);
    /* reopened: a's numbers go on, b remembers how far it got */
    a = open_sub("a", dir, "a");
    b = open_sub("b", dir, "b");
    tu_overwrite(a, "ks", "k05", "after reopen");
    d = su_digest(b);
    x = su_delta(a, d);
    assert_true(x.n < 200);
    assert_int_equal(su_apply(b, x), 1);
    assert_string_equal(tu_sibs(b, "ks", "k05"), "after reopen");
    vv_free(d.p);
    vv_free(x.p);
    /* another process writes to a's directory meanwhile */
    assert_int_equal(lu_child(k06_child, *st), 0);
    tu_overwrite(a, "ks", "k07", "parent");          /* after the child's */
    assert_int_equal(su_sync(a, b, NULL), 2);
    assert_string_equal(tu_sibs(b, "ks", "k06"), "child");
    assert_string_equal(tu_sibs(b, "ks", "k07"), "parent");
    /* reaping is durable too */
    tu_del(a, "ks", "k08");
    assert_int_equal(su_sync(a, b, NULL), 1);
    assert_int_equal(su_sync(b, a, NULL), 0);
    assert_int_equal(su_reap(a, &b, 1), 1);
    vv_db_close(a);
    a = open_sub("a", dir, "a");
    assert_int_equal(tu_nkeys(a, "ks"), 19);
    assert_int_equal(su_sync(b, a, NULL), 0);       /* nothing comes back */
    assert_int_equal(tu_nkeys(a, "ks"), 19);
    assert_int_equal(su_sync(a, b, NULL), 0);
    vv_db_close(a);
    vv_db_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_durable, lu_setup_dir,
                                        lu_teardown_dir),
    };
    return cmocka_run_group_tests_name("sync_durable", tests, NULL, NULL);
}
