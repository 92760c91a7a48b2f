/* test_lmdb.c - the LMDB backend and durable stores: layout, errors, growth,
 * reopen, several processes, and the lost write of a wiped directory. */
#include "testutil.h"
#include "lmdbutil.h"
#include <lmdb.h>
#include "vv_int.h"

/* ---- backend-level helpers ---------------------------------------------- */
typedef struct be {
    void *h;
    const vvi_backend *ops;
} be;

/* Open the backend on dir with options; returns the vv code. */
static int be_open_opts(be *b, const vv_options *o, char **err)
{
    return vvi_lmdb_open(o, &b->h, &b->ops, err);
}

static int be_open(be *b, const char *dir, int read_only)
{
    vv_options o;
    char *err = NULL;
    int rc;
    memset(&o, 0, sizeof o);
    o.node = "t";
    o.path = dir;
    o.read_only = read_only;
    o.no_sync = 1;
    rc = be_open_opts(b, &o, &err);
    free(err);
    return rc;
}

static void be_close(be *b)
{
    if (b->h) b->ops->close(b->h);
    b->h = NULL;
}

/* Put one record in its own write transaction. */
static void be_put1(be *b, uint32_t ks, const char *k, const char *v)
{
    assert_int_equal(b->ops->begin(b->h, 1), VV_OK);
    assert_int_equal(b->ops->put(b->h, ks, k, strlen(k), v, strlen(v)),
                     VV_OK);
    assert_int_equal(b->ops->commit(b->h), VV_OK);
}

/* Read one record in a read transaction: VV_OK and a copy in out. */
static int be_get1(be *b, uint32_t ks, const char *k, char *out, size_t n)
{
    const void *v;
    size_t vlen;
    int rc;
    assert_int_equal(b->ops->begin(b->h, 0), VV_OK);
    rc = b->ops->get(b->h, ks, k, strlen(k), &v, &vlen);
    if (rc == VV_OK) {
        assert_true(vlen < n);
        memcpy(out, v, vlen);
        out[vlen] = 0;
    }
    assert_int_equal(b->ops->commit(b->h), VV_OK);
    return rc;
}

static void expect_val(be *b, uint32_t ks, const char *k, const char *want)
{
    char got[4096];
    assert_int_equal(be_get1(b, ks, k, got, sizeof got), VV_OK);
    assert_string_equal(got, want);
}

static int setup_dir(void **state)
{
    char *d = lu_tmpdir("lmdb");
    if (!d) return -1;
    *state = d;
    return 0;
}

static int teardown_dir(void **state)
{
    lu_rmrf(*state);
    free(*state);
    return 0;
}

/* ---- backend: basic records, transactions, reopen ----------------------- */
typedef struct scan_acc {
    char keys[64][32];
    int n;
    int stop_at;
} scan_acc;

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
    expect_val(&b, 1, "a", "A1");
    expect_val(&b, 1, "b", "B1");
    expect_val(&b, 1, "", "E1");
    expect_val(&b, 0, "a", "A0");
    expect_val(&b, 127, "z", "Z127");
    expect_val(&b, 128, "a", "A128");
    expect_val(&b, 4000000000u, "q", "Qbig");
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
    expect_val(&b, 1, "k", "v1");
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
        expect_val(&b, 1, "k2", "v");
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
    expect_val(&b, 1, "b", "s");
    expect_val(&b, 1, "c", "mid");
    expect_val(&b, 1, "z", "end");
    expect_val(&b, 1, "zz", "2");
    expect_val(&b, 1, "a", "first");
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
    memset(&o, 0, sizeof o);
    o.node = "t";
    o.path = dir;
    assert_int_equal(be_open_opts(&b, &o, &err), VV_EBUSY);
    assert_non_null(err);
    assert_non_null(strstr(err, "already open"));
    free(err);
    be_close(&a);
    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    be_close(&b);
}

/* ---- map growth and the full map ------------------------------------------ */
static void be_map_grows(void **state)
{
    const char *dir = *state;
    be b;
    vv_options o;
    char *err = NULL, key[32], val[1024], got[1100];
    int i, t;
    memset(&o, 0, sizeof o);
    o.node = "t";
    o.path = dir;
    o.no_sync = 1;
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
    expect_val(&b, 8, "small49-39", val);
    be_close(&b);
}

static void be_map_full(void **state)
{
    const char *dir = *state;
    be b;
    vv_options o;
    char *err = NULL, key[32], val[2048], got[2100];
    int i, rc = VV_OK, committed = 0;
    memset(&o, 0, sizeof o);
    o.node = "t";
    o.path = dir;
    o.no_sync = 1;
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

/* ---- opening errors ---------------------------------------------------------- */
static void be_read_only_option(void **state)
{
    const char *dir = *state;
    be b;
    char sub[4096];
    assert_int_equal(be_open(&b, dir, 0), VV_OK);
    be_put1(&b, 3, "k", "v");
    be_close(&b);
    assert_int_equal(be_open(&b, dir, 1), VV_OK);
    expect_val(&b, 3, "k", "v");
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

/* A directory the process may not write: VV_EREADONLY.  As root the
 * permission bits do not bind, so the check runs in a child that drops
 * to an unprivileged user. */
static void be_read_only_directory(void **state)
{
    const char *dir = *state;
    char store[4096];
    be b;
    pid_t pid;
    lu_join(store, sizeof store, dir, "ro");
    assert_int_equal(be_open(&b, store, 0), VV_OK);
    be_put1(&b, 1, "k", "kept");
    be_close(&b);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chmod(store, 0555), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        vv_options o;
        char *err = NULL;
        void *h;
        const vvi_backend *ops;
        int rc;
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(3);
        memset(&o, 0, sizeof o);
        o.node = "t";
        o.path = store;
        rc = vvi_lmdb_open(&o, &h, &ops, &err);
        if (rc != VV_EREADONLY) {
            fprintf(stderr, "child: rc %d %s\n", rc, err ? err : "");
            _exit(1);
        }
        if (!err || !strstr(err, "read_only")) _exit(2);
        free(err);
        _exit(0);
    }
    assert_int_equal(lu_wait(pid), 0);
    assert_int_equal(chmod(store, 0755), 0);
    assert_int_equal(be_open(&b, store, 0), VV_OK);
    expect_val(&b, 1, "k", "kept");
    be_close(&b);
}

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
    memset(&o, 0, sizeof o);
    o.node = "t";
    o.path = dir;
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
    memset(&o, 0, sizeof o);
    o.node = "t";
    o.path = dir;
    assert_int_equal(be_open_opts(&b, &o, &err), VV_ECORRUPT);
    assert_non_null(strstr(err, "not a vv store"));
    free(err);
}

static uint32_t fmt_ver, fmt_compat;

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
    memset(&o, 0, sizeof o);
    o.node = "t";
    o.path = dir;
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
    expect_val(&b, 1, "k", "precious");
    be_close(&b);
}

/* ---- two processes --------------------------------------------------------- */
/* Child: n write transactions, each bumping the shared meta counter and
 * writing a data record named after the new value (it must be new). */
static int counter_child(const char *dir, int n)
{
    be b;
    int i;
    if (be_open(&b, dir, 0) != VV_OK) return 10;
    for (i = 0; i < n; i++) {
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

static int count_fn(void *ud, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    (void)key; (void)klen; (void)val; (void)vlen;
    (*(int *)ud)++;
    return 0;
}

static void be_two_processes(void **state)
{
    const char *dir = *state;
    enum { N = 300, P = 3 };
    pid_t pid[P];
    int i, n = 0;
    be b;
    const void *v;
    size_t vlen;
    uint64_t c;
    assert_int_equal(be_open(&b, dir, 0), VV_OK);     /* create first */
    be_close(&b);
    for (i = 0; i < P; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) _exit(counter_child(dir, N));
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

/* ---- store level: vv_db_open with a path -------------------------------- */
/* Open the durable store of node in dir; the clock reads *now. */
static int st_open(const char *node, const char *dir, uint64_t *now,
                   vv_db **db, char **err)
{
    vv_options o;
    memset(&o, 0, sizeof o);
    o.node = node;
    o.path = dir;
    o.no_sync = 1;
    if (now) { o.now = tu_now; o.now_ud = now; }
    return vv_db_open(&o, db, err);
}

static vv_db *st_open_ok(const char *node, const char *dir, uint64_t *now)
{
    vv_db *db = NULL;
    char *err = NULL;
    int rc = st_open(node, dir, now, &db, &err);
    if (rc) fprintf(stderr, "open %s: %s\n", dir, err ? err : "?");
    assert_int_equal(rc, VV_OK);
    free(err);
    return db;
}

static void st_put(vv_db *db, const char *ks, const char *key,
                   const char *val, const vv_clock *ctx)
{
    int rc = vv_put(db, ks, key, strlen(key), val, strlen(val), ctx, NULL);
    if (rc) fprintf(stderr, "put: %s\n", vv_errmsg(db));
    assert_int_equal(rc, VV_OK);
}

/* The export of a key (the whole state, byte for byte), or NULL. */
static unsigned char *st_export(vv_db *db, const char *ks, const char *key,
                                size_t *len)
{
    void *p = NULL;
    int rc = vv_export(db, ks, key, strlen(key), &p, len);
    if (rc == VV_ENOTFOUND) return NULL;
    assert_int_equal(rc, VV_OK);
    return p;
}

/* "v1|v2" (sibling values in order), "" when absent. */
static void st_sibs(vv_db *db, const char *ks, const char *key, char *out,
                    size_t n)
{
    vv_read *r = NULL;
    size_t i, used = 0;
    int rc = vv_get(db, ks, key, strlen(key), &r);
    out[0] = 0;
    if (rc == VV_ENOTFOUND) return;
    assert_int_equal(rc, VV_OK);
    for (i = 0; i < vv_read_count(r); i++) {
        const vv_sibling *x = vv_read_sibling(r, i);
        used += (size_t)snprintf(out + used, n - used, "%s%.*s",
                                 i ? "|" : "", (int)x->len,
                                 (const char *)x->value);
        assert_true(used < n);
    }
    vv_read_free(r);
}

static int st_collect_ks(void *ud, const char *name)
{
    char *acc = ud;
    strcat(acc, name);
    strcat(acc, ",");
    return 0;
}

static int st_collect_key(void *ud, const void *key, size_t klen)
{
    char *acc = ud;
    strncat(acc, key, klen);
    strcat(acc, ",");
    return 0;
}

/* Everything a store holds comes back after close and reopen: states
 * (siblings, tombstones, contexts, foreign actors), keyspace configs,
 * the actor, the counter and the hybrid clock. */
static void st_round_trip(void **state)
{
    const char *dir = *state;
    const char *keys[] = { "a", "b", "c", "m", "x" };
    const char *kss[] = { "carts", "carts", "carts", "carts", "prefs" };
    unsigned char *before[5], *after;
    size_t blen[5], alen, i;
    uint64_t now = 1000, now1 = 50;
    vv_db *db, *s1;
    vv_ks_config cfg;
    vv_read *r = NULL;
    vv_clock *ctx = NULL;
    char actor[64], buf[256];
    vv_stats st0, st1;

    db = st_open_ok("s0", dir, &now);
    snprintf(actor, sizeof actor, "%s", vv_db_actor(db));
    memset(&cfg, 0, sizeof cfg);
    cfg.resolver = VV_RESOLVE_LWW;
    cfg.codec = "raw";
    cfg.max_siblings = 7;
    cfg.warn_siblings = 5;
    assert_int_equal(vv_keyspace(db, "prefs", &cfg), VV_OK);
    st_put(db, "carts", "a", "eggs", NULL);          /* two siblings */
    now++;
    st_put(db, "carts", "a", "milk", NULL);
    st_put(db, "carts", "b", "gone", NULL);          /* a tombstone */
    assert_int_equal(vv_get(db, "carts", "b", 1, &r), VV_OK);
    assert_int_equal(vv_delete(db, "carts", "b", 1, vv_read_context(r),
                               NULL), VV_OK);
    vv_read_free(r);
    st_put(db, "carts", "c", "old", NULL);           /* replaced */
    assert_int_equal(vv_get(db, "carts", "c", 1, &r), VV_OK);
    st_put(db, "carts", "c", "new", vv_read_context(r));
    vv_read_free(r);
    now += 5000;
    st_put(db, "prefs", "x", "dark", NULL);
    /* a state from another node, merged in */
    s1 = tu_open("s1", &now1);
    st_put(s1, "carts", "m", "from-s1", NULL);
    {
        size_t n;
        unsigned char *e = st_export(s1, "carts", "m", &n);
        assert_int_equal(vv_merge(db, "carts", "m", 1, e, n), VV_OK);
        free(e);
    }
    st_put(db, "carts", "m", "from-s0", NULL);
    vv_db_close(s1);
    for (i = 0; i < 5; i++) {
        before[i] = st_export(db, kss[i], keys[i], &blen[i]);
        assert_non_null(before[i]);
    }
    assert_int_equal(vv_stats_get(db, NULL, &st0), VV_OK);
    vv_db_close(db);

    now = 10;                     /* the wall clock went backwards */
    db = st_open_ok("s0", dir, &now);
    assert_string_equal(vv_db_actor(db), actor);
    for (i = 0; i < 5; i++) {
        after = st_export(db, kss[i], keys[i], &alen);
        assert_non_null(after);
        assert_int_equal(alen, blen[i]);
        assert_memory_equal(after, before[i], alen);
        free(after);
        free(before[i]);
    }
    st_sibs(db, "carts", "a", buf, sizeof buf);
    assert_string_equal(buf, "eggs|milk");
    st_sibs(db, "carts", "b", buf, sizeof buf);
    assert_string_equal(buf, "");
    st_sibs(db, "carts", "c", buf, sizeof buf);
    assert_string_equal(buf, "new");
    st_sibs(db, "carts", "m", buf, sizeof buf);
    assert_true(!strcmp(buf, "from-s0|from-s1") ||
                !strcmp(buf, "from-s1|from-s0"));
    /* configs came back */
    assert_int_equal(vv_keyspace_config(db, "prefs", &cfg), VV_OK);
    assert_string_equal(cfg.resolver_name, "lww");
    assert_string_equal(cfg.codec, "raw");
    assert_int_equal(cfg.max_siblings, 7);
    assert_int_equal(cfg.warn_siblings, 5);
    assert_int_equal(cfg.resolver, VV_RESOLVE_LWW);
    buf[0] = 0;
    assert_int_equal(vv_keyspaces(db, st_collect_ks, buf), VV_OK);
    assert_non_null(strstr(buf, "carts,"));
    assert_non_null(strstr(buf, "prefs,"));
    buf[0] = 0;
    assert_int_equal(vv_keys(db, "carts", st_collect_key, buf), VV_OK);
    assert_string_equal(buf, "a,b,c,m,");
    assert_int_equal(vv_stats_get(db, NULL, &st1), VV_OK);
    assert_int_equal(st1.keys, st0.keys);
    assert_int_equal(st1.tombstones, st0.tombstones);
    assert_memory_equal(st1.siblings, st0.siblings, sizeof st0.siblings);
    assert_true(st1.bytes > 0);
    /* the counter goes on, and time does not go backwards */
    assert_int_equal(vv_put(db, "carts", "a", 1, "bacon", 5, NULL, &ctx),
                     VV_OK);
    assert_int_equal(vv_clock_get(ctx, actor, strlen(actor)), 9);
    vv_clock_free(ctx);
    assert_int_equal(vv_get(db, "carts", "a", 1, &r), VV_OK);
    assert_int_equal(vv_read_count(r), 3);
    for (i = 0; i < 3; i++) {
        const vv_sibling *x = vv_read_sibling(r, i);
        if (x->counter == 9) assert_true(x->timestamp >= 6001);
    }
    vv_read_free(r);
    vv_db_close(db);

    /* a node name that is not the store's is refused */
    {
        char *err = NULL;
        db = NULL;
        assert_int_not_equal(st_open("s9", dir, NULL, &db, &err), VV_OK);
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
    vv_db *db = st_open_ok("s0", dir, NULL);
    char key[32], buf[64];
    int i;
    assert_int_equal(vv_begin(db), VV_OK);
    for (i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%04d", i);
        st_put(db, "bulk", key, key, NULL);
    }
    assert_int_equal(vv_commit(db), VV_OK);
    assert_int_equal(vv_begin(db), VV_OK);
    st_put(db, "bulk", "aborted", "x", NULL);
    assert_int_equal(vv_abort(db), VV_OK);
    assert_int_equal(vv_begin(db), VV_OK);
    st_put(db, "bulk", "open-at-close", "x", NULL);
    vv_db_close(db);
    db = st_open_ok("s0", dir, NULL);
    for (i = 0; i < 1000; i += 111) {
        snprintf(key, sizeof key, "k%04d", i);
        st_sibs(db, "bulk", key, buf, sizeof buf);
        assert_string_equal(buf, key);
    }
    st_sibs(db, "bulk", "aborted", buf, sizeof buf);
    assert_string_equal(buf, "");
    st_sibs(db, "bulk", "open-at-close", buf, sizeof buf);
    assert_string_equal(buf, "");
    vv_db_close(db);
}

/* A full map: VV_EMAPFULL with a clear message; every acknowledged write
 * is there, the refused one is not half there; with room it goes on. */
static void st_map_full(void **state)
{
    const char *dir = *state;
    vv_options o;
    vv_db *db = NULL;
    char *err = NULL, key[32], val[4000], buf[8192];
    int i, rc = VV_OK, done = 0;
    memset(&o, 0, sizeof o);
    o.node = "s0";
    o.path = dir;
    o.no_sync = 1;
    o.map_size = 128 * 1024;
    o.map_max = 1024 * 1024;
    assert_int_equal(vv_db_open(&o, &db, &err), VV_OK);
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
    st_sibs(db, "ks", key, buf, sizeof buf);          /* the refused one */
    assert_string_equal(buf, "");
    /* an existing key that cannot grow keeps its state */
    snprintf(key, sizeof key, "k%04d", 0);
    assert_int_equal(vv_put(db, "ks", key, strlen(key), val, strlen(val),
                            NULL, NULL), VV_EMAPFULL);
    st_sibs(db, "ks", key, buf, sizeof buf);
    assert_string_equal(buf, val);
    vv_db_close(db);
    o.map_max = 0;
    assert_int_equal(vv_db_open(&o, &db, &err), VV_OK);
    for (i = 0; i < done; i++) {
        snprintf(key, sizeof key, "k%04d", i);
        st_sibs(db, "ks", key, buf, sizeof buf);
        assert_string_equal(buf, val);
    }
    st_put(db, "ks", "after", "room again", NULL);
    vv_db_close(db);
}

/* read_only: reads work, writes are refused with VV_EREADONLY. */
static void st_read_only(void **state)
{
    const char *dir = *state;
    vv_options o;
    vv_db *db = st_open_ok("s0", dir, NULL);
    char *err = NULL, buf[64];
    st_put(db, "ks", "k", "v", NULL);
    vv_db_close(db);
    memset(&o, 0, sizeof o);
    o.node = "s0";
    o.path = dir;
    o.read_only = 1;
    db = NULL;
    assert_int_equal(vv_db_open(&o, &db, &err), VV_OK);
    st_sibs(db, "ks", "k", buf, sizeof buf);
    assert_string_equal(buf, "v");
    assert_int_equal(vv_put(db, "ks", "k", 1, "w", 1, NULL, NULL),
                     VV_EREADONLY);
    assert_int_equal(vv_begin(db), VV_EREADONLY);
    vv_db_close(db);
    db = st_open_ok("s0", dir, NULL);
    st_sibs(db, "ks", "k", buf, sizeof buf);
    assert_string_equal(buf, "v");
    vv_db_close(db);
}

/* A data file that is garbage, and a store from a newer format: clear
 * errors from vv_db_open, nothing rewritten, data back once fixed. */
static void st_corrupt_and_version(void **state)
{
    const char *dir = *state;
    char sub[4096], file[4096], *err = NULL, buf[64];
    unsigned char junk[4096];
    vv_db *db = NULL;
    size_t i;
    lu_join(sub, sizeof sub, dir, "junk");
    assert_int_equal(mkdir(sub, 0777), 0);
    for (i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(i * 7 + 1);
    assert_int_equal(lu_spit(lu_join(file, sizeof file, sub, "data.mdb"),
                             junk, sizeof junk), 0);
    assert_int_equal(st_open("s0", sub, NULL, &db, &err), VV_ECORRUPT);
    assert_null(db);
    assert_non_null(strstr(err, "not an LMDB environment"));
    free(err);

    lu_join(sub, sizeof sub, dir, "newer");
    db = st_open_ok("s0", sub, NULL);
    st_put(db, "ks", "k", "kept", NULL);
    vv_db_close(db);
    fmt_ver = 7; fmt_compat = 5;
    raw_edit(sub, set_format);
    err = NULL;
    assert_int_equal(st_open("s0", sub, NULL, &db, &err), VV_EVERSION);
    assert_non_null(strstr(err, "version 7"));
    free(err);
    fmt_ver = 1; fmt_compat = 1;
    raw_edit(sub, set_format);
    db = st_open_ok("s0", sub, NULL);
    st_sibs(db, "ks", "k", buf, sizeof buf);
    assert_string_equal(buf, "kept");
    vv_db_close(db);
}

/* Child: n puts without context on shared keys and as many on own keys. */
static int st_writer(const char *dir, int id, int n)
{
    vv_db *db = NULL;
    vv_ks_config cfg;
    char *err = NULL, key[64], val[64];
    int i;
    if (st_open("s0", dir, NULL, &db, &err) != VV_OK) return 10;
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

static int cmp_u64p(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Several processes writing one directory at once: they share the
 * store's actor, and no dot is given out twice (every write without a
 * context stays a sibling, each with its own counter). */
static void st_two_processes(void **state)
{
    const char *dir = *state;
    enum { P = 3, N = 200 };
    pid_t pid[P];
    vv_db *db;
    uint64_t *dots;
    size_t nd = 0, i, k;
    int p;
    char key[32];
    db = st_open_ok("s0", dir, NULL);        /* create it first */
    vv_db_close(db);
    for (p = 0; p < P; p++) {
        pid[p] = fork();
        assert_true(pid[p] >= 0);
        if (pid[p] == 0) _exit(st_writer(dir, p, N));
    }
    for (p = 0; p < P; p++) assert_int_equal(lu_wait(pid[p]), 0);
    db = st_open_ok("s0", dir, NULL);
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
            assert_int_equal(x->actor_len, strlen(vv_db_actor(db)));
            assert_memory_equal(x->actor, vv_db_actor(db), x->actor_len);
            dots[nd++] = x->counter;
        }
        vv_read_free(r);
    }
    qsort(dots, nd, sizeof *dots, cmp_u64p);
    for (i = 1; i < nd; i++) assert_true(dots[i] != dots[i - 1]);
    /* the counter went exactly once per write of every process */
    {
        vv_clock *ctx = NULL;
        const char *a = vv_db_actor(db);
        assert_int_equal(vv_put(db, "ks", "last", 4, "x", 1, NULL, &ctx),
                         VV_OK);
        assert_int_equal(vv_clock_get(ctx, a, strlen(a)),
                         (uint64_t)P * (2 * N + (N / 50) * 5) + 1);
        vv_clock_free(ctx);
    }
    free(dots);
    vv_db_close(db);
}

/* The lost write of a wiped directory: s0 writes k, s1 gets the state; s0's directory
 * is wiped and s0 starts again, empty, and writes k without a context.
 * That write must not reuse s0's old dot: after merging into s1 both
 * writes are there as siblings. */
static void st_wiped_dir(void **state)
{
    const char *dir = *state;
    char d0[4096], d1[4096], buf[256], old_actor[64];
    vv_db *s0, *s1;
    unsigned char *e;
    size_t n;
    vv_read *r = NULL;
    lu_join(d0, sizeof d0, dir, "s0");
    lu_join(d1, sizeof d1, dir, "s1");
    s0 = st_open_ok("s0", d0, NULL);
    s1 = st_open_ok("s1", d1, NULL);
    snprintf(old_actor, sizeof old_actor, "%s", vv_db_actor(s0));
    st_put(s0, "ks", "k", "first", NULL);
    e = st_export(s0, "ks", "k", &n);
    assert_int_equal(vv_merge(s1, "ks", "k", 1, e, n), VV_OK);
    free(e);
    vv_db_close(s0);

    lu_rmrf(d0);                                  /* the disk is lost */
    s0 = st_open_ok("s0", d0, NULL);
    assert_string_not_equal(vv_db_actor(s0), old_actor);
    assert_int_equal(strncmp(vv_db_actor(s0), "s0.", 3), 0);
    st_put(s0, "ks", "k", "second", NULL);
    e = st_export(s0, "ks", "k", &n);
    assert_int_equal(vv_merge(s1, "ks", "k", 1, e, n), VV_OK);
    free(e);
    st_sibs(s1, "ks", "k", buf, sizeof buf);
    assert_true(!strcmp(buf, "first|second") || !strcmp(buf, "second|first"));
    /* both siblings are of node s0, with different actors */
    assert_int_equal(vv_get(s1, "ks", "k", 1, &r), VV_OK);
    assert_int_equal(vv_read_count(r), 2);
    assert_int_equal(vv_read_sibling(r, 0)->node_len, 2);
    assert_int_equal(vv_read_sibling(r, 1)->node_len, 2);
    assert_int_equal(vv_read_sibling(r, 0)->counter, 1);
    assert_int_equal(vv_read_sibling(r, 1)->counter, 1);
    vv_read_free(r);
    /* and s1's state merged back into the new s0 shows both too, durably */
    e = st_export(s1, "ks", "k", &n);
    assert_int_equal(vv_merge(s0, "ks", "k", 1, e, n), VV_OK);
    free(e);
    vv_db_close(s0);
    vv_db_close(s1);
    s0 = st_open_ok("s0", d0, NULL);
    st_sibs(s0, "ks", "k", buf, sizeof buf);
    assert_true(!strcmp(buf, "first|second") || !strcmp(buf, "second|first"));
    vv_db_close(s0);
}

/* A keyspace created inside an aborted batch, or by a write the full map
 * refused, is not left behind in memory: a later write records it, and
 * the write is there after reopen (regression: it was lost). */
static void st_keyspace_abort(void **state)
{
    const char *dir = *state;
    vv_options o;
    vv_db *db;
    char *err = NULL, buf[64], big[3000];
    db = st_open_ok("s0", dir, NULL);
    assert_int_equal(vv_begin(db), VV_OK);
    st_put(db, "fresh", "k", "in the aborted batch", NULL);
    assert_int_equal(vv_abort(db), VV_OK);
    st_put(db, "fresh", "k", "after", NULL);
    vv_db_close(db);

    memset(&o, 0, sizeof o);
    o.node = "s0";
    o.path = dir;
    o.no_sync = 1;
    o.map_max = 64 * 1024;               /* at its bound from the start */
    db = NULL;
    assert_int_equal(vv_db_open(&o, &db, &err), VV_OK);
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
    db = st_open_ok("s0", dir, NULL);
    st_put(db, "another", "k", "fits now", NULL);
    vv_db_close(db);
    db = st_open_ok("s0", dir, NULL);
    st_sibs(db, "fresh", "k", buf, sizeof buf);
    assert_string_equal(buf, "after");
    st_sibs(db, "another", "k", buf, sizeof buf);
    assert_string_equal(buf, "fits now");
    buf[0] = 0;
    assert_int_equal(vv_keyspaces(db, st_collect_ks, buf), VV_OK);
    assert_non_null(strstr(buf, "fresh,"));
    assert_non_null(strstr(buf, "another,"));
    vv_db_close(db);
}

/* Keyspaces created by two processes, each unaware of the other's: both
 * are recorded, with distinct ids, and both list after reopen. */
static void st_keyspaces_two_processes(void **state)
{
    const char *dir = *state;
    vv_db *db = st_open_ok("s0", dir, NULL);
    char buf[256];
    pid_t pid;
    st_put(db, "base", "k", "v", NULL);     /* db now knows the list */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        vv_db *c = NULL;
        char *err = NULL;
        if (st_open("s0", dir, NULL, &c, &err) != VV_OK) _exit(1);
        if (vv_put(c, "theirs", "k", 1, "t", 1, NULL, NULL)) _exit(2);
        vv_db_close(c);
        _exit(0);
    }
    assert_int_equal(lu_wait(pid), 0);
    st_put(db, "ours", "k", "o", NULL);
    st_sibs(db, "theirs", "k", buf, sizeof buf);
    assert_string_equal(buf, "t");
    st_sibs(db, "ours", "k", buf, sizeof buf);
    assert_string_equal(buf, "o");
    vv_db_close(db);
    db = st_open_ok("s0", dir, NULL);
    buf[0] = 0;
    assert_int_equal(vv_keyspaces(db, st_collect_ks, buf), VV_OK);
    assert_string_equal(buf, "base,theirs,ours,");
    st_sibs(db, "theirs", "k", buf, sizeof buf);
    assert_string_equal(buf, "t");
    st_sibs(db, "ours", "k", buf, sizeof buf);
    assert_string_equal(buf, "o");
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

/* Actors that two processes learn (from merged states) go into the one
 * actor table without taking each other's numbers. */
static void st_actors_two_processes(void **state)
{
    const char *dir = *state;
    vv_db *db = st_open_ok("s0", dir, NULL), *s1 = tu_open("s1", NULL),
          *s2 = tu_open("s2", NULL);
    char a1[64], a2[64], got[64];
    unsigned char *e;
    size_t n;
    pid_t pid;
    snprintf(a1, sizeof a1, "%s", vv_db_actor(s1));
    snprintf(a2, sizeof a2, "%s", vv_db_actor(s2));
    st_put(s1, "ks", "a", "from s1", NULL);
    st_put(s2, "ks", "b", "from s2", NULL);
    st_put(db, "ks", "own", "x", NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        vv_db *c = NULL;
        char *err = NULL;
        unsigned char *ce;
        size_t cn;
        if (st_open("s0", dir, NULL, &c, &err) != VV_OK) _exit(1);
        if (vv_export(s1, "ks", "a", 1, (void **)&ce, &cn)) _exit(2);
        if (vv_merge(c, "ks", "a", 1, ce, cn)) _exit(3);
        free(ce);
        vv_db_close(c);
        _exit(0);
    }
    assert_int_equal(lu_wait(pid), 0);
    e = st_export(s2, "ks", "b", &n);
    assert_int_equal(vv_merge(db, "ks", "b", 1, e, n), VV_OK);
    free(e);
    st_actor_of(db, "a", got, sizeof got);
    assert_string_equal(got, a1);
    st_actor_of(db, "b", got, sizeof got);
    assert_string_equal(got, a2);
    vv_db_close(db);
    db = st_open_ok("s0", dir, NULL);
    st_actor_of(db, "a", got, sizeof got);
    assert_string_equal(got, a1);
    st_actor_of(db, "b", got, sizeof got);
    assert_string_equal(got, a2);
    st_actor_of(db, "own", got, sizeof got);
    assert_string_equal(got, vv_db_actor(db));
    vv_db_close(db);
    vv_db_close(s1);
    vv_db_close(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(be_records_survive_reopen,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(be_transactions, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_get_then_put, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_one_open_per_process, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_map_grows, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_map_full, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_read_only_option, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_read_only_directory, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_not_a_directory, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_corrupt_file, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_damaged_store, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_foreign_environment, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_format_version, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(be_two_processes, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(st_round_trip, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(st_batches, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(st_map_full, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(st_read_only, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(st_corrupt_and_version, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(st_two_processes, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(st_wiped_dir, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(st_keyspace_abort, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(st_keyspaces_two_processes,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(st_actors_two_processes,
                                        setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests_name("lmdb", tests, NULL, NULL);
}
