/*
 * JSON records: the field reader (spans, decoded values, which path, the
 * document order, duplicates, errors with their offsets, nesting limits,
 * reuse), lg_unredact_json() (exact round trips with lg_redact_json() in
 * encrypt mode, whatever the values hold, tokens escaped as JSON, wrong
 * keys, edited and forged tokens, records that are not JSON) and bad
 * arguments.
 */
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

/* Made-up rules: an address, and "sec[...]" whose inside may hold any
 * character but ']' (quotes, backslashes, newlines, control bytes). */
static const char pack[] =
    "version: 1\n"
    "pack: json\n"
    "pack_version: '1'\n"
    "views: [raw]\n"
    "rules:\n"
    "  - id: j.email\n"
    "    category: pii\n"
    "    description: an e-mail address\n"
    "    severity: low\n"
    "    entity: EMAIL\n"
    "    applies_to: both\n"
    "    patterns: ['[a-z0-9._]{1,32}@(?:[a-z0-9-]{1,32}\\.){1,3}[a-z]{2,6}']\n"
    "  - id: j.sec\n"
    "    category: secret\n"
    "    description: anything in sec[...]\n"
    "    severity: critical\n"
    "    applies_to: both\n"
    "    patterns: ['sec\\[[^\\]]{1,40}\\]']\n";

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

/* ---- the reader -------------------------------------------------------- */

typedef struct want {
    size_t path;
    const char *literal; /* json[start, end) */
    const char *value;
    size_t vlen;         /* 0: strlen(value) */
} want_t;

/* Read all of `json` with `rd`, expecting exactly `w` then `rc` at `off`. */
static void
expect_fields(lg_json_reader_t *rd, const char *json, const want_t *w,
              size_t nw, lg_status_t rc, size_t off)
{
    size_t len = strlen(json), k = 0;
    lg_json_field_t f;
    lg_status_t st;
    int found = 0;

    lg_json_reader_reset(rd);
    for (;;) {
        st = lg_json_reader_next(rd, json, len, &f, &found);
        if (st != LG_OK || !found) {
            break;
        }
        if (k >= nw) {
            fail_msg("unexpected field '%.*s'", (int)(f.end - f.start),
                     json + f.start);
        }
        size_t vlen = w[k].vlen ? w[k].vlen : strlen(w[k].value);

        assert_int_equal(f.path, w[k].path);
        assert_int_equal(f.end - f.start, strlen(w[k].literal));
        assert_memory_equal(json + f.start, w[k].literal, f.end - f.start);
        assert_int_equal(f.len, vlen);
        assert_memory_equal(f.value, w[k].value, vlen);
        if (memchr(json + f.start, '\\', f.end - f.start) == NULL) {
            /* no escapes: the value is read in place */
            assert_ptr_equal(f.value, json + f.start + 1);
        }
        k++;
    }
    assert_int_equal(k, nw);
    assert_status(st, rc);
    assert_int_equal(lg_json_reader_offset(rd), rc == LG_OK ? len : off);
    if (rc != LG_OK) {
        /* sticky, with the field zeroed */
        assert_status(lg_json_reader_next(rd, json, len, &f, &found), rc);
        assert_null(f.value);
        assert_int_equal(found, 0);
        assert_int_equal(lg_json_reader_offset(rd), off);
    }
}

static lg_json_reader_t *
reader(const char *const *paths, size_t npaths, uint32_t flags)
{
    lg_json_reader_t *rd = NULL;

    assert_status(lg_json_reader_new(paths, npaths, flags, &rd), LG_OK);
    assert_non_null(rd);
    return rd;
}

static void
test_json_reader_fields(void **state)
{
    static const char *const p[] = {"messages[*].content", "prompt", "a[1]",
                                     "x.y", "q\"\\"};
    static const char doc[] =
        "{\"prompt\":\"hi\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"a\\\"b\\\\c\\nd\"},{\"content\":42},{\"content\":"
        "\"\\u00e9\\ud83d\\ude00 \xe4\xb8\xad\"},{\"content\":\"\"}],"
        "\"a\":[\"n0\",\"n1\",{\"b\":\"no\"}],\"x\":{\"y\":\"z\",\"w\":"
        "[\"no\"]},\"q\\\"\\\\\":\"\\u0000k\",\"prompt2\":\"no\"}";
    const want_t w[] = {
        {1, "\"hi\"", "hi", 0},
        {0, "\"a\\\"b\\\\c\\nd\"", "a\"b\\c\nd", 0},
        {0, "\"\\u00e9\\ud83d\\ude00 \xe4\xb8\xad\"",
         "\xc3\xa9\xf0\x9f\x98\x80 \xe4\xb8\xad", 0},
        {0, "\"\"", "", 0},
        {2, "\"n1\"", "n1", 0},
        {3, "\"z\"", "z", 0},
        {4, "\"\\u0000k\"", "\0k", 2},
    };
    lg_json_reader_t *rd = reader(p, 5, 0);

    (void)state;
    expect_fields(rd, doc, w, sizeof(w) / sizeof(w[0]), LG_OK, 0);
    /* Read again after a reset: the same. */
    expect_fields(rd, doc, w, sizeof(w) / sizeof(w[0]), LG_OK, 0);
    /* The root itself is never a field; values of other types neither. */
    expect_fields(rd, "\"prompt\"", NULL, 0, LG_OK, 0);
    expect_fields(rd, "{\"prompt\":[\"x\"],\"x\":{\"y\":null}}", NULL, 0,
                  LG_OK, 0);
    lg_json_reader_free(rd);
}

static void
test_json_reader_paths(void **state)
{
    static const char *const star_first[] = {"x[*]", "x[0]"};
    static const char *const idx_first[] = {"x[0]", "x[*]"};
    static const char *const rooted[] = {"[1]", "[*].k"};
    const want_t w1[] = {{0, "\"p\"", "p", 0}, {0, "\"q\"", "q", 0}};
    const want_t w2[] = {{0, "\"p\"", "p", 0}, {1, "\"q\"", "q", 0}};
    const want_t w3[] = {{1, "\"v\"", "v", 0}, {0, "\"s\"", "s", 0}};
    const want_t wd[] = {{0, "\"v\"", "v", 0},
                         {9, "\"w\"", "w", 0},
                         {13, "\"t\"", "t", 0}};
    lg_json_reader_t *rd;

    (void)state;
    /* A value two paths select is reported once, with the first. */
    rd = reader(star_first, 2, 0);
    expect_fields(rd, "{\"x\":[\"p\",\"q\"]}", w1, 2, LG_OK, 0);
    lg_json_reader_free(rd);
    rd = reader(idx_first, 2, 0);
    expect_fields(rd, "{\"x\":[\"p\",\"q\"]}", w2, 2, LG_OK, 0);
    lg_json_reader_free(rd);
    /* Paths from the root of an array. */
    rd = reader(rooted, 2, 0);
    expect_fields(rd, "[{\"k\":\"v\"},\"s\",{\"k\":1}]", w3, 2, LG_OK, 0);
    lg_json_reader_free(rd);
    /* The default set (npaths 0), keys written with escapes. */
    rd = reader(NULL, 0, 0);
    expect_fields(rd,
                  "{\"\\u0070rompt\":\"v\",\"messages\":[{\"content\":"
                  "\"w\"}],\"choices\":[{\"message\":{\"content\":\"t\"}}]}",
                  wd, 3, LG_OK, 0);
    lg_json_reader_free(rd);
}

static void
test_json_reader_duplicates(void **state)
{
    static const char *const p[] = {"prompt"};
    static const char doc[] = "{\"prompt\":\"a\",\"prompt\":\"b\"}";
    const want_t both[] = {{0, "\"a\"", "a", 0}, {0, "\"b\"", "b", 0}};
    lg_json_reader_t *rd;

    (void)state;
    /* Each value of a key given twice is a field... */
    rd = reader(p, 1, 0);
    expect_fields(rd, doc, both, 2, LG_OK, 0);
    lg_json_reader_free(rd);
    /* ... or the second key is an error, at its offset. */
    rd = reader(p, 1, LG_JSON_REJECT_DUPLICATES);
    expect_fields(rd, doc, both, 1, LG_E_INVAL, 14);
    /* Keys no path selects may repeat; so may selected keys in two
     * different objects. */
    expect_fields(rd, "{\"z\":1,\"z\":2,\"prompt\":\"a\"}", both, 1, LG_OK, 0);
    lg_json_reader_free(rd);
    rd = reader((const char *const[]){"[*].prompt"}, 1,
                LG_JSON_REJECT_DUPLICATES);
    expect_fields(rd, "[{\"prompt\":\"a\"},{\"prompt\":\"b\"}]", both, 2,
                  LG_OK, 0);
    lg_json_reader_free(rd);
}

static void
test_json_reader_errors(void **state)
{
    static const struct {
        const char *doc;
        size_t off;
    } bad[] = {
        {"", 0},
        {"   ", 3},
        {"{", 1},
        {"{\"prompt\":1,}", 12},
        {"[1 2]", 3},
        {"[1,]", 3},
        {"{\"a\" 1}", 5},
        {"{\"a\":\"\x01\"}", 6},
        {"{\"a\":\"\xc3(\"}", 6},
        {"{\"a\":\"\xed\xa0\x80\"}", 6},
        {"{\"a\":\"\\udc00\"}", 6},
        {"{\"a\":\"\\ud800x\"}", 6},
        {"{\"a\":\"\\q\"}", 6},
        {"{\"a\":01}", 6},
        {"{\"a\":1.}", 7},
        {"{\"a\":1e}", 7},
        {"{\"a\":-}", 6},
        {"{\"a\":tru}", 8},
        {"{\"a\":\"x\"} x", 10},
        {"{\"a\":\"abc", 9},
        {"\"\\u12", 1},
        {"{'a':1}", 1},
        {"\xef\xbb\xbf{}", 0},
    };
    static const char *const p[] = {"prompt"};
    const want_t first[] = {{0, "\"a\"", "a", 0}};
    lg_json_reader_t *rd = reader(p, 1, 0);

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_fields(rd, bad[i].doc, NULL, 0, LG_E_INVAL, bad[i].off);
    }
    /* Fields before the error are given; the error comes after. */
    expect_fields(rd, "{\"prompt\":\"a\",\"x\":}", first, 1, LG_E_INVAL, 18);
    /* Without a reset, another length is refused. */
    {
        lg_json_field_t f;
        int found;

        lg_json_reader_reset(rd);
        assert_status(lg_json_reader_next(rd, "[\"a\",1]", 7, &f, &found),
                      LG_OK);
        assert_int_equal(found, 0);
        assert_status(lg_json_reader_next(rd, "[\"a\",1] ", 8, &f, &found),
                      LG_E_INVAL);
    }
    lg_json_reader_free(rd);
}

static void
test_json_reader_depth(void **state)
{
    static const char *const p[] = {"a.a.a", "[0][0]"};
    const want_t w[] = {{0, "\"v\"", "v", 0}};
    char *doc = malloc(8 * LG_JSON_MAX_DEPTH + 16);
    lg_json_reader_t *rd = reader(p, 2, 0);
    size_t n;

    (void)state;
    assert_non_null(doc);
    /* LG_JSON_MAX_DEPTH arrays nested: fine; one more: refused at its
     * bracket. */
    for (n = 0; n < LG_JSON_MAX_DEPTH; n++) {
        doc[n] = '[';
        doc[2 * LG_JSON_MAX_DEPTH - 1 - n] = ']';
    }
    doc[2 * LG_JSON_MAX_DEPTH] = '\0';
    expect_fields(rd, doc, NULL, 0, LG_OK, 0);
    memmove(doc + 1, doc, 2 * LG_JSON_MAX_DEPTH);
    doc[0] = '[';
    memcpy(doc + 2 * LG_JSON_MAX_DEPTH + 1, "]", 2);
    expect_fields(rd, doc, NULL, 0, LG_E_LIMIT, LG_JSON_MAX_DEPTH);
    /* Objects too, with a field on the way down. */
    n = 0;
    memcpy(doc, "{\"a\":{\"a\":{\"a\":\"v\",\"b\":", 23);
    n = 23;
    for (size_t i = 3; i <= LG_JSON_MAX_DEPTH; i++) {
        memcpy(doc + n, "{\"a\":", 5);
        n += 5;
    }
    memcpy(doc + n, "1", 2);
    expect_fields(rd, doc, w, 1, LG_E_LIMIT, n - 5);
    free(doc);
    lg_json_reader_free(rd);
}

static void
test_json_reader_args(void **state)
{
    static const char *const bad_path[] = {"prompt", "a..b"};
    static const char *const null_path[] = {"prompt", NULL};
    lg_json_reader_t *rd = (lg_json_reader_t *)1;
    lg_json_field_t f;
    int found = 7;

    (void)state;
    assert_status(lg_json_reader_new(NULL, 0, 0, NULL), LG_E_INVAL);
    assert_status(lg_json_reader_new(NULL, 1, 0, &rd), LG_E_INVAL);
    assert_null(rd);
    rd = (lg_json_reader_t *)1;
    assert_status(lg_json_reader_new(bad_path, 2, 0, &rd), LG_E_INVAL);
    assert_null(rd);
    assert_status(lg_json_reader_new(null_path, 2, 0, &rd), LG_E_INVAL);
    assert_status(lg_json_reader_new(NULL, 0, 0x100, &rd), LG_E_INVAL);
    assert_null(rd);
    rd = reader(NULL, 0, 0);
    assert_status(lg_json_reader_next(NULL, "{}", 2, &f, &found),
                  LG_E_INVAL);
    assert_int_equal(found, 0);
    assert_status(lg_json_reader_next(rd, NULL, 2, &f, &found), LG_E_INVAL);
    assert_status(lg_json_reader_next(rd, "{}", 2, NULL, &found),
                  LG_E_INVAL);
    assert_status(lg_json_reader_next(rd, "{}", 2, &f, NULL), LG_E_INVAL);
    assert_int_equal(lg_json_reader_offset(NULL), 0);
    lg_json_reader_reset(NULL);
    lg_json_reader_free(NULL);
    lg_json_reader_free(rd);
}

/* ---- lg_unredact_json -------------------------------------------------- */

static char *
redact_json(const char *json, const char *const *paths, size_t npaths,
            size_t *n)
{
    lg_redact_opts_t o;
    char *out = NULL;

    lg_redact_opts_init(&o);
    o.mode = LG_REDACT_ENCRYPT;
    o.key = g_key;
    assert_status(lg_redact_json(g_s, LG_DIR_BOTH, json, strlen(json), paths,
                                 npaths, &o, &out, n),
                  LG_OK);
    return out;
}

/* Redact, check the secrets are gone, restore: the same bytes. */
static void
roundtrip(const char *json, const char *const *gone, size_t ngone)
{
    static const char *const p[] = {"prompt", "messages[*].content",
                                     "meta.note"};
    char *red, *back = NULL;
    size_t n, m = 99, off = 99;

    red = redact_json(json, p, 3, &n);
    for (size_t i = 0; i < ngone; i++) {
        if (strstr(red, gone[i]) != NULL) {
            fail_msg("'%s' survived in %s", gone[i], red);
        }
    }
    if (ngone > 0) {
        assert_non_null(strstr(red, ":e:"));
    }
    assert_status(lg_unredact_json(red, n, g_key, &back, &m, &off), LG_OK);
    assert_int_equal(off, 0);
    assert_int_equal(m, strlen(json));
    assert_string_equal(back, json);
    lg_free(back);
    lg_free(red);
}

static void
test_unredact_json_roundtrip(void **state)
{
    (void)state;
    /* Quotes, backslashes, newlines, escapes and non-ASCII text around
     * the value: kept as they were written. */
    roundtrip("{\"messages\":[{\"role\":\"user\",\"content\":\"mail "
              "jo.doe@mail.example.org \\\"quoted\\\" back\\\\slash\\nline "
              "caf\\u00e9 caf\xc3\xa9 \xe4\xb8\xad \\ud83d\\ude00 \\/\"}],"
              "\"n\": 1.10e+400}",
              (const char *const[]){"jo.doe"}, 1);
    /* ... and inside the redacted span itself. */
    roundtrip("{ \"prompt\" : \"x sec[a\\\"b\\\\c\\nd\\te\\u0001 "
              "\xc3\xa9\xe4\xb8\xad] y\" }",
              (const char *const[]){"sec[", "\xe4\xb8\xad"}, 2);
    /* Two spans with an escape between them; a field in an object. */
    roundtrip("{\"prompt\":\"sec[1]\\u0020sec[2]\",\"meta\":{\"note\":"
              "\"a@b.example.org\\r\\n\"}}",
              (const char *const[]){"sec[1]", "sec[2]", "a@b."}, 3);
}

/* A span written with other escapes comes back as the same value. */
static void
test_unredact_json_same_value(void **state)
{
    static const char *const p[] = {"prompt"};
    static const char doc[] = "{\"prompt\":\"sec[\\u00e9\\/]\"}";
    char *red, *back = NULL;
    size_t n, m;

    (void)state;
    red = redact_json(doc, p, 1, &n);
    assert_status(lg_unredact_json(red, n, g_key, &back, &m, NULL), LG_OK);
    assert_string_equal(back, "{\"prompt\":\"sec[\xc3\xa9/]\"}");
    lg_free(back);
    lg_free(red);
}

/* Tokens of text redaction, in JSON: restored escaped, also when the JSON
 * writer escaped the token's '<' and '>' (as Go's does). */
static void
test_unredact_json_text_tokens(void **state)
{
    static const char value[] = "sec[\"x\\y\"\nz]";
    static const char *const p[] = {"prompt"};
    lg_redact_opts_t o;
    lg_result_t res;
    char tok[512], json[1200], *back = NULL, plain[1200];
    size_t n, m, failed, off;
    lg_json_reader_t *rd;
    lg_json_field_t f;
    int found;

    (void)state;
    lg_redact_opts_init(&o);
    o.mode = LG_REDACT_ENCRYPT;
    o.key = g_key;
    res = scan_lit(g_s, value, LG_DIR_BOTH, NULL);
    assert_status(lg_redact(g_rules, value, sizeof(value) - 1, &res, &o, tok,
                            sizeof(tok) - 1, &n),
                  LG_OK);
    tok[n] = '\0';
    assert_int_equal(tok[0], '<');
    assert_int_equal(tok[n - 1], '>');

    snprintf(json, sizeof(json), "{\"prompt\":\"%s\"}", tok);
    /* The text unredaction puts raw quotes in: not JSON any more (the
     * bug of issue 5). */
    assert_status(lg_unredact(json, strlen(json), g_key, plain, sizeof(plain),
                              &m, &failed),
                  LG_OK);
    rd = reader(p, 1, 0);
    assert_status(lg_json_reader_next(rd, plain, m, &f, &found), LG_OK);
    assert_int_equal(f.len, 4); /* "sec[", then the stray quote */
    assert_status(lg_json_reader_next(rd, plain, m, &f, &found), LG_E_INVAL);
    lg_json_reader_free(rd);

    assert_status(lg_unredact_json(json, strlen(json), g_key, &back, &m, &off),
                  LG_OK);
    assert_string_equal(back,
                        "{\"prompt\":\"sec[\\\"x\\\\y\\\"\\nz]\"}");
    lg_free(back);

    snprintf(json, sizeof(json), "[\"a \\u003c%.*s\\u003E b\"]",
             (int)(n - 2), tok + 1);
    assert_status(lg_unredact_json(json, strlen(json), g_key, &back, &m, &off),
                  LG_OK);
    assert_string_equal(back, "[\"a sec[\\\"x\\\\y\\\"\\nz] b\"]");
    lg_free(back);
}

static void
expect_unredact_error(const char *json, const uint8_t *key, lg_status_t rc,
                      size_t off)
{
    char *out = (char *)1;
    size_t n = 99, eoff = 99;

    assert_status(lg_unredact_json(json, strlen(json), key, &out, &n, &eoff),
                  rc);
    assert_null(out);
    assert_int_equal(n, 0);
    assert_int_equal(eoff, off);
}

static void
test_unredact_json_errors(void **state)
{
    static const char *const p[] = {"prompt"};
    char *red, *out = NULL, *at, saved, saved_tail[4];
    size_t n, m, pos;

    (void)state;
    red = redact_json("{\"a\":1,\"prompt\":\"to a@b.example.org\"}", p, 1,
                      &n);
    /* ... "<EMAIL:e:...XY>\"}": the token cut short keeps its syntax */
    assert_memory_equal(red + n - 3, ">\"}", 3);
    memcpy(saved_tail, red + n - 4, 4);
    at = strchr(red, '<');
    assert_non_null(at);
    pos = (size_t)(at - red);
    /* Another key: an error at the token, and nothing written. */
    expect_unredact_error(red, g_key2, LG_E_TOKEN, pos);
    /* An edited token, a cut one, one moved under another type. */
    saved = red[pos + 12];
    red[pos + 12] = saved == 'A' ? 'B' : 'A';
    expect_unredact_error(red, g_key, LG_E_TOKEN, pos);
    red[pos + 12] = saved;
    memcpy(red + n - 4, ">\"}", 4); /* one character shorter */
    expect_unredact_error(red, g_key, LG_E_TOKEN, pos);
    memcpy(red + n - 4, saved_tail, 4);
    memcpy(red + pos + 1, "PHONE", 5);
    expect_unredact_error(red, g_key, LG_E_TOKEN, pos);
    memcpy(red + pos + 1, "EMAIL", 5);
    assert_status(lg_unredact_json(red, n, g_key, &out, &m, NULL), LG_OK);
    assert_string_equal(out, "{\"a\":1,\"prompt\":\"to a@b.example.org\"}");
    lg_free(out);
    lg_free(red);
    /* Something shaped like a token is one. */
    expect_unredact_error("[\"ok\",\"x <A:e:xyz>\"]", g_key, LG_E_TOKEN, 9);
    expect_unredact_error("[\"\\u003cA:e:xyz>\"]", g_key, LG_E_TOKEN, 2);
    /* Not JSON, even with a bad token before the fault; too deep. */
    expect_unredact_error("{\"a\":\"<A:e:xyz>\" \"b\"}", g_key, LG_E_INVAL,
                          17);
    expect_unredact_error("{\"a\":\"x\"", g_key, LG_E_INVAL, 8);
    expect_unredact_error("", g_key, LG_E_INVAL, 0);
    {
        char deep[2 * LG_JSON_MAX_DEPTH + 3];

        memset(deep, '[', LG_JSON_MAX_DEPTH + 1);
        memset(deep + LG_JSON_MAX_DEPTH + 1, ']', LG_JSON_MAX_DEPTH + 1);
        deep[2 * LG_JSON_MAX_DEPTH + 2] = '\0';
        expect_unredact_error(deep, g_key, LG_E_LIMIT, LG_JSON_MAX_DEPTH);
    }
    /* Keys are left alone, and so is text that is not a token. */
    {
        static const char doc[] =
            "{\"<A:e:xyz>\":\"a < b <EMAIL> <A:e:> <a:e:x> <A:e:x\"}";

        assert_status(lg_unredact_json(doc, strlen(doc), g_key, &out, &m,
                                       NULL),
                      LG_OK);
        assert_string_equal(out, doc);
        lg_free(out);
    }
    /* Arguments. */
    out = (char *)1;
    assert_status(lg_unredact_json(NULL, 0, g_key, &out, &m, NULL),
                  LG_E_INVAL);
    assert_null(out);
    assert_status(lg_unredact_json("{}", 2, NULL, &out, &m, NULL),
                  LG_E_INVAL);
    assert_status(lg_unredact_json("{}", 2, g_key, NULL, &m, NULL),
                  LG_E_INVAL);
    assert_status(lg_unredact_json("{}", 2, g_key, &out, NULL, NULL),
                  LG_E_INVAL);
}

/* ---- property: random records round trip ------------------------------ */

static uint64_t g_rng = 0x243f6a8885a308d3u;

static uint32_t
rnd(uint32_t n)
{
    return (uint32_t)(lg_test_rand(&g_rng) % n);
}

static void
test_unredact_json_property(void **state)
{
    /* Around the values: any escapes.  Inside: written as
     * lg_redact_json() writes them (raw UTF-8, \" \\ \n \t \u00XX). */
    static const char *const filler[] = {
        "caf\\u00e9", "\\\"q\\\"", "back\\\\slash", "\\n", "\\/",
        "\xe4\xb8\xad", "\\ud83d\\ude00", "\\t", "\\u0041BC", "<b>",
    };
    static const char *const inner[] = {
        "\\\"", "\\\\", "\\n", "\\t", "\\u0001", "\xc3\xa9", "x", "\\u001f",
        "<", "\xf0\x9f\x98\x80",
    };
    char doc[4096];
    size_t secrets = 0;

    (void)state;
    for (int iter = 0; iter < 200; iter++) {
        size_t len = 0;
        int nmsg = 1 + (int)rnd(3);

        len += (size_t)snprintf(doc + len, sizeof(doc) - len,
                                "{\"messages\":[");
        for (int k = 0; k < nmsg; k++) {
            int parts = 1 + (int)rnd(8);

            len += (size_t)snprintf(doc + len, sizeof(doc) - len,
                                    "%s{\"role\":\"user\",\"content\":\"",
                                    k ? ", " : "");
            for (int q = 0; q < parts; q++) {
                switch (rnd(3)) {
                case 0:
                    len += (size_t)snprintf(doc + len, sizeof(doc) - len,
                                            " u%u@h%u.example.org ", rnd(999),
                                            rnd(99));
                    secrets++;
                    break;
                case 1: {
                    int m = 1 + (int)rnd(6);

                    len += (size_t)snprintf(doc + len, sizeof(doc) - len,
                                            " sec[");
                    for (int c = 0; c < m; c++) {
                        len += (size_t)snprintf(doc + len, sizeof(doc) - len,
                                                "%s", inner[rnd(10)]);
                    }
                    len += (size_t)snprintf(doc + len, sizeof(doc) - len,
                                            "] ");
                    secrets++;
                    break;
                }
                default:
                    len += (size_t)snprintf(doc + len, sizeof(doc) - len,
                                            "%s", filler[rnd(10)]);
                    break;
                }
            }
            len += (size_t)snprintf(doc + len, sizeof(doc) - len, "\"}");
        }
        len += (size_t)snprintf(doc + len, sizeof(doc) - len,
                                "],\"n\":%u}", rnd(1000));
        assert_true(len < sizeof(doc) - 1);
        roundtrip(doc, NULL, 0);
    }
    assert_true(secrets > 200);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_reader_fields),
        cmocka_unit_test(test_json_reader_paths),
        cmocka_unit_test(test_json_reader_duplicates),
        cmocka_unit_test(test_json_reader_errors),
        cmocka_unit_test(test_json_reader_depth),
        cmocka_unit_test(test_json_reader_args),
        cmocka_unit_test(test_unredact_json_roundtrip),
        cmocka_unit_test(test_unredact_json_same_value),
        cmocka_unit_test(test_unredact_json_text_tokens),
        cmocka_unit_test(test_unredact_json_errors),
        cmocka_unit_test(test_unredact_json_property),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
