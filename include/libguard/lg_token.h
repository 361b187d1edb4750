/*
 * libguard: PASETO v4 tokens and PASERK keys.
 *
 * v4.local tokens are encrypted and authenticated with a symmetric key
 * (XChaCha20, BLAKE2b-MAC); v4.public tokens are signed with Ed25519 and
 * readable by anyone.  Keys are PASERK strings, so a key carries its
 * version and purpose: "k4.local." (symmetric), "k4.secret." (Ed25519
 * secret key, 64 bytes: seed || public key) and "k4.public." (Ed25519
 * public key).  Each key has a PASERK id ("k4.lid.", "k4.sid.",
 * "k4.pid."), which a token names in its footer as {"kid": "..."} so that
 * a verifier holding several keys (a key ring) picks the right one and
 * keys can rotate.
 *
 * Verification is all or nothing: a token that is malformed, too long,
 * of another version or purpose, for another key, forged, carries another
 * footer or implicit assertion, or fails a claim check returns LG_E_TOKEN
 * and nothing else (no oracle).  Claims (exp, nbf, iat, aud, iss, sub) are
 * checked only once the token is authenticated.  MACs and footers are
 * compared in constant time, and keys and derived keys are wiped with
 * sodium_memzero when released.
 *
 * Threading: a key is immutable once made; any number of threads may use
 * one key at once.  A key ring is changed only by lg_keyring_add(), which
 * must not run at the same time as any other call on that ring; lookups and
 * verifications on an unchanging ring are safe from any thread.
 */
#ifndef LG_TOKEN_H
#define LG_TOKEN_H

#include "lg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sizes.  Each is also a function (for bindings, as in libsodium). */

/** Raw bytes of a k4.local key. */
#define LG_KEY_LOCAL_BYTES 32
/** Raw bytes of a k4.public key (Ed25519 public key). */
#define LG_KEY_PUBLIC_BYTES 32
/** Raw bytes of a k4.secret key (Ed25519 seed || public key). */
#define LG_KEY_SECRET_BYTES 64
/** Room for any PASERK key string written by lg_key_paserk(), with NUL. */
#define LG_KEY_PASERK_MAX 97
/** Room for any PASERK id written by lg_key_id(), with its NUL. */
#define LG_KEY_ID_MAX 52
/**
 * Longest token accepted or produced, in bytes (without a NUL).  Longer
 * tokens fail verification; issuing one returns LG_E_LIMIT.
 */
#define LG_TOKEN_MAX 65536
/** Longest footer parsed as JSON to find a key ring's "kid". */
#define LG_TOKEN_FOOTER_JSON_MAX 8192
/** Default clock-skew allowance of lg_token_opts_init(), in seconds. */
#define LG_TOKEN_SKEW_DEFAULT 60

LG_API size_t lg_key_local_bytes(void);
LG_API size_t lg_key_public_bytes(void);
LG_API size_t lg_key_secret_bytes(void);
LG_API size_t lg_key_paserk_max(void);
LG_API size_t lg_key_id_max(void);
LG_API size_t lg_token_max(void);

/** A key's type, which is also its purpose. */
typedef enum lg_key_type {
    LG_KEY_LOCAL = 1,  /**< k4.local: issues and verifies v4.local */
    LG_KEY_PUBLIC = 2, /**< k4.public: verifies v4.public */
    LG_KEY_SECRET = 3  /**< k4.secret: issues (signs) v4.public */
} lg_key_type_t;

/** An immutable key.  Released (and wiped) with lg_key_free(). */
typedef struct lg_key lg_key_t;

/** A set of keys found by their ids.  Released with lg_keyring_free(). */
typedef struct lg_keyring lg_keyring_t;

/**
 * Generate a new random key.
 *
 * @param type LG_KEY_LOCAL or LG_KEY_SECRET (a key pair: get the public
 *             half with lg_key_public()).
 * @param out  receives the key; NULL on failure.
 * @return LG_OK, LG_E_INVAL (NULL out, LG_KEY_PUBLIC or an unknown type),
 *         LG_E_NOMEM, or what lg_init() returns.
 */
LG_API lg_status_t lg_key_generate(lg_key_type_t type, lg_key_t **out);

/**
 * Parse a PASERK key string: "k4.local.", "k4.public." or "k4.secret."
 * followed by the key in unpadded base64url.  Anything else is refused:
 * another version ("k3."), an id or wrapped key type, padding, characters
 * outside base64url, non-canonical trailing bits, a wrong length, or a
 * secret key whose public half does not belong to its seed.
 *
 * @param s,len the string; it need not be NUL-terminated.
 * @param out   receives the key; NULL on failure.
 * @return LG_OK, LG_E_INVAL (NULL argument or a malformed PASERK),
 *         LG_E_NOMEM, or what lg_init() returns.
 */
LG_API lg_status_t lg_key_from_paserk(const char *s, size_t len,
                                      lg_key_t **out) LG_WARN_UNUSED;

/**
 * Make a key from raw bytes: 32 for LG_KEY_LOCAL and LG_KEY_PUBLIC, 64 for
 * LG_KEY_SECRET (Ed25519 seed || public key; the public key must be the
 * seed's).
 *
 * @param bytes,len the key bytes; copied.
 * @param out receives the key; NULL on failure.
 * @return LG_OK, LG_E_INVAL (NULL argument, unknown type, wrong length,
 *         inconsistent secret key), LG_E_NOMEM, or what lg_init() returns.
 */
LG_API lg_status_t lg_key_from_bytes(lg_key_type_t type, const void *bytes,
                                     size_t len,
                                     lg_key_t **out) LG_WARN_UNUSED;

/**
 * The public half of a secret key, as a new LG_KEY_PUBLIC key.
 *
 * @return LG_OK, LG_E_INVAL (NULL argument, or `k` is not a secret key),
 *         LG_E_NOMEM.
 */
LG_API lg_status_t lg_key_public(const lg_key_t *k, lg_key_t **out);

/** The key's type; 0 for NULL. */
LG_API lg_key_type_t lg_key_type(const lg_key_t *k);

/**
 * Write the key as a PASERK string ("k4.local.…", "k4.public.…",
 * "k4.secret.…"), NUL-terminated.  This is secret for local and secret
 * keys: wipe the buffer after use.
 *
 * @param buf,cap destination; LG_KEY_PASERK_MAX always suffices.  buf may
 *                be NULL when cap is 0.
 * @param needed  receives the size needed including the NUL; may be NULL.
 * @return LG_OK, LG_E_NOSPACE (buf untouched), LG_E_INVAL.
 */
LG_API lg_status_t lg_key_paserk(const lg_key_t *k, char *buf, size_t cap,
                                 size_t *needed);

/**
 * Write the key's PASERK id, NUL-terminated: "k4.lid." for a local key,
 * "k4.pid." for a public key, "k4.sid." for a secret key (its public
 * half's id is lg_key_public() then lg_key_id()).  Ids are not secret.
 *
 * @param buf,cap destination; LG_KEY_ID_MAX always suffices.
 * @param needed  receives the size needed including the NUL; may be NULL.
 * @return LG_OK, LG_E_NOSPACE (buf untouched), LG_E_INVAL.
 */
LG_API lg_status_t lg_key_id(const lg_key_t *k, char *buf, size_t cap,
                             size_t *needed);

/** Wipe and release a key.  NULL is ignored. */
LG_API void lg_key_free(lg_key_t *k);

/**
 * Create an empty key ring.
 *
 * @return LG_OK, LG_E_INVAL (NULL out), LG_E_NOMEM.
 */
LG_API lg_status_t lg_keyring_new(lg_keyring_t **out);

/**
 * Add a copy of `k` to the ring, found later by its id (lg_key_id()).  To
 * verify v4.public tokens add public keys, to verify v4.local tokens local
 * keys; a token's footer names the key by the id of exactly that key.
 *
 * @return LG_OK, LG_E_INVAL (NULL argument, or a key with the same id is
 *         already in the ring), LG_E_NOMEM (the ring is unchanged).
 */
LG_API lg_status_t lg_keyring_add(lg_keyring_t *ring, const lg_key_t *k);

/** Number of keys in the ring; 0 for NULL. */
LG_API size_t lg_keyring_count(const lg_keyring_t *ring);

/**
 * The key whose id is `id` (for example "k4.lid.…"), or NULL if there is
 * none.  Borrowed: valid until the ring is freed.
 */
LG_API const lg_key_t *lg_keyring_find(const lg_keyring_t *ring,
                                       const char *id, size_t id_len);

/** Wipe and release the ring and its keys.  NULL is ignored. */
LG_API void lg_keyring_free(lg_keyring_t *ring);

/** Flags of lg_token_opts_t. */
/** Fail a token without an "exp" claim (set by lg_token_opts_init()). */
#define LG_TOKEN_REQUIRE_EXP 0x1u
/**
 * Skip claim validation altogether: the payload need not even be JSON.
 * For tokens whose payload is not a claims object.
 */
#define LG_TOKEN_NO_CLAIMS 0x2u

/**
 * How a verified token's claims are checked.  The payload must be a JSON
 * object (duplicate keys refused).  "exp", "nbf" and "iat", when present,
 * must be RFC 3339 date-times (PASETO's registered claims); a token fails
 * when now >= exp + skew, now + skew < nbf, or now + skew < iat.  "aud",
 * "iss" and "sub" must be strings equal to the expected values when these
 * are set (and present then); when an expected value is NULL that claim
 * is not checked.
 */
typedef struct lg_token_opts {
    int64_t now;           /**< Unix time in seconds; 0: the system clock */
    uint32_t skew;         /**< seconds of clock skew allowed; default 60 */
    uint32_t flags;        /**< LG_TOKEN_*; default LG_TOKEN_REQUIRE_EXP */
    const char *audience;  /**< expected "aud" (NUL-terminated) or NULL */
    const char *issuer;    /**< expected "iss" or NULL */
    const char *subject;   /**< expected "sub" or NULL */
} lg_token_opts_t;

/** Fill `o` with the defaults above.  NULL is ignored. */
LG_API void lg_token_opts_init(lg_token_opts_t *o);

/**
 * Size of the buffer that any token issued for a payload and footer of
 * these lengths fits in, including the NUL; SIZE_MAX on overflow.
 */
LG_API size_t lg_token_bound(size_t payload_len, size_t footer_len);

/** Largest payload a token of `tok_len` bytes can carry. */
LG_API size_t lg_token_payload_bound(size_t tok_len);

/**
 * Issue a v4.local token: encrypt and authenticate `payload` with a local
 * key and a random nonce, authenticating the footer (sent in clear, as
 * base64url) and the implicit assertion (not sent) too.  Writes the token,
 * NUL-terminated.
 *
 * The payload is copied as given; to be verified with claim checks it
 * must be a JSON object.  To let a key ring find the key, pass a footer
 * made by lg_token_footer_kid().
 *
 * @param key       an LG_KEY_LOCAL key.
 * @param payload   bytes; may be NULL when payload_len is 0.
 * @param footer    bytes or NULL (no footer); may be NULL when footer_len is 0.
 * @param implicit  implicit assertion or NULL (empty).
 * @param tok,cap   destination; lg_token_bound() always suffices.
 * @param needed    receives the size needed including the NUL; may be NULL.
 * @return LG_OK, LG_E_NOSPACE (tok untouched), LG_E_LIMIT (the token would
 *         be longer than LG_TOKEN_MAX, or the implicit assertion is),
 *         LG_E_INVAL (NULL argument, key not local), LG_E_NOMEM.
 */
LG_API lg_status_t lg_token_encrypt(const lg_key_t *key, const void *payload,
                                    size_t payload_len, const void *footer,
                                    size_t footer_len, const void *implicit,
                                    size_t implicit_len, char *tok, size_t cap,
                                    size_t *needed);

/**
 * Issue a v4.public token: sign `payload`, the footer and the implicit
 * assertion with a secret key.  The payload is readable by anyone.  As
 * lg_token_encrypt() otherwise.
 *
 * @param key an LG_KEY_SECRET key.
 * @return LG_OK, LG_E_NOSPACE, LG_E_LIMIT, LG_E_INVAL (NULL argument, key
 *         not secret), LG_E_NOMEM.
 */
LG_API lg_status_t lg_token_sign(const lg_key_t *key, const void *payload,
                                 size_t payload_len, const void *footer,
                                 size_t footer_len, const void *implicit,
                                 size_t implicit_len, char *tok, size_t cap,
                                 size_t *needed);

/**
 * Write the footer {"kid":"<id>"} naming the key that verifies tokens of
 * `key` (local key: its k4.lid; secret or public key: the k4.pid of the
 * public key), NUL-terminated, without the NUL in the footer's length.
 *
 * @param needed receives the size needed including the NUL; may be NULL.
 * @return LG_OK, LG_E_NOSPACE, LG_E_INVAL, LG_E_NOMEM.
 */
LG_API lg_status_t lg_token_footer_kid(const lg_key_t *key, char *buf,
                                       size_t cap, size_t *needed);

/**
 * Verify a v4.local (local key) or v4.public (public key) token and return
 * its payload.
 *
 * @param key       LG_KEY_LOCAL or LG_KEY_PUBLIC.  A token of the other
 *                  purpose fails.  A "kid" in the footer is not looked at.
 * @param tok       the token; need not be NUL-terminated.
 * @param footer    the footer expected, compared in constant time; NULL
 *                  (with footer_len 0): any footer is accepted.  To require
 *                  no footer, pass "" with footer_len 0.
 * @param implicit  the implicit assertion it was issued with, or NULL.
 * @param opts      claim checks; NULL: lg_token_opts_init() defaults.
 * @param payload,cap destination of the payload (not NUL-terminated);
 *                  lg_token_payload_bound(tok_len) always suffices.
 * @param payload_len receives the payload's length; on LG_E_NOSPACE the
 *                  size needed; otherwise 0 on failure.  May be NULL.
 * @return LG_OK; LG_E_TOKEN for every reason a token is not valid;
 *         LG_E_NOSPACE (decided from the token's length and form alone,
 *         before any key is used); LG_E_INVAL (NULL key or token, a secret
 *         key, unknown flags); LG_E_NOMEM.  On failure the payload buffer
 *         holds no part of the payload.
 */
LG_API lg_status_t lg_token_verify(const lg_key_t *key, const char *tok,
                                   size_t tok_len, const void *footer,
                                   size_t footer_len, const void *implicit,
                                   size_t implicit_len,
                                   const lg_token_opts_t *opts, void *payload,
                                   size_t cap,
                                   size_t *payload_len) LG_WARN_UNUSED;

/**
 * As lg_token_verify(), with the key picked from `ring` by the "kid" of
 * the token's footer, which must be a JSON object of at most
 * LG_TOKEN_FOOTER_JSON_MAX bytes whose "kid" is the id of a local key (for
 * v4.local) or a public key (for v4.public) in the ring.  A token without
 * such a footer, or naming a key that is not in the ring, fails with
 * LG_E_TOKEN.
 */
LG_API lg_status_t lg_token_verify_ring(const lg_keyring_t *ring,
                                        const char *tok, size_t tok_len,
                                        const void *footer, size_t footer_len,
                                        const void *implicit,
                                        size_t implicit_len,
                                        const lg_token_opts_t *opts,
                                        void *payload, size_t cap,
                                        size_t *payload_len) LG_WARN_UNUSED;

/**
 * Parse an RFC 3339 date-time ("2026-01-31T12:00:00Z", with optional
 * fraction, which is dropped, and a "Z" or "+hh:mm" offset) as Unix time.
 *
 * @return LG_OK, LG_E_INVAL (NULL argument, malformed or out-of-range).
 */
LG_API lg_status_t lg_token_time_parse(const char *s, size_t len,
                                       int64_t *out);

/**
 * Format Unix time as "YYYY-MM-DDThh:mm:ssZ", NUL-terminated (21 bytes).
 *
 * @return LG_OK, LG_E_NOSPACE, LG_E_INVAL (NULL buffer, a year outside
 *         0000..9999).
 */
LG_API lg_status_t lg_token_time_format(int64_t t, char *buf, size_t cap,
                                        size_t *needed);

#ifdef __cplusplus
}
#endif

#endif /* LG_TOKEN_H */
