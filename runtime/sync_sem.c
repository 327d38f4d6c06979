/* sync_sem.c - the counting semaphore (sync.h), with FIFO hand-off.
 *
 * A release with a waiter never puts the unit back into `value`: it hands
 * it straight to the first waiter (ba_waiter_finish), who owns it from then
 * on, before it has even run.  So `value` > 0 only while nobody who could
 * take a unit waits -- the queue then holds at most waiters on their way
 * out (timed out or cancelled, not yet run), which a newcomer may pass:
 * they take nothing.  An acquire can therefore take a free unit without
 * looking at the queue, and the order of service is the order of arrival.
 * This is what http/pool.c needs for its per-host limit: a request that
 * arrives just as a connection is given back cannot overtake one that has
 * waited for it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

#include "misuse.h"
#include "sync_internal.h"

struct coro_sem {
    long value;              /* units free (never > 0 while a live waiter waits) */
    struct ba_waitq waiting; /* coroutines in coro_sem_acquire, FIFO */
    const void *thread;      /* ba_sync_thread() of the maker */
};

static void check(const char *call, const coro_sem *s)
{
    ba_sync_check(call, s, s ? s->thread : NULL, "semaphore");
}

coro_sem *coro_sem_new(long units)
{
    if (units < 0) {
        errno = EINVAL;
        return NULL;
    }
    coro_sem *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->value = units;
    s->thread = ba_sync_thread();
    return s;
}

/* SUSPENDS.  coro_sem_acquire's way when no unit is free: in a function
 * of its own, so that the quick way needs no stack frame. */
__attribute__((noinline)) static int wait_for_unit(coro_sem *s, int64_t deadline_ns)
{
    if (ba_deadline_passed(deadline_ns))
        return ba_sync_result(ETIMEDOUT);
    struct ba_waiter w = {.co = ba_sched_current()};
    ba_waitq_push(&s->waiting, &w);
    /* 0 means a release handed us its unit: value was never raised. */
    return ba_sync_result(ba_waiter_park("coro_sem_acquire", &s->waiting, &w, deadline_ns));
}

int coro_sem_acquire(coro_sem *s, int64_t deadline_ns)
{
    ba_sched_need_coroutine("coro_sem_acquire");
    check("coro_sem_acquire", s);
    if (s->value > 0) { /* nobody who could take it waits (see the top) */
        s->value--;
        return 0;
    }
    return wait_for_unit(s, deadline_ns);
}

void coro_sem_release(coro_sem *s)
{
    check("coro_sem_release", s);
    struct ba_waiter *w = s->waiting.len ? ba_waitq_first(&s->waiting) : NULL;
    if (w) {
        ba_waiter_finish(&s->waiting, w, 0); /* the unit is w's now */
        return;
    }
    if (s->value == LONG_MAX)
        ba_misuse("coro_sem_release", "the semaphore already holds LONG_MAX units "
                                      "(released more often than acquired?)");
    s->value++;
}

long coro_sem_value(const coro_sem *s)
{
    check("coro_sem_value", s);
    return s->value;
}

size_t coro_sem_waiters(const coro_sem *s)
{
    check("coro_sem_waiters", s);
    return s->waiting.len;
}

void coro_sem_free(coro_sem *s)
{
    if (!s)
        return;
    check("coro_sem_free", s);
    if (s->waiting.len)
        ba_misusef("coro_sem_free", "%zu coroutine(s) still wait on the semaphore "
                                    "(coroutine %" PRIu64 " first)",
                   s->waiting.len, s->waiting.head->co->id);
    free(s);
}
