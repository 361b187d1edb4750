/*
 * guard eval: scan labelled JSON lines and measure the rules: per label
 * recall, precision and F1, false-positive rates on benign rows and on hard
 * negatives, per language and per dataset category.  The input is streamed
 * (one line in memory at a time) and scanned with one scratch.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "guard.h"

#define EVAL_CMD "eval"
#define EVAL_CHUNK 65536
/* Bytes of a row's text quoted by --show. */
#define EVAL_SHOW_TEXT 200
#define EVAL_SHOW_LIMIT 50
#define EVAL_NEGATIVE "benign"
#define EVAL_NO_LANG "und"
/* The name of all attack labels pooled; no label may have it. */
#define EVAL_RESERVED "attacks"

/* Group ids: the fixed groups, then label i is EVAL_G_LABEL0 + i. */
enum {
    EVAL_G_BENIGN = 0,  /* benign rows without hard_negative: true */
    EVAL_G_HARD = 1,    /* benign rows with hard_negative: true */
    EVAL_G_ATTACKS = 2, /* every row whose label is not benign */
    EVAL_G_LABEL0 = 3
};

/* Kinds of map entries. */
enum {
    EVAL_K_LANG = 1, /* (group, lang) */
    EVAL_K_LANGS,    /* (0, lang): every row of the language */
    EVAL_K_CAT       /* (group, dataset category) */
};

enum { EVAL_SHOW_NONE, EVAL_SHOW_MISSES, EVAL_SHOW_FPS };

enum {
    OPT_DB = 256,
    OPT_DIRECTION,
    OPT_CATEGORIES,
    OPT_LABELS,
    OPT_JSON,
    OPT_SHOW,
    OPT_LIMIT,
    OPT_MIN_RECALL,
    OPT_MAX_FP,
    OPT_MAX_HARD_FP
};

typedef struct eval_tally {
    unsigned long n;        /* rows */
    unsigned long detected; /* verdict flag or block */
    unsigned long blocked;  /* verdict block */
    unsigned long incat;    /* a finding in a category of the row's label */
} eval_tally_t;

typedef struct eval_label {
    char *name;
    uint32_t cats;     /* bit (1u << lg_category_t) per mapped category */
    eval_tally_t t;
    unsigned long fp;  /* benign rows detected with a finding in `cats` */
} eval_label_t;

typedef struct eval_entry {
    char *value; /* NULL: free slot */
    size_t group;
    int kind;
    eval_tally_t t;
} eval_entry_t;

/* Open addressing; cap is a power of two, at most half full. */
typedef struct eval_map {
    eval_entry_t *v;
    size_t n;
    size_t cap;
} eval_map_t;

typedef struct eval_opts {
    guard_strv_t rules;
    const char *db;
    const char *labels_file;
    uint32_t dir;
    uint32_t views;
    uint32_t only_cats;         /* --categories; 0: every category */
    int json;
    int show;
    uint32_t limit;
    int limit_given;
    lg_policy_t policy;
    guard_strv_t recall_labels; /* --min-recall LABEL=PCT, in order */
    double *recall_pct;
    int has_max_fp;
    double max_fp;
    int has_max_hard_fp;
    double max_hard_fp;
    char **files;
    size_t nfiles;
} eval_opts_t;

typedef struct eval_state {
    const eval_opts_t *o;
    lg_scratch_t *scratch;
    const lg_rules_t *rules;
    eval_label_t *labels;
    size_t nlabels;
    size_t caplabels;
    eval_tally_t groups[EVAL_G_LABEL0]; /* benign, hard, attacks */
    unsigned long attacks_fp;           /* benign rows detected at all */
    eval_map_t map;
    unsigned long rows;
    unsigned long errors;
    int have_category;                  /* some row has a "category" */
    char **shown;                       /* --show lines (JSON) */
    size_t nshown;
    unsigned long show_total;
    const char *file;
    unsigned long lineno;
    size_t line_max;
    int fatal;
} eval_state_t;

void
cmd_eval_help(FILE *f)
{
    fputs(
        "Usage: guard eval [OPTION]... FILE...\n"
        "Scan every row of labelled JSON lines files (gzip accepted; - is\n"
        "standard input) and print how well the rules detect them.  A row is\n"
        "{\"text\": ..., \"label\": ...} with optional \"lang\", "
        "\"category\",\n"
        "\"direction\" and, on benign rows, \"hard_negative\" (true or "
        "false).\n"
        "Label \"benign\" marks negatives; every other label is an attack "
        "label.\n"
        "\n"
        "Figures (a row is detected when its verdict is flag or block):\n"
        "  For each attack label L, mapped to a set of rule categories:\n"
        "    TP  rows labelled L that are detected (by any category)\n"
        "    FN  rows labelled L that are not detected\n"
        "    FP  benign rows (hard negatives included) that are detected with\n"
        "        a finding in one of L's categories\n"
        "    TN  the other benign rows\n"
        "    recall = TP/(TP+FN)   precision = TP/(TP+FP)\n"
        "    F1 = 2TP/(2TP+FP+FN)\n"
        "    block%   rows labelled L whose verdict is block\n"
        "    in-cat%  rows labelled L with a finding in one of L's "
        "categories\n"
        "  Rows of other attack labels count for neither side of L.\n"
        "  \"attacks\" pools every attack label; its FP are all detected "
        "benign\n"
        "  rows, whatever the category.\n"
        "  fp%: detected share of the benign rows that are not hard "
        "negatives,\n"
        "  and apart from them, of the hard negatives (hard_negative: "
        "true).\n"
        "  Then per language (\"lang\"; rows without one count as \"und\")\n"
        "  and, when rows have one, per label and dataset \"category\".\n"
        "  A figure with nothing to divide by is printed n/a (null in "
        "JSON).\n"
        "\n"
        "Labels:\n"
        "      --labels FILE        the label map, replacing the default: one "
        "line\n"
        "                           per label, 'label: category...', # starts "
        "a\n"
        "                           comment, 'moderation/*' names every\n"
        "                           moderation category.  Default:\n"
        "                             injection: injection leakage hijacking\n"
        "                             jailbreak: injection leakage hijacking\n"
        "                             harmful: harmful\n"
        "                             toxic: moderation/*\n"
        "                             pii: pii\n"
        "                             secret: secret\n"
        "                           A label missing from the map is counted "
        "with\n"
        "                           no categories (a warning says so).\n"
        "\n",
        f);
    fputs(
        "Rules and scanning:\n"
        "  -r, --rules PATH         a rule pack file, or a directory of "
        "*.yaml\n"
        "                           packs; may be repeated\n"
        "      --db FILE            load rules compiled by 'guard compile'\n"
        "  Default: the bundled packs ($LIBGUARD_RULES if set).\n"
        "      --direction DIR      prompt (default), completion or both; a "
        "row's\n"
        "                           own \"direction\" wins\n"
        "      --views LIST         views to match in (as for 'guard scan';\n"
        "                           default all): --views raw shows what the\n"
        "                           normalized and decoded views add\n"
        "      --detect-only, --block-at CAT=N, --flag-at CAT=N,\n"
        "      --total-block-at N, --total-flag-at N, --paranoia N\n"
        "      --categories LIST    count a row as detected only by findings\n"
        "                           in these categories (comma-separated,\n"
        "                           moderation/* for all of moderation): the\n"
        "                           figures of one task when every pack runs,\n"
        "                           e.g. injection,hijacking,leakage\n"
        "                           the verdict policy, as for 'guard scan'\n"
        "\n"
        "Output:\n"
        "      --json               print the figures as one JSON object (one "
        "line)\n"
        "      --show misses|false-positives\n"
        "                           after the figures, list the attack rows "
        "not\n"
        "                           detected, or the benign rows detected, one "
        "JSON\n"
        "                           object a line (file, line, label, lang,\n"
        "                           verdict, rules, text cut to 200 bytes)\n"
        "      --limit N            list at most N rows (default 50; 0: all)\n"
        "\n"
        "Floors (for CI):\n"
        "      --min-recall LABEL=PCT  fail if LABEL's recall is below PCT;\n"
        "                           LABEL may be 'attacks'; may be repeated\n"
        "      --max-fp PCT         fail if fp% of benign rows is above PCT\n"
        "      --max-hard-fp PCT    fail if fp% of hard negatives is above "
        "PCT\n"
        "  A floor on a group without rows fails.  Results go to stderr.\n"
        "\n"
        "  -h, --help               show this help\n"
        "\n"
        "A malformed row is reported as 'FILE:LINE: error: ...' on stderr and\n"
        "left out of the figures.\n"
        "\n"
        "Exit status: 0 done, 1 a floor was missed, 2 error (usage, I/O, or "
        "a\n"
        "malformed row).\n",
        f);
}

static void
eval_tally_add(eval_tally_t *t, int detected, int blocked, int incat)
{
    t->n++;
    t->detected += (unsigned long)detected;
    t->blocked += (unsigned long)blocked;
    t->incat += (unsigned long)incat;
}

/* 100 * num / den, or -1 when den is 0 (printed n/a). */
static double
eval_pct(unsigned long num, unsigned long den)
{
    return den == 0 ? -1.0 : 100.0 * (double)num / (double)den;
}

/* ---- the string-keyed tallies ---- */

static size_t
eval_hash(int kind, size_t group, const char *value)
{
    uint64_t h = 1469598103934665603u;
    const unsigned char *p = (const unsigned char *)value;

    h = (h ^ (uint64_t)kind) * 1099511628211u;
    h = (h ^ (uint64_t)group) * 1099511628211u;
    while (*p != '\0') {
        h = (h ^ *p++) * 1099511628211u;
    }
    return (size_t)h;
}

static eval_entry_t *
eval_map_slot(eval_entry_t *v, size_t cap, int kind, size_t group,
              const char *value)
{
    size_t i = eval_hash(kind, group, value) & (cap - 1);

    while (v[i].value != NULL &&
           (v[i].kind != kind || v[i].group != group ||
            strcmp(v[i].value, value) != 0)) {
        i = (i + 1) & (cap - 1);
    }
    return &v[i];
}

/* The tally of (kind, group, value), created if new; NULL on OOM. */
static eval_tally_t *
eval_map_get(eval_map_t *m, int kind, size_t group, const char *value)
{
    eval_entry_t *e;

    if (m->n + 1 > m->cap / 2) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        eval_entry_t *v = calloc(cap, sizeof(*v));
        size_t i;

        if (v == NULL) {
            return NULL;
        }
        for (i = 0; i < m->cap; i++) {
            if (m->v[i].value != NULL) {
                *eval_map_slot(v, cap, m->v[i].kind, m->v[i].group,
                               m->v[i].value) = m->v[i];
            }
        }
        free(m->v);
        m->v = v;
        m->cap = cap;
    }
    e = eval_map_slot(m->v, m->cap, kind, group, value);
    if (e->value == NULL) {
        e->value = strdup(value);
        if (e->value == NULL) {
            return NULL;
        }
        e->kind = kind;
        e->group = group;
        m->n++;
    }
    return &e->t;
}

/* The tally if it exists (else NULL): lookups never create. */
static const eval_tally_t *
eval_map_find(const eval_map_t *m, int kind, size_t group, const char *value)
{
    eval_entry_t *e;

    if (m->cap == 0) {
        return NULL;
    }
    e = eval_map_slot(m->v, m->cap, kind, group, value);
    return e->value != NULL ? &e->t : NULL;
}

static void
eval_map_free(eval_map_t *m)
{
    size_t i;

    for (i = 0; i < m->cap; i++) {
        free(m->v[i].value);
    }
    free(m->v);
    m->v = NULL;
    m->n = m->cap = 0;
}

/* ---- labels ---- */

static const struct {
    const char *name;
    const char *cats;
} eval_default_labels[] = {
    {"injection", "injection leakage hijacking"},
    {"jailbreak", "injection leakage hijacking"},
    {"harmful", "harmful"},
    {"toxic", "moderation/*"},
    {"pii", "pii"},
    {"secret", "secret"},
};

static eval_label_t *
eval_label_find(eval_state_t *e, const char *name)
{
    size_t i;

    for (i = 0; i < e->nlabels; i++) {
        if (strcmp(e->labels[i].name, name) == 0) {
            return &e->labels[i];
        }
    }
    return NULL;
}

/* Append a label; NULL on OOM (reported). */
static eval_label_t *
eval_label_add(eval_state_t *e, const char *name, uint32_t cats)
{
    eval_label_t *l;

    if (e->nlabels == e->caplabels) {
        size_t cap = e->caplabels ? e->caplabels * 2 : 8;
        eval_label_t *v = realloc(e->labels, cap * sizeof(*v));

        if (v == NULL) {
            guard_err("out of memory");
            return NULL;
        }
        e->labels = v;
        e->caplabels = cap;
    }
    l = &e->labels[e->nlabels];
    memset(l, 0, sizeof(*l));
    l->name = strdup(name);
    if (l->name == NULL) {
        guard_err("out of memory");
        return NULL;
    }
    l->cats = cats;
    e->nlabels++;
    return l;
}

/*
 * Add the categories named in `list` (blank or comma separated) to *cats.
 * "prefix/" followed by "*" names every category whose name starts with
 * "prefix/".
 * Returns 0, or -1 with the offending word in *bad / *badlen.
 */
static int
eval_parse_cats(const char *list, uint32_t *cats, const char **bad,
                size_t *badlen)
{
    const char *p = list;

    while (*p != '\0') {
        size_t n;
        lg_category_t c;

        if (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
            continue;
        }
        n = strcspn(p, " \t,");
        if (n >= 2 && p[n - 1] == '*' && p[n - 2] == '/') {
            int any = 0;
            uint32_t i;

            for (i = 0; i < LG_CATEGORY_MAX; i++) {
                const char *name = lg_category_name((lg_category_t)i);

                if (name != NULL && strncmp(name, p, n - 1) == 0) {
                    *cats |= 1u << i;
                    any = 1;
                }
            }
            if (!any) {
                *bad = p;
                *badlen = n;
                return -1;
            }
        } else if (lg_category_parse(p, n, &c) == LG_OK) {
            *cats |= 1u << c;
        } else {
            *bad = p;
            *badlen = n;
            return -1;
        }
        p += n;
    }
    return 0;
}

static void
eval_file_error(const char *file, unsigned long line, const char *fmt, ...)
    GUARD_PRINTF(3, 4);

static void
eval_file_error(const char *file, unsigned long line, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "%s:%lu: error: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Read --labels FILE into e->labels.  Returns 0 or -1 (reported). */
static int
eval_load_labels(eval_state_t *e, const char *path)
{
    unsigned char *buf;
    size_t len;
    char *line, *next;
    unsigned long lineno = 0;
    int seen_negative = 0;
    int rc = -1;

    if (guard_read_all(path, (size_t)1 << 20, &buf, &len) != 0) {
        return -1;
    }
    if (memchr(buf, '\0', len) != NULL) {
        guard_err("%s: not a text file (NUL byte)", path);
        goto out;
    }
    for (line = (char *)buf; line != NULL; line = next) {
        char *colon, *hash, *name, *end;
        const char *bad = NULL;
        size_t badlen = 0;
        uint32_t cats = 0;

        lineno++;
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        hash = strchr(line, '#');
        if (hash != NULL) {
            *hash = '\0';
        }
        name = line + strspn(line, " \t\r");
        if (*name == '\0') {
            continue;
        }
        colon = strchr(name, ':');
        if (colon == NULL) {
            eval_file_error(path, lineno, "expected 'label: category...'");
            goto out;
        }
        *colon = '\0';
        end = colon;
        while (end > name && (end[-1] == ' ' || end[-1] == '\t')) {
            *--end = '\0';
        }
        if (*name == '\0' || strcspn(name, " \t") != strlen(name)) {
            eval_file_error(path, lineno, "a label is one non-empty word");
            goto out;
        }
        end = colon + 1 + strlen(colon + 1);
        while (end > colon + 1 && (end[-1] == '\r' || end[-1] == ' ' ||
                                   end[-1] == '\t')) {
            *--end = '\0';
        }
        if (eval_parse_cats(colon + 1, &cats, &bad, &badlen) != 0) {
            eval_file_error(path, lineno, "unknown category '%.*s'",
                            (int)badlen, bad);
            goto out;
        }
        if (eval_label_find(e, name) != NULL ||
            (strcmp(name, EVAL_NEGATIVE) == 0 && seen_negative)) {
            eval_file_error(path, lineno, "label '%s' given twice", name);
            goto out;
        }
        if (strcmp(name, EVAL_RESERVED) == 0) {
            eval_file_error(path, lineno, "'%s' is reserved for all attack "
                            "labels together", EVAL_RESERVED);
            goto out;
        }
        if (strcmp(name, EVAL_NEGATIVE) == 0) {
            if (cats != 0) {
                eval_file_error(path, lineno,
                                "'%s' is the negative label and takes no "
                                "categories",
                                EVAL_NEGATIVE);
                goto out;
            }
            seen_negative = 1;
            continue;
        }
        if (cats == 0) {
            eval_file_error(path, lineno, "label '%s' has no categories",
                            name);
            goto out;
        }
        if (eval_label_add(e, name, cats) == NULL) {
            goto out;
        }
    }
    if (e->nlabels == 0) {
        guard_err("%s: no attack labels in the label map", path);
        goto out;
    }
    rc = 0;
out:
    free(buf);
    return rc;
}

static int
eval_default_labels_init(eval_state_t *e)
{
    size_t i;

    for (i = 0; i < sizeof(eval_default_labels) /
                        sizeof(eval_default_labels[0]);
         i++) {
        uint32_t cats = 0;
        const char *bad;
        size_t badlen;

        if (eval_parse_cats(eval_default_labels[i].cats, &cats, &bad,
                            &badlen) != 0) {
            guard_err("internal error: default label map"); // LCOV_EXCL_LINE
            return -1;                                      // LCOV_EXCL_LINE
        }
        if (eval_label_add(e, eval_default_labels[i].name, cats) == NULL) {
            return -1;
        }
    }
    return 0;
}

static const char *
eval_group_name(const eval_state_t *e, size_t g)
{
    switch (g) {
    case EVAL_G_BENIGN:
        return "benign";
    case EVAL_G_HARD:
        return "hard_negative";
    case EVAL_G_ATTACKS:
        return "attacks";
    default:
        return e->labels[g - EVAL_G_LABEL0].name;
    }
}

/* ---- rows ---- */

static void
eval_line_error(eval_state_t *e, const char *fmt, ...) GUARD_PRINTF(2, 3);

static void
eval_line_error(eval_state_t *e, const char *fmt, ...)
{
    va_list ap;

    e->errors++;
    fflush(stdout);
    fprintf(stderr, "%s:%lu: error: ", e->file, e->lineno);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/*
 * An optional string field: absent or null gives *out = NULL.  Returns 0,
 * or -1 if the field is another type, empty, or holds a NUL byte.
 */
static int
eval_opt_string(json_t *root, const char *key, const char **out)
{
    json_t *v = json_object_get(root, key);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int
eval_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The --show line of a row; -1 on OOM. */
static int
eval_show_row(eval_state_t *e, json_t *text, const char *label,
              const char *lang, const char *category, int hard,
              const lg_result_t *res)
{
    const char *s = json_string_value(text);
    size_t len = json_string_length(text), cut = len, i, nids = 0;
    const char **ids = NULL;
    json_t *o = json_object();
    json_t *rules = json_array();
    char *line = NULL;
    int bad = o == NULL || rules == NULL;

    if (cut > EVAL_SHOW_TEXT) {
        cut = EVAL_SHOW_TEXT;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) {
            cut--;
        }
    }
    if (res->nfindings > 0) {
        ids = malloc(res->nfindings * sizeof(*ids));
        bad |= ids == NULL;
    }
    for (i = 0; !bad && i < res->nfindings; i++) {
        const char *id = lg_rules_id(e->rules, res->findings[i].rule);

        ids[nids++] = id != NULL ? id : "unknown";
    }
    if (nids > 1) {
        qsort(ids, nids, sizeof(*ids), eval_cmp_str);
    }
    for (i = 0; !bad && i < nids; i++) {
        if (i == 0 || strcmp(ids[i], ids[i - 1]) != 0) {
            bad |= json_array_append_new(rules, json_string(ids[i])) != 0;
        }
    }
    if (!bad) {
        bad |= json_object_set_new(o, "file", json_string(e->file)) != 0;
        bad |= json_object_set_new(o, "line",
                                   json_integer((json_int_t)e->lineno)) != 0;
        bad |= json_object_set_new(o, "label", json_string(label)) != 0;
        bad |= json_object_set_new(o, "lang", json_string(lang)) != 0;
        if (category != NULL) {
            bad |= json_object_set_new(o, "category",
                                       json_string(category)) != 0;
        }
        if (hard) {
            bad |= json_object_set_new(o, "hard_negative", json_true()) != 0;
        }
        bad |= json_object_set_new(
                   o, "verdict",
                   json_string(lg_verdict_name(res->verdict))) != 0;
        bad |= json_object_set(o, "rules", rules) != 0;
        bad |= json_object_set_new(o, "text", json_stringn(s, cut)) != 0;
        if (cut < len) {
            bad |= json_object_set_new(o, "truncated", json_true()) != 0;
        }
    }
    if (!bad) {
        line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        bad = line == NULL;
    }
    if (!bad) {
        char **v = realloc(e->shown, (e->nshown + 1) * sizeof(*v));

        if (v == NULL) {
            bad = 1;
        } else {
            e->shown = v;
            e->shown[e->nshown++] = line;
            line = NULL;
        }
    }
    free(line);
    free(ids);
    json_decref(rules);
    json_decref(o);
    return bad ? -1 : 0;
}

/* Whether a row counts as detected: flagged or blocked, and with
 * --categories, by a finding in one of them. */
static int
eval_detected(const eval_state_t *e, const lg_result_t *res)
{
    return res->verdict != LG_VERDICT_ALLOW &&
           (e->o->only_cats == 0 || (res->categories & e->o->only_cats) != 0);
}

/* Count one scanned row.  Returns 0 or -1 on OOM. */
static int
eval_count(eval_state_t *e, const char *label, const char *lang,
           const char *category, int hard, const lg_result_t *res,
           size_t *group)
{
    int detected = eval_detected(e, res);
    int blocked = detected && res->verdict == LG_VERDICT_BLOCK;
    int incat = 0;
    eval_tally_t *t;
    size_t i;

    if (strcmp(label, EVAL_NEGATIVE) == 0) {
        *group = hard ? EVAL_G_HARD : EVAL_G_BENIGN;
        for (i = 0; detected && i < e->nlabels; i++) {
            if (res->categories & e->labels[i].cats) {
                e->labels[i].fp++;
            }
        }
        e->attacks_fp += (unsigned long)detected;
    } else {
        eval_label_t *l = eval_label_find(e, label);

        if (l == NULL) {
            guard_err("%s: warning: label '%s' is not in the label map: "
                      "counted as an attack label with no categories",
                      EVAL_CMD, label);
            l = eval_label_add(e, label, 0);
            if (l == NULL) {
                return -1;
            }
        }
        incat = (res->categories & l->cats) != 0;
        eval_tally_add(&l->t, detected, blocked, incat);
        eval_tally_add(&e->groups[EVAL_G_ATTACKS], detected, blocked, incat);
        *group = EVAL_G_LABEL0 + (size_t)(l - e->labels);
    }
    if (*group < EVAL_G_LABEL0) {
        eval_tally_add(&e->groups[*group], detected, blocked, 0);
    }
    t = eval_map_get(&e->map, EVAL_K_LANG, *group, lang);
    if (t == NULL) {
        return -1;
    }
    eval_tally_add(t, detected, blocked, incat);
    if (*group >= EVAL_G_LABEL0) {
        t = eval_map_get(&e->map, EVAL_K_LANG, EVAL_G_ATTACKS, lang);
        if (t == NULL) {
            return -1;
        }
        eval_tally_add(t, detected, blocked, incat);
    }
    t = eval_map_get(&e->map, EVAL_K_LANGS, 0, lang);
    if (t == NULL) {
        return -1;
    }
    eval_tally_add(t, detected, blocked, incat);
    if (category != NULL) {
        e->have_category = 1;
        t = eval_map_get(&e->map, EVAL_K_CAT, *group, category);
        if (t == NULL) {
            return -1;
        }
        eval_tally_add(t, detected, blocked, incat);
    }
    return 0;
}

static void
eval_row(eval_state_t *e, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *root, *text, *v;
    const char *label, *lang, *category, *dirs;
    uint32_t dir = e->o->dir;
    int hard = 0;
    size_t group, i;
    lg_result_t res;
    lg_status_t st;

    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    for (i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t') {
            break;
        }
    }
    if (i == len) {
        return; // blank lines are not rows
    }
    root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        eval_line_error(e, "invalid JSON at column %d: %s", jerr.column,
                        jerr.text);
        return;
    }
    if (!json_is_object(root)) {
        eval_line_error(e, "not a JSON object");
        goto out;
    }
    text = json_object_get(root, "text");
    if (!json_is_string(text)) {
        eval_line_error(e, "\"text\" is missing or not a string");
        goto out;
    }
    if (eval_opt_string(root, "label", &label) != 0 || label == NULL) {
        eval_line_error(e, "\"label\" is missing or not a non-empty string");
        goto out;
    }
    if (strcmp(label, EVAL_RESERVED) == 0) {
        eval_line_error(e, "label \"%s\" is reserved for all attack labels "
                           "together", EVAL_RESERVED);
        goto out;
    }
    if (eval_opt_string(root, "lang", &lang) != 0) {
        eval_line_error(e, "\"lang\" is not a non-empty string");
        goto out;
    }
    if (lang == NULL) {
        lang = EVAL_NO_LANG;
    }
    if (eval_opt_string(root, "category", &category) != 0) {
        eval_line_error(e, "\"category\" is not a non-empty string");
        goto out;
    }
    v = json_object_get(root, "hard_negative");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            eval_line_error(e, "\"hard_negative\" is not true or false");
            goto out;
        }
        hard = json_is_true(v);
    }
    if (eval_opt_string(root, "direction", &dirs) != 0 ||
        (dirs != NULL && guard_parse_dir(dirs, &dir) != 0)) {
        eval_line_error(e, "\"direction\" must be \"prompt\", "
                           "\"completion\" or \"both\"");
        goto out;
    }
    st = lg_scan(e->scratch, json_string_value(text), json_string_length(text),
                 dir, &e->o->policy, &res);
    if (st != LG_OK) {
        eval_line_error(e, "scan failed: %s", lg_strerror(st));
        goto out;
    }
    e->rows++;
    if (eval_count(e, label, lang, category, hard, &res, &group) != 0) {
        guard_err("out of memory");
        e->fatal = 1;
        goto out;
    }
    /* The rows the figures count: a miss is a row that is not detected
     * (with --categories, one flagged only by other categories too). */
    if ((e->o->show == EVAL_SHOW_MISSES && group >= EVAL_G_LABEL0 &&
         !eval_detected(e, &res)) ||
        (e->o->show == EVAL_SHOW_FPS && group < EVAL_G_ATTACKS &&
         eval_detected(e, &res))) {
        e->show_total++;
        if ((e->o->limit == 0 || e->nshown < e->o->limit) &&
            eval_show_row(e, text, label, lang, category, hard, &res) != 0) {
            guard_err("out of memory");
            e->fatal = 1;
        }
    }
out:
    json_decref(root);
}

/*
 * Scan every line of one file (gzip or plain: gzread() passes plain files
 * through).  Returns 0, or -1 on an I/O or fatal error (reported).
 */
static int
eval_file(eval_state_t *e, const char *path, unsigned char *chunk)
{
    int use_stdin = strcmp(path, "-") == 0;
    gzFile gz;
    char *line = NULL;
    size_t len = 0, cap = 0;
    int overlong = 0, rc = -1;

    e->file = use_stdin ? "standard input" : path;
    e->lineno = 0;
    if (use_stdin) {
        int fd = dup(STDIN_FILENO);

        gz = fd < 0 ? NULL : gzdopen(fd, "rb");
        if (gz == NULL && fd >= 0) {
            close(fd);
        }
    } else {
        errno = 0;
        gz = gzopen(path, "rb");
    }
    if (gz == NULL) {
        guard_err("%s: %s", e->file,
                  errno != 0 ? strerror(errno) : "cannot open");
        return -1;
    }
    gzbuffer(gz, EVAL_CHUNK);
    while (!e->fatal) {
        int got = gzread(gz, chunk, EVAL_CHUNK);
        int zerr = Z_OK;
        const char *msg = got > 0 ? NULL : gzerror(gz, &zerr);
        size_t n, pos = 0;

        /* A truncated gzip stream ends with 0 and Z_BUF_ERROR, not -1. */
        if (got < 0 || zerr != Z_OK) {
            guard_err("%s: %s", e->file,
                      zerr == Z_ERRNO ? strerror(errno) : msg);
            goto out;
        }
        if (got == 0) {
            break;
        }
        n = (size_t)got;
        while (pos < n && !e->fatal) {
            const unsigned char *nl = memchr(chunk + pos, '\n', n - pos);
            size_t seg = (nl ? (size_t)(nl - chunk) : n) - pos;

            if (!overlong && seg > e->line_max - len) {
                overlong = 1;
            }
            if (!overlong) {
                if (len + seg > cap) {
                    size_t ncap = cap ? cap : EVAL_CHUNK;
                    char *nb;

                    while (ncap < len + seg) {
                        ncap = ncap > SIZE_MAX / 2 ? len + seg : ncap * 2;
                    }
                    nb = realloc(line, ncap);
                    if (nb == NULL) {
                        guard_err("out of memory");
                        e->fatal = 1;
                        break;
                    }
                    line = nb;
                    cap = ncap;
                }
                memcpy(line + len, chunk + pos, seg);
                len += seg;
            }
            pos += seg;
            if (nl != NULL) {
                e->lineno++;
                if (overlong) {
                    eval_line_error(e, "line too long");
                } else {
                    eval_row(e, line, len);
                }
                len = 0;
                overlong = 0;
                pos++;
            }
        }
    }
    /* The last line need not end with a newline. */
    if (!e->fatal && (len > 0 || overlong)) {
        e->lineno++;
        if (overlong) {
            eval_line_error(e, "line too long");
        } else {
            eval_row(e, line, len);
        }
    }
    rc = e->fatal ? -1 : 0;
out:
    gzclose(gz);
    free(line);
    return rc;
}

/* ---- figures ---- */

/* One floor's outcome. */
typedef struct eval_floor {
    char name[128]; /* the option as given, e.g. "--min-recall injection=60" */
    double value;   /* percentage; -1: no rows */
    int pass;
} eval_floor_t;

static const eval_tally_t *
eval_group_tally(const eval_state_t *e, size_t g)
{
    return g >= EVAL_G_LABEL0 ? &e->labels[g - EVAL_G_LABEL0].t
                              : &e->groups[g];
}

/* The group of a --min-recall label, or (size_t)-1 if unknown. */
static size_t
eval_recall_group(const eval_state_t *e, const char *label)
{
    size_t i;

    if (strcmp(label, EVAL_RESERVED) == 0) {
        return EVAL_G_ATTACKS;
    }
    for (i = 0; i < e->nlabels; i++) {
        if (strcmp(e->labels[i].name, label) == 0) {
            return EVAL_G_LABEL0 + i;
        }
    }
    return (size_t)-1;
}

static int
eval_floors(const eval_state_t *e, eval_floor_t *f, size_t *nf)
{
    const eval_opts_t *o = e->o;
    int missed = 0;
    size_t i, n = 0;

    for (i = 0; i < o->recall_labels.n; i++) {
        size_t g = eval_recall_group(e, o->recall_labels.v[i]);
        const eval_tally_t *t = g == (size_t)-1 ? NULL : eval_group_tally(e, g);

        snprintf(f[n].name, sizeof(f[n].name), "--min-recall %s=%g",
                 o->recall_labels.v[i], o->recall_pct[i]);
        f[n].value = t == NULL ? -1.0 : eval_pct(t->detected, t->n);
        f[n].pass = f[n].value >= 0 && f[n].value >= o->recall_pct[i];
        n++;
    }
    if (o->has_max_fp) {
        const eval_tally_t *t = &e->groups[EVAL_G_BENIGN];

        snprintf(f[n].name, sizeof(f[n].name), "--max-fp %g", o->max_fp);
        f[n].value = eval_pct(t->detected, t->n);
        f[n].pass = f[n].value >= 0 && f[n].value <= o->max_fp;
        n++;
    }
    if (o->has_max_hard_fp) {
        const eval_tally_t *t = &e->groups[EVAL_G_HARD];

        snprintf(f[n].name, sizeof(f[n].name), "--max-hard-fp %g",
                 o->max_hard_fp);
        f[n].value = eval_pct(t->detected, t->n);
        f[n].pass = f[n].value >= 0 && f[n].value <= o->max_hard_fp;
        n++;
    }
    for (i = 0; i < n; i++) {
        missed |= !f[i].pass;
    }
    *nf = n;
    return missed;
}

/* The label table shows labels with rows, and those named by a floor. */
static int
eval_label_shown(const eval_state_t *e, size_t i)
{
    size_t k;

    if (e->labels[i].t.n > 0) {
        return 1;
    }
    for (k = 0; k < e->o->recall_labels.n; k++) {
        if (strcmp(e->o->recall_labels.v[k], e->labels[i].name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Figures of an attack group: recall etc.; fp/tn from the negatives. */
typedef struct eval_prf {
    unsigned long tp, fn, fp, tn;
    double recall, precision, f1; /* percentages; -1: n/a */
} eval_prf_t;

static void
eval_prf(const eval_state_t *e, size_t g, eval_prf_t *p)
{
    const eval_tally_t *t = eval_group_tally(e, g);
    unsigned long neg = e->groups[EVAL_G_BENIGN].n + e->groups[EVAL_G_HARD].n;

    p->tp = t->detected;
    p->fn = t->n - t->detected;
    p->fp = g == EVAL_G_ATTACKS ? e->attacks_fp
                                : e->labels[g - EVAL_G_LABEL0].fp;
    p->tn = neg - p->fp;
    p->recall = eval_pct(p->tp, p->tp + p->fn);
    p->precision = eval_pct(p->tp, p->tp + p->fp);
    p->f1 = eval_pct(2 * p->tp, 2 * p->tp + p->fp + p->fn);
}

/* "%*.2f" or n/a. */
static const char *
eval_fmt(char *buf, size_t cap, int width, double v)
{
    if (v < 0) {
        snprintf(buf, cap, "%*s", width, "n/a");
    } else {
        snprintf(buf, cap, "%*.2f", width, v);
    }
    return buf;
}

/* A map entry and its group's place in listings. */
typedef struct eval_sorted {
    eval_entry_t *e;
    size_t rank; /* labels in map order, then benign, hard */
} eval_sorted_t;

/* By rank, then most rows first, then by name. */
static int
eval_cmp_sorted(const void *a, const void *b)
{
    const eval_sorted_t *x = a, *y = b;

    if (x->rank != y->rank) {
        return x->rank < y->rank ? -1 : 1;
    }
    if (x->e->t.n != y->e->t.n) {
        return x->e->t.n > y->e->t.n ? -1 : 1;
    }
    return strcmp(x->e->value, y->e->value);
}

/* The map entries of `kind`, sorted; NULL with *n = 0 if none or OOM. */
static eval_sorted_t *
eval_entries(const eval_state_t *e, int kind, size_t *n)
{
    eval_sorted_t *v;
    size_t i, k = 0;

    *n = 0;
    v = malloc((e->map.n ? e->map.n : 1) * sizeof(*v));
    if (v == NULL) {
        return NULL;
    }
    for (i = 0; i < e->map.cap; i++) {
        eval_entry_t *me = &e->map.v[i];

        if (me->value != NULL && me->kind == kind) {
            v[k].e = me;
            v[k].rank = me->group >= EVAL_G_LABEL0
                            ? me->group - EVAL_G_LABEL0
                            : e->nlabels + me->group;
            k++;
        }
    }
    qsort(v, k, sizeof(*v), eval_cmp_sorted);
    *n = k;
    return v;
}

/* Returns 0 or -1 (reported). */
static int
eval_print_table(const eval_state_t *e)
{
    char b[6][32];
    eval_sorted_t *v;
    size_t i, n;
    eval_prf_t p;

    printf("guard eval: %lu rows", e->rows);
    if (e->errors > 0) {
        printf(", %lu malformed line%s left out", e->errors,
               e->errors == 1 ? "" : "s");
    }
    printf("\n\n%-16s %6s %6s %6s %6s %6s %8s %8s %8s %7s %8s\n", "label",
           "rows", "TP", "FN", "FP", "TN", "recall%", "prec%", "F1%",
           "block%", "in-cat%");
    for (i = 0; i <= e->nlabels; i++) {
        size_t g = i < e->nlabels ? EVAL_G_LABEL0 + i : EVAL_G_ATTACKS;
        const eval_tally_t *t = eval_group_tally(e, g);

        if (i < e->nlabels ? !eval_label_shown(e, i) : t->n == 0) {
            continue;
        }
        eval_prf(e, g, &p);
        printf("%-16s %6lu %6lu %6lu %6lu %6lu %s %s %s %s %s\n",
               eval_group_name(e, g), t->n, p.tp, p.fn, p.fp, p.tn,
               eval_fmt(b[0], sizeof(b[0]), 8, p.recall),
               eval_fmt(b[1], sizeof(b[1]), 8, p.precision),
               eval_fmt(b[2], sizeof(b[2]), 8, p.f1),
               eval_fmt(b[3], sizeof(b[3]), 7, eval_pct(t->blocked, t->n)),
               eval_fmt(b[4], sizeof(b[4]), 8, eval_pct(t->incat, t->n)));
    }
    printf("\n%-16s %6s %8s %8s %8s %8s\n", "negatives", "rows", "detected",
           "fp%", "blocked", "block%");
    for (i = EVAL_G_BENIGN; i <= EVAL_G_HARD; i++) {
        const eval_tally_t *t = &e->groups[i];

        printf("%-16s %6lu %8lu %s %8lu %s\n", eval_group_name(e, i), t->n,
               t->detected, eval_fmt(b[0], sizeof(b[0]), 8,
                                     eval_pct(t->detected, t->n)),
               t->blocked,
               eval_fmt(b[1], sizeof(b[1]), 8, eval_pct(t->blocked, t->n)));
    }

    v = eval_entries(e, EVAL_K_LANGS, &n);
    if (v == NULL) {
        guard_err("out of memory");
        return -1;
    }
    printf("\n%-16s %7s %8s %7s %7s %8s %7s %9s\n", "language", "attacks",
           "recall%", "block%", "benign", "fp%", "hard", "hard-fp%");
    for (i = 0; i < n; i++) {
        const char *lang = v[i].e->value;
        const eval_tally_t *a, *bn, *h;
        static const eval_tally_t zero;

        a = eval_map_find(&e->map, EVAL_K_LANG, EVAL_G_ATTACKS, lang);
        bn = eval_map_find(&e->map, EVAL_K_LANG, EVAL_G_BENIGN, lang);
        h = eval_map_find(&e->map, EVAL_K_LANG, EVAL_G_HARD, lang);
        a = a ? a : &zero;
        bn = bn ? bn : &zero;
        h = h ? h : &zero;
        printf("%-16s %7lu %s %s %7lu %s %7lu %s\n", lang, a->n,
               eval_fmt(b[0], sizeof(b[0]), 8, eval_pct(a->detected, a->n)),
               eval_fmt(b[1], sizeof(b[1]), 7, eval_pct(a->blocked, a->n)),
               bn->n,
               eval_fmt(b[2], sizeof(b[2]), 8, eval_pct(bn->detected, bn->n)),
               h->n,
               eval_fmt(b[3], sizeof(b[3]), 9, eval_pct(h->detected, h->n)));
    }
    free(v);

    if (!e->have_category) {
        return 0;
    }
    v = eval_entries(e, EVAL_K_CAT, &n);
    if (v == NULL) {
        guard_err("out of memory");
        return -1;
    }
    printf("\n%-16s %6s %10s %7s %8s  %s\n", "label", "rows", "detected%",
           "block%", "in-cat%", "category");
    for (i = 0; i < n; i++) {
        const eval_tally_t *t = &v[i].e->t;
        int neg = v[i].e->group < EVAL_G_ATTACKS;

        printf("%-16s %6lu %s %s %s  %s\n", eval_group_name(e, v[i].e->group),
               t->n,
               eval_fmt(b[0], sizeof(b[0]), 10, eval_pct(t->detected, t->n)),
               eval_fmt(b[1], sizeof(b[1]), 7, eval_pct(t->blocked, t->n)),
               neg ? "       -"
                   : eval_fmt(b[2], sizeof(b[2]), 8,
                              eval_pct(t->incat, t->n)),
               v[i].e->value);
    }
    free(v);
    return 0;
}

/* A percentage for JSON: 2 decimals, or null. */
static json_t *
eval_jpct(double v)
{
    if (v < 0) {
        return json_null();
    }
    return json_real((double)(long long)(v * 100.0 + 0.5) / 100.0);
}

static json_t *
eval_jcount(unsigned long n)
{
    return json_integer((json_int_t)n);
}

/* Sets key to v (taking it); accumulates failure in *bad. */
static void
eval_jset(json_t *o, const char *key, json_t *v, int *bad)
{
    /* json_object_set_new() releases v on every failure, NULL o included. */
    if (json_object_set_new(o, key, v) != 0) {
        *bad = 1;
    }
}

/* A tally as JSON; in-category figures only for attack groups. */
static json_t *
eval_jtally(const eval_tally_t *t, int attack, int *bad)
{
    json_t *o = json_object();

    eval_jset(o, "rows", eval_jcount(t->n), bad);
    eval_jset(o, "detected", eval_jcount(t->detected), bad);
    eval_jset(o, "detected_pct", eval_jpct(eval_pct(t->detected, t->n)), bad);
    eval_jset(o, "blocked", eval_jcount(t->blocked), bad);
    eval_jset(o, "block_pct", eval_jpct(eval_pct(t->blocked, t->n)), bad);
    if (attack) {
        eval_jset(o, "in_category", eval_jcount(t->incat), bad);
        eval_jset(o, "in_category_pct", eval_jpct(eval_pct(t->incat, t->n)),
                  bad);
    }
    return o;
}

static json_t *
eval_jattack(const eval_state_t *e, size_t g, int *bad)
{
    const eval_tally_t *t = eval_group_tally(e, g);
    json_t *o = json_object();
    eval_prf_t p;

    eval_prf(e, g, &p);
    if (g >= EVAL_G_LABEL0) {
        json_t *cats = json_array();
        uint32_t c, mask = e->labels[g - EVAL_G_LABEL0].cats;

        for (c = 0; c < LG_CATEGORY_MAX; c++) {
            const char *name = lg_category_name((lg_category_t)c);

            if ((mask & (1u << c)) && name != NULL &&
                json_array_append_new(cats, json_string(name)) != 0) {
                *bad = 1;
            }
        }
        eval_jset(o, "categories", cats, bad);
    }
    eval_jset(o, "rows", eval_jcount(t->n), bad);
    eval_jset(o, "tp", eval_jcount(p.tp), bad);
    eval_jset(o, "fn", eval_jcount(p.fn), bad);
    eval_jset(o, "fp", eval_jcount(p.fp), bad);
    eval_jset(o, "tn", eval_jcount(p.tn), bad);
    eval_jset(o, "recall_pct", eval_jpct(p.recall), bad);
    eval_jset(o, "precision_pct", eval_jpct(p.precision), bad);
    eval_jset(o, "f1_pct", eval_jpct(p.f1), bad);
    eval_jset(o, "blocked", eval_jcount(t->blocked), bad);
    eval_jset(o, "block_pct", eval_jpct(eval_pct(t->blocked, t->n)), bad);
    eval_jset(o, "in_category", eval_jcount(t->incat), bad);
    eval_jset(o, "in_category_pct", eval_jpct(eval_pct(t->incat, t->n)), bad);
    return o;
}

static json_t *
eval_jnegative(const eval_tally_t *t, int *bad)
{
    json_t *o = json_object();

    eval_jset(o, "rows", eval_jcount(t->n), bad);
    eval_jset(o, "detected", eval_jcount(t->detected), bad);
    eval_jset(o, "fp_pct", eval_jpct(eval_pct(t->detected, t->n)), bad);
    eval_jset(o, "blocked", eval_jcount(t->blocked), bad);
    eval_jset(o, "block_pct", eval_jpct(eval_pct(t->blocked, t->n)), bad);
    return o;
}

/* Print the figures as one JSON line.  Returns 0 or -1 (reported). */
static int
eval_print_json(const eval_state_t *e, const eval_floor_t *floors,
                size_t nfloors)
{
    json_t *root = json_object();
    json_t *files = json_array(), *labels = json_object();
    json_t *langs = json_object(), *cats = NULL, *jf = json_array();
    eval_sorted_t *v;
    size_t i, k, n;
    int bad = 0;
    char *s;

    for (i = 0; i < e->o->nfiles; i++) {
        bad |= json_array_append_new(files, json_string(e->o->files[i])) != 0;
    }
    eval_jset(root, "files", files, &bad);
    eval_jset(root, "rows", eval_jcount(e->rows), &bad);
    eval_jset(root, "errors", eval_jcount(e->errors), &bad);
    for (i = 0; i < e->nlabels; i++) {
        if (eval_label_shown(e, i)) {
            eval_jset(labels, e->labels[i].name,
                      eval_jattack(e, EVAL_G_LABEL0 + i, &bad), &bad);
        }
    }
    eval_jset(root, "labels", labels, &bad);
    eval_jset(root, "attacks", eval_jattack(e, EVAL_G_ATTACKS, &bad), &bad);
    eval_jset(root, "benign", eval_jnegative(&e->groups[EVAL_G_BENIGN], &bad),
              &bad);
    eval_jset(root, "hard_negative",
              eval_jnegative(&e->groups[EVAL_G_HARD], &bad), &bad);

    v = eval_entries(e, EVAL_K_LANGS, &n);
    bad |= v == NULL;
    for (i = 0; i < n; i++) {
        json_t *lo = json_object(), *groups = json_object();
        size_t g, ng = EVAL_G_LABEL0 + e->nlabels;

        eval_jset(lo, "rows", eval_jcount(v[i].e->t.n), &bad);
        for (k = 0; k < ng; k++) {
            const eval_tally_t *t;

            /* Labels first, then attacks, benign, hard_negative. */
            g = k < e->nlabels ? EVAL_G_LABEL0 + k
                               : EVAL_G_ATTACKS - (k - e->nlabels);
            t = eval_map_find(&e->map, EVAL_K_LANG, g, v[i].e->value);
            if (t != NULL) {
                eval_jset(groups, eval_group_name(e, g),
                          eval_jtally(t, g >= EVAL_G_ATTACKS, &bad), &bad);
            }
        }
        eval_jset(lo, "groups", groups, &bad);
        eval_jset(langs, v[i].e->value, lo, &bad);
    }
    free(v);
    eval_jset(root, "languages", langs, &bad);

    if (e->have_category) {
        cats = json_array();
        v = eval_entries(e, EVAL_K_CAT, &n);
        bad |= v == NULL;
        for (i = 0; i < n; i++) {
            int attack = v[i].e->group >= EVAL_G_ATTACKS;
            json_t *co = eval_jtally(&v[i].e->t, attack, &bad);
            json_t *row = json_object();

            eval_jset(row, "label",
                      json_string(eval_group_name(e, v[i].e->group)), &bad);
            eval_jset(row, "category", json_string(v[i].e->value), &bad);
            bad |= co == NULL || json_object_update(row, co) != 0;
            json_decref(co);
            bad |= json_array_append_new(cats, row) != 0;
        }
        free(v);
        eval_jset(root, "categories", cats, &bad);
    }

    for (i = 0; i < nfloors; i++) {
        json_t *fo = json_object();

        eval_jset(fo, "floor", json_string(floors[i].name), &bad);
        eval_jset(fo, "value_pct", eval_jpct(floors[i].value), &bad);
        eval_jset(fo, "pass", json_boolean(floors[i].pass), &bad);
        bad |= json_array_append_new(jf, fo) != 0;
    }
    eval_jset(root, "floors", jf, &bad);
    if (e->o->show != EVAL_SHOW_NONE) {
        json_t *so = json_object();

        eval_jset(so, "kind",
                  json_string(e->o->show == EVAL_SHOW_MISSES
                                  ? "misses"
                                  : "false-positives"),
                  &bad);
        eval_jset(so, "total", eval_jcount(e->show_total), &bad);
        eval_jset(so, "listed", eval_jcount(e->nshown), &bad);
        eval_jset(root, "show", so, &bad);
    }
    s = bad ? NULL
            : json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                   JSON_REAL_PRECISION(12));
    json_decref(root);
    if (s == NULL) {
        guard_err("out of memory");
        return -1;
    }
    puts(s);
    free(s);
    return 0;
}

/* ---- options ---- */

/* A percentage 0..100 ("1.5").  Returns 0 or -1. */
static int
eval_parse_pct(const char *s, double *out)
{
    char *end;
    double v;

    if ((s[0] < '0' || s[0] > '9') && s[0] != '.') {
        return -1;
    }
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v >= 0.0 && v <= 100.0)) {
        return -1;
    }
    *out = v;
    return 0;
}

static int
eval_add_min_recall(eval_opts_t *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    double pct, *v;
    char label[256];

    if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(label)) {
        return guard_usage_error(EVAL_CMD,
                                 "--min-recall: expected LABEL=PCT, got '%s'",
                                 arg);
    }
    memcpy(label, arg, (size_t)(eq - arg));
    label[eq - arg] = '\0';
    if (strcmp(label, EVAL_NEGATIVE) == 0) {
        return guard_usage_error(EVAL_CMD,
                                 "--min-recall: '%s' is the negative label; "
                                 "use --max-fp",
                                 EVAL_NEGATIVE);
    }
    if (eval_parse_pct(eq + 1, &pct) != 0) {
        return guard_usage_error(EVAL_CMD,
                                 "--min-recall: expected a percentage from 0 "
                                 "to 100, got '%s'",
                                 eq + 1);
    }
    v = realloc(o->recall_pct, (o->recall_labels.n + 1) * sizeof(*v));
    if (v == NULL) {
        guard_err("out of memory");
        return GUARD_EXIT_ERROR;
    }
    o->recall_pct = v;
    if (guard_strv_push(&o->recall_labels, label) != 0) {
        guard_err("out of memory");
        return GUARD_EXIT_ERROR;
    }
    o->recall_pct[o->recall_labels.n - 1] = pct;
    return 0;
}

/* Returns -1 to continue, else the exit status. */
static int
eval_parse_args(int argc, char **argv, eval_opts_t *o)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"db", required_argument, NULL, OPT_DB},
        {"direction", required_argument, NULL, OPT_DIRECTION},
        {"categories", required_argument, NULL, OPT_CATEGORIES},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"json", no_argument, NULL, OPT_JSON},
        {"show", required_argument, NULL, OPT_SHOW},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"min-recall", required_argument, NULL, OPT_MIN_RECALL},
        {"max-fp", required_argument, NULL, OPT_MAX_FP},
        {"max-hard-fp", required_argument, NULL, OPT_MAX_HARD_FP},
        GUARD_POLICY_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":r:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (guard_strv_push(&o->rules, optarg) != 0) {
                guard_err("out of memory");
                return GUARD_EXIT_ERROR;
            }
            break;
        case OPT_DB:
            if (o->db != NULL) {
                return guard_usage_error(EVAL_CMD, "--db given twice");
            }
            o->db = optarg;
            break;
        case OPT_DIRECTION:
            if (guard_parse_dir(optarg, &o->dir) != 0) {
                return guard_usage_error(
                    EVAL_CMD,
                    "--direction: expected prompt, completion or both, "
                    "got '%s'",
                    optarg);
            }
            break;
        case OPT_CATEGORIES: {
            const char *bad = NULL;
            size_t badlen = 0;

            if (eval_parse_cats(optarg, &o->only_cats, &bad, &badlen) != 0 ||
                o->only_cats == 0) {
                return guard_usage_error(
                    EVAL_CMD, "--categories: unknown category '%.*s'",
                    (int)badlen, bad != NULL ? bad : "");
            }
            break;
        }
        case OPT_LABELS:
            if (o->labels_file != NULL) {
                return guard_usage_error(EVAL_CMD, "--labels given twice");
            }
            o->labels_file = optarg;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_SHOW:
            if (strcmp(optarg, "misses") == 0) {
                o->show = EVAL_SHOW_MISSES;
            } else if (strcmp(optarg, "false-positives") == 0) {
                o->show = EVAL_SHOW_FPS;
            } else {
                return guard_usage_error(
                    EVAL_CMD,
                    "--show: expected misses or false-positives, got '%s'",
                    optarg);
            }
            break;
        case OPT_LIMIT:
            if (guard_parse_u32(optarg, &o->limit) != 0) {
                return guard_usage_error(EVAL_CMD,
                                         "--limit: invalid number '%s'",
                                         optarg);
            }
            o->limit_given = 1;
            break;
        case OPT_MIN_RECALL:
            if (eval_add_min_recall(o, optarg) != 0) {
                return GUARD_EXIT_ERROR;
            }
            break;
        case OPT_MAX_FP:
            if (eval_parse_pct(optarg, &o->max_fp) != 0) {
                return guard_usage_error(EVAL_CMD,
                                         "--max-fp: expected a percentage "
                                         "from 0 to 100, got '%s'",
                                         optarg);
            }
            o->has_max_fp = 1;
            break;
        case OPT_MAX_HARD_FP:
            if (eval_parse_pct(optarg, &o->max_hard_fp) != 0) {
                return guard_usage_error(EVAL_CMD,
                                         "--max-hard-fp: expected a "
                                         "percentage from 0 to 100, got '%s'",
                                         optarg);
            }
            o->has_max_hard_fp = 1;
            break;
        case 'h':
            cmd_eval_help(stdout);
            return GUARD_EXIT_OK;
        default:
            if (guard_is_policy_option(ch)) {
                int rc = guard_policy_option(EVAL_CMD, ch, optarg, &o->policy,
                                             &o->views);

                if (rc != 0) {
                    return rc;
                }
                break;
            }
            return guard_getopt_error(EVAL_CMD, ch, argv);
        }
    }
    if (o->db != NULL && o->rules.n > 0) {
        return guard_usage_error(EVAL_CMD,
                                 "--rules and --db cannot be used together");
    }
    if (o->limit_given && o->show == EVAL_SHOW_NONE) {
        return guard_usage_error(EVAL_CMD, "--limit needs --show");
    }
    if (optind >= argc) {
        return guard_usage_error(EVAL_CMD, "no input files");
    }
    o->files = argv + optind;
    o->nfiles = (size_t)(argc - optind);
    return -1;
}

/* Fail before the rules are loaded (seconds) if an input is missing. */
static int
eval_check_files(const eval_opts_t *o)
{
    size_t i, nstdin = 0;

    for (i = 0; i < o->nfiles; i++) {
        if (strcmp(o->files[i], "-") == 0) {
            nstdin++;
        } else if (access(o->files[i], R_OK) != 0) {
            guard_err("%s: %s", o->files[i], strerror(errno));
            return -1;
        }
    }
    if (nstdin > 1) {
        return guard_usage_error(EVAL_CMD, "standard input (-) given twice");
    }
    return 0;
}

int
cmd_eval(int argc, char **argv)
{
    eval_opts_t o;
    eval_state_t e;
    eval_floor_t *floors = NULL;
    unsigned char *chunk = NULL;
    lg_rules_t *rules = NULL;
    lg_limits_t limits;
    lg_status_t st;
    size_t i, nfloors = 0;
    int rc, missed;

    memset(&o, 0, sizeof(o));
    memset(&e, 0, sizeof(e));
    o.dir = LG_DIR_PROMPT;
    o.limit = EVAL_SHOW_LIMIT;
    lg_policy_init(&o.policy);
    lg_limits_init(&limits);
    o.views = LG_VIEW_ALL;
    e.o = &o;
    rc = eval_parse_args(argc, argv, &o);
    limits.views = o.views;
    if (rc >= 0) {
        goto out;
    }
    rc = GUARD_EXIT_ERROR;
    if (eval_check_files(&o) != 0) {
        goto out;
    }
    if (o.labels_file != NULL ? eval_load_labels(&e, o.labels_file) != 0
                              : eval_default_labels_init(&e) != 0) {
        goto out;
    }
    if (guard_load_rules(&o.rules, o.db, &rules) != 0) {
        goto out;
    }
    st = lg_scratch_new(rules, &limits, &e.scratch);
    if (st != LG_OK) {
        guard_err("cannot create a scratch: %s", lg_strerror(st));
        goto out;
    }
    e.rules = rules;
    /* JSON escapes take at most 6 bytes per input byte. */
    e.line_max = limits.max_input <= (SIZE_MAX - 65536) / 6
                     ? limits.max_input * 6 + 65536
                     : SIZE_MAX;
    chunk = malloc(EVAL_CHUNK);
    if (chunk == NULL) {
        guard_err("out of memory");
        goto out;
    }
    for (i = 0; i < o.nfiles; i++) {
        if (eval_file(&e, o.files[i], chunk) != 0) {
            goto out;
        }
    }
    floors = calloc(o.recall_labels.n + 2, sizeof(*floors));
    if (floors == NULL) {
        guard_err("out of memory");
        goto out;
    }
    missed = eval_floors(&e, floors, &nfloors);
    if (o.json) {
        if (eval_print_json(&e, floors, nfloors) != 0) {
            goto out;
        }
    } else if (eval_print_table(&e) != 0) {
        goto out;
    }
    for (i = 0; i < e.nshown; i++) {
        puts(e.shown[i]);
    }
    if (fflush(stdout) == EOF || ferror(stdout)) {
        guard_err("cannot write the output: %s", strerror(errno));
        goto out;
    }
    if (e.show_total > e.nshown) {
        guard_err("%s: %lu of %lu %s listed (--limit)", EVAL_CMD,
                  (unsigned long)e.nshown, e.show_total,
                  o.show == EVAL_SHOW_MISSES ? "misses" : "false positives");
    }
    for (i = 0; i < nfloors; i++) {
        char b[32];

        if (floors[i].value < 0) {
            snprintf(b, sizeof(b), "no rows");
        } else {
            snprintf(b, sizeof(b), "%.2f%%", floors[i].value);
        }
        guard_err("%s: floor %s: %s: %s", EVAL_CMD, floors[i].name, b,
                  floors[i].pass ? "pass" : "MISSED");
    }
    if (e.errors > 0) {
        guard_err("%s: %lu malformed line%s", EVAL_CMD, e.errors,
                  e.errors == 1 ? "" : "s");
        goto out;
    }
    rc = missed ? GUARD_EXIT_FAIL : GUARD_EXIT_OK;
out:
    for (i = 0; i < e.nshown; i++) {
        free(e.shown[i]);
    }
    free(e.shown);
    for (i = 0; i < e.nlabels; i++) {
        free(e.labels[i].name);
    }
    free(e.labels);
    eval_map_free(&e.map);
    free(floors);
    free(chunk);
    lg_scratch_free(e.scratch);
    lg_rules_free(rules);
    guard_strv_free(&o.rules);
    guard_strv_free(&o.recall_labels);
    free(o.recall_pct);
    return rc;
}
