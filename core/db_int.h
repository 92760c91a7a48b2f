/* db_int.h - the store handle, its actor table and keyspaces, shared by
 * the files that make up a store.  Not installed.
 *
 * The files, each calling only the ones listed before it (and the lower
 * ones: util.c, clock.c, dvv.c, the backends); tests/t_layers.sh checks
 * that no two call each other:
 *   errmsg.c    the store's message (vv_db_fail, vv_errmsg)
 *   actors.c    the actor table and its record
 *   ksconfig.c  keyspace configs, their records; finding and creating
 *   log.c       the change log of each keyspace and its counters
 *   key.c       the stored state of keys
 *   node.c      the node record and this handle's actor
 *   txn.c       transactions: begin (taking in other processes' changes),
 *               commit (recording this handle's), abort, end of a read
 *   history.c, write.c, read.c, export.c, state.c, stats.c, keyspace.c,
 *   db.c, sync.c: the calls of vv.h, each in its own transactions
 */
#ifndef VV_DB_INT_H
#define VV_DB_INT_H

#include "vv_int.h"

#define STORE_FORMAT   1          /* meta "format": layout of meta records */
#define EXPORT_MAGIC   "VVS"      /* exported key state */
#define EXPORT_FORMAT  1
#define KS_MAX         255
#define NODE_MAX       240        /* leaves room for ".<incarnation>" */
#define TS_AHEAD_MAX   (5 * 60 * 1000) /* adopt remote clocks this far ahead */
#define SESS_MAX       8          /* sessions a change log counter names */

/* ---- the actor table (actors.c) ------------------------------------- */
/* Actors are numbered per store: number -> name, and a hash from name to
 * number.  States refer to actors by number. */
typedef struct vvi_actors {
    char **an;                   /* names (not NUL-terminated) */
    uint8_t *al;                 /* their lengths */
    uint8_t *nl;                 /* their node part's: up to the last '.'
                                    (the whole name without one) */
    vv_centry *ce;               /* each name as a clock entry's key (heap:
                                    the name in an): hashed and compared
                                    by words, and copied into clocks */
    uint32_t na, capa;
    uint32_t *slots;             /* number + 1; 0 is empty */
    size_t nslots;
} vvi_actors;

/* Number of actor name, or -1. */
long vvi_actor_find(const vvi_actors *t, const char *name, size_t len);
/* Number of the actor a clock entry names, or -1. */
long vvi_actor_find_ent(const vvi_actors *t, const vv_centry *e);
/* Length of an actor name's node part: before the last '.', all of it
 * without one. */
size_t vvi_node_len(const char *name, size_t len);
/* Number of actor name, adding it when new. */
int  vvi_actor_intern(vvi_actors *t, const char *name, size_t len,
                      uint32_t *out);
/* vvi_actor_intern of the name of clock entry e. */
int  vvi_actor_intern_ent(vvi_actors *t, const vv_centry *e, uint32_t *out);
/* Forget actors numbered n and above (they were never committed). */
void vvi_actors_truncate(vvi_actors *t, uint32_t n);
/* Order of two actors by name (bytewise): word compares of their keys. */
static inline int vvi_actor_cmp(const vvi_actors *t, uint32_t a, uint32_t b)
{
    return vvi_cent_cmp(&t->ce[a], &t->ce[b]);
}
void vvi_actors_free(vvi_actors *t);

/* ---- keyspaces and the store -------------------------------------------- */
struct vvi_ks {
    struct vvi_ks *next;
    char *name;
    uint32_t id;
    vv_ks_config cfg;            /* strings below are owned copies */
    char *load_error;            /* script that failed to re-attach */
    uint64_t rec_sum;            /* lmdb: hash of its "ks:" record as this
                                    handle last read or wrote it */
    uint64_t warnings;           /* changes that left a key over warn */
    uint64_t warned;             /* ... that took one over (logged) */
    int fresh;                   /* lmdb: created in the open write txn */
    uint64_t seq;                /* change log: last seq given out */
    uint64_t seq_txn;            /* lmdb: txn_no when seq was read */
    int seq_dirty;               /* lmdb: seq to record at commit */
    /* lmdb: the last change each recent writing session of the store
     * numbered (actor number, seq), as "seq:<id>" records them; sync
     * trusts a peer's watermark for such a session up to that seq */
    uint32_t sess_a[SESS_MAX];
    uint64_t sess_s[SESS_MAX];
    unsigned nsess;
};

struct vv_db {
    char *node, *actor;          /* actor: node + this handle's incarnation */
    size_t node_len, actor_len;
    uint32_t self;               /* our actor's number, when self_ok */
    int self_ok;                 /* our actor is in the table: recorded, or
                                    added by the open write transaction */
    uint64_t counter;            /* last dot counter given out */
    uint64_t last_ts;            /* hybrid clock: never goes backwards */
    vv_now_fn now;
    void *now_ud;
    void *h;
    const vvi_backend *be;
    int durable, read_only, batch, txn;
    uint64_t txn_no;             /* transactions begun (change log) */
    vv_script_fn scripts;        /* attaches recorded resolver scripts */
    vvi_ks *attaching;           /* the keyspace db->scripts is attaching */
    uint64_t ksgen;              /* lmdb: config generation of our configs */
    int ksgen_bumped;            /* the open write txn changed a config */
    vvi_actors act;              /* the actor table */
    uint32_t na_stored;          /* actors recorded (durable stores) */
    size_t actors_snap;          /* lmdb: read snapshot whose actor record
                                    the table matches (0: none) */
    vvi_ks *ks, *ks_last;
    uint32_t next_ks;
    char err[512];
};

/* ---- messages (errmsg.c; vv_db_fail is in vv_bind.h) ---------------- */
/* Set db's message to the backend's ("<backend>: <message>"); return rc. */
int  vvi_be_fail(vv_db *db, int rc);

/* ---- the actor table's record (actors.c) ----------------------------- */
/* Load actors another process recorded; record new ones (durable). */
int  vvi_actors_load(vv_db *db);
int  vvi_actors_save(vv_db *db);

/* ---- the node record and this handle's actor (node.c) ---------------- */
/* Read the "node" record: the last timestamp and (when it names our
 * actor) our counter only move forward.  With load_names, take the
 * recorded node name (none given) or check it.  VV_ENOTFOUND: none. */
int  vvi_node_load(vv_db *db, int load_names);
/* Write the "node" record (in a write transaction). */
int  vvi_node_save(vv_db *db);
/* Give this handle a new actor name (node + 8 random characters) that
 * the actor table does not hold; its counter starts at 0. */
int  vvi_self_new(vv_db *db);
/* In a write transaction: add our actor to the actor table (recorded at
 * commit), taking a new name should another handle have taken ours. */
int  vvi_self_record(vv_db *db);

/* ---- transactions (txn.c) -------------------------------------------- */
/* Start a read or write transaction unless a batch holds one open. */
int  vvi_txn_begin(vv_db *db, int write);
/* The backend's transaction alone, without taking in other processes'
 * changes (opening a store does that itself). */
int  vvi_txn_open(vv_db *db, int write);
/* Finish what vvi_txn_begin started: commit when rc is VV_OK, else abort.
 * Returns rc or the commit's failure. */
int  vvi_txn_end(vv_db *db, int rc);
/* End a read transaction (inside a batch: nothing). */
void vvi_txn_read_end(vv_db *db);
/* Abandon the open transaction (none: nothing); nothing of it stays. */
void vvi_txn_abort(vv_db *db);

/* ---- keyspaces (ksconfig.c) ------------------------------------------ */
char *vvi_dupstr(const char *s);             /* NULL stays NULL */
void vvi_cfg_free(vv_ks_config *c);
int  vvi_ks_name_ok(vv_db *db, const char *name);
vvi_ks *vvi_ks_find(vv_db *db, const char *name);
/* The keyspace called name; created (and recorded) when create is set.
 * Must run inside a transaction (write when creating). */
int  vvi_ks_get(vv_db *db, const char *name, int create, vvi_ks **out);
/* Keep (keep != 0) or drop the keyspaces a write transaction created,
 * and its config changes' generation. */
void vvi_ks_settle(vv_db *db, int keep);
int  vvi_kslist_load(vv_db *db);
/* lmdb, in each transaction: when another handle changed a keyspace
 * config (the "ksgen" record moved), take the changed configs in and
 * re-attach their scripts. */
int  vvi_ks_refresh(vv_db *db);
/* Attach the resolver script k's config records (through db->scripts);
 * a failure is kept as k->load_error, which reads then report. */
void vvi_ks_attach(vv_db *db, vvi_ks *k);
void vvi_ks_free(vvi_ks *k);
/* A new keyspace record (default config), last in db's list; NULL when
 * out of memory. */
vvi_ks *vvi_ks_new(vv_db *db, const char *name, uint32_t id);
/* Record k's config (durable stores), moving the config generation when
 * it changed. */
int  vvi_ks_save(vv_db *db, vvi_ks *k);

/* The stored state of keys (key.c).  Values borrow from the backend
 * until the transaction ends or the next write. */
int  vvi_key_ok(vv_db *db, const void *key, size_t klen);
int  vvi_key_load(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                  vvi_dvv *s, int *found);
int  vvi_key_store(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                   const vvi_dvv *s);

/* ---- the change log (log.c) ----------------------------------------- */
int  vvi_seq_load(vv_db *db, vvi_ks *k);
int  vvi_seqs_save(vv_db *db);
/* The key's state is about to change: give it the keyspace's next seq
 * (*seq: the key's seq so far, 0 for none; the new one afterwards). */
int  vvi_log_change(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                    uint64_t *seq);

/* ---- writes (write.c) ----------------------------------------------- */
/* Check the sibling limits after a change that took the key from before
 * live siblings to live; writes over max are refused.  Counts warnings,
 * and logs the change that takes a key over warn_siblings. */
int  vvi_limits(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                size_t before, size_t live, int refuse);
/* The version a put (tomb 0) or a delete of value writes: db's next dot
 * and a timestamp that never goes backwards (VV_EOVERFLOW when the
 * counter is exhausted). */
int  vvi_write_ver(vv_db *db, const void *value, size_t vlen, int tomb,
                   vvi_ver *v);
/* Apply a put (tomb 0) or a delete of value to state s of key: the new
 * version *v takes db's next dot and a timestamp that never goes
 * backwards, replaces the versions cc covers, and the sibling limits are
 * checked (over max_siblings: VV_ELIMIT).  db's counter and clock are
 * not moved: the caller does (db->counter = v->n, db->last_ts = v->ts)
 * once it keeps the state.  On failure s is half-updated: discard it. */
int  vvi_write_apply(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                     vvi_dvv *s, const vvi_ent *cc, size_t ncc,
                     const void *value, size_t vlen, int tomb, vvi_ver *v);
/* Map a caller's context onto db's actor numbers (sorted), adding new
 * names; refuses (VV_EINVAL) a context claiming dots of db's own actor
 * it never gave out.  Uses stack[nstack] when it fits: free *out only
 * when it is not stack. */
int  vvi_ctx_map(vv_db *db, const vv_clock *c, vvi_ent *stack, size_t nstack,
                 vvi_ent **out, size_t *n);
/* Fill the empty clock c with state s's context (actor names, sorted). */
int  vvi_ctx_fill(vv_db *db, const vvi_dvv *s, vv_clock *c);
/* The same for n context entries ctx, actors numbered by act. */
int  vvi_ctx_fill_ents(const vvi_actors *act, const vvi_ent *ctx, size_t n,
                       vv_clock *c);
/* State s's context as a new clock in *out (NULL on failure). */
int  vvi_ctx_clock(vv_db *db, const vvi_dvv *s, vv_clock **out);

/* ---- reads (read.c) ------------------------------------------------- */
/* Order of versions (actors numbered by act): actor name, then counter. */
int  vvi_ver_order(const vvi_actors *act, const vvi_ver *x, const vvi_ver *y);
/* Build the read of state s (actors numbered by act) into *out (a new
 * read when NULL, else reused), and give it a value the way keyspace k
 * resolves key.  Copies what it needs: s and its bytes may go
 * afterwards.  No live version (or s NULL): VV_ENOTFOUND, and a reused
 * read is left empty. */
int  vvi_read_dvv(const vvi_actors *act, vvi_ks *k, const vvi_dvv *s,
                  const void *key, size_t klen, vv_read **out);
/* Empty a read for reuse: what it held goes, its memory stays. */
void vvi_read_reset(vv_read *r);

/* ---- exported states (export.c) -------------------------------------- */
/* A view of an exported state: parsed and checked, with actors by name
 * (a dvv numbers them); names, key and values borrow from the exported
 * bytes. */
typedef struct vvi_xent { const char *name; size_t len; uint64_t n; } vvi_xent;
typedef struct vvi_xver {
    const char *name; size_t len;
    uint64_t n, ts;
    int tomb;
    const unsigned char *val; size_t vlen;
} vvi_xver;
typedef struct vvi_xview {
    const void *key;             /* the key the state names */
    size_t klen;
    vvi_xent *ctx;               /* the context, in name order */
    size_t nctx;
    vvi_xver *v;                 /* the versions, in (name, counter) order */
    size_t nv;
    uint64_t maxts;              /* the greatest version timestamp */
} vvi_xview;

/* Parse and check every byte of an exported state into *x (release it
 * with vvi_xview_free, also after a failure).  Unless anykey, it must
 * be a state of key.  VV_ECORRUPT, VV_EVERSION, VV_EFOREIGN, VV_ENOMEM. */
int  vvi_export_parse(const void *state, size_t len, const void *key,
                      size_t klen, int anykey, vvi_xview *x);
void vvi_xview_free(vvi_xview *x);
/* Build o (empty) from x, numbering its actors in act (names added). */
int  vvi_xview_load(vvi_actors *act, const vvi_xview *x, vvi_dvv *o);
/* Append the export of state s of key (actors numbered by act) to b. */
int  vvi_dvv_export(const vvi_actors *act, const vvi_dvv *s,
                    const void *key, size_t klen, vv_buf *b);
/* VV_ECORRUPT with a message when state o (db's actor numbers) claims
 * dots of db's own actor that db never gave out. */
int  vvi_claims_ok(vv_db *db, const vvi_dvv *o);
/* Timestamps: db->last_ts (the last one given out, never backwards)
 * follows maxts unless that is too far ahead of the wall clock
 * (TS_AHEAD_MAX).  It moves a timestamp, not a vv_clock. */
void vvi_ts_follow(vv_db *db, uint64_t maxts);
/* Call dot_fn for each context entry of a state checked before, then
 * ver_fn for each version (either may be NULL), in the order of its
 * bytes, holding no memory; a non-zero return stops and is returned. */
int  vvi_export_walk(const void *state, size_t len,
                     int (*dot_fn)(void *ud, const vv_dot *d),
                     int (*ver_fn)(void *ud, const vv_version *v), void *ud);
/* Set db's message for a state vvi_export_parse refused with rc. */
int  vvi_export_fail(vv_db *db, int rc, const void *state, size_t len);

/* ---- causal history (history.c) ------------------------------------- */
/* What a change does to a key, gathered before the state changes. */
typedef struct vvi_hnote {
    vvi_ent *rep;                /* dots of the versions it replaces */
    size_t nrep;
    vvi_ver *add;                /* versions a merge brings (values borrow
                                    from the caller's exported state) */
    size_t nadd;
} vvi_hnote;

void vvi_hist_free(vvi_hnote *h);
/* Before state s changes: the versions of s that ctx covers (for a merge
 * with o: and that o does not hold as well), and the versions of o that s
 * has not seen. */
int  vvi_hist_gather(const vvi_dvv *s, const vvi_ent *ctx, size_t nctx,
                     const vvi_dvv *o, vvi_hnote *h);
/* After a change (inside its transaction): add its entries to the key's
 * history.  written is the version a write made; NULL for a merge. */
int  vvi_hist_note(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                   const vvi_hnote *h, const vvi_ver *written);

#endif /* VV_DB_INT_H */
