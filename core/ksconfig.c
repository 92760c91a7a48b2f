/* ksconfig.c - keyspaces: their configs and records, found and created. */
#include <stdio.h>
#include <string.h>
#include "db_int.h"

void vvi_cfg_free(vv_ks_config *c)
{
    if (c->resolve_free && c->resolve_ud) c->resolve_free(c->resolve_ud);
    vv_free((char *)c->resolver_name);
    vv_free((char *)c->codec);
    vv_free((char *)c->script);
    memset(c, 0, sizeof *c);
}

char *vvi_dupstr(const char *s)
{
    return s ? vv_strndup(s, strlen(s)) : NULL;
}

static void put_str(vv_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    vvi_buf_varint(b, n);
    vv_buf_add(b, s, n);
}

static char *get_str(vvi_rd *r)
{
    uint64_t n = vvi_rd_varint(r);
    const unsigned char *p = vvi_rd_bytes(r, (size_t)n);
    if (!p || n == 0) return NULL;
    return vv_strndup((const char *)p, (size_t)n);
}

/* "ks:<name>": varint id, byte resolver, str name, str codec, str script,
 * varint warn, varint max, byte writeback, varint instr, varint memory,
 * varint history (added later: a record without it means 0). */
static void cfg_encode(vv_buf *b, uint32_t id, const vv_ks_config *c)
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
        vvi_cfg_free(c);
        return VV_ECORRUPT;
    }
    if (c->resolver == VV_RESOLVE_CUSTOM) c->resolver = VV_RESOLVE_SIBLINGS;
    return VV_OK;
}

vvi_ks *vvi_ks_find(vv_db *db, const char *name)
{
    vvi_ks *k;
    if (db->ks_last && strcmp(db->ks_last->name, name) == 0) return db->ks_last;
    for (k = db->ks; k; k = k->next)
        if (strcmp(k->name, name) == 0) return db->ks_last = k;
    return NULL;
}

int vvi_ks_name_ok(vv_db *db, const char *name)
{
    size_t n;
    if (!name) return vv_db_fail(db, VV_EINVAL, "keyspace name missing");
    n = strlen(name);
    if (n < 1 || n > KS_MAX)
        return vv_db_fail(db, VV_EINVAL, "keyspace name must be 1..%d bytes", KS_MAX);
    return VV_OK;
}

/* "ksgen": varint, the config generation.  Every change of a keyspace
 * config or of the keyspace list moves it, so that each transaction of
 * another handle sees with one (cached) read whether it must read the
 * configs again. */
static int ksgen_read(vv_db *db, uint64_t *gen)
{
    const void *p;
    size_t n;
    vvi_rd r;
    int rc = db->be->meta_get(db->h, "ksgen", &p, &n);
    *gen = 0;
    if (rc == VV_ENOTFOUND) return VV_OK;
    if (rc) return rc;
    vvi_rd_init(&r, p, n);
    *gen = vvi_rd_varint(&r);
    return r.err ? VV_ECORRUPT : VV_OK;
}

/* The open write transaction changes a config: move the generation (once
 * a transaction; the handle takes the new one when it commits). */
static int ksgen_bump(vv_db *db)
{
    unsigned char mem[10];
    vv_buf b;
    int rc;
    if (!db->durable || db->ksgen_bumped) return VV_OK;
    vvi_buf_init_fixed(&b, mem, sizeof mem);
    vvi_buf_varint(&b, db->ksgen + 1);
    rc = b.oom ? VV_ENOMEM : db->be->meta_put(db->h, "ksgen", b.p, b.len);
    vv_buf_free(&b);
    if (rc == VV_OK) db->ksgen_bumped = 1;
    return rc;
}

/* "ks:<name>": the config, recorded when it changed. */
int vvi_ks_save(vv_db *db, vvi_ks *k)
{
    vv_buf b;
    char mname[KS_MAX + 4];
    const void *old;
    size_t oldn;
    int rc;
    if (!db->durable) return VV_OK;
    snprintf(mname, sizeof mname, "ks:%s", k->name);
    vv_buf_init(&b);
    cfg_encode(&b, k->id, &k->cfg);
    if (b.oom) { vv_buf_free(&b); return VV_ENOMEM; }
    if (db->be->meta_get(db->h, mname, &old, &oldn) == VV_OK &&
        oldn == b.len && memcmp(old, b.p, b.len) == 0)
        rc = VV_OK;                               /* unchanged */
    else if ((rc = db->be->meta_put(db->h, mname, b.p, b.len)) == VV_OK)
        rc = ksgen_bump(db);
    if (rc == VV_OK) k->rec_sum = vvi_hash64(b.p, b.len, 0);
    vv_buf_free(&b);
    return rc;
}

/* "kslist": varint next id, varint count, count x str name. */
static int kslist_save(vv_db *db)
{
    vv_buf b;
    vvi_ks *k;
    size_t n = 0;
    int rc;
    if (!db->durable) return VV_OK;
    for (k = db->ks; k; k = k->next) n++;
    vv_buf_init(&b);
    vvi_buf_varint(&b, db->next_ks);
    vvi_buf_varint(&b, n);
    for (k = db->ks; k; k = k->next) put_str(&b, k->name);
    rc = b.oom ? VV_ENOMEM : db->be->meta_put(db->h, "kslist", b.p, b.len);
    vv_buf_free(&b);
    return rc ? rc : ksgen_bump(db);
}

/* Fill in the names a config shows when they were left out. */
static int cfg_defaults(vv_ks_config *c)
{
    if (!c->resolver_name)
        c->resolver_name = vvi_dupstr(c->resolver == VV_RESOLVE_LWW ? "lww"
                                      : c->script ? c->script : "siblings");
    if (!c->codec) c->codec = vvi_dupstr("msgpack");
    return c->resolver_name && c->codec ? VV_OK : VV_ENOMEM;
}

/* A new keyspace in memory, kept in creation order. */
vvi_ks *vvi_ks_new(vv_db *db, const char *name, uint32_t id)
{
    vvi_ks *k = vv_malloc(sizeof *k), **tail;
    if (!k) return NULL;
    memset(k, 0, sizeof *k);
    if (!(k->name = vvi_dupstr(name)) || cfg_defaults(&k->cfg)) {
        vvi_cfg_free(&k->cfg);
        vv_free(k->name);
        vv_free(k);
        return NULL;
    }
    k->id = id;
    for (tail = &db->ks; *tail; tail = &(*tail)->next) {}
    *tail = k;                                   /* keep creation order */
    return k;
}

static int ks_load_one(vv_db *db, const char *name);

/* lmdb: keyspaces created in a write transaction exist on disk only once
 * it commits.  When it aborts (vv_abort, a failed write, a full map) they
 * must go from memory too: otherwise later writes would go to a keyspace
 * id that no record names (lost on reopen) and that another process may
 * give to another keyspace. */
void vvi_ks_settle(vv_db *db, int keep)
{
    vvi_ks **p = &db->ks;
    while (*p) {
        vvi_ks *k = *p;
        if (!k->fresh) { p = &k->next; continue; }
        if (keep) { k->fresh = 0; p = &k->next; continue; }
        *p = k->next;
        vvi_ks_free(k);
    }
    db->ks_last = NULL;
    if (keep && db->ksgen_bumped) db->ksgen++;
    db->ksgen_bumped = 0;
}

/* Attach the resolver script k's config records, through db->scripts:
 * its vv_keyspace call for k changes k in memory only (vv_keyspace). */
void vvi_ks_attach(vv_db *db, vvi_ks *k)
{
    vv_ks_config c = k->cfg;
    char *script, *msg;
    size_t ml;
    int rc;
    if (!k->cfg.script) return;
    if (!(script = vvi_dupstr(k->cfg.script))) return;
    if (db->scripts) {
        db->attaching = k;
        rc = db->scripts(db, k->name, script, &c);
        db->attaching = NULL;
    } else {
        rc = vv_db_fail(db, VV_ERESOLVER, "this program sets no script host "
                        "(vv_options.scripts), so the store cannot run it");
    }
    if (rc) {
        ml = strlen(db->err) + strlen(script) + 64;
        if ((msg = vv_malloc(ml)))
            snprintf(msg, ml, "resolver script '%s' did not load: %s",
                     script, db->err);
        vv_free(k->load_error);
        k->load_error = msg;
    }
    vv_free(script);
}

/* Free a keyspace record and its config (its resolver goes too). */
void vvi_ks_free(vvi_ks *k)
{
    vvi_cfg_free(&k->cfg);
    vv_free(k->load_error);
    vv_free(k->name);
    vv_free(k);
}

/* The keyspace called name; created (and recorded) when create is set.
 * Must run inside a transaction (write when creating). */
int vvi_ks_get(vv_db *db, const char *name, int create, vvi_ks **out)
{
    vvi_ks *k;
    int rc;
    *out = NULL;
    if (name && (k = vvi_ks_find(db, name))) { *out = k; return VV_OK; }
    if ((rc = vvi_ks_name_ok(db, name))) return rc;
    if (db->durable) {                           /* another process's? */
        rc = ks_load_one(db, name);
        if (rc == VV_OK && (k = vvi_ks_find(db, name))) { *out = k; return VV_OK; }
        if (rc && rc != VV_ENOTFOUND) return rc;
    }
    if (!create) return VV_ENOTFOUND;
    /* lmdb: another process may have added keyspaces (and moved the next
     * id) since we read the list: take them in, or the list we write
     * below would drop them */
    if (db->durable && (rc = vvi_kslist_load(db))) return rc;
    if (db->next_ks >= VVI_LOG_KS)               /* those name change logs */
        return vv_db_fail(db, VV_EOVERFLOW, "too many keyspaces");
    if (!(k = vvi_ks_new(db, name, db->next_ks++))) return VV_ENOMEM;
    k->fresh = 1;
    if ((rc = vvi_ks_save(db, k)) || (rc = kslist_save(db)))
        return vv_db_fail(db, rc, "cannot record keyspace '%s': %s", name,
                          db->be->errmsg(db->h));
    *out = k;
    return VV_OK;
}

/* Read keyspace name's record (another handle's keyspace, or any at
 * open) and attach its script. */
static int ks_load_one(vv_db *db, const char *name)
{
    char mname[KS_MAX + 4];
    const void *p;
    size_t n;
    uint32_t id;
    vv_ks_config c;
    vvi_ks *k;
    int rc;
    snprintf(mname, sizeof mname, "ks:%s", name);
    if ((rc = db->be->meta_get(db->h, mname, &p, &n))) return rc;
    if ((rc = cfg_decode(p, n, &id, &c))) return rc;
    if (cfg_defaults(&c) || !(k = vvi_ks_new(db, name, id))) {
        vvi_cfg_free(&c);
        return VV_ENOMEM;
    }
    vvi_cfg_free(&k->cfg);
    k->cfg = c;
    k->rec_sum = vvi_hash64(p, n, 0);
    if (id >= db->next_ks) db->next_ks = id + 1;
    vvi_ks_attach(db, k);
    return VV_OK;
}

/* Take in k's record (p, n) as another handle changed it: its config
 * replaces ours, but for a resolver function of this process
 * (VV_RESOLVE_CUSTOM without a script) while the record still names it
 * and resolves with no script nor "lww"; a script is attached anew. */
static int ks_take(vv_db *db, vvi_ks *k, const void *p, size_t n)
{
    vv_ks_config c, old = k->cfg;
    uint32_t id;
    int rc;
    if ((rc = cfg_decode(p, n, &id, &c))) return rc;
    if (id != k->id) {
        vvi_cfg_free(&c);
        return VV_ECORRUPT;                      /* ids never change */
    }
    if (cfg_defaults(&c)) {
        vvi_cfg_free(&c);
        return VV_ENOMEM;
    }
    if (old.resolver == VV_RESOLVE_CUSTOM && !old.script && old.resolve &&
        c.resolver == VV_RESOLVE_SIBLINGS && !c.script &&
        !strcmp(c.resolver_name, old.resolver_name)) {
        c.resolver = VV_RESOLVE_CUSTOM;          /* ours stays */
        c.resolve = old.resolve;
        c.resolve_ud = old.resolve_ud;
        c.resolve_free = old.resolve_free;
        old.resolve_free = NULL;
    }
    k->cfg = c;
    k->rec_sum = vvi_hash64(p, n, 0);
    vvi_cfg_free(&old);
    vv_free(k->load_error);
    k->load_error = NULL;
    vvi_ks_attach(db, k);
    return VV_OK;
}

int vvi_ks_refresh(vv_db *db)
{
    char err[sizeof db->err];
    uint64_t gen;
    vvi_ks *k;
    int rc;
    if (!db->durable) return VV_OK;
    if ((rc = ksgen_read(db, &gen)) || gen == db->ksgen) return rc;
    memcpy(err, db->err, sizeof err);            /* attaching may fail */
    for (k = db->ks; k && !rc; k = k->next) {
        char mname[KS_MAX + 4];
        const void *p;
        size_t n;
        snprintf(mname, sizeof mname, "ks:%s", k->name);
        rc = db->be->meta_get(db->h, mname, &p, &n);
        if (rc == VV_ENOTFOUND) rc = VV_OK;      /* in our memory only */
        else if (rc == VV_OK && vvi_hash64(p, n, 0) != k->rec_sum)
            rc = ks_take(db, k, p, n);
    }
    if (rc == VV_OK) rc = vvi_kslist_load(db);
    memcpy(db->err, err, sizeof err);
    if (rc == VV_OK) db->ksgen = gen;
    return rc;
}

int vvi_kslist_load(vv_db *db)
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
        if (!vvi_ks_find(db, name) && (rc = ks_load_one(db, name)) != VV_OK) {
            vv_free(name);
            return rc;
        }
        vv_free(name);
    }
    return VV_OK;
}
