/* test_resolver_call.c - one resolution: the arguments a script gets, the
 * results it may return, errors, the raw codec, calls without a store. */
#include "resolverutil.h"

/* Returning what cannot be stored, or failing. */
static const hostile hostiles[] = {
    {"bomb-result", "local t = {'xxxxxxxx'} for i = 1, 40 do t = {t, t} end "
     "return t", "larger than the memory budget"},
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
};

/* The hostile scripts against the result check and error messages. */
static void test_hostile_call(void **st)
{
    (void)st;
    run_hostiles(hostiles, sizeof hostiles / sizeof hostiles[0]);
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
    read_value(a, "r", "k", &r, &v, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(v, "a+b\0x", 5);
    vv_read_free(r);
    assert_int_equal(vv_keyspace_script(a, "r", num, NULL), VV_OK);
    assert_int_equal(vv_get(a, "r", "k", 1, &r), VV_OK);
    assert_int_equal(vv_read_value(r, &v, &n), VV_ERESOLVER);
    vv_read_free(r);
    vv_db_close(a);
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
    sibling(&sb[0], v1, "n1.AAAA", 2, 1, 5);
    sibling(&sb[1], v2, "n2x.BBBB", 3, 1ull << 40, 6);
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
    vv_free(v1.p);
    vv_free(v2.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_call),
        cmocka_unit_test(test_protocol),
        cmocka_unit_test(test_raw_codec),
        cmocka_unit_test(test_direct),
    };
    return run_resolver_tests("resolver_call", tests);
}
