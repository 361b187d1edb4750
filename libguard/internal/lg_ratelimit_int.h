/* Rate limits: what the store and the Redis backend share with bucket.c. */
#ifndef LG_RATELIMIT_INT_H
#define LG_RATELIMIT_INT_H

#include <stdbool.h>

#include "internal/lg_internal.h"

/* The limit is one lg_rl_limit_init() could have made. */
LGI_HIDDEN bool lgi_rl_limit_ok(const lg_rl_limit_t *limit);

/* lg_rl_decide() without the argument checks. */
LGI_HIDDEN void lgi_rl_decide(const lg_rl_limit_t *limit, lg_rl_bucket_t *b,
                              uint64_t now, uint32_t cost,
                              lg_rl_result_t *out);

#endif /* LG_RATELIMIT_INT_H */
