/* test_lmdb_restore.c - a store directory restored from a copy (or a copy
 * opened as well as the original) never gives out a dot again: every
 * handle that writes is a new actor.  Nor does sync skip what the restored
 * directory writes. */
#include "syncutil.h"
#include "lmdbutil.h"

/* Copy the store files of directory from into directory to (made when
 * missing), as a plain file copy while no one has the store open. */
static void copy_store(const char *from, const char *to)
{
    static const char *const files[] = { "data.mdb", "lock.mdb" };
    size_t i;
    mkdir(to, 0700);
    for (i = 0; i < 2; i++) {
        char src[4096], dst[4096];
        unsigned char *p;
        size_t n = 0;
        p = lu_slurp(lu_join(src, sizeof src, from, files[i]), &n);
        assert_non_null(p);
        assert_int_equal(lu_spit(lu_join(dst, sizeof dst, to, files[i]), p,
                                 n), 0);
        free(p);
    }
}

/* Paths of one test: its directory, the store in it, the store's backup. */
typedef struct paths {
    char *dir;
    char store[4096], backup[4096];
} paths;

/* cmocka setup: a fresh directory for the store s0 and its backup; the
 * paths in *state. */
static int setup_paths(void **state)
{
    paths *p = calloc(1, sizeof *p);
    if (!p || !(p->dir = lu_tmpdir("test"))) {
        free(p);
        return -1;
    }
    lu_join(p->store, sizeof p->store, p->dir, "s0");
    lu_join(p->backup, sizeof p->backup, p->dir, "backup");
    *state = p;
    return 0;
}

/* cmocka setup: as setup_paths, and the store made with one key written,
 * then backed up. */
static int setup_backup(void **state)
{
    paths *p;
    vv_db *db;
    if (setup_paths(state)) return -1;
    p = *state;
    db = tu_open_dir("s0", p->store, NULL);
    tu_put(db, "ks", "before", "x", NULL);
    vv_db_close(db);
    copy_store(p->store, p->backup);
    return 0;
}

/* cmocka teardown of both setups. */
static int teardown_paths(void **state)
{
    paths *p = *state;
    lu_rmrf(p->dir);
    free(p->dir);
    free(p);
    return 0;
}

/* What put_child writes: a blind put of ks/k = value to s0 in dir. */
typedef struct put_arg {
    const char *dir, *value;
} put_arg;

/* Child: the put that arg describes, with a handle of its own. */
static int put_child(void *arg)
{
    const put_arg *a = arg;
    vv_db *db = tu_child_open("s0", a->dir);
    if (!db) return 1;
    if (vv_put(db, "ks", "k", 1, a->value, strlen(a->value), NULL, NULL))
        return 2;
    vv_db_close(db);
    return 0;
}

/* ks/k of db holds exactly the siblings "first" and "second", of two
 * different actors of node s0. */
static void both_writes(vv_db *db)
{
    vv_read *r = NULL;
    const vv_sibling *a, *b;
    const char *s = tu_sibs(db, "ks", "k");
    assert_true(!strcmp(s, "first|second") || !strcmp(s, "second|first"));
    assert_int_equal(vv_get(db, "ks", "k", 1, &r), VV_OK);
    a = vv_read_sibling(r, 0);
    b = vv_read_sibling(r, 1);
    assert_int_equal(a->node_len, 2);
    assert_int_equal(b->node_len, 2);
    assert_false(a->actor_len == b->actor_len &&
                 !memcmp(a->actor, b->actor, a->actor_len));
    vv_read_free(r);
}

/* The lost write of a restored directory, all in one process: s0 writes k
 * and s1 gets the state; s0's directory is restored from the copy made
 * before, and s0 writes k again without a context.  The second write must
 * not take the first one's dot: merged, both are siblings, everywhere. */
static void st_restore_same_process(void **state)
{
    const paths *p = *state;
    vv_db *s0, *s1 = tu_open("s1", NULL);
    char first_actor[64];
    s0 = tu_open_dir("s0", p->store, NULL);
    tu_put(s0, "ks", "k", "first", NULL);
    snprintf(first_actor, sizeof first_actor, "%s", vv_db_actor(s0));
    assert_true(tu_copy(s0, s1, "ks", "k"));
    vv_db_close(s0);

    copy_store(p->backup, p->store);               /* restored */
    s0 = tu_open_dir("s0", p->store, NULL);
    assert_string_equal(tu_sibs(s0, "ks", "k"), "");
    assert_string_not_equal(vv_db_actor(s0), first_actor);
    tu_put(s0, "ks", "k", "second", NULL);
    assert_true(tu_copy(s1, s0, "ks", "k"));
    both_writes(s0);
    assert_true(tu_copy(s0, s1, "ks", "k"));
    both_writes(s1);
    vv_db_close(s0);
    s0 = tu_open_dir("s0", p->store, NULL);       /* and it stays so */
    both_writes(s0);
    vv_db_close(s0);
    vv_db_close(s1);
}

/* The same with the writes in processes of their own (the usual case: a
 * program runs, the directory is restored, the program runs again). */
static void st_restore_processes(void **state)
{
    const paths *p = *state;
    vv_db *s0, *s1 = tu_open("s1", NULL);
    put_arg first, second;
    first.dir = second.dir = p->store;
    first.value = "first";
    second.value = "second";
    assert_int_equal(lu_child(put_child, &first), 0);
    s0 = tu_open_dir("s0", p->store, NULL);       /* s1 receives it */
    assert_true(tu_copy(s0, s1, "ks", "k"));
    vv_db_close(s0);

    copy_store(p->backup, p->store);               /* restored */
    assert_int_equal(lu_child(put_child, &second), 0);
    s0 = tu_open_dir("s0", p->store, NULL);
    assert_string_equal(tu_sibs(s0, "ks", "k"), "second");
    assert_true(tu_copy(s1, s0, "ks", "k"));
    both_writes(s0);
    vv_db_close(s0);
    vv_db_close(s1);
}

/* A copy opened as well as the original: both write k; merged, both
 * writes are siblings. */
static void st_copy_and_original(void **state)
{
    const paths *p = *state;
    vv_db *a, *b;
    a = tu_open_dir("s0", p->store, NULL);
    b = tu_open_dir("s0", p->backup, NULL);
    tu_put(a, "ks", "k", "first", NULL);
    tu_put(b, "ks", "k", "second", NULL);
    assert_true(tu_copy(a, b, "ks", "k"));
    both_writes(b);
    vv_db_close(a);
    vv_db_close(b);
}

/* Two handles in two processes on one directory at once: each writes as
 * its own actor, from counter 1, and neither write replaces the other. */
static void st_two_handles(void **state)
{
    const paths *p = *state;
    vv_db *s0;
    vv_read *r = NULL;
    put_arg second;
    size_t i;
    s0 = tu_open_dir("s0", p->store, NULL);       /* open before the child */
    second.dir = p->store;
    second.value = "second";
    assert_int_equal(lu_child(put_child, &second), 0);
    tu_put(s0, "ks", "k", "first", NULL);
    both_writes(s0);
    assert_int_equal(vv_get(s0, "ks", "k", 1, &r), VV_OK);
    for (i = 0; i < 2; i++) assert_int_equal(vv_read_sibling(r, i)->counter, 1);
    vv_read_free(r);
    vv_db_close(s0);
}

/* Handles that only read leave the store's file as it was (no actor is
 * recorded for them); the first write records its handle's actor. */
static void st_readers_leave_no_trace(void **state)
{
    const paths *p = *state;
    vv_db *s0;
    vv_clock *ctx = NULL;
    char data[4096];
    unsigned char *before, *after;
    size_t nb = 0, na = 0;
    int i;
    lu_join(data, sizeof data, p->store, "data.mdb");
    before = lu_slurp(data, &nb);
    assert_non_null(before);
    for (i = 0; i < 5; i++) {
        s0 = tu_open_dir("s0", p->store, NULL);
        assert_string_equal(tu_sibs(s0, "ks", "before"), "x");
        vv_db_close(s0);
    }
    after = lu_slurp(data, &na);
    assert_non_null(after);
    assert_int_equal(na, nb);
    assert_memory_equal(after, before, nb);
    free(after);
    s0 = tu_open_dir("s0", p->store, NULL);
    assert_int_equal(vv_put(s0, "ks", "k", 1, "v", 1, NULL, &ctx), VV_OK);
    assert_int_equal(vv_clock_size(ctx), 1);
    assert_int_equal(vv_clock_get(ctx, vv_db_actor(s0),
                                  strlen(vv_db_actor(s0))), 1);
    vv_clock_free(ctx);
    vv_db_close(s0);
    after = lu_slurp(data, &na);
    assert_non_null(after);
    assert_true(na != nb || memcmp(after, before, nb) != 0);
    free(after);
    free(before);
}

/* Sync after a restore.  b pulled a's changes up to 7, made by the
 * handle that was open when the backup (at change 5) was taken; restored,
 * a gives out 6 and 7 again.  b's watermark for that handle (7) passes
 * what the copy recorded of it (5), so it does not count: the first delta
 * is a full one, b gets the new changes, and from b a gets back what it
 * lost.  (Trusting the watermark, a would send nothing.) */
static void st_restore_sync(void **state)
{
    const paths *p = *state;
    vv_db *a, *b = tu_open_ks("b", NULL);
    a = tu_open_dir("s0", p->store, NULL);
    tu_fill(a, "ks", 5);
    copy_store(p->store, p->backup);             /* a open, but idle */
    tu_overwrite(a, "ks", "k00", "lost 1");
    tu_overwrite(a, "ks", "k01", "lost 2");
    assert_int_equal(su_sync(a, b, NULL), 5);
    vv_db_close(a);

    copy_store(p->backup, p->store);             /* restored: 5 changes */
    a = tu_open_dir("s0", p->store, NULL);
    tu_put(a, "ks", "new1", "after restore", NULL);
    tu_put(a, "ks", "new2", "after restore", NULL);
    assert_int_equal(su_sync(a, b, NULL), 2);
    assert_string_equal(tu_sibs(b, "ks", "new2"), "after restore");
    su_quiet(a, b);
    tu_overwrite(b, "ks", "k00", "from b");
    assert_int_equal(su_sync(b, a, NULL), 2);
    assert_string_equal(tu_sibs(a, "ks", "k00"), "from b");
    assert_string_equal(tu_sibs(a, "ks", "k01"), "lost 2");
    vv_db_close(a);
    vv_db_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(st_restore_same_process,
                                        setup_backup, teardown_paths),
        cmocka_unit_test_setup_teardown(st_restore_processes, setup_backup,
                                        teardown_paths),
        cmocka_unit_test_setup_teardown(st_copy_and_original, setup_backup,
                                        teardown_paths),
        cmocka_unit_test_setup_teardown(st_two_handles, setup_backup,
                                        teardown_paths),
        cmocka_unit_test_setup_teardown(st_readers_leave_no_trace,
                                        setup_backup, teardown_paths),
        cmocka_unit_test_setup_teardown(st_restore_sync, setup_paths,
                                        teardown_paths),
    };
    return cmocka_run_group_tests_name("lmdb_restore", tests, NULL, NULL);
}
