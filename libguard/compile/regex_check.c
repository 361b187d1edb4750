/*
 * One regex at a time through the engines, with the flags the real build
 * uses, so that every rejected pattern is reported at its own position
 * instead of the combined build naming only the first.
 */
#include <ctype.h>
#include <stdbool.h>
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

/*
 * Counted repeats of groups.  Hyperscan unrolls "(?:...){n}" into n copies
 * of the group, and its compile time grows fast with the copies' size:
 * "(?:ab...z|r){300}" takes seconds to minutes, and no compile-time budget
 * can be given to it.  So a pattern may repeat a group only as far as the
 * group's longest match (in characters, each loop inside counted once)
 * times the repeat count stays within LGI_REPEAT_LIMIT.  Repeats of one
 * character or class ("[^x]{500}") have their own cheap engine and are not
 * limited.  The default packs stay below 100.
 */
#define LGI_REPEAT_LIMIT 1000u
#define LGI_REPEAT_DEPTH 64

struct rep_frame {
    uint64_t best; /* longest finished alternative */
    uint64_t cur;  /* the alternative being read */
};

/* a + b, or UINT64_MAX when that overflows: costs only compare with the
 * limit, so a saturated one is simply too large. */
static uint64_t
rep_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A counted quantifier at re[i] ("{n}", "{n,}", "{n,m}"): its length and
 * largest count (n + 1 for "{n,}": the unbounded rest is a loop); 0 when
 * re[i] is not one (PCRE2 then reads "{" as a literal). */
static size_t
rep_quantifier(const char *re, size_t i, uint64_t *count)
{
    uint64_t lo = 0, hi = 0;
    size_t j = i + 1, d;

    for (d = 0; re[j] >= '0' && re[j] <= '9'; j++, d++) {
        lo = lo < 1000000 ? lo * 10 + (uint64_t)(re[j] - '0') : lo;
    }
    if (d == 0) {
        return 0;
    }
    hi = lo;
    if (re[j] == ',') {
        for (j++, d = 0, hi = 0; re[j] >= '0' && re[j] <= '9'; j++, d++) {
            hi = hi < 1000000 ? hi * 10 + (uint64_t)(re[j] - '0') : hi;
        }
        if (d == 0) {
            hi = lo + 1;
        }
    }
    if (re[j] != '}') {
        return 0;
    }
    *count = hi;
    return j + 1 - i;
}

/* Where a class starting at re[i] ('[') ends, just past its ']'. */
static size_t
rep_class_end(const char *re, size_t i)
{
    size_t j = i + 1;

    if (re[j] == '^') {
        j++;
    }
    if (re[j] == ']') {
        j++;
    }
    while (re[j] != '\0' && re[j] != ']') {
        if (re[j] == '\\' && re[j + 1] != '\0') {
            j += 2;
        } else if (re[j] == '[' && re[j + 1] == ':') {
            const char *e = strstr(re + j + 2, ":]");

            j = e != NULL ? (size_t)(e - re) + 2 : j + 1;
        } else {
            j++;
        }
    }
    return re[j] == ']' ? j + 1 : j;
}

/* Length of the escape at re[i] ('\\'). */
static size_t
rep_escape_len(const char *re, size_t i)
{
    char c = re[i + 1];

    if (c == '\0') {
        return 1;
    }
    if ((c == 'x' || c == 'p' || c == 'P' || c == 'o' || c == 'N') &&
        re[i + 2] == '{') {
        const char *e = strchr(re + i + 2, '}');

        return e != NULL ? (size_t)(e - re) + 1 - i : 2;
    }
    if (c == 'x') {
        size_t n = 2;

        while (n < 4 && isxdigit((unsigned char)re[i + n])) {
            n++;
        }
        return n;
    }
    return 2;
}

/*
 * The largest group-repeat cost of `re` (see LGI_REPEAT_LIMIT), and in
 * *at the offset of the quantifier that reaches it; or, with *too_deep
 * set, *at is a group opened deeper than LGI_REPEAT_DEPTH.  Malformed
 * patterns are measured as far as they go: the engines report what is
 * wrong.
 */
static uint64_t
repeat_cost(const char *re, size_t *at, bool *too_deep)
{
    struct rep_frame st[LGI_REPEAT_DEPTH + 1];
    size_t depth = 0, i = 0;
    uint64_t worst = 0, last = 0;
    bool last_group = false, have_last = false;

    memset(&st[0], 0, sizeof(st[0]));
    while (re[i] != '\0') {
        char c = re[i];
        uint64_t n;
        size_t q;

        if (c == '\\' && re[i + 1] == 'Q') {
            const char *e = strstr(re + i + 2, "\\E");
            size_t len = e != NULL ? (size_t)(e - re) - (i + 2)
                                   : strlen(re + i + 2);

            st[depth].cur = rep_add(st[depth].cur, len);
            last = 1;
            last_group = false;
            have_last = len > 0;
            i += 2 + len + (e != NULL ? 2 : 0);
            continue;
        }
        if (c == '\\') {
            i += rep_escape_len(re, i);
            last = 1;
        } else if (c == '[') {
            i = rep_class_end(re, i);
            last = 1;
        } else if (c == '(') {
            if (re[i + 1] == '?' && re[i + 2] == '#') {
                const char *e = strchr(re + i, ')');

                i = e != NULL ? (size_t)(e - re) + 1 : strlen(re);
                continue;
            }
            if (re[i + 1] == '?' && re[i + 2] != ':' && re[i + 2] != '=' &&
                re[i + 2] != '!' && re[i + 2] != '<' && re[i + 2] != '>' &&
                re[i + 2] != '|' && re[i + 2] != 'P' && re[i + 2] != '\'') {
                /* option settings: "(?i)" alone, or "(?i:" opening */
                size_t j = i + 2;

                while (re[j] != '\0' && re[j] != ')' && re[j] != ':') {
                    j++;
                }
                if (re[j] == ')') {
                    i = j + 1;
                    continue;
                }
            }
            if (depth == LGI_REPEAT_DEPTH) {
                *at = i;
                *too_deep = true;
                return UINT64_MAX;
            }
            depth++;
            memset(&st[depth], 0, sizeof(st[depth]));
            have_last = false;
            i++;
            /* skip the group's kind: "?:", "?=", "?<name>", ... */
            if (re[i] == '?') {
                while (re[i] != '\0' && re[i] != ':' && re[i] != ')' &&
                       re[i] != '=' && re[i] != '!' && re[i] != '>' &&
                       re[i] != '|' && re[i] != '\'') {
                    i++;
                }
                if (re[i] == '<' || re[i] == '\'') {
                    i++;
                }
                if (re[i] != '\0' && re[i] != ')') {
                    i++;
                }
            }
            continue;
        } else if (c == '|') {
            if (st[depth].cur > st[depth].best) {
                st[depth].best = st[depth].cur;
            }
            st[depth].cur = 0;
            have_last = false;
            i++;
            continue;
        } else if (c == ')' && depth > 0) {
            uint64_t w = st[depth].cur > st[depth].best ? st[depth].cur
                                                        : st[depth].best;

            depth--;
            st[depth].cur = rep_add(st[depth].cur, w);
            last = w;
            last_group = true;
            have_last = true;
            i++;
            continue;
        } else if (c == '{' && have_last &&
                   (q = rep_quantifier(re, i, &n)) > 0) {
            if (last_group && n > 1) {
                uint64_t cost = last > UINT64_MAX / n ? UINT64_MAX : last * n;

                if (cost > worst) {
                    worst = cost;
                    *at = i;
                }
                /* the copies lengthen the enclosing group */
                st[depth].cur = rep_add(st[depth].cur, cost - last);
            }
            have_last = false;
            i += q;
            if (re[i] == '?' || re[i] == '+') {
                i++;
            }
            continue;
        } else if (c == '*' || c == '+' || c == '?') {
            have_last = false;
            i++;
            continue;
        } else {
            i++;
            last = 1;
        }
        st[depth].cur = rep_add(st[depth].cur, 1);
        last_group = false;
        have_last = true;
    }
    return worst;
}

lg_status_t
lgi_check_pattern(const char *regex, uint32_t flags, char *msg, size_t cap,
                  size_t *off)
{
    struct lgi_pattern p;
    char raw[256];
    lg_status_t rc;
    uint64_t cost;
    size_t at = SIZE_MAX;
    bool too_deep = false;

    *off = SIZE_MAX;
    msg[0] = '\0';
    cost = repeat_cost(regex, &at, &too_deep);
    if (cost > LGI_REPEAT_LIMIT) {
        *off = at;
        if (too_deep) {
            snprintf(msg, cap, "pattern nests groups more than %d deep",
                     LGI_REPEAT_DEPTH);
        } else {
            char n[32];

            if (cost == UINT64_MAX) {
                snprintf(n, sizeof(n), "over 2^64");
            } else {
                snprintf(n, sizeof(n), "%llu", (unsigned long long)cost);
            }
            snprintf(msg, cap,
                     "pattern repeats a group too far: its longest match "
                     "times the count is %s characters, above %u, which "
                     "the engine compiles very slowly (repeat a character "
                     "class instead, or fewer times)",
                     n, LGI_REPEAT_LIMIT);
        }
        return LG_E_COMPILE;
    }
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
