/* keyspace.c - the keyspace calls: configure, show and list keyspaces. */
#include <string.h>
#include "db_int.h"

int vv_keyspace(vv_db *db, const char *name, const vv_ks_config *cfg)
{
    vvi_ks *k;
    vv_ks_config c;
    int rc;
    if (!db) return VV_EINVAL;
    if ((rc = vvi_ks_name_ok(db, name))) return rc;
    if (cfg && (cfg->resolver < VV_RESOLVE_SIBLINGS || cfg->resolver > VV_RESOLVE_CUSTOM))
        return vv_db_fail(db, VV_EINVAL, "unknown resolver kind %d", cfg->resolver);
    if (cfg && cfg->resolver == VV_RESOLVE_CUSTOM && !cfg->resolve)
        return vv_db_fail(db, VV_EINVAL, "custom resolver without a function");
    if (cfg && cfg->history > VV_HISTORY_MAX)
        return vv_db_fail(db, VV_EINVAL, "history of %lu entries is over the "
                          "limit (%d)", (unsigned long)cfg->history,
                          VV_HISTORY_MAX);
    memset(&c, 0, sizeof c);
    if (cfg) c = *cfg;
    c.resolver_name = vvi_dupstr(cfg && cfg->resolver_name ? cfg->resolver_name
                      : c.resolver == VV_RESOLVE_LWW ? "lww"
                      : c.resolver == VV_RESOLVE_CUSTOM ? "custom" : "siblings");
    c.codec = vvi_dupstr(cfg && cfg->codec ? cfg->codec : "msgpack");
    c.script = vvi_dupstr(cfg ? cfg->script : NULL);
    if (!c.resolver_name || !c.codec || (cfg && cfg->script && !c.script)) {
        c.resolve_free = NULL;
        vvi_cfg_free(&c);
        return vv_db_fail(db, VV_ENOMEM, "out of memory");
    }
    if (db->attaching && !strcmp(db->attaching->name, name)) {
        /* the script host attaches what the record says: memory only */
        k = db->attaching;
        vvi_cfg_free(&k->cfg);
        k->cfg = c;
        vv_free(k->load_error);
        k->load_error = NULL;
        return VV_OK;
    }
    if ((rc = vvi_txn_begin(db, !db->read_only))) {
        c.resolve_free = NULL;
        vvi_cfg_free(&c);
        return rc;
    }
    rc = vvi_ks_get(db, name, !db->read_only, &k);
    if (rc == VV_ENOTFOUND && db->read_only) {     /* in memory only */
        k = vvi_ks_new(db, name, db->next_ks++);
        rc = k ? VV_OK : VV_ENOMEM;
    }
    if (rc == VV_OK) {
        vv_ks_config old = k->cfg;
        k->cfg = c;
        if (!db->read_only && (rc = vvi_ks_save(db, k))) {
            k->cfg = old;
            c.resolve_free = NULL;
            vvi_cfg_free(&c);
        } else {
            vvi_cfg_free(&old);                     /* the old resolver goes */
            vv_free(k->load_error);
            k->load_error = NULL;
        }
    } else {
        c.resolve_free = NULL;
        vvi_cfg_free(&c);
    }
    rc = vvi_txn_end(db, rc);
    if (rc && !db->err[0]) vv_db_fail(db, rc, "keyspace '%s': %s", name, vv_strerror(rc));
    return rc;
}

int vv_keyspace_config(vv_db *db, const char *name, vv_ks_config *cfg)
{
    vvi_ks *k;
    if (!db || !name || !cfg) return VV_EINVAL;
    k = vvi_ks_find(db, name);
    /* durable: a transaction takes in other processes' changes */
    if (!k || (db->durable && !db->txn)) {
        int rc;
        if ((rc = vvi_txn_begin(db, 0))) return rc;
        rc = vvi_ks_get(db, name, 0, &k);
        vvi_txn_read_end(db);
        if (rc) return rc;
    }
    *cfg = k->cfg;
    return VV_OK;
}

const vv_ks_config *vv_keyspace_seen(vv_db *db, const char *name)
{
    vvi_ks *k = name ? vvi_ks_find(db, name) : NULL;
    return k ? &k->cfg : NULL;
}

int vv_keyspaces(vv_db *db, int (*fn)(void *ud, const char *name), void *ud)
{
    vvi_ks *k;
    if (!db || !fn) return VV_EINVAL;
    for (k = db->ks; k; k = k->next) {
        int rc = fn(ud, k->name);
        if (rc) return rc;
    }
    return VV_OK;
}
