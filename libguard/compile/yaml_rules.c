/*
 * One YAML rule pack (format v1, rules/README.md) into compiler rules.
 *
 * The whole file is validated before anything is kept: every problem is
 * reported with its position, and a file with any error is dropped.  The
 * libyaml document API gives each node its marks; marks count characters,
 * so they are turned into byte columns with a table of line starts.
 */
#include <string.h>

#include <yaml.h>

#include "internal/lg_compile_int.h"

#define ID_MAX 128  /* longest rule id or pack name, in bytes */
#define WORD_MAX 40 /* longest value quoted back in a message */

struct ystate {
    lg_compiler_t *c;
    const char *file;
    const unsigned char *src;
    size_t len;
    size_t *lines; /* byte offset where each line starts */
    size_t nlines;
    yaml_document_t doc;
    unsigned char *seen; /* per node: already processed (alias check) */
    const char *rule_id; /* names the rule in diagnostics, or NULL */
    struct lgi_cfile *rec;
    struct lgi_crule *rules;
    size_t nrules;
    size_t caprules;
    lg_rule_test_t **tests;
    size_t ntests;
    size_t captests;
    bool oom;
    uint32_t pack_views; /* the pack's `views`, the default of its rules */
};

/* A key of a mapping, as found by map_fields(). */
struct field {
    const char *name;
    yaml_node_t *key;
    yaml_node_t *val;
};

static uint32_t
clamp32(size_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* ---- positions --------------------------------------------------------- */

/* Width of the line break at p, or 0.  These are exactly the breaks that
 * advance libyaml's line counter (it reads YAML 1.1: NEL, LS, PS too). */
static size_t
break_width(const unsigned char *p, size_t left)
{
    if (p[0] == '\n') {
        return 1;
    }
    if (p[0] == '\r') {
        return left > 1 && p[1] == '\n' ? 2 : 1;
    }
    if (left > 1 && p[0] == 0xC2 && p[1] == 0x85) {
        return 2;
    }
    if (left > 2 && p[0] == 0xE2 && p[1] == 0x80 &&
        (p[2] == 0xA8 || p[2] == 0xA9)) {
        return 3;
    }
    return 0;
}

static lg_status_t
index_lines(struct ystate *st)
{
    size_t n = 1, i = 0, w;

    while (i < st->len) {
        w = break_width(st->src + i, st->len - i);
        n += w > 0;
        i += w > 0 ? w : 1;
    }
    st->lines = lgi_calloc(n, sizeof(*st->lines));
    if (st->lines == NULL) {
        return LG_E_NOMEM;
    }
    st->nlines = 1;
    for (i = 0; i < st->len;) {
        w = break_width(st->src + i, st->len - i);
        i += w > 0 ? w : 1;
        if (w > 0) {
            st->lines[st->nlines++] = i;
        }
    }
    return LG_OK;
}

static void
offset_pos(const struct ystate *st, size_t off, uint32_t *line, uint32_t *col)
{
    size_t lo = 0, hi = st->nlines;

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (st->lines[mid] <= off) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    *line = clamp32(lo + 1);
    *col = clamp32(off - st->lines[lo] + 1);
}

static size_t
utf8_width(unsigned char b)
{
    return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

/* 1-based line and byte column of a libyaml mark (0-based, characters). */
static void
mark_pos(const struct ystate *st, const yaml_mark_t *m, uint32_t *line,
         uint32_t *col)
{
    size_t ln = m->line, p;

    /* At the end of input libyaml moves to a line that does not exist. */
    if (ln >= st->nlines) {
        offset_pos(st, st->len, line, col);
        return;
    }
    p = st->lines[ln];
    for (size_t i = 0; i < m->column && p < st->len; i++) {
        p += utf8_width(st->src[p]);
    }
    if (p > st->len) {
        p = st->len;
    }
    *line = clamp32(m->line + 1);
    *col = clamp32(p - st->lines[ln] + 1);
}

/* ---- diagnostics ------------------------------------------------------- */

static void diag_at(struct ystate *st, lg_diag_level_t level, uint32_t line,
                    uint32_t col, const char *fmt, ...) LGI_PRINTF(5, 6);
static void yerr(struct ystate *st, const yaml_node_t *n, const char *fmt, ...)
    LGI_PRINTF(3, 4);

static void
diag_at(struct ystate *st, lg_diag_level_t level, uint32_t line, uint32_t col,
        const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    lgi_diag_addv(st->c, LG_E_COMPILE, level, st->file, line, col, st->rule_id,
                  fmt, ap);
    va_end(ap);
}

static void
yerr(struct ystate *st, const yaml_node_t *n, const char *fmt, ...)
{
    uint32_t line, col;
    va_list ap;

    mark_pos(st, &n->start_mark, &line, &col);
    va_start(ap, fmt);
    lgi_diag_addv(st->c, LG_E_COMPILE, LG_DIAG_ERROR, st->file, line, col,
                  st->rule_id, fmt, ap);
    va_end(ap);
}

/* Keys and enum values are echoed only when short and plain, so that a
 * message never carries arbitrary text from the file. */
static const char *
word(const yaml_node_t *n, char *buf, size_t cap)
{
    const unsigned char *v;
    size_t len;

    buf[0] = '\0';
    if (n->type != YAML_SCALAR_NODE) {
        return buf;
    }
    v = n->data.scalar.value;
    len = n->data.scalar.length;
    if (len == 0 || len > WORD_MAX) {
        return buf;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = v[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.' ||
              ch == '/')) {
            return buf;
        }
    }
    snprintf(buf, cap, " '%s'", (const char *)v);
    return buf;
}

/* ---- nodes ------------------------------------------------------------- */

static yaml_node_t *
node(struct ystate *st, int id)
{
    return yaml_document_get_node(&st->doc, id);
}

static bool
scalar_is(const yaml_node_t *n, const char *s)
{
    size_t len = strlen(s);

    return n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
           memcmp(n->data.scalar.value, s, len) == 0;
}

static bool
is_null(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE &&
           n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (n->data.scalar.length == 0 || scalar_is(n, "~") ||
            scalar_is(n, "null") || scalar_is(n, "Null") ||
            scalar_is(n, "NULL"));
}

static const char *
kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return is_null(n) ? "null" : "a string";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "empty"; /* LCOV_EXCL_LINE */
    }
}

/*
 * Mark a node as processed.  The document API expands an alias into a
 * second reference to its anchor's node; refusing any node reached twice
 * rejects aliases and keeps "billion laughs" inputs linear.
 */
static bool
take(struct ystate *st, yaml_node_t *n)
{
    size_t i = (size_t)(n - st->doc.nodes.start);

    if (st->seen[i]) {
        yerr(st, n, "YAML aliases are not supported");
        return false;
    }
    st->seen[i] = 1;
    return true;
}

static bool
want(struct ystate *st, yaml_node_t *n, yaml_node_type_t type, const char *what)
{
    if (!take(st, n)) {
        return false;
    }
    if (n->type != type || is_null(n)) {
        yerr(st, n, "%s must be %s, not %s", what,
             type == YAML_MAPPING_NODE    ? "a mapping"
             : type == YAML_SEQUENCE_NODE ? "a list"
                                          : "a string",
             kind(n));
        return false;
    }
    return true;
}

/* A string value.  NUL characters (from "\0" escapes) are refused except
 * in test inputs, which are data rather than C strings. */
static bool
want_str(struct ystate *st, yaml_node_t *n, const char *what, bool allow_empty,
         bool allow_nul)
{
    if (!want(st, n, YAML_SCALAR_NODE, what)) {
        return false;
    }
    if (!allow_empty && n->data.scalar.length == 0) {
        yerr(st, n, "%s must not be empty", what);
        return false;
    }
    if (!allow_nul &&
        memchr(n->data.scalar.value, '\0', n->data.scalar.length) != NULL) {
        yerr(st, n, "%s must not contain a NUL character", what);
        return false;
    }
    return true;
}

static char *
dup_str(struct ystate *st, const yaml_node_t *n)
{
    char *s =
        lgi_strndup((const char *)n->data.scalar.value, n->data.scalar.length);

    if (s == NULL) {
        st->oom = true;
    }
    return s;
}

/* [A-Za-z0-9._-]{1,ID_MAX}: ids and pack names end up in logs and
 * command lines, so they stay plain. */
static bool
is_ident(const yaml_node_t *n)
{
    const unsigned char *v;
    size_t len;

    if (n == NULL || n->type != YAML_SCALAR_NODE) {
        return false;
    }
    v = n->data.scalar.value;
    len = n->data.scalar.length;
    if (len == 0 || len > ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == '_' ||
              v[i] == '-')) {
            return false;
        }
    }
    return true;
}

/* A plain decimal integer within [min, max]. */
static bool
want_uint(struct ystate *st, yaml_node_t *n, const char *what, uint32_t min,
          uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    size_t len;

    if (!take(st, n)) {
        return false;
    }
    len = n->type == YAML_SCALAR_NODE ? n->data.scalar.length : 0;
    if (len == 0 || len > 9 ||
        n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        goto bad;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = n->data.scalar.value[i];

        if (ch < '0' || ch > '9') {
            goto bad;
        }
        v = v * 10 + (uint64_t)(ch - '0');
    }
    if (v < min || v > max) {
        goto bad;
    }
    *out = (uint32_t)v;
    return true;
bad:
    yerr(st, n, "%s must be an integer from %u to %u", what, min, max);
    return false;
}

/* The pair of a mapping whose key is `name`, without processing it. */
static yaml_node_pair_t *
find_key(struct ystate *st, yaml_node_t *map, const char *name)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(st, p->key);

        if (k != NULL && scalar_is(k, name)) {
            return p;
        }
    }
    return NULL;
}

/*
 * Sort the pairs of `map` into `f` by key name, reporting unknown,
 * duplicate and non-string keys.  Values are left for the caller.
 */
static void
map_fields(struct ystate *st, yaml_node_t *map, struct field *f, size_t nf,
           const char *where)
{
    char w[WORD_MAX + 8];

    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(st, p->key);
        yaml_node_t *v = node(st, p->value);
        size_t j;

        if (k == NULL || v == NULL || !take(st, k)) {
            continue;
        }
        if (k->type != YAML_SCALAR_NODE) {
            yerr(st, k, "keys %s must be strings, not %s", where, kind(k));
            continue;
        }
        for (j = 0; j < nf && !scalar_is(k, f[j].name); j++) {
        }
        if (j == nf) {
            yerr(st, k, "unknown key%s %s", word(k, w, sizeof(w)), where);
        } else if (f[j].key != NULL) {
            yerr(st, k, "duplicate key '%s' (first at line %zu)", f[j].name,
                 f[j].key->start_mark.line + 1);
        } else {
            f[j].key = k;
            f[j].val = v;
        }
    }
}

static bool
require(struct ystate *st, yaml_node_t *map, const struct field *f)
{
    if (f->val == NULL) {
        yerr(st, map, "missing required key '%s'", f->name);
        return false;
    }
    return true;
}

/* Where a regex scalar's bytes are, for engine error offsets. */
static struct lgi_srcpos
scalar_pos(const struct ystate *st, const yaml_node_t *n)
{
    struct lgi_srcpos p = {0, 0, 0};

    mark_pos(st, &n->start_mark, &p.line, &p.column);
    if (n->start_mark.line != n->end_mark.line) {
        return p;
    }
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        p.vcol = p.column;
    } else if (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE &&
               memchr(n->data.scalar.value, '\'', n->data.scalar.length) ==
                   NULL) {
        /* No '' escape, so the value is the source after the quote. */
        p.vcol = p.column + 1;
    }
    return p;
}

/* ---- one rule ---------------------------------------------------------- */

enum {
    F_ID,
    F_CATEGORY,
    F_DESCRIPTION,
    F_SEVERITY,
    F_SCORE,
    F_APPLIES_TO,
    F_FLAGS,
    F_PATTERNS,
    F_CONFIRM,
    F_TAGS,
    F_REFERENCES,
    F_TESTS,
    F_VIEWS,
    F_PARANOIA,
    F_VALIDATE,
    F_ENTITY,
    F_COUNT
};

static const char *const rule_keys[F_COUNT] = {
    "id",    "category", "description", "severity", "score",      "applies_to",
    "flags", "patterns", "confirm",     "tags",     "references", "tests",
    "views", "paranoia", "validate", "entity"};

static const struct {
    const char *name;
    uint32_t bit;
} flag_names[] = {{"caseless", LG_PAT_CASELESS},
                  {"dotall", LG_PAT_DOTALL},
                  {"multiline", LG_PAT_MULTILINE},
                  {"ucp", LG_PAT_UCP},
                  {"utf8", LG_PAT_UTF8}};

static const struct {
    const char *name;
    lg_severity_t sev;
} severities[] = {{"low", LG_SEVERITY_LOW},
                  {"medium", LG_SEVERITY_MEDIUM},
                  {"high", LG_SEVERITY_HIGH},
                  {"critical", LG_SEVERITY_CRITICAL}};

static void
parse_id(struct ystate *st, struct lgi_crule *r, const struct field *f)
{
    uint32_t line, col;
    long prev;

    r->line = clamp32(f->key->start_mark.line + 1);
    if (!want_str(st, f->val, "'id'", false, false)) {
        return;
    }
    if (!is_ident(f->val)) {
        yerr(st, f->val, "invalid rule id (use 1 to %d of A-Z a-z 0-9 . _ -)",
             ID_MAX);
        return;
    }
    mark_pos(st, &f->val->start_mark, &line, &col);
    for (size_t i = 0; i < st->nrules; i++) {
        if (st->rules[i].id != NULL &&
            strcmp(st->rules[i].id, st->rule_id) == 0) {
            diag_at(st, LG_DIAG_ERROR, line, col,
                    "duplicate rule id (first defined at %s:%u)", st->file,
                    st->rules[i].line);
            return;
        }
    }
    prev = lgi_rule_lookup(st->c, st->rule_id);
    if (prev >= 0) {
        diag_at(st, LG_DIAG_ERROR, line, col,
                "duplicate rule id (first defined at %s:%u)",
                st->c->rules[prev].file, st->c->rules[prev].line);
        return;
    }
    r->id = dup_str(st, f->val);
}

static void
parse_enums(struct ystate *st, struct lgi_crule *r, struct field *f,
            yaml_node_t *map)
{
    char w[WORD_MAX + 8];
    size_t i;

    if (require(st, map, &f[F_CATEGORY]) &&
        want_str(st, f[F_CATEGORY].val, "'category'", false, false) &&
        lg_category_parse((const char *)f[F_CATEGORY].val->data.scalar.value,
                          f[F_CATEGORY].val->data.scalar.length,
                          &r->category) != LG_OK) {
        yerr(st, f[F_CATEGORY].val,
             "unknown category%s (see the list in rules/README.md)",
             word(f[F_CATEGORY].val, w, sizeof(w)));
    }

    r->severity = 0;
    if (f[F_SEVERITY].val != NULL &&
        want_str(st, f[F_SEVERITY].val, "'severity'", false, false)) {
        for (i = 0; i < sizeof(severities) / sizeof(severities[0]) &&
                    !scalar_is(f[F_SEVERITY].val, severities[i].name);
             i++) {
        }
        if (i < sizeof(severities) / sizeof(severities[0])) {
            r->severity = severities[i].sev;
        } else {
            yerr(st, f[F_SEVERITY].val,
                 "unknown severity%s (expected low, medium, high or "
                 "critical)",
                 word(f[F_SEVERITY].val, w, sizeof(w)));
        }
    }
    r->score = 0;
    if (f[F_SCORE].val != NULL) {
        (void)want_uint(st, f[F_SCORE].val, "'score'", 1, 100, &r->score);
    }
    if (f[F_SEVERITY].val == NULL && f[F_SCORE].val == NULL) {
        yerr(st, map, "rule needs 'severity' or 'score'");
    }
    /* A bare score still needs a severity for lg_rule_info_t: the one whose
     * default score is nearest from below. */
    if (r->severity == 0) {
        r->severity = r->score >= 5   ? LG_SEVERITY_CRITICAL
                      : r->score == 4 ? LG_SEVERITY_HIGH
                      : r->score == 3 ? LG_SEVERITY_MEDIUM
                                      : LG_SEVERITY_LOW;
    }
    if (r->score == 0) {
        r->score = lgi_severity_score(r->severity);
    }

    r->applies_to = LG_DIR_PROMPT;
    if (f[F_APPLIES_TO].val != NULL &&
        want_str(st, f[F_APPLIES_TO].val, "'applies_to'", false, false)) {
        if (scalar_is(f[F_APPLIES_TO].val, "prompt")) {
            r->applies_to = LG_DIR_PROMPT;
        } else if (scalar_is(f[F_APPLIES_TO].val, "completion")) {
            r->applies_to = LG_DIR_COMPLETION;
        } else if (scalar_is(f[F_APPLIES_TO].val, "both")) {
            r->applies_to = LG_DIR_BOTH;
        } else {
            yerr(st, f[F_APPLIES_TO].val,
                 "unknown applies_to%s (expected prompt, completion or "
                 "both)",
                 word(f[F_APPLIES_TO].val, w, sizeof(w)));
        }
    }
}

static void
parse_flags(struct ystate *st, struct lgi_crule *r, yaml_node_t *seq)
{
    char w[WORD_MAX + 8];

    r->flags = LG_PAT_CASELESS;
    if (seq == NULL || !want(st, seq, YAML_SEQUENCE_NODE, "'flags'")) {
        return;
    }
    r->flags = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start;
         it < seq->data.sequence.items.top; it++) {
        yaml_node_t *n = node(st, *it);
        size_t i;

        if (n == NULL || !want_str(st, n, "each flag", false, false)) {
            continue;
        }
        for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]) &&
                    !scalar_is(n, flag_names[i].name);
             i++) {
        }
        if (i == sizeof(flag_names) / sizeof(flag_names[0])) {
            yerr(st, n,
                 "unknown flag%s (expected caseless, dotall, multiline, "
                 "utf8 or ucp)",
                 word(n, w, sizeof(w)));
        } else if (r->flags & flag_names[i].bit) {
            yerr(st, n, "duplicate flag '%s'", flag_names[i].name);
        } else {
            r->flags |= flag_names[i].bit;
        }
    }
}

static const struct {
    const char *name;
    uint32_t bit;
} view_names[] = {{"raw", LG_VIEW_RAW},
                  {"normalized", LG_VIEW_NORMALIZED},
                  {"leet", LG_VIEW_LEET},
                  {"decoded", LG_VIEW_DECODED}};

/* A `views` list (of a rule or of the pack) into *views; left alone when
 * the list has an error. */
static void
parse_views(struct ystate *st, yaml_node_t *seq, uint32_t *views)
{
    char w[WORD_MAX + 8];
    uint32_t v = 0;
    bool ok = true;

    if (!want(st, seq, YAML_SEQUENCE_NODE, "'views'")) {
        return;
    }
    if (seq->data.sequence.items.top == seq->data.sequence.items.start) {
        yerr(st, seq, "'views' must not be empty");
        return;
    }
    for (yaml_node_item_t *it = seq->data.sequence.items.start;
         it < seq->data.sequence.items.top; it++) {
        yaml_node_t *n = node(st, *it);
        size_t i;

        if (n == NULL || !want_str(st, n, "each view", false, false)) {
            ok = false;
            continue;
        }
        for (i = 0; i < sizeof(view_names) / sizeof(view_names[0]) &&
                    !scalar_is(n, view_names[i].name);
             i++) {
        }
        if (i == sizeof(view_names) / sizeof(view_names[0])) {
            yerr(st, n,
                 "unknown view%s (expected raw, normalized, leet or decoded)",
                 word(n, w, sizeof(w)));
            ok = false;
        } else if (v & view_names[i].bit) {
            yerr(st, n, "duplicate view '%s'", view_names[i].name);
            ok = false;
        } else {
            v |= view_names[i].bit;
        }
    }
    if (ok) {
        *views = v;
    }
}

static void
parse_patterns(struct ystate *st, struct lgi_crule *r, yaml_node_t *seq)
{
    size_t n =
        (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    char msg[256];
    size_t off;

    if (n == 0) {
        yerr(st, seq, "'patterns' must not be empty");
        return;
    }
    if (n > UINT32_MAX) {
        yerr(st, seq, "too many patterns"); /* LCOV_EXCL_LINE */
        return;                             /* LCOV_EXCL_LINE */
    }
    r->patterns = lgi_calloc(n, sizeof(*r->patterns));
    if (r->patterns == NULL) {
        st->oom = true;
        return;
    }
    for (yaml_node_item_t *it = seq->data.sequence.items.start;
         it < seq->data.sequence.items.top; it++) {
        yaml_node_t *pn = node(st, *it);
        struct lgi_cpattern *p = &r->patterns[r->npatterns];
        lg_status_t rc;

        if (pn == NULL || !want_str(st, pn, "each pattern", true, false)) {
            continue;
        }
        p->pos = scalar_pos(st, pn);
        p->regex = dup_str(st, pn);
        if (p->regex == NULL) {
            return;
        }
        r->npatterns++;
        /* Per-pattern check; the build's combined compile reports the
         * rare pattern that only a full compile refuses. */
        rc = lgi_check_pattern(p->regex, r->flags, msg, sizeof(msg), &off);
        if (rc == LG_E_NOMEM) {
            st->oom = true;
            return;
        }
        if (rc != LG_OK) {
            diag_at(st, LG_DIAG_ERROR, p->pos.line,
                    lgi_srcpos_col(&p->pos, off), "%s", msg);
        }
    }
}

static void
parse_confirm(struct ystate *st, struct lgi_crule *r, yaml_node_t *n)
{
    char msg[256];
    size_t off;
    lg_status_t rc;

    if (!want_str(st, n, "'confirm'", false, false)) {
        return;
    }
    r->confirm_pos = scalar_pos(st, n);
    r->confirm = dup_str(st, n);
    if (r->confirm == NULL) {
        return;
    }
    rc = lgi_check_pcre2(r->confirm, r->flags, msg, sizeof(msg), &off);
    if (rc == LG_E_NOMEM) {
        st->oom = true;
    } else if (rc != LG_OK) {
        diag_at(st, LG_DIAG_ERROR, r->confirm_pos.line,
                lgi_srcpos_col(&r->confirm_pos, off), "%s", msg);
    }
}

static void
parse_strlist(struct ystate *st, yaml_node_t *seq, const char *what,
              char ***out, size_t *nout)
{
    size_t n;

    if (!want(st, seq, YAML_SEQUENCE_NODE, what)) {
        return;
    }
    n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n == 0) {
        return;
    }
    *out = lgi_calloc(n, sizeof(**out));
    if (*out == NULL) {
        st->oom = true;
        return;
    }
    for (yaml_node_item_t *it = seq->data.sequence.items.start;
         it < seq->data.sequence.items.top; it++) {
        yaml_node_t *sn = node(st, *it);

        if (sn == NULL || !want_str(st, sn, "each entry", false, false)) {
            continue;
        }
        (*out)[*nout] = dup_str(st, sn);
        if ((*out)[*nout] == NULL) {
            return;
        }
        (*nout)++;
    }
}

static lg_rule_test_t *
new_test(struct ystate *st, const struct lgi_crule *r, const yaml_node_t *n,
         int expect_match)
{
    size_t len = n->data.scalar.length, sz;
    lg_rule_test_t *t;
    char *text;

    if (st->ntests == st->captests) {
        size_t cap = st->captests ? st->captests * 2 : 16;
        lg_rule_test_t **v = lgi_realloc(st->tests, cap * sizeof(*v));

        if (v == NULL) {
            st->oom = true;
            return NULL;
        }
        st->tests = v;
        st->captests = cap;
    }
    /* One block per test: pointers handed out must survive array growth. */
    if (lgi_add_overflow(sizeof(*t), len + 1, &sz)) {
        st->oom = true; /* LCOV_EXCL_LINE */
        return NULL;    /* LCOV_EXCL_LINE */
    }
    t = lgi_malloc(sz);
    if (t == NULL) {
        st->oom = true;
        return NULL;
    }
    text = (char *)(t + 1);
    memcpy(text, n->data.scalar.value, len);
    text[len] = '\0';
    t->rule_id = r->id;
    t->file = st->rec->name;
    t->line = clamp32(n->start_mark.line + 1);
    t->input = text;
    t->len = len;
    t->expect_match = expect_match;
    t->direction = r->applies_to;
    st->tests[st->ntests++] = t;
    return t;
}

/* Returns the number of test strings found. */
static size_t
parse_tests(struct ystate *st, const struct lgi_crule *r, yaml_node_t *map)
{
    struct field f[2] = {{"match", NULL, NULL}, {"no_match", NULL, NULL}};
    size_t count = 0;

    if (!want(st, map, YAML_MAPPING_NODE, "'tests'")) {
        return 1; /* already an error; do not also warn */
    }
    map_fields(st, map, f, 2, "in tests");
    for (int k = 0; k < 2; k++) {
        yaml_node_t *seq = f[k].val;

        if (seq == NULL) {
            continue;
        }
        if (!want(st, seq, YAML_SEQUENCE_NODE,
                  k == 0 ? "'match'" : "'no_match'")) {
            count++;
            continue;
        }
        for (yaml_node_item_t *it = seq->data.sequence.items.start;
             it < seq->data.sequence.items.top; it++) {
            yaml_node_t *tn = node(st, *it);

            count++;
            if (tn == NULL || !want_str(st, tn, "each test", true, true)) {
                continue;
            }
            if (new_test(st, r, tn, k == 0) == NULL) {
                return count;
            }
        }
    }
    return count;
}

static void
parse_description(struct ystate *st, struct lgi_crule *r, yaml_node_t *n)
{
    size_t len;

    if (!want_str(st, n, "'description'", false, false)) {
        return;
    }
    r->description = dup_str(st, n);
    if (r->description == NULL) {
        return;
    }
    /* Block scalars end in a newline; the text itself must be one line. */
    len = strlen(r->description);
    while (len > 0 && r->description[len - 1] == '\n') {
        r->description[--len] = '\0';
    }
    if (strpbrk(r->description, "\r\n") != NULL) {
        yerr(st, n, "'description' must be one line");
    }
}

static void
parse_rule(struct ystate *st, yaml_node_t *map)
{
    struct field f[F_COUNT];
    struct lgi_crule *r;
    yaml_node_pair_t *idp;
    size_t ntests = 0;

    if (!want(st, map, YAML_MAPPING_NODE, "each rule")) {
        return;
    }
    if (st->nrules == st->caprules) {
        size_t cap = st->caprules ? st->caprules * 2 : 16;
        struct lgi_crule *v = lgi_realloc(st->rules, cap * sizeof(*v));

        if (v == NULL) {
            st->oom = true;
            return;
        }
        st->rules = v;
        st->caprules = cap;
    }
    /* Kept even when broken: later duplicates are still compared to it. */
    r = &st->rules[st->nrules++];
    memset(r, 0, sizeof(*r));
    r->file = st->rec->name;
    r->pack = st->rec->pack;

    /* The id first, so that every diagnostic of the rule can name it. */
    idp = find_key(st, map, "id");
    if (idp != NULL && is_ident(node(st, idp->value))) {
        st->rule_id = (const char *)node(st, idp->value)->data.scalar.value;
    }
    for (int i = 0; i < F_COUNT; i++) {
        f[i].name = rule_keys[i];
        f[i].key = NULL;
        f[i].val = NULL;
    }
    map_fields(st, map, f, F_COUNT, "in rule");

    if (require(st, map, &f[F_ID])) {
        parse_id(st, r, &f[F_ID]);
    }
    parse_enums(st, r, f, map);
    if (require(st, map, &f[F_DESCRIPTION])) {
        parse_description(st, r, f[F_DESCRIPTION].val);
    }
    parse_flags(st, r, f[F_FLAGS].val);
    r->views = st->pack_views;
    if (f[F_VIEWS].val != NULL) {
        parse_views(st, f[F_VIEWS].val, &r->views);
    }
    if (f[F_ENTITY].val != NULL &&
        want_str(st, f[F_ENTITY].val, "'entity'", false, false)) {
        if (!lgi_entity_ok(
                (const char *)f[F_ENTITY].val->data.scalar.value,
                f[F_ENTITY].val->data.scalar.length)) {
            yerr(st, f[F_ENTITY].val,
                 "invalid entity (use 1 to 32 of A-Z 0-9 _, starting with "
                 "a letter, e.g. EMAIL)");
        } else {
            r->entity = dup_str(st, f[F_ENTITY].val);
        }
    }
    r->validate = LGI_VAL_NONE;
    if (f[F_VALIDATE].val != NULL &&
        want_str(st, f[F_VALIDATE].val, "'validate'", false, false)) {
        char w[WORD_MAX + 8];

        r->validate = lgi_validator_parse(
            (const char *)f[F_VALIDATE].val->data.scalar.value,
            f[F_VALIDATE].val->data.scalar.length);
        if (r->validate == LGI_VAL_NONE) {
            yerr(st, f[F_VALIDATE].val, "unknown validator%s (expected %s)",
                 word(f[F_VALIDATE].val, w, sizeof(w)), lgi_validator_list());
        }
    }
    r->paranoia = 1;
    if (f[F_PARANOIA].val != NULL) {
        (void)want_uint(st, f[F_PARANOIA].val, "'paranoia'", 1,
                        LG_PARANOIA_MAX, &r->paranoia);
    }
    if (require(st, map, &f[F_PATTERNS]) &&
        want(st, f[F_PATTERNS].val, YAML_SEQUENCE_NODE, "'patterns'")) {
        parse_patterns(st, r, f[F_PATTERNS].val);
    }
    if (f[F_CONFIRM].val != NULL) {
        parse_confirm(st, r, f[F_CONFIRM].val);
    }
    if (f[F_TAGS].val != NULL) {
        parse_strlist(st, f[F_TAGS].val, "'tags'", &r->tags, &r->ntags);
    }
    if (f[F_REFERENCES].val != NULL) {
        parse_strlist(st, f[F_REFERENCES].val, "'references'", &r->refs,
                      &r->nrefs);
    }
    if (f[F_TESTS].val != NULL) {
        ntests = parse_tests(st, r, f[F_TESTS].val);
    }
    if (ntests == 0 && !st->oom) {
        yaml_node_t *at = f[F_ID].key != NULL ? f[F_ID].key : map;
        uint32_t line, col;

        mark_pos(st, &at->start_mark, &line, &col);
        diag_at(st, LG_DIAG_WARNING, line, col,
                "rule has no tests (add tests: {match: [...], no_match: "
                "[...]})");
    }
    st->rule_id = NULL;
}

/* ---- the pack ---------------------------------------------------------- */

enum {
    P_VERSION,
    P_PACK,
    P_PACK_VERSION,
    P_DESCRIPTION,
    P_VIEWS,
    P_RULES,
    P_COUNT
};

static void
parse_pack(struct ystate *st, yaml_node_t *root)
{
    struct field f[P_COUNT] = {{"version", NULL, NULL},
                               {"pack", NULL, NULL},
                               {"pack_version", NULL, NULL},
                               {"description", NULL, NULL},
                               {"views", NULL, NULL},
                               {"rules", NULL, NULL}};
    yaml_node_pair_t *vp;

    if (!want(st, root, YAML_MAPPING_NODE, "a rule pack")) {
        return;
    }
    /* Another format version may have other keys: stop before judging
     * them by this version's rules. */
    vp = find_key(st, root, "version");
    if (vp != NULL) {
        yaml_node_t *v = node(st, vp->value);

        if (v != NULL && !(scalar_is(v, "1") &&
                           v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)) {
            yerr(st, v,
                 "unsupported format version (this libguard reads "
                 "version: 1)");
            return;
        }
    }
    map_fields(st, root, f, P_COUNT, "at top level");
    (void)require(st, root, &f[P_VERSION]);
    if (require(st, root, &f[P_PACK]) &&
        want_str(st, f[P_PACK].val, "'pack'", false, false)) {
        if (!is_ident(f[P_PACK].val)) {
            yerr(st, f[P_PACK].val,
                 "invalid pack name (use 1 to %d of A-Z a-z 0-9 . _ -)",
                 ID_MAX);
        } else {
            st->rec->pack = dup_str(st, f[P_PACK].val);
        }
    }
    if (require(st, root, &f[P_PACK_VERSION]) &&
        want_str(st, f[P_PACK_VERSION].val, "'pack_version'", false, false)) {
        st->rec->pack_version = dup_str(st, f[P_PACK_VERSION].val);
    }
    if (f[P_DESCRIPTION].val != NULL &&
        want_str(st, f[P_DESCRIPTION].val, "'description'", true, false)) {
        st->rec->description = dup_str(st, f[P_DESCRIPTION].val);
    }
    st->pack_views = LG_VIEW_DEFAULT;
    if (f[P_VIEWS].val != NULL) {
        parse_views(st, f[P_VIEWS].val, &st->pack_views);
    }
    if (require(st, root, &f[P_RULES]) &&
        want(st, f[P_RULES].val, YAML_SEQUENCE_NODE, "'rules'")) {
        yaml_node_t *seq = f[P_RULES].val;

        for (yaml_node_item_t *it = seq->data.sequence.items.start;
             it < seq->data.sequence.items.top && !st->oom; it++) {
            yaml_node_t *rn = node(st, *it);

            if (rn != NULL) {
                parse_rule(st, rn);
            }
        }
    }
}

/* ---- the file ---------------------------------------------------------- */

/* Offset of the first byte that is not part of valid UTF-8, or len. */
static size_t
utf8_invalid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char b = s[i];
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF;

        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xC2 && b <= 0xDF) {
            n = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            n = 2;
            lo = b == 0xE0 ? 0xA0 : 0x80; /* overlong */
            hi = b == 0xED ? 0x9F : 0xBF; /* surrogates */
        } else if (b >= 0xF0 && b <= 0xF4) {
            n = 3;
            lo = b == 0xF0 ? 0x90 : 0x80;
            hi = b == 0xF4 ? 0x8F : 0xBF; /* above U+10FFFF */
        } else {
            return i;
        }
        if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi) {
            return i;
        }
        for (size_t k = 2; k <= n; k++) {
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) {
                return i;
            }
        }
        i += n + 1;
    }
    return len;
}

/* libyaml would stop at these with a message about an offset only. */
static bool
check_bytes(struct ystate *st)
{
    const unsigned char *nul = memchr(st->src, '\0', st->len);
    size_t bad = utf8_invalid(st->src, st->len);
    uint32_t line, col;

    if (nul != NULL) {
        offset_pos(st, (size_t)(nul - st->src), &line, &col);
        diag_at(st, LG_DIAG_ERROR, line, col,
                "NUL byte in input (a rule pack is UTF-8 text)");
    }
    if (bad < st->len) {
        offset_pos(st, bad, &line, &col);
        diag_at(st, LG_DIAG_ERROR, line, col,
                "invalid UTF-8 (a rule pack is UTF-8 text)");
    }
    return nul == NULL && bad == st->len;
}

static void
yaml_error(struct ystate *st, const yaml_parser_t *p)
{
    const char *problem = p->problem != NULL ? p->problem : "unknown error";
    uint32_t line, col;

    if (p->error == YAML_MEMORY_ERROR) {
        st->oom = true;
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        offset_pos(st,
                   p->problem_offset < st->len ? p->problem_offset : st->len,
                   &line, &col);
        diag_at(st, LG_DIAG_ERROR, line, col, "invalid input: %s", problem);
        return;
    }
    mark_pos(st, &p->problem_mark, &line, &col);
    if (p->context != NULL) {
        diag_at(st, LG_DIAG_ERROR, line, col, "YAML syntax error: %s (%s)",
                problem, p->context);
    } else {
        diag_at(st, LG_DIAG_ERROR, line, col, "YAML syntax error: %s", problem);
    }
}

lg_status_t
lgi_yaml_add(lg_compiler_t *c, const char *name, const unsigned char *yaml,
             size_t len)
{
    struct ystate st;
    yaml_parser_t parser;
    yaml_document_t extra;
    bool have_parser = false, have_doc = false;
    size_t errors0 = lg_compiler_error_count(c), nnodes;
    yaml_node_t *root;
    lg_status_t rc = LG_E_NOMEM;

    memset(&st, 0, sizeof(st));
    st.c = c;
    st.file = name;
    st.src = yaml;
    st.len = len;
    if (index_lines(&st) != LG_OK) {
        goto out;
    }
    if (!check_bytes(&st)) {
        rc = LG_E_COMPILE;
        goto out;
    }
    if (!yaml_parser_initialize(&parser)) {
        goto out;
    }
    have_parser = true;
    yaml_parser_set_input_string(&parser, yaml, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    if (!yaml_parser_load(&parser, &st.doc)) {
        yaml_error(&st, &parser);
        rc = st.oom ? LG_E_NOMEM : LG_E_COMPILE;
        goto out;
    }
    have_doc = true;
    root = yaml_document_get_root_node(&st.doc);
    if (root == NULL) {
        diag_at(&st, LG_DIAG_ERROR, 1, 1,
                "empty file (expected a rule pack mapping)");
        rc = LG_E_COMPILE;
        goto out;
    }
    /* Load on to the end so that later syntax errors are reported too. */
    for (bool more = true, told = false; more;) {
        if (!yaml_parser_load(&parser, &extra)) {
            yaml_error(&st, &parser);
            break;
        }
        more = yaml_document_get_root_node(&extra) != NULL;
        if (more && !told) {
            uint32_t line, col;

            mark_pos(&st, &extra.start_mark, &line, &col);
            diag_at(&st, LG_DIAG_ERROR, line, col,
                    "more than one YAML document (a pack is one document)");
            told = true;
        }
        yaml_document_delete(&extra);
    }
    if (st.oom) {
        goto out;
    }
    nnodes = (size_t)(st.doc.nodes.top - st.doc.nodes.start);
    st.seen = lgi_calloc(nnodes, 1);
    st.rec = lgi_calloc(1, sizeof(*st.rec));
    if (st.seen == NULL || st.rec == NULL) {
        goto out;
    }
    st.rec->name = lgi_strdup(name);
    if (st.rec->name == NULL) {
        goto out;
    }
    parse_pack(&st, root);
    if (st.oom) {
        goto out;
    }
    if (lg_compiler_error_count(c) > errors0) {
        rc = LG_E_COMPILE;
        goto out;
    }
    rc = lgi_commit(c, st.rec, st.rules, st.nrules, st.tests, st.ntests);
    if (rc == LG_OK) {
        /* Moved into the compiler. */
        st.rec = NULL;
        st.nrules = 0;
        st.ntests = 0;
    }
out:
    for (size_t i = 0; i < st.ntests; i++) {
        lgi_free(st.tests[i]);
    }
    lgi_free(st.tests);
    for (size_t i = 0; i < st.nrules; i++) {
        lgi_crule_clear(&st.rules[i]);
    }
    lgi_free(st.rules);
    lgi_cfile_free(st.rec);
    lgi_free(st.seen);
    if (have_doc) {
        yaml_document_delete(&st.doc);
    }
    if (have_parser) {
        yaml_parser_delete(&parser);
    }
    lgi_free(st.lines);
    return rc;
}
