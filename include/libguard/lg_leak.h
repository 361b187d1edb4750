/*
 * libguard: finding a deployment's secret text (its system prompt, or a
 * canary token planted in it) in model output.
 *
 * A leak detector is built once from the secret and is immutable: share it
 * between threads.  lg_leak_find() allocates nothing.  Attached to a scratch
 * (lg_scratch_set_leak()), it adds its findings to every completion scan.
 *
 * Matching ignores ASCII case and how whitespace is laid out, so a prompt
 * that comes back re-wrapped or re-cased is still found.  A fragment counts
 * when at least `min_fragment` characters of the secret (after that
 * folding) appear verbatim; a secret shorter than that must appear whole.
 */
#ifndef LG_LEAK_H
#define LG_LEAK_H

#include "lg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lg_leak lg_leak_t;

/** Options of a leak detector. */
typedef struct lg_leak_opts {
    size_t min_fragment; /**< shortest leaked fragment reported, in bytes of
                              folded text: 8 to 1024, default 40 */
} lg_leak_opts_t;

/** Fill `o` with the defaults.  NULL is ignored. */
LG_API void lg_leak_opts_init(lg_leak_opts_t *o);

/** Largest secret accepted: 1 MiB. */
#define LG_LEAK_MAX_SECRET ((size_t)1 << 20)

/**
 * Build a detector for `secret` (any bytes; typically UTF-8 text).
 *
 * @param secret the text to look for; copied.
 * @param len    its length: 1 to LG_LEAK_MAX_SECRET, with at least one
 *               character that is not whitespace.
 * @param opts   NULL for the defaults.
 * @param out    receives the detector; NULL on failure.
 * @return LG_OK, LG_E_INVAL (NULL argument, empty or blank secret, option
 *         out of range), LG_E_LIMIT (secret too long), LG_E_NOMEM.
 */
LG_API lg_status_t lg_leak_new(const void *secret, size_t len,
                               const lg_leak_opts_t *opts, lg_leak_t **out);

/** Free a detector.  NULL is allowed.  Detach it from scratches first. */
LG_API void lg_leak_free(lg_leak_t *l);

/** A span of the scanned text, [start, end) in bytes. */
typedef struct lg_span {
    size_t start;
    size_t end;
} lg_span_t;

/**
 * Find the fragments of the secret in text[0..len): maximal spans, in
 * order, that do not overlap.  Linear in len; allocates nothing; safe to
 * call from several threads at once.
 *
 * @param spans,cap where to write up to `cap` spans (spans may be NULL when
 *                  cap is 0).
 * @param n         receives the number of spans found, which may exceed
 *                  cap (then only the first cap are written).
 * @return LG_OK, LG_E_INVAL, LG_E_LIMIT (len of 4 GiB or more).
 */
LG_API lg_status_t lg_leak_find(const lg_leak_t *l, const void *text,
                                size_t len, lg_span_t *spans, size_t cap,
                                size_t *n);

/**
 * Room for a canary token and its NUL: "lg-canary-" and 24 hex digits (96
 * random bits).  At 34 characters it is shorter than the default
 * min_fragment, so a detector built from it wants the whole token.
 */
#define LG_CANARY_SIZE 35

/**
 * Write a new random canary token (from libsodium's CSPRNG) to `buf`,
 * NUL-terminated.  Put it in the system prompt and build a detector from
 * it: a completion that carries it has leaked the prompt.
 *
 * @return LG_OK, or LG_E_INVAL (NULL buf or cap < LG_CANARY_SIZE).
 */
LG_API lg_status_t lg_canary_new(char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* LG_LEAK_H */
