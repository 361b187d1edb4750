/*
 * guard token: PASETO v4 tokens with PASERK keys (lg_token.h).
 *
 *   guard token keygen --local|--public
 *   guard token issue --key PASERK --claims JSON [...]
 *   guard token verify --key PASERK [...] TOKEN
 *
 * Keys may be given as "@FILE" so that they stay out of the process list.
 * Key material read or printed here is wiped from memory after use.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "guard.h"

#define TOKEN_CMD "token"
#define DEFAULT_TTL 3600u
/* A key file holds one PASERK line; anything much longer is not one. */
#define KEY_FILE_MAX 4096

enum {
    OPT_LOCAL = 256,
    OPT_PUBLIC,
    OPT_CLAIMS,
    OPT_FOOTER,
    OPT_IMPLICIT,
    OPT_TTL,
    OPT_NOW,
    OPT_SKEW,
    OPT_LOCAL_KEY,
    OPT_PUBLIC_KEY,
    OPT_AUDIENCE,
    OPT_ISSUER,
    OPT_SUBJECT
};

void
cmd_token_help(FILE *f)
{
    fputs(
        "Usage: guard token keygen --local|--public\n"
        "       guard token issue --key PASERK --claims JSON [OPTION]...\n"
        "       guard token verify --key PASERK [OPTION]... TOKEN\n"
        "PASETO v4 tokens: v4.local (encrypted, symmetric key) and v4.public\n"
        "(signed, Ed25519).  Keys are PASERK strings, which name their "
        "purpose:\n"
        "k4.local (issues and verifies v4.local), k4.secret (issues "
        "v4.public),\n"
        "k4.public (verifies v4.public).  A KEY argument '@FILE' reads the "
        "key\n"
        "from FILE, keeping it out of the process list.\n"
        "\n"
        "keygen  print a new key: --local prints the k4.local key and its "
        "k4.lid;\n"
        "        --public prints the k4.secret key, its k4.public key and "
        "k4.pid,\n"
        "        one per line\n"
        "\n"
        "issue   print a token for the claims (a JSON object)\n"
        "  --key PASERK        k4.local or k4.secret key\n"
        "  --local-key HEX     a raw 32-byte local key instead\n"
        "  --claims JSON       the claims; \"iat\" is added when missing\n"
        "  --ttl SECONDS       \"exp\" is now + SECONDS (default 3600) unless "
        "the\n"
        "                      claims have one; 0: add no \"exp\"\n"
        "  --footer S          the footer (default {\"kid\":\"<key id>\"}, "
        "which\n"
        "                      lets a verifier with several keys pick one; "
        "''\n"
        "                      for none)\n"
        "  --implicit S        implicit assertion (authenticated, not sent)\n"
        "  --now RFC3339       the time to issue at (default: the clock)\n"
        "\n"
        "verify  check a token (TOKEN, or '-' for standard input) and print "
        "its\n"
        "        payload\n"
        "  --key PASERK        k4.local or k4.public (a k4.secret key "
        "verifies\n"
        "                      with its public half); repeat to give a key\n"
        "                      ring, from which the footer's \"kid\" picks "
        "the key\n"
        "  --local-key HEX, --public-key HEX   raw 32-byte keys\n"
        "  --footer S          the footer the token must carry (default: "
        "any)\n"
        "  --implicit S        the implicit assertion it was issued with\n"
        "  --now RFC3339       check the claims at this time (default: the "
        "clock)\n"
        "  --skew SECONDS      clock skew allowed (default 60)\n"
        "  --audience A, --issuer I, --subject S   require these claims\n"
        "  A token must have an \"exp\" claim, and it is checked with \"nbf\" "
        "and\n"
        "  \"iat\" against the time.  Any failure gives one message.\n"
        "\n"
        "Exit status: 0 success or a valid token, 1 an invalid token, 2 "
        "usage\n"
        "or other error.\n",
        f);
}

/* ---- helpers ---- */

/* Trailing whitespace (a newline from a file or a pipe) removed. */
static size_t
trim_len(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    return n;
}

/* A PASERK argument, or "@FILE".  Returns 0, or GUARD_EXIT_ERROR
 * (reported). */
static int
token_parse_key(const char *sub, const char *arg, lg_key_t **out)
{
    unsigned char *buf = NULL;
    const char *s = arg;
    size_t len = strlen(arg);
    lg_status_t st;

    *out = NULL;
    if (arg[0] == '@') {
        if (guard_read_all(arg + 1, KEY_FILE_MAX, &buf, &len) != 0) {
            return GUARD_EXIT_ERROR;
        }
        s = (const char *)buf;
    }
    st = lg_key_from_paserk(s, trim_len(s, len), out);
    if (buf != NULL) {
        sodium_memzero(buf, len);
        free(buf);
    }
    if (st != LG_OK) {
        return guard_usage_error(sub,
                                 "--key: not a k4.local, k4.public or "
                                 "k4.secret PASERK key: %s",
                                 lg_strerror(st));
    }
    return 0;
}

static int
token_parse_hex_key(const char *sub, const char *opt, lg_key_type_t type,
                    const char *hex, lg_key_t **out)
{
    uint8_t raw[32];
    size_t n = 0;
    lg_status_t st = LG_E_INVAL;

    *out = NULL;
    if (sodium_hex2bin(raw, sizeof(raw), hex, strlen(hex), NULL, &n, NULL) ==
            0 &&
        n == sizeof(raw) && strlen(hex) == 2 * sizeof(raw)) {
        st = lg_key_from_bytes(type, raw, n, out);
    }
    sodium_memzero(raw, sizeof(raw));
    if (st != LG_OK) {
        return guard_usage_error(sub, "%s: expected 64 hexadecimal digits "
                                      "(32 bytes)",
                                 opt);
    }
    return 0;
}

static int
token_parse_now(const char *sub, const char *arg, int64_t *now)
{
    if (lg_token_time_parse(arg, strlen(arg), now) != LG_OK) {
        return guard_usage_error(sub,
                                 "--now: not an RFC 3339 time such as "
                                 "2026-01-31T12:00:00Z: '%s'",
                                 arg);
    }
    return 0;
}

/* Print a key's PASERK (or id) and a newline, wiping the copy. */
static int
token_print_key(const lg_key_t *k, int id)
{
    char buf[LG_KEY_PASERK_MAX];
    lg_status_t st = id ? lg_key_id(k, buf, sizeof(buf), NULL)
                        : lg_key_paserk(k, buf, sizeof(buf), NULL);

    if (st == LG_OK) {
        puts(buf);
    }
    sodium_memzero(buf, sizeof(buf));
    return st == LG_OK ? 0 : -1;
}

/* ---- keygen ---- */

static int
token_keygen(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"local", no_argument, NULL, OPT_LOCAL},
        {"public", no_argument, NULL, OPT_PUBLIC},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sub = TOKEN_CMD " keygen";
    lg_key_t *k = NULL, *pub = NULL;
    int ch, want = 0, rc = GUARD_EXIT_ERROR;
    lg_status_t st;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_LOCAL:
        case OPT_PUBLIC:
            if (want != 0 && want != ch) {
                return guard_usage_error(sub, "--local and --public "
                                              "exclude each other");
            }
            want = ch;
            break;
        case 'h':
            cmd_token_help(stdout);
            return GUARD_EXIT_OK;
        default:
            return guard_getopt_error(sub, ch, argv);
        }
    }
    if (optind < argc) {
        return guard_usage_error(sub, "unexpected argument '%s'",
                                 argv[optind]);
    }
    if (want == 0) {
        return guard_usage_error(sub, "missing --local or --public");
    }
    st = lg_key_generate(want == OPT_LOCAL ? LG_KEY_LOCAL : LG_KEY_SECRET, &k);
    if (st == LG_OK && want == OPT_PUBLIC) {
        st = lg_key_public(k, &pub);
    }
    if (st != LG_OK) {
        guard_err("%s: %s", sub, lg_strerror(st));
        goto out;
    }
    if (want == OPT_LOCAL ? token_print_key(k, 0) != 0 ||
                                token_print_key(k, 1) != 0
                          : token_print_key(k, 0) != 0 ||
                                token_print_key(pub, 0) != 0 ||
                                token_print_key(pub, 1) != 0) {
        guard_err("%s: cannot format the key", sub); // LCOV_EXCL_LINE
        goto out;                                     // LCOV_EXCL_LINE
    }
    rc = GUARD_EXIT_OK;
out:
    lg_key_free(pub);
    lg_key_free(k);
    return rc;
}

/* ---- issue ---- */

/* Adds "iat" and "exp" to the claims as asked; 0 or GUARD_EXIT_ERROR. */
static int
token_fill_claims(const char *sub, json_t *claims, int64_t now, uint32_t ttl,
                  int ttl_given)
{
    char t[32];

    if (json_object_get(claims, "exp") != NULL) {
        if (ttl_given) {
            return guard_usage_error(sub, "--ttl: the claims already have "
                                          "\"exp\"");
        }
    } else if (ttl > 0) {
        if (lg_token_time_format(now + (int64_t)ttl, t, sizeof(t), NULL) !=
                LG_OK ||
            json_object_set_new(claims, "exp", json_string(t)) != 0) {
            return guard_usage_error(sub, "--ttl: the expiry is out of "
                                          "range");
        }
    }
    if (json_object_get(claims, "iat") == NULL &&
        (lg_token_time_format(now, t, sizeof(t), NULL) != LG_OK ||
         json_object_set_new(claims, "iat", json_string(t)) != 0)) {
        return guard_usage_error(sub, "--now: out of range");
    }
    return 0;
}

static int
token_issue(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"local-key", required_argument, NULL, OPT_LOCAL_KEY},
        {"claims", required_argument, NULL, OPT_CLAIMS},
        {"footer", required_argument, NULL, OPT_FOOTER},
        {"implicit", required_argument, NULL, OPT_IMPLICIT},
        {"ttl", required_argument, NULL, OPT_TTL},
        {"now", required_argument, NULL, OPT_NOW},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sub = TOKEN_CMD " issue";
    const char *claims_arg = NULL, *footer = NULL, *implicit = "";
    char kid[128];
    lg_key_t *key = NULL;
    json_t *claims = NULL;
    json_error_t jerr;
    char *payload = NULL, *tok = NULL;
    int64_t now = (int64_t)time(NULL);
    uint32_t ttl = DEFAULT_TTL;
    int ch, ttl_given = 0, rc = GUARD_EXIT_ERROR;
    size_t cap, need = 0;
    lg_status_t st;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":k:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'k':
        case OPT_LOCAL_KEY:
            if (key != NULL) {
                rc = guard_usage_error(sub, "give one key");
                goto out;
            }
            rc = ch == 'k' ? token_parse_key(sub, optarg, &key)
                           : token_parse_hex_key(sub, "--local-key",
                                                 LG_KEY_LOCAL, optarg, &key);
            if (rc != 0) {
                goto out;
            }
            rc = GUARD_EXIT_ERROR;
            break;
        case OPT_CLAIMS:
            claims_arg = optarg;
            break;
        case OPT_FOOTER:
            footer = optarg;
            break;
        case OPT_IMPLICIT:
            implicit = optarg;
            break;
        case OPT_TTL:
            if (guard_parse_u32(optarg, &ttl) != 0) {
                rc = guard_usage_error(sub, "--ttl: invalid number '%s'",
                                       optarg);
                goto out;
            }
            ttl_given = 1;
            break;
        case OPT_NOW:
            if (token_parse_now(sub, optarg, &now) != 0) {
                goto out;
            }
            break;
        case 'h':
            cmd_token_help(stdout);
            rc = GUARD_EXIT_OK;
            goto out;
        default:
            rc = guard_getopt_error(sub, ch, argv);
            goto out;
        }
    }
    if (optind < argc) {
        rc = guard_usage_error(sub, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (key == NULL || claims_arg == NULL) {
        rc = guard_usage_error(sub, "missing %s",
                               key == NULL ? "--key" : "--claims");
        goto out;
    }
    if (lg_key_type(key) == LG_KEY_PUBLIC) {
        rc = guard_usage_error(sub, "a k4.public key only verifies: issue "
                                    "with its k4.secret key");
        goto out;
    }
    claims = json_loads(claims_arg, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(claims)) {
        rc = guard_usage_error(sub, "--claims: not a JSON object%s%s",
                               claims == NULL ? ": " : "",
                               claims == NULL ? jerr.text : "");
        goto out;
    }
    if (token_fill_claims(sub, claims, now, ttl, ttl_given) != 0) {
        goto out;
    }
    payload = json_dumps(claims, JSON_COMPACT);
    if (payload == NULL) {
        guard_err("%s: out of memory", sub);
        goto out;
    }
    if (footer == NULL) {
        st = lg_token_footer_kid(key, kid, sizeof(kid), NULL);
        if (st != LG_OK) {
            guard_err("%s: %s", sub, lg_strerror(st)); // LCOV_EXCL_LINE
            goto out;                                   // LCOV_EXCL_LINE
        }
        footer = kid;
    }
    cap = lg_token_bound(strlen(payload), strlen(footer));
    tok = cap == SIZE_MAX ? NULL : malloc(cap);
    if (tok == NULL) {
        guard_err("%s: out of memory", sub);
        goto out;
    }
    if (lg_key_type(key) == LG_KEY_LOCAL) {
        st = lg_token_encrypt(key, payload, strlen(payload), footer,
                              strlen(footer), implicit, strlen(implicit), tok,
                              cap, &need);
    } else {
        st = lg_token_sign(key, payload, strlen(payload), footer,
                           strlen(footer), implicit, strlen(implicit), tok,
                           cap, &need);
    }
    if (st != LG_OK) {
        guard_err("%s: %s%s", sub, lg_strerror(st),
                  st == LG_E_LIMIT ? " (tokens are at most 65536 bytes)" : "");
        goto out;
    }
    puts(tok);
    rc = fflush(stdout) == 0 ? GUARD_EXIT_OK : GUARD_EXIT_ERROR;
out:
    if (payload != NULL) {
        sodium_memzero(payload, strlen(payload));
        free(payload);
    }
    free(tok);
    json_decref(claims);
    lg_key_free(key);
    return rc;
}

/* ---- verify ---- */

/* Keys given to verify: a k4.secret key is replaced by its public half. */
static int
token_add_key(const char *sub, lg_keyring_t *ring, lg_key_t *k,
              lg_key_t **single)
{
    lg_key_t *pub = NULL;
    lg_status_t st;

    if (lg_key_type(k) == LG_KEY_SECRET) {
        st = lg_key_public(k, &pub);
        lg_key_free(k);
        if (st != LG_OK) {
            guard_err("%s: %s", sub, lg_strerror(st)); // LCOV_EXCL_LINE
            return GUARD_EXIT_ERROR;                    // LCOV_EXCL_LINE
        }
        k = pub;
    }
    st = lg_keyring_add(ring, k);
    if (st != LG_OK) {
        lg_key_free(k);
        if (st == LG_E_INVAL) {
            return guard_usage_error(sub, "the same key is given twice");
        }
        guard_err("%s: %s", sub, lg_strerror(st));
        return GUARD_EXIT_ERROR;
    }
    lg_key_free(*single);
    *single = k;
    return 0;
}

static int
token_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"local-key", required_argument, NULL, OPT_LOCAL_KEY},
        {"public-key", required_argument, NULL, OPT_PUBLIC_KEY},
        {"footer", required_argument, NULL, OPT_FOOTER},
        {"implicit", required_argument, NULL, OPT_IMPLICIT},
        {"now", required_argument, NULL, OPT_NOW},
        {"skew", required_argument, NULL, OPT_SKEW},
        {"audience", required_argument, NULL, OPT_AUDIENCE},
        {"issuer", required_argument, NULL, OPT_ISSUER},
        {"subject", required_argument, NULL, OPT_SUBJECT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sub = TOKEN_CMD " verify";
    const char *footer = NULL, *implicit = "";
    lg_keyring_t *ring = NULL;
    lg_key_t *single = NULL; /* the last key added, for one-key rings */
    unsigned char *input = NULL, *payload = NULL;
    const char *tok;
    size_t tok_len, cap, plen = 0;
    lg_token_opts_t o;
    int ch, rc = GUARD_EXIT_ERROR;
    lg_status_t st;

    lg_token_opts_init(&o);
    st = lg_keyring_new(&ring);
    if (st != LG_OK) {
        guard_err("%s: %s", sub, lg_strerror(st));
        return GUARD_EXIT_ERROR;
    }
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":k:h", longopts, NULL)) != -1) {
        lg_key_t *k = NULL;

        switch (ch) {
        case 'k':
        case OPT_LOCAL_KEY:
        case OPT_PUBLIC_KEY:
            rc = ch == 'k' ? token_parse_key(sub, optarg, &k)
                 : ch == OPT_LOCAL_KEY
                     ? token_parse_hex_key(sub, "--local-key", LG_KEY_LOCAL,
                                           optarg, &k)
                     : token_parse_hex_key(sub, "--public-key",
                                           LG_KEY_PUBLIC, optarg, &k);
            if (rc != 0 || (rc = token_add_key(sub, ring, k, &single)) != 0) {
                goto out;
            }
            rc = GUARD_EXIT_ERROR;
            break;
        case OPT_FOOTER:
            footer = optarg;
            break;
        case OPT_IMPLICIT:
            implicit = optarg;
            break;
        case OPT_NOW:
            if (token_parse_now(sub, optarg, &o.now) != 0) {
                goto out;
            }
            if (o.now == 0) {
                /* 0 means "the clock" to lg_token_verify(). */
                rc = guard_usage_error(sub, "--now: the Unix epoch itself "
                                            "cannot be given");
                goto out;
            }
            break;
        case OPT_SKEW:
            if (guard_parse_u32(optarg, &o.skew) != 0) {
                rc = guard_usage_error(sub, "--skew: invalid number '%s'",
                                       optarg);
                goto out;
            }
            break;
        case OPT_AUDIENCE:
            o.audience = optarg;
            break;
        case OPT_ISSUER:
            o.issuer = optarg;
            break;
        case OPT_SUBJECT:
            o.subject = optarg;
            break;
        case 'h':
            cmd_token_help(stdout);
            rc = GUARD_EXIT_OK;
            goto out;
        default:
            rc = guard_getopt_error(sub, ch, argv);
            goto out;
        }
    }
    if (lg_keyring_count(ring) == 0) {
        rc = guard_usage_error(sub, "missing --key");
        goto out;
    }
    if (optind + 1 != argc) {
        rc = guard_usage_error(sub, optind == argc ? "missing TOKEN"
                                                   : "unexpected argument "
                                                     "after TOKEN");
        goto out;
    }
    if (strcmp(argv[optind], "-") == 0) {
        /* Room for one token and a newline; longer input is not one. */
        if (guard_read_all("-", LG_TOKEN_MAX + 2, &input, &tok_len) != 0) {
            goto out;
        }
        tok = (const char *)input;
    } else {
        tok = argv[optind];
        tok_len = strlen(tok);
    }
    tok_len = trim_len(tok, tok_len);
    cap = lg_token_payload_bound(tok_len);
    payload = malloc(cap + 1);
    if (payload == NULL) {
        guard_err("%s: out of memory", sub);
        goto out;
    }
    if (lg_keyring_count(ring) == 1) {
        st = lg_token_verify(single, tok, tok_len, footer,
                             footer ? strlen(footer) : 0, implicit,
                             strlen(implicit), &o, payload, cap, &plen);
    } else {
        st = lg_token_verify_ring(ring, tok, tok_len, footer,
                                  footer ? strlen(footer) : 0, implicit,
                                  strlen(implicit), &o, payload, cap, &plen);
    }
    if (st == LG_E_TOKEN) {
        guard_err("%s: invalid token", sub);
        rc = GUARD_EXIT_FAIL;
        goto out;
    }
    if (st != LG_OK) {
        guard_err("%s: %s", sub, lg_strerror(st));
        goto out;
    }
    if (fwrite(payload, 1, plen, stdout) != plen || putchar('\n') == EOF ||
        fflush(stdout) != 0) {
        guard_err("%s: cannot write the payload", sub);
        goto out;
    }
    rc = GUARD_EXIT_OK;
out:
    if (payload != NULL) {
        sodium_memzero(payload, plen);
        free(payload);
    }
    free(input);
    lg_key_free(single);
    lg_keyring_free(ring);
    return rc;
}

int
cmd_token(int argc, char **argv)
{
    const char *sub;

    if (argc < 2) {
        return guard_usage_error(TOKEN_CMD,
                                 "missing keygen, issue or verify");
    }
    sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        cmd_token_help(stdout);
        return GUARD_EXIT_OK;
    }
    if (strcmp(sub, "keygen") == 0) {
        return token_keygen(argc - 1, argv + 1);
    }
    if (strcmp(sub, "issue") == 0) {
        return token_issue(argc - 1, argv + 1);
    }
    if (strcmp(sub, "verify") == 0) {
        return token_verify(argc - 1, argv + 1);
    }
    return guard_usage_error(TOKEN_CMD, "unknown subcommand '%s' (keygen, "
                                        "issue, verify)",
                             sub);
}
