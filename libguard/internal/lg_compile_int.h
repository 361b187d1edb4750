/*
 * Private to libguard/compile/: the compiler object and the parsed, not yet
 * built rules it holds.  compiler.c owns the object, diagnostics and the
 * build; yaml_rules.c turns one YAML pack into rules; regex_check.c asks
 * the engines about each regex.
 */
#ifndef LG_COMPILE_INT_H
#define LG_COMPILE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/lg_internal.h"

#if defined(__GNUC__)
#define LGI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LGI_PRINTF(f, a)
#endif

/*
 * Where a regex scalar sits in its file.  `vcol` is the column of the
 * value's first byte when the value maps byte for byte onto the source
 * (plain or single-quoted one-line scalars without '' escapes), so that an
 * engine's error offset can be added to it; otherwise 0.
 */
struct lgi_srcpos {
    uint32_t line;
    uint32_t column;
    uint32_t vcol;
};

struct lgi_cpattern {
    char *regex;
    struct lgi_srcpos pos;
};

/* One pack file that was added without error. */
struct lgi_cfile {
    char *name;
    char *pack;
    char *pack_version;
    char *description;
};

/* A rule as parsed from YAML; strings are owned, `file`/`pack` point into
 * the owning lgi_cfile (borrowed: files outlive their rules). */
struct lgi_crule {
    char *id;
    char *description;
    const char *file;
    const char *pack;
    uint32_t line; /* of the `id` key */
    lg_category_t category;
    lg_severity_t severity;
    uint32_t score;
    uint32_t applies_to;
    uint32_t views; /* LG_VIEW_* */
    uint32_t paranoia; /* 1..LG_PARANOIA_MAX */
    uint32_t validate; /* LGI_VAL_* */
    char *entity;      /* or NULL */
    uint32_t flags;
    struct lgi_cpattern *patterns;
    uint32_t npatterns;
    char *confirm;
    struct lgi_srcpos confirm_pos;
    char **tags;
    size_t ntags;
    char **refs;
    size_t nrefs;
};

struct lg_compiler {
    uint32_t flags;
    bool frozen;

    /* Diagnostics are allocated one by one so that the pointers handed out
     * stay valid while more are added. */
    lg_diag_t **diags;
    size_t ndiags;
    size_t capdiags;
    size_t nerrors;
    bool diag_lost; /* a diagnostic could not be stored: see nomem */

    struct lgi_cfile **files;
    size_t nfiles;
    size_t capfiles;

    struct lgi_crule *rules;
    size_t nrules;
    size_t caprules;

    /* Open-addressing set of rule indices + 1 (0 = empty), keyed by id. */
    uint32_t *idtab;
    size_t idcap; /* power of two, or 0 */

    lg_rule_test_t **tests;
    size_t ntests;
    size_t captests;
};

/* Record a diagnostic.  A warning becomes an error under
 * LG_COMPILE_STRICT.  Never fails: on OOM the static "out of memory"
 * diagnostic is reported instead. */
LGI_HIDDEN void lgi_diag_add(lg_compiler_t *c, lg_status_t code,
                             lg_diag_level_t level, const char *file,
                             uint32_t line, uint32_t column,
                             const char *rule_id, const char *fmt, ...)
    LGI_PRINTF(8, 9);
LGI_HIDDEN void lgi_diag_addv(lg_compiler_t *c, lg_status_t code,
                              lg_diag_level_t level, const char *file,
                              uint32_t line, uint32_t column,
                              const char *rule_id, const char *fmt, va_list ap)
    LGI_PRINTF(8, 0);

LGI_HIDDEN void lgi_crule_clear(struct lgi_crule *r);
LGI_HIDDEN void lgi_cfile_free(struct lgi_cfile *f);

/* Index of the accepted rule with this id, or -1. */
LGI_HIDDEN long lgi_rule_lookup(const lg_compiler_t *c, const char *id);

/*
 * Take over a validated file: its rules (moved, the array is emptied) and
 * tests.  Either everything is added, or nothing and LG_E_NOMEM.
 */
LGI_HIDDEN lg_status_t lgi_commit(lg_compiler_t *c, struct lgi_cfile *file,
                                  struct lgi_crule *rules, size_t nrules,
                                  lg_rule_test_t **tests, size_t ntests);

/* The body of lg_compiler_add_yaml() once the arguments are checked. */
LGI_HIDDEN lg_status_t lgi_yaml_add(lg_compiler_t *c, const char *name,
                                    const unsigned char *yaml, size_t len);

/* The column an engine error offset points at (see lgi_srcpos). */
LGI_HIDDEN uint32_t lgi_srcpos_col(const struct lgi_srcpos *p, size_t off);

/*
 * Check one pattern as the build will (lgi_pattern_prepare() with the
 * LG_PAT_* `flags`, and the empty-buffer rule).  On rejection returns
 * LG_E_COMPILE with a one-line message in msg and, when the engine gave
 * one, the byte offset in *off (else SIZE_MAX).
 */
LGI_HIDDEN lg_status_t lgi_check_pattern(const char *regex, uint32_t flags,
                                         char *msg, size_t cap, size_t *off);

/* A full Hyperscan compile of one pattern, for attributing a failure of
 * the combined build; same outputs. */
LGI_HIDDEN lg_status_t lgi_check_hs(const char *regex, uint32_t flags,
                                    char *msg, size_t cap, size_t *off);

/* Turn Hyperscan's message into ours (msg) and the offset it names. */
LGI_HIDDEN void lgi_hs_message(const char *raw, char *msg, size_t cap,
                               size_t *off);

/* The same for a PCRE2 confirm regex; *off is always set on rejection. */
LGI_HIDDEN lg_status_t lgi_check_pcre2(const char *regex, uint32_t flags,
                                       char *msg, size_t cap, size_t *off);

#endif /* LG_COMPILE_INT_H */
