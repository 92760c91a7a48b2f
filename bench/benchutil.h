/* benchutil.h - what the benchmarks share: a clock and the key count. */
#ifndef VV_BENCHUTIL_H
#define VV_BENCHUTIL_H
#include <stdlib.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* How many keys to use: VV_BENCH_KEYS when set to a positive number,
 * else dflt. */
static inline long bench_keys(long dflt)
{
    const char *e = getenv("VV_BENCH_KEYS");
    long n = e ? atol(e) : 0;
    return n > 0 ? n : dflt;
}
#endif
