/*
 * The in-process store: a set-associative table of GCRA buckets with two
 * candidate sets per key, striped mutexes, and an eviction policy that
 * only ever forgets idle buckets (see lg_rl_store_t in lg_ratelimit.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <sodium.h>

#include "internal/lg_internal.h"
#include "internal/lg_ratelimit_int.h"

#define LGI_RL_LINE 64u       /* cache line: sets and locks are aligned */
#define LGI_RL_MAX_LOCKS 1024u /* stripes; a power of two */

_Static_assert(LG_RL_STORE_WAYS * 16u == 2u * LGI_RL_LINE,
               "a set is two cache lines");

struct lgi_rl_slot {
    uint64_t fp;  /* keyed hash of the key; 0: empty */
    uint64_t tat; /* the bucket */
};

struct lgi_rl_set {
    struct lgi_rl_slot slot[LG_RL_STORE_WAYS];
};

union lgi_rl_lock {
    pthread_mutex_t m;
    unsigned char pad[LGI_RL_LINE]; /* one stripe per line: no false sharing */
};

struct lg_rl_store {
    struct lgi_rl_set *sets; /* aligned into sets_mem */
    void *sets_mem;
    union lgi_rl_lock *locks; /* aligned into locks_mem */
    void *locks_mem;
    uint64_t nsets;
    uint32_t lock_mask;
    uint32_t flags;
    unsigned char hkey[crypto_shorthash_siphashx24_KEYBYTES];
    atomic_uint_fast64_t max_span; /* longest span decided with so far */
    atomic_uint_fast64_t entries;
    atomic_uint_fast64_t evictions;
    atomic_uint_fast64_t full;
};

_Static_assert(sizeof(pthread_mutex_t) <= LGI_RL_LINE, "mutex fits a line");

static void *
align_up(void *p)
{
    uintptr_t u = (uintptr_t)p;

    return (void *)((u + LGI_RL_LINE - 1) & ~(uintptr_t)(LGI_RL_LINE - 1));
}

void
lg_rl_store_free(lg_rl_store_t *store)
{
    if (store == NULL) {
        return;
    }
    for (uint32_t i = 0; i <= store->lock_mask; i++) {
        pthread_mutex_destroy(&store->locks[i].m);
    }
    sodium_memzero(store->hkey, sizeof(store->hkey));
    lgi_free(store->locks_mem);
    lgi_free(store->sets_mem);
    lgi_free(store);
}

lg_status_t
lg_rl_store_new(uint64_t capacity, uint32_t flags, lg_rl_store_t **out)
{
    lg_rl_store_t *s = NULL;
    uint64_t nsets;
    uint32_t nlocks = 1, i;
    size_t bytes;
    lg_status_t rc;

    if (out == NULL) {
        return LG_E_INVAL;
    }
    *out = NULL;
    if (capacity == 0 || capacity > LG_RL_STORE_MAX_CAPACITY ||
        (flags & ~LG_RL_STORE_ADMIT_WHEN_FULL) != 0) {
        return LG_E_INVAL;
    }
    rc = lg_init();
    if (rc != LG_OK) {
        return rc;
    }
    nsets = (capacity + LG_RL_STORE_WAYS - 1) / LG_RL_STORE_WAYS;
    while (nlocks < LGI_RL_MAX_LOCKS && nlocks < nsets) {
        nlocks *= 2;
    }
    s = lgi_calloc(1, sizeof(*s));
    if (s == NULL) {
        return LG_E_NOMEM;
    }
    /* nsets <= 2^29, so these cannot overflow a 64-bit size_t; the checks
     * are for 32-bit builds. */
    if (lgi_mul_overflow((size_t)nsets, sizeof(struct lgi_rl_set), &bytes) ||
        lgi_add_overflow(bytes, LGI_RL_LINE, &bytes)) {
        lgi_free(s);
        return LG_E_NOMEM;
    }
    s->sets_mem = lgi_calloc(1, bytes);
    s->locks_mem = lgi_calloc(1, (size_t)nlocks * LGI_RL_LINE + LGI_RL_LINE);
    if (s->sets_mem == NULL || s->locks_mem == NULL) {
        lgi_free(s->sets_mem);
        lgi_free(s->locks_mem);
        lgi_free(s);
        return LG_E_NOMEM;
    }
    s->sets = align_up(s->sets_mem);
    s->locks = align_up(s->locks_mem);
    for (i = 0; i < nlocks; i++) {
        if (pthread_mutex_init(&s->locks[i].m, NULL) != 0) {
            while (i-- > 0) {                        /* LCOV_EXCL_LINE */
                pthread_mutex_destroy(&s->locks[i].m); /* LCOV_EXCL_LINE */
            }
            lgi_free(s->sets_mem); /* LCOV_EXCL_LINE */
            lgi_free(s->locks_mem); /* LCOV_EXCL_LINE */
            lgi_free(s);            /* LCOV_EXCL_LINE */
            return LG_E_NOMEM;      /* LCOV_EXCL_LINE */
        }
    }
    s->nsets = nsets;
    s->lock_mask = nlocks - 1;
    s->flags = flags;
    randombytes_buf(s->hkey, sizeof(s->hkey));
    atomic_init(&s->max_span, 0);
    atomic_init(&s->entries, 0);
    atomic_init(&s->evictions, 0);
    atomic_init(&s->full, 0);
    *out = s;
    return LG_OK;
}

/* Where a key may live, and what was found there. */
struct lgi_rl_probe {
    struct lgi_rl_set *set[2];
    struct lgi_rl_slot *found;  /* the key's slot, or NULL */
    struct lgi_rl_slot *free;   /* empty, else the oldest idle; or NULL */
    uint64_t min_tat;           /* earliest tat of the occupied slots */
};

/*
 * Look for `fp` in both sets; when absent, choose a slot for it: an empty
 * one (in the emptier set), else the idle one with the oldest tat.
 *
 * A bucket more than max_span + LG_RL_CLOCK_STEP ahead of `now` cannot
 * come from a monotonic clock (every bucket was charged with a span of at
 * most max_span): the clock was stepped back.  Such buckets are repaired
 * here as lg_rl_decide() repairs its own, to just emptied for the longest
 * span, so that after a step back new keys wait at most that long for a
 * slot, not the whole step.
 */
static void
probe(struct lgi_rl_probe *p, uint64_t fp, uint64_t now, uint64_t max_span)
{
    struct lgi_rl_slot *empty = NULL, *oldest = NULL;
    unsigned most_empty = 0, nsets = p->set[0] == p->set[1] ? 1 : 2;

    p->found = NULL;
    for (unsigned k = 0; k < nsets; k++) {
        struct lgi_rl_slot *first_empty = NULL;
        unsigned nempty = 0;

        for (unsigned w = 0; w < LG_RL_STORE_WAYS; w++) {
            struct lgi_rl_slot *sl = &p->set[k]->slot[w];

            if (sl->fp == fp) {
                p->found = sl;
                return;
            }
            if (sl->fp == 0) {
                first_empty = first_empty != NULL ? first_empty : sl;
                nempty++;
                continue;
            }
            if (sl->tat > now && sl->tat - now > max_span + LG_RL_CLOCK_STEP) {
                sl->tat =
                    now > UINT64_MAX - max_span ? UINT64_MAX : now + max_span;
            }
            if (oldest == NULL || sl->tat < oldest->tat) {
                oldest = sl;
            }
        }
        if (nempty > most_empty) {
            most_empty = nempty;
            empty = first_empty;
        }
    }
    p->min_tat = oldest != NULL ? oldest->tat : UINT64_MAX;
    if (empty != NULL) {
        p->free = empty;
    } else if (oldest != NULL && oldest->tat <= now) {
        p->free = oldest; /* idle: forgetting it loses nothing */
    } else {
        p->free = NULL;
    }
}

lg_status_t
lg_rl_store_decide(lg_rl_store_t *store, const lg_rl_limit_t *limit,
                   const void *key, size_t keylen, uint32_t cost,
                   uint64_t now_ns, lg_rl_result_t *out)
{
    unsigned char h16[crypto_shorthash_siphashx24_BYTES];
    uint64_t h[2], fp, idx[2], max_span;
    pthread_mutex_t *m[2];
    struct lgi_rl_probe p;
    lg_rl_bucket_t b;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    if (store == NULL || !lgi_rl_limit_ok(limit) || out == NULL ||
        (key == NULL && keylen != 0)) {
        return LG_E_INVAL;
    }
    /* Two-choice hashing: a key may live in either of two sets, which
     * keeps sets from overflowing at loads where one choice would. */
    crypto_shorthash_siphashx24(h16,
                                key != NULL ? key : (const unsigned char *)"",
                                (unsigned long long)keylen, store->hkey);
    memcpy(h, h16, sizeof(h));
    fp = h[0] != 0 ? h[0] : 1;
    for (int k = 0; k < 2; k++) {
        /* nsets <= 2^29: the product fits (Lemire's fastrange). */
        idx[k] = ((h[k] >> 32) * store->nsets) >> 32;
        p.set[k] = &store->sets[idx[k]];
        /* Four cache misses in a large table: start them all at once. */
        __builtin_prefetch(&p.set[k]->slot[0], 1);
        __builtin_prefetch(&p.set[k]->slot[LG_RL_STORE_WAYS / 2], 1);
    }
    /* Stripes are locked in index order: no deadlock between two keys. */
    m[0] = &store->locks[idx[0] & store->lock_mask].m;
    m[1] = &store->locks[idx[1] & store->lock_mask].m;
    if ((idx[0] & store->lock_mask) > (idx[1] & store->lock_mask)) {
        pthread_mutex_t *t = m[0];

        m[0] = m[1];
        m[1] = t;
    }

    max_span = atomic_load_explicit(&store->max_span, memory_order_relaxed);
    while (limit->span_ns > max_span &&
           !atomic_compare_exchange_weak_explicit(
               &store->max_span, &max_span, limit->span_ns,
               memory_order_relaxed, memory_order_relaxed)) {
    }
    if (limit->span_ns > max_span) {
        max_span = limit->span_ns;
    }

    pthread_mutex_lock(m[0]);
    if (m[1] != m[0]) {
        pthread_mutex_lock(m[1]);
    }
    probe(&p, fp, now_ns, max_span);
    if (p.found != NULL) {
        b.tat = p.found->tat;
        lgi_rl_decide(limit, &b, now_ns, cost, out);
        p.found->tat = b.tat;
    } else {
        /* A new key: its bucket is fresh.  Only an admission that charged
         * something needs a slot. */
        b.tat = 0;
        lgi_rl_decide(limit, &b, now_ns, cost, out);
        if (out->allowed && b.tat > now_ns) {
            if (p.free != NULL) {
                atomic_fetch_add_explicit(p.free->fp == 0 ? &store->entries
                                                          : &store->evictions,
                                          1, memory_order_relaxed);
                p.free->fp = fp;
                p.free->tat = b.tat;
            } else {
                /* Both sets are full of busy buckets: never evict one. */
                atomic_fetch_add_explicit(&store->full, 1,
                                          memory_order_relaxed);
                out->flags |= LG_RL_R_STORE_FULL;
                if ((store->flags & LG_RL_STORE_ADMIT_WHEN_FULL) == 0) {
                    out->allowed = 0;
                    out->remaining = 0;
                    out->retry_after_ns = p.min_tat - now_ns; /* > 0 */
                    out->reset_after_ns = out->retry_after_ns;
                }
            }
        }
    }
    if (m[1] != m[0]) {
        pthread_mutex_unlock(m[1]);
    }
    pthread_mutex_unlock(m[0]);
    return LG_OK;
}

lg_status_t
lg_rl_store_stats(const lg_rl_store_t *store, lg_rl_store_stats_t *out)
{
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    if (store == NULL || out == NULL) {
        return LG_E_INVAL;
    }
    out->capacity = store->nsets * LG_RL_STORE_WAYS;
    out->entries = atomic_load_explicit(&store->entries, memory_order_relaxed);
    out->evictions =
        atomic_load_explicit(&store->evictions, memory_order_relaxed);
    out->full = atomic_load_explicit(&store->full, memory_order_relaxed);
    return LG_OK;
}
