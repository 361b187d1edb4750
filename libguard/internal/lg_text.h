/*
 * Text normalization for evasion-resistant scanning (internal, never
 * installed).  lgi_normalize() turns an input into a "view": normalized
 * UTF-8 plus, for every view byte, the span of original input bytes it came
 * from, so a match found in the view is reported at exact input offsets.
 *
 * Threading: a struct lgi_view is per-thread scratch (it caches an ICU spoof
 * checker and buffers); distinct views may be used concurrently.
 */
#ifndef LG_TEXT_H
#define LG_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lg_internal.h"

/* Transforms, applied in this order (after UTF-8 repair):
 * TAGS -> INVISIBLE -> CONFUSABLE -> NFKC_CF -> LEET -> SPACING. */

/* Unicode tag characters U+E0020..E007E decoded to the ASCII they smuggle;
 * U+E0001 and U+E007F dropped. */
#define LGI_NORM_TAGS 0x04u
/* Drop zero-width characters, bidi controls, variation selectors, soft
 * hyphen, Hangul fillers, CGJ, Mongolian FVS and every other Cf. */
#define LGI_NORM_INVISIBLE 0x02u
/* NFKC + full case folding (utf8proc); ASCII as written keeps its case, so
 * that plain English text stays unchanged (match it caseless).  After
 * decomposition, every combining mark on a Latin base is stripped ("ìgnórè"
 * -> "ignore"), and stacks of two or more script-neutral marks (U+0300-036F,
 * 1AB0-1AFF, 1DC0-1DFF, 20D0-20FF, FE20-FE2F) on any base; a single mark on
 * another script's base is kept (й, ё), as are the marks of other scripts
 * (Indic vowel signs, Hebrew points, ...).  Hangul syllables and
 * compatibility jamo stay as written.  Segments are capped at 32 code
 * points. */
#define LGI_NORM_NFKC_CF 0x01u
/* Non-ASCII look-alikes replaced by their ICU confusables skeleton when that
 * skeleton is ASCII (with a few corrections: palochka -> l, kappa -> k,
 * chi -> x), before case folding.  Only in words that mix scripts or whose
 * every non-ASCII letter has such a skeleton, so that genuine Cyrillic or
 * Greek words stay as written.  Hangul, CJK, kana and non-ASCII decimal
 * digits are never mapped. */
#define LGI_NORM_CONFUSABLE 0x08u
/* Leetspeak: 0->o 1->i 3->e 4->a 5->s 7->t 8->b @->a $->s !->i |->l inside
 * a run of ASCII letters and leet characters that holds at least one letter
 * ("p@55w0rd" -> "password"), except trailing @ $ ! | ("hello!" stays).
 * "2024" and "$5" stay. */
#define LGI_NORM_LEET 0x20u
/* Runs of more than 8 whitespace characters, and runs holding non-ASCII
 * spaces, -> one space (mapped to the whole run).  Spaced-out text
 * "i g n o r e   a l l" -> "ignore all": a run of single letters of any
 * script separated by whitespace and . - _ *, at least 3 letters (8 if one
 * is not ASCII); the shortest gap in the run joins letters, a longer one
 * becomes one space.  Tokens split by single . - _ * into >= 3 pieces of
 * 1-3 ASCII letters ("ig.no.re") joined.  Runs start after a non-word,
 * non-separator character, so "state-of-the-art" stays. */
#define LGI_NORM_SPACING 0x10u
#define LGI_NORM_ALL 0x3fu

/* One code point of an intermediate stage and its source span. */
struct lgi_unit {
    uint32_t cp;
    uint32_t s, e; /* input byte offsets, e exclusive */
};

struct lgi_skel; /* confusable skeleton cache, normalize.c */

/*
 * The normalized view.  Zero-initialize before first use; buffers grow as
 * needed and are reused across calls; release with lgi_view_free().
 */
struct lgi_view {
    uint8_t *text;       /* normalized UTF-8, always valid UTF-8 */
    size_t len, cap;
    uint32_t *src_start; /* per text byte: start of its source unit */
    uint32_t *src_end;   /* per text byte: end (exclusive) of it */
    size_t mapcap;
    /* private scratch */
    struct lgi_unit *u[2];
    size_t ucap[2];
    int32_t *tmp;        /* NFKC segment buffer */
    size_t tmpcap;
    void *spoof;         /* USpoofChecker, opened on first CONFUSABLE use */
    struct lgi_skel *skel;
};

/*
 * Normalize in[0..len) with `transforms` (LGI_NORM_*) into v.  Invalid
 * UTF-8 (overlong forms, surrogates, truncated sequences, bytes > F4)
 * becomes U+FFFD, one per offending byte, each mapped to its own byte; NUL
 * bytes are kept as data.
 *
 * *changed = false (and v->len = 0, no map written) when the view would
 * equal the input byte for byte: the caller scans the raw input.  ASCII
 * input with nothing for NFKC_CF/LEET/SPACING to do takes a fast path that
 * neither allocates nor calls utf8proc/ICU.
 *
 * @return LG_OK; LG_E_INVAL (NULL v/changed, in NULL with len > 0, unknown
 *         transform bit); LG_E_LIMIT (len > UINT32_MAX, or the view would
 *         exceed 4 * len + 64 code points, e.g. a flood of U+FDFA);
 *         LG_E_NOMEM; LG_E_ENGINE (ICU spoof checker unavailable).
 *         On error v->len = 0 and *changed = false.
 */
LGI_HIDDEN lg_status_t lgi_normalize(const uint8_t *in, size_t len,
                                     uint32_t transforms, struct lgi_view *v,
                                     bool *changed);

/* Free v's buffers and zero it (NULL ok). */
LGI_HIDDEN void lgi_view_free(struct lgi_view *v);

/* Map a view match [s, e) (0 <= s < e <= v->len) to the original input:
 * [src_start[s], src_end[e-1]). */
static inline void
lgi_view_span(const struct lgi_view *v, size_t s, size_t e, size_t *os,
              size_t *oe)
{
    *os = v->src_start[s];
    *oe = v->src_end[e - 1];
}

/* ---- payload decoding (decode.c) ---- */

#define LGI_DEC_BASE64 0x01u /* >= 16 chars, standard or URL-safe alphabet */
#define LGI_DEC_HEX 0x02u    /* >= 16 hex digits, even count */
#define LGI_DEC_URL 0x04u    /* >= 2 %XX escapes in a whitespace-free token */
#define LGI_DEC_HTML 0x08u   /* >= 2 &#N; &#xN; &lt; &gt; &amp; &quot; &apos;
                              * &nbsp; references on one line */
#define LGI_DEC_BYTES 0x10u  /* >= 8 byte values written one by one: hex
                              * pairs (48 65, 0x48,0x65, \x48\x65) or
                              * binary octets (01001000 01100101) */
#define LGI_DEC_ALL 0x1fu

struct lgi_payload {
    size_t off, len;             /* into lgi_decoded.buf */
    uint32_t src_start, src_end; /* outermost encoded span in the input */
    uint8_t kind;                /* LGI_DEC_* of this (innermost) layer */
    uint8_t depth;               /* 1: decoded from the input itself */
};

/* Zero-initialize; buffers are reused across calls. */
struct lgi_decoded {
    uint8_t *buf;
    size_t buflen, bufcap;
    struct lgi_payload *p;       /* in breadth-first order */
    size_t n, pcap;
    bool truncated;              /* max_total or the payload cap was hit */
};

/*
 * Find encoded payloads in in[0..len) and decode them, then look inside
 * each decoded payload again, up to max_depth layers (1..8).  Only payloads
 * that decode to UTF-8 text holding a letter are kept.  The decoded bytes of
 * all layers together are capped at min(max_total, 3 * len) (further payloads
 * are skipped and d->truncated set; not an error).  Work is linear in len
 * per layer.
 *
 * @return LG_OK; LG_E_INVAL (NULL d, in NULL with len > 0, unknown kind,
 *         max_depth out of range); LG_E_LIMIT (len > UINT32_MAX);
 *         LG_E_NOMEM.  On error d->n = 0.
 */
LGI_HIDDEN lg_status_t lgi_decode(const uint8_t *in, size_t len,
                                  uint32_t kinds, unsigned max_depth,
                                  size_t max_total, struct lgi_decoded *d);

/* Free d's buffers and zero it (NULL ok). */
LGI_HIDDEN void lgi_decoded_free(struct lgi_decoded *d);

#endif /* LG_TEXT_H */
