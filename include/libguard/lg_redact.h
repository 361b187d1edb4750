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
 * lg_redact_json() does the same to the string values at chosen paths of
 * a JSON record and lg_unredact_json() restores such a record;
 * lg_json_reader_t gives the string values at chosen paths of a JSON
 * document (the fields an HTTP filter scans), with the same parser.
 *
 * Hash and encrypt take one 32-byte key (LG_REDACT_KEYBYTES, e.g. from
 * randombytes_buf()); two independent subkeys are derived from it (BLAKE2b
 * KDF, context "lgredact"), so hash tokens reveal nothing usable against
 * encrypted ones.  Derived keys are wiped before returning.
 *
 * Threading: lg_redact(), lg_unredact(), lg_unredact_json() and
 * lg_redact_bound() keep no state and may be called concurrently.
 * lg_redact_json() scans with the scratch it is given: one thread per
 * scratch, as for lg_scan().  A JSON reader (lg_json_reader_t) is used by
 * one thread at a time.
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
 * the redacted spans is copied as it was (key order, whitespace, numbers
 * of any size, and the escapes of the rest of each string), and each
 * redacted span's text is written with only `"`, `\` and control
 * characters escaped.  Findings are made on the decoded string, so an
 * escaped value (`555\u002d0123`) is found and redacted whole.  The input
 * must be strict JSON (RFC 8259, UTF-8, at most LG_JSON_MAX_DEPTH nested
 * arrays and objects); a key that a path selects may not appear twice in
 * one object, since a reader taking the first value would see unredacted
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
 *         (nesting deeper than LG_JSON_MAX_DEPTH, or a string above the
 *         scratch's max_input); LG_E_NOMEM; any other error of lg_scan().
 */
LG_API lg_status_t lg_redact_json(lg_scratch_t *s, uint32_t dir,
                                  const char *json, size_t len,
                                  const char *const *paths, size_t npaths,
                                  const lg_redact_opts_t *o, char **out,
                                  size_t *outlen);

/**
 * Restore the encrypted tokens of a JSON record redacted with
 * lg_redact_json() in encrypt mode (or of any JSON whose string values
 * hold "<TYPE:e:token>" tokens written by lg_redact() with `key`).
 *
 * Every string value (not the keys) is decoded, its tokens are restored,
 * and the restored bytes are written back escaped as JSON (only `"`, `\`
 * and control characters, as lg_redact_json() writes); every other byte of
 * the record, including the rest of each string as it was escaped, is
 * copied unchanged.  So the output is valid JSON with the same structure,
 * and redacting a record then restoring it gives the record back byte for
 * byte, provided the redacted spans themselves were written that way in
 * the original (raw UTF-8, `\"`, `\\`, `\n`, `\t`, ..., `\u00XX` for the
 * other control characters).  A span written otherwise (`\u00e9` for é,
 * `\/` for /) comes back as the same characters in that form: the same
 * JSON value, not the same bytes.
 *
 * Unlike lg_unredact(), restoration is all or nothing: a token that does
 * not authenticate (another key, edited, truncated, moved under another
 * TYPE) is an error, and nothing is written for the record.  Text that
 * merely resembles a token ("<A:e:x>") is such a token.  The whole record
 * is validated first in effect: one that is not JSON is LG_E_INVAL, even
 * if it also holds such a token.  Hostile input is
 * fine: the work is linear in `len`, nesting is bounded.
 *
 * @param json   the record (UTF-8 JSON, any top-level type); not NULL.
 * @param len    its length.
 * @param key    LG_REDACT_KEYBYTES bytes; not NULL.
 * @param out    receives a NUL-terminated buffer to release with
 *               lg_free() (it holds the restored values: wipe it first if
 *               that matters); NULL on failure.
 * @param outlen receives its length (without the NUL); 0 on failure.
 * @param erroff receives, on LG_E_INVAL, LG_E_LIMIT and LG_E_TOKEN, the
 *               byte offset of the error in `json` (the first byte that is
 *               not valid JSON, `len` if it ends too soon; the bracket too
 *               deep; the token's '<' in the string literal); otherwise 0.
 *               May be NULL.
 * @return LG_OK; LG_E_INVAL (NULL argument, invalid JSON); LG_E_LIMIT
 *         (nesting deeper than LG_JSON_MAX_DEPTH); LG_E_TOKEN (a token
 *         that does not authenticate); LG_E_NOMEM.
 *
 * Thread safety: keeps no state; may be called concurrently.
 */
LG_API lg_status_t lg_unredact_json(const char *json, size_t len,
                                    const uint8_t *key, char **out,
                                    size_t *outlen, size_t *erroff);

/* ---- reading fields of a JSON document ---------------------------------- */

/** Deepest nesting of arrays and objects the JSON functions accept. */
#define LG_JSON_MAX_DEPTH 512u

/** lg_json_reader_new() flag: a key that a path selects, twice in one
 *  object, is an error (LG_E_INVAL) instead of two fields. */
#define LG_JSON_REJECT_DUPLICATES 1u

/**
 * A reader of the string values at given paths of JSON documents (the
 * fields to scan in a request body, such as `messages[*].content`).  It
 * holds the parsed paths, the walk's state and a buffer for decoded
 * values; reset, it reads the next document.  One thread at a time; make
 * one per worker.
 */
typedef struct lg_json_reader lg_json_reader_t;

/** One string value at a selected path. */
typedef struct lg_json_field {
    size_t path;       /**< index of the first path that selects it */
    size_t start;      /**< offset of its literal's opening quote */
    size_t end;        /**< offset just past its closing quote */
    const char *value; /**< the decoded value (UTF-8, may hold NUL bytes,
                            not NUL-terminated): borrowed, into the
                            document when it had no escapes, else into the
                            reader; valid until the next call on the
                            reader */
    size_t len;        /**< bytes of value */
} lg_json_field_t;

/**
 * Make a reader of the string values at `paths`.
 *
 * Path syntax as for lg_redact_json(): dotted keys, `[*]`, `[N]`.  A key
 * in a path matches an object key whose decoded value has the same bytes
 * (so `"\u0070rompt"` is `prompt`).  Values at a path that are not
 * strings, and paths that select nothing, give no field.
 *
 * @param paths  npaths NUL-terminated paths (copied); NULL with npaths 0
 *               for lg_redact_json_default_paths().
 * @param npaths their number.
 * @param flags  0 or LG_JSON_REJECT_DUPLICATES.  Without it, each value of
 *               a key given twice is a field (a scanner then sees what
 *               every JSON library could read).
 * @param out    receives the reader, to release with lg_json_reader_free();
 *               NULL on failure.
 * @return LG_OK; LG_E_INVAL (NULL out, a NULL or malformed path, unknown
 *         flags); LG_E_NOMEM.
 *
 * Thread safety: any number of readers may be made concurrently.
 */
LG_API lg_status_t lg_json_reader_new(const char *const *paths,
                                      size_t npaths, uint32_t flags,
                                      lg_json_reader_t **out);

/** Release a reader; NULL is ignored. */
LG_API void lg_json_reader_free(lg_json_reader_t *rd);

/**
 * Make the reader ready for a new document (after lg_json_reader_new()
 * it already is).  Allocates nothing.  NULL is ignored.
 */
LG_API void lg_json_reader_reset(lg_json_reader_t *rd);

/**
 * Read up to the next field of `json`, in document order.
 *
 * Each call validates the document from where the last one stopped
 * (strict RFC 8259: UTF-8, no trailing bytes, any top-level value) up to
 * the end of the next string value that a path selects.  The document
 * is not kept: pass the same `json` and `len` to every call until the end
 * or an error, then lg_json_reader_reset() for the next one.  *found is 0
 * only once the whole document has been read and found valid, so a
 * document is valid only if the last call says so; fields returned before
 * an error came from a document that is not valid JSON.
 *
 * The reader allocates only to decode a value with escapes longer than
 * any decoded before (the buffer is kept): a reader in steady use
 * allocates nothing.  Nesting is tracked in a fixed bit stack, without
 * recursion; the work is linear in `len` times the number of paths.
 *
 * @param rd     the reader; not NULL.
 * @param json   the document; not NULL.
 * @param len    its length (the same at every call for one document).
 * @param f      receives the field; zeroed when there is none.
 * @param found  receives 1 with a field, 0 at the end of a valid document.
 * @return LG_OK; LG_E_INVAL (NULL argument, another len than before, not
 *         valid JSON, a selected key twice under LG_JSON_REJECT_DUPLICATES);
 *         LG_E_LIMIT (arrays and objects nested deeper than
 *         LG_JSON_MAX_DEPTH); LG_E_NOMEM.  After an error every call
 *         returns it again until lg_json_reader_reset(), and
 *         lg_json_reader_offset() says where it is.
 *
 * Thread safety: one thread at a time per reader.
 */
LG_API lg_status_t lg_json_reader_next(lg_json_reader_t *rd,
                                       const char *json, size_t len,
                                       lg_json_field_t *f, int *found);

/**
 * Where the reader is in the current document: after an error, the byte
 * offset of the error (the first byte that is not valid JSON there, `len`
 * if the document ends too soon, the bracket nested too deep, the key
 * given twice); otherwise how far it has read.  0 for NULL.
 */
LG_API size_t lg_json_reader_offset(const lg_json_reader_t *rd);

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
