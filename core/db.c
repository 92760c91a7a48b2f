/* db.c - a store: open and close, batches, the hooks sync.c uses. */
#include <string.h>
#include <time.h>
#include "db_int.h"

const char *vv_db_node(const vv_db *db) { return db ? db->node : NULL; }
const char *vv_db_actor(const vv_db *db) { return db ? db->actor : NULL; }

static uint64_t system_now(void *ud)
{
    struct timespec t;
    (void)ud;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* ---- batches ------------------------------------------------------------ */

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
    vvi_txn_abort(db);
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
    if ((rc = vvi_txn_open(db, !db->read_only))) return rc;
    if ((rc = format_check(db))) goto out;
    rc = vvi_node_load(db, 1);
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
    if ((rc = vvi_self_new(db))) goto out;
    if (fresh && db->durable && (rc = vvi_node_save(db))) goto out;
    if ((rc = vvi_kslist_load(db)) || (rc = vvi_ks_refresh(db))) goto out;
out:
    if (rc) {
        vvi_txn_abort(db);
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

