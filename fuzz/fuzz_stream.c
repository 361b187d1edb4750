/*
 * Fuzz target: stream mode with random chunking, against a block scan.
 *
 * The first four bytes seed the chunking: chunk sizes (small, as a model
 * streams tokens, or large), flushes, stream_step and stream_window.  The
 * rest is the text.  Two rule sets:
 *
 * - four bundled packs (leakage, pii, secrets, exfiltration: every view,
 *   confirmations, validators, both directions; fewer than fuzz_scan's all,
 *   so that the target starts in seconds): the stream's closing result must be
 *   exactly the block scan's of the same bytes (findings, verdict, score,
 *   categories, truncation); every result on the way is well formed
 *   (in bounds of what was scanned, sorted, same-rule findings apart, at
 *   most max_findings), and the scanned length only grows;
 *
 * - a pack of raw-byte rules without confirmations or anchors, for which
 *   a window sees what the whole text shows: every finding reported while
 *   streaming must lie within a final finding of the same rule (flushes
 *   only after a non-word byte, see lg_stream_flush()).
 */
#include "fuzz_check.h"

#ifndef LG_RULES_SOURCE_DIR
#define LG_RULES_SOURCE_DIR "rules/packs"
#endif

static const char raw_pack[] =
    "version: 1\n"
    "pack: fuzzstream\n"
    "pack_version: \"1.0.0\"\n"
    "description: Raw-byte rules whose matches a window sees as a whole\n"
    "views: [raw]\n"
    "rules:\n"
    "  - id: fz.st.override\n"
    "    category: injection\n"
    "    description: An override phrase with bounded gaps\n"
    "    severity: critical\n"
    "    patterns:\n"
    "      - '\\bignore\\s{1,4}(?:\\w+\\s{1,4}){0,2}instructions\\b'\n"
    "    tests:\n"
    "      match: [\"ignore the prior instructions\"]\n"
    "      no_match: [\"ignore instructionsx\"]\n"
    "  - id: fz.st.word\n"
    "    category: leakage\n"
    "    description: A whole word\n"
    "    severity: low\n"
    "    patterns: ['\\bpass\\b', '\\bkey\\b']\n"
    "    tests: {match: [\"a key\"], no_match: [\"password\"]}\n"
    "  - id: fz.st.utf8\n"
    "    category: hijacking\n"
    "    description: UTF-8 words\n"
    "    severity: medium\n"
    "    flags: [caseless, utf8]\n"
    "    patterns: ['무시', 'état']\n"
    "    tests: {match: [\"ÉTAT\"], no_match: [\"etat\"]}\n"
    "  - id: fz.st.merge\n"
    "    category: pii\n"
    "    description: Overlapping matches that merge\n"
    "    severity: low\n"
    "    patterns: ['\\d{3,8}', 'ab[a-z ]{0,30}yz']\n"
    "    tests: {match: [\"ab cd yz\"], no_match: [\"12\"]}\n";

static lg_rules_t *g_packs;
static lg_rules_t *g_raw;

static const char *const packs[] = {"leakage", "pii", "secrets",
                                    "exfiltration"};

static lg_rules_t *
build(const char *dir, const char *yaml, size_t ylen)
{
    lg_compiler_t *c = fz_compiler("fuzz_stream.c", yaml, ylen);

    for (size_t i = 0; dir != NULL && i < sizeof(packs) / sizeof(packs[0]);
         i++) {
        char path[4096];

        snprintf(path, sizeof(path), "%s/%s.yaml", dir, packs[i]);
        if (lg_compiler_add_file(c, path) != LG_OK) {
            fprintf(stderr, "fuzz_stream: cannot add %s\n", path);
            abort();
        }
    }
    return fz_build(c, "fuzz_stream");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("LG_FUZZ_RULES_DIR");

    (void)argc;
    (void)argv;
    if (dir == NULL || dir[0] == '\0') {
        dir = LG_RULES_SOURCE_DIR;
    }
    g_packs = build(dir, NULL, 0);
    g_raw = build(NULL, raw_pack, sizeof(raw_pack) - 1);
    return 0;
}

static uint32_t
next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static int
is_word(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* A streaming result is well formed. */
static void
check_partial(const lg_result_t *res, const lg_stream_t *st,
              const lg_limits_t *l)
{
    size_t scanned = lg_stream_scanned(st);

    FZ_CHECK(scanned <= lg_stream_length(st));
    FZ_CHECK(res->nfindings <= l->max_findings);
    FZ_CHECK((res->nfindings == 0) == (res->findings == NULL));
    for (size_t i = 0; i < res->nfindings; i++) {
        const lg_finding_t *f = &res->findings[i];

        FZ_CHECK(f->start < f->end && f->end <= scanned);
        FZ_CHECK((res->categories >> f->category) & 1u);
        FZ_CHECK(i == 0 || res->findings[i - 1].start <= f->start);
        for (size_t k = i + 1; k < res->nfindings; k++) {
            if (res->findings[k].rule == f->rule) {
                FZ_CHECK(res->findings[k].start > f->end);
                break;
            }
        }
    }
    FZ_CHECK(res->verdict <= LG_VERDICT_BLOCK);
}

/* Stream `text` in chunks drawn from `seed`; check every result and the
 * closing one against a block scan.  With `contain`, also check that each
 * finding seen on the way lies within a final finding of its rule. */
static void
run(lg_rules_t *r, uint32_t seed, const uint8_t *text, size_t len,
    uint32_t dir, int contain)
{
    lg_limits_t l;
    lg_scratch_t *s = NULL, *blk = NULL;
    lg_stream_t *st = NULL;
    lg_result_t res, want;
    struct fz_findings early = {0};
    size_t off = 0, scanned = 0;
    uint32_t x = seed | 1u;

    fz_limits(&l);
    l.stream_step = 1 + next(&x) % 600;
    l.stream_window = next(&x) % 700;
    if (next(&x) % 4 == 0) {
        l.max_findings = 1 + next(&x) % 4;
    }
    FZ_CHECK(lg_scratch_new(r, &l, &s) == LG_OK);
    FZ_CHECK(lg_scratch_new(r, &l, &blk) == LG_OK);
    FZ_CHECK(lg_stream_new(r, dir, NULL, &st) == LG_OK);
    while (off < len) {
        size_t n = next(&x) % 4 == 0 ? 1 + next(&x) % 1024
                                     : 1 + next(&x) % 12;

        if (n > len - off) {
            n = len - off;
        }
        FZ_CHECK(lg_stream_feed(st, s, text + off, n, &res) == LG_OK);
        off += n;
        FZ_CHECK(lg_stream_length(st) == off);
        if (next(&x) % 8 == 0 && !is_word(text[off - 1])) {
            FZ_CHECK(lg_stream_flush(st, s, &res) == LG_OK);
            FZ_CHECK(lg_stream_scanned(st) == off);
        }
        check_partial(&res, st, &l);
        FZ_CHECK(lg_stream_scanned(st) >= scanned);
        scanned = lg_stream_scanned(st);
        if (contain && !res.truncated) {
            /* findings accumulate until the close: the latest has all */
            free(early.f);
            fz_keep(&res, &early);
        }
    }
    FZ_CHECK(lg_stream_close(st, s, &res) == LG_OK);
    FZ_CHECK(lg_stream_scanned(st) == len);
    FZ_CHECK(lg_scan(blk, text, len, dir, NULL, &want) == LG_OK);
    FZ_CHECK(res.nfindings == want.nfindings);
    FZ_CHECK(res.verdict == want.verdict && res.score == want.score &&
             res.categories == want.categories &&
             res.would_block == want.would_block &&
             res.truncated == want.truncated);
    for (size_t i = 0; i < want.nfindings; i++) {
        const lg_finding_t *a = &res.findings[i], *b = &want.findings[i];

        FZ_CHECK(a->rule == b->rule && a->start == b->start &&
                 a->end == b->end && a->views == b->views &&
                 a->score == b->score);
    }
    if (contain && !want.truncated) {
        for (size_t i = 0; i < early.n; i++) {
            int inside = 0;

            for (size_t k = 0; k < want.nfindings && !inside; k++) {
                inside = want.findings[k].rule == early.f[i].rule &&
                         want.findings[k].start <= early.f[i].start &&
                         early.f[i].end <= want.findings[k].end;
            }
            FZ_CHECK(inside);
        }
    }
    free(early.f);
    lg_stream_free(st);
    lg_scratch_free(blk);
    lg_scratch_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed;

    if (size < 4) {
        return 0;
    }
    seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
           (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
    data += 4;
    size -= 4;
    run(g_packs, seed, data, size, (seed & 1u) ? LG_DIR_COMPLETION
                                               : LG_DIR_PROMPT, 0);
    run(g_raw, seed, data, size, LG_DIR_PROMPT, 1);
    return 0;
}
