/*
 * guard redact: rewrite text (or JSON records) with what the rules find
 * replaced, masked, pseudonymized or encrypted.  guard unredact: restore
 * encrypted tokens with the key.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "guard.h"

#define REDACT_CMD "redact"
#define UNREDACT_CMD "unredact"

enum {
    OPT_DB = 256,
    OPT_MODE,
    OPT_MASK_KEEP,
    OPT_MASK_CHAR,
    OPT_KEY_FILE,
    OPT_CATEGORIES,
    OPT_DIRECTION,
    OPT_JSONL,
    OPT_JSON_RECORD,
    OPT_FIELD,
    OPT_NEW_KEY,
};

typedef struct redact_cli {
    guard_strv_t rules;
    guard_strv_t fields;
    const char *db;
    const char *key_file;
    const char *input;
    uint32_t dir;
    int jsonl;
    int json_record;
    int new_key;
    lg_redact_opts_t o;
} redact_cli_t;

void
cmd_redact_help(FILE *f)
{
    fputs(
        "Usage: guard redact [OPTION]... [FILE|-]\n"
        "       guard redact --jsonl [--field PATH]... [OPTION]... [FILE|-]\n"
        "       guard redact --new-key\n"
        "Write the input with what the rules find (by default personal data "
        "and\n"
        "secrets) redacted, at the exact bytes where it was found, also when "
        "it was\n"
        "found through a normalized view.\n"
        "\n"
        "  -r, --rules PATH         rule pack file or directory (repeatable; "
        "default:\n"
        "                           the bundled packs)\n"
        "      --db FILE            serialized rules from 'guard compile'\n"
        "      --mode MODE          replace (default): <EMAIL>;\n"
        "                           mask: ************1234;\n"
        "                           hash: <EMAIL:9f86d081884c7d65>, a keyed "
        "pseudonym\n"
        "                           (same value and key, same token);\n"
        "                           encrypt: <EMAIL:e:...>, which 'guard "
        "unredact'\n"
        "                           restores with the key\n"
        "      --mask-keep N        mask: trailing characters kept (default 4; "
        "never\n"
        "                           more than half of a value)\n"
        "      --mask-char C        mask: the character written (default *)\n"
        "      --key-file F         key for hash and encrypt: 32 bytes, or 64 "
        "hex\n"
        "                           digits (see --new-key)\n"
        "      --categories LIST    categories to redact, comma-separated "
        "(default\n"
        "                           pii,secret)\n"
        "      --direction DIR      prompt, completion or both (default "
        "both)\n"
        "      --jsonl              each input line is a JSON record: redact "
        "its\n"
        "                           fields, write one line per record\n"
        "      --json-record        the whole input is one JSON record\n"
        "      --field PATH         a field to redact in JSON records "
        "(repeatable),\n"
        "                           e.g. messages[*].content, "
        "choices[0].message.content;\n"
        "                           default: the prompt and completion "
        "fields of\n"
        "                           OpenAI and Anthropic requests and "
        "responses\n"
        "      --new-key            print a new random key (64 hex digits) "
        "and exit\n"
        "  -h, --help               show this help\n"
        "\n"
        "Exit status: 0 success, 2 error (with --jsonl: 2 if any line was "
        "bad; bad\n"
        "lines are reported as FILE:LINE: and not written).\n",
        f);
}

void
cmd_unredact_help(FILE *f)
{
    fputs("Usage: guard unredact --key-file F [FILE|-]\n"
          "       guard unredact --key-file F --jsonl|--json-record "
          "[FILE|-]\n"
          "Restore every <TYPE:e:...> token that 'guard redact --mode "
          "encrypt' wrote\n"
          "with the same key.  Tokens that do not authenticate are left as "
          "they are.\n"
          "\n"
          "      --key-file F         the key: 32 bytes, or 64 hex digits\n"
          "      --jsonl              each input line is a JSON record "
          "(from 'guard redact\n"
          "                           --jsonl'): restore the tokens in its "
          "string values,\n"
          "                           escaped as JSON, and keep every other "
          "byte; one\n"
          "                           line out per record.  A record that "
          "is not JSON,\n"
          "                           or holds a token that does not "
          "authenticate, is\n"
          "                           reported as FILE:LINE:COLUMN: and not "
          "written\n"
          "      --json-record        the whole input is one such JSON "
          "record\n"
          "  -h, --help               show this help\n"
          "\n"
          "Exit status: 0 success, 1 some tokens did not authenticate (with "
          "--jsonl or\n"
          "--json-record: their records were not written), 2 error (with "
          "--jsonl: a\n"
          "line was not JSON, or reading or writing failed).\n",
          f);
}

/* 32 raw bytes, or 64 hex digits with optional trailing whitespace. */
static int
redact_read_key(const char *path, uint8_t key[LG_REDACT_KEYBYTES])
{
    unsigned char *buf;
    size_t len, n;
    int rc = -1;

    if (guard_read_all(path, 4096, &buf, &len) != 0) {
        return -1;
    }
    if (len == LG_REDACT_KEYBYTES) {
        memcpy(key, buf, LG_REDACT_KEYBYTES);
        rc = 0;
    } else {
        n = len;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
                         buf[n - 1] == ' ' || buf[n - 1] == '\t')) {
            n--;
        }
        if (n == 2 * LG_REDACT_KEYBYTES &&
            sodium_hex2bin(key, LG_REDACT_KEYBYTES, (const char *)buf, n,
                           NULL, &len, NULL) == 0 &&
            len == LG_REDACT_KEYBYTES) {
            rc = 0;
        }
    }
    sodium_memzero(buf, len > 4096 ? 4096 : len);
    free(buf);
    if (rc != 0) {
        guard_err("%s: a key is 32 bytes or 64 hex digits", path);
    }
    return rc;
}

static int
redact_parse_categories(const char *s, uint32_t *out)
{
    uint32_t bits = 0;

    for (;;) {
        size_t n = strcspn(s, ",");
        lg_category_t c;

        if (n == 0 || lg_category_parse(s, n, &c) != LG_OK) {
            return -1;
        }
        bits |= 1u << c;
        if (s[n] == '\0') {
            break;
        }
        s += n + 1;
    }
    *out = bits;
    return 0;
}

static int
redact_parse_mode(const char *s, lg_redact_mode_t *m)
{
    static const char *const names[] = {"replace", "mask", "hash", "encrypt"};

    for (size_t i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *m = (lg_redact_mode_t)i;
            return 0;
        }
    }
    return -1;
}

/* Returns -1 to continue, else the exit status. */
static int
redact_parse_args(int argc, char **argv, redact_cli_t *c)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"db", required_argument, NULL, OPT_DB},
        {"mode", required_argument, NULL, OPT_MODE},
        {"mask-keep", required_argument, NULL, OPT_MASK_KEEP},
        {"mask-char", required_argument, NULL, OPT_MASK_CHAR},
        {"key-file", required_argument, NULL, OPT_KEY_FILE},
        {"categories", required_argument, NULL, OPT_CATEGORIES},
        {"direction", required_argument, NULL, OPT_DIRECTION},
        {"jsonl", no_argument, NULL, OPT_JSONL},
        {"json-record", no_argument, NULL, OPT_JSON_RECORD},
        {"field", required_argument, NULL, OPT_FIELD},
        {"new-key", no_argument, NULL, OPT_NEW_KEY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":r:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
        case OPT_FIELD:
            if (ch == OPT_FIELD && lg_redact_path_check(optarg) != LG_OK) {
                return guard_usage_error(
                    REDACT_CMD,
                    "--field: invalid path '%s' (keys joined by '.', [*] or "
                    "[N] for array items)",
                    optarg);
            }
            if (guard_strv_push(ch == 'r' ? &c->rules : &c->fields, optarg) !=
                0) {
                guard_err("out of memory");
                return GUARD_EXIT_ERROR;
            }
            break;
        case OPT_DB:
            if (c->db != NULL) {
                return guard_usage_error(REDACT_CMD, "--db given twice");
            }
            c->db = optarg;
            break;
        case OPT_MODE:
            if (redact_parse_mode(optarg, &c->o.mode) != 0) {
                return guard_usage_error(REDACT_CMD,
                                         "--mode: expected replace, mask, "
                                         "hash or encrypt, got '%s'",
                                         optarg);
            }
            break;
        case OPT_MASK_KEEP:
            if (guard_parse_u32(optarg, &c->o.mask_keep) != 0) {
                return guard_usage_error(
                    REDACT_CMD, "--mask-keep: invalid number '%s'", optarg);
            }
            break;
        case OPT_MASK_CHAR:
            if (strlen(optarg) != 1 || optarg[0] < 0x21 || optarg[0] > 0x7e) {
                return guard_usage_error(REDACT_CMD,
                                         "--mask-char: expected one "
                                         "printable ASCII character, got "
                                         "'%s'",
                                         optarg);
            }
            c->o.mask_char = optarg[0];
            break;
        case OPT_KEY_FILE:
            c->key_file = optarg;
            break;
        case OPT_CATEGORIES:
            if (redact_parse_categories(optarg, &c->o.categories) != 0) {
                return guard_usage_error(REDACT_CMD,
                                         "--categories: unknown category in "
                                         "'%s'",
                                         optarg);
            }
            break;
        case OPT_DIRECTION:
            if (guard_parse_dir(optarg, &c->dir) != 0) {
                return guard_usage_error(
                    REDACT_CMD,
                    "--direction: expected prompt, completion or both, "
                    "got '%s'",
                    optarg);
            }
            break;
        case OPT_JSONL:
            c->jsonl = 1;
            break;
        case OPT_JSON_RECORD:
            c->json_record = 1;
            break;
        case OPT_NEW_KEY:
            c->new_key = 1;
            break;
        case 'h':
            cmd_redact_help(stdout);
            return GUARD_EXIT_OK;
        default:
            return guard_getopt_error(REDACT_CMD, ch, argv);
        }
    }
    if (argc - optind > 1) {
        return guard_usage_error(REDACT_CMD, "unexpected argument '%s'",
                                 argv[optind + 1]);
    }
    c->input = optind < argc ? argv[optind] : "-";
    if (c->jsonl && c->json_record) {
        return guard_usage_error(REDACT_CMD,
                                 "--jsonl and --json-record exclude each "
                                 "other");
    }
    if (c->fields.n > 0 && !c->jsonl && !c->json_record) {
        return guard_usage_error(REDACT_CMD,
                                 "--field needs --jsonl or --json-record");
    }
    if ((c->o.mode == LG_REDACT_HASH || c->o.mode == LG_REDACT_ENCRYPT) &&
        c->key_file == NULL && !c->new_key) {
        return guard_usage_error(REDACT_CMD, "--mode %s needs --key-file",
                                 c->o.mode == LG_REDACT_HASH ? "hash"
                                                             : "encrypt");
    }
    return -1;
}

static int
redact_write(const void *p, size_t n)
{
    if (n > 0 && fwrite(p, 1, n, stdout) != n) {
        guard_err("write error: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int
redact_text(redact_cli_t *c, lg_scratch_t *s, size_t max)
{
    unsigned char *in = NULL, *out = NULL;
    size_t len, bound, n;
    lg_result_t res;
    lg_status_t st;
    int rc = GUARD_EXIT_ERROR;

    if (guard_read_all(c->input, max, &in, &len) != 0) {
        return GUARD_EXIT_ERROR;
    }
    st = lg_scan(s, in, len, c->dir, NULL, &res);
    if (st != LG_OK) {
        guard_err("%s: %s", c->input, lg_strerror(st));
        goto out;
    }
    bound = lg_redact_bound(len, res.nfindings);
    out = bound == SIZE_MAX ? NULL : malloc(bound);
    if (out == NULL) {
        guard_err("out of memory");
        goto out;
    }
    st = lg_redact(lg_scratch_rules(s), in, len, &res, &c->o, out, bound, &n);
    if (st != LG_OK) {
        guard_err("%s: %s", c->input, lg_strerror(st));
        goto out;
    }
    if (redact_write(out, n) == 0) {
        rc = GUARD_EXIT_OK;
    }
out:
    free(in);
    free(out);
    return rc;
}

static const char *
redact_json_error(lg_status_t st)
{
    return st == LG_E_INVAL ? "invalid JSON (or a duplicate key)"
                            : lg_strerror(st);
}

/* One JSON record; returns LG_OK or the error (not reported). */
static lg_status_t
redact_record(redact_cli_t *c, lg_scratch_t *s, const char *rec, size_t len)
{
    char *out = NULL;
    size_t n;
    lg_status_t st;

    st = lg_redact_json(s, c->dir, rec, len,
                        (const char *const *)c->fields.v, c->fields.n, &c->o,
                        &out, &n);
    if (st == LG_OK) {
        if (redact_write(out, n) != 0) {
            st = LG_E_IO;
        }
        lg_free(out);
    }
    return st;
}

static int
redact_json_one(redact_cli_t *c, lg_scratch_t *s, size_t max)
{
    unsigned char *in;
    size_t len;
    lg_status_t st;

    if (guard_read_all(c->input, max, &in, &len) != 0) {
        return GUARD_EXIT_ERROR;
    }
    st = redact_record(c, s, (const char *)in, len);
    free(in);
    if (st != LG_OK) {
        if (st != LG_E_IO) {
            guard_err("%s: %s", c->input, redact_json_error(st));
        }
        return GUARD_EXIT_ERROR;
    }
    return GUARD_EXIT_OK;
}

/*
 * Call fn on each line of `input` ("-": standard input) that is not blank;
 * blank lines are written back as they are, so that line numbers still
 * match.  fn writes its record and reports its own errors; it returns
 * LG_OK, LG_E_IO (a write failed: stop), LG_E_TOKEN (counted in *ntok) or
 * another error (counted in *nbad).  The line buffer is wiped, since lines
 * may hold restored values.  Returns GUARD_EXIT_OK, or GUARD_EXIT_ERROR on
 * a read or write error.
 */
static int
jsonl_each(const char *input,
           lg_status_t (*fn)(void *ctx, const char *name, size_t lineno,
                             const char *line, size_t n),
           void *ctx, size_t *nbad, size_t *ntok)
{
    int use_stdin = strcmp(input, "-") == 0;
    FILE *f = use_stdin ? stdin : fopen(input, "rb");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int rc = GUARD_EXIT_OK;

    *nbad = *ntok = 0;
    if (f == NULL) {
        guard_err("%s: %s", input, strerror(errno));
        return GUARD_EXIT_ERROR;
    }
    while ((got = getline(&line, &cap, f)) != -1) {
        size_t n = (size_t)got;
        lg_status_t st;

        lineno++;
        if (n > 0 && line[n - 1] == '\n') {
            n--;
        }
        if (strspn(line, " \t\r") >= n) {
            st = redact_write("\n", 1) != 0 ? LG_E_IO : LG_OK;
        } else {
            st = fn(ctx, input, lineno, line, n);
        }
        if (st == LG_E_IO) {
            rc = GUARD_EXIT_ERROR;
            break;
        }
        if (st == LG_E_TOKEN) {
            (*ntok)++;
        } else if (st != LG_OK) {
            (*nbad)++;
        }
    }
    if (ferror(f)) {
        guard_err("%s: read error: %s", input, strerror(errno));
        rc = GUARD_EXIT_ERROR;
    }
    if (line != NULL) {
        sodium_memzero(line, cap);
    }
    free(line);
    if (!use_stdin) {
        fclose(f);
    }
    return rc;
}

struct redact_line_ctx {
    redact_cli_t *c;
    lg_scratch_t *s;
};

/* One line of guard redact --jsonl. */
static lg_status_t
redact_line(void *ctx, const char *name, size_t lineno, const char *line,
            size_t n)
{
    struct redact_line_ctx *x = ctx;
    lg_status_t st = redact_record(x->c, x->s, line, n);

    if (st != LG_OK && st != LG_E_IO) {
        /* Nothing is written for a bad line: it may hold what was to be
         * redacted. */
        fflush(stdout);
        fprintf(stderr, "%s:%zu: error: %s\n", name, lineno,
                redact_json_error(st));
        return st == LG_E_TOKEN ? LG_E_INVAL : st;
    }
    if (st == LG_OK && redact_write("\n", 1) != 0) {
        st = LG_E_IO;
    }
    return st;
}

static int
redact_jsonl(redact_cli_t *c, lg_scratch_t *s)
{
    struct redact_line_ctx x = {c, s};
    size_t bad, tok;
    int rc = jsonl_each(c->input, redact_line, &x, &bad, &tok);

    if (bad > 0) {
        guard_err("%zu bad line%s", bad, bad == 1 ? "" : "s");
        rc = GUARD_EXIT_ERROR;
    }
    return rc;
}

int
cmd_redact(int argc, char **argv)
{
    redact_cli_t c;
    uint8_t key[LG_REDACT_KEYBYTES];
    lg_rules_t *rules = NULL;
    lg_scratch_t *scratch = NULL;
    lg_limits_t limits;
    lg_status_t st;
    int rc;

    memset(&c, 0, sizeof(c));
    c.dir = LG_DIR_BOTH;
    lg_redact_opts_init(&c.o);
    lg_limits_init(&limits);
    rc = redact_parse_args(argc, argv, &c);
    if (rc >= 0) {
        goto out;
    }
    rc = GUARD_EXIT_ERROR;
    if (c.new_key) {
        char hex[2 * LG_REDACT_KEYBYTES + 1];

        if (sodium_init() < 0) {
            guard_err("cannot initialise libsodium");
            goto out;
        }
        randombytes_buf(key, sizeof(key));
        sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
        puts(hex);
        sodium_memzero(hex, sizeof(hex));
        rc = GUARD_EXIT_OK;
        goto out;
    }
    if (c.o.mode == LG_REDACT_HASH || c.o.mode == LG_REDACT_ENCRYPT) {
        if (redact_read_key(c.key_file, key) != 0) {
            goto out;
        }
        c.o.key = key;
    }
    if (guard_load_rules(&c.rules, c.db, &rules) != 0) {
        goto out;
    }
    st = lg_scratch_new(rules, &limits, &scratch);
    if (st != LG_OK) {
        guard_err("cannot create a scratch: %s", lg_strerror(st));
        goto out;
    }
    if (c.jsonl) {
        rc = redact_jsonl(&c, scratch);
    } else if (c.json_record) {
        rc = redact_json_one(&c, scratch, limits.max_input);
    } else {
        rc = redact_text(&c, scratch, limits.max_input);
    }
    if (fflush(stdout) != 0 && rc == GUARD_EXIT_OK) {
        guard_err("write error: %s", strerror(errno));
        rc = GUARD_EXIT_ERROR;
    }
out:
    sodium_memzero(key, sizeof(key));
    lg_scratch_free(scratch);
    lg_rules_free(rules);
    guard_strv_free(&c.rules);
    guard_strv_free(&c.fields);
    return rc;
}

/* Why a JSON record could not be restored; the column is 1-based. */
static void
unredact_json_error(const char *name, size_t lineno, lg_status_t st,
                    size_t off)
{
    const char *why =
        st == LG_E_TOKEN
            ? "a token does not authenticate with this key (another key, "
              "or the token was edited); the record is not written"
        : st == LG_E_INVAL ? "invalid JSON"
        : st == LG_E_LIMIT ? "arrays and objects nested too deep"
                           : lg_strerror(st);

    fflush(stdout);
    if (lineno > 0) {
        fprintf(stderr, "%s:%zu:%zu: error: %s\n", name, lineno, off + 1,
                why);
    } else {
        fprintf(stderr, "%s:%zu: error: %s\n", name, off + 1, why);
    }
}

/* One JSON record: written, or reported and not written.  Returns LG_OK,
 * LG_E_IO (a write failed) or the record's error. */
static lg_status_t
unredact_record(const char *name, size_t lineno, const char *rec, size_t len,
                const uint8_t *key)
{
    char *out = NULL;
    size_t n = 0, off = 0;
    lg_status_t st;

    st = lg_unredact_json(rec, len, key, &out, &n, &off);
    if (st != LG_OK) {
        unredact_json_error(name, lineno, st, off);
        return st;
    }
    if (redact_write(out, n) != 0 ||
        (lineno > 0 && redact_write("\n", 1) != 0)) {
        st = LG_E_IO;
    }
    sodium_memzero(out, n);
    lg_free(out);
    return st;
}

/* One line of guard unredact --jsonl. */
static lg_status_t
unredact_line(void *ctx, const char *name, size_t lineno, const char *line,
              size_t n)
{
    return unredact_record(name, lineno, line, n, ctx);
}

/* guard unredact --jsonl: one record a line, blank lines kept. */
static int
unredact_jsonl(const char *input, const uint8_t *key)
{
    size_t bad, forged;
    int rc = jsonl_each(input, unredact_line, (void *)key, &bad, &forged);

    if (bad + forged > 0) {
        guard_err("%zu record%s not restored", bad + forged,
                  bad + forged == 1 ? "" : "s");
        if (rc == GUARD_EXIT_OK) {
            rc = bad > 0 ? GUARD_EXIT_ERROR : GUARD_EXIT_FAIL;
        }
    }
    return rc;
}

int
cmd_unredact(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key-file", required_argument, NULL, OPT_KEY_FILE},
        {"jsonl", no_argument, NULL, OPT_JSONL},
        {"json-record", no_argument, NULL, OPT_JSON_RECORD},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint8_t key[LG_REDACT_KEYBYTES];
    const char *key_file = NULL, *input;
    unsigned char *in = NULL, *out = NULL;
    size_t len = 0, n, failed = 0;
    lg_status_t st;
    int ch, rc = GUARD_EXIT_ERROR, jsonl = 0, json_record = 0;

    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_KEY_FILE:
            key_file = optarg;
            break;
        case OPT_JSONL:
            jsonl = 1;
            break;
        case OPT_JSON_RECORD:
            json_record = 1;
            break;
        case 'h':
            cmd_unredact_help(stdout);
            return GUARD_EXIT_OK;
        default:
            return guard_getopt_error(UNREDACT_CMD, ch, argv);
        }
    }
    if (argc - optind > 1) {
        return guard_usage_error(UNREDACT_CMD, "unexpected argument '%s'",
                                 argv[optind + 1]);
    }
    if (key_file == NULL) {
        return guard_usage_error(UNREDACT_CMD, "--key-file is required");
    }
    if (jsonl && json_record) {
        return guard_usage_error(UNREDACT_CMD,
                                 "--jsonl and --json-record exclude each "
                                 "other");
    }
    input = optind < argc ? argv[optind] : "-";
    if (redact_read_key(key_file, key) != 0) {
        return GUARD_EXIT_ERROR;
    }
    if (jsonl) {
        rc = unredact_jsonl(input, key);
        if (fflush(stdout) != 0 && rc != GUARD_EXIT_ERROR) {
            guard_err("write error: %s", strerror(errno));
            rc = GUARD_EXIT_ERROR;
        }
        goto out;
    }
    if (guard_read_all(input, GUARD_DB_MAX, &in, &len) != 0) {
        goto out;
    }
    if (json_record) {
        st = unredact_record(input, 0, (const char *)in, len, key);
        if (st == LG_OK && fflush(stdout) == 0) {
            rc = GUARD_EXIT_OK;
        } else if (st == LG_E_TOKEN) {
            rc = GUARD_EXIT_FAIL;
        }
        goto out;
    }
    out = malloc(len + 1);
    if (out == NULL) {
        guard_err("out of memory");
        goto out;
    }
    st = lg_unredact(in, len, key, out, len, &n, &failed);
    if (st != LG_OK) {
        guard_err("%s: %s", input, lg_strerror(st));
        goto out;
    }
    if (redact_write(out, n) != 0 || fflush(stdout) != 0) {
        goto out;
    }
    rc = GUARD_EXIT_OK;
    if (failed > 0) {
        guard_err("%zu token%s did not authenticate with this key and were "
                  "left as they are",
                  failed, failed == 1 ? "" : "s");
        rc = GUARD_EXIT_FAIL;
    }
out:
    sodium_memzero(key, sizeof(key));
    if (out != NULL) {
        sodium_memzero(out, len);
    }
    free(in);
    free(out);
    return rc;
}
