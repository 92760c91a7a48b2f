/* bench_core.c - core figures: versioned put/get vs the bare map, clock
 * operations, metadata bytes per key, dots vs plain clocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vv_int.h"
#include "../tests/plainvv.h"
#include "benchutil.h"

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_core: %s: %s\n", what, vv_strerror(rc));
    exit(1);
}

static vv_db *open_mem(const char *node)
{
    vv_options o;
    vv_db *db;
    int rc;
    memset(&o, 0, sizeof o);
    o.node = node;
    if ((rc = vv_db_open(&o, &db, NULL))) die("open", rc);
    return db;
}

static void row(const char *name, double a, double b, const char *unit,
                const char *goal)
{
    printf("%-40s %10.1f %-6s %10.1f %-6s %6.2fx  %s\n", name, a, unit, b, unit,
           b > 0 ? a / b : 0, goal);
}

/* Versioned put with a 3-node context and get, against the same backend
 * map storing the same value bytes under the same keys, no versioning. */
static void bench_put_get(void)
{
    int n = (int)bench_keys(100000), i, round;
    vv_db *db = open_mem("s0"), *s1 = open_mem("s1"), *s2 = open_mem("s2");
    vv_clock **ctx = malloc((size_t)n * sizeof *ctx);
    char key[32], val[32];
    void *h;
    const vvi_backend *be;
    double t0, vput = 1e30, vget = 1e30, bput = 1e30, bget = 1e30;
    int rc;

    /* every key gets a 3-node context: written at s1 and s2, merged */
    for (i = 0; i < n; i++) {
        void *st;
        size_t len;
        int kl = snprintf(key, sizeof key, "user:%08d", i);
        vv_clock *c1, *c2;
        vv_read *r;
        vv_put(s1, "ks", key, (size_t)kl, "a", 1, NULL, &c1);
        vv_put(s2, "ks", key, (size_t)kl, "b", 1, NULL, &c2);
        vv_export(s1, "ks", key, (size_t)kl, &st, &len);
        vv_merge(s2, "ks", key, (size_t)kl, st, len);
        vv_free(st);
        vv_export(s2, "ks", key, (size_t)kl, &st, &len);
        vv_merge(db, "ks", key, (size_t)kl, st, len);
        vv_free(st);
        if ((rc = vv_get(db, "ks", key, (size_t)kl, &r))) die("get", rc);
        vv_clock_copy(vv_read_context(r), &ctx[i]);
        vv_read_free(r);
        vv_clock_free(c1);
        vv_clock_free(c2);
    }
    vvi_mem_open(&h, &be);
    for (round = 0; round < 3; round++) {
        t0 = now_s();
        for (i = 0; i < n; i++) {
            int kl = snprintf(key, sizeof key, "user:%08d", i);
            int vl = snprintf(val, sizeof val, "value-%d-%d", round, i);
            vv_clock *next;
            if ((rc = vv_put(db, "ks", key, (size_t)kl, val, (size_t)vl, ctx[i], &next)))
                die("put", rc);
            vv_clock_free(ctx[i]);
            ctx[i] = next;
        }
        t0 = (now_s() - t0) / n * 1e9;
        if (t0 < vput) vput = t0;
        t0 = now_s();
        for (i = 0; i < n; i++) {
            int kl = snprintf(key, sizeof key, "user:%08d", i);
            int vl = snprintf(val, sizeof val, "value-%d-%d", round, i);
            be->begin(h, 1);
            if ((rc = be->put(h, 1, key, (size_t)kl, val, (size_t)vl))) die("map put", rc);
            be->commit(h);
        }
        t0 = (now_s() - t0) / n * 1e9;
        if (t0 < bput) bput = t0;
        t0 = now_s();
        for (i = 0; i < n; i++) {
            int kl = snprintf(key, sizeof key, "user:%08d", i);
            vv_read *r;
            if ((rc = vv_get(db, "ks", key, (size_t)kl, &r))) die("get", rc);
            vv_read_free(r);
        }
        t0 = (now_s() - t0) / n * 1e9;
        if (t0 < vget) vget = t0;
        t0 = now_s();
        for (i = 0; i < n; i++) {
            int kl = snprintf(key, sizeof key, "user:%08d", i);
            const void *v;
            size_t vl;
            void *copy;
            be->begin(h, 0);
            if ((rc = be->get(h, 1, key, (size_t)kl, &v, &vl))) die("map get", rc);
            copy = malloc(vl);                   /* a read hands out a copy too */
            memcpy(copy, v, vl);
            be->abort(h);
            free(copy);
        }
        t0 = (now_s() - t0) / n * 1e9;
        if (t0 < bget) bget = t0;
    }
    printf("\n%d keys, best of 3 rounds; baseline: the same in-memory map, "
           "same key/value bytes, no versioning\n", n);
    printf("%-40s %17s %17s %7s  %s\n", "operation", "vv", "baseline", "ratio", "goal");
    row("put with context (3-node clock)", vput, bput, "ns/op", "<= 2.0");
    row("get (one sibling)", vget, bget, "ns/op", "<= 2.0");
    {   /* metadata bytes per key: stored state minus the value */
        const void *p;
        size_t len;
        int kl = snprintf(key, sizeof key, "user:%08d", 0);
        vv_read *r;
        vv_stats st;
        vv_get(db, "ks", key, (size_t)kl, &r);
        vv_stats_get(db, "ks", &st);
        printf("%-40s %10.1f bytes (goal <= 48; %zu-node context, %zu sibling)\n",
               "metadata per key beyond key and value",
               (double)st.bytes / n - (double)vv_read_sibling(r, 0)->len,
               vv_clock_size(vv_read_context(r)), vv_read_count(r));
        vv_read_free(r);
        (void)p; (void)len;
    }
    for (i = 0; i < n; i++) vv_clock_free(ctx[i]);
    free(ctx);
    be->close(h);
    vv_db_close(db);
    vv_db_close(s1);
    vv_db_close(s2);
}

static void bench_clocks(void)
{
    int sizes[] = { 3, 16, 128 }, s;
    printf("\n%-40s %12s %12s\n", "clock operation", "compare", "merge");
    for (s = 0; s < 3; s++) {
        vv_clock *a, *b;
        int i, iters = 2000000 / sizes[s];
        double t0, tc, tm;
        volatile int sink = 0;
        vv_clock_new(&a);
        vv_clock_new(&b);
        for (i = 0; i < sizes[s]; i++) {
            char name[32];
            int l = snprintf(name, sizeof name, "node-%03d.abcdefgh", i);
            vv_clock_set(a, name, (size_t)l, (uint64_t)(i + 10));
            vv_clock_set(b, name, (size_t)l, (uint64_t)(i + 5)); /* a after b: full scan */
        }
        t0 = now_s();
        for (i = 0; i < iters; i++) sink += vv_clock_compare(a, b);
        tc = (now_s() - t0) / iters * 1e9;
        t0 = now_s();
        for (i = 0; i < iters; i++) {
            vv_clock *c;
            vv_clock_copy(a, &c);
            vv_clock_merge(c, b);
            vv_clock_free(c);
        }
        tm = (now_s() - t0) / iters * 1e9;
        {   /* copy alone, to take it out of the merge figure */
            double tcopy;
            t0 = now_s();
            for (i = 0; i < iters; i++) {
                vv_clock *c;
                vv_clock_copy(a, &c);
                vv_clock_free(c);
            }
            tcopy = (now_s() - t0) / iters * 1e9;
            tm -= tcopy;
        }
        printf("%3d nodes %30s %9.1f ns %9.1f ns\n", sizes[s], "", tc, tm < 0 ? 0 : tm);
        (void)sink;
        vv_clock_free(a);
        vv_clock_free(b);
    }
}

/* Two clients alternately writing with the context of their own last
 * write, 100 times: dotted version vectors vs one plain clock. */
static void bench_explosion(void)
{
    vv_db *db = open_mem("s0");
    vv_clock *ca = NULL, *cb = NULL;
    plain_key pk;
    uint64_t pa = 0, pb = 0;
    vv_read *r;
    vv_stats st;
    size_t plain_bytes;
    int i, maxs = 0;
    memset(&pk, 0, sizeof pk);
    for (i = 0; i < 100; i++) {
        char v[16];
        vv_clock **c = i % 2 ? &cb : &ca, *next;
        int vl = snprintf(v, sizeof v, "%c%03d", i % 2 ? 'B' : 'A', i);
        vv_put(db, "ks", "cart", 4, v, (size_t)vl, *c, &next);
        vv_clock_free(*c);
        *c = next;
        if (i % 2) pb = plain_put(&pk, pb, i); else pa = plain_put(&pk, pa, i);
        vv_get(db, "ks", "cart", 4, &r);
        if ((int)vv_read_count(r) > maxs) maxs = (int)vv_read_count(r);
        vv_read_free(r);
    }
    vv_get(db, "ks", "cart", 4, &r);
    vv_stats_get(db, "ks", &st);
    /* plain: each sibling's 4 value bytes plus one clock {s0:n} */
    plain_bytes = (size_t)pk.nsib * (4 + 2) + 1 + 1 + 2 + 2;
    printf("\n100 alternating writers (each with its own last context)\n");
    printf("%-40s %10s %10s\n", "", "siblings", "bytes");
    printf("%-40s %10zu %10llu\n", "vv (dotted version vectors)", vv_read_count(r),
           (unsigned long long)st.bytes);
    printf("%-40s %10d %10zu\n", "plain version vectors (one per key)", pk.nsib, plain_bytes);
    printf("%-40s %10d\n", "vv: most siblings seen at any time", maxs);
    vv_read_free(r);
    vv_clock_free(ca);
    vv_clock_free(cb);
    vv_db_close(db);
}

int main(void)
{
    printf("== core (bench/bench_core.c)\n");
    bench_put_get();
    bench_clocks();
    bench_explosion();
    return 0;
}
