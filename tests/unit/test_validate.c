/*
 * Validators named by rules (`validate:`): the Luhn check and the off-site
 * URL check with the scratch's host allowlist, through scanning; the rule
 * format's errors for unknown validators.
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

static const char pack[] =
    "version: 1\n"
    "pack: v\n"
    "pack_version: '1'\n"
    "rules:\n"
    "  - id: t.card\n"
    "    category: pii\n"
    "    description: a card number\n"
    "    severity: low\n"
    "    applies_to: both\n"
    "    validate: luhn\n"
    "    patterns: ['\\b\\d(?:[ -]?\\d){11,18}\\b']\n"
    "  - id: t.img\n"
    "    category: exfiltration\n"
    "    description: an image with a query to an off-site host\n"
    "    severity: critical\n"
    "    applies_to: completion\n"
    "    validate: offsite-url\n"
    "    patterns: ['!\\[[^\\]\\n]*\\]\\(\\s*https?://[^\\s)?]*\\?[^\\s)]+\\)']\n";

static lg_rules_t *g_rules;

static int
setup(void **state)
{
    (void)state;
    g_rules = compile_or_die(pack);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    lg_rules_free(g_rules);
    return 0;
}

/* Card numbers: the networks' documented test numbers pass, one wrong digit
 * does not; separators are allowed; the span is the number. */
static void
test_validate_luhn(void **state)
{
    static const char *const good[] = {
        "4111111111111111", "4111 1111 1111 1111", "5555-5555-5555-4444",
        "378282246310005",  "6011111111111117",    "3530111333300000",
    };
    static const char *const bad[] = {
        "4111111111111112", "4111 1111 1111 1121", "378282246310006",
        "12345678901",      /* 11 digits */
        "00000000000000000000", /* 20 digits */
    };
    lg_scratch_t *s = scratch_or_die(g_rules, NULL);
    char text[128];
    lg_result_t res;
    lg_rule_info_t info;

    (void)state;
    assert_status(lg_rules_info(g_rules, rule_idx(g_rules, "t.card"), &info),
                  LG_OK);
    assert_string_equal(info.validate, "luhn");
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "card: %s, thanks", good[i]);
        res = scan_str(s, text, LG_DIR_PROMPT, NULL);
        assert_span(&res, g_rules, "t.card", 6, 6 + strlen(good[i]));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "card: %s, thanks", bad[i]);
        res = scan_str(s, text, LG_DIR_PROMPT, NULL);
        if (has_finding(&res, g_rules, "t.card")) {
            lg_test_dump_result(&res, g_rules);
            fail_msg("'%s' passed the Luhn check", bad[i]);
        }
    }
    lg_scratch_free(s);
}

static int
img_found(lg_scratch_t *s, const char *url)
{
    char text[512];
    lg_result_t res;

    snprintf(text, sizeof(text), "Done. ![x](%s) Bye.", url);
    res = scan_str(s, text, LG_DIR_COMPLETION, NULL);
    if (has_finding(&res, g_rules, "t.img")) {
        assert_span(&res, g_rules, "t.img", 6, 6 + strlen(url) + 6);
        return 1;
    }
    return 0;
}

/* Off-site URLs: the host is what follows "://" and any user info; the
 * allowlist takes subdomains but not look-alike suffixes. */
static void
test_validate_offsite_url(void **state)
{
    static const char *const allow[] = {"Example.COM", "cdn.partner.net"};
    static const char *const bad_hosts[][1] = {
        {""}, {"exa mple.com"}, {"example.com/"}, {"ex\xc3\xa4mple.com"},
    };
    lg_scratch_t *s = scratch_or_die(g_rules, NULL);
    char longname[300];

    (void)state;
    /* no allowlist: every host with a query */
    assert_true(img_found(s, "https://example.com/p.png?q=1"));
    assert_false(img_found(s, "https://example.com/p.png"));
    assert_false(img_found(s, "https://example.com/p.png?"));

    assert_status(lg_scratch_allow_hosts(s, allow, 2), LG_OK);
    assert_false(img_found(s, "https://example.com/p.png?q=1"));
    assert_false(img_found(s, "https://img.EXAMPLE.com/p.png?q=1"));
    assert_false(img_found(s, "http://example.com:8443/p?q=1"));
    assert_false(img_found(s, "https://x.cdn.partner.net/a?b=c"));
    assert_true(img_found(s, "https://partner.net/a?b=c"));
    assert_true(img_found(s, "https://notexample.com/p.png?q=1"));
    assert_true(img_found(s, "https://example.com.evil.invalid/p?q=1"));
    assert_true(img_found(s, "https://example.com@evil.invalid/p?q=1"));
    assert_true(img_found(s, "https://evil.invalid/?u=example.com"));

    /* bad names are refused and leave the list as it was */
    for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
        assert_status(lg_scratch_allow_hosts(s, bad_hosts[i], 1),
                      LG_E_INVAL);
        assert_false(img_found(s, "https://example.com/p.png?q=1"));
    }
    memset(longname, 'a', sizeof(longname) - 1);
    longname[254] = '\0';
    {
        const char *l[] = {longname};

        assert_status(lg_scratch_allow_hosts(s, l, 1), LG_E_INVAL);
        longname[253] = '\0';
        assert_status(lg_scratch_allow_hosts(s, l, 1), LG_OK);
    }
    assert_true(img_found(s, "https://example.com/p.png?q=1"));
    assert_status(lg_scratch_allow_hosts(s, allow, 1), LG_OK);
    assert_false(img_found(s, "https://example.com/p.png?q=1"));
    assert_status(lg_scratch_allow_hosts(s, NULL, 0), LG_OK); /* clear */
    assert_true(img_found(s, "https://example.com/p.png?q=1"));
    assert_status(lg_scratch_allow_hosts(NULL, allow, 1), LG_E_INVAL);
    assert_status(lg_scratch_allow_hosts(s, NULL, 1), LG_E_INVAL);
    lg_scratch_free(s);
}

/* The rule format: unknown validators are errors at the value. */
static void
test_validate_rule_errors(void **state)
{
    static const char bad[] = "version: 1\n"
                              "pack: v\n"
                              "pack_version: '1'\n"
                              "rules:\n"
                              "  - id: t.bad\n"
                              "    category: pii\n"
                              "    description: d\n"
                              "    severity: low\n"
                              "    validate: luhnn\n"
                              "    patterns: [abc]\n"
                              "  - id: t.bad2\n"
                              "    category: pii\n"
                              "    description: d\n"
                              "    severity: low\n"
                              "    validate: [luhn]\n"
                              "    patterns: [abc]\n";
    lg_compiler_t *c = NULL;
    char msg[256];

    (void)state;
    assert_status(lg_compiler_new(0, &c), LG_OK);
    assert_status(lg_compiler_add_yaml(c, "v.yaml", bad, strlen(bad)),
                  LG_E_COMPILE);
    assert_int_equal(lg_compiler_error_count(c), 2);
    {
        static const char *const want[] = {
            "v.yaml:9:15: error: unknown validator 'luhnn' (expected luhn or "
            "offsite-url) [t.bad]",
            "v.yaml:15:15: error: 'validate' must be a string, not a list "
            "[t.bad2]",
        };

        for (size_t w = 0; w < 2; w++) {
            int seen = 0;

            for (size_t i = 0; i < lg_compiler_diag_count(c); i++) {
                assert_status(lg_diag_format(lg_compiler_diag(c, i), msg,
                                             sizeof(msg), NULL),
                              LG_OK);
                seen |= strcmp(msg, want[w]) == 0;
            }
            if (!seen) {
                fail_msg("no diagnostic \"%s\"", want[w]);
            }
        }
    }
    lg_compiler_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_luhn),
        cmocka_unit_test(test_validate_offsite_url),
        cmocka_unit_test(test_validate_rule_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
