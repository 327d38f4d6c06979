/* pool.c - kept-alive connections per host:port, and the per-host limit.
 *
 * A request first takes a *slot* for its host -- a unit of the host's
 * semaphore (coro_sem, max_per_host units), waiting in turn when all are
 * lent out -- then reuses an idle connection if a fresh one is kept, or
 * opens a new one.  When it is done it gives the slot back, which the
 * semaphore hands straight to the first waiter (so a newcomer cannot jump
 * the queue), and parks its connection in the idle list if it can carry
 * another request.
 *
 * Idle connections are closed when their idle timeout passes, by the
 * *reaper*: one coroutine per pool, not one timer per connection (the
 * runtime has no timer callbacks; a timer is a coroutine's deadline).
 * Its life:
 *   - the first connection a pool keeps idle spawns it (detached);
 *   - it sleeps until the oldest idle connection expires, closes every
 *     expired one, frees hosts left with nothing, and sleeps again;
 *   - it ends by itself when no connection is idle any more;
 *   - ba_pool_close tells it to end (stop flag + coro_cancel) and frees
 *     the pool at once; the reaper's own state outlives the pool until the
 *     reaper has seen the flag, so close never waits.
 * Because a sleeping reaper keeps coro_run() going, a program that forgets
 * http_client_close still ends, one idle timeout after its last request
 * at most; one that closes its client (fetch) does not wait at all.
 * Simple on purpose: a wake-up scans every idle connection; a heap of
 * expiries would make it O(log n) for clients with very many hosts.
 * take_idle checks the age too, so a reaper that runs late never lets a
 * stale connection be reused.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"

static struct pool_host *host_for(pool *p, const char *key)
{
    for (struct pool_host *h = p->hosts; h; h = h->next)
        if (strcmp(h->key, key) == 0)
            return h;
    struct pool_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->slots = coro_sem_new(p->max_per_host);
    if (!h->slots) {
        free(h);
        return NULL;
    }
    snprintf(h->key, sizeof h->key, "%s", key);
    h->next = p->hosts;
    p->hosts = h;
    return h;
}

/* Whether c, idle since c->idle_since, has been idle too long at `now`. */
static bool expired(const pool *p, const struct conn *c, int64_t now)
{
    return now - c->idle_since >= p->idle_timeout_ns;
}

/* Whether idle connection c still looks usable: nothing to read and no
 * error.  A server that closed it while idle has sent FIN (recv says 0)
 * or RST (an error); bytes nobody asked for mean it is confused.  Either
 * way a request sent there would fail, and one that is not idempotent
 * could not be retried: find out now, for the cost of one recv. */
static bool still_open(const struct conn *c)
{
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* A connection handed back and taken again within this long is reused
 * without the peek: a client looping on keep-alive would otherwise pay a
 * system call per request, and servers close idle connections after
 * seconds, not microseconds.  A close inside that window is still caught
 * by the retry rule (idempotent requests only), as before the peek.  For
 * a request the retry rule covers, the peek is skipped at any age: a
 * connection the server closed fails before a byte of reply and the
 * request goes again on a fresh one, so the peek would only save that
 * rare retry at the cost of a system call on every reuse. */
#define PEEK_AFTER_NS 1000000 /* 1 ms */

/* The newest idle connection that has not been idle too long and is still
 * open (unless `can_retry`: then it is not peeked); stale ones are closed
 * on the way. */
static struct conn *take_idle(pool *p, struct pool_host *h, bool can_retry)
{
    int64_t now = coro_now();
    while (h->idle) {
        struct conn *c = h->idle;
        h->idle = c->next;
        bool fresh = can_retry || now - c->idle_since < PEEK_AFTER_NS;
        if (!expired(p, c, now) && (fresh || still_open(c)))
            return c;
        ba_conn_close(c);
    }
    return NULL;
}

/* ---- the reaper ---- */

struct pool_reaper {
    pool *p;      /* the pool it works for; NULL: the pool is gone, end */
    coro_t *co;   /* the reaper coroutine (detached) */
};

/* When idle connection c expires: a time, never CORO_NEVER (which means
 * "none idle" to the reaper), even for an absurdly long timeout. */
static int64_t expiry(const pool *p, const struct conn *c)
{
    if (p->idle_timeout_ns >= CORO_NEVER - 1 - c->idle_since)
        return CORO_NEVER - 1;
    return c->idle_since + p->idle_timeout_ns;
}

/* Closes h's expired idle connections.  Returns when the oldest one left
 * expires, or CORO_NEVER if none is left. */
static int64_t reap_host(pool *p, struct pool_host *h, int64_t now)
{
    int64_t next = CORO_NEVER;
    struct conn **pp = &h->idle;
    while (*pp) {
        struct conn *c = *pp;
        if (expired(p, c, now)) {
            *pp = c->next;
            ba_conn_close(c);
        } else {
            int64_t at = expiry(p, c);
            next = at < next ? at : next;
            pp = &c->next;
        }
    }
    return next;
}

/* Whether no slot of h is lent out and nobody waits for one. */
static bool unused(const pool *p, const struct pool_host *h)
{
    return coro_sem_value(h->slots) == p->max_per_host && coro_sem_waiters(h->slots) == 0;
}

static void free_host(struct pool_host *h)
{
    coro_sem_free(h->slots);
    free(h);
}

/* Closes every expired idle connection and frees the hosts nobody uses
 * (nothing idle, lent out or waited for).  Returns when the next idle
 * connection expires, or CORO_NEVER if none is idle. */
static int64_t reap(pool *p)
{
    int64_t now = coro_now(), next = CORO_NEVER;
    struct pool_host **pp = &p->hosts;
    while (*pp) {
        struct pool_host *h = *pp;
        int64_t at = reap_host(p, h, now);
        next = at < next ? at : next;
        if (!h->idle && unused(p, h)) {
            *pp = h->next;
            free_host(h);
        } else {
            pp = &h->next;
        }
    }
    return next;
}

static void *reaper_main(void *arg)
{
    struct pool_reaper *r = arg;
    while (r->p) {
        int64_t next = reap(r->p);
        if (next == CORO_NEVER) { /* nothing idle: a later release respawns us */
            r->p->reaper = NULL;
            break;
        }
        /* A cancel is ba_pool_close telling us to end: r->p is NULL then. */
        coro_sleep_until(next);
    }
    free(r);
    return NULL;
}

/* Makes sure a reaper runs for p.  0, or -1 (no memory for it). */
static int reaper_ensure(pool *p)
{
    if (p->reaper)
        return 0;
    struct pool_reaper *r = malloc(sizeof *r);
    if (!r)
        return -1;
    r->p = p;
    coro_opts opts = {.name = "http-idle", .detached = true};
    r->co = coro_spawn(reaper_main, r, &opts);
    if (!r->co) {
        free(r);
        return -1;
    }
    p->reaper = r;
    return 0;
}

/* ---- taking and giving back ---- */

int ba_pool_acquire(pool *p, const char *key, int64_t deadline_ns, bool can_retry,
                    struct pool_host **host, struct conn **out)
{
    struct pool_host *h = host_for(p, key);
    if (!h) {
        errno = ENOMEM;
        return -1;
    }
    if (coro_sem_acquire(h->slots, deadline_ns) < 0)
        return -1; /* ETIMEDOUT or ECANCELED */
    *host = h;
    *out = take_idle(p, h, can_retry);
    /* No fresh idle one: the caller opens a connection with the slot.
     * Lent out + idle never exceeds the limit, since a connection only
     * moves between the two. */
    return 0;
}

void ba_pool_release(pool *p, struct pool_host *h, struct conn *c, bool reusable)
{
    /* Without a reaper an idle connection would stay open until the next
     * request or close: better to close it now. */
    if (c && reusable && reaper_ensure(p) == 0) {
        c->idle_since = coro_now();
        c->reused = true;
        c->next = h->idle;
        h->idle = c;
    } else {
        ba_conn_close(c);
    }
    coro_sem_release(h->slots); /* to the first waiter, if any */
}

void ba_pool_close(pool *p)
{
    if (p->reaper) { /* it frees itself when it sees p is gone */
        p->reaper->p = NULL;
        coro_cancel(p->reaper->co);
        p->reaper = NULL;
    }
    while (p->hosts) {
        struct pool_host *h = p->hosts;
        p->hosts = h->next;
        assert(unused(p, h));
        while (h->idle) {
            struct conn *c = h->idle;
            h->idle = c->next;
            ba_conn_close(c);
        }
        free_host(h);
    }
}
