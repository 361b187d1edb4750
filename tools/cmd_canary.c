/*
 * guard canary: print a new canary token.  Put it in the system prompt and
 * give it to `guard scan --canary` (or lg_leak_new()): a completion that
 * carries it has leaked the prompt.
 */
#include <stdio.h>
#include <string.h>

#include "guard.h"

#define CANARY_CMD "canary"

void
cmd_canary_help(FILE *f)
{
    fputs("Usage: guard canary\n"
          "Print a new random canary token (\"lg-canary-\" and 24 hex "
          "digits).\n"
          "Plant it in a system prompt; 'guard scan --direction completion "
          "--canary TOKEN'\n"
          "then blocks any completion that carries it.\n"
          "\n"
          "  -h, --help               show this help\n",
          f);
}

int
cmd_canary(int argc, char **argv)
{
    char tok[LG_CANARY_SIZE];
    lg_status_t st;

    if (argc == 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cmd_canary_help(stdout);
        return GUARD_EXIT_OK;
    }
    if (argc > 1) {
        return guard_usage_error(CANARY_CMD, "unexpected argument '%s'",
                                 argv[1]);
    }
    st = lg_canary_new(tok, sizeof(tok));
    if (st != LG_OK) {
        guard_err("canary: %s", lg_strerror(st));
        return GUARD_EXIT_ERROR;
    }
    puts(tok);
    return GUARD_EXIT_OK;
}
