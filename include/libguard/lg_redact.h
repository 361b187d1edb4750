/*
 * libguard: redaction of what a scan found, in text and in JSON records.
 *
 * lg_scan() finds; lg_redact() rewrites the scanned text with every finding
 * of the chosen categories replaced, at the finding's offsets in the
 * original input (also for findings made through a normalized or decoded
 * view).  Four modes:
 *
 *   replace  "<EMAIL>"                      a typed placeholder
 *   mask     "************1234"             trailing characters kept
 *   hash     "<EMAIL:9f86d081884c7d65>"     keyed BLAKE2b pseudonym: the
 *                                           same value and key always give
 *                                           the same token, so redacted
 *                                           logs can still be joined
 *   encrypt  "<EMAIL:e:BASE64URL>"          XChaCha20-Poly1305 of the value;
 *                                           lg_unredact() restores it
 *
 * The type in a placeholder is the `entity` of the rule (lg_rule_info_t),
 * or else the category's name upper-cased with '/' and '-' as '_' (SECRET,
 * MODERATION_HATE).  Types always match [A-Z][A-Z0-9_]{0,31}.
 *
 * Hash and encrypt take one 32-byte key (LG_REDACT_KEYBYTES, e.g. from
 * randombytes_buf()); two independent subkeys are derived from it (BLAKE2b
 * KDF, context "lgredact"), so hash tokens reveal nothing usable against
 * encrypted ones.  Derived keys are wiped before returning.
 *
 * Threading: lg_redact(), lg_unredact() and lg_redact_bound() keep no
 * state and may be called concurrently.  lg_redact_json() scans with the
 * scratch it is given: one thread per scratch, as for lg_scan().
 */
#ifndef LG_REDACT_H
#define LG_REDACT_H

#include "lg_common.h"
#include "lg_rules.h"
#include "lg_scan.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of a redaction key (hash and encrypt modes). */
#define LG_REDACT_KEYBYTES 32u
/** Longest placeholder type ("EMAIL"), in bytes. */
#define LG_REDACT_TYPE_MAX 32u
/** Categories redacted by default: pii and secret. */
#define LG_REDACT_CATEGORIES_DEFAULT                                           \
    ((1u << LG_CAT_PII) | (1u << LG_CAT_SECRET))

/** LG_REDACT_KEYBYTES as a function, for bindings. */
LG_API size_t lg_redact_keybytes(void);

/** How a redacted span is written. */
typedef enum lg_redact_mode {
    LG_REDACT_REPLACE = 0, /**< "<TYPE>" */
    LG_REDACT_MASK = 1,    /**< mask characters, last characters kept */
    LG_REDACT_HASH = 2,    /**< "<TYPE:16 hex digits>", keyed */
    LG_REDACT_ENCRYPT = 3  /**< "<TYPE:e:token>", reversible with the key */
} lg_redact_mode_t;

/**
 * Redaction options.  Plain data; fill with lg_redact_opts_init() first so
 * that fields added later get their defaults.
 */
typedef struct lg_redact_opts {
    lg_redact_mode_t mode;  /**< default LG_REDACT_REPLACE */
    uint32_t categories;    /**< bits (1u << LG_CAT_*) of the categories
                                 redacted; default
                                 LG_REDACT_CATEGORIES_DEFAULT; 0 is invalid */
    uint32_t mask_keep;     /**< mask: characters (not bytes) kept at the
                                 end, default 4; never more than half of a
                                 value's characters are kept, so a short
                                 value is mostly masked */
    char mask_char;         /**< mask: printable ASCII (0x21..0x7e),
                                 default '*' */
    const uint8_t *key;     /**< LG_REDACT_KEYBYTES bytes, borrowed;
                                 required for hash and encrypt, ignored
                                 otherwise */
} lg_redact_opts_t;

/** Fill `o` with the defaults above.  NULL is ignored. */
LG_API void lg_redact_opts_init(lg_redact_opts_t *o);

/**
 * An upper bound on the output of lg_redact() for an input of `len` bytes
 * with `nfindings` findings, in any mode.
 *
 * @return the bound, or SIZE_MAX if it does not fit in a size_t.
 */
LG_API size_t lg_redact_bound(size_t len, size_t nfindings);

/**
 * Write `text` with the findings of `res` redacted.
 *
 * Only findings whose category is in o->categories are redacted.  Each
 * finding's span is first widened to whole UTF-8 characters (so valid
 * UTF-8 in gives valid UTF-8 out); spans that then overlap or touch are
 * merged into one, whose type is that of its highest-scoring finding
 * (ties: the first that has an entity).  Bytes outside the spans are
 * copied unchanged; NUL bytes are data.  The output is not NUL-terminated.
 *
 * In encrypt mode every token has a fresh random nonce, so the output
 * differs from call to call; the other modes are deterministic.
 *
 * @param r      the rules `res` came from (for entities); not NULL.
 * @param text   the scanned bytes; NULL only if len is 0.
 * @param len    their length.
 * @param res    the result of scanning exactly `text` with `r`: findings
 *               sorted by start (as lg_scan() gives them), inside the text.
 * @param o      options; NULL for the defaults (replace mode).
 * @param out    output buffer; may be NULL if cap is 0.
 * @param cap    its size; lg_redact_bound() is always enough.
 * @param outlen receives the bytes written, or on LG_E_NOSPACE the size
 *               needed (nothing is written then); 0 on other errors.
 * @return LG_OK; LG_E_NOSPACE; LG_E_INVAL (NULL argument, unknown mode,
 *         categories 0, a bad mask_char, no key for hash/encrypt, a finding
 *         outside the text or out of order); LG_E_NOMEM (encrypt mode
 *         needs a buffer as large as the longest span); LG_E_INTERNAL.
 */
LG_API lg_status_t lg_redact(const lg_rules_t *r, const void *text,
                             size_t len, const lg_result_t *res,
                             const lg_redact_opts_t *o, void *out, size_t cap,
                             size_t *outlen);

/**
 * Restore every "<TYPE:e:token>" written by lg_redact() in encrypt mode
 * with `key`.  A token that does not authenticate (another key, edited,
 * truncated, or a different TYPE) is copied as is and counted in
 * `*nfailed`; other text, including hash and replace placeholders, is
 * copied unchanged.  Hostile input is fine: the work is linear in `len`.
 * The output is never longer than the input, so cap = len always suffices.
 *
 * @param text    bytes; NULL only if len is 0.
 * @param key     LG_REDACT_KEYBYTES bytes; not NULL.
 * @param out     output buffer; may be NULL if cap is 0.
 * @param outlen  bytes written, or on LG_E_NOSPACE the size needed.
 * @param nfailed receives the number of tokens left as is; may be NULL.
 * @return LG_OK (also when some tokens failed), LG_E_NOSPACE, LG_E_INVAL,
 *         LG_E_NOMEM.
 */
LG_API lg_status_t lg_unredact(const void *text, size_t len,
                               const uint8_t *key, void *out, size_t cap,
                               size_t *outlen, size_t *nfailed);

/**
 * The fields lg_redact_json() redacts when given no paths: requests and
 * responses of the OpenAI (chat completions, completions, responses) and
 * Anthropic (messages) APIs:
 *
 *   prompt, prompt[*], input, input[*], input[*].content,
 *   input[*].content[*].text, instructions, system, system[*].text,
 *   messages[*].content, messages[*].content[*].text,
 *   messages[*].content[*].content, choices[*].text,
 *   choices[*].message.content, choices[*].delta.content, completion,
 *   content[*].text, output[*].content[*].text, output_text
 *
 * A NULL-terminated static array.
 */
LG_API const char *const *lg_redact_json_default_paths(void);

/**
 * Redact a JSON record field by field.
 *
 * Each path selects values: dotted object keys, `[*]` for every item of an
 * array and `[N]` for item N (0-based), e.g. `messages[*].content`,
 * `choices[0].message.content`, `prompt`.  A key is 1 or more bytes other
 * than `.`, `[`, `]`; a path may start with `[`.  Each selected value that
 * is a string is scanned (in direction `dir`, with `s`) and replaced by its
 * redacted text; values of other types, and paths that select nothing, are
 * left alone.
 *
 * The output is valid JSON with the same structure: every byte outside
 * the redacted strings is copied as it was (key order, whitespace, numbers
 * of any size), and each redacted string is re-encoded with only `"`, `\`
 * and control characters escaped.  The input must be strict JSON (RFC
 * 8259, UTF-8); a key that a path selects may not appear twice in one
 * object, since a reader taking the first value would see unredacted
 * text.
 *
 * @param s      scratch to scan with (its rules give the entities).
 * @param dir    LG_DIR_* bits for lg_scan().
 * @param json   the record (UTF-8 JSON, any top-level type); not NULL.
 * @param paths  npaths paths; NULL with npaths 0 for the default set.
 * @param o      options; NULL for the defaults.
 * @param out    receives a NUL-terminated buffer to release with
 *               lg_free(); NULL on failure.
 * @param outlen receives its length (without the NUL); 0 on failure.
 * @return LG_OK; LG_E_INVAL (NULL argument, invalid JSON, a selected key
 *         twice in an object, bad path syntax, bad options); LG_E_LIMIT
 *         (nesting deeper than 512, or a string above the scratch's
 *         max_input); LG_E_NOMEM; any other error of lg_scan().
 */
LG_API lg_status_t lg_redact_json(lg_scratch_t *s, uint32_t dir,
                                  const char *json, size_t len,
                                  const char *const *paths, size_t npaths,
                                  const lg_redact_opts_t *o, char **out,
                                  size_t *outlen);

/**
 * Check one path's syntax (see lg_redact_json()).
 *
 * @param path NUL-terminated; not NULL.
 * @return LG_OK or LG_E_INVAL.
 */
LG_API lg_status_t lg_redact_path_check(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* LG_REDACT_H */
