/*
 * guard scan: scan one input, JSON lines, or a stream, and print verdicts
 * as JSON.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "guard.h"

#define SCAN_CMD "scan"
#define SCAN_CHUNK 65536

typedef struct scan_opts {
    guard_strv_t rules;
    const char *db;
    const char *input;
    uint32_t dir;
    int jsonl;
    uint32_t views;
    const char *leak_file;   /* --leak-file */
    const char *canary;      /* --canary */
    guard_strv_t hosts;      /* --allow-host */
    uint32_t stream;         /* --stream: chunk size, 0 for block mode */
    lg_policy_t policy;
} scan_opts_t;

/* State of a --jsonl run. */
typedef struct scan_jsonl {
    lg_scratch_t *scratch;
    const scan_opts_t *opts;
    size_t line_max;   /* longest line accepted, in bytes */
    unsigned long lineno;
    int errors;        /* some line could not be scanned */
    int blocked;       /* some line was blocked */
    int fatal;         /* stop: output or memory failure */
} scan_jsonl_t;

enum {
    OPT_DB = 256,
    OPT_DIRECTION,
    OPT_JSONL,
    OPT_LEAK_FILE,
    OPT_CANARY,
    OPT_ALLOW_HOST,
    OPT_STREAM
};

void
cmd_scan_help(FILE *f)
{
    fputs(
        "Usage: guard scan [OPTION]... [FILE|-]\n"
        "       guard scan --jsonl [OPTION]... [FILE|-]\n"
        "       guard scan --stream N [OPTION]... [FILE|-]\n"
        "Scan FILE (standard input if none or -) and print one JSON object:\n"
        "  {\"verdict\": \"allow\"|\"flag\"|\"block\", \"score\": N,\n"
        "   \"categories\": [...], \"findings\": [{\"rule\", \"category\",\n"
        "   \"severity\", \"start\", \"end\"}, ...]}\n"
        "Offsets are bytes of the input, end exclusive.  Any bytes may be\n"
        "scanned (NUL bytes, invalid UTF-8).\n"
        "\n"
        "Rules:\n"
        "  -r, --rules PATH         a rule pack file, or a directory of *.yaml\n"
        "                           packs; may be repeated\n"
        "      --db FILE            load rules compiled by 'guard compile'\n"
        "  Default: the bundled packs ($LIBGUARD_RULES if set).\n"
        "\n"
        "Input:\n"
        "      --direction DIR      prompt (default), completion or both\n"
        "      --jsonl              read JSON lines {\"text\": ..., "
        "\"direction\": ...}\n"
        "                           (gzip input is accepted) and print one\n"
        "                           verdict per line with \"line\": N; a bad\n"
        "                           line gives {\"line\": N, \"error\": ...}\n"
        "      --leak-file FILE     the deployment's system prompt: completions\n"
        "                           quoting 40 or more characters of it\n"
        "                           verbatim (any case or line wrapping) get a\n"
        "                           critical leakage finding, rule\n"
        "                           \"leak.secret-text\"\n"
        "      --canary TOKEN       the same for a canary token (see 'guard\n"
        "                           canary'), which must appear whole\n"
        "      --allow-host HOST    a host that links and images in completions\n"
        "                           may point to, with its subdomains (for the\n"
        "                           exfiltration rules); may be repeated\n"
        "      --views LIST         views to match in, of raw, normalized, leet\n"
        "                           and decoded, comma-separated (default all;\n"
        "                           the raw bytes are always matched, also for\n"
        "                           rules whose views are turned off).  Each\n"
        "                           finding lists the \"views\" it was found in\n"
        "      --stream N           stream mode: feed the input N bytes at a\n"
        "                           time, as a streamed completion arrives;\n"
        "                           print a line with \"fed\" and \"scanned\"\n"
        "                           (bytes) each time the findings change,\n"
        "                           then the final result (with \"fed\")\n"
        "\n"
        "Policy:\n"
        "      --detect-only        never block; add \"would_block\"\n"
        "      --block-at CAT=N     block when category CAT scores N or more\n"
        "      --flag-at CAT=N      flag when category CAT scores N or more\n"
        "      --total-block-at N   block when the total score reaches N\n"
        "      --total-flag-at N    flag when the total score reaches N\n"
        "      --paranoia N         run rules up to paranoia level N (1-4;\n"
        "                           default 1, the fewest false positives)\n"
        "  N = 0 disables a threshold.  CAT is a category as written in\n"
        "  rules, e.g. injection, secret, moderation/hate.\n"
        "\n"
        "  -h, --help               show this help\n"
        "\n"
        "Exit status: 0 not blocked, 1 blocked, 2 error (with --jsonl: 2 if\n"
        "any line had an error, else 1 if any was blocked, else 0).\n",
        f);
}

/* Returns -1 to continue, else the exit status. */
static int
scan_parse_args(int argc, char **argv, scan_opts_t *o)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"db", required_argument, NULL, OPT_DB},
        {"direction", required_argument, NULL, OPT_DIRECTION},
        {"jsonl", no_argument, NULL, OPT_JSONL},
        {"leak-file", required_argument, NULL, OPT_LEAK_FILE},
        {"canary", required_argument, NULL, OPT_CANARY},
        {"allow-host", required_argument, NULL, OPT_ALLOW_HOST},
        {"stream", required_argument, NULL, OPT_STREAM},
        GUARD_POLICY_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":r:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (guard_strv_push(&o->rules, optarg) != 0) {
                guard_err("out of memory");
                return GUARD_EXIT_ERROR;
            }
            break;
        case OPT_DB:
            if (o->db != NULL) {
                return guard_usage_error(SCAN_CMD, "--db given twice");
            }
            o->db = optarg;
            break;
        case OPT_DIRECTION:
            if (guard_parse_dir(optarg, &o->dir) != 0) {
                return guard_usage_error(
                    SCAN_CMD,
                    "--direction: expected prompt, completion or both, "
                    "got '%s'",
                    optarg);
            }
            break;
        case OPT_JSONL:
            o->jsonl = 1;
            break;
        case OPT_STREAM:
            if (guard_parse_u32(optarg, &o->stream) != 0 || o->stream == 0 ||
                o->stream > SCAN_CHUNK) {
                return guard_usage_error(
                    SCAN_CMD, "--stream: expected 1 to %d bytes, got '%s'",
                    SCAN_CHUNK, optarg);
            }
            break;
        case OPT_ALLOW_HOST:
            if (guard_strv_push(&o->hosts, optarg) != 0) {
                guard_err("out of memory");
                return GUARD_EXIT_ERROR;
            }
            break;
        case OPT_LEAK_FILE:
        case OPT_CANARY:
            if (o->leak_file != NULL || o->canary != NULL) {
                return guard_usage_error(
                    SCAN_CMD, "give one of --leak-file and --canary, once");
            }
            if (ch == OPT_LEAK_FILE) {
                o->leak_file = optarg;
            } else {
                o->canary = optarg;
            }
            break;
        case 'h':
            cmd_scan_help(stdout);
            return GUARD_EXIT_OK;
        default:
            if (guard_is_policy_option(ch)) {
                int rc = guard_policy_option(SCAN_CMD, ch, optarg, &o->policy,
                                             &o->views);

                if (rc != 0) {
                    return rc;
                }
                break;
            }
            return guard_getopt_error(SCAN_CMD, ch, argv);
        }
    }
    if (o->db != NULL && o->rules.n > 0) {
        return guard_usage_error(SCAN_CMD,
                                 "--rules and --db cannot be used together");
    }
    if (o->stream > 0 && o->jsonl) {
        return guard_usage_error(SCAN_CMD,
                                 "--stream and --jsonl cannot be used "
                                 "together");
    }
    if (argc - optind > 1) {
        return guard_usage_error(SCAN_CMD, "too many inputs (at most one)");
    }
    if (optind < argc) {
        o->input = argv[optind];
    }
    return -1;
}

static const char *
scan_name(const char *name)
{
    return name != NULL ? name : "unknown";
}

/* Returns nonzero if setting the key failed (then `v` was released). */
static int
scan_set(json_t *obj, const char *key, json_t *v)
{
    return json_object_set_new(obj, key, v) != 0;
}

/* The verdict object; `line` > 0 adds "line" first.  NULL on OOM. */
static json_t *
scan_result_json(const lg_rules_t *rules, const lg_result_t *res,
                 const lg_policy_t *policy, unsigned long line)
{
    json_t *o = json_object();
    json_t *cats = json_array();
    json_t *finds = json_array();
    int bad = o == NULL || cats == NULL || finds == NULL;
    uint32_t c;
    size_t i;

    if (bad) {
        goto fail;
    }
    if (line > 0) {
        bad |= scan_set(o, "line", json_integer((json_int_t)line));
    }
    bad |= scan_set(o, "verdict",
                    json_string(scan_name(lg_verdict_name(res->verdict))));
    bad |= scan_set(o, "score", json_integer((json_int_t)res->score));
    if (policy->detect_only) {
        bad |= scan_set(o, "would_block", json_boolean(res->would_block));
    }
    for (c = 0; c < LG_CATEGORY_MAX; c++) {
        if (res->categories & (1u << c)) {
            const char *n = lg_category_name((lg_category_t)c);

            bad |= json_array_append_new(cats, json_string(scan_name(n))) != 0;
        }
    }
    for (i = 0; i < res->nfindings; i++) {
        const lg_finding_t *f = &res->findings[i];
        json_t *jf = json_object();
        lg_rule_info_t info;

        if (jf == NULL) {
            goto fail;
        }
        if (f->rule == LG_RULE_LEAK) {
            info.id = "leak.secret-text";
        } else if (lg_rules_info(rules, f->rule, &info) != LG_OK) {
            info.id = NULL;
        }
        bad |= scan_set(jf, "rule", json_string(scan_name(info.id)));
        bad |= scan_set(jf, "category",
                        json_string(scan_name(lg_category_name(f->category))));
        bad |= scan_set(jf, "severity",
                        json_string(scan_name(lg_severity_name(f->severity))));
        bad |= scan_set(jf, "start", json_integer((json_int_t)f->start));
        bad |= scan_set(jf, "end", json_integer((json_int_t)f->end));
        {
            json_t *jv = json_array();

            for (uint32_t b = 1; jv != NULL && b <= LG_VIEW_ALL; b <<= 1) {
                if (f->views & b) {
                    bad |= json_array_append_new(
                               jv, json_string(lg_view_name(b))) != 0;
                }
            }
            bad |= scan_set(jf, "views", jv);
        }
        bad |= json_array_append_new(finds, jf) != 0;
    }
    bad |= scan_set(o, "categories", cats);
    cats = NULL;
    bad |= scan_set(o, "findings", finds);
    finds = NULL;
    if (res->truncated) {
        bad |= scan_set(o, "truncated", json_true());
    }
    if (bad) {
        goto fail;
    }
    return o;
fail:
    json_decref(cats);
    json_decref(finds);
    json_decref(o);
    return NULL;
}

/* Print `obj` as one compact line and release it.  Returns 0 or -1. */
static int
scan_emit(json_t *obj)
{
    char *s;
    int rc = 0;

    if (obj == NULL) {
        guard_err("out of memory");
        return -1;
    }
    s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (s == NULL) {
        guard_err("out of memory");
        return -1;
    }
    if (fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF ||
        fflush(stdout) == EOF) {
        guard_err("cannot write the output: %s", strerror(errno));
        rc = -1;
    }
    free(s);
    return rc;
}

static int
scan_one(const scan_opts_t *o, lg_scratch_t *scratch, size_t max_input)
{
    unsigned char *buf;
    size_t len;
    lg_result_t res;
    lg_status_t st;
    int rc = GUARD_EXIT_ERROR;

    if (guard_read_all(o->input, max_input, &buf, &len) != 0) {
        return GUARD_EXIT_ERROR;
    }
    st = lg_scan(scratch, buf, len, o->dir, &o->policy, &res);
    if (st != LG_OK) {
        guard_err("scan failed: %s", lg_strerror(st));
        goto out;
    }
    if (scan_emit(scan_result_json(lg_scratch_rules(scratch), &res,
                                   &o->policy, 0)) != 0) {
        goto out;
    }
    rc = res.verdict == LG_VERDICT_BLOCK ? GUARD_EXIT_FAIL : GUARD_EXIT_OK;
out:
    free(buf);
    return rc;
}

static void
scan_line_error(scan_jsonl_t *j, const char *msg)
{
    json_t *o = json_object();
    json_t *m = json_string(msg);

    /* jansson's messages may quote input bytes that are not UTF-8. */
    if (m == NULL) {
        m = json_string("invalid JSON");
    }
    j->errors = 1;
    if (o == NULL) {
        json_decref(m);
    } else if (scan_set(o, "line", json_integer((json_int_t)j->lineno)) |
               scan_set(o, "error", m)) {
        json_decref(o);
        o = NULL;
    }
    if (scan_emit(o) != 0) {
        j->fatal = 1;
    }
}

static void
scan_line(scan_jsonl_t *j, const char *line, size_t len)
{
    const lg_policy_t *policy = &j->opts->policy;
    json_error_t jerr;
    json_t *root, *text, *dirv;
    uint32_t dir = j->opts->dir;
    lg_result_t res;
    lg_status_t st;
    size_t i;

    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    for (i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t') {
            break;
        }
    }
    if (i == len) {
        return; // blank lines are not records
    }
    root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        char msg[256 + JSON_ERROR_TEXT_LENGTH];

        snprintf(msg, sizeof(msg), "invalid JSON at column %d: %s",
                 jerr.column, jerr.text);
        scan_line_error(j, msg);
        return;
    }
    if (!json_is_object(root)) {
        scan_line_error(j, "not a JSON object");
        goto out;
    }
    text = json_object_get(root, "text");
    if (!json_is_string(text)) {
        scan_line_error(j, "\"text\" is missing or not a string");
        goto out;
    }
    dirv = json_object_get(root, "direction");
    if (dirv != NULL && !json_is_null(dirv) &&
        (!json_is_string(dirv) ||
         guard_parse_dir(json_string_value(dirv), &dir) != 0)) {
        scan_line_error(j, "\"direction\" must be \"prompt\", \"completion\" "
                           "or \"both\"");
        goto out;
    }
    st = lg_scan(j->scratch, json_string_value(text), json_string_length(text),
                 dir, policy, &res);
    if (st != LG_OK) {
        scan_line_error(j, lg_strerror(st));
        goto out;
    }
    if (scan_emit(scan_result_json(lg_scratch_rules(j->scratch), &res, policy,
                                   j->lineno)) != 0) {
        j->fatal = 1;
        goto out;
    }
    if (res.verdict == LG_VERDICT_BLOCK) {
        j->blocked = 1;
    }
out:
    json_decref(root);
}

/*
 * Input of --jsonl: plain or gzip (detected by its magic bytes), read with
 * plain read() so that a pipe's lines are scanned as soon as they arrive
 * (gzread() waits to fill its whole buffer).
 */
typedef struct scan_reader {
    const char *name;
    int fd;
    int own_fd;
    int gzip;
    int eof;          /* read() reported end of file */
    int zinit;
    z_stream zs;
    unsigned char in[SCAN_CHUNK];
    size_t pending;   /* plain: bytes of `in` not yet returned */
} scan_reader_t;

/* read() that retries on EINTR: bytes read, 0 at EOF, -1 (reported). */
static ssize_t
scan_read_fd(scan_reader_t *r, unsigned char *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(r->fd, buf, cap);

        if (n >= 0) {
            if (n == 0) {
                r->eof = 1;
            }
            return n;
        }
        if (errno != EINTR) {
            guard_err("%s: %s", r->name, strerror(errno));
            return -1;
        }
    }
}

static int
scan_reader_open(scan_reader_t *r, const char *path)
{
    int use_stdin = path == NULL || strcmp(path, "-") == 0;

    r->name = use_stdin ? "standard input" : path;
    r->fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY);
    if (r->fd < 0) {
        guard_err("%s: %s", r->name, strerror(errno));
        return -1;
    }
    r->own_fd = !use_stdin;
    /* Peek at (up to) the two magic bytes; a pipe may give them singly. */
    while (r->pending < 2 && !r->eof) {
        ssize_t n = scan_read_fd(r, r->in + r->pending, 2 - r->pending);

        if (n < 0) {
            return -1;
        }
        r->pending += (size_t)n;
    }
    if (r->pending == 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
        r->gzip = 1;
        /* 16 + MAX_WBITS: a gzip wrapper, not zlib or raw deflate. */
        if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) {
            guard_err("%s: cannot start gzip decoding", r->name);
            return -1;
        }
        r->zinit = 1;
        r->zs.next_in = r->in;
        r->zs.avail_in = 2;
        r->pending = 0;
    }
    return 0;
}

static void
scan_reader_close(scan_reader_t *r)
{
    if (r->zinit) {
        inflateEnd(&r->zs);
    }
    if (r->own_fd && r->fd >= 0) {
        close(r->fd);
    }
}

/* Bytes read into buf, 0 at the end, -1 on error (reported). */
static ssize_t
scan_reader_read(scan_reader_t *r, unsigned char *buf, size_t cap)
{
    if (!r->gzip) {
        if (r->pending > 0) {
            size_t n = r->pending < cap ? r->pending : cap;

            memcpy(buf, r->in, n);
            memmove(r->in, r->in + n, r->pending - n);
            r->pending -= n;
            return (ssize_t)n;
        }
        return r->eof ? 0 : scan_read_fd(r, buf, cap);
    }
    for (;;) {
        int ret;
        size_t got;

        if (r->zs.avail_in == 0 && !r->eof) {
            ssize_t n = scan_read_fd(r, r->in, sizeof(r->in));

            if (n < 0) {
                return -1;
            }
            r->zs.next_in = r->in;
            r->zs.avail_in = (uInt)n;
        }
        if (r->zs.avail_in == 0 && r->eof) {
            if (r->zinit == 2) {
                return 0; // ended right after a complete member
            }
            guard_err("%s: unexpected end of gzip data", r->name);
            return -1;
        }
        if (r->zinit == 2) {
            /* More data after a member: concatenated gzip members. */
            if (inflateReset(&r->zs) != Z_OK) {
                guard_err("%s: invalid gzip data", r->name); // LCOV_EXCL_LINE
                return -1;                                   // LCOV_EXCL_LINE
            }
            r->zinit = 1;
        }
        r->zs.next_out = buf;
        r->zs.avail_out = (uInt)cap;
        ret = inflate(&r->zs, Z_NO_FLUSH);
        got = cap - r->zs.avail_out;
        if (ret == Z_STREAM_END) {
            r->zinit = 2;
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            guard_err("%s: invalid gzip data: %s", r->name,
                      r->zs.msg ? r->zs.msg : "inflate failed");
            return -1;
        }
        if (got > 0) {
            return (ssize_t)got;
        }
    }
}

static int
scan_jsonl_run(const scan_opts_t *o, lg_scratch_t *scratch, size_t max_input)
{
    scan_jsonl_t j = {0};
    scan_reader_t *rd = calloc(1, sizeof(*rd));
    unsigned char *chunk = malloc(SCAN_CHUNK);
    char *line = NULL;
    size_t len = 0, cap = 0;
    int overlong = 0, read_failed = 0;

    j.scratch = scratch;
    j.opts = o;
    /* JSON escapes take at most 6 bytes per input byte. */
    j.line_max = max_input <= (SIZE_MAX - 65536) / 6 ? max_input * 6 + 65536
                                                     : SIZE_MAX;
    if (rd == NULL || chunk == NULL) {
        guard_err("out of memory");
        free(rd);
        free(chunk);
        return GUARD_EXIT_ERROR;
    }
    rd->fd = -1;
    if (scan_reader_open(rd, o->input) != 0) {
        read_failed = 1;
    }
    while (!j.fatal && !read_failed) {
        ssize_t got = scan_reader_read(rd, chunk, SCAN_CHUNK);
        size_t n, pos = 0;

        if (got <= 0) {
            read_failed = got < 0;
            break;
        }
        n = (size_t)got;
        while (pos < n && !j.fatal) {
            const unsigned char *nl = memchr(chunk + pos, '\n', n - pos);
            size_t seg = (nl ? (size_t)(nl - chunk) : n) - pos;

            if (!overlong && seg > j.line_max - len) {
                overlong = 1;
            }
            if (!overlong) {
                if (len + seg > cap) {
                    size_t ncap = cap ? cap : SCAN_CHUNK;
                    char *nb;

                    while (ncap < len + seg) {
                        ncap = ncap > SIZE_MAX / 2 ? len + seg : ncap * 2;
                    }
                    nb = realloc(line, ncap);
                    if (nb == NULL) {
                        guard_err("out of memory");
                        j.fatal = 1;
                        break;
                    }
                    line = nb;
                    cap = ncap;
                }
                memcpy(line + len, chunk + pos, seg);
                len += seg;
            }
            pos += seg;
            if (nl != NULL) {
                j.lineno++;
                if (overlong) {
                    scan_line_error(&j, "line too long");
                } else {
                    scan_line(&j, line, len);
                }
                len = 0;
                overlong = 0;
                pos++;
            }
        }
    }
    /* The last line need not end with a newline. */
    if (!j.fatal && !read_failed && (len > 0 || overlong)) {
        j.lineno++;
        if (overlong) {
            scan_line_error(&j, "line too long");
        } else {
            scan_line(&j, line, len);
        }
    }
    scan_reader_close(rd);
    free(rd);
    free(chunk);
    free(line);
    if (j.fatal || read_failed || j.errors) {
        return GUARD_EXIT_ERROR;
    }
    return j.blocked ? GUARD_EXIT_FAIL : GUARD_EXIT_OK;
}

/* Add "fed" (and "scanned" while streaming) to a result object. */
static json_t *
scan_stream_json(json_t *o, size_t fed, const size_t *scanned)
{
    if (o != NULL &&
        (scan_set(o, "fed", json_integer((json_int_t)fed)) != 0 ||
         (scanned != NULL &&
          scan_set(o, "scanned", json_integer((json_int_t)*scanned)) != 0))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* --stream: feed the input as it arrives, at most o->stream bytes at a
 * time, print each change, then the final result. */
static int
scan_stream(const scan_opts_t *o, lg_scratch_t *scratch)
{
    const lg_rules_t *rules = lg_scratch_rules(scratch);
    int fd = 0;
    lg_stream_t *st = NULL;
    unsigned char *buf = NULL;
    size_t fed = 0, seen = 0;
    lg_verdict_t verdict = LG_VERDICT_ALLOW;
    lg_result_t res;
    lg_status_t s;
    int rc = GUARD_EXIT_ERROR;

    if (o->input != NULL && strcmp(o->input, "-") != 0) {
        fd = open(o->input, O_RDONLY);
        if (fd < 0) {
            guard_err("cannot open %s: %s", o->input, strerror(errno));
            return GUARD_EXIT_ERROR;
        }
    }
    buf = malloc(o->stream);
    s = buf != NULL ? lg_stream_new((lg_rules_t *)rules, o->dir, &o->policy,
                                    &st)
                    : LG_E_NOMEM;
    if (s != LG_OK) {
        guard_err("cannot start the stream: %s", lg_strerror(s));
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf, o->stream);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            guard_err("cannot read %s: %s",
                      o->input != NULL ? o->input : "standard input",
                      strerror(errno));
            goto out;
        }
        if (n == 0) {
            break;
        }
        s = lg_stream_feed(st, scratch, buf, (size_t)n, &res);
        if (s != LG_OK) {
            guard_err("scan failed after %zu bytes: %s", fed,
                      lg_strerror(s));
            goto out;
        }
        fed += (size_t)n;
        if (res.nfindings != seen || res.verdict != verdict) {
            size_t scanned = lg_stream_scanned(st);

            seen = res.nfindings;
            verdict = res.verdict;
            if (scan_emit(scan_stream_json(
                    scan_result_json(rules, &res, &o->policy, 0), fed,
                    &scanned)) != 0) {
                goto out;
            }
        }
    }
    s = lg_stream_close(st, scratch, &res);
    if (s != LG_OK) {
        guard_err("scan failed: %s", lg_strerror(s));
        goto out;
    }
    if (scan_emit(scan_stream_json(
            scan_result_json(rules, &res, &o->policy, 0), fed, NULL)) != 0) {
        goto out;
    }
    rc = res.verdict == LG_VERDICT_BLOCK ? GUARD_EXIT_FAIL : GUARD_EXIT_OK;
out:
    lg_stream_free(st);
    free(buf);
    if (fd > 0) {
        close(fd);
    }
    return rc;
}

int
cmd_scan(int argc, char **argv)
{
    scan_opts_t o;
    lg_rules_t *rules = NULL;
    lg_scratch_t *scratch = NULL;
    lg_leak_t *leak = NULL;
    lg_limits_t limits;
    lg_status_t st;
    int rc;

    memset(&o, 0, sizeof(o));
    o.dir = LG_DIR_PROMPT;
    lg_policy_init(&o.policy);
    lg_limits_init(&limits);
    o.views = LG_VIEW_ALL;
    rc = scan_parse_args(argc, argv, &o);
    if (rc >= 0) {
        goto out;
    }
    limits.views = o.views;
    rc = GUARD_EXIT_ERROR;
    if (guard_load_rules(&o.rules, o.db, &rules) != 0) {
        goto out;
    }
    st = lg_scratch_new(rules, &limits, &scratch);
    if (st != LG_OK) {
        guard_err("cannot create a scratch: %s", lg_strerror(st));
        goto out;
    }
    if (o.hosts.n > 0) {
        st = lg_scratch_allow_hosts(scratch, (const char *const *)o.hosts.v,
                                    o.hosts.n);
        if (st != LG_OK) {
            guard_err("--allow-host: %s",
                      st == LG_E_INVAL ? "invalid host name (use A-Z a-z 0-9 "
                                         ". -)"
                                       : lg_strerror(st));
            goto out;
        }
    }
    if (o.leak_file != NULL || o.canary != NULL) {
        unsigned char *secret = (unsigned char *)o.canary;
        size_t slen = o.canary != NULL ? strlen(o.canary) : 0;
        const char *what = o.canary != NULL ? "--canary" : o.leak_file;

        if (o.leak_file != NULL &&
            guard_read_all(o.leak_file, LG_LEAK_MAX_SECRET, &secret, &slen) !=
                0) {
            goto out;
        }
        st = lg_leak_new(secret, slen, NULL, &leak);
        if (o.leak_file != NULL) {
            free(secret);
        }
        if (st != LG_OK) {
            guard_err("%s: %s", what,
                      st == LG_E_INVAL ? "empty or blank secret text"
                                       : lg_strerror(st));
            goto out;
        }
        (void)lg_scratch_set_leak(scratch, leak);
    }
    if (o.jsonl) {
        rc = scan_jsonl_run(&o, scratch, limits.max_input);
    } else if (o.stream > 0) {
        rc = scan_stream(&o, scratch);
    } else {
        rc = scan_one(&o, scratch, limits.max_input);
    }
out:
    lg_scratch_free(scratch);
    lg_leak_free(leak);
    lg_rules_free(rules);
    guard_strv_free(&o.rules);
    guard_strv_free(&o.hosts);
    return rc;
}
