/*
 * Every allocation in the library goes through these, so that an
 * LG_TESTING build can fail the Nth one (allocation-failure torture).
 */
#include <stdlib.h>
#include <string.h>

#include "internal/lg_internal.h"

void *
lgi_malloc(size_t n)
{
    return malloc(n == 0 ? 1 : n);
}

void *
lgi_calloc(size_t n, size_t size)
{
    if (n == 0 || size == 0) {
        return calloc(1, 1);
    }
    return calloc(n, size);
}

void *
lgi_realloc(void *p, size_t n)
{
    return realloc(p, n == 0 ? 1 : n);
}

void
lgi_free(void *p)
{
    free(p);
}

char *
lgi_strndup(const char *s, size_t n)
{
    char *d = lgi_malloc(n + 1);

    if (d == NULL) {
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
lgi_strdup(const char *s)
{
    return lgi_strndup(s, strlen(s));
}

void
lg_free(void *p)
{
    lgi_free(p);
}
