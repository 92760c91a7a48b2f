/* resolver.h - the sandboxed Lua resolver host and its bounded matcher. */
#ifndef VV_RESOLVER_H
#define VV_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include "lua.h"
#include "common/vvlua.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Defaults of the per-call budgets (vv_ks_config budget_* fields 0). */
#define VVL_BUDGET_INSTRUCTIONS  1000000u      /**< VM instructions */
#define VVL_BUDGET_MEMORY        (8u << 20)    /**< bytes, 8 MiB */
#define VVL_SCRIPT_MAX           (1u << 20)    /**< longest script, bytes */

/** A loaded resolver script: one lua_State with its sandbox. */
typedef struct vvl_resolver vvl_resolver;

/** @brief Load the script text src[0..len) as the resolver of keyspace ks.
 *  @param[in] ks    keyspace name, used in messages
 *  @param[in] path  script path, used in messages and chunk names
 *  @param[in] cfg   codec and budget_* fields are read (NULL: defaults)
 *  @param[out] out  the resolver, released with vvl_resolver_free
 *  @param[out] err  on failure a malloc'd message (release with vv_free)
 *  @return VV_OK, VV_EINVAL (unknown codec), VV_ENOMEM, or VV_ERESOLVER
 *  (syntax error, binary chunk, the chunk failed or did not return a
 *  function or a table with a `resolve` function). */
int vvl_resolver_load(const char *ks, const char *path, const char *src,
                      size_t len, const vv_ks_config *cfg,
                      vvl_resolver **out, char **err);

/** @brief Read the file at path and load it with vvl_resolver_load. */
int vvl_resolver_load_file(const char *ks, const char *path,
                           const vv_ks_config *cfg, vvl_resolver **out,
                           char **err);

/** @brief The vv_resolve_fn of a loaded script; ud is the vvl_resolver.
 *  Decodes the siblings once, runs the script under its budgets, checks
 *  and encodes what it returned into *out (malloc'd). */
int vvl_resolve(void *ud, const char *ks, const void *key, size_t klen,
                const vv_sibling *sibs, size_t n, void **out,
                size_t *out_len, char **err);

/** @brief Free a resolver (the resolve_free of its keyspace); NULL is a
 *  no-op. */
void vvl_resolver_free(void *ud);

/** @brief Bytes the resolver's lua_State holds right now. */
size_t vvl_resolver_memory(const vvl_resolver *r);

/** @brief What the last vvl_resolve call used: VM instructions (counted
 *  each hook period, 1000 unless vvl_resolver_exact, plus the C work
 *  charged) and the most bytes its state grew by.  For vv check-resolver. */
void vvl_resolver_usage(const vvl_resolver *r, uint64_t *steps,
                        size_t *memory);

/** @brief Count every instruction from now on (slower; for measuring). */
void vvl_resolver_exact(vvl_resolver *r);

/** @brief Look at the Lua host the module is loaded into (luaopen_vv
 *  calls it).  A LuaJIT without GC64 on a 64-bit target (Tarantool 2.x
 *  embeds one) refuses states with a custom allocator: from then on each
 *  sandbox is made by the host (luaL_newstate) and its allocator wrapped
 *  by the counting one, so budgets hold as elsewhere.  Knowing it up
 *  front spares the line such a LuaJIT prints on stderr when it refuses
 *  (without it, the first refusal switches over).  Other hosts: nothing
 *  changes.  Process-wide. */
void vvl_resolver_host(lua_State *L);

/** @brief Make the sandboxes loaded from now on as on a host that
 *  refuses custom allocators (own != 0), or as usual (0): for tests.
 *  Process-wide. */
void vvl_resolver_host_alloc(int own);

/* ---- the bounded pattern matcher (pattern.c, pattern_lib.c) --------- */

/** Charges match steps to a budget; may raise a Lua error (it does not
 *  return then).  ud is the `meter` given to vvl_open_match. */
typedef void (*vvl_charge_fn)(lua_State *L, void *ud, uint64_t steps);

/** @brief Set find, match, gmatch and gsub in the table at the top of the
 *  stack to vv's bounded versions: same pattern language and results as
 *  Lua 5.4 on every host, ASCII character classes, matching on an explicit
 *  stack of fixed size (no C recursion), every step charged through
 *  charge(ud). */
void vvl_open_match(lua_State *L, vvl_charge_fn charge, void *ud);

#ifdef __cplusplus
}
#endif
#endif /* VV_RESOLVER_H */
