/*
 * Redaction of JSON records field by field (lg_redact_json).
 *
 * A strict RFC 8259 parser walks the record once and splices: every byte
 * outside the strings that are redacted is copied as it was, so numbers of
 * any size or precision, whitespace and key order survive untouched (a DOM
 * library would re-print numbers and refuse integers beyond 64 bits, which
 * logs do carry).  Paths are matched while walking: each path is "alive"
 * at a depth while its first segments match the way down, and a string at
 * the depth of an alive path's end is decoded, scanned, redacted and
 * re-encoded.  Subtrees no path reaches are only validated.
 */
#include <string.h>

#include "internal/lg_internal.h"

/* Nesting deeper than this is refused (LG_E_LIMIT): the walk recurses. */
#define RJ_MAX_DEPTH 512

static const char *const rj_default_paths[] = {
    "prompt",
    "prompt[*]",
    "input",
    "input[*]",
    "input[*].content",
    "input[*].content[*].text",
    "instructions",
    "system",
    "system[*].text",
    "messages[*].content",
    "messages[*].content[*].text",
    "messages[*].content[*].content",
    "choices[*].text",
    "choices[*].message.content",
    "choices[*].delta.content",
    "completion",
    "content[*].text",
    "output[*].content[*].text",
    "output_text",
    NULL,
};

#define RJ_NDEFAULT (sizeof(rj_default_paths) / sizeof(rj_default_paths[0]) - 1)

enum { RJ_KEY, RJ_ANY, RJ_IDX };

typedef struct rj_seg {
    int kind;
    const char *key; /* RJ_KEY: bytes of the key (not NUL-terminated) */
    size_t klen;
    size_t idx;      /* RJ_IDX; SIZE_MAX if it overflowed */
} rj_seg_t;

typedef struct rj {
    const uint8_t *in;
    size_t len, pos;
    /* paths: segs[first[p] .. first[p] + nseg[p]) */
    size_t npaths, maxseg;
    size_t *first, *nseg;
    rj_seg_t *segs;
    uint8_t *alive; /* (maxseg + 1) * npaths: alive[d * npaths + p] */
    uint8_t *seen;  /* same shape: key of path p seen in the object at d */
    /* output, spliced: input bytes before `copied` are already out */
    uint8_t *out;
    size_t olen, ocap, copied;
    /* a decoded string and its redaction */
    uint8_t *sbuf, *rbuf;
    size_t rcap;
    lg_scratch_t *s;
    uint32_t dir;
    const lg_redact_opts_t *o;
    size_t changed;
} rj_t;

const char *const *
lg_redact_json_default_paths(void)
{
    return rj_default_paths;
}

static int
rj_key_byte(char c)
{
    return c != '\0' && c != '.' && c != '[' && c != ']';
}

/* Parse a path into segments (segs may be NULL: count only).  Returns the
 * number of segments, or 0 if the syntax is wrong. */
static size_t
rj_path_parse(const char *p, rj_seg_t *segs)
{
    size_t n = 0;
    int first = 1;

    if (p == NULL || *p == '\0') {
        return 0;
    }
    while (*p != '\0') {
        rj_seg_t sg = {0, NULL, 0, 0};

        if (*p == '[') {
            p++;
            if (*p == '*') {
                sg.kind = RJ_ANY;
                p++;
            } else {
                if (*p < '0' || *p > '9') {
                    return 0;
                }
                sg.kind = RJ_IDX;
                for (; *p >= '0' && *p <= '9'; p++) {
                    size_t d = (size_t)(*p - '0');

                    sg.idx = sg.idx > (SIZE_MAX - d) / 10 ? SIZE_MAX
                                                          : sg.idx * 10 + d;
                }
            }
            if (*p != ']') {
                return 0;
            }
            p++;
        } else {
            if (!first) {
                if (*p != '.') {
                    return 0;
                }
                p++;
            }
            if (!rj_key_byte(*p)) {
                return 0;
            }
            sg.kind = RJ_KEY;
            sg.key = p;
            while (rj_key_byte(*p)) {
                p++;
            }
            sg.klen = (size_t)(p - sg.key);
        }
        if (segs != NULL) {
            segs[n] = sg;
        }
        n++;
        first = 0;
    }
    return n;
}

lg_status_t
lg_redact_path_check(const char *path)
{
    return rj_path_parse(path, NULL) > 0 ? LG_OK : LG_E_INVAL;
}

/* ---- output ------------------------------------------------------------ */

static lg_status_t
rj_emit(rj_t *j, const void *p, size_t n)
{
    if (n > j->ocap - j->olen) {
        size_t cap = j->ocap ? j->ocap : 256;
        uint8_t *nb;

        while (cap - j->olen < n) {
            if (lgi_mul_overflow(cap, 2, &cap)) {
                return LG_E_NOMEM; // LCOV_EXCL_LINE
            }
        }
        nb = lgi_realloc(j->out, cap);
        if (nb == NULL) {
            return LG_E_NOMEM;
        }
        j->out = nb;
        j->ocap = cap;
    }
    memcpy(j->out + j->olen, p, n);
    j->olen += n;
    return LG_OK;
}

/* Emit bytes as the inside of a JSON string. */
static lg_status_t
rj_emit_escaped(rj_t *j, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    lg_status_t rc = LG_OK;

    for (i = 0; i < n && rc == LG_OK; i++) {
        uint8_t c = p[i];
        char e[6];
        size_t en = 2;

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        rc = rj_emit(j, p + run, i - run);
        e[0] = '\\';
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default:
            memcpy(e + 1, "u00", 3);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            en = 6;
            break;
        }
        if (rc == LG_OK) {
            rc = rj_emit(j, e, en);
        }
        run = i + 1;
    }
    if (rc == LG_OK) {
        rc = rj_emit(j, p + run, n - run);
    }
    return rc;
}

/* ---- parsing ----------------------------------------------------------- */

static void
rj_ws(rj_t *j)
{
    while (j->pos < j->len &&
           (j->in[j->pos] == ' ' || j->in[j->pos] == '\t' ||
            j->in[j->pos] == '\n' || j->in[j->pos] == '\r')) {
        j->pos++;
    }
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t
rj_utf8(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
            (c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
            (p[3] & 0xc0) != 0x80 || (c == 0xf0 && p[1] < 0x90) ||
            (c == 0xf4 && p[1] > 0x8f)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

static int
rj_hex4(const uint8_t *p, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        uint32_t d;

        if (c >= '0' && c <= '9') {
            d = (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (uint32_t)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (uint32_t)(c - 'A' + 10);
        } else {
            return -1;
        }
        *v = *v << 4 | d;
    }
    return 0;
}

static size_t
rj_put_utf8(uint8_t *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (uint8_t)(0xc0 | cp >> 6);
        d[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (uint8_t)(0xe0 | cp >> 12);
        d[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (uint8_t)(0xf0 | cp >> 18);
    d[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * The string at pos (which is '"'), validated; decoded into j->sbuf when
 * `decode` (decoded text is never longer than its JSON form).
 */
static lg_status_t
rj_string(rj_t *j, int decode, size_t *dlen)
{
    size_t n = 0;

    j->pos++;
    for (;;) {
        uint8_t c;

        if (j->pos >= j->len) {
            return LG_E_INVAL;
        }
        c = j->in[j->pos];
        if (c == '"') {
            j->pos++;
            break;
        }
        if (c < 0x20) {
            return LG_E_INVAL;
        }
        if (c == '\\') {
            uint32_t cp, lo;
            uint8_t e;

            if (j->pos + 1 >= j->len) {
                return LG_E_INVAL;
            }
            e = j->in[j->pos + 1];
            j->pos += 2;
            switch (e) {
            case '"': case '\\': case '/': cp = e; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (j->len - j->pos < 4 || rj_hex4(j->in + j->pos, &cp) != 0) {
                    return LG_E_INVAL;
                }
                j->pos += 4;
                if (cp >= 0xdc00 && cp <= 0xdfff) {
                    return LG_E_INVAL; /* a lone low surrogate */
                }
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (j->len - j->pos < 6 || j->in[j->pos] != '\\' ||
                        j->in[j->pos + 1] != 'u' ||
                        rj_hex4(j->in + j->pos + 2, &lo) != 0 ||
                        lo < 0xdc00 || lo > 0xdfff) {
                        return LG_E_INVAL;
                    }
                    j->pos += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                break;
            default:
                return LG_E_INVAL;
            }
            if (decode) {
                n += rj_put_utf8(j->sbuf + n, cp);
            }
            continue;
        }
        {
            size_t k = rj_utf8(j->in + j->pos, j->len - j->pos);

            if (k == 0) {
                return LG_E_INVAL;
            }
            if (decode) {
                memcpy(j->sbuf + n, j->in + j->pos, k);
                n += k;
            }
            j->pos += k;
        }
    }
    if (dlen != NULL) {
        *dlen = n;
    }
    return LG_OK;
}

static lg_status_t
rj_number(rj_t *j)
{
    const uint8_t *p = j->in;
    size_t i = j->pos, n = j->len, d;

    if (i < n && p[i] == '-') {
        i++;
    }
    if (i < n && p[i] == '0') {
        i++;
    } else {
        for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        }
        if (i == d) {
            return LG_E_INVAL;
        }
    }
    if (i < n && p[i] == '.') {
        for (d = ++i; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        }
        if (i == d) {
            return LG_E_INVAL;
        }
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) {
            i++;
        }
        for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        }
        if (i == d) {
            return LG_E_INVAL;
        }
    }
    j->pos = i;
    return LG_OK;
}

static lg_status_t
rj_literal(rj_t *j, const char *lit)
{
    size_t n = strlen(lit);

    if (j->len - j->pos < n || memcmp(j->in + j->pos, lit, n) != 0) {
        return LG_E_INVAL;
    }
    j->pos += n;
    return LG_OK;
}

/* Scan and redact the string at pos; splice it if anything changed. */
static lg_status_t
rj_redact_string(rj_t *j)
{
    size_t start = j->pos, n, bound, m;
    lg_result_t res;
    lg_status_t rc;

    rc = rj_string(j, 1, &n);
    if (rc != LG_OK) {
        return rc;
    }
    rc = lg_scan(j->s, j->sbuf, n, j->dir, NULL, &res);
    if (rc != LG_OK || (res.categories & j->o->categories) == 0) {
        return rc;
    }
    bound = lg_redact_bound(n, res.nfindings);
    if (bound == SIZE_MAX) {
        return LG_E_NOMEM; // LCOV_EXCL_LINE
    }
    if (bound > j->rcap) {
        uint8_t *nb = lgi_realloc(j->rbuf, bound);

        if (nb == NULL) {
            return LG_E_NOMEM;
        }
        j->rbuf = nb;
        j->rcap = bound;
    }
    rc = lg_redact(lg_scratch_rules(j->s), j->sbuf, n, &res, j->o, j->rbuf,
                   j->rcap, &m);
    if (rc != LG_OK || (m == n && memcmp(j->rbuf, j->sbuf, n) == 0)) {
        return rc;
    }
    rc = rj_emit(j, j->in + j->copied, start - j->copied);
    if (rc == LG_OK) {
        rc = rj_emit(j, "\"", 1);
    }
    if (rc == LG_OK) {
        rc = rj_emit_escaped(j, j->rbuf, m);
    }
    if (rc == LG_OK) {
        rc = rj_emit(j, "\"", 1);
    }
    j->copied = j->pos;
    j->changed++;
    return rc;
}

static lg_status_t rj_value(rj_t *j, size_t d, int live);

/* alive[d] row for depth d, or NULL beyond the longest path. */
static uint8_t *
rj_row(rj_t *j, uint8_t *base, size_t d)
{
    return d <= j->maxseg ? base + d * j->npaths : NULL;
}

static lg_status_t
rj_object(rj_t *j, size_t d, int live)
{
    uint8_t *al = live ? rj_row(j, j->alive, d) : NULL;
    uint8_t *seen = live ? rj_row(j, j->seen, d) : NULL;
    uint8_t *child = live ? rj_row(j, j->alive, d + 1) : NULL;
    int want_keys = 0;
    lg_status_t rc;
    size_t p;

    if (al != NULL) {
        for (p = 0; p < j->npaths; p++) {
            seen[p] = 0;
            if (al[p] && j->nseg[p] > d &&
                j->segs[j->first[p] + d].kind == RJ_KEY) {
                want_keys = 1;
            }
        }
    }
    j->pos++;
    rj_ws(j);
    if (j->pos < j->len && j->in[j->pos] == '}') {
        j->pos++;
        return LG_OK;
    }
    for (;;) {
        size_t klen = 0;
        int any = 0;

        rj_ws(j);
        if (j->pos >= j->len || j->in[j->pos] != '"') {
            return LG_E_INVAL;
        }
        rc = rj_string(j, want_keys, &klen);
        if (rc != LG_OK) {
            return rc;
        }
        if (want_keys && child != NULL) {
            for (p = 0; p < j->npaths; p++) {
                const rj_seg_t *sg = &j->segs[j->first[p] + d];

                child[p] = 0;
                if (!al[p] || j->nseg[p] <= d || sg->kind != RJ_KEY ||
                    sg->klen != klen || memcmp(sg->key, j->sbuf, klen) != 0) {
                    continue;
                }
                /* A key a path selects, twice: a reader taking the first
                 * would see what was not redacted. */
                if (seen[p]) {
                    return LG_E_INVAL;
                }
                seen[p] = 1;
                child[p] = 1;
                any = 1;
            }
        }
        rj_ws(j);
        if (j->pos >= j->len || j->in[j->pos] != ':') {
            return LG_E_INVAL;
        }
        j->pos++;
        rc = rj_value(j, d + 1, any);
        if (rc != LG_OK) {
            return rc;
        }
        rj_ws(j);
        if (j->pos < j->len && j->in[j->pos] == ',') {
            j->pos++;
            continue;
        }
        if (j->pos < j->len && j->in[j->pos] == '}') {
            j->pos++;
            return LG_OK;
        }
        return LG_E_INVAL;
    }
}

static lg_status_t
rj_array(rj_t *j, size_t d, int live)
{
    uint8_t *al = live ? rj_row(j, j->alive, d) : NULL;
    uint8_t *child = live ? rj_row(j, j->alive, d + 1) : NULL;
    lg_status_t rc;
    size_t i, p;

    j->pos++;
    rj_ws(j);
    if (j->pos < j->len && j->in[j->pos] == ']') {
        j->pos++;
        return LG_OK;
    }
    for (i = 0;; i++) {
        int any = 0;

        if (al != NULL && child != NULL) {
            for (p = 0; p < j->npaths; p++) {
                const rj_seg_t *sg = &j->segs[j->first[p] + d];

                child[p] = al[p] && j->nseg[p] > d &&
                           (sg->kind == RJ_ANY ||
                            (sg->kind == RJ_IDX && sg->idx == i));
                any |= child[p];
            }
        }
        rc = rj_value(j, d + 1, any);
        if (rc != LG_OK) {
            return rc;
        }
        rj_ws(j);
        if (j->pos < j->len && j->in[j->pos] == ',') {
            j->pos++;
            continue;
        }
        if (j->pos < j->len && j->in[j->pos] == ']') {
            j->pos++;
            return LG_OK;
        }
        return LG_E_INVAL;
    }
}

/* The value at pos, at depth d; `live` if some path is alive here. */
static lg_status_t
rj_value(rj_t *j, size_t d, int live)
{
    uint8_t c;

    if (d > RJ_MAX_DEPTH) {
        return LG_E_LIMIT;
    }
    rj_ws(j);
    if (j->pos >= j->len) {
        return LG_E_INVAL;
    }
    c = j->in[j->pos];
    switch (c) {
    case '{':
        return rj_object(j, d, live);
    case '[':
        return rj_array(j, d, live);
    case '"':
        if (live) {
            const uint8_t *al = rj_row(j, j->alive, d);

            for (size_t p = 0; al != NULL && p < j->npaths; p++) {
                if (al[p] && j->nseg[p] == d) {
                    return rj_redact_string(j);
                }
            }
        }
        return rj_string(j, 0, NULL);
    case 't':
        return rj_literal(j, "true");
    case 'f':
        return rj_literal(j, "false");
    case 'n':
        return rj_literal(j, "null");
    default:
        return c == '-' || (c >= '0' && c <= '9') ? rj_number(j)
                                                  : LG_E_INVAL;
    }
}

static lg_status_t
rj_setup_paths(rj_t *j, const char *const *paths, size_t npaths)
{
    size_t p, total = 0, rows;

    j->npaths = npaths;
    j->first = lgi_calloc(npaths, sizeof(*j->first));
    j->nseg = lgi_calloc(npaths, sizeof(*j->nseg));
    if (j->first == NULL || j->nseg == NULL) {
        return LG_E_NOMEM;
    }
    for (p = 0; p < npaths; p++) {
        size_t n = rj_path_parse(paths[p], NULL);

        if (n == 0) {
            return LG_E_INVAL;
        }
        j->first[p] = total;
        j->nseg[p] = n;
        total += n; /* bounded by the paths' total length */
        if (n > j->maxseg) {
            j->maxseg = n;
        }
    }
    j->segs = lgi_calloc(total, sizeof(*j->segs));
    if (lgi_mul_overflow(j->maxseg + 1, npaths, &rows)) {
        return LG_E_NOMEM; // LCOV_EXCL_LINE
    }
    j->alive = lgi_calloc(rows, 1);
    j->seen = lgi_calloc(rows, 1);
    if (j->segs == NULL || j->alive == NULL || j->seen == NULL) {
        return LG_E_NOMEM;
    }
    for (p = 0; p < npaths; p++) {
        (void)rj_path_parse(paths[p], j->segs + j->first[p]);
        j->alive[p] = 1; /* every path is alive at the root */
    }
    return LG_OK;
}

lg_status_t
lg_redact_json(lg_scratch_t *s, uint32_t dir, const char *json, size_t len,
               const char *const *paths, size_t npaths,
               const lg_redact_opts_t *o, char **out, size_t *outlen)
{
    lg_redact_opts_t def;
    rj_t j;
    lg_status_t rc;

    if (out != NULL) {
        *out = NULL;
    }
    if (outlen != NULL) {
        *outlen = 0;
    }
    if (o == NULL) {
        lg_redact_opts_init(&def);
        o = &def;
    }
    if (s == NULL || json == NULL || out == NULL || outlen == NULL ||
        (paths == NULL && npaths > 0) || dir == 0 ||
        (dir & ~LG_DIR_BOTH) != 0 || o->categories == 0 ||
        (o->mode == LG_REDACT_MASK &&
         (o->mask_char < 0x21 || o->mask_char > 0x7e)) ||
        ((o->mode == LG_REDACT_HASH || o->mode == LG_REDACT_ENCRYPT) &&
         o->key == NULL) ||
        (unsigned)o->mode > (unsigned)LG_REDACT_ENCRYPT) {
        return LG_E_INVAL;
    }
    if (npaths == 0) {
        paths = rj_default_paths;
        npaths = RJ_NDEFAULT;
    }
    memset(&j, 0, sizeof(j));
    j.in = (const uint8_t *)json;
    j.len = len;
    j.s = s;
    j.dir = dir;
    j.o = o;
    rc = rj_setup_paths(&j, paths, npaths);
    if (rc != LG_OK) {
        goto out;
    }
    j.sbuf = lgi_malloc(len);
    if (j.sbuf == NULL) {
        rc = LG_E_NOMEM;
        goto out;
    }
    rc = rj_value(&j, 0, 1);
    if (rc == LG_OK) {
        rj_ws(&j);
        if (j.pos != j.len) {
            rc = LG_E_INVAL; /* trailing bytes */
        }
    }
    if (rc == LG_OK) {
        rc = rj_emit(&j, j.in + j.copied, len - j.copied);
    }
    if (rc == LG_OK) {
        rc = rj_emit(&j, "", 1); /* the NUL, not counted */
    }
    if (rc == LG_OK) {
        *out = (char *)j.out;
        *outlen = j.olen - 1;
        j.out = NULL;
    }
out:
    lgi_free(j.out);
    lgi_free(j.sbuf);
    lgi_free(j.rbuf);
    lgi_free(j.segs);
    lgi_free(j.alive);
    lgi_free(j.seen);
    lgi_free(j.first);
    lgi_free(j.nseg);
    return rc;
}
