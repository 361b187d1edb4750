/*
 * Scratch and block-mode scanning.  Hyperscan finds candidate spans for
 * every pattern in one pass over a text; each candidate is filtered by
 * direction, view and, where the rule has one, by its PCRE2 confirmation;
 * overlapping spans of one rule merge into one finding; the policy turns
 * findings into a verdict.
 *
 * A scan makes one pass over the raw input, then one over each view that
 * some rule asks for and that differs from the texts already matched: the
 * normalized view, the leet view, each decoded payload.  A pass works in
 * its own text's offsets; at its end its findings are mapped back to the
 * input (through the view's offset map, or to the encoded span of a
 * payload), and the final sort merges what several passes found.
 */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal/lg_internal.h"
#include "internal/lg_text.h"

#define LGI_SUB_BYTE 0x1a /* stands in for each byte of invalid UTF-8 */
#define LGI_READ_SLACK 32 /* bytes after the sanitized input, see sanitize() */

/* Transforms of the normalized view; the leet view adds LGI_NORM_LEET. */
#define LGI_NORM_VIEW                                                        \
    (LGI_NORM_TAGS | LGI_NORM_INVISIBLE | LGI_NORM_NFKC_CF |                 \
     LGI_NORM_CONFUSABLE | LGI_NORM_SPACING)

/* A rule's state during a scan.  Valid only where gen == the scratch's
 * cur_gen, so that a scan need not clear an array sized by the rules. */
struct rule_state {
    uint32_t gen;
    uint32_t last;       /* index of the rule's latest finding */
    uint32_t last_pat;   /* pattern that last extended that finding */
    uint8_t conf_ok;     /* outcome of the last confirmation ... */
    size_t conf_start;   /* ... made at this start (+1; 0 none) */
};

struct lg_scratch {
    lg_rules_t *rules;
    lg_limits_t limits;
    atomic_flag busy;
    hs_scratch_t *hs;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    lg_finding_t *findings;  /* limits.max_findings */
    struct rule_state *rs;   /* one per rule */
    uint32_t cur_gen;
    uint8_t *buf;            /* sanitized copy of invalid UTF-8 input */
    size_t bufcap;
    struct lgi_view norm;    /* normalized view */
    struct lgi_view leet;    /* leet view */
    struct lgi_view pview;   /* a decoded payload, normalized */
    struct lgi_decoded dec;  /* decoded payloads */
    const lg_leak_t *leak;   /* borrowed, or NULL */
    struct lgi_vctx vctx;    /* what validators consult (allowed hosts) */
    lg_span_t *spans;        /* limits.max_findings, for the leak detector */

    /* the scan in progress */
    const uint8_t *data;
    size_t len;
    uint32_t dir;
    uint32_t paranoia;
    uint32_t pass_views;     /* LG_VIEW_* bits this pass matches for */
    uint32_t found_view;     /* the view its findings are credited to */
    size_t nfindings;
    uint32_t nmatches;
    uint32_t nconfirms;
    bool over_budget;        /* confirm_budget_us spent */
    uint64_t t0_ns;          /* when the scan started */
    uint32_t truncated;
    lg_status_t error;
};

void
lg_policy_init(lg_policy_t *p)
{
    static const lg_category_t blocking[] = {
        LG_CAT_INJECTION, LG_CAT_HIJACKING,    LG_CAT_LEAKAGE,
        LG_CAT_SECRET,    LG_CAT_EXFILTRATION, LG_CAT_HARMFUL,
    };

    if (p == NULL) {
        return;
    }
    memset(p, 0, sizeof(*p));
    p->paranoia = 1;
    for (unsigned i = 0; i < LG_CATEGORY_MAX; i++) {
        p->flag_at[i] = 1;
    }
    for (size_t i = 0; i < sizeof(blocking) / sizeof(blocking[0]); i++) {
        p->block_at[blocking[i]] = 5;
    }
}

void
lg_limits_init(lg_limits_t *l)
{
    if (l == NULL) {
        return;
    }
    l->max_input = (size_t)64 << 20;
    l->max_findings = 1024;
    l->max_matches = 65536;
    l->pcre_match_limit = 100000;
    l->pcre_depth_limit = 10000;
    l->views = LG_VIEW_ALL;
    l->max_decode_depth = 3;
    l->confirm_budget_us = 20000;
    l->max_decode_bytes = (size_t)1 << 20;
    l->stream_step = 512;
    l->stream_window = 512;
}

void
lg_scratch_free(lg_scratch_t *s)
{
    if (s == NULL) {
        return;
    }
    if (s->hs != NULL) {
        hs_free_scratch(s->hs);
    }
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    lgi_free(s->findings);
    lgi_free(s->rs);
    lgi_free(s->spans);
    for (size_t i = 0; i < s->vctx.nhosts; i++) {
        lgi_free(s->vctx.hosts[i]);
    }
    lgi_free(s->vctx.hosts);
    lgi_free(s->buf);
    lgi_view_free(&s->norm);
    lgi_view_free(&s->leet);
    lgi_view_free(&s->pview);
    lgi_decoded_free(&s->dec);
    lg_rules_free(s->rules);
    lgi_free(s);
}

lg_status_t
lg_scratch_new(lg_rules_t *r, const lg_limits_t *limits, lg_scratch_t **out)
{
    lg_scratch_t *s = NULL;
    lg_status_t rc;
    size_t nr;

    if (out != NULL) {
        *out = NULL;
    }
    if (r == NULL || out == NULL) {
        return LG_E_INVAL;
    }
    if (limits != NULL &&
        (limits->max_input == 0 || limits->max_findings == 0 ||
         limits->max_matches == 0 || limits->pcre_match_limit == 0 ||
         limits->pcre_depth_limit == 0 ||
         (limits->views & LG_VIEW_RAW) == 0 ||
         (limits->views & ~LG_VIEW_ALL) != 0 ||
         limits->max_decode_depth == 0 || limits->max_decode_depth > 8 ||
         limits->confirm_budget_us == 0 ||
         limits->max_decode_bytes == 0 || limits->stream_step == 0)) {
        return LG_E_INVAL;
    }
    rc = lg_init();
    if (rc != LG_OK) {
        return rc;
    }
    s = lgi_calloc(1, sizeof(*s));
    if (s == NULL) {
        return LG_E_NOMEM;
    }
    atomic_flag_clear(&s->busy);
    s->rules = lg_rules_retain(r);
    if (limits != NULL) {
        s->limits = *limits;
    } else {
        lg_limits_init(&s->limits);
    }
    rc = LG_E_NOMEM;
    nr = r->nrules > 0 ? r->nrules : 1;
    s->findings = lgi_calloc(s->limits.max_findings, sizeof(*s->findings));
    s->rs = lgi_calloc(nr, sizeof(*s->rs));
    s->spans = lgi_calloc(s->limits.max_findings, sizeof(*s->spans));
    s->md = pcre2_match_data_create(1, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    if (s->findings == NULL || s->rs == NULL || s->spans == NULL ||
        s->md == NULL ||
        s->mctx == NULL) {
        goto fail;
    }
    pcre2_set_match_limit(s->mctx, s->limits.pcre_match_limit);
    pcre2_set_depth_limit(s->mctx, s->limits.pcre_depth_limit);
    if (r->db != NULL) {
        hs_error_t hrc = hs_alloc_scratch(r->db, &s->hs);

        if (hrc != HS_SUCCESS) {
            rc = hrc == HS_NOMEM ? LG_E_NOMEM : LG_E_ENGINE;
            goto fail;
        }
    }
    *out = s;
    return LG_OK;
fail:
    lg_scratch_free(s);
    return rc;
}

lg_status_t
lg_scratch_set_leak(lg_scratch_t *s, const lg_leak_t *leak)
{
    if (s == NULL) {
        return LG_E_INVAL;
    }
    if (atomic_flag_test_and_set_explicit(&s->busy, memory_order_acquire)) {
        return LG_E_SCRATCH_IN_USE;
    }
    s->leak = leak;
    atomic_flag_clear_explicit(&s->busy, memory_order_release);
    return LG_OK;
}

static bool
host_ok(const char *h)
{
    size_t n = h != NULL ? strlen(h) : 0;

    if (n == 0 || n > 253) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = h[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

lg_status_t
lg_scratch_allow_hosts(lg_scratch_t *s, const char *const *hosts, size_t n)
{
    char **list = NULL;
    size_t k = 0;
    lg_status_t rc = LG_OK;

    if (s == NULL || (hosts == NULL && n > 0)) {
        return LG_E_INVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!host_ok(hosts[i])) {
            return LG_E_INVAL;
        }
    }
    if (n > 0) {
        list = lgi_calloc(n, sizeof(*list));
        if (list == NULL) {
            return LG_E_NOMEM;
        }
        for (; k < n; k++) {
            list[k] = lgi_strdup(hosts[k]);
            if (list[k] == NULL) {
                rc = LG_E_NOMEM;
                break;
            }
            for (char *c = list[k]; *c != '\0'; c++) {
                if (*c >= 'A' && *c <= 'Z') {
                    *c = (char)(*c | 0x20);
                }
            }
        }
    }
    if (rc == LG_OK &&
        atomic_flag_test_and_set_explicit(&s->busy, memory_order_acquire)) {
        rc = LG_E_SCRATCH_IN_USE;
    }
    if (rc != LG_OK) {
        for (size_t i = 0; i < k; i++) {
            lgi_free(list[i]);
        }
        lgi_free(list);
        return rc;
    }
    for (size_t i = 0; i < s->vctx.nhosts; i++) {
        lgi_free(s->vctx.hosts[i]);
    }
    lgi_free(s->vctx.hosts);
    s->vctx.hosts = list;
    s->vctx.nhosts = n;
    atomic_flag_clear_explicit(&s->busy, memory_order_release);
    return LG_OK;
}

const lg_limits_t *
lgi_scratch_limits(const lg_scratch_t *s)
{
    return &s->limits;
}

const lg_rules_t *
lg_scratch_rules(const lg_scratch_t *s)
{
    return s == NULL ? NULL : s->rules;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 if it is invalid. */
static size_t
utf8_seq_len(const uint8_t *p, size_t avail)
{
    uint8_t c = p[0];

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        uint8_t lo = c == 0xe0 ? 0xa0 : 0x80;
        uint8_t hi = c == 0xed ? 0x9f : 0xbf;

        return avail >= 3 && p[1] >= lo && p[1] <= hi &&
                       (p[2] & 0xc0) == 0x80
                   ? 3
                   : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        uint8_t lo = c == 0xf0 ? 0x90 : 0x80;
        uint8_t hi = c == 0xf4 ? 0x8f : 0xbf;

        return avail >= 4 && p[1] >= lo && p[1] <= hi &&
                       (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

/* Offset of the first invalid UTF-8 byte, or len if there is none. */
static size_t
utf8_first_invalid(const uint8_t *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        /* ASCII fast path, eight bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;

            memcpy(&w, p + i, sizeof(w));
            if (w & UINT64_C(0x8080808080808080)) {
                break;
            }
            i += 8;
        }
        if (i >= len) {
            break;
        }
        size_t n = utf8_seq_len(p + i, len - i);

        if (n == 0) {
            return i;
        }
        i += n;
    }
    return len;
}

/* Copy `data` into the scratch buffer with each byte of an invalid sequence
 * replaced by one substitute byte, so that offsets are unchanged. */
static lg_status_t
sanitize(lg_scratch_t *s, const uint8_t *data, size_t len, size_t first_bad)
{
    size_t i = first_bad;

    if (s->bufcap < len) {
        /* PCRE2's JIT reads up to 16 bytes at a time and may pass the end
         * of the subject within an aligned block: give it initialised
         * slack so that memory checkers stay quiet.  (len < UINT_MAX.) */
        uint8_t *nb = lgi_realloc(s->buf, len + LGI_READ_SLACK);

        if (nb == NULL) {
            return LG_E_NOMEM;
        }
        memset(nb + len, 0, LGI_READ_SLACK);
        s->buf = nb;
        s->bufcap = len;
    }
    memcpy(s->buf, data, first_bad);
    while (i < len) {
        size_t n = utf8_seq_len(data + i, len - i);

        if (n == 0) {
            s->buf[i++] = LGI_SUB_BYTE;
            continue;
        }
        memcpy(s->buf + i, data + i, n);
        i += n;
    }
    return LG_OK;
}

/* Outcome of a PCRE2 call made within the scan's budget: a limit reached
 * counts as no match and marks the result truncated. */
static int
pcre_outcome(lg_scratch_t *s, int rc)
{
    if (rc >= 0) {
        return 1;
    }
    switch (rc) {
    case PCRE2_ERROR_NOMATCH:
        return 0;
    case PCRE2_ERROR_MATCHLIMIT:
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
    case PCRE2_ERROR_JIT_STACKLIMIT:
        s->truncated = 1;
        return 0;
    default:
        return -1;
    }
}

/* One end-anchored search: the leftmost start at or after *lo of a match
 * of p that ends at `end`.  *lo is moved to a character boundary for UTF
 * patterns (NO_UTF_CHECK needs one).  1 found, 0 not, negative on error. */
static int
span_search(lg_scratch_t *s, const struct lgi_pattern *p, size_t *lo,
            size_t end, size_t *start)
{
    int rc;

    if (p->flags & (LG_PAT_UTF8 | LG_PAT_UCP)) {
        while (*lo < end && (s->data[*lo] & 0xc0) == 0x80) {
            (*lo)++;
        }
    }
    rc = pcre_outcome(s, pcre2_match(p->span, (PCRE2_SPTR)s->data, end, *lo,
                                     PCRE2_NO_UTF_CHECK, s->md, s->mctx));
    if (rc > 0) {
        *start = pcre2_get_ovector_pointer(s->md)[0];
    }
    return rc;
}

/*
 * Start of the leftmost match of pattern p that ends at `end`, found by
 * its end-anchored PCRE2 twin in a window before `end` that starts small
 * (LGI_SPAN_FIRST) and doubles while the match is not found or starts at
 * the window's edge, up to the pattern's maximum width or the start of the
 * input.  Should the engines disagree or a limit be reached, the finding
 * gets the shortest span the pattern allows.
 *
 * prev_end is the end of this pattern's previous finding of the rule
 * (SIZE_MAX if none).  A match starting at or before it merges with that
 * finding, so its exact start does not matter: a short look back
 * (LGI_SPAN_STEP) settles a run of matches that each end a little further
 * on (spaced letters, repeated phrases) in time proportional to the step
 * rather than to the run, which would be quadratic on hostile input.
 */
static int
match_start(lg_scratch_t *s, const struct lgi_pattern *p, size_t end,
            size_t prev_end, size_t *start)
{
    size_t w = p->max_width < LGI_SPAN_FIRST ? p->max_width : LGI_SPAN_FIRST;
    size_t shortest = end - (p->min_width < end ? p->min_width : end);
    size_t lo, found = SIZE_MAX;
    int rc;

    if (prev_end != SIZE_MAX && prev_end < end) {
        lo = prev_end > LGI_SPAN_STEP ? prev_end - LGI_SPAN_STEP : 0;
        rc = span_search(s, p, &lo, end, start);
        if (rc < 0) {
            return rc;
        }
        if (rc > 0 && *start <= prev_end) {
            return 0;
        }
    }
    for (;;) {
        lo = end > w ? end - w : 0;
        rc = span_search(s, p, &lo, end, start);
        if (rc < 0) {
            return rc;
        }
        if (rc > 0) {
            found = *start;
            if (found > lo) {
                return 0; /* inside the window: the leftmost start */
            }
        }
        if (lo == 0 || w >= p->max_width || s->truncated ||
            (found == SIZE_MAX && prev_end != SIZE_MAX &&
             prev_end >= shortest)) {
            break;
        }
        w = w > SIZE_MAX / 2 ? SIZE_MAX : w * 2;
    }
    *start = found != SIZE_MAX ? found : shortest;
    return 0;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 1 if the rule's confirmation matches anchored at `start`, 0 if not (or
 * when the scan's confirmation time is spent), negative on an engine
 * error.  The clock is read every 16 confirmations. */
static int
confirm(lg_scratch_t *s, const struct lgi_rule *rule, size_t start)
{
    if (!s->over_budget && (++s->nconfirms & 15u) == 0 &&
        now_ns() - s->t0_ns > (uint64_t)s->limits.confirm_budget_us * 1000u) {
        s->over_budget = true;
    }
    if (s->over_budget) {
        s->truncated = 1;
        return 0;
    }
    return pcre_outcome(s, pcre2_match(rule->confirm, (PCRE2_SPTR)s->data,
                                       s->len, start, PCRE2_NO_UTF_CHECK,
                                       s->md, s->mctx));
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to,
         unsigned int flags, void *ctx)
{
    lg_scratch_t *s = ctx;
    const lg_rules_t *r = s->rules;
    uint32_t ri;
    const struct lgi_rule *rule;
    struct rule_state *st;
    lg_finding_t *last, *mine;
    size_t start, end = (size_t)to;

    (void)from;
    (void)flags;
    if (id >= r->npatterns) {
        s->error = LG_E_INTERNAL; /* LCOV_EXCL_LINE */
        return 1;                 /* LCOV_EXCL_LINE */
    }
    if (++s->nmatches > s->limits.max_matches) {
        s->truncated = 1;
        return 1;
    }
    ri = r->patterns[id].rule;
    rule = &r->rules[ri];
    if ((rule->applies_to & s->dir) == 0 ||
        (rule->views & s->pass_views) == 0 || rule->paranoia > s->paranoia) {
        return 0;
    }
    st = &s->rs[ri];
    if (st->gen != s->cur_gen) {
        st->gen = s->cur_gen;
        st->last = UINT32_MAX;
        st->conf_start = 0;
    }
    last = st->last != UINT32_MAX ? &s->findings[st->last] : NULL;
    /* The rule's latest finding, if this same pattern made or last
     * extended it: only then do its offsets bound this match's start. */
    mine = last != NULL && st->last_pat == id ? last : NULL;
    /* A pattern's ends arrive in increasing order: one inside its own
     * finding adds nothing.  (Another pattern of the rule may still reach
     * further left.) */
    if (mine != NULL && end <= mine->end && end > mine->start) {
        return 0;
    }
    /* A match starts at least min_width before its end: when that reaches
     * back into the pattern's own finding, the two overlap and merge, with
     * no search at all.  Runs of matches on hostile input (spaced letters,
     * repeated pairs) cost O(1) each this way. */
    if (rule->confirm == NULL && rule->validate == LGI_VAL_NONE &&
        mine != NULL && end > mine->end &&
        end - mine->end <= r->patterns[id].min_width) {
        mine->end = end;
        return 0;
    }
    if (match_start(s, &r->patterns[id], end,
                    mine != NULL ? mine->end : SIZE_MAX, &start) < 0) {
        s->error = LG_E_ENGINE;
        return 1;
    }
    if (rule->confirm != NULL) {
        /* A confirmation depends on the start only: the many ends of one
         * match share its answer. */
        if (st->conf_start != start + 1) {
            int c = confirm(s, rule, start);

            if (c < 0) {
                s->error = LG_E_ENGINE;
                return 1;
            }
            st->conf_start = start + 1;
            st->conf_ok = (uint8_t)c;
        }
        if (!st->conf_ok) {
            return 0;
        }
    }
    if (rule->validate != LGI_VAL_NONE &&
        !lgi_validate(rule->validate, s->data + start, end - start,
                      &s->vctx)) {
        return 0;
    }
    if (last != NULL && start <= last->end && end >= last->start) {
        if (start < last->start) {
            last->start = start;
        }
        if (end > last->end) {
            last->end = end;
        }
        st->last_pat = id;
        return 0;
    }
    if (s->nfindings >= s->limits.max_findings) {
        s->truncated = 1;
        return 1;
    }
    st->last = (uint32_t)s->nfindings;
    st->last_pat = id;
    s->findings[s->nfindings++] = (lg_finding_t){
        .rule = ri,
        .category = rule->category,
        .severity = rule->severity,
        .score = rule->score,
        .start = start,
        .end = end,
        .views = s->found_view,
    };
    return 0;
}

/* Findings by start, then rule, then end (shared with stream mode). */
int
lgi_finding_cmp(const void *a, const void *b)
{
    const lg_finding_t *x = a, *y = b;

    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->rule != y->rule) {
        return x->rule < y->rule ? -1 : 1;
    }
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Start a new generation of the per-rule stamps, clearing them when the
 * counter wraps so that stale stamps never look current. */
static void
next_gen(lg_scratch_t *s)
{
    if (++s->cur_gen == 0) {
        for (uint32_t i = 0; i < s->rules->nrules; i++) {
            s->rs[i].gen = 0;
        }
        s->cur_gen = 1;
    }
}

/* Sort findings by start and merge same-rule overlaps that arrived out of
 * order.  After sorting, a rule's latest output finding has the largest
 * end of its findings so far, so one look at it suffices. */
static size_t
sort_and_merge(lg_scratch_t *s)
{
    lg_finding_t *f = s->findings;
    size_t out = 0;

    qsort(f, s->nfindings, sizeof(*f), lgi_finding_cmp);
    next_gen(s);
    for (size_t i = 0; i < s->nfindings; i++) {
        struct rule_state *st;

        if (f[i].rule == LG_RULE_LEAK) {
            f[out++] = f[i]; /* the detector's spans never overlap */
            continue;
        }
        st = &s->rs[f[i].rule];

        if (st->gen == s->cur_gen && f[i].start <= f[st->last].end) {
            if (f[i].end > f[st->last].end) {
                f[st->last].end = f[i].end;
            }
            f[st->last].views |= f[i].views;
            continue;
        }
        st->gen = s->cur_gen;
        st->last = (uint32_t)out;
        f[out++] = f[i];
    }
    return out;
}

/* The verdict from per-category scores (shared with stream mode). */
void
lgi_policy_verdict(const lg_policy_t *p, const uint32_t *cat_score,
                   uint32_t total, lg_result_t *res)
{
    lg_verdict_t v = LG_VERDICT_ALLOW;

    for (unsigned c = 0; c < LG_CATEGORY_MAX; c++) {
        if (cat_score[c] == 0) {
            continue;
        }
        if (p->block_at[c] != 0 && cat_score[c] >= p->block_at[c]) {
            v = LG_VERDICT_BLOCK;
        } else if (p->flag_at[c] != 0 && cat_score[c] >= p->flag_at[c] &&
                   v < LG_VERDICT_FLAG) {
            v = LG_VERDICT_FLAG;
        }
    }
    if (p->total_block_at != 0 && total >= p->total_block_at) {
        v = LG_VERDICT_BLOCK;
    } else if (p->total_flag_at != 0 && total >= p->total_flag_at &&
               v < LG_VERDICT_FLAG) {
        v = LG_VERDICT_FLAG;
    }
    res->score = total;
    res->would_block = v == LG_VERDICT_BLOCK;
    if (p->detect_only && v == LG_VERDICT_BLOCK) {
        v = LG_VERDICT_FLAG;
    }
    res->verdict = v;
}

static void
apply_policy(lg_scratch_t *s, const lg_policy_t *p, lg_result_t *res)
{
    uint32_t cat_score[LG_CATEGORY_MAX] = {0};
    uint32_t total = 0;
    bool leak_counted = false;

    /* A rule counts once however often it matched. */
    next_gen(s);
    for (size_t i = 0; i < s->nfindings; i++) {
        const lg_finding_t *f = &s->findings[i];

        res->categories |= 1u << f->category;
        if (f->rule == LG_RULE_LEAK) {
            if (leak_counted) {
                continue;
            }
            leak_counted = true;
        } else if (s->rs[f->rule].gen == s->cur_gen) {
            continue;
        } else {
            s->rs[f->rule].gen = s->cur_gen;
        }
        cat_score[f->category] = lgi_sat_add(cat_score[f->category], f->score);
        total = lgi_sat_add(total, f->score);
    }
    lgi_policy_verdict(p, cat_score, total, res);
}

/*
 * One pass of the database over text[0..len), for the rules that have a
 * view in `views`; findings are credited to `found`.  They are left in the
 * text's own offsets; the caller maps them.
 */
static lg_status_t
scan_pass(lg_scratch_t *s, const uint8_t *text, size_t len, uint32_t views,
          uint32_t found)
{
    hs_error_t hrc;

    if (len == 0 || (s->truncated && (s->nmatches > s->limits.max_matches ||
                                      s->nfindings >= s->limits.max_findings))) {
        return LG_OK; /* nothing to match, or the budget is spent */
    }
    next_gen(s);
    s->data = text;
    s->len = len;
    s->pass_views = views;
    s->found_view = found;
    hrc = hs_scan(s->rules->db, (const char *)text, (unsigned int)len, 0,
                  s->hs, on_match, s);
    if (s->error != LG_OK) {
        return s->error;
    }
    if (hrc != HS_SUCCESS && hrc != HS_SCAN_TERMINATED) {
        return LG_E_ENGINE;
    }
    return LG_OK;
}

/* Map findings [from, nfindings) of a pass over view v to the input. */
static void
map_view(lg_scratch_t *s, size_t from, const struct lgi_view *v)
{
    for (size_t i = from; i < s->nfindings; i++) {
        lg_finding_t *f = &s->findings[i];
        size_t os, oe;

        lgi_view_span(v, f->start, f->end, &os, &oe);
        f->start = os;
        f->end = oe;
    }
}

/* Build a view of in[0..len).  A view that would exceed its size bound
 * (a flood of expanding characters) is not built: the scan goes on without
 * it and is marked truncated. */
static lg_status_t
build_view(lg_scratch_t *s, const uint8_t *in, size_t len, uint32_t t,
           struct lgi_view *v, bool *changed)
{
    lg_status_t rc = lgi_normalize(in, len, t, v, changed);

    if (rc == LG_E_LIMIT) {
        s->truncated = 1;
        return LG_OK;
    }
    return rc;
}

/* True when views a and b hold the same text. */
static bool
same_text(const struct lgi_view *a, const struct lgi_view *b)
{
    return a->len == b->len &&
           (a->len == 0 || memcmp(a->text, b->text, a->len) == 0);
}

/*
 * The passes over the normalized and leet views, for the rules and limits
 * that ask for them.  A view equal to the input (or the leet view equal to
 * the normalized one) is not matched again: the pass over the equal text
 * stands for it, which is why the raw pass is made last.
 */
static lg_status_t
scan_views(lg_scratch_t *s, const uint8_t *in, size_t len)
{
    uint32_t want = s->rules->views & s->limits.views;
    uint32_t raw = LG_VIEW_RAW | (LG_VIEW_ALL & ~s->limits.views);
    uint32_t nviews = LG_VIEW_NORMALIZED;
    bool nchg = false, lchg = false;
    lg_status_t rc;
    size_t from;

    /* The leet view first: when it equals the input, so does the
     * normalized view (leet folding only adds changes), and plain text
     * costs one check. */
    if (want & LG_VIEW_LEET) {
        rc = build_view(s, in, len, LGI_NORM_VIEW | LGI_NORM_LEET, &s->leet,
                        &lchg);
        if (rc != LG_OK) {
            return rc;
        }
    }
    if ((want & LG_VIEW_NORMALIZED) && (lchg || !(want & LG_VIEW_LEET))) {
        rc = build_view(s, in, len, LGI_NORM_VIEW, &s->norm, &nchg);
        if (rc != LG_OK) {
            return rc;
        }
    }
    if (!nchg) {
        raw |= LG_VIEW_NORMALIZED;
    }
    if (!lchg) {
        raw |= LG_VIEW_LEET;
    }
    if (lchg && nchg && same_text(&s->norm, &s->leet)) {
        nviews |= LG_VIEW_LEET; /* nothing to fold: one pass for both */
        lchg = false;
    }
    if (lchg) {
        from = s->nfindings;
        rc = scan_pass(s, s->leet.text, s->leet.len, LG_VIEW_LEET,
                       LG_VIEW_LEET);
        if (rc != LG_OK) {
            return rc;
        }
        map_view(s, from, &s->leet);
    }
    if (nchg) {
        from = s->nfindings;
        rc = scan_pass(s, s->norm.text, s->norm.len, nviews,
                       LG_VIEW_NORMALIZED);
        if (rc != LG_OK) {
            return rc;
        }
        map_view(s, from, &s->norm);
    }
    return scan_pass(s, in, len, raw, LG_VIEW_RAW);
}

/* The leak detector's fragments, as findings. */
static lg_status_t
scan_leak(lg_scratch_t *s, const uint8_t *in, size_t len)
{
    size_t room = s->limits.max_findings - s->nfindings, n = 0;
    lg_status_t rc;

    rc = lg_leak_find(s->leak, in, len, s->spans, room, &n);
    if (rc != LG_OK) {
        return rc;
    }
    if (n > room) {
        s->truncated = 1;
        n = room;
    }
    for (size_t i = 0; i < n; i++) {
        s->findings[s->nfindings++] = (lg_finding_t){
            .rule = LG_RULE_LEAK,
            .category = LG_CAT_LEAKAGE,
            .severity = LG_SEVERITY_CRITICAL,
            .score = lgi_severity_score(LG_SEVERITY_CRITICAL),
            .start = s->spans[i].start,
            .end = s->spans[i].end,
            .views = LG_VIEW_RAW,
        };
    }
    return LG_OK;
}

/* A pass over each decoded payload (normalized), its findings spanning the
 * encoded text. */
static lg_status_t
scan_decoded(lg_scratch_t *s, const uint8_t *in, size_t len)
{
    size_t cap = s->limits.max_decode_bytes;
    lg_status_t rc;

    if ((s->rules->views & s->limits.views & LG_VIEW_DECODED) == 0) {
        return LG_OK;
    }
    rc = lgi_decode(in, len, LGI_DEC_ALL, s->limits.max_decode_depth, cap,
                    &s->dec);
    if (rc != LG_OK) {
        return rc;
    }
    if (s->dec.truncated) {
        s->truncated = 1;
    }
    for (size_t i = 0; i < s->dec.n; i++) {
        const struct lgi_payload *p = &s->dec.p[i];
        const uint8_t *text = s->dec.buf + p->off;
        size_t tlen = p->len, from = s->nfindings;
        bool chg;

        rc = build_view(s, text, tlen, LGI_NORM_VIEW, &s->pview, &chg);
        if (rc != LG_OK) {
            return rc;
        }
        if (chg) {
            text = s->pview.text;
            tlen = s->pview.len;
        }
        rc = scan_pass(s, text, tlen, LG_VIEW_DECODED, LG_VIEW_DECODED);
        if (rc != LG_OK) {
            return rc;
        }
        for (size_t k = from; k < s->nfindings; k++) {
            s->findings[k].start = p->src_start;
            s->findings[k].end = p->src_end;
        }
    }
    return LG_OK;
}

lg_status_t
lg_scan(lg_scratch_t *s, const void *data, size_t len, uint32_t dir,
        const lg_policy_t *policy, lg_result_t *out)
{
    lg_policy_t defaults;
    const uint8_t *in = data;
    lg_status_t rc = LG_OK;
    size_t bad;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    if (s == NULL || out == NULL || (data == NULL && len > 0) || dir == 0 ||
        (dir & ~LG_DIR_BOTH) != 0) {
        return LG_E_INVAL;
    }
    if (len > s->limits.max_input || len > UINT_MAX) {
        return LG_E_LIMIT;
    }
    if (policy == NULL) {
        lg_policy_init(&defaults);
        policy = &defaults;
    }
    if (policy->paranoia > LG_PARANOIA_MAX) {
        return LG_E_INVAL;
    }
    if (atomic_flag_test_and_set_explicit(&s->busy, memory_order_acquire)) {
        return LG_E_SCRATCH_IN_USE;
    }
    s->paranoia = policy->paranoia > 0 ? policy->paranoia : 1;
    s->nfindings = 0;
    s->nmatches = 0;
    s->nconfirms = 0;
    s->over_budget = false;
    s->t0_ns = now_ns();
    s->truncated = 0;
    s->error = LG_OK;
    s->dir = dir;
    if (len > 0 && s->rules->db != NULL) {
        bad = s->rules->utf8 ? utf8_first_invalid(in, len) : len;
        if (bad < len) {
            rc = sanitize(s, in, len, bad);
            if (rc != LG_OK) {
                goto out;
            }
            in = s->buf;
        }
        rc = scan_views(s, in, len);
        if (rc == LG_OK) {
            rc = scan_decoded(s, in, len);
        }
        if (rc != LG_OK) {
            goto out;
        }
    }
    if (s->leak != NULL && (dir & LG_DIR_COMPLETION) && len > 0) {
        rc = scan_leak(s, data, len);
        if (rc != LG_OK) {
            goto out;
        }
    }
    s->nfindings = sort_and_merge(s);
    apply_policy(s, policy, out);
    out->truncated = s->truncated;
    out->nfindings = s->nfindings;
    out->findings = s->nfindings > 0 ? s->findings : NULL;
out:
    s->data = NULL;
    atomic_flag_clear_explicit(&s->busy, memory_order_release);
    return rc;
}
