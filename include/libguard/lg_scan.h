/*
 * libguard: scanning text against compiled rules, and the verdict policy.
 *
 * Threading: a scratch belongs to one thread (or one in-flight request) at
 * a time.  Create one per worker thread from shared rules.  Using a scratch
 * that is already busy returns LG_E_SCRATCH_IN_USE (a best-effort check).
 * lg_policy_t and lg_limits_t are plain data owned by the caller.
 *
 * Memory: lg_scratch_new() allocates what any scan needs; the buffers that
 * depend on the input (the sanitized copy of invalid UTF-8, the normalized
 * views, decoded payloads) grow on the first input that needs them larger
 * than before and are kept, so a scratch in steady use allocates nothing.
 */
#ifndef LG_SCAN_H
#define LG_SCAN_H

#include "lg_common.h"
#include "lg_leak.h"
#include "lg_rules.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lg_scratch lg_scratch_t;

/** The verdict of a scan, in increasing order of severity. */
typedef enum lg_verdict {
    LG_VERDICT_ALLOW = 0,
    LG_VERDICT_FLAG = 1,
    LG_VERDICT_BLOCK = 2
} lg_verdict_t;

/** The verdict's name: "allow", "flag", "block"; NULL if not defined. */
LG_API const char *lg_verdict_name(lg_verdict_t v);

/**
 * How findings become a verdict: anomaly scoring per category.
 *
 * Each finding adds its rule's score to its category once per rule (a rule
 * matching ten times counts once).  A category whose score reaches its
 * `block_at` gives BLOCK; one reaching `flag_at` gives FLAG.  The total of
 * all categories is compared with `total_block_at` / `total_flag_at` too.
 * A threshold of 0 is disabled.  The verdict is the highest reached.
 *
 * In detection-only mode (`detect_only` nonzero) the verdict never exceeds
 * FLAG; lg_result_t.would_block says whether it would have blocked.
 *
 * Rules above the policy's paranoia level are skipped.
 *
 * Defaults (lg_policy_init()): paranoia level 1; every category flags at 1
 * (any finding);
 * injection, hijacking, leakage, secret, exfiltration and harmful block at
 * 5, so one critical rule or two medium ones block; pii and the moderation
 * categories only flag; totals are disabled.
 */
typedef struct lg_policy {
    uint32_t detect_only;
    uint32_t flag_at[LG_CATEGORY_MAX];
    uint32_t block_at[LG_CATEGORY_MAX];
    uint32_t total_flag_at;
    uint32_t total_block_at;
    uint32_t paranoia;       /**< 1..LG_PARANOIA_MAX (default 1; 0 is
                                  taken as 1): rules whose `paranoia` is
                                  higher are not run */
} lg_policy_t;

/** Fill `p` with the default policy.  NULL is ignored. */
LG_API void lg_policy_init(lg_policy_t *p);

/**
 * Per-scratch limits.  A scan that would exceed one returns LG_E_LIMIT
 * (input size) or stops and sets lg_result_t.truncated (findings,
 * confirmations), so hostile input bounds time and memory.
 */
typedef struct lg_limits {
    size_t max_input;           /**< bytes; default 64 MiB (inputs of
                                     4 GiB or more are refused whatever
                                     this says: the engine's limit) */
    uint32_t max_findings;      /**< findings kept per scan; default 1024 */
    uint32_t max_matches;       /**< raw engine matches examined per scan;
                                     default 65536 */
    uint32_t pcre_match_limit;  /**< PCRE2 match limit per confirmation;
                                     default 100000 */
    uint32_t pcre_depth_limit;  /**< PCRE2 depth limit; default 10000 */
    uint32_t views;             /**< LG_VIEW_* bits to build and scan;
                                     default LG_VIEW_ALL.  A rule is matched
                                     in the views it declares that are
                                     enabled here.  Must include
                                     LG_VIEW_RAW. */
    uint32_t max_decode_depth;  /**< layers of nested encoding decoded,
                                     1..8; default 3 */
    uint32_t confirm_budget_us; /**< wall-clock time a scan may spend in
                                     PCRE2 confirmations, in microseconds;
                                     default 20000.  Beyond it the remaining
                                     candidates are not confirmed (not
                                     reported) and the result is marked
                                     truncated. */
    size_t max_decode_bytes;    /**< decoded bytes per scan, all layers
                                     together (also never more than three
                                     times the input's length, which any
                                     chain of base64 fits); default 1 MiB.
                                     Beyond
                                     it, payloads are skipped and the result
                                     is marked truncated. */
    size_t stream_step;         /**< stream mode: bytes that must be
                                     pending before lg_stream_feed() scans
                                     them; default 512 */
    size_t stream_window;       /**< stream mode: bytes already scanned
                                     that each stream scan reads again
                                     before the pending ones, so that a
                                     match across the boundary is found;
                                     default 512 (0 is allowed) */
} lg_limits_t;

/** Fill `l` with the default limits.  NULL is ignored. */
LG_API void lg_limits_init(lg_limits_t *l);

/**
 * A finding: one rule matched the span [start, end) of the input.
 * Overlapping matches of one rule are merged into one finding.
 */
typedef struct lg_finding {
    uint32_t rule;          /**< index for lg_rules_info() / lg_rules_id() */
    lg_category_t category;
    lg_severity_t severity;
    uint32_t score;
    size_t start;           /**< byte offset in the input */
    size_t end;             /**< exclusive */
    uint32_t views;         /**< LG_VIEW_* bits of the views it was found
                                 in (after merging) */
} lg_finding_t;

/**
 * A finding's `rule` when it comes from the scratch's leak detector
 * (lg_scratch_set_leak()) rather than from a rule: category leakage,
 * severity critical.  lg_rules_info() does not describe it.
 */
#define LG_RULE_LEAK UINT32_MAX

/** The outcome of a scan.  `findings` is borrowed from the scratch. */
typedef struct lg_result {
    lg_verdict_t verdict;
    uint32_t would_block;   /**< policy reached BLOCK (also in detect-only) */
    uint32_t categories;    /**< bit (1u << category) for each category found */
    uint32_t score;         /**< total anomaly score */
    uint32_t truncated;     /**< a findings or match limit was reached */
    size_t nfindings;
    const lg_finding_t *findings; /**< sorted by start, then rule; valid until
                                       the next call on the scratch */
} lg_result_t;

/**
 * Create a scratch for scanning with `r`.  The scratch takes a reference to
 * the rules, so the two can never be mismatched.
 *
 * @param r      rules; not NULL.
 * @param limits limits to apply; NULL for the defaults.  Copied.
 * @param out    receives the scratch; NULL on failure.
 * @return LG_OK, LG_E_INVAL (NULL argument, a zero limit, views without
 *         LG_VIEW_RAW or with unknown bits, max_decode_depth above 8),
 *         LG_E_NOMEM,
 *         LG_E_ENGINE.
 */
LG_API lg_status_t lg_scratch_new(lg_rules_t *r, const lg_limits_t *limits,
                                  lg_scratch_t **out);

/** Free a scratch and drop its reference to the rules.  NULL is allowed. */
LG_API void lg_scratch_free(lg_scratch_t *s);

/**
 * Attach a leak detector (borrowed: keep it alive while attached), or
 * detach with NULL.  Every later scan in the completion direction reports
 * each leaked fragment as a finding with rule LG_RULE_LEAK, so that a
 * completion repeating the system prompt, or carrying its canary, is
 * blocked under the default policy.
 *
 * @return LG_OK, LG_E_INVAL (NULL scratch), LG_E_SCRATCH_IN_USE.
 */
LG_API lg_status_t lg_scratch_set_leak(lg_scratch_t *s,
                                       const lg_leak_t *leak);

/**
 * The hosts that links and images in scanned text may point to, for the
 * rules that check URLs (`validate: offsite-url`, as the exfiltration
 * pack's do): each entry allows that host and its subdomains
 * ("example.com" allows "cdn.example.com").  Copied, lower-cased; replaces
 * the previous list; n = 0 clears it.  On error the list is unchanged.
 *
 * @return LG_OK, LG_E_INVAL (NULL scratch, NULL hosts with n > 0, an empty
 *         name, one longer than 253 bytes, or with a byte other than
 *         A-Z a-z 0-9 . -), LG_E_NOMEM, LG_E_SCRATCH_IN_USE.
 */
LG_API lg_status_t lg_scratch_allow_hosts(lg_scratch_t *s,
                                          const char *const *hosts, size_t n);

/** The rules a scratch scans with (borrowed). */
LG_API const lg_rules_t *lg_scratch_rules(const lg_scratch_t *s);

/**
 * Scan one buffer (block mode).
 *
 * The input may hold any bytes: NUL bytes are data, and invalid UTF-8 is
 * scanned as if each invalid byte were a control character, so offsets
 * still refer to the original bytes.
 *
 * The raw bytes are matched first.  Then, for the rules that declare them
 * (and as far as the scratch's limits.views allows), the normalized view,
 * the leet view and each decoded payload are built and matched, but only
 * when they differ from what was already matched: plain ASCII text with
 * nothing to normalize costs one pass.  Every finding's offsets point into
 * `data`, whichever view it came from.
 *
 * @param s      scratch; not NULL; not in use by another call.
 * @param data   input bytes; may be NULL only when len is 0.
 * @param len    input length; at most the scratch's max_input.
 * @param dir    LG_DIR_PROMPT, LG_DIR_COMPLETION or both: only rules whose
 *               applies_to shares a bit are reported.
 * @param policy verdict policy; NULL for the defaults.
 * @param out    receives the result; zeroed on failure.
 * @return LG_OK; LG_E_INVAL (also a policy paranoia level above
 *         LG_PARANOIA_MAX); LG_E_LIMIT (input larger than max_input);
 *         LG_E_SCRATCH_IN_USE; LG_E_NOMEM (growing the scratch's buffers);
 *         LG_E_ENGINE.
 */
LG_API lg_status_t lg_scan(lg_scratch_t *s, const void *data, size_t len,
                           uint32_t dir, const lg_policy_t *policy,
                           lg_result_t *out);

/**
 * Stream mode: a text that arrives in pieces, such as a completion streamed
 * as server-sent events, scanned as it grows so that an attack or a leak is
 * caught before the whole text has been passed on.
 *
 * A stream keeps the text it was fed (at most the scratch's max_input) and
 * its findings so far; it holds no scratch, so one scratch per worker can
 * serve many streams in turn, each call taking the scratch it should use
 * (made from the same rules).  A stream belongs to one thread at a time.
 *
 * lg_stream_feed() appends bytes and, once at least limits.stream_step
 * bytes are pending, scans them together with the limits.stream_window
 * bytes before them.  It holds back an unfinished last word (up to 64
 * bytes) so that a word cut in two is not matched as a whole ("pass" of
 * "password"), and a window starts at a word; lg_stream_flush() scans
 * everything pending now (a flush inside a word may report a match that
 * the rest of the word undoes: the final result does not have it).  lg_stream_scanned()
 * tells how far the text has been scanned: a proxy passes on only that
 * much.  Findings seen while streaming accumulate, and each result gives
 * the verdict over all of them.
 *
 * lg_stream_close() scans the whole text once more, as lg_scan() would,
 * and that result is the final one: its findings are exactly lg_scan()'s
 * on the concatenated text, whatever the chunking.  Findings reported
 * earlier come from partial views of the text; a match longer than the
 * window, or one that depends on text after it (a confirmation with a
 * lookahead), may be reported differently in the final result.
 *
 * Cost: about (stream_window + stream_step) / stream_step times a block
 * scan of the text while streaming, plus one block scan at the end.
 */
typedef struct lg_stream lg_stream_t;

/**
 * Create a stream over rules `r` (retained) scanning in direction `dir`
 * with `policy` (NULL for the defaults; copied).
 *
 * @return LG_OK, LG_E_INVAL (NULL r or out, bad dir or paranoia level),
 *         LG_E_NOMEM.
 */
LG_API lg_status_t lg_stream_new(lg_rules_t *r, uint32_t dir,
                                 const lg_policy_t *policy,
                                 lg_stream_t **out);

/**
 * Append `len` bytes and scan what is pending if it has grown to
 * limits.stream_step.  `out` receives the verdict over every finding so
 * far; its findings are borrowed from the stream (valid until the next call
 * on it).  On error nothing is appended and the stream is as before.
 *
 * @param st   stream; not closed.
 * @param s    scratch made from the stream's rules; not in use.
 * @return LG_OK; LG_E_INVAL (NULL argument, closed stream, a scratch with
 *         other rules); LG_E_LIMIT (the text would exceed max_input);
 *         LG_E_SCRATCH_IN_USE; LG_E_NOMEM; LG_E_ENGINE.
 */
LG_API lg_status_t lg_stream_feed(lg_stream_t *st, lg_scratch_t *s,
                                  const void *data, size_t len,
                                  lg_result_t *out);

/** Scan every pending byte now (as lg_stream_feed()). */
LG_API lg_status_t lg_stream_flush(lg_stream_t *st, lg_scratch_t *s,
                                   lg_result_t *out);

/**
 * End the stream: scan its whole text in block mode and give that result,
 * exactly lg_scan()'s on the same bytes.  The stream then refuses feeding
 * until lg_stream_reset().  On error the stream stays open.
 */
LG_API lg_status_t lg_stream_close(lg_stream_t *st, lg_scratch_t *s,
                                   lg_result_t *out);

/** Bytes fed so far. */
LG_API size_t lg_stream_length(const lg_stream_t *st);

/** Bytes scanned so far, from the start (all of them once closed). */
LG_API size_t lg_stream_scanned(const lg_stream_t *st);

/** Empty the stream for another text, keeping its buffers. */
LG_API void lg_stream_reset(lg_stream_t *st);

/** Free a stream.  NULL is allowed. */
LG_API void lg_stream_free(lg_stream_t *st);

#ifdef __cplusplus
}
#endif

#endif /* LG_SCAN_H */
