/* sync.c - keyspace anti-entropy: digests, deltas, apply, tombstone reaping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vv_int.h"

/*
 * How it works (docs/sync.md has the full story and the figures)
 *
 * Every change to a key's stored state gives the key the next sequence
 * number of its keyspace on this store (log.c keeps the counter and a
 * change log: seq -> key, ordered).  Each store also keeps watermarks per
 * keyspace: for each source actor, the highest source seq up to which it
 * has merged everything that source had ("wm:<id>").
 *
 *   digest  "VVD" format | str ks | str requester actor | varint own seq |
 *           varint n | n x (str source actor, varint watermark) | xxh64
 *   delta   "VVX" format | str ks | str source actor | [str base actor] |
 *           varint lo | varint hi | entries... | xxh64
 *           entry: varint seq | varint len | len bytes as vv_export
 *           makes them ("VVS" ...), lo < seq <= hi, seqs increasing
 *
 * A delta lists the keys the source changed after the requester's
 * watermark for it (lo) up to the source's current seq (hi): its size and
 * the time to make it follow the difference.  Applying merges each state
 * (the merge of vv_merge) and raises the watermark to hi when lo is not
 * above it (nothing in between was missed).  Keys whose seq the
 * watermark already covers are skipped: the store has merged a state of
 * the source at least that recent, so skipping changes nothing, and it
 * keeps a late duplicate from bringing back a key that was reaped.
 * Both messages end with an xxh64 of what precedes it.
 *
 * The source actor is the handle that made the delta; each handle of a
 * durable store has its own (db.c).  When the requester has no watermark
 * for it, the source may start from its mark for an earlier handle of the
 * same store (the base, format 2) as long as that mark does not pass the
 * last change the earlier handle recorded here (log.c): those changes are
 * in this directory's history even when it was restored from a copy.
 */

#define DIGEST_MAGIC  "VVD"
#define DELTA_MAGIC   "VVX"
#define SYNC_FORMAT   1
#define DELTA_BASED   2          /* a delta format: with a base actor */

/* ---- watermarks: source actor -> highest source seq merged ---------- */
typedef struct wm_ent {
    uint32_t a;               /* actor number on this store */
    uint64_t seq;
} wm_ent;

typedef struct wmarks {
    wm_ent *e;
    size_t n, cap;
} wmarks;

/* Release a watermark list (it can be used again, empty). */
static void wm_free(wmarks *w)
{
    vv_free(w->e);
    memset(w, 0, sizeof *w);
}

/* Name of the meta record with keyspace id's watermarks. */
static void wm_record(uint32_t id, char out[24])
{
    snprintf(out, 24, "wm:%lu", (unsigned long)id);
}

/* Watermark for source actor a (0 when none).  Lists are short: one
 * entry per replica that ever sent a delta. */
static uint64_t wm_get(const wmarks *w, uint32_t a)
{
    size_t i;
    for (i = 0; i < w->n; i++)
        if (w->e[i].a == a) return w->e[i].seq;
    return 0;
}

/* Drop the watermark for source actor a. */
static void wm_del(wmarks *w, uint32_t a)
{
    size_t i;
    for (i = 0; i < w->n; i++)
        if (w->e[i].a == a) { w->e[i] = w->e[--w->n]; return; }
}

/* Set the watermark for source actor a. */
static int wm_set(wmarks *w, uint32_t a, uint64_t seq)
{
    size_t i;
    for (i = 0; i < w->n; i++)
        if (w->e[i].a == a) { w->e[i].seq = seq; return VV_OK; }
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        wm_ent *e = vv_realloc(w->e, cap * sizeof *e);
        if (!e) return VV_ENOMEM;
        w->e = e;
        w->cap = cap;
    }
    w->e[w->n].a = a;
    w->e[w->n].seq = seq;
    w->n++;
    return VV_OK;
}

/* Record "wm:<id>": varint n, n x (varint actor number, varint seq). */
static int wm_load(vv_db *db, uint32_t id, wmarks *w)
{
    const vvi_backend *be;
    void *h;
    const void *p;
    size_t n;
    char name[24];
    vvi_rd r;
    uint64_t cnt, i;
    int rc;
    memset(w, 0, sizeof *w);
    be = vvi_db_backend(db, &h);
    wm_record(id, name);
    rc = be->meta_get(h, name, &p, &n);
    if (rc == VV_ENOTFOUND) return VV_OK;
    if (rc) return vv_db_fail(db, rc, "%s: %s", be->name, be->errmsg(h));
    vvi_rd_init(&r, p, n);
    cnt = vvi_rd_varint(&r);
    if (r.err || cnt > n) goto bad;
    for (i = 0; i < cnt; i++) {
        uint64_t a = vvi_rd_varint(&r), s = vvi_rd_varint(&r);
        if (r.err || a > UINT32_MAX || !vvi_actor_name(db, (uint32_t)a, NULL))
            goto bad;
        if (wm_set(w, (uint32_t)a, s)) { wm_free(w); return VV_ENOMEM; }
    }
    if (r.p == r.end) return VV_OK;
bad:
    wm_free(w);
    return vv_db_fail(db, VV_ECORRUPT, "sync watermarks of a keyspace are "
                      "unreadable");
}

/* Write the list back (inside the write transaction). */
static int wm_save(vv_db *db, uint32_t id, const wmarks *w)
{
    const vvi_backend *be;
    void *h;
    char name[24];
    vv_buf b;
    size_t i;
    int rc;
    be = vvi_db_backend(db, &h);
    wm_record(id, name);
    vv_buf_init(&b);
    vvi_buf_varint(&b, w->n);
    for (i = 0; i < w->n; i++) {
        vvi_buf_varint(&b, w->e[i].a);
        vvi_buf_varint(&b, w->e[i].seq);
    }
    rc = b.oom ? VV_ENOMEM : be->meta_put(h, name, b.p, b.len);
    vv_buf_free(&b);
    if (rc) return vv_db_fail(db, rc, "%s: %s", be->name, be->errmsg(h));
    return VV_OK;
}

/* ---- message helpers -------------------------------------------------- */
/* A string as varint length and bytes. */
static void put_str(vv_buf *b, const void *s, size_t n)
{
    vvi_buf_varint(b, n);
    vv_buf_add(b, s, n);
}

/* A length-prefixed string of 1..max bytes; NULL (r->err set) if not. */
static const char *get_str(vvi_rd *r, size_t max, size_t *len)
{
    uint64_t n = vvi_rd_varint(r);
    const unsigned char *p;
    *len = 0;
    if (r->err || n < 1 || n > max) { r->err = VV_ECORRUPT; return NULL; }
    p = vvi_rd_bytes(r, (size_t)n);
    *len = (size_t)n;
    return (const char *)p;
}

/* Check magic, format (SYNC_FORMAT up to max) and the trailing checksum;
 * start r on the body. */
static int msg_open(vv_db *db, const void *msg, size_t len, const char *magic,
                    const char *what, int max, vvi_rd *r)
{
    const unsigned char *p = msg;
    if (!msg || len < 4 + 8 || memcmp(p, magic, 3) != 0)
        return vv_db_fail(db, VV_ECORRUPT, "not a vv sync %s", what);
    if (p[3] < SYNC_FORMAT || p[3] > max)
        return vv_db_fail(db, VV_EVERSION, "sync %s format %d is not one this "
                          "build reads (%d..%d)", what, p[3], SYNC_FORMAT, max);
    if (!vvi_sum_ok(p, len))
        return vv_db_fail(db, VV_ECORRUPT, "sync %s is corrupt or truncated "
                          "(checksum)", what);
    vvi_rd_init(r, p + 4, len - 12);
    return VV_OK;
}

/* The keyspace named in a message must be ks. */
static int ks_match(vv_db *db, const char *ks, const char *name, size_t n,
                    const char *what)
{
    if (strlen(ks) == n && memcmp(ks, name, n) == 0) return VV_OK;
    return vv_db_fail(db, VV_EFOREIGN, "sync %s is for keyspace '%.*s', not "
                      "'%s'", what, (int)n, name, ks);
}

/* Is name (n bytes) this store's actor self? */
static int is_self(const char *self, const char *name, size_t n)
{
    return strlen(self) == n && memcmp(self, name, n) == 0;
}

/* The keyspace argument of a public call. */
static int ks_arg(vv_db *db, const char *ks)
{
    size_t n;
    if (!ks) return vv_db_fail(db, VV_EINVAL, "keyspace name missing");
    n = strlen(ks);
    if (n < 1 || n > 255)
        return vv_db_fail(db, VV_EINVAL, "keyspace name must be 1..255 bytes");
    return VV_OK;
}

/* ---- digests ----------------------------------------------------------- */
/* A digest as read (names borrowed from the message). */
typedef struct digest {
    const char *ks, *actor;
    size_t kslen, alen;
    uint64_t seq;                /* the requester's own last seq */
    uint64_t n;                  /* watermarks ... */
    const unsigned char *list;   /* ... n x (str actor, varint seq) */
    size_t listlen;
} digest;

/* Read and check a whole digest for keyspace ks. */
static int digest_parse(vv_db *db, const char *ks, const void *msg,
                        size_t len, digest *d)
{
    vvi_rd r;
    uint64_t i;
    const char *prev = NULL;
    size_t prevlen = 0;
    int rc = msg_open(db, msg, len, DIGEST_MAGIC, "digest", SYNC_FORMAT, &r);
    if (rc) return rc;
    memset(d, 0, sizeof *d);
    d->ks = get_str(&r, 255, &d->kslen);
    d->actor = get_str(&r, VV_NODE_MAX, &d->alen);
    d->seq = vvi_rd_varint(&r);
    d->n = vvi_rd_varint(&r);
    if (r.err || d->n > len) goto bad;
    d->list = r.p;
    for (i = 0; i < d->n; i++) {
        size_t nl;
        const char *name = get_str(&r, VV_NODE_MAX, &nl);
        uint64_t s = vvi_rd_varint(&r);
        if (r.err || s == 0) goto bad;
        if (prev && vvi_node_cmp(prev, prevlen, name, nl) >= 0) goto bad;
        prev = name;
        prevlen = nl;
    }
    if (r.err || r.p != r.end) goto bad;
    d->listlen = (size_t)(r.p - d->list);
    return ks_match(db, ks, d->ks, d->kslen, "digest");
bad:
    return vv_db_fail(db, VV_ECORRUPT, "sync digest is malformed");
}

/* The digest's watermark for source actor name (0 when absent). */
static uint64_t digest_mark(const digest *d, const char *name, size_t len)
{
    vvi_rd r;
    uint64_t i;
    vvi_rd_init(&r, d->list, d->listlen);
    for (i = 0; i < d->n; i++) {
        size_t nl;
        const char *s = get_str(&r, VV_NODE_MAX, &nl);
        uint64_t seq = vvi_rd_varint(&r);
        if (r.err) break;
        if (nl == len && memcmp(s, name, len) == 0) return seq;
    }
    return 0;
}

/* The digest's watermark for this store's changes: its mark for this
 * handle, or for an earlier handle of the store whose mark does not pass
 * the last change that handle gave out here (k's sessions), whichever is
 * higher.  *base names the earlier handle whose mark it is (NULL: none). */
static uint64_t own_mark(vv_db *db, vvi_ks *k, const digest *d,
                         const char **base, size_t *blen)
{
    const char *self = vv_db_actor(db), *name;
    uint64_t lo = digest_mark(d, self, strlen(self)), s, w;
    size_t len;
    unsigned i;
    *base = NULL;
    *blen = 0;
    for (i = 0; k && vvi_ks_session(db, k, i, &name, &len, &s); i++) {
        if (is_self(self, name, len)) continue;
        w = digest_mark(d, name, len);
        if (w > lo && w <= s) {
            lo = w;
            *base = name;
            *blen = len;
        }
    }
    return lo;
}

typedef struct named_mark {
    const char *name;
    size_t len;
    uint64_t seq;
} named_mark;

/* qsort order of watermarks: actor names, bytewise. */
static int mark_cmp(const void *x, const void *y)
{
    const named_mark *a = x, *b = y;
    return vvi_node_cmp(a->name, a->len, b->name, b->len);
}

int vv_digest(vv_db *db, const char *ks, void **out, size_t *len)
{
    vvi_ks *k;
    wmarks w;
    named_mark *m = NULL;
    vv_buf b;
    uint32_t id;
    uint64_t seq = 0;
    size_t i, n = 0;
    int rc;
    if (out) *out = NULL;
    if (len) *len = 0;
    if (!db || !out || !len) return VV_EINVAL;
    if ((rc = ks_arg(db, ks))) return rc;
    memset(&w, 0, sizeof w);
    vv_buf_init(&b);
    vv_db_fail(db, VV_OK, "%s", "");
    if ((rc = vvi_sync_begin(db, ks, 0, &k))) return rc;
    if (k && !(rc = vvi_ks_info(db, k, &id, &seq))) rc = wm_load(db, id, &w);
    if (rc == VV_OK && w.n && !(m = vv_malloc(w.n * sizeof *m)))
        rc = VV_ENOMEM;
    if (rc == VV_OK) {
        for (i = 0; i < w.n; i++) {
            if (w.e[i].seq == 0) continue;
            m[n].name = vvi_actor_name(db, w.e[i].a, &m[n].len);
            m[n].seq = w.e[i].seq;
            n++;
        }
        if (n > 1) qsort(m, n, sizeof *m, mark_cmp);
        vv_buf_add(&b, DIGEST_MAGIC, 3);
        vvi_buf_byte(&b, SYNC_FORMAT);
        put_str(&b, ks, strlen(ks));
        put_str(&b, vv_db_actor(db), strlen(vv_db_actor(db)));
        vvi_buf_varint(&b, seq);
        vvi_buf_varint(&b, n);
        for (i = 0; i < n; i++) {
            put_str(&b, m[i].name, m[i].len);
            vvi_buf_varint(&b, m[i].seq);
        }
        vvi_buf_sum(&b, 0);
        if (b.oom) rc = VV_ENOMEM;
    }
    vv_free(m);
    wm_free(&w);
    rc = vvi_sync_end(db, rc);
    if (rc) {
        vv_buf_free(&b);
        if (rc == VV_ENOMEM) vv_db_fail(db, rc, "out of memory");
        return rc;
    }
    *out = b.p;
    *len = b.len;
    return VV_OK;
}

/* ---- deltas ------------------------------------------------------------ */


/* What delta_cb needs: where to write, up to which seq. */
typedef struct delta_ud {
    vv_db *db;
    vvi_ks *k;
    uint64_t hi;
    vv_buf *out, tmp;
    int rc, done;
} delta_ud;

/* One log entry (seq -> key): append the key's state to the delta. */
static int delta_cb(void *ud, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    delta_ud *u = ud;
    uint64_t seq;
    int rc;
    if (klen != 8) return u->rc = VV_ECORRUPT;
    seq = vvi_seq_of(key);
    if (seq > u->hi) return u->done = 1;         /* stop: past hi */
    u->tmp.len = 0;
    rc = vvi_key_export(u->db, u->k, val, vlen, &u->tmp);
    if (rc == VV_ENOTFOUND) return 0;            /* cannot happen: skip */
    if (rc) return u->rc = rc;
    vvi_buf_varint(u->out, seq);
    put_str(u->out, u->tmp.p, u->tmp.len);
    if (u->out->oom) return u->rc = VV_ENOMEM;
    return 0;
}

int vv_delta(vv_db *db, const char *ks, const void *dmsg, size_t dlen,
             void **out, size_t *len)
{
    digest d;
    vvi_ks *k;
    vv_buf b;
    uint32_t id = 0;
    uint64_t lo = 0, hi = 0;
    const char *self, *base = NULL;
    size_t blen = 0;
    int rc;
    if (out) *out = NULL;
    if (len) *len = 0;
    if (!db || !out || !len) return VV_EINVAL;
    vv_db_fail(db, VV_OK, "%s", "");
    if ((rc = ks_arg(db, ks))) return rc;
    if ((rc = digest_parse(db, ks, dmsg, dlen, &d))) return rc;
    self = vv_db_actor(db);
    vv_buf_init(&b);
    if ((rc = vvi_sync_begin(db, ks, 0, &k))) return rc;
    if (k) rc = vvi_ks_info(db, k, &id, &hi);
    if (rc == VV_OK) {
        if (is_self(self, d.actor, d.alen))
            lo = hi;                             /* our own digest */
        else
            lo = own_mark(db, k, &d, &base, &blen);
        if (lo > hi)
            rc = vv_db_fail(db, VV_ECORRUPT, "digest says it has seen changes "
                            "up to %llu from %s, which has made only %llu",
                            (unsigned long long)lo, self,
                            (unsigned long long)hi);
    }
    if (rc == VV_OK) {
        vv_buf_add(&b, DELTA_MAGIC, 3);
        vvi_buf_byte(&b, base ? DELTA_BASED : SYNC_FORMAT);
        put_str(&b, ks, strlen(ks));
        put_str(&b, self, strlen(self));
        if (base) put_str(&b, base, blen);
        vvi_buf_varint(&b, lo);
        vvi_buf_varint(&b, hi);
        if (b.oom) rc = VV_ENOMEM;
    }
    if (rc == VV_OK && k && lo < hi) {
        const vvi_backend *be;
        void *h;
        unsigned char start[8];
        delta_ud u;
        be = vvi_db_backend(db, &h);
        vvi_seq_key(lo + 1, start);
        u.db = db;
        u.k = k;
        u.hi = hi;
        u.out = &b;
        u.rc = VV_OK;
        u.done = 0;
        vv_buf_init(&u.tmp);
        rc = be->scan_from(h, VVI_LOG_KS | id, start, 8, delta_cb, &u);
        if (u.done && rc == 1) rc = VV_OK;       /* stopped at hi */
        if (u.rc) rc = u.rc;
        vv_buf_free(&u.tmp);
        if (rc && !vv_errmsg(db)[0])
            vv_db_fail(db, rc, "delta: %s", vv_strerror(rc));
    }
    if (rc == VV_OK) {
        vvi_buf_sum(&b, 0);
        if (b.oom) rc = vv_db_fail(db, VV_ENOMEM, "out of memory");
    }
    rc = vvi_sync_end(db, rc);
    if (rc) { vv_buf_free(&b); return rc; }
    *out = b.p;
    *len = b.len;
    return VV_OK;
}

/* ---- apply ------------------------------------------------------------- */
typedef struct delta {
    const char *ks, *src, *base;  /* base: NULL in format 1 */
    size_t kslen, slen, blen;
    uint64_t lo, hi;
    const unsigned char *body;   /* entries up to the checksum */
    size_t bodylen;
} delta;

/* Next entry of a delta; 0 at the end, 1 with one, -1 when malformed. */
static int delta_next(vvi_rd *r, uint64_t *seq, const void **st, size_t *n)
{
    uint64_t len;
    if (r->p == r->end) return 0;
    *seq = vvi_rd_varint(r);
    len = vvi_rd_varint(r);
    if (r->err || len > (uint64_t)(r->end - r->p)) return -1;
    *st = vvi_rd_bytes(r, (size_t)len);
    *n = (size_t)len;
    return r->err ? -1 : 1;
}

/* Read and check a whole delta for keyspace ks, every state in it too. */
static int delta_parse(vv_db *db, const char *ks, const void *msg, size_t len,
                       delta *x)
{
    vvi_rd r;
    uint64_t seq, last;
    const void *st;
    size_t n;
    int rc = msg_open(db, msg, len, DELTA_MAGIC, "delta", DELTA_BASED, &r);
    int more;
    if (rc) return rc;
    memset(x, 0, sizeof *x);
    x->ks = get_str(&r, 255, &x->kslen);
    x->src = get_str(&r, VV_NODE_MAX, &x->slen);
    if (((const unsigned char *)msg)[3] == DELTA_BASED)
        x->base = get_str(&r, VV_NODE_MAX, &x->blen);
    x->lo = vvi_rd_varint(&r);
    x->hi = vvi_rd_varint(&r);
    if (r.err || x->lo > x->hi) goto bad;
    if ((rc = ks_match(db, ks, x->ks, x->kslen, "delta"))) return rc;
    x->body = r.p;
    x->bodylen = (size_t)(r.end - r.p);
    last = x->lo;
    while ((more = delta_next(&r, &seq, &st, &n)) > 0) {
        const void *key;
        size_t klen;
        if (seq <= last || seq > x->hi) goto bad;
        last = seq;
        rc = vvi_export_check(st, n, 1, &key, &klen);
        if (rc == VV_EVERSION)
            return vv_db_fail(db, rc, "sync delta holds a key state of a "
                              "format this build does not read");
        if (rc == VV_ENOMEM) return vv_db_fail(db, rc, "out of memory");
        if (rc || klen > VV_KEY_MAX) goto bad;
    }
    if (more < 0) goto bad;
    return VV_OK;
bad:
    return vv_db_fail(db, VV_ECORRUPT, "sync delta is malformed");
}

int vv_apply(vv_db *db, const char *ks, const void *msg, size_t len,
             size_t *changed)
{
    delta x;
    vvi_ks *k;
    wmarks w;
    vvi_rd r;
    uint32_t id, src, base;
    uint64_t seq, mark;
    const void *st;
    size_t n, count = 0;
    const char *self;
    int rc;
    if (changed) *changed = 0;
    if (!db) return VV_EINVAL;
    vv_db_fail(db, VV_OK, "%s", "");
    if ((rc = ks_arg(db, ks))) return rc;
    if ((rc = delta_parse(db, ks, msg, len, &x))) return rc;
    self = vv_db_actor(db);
    if (is_self(self, x.src, x.slen))
        return VV_OK;                            /* our own changes */
    memset(&w, 0, sizeof w);
    if ((rc = vvi_sync_begin(db, ks, 2, &k))) return rc;
    if ((rc = vvi_ks_info(db, k, &id, &seq))) goto out;
    if ((rc = wm_load(db, id, &w))) goto out;
    if ((rc = vvi_actor_num(db, x.src, x.slen, 1, &src))) {
        vv_db_fail(db, rc, "%s", vv_strerror(rc));
        goto out;
    }
    mark = wm_get(&w, src);
    vvi_rd_init(&r, x.body, x.bodylen);
    while (delta_next(&r, &seq, &st, &n) > 0) {
        const void *key;
        size_t klen;
        int ch = 0;
        if (seq <= mark) continue;               /* merged already */
        if ((rc = vvi_export_check(st, n, 0, &key, &klen))) goto out;
        if ((rc = vvi_key_merge(db, k, key, klen, st, n, &ch))) goto out;
        count += (size_t)ch;
    }
    if (x.lo > mark && x.base &&                 /* from a base's mark */
        vvi_actor_num(db, x.base, x.blen, 0, &base) == VV_OK &&
        base != src && x.lo <= wm_get(&w, base)) {
        /* the source's handle takes over from the earlier one: nothing
         * below lo was missed, and its mark is needed no more */
        wm_del(&w, base);
        mark = x.lo;
    }
    if (x.lo <= mark && x.hi > mark) {           /* nothing missed below */
        if ((rc = wm_set(&w, src, x.hi))) goto out;
        rc = wm_save(db, id, &w);
    }
out:
    wm_free(&w);
    if (rc == VV_ENOMEM && !vv_errmsg(db)[0])
        vv_db_fail(db, rc, "out of memory");
    rc = vvi_sync_end(db, rc);
    if (rc == VV_OK && changed) *changed = count;
    return rc;
}

/* ---- tombstone reaping --------------------------------------------------- */
/* What reap_cb needs, and the keys it found. */
typedef struct reap_ud {
    const vvi_backend *be;
    void *h;
    uint32_t id;
    uint64_t bound;
    vv_buf keys;                 /* varint seq, varint klen, key ... */
    int rc, done;
} reap_ud;

/* One log entry: note the key when its state holds no live version. */
static int reap_cb(void *ud, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
    reap_ud *u = ud;
    const void *p;
    size_t n;
    uint64_t seq;
    vvi_dvv s;
    int rc;
    if (klen != 8) return u->rc = VV_ECORRUPT;
    seq = vvi_seq_of(key);
    if (seq > u->bound) return u->done = 1;      /* stop: past the bound */
    rc = u->be->get(u->h, u->id, val, vlen, &p, &n);
    if (rc == VV_ENOTFOUND) return 0;
    if (rc) return u->rc = rc;
    if ((rc = vvi_dvv_decode(&s, p, n))) return u->rc = rc;
    if (s.seq == seq && vvi_dvv_live(&s) == 0) {
        vvi_buf_varint(&u->keys, seq);
        vvi_buf_varint(&u->keys, vlen);
        vv_buf_add(&u->keys, val, vlen);
        if (u->keys.oom) rc = u->rc = VV_ENOMEM;
    }
    vvi_dvv_free(&s);
    return rc;
}

int vv_reap(vv_db *db, const char *ks, const void *const *digests,
            const size_t *lens, size_t n, size_t *reaped)
{
    digest *d = NULL;
    vvi_ks *k;
    wmarks w;
    reap_ud u;
    uint32_t id;
    uint64_t seq, bound;
    size_t i, count = 0, blen;
    const char *self, *base;
    int rc = VV_OK;
    if (reaped) *reaped = 0;
    if (!db || (n && (!digests || !lens))) return VV_EINVAL;
    vv_db_fail(db, VV_OK, "%s", "");
    if ((rc = ks_arg(db, ks))) return rc;
    if (n && !(d = vv_malloc(n * sizeof *d)))
        return vv_db_fail(db, VV_ENOMEM, "out of memory");
    for (i = 0; i < n && !rc; i++)
        rc = digest_parse(db, ks, digests[i], lens[i], &d[i]);
    if (rc) { vv_free(d); return rc; }
    self = vv_db_actor(db);
    memset(&w, 0, sizeof w);
    memset(&u, 0, sizeof u);
    vv_buf_init(&u.keys);
    if ((rc = vvi_sync_begin(db, ks, 1, &k))) { vv_free(d); return rc; }
    if (!k) goto out;                            /* nothing there */
    if ((rc = vvi_ks_info(db, k, &id, &seq))) goto out;
    if ((rc = wm_load(db, id, &w))) goto out;
    bound = seq;
    for (i = 0; i < n; i++) {
        uint32_t a;
        uint64_t theirs, mine = 0;
        if (is_self(self, d[i].actor, d[i].alen)) continue;
        /* they have merged every change of ours up to theirs ... */
        theirs = own_mark(db, k, &d[i], &base, &blen);
        if (theirs < bound) bound = theirs;
        /* ... and we have merged everything they had when they said so,
         * so no state of theirs older than our tombstones can still come
         * in (apply skips what the watermark covers) */
        if (vvi_actor_num(db, d[i].actor, d[i].alen, 0, &a) == VV_OK)
            mine = wm_get(&w, a);
        if (mine < d[i].seq) bound = 0;
    }
    if (bound) {
        unsigned char start[8];
        vvi_rd r;
        u.be = vvi_db_backend(db, &u.h);
        u.id = id;
        u.bound = bound;
        vvi_seq_key(1, start);
        rc = u.be->scan_from(u.h, VVI_LOG_KS | id, start, 8, reap_cb, &u);
        if (u.done && rc == 1) rc = VV_OK;
        if (u.rc) rc = u.rc;
        if (rc) {
            if (!vv_errmsg(db)[0])
                vv_db_fail(db, rc, "reap: %s", vv_strerror(rc));
            goto out;
        }
        vvi_rd_init(&r, u.keys.p, u.keys.len);
        while (r.p < r.end && !rc) {
            uint64_t s = vvi_rd_varint(&r);
            size_t kl = (size_t)vvi_rd_varint(&r);
            const unsigned char *key = vvi_rd_bytes(&r, kl);
            unsigned char sk[8];
            if (r.err) { rc = VV_ECORRUPT; break; }
            vvi_seq_key(s, sk);
            if ((rc = u.be->del(u.h, id, key, kl)) == VV_OK &&
                ((rc = u.be->del(u.h, VVI_LOG_KS | id, sk, 8)) == VV_OK ||
                 rc == VV_ENOTFOUND) &&        /* and its history, if kept */
                ((rc = u.be->del(u.h, VVI_HIST_KS | id, key, kl)) == VV_OK ||
                 rc == VV_ENOTFOUND))
                rc = VV_OK, count++;
            if (rc) vv_db_fail(db, rc, "%s: %s", u.be->name, u.be->errmsg(u.h));
        }
    }
out:
    vv_buf_free(&u.keys);
    wm_free(&w);
    vv_free(d);
    rc = vvi_sync_end(db, rc);
    if (rc == VV_OK && reaped) *reaped = count;
    return rc;
}
