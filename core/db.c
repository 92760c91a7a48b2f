/* db.c - a store: open and close, its node and actor, transactions. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include "db_int.h"

int vv_db_fail(vv_db *db, int rc, const char *fmt, ...)
{
    va_list ap;
    if (!db) return rc;
    va_start(ap, fmt);
    vsnprintf(db->err, sizeof db->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* The backend failed: its name and message become db's, rc is returned. */
int vvi_be_fail(vv_db *db, int rc)
{
    return vv_db_fail(db, rc, "%s: %s", db->be->name, db->be->errmsg(db->h));
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

/* "node": varint len, node, varint len, actor, varint counter, varint ts.
 * The actor is the last handle that wrote and counter its last dot (what
 * a build that kept one actor per store continues from); ts is the node's
 * hybrid clock, shared by every handle. */
static int node_save(vv_db *db)
{
    vv_buf b;
    int rc;
    vv_buf_init(&b);
    vvi_buf_varint(&b, db->node_len);
    vv_buf_add(&b, db->node, db->node_len);
    vvi_buf_varint(&b, db->actor_len);
    vv_buf_add(&b, db->actor, db->actor_len);
    vvi_buf_varint(&b, db->counter);
    vvi_buf_varint(&b, db->last_ts);
    rc = b.oom ? VV_ENOMEM : db->be->meta_put(db->h, "node", b.p, b.len);
    vv_buf_free(&b);
    return rc;
}

/* Read the node record: the clock only moves forward (another handle may
 * have written since), and so does our counter should the record name our
 * actor.  With load_names, take the node name or check it. */
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
        if (!(db->node = vv_strndup((const char *)node, (size_t)nl)))
            return VV_ENOMEM;
        db->node_len = (size_t)nl;
    }
    if (load_names && (nl != db->node_len || memcmp(node, db->node, nl) != 0))
        return vv_db_fail(db, VV_EINVAL,
                          "this store belongs to node '%.*s', not '%s'",
                          (int)nl, (const char *)node, db->node);
    if (db->actor && al == db->actor_len &&
        memcmp(actor, db->actor, al) == 0 && cnt > db->counter)
        db->counter = cnt;
    if (ts > db->last_ts) db->last_ts = ts;
    return VV_OK;
}

/* A new actor for this handle: the node and 8 random base-32 characters
 * (40 bits from /dev/urandom), not one the actor table holds.  Made again
 * in the same memory, so vv_db_actor stays valid. */
static int make_actor(vv_db *db)
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    char *a = db->actor ? db->actor : vv_malloc(db->node_len + 10);
    int tries;
    if (!a) return VV_ENOMEM;
    db->actor = a;
    memcpy(a, db->node, db->node_len);
    a[db->node_len] = '.';
    a[db->node_len + 9] = 0;
    for (tries = 0; ; tries++) {
        unsigned char r[8];
        int i, ok = 0;
        int fd = open("/dev/urandom", O_RDONLY);
        if (fd >= 0) {
            ok = read(fd, r, sizeof r) == (ssize_t)sizeof r;
            close(fd);
        }
        if (!ok) {                               /* fall back: time + address */
            struct timespec t;
            uint64_t x;
            clock_gettime(CLOCK_REALTIME, &t);
            x = vvi_hash64(&t, sizeof t, (uint64_t)(uintptr_t)a ^
                           (uint64_t)getpid() ^ (uint64_t)tries);
            memcpy(r, &x, 8);
        }
        for (i = 0; i < 8; i++) a[db->node_len + 1 + i] = b32[r[i] & 31];
        if (vvi_actor_find(&db->act, a, db->node_len + 9) < 0) break;
        if (tries == 100)                        /* no randomness at all */
            return vv_db_fail(db, VV_ESTORAGE, "cannot make a new actor name");
    }
    db->actor_len = db->node_len + 9;
    db->counter = 0;
    return VV_OK;
}

/* In a write transaction: put our actor in the actor table (recorded at
 * commit).  Should another handle have taken its name since we made it,
 * take another. */
static int self_record(vv_db *db)
{
    int rc;
    if (db->self_ok) return VV_OK;
    if (vvi_actor_find(&db->act, db->actor, db->actor_len) >= 0 &&
        (rc = make_actor(db)))
        return rc;
    if ((rc = vvi_actor_intern(&db->act, db->actor, db->actor_len,
                               &db->self)))
        return rc;
    db->self_ok = 1;
    return VV_OK;
}

/* (Tests only, vv_int.h.)  The name is put in the actor table by the
 * next write transaction, as a fresh actor's is. */
int vvi_db_twin(vv_db *db, const vv_db *of)
{
    char *name;
    if (db->txn || db->batch || db->self_ok) return VV_EBUSY;
    if (!(name = vv_strndup(of->actor, of->actor_len))) return VV_ENOMEM;
    vv_free(db->actor);
    db->actor = name;
    db->actor_len = of->actor_len;
    db->counter = of->counter;
    db->last_ts = of->last_ts;
    return VV_OK;
}

/* A write transaction was abandoned: forget the actors and keyspaces it
 * added (our own actor too, when it was added there). */
static void txn_forget(vv_db *db)
{
    vvi_actors_truncate(&db->act, db->na_stored);
    if (db->self_ok && db->self >= db->act.na) db->self_ok = 0;
    vvi_ks_settle(db, 0);
}

/* ---- transactions ------------------------------------------------------- */

/* Start a read or write transaction unless a batch holds one open. */
int vvi_txn_begin(vv_db *db, int write)
{
    int rc;
    if (db->batch) return VV_OK;
    if (write && db->read_only)
        return vv_db_fail(db, VV_EREADONLY, "store is open read-only");
    if ((rc = db->be->begin(db->h, write)))
        return vv_db_fail(db, rc, "%s: cannot begin: %s", db->be->name,
                          db->be->errmsg(db->h));
    db->txn = write ? 2 : 1;
    db->txn_no++;
    if (db->durable) {
        /* another process may have moved the clock, added actors or
         * changed keyspace configs; a read of a snapshot already looked
         * at (nothing committed since, nothing added here) skips it */
        size_t snap = write ? 0 : vvi_lmdb_snapshot(db->h);
        if (write && (rc = node_load(db, 0)) && rc != VV_ENOTFOUND) goto fail;
        if (!snap || snap != db->actors_snap || db->act.na != db->na_stored) {
            if ((rc = vvi_actors_load(db)) || (rc = vvi_ks_refresh(db)))
                goto fail;
            db->actors_snap = snap;
        }
    }
    if (write && (rc = self_record(db))) goto fail;
    return VV_OK;
fail:
    db->be->abort(db->h);
    if (write) txn_forget(db);
    db->txn = 0;
    return vv_db_fail(db, rc, "store metadata unreadable: %s", vv_strerror(rc));
}

/* Finish what vvi_txn_begin started: commit when rc is VV_OK, else abort. */
int vvi_txn_end(vv_db *db, int rc)
{
    if (db->batch) {
        if (rc && rc != VV_ENOTFOUND && db->txn == 2) {
            /* a failed write inside a batch: the batch is abandoned */
            db->be->abort(db->h);
            txn_forget(db);
            db->batch = 0;
            db->txn = 0;
        }
        return rc;
    }
    if (!db->txn) return rc;
    if (db->txn == 2 && rc == VV_OK) {
        if (db->durable &&
            ((rc = vvi_actors_save(db)) ||
             (db->self_ok && (rc = node_save(db))) ||
             (rc = vvi_seqs_save(db)))) {
            db->be->abort(db->h);
            txn_forget(db);
            db->txn = 0;
            return vvi_be_fail(db, rc);
        }
        rc = db->be->commit(db->h);
        if (rc) {
            txn_forget(db);
            vv_db_fail(db, rc, "%s: commit failed: %s", db->be->name,
                       db->be->errmsg(db->h));
        } else {
            db->na_stored = db->act.na;
            vvi_ks_settle(db, 1);
        }
    } else {
        db->be->abort(db->h);
        if (db->txn == 2) txn_forget(db);
    }
    db->txn = 0;
    return rc;
}

int vv_begin(vv_db *db)
{
    int rc;
    if (!db) return VV_EINVAL;
    if (db->batch) return vv_db_fail(db, VV_EBUSY, "a batch is already open");
    if ((rc = vvi_txn_begin(db, 1))) return rc;
    db->batch = 1;
    return VV_OK;
}

int vv_commit(vv_db *db)
{
    if (!db) return VV_EINVAL;
    if (!db->batch) return vv_db_fail(db, VV_EBUSY, "no batch is open");
    db->batch = 0;
    return vvi_txn_end(db, VV_OK);
}

int vv_abort(vv_db *db)
{
    if (!db) return VV_EINVAL;
    if (!db->batch) return vv_db_fail(db, VV_EBUSY, "no batch is open");
    db->batch = 0;
    vvi_txn_end(db, VV_EINVAL);                      /* anything but OK aborts */
    return VV_OK;
}

/* ---- open and close ------------------------------------------------------- */

/* Check the format record (write it into a new store). */
static int format_check(vv_db *db)
{
    const void *p;
    size_t n;
    vvi_rd r;
    uint64_t v;
    int rc = db->be->meta_get(db->h, "format", &p, &n);
    if (rc == VV_ENOTFOUND && !db->read_only) {
        unsigned char f = STORE_FORMAT;
        return db->be->meta_put(db->h, "format", &f, 1);
    }
    if (rc == VV_ENOTFOUND) return VV_OK;
    if (rc) return rc;
    vvi_rd_init(&r, p, n);
    v = vvi_rd_varint(&r);
    if (r.err) return vv_db_fail(db, VV_ECORRUPT, "format record unreadable");
    if (v > STORE_FORMAT)
        return vv_db_fail(db, VV_EVERSION, "store format %llu is newer than "
                          "this build reads (%d)", (unsigned long long)v,
                          STORE_FORMAT);
    return VV_OK;
}

/* Read what the store records (a new one: record its node) and make this
 * handle's actor.  The actor goes into the actor table with the first
 * write, so a handle that only reads leaves no trace. */
static int db_setup(vv_db *db)
{
    int rc, fresh = 0;
    if ((rc = db->be->begin(db->h, !db->read_only)))
        return vvi_be_fail(db, rc);
    db->txn = db->read_only ? 1 : 2;
    if ((rc = format_check(db))) goto out;
    rc = node_load(db, 1);
    if (rc == VV_ENOTFOUND) {                    /* a new store */
        if (db->read_only) { rc = vv_db_fail(db, VV_EREADONLY, "empty store opened read-only"); goto out; }
        if (!db->node) {
            rc = vv_db_fail(db, VV_EINVAL, "a node name is required to create "
                            "a store in a new directory");
            goto out;
        }
        fresh = 1;
        rc = VV_OK;
    }
    if (rc) goto out;
    if ((rc = vvi_actors_load(db))) goto out;
    if ((rc = make_actor(db))) goto out;
    if (fresh && db->durable && (rc = node_save(db))) goto out;
    if ((rc = vvi_kslist_load(db)) || (rc = vvi_ks_refresh(db))) goto out;
out:
    if (rc) {
        db->be->abort(db->h);
        db->txn = 0;
        if (!db->err[0]) vv_db_fail(db, rc, "%s", vv_strerror(rc));
        return rc;
    }
    return vvi_txn_end(db, VV_OK);
}

int vv_db_open(const vv_options *o, vv_db **out, char **errmsg)
{
    vv_db *db;
    size_t nl;
    int rc;
    if (out) *out = NULL;
    if (errmsg) *errmsg = NULL;
    if (!o || !out) return VV_EINVAL;
    nl = o->node ? strlen(o->node) : 0;
    if ((o->node || !o->path) && (nl < 1 || nl > NODE_MAX)) {
        if (errmsg) *errmsg = vv_strndup("a node name of 1..240 bytes is required", 39);
        return VV_EINVAL;
    }
    if (!(db = vv_malloc(sizeof *db))) return VV_ENOMEM;
    memset(db, 0, sizeof *db);
    db->now = o->now ? o->now : system_now;
    db->now_ud = o->now_ud;
    db->node_len = nl;
    db->read_only = o->read_only && o->path;
    /* without a node, a durable store takes the one its directory records */
    if (o->node && !(db->node = vv_strndup(o->node, nl))) { vv_free(db); return VV_ENOMEM; }
    if (o->path) {
        char *e = NULL;
        rc = vvi_lmdb_open(o, &db->h, &db->be, &e);
        if (rc) {
            if (errmsg) *errmsg = e; else vv_free(e);
            vv_db_close(db);
            return rc;
        }
        db->durable = 1;
    } else if ((rc = vvi_mem_open(&db->h, &db->be))) {
        vv_db_close(db);
        return rc;
    }
    db->scripts = o->scripts;            /* setup attaches recorded scripts */
    if ((rc = db_setup(db))) {
        if (errmsg) *errmsg = vv_strndup(db->err, strlen(db->err));
        vv_db_close(db);
        return rc;
    }
    db->err[0] = 0;
    *out = db;
    return VV_OK;
}

void vv_db_close(vv_db *db)
{
    vvi_ks *k;
    if (!db) return;
    if (db->batch || db->txn) {
        db->be->abort(db->h);
        db->batch = db->txn = 0;
    }
    while ((k = db->ks)) {
        db->ks = k->next;
        vvi_ks_free(k);
    }
    if (db->be) db->be->close(db->h);
    vvi_actors_free(&db->act);
    vv_free(db->node);
    vv_free(db->actor);
    vv_free(db);
}

/* ---- hooks for keyspace sync (sync.c; documented in vv_int.h) ------------ */
int vvi_sync_begin(vv_db *db, const char *name, int mode, vvi_ks **k)
{
    int rc;
    *k = NULL;
    db->err[0] = 0;
    if ((rc = vvi_txn_begin(db, mode > 0))) return rc;
    rc = vvi_ks_get(db, name, mode == 2, k);
    if (rc == VV_ENOTFOUND) { *k = NULL; return VV_OK; }
    if (rc) return vvi_txn_end(db, rc);
    return VV_OK;
}

int vvi_sync_end(vv_db *db, int rc)
{
    return vvi_txn_end(db, rc);
}

const vvi_backend *vvi_db_backend(vv_db *db, void **h)
{
    *h = db->h;
    return db->be;
}

