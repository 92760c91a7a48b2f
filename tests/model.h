/* model.h - the reference model for randomized history tests: for every
 * write, which writes its context had seen; for every replica and key,
 * which writes it knows.  A replica must show exactly the known writes
 * that no known write had seen, tombstones left out.  Define MR (replicas),
 * MK (keys) and MW (writes at most) before including.  Keys are "k<i>"
 * in keyspace "ks"; a write's value is "w<id>". */
#ifndef VV_MODEL_H
#define VV_MODEL_H
#include "testutil.h"

#define WORDS (MW / 64 + 1)

typedef struct { uint64_t w[WORDS]; } bits;
static inline void bset(bits *b, int i) { b->w[i / 64] |= 1ull << (i % 64); }
static inline int  bget(const bits *b, int i)
{
    return (int)(b->w[i / 64] >> (i % 64) & 1);
}
static inline void bor(bits *a, const bits *b)
{
    int i;
    for (i = 0; i < WORDS; i++) a->w[i] |= b->w[i];
}

typedef struct model {
    int nw;
    bits seen[MW];            /* writes each write's context had seen */
    int tomb[MW];
    bits known[MR][MK];       /* writes each replica knows, per key */
} model;

typedef struct client_ctx {   /* a client holding a read's context */
    int used, key;
    vv_clock *clock;
    bits seen;
} client_ctx;

/* A client reads key k at replica r into c: the read's context, and in
 * the model the writes r knows (what that context has seen). */
static inline void model_read(model *m, vv_db *db, int r, int k,
                              client_ctx *c)
{
    char key[16];
    vv_read *rd;
    snprintf(key, sizeof key, "k%d", k);
    if (vv_get(db, "ks", key, strlen(key), &rd) != VV_OK) return;
    vv_clock_free(c->clock);
    c->clock = vv_read_take_context(rd);
    if (!c->clock) abort();                    /* out of memory in a test */
    c->used = 1;
    c->key = k;
    c->seen = m->known[r][k];
    vv_read_free(rd);
}

/* Write w of key k at replica r: a put of "w<w>", or a delete when del,
 * with context ctx, whose writes m->seen[w] already holds.  The model
 * records that r knows w and everything w's context had seen. */
static inline void model_write(model *m, vv_db *db, int r, int k, int w,
                               int del, const vv_clock *ctx)
{
    char key[16], val[16];
    snprintf(key, sizeof key, "k%d", k);
    snprintf(val, sizeof val, "w%d", w);
    m->tomb[w] = del;
    if (del)
        assert_int_equal(vv_delete(db, "ks", key, strlen(key), ctx, NULL),
                         VV_OK);
    else
        assert_int_equal(vv_put(db, "ks", key, strlen(key), val,
                                strlen(val), ctx, NULL), VV_OK);
    bor(&m->known[r][k], &m->seen[w]);
    bset(&m->known[r][k], w);
}

/* Replica r learns, for every key, the writes in known (what a message
 * it merged carried). */
static inline void model_learn(model *m, int r, const bits *known)
{
    int k;
    for (k = 0; k < MK; k++) bor(&m->known[r][k], &known[k]);
}

/* Every replica learns every write any replica knows of key k. */
static inline void model_share(model *m, int k)
{
    int r, o;
    for (r = 0; r < MR; r++)
        for (o = 0; o < MR; o++) bor(&m->known[r][k], &m->known[o][k]);
}

/* Writes replica r must show for key k, as "w1,w5," in id order. */
static inline void expected(model *m, int r, int k, char *out)
{
    bits dom;
    int w;
    size_t n = 0;
    memset(&dom, 0, sizeof dom);
    for (w = 0; w < m->nw; w++)
        if (bget(&m->known[r][k], w)) bor(&dom, &m->seen[w]);
    out[0] = 0;
    for (w = 0; w < m->nw; w++)
        if (bget(&m->known[r][k], w) && !bget(&dom, w) && !m->tomb[w])
            n += (size_t)sprintf(out + n, "w%d,", w);
}

static inline int wcmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* What the store shows for key k, in the same form. */
static inline void shown(vv_db *db, int k, char *out)
{
    char key[16];
    vv_read *r;
    int ids[MW], n = 0, i;
    size_t len = 0;
    snprintf(key, sizeof key, "k%d", k);
    out[0] = 0;
    if (vv_get(db, "ks", key, strlen(key), &r) == VV_ENOTFOUND) return;
    for (i = 0; i < (int)vv_read_count(r) && n < MW; i++) {
        const vv_sibling *s = vv_read_sibling(r, (size_t)i);
        char tmp[16];
        size_t l = s->len < sizeof tmp - 1 ? s->len : sizeof tmp - 1;
        memcpy(tmp, s->value, l);
        tmp[l] = 0;
        ids[n++] = atoi(tmp + 1);
    }
    vv_read_free(r);
    qsort(ids, (size_t)n, sizeof *ids, wcmp);
    for (i = 0; i < n; i++) len += (size_t)sprintf(out + len, "w%d,", ids[i]);
}

/* Every replica db[r] shows for key k exactly the writes the model says;
 * seed and op name the moment in the failure message. */
static inline void model_check_key(model *m, vv_db **db, int k,
                                   unsigned seed, int op)
{
    static char want[MW * 8], got[MW * 8];
    int r;
    for (r = 0; r < MR; r++) {
        expected(m, r, k, want);
        shown(db[r], k, got);
        if (strcmp(want, got))
            fprintf(stderr, "seed %u op %d replica %d key k%d:\n"
                    " want %s\n  got %s\n", seed, op, r, k, want, got);
        assert_string_equal(want, got);
    }
}

/* model_check_key for every key. */
static inline void model_check(model *m, vv_db **db, unsigned seed, int op)
{
    int k;
    for (k = 0; k < MK; k++) model_check_key(m, db, k, seed, op);
}

/* Every replica shows the same siblings of key k in the same order. */
static inline void model_agree(vv_db **db, int k)
{
    char key[16], *first;
    int r;
    snprintf(key, sizeof key, "k%d", k);
    first = strdup(tu_sibs(db[0], "ks", key));
    assert_non_null(first);
    for (r = 1; r < MR; r++)
        assert_string_equal(tu_sibs(db[r], "ks", key), first);
    free(first);
}
#endif
