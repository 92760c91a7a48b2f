/* bench_resolver.c - script resolvers: resolves per second, the cost of
 * the sandbox against a bare lua_State, and load/reload times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "vv.h"
#include "common/lcodec.h"
#include "sandbox/resolver.h"
#include "benchutil.h"

#define SCRIPT "scripts/union.lua"

/* A resolver that spends its time in string.find/match/gmatch/gsub: the
 * sandbox's bounded matcher against stock Lua's in a bare lua_State. */
static const char PATTERNS[] =
    "return function(siblings)\n"
    "  local seen, out = {}, {}\n"
    "  for _, s in ipairs(siblings) do\n"
    "    local line = table.concat(s.value, ', ')\n"
    "    for _, item in ipairs(s.value) do\n"
    "      local name, num = item:match('^%s*(%a+)(%d*)%s*$')\n"
    "      local key = name:upper() .. (num ~= '' and '#' .. num or '')\n"
    "      if not seen[key] then seen[key] = true out[#out + 1] = key end\n"
    "      if line:find('%f[%w]' .. name .. '%d') then out[#out + 1] = num end\n"
    "    end\n"
    "    for w in line:gmatch('[^,%s]+') do\n"
    "      if w:find('milk', 1, true) then\n"
    "        out[#out + 1] = (w:gsub('%l', '%0%0', 2))\n"
    "      end\n"
    "    end\n"
    "    out[#out + 1] = (line:gsub('(%w+)(%d)', '%2%1'))\n"
    "  end\n"
    "  table.sort(out)\n"
    "  return out\n"
    "end\n";

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_resolver: %s: %s\n", what, msg);
    exit(1);
}

/* Iterations: VV_BENCH_SCALE (default 1) times n. */
static long iters(long n)
{
    const char *e = getenv("VV_BENCH_SCALE");
    double s = e ? atof(e) : 1.0;
    return s > 0 ? (long)(n * s) + 1 : n;
}

/* One line of the table: figure, baseline, and their ratio. */
static void row(const char *name, double a, const char *ua, double b,
                const char *ub, double ratio, const char *goal)
{
    printf("%-44s %11.1f %-9s", name, a, ua);
    if (b > 0) printf(" %11.1f %-9s %6.2fx", b, ub, ratio);
    else printf(" %11s %-9s %7s", "", "", "");
    printf("  %s\n", goal);
}

/* n small sibling values (carts of 3 items each, overlapping), msgpack. */
typedef struct sibset {
    vv_sibling s[16];
    vv_buf v[16];
    char actor[16][16];
    size_t n;
} sibset;

static void make_sibs(sibset *ss, size_t n)
{
    lua_State *L = luaL_newstate();
    size_t i;
    char code[160], err[128];
    ss->n = n;
    for (i = 0; i < n; i++) {
        snprintf(code, sizeof code, "return {'item%zu', 'item%zu', 'milk'}",
                 i, i + 1);
        if (luaL_dostring(L, code)) die("lua", lua_tostring(L, -1));
        vv_buf_init(&ss->v[i]);
        if (vvl_encode(L, -1, VVL_MSGPACK, &ss->v[i], err, sizeof err))
            die("encode", err);
        lua_pop(L, 1);
        snprintf(ss->actor[i], sizeof ss->actor[i], "s%zu.ABCDEFGH", i);
        memset(&ss->s[i], 0, sizeof ss->s[i]);
        ss->s[i].value = ss->v[i].p;
        ss->s[i].len = ss->v[i].len;
        ss->s[i].actor = ss->actor[i];
        ss->s[i].actor_len = strlen(ss->actor[i]);
        ss->s[i].node_len = ss->s[i].actor_len - 9;
        ss->s[i].counter = i + 1;
        ss->s[i].timestamp = 1700000000000ull + i;
    }
    lua_close(L);
}

static void free_sibs(sibset *ss)
{
    size_t i;
    for (i = 0; i < ss->n; i++) vv_buf_free(&ss->v[i]);
}

/* Seconds per resolve through the sandboxed host. */
static double host_resolve(vvl_resolver *r, sibset *ss, long n)
{
    long i;
    double t0;
    void *out;
    size_t len;
    char *err = NULL;
    for (i = 0; i < n / 10 + 1; i++) {            /* warm up */
        if (vvl_resolve(r, "carts", "cart:1", 6, ss->s, ss->n, &out, &len,
                        &err))
            die("resolve", err);
        free(out);
    }
    t0 = now_s();
    for (i = 0; i < n; i++) {
        vvl_resolve(r, "carts", "cart:1", 6, ss->s, ss->n, &out, &len, &err);
        free(out);
    }
    return (now_s() - t0) / (double)n;
}

/* Seconds per call of the same function (the script src, or SCRIPT when
 * NULL) on the same Lua values in a bare lua_State: no sandbox, no
 * budgets, no decoding, no encoding. */
static double bare_resolve(const char *src, sibset *ss, long n)
{
    lua_State *L = luaL_newstate();
    size_t i;
    long k;
    double t0;
    char err[128];
    luaL_openlibs(L);
    if (src ? luaL_dostring(L, src) : luaL_dofile(L, SCRIPT))       /* 1 */
        die("bare", lua_tostring(L, -1));
    lua_createtable(L, (int)ss->n, 0);                              /* 2 */
    for (i = 0; i < ss->n; i++) {
        lua_createtable(L, 0, 5);
        if (vvl_decode(L, ss->s[i].value, ss->s[i].len, VVL_MSGPACK, err,
                       sizeof err))
            die("decode", err);
        lua_setfield(L, -2, "value");
        lua_pushlstring(L, ss->s[i].actor, ss->s[i].node_len);
        lua_setfield(L, -2, "node");
        lua_pushlstring(L, ss->s[i].actor, ss->s[i].actor_len);
        lua_setfield(L, -2, "actor");
        lua_pushinteger(L, (lua_Integer)ss->s[i].counter);
        lua_setfield(L, -2, "counter");
        lua_pushinteger(L, (lua_Integer)ss->s[i].timestamp);
        lua_setfield(L, -2, "timestamp");
        lua_rawseti(L, 2, (lua_Integer)i + 1);
    }
    lua_pushliteral(L, "cart:1");                                   /* 3 */
    for (k = 0; k < n / 10 + 1; k++) {
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 3);
        lua_call(L, 2, 1);
        lua_pop(L, 1);
    }
    t0 = now_s();
    for (k = 0; k < n; k++) {
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 3);
        lua_call(L, 2, 1);
        lua_pop(L, 1);
    }
    t0 = (now_s() - t0) / (double)n;
    lua_close(L);
    return t0;
}

/* Reads per second of a key with two siblings in a store: with the
 * union.lua resolver against the "siblings" resolver (no resolution). */
static void store_reads(long n)
{
    vv_options o;
    vv_db *a, *b;
    vv_ks_config c;
    sibset ss;
    void *st;
    size_t len;
    double t0, ts, tn;
    long i;
    memset(&o, 0, sizeof o);
    o.node = "s0";
    if (vv_db_open(&o, &a, NULL)) die("open", "s0");
    o.node = "s1";
    if (vv_db_open(&o, &b, NULL)) die("open", "s1");
    make_sibs(&ss, 2);
    if (vv_keyspace_script(a, "carts", SCRIPT, NULL)) die("ks", vv_errmsg(a));
    memset(&c, 0, sizeof c);
    if (vv_keyspace(a, "plain", &c)) die("ks", vv_errmsg(a));
    vv_put(a, "carts", "k", 1, ss.s[0].value, ss.s[0].len, NULL, NULL);
    vv_put(b, "carts", "k", 1, ss.s[1].value, ss.s[1].len, NULL, NULL);
    vv_export(b, "carts", "k", 1, &st, &len);
    vv_merge(a, "carts", "k", 1, st, len);
    vv_free(st);
    vv_put(a, "plain", "k", 1, ss.s[0].value, ss.s[0].len, NULL, NULL);
    vv_put(a, "plain", "k", 1, ss.s[1].value, ss.s[1].len, NULL, NULL);
    for (i = 0; i < 2; i++) {
        const char *ks = i ? "plain" : "carts";
        long j;
        t0 = now_s();
        for (j = 0; j < n; j++) {
            vv_read *r = NULL;
            const void *v;
            size_t vl;
            if (vv_get(a, ks, "k", 1, &r)) die("get", vv_errmsg(a));
            if ((vv_read_value(r, &v, &vl) == VV_OK) != !i)
                die("read", vv_read_error(r) ? vv_read_error(r) : ks);
            vv_read_free(r);
        }
        if (i) tn = (now_s() - t0) / (double)n;
        else ts = (now_s() - t0) / (double)n;
    }
    row("store get+resolve, 2 siblings (union.lua)", 1 / ts, "reads/s",
        1 / tn, "reads/s", ts / tn, "vs get without a resolver");
    free_sibs(&ss);
    vv_db_close(a);
    vv_db_close(b);
}

int main(void)
{
    vvl_resolver *r = NULL;
    char *err = NULL;
    sibset s2, s10;
    double h2, b2, h10, b10, t0, tl, tr;
    long n = iters(200000), i;
    vv_db *db;
    vv_options o;

    printf("bench_resolver: %s in a sandbox (%s), budgets %u instructions,"
           " %u bytes\n", SCRIPT, LUA_RELEASE, VVL_BUDGET_INSTRUCTIONS,
           VVL_BUDGET_MEMORY);
    printf("%-44s %21s %21s %7s  %s\n", "", "figure", "baseline", "ratio",
           "goal");
    if (vvl_resolver_load_file("carts", SCRIPT, NULL, &r, &err))
        die("load", err);
    make_sibs(&s2, 2);
    make_sibs(&s10, 10);
    h2 = host_resolve(r, &s2, n);
    b2 = bare_resolve(NULL, &s2, n);
    h10 = host_resolve(r, &s10, n / 4);
    b10 = bare_resolve(NULL, &s10, n / 4);
    row("union.lua, 2 small siblings", 1 / h2, "resolve/s", 1 / b2,
        "calls/s", h2 / b2, "ratio <= 3x (bare lua_State call)");
    row("union.lua, 10 small siblings", 1 / h10, "resolve/s", 1 / b10,
        "calls/s", h10 / b10, "ratio <= 3x (bare lua_State call)");
    printf("%-44s %11.2f %-9s\n", "  sandbox memory after the runs",
           (double)vvl_resolver_memory(r) / 1024, "KiB");
    vvl_resolver_free(r);
    if (vvl_resolver_load("carts", "patterns", PATTERNS, sizeof PATTERNS - 1,
                          NULL, &r, &err))
        die("load", err);
    h10 = host_resolve(r, &s10, n / 4);
    b10 = bare_resolve(PATTERNS, &s10, n / 4);
    row("patterns (find/match/gmatch/gsub), 10 sibs", 1 / h10, "resolve/s",
        1 / b10, "calls/s", h10 / b10, "ratio <= 3x (bare lua_State call)");
    vvl_resolver_free(r);
    store_reads(n / 2);

    /* load: a fresh sandbox, the script compiled and probed */
    t0 = now_s();
    for (i = 0; i < iters(2000); i++) {
        if (vvl_resolver_load_file("carts", SCRIPT, NULL, &r, &err))
            die("load", err);
        vvl_resolver_free(r);
    }
    tl = (now_s() - t0) / (double)iters(2000);
    /* reload: vv_keyspace_script on a live keyspace (swap included) */
    memset(&o, 0, sizeof o);
    o.node = "s0";
    if (vv_db_open(&o, &db, NULL)) die("open", "s0");
    t0 = now_s();
    for (i = 0; i < iters(2000); i++)
        if (vv_keyspace_script(db, "carts", SCRIPT, NULL))
            die("reload", vv_errmsg(db));
    tr = (now_s() - t0) / (double)iters(2000);
    vv_db_close(db);
    row("load a script (new sandbox)", tl * 1e6, "us", 0, "", 0, "");
    row("reload a script (vv_keyspace_script)", tr * 1e6, "us", tl * 1e6,
        "us", tr / tl, "vs load");
    free_sibs(&s2);
    free_sibs(&s10);
    return 0;
}
