/* test_pattern.c - the sandbox's pattern matcher against Lua 5.4's own:
 * generated and edge-case patterns, hostile patterns, the budgets. */
/*
 * The differential test runs each case (string.find, match, gmatch or
 * gsub on a subject, a pattern and extra arguments) twice in one host
 * lua_State: through vv's functions (vvl_open_match, a test meter that
 * stops a case after CASE_STEPS steps) and through the host's stock
 * string library, and compares what they return, or the errors they
 * raise, written out canonically by the Lua driver below.  Cases come
 * from a fixed list of edge cases and from a random grammar of the
 * pattern language (a fixed seed, plus VV_PATTERN_SEED when set, each
 * VV_PATTERN_CASES cases long).  Cases vv stops for budget are counted
 * and skipped: stock Lua could run them for minutes.
 */
#include "resolverutil.h"

#define CASES      100000       /* generated cases per seed */
#define CASE_STEPS 200000       /* a case's step budget in vv */
#define SEED       0x5eed0f5u   /* the fixed seed */

/* ---- the two sides ------------------------------------------------------ */

/* The driver: run(lib, op, s, p, a, b) returns the canonical text of what
 * lib's function op returns; op 1 find(s, p, a, b), 2 match(s, p, a),
 * 3 every step of gmatch(s, p, a), 4 gsub(s, p, repl, b) where a names
 * the replacement or is it. */
static const char DRIVER[] =
    "local function show(...)\n"
    "  local out = { '#' .. select('#', ...) }\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    if type(v) == 'string' then out[#out + 1] = string.format('%q', v)\n"
    "    elseif type(v) == 'number' then\n"
    "      out[#out + 1] = math.type(v) .. ':' .. tostring(v)\n"
    "    else out[#out + 1] = tostring(v) end\n"
    "  end\n"
    "  return table.concat(out, ' ')\n"
    "end\n"
    "local repl_t = { a = 'A', ab = false, b = 1.5, [1] = 'one', [2] = 2,\n"
    "                 ['('] = '<', aa = {} }\n"
    "local function repl_f(...)\n"
    "  local n, a = select('#', ...), ...\n"
    "  if n % 3 == 0 then return nil end\n"
    "  if n % 3 == 1 then return tostring(a) .. '|' .. n end\n"
    "  if a == 'b' then return {} end\n"
    "  return false\n"
    "end\n"
    "local function call(lib, op, s, p, a, b)\n"
    "  if op == 1 then return show(lib.find(s, p, a, b)) end\n"
    "  if op == 2 then return show(lib.match(s, p, a)) end\n"
    "  if op == 3 then\n"
    "    local out, it = {}, lib.gmatch(s, p, a)\n"
    "    for k = 1, #s + 3 do\n"
    "      local r = show(it())\n"
    "      out[k] = r\n"
    "      if r == '#0' then break end\n"
    "    end\n"
    "    return table.concat(out, ' / ')\n"
    "  end\n"
    "  if a == '<table>' then a = repl_t\n"
    "  elseif a == '<function>' then a = repl_f end\n"
    "  return show(lib.gsub(s, p, a, b))\n"
    "end\n"
    "return function(lib, ...)\n"
    "  local ok, r = pcall(call, lib, ...)\n"
    "  if ok or r == 'vv: budget' then return r end\n"
    "  local at = r:find(': ', 1, true)    -- after the chunk and line\n"
    "  return 'error: ' .. (at and r:sub(at + 2) or r)\n"
    "end\n";

/* The source of a resolver that runs the cases given (a list of {op, s,
 * p, a, b}) in the sandbox through the driver, and returns the texts. */
static const char BATCH[] =
    "return function(cases, driver)\n"
    "  local out = { 'local run = (function()\\n', driver,\n"
    "                '\\nend)()\\nlocal cases = {\\n' }\n"
    "  for _, c in ipairs(cases) do\n"
    "    local parts = {}\n"
    "    for i = 1, 5 do\n"
    "      local v = c[i]\n"
    "      parts[i] = type(v) == 'string' and string.format('%q', v)\n"
    "                 or tostring(v)\n"
    "    end\n"
    "    out[#out + 1] = '{' .. table.concat(parts, ', ') .. '},\\n'\n"
    "  end\n"
    "  out[#out + 1] = '}\\nreturn function()\\n  local r = {}\\n' ..\n"
    "    '  for i, c in ipairs(cases) do\\n' ..\n"
    "    '    r[i] = run(string, c[1], c[2], c[3], c[4], c[5])\\n' ..\n"
    "    '  end\\n  return r\\nend\\n'\n"
    "  return table.concat(out)\n"
    "end\n";

static lua_State *L;                /* the host: both sides run here */
static int driver_ref, vv_ref, host_ref;
static uint64_t case_steps;         /* charged by vv in this case */

/* The test meter: counts, and stops a case past CASE_STEPS. */
static void test_charge(lua_State *S, void *ud, uint64_t n)
{
    (void)ud;
    case_steps += n;
    if (case_steps > CASE_STEPS) {
        lua_pushliteral(S, "vv: budget");
        lua_error(S);
    }
}

static int setup(void **st)
{
    (void)st;
    if (group_setup(st)) return -1;
    L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_loadbuffer(L, DRIVER, sizeof DRIVER - 1, "=driver") ||
        lua_pcall(L, 0, 1, 0))
        return -1;
    driver_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    vvl_open_match(L, test_charge, NULL);
    vv_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getglobal(L, "string");
    host_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int teardown(void **st)
{
    lua_close(L);
    return group_teardown(st);
}

/* One case: the function, the subject and pattern, the extra arguments
 * (nil when unset). */
typedef struct pcase {
    int op;                         /* 1 find, 2 match, 3 gmatch, 4 gsub */
    char s[512], p[2048];
    size_t ls, lp;
    int has_init;
    long long init;                 /* find, match, gmatch */
    int plain;                      /* find: 0 none, 1 true, 2 false */
    char repl[64];                  /* gsub: "<table>", "<function>", text */
    size_t lrepl;
    int repl_num;                   /* gsub: repl is the number 7 */
    int has_max;
    long long max;                  /* gsub */
} pcase;

/* Push the arguments of c after the library (op, s, p, a, b). */
static void push_args(const pcase *c)
{
    lua_pushinteger(L, c->op);
    lua_pushlstring(L, c->s, c->ls);
    lua_pushlstring(L, c->p, c->lp);
    if (c->op == 4) {
        if (c->repl_num) lua_pushinteger(L, 7);
        else lua_pushlstring(L, c->repl, c->lrepl);
        if (c->has_max) lua_pushinteger(L, (lua_Integer)c->max);
        else lua_pushnil(L);
        return;
    }
    if (c->has_init) lua_pushinteger(L, (lua_Integer)c->init);
    else lua_pushnil(L);
    if (c->plain == 0) lua_pushnil(L);
    else lua_pushboolean(L, c->plain == 1);
}

/* Run c through lib (a registry ref); returns the driver's text, which
 * stays on the stack. */
static const char *run_side(const pcase *c, int lib)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, driver_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lib);
    push_args(c);
    if (lua_pcall(L, 6, 1, 0) != LUA_OK)
        fail_msg("driver: %s", lua_tostring(L, -1));
    return lua_tostring(L, -1);
}

/* A case written as Lua, for messages. */
static const char *show_case(const pcase *c)
{
    static const char *const names[] = {"", "find", "match", "gmatch",
                                        "gsub"};
    static char text[2048];
    char *p;
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "format");
    lua_pushliteral(L, "%q:%s(%q, %s, %s)");
    lua_pushlstring(L, c->s, c->ls);
    lua_pushstring(L, names[c->op]);
    lua_pushlstring(L, c->p, c->lp);
    if (c->op == 4) {
        if (c->repl_num) lua_pushliteral(L, "7");
        else lua_pushfstring(L, "%s", c->repl);
        if (c->has_max) lua_pushfstring(L, "%d", (int)c->max);
        else lua_pushliteral(L, "nil");
    } else {
        if (c->has_init) lua_pushfstring(L, "%d", (int)c->init);
        else lua_pushliteral(L, "nil");
        lua_pushstring(L, c->plain == 0 ? "nil" : c->plain == 1 ? "true"
                                                                : "false");
    }
    lua_call(L, 6, 1);
    snprintf(text, sizeof text, "%s", lua_tostring(L, -1));
    lua_pop(L, 2);
    for (p = text; *p; p++)
        if (*p == '\n') *p = 'n';          /* %q wrote "\<newline>" */
    return text;
}

/* What the differential runs add up to. */
typedef struct tally {
    long cases, same, found, both_err, budget, differ;
    long complex;                   /* same error: "pattern too complex" */
} tally;

/* Run one case on both sides and compare; a difference is printed and
 * counted. */
static void check_case(const pcase *c, tally *t)
{
    const char *a, *b;
    t->cases++;
    case_steps = 0;
    a = run_side(c, vv_ref);
    if (strcmp(a, "vv: budget") == 0) {
        t->budget++;
        lua_pop(L, 1);
        return;
    }
    b = run_side(c, host_ref);
    if (strcmp(a, b) == 0) {
        if (strncmp(a, "error: ", 7) == 0) {
            t->both_err++;
            t->complex += strstr(a, "pattern too complex") != NULL;
        } else {
            t->same++;                  /* and did it find something? */
            t->found += strcmp(a, "#1 nil") && strcmp(a, "#0") &&
                        !strstr(a, " integer:0");
        }
    } else {
        if (t->differ++ < 10)
            print_message("DIFFER %s\n  vv:   %s\n  host: %s\n",
                          show_case(c), a, b);
    }
    lua_pop(L, 2);
}

/* ---- cases -------------------------------------------------------------- */

/* A case from Lua-like text: op, subject, pattern (both may hold \0). */
static pcase mk(int op, const char *s, size_t ls, const char *p, size_t lp)
{
    pcase c;
    memset(&c, 0, sizeof c);
    c.op = op;
    memcpy(c.s, s, ls);
    c.ls = ls;
    memcpy(c.p, p, lp);
    c.lp = lp;
    return c;
}

#define S(x) x, sizeof x - 1

/* Every function on one subject and pattern, with a few extra arguments. */
static void check_all(const char *s, size_t ls, const char *p, size_t lp,
                      tally *t)
{
    static const char *const repls[] = {"<table>", "<function>", "[%0]",
                                        "%1-%2", "%%", "x%"};
    pcase c;
    int op, i;
    for (op = 1; op <= 3; op++) {
        c = mk(op, s, ls, p, lp);
        check_case(&c, t);
        c.has_init = 1;
        for (c.init = -3; c.init <= 3; c.init += 2) check_case(&c, t);
    }
    for (i = 0; i < 6; i++) {
        c = mk(4, s, ls, p, lp);
        c.lrepl = strlen(repls[i]);
        memcpy(c.repl, repls[i], c.lrepl);
        check_case(&c, t);
        c.has_max = 1;
        c.max = i - 1;
        check_case(&c, t);
    }
}

/* Hand-picked patterns: anchors, empty ones, sets, classes, captures,
 * %b, %f, back-references, the limits, malformed ones. */
static const char *const edge_patterns[] = {
    "", "^", "$", "^$", "a", "^a", "a$", "^a$", "$a", "a^", "^^", "$$",
    ".", ".*", ".-", ".+", ".?", "a*", "a-", "a+", "a?", "a**", "a+?",
    "a-b", "a*b", "^a*$", "(a*)", "(a-)", "()", "()()", "(()a)", "((a)(b))",
    "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)", "(a*(.)%w(%s*))", "%1", "(a)%1",
    "(a*)%1", "(()a)%2", "()a%1", "(a%1)", "%0", "(a)%2", "(a)%10",
    "%b()", "%bab", "%b((", "%b", "%b(", "a%b()b", "%b()*", "%f[%a]",
    "%f[%a]%a+", "%f[%A]", "%f[^a]", "%f[a", "%f", "%fa", "%f[%z]",
    "[a]", "[^a]", "[]]", "[]a]", "[^]]", "[^]", "[]", "[", "[a", "[%",
    "[%]", "[%]]", "[a-]", "[-a]", "[a-c]", "[c-a]", "[%a-z]", "[a-%d]",
    "[%w_]+", "[^%s]+", "[%^]", "[a%-z]", "[!-/]", "[%z]", "[%%]", "[.]",
    "%", "a%", "%%", "%.", "%a", "%A", "%c", "%C", "%d", "%D", "%g", "%G",
    "%l", "%L", "%p", "%P", "%s", "%S", "%u", "%U", "%w", "%W", "%x", "%X",
    "%z", "%Z", "%q", "%Q", "%_", "%(", "(", ")", "a)", "(()", "((a)",
    "(a))", "%1(a)", "x[", "x%", "x%b", "x%f", "x(", "x)", "^(a*)(b*)$",
    "^%s*(.-)%s*$", "(%w+)=(%w+)", "%d+%.?%d*", "[+-]?%d+", "^[%a_][%w_]*$",
};

/* Subjects for the hand-picked patterns. */
static const struct { const char *s; size_t n; } edge_subjects[] = {
    {S("")}, {S("a")}, {S("aaa")}, {S("ab")}, {S("ba")}, {S("abcabc")},
    {S("a(b(c)d)e")}, {S("((()")}, {S("THE (quick) fox")}, {S("x=1, y=22")},
    {S("  trim  ")}, {S("a]b[c-d^e%f")}, {S("\0a\0")}, {S("\200\377a")},
    {S("a\tb\nc\rd e")}, {S("-12.5e3 _id9")}, {S("aabbaabb")},
};

/* Every hand-picked pattern on every hand-picked subject. */
static void test_edges(void **st)
{
    tally t;
    size_t i, j;
    (void)st;
    memset(&t, 0, sizeof t);
    for (i = 0; i < sizeof edge_patterns / sizeof *edge_patterns; i++)
        for (j = 0; j < sizeof edge_subjects / sizeof *edge_subjects; j++)
            check_all(edge_subjects[j].s, edge_subjects[j].n,
                      edge_patterns[i], strlen(edge_patterns[i]), &t);
    print_message("edge cases: %ld, same %ld, same error %ld, budget %ld, "
                  "differ %ld\n", t.cases, t.same, t.both_err, t.budget,
                  t.differ);
    assert_int_equal(t.differ, 0);
    assert_int_equal(t.budget, 0);
}

/* The classes and sets over all 256 bytes, as gsub leaves them. */
static void test_classes(void **st)
{
    static const struct { const char *p; size_t n; } sets[] = {
        {S("[\001-\037]")}, {S("[a-\200]")}, {S("[\200-\377]")},
        {S("[^\200-\377]")}, {S("[\0-a]")}, {S("[%a%d]")}, {S("[^%a%d]")},
        {S("[%W%s]")}, {S("[%]%-%^]")}, {S("[%D-z]")}, {S("[^%z]")},
        {S("[\377]")}, {S("[^\0]")}, {S("[a-a]")}, {S("[z-a]")},
        {S("[%%-%)]")}, {S("%f[%w]%w+")}, {S("%f[%W]")}, {S("[%A-%Z]")},
        {S("[%g]")}, {S("[%x%X]")},
    };
    static const char classes[] = "acdglpsuwxzACDGLPSUWXZbfhijkmnoqrtvy"
                                  "BEFHIJKMNOQRTVY%.-[]^$()*+?0_ \t";
    char all[256], p[8];
    tally t;
    size_t i;
    pcase c;
    (void)st;
    memset(&t, 0, sizeof t);
    for (i = 0; i < 256; i++) all[i] = (char)i;
    for (i = 0; i < sizeof classes - 1; i++) {
        if (classes[i] == 'b' || classes[i] == 'f' ||
            (classes[i] >= '0' && classes[i] <= '9'))
            continue;                   /* not classes: %b, %f, %1 */
        snprintf(p, sizeof p, "%%%c", classes[i]);
        c = mk(4, all, 256, p, strlen(p));
        memcpy(c.repl, "<function>", 10);
        c.lrepl = 10;
        check_case(&c, &t);
        snprintf(p, sizeof p, "[%%%c]+", classes[i]);
        c = mk(4, all, 256, p, strlen(p));
        memcpy(c.repl, "#", 1);
        c.lrepl = 1;
        check_case(&c, &t);
        snprintf(p, sizeof p, "[^%%%c]+", classes[i]);
        c = mk(3, all, 256, p, strlen(p));
        check_case(&c, &t);
    }
    for (i = 0; i < sizeof sets / sizeof *sets; i++) {
        c = mk(3, all, 256, sets[i].p, sets[i].n);
        check_case(&c, &t);
    }
    print_message("class cases: %ld, same %ld, differ %ld\n", t.cases,
                  t.same, t.differ);
    assert_int_equal(t.differ, 0);
    assert_int_equal(t.same, t.cases);
}

/* A pattern of n copies of item after head, and an end. */
static size_t repeat(char *p, size_t cap, const char *head, const char *item,
                     int n, const char *tail)
{
    size_t o = 0;
    int i;
    o += (size_t)snprintf(p + o, cap - o, "%s", head);
    for (i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(p + o, cap - o, "%s", item);
    if (o < cap) o += (size_t)snprintf(p + o, cap - o, "%s", tail);
    assert_true(o < cap);
    return o;
}

/* The limits: "pattern too complex" just where Lua 5.4 raises it (a
 * repetition that took a byte, a capture's start and end nest once each,
 * up to 199), "too many captures" past 32. */
static void test_limits(void **st)
{
    static const int counts[] = {0, 1, 2, 3, 31, 32, 33, 99, 100, 150, 190,
                                 195, 196, 197, 198, 199, 200, 201, 202,
                                 205};
    static const struct { const char *head, *item, *tail; } shapes[] = {
        {"", "a?", ""}, {"", "a?", "b"}, {"", ".-", "b"}, {"", "a*", "b"},
        {"", "a+", "$"}, {"(a?)(a?)(a?)(a?)(a?)(a?)(a?)(a?)", "a?", ""},
        {"((((((((a?)))))))))", "[ab]?", "%1"}, {"", "()", ""},
        {"", "(a?)", ""}, {"", "%a-", "$"}, {"^", "a?a?b?", ""},
    };
    char sub[400];
    pcase c;
    tally t;
    size_t i, k;
    int len, op;
    (void)st;
    memset(&t, 0, sizeof t);
    memset(sub, 'a', sizeof sub);
    for (i = 0; i < sizeof shapes / sizeof *shapes; i++)
        for (k = 0; k < sizeof counts / sizeof *counts; k++)
            for (len = 0; len <= 300; len += len < 2 ? 1 : 149)
                for (op = 1; op <= 4; op++) {
                    c = mk(op, sub, (size_t)len, "", 0);
                    c.lp = repeat(c.p, sizeof c.p, shapes[i].head,
                                  shapes[i].item, counts[k],
                                  shapes[i].tail);
                    if (op == 4) memcpy(c.repl, "<function>", c.lrepl = 10);
                    check_case(&c, &t);
                }
    print_message("limit cases: %ld, same %ld, same error %ld (too complex "
                  "%ld), budget %ld, differ %ld\n", t.cases, t.same,
                  t.both_err, t.complex, t.budget, t.differ);
    assert_int_equal(t.differ, 0);
    assert_true(t.complex > 0);
}

/* ---- generated cases ---------------------------------------------------- */

/* A small fast generator (xorshift64*). */
static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return n ? (uint32_t)((rng * 2685821657736338717ull) >> 33) % n : 0;
}

/* Append one byte, if there is room (the last byte is kept free). */
static void put(char *buf, size_t *n, size_t cap, int c)
{
    if (*n + 1 < cap) buf[(*n)++] = (char)c;
}

static void puts_(char *buf, size_t *n, size_t cap, const char *s)
{
    while (*s) put(buf, n, cap, *s++);
}

/* A byte for subjects: mostly a and b, so patterns find something. */
static int subject_byte(void)
{
    static const char some[] = "ab ()[]%^$-.xA1_\t";
    uint32_t k = rnd(100);
    if (k < 60) return "ab"[rnd(2)];
    if (k < 96) return some[rnd(sizeof some - 1)];
    return "\0\200\377"[rnd(3)];
}

/* A byte for patterns that stands for itself. */
static void gen_literal(char *p, size_t *n, size_t cap)
{
    static const char plain[] = "aaabbbxA1 _";
    static const char quoted[] = ".%()[]*+-?^$";
    uint32_t k = rnd(10);
    if (k < 8) {
        put(p, n, cap, plain[rnd(sizeof plain - 1)]);
    } else if (k < 9) {
        put(p, n, cap, '%');
        put(p, n, cap, quoted[rnd(sizeof quoted - 1)]);
    } else {
        put(p, n, cap, "\0\200"[rnd(2)]);
    }
}

/* A set: [^...] with bytes, ranges and classes. */
static void gen_set(char *p, size_t *n, size_t cap)
{
    static const char *const parts[] = {
        "a", "b", "x", "-", "^", "%]", "%-", "a-b", "0-9", "b-a", "%a",
        "%d", "%s", "%S", "%w", "%p", "%%", " ", "(", "\200-\377",
    };
    uint32_t i, k = 1 + rnd(4);
    put(p, n, cap, '[');
    if (rnd(4) == 0) put(p, n, cap, '^');
    if (rnd(10) == 0) put(p, n, cap, ']');
    for (i = 0; i < k; i++) puts_(p, n, cap, parts[rnd(20)]);
    put(p, n, cap, ']');
}

/* A single-byte item and maybe its repetition. */
static void gen_single(char *p, size_t *n, size_t cap)
{
    static const char classes[] = "adslwpuxcgzADSWq";
    uint32_t k = rnd(10);
    if (k < 5) gen_literal(p, n, cap);
    else if (k < 6) put(p, n, cap, '.');
    else if (k < 8) {
        put(p, n, cap, '%');
        put(p, n, cap, classes[rnd(sizeof classes - 1)]);
    } else gen_set(p, n, cap);
    k = rnd(20);
    if (k >= 10) put(p, n, cap, "***+++--??"[k - 10]);
}

/* A malformed piece, as people get them wrong. */
static void gen_bad(char *p, size_t *n, size_t cap)
{
    static const char *const bad[] = {
        "%", "[a", "[^", "[]", "[%", ")", "(", "%b", "%ba", "%f", "%fa",
        "%f[a", "%0", "%9", "(()", "[a%]",
    };
    puts_(p, n, cap, bad[rnd(sizeof bad / sizeof *bad)]);
}

/* A sequence of items; captures nest up to depth 3. */
static void gen_items(char *p, size_t *n, size_t cap, int depth)
{
    static const char *const pairs[] = {"()", "ab", "[]", "''", "aa", "a"};
    uint32_t i, k = rnd(depth ? 4 : 7);
    for (i = 0; i < k; i++) {
        uint32_t w = rnd(100);
        if (w < 60) {
            gen_single(p, n, cap);
        } else if (w < 72 && depth < 3) {
            put(p, n, cap, '(');
            gen_items(p, n, cap, depth + 1);
            put(p, n, cap, ')');
        } else if (w < 76) {
            puts_(p, n, cap, "()");
        } else if (w < 81) {
            puts_(p, n, cap, "%b");
            puts_(p, n, cap, pairs[rnd(5)]);
        } else if (w < 86) {
            puts_(p, n, cap, "%f");
            gen_set(p, n, cap);
        } else if (w < 92) {
            put(p, n, cap, '%');
            put(p, n, cap, '1' + (int)rnd(4));
        } else if (w < 95) {
            put(p, n, cap, "^$"[rnd(2)]);
        } else if (w < 97) {
            gen_bad(p, n, cap);
        } else {
            gen_single(p, n, cap);
        }
    }
}

/* A random case. */
static void gen_case(pcase *c)
{
    size_t i, len;
    uint32_t k;
    memset(c, 0, sizeof *c);
    c->op = 1 + (int)rnd(4);
    len = rnd(8) == 0 ? rnd(60) : rnd(16);
    for (i = 0; i < len; i++) c->s[c->ls++] = (char)subject_byte();
    if (rnd(20) == 0) {                 /* many captures */
        k = 20 + rnd(20);
        for (i = 0; i < k; i++) puts_(c->p, &c->lp, sizeof c->p, "(a?)");
    } else {
        if (rnd(6) == 0) put(c->p, &c->lp, sizeof c->p, '^');
        gen_items(c->p, &c->lp, sizeof c->p, 0);
        if (rnd(6) == 0) put(c->p, &c->lp, sizeof c->p, '$');
    }
    if (c->op == 4) {
        static const char *const repls[] = {
            "<table>", "<function>", "", "x", "%0", "%1", "<%2>", "%%",
            "%1%1", "%3", "%", "%a", "[%0|%1]", "%9",
        };
        k = rnd(16);
        if (k < 14) {
            c->lrepl = strlen(repls[k]);
            memcpy(c->repl, repls[k], c->lrepl);
        } else {
            c->repl_num = 1;
        }
        if ((c->has_max = rnd(3) == 0) != 0) c->max = (long long)rnd(5) - 1;
    } else {
        if ((c->has_init = rnd(3) == 0) != 0)
            c->init = (long long)rnd((uint32_t)c->ls * 2 + 7) -
                      (long long)c->ls - 3;
        if (c->op == 1) c->plain = (int)rnd(6) < 2 ? (int)rnd(2) + 1 : 0;
    }
}

/* n generated cases from seed. */
static void run_generated(uint64_t seed, long n, tally *t)
{
    pcase c;
    long i;
    rng = seed * 0x9e3779b97f4a7c15ull + 1;
    for (i = 0; i < n; i++) {
        gen_case(&c);
        check_case(&c, t);
    }
}

/* The number in environment variable name, or dflt. */
static long env_num(const char *name, long dflt)
{
    const char *e = getenv(name);
    return e && *e ? strtol(e, NULL, 0) : dflt;
}

/* Generated cases: the fixed seed, and VV_PATTERN_SEED when set. */
static void test_generated(void **st)
{
    long n = env_num("VV_PATTERN_CASES", CASES);
    const char *extra = getenv("VV_PATTERN_SEED");
    int round;
    (void)st;
    for (round = 0; round < (extra && *extra ? 2 : 1); round++) {
        uint64_t seed = round ? (uint64_t)strtoull(extra, NULL, 0) : SEED;
        tally t;
        double t0 = now_s();
        memset(&t, 0, sizeof t);
        run_generated(seed, n, &t);
        print_message("seed %llu: %ld cases, %ld same results (%ld of them "
                      "matches), %ld same errors, %ld stopped by vv's "
                      "budget, %ld differ (%.1f s)\n",
                      (unsigned long long)seed, t.cases, t.same, t.found,
                      t.both_err, t.budget, t.differ, now_s() - t0);
        assert_int_equal(t.differ, 0);
        assert_true(t.same > t.cases / 2);
        assert_true(t.found > t.cases / 5);
        assert_true(t.both_err > 0);
        assert_true(t.budget < t.cases / 100);
    }
}

/* Generated cases through a real resolver: the sandbox's string library
 * (the same functions, wired by resolver_sandbox.c, with its budget)
 * gives what the host's gives. */
static void test_sandbox(void **st)
{
    enum { N = 400 };
    vv_ks_config cfg;
    vvl_resolver *r = NULL;
    vv_sibling sib;
    bytes one = enc("1");
    pcase *cases = calloc(N, sizeof *cases);
    char *err = NULL;
    const char *src;
    size_t i, n = 0, len;
    void *out = NULL;
    size_t outlen = 0;
    char msg[256];
    tally t;
    (void)st;
    memset(&t, 0, sizeof t);
    assert_non_null(cases);
    /* the cases vv finishes within CASE_STEPS, as a script */
    assert_int_equal(luaL_loadbuffer(L, BATCH, sizeof BATCH - 1, "=batch"),
                     LUA_OK);
    lua_call(L, 0, 1);
    lua_newtable(L);
    rng = SEED ^ 0xba7c4;
    while (n < N) {
        gen_case(&cases[n]);
        case_steps = 0;
        if (strcmp(run_side(&cases[n], vv_ref), "vv: budget") != 0) {
            lua_createtable(L, 5, 0);
            push_args(&cases[n]);
            for (i = 5; i >= 1; i--) lua_rawseti(L, -1 - (int)i, (int)i);
            lua_rawseti(L, -3, (int)++n);
        }
        lua_pop(L, 1);
    }
    lua_pushlstring(L, DRIVER, sizeof DRIVER - 1);
    lua_call(L, 2, 1);
    src = lua_tolstring(L, -1, &len);
    memset(&cfg, 0, sizeof cfg);
    cfg.budget_instructions = 1000000000;
    if (vvl_resolver_load("pat", "batch.lua", src, len, &cfg, &r, &err))
        fail_msg("load: %s", err);
    lua_pop(L, 1);
    sibling(&sib, one, "s0.ABCDEFGH", 2, 1, 1);
    if (vvl_resolve(r, "pat", "k", 1, &sib, 1, &out, &outlen, &err))
        fail_msg("resolve: %s", err);
    assert_int_equal(vvl_decode(L, out, outlen, VVL_MSGPACK, msg,
                                sizeof msg), VV_OK);
    for (i = 0; i < n; i++) {
        const char *host;
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        host = run_side(&cases[i], host_ref);
        t.cases++;
        if (strcmp(lua_tostring(L, -2), host) == 0) t.same++;
        else if (t.differ++ < 10)
            print_message("DIFFER %s\n  sandbox: %s\n  host:    %s\n",
                          show_case(&cases[i]), lua_tostring(L, -2), host);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    print_message("through a resolver: %ld cases, %ld same, %ld differ\n",
                  t.cases, t.same, t.differ);
    assert_int_equal(t.differ, 0);
    assert_int_equal(t.cases, N);
    vv_free(out);
    vvl_resolver_free(r);
    vv_free(one.p);
    free(cases);
}

/* Patterns written to spend the budgets or the C stack: each ends with a
 * clear error and leaves the siblings as they were. */
static const hostile hostiles[] = {
    /* exponential backtracking within Lua 5.4's nesting limit */
    {"optional-60", "return ('a'):rep(60):find(('a?'):rep(60) .. "
     "('a'):rep(60) .. 'b')", "instruction budget exceeded"},
    {"lazy-50", "return ('a'):rep(1e5):match(('.-'):rep(50) .. 'b')",
     "instruction budget exceeded"},
    {"captures-30", "return ('a'):rep(1e4):match(('(a*)'):rep(30) .. 'b')",
     "instruction budget exceeded"},
    {"gmatch-sets", "for w in ('ab'):rep(5e4):gmatch(('[ab]*'):rep(20) .. "
     "'c') do end", "instruction budget exceeded"},
    {"gsub-function", "return ('x'):rep(1e5):gsub(('.-'):rep(9) .. 'y', "
     "function() end)", "instruction budget exceeded"},
    {"backref", "return ('a'):rep(1e5):find('(a+)%1%1%1b')",
     "instruction budget exceeded"},
    {"balance", "return ('('):rep(1e5):gsub('%b()', '')",
     "instruction budget exceeded"},
    {"long-literal", "return (('ab'):rep(1e6)):find(('ab'):rep(3e5) .. 'c')",
     "instruction budget exceeded"},
    {"frontier-loop", "local s = ('a '):rep(1e5) for i = 1, 1e9 do "
     "s:find('%f[%w]%w+%f[%W]$') end", "instruction budget exceeded"},
    /* nesting: Lua 5.4's limits, never the C stack */
    {"optional-1000", "return ('a'):rep(1e5):find(('a?'):rep(1000) .. "
     "('a'):rep(1000))", "pattern too complex"},
    {"lazy-300", "return ('a'):rep(1e3):find(('.-'):rep(300) .. 'b')",
     "pattern too complex"},
    {"captures-deep", "return ('a'):rep(100):match(('('):rep(1e5) .. 'a' .. "
     "(')'):rep(1e5))", "too many captures"},
    {"gsub-recursion", "local function f(s) return (s:gsub('%w', f)) end "
     "return f('abc')", "stack overflow"},
    /* a compiled pattern is charged to the memory budget */
    {"long-sets", "return ('a'):find(('[ab]'):rep(4e5))",
     "memory budget exceeded"},
};

/* The hostile patterns in resolvers. */
static void test_hostile(void **st)
{
    (void)st;
    run_hostiles(hostiles, sizeof hostiles / sizeof hostiles[0]);
}

/* Long patterns that fit the budgets work, with the results of stock
 * Lua: no recursion, no limit but the budgets and Lua 5.4's own. */
static void test_long(void **st)
{
    static const char body[] =
        "  local s = ('ab'):rep(5e4)\n"
        "  local a, b = s:find('^' .. ('[ab]'):rep(2e4))\n"
        "  local c, d = s:find(('ab'):rep(5e4))\n"
        "  local e = #s:match(('(a)b'):rep(32) .. '.*')\n"
        "  local n = select(2, s:gsub(('%w'):rep(1000), ''))\n"
        "  local m = 0\n"
        "  for w in s:gmatch(('a?b?'):rep(90)) do m = m + 1 end\n"
        "  local f = s:find(('.-'):rep(99) .. 'b$')\n"
        "  return '{' .. table.concat({ a, b, c, d, e, n, m, f }, ', ') "
        ".. '}'\n";
    char text[1024];
    const char *path;
    pair p;
    (void)st;
    snprintf(text, sizeof text, "return function(siblings)\n%send\n", body);
    path = script("long.lua", text);
    snprintf(text, sizeof text, "return (function()\n%send)()", body);
    assert_int_equal(luaL_dostring(H, text), LUA_OK);
    pair_open(&p);
    pair_script(&p, "l", path, NULL);
    pair_conflict(&p, "l", "k", "1", "2");
    snprintf(text, sizeof text, "'%s'", lua_tostring(H, -1));
    want_value(p.a, "l", "k", text);
    lua_pop(H, 1);
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_sandbox),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_long),
    };
    return cmocka_run_group_tests_name("pattern", tests, setup, teardown);
}
