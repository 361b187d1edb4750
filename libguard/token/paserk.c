/*
 * PASERK keys (k4.local, k4.public, k4.secret), their ids (k4.lid, k4.pid,
 * k4.sid) and key rings.  Base64url is libsodium's, unpadded and strict:
 * sodium_base642bin refuses padding, stray characters and non-zero
 * trailing bits, so every key has exactly one PASERK string.
 */
#include <string.h>

#include <sodium.h>

#include "token_int.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define ID_HASH_BYTES 33 /* BLAKE2b-264: PASERK "ID" operation, v4 */

typedef struct key_kind {
    lg_key_type_t type;
    const char *prefix; /* PASERK of the key */
    const char *id_prefix;
    size_t len;
} key_kind_t;

static const key_kind_t kinds[] = {
    {LG_KEY_LOCAL, "k4.local.", "k4.lid.", LG_KEY_LOCAL_BYTES},
    {LG_KEY_PUBLIC, "k4.public.", "k4.pid.", LG_KEY_PUBLIC_BYTES},
    {LG_KEY_SECRET, "k4.secret.", "k4.sid.", LG_KEY_SECRET_BYTES},
};

_Static_assert(sizeof("k4.secret.") - 1 + LG_KEY_SECRET_BYTES / 3 * 4 +
                       LG_KEY_SECRET_BYTES % 3 + 1 + 1 ==
                   LG_KEY_PASERK_MAX,
               "LG_KEY_PASERK_MAX fits k4.secret");
_Static_assert(sizeof("k4.lid.") - 1 + ID_HASH_BYTES / 3 * 4 + 1 ==
                   LG_KEY_ID_MAX,
               "LG_KEY_ID_MAX fits an id");

size_t
lg_key_local_bytes(void)
{
    return LG_KEY_LOCAL_BYTES;
}

size_t
lg_key_public_bytes(void)
{
    return LG_KEY_PUBLIC_BYTES;
}

size_t
lg_key_secret_bytes(void)
{
    return LG_KEY_SECRET_BYTES;
}

size_t
lg_key_paserk_max(void)
{
    return LG_KEY_PASERK_MAX;
}

size_t
lg_key_id_max(void)
{
    return LG_KEY_ID_MAX;
}

static const key_kind_t *
kind_of(lg_key_type_t type)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (kinds[i].type == type) {
            return &kinds[i];
        }
    }
    return NULL;
}

/* PASERK string of raw key bytes into buf (LG_KEY_PASERK_MAX bytes). */
static size_t
paserk_write(const key_kind_t *kd, const uint8_t *bytes, char *buf)
{
    size_t plen = strlen(kd->prefix);

    memcpy(buf, kd->prefix, plen);
    sodium_bin2base64(buf + plen, LG_KEY_PASERK_MAX - plen, bytes, kd->len,
                      B64);
    return plen + lgi_b64_len(kd->len);
}

/* id = h || base64url(BLAKE2b-264(h || paserk)), h = "k4.?id." */
static void
key_set_id(lg_key_t *k, const key_kind_t *kd)
{
    char paserk[LG_KEY_PASERK_MAX];
    uint8_t d[ID_HASH_BYTES];
    crypto_generichash_state st;
    size_t plen = paserk_write(kd, k->bytes, paserk);
    size_t hlen = strlen(kd->id_prefix);

    crypto_generichash_init(&st, NULL, 0, sizeof(d));
    crypto_generichash_update(&st, (const uint8_t *)kd->id_prefix, hlen);
    crypto_generichash_update(&st, (const uint8_t *)paserk, plen);
    crypto_generichash_final(&st, d, sizeof(d));
    memcpy(k->id, kd->id_prefix, hlen);
    sodium_bin2base64(k->id + hlen, sizeof(k->id) - hlen, d, sizeof(d), B64);
    k->id_len = hlen + lgi_b64_len(sizeof(d));
    sodium_memzero(paserk, sizeof(paserk));
    sodium_memzero(&st, sizeof(st));
}

/* A secret key's public half must be its seed's: a mismatched pair would
 * sign with one key and advertise another. */
static int
secret_consistent(const uint8_t *sk)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], full[crypto_sign_SECRETKEYBYTES];
    int ok;

    crypto_sign_seed_keypair(pk, full, sk);
    ok = sodium_memcmp(pk, sk + crypto_sign_SEEDBYTES, sizeof(pk)) == 0;
    sodium_memzero(full, sizeof(full));
    return ok;
}

static lg_status_t
key_make(const key_kind_t *kd, const uint8_t *bytes, lg_key_t **out)
{
    lg_key_t *k = lgi_calloc(1, sizeof(*k));

    if (k == NULL) {
        return LG_E_NOMEM;
    }
    k->type = kd->type;
    k->len = kd->len;
    memcpy(k->bytes, bytes, kd->len);
    key_set_id(k, kd);
    *out = k;
    return LG_OK;
}

lg_status_t
lg_key_from_bytes(lg_key_type_t type, const void *bytes, size_t len,
                  lg_key_t **out)
{
    const key_kind_t *kd = kind_of(type);
    lg_status_t st;

    if (out == NULL) {
        return LG_E_INVAL;
    }
    *out = NULL;
    if (kd == NULL || bytes == NULL || len != kd->len) {
        return LG_E_INVAL;
    }
    st = lg_init();
    if (st != LG_OK) {
        return st;
    }
    if (type == LG_KEY_SECRET && !secret_consistent(bytes)) {
        return LG_E_INVAL;
    }
    return key_make(kd, bytes, out);
}

lg_status_t
lg_key_from_paserk(const char *s, size_t len, lg_key_t **out)
{
    uint8_t raw[LGI_KEY_MAX_BYTES];
    const key_kind_t *kd = NULL;
    size_t plen = 0, got = 0;
    lg_status_t st;

    if (out == NULL) {
        return LG_E_INVAL;
    }
    *out = NULL;
    if (s == NULL) {
        return LG_E_INVAL;
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        plen = strlen(kinds[i].prefix);
        if (len >= plen && strncmp(s, kinds[i].prefix, plen) == 0) {
            kd = &kinds[i];
            break;
        }
    }
    /* The exact length first: sodium_base642bin is then given a string
     * that can only decode to exactly kd->len bytes. */
    if (kd == NULL || len - plen != lgi_b64_len(kd->len)) {
        return LG_E_INVAL;
    }
    st = lg_init();
    if (st != LG_OK) {
        return st;
    }
    if (!lgi_b64url_valid(s + plen, len - plen) ||
        sodium_base642bin(raw, sizeof(raw), s + plen, len - plen, NULL, &got,
                          NULL, B64) != 0 ||
        got != kd->len) {
        st = LG_E_INVAL;
        goto out;
    }
    st = lg_key_from_bytes(kd->type, raw, got, out);
out:
    sodium_memzero(raw, sizeof(raw));
    return st;
}

lg_status_t
lg_key_generate(lg_key_type_t type, lg_key_t **out)
{
    uint8_t raw[LGI_KEY_MAX_BYTES];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    lg_status_t st;

    if (out == NULL) {
        return LG_E_INVAL;
    }
    *out = NULL;
    if (type != LG_KEY_LOCAL && type != LG_KEY_SECRET) {
        return LG_E_INVAL;
    }
    st = lg_init();
    if (st != LG_OK) {
        return st;
    }
    if (type == LG_KEY_LOCAL) {
        crypto_kdf_keygen(raw); /* 32 random bytes */
    } else {
        crypto_sign_keypair(pk, raw); /* libsodium's sk is seed || pk */
    }
    st = key_make(kind_of(type), raw, out);
    sodium_memzero(raw, sizeof(raw));
    return st;
}

lg_status_t
lg_key_public(const lg_key_t *k, lg_key_t **out)
{
    if (out == NULL) {
        return LG_E_INVAL;
    }
    *out = NULL;
    if (k == NULL || k->type != LG_KEY_SECRET) {
        return LG_E_INVAL;
    }
    return key_make(kind_of(LG_KEY_PUBLIC), k->bytes + crypto_sign_SEEDBYTES,
                    out);
}

lg_key_type_t
lg_key_type(const lg_key_t *k)
{
    return k == NULL ? (lg_key_type_t)0 : k->type;
}

/* Copy a NUL-terminated string of `len` bytes out, snprintf-style. */
static lg_status_t
put_str(const char *s, size_t len, char *buf, size_t cap, size_t *needed)
{
    if (needed != NULL) {
        *needed = len + 1;
    }
    if (buf == NULL && cap > 0) {
        return LG_E_INVAL;
    }
    if (cap < len + 1) {
        return LG_E_NOSPACE;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return LG_OK;
}

lg_status_t
lg_key_paserk(const lg_key_t *k, char *buf, size_t cap, size_t *needed)
{
    char tmp[LG_KEY_PASERK_MAX];
    lg_status_t st;
    size_t n;

    if (needed != NULL) {
        *needed = 0;
    }
    if (k == NULL) {
        return LG_E_INVAL;
    }
    n = paserk_write(kind_of(k->type), k->bytes, tmp);
    st = put_str(tmp, n, buf, cap, needed);
    sodium_memzero(tmp, sizeof(tmp));
    return st;
}

lg_status_t
lg_key_id(const lg_key_t *k, char *buf, size_t cap, size_t *needed)
{
    if (needed != NULL) {
        *needed = 0;
    }
    if (k == NULL) {
        return LG_E_INVAL;
    }
    return put_str(k->id, k->id_len, buf, cap, needed);
}

void
lg_key_free(lg_key_t *k)
{
    if (k == NULL) {
        return;
    }
    sodium_memzero(k, sizeof(*k));
    lgi_free(k);
}

/* ---- key rings ---- */

struct lg_keyring {
    lg_key_t **keys;
    size_t n;
    size_t cap;
};

lg_status_t
lg_keyring_new(lg_keyring_t **out)
{
    lg_keyring_t *r;
    lg_status_t st;

    if (out == NULL) {
        return LG_E_INVAL;
    }
    *out = NULL;
    st = lg_init();
    if (st != LG_OK) {
        return st;
    }
    r = lgi_calloc(1, sizeof(*r));
    if (r == NULL) {
        return LG_E_NOMEM;
    }
    *out = r;
    return LG_OK;
}

const lg_key_t *
lg_keyring_find(const lg_keyring_t *ring, const char *id, size_t id_len)
{
    if (ring == NULL || id == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < ring->n; i++) {
        const lg_key_t *k = ring->keys[i];

        if (k->id_len == id_len && sodium_memcmp(k->id, id, id_len) == 0) {
            return k;
        }
    }
    return NULL;
}

lg_status_t
lg_keyring_add(lg_keyring_t *ring, const lg_key_t *k)
{
    lg_key_t *copy;

    if (ring == NULL || k == NULL ||
        lg_keyring_find(ring, k->id, k->id_len) != NULL) {
        return LG_E_INVAL;
    }
    if (ring->n == ring->cap) {
        size_t ncap = ring->cap ? ring->cap * 2 : 4;
        lg_key_t **nk;

        if (ncap > SIZE_MAX / sizeof(*nk)) {
            return LG_E_NOMEM; /* LCOV_EXCL_LINE */
        }
        nk = lgi_realloc(ring->keys, ncap * sizeof(*nk));
        if (nk == NULL) {
            return LG_E_NOMEM;
        }
        ring->keys = nk;
        ring->cap = ncap;
    }
    copy = lgi_malloc(sizeof(*copy));
    if (copy == NULL) {
        return LG_E_NOMEM;
    }
    memcpy(copy, k, sizeof(*copy));
    ring->keys[ring->n++] = copy;
    return LG_OK;
}

size_t
lg_keyring_count(const lg_keyring_t *ring)
{
    return ring == NULL ? 0 : ring->n;
}

void
lg_keyring_free(lg_keyring_t *ring)
{
    if (ring == NULL) {
        return;
    }
    for (size_t i = 0; i < ring->n; i++) {
        lg_key_free(ring->keys[i]);
    }
    lgi_free(ring->keys);
    lgi_free(ring);
}
