/* sync_wait.c - queues of waiting coroutines, shared by the semaphore, the
 * channels and select (sync_internal.h).
 *
 * The one subtle rule is who may be handed something (ba_waitq_first).  A
 * coroutine's wait can end three ways in the same scheduling round: a peer
 * hands it a unit or a value, its deadline passes, or it is cancelled.
 * Whichever comes first decides, and the waiter, when it runs, sees only
 * that: a waiter woken by its deadline or a cancel is passed over by later
 * peers (it will take itself out of the queue and report the error, having
 * taken nothing), and a waiter handed something is out of the queue at
 * once, so nobody can hand it anything twice; a cancel that comes after
 * the hand-off stays pending for its next wait (coro_cancel does that for
 * a coroutine that is not parked).  Nothing is lost and nothing granted
 * twice, without the waiter ever giving back what it got.
 */
#include <errno.h>

#include "misuse.h"
#include "sync_internal.h"

void ba_waitq_push(struct ba_waitq *q, struct ba_waiter *w)
{
    w->outcome = BA_PENDING;
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    q->len++;
    w->linked = true;
}

void ba_waitq_remove(struct ba_waitq *q, struct ba_waiter *w)
{
    if (!w->linked)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    q->len--;
    w->linked = false;
}

/* Whether w's coroutine will still look at an outcome given now.  A
 * coroutine woken by its deadline or a cancel has not run yet to see it
 * (wake_reason is cleared when it does), and will report that instead: it
 * must be passed over.  One parked, or woken by a coro_wakeup (or by an
 * fd of its select), will look at its outcome first. */
static bool still_waiting(const struct ba_waiter *w)
{
    if (w->sel && w->sel->fired >= 0)
        return false; /* another case of its select happened */
    return w->co->state == CORO_PARKED || w->co->wake_reason == CORO_WOKE_READY;
}

struct ba_waiter *ba_waitq_first(const struct ba_waitq *q)
{
    for (struct ba_waiter *w = q->head; w; w = w->next)
        if (still_waiting(w))
            return w;
    return NULL;
}

void ba_waiter_finish(struct ba_waitq *q, struct ba_waiter *w, int outcome)
{
    ba_waitq_remove(q, w);
    w->outcome = outcome;
    if (w->sel)
        w->sel->fired = w->index;
    ba_sched_wake(w->co, CORO_WOKE_READY); /* nothing if already woken */
}

void ba_waitq_finish_all(struct ba_waitq *q, int outcome)
{
    struct ba_waiter *w = q->head;
    while (w) {
        struct ba_waiter *next = w->next; /* finish unlinks w */
        if (still_waiting(w))
            ba_waiter_finish(q, w, outcome);
        w = next;
    }
}

int ba_waiter_park(const char *call, struct ba_waitq *q, struct ba_waiter *w,
                   int64_t deadline_ns)
{
    for (;;) {
        coro_wake why = ba_sched_wait(call, -1, 0, deadline_ns);
        if (w->outcome != BA_PENDING)
            return w->outcome; /* decided by a peer before we ran */
        if (why == CORO_WOKE_READY)
            continue; /* a coro_wakeup: still queued, in our place */
        ba_waitq_remove(q, w);
        return why == CORO_WOKE_CANCELLED ? ECANCELED : ETIMEDOUT;
    }
}

bool ba_deadline_passed(int64_t deadline_ns)
{
    return deadline_ns != CORO_NEVER && deadline_ns <= coro_now();
}

/* ---- one thread each ---- */

_Thread_local char ba_sync_mark;

_Noreturn void ba_sync_misuse(const char *call, const void *obj, const char *what)
{
    if (!obj)
        ba_misusef(call, "a NULL %s", what);
    ba_misusef(call, "the %s belongs to another thread (a %s is used only on the thread "
                     "that made it)", what, what);
}

int ba_sync_result(int e)
{
    if (e == 0)
        return 0;
    errno = e;
    return -1;
}
