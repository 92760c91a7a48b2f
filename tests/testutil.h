/* testutil.h - helpers shared by vv's cmocka tests. */
#ifndef VV_TESTUTIL_H
#define VV_TESTUTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "vv.h"

/* A deterministic clock for stores under test: each call returns *ud. */
static inline uint64_t tu_now(void *ud) { return *(uint64_t *)ud; }

/* Open an in-memory store named node; fails the test on error. */
static inline vv_db *tu_open(const char *node, uint64_t *now) {
    vv_options o;
    vv_db *db = NULL;
    char *err = NULL;
    memset(&o, 0, sizeof o);
    o.node = node;
    if (now) { o.now = tu_now; o.now_ud = now; }
    int rc = vv_db_open(&o, &db, &err);
    if (rc != VV_OK) fprintf(stderr, "open %s: %s\n", node, err ? err : "?");
    assert_int_equal(rc, VV_OK);
    vv_free(err);
    return db;
}

static inline vv_clock *tu_clock(const char *text) {
    vv_clock *c = NULL;
    assert_int_equal(vv_clock_parse(text, strlen(text), &c), VV_OK);
    return c;
}
#endif
