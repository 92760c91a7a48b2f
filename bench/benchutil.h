/* benchutil.h - what the benchmarks share: a clock, the key count and
 * the summary line each figure with a goal adds to make bench's table. */
#ifndef VV_BENCHUTIL_H
#define VV_BENCHUTIL_H
#include <stdio.h>
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

/* Write s into f with tabs and line ends as spaces (a field of a
 * tab-separated line). */
static inline void bench_field(FILE *f, const char *s)
{
    for (; s && *s; s++) fputc(*s == '\t' || *s == '\n' ? ' ' : *s, f);
}

/* Add one figure to the summary make bench prints at its end
 * (bench/run.sh): the file VV_BENCH_SUMMARY names gets the line
 * "figure<TAB>now<TAB>goal<TAB>met|missed<TAB>reason".  reason says
 * what bounds a missed figure (ignored when met).  Without the variable
 * (a bench run alone) nothing is written. */
static inline void bench_summary(const char *figure, const char *now,
                                 const char *goal, int met,
                                 const char *reason)
{
    const char *path = getenv("VV_BENCH_SUMMARY");
    FILE *f;
    if (!path || !*path || !(f = fopen(path, "a"))) return;
    bench_field(f, figure);
    fputc('\t', f);
    bench_field(f, now);
    fputc('\t', f);
    bench_field(f, goal);
    fputs(met ? "\tmet\t" : "\tmissed\t", f);
    if (!met) bench_field(f, reason);
    fputc('\n', f);
    fclose(f);
}

/* bench_summary of a ratio: now printed as "1.23x". */
static inline void bench_summary_ratio(const char *figure, double ratio,
                                       const char *goal, int met,
                                       const char *reason)
{
    char now[32];
    snprintf(now, sizeof now, "%.2fx", ratio);
    bench_summary(figure, now, goal, met, reason);
}
#endif
