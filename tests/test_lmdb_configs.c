/* test_lmdb_configs.c - a keyspace config that another process changes
 * (resolver, script, limits, history) is seen by an open store at its
 * next operation, without a reopen. */
#include "testutil.h"
#include "lmdbutil.h"

/* A resolver: the siblings' values joined with "+", in read order. */
static int join_fn(void *ud, const char *ks, const void *key, size_t klen,
                   const vv_sibling *s, size_t n, void **out,
                   size_t *out_len, char **err)
{
    size_t i, len = 0;
    char *p;
    (void)ud; (void)ks; (void)key; (void)klen; (void)err;
    for (i = 0; i < n; i++) len += s[i].len + 1;
    if (!(p = malloc(len))) return VV_ERESOLVER;
    for (i = 0, len = 0; i < n; i++) {
        if (i) p[len++] = '+';
        memcpy(p + len, s[i].value, s[i].len);
        len += s[i].len;
    }
    *out = p;
    *out_len = len;
    return VV_OK;
}

/* A resolver of this process: the first sibling's value, "!" after it.
 * Its ud counts how often it was let go. */
static int first_fn(void *ud, const char *ks, const void *key, size_t klen,
                    const vv_sibling *s, size_t n, void **out,
                    size_t *out_len, char **err)
{
    char *p = malloc(s[0].len + 1);
    (void)ud; (void)ks; (void)key; (void)klen; (void)n; (void)err;
    if (!p) return VV_ERESOLVER;
    memcpy(p, s[0].value, s[0].len);
    p[s[0].len] = '!';
    *out = p;
    *out_len = s[0].len + 1;
    return VV_OK;
}

static void count_free(void *ud) { (*(int *)ud)++; }

/* Make first_fn keyspace ks's resolver on db; *freed counts its release. */
static void own_function(vv_db *db, int *freed)
{
    vv_ks_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.resolver = VV_RESOLVE_CUSTOM;
    cfg.resolve = first_fn;
    cfg.resolve_ud = freed;
    cfg.resolve_free = count_free;
    assert_int_equal(vv_keyspace(db, "ks", &cfg), VV_OK);
}

/* The script host of these tests: the "script" join attaches join_fn;
 * any other fails to load. */
static int test_host(vv_db *db, const char *ks, const char *path,
                     const vv_ks_config *cfg)
{
    vv_ks_config c = *cfg;
    if (strcmp(path, "join") != 0) return VV_ERESOLVER;
    c.resolver = VV_RESOLVE_CUSTOM;
    c.resolver_name = path;
    c.script = path;
    c.resolve = join_fn;
    c.resolve_ud = NULL;
    c.resolve_free = NULL;
    return vv_keyspace(db, ks, &c);
}

/* What config_child sets: cfg for keyspace ks (NULL: "ks") of s0's
 * store in dir. */
typedef struct cfg_arg {
    const char *dir, *ks;
    vv_ks_config cfg;
} cfg_arg;

/* Child: another process configures the keyspace, then goes. */
static int config_child(void *arg)
{
    const cfg_arg *a = arg;
    vv_db *db = tu_child_open("s0", a->dir);
    if (!db) return 1;
    if (vv_keyspace(db, a->ks ? a->ks : "ks", &a->cfg) != VV_OK) return 2;
    vv_db_close(db);
    return 0;
}

/* Run config_child for dir with the resolver kind, name and script of
 * the arguments (other fields as in base, which may be NULL). */
static void other_sets(const char *dir, const vv_ks_config *base, int kind,
                       const char *name, const char *script)
{
    cfg_arg a;
    memset(&a, 0, sizeof a);
    if (base) a.cfg = *base;
    a.dir = dir;
    a.cfg.resolver = kind;
    a.cfg.resolver_name = name;
    a.cfg.script = script;
    if (kind == VV_RESOLVE_CUSTOM) a.cfg.resolve = join_fn;
    assert_int_equal(lu_child(config_child, &a), 0);
}

/* What a read of ks/key resolves to: the value, "<siblings>" when there
 * is none, or "<error: message>". */
static const char *resolved(vv_db *db, const char *ks, const char *key)
{
    static char out[512];
    vv_read *r = NULL;
    const void *v;
    size_t n;
    int rc;
    assert_int_equal(vv_get(db, ks, key, strlen(key), &r), VV_OK);
    rc = vv_read_value(r, &v, &n);
    if (rc == VV_OK) snprintf(out, sizeof out, "%.*s", (int)n, (const char *)v);
    else if (rc == VV_ENOTFOUND) snprintf(out, sizeof out, "<siblings>");
    else snprintf(out, sizeof out, "<error: %s>", vv_read_error(r));
    vv_read_free(r);
    return out;
}

/* What a read of ks/k resolves to (resolved). */
static const char *value_of(vv_db *db) { return resolved(db, "ks", "k"); }

/* Open s0's store in dir with the test script host; the clock is *now. */
static vv_db *open_with_host(const char *dir, uint64_t *now)
{
    vv_options o;
    tu_options(&o, "s0", dir, now);
    o.scripts = test_host;
    return tu_open_opts(&o);
}

/* A process keeps its store open while another switches the keyspace's
 * resolver to lww, to a script, to a script that does not load, and sets
 * limits and history: each read or write after a switch follows it. */
static void st_resolver_switches(void **state)
{
    const char *dir = *state;
    uint64_t now = 1000;
    vv_db *a = open_with_host(dir, &now);
    vv_ks_config cfg;
    tu_put(a, "ks", "k", "a", NULL);
    now = 2000;
    tu_put(a, "ks", "k", "b", NULL);
    assert_string_equal(value_of(a), "<siblings>");

    other_sets(dir, NULL, VV_RESOLVE_LWW, "lww", NULL);
    assert_string_equal(value_of(a), "b");
    assert_int_equal(vv_keyspace_config(a, "ks", &cfg), VV_OK);
    assert_string_equal(cfg.resolver_name, "lww");

    other_sets(dir, NULL, VV_RESOLVE_CUSTOM, "join", "join");
    assert_string_equal(value_of(a), "a+b");      /* attached here too */

    other_sets(dir, NULL, VV_RESOLVE_CUSTOM, "gone", "gone");
    assert_non_null(strstr(value_of(a), "<error: resolver script 'gone'"));

    other_sets(dir, NULL, VV_RESOLVE_SIBLINGS, "siblings", NULL);
    assert_string_equal(value_of(a), "<siblings>");

    memset(&cfg, 0, sizeof cfg);                  /* limits and history */
    cfg.max_siblings = 2;
    cfg.history = 5;
    cfg.codec = "raw";
    other_sets(dir, &cfg, VV_RESOLVE_SIBLINGS, "siblings", NULL);
    assert_int_equal(vv_put(a, "ks", "k", 1, "c", 1, NULL, NULL), VV_ELIMIT);
    assert_int_equal(vv_keyspace_config(a, "ks", &cfg), VV_OK);
    assert_int_equal(cfg.history, 5);
    assert_string_equal(cfg.codec, "raw");
    vv_db_close(a);
}

/* A resolver function of this process stays while the other process
 * changes other fields of the config, and goes when it sets another
 * resolver. */
static void st_local_function(void **state)
{
    const char *dir = *state;
    uint64_t now = 1000;
    vv_db *a = open_with_host(dir, &now);
    vv_ks_config cfg;
    int freed = 0;
    own_function(a, &freed);
    tu_put(a, "ks", "k", "a", NULL);
    now = 2000;
    tu_put(a, "ks", "k", "b", NULL);
    assert_string_equal(value_of(a), "a!");

    memset(&cfg, 0, sizeof cfg);
    cfg.warn_siblings = 7;
    other_sets(dir, &cfg, VV_RESOLVE_SIBLINGS, "custom", NULL);
    assert_string_equal(value_of(a), "a!");       /* still ours */
    assert_int_equal(freed, 0);
    assert_int_equal(vv_keyspace_config(a, "ks", &cfg), VV_OK);
    assert_int_equal(cfg.warn_siblings, 7);

    other_sets(dir, NULL, VV_RESOLVE_LWW, "lww", NULL);
    assert_string_equal(value_of(a), "b");        /* theirs wins */
    assert_int_equal(freed, 1);
    vv_db_close(a);
}

/* Only changed configs are taken in: this process's function resolver
 * stays through its own change of another keyspace and through a
 * keyspace another process creates, which this one then knows. */
static void st_unchanged_stay(void **state)
{
    const char *dir = *state;
    vv_db *a = open_with_host(dir, NULL);
    vv_ks_config cfg;
    cfg_arg c;
    int freed = 0;
    own_function(a, &freed);
    memset(&cfg, 0, sizeof cfg);
    cfg.resolver = VV_RESOLVE_LWW;
    assert_int_equal(vv_keyspace(a, "other", &cfg), VV_OK);
    tu_put(a, "ks", "k", "a", NULL);
    tu_put(a, "ks", "k", "b", NULL);
    assert_string_equal(value_of(a), "a!");
    memset(&c, 0, sizeof c);                      /* theirs, with a script */
    c.dir = dir;
    c.ks = "theirs";
    c.cfg.resolver = VV_RESOLVE_CUSTOM;
    c.cfg.resolver_name = c.cfg.script = "join";
    c.cfg.resolve = join_fn;
    assert_int_equal(lu_child(config_child, &c), 0);
    assert_string_equal(value_of(a), "a!");
    assert_int_equal(freed, 0);
    tu_put(a, "theirs", "x", "1", NULL);
    tu_put(a, "theirs", "x", "2", NULL);
    assert_int_equal(vv_keyspace_config(a, "theirs", &cfg), VV_OK);
    assert_string_equal(cfg.resolver_name, "join");
    assert_string_equal(resolved(a, "theirs", "x"), "1+2");
    vv_db_close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(st_resolver_switches, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_local_function, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test_setup_teardown(st_unchanged_stay, lu_setup_dir,
                                        lu_teardown_dir),
    };
    return cmocka_run_group_tests_name("lmdb_configs", tests, NULL, NULL);
}
