/* test_lmdb_dots.c - a durable store never gives a dot out twice: not to
 * processes writing one directory at once, not after its directory was
 * wiped and it started again (tests/test_lmdb_restore.c: nor after it was
 * restored from a copy). */
#include "testutil.h"
#include "lmdbutil.h"

enum { WN = 200 };            /* puts per writer on the shared keys */

/* Which writer a child is, and where it writes. */
typedef struct writer_arg {
    const char *dir;
    int id;
} writer_arg;

/* Child: WN puts without context on shared keys and as many on own keys,
 * and a batch now and then. */
static int st_writer(void *arg)
{
    const writer_arg *w = arg;
    vv_db *db = tu_child_open("s0", w->dir);
    vv_ks_config cfg;
    char key[64], val[64];
    int i, id = w->id, n = WN;
    if (!db) return 10;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_siblings = 10000;
    cfg.warn_siblings = 10000;
    if (vv_keyspace(db, "ks", &cfg) != VV_OK) return 11;
    for (i = 0; i < n; i++) {
        snprintf(key, sizeof key, "shared%d", i % 4);
        snprintf(val, sizeof val, "w%d-%d", id, i);
        if (vv_put(db, "ks", key, strlen(key), val, strlen(val), NULL, NULL))
            return 12;
        snprintf(key, sizeof key, "own%d-%d", id, i % 10);
        if (vv_put(db, "ks", key, strlen(key), val, strlen(val), NULL, NULL))
            return 13;
        if (i % 50 == 0) {              /* a batch now and then */
            int j;
            if (vv_begin(db)) return 14;
            for (j = 0; j < 5; j++) {
                snprintf(key, sizeof key, "batch%d", id);
                snprintf(val, sizeof val, "b%d-%d-%d", id, i, j);
                if (vv_put(db, "ks", key, strlen(key), val, strlen(val),
                           NULL, NULL)) return 15;
            }
            if (vv_commit(db)) return 16;
        }
    }
    vv_db_close(db);
    return 0;
}

/* Several processes writing one directory at once: each writes as its
 * own actor, and no dot is given out twice (every write without a context
 * stays a sibling, each with its own dot). */
static void st_two_processes(void **state)
{
    const char *dir = *state;
    enum { P = 3, N = WN, W = 2 * N + (N / 50) * 5 };
    pid_t pid[P];
    writer_arg w[P];
    vv_db *db;
    tu_actors t;
    size_t writer_actor[P];
    uint64_t *dots;
    size_t nd = 0, i, k;
    int p;
    char key[32];
    memset(&t, 0, sizeof t);
    db = tu_open_dir("s0", dir, NULL);        /* create it first */
    vv_db_close(db);
    for (p = 0; p < P; p++) {
        w[p].dir = dir;
        w[p].id = p;
        pid[p] = lu_spawn(st_writer, &w[p]);
        assert_true(pid[p] >= 0);
    }
    for (p = 0; p < P; p++) assert_int_equal(lu_wait(pid[p]), 0);
    db = tu_open_dir("s0", dir, NULL);
    dots = malloc(sizeof *dots * (P * N * 3 + 100));
    assert_non_null(dots);
    for (k = 0; k < 4 + P; k++) {
        vv_read *r = NULL;
        if (k < 4) snprintf(key, sizeof key, "shared%zu", k);
        else snprintf(key, sizeof key, "batch%zu", k - 4);
        assert_int_equal(vv_get(db, "ks", key, strlen(key), &r), VV_OK);
        /* every put made a sibling: none collapsed into another's dot */
        assert_int_equal(vv_read_count(r),
                         k < 4 ? (size_t)P * N / 4 : (size_t)(N / 50) * 5);
        for (i = 0; i < vv_read_count(r); i++) {
            const vv_sibling *x = vv_read_sibling(r, i);
            int id = ((const char *)x->value)[1] - '0';
            assert_int_equal(x->node_len, 2);
            assert_memory_equal(x->actor, "s0.", 3);
            dots[nd++] = tu_dot(&t, x->actor, x->actor_len, x->counter);
            assert_true(id >= 0 && id < P);
            writer_actor[id] = tu_actor(&t, x->actor, x->actor_len);
        }
        vv_read_free(r);
    }
    assert_int_equal(tu_repeated(dots, nd), 0);
    /* one actor per writer */
    assert_int_equal(t.n, P);
    for (p = 0; p < P; p++) {
        /* each writer's counter went exactly once per write: its last
         * write was to own<p>-9 */
        vv_clock *ctx;
        const char *a = t.name[writer_actor[p]];
        snprintf(key, sizeof key, "own%d-9", p);
        ctx = tu_context(db, "ks", key);
        assert_non_null(ctx);
        assert_int_equal(vv_clock_get(ctx, a, strlen(a)), (uint64_t)W);
        vv_clock_free(ctx);
    }
    free(dots);
    vv_db_close(db);
}

/* Whether db's ks/k shows the writes of both lives of s0. */
static int both_lives(vv_db *db)
{
    const char *s = tu_sibs(db, "ks", "k");
    return !strcmp(s, "first|second") || !strcmp(s, "second|first");
}

/* The lost write of a wiped directory: s0 writes k, s1 gets the state;
 * s0's directory is wiped and s0 starts again, empty, and writes k
 * without a context.
 * That write must not reuse s0's old dot: after merging into s1 both
 * writes are there as siblings. */
static void st_wiped_dir(void **state)
{
    const char *dir = *state;
    char d0[4096], d1[4096], old_actor[64];
    vv_db *s0, *s1;
    vv_read *r = NULL;
    lu_join(d0, sizeof d0, dir, "s0");
    lu_join(d1, sizeof d1, dir, "s1");
    s0 = tu_open_dir("s0", d0, NULL);
    s1 = tu_open_dir("s1", d1, NULL);
    snprintf(old_actor, sizeof old_actor, "%s", vv_db_actor(s0));
    tu_put(s0, "ks", "k", "first", NULL);
    assert_true(tu_copy(s0, s1, "ks", "k"));
    vv_db_close(s0);

    lu_rmrf(d0);                                  /* the disk is lost */
    s0 = tu_open_dir("s0", d0, NULL);
    assert_string_not_equal(vv_db_actor(s0), old_actor);
    assert_int_equal(strncmp(vv_db_actor(s0), "s0.", 3), 0);
    tu_put(s0, "ks", "k", "second", NULL);
    assert_true(tu_copy(s0, s1, "ks", "k"));
    assert_true(both_lives(s1));
    /* both siblings are of node s0, with different actors */
    assert_int_equal(vv_get(s1, "ks", "k", 1, &r), VV_OK);
    assert_int_equal(vv_read_count(r), 2);
    assert_int_equal(vv_read_sibling(r, 0)->node_len, 2);
    assert_int_equal(vv_read_sibling(r, 1)->node_len, 2);
    assert_int_equal(vv_read_sibling(r, 0)->counter, 1);
    assert_int_equal(vv_read_sibling(r, 1)->counter, 1);
    vv_read_free(r);
    /* and s1's state merged back into the new s0 shows both too, durably */
    assert_true(tu_copy(s1, s0, "ks", "k"));
    vv_db_close(s0);
    vv_db_close(s1);
    s0 = tu_open_dir("s0", d0, NULL);
    assert_true(both_lives(s0));
    vv_db_close(s0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(st_two_processes, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_wiped_dir, lu_setup_dir,
                                        lu_teardown_dir),
    };
    return cmocka_run_group_tests_name("lmdb_dots", tests, NULL, NULL);
}
