/*
 * libguard: rate limits (GCRA, the generic cell rate algorithm).
 *
 * Three layers, each usable alone:
 *
 *  - lg_rl_decide(): a pure function over a plain-data bucket.  The bucket
 *    is one uint64_t, so a host can keep it anywhere, for example in an
 *    nginx shared-memory zone, and call lg_rl_decide() under its own lock
 *    (limit_req style).
 *  - lg_rl_store_t: a thread-safe, fixed-size in-process table of buckets
 *    keyed by arbitrary bytes, with a documented eviction policy.
 *  - lg_rl_redis_t: the same algorithm run atomically inside Redis (one Lua
 *    script), so that several processes share one limit.
 *
 * Units: times are unsigned nanoseconds on a caller-chosen clock (use
 * CLOCK_MONOTONIC: it never steps, and all processes of one host share
 * it).  A request has a cost (1 for "requests", or for example its prompt
 * tokens); rates and bursts are in the same cost units.
 *
 * The algorithm: each cost unit occupies the bucket for `interval_ns`
 * (period / count, rounded up to a whole nanosecond, so the effective rate
 * never exceeds the configured one).  A bucket's state is its theoretical
 * arrival time `tat`: the time at which it is full (idle) again.  A request
 * of cost c at time `now` is admitted when
 *
 *     max(tat, now) + c * interval_ns - now  <=  burst * interval_ns
 *
 * and then tat becomes max(tat, now) + c * interval_ns.  So a full bucket
 * admits `burst` units at once, then one unit per interval; over any
 * window of length L no more than burst + floor(L / interval_ns) units are
 * admitted.  This is nginx limit_req's leaky bucket with an exact retry
 * time and without per-request timers.
 *
 * Threading: lg_rl_limit_t, lg_rl_bucket_t and lg_rl_result_t are plain
 * data owned by the caller; lg_rl_decide() touches only its arguments, so
 * a bucket shared between threads or processes needs the caller's lock.
 * A store is safe to use from any number of threads at once.  A Redis
 * handle is safe to share, but its calls serialize on its one connection:
 * make one per thread for throughput.
 */
#ifndef LG_RATELIMIT_H
#define LG_RATELIMIT_H

#include "lg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Nanoseconds per second, minute and hour, for limit periods. */
#define LG_RL_SECOND UINT64_C(1000000000)
#define LG_RL_MINUTE (UINT64_C(60) * LG_RL_SECOND)
#define LG_RL_HOUR (UINT64_C(60) * LG_RL_MINUTE)

/** retry_after_ns of a request that can never be admitted (cost > burst). */
#define LG_RL_NEVER UINT64_MAX

/**
 * How far the clock may appear to go back before a bucket is repaired.
 *
 * A caller that reads the clock before taking a lock can pass a `now`
 * slightly older than the previous caller's; that only makes the decision
 * a little stricter, and is left alone.  A bucket whose tat lies more than
 * burst * interval_ns + LG_RL_CLOCK_STEP ahead of `now` cannot come from a
 * monotonic clock: the clock was stepped back.  Such a bucket is treated
 * as just emptied at `now` (tat = now + burst * interval_ns), so a step
 * back costs at most one burst period of waiting, not the whole step.
 */
#define LG_RL_CLOCK_STEP LG_RL_SECOND

/**
 * A validated limit: plain data, made by lg_rl_limit_init() (or copied from
 * one that was).  Do not fill it by hand.
 */
typedef struct lg_rl_limit {
    uint64_t interval_ns; /**< time one cost unit occupies; >= 1 */
    uint64_t burst;       /**< bucket size in cost units; >= 1 */
    uint64_t span_ns;     /**< burst * interval_ns */
} lg_rl_limit_t;

/**
 * A bucket: plain data.  All-zero is a full (fresh) bucket, so a zeroed
 * shared-memory slab needs no initialisation.
 */
typedef struct lg_rl_bucket {
    uint64_t tat; /**< theoretical arrival time, ns; <= now means full */
} lg_rl_bucket_t;

/** lg_rl_result_t.flags: the decision came from the store's full policy. */
#define LG_RL_R_STORE_FULL 0x1u
/** lg_rl_result_t.flags: Redis could not be used; the decision is the
 * handle's fail-open or fail-closed policy (see lg_rl_redis_config_t). */
#define LG_RL_R_DEGRADED 0x2u

/** The outcome of one decision. */
typedef struct lg_rl_result {
    /** 1 admitted (the cost was charged), 0 denied (nothing charged). */
    uint32_t allowed;
    /** LG_RL_R_* bits; 0 for an ordinary decision. */
    uint32_t flags;
    /**
     * 0 when admitted.  When denied: how long until the same request would
     * be admitted if nothing else is charged meanwhile (exact to the
     * nanosecond for lg_rl_decide()); always > 0; LG_RL_NEVER when the cost
     * exceeds the burst.
     */
    uint64_t retry_after_ns;
    /** How long until the bucket is full again (0: it is full now). */
    uint64_t reset_after_ns;
    /** Cost units that could be admitted right now, after this decision. */
    uint64_t remaining;
} lg_rl_result_t;

/**
 * Make a limit of `count` cost units per `period_ns`, with a bucket of
 * `burst` units (the most admitted at once; at least the largest cost you
 * want ever admitted).  Example: 600 tokens a minute, bursts of 100:
 * lg_rl_limit_init(&l, 600, LG_RL_MINUTE, 100).
 *
 * The interval is period_ns / count rounded up to a whole nanosecond, so
 * the effective rate is at most the one asked for, within
 * 1 ns / interval (0.1% at a million units a second).
 *
 * @param limit   out; zeroed on failure.
 * @param count   cost units per period; 1 .. period_ns (at most one unit
 *                per nanosecond).
 * @param period_ns the period; >= 1.
 * @param burst   >= 1, such that burst * interval_ns <= 2^62 ns
 *                (146 years).
 * @return LG_OK, or LG_E_INVAL for a NULL limit or an argument out of range.
 */
LG_API lg_status_t lg_rl_limit_init(lg_rl_limit_t *limit, uint64_t count,
                                    uint64_t period_ns, uint64_t burst);

/**
 * Decide one request of `cost` units against `bucket` at time `now_ns`,
 * charging it when admitted.  Allocates nothing, takes no lock, touches
 * nothing but its arguments.  A denial leaves the bucket as it was, except
 * that a bucket stepped back by the clock is repaired (LG_RL_CLOCK_STEP).
 * A cost of 0 is always admitted, charges nothing, and reports `remaining`.
 * A cost above the burst is denied with retry_after_ns = LG_RL_NEVER.
 *
 * @param limit  from lg_rl_limit_init().
 * @param bucket the key's bucket; caller-synchronized.
 * @param now_ns the current time on the caller's clock.
 * @param cost   the request's cost in units.
 * @param out    the decision; zeroed on failure.
 * @return LG_OK (admitted or denied: see out->allowed), or LG_E_INVAL for
 *         a NULL argument or a limit not made by lg_rl_limit_init().
 *         Thread safety: as safe as the caller's lock on `bucket`.
 */
LG_API lg_status_t lg_rl_decide(const lg_rl_limit_t *limit,
                                lg_rl_bucket_t *bucket, uint64_t now_ns,
                                uint32_t cost, lg_rl_result_t *out);

/* ---- the in-process store ----------------------------------------------- */

/**
 * A fixed-size, thread-safe table of buckets keyed by byte strings.
 *
 * Memory: capacity rounded up to a multiple of LG_RL_STORE_WAYS slots of
 * 16 bytes each, all allocated by lg_rl_store_new(); nothing is allocated
 * afterwards, whatever the keys.
 *
 * Keys: a key is hashed with SipHash-2-4 (128-bit output, libsodium
 * crypto_shorthash_siphashx24) under a random key drawn at creation; the
 * key bytes are not kept, only 64 bits of the hash.  Attackers cannot aim
 * keys at one set or at another key's bucket, and two honest keys share a
 * bucket with probability about n^2 / 2^65 for n keys.
 *
 * Layout: the hash picks two sets of LG_RL_STORE_WAYS slots (two-choice
 * hashing); a key lives in either.  Sets are guarded by striped mutexes.
 *
 * Eviction policy.  A new key (one in neither of its sets) that is
 * admitted needs a slot in one of them.  It takes, in order of preference:
 *   1. an empty slot (in the emptier set);
 *   2. the slot of an idle bucket (tat <= now: full again), the one idle
 *      the longest.  Forgetting a full bucket loses nothing: the key's next
 *      request finds a fresh bucket, which is in the same state.
 * A busy bucket (tat > now: it still remembers recent admissions) is never
 * evicted, so a flood of new keys cannot push out busy keys and reset
 * their limits.  When every slot of both sets holds a busy bucket, the
 * new key is, by default, denied (out->flags has LG_RL_R_STORE_FULL,
 * remaining is 0, and retry_after_ns and reset_after_ns are the time until
 * the first of those busy buckets becomes idle).  With
 * LG_RL_STORE_ADMIT_WHEN_FULL it is admitted instead without being
 * tracked (fail open: the flood's keys are then not limited).  So size the
 * store for the keys that can be busy at once: a key stays busy for up to
 * burst * interval_ns after its last admission.  Measured with 2^20
 * slots all busy: no new key met full sets at 50% load, 1 in 10^5 at 75%,
 * 0.7% at 90%.  Denied requests and costs of 0 never take a slot.
 *
 * After the clock steps back, a bucket further ahead of `now` than the
 * longest span the store has seen plus LG_RL_CLOCK_STEP is repaired when
 * its set is searched (as lg_rl_decide() repairs its own bucket), so new
 * keys wait at most that long for a slot, not the whole step.
 */
typedef struct lg_rl_store lg_rl_store_t;

/** Slots per set of the store. */
#define LG_RL_STORE_WAYS 8u
/** Largest capacity lg_rl_store_new() accepts (2^32 slots, 64 GiB). */
#define LG_RL_STORE_MAX_CAPACITY (UINT64_C(1) << 32)

/** lg_rl_store_new() flag: admit untracked new keys when their sets are
 * full of busy buckets, instead of denying them. */
#define LG_RL_STORE_ADMIT_WHEN_FULL 0x1u

/** Counters of a store (lg_rl_store_stats()). */
typedef struct lg_rl_store_stats {
    uint64_t capacity;  /**< slots, a multiple of LG_RL_STORE_WAYS */
    uint64_t entries;   /**< slots in use; never more than capacity */
    uint64_t evictions; /**< idle buckets replaced by new keys */
    uint64_t full;      /**< new keys whose sets were full of busy buckets */
} lg_rl_store_stats_t;

/**
 * Create a store of at least `capacity` slots.
 *
 * @param capacity 1 .. LG_RL_STORE_MAX_CAPACITY; rounded up to a multiple
 *                 of LG_RL_STORE_WAYS.
 * @param flags    0 or LG_RL_STORE_ADMIT_WHEN_FULL.
 * @param out      the store, released with lg_rl_store_free(); NULL on
 *                 failure.
 * @return LG_OK, LG_E_INVAL (NULL out, capacity out of range, unknown flag
 *         bits), LG_E_NOMEM, or what lg_init() returns.
 */
LG_API lg_status_t lg_rl_store_new(uint64_t capacity, uint32_t flags,
                                   lg_rl_store_t **out);

/** Free a store; NULL is ignored.  No call may be using it. */
LG_API void lg_rl_store_free(lg_rl_store_t *store);

/**
 * lg_rl_decide() on the bucket of `key`, under the store's lock for it.
 * Different limits may be used with one store (for example one per
 * tier), but a given key should always be decided with the same limit:
 * prefix keys with the limit's name when in doubt.
 *
 * @param store  from lg_rl_store_new().
 * @param limit  from lg_rl_limit_init().
 * @param key    the key's bytes (copied into nothing: only hashed); may be
 *               NULL when keylen is 0.
 * @param keylen its length.
 * @param cost   the request's cost.
 * @param now_ns the current time; one clock for all calls on the store.
 * @param out    the decision; zeroed on failure.
 * @return LG_OK (see out->allowed and out->flags), or LG_E_INVAL for a NULL
 *         argument or an invalid limit.  Thread-safe.
 */
LG_API lg_status_t lg_rl_store_decide(lg_rl_store_t *store,
                                      const lg_rl_limit_t *limit,
                                      const void *key, size_t keylen,
                                      uint32_t cost, uint64_t now_ns,
                                      lg_rl_result_t *out);

/**
 * Read the store's counters.  Under concurrent use each counter is exact
 * at some moment during the call, not necessarily the same moment.
 *
 * @return LG_OK, or LG_E_INVAL for a NULL argument (out zeroed).
 *         Thread-safe.
 */
LG_API lg_status_t lg_rl_store_stats(const lg_rl_store_t *store,
                                     lg_rl_store_stats_t *out);

/* ---- the Redis backend -------------------------------------------------- */

/**
 * A connection to one Redis server (hiredis, synchronous) that runs the
 * GCRA in a Lua script, atomically per key, on the server's clock (Redis
 * TIME inside the script, so that processes on several hosts agree).
 *
 * In Redis a bucket is a string "<last_us> <debt_ns>" under
 * key_prefix + key, expiring when the bucket is full again: an expired
 * bucket loses nothing.  The script is loaded once per connection (SCRIPT
 * LOAD) and run with EVALSHA; a NOSCRIPT reply (script cache flushed, or a
 * failover) falls back to EVAL, which also caches the script again.
 *
 * Failures: when Redis cannot be reached, times out or replies with an
 * error, the connection is dropped and the decision is the handle's
 * policy: admitted (fail open) or denied (fail closed), with
 * LG_RL_R_DEGRADED set.  For retry_interval_ms after a failure, decisions
 * use the policy at once instead of waiting for a new timeout; then the
 * next call reconnects.  lg_rl_redis_error() tells what went wrong.
 * Redis restarted without persistence starts every bucket full again.
 */
typedef struct lg_rl_redis lg_rl_redis_t;

/** Settings of lg_rl_redis_new(); start from lg_rl_redis_config_init(). */
typedef struct lg_rl_redis_config {
    const char *host;           /**< IP address or name; copied */
    uint16_t port;              /**< TCP port */
    uint32_t timeout_ms;        /**< connect and per-command timeout; >= 1 */
    uint32_t retry_interval_ms; /**< wait after a failure before reconnecting */
    uint32_t fail_open;         /**< 1: admit while Redis fails; 0: deny */
    const char *key_prefix;     /**< prepended to every key; copied */
} lg_rl_redis_config_t;

/**
 * Defaults: host "127.0.0.1", port 6379, timeout_ms 50,
 * retry_interval_ms 1000, fail_open 0 (fail closed), key_prefix "lg:rl:".
 * NULL is ignored.
 */
LG_API void lg_rl_redis_config_init(lg_rl_redis_config_t *cfg);

/**
 * Create a handle.  It connects lazily, on the first decision, so a Redis
 * that is down at startup only degrades decisions.
 *
 * @param cfg settings, copied.
 * @param out the handle, released with lg_rl_redis_free(); NULL on failure.
 * @return LG_OK, LG_E_INVAL (NULL argument, NULL or empty host, timeout 0,
 *         fail_open not 0 or 1), or LG_E_NOMEM.
 */
LG_API lg_status_t lg_rl_redis_new(const lg_rl_redis_config_t *cfg,
                                   lg_rl_redis_t **out);

/** Close the connection and free the handle; NULL is ignored. */
LG_API void lg_rl_redis_free(lg_rl_redis_t *r);

/**
 * Decide one request in Redis (one round trip).  The result has the
 * meaning of lg_rl_decide()'s on the server's clock, at microsecond
 * resolution; or it is the fail policy with LG_RL_R_DEGRADED set.  A cost
 * above the burst is denied (LG_RL_NEVER) without asking Redis.
 *
 * @param r       the handle.
 * @param limit   from lg_rl_limit_init(); its span (burst * interval_ns)
 *                must be below 2^52 ns - LG_RL_CLOCK_STEP (52 days), so
 *                that the script's double arithmetic is exact.
 * @param key     key bytes (binary-safe); NULL only when keylen is 0.
 * @param keylen  its length.
 * @param cost    the request's cost.
 * @param out     the decision; zeroed on failure.
 * @return LG_OK (including degraded decisions), LG_E_INVAL (NULL argument,
 *         invalid limit), or LG_E_NOMEM.  Thread-safe (serialized).
 */
LG_API lg_status_t lg_rl_redis_decide(lg_rl_redis_t *r,
                                      const lg_rl_limit_t *limit,
                                      const void *key, size_t keylen,
                                      uint32_t cost, lg_rl_result_t *out);

/** One request of a batch (lg_rl_redis_decide_many()). */
typedef struct lg_rl_request {
    const void *key; /**< key bytes; NULL only when keylen is 0 */
    size_t keylen;
    uint32_t cost;
} lg_rl_request_t;

/**
 * Decide `n` requests in one pipelined round trip: the same results as n
 * calls of lg_rl_redis_decide() in order, but each script still runs
 * atomically on its own.  If the connection fails part way, every request
 * without a reply gets the fail policy (Redis may still have charged the
 * ones it received).  A request whose cost exceeds the burst is denied
 * locally, with reset_after_ns and remaining 0 (not asked).
 *
 * @param out  n results; all zeroed on failure.
 * @return as lg_rl_redis_decide(); LG_E_INVAL also when reqs or out is
 *         NULL with n > 0.
 */
LG_API lg_status_t lg_rl_redis_decide_many(lg_rl_redis_t *r,
                                           const lg_rl_limit_t *limit,
                                           const lg_rl_request_t *reqs,
                                           size_t n, lg_rl_result_t *out);

/**
 * The last failure's description (for example "Connection refused"), or ""
 * when the last call reached Redis.  Borrowed: valid until the next call
 * on `r`.  Never NULL; "" for a NULL handle.
 */
LG_API const char *lg_rl_redis_error(const lg_rl_redis_t *r);

#ifdef __cplusplus
}
#endif

#endif /* LG_RATELIMIT_H */
