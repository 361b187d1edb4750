/*
 * guard test: compile rule packs and run every rule's embedded tests
 * (`tests: {match: [...], no_match: [...]}`).
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "guard.h"

#define TEST_CMD "test"
/* Bytes of a failing test's input quoted in its report. */
#define TEST_QUOTE_MAX 120

void
cmd_test_help(FILE *f)
{
    fputs("Usage: guard test [PATH]...\n"
          "Compile the rule packs at PATH (files, or directories of *.yaml "
          "packs;\n"
          "default: the bundled packs) together and run every rule's embedded\n"
          "tests: a `match` string must give a finding of its rule, a "
          "`no_match`\n"
          "string must not.  Each string is scanned in the rule's direction.\n"
          "A failure prints\n"
          "  FILE:LINE: [RULE-ID] expected match|no match: \"input\"\n"
          "and the run ends with 'N passed, N failed'.\n"
          "\n"
          "  -h, --help   show this help\n"
          "\n"
          "Exit status: 0 all passed, 1 a test failed, 2 error (such as a "
          "compile\n"
          "error).\n",
          f);
}

/* The input as a JSON string literal, cut at a character boundary. */
static void
test_print_quoted(const char *s, size_t len)
{
    size_t cut = len;
    json_t *js;
    char *q = NULL;

    if (cut > TEST_QUOTE_MAX) {
        cut = TEST_QUOTE_MAX;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) {
            cut--;
        }
    }
    js = json_stringn(s, cut);
    if (js != NULL) {
        q = json_dumps(js, JSON_ENCODE_ANY);
        json_decref(js);
    }
    if (q != NULL) {
        fputs(q, stdout);
        free(q);
    } else {
        printf("<%zu bytes>", len);
    }
    if (cut < len) {
        fputs("...", stdout);
    }
}

/* Returns 1 if the test passed, 0 if it failed (and was reported). */
static int
test_run_one(lg_scratch_t *scratch, const lg_rules_t *rules,
             const lg_rule_test_t *t)
{
    const char *expect = t->expect_match ? "match" : "no match";
    uint32_t dir = t->direction ? t->direction : LG_DIR_BOTH;
    const lg_finding_t *hit = NULL;
    lg_result_t res;
    lg_policy_t pol;
    lg_status_t st;
    uint32_t idx;
    size_t i;

    /* Every rule's tests run, whatever its paranoia level. */
    lg_policy_init(&pol);
    pol.paranoia = LG_PARANOIA_MAX;
    if (lg_rules_find(rules, t->rule_id, &idx) != LG_OK) {
        printf("%s:%u: [%s] expected %s: rule not in the compiled rules\n",
               t->file, t->line, t->rule_id, expect);
        return 0;
    }
    st = lg_scan(scratch, t->input, t->len, dir, &pol, &res);
    if (st != LG_OK) {
        printf("%s:%u: [%s] expected %s: scan failed: %s\n", t->file, t->line,
               t->rule_id, expect, lg_strerror(st));
        return 0;
    }
    for (i = 0; i < res.nfindings && hit == NULL; i++) {
        if (res.findings[i].rule == idx) {
            hit = &res.findings[i];
        }
    }
    if ((hit != NULL) == (t->expect_match != 0)) {
        return 1;
    }
    printf("%s:%u: [%s] expected %s: ", t->file, t->line, t->rule_id, expect);
    test_print_quoted(t->input, t->len);
    if (hit != NULL) {
        printf(" (matched bytes %zu-%zu)", hit->start, hit->end);
    }
    putchar('\n');
    return 0;
}

int
cmd_test(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    guard_strv_t paths = {0}, files = {0};
    lg_compiler_t *c = NULL;
    lg_rules_t *rules = NULL;
    lg_scratch_t *scratch = NULL;
    size_t i, n, passed = 0, failed = 0;
    lg_status_t st;
    int ch, rc = GUARD_EXIT_ERROR;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            cmd_test_help(stdout);
            rc = GUARD_EXIT_OK;
            goto out;
        default:
            rc = guard_getopt_error(TEST_CMD, ch, argv);
            goto out;
        }
    }
    for (i = (size_t)optind; i < (size_t)argc; i++) {
        if (guard_strv_push(&paths, argv[i]) != 0) {
            guard_err("out of memory");
            goto out;
        }
    }
    if (guard_expand_rule_paths(&paths, &files) != 0 ||
        guard_compile_files(&files, 0, &rules, &c) != 0) {
        goto out;
    }
    st = lg_scratch_new(rules, NULL, &scratch);
    if (st != LG_OK) {
        guard_err("cannot create a scratch: %s", lg_strerror(st));
        goto out;
    }
    n = lg_compiler_test_count(c);
    for (i = 0; i < n; i++) {
        const lg_rule_test_t *t = lg_compiler_test(c, i);

        if (t == NULL) {
            continue;
        }
        if (test_run_one(scratch, rules, t)) {
            passed++;
        } else {
            failed++;
        }
    }
    printf("%zu passed, %zu failed\n", passed, failed);
    if (fflush(stdout) == EOF) {
        guard_err("cannot write the output");
        goto out;
    }
    rc = failed > 0 ? GUARD_EXIT_FAIL : GUARD_EXIT_OK;
out:
    lg_scratch_free(scratch);
    lg_rules_free(rules);
    lg_compiler_free(c);
    guard_strv_free(&files);
    guard_strv_free(&paths);
    return rc;
}
