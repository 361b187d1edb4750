/*
 * Fuzz target: lg_redact(), lg_unredact() and lg_redact_json().
 *
 * The first two bytes choose the options (mode, mask_keep, mask_char,
 * categories, direction); the rest is the text.  Each input is scanned
 * with a fixed made-up PII pack (raw, normalized, leet and decoded views,
 * so findings come through every view) and redacted in the chosen mode,
 * checking that:
 *   - the size asked for (LG_E_NOSPACE) equals the size written, and both
 *     are within lg_redact_bound();
 *   - replace, mask and hash are deterministic;
 *   - encrypt round-trips: lg_unredact() with the key gives the input back
 *     byte for byte, and with another key leaves the output as it is;
 *   - lg_unredact() on the raw input (forged tokens) never grows it and
 *     never restores anything without the key;
 *   - lg_redact_json() on the input either refuses it or returns JSON
 *     that it accepts again and that jansson (when it reads the input)
 *     reads with the same types, keys and array lengths.
 */
#include <jansson.h>

#include "fuzz_check.h"

static const char pack[] =
    "version: 1\n"
    "pack: fuzzredact\n"
    "pack_version: '1'\n"
    "views: [raw, normalized, leet, decoded]\n"
    "rules:\n"
    "  - id: fr.email\n"
    "    category: pii\n"
    "    description: e-mail\n"
    "    severity: low\n"
    "    entity: EMAIL\n"
    "    applies_to: both\n"
    "    patterns: ['[a-z0-9._]{1,32}@(?:[a-z0-9-]{1,16}\\.){1,3}[a-z]{2,6}']\n"
    "  - id: fr.phone\n"
    "    category: pii\n"
    "    description: phone\n"
    "    severity: low\n"
    "    entity: PHONE\n"
    "    applies_to: prompt\n"
    "    patterns: ['\\d{3}-\\d{4}']\n"
    "  - id: fr.card\n"
    "    category: pii\n"
    "    description: card\n"
    "    severity: medium\n"
    "    entity: CREDIT_CARD\n"
    "    applies_to: both\n"
    "    validate: luhn\n"
    "    patterns: ['\\d{4}(?:[ -]?\\d{4}){3}']\n"
    "  - id: fr.word\n"
    "    category: pii\n"
    "    description: a UTF-8 name, byte pattern ending mid-character\n"
    "    severity: low\n"
    "    entity: NAME\n"
    "    applies_to: completion\n"
    "    patterns: ['\\xc3.z']\n"
    "  - id: fr.key\n"
    "    category: secret\n"
    "    description: made-up key, no entity\n"
    "    severity: critical\n"
    "    applies_to: both\n"
    "    flags: []\n"
    "    patterns: ['sk_demo_[A-Za-z0-9]{8}']\n"
    "  - id: fr.inj\n"
    "    category: injection\n"
    "    description: redacted only when chosen\n"
    "    severity: high\n"
    "    applies_to: both\n"
    "    patterns: ['ignore\\s+previous', 'ignore\\s+previous\\s+rules']\n";

static lg_rules_t *g_rules;
static uint8_t g_key[LG_REDACT_KEYBYTES];
static uint8_t g_other[LG_REDACT_KEYBYTES];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_rules = fz_build(fz_compiler("fuzz_redact.c", pack, sizeof(pack) - 1),
                       "fuzz_redact");
    /* Fixed keys: a crash must reproduce. */
    for (size_t i = 0; i < LG_REDACT_KEYBYTES; i++) {
        g_key[i] = (uint8_t)(i * 7 + 1);
        g_other[i] = (uint8_t)(i * 13 + 5);
    }
    return 0;
}

static void
check_unredact_raw(const uint8_t *t, size_t n)
{
    uint8_t *out = fz_xmalloc(n);
    size_t m = 0, failed = 0;

    FZ_CHECK(lg_unredact(t, n, g_key, out, n, &m, &failed) == LG_OK);
    FZ_CHECK(m <= n);
    /* Forged tokens never authenticate: the text is unchanged. */
    FZ_CHECK(m == n && (n == 0 || memcmp(out, t, n) == 0));
    free(out);
}

/* Same types, keys (in order) and array lengths; strings may differ. */
static int
same_shape(json_t *a, json_t *b)
{
    if (json_typeof(a) != json_typeof(b)) {
        return 0;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) {
            return 0;
        }
        for (size_t i = 0; i < json_array_size(a); i++) {
            if (!same_shape(json_array_get(a, i), json_array_get(b, i))) {
                return 0;
            }
        }
        return 1;
    }
    if (json_is_object(a)) {
        void *ia = json_object_iter(a), *ib = json_object_iter(b);

        for (; ia != NULL && ib != NULL; ia = json_object_iter_next(a, ia),
                                         ib = json_object_iter_next(b, ib)) {
            if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) !=
                    0 ||
                !same_shape(json_object_iter_value(ia),
                            json_object_iter_value(ib))) {
                return 0;
            }
        }
        return ia == NULL && ib == NULL;
    }
    if (json_is_string(a)) {
        return 1;
    }
    return json_equal(a, b);
}

/*
 * lg_redact_json() refuses the input or returns JSON that its own parser
 * accepts again; where jansson reads the input, it reads the output too,
 * with the same shape.
 */
static void
check_json(lg_scratch_t *s, uint32_t dir, const uint8_t *t, size_t n,
           const lg_redact_opts_t *o)
{
    static const char *const paths[] = {"a", "a[*]", "b.c", "[0]", "[*].x"};
    const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
    char *out = NULL, *again = NULL;
    size_t m = 0, m2 = 0;
    lg_status_t rc;
    json_error_t err;

    for (int k = 0; k < 2; k++) {
        rc = lg_redact_json(s, dir, (const char *)t, n, k ? paths : NULL,
                            k ? 5 : 0, o, &out, &m);
        if (rc != LG_OK) {
            FZ_CHECK(out == NULL && m == 0);
            continue;
        }
        FZ_CHECK(out[m] == '\0');
        FZ_CHECK(lg_redact_json(s, dir, out, m, k ? paths : NULL,
                                k ? 5 : 0, NULL, &again, &m2) == LG_OK);
        lg_free(again);
        {
            json_t *a = json_loadb((const char *)t, n, flags, &err);

            if (a != NULL) {
                json_t *b = json_loadb(out, m, flags, &err);

                FZ_CHECK(b != NULL);
                FZ_CHECK(same_shape(a, b));
                json_decref(b);
                json_decref(a);
            }
        }
        lg_free(out);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t cats[4] = {
        LG_REDACT_CATEGORIES_DEFAULT, 1u << LG_CAT_PII,
        LG_REDACT_CATEGORIES_DEFAULT | (1u << LG_CAT_INJECTION), 0xffffffffu};
    lg_scratch_t *s = NULL;
    lg_redact_opts_t o;
    lg_result_t res;
    const uint8_t *t;
    uint8_t *out, *out2;
    size_t n, need = 0, w = 0, w2 = 0, bound;
    uint32_t dir;

    if (size < 2) {
        return 0;
    }
    lg_redact_opts_init(&o);
    o.mode = (lg_redact_mode_t)(data[0] & 3);
    o.categories = cats[(data[0] >> 2) & 3];
    dir = (data[0] >> 4) % 3 + 1;
    o.mask_keep = data[1] & 15;
    o.mask_char = (char)(0x21 + (data[1] >> 4));
    o.key = g_key;
    t = data + 2;
    n = size - 2;

    FZ_CHECK(lg_scratch_new(g_rules, NULL, &s) == LG_OK);
    FZ_CHECK(lg_scan(s, t, n, dir, NULL, &res) == LG_OK);
    bound = lg_redact_bound(n, res.nfindings);
    FZ_CHECK(bound != SIZE_MAX);
    FZ_CHECK(lg_redact(g_rules, t, n, &res, &o, NULL, 0, &need) ==
                 LG_E_NOSPACE ||
             need == 0);
    FZ_CHECK(need <= bound);
    out = fz_xmalloc(bound);
    out2 = fz_xmalloc(bound);
    FZ_CHECK(lg_redact(g_rules, t, n, &res, &o, out, bound, &w) == LG_OK);
    FZ_CHECK(w == need);
    if (need > 0) {
        FZ_CHECK(lg_redact(g_rules, t, n, &res, &o, out2, need - 1, &w2) ==
                 LG_E_NOSPACE);
        FZ_CHECK(w2 == need);
    }
    FZ_CHECK(lg_redact(g_rules, t, n, &res, &o, out2, bound, &w2) == LG_OK);
    FZ_CHECK(w2 == w);
    if (o.mode != LG_REDACT_ENCRYPT) {
        FZ_CHECK(w == 0 || memcmp(out, out2, w) == 0);
    } else {
        uint8_t *back = fz_xmalloc(w);
        size_t m = 0, failed = 0;

        FZ_CHECK(lg_unredact(out, w, g_key, back, w, &m, &failed) == LG_OK);
        FZ_CHECK(m == n && (n == 0 || memcmp(back, t, n) == 0));
        FZ_CHECK(lg_unredact(out, w, g_other, back, w, &m, &failed) ==
                 LG_OK);
        FZ_CHECK(m == w && (w == 0 || memcmp(back, out, w) == 0));
        free(back);
    }
    free(out);
    free(out2);
    check_unredact_raw(t, n);
    check_json(s, dir, t, n, &o);
    lg_scratch_free(s);
    return 0;
}
