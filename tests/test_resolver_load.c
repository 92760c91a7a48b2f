/* test_resolver_load.c - loading resolver scripts: bad scripts leave the
 * previous resolver in place, binary chunks are refused, hot reload, and
 * allocation failure during a load or a resolution. */
#include "resolverutil.h"
#include "vv_int.h"                 /* vvi_fail_alloc_after */

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
    sibling(&sb[0], v1, "s0.A", 2, 0, 0);
    sibling(&sb[1], v2, "s1.B", 2, 0, 0);
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
    vv_free(v1.p);
    vv_free(v2.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_load),
        cmocka_unit_test(test_binary_chunk),
        cmocka_unit_test(test_hot_reload),
        cmocka_unit_test(test_alloc_failure),
    };
    return run_resolver_tests("resolver_load", tests);
}
