/* testutil.h - helpers shared by vv's cmocka tests: opening stores,
 * writing, reading siblings, copying states between stores. */
#ifndef VV_TESTUTIL_H
#define VV_TESTUTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "vv.h"

/* A deterministic clock for stores under test: each call returns *ud. */
static inline uint64_t tu_now(void *ud) { return *(uint64_t *)ud; }

/* Options for node's store: durable in dir (without fsync) or in memory
 * when dir is NULL; with now, the clock reads *now. */
static inline void tu_options(vv_options *o, const char *node,
                              const char *dir, uint64_t *now)
{
    memset(o, 0, sizeof *o);
    o->node = node;
    o->path = dir;
    o->no_sync = dir != NULL;
    if (now) { o->now = tu_now; o->now_ud = now; }
}

/* Open a store with options o; fails the test on error. */
static inline vv_db *tu_open_opts(const vv_options *o)
{
    vv_db *db = NULL;
    char *err = NULL;
    int rc = vv_db_open(o, &db, &err);
    if (rc != VV_OK)
        fprintf(stderr, "open %s%s%s: %s\n", o->node, o->path ? " in " : "",
                o->path ? o->path : "", err ? err : "?");
    assert_int_equal(rc, VV_OK);
    vv_free(err);
    return db;
}

/* Open an in-memory store named node; fails the test on error. */
static inline vv_db *tu_open(const char *node, uint64_t *now)
{
    vv_options o;
    tu_options(&o, node, NULL, now);
    return tu_open_opts(&o);
}

/* Open node's durable store in dir; fails the test on error. */
static inline vv_db *tu_open_dir(const char *node, const char *dir,
                                 uint64_t *now)
{
    vv_options o;
    tu_options(&o, node, dir, now);
    return tu_open_opts(&o);
}

/* node's durable store in dir, NULL when it does not open: for child
 * processes, which report by exit status rather than by assertions. */
static inline vv_db *tu_child_open(const char *node, const char *dir)
{
    vv_options o;
    vv_db *db = NULL;
    tu_options(&o, node, dir, NULL);
    return vv_db_open(&o, &db, NULL) == VV_OK ? db : NULL;
}

/* An in-memory store whose keyspace "ks" takes any number of siblings
 * (random writes pile them up). */
static inline vv_db *tu_open_ks(const char *node, uint64_t *now)
{
    vv_db *db = tu_open(node, now);
    vv_ks_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.warn_siblings = cfg.max_siblings = 100000;
    assert_int_equal(vv_keyspace(db, "ks", &cfg), VV_OK);
    return db;
}

/* n stores "r0", "r1", ... in r, each as tu_open_ks gives it. */
static inline void tu_open_n(vv_db **r, int n, uint64_t *now)
{
    int i;
    for (i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        r[i] = tu_open_ks(name, now);
    }
}

/* Close the n stores in r. */
static inline void tu_close_n(vv_db **r, int n)
{
    int i;
    for (i = 0; i < n; i++) vv_db_close(r[i]);
}

/* A clock from its text form; fails the test on error. */
static inline vv_clock *tu_clock(const char *text)
{
    vv_clock *c = NULL;
    assert_int_equal(vv_clock_parse(text, strlen(text), &c), VV_OK);
    return c;
}

/* Put ks/key = val (a string) with context ctx; fails the test on error. */
static inline void tu_put(vv_db *db, const char *ks, const char *key,
                          const char *val, const vv_clock *ctx)
{
    int rc = vv_put(db, ks, key, strlen(key), val, strlen(val), ctx, NULL);
    if (rc != VV_OK) fprintf(stderr, "put %s/%s: %s\n", ks, key,
                             vv_errmsg(db));
    assert_int_equal(rc, VV_OK);
}

/* Put n keys "k00", "k01", ... with values "v0", "v1", ... into ks. */
static inline void tu_fill(vv_db *db, const char *ks, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%02d", i);
        snprintf(v, sizeof v, "v%d", i);
        tu_put(db, ks, k, v, NULL);
    }
}

/* Replace whatever a read of ks/key shows (maybe nothing) with val. */
static inline void tu_overwrite(vv_db *db, const char *ks, const char *key,
                                const char *val)
{
    vv_read *r = NULL;
    int rc = vv_get(db, ks, key, strlen(key), &r);
    if (rc != VV_OK) assert_int_equal(rc, VV_ENOTFOUND);
    tu_put(db, ks, key, val, r ? vv_read_context(r) : NULL);
    vv_read_free(r);
}

/* Delete what a read of ks/key shows (there must be something). */
static inline void tu_del(vv_db *db, const char *ks, const char *key)
{
    vv_read *r = NULL;
    assert_int_equal(vv_get(db, ks, key, strlen(key), &r), VV_OK);
    assert_int_equal(vv_delete(db, ks, key, strlen(key), vv_read_context(r),
                               NULL), VV_OK);
    vv_read_free(r);
}

/* A copy of the context a read of ks/key gives; NULL when absent. */
static inline vv_clock *tu_context(vv_db *db, const char *ks,
                                   const char *key)
{
    vv_read *r = NULL;
    vv_clock *c = NULL;
    int rc = vv_get(db, ks, key, strlen(key), &r);
    if (rc == VV_ENOTFOUND) return NULL;
    assert_int_equal(rc, VV_OK);
    assert_int_equal(vv_clock_copy(vv_read_context(r), &c), VV_OK);
    vv_read_free(r);
    return c;
}

/* Sibling values of ks/key as "a|b|c" in read order, "" when absent.  The
 * text lives until the next call. */
static inline const char *tu_sibs(vv_db *db, const char *ks, const char *key)
{
    static char out[16384];
    vv_read *r = NULL;
    size_t i, n = 0;
    int rc = vv_get(db, ks, key, strlen(key), &r);
    out[0] = 0;
    if (rc == VV_ENOTFOUND) return out;
    assert_int_equal(rc, VV_OK);
    for (i = 0; i < vv_read_count(r); i++) {
        const vv_sibling *s = vv_read_sibling(r, i);
        assert_true(n + 1 + s->len < sizeof out);
        if (i) out[n++] = '|';
        memcpy(out + n, s->value, s->len);
        n += s->len;
    }
    out[n] = 0;
    vv_read_free(r);
    return out;
}

/* The export of ks/key (its whole state, byte for byte); NULL when the
 * store has none. */
static inline unsigned char *tu_export(vv_db *db, const char *ks,
                                       const char *key, size_t *len)
{
    void *p = NULL;
    int rc = vv_export(db, ks, key, strlen(key), &p, len);
    if (rc == VV_ENOTFOUND) return NULL;
    assert_int_equal(rc, VV_OK);
    return p;
}

/* Merge from's state of ks/key into to (one-way anti-entropy of one key);
 * 1 when from had a state, 0 when it had none. */
static inline int tu_copy(vv_db *from, vv_db *to, const char *ks,
                          const char *key)
{
    size_t n = 0;
    unsigned char *st = tu_export(from, ks, key, &n);
    if (!st) return 0;
    assert_int_equal(vv_merge(to, ks, key, strlen(key), st, n), VV_OK);
    vv_free(st);
    return 1;
}

/* vv_keys callback: counts keys in a size_t. */
static inline int tu_count_key(void *ud, const void *key, size_t klen)
{
    (void)key; (void)klen;
    (*(size_t *)ud)++;
    return 0;
}

/* How many keys keyspace ks holds (tombstones included). */
static inline size_t tu_nkeys(vv_db *db, const char *ks)
{
    size_t n = 0;
    assert_int_equal(vv_keys(db, ks, tu_count_key, &n), VV_OK);
    return n;
}

/* vv_keyspaces callback: appends "name," to a char buffer. */
static inline int tu_list_ks(void *ud, const char *name)
{
    strcat((char *)ud, name);
    strcat((char *)ud, ",");
    return 0;
}

/* vv_keys callback: appends "key," to a char buffer. */
static inline int tu_list_key(void *ud, const void *key, size_t klen)
{
    strncat((char *)ud, key, klen);
    strcat((char *)ud, ",");
    return 0;
}

/* qsort order of uint64_t values. */
static inline int tu_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Actor names numbered in the order first seen, for tu_dot. */
#define TU_ACTORS 64
typedef struct tu_actors {
    char name[TU_ACTORS][64];
    size_t n;
} tu_actors;

/* The number of actor in t (added when new), from 0. */
static inline size_t tu_actor(tu_actors *t, const char *actor, size_t len)
{
    size_t i;
    assert_true(len < sizeof t->name[0]);
    for (i = 0; i < t->n; i++)
        if (strlen(t->name[i]) == len && !memcmp(t->name[i], actor, len))
            return i;
    assert_true(t->n < TU_ACTORS);
    memcpy(t->name[t->n], actor, len);
    t->name[t->n][len] = 0;
    return t->n++;
}

/* A dot (actor, counter) as one number, for tu_repeated: the actor's
 * number in t above the 32 bits of the counter. */
static inline uint64_t tu_dot(tu_actors *t, const char *actor, size_t len,
                              uint64_t counter)
{
    assert_true(counter < (uint64_t)1 << 32);
    return (uint64_t)(tu_actor(t, actor, len) + 1) << 32 | counter;
}

/* Sort v; a value found twice in it, 0 when all differ. */
static inline uint64_t tu_repeated(uint64_t *v, size_t n)
{
    size_t i;
    qsort(v, n, sizeof *v, tu_cmp_u64);
    for (i = 1; i < n; i++)
        if (v[i] == v[i - 1]) return v[i];
    return 0;
}
#endif
