/*
 * libguard: the rule compiler.  YAML rule packs (format in rules/README.md)
 * go in, one immutable lg_rules_t comes out, holding every pattern in a
 * single Hyperscan database.
 *
 * Threading: a compiler is used by one thread at a time.  Separate
 * compilers may be used concurrently.  After lg_compiler_build() the
 * compiler is frozen: further add_* calls return LG_E_INVAL.
 *
 * Errors: the compiler collects every diagnostic of every input (it does
 * not stop at the first), each with file, line and column from the YAML.
 * A file with any error contributes nothing: it is never half-loaded.
 */
#ifndef LG_COMPILE_H
#define LG_COMPILE_H

#include "lg_common.h"
#include "lg_rules.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lg_compiler lg_compiler_t;

/** lg_compiler_new() flag: treat warnings as errors. */
#define LG_COMPILE_STRICT 0x1u

typedef enum lg_diag_level {
    LG_DIAG_ERROR = 1,
    LG_DIAG_WARNING = 2
} lg_diag_level_t;

/**
 * One diagnostic.  Borrowed from the compiler: valid until it is freed.
 * Messages never quote scanned text or secrets, only positions.
 */
typedef struct lg_diag {
    lg_status_t code;        /**< LG_E_COMPILE, LG_E_IO or LG_E_NOMEM */
    lg_diag_level_t level;
    const char *file;        /**< name given to add_*; "<buffer>" if none */
    uint32_t line;           /**< 1-based; 0 = not positional */
    uint32_t column;         /**< 1-based byte column; 0 = unknown */
    const char *rule_id;     /**< NULL outside a rule */
    const char *message;     /**< one line */
} lg_diag_t;

/**
 * Create a compiler.
 *
 * @param flags 0 or LG_COMPILE_STRICT.
 * @param out   receives the compiler; NULL on failure.
 * @return LG_OK, LG_E_INVAL (NULL out, unknown flag), LG_E_NOMEM, or what
 *         lg_init() returns.
 */
LG_API lg_status_t lg_compiler_new(uint32_t flags, lg_compiler_t **out);

/** Free a compiler and its diagnostics.  NULL is allowed. */
LG_API void lg_compiler_free(lg_compiler_t *c);

/**
 * Add a rule pack from a file.  Diagnostics name the file by `path`.
 *
 * @return LG_OK; LG_E_IO if it cannot be read; LG_E_COMPILE if the file has
 *         errors (nothing from it is kept); LG_E_NOMEM; LG_E_INVAL.
 */
LG_API lg_status_t lg_compiler_add_file(lg_compiler_t *c, const char *path);

/**
 * Add a rule pack from memory.
 *
 * @param name name used in diagnostics and rule info; NULL = "<buffer>".
 * @param yaml,len the YAML text (copied as needed; NUL bytes are an error).
 * @return as lg_compiler_add_file(), without LG_E_IO.
 */
LG_API lg_status_t lg_compiler_add_yaml(lg_compiler_t *c, const char *name,
                                        const char *yaml, size_t len);

/**
 * Compile everything added so far into one rules object and freeze the
 * compiler.  Checks across packs (duplicate ids) and the regex engine's own
 * verdict on each pattern happen here, and every failure is reported.
 *
 * @param out receives the rules with one reference; NULL on failure.
 * @return LG_OK; LG_E_COMPILE if any error was reported, now or by an
 *         earlier add_* call (see lg_compiler_diag()); LG_E_NOMEM;
 *         LG_E_INVAL (NULL argument, or build called twice).
 */
LG_API lg_status_t lg_compiler_build(lg_compiler_t *c,
                                     lg_rules_t **out) LG_WARN_UNUSED;

/** Number of diagnostics collected so far; 0 for NULL. */
LG_API size_t lg_compiler_diag_count(const lg_compiler_t *c);

/** Diagnostic `i`, or NULL past the end.  Borrowed. */
LG_API const lg_diag_t *lg_compiler_diag(const lg_compiler_t *c, size_t i);

/** Number of errors (not warnings) collected so far. */
LG_API size_t lg_compiler_error_count(const lg_compiler_t *c);

/**
 * Format a diagnostic as "file:line:column: error: message [rule id]"
 * (line, column and the rule id are left out when unknown), NUL-terminated.
 *
 * @param buf,cap destination; buf may be NULL when cap is 0.
 * @param needed  receives the length needed including the NUL; may be NULL.
 * @return LG_OK, LG_E_NOSPACE (buf holds a truncated, terminated line if
 *         cap > 0), LG_E_INVAL.
 */
LG_API lg_status_t lg_diag_format(const lg_diag_t *d, char *buf, size_t cap,
                                  size_t *needed);

/**
 * A rule's embedded test case (its `tests: {match, no_match}` lists),
 * kept by the compiler for `guard test`.  Borrowed from the compiler.
 */
typedef struct lg_rule_test {
    const char *rule_id;
    const char *file;
    uint32_t line;         /**< line of the test string in the YAML */
    const char *input;     /**< the test text (NUL-terminated as well) */
    size_t len;
    int expect_match;      /**< 1: from `match`, 0: from `no_match` */
    uint32_t direction;    /**< LG_DIR_* bits to scan with: the rule's applies_to */
} lg_rule_test_t;

/** Number of embedded tests in the packs added without error. */
LG_API size_t lg_compiler_test_count(const lg_compiler_t *c);

/** Embedded test `i`, or NULL past the end.  Borrowed. */
LG_API const lg_rule_test_t *lg_compiler_test(const lg_compiler_t *c,
                                              size_t i);

#ifdef __cplusplus
}
#endif

#endif /* LG_COMPILE_H */
