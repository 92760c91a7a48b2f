/* test_resolver_sandbox.c - what a resolver script sees: no way out of the
 * whitelist, read-only libraries and globals, nothing kept between calls. */
#include "resolverutil.h"

/* Reaching outside the sandbox, or changing it. */
static const hostile hostiles[] = {
    {"os", "os.execute('touch PROBE')", "unknown global 'os'"},
    {"io", "io.open('PROBE', 'w'):write('x')", "unknown global 'io'"},
    {"require", "local m = require('os')", "unknown global 'require'"},
    {"package", "return package.loaded", "unknown global 'package'"},
    {"debug", "return debug.getregistry()", "unknown global 'debug'"},
    {"dofile", "dofile('PROBE')", "unknown global 'dofile'"},
    {"loadfile", "loadfile('PROBE')", "unknown global 'loadfile'"},
    {"load", "return load('return 1')()", "unknown global 'load'"},
    {"loadstring", "return loadstring('return 1')()",
     "unknown global 'loadstring'"},
    {"dump", "return string.dump(function() end)", "attempt to call"},
    {"dump-method", "return ('x').dump(function() end)", "attempt to call"},
    {"collectgarbage", "collectgarbage('stop')",
     "unknown global 'collectgarbage'"},
    {"print", "print('hi')", "unknown global 'print'"},
    {"coroutine", "coroutine.yield(1)", "unknown global 'coroutine'"},
    {"string-meta", "getmetatable('').__index.find = nil",
     "attempt to index a boolean"},
    {"string-meta-set", "setmetatable('', {})", "table expected"},
    {"lib-write", "string.find = nil return 1", "read-only"},
    {"lib-write-math", "math.pi = 3 return 1", "read-only"},
    {"rawset", "rawset(string, 'find', 1)", "unknown global 'rawset'"},
    {"env-meta", "getmetatable(_ENV).__index.pairs = 1",
     "attempt to index a boolean"},
    {"global-write", "leak = siblings return 1", "assignment to global"},
    {"global-typo", "return sibling[1]", "unknown global 'sibling'"},
    {"random", "return math.random()", "attempt to call"},
};

/* The hostile scripts against the environment: no io, os, loading or globals, read-only
 * libraries and metatables. */
static void test_hostile_sandbox(void **st)
{
    (void)st;
    run_hostiles(hostiles, sizeof hostiles / sizeof hostiles[0]);
}

/* Scripts cannot keep state between calls or leak it across keyspaces. */
static void test_no_history(void **st)
{
    pair p;
    const char *counter = script("counter.lua",
        "local n = 0\n"
        "return function(siblings, key) n = n + 1 return n end\n");
    const char *env = script("env.lua",
        "local c = rawget(_ENV, 'count') or 0\n"
        "_ENV = setmetatable({count = c + 1}, {__index = _ENV})\n"
        "return function() return count end\n");
    const char *shared = script("shared.lua",
        "local cache = string.cache\n"
        "return function() return cache == nil end\n");
    int i;
    (void)st;
    pair_open(&p);
    pair_script(&p, "c1", counter, NULL);
    pair_script(&p, "c2", env, NULL);
    pair_script(&p, "c3", shared, NULL);
    pair_conflict(&p, "c1", "k", "1", "2");
    pair_conflict(&p, "c2", "k", "1", "2");
    pair_conflict(&p, "c3", "k", "1", "2");
    for (i = 0; i < 3; i++) {
        want_value(p.a, "c1", "k", "1");
        want_value(p.a, "c2", "k", "1");
        want_value(p.a, "c3", "k", "true");
    }
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_sandbox),
        cmocka_unit_test(test_no_history),
    };
    return run_resolver_tests("resolver_sandbox", tests);
}
