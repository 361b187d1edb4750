/*
 * Fuzz target: sequences of rate-limit decisions (lg_ratelimit.h) on a few
 * keys under two limits, through lg_rl_decide() on the harness's own
 * buckets and through a tiny lg_rl_store_t side by side.
 *
 * Input layout:
 *   bytes 0-5  the two limits, 3 bytes each: count (index into counts[]),
 *              period (index into periods[]), burst (1 + byte, or a large
 *              burst when the byte is >= 0xf0);
 *   byte 6     options: bit 0 the store admits untracked keys when full;
 *              bit 1 two sets (16 slots) instead of one (8); bit 2 the
 *              clock may go back; bits 3-4 the start time (starts[]);
 *   then ops, 4 bytes each: key (low 4 bits, modulo NKEYS; bit 7: a step
 *              back when allowed), cost (byte; 0xff: the largest cost),
 *              time delta (2 bytes, little-endian, in eighths of the key's
 *              interval; bit 15: times 4096).
 * Keys 0..5 use the first limit, 6..11 the second.
 *
 * Invariants (a broken one traps, see fuzz_check.h):
 *  - retry_after_ns > 0 exactly when denied; LG_RL_NEVER exactly when the
 *    cost exceeds the burst; remaining <= burst; reset_after <= span (+
 *    the clock step tolerance after a step back);
 *  - retry_after is exact: the same request at now + retry is admitted,
 *    at now + retry - 1 denied; remaining is exact: a cost of `remaining`
 *    is admitted at once and one more is not;
 *  - with a monotonic clock, over every window of each key's admissions,
 *    admitted cost <= burst + floor(window / interval);
 *  - with a monotonic clock, the store decides every key exactly as its
 *    own bucket would, except for LG_RL_R_STORE_FULL results, which only
 *    ever happen to keys whose bucket is idle (busy keys are never
 *    evicted); the store never holds more than its capacity.
 */
#include "fuzz_check.h"

#define NKEYS 12
#define LOG 64 /* admissions remembered per key for the window check */

static const uint64_t counts[] = {1, 3, 7, 10, 100, 1000, 1000000, 1};
static const uint64_t periods[] = {
    UINT64_C(1000000), LG_RL_SECOND, LG_RL_MINUTE, LG_RL_HOUR,
};
static const uint64_t starts[] = {
    0, UINT64_C(1000) * LG_RL_SECOND, UINT64_C(1) << 62,
    UINT64_MAX - (UINT64_C(1) << 40),
};

struct key_state {
    lg_rl_bucket_t own;   /* the harness's bucket */
    lg_rl_bucket_t store; /* what the store should hold for the key */
    uint64_t at[LOG];     /* times of the last admissions */
    uint64_t base[LOG];   /* admitted cost before each of them */
    uint64_t total;       /* admitted cost so far */
    unsigned n;           /* admissions logged (ring) */
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return lg_init() == LG_OK ? 0 : 1;
}

/* `span` bounds the waits: the limit's, or for a store-full result the
 * longest of both limits (the set's busy buckets may be the other's). */
static void
check_result(const lg_rl_limit_t *l, uint64_t span, uint32_t cost,
             const lg_rl_result_t *r, int stepped)
{
    FZ_CHECK(r->allowed <= 1);
    FZ_CHECK((r->allowed == 0) == (r->retry_after_ns > 0));
    FZ_CHECK((r->retry_after_ns == LG_RL_NEVER) == (cost > l->burst));
    FZ_CHECK(r->remaining <= l->burst);
    FZ_CHECK(r->reset_after_ns <= span + (stepped ? LG_RL_CLOCK_STEP : 0));
    if (!r->allowed && r->retry_after_ns != LG_RL_NEVER) {
        FZ_CHECK(r->retry_after_ns <= span + LG_RL_CLOCK_STEP);
    }
}

/* retry_after and remaining are exact: probe copies of the bucket. */
static void
check_exact(const lg_rl_limit_t *l, const lg_rl_bucket_t *after,
            uint64_t now, uint32_t cost, const lg_rl_result_t *r)
{
    lg_rl_bucket_t c;
    lg_rl_result_t p;

    if (!r->allowed && r->retry_after_ns != LG_RL_NEVER &&
        now <= UINT64_MAX - r->retry_after_ns) {
        c = *after;
        FZ_CHECK(lg_rl_decide(l, &c, now + r->retry_after_ns, cost, &p) ==
                 LG_OK);
        FZ_CHECK(p.allowed);
        c = *after;
        FZ_CHECK(lg_rl_decide(l, &c, now + r->retry_after_ns - 1, cost, &p) ==
                 LG_OK);
        FZ_CHECK(!p.allowed);
    }
    if (r->remaining < UINT32_MAX) {
        c = *after;
        FZ_CHECK(lg_rl_decide(l, &c, now, (uint32_t)r->remaining + 1, &p) ==
                 LG_OK);
        FZ_CHECK(!p.allowed);
        if (r->remaining > 0) {
            c = *after;
            FZ_CHECK(lg_rl_decide(l, &c, now, (uint32_t)r->remaining, &p) ==
                     LG_OK);
            FZ_CHECK(p.allowed);
        }
    }
}

/* Every logged window ending at this admission. */
static void
check_window(const lg_rl_limit_t *l, struct key_state *k, uint64_t now,
             uint32_t cost)
{
    unsigned have;

    k->at[k->n % LOG] = now;
    k->base[k->n % LOG] = k->total;
    k->total += cost;
    k->n++;
    have = k->n < LOG ? k->n : LOG;
    for (unsigned i = 0; i < have; i++) {
        unsigned j = (k->n - 1 - i) % LOG;

        /* admitted in [at[j], now] */
        FZ_CHECK(k->total - k->base[j] <=
                 l->burst + (now - k->at[j]) / l->interval_ns);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_rl_limit_t lim[2];
    struct key_state ks[NKEYS];
    lg_rl_store_t *store = NULL;
    lg_rl_store_stats_t st;
    uint64_t now, maxspan, prev_full = 0, prev_ev = 0;
    uint32_t opts;
    int back_ok, went_back = 0, near_end;

    if (size < 7) {
        return 0;
    }
    for (int i = 0; i < 2; i++) {
        const uint8_t *p = data + 3 * i;
        uint64_t burst = p[2] >= 0xf0 ? UINT64_C(1) << (p[2] - 0xf0 + 16)
                                      : (uint64_t)p[2] + 1;

        if (lg_rl_limit_init(&lim[i], counts[p[0] % 8], periods[p[1] % 4],
                             burst) != LG_OK) {
            return 0;
        }
    }
    maxspan = lim[0].span_ns > lim[1].span_ns ? lim[0].span_ns : lim[1].span_ns;
    opts = data[6];
    back_ok = (opts & 4) != 0;
    now = starts[(opts >> 3) & 3];
    near_end = 0;
    memset(ks, 0, sizeof(ks));
    FZ_CHECK(lg_rl_store_new((opts & 2) ? 16 : 8,
                             (opts & 1) ? LG_RL_STORE_ADMIT_WHEN_FULL : 0,
                             &store) == LG_OK);

    for (size_t off = 7; off + 4 <= size; off += 4) {
        unsigned k = (data[off] & 0x0f) % NKEYS;
        const lg_rl_limit_t *l = &lim[k < NKEYS / 2 ? 0 : 1];
        uint32_t cost = data[off + 1] == 0xff ? UINT32_MAX : data[off + 1];
        uint64_t d = (uint64_t)(data[off + 2] | (data[off + 3] << 8));
        uint64_t delta = ((d & 0x7fff) * l->interval_ns) >> 3;
        lg_rl_result_t own, sr;
        lg_rl_bucket_t store_before;
        char key[2] = {'k', (char)('a' + k)};
        int full;

        if (d & 0x8000) {
            delta = delta > UINT64_MAX / 4096 ? UINT64_MAX : delta * 4096;
        }
        if (back_ok && (data[off] & 0x80)) {
            now = now > delta ? now - delta : 0;
            went_back = 1;
        } else {
            now = now > UINT64_MAX - delta ? UINT64_MAX : now + delta;
        }

        /* Within 2 spans of UINT64_MAX, absolute times saturate (year
         * 2554 on the Unix epoch): a clipped tat forgets debt, so the
         * exactness probes and window bounds stop holding from there on. */
        if (now > UINT64_MAX - 2 * maxspan - 2 * LG_RL_CLOCK_STEP) {
            near_end = 1;
        }
        FZ_CHECK(lg_rl_decide(l, &ks[k].own, now, cost, &own) == LG_OK);
        check_result(l, l->span_ns, cost, &own, went_back);
        if (!near_end) {
            check_exact(l, &ks[k].own, now, cost, &own);
        }
        if (own.allowed && cost > 0 && !went_back && !near_end) {
            check_window(l, &ks[k], now, cost);
        }

        store_before = ks[k].store;
        FZ_CHECK(lg_rl_store_decide(store, l, key, sizeof(key), cost, now,
                                    &sr) == LG_OK);
        full = (sr.flags & LG_RL_R_STORE_FULL) != 0;
        check_result(l, full ? maxspan : l->span_ns, cost, &sr, went_back);
        FZ_CHECK((sr.flags & ~LG_RL_R_STORE_FULL) == 0);
        if (full) {
            /* Only a key the store does not hold can meet a full set, and
             * only an admission that charges looks for a slot. */
            FZ_CHECK(cost > 0 && cost <= l->burst);
            FZ_CHECK(sr.allowed == ((opts & 1) != 0));
            if (!went_back) {
                FZ_CHECK(store_before.tat <= now); /* idle, never evicted */
            }
            /* The key stays untracked: its bucket is a fresh one. */
            ks[k].store.tat = 0;
        } else {
            lg_rl_result_t want;

            /* After a step back a bucket the store evicted while idle can
             * be busy again in the harness's view: no comparison then. */
            FZ_CHECK(lg_rl_decide(l, &ks[k].store, now, cost, &want) ==
                     LG_OK);
            FZ_CHECK(went_back || memcmp(&want, &sr, sizeof(sr)) == 0);
        }
        FZ_CHECK(lg_rl_store_stats(store, &st) == LG_OK);
        FZ_CHECK(st.entries <= st.capacity);
        FZ_CHECK(st.full >= prev_full && st.evictions >= prev_ev);
        FZ_CHECK(st.full - prev_full == (uint64_t)full);
        prev_full = st.full;
        prev_ev = st.evictions;
    }
    lg_rl_store_free(store);
    return 0;
}
