/*
 * Validators: checks in C that a rule names with `validate:` and that run
 * on each candidate match (checksums, allowlists), where a regex alone
 * would accept too much.  Each takes the matched bytes and must be linear
 * in them and never read outside them.
 */
#include <string.h>

#include "internal/lg_internal.h"

static const char *const names[LGI_VAL_COUNT] = {
    [LGI_VAL_NONE] = NULL,
    [LGI_VAL_LUHN] = "luhn",
    [LGI_VAL_OFFSITE_URL] = "offsite-url",
};

uint32_t
lgi_validator_parse(const char *name, size_t len)
{
    for (uint32_t v = 1; v < LGI_VAL_COUNT; v++) {
        if (strlen(names[v]) == len && memcmp(names[v], name, len) == 0) {
            return v;
        }
    }
    return LGI_VAL_NONE;
}

const char *
lgi_validator_name(uint32_t v)
{
    return v < LGI_VAL_COUNT ? names[v] : NULL;
}

bool
lgi_entity_ok(const char *s, size_t len)
{
    if (len == 0 || len > 32 || s[0] < 'A' || s[0] > 'Z') {
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_')) {
            return false;
        }
    }
    return true;
}

const char *
lgi_validator_list(void)
{
    return "luhn or offsite-url";
}

/* Card numbers: 12 to 19 digits (spaces and dashes between them ignored)
 * whose Luhn sum is a multiple of 10. */
static bool
luhn(const uint8_t *p, size_t n)
{
    unsigned sum = 0, digits = 0;

    for (size_t i = n; i-- > 0;) {
        unsigned d;

        if (p[i] == ' ' || p[i] == '-') {
            continue;
        }
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        d = p[i] - '0';
        if (digits % 2 == 1) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
        if (++digits > 19) {
            return false;
        }
    }
    return digits >= 12 && sum % 10 == 0;
}

static uint8_t
lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

/* True when host[0..n) is `allowed` or a subdomain of it. */
static bool
host_matches(const uint8_t *host, size_t n, const char *allowed)
{
    size_t an = strlen(allowed);

    if (an > n) {
        return false;
    }
    for (size_t i = 0; i < an; i++) {
        if (lower(host[n - an + i]) != (uint8_t)allowed[i]) {
            return false;
        }
    }
    return an == n || host[n - an - 1] == '.';
}

/* Ends a URL's host. */
static bool
host_end(uint8_t c)
{
    return c == '/' || c == '?' || c == '#' || c == ':' || c == ')' ||
           c == '"' || c == '\'' || c == '>' || c == '<' || c == ' ' ||
           c == '\t' || c == '\n' || c == '\r' || c == '\\';
}

/*
 * An http(s) URL somewhere in p[0..n) (the first one) that carries data in
 * its query string to a host that is not allowlisted.  The host is what
 * follows "://" and any "user@", up to a port, path, query or the end of
 * the URL.
 */
static bool
offsite_url(const uint8_t *p, size_t n, const struct lgi_vctx *ctx)
{
    size_t i = 0, h0, h1, q;

    for (; i + 3 <= n; i++) {
        if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') {
            break;
        }
    }
    if (i + 3 > n) {
        return false;
    }
    h0 = i + 3;
    for (h1 = h0; h1 < n && !host_end(p[h1]); h1++) {
        if (p[h1] == '@') {
            h0 = h1 + 1; /* userinfo */
        }
    }
    if (h1 == h0) {
        return false;
    }
    /* data: a query with something in it */
    for (q = h1; q < n && p[q] != '?' && p[q] != ')' && p[q] != '"' &&
                 p[q] != '\'' && p[q] != ' ' && p[q] != '>';
         q++) {
    }
    if (q + 1 >= n || p[q] != '?' || host_end(p[q + 1])) {
        return false;
    }
    for (size_t k = 0; ctx != NULL && k < ctx->nhosts; k++) {
        if (host_matches(p + h0, h1 - h0, ctx->hosts[k])) {
            return false;
        }
    }
    return true;
}

bool
lgi_validate(uint32_t v, const uint8_t *p, size_t n, const struct lgi_vctx *ctx)
{
    switch (v) {
    case LGI_VAL_NONE:
        return true;
    case LGI_VAL_LUHN:
        return luhn(p, n);
    case LGI_VAL_OFFSITE_URL:
        return offsite_url(p, n, ctx);
    default:
        return false;
    }
}
