/* dvv.c - one key's state: a causal context plus dotted versions. */
#include <stdlib.h>
#include <string.h>
#include "vv_int.h"

#define STATE_FORMAT 0x01    /* first byte of a stored (local) state */

void vvi_dvv_init(vvi_dvv *s)
{
    s->ctx = s->ictx;
    s->nctx = 0;
    s->capctx = VVI_ICTX;
    s->v = s->iv;
    s->nv = 0;
    s->capv = VVI_IVER;
    s->seq = 0;
}

void vvi_dvv_free(vvi_dvv *s)
{
    if (s->ctx != s->ictx) vv_free(s->ctx);
    if (s->v != s->iv) vv_free(s->v);
    vvi_dvv_init(s);
}

void vvi_dvv_move(vvi_dvv *dst, vvi_dvv *src)
{
    *dst = *src;
    if (src->ctx == src->ictx) dst->ctx = dst->ictx;
    if (src->v == src->iv) dst->v = dst->iv;
    vvi_dvv_init(src);
}

/* Grow an array that may still be the state's inline one. */
static void *grow(void *p, const void *inl, size_t n, size_t cap, size_t size)
{
    void *q;
    if (p != inl) return vv_realloc(p, cap * size);
    if ((q = vv_malloc(cap * size)) != NULL) memcpy(q, p, n * size);
    return q;
}

/* Make room for n context entries and m versions (keeping what s holds).
 * Leaves s as it was on failure. */
static int state_reserve(vvi_dvv *s, size_t n, size_t m)
{
    if (n > s->capctx) {
        vvi_ent *e = grow(s->ctx, s->ictx, s->nctx, n, sizeof *e);
        if (!e) return VV_ENOMEM;
        s->ctx = e;
        s->capctx = n;
    }
    if (m > s->capv) {
        vvi_ver *v = grow(s->v, s->iv, s->nv, m, sizeof *v);
        if (!v) return VV_ENOMEM;
        s->v = v;
        s->capv = m;
    }
    return VV_OK;
}

/* Counter of actor a in a context sorted by actor number (0 if absent):
 * a short context is scanned, a long one searched. */
static inline uint64_t ctx_get(const vvi_ent *ctx, size_t n, uint32_t a)
{
    size_t lo = 0, hi = n;
    if (n <= 8) {
        for (; lo < n && ctx[lo].a <= a; lo++)
            if (ctx[lo].a == a) return ctx[lo].n;
        return 0;
    }
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ctx[mid].a == a) return ctx[mid].n;
        if (ctx[mid].a < a) lo = mid + 1; else hi = mid;
    }
    return 0;
}

uint64_t vvi_ctx_get(const vvi_ent *ctx, size_t n, uint32_t a)
{
    return ctx_get(ctx, n, a);
}

/* ctx[a] := max(ctx[a], n), keeping the context sorted. */
int vvi_ctx_max(vvi_dvv *s, uint32_t a, uint64_t n)
{
    size_t lo = 0, hi = s->nctx;
    if (n == 0) return VV_OK;
    if (hi <= 8) while (lo < hi && s->ctx[lo].a < a) lo++;
    else while (lo < hi) {                       /* first entry >= a */
        size_t mid = (lo + hi) / 2;
        if (s->ctx[mid].a < a) lo = mid + 1; else hi = mid;
    }
    if (lo < s->nctx && s->ctx[lo].a == a) {
        if (s->ctx[lo].n < n) s->ctx[lo].n = n;
        return VV_OK;
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

int vvi_dvv_add(vvi_dvv *s, const vvi_ver *v)
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
void vvi_dvv_encode(const vvi_dvv *s, vv_buf *b)
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
        vv_buf_add(b, v->val, v->len);
    }
    if (s->seq) vvi_buf_varint(b, s->seq);
}

#if defined(__GNUC__)
#define DVV_NOINLINE __attribute__((noinline))
#else
#define DVV_NOINLINE
#endif

/* get_varint past its first byte's test: two bytes or more (or none).
 * Two and three bytes (counters and seqs below 2^21; a state's seq is
 * its last varint, so it often has fewer than 8 bytes after it) are
 * read directly, 4 to 8 (timestamps take 6) as one word when 8 bytes are
 * at hand, the rest a byte at a time. */
static DVV_NOINLINE const unsigned char *get_varint_long(
    const unsigned char *p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    size_t left = (size_t)(end - p);
    unsigned shift = 0, c, i;
    if (left >= 2) {                         /* p[0] has its high bit */
        if (p[1] < 0x80) {
            if (p[1] == 0) return NULL;
            *out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
            return p + 2;
        }
        if (left >= 3 && p[2] < 0x80) {
            if (p[2] == 0) return NULL;
            *out = (uint64_t)(p[0] & 0x7f) | (uint64_t)(p[1] & 0x7f) << 7 |
                   (uint64_t)p[2] << 14;
            return p + 3;
        }
    }
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (left >= 8) {                         /* 4 to 8 bytes as one word */
        uint64_t w, stop;
        memcpy(&w, p, 8);
        stop = ~w & 0x8080808080808080ull;   /* the bytes that end it */
        if (stop) {
            i = (unsigned)__builtin_ctzll(stop) / 8;  /* its last byte */
            if ((w >> (8 * i) & 0xff) == 0) return NULL;
            if (i < 7) w &= (1ull << (8 * (i + 1))) - 1;
            w &= 0x7f7f7f7f7f7f7f7full;       /* the 7-bit groups, packed */
            w = (w & 0x007f007f007f007full) |
                (w & 0x7f007f007f007f00ull) >> 1;
            w = (w & 0x00003fff00003fffull) |
                (w & 0x3fff00003fff0000ull) >> 2;
            w = (w & 0x000000000fffffffull) |
                (w & 0x0fffffff00000000ull) >> 4;
            *out = w;
            return p + i + 1;
        }
    }
#endif
    if (left >= 10) {                        /* all 10 at hand: no bounds */
        for (i = 0; i < 10; i++) {
            c = p[i];
            v |= (uint64_t)(c & 0x7f) << (7 * i);
            if (c < 0x80) break;
        }
        if (i == 10 || (i && c == 0) || (i == 9 && c > 1)) return NULL;
        *out = v;
        return p + i + 1;
    }
    do {
        if (p == end || shift > 63) return NULL;
        c = *p++;
        if (shift == 63 && c > 1) return NULL;
        v |= (uint64_t)(c & 0x7f) << shift;
        shift += 7;
    } while (c & 0x80);
    if (c == 0 && shift > 7) return NULL;    /* not the shortest form */
    *out = v;
    return p;
}

/* A LEB128 varint at p (before end) as vvi_rd_varint reads it: canonical,
 * at most 10 bytes.  Returns the byte after it, or NULL.  One byte (most
 * counts and numbers) and two (counters below 2^14) inline, the rest
 * in a call. */
static inline const unsigned char *get_varint(const unsigned char *p,
                                              const unsigned char *end,
                                              uint64_t *out)
{
    if (p < end && *p < 0x80) {
        *out = *p;
        return p + 1;
    }
    if (end - p >= 2 && (unsigned)p[1] - 1u < 0x7fu) {   /* 1..127 */
        *out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
        return p + 2;
    }
    return get_varint_long(p, end, out);
}

/* Write varint v at q (room for 10 bytes); returns the byte after it. */
static inline unsigned char *put_varint(unsigned char *q, uint64_t v)
{
    while (v >= 0x80) {
        *q++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *q++ = (unsigned char)v;
    return q;
}

/* One pass over the bytes straight into the state's arrays, sized once
 * from the counts (bounded by the bytes left, so a forged count cannot
 * ask for much). */
int vvi_dvv_decode(vvi_dvv *s, const void *buf, size_t n)
{
    const unsigned char *p = buf, *end = p + n;
    uint64_t cnt, i, a, c, lt;
    vvi_dvv_init(s);
    if (n == 0 || *p++ != STATE_FORMAT) return VV_ECORRUPT;
    if (!(p = get_varint(p, end, &cnt)) || cnt > (uint64_t)(end - p) / 2)
        return VV_ECORRUPT;                  /* each entry: 2 bytes or more */
    if (cnt > VVI_ICTX && state_reserve(s, (size_t)cnt, 0)) return VV_ENOMEM;
    for (i = 0; i < cnt; i++) {
        vvi_ent *e = &s->ctx[i];
        if (!(p = get_varint(p, end, &a)) || !(p = get_varint(p, end, &c)))
            goto bad;
        if (a > UINT32_MAX || c == 0 || (i && e[-1].a >= a)) goto bad;
        e->a = (uint32_t)a;
        e->n = c;
    }
    s->nctx = (size_t)cnt;
    if (!(p = get_varint(p, end, &cnt)) || cnt > (uint64_t)(end - p) / 4)
        goto bad;                            /* each version: 4 or more */
    if (cnt > VVI_IVER && state_reserve(s, 0, (size_t)cnt)) {
        vvi_dvv_free(s);
        return VV_ENOMEM;
    }
    for (i = 0; i < cnt; i++) {
        vvi_ver *v = &s->v[i];
        if (!(p = get_varint(p, end, &a)) || !(p = get_varint(p, end, &v->n)) ||
            !(p = get_varint(p, end, &v->ts)) || !(p = get_varint(p, end, &lt)))
            goto bad;
        if (a > UINT32_MAX || (lt >> 1) > (uint64_t)(end - p)) goto bad;
        v->a = (uint32_t)a;
        v->tomb = (int)(lt & 1);
        v->len = (size_t)(lt >> 1);
        v->val = p;
        p += v->len;
    }
    s->nv = (size_t)cnt;
    if (p != end) {                              /* the change log's seq */
        if (!(p = get_varint(p, end, &s->seq)) || s->seq == 0 || p != end)
            goto bad;
    }
    return VV_OK;
bad:
    vvi_dvv_free(s);
    return VV_ECORRUPT;
}

/* vvi_dvv_decode's pass, into the caller's arrays: the context, and
 * only the live versions (a read shows no tombstone). */
int vvi_dvv_view(const void *buf, size_t n, uint32_t na, vvi_ent *ctx,
                 size_t capctx, size_t *nctx, vvi_ver *live, size_t caplive,
                 size_t *nlive)
{
    const unsigned char *p = buf, *end = p + n;
    uint64_t cnt, i, a, c, lt, seq;
    size_t k = 0;
    *nctx = *nlive = 0;
    if (n == 0 || *p++ != STATE_FORMAT) return VV_ECORRUPT;
    if (!(p = get_varint(p, end, &cnt)) || cnt > (uint64_t)(end - p) / 2)
        return VV_ECORRUPT;
    if (cnt > capctx) return VV_ELIMIT;
    for (i = 0; i < cnt; i++) {
        if (!(p = get_varint(p, end, &a)) || !(p = get_varint(p, end, &c)))
            return VV_ECORRUPT;
        if (a >= na || c == 0 || (i && ctx[i - 1].a >= a)) return VV_ECORRUPT;
        ctx[i].a = (uint32_t)a;
        ctx[i].n = c;
    }
    *nctx = (size_t)cnt;
    if (!(p = get_varint(p, end, &cnt)) || cnt > (uint64_t)(end - p) / 4)
        return VV_ECORRUPT;
    for (i = 0; i < cnt; i++) {
        vvi_ver *v = &live[k];
        uint64_t vn, ts;
        if (!(p = get_varint(p, end, &a)) || !(p = get_varint(p, end, &vn)) ||
            !(p = get_varint(p, end, &ts)) || !(p = get_varint(p, end, &lt)))
            return VV_ECORRUPT;
        if (a >= na || (lt >> 1) > (uint64_t)(end - p)) return VV_ECORRUPT;
        if (!(lt & 1)) {
            if (k == caplive) return VV_ELIMIT;
            v->a = (uint32_t)a;
            v->n = vn;
            v->ts = ts;
            v->tomb = 0;
            v->len = (size_t)(lt >> 1);
            v->val = p;
            k++;
        }
        p += lt >> 1;
    }
    if (p != end) {                              /* the change log's seq */
        if (!(p = get_varint(p, end, &seq)) || seq == 0 || p != end)
            return VV_ECORRUPT;
    }
    *nlive = k;
    return VV_OK;
}

/* Does version v's dot fall inside context ctx? */
static inline int covered(const vvi_ent *ctx, size_t n, const vvi_ver *v)
{
    return v->n <= ctx_get(ctx, n, v->a);
}

/* s->ctx := s->ctx ⊔ cc (sorted by actor, as every context is): one walk
 * raises the counters s has; actors s lacks are merged in from the end,
 * in place. */
static int ctx_absorb(vvi_dvv *s, const vvi_ent *cc, size_t ncc)
{
    size_t i = 0, j, k, missing = 0;
    for (j = 0; j < ncc; j++) {
        vvi_assert(j == 0 || cc[j].a > cc[j - 1].a);
        while (i < s->nctx && s->ctx[i].a < cc[j].a) i++;
        if (i < s->nctx && s->ctx[i].a == cc[j].a) {
            if (s->ctx[i].n < cc[j].n) s->ctx[i].n = cc[j].n;
        } else if (cc[j].n) missing++;
    }
    if (!missing) return VV_OK;
    if (state_reserve(s, s->nctx + missing, 0)) return VV_ENOMEM;
    i = s->nctx;                                 /* counters already raised */
    k = s->nctx + missing;
    for (j = ncc; j > 0 && k > i; ) {
        const vvi_ent *e = &cc[j - 1];
        if (i > 0 && s->ctx[i - 1].a >= e->a) {
            s->ctx[--k] = s->ctx[--i];
            if (s->ctx[k].a == e->a) j--;
        } else if (e->n) {
            s->ctx[--k] = *e;
            j--;
        } else j--;
    }
    s->nctx += missing;
    return VV_OK;
}

int vvi_dvv_write(vvi_dvv *s, const vvi_ent *cc, size_t ncc,
                  const vvi_ver *v)
{
    size_t i, k = 0;
    int rc;
    /* On failure s is half-updated; callers discard it (the store aborts
     * the transaction), so no rollback is needed here. */
    for (i = 0; i < s->nv; i++)                 /* drop what cc had seen */
        if (!covered(cc, ncc, &s->v[i])) {
            if (k != i) s->v[k] = s->v[i];
            k++;
        }
    s->nv = k;
    if (k < s->capv) s->v[s->nv++] = *v;
    else if ((rc = vvi_dvv_add(s, v))) return rc;
    if ((rc = ctx_absorb(s, cc, ncc))) return rc;
    return vvi_ctx_max(s, v->a, v->n);
}

/* ---- a write on the stored bytes --------------------------------- */
/* The patch keeps the counts one byte long (below 128) and the incoming
 * context on the stack; larger states take the full path. */
#define PATCH_MAX 64

/* Append context entry (a, n) to the patch's output at *q. */
static inline int patch_ent(vvi_patch *pt, unsigned char **q, uint32_t a,
                            uint64_t n)
{
    if (pt->nctx == pt->cap) return VV_ELIMIT;
    pt->ctx[pt->nctx].a = a;
    pt->ctx[pt->nctx++].n = n;
    *q = put_varint(put_varint(*q, a), n);
    return VV_OK;
}

/* In one pass over the stored bytes: the context merged with what comes
 * in (cc and the new dot) as it is read, each version the write keeps
 * copied as it stands (its bytes are canonical, so they are what encode
 * would write), then the new version.  The checks are vvi_dvv_decode's,
 * and every actor number must be below na.  The output's room is
 * reserved once: the old bytes, what comes in, the new version. */
int vvi_dvv_patch(const void *old, size_t n, uint32_t na, const vvi_ent *cc,
                  size_t ncc, const vvi_ver *v, vvi_patch *pt, vv_buf *b)
{
    const unsigned char *p = old, *end = p + n, *vs;
    unsigned char *q, *cnt_at;
    vvi_ent in[PATCH_MAX];
    uint64_t cnt = 0, i, a, c, x = 0, lt;
    size_t nin = 0, j, kept = 0;
    int rc;
    pt->nctx = pt->before = pt->after = 0;
    pt->seq = 0;
    if (ncc >= PATCH_MAX) return VV_ELIMIT;
    for (c = 0, j = 0; j < ncc; j++) {           /* cc with the dot, sorted */
        if (cc[j].a == v->a) c = cc[j].n;
        else if (cc[j].n) in[nin++] = cc[j];
    }
    for (j = nin; j > 0 && in[j - 1].a > v->a; j--) in[j] = in[j - 1];
    in[j].a = v->a;
    in[j].n = v->n > c ? v->n : c;
    nin++;
    if (vv_buf_reserve(b, n + nin * 20 + v->len + 64)) return VV_ENOMEM;
    q = b->p + b->len;
    if (old) {
        if (n == 0 || *p++ != STATE_FORMAT) return VV_ECORRUPT;
        if (!(p = get_varint(p, end, &cnt)) || cnt > (uint64_t)(end - p) / 2)
            return VV_ECORRUPT;
    }
    *q++ = STATE_FORMAT;
    cnt_at = q++;                                /* the count, once known */
    for (i = 0, j = 0; i < cnt; i++) {
        if (!(p = get_varint(p, end, &a)) || !(p = get_varint(p, end, &c)))
            return VV_ECORRUPT;
        if (a >= na || c == 0 || (i && x >= a)) return VV_ECORRUPT;
        x = a;
        for (; j < nin && in[j].a < a; j++)
            if ((rc = patch_ent(pt, &q, in[j].a, in[j].n))) return rc;
        if (j < nin && in[j].a == a && in[j++].n > c) c = in[j - 1].n;
        if ((rc = patch_ent(pt, &q, (uint32_t)a, c))) return rc;
    }
    for (; j < nin; j++)
        if ((rc = patch_ent(pt, &q, in[j].a, in[j].n))) return rc;
    if (pt->nctx >= 128) return VV_ELIMIT;
    *cnt_at = (unsigned char)pt->nctx;
    cnt = 0;
    if (old && (!(p = get_varint(p, end, &cnt)) ||
                cnt > (uint64_t)(end - p) / 4))
        return VV_ECORRUPT;
    if (cnt >= 127) return VV_ELIMIT;
    cnt_at = q++;
    for (i = 0; i < cnt; i++) {
        uint64_t vn, ts;
        vs = p;
        if (!(p = get_varint(p, end, &a)) || !(p = get_varint(p, end, &vn)) ||
            !(p = get_varint(p, end, &ts)) || !(p = get_varint(p, end, &lt)))
            return VV_ECORRUPT;
        if (a >= na || (lt >> 1) > (uint64_t)(end - p)) return VV_ECORRUPT;
        p += lt >> 1;
        pt->before += !(lt & 1);
        if (vn <= ctx_get(cc, ncc, (uint32_t)a)) continue;      /* seen */
        memcpy(q, vs, (size_t)(p - vs));
        q += p - vs;
        pt->after += !(lt & 1);
        kept++;
    }
    if (p != end) {                              /* the change log's seq */
        if (!(p = get_varint(p, end, &pt->seq)) || pt->seq == 0 || p != end)
            return VV_ECORRUPT;
    }
    q = put_varint(put_varint(put_varint(q, v->a), v->n), v->ts);
    q = put_varint(q, (uint64_t)v->len << 1 | (v->tomb ? 1 : 0));
    if (v->len) memcpy(q, v->val, v->len);
    q += v->len;
    pt->after += !v->tomb;
    *cnt_at = (unsigned char)(kept + 1);
    b->len = (size_t)(q - b->p);
    return VV_OK;
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

static long find_dot(const vvi_dvv *s, uint32_t a, uint64_t n)
{
    size_t i;
    for (i = 0; i < s->nv; i++)
        if (s->v[i].a == a && s->v[i].n == n) return (long)i;
    return -1;
}

/* Number of actors in the union of two sorted contexts. */
static size_t ctx_union(const vvi_ent *a, size_t na, const vvi_ent *b,
                        size_t nb)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        uint32_t x = a[i].a, y = b[j].a;
        i += x <= y;
        j += y <= x;
        k++;
    }
    return k + (na - i) + (nb - j);
}

/* s->ctx := s->ctx ⊔ o (sorted), merged from the end in place: s->ctx
 * has room for the nc actors of the union. */
static void ctx_join(vvi_dvv *s, const vvi_ent *o, size_t no, size_t nc)
{
    size_t i = s->nctx, j = no, k = nc;
    vvi_ent *c = s->ctx;
    while (j > 0) {
        if (i > 0 && c[i - 1].a > o[j - 1].a) c[--k] = c[--i];
        else if (i > 0 && c[i - 1].a == o[j - 1].a) {
            k--;
            i--;
            j--;
            c[k].a = c[i].a;
            c[k].n = c[i].n > o[j].n ? c[i].n : o[j].n;
        } else c[--k] = o[--j];
    }
    s->nctx = nc;                    /* c[0..i) stayed where it was */
}

/* In place, in three steps: find o's versions that s has not seen and
 * the size of the joined context; make room (s is unchanged when that
 * fails); then keep s's versions unless o replaced them, append o's new
 * ones and join the contexts from the end.  Small states never allocate. */
int vvi_dvv_merge(vvi_dvv *s, const vvi_dvv *o)
{
    unsigned char fstack[64], *fresh = fstack;
    size_t i, k, add = 0, nc;
    if (s == o) return VV_OK;                 /* a join with itself */
    if (o->nv > sizeof fstack && !(fresh = vv_malloc(o->nv))) return VV_ENOMEM;
    for (i = 0; i < o->nv; i++) {             /* theirs we had not seen */
        const vvi_ver *v = &o->v[i];
        fresh[i] = !covered(s->ctx, s->nctx, v) && find_dot(s, v->a, v->n) < 0;
        add += fresh[i];
    }
    nc = ctx_union(s->ctx, s->nctx, o->ctx, o->nctx);
    if (state_reserve(s, nc, s->nv + add)) {
        if (fresh != fstack) vv_free(fresh);
        return VV_ENOMEM;
    }
    for (i = 0, k = 0; i < s->nv; i++) {      /* ours, unless o replaced it */
        const vvi_ver *v = &s->v[i];
        long j = find_dot(o, v->a, v->n);
        if (j >= 0 && ver_cmp(v, &o->v[j]) < 0) s->v[k++] = o->v[j];
        else if (j >= 0 || !covered(o->ctx, o->nctx, v)) {
            if (k != i) s->v[k] = *v;
            k++;
        }
    }
    for (i = 0; i < o->nv; i++)
        if (fresh[i]) s->v[k++] = o->v[i];
    s->nv = k;
    ctx_join(s, o->ctx, o->nctx, nc);         /* seq: still the same key */
    if (fresh != fstack) vv_free(fresh);
    return VV_OK;
}

size_t vvi_dvv_live(const vvi_dvv *s)
{
    size_t i, n = 0;
    for (i = 0; i < s->nv; i++) n += !s->v[i].tomb;
    return n;
}

/* Order of two versions for a read: actor name, then counter. */
static int ver_order(const vvi_ver *x, const vvi_ver *y, char *const *an,
                     const uint8_t *al)
{
    if (x->a != y->a)
        return vvi_node_cmp(an[x->a], al[x->a], an[y->a], al[y->a]);
    return x->n < y->n ? -1 : x->n > y->n;
}

size_t vvi_dvv_values(const vvi_dvv *s, char *const *an,
                      const uint8_t *al, const vvi_ver **out)
{
    size_t i, k, n = 0;
    for (i = 0; i < s->nv; i++) {              /* few: insertion */
        const vvi_ver *t = &s->v[i];
        if (t->tomb) continue;
        for (k = n; k > 0 && ver_order(out[k - 1], t, an, al) > 0; k--)
            out[k] = out[k - 1];
        out[k] = t;
        n++;
    }
    return n;
}
