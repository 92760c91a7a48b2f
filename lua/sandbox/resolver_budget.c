/* resolver_budget.c - a resolver call's budgets: bytes and instructions. */
/*
 *  - memory: the state's lua_Alloc counts bytes.  During a call, growth
 *    past (bytes held when the call starts + budget_memory) is refused and
 *    surfaces as a memory error; frees and shrinks always succeed.
 *    A host that refuses states with a custom allocator (LuaJIT without
 *    GC64 on a 64-bit target, as Tarantool 2.x embeds it: its Lua memory
 *    must stay in the low address space, which only its own allocator
 *    guarantees) makes the state itself (luaL_newstate); the counting
 *    allocator then wraps the state's own one and calls it (r->inner),
 *    so the bytes are counted and limited all the same.
 *  - instructions: a count hook adds up VM instructions every period; C
 *    functions whose work a hook cannot see charge their steps to the same
 *    meter (vvl_rs_charge).  Once the budget is spent the hook fires on
 *    every instruction and line and raises, so a pcall in the script
 *    cannot swallow the stop.
 */
#include <stdint.h>
#include "resolver_int.h"

#define RS_PERIOD     1000      /* count hook period, instructions */

/* ---- memory -------------------------------------------------------------- */

/* The lua_Alloc of a sandbox: counts bytes; refuses growth past the limit,
 * never a free or a shrink. */
void *vvl_rs_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    vvl_resolver *r = (vvl_resolver *)ud;
    void *np;
    if (ptr == NULL) osize = 0;         /* osize is a type tag then */
    if (nsize == 0) {
        if (r->inner) r->inner(r->inner_ud, ptr, osize, 0);
        else vv_free(ptr);
        r->mem_used -= osize;
        return NULL;
    }
    if (nsize > osize && (r->mem_used >= r->mem_limit ||
                          nsize - osize > r->mem_limit - r->mem_used)) {
        r->refused = 1;
        return NULL;
    }
    np = r->inner ? r->inner(r->inner_ud, ptr, osize, nsize)
                  : vv_realloc(ptr, nsize);
    if (np == NULL) return nsize <= osize ? ptr : NULL;
    r->mem_used = r->mem_used - osize + nsize;
    if (r->mem_used > r->mem_peak) r->mem_peak = r->mem_used;
    return np;
}

/* The resolver that owns L (the allocator's argument). */
vvl_resolver *vvl_rs_self(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (vvl_resolver *)ud;
}

/* ---- the instruction budget ---------------------------------------------- */

static void rs_hook(lua_State *L, lua_Debug *ar);

/* The budget is spent: fire on every instruction and line from now on,
 * and raise (the error value needs no allocation). */
static void rs_stop(lua_State *L, vvl_resolver *r)
{
    r->tripped = 1;
    lua_sethook(L, rs_hook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->stop_ref);
    lua_error(L);
}

/* Charge n steps of C work to the running call (vvl_charge_fn). */
void vvl_rs_charge(lua_State *L, void *ud, uint64_t n)
{
    vvl_resolver *r = (vvl_resolver *)ud;
    if (!r->tripped) {
        r->steps += n;
        if (r->steps < r->max_steps) return;
    }
    rs_stop(L, r);
}

/* Count hook: charge a period's instructions.  Once the budget is spent
 * it fires on every instruction and line, and raises each time. */
static void rs_hook(lua_State *L, lua_Debug *ar)
{
    vvl_resolver *r = vvl_rs_self(L);
    (void)ar;
    vvl_rs_charge(L, r, (uint64_t)r->period);
}

/* ---- a call's budgets ---------------------------------------------------- */

/* Set r's budgets from cfg (budget_* fields 0 or no cfg: the defaults);
 * no memory limit until a call arms it. */
void vvl_rs_budgets(vvl_resolver *r, const vv_ks_config *cfg)
{
    r->mem_limit = SIZE_MAX;
    r->max_steps = cfg && cfg->budget_instructions
                   ? cfg->budget_instructions : VVL_BUDGET_INSTRUCTIONS;
    r->max_mem = cfg && cfg->budget_memory
                 ? (cfg->budget_memory > SIZE_MAX ? SIZE_MAX
                    : (size_t)cfg->budget_memory)
                 : VVL_BUDGET_MEMORY;
    r->period = r->max_steps < RS_PERIOD ? (int)r->max_steps : RS_PERIOD;
}

/* Start the budgets of a call: instructions counted from 0, memory
 * allowed to grow by max_mem over what the state holds now. */
void vvl_rs_arm(vvl_resolver *r)
{
    r->steps = 0;
    r->tripped = 0;
    r->oom = 0;
    r->refused = 0;
    r->where[0] = 0;
    r->mem_start = r->mem_peak = r->mem_used;
    r->mem_limit = r->max_mem > SIZE_MAX - r->mem_used
                   ? SIZE_MAX : r->mem_used + r->max_mem;
    lua_sethook(r->L, rs_hook, LUA_MASKCOUNT, r->period);
}

/* End the budgets: no hook, no memory limit. */
void vvl_rs_disarm(vvl_resolver *r)
{
    lua_sethook(r->L, NULL, 0, 0);
    r->mem_limit = SIZE_MAX;
}

/* ---- what the last call used (lua/sandbox/resolver.h) ---------------------------- */

/* Steps and peak growth of the last call. */
void vvl_resolver_usage(const vvl_resolver *r, uint64_t *steps,
                        size_t *memory)
{
    if (steps) *steps = r ? r->steps : 0;
    if (memory) *memory = r ? r->mem_peak - r->mem_start : 0;
}

/* Count every instruction: the hook fires each one. */
void vvl_resolver_exact(vvl_resolver *r)
{
    if (r) r->period = 1;
}

/* Bytes the state holds now. */
size_t vvl_resolver_memory(const vvl_resolver *r)
{
    return r ? r->mem_used : 0;
}
