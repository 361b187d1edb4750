/*
 * fuzz_make_seeds DIR: write the seed corpus of the rules_load target.
 *
 * Serializes three small packs (one rule; several rules with confirm, tags,
 * references, utf8 and both directions; no rules at all) and derives
 * damaged copies of the first: truncated, bad checksum, bad magic, next
 * format, next major version, unknown CPU features, a trailing byte, and a
 * bare header.  It also writes two reproducers: repro_dup_ids.lgrb, a
 * well-formed file (valid checksum) whose two rules share one id, which
 * lg_rules_load() must reject, and repro_serialize_empty_null.lgrb, rules
 * without patterns, which lg_rules_serialize() must write without passing
 * NULL to memcpy.  The valid files depend on the engine
 * version and CPU, so regenerate them when the serialized format changes,
 * from a build without sanitizers (until lgi_commit() stops passing NULL
 * to memcpy for a pack without rules, UBSan aborts on the empty pack):
 *
 *   build/fuzz/fuzz_make_seeds fuzz/corpus/rules_load
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libguard.h"

static const char small_pack[] = "version: 1\n"
                                 "pack: seedsmall\n"
                                 "pack_version: \"1\"\n"
                                 "rules:\n"
                                 "  - id: seed.small.override\n"
                                 "    category: injection\n"
                                 "    description: One literal-ish pattern\n"
                                 "    severity: critical\n"
                                 "    patterns: ['override\\s+the\\s+rules']\n";

static const char rich_pack[] =
    "version: 1\n"
    "pack: seedrich\n"
    "pack_version: \"2.0\"\n"
    "description: Every field the serializer writes\n"
    "rules:\n"
    "  - id: seed.rich.reset\n"
    "    category: hijacking\n"
    "    description: Reset phrase, negation checked by confirm\n"
    "    severity: medium\n"
    "    applies_to: both\n"
    "    flags: [caseless, dotall]\n"
    "    patterns:\n"
    "      - 'reset\\s+your\\s+persona'\n"
    "      - 'new\\s+persona\\s*:'\n"
    "    confirm: '(?<!\\bnot\\s)\\w+'\n"
    "    tags: [seed, persona]\n"
    "    references: [https://example.com/seed]\n"
    "  - id: seed.rich.korean\n"
    "    category: leakage\n"
    "    description: Korean request for the hidden prompt\n"
    "    score: 7\n"
    "    flags: [utf8]\n"
    "    patterns: ['숨겨진\\s*프롬프트']\n"
    "  - id: seed.rich.marker\n"
    "    category: moderation/profanity\n"
    "    description: Case-sensitive made-up marker in completions\n"
    "    severity: low\n"
    "    applies_to: completion\n"
    "    flags: [multiline]\n"
    "    patterns: ['^ZORB[0-9]{2}$']\n";

static const char dup_pack[] = "version: 1\n"
                               "pack: seeddup\n"
                               "pack_version: \"1\"\n"
                               "rules:\n"
                               "  - id: dup.aa\n"
                               "    category: pii\n"
                               "    description: first\n"
                               "    severity: low\n"
                               "    patterns: [aaa]\n"
                               "  - id: dup.bb\n"
                               "    category: pii\n"
                               "    description: second\n"
                               "    severity: low\n"
                               "    patterns: [bbb]\n";

static const char empty_pack[] = "version: 1\n"
                                 "pack: seedempty\n"
                                 "pack_version: \"0\"\n"
                                 "rules: []\n";

static int
write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    FILE *f;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
        sizeof(path)) {
        return -1;
    }
    f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n) {
        perror(path);
        if (f != NULL) {
            fclose(f);
        }
        return -1;
    }
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    printf("%s (%zu bytes)\n", path, n);
    return 0;
}

static uint8_t *
serialize(const char *yaml, size_t ylen, size_t *len)
{
    lg_compiler_t *c = NULL;
    lg_rules_t *r = NULL;
    void *buf = NULL;
    uint8_t *copy;

    if (lg_compiler_new(0, &c) != LG_OK ||
        lg_compiler_add_yaml(c, "seed.yaml", yaml, ylen) != LG_OK ||
        lg_compiler_build(c, &r) != LG_OK ||
        lg_rules_serialize(r, &buf, len) != LG_OK) {
        fprintf(stderr, "fuzz_make_seeds: a seed pack does not build\n");
        exit(1);
    }
    copy = malloc(*len + 1);
    if (copy == NULL) {
        exit(1);
    }
    memcpy(copy, buf, *len);
    lg_free(buf);
    lg_rules_free(r);
    lg_compiler_free(c);
    return copy;
}

int
main(int argc, char **argv)
{
    const char *dir;
    uint8_t *small, *rich, *empty, *dup, *t;
    size_t nsmall, nrich, nempty, ndup;
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    small = serialize(small_pack, sizeof(small_pack) - 1, &nsmall);
    rich = serialize(rich_pack, sizeof(rich_pack) - 1, &nrich);
    empty = serialize(empty_pack, sizeof(empty_pack) - 1, &nempty);
    dup = serialize(dup_pack, sizeof(dup_pack) - 1, &ndup);
    t = malloc(nsmall + 1);
    if (t == NULL || nsmall < 80) {
        return 1;
    }

    rc |= write_file(dir, "valid_small.lgrb", small, nsmall);
    rc |= write_file(dir, "valid_rich.lgrb", rich, nrich);
    rc |= write_file(dir, "valid_empty.lgrb", empty, nempty);
    rc |= write_file(dir, "repro_serialize_empty_null.lgrb", empty, nempty);
    rc |= write_file(dir, "truncated.lgrb", small, nsmall / 2);
    rc |= write_file(dir, "header_only.lgrb", small, 64);
    rc |= write_file(dir, "short.bin", small, 10);

    memcpy(t, small, nsmall);
    t[72] ^= 0x01; /* a payload byte (the first id length): bad checksum */
    rc |= write_file(dir, "bad_checksum.lgrb", t, nsmall);

    memcpy(t, small, nsmall);
    t[0] = 'X';
    rc |= write_file(dir, "bad_magic.lgrb", t, nsmall);

    memcpy(t, small, nsmall);
    t[4]++; /* format */
    rc |= write_file(dir, "format_next.lgrb", t, nsmall);

    memcpy(t, small, nsmall);
    t[10]++; /* major version byte */
    rc |= write_file(dir, "major_next.lgrb", t, nsmall);

    memcpy(t, small, nsmall);
    memset(t + 16, 0xff, 8); /* CPU features nobody has */
    rc |= write_file(dir, "platform_all.lgrb", t, nsmall);

    memcpy(t, small, nsmall);
    t[nsmall] = 0;
    rc |= write_file(dir, "trailing_byte.lgrb", t, nsmall + 1);

    /* Rename the second rule to the first one's id, re-checksum. */
    for (size_t i = 64; i + 6 <= ndup; i++) {
        if (memcmp(dup + i, "dup.bb", 6) == 0) {
            memcpy(dup + i, "dup.aa", 6);
            crypto_generichash(dup + 32, 32, dup + 64, ndup - 64, NULL, 0);
            rc |= write_file(dir, "repro_dup_ids.lgrb", dup, ndup);
            break;
        }
    }

    free(t);
    free(dup);
    free(small);
    free(rich);
    free(empty);
    return rc != 0;
}
