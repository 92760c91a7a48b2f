/* test_lmdb_open.c - opening a durable store: read-only stores and
 * directories, and what is not a vv store (a file, garbage, damaged meta
 * pages, another program's LMDB, a newer format): clear errors, nothing
 * rewritten. */
#include "beutil.h"
#include <lmdb.h>

/* read_only on the backend: reads work, write transactions are refused;
 * a directory without a store is an error. */
static void be_read_only_option(void **state)
{
    const char *dir = *state;
    be b;
    char sub[4096];
    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    be_put1(&b, 3, "k", "v");
    be_close(&b);
    assert_int_equal(be_open(&b, dir, 1), VV_OK);
    be_expect(&b, 3, "k", "v");
    assert_int_equal(b.ops->begin(b.h, 1), VV_EREADONLY);
    assert_non_null(strstr(b.ops->errmsg(b.h), "read-only"));
    be_close(&b);
    /* read-only on a directory without a store: a clear error */
    lu_join(sub, sizeof sub, dir, "empty");
    assert_int_equal(mkdir(sub, 0777), 0);
    assert_int_equal(be_open(&b, sub, 1), ENOENT);
    lu_join(sub, sizeof sub, dir, "missing");
    assert_int_equal(be_open(&b, sub, 1), ENOENT);
}

/* Child: as an unprivileged user, opening the store in arg (a directory
 * path) must fail with VV_EREADONLY and a message naming read_only. */
static int ro_child(void *arg)
{
    vv_options o;
    char *err = NULL;
    be b;
    int rc;
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        return 3;
    tu_options(&o, "t", arg, NULL);
    rc = be_open_opts(&b, &o, &err);
    if (rc != VV_EREADONLY) {
        fprintf(stderr, "child: rc %d %s\n", rc, err ? err : "");
        return 1;
    }
    if (!err || !strstr(err, "read_only")) return 2;
    free(err);
    return 0;
}

/* A directory the process may not write: VV_EREADONLY.  As root the
 * permission bits do not bind, so the check runs in a child that drops
 * to an unprivileged user. */
static void be_read_only_directory(void **state)
{
    const char *dir = *state;
    char store[4096];
    be b;
    lu_join(store, sizeof store, dir, "ro");
    assert_int_equal(be_open(&b, store, 0), VV_OK);
    be_put1(&b, 1, "k", "kept");
    be_close(&b);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chmod(store, 0555), 0);
    assert_int_equal(lu_child(ro_child, store), 0);
    assert_int_equal(chmod(store, 0755), 0);
    assert_int_equal(be_open(&b, store, 0), VV_OK);
    be_expect(&b, 1, "k", "kept");
    be_close(&b);
}

/* read_only: reads work, writes are refused with VV_EREADONLY. */
static void st_read_only(void **state)
{
    const char *dir = *state;
    vv_options o;
    vv_db *db = tu_open_dir("s0", dir, NULL);
    tu_put(db, "ks", "k", "v", NULL);
    vv_db_close(db);
    tu_options(&o, "s0", dir, NULL);
    o.read_only = 1;
    db = tu_open_opts(&o);
    assert_string_equal(tu_sibs(db, "ks", "k"), "v");
    assert_int_equal(vv_put(db, "ks", "k", 1, "w", 1, NULL, NULL),
                     VV_EREADONLY);
    assert_int_equal(vv_begin(db), VV_EREADONLY);
    vv_db_close(db);
    db = tu_open_dir("s0", dir, NULL);
    assert_string_equal(tu_sibs(db, "ks", "k"), "v");
    vv_db_close(db);
}

/* A plain file where the directory belongs: ENOTDIR. */
static void be_not_a_directory(void **state)
{
    const char *dir = *state;
    char file[4096];
    be b;
    lu_join(file, sizeof file, dir, "plain");
    assert_int_equal(lu_spit(file, "hello", 5), 0);
    assert_int_equal(be_open(&b, file, 0), ENOTDIR);
}

/* A data.mdb that is not LMDB: VV_ECORRUPT, and the file is untouched. */
static void be_corrupt_file(void **state)
{
    const char *dir = *state;
    char file[4096];
    unsigned char junk[8192], *back;
    size_t i, len = 0;
    be b;
    vv_options o;
    char *err = NULL;
    for (i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(i * 131 + 7);
    lu_join(file, sizeof file, dir, "data.mdb");
    assert_int_equal(lu_spit(file, junk, sizeof junk), 0);
    tu_options(&o, "t", dir, NULL);
    assert_int_equal(be_open_opts(&b, &o, &err), VV_ECORRUPT);
    assert_non_null(err);
    assert_non_null(strstr(err, "not an LMDB environment"));
    free(err);
    back = lu_slurp(file, &len);
    assert_non_null(back);
    assert_int_equal(len, sizeof junk);
    assert_memory_equal(back, junk, sizeof junk);
    free(back);
}

/* A damaged store (both meta pages overwritten): a clear error, not a
 * crash, and the file is not rewritten by the failed open. */
static void be_damaged_store(void **state)
{
    const char *dir = *state;
    char file[4096];
    unsigned char *p, *back;
    size_t len = 0, len2 = 0;
    be b;
    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    be_put1(&b, 1, "k", "v");
    be_close(&b);
    lu_join(file, sizeof file, dir, "data.mdb");
    p = lu_slurp(file, &len);
    assert_non_null(p);
    assert_true(len >= 8192);
    memset(p, 0xA5, 8192);
    assert_int_equal(lu_spit(file, p, len), 0);
    assert_int_equal(be_open(&b, dir, 0), VV_ECORRUPT);
    back = lu_slurp(file, &len2);
    assert_non_null(back);
    assert_int_equal(len2, len);
    assert_memory_equal(back, p, len);
    free(back);
    free(p);
}

/* Raw LMDB: open dir's environment and run fn in a write transaction. */
static void raw_edit(const char *dir, void (*fn)(MDB_txn *txn))
{
    MDB_env *env;
    MDB_txn *txn;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0666), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    fn(txn);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* raw_edit step: a record in the unnamed database, as other programs do. */
static void put_foreign(MDB_txn *txn)
{
    MDB_dbi dbi;
    MDB_val k = { 5, (void *)"hello" }, v = { 5, (void *)"world" };
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
}

/* An LMDB environment of some other program: refused, not adopted. */
static void be_foreign_environment(void **state)
{
    const char *dir = *state;
    be b;
    vv_options o;
    char *err = NULL;
    raw_edit(dir, put_foreign);
    tu_options(&o, "t", dir, NULL);
    assert_int_equal(be_open_opts(&b, &o, &err), VV_ECORRUPT);
    assert_non_null(strstr(err, "not a vv store"));
    free(err);
}

/* The format version and the oldest version that can read it, for
 * set_format to write into the header. */
static uint32_t fmt_ver, fmt_compat;

/* raw_edit step: rewrite the versions in the store's format record. */
static void set_format(MDB_txn *txn)
{
    MDB_dbi dbi;
    MDB_val k = { 6, (void *)"format" }, v;
    unsigned char rec[16];
    int i;
    assert_int_equal(mdb_dbi_open(txn, "header", 0, &dbi), 0);
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    assert_int_equal(v.mv_size, 16);
    memcpy(rec, v.mv_data, 16);
    assert_memory_equal(rec, "vv-lmdb", 8);
    for (i = 0; i < 4; i++) {
        rec[8 + i] = (unsigned char)(fmt_ver >> (8 * i));
        rec[12 + i] = (unsigned char)(fmt_compat >> (8 * i));
    }
    v.mv_data = rec;
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
}

/* A store from a newer format: VV_EVERSION naming the versions; a newer
 * format that declares itself readable by format 1 opens. */
static void be_format_version(void **state)
{
    const char *dir = *state;
    be b;
    vv_options o;
    char *err = NULL;
    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    be_put1(&b, 1, "k", "precious");
    be_close(&b);

    fmt_ver = 2; fmt_compat = 2;
    raw_edit(dir, set_format);
    tu_options(&o, "t", dir, NULL);
    assert_int_equal(be_open_opts(&b, &o, &err), VV_EVERSION);
    assert_non_null(err);
    assert_non_null(strstr(err, "version 2"));
    assert_non_null(strstr(err, "upgrade"));
    free(err);
    o.read_only = 1;
    assert_int_equal(be_open_opts(&b, &o, &err), VV_EVERSION);
    free(err);

    fmt_ver = 3; fmt_compat = 1;
    raw_edit(dir, set_format);
    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    be_expect(&b, 1, "k", "precious");
    be_close(&b);
}

/* A data file that is garbage, and a store from a newer format: clear
 * errors from vv_db_open, nothing rewritten, data back once fixed. */
static void st_corrupt_and_version(void **state)
{
    const char *dir = *state;
    char sub[4096], file[4096], *err = NULL;
    unsigned char junk[4096];
    vv_options o;
    vv_db *db = NULL;
    size_t i;
    lu_join(sub, sizeof sub, dir, "junk");
    assert_int_equal(mkdir(sub, 0777), 0);
    for (i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(i * 7 + 1);
    assert_int_equal(lu_spit(lu_join(file, sizeof file, sub, "data.mdb"),
                             junk, sizeof junk), 0);
    tu_options(&o, "s0", sub, NULL);
    assert_int_equal(vv_db_open(&o, &db, &err), VV_ECORRUPT);
    assert_null(db);
    assert_non_null(strstr(err, "not an LMDB environment"));
    free(err);

    lu_join(sub, sizeof sub, dir, "newer");
    db = tu_open_dir("s0", sub, NULL);
    tu_put(db, "ks", "k", "kept", NULL);
    vv_db_close(db);
    fmt_ver = 7; fmt_compat = 5;
    raw_edit(sub, set_format);
    err = NULL;
    tu_options(&o, "s0", sub, NULL);
    assert_int_equal(vv_db_open(&o, &db, &err), VV_EVERSION);
    assert_non_null(strstr(err, "version 7"));
    free(err);
    fmt_ver = 1; fmt_compat = 1;
    raw_edit(sub, set_format);
    db = tu_open_dir("s0", sub, NULL);
    assert_string_equal(tu_sibs(db, "ks", "k"), "kept");
    vv_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(be_read_only_option, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(be_read_only_directory, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_read_only, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(be_not_a_directory, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(be_corrupt_file, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(be_damaged_store, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(be_foreign_environment, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(be_format_version, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_corrupt_and_version, lu_setup_dir,
                                        lu_teardown_dir),
    };
    return cmocka_run_group_tests_name("lmdb_open", tests, NULL, NULL);
}
