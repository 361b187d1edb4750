/* Compiles a one-rule pack and scans with it through the installed API. */
#include <stdio.h>
#include <string.h>

#include <libguard.h>

static const char pack[] =
    "version: 1\n"
    "pack: consumer\n"
    "pack_version: \"1\"\n"
    "rules:\n"
    "  - id: consumer.hello\n"
    "    category: injection\n"
    "    description: test rule\n"
    "    severity: critical\n"
    "    patterns: ['hello\\s+world']\n"
    "    tests: {match: [hello world], no_match: [hello]}\n";

int
main(void)
{
    lg_compiler_t *c = NULL;
    lg_rules_t *r = NULL;
    lg_scratch_t *s = NULL;
    lg_result_t res;
    const char *in = "say Hello  World";
    int ok = 0;

    if (lg_compiler_new(0, &c) != LG_OK ||
        lg_compiler_add_yaml(c, "pack.yaml", pack, strlen(pack)) != LG_OK ||
        lg_compiler_build(c, &r) != LG_OK ||
        lg_scratch_new(r, NULL, &s) != LG_OK ||
        lg_scan(s, in, strlen(in), LG_DIR_PROMPT, NULL, &res) != LG_OK) {
        fprintf(stderr, "consumer: libguard call failed\n");
        goto out;
    }
    ok = res.verdict == LG_VERDICT_BLOCK && res.nfindings == 1 &&
         res.findings[0].start == 4 && res.findings[0].end == 16;
    printf("consumer: libguard %s, verdict %s\n", lg_version(),
           lg_verdict_name(res.verdict));
out:
    lg_scratch_free(s);
    lg_rules_free(r);
    lg_compiler_free(c);
    return ok ? 0 : 1;
}
