/*
 * Fuzz target: the normalizer and the payload decoder behind the scan
 * views (libguard/text/normalize.c, decode.c; internal/lg_text.h).
 *
 * Input layout: byte 0 and byte 1 are options, the rest is the text.
 *   byte 0: bits 0-5 the LGI_NORM_* transforms; bit 6 a small decode cap
 *           (40 bytes, else SIZE_MAX); bit 7 also normalize each decoded
 *           payload with the same transforms, as lg_scan does.
 *   byte 1: bits 0-4 the LGI_DEC_* kinds; bits 5-7 max_depth - 1.
 * Shorter inputs use all transforms and all kinds, depth 2.
 *
 * Each call is made twice with the same struct, with a call on other data
 * in between, and must give the same result (buffers are reused across
 * calls).  The ASCII fast path is compared with the full path.  The checks are the promises of lg_text.h plus the offset-map
 * invariant test_normalize.c asserts; a broken one traps (fuzz_check.h).
 */
#include "fuzz_check.h"

#include "../libguard/internal/lg_text.h"

#define PAYLOAD_VIEWS_MAX 64u /* payloads normalized per input, at most */

/* Length of the strict UTF-8 sequence at p (RFC 3629), 0 if invalid. */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t b = p[0];
    size_t k = b < 0x80                 ? 1
               : b >= 0xc2 && b <= 0xdf ? 2
               : b >= 0xe0 && b <= 0xef ? 3
               : b >= 0xf0 && b <= 0xf4 ? 4
                                        : 0;

    if (k == 0 || k > n) {
        return 0;
    }
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    if ((b == 0xe0 && p[1] < 0xa0) || (b == 0xed && p[1] > 0x9f) ||
        (b == 0xf0 && p[1] < 0x90) || (b == 0xf4 && p[1] > 0x8f)) {
        return 0;
    }
    return k;
}

static bool
valid_utf8(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);

        if (k == 0) {
            return false;
        }
        i += k;
    }
    return true;
}

static int
leet_or_self(int c)
{
    switch (c) {
    case '0': return 'o';
    case '1': return 'i';
    case '3': return 'e';
    case '4': return 'a';
    case '5': return 's';
    case '7': return 't';
    case '8': return 'b';
    case '@': return 'a';
    case '$': return 's';
    case '!': return 'i';
    case '|': return 'l';
    default: return c;
    }
}

/* A view copied out of its struct, to compare with a later call. */
struct view_copy {
    lg_status_t rc;
    bool changed;
    size_t len;
    uint8_t *text;
    uint32_t *ss, *se;
};

static void
view_keep(const struct lgi_view *v, lg_status_t rc, bool changed,
          struct view_copy *c)
{
    c->rc = rc;
    c->changed = changed;
    c->len = v->len;
    c->text = fz_xmalloc(v->len);
    c->ss = fz_xmalloc(v->len * sizeof(uint32_t));
    c->se = fz_xmalloc(v->len * sizeof(uint32_t));
    if (v->len > 0) {
        memcpy(c->text, v->text, v->len);
        memcpy(c->ss, v->src_start, v->len * sizeof(uint32_t));
        memcpy(c->se, v->src_end, v->len * sizeof(uint32_t));
    }
}

static void
view_same(const struct view_copy *c, const struct lgi_view *v, lg_status_t rc,
          bool changed)
{
    FZ_CHECK(rc == c->rc);
    FZ_CHECK(changed == c->changed);
    FZ_CHECK(v->len == c->len);
    if (c->len > 0) {
        FZ_CHECK(memcmp(v->text, c->text, c->len) == 0);
        FZ_CHECK(memcmp(v->src_start, c->ss, c->len * sizeof(uint32_t)) == 0);
        FZ_CHECK(memcmp(v->src_end, c->se, c->len * sizeof(uint32_t)) == 0);
    }
    free(c->text);
    free(c->ss);
    free(c->se);
}

/*
 * With no transform the view is the input with every byte that starts no
 * valid sequence replaced by U+FFFD mapped to that byte; each valid
 * sequence maps to itself.
 */
static void
check_repair_only(const uint8_t *in, size_t len, const struct lgi_view *v,
                  bool changed)
{
    size_t o = 0;

    if (!changed) {
        FZ_CHECK(valid_utf8(in, len));
        return;
    }
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(in + i, len - i);
        const uint8_t *want = in + i;

        if (k == 0) {
            want = (const uint8_t *)"\xef\xbf\xbd";
        }
        FZ_CHECK(o + (k == 0 ? 3 : k) <= v->len);
        FZ_CHECK(memcmp(v->text + o, want, k == 0 ? 3 : k) == 0);
        for (size_t j = 0; j < (k == 0 ? 3 : k); j++, o++) {
            FZ_CHECK(v->src_start[o] == i);
            FZ_CHECK(v->src_end[o] == i + (k == 0 ? 1 : k));
        }
        i += k == 0 ? 1 : k;
    }
    FZ_CHECK(o == v->len);
}

/*
 * What lgi_normalize promises about one call, and the offset map's
 * invariant: valid UTF-8; per byte src_start < src_end <= len; both maps
 * non-decreasing; the bytes of one code point share a span; spans of
 * successive code points are equal or disjoint; a view byte from one ASCII
 * source byte is that byte, lowercased, leet-mapped or a space; at most
 * 4 * len + 64 code points.
 */
static void
check_view(const uint8_t *in, size_t len, uint32_t t,
           const struct lgi_view *v, lg_status_t rc, bool changed)
{
    size_t cps = 0;

    /* No allocation fails here and the ICU data is built in: LG_E_LIMIT is
     * the one error, and only NFKC expands enough to reach it (UTF-8
     * repair and the other transforms give at most 2 code points a byte). */
    FZ_CHECK(rc == LG_OK || rc == LG_E_LIMIT);
    if (rc != LG_OK) {
        FZ_CHECK((t & LGI_NORM_NFKC_CF) != 0);
        FZ_CHECK(v->len == 0 && !changed);
        return;
    }
    if (!changed) {
        FZ_CHECK(v->len == 0);
        return;
    }
    FZ_CHECK(v->len != len || (len > 0 && memcmp(v->text, in, len) != 0));
    FZ_CHECK(v->len == 0 || (v->text != NULL && v->src_start != NULL &&
                             v->src_end != NULL));
    for (size_t i = 0; i < v->len;) {
        size_t k = utf8_seq(v->text + i, v->len - i);

        FZ_CHECK(k > 0);
        for (size_t j = 1; j < k; j++) {
            FZ_CHECK(v->src_start[i + j] == v->src_start[i]);
            FZ_CHECK(v->src_end[i + j] == v->src_end[i]);
        }
        if (i > 0 && v->src_start[i - 1] != v->src_start[i]) {
            FZ_CHECK(v->src_end[i - 1] <= v->src_start[i]);
        }
        cps++;
        i += k;
    }
    FZ_CHECK(cps <= 4 * len + 64);
    FZ_CHECK(v->len <= 4 * cps);
    for (size_t i = 0; i < v->len; i++) {
        uint32_t s = v->src_start[i], e = v->src_end[i];

        FZ_CHECK(s < e);
        FZ_CHECK(e <= len);
        if (i > 0) {
            FZ_CHECK(v->src_start[i - 1] <= s);
            FZ_CHECK(v->src_end[i - 1] <= e);
        }
        if (v->text[i] < 0x80 && e - s == 1 && in[s] < 0x80) {
            int src = in[s], out = v->text[i];
            int low = (src >= 'A' && src <= 'Z') ? src + 32 : src;

            FZ_CHECK(out == src || out == leet_or_self(src) ||
                     ((t & LGI_NORM_NFKC_CF) && out == low) ||
                     ((t & LGI_NORM_SPACING) && out == ' ' &&
                      (src == ' ' || (src >= 9 && src <= 13))));
            FZ_CHECK(out == src || (t & (LGI_NORM_NFKC_CF | LGI_NORM_LEET |
                                         LGI_NORM_SPACING)));
        }
    }
    if (t == 0) {
        check_repair_only(in, len, v, changed);
    }
}

/*
 * Without the context-dependent LEET, SPACING and CONFUSABLE (word by
 * word), each run of view bytes
 * sharing a span is that span normalized alone (test_normalize.c asserts
 * the same), so a match maps back to the bytes that made it.  `alone` is
 * reused for every span.
 */
static void
check_alone(const uint8_t *in, uint32_t t, const struct lgi_view *v,
            struct lgi_view *alone)
{
    for (size_t i = 0; i < v->len;) {
        size_t j = i;
        uint32_t s = v->src_start[i], e = v->src_end[i];
        lg_status_t rc;
        bool ch;

        while (j < v->len && v->src_start[j] == s) {
            j++;
        }
        rc = lgi_normalize(in + s, e - s, t, alone, &ch);
        check_view(in + s, e - s, t, alone, rc, ch);
        FZ_CHECK(rc == LG_OK);
        if (ch) {
            FZ_CHECK(alone->len == j - i);
            FZ_CHECK(memcmp(alone->text, v->text + i, j - i) == 0);
        } else {
            FZ_CHECK(e - s == j - i);
            FZ_CHECK(memcmp(in + s, v->text + i, j - i) == 0);
        }
        i = j;
    }
}

/*
 * The ASCII fast path against the full one: a character that TAGS or
 * INVISIBLE drops while decoding (U+E0001, U+00AD) appended to the input
 * sends it down the full path without changing the units any later stage
 * sees, so that view must be the input's view, or the input itself where
 * lgi_normalize reported it unchanged.
 */
static void
check_full_path(const uint8_t *in, size_t len, uint32_t t,
                const struct view_copy *first, struct lgi_view *v)
{
    const char *tail = (t & LGI_NORM_TAGS) ? "\xf3\xa0\x80\x81"
                       : (t & LGI_NORM_INVISIBLE) ? "\xc2\xad"
                                                  : NULL;
    size_t tl = tail != NULL ? strlen(tail) : 0;
    uint8_t *buf;
    lg_status_t rc;
    bool changed;

    if (tail == NULL || first->rc != LG_OK) {
        return;
    }
    buf = fz_xmalloc(len + tl);
    if (len > 0) {
        memcpy(buf, in, len);
    }
    memcpy(buf + len, tail, tl);
    rc = lgi_normalize(buf, len + tl, t, v, &changed);
    check_view(buf, len + tl, t, v, rc, changed);
    if (rc == LG_OK) {
        FZ_CHECK(changed);
        if (first->changed) {
            FZ_CHECK(v->len == first->len);
            FZ_CHECK(first->len == 0 ||
                     (memcmp(v->text, first->text, first->len) == 0 &&
                      memcmp(v->src_start, first->ss,
                             first->len * sizeof(uint32_t)) == 0 &&
                      memcmp(v->src_end, first->se,
                             first->len * sizeof(uint32_t)) == 0));
        } else {
            FZ_CHECK(v->len == len &&
                     (len == 0 || memcmp(v->text, in, len) == 0));
        }
    }
    free(buf);
}

/* Normalize, check, dirty the buffers with other data, again: same. */
static void
normalize_twice(const uint8_t *in, size_t len, uint32_t t, struct lgi_view *v,
                struct lgi_view *alone)
{
    struct view_copy first;
    lg_status_t rc;
    bool changed = true;

    rc = lgi_normalize(in, len, t, v, &changed);
    check_view(in, len, t, v, rc, changed);
    view_keep(v, rc, changed, &first);

    /* Other data through the same struct: the first half, every transform. */
    rc = lgi_normalize(in, len / 2, LGI_NORM_ALL, v, &changed);
    check_view(in, len / 2, LGI_NORM_ALL, v, rc, changed);

    check_full_path(in, len, t, &first, v);

    changed = !first.changed;
    rc = lgi_normalize(in, len, t, v, &changed);
    view_same(&first, v, rc, changed);
    if (rc == LG_OK && changed &&
        (t & (LGI_NORM_LEET | LGI_NORM_SPACING | LGI_NORM_CONFUSABLE)) == 0) {
        check_alone(in, t, v, alone);
    }
}

/* Strict UTF-8 without control bytes but tab, LF and CR, with a letter. */
static bool
is_text(const uint8_t *p, size_t n)
{
    bool letter = false;

    if (!valid_utf8(p, n)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') ||
            p[i] == 0x7f) {
            return false;
        }
        letter = letter || p[i] >= 0x80 ||
                 ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z');
    }
    return letter;
}

static bool
is_b64c(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' ||
           c == '_' || c == '=';
}

static bool
is_hexc(uint8_t c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * What lgi_decode promises: payloads inside the buffer, spans inside the
 * input, depths in range and breadth-first, each deeper payload under a
 * parent of the same span, one requested kind each, UTF-8 text with a
 * letter, the total under min(cap, 3 * len); a depth-1 span is the encoded
 * text, made of its encoding's characters and longer than what it decodes
 * to.
 */
static void
check_decoded(const uint8_t *in, size_t len, uint32_t kinds,
              unsigned max_depth, size_t cap, const struct lgi_decoded *d,
              lg_status_t rc)
{
    size_t total = 0, parent = 0;

    FZ_CHECK(rc == LG_OK);
    FZ_CHECK(d->buflen <= d->bufcap);
    FZ_CHECK(d->n == 0 || d->p != NULL);
    if (kinds == 0) {
        FZ_CHECK(d->n == 0);
    }
    for (size_t k = 0; k < d->n; k++) {
        const struct lgi_payload *p = &d->p[k];

        FZ_CHECK(p->off <= d->buflen && p->len <= d->buflen - p->off);
        FZ_CHECK(p->len > 0);
        FZ_CHECK(p->src_start < p->src_end && p->src_end <= len);
        FZ_CHECK(p->depth >= 1 && p->depth <= max_depth);
        FZ_CHECK(k == 0 || d->p[k - 1].depth <= p->depth);
        FZ_CHECK(p->kind == LGI_DEC_BASE64 || p->kind == LGI_DEC_HEX ||
                 p->kind == LGI_DEC_URL || p->kind == LGI_DEC_HTML ||
                 p->kind == LGI_DEC_BYTES);
        FZ_CHECK((p->kind & kinds) != 0);
        FZ_CHECK(is_text(d->buf + p->off, p->len));
        total += p->len;
        if (p->depth == 1) {
            const uint8_t *s = in + p->src_start;
            size_t n = p->src_end - p->src_start;

            FZ_CHECK(p->len < n);
            if (p->kind == LGI_DEC_BASE64) {
                for (size_t i = 0; i < n; i++) {
                    FZ_CHECK(is_b64c(s[i]));
                }
            } else if (p->kind == LGI_DEC_HEX) {
                for (size_t i = 0; i < n; i++) {
                    FZ_CHECK(is_hexc(s[i]));
                }
            } else if (p->kind == LGI_DEC_BYTES) {
                /* at least two characters a value, ending in a digit */
                FZ_CHECK(p->len >= 8 && 2 * p->len <= n);
                FZ_CHECK(is_hexc(s[n - 1]));
                for (size_t i = 0; i < n; i++) {
                    FZ_CHECK(is_hexc(s[i]) ||
                             memchr("xX\\,:- \t\n\v\f\r", s[i], 12) != NULL);
                }
            } else if (p->kind == LGI_DEC_URL) {
                FZ_CHECK(s[0] == '%' && n >= 6 && s[n - 3] == '%');
            } else {
                FZ_CHECK(s[0] == '&' && n >= 8 && s[n - 1] == ';');
            }
            continue;
        }
        /* Children follow their parents in order, so one walk finds them. */
        while (parent < k &&
               !(d->p[parent].depth + 1 == p->depth &&
                 d->p[parent].src_start == p->src_start &&
                 d->p[parent].src_end == p->src_end)) {
            parent++;
        }
        FZ_CHECK(parent < k);
    }
    /* Under the cap, and under 3 * len (a chain of base64 layers decodes
     * to 3/4 + 9/16 + ... of its input). */
    FZ_CHECK(total <= cap && total <= 3 * len);
}

struct dec_copy {
    size_t n, buflen;
    bool truncated;
    struct lgi_payload *p;
    uint8_t *buf;
};

static void
decode_twice(const uint8_t *in, size_t len, uint32_t kinds, unsigned depth,
             size_t cap, struct lgi_decoded *d)
{
    struct dec_copy c;
    lg_status_t rc;

    rc = lgi_decode(in, len, kinds, depth, cap, d);
    check_decoded(in, len, kinds, depth, cap, d, rc);
    c.n = d->n;
    c.buflen = d->buflen;
    c.truncated = d->truncated;
    c.p = fz_xmalloc(d->n * sizeof(*c.p));
    c.buf = fz_xmalloc(d->buflen);
    if (d->n > 0) {
        memcpy(c.p, d->p, d->n * sizeof(*c.p));
        memcpy(c.buf, d->buf, d->buflen);
    }

    rc = lgi_decode(in + len / 2, len - len / 2, LGI_DEC_ALL, 8, SIZE_MAX, d);
    check_decoded(in + len / 2, len - len / 2, LGI_DEC_ALL, 8, SIZE_MAX, d,
                  rc);

    rc = lgi_decode(in, len, kinds, depth, cap, d);
    FZ_CHECK(rc == LG_OK);
    FZ_CHECK(d->n == c.n && d->buflen == c.buflen &&
             d->truncated == c.truncated);
    for (size_t k = 0; k < c.n; k++) {
        const struct lgi_payload *p = &d->p[k], *q = &c.p[k];

        FZ_CHECK(p->off == q->off && p->len == q->len &&
                 p->src_start == q->src_start && p->src_end == q->src_end &&
                 p->kind == q->kind && p->depth == q->depth);
        FZ_CHECK(memcmp(d->buf + p->off, c.buf + q->off, p->len) == 0);
    }
    free(c.p);
    free(c.buf);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t t = LGI_NORM_ALL, kinds = LGI_DEC_ALL;
    unsigned depth = 2;
    size_t cap = SIZE_MAX;
    bool payload_views = false;
    struct lgi_view v = {0}, alone = {0};
    struct lgi_decoded d = {0};
    lg_status_t rc;
    bool changed;

    if (size >= 2) {
        t = data[0] & LGI_NORM_ALL;
        cap = (data[0] & 0x40) ? 40 : SIZE_MAX;
        payload_views = (data[0] & 0x80) != 0;
        kinds = data[1] & LGI_DEC_ALL;
        depth = ((data[1] >> 5) & 7u) + 1u;
        data += 2;
        size -= 2;
    }

    normalize_twice(data, size, t, &v, &alone);
    decode_twice(data, size, kinds, depth, cap, &d);
    for (size_t k = 0; payload_views && k < d.n && k < PAYLOAD_VIEWS_MAX;
         k++) {
        const uint8_t *p = d.buf + d.p[k].off;

        rc = lgi_normalize(p, d.p[k].len, t, &v, &changed);
        check_view(p, d.p[k].len, t, &v, rc, changed);
    }

    /* Bad arguments are refused and leave the outputs empty. */
    rc = lgi_normalize(data, size, LGI_NORM_ALL + 1u, &v, &changed);
    FZ_CHECK(rc == LG_E_INVAL && v.len == 0 && !changed);
    rc = lgi_decode(data, size, LGI_DEC_ALL, 9, SIZE_MAX, &d);
    FZ_CHECK(rc == LG_E_INVAL && d.n == 0);

    lgi_view_free(&v);
    lgi_view_free(&alone);
    lgi_decoded_free(&d);
    return 0;
}
