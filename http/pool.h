/* pool.h - the client's kept-alive connections, per host:port, and the
 * per-host limit.  Internal to http/ (conn.h includes it).
 *
 * Idle connections are closed when their idle timeout passes, by one
 * coroutine per pool (the reaper, "http-idle") that exists only while the
 * pool holds an idle connection.  So coro_run() may wait for it: a program
 * that never calls http_client_close still ends, at most one idle timeout
 * after its last request; ba_pool_close stops the reaper at once.
 */
#ifndef BAREAWAIT_POOL_H
#define BAREAWAIT_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include <bareawait/sync.h>
#include "chars.h"

struct conn;
struct pool_reaper;

struct pool_host {
    struct pool_host *next;
    char key[BA_HOST_PORT_MAX];  /* "host:port" */
    coro_sem *slots;             /* max_per_host units, one per connection
                                    lent out; requests wait here, FIFO */
    struct conn *idle;           /* kept-alive connections, newest first */
};

typedef struct pool {
    struct pool_host *hosts;
    int max_per_host;            /* lent out + idle never exceeds this */
    int64_t idle_timeout_ns;     /* idle this long: closed, not reused */
    struct pool_reaper *reaper;  /* the coroutine closing expired idle
                                    connections; NULL while none is idle */
} pool;

/* SUSPENDS (when the host is at its limit).  Reserves a slot for key and
 * hands out an idle connection if a fresh one is kept and still open
 * (*out), else *out = NULL and the caller opens one with that slot.  One
 * idle past 1 ms is peeked first (a non-blocking recv finds no EOF, error
 * or stray byte) unless `can_retry`: the caller will send the request
 * again on a fresh connection if this one fails before any reply.  *host
 * tells the caller which host to give the slot back to.  0, or -1 with
 * errno ETIMEDOUT (the deadline passed while waiting), ECANCELED or
 * ENOMEM. */
int ba_pool_acquire(pool *p, const char *key, int64_t deadline_ns, bool can_retry,
                    struct pool_host **host, struct conn **out);

/* Gives the slot back.  c (may be NULL) is kept idle if reusable, else
 * closed; a kept one is closed when its idle timeout passes (the first
 * idle connection of a pool starts the reaper: called from a coroutine).
 * The next waiting request, if any, gets the slot.  Does not suspend. */
void ba_pool_release(pool *p, struct pool_host *h, struct conn *c, bool reusable);

/* Closes every idle connection, stops the reaper and frees the hosts (none
 * may be in use).  Does not suspend: the reaper is told to end and does
 * so the next time the scheduler runs it, without waiting for anything. */
void ba_pool_close(pool *p);

#endif
