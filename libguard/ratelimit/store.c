/*
 * The in-process store: a set-associative table of GCRA buckets, striped
 * mutexes, and an eviction policy that only ever forgets idle buckets
 * (see lg_rl_store_t in lg_ratelimit.h).
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
    unsigned char hkey[crypto_shorthash_KEYBYTES];
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
    crypto_shorthash_keygen(s->hkey);
    atomic_init(&s->entries, 0);
    atomic_init(&s->evictions, 0);
    atomic_init(&s->full, 0);
    *out = s;
    return LG_OK;
}

/*
 * A key's slot in `set`, or a slot for it: an empty one, else the idle one
 * with the oldest tat.  NULL when every slot holds a busy bucket; then
 * *min_tat is the earliest time one of them becomes idle.
 */
static struct lgi_rl_slot *
find_slot(struct lgi_rl_set *set, uint64_t fp, uint64_t now, int *found,
          struct lgi_rl_slot **free_slot, uint64_t *min_tat)
{
    struct lgi_rl_slot *empty = NULL, *oldest = NULL;

    *found = 0;
    for (unsigned w = 0; w < LG_RL_STORE_WAYS; w++) {
        struct lgi_rl_slot *sl = &set->slot[w];

        if (sl->fp == fp) {
            *found = 1;
            return sl;
        }
        if (sl->fp == 0) {
            empty = empty != NULL ? empty : sl;
        } else if (oldest == NULL || sl->tat < oldest->tat) {
            oldest = sl;
        }
    }
    *min_tat = oldest != NULL ? oldest->tat : UINT64_MAX;
    if (empty != NULL) {
        *free_slot = empty;
    } else if (oldest != NULL && oldest->tat <= now) {
        *free_slot = oldest; /* idle: forgetting it loses nothing */
    } else {
        *free_slot = NULL;
    }
    return NULL;
}

lg_status_t
lg_rl_store_decide(lg_rl_store_t *store, const lg_rl_limit_t *limit,
                   const void *key, size_t keylen, uint32_t cost,
                   uint64_t now_ns, lg_rl_result_t *out)
{
    unsigned char h8[crypto_shorthash_BYTES];
    uint64_t h, fp, set_idx, min_tat = UINT64_MAX;
    struct lgi_rl_set *set;
    struct lgi_rl_slot *sl, *free_slot = NULL;
    pthread_mutex_t *m;
    lg_rl_bucket_t b;
    int found;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    if (store == NULL || !lgi_rl_limit_ok(limit) || out == NULL ||
        (key == NULL && keylen != 0)) {
        return LG_E_INVAL;
    }
    crypto_shorthash(h8, key != NULL ? key : (const void *)"",
                     (unsigned long long)keylen, store->hkey);
    memcpy(&h, h8, sizeof(h));
    fp = h != 0 ? h : 1;
    /* nsets <= 2^29: the product fits in 64 bits (Lemire's fastrange). */
    set_idx = ((h >> 32) * store->nsets) >> 32;
    set = &store->sets[set_idx];
    m = &store->locks[set_idx & store->lock_mask].m;

    pthread_mutex_lock(m);
    sl = find_slot(set, fp, now_ns, &found, &free_slot, &min_tat);
    if (found) {
        b.tat = sl->tat;
        lgi_rl_decide(limit, &b, now_ns, cost, out);
        sl->tat = b.tat;
        pthread_mutex_unlock(m);
        return LG_OK;
    }
    /* A new key: its bucket is fresh.  Only an admission that charged
     * something needs a slot. */
    b.tat = 0;
    lgi_rl_decide(limit, &b, now_ns, cost, out);
    if (!out->allowed || b.tat <= now_ns) {
        pthread_mutex_unlock(m);
        return LG_OK;
    }
    if (free_slot != NULL) {
        if (free_slot->fp == 0) {
            atomic_fetch_add_explicit(&store->entries, 1, memory_order_relaxed);
        } else {
            atomic_fetch_add_explicit(&store->evictions, 1,
                                      memory_order_relaxed);
        }
        free_slot->fp = fp;
        free_slot->tat = b.tat;
        pthread_mutex_unlock(m);
        return LG_OK;
    }
    pthread_mutex_unlock(m);
    /* The set is full of busy buckets: never evict one of them. */
    atomic_fetch_add_explicit(&store->full, 1, memory_order_relaxed);
    out->flags |= LG_RL_R_STORE_FULL;
    if ((store->flags & LG_RL_STORE_ADMIT_WHEN_FULL) == 0) {
        out->allowed = 0;
        out->remaining = 0;
        out->retry_after_ns = min_tat - now_ns; /* > 0: all are busy */
        out->reset_after_ns = out->retry_after_ns;
    }
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
