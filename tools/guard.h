/*
 * guard: the libguard command line tool.  Shared helpers of guard.c and the
 * subcommands (cmd_*.c).  Every subcommand returns its exit status.
 */
#ifndef GUARD_H
#define GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libguard.h"

/* Exit statuses shared by every subcommand. */
#define GUARD_EXIT_OK 0      /* allowed, compiled, all tests passed */
#define GUARD_EXIT_FAIL 1    /* blocked, or a rule test failed */
#define GUARD_EXIT_ERROR 2   /* usage, I/O, compile or scan error */

#if defined(__GNUC__)
#define GUARD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GUARD_PRINTF(a, b)
#endif

/* A growable list of owned strings. */
typedef struct guard_strv {
    char **v;
    size_t n;
    size_t cap;
} guard_strv_t;

/* Subcommands: argv[0] is the subcommand's name. */
int cmd_scan(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_canary(int argc, char **argv);
int cmd_redact(int argc, char **argv);
int cmd_unredact(int argc, char **argv);

/* Full help of each subcommand, printed for --help and `guard help`. */
void cmd_scan_help(FILE *f);
void cmd_compile_help(FILE *f);
void cmd_test_help(FILE *f);
void cmd_eval_help(FILE *f);
void cmd_lint_help(FILE *f);
void cmd_token_help(FILE *f);
void cmd_canary_help(FILE *f);
void cmd_redact_help(FILE *f);
void cmd_unredact_help(FILE *f);

/* Print "guard: <message>\n" to stderr. */
void guard_err(const char *fmt, ...) GUARD_PRINTF(1, 2);

/* Report a usage error of subcommand `cmd` and return GUARD_EXIT_ERROR. */
int guard_usage_error(const char *cmd, const char *fmt, ...)
    GUARD_PRINTF(2, 3);

/*
 * Report what getopt_long() (called with opterr = 0 and an optstring that
 * starts with ':') returned as `ch` ('?' or ':'); returns GUARD_EXIT_ERROR.
 */
int guard_getopt_error(const char *cmd, int ch, char **argv);

int guard_strv_push(guard_strv_t *sv, const char *s);
void guard_strv_free(guard_strv_t *sv);

/*
 * Parse a decimal uint32_t: digits only, no sign, no overflow.
 * Returns 0 on success, -1 otherwise.
 */
int guard_parse_u32(const char *s, uint32_t *out);

/*
 * Read all of `path` ("-" or NULL: stdin) into a malloc'ed buffer (also
 * NUL-terminated, which is not counted in *len).  Inputs longer than `max`
 * bytes are refused.  Reports its own errors; returns 0 or -1.
 */
int guard_read_all(const char *path, size_t max, unsigned char **buf,
                   size_t *len);

/*
 * The bundled rule pack directory: $LIBGUARD_RULES, the installed location
 * next to the executable, LG_RULES_INSTALL_DIR, LG_RULES_SOURCE_DIR.
 * Reports its own errors; returns 0 or -1.
 */
/* Room for a path built by guard (PATH_MAX on Linux). */
#define GUARD_PATH_MAX 4096

int guard_default_rules_dir(char *buf, size_t cap);

/* Path of the precompiled default database, when it exists and is not older
 * than the default packs; 0 on success, -1 if there is none to use. */
int guard_default_db(char *buf, size_t cap);

/*
 * Expand rule paths (files, or directories whose *.yaml files are taken in
 * sorted order) into the list of pack files.  No paths: the bundled packs.
 * Reports its own errors; returns 0 or -1.
 */
int guard_expand_rule_paths(const guard_strv_t *paths, guard_strv_t *files);

/* Print every diagnostic of `c` to stderr, one per line. */
void guard_print_diags(const lg_compiler_t *c);

/*
 * Compile the pack files with a new compiler (flags: lg_compiler_new()),
 * print its diagnostics, and return the rules in *rules.  If `keep` is not
 * NULL the compiler is handed back there (for its embedded tests),
 * otherwise it is freed.  Returns 0 or -1 (reported).
 */
int guard_compile_files(const guard_strv_t *files, uint32_t flags,
                        lg_rules_t **rules, lg_compiler_t **keep);

/* "prompt", "completion", "both" -> LG_DIR_*.  Returns 0 or -1. */
int guard_parse_dir(const char *s, uint32_t *dir);

/*
 * CATEGORY=N (e.g. "injection=5") into thresholds[category] = N, for the
 * policy options.  A bad argument is reported as a usage error of `cmd`
 * naming `opt`; returns 0 or GUARD_EXIT_ERROR.
 */
int guard_parse_threshold(const char *cmd, const char *opt, const char *arg,
                          uint32_t *thresholds);

/* "raw,leet" -> LG_VIEW_* bits, raw always included.  Returns 0 or -1. */
int guard_parse_views(const char *s, uint32_t *views);

/*
 * The options that set the verdict policy and the views, shared by the
 * commands that scan: put GUARD_POLICY_LONGOPTS in the getopt_long table
 * and hand every `ch` for which guard_is_policy_option() holds to
 * guard_policy_option().  Their values stay clear of each command's own
 * (which start at 256).
 */
enum {
    GUARD_OPT_DETECT_ONLY = 0x1000,
    GUARD_OPT_BLOCK_AT,
    GUARD_OPT_FLAG_AT,
    GUARD_OPT_TOTAL_BLOCK_AT,
    GUARD_OPT_TOTAL_FLAG_AT,
    GUARD_OPT_PARANOIA,
    GUARD_OPT_VIEWS,
    GUARD_OPT_POLICY_END
};

#define GUARD_POLICY_LONGOPTS                                                \
    {"detect-only", no_argument, NULL, GUARD_OPT_DETECT_ONLY},               \
    {"block-at", required_argument, NULL, GUARD_OPT_BLOCK_AT},               \
    {"flag-at", required_argument, NULL, GUARD_OPT_FLAG_AT},                 \
    {"total-block-at", required_argument, NULL, GUARD_OPT_TOTAL_BLOCK_AT},   \
    {"total-flag-at", required_argument, NULL, GUARD_OPT_TOTAL_FLAG_AT},     \
    {"paranoia", required_argument, NULL, GUARD_OPT_PARANOIA},               \
    {"views", required_argument, NULL, GUARD_OPT_VIEWS}

static inline int
guard_is_policy_option(int ch)
{
    return ch >= GUARD_OPT_DETECT_ONLY && ch < GUARD_OPT_POLICY_END;
}

/* Apply one policy option of command `cmd`.  Returns 0, or the exit status
 * of a usage error (reported). */
int guard_policy_option(const char *cmd, int ch, const char *arg,
                        lg_policy_t *policy, uint32_t *views);

/* Largest serialized rules file read by guard_load_rules(). */
#define GUARD_DB_MAX ((size_t)1 << 30)

/*
 * The rules to scan with: the serialized rules file `db` when not NULL,
 * else the packs at `paths` (see guard_expand_rule_paths()), else the
 * bundled packs, from their precompiled database while it is up to date.
 * Reports its own errors; returns 0 or -1.
 */
int guard_load_rules(const guard_strv_t *paths, const char *db,
                     lg_rules_t **rules);

#endif /* GUARD_H */
