/* resolver_int.h - what the files of the resolver host share (internal). */
#ifndef VV_RESOLVER_INT_H
#define VV_RESOLVER_INT_H
/*
 * The resolver host is split by idea; lua/sandbox/resolver.h is its interface for
 * the rest of vv, this header only joins its files:
 *
 *   resolver.c          loading a script, vv_keyspace_script
 *   resolver_sandbox.c  the environment, whitelists, hardened libraries
 *   resolver_lib.c      replacements of library functions
 *   resolver_sort.c     the stable, charged table.sort
 *   resolver_budget.c   the counting allocator, the instruction hook
 *   resolver_call.c     one resolution: siblings in, result out, messages
 *
 * The string library's matcher (pattern.h) is its own part, reached
 * through vvl_open_match.
 */
#include <stddef.h>
#include <stdint.h>
#include "lua.h"
#include "lauxlib.h"
#include "common/compat.h"
#include "common/lcodec.h"                     /* and vv_bind.h */
#include "resolver.h"

#ifndef LUA_OK
#define LUA_OK 0
#endif

struct vvl_resolver {
    lua_State *L;
    size_t mem_used;            /* bytes the state holds */
    size_t mem_limit;           /* refuse growth past this; SIZE_MAX: off */
    size_t max_mem;             /* budget_memory */
    uint64_t max_steps;         /* budget_instructions */
    uint64_t steps;             /* spent in this call */
    int period;                 /* count hook period */
    int tripped;                /* the step budget ran out in this call */
    int oom;                    /* a memory error ended (part of) the call */
    int refused;                /* the memory limit refused an allocation */
    int codec;                  /* VVL_MSGPACK / VVL_RAW */
    int chunk_ref;              /* the compiled script */
    int env_ref;                /* the script's environment */
    int stop_ref;               /* the error value of a spent budget */
    int msgh_ref, call_ref;     /* the message handler, the call */
    int names_ref;              /* the sibling field names, as strings */
    char *ks, *path;
    char where[160];            /* where the budget ran out */
    size_t mem_start, mem_peak; /* held when the last call began; most */
    lua_Alloc inner;            /* a state the host made (luaL_newstate):
                                   its own allocator, which vvl_rs_alloc
                                   counts for and calls; NULL: malloc */
    void *inner_ud;
};

/* ---- the budgets (resolver_budget.c) --------------------------------- */

/* Set r's budgets from cfg's budget_* fields (NULL or 0: the defaults). */
void vvl_rs_budgets(vvl_resolver *r, const vv_ks_config *cfg);
/* The lua_Alloc of a sandbox; ud is the vvl_resolver. */
void *vvl_rs_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* The resolver that owns L. */
vvl_resolver *vvl_rs_self(lua_State *L);
/* Charge n steps of C work (a vvl_charge_fn; ud is the resolver). */
void vvl_rs_charge(lua_State *L, void *ud, uint64_t n);
/* Start the budgets of a call; end them. */
void vvl_rs_arm(vvl_resolver *r);
void vvl_rs_disarm(vvl_resolver *r);

/* ---- the sandbox (resolver_sandbox.c, resolver_lib.c, _sort.c) ------- */

/* Open the libraries, make them safe and build the script's environment
 * (r->env_ref).  Runs protected: may raise. */
void vvl_rs_sandbox(lua_State *L, vvl_resolver *r);
/* Set pcall, xpcall, tostring and setmetatable in the table at g to the
 * sandbox's versions (base: the opened base library). */
void vvl_rs_base(lua_State *L, int base, int g);
/* Replace string.rep and string.format (the string library at str). */
void vvl_rs_string(lua_State *L, vvl_resolver *r, int str);
/* Replace the table library's functions (the library at tab). */
void vvl_rs_table(lua_State *L, vvl_resolver *r, int tab);
/* Raise when the argument at i is a table with a metatable. */
void vvl_rs_plain(lua_State *L, int i);
/* table.sort(list [, less]); upvalue 1 is the resolver. */
int vvl_rs_sort(lua_State *L);

/* ---- one resolution (resolver_call.c) -------------------------------- */

/* Keep in the registry what every call needs.  Runs protected. */
void vvl_rs_prepare(lua_State *L, vvl_resolver *r);
/* Run the chunk once under the budgets and check it gives a resolve
 * function.  Returns the pcall status; a bad return sets msg[0..size). */
int vvl_rs_probe(vvl_resolver *r, char *msg, size_t size);
/* The malloc'd message of a failed call or load (status st; msg: what C
 * code found, used when nothing else explains the failure). */
char *vvl_rs_message(vvl_resolver *r, int st, const char *msg);
/* A malloc'd "resolver for keyspace 'ks' (path): text"; NULL when out of
 * memory. */
char *vvl_rs_errtext(const char *ks, const char *path, const char *text);

#endif /* VV_RESOLVER_INT_H */
