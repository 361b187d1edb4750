/*
 * Tests of PASETO v4 tokens and PASERK keys (include/libguard/lg_token.h):
 * every known-answer vector of tests/vectors/ (paseto-v4.json: E, S and F;
 * paserk-k4.*.json), round trips, key rings and rotation, claims and
 * clock skew, and hostile tokens, each of which must fail with the one
 * generic LG_E_TOKEN.
 */
#include <sodium.h>
#include <jansson.h>

#include "lg_test.h"

#include "../../libguard/token/token_int.h"

#define VEC_DIR LG_TEST_DATA_DIR "/vectors/"

/* 2021-06-01T00:00:00Z: before the vectors' "exp" of 2022-01-01. */
#define VEC_NOW 1622505600
/* A fixed "now" for claim tests: 2026-01-01T00:00:00Z. */
#define NOW 1767225600

static json_t *
load_vectors(const char *name)
{
    char path[512];
    json_error_t err;
    json_t *root;

    snprintf(path, sizeof(path), "%s%s", VEC_DIR, name);
    root = json_load_file(path, 0, &err);
    if (root == NULL) {
        fail_msg("%s:%d: %s", path, err.line, err.text);
    }
    assert_true(json_is_array(json_object_get(root, "tests")));
    return root;
}

static const char *
str_field(json_t *t, const char *name)
{
    json_t *v = json_object_get(t, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Hex field into a malloc'ed buffer; NULL when absent or null. */
static uint8_t *
hex_field(json_t *t, const char *name, size_t *len)
{
    const char *hex = str_field(t, name);
    uint8_t *bin;

    *len = 0;
    if (hex == NULL) {
        return NULL;
    }
    bin = malloc(strlen(hex) / 2 + 1);
    assert_non_null(bin);
    assert_int_equal(sodium_hex2bin(bin, strlen(hex) / 2 + 1, hex,
                                    strlen(hex), NULL, len, NULL),
                     0);
    return bin;
}

static lg_key_t *
key_hex(lg_key_type_t type, const char *hex)
{
    uint8_t bin[64];
    size_t len = 0;
    lg_key_t *k = NULL;

    assert_int_equal(
        sodium_hex2bin(bin, sizeof(bin), hex, strlen(hex), NULL, &len, NULL),
        0);
    assert_status(lg_key_from_bytes(type, bin, len, &k), LG_OK);
    return k;
}

static lg_token_opts_t
opts_at(int64_t now)
{
    lg_token_opts_t o;

    lg_token_opts_init(&o);
    o.now = now;
    return o;
}

/* ---- PASETO v4 vectors ---- */

static void
test_token_vectors_paseto_v4(void **state)
{
    json_t *root = load_vectors("paseto-v4.json");
    json_t *tests = json_object_get(root, "tests");
    size_t i, ne = 0, ns = 0, nf = 0;
    json_t *t;

    (void)state;
    json_array_foreach(tests, i, t) {
        const char *name = str_field(t, "name");
        const char *tok = str_field(t, "token");
        const char *footer = str_field(t, "footer");
        const char *implicit = str_field(t, "implicit-assertion");
        const char *payload = str_field(t, "payload");
        int fail = json_is_true(json_object_get(t, "expect-fail"));
        size_t tlen = strlen(tok), flen = strlen(footer),
               ilen = strlen(implicit);
        lg_token_opts_t o = opts_at(VEC_NOW);
        lg_token_opts_t raw = opts_at(VEC_NOW);
        char out[1024];
        uint8_t pl[1024];
        size_t need = 0, plen = 7;
        lg_key_t *vk = NULL, *sk = NULL;

        raw.flags = LG_TOKEN_NO_CLAIMS;
        assert_non_null(name);
        if (strncmp(name, "4-E-", 4) == 0 || strncmp(name, "4-S-", 4) == 0) {
            assert_false(fail);
            assert_non_null(payload);
            if (name[2] == 'E') {
                size_t nlen;
                uint8_t *nonce = hex_field(t, "nonce", &nlen);

                vk = key_hex(LG_KEY_LOCAL, str_field(t, "key"));
                assert_int_equal(nlen, 32);
                assert_status(lgi_token_encrypt_nonce(
                                  vk, nonce, payload, strlen(payload), footer,
                                  flen, implicit, ilen, out, sizeof(out),
                                  &need),
                              LG_OK);
                free(nonce);
                ne++;
            } else {
                sk = key_hex(LG_KEY_SECRET, str_field(t, "secret-key"));
                vk = key_hex(LG_KEY_PUBLIC, str_field(t, "public-key"));
                assert_status(lg_token_sign(sk, payload, strlen(payload),
                                            footer, flen, implicit, ilen, out,
                                            sizeof(out), &need),
                              LG_OK);
                ns++;
            }
            assert_string_equal(out, tok);
            assert_int_equal(need, tlen + 1);
            /* Verified with claim checks (the vectors' exp is 2022) and
             * without, with the footer expected and with any footer. */
            assert_status(lg_token_verify(vk, tok, tlen, footer, flen,
                                          implicit, ilen, &o, pl, sizeof(pl),
                                          &plen),
                          LG_OK);
            assert_int_equal(plen, strlen(payload));
            assert_memory_equal(pl, payload, plen);
            assert_status(lg_token_verify(vk, tok, tlen, NULL, 0, implicit,
                                          ilen, &raw, pl, sizeof(pl), &plen),
                          LG_OK);
            assert_memory_equal(pl, payload, plen);
            /* Past "exp" the same token fails. */
            o.now = 1640995200; /* 2022-01-01T00:00:00Z */
            o.skew = 0;
            assert_status(lg_token_verify(vk, tok, tlen, footer, flen,
                                          implicit, ilen, &o, pl, sizeof(pl),
                                          &plen),
                          LG_E_TOKEN);
            assert_int_equal(plen, 0);
        } else {
            assert_true(strncmp(name, "4-F-", 4) == 0);
            assert_true(fail);
            if (str_field(t, "key") != NULL) {
                vk = key_hex(LG_KEY_LOCAL, str_field(t, "key"));
            } else {
                vk = key_hex(LG_KEY_PUBLIC, str_field(t, "public-key"));
            }
            assert_status(lg_token_verify(vk, tok, tlen, footer, flen,
                                          implicit, ilen, &o, pl, sizeof(pl),
                                          &plen),
                          LG_E_TOKEN);
            assert_status(lg_token_verify(vk, tok, tlen, NULL, 0, implicit,
                                          ilen, &raw, pl, sizeof(pl), &plen),
                          LG_E_TOKEN);
            assert_int_equal(plen, 0);
            nf++;
        }
        lg_key_free(vk);
        lg_key_free(sk);
    }
    print_message("paseto-v4.json: %zu E, %zu S, %zu F vectors passed\n", ne,
                  ns, nf);
    assert_int_equal(ne + ns + nf, json_array_size(tests));
    assert_true(ne >= 9 && ns >= 3 && nf >= 5);
    json_decref(root);
}

/* ---- PASERK vectors ---- */

static const struct {
    const char *file;
    lg_key_type_t type;
    int is_id;
} paserk_files[] = {
    {"paserk-k4.local.json", LG_KEY_LOCAL, 0},
    {"paserk-k4.public.json", LG_KEY_PUBLIC, 0},
    {"paserk-k4.secret.json", LG_KEY_SECRET, 0},
    {"paserk-k4.lid.json", LG_KEY_LOCAL, 1},
    {"paserk-k4.pid.json", LG_KEY_PUBLIC, 1},
    {"paserk-k4.sid.json", LG_KEY_SECRET, 1},
};

static void
test_token_vectors_paserk(void **state)
{
    size_t total = 0;

    (void)state;
    for (size_t f = 0; f < sizeof(paserk_files) / sizeof(paserk_files[0]);
         f++) {
        json_t *root = load_vectors(paserk_files[f].file);
        json_t *tests = json_object_get(root, "tests"), *t;
        lg_key_type_t type = paserk_files[f].type;
        size_t i, n = 0;

        json_array_foreach(tests, i, t) {
            const char *paserk = str_field(t, "paserk");
            int fail = json_is_true(json_object_get(t, "expect-fail"));
            size_t klen;
            uint8_t *key = hex_field(t, "key", &klen);
            lg_key_t *k = (lg_key_t *)1;
            char out[LG_KEY_PASERK_MAX];
            size_t need = 0;

            if (fail) {
                /* Wrong-length raw keys must not serialize; malformed or
                 * foreign PASERKs must not parse. */
                assert_true(key != NULL || paserk != NULL);
                if (key != NULL) {
                    assert_status(lg_key_from_bytes(type, key, klen, &k),
                                  LG_E_INVAL);
                    assert_null(k);
                }
                if (paserk != NULL) {
                    k = (lg_key_t *)1;
                    assert_status(
                        lg_key_from_paserk(paserk, strlen(paserk), &k),
                        LG_E_INVAL);
                    assert_null(k);
                }
            } else {
                assert_non_null(key);
                assert_non_null(paserk);
                assert_status(lg_key_from_bytes(type, key, klen, &k), LG_OK);
                assert_int_equal(lg_key_type(k), type);
                if (paserk_files[f].is_id) {
                    assert_status(lg_key_id(k, out, sizeof(out), &need),
                                  LG_OK);
                } else {
                    lg_key_t *back = NULL;
                    char again[LG_KEY_PASERK_MAX];

                    assert_status(lg_key_paserk(k, out, sizeof(out), &need),
                                  LG_OK);
                    assert_status(
                        lg_key_from_paserk(paserk, strlen(paserk), &back),
                        LG_OK);
                    assert_status(
                        lg_key_paserk(back, again, sizeof(again), NULL),
                        LG_OK);
                    assert_string_equal(again, paserk);
                    lg_key_free(back);
                }
                assert_string_equal(out, paserk);
                assert_int_equal(need, strlen(paserk) + 1);
                lg_key_free(k);
            }
            free(key);
            n++;
        }
        assert_int_equal(n, json_array_size(tests));
        print_message("%s: %zu vectors passed\n", paserk_files[f].file, n);
        total += n;
        json_decref(root);
    }
    assert_true(total >= 20);
}

/* ---- helpers for the behavioural tests ---- */

typedef struct fixture {
    lg_key_t *local, *secret, *pub;
} fixture_t;

static int
setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));

    if (fx == NULL || lg_key_generate(LG_KEY_LOCAL, &fx->local) != LG_OK ||
        lg_key_generate(LG_KEY_SECRET, &fx->secret) != LG_OK ||
        lg_key_public(fx->secret, &fx->pub) != LG_OK) {
        return -1;
    }
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *fx = *state;

    lg_key_free(fx->local);
    lg_key_free(fx->secret);
    lg_key_free(fx->pub);
    free(fx);
    return 0;
}

/* Issue with `k` (local or secret); returns a malloc'ed token. */
static char *
issue(const lg_key_t *k, const char *payload, const char *footer,
      const char *implicit)
{
    size_t plen = strlen(payload), flen = footer ? strlen(footer) : 0;
    size_t ilen = implicit ? strlen(implicit) : 0;
    size_t cap = lg_token_bound(plen, flen), need = 0;
    char *tok = malloc(cap);
    lg_status_t st;

    assert_non_null(tok);
    if (lg_key_type(k) == LG_KEY_LOCAL) {
        st = lg_token_encrypt(k, payload, plen, footer, flen, implicit, ilen,
                              tok, cap, &need);
    } else {
        st = lg_token_sign(k, payload, plen, footer, flen, implicit, ilen, tok,
                           cap, &need);
    }
    assert_status(st, LG_OK);
    assert_int_equal(need, strlen(tok) + 1);
    assert_true(need <= cap);
    return tok;
}

/* Verify `tok` with `k`; LG_OK also checks the payload. */
static lg_status_t
check(const lg_key_t *k, const char *tok, const char *footer,
      const char *implicit, const lg_token_opts_t *o, const char *want)
{
    size_t cap = lg_token_payload_bound(strlen(tok));
    uint8_t *pl = malloc(cap + 1);
    size_t plen = 99;
    lg_status_t st;

    assert_non_null(pl);
    st = lg_token_verify(k, tok, strlen(tok), footer,
                         footer ? strlen(footer) : 0, implicit,
                         implicit ? strlen(implicit) : 0, o, pl, cap, &plen);
    if (st == LG_OK) {
        assert_non_null(want);
        assert_int_equal(plen, strlen(want));
        assert_memory_equal(pl, want, plen);
    } else {
        assert_int_equal(plen, 0);
    }
    free(pl);
    return st;
}

static const char CLAIMS[] = "{\"sub\":\"user-7\",\"aud\":\"api.example\","
                             "\"iss\":\"issuer.example\","
                             "\"iat\":\"2025-12-31T23:00:00Z\","
                             "\"nbf\":\"2025-12-31T23:00:00Z\","
                             "\"exp\":\"2026-01-01T01:00:00+00:00\"}";

/* ---- round trips ---- */

static void
test_token_round_trip(void **state)
{
    fixture_t *fx = *state;
    lg_token_opts_t o = opts_at(NOW);
    const lg_key_t *issuers[2] = {fx->local, fx->secret};
    const lg_key_t *verifiers[2] = {fx->local, fx->pub};

    for (int i = 0; i < 2; i++) {
        char *a = issue(issuers[i], CLAIMS, NULL, NULL);
        char *b = issue(issuers[i], CLAIMS, "{\"kid\":\"x\"}", "ctx-1");

        assert_true(strncmp(a, i == 0 ? "v4.local." : "v4.public.",
                            i == 0 ? 9 : 10) == 0);
        assert_null(strchr(a + 10, '.'));
        assert_status(check(verifiers[i], a, NULL, NULL, &o, CLAIMS), LG_OK);
        assert_status(check(verifiers[i], a, "", NULL, &o, CLAIMS), LG_OK);
        assert_status(
            check(verifiers[i], b, "{\"kid\":\"x\"}", "ctx-1", &o, CLAIMS),
            LG_OK);
        assert_status(check(verifiers[i], b, NULL, "ctx-1", &o, CLAIMS),
                      LG_OK);
        /* Empty payload, NO_CLAIMS. */
        {
            lg_token_opts_t raw = o;
            char *e = issue(issuers[i], "", NULL, NULL);
            size_t plen = 5;

            raw.flags = LG_TOKEN_NO_CLAIMS;
            assert_status(lg_token_verify(verifiers[i], e, strlen(e), NULL, 0,
                                          NULL, 0, &raw, NULL, 0, &plen),
                          LG_OK);
            assert_int_equal(plen, 0);
            /* Not a claims object: fails unless NO_CLAIMS. */
            assert_status(check(verifiers[i], e, NULL, NULL, &o, ""),
                          LG_E_TOKEN);
            free(e);
        }
        free(a);
        free(b);
    }
    /* v4.local is randomized: two tokens of one payload differ. */
    {
        char *x = issue(fx->local, CLAIMS, NULL, NULL);
        char *y = issue(fx->local, CLAIMS, NULL, NULL);

        assert_string_not_equal(x, y);
        free(x);
        free(y);
    }
}

/* ---- hostile tokens: every one is LG_E_TOKEN ---- */

static void
test_token_bad_input(void **state)
{
    fixture_t *fx = *state;
    lg_token_opts_t o = opts_at(NOW);
    const lg_key_t *issuers[2] = {fx->local, fx->secret};
    const lg_key_t *verifiers[2] = {fx->local, fx->pub};
    lg_key_t *other = NULL;

    assert_status(lg_key_generate(LG_KEY_LOCAL, &other), LG_OK);
    for (int i = 0; i < 2; i++) {
        const lg_key_t *vk = verifiers[i];
        char *tok = issue(issuers[i], CLAIMS, "{\"kid\":\"f\"}", "ctx");
        size_t len = strlen(tok);
        size_t hlen = i == 0 ? 9 : 10;
        char *bad = malloc(len + 8);
        char *big;

        assert_non_null(bad);
        assert_status(check(vk, tok, "{\"kid\":\"f\"}", "ctx", &o, CLAIMS),
                      LG_OK);
        /* Wrong version or purpose. */
        for (const char *const *h = (const char *const[]){
                 "v3.local.", "v2.public", "v4.locaL.", "v4.secret",
                 "V4.public", "v4:public", NULL};
             *h != NULL; h++) {
            memcpy(bad, tok, len + 1);
            memcpy(bad, *h, 9);
            assert_status(check(vk, bad, NULL, "ctx", &o, NULL), LG_E_TOKEN);
        }
        /* A key of the other purpose: local key on a public token and
         * the other way round. */
        assert_status(check(verifiers[1 - i], tok, NULL, "ctx", &o, NULL),
                      LG_E_TOKEN);
        /* Another key of the right type. */
        if (i == 0) {
            assert_status(check(other, tok, NULL, "ctx", &o, NULL),
                          LG_E_TOKEN);
        }
        /* Every truncation, including into the header. */
        for (size_t n = 0; n < len; n++) {
            size_t plen = 3;

            assert_status(lg_token_verify(vk, tok, n, NULL, 0, "ctx", 3, &o,
                                          bad, len, &plen),
                          LG_E_TOKEN);
            assert_int_equal(plen, 0);
        }
        /* Every single-character change of the body and footer, to
         * another base64url character or to a non-base64 one. */
        for (size_t p = hlen; p < len; p++) {
            if (tok[p] == '.') {
                continue;
            }
            memcpy(bad, tok, len + 1);
            /* (A change of a last character's padding bits alone is
             * refused by the strict decoder.) */
            bad[p] = tok[p] == 'A' ? 'B' : 'A';
            assert_status(check(vk, bad, NULL, "ctx", &o, NULL), LG_E_TOKEN);
            bad[p] = '+';
            assert_status(check(vk, bad, NULL, "ctx", &o, NULL), LG_E_TOKEN);
        }
        /* Bytes >= 0x80 in place of base64url characters: libsodium
         * 1.0.18 decodes some of them (test_fuzz_b64_nonascii). */
        for (size_t p = hlen; p < hlen + 24; p++) {
            memcpy(bad, tok, len + 1);
            for (unsigned c = 0x80; c <= 0xff; c++) {
                bad[p] = (char)c;
                assert_status(check(vk, bad, NULL, "ctx", &o, NULL),
                              LG_E_TOKEN);
            }
        }
        /* Padding, a trailing dot, a second footer, a stray dot. */
        snprintf(bad, len + 8, "%s=", tok);
        assert_status(check(vk, bad, NULL, "ctx", &o, NULL), LG_E_TOKEN);
        snprintf(bad, len + 8, "%s.", tok);
        assert_status(check(vk, bad, NULL, "ctx", &o, NULL), LG_E_TOKEN);
        snprintf(bad, len + 8, "%s.e30", tok);
        assert_status(check(vk, bad, NULL, "ctx", &o, NULL), LG_E_TOKEN);
        /* The footer removed, or replaced (tampered footer). */
        memcpy(bad, tok, len + 1);
        *strrchr(bad, '.') = '\0';
        assert_status(check(vk, bad, NULL, "ctx", &o, NULL), LG_E_TOKEN);
        snprintf(strrchr(bad, '\0'), 8, ".e30"); /* "{}" */
        assert_status(check(vk, bad, NULL, "ctx", &o, NULL), LG_E_TOKEN);
        /* Another expected footer, a wrong implicit assertion. */
        assert_status(check(vk, tok, "{\"kid\":\"g\"}", "ctx", &o, NULL),
                      LG_E_TOKEN);
        assert_status(check(vk, tok, "", "ctx", &o, NULL), LG_E_TOKEN);
        assert_status(check(vk, tok, NULL, "ctx2", &o, NULL), LG_E_TOKEN);
        assert_status(check(vk, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
        /* Oversized: a valid-looking token longer than LG_TOKEN_MAX. */
        big = malloc(LG_TOKEN_MAX + 64);
        assert_non_null(big);
        memcpy(big, tok, hlen);
        memset(big + hlen, 'A', LG_TOKEN_MAX + 60 - hlen);
        big[LG_TOKEN_MAX + 60] = '\0';
        assert_status(check(vk, big, NULL, NULL, &o, NULL), LG_E_TOKEN);
        free(big);
        free(bad);
        free(tok);
    }
    /* A secret key cannot verify: a caller error, whatever the token. */
    {
        size_t plen = 1;

        assert_status(lg_token_verify(fx->secret, "v4.public.x", 11, NULL, 0,
                                      NULL, 0, NULL, NULL, 0, &plen),
                      LG_E_INVAL);
        assert_int_equal(plen, 0);
    }
    /* Bad base64 in a PASERK; a key of the wrong type for issuing. */
    {
        lg_key_t *k = (lg_key_t *)1;
        char tok[512];

        assert_status(lg_key_from_paserk("k4.local.cHFyc3R1dnd4eXp7fH1+f4CBgoO"
                                         "EhYaHiImKi4yNjo8",
                                         52, &k),
                      LG_E_INVAL);
        assert_null(k);
        assert_status(lg_token_encrypt(fx->secret, "{}", 2, NULL, 0, NULL, 0,
                                       tok, sizeof(tok), NULL),
                      LG_E_INVAL);
        assert_status(lg_token_sign(fx->local, "{}", 2, NULL, 0, NULL, 0, tok,
                                    sizeof(tok), NULL),
                      LG_E_INVAL);
        assert_status(lg_token_sign(fx->pub, "{}", 2, NULL, 0, NULL, 0, tok,
                                    sizeof(tok), NULL),
                      LG_E_INVAL);
    }
    lg_key_free(other);
}

/* ---- claims ---- */

static char *
claims_token(const lg_key_t *k, const char *claims)
{
    return issue(k, claims, NULL, NULL);
}

static void
test_token_claims(void **state)
{
    fixture_t *fx = *state;
    lg_token_opts_t o = opts_at(NOW);
    char *tok = claims_token(fx->local, CLAIMS);

    /* exp is NOW + 3600. */
    o.skew = 0;
    o.now = NOW + 3599;
    assert_status(check(fx->local, tok, NULL, NULL, &o, CLAIMS), LG_OK);
    o.now = NOW + 3600;
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    o.skew = 60;
    assert_status(check(fx->local, tok, NULL, NULL, &o, CLAIMS), LG_OK);
    o.now = NOW + 3660;
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    /* nbf and iat are NOW - 3600: not yet valid before that. */
    o.skew = 0;
    o.now = NOW - 3601;
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    o.skew = 1;
    assert_status(check(fx->local, tok, NULL, NULL, &o, CLAIMS), LG_OK);
    /* Audience, issuer, subject. */
    o = opts_at(NOW);
    o.audience = "api.example";
    o.issuer = "issuer.example";
    o.subject = "user-7";
    assert_status(check(fx->local, tok, NULL, NULL, &o, CLAIMS), LG_OK);
    o.audience = "api.example.evil";
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    o.audience = "api.exampl";
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    o.audience = "";
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    o.audience = NULL;
    o.issuer = "someone.else";
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    o.issuer = NULL;
    o.subject = "user-8";
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    free(tok);

    /* Claims missing or malformed. */
    {
        static const struct {
            const char *claims;
            int ok; /* with default options at NOW */
        } cases[] = {
            {"{\"exp\":\"2026-01-01T00:00:01Z\"}", 1},
            {"{\"exp\":\"2026-01-01T00:00:00.999Z\"}", 1}, /* skew 60 */
            {"{}", 0},                                     /* exp required */
            {"{\"data\":1}", 0},
            {"[1,2]", 0},
            {"not json", 0},
            {"{\"exp\":1767229200}", 0},                 /* not a string */
            {"{\"exp\":\"tomorrow\"}", 0},
            {"{\"exp\":\"2026-02-30T00:00:00Z\"}", 0},
            {"{\"exp\":\"2026-01-02T00:00:00Z\",\"exp\":\"2020-01-01T00:00:00Z\"}",
             0}, /* duplicate keys */
            {"{\"exp\":\"2026-01-02T00:00:00Z\",\"nbf\":5}", 0},
            {"{\"exp\":\"2026-01-02T00:00:00Z\",\"iat\":\"2026-01-01T00:02:00Z\"}",
             0}, /* issued in the future, beyond the skew */
            {"{\"exp\":\"2026-01-02T00:00:00Z\",\"iat\":\"2026-01-01T00:00:59Z\"}",
             1},
            {"{\"exp\":\"2026-01-02T00:00:00Z\"} trailing", 0},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            char *t = claims_token(fx->secret, cases[i].claims);

            o = opts_at(NOW);
            if (check(fx->pub, t, NULL, NULL, &o, cases[i].claims) !=
                (cases[i].ok ? LG_OK : LG_E_TOKEN)) {
                fail_msg("claims case %zu (%s)", i, cases[i].claims);
            }
            free(t);
        }
    }
    /* exp optional when not required; NO_CLAIMS skips everything. */
    tok = claims_token(fx->local, "{\"data\":1}");
    o = opts_at(NOW);
    o.flags = 0;
    assert_status(check(fx->local, tok, NULL, NULL, &o, "{\"data\":1}"),
                  LG_OK);
    o.audience = "x";
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    free(tok);
    tok = claims_token(fx->local, "{\"exp\":\"2000-01-01T00:00:00Z\"}");
    o = opts_at(NOW);
    o.flags = LG_TOKEN_NO_CLAIMS;
    assert_status(
        check(fx->local, tok, NULL, NULL, &o, "{\"exp\":\"2000-01-01T00:00:00Z\"}"),
        LG_OK);
    /* now = 0 is the system clock: long past 2000. */
    o = opts_at(0);
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    /* Absurd times do not overflow. */
    o.now = INT64_MAX;
    assert_status(check(fx->local, tok, NULL, NULL, &o, NULL), LG_E_TOKEN);
    o.now = INT64_MIN;
    assert_status(
        check(fx->local, tok, NULL, NULL, &o, "{\"exp\":\"2000-01-01T00:00:00Z\"}"),
        LG_OK);
    free(tok);
}

/* ---- times ---- */

static void
test_token_time(void **state)
{
    static const struct {
        const char *s;
        int64_t t;
    } good[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2022-01-01T00:00:00+00:00", 1640995200},
        {"2022-01-01t00:00:00z", 1640995200},
        {"2021-12-31T19:00:00-05:00", 1640995200},
        {"2022-01-01T05:30:00.123456+05:30", 1640995200},
        {"2000-02-29T00:00:00Z", 951782400},
        {"1969-12-31T23:59:59Z", -1},
        {"0000-01-01T00:00:00Z", -62167219200LL},
        {"9999-12-31T23:59:59Z", 253402300799LL},
    };
    static const char *const bad[] = {
        "", "2022-01-01", "2022-01-01T00:00:00", "2022-01-01 00:00:00Z",
        "2022-13-01T00:00:00Z", "2022-00-01T00:00:00Z", "2021-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z", "2022-01-32T00:00:00Z", "2022-01-01T24:00:00Z",
        "2022-01-01T00:60:00Z", "2022-01-01T00:00:61Z", "2022-01-01T00:00:00.Z",
        "2022-01-01T00:00:00+0000", "2022-01-01T00:00:00+24:00",
        "2022-01-01T00:00:00Zjunk", "+2022-01-01T00:00:00Z",
        "2022-1-01T00:00:00Z", "２０２２-01-01T00:00:00Z",
    };
    char buf[32];
    size_t need = 0;
    int64_t t = 5;
    uint64_t s = 0x9e3779b97f4a7c15ULL;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_status(lg_token_time_parse(good[i].s, strlen(good[i].s), &t),
                      LG_OK);
        assert_true(t == good[i].t);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (lg_token_time_parse(bad[i], strlen(bad[i]), &t) != LG_E_INVAL) {
            fail_msg("accepted bad time '%s'", bad[i]);
        }
        assert_true(t == 0);
    }
    /* A prefix of a valid time (not NUL-terminated) is not valid. */
    assert_status(lg_token_time_parse("2022-01-01T00:00:00Z", 19, &t),
                  LG_E_INVAL);
    /* Format and parse back, over the whole range. */
    for (int i = 0; i < 20000; i++) {
        int64_t v, back;

        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v = (int64_t)(s % 315569520000ULL) - 62167219200LL;
        assert_status(lg_token_time_format(v, buf, sizeof(buf), &need), LG_OK);
        assert_int_equal(need, 21);
        assert_int_equal(strlen(buf), 20);
        assert_status(lg_token_time_parse(buf, 20, &back), LG_OK);
        assert_true(back == v);
    }
    assert_status(lg_token_time_format(1640995200, buf, sizeof(buf), NULL),
                  LG_OK);
    assert_string_equal(buf, "2022-01-01T00:00:00Z");
    assert_status(lg_token_time_format(0, buf, 20, &need), LG_E_NOSPACE);
    assert_int_equal(need, 21);
    assert_status(lg_token_time_format(253402300800LL, buf, sizeof(buf), NULL),
                  LG_E_INVAL);
    assert_status(lg_token_time_parse(NULL, 0, &t), LG_E_INVAL);
}

/* ---- key rings ---- */

static void
test_token_keyring(void **state)
{
    fixture_t *fx = *state;
    lg_token_opts_t o = opts_at(NOW);
    lg_keyring_t *ring = NULL;
    lg_key_t *old = NULL, *pid_check = NULL;
    char kid_old[128], kid_new[128], kid_pub[128], id[LG_KEY_ID_MAX];
    char *t_old, *t_new, *t_pub, *t_nokid, *t_unknown;
    uint8_t pl[1024];
    size_t plen = 0;

    assert_status(lg_key_generate(LG_KEY_LOCAL, &old), LG_OK);
    assert_status(lg_token_footer_kid(old, kid_old, sizeof(kid_old), NULL),
                  LG_OK);
    assert_status(lg_token_footer_kid(fx->local, kid_new, sizeof(kid_new),
                                      NULL),
                  LG_OK);
    /* A secret key's kid names its public key (k4.pid). */
    assert_status(lg_token_footer_kid(fx->secret, kid_pub, sizeof(kid_pub),
                                      NULL),
                  LG_OK);
    assert_status(lg_key_id(fx->pub, id, sizeof(id), NULL), LG_OK);
    assert_true(strncmp(id, "k4.pid.", 7) == 0);
    assert_non_null(strstr(kid_pub, id));
    assert_status(lg_token_footer_kid(fx->pub, kid_new, sizeof(kid_new),
                                      NULL),
                  LG_OK);
    assert_string_equal(kid_new, kid_pub);
    assert_status(lg_token_footer_kid(fx->local, kid_new, sizeof(kid_new),
                                      NULL),
                  LG_OK);
    assert_true(strncmp(kid_new, "{\"kid\":\"k4.lid.", 15) == 0);

    t_old = issue(old, CLAIMS, kid_old, NULL);
    t_new = issue(fx->local, CLAIMS, kid_new, NULL);
    t_pub = issue(fx->secret, CLAIMS, kid_pub, NULL);
    t_nokid = issue(fx->local, CLAIMS, "{\"k\":1}", NULL);
    {
        lg_key_t *gone = NULL;
        char kid_gone[128];

        assert_status(lg_key_generate(LG_KEY_LOCAL, &gone), LG_OK);
        assert_status(
            lg_token_footer_kid(gone, kid_gone, sizeof(kid_gone), NULL),
            LG_OK);
        t_unknown = issue(gone, CLAIMS, kid_gone, NULL);
        lg_key_free(gone);
    }

    assert_status(lg_keyring_new(&ring), LG_OK);
    assert_status(lg_keyring_add(ring, old), LG_OK);
    assert_status(lg_keyring_add(ring, fx->local), LG_OK);
    assert_status(lg_keyring_add(ring, fx->pub), LG_OK);
    assert_status(lg_keyring_add(ring, fx->local), LG_E_INVAL); /* dup */
    assert_int_equal(lg_keyring_count(ring), 3);
    assert_status(lg_key_id(fx->local, id, sizeof(id), NULL), LG_OK);
    assert_non_null(lg_keyring_find(ring, id, strlen(id)));
    assert_null(lg_keyring_find(ring, id, strlen(id) - 1));
    assert_status(lg_key_public(fx->secret, &pid_check), LG_OK);

    /* Rotation: tokens of the old and the new key both verify. */
    assert_status(lg_token_verify_ring(ring, t_old, strlen(t_old), NULL, 0,
                                       NULL, 0, &o, pl, sizeof(pl), &plen),
                  LG_OK);
    assert_memory_equal(pl, CLAIMS, plen);
    assert_status(lg_token_verify_ring(ring, t_new, strlen(t_new), kid_new,
                                       strlen(kid_new), NULL, 0, &o, pl,
                                       sizeof(pl), &plen),
                  LG_OK);
    assert_status(lg_token_verify_ring(ring, t_pub, strlen(t_pub), NULL, 0,
                                       NULL, 0, &o, pl, sizeof(pl), &plen),
                  LG_OK);
    /* Unknown id, no kid, another expected footer: one error. */
    assert_status(lg_token_verify_ring(ring, t_unknown, strlen(t_unknown),
                                       NULL, 0, NULL, 0, &o, pl, sizeof(pl),
                                       &plen),
                  LG_E_TOKEN);
    assert_int_equal(plen, 0);
    assert_status(lg_token_verify_ring(ring, t_nokid, strlen(t_nokid), NULL,
                                       0, NULL, 0, &o, pl, sizeof(pl), &plen),
                  LG_E_TOKEN);
    assert_status(lg_token_verify_ring(ring, t_new, strlen(t_new), kid_old,
                                       strlen(kid_old), NULL, 0, &o, pl,
                                       sizeof(pl), &plen),
                  LG_E_TOKEN);
    /* A token whose footer names one key but was made with another. */
    {
        char *forged = issue(old, CLAIMS, kid_new, NULL);

        assert_status(lg_token_verify_ring(ring, forged, strlen(forged), NULL,
                                           0, NULL, 0, &o, pl, sizeof(pl),
                                           &plen),
                      LG_E_TOKEN);
        free(forged);
    }
    /* A local token naming the public key, and the other way round. */
    {
        char *x = issue(fx->local, CLAIMS, kid_pub, NULL);
        char *y = issue(fx->secret, CLAIMS, kid_new, NULL);

        assert_status(lg_token_verify_ring(ring, x, strlen(x), NULL, 0, NULL,
                                           0, &o, pl, sizeof(pl), &plen),
                      LG_E_TOKEN);
        assert_status(lg_token_verify_ring(ring, y, strlen(y), NULL, 0, NULL,
                                           0, &o, pl, sizeof(pl), &plen),
                      LG_E_TOKEN);
        free(x);
        free(y);
    }
    /* After the old key is retired (a new ring), its tokens fail. */
    {
        lg_keyring_t *r2 = NULL;

        assert_status(lg_keyring_new(&r2), LG_OK);
        assert_status(lg_keyring_add(r2, fx->local), LG_OK);
        assert_status(lg_token_verify_ring(r2, t_old, strlen(t_old), NULL, 0,
                                           NULL, 0, &o, pl, sizeof(pl),
                                           &plen),
                      LG_E_TOKEN);
        assert_status(lg_token_verify_ring(r2, t_new, strlen(t_new), NULL, 0,
                                           NULL, 0, &o, pl, sizeof(pl),
                                           &plen),
                      LG_OK);
        lg_keyring_free(r2);
    }
    lg_keyring_free(ring);
    lg_key_free(old);
    lg_key_free(pid_check);
    free(t_old);
    free(t_new);
    free(t_pub);
    free(t_nokid);
    free(t_unknown);
}

/* ---- sizes, limits, buffers ---- */

static void
test_token_sizes(void **state)
{
    fixture_t *fx = *state;
    lg_token_opts_t o = opts_at(NOW);
    char *tok = issue(fx->secret, CLAIMS, NULL, NULL);
    uint8_t pl[1024];
    size_t plen = 0, need = 0;
    char small[16];
    char *buf;
    uint8_t *payload;
    lg_status_t st;

    assert_int_equal(lg_key_local_bytes(), LG_KEY_LOCAL_BYTES);
    assert_int_equal(lg_key_public_bytes(), LG_KEY_PUBLIC_BYTES);
    assert_int_equal(lg_key_secret_bytes(), LG_KEY_SECRET_BYTES);
    assert_int_equal(lg_key_paserk_max(), LG_KEY_PASERK_MAX);
    assert_int_equal(lg_key_id_max(), LG_KEY_ID_MAX);
    assert_int_equal(lg_token_max(), LG_TOKEN_MAX);

    /* Payload buffer too small: LG_E_NOSPACE with the size, nothing
     * written; then exactly that size works. */
    memset(pl, 0x5a, sizeof(pl));
    assert_status(lg_token_verify(fx->pub, tok, strlen(tok), NULL, 0, NULL, 0,
                                  &o, pl, strlen(CLAIMS) - 1, &plen),
                  LG_E_NOSPACE);
    assert_int_equal(plen, strlen(CLAIMS));
    assert_int_equal(pl[0], 0x5a);
    assert_status(lg_token_verify(fx->pub, tok, strlen(tok), NULL, 0, NULL, 0,
                                  &o, pl, strlen(CLAIMS), &plen),
                  LG_OK);
    /* Token buffer too small. */
    assert_status(lg_token_sign(fx->secret, CLAIMS, strlen(CLAIMS), NULL, 0,
                                NULL, 0, small, sizeof(small), &need),
                  LG_E_NOSPACE);
    assert_int_equal(need, strlen(tok) + 1);
    free(tok);

    /* Key strings. */
    assert_status(lg_key_paserk(fx->secret, small, sizeof(small), &need),
                  LG_E_NOSPACE);
    assert_int_equal(need, LG_KEY_PASERK_MAX);
    assert_status(lg_key_id(fx->local, small, sizeof(small), &need),
                  LG_E_NOSPACE);
    assert_int_equal(need, LG_KEY_ID_MAX);

    /* The largest payloads: a token of exactly LG_TOKEN_MAX or less is
     * issued and verifies; one byte more is LG_E_LIMIT. */
    buf = malloc(LG_TOKEN_MAX + 1);
    payload = malloc(LG_TOKEN_MAX);
    assert_non_null(buf);
    assert_non_null(payload);
    memset(payload, 'x', LG_TOKEN_MAX);
    for (int i = 0; i < 2; i++) {
        const lg_key_t *k = i == 0 ? fx->local : fx->secret;
        const lg_key_t *vk = i == 0 ? fx->local : fx->pub;
        size_t lo = 0, hi = LG_TOKEN_MAX, best;

        /* Largest payload whose token fits (binary search on size). */
        while (lo < hi) {
            size_t mid = (lo + hi + 1) / 2;

            st = i == 0 ? lg_token_encrypt(k, payload, mid, NULL, 0, NULL, 0,
                                           buf, LG_TOKEN_MAX + 1, &need)
                        : lg_token_sign(k, payload, mid, NULL, 0, NULL, 0,
                                        buf, LG_TOKEN_MAX + 1, &need);
            if (st == LG_OK) {
                lo = mid;
            } else {
                assert_status(st, LG_E_LIMIT);
                hi = mid - 1;
            }
        }
        best = lo;
        assert_true(best > LG_TOKEN_MAX / 2);
        st = i == 0 ? lg_token_encrypt(k, payload, best, NULL, 0, NULL, 0, buf,
                                       LG_TOKEN_MAX + 1, &need)
                    : lg_token_sign(k, payload, best, NULL, 0, NULL, 0, buf,
                                    LG_TOKEN_MAX + 1, &need);
        assert_status(st, LG_OK);
        assert_true(strlen(buf) <= LG_TOKEN_MAX);
        assert_true(lg_token_bound(best, 0) >= strlen(buf) + 1);
        o.flags = LG_TOKEN_NO_CLAIMS;
        {
            uint8_t *out = malloc(lg_token_payload_bound(strlen(buf)));

            assert_non_null(out);
            assert_status(lg_token_verify(vk, buf, strlen(buf), NULL, 0, NULL,
                                          0, &o, out,
                                          lg_token_payload_bound(strlen(buf)),
                                          &plen),
                          LG_OK);
            assert_int_equal(plen, best);
            free(out);
        }
    }
    assert_true(lg_token_bound(SIZE_MAX - 10, 0) == SIZE_MAX);
    free(buf);
    free(payload);
}

/* ---- keys ---- */

static void
test_token_keys(void **state)
{
    fixture_t *fx = *state;
    char s[LG_KEY_PASERK_MAX], id[LG_KEY_ID_MAX];
    lg_key_t *k = NULL;
    uint8_t raw[64];

    assert_int_equal(lg_key_type(fx->local), LG_KEY_LOCAL);
    assert_int_equal(lg_key_type(fx->secret), LG_KEY_SECRET);
    assert_int_equal(lg_key_type(fx->pub), LG_KEY_PUBLIC);
    assert_int_equal(lg_key_type(NULL), 0);
    /* PASERK round trip of generated keys; the prefix says the purpose. */
    assert_status(lg_key_paserk(fx->secret, s, sizeof(s), NULL), LG_OK);
    assert_true(strncmp(s, "k4.secret.", 10) == 0);
    assert_status(lg_key_from_paserk(s, strlen(s), &k), LG_OK);
    assert_int_equal(lg_key_type(k), LG_KEY_SECRET);
    assert_status(lg_key_id(k, id, sizeof(id), NULL), LG_OK);
    assert_true(strncmp(id, "k4.sid.", 7) == 0);
    lg_key_free(k);
    /* Near misses of a valid PASERK. */
    {
        char t[128];
        const char *bad[] = {"k4.local", "k4.local.", "k4.lid.", "K4.local.",
                             "k4.seal.", "k4.local-wrap.", "k4.public."};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(t, sizeof(t), "%s", bad[i]);
            assert_status(lg_key_from_paserk(t, strlen(t), &k), LG_E_INVAL);
        }
        assert_status(lg_key_paserk(fx->local, s, sizeof(s), NULL), LG_OK);
        snprintf(t, sizeof(t), "%s=", s);
        assert_status(lg_key_from_paserk(t, strlen(t), &k), LG_E_INVAL);
        snprintf(t, sizeof(t), "%s", s);
        t[strlen(t) - 1] = t[strlen(t) - 1] == 'A' ? 'B' : 'A';
        /* The last character carries 4 bits of padding: any change either
         * gives another key or is refused as non-canonical. */
        if (lg_key_from_paserk(t, strlen(t), &k) == LG_OK) {
            char again[LG_KEY_PASERK_MAX];

            assert_status(lg_key_paserk(k, again, sizeof(again), NULL), LG_OK);
            assert_string_equal(again, t);
            lg_key_free(k);
        }
        t[strlen(t) - 1] = 'R'; /* 17 = 0b010001: non-zero padding bits */
        assert_status(lg_key_from_paserk(t, strlen(t), &k), LG_E_INVAL);
        /* A public key offered as local is a public key, nothing else. */
        assert_status(lg_key_paserk(fx->pub, s, sizeof(s), NULL), LG_OK);
        memcpy(t, "k4.local.", 9);
        snprintf(t + 9, sizeof(t) - 9, "%s", s + 10);
        assert_status(lg_key_from_paserk(t, strlen(t), &k), LG_OK);
        assert_int_equal(lg_key_type(k), LG_KEY_LOCAL);
        lg_key_free(k);
    }
    /* A secret key whose public half is not its seed's is refused. */
    assert_status(lg_key_paserk(fx->secret, s, sizeof(s), NULL), LG_OK);
    {
        size_t n = 0;

        assert_int_equal(sodium_base642bin(raw, sizeof(raw), s + 10,
                                           strlen(s) - 10, NULL, &n, NULL,
                                           sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                         0);
        assert_int_equal(n, 64);
        raw[63] ^= 1;
        assert_status(lg_key_from_bytes(LG_KEY_SECRET, raw, 64, &k),
                      LG_E_INVAL);
        assert_null(k);
        sodium_memzero(raw, sizeof(raw));
    }
    /* Generating a public key alone makes no sense. */
    assert_status(lg_key_generate(LG_KEY_PUBLIC, &k), LG_E_INVAL);
    assert_status(lg_key_public(fx->local, &k), LG_E_INVAL);
    assert_null(k);
}

/* Found by fuzz_token: a PASERK with a byte >= 0x80 among its base64url
 * characters was accepted (libsodium 1.0.18's decoder takes some such
 * bytes for letters), so one key had several PASERK strings. */
static void
test_fuzz_b64_nonascii(void **state)
{
    static const char repro[] = "k4.local.AAAAAAA\xb7" "AAAAAAAeyJraWQiOiJrNC5"
                                "saWQuAAAAAAAA";
    fixture_t *fx = *state;
    char s[LG_KEY_PASERK_MAX];
    lg_key_t *k = (lg_key_t *)1;

    assert_status(lg_key_from_paserk(repro, sizeof(repro) - 1, &k),
                  LG_E_INVAL);
    assert_null(k);
    assert_status(lg_key_paserk(fx->secret, s, sizeof(s), NULL), LG_OK);
    for (size_t p = 10; p < strlen(s); p++) {
        char t[LG_KEY_PASERK_MAX];

        memcpy(t, s, sizeof(t));
        for (unsigned c = 0x80; c <= 0xff; c++) {
            t[p] = (char)c;
            assert_status(lg_key_from_paserk(t, strlen(t), &k), LG_E_INVAL);
        }
    }
}

/* ---- argument checks (test_api_args style) ---- */

static void
test_token_args(void **state)
{
    fixture_t *fx = *state;
    lg_key_t *k = (lg_key_t *)1;
    lg_keyring_t *r = (lg_keyring_t *)1;
    char buf[256];
    size_t n = 7;
    lg_token_opts_t o;

    assert_status(lg_key_generate(LG_KEY_LOCAL, NULL), LG_E_INVAL);
    assert_status(lg_key_generate((lg_key_type_t)9, &k), LG_E_INVAL);
    assert_null(k);
    k = (lg_key_t *)1;
    assert_status(lg_key_from_paserk(NULL, 0, &k), LG_E_INVAL);
    assert_null(k);
    assert_status(lg_key_from_paserk("k4.local.", 9, NULL), LG_E_INVAL);
    k = (lg_key_t *)1;
    assert_status(lg_key_from_bytes(LG_KEY_LOCAL, NULL, 32, &k), LG_E_INVAL);
    assert_null(k);
    assert_status(lg_key_from_bytes((lg_key_type_t)0, buf, 32, &k),
                  LG_E_INVAL);
    assert_status(lg_key_from_bytes(LG_KEY_LOCAL, buf, 31, &k), LG_E_INVAL);
    assert_status(lg_key_from_bytes(LG_KEY_LOCAL, buf, 33, &k), LG_E_INVAL);
    assert_status(lg_key_public(NULL, &k), LG_E_INVAL);
    assert_status(lg_key_public(fx->secret, NULL), LG_E_INVAL);
    assert_status(lg_key_paserk(NULL, buf, sizeof(buf), &n), LG_E_INVAL);
    assert_int_equal(n, 0);
    assert_status(lg_key_paserk(fx->local, NULL, 5, NULL), LG_E_INVAL);
    assert_status(lg_key_id(NULL, buf, sizeof(buf), NULL), LG_E_INVAL);
    assert_status(lg_key_id(fx->local, NULL, 0, &n), LG_E_NOSPACE);
    assert_int_equal(n, LG_KEY_ID_MAX);
    lg_key_free(NULL);

    assert_status(lg_keyring_new(NULL), LG_E_INVAL);
    assert_status(lg_keyring_new(&r), LG_OK);
    assert_status(lg_keyring_add(r, NULL), LG_E_INVAL);
    assert_status(lg_keyring_add(NULL, fx->local), LG_E_INVAL);
    assert_null(lg_keyring_find(r, NULL, 0));
    assert_null(lg_keyring_find(NULL, "k4.lid.", 7));
    assert_int_equal(lg_keyring_count(NULL), 0);
    assert_status(lg_token_verify_ring(NULL, "v4.local.x", 10, NULL, 0, NULL,
                                       0, NULL, buf, sizeof(buf), &n),
                  LG_E_INVAL);
    assert_int_equal(n, 0);
    /* An empty ring knows no key. */
    assert_status(lg_token_verify_ring(r, "v4.local.x", 10, NULL, 0, NULL, 0,
                                       NULL, buf, sizeof(buf), &n),
                  LG_E_TOKEN);
    lg_keyring_free(r);
    lg_keyring_free(NULL);

    assert_status(lg_token_encrypt(NULL, "{}", 2, NULL, 0, NULL, 0, buf,
                                   sizeof(buf), &n),
                  LG_E_INVAL);
    assert_int_equal(n, 0);
    assert_status(lg_token_encrypt(fx->local, NULL, 2, NULL, 0, NULL, 0, buf,
                                   sizeof(buf), &n),
                  LG_E_INVAL);
    assert_status(lg_token_encrypt(fx->local, "{}", 2, NULL, 3, NULL, 0, buf,
                                   sizeof(buf), &n),
                  LG_E_INVAL);
    assert_status(lg_token_encrypt(fx->local, "{}", 2, NULL, 0, NULL, 3, buf,
                                   sizeof(buf), &n),
                  LG_E_INVAL);
    assert_status(lg_token_encrypt(fx->local, "{}", 2, NULL, 0, NULL, 0, NULL,
                                   sizeof(buf), &n),
                  LG_E_INVAL);
    assert_status(lg_token_encrypt(fx->local, "{}", 2, NULL, 0, NULL, 0, NULL,
                                   0, &n),
                  LG_E_NOSPACE);
    assert_true(n > 0);
    assert_status(lg_token_sign(NULL, "{}", 2, NULL, 0, NULL, 0, buf,
                                sizeof(buf), &n),
                  LG_E_INVAL);
    assert_status(lg_token_footer_kid(NULL, buf, sizeof(buf), &n), LG_E_INVAL);
    assert_status(lg_token_footer_kid(fx->local, NULL, 1, &n), LG_E_INVAL);

    n = 7;
    assert_status(lg_token_verify(NULL, "v4.local.x", 10, NULL, 0, NULL, 0,
                                  NULL, buf, sizeof(buf), &n),
                  LG_E_INVAL);
    assert_int_equal(n, 0);
    assert_status(lg_token_verify(fx->local, NULL, 10, NULL, 0, NULL, 0, NULL,
                                  buf, sizeof(buf), &n),
                  LG_E_INVAL);
    assert_status(lg_token_verify(fx->local, "v4.local.x", 10, NULL, 2, NULL,
                                  0, NULL, buf, sizeof(buf), &n),
                  LG_E_INVAL);
    assert_status(lg_token_verify(fx->local, "v4.local.x", 10, NULL, 0, NULL,
                                  2, NULL, buf, sizeof(buf), &n),
                  LG_E_INVAL);
    assert_status(lg_token_verify(fx->local, "v4.local.x", 10, NULL, 0, NULL,
                                  0, NULL, NULL, 8, &n),
                  LG_E_INVAL);
    lg_token_opts_init(&o);
    o.flags = 0x80;
    assert_status(lg_token_verify(fx->local, "v4.local.x", 10, NULL, 0, NULL,
                                  0, &o, buf, sizeof(buf), &n),
                  LG_E_INVAL);
    lg_token_opts_init(NULL);
    lg_token_opts_init(&o);
    assert_int_equal(o.skew, LG_TOKEN_SKEW_DEFAULT);
    assert_int_equal(o.flags, LG_TOKEN_REQUIRE_EXP);
    assert_true(o.now == 0 && o.audience == NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_vectors_paseto_v4),
        cmocka_unit_test(test_token_vectors_paserk),
        cmocka_unit_test(test_token_time),
        cmocka_unit_test_setup_teardown(test_token_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_keyring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuzz_b64_nonascii, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
