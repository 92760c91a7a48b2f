/* errmsg.c - a store's message of its last failure: set and read. */
#include <stdarg.h>
#include <stdio.h>
#include "db_int.h"

/* Every failure of a call on a store leaves its message here (vv_errmsg);
 * the code goes back to the caller with it. */
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
