/*
 * libguard internals shared between the compiler and the runtime.  Never
 * installed.  Internal symbols are lgi_* and have hidden visibility.
 */
#ifndef LG_INTERNAL_H
#define LG_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "libguard.h"

#if defined(__GNUC__)
#define LGI_HIDDEN __attribute__((visibility("hidden")))
#else
#define LGI_HIDDEN
#endif

/* Invariants only; compiled out of release builds (an nginx worker must
 * not die for a bug that can be reported as LG_E_INTERNAL instead). */
#ifdef LG_DEBUG_ASSERT
#include <assert.h>
#define lgi_assert(x) assert(x)
#else
#define lgi_assert(x) ((void)0)
#endif

/* ---- allocation (routed so that tests can fail the Nth allocation) ---- */
LGI_HIDDEN void *lgi_malloc(size_t n);
LGI_HIDDEN void *lgi_calloc(size_t n, size_t size);
LGI_HIDDEN void *lgi_realloc(void *p, size_t n);
LGI_HIDDEN void lgi_free(void *p);
LGI_HIDDEN char *lgi_strndup(const char *s, size_t n);
LGI_HIDDEN char *lgi_strdup(const char *s);

/* Returns true and leaves *out alone on overflow. */
static inline bool
lgi_add_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

static inline bool
lgi_mul_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

/* a + b, or UINT32_MAX when that overflows (anomaly scores). */
static inline uint32_t
lgi_sat_add(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* ---- compiled rules ---- */

/* Default anomaly score of each severity (CRS: notice 2 .. critical 5). */
LGI_HIDDEN uint32_t lgi_severity_score(lg_severity_t s);

struct lgi_pattern {
    char *regex;      /* Hyperscan source, without delimiters or flags */
    uint32_t flags;   /* LG_PAT_* */
    uint32_t rule;    /* index into lg_rules.rules */
    /* Hyperscan reports only where a match ends (start-of-match tracking
     * makes many patterns "too large" and every scan slower).  The start is
     * recovered on a hit by this PCRE2 compilation of the same source,
     * searched end-anchored in a window before the end. */
    pcre2_code *span;
    uint32_t min_width;
    uint32_t max_width; /* UINT32_MAX: unbounded */
};

/* Span recovery (see match_start() in runtime/scan.c): the first window
 * searched back from a match's end, doubled as needed, and the look back
 * from the end of the pattern's previous finding. */
#define LGI_SPAN_FIRST 256u
#define LGI_SPAN_STEP 64u

struct lgi_rule {
    char *id;
    char *pack;
    char *description;
    char *file;
    uint32_t line;
    lg_category_t category;
    lg_severity_t severity;
    uint32_t score;
    uint32_t applies_to;      /* LG_DIR_* */
    uint32_t views;           /* LG_VIEW_* */
    uint32_t paranoia;        /* 1..LG_PARANOIA_MAX */
    uint32_t validate;        /* LGI_VAL_*, 0 for none */
    char *entity;             /* entity type ("EMAIL"), or NULL */
    uint32_t first_pattern;   /* into lg_rules.patterns */
    uint32_t npatterns;
    char *confirm_src;        /* PCRE2 source, or NULL */
    uint32_t confirm_flags;   /* LG_PAT_* applied to confirm_src */
    pcre2_code *confirm;      /* compiled (and JIT-compiled when possible) */
    char **tags;
    size_t ntags;
    char **refs;
    size_t nrefs;
};

struct lg_rules {
    atomic_uint refs;
    struct lgi_rule *rules;
    uint32_t nrules;
    struct lgi_pattern *patterns;
    uint32_t npatterns;
    hs_database_t *db;        /* block mode; NULL when there are no patterns */
    bool utf8;                /* some pattern or confirm is UTF-8 mode */
    uint32_t views;           /* union of the rules' views */
};

/*
 * Allocate an empty rules object with refs = 1.  The compiler fills
 * rules[]/patterns[] and calls lgi_build_confirms() and lgi_build_db(); the
 * loader deserializes the database and calls lgi_build_confirms() and
 * lgi_pattern_prepare().
 */
LGI_HIDDEN lg_rules_t *lgi_rules_alloc(void);
/* Free everything regardless of refs (used on failure paths). */
LGI_HIDDEN void lgi_rules_destroy(lg_rules_t *r);

/* An entity type name: [A-Z][A-Z0-9_]{0,31}. */
LGI_HIDDEN bool lgi_entity_ok(const char *s, size_t len);

/* Every LG_PAT_* bit, for validating loaded flags. */
#define LGI_PAT_ALL 0x1fu

/* Set r->utf8 from the patterns' and confirms' flags and r->views from the
 * rules' views. */
LGI_HIDDEN void lgi_rules_set_utf8(lg_rules_t *r);

/* Hyperscan flags for LG_PAT_*. */
LGI_HIDDEN unsigned int lgi_hs_flags(uint32_t pat_flags);
/* PCRE2 options for LG_PAT_* (UTF for utf8 and ucp). */
LGI_HIDDEN uint32_t lgi_pcre2_options(uint32_t pat_flags);

/*
 * Prepare one pattern for span recovery: its widths from Hyperscan and its
 * PCRE2 compilation.  On failure returns LG_E_COMPILE (or LG_E_NOMEM) with
 * the engine's message in msgbuf and the error offset in *erroff
 * (SIZE_MAX when unknown).
 */
LGI_HIDDEN lg_status_t lgi_pattern_prepare(struct lgi_pattern *p,
                                           char *msgbuf, size_t msgcap,
                                           size_t *erroff);

/*
 * Prepare every pattern (lgi_pattern_prepare) and compile them all into
 * r->db (block mode).  On failure returns
 * LG_E_COMPILE and sets *bad to the index of the first rejected pattern and
 * *msg to the engine's message (copied into msgbuf).
 */
LGI_HIDDEN lg_status_t lgi_build_db(lg_rules_t *r, uint32_t *bad,
                                    char *msgbuf, size_t msgcap);

/* Compile (and JIT) every rule's confirm_src.  On failure sets *bad_rule,
 * *erroff and msgbuf. */
LGI_HIDDEN lg_status_t lgi_build_confirms(lg_rules_t *r, uint32_t *bad_rule,
                                          size_t *erroff, char *msgbuf,
                                          size_t msgcap);

/* ---- scanning (runtime/scan.c) ---- */

/* Set res->score, would_block and verdict from per-category scores
 * (cat_score[LG_CATEGORY_MAX]) and their total, as policy p says. */
LGI_HIDDEN void lgi_policy_verdict(const lg_policy_t *p,
                                   const uint32_t *cat_score, uint32_t total,
                                   lg_result_t *res);
/* qsort() order of findings: by start, then rule, then end. */
LGI_HIDDEN int lgi_finding_cmp(const void *a, const void *b);
/* The limits a scratch was made with. */
LGI_HIDDEN const lg_limits_t *lgi_scratch_limits(const lg_scratch_t *s);

/* ---- validators (validate/validate.c) ---- */

/* Checks a rule can name with `validate:`, run on each candidate match. */
enum lgi_validator {
    LGI_VAL_NONE = 0,
    LGI_VAL_LUHN,        /* "luhn": 12-19 digits passing the Luhn check */
    LGI_VAL_OFFSITE_URL, /* "offsite-url": an http(s) URL with a query,
                            whose host is not on the scratch's allowlist */
    LGI_VAL_IBAN,        /* "iban": country length and mod-97 check */
    LGI_VAL_SSN_US,      /* "ssn-us": US SSN area, group, serial ranges */
    LGI_VAL_RRN_KR,      /* "rrn-kr": Korean resident registration number,
                            date, gender digit and checksum */
    LGI_VAL_RRN_KR_DATE, /* "rrn-kr-date": the same without the checksum
                            (numbers issued from October 2020) */
    LGI_VAL_BRN_KR,      /* "brn-kr": Korean business registration number
                            checksum */
    LGI_VAL_ENTROPY,     /* "entropy": the assigned value looks random */
    LGI_VAL_IPV4,        /* "ipv4": four octets of at most 255 */
    LGI_VAL_IPV6,        /* "ipv6": a well-formed IPv6 address */
    LGI_VAL_COUNT
};

/* What a validator may consult besides the matched bytes. */
struct lgi_vctx {
    char **hosts; /* allowlisted hosts, lower case */
    size_t nhosts;
};

/* The validator named name[0..len), or LGI_VAL_NONE if there is none. */
LGI_HIDDEN uint32_t lgi_validator_parse(const char *name, size_t len);
/* Its name; NULL for LGI_VAL_NONE or out of range. */
LGI_HIDDEN const char *lgi_validator_name(uint32_t v);
/* A comma-separated list of every name, for diagnostics. */
LGI_HIDDEN const char *lgi_validator_list(void);
/* True when p[0..n) passes validator v (LGI_VAL_NONE passes all). */
LGI_HIDDEN bool lgi_validate(uint32_t v, const uint8_t *p, size_t n,
                             const struct lgi_vctx *ctx);

#endif /* LG_INTERNAL_H */
