/*
 * Fuzz target: YAML rule packs from bytes.
 *
 * The input is one pack, or two split at a line "#@file2" (so that ids
 * can clash across files); "#@strict" anywhere selects LG_COMPILE_STRICT.
 * lg_compiler_add_yaml() must accept or diagnose any bytes; every
 * diagnostic must format; the build succeeds exactly when no error was
 * reported.  Built rules are checked further: introspection, a
 * serialize/load round trip that must succeed and scan identically, and
 * scans of a fixed text and of the pack's own test strings under the
 * invariants of fuzz_check.h.
 *
 * Hyperscan needs seconds for some large bounded repeats ("[^x]{500}"
 * beside "(?:a|b){200}"), ten times more under ASan on a busy machine, so
 * the .options timeout is 90 s: longer still is a hang.
 */
#include "fuzz_check.h"

#define MAX_TESTS 16 /* embedded test strings scanned per input */

static const char split_mark[] = "\n#@file2\n";
static const char strict_mark[] = "#@strict";

/* Offset of `needle` in `hay`, or `len` if absent. */
static size_t
find(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return i;
        }
    }
    return len;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (lg_init() != LG_OK) {
        abort();
    }
    return 0;
}

static void
check_diags(const lg_compiler_t *c)
{
    size_t n = lg_compiler_diag_count(c), errors = 0;
    char small[8];

    for (size_t i = 0; i < n; i++) {
        const lg_diag_t *d = lg_compiler_diag(c, i);
        size_t needed = 0, needed2 = 0;
        char *buf;

        FZ_CHECK(d != NULL);
        FZ_CHECK(d->code == LG_E_COMPILE || d->code == LG_E_IO ||
                 d->code == LG_E_NOMEM);
        FZ_CHECK(d->level == LG_DIAG_ERROR || d->level == LG_DIAG_WARNING);
        FZ_CHECK(d->file != NULL && d->message != NULL);
        FZ_CHECK(strchr(d->message, '\n') == NULL);
        errors += d->level == LG_DIAG_ERROR;

        FZ_CHECK(lg_diag_format(d, NULL, 0, &needed) == LG_E_NOSPACE);
        FZ_CHECK(needed > 1);
        buf = fz_xmalloc(needed);
        FZ_CHECK(lg_diag_format(d, buf, needed, &needed2) == LG_OK);
        FZ_CHECK(needed2 == needed && strlen(buf) + 1 == needed);
        if (needed > sizeof(small)) {
            FZ_CHECK(lg_diag_format(d, small, sizeof(small), NULL) ==
                     LG_E_NOSPACE);
            FZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL);
            FZ_CHECK(memcmp(small, buf, strlen(small)) == 0);
        }
        free(buf);
    }
    FZ_CHECK(lg_compiler_diag(c, n) == NULL);
    FZ_CHECK(lg_compiler_error_count(c) == errors);
}

static void
check_tests(const lg_compiler_t *c)
{
    size_t n = lg_compiler_test_count(c);

    for (size_t i = 0; i < n; i++) {
        const lg_rule_test_t *t = lg_compiler_test(c, i);

        FZ_CHECK(t != NULL);
        FZ_CHECK(t->rule_id != NULL && t->file != NULL && t->input != NULL);
        FZ_CHECK(t->input[t->len] == '\0');
        FZ_CHECK(t->expect_match == 0 || t->expect_match == 1);
        FZ_CHECK(t->direction != 0 && (t->direction & ~LG_DIR_BOTH) == 0);
    }
    FZ_CHECK(lg_compiler_test(c, n) == NULL);
}

/* Serialize, load back, serialize again: the load must succeed, and the
 * two serializations must be byte-identical. */
static lg_rules_t *
round_trip(const lg_rules_t *r)
{
    void *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    lg_rules_t *back = NULL;

    FZ_CHECK(lg_rules_serialize(r, &buf, &len) == LG_OK);
    FZ_CHECK(buf != NULL && len >= 64);
    FZ_CHECK(lg_rules_load(buf, len, &back) == LG_OK);
    FZ_CHECK(back != NULL);
    FZ_CHECK(lg_rules_count(back) == lg_rules_count(r));
    for (uint32_t i = 0; i < (uint32_t)lg_rules_count(r); i++) {
        FZ_CHECK(strcmp(lg_rules_id(r, i), lg_rules_id(back, i)) == 0);
    }
    FZ_CHECK(lg_rules_serialize(back, &buf2, &len2) == LG_OK);
    FZ_CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    lg_free(buf2);
    lg_free(buf);
    return back;
}

static void
exercise(const lg_compiler_t *c, lg_rules_t *r)
{
    lg_scratch_t *s = NULL, *s2 = NULL;
    lg_rules_t *back;
    lg_limits_t lim;
    size_t ntests = lg_compiler_test_count(c);

    fz_limits(&lim);
    fz_check_rules(r);
    back = round_trip(r);
    FZ_CHECK(lg_scratch_new(r, &lim, &s) == LG_OK);
    FZ_CHECK(lg_scratch_new(back, &lim, &s2) == LG_OK);
    lg_rules_free(back); /* the scratch keeps its own reference */

    fz_scan_all(s, &lim, fz_fixed_text, sizeof(fz_fixed_text) - 1);
    fz_scan_compare(s, s2, fz_fixed_text, sizeof(fz_fixed_text) - 1,
                    LG_DIR_BOTH);
    for (size_t i = 0; i < ntests && i < MAX_TESTS; i++) {
        const lg_rule_test_t *t = lg_compiler_test(c, i);

        fz_scan_all(s, &lim, t->input, t->len);
        fz_scan_compare(s, s2, t->input, t->len, t->direction);
    }
    lg_scratch_free(s2);
    lg_scratch_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_compiler_t *c = NULL;
    lg_rules_t *r = NULL;
    lg_status_t rc;
    size_t split = find(data, size, split_mark), errors;
    uint32_t flags =
        find(data, size, strict_mark) < size ? LG_COMPILE_STRICT : 0;

    if (lg_compiler_new(flags, &c) != LG_OK) {
        abort();
    }
    rc = lg_compiler_add_yaml(c, "a.yaml", (const char *)data, split);
    FZ_CHECK(rc == LG_OK || rc == LG_E_COMPILE);
    FZ_CHECK((rc == LG_OK) == (lg_compiler_error_count(c) == 0));
    if (split < size) {
        errors = lg_compiler_error_count(c);
        split += sizeof(split_mark) - 1;
        rc = lg_compiler_add_yaml(c, "b.yaml", (const char *)data + split,
                                  size - split);
        FZ_CHECK(rc == LG_OK || rc == LG_E_COMPILE);
        FZ_CHECK((rc == LG_OK) == (lg_compiler_error_count(c) == errors));
    }
    check_diags(c);
    check_tests(c);

    rc = lg_compiler_build(c, &r);
    FZ_CHECK(rc == LG_OK || rc == LG_E_COMPILE);
    FZ_CHECK((rc == LG_OK) == (r != NULL));
    FZ_CHECK((rc == LG_OK) == (lg_compiler_error_count(c) == 0));
    check_diags(c);
    /* Frozen after build. */
    FZ_CHECK(lg_compiler_add_yaml(c, NULL, "x", 1) == LG_E_INVAL);
    if (r != NULL) {
        exercise(c, r);
        lg_rules_free(r);
    }
    lg_compiler_free(c);
    return 0;
}
