/* test_resolver_scripts.c - the resolver scripts vv ships (the .lua files in scripts/)
 * on conflicts made through real replicas. */
#include "resolverutil.h"

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
        vv_free(v.p);
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
        read_value(p.a, "prefs", "lang", &ra, &va, &na);
        read_value(p.b, "prefs", "lang", &rb, &vb, &nb);
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
            read_value(p.a, "prefs", "lang", &rl, &vl, &nl);
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

/* Versions of equal rank (priority.lua) or standing (user.lua) written in
 * the same millisecond: the scripts pick the one the built-in "lww"
 * picks, as lww.lua does. */
static void test_tie_break(void **st)
{
    static const char *const paths[] = {
        "scripts/lww.lua", "scripts/priority.lua", "scripts/user.lua",
    };
    size_t i;
    (void)st;
    for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        pair p;
        vv_ks_config c;
        vv_read *rs, *rl;
        const void *vs, *vl;
        size_t ns, nl;
        pair_open(&p);
        p.ta = p.tb = 50000;
        pair_script(&p, "ks", paths[i], NULL);
        pair_conflict(&p, "ks", "k", "{user='admin', priority=1, n=1}",
                      "{user='admin', priority=1, n=2}");
        read_value(p.a, "ks", "k", &rs, &vs, &ns);
        memset(&c, 0, sizeof c);
        c.resolver = VV_RESOLVE_LWW;
        assert_int_equal(vv_keyspace(p.b, "ks", &c), VV_OK);
        read_value(p.b, "ks", "k", &rl, &vl, &nl);
        if (ns != nl || memcmp(vs, vl, ns) != 0)
            fail_msg("%s breaks the tie unlike the built-in lww", paths[i]);
        vv_read_free(rs);
        vv_read_free(rl);
        pair_close(&p);
    }
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
        cmocka_unit_test(test_tie_break),
    };
    return run_resolver_tests("resolver_scripts", tests);
}
