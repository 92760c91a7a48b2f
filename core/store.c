/* store.c - stores: node identity, actors, keyspaces, reads, writes, sync of one key. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include "vv_int.h"

#define STORE_FORMAT   1          /* meta "format": layout of meta records */
#define EXPORT_MAGIC   "VVS"      /* exported key state */
#define EXPORT_FORMAT  1
#define KS_MAX         255
#define NODE_MAX       240        /* leaves room for ".<incarnation>" */
#define TS_AHEAD_MAX   (5 * 60 * 1000) /* adopt remote clocks this far ahead */

typedef struct kspace {
    struct kspace *next;
    char *name;
    uint32_t id;
    vv_ks_config cfg;            /* strings below are owned copies */
    char *load_error;            /* script that failed to re-attach */
    uint64_t warnings;
    int fresh;                   /* lmdb: created in the open write txn */
    uint64_t seq;                /* change log: last seq given out */
    uint64_t seq_txn;            /* lmdb: txn_no when seq was read */
    int seq_dirty;               /* lmdb: seq to record at commit */
} kspace;

struct vv_db {
    char *node, *actor;
    size_t node_len, actor_len;
    uint32_t self;               /* our actor's number */
    uint64_t counter;            /* last dot counter given out */
    uint64_t last_ts;            /* hybrid clock: never goes backwards */
    vv_now_fn now;
    void *now_ud;
    void *h;
    const vvi_backend *be;
    int durable, read_only, batch, txn;
    uint64_t txn_no;             /* transactions begun (change log) */
    /* actor table: number -> name, and a hash from name to number */
    char **an;
    uint8_t *al;
    uint32_t na, capa, na_stored;
    uint32_t *slots;             /* number + 1; 0 is empty */
    size_t nslots;
    kspace *ks, *ks_last;
    uint32_t next_ks;
    char err[512];
};

int vvi_fail(vv_db *db, int rc, const char *fmt, ...)
{
    va_list ap;
    if (!db) return rc;
    va_start(ap, fmt);
    vsnprintf(db->err, sizeof db->err, fmt, ap);
    va_end(ap);
    return rc;
}

const char *vv_errmsg(const vv_db *db) { return db ? db->err : "no store"; }
const char *vv_db_node(const vv_db *db) { return db ? db->node : NULL; }
const char *vv_db_actor(const vv_db *db) { return db ? db->actor : NULL; }

static uint64_t system_now(void *ud)
{
    struct timespec t;
    (void)ud;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* ---- actor table ------------------------------------------------------ */
/* FNV-1a: actor names are short, so a simple byte loop beats XXH64. */
static uint64_t name_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    while (n--) h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static int actors_rehash(vv_db *db, size_t nslots)
{
    uint32_t *s = vvi_malloc(nslots * sizeof *s), i;
    if (!s) return VV_ENOMEM;
    memset(s, 0, nslots * sizeof *s);
    for (i = 0; i < db->na; i++) {
        size_t j = (size_t)name_hash(db->an[i], db->al[i]) & (nslots - 1);
        while (s[j]) j = (j + 1) & (nslots - 1);
        s[j] = i + 1;
    }
    vvi_free(db->slots);
    db->slots = s;
    db->nslots = nslots;
    return VV_OK;
}

/* Number of actor name, or -1. */
static long actor_find(const vv_db *db, const char *name, size_t len)
{
    size_t j;
    if (!db->nslots) return -1;
    j = (size_t)name_hash(name, len) & (db->nslots - 1);
    while (db->slots[j]) {
        uint32_t a = db->slots[j] - 1;
        if (db->al[a] == len && memcmp(db->an[a], name, len) == 0) return a;
        j = (j + 1) & (db->nslots - 1);
    }
    return -1;
}

/* Number of actor name, adding it when new. */
static int actor_intern(vv_db *db, const char *name, size_t len, uint32_t *out)
{
    long a = actor_find(db, name, len);
    char *copy;
    if (a >= 0) { *out = (uint32_t)a; return VV_OK; }
    if (len < 1 || len > VV_NODE_MAX) return VV_EINVAL;
    if (db->na == UINT32_MAX - 1) return VV_EOVERFLOW;
    if (db->na == db->capa) {
        uint32_t cap = db->capa ? db->capa * 2 : 16;
        char **an = vvi_realloc(db->an, cap * sizeof *an);
        uint8_t *al;
        if (!an) return VV_ENOMEM;
        db->an = an;
        al = vvi_realloc(db->al, cap * sizeof *al);
        if (!al) return VV_ENOMEM;
        db->al = al;
        db->capa = cap;
    }
    if ((db->na + 1) * 2 > db->nslots &&
        actors_rehash(db, db->nslots ? db->nslots * 2 : 32))
        return VV_ENOMEM;
    if (!(copy = vvi_malloc(len))) return VV_ENOMEM;
    memcpy(copy, name, len);
    db->an[db->na] = copy;
    db->al[db->na] = (uint8_t)len;
    {
        size_t j = (size_t)name_hash(name, len) & (db->nslots - 1);
        while (db->slots[j]) j = (j + 1) & (db->nslots - 1);
        db->slots[j] = db->na + 1;
    }
    *out = db->na++;
    return VV_OK;
}

/* Forget actors numbered n and above (they were never committed). */
static void actors_truncate(vv_db *db, uint32_t n)
{
    if (db->na <= n) return;
    while (db->na > n) vvi_free(db->an[--db->na]);
    actors_rehash(db, db->nslots ? db->nslots : 32);
}

static int actor_cmp(const vv_db *db, uint32_t a, uint32_t b)
{
    return vvi_node_cmp(db->an[a], db->al[a], db->an[b], db->al[b]);
}

/* ---- meta records (durable stores) ------------------------------------- */
/* "actors": varint count, count x (varint len, bytes). */
static int actors_load(vv_db *db)
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
    if (cnt == db->na_stored && db->na == db->na_stored) return VV_OK;
    actors_truncate(db, db->na_stored);
    for (i = 0; i < cnt; i++) {
        uint64_t len = vvi_rd_varint(&r);
        const unsigned char *s;
        uint32_t a;
        if (r.err || len < 1 || len > VV_NODE_MAX) return VV_ECORRUPT;
        s = vvi_rd_bytes(&r, (size_t)len);
        if (!s) return VV_ECORRUPT;
        if (i < db->na) continue;          /* known already */
        if ((rc = actor_intern(db, (const char *)s, (size_t)len, &a))) return rc;
        if (a != i) return VV_ECORRUPT;     /* duplicate name on disk */
    }
    db->na_stored = db->na;
    return VV_OK;
}

static int actors_save(vv_db *db)
{
    vvi_buf b;
    uint32_t i;
    int rc;
    if (db->na == db->na_stored) return VV_OK;
    vvi_buf_init(&b);
    vvi_buf_varint(&b, db->na);
    for (i = 0; i < db->na; i++) {
        vvi_buf_varint(&b, db->al[i]);
        vvi_buf_add(&b, db->an[i], db->al[i]);
    }
    rc = b.oom ? VV_ENOMEM : db->be->meta_put(db->h, "actors", b.p, b.len);
    vvi_buf_free(&b);
    return rc;
}

/* "node": varint len, node, varint len, actor, varint counter, varint ts. */
static int node_save(vv_db *db)
{
    vvi_buf b;
    int rc;
    vvi_buf_init(&b);
    vvi_buf_varint(&b, db->node_len);
    vvi_buf_add(&b, db->node, db->node_len);
    vvi_buf_varint(&b, db->actor_len);
    vvi_buf_add(&b, db->actor, db->actor_len);
    vvi_buf_varint(&b, db->counter);
    vvi_buf_varint(&b, db->last_ts);
    rc = b.oom ? VV_ENOMEM : db->be->meta_put(db->h, "node", b.p, b.len);
    vvi_buf_free(&b);
    return rc;
}

/* Read the node record: counters only move forward (another process may
 * have written since).  With load_names, also take node and actor. */
static int node_load(vv_db *db, int load_names)
{
    const void *p;
    size_t n;
    vvi_rd r;
    uint64_t nl, al, cnt, ts;
    const unsigned char *node, *actor;
    int rc = db->be->meta_get(db->h, "node", &p, &n);
    if (rc) return rc;
    vvi_rd_init(&r, p, n);
    nl = vvi_rd_varint(&r);
    node = vvi_rd_bytes(&r, (size_t)nl);
    al = vvi_rd_varint(&r);
    actor = vvi_rd_bytes(&r, (size_t)al);
    cnt = vvi_rd_varint(&r);
    ts = vvi_rd_varint(&r);
    if (r.err || al <= nl || al > VV_NODE_MAX) return VV_ECORRUPT;
    if (load_names && !db->node) {               /* adopt the recorded node */
        if (nl < 1 || nl > NODE_MAX) return VV_ECORRUPT;
        if (!(db->node = vvi_strndup((const char *)node, (size_t)nl)))
            return VV_ENOMEM;
        db->node_len = (size_t)nl;
    }
    if (load_names) {
        if (nl != db->node_len || memcmp(node, db->node, nl) != 0)
            return vvi_fail(db, VV_EINVAL,
                            "this store belongs to node '%.*s', not '%s'",
                            (int)nl, (const char *)node, db->node);
        if (!(db->actor = vvi_strndup((const char *)actor, (size_t)al)))
            return VV_ENOMEM;
        db->actor_len = (size_t)al;
    }
    if (cnt > db->counter) db->counter = cnt;
    if (ts > db->last_ts) db->last_ts = ts;
    return VV_OK;
}

/* ---- transactions ------------------------------------------------------- */
static void ks_settle(vv_db *db, int keep);
static int seqs_save(vv_db *db);

/* Start a read or write transaction unless a batch holds one open. */
static int txn_begin(vv_db *db, int write)
{
    int rc;
    if (db->batch) return VV_OK;
    if (write && db->read_only)
        return vvi_fail(db, VV_EREADONLY, "store is open read-only");
    if ((rc = db->be->begin(db->h, write)))
        return vvi_fail(db, rc, "%s: cannot begin: %s", db->be->name,
                        db->be->errmsg(db->h));
    db->txn = write ? 2 : 1;
    db->txn_no++;
    if (db->durable) {
        /* another process may have moved the counters or added actors */
        if (write && (rc = node_load(db, 0)) && rc != VV_ENOTFOUND) goto fail;
        if ((rc = actors_load(db))) goto fail;
    }
    return VV_OK;
fail:
    db->be->abort(db->h);
    db->txn = 0;
    return vvi_fail(db, rc, "store metadata unreadable: %s", vv_strerror(rc));
}

/* Finish what txn_begin started: commit when rc is VV_OK, else abort. */
static int txn_end(vv_db *db, int rc)
{
    if (db->batch) {
        if (rc && rc != VV_ENOTFOUND && db->txn == 2) {
            /* a failed write inside a batch: the batch is abandoned */
            db->be->abort(db->h);
            actors_truncate(db, db->na_stored);
            ks_settle(db, 0);
            db->batch = 0;
            db->txn = 0;
        }
        return rc;
    }
    if (!db->txn) return rc;
    if (db->txn == 2 && rc == VV_OK) {
        if (db->durable && ((rc = actors_save(db)) || (rc = node_save(db)) ||
                            (rc = seqs_save(db)))) {
            db->be->abort(db->h);
            actors_truncate(db, db->na_stored);
            ks_settle(db, 0);
            db->txn = 0;
            return vvi_fail(db, rc, "%s: %s", db->be->name, db->be->errmsg(db->h));
        }
        rc = db->be->commit(db->h);
        if (rc) {
            actors_truncate(db, db->na_stored);
            vvi_fail(db, rc, "%s: commit failed: %s", db->be->name,
                     db->be->errmsg(db->h));
        } else db->na_stored = db->na;
        ks_settle(db, rc == VV_OK);
    } else {
        db->be->abort(db->h);
        if (db->txn == 2) {
            actors_truncate(db, db->na_stored);
            ks_settle(db, 0);
        }
    }
    db->txn = 0;
    return rc;
}

int vv_begin(vv_db *db)
{
    int rc;
    if (!db) return VV_EINVAL;
    if (db->batch) return vvi_fail(db, VV_EBUSY, "a batch is already open");
    if ((rc = txn_begin(db, 1))) return rc;
    db->batch = 1;
    return VV_OK;
}

int vv_commit(vv_db *db)
{
    if (!db) return VV_EINVAL;
    if (!db->batch) return vvi_fail(db, VV_EBUSY, "no batch is open");
    db->batch = 0;
    return txn_end(db, VV_OK);
}

int vv_abort(vv_db *db)
{
    if (!db) return VV_EINVAL;
    if (!db->batch) return vvi_fail(db, VV_EBUSY, "no batch is open");
    db->batch = 0;
    txn_end(db, VV_EINVAL);                      /* anything but OK aborts */
    return VV_OK;
}

/* ---- keyspaces ------------------------------------------------------------ */
static void cfg_free(vv_ks_config *c)
{
    if (c->resolve_free && c->resolve_ud) c->resolve_free(c->resolve_ud);
    vvi_free((char *)c->resolver_name);
    vvi_free((char *)c->codec);
    vvi_free((char *)c->script);
    memset(c, 0, sizeof *c);
}

static char *dup_or_null(const char *s)
{
    return s ? vvi_strndup(s, strlen(s)) : NULL;
}

static void put_str(vvi_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    vvi_buf_varint(b, n);
    vvi_buf_add(b, s, n);
}

static char *get_str(vvi_rd *r)
{
    uint64_t n = vvi_rd_varint(r);
    const unsigned char *p = vvi_rd_bytes(r, (size_t)n);
    if (!p || n == 0) return NULL;
    return vvi_strndup((const char *)p, (size_t)n);
}

/* "ks:<name>": varint id, byte resolver, str name, str codec, str script,
 * varint warn, varint max, byte writeback, varint instr, varint memory,
 * varint history (added later: a record without it means 0). */
static void cfg_encode(vvi_buf *b, uint32_t id, const vv_ks_config *c)
{
    int kind = c->resolver == VV_RESOLVE_CUSTOM && !c->script
             ? VV_RESOLVE_SIBLINGS : c->resolver;
    vvi_buf_varint(b, id);
    vvi_buf_byte(b, (unsigned)kind);
    put_str(b, c->resolver_name);
    put_str(b, c->codec);
    put_str(b, c->script);
    vvi_buf_varint(b, c->warn_siblings);
    vvi_buf_varint(b, c->max_siblings);
    vvi_buf_byte(b, c->writeback ? 1 : 0);
    vvi_buf_varint(b, c->budget_instructions);
    vvi_buf_varint(b, c->budget_memory);
    vvi_buf_varint(b, c->history);
}

static int cfg_decode(const void *p, size_t n, uint32_t *id, vv_ks_config *c)
{
    vvi_rd r;
    uint64_t v;
    memset(c, 0, sizeof *c);
    vvi_rd_init(&r, p, n);
    v = vvi_rd_varint(&r);
    *id = (uint32_t)v;
    c->resolver = (int)vvi_rd_byte(&r);
    c->resolver_name = get_str(&r);
    c->codec = get_str(&r);
    c->script = get_str(&r);
    c->warn_siblings = (uint32_t)vvi_rd_varint(&r);
    c->max_siblings = (uint32_t)vvi_rd_varint(&r);
    c->writeback = (int)vvi_rd_byte(&r);
    c->budget_instructions = vvi_rd_varint(&r);
    c->budget_memory = vvi_rd_varint(&r);
    if (!r.err && r.p < r.end) {                 /* newer records only */
        uint64_t h = vvi_rd_varint(&r);
        c->history = h > VV_HISTORY_MAX ? VV_HISTORY_MAX : (uint32_t)h;
    }
    if (r.err || v > UINT32_MAX || c->resolver > VV_RESOLVE_CUSTOM) {
        cfg_free(c);
        return VV_ECORRUPT;
    }
    if (c->resolver == VV_RESOLVE_CUSTOM) c->resolver = VV_RESOLVE_SIBLINGS;
    return VV_OK;
}

static kspace *ks_find(vv_db *db, const char *name)
{
    kspace *k;
    if (db->ks_last && strcmp(db->ks_last->name, name) == 0) return db->ks_last;
    for (k = db->ks; k; k = k->next)
        if (strcmp(k->name, name) == 0) return db->ks_last = k;
    return NULL;
}

static int ks_name_ok(vv_db *db, const char *name)
{
    size_t n;
    if (!name) return vvi_fail(db, VV_EINVAL, "keyspace name missing");
    n = strlen(name);
    if (n < 1 || n > KS_MAX)
        return vvi_fail(db, VV_EINVAL, "keyspace name must be 1..%d bytes", KS_MAX);
    return VV_OK;
}

static int ks_save(vv_db *db, const kspace *k)
{
    vvi_buf b;
    char mname[KS_MAX + 4];
    const void *old;
    size_t oldn;
    int rc;
    if (!db->durable) return VV_OK;
    snprintf(mname, sizeof mname, "ks:%s", k->name);
    vvi_buf_init(&b);
    cfg_encode(&b, k->id, &k->cfg);
    if (b.oom) { vvi_buf_free(&b); return VV_ENOMEM; }
    if (db->be->meta_get(db->h, mname, &old, &oldn) == VV_OK &&
        oldn == b.len && memcmp(old, b.p, b.len) == 0)
        rc = VV_OK;                               /* unchanged */
    else
        rc = db->be->meta_put(db->h, mname, b.p, b.len);
    vvi_buf_free(&b);
    return rc;
}

/* "kslist": varint next id, varint count, count x str name. */
static int kslist_save(vv_db *db)
{
    vvi_buf b;
    kspace *k;
    size_t n = 0;
    int rc;
    if (!db->durable) return VV_OK;
    for (k = db->ks; k; k = k->next) n++;
    vvi_buf_init(&b);
    vvi_buf_varint(&b, db->next_ks);
    vvi_buf_varint(&b, n);
    for (k = db->ks; k; k = k->next) put_str(&b, k->name);
    rc = b.oom ? VV_ENOMEM : db->be->meta_put(db->h, "kslist", b.p, b.len);
    vvi_buf_free(&b);
    return rc;
}

/* Fill in the names a config shows when they were left out. */
static int cfg_defaults(vv_ks_config *c)
{
    if (!c->resolver_name)
        c->resolver_name = dup_or_null(c->resolver == VV_RESOLVE_LWW ? "lww"
                                       : c->script ? c->script : "siblings");
    if (!c->codec) c->codec = dup_or_null("msgpack");
    return c->resolver_name && c->codec ? VV_OK : VV_ENOMEM;
}

static kspace *ks_new(vv_db *db, const char *name, uint32_t id)
{
    kspace *k = vvi_malloc(sizeof *k), **tail;
    if (!k) return NULL;
    memset(k, 0, sizeof *k);
    if (!(k->name = dup_or_null(name)) || cfg_defaults(&k->cfg)) {
        cfg_free(&k->cfg);
        vvi_free(k->name);
        vvi_free(k);
        return NULL;
    }
    k->id = id;
    for (tail = &db->ks; *tail; tail = &(*tail)->next) {}
    *tail = k;                                   /* keep creation order */
    return k;
}

static int ks_load_one(vv_db *db, const char *name);
static int kslist_load(vv_db *db);

/* lmdb: keyspaces created in a write transaction exist on disk only once
 * it commits.  When it aborts (vv_abort, a failed write, a full map) they
 * must go from memory too: otherwise later writes would go to a keyspace
 * id that no record names (lost on reopen) and that another process may
 * give to another keyspace. */
static void ks_settle(vv_db *db, int keep)
{
    kspace **p = &db->ks;
    while (*p) {
        kspace *k = *p;
        if (!k->fresh) { p = &k->next; continue; }
        if (keep) { k->fresh = 0; p = &k->next; continue; }
        *p = k->next;
        cfg_free(&k->cfg);
        vvi_free(k->load_error);
        vvi_free(k->name);
        vvi_free(k);
    }
    db->ks_last = NULL;
}

/* The keyspace called name; created (and recorded) when create is set.
 * Must run inside a transaction (write when creating). */
static int ks_get(vv_db *db, const char *name, int create, kspace **out)
{
    kspace *k;
    int rc;
    *out = NULL;
    if ((rc = ks_name_ok(db, name))) return rc;
    if ((k = ks_find(db, name))) { *out = k; return VV_OK; }
    if (db->durable) {                           /* another process's? */
        rc = ks_load_one(db, name);
        if (rc == VV_OK && (k = ks_find(db, name))) { *out = k; return VV_OK; }
        if (rc && rc != VV_ENOTFOUND) return rc;
    }
    if (!create) return VV_ENOTFOUND;
    /* lmdb: another process may have added keyspaces (and moved the next
     * id) since we read the list: take them in, or the list we write
     * below would drop them */
    if (db->durable && (rc = kslist_load(db))) return rc;
    if (db->next_ks >= VVI_LOG_KS)               /* those name change logs */
        return vvi_fail(db, VV_EOVERFLOW, "too many keyspaces");
    if (!(k = ks_new(db, name, db->next_ks++))) return VV_ENOMEM;
    k->fresh = 1;
    if ((rc = ks_save(db, k)) || (rc = kslist_save(db)))
        return vvi_fail(db, rc, "cannot record keyspace '%s': %s", name,
                        db->be->errmsg(db->h));
    *out = k;
    return VV_OK;
}

static int ks_load_one(vv_db *db, const char *name)
{
    char mname[KS_MAX + 4];
    const void *p;
    size_t n;
    uint32_t id;
    vv_ks_config c;
    kspace *k;
    int rc;
    snprintf(mname, sizeof mname, "ks:%s", name);
    if ((rc = db->be->meta_get(db->h, mname, &p, &n))) return rc;
    if ((rc = cfg_decode(p, n, &id, &c))) return rc;
    if (cfg_defaults(&c) || !(k = ks_new(db, name, id))) {
        cfg_free(&c);
        return VV_ENOMEM;
    }
    cfg_free(&k->cfg);
    k->cfg = c;
    if (id >= db->next_ks) db->next_ks = id + 1;
    return VV_OK;
}

static int kslist_load(vv_db *db)
{
    const void *p;
    size_t n;
    vvi_rd r;
    uint64_t next, cnt, i;
    int rc = db->be->meta_get(db->h, "kslist", &p, &n);
    if (rc == VV_ENOTFOUND) return VV_OK;
    if (rc) return rc;
    vvi_rd_init(&r, p, n);
    next = vvi_rd_varint(&r);
    cnt = vvi_rd_varint(&r);
    if (r.err || next >= UINT32_MAX) return VV_ECORRUPT;
    if (next > db->next_ks) db->next_ks = (uint32_t)next;  /* lmdb: never back */
    for (i = 0; i < cnt; i++) {
        char *name = get_str(&r);
        if (!name) return VV_ECORRUPT;
        if (!ks_find(db, name) && (rc = ks_load_one(db, name)) != VV_OK) {
            vvi_free(name);
            return rc;
        }
        vvi_free(name);
    }
    return VV_OK;
}

int vv_keyspace(vv_db *db, const char *name, const vv_ks_config *cfg)
{
    kspace *k;
    vv_ks_config c;
    int rc;
    if (!db) return VV_EINVAL;
    if ((rc = ks_name_ok(db, name))) return rc;
    if (cfg && (cfg->resolver < VV_RESOLVE_SIBLINGS || cfg->resolver > VV_RESOLVE_CUSTOM))
        return vvi_fail(db, VV_EINVAL, "unknown resolver kind %d", cfg->resolver);
    if (cfg && cfg->resolver == VV_RESOLVE_CUSTOM && !cfg->resolve)
        return vvi_fail(db, VV_EINVAL, "custom resolver without a function");
    if (cfg && cfg->history > VV_HISTORY_MAX)
        return vvi_fail(db, VV_EINVAL, "history of %lu entries is over the "
                        "limit (%d)", (unsigned long)cfg->history,
                        VV_HISTORY_MAX);
    memset(&c, 0, sizeof c);
    if (cfg) c = *cfg;
    c.resolver_name = dup_or_null(cfg && cfg->resolver_name ? cfg->resolver_name
                      : c.resolver == VV_RESOLVE_LWW ? "lww"
                      : c.resolver == VV_RESOLVE_CUSTOM ? "custom" : "siblings");
    c.codec = dup_or_null(cfg && cfg->codec ? cfg->codec : "msgpack");
    c.script = dup_or_null(cfg ? cfg->script : NULL);
    if (!c.resolver_name || !c.codec || (cfg && cfg->script && !c.script)) {
        c.resolve_free = NULL;
        cfg_free(&c);
        return vvi_fail(db, VV_ENOMEM, "out of memory");
    }
    if ((rc = txn_begin(db, !db->read_only))) {
        c.resolve_free = NULL;
        cfg_free(&c);
        return rc;
    }
    rc = ks_get(db, name, !db->read_only, &k);
    if (rc == VV_ENOTFOUND && db->read_only) {     /* in memory only */
        k = ks_new(db, name, db->next_ks++);
        rc = k ? VV_OK : VV_ENOMEM;
    }
    if (rc == VV_OK) {
        vv_ks_config old = k->cfg;
        k->cfg = c;
        if (!db->read_only && (rc = ks_save(db, k))) {
            k->cfg = old;
            c.resolve_free = NULL;
            cfg_free(&c);
        } else {
            cfg_free(&old);                     /* the old resolver goes */
            vvi_free(k->load_error);
            k->load_error = NULL;
        }
    } else {
        c.resolve_free = NULL;
        cfg_free(&c);
    }
    rc = txn_end(db, rc);
    if (rc && !db->err[0]) vvi_fail(db, rc, "keyspace '%s': %s", name, vv_strerror(rc));
    return rc;
}

int vv_keyspace_config(vv_db *db, const char *name, vv_ks_config *cfg)
{
    kspace *k;
    if (!db || !name || !cfg) return VV_EINVAL;
    k = ks_find(db, name);
    if (!k) {
        int rc;
        if ((rc = txn_begin(db, 0))) return rc;
        rc = ks_get(db, name, 0, &k);
        txn_end(db, rc);
        if (rc) return rc;
    }
    *cfg = k->cfg;
    return VV_OK;
}

int vv_keyspaces(vv_db *db, int (*fn)(void *ud, const char *name), void *ud)
{
    kspace *k;
    if (!db || !fn) return VV_EINVAL;
    for (k = db->ks; k; k = k->next) {
        int rc = fn(ud, k->name);
        if (rc) return rc;
    }
    return VV_OK;
}

/* ---- open and close ------------------------------------------------------- */
static int make_incarnation(char out[9])
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char r[8];
    int i, ok = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        ok = read(fd, r, sizeof r) == (ssize_t)sizeof r;
        close(fd);
    }
    if (!ok) {                                   /* fall back: time + address */
        struct timespec t;
        uint64_t x;
        clock_gettime(CLOCK_REALTIME, &t);
        x = vvi_hash64(&t, sizeof t, (uint64_t)(uintptr_t)out ^ (uint64_t)getpid());
        memcpy(r, &x, 8);
    }
    for (i = 0; i < 8; i++) out[i] = b32[r[i] & 31];
    out[8] = 0;
    return VV_OK;
}

static int db_setup(vv_db *db)
{
    const void *p;
    size_t n;
    int rc;
    uint32_t a;
    if ((rc = db->be->begin(db->h, !db->read_only)))
        return vvi_fail(db, rc, "%s: %s", db->be->name, db->be->errmsg(db->h));
    db->txn = db->read_only ? 1 : 2;
    rc = db->be->meta_get(db->h, "format", &p, &n);
    if (rc == VV_OK) {
        vvi_rd r;
        uint64_t v;
        vvi_rd_init(&r, p, n);
        v = vvi_rd_varint(&r);
        if (r.err) { rc = vvi_fail(db, VV_ECORRUPT, "format record unreadable"); goto out; }
        if (v > STORE_FORMAT) {
            rc = vvi_fail(db, VV_EVERSION, "store format %llu is newer than this "
                          "build reads (%d)", (unsigned long long)v, STORE_FORMAT);
            goto out;
        }
    } else if (rc == VV_ENOTFOUND && !db->read_only) {
        unsigned char f = STORE_FORMAT;
        if ((rc = db->be->meta_put(db->h, "format", &f, 1))) goto out;
    } else if (rc != VV_ENOTFOUND) goto out;
    rc = node_load(db, 1);
    if (rc == VV_ENOTFOUND) {                    /* a new store */
        char inc[9];
        if (db->read_only) { rc = vvi_fail(db, VV_EREADONLY, "empty store opened read-only"); goto out; }
        if (!db->node) {
            rc = vvi_fail(db, VV_EINVAL, "a node name is required to create "
                          "a store in a new directory");
            goto out;
        }
        make_incarnation(inc);
        db->actor_len = db->node_len + 9;
        if (!(db->actor = vvi_malloc(db->actor_len + 1))) { rc = VV_ENOMEM; goto out; }
        memcpy(db->actor, db->node, db->node_len);
        db->actor[db->node_len] = '.';
        memcpy(db->actor + db->node_len + 1, inc, 9);
        rc = db->durable ? node_save(db) : VV_OK;
    }
    if (rc) goto out;
    if ((rc = actors_load(db))) goto out;
    if ((rc = actor_intern(db, db->actor, db->actor_len, &a))) goto out;
    db->self = a;
    if ((rc = kslist_load(db))) goto out;
out:
    if (rc) {
        db->be->abort(db->h);
        db->txn = 0;
        if (!db->err[0]) vvi_fail(db, rc, "%s", vv_strerror(rc));
        return rc;
    }
    return txn_end(db, VV_OK);
}

int vv_db_open(const vv_options *o, vv_db **out, char **errmsg)
{
    vv_db *db;
    size_t nl;
    int rc;
    kspace *k;
    if (out) *out = NULL;
    if (errmsg) *errmsg = NULL;
    if (!o || !out) return VV_EINVAL;
    nl = o->node ? strlen(o->node) : 0;
    if ((o->node || !o->path) && (nl < 1 || nl > NODE_MAX)) {
        if (errmsg) *errmsg = vvi_strndup("a node name of 1..240 bytes is required", 39);
        return VV_EINVAL;
    }
    if (!(db = vvi_malloc(sizeof *db))) return VV_ENOMEM;
    memset(db, 0, sizeof *db);
    db->now = o->now ? o->now : system_now;
    db->now_ud = o->now_ud;
    db->node_len = nl;
    db->read_only = o->read_only && o->path;
    /* without a node, a durable store takes the one its directory records */
    if (o->node && !(db->node = vvi_strndup(o->node, nl))) { vvi_free(db); return VV_ENOMEM; }
    if (o->path) {
        char *e = NULL;
        rc = vvi_lmdb_open(o, &db->h, &db->be, &e);
        if (rc) {
            if (errmsg) *errmsg = e; else vvi_free(e);
            vv_db_close(db);
            return rc;
        }
        db->durable = 1;
    } else if ((rc = vvi_mem_open(&db->h, &db->be))) {
        vv_db_close(db);
        return rc;
    }
    if ((rc = db_setup(db))) {
        if (errmsg) *errmsg = vvi_strndup(db->err, strlen(db->err));
        vv_db_close(db);
        return rc;
    }
    /* re-attach resolver scripts recorded by an earlier life */
    for (k = db->ks; k; k = k->next) {
        if (k->cfg.script) {
            vv_ks_config c = k->cfg;
            char *script = dup_or_null(k->cfg.script);
            int src;
            if (!script) continue;
            src = vv_keyspace_script(db, k->name, script, &c);
            if (src) {
                char *msg = NULL;
                size_t ml = strlen(db->err) + strlen(script) + 64;
                if ((msg = vvi_malloc(ml)))
                    snprintf(msg, ml, "resolver script '%s' did not load: %s",
                             script, db->err);
                vvi_free(k->load_error);
                k->load_error = msg;
            }
            vvi_free(script);
        }
    }
    db->err[0] = 0;
    *out = db;
    return VV_OK;
}

void vv_db_close(vv_db *db)
{
    kspace *k;
    if (!db) return;
    if (db->batch || db->txn) {
        db->be->abort(db->h);
        db->batch = db->txn = 0;
    }
    while ((k = db->ks)) {
        db->ks = k->next;
        cfg_free(&k->cfg);
        vvi_free(k->load_error);
        vvi_free(k->name);
        vvi_free(k);
    }
    if (db->be) db->be->close(db->h);
    while (db->na > 0) vvi_free(db->an[--db->na]);
    vvi_free(db->an);
    vvi_free(db->al);
    vvi_free(db->slots);
    vvi_free(db->node);
    vvi_free(db->actor);
    vvi_free(db);
}

/* ---- reads and writes ----------------------------------------------------- */
static int key_ok(vv_db *db, const void *key, size_t klen)
{
    if (!key && klen) return vvi_fail(db, VV_EINVAL, "key missing");
    if (klen > VV_KEY_MAX)
        return vvi_fail(db, VV_EINVAL, "key is %zu bytes; the limit is %d",
                        klen, VV_KEY_MAX);
    return VV_OK;
}

/* The stored state of key (empty when absent).  Values borrow from the
 * backend until the transaction ends or the next write. */
static int state_load(vv_db *db, kspace *k, const void *key, size_t klen,
                      vvi_state *s, int *found)
{
    const void *p;
    size_t n;
    int rc = db->be->get(db->h, k->id, key, klen, &p, &n);
    *found = 0;
    vvi_state_init(s);
    if (rc == VV_ENOTFOUND) return VV_OK;
    if (rc) return vvi_fail(db, rc, "%s: %s", db->be->name, db->be->errmsg(db->h));
    if ((rc = vvi_state_decode(s, p, n)))
        return vvi_fail(db, rc, "stored state of a key in '%s' is unreadable",
                        k->name);
    *found = 1;
    return VV_OK;
}

static int state_store(vv_db *db, kspace *k, const void *key, size_t klen,
                       const vvi_state *s)
{
    unsigned char mem[512];
    vvi_buf b;
    int rc;
    vvi_buf_init_fixed(&b, mem, sizeof mem);
    vvi_state_encode(s, &b);
    if (b.oom) { vvi_buf_free(&b); return vvi_fail(db, VV_ENOMEM, "out of memory"); }
    rc = db->be->put(db->h, k->id, key, klen, b.p, b.len);
    vvi_buf_free(&b);
    if (rc) return vvi_fail(db, rc, "%s: %s", db->be->name, db->be->errmsg(db->h));
    return VV_OK;
}

/* ---- the change log (read by sync.c) ------------------------------------ */

/* Name of the meta record with keyspace id's last seq. */
static void seq_record(uint32_t id, char out[24])
{
    snprintf(out, 24, "seq:%lu", (unsigned long)id);
}

/* lmdb: take the keyspace's last seq from "seq:<id>" once a transaction
 * (another process may have moved it; seqs of an aborted transaction are
 * given out again, as nothing saw them). */
static int seq_load(vv_db *db, kspace *k)
{
    const void *p;
    size_t n;
    char name[24];
    int rc;
    if (!db->durable || k->seq_txn == db->txn_no) return VV_OK;
    seq_record(k->id, name);
    rc = db->be->meta_get(db->h, name, &p, &n);
    if (rc == VV_OK) {
        vvi_rd r;
        vvi_rd_init(&r, p, n);
        k->seq = vvi_rd_varint(&r);
        if (r.err)
            return vvi_fail(db, VV_ECORRUPT, "change log counter of keyspace "
                            "'%s' is unreadable", k->name);
    } else if (rc == VV_ENOTFOUND) k->seq = 0;
    else return vvi_fail(db, rc, "%s: %s", db->be->name, db->be->errmsg(db->h));
    k->seq_txn = db->txn_no;
    k->seq_dirty = 0;
    return VV_OK;
}

/* lmdb: record the counters that moved (at commit). */
static int seqs_save(vv_db *db)
{
    kspace *k;
    for (k = db->ks; k; k = k->next) {
        unsigned char b[10];
        char name[24];
        vvi_buf buf;
        int rc;
        if (!k->seq_dirty) continue;
        seq_record(k->id, name);
        vvi_buf_init_fixed(&buf, b, sizeof b);
        vvi_buf_varint(&buf, k->seq);
        rc = db->be->meta_put(db->h, name, buf.p, buf.len);
        vvi_buf_free(&buf);
        if (rc) return rc;
        k->seq_dirty = 0;
    }
    return VV_OK;
}

/* The key's state is about to change: give it the keyspace's next seq and
 * move its change log entry there (VVI_LOG_KS | id: seq -> key). */
static int log_change(vv_db *db, kspace *k, const void *key, size_t klen,
                      vvi_state *s)
{
    unsigned char sk[8];
    int rc;
    if ((rc = seq_load(db, k))) return rc;
    if (k->seq == UINT64_MAX)
        return vvi_fail(db, VV_EOVERFLOW, "change log counter exhausted");
    if (s->seq) {
        vvi_seq_key(s->seq, sk);
        rc = db->be->del(db->h, VVI_LOG_KS | k->id, sk, 8);
        if (rc && rc != VV_ENOTFOUND) goto fail;
    }
    vvi_seq_key(k->seq + 1, sk);
    if ((rc = db->be->put(db->h, VVI_LOG_KS | k->id, sk, 8, key, klen)))
        goto fail;
    s->seq = ++k->seq;
    k->seq_dirty = 1;
    return VV_OK;
fail:
    return vvi_fail(db, rc, "%s: %s", db->be->name, db->be->errmsg(db->h));
}

/* ---- causal history (opt-in per keyspace, read by vv_history) ------------ */
/* Backend keyspace HIST_KS | id holds a key's newest history entries:
 * byte HIST_FORMAT, varint count, count x entry, oldest first.  Entry:
 * varint actor + 1 (0: none), varint counter, varint timestamp, byte flags
 * (1: tombstone, 2: arrived by merge), varint value length, varint preview
 * length, preview bytes, varint nrep, nrep x (varint actor, varint
 * counter).  Actor numbers are this store's own: a history never leaves
 * the store.  Keyspace ids stay below VVI_LOG_KS, so HIST_KS | id meets
 * neither a keyspace nor a change log. */
#define HIST_KS      VVI_HIST_KS
#define HIST_FORMAT  1

/* What a change does to a key, gathered before the state changes. */
typedef struct hist_note {
    vvi_ent *rep;                /* dots of the versions it replaces */
    size_t nrep;
    vvi_ver *add;                /* versions a merge brings (values borrow
                                    from the caller's exported state) */
    size_t nadd;
} hist_note;

static void hist_free(hist_note *h)
{
    vvi_free(h->rep);
    vvi_free(h->add);
    memset(h, 0, sizeof *h);
}

/* Does s hold the version with dot (a, n)? */
static int hist_has(const vvi_state *s, uint32_t a, uint64_t n)
{
    size_t i;
    for (i = 0; i < s->nv; i++)
        if (s->v[i].a == a && s->v[i].n == n) return 1;
    return 0;
}

/* Before state s changes: the versions of s that ctx covers (for a merge
 * with o: and that o does not hold as well), and the versions of o that s
 * has not seen. */
static int hist_gather(const vvi_state *s, const vvi_ent *ctx, size_t nctx,
                       const vvi_state *o, hist_note *h)
{
    size_t i;
    hist_free(h);
    if (!(h->rep = vvi_malloc((s->nv + 1) * sizeof *h->rep))) return VV_ENOMEM;
    for (i = 0; i < s->nv; i++) {
        const vvi_ver *v = &s->v[i];
        if (vvi_ctx_get(ctx, nctx, v->a) >= v->n &&
            !(o && hist_has(o, v->a, v->n))) {
            h->rep[h->nrep].a = v->a;
            h->rep[h->nrep++].n = v->n;
        }
    }
    if (!o) return VV_OK;
    if (!(h->add = vvi_malloc((o->nv + 1) * sizeof *h->add))) return VV_ENOMEM;
    for (i = 0; i < o->nv; i++)
        if (vvi_ctx_get(s->ctx, s->nctx, o->v[i].a) < o->v[i].n)
            h->add[h->nadd++] = o->v[i];
    return VV_OK;
}

/* One decoded entry; preview and replaced dots point into the record. */
typedef struct hist_ent {
    uint64_t a1, n, ts, vlen, nrep;
    unsigned flags;
    const unsigned char *preview, *rep;
    size_t plen;
} hist_ent;

/* Read one entry; VV_ECORRUPT when it is malformed. */
static int hist_read(vvi_rd *r, hist_ent *e)
{
    uint64_t i;
    e->a1 = vvi_rd_varint(r);
    e->n = vvi_rd_varint(r);
    e->ts = vvi_rd_varint(r);
    e->flags = vvi_rd_byte(r);
    e->vlen = vvi_rd_varint(r);
    e->plen = (size_t)vvi_rd_varint(r);
    if (r->err || e->plen > VV_HISTORY_PREVIEW || e->flags > 3 ||
        (e->a1 == 0) != (e->n == 0))
        return VV_ECORRUPT;
    e->preview = vvi_rd_bytes(r, e->plen);
    e->nrep = vvi_rd_varint(r);
    if (r->err || e->nrep > VV_HISTORY_REPLACED) return VV_ECORRUPT;
    e->rep = r->p;
    for (i = 0; i < e->nrep; i++) {
        vvi_rd_varint(r);
        vvi_rd_varint(r);
    }
    return r->err ? VV_ECORRUPT : VV_OK;
}

/* Append an entry for version v (NULL: a merge that only removed) to b. */
static void hist_put(vvi_buf *b, const vvi_ver *v, int merge, uint64_t ts,
                     const hist_note *h)
{
    size_t i, plen = v ? (v->len > VV_HISTORY_PREVIEW ? VV_HISTORY_PREVIEW
                                                      : v->len) : 0;
    size_t nrep = h->nrep > VV_HISTORY_REPLACED ? VV_HISTORY_REPLACED : h->nrep;
    vvi_buf_varint(b, v ? (uint64_t)v->a + 1 : 0);
    vvi_buf_varint(b, v ? v->n : 0);
    vvi_buf_varint(b, v ? v->ts : ts);
    vvi_buf_byte(b, (v && v->tomb ? 1u : 0u) | (merge ? 2u : 0u));
    vvi_buf_varint(b, v ? v->len : 0);
    vvi_buf_varint(b, plen);
    if (plen) vvi_buf_add(b, v->val, plen);
    vvi_buf_varint(b, nrep);
    for (i = 0; i < nrep; i++) {
        vvi_buf_varint(b, h->rep[i].a);
        vvi_buf_varint(b, h->rep[i].n);
    }
}

/* After a change (inside its transaction): add its entries to the key's
 * history and keep the newest k->cfg.history.  written is the version a
 * write made; NULL for a merge (h->add).  An unreadable old list is
 * started afresh rather than failing the write. */
static int history_note(vv_db *db, kspace *k, const void *key, size_t klen,
                        const hist_note *h, const vvi_ver *written)
{
    const void *p;
    size_t n, i, keeplen = 0, nnew, first = 0;
    const unsigned char *keep = NULL;
    uint64_t count = 0, drop, j;
    uint32_t lim = k->cfg.history;
    vvi_buf b;
    int rc;
    nnew = written ? 1 : h->nadd ? h->nadd : h->nrep ? 1 : 0;
    if (!lim || !nnew) return VV_OK;
    rc = db->be->get(db->h, HIST_KS | k->id, key, klen, &p, &n);
    if (rc && rc != VV_ENOTFOUND)
        return vvi_fail(db, rc, "%s: %s", db->be->name, db->be->errmsg(db->h));
    if (rc == VV_OK) {
        vvi_rd r;
        hist_ent e;
        vvi_rd_init(&r, p, n);
        count = vvi_rd_byte(&r) == HIST_FORMAT ? vvi_rd_varint(&r) : 0;
        drop = count + nnew > lim ? count + nnew - lim : 0;
        for (j = 0; j < count && !r.err; j++) {
            if (j == drop) keep = r.p;
            if (hist_read(&r, &e)) break;
        }
        if (r.err || j < count || r.p != r.end) count = 0;   /* afresh */
        else if (keep) {
            keeplen = (size_t)(r.end - keep);
            count -= drop;
        } else count = 0;
    }
    if (nnew > lim) first = nnew - lim;
    vvi_buf_init(&b);
    vvi_buf_byte(&b, HIST_FORMAT);
    vvi_buf_varint(&b, count + (nnew - first));
    if (keeplen) vvi_buf_add(&b, keep, keeplen);
    if (written) hist_put(&b, written, 0, 0, h);
    else if (!h->nadd) hist_put(&b, NULL, 1, db->last_ts, h);
    else for (i = first; i < h->nadd; i++) hist_put(&b, &h->add[i], 1, 0, h);
    rc = b.oom ? VV_ENOMEM
       : db->be->put(db->h, HIST_KS | k->id, key, klen, b.p, b.len);
    vvi_buf_free(&b);
    if (rc == VV_ENOMEM) return vvi_fail(db, rc, "out of memory");
    if (rc)
        return vvi_fail(db, rc, "%s: %s", db->be->name, db->be->errmsg(db->h));
    return VV_OK;
}

/* Check the sibling limits after a change; writes over max are refused. */
static int limits(vv_db *db, kspace *k, const void *key, size_t klen,
                  const vvi_state *s, int refuse)
{
    size_t live = vvi_state_live(s);
    uint32_t warn = k->cfg.warn_siblings ? k->cfg.warn_siblings : 25;
    uint32_t max = k->cfg.max_siblings ? k->cfg.max_siblings : 100;
    if (refuse && live > max)
        return vvi_fail(db, VV_ELIMIT, "keyspace '%s': key would have %zu "
                        "siblings, over max_siblings %u; read it and write "
                        "with its context to collapse them", k->name, live, max);
    if (live > warn) {
        k->warnings++;
        fprintf(stderr, "vv: keyspace '%s' key '%.*s' has %zu siblings "
                "(warn_siblings %u)\n", k->name, (int)(klen > 60 ? 60 : klen),
                (const char *)key, live, warn);
    }
    return VV_OK;
}

/* Map a caller's context onto actor numbers (sorted), interning names.
 * Uses stack[nstack] when it fits; free *out only when it is not stack. */
static int ctx_map(vv_db *db, const vv_clock *c, vvi_ent *stack, size_t nstack,
                   vvi_ent **out, size_t *n)
{
    size_t i, k;
    vvi_ent *e;
    *out = stack;
    *n = 0;
    if (!c || c->n == 0) return VV_OK;
    e = c->n <= nstack ? stack : vvi_malloc(c->n * sizeof *e);
    if (!e) return VV_ENOMEM;
    for (i = 0; i < c->n; i++) {
        int rc = actor_intern(db, vvi_cname(&c->e[i]), c->e[i].len, &e[i].a);
        if (rc) { if (e != stack) vvi_free(e); return rc; }
        e[i].n = c->e[i].n;
        if (e[i].a == db->self && e[i].n > db->counter) {
            if (e != stack) vvi_free(e);
            return vvi_fail(db, VV_EINVAL, "context claims %s:%llu but this "
                            "store has only given out %llu", db->actor,
                            (unsigned long long)c->e[i].n,
                            (unsigned long long)db->counter);
        }
    }
    for (i = 1; i < c->n; i++) {                 /* insertion sort by number */
        vvi_ent t = e[i];
        for (k = i; k > 0 && e[k - 1].a > t.a; k--) e[k] = e[k - 1];
        e[k] = t;
    }
    *out = e;
    *n = c->n;
    return VV_OK;
}

/* The key's context as a clock of actor names. */
static int ctx_clock(vv_db *db, const vvi_state *s, vv_clock **out)
{
    vv_clock *c;
    size_t i, k;
    int rc;
    if ((rc = vv_clock_new(&c))) return rc;
    for (i = 0; i < s->nctx; i++)
        if ((rc = vvi_clock_push(c, db->an[s->ctx[i].a], db->al[s->ctx[i].a],
                                 s->ctx[i].n))) {
            vv_clock_free(c);
            return rc;
        }
    for (i = 1; i < c->n; i++) {                 /* sort by name */
        vvi_centry t = c->e[i];
        for (k = i; k > 0 && vvi_node_cmp(vvi_cname(&c->e[k - 1]), c->e[k - 1].len,
                                          vvi_cname(&t), t.len) > 0; k--)
            c->e[k] = c->e[k - 1];
        c->e[k] = t;
    }
    *out = c;
    return VV_OK;
}

static int write_op(vv_db *db, const char *ksname, const void *key, size_t klen,
                    const void *value, size_t vlen, int tomb,
                    const vv_clock *ctx, vv_clock **newctx)
{
    kspace *k;
    vvi_state s;
    vvi_ent stack[16], *cc = NULL;
    size_t ncc = 0;
    vvi_ver v;
    hist_note hist = { NULL, 0, NULL, 0 };
    uint64_t now;
    int rc, found;
    if (newctx) *newctx = NULL;
    if (!db) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = ks_name_ok(db, ksname)) || (rc = key_ok(db, key, klen))) return rc;
    if (!value && vlen) return vvi_fail(db, VV_EINVAL, "value missing");
    if ((rc = txn_begin(db, 1))) return rc;
    vvi_state_init(&s);
    if ((rc = ks_get(db, ksname, 1, &k))) goto out;
    if ((rc = ctx_map(db, ctx, stack, 16, &cc, &ncc))) {
        if (!db->err[0]) vvi_fail(db, rc, "context: %s", vv_strerror(rc));
        goto out;
    }
    if ((rc = state_load(db, k, key, klen, &s, &found))) goto out;
    if (db->counter == UINT64_MAX) {
        rc = vvi_fail(db, VV_EOVERFLOW, "dot counter exhausted");
        goto out;
    }
    now = db->now(db->now_ud);
    v.a = db->self;
    v.n = db->counter + 1;
    v.ts = now > db->last_ts ? now : db->last_ts;
    v.tomb = tomb;
    v.val = value;
    v.len = tomb ? 0 : vlen;
    if (k->cfg.history && (rc = hist_gather(&s, cc, ncc, NULL, &hist))) {
        vvi_fail(db, rc, "out of memory");
        goto out;
    }
    if ((rc = vvi_state_write(&s, cc, ncc, &v))) {
        vvi_fail(db, rc, "%s", vv_strerror(rc));
        goto out;
    }
    if ((rc = limits(db, k, key, klen, &s, 1))) goto out;
    if ((rc = log_change(db, k, key, klen, &s))) goto out;
    if ((rc = state_store(db, k, key, klen, &s))) goto out;
    if ((rc = history_note(db, k, key, klen, &hist, &v))) goto out;
    db->counter = v.n;
    db->last_ts = v.ts;
    if (newctx && (rc = ctx_clock(db, &s, newctx)))
        vvi_fail(db, rc, "out of memory");
out:
    hist_free(&hist);
    vvi_state_free(&s);
    if (cc != stack) vvi_free(cc);
    rc = txn_end(db, rc);
    if (rc && newctx && *newctx) { vv_clock_free(*newctx); *newctx = NULL; }
    return rc;
}

int vv_put(vv_db *db, const char *ks, const void *key, size_t klen,
           const void *value, size_t vlen, const vv_clock *ctx,
           vv_clock **newctx)
{
    if (db && !value && vlen == 0) value = "";
    return write_op(db, ks, key, klen, value, vlen, 0, ctx, newctx);
}

int vv_delete(vv_db *db, const char *ks, const void *key, size_t klen,
              const vv_clock *ctx, vv_clock **newctx)
{
    return write_op(db, ks, key, klen, "", 0, 1, ctx, newctx);
}

/* ---- reads ------------------------------------------------------------------ */
/* A context entry kept in a read until a clock is asked for. */
typedef struct rctx {
    uint64_t n;
    size_t len;
    const char *name;            /* in the read's block */
} rctx;

struct vv_read {
    vv_sibling *s;               /* in the same block, then rc, then bytes */
    size_t n;
    rctx *rc;                    /* the context, in name order */
    size_t nrc;
    vv_clock *ctx;               /* built from rc on first use */
    const void *value;
    size_t vlen;
    int vrc;                     /* VV_OK, VV_ENOTFOUND, VV_ERESOLVER */
    void *owned;                 /* a resolver's result */
    char *error;
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
    size_t i;
    if (!r) return NULL;
    if (!m->ctx) {
        vv_clock *c;
        if (vv_clock_new(&c)) return NULL;
        for (i = 0; i < r->nrc; i++)
            if (vvi_clock_push(c, r->rc[i].name, r->rc[i].len, r->rc[i].n)) {
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

void vv_read_free(vv_read *r)
{
    if (!r) return;
    vv_clock_free(r->ctx);
    vvi_free(r->owned);
    vvi_free(r->error);
    vvi_free(r);
}

/* Order of siblings: actor name, then counter. */
static int sib_cmp(const vv_db *db, const vvi_ver *x, const vvi_ver *y)
{
    int c = x->a == y->a ? 0 : actor_cmp(db, x->a, y->a);
    if (c) return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* Build the read from a state (inside the transaction: copies bytes).
 * One block holds the read, its sibling array and their bytes. */
static int read_build(vv_db *db, const vvi_state *s, vv_read **out)
{
    vv_read *r;
    size_t i, j, k, bytes = 0, n = 0;
    const vvi_ver *stack[16], **live = stack;
    unsigned char *p;
    *out = NULL;
    if (s->nv > 16 && !(live = vvi_malloc(s->nv * sizeof *live))) return VV_ENOMEM;
    for (i = 0; i < s->nv; i++)
        if (!s->v[i].tomb) {
            live[n++] = &s->v[i];
            bytes += s->v[i].len + db->al[s->v[i].a];
        }
    for (i = 1; i < n; i++) {                    /* few siblings: insertion */
        const vvi_ver *t = live[i];
        for (k = i; k > 0 && sib_cmp(db, live[k - 1], t) > 0; k--) live[k] = live[k - 1];
        live[k] = t;
    }
    for (i = 0; i < s->nctx; i++) bytes += db->al[s->ctx[i].a];
    r = vvi_malloc(sizeof *r + n * sizeof *r->s + s->nctx * sizeof *r->rc + bytes);
    if (!r) {
        if (live != stack) vvi_free(live);
        return VV_ENOMEM;
    }
    memset(r, 0, sizeof *r);
    r->n = n;
    r->s = (vv_sibling *)(r + 1);
    r->rc = (rctx *)(r->s + n);
    r->nrc = s->nctx;
    p = (unsigned char *)(r->rc + s->nctx);
    for (i = 0; i < s->nctx; i++) {              /* context, in name order */
        uint32_t a = s->ctx[i].a;
        rctx t;
        memcpy(p, db->an[a], db->al[a]);
        t.name = (const char *)p;
        t.len = db->al[a];
        t.n = s->ctx[i].n;
        p += t.len;
        for (k = i; k > 0 && vvi_node_cmp(r->rc[k - 1].name, r->rc[k - 1].len,
                                          t.name, t.len) > 0; k--)
            r->rc[k] = r->rc[k - 1];
        r->rc[k] = t;
    }
    for (j = 0; j < n; j++) {
        const vvi_ver *v = live[j];
        vv_sibling *sb = &r->s[j];
        memcpy(p, v->val, v->len);
        sb->value = p;
        sb->len = v->len;
        p += v->len;
        memcpy(p, db->an[v->a], db->al[v->a]);
        sb->actor = (const char *)p;
        sb->actor_len = db->al[v->a];
        p += sb->actor_len;
        sb->node_len = sb->actor_len;
        for (k = sb->actor_len; k > 0; k--)
            if (sb->actor[k - 1] == '.') { sb->node_len = k - 1; break; }
        sb->counter = v->n;
        sb->timestamp = v->ts;
    }
    if (live != stack) vvi_free(live);
    *out = r;
    return VV_OK;
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

static void read_resolve(vv_db *db, kspace *k, const void *key, size_t klen,
                         vv_read *r)
{
    if (r->n == 1) {
        r->value = r->s[0].value;
        r->vlen = r->s[0].len;
        r->vrc = VV_OK;
        return;
    }
    if (k->load_error) {
        r->vrc = VV_ERESOLVER;
        r->error = vvi_strndup(k->load_error, strlen(k->load_error));
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
                err = vvi_strndup(m, strlen(m));
            }
            r->error = err;
        }
        (void)db;
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
    kspace *k;
    vvi_state s;
    int rc, found = 0;
    if (out) *out = NULL;
    if (!db || !out) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = ks_name_ok(db, ksname)) || (rc = key_ok(db, key, klen))) return rc;
    if ((rc = txn_begin(db, 0))) return rc;
    vvi_state_init(&s);
    rc = ks_get(db, ksname, 0, &k);
    if (rc == VV_OK) rc = state_load(db, k, key, klen, &s, &found);
    if (rc == VV_OK && (!found || vvi_state_live(&s) == 0)) rc = VV_ENOTFOUND;
    if (rc == VV_OK && (rc = read_build(db, &s, out)))
        vvi_fail(db, rc, "out of memory");
    vvi_state_free(&s);
    rc = txn_end(db, rc);
    if (rc) {
        if (*out) { vv_read_free(*out); *out = NULL; }
        return rc;
    }
    read_resolve(db, k, key, klen, *out);
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

/* ---- export and merge --------------------------------------------------------- */
/* Layout: "VVS", format byte, varint klen, key, varint nctx, nctx x (str
 * actor, varint n) in name order, varint nv, nv x (str actor, varint n,
 * varint ts, varint len<<1|tomb, bytes) in (name, n) order, xxh64 (8 LE). */
/* Append the export of state s of key to b. */
static int state_export(vv_db *db, const vvi_state *s, const void *key,
                        size_t klen, vvi_buf *b)
{
    size_t i, j, start = b->len;
    uint32_t *order = vvi_malloc((s->nctx + 1) * sizeof *order);
    const vvi_ver **vs = vvi_malloc((s->nv + 1) * sizeof *vs);
    int rc = VV_OK;
    if (!order || !vs) rc = VV_ENOMEM;
    else {
        for (i = 0; i < s->nctx; i++) {
            uint32_t t = (uint32_t)i;
            for (j = i; j > 0 && actor_cmp(db, s->ctx[order[j - 1]].a,
                                           s->ctx[t].a) > 0; j--)
                order[j] = order[j - 1];
            order[j] = t;
        }
        for (i = 0; i < s->nv; i++) {
            const vvi_ver *t = &s->v[i];
            for (j = i; j > 0 && sib_cmp(db, vs[j - 1], t) > 0; j--)
                vs[j] = vs[j - 1];
            vs[j] = t;
        }
        vvi_buf_add(b, EXPORT_MAGIC, 3);
        vvi_buf_byte(b, EXPORT_FORMAT);
        vvi_buf_varint(b, klen);
        vvi_buf_add(b, key, klen);
        vvi_buf_varint(b, s->nctx);
        for (i = 0; i < s->nctx; i++) {
            uint32_t a = s->ctx[order[i]].a;
            vvi_buf_varint(b, db->al[a]);
            vvi_buf_add(b, db->an[a], db->al[a]);
            vvi_buf_varint(b, s->ctx[order[i]].n);
        }
        vvi_buf_varint(b, s->nv);
        for (i = 0; i < s->nv; i++) {
            vvi_buf_varint(b, db->al[vs[i]->a]);
            vvi_buf_add(b, db->an[vs[i]->a], db->al[vs[i]->a]);
            vvi_buf_varint(b, vs[i]->n);
            vvi_buf_varint(b, vs[i]->ts);
            vvi_buf_varint(b, (uint64_t)vs[i]->len << 1 |
                              (vs[i]->tomb ? 1 : 0));
            vvi_buf_add(b, vs[i]->val, vs[i]->len);
        }
        vvi_buf_sum(b, start);
        if (b->oom) rc = VV_ENOMEM;
    }
    vvi_free(order);
    vvi_free(vs);
    return rc;
}

int vv_export(vv_db *db, const char *ksname, const void *key, size_t klen,
              void **out, size_t *len)
{
    kspace *k;
    vvi_state s;
    vvi_buf b;
    int rc, found = 0;
    if (out) *out = NULL;
    if (len) *len = 0;
    if (!db || !out || !len) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = ks_name_ok(db, ksname)) || (rc = key_ok(db, key, klen))) return rc;
    if ((rc = txn_begin(db, 0))) return rc;
    vvi_state_init(&s);
    vvi_buf_init(&b);
    rc = ks_get(db, ksname, 0, &k);
    if (rc == VV_OK) rc = state_load(db, k, key, klen, &s, &found);
    if (rc == VV_OK && !found) rc = VV_ENOTFOUND;
    if (rc == VV_OK) rc = state_export(db, &s, key, klen, &b);
    vvi_state_free(&s);
    rc = txn_end(db, rc);
    if (rc) { vvi_buf_free(&b); return rc; }
    *out = b.p;
    *len = b.len;
    return VV_OK;
}

/* A parsed export: names borrowed from the bytes. */
typedef struct imp_ent { const char *name; size_t len; uint64_t n; } imp_ent;
typedef struct imp_ver {
    const char *name; size_t len;
    uint64_t n, ts;
    int tomb;
    const unsigned char *val; size_t vlen;
} imp_ver;

/* Check everything about an exported state before anything is changed. */
static int import_parse(const void *state, size_t len, const void *key,
                        size_t klen, imp_ent **ctx, size_t *nctx,
                        imp_ver **vers, size_t *nv, uint64_t *maxts)
{
    vvi_rd r;
    const unsigned char *p = state, *kp;
    uint64_t n, i, kl;
    *ctx = NULL;
    *vers = NULL;
    *maxts = 0;
    if (!state || len < 3 + 1 + 8) return VV_ECORRUPT;
    if (memcmp(p, EXPORT_MAGIC, 3) != 0) return VV_ECORRUPT;
    if (p[3] != EXPORT_FORMAT) return VV_EVERSION;
    if (!vvi_sum_ok(p, len)) return VV_ECORRUPT;
    vvi_rd_init(&r, p + 4, len - 12);
    kl = vvi_rd_varint(&r);
    kp = vvi_rd_bytes(&r, (size_t)kl);
    if (r.err) return VV_ECORRUPT;
    if (kl != klen || (klen && memcmp(kp, key, klen) != 0)) return VV_EFOREIGN;
    n = vvi_rd_varint(&r);
    if (r.err || n > len) return VV_ECORRUPT;
    *nctx = (size_t)n;
    if (!(*ctx = vvi_malloc((size_t)(n ? n : 1) * sizeof **ctx))) return VV_ENOMEM;
    for (i = 0; i < n; i++) {
        imp_ent *e = &(*ctx)[i];
        e->len = (size_t)vvi_rd_varint(&r);
        e->name = (const char *)vvi_rd_bytes(&r, e->len);
        e->n = vvi_rd_varint(&r);
        if (r.err || e->len < 1 || e->len > VV_NODE_MAX || e->n == 0) goto bad;
        if (i && vvi_node_cmp((*ctx)[i - 1].name, (*ctx)[i - 1].len, e->name, e->len) >= 0)
            goto bad;
    }
    n = vvi_rd_varint(&r);
    if (r.err || n > len) goto bad;
    *nv = (size_t)n;
    if (!(*vers = vvi_malloc((size_t)(n ? n : 1) * sizeof **vers))) {
        vvi_free(*ctx); *ctx = NULL;
        return VV_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        imp_ver *v = &(*vers)[i];
        uint64_t lt, seen = 0;
        size_t j;
        int c;
        v->len = (size_t)vvi_rd_varint(&r);
        v->name = (const char *)vvi_rd_bytes(&r, v->len);
        v->n = vvi_rd_varint(&r);
        v->ts = vvi_rd_varint(&r);
        lt = vvi_rd_varint(&r);
        if (r.err || v->len < 1 || v->len > VV_NODE_MAX || v->n == 0) goto bad;
        v->tomb = (int)(lt & 1);
        v->vlen = (size_t)(lt >> 1);
        if (v->tomb && v->vlen) goto bad;
        v->val = vvi_rd_bytes(&r, v->vlen);
        if (r.err) goto bad;
        if (i) {
            c = vvi_node_cmp((*vers)[i - 1].name, (*vers)[i - 1].len, v->name, v->len);
            if (c > 0 || (c == 0 && (*vers)[i - 1].n >= v->n)) goto bad;
        }
        for (j = 0; j < *nctx; j++)              /* its dot is in the context */
            if (vvi_node_cmp((*ctx)[j].name, (*ctx)[j].len, v->name, v->len) == 0)
                seen = (*ctx)[j].n;
        if (v->n > seen) goto bad;
        if (v->ts > *maxts) *maxts = v->ts;
    }
    if (r.p != r.end) goto bad;
    return VV_OK;
bad:
    vvi_free(*ctx);
    vvi_free(*vers);
    *ctx = NULL;
    *vers = NULL;
    return VV_ECORRUPT;
}

/* Merge a parsed export into key inside the open write transaction.  A
 * state that changes nothing is not stored again (nor logged). */
static int merge_in(vv_db *db, kspace *k, const void *key, size_t klen,
                    const imp_ent *ictx, size_t nctx, const imp_ver *iv,
                    size_t nv, uint64_t maxts, int *changed)
{
    vvi_state s, o;
    hist_note hist = { NULL, 0, NULL, 0 };
    size_t i;
    int rc = VV_OK, found;
    *changed = 0;
    vvi_state_init(&s);
    vvi_state_init(&o);
    for (i = 0; i < nctx && !rc; i++) {
        uint32_t a;
        if (!(rc = actor_intern(db, ictx[i].name, ictx[i].len, &a)))
            rc = vvi_ctx_max(&o, a, ictx[i].n);
    }
    for (i = 0; i < nv && !rc; i++) {
        vvi_ver v;
        if ((rc = actor_intern(db, iv[i].name, iv[i].len, &v.a))) break;
        v.n = iv[i].n;
        v.ts = iv[i].ts;
        v.tomb = iv[i].tomb;
        v.val = iv[i].val;
        v.len = iv[i].vlen;
        rc = vvi_state_add(&o, &v);
    }
    if (rc) { vvi_fail(db, rc, "%s", vv_strerror(rc)); goto out; }
    if (vvi_ctx_get(o.ctx, o.nctx, db->self) > db->counter) {
        rc = vvi_fail(db, VV_ECORRUPT, "state claims dots of this store (%s) "
                      "that it never gave out", db->actor);
        goto out;
    }
    if ((rc = state_load(db, k, key, klen, &s, &found))) goto out;
    if (k->cfg.history && (rc = hist_gather(&s, o.ctx, o.nctx, &o, &hist))) {
        vvi_fail(db, rc, "out of memory");
        goto out;
    }
    if ((rc = vvi_state_merge(&s, &o))) { vvi_fail(db, rc, "out of memory"); goto out; }
    if (found) {                                 /* compare with the stored */
        unsigned char mem[512];
        const void *p;
        size_t n;
        vvi_buf b;
        vvi_buf_init_fixed(&b, mem, sizeof mem);
        vvi_state_encode(&s, &b);
        if (b.oom) rc = vvi_fail(db, VV_ENOMEM, "out of memory");
        else if (db->be->get(db->h, k->id, key, klen, &p, &n) != VV_OK ||
                 n != b.len || memcmp(p, b.p, n) != 0)
            *changed = 1;
        vvi_buf_free(&b);
        if (rc) goto out;
    } else *changed = s.nv > 0 || s.nctx > 0;
    if (*changed) {
        limits(db, k, key, klen, &s, 0);
        if ((rc = log_change(db, k, key, klen, &s))) goto out;
        if ((rc = state_store(db, k, key, klen, &s))) goto out;
        if ((rc = history_note(db, k, key, klen, &hist, NULL))) goto out;
    }
    {   /* hybrid clock: follow remote clocks that are not too far ahead */
        uint64_t now = db->now(db->now_ud);
        if (maxts > db->last_ts && maxts <= now + TS_AHEAD_MAX) db->last_ts = maxts;
    }
out:
    hist_free(&hist);
    vvi_state_free(&s);
    vvi_state_free(&o);
    return rc;
}

int vv_merge(vv_db *db, const char *ksname, const void *key, size_t klen,
             const void *state, size_t len)
{
    imp_ent *ictx = NULL;
    imp_ver *iv = NULL;
    size_t nctx = 0, nv = 0;
    uint64_t maxts;
    kspace *k;
    int rc, changed;
    if (!db) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = ks_name_ok(db, ksname)) || (rc = key_ok(db, key, klen))) return rc;
    rc = import_parse(state, len, key, klen, &ictx, &nctx, &iv, &nv, &maxts);
    if (rc == VV_EFOREIGN)
        return vvi_fail(db, rc, "state belongs to another key");
    if (rc == VV_EVERSION)
        return vvi_fail(db, rc, "state format %d is not one this build reads",
                        len > 3 ? ((const unsigned char *)state)[3] : 0);
    if (rc) return vvi_fail(db, rc, "state is corrupt or truncated");
    if ((rc = txn_begin(db, 1))) { vvi_free(ictx); vvi_free(iv); return rc; }
    if ((rc = ks_get(db, ksname, 1, &k)) == VV_OK)
        rc = merge_in(db, k, key, klen, ictx, nctx, iv, nv, maxts, &changed);
    vvi_free(ictx);
    vvi_free(iv);
    return txn_end(db, rc);
}

/* ---- hooks for keyspace sync (sync.c; documented in vv_int.h) ------------ */
int vvi_sync_begin(vv_db *db, const char *name, int mode, vvi_ks **k)
{
    int rc;
    *k = NULL;
    db->err[0] = 0;
    if ((rc = txn_begin(db, mode > 0))) return rc;
    rc = ks_get(db, name, mode == 2, k);
    if (rc == VV_ENOTFOUND) { *k = NULL; return VV_OK; }
    if (rc) return txn_end(db, rc);
    return VV_OK;
}

int vvi_sync_end(vv_db *db, int rc)
{
    return txn_end(db, rc);
}

int vvi_ks_info(vv_db *db, vvi_ks *k, uint32_t *id, uint64_t *seq)
{
    int rc = seq_load(db, k);
    *id = k->id;
    *seq = k->seq;
    return rc;
}

const vvi_backend *vvi_db_backend(vv_db *db, void **h)
{
    *h = db->h;
    return db->be;
}

int vvi_actor_num(vv_db *db, const char *name, size_t len, int add,
                  uint32_t *a)
{
    long n;
    if (add) return actor_intern(db, name, len, a);
    if ((n = actor_find(db, name, len)) < 0) return VV_ENOTFOUND;
    *a = (uint32_t)n;
    return VV_OK;
}

const char *vvi_actor_name(const vv_db *db, uint32_t a, size_t *len)
{
    if (a >= db->na) return NULL;
    if (len) *len = db->al[a];
    return db->an[a];
}

int vvi_key_export(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                   vvi_buf *out)
{
    vvi_state s;
    int rc, found;
    rc = state_load(db, k, key, klen, &s, &found);
    if (rc == VV_OK && !found) rc = VV_ENOTFOUND;
    if (rc == VV_OK) rc = state_export(db, &s, key, klen, out);
    vvi_state_free(&s);
    return rc;
}

int vvi_export_check(const void *state, size_t len, int full,
                     const void **key, size_t *klen)
{
    imp_ent *ictx;
    imp_ver *iv;
    size_t nctx, nv;
    uint64_t maxts, kl;
    vvi_rd r;
    const unsigned char *kp;
    int rc;
    *key = NULL;
    *klen = 0;
    if (!state || len < 3 + 1 + 8) return VV_ECORRUPT;
    vvi_rd_init(&r, (const unsigned char *)state + 4, len - 12);
    kl = vvi_rd_varint(&r);
    kp = vvi_rd_bytes(&r, (size_t)kl);
    if (r.err) return VV_ECORRUPT;
    if (full) {
        rc = import_parse(state, len, kp, (size_t)kl, &ictx, &nctx, &iv, &nv,
                          &maxts);
        if (rc) return rc;
        vvi_free(ictx);
        vvi_free(iv);
    }
    *key = kp;
    *klen = (size_t)kl;
    return VV_OK;
}

int vvi_key_merge(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                  const void *state, size_t len, int *changed)
{
    imp_ent *ictx = NULL;
    imp_ver *iv = NULL;
    size_t nctx = 0, nv = 0;
    uint64_t maxts;
    int rc;
    *changed = 0;
    if ((rc = key_ok(db, key, klen))) return rc;
    rc = import_parse(state, len, key, klen, &ictx, &nctx, &iv, &nv, &maxts);
    if (rc) return vvi_fail(db, rc, "state is corrupt or truncated");
    rc = merge_in(db, k, key, klen, ictx, nctx, iv, nv, maxts, changed);
    vvi_free(ictx);
    vvi_free(iv);
    return rc;
}

/* ---- scans and stats -------------------------------------------------------- */
typedef struct keys_ud {
    int (*fn)(void *ud, const void *key, size_t klen);
    void *ud;
} keys_ud;

static int keys_cb(void *ud, const void *key, size_t klen, const void *v, size_t n)
{
    keys_ud *k = ud;
    (void)v; (void)n;
    return k->fn(k->ud, key, klen);
}

int vv_keys(vv_db *db, const char *ksname,
            int (*fn)(void *ud, const void *key, size_t klen), void *ud)
{
    kspace *k;
    keys_ud ku;
    int rc;
    if (!db || !fn) return VV_EINVAL;
    if ((rc = ks_name_ok(db, ksname))) return rc;
    if ((rc = txn_begin(db, 0))) return rc;
    rc = ks_get(db, ksname, 0, &k);
    if (rc == VV_ENOTFOUND) rc = VV_OK, k = NULL;
    ku.fn = fn;
    ku.ud = ud;
    if (rc == VV_OK && k) rc = db->be->scan(db->h, k->id, keys_cb, &ku);
    txn_end(db, VV_ENOTFOUND);                   /* read only: never commits */
    return rc;
}

static int stats_cb(void *ud, const void *key, size_t klen, const void *v, size_t n)
{
    vv_stats *st = ud;
    vvi_state s;
    size_t live;
    (void)key; (void)klen;
    if (vvi_state_decode(&s, v, n)) return VV_ECORRUPT;
    live = vvi_state_live(&s);
    vvi_state_free(&s);
    if (live == 0) { st->tombstones++; return 0; }
    st->keys++;
    if (live > st->max_siblings) st->max_siblings = live;
    st->siblings[live <= 4 ? live - 1 : live <= 8 ? 4 : live <= 16 ? 5 : live <= 64 ? 6 : 7]++;
    return 0;
}

int vv_stats_get(vv_db *db, const char *ksname, vv_stats *out)
{
    kspace *k;
    int rc = VV_OK;
    if (!db || !out) return VV_EINVAL;
    memset(out, 0, sizeof *out);
    if ((rc = txn_begin(db, 0))) return rc;
    if (ksname) {
        rc = ks_get(db, ksname, 0, &k);
        if (rc == VV_OK) {
            out->warnings = k->warnings;
            rc = db->be->scan(db->h, k->id, stats_cb, out);
        } else if (rc == VV_ENOTFOUND) rc = VV_OK;
    } else {
        for (k = db->ks; k && !rc; k = k->next) {
            out->warnings += k->warnings;
            rc = db->be->scan(db->h, k->id, stats_cb, out);
        }
    }
    if (rc == VV_OK) rc = db->be->bytes(db->h, &out->bytes);
    txn_end(db, VV_ENOTFOUND);
    if (rc) return vvi_fail(db, rc, "stats: %s", vv_strerror(rc));
    return VV_OK;
}

/* ---- causal history: reading it ------------------------------------------ */
/* Set d to actor number a1 - 1 (none when a1 is 0) and counter n. */
static int hist_dot(const vv_db *db, uint64_t a1, uint64_t n, vv_dot *d)
{
    size_t k;
    memset(d, 0, sizeof *d);
    if (a1 == 0) return VV_OK;
    if (a1 > db->na) return VV_ECORRUPT;
    d->actor = db->an[a1 - 1];
    d->actor_len = db->al[a1 - 1];
    d->node_len = d->actor_len;
    for (k = d->actor_len; k > 0; k--)
        if (d->actor[k - 1] == '.') { d->node_len = k - 1; break; }
    d->counter = n;
    return VV_OK;
}

/* Decode a history record and call fn for each entry. */
static int hist_each(vv_db *db, const void *p, size_t n,
                     int (*fn)(void *ud, const vv_hist *e), void *ud)
{
    vv_dot reps[VV_HISTORY_REPLACED];
    uint64_t count, i, j;
    vvi_rd r;
    vvi_rd_init(&r, p, n);
    if (vvi_rd_byte(&r) != HIST_FORMAT) goto bad;
    count = vvi_rd_varint(&r);
    if (r.err) goto bad;
    for (i = 0; i < count; i++) {
        hist_ent e;
        vv_hist h;
        vvi_rd rr;
        int rc;
        if (hist_read(&r, &e)) goto bad;
        memset(&h, 0, sizeof h);
        if (hist_dot(db, e.a1, e.n, &h.dot)) goto bad;
        vvi_rd_init(&rr, e.rep, (size_t)(r.p - e.rep));
        for (j = 0; j < e.nrep; j++) {
            uint64_t a = vvi_rd_varint(&rr), c = vvi_rd_varint(&rr);
            if (rr.err || a >= UINT32_MAX || c == 0 ||
                hist_dot(db, a + 1, c, &reps[j]))
                goto bad;
        }
        h.timestamp = e.ts;
        h.tombstone = (int)(e.flags & 1);
        h.how = e.flags & 2 ? VV_HIST_MERGE : VV_HIST_WRITE;
        h.preview = e.preview;
        h.preview_len = e.plen;
        h.value_len = (size_t)e.vlen;
        h.replaced = reps;
        h.nreplaced = (size_t)e.nrep;
        if ((rc = fn(ud, &h))) return rc;
    }
    if (r.p != r.end) goto bad;
    return VV_OK;
bad:
    return vvi_fail(db, VV_ECORRUPT, "the history of a key is unreadable");
}

int vv_history(vv_db *db, const char *ksname, const void *key, size_t klen,
               int (*fn)(void *ud, const vv_hist *e), void *ud)
{
    kspace *k;
    const void *p;
    size_t n = 0;
    void *copy = NULL;
    int rc;
    if (!db || !fn) return VV_EINVAL;
    db->err[0] = 0;
    if ((rc = ks_name_ok(db, ksname)) || (rc = key_ok(db, key, klen)))
        return rc;
    if ((rc = txn_begin(db, 0))) return rc;
    rc = ks_get(db, ksname, 0, &k);
    if (rc == VV_OK) {
        rc = db->be->get(db->h, HIST_KS | k->id, key, klen, &p, &n);
        if (rc == VV_OK && !(copy = vvi_malloc(n ? n : 1))) rc = VV_ENOMEM;
        else if (rc == VV_OK) memcpy(copy, p, n);
        else if (rc != VV_ENOTFOUND)
            vvi_fail(db, rc, "%s: %s", db->be->name, db->be->errmsg(db->h));
    }
    txn_end(db, VV_ENOTFOUND);                   /* read only: never commits */
    if (rc == VV_ENOTFOUND) return VV_OK;
    if (rc == VV_ENOMEM) return vvi_fail(db, rc, "out of memory");
    if (rc) return rc;
    rc = hist_each(db, copy, n, fn, ud);
    vvi_free(copy);
    return rc;
}
