/* lmdb_open.c - opening an LMDB store directory: one open a process, the format header. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <lmdb.h>

#include "lmdb_int.h"

/* ---- one open per directory per process ------------------------------- */
/* LMDB must not open one environment twice in a process: the second open
 * would not see the first one's file locks and would reset the shared
 * lock table.  This small registry refuses that case.  Entries carry the
 * pid so a child after fork() may open what its parent had open. */
static struct { dev_t dev; ino_t ino; pid_t pid; } reg[LMDB_REG_MAX];
static int reg_n;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

/* Claim (dev, ino) for this process: 0, EBUSY (open here) or EMFILE. */
static int reg_claim(dev_t dev, ino_t ino)
{
    int i, rc = 0, free_slot = -1;
    pid_t me = getpid();
    pthread_mutex_lock(&reg_lock);
    for (i = 0; i < reg_n; i++) {
        if (reg[i].pid != me) { free_slot = i; continue; }
        if (reg[i].dev == dev && reg[i].ino == ino) { rc = EBUSY; break; }
    }
    if (rc == 0) {
        if (free_slot < 0 && reg_n < LMDB_REG_MAX) free_slot = reg_n++;
        if (free_slot < 0) rc = EMFILE;
        else {
            reg[free_slot].dev = dev;
            reg[free_slot].ino = ino;
            reg[free_slot].pid = me;
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

/* Release the claim on (dev, ino). */
void vvi_lmdb_release(dev_t dev, ino_t ino)
{
    int i;
    pid_t me = getpid();
    pthread_mutex_lock(&reg_lock);
    for (i = 0; i < reg_n; i++)
        if (reg[i].pid == me && reg[i].dev == dev && reg[i].ino == ino) {
            reg[i].pid = 0;
            break;
        }
    pthread_mutex_unlock(&reg_lock);
}

/* ---- opening ----------------------------------------------------------------- */
static uint32_t get_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void put_u32le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Whether the unnamed (main) database holds any record. */
static int main_db_empty(MDB_txn *txn, int *empty)
{
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    int mrc = mdb_dbi_open(txn, NULL, 0, &dbi);
    if (mrc) return mrc;
    mrc = mdb_cursor_open(txn, dbi, &cur);
    if (mrc) return mrc;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    mdb_cursor_close(cur);
    if (mrc && mrc != MDB_NOTFOUND) return mrc;
    *empty = mrc == MDB_NOTFOUND;
    return MDB_SUCCESS;
}

/* Check the format header inside txn; write it (and create the other
 * databases) into an empty environment when txn can write. */
static int lmdb_setup(lmdb_store *l, MDB_txn *txn, int write)
{
    MDB_val k, v;
    unsigned create = write ? MDB_CREATE : 0;
    int mrc, empty = 0;
    mrc = mdb_dbi_open(txn, "header", 0, &l->header);
    if (mrc == MDB_NOTFOUND) {
        mrc = main_db_empty(txn, &empty);
        if (mrc) return vvi_lmdb_err(l, mrc, "reading the environment");
        if (!empty)
            return vvi_lmdb_fail(l, VV_ECORRUPT, "%s holds an LMDB environment "
                                 "that is not a vv store (no format header)",
                                 l->path);
        if (!write)
            return vvi_lmdb_fail(l, ENOENT, "%s: no vv store there yet (open "
                                 "it once without read_only to create it)",
                                 l->path);
        mrc = mdb_dbi_open(txn, "header", MDB_CREATE, &l->header);
        if (mrc) return vvi_lmdb_err(l, mrc, "creating the header");
    } else if (mrc == MDB_INCOMPATIBLE) {
        return vvi_lmdb_fail(l, VV_ECORRUPT, "%s: the LMDB environment is not "
                             "a vv store (\"header\" is not a database)",
                             l->path);
    } else if (mrc) {
        return vvi_lmdb_err(l, mrc, "opening the header");
    }
    k.mv_data = (void *)"format";
    k.mv_size = 6;
    mrc = mdb_get(txn, l->header, &k, &v);
    if (mrc == MDB_NOTFOUND && write) {
        unsigned char rec[LMDB_MAGIC_LEN + 8];
        memcpy(rec, LMDB_MAGIC, LMDB_MAGIC_LEN);
        put_u32le(rec + LMDB_MAGIC_LEN, LMDB_FORMAT);
        put_u32le(rec + LMDB_MAGIC_LEN + 4, LMDB_FORMAT);
        v.mv_data = rec;
        v.mv_size = sizeof rec;
        mrc = mdb_put(txn, l->header, &k, &v, 0);
        if (mrc) return vvi_lmdb_err(l, mrc, "writing the format header");
    } else if (mrc == MDB_NOTFOUND) {
        return vvi_lmdb_fail(l, VV_ECORRUPT, "%s: the format header is missing",
                             l->path);
    } else if (mrc) {
        return vvi_lmdb_err(l, mrc, "reading the format header");
    } else {
        const unsigned char *p = v.mv_data;
        uint32_t ver, compat;
        if (v.mv_size < LMDB_MAGIC_LEN + 8 ||
            memcmp(p, LMDB_MAGIC, LMDB_MAGIC_LEN) != 0)
            return vvi_lmdb_fail(l, VV_ECORRUPT, "%s: bad format header (not a "
                                 "vv store)", l->path);
        ver = get_u32le(p + LMDB_MAGIC_LEN);
        compat = get_u32le(p + LMDB_MAGIC_LEN + 4);
        if (compat > LMDB_FORMAT)
            return vvi_lmdb_fail(l, VV_EVERSION, "%s has storage format "
                                 "version %u (readable from version %u on); "
                                 "this build of vv reads up to version %u: "
                                 "upgrade vv", l->path,
                                 (unsigned)ver, (unsigned)compat,
                                 (unsigned)LMDB_FORMAT);
    }
    mrc = mdb_dbi_open(txn, "meta", create, &l->meta);
    if (mrc == MDB_SUCCESS) mrc = mdb_dbi_open(txn, "data", create, &l->data);
    if (mrc == MDB_SUCCESS) mrc = mdb_dbi_open(txn, "log", create, &l->clog);
    if (mrc == MDB_NOTFOUND)
        return vvi_lmdb_fail(l, VV_ECORRUPT, "%s: a database of the store is "
                             "missing", l->path);
    if (mrc) return vvi_lmdb_err(l, mrc, "opening the databases");
    return VV_OK;
}

/* Give the handle's message to the caller, then free the handle. */
static int lmdb_open_fail(lmdb_store *l, int rc, char **err)
{
    if (err) *err = vv_strndup(l->err, strlen(l->err));
    vvi_lmdb_ops.close(l);
    return rc;
}

/* Open (creating if needed) the store in directory o->path. */
int vvi_lmdb_open(const vv_options *o, void **h, const vvi_backend **ops,
                  char **err)
{
    lmdb_store *l;
    struct stat st;
    MDB_txn *txn;
    unsigned flags = MDB_NOTLS;
    size_t map;
    int mrc, rc;
    *h = NULL;
    if (err) *err = NULL;
    l = vv_malloc(sizeof *l);
    if (!l) {
        if (err) *err = vv_strndup("out of memory", 13);
        return VV_ENOMEM;
    }
    memset(l, 0, sizeof *l);
    vv_buf_init(&l->log);
    if (!o || !o->path || !*o->path)
        return lmdb_open_fail(l, vvi_lmdb_fail(l, VV_EINVAL, "no path"), err);
    l->path = vv_strndup(o->path, strlen(o->path));
    if (!l->path)
        return lmdb_open_fail(l, vvi_lmdb_fail(l, VV_ENOMEM, "out of memory"),
                              err);
    l->read_only = o->read_only != 0;
    l->map_max = o->map_max;

    if (!l->read_only && mkdir(l->path, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        rc = e == EACCES || e == EROFS ? VV_EREADONLY : e;
        return lmdb_open_fail(l, vvi_lmdb_fail(l, rc, "cannot create %s: %s",
                                               l->path, strerror(e)), err);
    }
    if (stat(l->path, &st) != 0) {
        int e = errno;
        return lmdb_open_fail(l, vvi_lmdb_fail(l, e, "%s: %s", l->path,
                                               strerror(e)), err);
    }
    if (!S_ISDIR(st.st_mode))
        return lmdb_open_fail(l, vvi_lmdb_fail(l, ENOTDIR, "%s is not a "
                                               "directory (a vv store is a "
                                               "directory)", l->path), err);
    rc = reg_claim(st.st_dev, st.st_ino);
    if (rc == EBUSY)
        return lmdb_open_fail(l, vvi_lmdb_fail(l, VV_EBUSY, "%s is already "
                                               "open in this process",
                                               l->path), err);
    if (rc)
        return lmdb_open_fail(l, vvi_lmdb_fail(l, rc, "%s: more than %d "
                                               "durable stores open in this "
                                               "process",
                                               l->path, LMDB_REG_MAX), err);
    l->dev = st.st_dev;
    l->ino = st.st_ino;

    mrc = mdb_env_create(&l->env);
    if (mrc) return lmdb_open_fail(l, vvi_lmdb_err(l, mrc, "env create"), err);
    map = o->map_size ? o->map_size : LMDB_MAP_DEFAULT;
    if (l->map_max && map > l->map_max) map = l->map_max;
    mdb_env_set_mapsize(l->env, map);
    mdb_env_set_maxdbs(l->env, 4);
    if (l->read_only) flags |= MDB_RDONLY;
    if (o->no_sync) flags |= MDB_NOSYNC;
    mrc = mdb_env_open(l->env, l->path, flags, 0666);
    if (mrc) {
        switch (mrc) {
        case MDB_INVALID:
            rc = vvi_lmdb_fail(l, VV_ECORRUPT, "%s/data.mdb is not an LMDB "
                               "environment (damaged or a foreign file): %s",
                               l->path, mdb_strerror(mrc));
            break;
        case MDB_VERSION_MISMATCH:
            rc = vvi_lmdb_fail(l, VV_EVERSION, "%s was written by another LMDB "
                               "version: %s", l->path, mdb_strerror(mrc));
            break;
        case EACCES: case EROFS: case EPERM:
            if (l->read_only)
                rc = vvi_lmdb_fail(l, VV_EREADONLY, "cannot open %s (%s): "
                                   "even a read_only open needs write access "
                                   "to its lock.mdb", l->path,
                                   mdb_strerror(mrc));
            else
                rc = vvi_lmdb_fail(l, VV_EREADONLY, "cannot open %s for "
                                   "writing (%s); open it with read_only",
                                   l->path,
                                   mdb_strerror(mrc));
            break;
        case ENOENT:
            rc = vvi_lmdb_fail(l, ENOENT, "%s: no vv store there (%s)", l->path,
                               mdb_strerror(mrc));
            break;
        default:
            rc = vvi_lmdb_err(l, mrc, "opening the environment");
            break;
        }
        return lmdb_open_fail(l, rc, err);
    }
    {   /* readers a killed process left behind */
        int dead = 0;
        mdb_reader_check(l->env, &dead);
    }
    l->maxkey = (size_t)mdb_env_get_maxkeysize(l->env);
    if (l->maxkey > LMDB_KEY_BUF - 8) l->maxkey = LMDB_KEY_BUF - 8;

    mrc = mdb_txn_begin(l->env, NULL, l->read_only ? MDB_RDONLY : 0, &txn);
    if (mrc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(l->env, 0);
        mrc = mdb_txn_begin(l->env, NULL, l->read_only ? MDB_RDONLY : 0,
                            &txn);
    }
    if (mrc) return lmdb_open_fail(l, vvi_lmdb_err(l, mrc, "begin"), err);
    rc = lmdb_setup(l, txn, !l->read_only);
    if (rc) {
        mdb_txn_abort(txn);
        return lmdb_open_fail(l, rc, err);
    }
    mrc = mdb_txn_commit(txn);
    if (mrc) return lmdb_open_fail(l, vvi_lmdb_err(l, mrc, "commit"), err);
    l->err[0] = 0;
    *h = l;
    *ops = &vvi_lmdb_ops;
    return VV_OK;
}

