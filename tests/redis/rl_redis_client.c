/*
 * A client of the Redis rate limiter for tests/redis/redis_ratelimit.sh.
 *
 *   rl_redis_client burst PORT KEY N BURST BATCH
 *       N requests of cost 1 against one key (limit BURST per hour, so no
 *       refill during a test), in batches of BATCH (1: lg_rl_redis_decide,
 *       more: lg_rl_redis_decide_many); prints "admitted A denied D
 *       degraded G".
 *   rl_redis_client run PORT KEY MILLIS EVERY_MS FAIL_OPEN
 *       One request every EVERY_MS for MILLIS ms under a limit that a
 *       healthy Redis always admits; prints one line per decision:
 *       "<ms since start> <allowed> <degraded> <latency us> <error>".
 *   rl_redis_client noscript PORT KEY
 *       Charges 3 of a burst of 5, flushes the server's script cache over
 *       a second connection, then asks for 4 more in one pipeline: exactly
 *       2 must be admitted, none degraded (the NOSCRIPT fallback).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "libguard.h"

static uint64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static lg_rl_redis_t *
open_handle(const char *port, uint32_t fail_open)
{
    lg_rl_redis_config_t cfg;
    lg_rl_redis_t *r;
    lg_status_t rc;

    lg_rl_redis_config_init(&cfg);
    cfg.port = (uint16_t)strtoul(port, NULL, 10);
    cfg.timeout_ms = 100;
    cfg.retry_interval_ms = 100;
    cfg.fail_open = fail_open;
    cfg.key_prefix = "lgtest:";
    rc = lg_rl_redis_new(&cfg, &r);
    if (rc != LG_OK) {
        fprintf(stderr, "lg_rl_redis_new: %s\n", lg_strerror(rc));
        exit(2);
    }
    return r;
}

static int
cmd_burst(char **argv)
{
    lg_rl_redis_t *r = open_handle(argv[0], 0);
    lg_rl_limit_t lim;
    lg_rl_request_t q[64];
    lg_rl_result_t res[64];
    size_t n = strtoul(argv[2], NULL, 10), batch = strtoul(argv[4], NULL, 10);
    size_t done = 0, admitted = 0, denied = 0, degraded = 0;

    if (batch == 0 || batch > 64 ||
        lg_rl_limit_init(&lim, strtoull(argv[3], NULL, 10), LG_RL_HOUR,
                         strtoull(argv[3], NULL, 10)) != LG_OK) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    for (size_t i = 0; i < 64; i++) {
        q[i].key = argv[1];
        q[i].keylen = strlen(argv[1]);
        q[i].cost = 1;
    }
    while (done < n) {
        size_t k = n - done < batch ? n - done : batch;
        lg_status_t rc = k == 1 ? lg_rl_redis_decide(r, &lim, q[0].key,
                                                     q[0].keylen, 1, res)
                                : lg_rl_redis_decide_many(r, &lim, q, k, res);

        if (rc != LG_OK) {
            fprintf(stderr, "decide: %s\n", lg_strerror(rc));
            return 2;
        }
        for (size_t i = 0; i < k; i++) {
            if (res[i].flags & LG_RL_R_DEGRADED) {
                degraded++;
            } else if (res[i].allowed) {
                admitted++;
            } else {
                denied++;
            }
        }
        done += k;
    }
    printf("admitted %zu denied %zu degraded %zu\n", admitted, denied,
           degraded);
    if (degraded > 0) {
        fprintf(stderr, "error: %s\n", lg_rl_redis_error(r));
    }
    lg_rl_redis_free(r);
    return 0;
}

static int
cmd_run(char **argv)
{
    uint32_t fail_open = (uint32_t)strtoul(argv[4], NULL, 10);
    lg_rl_redis_t *r = open_handle(argv[0], fail_open);
    lg_rl_limit_t lim;
    lg_rl_result_t res;
    uint64_t millis = strtoull(argv[2], NULL, 10);
    uint64_t every = strtoull(argv[3], NULL, 10), start = now_us(), t0, t1;
    struct timespec pause = {0, (long)(every * 1000000u)};

    /* 100000 a second, bursts of 100000: never denied by the limit. */
    if (lg_rl_limit_init(&lim, 100000, LG_RL_SECOND, 100000) != LG_OK) {
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((t0 = now_us()) - start < millis * 1000u) {
        if (lg_rl_redis_decide(r, &lim, argv[1], strlen(argv[1]), 1, &res) !=
            LG_OK) {
            return 2;
        }
        t1 = now_us();
        printf("%llu %u %u %llu %s\n",
               (unsigned long long)((t0 - start) / 1000u), res.allowed,
               (res.flags & LG_RL_R_DEGRADED) ? 1u : 0u,
               (unsigned long long)(t1 - t0),
               lg_rl_redis_error(r)[0] ? lg_rl_redis_error(r) : "-");
        nanosleep(&pause, NULL);
    }
    lg_rl_redis_free(r);
    return 0;
}

static int
cmd_noscript(char **argv)
{
    lg_rl_redis_t *r = open_handle(argv[0], 0);
    lg_rl_limit_t lim;
    lg_rl_request_t q[4];
    lg_rl_result_t res[4];
    redisContext *c;
    redisReply *rep;
    unsigned admitted = 0;

    if (lg_rl_limit_init(&lim, 5, LG_RL_HOUR, 5) != LG_OK) {
        return 2;
    }
    for (int i = 0; i < 3; i++) {
        if (lg_rl_redis_decide(r, &lim, argv[1], strlen(argv[1]), 1,
                               &res[0]) != LG_OK ||
            !res[0].allowed || res[0].flags != 0) {
            fprintf(stderr, "request %d: not admitted (%s)\n", i,
                    lg_rl_redis_error(r));
            return 1;
        }
    }
    c = redisConnect("127.0.0.1", atoi(argv[0]));
    if (c == NULL || c->err) {
        fprintf(stderr, "cannot connect to flush\n");
        return 2;
    }
    rep = redisCommand(c, "SCRIPT FLUSH");
    if (rep == NULL || rep->type != REDIS_REPLY_STATUS) {
        fprintf(stderr, "SCRIPT FLUSH failed\n");
        return 2;
    }
    freeReplyObject(rep);
    redisFree(c);
    for (int i = 0; i < 4; i++) {
        q[i].key = argv[1];
        q[i].keylen = strlen(argv[1]);
        q[i].cost = 1;
    }
    if (lg_rl_redis_decide_many(r, &lim, q, 4, res) != LG_OK) {
        return 2;
    }
    for (int i = 0; i < 4; i++) {
        if (res[i].flags != 0) {
            fprintf(stderr, "request %d degraded: %s\n", i,
                    lg_rl_redis_error(r));
            return 1;
        }
        admitted += res[i].allowed;
    }
    /* Denials carry an exact retry: 1 hour / 5, less the time elapsed. */
    if (admitted != 2 || res[3].allowed || res[3].retry_after_ns == 0 ||
        res[3].retry_after_ns > 12 * LG_RL_MINUTE) {
        fprintf(stderr, "after the flush: %u admitted, retry %llu\n", admitted,
                (unsigned long long)res[3].retry_after_ns);
        return 1;
    }
    printf("noscript ok: 3 + %u admitted, retry_after %.1f s\n", admitted,
           (double)res[3].retry_after_ns / 1e9);
    lg_rl_redis_free(r);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "burst") == 0) {
        return cmd_burst(argv + 2);
    }
    if (argc == 7 && strcmp(argv[1], "run") == 0) {
        return cmd_run(argv + 2);
    }
    if (argc == 4 && strcmp(argv[1], "noscript") == 0) {
        return cmd_noscript(argv + 2);
    }
    fprintf(stderr, "usage: see the comment at the top of rl_redis_client.c\n");
    return 2;
}
