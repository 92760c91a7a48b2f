/* key.c - the stored state of keys: checked, loaded and stored. */
#include "db_int.h"

int vvi_key_ok(vv_db *db, const void *key, size_t klen)
{
    if (!key && klen) return vv_db_fail(db, VV_EINVAL, "key missing");
    if (klen > VV_KEY_MAX)
        return vv_db_fail(db, VV_EINVAL, "key is %zu bytes; the limit is %d",
                          klen, VV_KEY_MAX);
    return VV_OK;
}

/* Does state s name only actors of the table (numbers below na)? */
static int actors_known(const vvi_dvv *s, uint32_t na)
{
    size_t i;
    for (i = 0; i < s->nctx; i++) if (s->ctx[i].a >= na) return 0;
    for (i = 0; i < s->nv; i++) if (s->v[i].a >= na) return 0;
    return 1;
}

/* The stored state of key (empty when absent).  Values borrow from the
 * backend until the transaction ends or the next write. */
int vvi_key_load(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                 vvi_dvv *s, int *found)
{
    const void *p;
    size_t n;
    int rc = db->be->get(db->h, k->id, key, klen, &p, &n);
    *found = 0;
    vvi_dvv_init(s);
    if (rc == VV_ENOTFOUND) return VV_OK;
    if (rc) return vvi_be_fail(db, rc);
    if ((rc = vvi_dvv_decode(s, p, n)) == VV_OK &&
        !actors_known(s, db->act.na)) {
        vvi_dvv_free(s);
        rc = VV_ECORRUPT;
    }
    if (rc)
        return vv_db_fail(db, rc, "stored state of a key in '%s' is unreadable",
                          k->name);
    *found = 1;
    return VV_OK;
}

int vvi_key_store(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                  const vvi_dvv *s)
{
    unsigned char mem[512];
    vv_buf b;
    int rc;
    vvi_buf_init_fixed(&b, mem, sizeof mem);
    vvi_dvv_encode(s, &b);
    if (b.oom) { vv_buf_free(&b); return vv_db_fail(db, VV_ENOMEM, "out of memory"); }
    rc = db->be->put(db->h, k->id, key, klen, b.p, b.len);
    vv_buf_free(&b);
    if (rc) return vvi_be_fail(db, rc);
    return VV_OK;
}
