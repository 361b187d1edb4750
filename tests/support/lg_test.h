/*
 * Helpers shared by the cmocka unit tests.  Header-only: each test program
 * includes it once.  Every helper fails the running test (cmocka fail_msg)
 * instead of returning an error, so tests read as straight-line code.
 */
#ifndef LG_TEST_H
#define LG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libguard.h"

/* cmocka prints integers as unsigned: show statuses by name instead. */
#define assert_status(rc, expected)                                            \
    lg_test_assert_status((rc), (expected), #rc, __FILE__, __LINE__)

static inline void
lg_test_assert_status(lg_status_t rc, lg_status_t expected, const char *expr,
                      const char *file, int line)
{
    if (rc != expected) {
        fail_msg("%s:%d: %s returned %d (%s), expected %d (%s)", file, line,
                 expr, (int)rc, lg_strerror(rc), (int)expected,
                 lg_strerror(expected));
    }
}

/* Print every diagnostic of `c` to stderr, one per line. */
static inline void
lg_test_print_diags(const lg_compiler_t *c)
{
    char line[1024];

    for (size_t i = 0; i < lg_compiler_diag_count(c); i++) {
        const lg_diag_t *d = lg_compiler_diag(c, i);

        if (d == NULL) {
            fprintf(stderr, "  <diag %zu missing>\n", i);
            continue;
        }
        if (lg_diag_format(d, line, sizeof(line), NULL) == LG_E_INVAL) {
            fprintf(stderr, "  <diag %zu unformattable>\n", i);
            continue;
        }
        fprintf(stderr, "  %s\n", line);
    }
}

/*
 * Compile one YAML pack (NUL-terminated) with a non-strict compiler.  On any
 * failure, print the diagnostics and fail the test.  Returns rules with one
 * reference: release with lg_rules_free().
 */
static inline lg_rules_t *
lg_test_compile(const char *yaml, const char *file, int line)
{
    lg_compiler_t *c = NULL;
    lg_rules_t *r = NULL;
    lg_status_t rc;

    rc = lg_compiler_new(0, &c);
    if (rc != LG_OK) {
        fail_msg("%s:%d: lg_compiler_new: %s", file, line, lg_strerror(rc));
    }
    rc = lg_compiler_add_yaml(c, "test.yaml", yaml, strlen(yaml));
    if (rc == LG_OK) {
        rc = lg_compiler_build(c, &r);
    }
    if (rc != LG_OK || r == NULL) {
        fprintf(stderr, "%s:%d: compiling the test pack failed: %s\n", file,
                line, lg_strerror(rc));
        lg_test_print_diags(c);
        lg_compiler_free(c);
        fail_msg("%s:%d: compile_or_die failed", file, line);
    }
    lg_compiler_free(c);
    return r;
}
#define compile_or_die(yaml) lg_test_compile((yaml), __FILE__, __LINE__)

/* A scratch for `r` with `limits` (NULL: defaults); fails the test. */
static inline lg_scratch_t *
lg_test_scratch(lg_rules_t *r, const lg_limits_t *limits, const char *file,
                int line)
{
    lg_scratch_t *s = NULL;
    lg_status_t rc = lg_scratch_new(r, limits, &s);

    if (rc != LG_OK || s == NULL) {
        fail_msg("%s:%d: lg_scratch_new: %s", file, line, lg_strerror(rc));
    }
    return s;
}
#define scratch_or_die(r, limits) lg_test_scratch((r), (limits), __FILE__, __LINE__)

/* Scan `len` bytes and fail the test unless lg_scan() returns LG_OK. */
static inline lg_result_t
lg_test_scan(lg_scratch_t *s, const void *data, size_t len, uint32_t dir,
             const lg_policy_t *policy, const char *file, int line)
{
    lg_result_t res;
    lg_status_t rc;

    memset(&res, 0xA5, sizeof(res));
    rc = lg_scan(s, data, len, dir, policy, &res);
    if (rc != LG_OK) {
        fail_msg("%s:%d: lg_scan: %s", file, line, lg_strerror(rc));
    }
    if (res.nfindings > 0 && res.findings == NULL) {
        fail_msg("%s:%d: %zu findings but findings == NULL", file, line,
                 res.nfindings);
    }
    return res;
}
/* Scan a NUL-terminated string (the NUL is not scanned). */
#define scan_str(s, str, dir, policy)                                          \
    lg_test_scan((s), (str), strlen(str), (dir), (policy), __FILE__, __LINE__)
/* Compile-time check that `a` is an array, not a pointer (sizeof(a)). */
#define LG_TEST_ARRAY_CHECK(a)                                                 \
    (0 * sizeof(char[1 - 2 * __builtin_types_compatible_p(                     \
                              __typeof__(a), __typeof__(&(a)[0]))]))
/* Scan a char array (e.g. a string literal) that may hold NUL bytes; its
 * terminating NUL is not scanned. */
#define scan_lit(s, lit, dir, policy)                                          \
    lg_test_scan((s), (lit), sizeof(lit) - 1 + LG_TEST_ARRAY_CHECK(lit),      \
                 (dir), (policy), __FILE__, __LINE__)
#define scan_buf(s, data, len, dir, policy)                                    \
    lg_test_scan((s), (data), (len), (dir), (policy), __FILE__, __LINE__)

/* The index of rule `id`; fails the test if there is none. */
static inline uint32_t
lg_test_rule_idx(const lg_rules_t *r, const char *id, const char *file,
                 int line)
{
    uint32_t idx = UINT32_MAX;

    if (lg_rules_find(r, id, &idx) != LG_OK) {
        fail_msg("%s:%d: no rule '%s'", file, line, id);
    }
    return idx;
}
#define rule_idx(r, id) lg_test_rule_idx((r), (id), __FILE__, __LINE__)

/* Number of findings of rule `id` in `res` (0 if the rule does not exist). */
static inline size_t
count_findings(const lg_result_t *res, const lg_rules_t *r, const char *id)
{
    uint32_t idx;
    size_t n = 0;

    if (lg_rules_find(r, id, &idx) != LG_OK) {
        return 0;
    }
    for (size_t i = 0; i < res->nfindings; i++) {
        if (res->findings[i].rule == idx) {
            n++;
        }
    }
    return n;
}

/* The first finding of rule `id`, or NULL. */
static inline const lg_finding_t *
find_finding(const lg_result_t *res, const lg_rules_t *r, const char *id)
{
    uint32_t idx;

    if (lg_rules_find(r, id, &idx) != LG_OK) {
        return NULL;
    }
    for (size_t i = 0; i < res->nfindings; i++) {
        if (res->findings[i].rule == idx) {
            return &res->findings[i];
        }
    }
    return NULL;
}

static inline int
has_finding(const lg_result_t *res, const lg_rules_t *r, const char *id)
{
    return find_finding(res, r, id) != NULL;
}

/* Findings compared field by field (lg_finding_t has tail padding, which
 * memcmp would read). */
static inline int
lg_test_findings_equal(const lg_finding_t *a, const lg_finding_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].rule != b[i].rule || a[i].category != b[i].category ||
            a[i].severity != b[i].severity || a[i].score != b[i].score ||
            a[i].start != b[i].start || a[i].end != b[i].end ||
            a[i].views != b[i].views) {
            return 0;
        }
    }
    return 1;
}

/* Dump a result to stderr (for failure messages). */
static inline void
lg_test_dump_result(const lg_result_t *res, const lg_rules_t *r)
{
    fprintf(stderr,
            "  verdict=%s would_block=%u categories=0x%x score=%u "
            "truncated=%u nfindings=%zu\n",
            lg_verdict_name(res->verdict) ? lg_verdict_name(res->verdict)
                                          : "?",
            res->would_block, res->categories, res->score, res->truncated,
            res->nfindings);
    for (size_t i = 0; i < res->nfindings; i++) {
        const lg_finding_t *f = &res->findings[i];
        const char *id = lg_rules_id(r, f->rule);

        fprintf(stderr, "  [%zu] %s cat=%d sev=%d score=%u [%zu,%zu)\n", i,
                id ? id : "?", (int)f->category, (int)f->severity, f->score,
                f->start, f->end);
    }
}

/*
 * Assert that `res` holds exactly one finding of rule `id`, spanning
 * [start, end).  Dumps the result on failure.
 */
static inline void
lg_test_assert_span(const lg_result_t *res, const lg_rules_t *r,
                    const char *id, size_t start, size_t end,
                    const char *file, int line)
{
    const lg_finding_t *f = find_finding(res, r, id);
    size_t n = count_findings(res, r, id);

    if (f == NULL || n != 1 || f->start != start || f->end != end) {
        lg_test_dump_result(res, r);
        fail_msg("%s:%d: expected one finding of %s at [%zu,%zu), got %zu "
                 "(first at [%zu,%zu))",
                 file, line, id, start, end, n, f ? f->start : 0,
                 f ? f->end : 0);
    }
}
#define assert_span(res, r, id, start, end)                                    \
    lg_test_assert_span((res), (r), (id), (start), (end), __FILE__, __LINE__)

#define assert_verdict(res, v)                                                 \
    do {                                                                       \
        if ((res)->verdict != (v)) {                                           \
            fail_msg("%s:%d: verdict %d, expected %d (score %u)", __FILE__,    \
                     __LINE__, (int)(res)->verdict, (int)(v), (res)->score);   \
        }                                                                      \
    } while (0)

/* Offset of the first occurrence of `needle` in data[0..len); fails if none. */
static inline size_t
lg_test_offset_of(const void *data, size_t len, const char *needle,
                  const char *file, int line)
{
    const unsigned char *p = data;
    size_t n = strlen(needle);

    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(p + i, needle, n) == 0) {
            return i;
        }
    }
    fail_msg("%s:%d: '%s' not in the input", file, line, needle);
    return 0; /* not reached */
}
#define offset_of(data, len, needle)                                           \
    lg_test_offset_of((data), (len), (needle), __FILE__, __LINE__)

/* Deterministic PRNG (splitmix64) for reproducible random tests. */
static inline uint64_t
lg_test_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* True if all `n` bytes at `p` are zero. */
static inline int
lg_test_all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return 0;
        }
    }
    return 1;
}

#endif /* LG_TEST_H */
