/*
 * Normalized views for evasion-resistant scanning (see internal/lg_text.h).
 *
 * The input is decoded once into an array of units {code point, source
 * span}; every stage maps a unit array to a unit array, giving each output
 * unit the union of the spans it was made from, and the last step encodes
 * UTF-8 with a per-byte map.  Spans stay ordered and disjoint, so the map is
 * non-decreasing and a view match maps to one contiguous input range.
 *
 * Budgets: NFKC works on segments of at most LGI_SEG_MAX code points (a
 * megabyte of combining marks costs linear time), and the view is capped at
 * 4 * len + 64 code points (U+FDFA alone expands eighteenfold).
 */
#include <string.h>

#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <utf8proc.h>

#include "internal/lg_text.h"

#define LGI_SEG_MAX 32u
#define SKEL_SLOTS 1024u
#define SKEL_MAX 4u

/* Direct-mapped cache of confusable skeletons: uspoof_getSkeleton costs a
 * microsecond or so per call, and text repeats its characters. */
struct lgi_skel {
    uint32_t cp[SKEL_SLOTS]; /* UINT32_MAX: empty slot */
    uint8_t len[SKEL_SLOTS]; /* 0: no ASCII skeleton, keep the char */
    uint8_t own[SKEL_SLOTS]; /* the small letter has one of its own */
    char s[SKEL_SLOTS][SKEL_MAX];
};

static bool
is_alpha(uint32_t c)
{
    return (c | 0x20u) >= 'a' && (c | 0x20u) <= 'z';
}

static bool
is_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

/* Letters and digits of any script: what a spaced-out word must not touch. */
static bool
is_word(uint32_t c)
{
    if (c < 0x80) {
        return is_alpha(c) || is_digit(c);
    }
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);

    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

static bool
is_ws(uint32_t c)
{
    if (c < 0x80) {
        return c == ' ' || (c >= 0x09 && c <= 0x0d);
    }
    return c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Runs of ASCII whitespace up to this long are kept as written (patterns
 * allow \s{1,8}); longer runs, and runs holding other spaces, become one
 * space. */
#define LGI_WS_KEEP 8u

/* Spaced-out runs holding a letter that is not ASCII need this many
 * letters: Korean writes many one-syllable words ("그 책 좀 줘"), and a
 * spaced-out sentence is longer. */
#define LGI_SPACED_WIDE 8u

/* Separators of spaced-out letters besides whitespace. */
static bool
is_sepc(uint32_t c)
{
    return c == '.' || c == '-' || c == '_' || c == '*';
}

/* Letter a leet character stands for, or 0. */
static uint32_t
leet_of(uint32_t c)
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
    default: return 0;
    }
}

/* Leet characters that end a sentence or a price rather than a word. */
static bool
leet_trailing_ok(uint32_t c)
{
    return c == '@' || c == '$' || c == '!' || c == '|';
}

static bool
is_invisible(uint32_t c)
{
    if (c < 0xad) {
        return false;
    }
    if (c == 0xad || c == 0x34f || c == 0x61c || c == 0x115f || c == 0x1160 ||
        c == 0x17b4 || c == 0x17b5 || (c >= 0x180b && c <= 0x180f) ||
        (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2060 && c <= 0x206f) || c == 0x3164 ||
        (c >= 0xfe00 && c <= 0xfe0f) || c == 0xfeff || c == 0xffa0 ||
        (c >= 0xfff0 && c <= 0xfff8) || (c >= 0x1bca0 && c <= 0x1bca3) ||
        (c >= 0xe0000 && c <= 0xe0fff)) {
        return true;
    }
    if (c >= 0xac00 && c <= 0xd7a3) {
        return false;
    }
    return utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_CF;
}

/* Strict RFC 3629 decoding: returns the sequence length, or 0 if the byte
 * at p starts no valid sequence (overlong, surrogate, > U+10FFFF,
 * truncated, stray continuation). */
static size_t
utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t b = p[0];
    uint8_t lo = 0x80, hi = 0xbf;
    size_t need;
    uint32_t c;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
        c = b & 0x1fu;
    } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        c = b & 0x0fu;
        lo = b == 0xe0 ? 0xa0 : 0x80;
        hi = b == 0xed ? 0x9f : 0xbf;
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        c = b & 0x07u;
        lo = b == 0xf0 ? 0x90 : 0x80;
        hi = b == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n <= need || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 1; i <= need; i++) {
        if ((p[i] & 0xc0u) != 0x80u) {
            return 0;
        }
        c = (c << 6) | (p[i] & 0x3fu);
    }
    *cp = c;
    return need + 1;
}

static size_t
utf8_len(uint32_t c)
{
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

static lg_status_t
grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap < 64 ? 64 : *cap;
    size_t bytes;
    void *np;

    if (need <= *cap) {
        return LG_OK;
    }
    while (ncap < need) {
        if (lgi_mul_overflow(ncap, 2, &ncap)) {
            return LG_E_NOMEM; /* LCOV_EXCL_LINE */
        }
    }
    if (lgi_mul_overflow(ncap, elem, &bytes)) {
        return LG_E_NOMEM; /* LCOV_EXCL_LINE */
    }
    np = lgi_realloc(*p, bytes);
    if (np == NULL) {
        return LG_E_NOMEM;
    }
    *p = np;
    *cap = ncap;
    return LG_OK;
}

static lg_status_t
ureserve(struct lgi_view *v, int k, size_t need, size_t limit)
{
    if (need > limit) {
        return LG_E_LIMIT;
    }
    return grow((void **)&v->u[k], &v->ucap[k], need, sizeof(struct lgi_unit));
}

/* Byte classes for the fast path. */
#define C_ALPHA 0x01u
#define C_DIGIT 0x02u
#define C_WS 0x04u   /* ASCII whitespace */
#define C_SEP 0x08u  /* . - _ * */
#define C_LEET 0x10u /* a leet character */
#define C_HIGH 0x20u /* not ASCII */
#define CLS(c)                                                               \
    (uint8_t)((((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z' ? C_ALPHA : 0) |   \
              ((c) >= '0' && (c) <= '9' ? C_DIGIT : 0) |                     \
              ((c) == ' ' || ((c) >= 0x09 && (c) <= 0x0d) ? C_WS : 0) |      \
              ((c) == '.' || (c) == '-' || (c) == '_' || (c) == '*' ? C_SEP  \
                                                                     : 0) |  \
              ((c) == '0' || (c) == '1' || (c) == '3' || (c) == '4' ||       \
                       (c) == '5' || (c) == '7' || (c) == '8' ||             \
                       (c) == '@' || (c) == '$' || (c) == '!' || (c) == '|'  \
                   ? C_LEET                                                  \
                   : 0) |                                                    \
              ((c) >= 0x80 ? C_HIGH : 0))
#define CLS4(b) CLS(b), CLS((b) + 1), CLS((b) + 2), CLS((b) + 3)
#define CLS16(b) CLS4(b), CLS4((b) + 4), CLS4((b) + 8), CLS4((b) + 12)
#define CLS64(b) CLS16(b), CLS16((b) + 16), CLS16((b) + 32), CLS16((b) + 48)
static const uint8_t ascii_cls[256] = {CLS64(0), CLS64(64), CLS64(128),
                                       CLS64(192)};

/* True when the ASCII input comes out of every requested transform as is:
 * then the caller scans it raw.  Conservative for SPACING (a single letter
 * followed by a separator and another single letter sends the input down the
 * full path, which still reports "unchanged" if nothing collapses).  One
 * table lookup for most bytes: this decides the cost of plain text. */
static bool
ascii_unchanged(const uint8_t *in, size_t len, uint32_t t)
{
    const bool leet = (t & LGI_NORM_LEET) != 0;
    const bool sp = (t & LGI_NORM_SPACING) != 0;
    unsigned iso = 0; /* spaced-out Hangul syllables in a row */

    for (size_t i = 0; i < len; i++) {
        uint32_t k = ascii_cls[in[i]], kn, kp;

        if (!(k & (C_WS | C_SEP | C_HIGH))) {
            iso = 0;
        }
        if (k == 0 || k == C_DIGIT) {
            continue; /* punctuation, digits that are no leet */
        }
        if (k & C_HIGH) {
            /* Hangul syllables and compatibility jamo (but the filler
             * U+3164) come out of every transform as written.  The tests
             * of their neighbours below take them for non-letters, which
             * only errs towards the full path. */
            uint32_t c;

            if (i + 2 >= len || (in[i + 1] & 0xc0) != 0x80 ||
                (in[i + 2] & 0xc0) != 0x80 || (in[i] & 0xf0) != 0xe0) {
                return false;
            }
            c = ((uint32_t)(in[i] & 0x0f) << 12) |
                ((uint32_t)(in[i + 1] & 0x3f) << 6) | (in[i + 2] & 0x3fu);
            if (!((c >= 0xac00 && c <= 0xd7a3) ||
                  (c >= 0x3131 && c <= 0x318e && c != 0x3164))) {
                return false;
            }
            /* one-syllable tokens in a row may be spaced-out text */
            if ((i == 0 || (ascii_cls[in[i - 1]] & (C_WS | C_SEP))) &&
                (i + 3 == len || (ascii_cls[in[i + 3]] & (C_WS | C_SEP)))) {
                if (sp && ++iso >= LGI_SPACED_WIDE) {
                    return false;
                }
            } else {
                iso = 0;
            }
            i += 2;
            continue;
        }
        kn = i + 1 < len ? ascii_cls[in[i + 1]] : 0;
        if (k == C_ALPHA && (!sp || (kn & (C_ALPHA | C_DIGIT)))) {
            continue; /* inside a word */
        }
        kp = i > 0 ? ascii_cls[in[i - 1]] : 0;
        if (leet && (k & C_LEET) && ((kp | kn) & (C_ALPHA | C_LEET))) {
            return false;
        }
        if (!sp) {
            continue;
        }
        if ((k & C_WS) && !(kp & C_WS)) {
            size_t j = i + 1;

            while (j < len && (ascii_cls[in[j]] & C_WS)) {
                j++;
            }
            if (j - i > LGI_WS_KEEP) {
                return false;
            }
        }
        if ((k & C_SEP) && (kp & C_ALPHA) && (kn & C_ALPHA)) {
            return false;
        }
        if (k == C_ALPHA && !(kp & (C_ALPHA | C_DIGIT)) &&
            (kn & (C_WS | C_SEP))) {
            size_t j = i + 1;

            while (j < len && (ascii_cls[in[j]] & (C_WS | C_SEP))) {
                j++;
            }
            /* another one-character token: a letter or digit, or a
             * punctuation mark standing alone */
            if (j < len && (ascii_cls[in[j]] & (C_ALPHA | C_DIGIT)) &&
                (j + 1 == len ||
                 !(ascii_cls[in[j + 1]] & (C_ALPHA | C_DIGIT)))) {
                return false;
            }
            if (j < len && in[j] > ' ' && in[j] < 0x7f &&
                !(ascii_cls[in[j]] & (C_ALPHA | C_DIGIT | C_SEP)) &&
                (j + 1 == len || (ascii_cls[in[j + 1]] & (C_WS | C_SEP)))) {
                return false;
            }
        }
    }
    return true;
}

/* Stage 1: UTF-8 repair, TAGS and INVISIBLE, into u[0]. */
static lg_status_t
stage_decode(const uint8_t *in, size_t len, uint32_t t, struct lgi_view *v,
             size_t *nout)
{
    size_t n = 0;
    lg_status_t rc = ureserve(v, 0, len, len);

    if (rc != LG_OK) {
        return rc;
    }
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t k = utf8_decode(in + i, len - i, &c);

        if (k == 0) {
            c = 0xfffd;
            k = 1;
        }
        if ((t & LGI_NORM_TAGS) && c >= 0xe0000 && c <= 0xe007f) {
            if (c >= 0xe0020 && c <= 0xe007e) {
                c -= 0xe0000;
            } else {
                i += k;
                continue;
            }
        } else if ((t & LGI_NORM_INVISIBLE) && is_invisible(c)) {
            i += k;
            continue;
        }
        v->u[0][n].cp = c;
        v->u[0][n].s = (uint32_t)i;
        v->u[0][n].e = (uint32_t)(i + k);
        n++;
        i += k;
    }
    *nout = n;
    return LG_OK;
}

static bool
nf_boundary(const UNormalizer2 *nf, uint32_t c)
{
    if (c < 0x300 || (c >= 0xac00 && c <= 0xd7a3) ||
        (c >= 0x3131 && c <= 0x318e)) {
        return true;
    }
    return unorm2_hasBoundaryBefore(nf, (UChar32)c) != 0;
}

/* Latin and its extensions, whose marks are decoration an attacker can pile
 * on ("ìgnórè").  Greek and Cyrillic keep theirs (й, ё, ї are letters of
 * their own); a Latin look-alike with marks has become Latin by now. */
static bool
marks_strippable(uint32_t base)
{
    return base < 0x370 || (base >= 0x1d00 && base < 0x1dc0) ||
           (base >= 0x1e00 && base < 0x1f00) ||
           (base >= 0x2c60 && base < 0x2c80) ||
           (base >= 0xa720 && base < 0xa800) ||
           (base >= 0xab30 && base < 0xab70);
}

/* Script-neutral combining marks (Zalgo material): stripped on any base. */
static bool
mark_generic(uint32_t c)
{
    return (c >= 0x300 && c <= 0x36f) || (c >= 0x1ab0 && c <= 0x1aff) ||
           (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) ||
           (c >= 0xfe20 && c <= 0xfe2f);
}

static bool
is_mark(uint32_t c)
{
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);

    return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_MC ||
           k == UTF8PROC_CATEGORY_ME;
}

static int
ccc(int32_t c)
{
    return utf8proc_get_property(c)->combining_class;
}

/* NFKC_CF of one segment src[0..m) into v->tmp; returns the length. */
static lg_status_t
nfkc_segment(struct lgi_view *v, const struct lgi_unit *src, size_t m,
             utf8proc_ssize_t *outlen)
{
    const utf8proc_option_t opt =
        UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD;
    utf8proc_ssize_t pos = 0, w = 0;
    bool strip_all = false, strip_generic;
    size_t nmarks = 0;
    lg_status_t rc;

    for (size_t i = 0; i < m; i++) {
        for (;;) {
            utf8proc_ssize_t room = (utf8proc_ssize_t)v->tmpcap - pos;
            utf8proc_ssize_t k =
                room <= 0
                    ? (utf8proc_ssize_t)64
                    : utf8proc_decompose_char((utf8proc_int32_t)src[i].cp,
                                              v->tmp + pos, room, opt, NULL);
            if (k < 0) {
                return LG_E_INTERNAL; /* LCOV_EXCL_LINE */
            }
            if (k <= room) {
                pos += k;
                break;
            }
            rc = grow((void **)&v->tmp, &v->tmpcap, (size_t)(pos + k),
                      sizeof(int32_t));
            if (rc != LG_OK) {
                return rc;
            }
        }
    }
    /* Canonical ordering (as utf8proc_decompose_custom does it). */
    for (utf8proc_ssize_t p = 0; p + 1 < pos;) {
        int c1 = ccc(v->tmp[p]), c2 = ccc(v->tmp[p + 1]);

        if (c1 > c2 && c2 > 0) {
            int32_t x = v->tmp[p];

            v->tmp[p] = v->tmp[p + 1];
            v->tmp[p + 1] = x;
            p = p > 0 ? p - 1 : p + 1;
        } else {
            p++;
        }
    }
    /* A Latin-like base loses all its marks, any base its generic ones.
     * The decision depends on the segment alone (a segment of bare marks,
     * from a mark flood split at LGI_SEG_MAX, has no base), so a span
     * normalized by itself gives the same bytes as in context. */
    for (utf8proc_ssize_t p = 0; p < pos; p++) {
        if (ccc(v->tmp[p]) == 0 && !is_mark((uint32_t)v->tmp[p])) {
            strip_all = marks_strippable((uint32_t)v->tmp[p]);
            break;
        }
    }
    for (utf8proc_ssize_t p = 0; p < pos; p++) {
        nmarks += is_mark((uint32_t)v->tmp[p]);
    }
    /* On other scripts one generic mark is part of a letter (й = и + the
     * breve); a stack of them is decoration. */
    strip_generic = strip_all || nmarks >= 2;
    for (utf8proc_ssize_t p = 0; p < pos; p++) {
        uint32_t c = (uint32_t)v->tmp[p];

        if (!is_mark(c) || !(strip_all || (strip_generic && mark_generic(c)))) {
            v->tmp[w++] = v->tmp[p];
        }
    }
    pos = w;
    if (pos > 1) {
        pos = utf8proc_normalize_utf32(v->tmp, pos,
                                       UTF8PROC_COMPOSE | UTF8PROC_STABLE);
        if (pos < 0) {
            return LG_E_INTERNAL; /* LCOV_EXCL_LINE */
        }
    }
    *outlen = pos;
    return LG_OK;
}

static lg_status_t
stage_nfkc(struct lgi_view *v, int from, size_t n, size_t limit, size_t *nout)
{
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2 *nf = unorm2_getNFKCCasefoldInstance(&err);
    const struct lgi_unit *src = v->u[from];
    int to = 1 - from;
    size_t w = 0;
    lg_status_t rc;

    if (U_FAILURE(err)) {
        return LG_E_ENGINE; /* LCOV_EXCL_LINE */
    }
    rc = ureserve(v, to, n, limit);
    for (size_t i = 0; i < n && rc == LG_OK;) {
        uint32_t c = src[i].cp;
        size_t j = i + 1;
        utf8proc_ssize_t m;

        /* Whitespace ends a segment: what follows it (an ignorable that
         * NFKC would fold into the space's segment) keeps its own span. */
        while (j < n && j - i < LGI_SEG_MAX && !is_ws(src[j - 1].cp) &&
               !nf_boundary(nf, src[j].cp)) {
            j++;
        }
        /* Hangul syllables and compatibility jamo stay as written (NFKC
         * would turn "ㅋ" into a conjoining jamo). */
        if (j == i + 1 && (c < 0x80 || (c >= 0xac00 && c <= 0xd7a3) ||
                           (c >= 0x3131 && c <= 0x318e))) {
            rc = ureserve(v, to, w + 1, limit);
            if (rc != LG_OK) {
                break;
            }
            v->u[to][w] = src[i]; /* ASCII keeps its case */
            w++;
            i = j;
            continue;
        }
        rc = nfkc_segment(v, src + i, j - i, &m);
        if (rc == LG_OK) {
            rc = ureserve(v, to, w + (size_t)m, limit);
        }
        if (rc != LG_OK) {
            break;
        }
        for (utf8proc_ssize_t p = 0; p < m; p++, w++) {
            v->u[to][w].cp = (uint32_t)v->tmp[p];
            v->u[to][w].s = src[i].s;
            v->u[to][w].e = src[j - 1].e;
        }
        i = j;
    }
    *nout = w;
    return rc;
}

static bool
skel_excluded(uint32_t c)
{
    return (c >= 0x1100 && c <= 0x11ff) || (c >= 0x2e80 && c <= 0x9fff) ||
           (c >= 0xa960 && c <= 0xa97f) || (c >= 0xac00 && c <= 0xd7ff) ||
           (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff65 && c <= 0xffdc) ||
           (c >= 0x20000 && c <= 0x3ffff) ||
           utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_ND;
}

/* The cache slot holding c's skeleton, computed on a miss. */
static const struct {
    uint32_t cp;
    char latin;
} skel_fix[] = {
    {0x04cf, 'l'}, /* Cyrillic small palochka; ICU: i */
    {0x03ba, 'k'}, /* Greek small kappa; ICU: none */
    {0x03c7, 'x'}, /* Greek small chi; ICU: none */
};

static size_t
skel_slot(struct lgi_view *v, uint32_t c)
{
    size_t h = (size_t)((c * 2654435761u) >> 22) & (SKEL_SLOTS - 1);
    struct lgi_skel *k = v->skel;
    UChar in[2], out[8];
    int32_t inlen = 1, outlen;
    UErrorCode err = U_ZERO_ERROR;

    if (k->cp[h] == c) {
        return h;
    }
    /* Where ICU's skeleton is not the Latin letter a reader sees. */
    for (size_t i = 0; i < sizeof(skel_fix) / sizeof(skel_fix[0]); i++) {
        if (skel_fix[i].cp == c) {
            k->cp[h] = c;
            k->len[h] = 1;
            k->own[h] = 1;
            k->s[h][0] = skel_fix[i].latin;
            return h;
        }
    }
    k->cp[h] = c;
    k->len[h] = 0;
    k->own[h] = 0;
    /* The small letter's skeleton first: ICU maps capital I-like letters
     * to "l" (the prototype of I, l and 1), which a reader of "Іgnore"
     * does not see.  The capital's skeleton when the small letter has none
     * (Greek η: none, Η: H; Cyrillic м: none, М: M). */
    for (int pass = 0; pass < 2 && k->len[h] == 0; pass++) {
        uint32_t lo = (uint32_t)utf8proc_tolower((int32_t)c);
        uint32_t x = pass == 0 ? lo : (uint32_t)utf8proc_toupper((int32_t)lo);
        bool ascii = true;

        if (pass == 1 && x == lo) {
            break; /* no capital: already tried */
        }
        inlen = 1;
        if (x >= 0x10000) {
            in[0] = (UChar)(0xd7c0u + (x >> 10));
            in[1] = (UChar)(0xdc00u | (x & 0x3ffu));
            inlen = 2;
        } else {
            in[0] = (UChar)x;
        }
        err = U_ZERO_ERROR;
        outlen = uspoof_getSkeleton((const USpoofChecker *)v->spoof, 0, in,
                                    inlen, out, 8, &err);
        if (U_FAILURE(err) || outlen <= 0 || outlen > (int32_t)SKEL_MAX) {
            continue;
        }
        for (int32_t i = 0; i < outlen; i++) {
            ascii = ascii && out[i] < 0x80 && out[i] != 0;
        }
        if (!ascii) {
            continue;
        }
        /* ICU's prototype of m is "rn" (of Cyrillic м too): a reader
         * sees m. */
        if (outlen == 2 && out[0] == 'r' && out[1] == 'n') {
            out[0] = 'm';
            outlen = 1;
        }
        k->own[h] = pass == 0;
        for (int32_t i = 0; i < outlen; i++) {
            char a = (char)out[i];

            /* a small letter read through its capital stays small */
            if (pass == 1 && c == lo && a >= 'A' && a <= 'Z') {
                a = (char)(a | 0x20);
            }
            k->s[h][i] = a;
        }
        k->len[h] = (uint8_t)outlen;
    }
    return h;
}

/* True when NFKC alone turns c into ASCII (fullwidth forms, ligatures,
 * circled letters): that stage maps it letter for letter, where a
 * skeleton might not ("ｍ" -> "rn"). */
static bool
compat_ascii(uint32_t c)
{
    utf8proc_int32_t d[8];
    utf8proc_ssize_t k = utf8proc_decompose_char(
        (utf8proc_int32_t)c, d, 8, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, NULL);

    if (k <= 0 || k > 8) {
        return false;
    }
    for (utf8proc_ssize_t i = 0; i < k; i++) {
        if (d[i] >= 0x80) {
            return false;
        }
    }
    return true;
}

/* A letter or mark of any script, or a digit: what words are made of. */
static bool
in_word(uint32_t c)
{
    return is_word(c) || is_mark(c);
}

/*
 * The word u[i..*end) around position i qualifies for look-alike mapping
 * when it mixes scripts (holds an ASCII letter or digit) or when every
 * character in it that is not ASCII has a Latin look-alike of its own (not
 * only through its capital): "іgnоrе" with Cyrillic і о е, or an
 * all-Cyrillic "ѕеер".  A genuine Russian or Greek word nearly always
 * holds a letter without one ("игнорируй": и; "все": в), so it stays as
 * written and rules in that script still match it.
 */
static bool
word_maps(struct lgi_view *v, const struct lgi_unit *u, size_t n, size_t i,
          size_t *end)
{
    bool ascii = false, all = true;
    size_t j = i;

    while (j < n && in_word(u[j].cp)) {
        uint32_t c = u[j].cp;

        if (c < 0x80) {
            ascii = true;
        } else if (!is_mark(c)) {
            size_t slot = skel_excluded(c) ? 0 : skel_slot(v, c);

            if (skel_excluded(c) || v->skel->len[slot] == 0 ||
                !v->skel->own[slot]) {
                all = false;
            }
        }
        j++;
    }
    *end = j;
    return ascii || all;
}

static lg_status_t
stage_confusable(struct lgi_view *v, int from, size_t n, uint32_t t,
                 size_t limit, size_t *nout)
{
    int to = 1 - from;
    size_t w = 0, word_end = 0;
    bool word_ok = true;
    lg_status_t rc;

    if (v->spoof == NULL) {
        UErrorCode err = U_ZERO_ERROR;
        USpoofChecker *sc = uspoof_open(&err);

        if (U_FAILURE(err) || sc == NULL) {
            return LG_E_ENGINE; /* LCOV_EXCL_LINE */
        }
        v->spoof = sc;
    }
    if (v->skel == NULL) {
        v->skel = lgi_malloc(sizeof(*v->skel));
        if (v->skel == NULL) {
            return LG_E_NOMEM;
        }
        memset(v->skel->cp, 0xff, sizeof(v->skel->cp));
    }
    rc = ureserve(v, to, n, limit);
    for (size_t i = 0; i < n && rc == LG_OK; i++) {
        struct lgi_unit u = v->u[from][i];
        size_t slot;

        if (i >= word_end) {
            word_ok = true;
            word_end = i + 1;
            if (in_word(u.cp)) {
                word_ok = word_maps(v, v->u[from], n, i, &word_end);
            }
        }
        if (u.cp < 0x80 || skel_excluded(u.cp) || !word_ok ||
            ((t & LGI_NORM_NFKC_CF) && compat_ascii(u.cp))) {
            v->u[to][w++] = u;
            continue;
        }
        slot = skel_slot(v, u.cp);
        if (v->skel->len[slot] == 0) {
            v->u[to][w++] = u;
            continue;
        }
        /* room for this skeleton and one unit for each still to come */
        rc = ureserve(v, to, w + v->skel->len[slot] + (n - i - 1), limit);
        for (size_t k = 0; k < v->skel->len[slot] && rc == LG_OK; k++) {
            uint32_t c = (uint8_t)v->skel->s[slot][k];

            v->u[to][w] = u;
            v->u[to][w++].cp = c;
        }
    }
    *nout = w;
    return rc;
}

/* In place, run by run: a run of letters and leet characters holding a
 * letter is a word in disguise; trailing @ $ ! | are punctuation. */
static void
stage_leet(struct lgi_unit *u, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i, end, letters = 0;

        while (j < n && (is_alpha(u[j].cp) || leet_of(u[j].cp) != 0)) {
            letters += is_alpha(u[j].cp);
            j++;
        }
        if (j == i) {
            i++;
            continue;
        }
        end = j;
        while (end > i && leet_trailing_ok(u[end - 1].cp)) {
            end--;
        }
        for (size_t k = i; k < end && letters > 0; k++) {
            if (!is_alpha(u[k].cp)) {
                u[k].cp = leet_of(u[k].cp);
            }
        }
        i = j;
    }
}

/* "ig.no.re": >= 3 pieces of 1-3 ASCII letters joined by single . - _ *,
 * the whole token.  Returns the end of the last piece, or 0. */
static size_t
match_pieces(const struct lgi_unit *u, size_t n, size_t i)
{
    size_t p = i, pieces = 0;

    for (;;) {
        size_t start = p;

        while (p < n && is_alpha(u[p].cp)) {
            p++;
        }
        if (p - start == 0 || p - start > 3 || (p < n && is_word(u[p].cp))) {
            return 0;
        }
        pieces++;
        if (p + 1 < n && is_sepc(u[p].cp) && is_alpha(u[p + 1].cp)) {
            p++;
            continue;
        }
        return pieces >= 3 ? p : 0;
    }
}

/* A letter of any script (not a digit). */
static bool
is_letter(uint32_t c)
{
    if (c < 0x80) {
        return is_alpha(c);
    }
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);

    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

/*
 * Spaced-out text, "i g n o r e   a l l": a run of single letters, each
 * with no letter or digit beside it, separated by runs of whitespace and
 * . - _ *.  The shortest gap in the run separates the letters of a word;
 * longer gaps separate words, so words of one or two letters are joined
 * too ("m e").  At least 3 letters, or LGI_SPACED_WIDE when the run holds
 * a letter that is not ASCII (Korean has many one-syllable words).  Returns the end of
 * the last letter, or 0, and the shortest gap in *gap.
 */
static bool
is_gap(uint32_t c)
{
    return is_ws(c) || is_sepc(c);
}

/* ASCII punctuation that may stand alone in spaced-out text ("[ S Y S ]",
 * "w r i t e ] ( M e": optimizer suffixes spaced out keep their shape). */
static bool
is_punct_token(uint32_t c)
{
    return c > ' ' && c < 0x7f && !is_alpha(c) && !is_digit(c) &&
           !is_sepc(c);
}

static size_t
spaced_run(const struct lgi_unit *u, size_t n, size_t i, size_t *gap)
{
    size_t p = i, count = 1, g = SIZE_MAX, end = i + 1;
    bool wide = u[i].cp >= 0x80;

    if (i + 1 < n && in_word(u[i + 1].cp)) {
        return 0;
    }
    for (;;) {
        size_t q = p + 1, r = q;
        bool letter;

        while (r < n && is_gap(u[r].cp)) {
            r++;
        }
        if (r == q || r >= n) {
            break;
        }
        letter = is_letter(u[r].cp) || is_digit(u[r].cp);
        /* a letter (or digit) with no letter after it; a punctuation
         * mark with a gap or the end after it */
        if (letter ? (r + 1 < n && in_word(u[r + 1].cp))
                   : (!is_punct_token(u[r].cp) ||
                      (r + 1 < n && !is_gap(u[r + 1].cp)))) {
            break;
        }
        g = r - q < g ? r - q : g;
        if (letter) {
            wide = wide || u[r].cp >= 0x80;
            count++;
            end = r + 1;
        }
        p = r;
    }
    /* the run ends at its last letter: trailing marks stay spaced */
    p = end - 1;
    if (count < (wide ? LGI_SPACED_WIDE : 3u)) {
        return 0;
    }
    *gap = g;
    return p + 1;
}

/* In place: every write index is at most the read index. */
static size_t
stage_spacing(struct lgi_unit *u, size_t n)
{
    size_t r = 0, w = 0;
    uint32_t prev = 0;

    while (r < n) {
        uint32_t c = u[r].cp;
        size_t end, gap;

        if (is_ws(c)) {
            size_t q = r;
            bool ascii = true;

            while (q < n && is_ws(u[q].cp)) {
                ascii = ascii && u[q].cp < 0x80;
                q++;
            }
            prev = u[q - 1].cp;
            if (ascii && q - r <= LGI_WS_KEEP) {
                while (r < q) {
                    u[w++] = u[r++];
                }
                continue;
            }
            u[w].s = u[r].s;
            u[w].e = u[q - 1].e;
            u[w].cp = ' ';
            w++;
            r = q;
            continue;
        }
        if (is_letter(c) && !in_word(prev) && !is_sepc(prev)) {
            end = c < 0x80 ? match_pieces(u, n, r) : 0;
            if (end != 0) {
                for (; r < end; r++) {
                    if (is_alpha(u[r].cp)) {
                        u[w++] = u[r];
                    }
                }
                prev = u[end - 1].cp;
                continue;
            }
            end = spaced_run(u, n, r, &gap);
            if (end != 0) {
                u[w++] = u[r++];
                while (r < end) {
                    size_t q = r;

                    while (is_gap(u[q].cp)) {
                        q++;
                    }
                    if (q - r > gap) { /* a word boundary: one space */
                        u[w].s = u[r].s;
                        u[w].e = u[q - 1].e;
                        u[w].cp = ' ';
                        w++;
                    }
                    u[w++] = u[q];
                    r = q + 1;
                }
                prev = u[end - 1].cp;
                continue;
            }
        }
        prev = c;
        u[w++] = u[r++];
    }
    return w;
}

static lg_status_t
encode(struct lgi_view *v, const struct lgi_unit *u, size_t n)
{
    size_t total = 0, o = 0;
    lg_status_t rc;

    for (size_t i = 0; i < n; i++) {
        total += utf8_len(u[i].cp);
    }
    rc = grow((void **)&v->text, &v->cap, total, 1);
    if (rc == LG_OK) {
        size_t mc = v->mapcap;

        rc = grow((void **)&v->src_start, &mc, total, sizeof(uint32_t));
        if (rc == LG_OK) {
            mc = v->mapcap;
            rc = grow((void **)&v->src_end, &mc, total, sizeof(uint32_t));
            if (rc == LG_OK) {
                v->mapcap = mc;
            }
        }
    }
    if (rc != LG_OK) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t c = u[i].cp;
        size_t k = utf8_len(c);
        uint8_t *d = v->text + o;

        if (k == 1) {
            d[0] = (uint8_t)c;
        } else if (k == 2) {
            d[0] = (uint8_t)(0xc0u | (c >> 6));
            d[1] = (uint8_t)(0x80u | (c & 0x3fu));
        } else if (k == 3) {
            d[0] = (uint8_t)(0xe0u | (c >> 12));
            d[1] = (uint8_t)(0x80u | ((c >> 6) & 0x3fu));
            d[2] = (uint8_t)(0x80u | (c & 0x3fu));
        } else {
            d[0] = (uint8_t)(0xf0u | (c >> 18));
            d[1] = (uint8_t)(0x80u | ((c >> 12) & 0x3fu));
            d[2] = (uint8_t)(0x80u | ((c >> 6) & 0x3fu));
            d[3] = (uint8_t)(0x80u | (c & 0x3fu));
        }
        for (size_t j = 0; j < k; j++, o++) {
            v->src_start[o] = u[i].s;
            v->src_end[o] = u[i].e;
        }
    }
    v->len = total;
    return LG_OK;
}

lg_status_t
lgi_normalize(const uint8_t *in, size_t len, uint32_t transforms,
              struct lgi_view *v, bool *changed)
{
    size_t n = 0, limit;
    int cur = 0;
    lg_status_t rc;

    if (changed != NULL) {
        *changed = false;
    }
    if (v != NULL) {
        v->len = 0;
    }
    if (v == NULL || changed == NULL || (in == NULL && len > 0) ||
        (transforms & ~LGI_NORM_ALL) != 0) {
        return LG_E_INVAL;
    }
    if (len > UINT32_MAX) {
        return LG_E_LIMIT;
    }
    if (ascii_unchanged(in, len, transforms)) {
        return LG_OK;
    }
    limit = len > (SIZE_MAX - 64) / 4 ? SIZE_MAX : 4 * len + 64;
    rc = stage_decode(in, len, transforms, v, &n);
    /* Look-alikes before case folding: folding first would turn capital
     * Cyrillic and Greek letters into small ones that have no Latin
     * look-alike. */
    if (rc == LG_OK && (transforms & LGI_NORM_CONFUSABLE)) {
        rc = stage_confusable(v, cur, n, transforms, limit, &n);
        cur = 1 - cur;
    }
    if (rc == LG_OK && (transforms & LGI_NORM_NFKC_CF)) {
        rc = stage_nfkc(v, cur, n, limit, &n);
        cur = 1 - cur;
    }
    if (rc == LG_OK && (transforms & LGI_NORM_LEET)) {
        stage_leet(v->u[cur], n);
    }
    if (rc == LG_OK && (transforms & LGI_NORM_SPACING)) {
        n = stage_spacing(v->u[cur], n);
    }
    if (rc == LG_OK) {
        rc = encode(v, v->u[cur], n);
    }
    if (rc != LG_OK) {
        v->len = 0;
        return rc;
    }
    if (v->len == len && (len == 0 || memcmp(v->text, in, len) == 0)) {
        v->len = 0;
        return LG_OK;
    }
    *changed = true;
    return LG_OK;
}

void
lgi_view_free(struct lgi_view *v)
{
    if (v == NULL) {
        return;
    }
    lgi_free(v->text);
    lgi_free(v->src_start);
    lgi_free(v->src_end);
    lgi_free(v->u[0]);
    lgi_free(v->u[1]);
    lgi_free(v->tmp);
    lgi_free(v->skel);
    if (v->spoof != NULL) {
        uspoof_close((USpoofChecker *)v->spoof);
    }
    memset(v, 0, sizeof(*v));
}
