/* txn.c - a store's transactions: begin, commit, abort, end of a read. */
/*
 * Every call that touches stored data runs in one backend transaction,
 * or in the one a batch (vv_begin) holds open.  A transaction begins by
 * taking in what other processes changed (the node record, the actor
 * table, keyspace configs: node.c, actors.c, ksconfig.c) and a write
 * commits with what this handle changed in memory (the same records and
 * the change log counters of log.c).  Those files never begin or end a
 * transaction themselves; the calls above them (keyspace.c, write.c,
 * read.c, db.c, ...) do, through this file only.
 */
#include "db_int.h"

/* A write transaction was abandoned: forget the actors and keyspaces it
 * added (our own actor too, when it was added there). */
static void txn_forget(vv_db *db)
{
    vvi_actors_truncate(&db->act, db->na_stored);
    if (db->self_ok && db->self >= db->act.na) db->self_ok = 0;
    vvi_ks_settle(db, 0);
}

/* The backend transaction alone: opening a store reads what it needs
 * itself (db.c). */
int vvi_txn_open(vv_db *db, int write)
{
    int rc = db->be->begin(db->h, write);
    if (rc) return vvi_be_fail(db, rc);
    db->txn = write ? 2 : 1;
    return VV_OK;
}

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
        if (write && (rc = vvi_node_load(db, 0)) && rc != VV_ENOTFOUND)
            goto fail;
        if (!snap || snap != db->actors_snap || db->act.na != db->na_stored) {
            if ((rc = vvi_actors_load(db)) || (rc = vvi_ks_refresh(db)))
                goto fail;
            db->actors_snap = snap;
        }
    }
    if (write && (rc = vvi_self_record(db))) goto fail;
    return VV_OK;
fail:
    vvi_txn_abort(db);
    return vv_db_fail(db, rc, "store metadata unreadable: %s", vv_strerror(rc));
}

/* Abandon the open transaction, if any: nothing it wrote stays, in the
 * backend or in memory. */
void vvi_txn_abort(vv_db *db)
{
    if (!db->txn) return;
    db->be->abort(db->h);
    if (db->txn == 2) txn_forget(db);
    db->txn = 0;
}

/* Commit the open write transaction with what this handle keeps in
 * memory for it; on failure nothing stays. */
static int txn_commit(vv_db *db)
{
    int rc;
    if (db->durable &&
        ((rc = vvi_actors_save(db)) ||
         (db->self_ok && (rc = vvi_node_save(db))) ||
         (rc = vvi_seqs_save(db)))) {
        vvi_txn_abort(db);
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
    db->txn = 0;
    return rc;
}

/* Finish what vvi_txn_begin started: commit when rc is VV_OK, else abort.
 * Inside a batch nothing ends, but a write that failed (other than
 * VV_ENOTFOUND) abandons the batch. */
int vvi_txn_end(vv_db *db, int rc)
{
    if (db->batch) {
        if (rc && rc != VV_ENOTFOUND && db->txn == 2) {
            db->batch = 0;
            vvi_txn_abort(db);
        }
        return rc;
    }
    if (db->txn == 2 && rc == VV_OK) return txn_commit(db);
    vvi_txn_abort(db);
    return rc;
}

/* End a read transaction vvi_txn_begin(db, 0) started (inside a batch:
 * nothing, the batch goes on). */
void vvi_txn_read_end(vv_db *db)
{
    if (db->batch) return;
    vvi_assert(db->txn != 2);
    vvi_txn_abort(db);
}
