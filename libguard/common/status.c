/* Status strings, version, names of enum values, and initialisation. */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "internal/lg_internal.h"

const char *
lg_strerror(lg_status_t st)
{
    switch (st) {
    case LG_OK:
        return "success";
    case LG_E_INVAL:
        return "invalid argument";
    case LG_E_NOMEM:
        return "out of memory";
    case LG_E_IO:
        return "input/output error";
    case LG_E_COMPILE:
        return "rule compilation failed";
    case LG_E_DB_FORMAT:
        return "serialized rules are truncated, corrupt or not a libguard "
               "rules file";
    case LG_E_DB_VERSION:
        return "serialized rules were made by an incompatible version";
    case LG_E_DB_PLATFORM:
        return "serialized rules were built for another CPU platform";
    case LG_E_DB_CHECKSUM:
        return "serialized rules are corrupt (checksum mismatch)";
    case LG_E_SCRATCH_IN_USE:
        return "scratch is in use by another call";
    case LG_E_NOSPACE:
        return "output buffer too small";
    case LG_E_LIMIT:
        return "input exceeds a configured limit";
    case LG_E_TOKEN:
        return "invalid token";
    case LG_E_ENGINE:
        return "regex engine error";
    case LG_E_INTERNAL:
        return "internal error";
    }
    return "unknown status";
}

const char *
lg_version(void)
{
#ifdef LG_ENGINE_VERSION_STR
#define LGI_ENGINE " (hyperscan " LG_ENGINE_VERSION_STR ")"
#else
#define LGI_ENGINE ""
#endif
#define LGI_STR2(x) #x
#define LGI_STR(x) LGI_STR2(x)
    return LGI_STR(LG_VERSION_MAJOR) "." LGI_STR(LG_VERSION_MINOR) "." LGI_STR(
        LG_VERSION_PATCH) LGI_ENGINE;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static lg_status_t init_status = LG_E_INTERNAL;

static void
init_run(void)
{
    if (sodium_init() < 0) {
        init_status = LG_E_INTERNAL; /* LCOV_EXCL_LINE */
        return;                      /* LCOV_EXCL_LINE */
    }
    /* Hyperscan needs SSSE3 at least; refuse cleanly instead of SIGILL. */
    if (hs_valid_platform() != HS_SUCCESS) {
        init_status = LG_E_ENGINE;
        return;
    }
    init_status = LG_OK;
}

lg_status_t
lg_init(void)
{
    if (pthread_once(&init_once, init_run) != 0) {
        return LG_E_INTERNAL; /* LCOV_EXCL_LINE */
    }
    return init_status;
}

static const char *const category_names[LG_CATEGORY_COUNT] = {
    [LG_CAT_INJECTION] = "injection",
    [LG_CAT_HIJACKING] = "hijacking",
    [LG_CAT_LEAKAGE] = "leakage",
    [LG_CAT_PII] = "pii",
    [LG_CAT_SECRET] = "secret",
    [LG_CAT_EXFILTRATION] = "exfiltration",
    [LG_CAT_HARMFUL] = "harmful",
    [LG_CAT_MOD_HATE] = "moderation/hate",
    [LG_CAT_MOD_HARASSMENT] = "moderation/harassment",
    [LG_CAT_MOD_VIOLENCE] = "moderation/violence",
    [LG_CAT_MOD_SELF_HARM] = "moderation/self-harm",
    [LG_CAT_MOD_SEXUAL] = "moderation/sexual",
    [LG_CAT_MOD_SEXUAL_MINORS] = "moderation/sexual-minors",
    [LG_CAT_MOD_PROFANITY] = "moderation/profanity",
};

const char *
lg_category_name(lg_category_t c)
{
    if ((unsigned)c >= LG_CATEGORY_COUNT) {
        return NULL;
    }
    return category_names[c];
}

lg_status_t
lg_category_parse(const char *name, size_t len, lg_category_t *out)
{
    if (name == NULL || out == NULL) {
        return LG_E_INVAL;
    }
    for (unsigned i = 0; i < LG_CATEGORY_COUNT; i++) {
        if (strlen(category_names[i]) == len &&
            memcmp(category_names[i], name, len) == 0) {
            *out = (lg_category_t)i;
            return LG_OK;
        }
    }
    return LG_E_INVAL;
}

const char *
lg_severity_name(lg_severity_t s)
{
    switch (s) {
    case LG_SEVERITY_LOW:
        return "low";
    case LG_SEVERITY_MEDIUM:
        return "medium";
    case LG_SEVERITY_HIGH:
        return "high";
    case LG_SEVERITY_CRITICAL:
        return "critical";
    }
    return NULL;
}

const char *
lg_view_name(uint32_t view)
{
    switch (view) {
    case LG_VIEW_RAW:
        return "raw";
    case LG_VIEW_NORMALIZED:
        return "normalized";
    case LG_VIEW_LEET:
        return "leet";
    case LG_VIEW_DECODED:
        return "decoded";
    default:
        return NULL;
    }
}

uint32_t
lgi_severity_score(lg_severity_t s)
{
    /* Core Rule Set anomaly scores: notice 2, warning 3, error 4,
     * critical 5. */
    switch (s) {
    case LG_SEVERITY_LOW:
        return 2;
    case LG_SEVERITY_MEDIUM:
        return 3;
    case LG_SEVERITY_HIGH:
        return 4;
    case LG_SEVERITY_CRITICAL:
        return 5;
    }
    return 0;
}

const char *
lg_verdict_name(lg_verdict_t v)
{
    switch (v) {
    case LG_VERDICT_ALLOW:
        return "allow";
    case LG_VERDICT_FLAG:
        return "flag";
    case LG_VERDICT_BLOCK:
        return "block";
    }
    return NULL;
}
