/*
 * Claim checks of authenticated PASETO payloads, and RFC 3339 times.
 *
 * Only called on payloads that passed the MAC or signature check, so the
 * JSON parser (jansson) never sees unauthenticated bytes here.  Duplicate
 * keys are refused: {"exp": later, "exp": earlier} must not mean one thing
 * to us and another to the application.
 */
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "token_int.h"

/* Beyond any date lg_token_time_parse() returns (years 0..9999). */
#define TIME_LIMIT ((int64_t)1 << 40)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil).  y is 0..9999, so nothing overflows. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* `n` decimal digits at s into *out; -1 if any is not a digit. */
static int
digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

lg_status_t
lg_token_time_parse(const char *s, size_t len, int64_t *out)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
    size_t i = 19;
    int64_t t, off = 0;

    if (out == NULL) {
        return LG_E_INVAL;
    }
    *out = 0;
    /* YYYY-MM-DDThh:mm:ss is 19 characters. */
    if (s == NULL || len < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
        digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
        digits(s + 17, 2, &sec)) {
        return LG_E_INVAL;
    }
    if (mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h > 23 || mi > 59 ||
        sec > 60) {
        return LG_E_INVAL;
    }
    if (s[i] == '.') {
        size_t start = ++i;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        if (i == start) {
            return LG_E_INVAL;
        }
    }
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        if (len - i < 6 || s[i + 3] != ':' || digits(s + i + 1, 2, &oh) ||
            digits(s + i + 4, 2, &om) || oh > 23 || om > 59) {
            return LG_E_INVAL;
        }
        off = (int64_t)(oh * 3600 + om * 60);
        if (s[i] == '-') {
            off = -off;
        }
        i += 6;
    } else {
        return LG_E_INVAL;
    }
    if (i != len) {
        return LG_E_INVAL;
    }
    t = days_from_civil(y, mo, d) * 86400 + (int64_t)(h * 3600 + mi * 60) +
        (int64_t)sec;
    *out = t - off;
    return LG_OK;
}

lg_status_t
lg_token_time_format(int64_t t, char *buf, size_t cap, size_t *needed)
{
    int64_t days, secs, y;
    unsigned m, d;
    char tmp[32];
    int n;

    if (needed != NULL) {
        *needed = 0;
    }
    if (buf == NULL && cap > 0) {
        return LG_E_INVAL;
    }
    /* 0000-01-01 .. 9999-12-31T23:59:59 */
    if (t < -62167219200LL || t > 253402300799LL) {
        return LG_E_INVAL;
    }
    days = t / 86400;
    secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    n = snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y,
                 m, d, (int)(secs / 3600), (int)(secs / 60 % 60),
                 (int)(secs % 60));
    if (n != 20) {
        return LG_E_INTERNAL; /* LCOV_EXCL_LINE */
    }
    if (needed != NULL) {
        *needed = 21;
    }
    if (cap < 21) {
        return LG_E_NOSPACE;
    }
    memcpy(buf, tmp, 21);
    return LG_OK;
}

/* The claim's time, if present: 1 present (in *t), 0 absent, -1 bad. */
static int
claim_time(json_t *root, const char *name, int64_t *t)
{
    json_t *v = json_object_get(root, name);

    if (v == NULL) {
        return 0;
    }
    if (!json_is_string(v) ||
        lg_token_time_parse(json_string_value(v), json_string_length(v), t) !=
            LG_OK) {
        return -1;
    }
    return 1;
}

/* A string claim equal to `want` (when want is not NULL). */
static int
claim_str_ok(json_t *root, const char *name, const char *want)
{
    json_t *v;
    size_t n;

    if (want == NULL) {
        return 1;
    }
    v = json_object_get(root, name);
    if (!json_is_string(v)) {
        return 0;
    }
    n = strlen(want);
    return json_string_length(v) == n &&
           (n == 0 || sodium_memcmp(json_string_value(v), want, n) == 0);
}

lg_status_t
lgi_claims_check(const uint8_t *payload, size_t len, const lg_token_opts_t *o,
                 int64_t now)
{
    json_t *root;
    json_error_t err;
    int64_t exp = 0, nbf = 0, iat = 0, skew = (int64_t)o->skew;
    int has_exp, has_nbf, has_iat, ok;

    /* A caller's absurd `now` must not overflow the sums below. */
    if (now > TIME_LIMIT) {
        now = TIME_LIMIT;
    } else if (now < -TIME_LIMIT) {
        now = -TIME_LIMIT;
    }
    root = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES,
                      &err);
    if (root == NULL && json_error_code(&err) == json_error_out_of_memory) {
        return LG_E_NOMEM;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return LG_E_TOKEN;
    }
    has_exp = claim_time(root, "exp", &exp);
    has_nbf = claim_time(root, "nbf", &nbf);
    has_iat = claim_time(root, "iat", &iat);
    /* Times are within years 0..9999 and skew below 2^32: no overflow. */
    ok = has_exp >= 0 && has_nbf >= 0 && has_iat >= 0 &&
         (has_exp == 1 || !(o->flags & LG_TOKEN_REQUIRE_EXP)) &&
         (has_exp == 0 || now - skew < exp) &&
         (has_nbf == 0 || now + skew >= nbf) &&
         (has_iat == 0 || now + skew >= iat) &&
         claim_str_ok(root, "aud", o->audience) &&
         claim_str_ok(root, "iss", o->issuer) &&
         claim_str_ok(root, "sub", o->subject);
    json_decref(root);
    return ok ? LG_OK : LG_E_TOKEN;
}
