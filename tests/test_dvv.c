/* test_dvv.c - one key's state (core/dvv.c): writes, joins, the read
 * order (with the actor table's node parts) and the stored form, each
 * against a plain model. */
#include "testutil.h"
#include "db_int.h"

#define NACT 10               /* actors 0..9: contexts outgrow the inline 6 */
#define MAXV 8                /* versions: outgrow the inline 3 */

static const char *const vals[] = { "", "a", "bb", "ccc", "shared", "zz" };

/* ---- the model: plain arrays and the obvious loops ----------------------- */
typedef struct mstate {
    uint64_t ctx[NACT];       /* counter per actor, 0: absent */
    vvi_ver v[2 * MAXV];
    size_t nv;
} mstate;

static uint64_t m_seen(const uint64_t *ctx, const vvi_ver *v)
{
    return v->n <= ctx[v->a];
}

static long m_find(const mstate *m, const vvi_ver *v)
{
    size_t i;
    for (i = 0; i < m->nv; i++)
        if (m->v[i].a == v->a && m->v[i].n == v->n) return (long)i;
    return -1;
}

/* The greater of two versions with one dot: (ts, tomb, bytes). */
static int m_vcmp(const vvi_ver *x, const vvi_ver *y)
{
    size_t n = x->len < y->len ? x->len : y->len;
    int c;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    if (x->tomb != y->tomb) return x->tomb < y->tomb ? -1 : 1;
    c = n ? memcmp(x->val, y->val, n) : 0;
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* join: ours unless theirs replaced it, then theirs we had not seen */
static void m_merge(const mstate *s, const mstate *o, mstate *r)
{
    size_t i;
    memset(r, 0, sizeof *r);
    for (i = 0; i < s->nv; i++) {
        long j = m_find(o, &s->v[i]);
        if (j >= 0)
            r->v[r->nv++] = m_vcmp(&s->v[i], &o->v[j]) >= 0 ? s->v[i] : o->v[j];
        else if (!m_seen(o->ctx, &s->v[i])) r->v[r->nv++] = s->v[i];
    }
    for (i = 0; i < o->nv; i++)
        if (m_find(s, &o->v[i]) < 0 && !m_seen(s->ctx, &o->v[i]))
            r->v[r->nv++] = o->v[i];
    for (i = 0; i < NACT; i++)
        r->ctx[i] = s->ctx[i] > o->ctx[i] ? s->ctx[i] : o->ctx[i];
}

/* write with context cc: drop what cc saw, add v, ctx := ctx ⊔ cc ⊔ dot */
static void m_write(mstate *s, const uint64_t *cc, const vvi_ver *v)
{
    size_t i, k = 0;
    for (i = 0; i < s->nv; i++)
        if (!m_seen(cc, &s->v[i])) s->v[k++] = s->v[i];
    s->nv = k;
    s->v[s->nv++] = *v;
    for (i = 0; i < NACT; i++) if (cc[i] > s->ctx[i]) s->ctx[i] = cc[i];
    if (v->n > s->ctx[v->a]) s->ctx[v->a] = v->n;
}

static vvi_ver rand_ver(unsigned *seed, int forged)
{
    vvi_ver v;
    const char *val = vals[rand_r(seed) % 6];
    v.a = (uint32_t)(rand_r(seed) % NACT);
    v.n = 1 + (uint64_t)(rand_r(seed) % (forged ? 6 : 4));
    v.ts = 100 + (uint64_t)(rand_r(seed) % 3);
    v.tomb = rand_r(seed) % 5 == 0;
    v.val = (const unsigned char *)val;
    v.len = strlen(val);
    return v;
}

/* A random state: versions mostly inside the context (as writes make
 * them), sometimes not (forged); dots may repeat across states. */
static void rand_state(unsigned *seed, mstate *m)
{
    size_t i, nv = (size_t)(rand_r(seed) % (MAXV + 1));
    int forged = rand_r(seed) % 4 == 0;
    memset(m, 0, sizeof *m);
    for (i = 0; i < NACT; i++)
        if (rand_r(seed) % 3) m->ctx[i] = (uint64_t)(rand_r(seed) % 5);
    for (i = 0; i < nv; i++) {
        vvi_ver v = rand_ver(seed, forged);
        if (m_find(m, &v) >= 0) continue;        /* one version per dot */
        if (!forged && m->ctx[v.a] < v.n) m->ctx[v.a] = v.n;
        m->v[m->nv++] = v;
    }
}

/* Build the real state from the model. */
static void to_state(const mstate *m, vvi_dvv *s)
{
    size_t i;
    vvi_dvv_init(s);
    for (i = 0; i < NACT; i++)
        assert_int_equal(vvi_ctx_max(s, (uint32_t)i, m->ctx[i]), VV_OK);
    for (i = 0; i < m->nv; i++)
        assert_int_equal(vvi_dvv_add(s, &m->v[i]), VV_OK);
}

static void assert_same_ver(const vvi_ver *x, const vvi_ver *y)
{
    assert_int_equal(x->a, y->a);
    assert_int_equal(x->n, y->n);
    assert_int_equal(x->ts, y->ts);
    assert_int_equal(x->tomb, y->tomb);
    assert_int_equal(x->len, y->len);
    assert_ptr_equal(x->val, y->val);
}

/* The state holds exactly the model: context sorted, versions in order. */
static void assert_state(const vvi_dvv *s, const mstate *m)
{
    size_t i, k = 0;
    for (i = 0; i < NACT; i++) {
        if (!m->ctx[i]) continue;
        assert_true(k < s->nctx);
        assert_int_equal(s->ctx[k].a, i);
        assert_int_equal(s->ctx[k].n, m->ctx[i]);
        k++;
    }
    assert_int_equal(s->nctx, k);
    assert_int_equal(s->nv, m->nv);
    for (i = 0; i < m->nv; i++) assert_same_ver(&s->v[i], &m->v[i]);
}

/* ---- joins --------------------------------------------------------------- */
static void test_merge_model(void **st)
{
    unsigned seed = 4242;
    int round;
    (void)st;
    for (round = 0; round < 20000; round++) {
        mstate ms, mo, mr;
        vvi_dvv s, o;
        rand_state(&seed, &ms);
        if (round % 7 == 0) mo = ms;             /* the same clock too */
        else rand_state(&seed, &mo);
        to_state(&ms, &s);
        to_state(&mo, &o);
        s.seq = 77;
        m_merge(&ms, &mo, &mr);
        assert_int_equal(vvi_dvv_merge(&s, &o), VV_OK);
        assert_state(&s, &mr);
        assert_int_equal(s.seq, 77);             /* still the same key */
        assert_int_equal(vvi_dvv_merge(&s, &s), VV_OK);     /* with itself */
        assert_state(&s, &mr);
        vvi_dvv_free(&s);
        vvi_dvv_free(&o);
    }
}

/* Do two contexts hold the same entries? */
static int same_ctx(const vvi_dvv *a, const vvi_dvv *b)
{
    size_t i;
    if (a->nctx != b->nctx) return 0;
    for (i = 0; i < a->nctx; i++)
        if (a->ctx[i].a != b->ctx[i].a || a->ctx[i].n != b->ctx[i].n) return 0;
    return 1;
}

/* Joins commute (as sets of versions), associate and are idempotent on
 * states whose versions lie inside their contexts. */
static int same_set(const vvi_dvv *a, const vvi_dvv *b)
{
    size_t i, j;
    if (a->nv != b->nv || !same_ctx(a, b)) return 0;
    for (i = 0; i < a->nv; i++) {
        for (j = 0; j < b->nv; j++)
            if (a->v[i].a == b->v[j].a && a->v[i].n == b->v[j].n &&
                a->v[i].val == b->v[j].val) break;
        if (j == b->nv) return 0;
    }
    return 1;
}

static void test_merge_laws(void **st)
{
    unsigned seed = 17;
    int round;
    (void)st;
    for (round = 0; round < 5000; round++) {
        mstate m[3];
        vvi_dvv x[3], ab, ba, ab_c, bc, a_bc, aa;
        int k;
        for (k = 0; k < 3; k++) {
            size_t i;
            rand_state(&seed, &m[k]);
            for (i = 0; i < m[k].nv; i++)        /* well formed only */
                if (m[k].ctx[m[k].v[i].a] < m[k].v[i].n)
                    m[k].ctx[m[k].v[i].a] = m[k].v[i].n;
            to_state(&m[k], &x[k]);
        }
        to_state(&m[0], &ab);                    /* a b = b a */
        assert_int_equal(vvi_dvv_merge(&ab, &x[1]), VV_OK);
        to_state(&m[1], &ba);
        assert_int_equal(vvi_dvv_merge(&ba, &x[0]), VV_OK);
        assert_true(same_set(&ab, &ba));
        to_state(&m[0], &ab_c);                  /* (a b) c = a (b c) */
        assert_int_equal(vvi_dvv_merge(&ab_c, &x[1]), VV_OK);
        assert_int_equal(vvi_dvv_merge(&ab_c, &x[2]), VV_OK);
        to_state(&m[1], &bc);
        assert_int_equal(vvi_dvv_merge(&bc, &x[2]), VV_OK);
        to_state(&m[0], &a_bc);
        assert_int_equal(vvi_dvv_merge(&a_bc, &bc), VV_OK);
        assert_true(same_set(&ab_c, &a_bc));
        to_state(&m[0], &aa);                    /* a a = a */
        assert_int_equal(vvi_dvv_merge(&aa, &x[0]), VV_OK);
        assert_true(same_set(&aa, &x[0]));
        vvi_dvv_free(&ab);
        vvi_dvv_free(&ba);
        vvi_dvv_free(&ab_c);
        vvi_dvv_free(&bc);
        vvi_dvv_free(&a_bc);
        vvi_dvv_free(&aa);
        for (k = 0; k < 3; k++) vvi_dvv_free(&x[k]);
    }
}

/* A join that has to grow s leaves s as it was when memory runs out. */
static void test_merge_alloc_failure(void **st)
{
    unsigned seed = 5;
    int round, fails = 0;
    (void)st;
    for (round = 0; round < 400; round++) {
        mstate ms, mo, mr;
        vvi_dvv s, o;
        long i;
        rand_state(&seed, &ms);
        rand_state(&seed, &mo);
        m_merge(&ms, &mo, &mr);
        for (i = 1; i < 4; i++) {
            int rc;
            to_state(&ms, &s);
            to_state(&mo, &o);
            vvi_fail_alloc_after(i);
            rc = vvi_dvv_merge(&s, &o);
            vvi_fail_alloc_after(0);
            if (rc == VV_OK) assert_state(&s, &mr);
            else {
                assert_int_equal(rc, VV_ENOMEM);
                assert_state(&s, &ms);           /* unchanged */
                fails++;
            }
            vvi_dvv_free(&s);
            vvi_dvv_free(&o);
        }
    }
    assert_true(fails > 0);
}

/* ---- writes -------------------------------------------------------------- */
static void test_write_model(void **st)
{
    unsigned seed = 99;
    int round;
    (void)st;
    for (round = 0; round < 20000; round++) {
        mstate ms;
        vvi_dvv s;
        uint64_t cc[NACT];
        vvi_ent e[NACT];
        size_t i, ne = 0;
        vvi_ver v;
        rand_state(&seed, &ms);
        to_state(&ms, &s);
        s.seq = 5;
        for (i = 0; i < NACT; i++) {
            /* a context read earlier, later, or from elsewhere; entries
             * with counter 0 and actors s never saw included */
            int r = rand_r(&seed) % 4;
            cc[i] = r == 0 ? 0 : r == 1 ? ms.ctx[i]
                  : (uint64_t)(rand_r(&seed) % 6);
            if (cc[i] || rand_r(&seed) % 8 == 0) {
                e[ne].a = (uint32_t)i;
                e[ne++].n = cc[i];
            }
        }
        v = rand_ver(&seed, 0);
        v.n = (cc[v.a] > ms.ctx[v.a] ? cc[v.a] : ms.ctx[v.a]) + 1;
        m_write(&ms, cc, &v);
        assert_int_equal(vvi_dvv_write(&s, e, ne, &v), VV_OK);
        assert_state(&s, &ms);
        assert_int_equal(s.seq, 5);
        vvi_dvv_free(&s);
    }
}

/* ---- the read order ------------------------------------------------------ */
static void test_values_order(void **st)
{
    /* numbers and names in different orders; "b" is a prefix of "b.x" */
    static const char *names[] = { "zeta", "b.x", "alpha", "b", "m" };
    char *an[5];
    uint8_t al[5];
    unsigned seed = 3;
    int round;
    size_t i;
    (void)st;
    for (i = 0; i < 5; i++) {
        an[i] = (char *)names[i];
        al[i] = (uint8_t)strlen(names[i]);
    }
    for (round = 0; round < 5000; round++) {
        vvi_dvv s;
        const vvi_ver *out[MAXV];
        size_t n, live = 0, nv = (size_t)(rand_r(&seed) % (MAXV + 1));
        vvi_dvv_init(&s);
        for (i = 0; i < nv; i++) {
            vvi_ver v = rand_ver(&seed, 0);
            v.a %= 5;
            live += !v.tomb;
            assert_int_equal(vvi_dvv_add(&s, &v), VV_OK);
        }
        n = vvi_dvv_values(&s, an, al, out);
        assert_int_equal(n, live);
        assert_int_equal(vvi_dvv_live(&s), live);
        for (i = 0; i < n; i++) {
            assert_false(out[i]->tomb);
            assert_true(out[i] >= s.v && out[i] < s.v + s.nv);
            if (i) {
                const vvi_ver *x = out[i - 1], *y = out[i];
                int c = vvi_node_cmp(an[x->a], al[x->a], an[y->a], al[y->a]);
                assert_true(c < 0 || (c == 0 && x->n <= y->n));
            }
        }
        vvi_dvv_free(&s);
    }
}

/* The actor table keeps each name's node part: up to its last '.'. */
static void test_actor_node_part(void **st)
{
    static const struct { const char *name; int node; } cases[] = {
        { "s0.abcdefgh", 2 }, { "a.b.c", 3 }, { "abc", 3 }, { ".x", 0 },
        { "x.", 1 }, { ".", 0 }, { "a..", 2 },
    };
    vvi_actors t;
    size_t i;
    (void)st;
    memset(&t, 0, sizeof t);
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t a;
        assert_int_equal(vvi_actor_intern(&t, cases[i].name,
                                          strlen(cases[i].name), &a), VV_OK);
        assert_int_equal(t.nl[a], cases[i].node);
    }
    vvi_actors_free(&t);
}

/* ---- the stored form ----------------------------------------------------- */
/* The decoder as it read states before (through the bounded reader), to
 * hold the one-pass decoder to the same verdicts. */
static int ref_decode(vvi_dvv *s, const void *p, size_t n)
{
    vvi_rd r;
    uint64_t cnt, i;
    vvi_dvv_init(s);
    vvi_rd_init(&r, p, n);
    if (vvi_rd_byte(&r) != 0x01) return VV_ECORRUPT;
    cnt = vvi_rd_varint(&r);
    if (r.err || cnt > n) return VV_ECORRUPT;
    for (i = 0; i < cnt; i++) {
        uint64_t a = vvi_rd_varint(&r), c = vvi_rd_varint(&r);
        if (r.err || a > UINT32_MAX || c == 0) goto bad;
        if (s->nctx && s->ctx[s->nctx - 1].a >= a) goto bad;
        assert_int_equal(vvi_ctx_max(s, (uint32_t)a, c), VV_OK);
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
        assert_int_equal(vvi_dvv_add(s, &v), VV_OK);
    }
    if (r.p != r.end) {
        s->seq = vvi_rd_varint(&r);
        if (r.err || s->seq == 0 || r.p != r.end) goto bad;
    }
    return VV_OK;
bad:
    vvi_dvv_free(s);
    return VV_ECORRUPT;
}

static void assert_same_state(const vvi_dvv *a, const vvi_dvv *b)
{
    size_t i;
    assert_true(same_ctx(a, b));
    assert_int_equal(a->nv, b->nv);
    for (i = 0; i < a->nv; i++) assert_same_ver(&a->v[i], &b->v[i]);
    assert_int_equal(a->seq, b->seq);
}

static void test_decode_roundtrip_and_mutations(void **st)
{
    unsigned seed = 2024;
    int round, accepted = 0, refused = 0;
    (void)st;
    for (round = 0; round < 4000; round++) {
        mstate m;
        vvi_dvv s, d, r;
        vv_buf b;
        int k;
        rand_state(&seed, &m);
        to_state(&m, &s);
        if (rand_r(&seed) % 2)
            s.seq = (uint64_t)rand_r(&seed) << (rand_r(&seed) % 30);
        if (rand_r(&seed) % 4 == 0 && s.nv) s.v[0].ts = UINT64_MAX;
        vv_buf_init(&b);
        vvi_dvv_encode(&s, &b);
        assert_false(b.oom);
        assert_int_equal(vvi_dvv_decode(&d, b.p, b.len), VV_OK);
        assert_true(same_ctx(&d, &s));
        assert_int_equal(d.nv, s.nv);
        assert_int_equal(d.seq, s.seq);
        vvi_dvv_free(&d);
        for (k = 0; k < 8; k++) {                /* damaged copies */
            unsigned char buf[600];
            size_t n = b.len < sizeof buf ? b.len : sizeof buf, j;
            int rd, rr;
            memcpy(buf, b.p, n);
            switch (rand_r(&seed) % 4) {
            case 0:                              /* cut short */
                n = (size_t)rand_r(&seed) % (n + 1);
                break;
            case 1:                              /* one byte changed */
                j = (size_t)rand_r(&seed) % n;
                buf[j] ^= (unsigned char)(1 + rand_r(&seed) % 255);
                break;
            case 2:                              /* a varint continued */
                buf[rand_r(&seed) % n] = (unsigned char)(0x80 | rand_r(&seed));
                break;
            default:                             /* three random bytes */
                for (j = 0; j < 3; j++)
                    buf[rand_r(&seed) % n] = (unsigned char)rand_r(&seed);
            }
            rd = vvi_dvv_decode(&d, buf, n);
            rr = ref_decode(&r, buf, n);
            assert_int_equal(rd, rr);
            if (rd == VV_OK) {
                vv_buf e;
                assert_same_state(&d, &r);
                vv_buf_init(&e);                 /* one encoding per state */
                vvi_dvv_encode(&d, &e);
                assert_int_equal(e.len, n);
                assert_memory_equal(e.p, buf, n);
                vv_buf_free(&e);
                accepted++;
            } else {
                assert_int_equal(rd, VV_ECORRUPT);
                assert_int_equal(d.nctx, 0);
                assert_int_equal(d.nv, 0);
                refused++;
            }
            vvi_dvv_free(&d);
            vvi_dvv_free(&r);
        }
        vv_buf_free(&b);
        vvi_dvv_free(&s);
    }
    assert_true(accepted > 0 && refused > 0);
}

/* Raw varint bytes for the edge cases: x canonical, or (form 1) with a
 * redundant zero byte, or (form 2) cut before its last byte.  Returns
 * the length. */
static size_t raw_varint(unsigned char *q, uint64_t x, int form)
{
    size_t n = 0;
    while (x >= 0x80) { q[n++] = (unsigned char)(x | 0x80); x >>= 7; }
    q[n++] = (unsigned char)x;
    if (form == 1) { q[n - 1] |= 0x80; q[n++] = 0; }
    if (form == 2) n--;
    return n;
}

/* Every varint length, canonical, redundant or cut, as a version's
 * counter, its timestamp and the state's last varint (the seq, with few
 * bytes after it): the decoder gives what the bounded reader gives. */
static void test_decode_varint_edges(void **st)
{
    unsigned seed = 77;
    int round, bits, form, where;
    (void)st;
    for (round = 0; round < 40; round++)
        for (bits = 1; bits <= 64; bits++)
            for (form = 0; form < 3; form++)
                for (where = 0; where < 3; where++) {
                    unsigned char buf[64];
                    uint64_t x = ((uint64_t)rand_r(&seed) << 42) ^
                                 ((uint64_t)rand_r(&seed) << 21) ^
                                 (uint64_t)rand_r(&seed);
                    size_t n = 0;
                    vvi_dvv d, r;
                    int rd, rr;
                    x = bits == 64 ? x | 1ull << 63
                                   : (x & ((1ull << bits) - 1)) |
                                     1ull << (bits - 1);
                    buf[n++] = 1;                /* format, no context */
                    buf[n++] = 0;
                    buf[n++] = 1;                /* one version */
                    buf[n++] = 0;                /* its actor */
                    n += raw_varint(buf + n, where == 0 ? x : 7,
                                    where == 0 ? form : 0);
                    n += raw_varint(buf + n, where == 1 ? x : 9,
                                    where == 1 ? form : 0);
                    buf[n++] = 0;                /* no value */
                    if (where == 2) n += raw_varint(buf + n, x, form);
                    rd = vvi_dvv_decode(&d, buf, n);
                    rr = ref_decode(&r, buf, n);
                    assert_int_equal(rd, rr);
                    /* a cut field may join the next; a cut 1-byte seq
                     * is no seq */
                    if (form != 2 || (where == 2 && bits > 7))
                        assert_int_equal(rd, form == 0 ? VV_OK
                                                       : VV_ECORRUPT);
                    if (rd == VV_OK) assert_same_state(&d, &r);
                    vvi_dvv_free(&d);
                    vvi_dvv_free(&r);
                }
}

/* Counts that claim more entries than the bytes could hold are refused
 * without asking for memory; so are empty input, an unknown format and
 * varints in more bytes than needed. */
static void test_decode_bad_counts(void **st)
{
    static const unsigned char huge_ctx[] = { 1, 0xff, 0xff, 0xff, 0xff, 0x0f };
    static const unsigned char huge_ver[] = { 1, 0, 0xff, 0xff, 0x03, 0, 0 };
    static const unsigned char format[] = { 2, 0, 0 };
    static const unsigned char ok[] = { 1, 1, 0, 1, 1, 0, 1, 5, 4, 'h', 'i' };
    /* the same with one varint in a longer form than needed, or too long */
    static const unsigned char long0[] = { 1, 0x81, 0, 0, 1, 1, 0, 1, 5, 4,
                                           'h', 'i' };
    static const unsigned char long1[] = { 1, 1, 0, 1, 1, 0, 1, 0x85, 0x80,
                                           0, 4, 'h', 'i' };
    static const unsigned char tenth[] = { 1, 1, 0, 1, 1, 0, 1, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0x02, 4, 'h', 'i' };
    static const unsigned char max[] = { 1, 1, 0, 1, 1, 0, 1, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0x01, 4, 'h', 'i' };
    vvi_dvv s;
    (void)st;
    assert_int_equal(vvi_dvv_decode(&s, long0, sizeof long0), VV_ECORRUPT);
    assert_int_equal(vvi_dvv_decode(&s, long1, sizeof long1), VV_ECORRUPT);
    assert_int_equal(vvi_dvv_decode(&s, tenth, sizeof tenth), VV_ECORRUPT);
    assert_int_equal(vvi_dvv_decode(&s, max, sizeof max), VV_OK);
    assert_int_equal(s.v[0].ts, UINT64_MAX);
    vvi_dvv_free(&s);
    vvi_fail_alloc_after(1);                     /* any allocation fails */
    assert_int_equal(vvi_dvv_decode(&s, huge_ctx, sizeof huge_ctx),
                     VV_ECORRUPT);
    assert_int_equal(vvi_dvv_decode(&s, huge_ver, sizeof huge_ver),
                     VV_ECORRUPT);
    vvi_fail_alloc_after(0);
    assert_int_equal(vvi_dvv_decode(&s, format, sizeof format), VV_ECORRUPT);
    assert_int_equal(vvi_dvv_decode(&s, "", 0), VV_ECORRUPT);
    assert_int_equal(vvi_dvv_decode(&s, ok, sizeof ok), VV_OK);
    assert_int_equal(s.nctx, 1);
    assert_int_equal(s.nv, 1);
    assert_int_equal(s.v[0].len, 2);
    assert_memory_equal(s.v[0].val, "hi", 2);
    assert_int_equal(s.v[0].ts, 5);
    vvi_dvv_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_model),
        cmocka_unit_test(test_merge_laws),
        cmocka_unit_test(test_merge_alloc_failure),
        cmocka_unit_test(test_write_model),
        cmocka_unit_test(test_values_order),
        cmocka_unit_test(test_actor_node_part),
        cmocka_unit_test(test_decode_roundtrip_and_mutations),
        cmocka_unit_test(test_decode_bad_counts),
        cmocka_unit_test(test_decode_varint_edges),
    };
    return cmocka_run_group_tests_name("dvv", tests, NULL, NULL);
}
