/*
 * Redaction: each mode's exact output on a small made-up pack, merging of
 * overlapping findings, findings through the normalized view redacted at
 * their original bytes, keyed hashes, encrypt/unredact round trips
 * (tampering included), buffer sizes, bad arguments, JSON records, and a
 * property over random inputs: no redacted output still holds a value that
 * was found.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "lg_test.h"

/* Made-up entities; the acct rule has none, so its type is SECRET. */
static const char pack[] =
    "version: 1\n"
    "pack: redact\n"
    "pack_version: '1'\n"
    "views: [raw, normalized]\n"
    "rules:\n"
    "  - id: t.email\n"
    "    category: pii\n"
    "    description: an e-mail address\n"
    "    severity: low\n"
    "    entity: EMAIL\n"
    "    applies_to: both\n"
    "    patterns: ['[a-z0-9._]{1,32}@(?:[a-z0-9-]{1,32}\\.){1,3}[a-z]{2,6}']\n"
    "  - id: t.phone\n"
    "    category: pii\n"
    "    description: a short phone number\n"
    "    severity: low\n"
    "    entity: PHONE\n"
    "    applies_to: both\n"
    "    patterns: ['\\d{3}-\\d{4}']\n"
    "  - id: t.card\n"
    "    category: pii\n"
    "    description: four groups of four digits\n"
    "    severity: medium\n"
    "    entity: CARD\n"
    "    applies_to: both\n"
    "    patterns: ['\\d{4}(?: \\d{4}){3}']\n"
    "  - id: t.acct\n"
    "    category: secret\n"
    "    description: a made-up account token\n"
    "    severity: critical\n"
    "    applies_to: both\n"
    "    patterns: ['acct-\\d{3}-\\d{4}']\n"
    "  - id: t.inj\n"
    "    category: injection\n"
    "    description: not redacted by default\n"
    "    severity: low\n"
    "    applies_to: both\n"
    "    patterns: ['ignore previous']\n";

static lg_rules_t *g_rules;
static lg_scratch_t *g_s;
static uint8_t g_key[LG_REDACT_KEYBYTES];
static uint8_t g_key2[LG_REDACT_KEYBYTES];

static int
setup(void **state)
{
    (void)state;
    if (sodium_init() < 0) {
        return -1;
    }
    g_rules = compile_or_die(pack);
    g_s = scratch_or_die(g_rules, NULL);
    randombytes_buf(g_key, sizeof(g_key));
    randombytes_buf(g_key2, sizeof(g_key2));
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    lg_scratch_free(g_s);
    lg_rules_free(g_rules);
    return 0;
}

/* Scan and redact `len` bytes; returns a malloc'ed, NUL-terminated copy. */
static char *
redact_buf(const void *text, size_t len, const lg_redact_opts_t *o,
           size_t *outlen)
{
    lg_result_t res = scan_buf(g_s, text, len, LG_DIR_BOTH, NULL);
    size_t bound = lg_redact_bound(len, res.nfindings), n = 0;
    char *out = malloc(bound + 1);

    assert_non_null(out);
    assert_status(lg_redact(g_rules, text, len, &res, o, out, bound, &n),
                  LG_OK);
    assert_true(n <= bound);
    out[n] = '\0';
    if (outlen != NULL) {
        *outlen = n;
    }
    return out;
}

static void
expect_redact(const char *in, const lg_redact_opts_t *o, const char *want)
{
    char *out = redact_buf(in, strlen(in), o, NULL);

    assert_string_equal(out, want);
    free(out);
}

static void
test_redact_replace(void **state)
{
    (void)state;
    expect_redact("mail a.b@mail.example.com or call 555-0123.", NULL,
                  "mail <EMAIL> or call <PHONE>.");
    /* Injection is not a redacted category by default; no findings: the
     * input comes back unchanged. */
    expect_redact("please ignore previous notes", NULL,
                  "please ignore previous notes");
    expect_redact("", NULL, "");
    /* A secret without an entity is typed by its category. */
    expect_redact("token acct-123-4567 end", NULL, "token <SECRET> end");
}

static void
test_redact_categories(void **state)
{
    lg_redact_opts_t o;

    (void)state;
    lg_redact_opts_init(&o);
    o.categories = 1u << LG_CAT_SECRET;
    expect_redact("a@b.example.org acct-123-4567", &o,
                  "a@b.example.org <SECRET>");
    o.categories = 1u << LG_CAT_INJECTION;
    expect_redact("please ignore previous notes", &o,
                  "please <INJECTION> notes");
}

static void
test_redact_mask(void **state)
{
    lg_redact_opts_t o;

    (void)state;
    lg_redact_opts_init(&o);
    o.mode = LG_REDACT_MASK;
    expect_redact("card 4111 1111 1111 1111 ok", &o,
                  "card ***************1111 ok");
    /* Never more than half of a short value is kept. */
    expect_redact("to a@b.co", &o, "to ***.co");
    o.mask_keep = 0;
    o.mask_char = '#';
    expect_redact("call 555-0123", &o, "call ########");
    /* Characters, not bytes: fullwidth digits (3 bytes each) found through
     * the normalized view keep four whole characters. */
    o.mask_keep = 4;
    o.mask_char = '*';
    expect_redact("call \xef\xbc\x95\xef\xbc\x95\xef\xbc\x95-\xef\xbc\x90"
                  "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93 now",
                  &o,
                  "call ****\xef\xbc\x90\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93"
                  " now");
}

/* A zero-width space inside an address, and fullwidth letters: both found
 * in the normalized view, both redacted over their original bytes. */
static void
test_redact_normalized_view(void **state)
{
    const char zw[] = "mail jo\xe2\x80\x8bhn@example.com now";
    const char fw[] = "mail \xef\xbd\x8a\xef\xbd\x8f\xef\xbd\x88\xef\xbd\x8e"
                      "@example.com x";
    lg_result_t res;

    (void)state;
    res = scan_lit(g_s, zw, LG_DIR_BOTH, NULL);
    assert_int_equal(res.nfindings, 1);
    assert_int_equal(res.findings[0].start, 5);
    assert_int_equal(res.findings[0].end, sizeof(zw) - 1 - 4);
    assert_true(res.findings[0].views & LG_VIEW_NORMALIZED);
    expect_redact(zw, NULL, "mail <EMAIL> now");
    res = scan_lit(g_s, fw, LG_DIR_BOTH, NULL);
    assert_int_equal(res.nfindings, 1);
    assert_int_equal(res.findings[0].views, LG_VIEW_NORMALIZED);
    expect_redact(fw, NULL, "mail <EMAIL> x");
}

/* Overlapping and touching findings become one span, typed by the highest
 * score. */
static void
test_redact_overlap(void **state)
{
    lg_finding_t f[3];
    lg_result_t res;
    char out[64];
    size_t n;
    const char *t = "x acct-555-0123 y";

    (void)state;
    /* The phone rule matches inside the account token (critical). */
    expect_redact(t, NULL, "x <SECRET> y");
    /* Built by hand: touching spans merge; the medium CARD beats PHONE. */
    memset(&res, 0, sizeof(res));
    memset(f, 0, sizeof(f));
    f[0].rule = 1; /* t.phone */
    f[0].category = LG_CAT_PII;
    f[0].score = 2;
    f[0].start = 2;
    f[0].end = 6;
    f[1].rule = 2; /* t.card */
    f[1].category = LG_CAT_PII;
    f[1].score = 3;
    f[1].start = 6;
    f[1].end = 9;
    f[2].rule = 0; /* t.email, separate */
    f[2].category = LG_CAT_PII;
    f[2].score = 2;
    f[2].start = 11;
    f[2].end = 13;
    res.findings = f;
    res.nfindings = 3;
    assert_status(lg_redact(g_rules, "0123456789abcdef", 16, &res, NULL, out,
                            sizeof(out), &n),
                  LG_OK);
    assert_int_equal(n, strlen("01<CARD>9a<EMAIL>def"));
    assert_memory_equal(out, "01<CARD>9a<EMAIL>def", n);
    /* Equal scores: the one with an entity names the span. */
    f[1].rule = 3; /* t.acct: no entity */
    f[1].category = LG_CAT_SECRET;
    f[1].score = 2;
    res.nfindings = 2;
    assert_status(lg_redact(g_rules, "0123456789abcdef", 16, &res, NULL, out,
                            sizeof(out), &n),
                  LG_OK);
    assert_memory_equal(out, "01<PHONE>9abcdef", n);
}

static int
is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static void
test_redact_hash(void **state)
{
    lg_redact_opts_t o;
    char *a, *b, *c, *d;

    (void)state;
    lg_redact_opts_init(&o);
    o.mode = LG_REDACT_HASH;
    o.key = g_key;
    a = redact_buf("x a@b.example.org", 17, &o, NULL);
    b = redact_buf("other text then a@b.example.org", 31, &o, NULL);
    c = redact_buf("x z@b.example.org", 17, &o, NULL);
    assert_int_equal(strlen(a), 2 + 7 + 16 + 1);
    assert_memory_equal(a, "x <EMAIL:", 9);
    assert_true(is_hex(a + 9, 16));
    assert_int_equal(a[25], '>');
    /* Same value and key, same token, whatever surrounds it. */
    assert_string_equal(a + 2, b + 16);
    /* Another value: another token. */
    assert_string_not_equal(a, c);
    /* Another key: another token. */
    o.key = g_key2;
    d = redact_buf("x a@b.example.org", 17, &o, NULL);
    assert_string_not_equal(a, d);
    free(a);
    free(b);
    free(c);
    free(d);
}

static void
test_redact_encrypt_roundtrip(void **state)
{
    static const char in[] =
        "x\0 a@b.example.org \xc3\xa9 \xc3\xbc 555-0123\0end "
        "acct-987-6543 \xe2\x80\x8b tail";
    lg_redact_opts_t o;
    char *red, *red2, *back;
    size_t n, n2, m, failed = 99;

    (void)state;
    lg_redact_opts_init(&o);
    o.mode = LG_REDACT_ENCRYPT;
    o.key = g_key;
    red = redact_buf(in, sizeof(in) - 1, &o, &n);
    assert_null(memmem(red, n, "a@b.example.org", 15));
    assert_null(memmem(red, n, "555-0123", 8));
    assert_null(memmem(red, n, "acct-987", 8));
    assert_non_null(memmem(red, n, "<EMAIL:e:", 9));
    assert_non_null(memmem(red, n, "<SECRET:e:", 10));
    /* Fresh nonces: two redactions differ, both restore. */
    red2 = redact_buf(in, sizeof(in) - 1, &o, &n2);
    assert_true(n == n2 && memcmp(red, red2, n) != 0);
    back = malloc(n + 1);
    assert_status(lg_unredact(red, n, g_key, back, n, &m, &failed), LG_OK);
    assert_int_equal(failed, 0);
    assert_int_equal(m, sizeof(in) - 1);
    assert_memory_equal(back, in, m);
    assert_status(lg_unredact(red2, n2, g_key, back, n2, &m, NULL), LG_OK);
    assert_memory_equal(back, in, m);
    /* The wrong key restores nothing and says so. */
    assert_status(lg_unredact(red, n, g_key2, back, n, &m, &failed), LG_OK);
    assert_int_equal(failed, 3);
    assert_int_equal(m, n);
    assert_memory_equal(back, red, n);
    /* Too small a buffer: the size needed. */
    assert_status(lg_unredact(red, n, g_key, back, 3, &m, NULL),
                  LG_E_NOSPACE);
    assert_int_equal(m, sizeof(in) - 1);
    free(back);
    free(red);
    free(red2);
}

static void
test_redact_tampered(void **state)
{
    const char *in = "a@b.example.org and 555-0123";
    lg_redact_opts_t o;
    char *red, *back, *p;
    size_t n, m, failed;

    (void)state;
    lg_redact_opts_init(&o);
    o.mode = LG_REDACT_ENCRYPT;
    o.key = g_key;
    red = redact_buf(in, strlen(in), &o, &n);
    back = malloc(n + 1);
    /* Flip one base64 character of the first token. */
    p = red + strlen("<EMAIL:e:") + 5;
    *p = *p == 'A' ? 'B' : 'A';
    assert_status(lg_unredact(red, n, g_key, back, n, &m, &failed), LG_OK);
    assert_int_equal(failed, 1);
    back[m] = '\0';
    assert_non_null(strstr(back, "<EMAIL:e:"));
    assert_non_null(strstr(back, " and 555-0123"));
    assert_memory_equal(back, red, strchr(red, '>') + 1 - red);
    free(red);
    /* A token moved under another type fails: the type is authenticated. */
    red = redact_buf("a@b.example.org", 15, &o, &n);
    memcpy(red + 1, "PHONE", 5);
    assert_status(lg_unredact(red, n, g_key, back, n, &m, &failed), LG_OK);
    assert_int_equal(failed, 1);
    assert_memory_equal(back, red, n);
    free(red);
    free(back);
}

static void
test_unredact_hostile(void **state)
{
    static const char *const cases[] = {
        "<", "<A", "<A:e:", "<A:e:>", "<a:e:AAAA>", "<A:e:AAAA", "<<A:e:<>",
        "<A:x:AAAA>", "<ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG:e:AAAA>",
        "<A:e:A>",
        "<EMAIL:e:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA>",
        "<EMAIL>", "<EMAIL:0123456789abcdef>", "plain text",
    };
    char out[128];
    size_t m, failed;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i]);

        assert_status(lg_unredact(cases[i], n, g_key, out, sizeof(out), &m,
                                  &failed),
                      LG_OK);
        assert_int_equal(m, n);
        assert_memory_equal(out, cases[i], n);
    }
    assert_status(lg_unredact("<A:e:AAAA>", 10, g_key, out, 10, &m, &failed),
                  LG_OK);
    assert_int_equal(failed, 1);
    assert_status(lg_unredact("", 0, g_key, NULL, 0, &m, &failed), LG_OK);
    assert_int_equal(m, 0);
}

static void
test_redact_nospace(void **state)
{
    const char *in = "mail a@b.example.org now";
    lg_result_t res;
    lg_redact_opts_t o;
    char out[256];
    size_t n, need;

    (void)state;
    lg_redact_opts_init(&o);
    o.key = g_key;
    for (int mode = 0; mode <= LG_REDACT_ENCRYPT; mode++) {
        o.mode = (lg_redact_mode_t)mode;
        res = scan_buf(g_s, in, strlen(in), LG_DIR_BOTH, NULL);
        assert_status(lg_redact(g_rules, in, strlen(in), &res, &o, NULL, 0,
                                &need),
                      LG_E_NOSPACE);
        assert_true(need <= lg_redact_bound(strlen(in), res.nfindings));
        memset(out, 'Z', sizeof(out));
        assert_status(lg_redact(g_rules, in, strlen(in), &res, &o, out,
                                need - 1, &n),
                      LG_E_NOSPACE);
        assert_int_equal(n, need);
        assert_int_equal(out[0], 'Z'); /* nothing written */
        assert_status(lg_redact(g_rules, in, strlen(in), &res, &o, out, need,
                                &n),
                      LG_OK);
        assert_int_equal(n, need);
    }
    assert_int_equal(lg_redact_bound(SIZE_MAX, 1), SIZE_MAX);
    assert_int_equal(lg_redact_bound(10, SIZE_MAX / 2), SIZE_MAX);
    assert_int_equal(lg_redact_keybytes(), LG_REDACT_KEYBYTES);
}

static void
test_redact_args(void **state)
{
    lg_result_t res;
    lg_finding_t f;
    lg_redact_opts_t o;
    char out[64];
    size_t n = 7;

    (void)state;
    memset(&res, 0, sizeof(res));
    lg_redact_opts_init(NULL);
    lg_redact_opts_init(&o);
    assert_status(lg_redact(NULL, "a", 1, &res, &o, out, 64, &n), LG_E_INVAL);
    assert_int_equal(n, 0);
    assert_status(lg_redact(g_rules, "a", 1, NULL, &o, out, 64, &n),
                  LG_E_INVAL);
    assert_status(lg_redact(g_rules, "a", 1, &res, &o, out, 64, NULL),
                  LG_E_INVAL);
    assert_status(lg_redact(g_rules, NULL, 1, &res, &o, out, 64, &n),
                  LG_E_INVAL);
    assert_status(lg_redact(g_rules, "a", 1, &res, &o, NULL, 64, &n),
                  LG_E_INVAL);
    o.categories = 0;
    assert_status(lg_redact(g_rules, "a", 1, &res, &o, out, 64, &n),
                  LG_E_INVAL);
    lg_redact_opts_init(&o);
    o.mode = (lg_redact_mode_t)7;
    assert_status(lg_redact(g_rules, "a", 1, &res, &o, out, 64, &n),
                  LG_E_INVAL);
    o.mode = LG_REDACT_MASK;
    o.mask_char = '\n';
    assert_status(lg_redact(g_rules, "a", 1, &res, &o, out, 64, &n),
                  LG_E_INVAL);
    lg_redact_opts_init(&o);
    o.mode = LG_REDACT_HASH;
    assert_status(lg_redact(g_rules, "a", 1, &res, &o, out, 64, &n),
                  LG_E_INVAL);
    o.mode = LG_REDACT_ENCRYPT;
    assert_status(lg_redact(g_rules, "a", 1, &res, &o, out, 64, &n),
                  LG_E_INVAL);
    /* Findings that do not fit the text. */
    lg_redact_opts_init(&o);
    memset(&f, 0, sizeof(f));
    f.category = LG_CAT_PII;
    f.start = 0;
    f.end = 2;
    res.findings = &f;
    res.nfindings = 1;
    assert_status(lg_redact(g_rules, "a", 1, &res, &o, out, 64, &n),
                  LG_E_INVAL);
    f.end = 0;
    assert_status(lg_redact(g_rules, "a", 1, &res, &o, out, 64, &n),
                  LG_E_INVAL);
    res.findings = NULL;
    assert_status(lg_redact(g_rules, "a", 1, &res, &o, out, 64, &n),
                  LG_E_INVAL);
    assert_status(lg_unredact("a", 1, NULL, out, 64, &n, NULL), LG_E_INVAL);
    assert_status(lg_unredact("a", 1, g_key, NULL, 64, &n, NULL), LG_E_INVAL);
    assert_status(lg_unredact(NULL, 1, g_key, out, 64, &n, NULL), LG_E_INVAL);
    assert_status(lg_unredact("a", 1, g_key, out, 64, NULL, NULL),
                  LG_E_INVAL);
}

/* ---- JSON records ------------------------------------------------------ */

static lg_status_t
rj(const char *json, const char *const *paths, size_t npaths,
   const lg_redact_opts_t *o, char **out)
{
    size_t n = 99;
    lg_status_t rc = lg_redact_json(g_s, LG_DIR_BOTH, json, strlen(json),
                                    paths, npaths, o, out, &n);

    if (rc != LG_OK) {
        assert_null(*out);
        assert_int_equal(n, 0);
    } else {
        assert_int_equal(n, strlen(*out));
    }
    return rc;
}

static void
expect_json(const char *json, const char *const *paths, size_t npaths,
            const char *want)
{
    char *out = NULL;

    assert_status(rj(json, paths, npaths, NULL, &out), LG_OK);
    assert_string_equal(out, want);
    lg_free(out);
}

static void
test_redact_json_paths(void **state)
{
    static const char *const p1[] = {"messages[*].content", "meta.note",
                                      "missing.path[3]", "list[1]"};
    (void)state;
    expect_json("{\"messages\":[{\"role\":\"user\",\"content\":\"mail "
                "a@b.example.org\"},{\"role\":\"assistant\",\"content\":"
                "\"call 555-0123\"},{\"role\":\"user\",\"content\":42}],"
                "\"meta\":{\"note\":\"acct-111-2222\",\"n\":1.5,\"ok\":true},"
                "\"list\":[\"555-0000\",\"555-1111\",null],\"other\":"
                "\"555-2222\"}",
                p1, 4,
                "{\"messages\":[{\"role\":\"user\",\"content\":\"mail "
                "<EMAIL>\"},{\"role\":\"assistant\",\"content\":"
                "\"call <PHONE>\"},{\"role\":\"user\",\"content\":42}],"
                "\"meta\":{\"note\":\"<SECRET>\",\"n\":1.5,\"ok\":true},"
                "\"list\":[\"555-0000\",\"<PHONE>\",null],\"other\":"
                "\"555-2222\"}");
}

static void
test_redact_json_defaults(void **state)
{
    (void)state;
    /* OpenAI chat request, content as a string and as parts. */
    expect_json("{\"model\":\"m\",\"messages\":[{\"role\":\"system\","
                "\"content\":\"be nice\"},{\"role\":\"user\",\"content\":"
                "[{\"type\":\"text\",\"text\":\"I am a@b.example.org\"}]}]}",
                NULL, 0,
                "{\"model\":\"m\",\"messages\":[{\"role\":\"system\","
                "\"content\":\"be nice\"},{\"role\":\"user\",\"content\":"
                "[{\"type\":\"text\",\"text\":\"I am <EMAIL>\"}]}]}");
    /* OpenAI response. */
    expect_json("{\"choices\":[{\"index\":0,\"message\":{\"role\":"
                "\"assistant\",\"content\":\"call 555-0123\"}}]}",
                NULL, 0,
                "{\"choices\":[{\"index\":0,\"message\":{\"role\":"
                "\"assistant\",\"content\":\"call <PHONE>\"}}]}");
    /* Anthropic request (system string) and response (content blocks). */
    expect_json("{\"system\":\"owner a@b.example.org\",\"prompt\":\"x\"}",
                NULL, 0, "{\"system\":\"owner <EMAIL>\",\"prompt\":\"x\"}");
    expect_json("{\"content\":[{\"type\":\"text\",\"text\":\"555-0123\"}]}",
                NULL, 0,
                "{\"content\":[{\"type\":\"text\",\"text\":\"<PHONE>\"}]}");
    /* Nothing to redact: the record comes back byte for byte. */
    expect_json("{ \"prompt\" : \"hello\" ,\n \"n\": 1.10 }", NULL, 0,
                "{ \"prompt\" : \"hello\" ,\n \"n\": 1.10 }");
    /* A NUL inside a string survives. */
    expect_json("{\"prompt\":\"a\\u0000 555-0123\"}", NULL, 0,
                "{\"prompt\":\"a\\u0000 <PHONE>\"}");
    assert_string_equal(lg_redact_json_default_paths()[0], "prompt");
}

static void
test_redact_json_errors(void **state)
{
    static const char *const bad[] = {"", ".a", "a.", "a..b", "a[", "a[]",
                                      "a[x]", "a[*", "a]", "[1]b", "a.[0]"};
    static const char *const good[] = {"a", "[0]", "[*].b", "a[1][2].c",
                                       "a.b-c.d_e", "x[*][*]"};
    static const char *const one_bad[] = {"prompt", "messages[*"};
    lg_redact_opts_t o;
    char *out = (char *)1;
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_status(lg_redact_path_check(bad[i]), LG_E_INVAL);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_status(lg_redact_path_check(good[i]), LG_OK);
    }
    assert_status(lg_redact_path_check(NULL), LG_E_INVAL);
    assert_status(rj("{\"prompt\":\"555-0123\"}", one_bad, 2, NULL, &out),
                  LG_E_INVAL);
    assert_status(rj("{\"prompt\":", NULL, 0, NULL, &out), LG_E_INVAL);
    assert_status(rj("{\"prompt\":\"a\"} x", NULL, 0, NULL, &out),
                  LG_E_INVAL);
    assert_status(rj("{\"prompt\":\"a\",\"prompt\":\"555-0123\"}", NULL, 0,
                     NULL, &out),
                  LG_E_INVAL);
    assert_status(rj("", NULL, 0, NULL, &out), LG_E_INVAL);
    lg_redact_opts_init(&o);
    o.mode = LG_REDACT_HASH;
    assert_status(rj("{}", NULL, 0, &o, &out), LG_E_INVAL);
    assert_status(lg_redact_json(NULL, LG_DIR_BOTH, "{}", 2, NULL, 0, NULL,
                                 &out, &n),
                  LG_E_INVAL);
    assert_status(lg_redact_json(g_s, 0, "{}", 2, NULL, 0, NULL, &out, &n),
                  LG_E_INVAL);
    assert_status(lg_redact_json(g_s, LG_DIR_BOTH, "{}", 2, NULL, 1, NULL,
                                 &out, &n),
                  LG_E_INVAL);
    assert_null(out);
}

/* Everything outside the redacted spans is kept byte for byte, escapes in
 * the rest of a redacted string included; strings are decoded before
 * scanning, so an escaped value is found and replaced whole. */
static void
test_redact_json_splice(void **state)
{
    static const char *const p[] = {"a", "b[*]", "c.d"};
    char *out = NULL;
    char deep[2200];
    size_t i;

    (void)state;
    expect_json("{ \"n\" : 123456789012345678901234567890, \"a\" :\n"
                "  \"call 555\\u002d0123 \\\"now\\\"\\n\\u00e9\", "
                "\"x\": 1.10e+400, \"b\": [ \"555-0123\" , 7 ] }",
                p, 3,
                "{ \"n\" : 123456789012345678901234567890, \"a\" :\n"
                "  \"call <PHONE> \\\"now\\\"\\n\\u00e9\", "
                "\"x\": 1.10e+400, \"b\": [ \"<PHONE>\" , 7 ] }");
    /* A redacted value with control bytes keeps them escaped. */
    expect_json("{\"a\":\"\\u0001 555-0123\\t\"}", p, 3,
                "{\"a\":\"\\u0001 <PHONE>\\t\"}");
    /* Surrogate pairs decode; escaped keys match paths. */
    expect_json("{\"\\u0061\":\"\\ud83d\\ude00 555-0123\"}", p, 3,
                "{\"\\u0061\":\"\\ud83d\\ude00 <PHONE>\"}");
    /* An escape inside the span goes with it; one between two spans
     * stays. */
    expect_json("{\"a\":\"555-012\\u0033\\u0020555-0123\"}", p, 3,
                "{\"a\":\"<PHONE>\\u0020<PHONE>\"}");
    /* Duplicate keys that no path selects are fine; selected ones not. */
    expect_json("{\"z\":1,\"z\":2,\"c\":{\"d\":\"555-0123\"}}", p, 3,
                "{\"z\":1,\"z\":2,\"c\":{\"d\":\"<PHONE>\"}}");
    assert_status(rj("{\"c\":{\"d\":\"x\",\"d\":\"555-0123\"}}", p, 3, NULL,
                     &out),
                  LG_E_INVAL);
    /* Not JSON: lone surrogates, bad escapes, raw control bytes, invalid
     * UTF-8, leading zeros, bare words. */
    assert_status(rj("{\"a\":\"\\udc00\"}", p, 3, NULL, &out), LG_E_INVAL);
    assert_status(rj("{\"a\":\"\\ud800x\"}", p, 3, NULL, &out), LG_E_INVAL);
    assert_status(rj("{\"a\":\"\\q\"}", p, 3, NULL, &out), LG_E_INVAL);
    assert_status(rj("{\"a\":\"\x01\"}", p, 3, NULL, &out), LG_E_INVAL);
    assert_status(rj("{\"a\":\"\xc3\"}", p, 3, NULL, &out), LG_E_INVAL);
    assert_status(rj("{\"a\":\"\xed\xa0\x80\"}", p, 3, NULL, &out),
                  LG_E_INVAL);
    assert_status(rj("{\"a\":01}", p, 3, NULL, &out), LG_E_INVAL);
    assert_status(rj("{\"a\":1.}", p, 3, NULL, &out), LG_E_INVAL);
    assert_status(rj("{\"a\":tru}", p, 3, NULL, &out), LG_E_INVAL);
    assert_status(rj("{\"a\":1,}", p, 3, NULL, &out), LG_E_INVAL);
    assert_status(rj("[1 2]", p, 3, NULL, &out), LG_E_INVAL);
    assert_status(rj("{\"a\" 1}", p, 3, NULL, &out), LG_E_INVAL);
    /* Nesting: 512 levels are fine, 600 are refused. */
    for (i = 0; i < 600; i++) {
        deep[i] = '[';
        deep[1200 - 1 - i] = ']';
    }
    deep[1200] = '\0';
    assert_status(rj(deep, p, 3, NULL, &out), LG_E_LIMIT);
    memmove(deep, deep + 88, 1200 - 2 * 88);
    deep[1200 - 2 * 88] = '\0';
    assert_status(rj(deep, p, 3, NULL, &out), LG_OK);
    lg_free(out);
}

/* The JSON output, encrypted, restores the original field values. */
static void
test_redact_json_encrypt(void **state)
{
    static const char *const p[] = {"prompt"};
    lg_redact_opts_t o;
    char *out = NULL, back[512];
    size_t m, failed;

    (void)state;
    lg_redact_opts_init(&o);
    o.mode = LG_REDACT_ENCRYPT;
    o.key = g_key;
    assert_status(rj("{\"prompt\":\"to a@b.example.org\"}", p, 1, &o, &out),
                  LG_OK);
    assert_null(strstr(out, "a@b.example.org"));
    assert_status(lg_unredact(out, strlen(out), g_key, back, sizeof(back),
                              &m, &failed),
                  LG_OK);
    assert_int_equal(failed, 0);
    back[m] = '\0';
    assert_string_equal(back, "{\"prompt\":\"to a@b.example.org\"}");
    lg_free(out);
}

/* ---- property: nothing found survives ---------------------------------- */

static uint64_t g_rng = 0x9e3779b97f4a7c15u;

static uint32_t
rnd(uint32_t n)
{
    return (uint32_t)(lg_test_rand(&g_rng) % n);
}

static void
test_redact_property(void **state)
{
    static const char *const filler[] = {
        "hello ", "the ", "\xc3\xa9t\xc3\xa9 ", "\xe4\xb8\xad ", "x\n",
        "- ", ", ", "\xe2\x80\x8b", "ok. ",
    };
    char in[2048], vals[16][48];
    lg_redact_opts_t o;

    (void)state;
    lg_redact_opts_init(&o);
    o.key = g_key;
    for (int iter = 0; iter < 300; iter++) {
        size_t len = 0, nv = 0;
        int parts = 1 + (int)rnd(24);

        for (int k = 0; k < parts; k++) {
            if (rnd(3) == 0 && nv < 16) {
                int w = rnd(3) == 0;
                char *v = vals[nv++];

                switch (w ? 2 : rnd(2)) {
                case 0:
                    snprintf(v, 48, "u%u.x@h%u.example.org", rnd(100000),
                             rnd(1000));
                    break;
                case 1:
                    snprintf(v, 48, "%03u-%04u", rnd(1000), rnd(10000));
                    break;
                default:
                    snprintf(v, 48, "acct-%03u-%04u", rnd(1000), rnd(10000));
                    break;
                }
                len += (size_t)snprintf(in + len, sizeof(in) - len, " %s ", v);
            } else {
                const char *f = filler[rnd(sizeof(filler) / sizeof(*filler))];

                memcpy(in + len, f, strlen(f));
                len += strlen(f);
            }
        }
        for (int mode = 0; mode <= LG_REDACT_ENCRYPT; mode++) {
            char *out;
            size_t n;

            o.mode = (lg_redact_mode_t)mode;
            out = redact_buf(in, len, &o, &n);
            for (size_t v = 0; v < nv; v++) {
                if (memmem(out, n, vals[v], strlen(vals[v])) != NULL) {
                    fail_msg("mode %d: '%s' survived in '%.*s'", mode,
                             vals[v], (int)n, out);
                }
            }
            if (mode == LG_REDACT_ENCRYPT) {
                char back[2048];
                size_t m, failed;

                assert_status(lg_unredact(out, n, g_key, back, sizeof(back),
                                          &m, &failed),
                              LG_OK);
                assert_int_equal(failed, 0);
                assert_int_equal(m, len);
                assert_memory_equal(back, in, len);
            }
            free(out);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redact_replace),
        cmocka_unit_test(test_redact_categories),
        cmocka_unit_test(test_redact_mask),
        cmocka_unit_test(test_redact_normalized_view),
        cmocka_unit_test(test_redact_overlap),
        cmocka_unit_test(test_redact_hash),
        cmocka_unit_test(test_redact_encrypt_roundtrip),
        cmocka_unit_test(test_redact_tampered),
        cmocka_unit_test(test_unredact_hostile),
        cmocka_unit_test(test_redact_nospace),
        cmocka_unit_test(test_redact_args),
        cmocka_unit_test(test_redact_json_paths),
        cmocka_unit_test(test_redact_json_defaults),
        cmocka_unit_test(test_redact_json_errors),
        cmocka_unit_test(test_redact_json_splice),
        cmocka_unit_test(test_redact_json_encrypt),
        cmocka_unit_test(test_redact_property),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
