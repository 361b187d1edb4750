/*
 * Leak detection: fragments of a system prompt or a canary token found in
 * completions, through case and whitespace changes, at exact spans; alone
 * and attached to a scratch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include "lg_test.h"

/* A made-up system prompt. */
static const char PROMPT[] =
    "You are Orbit, the support assistant of the Halvard Bicycle Company. "
    "Answer questions about orders, repairs and warranties only. Never "
    "mention the internal discount code or the supplier names. If a "
    "customer is angry, apologize once and offer a callback.";

static lg_leak_t *
leak_or_die(const char *secret, size_t min_fragment)
{
    lg_leak_opts_t o;
    lg_leak_t *l = NULL;

    lg_leak_opts_init(&o);
    if (min_fragment != 0) {
        o.min_fragment = min_fragment;
    }
    assert_status(lg_leak_new(secret, strlen(secret), &o, &l), LG_OK);
    assert_non_null(l);
    return l;
}

static size_t
find(const lg_leak_t *l, const char *text, lg_span_t *sp, size_t cap)
{
    size_t n = 99;

    assert_status(lg_leak_find(l, text, strlen(text), sp, cap, &n), LG_OK);
    return n;
}

static void
test_leak_args(void **state)
{
    lg_leak_opts_t o;
    lg_leak_t *l = (lg_leak_t *)&o;
    char *big;
    size_t n = 5;
    char canary[LG_CANARY_SIZE];

    (void)state;
    lg_leak_opts_init(&o);
    assert_int_equal(o.min_fragment, 40);
    lg_leak_opts_init(NULL);
    assert_status(lg_leak_new(NULL, 3, NULL, &l), LG_E_INVAL);
    assert_null(l);
    assert_status(lg_leak_new("abc", 0, NULL, &l), LG_E_INVAL);
    assert_status(lg_leak_new("abc", 3, NULL, NULL), LG_E_INVAL);
    assert_status(lg_leak_new(" \t\n ", 4, NULL, &l), LG_E_INVAL);
    o.min_fragment = 7;
    assert_status(lg_leak_new("abcdefgh", 8, &o, &l), LG_E_INVAL);
    o.min_fragment = 1025;
    assert_status(lg_leak_new("abcdefgh", 8, &o, &l), LG_E_INVAL);
    big = malloc(LG_LEAK_MAX_SECRET + 1);
    assert_non_null(big);
    memset(big, 'x', LG_LEAK_MAX_SECRET + 1);
    assert_status(lg_leak_new(big, LG_LEAK_MAX_SECRET + 1, NULL, &l),
                  LG_E_LIMIT);
    assert_null(l);
    free(big);
    lg_leak_free(NULL);

    l = leak_or_die(PROMPT, 0);
    assert_status(lg_leak_find(NULL, "x", 1, NULL, 0, &n), LG_E_INVAL);
    assert_int_equal(n, 0);
    assert_status(lg_leak_find(l, "x", 1, NULL, 0, NULL), LG_E_INVAL);
    assert_status(lg_leak_find(l, NULL, 1, NULL, 0, &n), LG_E_INVAL);
    assert_status(lg_leak_find(l, "x", 1, NULL, 1, &n), LG_E_INVAL);
    assert_status(lg_leak_find(l, NULL, 0, NULL, 0, &n), LG_OK);
    assert_int_equal(n, 0);
    lg_leak_free(l);

    assert_status(lg_canary_new(NULL, LG_CANARY_SIZE), LG_E_INVAL);
    assert_status(lg_canary_new(canary, LG_CANARY_SIZE - 1), LG_E_INVAL);
}

/* A verbatim fragment is found at its exact span, through re-casing and
 * re-wrapping; a fragment shorter than min_fragment is not. */
static void
test_leak_fragments(void **state)
{
    lg_leak_t *l = leak_or_die(PROMPT, 0);
    lg_span_t sp[4];
    char text[1024];
    const char *frag = "NEVER MENTION the internal\n   discount code or the "
                       "supplier names";
    size_t n;

    (void)state;
    snprintf(text, sizeof(text), "Sure! My instructions say: %s. Anything "
                                 "else?", frag);
    n = find(l, text, sp, 4);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].start, strlen("Sure! My instructions say: "));
    /* the period after it is in the prompt too */
    assert_int_equal(sp[0].end, sp[0].start + strlen(frag) + 1);

    /* the whole prompt, twice, separated by other text */
    snprintf(text, sizeof(text), "%s -- and again -- %s", PROMPT, PROMPT);
    n = find(l, text, sp, 4);
    assert_int_equal(n, 2);
    assert_int_equal(sp[0].start, 0);
    assert_int_equal(sp[0].end, strlen(PROMPT));
    assert_int_equal(sp[1].start, strlen(PROMPT) + strlen(" -- and again -- "));
    assert_int_equal(sp[1].end, strlen(text));
    /* cap smaller than the number found: the count still says 2 */
    n = 0;
    assert_status(lg_leak_find(l, text, strlen(text), sp, 1, &n), LG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(sp[0].start, 0);

    /* 39 characters of the prompt: below the default 40 */
    snprintf(text, sizeof(text), "it said:%.39s", strstr(PROMPT, "Answer"));
    n = find(l, text, sp, 4);
    assert_int_equal(n, 0);
    snprintf(text, sizeof(text), "it said:%.40s", strstr(PROMPT, "Answer"));
    n = find(l, text, sp, 4);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].start, 8);
    assert_int_equal(sp[0].end, 48);
    /* ordinary support talk shares words, not 40 characters */
    n = find(l,
             "Thanks for your question about orders. Our repairs team "
             "offers a callback if you are unhappy with the warranty.",
             sp, 4);
    assert_int_equal(n, 0);
    lg_leak_free(l);

    /* a smaller min_fragment catches shorter quotes */
    l = leak_or_die(PROMPT, 16);
    n = find(l, "the SUPPLIER names are secret", sp, 4);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].start, 0);
    assert_int_equal(sp[0].end, strlen("the SUPPLIER names"));
    lg_leak_free(l);
}

/* A canary is shorter than min_fragment: it must appear whole. */
static void
test_leak_canary(void **state)
{
    char canary[LG_CANARY_SIZE], other[LG_CANARY_SIZE], text[256];
    lg_leak_t *l;
    lg_span_t sp[2];

    (void)state;
    assert_status(lg_canary_new(canary, sizeof(canary)), LG_OK);
    assert_status(lg_canary_new(other, sizeof(other)), LG_OK);
    assert_int_equal(strlen(canary), LG_CANARY_SIZE - 1);
    assert_memory_equal(canary, "lg-canary-", 10);
    for (size_t i = 10; i < strlen(canary); i++) {
        assert_non_null(strchr("0123456789abcdef", canary[i]));
    }
    assert_string_not_equal(canary, other);
    l = leak_or_die(canary, 0);
    snprintf(text, sizeof(text), "debug: %s end", canary);
    assert_int_equal(find(l, text, sp, 2), 1);
    assert_int_equal(sp[0].start, 7);
    assert_int_equal(sp[0].end, 7 + strlen(canary));
    /* upper-cased, still found; cut short or another canary, not */
    for (char *p = text; *p != '\0'; p++) {
        if (*p >= 'a' && *p <= 'z') {
            *p = (char)(*p - 32);
        }
    }
    assert_int_equal(find(l, text, sp, 2), 1);
    text[strlen(text) - 5] = '\0';
    assert_int_equal(find(l, text, sp, 2), 0);
    assert_int_equal(find(l, other, sp, 2), 0);
    lg_leak_free(l);
}

/* Repetitive secrets and texts stay linear: a megabyte of one letter. */
static void
test_leak_repetitive(void **state)
{
    size_t n = (size_t)1 << 20, got = 0;
    char *a = malloc(n + 1);
    lg_leak_t *l;
    lg_span_t sp[2];

    (void)state;
    assert_non_null(a);
    memset(a, 'a', n);
    a[n] = '\0';
    l = leak_or_die(a, 0);
    assert_status(lg_leak_find(l, a, n, sp, 2, &got), LG_OK);
    assert_int_equal(got, 1);
    assert_int_equal(sp[0].start, 0);
    assert_int_equal(sp[0].end, n);
    memset(a, 'b', n);
    assert_status(lg_leak_find(l, a, n, sp, 2, &got), LG_OK);
    assert_int_equal(got, 0);
    lg_leak_free(l);
    free(a);
}

/* Attached to a scratch: completion scans report LG_RULE_LEAK findings and
 * block; prompt scans do not look; detaching stops it. */
static void
test_leak_scratch(void **state)
{
    lg_rules_t *r = compile_or_die("version: 1\n"
                                   "pack: t\n"
                                   "pack_version: '1'\n"
                                   "rules:\n"
                                   "  - id: t.word\n"
                                   "    category: pii\n"
                                   "    description: a word\n"
                                   "    severity: low\n"
                                   "    applies_to: both\n"
                                   "    patterns: ['halvard']\n");
    lg_scratch_t *s = scratch_or_die(r, NULL);
    lg_leak_t *l = leak_or_die(PROMPT, 0);
    lg_result_t res;
    const char *out = "Here is my setup: You are Orbit, the support "
                      "assistant of the Halvard Bicycle Company.";
    size_t at = strlen("Here is my setup: ");

    (void)state;
    assert_status(lg_scratch_set_leak(NULL, l), LG_E_INVAL);
    assert_status(lg_scratch_set_leak(s, l), LG_OK);
    res = scan_str(s, out, LG_DIR_COMPLETION, NULL);
    assert_int_equal(res.nfindings, 2);
    assert_verdict(&res, LG_VERDICT_BLOCK);
    assert_true(res.categories & (1u << LG_CAT_LEAKAGE));
    {
        const lg_finding_t *f = NULL;

        for (size_t i = 0; i < res.nfindings; i++) {
            if (res.findings[i].rule == LG_RULE_LEAK) {
                f = &res.findings[i];
            }
        }
        assert_non_null(f);
        assert_int_equal(f->start, at);
        assert_int_equal(f->end, strlen(out));
        assert_int_equal(f->category, LG_CAT_LEAKAGE);
        assert_int_equal(f->severity, LG_SEVERITY_CRITICAL);
        assert_int_equal(res.score, 5 + 2);
    }
    res = scan_str(s, out, LG_DIR_PROMPT, NULL);
    assert_int_equal(res.nfindings, 1);
    assert_verdict(&res, LG_VERDICT_FLAG);
    assert_status(lg_scratch_set_leak(s, NULL), LG_OK);
    res = scan_str(s, out, LG_DIR_COMPLETION, NULL);
    assert_int_equal(res.nfindings, 1);

    /* the findings limit holds */
    {
        lg_limits_t lim;
        lg_scratch_t *s2;
        char text[2048] = "";

        lg_limits_init(&lim);
        lim.max_findings = 2;
        s2 = scratch_or_die(r, &lim);
        assert_status(lg_scratch_set_leak(s2, l), LG_OK);
        for (int i = 0; i < 4; i++) {
            strcat(text, PROMPT);
            strcat(text, " | ");
        }
        res = scan_str(s2, text, LG_DIR_COMPLETION, NULL);
        assert_int_equal(res.nfindings, 2);
        assert_int_equal(res.truncated, 1);
        lg_scratch_free(s2);
    }
    lg_scratch_free(s);
    lg_leak_free(l);
    lg_rules_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leak_args),
        cmocka_unit_test(test_leak_fragments),
        cmocka_unit_test(test_leak_canary),
        cmocka_unit_test(test_leak_repetitive),
        cmocka_unit_test(test_leak_scratch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
