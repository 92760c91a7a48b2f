/* mem.c - the in-memory storage backend: a hash table with an undo log. */
#include <stdlib.h>
#include <string.h>
#include "vv_int.h"

#define META_KS UINT32_MAX   /* meta records live in their own keyspace */

typedef struct mem_ent {
    uint64_t hash;
    uint32_t ks;
    unsigned char *key;      /* NULL: empty slot; key == tomb: deleted slot */
    size_t klen;
    unsigned char *val;      /* owned */
    size_t vlen;
} mem_ent;

/* One undo record: the value a key had before the transaction wrote it. */
typedef struct mem_undo {
    uint32_t ks;
    size_t koff, klen;       /* the key's bytes in mem.ukeys */
    unsigned char *val;      /* owned old value; NULL: the key was absent */
    size_t vlen;
} mem_undo;

typedef struct mem {
    mem_ent *t;
    size_t cap, used, live;  /* used counts deleted slots too */
    int txn;                 /* 0 none, 1 read, 2 write */
    mem_undo *undo;
    size_t nundo, capundo;
    vvi_buf ukeys;           /* keys of the undo records, reused */
    uint64_t bytes;
} mem;

static unsigned char tomb_key;   /* address marks a deleted slot */

static uint64_t mem_hash(uint32_t ks, const void *key, size_t klen)
{
    return vvi_hash64(key, klen, ks);
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
    t = vvi_malloc(cap * sizeof *t);
    if (!t) return VV_ENOMEM;
    memset(t, 0, cap * sizeof *t);
    m->t = t;
    m->cap = cap;
    m->used = 0;
    for (i = 0; i < oldcap; i++) {
        mem_ent *e = &old[i], *d;
        if (!e->key || e->key == &tomb_key) continue;
        d = mem_slot(m, e->ks, e->key, e->klen, e->hash);
        *d = *e;
        m->used++;
    }
    vvi_free(old);
    return VV_OK;
}

static int mem_begin(void *h, int write)
{
    mem *m = h;
    if (m->txn) return VV_EBUSY;
    m->txn = write ? 2 : 1;
    return VV_OK;
}

static void undo_clear(mem *m, int restore)
{
    while (m->nundo > 0) {
        mem_undo *u = &m->undo[--m->nundo];
        const unsigned char *ukey = m->ukeys.p + u->koff;
        if (restore) {
            uint64_t h = mem_hash(u->ks, ukey, u->klen);
            mem_ent *e = mem_slot(m, u->ks, ukey, u->klen, h);
            int present = e->key && e->key != &tomb_key;
            if (present) {
                m->bytes -= e->vlen;
                vvi_free(e->val);
            }
            if (u->val) {                /* put the old value back */
                if (!present) {
                    unsigned char *k = vvi_malloc(u->klen ? u->klen : 1);
                    if (!k) {            /* cannot happen in practice: the
                                          * slot's old key was just freed */
                        vvi_free(u->val);
                        u->val = NULL;
                        continue;
                    }
                    memcpy(k, ukey, u->klen);
                    if (!e->key) m->used++;
                    e->key = k;
                    e->klen = u->klen;
                    e->ks = u->ks;
                    e->hash = h;
                    m->live++;
                }
                e->val = u->val;
                e->vlen = u->vlen;
                m->bytes += u->vlen;
                u->val = NULL;
            } else if (present) {        /* it was absent: remove */
                vvi_free(e->key);
                e->key = &tomb_key;
                m->live--;
            }
        }
        vvi_free(u->val);
    }
    m->ukeys.len = 0;
}

static int mem_commit(void *h)
{
    mem *m = h;
    if (!m->txn) return VV_EBUSY;
    undo_clear(m, 0);
    m->txn = 0;
    return VV_OK;
}

static void mem_abort(void *h)
{
    mem *m = h;
    undo_clear(m, 1);
    m->txn = 0;
}

static int mem_get(void *h, uint32_t ks, const void *key, size_t klen,
                   const void **val, size_t *vlen)
{
    mem *m = h;
    mem_ent *e;
    if (!m->cap) return VV_ENOTFOUND;
    e = mem_slot(m, ks, key, klen, mem_hash(ks, key, klen));
    if (!e->key || e->key == &tomb_key) return VV_ENOTFOUND;
    *val = e->val;
    *vlen = e->vlen;
    return VV_OK;
}

/* Record the current value of (ks, key) so an abort can restore it.  The
 * old buffer moves into the log (no copy); the caller replaces it. */
static int undo_push(mem *m, mem_ent *e, uint32_t ks, const void *key,
                     size_t klen)
{
    mem_undo *u;
    if (m->nundo == m->capundo) {
        size_t cap = m->capundo ? m->capundo * 2 : 16;
        mem_undo *nu = vvi_realloc(m->undo, cap * sizeof *nu);
        if (!nu) return VV_ENOMEM;
        m->undo = nu;
        m->capundo = cap;
    }
    u = &m->undo[m->nundo];
    u->koff = m->ukeys.len;
    vvi_buf_add(&m->ukeys, key, klen);
    if (m->ukeys.oom) { m->ukeys.oom = 0; return VV_ENOMEM; }
    u->klen = klen;
    u->ks = ks;
    u->val = NULL;
    u->vlen = 0;
    if (e->key && e->key != &tomb_key) {
        u->val = e->val;              /* moved: the entry gets a new one */
        u->vlen = e->vlen;
        e->val = NULL;
    }
    m->nundo++;
    return VV_OK;
}

static int mem_put(void *h, uint32_t ks, const void *key, size_t klen,
                   const void *val, size_t vlen)
{
    mem *m = h;
    uint64_t hh = mem_hash(ks, key, klen);
    mem_ent *e;
    unsigned char *v, *k = NULL;
    int present;
    if (m->txn != 2) return VV_EBUSY;
    if ((m->used + 1) * 4 >= m->cap * 3 && mem_grow(m)) return VV_ENOMEM;
    e = mem_slot(m, ks, key, klen, hh);
    present = e->key && e->key != &tomb_key;
    v = vvi_malloc(vlen);
    if (!v) return VV_ENOMEM;
    memcpy(v, val, vlen);
    if (!present && !(k = vvi_malloc(klen ? klen : 1))) { vvi_free(v); return VV_ENOMEM; }
    if (undo_push(m, e, ks, key, klen)) { vvi_free(v); vvi_free(k); return VV_ENOMEM; }
    if (present) {
        m->bytes -= e->vlen;
        vvi_free(e->val);             /* NULL when it moved to the log */
    } else {
        memcpy(k, key, klen);
        if (!e->key) m->used++;
        e->key = k;
        e->klen = klen;
        e->ks = ks;
        e->hash = hh;
        m->live++;
    }
    e->val = v;
    e->vlen = vlen;
    m->bytes += vlen;
    return VV_OK;
}

static int mem_del(void *h, uint32_t ks, const void *key, size_t klen)
{
    mem *m = h;
    mem_ent *e;
    if (m->txn != 2) return VV_EBUSY;
    if (!m->cap) return VV_ENOTFOUND;
    e = mem_slot(m, ks, key, klen, mem_hash(ks, key, klen));
    if (!e->key || e->key == &tomb_key) return VV_ENOTFOUND;
    if (undo_push(m, e, ks, key, klen)) return VV_ENOMEM;
    m->bytes -= e->vlen;
    vvi_free(e->val);
    vvi_free(e->key);
    e->key = &tomb_key;
    e->val = NULL;
    m->live--;
    return VV_OK;
}

static int ent_cmp(const void *x, const void *y)
{
    const mem_ent *a = *(mem_ent *const *)x, *b = *(mem_ent *const *)y;
    return vvi_node_cmp((const char *)a->key, a->klen, (const char *)b->key, b->klen);
}

static int mem_scan(void *h, uint32_t ks,
                    int (*fn)(void *ud, const void *key, size_t klen,
                              const void *val, size_t vlen), void *ud)
{
    mem *m = h;
    mem_ent **list;
    size_t i, n = 0;
    int rc = 0;
    if (!m->live) return VV_OK;
    list = vvi_malloc(m->live * sizeof *list);
    if (!list) return VV_ENOMEM;
    for (i = 0; i < m->cap; i++) {
        mem_ent *e = &m->t[i];
        if (e->key && e->key != &tomb_key && e->ks == ks) list[n++] = e;
    }
    qsort(list, n, sizeof *list, ent_cmp);
    for (i = 0; i < n && !rc; i++)
        rc = fn(ud, list[i]->key, list[i]->klen, list[i]->val, list[i]->vlen);
    vvi_free(list);
    return rc;
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
            vvi_free(m->t[i].key);
            vvi_free(m->t[i].val);
        }
    vvi_free(m->t);
    vvi_free(m->undo);
    vvi_buf_free(&m->ukeys);
    vvi_free(m);
}

static const vvi_backend mem_ops = {
    "memory", mem_begin, mem_commit, mem_abort, mem_get, mem_put, mem_del,
    mem_scan, mem_meta_get, mem_meta_put, mem_bytes, mem_errmsg, mem_close
};

int vvi_mem_open(void **h, const vvi_backend **ops)
{
    mem *m = vvi_malloc(sizeof *m);
    *h = NULL;
    if (!m) return VV_ENOMEM;
    memset(m, 0, sizeof *m);
    *h = m;
    *ops = &mem_ops;
    return VV_OK;
}
