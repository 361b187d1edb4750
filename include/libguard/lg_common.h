/*
 * libguard: status codes, version, initialisation and memory release.
 *
 * Threading: every function here is safe to call from any thread at any
 * time.  lg_init() is idempotent (pthread_once); the constructors of the
 * other modules call it, so calling it yourself is optional.
 */
#ifndef LG_COMMON_H
#define LG_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Symbol visibility: the library is built with -fvisibility=hidden. */
#if defined(LG_STATIC)
#define LG_API
#elif defined(_WIN32)
#if defined(LG_BUILDING)
#define LG_API __declspec(dllexport)
#else
#define LG_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define LG_API __attribute__((visibility("default")))
#else
#define LG_API
#endif

/** Results of builds, loads and verifications must not be ignored. */
#if defined(__GNUC__)
#define LG_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define LG_WARN_UNUSED
#endif

#define LG_VERSION_MAJOR 0
#define LG_VERSION_MINOR 1
#define LG_VERSION_PATCH 0
/** Version as one number, 0xMMmmpp: compare with `>=`. */
#define LG_VERSION_NUM                                                         \
    ((LG_VERSION_MAJOR << 16) | (LG_VERSION_MINOR << 8) | LG_VERSION_PATCH)

/**
 * Every function that can fail returns one of these.  0 is success and every
 * error is negative.  The list is append-only: a value is never renumbered
 * or reused, so bindings may hard-code them.
 */
typedef enum lg_status {
    LG_OK = 0,
    /** A NULL, zero or out-of-range argument, or unknown flag bits. */
    LG_E_INVAL = -1,
    /** An allocation failed; nothing was changed. */
    LG_E_NOMEM = -2,
    /** A file could not be opened or read. */
    LG_E_IO = -3,
    /** Rule compilation failed: the details are in lg_compiler_diag(). */
    LG_E_COMPILE = -4,
    /** A serialized rules buffer is truncated, corrupt or not ours. */
    LG_E_DB_FORMAT = -5,
    /** A serialized rules buffer is from another format or engine version. */
    LG_E_DB_VERSION = -6,
    /** A serialized rules buffer was built for another CPU platform. */
    LG_E_DB_PLATFORM = -7,
    /** A serialized rules buffer failed its checksum. */
    LG_E_DB_CHECKSUM = -8,
    /** The scratch is already in use by another call (best effort check). */
    LG_E_SCRATCH_IN_USE = -9,
    /** An output buffer is too small: `*needed` holds the size required. */
    LG_E_NOSPACE = -10,
    /** An input exceeds a configured limit (see lg_limits_t). */
    LG_E_LIMIT = -11,
    /** A token is malformed, forged or expired: deliberately one code. */
    LG_E_TOKEN = -12,
    /** The regex engine reported an unexpected failure. */
    LG_E_ENGINE = -13,
    /** An invariant did not hold: a bug in libguard. */
    LG_E_INTERNAL = -14
} lg_status_t;

/**
 * A static, one-line English description of a status code.
 *
 * @param st any value, also one not in the enum.
 * @return never NULL; "unknown status" for values not in the enum.
 */
LG_API const char *lg_strerror(lg_status_t st);

/**
 * The library's version as "MAJOR.MINOR.PATCH", plus the regex engine's
 * version in parentheses.  Static; never NULL.
 */
LG_API const char *lg_version(void);

/**
 * Initialise libsodium and check that the CPU can run the regex engine.
 * Idempotent and thread-safe; every constructor calls it.
 *
 * @return LG_OK, or LG_E_ENGINE if the CPU lacks the instructions the
 *         regex engine needs, or LG_E_INTERNAL if libsodium fails.
 */
LG_API lg_status_t lg_init(void);

/**
 * Release a byte buffer that a lg_* function returned (for example from
 * lg_rules_serialize()).  Never pass such a buffer to free().
 *
 * @param p buffer, or NULL (then nothing happens).
 */
LG_API void lg_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* LG_COMMON_H */
