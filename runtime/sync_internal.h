/* sync_internal.h - what sync_*.c share: queues of waiting coroutines, the
 * rule of who may be handed a unit or a value, and the one-thread check.
 *
 * A waiter is a node on the waiting coroutine's own stack, linked into the
 * queue of the semaphore or channel it waits on.  Whoever completes the
 * wait (a release, a send, a receive, a close) takes the node out of the
 * queue, writes its outcome and wakes the coroutine: the outcome is decided
 * by the peer, before the waiter runs again, so the waiter only reads it.
 * A waiter that wakes for another reason (deadline, cancel) takes its node
 * out itself.
 *
 * Files: sync_wait.c (this header's functions), sync_sem.c, sync_chan.c
 * (also the channel calls coro_select needs, declared below),
 * sync_select.c, sync_group.c.  Calls go one way: select -> chan -> wait,
 * sem -> wait, group -> coro.c.
 * Internal to the runtime.
 */
#ifndef BAREAWAIT_SYNC_INTERNAL_H
#define BAREAWAIT_SYNC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bareawait/sync.h>
#include "scheduler.h"

/* A waiter's outcome while nobody has completed its wait. */
#define BA_PENDING (-1)

/* One coroutine's place in a select: the first of its cases to happen
 * sets `fired`, and its other waiters are passed over from then on. */
struct ba_select {
    int fired; /* index of the case that happened, or -1 */
};

struct ba_waiter {
    struct ba_waiter *next, *prev; /* in the queue (prev NULL at the head) */
    struct coro *co;               /* who waits */
    void *value;                   /* channel: the sender's value, or where
                                      the receiver wants it; else unused */
    struct ba_select *sel;         /* the select this is a case of, or NULL */
    int index;                     /* ...and which case */
    int outcome;                   /* BA_PENDING; 0 done; or an errno
                                      value (EPIPE: closed) */
    bool linked;                   /* in a queue now */
};

/* A FIFO of waiters. */
struct ba_waitq {
    struct ba_waiter *head, *tail; /* oldest, newest */
    size_t len;                    /* waiters linked */
};

/* w (its co, value, sel and index filled in) goes to the tail of q, its
 * outcome BA_PENDING. */
void ba_waitq_push(struct ba_waitq *q, struct ba_waiter *w);

/* Takes w out of q if it is still there. */
void ba_waitq_remove(struct ba_waitq *q, struct ba_waiter *w);

/* The first waiter of q that may be handed what it waits for, or NULL:
 * one whose coroutine is parked or woken by a plain wakeup (not by its
 * deadline or a cancel it has yet to see), and whose select, if any, has
 * not fired. */
struct ba_waiter *ba_waitq_first(const struct ba_waitq *q);

/* Takes w (from ba_waitq_first) out of q, sets its outcome (and its
 * select's `fired`) and makes its coroutine ready. */
void ba_waiter_finish(struct ba_waitq *q, struct ba_waiter *w, int outcome);

/* ba_waiter_finish for every waiter of q that ba_waitq_first would give
 * (a close); the others stay until they take themselves out. */
void ba_waitq_finish_all(struct ba_waitq *q, int outcome);

/* SUSPENDS.  Parks the running coroutine, queued as w on q, until a peer
 * finishes w, deadline_ns passes or it is cancelled.  Returns w's outcome
 * (0 or an errno value); or ETIMEDOUT or ECANCELED, w taken out of q.
 * A plain coro_wakeup parks it again. */
int ba_waiter_park(const char *call, struct ba_waitq *q, struct ba_waiter *w,
                   int64_t deadline_ns);

/* True if deadline_ns has passed: a wait that would have to park is then
 * a try that fails at once. */
bool ba_deadline_passed(int64_t deadline_ns);

/* One per thread: its address is the thread's mark, recorded by each
 * primitive at birth.  (A thread that ended may leave its address to a new
 * one; a primitive of a thread that ended is unusable anyway.) */
extern _Thread_local char ba_sync_mark __attribute__((tls_model("initial-exec")));

static inline const void *ba_sync_thread(void)
{
    return &ba_sync_mark;
}

/* ba_sync_check's report: never returns. */
_Noreturn void ba_sync_misuse(const char *call, const void *obj, const char *what);

/* Stops the program (API misuse) in `call` if obj is NULL (`what` names
 * it: "semaphore") or was made on another thread (its mark `owner`).
 * Inline: every call of sync.h makes it, and it costs two compares. */
static inline void ba_sync_check(const char *call, const void *obj, const void *owner,
                                 const char *what)
{
    if (__builtin_expect(!obj || owner != &ba_sync_mark, 0))
        ba_sync_misuse(call, obj, what);
}

/* -1 with errno = e, or 0 when e is 0: the public calls' conversion. */
int ba_sync_result(int e);

/* ---- what sync_chan.c gives coro_select ---- */

/* Checks, for `call`, what a send or receive of `value` on ch needs (ch
 * not NULL and this thread's; value not NULL unless elem_size is 0). */
void ba_chan_check_value(const char *call, const coro_chan *ch, const void *value);

/* Sends or receives at once if that is possible: 0 done, EPIPE closed,
 * EAGAIN it would have to wait. */
int ba_chan_try_send(coro_chan *ch, const void *value);
int ba_chan_try_recv(coro_chan *ch, void *value);

/* The queue a sender (send true) or a receiver waits in. */
struct ba_waitq *ba_chan_queue(coro_chan *ch, bool send);

#endif
