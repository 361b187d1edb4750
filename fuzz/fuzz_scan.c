/*
 * Fuzz target: lg_scan() on arbitrary bytes with a fixed set of rules.
 *
 * The rules are compiled once in LLVMFuzzerInitialize: every pack in
 * LG_RULES_SOURCE_DIR (or $LG_FUZZ_RULES_DIR), plus the small inline pack
 * below with utf8/ucp, confirm, multi-pattern, multiline and case-sensitive
 * rules, and rules whose patterns overlap so that findings merge.  Each
 * input is scanned in both directions and both ways at once (fz_scan_all
 * checks every result), then again with a scratch whose tight limits force
 * truncation and, for longer inputs, LG_E_LIMIT.  Each input gets fresh
 * scratches: nothing is carried from one input to the next.  Then the leak
 * detector, with a secret taken from the input (fz_leak()).
 */
#include "fuzz_check.h"

#ifndef LG_RULES_SOURCE_DIR
#define LG_RULES_SOURCE_DIR "rules/packs"
#endif

static const char inline_pack[] =
    "version: 1\n"
    "pack: fuzzinline\n"
    "pack_version: \"1.0.0\"\n"
    "description: Rules for the scan fuzzer, one per scanner feature\n"
    "rules:\n"
    "  - id: fz.utf8.reset\n"
    "    category: injection\n"
    "    description: Korean reset phrase in UTF-8 mode, two patterns\n"
    "    severity: high\n"
    "    flags: [caseless, utf8]\n"
    "    patterns:\n"
    "      - '이전\\s*지시(?:를|는)?\\s*무시'\n"
    "      - '[가-힣]{2,4}\\s*규칙을\\s*잊어'\n"
    "    tests:\n"
    "      match: [\"이전 지시를 무시하고\"]\n"
    "      no_match: [\"지시를 잘 따르세요\"]\n"
    "  - id: fz.ucp.unlocked\n"
    "    category: hijacking\n"
    "    description: Unicode word before an unlock phrase (ucp)\n"
    "    severity: medium\n"
    "    applies_to: both\n"
    "    flags: [caseless, ucp]\n"
    "    patterns:\n"
    "      - 'modus\\s+\\w+\\s+entsperrt'\n"
    "    tests:\n"
    "      match: [\"Modus Größe entsperrt\"]\n"
    "      no_match: [\"modus entsperrt\"]\n"
    "  - id: fz.confirm.safety\n"
    "    category: injection\n"
    "    description: Safety override unless negated or a manual title\n"
    "    severity: medium\n"
    "    applies_to: both\n"
    "    patterns:\n"
    "      - 'override\\s+(?:the\\s+)?safety'\n"
    "      - 'bypass\\s+(?:all\\s+)?filters'\n"
    "    confirm: "
    "'(?<!\\bnot\\s)(?<!\\bnever\\s)\\w+\\s+(?:the\\s+|all\\s+)?"
    "(?:safety|filters)(?!\\s+manual)'\n"
    "    tests:\n"
    "      match: [\"now override the safety checks\"]\n"
    "      no_match: [\"never override safety\", \"bypass filters manual\"]\n"
    "  - id: fz.multi.exfil\n"
    "    category: exfiltration\n"
    "    description: Output that sends data to a link, three patterns\n"
    "    severity: low\n"
    "    applies_to: completion\n"
    "    flags: [caseless, dotall]\n"
    "    patterns:\n"
    "      - '!\\[[^\\]]{0,16}\\]\\(https?://'\n"
    "      - 'send\\s+(?:it|this|the\\s+data)\\s+to\\s+https?://'\n"
    "      - 'hook\\.example\\.(?:com|net)/'\n"
    "    tests:\n"
    "      match: [\"![a](https://x.test/i.png)\"]\n"
    "      no_match: [\"[a](https://x.test)\"]\n"
    "  - id: fz.multiline.role\n"
    "    category: leakage\n"
    "    description: A line starting with a role marker\n"
    "    score: 9\n"
    "    flags: [caseless, multiline]\n"
    "    patterns:\n"
    "      - '^system\\s*:'\n"
    "      - '^#{2,3}\\s*instruction'\n"
    "    tests:\n"
    "      match: [\"hi\\nsystem: x\"]\n"
    "      no_match: [\"hi system: x\"]\n"
    "  - id: fz.cs.marker\n"
    "    category: secret\n"
    "    description: Made-up case-sensitive marker, confirmed by its end\n"
    "    severity: critical\n"
    "    applies_to: both\n"
    "    flags: []\n"
    "    patterns:\n"
    "      - 'SECRET_[A-Z]{4}'\n"
    "    confirm: 'SECRET_[A-Z]{4}(?![A-Z])'\n"
    "    tests:\n"
    "      match: [\"x SECRET_ABCD y\"]\n"
    "      no_match: [\"secret_abcd\", \"SECRET_ABCDE\"]\n"
    /* Rules for the scanner's merging and span paths. */
    "  - id: fz.merge.left\n"
    "    category: harmful\n"
    "    description: A second pattern extends a finding to the left\n"
    "    severity: low\n"
    "    applies_to: both\n"
    "    patterns: ['mid\\s+part', 'left\\s+mid\\s+part']\n"
    "    tests:\n"
    "      match: [\"left mid part\"]\n"
    "      no_match: [\"mid-part\"]\n"
    "  - id: fz.merge.wide\n"
    "    category: pii\n"
    "    description: A wide match swallows earlier findings of its rule\n"
    "    score: 3\n"
    "    applies_to: both\n"
    "    patterns: ['qk', 'z[a-y ]{0,20}w', '\\d{3,}']\n"
    "    tests:\n"
    "      match: [\"z qk qk w\", \"12345\"]\n"
    "      no_match: [\"q k\"]\n"
    "  - id: fz.utf8.short\n"
    "    category: moderation/hate\n"
    "    description: Short UTF-8 window after multibyte text\n"
    "    severity: low\n"
    "    applies_to: completion\n"
    "    flags: [caseless, utf8]\n"
    "    patterns: ['é.{1,2}z']\n"
    "    tests:\n"
    "      match: [\"가가é가z\"]\n"
    "      no_match: [\"ez\"]\n"
    "  - id: fz.gap.unbounded\n"
    "    category: exfiltration\n"
    "    description: Unbounded width, spans longer than the search window\n"
    "    severity: low\n"
    "    applies_to: both\n"
    "    patterns: ['<<[^>]*>>']\n"
    "    tests:\n"
    "      match: [\"<< x >>\"]\n"
    "      no_match: [\"< x >\"]\n";

static lg_rules_t *g_rules;

/*
 * Leak detection: the first byte sets how much of the input is the secret
 * (at least 8 bytes), the rest is the completion.  The spans are in
 * bounds, in order, apart, and never start or end on whitespace; attached
 * to a scratch, completion scans report exactly those spans as leakage.
 */
static void
fz_leak(const uint8_t *data, size_t size)
{
    lg_leak_t *l = NULL;
    lg_span_t sp[64];
    size_t k, n = 0;
    lg_status_t rc;

    if (size < 10) {
        return;
    }
    k = 8 + data[0] % 56;
    if (k + 1 > size) {
        k = size - 1;
    }
    rc = lg_leak_new(data + 1, k, NULL, &l);
    if (rc != LG_OK) {
        FZ_CHECK(rc == LG_E_INVAL && l == NULL); /* a blank secret */
        return;
    }
    data += 1 + k;
    size -= 1 + k;
    FZ_CHECK(lg_leak_find(l, data, size, sp, 64, &n) == LG_OK);
    for (size_t i = 0; i < n && i < 64; i++) {
        FZ_CHECK(sp[i].start < sp[i].end && sp[i].end <= size);
        FZ_CHECK(i == 0 || sp[i - 1].end <= sp[i].start);
        FZ_CHECK(data[sp[i].start] != ' ' && data[sp[i].end - 1] != ' ');
    }
    if (n <= 64) {
        lg_scratch_t *s = NULL;
        lg_result_t res;
        size_t m = 0;

        FZ_CHECK(lg_scratch_new(g_rules, NULL, &s) == LG_OK);
        FZ_CHECK(lg_scratch_set_leak(s, l) == LG_OK);
        FZ_CHECK(lg_scan(s, data, size, LG_DIR_COMPLETION, NULL, &res) ==
                 LG_OK);
        for (size_t i = 0; i < res.nfindings; i++) {
            if (res.findings[i].rule == LG_RULE_LEAK) {
                FZ_CHECK(m < n && res.findings[i].start == sp[m].start &&
                         res.findings[i].end == sp[m].end);
                FZ_CHECK(res.findings[i].category == LG_CAT_LEAKAGE);
                m++;
            }
        }
        FZ_CHECK(res.truncated || m == n);
        lg_scratch_free(s);
    }
    lg_leak_free(l);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("LG_FUZZ_RULES_DIR");
    lg_compiler_t *c;

    (void)argc;
    (void)argv;
    if (dir == NULL || dir[0] == '\0') {
        dir = LG_RULES_SOURCE_DIR;
    }
    c = fz_compiler("fuzz_scan.c", inline_pack, sizeof(inline_pack) - 1);
    if (fz_add_packs(c, dir) == 0) {
        fprintf(stderr, "fuzz_scan: no *.yaml packs in %s\n", dir);
        abort();
    }
    g_rules = fz_build(c, "fuzz_scan");
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_scratch_t *s = NULL;
    lg_limits_t lim, tight;

    fz_limits(&lim);
    FZ_CHECK(lg_scratch_new(g_rules, &lim, &s) == LG_OK);
    fz_scan_all(s, &lim, data, size);
    lg_scratch_free(s);

    /* Few findings, few raw matches, little PCRE2 budget, short inputs. */
    tight = lim;
    tight.max_input = 512;
    tight.max_findings = 2;
    tight.max_matches = 24;
    tight.pcre_match_limit = 64;
    tight.pcre_depth_limit = 8;
    FZ_CHECK(lg_scratch_new(g_rules, &tight, &s) == LG_OK);
    fz_scan_all(s, &tight, data, size);
    lg_scratch_free(s);

    fz_leak(data, size);
    return 0;
}
