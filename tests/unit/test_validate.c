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
    "    patterns: ['!\\[[^\\]\\n]*\\]\\(\\s*https?://[^\\s)?]*\\?[^\\s)]+\\)']\n"
    "  - id: t.iban\n"
    "    category: pii\n"
    "    description: an IBAN\n"
    "    severity: low\n"
    "    validate: iban\n"
    "    patterns: ['\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]){11,30}\\b']\n"
    "    flags: []\n"
    "  - id: t.ssn\n"
    "    category: pii\n"
    "    description: a US SSN\n"
    "    severity: low\n"
    "    validate: ssn-us\n"
    "    patterns: ['\\b\\d{3}[- ]?\\d{2}[- ]?\\d{4}\\b']\n"
    "  - id: t.rrn\n"
    "    category: pii\n"
    "    description: a Korean RRN with its checksum\n"
    "    severity: low\n"
    "    validate: rrn-kr\n"
    "    patterns: ['\\b\\d{6}[- ]?\\d{7}\\b']\n"
    "  - id: t.rrnd\n"
    "    category: pii\n"
    "    description: a Korean RRN, date and gender only\n"
    "    severity: low\n"
    "    validate: rrn-kr-date\n"
    "    patterns: ['\\b\\d{6}[- ]?\\d{7}\\b']\n"
    "  - id: t.brn\n"
    "    category: pii\n"
    "    description: a Korean BRN\n"
    "    severity: low\n"
    "    validate: brn-kr\n"
    "    patterns: ['\\b\\d{3}-?\\d{2}-?\\d{5}\\b']\n"
    "  - id: t.ent\n"
    "    category: secret\n"
    "    description: a random-looking assigned value\n"
    "    severity: high\n"
    "    validate: entropy\n"
    "    patterns: ['\\b(?:password|token)\\s?[:=]\\s?\"[^\"\\s]+\"']\n"
    "  - id: t.ip4\n"
    "    category: pii\n"
    "    description: an IPv4 address\n"
    "    severity: low\n"
    "    validate: ipv4\n"
    "    patterns: ['\\b\\d{1,3}(?:\\.\\d{1,3}){3}\\b']\n"
    "  - id: t.ip6\n"
    "    category: pii\n"
    "    description: an IPv6 address\n"
    "    severity: low\n"
    "    validate: ipv6\n"
    "    patterns: ['(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{1,4}\\b']\n";

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

struct vcase {
    const char *rule;
    const char *value; /* found as "x %s y", spanning exactly the value */
    int found; /* 1: at its span; 0: not at all; 2: not at its span */
};

/* Each validator through a rule: the value is found at its own span when it
 * passes, and not at all when it fails. */
static void
run_cases(const struct vcase *c, size_t n)
{
    lg_scratch_t *s = scratch_or_die(g_rules, NULL);
    char text[160];
    lg_result_t res;

    for (size_t i = 0; i < n; i++) {
        snprintf(text, sizeof(text), "x %s y", c[i].value);
        res = scan_str(s, text, LG_DIR_PROMPT, NULL);
        if (c[i].found == 2) {
            for (size_t k = 0; k < res.nfindings; k++) {
                if (res.findings[k].start == 2 &&
                    res.findings[k].end == 2 + strlen(c[i].value)) {
                    lg_test_dump_result(&res, g_rules);
                    fail_msg("%s: '%s' passed", c[i].rule, c[i].value);
                }
            }
        } else if (c[i].found) {
            if (!has_finding(&res, g_rules, c[i].rule)) {
                lg_test_dump_result(&res, g_rules);
                fail_msg("%s: '%s' not found", c[i].rule, c[i].value);
            }
            assert_span(&res, g_rules, c[i].rule, 2, 2 + strlen(c[i].value));
        } else if (has_finding(&res, g_rules, c[i].rule)) {
            lg_test_dump_result(&res, g_rules);
            fail_msg("%s: '%s' passed", c[i].rule, c[i].value);
        }
    }
    lg_scratch_free(s);
}

/* IBANs: the registry's documented examples pass, with or without group
 * spaces; a changed digit, a wrong length for the country or an unknown
 * country fail. */
static void
test_validate_iban(void **state)
{
    static const struct vcase c[] = {
        {"t.iban", "GB82WEST12345698765432", 1},
        {"t.iban", "GB82 WEST 1234 5698 7654 32", 1},
        {"t.iban", "DE89370400440532013000", 1},
        {"t.iban", "DE89 3704 0044 0532 0130 00", 1},
        {"t.iban", "FR1420041010050500013M02606", 1},
        {"t.iban", "NL91ABNA0417164300", 1},
        {"t.iban", "GB82WEST12345698765433", 0},  /* last digit */
        {"t.iban", "GB28WEST12345698765432", 0},  /* check digits swapped */
        {"t.iban", "DE8937040044053201300", 0},   /* 21 characters */
        {"t.iban", "NL91ABNA04171643000", 0},     /* 19 characters */
        {"t.iban", "QQ82WEST12345698765432", 0},  /* no such country */
    };

    (void)state;
    run_cases(c, sizeof(c) / sizeof(c[0]));
}

/* US SSNs: the area, group and serial ranges of the SSA. */
static void
test_validate_ssn_us(void **state)
{
    static const struct vcase c[] = {
        {"t.ssn", "536-22-1048", 1}, {"t.ssn", "536 22 1048", 1},
        {"t.ssn", "536221048", 1},   {"t.ssn", "899-01-0001", 1},
        {"t.ssn", "001-01-0001", 1}, {"t.ssn", "000-22-1048", 0},
        {"t.ssn", "666-22-1048", 0}, {"t.ssn", "900-22-1048", 0},
        {"t.ssn", "999-22-1048", 0}, {"t.ssn", "536-00-1048", 0},
        {"t.ssn", "536-22-0000", 0}, {"t.ssn", "555-55-5555", 0},
        {"t.ssn", "123-45-6789", 0}, {"t.ssn", "078-05-1120", 0},
    };

    (void)state;
    run_cases(c, sizeof(c) / sizeof(c[0]));
}

/* Korean RRNs (made-up numbers with computed checksums): the date must
 * exist in the century the gender digit gives, G is 1-8, and only
 * rrn-kr checks the last digit. */
static void
test_validate_rrn_kr(void **state)
{
    static const struct vcase c[] = {
        {"t.rrn", "900101-1234568", 1},
        {"t.rrn", "9001011234568", 1},
        {"t.rrn", "850315-2000007", 1},
        {"t.rrn", "040229-3111110", 1}, /* 2004 was a leap year */
        {"t.rrn", "990505-5012342", 1}, /* foreigner */
        {"t.rrn", "900101-1234567", 0}, /* checksum */
        {"t.rrn", "901301-1234568", 0}, /* month 13 */
        {"t.rrn", "900231-1234568", 0}, /* 31 February */
        {"t.rrn", "900101-9234568", 0}, /* gender digit 9 */
        {"t.rrn", "900101-0234568", 0}, /* gender digit 0 */
        {"t.rrnd", "900101-1234567", 1},
        {"t.rrnd", "210615-4829301", 1},
        {"t.rrnd", "010229-3111110", 0}, /* 2001 was not */
        {"t.rrnd", "000229-1111110", 0}, /* G=1: 1900, not a leap year */
        {"t.rrnd", "000229-3111110", 1}, /* G=3: 2000, a leap year */
        {"t.rrnd", "900132-1234567", 0},
        {"t.rrnd", "900101-9234567", 0},
    };

    (void)state;
    run_cases(c, sizeof(c) / sizeof(c[0]));
}

/* Korean BRNs (made-up numbers with computed checksums). */
static void
test_validate_brn_kr(void **state)
{
    static const struct vcase c[] = {
        {"t.brn", "123-45-67891", 1}, {"t.brn", "1234567891", 1},
        {"t.brn", "220-81-00001", 1}, {"t.brn", "101-81-23455", 1},
        {"t.brn", "123-45-67890", 0}, {"t.brn", "220-81-00002", 0},
        {"t.brn", "000-00-00000", 0},
    };

    (void)state;
    run_cases(c, sizeof(c) / sizeof(c[0]));
}

/* Assigned values: random-looking ones pass, words, placeholders, runs of
 * one character and templates fail. */
static void
test_validate_entropy(void **state)
{
    static const struct vcase c[] = {
        {"t.ent", "password=\"Tr4x9!mQz\"", 1},
        {"t.ent", "token: \"q8Zr2LmVx0Pw7KdN4sYb\"", 1},
        {"t.ent", "password=\"password\"", 0},      /* one class */
        {"t.ent", "password=\"hunter2\"", 0},       /* 7 characters */
        {"t.ent", "password=\"aaaaaaaaA1\"", 0},    /* 1.4 bits */
        {"t.ent", "token: \"aaaaaaaaaaaaaaaaaaaa\"", 0},
        {"t.ent", "token: \"abababababababab12\"", 0}, /* 16+, < 3 bits */
        {"t.ent", "password=\"xxxxxxxx12\"", 0},
        {"t.ent", "password=\"********Ab1\"", 0},
        {"t.ent", "token: \"${API_TOKEN_VALUE}\"", 0},
        {"t.ent", "token: \"<your-token-here>\"", 0},
        {"t.ent", "password=\"self.password_field\"", 0}, /* no digit */
        {"t.ent", "password=\"0x31c45018\"", 0},          /* hex number */
        {"t.ent", "password=\"0x31c4501g\"", 1},
        {"t.ent", "token: \"QmVhcmVyVG9rZW5WYWx1ZQ==\"", 1}, /* padding */
    };

    (void)state;
    run_cases(c, sizeof(c) / sizeof(c[0]));
}

/* IP addresses. */
static void
test_validate_ip(void **state)
{
    static const struct vcase c[] = {
        {"t.ip4", "192.0.2.1", 1},       {"t.ip4", "255.255.255.255", 1},
        {"t.ip4", "0.0.0.0", 1},         {"t.ip4", "256.1.1.1", 0},
        {"t.ip4", "192.0.2.300", 0},     {"t.ip4", "192.0.02.1", 0},
        {"t.ip6", "2001:db8::1", 1},
        {"t.ip6", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", 1},
        {"t.ip6", "fe80::1ff:fe23:4567:890a", 1},
        {"t.ip6", "::1", 1},
        {"t.ip6", "2001:db8:1:2:3:4:5", 0},  /* 7 groups, no :: */
        /* two "::": its prefix 2001::db8 is an address */
        {"t.ip6", "2001::db8::1", 2},
        {"t.ip6", "12:30:45", 0},
    };

    (void)state;
    run_cases(c, sizeof(c) / sizeof(c[0]));
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
            "v.yaml:9:15: error: unknown validator 'luhnn' (expected luhn, "
            "offsite-url, iban, ssn-us, rrn-kr, rrn-kr-date, brn-kr, entropy, "
            "ipv4 or ipv6) [t.bad]",
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
        cmocka_unit_test(test_validate_iban),
        cmocka_unit_test(test_validate_ssn_us),
        cmocka_unit_test(test_validate_rrn_kr),
        cmocka_unit_test(test_validate_brn_kr),
        cmocka_unit_test(test_validate_entropy),
        cmocka_unit_test(test_validate_ip),
        cmocka_unit_test(test_validate_rule_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
