/* test_resolver.c - sandboxed resolver scripts: shipped policies on real
 * replica conflicts, the hostile-script suite, budgets, determinism,
 * loading, hot reload and allocation failure. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "vv.h"
#include "lcodec.h"
#include "resolver.h"
#include "testutil.h"

/* ---- fixture: a scratch directory for scripts and probe files -------- */

static char dir[64];                 /* the scratch directory */
static char probe[128];              /* a file no script may create */
static lua_State *H;                 /* helper state: builds test values */

static int group_setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/vv-resolver-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(probe, sizeof probe, "%s/probe", dir);
    H = luaL_newstate();
    luaL_openlibs(H);
    return 0;
}

static int group_teardown(void **st)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    (void)st;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        remove(p);
    }
    if (d) closedir(d);
    rmdir(dir);
    lua_close(H);
    return 0;
}

/* Write text to <dir>/name; returns the path (static, per call site). */
static const char *script(const char *name, const char *text)
{
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    FILE *f;
    snprintf(p, 256, "%s/%s", dir, name);
    f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* Seconds since some fixed point. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- values ------------------------------------------------------------ */

typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

/* The msgpack bytes of a Lua expression (vv's canonical encoding). */
static bytes enc(const char *expr)
{
    bytes b;
    vvi_buf buf;
    char err[256];
    lua_pushfstring(H, "return %s", expr);
    if (luaL_dostring(H, lua_tostring(H, -1)))
        fail_msg("bad test expr: %s", expr);
    lua_remove(H, -2);
    vvi_buf_init(&buf);
    if (vvl_encode(H, -1, VVL_MSGPACK, &buf, err, sizeof err))
        fail_msg("cannot encode %s: %s", expr, err);
    lua_pop(H, 1);
    b.p = buf.p;
    b.n = buf.len;
    return b;
}

/* Does the stored value v[0..n) equal the Lua expression expr? */
static int same(const void *v, size_t n, const char *expr)
{
    bytes e = enc(expr);
    int ok = e.n == n && memcmp(e.p, v, n) == 0;
    vvi_free(e.p);
    return ok;
}

/* ---- two replicas with a conflict -------------------------------------- */

typedef struct pair {
    vv_db *a, *b;
    uint64_t ta, tb;                 /* each store's wall clock */
} pair;

static void pair_open(pair *p)
{
    p->ta = 1000;
    p->tb = 2000;                    /* b's writes are newer */
    p->a = tu_open("s0", &p->ta);
    p->b = tu_open("s1", &p->tb);
}

static void pair_close(pair *p)
{
    vv_db_close(p->a);
    vv_db_close(p->b);
}

/* Attach path to keyspace ks on both replicas; must succeed. */
static void pair_script(pair *p, const char *ks, const char *path,
                        const vv_ks_config *cfg)
{
    int rc = vv_keyspace_script(p->a, ks, path, cfg);
    if (rc) fail_msg("load %s: %s", path, vv_errmsg(p->a));
    rc = vv_keyspace_script(p->b, ks, path, cfg);
    if (rc) fail_msg("load %s: %s", path, vv_errmsg(p->b));
}

/* Copy key's state from one replica to the other. */
static void sync1(vv_db *from, vv_db *to, const char *ks, const char *key)
{
    void *st = NULL;
    size_t n = 0;
    assert_int_equal(vv_export(from, ks, key, strlen(key), &st, &n), VV_OK);
    assert_int_equal(vv_merge(to, ks, key, strlen(key), st, n), VV_OK);
    vv_free(st);
}

/* a writes va, b writes vb, concurrently; then they exchange states. */
static void pair_conflict(pair *p, const char *ks, const char *key,
                          const char *va, const char *vb)
{
    bytes x = enc(va), y = enc(vb);
    assert_int_equal(vv_put(p->a, ks, key, strlen(key), x.p, x.n, NULL,
                            NULL), VV_OK);
    assert_int_equal(vv_put(p->b, ks, key, strlen(key), y.p, y.n, NULL,
                            NULL), VV_OK);
    sync1(p->a, p->b, ks, key);
    sync1(p->b, p->a, ks, key);
    vvi_free(x.p);
    vvi_free(y.p);
}

/* key on db resolves to expr. */
static void want_value(vv_db *db, const char *ks, const char *key,
                         const char *expr)
{
    vv_read *r = NULL;
    const void *v;
    size_t n;
    int rc;
    assert_int_equal(vv_get(db, ks, key, strlen(key), &r), VV_OK);
    rc = vv_read_value(r, &v, &n);
    if (rc != VV_OK)
        fail_msg("%s/%s: %s", ks, key, vv_read_error(r) ? vv_read_error(r)
                 : vv_strerror(rc));
    if (!same(v, n, expr)) fail_msg("%s/%s is not %s", ks, key, expr);
    vv_read_free(r);
}

/* key on db gives a resolver error containing what, with the nsib
 * siblings still there; returns the read's time in seconds. */
static double want_error(vv_db *db, const char *ks, const char *key,
                           const char *what, size_t nsib)
{
    vv_read *r = NULL;
    const void *v = NULL;
    size_t n = 0;
    const char *msg;
    double t0 = now_s(), t;
    assert_int_equal(vv_get(db, ks, key, strlen(key), &r), VV_OK);
    t = now_s() - t0;
    assert_int_equal(vv_read_value(r, &v, &n), VV_ERESOLVER);
    msg = vv_read_error(r);
    assert_non_null(msg);
    if (!strstr(msg, what))
        fail_msg("error of %s/%s lacks \"%s\": %s", ks, key, what, msg);
    assert_non_null(strstr(msg, "resolver for keyspace '"));
    assert_int_equal(vv_read_count(r), nsib);
    vv_read_free(r);
    return t;
}

/* The store still answers: a write over what it sees collapses key. */
static void want_usable(vv_db *db, const char *ks, const char *key)
{
    vv_read *r = NULL;
    bytes v = enc("{'fixed'}");
    assert_int_equal(vv_get(db, ks, key, strlen(key), &r), VV_OK);
    assert_int_equal(vv_put(db, ks, key, strlen(key), v.p, v.n,
                            vv_read_context(r), NULL), VV_OK);
    vv_read_free(r);
    want_value(db, ks, key, "{'fixed'}");
    vvi_free(v.p);
}

/* ---- shipped scripts on conflicts made through real replicas --------- */

static void test_union(void **st)
{
    pair p;
    (void)st;
    pair_open(&p);
    pair_script(&p, "carts", "scripts/union.lua", NULL);
    pair_conflict(&p, "carts", "alice", "{'milk', 'eggs'}",
                  "{'eggs', 'bread', 3}");
    want_value(p.a, "carts", "alice", "{3, 'bread', 'eggs', 'milk'}");
    want_value(p.b, "carts", "alice", "{3, 'bread', 'eggs', 'milk'}");
    /* a third concurrent writer */
    {
        uint64_t tc = 3000;
        vv_db *c = tu_open("s2", &tc);
        bytes v = enc("{'apples', 'milk'}");
        assert_int_equal(vv_keyspace_script(c, "carts", "scripts/union.lua",
                                            NULL), VV_OK);
        assert_int_equal(vv_put(c, "carts", "alice", 5, v.p, v.n, NULL,
                                NULL), VV_OK);
        sync1(c, p.a, "carts", "alice");
        want_value(p.a, "carts", "alice",
                     "{3, 'apples', 'bread', 'eggs', 'milk'}");
        vvi_free(v.p);
        vv_db_close(c);
    }
    /* not a list: a clear error, siblings intact */
    pair_conflict(&p, "carts", "bob", "'oops'", "{'x'}");
    want_error(p.a, "carts", "bob", "union.lua: the value of key bob", 2);
    pair_close(&p);
}

static void test_lww(void **st)
{
    pair p;
    (void)st;
    pair_open(&p);
    pair_script(&p, "prefs", "scripts/lww.lua", NULL);
    pair_conflict(&p, "prefs", "theme", "'dark'", "'light'");
    want_value(p.a, "prefs", "theme", "'light'");     /* b is newer */
    want_value(p.b, "prefs", "theme", "'light'");
    /* same millisecond: the actor decides, identically on both sides */
    p.ta = p.tb = 50000;
    pair_conflict(&p, "prefs", "lang", "'en'", "'fr'");
    {
        vv_read *ra, *rb;
        const void *va, *vb;
        size_t na, nb;
        assert_int_equal(vv_get(p.a, "prefs", "lang", 4, &ra), VV_OK);
        assert_int_equal(vv_get(p.b, "prefs", "lang", 4, &rb), VV_OK);
        assert_int_equal(vv_read_value(ra, &va, &na), VV_OK);
        assert_int_equal(vv_read_value(rb, &vb, &nb), VV_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(va, vb, na);
        /* and the script agrees with the built-in "lww" */
        {
            vv_ks_config c;
            const void *vl;
            size_t nl;
            vv_read *rl;
            memset(&c, 0, sizeof c);
            c.resolver = VV_RESOLVE_LWW;
            assert_int_equal(vv_keyspace(p.a, "prefs", &c), VV_OK);
            assert_int_equal(vv_get(p.a, "prefs", "lang", 4, &rl), VV_OK);
            assert_int_equal(vv_read_value(rl, &vl, &nl), VV_OK);
            assert_int_equal(nl, na);
            assert_memory_equal(vl, va, na);
            vv_read_free(rl);
        }
        vv_read_free(ra);
        vv_read_free(rb);
    }
    pair_close(&p);
}

static void test_max(void **st)
{
    pair p;
    (void)st;
    pair_open(&p);
    pair_script(&p, "marks", "scripts/max.lua", NULL);
    pair_conflict(&p, "marks", "seq", "42", "17");
    want_value(p.a, "marks", "seq", "42");
    want_value(p.b, "marks", "seq", "42");
    pair_conflict(&p, "marks", "f", "2.5", "-1");
    want_value(p.b, "marks", "f", "2.5");
    pair_conflict(&p, "marks", "ver", "'v10'", "'v9'");
    want_value(p.a, "marks", "ver", "'v9'");          /* bytewise */
    pair_conflict(&p, "marks", "mixed", "1", "'one'");
    want_error(p.a, "marks", "mixed", "cannot compare", 2);
    pair_close(&p);
}

static void test_priority(void **st)
{
    pair p;
    (void)st;
    pair_open(&p);
    pair_script(&p, "tickets", "scripts/priority.lua", NULL);
    /* the older write has the higher priority: it wins */
    pair_conflict(&p, "tickets", "t1", "{title='db down', priority=5}",
                  "{title='db is down', priority=2}");
    want_value(p.a, "tickets", "t1", "{title='db down', priority=5}");
    want_value(p.b, "tickets", "t1", "{title='db down', priority=5}");
    /* equal priorities: the newer write */
    pair_conflict(&p, "tickets", "t2", "{title='a', priority=1}",
                  "{title='b', priority=1}");
    want_value(p.a, "tickets", "t2", "{title='b', priority=1}");
    /* no field ranks lowest */
    pair_conflict(&p, "tickets", "t3", "{title='x', priority=0}",
                  "{title='y'}");
    want_value(p.b, "tickets", "t3", "{title='x', priority=0}");
    pair_close(&p);
}

static void test_fields(void **st)
{
    pair p;
    (void)st;
    pair_open(&p);
    pair_script(&p, "profiles", "scripts/fields.lua", NULL);
    /* a changed email at 1500, b changed phone at 1800: both survive */
    pair_conflict(&p, "profiles", "u1",
                  "{name='Ann', email='new@x', phone='111',"
                  " _at={name=1, email=1500, phone=1}}",
                  "{name='Ann', email='old@x', phone='222',"
                  " _at={name=1, email=1, phone=1800}}");
    want_value(p.a, "profiles", "u1",
                 "{name='Ann', email='new@x', phone='222',"
                 " _at={name=1, email=1500, phone=1800}}");
    want_value(p.b, "profiles", "u1",
                 "{name='Ann', email='new@x', phone='222',"
                 " _at={name=1, email=1500, phone=1800}}");
    pair_close(&p);
    /* without stamps: the newer version's fields, the union of fields */
    pair_open(&p);
    pair_script(&p, "profiles", "scripts/fields.lua", NULL);
    pair_conflict(&p, "profiles", "u2", "{a=1, b=1}", "{b=2, c=2}");
    want_value(p.a, "profiles", "u2",
                 "{a=1, b=2, c=2, _at={a=1000, b=2000, c=2000}}");
    pair_close(&p);
}

static void test_user(void **st)
{
    pair p;
    (void)st;
    pair_open(&p);
    pair_script(&p, "docs", "scripts/user.lua", NULL);
    /* node s0 is preferred although s1 wrote later */
    pair_conflict(&p, "docs", "d1", "{text='from s0'}", "{text='from s1'}");
    want_value(p.a, "docs", "d1", "{text='from s0'}");
    want_value(p.b, "docs", "d1", "{text='from s0'}");
    /* the admin user beats the preferred node */
    pair_conflict(&p, "docs", "d2", "{text='mine'}",
                  "{text='admin says', user='admin'}");
    want_value(p.a, "docs", "d2", "{text='admin says', user='admin'}");
    pair_close(&p);
}

/* A table with `resolve`, the key argument and sibling fields. */
static void test_protocol(void **st)
{
    pair p;
    const char *path = script("proto.lua",
        "return { resolve = function(siblings, key)\n"
        "  local out = { key = key, n = #siblings }\n"
        "  for i, s in ipairs(siblings) do\n"
        "    out[i] = { s.node, #s.actor > #s.node, s.counter,\n"
        "               s.timestamp, s.value }\n"
        "  end\n"
        "  return out\n"
        "end }\n");
    (void)st;
    pair_open(&p);
    pair_script(&p, "ks", path, NULL);
    pair_conflict(&p, "ks", "k\1y", "'A'", "{1,2}");
    want_value(p.a, "ks", "k\1y",
                 "{key='k\\1y', n=2, {'s0', true, 1, 1000, 'A'},"
                 " {'s1', true, 1, 2000, {1,2}}}");
    pair_close(&p);
}

/* ---- the hostile-script suite ------------------------------------------- */

typedef struct hostile {
    const char *name;
    const char *body;                /* the inside of function(siblings, key) */
    const char *expect;              /* part of the error message */
} hostile;

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
    {"bomb-result", "local t = {'xxxxxxxx'} for i = 1, 40 do t = {t, t} end "
     "return t", "larger than the memory budget"},
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
    {"table-concat-meta", "local t = setmetatable({}, {__index = "
     "table.concat}) return table.concat(t, '', 1, 1e15)", "no metatable"},
    {"table-insert-len", "local t = setmetatable({}, {__len = function() "
     "return 1e15 end}) table.insert(t, 1, 'x')", "no metatable"},
    {"gc", "setmetatable({}, {__gc = function() while true do end end})",
     "'__gc' metamethods"},
    {"gc-late", "local mt = {} setmetatable({}, mt) mt.__gc = function() "
     "while true do end end return function() end",
     "unsupported return value: a function"},
    {"weak", "setmetatable({}, {__mode = 'k'})", "weak tables"},
    {"ret-function", "return function() end",
     "unsupported return value: a function"},
    {"ret-nested-function", "return {1, {f = ipairs}}",
     "unsupported return value: a function"},
    {"ret-cycle", "local t = {} t.self = t return t", "a cyclic table"},
    {"ret-deep", "local t = {} for i = 1, 70 do t = {t} end return t",
     "nested deeper than 64"},
    {"ret-meta", "return setmetatable({}, {__tostring = function() "
     "error('boom') end})", "a table with a metatable"},
    {"ret-nil", "return nil", "returned nil"},
    {"error-object", "error(setmetatable({}, {__tostring = function() "
     "while true do end end}))", "error object is a table value"},
    {"error-plain", "error('plain failure')", "plain failure"},
    {"format-p", "return string.format('%p', {})", "'%p' is not available"},
};

/* One hostile script: a resolver error with the siblings intact, no
 * probe file, a quick end, and a store that still answers. */
static void run_hostile(const hostile *h, double *worst)
{
    pair p;
    char text[2048], body[1024], name[64];
    const char *s, *q, *path;
    size_t o = 0;
    double t;
    /* put the probe path in place of PROBE */
    for (s = h->body; *s && o + 128 < sizeof body; ) {
        q = strstr(s, "PROBE");
        if (q == s) {
            o += (size_t)snprintf(body + o, sizeof body - o, "%s", probe);
            s += 5;
        } else {
            body[o++] = *s++;
        }
    }
    body[o] = 0;
    snprintf(text, sizeof text, "return function(siblings, key)\n%s\nend\n",
             body);
    snprintf(name, sizeof name, "h-%s.lua", h->name);
    path = script(name, text);
    pair_open(&p);
    pair_script(&p, "h", path, NULL);
    pair_conflict(&p, "h", "k", "{'from a'}", "{'from b'}");
    t = want_error(p.a, "h", "k", h->expect, 2);
    if (t > *worst) *worst = t;
    /* the siblings are the values written */
    {
        vv_read *r;
        size_t i;
        int seen_a = 0, seen_b = 0;
        assert_int_equal(vv_get(p.a, "h", "k", 1, &r), VV_OK);
        for (i = 0; i < vv_read_count(r); i++) {
            const vv_sibling *sb = vv_read_sibling(r, i);
            seen_a |= same(sb->value, sb->len, "{'from a'}");
            seen_b |= same(sb->value, sb->len, "{'from b'}");
        }
        assert_true(seen_a && seen_b);
        vv_read_free(r);
    }
    /* again: the same error (nothing carried over) */
    want_error(p.a, "h", "k", h->expect, 2);
    assert_int_equal(access(probe, F_OK), -1);
    want_usable(p.a, "h", "k");
    /* other keys and keyspaces still work */
    pair_conflict(&p, "plain", "k", "1", "2");
    {
        vv_read *r;
        assert_int_equal(vv_get(p.a, "plain", "k", 1, &r), VV_OK);
        assert_int_equal(vv_read_count(r), 2);
        vv_read_free(r);
    }
    pair_close(&p);
}

static void test_hostile(void **st)
{
    size_t i;
    double worst = 0, t0 = now_s();
    (void)st;
    for (i = 0; i < sizeof hostiles / sizeof hostiles[0]; i++) {
        double t1 = now_s();
        run_hostile(&hostiles[i], &worst);
        print_message("hostile %-22s %.3f s\n", hostiles[i].name,
                      now_s() - t1);
    }
    print_message("%zu hostile scripts in %.2f s, slowest read %.3f s\n",
                  i, now_s() - t0, worst);
    assert_true(worst < 5.0);
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

/* Hostile code at the top of the script: the load fails and the previous
 * resolver stays. */
static void test_hostile_load(void **st)
{
    static const struct { const char *text, *expect; } bad[] = {
        {"while true do end", "instruction budget exceeded"},
        {"local s = 'x' while true do s = s .. s end",
         "memory budget exceeded"},
        {"os.exit(1)", "unknown global 'os'"},
        {"return 42", "must return a function"},
        {"return {}", "must return a function"},
        {"return {resolve = 1}", "must return a function"},
        {"return function(", "syntax error"},
        {"x = 1 return function() end", "assignment to global"},
        {"", "must return a function"},
    };
    pair p;
    size_t i;
    (void)st;
    pair_open(&p);
    pair_script(&p, "ks", "scripts/max.lua", NULL);
    pair_conflict(&p, "ks", "k", "5", "7");
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = script("bad.lua", bad[i].text);
        vv_ks_config c;
        assert_int_equal(vv_keyspace_script(p.a, "ks", path, NULL),
                         VV_ERESOLVER);
        if (!strstr(vv_errmsg(p.a), bad[i].expect))
            fail_msg("load of \"%s\": %s", bad[i].text, vv_errmsg(p.a));
        assert_non_null(strstr(vv_errmsg(p.a), "resolver for keyspace 'ks'"));
        want_value(p.a, "ks", "k", "7");       /* max.lua still there */
        assert_int_equal(vv_keyspace_config(p.a, "ks", &c), VV_OK);
        assert_string_equal(c.resolver_name, "scripts/max.lua");
    }
    /* a missing file, an unknown codec, bad arguments */
    assert_int_equal(vv_keyspace_script(p.a, "ks", "/nonexistent/x.lua",
                                        NULL), VV_ERESOLVER);
    assert_non_null(strstr(vv_errmsg(p.a), "cannot open"));
    {
        vv_ks_config c;
        memset(&c, 0, sizeof c);
        c.codec = "yaml";
        assert_int_equal(vv_keyspace_script(p.a, "ks", "scripts/max.lua",
                                            &c), VV_EINVAL);
    }
    assert_int_equal(vv_keyspace_script(p.a, "ks", NULL, NULL), VV_EINVAL);
    assert_int_equal(vv_keyspace_script(p.a, NULL, "x", NULL), VV_EINVAL);
    assert_int_equal(vv_keyspace_script(NULL, "ks", "x", NULL), VV_EINVAL);
    want_value(p.a, "ks", "k", "7");
    pair_close(&p);
}

/* A compiled (binary) chunk is refused, however it is named. */
static void test_binary_chunk(void **st)
{
    pair p;
    size_t n;
    const char *bin;
    char path[256];
    FILE *f;
    (void)st;
    assert_int_equal(luaL_dostring(H, "return string.dump(function() "
                                      "return function() return 1 end end)"),
                     0);
    bin = lua_tolstring(H, -1, &n);
    snprintf(path, sizeof path, "%s/binary.lua", dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(bin, 1, n, f);
    fclose(f);
    lua_pop(H, 1);
    pair_open(&p);
    pair_script(&p, "ks", "scripts/max.lua", NULL);
    assert_int_equal(vv_keyspace_script(p.a, "ks", path, NULL), VV_ERESOLVER);
    assert_non_null(strstr(vv_errmsg(p.a), "binary chunks"));
    /* after a "#!" line as well */
    f = fopen(path, "wb");
    fputs("#!/usr/bin/env lua\n", f);
    fwrite(bin, 1, n, f);
    fclose(f);
    assert_int_equal(vv_keyspace_script(p.a, "ks", path, NULL), VV_ERESOLVER);
    pair_conflict(&p, "ks", "k", "1", "9");
    want_value(p.a, "ks", "k", "9");
    pair_close(&p);
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

/* Same siblings, same result: on one replica twice, and on two replicas
 * whose Lua states hash strings differently. */
static void test_determinism(void **st)
{
    pair p;
    const char *keys = script("keys.lua",
        "return function(siblings)\n"
        "  local names = {}\n"
        "  for _, s in ipairs(siblings) do\n"
        "    for k in pairs(s.value) do names[#names + 1] = k end\n"
        "  end\n"
        "  table.sort(names)\n"
        "  return { names = table.concat(names, ','),\n"
        "           text = tostring({}) .. tostring(ipairs) }\n"
        "end\n");
    const char *sorter = script("stable.lua",
        "return function(siblings)\n"
        "  local t = {}\n"
        "  for i = 1, 300 do t[i] = { k = i % 7, i = i } end\n"
        "  table.sort(t, function(a, b) return a.k < b.k end)\n"
        "  local out = {}\n"
        "  for i, x in ipairs(t) do out[i] = x.i end\n"
        "  return out\n"
        "end\n");
    vv_read *r1, *r2, *r3;
    const void *v1, *v2, *v3;
    size_t n1, n2, n3;
    (void)st;
    pair_open(&p);
    pair_script(&p, "ks", keys, NULL);
    pair_conflict(&p, "ks", "k", "{alpha=1, beta=2, gamma=3, delta=4}",
                  "{epsilon=1, zeta=2, eta=3, theta=4, iota=5}");
    assert_int_equal(vv_get(p.a, "ks", "k", 1, &r1), VV_OK);
    assert_int_equal(vv_get(p.a, "ks", "k", 1, &r2), VV_OK);
    assert_int_equal(vv_get(p.b, "ks", "k", 1, &r3), VV_OK);
    assert_int_equal(vv_read_value(r1, &v1, &n1), VV_OK);
    assert_int_equal(vv_read_value(r2, &v2, &n2), VV_OK);
    assert_int_equal(vv_read_value(r3, &v3, &n3), VV_OK);
    assert_int_equal(n1, n2);
    assert_int_equal(n1, n3);
    assert_memory_equal(v1, v2, n1);
    assert_memory_equal(v1, v3, n1);
    assert_true(same(v1, n1, "{names='alpha,beta,delta,epsilon,eta,gamma,"
                     "iota,theta,zeta', text='tablefunction'}"));
    vv_read_free(r1);
    vv_read_free(r2);
    vv_read_free(r3);
    /* the sort is stable: equal keys keep their order */
    pair_script(&p, "st", sorter, NULL);
    pair_conflict(&p, "st", "k", "1", "2");
    assert_int_equal(luaL_dostring(H,
        "local t = {} for i = 1, 300 do t[i] = i end\n"
        "local out = {}\n"
        "for k = 0, 6 do for i = 1, 300 do\n"
        "  if i % 7 == k then out[#out + 1] = i end end end\n"
        "return 'return {' .. table.concat(out, ',') .. '}'"), 0);
    {
        char *expect = strdup(lua_tostring(H, -1) + 7);
        lua_pop(H, 1);
        want_value(p.a, "st", "k", expect);
        want_value(p.b, "st", "k", expect);
        free(expect);
    }
    pair_close(&p);
}

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

/* Calling the script again replaces the resolver; the config shows it. */
static void test_hot_reload(void **st)
{
    pair p;
    vv_ks_config c;
    int i;
    (void)st;
    pair_open(&p);
    pair_conflict(&p, "ks", "k", "{3, 1}", "{2}");
    pair_script(&p, "ks", "scripts/union.lua", NULL);
    want_value(p.a, "ks", "k", "{1, 2, 3}");
    for (i = 0; i < 20; i++) {
        const char *path = i % 2 ? "scripts/union.lua" : "scripts/lww.lua";
        assert_int_equal(vv_keyspace_script(p.a, "ks", path, NULL), VV_OK);
        want_value(p.a, "ks", "k", i % 2 ? "{1, 2, 3}" : "{2}");
        assert_int_equal(vv_keyspace_config(p.a, "ks", &c), VV_OK);
        assert_string_equal(c.resolver_name, path);
        assert_int_equal(c.resolver, VV_RESOLVE_CUSTOM);
    }
    /* back to a built-in */
    memset(&c, 0, sizeof c);
    assert_int_equal(vv_keyspace(p.a, "ks", &c), VV_OK);
    {
        vv_read *r;
        const void *v;
        size_t n;
        assert_int_equal(vv_get(p.a, "ks", "k", 1, &r), VV_OK);
        assert_int_equal(vv_read_value(r, &v, &n), VV_ENOTFOUND);
        vv_read_free(r);
    }
    pair_close(&p);
}

/* A keyspace with the raw codec sees and returns strings. */
static void test_raw_codec(void **st)
{
    vv_db *a;
    uint64_t t = 1;
    vv_ks_config c;
    vv_read *r;
    const void *v;
    size_t n;
    const char *path = script("raw.lua",
        "return function(siblings)\n"
        "  local parts = {}\n"
        "  for i, s in ipairs(siblings) do parts[i] = s.value end\n"
        "  table.sort(parts)\n"
        "  return table.concat(parts, '+')\n"
        "end\n");
    const char *num = script("rawnum.lua", "return function() return 1 end");
    (void)st;
    a = tu_open("s0", &t);
    memset(&c, 0, sizeof c);
    c.codec = "raw";
    assert_int_equal(vv_keyspace(a, "r", &c), VV_OK);
    assert_int_equal(vv_put(a, "r", "k", 1, "b\0x", 3, NULL, NULL), VV_OK);
    assert_int_equal(vv_put(a, "r", "k", 1, "a", 1, NULL, NULL), VV_OK);
    /* cfg NULL keeps the keyspace's codec */
    assert_int_equal(vv_keyspace_script(a, "r", path, NULL), VV_OK);
    assert_int_equal(vv_get(a, "r", "k", 1, &r), VV_OK);
    assert_int_equal(vv_read_value(r, &v, &n), VV_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(v, "a+b\0x", 5);
    vv_read_free(r);
    assert_int_equal(vv_keyspace_script(a, "r", num, NULL), VV_OK);
    assert_int_equal(vv_get(a, "r", "k", 1, &r), VV_OK);
    assert_int_equal(vv_read_value(r, &v, &n), VV_ERESOLVER);
    vv_read_free(r);
    vv_db_close(a);
}

/* The string library in the sandbox: the bounded matcher agrees with
 * stock Lua on ordinary patterns. */
static void test_patterns(void **st)
{
    static const char *const cases[] = {
        "{('hello world'):find('o w')}",
        "{('hello world'):find('o', 6)}",
        "{('hello world'):find('l+')}",
        "{('hello'):find('')}",
        "{('hello'):find('', 10)}",
        "{('hello'):find('l', -2)}",
        "{('a.b'):find('.', 1, true)}",
        "{('key = value'):match('^(%w+)%s*=%s*(%w+)$')}",
        "{('  trim  '):match('^%s*(.-)%s*$')}",
        "{('f(a(b)c)d'):match('%b()')}",
        "{('THE (quick) fox'):find('%f[%a]%a+')}",
        "{('abcabc'):match('(a)(b)()')}",
        "{('hello hello'):match('(h%a+) %1')}",
        "{('x=1, y=22'):gsub('(%w+)=(%w+)', '%2=%1')}",
        "{('abc'):gsub('', '-')}",
        "{('abc'):gsub('%w', '%0%0', 2)}",
        "{('hello'):gsub('l', {l = 'L'})}",
        "{('a,b,,c'):gsub('[^,]*', function(s) return '<' .. s .. '>' end)}",
        "{('[x]'):match('%[(.)%]')}",
        "{('a-b'):match('[%a-]+')}",
        "{('2024-01-31'):match('(%d+)-(%d+)-(%d+)')}",
        "{('x'):find('[]]')}",
        "{('a]'):find('[]a]+')}",
        "{('^a'):find('^^a')}",
        "{('a$b'):find('$b')}",
        "{('abc'):find('b?c')}",
        "{('aaa'):match('a-$')}",
        "{('caps CAPS'):match('%u+')}",
        "{('tab\\there'):match('%c')}",
    };
    const char *t = script("pat.lua",
        "return function(siblings)\n"
        "  local out = {}\n"
        "  for i, s in ipairs(siblings) do\n"
        "    local v = s.value\n"
        "    local words = {}\n"
        "    for w in v:gmatch('%a+') do words[#words + 1] = w end\n"
        "    for k, w in ('a=1, b=2'):gmatch('(%w+)=(%w+)') do\n"
        "      words[#words + 1] = k .. w\n"
        "    end\n"
        "    out[i] = words\n"
        "  end\n"
        "  return out\n"
        "end\n");
    char text[4096];
    size_t i, o;
    pair p;
    (void)st;
    pair_open(&p);
    pair_script(&p, "g", t, NULL);
    pair_conflict(&p, "g", "k", "'one two'", "'three'");
    want_value(p.a, "g", "k", "{{'one', 'two', 'a1', 'b2'},"
                 " {'three', 'a1', 'b2'}}");
    /* every case evaluated in the sandbox equals stock Lua's answer */
    o = (size_t)snprintf(text, sizeof text,
                         "return function() return {\n");
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s,\n", cases[i]);
    snprintf(text + o, sizeof text - o, "} end\n");
    t = script("pat2.lua", text);
    assert_int_equal(vv_keyspace_script(p.a, "g", t, NULL), VV_OK);
    o = (size_t)snprintf(text, sizeof text, "{");
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s,", cases[i]);
    snprintf(text + o, sizeof text - o, "}");
    want_value(p.a, "g", "k", text);
    /* malformed patterns are errors, as in stock Lua */
    {
        static const struct { const char *pat, *err; } bad[] = {
            {"%", "ends with '%'"}, {"[a", "missing ']'"},
            {"(()", "unfinished capture"}, {"%1", "invalid capture index"},
            {"a)", "invalid pattern capture"}, {"%b", "missing arguments"},
            {"%f", "missing '['"},
        };
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            snprintf(text, sizeof text, "return function() return "
                     "('abc'):match('%s') end", bad[i].pat);
            t = script("pat3.lua", text);
            assert_int_equal(vv_keyspace_script(p.a, "g", t, NULL), VV_OK);
            want_error(p.a, "g", "k", bad[i].err, 2);
        }
    }
    pair_close(&p);
}

/* table.sort in the sandbox: right on every length (insertion for short
 * lists, merge for long ones), stable, bytewise for strings, and with a
 * comparator; errors for bad elements. */
static void test_sort(void **st)
{
    static const char gen[] =
        "local out = {}\n"
        "for n = 0, 40 do\n"
        "  local t, u, w = {}, {}, {}\n"
        "  for i = 1, n do\n"
        "    t[i] = (i * 7919) % 101 + i / 1000\n"
        "    u[i] = { k = (i * 31) % 5, i = i }\n"
        "    w[i] = string.char(65 + (i * 13) % 26, 97 + i % 26)\n"
        "  end\n"
        "  table.sort(t)\n"
        "  table.sort(u, function(a, b) return a.k > b.k end)\n"
        "  table.sort(w)\n"
        "  local ui = {}\n"
        "  for i, x in ipairs(u) do ui[i] = x.i end\n"
        "  out[n + 1] = { t, ui, w }\n"
        "end\n"
        "return out\n";
    char text[2048];
    pair p;
    const char *path;
    (void)st;
    snprintf(text, sizeof text, "return function()\n%s end\n", gen);
    path = script("sort.lua", text);
    pair_open(&p);
    pair_script(&p, "s", path, NULL);
    pair_conflict(&p, "s", "k", "1", "2");
    /* stock Lua gives the same for t and w (distinct values); for u the
     * expected order is the stable one, computed here by hand */
    assert_int_equal(luaL_dostring(H,
        "local out = {}\n"
        "for n = 0, 40 do\n"
        "  local t, ui, w = {}, {}, {}\n"
        "  for i = 1, n do\n"
        "    t[i] = (i * 7919) % 101 + i / 1000\n"
        "    w[i] = string.char(65 + (i * 13) % 26, 97 + i % 26)\n"
        "  end\n"
        "  table.sort(t) table.sort(w)\n"
        "  for k = 4, 0, -1 do for i = 1, n do\n"
        "    if (i * 31) % 5 == k then ui[#ui + 1] = i end end end\n"
        "  out[n + 1] = { t, ui, w }\n"
        "end\n"
        "_EXPECT = out"), 0);
    {
        vv_read *r;
        const void *v;
        size_t n;
        vvi_buf b;
        char err[128];
        assert_int_equal(vv_get(p.a, "s", "k", 1, &r), VV_OK);
        assert_int_equal(vv_read_value(r, &v, &n), VV_OK);
        lua_getglobal(H, "_EXPECT");
        vvi_buf_init(&b);
        assert_int_equal(vvl_encode(H, -1, VVL_MSGPACK, &b, err, sizeof err),
                         VV_OK);
        lua_pop(H, 1);
        assert_int_equal(b.len, n);
        assert_memory_equal(b.p, v, n);
        vvi_buf_free(&b);
        vv_read_free(r);
    }
    /* elements that do not compare */
    path = script("sort2.lua", "return function() local t = {1, 'x', 2} "
                  "table.sort(t) return t end");
    assert_int_equal(vv_keyspace_script(p.a, "s", path, NULL), VV_OK);
    want_error(p.a, "s", "k", "attempt to compare", 2);
    pair_close(&p);
}

/* The resolve function called directly: fabricated siblings, large
 * counters, an empty key, bad arguments. */
static void test_direct(void **st)
{
    static const char src[] =
        "return function(s, key)\n"
        "  return { key = key, n = #s, c = s[2].counter,\n"
        "           node = s[1].node, actor = s[2].actor }\n"
        "end\n";
    vvl_resolver *r = NULL;
    char *err = NULL;
    bytes v1 = enc("1"), v2 = enc("2");
    vv_sibling sb[2];
    void *out = NULL;
    size_t n = 0;
    (void)st;
    assert_int_equal(vvl_resolver_load("d", "direct.lua", src, sizeof src - 1,
                                       NULL, &r, &err), VV_OK);
    assert_null(err);
    memset(sb, 0, sizeof sb);
    sb[0].value = v1.p; sb[0].len = v1.n;
    sb[0].actor = "n1.AAAA"; sb[0].actor_len = 7; sb[0].node_len = 2;
    sb[0].counter = 1; sb[0].timestamp = 5;
    sb[1].value = v2.p; sb[1].len = v2.n;
    sb[1].actor = "n2x.BBBB"; sb[1].actor_len = 8; sb[1].node_len = 3;
    sb[1].counter = 1ull << 40; sb[1].timestamp = 6;
    assert_int_equal(vvl_resolve(r, "d", "", 0, sb, 2, &out, &n, &err), VV_OK);
    assert_true(same(out, n, "{key='', n=2, c=1099511627776, node='n1',"
                     " actor='n2x.BBBB'}"));
    free(out);
    /* a sibling that does not decode */
    sb[1].len = 0;
    assert_int_equal(vvl_resolve(r, "d", "k", 1, sb, 2, &out, &n, &err),
                     VV_ERESOLVER);
    assert_non_null(strstr(err, "sibling 2 does not decode"));
    assert_null(out);
    free(err);
    err = NULL;
    assert_int_equal(vvl_resolve(r, "d", "k", 1, NULL, 2, &out, &n, &err),
                     VV_EINVAL);
    assert_true(vvl_resolver_memory(r) > 0);
    vvl_resolver_free(r);
    vvl_resolver_free(NULL);
    assert_int_equal(vvl_resolver_load("d", "x", NULL, 1, NULL, &r, &err),
                     VV_EINVAL);
    vvi_free(v1.p);
    vvi_free(v2.p);
}

/* Every allocation of a load and of a resolution may fail: no crash, no
 * leak, and success once the allocations go through. */
static void test_alloc_failure(void **st)
{
    vvl_resolver *r = NULL;
    char *err = NULL, *src;
    FILE *f = fopen("scripts/union.lua", "rb");
    size_t len, n;
    long i;
    bytes v1 = enc("{'a', 'b'}"), v2 = enc("{'c'}");
    vv_sibling sb[2];
    void *out;
    int rc = -1;
    (void)st;
    assert_non_null(f);
    src = malloc(65536);
    len = fread(src, 1, 65536, f);
    fclose(f);
    for (i = 1; i < 100000; i++) {
        vvi_fail_alloc_after(i);
        rc = vvl_resolver_load("ks", "union.lua", src, len, NULL, &r, &err);
        vvi_fail_alloc_after(0);
        free(err);
        err = NULL;
        if (rc == VV_OK) break;
        assert_true(rc == VV_ENOMEM || rc == VV_ERESOLVER);
    }
    assert_int_equal(rc, VV_OK);
    memset(sb, 0, sizeof sb);
    sb[0].value = v1.p; sb[0].len = v1.n;
    sb[0].actor = "s0.A"; sb[0].actor_len = 4; sb[0].node_len = 2;
    sb[1].value = v2.p; sb[1].len = v2.n;
    sb[1].actor = "s1.B"; sb[1].actor_len = 4; sb[1].node_len = 2;
    for (i = 1; i < 100000; i++) {
        out = NULL;
        vvi_fail_alloc_after(i);
        rc = vvl_resolve(r, "ks", "k", 1, sb, 2, &out, &n, &err);
        vvi_fail_alloc_after(0);
        free(err);
        err = NULL;
        if (rc == VV_OK) {
            assert_true(same(out, n, "{'a', 'b', 'c'}"));
            free(out);
            break;
        }
        assert_int_equal(rc, VV_ERESOLVER);
    }
    assert_int_equal(rc, VV_OK);
    vvl_resolver_free(r);
    free(src);
    vvi_free(v1.p);
    vvi_free(v2.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_union),
        cmocka_unit_test(test_lww),
        cmocka_unit_test(test_max),
        cmocka_unit_test(test_priority),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_user),
        cmocka_unit_test(test_protocol),
        cmocka_unit_test(test_hostile),
#if LUA_VERSION_NUM >= 504
        cmocka_unit_test(test_hostile_close),
#endif
        cmocka_unit_test(test_hostile_load),
        cmocka_unit_test(test_binary_chunk),
        cmocka_unit_test(test_no_history),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_budgets),
        cmocka_unit_test(test_hot_reload),
        cmocka_unit_test(test_raw_codec),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_direct),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests_name("resolver", tests, group_setup,
                                       group_teardown);
}
