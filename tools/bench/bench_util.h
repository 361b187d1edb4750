/*
 * Shared by the benchmark programs: the clock and the sort order of
 * timings.  Header-only; each program includes it once.
 */
#ifndef LG_BENCH_UTIL_H
#define LG_BENCH_UTIL_H

#include <stdint.h>
#include <time.h>

/* Monotonic time in nanoseconds. */
static inline uint64_t
bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* qsort() order of doubles (timings, for medians). */
static inline int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

#endif /* LG_BENCH_UTIL_H */
