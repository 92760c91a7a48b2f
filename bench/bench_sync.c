/* bench_sync.c - keyspace sync: digest and delta cost against the
 * difference, versus exporting every key; apply throughput. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vv.h"
#include "../tests/lmdbutil.h"
#include "benchutil.h"

static void check(vv_db *db, int rc, const char *what)
{
    if (rc == VV_OK) return;
    fprintf(stderr, "bench_sync: %s: %s (%s)\n", what, vv_strerror(rc),
            db ? vv_errmsg(db) : "");
    exit(1);
}

static vv_db *open_store(const char *node, const char *path)
{
    vv_options o;
    vv_db *db = NULL;
    char *err = NULL;
    int rc;
    memset(&o, 0, sizeof o);
    o.node = node;
    o.path = path;
    o.no_sync = 1;
    rc = vv_db_open(&o, &db, &err);
    if (rc) {
        fprintf(stderr, "bench_sync: open %s: %s\n", node, err ? err : "?");
        exit(1);
    }
    return db;
}

static int key_of(char *buf, long i)
{
    return sprintf(buf, "user:%09ld", i);
}

/* n keys with 40-byte values, in batches of 10,000. */
static void fill(vv_db *db, long n)
{
    char key[32], val[48];
    long i;
    for (i = 0; i < n; i++) {
        int kl = key_of(key, i);
        int vl = snprintf(val, sizeof val, "value of user %09ld, version 1", i);
        if (i % 10000 == 0) check(db, vv_begin(db), "begin");
        check(db, vv_put(db, "ks", key, (size_t)kl, val, (size_t)vl, NULL,
                         NULL), "put");
        if (i % 10000 == 9999 || i == n - 1) check(db, vv_commit(db), "commit");
    }
}

/* Change d distinct keys spread over the keyspace (i -> i * c mod n is a
 * bijection: c is odd and not a multiple of 5), each with its context. */
static void change(vv_db *db, long n, long d, int round)
{
    char key[32], val[48];
    long i;
    check(db, vv_begin(db), "begin");
    for (i = 0; i < d; i++) {
        unsigned long u = (unsigned long)i * 2654435761ul + (unsigned long)round;
        long k = (long)(u % (unsigned long)n);
        int kl = key_of(key, k);
        int vl = snprintf(val, sizeof val, "value of user %09ld, round %d", k,
                          round);
        vv_read *r;
        check(db, vv_get(db, "ks", key, (size_t)kl, &r), "get");
        check(db, vv_put(db, "ks", key, (size_t)kl, val, (size_t)vl,
                         vv_read_context(r), NULL), "put");
        vv_read_free(r);
    }
    check(db, vv_commit(db), "commit");
}

/* Apply a's delta for b's digest to b; sizes and times out. */
static size_t sync_once(vv_db *a, vv_db *b, size_t *dsz, size_t *xsz,
                        double *tdelta, double *tapply)
{
    void *d, *x;
    size_t dn, xn, changed;
    double t0;
    check(b, vv_digest(b, "ks", &d, &dn), "digest");
    t0 = now_s();
    check(a, vv_delta(a, "ks", d, dn, &x, &xn), "delta");
    *tdelta = now_s() - t0;
    t0 = now_s();
    check(b, vv_apply(b, "ks", x, xn, &changed), "apply");
    *tapply = now_s() - t0;
    *dsz = dn;
    *xsz = xn;
    vv_free(d);
    vv_free(x);
    return changed;
}

/* The naive baseline: export every key (what a sync without digests
 * would have to send), bytes and time. */
typedef struct keyvec {
    char (*k)[24];
    size_t n, cap;
} keyvec;

static int collect(void *ud, const void *key, size_t klen)
{
    keyvec *v = ud;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1024;
        v->k = realloc(v->k, v->cap * sizeof *v->k);
        if (!v->k) { fprintf(stderr, "bench_sync: out of memory\n"); exit(1); }
    }
    memset(v->k[v->n], 0, sizeof v->k[0]);
    memcpy(v->k[v->n++], key, klen < 23 ? klen : 23);
    return 0;
}

static void export_all(vv_db *a, size_t *bytes, double *secs)
{
    keyvec v;
    size_t i, total = 0;
    double t0 = now_s();
    memset(&v, 0, sizeof v);
    check(a, vv_keys(a, "ks", collect, &v), "keys");
    for (i = 0; i < v.n; i++) {
        void *st;
        size_t n;
        check(a, vv_export(a, "ks", v.k[i], strlen(v.k[i]), &st, &n), "export");
        total += n;
        vv_free(st);
    }
    *secs = now_s() - t0;
    *bytes = total;
    free(v.k);
}

/* naive / sync, as "12345x" (or "-" when sync took no measurable time) */
static const char *ratio(double naive, double sync, char *buf)
{
    if (sync <= 0) return "-";
    snprintf(buf, 24, "%.0fx", naive / sync);
    return buf;
}

/* a holds n keys; b and c replicate it (c only so that b's digest holds
 * the watermarks of two other replicas, as with three replicas). */
static void run(const char *label, vv_db *a, vv_db *b, vv_db *c, long n)
{
    char r1[24], r2[24];
    long diffs[] = { 1, 100, 10000 };
    size_t dsz, xsz, naive_bytes, changed;
    double td, ta, naive_s, t0;
    int i;

    t0 = now_s();
    fill(a, n);
    printf("\n%s: %ld keys written in %.2f s\n", label, n, now_s() - t0);
    /* the first sync moves everything: apply throughput */
    changed = sync_once(a, b, &dsz, &xsz, &td, &ta);
    printf("first sync (every key): delta %.1f MB made in %.2f s, applied in "
           "%.2f s: %.0f keys/s (%zu keys changed)\n", (double)xsz / 1e6, td,
           ta, (double)changed / ta, changed);
    if (c) {
        sync_once(b, c, &dsz, &xsz, &td, &ta);
        sync_once(c, b, &dsz, &xsz, &td, &ta);
    }
    export_all(a, &naive_bytes, &naive_s);
    printf("naive baseline: export every key: %.1f MB in %.1f ms\n",
           (double)naive_bytes / 1e6, naive_s * 1e3);
    printf("%-10s %9s %10s %10s %10s %14s %14s\n", "differing", "digest B",
           "delta B", "delta ms", "apply ms", "bytes: naive/", "time: naive/");
    for (i = 0; i < 3; i++) {
        long d = diffs[i] < n ? diffs[i] : n;
        change(a, n, d, i + 1);
        changed = sync_once(a, b, &dsz, &xsz, &td, &ta);
        if ((long)changed != d) {
            fprintf(stderr, "bench_sync: %ld keys differ but %zu changed\n", d,
                    changed);
            exit(1);
        }
        printf("%-10ld %9zu %10zu %10.3f %10.3f %14s %14s\n", d, dsz,
               xsz, td * 1e3, ta * 1e3,
               ratio((double)naive_bytes, (double)(dsz + xsz), r1),
               ratio(naive_s, td, r2));
    }
    /* a quiet keyspace: nothing differs */
    changed = sync_once(a, b, &dsz, &xsz, &td, &ta);
    printf("%-10d %9zu %10zu %10.3f %10.3f %14s %14s\n", 0, dsz, xsz,
           td * 1e3, ta * 1e3,
           ratio((double)naive_bytes, (double)(dsz + xsz), r1),
           ratio(naive_s, td, r2));
    printf("goal: with 1 differing key, digest + delta < 4096 B and delta "
           "< 10 ms\n");
}

/* Open the replicas "a", "b" and, with three, "c" (in the directories
 * of dirs, or in memory when dirs is NULL), run the figures, close them. */
static void run_on(const char *label, int three, char *const *dirs, long n)
{
    static const char *const names[] = { "a", "b", "c" };
    vv_db *r[3] = { NULL, NULL, NULL };
    int i, nr = three ? 3 : 2;
    for (i = 0; i < nr; i++) r[i] = open_store(names[i], dirs ? dirs[i] : NULL);
    run(label, r[0], r[1], r[2], n);
    for (i = 0; i < nr; i++) vv_db_close(r[i]);
}

int main(void)
{
    long n = bench_keys(1000000);
    char *dirs[2];
    int i;

    printf("== sync (bench/bench_sync.c)\n");
    printf("ratios: exporting every key (the naive baseline, measured in the "
           "same run) over digest + delta bytes, and over delta time\n");
    run_on("in memory, 3 replicas", 1, NULL, n);

    if (!getenv("VV_BENCH_NO_LMDB")) {
        dirs[0] = lu_tmpdir("bench-sync-a");
        dirs[1] = lu_tmpdir("bench-sync-b");
        if (!dirs[0] || !dirs[1]) {
            fprintf(stderr, "bench_sync: no temporary directory\n");
            return 1;
        }
        run_on("LMDB (no_sync), 2 replicas", 0, dirs, n);
        for (i = 0; i < 2; i++) {
            lu_rmrf(dirs[i]);
            free(dirs[i]);
        }
    }
    return 0;
}
