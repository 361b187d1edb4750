/*
 * Fuzz target: the JSON reader (lg_json_reader_*), lg_unredact_json() and
 * the redact/unredact round trip of lg_redact_json().
 *
 * Input: two option bytes, then the document.  Byte 0 picks which of eight
 * fixed paths are used (none: the default set); byte 1 bit 0 sets
 * LG_JSON_REJECT_DUPLICATES, bit 1 takes one more path from the start of
 * the document (up to its first newline, which is then skipped).
 *
 * Checked for every input:
 *   - a path is refused by lg_json_reader_new() exactly when the harness's
 *     own path parser refuses it;
 *   - each field's span lies in the input, starts and ends with a quote,
 *     follows the previous one, and its literal, decoded by jansson, is
 *     the reported value; an unescaped value points into the input;
 *   - differential against jansson (JSON_DECODE_ANY | JSON_ALLOW_NUL, so
 *     that both read the same language): where jansson reads the document,
 *     the reader accepts it and gives exactly the (path, value) pairs, in
 *     document order, that walking jansson's tree with the same paths
 *     gives.  The legitimate differences, and only they, are allowed:
 *       depth    the reader refuses more than LG_JSON_MAX_DEPTH nested
 *                arrays and objects (LG_E_LIMIT), jansson 2048;
 *       numbers  jansson refuses integers beyond 64 bits and reals beyond
 *                double (json_error_numeric_overflow), the reader any size;
 *       NUL keys jansson refuses "\u0000" in keys
 *                (json_error_null_byte_in_key), the reader takes them;
 *       NUL      jansson takes a raw NUL byte for the end of the input
 *                (so accepts "1\0"); the reader must refuse any raw NUL;
 *       dups     jansson keeps the last value of a key given twice (so its
 *                pairs are a sub-multiset of the reader's, which gives
 *                each), and under LG_JSON_REJECT_DUPLICATES the reader
 *                refuses a selected key twice, which jansson must then
 *                also find (JSON_REJECT_DUPLICATES).
 *     For numbers and NUL keys, the reader's verdict on the rest of the
 *     document cannot be checked against jansson's and is not.
 *   - errors are sticky and their offset is within the input;
 *   - lg_unredact_json() accepts what the reader accepts (no tokens can be
 *     forged, so it returns the input byte for byte, or LG_E_TOKEN), and
 *     refuses the rest with the reader's error and offset;
 *   - lg_redact_json() in encrypt mode, with a pack whose matches span
 *     quotes, backslashes and multibyte characters, then lg_unredact_json(),
 *     gives the document back: byte for byte when every selected string
 *     was written with the minimal escapes lg_redact_json() writes, and
 *     the same JSON value (jansson's json_equal) in any case.
 */
#include <jansson.h>

#include "fuzz_check.h"

#define FJ_MAXPATHS 9
#define FJ_MAXSEG 64
#define FJ_JFLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

static const char *const fj_paths[8] = {
    "a",
    "a[*]",
    "a[1].b",
    "[*]",
    "[0][*].x",
    "messages[*].content",
    "q\"\\\xc3\xa9",
    "b.c[*]",
};

static const char pack[] =
    "version: 1\n"
    "pack: fuzzjson\n"
    "pack_version: '1'\n"
    "views: [raw]\n"
    "rules:\n"
    "  - id: fj.span\n"
    "    category: secret\n"
    "    description: k, up to six bytes of anything but k, k\n"
    "    severity: critical\n"
    "    applies_to: both\n"
    "    patterns: ['k[^k]{0,6}k']\n"
    "  - id: fj.word\n"
    "    category: pii\n"
    "    description: a short word, to merge with the other\n"
    "    severity: low\n"
    "    entity: WORD\n"
    "    applies_to: both\n"
    "    patterns: ['zz[a-z]{1,3}']\n";

static lg_rules_t *g_rules;
static uint8_t g_key[LG_REDACT_KEYBYTES];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_rules = fz_build(fz_compiler("fuzz_json.c", pack, sizeof(pack) - 1),
                       "fuzz_json");
    for (size_t i = 0; i < LG_REDACT_KEYBYTES; i++) {
        g_key[i] = (uint8_t)(i * 11 + 3);
    }
    return 0;
}

/* ---- the harness's own path parser and matcher ------------------------- */

typedef struct fj_seg {
    int kind; /* 0 key, 1 [*], 2 [N] */
    const char *key;
    size_t klen;
    size_t idx; /* SIZE_MAX: too large for any array */
} fj_seg_t;

typedef struct fj_path {
    fj_seg_t seg[FJ_MAXSEG];
    size_t n;
} fj_path_t;

/* 1 if `s` is a valid path (stored in *p when it fits), else 0. */
static int
fj_parse(const char *s, fj_path_t *p, int *fits)
{
    size_t i = 0, n = 0;

    *fits = 1;
    if (s[0] == '\0') {
        return 0;
    }
    while (s[i] != '\0') {
        fj_seg_t g = {0, NULL, 0, 0};

        if (s[i] == '[') {
            i++;
            if (s[i] == '*') {
                g.kind = 1;
                i++;
            } else if (s[i] >= '0' && s[i] <= '9') {
                g.kind = 2;
                while (s[i] >= '0' && s[i] <= '9') {
                    size_t d = (size_t)(s[i] - '0');

                    g.idx = g.idx > (SIZE_MAX - d) / 10 ? SIZE_MAX
                                                        : g.idx * 10 + d;
                    i++;
                }
            } else {
                return 0;
            }
            if (s[i] != ']') {
                return 0;
            }
            i++;
        } else {
            if (n > 0) {
                if (s[i] != '.') {
                    return 0;
                }
                i++;
            }
            g.key = s + i;
            while (s[i] != '\0' && s[i] != '.' && s[i] != '[' &&
                   s[i] != ']') {
                i++;
            }
            g.klen = (size_t)(s + i - g.key);
            if (g.klen == 0) {
                return 0;
            }
        }
        if (n < FJ_MAXSEG) {
            p->seg[n] = g;
        } else {
            *fits = 0;
        }
        n++;
    }
    p->n = n;
    return 1;
}

/* One step of the concrete path to a value in jansson's tree. */
typedef struct fj_step {
    const char *key; /* NULL: array index */
    size_t klen, idx;
} fj_step_t;

static int
fj_matches(const fj_path_t *p, const fj_step_t *c, size_t depth)
{
    if (p->n != depth) {
        return 0;
    }
    for (size_t i = 0; i < depth; i++) {
        const fj_seg_t *g = &p->seg[i];

        if (g->kind == 0) {
            if (c[i].key == NULL || c[i].klen != g->klen ||
                memcmp(c[i].key, g->key, g->klen) != 0) {
                return 0;
            }
        } else if (c[i].key != NULL || (g->kind == 2 && g->idx != c[i].idx)) {
            return 0;
        }
    }
    return 1;
}

/* ---- (path, value) pairs ----------------------------------------------- */

typedef struct fj_pair {
    size_t path;
    char *v;
    size_t len;
} fj_pair_t;

typedef struct fj_pairs {
    fj_pair_t *p;
    size_t n, cap;
} fj_pairs_t;

static void
fj_push(fj_pairs_t *ps, size_t path, const char *v, size_t len)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 16;
        ps->p = realloc(ps->p, ps->cap * sizeof(*ps->p));
        if (ps->p == NULL) {
            abort();
        }
    }
    ps->p[ps->n].path = path;
    ps->p[ps->n].v = fz_xmalloc(len);
    if (len > 0) {
        memcpy(ps->p[ps->n].v, v, len);
    }
    ps->p[ps->n].len = len;
    ps->n++;
}

static void
fj_pairs_free(fj_pairs_t *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->p[i].v);
    }
    free(ps->p);
}

static int
fj_pair_eq(const fj_pair_t *a, const fj_pair_t *b)
{
    return a->path == b->path && a->len == b->len &&
           (a->len == 0 || memcmp(a->v, b->v, a->len) == 0);
}

/* Every pair of `sub` matched by a distinct pair of `all`. */
static int
fj_submultiset(const fj_pairs_t *sub, const fj_pairs_t *all)
{
    char *used = calloc(all->n + 1, 1);
    int ok = 1;

    if (used == NULL) {
        abort();
    }
    for (size_t i = 0; i < sub->n && ok; i++) {
        size_t k;

        for (k = 0; k < all->n; k++) {
            if (!used[k] && fj_pair_eq(&sub->p[i], &all->p[k])) {
                used[k] = 1;
                break;
            }
        }
        ok = k < all->n;
    }
    free(used);
    return ok;
}

/* Walk jansson's tree in document order; the pairs the paths select. */
static void
fj_walk(json_t *v, fj_step_t *c, size_t depth, const fj_path_t *paths,
        size_t npaths, fj_pairs_t *out)
{
    if (json_is_string(v)) {
        for (size_t p = 0; p < npaths; p++) {
            if (fj_matches(&paths[p], c, depth)) {
                fj_push(out, p, json_string_value(v), json_string_length(v));
                break;
            }
        }
        return;
    }
    if (depth >= FJ_MAXSEG) {
        return; /* below every path */
    }
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            c[depth].key = NULL;
            c[depth].idx = i;
            fj_walk(json_array_get(v, i), c, depth + 1, paths, npaths, out);
        }
    } else if (json_is_object(v)) {
        for (void *it = json_object_iter(v); it != NULL;
             it = json_object_iter_next(v, it)) {
            c[depth].key = json_object_iter_key(it);
            c[depth].klen = json_object_iter_key_len(it);
            fj_walk(json_object_iter_value(it), c, depth + 1, paths, npaths,
                    out);
        }
    }
}

static size_t
fj_depth(json_t *v)
{
    size_t d = 0;

    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            size_t k = fj_depth(json_array_get(v, i));

            d = k > d ? k : d;
        }
        return d + 1;
    }
    if (json_is_object(v)) {
        for (void *it = json_object_iter(v); it != NULL;
             it = json_object_iter_next(v, it)) {
            size_t k = fj_depth(json_object_iter_value(it));

            d = k > d ? k : d;
        }
        return d + 1;
    }
    return 0;
}

/* ---- the reader's side ------------------------------------------------- */

/* Run the reader over the document, checking every field; the pairs. */
static lg_status_t
fj_read(const char *const *paths, size_t npaths, uint32_t flags,
        const uint8_t *t, size_t n, fj_pairs_t *out, size_t *erroff)
{
    lg_json_reader_t *rd = NULL;
    lg_json_field_t f;
    lg_status_t rc;
    size_t prev_end = 0, want_paths = npaths ? npaths : 19;
    int found = 0;

    FZ_CHECK(lg_json_reader_new(paths, npaths, flags, &rd) == LG_OK);
    for (;;) {
        rc = lg_json_reader_next(rd, (const char *)t, n, &f, &found);
        if (rc != LG_OK || !found) {
            break;
        }
        FZ_CHECK(f.path < want_paths);
        FZ_CHECK(f.start >= prev_end && f.start + 2 <= f.end && f.end <= n);
        FZ_CHECK(t[f.start] == '"' && t[f.end - 1] == '"');
        FZ_CHECK(f.value != NULL);
        if (memchr(t + f.start + 1, '\\', f.end - f.start - 2) == NULL) {
            FZ_CHECK(f.value == (const char *)t + f.start + 1);
            FZ_CHECK(f.len == f.end - f.start - 2);
        }
        {
            json_error_t err;
            json_t *s = json_loadb((const char *)t + f.start, f.end - f.start,
                                   FJ_JFLAGS, &err);

            FZ_CHECK(s != NULL && json_is_string(s));
            FZ_CHECK(json_string_length(s) == f.len);
            FZ_CHECK(f.len == 0 ||
                     memcmp(json_string_value(s), f.value, f.len) == 0);
            json_decref(s);
        }
        prev_end = f.end;
        fj_push(out, f.path, f.value, f.len);
    }
    *erroff = lg_json_reader_offset(rd);
    if (rc != LG_OK) {
        FZ_CHECK(*erroff <= n);
        FZ_CHECK(f.value == NULL && f.len == 0 && found == 0);
        /* Errors are sticky. */
        FZ_CHECK(lg_json_reader_next(rd, (const char *)t, n, &f, &found) ==
                 rc);
        FZ_CHECK(lg_json_reader_offset(rd) == *erroff);
    } else {
        FZ_CHECK(*erroff == n);
        /* Done stays done; another length is refused. */
        FZ_CHECK(lg_json_reader_next(rd, (const char *)t, n, &f, &found) ==
                     LG_OK &&
                 found == 0);
        FZ_CHECK(lg_json_reader_next(rd, (const char *)t, n + 1, &f,
                                     &found) == LG_E_INVAL);
    }
    lg_json_reader_free(rd);
    return rc;
}

/* ---- lg_unredact_json and the round trip ------------------------------- */

/* Is the literal [s, e) exactly what lg_redact_json() writes for its
 * decoded value v? */
static int
fj_minimal(const uint8_t *t, size_t s, size_t e, const char *v, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = s + 1;

    for (size_t k = 0; k < n; k++) {
        uint8_t c = (uint8_t)v[k];
        char w[6];
        size_t wn = 2;

        w[0] = '\\';
        switch (c) {
        case '"': w[1] = '"'; break;
        case '\\': w[1] = '\\'; break;
        case '\n': w[1] = 'n'; break;
        case '\r': w[1] = 'r'; break;
        case '\t': w[1] = 't'; break;
        case '\b': w[1] = 'b'; break;
        case '\f': w[1] = 'f'; break;
        default:
            if (c >= 0x20) {
                w[0] = (char)c;
                wn = 1;
            } else {
                memcpy(w + 1, "u00", 3);
                w[4] = hex[c >> 4];
                w[5] = hex[c & 15];
                wn = 6;
            }
        }
        if (e - 1 - i < wn || memcmp(t + i, w, wn) != 0) {
            return 0;
        }
        i += wn;
    }
    return i == e - 1;
}

static void
fj_roundtrip(const char *const *paths, size_t npaths, const uint8_t *t,
             size_t n, json_t *jroot)
{
    lg_scratch_t *s = NULL;
    lg_redact_opts_t o;
    lg_json_reader_t *rd = NULL;
    lg_json_field_t f;
    char *red = NULL, *back = NULL;
    size_t m = 0, mb = 0, off = 0;
    int found = 0, canonical = 1;
    lg_status_t rc;

    /* Are all selected strings written minimally? */
    FZ_CHECK(lg_json_reader_new(paths, npaths, LG_JSON_REJECT_DUPLICATES,
                                &rd) == LG_OK);
    while (lg_json_reader_next(rd, (const char *)t, n, &f, &found) ==
               LG_OK &&
           found) {
        if (!fj_minimal(t, f.start, f.end, f.value, f.len)) {
            canonical = 0;
        }
    }
    lg_json_reader_free(rd);

    FZ_CHECK(lg_scratch_new(g_rules, NULL, &s) == LG_OK);
    lg_redact_opts_init(&o);
    o.mode = LG_REDACT_ENCRYPT;
    o.categories = 0xffffffffu;
    o.key = g_key;
    rc = lg_redact_json(s, LG_DIR_BOTH, (const char *)t, n, paths, npaths,
                        &o, &red, &m);
    lg_scratch_free(s);
    if (rc != LG_OK) {
        FZ_CHECK(red == NULL);
        return;
    }
    FZ_CHECK(lg_unredact_json(red, m, g_key, &back, &mb, &off) == LG_OK);
    if (canonical) {
        FZ_CHECK(mb == n && (n == 0 || memcmp(back, t, n) == 0));
    }
    if (jroot != NULL) {
        json_error_t err;
        json_t *a = json_loadb(back, mb, FJ_JFLAGS, &err);
        json_t *r = json_loadb(red, m, FJ_JFLAGS, &err);

        FZ_CHECK(a != NULL && r != NULL);
        FZ_CHECK(json_equal(a, jroot));
        json_decref(a);
        json_decref(r);
    }
    lg_free(red);
    lg_free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *paths[FJ_MAXPATHS];
    fj_path_t *parsed = NULL;
    fj_step_t *steps = NULL;
    fj_pairs_t mine = {NULL, 0, 0}, theirs = {NULL, 0, 0};
    char extra[65];
    size_t npaths = 0, n, erroff = 0, uoff = 0, ulen = 0, nparsed;
    const char *const *defs = lg_redact_json_default_paths();
    const uint8_t *t;
    uint32_t flags;
    lg_status_t rc, urc;
    json_error_t err;
    json_t *root, *root2 = NULL;
    char *uout = NULL;
    int fits = 1;

    if (size < 2) {
        return 0;
    }
    flags = (data[1] & 1) ? LG_JSON_REJECT_DUPLICATES : 0;
    for (int i = 0; i < 8; i++) {
        if (data[0] & (1u << i)) {
            paths[npaths++] = fj_paths[i];
        }
    }
    t = data + 2;
    n = size - 2;
    parsed = fz_xmalloc((npaths + 20) * sizeof(*parsed));
    if (data[1] & 2) {
        const uint8_t *nl = memchr(t, '\n', n < 64 ? n : 64);
        size_t k = nl != NULL ? (size_t)(nl - t) : (n < 64 ? n : 64);
        lg_json_reader_t *rd = NULL;
        const char *xp = extra;
        int ok;

        memcpy(extra, t, k);
        extra[k] = '\0';
        t += nl != NULL ? k + 1 : k;
        n -= nl != NULL ? k + 1 : k;
        /* The harness's parser and the library agree on the syntax (a
         * NUL byte ends the path early for both). */
        ok = fj_parse(extra, &parsed[0], &fits);
        FZ_CHECK((lg_json_reader_new(&xp, 1, 0, &rd) == LG_OK) == ok);
        FZ_CHECK((lg_redact_path_check(extra) == LG_OK) == ok);
        lg_json_reader_free(rd);
        if (ok && fits) {
            paths[npaths++] = extra;
        }
    }
    /* Parse the paths in use (the default set when none). */
    if (npaths == 0) {
        for (nparsed = 0; defs[nparsed] != NULL; nparsed++) {
            FZ_CHECK(fj_parse(defs[nparsed], &parsed[nparsed], &fits) &&
                     fits);
        }
    } else {
        for (nparsed = 0; nparsed < npaths; nparsed++) {
            FZ_CHECK(fj_parse(paths[nparsed], &parsed[nparsed], &fits) &&
                     fits);
        }
    }

    rc = fj_read(npaths ? paths : NULL, npaths, flags, t, n, &mine, &erroff);

    root = json_loadb((const char *)t, n, FJ_JFLAGS | JSON_REJECT_DUPLICATES,
                      &err);
    steps = fz_xmalloc(FJ_MAXSEG * sizeof(*steps));
    if (n > 0 && memchr(t, '\0', n) != NULL) {
        /* A raw NUL byte is never JSON; jansson reads it as the end of
         * the input, so its verdict says nothing here. */
        FZ_CHECK(rc != LG_OK);
    } else if (root != NULL) {
        size_t depth = fj_depth(root);

        if (depth > LG_JSON_MAX_DEPTH) {
            FZ_CHECK(rc == LG_E_LIMIT);
        } else {
            FZ_CHECK(rc == LG_OK);
            fj_walk(root, steps, 0, parsed, nparsed, &theirs);
            FZ_CHECK(theirs.n == mine.n);
            for (size_t i = 0; i < mine.n; i++) {
                FZ_CHECK(fj_pair_eq(&mine.p[i], &theirs.p[i]));
            }
        }
    } else {
        enum json_error_code code = json_error_code(&err);

        if (code == json_error_duplicate_key) {
            root2 = json_loadb((const char *)t, n, FJ_JFLAGS, &err);
            code = json_error_code(&err);
        }
        if (root2 != NULL) {
            if (fj_depth(root2) > LG_JSON_MAX_DEPTH) {
                /* (or a selected key twice, found first) */
                FZ_CHECK(rc == LG_E_LIMIT ||
                         (rc == LG_E_INVAL &&
                          (flags & LG_JSON_REJECT_DUPLICATES)));
            } else if (rc == LG_OK) {
                /* jansson keeps the last value of a key given twice. */
                fj_walk(root2, steps, 0, parsed, nparsed, &theirs);
                FZ_CHECK(fj_submultiset(&theirs, &mine));
            } else {
                FZ_CHECK(rc == LG_E_INVAL &&
                         (flags & LG_JSON_REJECT_DUPLICATES));
            }
        } else if (code != json_error_numeric_overflow &&
                   code != json_error_null_byte_in_key) {
            /* Not JSON, or nested beyond jansson's 2048: refused too. */
            FZ_CHECK(rc != LG_OK);
        }
    }

    /* lg_unredact_json: same verdict as the reader without duplicate
     * checks; no token authenticates, so the input comes back as is. */
    {
        fj_pairs_t any = {NULL, 0, 0};
        size_t aoff = 0;
        lg_status_t arc = fj_read(npaths ? paths : NULL, npaths, 0, t, n,
                                  &any, &aoff);

        urc = lg_unredact_json((const char *)t, n, g_key, &uout, &ulen, &uoff);
        if (arc == LG_OK) {
            FZ_CHECK(urc == LG_OK || urc == LG_E_TOKEN);
        } else {
            FZ_CHECK(urc == arc && uoff == aoff);
        }
        if (urc == LG_OK) {
            FZ_CHECK(ulen == n && uout[n] == '\0' &&
                     (n == 0 || memcmp(uout, t, n) == 0));
        } else {
            FZ_CHECK(uout == NULL && ulen == 0);
            if (urc == LG_E_TOKEN) {
                FZ_CHECK(uoff < n && (t[uoff] == '<' || t[uoff] == '\\'));
            }
        }
        lg_free(uout);
        fj_pairs_free(&any);
    }

    /* A record holding text shaped like a token cannot be restored. */
    if (rc == LG_OK && urc == LG_OK && mine.n > 0) {
        fj_roundtrip(npaths ? paths : NULL, npaths, t, n,
                     root != NULL ? root : root2);
    }

    json_decref(root);
    json_decref(root2);
    fj_pairs_free(&mine);
    fj_pairs_free(&theirs);
    free(steps);
    free(parsed);
    return 0;
}
