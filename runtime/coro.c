/* coro.c - coro.h's API on top of the scheduler (scheduler.h): arguments and
 * contracts checked here, the work done there.  Owns what only the API
 * knows of a coroutine: who may join it, its result, cancellation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "misuse.h"
#include "scheduler.h"

#define MAX_STACK ((size_t)1 << 30) /* refuse absurd stack sizes */

int coro_reserve(size_t count, size_t stack_size)
{
    const struct coro *self = ba_sched_current();
    if (self && (size_t)((const char *)self - self->stack.lo) < CORO_DEFAULT_STACK)
        ba_misuse("coro_reserve", "called from a coroutine with a stack smaller than "
                                  "CORO_DEFAULT_STACK (its helper threads need more)");
    size_t size = stack_size ? stack_size : CORO_DEFAULT_STACK;
    if (size > MAX_STACK) {
        errno = EINVAL;
        return -1;
    }
    if (ba_sched_up() < 0)
        return -1;
    return ba_sched_reserve(count, size);
}

coro_t *coro_spawn(coro_fn fn, void *arg, const coro_opts *opts)
{
    if (!fn)
        ba_misuse("coro_spawn", "fn is NULL");
    size_t size = opts && opts->stack_size ? opts->stack_size : CORO_DEFAULT_STACK;
    if (size > MAX_STACK) {
        errno = EINVAL;
        return NULL;
    }
    const char *name = opts ? opts->name : NULL; /* NULL: the default name */
    if (ba_sched_up() < 0)
        return NULL;
    return ba_sched_spawn(fn, arg, size, name, opts && opts->detached);
}

/* ---- handles: used only on their own thread ---- */

/* A GONE handle's memory is a free stack: only its id is still to be
 * trusted (the free list's link may have overwritten the end of its name). */
static _Noreturn void misuse_handle(const char *call, const struct coro *c, const char *what)
{
    char line[160];
    snprintf(line, sizeof line, "coroutine %" PRIu64 " %s", c->id, what);
    ba_misuse(call, line);
}

/* Every call that acts on a handle: it must be this thread's. */
static void check_mine(const char *call, const struct coro *c)
{
    if (!c)
        ba_misuse(call, "a NULL handle");
    else if (!ba_sched_owns(c))
        misuse_handle(call, c, "belongs to another thread's runtime (a handle is used only "
                               "on the thread that spawned it)");
}

static _Noreturn __attribute__((noinline)) void misuse_joined(const char *call,
                                                               const struct coro *c)
{
    char what[96];
    snprintf(what, sizeof what, "is already being joined by coroutine %" PRIu64, c->joiner->id);
    misuse_handle(call, c, what);
}

/* What join and detach both need: a live handle nobody else has claimed. */
static void check_unclaimed(const char *call, const struct coro *c)
{
    check_mine(call, c);
    if (c->detached)
        misuse_handle(call, c, "is detached (nobody may join or detach it again)");
    else if (c->state == CORO_GONE)
        misuse_handle(call, c, "was already joined (its handle is gone)");
    else if (c->joiner)
        misuse_joined(call, c);
}

/* coro_join_until, with `call` named in any misuse report. */
static int join_until(const char *call, coro_t *c, void **result, int64_t deadline_ns)
{
    struct coro *self = ba_sched_need_coroutine(call);
    check_unclaimed(call, c);
    if (c == self)
        misuse_handle(call, c, "cannot join itself");
    /* Only c's exit ends this wait; a coro_wakeup just loops. */
    while (c->state != CORO_DONE) {
        c->joiner = self;
        coro_wake why = ba_sched_park(self, deadline_ns);
        if (why != CORO_WOKE_READY) {
            c->joiner = NULL; /* the handle stays valid and joinable */
            errno = why == CORO_WOKE_CANCELLED ? ECANCELED : ETIMEDOUT;
            return -1;
        }
    }
    if (result)
        *result = c->result;
    ba_sched_release(c); /* do not touch c again */
    return 0;
}

int coro_join_until(coro_t *c, void **result, int64_t deadline_ns)
{
    return join_until("coro_join_until", c, result, deadline_ns);
}

int coro_join(coro_t *c, void **result)
{
    return join_until("coro_join", c, result, CORO_NEVER);
}

void coro_detach(coro_t *c)
{
    check_unclaimed("coro_detach", c);
    if (c->state == CORO_DONE)
        ba_sched_release(c);
    else
        c->detached = true;
}

void coro_cancel(coro_t *c)
{
    if (!c)
        return;
    check_mine("coro_cancel", c);
    if (c->state == CORO_DONE || c->state == CORO_GONE)
        return;
    if (c->state == CORO_PARKED)
        ba_sched_wake(c, CORO_WOKE_CANCELLED);
    else if (c->wake_reason != CORO_WOKE_CANCELLED)
        c->cancel_pending = true; /* ready or running: its next wait sees it */
    /* else: woken by an earlier cancel it has not seen yet; once is enough */
}

void coro_wakeup(coro_t *c)
{
    if (!c)
        return;
    check_mine("coro_wakeup", c);
    ba_sched_wake(c, CORO_WOKE_READY);
}

coro_t *coro_self(void)
{
    return ba_sched_current();
}

uint64_t coro_id(const coro_t *c)
{
    return c ? c->id : 0;
}

const char *coro_name(const coro_t *c)
{
    return c ? c->name : "main";
}

/* ---- the waits ---- */

coro_wake coro_wait(int fd, int events, int64_t deadline_ns)
{
    return ba_sched_wait("coro_wait", fd, events, deadline_ns);
}

coro_wake coro_park(int64_t deadline_ns)
{
    return ba_sched_wait("coro_park", -1, 0, deadline_ns);
}

int coro_sleep_until(int64_t deadline_ns)
{
    /* A coro_wakeup is not the time having come: sleep again. */
    for (;;) {
        coro_wake why = ba_sched_wait("coro_sleep_until", -1, 0, deadline_ns);
        if (why == CORO_WOKE_CANCELLED) {
            errno = ECANCELED;
            return -1;
        }
        if (why == CORO_WOKE_TIMEOUT)
            return 0;
    }
}

int coro_yield(void)
{
    return ba_sched_yield("coro_yield");
}
