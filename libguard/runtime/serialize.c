/*
 * Serialized rules.  Layout (all integers little-endian):
 *
 *   header, 64 bytes:
 *     0  "LGRB"            magic
 *     4  u32 format        LGI_DB_FORMAT
 *     8  u32 lib_version   LG_VERSION_NUM of the writer
 *    12  u32 hs_tune       hs_platform_info_t.tune of the writer
 *    16  u64 hs_features   hs_platform_info_t.cpu_features of the writer
 *    24  u64 payload_len
 *    32  u8[32]            BLAKE2b-256 of the payload
 *   payload:
 *     u32 nrules, u32 npatterns
 *     per rule: str id, str pack, str description, str file, u32 line,
 *       u32 category, u32 severity, u32 score, u32 applies_to, u32 views,
 *       u32 paranoia, u32 validate, u32 has_entity [str entity],
 *       u32 first_pattern, u32 npatterns, u32 has_confirm [str confirm],
 *       u32 confirm_flags, u32 ntags {str}, u32 nrefs {str}
 *     per pattern: str regex, u32 flags, u32 rule
 *     u64 hs_len, hs_len bytes of hs_serialize_database() output
 *   where str = u32 length + bytes (no NUL inside, none after).
 *
 * The loader's input is hostile: every count and length is checked against
 * what remains before anything is allocated from it.  PCRE2 confirmations
 * are recompiled from source; the Hyperscan database is deserialized and
 * checked by Hyperscan itself for version and platform.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal/lg_internal.h"

#define LGI_DB_MAGIC "LGRB"
/* 2: rules carry views; 3: paranoia levels; 4: validators; 5: entities */
#define LGI_DB_FORMAT 5u
#define LGI_DB_HEADER 64u
#define LGI_DB_MAX_STR (1u << 20)

struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
};

static void
w_bytes(struct wbuf *w, const void *src, size_t n)
{
    size_t need;

    /* n == 0 comes with src == NULL (no database, an empty string), which
     * memcpy does not allow. */
    if (w->failed || n == 0) {
        return;
    }
    if (lgi_add_overflow(w->len, n, &need)) {
        w->failed = true; /* LCOV_EXCL_LINE */
        return;           /* LCOV_EXCL_LINE */
    }
    if (need > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        uint8_t *np;

        while (cap < need) {
            cap *= 2;
        }
        np = lgi_realloc(w->p, cap);
        if (np == NULL) {
            w->failed = true;
            return;
        }
        w->p = np;
        w->cap = cap;
    }
    memcpy(w->p + w->len, src, n);
    w->len = need;
}

static void
put_u32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
}

static void
w_u32(struct wbuf *w, uint32_t v)
{
    uint8_t b[4];

    put_u32(b, v);
    w_bytes(w, b, sizeof(b));
}

static void
put_u64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
}

static void
w_u64(struct wbuf *w, uint64_t v)
{
    uint8_t b[8];

    put_u64(b, v);
    w_bytes(w, b, sizeof(b));
}

static void
w_str(struct wbuf *w, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    w_u32(w, (uint32_t)n);
    w_bytes(w, s, n);
}

static void
w_strv(struct wbuf *w, char **v, size_t n)
{
    w_u32(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        w_str(w, v[i]);
    }
}

lg_status_t
lg_rules_serialize(const lg_rules_t *r, void **buf, size_t *len)
{
    struct wbuf w = {0};
    char *hsbytes = NULL;
    size_t hslen = 0;
    hs_platform_info_t plat;
    lg_status_t rc = LG_E_NOMEM;

    if (buf != NULL) {
        *buf = NULL;
    }
    if (len != NULL) {
        *len = 0;
    }
    if (r == NULL || buf == NULL || len == NULL) {
        return LG_E_INVAL;
    }
    if (r->db != NULL) {
        hs_error_t hrc = hs_serialize_database(r->db, &hsbytes, &hslen);

        if (hrc != HS_SUCCESS) {
            return hrc == HS_NOMEM ? LG_E_NOMEM : LG_E_ENGINE;
        }
    }
    if (hs_populate_platform(&plat) != HS_SUCCESS) {
        rc = LG_E_ENGINE; /* LCOV_EXCL_LINE */
        goto out;         /* LCOV_EXCL_LINE */
    }
    {
        uint8_t zero[LGI_DB_HEADER] = {0};

        w_bytes(&w, zero, sizeof(zero));
    }
    w_u32(&w, r->nrules);
    w_u32(&w, r->npatterns);
    for (uint32_t i = 0; i < r->nrules; i++) {
        const struct lgi_rule *ru = &r->rules[i];

        w_str(&w, ru->id);
        w_str(&w, ru->pack);
        w_str(&w, ru->description);
        w_str(&w, ru->file);
        w_u32(&w, ru->line);
        w_u32(&w, (uint32_t)ru->category);
        w_u32(&w, (uint32_t)ru->severity);
        w_u32(&w, ru->score);
        w_u32(&w, ru->applies_to);
        w_u32(&w, ru->views);
        w_u32(&w, ru->paranoia);
        w_u32(&w, ru->validate);
        w_u32(&w, ru->entity != NULL);
        if (ru->entity != NULL) {
            w_str(&w, ru->entity);
        }
        w_u32(&w, ru->first_pattern);
        w_u32(&w, ru->npatterns);
        w_u32(&w, ru->confirm_src != NULL);
        if (ru->confirm_src != NULL) {
            w_str(&w, ru->confirm_src);
        }
        w_u32(&w, ru->confirm_flags);
        w_strv(&w, ru->tags, ru->ntags);
        w_strv(&w, ru->refs, ru->nrefs);
    }
    for (uint32_t i = 0; i < r->npatterns; i++) {
        w_str(&w, r->patterns[i].regex);
        w_u32(&w, r->patterns[i].flags);
        w_u32(&w, r->patterns[i].rule);
    }
    w_u64(&w, hslen);
    w_bytes(&w, hsbytes, hslen);
    if (w.failed) {
        goto out;
    }
    memcpy(w.p, LGI_DB_MAGIC, 4);
    put_u32(w.p + 4, LGI_DB_FORMAT);
    put_u32(w.p + 8, (uint32_t)LG_VERSION_NUM);
    put_u32(w.p + 12, (uint32_t)plat.tune);
    put_u64(w.p + 16, plat.cpu_features);
    put_u64(w.p + 24, w.len - LGI_DB_HEADER);
    crypto_generichash(w.p + 32, 32, w.p + LGI_DB_HEADER,
                       w.len - LGI_DB_HEADER, NULL, 0);
    *buf = w.p;
    *len = w.len;
    w.p = NULL;
    rc = LG_OK;
out:
    lgi_free(w.p);
    /* hs_serialize_database allocates with the misc allocator: free(). */
    free(hsbytes);
    return rc;
}

/* ---- loading ---- */

struct rbuf {
    const uint8_t *p;
    size_t left;
    bool bad;
};

static uint32_t
get_u32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static uint64_t
get_u64(const uint8_t *b)
{
    return (uint64_t)get_u32(b) | (uint64_t)get_u32(b + 4) << 32;
}

static const uint8_t *
r_take(struct rbuf *rb, size_t n)
{
    const uint8_t *p;

    if (rb->bad || n > rb->left) {
        rb->bad = true;
        return NULL;
    }
    p = rb->p;
    rb->p += n;
    rb->left -= n;
    return p;
}

static uint32_t
r_u32(struct rbuf *rb)
{
    const uint8_t *p = r_take(rb, 4);

    return p != NULL ? get_u32(p) : 0;
}

/* A string; *nomem is set on allocation failure, rb->bad on bad input. */
static char *
r_str(struct rbuf *rb, bool *nomem)
{
    uint32_t n = r_u32(rb);
    const uint8_t *p;
    char *s;

    if (n > LGI_DB_MAX_STR) {
        rb->bad = true;
    }
    p = r_take(rb, n);
    if (p == NULL) {
        return NULL;
    }
    if (memchr(p, '\0', n) != NULL) {
        rb->bad = true;
        return NULL;
    }
    s = lgi_strndup((const char *)p, n);
    if (s == NULL) {
        *nomem = true;
    }
    return s;
}

static char **
r_strv(struct rbuf *rb, size_t *count, bool *nomem)
{
    uint32_t n = r_u32(rb);
    char **v;

    *count = 0;
    /* Each string takes at least its 4-byte length: bound before alloc. */
    if (rb->bad || n > rb->left / 4) {
        rb->bad = true;
        return NULL;
    }
    if (n == 0) {
        return NULL;
    }
    v = lgi_calloc(n, sizeof(*v));
    if (v == NULL) {
        *nomem = true;
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        v[i] = r_str(rb, nomem);
        if (v[i] == NULL) {
            break;
        }
        *count = i + 1;
    }
    return v;
}

static lg_status_t
hs_status(hs_error_t e)
{
    switch (e) {
    case HS_NOMEM:
        return LG_E_NOMEM;
    case HS_DB_VERSION_ERROR:
        return LG_E_DB_VERSION;
    case HS_DB_PLATFORM_ERROR:
        return LG_E_DB_PLATFORM;
    default:
        return LG_E_DB_FORMAT;
    }
}

static int
id_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rule ids are unique (lg_rules_find() relies on it); a forged file need
 * not keep to that. */
static lg_status_t
check_unique_ids(const lg_rules_t *r)
{
    char **ids;
    lg_status_t rc = LG_OK;

    if (r->nrules < 2) {
        return LG_OK;
    }
    ids = lgi_calloc(r->nrules, sizeof(*ids));
    if (ids == NULL) {
        return LG_E_NOMEM;
    }
    for (uint32_t i = 0; i < r->nrules; i++) {
        ids[i] = r->rules[i].id;
    }
    qsort(ids, r->nrules, sizeof(*ids), id_cmp);
    for (uint32_t i = 1; i < r->nrules; i++) {
        if (strcmp(ids[i - 1], ids[i]) == 0) {
            rc = LG_E_DB_FORMAT;
            break;
        }
    }
    lgi_free(ids);
    return rc;
}

/* Parse the payload into r.  Returns LG_E_DB_FORMAT for any inconsistency. */
static lg_status_t
parse_payload(lg_rules_t *r, struct rbuf *rb)
{
    bool nomem = false;
    uint32_t nrules = r_u32(rb), npat = r_u32(rb);
    const uint8_t *hsp;
    uint64_t hslen;
    hs_error_t hrc;
    char *info = NULL;
    lg_status_t rc;

    /* Minimum encodings: a rule is at least 14 u32s, a pattern 3. */
    if (rb->bad || nrules > rb->left / 76 || npat > rb->left / 12) {
        return LG_E_DB_FORMAT;
    }
    if (nrules > 0) {
        r->rules = lgi_calloc(nrules, sizeof(*r->rules));
        if (r->rules == NULL) {
            return LG_E_NOMEM;
        }
    }
    for (uint32_t i = 0; i < nrules && !rb->bad && !nomem; i++) {
        struct lgi_rule *ru = &r->rules[i];

        r->nrules = i + 1;
        ru->id = r_str(rb, &nomem);
        ru->pack = r_str(rb, &nomem);
        ru->description = r_str(rb, &nomem);
        ru->file = r_str(rb, &nomem);
        ru->line = r_u32(rb);
        ru->category = (lg_category_t)r_u32(rb);
        ru->severity = (lg_severity_t)r_u32(rb);
        ru->score = r_u32(rb);
        ru->applies_to = r_u32(rb);
        ru->views = r_u32(rb);
        ru->paranoia = r_u32(rb);
        ru->validate = r_u32(rb);
        if (r_u32(rb) != 0) {
            ru->entity = r_str(rb, &nomem);
            if (ru->entity == NULL ||
                !lgi_entity_ok(ru->entity, strlen(ru->entity))) {
                rb->bad = true;
            }
        }
        ru->first_pattern = r_u32(rb);
        ru->npatterns = r_u32(rb);
        if (r_u32(rb) != 0) {
            ru->confirm_src = r_str(rb, &nomem);
            if (ru->confirm_src == NULL) {
                rb->bad = true;
            }
        }
        ru->confirm_flags = r_u32(rb);
        ru->tags = r_strv(rb, &ru->ntags, &nomem);
        ru->refs = r_strv(rb, &ru->nrefs, &nomem);
        if (rb->bad || nomem) {
            break;
        }
        if (ru->id == NULL || ru->id[0] == '\0' || ru->pack == NULL ||
            ru->description == NULL || ru->file == NULL ||
            (unsigned)ru->category >= LG_CATEGORY_COUNT ||
            lg_severity_name(ru->severity) == NULL || ru->score == 0 ||
            ru->applies_to == 0 || (ru->applies_to & ~LG_DIR_BOTH) != 0 ||
            ru->views == 0 || (ru->views & ~LG_VIEW_ALL) != 0 ||
            ru->paranoia == 0 || ru->paranoia > LG_PARANOIA_MAX ||
            ru->validate >= LGI_VAL_COUNT ||
            ru->npatterns == 0 || ru->first_pattern > npat ||
            ru->npatterns > npat - ru->first_pattern ||
            (ru->confirm_flags & ~LGI_PAT_ALL) != 0) {
            rb->bad = true;
        }
    }
    if (nomem) {
        return LG_E_NOMEM;
    }
    if (rb->bad) {
        return LG_E_DB_FORMAT;
    }
    rc = check_unique_ids(r);
    if (rc != LG_OK) {
        return rc;
    }
    if (npat > 0) {
        r->patterns = lgi_calloc(npat, sizeof(*r->patterns));
        if (r->patterns == NULL) {
            return LG_E_NOMEM;
        }
    }
    for (uint32_t i = 0; i < npat && !rb->bad && !nomem; i++) {
        struct lgi_pattern *pt = &r->patterns[i];
        const struct lgi_rule *ru;

        r->npatterns = i + 1;
        pt->regex = r_str(rb, &nomem);
        pt->flags = r_u32(rb);
        pt->rule = r_u32(rb);
        if (rb->bad || nomem) {
            break;
        }
        /* Each pattern must lie inside its own rule's range. */
        if (pt->regex == NULL || pt->rule >= nrules ||
            (pt->flags & ~LGI_PAT_ALL) != 0) {
            rb->bad = true;
            break;
        }
        ru = &r->rules[pt->rule];
        if (i < ru->first_pattern || i - ru->first_pattern >= ru->npatterns) {
            rb->bad = true;
        }
    }
    if (nomem) {
        return LG_E_NOMEM;
    }
    hsp = r_take(rb, 8);
    if (rb->bad || hsp == NULL) {
        return LG_E_DB_FORMAT;
    }
    hslen = get_u64(hsp);
    if (hslen != rb->left || (hslen == 0) != (npat == 0)) {
        return LG_E_DB_FORMAT;
    }
    if (hslen == 0) {
        return LG_OK;
    }
    hrc = hs_deserialize_database((const char *)rb->p, (size_t)hslen, &r->db);
    if (hrc != HS_SUCCESS) {
        r->db = NULL;
        return hs_status(hrc);
    }
    /* Only block-mode databases are scanned by lg_scan(). */
    if (hs_database_info(r->db, &info) != HS_SUCCESS || info == NULL ||
        strstr(info, "Mode: BLOCK") == NULL) {
        free(info);
        return LG_E_DB_FORMAT;
    }
    free(info);
    lgi_rules_set_utf8(r);
    return LG_OK;
}

lg_status_t
lg_rules_load(const void *buf, size_t len, lg_rules_t **out)
{
    const uint8_t *b = buf;
    uint8_t sum[32];
    hs_platform_info_t plat;
    struct rbuf rb;
    lg_rules_t *r = NULL;
    lg_status_t rc;
    uint32_t bad_rule;
    size_t off;
    char msg[128];

    if (out != NULL) {
        *out = NULL;
    }
    if (buf == NULL || out == NULL) {
        return LG_E_INVAL;
    }
    rc = lg_init();
    if (rc != LG_OK) {
        return rc;
    }
    if (len < LGI_DB_HEADER || memcmp(b, LGI_DB_MAGIC, 4) != 0) {
        return LG_E_DB_FORMAT;
    }
    if (get_u32(b + 4) != LGI_DB_FORMAT ||
        (get_u32(b + 8) >> 16) != LG_VERSION_MAJOR) {
        return LG_E_DB_VERSION;
    }
    if (get_u64(b + 24) != len - LGI_DB_HEADER) {
        return LG_E_DB_FORMAT;
    }
    crypto_generichash(sum, sizeof(sum), b + LGI_DB_HEADER,
                       len - LGI_DB_HEADER, NULL, 0);
    if (sodium_memcmp(sum, b + 32, sizeof(sum)) != 0) {
        return LG_E_DB_CHECKSUM;
    }
    if (hs_populate_platform(&plat) != HS_SUCCESS) {
        return LG_E_ENGINE; /* LCOV_EXCL_LINE */
    }
    if ((get_u64(b + 16) & ~plat.cpu_features) != 0) {
        return LG_E_DB_PLATFORM;
    }
    r = lgi_rules_alloc();
    if (r == NULL) {
        return LG_E_NOMEM;
    }
    rb = (struct rbuf){.p = b + LGI_DB_HEADER, .left = len - LGI_DB_HEADER};
    rc = parse_payload(r, &rb);
    if (rc != LG_OK) {
        goto fail;
    }
    rc = lgi_build_confirms(r, &bad_rule, &off, msg, sizeof(msg));
    if (rc == LG_E_COMPILE) {
        rc = LG_E_DB_FORMAT;
    }
    if (rc != LG_OK) {
        goto fail;
    }
    for (uint32_t i = 0; i < r->npatterns; i++) {
        rc = lgi_pattern_prepare(&r->patterns[i], msg, sizeof(msg), &off);
        if (rc != LG_OK) {
            rc = rc == LG_E_COMPILE ? LG_E_DB_FORMAT : rc;
            goto fail;
        }
    }
    *out = r;
    return LG_OK;
fail:
    lgi_rules_destroy(r);
    return rc;
}
