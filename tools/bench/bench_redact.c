/*
 * lg_bench_redact: redaction throughput against scanning alone, in one run,
 * on 16 KiB of text dense with personal data (a value every ~60 bytes:
 * e-mail addresses, phone numbers, card numbers checked by Luhn, IPv4
 * addresses, API-key-like tokens, some written with fullwidth digits or a
 * zero-width space so that the normalized view finds them).
 *
 * "scan" is lg_scan() alone; each mode is lg_scan() + lg_redact() into a
 * buffer of lg_redact_bound() bytes, which is what a caller does.  The
 * target (issue 5) is redaction at >= 50% of scan throughput.  Each figure
 * is the median over REPS repetitions; the variants alternate within each
 * repetition so that a noisy neighbour hits all of them.  Also measured:
 * lg_redact_json() on a chat record holding the same text.
 *
 *   lg_bench_redact [-n REPS] [-s KIB]
 *
 * Exit status 0 if every text mode reaches the target, 1 otherwise.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "libguard.h"

#include "bench_util.h"

static const char pack[] =
    "version: 1\n"
    "pack: benchpii\n"
    "pack_version: '1'\n"
    "views: [raw, normalized]\n"
    "rules:\n"
    "  - id: b.email\n"
    "    category: pii\n"
    "    description: e-mail address\n"
    "    severity: low\n"
    "    entity: EMAIL\n"
    "    applies_to: both\n"
    "    patterns: ['[a-z0-9._%+-]{1,64}@(?:[a-z0-9-]{1,63}\\.){1,4}"
    "[a-z]{2,12}']\n"
    "  - id: b.phone\n"
    "    category: pii\n"
    "    description: phone number\n"
    "    severity: low\n"
    "    entity: PHONE\n"
    "    applies_to: both\n"
    "    patterns: ['\\(?\\d{3}\\)?[ .-]\\d{3}[ .-]\\d{4}']\n"
    "  - id: b.card\n"
    "    category: pii\n"
    "    description: payment card number\n"
    "    severity: medium\n"
    "    entity: CREDIT_CARD\n"
    "    applies_to: both\n"
    "    validate: luhn\n"
    "    patterns: ['\\d{4}(?:[ -]?\\d{4}){3}']\n"
    "  - id: b.ipv4\n"
    "    category: pii\n"
    "    description: IPv4 address\n"
    "    severity: low\n"
    "    entity: IP_ADDRESS\n"
    "    applies_to: both\n"
    "    patterns: ['\\b(?:\\d{1,3}\\.){3}\\d{1,3}\\b']\n"
    "  - id: b.apikey\n"
    "    category: secret\n"
    "    description: made-up API key shape\n"
    "    severity: critical\n"
    "    entity: API_KEY\n"
    "    applies_to: both\n"
    "    flags: []\n"
    "    patterns: ['\\bsk_demo_[A-Za-z0-9]{24}\\b']\n";

static const char *const filler[] = {
    "Please update the record for ", "The customer wrote from ",
    " and asked us to call back on ", ". Their card on file is ",
    "; the request came from host ", " with the key ",
    ", then said thanks. ", " Forward this to ", "\n",
};

#define MODES 4

static void
die(const char *what, lg_status_t st)
{
    fprintf(stderr, "lg_bench_redact: %s: %s\n", what, lg_strerror(st));
    exit(2);
}

static uint32_t
rnd(uint32_t n)
{
    return randombytes_uniform(n);
}

/* A Luhn-valid 16-digit number in groups of four. */
static void
card(char *out)
{
    int d[16], sum = 0;

    d[0] = 4;
    for (int i = 1; i < 15; i++) {
        d[i] = (int)rnd(10);
    }
    for (int i = 0; i < 15; i++) {
        int v = d[i];

        if (i % 2 == 0) {
            v *= 2;
            if (v > 9) {
                v -= 9;
            }
        }
        sum += v;
    }
    d[15] = (10 - sum % 10) % 10;
    for (int i = 0, p = 0; i < 16; i++) {
        if (i > 0 && i % 4 == 0) {
            out[p++] = ' ';
        }
        out[p++] = (char)('0' + d[i]);
        out[p] = '\0';
    }
}

static size_t
make_text(char *buf, size_t cap)
{
    static const char b62[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 0;
    char v[96];

    while (n + 160 < cap) {
        const char *f = filler[rnd(sizeof(filler) / sizeof(filler[0]))];
        size_t k;

        memcpy(buf + n, f, strlen(f));
        n += strlen(f);
        switch (rnd(7)) {
        case 0:
            snprintf(v, sizeof(v), "user%u.name@mail%u.example.com",
                     rnd(100000), rnd(100));
            break;
        case 1:
            snprintf(v, sizeof(v), "(555) %03u-%04u", rnd(1000), rnd(10000));
            break;
        case 2:
            card(v);
            break;
        case 3:
            snprintf(v, sizeof(v), "10.%u.%u.%u", rnd(256), rnd(256),
                     rnd(256));
            break;
        case 4:
            memcpy(v, "sk_demo_", 8);
            for (k = 8; k < 32; k++) {
                v[k] = b62[rnd(62)];
            }
            v[32] = '\0';
            break;
        case 5:
            /* fullwidth digits: the normalized view finds them */
            snprintf(v, sizeof(v),
                     "555-\xef\xbc\x90\xef\xbc\x91\xef\xbc\x92-%04u",
                     rnd(10000));
            break;
        default:
            /* a zero-width space inside the local part */
            snprintf(v, sizeof(v), "jo\xe2\x80\x8b" "doe%u@example.org",
                     rnd(1000));
            break;
        }
        memcpy(buf + n, v, strlen(v));
        n += strlen(v);
    }
    return n;
}

int
main(int argc, char **argv)
{
    static const char *const names[MODES] = {"replace", "mask", "hash",
                                             "encrypt"};
    lg_compiler_t *c = NULL;
    lg_rules_t *r = NULL;
    lg_scratch_t *s = NULL;
    lg_result_t res;
    lg_redact_opts_t o;
    uint8_t key[LG_REDACT_KEYBYTES];
    size_t kib = 16, len, bound, outlen, iters, nf;
    int reps = 7, opt, ok = 1;
    char *text, *out, *rec, *jout;
    double *t_scan, *t_mode[MODES], *t_json, med_scan, med;
    lg_status_t st;

    while ((opt = getopt(argc, argv, "n:s:")) != -1) {
        switch (opt) {
        case 'n':
            reps = (int)strtoul(optarg, NULL, 10);
            if (reps < 1 || reps > 1000) {
                fprintf(stderr, "lg_bench_redact: -n: 1 to 1000\n");
                return 2;
            }
            break;
        case 's':
            kib = strtoul(optarg, NULL, 10);
            if (kib < 1 || kib > 65536) {
                fprintf(stderr, "lg_bench_redact: -s: 1 to 65536 KiB\n");
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: lg_bench_redact [-n REPS] [-s KIB]\n");
            return 2;
        }
    }
    if (sodium_init() < 0) {
        return 2;
    }
    randombytes_buf(key, sizeof(key));
    if ((st = lg_compiler_new(0, &c)) != LG_OK ||
        (st = lg_compiler_add_yaml(c, "bench", pack, sizeof(pack) - 1)) !=
            LG_OK ||
        (st = lg_compiler_build(c, &r)) != LG_OK) {
        die("compiling the PII pack", st);
    }
    lg_compiler_free(c);
    if ((st = lg_scratch_new(r, NULL, &s)) != LG_OK) {
        die("lg_scratch_new", st);
    }
    text = malloc(kib * 1024);
    len = make_text(text, kib * 1024);
    if ((st = lg_scan(s, text, len, LG_DIR_BOTH, NULL, &res)) != LG_OK) {
        die("lg_scan", st);
    }
    nf = res.nfindings;
    bound = lg_redact_bound(len, nf);
    out = malloc(bound);
    /* The same text as a chat record, JSON-escaped by hand: it holds
     * only printable ASCII, UTF-8 and newlines. */
    rec = malloc(len * 2 + 128);
    {
        static const char head[] = "{\"model\":\"m\",\"messages\":[{"
                                   "\"role\":\"user\",\"content\":\"";
        size_t p = sizeof(head) - 1;

        memcpy(rec, head, p);
        for (size_t i = 0; i < len; i++) {
            if (text[i] == '\n') {
                rec[p++] = '\\';
                rec[p++] = 'n';
            } else {
                rec[p++] = text[i];
            }
        }
        memcpy(rec + p, "\"}]}", 5);
    }
    /* Enough iterations for ~20 ms per measurement. */
    {
        double t0 = (double)bench_now_ns();

        for (int i = 0; i < 10; i++) {
            (void)lg_scan(s, text, len, LG_DIR_BOTH, NULL, &res);
        }
        iters = (size_t)(20e6 / (((double)bench_now_ns() - t0) / 10.0)) + 1;
    }
    t_scan = calloc((size_t)reps, sizeof(double));
    t_json = calloc((size_t)reps, sizeof(double));
    for (int m = 0; m < MODES; m++) {
        t_mode[m] = calloc((size_t)reps, sizeof(double));
    }
    lg_redact_opts_init(&o);
    o.key = key;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = (double)bench_now_ns();

        for (size_t i = 0; i < iters; i++) {
            (void)lg_scan(s, text, len, LG_DIR_BOTH, NULL, &res);
        }
        t_scan[rep] = ((double)bench_now_ns() - t0) / (double)iters;
        for (int m = 0; m < MODES; m++) {
            o.mode = (lg_redact_mode_t)m;
            t0 = (double)bench_now_ns();
            for (size_t i = 0; i < iters; i++) {
                (void)lg_scan(s, text, len, LG_DIR_BOTH, NULL, &res);
                st = lg_redact(r, text, len, &res, &o, out, bound, &outlen);
                if (st != LG_OK) {
                    die("lg_redact", st);
                }
            }
            t_mode[m][rep] = ((double)bench_now_ns() - t0) / (double)iters;
        }
        o.mode = LG_REDACT_REPLACE;
        t0 = (double)bench_now_ns();
        for (size_t i = 0; i < iters; i++) {
            st = lg_redact_json(s, LG_DIR_BOTH, rec, strlen(rec), NULL, 0,
                                &o, &jout, &outlen);
            if (st != LG_OK) {
                die("lg_redact_json", st);
            }
            lg_free(jout);
        }
        t_json[rep] = ((double)bench_now_ns() - t0) / (double)iters;
    }
    qsort(t_scan, (size_t)reps, sizeof(double), bench_cmp_double);
    med_scan = t_scan[reps / 2];
    printf("input: %zu bytes, %zu findings (one per %zu bytes), %d reps\n",
           len, nf, nf ? len / nf : 0, reps);
    printf("%-22s %9.1f MB/s  %8.1f us  (baseline)\n", "scan only",
           (double)len / med_scan * 1e3, med_scan / 1e3);
    for (int m = 0; m < MODES; m++) {
        double ratio;

        qsort(t_mode[m], (size_t)reps, sizeof(double), bench_cmp_double);
        med = t_mode[m][reps / 2];
        ratio = med_scan / med;
        printf("scan + redact %-8s %9.1f MB/s  %8.1f us  %5.1f%% of scan%s\n",
               names[m], (double)len / med * 1e3, med / 1e3, ratio * 100.0,
               ratio >= 0.5 ? "" : "  BELOW TARGET (50%)");
        if (ratio < 0.5) {
            ok = 0;
        }
    }
    qsort(t_json, (size_t)reps, sizeof(double), bench_cmp_double);
    med = t_json[reps / 2];
    printf("%-22s %9.1f MB/s  %8.1f us  %5.1f%% of scan (parse + splice)\n",
           "redact_json replace", (double)strlen(rec) / med * 1e3, med / 1e3,
           med_scan / med * 100.0);
    for (int m = 0; m < MODES; m++) {
        free(t_mode[m]);
    }
    free(t_scan);
    free(t_json);
    free(rec);
    free(out);
    free(text);
    lg_scratch_free(s);
    lg_rules_free(r);
    sodium_memzero(key, sizeof(key));
    return ok ? 0 : 1;
}
