/* embed.c - a C program using libvv directly: two replicas, a conflict,
 * a Lua resolver script that merges it, and convergence.
 *
 * Build and run from the top of the source tree:
 *     make demo            (builds build/embed and runs every example)
 *     build/embed [path/to/union.lua]
 *
 * Values are bytes to the C library.  This program stores MessagePack, as
 * the Lua module does, so the Lua resolver script (and any other language
 * with a MessagePack library) reads the same values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "vvlua.h"

#define KS  "carts"
#define KEY "cart:42"

/* Stop with a clear message when a vv call fails unexpectedly. */
static void check(int rc, vv_db *db, const char *what) {
    if (rc == VV_OK)
        return;
    fprintf(stderr, "embed: %s failed: %s%s%s\n", what, vv_strerror(rc),
            db ? ": " : "", db ? vv_errmsg(db) : "");
    exit(EXIT_FAILURE);
}

/* Open an in-memory replica named node. */
static vv_db *replica(const char *node) {
    vv_options o;
    vv_db *db = NULL;
    char *err = NULL;
    int rc;
    memset(&o, 0, sizeof o);
    o.node = node;
    o.scripts = vv_keyspace_script;   /* a durable store re-attaches its scripts */
    rc = vv_db_open(&o, &db, &err);
    if (rc != VV_OK) {
        fprintf(stderr, "embed: cannot open %s: %s\n", node,
                err ? err : vv_strerror(rc));
        vv_free(err);
        exit(EXIT_FAILURE);
    }
    return db;
}

/* A cart with one item, as MessagePack: ["item"].
 * Release with msgpack_sbuffer_destroy. */
static msgpack_sbuffer cart_of(const char *item) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_str_with_body(&pk, item, strlen(item));
    return sb;
}

/* Print a MessagePack value the way the Lua examples show carts. */
static void print_value(const void *p, size_t len) {
    msgpack_unpacked u;
    size_t off = 0;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, p, len, &off) != MSGPACK_UNPACK_SUCCESS)
        printf("(%zu bytes that are not MessagePack)", len);
    else if (u.data.type == MSGPACK_OBJECT_ARRAY) {
        uint32_t i;
        printf("{");
        for (i = 0; i < u.data.via.array.size; i++) {
            msgpack_object o = u.data.via.array.ptr[i];
            if (i > 0)
                printf(", ");
            if (o.type == MSGPACK_OBJECT_STR)
                printf("%.*s", (int)o.via.str.size, o.via.str.ptr);
            else
                msgpack_object_print(stdout, o);
        }
        printf("}");
    }
    else
        msgpack_object_print(stdout, u.data);
    msgpack_unpacked_destroy(&u);
}

/* Print a clock in its text form. */
static void print_clock(const vv_clock *c) {
    char *text = NULL;
    size_t len;
    if (vv_clock_format(c, &text, &len) == VV_OK)
        printf("%.*s", (int)len, text);
    vv_free(text);
}

/* Show what a replica holds for the key.  One read serves every call
 * (vv_get_reuse keeps its memory; vv_read_free it at the end). */
static vv_read *shown;

static void show(vv_db *db, const char *name) {
    vv_read *r;
    size_t i, n;
    int rc = vv_get_reuse(db, KS, KEY, strlen(KEY), &shown);
    r = shown;
    if (rc == VV_ENOTFOUND) {
        printf("  %s: (nothing)\n", name);
        return;
    }
    check(rc, db, "vv_get");
    n = vv_read_count(r);
    printf("  %s: %zu version%s:", name, n, n == 1 ? "" : "s");
    for (i = 0; i < n; i++) {
        const vv_sibling *s = vv_read_sibling(r, i);
        printf(" ");
        print_value(s->value, s->len);
        printf(" from %.*s", (int)s->node_len, s->actor);
    }
    printf("\n");
}

/* Send the key's whole state from one replica to the other. */
static void send_state(vv_db *from, vv_db *to) {
    void *state = NULL;
    size_t len;
    check(vv_export(from, KS, KEY, strlen(KEY), &state, &len), from,
          "vv_export");
    check(vv_merge(to, KS, KEY, strlen(KEY), state, len), to, "vv_merge");
    vv_free(state);
}

int main(int argc, char **argv) {
    const char *script = argc > 1 ? argv[1] : "scripts/union.lua";
    vv_db *s0 = replica("s0"), *s1 = replica("s1");
    vv_read *r = NULL;
    vv_clock *ctx = NULL;
    msgpack_sbuffer apple = cart_of("apple"), banana = cart_of("banana");
    const void *value;
    size_t len;
    int rc, i;

    printf("A C program with two vv replicas, s0 and s1, in memory.\n");
    printf("Both use the resolver script %s for keyspace \"%s\":\n", script,
           KS);
    printf("it merges concurrent carts by keeping every item.\n");
    for (i = 0; i < 2; i++) {
        vv_db *db = i ? s1 : s0;
        rc = vv_keyspace_script(db, KS, script, NULL);
        check(rc, db, "vv_keyspace_script");
    }

    printf("\nAt s0 a client puts {apple} in cart:42; at s1, at the same\n"
           "time, another puts {banana}.  No context: neither saw the\n"
           "other.\n");
    check(vv_put(s0, KS, KEY, strlen(KEY), apple.data, apple.size, NULL,
                 NULL), s0, "vv_put");
    check(vv_put(s1, KS, KEY, strlen(KEY), banana.data, banana.size, NULL,
                 NULL), s1, "vv_put");
    show(s0, "s0");
    show(s1, "s1");

    printf("\nThe replicas exchange their states (vv_export, vv_merge).\n");
    send_state(s0, s1);
    send_state(s1, s0);
    show(s0, "s0");
    show(s1, "s1");

    printf("\nA read at s0 sees both versions; the script merges them:\n");
    check(vv_get(s0, KS, KEY, strlen(KEY), &r), s0, "vv_get");
    rc = vv_read_value(r, &value, &len);
    if (rc == VV_ERESOLVER) {
        fprintf(stderr, "embed: the resolver failed: %s\n", vv_read_error(r));
        return EXIT_FAILURE;
    }
    check(rc, s0, "vv_read_value");
    printf("  merged cart = ");
    print_value(value, len);
    printf("\n  the read's context = ");
    print_clock(vv_read_context(r));
    printf("\n");

    printf("\nThe client writes the merged cart back with that context, so it\n"
           "replaces both versions; then s1 receives the new state.\n");
    check(vv_put(s0, KS, KEY, strlen(KEY), value, len, vv_read_context(r),
                 &ctx), s0, "vv_put");
    vv_read_free(r);
    printf("  new context = ");
    print_clock(ctx);
    printf("\n");
    send_state(s0, s1);
    show(s0, "s0");
    show(s1, "s1");
    printf("\nBoth replicas hold the same single version: they converged.\n");

    vv_clock_free(ctx);
    vv_read_free(shown);
    msgpack_sbuffer_destroy(&apple);
    msgpack_sbuffer_destroy(&banana);
    vv_db_close(s0);
    vv_db_close(s1);
    return EXIT_SUCCESS;
}
