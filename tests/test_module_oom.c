/* test_module_oom.c - the Lua module (require "vv") when Lua's allocator
 * fails.  A script that uses every kind of call (reads of one sibling and
 * of several, puts of tables, merges, updates, detached states, handles,
 * vv.crdt, sync, close) runs again and again in a fresh Lua 5.4 state
 * whose allocator refuses to grow after n allocations, for n = 0, 1, 2,
 * ... until the script runs to its end: each run must end with its result or
 * a Lua error, never a crash; what C allocated on the way must be freed
 * (LeakSanitizer checks at exit); and the state must stay usable: a
 * store opened after the failure reads back what it wrote. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

int luaopen_vv(lua_State *L);

/* Allocations the state may still make (-1: any), and whether one was
 * refused. */
typedef struct limit {
    long left;
    int refused;
} limit;

/* Lua assumes a block never fails to shrink or to be freed: only growth
 * is refused. */
static void *limited(void *ud, void *p, size_t osize, size_t nsize)
{
    limit *b = ud;
    if (nsize == 0) {
        free(p);
        return NULL;
    }
    if (p != NULL && nsize <= osize) return realloc(p, nsize);
    if (b->left == 0) {
        b->refused = 1;
        return NULL;
    }
    if (b->left > 0) b->left--;
    return realloc(p, nsize);
}

static const char SCRIPT[] =
    "local vv = require 'vv'\n"
    "local db = vv.open { node = 's0' }\n"
    "local other = vv.open { node = 's1' }\n"
    "db:keyspace('fn', { resolver = function(sibs)\n"
    "  local n = 0\n"
    "  for _, s in ipairs(sibs) do n = n + #tostring(s.value) end\n"
    "  return n end })\n"
    "for i = 1, 6 do\n"
    "  local k = 'k' .. (i % 3)\n"
    "  for _, ks in ipairs { 'ks', 'fn' } do\n"
    "    local r = db:get(ks, k)\n"
    "    db:put(ks, k, { n = i, tags = { 'a', 'b', i } }, r and r.context)\n"
    "    other:put(ks, k, 'o' .. i)\n"
    "    db:merge(ks, k, other:export(ks, k))\n"
    "    local r2 = db:get(ks, k)\n"
    "    assert(#r2.siblings >= 1 and r2.values[1] ~= nil)\n"
    "    db:update(ks, k, function(v, values) return { n = i, v = values } end)\n"
    "    local r3 = db:get(ks, k)\n"
    "    local st, c = db:put_state(ks, k, db:export(ks, k), { i, 'x' },\n"
    "                               r3 and r3.context)\n"
    "    assert(db:get_state(ks, st).value[1] == i)\n"
    "    local d = db:get(ks, k)\n"
    "    db:delete(ks, k, d and d.context)\n"
    "  end\n"
    "end\n"
    "local h = db:keyspace_handle('ks')\n"
    "h:put('x', { 1, 2, 3 })\n"
    "assert(h:get('x').value[3] == 3)\n"
    "h:update('x', function(v) v[4] = 4; return v end)\n"
    "vv.crdt.counter.add(db, 'c', 'k', 2)\n"
    "vv.crdt.set.add(db, 's', 'k', 'eggs')\n"
    "assert(vv.crdt.counter.get(db, 'c', 'k') == 2)\n"
    "local n = other:apply('ks', db:delta('ks', other:digest('ks')))\n"
    "assert(vv.decode(vv.encode({ a = { 1, 2 } })).a[2] == 2)\n"
    "db:close()\n"
    "other:close()\n"
    "return 'done'\n";

/* What must work in the state afterwards, with no limit. */
static const char AFTER[] =
    "local vv = require 'vv'\n"
    "local db = vv.open { node = 'after' }\n"
    "db:put('ks', 'k', { 'eggs', 'milk' })\n"
    "local r = db:get('ks', 'k')\n"
    "assert(r.value[2] == 'milk' and #r.siblings == 1)\n"
    "db:close()\n"
    "return 'ok'\n";

static int run_script(lua_State *L)
{
    const char *src = lua_touserdata(L, 1);
    luaL_requiref(L, "vv", luaopen_vv, 0);
    lua_pop(L, 1);
    if (luaL_loadstring(L, src) != LUA_OK) return lua_error(L);
    lua_call(L, 0, 1);
    return 1;
}

/* Run src in L under pcall: 1 when it returned want, 0 for an error. */
static int attempt(lua_State *L, const char *src, const char *want)
{
    int rc;
    lua_pushcfunction(L, run_script);
    lua_pushlightuserdata(L, (void *)src);
    rc = lua_pcall(L, 1, 1, 0);
    if (rc == LUA_OK) {
        const char *s = lua_tostring(L, -1);
        assert_non_null(s);
        assert_string_equal(s, want);
        lua_pop(L, 1);
        return 1;
    }
    /* an error: a message (or Lua's own memory error), never junk */
    assert_true(rc == LUA_ERRRUN || rc == LUA_ERRMEM || rc == LUA_ERRERR);
    assert_true(lua_type(L, -1) == LUA_TSTRING);
    lua_pop(L, 1);
    return 0;
}

static void test_every_allocation_may_fail(void **state)
{
    long n = 0, runs = 0, refused = 0;
    (void)state;
    for (;;) {
        limit b = { -1, 0 };
        lua_State *L = lua_newstate(limited, &b);
        int done;
        assert_non_null(L);
        luaL_openlibs(L);
        b.left = n;
        done = attempt(L, SCRIPT, "done");
        runs++;
        if (b.refused) refused++;
        b.left = -1;
        lua_gc(L, LUA_GCCOLLECT, 0);          /* finalizers of what failed */
        assert_int_equal(attempt(L, AFTER, "ok"), 1);
        lua_close(L);
        if (done && !b.refused) break;        /* it ran to the end */
        assert_true(runs < 50000);            /* it ends well before */
        n++;
    }
    printf("[          ] %ld runs, %ld with a refused allocation, the last "
           "with %ld allowed\n", runs, refused, n);
    assert_true(refused > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_may_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
