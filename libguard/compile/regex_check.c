/*
 * One regex at a time through the engines, with the flags the real build
 * uses, so that every rejected pattern is reported at its own position
 * instead of the combined build naming only the first.
 */
#include <stdio.h>
#include <string.h>

#include "internal/lg_compile_int.h"

uint32_t
lgi_srcpos_col(const struct lgi_srcpos *p, size_t off)
{
    size_t col;

    if (p->vcol == 0 || off == SIZE_MAX ||
        lgi_add_overflow(p->vcol, off, &col) || col > UINT32_MAX) {
        return p->column;
    }
    return (uint32_t)col;
}

/* Hyperscan reports positions only inside its message text. */
static size_t
hs_msg_offset(const char *m)
{
    const char *p = strstr(m, "at index ");
    size_t off = 0;

    if (p == NULL) {
        return SIZE_MAX;
    }
    p += strlen("at index ");
    if (*p < '0' || *p > '9') {
        return SIZE_MAX;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (off > (SIZE_MAX - 9) / 10) {
            return SIZE_MAX;
        }
        off = off * 10 + (size_t)(*p - '0');
    }
    return off;
}

void
lgi_hs_message(const char *m, char *msg, size_t cap, size_t *off)
{
    size_t n;

    *off = hs_msg_offset(m);
    /* The engine's advice names a flag users cannot set from a rule. */
    if (strstr(m, "matches empty buffer") != NULL) {
        snprintf(msg, cap,
                 "pattern matches empty buffer (a pattern must "
                 "not be able to match the empty string)");
        return;
    }
    snprintf(msg, cap, "pattern rejected by Hyperscan: %s", m);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '.' || msg[n - 1] == ' ')) {
        msg[--n] = '\0';
    }
}

lg_status_t
lgi_check_pattern(const char *regex, uint32_t flags, char *msg, size_t cap,
                  size_t *off)
{
    struct lgi_pattern p;
    char raw[256];
    lg_status_t rc;

    *off = SIZE_MAX;
    msg[0] = '\0';
    memset(&p, 0, sizeof(p));
    p.regex = (char *)regex;
    p.flags = flags;
    /* The build's own per-pattern step, so this check cannot disagree
     * with it; the engine's multi-pattern compile alone adds the empty
     * buffer rule, checked from the widths it reports. */
    rc = lgi_pattern_prepare(&p, raw, sizeof(raw), off);
    pcre2_code_free(p.span);
    if (rc == LG_E_COMPILE) {
        if (*off != SIZE_MAX) {
            snprintf(msg, cap, "pattern rejected by %s", raw);
        } else {
            lgi_hs_message(raw, msg, cap, off);
        }
        return rc;
    }
    if (rc == LG_OK && p.min_width == 0) {
        lgi_hs_message("matches empty buffer", msg, cap, off);
        return LG_E_COMPILE;
    }
    return rc;
}

lg_status_t
lgi_check_hs(const char *regex, uint32_t flags, char *msg, size_t cap,
             size_t *off)
{
    hs_compile_error_t *err = NULL;
    hs_database_t *db = NULL;
    lg_status_t rc = LG_OK;
    hs_error_t hrc;

    *off = SIZE_MAX;
    msg[0] = '\0';
    hrc =
        hs_compile(regex, lgi_hs_flags(flags), HS_MODE_BLOCK, NULL, &db, &err);
    if (hrc != HS_SUCCESS) {
        if (hrc == HS_NOMEM || err == NULL ||
            strstr(err->message, "allocate memory") != NULL) {
            rc = LG_E_NOMEM;
        } else {
            lgi_hs_message(err->message, msg, cap, off);
            rc = LG_E_COMPILE;
        }
    }
    if (err != NULL) {
        hs_free_compile_error(err);
    }
    if (db != NULL) {
        hs_free_database(db);
    }
    return rc;
}

static void *
pcre2_lgi_malloc(PCRE2_SIZE n, void *ud)
{
    (void)ud;
    return lgi_malloc(n);
}

static void
pcre2_lgi_free(void *p, void *ud)
{
    (void)ud;
    lgi_free(p);
}

lg_status_t
lgi_check_pcre2(const char *regex, uint32_t flags, char *msg, size_t cap,
                size_t *off)
{
    pcre2_general_context *gctx = NULL;
    pcre2_compile_context *cctx = NULL;
    pcre2_code *code = NULL;
    lg_status_t rc = LG_E_NOMEM;
    PCRE2_SIZE eoff = 0;
    int ecode = 0;
    size_t n;

    *off = 0;
    msg[0] = '\0';
    /* Routed through lgi_malloc so allocation-failure tests reach here. */
    gctx = pcre2_general_context_create(pcre2_lgi_malloc, pcre2_lgi_free, NULL);
    if (gctx == NULL) {
        goto out;
    }
    cctx = pcre2_compile_context_create(gctx);
    if (cctx == NULL) {
        goto out;
    }
    code = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED,
                         lgi_pcre2_options(flags), &ecode, &eoff, cctx);
    if (code != NULL) {
        rc = LG_OK;
        goto out;
    }
    if (ecode == PCRE2_ERROR_HEAP_FAILED) {
        goto out;
    }
    rc = LG_E_COMPILE;
    *off = eoff;
    n = (size_t)snprintf(msg, cap, "invalid confirm regex: ");
    if (n < cap && pcre2_get_error_message(ecode, (PCRE2_UCHAR *)msg + n,
                                           cap - n) == PCRE2_ERROR_BADDATA) {
        snprintf(msg + n, cap - n, "PCRE2 error %d", ecode);
    }
out:
    pcre2_code_free(code);
    pcre2_compile_context_free(cctx);
    pcre2_general_context_free(gctx);
    return rc;
}
