/*
 * Internals of the PASETO v4 / PASERK module (libguard/token/).  Never
 * installed; symbols are lgi_* with hidden visibility.
 */
#ifndef LG_TOKEN_INT_H
#define LG_TOKEN_INT_H

#include <stdint.h>

#include "../internal/lg_internal.h"
#include "libguard/lg_token.h"

/* Ed25519 secret keys are seed || public key; the largest raw key. */
#define LGI_KEY_MAX_BYTES 64

struct lg_key {
    lg_key_type_t type;
    size_t len;                     /* bytes used in `bytes` */
    uint8_t bytes[LGI_KEY_MAX_BYTES];
    size_t id_len;                  /* without the NUL */
    char id[LG_KEY_ID_MAX];         /* k4.lid / k4.pid / k4.sid */
};

/* Unpadded base64url length of n bytes (no NUL). */
static inline size_t
lgi_b64_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/*
 * Whether s[0..n) is all base64url characters.  libsodium 1.0.18's
 * sodium_base642bin() takes some bytes >= 0x80 for base64 characters (its
 * constant-time comparisons go wrong on sign-extended chars), which would
 * make PASERKs and tokens malleable; every decode checks this first.  No
 * data-dependent branch: PASERK strings are secret.
 */
static inline int
lgi_b64url_valid(const char *s, size_t n)
{
    unsigned bad = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];

        bad |= 1u ^ (unsigned)((c - 'A' < 26u) | (c - 'a' < 26u) |
                               (c - '0' < 10u) | (c == '-') | (c == '_'));
    }
    return bad == 0;
}

/*
 * lg_token_encrypt() with a given 32-byte nonce instead of a random one:
 * the known-answer vectors fix the nonce.  Nothing else may call it (a
 * repeated nonce under one key is fatal to XChaCha20).
 */
LGI_HIDDEN lg_status_t lgi_token_encrypt_nonce(
    const lg_key_t *key, const uint8_t nonce[32], const void *payload,
    size_t payload_len, const void *footer, size_t footer_len,
    const void *implicit, size_t implicit_len, char *tok, size_t cap,
    size_t *needed);

/*
 * Claim checks of an authenticated payload (see lg_token_opts_t); `now`
 * is already resolved.  LG_OK, LG_E_TOKEN, or LG_E_NOMEM when jansson
 * ran out of memory parsing the claims (the token is refused either way).
 */
LGI_HIDDEN lg_status_t lgi_claims_check(const uint8_t *payload, size_t len,
                                        const lg_token_opts_t *o,
                                        int64_t now);

#endif /* LG_TOKEN_INT_H */
