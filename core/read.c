/* read.c - reads: siblings in a deterministic order, context, resolution. */
#include <stdlib.h>
#include <string.h>
#include "db_int.h"

/* A context entry kept in a read until a clock is asked for. */
typedef struct rctx {
    uint64_t n;
    size_t len;
    const char *name;            /* in the read's block */
    uint32_t a;                  /* its actor's number: the clock's hint */
} rctx;

struct vv_read {
    vv_sibling *s;               /* in blk, then rc, then bytes */
    size_t n;
    rctx *rc;                    /* the context, in name order */
    size_t nrc;
    vv_clock *ctx;               /* built from rc on first use */
    const void *value;
    size_t vlen;
    int vrc;                     /* VV_OK, VV_ENOTFOUND, VV_ERESOLVER */
    void *owned;                 /* a resolver's result */
    char *error;
    unsigned char *blk;          /* siblings, context and bytes: right
                                    after the read when it was made, else
                                    the heap; kept when the read is reused */
    size_t blkcap;
};

size_t vv_read_count(const vv_read *r) { return r ? r->n : 0; }
const vv_sibling *vv_read_sibling(const vv_read *r, size_t i)
{
    return r && i < r->n ? &r->s[i] : NULL;
}
const vv_clock *vv_read_context(const vv_read *r)
{
    vv_read *m = (vv_read *)r;   /* reads are never const objects: the
                                  * clock is built on first use */
    if (!r) return NULL;
    if (!m->ctx) {
        vv_clock *c;
        if (vv_clock_new(&c)) return NULL;
        if (vv_read_context_into(r, c)) {
            vv_clock_free(c);
            return NULL;
        }
        m->ctx = c;
    }
    return m->ctx;
}

vv_clock *vv_read_take_context(vv_read *r)
{
    vv_clock *c;
    if (!vv_read_context(r)) return NULL;
    c = r->ctx;
    r->ctx = NULL;
    return c;
}
const char *vv_read_error(const vv_read *r) { return r ? r->error : NULL; }

int vv_read_value(const vv_read *r, const void **value, size_t *len)
{
    if (!r) return VV_EINVAL;
    if (value) *value = r->value;
    if (len) *len = r->vlen;
    return r->vrc;
}

/* Empty a read for reuse (db_int.h): the block stays. */
void vvi_read_reset(vv_read *r)
{
    vv_clock_free(r->ctx);
    vv_free(r->owned);
    vv_free(r->error);
    r->ctx = NULL;
    r->owned = NULL;
    r->error = NULL;
    r->n = r->nrc = 0;
    r->value = NULL;
    r->vlen = 0;
    r->vrc = VV_ENOTFOUND;
}

void vv_read_free(vv_read *r)
{
    if (!r) return;
    vvi_read_reset(r);
    if (r->blk != (unsigned char *)(r + 1)) vv_free(r->blk);
    vv_free(r);
}

int vv_read_context_into(const vv_read *r, vv_clock *c)
{
    size_t i;
    for (i = 0; i < r->nrc; i++) {
        if (vvi_clock_push(c, r->rc[i].name, r->rc[i].len, r->rc[i].n))
            return VV_ENOMEM;
        c->e[c->n - 1].hint = r->rc[i].a;
    }
    return VV_OK;
}

/* A read whose block holds at least need bytes: *r itself when it is
 * large enough (reuse), else it grows; a new one when *r is NULL (the
 * block right after it, one allocation). */
static int read_room(vv_read **r, size_t need)
{
    vv_read *x = *r;
    unsigned char *b;
    if (!x) {
        if (!(x = vv_malloc(sizeof *x + need))) return VV_ENOMEM;
        memset(x, 0, sizeof *x);
        x->blk = (unsigned char *)(x + 1);
        x->blkcap = need;
        x->vrc = VV_ENOTFOUND;
        *r = x;
        return VV_OK;
    }
    if (need <= x->blkcap) return VV_OK;
    if (need < x->blkcap * 2) need = x->blkcap * 2;
    if (x->blk == (unsigned char *)(x + 1)) b = vv_malloc(need);
    else b = vv_realloc(x->blk, need);
    if (!b) return VV_ENOMEM;
    x->blk = b;
    x->blkcap = need;
    return VV_OK;
}

/* Order of siblings: actor name, then counter. */
int vvi_ver_order(const vvi_actors *act, const vvi_ver *x, const vvi_ver *y)
{
    int c = x->a == y->a ? 0 : vvi_actor_cmp(act, x->a, y->a);
    if (c) return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* Copy actor a's name to p: a name that fits the key is copied from it
 * whole (a copy of fixed size; the bytes past the name land on room the
 * block has to spare, and the next copy overwrites them).  Returns the
 * byte after the name. */
static inline unsigned char *name_copy(unsigned char *p, const vvi_actors *act,
                                       uint32_t a)
{
    if (act->al[a] <= VV_CLOCK_KEY) memcpy(p, act->ce[a].inl, VV_CLOCK_KEY);
    else memcpy(p, act->an[a], act->al[a]);
    return p + act->al[a];
}

/* Fill the read *out (a new read when NULL, else reused) from a state's
 * context ctx[0..nctx) and its live versions live[0..n), in any order
 * (actors numbered by act); copies what it needs.  Its block holds the
 * sibling array, the context and their bytes: the siblings in the read's
 * order (actor name, counter), the context in name order.  Names compare
 * by the actors' key words. */
static int read_fill(const vvi_actors *act, const vvi_ent *ctx, size_t nctx,
                     const vvi_ver **live, size_t n, vv_read **out)
{
    vv_read *r;
    size_t i, k, bytes = 0;
    uint32_t ostack[32], *ord = ostack;
    unsigned char *p;
    for (i = 1; i < n; i++) {                    /* few: insertion */
        const vvi_ver *t = live[i];
        for (k = i; k > 0 && vvi_ver_order(act, live[k - 1], t) > 0; k--)
            live[k] = live[k - 1];
        live[k] = t;
    }
    if (nctx > 32 && !(ord = vv_malloc(nctx * sizeof *ord))) return VV_ENOMEM;
    for (i = 0; i < nctx; i++) {                 /* the context's name order */
        uint32_t a = ctx[i].a;
        for (k = i; k > 0 && vvi_actor_cmp(act, ctx[ord[k - 1]].a, a) > 0; k--)
            ord[k] = ord[k - 1];
        ord[k] = (uint32_t)i;
        bytes += act->al[a];
    }
    for (i = 0; i < n; i++) bytes += live[i]->len + act->al[live[i]->a];
    if (read_room(out, n * sizeof *r->s + nctx * sizeof *r->rc + bytes +
                  VV_CLOCK_KEY)) {
        if (ord != ostack) vv_free(ord);
        return VV_ENOMEM;
    }
    r = *out;
    r->n = n;
    r->s = (vv_sibling *)r->blk;
    r->rc = (rctx *)(r->s + n);
    r->nrc = nctx;
    p = (unsigned char *)(r->rc + nctx);
    for (i = 0; i < nctx; i++) {                 /* context, in name order */
        uint32_t a = ctx[ord[i]].a;
        r->rc[i].name = (const char *)p;
        r->rc[i].len = act->al[a];
        r->rc[i].n = ctx[ord[i]].n;
        r->rc[i].a = a;
        p = name_copy(p, act, a);
    }
    for (i = 0; i < n; i++) {
        const vvi_ver *v = live[i];
        vv_sibling *sb = &r->s[i];
        if (v->len) memcpy(p, v->val, v->len);
        sb->value = p;
        sb->len = v->len;
        p += v->len;
        sb->actor = (const char *)p;
        sb->actor_len = act->al[v->a];
        p = name_copy(p, act, v->a);
        sb->node_len = act->nl[v->a];
        sb->counter = v->n;
        sb->timestamp = v->ts;
    }
    if (ord != ostack) vv_free(ord);
    return VV_OK;
}

/* Build the read from a state (inside the transaction: copies bytes)
 * into *out (a new read when NULL, else reused).  act numbers the
 * state's actors (the store's table, or a detached state's own). */
static int read_build(const vvi_actors *act, const vvi_dvv *s,
                      vv_read **out)
{
    const vvi_ver *stack[16], **live = stack;
    size_t i, n = 0;
    int rc;
    if (s->nv > 16 && !(live = vv_malloc(s->nv * sizeof *live)))
        return VV_ENOMEM;
    for (i = 0; i < s->nv; i++)
        if (!s->v[i].tomb) live[n++] = &s->v[i];
    rc = read_fill(act, s->ctx, s->nctx, live, n, out);
    if (live != stack) vv_free(live);
    return rc;
}

/* Greatest (timestamp, actor, counter): the same pick on every replica. */
static size_t lww_pick(const vv_read *r)
{
    size_t i, best = 0;
    for (i = 1; i < r->n; i++) {
        const vv_sibling *a = &r->s[i], *b = &r->s[best];
        int c = a->timestamp != b->timestamp ? (a->timestamp > b->timestamp ? 1 : -1)
              : vvi_node_cmp(a->actor, a->actor_len, b->actor, b->actor_len);
        if (c == 0) c = a->counter > b->counter ? 1 : -1;
        if (c > 0) best = i;
    }
    return best;
}

static void read_resolve(vvi_ks *k, const void *key, size_t klen, vv_read *r)
{
    if (r->n == 1) {
        r->value = r->s[0].value;
        r->vlen = r->s[0].len;
        r->vrc = VV_OK;
        return;
    }
    if (k->load_error) {
        r->vrc = VV_ERESOLVER;
        r->error = vv_strndup(k->load_error, strlen(k->load_error));
        return;
    }
    switch (k->cfg.resolver) {
    case VV_RESOLVE_LWW: {
        size_t i = lww_pick(r);
        r->value = r->s[i].value;
        r->vlen = r->s[i].len;
        r->vrc = VV_OK;
        return;
    }
    case VV_RESOLVE_CUSTOM: {
        void *outv = NULL;
        size_t outn = 0;
        char *err = NULL;
        int rc = k->cfg.resolve(k->cfg.resolve_ud, k->name, key, klen, r->s,
                                r->n, &outv, &outn, &err);
        if (rc == VV_OK) {
            r->owned = outv;
            r->value = outv ? outv : (const void *)"";
            r->vlen = outn;
            r->vrc = VV_OK;
        } else {
            free(outv);
            r->vrc = VV_ERESOLVER;
            if (!err) {
                const char *m = "resolver failed";
                err = vv_strndup(m, strlen(m));
            }
            r->error = err;
        }
        return;
    }
    default:
        r->vrc = VV_ENOTFOUND;
        return;
    }
}

int vv_get(vv_db *db, const char *ksname, const void *key, size_t klen,
           vv_read **out)
{
    int rc;
    if (out) *out = NULL;
    if (!db || !out) return VV_EINVAL;
    rc = vv_get_reuse(db, ksname, key, klen, out);
    if (rc && *out) { vv_read_free(*out); *out = NULL; }
    return rc;
}

/* The read of key's stored state straight from its bytes (no dvv):
 * parsed into arrays on the stack (vvi_dvv_view), then filled.  *full is
 * set, with nothing done, for a state the arrays do not hold or that is
 * unreadable: the full path reads it, or says why not. */
static int read_stored(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                       vv_read **out, int *full)
{
    const void *p;
    size_t n, nctx, nlive, i;
    vvi_ent ctx[32];
    vvi_ver live[8];
    const vvi_ver *lp[8];
    int rc = db->be->get(db->h, k->id, key, klen, &p, &n);
    *full = 0;
    if (rc == VV_ENOTFOUND) return rc;
    if (rc) return vvi_be_fail(db, rc);
    if (vvi_dvv_view(p, n, db->act.na, ctx, 32, &nctx, live, 8, &nlive)) {
        *full = 1;
        return VV_OK;
    }
    if (nlive == 0) return VV_ENOTFOUND;
    for (i = 0; i < nlive; i++) lp[i] = &live[i];
    if ((rc = read_fill(&db->act, ctx, nctx, lp, nlive, out)))
        vv_db_fail(db, rc, "out of memory");
    return rc;
}

int vv_get_reuse(vv_db *db, const char *ksname, const void *key, size_t klen,
                 vv_read **out)
{
    vvi_ks *k;
    vvi_dvv s;
    int rc, found = 0, full = 1;
    if (!db || !out) return VV_EINVAL;
    if (*out) vvi_read_reset(*out);
    db->err[0] = 0;
    if ((rc = vvi_ks_name_ok(db, ksname)) || (rc = vvi_key_ok(db, key, klen))) return rc;
    if ((rc = vvi_txn_begin(db, 0))) return rc;
    rc = vvi_ks_get(db, ksname, 0, &k);
    if (rc == VV_OK && !vvi_full_path)
        rc = read_stored(db, k, key, klen, out, &full);
    if (rc == VV_OK && full) {                   /* decoded into a dvv */
        rc = vvi_key_load(db, k, key, klen, &s, &found);
        if (rc == VV_OK && (!found || vvi_dvv_live(&s) == 0)) rc = VV_ENOTFOUND;
        if (rc == VV_OK && (rc = read_build(&db->act, &s, out)))
            vv_db_fail(db, rc, "out of memory");
        vvi_dvv_free(&s);
    }
    rc = vvi_txn_end(db, rc);
    if (rc) {
        if (*out) vvi_read_reset(*out);
        return rc;
    }
    read_resolve(k, key, klen, *out);
    if (k->cfg.writeback && (*out)->n > 1 && (*out)->vrc == VV_OK) {
        vv_clock *after = NULL;                  /* best effort: a read stays a read */
        if (vv_read_context(*out) &&
            vv_put(db, ksname, key, klen, (*out)->value, (*out)->vlen,
                   (*out)->ctx, &after) == VV_OK) {
            vv_clock_free((*out)->ctx);          /* the context covers the write-back */
            (*out)->ctx = after;
        }
        db->err[0] = 0;
    }
    return VV_OK;
}

/* A read of a state that no store holds (state.c): built and resolved
 * at once, since nothing borrows from a transaction.  Only tombstones
 * (or s NULL): VV_ENOTFOUND, and a reused read is left empty. */
int vvi_read_dvv(const vvi_actors *act, vvi_ks *k, const vvi_dvv *s,
                 const void *key, size_t klen, vv_read **out)
{
    int rc;
    if (*out) vvi_read_reset(*out);
    if (!s || vvi_dvv_live(s) == 0) return VV_ENOTFOUND;
    if ((rc = read_build(act, s, out))) return rc;
    read_resolve(k, key, klen, *out);
    return VV_OK;
}
