/*
 * GCRA on one plain-data bucket.  Everything is computed on the bucket's
 * "debt", tat - now (ns), which lg_rl_limit_init() bounds so that no sum
 * below can overflow: debt <= span + LG_RL_CLOCK_STEP <= 2^62 + 2^30 and
 * cost * interval <= span, so debt + cost * interval < 2^64.  Only
 * absolute times (now + debt) can reach UINT64_MAX, and those saturate.
 */
#include <string.h>

#include "internal/lg_internal.h"
#include "internal/lg_ratelimit_int.h"

#define LGI_RL_MAX_SPAN (UINT64_C(1) << 62)

lg_status_t
lg_rl_limit_init(lg_rl_limit_t *limit, uint64_t count, uint64_t period_ns,
                 uint64_t burst)
{
    uint64_t interval, span;

    if (limit == NULL) {
        return LG_E_INVAL;
    }
    memset(limit, 0, sizeof(*limit));
    if (count == 0 || period_ns == 0 || burst == 0 || count > period_ns) {
        return LG_E_INVAL;
    }
    /* Rounded up: the effective rate never exceeds the one asked for. */
    interval = period_ns / count + (period_ns % count != 0);
    if (__builtin_mul_overflow(interval, burst, &span) ||
        span > LGI_RL_MAX_SPAN) {
        return LG_E_INVAL;
    }
    limit->interval_ns = interval;
    limit->burst = burst;
    limit->span_ns = span;
    return LG_OK;
}

bool
lgi_rl_limit_ok(const lg_rl_limit_t *limit)
{
    uint64_t span;

    return limit != NULL && limit->interval_ns != 0 && limit->burst != 0 &&
           !__builtin_mul_overflow(limit->interval_ns, limit->burst, &span) &&
           span == limit->span_ns && span <= LGI_RL_MAX_SPAN;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    uint64_t s;

    return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

void
lgi_rl_decide(const lg_rl_limit_t *limit, lg_rl_bucket_t *b, uint64_t now,
              uint32_t cost, lg_rl_result_t *out)
{
    uint64_t span = limit->span_ns, T = limit->interval_ns;
    uint64_t debt = b->tat > now ? b->tat - now : 0, inc;

    memset(out, 0, sizeof(*out));
    if (debt > span + LG_RL_CLOCK_STEP) {
        /* The clock went back: see LG_RL_CLOCK_STEP. */
        debt = span;
        b->tat = sat_add(now, span);
    }
    out->reset_after_ns = debt;
    out->remaining = debt < span ? (span - debt) / T : 0;
    if (cost == 0) {
        out->allowed = 1;
        return;
    }
    if (cost > limit->burst) {
        out->retry_after_ns = LG_RL_NEVER;
        return;
    }
    inc = (uint64_t)cost * T; /* <= burst * T = span */
    if (debt + inc > span) {
        out->retry_after_ns = debt + inc - span;
        return;
    }
    debt += inc;
    b->tat = sat_add(now, debt);
    out->allowed = 1;
    out->reset_after_ns = debt;
    out->remaining = (span - debt) / T;
}

lg_status_t
lg_rl_decide(const lg_rl_limit_t *limit, lg_rl_bucket_t *bucket,
             uint64_t now_ns, uint32_t cost, lg_rl_result_t *out)
{
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    if (!lgi_rl_limit_ok(limit) || bucket == NULL || out == NULL) {
        return LG_E_INVAL;
    }
    lgi_rl_decide(limit, bucket, now_ns, cost, out);
    return LG_OK;
}
