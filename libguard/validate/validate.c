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
    [LGI_VAL_IBAN] = "iban",
    [LGI_VAL_SSN_US] = "ssn-us",
    [LGI_VAL_RRN_KR] = "rrn-kr",
    [LGI_VAL_RRN_KR_DATE] = "rrn-kr-date",
    [LGI_VAL_BRN_KR] = "brn-kr",
    [LGI_VAL_ENTROPY] = "entropy",
    [LGI_VAL_IPV4] = "ipv4",
    [LGI_VAL_IPV6] = "ipv6",
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
    return "luhn, offsite-url, iban, ssn-us, rrn-kr, rrn-kr-date, brn-kr, "
           "entropy, ipv4 or ipv6";
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

static bool
is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static uint8_t
upper(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 0x20) : c;
}

/* IBAN lengths by country (ISO 13616 registry). */
static const struct {
    char cc[3];
    uint8_t len;
} iban_lengths[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20},
    {"BE", 16}, {"BG", 22}, {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21},
    {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"DO", 28},
    {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27},
    {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28},
    {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
    {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
    {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24},
    {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18},
    {"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29},
    {"RO", 24}, {"RS", 22}, {"SA", 24}, {"SC", 31}, {"SE", 24}, {"SI", 19},
    {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24},
    {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

/*
 * IBANs: a country code from the registry, two check digits and the
 * country's length of letters and digits (single spaces between groups
 * ignored), whose mod-97 remainder, first four characters moved to the
 * end, is 1.
 */
static bool
iban(const uint8_t *p, size_t n)
{
    uint8_t c[34];
    size_t len = 0, want = 0;
    unsigned rem = 0;

    for (size_t i = 0; i < n; i++) {
        uint8_t u = upper(p[i]);

        if (p[i] == ' ' && i > 0 && i + 1 < n && p[i - 1] != ' ') {
            continue;
        }
        if (!is_digit(u) && !(u >= 'A' && u <= 'Z')) {
            return false;
        }
        if (len == sizeof(c)) {
            return false;
        }
        c[len++] = u;
    }
    if (len < 15 || !(c[0] >= 'A' && c[0] <= 'Z') ||
        !(c[1] >= 'A' && c[1] <= 'Z') || !is_digit(c[2]) || !is_digit(c[3])) {
        return false;
    }
    for (size_t k = 0; k < sizeof(iban_lengths) / sizeof(iban_lengths[0]);
         k++) {
        if (iban_lengths[k].cc[0] == (char)c[0] &&
            iban_lengths[k].cc[1] == (char)c[1]) {
            want = iban_lengths[k].len;
            break;
        }
    }
    if (want != len) {
        return false;
    }
    for (size_t k = 0; k < len; k++) {
        uint8_t u = c[(k + 4) % len];

        if (is_digit(u)) {
            rem = (rem * 10 + (unsigned)(u - '0')) % 97;
        } else {
            rem = (rem * 100 + (unsigned)(u - 'A' + 10)) % 97;
        }
    }
    return rem == 1;
}

/* Copies the digits of p[0..n) into d (at most cap), allowing the
 * separators '-' and ' ' between them.  Returns how many digits, or
 * cap + 1 when there are more or another character is found. */
static size_t
digits_of(const uint8_t *p, size_t n, uint8_t *d, size_t cap)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if ((p[i] == '-' || p[i] == ' ') && k > 0) {
            continue;
        }
        if (!is_digit(p[i]) || k == cap) {
            return cap + 1;
        }
        d[k++] = (uint8_t)(p[i] - '0');
    }
    return k;
}

static unsigned
num(const uint8_t *d, size_t k)
{
    unsigned v = 0;

    for (size_t i = 0; i < k; i++) {
        v = v * 10 + d[i];
    }
    return v;
}

/*
 * US social security numbers: 9 digits (dashes or spaces allowed), area
 * not 000, 666 or 900-999, group not 00, serial not 0000; one digit
 * repeated, 123-45-6789 and the advertised 078-05-1120 are refused, as
 * Presidio does.
 */
static bool
ssn_us(const uint8_t *p, size_t n)
{
    uint8_t d[9];
    unsigned area, group, serial;
    bool same = true;

    if (digits_of(p, n, d, 9) != 9) {
        return false;
    }
    area = num(d, 3);
    group = num(d + 3, 2);
    serial = num(d + 5, 4);
    for (size_t i = 1; i < 9; i++) {
        same &= d[i] == d[0];
    }
    return area != 0 && area != 666 && area < 900 && group != 0 &&
           serial != 0 && !same && !(area == 123 && group == 45 &&
                                     serial == 6789) &&
           !(area == 78 && group == 5 && serial == 1120);
}

static bool
valid_date(unsigned y, unsigned m, unsigned d)
{
    static const uint8_t days[12] = {31, 29, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};

    if (m < 1 || m > 12 || d < 1 || d > days[m - 1]) {
        return false;
    }
    return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

/*
 * Korean resident registration numbers, YYMMDD-GNNNNNN (the dash or a
 * space optional): G is 1-4 for citizens and 5-8 for foreigners (1, 2, 5,
 * 6 born in the 1900s, 3, 4, 7, 8 in the 2000s), the birth date must
 * exist; with `check`, the last digit must be the checksum of the first
 * twelve (weights 2-9, 2-5, (11 - sum mod 11) mod 10; for foreigners
 * (13 - sum mod 11) mod 10 is also accepted).  Numbers issued from October
 * 2020 end in random digits, so a rule for them uses rrn-kr-date and
 * context.
 */
static bool
rrn_kr(const uint8_t *p, size_t n, bool check)
{
    static const uint8_t w[12] = {2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5};
    uint8_t d[13];
    unsigned g, year, sum = 0, c;
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if ((p[i] == '-' || p[i] == ' ') && k == 6) {
            continue;
        }
        if (!is_digit(p[i]) || k == 13) {
            return false;
        }
        d[k++] = (uint8_t)(p[i] - '0');
    }
    if (k != 13) {
        return false;
    }
    g = d[6];
    if (g < 1 || g > 8) {
        return false;
    }
    year = (g == 3 || g == 4 || g == 7 || g == 8 ? 2000 : 1900) + num(d, 2);
    if (!valid_date(year, num(d + 2, 2), num(d + 4, 2))) {
        return false;
    }
    if (!check) {
        return true;
    }
    for (size_t i = 0; i < 12; i++) {
        sum += d[i] * w[i];
    }
    c = (11 - sum % 11) % 10;
    if (c == d[12]) {
        return true;
    }
    return g >= 5 && (13 - sum % 11) % 10 == d[12];
}

/*
 * Korean business registration numbers, NNN-NN-NNNNN (dashes or spaces
 * optional): weights 1,3,7,1,3,7,1,3,5 on the first nine digits, plus the
 * tens of the ninth digit times 5; the tenth digit is (10 - sum mod 10)
 * mod 10.  One digit repeated (000-00-00000 passes the sum) is refused.
 */
static bool
brn_kr(const uint8_t *p, size_t n)
{
    static const uint8_t w[9] = {1, 3, 7, 1, 3, 7, 1, 3, 5};
    uint8_t d[10];
    unsigned sum = 0;
    bool same = true;

    if (digits_of(p, n, d, 10) != 10) {
        return false;
    }
    for (size_t i = 0; i < 9; i++) {
        sum += d[i] * w[i];
        same &= d[i + 1] == d[0];
    }
    sum += (d[8] * 5u) / 10;
    return !same && (10 - sum % 10) % 10 == d[9];
}

static bool is_hex(uint8_t c);

/* log2(x) for x >= 1, to about 1e-6, without libm. */
static double
lg2(double x)
{
    double r = 0.0, bit = 0.5;

    while (x >= 2.0) {
        x /= 2.0;
        r += 1.0;
    }
    for (int i = 0; i < 24; i++) {
        x *= x;
        if (x >= 2.0) {
            x /= 2.0;
            r += bit;
        }
        bit /= 2.0;
    }
    return r;
}

static bool
value_end(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' ||
           c == '\'' || c == '`' || c == '=' || c == ':';
}

/*
 * Secrets in assignments (`password = "..."`, `api_key: ...`): the value
 * is the span's last run of characters other than whitespace, quotes, '='
 * and ':' (trailing quotes, whitespace, '=' padding, ',', ';' and closing
 * brackets dropped).  It passes when it looks random rather than like a
 * word, a placeholder or code:
 *  - 16 characters or more: Shannon entropy of at least 3.0 bits per
 *    character;
 *  - 8 to 15 characters: at least 2.5 bits per character and two of the
 *    classes lower case, upper case, digit, other;
 *  - shorter values, values starting with '$', '<', '{', '%' or '('
 *    (templates, variables, calls), hex numbers (0x...), values holding
 *    "xxx", "***" or "..."
 *    and values without a digit unless of 16 characters or more in mixed
 *    case (identifiers such as self.password_field) fail.
 */
static bool
entropy(const uint8_t *p, size_t n)
{
    unsigned count[256] = {0};
    size_t e = n, b;
    unsigned classes = 0, distinct_bits = 0;
    double sum = 0.0, h;

    /* a closing quote, bracket or separator, and base64 padding */
    while (e > 0 && (value_end(p[e - 1]) || p[e - 1] == ',' ||
                     p[e - 1] == ';' || p[e - 1] == ')' || p[e - 1] == ']' ||
                     p[e - 1] == '}')) {
        e--;
    }
    for (b = e; b > 0 && !value_end(p[b - 1]); b--) {
    }
    if (e - b < 8 || p[b] == '$' || p[b] == '<' || p[b] == '{' ||
        p[b] == '%' || p[b] == '(') {
        return false;
    }
    if (p[b] == '0' && (p[b + 1] == 'x' || p[b + 1] == 'X')) {
        size_t i = b + 2;

        while (i < e && is_hex(p[i])) {
            i++;
        }
        if (i == e) {
            return false; /* a hex number */
        }
    }
    for (size_t i = b; i < e; i++) {
        uint8_t c = p[i];

        count[c]++;
        if (c >= 'a' && c <= 'z') {
            classes |= 1;
        } else if (c >= 'A' && c <= 'Z') {
            classes |= 2;
        } else if (is_digit(c)) {
            classes |= 4;
        } else {
            classes |= 8;
        }
        if (i >= b + 2 && p[i - 1] == c && p[i - 2] == c &&
            (c == 'x' || c == 'X' || c == '*' || c == '.')) {
            return false;
        }
    }
    for (unsigned c = 0; c < 256; c++) {
        if (count[c] > 1) {
            sum += (double)count[c] * lg2((double)count[c]);
        }
    }
    /* H = log2(len) - sum(c log2 c) / len */
    h = lg2((double)(e - b)) - sum / (double)(e - b);
    for (unsigned c = classes; c != 0; c &= c - 1) {
        distinct_bits++;
    }
    /* letters and punctuation only: an identifier or words, unless long
     * and in mixed case */
    if (!(classes & 4) && (e - b < 16 || (classes & 3) != 3)) {
        return false;
    }
    if (e - b >= 16) {
        return h >= 3.0;
    }
    return h >= 2.5 && distinct_bits >= 2;
}

/* An octet: 1 to 3 digits, no leading zero, at most 255.  Advances *i. */
static bool
octet(const uint8_t *p, size_t n, size_t *i)
{
    unsigned v = 0;
    size_t s = *i;

    while (*i < n && is_digit(p[*i]) && *i - s < 3) {
        v = v * 10 + (unsigned)(p[*i] - '0');
        (*i)++;
    }
    return *i > s && v <= 255 && !(p[s] == '0' && *i - s > 1);
}

/* IPv4 dotted quads, each octet at most 255 without leading zeros. */
static bool
ipv4(const uint8_t *p, size_t n)
{
    size_t i = 0;

    for (int k = 0; k < 4; k++) {
        if (k > 0 && (i >= n || p[i++] != '.')) {
            return false;
        }
        if (!octet(p, n, &i)) {
            return false;
        }
    }
    return i == n;
}

static bool
is_hex(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * IPv6 addresses (RFC 4291 text forms): eight groups of 1 to 4 hex digits,
 * or fewer with one "::", the last two groups possibly an IPv4 address;
 * at least 3 characters.
 */
static bool
ipv6(const uint8_t *p, size_t n)
{
    size_t i = 0, groups = 0;
    bool dbl = false;

    if (n < 3) {
        return false;
    }
    if (p[0] == ':') {
        if (n < 2 || p[1] != ':') {
            return false;
        }
        dbl = true;
        i = 2;
    }
    while (i < n) {
        size_t s = i;

        while (i < n && is_hex(p[i]) && i - s < 5) {
            i++;
        }
        if (i < n && p[i] == '.') {
            /* an embedded IPv4 address ends it */
            if (groups > 6 || !ipv4(p + s, n - s)) {
                return false;
            }
            groups += 2;
            i = n;
            break;
        }
        if (i == s || i - s > 4) {
            return false;
        }
        groups++;
        if (i == n) {
            break;
        }
        if (p[i++] != ':') {
            return false;
        }
        if (i < n && p[i] == ':') {
            if (dbl) {
                return false;
            }
            dbl = true;
            i++;
            if (i == n) {
                break;
            }
        } else if (i == n) {
            return false;
        }
    }
    return dbl ? groups <= 7 : groups == 8;
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
    case LGI_VAL_IBAN:
        return iban(p, n);
    case LGI_VAL_SSN_US:
        return ssn_us(p, n);
    case LGI_VAL_RRN_KR:
        return rrn_kr(p, n, true);
    case LGI_VAL_RRN_KR_DATE:
        return rrn_kr(p, n, false);
    case LGI_VAL_BRN_KR:
        return brn_kr(p, n);
    case LGI_VAL_ENTROPY:
        return entropy(p, n);
    case LGI_VAL_IPV4:
        return ipv4(p, n);
    case LGI_VAL_IPV6:
        return ipv6(p, n);
    default:
        return false;
    }
}
