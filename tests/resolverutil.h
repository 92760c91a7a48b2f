/* resolverutil.h - what the resolver tests share: a scratch directory for
 * scripts, test values, two replicas with a conflict, hostile scripts. */
#ifndef VV_RESOLVERUTIL_H
#define VV_RESOLVERUTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "vv.h"
#include "common/lcodec.h"
#include "sandbox/resolver.h"
#include "testutil.h"

/* ---- fixture: a scratch directory for scripts and probe files -------- */

static char dir[64];                 /* the scratch directory */
static char probe[128];              /* a file no script may create */
static lua_State *H;                 /* helper state: builds test values */

static inline int group_setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/vv-resolver-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(probe, sizeof probe, "%s/probe", dir);
    H = luaL_newstate();
    luaL_openlibs(H);
    return 0;
}

static inline int group_teardown(void **st)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    (void)st;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        remove(p);
    }
    if (d) closedir(d);
    rmdir(dir);
    lua_close(H);
    return 0;
}

/* Run the tests of one resolver test file under the fixture. */
#define run_resolver_tests(name, tests) \
    cmocka_run_group_tests_name(name, tests, group_setup, group_teardown)

/* Write text to <dir>/name; returns the path (static, per call site). */
static inline const char *script(const char *name, const char *text)
{
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    FILE *f;
    snprintf(p, 256, "%s/%s", dir, name);
    f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* Seconds since some fixed point. */
static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- values ------------------------------------------------------------ */

typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

/* The msgpack bytes of a Lua expression (vv's canonical encoding). */
static inline bytes enc(const char *expr)
{
    bytes b;
    vv_buf buf;
    char err[256];
    lua_pushfstring(H, "return %s", expr);
    if (luaL_dostring(H, lua_tostring(H, -1)))
        fail_msg("bad test expr: %s", expr);
    lua_remove(H, -2);
    vv_buf_init(&buf);
    if (vvl_encode(H, -1, VVL_MSGPACK, &buf, err, sizeof err))
        fail_msg("cannot encode %s: %s", expr, err);
    lua_pop(H, 1);
    b.p = buf.p;
    b.n = buf.len;
    return b;
}

/* Does the stored value v[0..n) equal the Lua expression expr? */
static inline int same(const void *v, size_t n, const char *expr)
{
    bytes e = enc(expr);
    int ok = e.n == n && memcmp(e.p, v, n) == 0;
    vv_free(e.p);
    return ok;
}

/* Fill in a sibling for calling a resolver directly: value v, written by
 * actor (whose first node_len bytes name the node) as dot counter at
 * timestamp. */
static inline void sibling(vv_sibling *s, bytes v, const char *actor,
                           size_t node_len, uint64_t counter,
                           uint64_t timestamp)
{
    memset(s, 0, sizeof *s);
    s->value = v.p;
    s->len = v.n;
    s->actor = actor;
    s->actor_len = strlen(actor);
    s->node_len = node_len;
    s->counter = counter;
    s->timestamp = timestamp;
}

/* ---- two replicas with a conflict -------------------------------------- */

typedef struct pair {
    vv_db *a, *b;
    uint64_t ta, tb;                 /* each store's wall clock */
} pair;

static inline void pair_open(pair *p)
{
    p->ta = 1000;
    p->tb = 2000;                    /* b's writes are newer */
    p->a = tu_open("s0", &p->ta);
    p->b = tu_open("s1", &p->tb);
}

static inline void pair_close(pair *p)
{
    vv_db_close(p->a);
    vv_db_close(p->b);
}

/* Attach path to keyspace ks on both replicas; must succeed. */
static inline void pair_script(pair *p, const char *ks, const char *path,
                               const vv_ks_config *cfg)
{
    int rc = vv_keyspace_script(p->a, ks, path, cfg);
    if (rc) fail_msg("load %s: %s", path, vv_errmsg(p->a));
    rc = vv_keyspace_script(p->b, ks, path, cfg);
    if (rc) fail_msg("load %s: %s", path, vv_errmsg(p->b));
}

/* Copy key's state from one replica to the other. */
static inline void sync1(vv_db *from, vv_db *to, const char *ks,
                         const char *key)
{
    void *st = NULL;
    size_t n = 0;
    assert_int_equal(vv_export(from, ks, key, strlen(key), &st, &n), VV_OK);
    assert_int_equal(vv_merge(to, ks, key, strlen(key), st, n), VV_OK);
    vv_free(st);
}

/* a writes va, b writes vb, concurrently; then they exchange states. */
static inline void pair_conflict(pair *p, const char *ks, const char *key,
                                 const char *va, const char *vb)
{
    bytes x = enc(va), y = enc(vb);
    assert_int_equal(vv_put(p->a, ks, key, strlen(key), x.p, x.n, NULL,
                            NULL), VV_OK);
    assert_int_equal(vv_put(p->b, ks, key, strlen(key), y.p, y.n, NULL,
                            NULL), VV_OK);
    sync1(p->a, p->b, ks, key);
    sync1(p->b, p->a, ks, key);
    vv_free(x.p);
    vv_free(y.p);
}

/* Read key on db and its resolved value into *v, *n (valid until
 * vv_read_free(*r)); the resolution must succeed. */
static inline void read_value(vv_db *db, const char *ks, const char *key,
                              vv_read **r, const void **v, size_t *n)
{
    assert_int_equal(vv_get(db, ks, key, strlen(key), r), VV_OK);
    assert_int_equal(vv_read_value(*r, v, n), VV_OK);
}

/* key on db resolves to expr. */
static inline void want_value(vv_db *db, const char *ks, const char *key,
                              const char *expr)
{
    vv_read *r = NULL;
    const void *v;
    size_t n;
    int rc;
    assert_int_equal(vv_get(db, ks, key, strlen(key), &r), VV_OK);
    rc = vv_read_value(r, &v, &n);
    if (rc != VV_OK)
        fail_msg("%s/%s: %s", ks, key, vv_read_error(r) ? vv_read_error(r)
                 : vv_strerror(rc));
    if (!same(v, n, expr)) fail_msg("%s/%s is not %s", ks, key, expr);
    vv_read_free(r);
}

/* key on db gives a resolver error containing what, with the nsib
 * siblings still there; returns the read's time in seconds. */
static inline double want_error(vv_db *db, const char *ks, const char *key,
                                const char *what, size_t nsib)
{
    vv_read *r = NULL;
    const void *v = NULL;
    size_t n = 0;
    const char *msg;
    double t0 = now_s(), t;
    assert_int_equal(vv_get(db, ks, key, strlen(key), &r), VV_OK);
    t = now_s() - t0;
    assert_int_equal(vv_read_value(r, &v, &n), VV_ERESOLVER);
    msg = vv_read_error(r);
    assert_non_null(msg);
    if (!strstr(msg, what))
        fail_msg("error of %s/%s lacks \"%s\": %s", ks, key, what, msg);
    assert_non_null(strstr(msg, "resolver for keyspace '"));
    assert_int_equal(vv_read_count(r), nsib);
    vv_read_free(r);
    return t;
}

/* The store still answers: a write over what it sees collapses key. */
static inline void want_usable(vv_db *db, const char *ks, const char *key)
{
    vv_read *r = NULL;
    bytes v = enc("{'fixed'}");
    assert_int_equal(vv_get(db, ks, key, strlen(key), &r), VV_OK);
    assert_int_equal(vv_put(db, ks, key, strlen(key), v.p, v.n,
                            vv_read_context(r), NULL), VV_OK);
    vv_read_free(r);
    want_value(db, ks, key, "{'fixed'}");
    vv_free(v.p);
}

/* ---- hostile scripts ---------------------------------------------------- */

typedef struct hostile {
    const char *name;
    const char *body;                /* the inside of function(siblings, key) */
    const char *expect;              /* part of the error message */
} hostile;

/* One hostile script: a resolver error with the siblings intact, no
 * probe file, a quick end, and a store that still answers. */
static inline void run_hostile(const hostile *h, double *worst)
{
    pair p;
    char text[2048], body[1024], name[64];
    const char *s, *q, *path;
    size_t o = 0;
    double t;
    /* put the probe path in place of PROBE */
    for (s = h->body; *s && o + 128 < sizeof body; ) {
        q = strstr(s, "PROBE");
        if (q == s) {
            o += (size_t)snprintf(body + o, sizeof body - o, "%s", probe);
            s += 5;
        } else {
            body[o++] = *s++;
        }
    }
    body[o] = 0;
    snprintf(text, sizeof text, "return function(siblings, key)\n%s\nend\n",
             body);
    snprintf(name, sizeof name, "h-%s.lua", h->name);
    path = script(name, text);
    pair_open(&p);
    pair_script(&p, "h", path, NULL);
    pair_conflict(&p, "h", "k", "{'from a'}", "{'from b'}");
    t = want_error(p.a, "h", "k", h->expect, 2);
    if (t > *worst) *worst = t;
    /* the siblings are the values written */
    {
        vv_read *r;
        size_t i;
        int seen_a = 0, seen_b = 0;
        assert_int_equal(vv_get(p.a, "h", "k", 1, &r), VV_OK);
        for (i = 0; i < vv_read_count(r); i++) {
            const vv_sibling *sb = vv_read_sibling(r, i);
            seen_a |= same(sb->value, sb->len, "{'from a'}");
            seen_b |= same(sb->value, sb->len, "{'from b'}");
        }
        assert_true(seen_a && seen_b);
        vv_read_free(r);
    }
    /* again: the same error (nothing carried over) */
    want_error(p.a, "h", "k", h->expect, 2);
    assert_int_equal(access(probe, F_OK), -1);
    want_usable(p.a, "h", "k");
    /* other keys and keyspaces still work */
    pair_conflict(&p, "plain", "k", "1", "2");
    {
        vv_read *r;
        assert_int_equal(vv_get(p.a, "plain", "k", 1, &r), VV_OK);
        assert_int_equal(vv_read_count(r), 2);
        vv_read_free(r);
    }
    pair_close(&p);
}

/* Run the n hostile scripts of h; each read that fails must end within
 * seconds. */
static inline void run_hostiles(const hostile *h, size_t n)
{
    size_t i;
    double worst = 0, t0 = now_s();
    for (i = 0; i < n; i++) {
        double t1 = now_s();
        run_hostile(&h[i], &worst);
        print_message("hostile %-22s %.3f s\n", h[i].name, now_s() - t1);
    }
    print_message("%zu hostile scripts in %.2f s, slowest read %.3f s\n",
                  n, now_s() - t0, worst);
    assert_true(worst < 5.0);
}

#endif /* VV_RESOLVERUTIL_H */
