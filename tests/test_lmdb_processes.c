/* test_lmdb_processes.c - several processes on one store directory: the
 * backend's transactions serialize them; keyspaces and actors that each
 * adds land in the shared tables without clashing. */
#include "beutil.h"

enum { CN = 300 };            /* transactions per counter_child */

/* Child: CN write transactions on the backend in arg (a directory), each
 * bumping the shared meta counter and writing a data record named after
 * the new value (it must be new). */
static int counter_child(void *arg)
{
    be b;
    int i;
    if (be_open(&b, arg, 0) != VV_OK) return 10;
    for (i = 0; i < CN; i++) {
        const void *v;
        size_t vlen;
        uint64_t c = 0;
        char key[32];
        int rc;
        if (b.ops->begin(b.h, 1) != VV_OK) return 11;
        rc = b.ops->meta_get(b.h, "counter", &v, &vlen);
        if (rc == VV_OK && vlen == sizeof c) memcpy(&c, v, sizeof c);
        else if (rc != VV_ENOTFOUND) return 12;
        c++;
        snprintf(key, sizeof key, "%08llu", (unsigned long long)c);
        if (b.ops->get(b.h, 1, key, strlen(key), &v, &vlen) != VV_ENOTFOUND)
            return 13;                              /* a reused number */
        if (b.ops->put(b.h, 1, key, strlen(key), "x", 1) != VV_OK) return 14;
        if (b.ops->meta_put(b.h, "counter", &c, sizeof c) != VV_OK)
            return 15;
        if (b.ops->commit(b.h) != VV_OK) return 16;
    }
    b.ops->close(b.h);
    return 0;
}

/* Scan callback: counts records in an int. */
static int count_fn(void *ud, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    (void)key; (void)klen; (void)val; (void)vlen;
    (*(int *)ud)++;
    return 0;
}

/* Processes bumping one counter: no number taken twice, none lost. */
static void be_two_processes(void **state)
{
    const char *dir = *state;
    enum { N = CN, P = 3 };
    pid_t pid[P];
    int i, n = 0;
    be b;
    const void *v;
    size_t vlen;
    uint64_t c;
    assert_int_equal(be_open(&b, dir, 0), VV_OK);     /* create first */
    be_close(&b);
    for (i = 0; i < P; i++) {
        pid[i] = lu_spawn(counter_child, *state);
        assert_true(pid[i] >= 0);
    }
    for (i = 0; i < P; i++) assert_int_equal(lu_wait(pid[i]), 0);
    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    assert_int_equal(b.ops->begin(b.h, 0), VV_OK);
    assert_int_equal(b.ops->meta_get(b.h, "counter", &v, &vlen), VV_OK);
    assert_int_equal(vlen, sizeof c);
    memcpy(&c, v, sizeof c);
    assert_int_equal(c, (uint64_t)N * P);
    assert_int_equal(b.ops->scan(b.h, 1, count_fn, &n), VV_OK);
    assert_int_equal(n, N * P);
    b.ops->abort(b.h);
    be_close(&b);
}

/* Child: keyspace "theirs" gets a write in the store in arg (a path). */
static int theirs_child(void *arg)
{
    vv_db *c = tu_child_open("s0", arg);
    if (!c) return 1;
    if (vv_put(c, "theirs", "k", 1, "t", 1, NULL, NULL)) return 2;
    vv_db_close(c);
    return 0;
}

/* Keyspaces created by two processes, each unaware of the other's: both
 * are recorded, with distinct ids, and both list after reopen. */
static void st_keyspaces_two_processes(void **state)
{
    const char *dir = *state;
    vv_db *db = tu_open_dir("s0", dir, NULL);
    char buf[256];
    tu_put(db, "base", "k", "v", NULL);     /* db now knows the list */
    assert_int_equal(lu_child(theirs_child, *state), 0);
    tu_put(db, "ours", "k", "o", NULL);
    assert_string_equal(tu_sibs(db, "theirs", "k"), "t");
    assert_string_equal(tu_sibs(db, "ours", "k"), "o");
    vv_db_close(db);
    db = tu_open_dir("s0", dir, NULL);
    buf[0] = 0;
    assert_int_equal(vv_keyspaces(db, tu_list_ks, buf), VV_OK);
    assert_string_equal(buf, "base,theirs,ours,");
    assert_string_equal(tu_sibs(db, "theirs", "k"), "t");
    assert_string_equal(tu_sibs(db, "ours", "k"), "o");
    vv_db_close(db);
}

/* The actor of sibling 0 of key, as a string. */
static void st_actor_of(vv_db *db, const char *key, char *out, size_t n)
{
    vv_read *r = NULL;
    const vv_sibling *x;
    assert_int_equal(vv_get(db, "ks", key, strlen(key), &r), VV_OK);
    assert_int_equal(vv_read_count(r), 1);
    x = vv_read_sibling(r, 0);
    assert_true(x->actor_len < n);
    memcpy(out, x->actor, x->actor_len);
    out[x->actor_len] = 0;
    vv_read_free(r);
}

/* What merge_child merges: from's ks/a into the store in dir. */
typedef struct merge_arg {
    const char *dir;
    vv_db *from;
} merge_arg;

/* Child: merge the state of ks/a from another store into the one on disk
 * (its actor becomes known there). */
static int merge_child(void *arg)
{
    const merge_arg *m = arg;
    vv_db *c = tu_child_open("s0", m->dir);
    void *st;
    size_t n;
    if (!c) return 1;
    if (vv_export(m->from, "ks", "a", 1, &st, &n)) return 2;
    if (vv_merge(c, "ks", "a", 1, st, n)) return 3;
    vv_free(st);
    vv_db_close(c);
    return 0;
}

/* Actors that two processes learn (from merged states) go into the one
 * actor table without taking each other's numbers. */
static void st_actors_two_processes(void **state)
{
    const char *dir = *state;
    vv_db *db = tu_open_dir("s0", dir, NULL), *s1 = tu_open("s1", NULL),
          *s2 = tu_open("s2", NULL);
    char a0[64], a1[64], a2[64], got[64];
    merge_arg m;
    snprintf(a1, sizeof a1, "%s", vv_db_actor(s1));
    snprintf(a2, sizeof a2, "%s", vv_db_actor(s2));
    tu_put(s1, "ks", "a", "from s1", NULL);
    tu_put(s2, "ks", "b", "from s2", NULL);
    tu_put(db, "ks", "own", "x", NULL);
    snprintf(a0, sizeof a0, "%s", vv_db_actor(db));
    m.dir = dir;
    m.from = s1;
    assert_int_equal(lu_child(merge_child, &m), 0);
    assert_true(tu_copy(s2, db, "ks", "b"));
    st_actor_of(db, "a", got, sizeof got);
    assert_string_equal(got, a1);
    st_actor_of(db, "b", got, sizeof got);
    assert_string_equal(got, a2);
    vv_db_close(db);
    db = tu_open_dir("s0", dir, NULL);
    st_actor_of(db, "a", got, sizeof got);
    assert_string_equal(got, a1);
    st_actor_of(db, "b", got, sizeof got);
    assert_string_equal(got, a2);
    st_actor_of(db, "own", got, sizeof got);
    assert_string_equal(got, a0);
    vv_db_close(db);
    vv_db_close(s1);
    vv_db_close(s2);
}

/* A store that only reads, its actor table checked against a snapshot
 * already (reads of an unchanged store skip the actor record), still
 * learns the actor another process added before it reads a state that
 * refers to it. */
static void st_actors_seen_by_reads(void **state)
{
    const char *dir = *state;
    vv_db *db = tu_open_dir("s0", dir, NULL), *s1 = tu_open("s1", NULL);
    char a1[64], got[64];
    merge_arg m;
    int i;
    snprintf(a1, sizeof a1, "%s", vv_db_actor(s1));
    tu_put(s1, "ks", "a", "from s1", NULL);
    tu_put(db, "ks", "own", "x", NULL);
    for (i = 0; i < 3; i++) {                /* the same snapshot again */
        st_actor_of(db, "own", got, sizeof got);
        assert_string_equal(got, vv_db_actor(db));
    }
    m.dir = dir;
    m.from = s1;
    assert_int_equal(lu_child(merge_child, &m), 0);
    for (i = 0; i < 3; i++) {
        st_actor_of(db, "a", got, sizeof got);
        assert_string_equal(got, a1);
        st_actor_of(db, "own", got, sizeof got);
        assert_string_equal(got, vv_db_actor(db));
    }
    vv_db_close(db);
    vv_db_close(s1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(be_two_processes, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_keyspaces_two_processes,
                                        lu_setup_dir, lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_actors_two_processes, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_actors_seen_by_reads, lu_setup_dir,
                                        lu_teardown_dir),
    };
    return cmocka_run_group_tests_name("lmdb_processes", tests, NULL, NULL);
}
