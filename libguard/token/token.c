/*
 * PASETO v4 tokens (https://github.com/paseto-standard/paseto-spec,
 * Version4.md).
 *
 *   v4.local:  n = 32 random bytes
 *              Ek || n2 = BLAKE2b-448(key = k, "paseto-encryption-key" || n)
 *              Ak = BLAKE2b-256(key = k, "paseto-auth-key-for-aead" || n)
 *              c = XChaCha20(Ek, n2, m)
 *              t = BLAKE2b-256(key = Ak, PAE(h, n, c, f, i))
 *              token = h || b64(n || c || t) [|| "." || b64(f)]
 *   v4.public: sig = Ed25519(sk, PAE(h, m, f, i))
 *              token = h || b64(m || sig) [|| "." || b64(f)]
 *
 * PAE (pre-authentication encoding) is LE64(count) then LE64(len) || piece
 * for each piece, the top bit of each LE64 cleared.  For v4.local it is
 * streamed into the MAC; for v4.public it is built in one buffer, into
 * which the token body is decoded in place.
 *
 * Verification never tells why it failed: every rejection is LG_E_TOKEN.
 * The only other answers depend on the caller's arguments or on the
 * token's length and form, never on a key: LG_E_INVAL, LG_E_NOMEM and
 * LG_E_NOSPACE.
 */
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "token_int.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

#define H_LOCAL "v4.local."
#define H_PUBLIC "v4.public."
#define H_LOCAL_LEN (sizeof(H_LOCAL) - 1)
#define H_PUBLIC_LEN (sizeof(H_PUBLIC) - 1)
#define NONCE_BYTES 32
#define TAG_BYTES 32
#define SIG_BYTES crypto_sign_BYTES
#define EK_BYTES crypto_stream_xchacha20_KEYBYTES
#define N2_BYTES crypto_stream_xchacha20_NONCEBYTES
#define AK_BYTES 32

_Static_assert(EK_BYTES + N2_BYTES == 56, "BLAKE2b-448 splits into Ek, n2");
_Static_assert(LG_KEY_LOCAL_BYTES == crypto_generichash_KEYBYTES,
               "local keys key BLAKE2b");

size_t
lg_token_max(void)
{
    return LG_TOKEN_MAX;
}

static void
le64(uint8_t out[8], uint64_t n)
{
    n &= UINT64_MAX >> 1; /* PAE clears the top bit */
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(n & 0xff);
        n >>= 8;
    }
}

static void
mac_piece(crypto_generichash_state *st, const void *p, size_t len)
{
    uint8_t n[8];

    le64(n, len);
    crypto_generichash_update(st, n, sizeof(n));
    if (len > 0) {
        crypto_generichash_update(st, p, len);
    }
}

/* Ek || n2 and Ak from the key and the nonce. */
static void
local_keys(const uint8_t *k, const uint8_t *nonce,
           uint8_t ekn2[EK_BYTES + N2_BYTES], uint8_t ak[AK_BYTES])
{
    static const char ekey[] = "paseto-encryption-key";
    static const char akey[] = "paseto-auth-key-for-aead";
    crypto_generichash_state st;

    crypto_generichash_init(&st, k, LG_KEY_LOCAL_BYTES, EK_BYTES + N2_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)ekey, sizeof(ekey) - 1);
    crypto_generichash_update(&st, nonce, NONCE_BYTES);
    crypto_generichash_final(&st, ekn2, EK_BYTES + N2_BYTES);
    crypto_generichash_init(&st, k, LG_KEY_LOCAL_BYTES, AK_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)akey, sizeof(akey) - 1);
    crypto_generichash_update(&st, nonce, NONCE_BYTES);
    crypto_generichash_final(&st, ak, AK_BYTES);
    sodium_memzero(&st, sizeof(st));
}

static void
local_mac(const uint8_t ak[AK_BYTES], const uint8_t *nonce, const uint8_t *c,
          size_t clen, const void *f, size_t flen, const void *i, size_t ilen,
          uint8_t t[TAG_BYTES])
{
    crypto_generichash_state st;
    uint8_t count[8];

    crypto_generichash_init(&st, ak, AK_BYTES, TAG_BYTES);
    le64(count, 5);
    crypto_generichash_update(&st, count, sizeof(count));
    mac_piece(&st, H_LOCAL, H_LOCAL_LEN);
    mac_piece(&st, nonce, NONCE_BYTES);
    mac_piece(&st, c, clen);
    mac_piece(&st, f, flen);
    mac_piece(&st, i, ilen);
    crypto_generichash_final(&st, t, TAG_BYTES);
    sodium_memzero(&st, sizeof(st));
}

/* Size of PAE(h, m, f, i) for v4.public; 0 on overflow. */
static size_t
public_pae_len(size_t mlen, size_t flen, size_t ilen)
{
    size_t n = 8 + 8 + H_PUBLIC_LEN + 8 + 8 + 8;

    if (lgi_add_overflow(n, mlen, &n) || lgi_add_overflow(n, flen, &n) ||
        lgi_add_overflow(n, ilen, &n)) {
        return 0;
    }
    return n;
}

/* Offset of m in PAE(h, m, f, i). */
#define PAE_M_OFF (8 + 8 + H_PUBLIC_LEN + 8)

/* Writes the PAE header and returns where m goes. */
static uint8_t *
public_pae_head(uint8_t *pae, size_t mlen)
{
    le64(pae, 4);
    le64(pae + 8, H_PUBLIC_LEN);
    memcpy(pae + 16, H_PUBLIC, H_PUBLIC_LEN);
    le64(pae + 16 + H_PUBLIC_LEN, mlen);
    return pae + PAE_M_OFF;
}

/* Writes f and i after m (at pae + PAE_M_OFF + mlen). */
static void
public_pae_tail(uint8_t *pae, size_t mlen, const void *f, size_t flen,
                const void *i, size_t ilen)
{
    uint8_t *p = pae + PAE_M_OFF + mlen;

    le64(p, flen);
    if (flen > 0) {
        memmove(p + 8, f, flen);
    }
    p += 8 + flen;
    le64(p, ilen);
    if (ilen > 0) {
        memcpy(p + 8, i, ilen);
    }
}

/* ---- issuing ---- */

/* Length of the token text for a decoded body and footer; 0 on overflow. */
static size_t
token_text_len(size_t hlen, size_t body_len, size_t flen)
{
    size_t n;

    if (body_len > SIZE_MAX / 2 || flen > SIZE_MAX / 2) {
        return 0;
    }
    n = hlen + lgi_b64_len(body_len);
    if (flen > 0 && lgi_add_overflow(n, 1 + lgi_b64_len(flen), &n)) {
        return 0;
    }
    return n;
}

size_t
lg_token_bound(size_t payload_len, size_t footer_len)
{
    size_t body, n;

    /* v4.public has the longer header and body (64-byte signature against
     * v4.local's 32-byte nonce and 32-byte tag). */
    if (lgi_add_overflow(payload_len, SIG_BYTES, &body)) {
        return SIZE_MAX;
    }
    n = token_text_len(H_PUBLIC_LEN, body, footer_len);
    return n == 0 || n == SIZE_MAX ? SIZE_MAX : n + 1;
}

size_t
lg_token_payload_bound(size_t tok_len)
{
    return tok_len / 4 * 3 + tok_len % 4;
}

/* Common argument checks and sizing of encrypt and sign; sets *total. */
static lg_status_t
issue_check(const lg_key_t *key, lg_key_type_t want, const void *payload,
            size_t plen, const void *footer, size_t flen, const void *implicit,
            size_t ilen, char *tok, size_t cap, size_t hlen, size_t body_len,
            size_t *needed, size_t *total)
{
    if (needed != NULL) {
        *needed = 0;
    }
    if (key == NULL || key->type != want || (payload == NULL && plen > 0) ||
        (footer == NULL && flen > 0) || (implicit == NULL && ilen > 0) ||
        (tok == NULL && cap > 0)) {
        return LG_E_INVAL;
    }
    *total = token_text_len(hlen, body_len, flen);
    if (*total == 0 || *total > LG_TOKEN_MAX || ilen > LG_TOKEN_MAX) {
        return LG_E_LIMIT;
    }
    if (needed != NULL) {
        *needed = *total + 1;
    }
    return cap < *total + 1 ? LG_E_NOSPACE : LG_OK;
}

/* Writes h || b64(body) [|| "." || b64(f)] and the NUL. */
static void
token_write(char *tok, const char *h, size_t hlen, const uint8_t *body,
            size_t body_len, const void *f, size_t flen, size_t total)
{
    size_t off = hlen + lgi_b64_len(body_len);

    memcpy(tok, h, hlen);
    sodium_bin2base64(tok + hlen, total + 1 - hlen, body, body_len, B64);
    if (flen > 0) {
        tok[off] = '.';
        sodium_bin2base64(tok + off + 1, total - off, f, flen, B64);
    }
    tok[total] = '\0';
}

lg_status_t
lgi_token_encrypt_nonce(const lg_key_t *key, const uint8_t nonce[32],
                        const void *payload, size_t plen, const void *footer,
                        size_t flen, const void *implicit, size_t ilen,
                        char *tok, size_t cap, size_t *needed)
{
    uint8_t ekn2[EK_BYTES + N2_BYTES], ak[AK_BYTES];
    size_t body_len, total = 0;
    uint8_t *body;
    lg_status_t st;

    if (plen > LG_TOKEN_MAX) {
        if (needed != NULL) {
            *needed = 0;
        }
        return key == NULL || key->type != LG_KEY_LOCAL ? LG_E_INVAL
                                                        : LG_E_LIMIT;
    }
    body_len = NONCE_BYTES + plen + TAG_BYTES;
    st = issue_check(key, LG_KEY_LOCAL, payload, plen, footer, flen, implicit,
                     ilen, tok, cap, H_LOCAL_LEN, body_len, needed, &total);
    if (st != LG_OK) {
        return st;
    }
    body = lgi_malloc(body_len);
    if (body == NULL) {
        return LG_E_NOMEM;
    }
    memcpy(body, nonce, NONCE_BYTES);
    local_keys(key->bytes, nonce, ekn2, ak);
    if (plen > 0) {
        crypto_stream_xchacha20_xor(body + NONCE_BYTES, payload, plen,
                                    ekn2 + EK_BYTES, ekn2);
    }
    local_mac(ak, nonce, body + NONCE_BYTES, plen, footer, flen, implicit,
              ilen, body + NONCE_BYTES + plen);
    token_write(tok, H_LOCAL, H_LOCAL_LEN, body, body_len, footer, flen,
                total);
    sodium_memzero(ekn2, sizeof(ekn2));
    sodium_memzero(ak, sizeof(ak));
    lgi_free(body);
    return LG_OK;
}

lg_status_t
lg_token_encrypt(const lg_key_t *key, const void *payload, size_t plen,
                 const void *footer, size_t flen, const void *implicit,
                 size_t ilen, char *tok, size_t cap, size_t *needed)
{
    uint8_t nonce[NONCE_BYTES];

    randombytes_buf(nonce, sizeof(nonce));
    return lgi_token_encrypt_nonce(key, nonce, payload, plen, footer, flen,
                                   implicit, ilen, tok, cap, needed);
}

lg_status_t
lg_token_sign(const lg_key_t *key, const void *payload, size_t plen,
              const void *footer, size_t flen, const void *implicit,
              size_t ilen, char *tok, size_t cap, size_t *needed)
{
    uint8_t sig[SIG_BYTES];
    size_t pae_len, alloc, total = 0;
    uint8_t *pae;
    lg_status_t st;

    if (plen > LG_TOKEN_MAX || flen > LG_TOKEN_MAX || ilen > LG_TOKEN_MAX) {
        if (needed != NULL) {
            *needed = 0;
        }
        return key == NULL || key->type != LG_KEY_SECRET ? LG_E_INVAL
                                                         : LG_E_LIMIT;
    }
    st = issue_check(key, LG_KEY_SECRET, payload, plen, footer, flen,
                     implicit, ilen, tok, cap, H_PUBLIC_LEN, plen + SIG_BYTES,
                     needed, &total);
    if (st != LG_OK) {
        return st;
    }
    /* The body m || sig is made in place over PAE's tail once signed. */
    pae_len = public_pae_len(plen, flen, ilen);
    alloc = pae_len > PAE_M_OFF + plen + SIG_BYTES ? pae_len
                                                   : PAE_M_OFF + plen + SIG_BYTES;
    pae = lgi_malloc(alloc);
    if (pae == NULL) {
        return LG_E_NOMEM;
    }
    if (plen > 0) {
        memcpy(public_pae_head(pae, plen), payload, plen);
    } else {
        public_pae_head(pae, 0);
    }
    public_pae_tail(pae, plen, footer, flen, implicit, ilen);
    crypto_sign_detached(sig, NULL, pae, pae_len, key->bytes);
    memcpy(pae + PAE_M_OFF + plen, sig, SIG_BYTES);
    token_write(tok, H_PUBLIC, H_PUBLIC_LEN, pae + PAE_M_OFF,
                plen + SIG_BYTES, footer, flen, total);
    lgi_free(pae);
    return LG_OK;
}

lg_status_t
lg_token_footer_kid(const lg_key_t *key, char *buf, size_t cap,
                    size_t *needed)
{
    lg_key_t *pub = NULL;
    const lg_key_t *k = key;
    json_t *o = NULL;
    size_t n;
    lg_status_t st = LG_E_NOMEM;

    if (needed != NULL) {
        *needed = 0;
    }
    if (key == NULL || (buf == NULL && cap > 0)) {
        return LG_E_INVAL;
    }
    if (key->type == LG_KEY_SECRET) {
        st = lg_key_public(key, &pub);
        if (st != LG_OK) {
            return st;
        }
        k = pub;
    }
    o = json_pack("{s:s#}", "kid", k->id, (int)k->id_len);
    if (o == NULL) {
        goto out;
    }
    n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    if (n == 0) {
        goto out; /* LCOV_EXCL_LINE */
    }
    if (needed != NULL) {
        *needed = n + 1;
    }
    if (cap < n + 1) {
        st = LG_E_NOSPACE;
        goto out;
    }
    json_dumpb(o, buf, n, JSON_COMPACT);
    buf[n] = '\0';
    st = LG_OK;
out:
    json_decref(o);
    lg_key_free(pub);
    return st;
}

/* ---- verification ---- */

void
lg_token_opts_init(lg_token_opts_t *o)
{
    if (o == NULL) {
        return;
    }
    memset(o, 0, sizeof(*o));
    o->skew = LG_TOKEN_SKEW_DEFAULT;
    o->flags = LG_TOKEN_REQUIRE_EXP;
}

/* A token split into its parts; nothing decoded yet. */
typedef struct parts {
    lg_key_type_t purpose; /* LG_KEY_LOCAL or LG_KEY_PUBLIC */
    const char *body;
    size_t body_b64;
    const char *foot;
    size_t foot_b64;
    size_t body_len; /* decoded */
    size_t foot_len; /* decoded */
} parts_t;

/* Decoded length of unpadded base64 of `n` characters; -1 if impossible. */
static int
b64_dec_len(size_t n, size_t *out)
{
    if (n % 4 == 1) {
        return -1;
    }
    *out = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
    return 0;
}

/* Splits "v4.<purpose>.<body>[.<footer>]"; LG_E_TOKEN if malformed. */
static lg_status_t
split(const char *tok, size_t len, parts_t *p)
{
    const char *dot;
    size_t hlen;

    memset(p, 0, sizeof(*p));
    if (len > LG_TOKEN_MAX) {
        return LG_E_TOKEN;
    }
    if (len > H_LOCAL_LEN && memcmp(tok, H_LOCAL, H_LOCAL_LEN) == 0) {
        p->purpose = LG_KEY_LOCAL;
        hlen = H_LOCAL_LEN;
    } else if (len > H_PUBLIC_LEN && memcmp(tok, H_PUBLIC, H_PUBLIC_LEN) == 0) {
        p->purpose = LG_KEY_PUBLIC;
        hlen = H_PUBLIC_LEN;
    } else {
        return LG_E_TOKEN;
    }
    p->body = tok + hlen;
    dot = memchr(p->body, '.', len - hlen);
    if (dot == NULL) {
        p->body_b64 = len - hlen;
    } else {
        p->body_b64 = (size_t)(dot - p->body);
        p->foot = dot + 1;
        p->foot_b64 = len - hlen - p->body_b64 - 1;
        /* An empty footer is written without its dot; a second dot is
         * not base64url and fails decoding. */
        if (p->foot_b64 == 0) {
            return LG_E_TOKEN;
        }
    }
    if (b64_dec_len(p->body_b64, &p->body_len) != 0 ||
        b64_dec_len(p->foot_b64, &p->foot_len) != 0 ||
        p->body_len < (p->purpose == LG_KEY_LOCAL ? NONCE_BYTES + TAG_BYTES
                                                   : SIG_BYTES)) {
        return LG_E_TOKEN;
    }
    return LG_OK;
}

static int
b64_decode(uint8_t *dst, size_t want, const char *src, size_t n)
{
    size_t got = 0;

    if (n == 0) {
        return want == 0 ? 0 : -1;
    }
    if (!lgi_b64url_valid(src, n) ||
        sodium_base642bin(dst, want, src, n, NULL, &got, NULL, B64) != 0) {
        return -1;
    }
    return got == want ? 0 : -1;
}

/* Constant-time check of the footer against the expected one. */
static int
footer_ok(const uint8_t *f, size_t flen, const void *want, size_t want_len)
{
    if (want == NULL) {
        return 1;
    }
    if (flen != want_len) {
        return 0; /* lengths are public: the token shows its own */
    }
    return flen == 0 || sodium_memcmp(f, want, flen) == 0;
}

static int64_t
resolve_now(const lg_token_opts_t *o)
{
    return o->now != 0 ? o->now : (int64_t)time(NULL);
}

static lg_status_t
verify_local(const lg_key_t *key, const parts_t *p, const void *footer,
             size_t footer_len, const void *implicit, size_t ilen,
             const lg_token_opts_t *o, uint8_t *payload)
{
    uint8_t ekn2[EK_BYTES + N2_BYTES], ak[AK_BYTES], t[TAG_BYTES];
    size_t clen = p->body_len - NONCE_BYTES - TAG_BYTES;
    uint8_t *buf = lgi_malloc(p->body_len + p->foot_len);
    uint8_t *f;
    lg_status_t st = LG_E_TOKEN;

    if (buf == NULL) {
        return LG_E_NOMEM;
    }
    f = buf + p->body_len;
    if (b64_decode(buf, p->body_len, p->body, p->body_b64) != 0 ||
        b64_decode(f, p->foot_len, p->foot, p->foot_b64) != 0 ||
        !footer_ok(f, p->foot_len, footer, footer_len)) {
        goto out;
    }
    local_keys(key->bytes, buf, ekn2, ak);
    local_mac(ak, buf, buf + NONCE_BYTES, clen, f, p->foot_len, implicit,
              ilen, t);
    if (crypto_verify_32(t, buf + NONCE_BYTES + clen) != 0) {
        goto out;
    }
    if (clen > 0) {
        crypto_stream_xchacha20_xor(payload, buf + NONCE_BYTES, clen,
                                    ekn2 + EK_BYTES, ekn2);
    }
    if (!(o->flags & LG_TOKEN_NO_CLAIMS)) {
        lg_status_t cst = lgi_claims_check(payload, clen, o, resolve_now(o));

        if (cst != LG_OK) {
            sodium_memzero(payload, clen);
            if (cst == LG_E_NOMEM) {
                st = LG_E_NOMEM;
            }
            goto out;
        }
    }
    st = LG_OK;
out:
    sodium_memzero(ekn2, sizeof(ekn2));
    sodium_memzero(ak, sizeof(ak));
    lgi_free(buf);
    return st;
}

static lg_status_t
verify_public(const lg_key_t *key, const parts_t *p, const void *footer,
              size_t footer_len, const void *implicit, size_t ilen,
              const lg_token_opts_t *o, uint8_t *payload)
{
    size_t mlen = p->body_len - SIG_BYTES;
    size_t pae_len = public_pae_len(mlen, p->foot_len, ilen);
    size_t alloc = PAE_M_OFF + p->body_len;
    uint8_t sig[SIG_BYTES];
    uint8_t *pae, *m, *f;
    lg_status_t st = LG_E_TOKEN;

    if (pae_len == 0) {
        return LG_E_TOKEN; /* LCOV_EXCL_LINE: lengths are capped */
    }
    pae = lgi_malloc(pae_len > alloc ? pae_len : alloc);
    if (pae == NULL) {
        return LG_E_NOMEM;
    }
    /* m || sig is decoded where m belongs in PAE(h, m, f, i); sig is moved
     * out before f and i overwrite it. */
    m = public_pae_head(pae, mlen);
    f = m + mlen + 8;
    if (b64_decode(m, p->body_len, p->body, p->body_b64) != 0) {
        goto out;
    }
    memcpy(sig, m + mlen, SIG_BYTES);
    if (b64_decode(f, p->foot_len, p->foot, p->foot_b64) != 0 ||
        !footer_ok(f, p->foot_len, footer, footer_len)) {
        goto out;
    }
    public_pae_tail(pae, mlen, f, p->foot_len, implicit, ilen);
    if (crypto_sign_verify_detached(sig, pae, pae_len, key->bytes) != 0) {
        goto out;
    }
    if (mlen > 0) {
        memcpy(payload, m, mlen);
    }
    if (!(o->flags & LG_TOKEN_NO_CLAIMS)) {
        lg_status_t cst = lgi_claims_check(payload, mlen, o, resolve_now(o));

        if (cst != LG_OK) {
            sodium_memzero(payload, mlen);
            if (cst == LG_E_NOMEM) {
                st = LG_E_NOMEM;
            }
            goto out;
        }
    }
    st = LG_OK;
out:
    lgi_free(pae);
    return st;
}

#define LG_TOKEN_FLAGS_ALL (LG_TOKEN_REQUIRE_EXP | LG_TOKEN_NO_CLAIMS)

/* Argument checks shared by both verify functions. */
static lg_status_t
verify_args(const char *tok, const void *footer, size_t footer_len,
            const void *implicit, size_t ilen, const lg_token_opts_t *opts,
            const void *payload, size_t cap)
{
    if (tok == NULL || (footer == NULL && footer_len > 0) ||
        (implicit == NULL && ilen > 0) || (payload == NULL && cap > 0) ||
        (opts != NULL && (opts->flags & ~LG_TOKEN_FLAGS_ALL) != 0)) {
        return LG_E_INVAL;
    }
    return LG_OK;
}

static lg_status_t
verify_with(const lg_key_t *key, const parts_t *p, const void *footer,
            size_t footer_len, const void *implicit, size_t ilen,
            const lg_token_opts_t *opts, void *payload, size_t cap,
            size_t *payload_len)
{
    lg_token_opts_t defaults;
    size_t plen;
    lg_status_t st;

    if (opts == NULL) {
        lg_token_opts_init(&defaults);
        opts = &defaults;
    }
    if (key->type != p->purpose) {
        return LG_E_TOKEN;
    }
    plen = p->body_len - (p->purpose == LG_KEY_LOCAL ? NONCE_BYTES + TAG_BYTES
                                                     : SIG_BYTES);
    if (plen > cap) {
        if (payload_len != NULL) {
            *payload_len = plen;
        }
        return LG_E_NOSPACE;
    }
    if (p->purpose == LG_KEY_LOCAL) {
        st = verify_local(key, p, footer, footer_len, implicit, ilen, opts,
                          payload);
    } else {
        st = verify_public(key, p, footer, footer_len, implicit, ilen, opts,
                           payload);
    }
    if (st == LG_OK && payload_len != NULL) {
        *payload_len = plen;
    }
    return st;
}

lg_status_t
lg_token_verify(const lg_key_t *key, const char *tok, size_t tok_len,
                const void *footer, size_t footer_len, const void *implicit,
                size_t implicit_len, const lg_token_opts_t *opts,
                void *payload, size_t cap, size_t *payload_len)
{
    parts_t p;
    lg_status_t st;

    if (payload_len != NULL) {
        *payload_len = 0;
    }
    st = verify_args(tok, footer, footer_len, implicit, implicit_len, opts,
                     payload, cap);
    if (st != LG_OK) {
        return st;
    }
    if (key == NULL || key->type == LG_KEY_SECRET) {
        return LG_E_INVAL;
    }
    st = split(tok, tok_len, &p);
    if (st != LG_OK) {
        return st;
    }
    return verify_with(key, &p, footer, footer_len, implicit, implicit_len,
                       opts, payload, cap, payload_len);
}

/* The ring's key named by the footer's "kid" into *out (NULL if there is
 * none).  LG_E_NOMEM when memory ran out before that could be told. */
static lg_status_t
ring_pick(const lg_keyring_t *ring, const parts_t *p, const lg_key_t **out)
{
    uint8_t *f;
    json_t *root, *kid;
    json_error_t err;

    *out = NULL;
    if (p->foot_len == 0 || p->foot_len > LG_TOKEN_FOOTER_JSON_MAX) {
        return LG_OK;
    }
    f = lgi_malloc(p->foot_len);
    if (f == NULL) {
        return LG_E_NOMEM;
    }
    if (b64_decode(f, p->foot_len, p->foot, p->foot_b64) != 0) {
        lgi_free(f);
        return LG_OK;
    }
    root = json_loadb((const char *)f, p->foot_len, JSON_REJECT_DUPLICATES,
                      &err);
    lgi_free(f);
    if (root == NULL && json_error_code(&err) == json_error_out_of_memory) {
        return LG_E_NOMEM;
    }
    kid = json_object_get(root, "kid");
    if (json_is_string(kid)) {
        *out = lg_keyring_find(ring, json_string_value(kid),
                               json_string_length(kid));
    }
    json_decref(root);
    return LG_OK;
}

lg_status_t
lg_token_verify_ring(const lg_keyring_t *ring, const char *tok,
                     size_t tok_len, const void *footer, size_t footer_len,
                     const void *implicit, size_t implicit_len,
                     const lg_token_opts_t *opts, void *payload, size_t cap,
                     size_t *payload_len)
{
    const lg_key_t *key;
    parts_t p;
    lg_status_t st;

    if (payload_len != NULL) {
        *payload_len = 0;
    }
    st = verify_args(tok, footer, footer_len, implicit, implicit_len, opts,
                     payload, cap);
    if (st != LG_OK) {
        return st;
    }
    if (ring == NULL) {
        return LG_E_INVAL;
    }
    st = split(tok, tok_len, &p);
    if (st != LG_OK) {
        return st;
    }
    st = ring_pick(ring, &p, &key);
    if (st != LG_OK) {
        return st;
    }
    if (key == NULL) {
        return LG_E_TOKEN;
    }
    return verify_with(key, &p, footer, footer_len, implicit, implicit_len,
                       opts, payload, cap, payload_len);
}
