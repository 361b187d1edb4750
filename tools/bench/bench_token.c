/*
 * lg_bench_token: the cost of issuing and verifying PASETO v4 tokens with
 * libguard, against the same work done by calling libsodium directly, in
 * one run.
 *
 * The baseline does what any v4 implementation must: for v4.local, the
 * BLAKE2b key derivations, XChaCha20, the BLAKE2b MAC over the
 * pre-authentication encoding and a constant-time tag check; for
 * v4.public, the PAE buffer and Ed25519; for both, the random nonce where
 * one is needed and libsodium's base64url of the body and footer.  It does
 * no argument or length checks and no claim validation.  libguard's
 * verification is measured with claim checks (the default: the payload is
 * parsed as JSON and exp, nbf, iat, aud are checked) and without
 * (LG_TOKEN_NO_CLAIMS), which isolates the token code itself.
 *
 * Each figure is the median, over REPS repetitions, of the mean time per
 * operation; libguard and the baseline alternate within each repetition so
 * that a noisy neighbour hits both.  Run a Release build on a quiet machine.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "libguard.h"

#include "bench_util.h"

#define REPS 7
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static const char CLAIMS[] =
    "{\"iss\":\"auth.example\",\"sub\":\"user-1234567\","
    "\"aud\":\"api.example\",\"scope\":\"read write\","
    "\"iat\":\"2026-01-01T00:00:00Z\",\"nbf\":\"2026-01-01T00:00:00Z\","
    "\"exp\":\"2026-01-01T01:00:00Z\"}";
static const char IMPLICIT[] = "tenant-42";
#define NOW 1767225900 /* 2026-01-01T00:05:00Z */

static void
die(const char *what)
{
    fprintf(stderr, "lg_bench_token: %s\n", what);
    exit(1);
}

/* ---- the baseline: libsodium called directly ---- */

static void
le64(uint8_t *out, uint64_t n)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(n >> (8 * i));
    }
}

static void
mac_piece(crypto_generichash_state *st, const void *p, size_t len)
{
    uint8_t n[8];

    le64(n, len);
    crypto_generichash_update(st, n, 8);
    crypto_generichash_update(st, p, len);
}

static void
raw_local_keys(const uint8_t *k, const uint8_t *n, uint8_t ekn2[56],
               uint8_t ak[32])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, k, 32, 56);
    crypto_generichash_update(&st, (const uint8_t *)"paseto-encryption-key",
                              21);
    crypto_generichash_update(&st, n, 32);
    crypto_generichash_final(&st, ekn2, 56);
    crypto_generichash_init(&st, k, 32, 32);
    crypto_generichash_update(&st,
                              (const uint8_t *)"paseto-auth-key-for-aead", 24);
    crypto_generichash_update(&st, n, 32);
    crypto_generichash_final(&st, ak, 32);
}

static void
raw_local_mac(const uint8_t ak[32], const uint8_t *n, const uint8_t *c,
              size_t clen, const void *f, size_t flen, uint8_t t[32])
{
    crypto_generichash_state st;
    uint8_t count[8];

    crypto_generichash_init(&st, ak, 32, 32);
    le64(count, 5);
    crypto_generichash_update(&st, count, 8);
    mac_piece(&st, "v4.local.", 9);
    mac_piece(&st, n, 32);
    mac_piece(&st, c, clen);
    mac_piece(&st, f, flen);
    mac_piece(&st, IMPLICIT, sizeof(IMPLICIT) - 1);
    crypto_generichash_final(&st, t, 32);
}

static size_t
raw_local_issue(const uint8_t *k, const char *m, size_t mlen, const char *f,
                size_t flen, char *tok, size_t cap)
{
    uint8_t body[1024], ekn2[56], ak[32];
    size_t off;

    randombytes_buf(body, 32);
    raw_local_keys(k, body, ekn2, ak);
    crypto_stream_xchacha20_xor(body + 32, (const uint8_t *)m, mlen,
                                ekn2 + 32, ekn2);
    raw_local_mac(ak, body, body + 32, mlen, f, flen, body + 32 + mlen);
    memcpy(tok, "v4.local.", 9);
    sodium_bin2base64(tok + 9, cap - 9, body, mlen + 64, B64);
    off = strlen(tok);
    tok[off] = '.';
    sodium_bin2base64(tok + off + 1, cap - off - 1, (const uint8_t *)f, flen,
                      B64);
    return strlen(tok);
}

static int
raw_local_verify(const uint8_t *k, const char *tok, size_t len, uint8_t *out,
                 size_t *olen)
{
    uint8_t body[1024], f[256], ekn2[56], ak[32], t[32];
    const char *dot = memchr(tok + 9, '.', len - 9);
    size_t blen, flen, clen;

    if (dot == NULL ||
        sodium_base642bin(body, sizeof(body), tok + 9,
                          (size_t)(dot - tok - 9), NULL, &blen, NULL,
                          B64) != 0 ||
        sodium_base642bin(f, sizeof(f), dot + 1,
                          len - (size_t)(dot + 1 - tok), NULL, &flen, NULL,
                          B64) != 0 ||
        blen < 64) {
        return -1;
    }
    clen = blen - 64;
    raw_local_keys(k, body, ekn2, ak);
    raw_local_mac(ak, body, body + 32, clen, f, flen, t);
    if (crypto_verify_32(t, body + 32 + clen) != 0) {
        return -1;
    }
    crypto_stream_xchacha20_xor(out, body + 32, clen, ekn2 + 32, ekn2);
    *olen = clen;
    return 0;
}

static size_t
raw_pae(uint8_t *pae, const void *m, size_t mlen, const void *f, size_t flen)
{
    size_t o = 0, ilen = sizeof(IMPLICIT) - 1;

    le64(pae, 4);
    le64(pae + 8, 10);
    memcpy(pae + 16, "v4.public.", 10);
    o = 26;
    le64(pae + o, mlen);
    memcpy(pae + o + 8, m, mlen);
    o += 8 + mlen;
    le64(pae + o, flen);
    memcpy(pae + o + 8, f, flen);
    o += 8 + flen;
    le64(pae + o, ilen);
    memcpy(pae + o + 8, IMPLICIT, ilen);
    return o + 8 + ilen;
}

static size_t
raw_public_issue(const uint8_t *sk, const char *m, size_t mlen, const char *f,
                 size_t flen, char *tok, size_t cap)
{
    uint8_t pae[2048], body[1024];
    size_t plen = raw_pae(pae, m, mlen, f, flen), off;

    memcpy(body, m, mlen);
    crypto_sign_detached(body + mlen, NULL, pae, plen, sk);
    memcpy(tok, "v4.public.", 10);
    sodium_bin2base64(tok + 10, cap - 10, body, mlen + 64, B64);
    off = strlen(tok);
    tok[off] = '.';
    sodium_bin2base64(tok + off + 1, cap - off - 1, (const uint8_t *)f, flen,
                      B64);
    return strlen(tok);
}

static int
raw_public_verify(const uint8_t *pk, const char *tok, size_t len,
                  uint8_t *out, size_t *olen)
{
    uint8_t body[1024], f[256], pae[2048];
    const char *dot = memchr(tok + 10, '.', len - 10);
    size_t blen, flen, mlen, plen;

    if (dot == NULL ||
        sodium_base642bin(body, sizeof(body), tok + 10,
                          (size_t)(dot - tok - 10), NULL, &blen, NULL,
                          B64) != 0 ||
        sodium_base642bin(f, sizeof(f), dot + 1,
                          len - (size_t)(dot + 1 - tok), NULL, &flen, NULL,
                          B64) != 0 ||
        blen < 64) {
        return -1;
    }
    mlen = blen - 64;
    plen = raw_pae(pae, body, mlen, f, flen);
    if (crypto_sign_verify_detached(body + mlen, pae, plen, pk) != 0) {
        return -1;
    }
    memcpy(out, body, mlen);
    *olen = mlen;
    return 0;
}

/* ---- the measurements ---- */

typedef struct ctx {
    lg_key_t *local, *secret, *pub;
    uint8_t local_raw[32], sk_raw[64], pk_raw[32];
    char footer_l[128], footer_p[128];
    char tok_l[1024], tok_p[1024];
    lg_token_opts_t claims, no_claims;
} ctx_t;

enum op {
    OP_LOCAL_ISSUE,
    OP_LOCAL_VERIFY,
    OP_LOCAL_VERIFY_NC,
    OP_PUBLIC_ISSUE,
    OP_PUBLIC_VERIFY,
    OP_PUBLIC_VERIFY_NC,
    OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "v4.local issue", "v4.local verify", "v4.local verify, no claims",
    "v4.public issue", "v4.public verify", "v4.public verify, no claims",
};

/* One call of `op`, by libguard (lib != 0) or by the baseline. */
static void
run_once(ctx_t *c, enum op op, int lib)
{
    char tok[1024];
    uint8_t out[1024];
    size_t n = 0;
    int bad = 0;
    size_t clen = sizeof(CLAIMS) - 1, ilen = sizeof(IMPLICIT) - 1;

    switch (op) {
    case OP_LOCAL_ISSUE:
        if (lib) {
            bad = lg_token_encrypt(c->local, CLAIMS, clen, c->footer_l,
                                   strlen(c->footer_l), IMPLICIT, ilen, tok,
                                   sizeof(tok), NULL) != LG_OK;
        } else {
            raw_local_issue(c->local_raw, CLAIMS, clen, c->footer_l,
                            strlen(c->footer_l), tok, sizeof(tok));
        }
        break;
    case OP_LOCAL_VERIFY:
    case OP_LOCAL_VERIFY_NC:
        if (lib) {
            bad = lg_token_verify(c->local, c->tok_l, strlen(c->tok_l), NULL,
                                  0, IMPLICIT, ilen,
                                  op == OP_LOCAL_VERIFY ? &c->claims
                                                        : &c->no_claims,
                                  out, sizeof(out), &n) != LG_OK;
        } else {
            bad = raw_local_verify(c->local_raw, c->tok_l, strlen(c->tok_l),
                                   out, &n) != 0;
        }
        bad |= n != clen;
        break;
    case OP_PUBLIC_ISSUE:
        if (lib) {
            bad = lg_token_sign(c->secret, CLAIMS, clen, c->footer_p,
                                strlen(c->footer_p), IMPLICIT, ilen, tok,
                                sizeof(tok), NULL) != LG_OK;
        } else {
            raw_public_issue(c->sk_raw, CLAIMS, clen, c->footer_p,
                             strlen(c->footer_p), tok, sizeof(tok));
        }
        break;
    case OP_PUBLIC_VERIFY:
    case OP_PUBLIC_VERIFY_NC:
        if (lib) {
            bad = lg_token_verify(c->pub, c->tok_p, strlen(c->tok_p), NULL, 0,
                                  IMPLICIT, ilen,
                                  op == OP_PUBLIC_VERIFY ? &c->claims
                                                         : &c->no_claims,
                                  out, sizeof(out), &n) != LG_OK;
        } else {
            bad = raw_public_verify(c->pk_raw, c->tok_p, strlen(c->tok_p),
                                    out, &n) != 0;
        }
        bad |= n != clen;
        break;
    default:
        break;
    }
    if (bad) {
        die(op_names[op]);
    }
}

static double
time_op(ctx_t *c, enum op op, int lib, int iters)
{
    double t0 = (double)bench_now_ns();

    for (int i = 0; i < iters; i++) {
        run_once(c, op, lib);
    }
    return ((double)bench_now_ns() - t0) / iters;
}

/* The raw bytes of a key, through its PASERK string. */
static void
raw_of(const lg_key_t *k, uint8_t *out, size_t len)
{
    char s[LG_KEY_PASERK_MAX];
    const char *data;
    size_t n = 0;

    if (lg_key_paserk(k, s, sizeof(s), NULL) != LG_OK) {
        die("lg_key_paserk");
    }
    data = strchr(s + 3, '.') + 1;
    if (sodium_base642bin(out, len, data, strlen(data), NULL, &n, NULL,
                          B64) != 0 ||
        n != len) {
        die("base64 of a key");
    }
}

int
main(int argc, char **argv)
{
    ctx_t c;
    double lib[OP_COUNT][REPS], raw[OP_COUNT][REPS];
    long scale = argc > 1 ? strtol(argv[1], NULL, 10) : 1;

    memset(&c, 0, sizeof(c));
    if (scale < 1) {
        scale = 1;
    }
    if (lg_key_generate(LG_KEY_LOCAL, &c.local) != LG_OK ||
        lg_key_generate(LG_KEY_SECRET, &c.secret) != LG_OK ||
        lg_key_public(c.secret, &c.pub) != LG_OK ||
        lg_token_footer_kid(c.local, c.footer_l, sizeof(c.footer_l), NULL) !=
            LG_OK ||
        lg_token_footer_kid(c.secret, c.footer_p, sizeof(c.footer_p), NULL) !=
            LG_OK) {
        die("cannot make keys");
    }
    raw_of(c.local, c.local_raw, 32);
    raw_of(c.secret, c.sk_raw, 64);
    raw_of(c.pub, c.pk_raw, 32);
    lg_token_opts_init(&c.claims);
    c.claims.now = NOW;
    c.claims.audience = "api.example";
    c.no_claims = c.claims;
    c.no_claims.flags = LG_TOKEN_NO_CLAIMS;
    if (lg_token_encrypt(c.local, CLAIMS, sizeof(CLAIMS) - 1, c.footer_l,
                         strlen(c.footer_l), IMPLICIT, sizeof(IMPLICIT) - 1,
                         c.tok_l, sizeof(c.tok_l), NULL) != LG_OK ||
        lg_token_sign(c.secret, CLAIMS, sizeof(CLAIMS) - 1, c.footer_p,
                      strlen(c.footer_p), IMPLICIT, sizeof(IMPLICIT) - 1,
                      c.tok_p, sizeof(c.tok_p), NULL) != LG_OK) {
        die("cannot issue the tokens");
    }
    /* Each implementation must accept the other's tokens. */
    {
        uint8_t out[1024];
        size_t n;
        char tok[1024];

        raw_local_issue(c.local_raw, CLAIMS, sizeof(CLAIMS) - 1, c.footer_l,
                        strlen(c.footer_l), tok, sizeof(tok));
        if (lg_token_verify(c.local, tok, strlen(tok), NULL, 0, IMPLICIT,
                            sizeof(IMPLICIT) - 1, &c.claims, out, sizeof(out),
                            &n) != LG_OK ||
            raw_local_verify(c.local_raw, c.tok_l, strlen(c.tok_l), out,
                             &n) != 0 ||
            raw_public_verify(c.pk_raw, c.tok_p, strlen(c.tok_p), out, &n) !=
                0) {
            die("the baseline and libguard disagree");
        }
    }

    printf("payload %zu bytes (claims), footer {\"kid\":...} %zu bytes, "
           "implicit %zu bytes; tokens %zu (local) and %zu (public) bytes\n",
           sizeof(CLAIMS) - 1, strlen(c.footer_l), sizeof(IMPLICIT) - 1,
           strlen(c.tok_l), strlen(c.tok_p));
    for (int r = 0; r < REPS; r++) {
        for (int op = 0; op < OP_COUNT; op++) {
            int iters = (int)((op >= OP_PUBLIC_ISSUE ? 2000 : 20000) *
                              (scale > 100 ? 100 : scale));

            run_once(&c, (enum op)op, 1); /* warm up */
            run_once(&c, (enum op)op, 0);
            lib[op][r] = time_op(&c, (enum op)op, 1, iters);
            raw[op][r] = time_op(&c, (enum op)op, 0, iters);
        }
    }
    printf("\n| operation | libguard µs | libsodium direct µs | ratio |\n"
           "|---|---|---|---|\n");
    for (int op = 0; op < OP_COUNT; op++) {
        double l, b;

        qsort(lib[op], REPS, sizeof(double), bench_cmp_double);
        qsort(raw[op], REPS, sizeof(double), bench_cmp_double);
        l = lib[op][REPS / 2];
        b = raw[op][REPS / 2];
        printf("| %s | %.2f | %.2f | %.2fx |\n", op_names[op], l / 1000.0,
               b / 1000.0, l / b);
    }
    lg_key_free(c.local);
    lg_key_free(c.secret);
    lg_key_free(c.pub);
    sodium_memzero(&c, sizeof(c));
    return 0;
}
