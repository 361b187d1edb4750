/*
 * Fuzz target: PASETO v4 verification and PASERK parsing on hostile bytes.
 *
 * The input is a token, optionally followed by "\n" and the implicit
 * assertion.  It is verified with the local and public keys of the PASETO
 * test vectors (so the vectors in the seed corpus pass and mutations of
 * them reach the MAC, signature and claim code), alone and through a key
 * ring holding both, with claim checks at a time before the vectors'
 * "exp" and without them.  Verification may only succeed or fail with
 * LG_E_TOKEN; success must give a payload within lg_token_payload_bound(),
 * the same payload with and without the key ring, and a token that still
 * verifies when re-issued.
 *
 * The input is also parsed as a PASERK key (a valid one must print back
 * unchanged), and issued as a payload and footer (the tokens must verify
 * to the same bytes, and fail with any other implicit assertion).
 */
#include <sodium.h>

#include "fuzz_check.h"

#include "../libguard/token/token_int.h"

/* The keys of tests/vectors/paseto-v4.json. */
static const char LOCAL_HEX[] =
    "707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f";
static const char SECRET_HEX[] =
    "b4cbfb43df4ce210727d953e4a713307fa19bb7d9f85041438d9e11b942a3774"
    "1eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2";
#define VEC_NOW 1622505600 /* 2021-06-01: before the vectors' "exp" */

static lg_key_t *g_local, *g_secret, *g_public;
static lg_keyring_t *g_ring;

static lg_key_t *
key_hex(lg_key_type_t type, const char *hex)
{
    uint8_t raw[64];
    size_t n = 0;
    lg_key_t *k = NULL;

    if (sodium_hex2bin(raw, sizeof(raw), hex, strlen(hex), NULL, &n, NULL) !=
            0 ||
        lg_key_from_bytes(type, raw, n, &k) != LG_OK) {
        fprintf(stderr, "fuzz_token: bad test key\n");
        abort();
    }
    return k;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_local = key_hex(LG_KEY_LOCAL, LOCAL_HEX);
    g_secret = key_hex(LG_KEY_SECRET, SECRET_HEX);
    if (lg_key_public(g_secret, &g_public) != LG_OK ||
        lg_keyring_new(&g_ring) != LG_OK ||
        lg_keyring_add(g_ring, g_local) != LG_OK ||
        lg_keyring_add(g_ring, g_public) != LG_OK) {
        abort();
    }
    return 0;
}

/* Verify with `key` (NULL: the ring); returns the status, payload in *out
 * (malloc'ed, or NULL). */
static lg_status_t
verify(const lg_key_t *key, const char *tok, size_t len, const uint8_t *imp,
       size_t ilen, const lg_token_opts_t *o, uint8_t **out, size_t *plen)
{
    size_t cap = lg_token_payload_bound(len);
    uint8_t *buf = fz_xmalloc(cap);
    lg_status_t st;

    *plen = 12345;
    if (key != NULL) {
        st = lg_token_verify(key, tok, len, NULL, 0, imp, ilen, o, buf, cap,
                             plen);
    } else {
        st = lg_token_verify_ring(g_ring, tok, len, NULL, 0, imp, ilen, o, buf,
                                  cap, plen);
    }
    FZ_CHECK(st == LG_OK || st == LG_E_TOKEN);
    FZ_CHECK(st == LG_OK ? *plen <= cap : *plen == 0);
    if (st != LG_OK) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    return st;
}

/* Issue `payload` with `key`, footer and implicit as given; verify it back
 * with `vk`. */
static void
round_trip(const lg_key_t *key, const lg_key_t *vk, const uint8_t *payload,
           size_t plen, const uint8_t *foot, size_t flen, const uint8_t *imp,
           size_t ilen)
{
    static const uint8_t nonce[32] = {1, 2, 3};
    size_t cap = lg_token_bound(plen, flen), need = 0, got = 0;
    char *tok;
    uint8_t *out = NULL;
    lg_token_opts_t o;
    lg_status_t st;

    if (cap == SIZE_MAX) {
        return;
    }
    tok = fz_xmalloc(cap);
    if (lg_key_type(key) == LG_KEY_LOCAL) {
        st = lgi_token_encrypt_nonce(key, nonce, payload, plen, foot, flen,
                                     imp, ilen, tok, cap, &need);
    } else {
        st = lg_token_sign(key, payload, plen, foot, flen, imp, ilen, tok, cap,
                           &need);
    }
    FZ_CHECK(st == LG_OK || st == LG_E_LIMIT);
    if (st == LG_OK) {
        FZ_CHECK(need == strlen(tok) + 1 && need <= cap);
        lg_token_opts_init(&o);
        o.flags = LG_TOKEN_NO_CLAIMS;
        FZ_CHECK(verify(vk, tok, strlen(tok), imp, ilen, &o, &out, &got) ==
                 LG_OK);
        FZ_CHECK(got == plen && (plen == 0 || memcmp(out, payload, plen) == 0));
        free(out);
        FZ_CHECK(lg_token_verify(vk, tok, strlen(tok), foot, flen, imp, ilen,
                                 &o, NULL, 0, &got) ==
                 (plen == 0 ? LG_OK : LG_E_NOSPACE));
        /* Another implicit assertion never verifies. */
        FZ_CHECK(verify(vk, tok, strlen(tok), (const uint8_t *)"x", 1, &o,
                        &out, &got) == (ilen == 1 && imp[0] == 'x'
                                            ? LG_OK
                                            : LG_E_TOKEN));
        free(out);
    }
    free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t tlen = nl ? (size_t)(nl - data) : size;
    const uint8_t *imp = nl ? nl + 1 : NULL;
    size_t ilen = nl ? size - tlen - 1 : 0;
    const char *tok = (const char *)data;
    lg_token_opts_t claims, raw;
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    lg_status_t sa, sb;
    lg_key_t *k = NULL;

    lg_token_opts_init(&claims);
    claims.now = VEC_NOW;
    raw = claims;
    raw.flags = LG_TOKEN_NO_CLAIMS;

    /* Tokens, with each key, with the ring, with and without claims. */
    for (int i = 0; i < 2; i++) {
        const lg_key_t *key = i == 0 ? g_local : g_public;

        sa = verify(key, tok, tlen, imp, ilen, &raw, &a, &alen);
        sb = verify(key, tok, tlen, imp, ilen, &claims, &b, &blen);
        /* Claims only ever take away. */
        FZ_CHECK(sa == LG_OK || sb != LG_OK);
        if (sb == LG_OK) {
            FZ_CHECK(alen == blen && (alen == 0 || memcmp(a, b, alen) == 0));
        }
        if (sa == LG_OK) {
            uint8_t *c = NULL;
            size_t clen = 0;
            /* Through the ring, the footer must name this very key. */
            if (verify(NULL, tok, tlen, imp, ilen, &raw, &c, &clen) == LG_OK) {
                FZ_CHECK(clen == alen &&
                         (alen == 0 || memcmp(a, c, alen) == 0));
            }
            free(c);
            round_trip(i == 0 ? g_local : g_secret, key, a, alen, NULL, 0,
                       imp, ilen);
        }
        free(a);
        free(b);
        a = b = NULL;
    }
    FZ_CHECK(verify(NULL, tok, tlen, imp, ilen, &claims, &a, &alen) == LG_OK ||
             a == NULL);
    free(a);

    /* PASERK keys. */
    if (lg_key_from_paserk(tok, tlen, &k) == LG_OK) {
        char s[LG_KEY_PASERK_MAX];

        FZ_CHECK(lg_key_paserk(k, s, sizeof(s), NULL) == LG_OK);
        FZ_CHECK(strlen(s) == tlen && memcmp(s, tok, tlen) == 0);
        lg_key_free(k);
    } else {
        FZ_CHECK(k == NULL);
    }

    /* The input as payload and footer. */
    if (size <= 4096) {
        round_trip(g_local, g_local, data, tlen, imp, ilen, data, size);
        round_trip(g_secret, g_public, data, tlen, imp, ilen, data, size);
    }
    return 0;
}
