/*
 * Leak detection: every window of `w` folded bytes of the secret goes into
 * a hash table; the scanned text is folded on the fly into a ring of the
 * last `w` bytes with a rolling hash, and each window whose hash is in the
 * table is compared byte for byte.  Overlapping hits merge into maximal
 * spans.  Folding: ASCII letters to lower case, every run of whitespace to
 * one space, leading whitespace dropped.
 */
#include <string.h>

#include <sodium.h>

#include "internal/lg_internal.h"

#define LEAK_MIN_FRAGMENT 8u
#define LEAK_MAX_FRAGMENT 1024u
#define LEAK_BASE UINT64_C(0x100000001b3) /* FNV prime: odd, spreads bits */

struct lg_leak {
    uint8_t *canon;   /* folded secret */
    size_t ncanon;
    size_t w;         /* window length */
    uint64_t pow;     /* LEAK_BASE^(w-1) */
    uint32_t *slots;  /* window start + 1, 0 empty */
    size_t mask;
};

/* The folding, as an iterator over a byte string. */
struct fold {
    const uint8_t *p;
    size_t len, i;
    bool space; /* a space is pending (whitespace seen after text) */
    bool any;   /* something emitted */
};

static bool
is_space(uint8_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d);
}

/* Next folded byte and the offset of the byte it stands for; false at the
 * end.  Trailing whitespace is never emitted. */
static bool
fold_next(struct fold *f, uint8_t *c, size_t *off)
{
    while (f->i < f->len) {
        uint8_t b = f->p[f->i];

        if (is_space(b)) {
            if (f->any && !f->space) {
                f->space = true;
                *off = f->i; /* the run starts here */
                f->i++;
                /* emit the space lazily: only if text follows */
                while (f->i < f->len && is_space(f->p[f->i])) {
                    f->i++;
                }
                if (f->i < f->len) {
                    *c = ' ';
                    f->space = false;
                    return true;
                }
                return false;
            }
            f->i++;
            continue;
        }
        *c = b >= 'A' && b <= 'Z' ? (uint8_t)(b | 0x20) : b;
        *off = f->i++;
        f->any = true;
        f->space = false;
        return true;
    }
    return false;
}

static size_t
slot_of(uint64_t h, size_t mask)
{
    return (size_t)((h * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & mask;
}

void
lg_leak_opts_init(lg_leak_opts_t *o)
{
    if (o != NULL) {
        o->min_fragment = 40;
    }
}

void
lg_leak_free(lg_leak_t *l)
{
    if (l == NULL) {
        return;
    }
    if (l->canon != NULL) {
        sodium_memzero(l->canon, l->ncanon);
    }
    lgi_free(l->canon);
    lgi_free(l->slots);
    lgi_free(l);
}

lg_status_t
lg_leak_new(const void *secret, size_t len, const lg_leak_opts_t *opts,
            lg_leak_t **out)
{
    lg_leak_opts_t o;
    lg_leak_t *l;
    struct fold f = {secret, len, 0, false, false};
    uint8_t c;
    size_t off, cap, nwin;
    uint64_t h = 0;

    if (out != NULL) {
        *out = NULL;
    }
    if (secret == NULL || out == NULL || len == 0) {
        return LG_E_INVAL;
    }
    if (opts == NULL) {
        lg_leak_opts_init(&o);
    } else {
        o = *opts;
    }
    if (o.min_fragment < LEAK_MIN_FRAGMENT ||
        o.min_fragment > LEAK_MAX_FRAGMENT) {
        return LG_E_INVAL;
    }
    if (len > LG_LEAK_MAX_SECRET) {
        return LG_E_LIMIT;
    }
    l = lgi_calloc(1, sizeof(*l));
    if (l == NULL) {
        return LG_E_NOMEM;
    }
    l->canon = lgi_malloc(len);
    if (l->canon == NULL) {
        lg_leak_free(l);
        return LG_E_NOMEM;
    }
    while (fold_next(&f, &c, &off)) {
        l->canon[l->ncanon++] = c;
    }
    if (l->ncanon == 0) {
        lg_leak_free(l);
        return LG_E_INVAL; /* only whitespace */
    }
    l->w = o.min_fragment < l->ncanon ? o.min_fragment : l->ncanon;
    l->pow = 1;
    for (size_t i = 1; i < l->w; i++) {
        l->pow *= LEAK_BASE;
    }
    nwin = l->ncanon - l->w + 1;
    for (cap = 16; cap < 2 * nwin; cap *= 2) {
    }
    l->slots = lgi_calloc(cap, sizeof(*l->slots));
    if (l->slots == NULL) {
        lg_leak_free(l);
        return LG_E_NOMEM;
    }
    l->mask = cap - 1;
    for (size_t i = 0; i < l->ncanon; i++) {
        if (i >= l->w) {
            h -= l->canon[i - l->w] * l->pow;
        }
        h = h * LEAK_BASE + l->canon[i];
        if (i + 1 >= l->w) {
            size_t start = i + 1 - l->w, s = slot_of(h, l->mask);
            bool dup = false;

            /* A repeated window is stored once, so that a repetitive
             * secret does not make long probe chains. */
            while (l->slots[s] != 0 && !dup) {
                dup = memcmp(l->canon + l->slots[s] - 1, l->canon + start,
                             l->w) == 0;
                s = (s + 1) & l->mask;
            }
            if (!dup) {
                l->slots[s] = (uint32_t)(start + 1);
            }
        }
    }
    *out = l;
    return LG_OK;
}

/* True when the ring (oldest byte at `head`) equals the secret's window at
 * `pos`. */
static bool
window_equal(const lg_leak_t *l, const uint8_t *ring, size_t head, size_t pos)
{
    size_t first = l->w - head;

    return memcmp(ring + head, l->canon + pos, first) == 0 &&
           memcmp(ring, l->canon + pos + first, head) == 0;
}

static bool
lookup(const lg_leak_t *l, uint64_t h, const uint8_t *ring, size_t head)
{
    for (size_t s = slot_of(h, l->mask); l->slots[s] != 0;
         s = (s + 1) & l->mask) {
        if (window_equal(l, ring, head, l->slots[s] - 1)) {
            return true;
        }
    }
    return false;
}

lg_status_t
lg_leak_find(const lg_leak_t *l, const void *text, size_t len,
             lg_span_t *spans, size_t cap, size_t *n)
{
    uint8_t ring[LEAK_MAX_FRAGMENT];
    uint32_t offs[LEAK_MAX_FRAGMENT];
    struct fold f = {text, len, 0, false, false};
    size_t head = 0, fill = 0, found = 0, off, cur_s = 0, cur_e = 0;
    bool have = false;
    uint64_t h = 0;
    uint8_t c;

    if (n != NULL) {
        *n = 0;
    }
    if (l == NULL || n == NULL || (text == NULL && len > 0) ||
        (spans == NULL && cap > 0)) {
        return LG_E_INVAL;
    }
    if (len > UINT32_MAX) {
        return LG_E_LIMIT;
    }
    while (fold_next(&f, &c, &off)) {
        if (fill == l->w) {
            h -= ring[head] * l->pow;
            ring[head] = c;
            offs[head] = (uint32_t)off;
            head = head + 1 == l->w ? 0 : head + 1;
        } else {
            ring[fill] = c;
            offs[fill] = (uint32_t)off;
            fill++;
        }
        h = h * LEAK_BASE + c;
        if (fill == l->w && lookup(l, h, ring, head)) {
            const uint8_t *t = text;
            size_t s = offs[head];
            size_t e = f.i; /* just past the byte of c */

            /* end on a character boundary; no whitespace at either end */
            while (e < len && (t[e] & 0xc0) == 0x80) {
                e++;
            }
            while (e > s && is_space(t[e - 1])) {
                e--;
            }
            while (s < e && is_space(t[s])) {
                s++;
            }
            if (have && s <= cur_e) {
                cur_e = e > cur_e ? e : cur_e;
            } else {
                if (have) {
                    if (found < cap) {
                        spans[found] = (lg_span_t){cur_s, cur_e};
                    }
                    found++;
                }
                have = true;
                cur_s = s;
                cur_e = e;
            }
        }
    }
    if (have) {
        if (found < cap) {
            spans[found] = (lg_span_t){cur_s, cur_e};
        }
        found++;
    }
    *n = found;
    return LG_OK;
}

lg_status_t
lg_canary_new(char *buf, size_t cap)
{
    unsigned char r[12];

    if (buf == NULL || cap < LG_CANARY_SIZE) {
        return LG_E_INVAL;
    }
    if (lg_init() != LG_OK) {
        return LG_E_INTERNAL; /* LCOV_EXCL_LINE */
    }
    randombytes_buf(r, sizeof(r));
    memcpy(buf, "lg-canary-", 10);
    sodium_bin2hex(buf + 10, cap - 10, r, sizeof(r));
    return LG_OK;
}
