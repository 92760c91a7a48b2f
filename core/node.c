/* node.c - the store's node record and this handle's actor. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include "db_int.h"

/* "node": varint len, node, varint len, actor, varint counter, varint ts.
 * The actor is the last handle that wrote and counter its last dot (what
 * a build that kept one actor per store continues from); ts is the node's
 * last timestamp (never backwards), shared by every handle. */
int vvi_node_save(vv_db *db)
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

/* Read the node record: the last timestamp only moves forward (another
 * handle may have written since), and so does our counter should the
 * record name our actor.  With load_names, take the node name or check
 * it. */
int vvi_node_load(vv_db *db, int load_names)
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
int vvi_self_new(vv_db *db)
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
int vvi_self_record(vv_db *db)
{
    int rc;
    if (db->self_ok) return VV_OK;
    if (vvi_actor_find(&db->act, db->actor, db->actor_len) >= 0 &&
        (rc = vvi_self_new(db)))
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
