/*
 * Stream mode.  A stream keeps the text fed so far and the findings seen
 * in it.  Once enough bytes are pending it scans a window, the pending
 * bytes and the last stream_window bytes already scanned, as a block, and
 * merges the window's findings (shifted to stream offsets) into its own.
 * Closing scans the whole text as one block and takes that result, so the
 * final findings never depend on how the text was cut.
 *
 * Windows start after a whitespace byte where they can, so that a window
 * does not begin inside a word ("skill" read from "kill"), and end after
 * one, holding back an unfinished last word until it is complete.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/lg_internal.h"

struct lg_stream {
    lg_rules_t *rules;       /* retained */
    uint32_t dir;
    lg_policy_t policy;
    uint8_t *text;
    size_t len;
    size_t cap;
    size_t scanned;          /* bytes [0, scanned) have been in a window */
    lg_finding_t *f;         /* findings so far, sorted by start, rule */
    size_t nf;
    size_t fcap;
    uint32_t truncated;
    bool closed;
    lg_result_t res;         /* the verdict over f, kept between scans */
};

static bool
is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

lg_status_t
lg_stream_new(lg_rules_t *r, uint32_t dir, const lg_policy_t *policy,
              lg_stream_t **out)
{
    lg_stream_t *st;

    if (out != NULL) {
        *out = NULL;
    }
    if (r == NULL || out == NULL || dir == 0 || (dir & ~LG_DIR_BOTH) != 0 ||
        (policy != NULL && policy->paranoia > LG_PARANOIA_MAX)) {
        return LG_E_INVAL;
    }
    st = lgi_calloc(1, sizeof(*st));
    if (st == NULL) {
        return LG_E_NOMEM;
    }
    st->rules = lg_rules_retain(r);
    st->dir = dir;
    if (policy != NULL) {
        st->policy = *policy;
    } else {
        lg_policy_init(&st->policy);
    }
    *out = st;
    return LG_OK;
}

void
lg_stream_free(lg_stream_t *st)
{
    if (st == NULL) {
        return;
    }
    lgi_free(st->text);
    lgi_free(st->f);
    lg_rules_free(st->rules);
    lgi_free(st);
}

void
lg_stream_reset(lg_stream_t *st)
{
    if (st == NULL) {
        return;
    }
    st->len = 0;
    st->scanned = 0;
    st->nf = 0;
    st->truncated = 0;
    st->closed = false;
    memset(&st->res, 0, sizeof(st->res));
}

size_t
lg_stream_length(const lg_stream_t *st)
{
    return st == NULL ? 0 : st->len;
}

size_t
lg_stream_scanned(const lg_stream_t *st)
{
    return st == NULL ? 0 : st->scanned;
}

static lg_status_t
check_args(lg_stream_t *st, lg_scratch_t *s, lg_result_t *out)
{
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    if (st == NULL || s == NULL || out == NULL || st->closed ||
        lg_scratch_rules(s) != st->rules) {
        return LG_E_INVAL;
    }
    return LG_OK;
}

/* Make room for n findings. */
static lg_status_t
reserve_findings(lg_stream_t *st, size_t n)
{
    lg_finding_t *f;
    size_t cap;

    if (n <= st->fcap) {
        return LG_OK;
    }
    cap = st->fcap > 0 ? st->fcap : 16;
    while (cap < n) {
        cap *= 2;
    }
    f = lgi_realloc(st->f, cap * sizeof(*f));
    if (f == NULL) {
        return LG_E_NOMEM;
    }
    st->f = f;
    st->fcap = cap;
    return LG_OK;
}

static int
by_rule_start(const void *a, const void *b)
{
    const lg_finding_t *x = a, *y = b;

    if (x->rule != y->rule) {
        return x->rule < y->rule ? -1 : 1;
    }
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Merge same-rule findings that overlap or touch (as a block scan does),
 * keep at most max of them, and score them (a rule counts once) into
 * st->res, which feeds give back until the findings change again. */
static void
settle(lg_stream_t *st, size_t max)
{
    uint32_t cat_score[LG_CATEGORY_MAX] = {0};
    uint32_t total = 0;
    size_t n = 0;
    lg_result_t *out = &st->res;

    memset(out, 0, sizeof(*out));
    if (st->nf > 1) {
        qsort(st->f, st->nf, sizeof(*st->f), by_rule_start);
    }
    for (size_t i = 0; i < st->nf; i++) {
        lg_finding_t *f = &st->f[i];

        if (n > 0 && st->f[n - 1].rule == f->rule &&
            f->start <= st->f[n - 1].end) {
            if (f->end > st->f[n - 1].end) {
                st->f[n - 1].end = f->end;
            }
            st->f[n - 1].views |= f->views;
            continue;
        }
        if (n == 0 || st->f[n - 1].rule != f->rule) {
            /* a rule counts once however often it matched */
            cat_score[f->category] = lgi_sat_add(cat_score[f->category],
                                             f->score);
            total = lgi_sat_add(total, f->score);
            out->categories |= 1u << f->category;
        }
        st->f[n++] = *f;
    }
    if (n > 1) {
        qsort(st->f, n, sizeof(*st->f), lgi_finding_cmp);
    }
    if (n > max) {
        n = max;
        st->truncated = 1;
    }
    st->nf = n;
    lgi_policy_verdict(&st->policy, cat_score, total, out);
    out->truncated = st->truncated;
    out->nfindings = st->nf;
    out->findings = st->nf > 0 ? st->f : NULL;
}

/* A byte that may be part of a word: a letter or digit, '_', or any byte
 * of a multibyte UTF-8 sequence. */
static bool
is_word(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* True when position i of the text falls inside a word. */
static bool
mid_word(const lg_stream_t *st, size_t i)
{
    return i > 0 && i < st->len && is_word(st->text[i - 1]) &&
           is_word(st->text[i]);
}

/* Where the window may end: after the last whitespace byte among the
 * pending ones, else at the last word's start, unless that holds back more
 * than LGI_STREAM_HOLD bytes; otherwise (and with `all`) at the end, but
 * not inside an incomplete UTF-8 sequence. */
#define LGI_STREAM_HOLD 64

static size_t
window_end(const lg_stream_t *st, bool all)
{
    size_t end = st->len;

    if (!all) {
        size_t lo = st->len - st->scanned > LGI_STREAM_HOLD
                        ? st->len - LGI_STREAM_HOLD
                        : st->scanned;

        for (size_t i = st->len; i > lo; i--) {
            if (is_space(st->text[i - 1])) {
                return i;
            }
        }
        for (size_t i = st->len; i > lo; i--) {
            if (!is_word(st->text[i - 1])) {
                return i;
            }
        }
    }
    /* back over at most three continuation bytes to a lead byte whose
     * sequence the text does not yet complete */
    for (size_t k = 1; k <= 4 && k <= st->len - st->scanned; k++) {
        uint8_t c = st->text[st->len - k];
        size_t need;

        if ((c & 0xc0) == 0x80) {
            continue;
        }
        need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (!all && need > k) {
            end = st->len - k;
        }
        break;
    }
    return end;
}

/* Where the window starts: `window` bytes before the scanned end, moved
 * forward past the next whitespace byte, or else to the next word start,
 * if there is one before the scanned end. */
static size_t
window_start(const lg_stream_t *st, size_t window)
{
    size_t ws;

    if (st->scanned <= window) {
        return 0;
    }
    ws = st->scanned - window;
    for (size_t i = ws; i < st->scanned; i++) {
        if (is_space(st->text[i])) {
            return i + 1;
        }
    }
    for (size_t i = ws; i < st->scanned; i++) {
        if (!mid_word(st, i)) {
            return i;
        }
    }
    while (ws < st->scanned && (st->text[ws] & 0xc0) == 0x80) {
        ws++;
    }
    return ws;
}

/* Scan the pending bytes (all of them with `all`) in a window.  A finding
 * that starts at a window start inside a word, or ends at a window end
 * inside one, may be an artefact of the cut ("pass" of "bypass" or of
 * "password"): it is left for a later window or the final scan. */
static lg_status_t
scan_window(lg_stream_t *st, lg_scratch_t *s, bool all)
{
    const lg_limits_t *l = lgi_scratch_limits(s);
    size_t we = window_end(st, all);
    size_t ws = window_start(st, l->stream_window);
    bool cut_start = mid_word(st, ws);
    bool cut_end = !all && we > 0 && is_word(st->text[we - 1]) &&
                   (we == st->len || is_word(st->text[we]));
    lg_result_t res;
    lg_status_t rc;

    if (we <= st->scanned) {
        return LG_OK;
    }
    rc = lg_scan(s, st->text + ws, we - ws, st->dir, &st->policy, &res);
    if (rc != LG_OK) {
        return rc;
    }
    rc = reserve_findings(st, st->nf + res.nfindings);
    if (rc != LG_OK) {
        return rc;
    }
    for (size_t i = 0; i < res.nfindings; i++) {
        lg_finding_t f = res.findings[i];

        if ((cut_start && f.start == 0) || (cut_end && f.end == we - ws)) {
            continue;
        }
        f.start += ws;
        f.end += ws;
        st->f[st->nf++] = f;
    }
    st->truncated |= res.truncated;
    st->scanned = we;
    return LG_OK;
}

static lg_status_t
feed(lg_stream_t *st, lg_scratch_t *s, const void *data, size_t len,
     bool all, lg_result_t *out)
{
    const lg_limits_t *l;
    size_t old_len, old_scanned, old_nf, need;
    uint32_t old_trunc;
    lg_status_t rc;

    rc = check_args(st, s, out);
    if (rc != LG_OK) {
        return rc;
    }
    if (data == NULL && len > 0) {
        return LG_E_INVAL;
    }
    l = lgi_scratch_limits(s);
    if (lgi_add_overflow(st->len, len, &need) || need > l->max_input) {
        return LG_E_LIMIT;
    }
    if (need > st->cap) {
        size_t cap = st->cap > 0 ? st->cap : 4096;
        uint8_t *t;

        while (cap < need) {
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        }
        t = lgi_realloc(st->text, cap);
        if (t == NULL) {
            return LG_E_NOMEM;
        }
        st->text = t;
        st->cap = cap;
    }
    old_len = st->len;
    old_scanned = st->scanned;
    old_nf = st->nf;
    old_trunc = st->truncated;
    if (len > 0) {
        memcpy(st->text + st->len, data, len);
    }
    st->len = need;
    if (all || st->len - st->scanned >= l->stream_step) {
        rc = scan_window(st, s, all);
        if (rc != LG_OK) {
            st->len = old_len;
            st->scanned = old_scanned;
            st->nf = old_nf;
            st->truncated = old_trunc;
            return rc;
        }
        /* the findings are kept merged: only new ones need settling */
        if (st->nf != old_nf || st->truncated != old_trunc) {
            settle(st, l->max_findings);
        }
    }
    st->res.findings = st->nf > 0 ? st->f : NULL; /* f may have moved */
    *out = st->res;
    return LG_OK;
}

lg_status_t
lg_stream_feed(lg_stream_t *st, lg_scratch_t *s, const void *data,
               size_t len, lg_result_t *out)
{
    return feed(st, s, data, len, false, out);
}

lg_status_t
lg_stream_flush(lg_stream_t *st, lg_scratch_t *s, lg_result_t *out)
{
    return feed(st, s, NULL, 0, true, out);
}

lg_status_t
lg_stream_close(lg_stream_t *st, lg_scratch_t *s, lg_result_t *out)
{
    lg_result_t res;
    lg_status_t rc;

    rc = check_args(st, s, out);
    if (rc != LG_OK) {
        return rc;
    }
    rc = lg_scan(s, st->text, st->len, st->dir, &st->policy, &res);
    if (rc == LG_OK) {
        rc = reserve_findings(st, res.nfindings);
    }
    if (rc != LG_OK) {
        return rc;
    }
    if (res.nfindings > 0) {
        memcpy(st->f, res.findings, res.nfindings * sizeof(*st->f));
    }
    st->nf = res.nfindings;
    st->truncated = res.truncated;
    st->scanned = st->len;
    st->closed = true;
    st->res = res;
    st->res.findings = st->nf > 0 ? st->f : NULL;
    *out = st->res;
    return LG_OK;
}
