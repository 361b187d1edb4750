/*
 * The compiler object: diagnostics, the rules and tests of the files added
 * without error, and the build into one lg_rules_t.
 */
/* XSI strerror_r(), thread-safe unlike strerror(). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal/lg_compile_int.h"

#define BUILD_FILE "<build>"       /* diag file for whole-database errors */
#define FILE_MAX ((size_t)1 << 30) /* larger packs are surely a mistake */

/* Reported when a diagnostic itself cannot be stored (hs_enomem style). */
static const lg_diag_t diag_nomem = {
    .code = LG_E_NOMEM,
    .level = LG_DIAG_ERROR,
    .file = "<unknown>",
    .message = "out of memory while recording a diagnostic",
};

/* ---- life cycle -------------------------------------------------------- */

lg_status_t
lg_compiler_new(uint32_t flags, lg_compiler_t **out)
{
    lg_compiler_t *c;
    lg_status_t rc;

    if (out == NULL) {
        return LG_E_INVAL;
    }
    *out = NULL;
    if (flags & ~LG_COMPILE_STRICT) {
        return LG_E_INVAL;
    }
    rc = lg_init();
    if (rc != LG_OK) {
        return rc;
    }
    c = lgi_calloc(1, sizeof(*c));
    if (c == NULL) {
        return LG_E_NOMEM;
    }
    c->flags = flags;
    *out = c;
    return LG_OK;
}

void
lgi_crule_clear(struct lgi_crule *r)
{
    lgi_free(r->id);
    lgi_free(r->description);
    for (uint32_t i = 0; i < r->npatterns; i++) {
        lgi_free(r->patterns[i].regex);
    }
    lgi_free(r->patterns);
    lgi_free(r->confirm);
    lgi_free(r->entity);
    for (size_t i = 0; i < r->ntags; i++) {
        lgi_free(r->tags[i]);
    }
    lgi_free(r->tags);
    for (size_t i = 0; i < r->nrefs; i++) {
        lgi_free(r->refs[i]);
    }
    lgi_free(r->refs);
    memset(r, 0, sizeof(*r));
}

void
lgi_cfile_free(struct lgi_cfile *f)
{
    if (f == NULL) {
        return;
    }
    lgi_free(f->name);
    lgi_free(f->pack);
    lgi_free(f->pack_version);
    lgi_free(f->description);
    lgi_free(f);
}

void
lg_compiler_free(lg_compiler_t *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->ndiags; i++) {
        lgi_free(c->diags[i]);
    }
    lgi_free(c->diags);
    for (size_t i = 0; i < c->nrules; i++) {
        lgi_crule_clear(&c->rules[i]);
    }
    lgi_free(c->rules);
    for (size_t i = 0; i < c->nfiles; i++) {
        lgi_cfile_free(c->files[i]);
    }
    lgi_free(c->files);
    lgi_free(c->idtab);
    for (size_t i = 0; i < c->ntests; i++) {
        lgi_free(c->tests[i]);
    }
    lgi_free(c->tests);
    lgi_free(c);
}

/* ---- diagnostics ------------------------------------------------------- */

void
lgi_diag_addv(lg_compiler_t *c, lg_status_t code, lg_diag_level_t level,
              const char *file, uint32_t line, uint32_t column,
              const char *rule_id, const char *fmt, va_list ap)
{
    char msg[512];
    size_t flen, rlen, mlen, sz;
    lg_diag_t *d;
    char *p;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* One line, whatever an engine message contained. */
    for (p = msg; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *p = ' ';
        }
    }
    if (level == LG_DIAG_WARNING && (c->flags & LG_COMPILE_STRICT)) {
        level = LG_DIAG_ERROR;
    }
    if (file == NULL) {
        file = "<buffer>";
    }
    flen = strlen(file) + 1;
    rlen = rule_id != NULL ? strlen(rule_id) + 1 : 0;
    mlen = strlen(msg) + 1;
    if (lgi_add_overflow(sizeof(*d), flen, &sz) ||
        lgi_add_overflow(sz, rlen, &sz) || lgi_add_overflow(sz, mlen, &sz)) {
        goto lost; /* LCOV_EXCL_LINE */
    }
    if (c->ndiags == c->capdiags) {
        size_t cap = c->capdiags ? c->capdiags * 2 : 16;
        lg_diag_t **v = lgi_realloc(c->diags, cap * sizeof(*v));

        if (v == NULL) {
            goto lost;
        }
        c->diags = v;
        c->capdiags = cap;
    }
    /* One block per diagnostic: handed-out pointers must stay valid. */
    d = lgi_malloc(sz);
    if (d == NULL) {
        goto lost;
    }
    p = (char *)(d + 1);
    d->code = code;
    d->level = level;
    d->line = line;
    d->column = line == 0 ? 0 : column;
    memcpy(p, file, flen);
    d->file = p;
    p += flen;
    d->rule_id = NULL;
    if (rule_id != NULL) {
        memcpy(p, rule_id, rlen);
        d->rule_id = p;
        p += rlen;
    }
    memcpy(p, msg, mlen);
    d->message = p;
    c->diags[c->ndiags++] = d;
    if (level == LG_DIAG_ERROR) {
        c->nerrors++;
    }
    return;
lost:
    c->diag_lost = true;
}

void
lgi_diag_add(lg_compiler_t *c, lg_status_t code, lg_diag_level_t level,
             const char *file, uint32_t line, uint32_t column,
             const char *rule_id, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    lgi_diag_addv(c, code, level, file, line, column, rule_id, fmt, ap);
    va_end(ap);
}

size_t
lg_compiler_diag_count(const lg_compiler_t *c)
{
    if (c == NULL) {
        return 0;
    }
    return c->ndiags + (c->diag_lost ? 1 : 0);
}

const lg_diag_t *
lg_compiler_diag(const lg_compiler_t *c, size_t i)
{
    if (c == NULL) {
        return NULL;
    }
    if (i < c->ndiags) {
        return c->diags[i];
    }
    if (i == c->ndiags && c->diag_lost) {
        return &diag_nomem;
    }
    return NULL;
}

size_t
lg_compiler_error_count(const lg_compiler_t *c)
{
    if (c == NULL) {
        return 0;
    }
    return c->nerrors + (c->diag_lost ? 1 : 0);
}

lg_status_t
lg_diag_format(const lg_diag_t *d, char *buf, size_t cap, size_t *needed)
{
    char pos[32] = "";
    int n;

    if (needed != NULL) {
        *needed = 0;
    }
    if (d == NULL || (buf == NULL && cap > 0)) {
        return LG_E_INVAL;
    }
    if (d->line != 0 && d->column != 0) {
        snprintf(pos, sizeof(pos), ":%u:%u", d->line, d->column);
    } else if (d->line != 0) {
        snprintf(pos, sizeof(pos), ":%u", d->line);
    }
    n = snprintf(
        buf, cap, "%s%s: %s: %s%s%s%s", d->file != NULL ? d->file : "<buffer>",
        pos, d->level == LG_DIAG_WARNING ? "warning" : "error",
        d->message != NULL ? d->message : "", d->rule_id != NULL ? " [" : "",
        d->rule_id != NULL ? d->rule_id : "", d->rule_id != NULL ? "]" : "");
    if (n < 0) {
        return LG_E_INVAL; /* LCOV_EXCL_LINE */
    }
    if (needed != NULL) {
        *needed = (size_t)n + 1;
    }
    return (size_t)n < cap ? LG_OK : LG_E_NOSPACE;
}

/* ---- adding packs ------------------------------------------------------ */

static size_t
id_hash(const char *s)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */

    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    }
    return (size_t)h;
}

static void
id_insert(uint32_t *tab, size_t cap, const struct lgi_crule *rules,
          uint32_t idx)
{
    size_t i = id_hash(rules[idx].id) & (cap - 1);

    while (tab[i] != 0) {
        i = (i + 1) & (cap - 1);
    }
    tab[i] = idx + 1;
}

long
lgi_rule_lookup(const lg_compiler_t *c, const char *id)
{
    size_t i;

    if (c->idcap == 0) {
        return -1;
    }
    for (i = id_hash(id) & (c->idcap - 1); c->idtab[i] != 0;
         i = (i + 1) & (c->idcap - 1)) {
        if (strcmp(c->rules[c->idtab[i] - 1].id, id) == 0) {
            return (long)(c->idtab[i] - 1);
        }
    }
    return -1;
}

/* Make room for `need` elements; *arr and *cap change only on success. */
static bool
reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 16, bytes;
    void *v;

    if (need <= *cap) {
        return true;
    }
    while (n < need) {
        if (lgi_mul_overflow(n, 2, &n)) {
            return false; /* LCOV_EXCL_LINE */
        }
    }
    if (lgi_mul_overflow(n, elem, &bytes)) {
        return false; /* LCOV_EXCL_LINE */
    }
    v = lgi_realloc(*arr, bytes);
    if (v == NULL) {
        return false;
    }
    *arr = v;
    *cap = n;
    return true;
}

lg_status_t
lgi_commit(lg_compiler_t *c, struct lgi_cfile *file, struct lgi_crule *rules,
           size_t nrules, lg_rule_test_t **tests, size_t ntests)
{
    size_t total, tcap = c->idcap;
    uint32_t *tab = NULL;
    void *p;

    /* Every allocation first, so that a failure leaves nothing changed. */
    if (lgi_add_overflow(c->nrules, nrules, &total) || total >= UINT32_MAX ||
        c->ntests + ntests < c->ntests) {
        return LG_E_NOMEM; /* LCOV_EXCL_LINE */
    }
    p = c->files;
    if (!reserve(&p, &c->capfiles, c->nfiles + 1, sizeof(*c->files))) {
        return LG_E_NOMEM;
    }
    c->files = p;
    p = c->rules;
    if (!reserve(&p, &c->caprules, total, sizeof(*c->rules))) {
        return LG_E_NOMEM;
    }
    c->rules = p;
    p = c->tests;
    if (!reserve(&p, &c->captests, c->ntests + ntests, sizeof(*c->tests))) {
        return LG_E_NOMEM;
    }
    c->tests = p;
    /* Load factor at most 1/2 keeps linear probing short. */
    while (tcap < 2 * total || tcap < 64) {
        tcap = tcap ? tcap * 2 : 64;
    }
    if (tcap != c->idcap) {
        tab = lgi_calloc(tcap, sizeof(*tab));
        if (tab == NULL) {
            return LG_E_NOMEM;
        }
    }

    /* `rules: []` is a valid pack: memcpy with NULL is not allowed even
     * for zero bytes. */
    if (nrules > 0) {
        memcpy(c->rules + c->nrules, rules, nrules * sizeof(*rules));
    }
    c->nrules = total;
    if (tab != NULL) {
        lgi_free(c->idtab);
        c->idtab = tab;
        c->idcap = tcap;
        for (size_t i = 0; i < total; i++) {
            id_insert(c->idtab, c->idcap, c->rules, (uint32_t)i);
        }
    } else {
        for (size_t i = total - nrules; i < total; i++) {
            id_insert(c->idtab, c->idcap, c->rules, (uint32_t)i);
        }
    }
    if (ntests > 0) {
        memcpy(c->tests + c->ntests, tests, ntests * sizeof(*tests));
    }
    c->ntests += ntests;
    c->files[c->nfiles++] = file;
    return LG_OK;
}

lg_status_t
lg_compiler_add_yaml(lg_compiler_t *c, const char *name, const char *yaml,
                     size_t len)
{
    if (c == NULL || yaml == NULL || c->frozen) {
        return LG_E_INVAL;
    }
    if (name == NULL) {
        name = "<buffer>";
    }
    /* Out of memory is returned, not recorded: nothing was added, so the
     * caller may add the pack again and build as if it never happened. */
    return lgi_yaml_add(c, name, (const unsigned char *)yaml, len);
}

static lg_status_t
read_file(const char *path, char **out, size_t *len, int *err)
{
    size_t cap = 64 * 1024, n = 0, got;
    char *buf = NULL, *v;
    lg_status_t rc = LG_E_IO;
    FILE *f;

    *out = NULL;
    *len = 0;
    *err = 0;
    f = fopen(path, "rb");
    if (f == NULL) {
        *err = errno;
        return LG_E_IO;
    }
    buf = lgi_malloc(cap);
    if (buf == NULL) {
        rc = LG_E_NOMEM;
        goto out;
    }
    for (;;) {
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) {
                *err = errno;
                goto out;
            }
            break;
        }
        if (cap >= FILE_MAX) {
            *err = EFBIG;
            goto out;
        }
        v = lgi_realloc(buf, cap * 2);
        if (v == NULL) {
            rc = LG_E_NOMEM;
            goto out;
        }
        buf = v;
        cap *= 2;
    }
    *out = buf;
    *len = n;
    buf = NULL;
    rc = LG_OK;
out:
    lgi_free(buf);
    fclose(f);
    return rc;
}

lg_status_t
lg_compiler_add_file(lg_compiler_t *c, const char *path)
{
    char ebuf[128];
    char *data = NULL;
    size_t len;
    lg_status_t rc;
    int err;

    if (c == NULL || path == NULL || c->frozen) {
        return LG_E_INVAL;
    }
    rc = read_file(path, &data, &len, &err);
    if (rc == LG_E_IO) {
        if (err == 0 || strerror_r(err, ebuf, sizeof(ebuf)) != 0) {
            snprintf(ebuf, sizeof(ebuf), "error %d", err);
        }
        lgi_diag_add(c, LG_E_IO, LG_DIAG_ERROR, path, 0, 0, NULL,
                     "cannot read the file: %s", ebuf);
        goto out;
    }
    if (rc != LG_OK) {
        goto out; /* out of memory: returned, not recorded (see add_yaml) */
    }
    rc = lg_compiler_add_yaml(c, path, data, len);
out:
    lgi_free(data);
    return rc;
}

/* ---- embedded tests ---------------------------------------------------- */

size_t
lg_compiler_test_count(const lg_compiler_t *c)
{
    return c == NULL ? 0 : c->ntests;
}

const lg_rule_test_t *
lg_compiler_test(const lg_compiler_t *c, size_t i)
{
    if (c == NULL || i >= c->ntests) {
        return NULL;
    }
    return c->tests[i];
}

/* ---- build ------------------------------------------------------------- */

static char **
strv_dup(char *const *v, size_t n)
{
    char **d = lgi_calloc(n, sizeof(*d));

    if (d == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        d[i] = lgi_strdup(v[i]);
        if (d[i] == NULL) {
            for (size_t k = 0; k < i; k++) {
                lgi_free(d[k]);
            }
            lgi_free(d);
            return NULL;
        }
    }
    return d;
}

/* Copy the compiler's rules into `r`, which lgi_rules_destroy() can free
 * at any point: counts are set only along with what they count. */
static lg_status_t
fill_rules(const lg_compiler_t *c, lg_rules_t *r)
{
    size_t np = 0;

    for (size_t i = 0; i < c->nrules; i++) {
        np += c->rules[i].npatterns;
    }
    if (np >= UINT32_MAX) {
        return LG_E_NOMEM; /* LCOV_EXCL_LINE */
    }
    if (c->nrules == 0) {
        return LG_OK;
    }
    r->rules = lgi_calloc(c->nrules, sizeof(*r->rules));
    r->patterns = lgi_calloc(np, sizeof(*r->patterns));
    if (r->rules == NULL || r->patterns == NULL) {
        return LG_E_NOMEM;
    }
    r->nrules = (uint32_t)c->nrules;
    r->npatterns = (uint32_t)np;
    np = 0;
    for (size_t i = 0; i < c->nrules; i++) {
        const struct lgi_crule *s = &c->rules[i];
        struct lgi_rule *d = &r->rules[i];

        d->id = lgi_strdup(s->id);
        d->pack = lgi_strdup(s->pack);
        d->description = lgi_strdup(s->description);
        d->file = lgi_strdup(s->file);
        if (d->id == NULL || d->pack == NULL || d->description == NULL ||
            d->file == NULL) {
            return LG_E_NOMEM;
        }
        d->line = s->line;
        d->category = s->category;
        d->severity = s->severity;
        d->score = s->score;
        d->applies_to = s->applies_to;
        d->views = s->views;
        d->paranoia = s->paranoia;
        d->validate = s->validate;
        d->first_pattern = (uint32_t)np;
        d->npatterns = s->npatterns;
        if (s->confirm != NULL) {
            d->confirm_src = lgi_strdup(s->confirm);
            if (d->confirm_src == NULL) {
                return LG_E_NOMEM;
            }
            d->confirm_flags = s->flags;
        }
        if (s->entity != NULL) {
            d->entity = lgi_strdup(s->entity);
            if (d->entity == NULL) {
                return LG_E_NOMEM;
            }
        }
        if (s->ntags > 0) {
            d->tags = strv_dup(s->tags, s->ntags);
            if (d->tags == NULL) {
                return LG_E_NOMEM;
            }
            d->ntags = s->ntags;
        }
        if (s->nrefs > 0) {
            d->refs = strv_dup(s->refs, s->nrefs);
            if (d->refs == NULL) {
                return LG_E_NOMEM;
            }
            d->nrefs = s->nrefs;
        }
        for (uint32_t k = 0; k < s->npatterns; k++, np++) {
            r->patterns[np].regex = lgi_strdup(s->patterns[k].regex);
            if (r->patterns[np].regex == NULL) {
                return LG_E_NOMEM;
            }
            r->patterns[np].flags = s->flags;
            r->patterns[np].rule = (uint32_t)i;
        }
    }
    return LG_OK;
}

static const struct lgi_crule *
pattern_rule(const lg_compiler_t *c, const lg_rules_t *r, uint32_t pat,
             const struct lgi_cpattern **p)
{
    const struct lgi_crule *cr = &c->rules[r->patterns[pat].rule];

    *p = &cr->patterns[pat - r->rules[r->patterns[pat].rule].first_pattern];
    return cr;
}

/*
 * The combined database failed.  The engine names one pattern, or none
 * (resource limits); every other pattern is then compiled alone (slow, but
 * only on this path) so that each rejected one is reported in this run.
 */
static lg_status_t
report_db_failure(lg_compiler_t *c, const lg_rules_t *r, uint32_t bad,
                  const char *raw)
{
    const struct lgi_cpattern *p;
    const struct lgi_crule *cr;
    char msg[320]; /* room for the prefix and a 256-byte engine message */
    size_t off, found = 0;
    lg_status_t rc;

    if (bad < r->npatterns) {
        /* lgi_build_db() also fails on the PCRE2 compile it does per
         * pattern, which add_* already checked; name the engine anyway. */
        if (strncmp(raw, "PCRE2", 5) == 0) {
            snprintf(msg, sizeof(msg), "pattern rejected by %s", raw);
            off = SIZE_MAX;
        } else {
            lgi_hs_message(raw, msg, sizeof(msg), &off);
        }
        cr = pattern_rule(c, r, bad, &p);
        lgi_diag_add(c, LG_E_COMPILE, LG_DIAG_ERROR, cr->file, p->pos.line,
                     lgi_srcpos_col(&p->pos, off), cr->id, "%s", msg);
        found++;
    }
    for (uint32_t i = 0; i < r->npatterns; i++) {
        if (i == bad) {
            continue;
        }
        rc = lgi_check_hs(r->patterns[i].regex, r->patterns[i].flags, msg,
                          sizeof(msg), &off);
        if (rc == LG_E_NOMEM) {
            return rc;
        }
        if (rc != LG_OK) {
            cr = pattern_rule(c, r, i, &p);
            lgi_diag_add(c, LG_E_COMPILE, LG_DIAG_ERROR, cr->file, p->pos.line,
                         lgi_srcpos_col(&p->pos, off), cr->id, "%s", msg);
            found++;
        }
    }
    if (found == 0) {
        lgi_diag_add(c, LG_E_COMPILE, LG_DIAG_ERROR, BUILD_FILE, 0, 0, NULL,
                     "Hyperscan rejected the combined database: %s", raw);
    }
    return LG_OK;
}

static lg_status_t
build_engines(lg_compiler_t *c, lg_rules_t *r)
{
    char msg[256];
    uint32_t bad;
    size_t off;
    lg_status_t rc;

    rc = lgi_build_confirms(r, &bad, &off, msg, sizeof(msg));
    if (rc == LG_E_COMPILE) {
        /* add_* checked every confirm the same way: not expected. */
        if (bad < r->nrules) {
            const struct lgi_crule *cr = &c->rules[bad];

            lgi_diag_add(c, LG_E_COMPILE, LG_DIAG_ERROR, cr->file,
                         cr->confirm_pos.line,
                         lgi_srcpos_col(&cr->confirm_pos, off), cr->id,
                         "invalid confirm regex: %s", msg);
        } else {
            lgi_diag_add(c, LG_E_COMPILE, LG_DIAG_ERROR, BUILD_FILE, 0, 0, NULL,
                         "invalid confirm regex: %s", msg);
        }
        return rc;
    }
    if (rc != LG_OK) {
        return rc;
    }
    rc = lgi_build_db(r, &bad, msg, sizeof(msg));
    if (rc == LG_E_COMPILE) {
        lg_status_t rc2 = report_db_failure(c, r, bad, msg);

        return rc2 != LG_OK ? rc2 : rc;
    }
    return rc;
}

lg_status_t
lg_compiler_build(lg_compiler_t *c, lg_rules_t **out)
{
    lg_rules_t *r = NULL;
    lg_status_t rc;

    if (out != NULL) {
        *out = NULL;
    }
    if (c == NULL || out == NULL || c->frozen) {
        return LG_E_INVAL;
    }
    c->frozen = true;
    r = lgi_rules_alloc();
    /* Built even after earlier errors, to report what the engines say
     * about the packs that were accepted, in the same run. */
    rc = r == NULL ? LG_E_NOMEM : fill_rules(c, r);
    if (rc == LG_OK) {
        rc = build_engines(c, r);
    }
    if (rc == LG_E_NOMEM) {
        lgi_diag_add(c, LG_E_NOMEM, LG_DIAG_ERROR, BUILD_FILE, 0, 0, NULL,
                     "out of memory while building the rules");
        goto out;
    }
    if (rc != LG_OK && rc != LG_E_COMPILE) {
        /* An engine failure that is no fault of the rules. */
        lgi_diag_add(c, LG_E_COMPILE, LG_DIAG_ERROR, BUILD_FILE, 0, 0, NULL,
                     "building the rules failed: %s", lg_strerror(rc));
        goto out;
    }
    if (rc == LG_OK && lg_compiler_error_count(c) > 0) {
        rc = LG_E_COMPILE;
    }
    if (rc != LG_OK) {
        goto out;
    }
    *out = r;
    r = NULL;
out:
    lgi_rules_destroy(r);
    return rc;
}
