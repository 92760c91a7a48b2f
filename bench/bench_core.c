/* bench_core.c - core figures: versioned put/get vs the bare map, clock
 * operations, metadata bytes per key, dots vs plain clocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "db_int.h"
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

#if defined(__GNUC__)
#define BENCH_NOINLINE __attribute__((noinline))
#else
#define BENCH_NOINLINE
#endif

/* The put/get figures' loops, each a function of its own so that
 * `valgrind --tool=callgrind` gives each one's instructions (inclusive
 * cost of loop_vv_put and the others, docs/performance.md). */
typedef struct pg_case {
    vv_db *db;
    vv_clock **ctx;              /* each key's context, as the last put left */
    const vvi_backend *be;       /* the baseline: the same map, no versions */
    void *h;
    vv_read *reuse;
    int n;
} pg_case;

static BENCH_NOINLINE void loop_vv_put(pg_case *c, int round)
{
    char key[32], val[32];
    int i, rc;
    for (i = 0; i < c->n; i++) {
        int kl = snprintf(key, sizeof key, "user:%08d", i);
        int vl = snprintf(val, sizeof val, "value-%d-%d", round, i);
        vv_clock *next;
        if ((rc = vv_put(c->db, "ks", key, (size_t)kl, val, (size_t)vl,
                         c->ctx[i], &next)))
            die("put", rc);
        vv_clock_free(c->ctx[i]);
        c->ctx[i] = next;
    }
}

static BENCH_NOINLINE void loop_map_put(pg_case *c, int round)
{
    char key[32], val[32];
    int i, rc;
    for (i = 0; i < c->n; i++) {
        int kl = snprintf(key, sizeof key, "user:%08d", i);
        int vl = snprintf(val, sizeof val, "value-%d-%d", round, i);
        c->be->begin(c->h, 1);
        if ((rc = c->be->put(c->h, 1, key, (size_t)kl, val, (size_t)vl)))
            die("map put", rc);
        c->be->commit(c->h);
    }
}

static BENCH_NOINLINE void loop_vv_get(pg_case *c)
{
    char key[32];
    int i, rc;
    for (i = 0; i < c->n; i++) {
        int kl = snprintf(key, sizeof key, "user:%08d", i);
        vv_read *r;
        if ((rc = vv_get(c->db, "ks", key, (size_t)kl, &r))) die("get", rc);
        vv_read_free(r);
    }
}

static BENCH_NOINLINE void loop_map_get(pg_case *c)
{
    char key[32];
    int i, rc;
    for (i = 0; i < c->n; i++) {
        int kl = snprintf(key, sizeof key, "user:%08d", i);
        const void *v;
        size_t vl;
        void *copy;
        c->be->begin(c->h, 0);
        if ((rc = c->be->get(c->h, 1, key, (size_t)kl, &v, &vl)))
            die("map get", rc);
        copy = malloc(vl);                   /* a read hands out a copy too */
        memcpy(copy, v, vl);
        c->be->abort(c->h);
        free(copy);
    }
}

static BENCH_NOINLINE void loop_vv_get_reuse(pg_case *c)
{
    char key[32];
    int i, rc;
    for (i = 0; i < c->n; i++) {                 /* one read for the loop */
        int kl = snprintf(key, sizeof key, "user:%08d", i);
        if ((rc = vv_get_reuse(c->db, "ks", key, (size_t)kl, &c->reuse)))
            die("get", rc);
    }
}

static BENCH_NOINLINE void loop_map_get_reuse(pg_case *c)
{
    static unsigned char vbuf[256];
    char key[32];
    int i, rc;
    for (i = 0; i < c->n; i++) {                 /* one buffer for the loop */
        int kl = snprintf(key, sizeof key, "user:%08d", i);
        const void *v;
        size_t vl;
        c->be->begin(c->h, 0);
        if ((rc = c->be->get(c->h, 1, key, (size_t)kl, &v, &vl)))
            die("map get", rc);
        if (vl > sizeof vbuf) die("map get", VV_ELIMIT);
        memcpy(vbuf, v, vl);
        c->be->abort(c->h);
    }
}

/* ns per operation of one run of a loop. */
#define TIMED(best, n, call) do {                                       \
        double t0_ = now_s(), t_;                                       \
        call;                                                           \
        t_ = (now_s() - t0_) / (n) * 1e9;                               \
        if (t_ < (best)) (best) = t_;                                   \
    } while (0)

/* What bounds the put and get figures when they miss (the callgrind
 * counts of docs/performance.md, "The engine's paths"). */
#define WHY_PUT "vv's own work: a put is ~2,950 instructions to the map's " \
    "~700 (callgrind): the stored state patched (~860), the change log " \
    "moved (~270), the context mapped and a new context clock (~440); " \
    "the loop's other costs and memory waits hide most of it"
#define WHY_GET "vv's own work: a get is ~1,450 instructions to the map's " \
    "~330 (callgrind): the state's varints read and checked (~420), the " \
    "read's block of siblings, context names and value built (~330)"

/* A row of the put/get table with its goal (ratio at most max), also
 * added to make bench's summary as figure. */
static void goal_row(const char *name, const char *figure, double vv,
                     double base, double max, const char *why)
{
    char goal[512];
    double ratio = base > 0 ? vv / base : 0;
    int met = ratio <= max;
    snprintf(goal, sizeof goal, "<= %.1f  %s%s", max, met ? "ok" : "missed: ",
             met ? "" : why);
    row(name, vv, base, "ns/op", goal);
    snprintf(goal, sizeof goal, "<= %.1fx", max);
    bench_summary_ratio(figure, ratio, goal, met, why);
}

/* Versioned put with a 3-node context and get, against the same backend
 * map storing the same value bytes under the same keys, no versioning. */
static void bench_put_get(void)
{
    int n = (int)bench_keys(100000), i, round;
    vv_db *db = open_mem("s0"), *s1 = open_mem("s1"), *s2 = open_mem("s2");
    char key[32];
    double vput = 1e30, vget = 1e30, bput = 1e30, bget = 1e30;
    double vgetr = 1e30, bgetr = 1e30;
    pg_case c;
    int rc;

    memset(&c, 0, sizeof c);
    c.db = db;
    c.n = n;
    c.ctx = malloc((size_t)n * sizeof *c.ctx);
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
        vv_clock_copy(vv_read_context(r), &c.ctx[i]);
        vv_read_free(r);
        vv_clock_free(c1);
        vv_clock_free(c2);
    }
    vvi_mem_open(&c.h, &c.be);
    for (round = 0; round < 3; round++) {
        TIMED(vput, n, loop_vv_put(&c, round));
        TIMED(bput, n, loop_map_put(&c, round));
        TIMED(vget, n, loop_vv_get(&c));
        TIMED(bget, n, loop_map_get(&c));
        TIMED(vgetr, n, loop_vv_get_reuse(&c));
        TIMED(bgetr, n, loop_map_get_reuse(&c));
    }
    vv_read_free(c.reuse);
    printf("\n%d keys, best of 3 rounds; baseline: the same in-memory map, "
           "same key/value bytes, no versioning\n", n);
    printf("%-40s %17s %17s %7s  %s\n", "operation", "vv", "baseline", "ratio", "goal");
    goal_row("put with context (3-node clock)", "core put, 3-node context, "
             "vs plain map", vput, bput, 1.3, WHY_PUT);
    goal_row("get (one sibling)", "core get vs plain map", vget, bget, 1.3,
             WHY_GET);
    row("get into a reused read (vv_get_reuse)", vgetr, bgetr, "ns/op",
        "(printed; baseline copies into a reused buffer)");
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
    for (i = 0; i < n; i++) vv_clock_free(c.ctx[i]);
    free(c.ctx);
    c.be->close(c.h);
    vv_db_close(db);
    vv_db_close(s1);
    vv_db_close(s2);
}

/* ---- clocks --------------------------------------------------------- */
/* Best time of one call of fn over many short samples: a sample short
 * enough to run between two preemptions of a shared machine. */
typedef void (*op_fn)(void *ud, int iters);

static double best_ns(op_fn fn, void *ud, int iters, int samples)
{
    double best = 1e30;
    int k;
    for (k = 0; k < samples; k++) {
        double t0 = now_s(), t;
        fn(ud, iters);
        t = (now_s() - t0) / iters * 1e9;
        if (t < best) best = t;
    }
    return best;
}

/* best_ns for n operations at once, their samples taken in turn, so that
 * each sees the quiet moments of the whole run: best[i] for fn[i]. */
static void best_ns_all(const op_fn *fn, int n, void *ud, int iters,
                        int samples, double *best)
{
    int i, k;
    for (i = 0; i < n; i++) best[i] = 1e30;
    for (k = 0; k < samples; k++)
        for (i = 0; i < n; i++) {
            double t = best_ns(fn[i], ud, iters, 1);
            if (t < best[i]) best[i] = t;
        }
}

/* The baseline: a clock as a plain sorted array of (name, length,
 * counter), walked with a memcmp-based name compare per step (vv's walk
 * before its entries kept order keys); a merge writes into a ready array. */
typedef struct pent {
    const char *name;
    size_t len;
    uint64_t n;
} pent;

static int plain_name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

static BENCH_NOINLINE int plain_compare(const pent *a, size_t na,
                                        const pent *b, size_t nb)
{
    size_t i = 0, j = 0;
    int less = 0, more = 0;
    while (i < na || j < nb) {
        int r = i == na ? 1 : j == nb ? -1
              : plain_name_cmp(a[i].name, a[i].len, b[j].name, b[j].len);
        if (r < 0) { more = 1; i++; }
        else if (r > 0) { less = 1; j++; }
        else {
            if (a[i].n < b[j].n) less = 1;
            else if (a[i].n > b[j].n) more = 1;
            i++; j++;
        }
        if (less && more) return VV_CONCURRENT;
    }
    return less ? VV_BEFORE : more ? VV_AFTER : VV_EQUAL;
}

static BENCH_NOINLINE size_t plain_merge(const pent *a, size_t na,
                                         const pent *b, size_t nb, pent *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        int r = i == na ? 1 : j == nb ? -1
              : plain_name_cmp(a[i].name, a[i].len, b[j].name, b[j].len);
        if (r < 0) out[k++] = a[i++];
        else if (r > 0) out[k++] = b[j++];
        else {
            out[k] = a[i++];
            if (b[j].n > out[k].n) out[k].n = b[j].n;
            k++; j++;
        }
    }
    return k;
}

typedef struct clk_case {
    vv_clock *a, *b;             /* same nodes; a after b (full walks) */
    vv_clock *da, *db;           /* copies of a and b that merges change */
    pent *pa, *pb, *out;
    size_t n;
} clk_case;

static volatile int clk_sink;

static void op_vv_compare(void *ud, int it)
{
    clk_case *c = ud;
    while (it--) clk_sink += vv_clock_compare(c->a, c->b);
}

static void op_plain_compare(void *ud, int it)
{
    clk_case *c = ud;
    while (it--) clk_sink += plain_compare(c->pa, c->n, c->pb, c->n);
}

/* b into (a copy of) a: nothing rises, so every merge does the same */
static void op_vv_merge0(void *ud, int it)
{
    clk_case *c = ud;
    while (it--)
        if (vv_clock_merge(c->da, c->b)) die("merge", VV_ENOMEM);
}

/* Put b's counters back into its copy (the same names, in place). */
static void clk_restore(clk_case *c)
{
    size_t i;
    for (i = 0; i < c->n; i++) c->db->e[i].n = c->b->e[i].n;
}

static void op_vv_restore(void *ud, int it)
{
    clk_case *c = ud;
    while (it--) {
        clk_restore(c);
        clk_sink += (int)c->db->e[0].n;
    }
}

/* a into (a copy of) b: every counter rises; restored before each */
static void op_vv_merge1(void *ud, int it)
{
    clk_case *c = ud;
    while (it--) {
        clk_restore(c);
        if (vv_clock_merge(c->db, c->a)) die("merge", VV_ENOMEM);
    }
}

static void op_plain_merge0(void *ud, int it)
{
    clk_case *c = ud;
    while (it--) clk_sink += (int)plain_merge(c->pa, c->n, c->pb, c->n, c->out);
}

static void op_plain_merge1(void *ud, int it)
{
    clk_case *c = ud;
    while (it--) clk_sink += (int)plain_merge(c->pb, c->n, c->pa, c->n, c->out);
}

/* A table row: vv against the baseline, the goal and whether it is met.
 * goal_ns > 0: vv at most that many ns; else vv no slower than the
 * baseline (ratio <= 1.00).  why: what bounds the figure when missed. */
static void clk_row(size_t nodes, const char *op, double vv, double base,
                    double goal_ns, const char *why)
{
    char goal[32];
    int ok = goal_ns > 0 ? vv <= goal_ns : vv <= base;
    if (goal_ns > 0) snprintf(goal, sizeof goal, "<= %.0f ns", goal_ns);
    else snprintf(goal, sizeof goal, "<= 1.00x");
    printf("%5zu  %-28s %9.1f ns %9.1f ns %6.2fx  %-10s %s%s\n", nodes, op, vv,
           base, base > 0 ? vv / base : 0, goal, ok ? "ok" : "missed: ",
           ok ? "" : why);
}

static void bench_clocks(void)
{
    static const size_t sizes[] = { 3, 16, 128 };
    static const char *why_small =
        "call and setup costs dominate a few steps; machine noise";
    static const char *why_big =
        "a step costs ~30 instructions (3 key words, length, counter); "
        "or a loaded machine (see the baseline)";
    size_t s, i;
    printf("\nclock operations, best of 1000 short samples; baseline: a plain "
           "sorted array of\n(name, length, counter) walked with a memcmp "
           "name compare per step (vv's walk\nbefore order keys), merging "
           "into a ready array; names 'node-NNN.abcdefgh';\nvv merges "
           "in place: a into b restores b's counters each time, that time "
           "taken out;\nratio: vv / baseline\n");
    printf("%5s  %-28s %12s %12s %7s  %-10s %s\n", "nodes", "operation", "vv",
           "baseline", "ratio", "goal", "");
    for (s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        clk_case c;
        char (*names)[32] = malloc(n * sizeof *names);
        int it = (int)(8000 / n) + 4;
        double t[7], vv, g;
        c.n = n;
        c.pa = malloc(n * sizeof *c.pa);
        c.pb = malloc(n * sizeof *c.pb);
        c.out = malloc(2 * n * sizeof *c.out);
        vv_clock_new(&c.a);
        vv_clock_new(&c.b);
        c.da = c.db = NULL;
        for (i = 0; i < n; i++) {
            int l = snprintf(names[i], sizeof names[i], "node-%03zu.abcdefgh",
                             i);
            vv_clock_set(c.a, names[i], (size_t)l, (uint64_t)(i + 10));
            vv_clock_set(c.b, names[i], (size_t)l, (uint64_t)(i + 5));
        }
        for (i = 0; i < n; i++) {                /* the same names, sorted */
            const char *nm;
            size_t len;
            vv_clock_entry(c.a, i, &nm, &len, NULL);
            c.pa[i].name = c.pb[i].name = nm;
            c.pa[i].len = c.pb[i].len = len;
            c.pa[i].n = vv_clock_get(c.a, nm, len);
            c.pb[i].n = vv_clock_get(c.b, nm, len);
        }
        if (plain_compare(c.pa, n, c.pb, n) != vv_clock_compare(c.a, c.b))
            die("clock baseline", VV_EINVAL);
        if (vv_clock_copy(c.a, &c.da) || vv_clock_copy(c.b, &c.db))
            die("copy", VV_ENOMEM);
        g = n == 128 ? 250 : 0;
        {
            static const op_fn ops[] = { op_vv_compare, op_plain_compare,
                                         op_vv_merge0, op_plain_merge0,
                                         op_vv_restore, op_vv_merge1,
                                         op_plain_merge1 };
            best_ns_all(ops, 7, &c, it, 1000, t);
        }
        clk_row(n, "compare (a after b)", t[0], t[1], g,
                n == 128 ? why_big : why_small);
        g = n == 128 ? 400 : 0;
        clk_row(n, "merge b into a (no rise)", t[2], t[3], g,
                n == 128 ? why_big : why_small);
        vv = t[5] - t[4];
        clk_row(n, "merge a into b (all rise)", vv < 0 ? 0 : vv, t[6], g,
                n == 128 ? "past the first 32 entries, two walks: one "
                "finds no new node, one raises in place" : why_small);
        if (vv_clock_compare(c.db, c.a) != VV_EQUAL)
            die("merge result", VV_EINVAL);
        vv_clock_free(c.a);
        vv_clock_free(c.b);
        vv_clock_free(c.da);
        vv_clock_free(c.db);
        free(c.pa);
        free(c.pb);
        free(c.out);
        free(names);
    }
}

/* ---- per-key operations (no map) -------------------------------------- */
/* The Erlang reference implementation of DVVSet (dvvset.erl) measured on
 * this kind of machine for the same three operations: update with a
 * context, join (sync) of two clocks, values.  Constants: it does not run
 * here. */
#define REF_UPDATE_NS 346.0
#define REF_JOIN_NS   255.0
#define REF_VALUES_NS 180.0

typedef struct key_case {
    vvi_actors act;              /* actor names: the read order needs them */
    vvi_dvv w;                   /* (a): 1 sibling, 3-node context */
    vvi_ent cc[3];
    uint64_t wn;
    vvi_dvv x, y;                /* (b): 3 nodes, 2 siblings each */
    vvi_dvv two;                 /* (c): 2 live siblings */
} key_case;

/* A copy of a state that lives in its inline arrays. */
static void state_copy(vvi_dvv *d, const vvi_dvv *s)
{
    vvi_dvv_init(d);
    memcpy(d->ctx, s->ctx, s->nctx * sizeof *s->ctx);
    memcpy(d->v, s->v, s->nv * sizeof *s->v);
    d->nctx = s->nctx;
    d->nv = s->nv;
    d->seq = s->seq;
}

static vvi_ver mkver(uint32_t a, uint64_t n, const char *val)
{
    vvi_ver v;
    v.a = a;
    v.n = n;
    v.ts = 1700000000000ull + n;
    v.tomb = 0;
    v.val = (const unsigned char *)val;
    v.len = strlen(val);
    return v;
}

/* A state: context {0:c0, 1:c1, 2:c2} and versions dots[0..nd). */
static void mkstate(vvi_dvv *s, uint64_t c0, uint64_t c1, uint64_t c2,
                    const vvi_ver *dots, size_t nd)
{
    size_t i;
    vvi_dvv_init(s);
    vvi_ctx_max(s, 0, c0);
    vvi_ctx_max(s, 1, c1);
    vvi_ctx_max(s, 2, c2);
    for (i = 0; i < nd; i++) vvi_dvv_add(s, &dots[i]);
    if (s->ctx != s->ictx || s->v != s->iv) die("state", VV_EINVAL);
}

/* (a) the client read {0:n, 1:5, 2:7} and writes at actor 0: the new
 * version replaces the one the context covers; one sibling again. */
static void op_key_write(void *ud, int it)
{
    key_case *c = ud;
    while (it--) {
        vvi_ver v = mkver(0, c->wn + 1, "value");
        c->cc[0].n = c->wn++;
        if (vvi_dvv_write(&c->w, c->cc, 3, &v)) die("write", VV_ENOMEM);
    }
}

/* (b) join x and y into a fresh copy of x (the reference builds a new
 * clock too) */
static void op_key_join(void *ud, int it)
{
    key_case *c = ud;
    while (it--) {
        vvi_dvv s;
        state_copy(&s, &c->x);
        if (vvi_dvv_merge(&s, &c->y)) die("merge", VV_ENOMEM);
        clk_sink += (int)s.nv;
        vvi_dvv_free(&s);
    }
}

/* (c) what a read needs: the live versions in the read's order */
static void op_key_values(void *ud, int it)
{
    key_case *c = ud;
    while (it--) {
        const vvi_ver *out[VVI_IVER];
        size_t n = vvi_dvv_values(&c->two, c->act.an, c->act.al, out);
        clk_sink += (int)n + (int)out[0]->len;
    }
}

static void key_row(const char *op, double vv, double ref)
{
    int ok = vv * 5 <= ref;
    printf("%-44s %8.1f ns %8.0f ns %7.2fx  %-7s %s\n", op, vv, ref,
           vv > 0 ? ref / vv : 0, ">= 5x", ok ? "ok" : "missed: "
           "machine noise or a slower CPU (see instruction counts)");
}

static void bench_keyops(void)
{
    static const char *names[] = { "s1.abcdefgh", "s2.bcdefghi",
                                   "s3.cdefghij" };
    key_case c;
    vvi_ver d[2];
    uint32_t a;
    int i;
    memset(&c, 0, sizeof c);
    for (i = 0; i < 3; i++)
        if (vvi_actor_intern(&c.act, names[i], strlen(names[i]), &a))
            die("actor", VV_ENOMEM);
    d[0] = mkver(0, 1, "value");
    mkstate(&c.w, 1, 5, 7, d, 1);
    c.wn = 1;
    c.cc[0].a = 0; c.cc[1].a = 1; c.cc[2].a = 2;
    c.cc[1].n = 5; c.cc[2].n = 7;
    /* x saw {0:3, 1:2, 2:1}, y saw {0:2, 1:2, 2:2}: each keeps one
     * version the other has not seen, and both hold (1, 2) */
    d[0] = mkver(0, 3, "x-value");
    d[1] = mkver(1, 2, "shared");
    mkstate(&c.x, 3, 2, 1, d, 2);
    d[0] = mkver(1, 2, "shared");
    d[1] = mkver(2, 2, "y-value");
    mkstate(&c.y, 2, 2, 2, d, 2);
    d[0] = mkver(2, 4, "later");                 /* stored out of order */
    d[1] = mkver(0, 3, "earlier");
    mkstate(&c.two, 3, 0, 4, d, 2);
    {   /* the work is what the rows say */
        vvi_dvv s;
        const vvi_ver *out[VVI_IVER];
        state_copy(&s, &c.x);
        if (vvi_dvv_merge(&s, &c.y) || s.nv != 3 || s.nctx != 3)
            die("join result", VV_EINVAL);
        vvi_dvv_free(&s);
        if (vvi_dvv_values(&c.two, c.act.an, c.act.al, out) != 2 ||
            out[0]->a != 0)
            die("values result", VV_EINVAL);
    }
    printf("\nper-key operations (no map): vv on in-memory states against the "
           "Erlang reference\nimplementation of DVVSet (dvvset.erl) measured "
           "on this kind of machine for the\nsame work (constants: %.0f, "
           "%.0f, %.0f ns); best of 1500 short samples;\nratio: reference / "
           "vv\n", REF_UPDATE_NS, REF_JOIN_NS, REF_VALUES_NS);
    printf("%-44s %11s %11s %8s  %-7s %s\n", "operation", "vv", "reference",
           "ratio", "goal", "");
    {
        static const op_fn ops[] = { op_key_write, op_key_join, op_key_values };
        double t[3];
        best_ns_all(ops, 3, &c, 1000, 1500, t);
        key_row("update: 1 sibling, 3-node context (write)", t[0],
                REF_UPDATE_NS);
        key_row("join: 3 nodes, 2 siblings each (merge)", t[1], REF_JOIN_NS);
        key_row("values: 2 siblings, read order", t[2], REF_VALUES_NS);
    }
    vvi_dvv_free(&c.w);
    vvi_actors_free(&c.act);
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

/* VV_BENCH_ONLY=putget,clocks,keyops,explosion runs only those. */
static int wanted(const char *section)
{
    const char *e = getenv("VV_BENCH_ONLY");
    return !e || !*e || strstr(e, section) != NULL;
}

int main(void)
{
    printf("== core (bench/bench_core.c)\n");
    if (wanted("putget")) bench_put_get();
    if (wanted("clocks")) bench_clocks();
    if (wanted("keyops")) bench_keyops();
    if (wanted("explosion")) bench_explosion();
    return 0;
}
