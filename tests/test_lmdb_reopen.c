/* test_lmdb_reopen.c - what a durable store keeps across close and reopen:
 * states, configs, the hybrid clock, committed batches; and what it drops:
 * aborted and unfinished batches.  A reopened store writes as a new actor. */
#include "testutil.h"
#include "lmdbutil.h"

/* Everything a store holds comes back after close and reopen: states
 * (siblings, tombstones, contexts, foreign actors), keyspace configs and
 * the hybrid clock.  The reopened handle writes as a new actor of node s0,
 * its counter starting at 1. */
static void st_round_trip(void **state)
{
    const char *dir = *state;
    const char *keys[] = { "a", "b", "c", "m", "x" };
    const char *kss[] = { "carts", "carts", "carts", "carts", "prefs" };
    unsigned char *before[5], *after;
    size_t blen[5], alen, i, n;
    uint64_t now = 1000, now1 = 50;
    vv_db *db, *s1;
    vv_ks_config cfg;
    vv_read *r = NULL;
    vv_clock *ctx = NULL;
    char actor[64], buf[256];
    vv_stats st0, st1;

    db = tu_open_dir("s0", dir, &now);
    snprintf(actor, sizeof actor, "%s", vv_db_actor(db));
    memset(&cfg, 0, sizeof cfg);
    cfg.resolver = VV_RESOLVE_LWW;
    cfg.codec = "raw";
    cfg.max_siblings = 7;
    cfg.warn_siblings = 5;
    assert_int_equal(vv_keyspace(db, "prefs", &cfg), VV_OK);
    tu_put(db, "carts", "a", "eggs", NULL);          /* two siblings */
    now++;
    tu_put(db, "carts", "a", "milk", NULL);
    tu_put(db, "carts", "b", "gone", NULL);          /* a tombstone */
    tu_del(db, "carts", "b");
    tu_put(db, "carts", "c", "old", NULL);           /* replaced */
    tu_overwrite(db, "carts", "c", "new");
    now += 5000;
    tu_put(db, "prefs", "x", "dark", NULL);
    /* a state from another node, merged in */
    s1 = tu_open("s1", &now1);
    tu_put(s1, "carts", "m", "from-s1", NULL);
    assert_true(tu_copy(s1, db, "carts", "m"));
    tu_put(db, "carts", "m", "from-s0", NULL);
    vv_db_close(s1);
    for (i = 0; i < 5; i++) {
        before[i] = tu_export(db, kss[i], keys[i], &blen[i]);
        assert_non_null(before[i]);
    }
    assert_int_equal(vv_stats_get(db, NULL, &st0), VV_OK);
    vv_db_close(db);

    now = 10;                     /* the wall clock went backwards */
    db = tu_open_dir("s0", dir, &now);
    assert_string_not_equal(vv_db_actor(db), actor);
    assert_memory_equal(vv_db_actor(db), "s0.", 3);
    for (i = 0; i < 5; i++) {
        after = tu_export(db, kss[i], keys[i], &alen);
        assert_non_null(after);
        assert_int_equal(alen, blen[i]);
        assert_memory_equal(after, before[i], alen);
        free(after);
        free(before[i]);
    }
    assert_string_equal(tu_sibs(db, "carts", "a"), "eggs|milk");
    assert_string_equal(tu_sibs(db, "carts", "b"), "");
    assert_string_equal(tu_sibs(db, "carts", "c"), "new");
    assert_true(!strcmp(tu_sibs(db, "carts", "m"), "from-s0|from-s1") ||
                !strcmp(tu_sibs(db, "carts", "m"), "from-s1|from-s0"));
    /* configs came back */
    assert_int_equal(vv_keyspace_config(db, "prefs", &cfg), VV_OK);
    assert_string_equal(cfg.resolver_name, "lww");
    assert_string_equal(cfg.codec, "raw");
    assert_int_equal(cfg.max_siblings, 7);
    assert_int_equal(cfg.warn_siblings, 5);
    assert_int_equal(cfg.resolver, VV_RESOLVE_LWW);
    buf[0] = 0;
    assert_int_equal(vv_keyspaces(db, tu_list_ks, buf), VV_OK);
    assert_non_null(strstr(buf, "carts,"));
    assert_non_null(strstr(buf, "prefs,"));
    buf[0] = 0;
    assert_int_equal(vv_keys(db, "carts", tu_list_key, buf), VV_OK);
    assert_string_equal(buf, "a,b,c,m,");
    assert_int_equal(vv_stats_get(db, NULL, &st1), VV_OK);
    assert_int_equal(st1.keys, st0.keys);
    assert_int_equal(st1.tombstones, st0.tombstones);
    assert_memory_equal(st1.siblings, st0.siblings, sizeof st0.siblings);
    assert_true(st1.bytes > 0);
    /* a new actor's first dot, and time does not go backwards */
    assert_int_equal(vv_put(db, "carts", "a", 1, "bacon", 5, NULL, &ctx),
                     VV_OK);
    assert_int_equal(vv_clock_get(ctx, actor, strlen(actor)), 2);
    assert_int_equal(vv_clock_get(ctx, vv_db_actor(db),
                                  strlen(vv_db_actor(db))), 1);
    vv_clock_free(ctx);
    assert_int_equal(vv_get(db, "carts", "a", 1, &r), VV_OK);
    assert_int_equal(vv_read_count(r), 3);
    for (i = 0, n = 0; i < 3; i++) {
        const vv_sibling *x = vv_read_sibling(r, i);
        if (x->actor_len == strlen(vv_db_actor(db)) &&
            !memcmp(x->actor, vv_db_actor(db), x->actor_len)) {
            assert_int_equal(x->counter, 1);
            assert_true(x->timestamp >= 6001);
            n++;
        }
    }
    assert_int_equal(n, 1);
    vv_read_free(r);
    vv_db_close(db);

    /* a node name that is not the store's is refused */
    {
        vv_options o;
        char *err = NULL;
        db = NULL;
        tu_options(&o, "s9", dir, NULL);
        assert_int_not_equal(vv_db_open(&o, &db, &err), VV_OK);
        assert_null(db);
        assert_non_null(err);
        assert_non_null(strstr(err, "s0"));
        free(err);
    }
}

/* Batches: committed together, abandoned together, and a batch that was
 * never committed when the store closed is gone. */
static void st_batches(void **state)
{
    const char *dir = *state;
    vv_db *db = tu_open_dir("s0", dir, NULL);
    char key[32];
    int i;
    assert_int_equal(vv_begin(db), VV_OK);
    for (i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%04d", i);
        tu_put(db, "bulk", key, key, NULL);
    }
    assert_int_equal(vv_commit(db), VV_OK);
    assert_int_equal(vv_begin(db), VV_OK);
    tu_put(db, "bulk", "aborted", "x", NULL);
    assert_int_equal(vv_abort(db), VV_OK);
    assert_int_equal(vv_begin(db), VV_OK);
    tu_put(db, "bulk", "open-at-close", "x", NULL);
    vv_db_close(db);
    db = tu_open_dir("s0", dir, NULL);
    for (i = 0; i < 1000; i += 111) {
        snprintf(key, sizeof key, "k%04d", i);
        assert_string_equal(tu_sibs(db, "bulk", key), key);
    }
    assert_string_equal(tu_sibs(db, "bulk", "aborted"), "");
    assert_string_equal(tu_sibs(db, "bulk", "open-at-close"), "");
    vv_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(st_round_trip, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_batches, lu_setup_dir,
                                        lu_teardown_dir),
    };
    return cmocka_run_group_tests_name("lmdb_reopen", tests, NULL, NULL);
}
