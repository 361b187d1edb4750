/*
 * Redaction of findings in text (lg_redact) and its inverse for encrypted
 * tokens (lg_unredact).
 *
 * lg_redact runs in two passes over the merged spans: the first computes
 * the exact output size (every mode's token length depends only on the
 * span), so LG_E_NOSPACE is reported before anything is written; the
 * second writes.  Spans are produced on the fly from the sorted findings,
 * without allocation; only encrypt mode needs a buffer (nonce, ciphertext
 * and tag of the longest span).
 */
#include <string.h>

#include <sodium.h>

#include "internal/lg_internal.h"

#define RD_HASH_HEX 16u   /* hex digits of a hash token: 8 bytes */
#define RD_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define RD_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define RD_B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
/* KDF context and subkey ids: hash and encrypt keys are independent. */
#define RD_KDF_CTX "lgredact"
#define RD_SUBKEY_HASH 1
#define RD_SUBKEY_ENCRYPT 2

_Static_assert(LG_REDACT_KEYBYTES == crypto_kdf_KEYBYTES, "key size");
_Static_assert(sizeof(RD_KDF_CTX) - 1 == crypto_kdf_CONTEXTBYTES, "ctx");

typedef struct rd_span {
    size_t start, end;
    size_t nchars;  /* mask mode: characters in the span */
    size_t keep_at; /* mask mode: byte offset where the kept tail starts */
    size_t tlen;
    char type[LG_REDACT_TYPE_MAX + 1];
} rd_span_t;

typedef struct rd_iter {
    const lg_rules_t *r;
    const uint8_t *text;
    size_t len;
    const lg_result_t *res;
    uint32_t cats;
    size_t i;
} rd_iter_t;

size_t
lg_redact_keybytes(void)
{
    return LG_REDACT_KEYBYTES;
}

void
lg_redact_opts_init(lg_redact_opts_t *o)
{
    if (o == NULL) {
        return;
    }
    memset(o, 0, sizeof(*o));
    o->mode = LG_REDACT_REPLACE;
    o->categories = LG_REDACT_CATEGORIES_DEFAULT;
    o->mask_keep = 4;
    o->mask_char = '*';
    o->key = NULL;
}

/*
 * Per merged span the longest token is the encrypted one: '<' TYPE ":e:"
 * '>' (LG_REDACT_TYPE_MAX + 5 bytes) plus base64 of nonce, value and tag.
 * Spans are disjoint, so the values sum to at most len, and unpadded
 * base64 of n bytes is at most (4n + 2) / 3: the sum over k spans is at
 * most (4 * (len + k * 40) + 2k) / 3.
 */
size_t
lg_redact_bound(size_t len, size_t nfindings)
{
    size_t fixed, per, b, total;

    if (lgi_mul_overflow(nfindings, LG_REDACT_TYPE_MAX + 5, &fixed) ||
        lgi_mul_overflow(nfindings, 4 * (RD_NONCE + RD_TAG) + 2, &per) ||
        lgi_mul_overflow(len, 4, &b) || lgi_add_overflow(b, per, &b)) {
        return SIZE_MAX;
    }
    b = b / 3 + 1;
    if (lgi_add_overflow(len, fixed, &total) ||
        lgi_add_overflow(total, b, &total)) {
        return SIZE_MAX;
    }
    return total;
}

static int
rd_is_cont(uint8_t c)
{
    return (c & 0xc0) == 0x80;
}

/* Length of the UTF-8 character at p (n bytes left); an invalid byte
 * counts as a character of its own. */
static size_t
rd_char_len(const uint8_t *p, size_t n)
{
    size_t want, k;

    if (p[0] < 0x80) {
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        want = 2;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        want = 3;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        want = 4;
    } else {
        return 1;
    }
    if (want > n) {
        return 1;
    }
    for (k = 1; k < want; k++) {
        if (!rd_is_cont(p[k])) {
            return 1;
        }
    }
    return want;
}

static void
rd_set_type(rd_span_t *sp, const char *entity, lg_category_t cat)
{
    const char *name = entity;
    size_t n = 0;

    if (name == NULL) {
        name = lg_category_name(cat);
        if (name == NULL) {
            name = "REDACTED"; // LCOV_EXCL_LINE
        }
    }
    for (; name[n] != '\0' && n < LG_REDACT_TYPE_MAX; n++) {
        char c = name[n];

        if (c >= 'a' && c <= 'z') {
            c = (char)(c - 'a' + 'A');
        } else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            c = '_';
        }
        sp->type[n] = c;
    }
    sp->type[n] = '\0';
    sp->tlen = n;
}

/* The span of finding f widened to whole UTF-8 characters (at most three
 * bytes each way, so invalid input cannot make it grow without bound). */
static void
rd_widen(const rd_iter_t *it, const lg_finding_t *f, size_t *s, size_t *e)
{
    size_t a = f->start, b = f->end;
    int k;

    for (k = 0; k < 3 && a > 0 && rd_is_cont(it->text[a]); k++) {
        a--;
    }
    for (k = 0; k < 3 && b < it->len && rd_is_cont(it->text[b]); k++) {
        b++;
    }
    *s = a;
    *e = b;
}

/*
 * The next merged span; 0 at the end.  Findings of the chosen categories
 * that overlap or touch (after widening) merge; the type is that of the
 * highest score, an entity winning ties.
 */
static int
rd_next(rd_iter_t *it, rd_span_t *sp)
{
    const lg_finding_t *fs = it->res->findings;
    size_t n = it->res->nfindings;
    uint32_t best_score = 0;
    const char *best_entity = NULL;
    lg_category_t best_cat = LG_CAT_PII;
    int have = 0, picked = 0;

    while (it->i < n) {
        const lg_finding_t *f = &fs[it->i];
        lg_rule_info_t info;
        const char *entity = NULL;
        size_t s, e;

        if ((unsigned)f->category >= 32 ||
            !(it->cats & (1u << (unsigned)f->category))) {
            it->i++;
            continue;
        }
        rd_widen(it, f, &s, &e);
        if (have && s > sp->end) {
            break;
        }
        if (f->rule != LG_RULE_LEAK &&
            lg_rules_info(it->r, f->rule, &info) == LG_OK) {
            entity = info.entity;
        }
        if (!have) {
            sp->start = s;
            sp->end = e;
            have = 1;
        } else {
            sp->start = s < sp->start ? s : sp->start;
            sp->end = e > sp->end ? e : sp->end;
        }
        if (!picked || f->score > best_score ||
            (f->score == best_score && best_entity == NULL &&
             entity != NULL)) {
            picked = 1;
            best_score = f->score;
            best_entity = entity;
            best_cat = f->category;
        }
        it->i++;
    }
    if (have) {
        rd_set_type(sp, best_entity, best_cat);
    }
    return have;
}

/* Mask mode: count the span's characters and find where its tail starts. */
static void
rd_mask_measure(const uint8_t *t, rd_span_t *sp, uint32_t mask_keep)
{
    size_t p, nchars = 0, keep, skip;

    for (p = sp->start; p < sp->end; nchars++) {
        p += rd_char_len(t + p, sp->end - p);
    }
    keep = mask_keep;
    if (keep > nchars / 2) {
        keep = nchars / 2;
    }
    skip = nchars - keep;
    sp->nchars = skip; /* characters replaced by mask_char */
    for (p = sp->start; skip > 0; skip--) {
        p += rd_char_len(t + p, sp->end - p);
    }
    sp->keep_at = p;
}

static size_t
rd_b64_len(size_t bin)
{
    return sodium_base64_encoded_len(bin, RD_B64) - 1; /* minus the NUL */
}

/* Bytes written for one span; 0 only on overflow (tokens are never empty). */
static size_t
rd_span_size(const lg_redact_opts_t *o, const rd_span_t *sp)
{
    size_t n = sp->end - sp->start;

    switch (o->mode) {
    case LG_REDACT_REPLACE:
        return sp->tlen + 2;
    case LG_REDACT_MASK:
        return sp->nchars + (sp->end - sp->keep_at);
    case LG_REDACT_HASH:
        return sp->tlen + 3 + RD_HASH_HEX;
    case LG_REDACT_ENCRYPT:
        if (n > SIZE_MAX / 2 - RD_NONCE - RD_TAG) {
            return 0; // LCOV_EXCL_LINE
        }
        return sp->tlen + 5 + rd_b64_len(RD_NONCE + n + RD_TAG);
    }
    return 0; // LCOV_EXCL_LINE
}

static lg_status_t
rd_check_opts(const lg_redact_opts_t *o)
{
    if (o->mode != LG_REDACT_REPLACE && o->mode != LG_REDACT_MASK &&
        o->mode != LG_REDACT_HASH && o->mode != LG_REDACT_ENCRYPT) {
        return LG_E_INVAL;
    }
    if (o->categories == 0) {
        return LG_E_INVAL;
    }
    if (o->mode == LG_REDACT_MASK &&
        (o->mask_char < 0x21 || o->mask_char > 0x7e)) {
        return LG_E_INVAL;
    }
    if ((o->mode == LG_REDACT_HASH || o->mode == LG_REDACT_ENCRYPT) &&
        o->key == NULL) {
        return LG_E_INVAL;
    }
    return LG_OK;
}

static lg_status_t
rd_check_findings(const lg_result_t *res, size_t len)
{
    size_t i, prev = 0;

    if (res->nfindings > 0 && res->findings == NULL) {
        return LG_E_INVAL;
    }
    for (i = 0; i < res->nfindings; i++) {
        const lg_finding_t *f = &res->findings[i];

        if (f->start >= f->end || f->end > len || f->start < prev) {
            return LG_E_INVAL;
        }
        prev = f->start;
    }
    return LG_OK;
}

/* Write one span's token at w (room checked by the caller). */
static lg_status_t
rd_write_span(const lg_redact_opts_t *o, const uint8_t *t,
              const rd_span_t *sp, const uint8_t *hkey, const uint8_t *ekey,
              uint8_t *tmp, uint8_t *w, size_t size)
{
    const uint8_t *v = t + sp->start;
    size_t n = sp->end - sp->start;
    uint8_t digest[crypto_generichash_BYTES];
    char hex[RD_HASH_HEX + 1];
    unsigned long long clen;
    size_t p = 0;

    if (o->mode == LG_REDACT_MASK) {
        memset(w, o->mask_char, sp->nchars);
        memcpy(w + sp->nchars, t + sp->keep_at, sp->end - sp->keep_at);
        return LG_OK;
    }
    w[p++] = '<';
    memcpy(w + p, sp->type, sp->tlen);
    p += sp->tlen;
    switch (o->mode) {
    case LG_REDACT_REPLACE:
        break;
    case LG_REDACT_HASH:
        if (crypto_generichash(digest, sizeof(digest), v, n, hkey,
                               LG_REDACT_KEYBYTES) != 0) {
            return LG_E_INTERNAL; // LCOV_EXCL_LINE
        }
        sodium_bin2hex(hex, sizeof(hex), digest, RD_HASH_HEX / 2);
        w[p++] = ':';
        memcpy(w + p, hex, RD_HASH_HEX);
        p += RD_HASH_HEX;
        break;
    case LG_REDACT_ENCRYPT:
        randombytes_buf(tmp, RD_NONCE);
        /* The type is authenticated: a token moved under another type
         * does not decrypt. */
        if (crypto_aead_xchacha20poly1305_ietf_encrypt(
                tmp + RD_NONCE, &clen, v, n, (const uint8_t *)sp->type,
                sp->tlen, NULL, tmp, ekey) != 0) {
            return LG_E_INTERNAL; // LCOV_EXCL_LINE
        }
        memcpy(w + p, ":e:", 3);
        p += 3;
        /* The encoder writes a NUL where the '>' goes next. */
        sodium_bin2base64((char *)w + p, size - p, tmp,
                          RD_NONCE + (size_t)clen, RD_B64);
        p += rd_b64_len(RD_NONCE + (size_t)clen);
        break;
    default:
        return LG_E_INTERNAL; // LCOV_EXCL_LINE
    }
    w[p++] = '>';
    return p == size ? LG_OK : LG_E_INTERNAL;
}

lg_status_t
lg_redact(const lg_rules_t *r, const void *text, size_t len,
          const lg_result_t *res, const lg_redact_opts_t *o, void *out,
          size_t cap, size_t *outlen)
{
    lg_redact_opts_t def;
    const uint8_t *t = text;
    uint8_t *w = out;
    uint8_t hkey[LG_REDACT_KEYBYTES], ekey[LG_REDACT_KEYBYTES];
    uint8_t *tmp = NULL;
    rd_iter_t it;
    rd_span_t sp;
    size_t need = 0, prev = 0, maxspan = 0, pos = 0, sz;
    lg_status_t rc;

    if (outlen != NULL) {
        *outlen = 0;
    }
    if (o == NULL) {
        lg_redact_opts_init(&def);
        o = &def;
    }
    if (r == NULL || res == NULL || outlen == NULL ||
        (text == NULL && len > 0) || (out == NULL && cap > 0)) {
        return LG_E_INVAL;
    }
    rc = rd_check_opts(o);
    if (rc == LG_OK) {
        rc = rd_check_findings(res, len);
    }
    if (rc != LG_OK) {
        return rc;
    }

    /* Pass 1: the exact size. */
    memset(&it, 0, sizeof(it));
    it.r = r;
    it.text = t;
    it.len = len;
    it.res = res;
    it.cats = o->categories;
    while (rd_next(&it, &sp)) {
        if (o->mode == LG_REDACT_MASK) {
            rd_mask_measure(t, &sp, o->mask_keep);
        }
        sz = rd_span_size(o, &sp);
        if (sz == 0 || lgi_add_overflow(need, sp.start - prev, &need) ||
            lgi_add_overflow(need, sz, &need)) {
            return LG_E_NOMEM; // LCOV_EXCL_LINE
        }
        if (sp.end - sp.start > maxspan) {
            maxspan = sp.end - sp.start;
        }
        prev = sp.end;
    }
    if (lgi_add_overflow(need, len - prev, &need)) {
        return LG_E_NOMEM; // LCOV_EXCL_LINE
    }
    if (need > cap) {
        *outlen = need;
        return LG_E_NOSPACE;
    }

    if (o->mode == LG_REDACT_HASH || o->mode == LG_REDACT_ENCRYPT) {
        if (lg_init() != LG_OK) {
            return LG_E_INTERNAL; // LCOV_EXCL_LINE
        }
        if (o->mode == LG_REDACT_ENCRYPT) {
            tmp = lgi_malloc(maxspan + RD_NONCE + RD_TAG);
            if (tmp == NULL) {
                return LG_E_NOMEM;
            }
        }
        crypto_kdf_derive_from_key(hkey, sizeof(hkey), RD_SUBKEY_HASH,
                                   RD_KDF_CTX, o->key);
        crypto_kdf_derive_from_key(ekey, sizeof(ekey), RD_SUBKEY_ENCRYPT,
                                   RD_KDF_CTX, o->key);
    }

    /* Pass 2: write. */
    it.i = 0;
    prev = 0;
    rc = LG_OK;
    while (rd_next(&it, &sp)) {
        if (o->mode == LG_REDACT_MASK) {
            rd_mask_measure(t, &sp, o->mask_keep);
        }
        sz = rd_span_size(o, &sp);
        memcpy(w + pos, t + prev, sp.start - prev);
        pos += sp.start - prev;
        rc = rd_write_span(o, t, &sp, hkey, ekey, tmp, w + pos, sz);
        if (rc != LG_OK) {
            goto out; // LCOV_EXCL_LINE
        }
        pos += sz;
        prev = sp.end;
    }
    if (len > prev) {
        memcpy(w + pos, t + prev, len - prev);
        pos += len - prev;
    }
    *outlen = pos;
out:
    if (tmp != NULL) {
        sodium_memzero(tmp, maxspan + RD_NONCE + RD_TAG);
        lgi_free(tmp);
    }
    sodium_memzero(hkey, sizeof(hkey));
    sodium_memzero(ekey, sizeof(ekey));
    if (rc != LG_OK) {
        *outlen = 0; // LCOV_EXCL_LINE
    }
    return rc;
}

static int
rd_is_b64(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Parse "<TYPE:e:B64>" at t[i] == '<'.  On success returns 1 with the
 * token's parts; otherwise 0 and *stop is the first byte that broke the
 * syntax (> i): no token can start before it, since none of the bytes
 * consumed is '<'.
 */
static int
rd_parse_token(const uint8_t *t, size_t len, size_t i, size_t *tlen,
               size_t *b64, size_t *b64len, size_t *stop)
{
    size_t p = i + 1, n = 0;

    while (p < len && n < LG_REDACT_TYPE_MAX &&
           ((t[p] >= 'A' && t[p] <= 'Z') ||
            (n > 0 && ((t[p] >= '0' && t[p] <= '9') || t[p] == '_')))) {
        p++;
        n++;
    }
    if (n == 0 || p + 3 > len || t[p] != ':' || t[p + 1] != 'e' ||
        t[p + 2] != ':') {
        goto fail;
    }
    *tlen = n;
    p += 3;
    *b64 = p;
    while (p < len && rd_is_b64(t[p])) {
        p++;
    }
    if (p == *b64 || p >= len || t[p] != '>') {
        goto fail;
    }
    *b64len = p - *b64;
    *stop = p + 1;
    return 1;
fail:
    *stop = p > i + 1 ? p : i + 1;
    return 0;
}

static void
rd_emit(uint8_t *w, size_t cap, size_t *pos, const void *src, size_t n)
{
    if (n > 0 && *pos <= cap && n <= cap - *pos) {
        memcpy(w + *pos, src, n);
    }
    *pos += n; /* cannot overflow: never more than the input's length */
}

lg_status_t
lg_unredact(const void *text, size_t len, const uint8_t *key, void *out,
            size_t cap, size_t *outlen, size_t *nfailed)
{
    const uint8_t *t = text;
    uint8_t *w = out;
    uint8_t ekey[LG_REDACT_KEYBYTES];
    uint8_t *bin = NULL, *plain;
    size_t i = 0, copied = 0, pos = 0, failed = 0;

    if (outlen != NULL) {
        *outlen = 0;
    }
    if (nfailed != NULL) {
        *nfailed = 0;
    }
    if (key == NULL || outlen == NULL || (text == NULL && len > 0) ||
        (out == NULL && cap > 0)) {
        return LG_E_INVAL;
    }
    if (len > SIZE_MAX / 2) {
        return LG_E_NOMEM; // LCOV_EXCL_LINE
    }
    if (lg_init() != LG_OK) {
        return LG_E_INTERNAL; // LCOV_EXCL_LINE
    }
    crypto_kdf_derive_from_key(ekey, sizeof(ekey), RD_SUBKEY_ENCRYPT,
                               RD_KDF_CTX, key);
    while (i < len) {
        const uint8_t *lt = memchr(t + i, '<', len - i);
        size_t tl, b, bl, stop, binlen;
        unsigned long long mlen;

        if (lt == NULL) {
            break;
        }
        i = (size_t)(lt - t);
        if (!rd_parse_token(t, len, i, &tl, &b, &bl, &stop)) {
            i = stop;
            continue;
        }
        if (bin == NULL) {
            /* decoded bytes, then the plaintext: each below len */
            bin = lgi_malloc(2 * (len / 4 * 3 + 3));
            if (bin == NULL) {
                sodium_memzero(ekey, sizeof(ekey));
                *outlen = 0;
                if (nfailed != NULL) {
                    *nfailed = 0;
                }
                return LG_E_NOMEM;
            }
        }
        plain = bin + len / 4 * 3 + 3;
        if (sodium_base642bin(bin, len / 4 * 3 + 3, (const char *)t + b, bl,
                              NULL, &binlen, NULL, RD_B64) != 0 ||
            binlen < RD_NONCE + RD_TAG ||
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                plain, &mlen, NULL, bin + RD_NONCE, binlen - RD_NONCE,
                t + i + 1, tl, bin, ekey) != 0) {
            failed++;
            i = stop;
            continue;
        }
        rd_emit(w, cap, &pos, t + copied, i - copied);
        rd_emit(w, cap, &pos, plain, (size_t)mlen);
        sodium_memzero(plain, (size_t)mlen);
        i = stop;
        copied = stop;
    }
    if (len > copied) {
        rd_emit(w, cap, &pos, t + copied, len - copied);
    }
    sodium_memzero(ekey, sizeof(ekey));
    if (bin != NULL) {
        lgi_free(bin);
    }
    if (nfailed != NULL) {
        *nfailed = failed;
    }
    *outlen = pos;
    return pos > cap ? LG_E_NOSPACE : LG_OK;
}
