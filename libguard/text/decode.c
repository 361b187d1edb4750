/*
 * Payload decoding for evasion-resistant scanning (see internal/lg_text.h):
 * base64, hex, byte lists (hex pairs or binary octets written one by one),
 * URL percent-encoding and HTML character references hidden in a prompt
 * are decoded so the scanner can look inside them.  Decoded bytes
 * have no byte-exact origin, so every payload maps to the whole encoded span
 * of its outermost layer.
 *
 * Only payloads that decode to text (strict UTF-8 without control bytes
 * other than tab/newline) are kept: a hash or an identifier in the base64
 * alphabet decodes to binary noise and is dropped.  Every decoder shrinks
 * its input, which bounds each layer by its parent; max_total (and three
 * times the input, which holds any chain of base64 layers) bounds all
 * layers together and max_depth the nesting.
 */
#include <string.h>

#include <sodium.h>

#include "internal/lg_text.h"

#define MIN_B64 16u /* chars: 12 bytes decoded */
#define MIN_HEX 16u /* digits: 8 bytes decoded */
#define MIN_ESCAPES 2u
#define MIN_BYTES 8u /* values in a byte list */
#define MAX_PAYLOADS 4096u

static bool
is_b64(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' ||
           c == '_';
}

static int
hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }
    return -1;
}

static bool
is_space(uint8_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d);
}

static bool
is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* How the values of a byte list are written. */
enum byte_form {
    BF_BIN,  /* 01001000 */
    BF_0X,   /* 0x48 */
    BF_BSX,  /* \x48 */
    BF_HEX,  /* 48 */
    BF_NONE
};

/* One value written in form f at s[i]: its length (0 if there is none
 * there) and its byte in *v.  A value ends where no letter or digit
 * follows, so 2024 and 0x4865 are not byte values. */
static size_t
byte_value(const uint8_t *s, size_t n, size_t i, enum byte_form f,
           uint8_t *v)
{
    size_t k = 0, digits = f == BF_BIN ? 8 : 2;
    unsigned x = 0;

    if (f == BF_0X || f == BF_BSX) {
        if (n - i < 2 || s[i] != (f == BF_0X ? '0' : '\\') ||
            (s[i + 1] | 0x20) != 'x') {
            return 0;
        }
        k = 2;
    }
    if (n - i - k < digits) {
        return 0;
    }
    for (size_t j = 0; j < digits; j++) {
        uint8_t c = s[i + k + j];
        int h = f != BF_BIN ? hexval(c) : c == '0' || c == '1' ? c - '0' : -1;

        if (h < 0) {
            return 0;
        }
        x = x * (f == BF_BIN ? 2u : 16u) + (unsigned)h;
    }
    k += digits;
    if (i + k < n && is_alnum(s[i + k])) {
        return 0;
    }
    *v = (uint8_t)x;
    return k;
}

/* The form of a byte list starting at s[i], if a value starts there. */
static enum byte_form
byte_form(const uint8_t *s, size_t n, size_t i)
{
    uint8_t v;

    /* every form starts with a hex digit or a backslash: most words do
     * not, and cost this one test */
    if (hexval(s[i]) < 0 && s[i] != '\\') {
        return BF_NONE;
    }
    for (int f = BF_BIN; f < BF_NONE; f++) {
        if (byte_value(s, n, i, (enum byte_form)f, &v) != 0) {
            return (enum byte_form)f;
        }
    }
    return BF_NONE;
}

/*
 * The byte list of form f at s[i]: values separated by a space, a comma,
 * a colon or a dash, or by one of these and a whitespace character (\x
 * values also by nothing).  Returns where its last value ends and writes
 * the count to *count and, when dst is not NULL, the bytes to dst.
 */
static size_t
byte_list(const uint8_t *s, size_t n, size_t i, enum byte_form f,
          uint8_t *dst, size_t *count)
{
    size_t c = 0, end = i, k;
    uint8_t v;

    while (i < n && (k = byte_value(s, n, i, f, &v)) != 0) {
        size_t t;

        if (dst != NULL) {
            dst[c] = v;
        }
        c++;
        i += k;
        end = i;
        t = i;
        if (t < n && (s[t] == ',' || s[t] == ':' || s[t] == '-')) {
            t++;
        }
        if (t < n && is_space(s[t])) {
            t++;
        }
        if (t == i && f != BF_BSX) {
            break;
        }
        i = t;
    }
    *count = c;
    return end;
}

/* Strict UTF-8 text: no overlongs, surrogates or control bytes other than
 * tab, LF and CR, and some letter (hex digits decode to " $ $ $" too). */
static bool
is_text(const uint8_t *p, size_t n)
{
    bool letter = false;

    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        size_t k;
        uint8_t lo = 0x80, hi = 0xbf;

        if (b < 0x80) {
            if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') ||
                b == 0x7f) {
                return false;
            }
            letter = letter || ((b | 0x20) >= 'a' && (b | 0x20) <= 'z');
            i++;
            continue;
        }
        letter = true;
        if (b >= 0xc2 && b <= 0xdf) {
            k = 2;
        } else if (b >= 0xe0 && b <= 0xef) {
            k = 3;
            lo = b == 0xe0 ? 0xa0 : 0x80;
            hi = b == 0xed ? 0x9f : 0xbf;
        } else if (b >= 0xf0 && b <= 0xf4) {
            k = 4;
            lo = b == 0xf0 ? 0x90 : 0x80;
            hi = b == 0xf4 ? 0x8f : 0xbf;
        } else {
            return false;
        }
        if (n - i < k || p[i + 1] < lo || p[i + 1] > hi) {
            return false;
        }
        for (size_t j = 2; j < k; j++) {
            if ((p[i + j] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += k;
    }
    return letter;
}

static size_t
put_utf8(uint8_t *d, uint32_t c)
{
    if (c < 0x80) {
        d[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        d[0] = (uint8_t)(0xc0u | (c >> 6));
        d[1] = (uint8_t)(0x80u | (c & 0x3fu));
        return 2;
    }
    if (c < 0x10000) {
        d[0] = (uint8_t)(0xe0u | (c >> 12));
        d[1] = (uint8_t)(0x80u | ((c >> 6) & 0x3fu));
        d[2] = (uint8_t)(0x80u | (c & 0x3fu));
        return 3;
    }
    d[0] = (uint8_t)(0xf0u | (c >> 18));
    d[1] = (uint8_t)(0x80u | ((c >> 12) & 0x3fu));
    d[2] = (uint8_t)(0x80u | ((c >> 6) & 0x3fu));
    d[3] = (uint8_t)(0x80u | (c & 0x3fu));
    return 4;
}

/* One HTML character reference at s[0] == '&': its decoded code point and
 * length, or 0.  Numeric references (&#105; &#x69;) and the five XML names;
 * the ';' is required. */
static size_t
html_ref(const uint8_t *s, size_t n, uint32_t *cp)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } names[] = {{"lt;", '<'},   {"gt;", '>'},    {"amp;", '&'},
                 {"quot;", '"'}, {"apos;", '\''}, {"nbsp;", 0xa0}};
    size_t i = 1;
    uint32_t c = 0;

    if (n >= 3 && s[1] == '#') {
        bool hex = n >= 4 && (s[2] | 0x20) == 'x';
        size_t digits = 0;

        i = hex ? 3 : 2;
        for (; i < n && digits < 8; i++, digits++) {
            int h = hexval(s[i]);

            if (h < 0 || (!hex && h > 9)) {
                break;
            }
            c = c * (hex ? 16u : 10u) + (uint32_t)h;
        }
        if (digits == 0 || i >= n || s[i] != ';' || c == 0 || c > 0x10ffff ||
            (c >= 0xd800 && c <= 0xdfff)) {
            return 0;
        }
        *cp = c;
        return i + 1;
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        size_t l = strlen(names[k].name);

        if (n - 1 >= l && memcmp(s + 1, names[k].name, l) == 0) {
            *cp = names[k].cp;
            return l + 1;
        }
    }
    return 0;
}

struct dec_ctx {
    struct lgi_decoded *d;
    uint32_t kinds;
    size_t max_total;
    size_t total;
    size_t need; /* room for all layers, reserved on first use */
};

/* Append a payload whose bytes were written at d->buf + d->buflen. */
static lg_status_t
commit(struct dec_ctx *x, size_t len, uint32_t s, uint32_t e, uint32_t kind,
       unsigned depth)
{
    struct lgi_decoded *d = x->d;

    if (!is_text(d->buf + d->buflen, len)) {
        return LG_OK;
    }
    if (d->n == MAX_PAYLOADS || len > x->max_total - x->total) {
        d->truncated = true;
        return LG_OK;
    }
    if (d->n == d->pcap) {
        size_t ncap = d->pcap == 0 ? 8 : d->pcap * 2;
        struct lgi_payload *np = lgi_realloc(d->p, ncap * sizeof(*np));

        if (np == NULL) {
            return LG_E_NOMEM;
        }
        d->p = np;
        d->pcap = ncap;
    }
    d->p[d->n].off = d->buflen;
    d->p[d->n].len = len;
    d->p[d->n].src_start = s;
    d->p[d->n].src_end = e;
    d->p[d->n].kind = (uint8_t)kind;
    d->p[d->n].depth = (uint8_t)depth;
    d->n++;
    d->buflen += len;
    x->total += len;
    return LG_OK;
}

/* Make room for decoding, on the first candidate payload: text without
 * one allocates nothing.  Called at depth 1 only (deeper layers exist only
 * after it), so it never moves a buffer a layer is reading. */
static lg_status_t
reserve(struct dec_ctx *x)
{
    struct lgi_decoded *d = x->d;
    uint8_t *nb;

    if (x->need <= d->bufcap) {
        return LG_OK;
    }
    nb = lgi_realloc(d->buf, x->need);
    if (nb == NULL) {
        return LG_E_NOMEM;
    }
    d->buf = nb;
    d->bufcap = x->need;
    return LG_OK;
}

/*
 * Find and decode every encoded run in in[0..n) (which may live inside
 * d->buf: the caller reserved n spare bytes, and decoding only shrinks, so
 * d->buf does not move).  Spans: [s, e) of the input when depth == 1, the
 * parent's span otherwise.
 */
static lg_status_t
scan_layer(struct dec_ctx *x, size_t in_off, const uint8_t *in_ext, size_t n,
           unsigned depth, uint32_t ps, uint32_t pe)
{
    struct lgi_decoded *d = x->d;
    lg_status_t rc = LG_OK;
    size_t esc_done = 0; /* no URL/HTML run starts before this */

#define IN (in_ext != NULL ? in_ext : d->buf + in_off)
#define SPAN_S(a) (depth == 1 ? (uint32_t)(a) : ps)
#define SPAN_E(b) (depth == 1 ? (uint32_t)(b) : pe)
    for (size_t i = 0; i < n && rc == LG_OK;) {
        const uint8_t *s = IN;
        size_t j = i;

        if ((x->kinds & LGI_DEC_BYTES) && (i == 0 || !is_alnum(s[i - 1]))) {
            enum byte_form f = byte_form(s, n, i);
            size_t count = 0, end = i;

            if (f != BF_NONE) {
                end = byte_list(s, n, i, f, NULL, &count);
            }
            if (count >= MIN_BYTES) {
                /* Decoded once it is known to be long enough; a list
                 * that is not text is skipped whole, never re-read from
                 * a later value. */
                if ((rc = reserve(x)) != LG_OK) {
                    break;
                }
                s = IN;
                (void)byte_list(s, n, i, f, d->buf + d->buflen, &count);
                rc = commit(x, count, SPAN_S(i), SPAN_E(end), LGI_DEC_BYTES,
                            depth);
                i = end;
                continue;
            }
        }
        if ((x->kinds & (LGI_DEC_BASE64 | LGI_DEC_HEX)) && is_b64(s[i]) &&
            (i == 0 || !is_b64(s[i - 1]))) {
            size_t hexrun, end;
            bool allhex = true;

            while (j < n && is_b64(s[j])) {
                allhex = allhex && hexval(s[j]) >= 0;
                j++;
            }
            end = j;
            while (end < n && end - j < 2 && s[end] == '=') {
                end++;
            }
            hexrun = allhex ? j - i : 0;
            if ((hexrun >= MIN_HEX || j - i >= MIN_B64) &&
                (rc = reserve(x)) != LG_OK) {
                break;
            }
            if ((x->kinds & LGI_DEC_HEX) && hexrun >= MIN_HEX &&
                hexrun % 2 == 0) {
                size_t bl = 0;

                if (sodium_hex2bin(d->buf + d->buflen, hexrun / 2,
                                   (const char *)s + i, hexrun, NULL, &bl,
                                   NULL) == 0) {
                    rc =
                        commit(x, bl, SPAN_S(i), SPAN_E(j), LGI_DEC_HEX, depth);
                }
            } else if ((x->kinds & LGI_DEC_BASE64) && j - i >= MIN_B64) {
                size_t bl = 0;
                bool url = memchr(s + i, '-', j - i) != NULL ||
                           memchr(s + i, '_', j - i) != NULL;
                int variant = url ? sodium_base64_VARIANT_URLSAFE_NO_PADDING
                                  : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;

                if (sodium_base642bin(d->buf + d->buflen, j - i,
                                      (const char *)s + i, j - i, NULL, &bl,
                                      NULL, variant) == 0) {
                    rc = commit(x, bl, SPAN_S(i), SPAN_E(end), LGI_DEC_BASE64,
                                depth);
                }
            }
            i = end > i ? end : i + 1;
            continue;
        }
        if (i >= esc_done && (((x->kinds & LGI_DEC_URL) && s[i] == '%') ||
                              ((x->kinds & LGI_DEC_HTML) && s[i] == '&'))) {
            /* The rest of this whitespace-delimited token (URL) or line
             * (HTML), from the first escape to the last. */
            uint8_t *dst;
            size_t o = 0, escapes = 0, last = i;
            bool html = s[i] == '&';
            uint32_t kind = html ? LGI_DEC_HTML : LGI_DEC_URL;

            rc = reserve(x);
            if (rc != LG_OK) {
                break;
            }
            dst = d->buf + d->buflen;

            while (j < n && (html ? s[j] != '\n' : !is_space(s[j]))) {
                uint32_t c = 0;
                size_t k = 0;

                if (html && s[j] == '&') {
                    k = html_ref(s + j, n - j, &c);
                } else if (!html && s[j] == '%' && j + 2 < n &&
                           hexval(s[j + 1]) >= 0 && hexval(s[j + 2]) >= 0) {
                    c = (uint32_t)(hexval(s[j + 1]) * 16 + hexval(s[j + 2]));
                    k = 3;
                }
                if (k == 0) {
                    dst[o++] = s[j++];
                    continue;
                }
                if (html) {
                    o += put_utf8(dst + o, c);
                } else {
                    dst[o++] = (uint8_t)c;
                }
                j += k;
                escapes++;
                last = j;
            }
            /* Every escape of [i, j) was seen: starting again at a later
             * '%' or '&' of it would only make this loop quadratic. */
            esc_done = j;
            if (escapes >= MIN_ESCAPES) {
                o -= j - last; /* what follows the last escape */
                rc = commit(x, o, SPAN_S(i), SPAN_E(last), kind, depth);
                i = last;
            } else {
                i++;
            }
            continue;
        }
        i++;
    }
#undef IN
#undef SPAN_S
#undef SPAN_E
    return rc;
}

lg_status_t
lgi_decode(const uint8_t *in, size_t len, uint32_t kinds, unsigned max_depth,
           size_t max_total, struct lgi_decoded *d)
{
    struct dec_ctx x = {d, kinds, max_total, 0, 0};
    lg_status_t rc;
    size_t need;

    if (d != NULL) {
        d->n = 0;
        d->buflen = 0;
        d->truncated = false;
    }
    if (d == NULL || (in == NULL && len > 0) || (kinds & ~LGI_DEC_ALL) != 0 ||
        max_depth == 0 || max_depth > 8) {
        return LG_E_INVAL;
    }
    if (len > UINT32_MAX) {
        return LG_E_LIMIT;
    }
    /* Every layer fits in the bytes of the one it came from, so reserving
     * len + the total covers the scratch of the last decode as well.  A
     * chain of base64 layers decodes to 3/4 + 9/16 + ... < 3 times the
     * input. */
    if (max_total / 3 > len) {
        max_total = 3 * len;
    }
    need = len;
    if (lgi_add_overflow(need, max_total, &need) ||
        lgi_add_overflow(need, 8, &need)) {
        return LG_E_LIMIT; /* LCOV_EXCL_LINE */
    }
    x.need = need;
    x.max_total = max_total;
    rc = scan_layer(&x, 0, in, len, 1, 0, 0);
    for (size_t k = 0; k < d->n && rc == LG_OK; k++) {
        struct lgi_payload p = d->p[k];

        if (p.depth < max_depth) {
            rc = scan_layer(&x, p.off, NULL, p.len, p.depth + 1u, p.src_start,
                            p.src_end);
        }
    }
    if (rc != LG_OK) {
        d->n = 0;
        d->buflen = 0;
    }
    return rc;
}

void
lgi_decoded_free(struct lgi_decoded *d)
{
    if (d == NULL) {
        return;
    }
    lgi_free(d->buf);
    lgi_free(d->p);
    memset(d, 0, sizeof(*d));
}
