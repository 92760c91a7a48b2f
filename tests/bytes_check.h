/* bytes_check.h - the engine's passes over stored bytes against the full
 * decode on any bytes: shared by tests/test_fastpath.c (random and
 * mutated states) and tests/fuzz_state.c (libFuzzer). */
#ifndef VV_BYTES_CHECK_H
#define VV_BYTES_CHECK_H
#include <string.h>
#include "vv_int.h"

#define BC_NA 40                 /* actors a check's table holds */

/* Does a state decoded from bytes name only actors below na? */
static inline int bc_known(const vvi_dvv *s, uint32_t na)
{
    size_t i;
    for (i = 0; i < s->nctx; i++) if (s->ctx[i].a >= na) return 0;
    for (i = 0; i < s->nv; i++) if (s->v[i].a >= na) return 0;
    return 1;
}

/* Take p[0..n) as a stored state.  The read's view (vvi_dvv_view) must
 * accept it exactly when the decoder does (and its actors are below
 * BC_NA), unless it is too large for the view's arrays, and then show
 * the same context and live versions; a put's patch (vvi_dvv_patch of a
 * write with context cc and dot (3, 1000)) must likewise agree with the
 * decoder, and write the bytes that decode, write and encode give.
 * Returns 0, or the number of the check that failed. */
static inline int bc_check(const void *p, size_t n)
{
    static const vvi_ent cc[3] = { { 0, 2 }, { 3, 5 }, { 7, 5 } };
    vvi_dvv s;
    vvi_ent ctx[32], pctx[64];
    vvi_ver live[8], v;
    size_t nctx, nlive, i, k;
    unsigned char m1[256], m2[256];
    vv_buf b1, b2;
    vvi_patch pt;
    int dec, ok, vw, pa, bad = 0;
    dec = vvi_dvv_decode(&s, p, n);
    ok = dec == VV_OK && bc_known(&s, BC_NA);
    vw = vvi_dvv_view(p, n, BC_NA, ctx, 32, &nctx, live, 8, &nlive);
    if (vw == VV_OK) {
        if (!ok || nctx != s.nctx) bad = 1;
        for (i = 0; !bad && i < nctx; i++)
            if (ctx[i].a != s.ctx[i].a || ctx[i].n != s.ctx[i].n) bad = 2;
        for (i = k = 0; !bad && i < s.nv; i++) {
            const vvi_ver *x = &s.v[i];
            if (x->tomb) continue;
            if (k == nlive || live[k].a != x->a || live[k].n != x->n ||
                live[k].ts != x->ts || live[k].len != x->len ||
                live[k].val != x->val)
                bad = 3;
            k++;
        }
        if (!bad && k != nlive) bad = 4;
    } else if (vw != VV_ELIMIT && ok) bad = 5;
    v.a = 3;
    v.n = 1000;
    v.ts = 1700000000000ull;
    v.tomb = 0;
    v.val = (const unsigned char *)"new";
    v.len = 3;
    pt.ctx = pctx;
    pt.cap = 64;
    vvi_buf_init_fixed(&b1, m1, sizeof m1);
    vvi_buf_init_fixed(&b2, m2, sizeof m2);
    pa = vvi_dvv_patch(p, n, BC_NA, cc, 3, &v, &pt, &b1);
    if (!bad && pa == VV_OK) {
        size_t before = ok ? vvi_dvv_live(&s) : 0;
        uint64_t seq = s.seq;
        if (!ok) bad = 6;
        else if (vvi_dvv_write(&s, cc, 3, &v) != VV_OK) bad = 7;
        else {
            s.seq = 0;                   /* the patch leaves it to the caller */
            vvi_dvv_encode(&s, &b2);
            if (b1.len != b2.len || memcmp(b1.p, b2.p, b1.len) != 0) bad = 8;
            else if (pt.seq != seq || pt.before != before ||
                     pt.after != vvi_dvv_live(&s) || pt.nctx != s.nctx)
                bad = 9;
            for (i = 0; !bad && i < s.nctx; i++)
                if (pt.ctx[i].a != s.ctx[i].a || pt.ctx[i].n != s.ctx[i].n)
                    bad = 9;
        }
    } else if (!bad && pa == VV_ECORRUPT && ok) bad = 10;
    vv_buf_free(&b1);
    vv_buf_free(&b2);
    if (dec == VV_OK) vvi_dvv_free(&s);
    return bad;
}
#endif
