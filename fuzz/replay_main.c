/*
 * Replays fuzz inputs without libFuzzer: linked with one fuzz_<target>.c it
 * makes replay_<target>, which calls LLVMFuzzerInitialize once and then
 * LLVMFuzzerTestOneInput on every file named on the command line and on
 * every regular file (not starting with '.') of every directory named
 * there, in name order.  Used by the ctests fuzz_replay_<target>, so every
 * build, with or without clang, runs every seed and every reproducer.
 *
 * Exit status: 0 when at least one input ran; 1 when an argument cannot be
 * read or no input was found.  A harness failure aborts or traps.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL, *nb;
    size_t len = 0, cap = 0, got;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                fprintf(stderr, "%s: out of memory\n", path);
                return -1;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        perror(path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    /* Exactly `len` bytes, as libFuzzer passes them, so that ASan sees any
     * read past the end. */
    nb = malloc(len > 0 ? len : 1);
    if (nb == NULL) {
        free(buf);
        return -1;
    }
    if (len > 0) {
        memcpy(nb, buf, len);
    }
    free(buf);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    (void)LLVMFuzzerTestOneInput(nb, len);
    free(nb);
    return 0;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the files of `dir`; returns how many, or -1 on error. */
static long
run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, **nn;
    size_t n = 0, cap = 0;
    long ran = 0;

    if (d == NULL) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t dl = strlen(dir), el = strlen(e->d_name);
        struct stat st;
        char *p;

        if (e->d_name[0] == '.') {
            continue;
        }
        p = malloc(dl + el + 2);
        if (p == NULL) {
            break;
        }
        memcpy(p, dir, dl);
        if (dl > 0 && dir[dl - 1] == '/') {
            dl--;
        }
        p[dl] = '/';
        memcpy(p + dl + 1, e->d_name, el + 1);
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(p);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            nn = realloc(names, cap * sizeof(*names));
            if (nn == NULL) {
                free(p);
                break;
            }
            names = nn;
        }
        names[n++] = p;
    }
    closedir(d);
    if (n > 0) {
        qsort(names, n, sizeof(*names), name_cmp);
    }
    for (size_t i = 0; i < n; i++) {
        if (ran >= 0 && run_file(names[i]) == 0) {
            ran++;
        } else {
            ran = -1;
        }
        free(names[i]);
    }
    free(names);
    return ran;
}

int
main(int argc, char **argv)
{
    long total = 0;
    int failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 1;
    }
    (void)LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            failed = 1;
        } else if (S_ISDIR(st.st_mode)) {
            long n = run_dir(argv[i]);

            if (n < 0) {
                failed = 1;
            } else {
                total += n;
            }
        } else if (run_file(argv[i]) == 0) {
            total++;
        } else {
            failed = 1;
        }
    }
    fprintf(stderr, "replay: %ld inputs\n", total);
    if (total == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    return failed;
}
