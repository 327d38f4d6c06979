/* notifier.c - coro_notifier: a count any thread adds to, and an eventfd
 * that wakes the one coroutine waiting for it (offload.h).
 *
 * The count is the news; the eventfd only wakes.  A notify rings the
 * eventfd only when it moves the count from 0 to 1: a burst of notifies
 * costs one write and one wake-up, and the waiter takes the whole count.
 *
 * No lost wake-up.  The waiter's loop is: take the count (exchange with
 * 0); if it was 0, wait for the eventfd, drain it, and start again.  Take
 * a notify N whose add finds the count at 0, so that N rings, and the
 * waiter's drain D before a take T that finds 0.  The eventfd orders N's
 * write and D (the kernel takes the eventfd's lock for both):
 *   - N's write comes after D: the eventfd is readable when the waiter
 *     next waits on it (epoll is level-triggered), so the waiter wakes;
 *   - N's write comes before D: then N's add (sequenced before its write)
 *     happens before D, hence before T, and T reads the count N left,
 *     not 0 -- so this case cannot end in a wait.
 * A notify whose add finds the count above 0 does not ring: a ring is
 * already due for the count it adds to, by the argument above.  The cost
 * is at most one wake-up for a ring whose count was already taken (drained,
 * then the wait goes on).  The drain must come before the take, never
 * after it: a drain after a take that found 0 could swallow the ring of a
 * notify that came in between.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <bareawait/offload.h>
#include "misuse.h"
#include "scheduler.h"

struct coro_notifier {
    _Atomic long count;              /* notifies not yet taken */
    _Atomic(struct coro *) waiter;   /* in coro_notifier_wait, or NULL */
    int fd;                          /* eventfd, rung on the count's 0 -> 1 */
};

coro_notifier *coro_notifier_new(void)
{
    coro_notifier *n = malloc(sizeof *n);
    if (!n) {
        errno = ENOMEM;
        return NULL;
    }
    n->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->fd < 0) {
        int err = errno;
        free(n);
        errno = err;
        return NULL;
    }
    atomic_init(&n->count, 0);
    atomic_init(&n->waiter, NULL);
    return n;
}

int coro_notify(coro_notifier *n)
{
    if (!n)
        ba_misuse("coro_notify", "a NULL notifier");
    /* release: what the caller wrote before is visible to the waiter whose
     * take (acquire) reads this add or a later one (the adds are
     * read-modify-writes, so each continues the release sequence of the
     * ones before it). */
    if (atomic_fetch_add_explicit(&n->count, 1, memory_order_release) != 0)
        return 0; /* a ring is already due (see above) */
    uint64_t one = 1;
    return write(n->fd, &one, sizeof one) == (ssize_t)sizeof one ? 0 : -1;
}

/* Stops the program if another coroutine (of any thread) waits on n. */
static void claim(coro_notifier *n, struct coro *self)
{
    struct coro *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&n->waiter, &none, self,
                                                 memory_order_relaxed, memory_order_relaxed))
        ba_misusef("coro_notifier_wait",
                   "coroutine %" PRIu64 " \"%s\" waits on a notifier another coroutine "
                   "already waits on (one waiter at a time)",
                   coro_id(self), coro_name(self));
}

/* SUSPENDS.  The count, once above 0; or -1/errno. */
static long wait_for_count(coro_notifier *n, int64_t deadline_ns)
{
    for (;;) {
        long taken = atomic_exchange_explicit(&n->count, 0, memory_order_acquire);
        if (taken > 0)
            return taken;
        coro_wake why = ba_sched_wait("coro_notifier_wait", n->fd, CORO_READ, deadline_ns);
        if (why != CORO_WOKE_READY) {
            if (why != CORO_WOKE_FAILED) /* FAILED: errno says why */
                errno = why == CORO_WOKE_TIMEOUT ? ETIMEDOUT : ECANCELED;
            return -1;
        }
        uint64_t rings;
        ssize_t rc = read(n->fd, &rings, sizeof rings);
        (void)rc; /* EAGAIN: woken by a coro_wakeup, not by a ring */
    }
}

long coro_notifier_wait(coro_notifier *n, int64_t deadline_ns)
{
    ba_sched_need_coroutine("coro_notifier_wait");
    if (!n)
        ba_misuse("coro_notifier_wait", "a NULL notifier");
    struct coro *self = ba_sched_current();
    claim(n, self);
    long taken = wait_for_count(n, deadline_ns);
    atomic_store_explicit(&n->waiter, NULL, memory_order_relaxed);
    return taken;
}

void coro_notifier_free(coro_notifier *n)
{
    if (!n)
        return;
    coro_close(n->fd); /* the waiter's reactor forgets it */
    free(n);
}
