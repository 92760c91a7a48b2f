/* test_resolver_lib.c - the sandbox's own library functions: setmetatable,
 * the table library on plain tables, string.format, the bounded matcher,
 * the stable sort, and the determinism they give. */
#include "resolverutil.h"

/* Using a library function to escape a budget or show an address. */
static const hostile hostiles[] = {
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
    {"format-p", "return string.format('%p', {})", "'%p' is not available"},
};

/* The hostile scripts against the replaced library functions. */
static void test_hostile_lib(void **st)
{
    (void)st;
    run_hostiles(hostiles, sizeof hostiles / sizeof hostiles[0]);
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
    read_value(p.a, "ks", "k", &r1, &v1, &n1);
    read_value(p.a, "ks", "k", &r2, &v2, &n2);
    read_value(p.b, "ks", "k", &r3, &v3, &n3);
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
        vv_buf b;
        char err[128];
        read_value(p.a, "s", "k", &r, &v, &n);
        lua_getglobal(H, "_EXPECT");
        vv_buf_init(&b);
        assert_int_equal(vvl_encode(H, -1, VVL_MSGPACK, &b, err, sizeof err),
                         VV_OK);
        lua_pop(H, 1);
        assert_int_equal(b.len, n);
        assert_memory_equal(b.p, v, n);
        vv_buf_free(&b);
        vv_read_free(r);
    }
    /* elements that do not compare */
    path = script("sort2.lua", "return function() local t = {1, 'x', 2} "
                  "table.sort(t) return t end");
    assert_int_equal(vv_keyspace_script(p.a, "s", path, NULL), VV_OK);
    want_error(p.a, "s", "k", "attempt to compare", 2);
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_lib),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_sort),
    };
    return run_resolver_tests("resolver_lib", tests);
}
