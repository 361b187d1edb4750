/*
 * The Redis backend: GCRA in one Lua script, run with EVALSHA over a
 * synchronous hiredis connection (see lg_rl_redis_t in lg_ratelimit.h).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "internal/lg_internal.h"
#include "internal/lg_ratelimit_int.h"

/*
 * KEYS[1] the bucket; ARGV interval_ns, burst, cost, clock step ns.
 * Returns {allowed, retry_after_ns, reset_after_ns, remaining}.
 *
 * The same arithmetic as lgi_rl_decide(), on the debt (tat - now, ns).
 * Lua numbers are doubles: the times are kept in microseconds (Redis
 * TIME; 1.8e15 now, exact below 2^53) and the debt in nanoseconds, which
 * stays below 2 * span + step < 2^53 (LGI_RL_REDIS_MAX_SPAN), so every
 * value the script keeps or returns is an exact integer.  The value is
 * written with %.0f, not tostring(), which would round to 14 digits.
 */
static const char lgi_rl_script[] =
    "local T = tonumber(ARGV[1])\n"
    "local burst = tonumber(ARGV[2])\n"
    "local cost = tonumber(ARGV[3])\n"
    "local step = tonumber(ARGV[4])\n"
    "local span = T * burst\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local debt = 0\n"
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then\n"
    "  local last, d = string.match(v, '^(%d+) (%d+)$')\n"
    "  if not last then\n"
    "    return redis.error_reply('libguard: malformed bucket')\n"
    "  end\n"
    "  debt = tonumber(d) - (now - tonumber(last)) * 1000\n"
    "end\n"
    "local repaired = false\n"
    "if debt > span + step then\n"
    "  debt = span\n"
    "  repaired = true\n"
    "elseif debt < 0 then\n"
    "  debt = 0\n"
    "end\n"
    "local inc = cost * T\n"
    "local allowed = 1\n"
    "local retry = 0\n"
    "if inc > 0 and debt + inc > span then\n"
    "  allowed = 0\n"
    "  retry = debt + inc - span\n"
    "else\n"
    "  debt = debt + inc\n"
    "end\n"
    "if (allowed == 1 and inc > 0) or repaired then\n"
    "  redis.call('SET', KEYS[1], string.format('%.0f %.0f', now, debt),\n"
    "             'PX', math.floor(debt / 1000000) + 1)\n"
    "end\n"
    "local left = 0\n"
    "if debt < span then left = math.floor((span - debt) / T) end\n"
    "return {allowed, retry, debt, left}\n";

/* The script's largest value, debt + cost * interval <= 2 * span + step,
 * stays below 2^53, where doubles hold every integer exactly. */
#define LGI_RL_REDIS_MAX_SPAN ((UINT64_C(1) << 52) - LG_RL_CLOCK_STEP)

struct lg_rl_redis {
    pthread_mutex_t lock;
    char *host;
    char *prefix;
    size_t prefixlen;
    uint16_t port;
    uint32_t timeout_ms;
    uint32_t retry_ms;
    uint32_t fail_open;
    redisContext *c;
    char sha[41];            /* of lgi_rl_script, from SCRIPT LOAD */
    uint64_t down_until;     /* CLOCK_MONOTONIC ns; no reconnect before */
    char *keybuf;            /* prefix + key */
    size_t keycap;
    char err[160];
};

static uint64_t
mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * LG_RL_SECOND + (uint64_t)ts.tv_nsec;
}

void
lg_rl_redis_config_init(lg_rl_redis_config_t *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof(*cfg));
    cfg->host = "127.0.0.1";
    cfg->port = 6379;
    cfg->timeout_ms = 50;
    cfg->retry_interval_ms = 1000;
    cfg->fail_open = 0;
    cfg->key_prefix = "lg:rl:";
}

void
lg_rl_redis_free(lg_rl_redis_t *r)
{
    if (r == NULL) {
        return;
    }
    if (r->c != NULL) {
        redisFree(r->c);
    }
    pthread_mutex_destroy(&r->lock);
    lgi_free(r->keybuf);
    lgi_free(r->prefix);
    lgi_free(r->host);
    lgi_free(r);
}

lg_status_t
lg_rl_redis_new(const lg_rl_redis_config_t *cfg, lg_rl_redis_t **out)
{
    lg_rl_redis_t *r;
    const char *prefix;

    if (out == NULL) {
        return LG_E_INVAL;
    }
    *out = NULL;
    if (cfg == NULL || cfg->host == NULL || cfg->host[0] == '\0' ||
        cfg->timeout_ms == 0 || cfg->fail_open > 1) {
        return LG_E_INVAL;
    }
    prefix = cfg->key_prefix != NULL ? cfg->key_prefix : "";
    r = lgi_calloc(1, sizeof(*r));
    if (r == NULL) {
        return LG_E_NOMEM;
    }
    r->host = lgi_strdup(cfg->host);
    r->prefix = lgi_strdup(prefix);
    if (r->host == NULL || r->prefix == NULL ||
        pthread_mutex_init(&r->lock, NULL) != 0) {
        lgi_free(r->prefix);
        lgi_free(r->host);
        lgi_free(r);
        return LG_E_NOMEM;
    }
    r->prefixlen = strlen(prefix);
    r->port = cfg->port;
    r->timeout_ms = cfg->timeout_ms;
    r->retry_ms = cfg->retry_interval_ms;
    r->fail_open = cfg->fail_open;
    *out = r;
    return LG_OK;
}

const char *
lg_rl_redis_error(const lg_rl_redis_t *r)
{
    return r != NULL ? r->err : "";
}

/* Drop the connection after a failure and hold off reconnecting. */
static void
fail(lg_rl_redis_t *r, const char *what, const char *detail)
{
    snprintf(r->err, sizeof(r->err), "%s%s%s", what,
             detail != NULL && detail[0] != '\0' ? ": " : "",
             detail != NULL ? detail : "");
    if (r->c != NULL) {
        redisFree(r->c);
        r->c = NULL;
    }
    r->down_until = mono_ns() + (uint64_t)r->retry_ms * 1000000u;
}

static int
connect_redis(lg_rl_redis_t *r)
{
    struct timeval tv;
    redisReply *rep;

    if (mono_ns() < r->down_until) {
        return -1; /* r->err still says why */
    }
    tv.tv_sec = (time_t)(r->timeout_ms / 1000);
    tv.tv_usec = (suseconds_t)(r->timeout_ms % 1000) * 1000;
    r->c = redisConnectWithTimeout(r->host, r->port, tv);
    if (r->c == NULL) {
        fail(r, "cannot connect", "out of memory");
        return -1;
    }
    if (r->c->err != 0) {
        fail(r, "cannot connect", r->c->errstr);
        return -1;
    }
    if (redisSetTimeout(r->c, tv) != REDIS_OK ||
        redisEnableKeepAlive(r->c) != REDIS_OK) {
        fail(r, "cannot set up the connection", r->c->errstr);
        return -1;
    }
    rep = redisCommand(r->c, "SCRIPT LOAD %s", lgi_rl_script);
    if (rep == NULL) {
        fail(r, "SCRIPT LOAD", r->c->errstr);
        return -1;
    }
    if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
        fail(r, "SCRIPT LOAD",
             rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        freeReplyObject(rep);
        return -1;
    }
    memcpy(r->sha, rep->str, 40);
    r->sha[40] = '\0';
    freeReplyObject(rep);
    return 0;
}

static void
degrade(const lg_rl_redis_t *r, lg_rl_result_t *out)
{
    memset(out, 0, sizeof(*out));
    out->flags = LG_RL_R_DEGRADED;
    if (r->fail_open) {
        out->allowed = 1;
    } else {
        /* Retry when a reconnect will be tried; never 0 for a denial. */
        out->retry_after_ns = (uint64_t)r->retry_ms * 1000000u;
        if (out->retry_after_ns == 0) {
            out->retry_after_ns = 1;
        }
    }
}

/* Queue EVALSHA (or EVAL) for one request; -1 when hiredis fails. */
static int
append(lg_rl_redis_t *r, const lg_rl_limit_t *limit, const lg_rl_request_t *q,
       int use_eval)
{
    char a_int[24], a_burst[24], a_cost[16], a_step[24];
    const char *argv[8];
    size_t argvlen[8], need;

    if (lgi_add_overflow(r->prefixlen, q->keylen, &need)) {
        return -2;
    }
    if (need > r->keycap) {
        char *nb = lgi_realloc(r->keybuf, need);

        if (nb == NULL) {
            return -2;
        }
        r->keybuf = nb;
        r->keycap = need;
    }
    memcpy(r->keybuf, r->prefix, r->prefixlen);
    if (q->keylen > 0) {
        memcpy(r->keybuf + r->prefixlen, q->key, q->keylen);
    }
    snprintf(a_int, sizeof(a_int), "%llu",
             (unsigned long long)limit->interval_ns);
    snprintf(a_burst, sizeof(a_burst), "%llu",
             (unsigned long long)limit->burst);
    snprintf(a_cost, sizeof(a_cost), "%lu", (unsigned long)q->cost);
    snprintf(a_step, sizeof(a_step), "%llu",
             (unsigned long long)LG_RL_CLOCK_STEP);
    argv[0] = use_eval ? "EVAL" : "EVALSHA";
    argv[1] = use_eval ? lgi_rl_script : r->sha;
    argv[2] = "1";
    argv[3] = r->keybuf;
    argv[4] = a_int;
    argv[5] = a_burst;
    argv[6] = a_cost;
    argv[7] = a_step;
    for (int i = 0; i < 8; i++) {
        argvlen[i] = i == 3 ? need : strlen(argv[i]); /* keybuf: no NUL */
    }
    /* The command is formatted into hiredis' buffer now: keybuf is free
     * for the next request. */
    return redisAppendCommandArgv(r->c, 8, argv, argvlen) == REDIS_OK ? 0 : -1;
}

/* One script reply into `out`; 1 on NOSCRIPT, -1 on another error. */
static int
parse(lg_rl_redis_t *r, const redisReply *rep, lg_rl_result_t *out)
{
    memset(out, 0, sizeof(*out));
    if (rep->type == REDIS_REPLY_ERROR) {
        if (strncmp(rep->str, "NOSCRIPT", 8) == 0) {
            return 1;
        }
        snprintf(r->err, sizeof(r->err), "redis: %.*s",
                 (int)(rep->len < 120 ? rep->len : 120), rep->str);
        return -1;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 4) {
        snprintf(r->err, sizeof(r->err), "redis: unexpected script reply");
        return -1;
    }
    for (size_t i = 0; i < 4; i++) {
        if (rep->element[i]->type != REDIS_REPLY_INTEGER ||
            rep->element[i]->integer < 0) {
            snprintf(r->err, sizeof(r->err), "redis: unexpected script reply");
            return -1;
        }
    }
    out->allowed = rep->element[0]->integer != 0;
    out->retry_after_ns = (uint64_t)rep->element[1]->integer;
    out->reset_after_ns = (uint64_t)rep->element[2]->integer;
    out->remaining = (uint64_t)rep->element[3]->integer;
    return 0;
}

/*
 * Send the requests whose pending[i] is set and read their replies into
 * out[i].  pending[i] is cleared when out[i] is final (decided, or
 * degraded after an error reply); it stays set for NOSCRIPT replies, and
 * `*noscript` counts them.  Returns 0, -1 after a connection failure
 * (the connection is dropped; unanswered requests are still pending), or
 * -2 when out of memory.
 */
static int
round_trip(lg_rl_redis_t *r, const lg_rl_limit_t *limit,
           const lg_rl_request_t *reqs, size_t n, unsigned char *pending,
           int use_eval, lg_rl_result_t *out, size_t *noscript)
{
    size_t sent = 0;
    int rc;

    *noscript = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pending[i]) {
            continue;
        }
        rc = append(r, limit, &reqs[i], use_eval);
        if (rc == -2) {
            /* Queued commands cannot be taken back: drop the connection. */
            fail(r, "out of memory", NULL);
            return -2;
        }
        if (rc != 0) {
            fail(r, "cannot send", r->c->errstr);
            return -1;
        }
        sent++;
    }
    for (size_t i = 0; i < n && sent > 0; i++) {
        void *p = NULL;
        redisReply *rep;

        if (!pending[i]) {
            continue;
        }
        if (redisGetReply(r->c, &p) != REDIS_OK || p == NULL) {
            fail(r, "no reply", r->c->errstr);
            return -1;
        }
        rep = p;
        rc = parse(r, rep, &out[i]);
        freeReplyObject(rep);
        sent--;
        if (rc == 1) {
            (*noscript)++;
            continue;
        }
        if (rc < 0) {
            degrade(r, &out[i]); /* an error reply: the connection is fine */
        }
        pending[i] = 0;
    }
    return 0;
}

/*
 * hiredis writes with write(2): a write to a connection Redis has closed
 * raises SIGPIPE, whose default action kills the process.  A library may
 * not change the process's signal dispositions, so SIGPIPE is blocked in
 * this thread around the I/O and a SIGPIPE raised meanwhile is consumed.
 */
struct lgi_sigpipe {
    sigset_t old;
    int was_pending;
};

static void
sigpipe_block(struct lgi_sigpipe *s)
{
    sigset_t set, pend;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigemptyset(&pend);
    sigpending(&pend);
    s->was_pending = sigismember(&pend, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set, &s->old);
}

static void
sigpipe_restore(struct lgi_sigpipe *s)
{
    sigset_t set, pend;
    struct timespec zero = {0, 0};

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigemptyset(&pend);
    if (!s->was_pending && sigpending(&pend) == 0 &&
        sigismember(&pend, SIGPIPE) == 1) {
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &s->old, NULL);
}

lg_status_t
lg_rl_redis_decide_many(lg_rl_redis_t *r, const lg_rl_limit_t *limit,
                        const lg_rl_request_t *reqs, size_t n,
                        lg_rl_result_t *out)
{
    unsigned char small[64], *pending = small;
    size_t todo = 0, noscript = 0;
    struct lgi_sigpipe sp;
    lg_status_t st = LG_OK;
    int rc;

    if (out != NULL && n > 0) {
        memset(out, 0, n * sizeof(*out));
    }
    if (r == NULL || !lgi_rl_limit_ok(limit) ||
        limit->span_ns > LGI_RL_REDIS_MAX_SPAN ||
        (n > 0 && (reqs == NULL || out == NULL))) {
        return LG_E_INVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].key == NULL && reqs[i].keylen != 0) {
            return LG_E_INVAL;
        }
    }
    if (n == 0) {
        return LG_OK;
    }
    if (n > sizeof(small)) {
        pending = lgi_calloc(n, 1);
        if (pending == NULL) {
            return LG_E_NOMEM;
        }
    } else {
        memset(small, 0, sizeof(small));
    }
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].cost > limit->burst) {
            out[i].retry_after_ns = LG_RL_NEVER; /* no need to ask */
            continue;
        }
        pending[i] = 1;
        todo++;
    }

    pthread_mutex_lock(&r->lock);
    sigpipe_block(&sp);
    if (todo == 0) {
        goto out;
    }
    if (r->c == NULL && connect_redis(r) != 0) {
        goto degraded; /* r->err says why */
    }
    r->err[0] = '\0';
    rc = round_trip(r, limit, reqs, n, pending, 0, out, &noscript);
    if (rc == 0 && noscript > 0) {
        /* The script cache was flushed: EVAL runs and caches it again. */
        rc = round_trip(r, limit, reqs, n, pending, 1, out, &noscript);
        if (rc == 0 && noscript > 0) {
            fail(r, "redis: NOSCRIPT after EVAL", NULL); /* LCOV_EXCL_LINE */
            rc = -1;                                     /* LCOV_EXCL_LINE */
        }
    }
    if (rc == -2) {
        st = LG_E_NOMEM;
        memset(out, 0, n * sizeof(*out));
        goto out;
    }
degraded:
    for (size_t i = 0; i < n; i++) {
        if (pending[i]) {
            degrade(r, &out[i]);
        }
    }
out:
    sigpipe_restore(&sp);
    pthread_mutex_unlock(&r->lock);
    if (pending != small) {
        lgi_free(pending);
    }
    return st;
}

lg_status_t
lg_rl_redis_decide(lg_rl_redis_t *r, const lg_rl_limit_t *limit,
                   const void *key, size_t keylen, uint32_t cost,
                   lg_rl_result_t *out)
{
    lg_rl_request_t q;

    if (out == NULL) {
        return LG_E_INVAL;
    }
    q.key = key;
    q.keylen = keylen;
    q.cost = cost;
    return lg_rl_redis_decide_many(r, limit, &q, 1, out);
}
