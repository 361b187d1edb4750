/*
 * Rate-limit throughput:
 *  - lg_rl_decide() on one bucket (the arithmetic alone);
 *  - lg_rl_store_decide() from 1 and from T threads over K distinct keys
 *    (default 2 threads, 1 million keys, a store of 2 slots per key), with
 *    the clock read for every decision;
 *  - with --redis-port, lg_rl_redis_decide() one round trip at a time, and
 *    lg_rl_redis_decide_many() pipelined in batches.
 *
 *   lg_bench_ratelimit [--threads T] [--keys K] [--seconds S]
 *                      [--redis-port P] [--redis-batch B]
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libguard.h"

#include "bench_util.h"

#define KEYLEN 16

static void
die(const char *what, lg_status_t rc)
{
    fprintf(stderr, "lg_bench_ratelimit: %s: %s\n", what, lg_strerror(rc));
    exit(2);
}

struct shared {
    lg_rl_store_t *store;
    lg_rl_limit_t limit;
    const char *keys; /* nkeys * KEYLEN */
    uint64_t nkeys;
    double seconds;
};

struct worker {
    const struct shared *sh;
    uint64_t seed;
    uint64_t decisions, admitted, full;
    double elapsed;
};

static void *
store_worker(void *arg)
{
    struct worker *w = arg;
    const struct shared *sh = w->sh;
    uint64_t x = w->seed, start = bench_now_ns(), deadline, t = start;
    lg_rl_result_t res;

    deadline = start + (uint64_t)(sh->seconds * 1e9);
    while (t < deadline) {
        for (int i = 0; i < 1024; i++) {
            /* xorshift: keys in no particular order, as traffic would be */
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t = bench_now_ns();
            if (lg_rl_store_decide(sh->store, &sh->limit,
                                   sh->keys + (x % sh->nkeys) * KEYLEN, KEYLEN,
                                   1, t, &res) != LG_OK) {
                die("lg_rl_store_decide", LG_E_INTERNAL);
            }
            w->admitted += res.allowed;
            w->full += (res.flags & LG_RL_R_STORE_FULL) != 0;
        }
        w->decisions += 1024;
    }
    w->elapsed = (double)(bench_now_ns() - start) / 1e9;
    return NULL;
}

static double
run_store(struct shared *sh, int nthreads)
{
    struct worker *w = calloc((size_t)nthreads, sizeof(*w));
    pthread_t *th = calloc((size_t)nthreads, sizeof(*th));
    uint64_t total = 0, admitted = 0, full = 0;
    double elapsed = 0;
    lg_rl_store_stats_t st;
    lg_status_t rc;

    if (w == NULL || th == NULL) {
        die("calloc", LG_E_NOMEM);
    }
    rc = lg_rl_store_new(sh->nkeys * 2, 0, &sh->store);
    if (rc != LG_OK) {
        die("lg_rl_store_new", rc);
    }
    for (int i = 0; i < nthreads; i++) {
        w[i].sh = sh;
        w[i].seed = 0x9e3779b97f4a7c15u * (uint64_t)(i + 1);
        if (pthread_create(&th[i], NULL, store_worker, &w[i]) != 0) {
            die("pthread_create", LG_E_INTERNAL);
        }
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        total += w[i].decisions;
        admitted += w[i].admitted;
        full += w[i].full;
        elapsed = w[i].elapsed > elapsed ? w[i].elapsed : elapsed;
    }
    lg_rl_store_stats(sh->store, &st);
    printf("store, %d thread%s, %llu keys: %.2f M decisions/s "
           "(%llu decisions, %.1f%% admitted, %llu store-full; "
           "%llu of %llu slots used)\n",
           nthreads, nthreads == 1 ? "" : "s",
           (unsigned long long)sh->nkeys, (double)total / elapsed / 1e6,
           (unsigned long long)total, 100.0 * (double)admitted / (double)total,
           (unsigned long long)full, (unsigned long long)st.entries,
           (unsigned long long)st.capacity);
    lg_rl_store_free(sh->store);
    sh->store = NULL;
    free(w);
    free(th);
    return (double)total / elapsed;
}

static void
run_bucket(const lg_rl_limit_t *limit)
{
    lg_rl_bucket_t b = {0};
    lg_rl_result_t res;
    uint64_t n = 20000000, admitted = 0, start = bench_now_ns(), t = start;

    for (uint64_t i = 0; i < n; i++) {
        t += 37; /* a synthetic clock: the arithmetic alone */
        lg_rl_decide(limit, &b, t, 1, &res);
        admitted += res.allowed;
    }
    printf("lg_rl_decide, one bucket: %.1f M decisions/s (%llu admitted)\n",
           (double)n / ((double)(bench_now_ns() - start) / 1e9) / 1e6,
           (unsigned long long)admitted);
}

static void
run_redis(const struct shared *sh, uint16_t port, size_t batch)
{
    lg_rl_redis_config_t cfg;
    lg_rl_redis_t *r;
    lg_rl_request_t *q = calloc(batch, sizeof(*q));
    lg_rl_result_t *res = calloc(batch, sizeof(*res));
    uint64_t x = 88172645463325252u, n, admitted, degraded;
    size_t sizes[2] = {1, batch};
    lg_status_t rc;

    if (q == NULL || res == NULL) {
        die("calloc", LG_E_NOMEM);
    }
    lg_rl_redis_config_init(&cfg);
    cfg.port = port;
    cfg.timeout_ms = 1000;
    cfg.key_prefix = "lgbench:";
    rc = lg_rl_redis_new(&cfg, &r);
    if (rc != LG_OK) {
        die("lg_rl_redis_new", rc);
    }
    for (int k = 0; k < 2; k++) {
        size_t b = sizes[k];
        uint64_t start = bench_now_ns(),
                 deadline = start + (uint64_t)(sh->seconds * 1e9);

        n = admitted = degraded = 0;
        while (bench_now_ns() < deadline) {
            for (size_t i = 0; i < b; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                q[i].key = sh->keys + (x % sh->nkeys) * KEYLEN;
                q[i].keylen = KEYLEN;
                q[i].cost = 1;
            }
            rc = lg_rl_redis_decide_many(r, &sh->limit, q, b, res);
            if (rc != LG_OK) {
                die("lg_rl_redis_decide_many", rc);
            }
            for (size_t i = 0; i < b; i++) {
                admitted += res[i].allowed;
                degraded += (res[i].flags & LG_RL_R_DEGRADED) != 0;
            }
            n += b;
        }
        printf("redis, 1 connection, %s %zu: %.0f decisions/s "
               "(%llu decisions, %llu degraded%s%s)\n",
               b == 1 ? "one at a time, batch" : "pipelined, batch", b,
               (double)n / ((double)(bench_now_ns() - start) / 1e9),
               (unsigned long long)n, (unsigned long long)degraded,
               degraded ? ": " : "", degraded ? lg_rl_redis_error(r) : "");
    }
    lg_rl_redis_free(r);
    free(q);
    free(res);
}

int
main(int argc, char **argv)
{
    struct shared sh;
    int threads = 2;
    unsigned long redis_port = 0;
    size_t batch = 128;
    char *keys;
    lg_status_t rc;

    memset(&sh, 0, sizeof(sh));
    sh.nkeys = 1000000;
    sh.seconds = 3;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v != NULL && strcmp(argv[i], "--threads") == 0) {
            threads = atoi(v);
        } else if (v != NULL && strcmp(argv[i], "--keys") == 0) {
            sh.nkeys = strtoull(v, NULL, 10);
        } else if (v != NULL && strcmp(argv[i], "--seconds") == 0) {
            sh.seconds = strtod(v, NULL);
        } else if (v != NULL && strcmp(argv[i], "--redis-port") == 0) {
            redis_port = strtoul(v, NULL, 10);
        } else if (v != NULL && strcmp(argv[i], "--redis-batch") == 0) {
            batch = strtoul(v, NULL, 10);
        } else {
            fprintf(stderr, "usage: lg_bench_ratelimit [--threads T] "
                            "[--keys K] [--seconds S] [--redis-port P] "
                            "[--redis-batch B]\n");
            return 2;
        }
        i++;
    }
    if (threads < 1 || threads > 256 || sh.nkeys == 0 || sh.seconds <= 0 ||
        redis_port > 65535 || batch == 0 || batch > 100000) {
        fprintf(stderr, "lg_bench_ratelimit: argument out of range\n");
        return 2;
    }
    keys = malloc(sh.nkeys * KEYLEN);
    if (keys == NULL) {
        die("malloc", LG_E_NOMEM);
    }
    for (uint64_t i = 0; i < sh.nkeys; i++) {
        char tmp[32];

        snprintf(tmp, sizeof(tmp), "user:%011llu", (unsigned long long)i);
        memcpy(keys + i * KEYLEN, tmp, KEYLEN);
    }
    sh.keys = keys;
    /* 10 a second per key, bursts of 20: a key is asked about every few
     * seconds here, so nearly every decision is an admission. */
    rc = lg_rl_limit_init(&sh.limit, 10, LG_RL_SECOND, 20);
    if (rc != LG_OK) {
        die("lg_rl_limit_init", rc);
    }
    run_bucket(&sh.limit);
    run_store(&sh, 1);
    if (threads != 1) {
        run_store(&sh, threads);
    }
    if (redis_port != 0) {
        run_redis(&sh, (uint16_t)redis_port, batch);
    }
    free(keys);
    return 0;
}
