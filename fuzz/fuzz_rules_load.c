/*
 * Fuzz target: lg_rules_load() on hostile bytes must reject or load, never
 * crash.
 *
 * Each input is loaded twice: as given (header checks, checksum), and with
 * a repaired header, so that mutations of the payload get past the
 * BLAKE2b checksum and reach the parser.  The repair writes the magic,
 * format and version of this library's own output (taken from serializing
 * a one-rule pack at start-up), no required CPU features, the payload length
 * and its checksum over input[64..].  (The Hyperscan database inside the
 * payload keeps its own CRC32C, which the fuzzer does not repair, so
 * mutated engine bytecode is still rejected by Hyperscan itself.)
 *
 * Loaded rules must describe themselves consistently, serialize to bytes
 * that load again and serialize identically, and scan a fixed text under
 * the invariants of fuzz_check.h.
 *
 * Seeds: fuzz_make_seeds writes valid serialized packs and damaged copies
 * into corpus/rules_load (see CMakeLists.txt).
 */
#include <sodium.h>

#include "fuzz_check.h"

#define HEADER 64 /* serialize.c: fixed header before the payload */

/* Magic, format and library version as this library writes them. */
static uint8_t g_ident[12];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char pack[] = "version: 1\npack: one\n"
                               "pack_version: \"1\"\nrules:\n"
                               "  - id: one.rule\n"
                               "    category: pii\n"
                               "    description: d\n"
                               "    severity: low\n"
                               "    patterns: [abc]\n";
    lg_compiler_t *c = NULL;
    lg_rules_t *r = NULL;
    void *buf = NULL;
    size_t len = 0;

    (void)argc;
    (void)argv;
    if (lg_compiler_new(0, &c) != LG_OK ||
        lg_compiler_add_yaml(c, NULL, pack, sizeof(pack) - 1) != LG_OK ||
        lg_compiler_build(c, &r) != LG_OK ||
        lg_rules_serialize(r, &buf, &len) != LG_OK || len < HEADER) {
        fprintf(stderr, "fuzz_rules_load: cannot serialize a small pack\n");
        abort();
    }
    memcpy(g_ident, buf, sizeof(g_ident));
    lg_free(buf);
    lg_rules_free(r);
    lg_compiler_free(c);
    return 0;
}

static void
put_le(uint8_t *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
}

static void
exercise(lg_rules_t *r)
{
    void *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    lg_rules_t *back = NULL;
    lg_scratch_t *s = NULL;
    lg_limits_t lim;

    fz_check_rules(r);

    FZ_CHECK(lg_rules_serialize(r, &buf, &len) == LG_OK);
    FZ_CHECK(lg_rules_load(buf, len, &back) == LG_OK);
    FZ_CHECK(lg_rules_count(back) == lg_rules_count(r));
    FZ_CHECK(lg_rules_serialize(back, &buf2, &len2) == LG_OK);
    FZ_CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    lg_free(buf2);
    lg_free(buf);
    lg_rules_free(back);

    fz_limits(&lim);
    FZ_CHECK(lg_scratch_new(r, &lim, &s) == LG_OK);
    fz_scan_all(s, &lim, fz_fixed_text, sizeof(fz_fixed_text) - 1);
    lg_scratch_free(s);
}

static void
try_load(const uint8_t *buf, size_t len)
{
    lg_rules_t *r = (lg_rules_t *)1; /* must be reset to NULL on failure */
    lg_status_t rc = lg_rules_load(buf, len, &r);

    FZ_CHECK(rc == LG_OK || rc == LG_E_DB_FORMAT || rc == LG_E_DB_VERSION ||
             rc == LG_E_DB_PLATFORM || rc == LG_E_DB_CHECKSUM ||
             rc == LG_E_NOMEM);
    FZ_CHECK((rc == LG_OK) == (r != NULL));
    if (r != NULL) {
        exercise(r);
        lg_rules_free(r);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *fixed;

    try_load(data, size);
    if (size < HEADER) {
        return 0;
    }
    fixed = fz_xmalloc(size);
    memcpy(fixed, data, size);
    memcpy(fixed, g_ident, sizeof(g_ident));
    put_le(fixed + 16, 0, 8);
    put_le(fixed + 24, size - HEADER, 8);
    crypto_generichash(fixed + 32, 32, fixed + HEADER, size - HEADER, NULL, 0);
    try_load(fixed, size);
    free(fixed);
    return 0;
}
