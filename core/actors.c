/* actors.c - the actor table: actor names numbered per store. */
#include <string.h>
#include "db_int.h"

/* Hash of a name from its entry key (the first 24 bytes as three words,
 * and the length), so that a clock's entries, which carry that key,
 * find their actor without reading the name byte by byte. */
static uint64_t ent_hash(const vv_centry *e)
{
    uint64_t h = vvi_cent_word(e, 0) ^ (vvi_cent_word(e, 1) << 21 |
                                        vvi_cent_word(e, 1) >> 43)
               ^ (vvi_cent_word(e, 2) << 42 | vvi_cent_word(e, 2) >> 22)
               ^ (uint64_t)e->len * 0xff51afd7ed558ccdull;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 32);
}

static int actors_rehash(vvi_actors *t, size_t nslots)
{
    uint32_t *s = vv_malloc(nslots * sizeof *s), i;
    if (!s) return VV_ENOMEM;
    memset(s, 0, nslots * sizeof *s);
    for (i = 0; i < t->na; i++) {
        size_t j = (size_t)ent_hash(&t->ce[i]) & (nslots - 1);
        while (s[j]) j = (j + 1) & (nslots - 1);
        s[j] = i + 1;
    }
    vv_free(t->slots);
    t->slots = s;
    t->nslots = nslots;
    return VV_OK;
}

size_t vvi_node_len(const char *name, size_t len)
{
    size_t k = len;
    while (k > 0 && name[k - 1] != '.') k--;
    return k > 0 ? k - 1 : len;
}

long vvi_actor_find_ent(const vvi_actors *t, const vv_centry *e)
{
    size_t j;
    if (!t->nslots) return -1;
    j = (size_t)ent_hash(e) & (t->nslots - 1);
    while (t->slots[j]) {
        uint32_t a = t->slots[j] - 1;
        if (vvi_cent_eq(&t->ce[a], e)) return a;
        j = (j + 1) & (t->nslots - 1);
    }
    return -1;
}

long vvi_actor_find(const vvi_actors *t, const char *name, size_t len)
{
    vv_centry e;
    vvi_cent_key(&e, name, len);
    e.heap = (char *)name;                   /* read only, for the tail */
    return vvi_actor_find_ent(t, &e);
}

int vvi_actor_intern(vvi_actors *t, const char *name, size_t len,
                     uint32_t *out)
{
    long a = vvi_actor_find(t, name, len);
    char *copy;
    if (a >= 0) { *out = (uint32_t)a; return VV_OK; }
    if (len < 1 || len > VV_NODE_MAX) return VV_EINVAL;
    if (t->na == UINT32_MAX - 1) return VV_EOVERFLOW;
    if (t->na == t->capa) {
        uint32_t cap = t->capa ? t->capa * 2 : 16;
        char **an = vv_realloc(t->an, cap * sizeof *an);
        uint8_t *al, *nl;
        vv_centry *ce;
        if (!an) return VV_ENOMEM;
        t->an = an;
        al = vv_realloc(t->al, cap * sizeof *al);
        if (!al) return VV_ENOMEM;
        t->al = al;
        nl = vv_realloc(t->nl, cap * sizeof *nl);
        if (!nl) return VV_ENOMEM;
        t->nl = nl;
        ce = vv_realloc(t->ce, cap * sizeof *ce);
        if (!ce) return VV_ENOMEM;
        t->ce = ce;
        t->capa = cap;
    }
    if ((t->na + 1) * 2 > t->nslots &&
        actors_rehash(t, t->nslots ? t->nslots * 2 : 32))
        return VV_ENOMEM;
    if (!(copy = vv_malloc(len))) return VV_ENOMEM;
    memcpy(copy, name, len);
    t->an[t->na] = copy;
    t->al[t->na] = (uint8_t)len;
    t->nl[t->na] = (uint8_t)vvi_node_len(name, len);
    vvi_cent_key(&t->ce[t->na], name, len);
    t->ce[t->na].hint = t->na;      /* copied into clocks (vvi_ctx_map) */
    t->ce[t->na].heap = copy;
    t->ce[t->na].n = 0;
    {
        size_t j = (size_t)ent_hash(&t->ce[t->na]) & (t->nslots - 1);
        while (t->slots[j]) j = (j + 1) & (t->nslots - 1);
        t->slots[j] = t->na + 1;
    }
    *out = t->na++;
    return VV_OK;
}

int vvi_actor_intern_ent(vvi_actors *t, const vv_centry *e, uint32_t *out)
{
    long a = vvi_actor_find_ent(t, e);
    if (a >= 0) { *out = (uint32_t)a; return VV_OK; }
    return vvi_actor_intern(t, vvi_cname(e), e->len, out);
}

void vvi_actors_truncate(vvi_actors *t, uint32_t n)
{
    if (t->na <= n) return;
    while (t->na > n) vv_free(t->an[--t->na]);
    actors_rehash(t, t->nslots ? t->nslots : 32);
}

void vvi_actors_free(vvi_actors *t)
{
    while (t->na > 0) vv_free(t->an[--t->na]);
    vv_free(t->an);
    vv_free(t->al);
    vv_free(t->nl);
    vv_free(t->ce);
    vv_free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- meta records (durable stores) ------------------------------------- */
/* "actors": varint count, count x (varint len, bytes). */
int vvi_actors_load(vv_db *db)
{
    const void *p;
    size_t n;
    vvi_rd r;
    uint64_t cnt, i;
    int rc = db->be->meta_get(db->h, "actors", &p, &n);
    if (rc == VV_ENOTFOUND) return VV_OK;
    if (rc) return rc;
    vvi_rd_init(&r, p, n);
    cnt = vvi_rd_varint(&r);
    if (r.err) return VV_ECORRUPT;
    if (cnt == db->na_stored && db->act.na == db->na_stored) return VV_OK;
    vvi_actors_truncate(&db->act, db->na_stored);
    for (i = 0; i < cnt; i++) {
        uint64_t len = vvi_rd_varint(&r);
        const unsigned char *s;
        uint32_t a;
        if (r.err || len < 1 || len > VV_NODE_MAX) return VV_ECORRUPT;
        s = vvi_rd_bytes(&r, (size_t)len);
        if (!s) return VV_ECORRUPT;
        if (i < db->act.na) continue;          /* known already */
        if ((rc = vvi_actor_intern(&db->act, (const char *)s, (size_t)len, &a))) return rc;
        if (a != i) return VV_ECORRUPT;     /* duplicate name on disk */
    }
    db->na_stored = db->act.na;
    return VV_OK;
}

int vvi_actors_save(vv_db *db)
{
    vv_buf b;
    uint32_t i;
    int rc;
    if (db->act.na == db->na_stored) return VV_OK;
    vv_buf_init(&b);
    vvi_buf_varint(&b, db->act.na);
    for (i = 0; i < db->act.na; i++) {
        vvi_buf_varint(&b, db->act.al[i]);
        vv_buf_add(&b, db->act.an[i], db->act.al[i]);
    }
    rc = b.oom ? VV_ENOMEM : db->be->meta_put(db->h, "actors", b.p, b.len);
    vv_buf_free(&b);
    return rc;
}

/* ---- hooks for keyspace sync (vv_int.h) ------------------------------- */
int vvi_actor_num(vv_db *db, const char *name, size_t len, int add,
                  uint32_t *a)
{
    long n;
    if (add) return vvi_actor_intern(&db->act, name, len, a);
    if ((n = vvi_actor_find(&db->act, name, len)) < 0) return VV_ENOTFOUND;
    *a = (uint32_t)n;
    return VV_OK;
}

const char *vvi_actor_name(const vv_db *db, uint32_t a, size_t *len)
{
    if (a >= db->act.na) return NULL;
    if (len) *len = db->act.al[a];
    return db->act.an[a];
}

