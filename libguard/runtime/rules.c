/*
 * The compiled rules object: life cycle, introspection, and the two engine
 * builds (one Hyperscan database for all patterns, one PCRE2 code per
 * confirm) that the compiler and the loader share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lg_internal.h"

lg_rules_t *
lgi_rules_alloc(void)
{
    lg_rules_t *r = lgi_calloc(1, sizeof(*r));

    if (r == NULL) {
        return NULL;
    }
    atomic_init(&r->refs, 1);
    return r;
}

static void
strv_free(char **v, size_t n)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        lgi_free(v[i]);
    }
    lgi_free(v);
}

void
lgi_rules_destroy(lg_rules_t *r)
{
    if (r == NULL) {
        return;
    }
    if (r->rules != NULL) {
        for (uint32_t i = 0; i < r->nrules; i++) {
            struct lgi_rule *rule = &r->rules[i];

            lgi_free(rule->id);
            lgi_free(rule->pack);
            lgi_free(rule->description);
            lgi_free(rule->file);
            lgi_free(rule->confirm_src);
            lgi_free(rule->entity);
            pcre2_code_free(rule->confirm);
            strv_free(rule->tags, rule->ntags);
            strv_free(rule->refs, rule->nrefs);
        }
        lgi_free(r->rules);
    }
    if (r->patterns != NULL) {
        for (uint32_t i = 0; i < r->npatterns; i++) {
            lgi_free(r->patterns[i].regex);
            pcre2_code_free(r->patterns[i].span);
        }
        lgi_free(r->patterns);
    }
    if (r->db != NULL) {
        hs_free_database(r->db);
    }
    lgi_free(r);
}

lg_rules_t *
lg_rules_retain(lg_rules_t *r)
{
    if (r != NULL) {
        atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    }
    return r;
}

void
lg_rules_free(lg_rules_t *r)
{
    if (r == NULL) {
        return;
    }
    /* acq_rel: the last owner must see every other owner's writes to the
     * objects it frees (the rules themselves are immutable). */
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
        lgi_rules_destroy(r);
    }
}

size_t
lg_rules_count(const lg_rules_t *r)
{
    return r == NULL ? 0 : r->nrules;
}

lg_status_t
lg_rules_info(const lg_rules_t *r, uint32_t idx, lg_rule_info_t *out)
{
    const struct lgi_rule *rule;

    if (out == NULL) {
        return LG_E_INVAL;
    }
    memset(out, 0, sizeof(*out));
    if (r == NULL || idx >= r->nrules) {
        return LG_E_INVAL;
    }
    rule = &r->rules[idx];
    out->id = rule->id;
    out->pack = rule->pack;
    out->description = rule->description;
    out->file = rule->file;
    out->line = rule->line;
    out->category = rule->category;
    out->severity = rule->severity;
    out->score = rule->score;
    out->applies_to = rule->applies_to;
    out->npatterns = rule->npatterns;
    out->confirm = rule->confirm_src;
    out->ntags = rule->ntags;
    out->tags = (const char *const *)rule->tags;
    out->nreferences = rule->nrefs;
    out->references = (const char *const *)rule->refs;
    out->views = rule->views;
    out->paranoia = rule->paranoia;
    out->validate = lgi_validator_name(rule->validate);
    out->entity = rule->entity;
    return LG_OK;
}

const char *
lg_rules_id(const lg_rules_t *r, uint32_t idx)
{
    if (r == NULL || idx >= r->nrules) {
        return NULL;
    }
    return r->rules[idx].id;
}

lg_status_t
lg_rules_find(const lg_rules_t *r, const char *id, uint32_t *idx)
{
    if (r == NULL || id == NULL || idx == NULL) {
        return LG_E_INVAL;
    }
    for (uint32_t i = 0; i < r->nrules; i++) {
        if (strcmp(r->rules[i].id, id) == 0) {
            *idx = i;
            return LG_OK;
        }
    }
    return LG_E_INVAL;
}

lg_status_t
lg_rules_pattern(const lg_rules_t *r, uint32_t rule, uint32_t i,
                 const char **regex, uint32_t *flags)
{
    const struct lgi_rule *ru;

    if (regex != NULL) {
        *regex = NULL;
    }
    if (flags != NULL) {
        *flags = 0;
    }
    if (r == NULL || regex == NULL || flags == NULL || rule >= r->nrules) {
        return LG_E_INVAL;
    }
    ru = &r->rules[rule];
    if (i >= ru->npatterns) {
        return LG_E_INVAL;
    }
    *regex = r->patterns[ru->first_pattern + i].regex;
    *flags = r->patterns[ru->first_pattern + i].flags;
    return LG_OK;
}

unsigned int
lgi_hs_flags(uint32_t pat_flags)
{
    unsigned int f = 0;

    /* With UTF8 in the database, the scanner sanitizes invalid UTF-8
     * first: Hyperscan's result on it is undefined. */
    if (pat_flags & (LG_PAT_UTF8 | LG_PAT_UCP)) {
        f |= HS_FLAG_UTF8;
    }
    if (pat_flags & LG_PAT_CASELESS) {
        f |= HS_FLAG_CASELESS;
    }
    if (pat_flags & LG_PAT_DOTALL) {
        f |= HS_FLAG_DOTALL;
    }
    if (pat_flags & LG_PAT_MULTILINE) {
        f |= HS_FLAG_MULTILINE;
    }
    if (pat_flags & LG_PAT_UCP) {
        f |= HS_FLAG_UCP;
    }
    return f;
}

uint32_t
lgi_pcre2_options(uint32_t pat_flags)
{
    uint32_t o = 0;

    /* The scanner hands PCRE2 only valid UTF-8 when any pattern is UTF
     * (invalid input is sanitized first), so it matches with
     * PCRE2_NO_UTF_CHECK. */
    if (pat_flags & (LG_PAT_UTF8 | LG_PAT_UCP)) {
        o |= PCRE2_UTF;
    }
    if (pat_flags & LG_PAT_CASELESS) {
        o |= PCRE2_CASELESS;
    }
    if (pat_flags & LG_PAT_DOTALL) {
        o |= PCRE2_DOTALL;
    }
    if (pat_flags & LG_PAT_MULTILINE) {
        o |= PCRE2_MULTILINE;
    }
    if (pat_flags & LG_PAT_UCP) {
        o |= PCRE2_UCP;
    }
    return o;
}

lg_status_t
lgi_pattern_prepare(struct lgi_pattern *p, char *msgbuf, size_t msgcap,
                    size_t *erroff)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *err = NULL;
    hs_error_t hrc;
    int errcode;
    PCRE2_SIZE off;

    *erroff = SIZE_MAX;
    hrc = hs_expression_info(p->regex, lgi_hs_flags(p->flags), &info, &err);
    if (hrc != HS_SUCCESS) {
        if (msgcap > 0) {
            snprintf(msgbuf, msgcap, "%s",
                     err != NULL ? err->message : "rejected by Hyperscan");
        }
        hs_free_compile_error(err);
        return hrc == HS_NOMEM ? LG_E_NOMEM : LG_E_COMPILE;
    }
    p->min_width = info->min_width;
    p->max_width = info->max_width;
    free(info); /* Hyperscan's misc allocator: malloc() */
    if (p->span == NULL) {
        /* ENDANCHORED at compile time: JIT does not support it as a match
         * option. */
        p->span = pcre2_compile((PCRE2_SPTR)p->regex, PCRE2_ZERO_TERMINATED,
                                lgi_pcre2_options(p->flags) |
                                    PCRE2_ENDANCHORED,
                                &errcode, &off, NULL);
        if (p->span == NULL) {
            if (msgcap > 0) {
                char m[120];

                pcre2_get_error_message(errcode, (PCRE2_UCHAR *)m, sizeof(m));
                snprintf(msgbuf, msgcap, "PCRE2 (used to locate matches): %s",
                         m);
            }
            *erroff = off;
            return errcode == PCRE2_ERROR_HEAP_FAILED ? LG_E_NOMEM
                                                      : LG_E_COMPILE;
        }
        /* JIT is only an optimisation: see lgi_build_confirms(). */
        (void)pcre2_jit_compile(p->span, PCRE2_JIT_COMPLETE);
    }
    return LG_OK;
}

void
lgi_rules_set_utf8(lg_rules_t *r)
{
    r->utf8 = false;
    for (uint32_t i = 0; i < r->npatterns; i++) {
        if (r->patterns[i].flags & (LG_PAT_UTF8 | LG_PAT_UCP)) {
            r->utf8 = true;
        }
    }
    for (uint32_t i = 0; i < r->nrules; i++) {
        if (r->rules[i].confirm_src != NULL &&
            (r->rules[i].confirm_flags & (LG_PAT_UTF8 | LG_PAT_UCP))) {
            r->utf8 = true;
        }
    }
    r->views = 0;
    for (uint32_t i = 0; i < r->nrules; i++) {
        r->views |= r->rules[i].views;
    }
}

lg_status_t
lgi_build_db(lg_rules_t *r, uint32_t *bad, char *msgbuf, size_t msgcap)
{
    const char **exprs = NULL;
    unsigned int *flags = NULL, *ids = NULL;
    hs_compile_error_t *err = NULL;
    hs_database_t *db = NULL;
    lg_status_t rc = LG_E_NOMEM;
    hs_error_t hrc;

    *bad = UINT32_MAX;
    lgi_assert(r->db == NULL);
    lgi_rules_set_utf8(r);
    if (msgcap > 0) {
        msgbuf[0] = '\0';
    }
    if (r->npatterns == 0) {
        r->db = NULL;
        return LG_OK;
    }
    exprs = lgi_calloc(r->npatterns, sizeof(*exprs));
    flags = lgi_calloc(r->npatterns, sizeof(*flags));
    ids = lgi_calloc(r->npatterns, sizeof(*ids));
    if (exprs == NULL || flags == NULL || ids == NULL) {
        rc = LG_E_NOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < r->npatterns; i++) {
        size_t erroff;

        rc = lgi_pattern_prepare(&r->patterns[i], msgbuf, msgcap, &erroff);
        if (rc != LG_OK) {
            *bad = i;
            goto out;
        }
        exprs[i] = r->patterns[i].regex;
        flags[i] = lgi_hs_flags(r->patterns[i].flags);
        ids[i] = i;
    }
    hrc = hs_compile_multi(exprs, flags, ids, r->npatterns, HS_MODE_BLOCK,
                           NULL, &db, &err);
    if (hrc != HS_SUCCESS) {
        if (err != NULL) {
            if (err->expression >= 0) {
                *bad = (uint32_t)err->expression;
            }
            if (msgcap > 0) {
                snprintf(msgbuf, msgcap, "%s", err->message);
            }
            hs_free_compile_error(err);
        }
        rc = hrc == HS_NOMEM ? LG_E_NOMEM : LG_E_COMPILE;
        goto out;
    }
    r->db = db;
    rc = LG_OK;
out:
    lgi_free(ids);
    lgi_free(flags);
    lgi_free(exprs);
    return rc;
}

lg_status_t
lgi_build_confirms(lg_rules_t *r, uint32_t *bad_rule, size_t *erroff,
                   char *msgbuf, size_t msgcap)
{
    *bad_rule = UINT32_MAX;
    *erroff = 0;
    if (msgcap > 0) {
        msgbuf[0] = '\0';
    }
    for (uint32_t i = 0; i < r->nrules; i++) {
        struct lgi_rule *rule = &r->rules[i];
        int errcode;
        PCRE2_SIZE off;

        if (rule->confirm_src == NULL || rule->confirm != NULL) {
            continue;
        }
        /* ANCHORED at compile time, so that JIT can run it. */
        rule->confirm = pcre2_compile(
            (PCRE2_SPTR)rule->confirm_src, PCRE2_ZERO_TERMINATED,
            lgi_pcre2_options(rule->confirm_flags) | PCRE2_ANCHORED, &errcode,
            &off, NULL);
        if (rule->confirm == NULL) {
            *bad_rule = i;
            *erroff = off;
            if (msgcap > 0) {
                pcre2_get_error_message(errcode, (PCRE2_UCHAR *)msgbuf,
                                        msgcap);
            }
            return errcode == PCRE2_ERROR_HEAP_FAILED ? LG_E_NOMEM
                                                      : LG_E_COMPILE;
        }
        /* JIT is an optimisation: where it is unavailable the interpreter
         * gives the same answers, so a failure here is not an error. */
        (void)pcre2_jit_compile(rule->confirm, PCRE2_JIT_COMPLETE);
    }
    return LG_OK;
}
