/* test_lmdb_map.c - the LMDB map: it grows as data comes, and when it may
 * grow no more, writes are refused whole and nothing acknowledged is lost. */
#include "beutil.h"

/* A tiny map grows: under one huge transaction and before many small
 * ones; everything is there after reopen. */
static void be_map_grows(void **state)
{
    const char *dir = *state;
    be b;
    vv_options o;
    char *err = NULL, key[32], val[1024], got[1100];
    int i, t;
    tu_options(&o, "t", dir, NULL);
    o.map_size = 64 * 1024;          /* tiny: forces growth */
    assert_int_equal(be_open_opts(&b, &o, &err), VV_OK);
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = 0;
    /* one transaction far bigger than the map: healed by the redo log */
    assert_int_equal(b.ops->begin(b.h, 1), VV_OK);
    for (i = 0; i < 4000; i++) {
        const void *gv;
        size_t gl;
        snprintf(key, sizeof key, "big%05d", i);
        val[0] = (char)('a' + i % 26);
        /* the store's pattern: read, then write (the shortcut path) */
        assert_int_equal(b.ops->get(b.h, 7, key, strlen(key), &gv, &gl),
                         VV_ENOTFOUND);
        assert_int_equal(b.ops->put(b.h, 7, key, strlen(key), val,
                                    strlen(val)), VV_OK);
    }
    assert_int_equal(b.ops->meta_put(b.h, "after", "1", 1), VV_OK);
    assert_int_equal(b.ops->commit(b.h), VV_OK);
    /* many small transactions: grown before they begin */
    for (t = 0; t < 50; t++) {
        assert_int_equal(b.ops->begin(b.h, 1), VV_OK);
        for (i = 0; i < 40; i++) {
            snprintf(key, sizeof key, "small%02d-%02d", t, i);
            assert_int_equal(b.ops->put(b.h, 8, key, strlen(key), val,
                                        strlen(val)), VV_OK);
        }
        assert_int_equal(b.ops->commit(b.h), VV_OK);
    }
    be_close(&b);
    assert_int_equal(be_open(&b, dir, 1), VV_OK);
    for (i = 0; i < 4000; i += 37) {
        snprintf(key, sizeof key, "big%05d", i);
        assert_int_equal(be_get1(&b, 7, key, got, sizeof got), VV_OK);
        assert_int_equal(got[0], 'a' + i % 26);
        assert_int_equal(strlen(got), sizeof val - 1);
    }
    be_expect(&b, 8, "small49-39", val);
    be_close(&b);
}

/* A map at its bound: VV_EMAPFULL, a batch refused as a whole, reads go
 * on; reopened with room, nothing committed is missing. */
static void be_map_full(void **state)
{
    const char *dir = *state;
    be b;
    vv_options o;
    char *err = NULL, key[32], val[2048], got[2100];
    int i, rc = VV_OK, committed = 0;
    tu_options(&o, "t", dir, NULL);
    o.map_size = 256 * 1024;
    o.map_max = 1024 * 1024;          /* growth stops at 1 MiB */
    assert_int_equal(be_open_opts(&b, &o, &err), VV_OK);
    memset(val, 'w', sizeof val - 1);
    val[sizeof val - 1] = 0;
    for (i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "k%05d", i);
        assert_int_equal(b.ops->begin(b.h, 1), VV_OK);
        rc = b.ops->put(b.h, 1, key, strlen(key), val, strlen(val));
        if (rc == VV_OK) rc = b.ops->commit(b.h);
        else b.ops->abort(b.h);
        if (rc != VV_OK) break;
        committed++;
    }
    assert_int_equal(rc, VV_EMAPFULL);
    assert_non_null(strstr(b.ops->errmsg(b.h), "map"));
    assert_true(committed > 100);
    /* a batch that does not fit is refused as a whole */
    assert_int_equal(b.ops->begin(b.h, 1), VV_OK);
    rc = VV_OK;
    for (i = 0; i < 500 && rc == VV_OK; i++) {
        snprintf(key, sizeof key, "batch%05d", i);
        rc = b.ops->put(b.h, 1, key, strlen(key), val, strlen(val));
    }
    if (rc == VV_OK) rc = b.ops->commit(b.h);
    else b.ops->abort(b.h);
    assert_int_equal(rc, VV_EMAPFULL);
    /* reads still work, and everything committed is there */
    for (i = 0; i < committed; i++) {
        snprintf(key, sizeof key, "k%05d", i);
        assert_int_equal(be_get1(&b, 1, key, got, sizeof got), VV_OK);
    }
    assert_int_equal(be_get1(&b, 1, "batch00000", got, sizeof got),
                     VV_ENOTFOUND);
    be_close(&b);
    /* reopened with room, it takes writes again and lost nothing */
    o.map_max = 0;
    assert_int_equal(be_open_opts(&b, &o, &err), VV_OK);
    be_put1(&b, 1, "more", "room");
    for (i = 0; i < committed; i++) {
        snprintf(key, sizeof key, "k%05d", i);
        assert_int_equal(be_get1(&b, 1, key, got, sizeof got), VV_OK);
        assert_string_equal(got, val);
    }
    be_close(&b);
}

/* A full map: VV_EMAPFULL with a clear message; every acknowledged write
 * is there, the refused one is not half there; with room it goes on. */
static void st_map_full(void **state)
{
    const char *dir = *state;
    vv_options o;
    vv_db *db;
    char key[32], val[4000];
    int i, rc = VV_OK, done = 0;
    tu_options(&o, "s0", dir, NULL);
    o.map_size = 128 * 1024;
    o.map_max = 1024 * 1024;
    db = tu_open_opts(&o);
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = 0;
    for (i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%04d", i);
        rc = vv_put(db, "ks", key, strlen(key), val, strlen(val), NULL, NULL);
        if (rc) break;
        done++;
    }
    assert_int_equal(rc, VV_EMAPFULL);
    assert_non_null(strstr(vv_errmsg(db), "map"));
    assert_true(done > 50);
    assert_string_equal(tu_sibs(db, "ks", key), "");   /* the refused one */
    /* an existing key that cannot grow keeps its state */
    snprintf(key, sizeof key, "k%04d", 0);
    assert_int_equal(vv_put(db, "ks", key, strlen(key), val, strlen(val),
                            NULL, NULL), VV_EMAPFULL);
    assert_string_equal(tu_sibs(db, "ks", key), val);
    vv_db_close(db);
    o.map_max = 0;
    db = tu_open_opts(&o);
    for (i = 0; i < done; i++) {
        snprintf(key, sizeof key, "k%04d", i);
        assert_string_equal(tu_sibs(db, "ks", key), val);
    }
    tu_put(db, "ks", "after", "room again", NULL);
    vv_db_close(db);
}

/* A keyspace created inside an aborted batch, or by a write the full map
 * refused, is not left behind in memory: a later write records it, and
 * the write is there after reopen (regression: it was lost). */
static void st_keyspace_abort(void **state)
{
    const char *dir = *state;
    vv_options o;
    vv_db *db;
    char buf[64], big[3000];
    db = tu_open_dir("s0", dir, NULL);
    assert_int_equal(vv_begin(db), VV_OK);
    tu_put(db, "fresh", "k", "in the aborted batch", NULL);
    assert_int_equal(vv_abort(db), VV_OK);
    tu_put(db, "fresh", "k", "after", NULL);
    vv_db_close(db);

    tu_options(&o, "s0", dir, NULL);
    o.map_max = 64 * 1024;               /* at its bound from the start */
    db = tu_open_opts(&o);
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    {
        int i, rc = VV_OK;
        char key[32];
        for (i = 0; i < 200 && rc == VV_OK; i++) {
            snprintf(key, sizeof key, "fill%03d", i);
            rc = vv_put(db, "fill", key, strlen(key), big, strlen(big),
                        NULL, NULL);
        }
        assert_int_equal(rc, VV_EMAPFULL);
        rc = vv_put(db, "another", "k", 1, big, strlen(big), NULL, NULL);
        assert_int_equal(rc, VV_EMAPFULL);
    }
    vv_db_close(db);
    db = tu_open_dir("s0", dir, NULL);
    tu_put(db, "another", "k", "fits now", NULL);
    vv_db_close(db);
    db = tu_open_dir("s0", dir, NULL);
    assert_string_equal(tu_sibs(db, "fresh", "k"), "after");
    assert_string_equal(tu_sibs(db, "another", "k"), "fits now");
    buf[0] = 0;
    assert_int_equal(vv_keyspaces(db, tu_list_ks, buf), VV_OK);
    assert_non_null(strstr(buf, "fresh,"));
    assert_non_null(strstr(buf, "another,"));
    vv_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(be_map_grows, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(be_map_full, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_map_full, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_keyspace_abort, lu_setup_dir,
                                        lu_teardown_dir),
    };
    return cmocka_run_group_tests_name("lmdb_map", tests, NULL, NULL);
}
