/* mem.c - the in-memory storage backend: a hash table with an undo log. */

/* A write transaction keeps, for each record it changes, a copy of the
 * record's old value in an undo log (its bytes in one reused buffer), so
 * a value is overwritten in place: a put of a value no larger than the
 * record's buffer allocates nothing. */
#include <stdlib.h>
#include <string.h>
#include "vv_int.h"

#define META_KS UINT32_MAX   /* meta records live in their own keyspace */

typedef struct mem_ent {
    uint64_t hash;
    uint32_t ks;
    unsigned char *key;      /* NULL: empty slot; key == tomb: deleted slot */
    size_t klen;
    unsigned char *val;      /* owned, vcap bytes */
    size_t vlen, vcap;
} mem_ent;

/* A change log entry (keyspaces VVI_LOG_KS | id, see vv_int.h): key is
 * its seq, value a user key, kept inline when short. */
#define LOG_INL 21
typedef struct mem_lent {
    uint64_t seq;
    uint16_t vlen;
    uint8_t live;            /* 0: a hole left by a delete */
    unsigned char data[LOG_INL]; /* the value, or a pointer to it */
} mem_lent;

/* A change log: entries sorted by seq.  Seqs come in increasing order, so
 * a put appends (anything else is refused); a delete leaves a hole,
 * squeezed out between transactions once holes are half the array.  A
 * transaction's changes are undone from n0 and the deleted list (no undo
 * records: this is on every write's path). */
typedef struct mem_log {
    uint32_t ks;
    mem_lent *e;
    size_t n, cap, holes;
    size_t n0;               /* entries when the transaction began */
    size_t *del;             /* entries it deleted (their values stay */
    size_t ndel, capdel;     /* until it ends) */
} mem_log;

/* One undo record: the value a key had before the transaction wrote it. */
typedef struct mem_undo {
    uint32_t ks;
    int had;                 /* the key was present (else: absent) */
    size_t koff, klen;       /* the key's bytes in mem.ukeys */
    size_t voff, vlen;       /* its old value's bytes in mem.ukeys */
} mem_undo;

typedef struct mem {
    mem_ent *t;
    size_t cap, used, live;  /* used counts deleted slots too */
    int txn;                 /* 0 none, 1 read, 2 write */
    mem_undo *undo;
    size_t nundo, capundo;
    vv_buf ukeys;            /* keys and old values of the undo records */
    uint64_t bytes;
    mem_log *logs;           /* change logs, one a keyspace */
    size_t nlogs;
    mem_ent *last;           /* the entry the last get or put found (a
                                put right after a get of the same key
                                skips the hash and the probe); NULL when
                                the table moved or an entry went */
} mem;

static int is_log(uint32_t ks) { return ks != META_KS && (ks & VVI_LOG_KS); }
static void logs_end(mem *m, int restore);

static unsigned char tomb_key;   /* address marks a deleted slot */

static uint64_t mem_hash(uint32_t ks, const void *key, size_t klen)
{
    return vvi_hash64(key, klen, ks);
}

/* Is the live entry e the one of (ks, key)? */
static int ent_is(const mem_ent *e, uint32_t ks, const void *key, size_t klen)
{
    return e && e->key && e->key != &tomb_key && e->ks == ks &&
           e->klen == klen && memcmp(e->key, key, klen) == 0;
}

/* Slot of (ks, key), or the free slot where it would go. */
static mem_ent *mem_slot(mem *m, uint32_t ks, const void *key, size_t klen,
                         uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    mem_ent *free_slot = NULL;
    for (;;) {
        mem_ent *e = &m->t[i];
        if (!e->key) return free_slot ? free_slot : e;
        if (e->key == &tomb_key) {
            if (!free_slot) free_slot = e;
        } else if (e->hash == h && e->ks == ks && e->klen == klen &&
                   memcmp(e->key, key, klen) == 0)
            return e;
        i = (i + 1) & mask;
    }
}

static int mem_grow(mem *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64, i;
    mem_ent *old = m->t, *t;
    size_t oldcap = m->cap;
    if (m->live * 2 < m->cap) cap = m->cap;     /* only tombs: rehash */
    t = vv_malloc(cap * sizeof *t);
    if (!t) return VV_ENOMEM;
    memset(t, 0, cap * sizeof *t);
    m->t = t;
    m->last = NULL;
    m->cap = cap;
    m->used = 0;
    for (i = 0; i < oldcap; i++) {
        mem_ent *e = &old[i], *d;
        if (!e->key || e->key == &tomb_key) continue;
        d = mem_slot(m, e->ks, e->key, e->klen, e->hash);
        *d = *e;
        m->used++;
    }
    vv_free(old);
    return VV_OK;
}

static int mem_begin(void *h, int write)
{
    mem *m = h;
    size_t i;
    if (m->txn) return VV_EBUSY;
    m->txn = write ? 2 : 1;
    for (i = 0; write && i < m->nlogs; i++) {   /* a read changes nothing */
        m->logs[i].n0 = m->logs[i].n;
        m->logs[i].ndel = 0;
    }
    return VV_OK;
}

/* Give entry e room for n value bytes (its old bytes may go). */
static int ent_room(mem_ent *e, size_t n)
{
    unsigned char *v;
    if (n <= e->vcap && (e->vcap <= 256 || n >= e->vcap / 4)) return VV_OK;
    v = vv_realloc(e->val, n ? n : 1);
    if (!v) return n <= e->vcap ? VV_OK : VV_ENOMEM;
    e->val = v;
    e->vcap = n ? n : 1;
    return VV_OK;
}

/* Put (ks, key) back as the undo record u says it was. */
static void undo_one(mem *m, const mem_undo *u)
{
    const unsigned char *ukey = m->ukeys.p + u->koff;
    uint64_t h = mem_hash(u->ks, ukey, u->klen);
    mem_ent *e = mem_slot(m, u->ks, ukey, u->klen, h);
    int present = e->key && e->key != &tomb_key;
    if (u->had) {
        if (!present) {
            unsigned char *k = vv_malloc(u->klen ? u->klen : 1);
            if (!k) return;             /* cannot happen in practice: the
                                         * slot's old key was just freed */
            memcpy(k, ukey, u->klen);
            if (!e->key) m->used++;
            e->key = k;
            e->klen = u->klen;
            e->ks = u->ks;
            e->hash = h;
            e->val = NULL;
            e->vlen = e->vcap = 0;
            m->live++;
        } else m->bytes -= e->vlen;
        if (ent_room(e, u->vlen)) {      /* as good as gone: drop it */
            vv_free(e->key);
            vv_free(e->val);
            e->key = &tomb_key;
            e->val = NULL;
            m->live--;
            return;
        }
        memcpy(e->val, m->ukeys.p + u->voff, u->vlen);
        e->vlen = u->vlen;
        m->bytes += u->vlen;
    } else if (present) {               /* it was absent: remove */
        m->bytes -= e->vlen;
        vv_free(e->key);
        vv_free(e->val);
        e->key = &tomb_key;
        e->val = NULL;
        m->live--;
    }
}

static void undo_clear(mem *m, int restore)
{
    while (m->nundo > 0) {
        mem_undo *u = &m->undo[--m->nundo];
        if (restore) undo_one(m, u);
    }
    m->ukeys.len = 0;
    logs_end(m, restore);
}

/* The end of a read transaction has nothing to undo or settle: puts,
 * deletes and meta records need a write transaction. */
static int mem_commit(void *h)
{
    mem *m = h;
    if (!m->txn) return VV_EBUSY;
    if (m->txn == 2) undo_clear(m, 0);
    m->txn = 0;
    return VV_OK;
}

static void mem_abort(void *h)
{
    mem *m = h;
    if (m->txn == 2) undo_clear(m, 1);
    m->txn = 0;
}

/* ---- change logs ---------------------------------------------------- */
/* The value of a change log entry (inline or on the heap). */
static const unsigned char *lent_val(const mem_lent *e)
{
    const unsigned char *p;
    if (e->vlen <= LOG_INL) return e->data;
    memcpy(&p, e->data, sizeof p);
    return p;
}

/* Free an entry's value (when not inline) and make it a hole. */
static void lent_clear(mem_lent *e)
{
    if (e->live && e->vlen > LOG_INL) vv_free((void *)lent_val(e));
    e->live = 0;
}

/* The change log of backend keyspace ks; added when add is set (NULL when
 * absent, or out of memory). */
static mem_log *log_find(mem *m, uint32_t ks, int add)
{
    size_t i;
    if (m->nlogs && m->logs[m->nlogs - 1].ks == ks)
        return &m->logs[m->nlogs - 1];
    for (i = 0; i < m->nlogs; i++)
        if (m->logs[i].ks == ks) return &m->logs[i];
    if (!add) return NULL;
    {
        mem_log *l = vv_realloc(m->logs, (m->nlogs + 1) * sizeof *l);
        if (!l) return NULL;
        m->logs = l;
        l = &m->logs[m->nlogs++];
        memset(l, 0, sizeof *l);
        l->ks = ks;
        return l;
    }
}


/* Index of the first entry with seq >= seq.  Seqs are nearly dense, so
 * interpolation finds it in a probe or two; bisection bounds the rest. */
static size_t log_lower(const mem_log *l, uint64_t seq)
{
    const mem_lent *e = l->e;
    size_t lo, hi, round = 0;
    if (l->n == 0 || e[l->n - 1].seq < seq) return l->n;   /* appends */
    if (e[0].seq >= seq) return 0;
    lo = 0;                                      /* e[lo].seq < seq */
    hi = l->n - 1;                               /* e[hi].seq >= seq */
    while (hi - lo > 1) {
        size_t mid;
        if (round++ < 4) {
            double f = (double)(seq - e[lo].seq) /
                       (double)(e[hi].seq - e[lo].seq);
            mid = lo + (size_t)(f * (double)(hi - lo));
            if (mid <= lo) mid = lo + 1;
            if (mid >= hi) mid = hi - 1;
        } else mid = lo + (hi - lo) / 2;
        if (e[mid].seq == seq) return mid;       /* seqs are unique */
        if (e[mid].seq < seq) lo = mid; else hi = mid;
    }
    return hi;
}

/* The entry with seq (a hole too), or NULL. */
static mem_lent *log_entry(mem_log *l, uint64_t seq)
{
    size_t i = log_lower(l, seq);
    return i < l->n && l->e[i].seq == seq ? &l->e[i] : NULL;
}

/* The entry of log ks under key (8 bytes), or NULL; *lp gets the log. */
static mem_lent *log_at(mem *m, uint32_t ks, const void *key, size_t klen,
                        mem_log **lp)
{
    mem_log *l = log_find(m, ks, 0);
    if (lp) *lp = l;
    if (!l || klen != 8) return NULL;
    return log_entry(l, vvi_seq_of(key));
}

/* get, put, del and scan of a change log: the backend calls for ks with
 * the VVI_LOG_KS bit.  Puts normally append (seqs grow). */
static int log_get(mem *m, uint32_t ks, const void *key, size_t klen,
                   const void **val, size_t *vlen)
{
    mem_lent *e = log_at(m, ks, key, klen, NULL);
    if (!e || !e->live) return VV_ENOTFOUND;
    *val = lent_val(e);
    *vlen = e->vlen;
    return VV_OK;
}

/* Append (seqs only grow: a put of an older seq is refused). */
static int log_put(mem *m, uint32_t ks, const void *key, size_t klen,
                   const void *val, size_t vlen)
{
    mem_log *l = log_find(m, ks, 1);
    mem_lent *e;
    uint64_t seq;
    if (!l) return VV_ENOMEM;
    if (klen != 8 || vlen > UINT16_MAX) return VV_EINVAL;
    seq = vvi_seq_of(key);
    if (l->n && l->e[l->n - 1].seq >= seq) return VV_EINVAL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        mem_lent *ee = vv_realloc(l->e, cap * sizeof *ee);
        if (!ee) return VV_ENOMEM;
        l->e = ee;
        l->cap = cap;
    }
    e = &l->e[l->n];
    if (vlen <= LOG_INL) memcpy(e->data, val, vlen);
    else {
        unsigned char *p = vv_malloc(vlen);
        if (!p) return VV_ENOMEM;
        memcpy(p, val, vlen);
        memcpy(e->data, &p, sizeof p);
    }
    e->seq = seq;
    e->vlen = (uint16_t)vlen;
    e->live = 1;
    l->n++;
    return VV_OK;
}

/* Make an entry a hole; its value stays until the transaction ends. */
static int log_del(mem *m, uint32_t ks, const void *key, size_t klen)
{
    mem_log *l;
    mem_lent *e = log_at(m, ks, key, klen, &l);
    (void)m;
    if (!e || !e->live) return VV_ENOTFOUND;
    if (l->ndel == l->capdel) {
        size_t cap = l->capdel ? l->capdel * 2 : 64;
        size_t *d = vv_realloc(l->del, cap * sizeof *d);
        if (!d) return VV_ENOMEM;
        l->del = d;
        l->capdel = cap;
    }
    l->del[l->ndel++] = (size_t)(e - l->e);
    e->live = 0;
    l->holes++;
    return VV_OK;
}

/* The transaction ends: commit (free what it deleted) or abort (revive
 * what it deleted, drop what it appended).  Then squeeze out holes where
 * they are half a log. */
static void logs_end(mem *m, int restore)
{
    size_t i, j, k;
    for (i = 0; i < m->nlogs; i++) {
        mem_log *l = &m->logs[i];
        for (j = 0; j < l->ndel; j++) {
            mem_lent *e = &l->e[l->del[j]];
            e->live = 1;                         /* it still has its value */
            if (restore && l->del[j] < l->n0) l->holes--;    /* revived */
            else lent_clear(e);                  /* a hole, value freed */
        }
        if (restore) {                           /* drop the appended */
            for (j = l->n0; j < l->n; j++) {
                if (l->e[j].live) lent_clear(&l->e[j]);
                else l->holes--;
            }
            l->n = l->n0;
        }
        l->ndel = 0;
        l->n0 = l->n;
        if (l->holes < 64 || l->holes * 2 < l->n) continue;
        for (j = k = 0; j < l->n; j++)
            if (l->e[j].live) l->e[k++] = l->e[j];
        l->n = k;
        l->holes = 0;
    }
}

static int log_scan(mem *m, uint32_t ks, const void *start, size_t slen,
                    int (*fn)(void *ud, const void *key, size_t klen,
                              const void *val, size_t vlen), void *ud)
{
    mem_log *l = log_find(m, ks, 0);
    unsigned char pad[8] = {0}, key[8];
    uint64_t seq;
    size_t i;
    int rc = 0, b;
    if (!l) return VV_OK;
    memcpy(pad, start, slen < 8 ? slen : 8);
    seq = vvi_seq_of(pad);
    if (slen > 8) {                              /* keys above the prefix */
        if (seq == UINT64_MAX) return VV_OK;
        seq++;
    }
    for (i = log_lower(l, seq); i < l->n && !rc; i++) {
        mem_lent *e = &l->e[i];
        if (!e->live) continue;
        for (b = 7, seq = e->seq; b >= 0; b--, seq >>= 8)
            key[b] = (unsigned char)seq;
        rc = fn(ud, key, 8, lent_val(e), e->vlen);
    }
    return rc;
}

static int mem_get(void *h, uint32_t ks, const void *key, size_t klen,
                   const void **val, size_t *vlen)
{
    mem *m = h;
    mem_ent *e;
    if (is_log(ks)) return log_get(m, ks, key, klen, val, vlen);
    if (!m->cap) return VV_ENOTFOUND;
    e = ent_is(m->last, ks, key, klen) ? m->last
      : mem_slot(m, ks, key, klen, mem_hash(ks, key, klen));
    if (!e->key || e->key == &tomb_key) return VV_ENOTFOUND;
    m->last = e;
    *val = e->val;
    *vlen = e->vlen;
    return VV_OK;
}

/* Record the current value of (ks, key) so an abort can restore it: a
 * copy of its bytes goes to the undo log. */
static int undo_push(mem *m, const mem_ent *e, uint32_t ks, const void *key,
                     size_t klen)
{
    mem_undo *u;
    int had = e->key && e->key != &tomb_key;
    if (m->nundo == m->capundo) {
        size_t cap = m->capundo ? m->capundo * 2 : 16;
        mem_undo *nu = vv_realloc(m->undo, cap * sizeof *nu);
        if (!nu) return VV_ENOMEM;
        m->undo = nu;
        m->capundo = cap;
    }
    u = &m->undo[m->nundo];
    u->koff = m->ukeys.len;
    vv_buf_add(&m->ukeys, key, klen);
    u->voff = m->ukeys.len;
    if (had) vv_buf_add(&m->ukeys, e->val, e->vlen);
    if (m->ukeys.oom) {
        m->ukeys.oom = 0;
        m->ukeys.len = u->koff;
        return VV_ENOMEM;
    }
    u->klen = klen;
    u->ks = ks;
    u->had = had;
    u->vlen = had ? e->vlen : 0;
    m->nundo++;
    return VV_OK;
}

static int mem_put(void *h, uint32_t ks, const void *key, size_t klen,
                   const void *val, size_t vlen)
{
    mem *m = h;
    uint64_t hh = 0;
    mem_ent *e;
    if (m->txn != 2) return VV_EBUSY;
    if (is_log(ks)) return log_put(m, ks, key, klen, val, vlen);
    if (ent_is(m->last, ks, key, klen)) e = m->last;
    else {
        hh = mem_hash(ks, key, klen);
        if ((m->used + 1) * 4 >= m->cap * 3 && mem_grow(m)) return VV_ENOMEM;
        e = mem_slot(m, ks, key, klen, hh);
    }
    if (e->key && e->key != &tomb_key) {         /* in place */
        if (undo_push(m, e, ks, key, klen)) return VV_ENOMEM;
        if (ent_room(e, vlen)) { m->nundo--; return VV_ENOMEM; }
        m->bytes -= e->vlen;
    } else {
        unsigned char *k = vv_malloc(klen ? klen : 1);
        unsigned char *v = vv_malloc(vlen ? vlen : 1);
        if (!k || !v || undo_push(m, e, ks, key, klen)) {
            vv_free(k);
            vv_free(v);
            return VV_ENOMEM;
        }
        memcpy(k, key, klen);
        if (!e->key) m->used++;
        e->key = k;
        e->klen = klen;
        e->ks = ks;
        e->hash = hh;
        e->val = v;
        e->vcap = vlen ? vlen : 1;
        m->live++;
    }
    m->last = e;
    if (vlen) memcpy(e->val, val, vlen);
    e->vlen = vlen;
    m->bytes += vlen;
    return VV_OK;
}

static int mem_del(void *h, uint32_t ks, const void *key, size_t klen)
{
    mem *m = h;
    mem_ent *e;
    if (m->txn != 2) return VV_EBUSY;
    if (is_log(ks)) return log_del(m, ks, key, klen);
    if (!m->cap) return VV_ENOTFOUND;
    e = mem_slot(m, ks, key, klen, mem_hash(ks, key, klen));
    if (!e->key || e->key == &tomb_key) return VV_ENOTFOUND;
    if (undo_push(m, e, ks, key, klen)) return VV_ENOMEM;
    m->bytes -= e->vlen;
    vv_free(e->val);
    vv_free(e->key);
    e->key = &tomb_key;
    e->val = NULL;
    e->vlen = e->vcap = 0;
    m->live--;
    return VV_OK;
}

static int ent_cmp(const void *x, const void *y)
{
    const mem_ent *a = *(mem_ent *const *)x, *b = *(mem_ent *const *)y;
    return vvi_node_cmp((const char *)a->key, a->klen, (const char *)b->key, b->klen);
}

/* Keys of ks from the first >= start (bytewise) onwards, in order. */
static int mem_scan_from(void *h, uint32_t ks, const void *start, size_t slen,
                         int (*fn)(void *ud, const void *key, size_t klen,
                                   const void *val, size_t vlen), void *ud)
{
    mem *m = h;
    mem_ent **list;
    size_t i, n = 0;
    int rc = 0;
    if (is_log(ks)) return log_scan(m, ks, start, slen, fn, ud);
    if (!m->live) return VV_OK;
    list = vv_malloc(m->live * sizeof *list);
    if (!list) return VV_ENOMEM;
    for (i = 0; i < m->cap; i++) {
        mem_ent *e = &m->t[i];
        if (e->key && e->key != &tomb_key && e->ks == ks &&
            (!slen || vvi_node_cmp((const char *)e->key, e->klen, start,
                                   slen) >= 0))
            list[n++] = e;
    }
    qsort(list, n, sizeof *list, ent_cmp);
    for (i = 0; i < n && !rc; i++)
        rc = fn(ud, list[i]->key, list[i]->klen, list[i]->val, list[i]->vlen);
    vv_free(list);
    return rc;
}

static int mem_scan(void *h, uint32_t ks,
                    int (*fn)(void *ud, const void *key, size_t klen,
                              const void *val, size_t vlen), void *ud)
{
    return mem_scan_from(h, ks, "", 0, fn, ud);
}

static int mem_meta_get(void *h, const char *name, const void **val, size_t *vlen)
{
    return mem_get(h, META_KS, name, strlen(name), val, vlen);
}

static int mem_meta_put(void *h, const char *name, const void *val, size_t vlen)
{
    return mem_put(h, META_KS, name, strlen(name), val, vlen);
}

static int mem_bytes(void *h, uint64_t *out)
{
    *out = ((mem *)h)->bytes;
    return VV_OK;
}

static const char *mem_errmsg(void *h)
{
    (void)h;
    return "out of memory";
}

static void mem_close(void *h)
{
    mem *m = h;
    size_t i;
    if (!m) return;
    if (m->txn) mem_abort(m);
    for (i = 0; i < m->cap; i++)
        if (m->t[i].key && m->t[i].key != &tomb_key) {
            vv_free(m->t[i].key);
            vv_free(m->t[i].val);
        }
    vv_free(m->t);
    vv_free(m->undo);
    vv_buf_free(&m->ukeys);
    for (i = 0; i < m->nlogs; i++) {
        size_t j;
        for (j = 0; j < m->logs[i].n; j++) lent_clear(&m->logs[i].e[j]);
        vv_free(m->logs[i].e);
        vv_free(m->logs[i].del);
    }
    vv_free(m->logs);
    vv_free(m);
}

static const vvi_backend mem_ops = {
    "memory", mem_begin, mem_commit, mem_abort, mem_get, mem_put, mem_del,
    mem_scan, mem_meta_get, mem_meta_put, mem_bytes, mem_errmsg, mem_close,
    mem_scan_from
};

int vvi_mem_open(void **h, const vvi_backend **ops)
{
    mem *m = vv_malloc(sizeof *m);
    *h = NULL;
    if (!m) return VV_ENOMEM;
    memset(m, 0, sizeof *m);
    *h = m;
    *ops = &mem_ops;
    return VV_OK;
}
