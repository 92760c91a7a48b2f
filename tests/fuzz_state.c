/* fuzz_state.c - libFuzzer target (make fuzz): every decoder of outside
 * bytes -- exported states, binary clocks, clock text, stored states --
 * on arbitrary input.  Whatever is accepted must re-encode consistently;
 * the passes over stored bytes must agree with the full decode; nothing
 * may crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vv_int.h"
#include "bytes_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vv_db *db;
    static unsigned runs;
    vv_clock *c = NULL;
    if (++runs % 5000 == 0) {           /* accepted merges pile up: start over */
        vv_db_close(db);
        db = NULL;
    }
    if (!db) {
        vv_options o;
        memset(&o, 0, sizeof o);
        o.node = "fuzz";
        if (vv_db_open(&o, &db, NULL)) abort();
        vv_put(db, "ks", "k", 1, "seed", 4, NULL, NULL);
    }
    if (vv_clock_decode(data, size, &c) == VV_OK) {
        void *bin;
        size_t n;
        if (vv_clock_encode(c, &bin, &n) || n != size || memcmp(bin, data, n))
            abort();                     /* one encoding per clock */
        vv_free(bin);
        vv_clock_free(c);
    }
    if (vv_clock_parse((const char *)data, size, &c) == VV_OK) {
        char *text;
        vv_clock *d;
        if (vv_clock_format(c, &text, NULL)) abort();
        if (vv_clock_parse(text, strlen(text), &d) ||
            vv_clock_compare(c, d) != VV_EQUAL)
            abort();                     /* text round-trips */
        vv_free(text);
        vv_clock_free(d);
        vv_clock_free(c);
    }
    if (bc_check(data, size)) abort();  /* the paths on stored bytes */
    if (size > 1) (void)vv_merge(db, "ks", "k", 1, data, size);
    if (size >= 12) {
        /* the same bytes under a valid header and checksum, so the
         * structural checks behind the checksum get fuzzed too */
        unsigned char *p = malloc(size);
        if (!p) abort();
        memcpy(p, data, size);
        memcpy(p, "VVS\x01\x01k", 6);
        vvi_sum_set(p, size);
        (void)vv_merge(db, "ks", "k", 1, p, size);
        free(p);
    }
    return 0;
}
