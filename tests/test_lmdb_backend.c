/* test_lmdb_backend.c - the LMDB backend's records: keyspaces and keys,
 * scans, transactions, the get-then-put shortcut, one open per process. */
#include "beutil.h"

/* What a scan saw: its keys in order; stop_at makes it stop there. */
typedef struct scan_acc {
    char keys[64][32];
    int n;
    int stop_at;
} scan_acc;

/* Scan callback: record the key; return 7 at the stop_at-th key. */
static int scan_fn(void *ud, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
    scan_acc *a = ud;
    (void)val; (void)vlen;
    if (a->n >= 64 || klen >= 32) return -1;
    memcpy(a->keys[a->n], key, klen);
    a->keys[a->n][klen] = 0;
    a->n++;
    return a->stop_at && a->n == a->stop_at ? 7 : 0;
}

/* Records of every keyspace and meta records come back after reopen;
 * scans see one keyspace in bytewise key order. */
static void be_records_survive_reopen(void **state)
{
    const char *dir = *state;
    be b;
    const void *v;
    size_t vlen;
    scan_acc acc;
    char got[64];

    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    assert_string_equal(b.ops->name, "lmdb");
    assert_int_equal(b.ops->begin(b.h, 1), VV_OK);
    /* keyspaces 0, 1, 127, 128 (a two-byte prefix) and a big id */
    assert_int_equal(b.ops->put(b.h, 1, "b", 1, "B1", 2), VV_OK);
    assert_int_equal(b.ops->put(b.h, 1, "a", 1, "A1", 2), VV_OK);
    assert_int_equal(b.ops->put(b.h, 1, "ab", 2, "AB1", 3), VV_OK);
    assert_int_equal(b.ops->put(b.h, 1, "", 0, "E1", 2), VV_OK);
    assert_int_equal(b.ops->put(b.h, 0, "a", 1, "A0", 2), VV_OK);
    assert_int_equal(b.ops->put(b.h, 127, "z", 1, "Z127", 4), VV_OK);
    assert_int_equal(b.ops->put(b.h, 128, "a", 1, "A128", 4), VV_OK);
    assert_int_equal(b.ops->put(b.h, 4000000000u, "q", 1, "Qbig", 4), VV_OK);
    assert_int_equal(b.ops->meta_put(b.h, "actor", "s0.ABCDEFGH", 11),
                     VV_OK);
    assert_int_equal(b.ops->put(b.h, 1, "gone", 4, "x", 1), VV_OK);
    assert_int_equal(b.ops->del(b.h, 1, "gone", 4), VV_OK);
    assert_int_equal(b.ops->del(b.h, 1, "never", 5), VV_OK);
    /* a read inside the write transaction sees its own writes */
    assert_int_equal(b.ops->get(b.h, 1, "a", 1, &v, &vlen), VV_OK);
    assert_int_equal(vlen, 2);
    assert_memory_equal(v, "A1", 2);
    assert_int_equal(b.ops->commit(b.h), VV_OK);
    be_close(&b);

    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    be_expect(&b, 1, "a", "A1");
    be_expect(&b, 1, "b", "B1");
    be_expect(&b, 1, "", "E1");
    be_expect(&b, 0, "a", "A0");
    be_expect(&b, 127, "z", "Z127");
    be_expect(&b, 128, "a", "A128");
    be_expect(&b, 4000000000u, "q", "Qbig");
    assert_int_equal(be_get1(&b, 1, "gone", got, sizeof got), VV_ENOTFOUND);
    assert_int_equal(be_get1(&b, 2, "a", got, sizeof got), VV_ENOTFOUND);

    assert_int_equal(b.ops->begin(b.h, 0), VV_OK);
    assert_int_equal(b.ops->meta_get(b.h, "actor", &v, &vlen), VV_OK);
    assert_int_equal(vlen, 11);
    assert_memory_equal(v, "s0.ABCDEFGH", 11);
    assert_int_equal(b.ops->meta_get(b.h, "nothing", &v, &vlen),
                     VV_ENOTFOUND);
    /* keyspace 1 in bytewise key order, nothing of the other keyspaces */
    memset(&acc, 0, sizeof acc);
    assert_int_equal(b.ops->scan(b.h, 1, scan_fn, &acc), VV_OK);
    assert_int_equal(acc.n, 4);
    assert_string_equal(acc.keys[0], "");
    assert_string_equal(acc.keys[1], "a");
    assert_string_equal(acc.keys[2], "ab");
    assert_string_equal(acc.keys[3], "b");
    memset(&acc, 0, sizeof acc);
    assert_int_equal(b.ops->scan(b.h, 128, scan_fn, &acc), VV_OK);
    assert_int_equal(acc.n, 1);
    memset(&acc, 0, sizeof acc);
    assert_int_equal(b.ops->scan(b.h, 5, scan_fn, &acc), VV_OK);
    assert_int_equal(acc.n, 0);
    /* from a start key on: the first key >= start, then the rest */
    memset(&acc, 0, sizeof acc);
    assert_int_equal(b.ops->scan_from(b.h, 1, "aa", 2, scan_fn, &acc), VV_OK);
    assert_int_equal(acc.n, 2);
    assert_string_equal(acc.keys[0], "ab");
    assert_string_equal(acc.keys[1], "b");
    memset(&acc, 0, sizeof acc);
    assert_int_equal(b.ops->scan_from(b.h, 1, "a", 1, scan_fn, &acc), VV_OK);
    assert_int_equal(acc.n, 3);
    assert_string_equal(acc.keys[0], "a");
    memset(&acc, 0, sizeof acc);
    assert_int_equal(b.ops->scan_from(b.h, 1, "c", 1, scan_fn, &acc), VV_OK);
    assert_int_equal(acc.n, 0);
    memset(&acc, 0, sizeof acc);
    assert_int_equal(b.ops->scan_from(b.h, 127, "", 0, scan_fn, &acc),
                     VV_OK);
    assert_int_equal(acc.n, 1);
    assert_string_equal(acc.keys[0], "z");
    {   /* a start longer than any LMDB key still orders correctly */
        char big[700];
        memset(big, 'a', sizeof big);
        memset(&acc, 0, sizeof acc);
        assert_int_equal(b.ops->scan_from(b.h, 1, big, sizeof big, scan_fn,
                                          &acc), VV_OK);
        assert_int_equal(acc.n, 2);
        assert_string_equal(acc.keys[0], "ab");
    }
    /* a non-zero return stops the scan and comes back */
    memset(&acc, 0, sizeof acc);
    acc.stop_at = 2;
    assert_int_equal(b.ops->scan(b.h, 1, scan_fn, &acc), 7);
    assert_int_equal(acc.n, 2);
    assert_int_equal(b.ops->commit(b.h), VV_OK);
    be_close(&b);
}

/* Aborted writes leave nothing; one transaction at a time; a key too long
 * for LMDB is refused clearly and the transaction goes on. */
static void be_transactions(void **state)
{
    const char *dir = *state;
    be b;
    char got[64];
    uint64_t bytes = 0;

    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    be_put1(&b, 1, "k", "v1");

    /* an aborted write leaves nothing */
    assert_int_equal(b.ops->begin(b.h, 1), VV_OK);
    assert_int_equal(b.ops->put(b.h, 1, "k", 1, "v2", 2), VV_OK);
    assert_int_equal(b.ops->put(b.h, 1, "new", 3, "n", 1), VV_OK);
    assert_int_equal(b.ops->meta_put(b.h, "m", "x", 1), VV_OK);
    b.ops->abort(b.h);
    be_expect(&b, 1, "k", "v1");
    assert_int_equal(be_get1(&b, 1, "new", got, sizeof got), VV_ENOTFOUND);

    /* one transaction at a time; no writes in a read transaction */
    assert_int_equal(b.ops->begin(b.h, 0), VV_OK);
    assert_int_equal(b.ops->begin(b.h, 1), VV_EBUSY);
    assert_int_equal(b.ops->put(b.h, 1, "k", 1, "v3", 2), VV_EREADONLY);
    assert_int_equal(b.ops->meta_put(b.h, "m", "x", 1), VV_EREADONLY);
    b.ops->abort(b.h);
    /* no transaction at all */
    assert_int_equal(b.ops->commit(b.h), VV_EBUSY);
    assert_int_equal(b.ops->put(b.h, 1, "k", 1, "v3", 2), VV_EBUSY);
    assert_true(strlen(b.ops->errmsg(b.h)) > 0);
    b.ops->abort(b.h);          /* harmless */

    /* a key LMDB cannot hold: a clear limit error, and never found */
    {
        char big[600];
        const void *v;
        size_t vlen;
        memset(big, 'x', sizeof big);
        assert_int_equal(b.ops->begin(b.h, 1), VV_OK);
        assert_int_equal(b.ops->put(b.h, 1, big, sizeof big, "v", 1),
                         VV_ELIMIT);
        assert_non_null(strstr(b.ops->errmsg(b.h), "too long"));
        assert_int_equal(b.ops->get(b.h, 1, big, sizeof big, &v, &vlen),
                         VV_ENOTFOUND);
        /* the transaction is still usable after a refused key */
        assert_int_equal(b.ops->put(b.h, 1, "k2", 2, "v", 1), VV_OK);
        assert_int_equal(b.ops->commit(b.h), VV_OK);
        be_expect(&b, 1, "k2", "v");
    }

    assert_int_equal(b.ops->bytes(b.h, &bytes), VV_OK);
    assert_true(bytes >= 4096);
    be_close(&b);
}

/* A get in a write transaction and the put of the same key that follows
 * take the shortcut (in place, or appended at the end); every mix of gets
 * and puts must still land exactly where plain puts would. */
static void be_get_then_put(void **state)
{
    const char *dir = *state;
    be b;
    const void *v;
    size_t vlen, i;
    char big[3000];
    scan_acc acc;
    uint32_t log = 0x40000000u | 1;
    memset(big, 'B', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    be_put1(&b, 1, "b", "1");
    be_put1(&b, 1, "d", "1");
    assert_int_equal(b.ops->begin(b.h, 1), VV_OK);
    /* existing key: replaced in place, larger, smaller, overflow page */
    assert_int_equal(b.ops->get(b.h, 1, "b", 1, &v, &vlen), VV_OK);
    assert_int_equal(b.ops->put(b.h, 1, "b", 1, "longer value", 12), VV_OK);
    assert_int_equal(b.ops->get(b.h, 1, "b", 1, &v, &vlen), VV_OK);
    assert_int_equal(b.ops->put(b.h, 1, "b", 1, big, strlen(big)), VV_OK);
    assert_int_equal(b.ops->get(b.h, 1, "b", 1, &v, &vlen), VV_OK);
    assert_int_equal(vlen, strlen(big));
    assert_int_equal(b.ops->put(b.h, 1, "b", 1, "s", 1), VV_OK);
    /* absent beyond the end: appended; absent in the middle: inserted */
    assert_int_equal(b.ops->get(b.h, 1, "z", 1, &v, &vlen), VV_ENOTFOUND);
    assert_int_equal(b.ops->put(b.h, 1, "z", 1, "end", 3), VV_OK);
    assert_int_equal(b.ops->get(b.h, 1, "c", 1, &v, &vlen), VV_ENOTFOUND);
    assert_int_equal(b.ops->put(b.h, 1, "c", 1, "mid", 3), VV_OK);
    /* a get of one key, then a put of another */
    assert_int_equal(b.ops->get(b.h, 1, "y", 1, &v, &vlen), VV_ENOTFOUND);
    assert_int_equal(b.ops->put(b.h, 1, "a", 1, "first", 5), VV_OK);
    /* a get, other writes in between, then the put */
    assert_int_equal(b.ops->get(b.h, 1, "zz", 2, &v, &vlen), VV_ENOTFOUND);
    assert_int_equal(b.ops->meta_put(b.h, "m", "x", 1), VV_OK);
    assert_int_equal(b.ops->put(b.h, 1, "zzz", 3, "3", 1), VV_OK);
    assert_int_equal(b.ops->put(b.h, 1, "zz", 2, "2", 1), VV_OK);
    /* change-log keyspace: in order (appended) and out of order */
    assert_int_equal(b.ops->put(b.h, log, "\0\0\0\2", 4, "k2", 2), VV_OK);
    assert_int_equal(b.ops->put(b.h, log, "\0\0\0\3", 4, "k3", 2), VV_OK);
    assert_int_equal(b.ops->put(b.h, log, "\0\0\0\1", 4, "k1", 2), VV_OK);
    assert_int_equal(b.ops->put(b.h, log, "\0\0\0\3", 4, "k3b", 3), VV_OK);
    assert_int_equal(b.ops->del(b.h, log, "\0\0\0\2", 4), VV_OK);
    assert_int_equal(b.ops->get(b.h, log, "\0\0\0\3", 4, &v, &vlen), VV_OK);
    assert_int_equal(vlen, 3);
    assert_int_equal(b.ops->commit(b.h), VV_OK);
    be_close(&b);

    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    assert_int_equal(b.ops->begin(b.h, 0), VV_OK);
    memset(&acc, 0, sizeof acc);
    assert_int_equal(b.ops->scan(b.h, 1, scan_fn, &acc), VV_OK);
    {
        const char *want[] = { "a", "b", "c", "d", "z", "zz", "zzz" };
        assert_int_equal(acc.n, 7);
        for (i = 0; i < 7; i++) assert_string_equal(acc.keys[i], want[i]);
    }
    memset(&acc, 0, sizeof acc);
    assert_int_equal(b.ops->scan(b.h, log, scan_fn, &acc), VV_OK);
    assert_int_equal(acc.n, 2);
    assert_int_equal(acc.keys[0][3], 1);
    assert_int_equal(acc.keys[1][3], 3);
    b.ops->abort(b.h);
    be_expect(&b, 1, "b", "s");
    be_expect(&b, 1, "c", "mid");
    be_expect(&b, 1, "z", "end");
    be_expect(&b, 1, "zz", "2");
    be_expect(&b, 1, "a", "first");
    be_close(&b);
}

/* The same directory cannot be open twice in one process (LMDB would lose
 * its locks); after a close it opens again. */
static void be_one_open_per_process(void **state)
{
    const char *dir = *state;
    be a, b;
    vv_options o;
    char *err = NULL;
    assert_int_equal(be_open(&a, dir, 0), VV_OK);
    tu_options(&o, "t", dir, NULL);
    assert_int_equal(be_open_opts(&b, &o, &err), VV_EBUSY);
    assert_non_null(err);
    assert_non_null(strstr(err, "already open"));
    free(err);
    be_close(&a);
    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    be_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(be_records_survive_reopen, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(be_transactions, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(be_get_then_put, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(be_one_open_per_process, lu_setup_dir,
                                        lu_teardown_dir),
    };
    return cmocka_run_group_tests_name("lmdb_backend", tests, NULL, NULL);
}
