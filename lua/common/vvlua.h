/* vvlua.h - the part of libvv that runs Lua: sandboxed resolver scripts.
 *
 * The core (vv.h) runs no Lua.  A C program that wants resolver scripts
 * links libvv (which carries this part) and Lua 5.4, attaches scripts
 * with vv_keyspace_script, and sets vv_options.scripts to it so that a
 * durable store re-attaches the scripts its keyspace configs record. */
#ifndef VV_VVLUA_H
#define VV_VVLUA_H

#include "vv.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Attach a sandboxed Lua 5.4 resolver script to keyspace ks.
 *  The script returns a function(siblings, key) or a table with a
 *  `resolve` field.  It runs in its own lua_State with only safe
 *  libraries, under an instruction and a memory budget (cfg's budget_*
 *  fields; 0 means the defaults).  cfg may be NULL (defaults); its
 *  resolver fields are ignored.  When the script fails to load, the
 *  previous resolver stays and VV_ERESOLVER is returned with the reason
 *  in vv_errmsg(db).  Its type is vv_script_fn: give it to vv_db_open as
 *  vv_options.scripts. */
int vv_keyspace_script(vv_db *db, const char *ks, const char *path,
                       const vv_ks_config *cfg);

#ifdef __cplusplus
}
#endif
#endif /* VV_VVLUA_H */
