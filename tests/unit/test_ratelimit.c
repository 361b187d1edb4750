/*
 * Rate limits: the GCRA arithmetic of lg_rl_decide(), the in-process store
 * (capacity bound, eviction policy, threads), and the Redis handle's
 * argument checks and fail policy without a server (tests/redis/ runs it
 * against a real one).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lg_test.h"

#define MS (UINT64_C(1000000))
#define T0 (UINT64_C(100000) * LG_RL_SECOND) /* an arbitrary start time */

static lg_rl_limit_t
make_limit(uint64_t count, uint64_t period, uint64_t burst)
{
    lg_rl_limit_t l;

    assert_status(lg_rl_limit_init(&l, count, period, burst), LG_OK);
    return l;
}

static int
take(const lg_rl_limit_t *l, lg_rl_bucket_t *b, uint64_t now, uint32_t cost,
     lg_rl_result_t *res)
{
    assert_status(lg_rl_decide(l, b, now, cost, res), LG_OK);
    /* retry_after > 0 exactly when denied. */
    assert_int_equal(res->allowed == 0, res->retry_after_ns > 0);
    return (int)res->allowed;
}

static void
test_limit_init(void **state)
{
    lg_rl_limit_t l;

    (void)state;
    memset(&l, 0xff, sizeof(l));
    assert_status(lg_rl_limit_init(NULL, 1, 1, 1), LG_E_INVAL);
    assert_status(lg_rl_limit_init(&l, 0, LG_RL_SECOND, 1), LG_E_INVAL);
    assert_int_equal(l.interval_ns, 0);
    assert_int_equal(l.burst, 0);
    assert_int_equal(l.span_ns, 0);
    assert_status(lg_rl_limit_init(&l, 1, 0, 1), LG_E_INVAL);
    assert_status(lg_rl_limit_init(&l, 1, LG_RL_SECOND, 0), LG_E_INVAL);
    /* More than one unit per nanosecond cannot be represented. */
    assert_status(lg_rl_limit_init(&l, 2 * LG_RL_SECOND, LG_RL_SECOND, 1),
                  LG_E_INVAL);
    assert_status(lg_rl_limit_init(&l, LG_RL_SECOND, LG_RL_SECOND, 1), LG_OK);
    assert_int_equal(l.interval_ns, 1);
    /* burst * interval must stay <= 2^62. */
    assert_status(lg_rl_limit_init(&l, 1, UINT64_C(1) << 62, 1), LG_OK);
    assert_status(lg_rl_limit_init(&l, 1, UINT64_C(1) << 62, 2), LG_E_INVAL);
    assert_status(lg_rl_limit_init(&l, 1, LG_RL_HOUR, UINT64_MAX), LG_E_INVAL);
    /* Rounded up, so the rate never exceeds the one asked for. */
    l = make_limit(3, LG_RL_SECOND, 3);
    assert_int_equal(l.interval_ns, 333333334);
    assert_int_equal(l.span_ns, 3 * UINT64_C(333333334));
    l = make_limit(1000000, LG_RL_SECOND, 1000);
    assert_int_equal(l.interval_ns, 1000);
    l = make_limit(1, LG_RL_HOUR, 1);
    assert_int_equal(l.interval_ns, LG_RL_HOUR);
}

static void
test_decide_args(void **state)
{
    lg_rl_limit_t l = make_limit(10, LG_RL_SECOND, 5), bad;
    lg_rl_bucket_t b = {0};
    lg_rl_result_t res;

    (void)state;
    memset(&res, 0xff, sizeof(res));
    assert_status(lg_rl_decide(NULL, &b, T0, 1, &res), LG_E_INVAL);
    assert_int_equal(res.allowed, 0);
    assert_int_equal(res.retry_after_ns, 0);
    assert_status(lg_rl_decide(&l, NULL, T0, 1, &res), LG_E_INVAL);
    assert_status(lg_rl_decide(&l, &b, T0, 1, NULL), LG_E_INVAL);
    /* A limit not made by lg_rl_limit_init(). */
    bad = l;
    bad.span_ns++;
    assert_status(lg_rl_decide(&bad, &b, T0, 1, &res), LG_E_INVAL);
    memset(&bad, 0, sizeof(bad));
    assert_status(lg_rl_decide(&bad, &b, T0, 1, &res), LG_E_INVAL);
    assert_int_equal(b.tat, 0);
}

/* 10/s, burst 5: five at once, then one every 100 ms, retry exact. */
static void
test_decide_burst_then_denied(void **state)
{
    lg_rl_limit_t l = make_limit(10, LG_RL_SECOND, 5);
    lg_rl_bucket_t b = {0}, before;
    lg_rl_result_t res;

    (void)state;
    for (uint64_t i = 0; i < 5; i++) {
        assert_true(take(&l, &b, T0, 1, &res));
        assert_int_equal(res.remaining, 4 - i);
        assert_int_equal(res.reset_after_ns, (i + 1) * 100 * MS);
    }
    before = b;
    assert_false(take(&l, &b, T0, 1, &res));
    assert_int_equal(res.retry_after_ns, 100 * MS);
    assert_int_equal(res.remaining, 0);
    assert_int_equal(res.reset_after_ns, 500 * MS);
    assert_memory_equal(&b, &before, sizeof(b)); /* a denial charges nothing */
    /* One nanosecond early is still too early; on time is admitted. */
    assert_false(take(&l, &b, T0 + 100 * MS - 1, 1, &res));
    assert_int_equal(res.retry_after_ns, 1);
    assert_true(take(&l, &b, T0 + 100 * MS, 1, &res));
    assert_int_equal(res.remaining, 0);
    /* A cost of 3 needs 300 ms of refill. */
    assert_false(take(&l, &b, T0 + 150 * MS, 3, &res));
    assert_int_equal(res.retry_after_ns, 250 * MS);
    assert_true(take(&l, &b, T0 + 400 * MS, 3, &res));
    /* Idle long enough: the bucket is full again, and no fuller. */
    assert_true(take(&l, &b, T0 + 60 * LG_RL_SECOND, 0, &res));
    assert_int_equal(res.remaining, 5);
    assert_int_equal(res.reset_after_ns, 0);
}

static void
test_decide_cost_above_burst(void **state)
{
    lg_rl_limit_t l = make_limit(100, LG_RL_MINUTE, 50);
    lg_rl_bucket_t b = {0};
    lg_rl_result_t res;

    (void)state;
    assert_false(take(&l, &b, T0, 51, &res));
    assert_int_equal(res.retry_after_ns, LG_RL_NEVER);
    assert_int_equal(res.remaining, 50);
    assert_int_equal(b.tat, 0);
    assert_false(take(&l, &b, T0, UINT32_MAX, &res));
    assert_int_equal(res.retry_after_ns, LG_RL_NEVER);
    /* The whole burst at once is fine. */
    assert_true(take(&l, &b, T0, 50, &res));
    assert_int_equal(res.remaining, 0);
    assert_int_equal(res.reset_after_ns, 30 * LG_RL_SECOND);
}

static void
test_decide_cost_zero(void **state)
{
    lg_rl_limit_t l = make_limit(1, LG_RL_SECOND, 2);
    lg_rl_bucket_t b = {0};
    lg_rl_result_t res;

    (void)state;
    assert_true(take(&l, &b, T0, 0, &res));
    assert_int_equal(b.tat, 0);
    assert_int_equal(res.remaining, 2);
    assert_true(take(&l, &b, T0, 2, &res));
    /* Empty bucket: a zero cost is still admitted and charges nothing. */
    assert_true(take(&l, &b, T0, 0, &res));
    assert_int_equal(res.remaining, 0);
    assert_int_equal(b.tat, T0 + 2 * LG_RL_SECOND);
}

static void
test_decide_clock_backwards(void **state)
{
    lg_rl_limit_t l = make_limit(10, LG_RL_SECOND, 5);
    lg_rl_bucket_t b = {0};
    lg_rl_result_t res;
    uint64_t tat;

    (void)state;
    assert_true(take(&l, &b, T0, 5, &res));
    tat = b.tat; /* T0 + 500 ms */
    /* A little back (a caller that read the clock before another): only
     * stricter, and the bucket is left alone. */
    assert_false(take(&l, &b, T0 - 200 * MS, 1, &res));
    assert_int_equal(res.retry_after_ns, 300 * MS);
    assert_int_equal(res.reset_after_ns, 700 * MS);
    assert_int_equal(b.tat, tat);
    assert_true(take(&l, &b, T0 + 100 * MS, 1, &res));
    tat = b.tat; /* T0 + 600 ms */
    /* An hour back: the bucket counts as just emptied, not locked for an
     * hour. */
    assert_false(take(&l, &b, T0 - LG_RL_HOUR, 1, &res));
    assert_int_equal(res.retry_after_ns, 100 * MS);
    assert_int_equal(b.tat, T0 - LG_RL_HOUR + 500 * MS);
    assert_true(take(&l, &b, T0 - LG_RL_HOUR + 100 * MS, 1, &res));
    assert_int_equal(res.remaining, 0);
    /* Back to the time before the step: far ahead of tat, full again. */
    assert_true(take(&l, &b, tat, 5, &res));
}

static void
test_decide_slow_and_fast_rates(void **state)
{
    lg_rl_limit_t hour = make_limit(1, LG_RL_HOUR, 1);
    lg_rl_limit_t fast = make_limit(1000000, LG_RL_SECOND, 1000);
    lg_rl_bucket_t b = {0};
    lg_rl_result_t res;
    uint64_t admitted = 0;

    (void)state;
    assert_true(take(&hour, &b, T0, 1, &res));
    assert_false(take(&hour, &b, T0 + 1, 1, &res));
    assert_int_equal(res.retry_after_ns, LG_RL_HOUR - 1);
    assert_false(take(&hour, &b, T0 + LG_RL_HOUR - 1, 1, &res));
    assert_true(take(&hour, &b, T0 + LG_RL_HOUR, 1, &res));

    /* A million a second: 1000 at once, then one per microsecond; over one
     * second exactly burst + 1e6 are admitted, asking every 250 ns. */
    b.tat = 0;
    for (uint64_t t = 0; t <= LG_RL_SECOND; t += 250) {
        if (take(&fast, &b, T0 + t, 1, &res)) {
            admitted++;
        }
    }
    assert_int_equal(admitted, 1000 + 1000000);
}

/* Far in the future, absolute times saturate instead of wrapping. */
static void
test_decide_overflow(void **state)
{
    lg_rl_limit_t l = make_limit(1, UINT64_C(1) << 62, 1);
    lg_rl_limit_t m = make_limit(1, LG_RL_HOUR, 100);
    lg_rl_bucket_t b = {0};
    lg_rl_result_t res;
    uint64_t now = UINT64_MAX - 5;

    (void)state;
    assert_true(take(&l, &b, now, 1, &res));
    assert_int_equal(b.tat, UINT64_MAX);
    assert_false(take(&l, &b, now, 1, &res));
    assert_true(res.retry_after_ns < LG_RL_NEVER);
    /* The largest cost against a long interval. */
    b.tat = 0;
    assert_false(take(&m, &b, T0, UINT32_MAX, &res));
    assert_int_equal(res.retry_after_ns, LG_RL_NEVER);
    assert_true(take(&m, &b, UINT64_MAX, 100, &res));
    assert_int_equal(b.tat, UINT64_MAX);
    /* A bucket left with tat at the end of time, with now at 0: the step
     * repair, without overflow. */
    assert_false(take(&m, &b, 0, 1, &res));
    assert_int_equal(b.tat, m.span_ns);
    assert_int_equal(res.retry_after_ns, LG_RL_HOUR);
}

/* Over every window, admitted <= burst + floor(window / interval). */
static void
test_decide_window_bound(void **state)
{
    lg_rl_limit_t l = make_limit(7, LG_RL_SECOND, 4);
    lg_rl_bucket_t b = {0};
    lg_rl_result_t res;
    uint64_t at[4000], cost[4000], now = T0, seed = 12345;
    size_t n = 0;

    (void)state;
    for (int i = 0; i < 4000; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        now += (seed >> 33) % (200 * MS);
        uint32_t c = (uint32_t)((seed >> 20) % 4);
        if (take(&l, &b, now, c, &res) && c > 0) {
            at[n] = now;
            cost[n] = c;
            n++;
        }
    }
    assert_true(n > 100);
    for (size_t i = 0; i < n; i++) {
        uint64_t sum = 0;

        for (size_t j = i; j < n; j++) {
            sum += cost[j];
            assert_true(sum <= l.burst + (at[j] - at[i]) / l.interval_ns);
        }
    }
}

/* ---- the store ---------------------------------------------------------- */

static void
test_store_args(void **state)
{
    lg_rl_store_t *s = (lg_rl_store_t *)&s;
    lg_rl_store_stats_t st;
    lg_rl_limit_t l = make_limit(1, LG_RL_SECOND, 1);
    lg_rl_result_t res;

    (void)state;
    assert_status(lg_rl_store_new(16, 0, NULL), LG_E_INVAL);
    assert_status(lg_rl_store_new(0, 0, &s), LG_E_INVAL);
    assert_null(s);
    assert_status(lg_rl_store_new(LG_RL_STORE_MAX_CAPACITY + 1, 0, &s),
                  LG_E_INVAL);
    assert_status(lg_rl_store_new(16, 0x2, &s), LG_E_INVAL);
    assert_status(lg_rl_store_new(10, 0, &s), LG_OK);
    assert_status(lg_rl_store_stats(s, &st), LG_OK);
    assert_int_equal(st.capacity, 16); /* rounded up to whole sets */
    assert_int_equal(st.entries, 0);
    assert_status(lg_rl_store_stats(NULL, &st), LG_E_INVAL);
    assert_int_equal(st.capacity, 0);
    assert_status(lg_rl_store_stats(s, NULL), LG_E_INVAL);
    assert_status(lg_rl_store_decide(NULL, &l, "k", 1, 1, T0, &res),
                  LG_E_INVAL);
    assert_status(lg_rl_store_decide(s, NULL, "k", 1, 1, T0, &res),
                  LG_E_INVAL);
    assert_status(lg_rl_store_decide(s, &l, NULL, 1, 1, T0, &res), LG_E_INVAL);
    assert_status(lg_rl_store_decide(s, &l, "k", 1, 1, T0, NULL), LG_E_INVAL);
    /* The empty key is a key. */
    assert_status(lg_rl_store_decide(s, &l, NULL, 0, 1, T0, &res), LG_OK);
    assert_true(res.allowed);
    assert_status(lg_rl_store_decide(s, &l, "", 0, 1, T0, &res), LG_OK);
    assert_false(res.allowed);
    lg_rl_store_free(s);
    lg_rl_store_free(NULL);
}

/* Per key, the store decides exactly as a bucket of one's own would. */
static void
test_store_matches_buckets(void **state)
{
    lg_rl_limit_t l = make_limit(5, LG_RL_SECOND, 3);
    lg_rl_bucket_t b[10];
    lg_rl_result_t res, want;
    lg_rl_store_t *s;
    uint64_t now = T0, seed = 99;
    char key[16];

    (void)state;
    memset(b, 0, sizeof(b));
    assert_status(lg_rl_store_new(1024, 0, &s), LG_OK);
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        unsigned k = (unsigned)(seed >> 60) % 10;
        uint32_t c = (uint32_t)(seed >> 40) % 5;
        now += (seed >> 20) % (50 * MS);
        snprintf(key, sizeof(key), "user:%u", k);
        assert_status(lg_rl_store_decide(s, &l, key, strlen(key), c, now, &res),
                      LG_OK);
        assert_status(lg_rl_decide(&l, &b[k], now, c, &want), LG_OK);
        assert_memory_equal(&res, &want, sizeof(res));
    }
    lg_rl_store_free(s);
}

/* However many keys, the store keeps at most its capacity. */
static void
test_store_capacity_bound(void **state)
{
    lg_rl_limit_t l = make_limit(1, LG_RL_SECOND, 10);
    lg_rl_store_stats_t st;
    lg_rl_result_t res;
    lg_rl_store_t *s;
    char key[32];

    (void)state;
    assert_status(lg_rl_store_new(1000, 0, &s), LG_OK);
    for (uint64_t i = 0; i < 200000; i++) {
        int n = snprintf(key, sizeof(key), "k%llu", (unsigned long long)i);
        /* Each key's only request; time moves on 10 ms per key, so keys
         * idle after 1 s and their slots can be reused. */
        assert_status(lg_rl_store_decide(s, &l, key, (size_t)n, 1,
                                         T0 + i * 10 * MS, &res),
                      LG_OK);
        if ((i & 1023) == 0) {
            assert_status(lg_rl_store_stats(s, &st), LG_OK);
            assert_true(st.entries <= st.capacity);
        }
    }
    assert_status(lg_rl_store_stats(s, &st), LG_OK);
    assert_int_equal(st.capacity, 1000);
    assert_int_equal(st.entries, 1000);
    /* Every admitted new key took an empty slot or an idle one. */
    assert_int_equal(st.evictions, 200000 - 1000 - st.full);
    lg_rl_store_free(s);
}

/*
 * The eviction policy: with every slot holding a busy bucket, a flood of
 * new keys is denied (or admitted untracked) and evicts nothing; every
 * busy key keeps its exact state.  Once idle, their slots are reused.
 */
static void
flood(uint32_t flags)
{
    lg_rl_limit_t l = make_limit(1, LG_RL_SECOND, 10);
    lg_rl_store_stats_t st;
    lg_rl_result_t res;
    lg_rl_store_t *s;
    char key[32];
    unsigned busy[64], nbusy = 0;

    assert_status(lg_rl_store_new(64, flags, &s), LG_OK);
    /* Busy keys: each takes its whole burst, busy for 10 s.  Go on until
     * every slot is taken (some keys meet a set already full). */
    for (unsigned i = 0; nbusy < 64; i++) {
        int n = snprintf(key, sizeof(key), "busy%u", i);

        assert_true(i < 100000);
        assert_status(lg_rl_store_decide(s, &l, key, (size_t)n, 10, T0, &res),
                      LG_OK);
        if ((res.flags & LG_RL_R_STORE_FULL) == 0) {
            assert_true(res.allowed);
            busy[nbusy++] = i;
        }
    }
    assert_status(lg_rl_store_stats(s, &st), LG_OK);
    assert_int_equal(st.entries, 64);
    assert_int_equal(st.evictions, 0);

    /* The flood, during the busy period. */
    for (unsigned i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof(key), "flood%u", i);

        assert_status(lg_rl_store_decide(s, &l, key, (size_t)n, 1,
                                         T0 + LG_RL_SECOND, &res),
                      LG_OK);
        assert_true(res.flags & LG_RL_R_STORE_FULL);
        if (flags & LG_RL_STORE_ADMIT_WHEN_FULL) {
            assert_true(res.allowed);
        } else {
            assert_false(res.allowed);
            /* Until the first busy bucket idles: 10 s after T0. */
            assert_int_equal(res.retry_after_ns, 9 * LG_RL_SECOND);
        }
    }
    assert_status(lg_rl_store_stats(s, &st), LG_OK);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(st.entries, 64);

    /* Every busy key still remembers its debt exactly. */
    for (unsigned i = 0; i < nbusy; i++) {
        int n = snprintf(key, sizeof(key), "busy%u", busy[i]);

        assert_status(lg_rl_store_decide(s, &l, key, (size_t)n, 2,
                                         T0 + 2 * LG_RL_SECOND, &res),
                      LG_OK);
        assert_true(res.allowed);
        assert_int_equal(res.flags, 0);
        assert_int_equal(res.remaining, 0);
        assert_status(lg_rl_store_decide(s, &l, key, (size_t)n, 1,
                                         T0 + 2 * LG_RL_SECOND, &res),
                      LG_OK);
        assert_false(res.allowed);
        assert_int_equal(res.retry_after_ns, LG_RL_SECOND);
    }

    /* 10 s later every bucket is idle: new keys take their slots. */
    for (unsigned i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof(key), "late%u", i);

        assert_status(lg_rl_store_decide(s, &l, key, (size_t)n, 1,
                                         T0 + 100 * LG_RL_SECOND, &res),
                      LG_OK);
        if (i < 8) {
            assert_int_equal(res.flags, 0);
        }
    }
    assert_status(lg_rl_store_stats(s, &st), LG_OK);
    assert_int_equal(st.evictions, 64);
    assert_int_equal(st.entries, 64);
    lg_rl_store_free(s);
}

static void
test_store_flood_keeps_busy_keys(void **state)
{
    (void)state;
    flood(0);
}

static void
test_store_flood_admit_when_full(void **state)
{
    (void)state;
    flood(LG_RL_STORE_ADMIT_WHEN_FULL);
}

/* Only admissions that charge something take a slot. */
static void
test_store_denials_take_no_slot(void **state)
{
    lg_rl_limit_t l = make_limit(1, LG_RL_SECOND, 5);
    lg_rl_store_stats_t st;
    lg_rl_result_t res;
    lg_rl_store_t *s;

    (void)state;
    assert_status(lg_rl_store_new(8, 0, &s), LG_OK);
    assert_status(lg_rl_store_decide(s, &l, "a", 1, 6, T0, &res), LG_OK);
    assert_int_equal(res.retry_after_ns, LG_RL_NEVER);
    assert_status(lg_rl_store_decide(s, &l, "b", 1, 0, T0, &res), LG_OK);
    assert_true(res.allowed);
    assert_status(lg_rl_store_stats(s, &st), LG_OK);
    assert_int_equal(st.entries, 0);
    lg_rl_store_free(s);
}

/* After the clock steps back, a full set frees up within one span, not
 * after the whole step. */
static void
test_store_clock_step_back(void **state)
{
    lg_rl_limit_t l = make_limit(10, LG_RL_SECOND, 5); /* span 500 ms */
    lg_rl_result_t res;
    lg_rl_store_t *s;
    char key[16];
    unsigned i;

    (void)state;
    assert_status(lg_rl_store_new(8, 0, &s), LG_OK); /* one set */
    for (i = 0; i < 8; i++) {
        int n = snprintf(key, sizeof(key), "busy%u", i);

        assert_status(lg_rl_store_decide(s, &l, key, (size_t)n, 5, T0, &res),
                      LG_OK);
        assert_true(res.allowed);
    }
    assert_status(lg_rl_store_decide(s, &l, "new", 3, 1, T0, &res), LG_OK);
    assert_int_equal(res.flags, LG_RL_R_STORE_FULL);
    assert_int_equal(res.retry_after_ns, 500 * MS);
    /* An hour back: the set's buckets count as just emptied. */
    assert_status(lg_rl_store_decide(s, &l, "new", 3, 1, T0 - LG_RL_HOUR,
                                     &res),
                  LG_OK);
    assert_int_equal(res.flags, LG_RL_R_STORE_FULL);
    assert_int_equal(res.retry_after_ns, 500 * MS);
    assert_status(lg_rl_store_decide(s, &l, "new", 3, 1,
                                     T0 - LG_RL_HOUR + 500 * MS, &res),
                  LG_OK);
    assert_true(res.allowed);
    assert_int_equal(res.flags, 0);
    lg_rl_store_free(s);
}

#define NTHREADS 4
#define NKEYS 64

struct worker {
    lg_rl_store_t *store;
    const lg_rl_limit_t *limit;
    int id;
    uint64_t admitted;
    int errors;
};

static void *
hammer(void *arg)
{
    struct worker *w = arg;
    lg_rl_result_t res;
    char key[16];

    for (int i = 0; i < 20000; i++) {
        /* The same keys in every thread, in different orders. */
        int k = (i * 7 + w->id * 13) % NKEYS;
        int n = snprintf(key, sizeof(key), "shared%d", k);

        if (lg_rl_store_decide(w->store, w->limit, key, (size_t)n, 1, T0,
                               &res) != LG_OK) {
            w->errors++;
        }
        w->admitted += res.allowed;
    }
    for (int i = 0; i < 20000; i++) {
        if (lg_rl_store_decide(w->store, w->limit, "hot", 3, 1, T0, &res) !=
            LG_OK) {
            w->errors++;
        }
        w->admitted += res.allowed;
    }
    return NULL;
}

/* No lost updates: together the threads admit exactly each key's burst. */
static void
test_store_threads(void **state)
{
    lg_rl_limit_t l = make_limit(1, LG_RL_HOUR, 1000);
    struct worker w[NTHREADS];
    pthread_t th[NTHREADS];
    lg_rl_store_t *s;
    uint64_t total = 0;

    (void)state;
    assert_status(lg_rl_store_new(4096, 0, &s), LG_OK);
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){s, &l, i, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].errors, 0);
        total += w[i].admitted;
    }
    /* 64 keys * 1000 + "hot" 1000; 4 threads asked 80000 per group. */
    assert_int_equal(total, (NKEYS + 1) * 1000);
    lg_rl_store_free(s);
}

/* ---- Redis handle, no server -------------------------------------------- */

static void
test_redis_args(void **state)
{
    lg_rl_redis_config_t cfg;
    lg_rl_redis_t *r = (lg_rl_redis_t *)&r;
    lg_rl_limit_t l = make_limit(1, LG_RL_SECOND, 1);
    lg_rl_limit_t huge = make_limit(1, 60 * 24 * LG_RL_HOUR, 1); /* 60 days */
    lg_rl_result_t res[2];
    lg_rl_request_t q[2] = {{"a", 1, 1}, {NULL, 1, 1}};

    (void)state;
    lg_rl_redis_config_init(NULL);
    lg_rl_redis_config_init(&cfg);
    assert_string_equal(cfg.host, "127.0.0.1");
    assert_int_equal(cfg.port, 6379);
    assert_int_equal(cfg.fail_open, 0);
    assert_status(lg_rl_redis_new(&cfg, NULL), LG_E_INVAL);
    assert_status(lg_rl_redis_new(NULL, &r), LG_E_INVAL);
    assert_null(r);
    cfg.host = "";
    assert_status(lg_rl_redis_new(&cfg, &r), LG_E_INVAL);
    cfg.host = "127.0.0.1";
    cfg.timeout_ms = 0;
    assert_status(lg_rl_redis_new(&cfg, &r), LG_E_INVAL);
    cfg.timeout_ms = 50;
    cfg.fail_open = 2;
    assert_status(lg_rl_redis_new(&cfg, &r), LG_E_INVAL);
    cfg.fail_open = 0;
    assert_status(lg_rl_redis_new(&cfg, &r), LG_OK);
    assert_status(lg_rl_redis_decide(NULL, &l, "a", 1, 1, res), LG_E_INVAL);
    assert_status(lg_rl_redis_decide(r, NULL, "a", 1, 1, res), LG_E_INVAL);
    assert_status(lg_rl_redis_decide(r, &l, NULL, 1, 1, res), LG_E_INVAL);
    assert_status(lg_rl_redis_decide(r, &l, "a", 1, 1, NULL), LG_E_INVAL);
    /* Spans past 2^52 ns are beyond the script's exact arithmetic. */
    assert_status(lg_rl_redis_decide(r, &huge, "a", 1, 1, res), LG_E_INVAL);
    assert_status(lg_rl_redis_decide_many(r, &l, q, 2, res), LG_E_INVAL);
    assert_status(lg_rl_redis_decide_many(r, &l, NULL, 2, res), LG_E_INVAL);
    assert_status(lg_rl_redis_decide_many(r, &l, q, 0, NULL), LG_OK);
    /* Too costly: denied without asking Redis, which is not needed. */
    assert_status(lg_rl_redis_decide(r, &l, "a", 1, 2, res), LG_OK);
    assert_int_equal(res[0].retry_after_ns, LG_RL_NEVER);
    assert_int_equal(res[0].flags, 0);
    assert_string_equal(lg_rl_redis_error(r), "");
    assert_string_equal(lg_rl_redis_error(NULL), "");
    lg_rl_redis_free(r);
    lg_rl_redis_free(NULL);
}

/* A port with nothing listening: the decision is the fail policy. */
static void
redis_down(uint32_t fail_open)
{
    lg_rl_redis_config_t cfg;
    lg_rl_redis_t *r;
    lg_rl_limit_t l = make_limit(1, LG_RL_SECOND, 1);
    lg_rl_result_t res[3];
    lg_rl_request_t q[3] = {{"a", 1, 1}, {"b", 1, 5}, {"", 0, 1}};

    lg_rl_redis_config_init(&cfg);
    cfg.port = 1; /* tcpmux: nothing listens there on a test machine */
    cfg.fail_open = fail_open;
    cfg.retry_interval_ms = 250;
    assert_status(lg_rl_redis_new(&cfg, &r), LG_OK);
    for (int i = 0; i < 2; i++) {
        /* The second call is inside the retry interval: same answer. */
        assert_status(lg_rl_redis_decide(r, &l, "a", 1, 1, res), LG_OK);
        assert_int_equal(res[0].flags, LG_RL_R_DEGRADED);
        assert_int_equal(res[0].allowed, fail_open);
        assert_int_equal(res[0].retry_after_ns,
                         fail_open ? 0 : 250 * UINT64_C(1000000));
        assert_true(strstr(lg_rl_redis_error(r), "cannot connect") != NULL);
    }
    assert_status(lg_rl_redis_decide_many(r, &l, q, 3, res), LG_OK);
    assert_int_equal(res[0].flags, LG_RL_R_DEGRADED);
    assert_int_equal(res[1].flags, 0); /* cost > burst: decided locally */
    assert_int_equal(res[1].retry_after_ns, LG_RL_NEVER);
    assert_int_equal(res[2].flags, LG_RL_R_DEGRADED);
    assert_int_equal(res[2].allowed, fail_open);
    lg_rl_redis_free(r);
}

static void
test_redis_unreachable_fail_closed(void **state)
{
    (void)state;
    redis_down(0);
}

static void
test_redis_unreachable_fail_open(void **state)
{
    (void)state;
    redis_down(1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_init),
        cmocka_unit_test(test_decide_args),
        cmocka_unit_test(test_decide_burst_then_denied),
        cmocka_unit_test(test_decide_cost_above_burst),
        cmocka_unit_test(test_decide_cost_zero),
        cmocka_unit_test(test_decide_clock_backwards),
        cmocka_unit_test(test_decide_slow_and_fast_rates),
        cmocka_unit_test(test_decide_overflow),
        cmocka_unit_test(test_decide_window_bound),
        cmocka_unit_test(test_store_args),
        cmocka_unit_test(test_store_matches_buckets),
        cmocka_unit_test(test_store_capacity_bound),
        cmocka_unit_test(test_store_flood_keeps_busy_keys),
        cmocka_unit_test(test_store_flood_admit_when_full),
        cmocka_unit_test(test_store_denials_take_no_slot),
        cmocka_unit_test(test_store_clock_step_back),
        cmocka_unit_test(test_store_threads),
        cmocka_unit_test(test_redis_args),
        cmocka_unit_test(test_redis_unreachable_fail_closed),
        cmocka_unit_test(test_redis_unreachable_fail_open),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
