/* test_crash.c - durable stores killed with SIGKILL at random moments keep
 * every acknowledged write, with its exact siblings, and never reuse a dot.
 *
 * Writers are child processes.  Before each operation a writer announces
 * it on a pipe ("I ..."), after vv returned VV_OK it acknowledges it
 * ("K ... counter").  The parent keeps a model of what every key must hold
 * (the live siblings as (actor, counter, value): each writer process is a
 * new handle of the directory, hence a new actor, which it announces
 * first: "S actor"), kills the writers, reopens the store and compares.
 * An announced but unacknowledged operation may or may not have
 * committed; the stored state must then be the model with or without
 * that operation, nothing else.  Phase one runs one writer, phase two
 * several at once on the same directory. */
#include "testutil.h"
#include "lmdbutil.h"
#include <poll.h>
#include <time.h>

#define NPRIV     16          /* private keys per writer */
#define NSHARED   4           /* keys every writer adds siblings to */
#define MAXW      3           /* writers at once */
#define MAXSIB    4096        /* siblings a model key can hold */
#define VLEN      64          /* value text bytes, NUL included */

/* ---- the model ---------------------------------------------------------- */
typedef struct msib { size_t a; uint64_t n; char v[VLEN]; } msib;
typedef struct mkey {
    char ks[8];
    char key[32];
    msib *s;                  /* live siblings, (actor, counter) order */
    size_t ns, cap;
    int written;              /* some write was acknowledged or found */
} mkey;

/* One announced operation. */
typedef struct op {
    char kind;                /* 'p' put without context, 'r' replace,
                                 'd' delete */
    char ks[8], key[32], val[VLEN];
} op;

typedef struct model {
    mkey keys[MAXW * NPRIV + NSHARED];
    size_t nkeys;
    uint64_t *dots;           /* every acknowledged or found dot (tu_dot) */
    size_t ndots, capdots;
    tu_actors actors;         /* the writers' actors, one per life */
} model;

static mkey *model_key(model *m, const char *ks, const char *key)
{
    size_t i;
    for (i = 0; i < m->nkeys; i++)
        if (!strcmp(m->keys[i].ks, ks) && !strcmp(m->keys[i].key, key))
            return &m->keys[i];
    assert_true(m->nkeys < sizeof m->keys / sizeof m->keys[0]);
    memset(&m->keys[m->nkeys], 0, sizeof m->keys[0]);
    snprintf(m->keys[m->nkeys].ks, sizeof m->keys[0].ks, "%s", ks);
    snprintf(m->keys[m->nkeys].key, sizeof m->keys[0].key, "%s", key);
    return &m->keys[m->nkeys++];
}

static void model_dot(model *m, size_t a, uint64_t n)
{
    const char *name = m->actors.name[a];
    if (m->ndots == m->capdots) {
        m->capdots = m->capdots ? m->capdots * 2 : 1024;
        m->dots = realloc(m->dots, m->capdots * sizeof *m->dots);
        assert_non_null(m->dots);
    }
    m->dots[m->ndots++] = tu_dot(&m->actors, name, strlen(name), n);
}

/* Order of siblings as reads list them: actor name, then counter. */
static int msib_cmp(const model *m, const msib *x, size_t a, uint64_t n)
{
    int c = strcmp(m->actors.name[x->a], m->actors.name[a]);
    return c ? c : x->n < n ? -1 : x->n > n;
}

/* Apply an operation that committed with dot (actor a, counter n).  A
 * write with a context replaces what the writer had read, which (one
 * writer a private key) is everything there. */
static void model_apply(model *m, const op *o, size_t a, uint64_t n)
{
    mkey *k = model_key(m, o->ks, o->key);
    if (o->kind != 'p') k->ns = 0;
    if (o->kind != 'd') {
        size_t i;
        if (k->ns == k->cap) {
            k->cap = k->cap ? k->cap * 2 : 8;
            k->s = realloc(k->s, k->cap * sizeof *k->s);
            assert_non_null(k->s);
        }
        for (i = k->ns; i > 0 && msib_cmp(m, &k->s[i - 1], a, n) > 0; i--)
            k->s[i] = k->s[i - 1];
        k->s[i].a = a;
        k->s[i].n = n;
        snprintf(k->s[i].v, VLEN, "%s", o->val);
        k->ns++;
    }
    k->written = 1;
    model_dot(m, a, n);
}

static void model_free(model *m)
{
    size_t i;
    for (i = 0; i < m->nkeys; i++) free(m->keys[i].s);
    free(m->dots);
    memset(m, 0, sizeof *m);
}

/* ---- writers (child processes) ------------------------------------------ */
/* Send one line on the pipe in one write (atomic below PIPE_BUF). */
static void say(int fd, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n <= 0 || (size_t)n >= sizeof line) _exit(20);
    if (write(fd, line, (size_t)n) != n) _exit(21);
}

/* The counter of this store's actor in a context: the dot just made. */
static uint64_t own_counter(vv_db *db, const vv_clock *c)
{
    const char *a = vv_db_actor(db);
    return vv_clock_get(c, a, strlen(a));
}

/* Write until killed.  id picks the private keys; life makes values
 * unique across restarts. */
static void writer(const char *dir, int id, int life, int fd, unsigned seed)
{
    vv_options o;
    vv_db *db = NULL;
    vv_ks_config cfg;
    char *err = NULL;
    unsigned long seq;
    tu_options(&o, "s0", dir, NULL);
    /* every other life without fsync: a killed process loses nothing
     * either way (its writes are in the kernel), and it writes more */
    o.no_sync = life % 2;
    if (vv_db_open(&o, &db, &err) != VV_OK) {
        fprintf(stderr, "writer %d: open: %s\n", id, err ? err : "?");
        _exit(30);
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.max_siblings = 100000;          /* the shared keys grow */
    cfg.warn_siblings = 100000;
    if (vv_keyspace(db, "shared", &cfg) != VV_OK) _exit(31);
    say(fd, "S %s\n", vv_db_actor(db));
    srand(seed);
    for (seq = 0; ; seq++) {
        op x;
        vv_read *r = NULL;
        vv_clock *nc = NULL;
        const vv_clock *ctx = NULL;
        int dice = rand() % 100, rc;
        memset(&x, 0, sizeof x);
        snprintf(x.val, VLEN, "w%d-l%d-%lu", id, life, seq);
        if (dice < 10) {
            x.kind = 'p';
            snprintf(x.ks, sizeof x.ks, "shared");
            snprintf(x.key, sizeof x.key, "s%d", rand() % NSHARED);
        } else {
            snprintf(x.ks, sizeof x.ks, "priv");
            snprintf(x.key, sizeof x.key, "p%d-%d", id, rand() % NPRIV);
            x.kind = dice < 45 ? 'p' : dice < 90 ? 'r' : 'd';
        }
        if (x.kind != 'p') {
            rc = vv_get(db, x.ks, x.key, strlen(x.key), &r);
            if (rc != VV_OK && rc != VV_ENOTFOUND) _exit(32);
            if (r) ctx = vv_read_context(r);
            if (x.kind == 'd' && !r) x.kind = 'r';   /* nothing to delete */
        } else if (!strcmp(x.ks, "priv")) {
            /* keep private sibling lists short: replace when long */
            rc = vv_get(db, x.ks, x.key, strlen(x.key), &r);
            if (rc != VV_OK && rc != VV_ENOTFOUND) _exit(33);
            if (r && vv_read_count(r) >= 20) {
                x.kind = 'r';
                ctx = vv_read_context(r);
            }
        }
        say(fd, "I %c %s %s %s\n", x.kind, x.ks, x.key, x.val);
        if (x.kind == 'd')
            rc = vv_delete(db, x.ks, x.key, strlen(x.key), ctx, &nc);
        else
            rc = vv_put(db, x.ks, x.key, strlen(x.key), x.val,
                        strlen(x.val), x.kind == 'r' ? ctx : NULL, &nc);
        if (rc != VV_OK) {
            fprintf(stderr, "writer %d: %s\n", id, vv_errmsg(db));
            _exit(34);
        }
        say(fd, "K %c %s %s %s %llu\n", x.kind, x.ks, x.key, x.val,
            (unsigned long long)own_counter(db, nc));
        vv_clock_free(nc);
        vv_read_free(r);
    }
}

/* ---- the parent --------------------------------------------------------- */
typedef struct wstate {
    pid_t pid;
    int fd;
    char buf[8192];
    size_t len;
    op pending;               /* announced, not acknowledged */
    int has_pending;
    size_t actor;             /* its actor in the model, once announced */
    int has_actor;
    int eof;
} wstate;

/* Handle one complete line from a writer. */
static void take_line(model *m, wstate *w, char *line)
{
    op x;
    unsigned long long n;
    memset(&x, 0, sizeof x);
    if (line[0] == 'S') {
        char actor[64];
        size_t had = m->actors.n;
        assert_int_equal(sscanf(line, "S %63s", actor), 1);
        assert_false(w->has_actor);
        /* every life of every writer is a new actor of node s0 */
        assert_memory_equal(actor, "s0.", 3);
        w->actor = tu_actor(&m->actors, actor, strlen(actor));
        assert_int_equal(m->actors.n, had + 1);
        w->has_actor = 1;
    } else if (line[0] == 'I') {
        assert_false(w->has_pending);
        assert_int_equal(sscanf(line, "I %c %7s %31s %63s", &x.kind, x.ks,
                                x.key, x.val), 4);
        w->pending = x;
        w->has_pending = 1;
    } else if (line[0] == 'K') {
        assert_int_equal(sscanf(line, "K %c %7s %31s %63s %llu", &x.kind,
                                x.ks, x.key, x.val, &n), 5);
        assert_true(w->has_pending && w->has_actor);
        assert_string_equal(w->pending.val, x.val);
        assert_true(n > 0);
        model_apply(m, &x, w->actor, (uint64_t)n);
        w->has_pending = 0;
    } else {
        fail_msg("bad line from a writer: %s", line);
    }
}

/* Read what is available from a writer; returns 0 at end of file. */
static int pump(model *m, wstate *w)
{
    ssize_t got;
    char *nl;
    if (w->eof) return 0;
    got = read(w->fd, w->buf + w->len, sizeof w->buf - 1 - w->len);
    if (got < 0 && errno == EINTR) return 1;
    assert_true(got >= 0);
    if (got == 0) { w->eof = 1; return 0; }
    w->len += (size_t)got;
    w->buf[w->len] = 0;
    while ((nl = strchr(w->buf, '\n')) != NULL) {
        size_t used = (size_t)(nl - w->buf) + 1;
        *nl = 0;
        take_line(m, w, w->buf);
        memmove(w->buf, w->buf + used, w->len - used);
        w->len -= used;
        w->buf[w->len] = 0;
    }
    return 1;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Read from every writer for sec seconds (or until they are all gone). */
static void pump_for(model *m, wstate *w, int nw, double sec)
{
    double end = now_s() + sec;
    for (;;) {
        struct pollfd p[MAXW];
        int i, live = 0, ms = (int)((end - now_s()) * 1000);
        if (ms <= 0) break;
        for (i = 0; i < nw; i++) {
            p[i].fd = w[i].eof ? -1 : w[i].fd;
            p[i].events = POLLIN;
            p[i].revents = 0;
            if (!w[i].eof) live++;
        }
        if (!live) break;
        if (poll(p, (nfds_t)nw, ms) <= 0) continue;
        for (i = 0; i < nw; i++)
            if (p[i].revents) pump(m, &w[i]);
    }
}

/* Whether the stored siblings of a read are exactly the model's. */
static int same_sibs(const model *m, const vv_read *r, const msib *s,
                     size_t ns)
{
    size_t i;
    if (vv_read_count(r) != ns) return 0;
    for (i = 0; i < ns; i++) {
        const vv_sibling *x = vv_read_sibling(r, i);
        const char *actor = m->actors.name[s[i].a];
        if (x->actor_len != strlen(actor) ||
            memcmp(x->actor, actor, x->actor_len) != 0) return 0;
        if (x->counter != s[i].n) return 0;
        if (x->len != strlen(s[i].v) || memcmp(x->value, s[i].v, x->len))
            return 0;
    }
    return 1;
}

/* The stored siblings of a key (NULL when it reads as absent). */
static vv_read *read_key(vv_db *db, const mkey *k)
{
    vv_read *r = NULL;
    int rc = vv_get(db, k->ks, k->key, strlen(k->key), &r);
    if (rc == VV_ENOTFOUND) return NULL;
    if (rc != VV_OK) fail_msg("get %s/%s: %s", k->ks, k->key, vv_errmsg(db));
    return r;
}

/* The counter of the sibling holding x's value (0: not stored), which
 * must be of actor.  Values are unique, so finding it means the
 * operation committed. */
static uint64_t find_counter(vv_db *db, const mkey *k, const op *x,
                             const char *actor)
{
    vv_read *r = read_key(db, k);
    uint64_t n = 0;
    size_t i;
    for (i = 0; r && i < vv_read_count(r); i++) {
        const vv_sibling *s = vv_read_sibling(r, i);
        if (s->len == strlen(x->val) && !memcmp(s->value, x->val, s->len)) {
            assert_int_equal(s->actor_len, strlen(actor));
            assert_memory_equal(s->actor, actor, s->actor_len);
            n = s->counter;
        }
    }
    vv_read_free(r);
    return n;
}

/* Reopen the directory, settle the writers' pending operations (each
 * committed or not, nothing in between) and check every key against the
 * model: the exact siblings, with their dots. */
static void verify(model *m, const char *dir, wstate *w, int nw)
{
    vv_options o;
    vv_db *db = NULL;
    char *err = NULL;
    size_t i, nkeys = 0, nstored = 0;
    int j;
    tu_options(&o, "s0", dir, NULL);
    o.no_sync = 0;
    if (vv_db_open(&o, &db, &err) != VV_OK)
        fail_msg("reopen after kill: %s", err ? err : "?");
    for (j = 0; j < nw; j++) {
        op *x = &w[j].pending;
        mkey *k;
        if (!w[j].has_pending) continue;
        w[j].has_pending = 0;
        k = model_key(m, x->ks, x->key);
        if (x->kind == 'd') {
            /* deletes are of private keys that had live siblings: the
             * key reads as absent exactly when the delete committed */
            vv_read *r = read_key(db, k);
            if (!r && k->ns > 0) { k->ns = 0; k->written = 1; }
            vv_read_free(r);
        } else {
            uint64_t n = find_counter(db, k, x,
                                      m->actors.name[w[j].actor]);
            if (n) model_apply(m, x, w[j].actor, n);
        }
    }
    for (i = 0; i < m->nkeys; i++) {
        mkey *k = &m->keys[i];
        vv_read *r = read_key(db, k);
        int ok = r ? same_sibs(m, r, k->s, k->ns) : k->ns == 0;
        if (!ok)
            fail_msg("key %s/%s: %zu stored siblings, the acknowledged "
                     "writes make %zu (or they differ)", k->ks, k->key,
                     r ? vv_read_count(r) : 0, k->ns);
        vv_read_free(r);
        if (k->written) nkeys++;
    }
    /* no stray keys: every stored key is one the writers wrote */
    nstored = tu_nkeys(db, "priv") + tu_nkeys(db, "shared");
    assert_int_equal(nstored, nkeys);
    {   /* every state decodes: stats scan them all */
        vv_stats st;
        assert_int_equal(vv_stats_get(db, NULL, &st), VV_OK);
        assert_int_equal(st.keys + st.tombstones, nstored);
    }
    vv_db_close(db);
}

/* No dot given out twice. */
static void check_dots(model *m)
{
    uint64_t twice = tu_repeated(m->dots, m->ndots);
    if (twice)
        fail_msg("dot %s:%llu was given out twice",
                 m->actors.name[(twice >> 32) - 1],
                 (unsigned long long)(twice & 0xffffffffu));
}

/* Run rounds of nw writers, killing them at random moments. */
static int crash_rounds(const char *dir, int rounds, int nw, unsigned seed)
{
    model m;
    int round, kills = 0;
    memset(&m, 0, sizeof m);
    srand(seed);
    for (round = 0; round < rounds; round++) {
        wstate w[MAXW];
        int i;
        memset(w, 0, sizeof w);
        for (i = 0; i < nw; i++) {
            int p[2];
            assert_int_equal(pipe(p), 0);
            w[i].pid = fork();
            assert_true(w[i].pid >= 0);
            if (w[i].pid == 0) {
                int j;
                close(p[0]);
                for (j = 0; j < i; j++) close(w[j].fd);
                writer(dir, i, round, p[1], seed * 7919u + (unsigned)round *
                       31u + (unsigned)i);
                _exit(0);
            }
            close(p[1]);
            w[i].fd = p[0];
        }
        /* let them write for a random while, then kill each at its own
         * random moment (sometimes during open) */
        for (i = 0; i < nw; i++) {
            pump_for(&m, w, nw, (double)(rand() % 250) / 1000.0);
            kill(w[i].pid, SIGKILL);
            kills++;
        }
        for (i = 0; i < nw; i++) {
            int st = lu_wait(w[i].pid);
            if (st != 128 + SIGKILL)
                fail_msg("writer %d ended with status %d, not by the kill",
                         i, st);
        }
        for (i = 0; i < nw; i++) {           /* drain what they said */
            while (pump(&m, &w[i])) {}
            close(w[i].fd);
        }
        verify(&m, dir, w, nw);
    }
    check_dots(&m);
    {
        size_t i, acked = 0;
        for (i = 0; i < m.nkeys; i++) acked += m.keys[i].written;
        assert_true(m.ndots > 0);
        assert_true(acked > 0);
        fprintf(stderr, "  %d writer(s): %d kills, %zu writes committed, "
                "%zu keys\n", nw, kills, m.ndots, m.nkeys);
    }
    model_free(&m);
    return kills;
}

static unsigned test_seed(void)
{
    const char *s = getenv("VV_CRASH_SEED");
    unsigned v = s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
    fprintf(stderr, "  seed %u (VV_CRASH_SEED to repeat)\n", v);
    return v;
}

static void crash_one_writer(void **state)
{
    assert_true(crash_rounds(*state, 20, 1, test_seed()) >= 20);
}

static void crash_concurrent_writers(void **state)
{
    assert_true(crash_rounds(*state, 8, MAXW, test_seed() + 1) >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(crash_one_writer, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(crash_concurrent_writers,
                                        lu_setup_dir, lu_teardown_dir),
    };
    return cmocka_run_group_tests_name("crash", tests, NULL, NULL);
}
