/*
 * guard compile: compile rule packs and write the serialized rules, which
 * `guard scan --db` and lg_rules_load() accept.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"

#define COMPILE_CMD "compile"

enum { OPT_STRICT = 256 };

void
cmd_compile_help(FILE *f)
{
    fputs("Usage: guard compile [--rules PATH]... -o FILE\n"
          "Compile rule packs into one serialized rules file for "
          "'guard scan --db'.\n"
          "The file is written atomically (a temporary file, then rename).\n"
          "\n"
          "  -r, --rules PATH   a rule pack file, or a directory of *.yaml "
          "packs;\n"
          "                     may be repeated (default: the bundled packs)\n"
          "  -o, --output FILE  where to write the rules ('-': standard "
          "output)\n"
          "      --strict       treat compiler warnings as errors\n"
          "  -h, --help         show this help\n"
          "\n"
          "Exit status: 0 written, 2 error.\n",
          f);
}

static int
compile_write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write to a temporary file beside `path`, then rename it over `path`, so
 * that a reader never sees a half-written rules file. */
static int
compile_write_atomic(const char *path, const void *buf, size_t len)
{
    size_t cap = strlen(path) + sizeof(".tmp.XXXXXX");
    char *tmp = malloc(cap);
    mode_t mask;
    int fd, saved;

    if (tmp == NULL) {
        guard_err("out of memory");
        return -1;
    }
    snprintf(tmp, cap, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        guard_err("%s: cannot create a temporary file: %s", path,
                  strerror(errno));
        free(tmp);
        return -1;
    }
    /* mkstemp() makes the file 0600: give it the usual umask'ed mode. */
    mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || compile_write_all(fd, buf, len) != 0 ||
        fsync(fd) != 0) {
        saved = errno;
        close(fd);
        goto fail;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        saved = errno;
        goto fail;
    }
    free(tmp);
    return 0;
fail:
    unlink(tmp);
    free(tmp);
    guard_err("%s: %s", path, strerror(saved));
    return -1;
}

static int
compile_write_stdout(const void *buf, size_t len)
{
    if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) == EOF) {
        guard_err("cannot write the output: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int
cmd_compile(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    guard_strv_t paths = {0}, files = {0};
    const char *output = NULL;
    lg_rules_t *rules = NULL;
    uint32_t flags = 0;
    void *buf = NULL;
    size_t len = 0;
    lg_status_t st;
    int ch, rc = GUARD_EXIT_ERROR;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":r:o:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (guard_strv_push(&paths, optarg) != 0) {
                guard_err("out of memory");
                goto out;
            }
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_STRICT:
            flags |= LG_COMPILE_STRICT;
            break;
        case 'h':
            cmd_compile_help(stdout);
            rc = GUARD_EXIT_OK;
            goto out;
        default:
            rc = guard_getopt_error(COMPILE_CMD, ch, argv);
            goto out;
        }
    }
    if (optind < argc) {
        rc = guard_usage_error(COMPILE_CMD, "unexpected argument '%s' "
                                            "(use --rules PATH)",
                               argv[optind]);
        goto out;
    }
    if (output == NULL || output[0] == '\0') {
        rc = guard_usage_error(COMPILE_CMD, "missing -o FILE");
        goto out;
    }
    if (guard_expand_rule_paths(&paths, &files) != 0 ||
        guard_compile_files(&files, flags, &rules, NULL) != 0) {
        goto out;
    }
    st = lg_rules_serialize(rules, &buf, &len);
    if (st != LG_OK) {
        guard_err("cannot serialize the rules: %s", lg_strerror(st));
        goto out;
    }
    if (strcmp(output, "-") == 0 ? compile_write_stdout(buf, len) != 0
                                 : compile_write_atomic(output, buf, len) != 0) {
        goto out;
    }
    rc = GUARD_EXIT_OK;
out:
    lg_free(buf);
    lg_rules_free(rules);
    guard_strv_free(&files);
    guard_strv_free(&paths);
    return rc;
}
