/* test_resolver_budget.c - the instruction and memory budgets: loops,
 * recursion, bombs and slow patterns end with a clear error, pcall cannot
 * swallow the stop, and the budgets follow the keyspace config. */
#include "resolverutil.h"

/* Spending the budgets, also from inside pcall, handlers and C loops. */
static const hostile hostiles[] = {
    {"loop", "while true do end", "instruction budget exceeded"},
    {"loop-pcall", "while true do pcall(function() while true do end end) end",
     "instruction budget exceeded"},
    {"loop-pcall-swallow",
     "repeat local ok = pcall(function() while true do end end) until false",
     "instruction budget exceeded"},
    {"loop-xpcall",
     "xpcall(function() while true do end end, function() while true do "
     "end end)", "instruction budget exceeded"},
    {"loop-error-handler",
     "while true do xpcall(error, function() for i = 1, 1e9 do end end) end",
     "instruction budget exceeded"},
    {"loop-gsub", "return ('x'):rep(100):gsub('.', function() "
     "while true do end end)", "instruction budget exceeded"},
    {"loop-sort", "local t = {3, 2, 1} table.sort(t, function(a, b) "
     "while true do end end)", "instruction budget exceeded"},
    {"loop-tostring", "return tostring(setmetatable({}, {__tostring = "
     "function() while true do end end}))", "instruction budget exceeded"},
    {"recursion", "local function f(n) return f(n + 1) + 1 end return f(1)",
     "budget exceeded"},
    {"recursion-pcall", "local function f() pcall(f) pcall(f) end f()",
     "instruction budget exceeded"},
    {"recursion-meta", "local t = setmetatable({}, {}) getmetatable(t).__index"
     " = function(t, k) return t[k] end return t.x", "stack overflow"},
    {"bomb-rep", "return string.rep('x', 1e9)", "memory budget exceeded"},
    {"bomb-concat", "local s = 'x' while true do s = s .. s end",
     "memory budget exceeded"},
    {"bomb-table", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1000) "
     ".. i end",
     "memory budget exceeded"},
    {"bomb-pcall", "local t = {} while true do pcall(function() "
     "t[#t + 1] = ('x'):rep(1e5) .. #t end) end", "memory budget exceeded"},
    {"pattern-find", "return string.rep('a', 20000):find('.-.-.-.-.-.-.-b')",
     "instruction budget exceeded"},
    {"pattern-match", "return ('a'):rep(30000):match('(a*)*b')",
     "instruction budget exceeded"},
    {"pattern-gmatch", "for x in ('a'):rep(20000):gmatch('a-a-a-a-a-b') do "
     "end", "instruction budget exceeded"},
    {"pattern-gsub", "return (('a'):rep(20000):gsub('.-.-.-.-.-.-b', ''))",
     "instruction budget exceeded"},
    {"pattern-plain", "local s = ('a'):rep(1e6) for i = 1, 1e9 do "
     "s:find(('a'):rep(1000) .. 'b', 1, true) end",
     "instruction budget exceeded"},
    {"rep-empty", "for i = 1, 1e9 do local s = string.rep('', 1e15) end",
     "instruction budget exceeded"},
    {"table-move", "table.move({}, 1, 1e15, 2)",
     "instruction budget exceeded"},
};

/* The hostile scripts against the budgets. */
static void test_hostile_budget(void **st)
{
    (void)st;
    run_hostiles(hostiles, sizeof hostiles / sizeof hostiles[0]);
}

#if LUA_VERSION_NUM >= 504
/* A to-be-closed variable whose __close loops runs under the budget. */
static void test_hostile_close(void **st)
{
    pair p;
    const char *path = script("close.lua",
        "return function(siblings, key)\n"
        "  local x <close> = setmetatable({}, {__close = function()\n"
        "    while true do end end})\n"
        "  error('first')\n"
        "end\n");
    (void)st;
    pair_open(&p);
    pair_script(&p, "h", path, NULL);
    pair_conflict(&p, "h", "k", "1", "2");
    want_error(p.a, "h", "k", "instruction budget exceeded", 2);
    pair_close(&p);
}
#endif

/* Budgets come from the keyspace config; 0 means the defaults. */
static void test_budgets(void **st)
{
    pair p;
    vv_ks_config c;
    const char *work = script("work.lua",
        "return function(siblings)\n"
        "  local n = 0\n"
        "  for i = 1, 200000 do n = n + i end\n"
        "  return n\n"
        "end\n");
    const char *grow = script("grow.lua",
        "return function(siblings)\n"
        "  return #string.rep('x', 3000000)\n"
        "end\n");
    (void)st;
    pair_open(&p);
    memset(&c, 0, sizeof c);
    pair_script(&p, "w", work, &c);                 /* defaults: enough */
    pair_conflict(&p, "w", "k", "1", "2");
    want_value(p.a, "w", "k", "20000100000");
    c.budget_instructions = 100000;
    assert_int_equal(vv_keyspace_script(p.a, "w", work, &c), VV_OK);
    want_error(p.a, "w", "k", "instruction budget exceeded (100000 "
                 "instructions) at ", 2);
    c.budget_instructions = 0;
    pair_script(&p, "g", grow, &c);
    pair_conflict(&p, "g", "k", "1", "2");
    want_value(p.a, "g", "k", "3000000");
    c.budget_memory = 1 << 20;
    assert_int_equal(vv_keyspace_script(p.a, "g", grow, &c), VV_OK);
    want_error(p.a, "g", "k", "memory budget exceeded (1048576 bytes)", 2);
    /* a tiny budget still works for tiny scripts */
    memset(&c, 0, sizeof c);
    c.budget_instructions = 50;
    assert_int_equal(vv_keyspace_script(p.a, "g", "scripts/max.lua", &c),
                     VV_OK);
    want_value(p.a, "g", "k", "2");
    pair_close(&p);
}

/* Load sandboxes as on a host that refuses custom allocators; undo. */
static int own_setup(void **st)
{
    (void)st;
    vvl_resolver_host_alloc(1);
    return 0;
}

static int own_teardown(void **st)
{
    (void)st;
    vvl_resolver_host_alloc(0);
    return 0;
}

/* A host that refuses custom allocators (LuaJIT without GC64, as in
 * Tarantool 2.x) makes the sandbox states itself; the counting allocator
 * wraps theirs, so every budget holds as before and bytes are counted. */
static void test_host_allocator(void **st)
{
    const char *src = "return function() local t = {} for i = 1, 1000 "
                      "do t[i] = i end return #t end";
    vvl_resolver *r = NULL;
    char *err = NULL;
    size_t before, mem;
    uint64_t steps;
    int rc;
    test_hostile_budget(st);
    test_budgets(st);
    rc = vvl_resolver_load("ks", "grow.lua", src, strlen(src), NULL, &r, &err);
    if (rc) fprintf(stderr, "%s\n", err ? err : "?");
    assert_int_equal(rc, VV_OK);
    before = vvl_resolver_memory(r);
    assert_true(before > 0);                /* the host's bytes counted */
    vvl_resolver_exact(r);
    {
        vv_sibling sb[2];
        void *out = NULL;
        size_t n = 0;
        memset(sb, 0, sizeof sb);
        sb[0].value = sb[1].value = "\xc0";
        sb[0].len = sb[1].len = 1;
        sb[0].actor = sb[1].actor = "a.x";
        sb[0].actor_len = sb[1].actor_len = 3;
        assert_int_equal(vvl_resolve(r, "ks", "k", 1, sb, 2, &out, &n, &err),
                         VV_OK);
        free(out);
    }
    vvl_resolver_usage(r, &steps, &mem);
    assert_true(mem >= 1000 * sizeof(double));  /* the table was counted */
    vvl_resolver_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_budget),
#if LUA_VERSION_NUM >= 504
        cmocka_unit_test(test_hostile_close),
#endif
        cmocka_unit_test(test_budgets),
        cmocka_unit_test_setup_teardown(test_host_allocator, own_setup,
                                        own_teardown),
    };
    return run_resolver_tests("resolver_budget", tests);
}
