/*
 * JSON records: the selected string values of a record (lg_json_reader),
 * redacted in place (lg_redact_json), and encrypted tokens restored in
 * place (lg_unredact_json).
 *
 * One strict RFC 8259 parser serves all three.  It is iterative: the
 * nesting is a bit stack of LG_JSON_MAX_DEPTH bits (object or array), so
 * a hostile body costs no recursion and no memory per level.  Paths are
 * matched while walking: each path is "alive" at a depth while its first
 * segments match the way down; rows of alive flags exist only down to the
 * longest path, so the state is (longest path + 1) * npaths bytes whatever
 * the depth of the document.  A string at the depth of an alive path's
 * end is a field; subtrees no path reaches are only validated.
 *
 * Redaction and restoration splice: every byte outside the spans that
 * change is copied as it was, so numbers of any size or precision,
 * whitespace, key order and the escapes of each string survive untouched
 * (a DOM library would re-print numbers and refuse integers beyond 64
 * bits, which logs do carry).  Inside a string, a span of the decoded
 * value is mapped back to its literal by walking the literal unit by unit
 * (one raw UTF-8 character or one escape each), which works because spans
 * always cover whole characters.
 */
#include <string.h>

#include <sodium.h>

#include "internal/lg_internal.h"

_Static_assert(LG_JSON_MAX_DEPTH % 64 == 0, "depth bit stack");

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

/* Internal reader flag: every string value (not keys) is a field, with
 * path SIZE_MAX; no paths are given. */
#define RJ_ALL_VALUES 0x80000000u

enum { RJ_KEY, RJ_ANY, RJ_IDX };
enum { ST_VALUE, ST_KEY, ST_AFTER, ST_DONE, ST_ERROR };

typedef struct rj_seg {
    int kind;
    const char *key; /* RJ_KEY: bytes of the key (not NUL-terminated) */
    size_t klen;
    size_t idx;      /* RJ_IDX; SIZE_MAX if it overflowed */
} rj_seg_t;

struct lg_json_reader {
    /* paths: segs[first[p] .. first[p] + nseg[p]), keys in `text` */
    size_t npaths, maxseg;
    size_t *first, *nseg;
    rj_seg_t *segs;
    char *text;
    uint32_t flags;
    /* depths 0 .. maxseg: alive[d * npaths + p], seen (same shape: the
     * object at d had the key of path p), live[d] (some path alive) and
     * idx[d] (index of the current item of the array at d) */
    uint8_t *alive, *seen, *live;
    size_t *idx;
    uint64_t kind[LG_JSON_MAX_DEPTH / 64]; /* bit d: the container at d is
                                              an object */
    /* the walk over one input: only offsets are kept between calls */
    size_t len, pos, depth;
    int state;
    lg_status_t err;
    /* decoded values that had escapes; grows to the longest, is kept */
    uint8_t *buf;
    size_t cap;
};

const char *const *
lg_redact_json_default_paths(void)
{
    return rj_default_paths;
}

/* ---- paths ------------------------------------------------------------- */

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

void
lg_json_reader_free(lg_json_reader_t *rd)
{
    if (rd == NULL) {
        return;
    }
    lgi_free(rd->first);
    lgi_free(rd->nseg);
    lgi_free(rd->segs);
    lgi_free(rd->text);
    lgi_free(rd->alive);
    lgi_free(rd->seen);
    lgi_free(rd->live);
    lgi_free(rd->idx);
    if (rd->buf != NULL) {
        sodium_memzero(rd->buf, rd->cap);
        lgi_free(rd->buf);
    }
    lgi_free(rd);
}

void
lg_json_reader_reset(lg_json_reader_t *rd)
{
    if (rd == NULL) {
        return;
    }
    rd->len = 0;
    rd->pos = 0;
    rd->depth = 0;
    rd->state = ST_VALUE;
    rd->err = LG_OK;
    if (rd->npaths > 0) {
        memset(rd->alive, 1, rd->npaths); /* every path: alive at the root */
        rd->live[0] = 1;
    }
}

static lg_status_t
rj_reader_new(const char *const *paths, size_t npaths, uint32_t flags,
              lg_json_reader_t **out)
{
    lg_json_reader_t *rd;
    size_t p, total = 0, tlen = 0, rows;
    char *t;

    rd = lgi_calloc(1, sizeof(*rd));
    if (rd == NULL) {
        return LG_E_NOMEM;
    }
    rd->flags = flags;
    rd->npaths = npaths;
    for (p = 0; p < npaths; p++) {
        size_t n = rj_path_parse(paths[p], NULL);

        if (n == 0) {
            lg_json_reader_free(rd);
            return LG_E_INVAL;
        }
        total += n; /* bounded by the paths' total length */
        tlen += strlen(paths[p]) + 1;
        if (n > rd->maxseg) {
            rd->maxseg = n;
        }
    }
    if (lgi_mul_overflow(rd->maxseg + 1, npaths, &rows)) {
        lg_json_reader_free(rd); // LCOV_EXCL_LINE
        return LG_E_NOMEM;       // LCOV_EXCL_LINE
    }
    rd->first = lgi_calloc(npaths + 1, sizeof(*rd->first));
    rd->nseg = lgi_calloc(npaths + 1, sizeof(*rd->nseg));
    rd->segs = lgi_calloc(total + 1, sizeof(*rd->segs));
    rd->text = lgi_malloc(tlen + 1);
    rd->alive = lgi_calloc(rows + 1, 1);
    rd->seen = lgi_calloc(rows + 1, 1);
    rd->live = lgi_calloc(rd->maxseg + 1, 1);
    rd->idx = lgi_calloc(rd->maxseg + 1, sizeof(*rd->idx));
    if (rd->first == NULL || rd->nseg == NULL || rd->segs == NULL ||
        rd->text == NULL || rd->alive == NULL || rd->seen == NULL ||
        rd->live == NULL || rd->idx == NULL) {
        lg_json_reader_free(rd);
        return LG_E_NOMEM;
    }
    /* The keys point into a copy of the paths: nothing of the caller's
     * is kept. */
    t = rd->text;
    total = 0;
    for (p = 0; p < npaths; p++) {
        size_t n = strlen(paths[p]) + 1;

        memcpy(t, paths[p], n);
        rd->first[p] = total;
        rd->nseg[p] = rj_path_parse(t, rd->segs + total);
        total += rd->nseg[p];
        t += n;
    }
    lg_json_reader_reset(rd);
    *out = rd;
    return LG_OK;
}

lg_status_t
lg_json_reader_new(const char *const *paths, size_t npaths, uint32_t flags,
                   lg_json_reader_t **out)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (out == NULL || (paths == NULL && npaths > 0) ||
        (flags & ~LG_JSON_REJECT_DUPLICATES) != 0) {
        return LG_E_INVAL;
    }
    for (size_t p = 0; p < npaths; p++) {
        if (paths[p] == NULL) {
            return LG_E_INVAL;
        }
    }
    if (npaths == 0) {
        paths = rj_default_paths;
        npaths = RJ_NDEFAULT;
    }
    return rj_reader_new(paths, npaths, flags, out);
}

size_t
lg_json_reader_offset(const lg_json_reader_t *rd)
{
    return rd == NULL ? 0 : rd->pos;
}

/* ---- strings ----------------------------------------------------------- */

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
 * One unit of a string literal at in[i] (not the closing quote): a raw
 * UTF-8 character or one escape (a surrogate pair is one).  Returns its
 * length in the literal, with its decoded bytes in d[0 .. *dn), or 0 if
 * it is not valid JSON.  Each unit decodes to one whole character.
 */
static size_t
rj_unit(const uint8_t *in, size_t len, size_t i, uint8_t d[4], size_t *dn)
{
    uint32_t cp, lo;
    size_t k;

    if (in[i] < 0x20) {
        return 0;
    }
    if (in[i] != '\\') {
        k = rj_utf8(in + i, len - i);
        if (k > 0) {
            memcpy(d, in + i, k);
            *dn = k;
        }
        return k;
    }
    if (len - i < 2) {
        return 0;
    }
    switch (in[i + 1]) {
    case '"': case '\\': case '/': cp = in[i + 1]; break;
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'n': cp = '\n'; break;
    case 'r': cp = '\r'; break;
    case 't': cp = '\t'; break;
    case 'u':
        if (len - i < 6 || rj_hex4(in + i + 2, &cp) != 0 ||
            (cp >= 0xdc00 && cp <= 0xdfff)) {
            return 0; /* short, not hex, or a lone low surrogate */
        }
        if (cp < 0xd800 || cp > 0xdbff) {
            *dn = rj_put_utf8(d, cp);
            return 6;
        }
        if (len - i < 12 || in[i + 6] != '\\' || in[i + 7] != 'u' ||
            rj_hex4(in + i + 8, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
            return 0;
        }
        *dn = rj_put_utf8(d, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
        return 12;
    default:
        return 0;
    }
    d[0] = (uint8_t)cp;
    *dn = 1;
    return 2;
}

/*
 * Validate the string literal at *pos (which is '"').  On success *pos is
 * past the closing quote and *esc says whether it has escapes; on failure
 * *pos is the offending byte (len if the input ended).
 */
static lg_status_t
rj_scan_string(const uint8_t *in, size_t len, size_t *pos, int *esc)
{
    size_t i = *pos + 1;
    uint8_t d[4];
    size_t dn, k;

    *esc = 0;
    for (;;) {
        while (i < len && in[i] >= 0x20 && in[i] < 0x80 && in[i] != '"' &&
               in[i] != '\\') {
            i++;
        }
        if (i >= len) {
            *pos = len;
            return LG_E_INVAL;
        }
        if (in[i] == '"') {
            *pos = i + 1;
            return LG_OK;
        }
        if (in[i] == '\\') {
            *esc = 1;
        }
        k = rj_unit(in, len, i, d, &dn);
        if (k == 0) {
            *pos = i;
            return LG_E_INVAL;
        }
        i += k;
    }
}

/* Decode the validated literal [start, end) (quotes included) into d;
 * returns the decoded length (never more than end - start - 2). */
static size_t
rj_decode(const uint8_t *in, size_t start, size_t end, uint8_t *d)
{
    size_t i = start + 1, n = 0, dn = 0;

    while (i < end - 1) {
        i += rj_unit(in, end - 1, i, d + n, &dn);
        n += dn;
    }
    return n;
}

/* Does the validated key literal [start, end) decode to key[0 .. klen)? */
static int
rj_key_eq(const uint8_t *in, size_t start, size_t end, int esc,
          const char *key, size_t klen)
{
    size_t i = start + 1, n = 0, dn = 0;
    uint8_t d[4];

    if (!esc) {
        return end - start - 2 == klen &&
               memcmp(in + start + 1, key, klen) == 0;
    }
    while (i < end - 1) {
        i += rj_unit(in, end - 1, i, d, &dn);
        if (dn > klen - n || memcmp(d, key + n, dn) != 0) {
            return 0;
        }
        n += dn;
    }
    return n == klen;
}

/* ---- the walk ---------------------------------------------------------- */

static void
rj_ws(const uint8_t *in, size_t len, size_t *pos)
{
    size_t i = *pos;

    while (i < len &&
           (in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r')) {
        i++;
    }
    *pos = i;
}

static lg_status_t
rj_fail(lg_json_reader_t *rd, lg_status_t rc, size_t at)
{
    rd->state = ST_ERROR;
    rd->err = rc;
    rd->pos = at;
    return rc;
}

/* The row of depth d if some path is alive there, else NULL. */
static const uint8_t *
rj_row(const lg_json_reader_t *rd, size_t d)
{
    return d <= rd->maxseg && rd->npaths > 0 && rd->live[d]
               ? rd->alive + d * rd->npaths
               : NULL;
}

/* Row d + 1 for item `i` of the array at depth d. */
static void
rj_child_index(lg_json_reader_t *rd, size_t d, size_t i)
{
    const uint8_t *al = rj_row(rd, d);
    uint8_t *ch, any = 0;

    if (d + 1 > rd->maxseg || rd->npaths == 0) {
        return;
    }
    ch = rd->alive + (d + 1) * rd->npaths;
    for (size_t p = 0; p < rd->npaths; p++) {
        const rj_seg_t *sg = &rd->segs[rd->first[p] + d];

        ch[p] = al != NULL && al[p] && rd->nseg[p] > d &&
                (sg->kind == RJ_ANY || (sg->kind == RJ_IDX && sg->idx == i));
        any |= ch[p];
    }
    rd->live[d + 1] = any;
}

/* Row d + 1 for the key literal [ks, ke) of the object at depth d; -1 if
 * a selected key is there twice and duplicates are refused. */
static int
rj_child_key(lg_json_reader_t *rd, const uint8_t *in, size_t d, size_t ks,
             size_t ke, int esc)
{
    const uint8_t *al = rj_row(rd, d);
    uint8_t *ch, *seen, any = 0;

    if (d + 1 > rd->maxseg || rd->npaths == 0) {
        return 0;
    }
    ch = rd->alive + (d + 1) * rd->npaths;
    seen = rd->seen + d * rd->npaths;
    for (size_t p = 0; p < rd->npaths; p++) {
        const rj_seg_t *sg = &rd->segs[rd->first[p] + d];

        ch[p] = 0;
        if (al == NULL || !al[p] || rd->nseg[p] <= d || sg->kind != RJ_KEY ||
            !rj_key_eq(in, ks, ke, esc, sg->key, sg->klen)) {
            continue;
        }
        if (seen[p] && (rd->flags & LG_JSON_REJECT_DUPLICATES)) {
            return -1;
        }
        seen[p] = 1;
        ch[p] = 1;
        any = 1;
    }
    rd->live[d + 1] = any;
    return 0;
}

/* The first path that ends at the string at depth d; SIZE_MAX if none. */
static size_t
rj_selects(const lg_json_reader_t *rd, size_t d)
{
    const uint8_t *al = rj_row(rd, d);

    for (size_t p = 0; al != NULL && p < rd->npaths; p++) {
        if (al[p] && rd->nseg[p] == d) {
            return p;
        }
    }
    return SIZE_MAX;
}

static int
rj_is_object(const lg_json_reader_t *rd, size_t d)
{
    return (int)((rd->kind[d / 64] >> (d % 64)) & 1u);
}

static lg_status_t
rj_number(lg_json_reader_t *rd, const uint8_t *p, size_t n)
{
    size_t i = rd->pos, d;

    if (p[i] == '-') {
        i++;
    }
    if (i < n && p[i] == '0') {
        i++;
    } else {
        for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        }
        if (i == d) {
            return rj_fail(rd, LG_E_INVAL, i);
        }
    }
    if (i < n && p[i] == '.') {
        for (d = ++i; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        }
        if (i == d) {
            return rj_fail(rd, LG_E_INVAL, i);
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
            return rj_fail(rd, LG_E_INVAL, i);
        }
    }
    rd->pos = i;
    rd->state = ST_AFTER;
    return LG_OK;
}

static lg_status_t
rj_literal(lg_json_reader_t *rd, const uint8_t *in, size_t len,
           const char *lit, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (rd->pos + i >= len || in[rd->pos + i] != (uint8_t)lit[i]) {
            return rj_fail(rd, LG_E_INVAL, rd->pos + i);
        }
    }
    rd->pos += n;
    rd->state = ST_AFTER;
    return LG_OK;
}

/* A string that is a field: fill *f, decoding into rd->buf if needed. */
static lg_status_t
rj_field(lg_json_reader_t *rd, const uint8_t *in, size_t start, size_t end,
         int esc, size_t path, lg_json_field_t *f)
{
    f->path = path;
    f->start = start;
    f->end = end;
    if (!esc) {
        f->value = (const char *)in + start + 1;
        f->len = end - start - 2;
        return LG_OK;
    }
    if (end - start > rd->cap) {
        uint8_t *nb = lgi_malloc(end - start);

        if (nb == NULL) {
            return rj_fail(rd, LG_E_NOMEM, start);
        }
        if (rd->buf != NULL) {
            sodium_memzero(rd->buf, rd->cap);
            lgi_free(rd->buf);
        }
        rd->buf = nb;
        rd->cap = end - start;
    }
    f->len = rj_decode(in, start, end, rd->buf);
    f->value = (const char *)rd->buf;
    return LG_OK;
}

/* A value starts at rd->pos (whitespace skipped), at depth rd->depth. */
static lg_status_t
rj_step_value(lg_json_reader_t *rd, const uint8_t *in, size_t len,
              lg_json_field_t *f, int *found)
{
    size_t d = rd->depth, start = rd->pos, path;
    lg_status_t rc;
    int esc;

    if (rd->pos >= len) {
        return rj_fail(rd, LG_E_INVAL, len);
    }
    switch (in[rd->pos]) {
    case '{':
    case '[':
        if (d >= LG_JSON_MAX_DEPTH) {
            return rj_fail(rd, LG_E_LIMIT, rd->pos);
        }
        if (in[rd->pos] == '{') {
            rd->kind[d / 64] |= (uint64_t)1 << (d % 64);
            if (d < rd->maxseg && rd->npaths > 0) {
                memset(rd->seen + d * rd->npaths, 0, rd->npaths);
            }
        } else {
            rd->kind[d / 64] &= ~((uint64_t)1 << (d % 64));
            if (d <= rd->maxseg) {
                rd->idx[d] = 0;
            }
        }
        rd->depth = d + 1;
        rd->pos++;
        rj_ws(in, len, &rd->pos);
        if (rd->pos < len && in[rd->pos] == (in[start] == '{' ? '}' : ']')) {
            rd->pos++;
            rd->depth = d;
            rd->state = ST_AFTER;
        } else if (in[start] == '{') {
            rd->state = ST_KEY;
        } else {
            rj_child_index(rd, d, 0);
            rd->state = ST_VALUE;
        }
        return LG_OK;
    case '"':
        rc = rj_scan_string(in, len, &rd->pos, &esc);
        if (rc != LG_OK) {
            return rj_fail(rd, rc, rd->pos);
        }
        rd->state = ST_AFTER;
        path = (rd->flags & RJ_ALL_VALUES) ? SIZE_MAX : rj_selects(rd, d);
        if (path != SIZE_MAX || (rd->flags & RJ_ALL_VALUES)) {
            rc = rj_field(rd, in, start, rd->pos, esc, path, f);
            if (rc == LG_OK) {
                *found = 1;
            }
        }
        return rc;
    case 't':
        return rj_literal(rd, in, len, "true", 4);
    case 'f':
        return rj_literal(rd, in, len, "false", 5);
    case 'n':
        return rj_literal(rd, in, len, "null", 4);
    default:
        if (in[rd->pos] == '-' || (in[rd->pos] >= '0' && in[rd->pos] <= '9')) {
            return rj_number(rd, in, len);
        }
        return rj_fail(rd, LG_E_INVAL, rd->pos);
    }
}

/* A key is expected in the object at depth rd->depth - 1. */
static lg_status_t
rj_step_key(lg_json_reader_t *rd, const uint8_t *in, size_t len)
{
    size_t d = rd->depth - 1, ks = rd->pos;
    lg_status_t rc;
    int esc;

    if (ks >= len || in[ks] != '"') {
        return rj_fail(rd, LG_E_INVAL, ks);
    }
    rc = rj_scan_string(in, len, &rd->pos, &esc);
    if (rc != LG_OK) {
        return rj_fail(rd, rc, rd->pos);
    }
    /* A key a path selects, twice: readers differ on which value they
     * take, so one of them may see what was never looked at. */
    if (rj_child_key(rd, in, d, ks, rd->pos, esc) != 0) {
        return rj_fail(rd, LG_E_INVAL, ks);
    }
    rj_ws(in, len, &rd->pos);
    if (rd->pos >= len || in[rd->pos] != ':') {
        return rj_fail(rd, LG_E_INVAL, rd->pos);
    }
    rd->pos++;
    rd->state = ST_VALUE;
    return LG_OK;
}

/* A value at depth rd->depth has ended. */
static lg_status_t
rj_step_after(lg_json_reader_t *rd, const uint8_t *in, size_t len)
{
    size_t d;
    int obj;

    if (rd->depth == 0) {
        if (rd->pos != len) {
            return rj_fail(rd, LG_E_INVAL, rd->pos); /* trailing bytes */
        }
        rd->state = ST_DONE;
        return LG_OK;
    }
    d = rd->depth - 1;
    obj = rj_is_object(rd, d);
    if (rd->pos >= len) {
        return rj_fail(rd, LG_E_INVAL, len);
    }
    if (in[rd->pos] == ',') {
        rd->pos++;
        if (obj) {
            rd->state = ST_KEY;
        } else {
            if (d <= rd->maxseg) {
                rd->idx[d]++;
                rj_child_index(rd, d, rd->idx[d]);
            }
            rd->state = ST_VALUE;
        }
        return LG_OK;
    }
    if (in[rd->pos] == (obj ? '}' : ']')) {
        rd->pos++;
        rd->depth = d;
        return LG_OK;
    }
    return rj_fail(rd, LG_E_INVAL, rd->pos);
}

lg_status_t
lg_json_reader_next(lg_json_reader_t *rd, const char *json, size_t len,
                    lg_json_field_t *f, int *found)
{
    const uint8_t *in = (const uint8_t *)json;
    lg_status_t rc = LG_OK;
    int got = 0;

    if (f != NULL) {
        memset(f, 0, sizeof(*f));
    }
    if (found != NULL) {
        *found = 0;
    }
    if (rd == NULL || json == NULL || f == NULL || found == NULL) {
        return LG_E_INVAL;
    }
    if (rd->state == ST_ERROR) {
        return rd->err;
    }
    /* The first call fixes the length; later ones must pass the same. */
    if (rd->pos == 0 && rd->depth == 0 && rd->state == ST_VALUE) {
        rd->len = len;
    } else if (len != rd->len) {
        return LG_E_INVAL;
    }
    while (rc == LG_OK && !got && rd->state != ST_DONE) {
        rj_ws(in, len, &rd->pos);
        switch (rd->state) {
        case ST_VALUE:
            rc = rj_step_value(rd, in, len, f, &got);
            break;
        case ST_KEY:
            rc = rj_step_key(rd, in, len);
            break;
        default:
            rc = rj_step_after(rd, in, len);
            break;
        }
    }
    if (rc != LG_OK) {
        memset(f, 0, sizeof(*f));
        return rc;
    }
    *found = got;
    return LG_OK;
}

/* ---- splicing output --------------------------------------------------- */

typedef struct rj_out {
    const uint8_t *in;
    size_t len;
    uint8_t *out;
    size_t olen, ocap, copied; /* input bytes before `copied` are out */
    size_t lit, dec;           /* cursor in the string being rewritten */
} rj_out_t;

static lg_status_t
rj_emit(rj_out_t *o, const void *p, size_t n)
{
    if (n > o->ocap - o->olen) {
        size_t cap = o->ocap ? o->ocap : 256;
        uint8_t *nb;

        while (cap - o->olen < n) {
            if (lgi_mul_overflow(cap, 2, &cap)) {
                return LG_E_NOMEM; // LCOV_EXCL_LINE
            }
        }
        nb = lgi_malloc(cap);
        if (nb == NULL) {
            return LG_E_NOMEM;
        }
        if (o->olen > 0) {
            memcpy(nb, o->out, o->olen);
            /* The old buffer may hold restored secrets. */
            sodium_memzero(o->out, o->olen);
        }
        lgi_free(o->out);
        o->out = nb;
        o->ocap = cap;
    }
    if (n > 0) {
        memcpy(o->out + o->olen, p, n);
        o->olen += n;
    }
    return LG_OK;
}

/* Emit bytes as the inside of a JSON string: only '"', '\' and control
 * characters are escaped, as most JSON writers do. */
static lg_status_t
rj_emit_escaped(rj_out_t *o, const uint8_t *p, size_t n)
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
        rc = rj_emit(o, p + run, i - run);
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
            rc = rj_emit(o, e, en);
        }
        run = i + 1;
    }
    if (rc == LG_OK) {
        rc = rj_emit(o, p + run, n - run);
    }
    return rc;
}

/* Start rewriting the string field f: the input up to its opening quote
 * goes out, and the cursor is at the start of its value. */
static lg_status_t
rj_splice_begin(rj_out_t *o, const lg_json_field_t *f)
{
    o->lit = f->start + 1;
    o->dec = 0;
    return rj_emit(o, o->in + o->copied, o->lit - o->copied);
}

/* Move the cursor to decoded offset `to` (a character boundary), copying
 * the literal passed over when `copy`. */
static lg_status_t
rj_splice_to(rj_out_t *o, const lg_json_field_t *f, size_t to, int copy)
{
    size_t from = o->lit, dn = 0;
    uint8_t d[4];

    while (o->dec < to && o->lit < f->end - 1) {
        o->lit += rj_unit(o->in, f->end - 1, o->lit, d, &dn);
        o->dec += dn;
    }
    if (o->dec != to) {
        return LG_E_INTERNAL; // LCOV_EXCL_LINE
    }
    return copy ? rj_emit(o, o->in + from, o->lit - from) : LG_OK;
}

/* Copy the rest of the string being rewritten, its closing quote too. */
static lg_status_t
rj_splice_end(rj_out_t *o, const lg_json_field_t *f)
{
    lg_status_t rc = rj_emit(o, o->in + o->lit, f->end - o->lit);

    o->copied = f->end;
    return rc;
}

/* The input after the last splice, and the NUL (not counted). */
static lg_status_t
rj_out_finish(rj_out_t *o, char **out, size_t *outlen)
{
    lg_status_t rc = rj_emit(o, o->in + o->copied, o->len - o->copied);

    if (rc == LG_OK) {
        rc = rj_emit(o, "", 1);
    }
    if (rc == LG_OK) {
        *out = (char *)o->out;
        *outlen = o->olen - 1;
        o->out = NULL;
    }
    return rc;
}

static void
rj_out_free(rj_out_t *o)
{
    if (o->out != NULL) {
        sodium_memzero(o->out, o->olen);
        lgi_free(o->out);
    }
}

/* ---- redaction --------------------------------------------------------- */

typedef struct rj_redact {
    lg_scratch_t *s;
    uint32_t dir;
    const lg_redact_opts_t *o;
    lg_finding_t *fs; /* one merged span's findings, shifted */
    size_t fcap;
    uint8_t *rbuf;    /* its redaction */
    size_t rcap;
} rj_redact_t;

static int
rj_is_cont(uint8_t c)
{
    return (c & 0xc0) == 0x80;
}

static int
rj_selected(const rj_redact_t *x, const lg_finding_t *f)
{
    return (unsigned)f->category < 32 &&
           (x->o->categories & (1u << (unsigned)f->category)) != 0;
}

/* A finding widened to whole characters, as lg_redact() does. */
static void
rj_widen(const uint8_t *v, size_t n, const lg_finding_t *f, size_t *s,
         size_t *e)
{
    size_t a = f->start, b = f->end;

    while (a > 0 && rj_is_cont(v[a])) {
        a--;
    }
    while (b < n && rj_is_cont(v[b])) {
        b++;
    }
    *s = a;
    *e = b;
}

/*
 * Scan and redact one field.  The findings of the chosen categories are
 * grouped as lg_redact() merges them (widened to characters, overlapping
 * or touching); each group is redacted by lg_redact() on its own span, so
 * its token is known, and spliced over the span's literal.  The literal
 * around the spans is kept as it was.
 */
static lg_status_t
rj_redact_field(rj_redact_t *x, rj_out_t *o, const lg_json_field_t *f)
{
    const uint8_t *v = (const uint8_t *)f->value;
    lg_result_t res, sub;
    size_t i = 0, begun = 0;
    lg_status_t rc;

    rc = lg_scan(x->s, v, f->len, x->dir, NULL, &res);
    if (rc != LG_OK || (res.categories & x->o->categories) == 0) {
        return rc;
    }
    if (res.nfindings > x->fcap) {
        lg_finding_t *nf = lgi_malloc(res.nfindings * sizeof(*nf));

        if (nf == NULL) {
            return LG_E_NOMEM;
        }
        lgi_free(x->fs);
        x->fs = nf;
        x->fcap = res.nfindings;
    }
    while (i < res.nfindings) {
        size_t s, e, s2, e2, k = 0, bound, m;

        if (!rj_selected(x, &res.findings[i])) {
            i++;
            continue;
        }
        rj_widen(v, f->len, &res.findings[i], &s, &e);
        for (; i < res.nfindings; i++) {
            if (!rj_selected(x, &res.findings[i])) {
                continue;
            }
            rj_widen(v, f->len, &res.findings[i], &s2, &e2);
            if (s2 > e) {
                break;
            }
            e = e2 > e ? e2 : e;
            x->fs[k++] = res.findings[i];
        }
        for (size_t q = 0; q < k; q++) {
            x->fs[q].start -= s;
            x->fs[q].end -= s;
        }
        memset(&sub, 0, sizeof(sub));
        sub.findings = x->fs;
        sub.nfindings = k;
        bound = lg_redact_bound(e - s, k);
        if (bound == SIZE_MAX) {
            return LG_E_NOMEM; // LCOV_EXCL_LINE
        }
        if (bound > x->rcap) {
            uint8_t *nb = lgi_malloc(bound);

            if (nb == NULL) {
                return LG_E_NOMEM;
            }
            lgi_free(x->rbuf);
            x->rbuf = nb;
            x->rcap = bound;
        }
        rc = lg_redact(lg_scratch_rules(x->s), v + s, e - s, &sub, x->o,
                       x->rbuf, x->rcap, &m);
        if (rc != LG_OK) {
            return rc;
        }
        if (m == e - s && memcmp(x->rbuf, v + s, m) == 0) {
            continue; /* e.g. a mask of mask characters */
        }
        if (!begun) {
            rc = rj_splice_begin(o, f);
            begun = 1;
        }
        if (rc == LG_OK) {
            rc = rj_splice_to(o, f, s, 1);
        }
        if (rc == LG_OK) {
            rc = rj_emit_escaped(o, x->rbuf, m);
        }
        if (rc == LG_OK) {
            rc = rj_splice_to(o, f, e, 0);
        }
        if (rc != LG_OK) {
            return rc;
        }
    }
    return begun ? rj_splice_end(o, f) : LG_OK;
}

lg_status_t
lg_redact_json(lg_scratch_t *s, uint32_t dir, const char *json, size_t len,
               const char *const *paths, size_t npaths,
               const lg_redact_opts_t *o, char **out, size_t *outlen)
{
    lg_redact_opts_t def;
    lg_json_reader_t *rd = NULL;
    lg_json_field_t f;
    rj_redact_t x;
    rj_out_t w;
    lg_status_t rc;
    int found = 0;

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
    memset(&x, 0, sizeof(x));
    memset(&w, 0, sizeof(w));
    x.s = s;
    x.dir = dir;
    x.o = o;
    w.in = (const uint8_t *)json;
    w.len = len;
    rc = lg_json_reader_new(paths, npaths, LG_JSON_REJECT_DUPLICATES, &rd);
    while (rc == LG_OK) {
        rc = lg_json_reader_next(rd, json, len, &f, &found);
        if (rc != LG_OK || !found) {
            break;
        }
        rc = rj_redact_field(&x, &w, &f);
    }
    if (rc == LG_OK) {
        rc = rj_out_finish(&w, out, outlen);
    }
    rj_out_free(&w);
    lg_json_reader_free(rd);
    lgi_free(x.fs);
    if (x.rbuf != NULL) {
        sodium_memzero(x.rbuf, x.rcap);
        lgi_free(x.rbuf);
    }
    return rc;
}

/* ---- restoration ------------------------------------------------------- */

static int
rj_is_b64(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Is there "<TYPE:e:B64>" at v[i] == '<' (the syntax lg_unredact()
 * reads)?  On success *stop is just past its '>'. */
static int
rj_token_at(const uint8_t *v, size_t n, size_t i, size_t *stop)
{
    size_t p = i + 1, t = 0, b;

    while (p < n && t < LG_REDACT_TYPE_MAX &&
           ((v[p] >= 'A' && v[p] <= 'Z') ||
            (t > 0 && ((v[p] >= '0' && v[p] <= '9') || v[p] == '_')))) {
        p++;
        t++;
    }
    if (t == 0 || n - p < 3 || v[p] != ':' || v[p + 1] != 'e' ||
        v[p + 2] != ':') {
        return 0;
    }
    p += 3;
    for (b = p; p < n && rj_is_b64(v[p]); p++) {
    }
    if (p == b || p >= n || v[p] != '>') {
        return 0;
    }
    *stop = p + 1;
    return 1;
}

/* The literal offset of decoded offset `to` in field f. */
static size_t
rj_lit_offset(const uint8_t *in, const lg_json_field_t *f, size_t to)
{
    size_t lit = f->start + 1, dec = 0, dn = 0;
    uint8_t d[4];

    while (dec < to && lit < f->end - 1) {
        lit += rj_unit(in, f->end - 1, lit, d, &dn);
        dec += dn;
    }
    return lit;
}

/* Restore the tokens of one string value; LG_E_TOKEN (with *erroff) on
 * the first that does not authenticate. */
static lg_status_t
rj_unredact_field(rj_out_t *o, const lg_json_field_t *f, const uint8_t *key,
                  uint8_t **pbuf, size_t *pcap, size_t *erroff)
{
    const uint8_t *v = (const uint8_t *)f->value;
    size_t i = 0, begun = 0;
    lg_status_t rc = LG_OK;

    while (i < f->len) {
        const uint8_t *lt = memchr(v + i, '<', f->len - i);
        size_t stop, m = 0, failed = 0;

        if (lt == NULL) {
            break;
        }
        i = (size_t)(lt - v);
        if (!rj_token_at(v, f->len, i, &stop)) {
            i++;
            continue;
        }
        if (stop - i > *pcap) {
            uint8_t *nb = lgi_malloc(stop - i);

            if (nb == NULL) {
                return LG_E_NOMEM;
            }
            if (*pbuf != NULL) {
                sodium_memzero(*pbuf, *pcap);
                lgi_free(*pbuf);
            }
            *pbuf = nb;
            *pcap = stop - i;
        }
        /* The plaintext is never longer than its token. */
        rc = lg_unredact(v + i, stop - i, key, *pbuf, *pcap, &m, &failed);
        if (rc == LG_OK && failed > 0) {
            *erroff = rj_lit_offset(o->in, f, i);
            rc = LG_E_TOKEN;
        }
        if (rc == LG_OK && !begun) {
            rc = rj_splice_begin(o, f);
            begun = 1;
        }
        if (rc == LG_OK) {
            rc = rj_splice_to(o, f, i, 1);
        }
        if (rc == LG_OK) {
            rc = rj_emit_escaped(o, *pbuf, m);
        }
        sodium_memzero(*pbuf, m < *pcap ? m : *pcap);
        if (rc == LG_OK) {
            rc = rj_splice_to(o, f, stop, 0);
        }
        if (rc != LG_OK) {
            return rc;
        }
        i = stop;
    }
    return begun ? rj_splice_end(o, f) : LG_OK;
}

lg_status_t
lg_unredact_json(const char *json, size_t len, const uint8_t *key,
                 char **out, size_t *outlen, size_t *erroff)
{
    lg_json_reader_t *rd = NULL;
    lg_json_field_t f;
    rj_out_t w;
    uint8_t *pbuf = NULL;
    size_t pcap = 0, eoff = 0;
    lg_status_t rc, tok = LG_OK;
    int found = 0;

    if (out != NULL) {
        *out = NULL;
    }
    if (outlen != NULL) {
        *outlen = 0;
    }
    if (erroff != NULL) {
        *erroff = 0;
    }
    if (json == NULL || key == NULL || out == NULL || outlen == NULL) {
        return LG_E_INVAL;
    }
    memset(&w, 0, sizeof(w));
    w.in = (const uint8_t *)json;
    w.len = len;
    rc = rj_reader_new(NULL, 0, RJ_ALL_VALUES, &rd);
    while (rc == LG_OK) {
        rc = lg_json_reader_next(rd, json, len, &f, &found);
        if (rc != LG_OK) {
            eoff = lg_json_reader_offset(rd);
            break;
        }
        if (!found) {
            rc = tok;
            break;
        }
        /* After a token that does not authenticate, the rest is only
         * validated: a record that is not JSON is reported as such. */
        if (tok == LG_OK) {
            tok = rj_unredact_field(&w, &f, key, &pbuf, &pcap, &eoff);
            if (tok != LG_E_TOKEN) {
                rc = tok;
            }
        }
    }
    if (rc == LG_OK) {
        rc = rj_out_finish(&w, out, outlen);
    }
    if (rc != LG_OK && erroff != NULL &&
        (rc == LG_E_INVAL || rc == LG_E_LIMIT || rc == LG_E_TOKEN)) {
        *erroff = eoff;
    }
    rj_out_free(&w);
    lg_json_reader_free(rd);
    if (pbuf != NULL) {
        sodium_memzero(pbuf, pcap);
        lgi_free(pbuf);
    }
    return rc;
}
