/*
 * libguard: compiled rules.  A lg_rules_t is produced by lg_compiler_build()
 * or lg_rules_load() and is immutable from then on.
 *
 * Threading: every function taking `const lg_rules_t *`, and
 * lg_rules_retain(), lg_rules_free() and lg_scratch_new(), may be called
 * concurrently from any number of threads.  The reference count is atomic.
 * Hot reload: build or load new rules, create new scratches from them, swap
 * your pointer, then free the old scratches and rules.
 */
#ifndef LG_RULES_H
#define LG_RULES_H

#include "lg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lg_rules lg_rules_t;

/**
 * The fixed set of categories a rule can belong to.  YAML names are given
 * in brackets; lg_category_name() and lg_category_parse() convert.
 * Append-only.
 */
typedef enum lg_category {
    LG_CAT_INJECTION = 0,      /**< [injection] instructions smuggled in */
    LG_CAT_HIJACKING = 1,      /**< [hijacking] jailbreaks, personas, goals */
    LG_CAT_LEAKAGE = 2,        /**< [leakage] system prompt extraction */
    LG_CAT_PII = 3,            /**< [pii] personal data */
    LG_CAT_SECRET = 4,         /**< [secret] credentials and keys */
    LG_CAT_EXFILTRATION = 5,   /**< [exfiltration] data sent out via links */
    LG_CAT_HARMFUL = 6,        /**< [harmful] requests for harmful help */
    LG_CAT_MOD_HATE = 7,       /**< [moderation/hate] */
    LG_CAT_MOD_HARASSMENT = 8, /**< [moderation/harassment] */
    LG_CAT_MOD_VIOLENCE = 9,   /**< [moderation/violence] */
    LG_CAT_MOD_SELF_HARM = 10, /**< [moderation/self-harm] */
    LG_CAT_MOD_SEXUAL = 11,    /**< [moderation/sexual] */
    LG_CAT_MOD_SEXUAL_MINORS = 12, /**< [moderation/sexual-minors] */
    LG_CAT_MOD_PROFANITY = 13  /**< [moderation/profanity] */
} lg_category_t;

/** Number of categories defined by this version of the header. */
#define LG_CATEGORY_COUNT 14
/** Capacity reserved in public structs for categories; never changes. */
#define LG_CATEGORY_MAX 32

/**
 * The category's YAML name, e.g. "moderation/hate".
 * @return a static string, or NULL if `c` is not a defined category.
 */
LG_API const char *lg_category_name(lg_category_t c);

/**
 * Parse a category name as written in YAML.
 *
 * @param name bytes of the name (not necessarily NUL-terminated); not NULL.
 * @param len  its length.
 * @param out  receives the category; not NULL.
 * @return LG_OK, or LG_E_INVAL if the name is not in the set.
 */
LG_API lg_status_t lg_category_parse(const char *name, size_t len,
                                     lg_category_t *out);

/**
 * Rule severity.  Each maps to a default anomaly score (in brackets) that
 * the policy adds up per category; a rule may set its own `score`.
 */
typedef enum lg_severity {
    LG_SEVERITY_LOW = 1,      /**< [2] weak signal, flags together with others */
    LG_SEVERITY_MEDIUM = 2,   /**< [3] */
    LG_SEVERITY_HIGH = 3,     /**< [4] */
    LG_SEVERITY_CRITICAL = 4  /**< [5] blocks on its own under the default policy */
} lg_severity_t;

/** The severity's name ("low", ...), or NULL if not defined. */
LG_API const char *lg_severity_name(lg_severity_t s);

/** Direction bits: used in rules' `applies_to` and as lg_scan() flags. */
#define LG_DIR_PROMPT 0x1u
#define LG_DIR_COMPLETION 0x2u
#define LG_DIR_BOTH (LG_DIR_PROMPT | LG_DIR_COMPLETION)

/**
 * Views of the input a rule is matched against, as written in a rule's (or
 * pack's) `views` list.  Each view is matched by the same patterns and its
 * findings are reported at offsets in the original input.
 */
#define LG_VIEW_RAW 0x1u        /**< raw: the input bytes as given */
/**
 * normalized: Unicode NFKC with non-ASCII case folded (ASCII keeps its case:
 * match it caseless), invisible and format characters removed, Unicode tag
 * characters decoded to the ASCII they carry, look-alike characters mapped
 * to their Latin skeleton, letter-by-letter spacing ("i g n o r e") and
 * separators inside words ("ig.no.re") collapsed, and whitespace runs
 * longer than 8 characters reduced to one space.
 */
#define LG_VIEW_NORMALIZED 0x2u
/** leet: the normalized view with leetspeak folded ("1gn0r3" -> "ignore"). */
#define LG_VIEW_LEET 0x4u
/**
 * decoded: base64, hex, byte lists (hex pairs or binary octets written one
 * by one), URL percent-encoded and HTML-entity payloads in the input, decoded (nested up to the scratch's max_decode_depth) and
 * normalized; a finding spans the encoded text it was decoded from.
 */
#define LG_VIEW_DECODED 0x8u
/** Views of a rule that does not say: raw and normalized. */
#define LG_VIEW_DEFAULT (LG_VIEW_RAW | LG_VIEW_NORMALIZED)
#define LG_VIEW_ALL 0xfu

/**
 * The view's YAML name ("raw", "normalized", "leet", "decoded") for one
 * LG_VIEW_* bit; NULL for anything else.
 */
LG_API const char *lg_view_name(uint32_t view);

/**
 * Paranoia levels, as the OWASP Core Rule Set has them: a rule's `paranoia`
 * (1 to LG_PARANOIA_MAX, default 1) is the lowest level at which it runs.
 * Level 1 keeps false positives rare; each level above adds rules that
 * catch more and mistake more.  The level is chosen per deployment in
 * lg_policy_t.
 */
#define LG_PARANOIA_MAX 4

/** Pattern flags, as written in a rule's `flags` list. */
#define LG_PAT_CASELESS 0x1u  /**< caseless: case-insensitive */
#define LG_PAT_DOTALL 0x2u    /**< dotall: `.` also matches newline */
#define LG_PAT_MULTILINE 0x4u /**< multiline: ^ and $ match at newlines */
#define LG_PAT_UCP 0x8u       /**< ucp: \w \s \b follow Unicode properties
                                   (implies utf8) */
/**
 * utf8: `.`, classes and repeats work on whole UTF-8 characters, as a
 * non-ASCII range such as [가-힣] needs.  Without it a pattern works on
 * bytes: literal text in any script still matches, `.` is one byte, and
 * caseless folds ASCII only.  Byte patterns compile and scan faster, so
 * use utf8 only where a pattern needs it.
 */
#define LG_PAT_UTF8 0x10u

/**
 * Description of one compiled rule.  Every pointer is borrowed from the
 * rules object and stays valid until it is freed.
 */
typedef struct lg_rule_info {
    const char *id;          /**< unique id, e.g. "inj.override.ignore-previous" */
    const char *pack;        /**< name of the pack the rule came from */
    const char *description; /**< one line for humans */
    const char *file;        /**< file name given to the compiler */
    uint32_t line;           /**< line of the rule's `id` key, 1-based */
    lg_category_t category;
    lg_severity_t severity;
    uint32_t score;          /**< anomaly score added when the rule matches */
    uint32_t applies_to;     /**< LG_DIR_* bits */
    uint32_t npatterns;      /**< see lg_rules_pattern() */
    const char *confirm;     /**< PCRE2 confirmation regex, or NULL */
    size_t ntags;
    const char *const *tags;
    size_t nreferences;
    const char *const *references;
    uint32_t views;          /**< LG_VIEW_* bits the rule is matched in */
    uint32_t paranoia;       /**< lowest paranoia level it runs at, 1..4 */
    const char *validate;    /**< validator run on each match, or NULL */
    const char *entity;      /**< what a match is ("EMAIL", "AWS_KEY"),
                                  for typed redaction; or NULL */
} lg_rule_info_t;

/**
 * Take another reference to `r`.
 * @return `r` (NULL if `r` is NULL).
 */
LG_API lg_rules_t *lg_rules_retain(lg_rules_t *r);

/**
 * Drop a reference; the last one frees the rules.  Scratches hold their own
 * reference, so rules may be freed before the scratches made from them.
 * @param r rules, or NULL.
 */
LG_API void lg_rules_free(lg_rules_t *r);

/** Number of rules; 0 for NULL. */
LG_API size_t lg_rules_count(const lg_rules_t *r);

/**
 * Describe rule `idx` (a finding's `rule` field).
 *
 * @return LG_OK, or LG_E_INVAL if an argument is NULL or idx is past the
 *         end (then `*out` is zeroed).
 */
LG_API lg_status_t lg_rules_info(const lg_rules_t *r, uint32_t idx,
                                 lg_rule_info_t *out);

/** The id of rule `idx`, or NULL past the end.  Borrowed. */
LG_API const char *lg_rules_id(const lg_rules_t *r, uint32_t idx);

/**
 * Find a rule by id.
 * @return LG_OK, or LG_E_INVAL if no rule has that id.
 */
LG_API lg_status_t lg_rules_find(const lg_rules_t *r, const char *id,
                                 uint32_t *idx);

/**
 * Pattern `i` of rule `rule`: its source (Hyperscan syntax, without flags)
 * and its LG_PAT_* flags.  For tools such as benchmarks and linters.
 *
 * @return LG_OK, or LG_E_INVAL when out of range (outputs set to NULL/0).
 */
LG_API lg_status_t lg_rules_pattern(const lg_rules_t *r, uint32_t rule,
                                    uint32_t i, const char **regex,
                                    uint32_t *flags);

/**
 * Serialize the rules to a byte buffer that lg_rules_load() accepts.
 *
 * The buffer starts with a little-endian header: the magic "LGRB", format
 * version, library version, engine platform, payload length and a BLAKE2b-256
 * checksum of the payload.
 *
 * @param buf receives a buffer to release with lg_free(); NULL on failure.
 * @param len receives its length; 0 on failure.
 * @return LG_OK, LG_E_INVAL, LG_E_NOMEM or LG_E_ENGINE.
 */
LG_API lg_status_t lg_rules_serialize(const lg_rules_t *r, void **buf,
                                      size_t *len) LG_WARN_UNUSED;

/**
 * Load rules serialized by lg_rules_serialize().  Every length, offset and
 * field of the buffer is checked before use, so a truncated or corrupt file
 * is refused.  The checksum detects corruption, not tampering, and the
 * Hyperscan bytecode inside cannot be validated: load only files from a
 * source you trust as you trust your rule packs.
 *
 * @param buf,len the serialized bytes (copied; the caller keeps them).
 * @param out     receives new rules with one reference; NULL on failure.
 * @return LG_OK; LG_E_DB_FORMAT (truncated, corrupt or not a rules file),
 *         LG_E_DB_VERSION (another format or engine version),
 *         LG_E_DB_PLATFORM (built for a CPU this one cannot run),
 *         LG_E_DB_CHECKSUM, LG_E_NOMEM, LG_E_INVAL.
 */
LG_API lg_status_t lg_rules_load(const void *buf, size_t len,
                                 lg_rules_t **out) LG_WARN_UNUSED;

#ifdef __cplusplus
}
#endif

#endif /* LG_RULES_H */
