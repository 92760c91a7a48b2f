/* test_sync_model.c - randomized histories synced by digest and delta
 * converge, checked against the reference model at every step.
 *
 * MR replicas, clients writing with stale contexts, partitions, reaping,
 * and sync messages that are lost, duplicated and delivered out of order.
 * The model (as in test_store.c) knows which writes each replica has seen
 * per key; a delta carries everything its source knew when it was made. */
#include "syncutil.h"

#define MR 4            /* replicas */
#define MK 6            /* keys */
#define MW 1200         /* writes per run at most */
#define QMAX 24         /* sync messages in flight */
#include "model.h"

/* A delta on its way from one replica to another. */
typedef struct flight {
    int from, to;
    su_msg x;
    bits known[MK];           /* what the source knew when it made x */
} flight;

/* One random history of up to ops steps from seed0; adds the bytes sent,
 * the deltas applied and the keys reaped to the counters. */
static void model_run(unsigned seed0, int ops, size_t *bytes, int *syncs,
                      int *reaped)
{
    unsigned seed = seed0;
    static model m;
    static flight q[QMAX];
    vv_db *db[MR];
    client_ctx pool[12];
    int nq = 0, i, r, k, side[MR];
    uint64_t now = 1;
    memset(&m, 0, sizeof m);
    memset(pool, 0, sizeof pool);
    memset(side, 0, sizeof side);
    tu_open_n(db, MR, &now);
    for (i = 0; i < ops && m.nw < MW - 1; i++) {
        int op = rand_r(&seed) % 100;
        now += (uint64_t)(rand_r(&seed) % 3);
        r = rand_r(&seed) % MR;
        k = rand_r(&seed) % MK;
        if (op < 12) {                            /* a client reads */
            model_read(&m, db[r], r, k, &pool[rand_r(&seed) % 12]);
        } else if (op < 50) {                     /* a write or a delete */
            client_ctx *c = &pool[rand_r(&seed) % 12];
            int w = m.nw++, dl = rand_r(&seed) % 5 == 0;
            char key[16];
            const vv_clock *ctx = NULL;
            vv_read *fresh = NULL;
            snprintf(key, sizeof key, "k%d", k);
            if (dl && rand_r(&seed) % 2 &&         /* delete what r shows */
                vv_get(db[r], "ks", key, strlen(key), &fresh) == VV_OK) {
                ctx = vv_read_context(fresh);
                m.seen[w] = m.known[r][k];
            } else if (c->used && c->key == k && rand_r(&seed) % 4) {
                ctx = c->clock;                   /* stale, from anywhere */
                m.seen[w] = c->seen;
            }
            model_write(&m, db[r], r, k, w, dl, ctx);
            vv_read_free(fresh);
        } else if (op < 72) {                     /* r asks: a delta flies */
            int from = rand_r(&seed) % MR;
            su_msg d;
            flight *f;
            if (from == r || nq == QMAX) continue;
            f = &q[nq++];
            d = su_digest(db[r]);
            f->from = from;
            f->to = r;
            f->x = su_delta(db[from], d);
            memcpy(f->known, m.known[from], sizeof f->known);
            *bytes += d.n + f->x.n;
            vv_free(d.p);
        } else if (op < 92) {                     /* one arrives (again?) */
            int j;
            flight *f;
            if (!nq) continue;
            j = rand_r(&seed) % nq;
            f = &q[j];
            if (side[f->from] == side[f->to]) {   /* else the cut eats it */
                su_apply(db[f->to], f->x);
                (*syncs)++;
                model_learn(&m, f->to, f->known);
            }
            if (rand_r(&seed) % 4) {              /* usually consumed: */
                vv_free(f->x.p);                  /* else a duplicate waits */
                q[j] = q[--nq];
            }
        } else if (op < 95) {                     /* one is lost */
            int j;
            if (!nq) continue;
            j = rand_r(&seed) % nq;
            vv_free(q[j].x.p);
            q[j] = q[--nq];
        } else if (op < 96) {                     /* partitions come and go */
            int rr;
            for (rr = 0; rr < MR; rr++) side[rr] = rand_r(&seed) % 3 ? 0 : 1;
        } else {                                  /* reap, naming everyone */
            vv_db *others[MR];
            int n = 0, rr, kk;
            if (rand_r(&seed) % 2) {              /* after a heal and gossip */
                su_settle(db, MR);
                for (kk = 0; kk < MK; kk++) model_share(&m, kk);
            }
            for (rr = 0; rr < MR; rr++) if (rr != r) others[n++] = db[rr];
            *reaped += (int)su_reap(db[r], others, n);
        }
        if (i % 5 == 0) model_check(&m, db, seed0, i);
    }
    /* the last heal: everything in flight lands or is lost, then rounds */
    for (i = 0; i < nq; i++) {
        if (i % 2) {
            su_apply(db[q[i].to], q[i].x);
            model_learn(&m, q[i].to, q[i].known);
        }
        vv_free(q[i].x.p);
    }
    model_check(&m, db, seed0, -1);
    su_round(db, MR);
    su_round(db, MR);
    for (k = 0; k < MK; k++) model_share(&m, k);
    model_check(&m, db, seed0, -2);
    {   /* same siblings, same order, same states everywhere */
        uint64_t f0 = su_fingerprint(db[0], NULL);
        for (k = 0; k < MK; k++) model_agree(db, k);
        for (r = 1; r < MR; r++)
            assert_int_equal(su_fingerprint(db[r], NULL), f0);
    }
    for (i = 0; i < 12; i++) vv_clock_free(pool[i].clock);
    tu_close_n(db, MR);
}

/* Sixteen random histories, each checked at every fifth step and after
 * the final heal; deltas and reaping must actually have happened. */
static void test_model_random_sync(void **st)
{
    unsigned seed;
    size_t bytes = 0;
    int syncs = 0, reaped = 0;
    (void)st;
    for (seed = 1; seed <= 16; seed++)
        model_run(seed, 1500, &bytes, &syncs, &reaped);
    fprintf(stderr, "model: %d deltas applied, %zu bytes, %d keys reaped\n",
            syncs, bytes, reaped);
    assert_true(syncs > 1000);
    assert_true(reaped > 0);                       /* the reap path ran */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_random_sync),
    };
    return cmocka_run_group_tests_name("sync_model", tests, NULL, NULL);
}
