/* dvv.c - one key's state: a causal context plus dotted versions. */
#include <stdlib.h>
#include <string.h>
#include "vv_int.h"

#define STATE_FORMAT 0x01    /* first byte of a stored (local) state */

void vvi_state_init(vvi_state *s)
{
    s->ctx = s->ictx;
    s->nctx = 0;
    s->capctx = VVI_ICTX;
    s->v = s->iv;
    s->nv = 0;
    s->capv = VVI_IVER;
    s->seq = 0;
}

void vvi_state_free(vvi_state *s)
{
    if (s->ctx != s->ictx) vvi_free(s->ctx);
    if (s->v != s->iv) vvi_free(s->v);
    vvi_state_init(s);
}

void vvi_state_move(vvi_state *dst, vvi_state *src)
{
    *dst = *src;
    if (src->ctx == src->ictx) dst->ctx = dst->ictx;
    if (src->v == src->iv) dst->v = dst->iv;
    vvi_state_init(src);
}

/* Grow an array that may still be the state's inline one. */
static void *grow(void *p, const void *inl, size_t n, size_t cap, size_t size)
{
    void *q;
    if (p != inl) return vvi_realloc(p, cap * size);
    if ((q = vvi_malloc(cap * size)) != NULL) memcpy(q, p, n * size);
    return q;
}

/* Counter of actor a in a context sorted by actor number (0 if absent). */
uint64_t vvi_ctx_get(const vvi_ent *ctx, size_t n, uint32_t a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ctx[mid].a == a) return ctx[mid].n;
        if (ctx[mid].a < a) lo = mid + 1; else hi = mid;
    }
    return 0;
}

/* ctx[a] := max(ctx[a], n), keeping the context sorted. */
int vvi_ctx_max(vvi_state *s, uint32_t a, uint64_t n)
{
    size_t lo = 0, hi = s->nctx;
    if (n == 0) return VV_OK;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->ctx[mid].a == a) {
            if (s->ctx[mid].n < n) s->ctx[mid].n = n;
            return VV_OK;
        }
        if (s->ctx[mid].a < a) lo = mid + 1; else hi = mid;
    }
    if (s->nctx == s->capctx) {
        size_t cap = s->capctx * 2;
        vvi_ent *e = grow(s->ctx, s->ictx, s->nctx, cap, sizeof *e);
        if (!e) return VV_ENOMEM;
        s->ctx = e;
        s->capctx = cap;
    }
    memmove(s->ctx + lo + 1, s->ctx + lo, (s->nctx - lo) * sizeof *s->ctx);
    s->ctx[lo].a = a;
    s->ctx[lo].n = n;
    s->nctx++;
    return VV_OK;
}

int vvi_state_add(vvi_state *s, const vvi_ver *v)
{
    if (s->nv == s->capv) {
        size_t cap = s->capv * 2;
        vvi_ver *nv = grow(s->v, s->iv, s->nv, cap, sizeof *nv);
        if (!nv) return VV_ENOMEM;
        s->v = nv;
        s->capv = cap;
    }
    s->v[s->nv++] = *v;
    return VV_OK;
}

/* Layout: format byte; varint nctx, nctx x (varint actor, varint counter);
 * varint nv, nv x (varint actor, varint counter, varint timestamp,
 * varint (len << 1 | tomb), len bytes); then, when seq is not 0, varint
 * seq (the key's place in its keyspace's change log, for sync.c). */
void vvi_state_encode(const vvi_state *s, vvi_buf *b)
{
    size_t i;
    vvi_buf_byte(b, STATE_FORMAT);
    vvi_buf_varint(b, s->nctx);
    for (i = 0; i < s->nctx; i++) {
        vvi_buf_varint(b, s->ctx[i].a);
        vvi_buf_varint(b, s->ctx[i].n);
    }
    vvi_buf_varint(b, s->nv);
    for (i = 0; i < s->nv; i++) {
        const vvi_ver *v = &s->v[i];
        vvi_buf_varint(b, v->a);
        vvi_buf_varint(b, v->n);
        vvi_buf_varint(b, v->ts);
        vvi_buf_varint(b, (uint64_t)v->len << 1 | (v->tomb ? 1 : 0));
        vvi_buf_add(b, v->val, v->len);
    }
    if (s->seq) vvi_buf_varint(b, s->seq);
}

int vvi_state_decode(vvi_state *s, const void *p, size_t n)
{
    vvi_rd r;
    uint64_t cnt, i;
    vvi_state_init(s);
    vvi_rd_init(&r, p, n);
    if (vvi_rd_byte(&r) != STATE_FORMAT) return VV_ECORRUPT;
    cnt = vvi_rd_varint(&r);
    if (r.err || cnt > n) return VV_ECORRUPT;
    for (i = 0; i < cnt; i++) {
        uint64_t a = vvi_rd_varint(&r), c = vvi_rd_varint(&r);
        if (r.err || a > UINT32_MAX || c == 0) goto bad;
        if (s->nctx && s->ctx[s->nctx - 1].a >= a) goto bad;
        if (vvi_ctx_max(s, (uint32_t)a, c)) { vvi_state_free(s); return VV_ENOMEM; }
    }
    cnt = vvi_rd_varint(&r);
    if (r.err || cnt > n) goto bad;
    for (i = 0; i < cnt; i++) {
        vvi_ver v;
        uint64_t a = vvi_rd_varint(&r), lt;
        v.n = vvi_rd_varint(&r);
        v.ts = vvi_rd_varint(&r);
        lt = vvi_rd_varint(&r);
        if (r.err || a > UINT32_MAX) goto bad;
        v.a = (uint32_t)a;
        v.tomb = (int)(lt & 1);
        v.len = (size_t)(lt >> 1);
        v.val = vvi_rd_bytes(&r, v.len);
        if (r.err) goto bad;
        if (vvi_state_add(s, &v)) { vvi_state_free(s); return VV_ENOMEM; }
    }
    if (r.p != r.end) {                          /* the change log's seq */
        s->seq = vvi_rd_varint(&r);
        if (r.err || s->seq == 0 || r.p != r.end) goto bad;
    }
    return VV_OK;
bad:
    vvi_state_free(s);
    return VV_ECORRUPT;
}

/* Does version v's dot fall inside context ctx? */
static int covered(const vvi_ent *ctx, size_t n, const vvi_ver *v)
{
    return v->n <= vvi_ctx_get(ctx, n, v->a);
}

int vvi_state_write(vvi_state *s, const vvi_ent *cc, size_t ncc,
                    const vvi_ver *v)
{
    size_t i, k = 0;
    int rc;
    /* On failure s is half-updated; callers discard it (the store aborts
     * the transaction), so no rollback is needed here. */
    for (i = 0; i < s->nv; i++)                 /* drop what cc had seen */
        if (!covered(cc, ncc, &s->v[i])) s->v[k++] = s->v[i];
    s->nv = k;
    if ((rc = vvi_state_add(s, v))) return rc;
    for (i = 0; i < ncc; i++)
        if ((rc = vvi_ctx_max(s, cc[i].a, cc[i].n))) return rc;
    return vvi_ctx_max(s, v->a, v->n);
}

/* Deterministic pick between two versions that carry the same dot (only
 * reachable with forged or reused dots): the greater (ts, tomb, bytes). */
static int ver_cmp(const vvi_ver *x, const vvi_ver *y)
{
    size_t n;
    int c;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    if (x->tomb != y->tomb) return x->tomb < y->tomb ? -1 : 1;
    n = x->len < y->len ? x->len : y->len;
    c = n ? memcmp(x->val, y->val, n) : 0;
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static long find_dot(const vvi_state *s, uint32_t a, uint64_t n)
{
    size_t i;
    for (i = 0; i < s->nv; i++)
        if (s->v[i].a == a && s->v[i].n == n) return (long)i;
    return -1;
}

int vvi_state_merge(vvi_state *s, const vvi_state *o)
{
    vvi_state r;
    size_t i;
    int rc = VV_OK;
    vvi_state_init(&r);
    for (i = 0; i < s->nv && !rc; i++) {      /* ours, unless o replaced it */
        const vvi_ver *v = &s->v[i];
        long j = find_dot(o, v->a, v->n);
        if (j >= 0) rc = vvi_state_add(&r, ver_cmp(v, &o->v[j]) >= 0 ? v : &o->v[j]);
        else if (!covered(o->ctx, o->nctx, v)) rc = vvi_state_add(&r, v);
    }
    for (i = 0; i < o->nv && !rc; i++) {      /* theirs we had not seen */
        const vvi_ver *v = &o->v[i];
        if (find_dot(s, v->a, v->n) < 0 && !covered(s->ctx, s->nctx, v))
            rc = vvi_state_add(&r, v);
    }
    for (i = 0; i < s->nctx && !rc; i++) rc = vvi_ctx_max(&r, s->ctx[i].a, s->ctx[i].n);
    for (i = 0; i < o->nctx && !rc; i++) rc = vvi_ctx_max(&r, o->ctx[i].a, o->ctx[i].n);
    if (rc) { vvi_state_free(&r); return rc; }
    r.seq = s->seq;                           /* still the same key */
    vvi_state_free(s);
    vvi_state_move(s, &r);
    return VV_OK;
}

size_t vvi_state_live(const vvi_state *s)
{
    size_t i, n = 0;
    for (i = 0; i < s->nv; i++) n += !s->v[i].tomb;
    return n;
}
