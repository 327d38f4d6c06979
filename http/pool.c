/* pool.c - kept-alive connections per host:port, and the per-host limit.
 *
 * A request first takes a *slot* for its host (waiting in a FIFO when all
 * max_per_host slots are lent out), then reuses an idle connection if a
 * fresh one is kept, or opens a new one.  When it is done it gives the
 * slot straight to the first waiter (a hand-off, so a newcomer cannot jump
 * the queue) and parks its connection in the idle list if it can carry
 * another request.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

struct pool_waiter {
    coro_t *co;                 /* the parked request */
    bool granted;               /* a releasing request handed us its slot */
    struct pool_waiter *next;
};

static struct pool_host *host_for(pool *p, const char *key)
{
    for (struct pool_host *h = p->hosts; h; h = h->next)
        if (strcmp(h->key, key) == 0)
            return h;
    struct pool_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    snprintf(h->key, sizeof h->key, "%s", key);
    h->next = p->hosts;
    p->hosts = h;
    return h;
}

static void unlink_waiter(struct pool_host *h, struct pool_waiter *w)
{
    struct pool_waiter **pp = &h->waiting, *prev = NULL;
    while (*pp && *pp != w)
        prev = *pp, pp = &(*pp)->next;
    if (!*pp)
        return;
    *pp = w->next;
    if (h->waiting_tail == w)
        h->waiting_tail = prev;
}

/* Passes a slot that is no longer needed to the first waiter, if any. */
static void slot_pass_on(struct pool_host *h)
{
    struct pool_waiter *w = h->waiting;
    if (w) { /* hand the slot over: in_use stays the same */
        h->waiting = w->next;
        if (!h->waiting)
            h->waiting_tail = NULL;
        w->granted = true;
        coro_wakeup(w->co);
    } else {
        h->in_use--;
    }
}

/* SUSPENDS.  Parks in the host's queue until a slot is handed over. */
static int wait_for_slot(struct pool_host *h, int64_t deadline_ns)
{
    struct pool_waiter w = {.co = coro_self()};
    if (h->waiting_tail)
        h->waiting_tail->next = &w;
    else
        h->waiting = &w;
    h->waiting_tail = &w;
    coro_wake why;
    do /* only a hand-off, a timeout or a cancel ends the wait */
        why = coro_wait(-1, 0, deadline_ns);
    while (why == CORO_WOKE_READY && !w.granted);
    if (w.granted && why == CORO_WOKE_READY)
        return 0;
    if (w.granted) /* out of time or cancelled as the slot arrived: pass it on */
        slot_pass_on(h);
    else
        unlink_waiter(h, &w);
    errno = why == CORO_WOKE_CANCELLED ? ECANCELED : ETIMEDOUT;
    return -1;
}

/* The newest idle connection that has not been idle too long; stale ones
 * are closed on the way. */
static struct conn *take_idle(pool *p, struct pool_host *h)
{
    int64_t now = coro_now();
    while (h->idle) {
        struct conn *c = h->idle;
        h->idle = c->next;
        if (now - c->idle_since <= p->idle_timeout_ns)
            return c;
        ba_conn_close(c);
    }
    return NULL;
}

int ba_pool_acquire(pool *p, const char *key, int64_t deadline_ns,
                 struct pool_host **host, struct conn **out)
{
    struct pool_host *h = host_for(p, key);
    if (!h) {
        errno = ENOMEM;
        return -1;
    }
    if (h->in_use >= p->max_per_host || h->waiting) {
        if (wait_for_slot(h, deadline_ns) < 0)
            return -1;
    } else {
        h->in_use++;
    }
    *host = h;
    *out = take_idle(p, h);
    /* No fresh idle one: the caller opens a connection with the slot.
     * in_use + idle never exceeds the limit, since a connection only moves
     * between the two. */
    return 0;
}

void ba_pool_release(pool *p, struct pool_host *h, struct conn *c, bool reusable)
{
    if (c && reusable) {
        c->idle_since = coro_now();
        c->reused = true;
        c->next = h->idle;
        h->idle = c;
    } else {
        ba_conn_close(c);
    }
    slot_pass_on(h);
    (void)p;
}

void ba_pool_close(pool *p)
{
    while (p->hosts) {
        struct pool_host *h = p->hosts;
        p->hosts = h->next;
        assert(h->in_use == 0 && !h->waiting);
        while (h->idle) {
            struct conn *c = h->idle;
            h->idle = c->next;
            ba_conn_close(c);
        }
        free(h);
    }
}
