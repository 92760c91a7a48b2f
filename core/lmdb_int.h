/* lmdb_int.h - the LMDB backend's handle, shared by lmdb.c, lmdb_grow.c
 * and lmdb_open.c.  Not installed. */
#ifndef VV_LMDB_INT_H
#define VV_LMDB_INT_H

#include <sys/types.h>
#include <lmdb.h>
#include "vv_int.h"

/*
 * Layout (docs/storage.md has the full story)
 *   named DB "header": "format" -> magic "vv-lmdb\0", u32le format version,
 *                       u32le oldest format version able to read this one
 *   named DB "meta"  : record name (no NUL) -> bytes the store chose
 *   named DB "data"  : varint(keyspace id) ++ key -> state bytes
 *   named DB "log"   : the same, for the store's change-log keyspaces
 *                       (ids with VVI_LOG_KS set)
 * One write transaction of the store is one LMDB write transaction, so a
 * state and the counter that made its dot commit together or not at all.
 */

#define LMDB_FORMAT        1u          /* the format this build writes */
#define LMDB_MAGIC         "vv-lmdb"   /* 8 bytes with its NUL */
#define LMDB_MAGIC_LEN     8
#define LMDB_MAP_DEFAULT   ((size_t)64 << 20)   /* first map: 64 MiB */
#define LMDB_LOG_CAP       ((size_t)64 << 20)   /* redo log bound per txn */
#define LMDB_REPLAYS       8                    /* growth attempts per txn */
#define LMDB_REG_MAX       256                  /* open directories a process */
#define LMDB_KEY_BUF       (511 + 8)            /* LMDB's usual key limit */
#define LMDB_MC_N          4                    /* meta records cached */
#define LMDB_MC_NAME       24                   /* longest cached meta name */

/* Where the write cursor stands after a get (lmdb_store.at). */
#define LMDB_AT_KEY 1        /* on the key: a put replaces in place */
#define LMDB_AT_END 2        /* the key is absent and beyond the last */

/* Which database a redo-log record goes to. */
#define LMDB_DATA 'd'
#define LMDB_META 'm'
#define LMDB_LOG  'l'

/* A meta record as of one snapshot (an LMDB transaction id).  The store
 * reads a few meta records in every transaction to notice other
 * processes' changes; while nothing was committed (same id) the copy is
 * exact and saves LMDB lookups on the read path. */
typedef struct lmdb_mc {
    char name[LMDB_MC_NAME];
    size_t snap;             /* txn id the copy is of; 0: empty */
    vv_buf val;
} lmdb_mc;

typedef struct lmdb_store {
    MDB_env *env;
    MDB_txn *txn;            /* the open transaction, or NULL */
    MDB_txn *rtxn;           /* a reset read transaction kept for reuse */
    MDB_dbi data, meta, clog, header;
    int write;               /* txn is a write transaction */
    int read_only;
    int failed;              /* first error inside the write txn (0: none) */
    size_t txnid;            /* id of the write txn (replays must match) */
    size_t snap;             /* id of the read txn's snapshot */
    lmdb_mc mc[LMDB_MC_N];   /* meta records, by snapshot */
    size_t map_max;          /* bound for growth (0: none) */
    size_t maxkey;           /* LMDB's key limit */
    unsigned char key[LMDB_KEY_BUF]; /* scratch: prefixed data key */
    MDB_cursor *cur;         /* write txn: where the last get landed */
    vv_buf curkey;           /* ... for this key */
    int at;                  /* 0: unknown, LMDB_AT_KEY, LMDB_AT_END */
    vv_buf log;              /* redo log of the write txn */
    int log_off;             /* the log went over LMDB_LOG_CAP */
    dev_t dev;               /* identity of the directory (registry) */
    ino_t ino;
    char *path;
    char err[512];
} lmdb_store;

/* ---- lmdb.c ----------------------------------------------------------- */
/* Record a message on the handle and return rc. */
int vvi_lmdb_fail(lmdb_store *l, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Map an LMDB (or errno) code to vv's, keeping LMDB's text. */
int vvi_lmdb_err(lmdb_store *l, int mrc, const char *what);
MDB_dbi vvi_lmdb_dbi(const lmdb_store *l, int db);
extern const vvi_backend vvi_lmdb_ops;

/* ---- lmdb_grow.c ------------------------------------------------------ */
/* The current map size and the bytes in use (up to the last page). */
void vvi_lmdb_usage(lmdb_store *l, size_t *map, size_t *used);
/* Grow the map (see lmdb_grow.c); VV_EMAPFULL when map_max stops it. */
int  vvi_lmdb_grow(lmdb_store *l, int force);
/* After MDB_MAP_FULL: grow and replay the transaction's redo log. */
int  vvi_lmdb_heal(lmdb_store *l);
/* Check that a write transaction is open and usable. */
int  vvi_lmdb_writable(lmdb_store *l);
/* Write (op 'p') or delete (op 'd') one record, healing a full map. */
int  vvi_lmdb_write(lmdb_store *l, int op, int db, MDB_val *k, MDB_val *v);

/* ---- lmdb_open.c ------------------------------------------------------ */
/* Release this process's claim on the directory (dev, ino). */
void vvi_lmdb_release(dev_t dev, ino_t ino);

#endif /* VV_LMDB_INT_H */
