/*
 * guard: command line front end of libguard.  main() dispatches to one
 * function per subcommand (cmd_*.c); the helpers below are shared by them.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"

#ifndef LG_RULES_SOURCE_DIR
#define LG_RULES_SOURCE_DIR ""
#endif
#ifndef LG_RULES_INSTALL_DIR
#define LG_RULES_INSTALL_DIR ""
#endif


typedef struct guard_cmd {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *f);
} guard_cmd_t;

static const guard_cmd_t guard_cmds[] = {
    {"scan", "scan text (or JSON lines) and print the verdict as JSON",
     cmd_scan, cmd_scan_help},
    {"compile", "compile rule packs into a serialized rules file",
     cmd_compile, cmd_compile_help},
    {"test", "run the embedded tests of rule packs", cmd_test,
     cmd_test_help},
    {"eval", "measure rules on labelled JSON lines (recall, false positives)",
     cmd_eval, cmd_eval_help},
    {"lint", "warn about rules likely to cost false positives or time",
     cmd_lint, cmd_lint_help},
    {"token", "issue and verify PASETO v4 tokens; make PASERK keys",
     cmd_token, cmd_token_help},
    {"canary", "print a new canary token for a system prompt", cmd_canary,
     cmd_canary_help},
    {"redact", "redact personal data and secrets in text or JSON records",
     cmd_redact, cmd_redact_help},
    {"unredact", "restore the values of encrypted redaction tokens",
     cmd_unredact, cmd_unredact_help},
};

#define GUARD_NCMDS (sizeof(guard_cmds) / sizeof(guard_cmds[0]))

static void
guard_help(FILE *f)
{
    size_t i;

    fputs("Usage: guard COMMAND [OPTION]... [ARG]...\n"
          "Check LLM prompts and completions against libguard rule packs.\n"
          "\n"
          "Commands:\n",
          f);
    for (i = 0; i < GUARD_NCMDS; i++) {
        fprintf(f, "  %-9s %s\n", guard_cmds[i].name, guard_cmds[i].summary);
    }
    fputs("  version   print the version of guard and libguard\n"
          "  help      show the help of a command\n"
          "\n"
          "Run 'guard help COMMAND' or 'guard COMMAND --help' for its "
          "options.\n"
          "\n"
          "Without --rules or --db, the bundled packs are used: "
          "$LIBGUARD_RULES,\n"
          "else the installed share/libguard/rules directory.\n"
          "\n"
          "Exit status: 0 allowed (or success), 1 blocked (or a rule test "
          "failed),\n"
          "2 error.\n",
          f);
}

static const guard_cmd_t *
guard_find_cmd(const char *name)
{
    size_t i;

    for (i = 0; i < GUARD_NCMDS; i++) {
        if (strcmp(guard_cmds[i].name, name) == 0) {
            return &guard_cmds[i];
        }
    }
    return NULL;
}

void
guard_err(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("guard: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int
guard_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "guard: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'guard %s --help' for more information.\n", cmd);
    return GUARD_EXIT_ERROR;
}

int
guard_getopt_error(const char *cmd, int ch, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";

    if (ch == ':') {
        if (optopt != 0 && optopt < 256 && arg[1] != '-') {
            return guard_usage_error(cmd, "option '-%c' requires an argument",
                                     optopt);
        }
        return guard_usage_error(cmd, "option '%s' requires an argument",
                                 arg);
    }
    if (optopt != 0 && optopt < 256) {
        return guard_usage_error(cmd, "unknown option '-%c'", optopt);
    }
    return guard_usage_error(cmd, "unknown option '%s'", arg);
}

int
guard_strv_push(guard_strv_t *sv, const char *s)
{
    char *copy;

    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 8;
        char **v = realloc(sv->v, cap * sizeof(*v));

        if (v == NULL) {
            return -1;
        }
        sv->v = v;
        sv->cap = cap;
    }
    copy = strdup(s);
    if (copy == NULL) {
        return -1;
    }
    sv->v[sv->n++] = copy;
    return 0;
}

void
guard_strv_free(guard_strv_t *sv)
{
    size_t i;

    for (i = 0; i < sv->n; i++) {
        free(sv->v[i]);
    }
    free(sv->v);
    sv->v = NULL;
    sv->n = 0;
    sv->cap = 0;
}

int
guard_parse_u32(const char *s, uint32_t *out)
{
    unsigned long long v;
    char *end;

    /* strtoull accepts leading blanks and signs: allow digits only. */
    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > UINT32_MAX) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int
guard_read_all(const char *path, size_t max, unsigned char **buf,
               size_t *len)
{
    int use_stdin = path == NULL || strcmp(path, "-") == 0;
    const char *name = use_stdin ? "standard input" : path;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    unsigned char *b = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;

    *buf = NULL;
    *len = 0;
    if (f == NULL) {
        guard_err("%s: %s", name, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t got;

        if (cap - n < 2) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *nb;

            if (ncap < cap) {
                guard_err("%s: out of memory", name); // LCOV_EXCL_LINE
                goto out;                             // LCOV_EXCL_LINE
            }
            nb = realloc(b, ncap);
            if (nb == NULL) {
                guard_err("%s: out of memory", name);
                goto out;
            }
            b = nb;
            cap = ncap;
        }
        /* Keep one byte for the terminating NUL. */
        got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (n > max) {
            guard_err("%s: input is larger than the limit of %zu bytes", name,
                      max);
            goto out;
        }
        if (got == 0) {
            if (ferror(f)) {
                guard_err("%s: read error: %s", name, strerror(errno));
                goto out;
            }
            break;
        }
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    b = NULL;
    rc = 0;
out:
    free(b);
    if (!use_stdin) {
        fclose(f);
    }
    return rc;
}

static int
guard_is_dir(const char *path)
{
    struct stat st;

    return path[0] != '\0' && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
guard_set_path(char *buf, size_t cap, const char *path)
{
    int n = snprintf(buf, cap, "%s", path);

    return n >= 0 && (size_t)n < cap ? 0 : -1;
}

int
guard_default_rules_dir(char *buf, size_t cap)
{
    const char *env = getenv("LIBGUARD_RULES");
    char exe[GUARD_PATH_MAX];
    ssize_t n;

    /* An explicit setting wins even if it is wrong: say so, don't guess. */
    if (env != NULL && env[0] != '\0') {
        if (guard_set_path(buf, cap, env) != 0) {
            guard_err("LIBGUARD_RULES is too long");
            return -1;
        }
        return 0;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;

        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash != NULL) {
            int w;

            *slash = '\0';
            w = snprintf(buf, cap, "%s/../share/libguard/rules", exe);
            if (w >= 0 && (size_t)w < cap && guard_is_dir(buf)) {
                return 0;
            }
        }
    }
    if (guard_is_dir(LG_RULES_INSTALL_DIR) &&
        guard_set_path(buf, cap, LG_RULES_INSTALL_DIR) == 0) {
        return 0;
    }
    if (guard_is_dir(LG_RULES_SOURCE_DIR) &&
        guard_set_path(buf, cap, LG_RULES_SOURCE_DIR) == 0) {
        return 0;
    }
    guard_err("no bundled rule packs found: set LIBGUARD_RULES or use "
              "--rules");
    return -1;
}

static int
guard_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
guard_has_yaml_suffix(const char *name)
{
    size_t n = strlen(name);

    return n > 5 && name[0] != '.' && strcmp(name + n - 5, ".yaml") == 0;
}

/* Append the *.yaml regular files of `dir`, sorted by name. */
static int
guard_expand_dir(const char *dir, guard_strv_t *files)
{
    guard_strv_t found = {0};
    const char *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
    struct dirent *de;
    DIR *d = opendir(dir);
    int rc = -1;
    size_t i;

    if (d == NULL) {
        guard_err("%s: %s", dir, strerror(errno));
        return -1;
    }
    for (;;) {
        char path[GUARD_PATH_MAX];
        struct stat st;
        int n;

        errno = 0;
        de = readdir(d);
        if (de == NULL) {
            if (errno != 0) {
                guard_err("%s: %s", dir, strerror(errno));
                goto out;
            }
            break;
        }
        if (!guard_has_yaml_suffix(de->d_name)) {
            continue;
        }
        n = snprintf(path, sizeof(path), "%s%s%s", dir, sep, de->d_name);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            guard_err("%s: path too long", dir);
            goto out;
        }
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (guard_strv_push(&found, path) != 0) {
            guard_err("out of memory");
            goto out;
        }
    }
    if (found.n == 0) {
        guard_err("%s: no *.yaml rule packs in this directory", dir);
        goto out;
    }
    qsort(found.v, found.n, sizeof(found.v[0]), guard_cmp_str);
    for (i = 0; i < found.n; i++) {
        if (guard_strv_push(files, found.v[i]) != 0) {
            guard_err("out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    closedir(d);
    guard_strv_free(&found);
    return rc;
}

int
guard_expand_rule_paths(const guard_strv_t *paths, guard_strv_t *files)
{
    size_t i;

    if (paths->n == 0) {
        char dir[GUARD_PATH_MAX];

        if (guard_default_rules_dir(dir, sizeof(dir)) != 0) {
            return -1;
        }
        return guard_expand_dir(dir, files);
    }
    for (i = 0; i < paths->n; i++) {
        const char *p = paths->v[i];
        struct stat st;

        if (p[0] == '\0') {
            guard_err("empty rules path");
            return -1;
        }
        if (stat(p, &st) != 0) {
            guard_err("%s: %s", p, strerror(errno));
            return -1;
        }
        if (S_ISDIR(st.st_mode)) {
            if (guard_expand_dir(p, files) != 0) {
                return -1;
            }
        } else if (guard_strv_push(files, p) != 0) {
            guard_err("out of memory");
            return -1;
        }
    }
    return 0;
}

/*
 * The database precompiled from the default packs (`default.lgrb`, built
 * and installed beside them), if it exists and is at least as new as every
 * pack: compiling the packs takes seconds, loading them milliseconds.
 * Returns 0 with the path in buf, or -1 when there is none to use.
 */
int
guard_default_db(char *buf, size_t cap)
{
    char dir[GUARD_PATH_MAX];
    guard_strv_t files = {0};
    struct stat st, fst;
    int w, rc = -1;

    /* Packs named by LIBGUARD_RULES are the user's: always compile them. */
    if (getenv("LIBGUARD_RULES") != NULL ||
        guard_default_rules_dir(dir, sizeof(dir)) != 0) {
        return -1;
    }
    if (strcmp(dir, LG_RULES_SOURCE_DIR) == 0) {
        w = snprintf(buf, cap, "%s", LG_DEFAULT_DB_BUILD);
    } else {
        w = snprintf(buf, cap, "%s/../default.lgrb", dir);
    }
    if (w < 0 || (size_t)w >= cap || stat(buf, &st) != 0 ||
        !S_ISREG(st.st_mode) || guard_expand_dir(dir, &files) != 0) {
        goto out;
    }
    for (size_t i = 0; i < files.n; i++) {
        if (stat(files.v[i], &fst) != 0 ||
            fst.st_mtim.tv_sec > st.st_mtim.tv_sec ||
            (fst.st_mtim.tv_sec == st.st_mtim.tv_sec &&
             fst.st_mtim.tv_nsec > st.st_mtim.tv_nsec)) {
            goto out;
        }
    }
    rc = 0;
out:
    guard_strv_free(&files);
    return rc;
}

void
guard_print_diags(const lg_compiler_t *c)
{
    size_t i, n = lg_compiler_diag_count(c);
    char small[512];

    for (i = 0; i < n; i++) {
        const lg_diag_t *d = lg_compiler_diag(c, i);
        size_t needed = 0;
        lg_status_t st;

        if (d == NULL) {
            continue;
        }
        st = lg_diag_format(d, small, sizeof(small), &needed);
        if (st == LG_E_NOSPACE && needed > sizeof(small)) {
            char *big = malloc(needed);

            if (big != NULL && lg_diag_format(d, big, needed, NULL) == LG_OK) {
                fprintf(stderr, "%s\n", big);
                free(big);
                continue;
            }
            free(big);
            /* Fall back to the truncated line. */
            st = LG_OK;
        }
        if (st == LG_OK) {
            fprintf(stderr, "%s\n", small);
        } else {
            guard_err("%s: cannot format a diagnostic: %s",
                      d->file ? d->file : "?", lg_strerror(st));
        }
    }
}

int
guard_compile_files(const guard_strv_t *files, uint32_t flags,
                    lg_rules_t **rules, lg_compiler_t **keep)
{
    lg_compiler_t *c = NULL;
    lg_rules_t *r = NULL;
    lg_status_t st;
    int add_failed = 0;
    int rc = -1;
    size_t i;

    *rules = NULL;
    if (keep != NULL) {
        *keep = NULL;
    }
    st = lg_compiler_new(flags, &c);
    if (st != LG_OK) {
        guard_err("cannot create a rule compiler: %s", lg_strerror(st));
        return -1;
    }
    for (i = 0; i < files->n; i++) {
        size_t before = lg_compiler_error_count(c);

        st = lg_compiler_add_file(c, files->v[i]);
        if (st == LG_OK) {
            continue;
        }
        add_failed = 1;
        if (st != LG_E_COMPILE && st != LG_E_IO) {
            guard_print_diags(c);
            guard_err("%s: %s", files->v[i], lg_strerror(st));
            goto out;
        }
        /* Make sure a failure is never silent, diagnostic or not. */
        if (lg_compiler_error_count(c) == before) {
            guard_err("%s: %s", files->v[i], lg_strerror(st));
        }
    }
    /* Build even after a bad file: it reports errors across all files. */
    st = lg_compiler_build(c, &r);
    guard_print_diags(c);
    if (st != LG_OK) {
        if (lg_compiler_error_count(c) == 0) {
            guard_err("cannot compile the rules: %s", lg_strerror(st));
        }
        goto out;
    }
    if (add_failed) {
        goto out;
    }
    *rules = r;
    r = NULL;
    if (keep != NULL) {
        *keep = c;
        c = NULL;
    }
    rc = 0;
out:
    lg_rules_free(r);
    lg_compiler_free(c);
    return rc;
}

int
guard_parse_dir(const char *s, uint32_t *dir)
{
    if (strcmp(s, "prompt") == 0) {
        *dir = LG_DIR_PROMPT;
    } else if (strcmp(s, "completion") == 0) {
        *dir = LG_DIR_COMPLETION;
    } else if (strcmp(s, "both") == 0) {
        *dir = LG_DIR_BOTH;
    } else {
        return -1;
    }
    return 0;
}

int
guard_parse_threshold(const char *cmd, const char *opt, const char *arg,
                      uint32_t *thresholds)
{
    const char *eq = strchr(arg, '=');
    lg_category_t cat;
    uint32_t n;

    if (eq == NULL) {
        return guard_usage_error(cmd, "%s: expected CATEGORY=N, got '%s'",
                                 opt, arg);
    }
    if (lg_category_parse(arg, (size_t)(eq - arg), &cat) != LG_OK) {
        return guard_usage_error(cmd, "%s: unknown category '%.*s'", opt,
                                 (int)(eq - arg), arg);
    }
    if (guard_parse_u32(eq + 1, &n) != 0) {
        return guard_usage_error(cmd, "%s: invalid number '%s'", opt, eq + 1);
    }
    thresholds[cat] = n;
    return 0;
}

int
guard_parse_views(const char *s, uint32_t *views)
{
    uint32_t v = LG_VIEW_RAW;

    for (;;) {
        size_t n = strcspn(s, ",");
        uint32_t bit = 0;

        for (uint32_t b = 1; b <= LG_VIEW_ALL; b <<= 1) {
            const char *name = lg_view_name(b);

            if (name != NULL && strlen(name) == n &&
                strncmp(s, name, n) == 0) {
                bit = b;
            }
        }
        if (bit == 0) {
            return -1;
        }
        v |= bit;
        if (s[n] == '\0') {
            break;
        }
        s += n + 1;
    }
    *views = v;
    return 0;
}

int
guard_policy_option(const char *cmd, int ch, const char *arg,
                    lg_policy_t *policy, uint32_t *views)
{
    switch (ch) {
    case GUARD_OPT_DETECT_ONLY:
        policy->detect_only = 1;
        return 0;
    case GUARD_OPT_BLOCK_AT:
        return guard_parse_threshold(cmd, "--block-at", arg, policy->block_at);
    case GUARD_OPT_FLAG_AT:
        return guard_parse_threshold(cmd, "--flag-at", arg, policy->flag_at);
    case GUARD_OPT_TOTAL_BLOCK_AT:
    case GUARD_OPT_TOTAL_FLAG_AT: {
        const char *name = ch == GUARD_OPT_TOTAL_BLOCK_AT ? "--total-block-at"
                                                          : "--total-flag-at";

        if (guard_parse_u32(arg, ch == GUARD_OPT_TOTAL_BLOCK_AT
                                     ? &policy->total_block_at
                                     : &policy->total_flag_at) != 0) {
            return guard_usage_error(cmd, "%s: invalid number '%s'", name,
                                     arg);
        }
        return 0;
    }
    case GUARD_OPT_PARANOIA:
        if (guard_parse_u32(arg, &policy->paranoia) != 0 ||
            policy->paranoia < 1 || policy->paranoia > LG_PARANOIA_MAX) {
            return guard_usage_error(
                cmd, "--paranoia: expected a level from 1 to %d, got '%s'",
                LG_PARANOIA_MAX, arg);
        }
        return 0;
    case GUARD_OPT_VIEWS:
        if (guard_parse_views(arg, views) != 0) {
            return guard_usage_error(cmd,
                                     "--views: expected a comma-separated "
                                     "list of raw, normalized, leet and "
                                     "decoded, got '%s'",
                                     arg);
        }
        return 0;
    default:
        return guard_usage_error(cmd, "internal: unknown option %d", ch);
    }
}

int
guard_load_rules(const guard_strv_t *paths, const char *db,
                 lg_rules_t **rules)
{
    guard_strv_t files = {0};
    unsigned char *buf;
    size_t len;
    lg_status_t st;
    int rc;

    *rules = NULL;
    if (db != NULL) {
        if (guard_read_all(db, GUARD_DB_MAX, &buf, &len) != 0) {
            return -1;
        }
        st = lg_rules_load(buf, len, rules);
        free(buf);
        if (st != LG_OK) {
            guard_err("%s: %s", db, lg_strerror(st));
            return -1;
        }
        return 0;
    }
    if (paths->n == 0) {
        char path[GUARD_PATH_MAX];

        /* The precompiled default packs; on any trouble (another CPU, a
         * damaged file) compile the packs instead, quietly. */
        if (guard_default_db(path, sizeof(path)) == 0 &&
            guard_read_all(path, GUARD_DB_MAX, &buf, &len) == 0) {
            st = lg_rules_load(buf, len, rules);
            free(buf);
            if (st == LG_OK) {
                return 0;
            }
        }
    }
    rc = guard_expand_rule_paths(paths, &files);
    if (rc == 0) {
        rc = guard_compile_files(&files, 0, rules, NULL);
    }
    guard_strv_free(&files);
    return rc;
}

int
main(int argc, char **argv)
{
    const guard_cmd_t *cmd;
    const char *name;

    if (argc < 2) {
        fputs("Usage: guard COMMAND [OPTION]... [ARG]...\n"
              "Try 'guard --help' for more information.\n",
              stderr);
        return GUARD_EXIT_ERROR;
    }
    name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        guard_help(stdout);
        return GUARD_EXIT_OK;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        if (argc > 2) {
            guard_err("version: unexpected argument '%s'", argv[2]);
            return GUARD_EXIT_ERROR;
        }
        printf("guard %s\n", lg_version());
        return GUARD_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc == 2) {
            guard_help(stdout);
            return GUARD_EXIT_OK;
        }
        if (argc > 3) {
            guard_err("help: too many arguments");
            return GUARD_EXIT_ERROR;
        }
        cmd = guard_find_cmd(argv[2]);
        if (cmd == NULL) {
            if (strcmp(argv[2], "help") == 0 ||
                strcmp(argv[2], "version") == 0) {
                guard_help(stdout);
                return GUARD_EXIT_OK;
            }
            guard_err("help: unknown command '%s'\n"
                      "Try 'guard --help' for the list of commands.",
                      argv[2]);
            return GUARD_EXIT_ERROR;
        }
        cmd->help(stdout);
        return GUARD_EXIT_OK;
    }
    cmd = guard_find_cmd(name);
    if (cmd == NULL) {
        guard_err("unknown command '%s'\n"
                  "Try 'guard --help' for the list of commands.",
                  name);
        return GUARD_EXIT_ERROR;
    }
    return cmd->run(argc - 1, argv + 1);
}
