/*
 * guard lint: warnings about rules that are likely to cost false positives
 * or time.  Three kinds of check:
 *  - the pattern's text: unbounded wildcards at either end (they only widen
 *    the span and the work);
 *  - measured speed: each pattern is compiled alone and scanned over
 *    benign text; patterns much slower than the median are named;
 *  - with --benign FILE: rules that flag too large a share of benign rows.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <zlib.h>

#include "guard.h"

#define LINT_CMD "lint"

enum { OPT_BENIGN = 0x100, OPT_MAX_RATE, OPT_SLOW, OPT_WERROR, OPT_NO_SPEED };

typedef struct lint_opts {
    guard_strv_t rules;
    guard_strv_t benign;
    double max_rate;   /* % of benign rows */
    double slow;       /* times the median */
    int werror;
    int speed;
} lint_opts_t;

void
cmd_lint_help(FILE *f)
{
    fputs(
        "Usage: guard lint [OPTION]... [--rules PATH]...\n"
        "Warn about rules likely to cost false positives or scan time:\n"
        "  - patterns that begin or end with an unbounded wildcard (.* .+\n"
        "    \\S* [^x]+ ...), which only widens the reported span and the "
        "work;\n"
        "  - patterns that scan much slower than the others: each pattern is\n"
        "    compiled alone and timed over benign text (the --benign rows, "
        "or\n"
        "    generated English), and those slower than --slow-factor times "
        "the\n"
        "    median are named with their throughput;\n"
        "  - with --benign: rules that flag more than --max-benign-rate "
        "percent\n"
        "    of the benign rows (all paranoia levels run).\n"
        "Each warning is printed as FILE:LINE: warning: [RULE] message.\n"
        "\n"
        "  -r, --rules PATH          a pack file or a directory of packs;\n"
        "                            default: the bundled packs\n"
        "      --benign FILE         labelled JSON lines (gzip accepted); rows\n"
        "                            labelled \"benign\" (or with no label) "
        "are used;\n"
        "                            may be repeated\n"
        "      --max-benign-rate P   default 1 (percent)\n"
        "      --slow-factor X       default 8\n"
        "      --no-speed            skip the speed measurement\n"
        "      --werror              exit 1 when there is any warning\n"
        "  -h, --help                show this help\n"
        "\n"
        "Exit status: 0 done (1 with --werror and warnings), 2 on errors.\n",
        f);
}

static unsigned long g_warnings;

static void
warn_rule(const lg_rule_info_t *info, const char *fmt, ...)
    GUARD_PRINTF(2, 3);

static void
warn_rule(const lg_rule_info_t *info, const char *fmt, ...)
{
    va_list ap;

    printf("%s:%u: warning: [%s] ", info->file, info->line, info->id);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    g_warnings++;
}

/* ---- the pattern's text ---- */

/* Length of an unbounded repeat of one item at the start of re, or 0:
 * ".*", ".+", "\S*", "[^...]+" and the like (lazy forms too). */
static size_t
wild_at_start(const char *re)
{
    size_t i = 0;

    if (re[0] == '.') {
        i = 1;
    } else if (re[0] == '\\' && re[1] != '\0' &&
               strchr("SWDsw", re[1]) != NULL) {
        i = 2;
    } else if (re[0] == '[' && re[1] == '^') {
        const char *end = strchr(re + 2, ']');

        if (end == NULL) {
            return 0;
        }
        i = (size_t)(end - re) + 1;
    } else {
        return 0;
    }
    if (re[i] != '*' && re[i] != '+') {
        return 0;
    }
    return i + 1 + (re[i + 1] == '?');
}

/* True when re ends with an unbounded repeat of one item. */
static int
wild_at_end(const char *re)
{
    size_t n = strlen(re);

    if (n >= 2 && re[n - 1] == '?' && (re[n - 2] == '*' || re[n - 2] == '+')) {
        n--;
    }
    if (n < 2 || (re[n - 1] != '*' && re[n - 1] != '+')) {
        return 0;
    }
    if (n >= 3 && re[n - 3] == '\\' && re[n - 4 < n ? n - 4 : 0] != '\\') {
        return strchr("SWDsw", re[n - 2]) != NULL;
    }
    if (re[n - 2] == '.' && (n < 3 || re[n - 3] != '\\')) {
        return 1;
    }
    if (re[n - 2] == ']') {
        for (size_t k = n - 2; k-- > 0;) {
            if (re[k] == '[') {
                return re[k + 1] == '^';
            }
        }
    }
    return 0;
}

static void
lint_text(const lg_rules_t *r)
{
    for (uint32_t i = 0; i < lg_rules_count(r); i++) {
        lg_rule_info_t info;

        if (lg_rules_info(r, i, &info) != LG_OK) {
            continue;
        }
        for (uint32_t k = 0; k < info.npatterns; k++) {
            const char *re;
            uint32_t flags;

            if (lg_rules_pattern(r, i, k, &re, &flags) != LG_OK) {
                continue;
            }
            if (wild_at_start(re) > 0) {
                warn_rule(&info,
                          "pattern %u starts with an unbounded wildcard: it "
                          "only widens the span and the work",
                          k + 1);
            }
            if (wild_at_end(re)) {
                warn_rule(&info,
                          "pattern %u ends with an unbounded wildcard: it "
                          "only widens the span and the work",
                          k + 1);
            }
        }
    }
}

/* ---- benign text ---- */

typedef struct lint_rows {
    char **text;
    size_t *len;
    size_t n, cap;
} lint_rows_t;

static int
rows_push(lint_rows_t *rows, const char *s, size_t n)
{
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 256;
        char **t = realloc(rows->text, cap * sizeof(*t));
        size_t *l;

        if (t == NULL) {
            return -1;
        }
        rows->text = t;
        l = realloc(rows->len, cap * sizeof(*l));
        if (l == NULL) {
            return -1;
        }
        rows->len = l;
        rows->cap = cap;
    }
    rows->text[rows->n] = malloc(n + 1);
    if (rows->text[rows->n] == NULL) {
        return -1;
    }
    memcpy(rows->text[rows->n], s, n);
    rows->text[rows->n][n] = '\0';
    rows->len[rows->n++] = n;
    return 0;
}

static void
rows_free(lint_rows_t *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        free(rows->text[i]);
    }
    free(rows->text);
    free(rows->len);
}

/* The benign rows of a labelled JSON-lines file. */
static int
read_benign(const char *path, lint_rows_t *rows)
{
    gzFile gz = gzopen(path, "rb");
    static char line[1 << 20];
    unsigned long lineno = 0;
    int rc = 0;

    if (gz == NULL) {
        guard_err("%s: cannot open", path);
        return -1;
    }
    while (gzgets(gz, line, (int)sizeof(line)) != NULL) {
        json_error_t err;
        json_t *o, *text, *label;

        lineno++;
        if (line[0] == '\n' || line[0] == '\0') {
            continue;
        }
        o = json_loads(line, 0, &err);
        text = json_object_get(o, "text");
        label = json_object_get(o, "label");
        if (!json_is_string(text)) {
            fprintf(stderr, "%s:%lu: error: a row needs a \"text\" string\n",
                    path, lineno);
            rc = -1;
        } else if (label == NULL ||
                   (json_is_string(label) &&
                    strcmp(json_string_value(label), "benign") == 0)) {
            if (rows_push(rows, json_string_value(text),
                          json_string_length(text)) != 0) {
                guard_err("out of memory");
                rc = -1;
            }
        }
        json_decref(o);
    }
    gzclose(gz);
    return rc;
}

/* Generated benign English, when no --benign file is given. */
static int
generated_text(lint_rows_t *rows)
{
    static const char *const words[] = {
        "please", "summarize", "the",    "report", "about",   "our",
        "quarterly", "budget", "and",   "explain", "what",    "changed",
        "since",  "last",     "year",   "in",     "plain",   "language",
        "for",    "a",        "team",   "meeting", "with",   "examples",
        "could",  "you",      "also",   "draft",  "a",       "short",
        "email",  "to",       "the",    "client", "thanks!", "system",
        "update", "notes:",   "1.",     "2.",     "(see",    "above)",
    };
    char buf[16384];
    size_t n = 0;
    uint64_t x = 88172645463325252ull;

    while (n + 16 < sizeof(buf)) {
        const char *w;
        size_t wl;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w = words[x % (sizeof(words) / sizeof(words[0]))];
        wl = strlen(w);
        if (n + wl + 1 >= sizeof(buf)) {
            break;
        }
        memcpy(buf + n, w, wl);
        n += wl;
        buf[n++] = x % 11 == 0 ? '\n' : ' ';
    }
    return rows_push(rows, buf, n);
}

/* ---- measured speed ---- */

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A pack with one rule holding only `re` (raw view, no confirmation). */
static char *
single_pattern_pack(const char *re, uint32_t flags)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } fl[] = {{LG_PAT_CASELESS, "caseless"}, {LG_PAT_DOTALL, "dotall"},
              {LG_PAT_MULTILINE, "multiline"}, {LG_PAT_UCP, "ucp"},
              {LG_PAT_UTF8, "utf8"}};
    size_t cap = 256 + 2 * strlen(re);
    char *y = malloc(cap), *p;

    if (y == NULL) {
        return NULL;
    }
    p = y + snprintf(y, cap,
                     "version: 1\npack: lint\npack_version: '1'\nrules:\n"
                     "  - id: lint.one\n    category: pii\n"
                     "    description: d\n    severity: low\n"
                     "    views: [raw]\n    flags: [");
    for (size_t i = 0, first = 1; i < sizeof(fl) / sizeof(fl[0]); i++) {
        if (flags & fl[i].bit) {
            p += sprintf(p, "%s%s", first ? "" : ", ", fl[i].name);
            first = 0;
        }
    }
    p += sprintf(p, "]\n    patterns: ['");
    for (const char *q = re; *q != '\0'; q++) {
        if (*q == '\'') {
            *p++ = '\'';
        }
        *p++ = *q;
    }
    strcpy(p, "']\n");
    return y;
}

struct timing {
    uint32_t rule, pat;
    double ns_per_byte;
};

static int
cmp_timing(const void *a, const void *b)
{
    double x = ((const struct timing *)a)->ns_per_byte;
    double y = ((const struct timing *)b)->ns_per_byte;

    return x < y ? -1 : x > y;
}

/* ns per byte of scanning the rows with only this pattern; < 0 on error. */
static double
time_pattern(const char *re, uint32_t flags, const lint_rows_t *rows)
{
    char *yaml = single_pattern_pack(re, flags);
    lg_compiler_t *c = NULL;
    lg_rules_t *r = NULL;
    lg_scratch_t *s = NULL;
    double best = -1;
    size_t bytes = 0;

    if (yaml == NULL || lg_compiler_new(0, &c) != LG_OK ||
        lg_compiler_add_yaml(c, "lint.yaml", yaml, strlen(yaml)) != LG_OK ||
        lg_compiler_build(c, &r) != LG_OK ||
        lg_scratch_new(r, NULL, &s) != LG_OK) {
        goto out;
    }
    for (size_t i = 0; i < rows->n; i++) {
        bytes += rows->len[i];
    }
    /* the best of 3 runs over at least 64 KiB */
    for (int rep = 0; rep < 3; rep++) {
        uint64_t t0 = now_ns();
        size_t done = 0;
        double ns;

        while (done < 65536 && bytes > 0) {
            for (size_t i = 0; i < rows->n; i++) {
                lg_result_t res;

                (void)lg_scan(s, rows->text[i], rows->len[i], LG_DIR_BOTH,
                              NULL, &res);
            }
            done += bytes;
        }
        ns = (double)(now_ns() - t0) / (double)(done > 0 ? done : 1);
        if (best < 0 || ns < best) {
            best = ns;
        }
    }
out:
    lg_scratch_free(s);
    lg_rules_free(r);
    lg_compiler_free(c);
    free(yaml);
    return best;
}

static int
lint_speed(const lg_rules_t *r, const lint_rows_t *rows, double factor)
{
    size_t np = 0, k = 0;
    struct timing *t;
    double median;

    for (uint32_t i = 0; i < lg_rules_count(r); i++) {
        lg_rule_info_t info;

        if (lg_rules_info(r, i, &info) == LG_OK) {
            np += info.npatterns;
        }
    }
    t = calloc(np > 0 ? np : 1, sizeof(*t));
    if (t == NULL) {
        guard_err("out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < lg_rules_count(r); i++) {
        lg_rule_info_t info;

        if (lg_rules_info(r, i, &info) != LG_OK) {
            continue;
        }
        for (uint32_t p = 0; p < info.npatterns; p++) {
            const char *re;
            uint32_t flags;
            double ns;

            if (lg_rules_pattern(r, i, p, &re, &flags) != LG_OK) {
                continue;
            }
            ns = time_pattern(re, flags, rows);
            if (ns >= 0) {
                t[k++] = (struct timing){i, p, ns};
            }
        }
    }
    if (k == 0) {
        free(t);
        return 0;
    }
    qsort(t, k, sizeof(*t), cmp_timing);
    median = t[k / 2].ns_per_byte;
    for (size_t i = 0; i < k; i++) {
        lg_rule_info_t info;

        if (t[i].ns_per_byte > factor * median &&
            lg_rules_info(r, t[i].rule, &info) == LG_OK) {
            warn_rule(&info,
                      "pattern %u scans slowly: %.0f MB/s alone, %.1f times "
                      "the median pattern (%.0f MB/s)",
                      t[i].pat + 1, 1e3 / t[i].ns_per_byte,
                      t[i].ns_per_byte / median, 1e3 / median);
        }
    }
    fprintf(stderr, "guard lint: timed %zu patterns alone, median %.0f MB/s\n",
            k, 1e3 / median);
    free(t);
    return 0;
}

/* ---- benign rate ---- */

static int
lint_benign(lg_rules_t *r, const lint_rows_t *rows, double max_rate)
{
    size_t nr = lg_rules_count(r);
    unsigned long *hits = calloc(nr > 0 ? nr : 1, sizeof(*hits));
    unsigned char *seen = calloc(nr > 0 ? nr : 1, 1);
    lg_scratch_t *s = NULL;
    lg_policy_t pol;

    if (hits == NULL || seen == NULL || lg_scratch_new(r, NULL, &s) != LG_OK) {
        free(hits);
        free(seen);
        guard_err("out of memory");
        return -1;
    }
    lg_policy_init(&pol);
    pol.paranoia = LG_PARANOIA_MAX;
    for (size_t i = 0; i < rows->n; i++) {
        lg_result_t res;

        if (lg_scan(s, rows->text[i], rows->len[i], LG_DIR_BOTH, &pol, &res) !=
            LG_OK) {
            continue;
        }
        memset(seen, 0, nr);
        for (size_t f = 0; f < res.nfindings; f++) {
            uint32_t rule = res.findings[f].rule;

            if (rule < nr && !seen[rule]) {
                seen[rule] = 1;
                hits[rule]++;
            }
        }
    }
    for (uint32_t i = 0; i < nr && rows->n > 0; i++) {
        double rate = 100.0 * (double)hits[i] / (double)rows->n;
        lg_rule_info_t info;

        if (rate > max_rate && lg_rules_info(r, i, &info) == LG_OK) {
            warn_rule(&info,
                      "matches %lu of %zu benign rows (%.2f%%, more than "
                      "%.2f%%)",
                      hits[i], rows->n, rate, max_rate);
        }
    }
    lg_scratch_free(s);
    free(hits);
    free(seen);
    return 0;
}

static int
parse_pct(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end != '\0' || !(v >= 0)) {
        return -1;
    }
    *out = v;
    return 0;
}

int
cmd_lint(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"benign", required_argument, NULL, OPT_BENIGN},
        {"max-benign-rate", required_argument, NULL, OPT_MAX_RATE},
        {"slow-factor", required_argument, NULL, OPT_SLOW},
        {"werror", no_argument, NULL, OPT_WERROR},
        {"no-speed", no_argument, NULL, OPT_NO_SPEED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lint_opts_t o = {{0}, {0}, 1.0, 8.0, 0, 1};
    lint_rows_t rows = {0};
    lg_rules_t *r = NULL;
    int ch, rc = GUARD_EXIT_ERROR;

    opterr = 0;
    g_warnings = 0;
    while ((ch = getopt_long(argc, argv, ":r:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (guard_strv_push(&o.rules, optarg) != 0) {
                guard_err("out of memory");
                goto out;
            }
            break;
        case OPT_BENIGN:
            if (guard_strv_push(&o.benign, optarg) != 0) {
                guard_err("out of memory");
                goto out;
            }
            break;
        case OPT_MAX_RATE:
            if (parse_pct(optarg, &o.max_rate) != 0 || o.max_rate > 100) {
                rc = guard_usage_error(LINT_CMD,
                                       "--max-benign-rate: expected a "
                                       "percentage, got '%s'",
                                       optarg);
                goto out;
            }
            break;
        case OPT_SLOW:
            if (parse_pct(optarg, &o.slow) != 0 || o.slow < 1) {
                rc = guard_usage_error(LINT_CMD,
                                       "--slow-factor: expected a number of "
                                       "at least 1, got '%s'",
                                       optarg);
                goto out;
            }
            break;
        case OPT_WERROR:
            o.werror = 1;
            break;
        case OPT_NO_SPEED:
            o.speed = 0;
            break;
        case 'h':
            cmd_lint_help(stdout);
            rc = GUARD_EXIT_OK;
            goto out;
        default:
            rc = guard_getopt_error(LINT_CMD, ch, argv);
            goto out;
        }
    }
    if (optind < argc) {
        rc = guard_usage_error(LINT_CMD,
                               "unexpected argument '%s' (use --rules PATH)",
                               argv[optind]);
        goto out;
    }
    for (size_t i = 0; i < o.benign.n; i++) {
        if (read_benign(o.benign.v[i], &rows) != 0) {
            goto out;
        }
    }
    if (guard_load_rules(&o.rules, NULL, &r) != 0) {
        goto out;
    }
    lint_text(r);
    if (o.benign.n > 0 && lint_benign(r, &rows, o.max_rate) != 0) {
        goto out;
    }
    if (o.speed) {
        if (rows.n == 0 && generated_text(&rows) != 0) {
            guard_err("out of memory");
            goto out;
        }
        if (lint_speed(r, &rows, o.slow) != 0) {
            goto out;
        }
    }
    fprintf(stderr, "guard lint: %lu warning%s\n", g_warnings,
            g_warnings == 1 ? "" : "s");
    rc = o.werror && g_warnings > 0 ? GUARD_EXIT_FAIL : GUARD_EXIT_OK;
out:
    rows_free(&rows);
    lg_rules_free(r);
    guard_strv_free(&o.rules);
    guard_strv_free(&o.benign);
    return rc;
}
