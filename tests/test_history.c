/* test_history.c - causal history: what writes and merges record, the bound. */
#include "testutil.h"
#include "lmdbutil.h"
#include "syncutil.h"

/* One entry as the tests look at it: "node:counter" texts. */
typedef struct th_ent {
    char dot[64];
    char rep[8][64];
    size_t nrep;
    char preview[VV_HISTORY_PREVIEW + 1];
    size_t value_len;
    uint64_t ts;
    int tomb, how;
} th_ent;

typedef struct th_list {
    th_ent e[64];
    size_t n;
} th_list;

/* "node:counter" of a dot, or "-" for none. */
static void th_dot(const vv_dot *d, char out[64])
{
    if (!d->actor) {
        snprintf(out, 64, "-");
        return;
    }
    assert_true(d->node_len < d->actor_len);
    assert_int_equal(d->actor[d->node_len], '.');
    snprintf(out, 64, "%.*s:%llu", (int)d->node_len, d->actor,
             (unsigned long long)d->counter);
}

static int th_collect(void *ud, const vv_hist *h)
{
    th_list *l = ud;
    th_ent *e;
    size_t i;
    assert_true(l->n < 64);
    e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    th_dot(&h->dot, e->dot);
    assert_true(h->nreplaced <= 8);
    for (i = 0; i < h->nreplaced; i++) th_dot(&h->replaced[i], e->rep[i]);
    e->nrep = h->nreplaced;
    assert_true(h->preview_len <= VV_HISTORY_PREVIEW);
    memcpy(e->preview, h->preview, h->preview_len);
    e->value_len = h->value_len;
    e->ts = h->timestamp;
    e->tomb = h->tombstone;
    e->how = h->how;
    return 0;
}

static th_list *th_get(vv_db *db, const char *ks, const char *key)
{
    static th_list l;
    memset(&l, 0, sizeof l);
    assert_int_equal(vv_history(db, ks, key, strlen(key), th_collect, &l),
                     VV_OK);
    return &l;
}

static void th_config(vv_db *db, const char *ks, uint32_t history)
{
    vv_ks_config c;
    memset(&c, 0, sizeof c);
    c.history = history;
    assert_int_equal(vv_keyspace(db, ks, &c), VV_OK);
}

/* put ks/key = value (string) with ctx; returns the new context. */
static vv_clock *th_put(vv_db *db, const char *key, const char *value,
                        const vv_clock *ctx)
{
    vv_clock *nc = NULL;
    assert_int_equal(vv_put(db, "ks", key, strlen(key), value, strlen(value),
                            ctx, &nc), VV_OK);
    return nc;
}

static void test_off_by_default(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_ks_config c;
    (void)st;
    vv_clock_free(th_put(db, "k", "a", NULL));
    assert_int_equal(th_get(db, "ks", "k")->n, 0);
    assert_int_equal(th_get(db, "nope", "k")->n, 0);    /* unknown keyspace */
    assert_int_equal(vv_keyspace_config(db, "ks", &c), VV_OK);
    assert_int_equal(c.history, 0);
    memset(&c, 0, sizeof c);
    c.history = VV_HISTORY_MAX + 1;
    assert_int_equal(vv_keyspace(db, "ks", &c), VV_EINVAL);
    assert_int_equal(vv_history(NULL, "ks", "k", 1, th_collect, NULL),
                     VV_EINVAL);
    assert_int_equal(vv_history(db, "ks", "k", 1, NULL, NULL), VV_EINVAL);
    vv_db_close(db);
}

/* eggs / milk / bacon: what each write replaced. */
static void test_writes_record_replaced_dots(void **st)
{
    uint64_t now = 1000;
    vv_db *db = tu_open("server", &now);
    vv_clock *c1, *c2, *c3, *c4;
    vv_read *r;
    th_list *l;
    (void)st;
    th_config(db, "ks", 10);
    c1 = th_put(db, "cart", "eggs", NULL);
    now = 2000;
    c2 = th_put(db, "cart", "milk", NULL);
    c3 = th_put(db, "cart", "eggs,bacon", c1);
    assert_int_equal(vv_get(db, "ks", "cart", 4, &r), VV_OK);
    c4 = th_put(db, "cart", "eggs,bacon,milk", vv_read_context(r));
    vv_read_free(r);
    assert_int_equal(vv_delete(db, "ks", "cart", 4, c4, NULL), VV_OK);
    l = th_get(db, "ks", "cart");
    assert_int_equal(l->n, 5);
    assert_string_equal(l->e[0].dot, "server:1");
    assert_string_equal(l->e[0].preview, "eggs");
    assert_int_equal(l->e[0].ts, 1000);
    assert_int_equal(l->e[0].how, VV_HIST_WRITE);
    assert_int_equal(l->e[0].nrep, 0);
    assert_string_equal(l->e[1].dot, "server:2");
    assert_int_equal(l->e[1].nrep, 0);               /* no context: adds */
    assert_string_equal(l->e[2].dot, "server:3");
    assert_int_equal(l->e[2].nrep, 1);
    assert_string_equal(l->e[2].rep[0], "server:1");  /* not server:2 */
    assert_string_equal(l->e[3].dot, "server:4");
    assert_int_equal(l->e[3].nrep, 2);
    assert_string_equal(l->e[3].rep[0], "server:2");
    assert_string_equal(l->e[3].rep[1], "server:3");
    assert_string_equal(l->e[4].dot, "server:5");
    assert_true(l->e[4].tomb);
    assert_int_equal(l->e[4].value_len, 0);
    assert_int_equal(l->e[4].nrep, 1);
    assert_string_equal(l->e[4].rep[0], "server:4");
    vv_clock_free(c1); vv_clock_free(c2); vv_clock_free(c3); vv_clock_free(c4);
    vv_db_close(db);
}

/* Three replicas: merges record what arrived and what it replaced. */
static void test_merges(void **st)
{
    vv_db *a = tu_open("s0", NULL), *b = tu_open("s1", NULL);
    vv_db *c = tu_open("s2", NULL);
    vv_read *r;
    th_list *l;
    (void)st;
    th_config(a, "ks", 10);
    th_config(c, "ks", 10);
    vv_clock_free(th_put(a, "k", "10", NULL));
    vv_clock_free(th_put(b, "k", "20", NULL));
    assert_true(tu_copy(a, c, "ks", "k"));
    assert_true(tu_copy(a, c, "ks", "k"));       /* again */
    assert_true(tu_copy(b, c, "ks", "k"));
    assert_int_equal(vv_get(c, "ks", "k", 1, &r), VV_OK);
    assert_int_equal(vv_read_count(r), 2);
    vv_clock_free(th_put(c, "k", "20", vv_read_context(r)));
    vv_read_free(r);
    l = th_get(c, "ks", "k");
    assert_int_equal(l->n, 3);                  /* the duplicate: nothing */
    assert_string_equal(l->e[0].dot, "s0:1");
    assert_int_equal(l->e[0].how, VV_HIST_MERGE);
    assert_string_equal(l->e[1].dot, "s1:1");
    assert_int_equal(l->e[1].how, VV_HIST_MERGE);
    assert_string_equal(l->e[2].dot, "s2:1");
    assert_int_equal(l->e[2].how, VV_HIST_WRITE);
    assert_int_equal(l->e[2].nrep, 2);
    assert_string_equal(l->e[2].rep[0], "s0:1");
    assert_string_equal(l->e[2].rep[1], "s1:1");
    /* back to s0: the write-back arrives and replaces s0's own version */
    assert_true(tu_copy(c, a, "ks", "k"));
    l = th_get(a, "ks", "k");
    assert_int_equal(l->n, 2);
    assert_string_equal(l->e[1].dot, "s2:1");
    assert_int_equal(l->e[1].how, VV_HIST_MERGE);
    assert_int_equal(l->e[1].nrep, 1);
    assert_string_equal(l->e[1].rep[0], "s0:1");
    assert_int_equal(th_get(b, "ks", "k")->n, 0);   /* b keeps none */
    vv_db_close(a); vv_db_close(b); vv_db_close(c);
}

/* Only the newest N entries stay; previews keep 32 bytes. */
static void test_bound_and_preview(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_clock *ctx = NULL, *nc;
    char v[64];
    th_list *l;
    int i;
    (void)st;
    th_config(db, "ks", 4);
    for (i = 1; i <= 10; i++) {
        snprintf(v, sizeof v, "v%02d", i);
        nc = th_put(db, "k", v, ctx);
        vv_clock_free(ctx);
        ctx = nc;
    }
    l = th_get(db, "ks", "k");
    assert_int_equal(l->n, 4);
    assert_string_equal(l->e[0].dot, "s0:7");
    assert_string_equal(l->e[0].preview, "v07");
    assert_string_equal(l->e[3].dot, "s0:10");
    assert_string_equal(l->e[3].rep[0], "s0:9");
    th_config(db, "ks", 2);                      /* a smaller bound */
    memset(v, 'x', sizeof v);
    assert_int_equal(vv_put(db, "ks", "k", 1, v, sizeof v, ctx, NULL), VV_OK);
    l = th_get(db, "ks", "k");
    assert_int_equal(l->n, 2);
    assert_string_equal(l->e[0].dot, "s0:10");
    assert_int_equal(strlen(l->e[1].preview), VV_HISTORY_PREVIEW);
    assert_int_equal(l->e[1].value_len, sizeof v);
    th_config(db, "ks", 1);
    assert_int_equal(vv_put(db, "ks", "j", 1, "a", 1, NULL, NULL), VV_OK);
    assert_int_equal(vv_put(db, "ks", "j", 1, "b", 1, NULL, NULL), VV_OK);
    l = th_get(db, "ks", "j");
    assert_int_equal(l->n, 1);
    assert_string_equal(l->e[0].dot, "s0:13");
    vv_clock_free(ctx);
    vv_db_close(db);
}

/* A refused write and an abandoned batch leave no entry. */
static void test_same_transaction(void **st)
{
    vv_db *db = tu_open("s0", NULL);
    vv_ks_config c;
    (void)st;
    memset(&c, 0, sizeof c);
    c.history = 10;
    c.max_siblings = 2;
    assert_int_equal(vv_keyspace(db, "ks", &c), VV_OK);
    assert_int_equal(vv_put(db, "ks", "k", 1, "a", 1, NULL, NULL), VV_OK);
    assert_int_equal(vv_put(db, "ks", "k", 1, "b", 1, NULL, NULL), VV_OK);
    assert_int_equal(vv_put(db, "ks", "k", 1, "c", 1, NULL, NULL), VV_ELIMIT);
    assert_int_equal(th_get(db, "ks", "k")->n, 2);
    assert_int_equal(vv_begin(db), VV_OK);
    assert_int_equal(vv_put(db, "ks", "j", 1, "a", 1, NULL, NULL), VV_OK);
    assert_int_equal(vv_abort(db), VV_OK);
    assert_int_equal(th_get(db, "ks", "j")->n, 0);
    vv_db_close(db);
}

/* LMDB: the setting and the entries survive a reopen. */
static void test_durable(void **st)
{
    const char *dir = *st;
    vv_db *db;
    vv_ks_config c;
    th_list *l;
    db = tu_open_dir("d0", dir, NULL);
    th_config(db, "ks", 3);
    vv_clock_free(th_put(db, "k", "one", NULL));
    vv_db_close(db);
    db = tu_open_dir("d0", dir, NULL);
    assert_int_equal(vv_keyspace_config(db, "ks", &c), VV_OK);
    assert_int_equal(c.history, 3);
    vv_clock_free(th_put(db, "k", "two", NULL));
    l = th_get(db, "ks", "k");
    assert_int_equal(l->n, 2);
    assert_string_equal(l->e[0].preview, "one");
    assert_string_equal(l->e[1].preview, "two");
    vv_db_close(db);
}

/* A reaped key takes its history with it. */
static void test_reap_drops_history(void **st)
{
    vv_db *a = tu_open("a", NULL), *b = tu_open("b", NULL);
    vv_clock *c;
    (void)st;
    th_config(a, "ks", 8);
    th_config(b, "ks", 8);
    c = th_put(a, "k", "v", NULL);
    su_sync(a, b, NULL);
    assert_int_equal(vv_delete(a, "ks", "k", 1, c, NULL), VV_OK);
    vv_clock_free(c);
    su_sync(a, b, NULL);                     /* b has the tombstone */
    assert_true(th_get(a, "ks", "k")->n >= 2);
    su_sync(b, a, NULL);                     /* a has what b had */
    assert_int_equal(su_reap(a, &b, 1), 1);
    assert_int_equal(th_get(a, "ks", "k")->n, 0);
    vv_db_close(a);
    vv_db_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_by_default),
        cmocka_unit_test(test_writes_record_replaced_dots),
        cmocka_unit_test(test_merges),
        cmocka_unit_test(test_bound_and_preview),
        cmocka_unit_test(test_same_transaction),
        cmocka_unit_test_setup_teardown(test_durable, lu_setup_dir,
                                        lu_teardown_dir),
        cmocka_unit_test(test_reap_drops_history),
    };
    return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
