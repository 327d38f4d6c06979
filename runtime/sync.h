/* sync.h - coroutines waiting for each other: a semaphore, channels, task
 * groups and a wait for the first of several events.
 *
 * What asyncio.Semaphore, Go's channels and select, and asyncio.TaskGroup
 * (trio's nursery, libdill's bundle) do, for the coroutines of coro.h.
 * Every wait here takes a deadline (on coro_now's clock; CORO_NEVER for
 * none) and can be cancelled (coro_cancel), like coro_wait underneath.
 *
 * One thread each.  A semaphore, channel or group belongs to the thread
 * that made it (from a coroutine or from main(), before or after its
 * runtime started) and is used only there, like a coro_t handle: any call
 * on another thread stops the program (API misuse).  It outlives coro_run,
 * so one made in main() may serve several runs of the scheduler.  (But one
 * that a coroutine was abandoned in -- coro_run's EDEADLK unmaps the stacks
 * of those still parked -- must be neither used nor freed again: its queue
 * points into a stack that is gone.)
 *
 * Hand-off, no barging.  A unit released, or a value sent, to a coroutine
 * that waits for it is given to that waiter at once, before it runs again:
 * a coroutine that arrives later cannot take it first.  A waiter keeps its
 * place until its wait has ended: once its deadline has passed or it has
 * been cancelled it is passed over (it will return ETIMEDOUT or
 * ECANCELED, having taken nothing), and once it has been handed what it
 * waited for it returns success even if a cancel comes before it runs
 * (the cancel then stays pending for its next wait, as coro.h says).  So a
 * unit or a value is never lost and never given twice.
 *
 * Errors: -1 and errno, as coro.h.  Calls marked SUSPENDS may park the
 * calling coroutine and need one (called from main() they stop the
 * program: API misuse, on the first call).  A SUSPENDS call that can
 * complete at once does so without parking and without seeing a pending
 * cancel; one whose deadline has already passed does not park either (it
 * is a "try": ETIMEDOUT at once).  Every other call returns without
 * switching.  A NULL semaphore, channel or group stops the program (API
 * misuse), except in the _free calls.
 */
#ifndef BAREAWAIT_SYNC_H
#define BAREAWAIT_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <bareawait/coro.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- semaphore: asyncio.Semaphore, with FIFO hand-off ---- */

typedef struct coro_sem coro_sem; /* opaque */

/* A semaphore holding `units` units (>= 0).  NULL with errno = EINVAL
 * (units < 0) or ENOMEM.  The caller owns it: coro_sem_free. */
coro_sem *coro_sem_new(long units);

/* SUSPENDS (when no unit is free).  Takes one unit: at once if one is free,
 * else in turn, first come first served.  0; or -1 with errno =
 *   ETIMEDOUT  deadline_ns passed first (nothing taken), or
 *   ECANCELED  the caller was cancelled first (nothing taken). */
int coro_sem_acquire(coro_sem *s, int64_t deadline_ns);

/* Gives back one unit: to the first waiter if there is one (it becomes
 * ready), else to the semaphore.  No upper bound but LONG_MAX units (past
 * it: API misuse).  From a coroutine or from main().  Does not suspend. */
void coro_sem_release(coro_sem *s);

/* Units free now. */
long coro_sem_value(const coro_sem *s);

/* Coroutines inside coro_sem_acquire on s (queued, or woken and not yet
 * returned). */
size_t coro_sem_waiters(const coro_sem *s);

/* Frees s.  With a coroutine still inside coro_sem_acquire on it: API
 * misuse.  NULL is ignored.  Does not suspend. */
void coro_sem_free(coro_sem *s);

/* ---- channels: Go's chan T, of fixed-size values ---- */

typedef struct coro_chan coro_chan; /* opaque */

/* A channel of values of elem_size bytes (0 allowed: a channel of events;
 * the value pointers below may then be NULL), holding up to `capacity`
 * values that nobody has received yet.  capacity 0 is unbuffered: a send
 * completes only when a receiver takes the value (a rendezvous).  Values
 * are copied in and out (memcpy): the channel keeps no pointer of the
 * caller's.  NULL with errno = EINVAL (capacity * elem_size overflows) or
 * ENOMEM.  The caller owns it: coro_chan_free. */
coro_chan *coro_chan_new(size_t elem_size, size_t capacity);

/* SUSPENDS (when no receiver waits and the buffer is full).  Sends a copy
 * of *value: straight to the first waiting receiver, else into the buffer,
 * else waits in turn for a receiver or for room.  0 once the value is
 * given; or -1 with errno =
 *   EPIPE      the channel is closed, or was closed while waiting (the
 *              value was not sent);
 *   ETIMEDOUT  deadline_ns passed first (not sent);
 *   ECANCELED  the caller was cancelled first (not sent).
 * *value is read until the call returns. */
int coro_chan_send(coro_chan *ch, const void *value, int64_t deadline_ns);

/* SUSPENDS (when nothing is buffered and no sender waits).  Receives the
 * oldest value into *value (elem_size bytes written): from the buffer (a
 * waiting sender's value then takes the room freed), else from the first
 * waiting sender, else waits in turn.  0; or -1 with errno =
 *   EPIPE      the channel is closed and everything buffered has been
 *              received (*value untouched);
 *   ETIMEDOUT, ECANCELED  as coro_chan_send (nothing received). */
int coro_chan_recv(coro_chan *ch, void *value, int64_t deadline_ns);

/* Closes ch: no value can be sent any more.  Waiting senders return EPIPE
 * (their values are not sent); receivers get what is buffered, then EPIPE;
 * every waiter is woken.  Closing twice stops the program (API misuse),
 * as in Go.  Does not suspend. */
void coro_chan_close(coro_chan *ch);

/* Values buffered now (always 0 for an unbuffered channel). */
size_t coro_chan_len(const coro_chan *ch);

/* Frees ch, closed or not, and what it still buffers.  With a coroutine
 * still inside a send, receive or select on it: API misuse.  NULL is
 * ignored.  Does not suspend. */
void coro_chan_free(coro_chan *ch);

/* ---- select: the first of several events (Go's select) ---- */

/* What one case of a coro_select waits for. */
enum coro_select_op {
    CORO_SELECT_RECV = 1, /* a value from `chan` into `value` */
    CORO_SELECT_SEND,     /* *value sent on `chan` (read, never written) */
    CORO_SELECT_READ,     /* fd readable (or an error or hang-up on it) */
    CORO_SELECT_WRITE     /* fd writable (or an error or hang-up on it) */
};

typedef struct coro_select_case {
    int op;          /* enum coro_select_op */
    coro_chan *chan; /* RECV, SEND: the channel */
    void *value;     /* RECV: where the value goes; SEND: the value */
    int fd;          /* READ, WRITE: the fd (>= 0); else ignored */
    int err;         /* out, for the case that happened: 0, or EPIPE (its
                        channel is closed: nothing sent or received) */
} coro_select_case;

/* SUSPENDS (when no case can happen at once).  Waits until one of the n
 * cases can happen, makes it happen -- at most one: a channel case that
 * did not happen sent or received nothing -- and returns its index.  When
 * several can happen at once, the first in the array is taken (Go picks at
 * random; rotate the array for fairness).  A channel case "happens" also
 * when its channel is closed (err = EPIPE; a RECV only once the buffer is
 * drained).  An fd case only reports readiness: the caller then makes the
 * system call (which reports errors and hang-ups).  n may be 0: a sleep.
 * Returns the index (>= 0) and sets that case's err; or -1 with errno =
 *   ETIMEDOUT  deadline_ns passed first (no case happened);
 *   ECANCELED  the caller was cancelled first (no case happened);
 *   ENOMEM     no memory for the bookkeeping of more than 8 cases.
 * Stops the program (API misuse) when cases is NULL with n > 0, an op is
 * unknown, a channel is NULL or another thread's, an fd is < 0, or when
 * another coroutine -- or another case of this select -- already waits on
 * an fd for the same direction. */
int coro_select(coro_select_case *cases, size_t n, int64_t deadline_ns);

/* ---- task groups: asyncio.TaskGroup, trio's nursery ---- */

typedef struct coro_group coro_group; /* opaque */

/* A task: 0 when it succeeded; any other value is its error (an errno
 * value such as ECONNREFUSED, by convention), which fails the group. */
typedef int (*coro_task_fn)(void *arg);

/* An empty group.  NULL with errno = ENOMEM.  The caller owns it:
 * coro_group_free once it has no tasks. */
coro_group *coro_group_new(void);

/* Starts fn(arg) as a coroutine of the group (spawned, not running yet,
 * as coro_spawn; opts as coro_spawn's, NULL for defaults; its `detached`
 * is ignored: the group owns the coroutine, and no handle is given out).
 * fn always runs, exactly once, even in a group cancelled meanwhile (its
 * waits then fail with ECANCELED): arg is fn's to free.  From a coroutine
 * (one of the group's tasks too) or main().  Does not suspend.  0, or -1
 * with errno =
 *   ECANCELED  the group is being cancelled (a task failed, or
 *              coro_group_cancel): nothing started;
 *   ENOMEM, EINVAL  as coro_spawn (nothing started). */
int coro_group_spawn(coro_group *g, coro_task_fn fn, void *arg, const coro_opts *opts);

/* Cancels every task of the group (coro_cancel each) and refuses new
 * ones.  Harmless when repeated.  The first task to fail does the same by
 * itself.  Does not suspend. */
void coro_group_cancel(coro_group *g);

/* SUSPENDS (while the group has tasks).  Waits until every task of the
 * group has returned.  0 when none failed; -1 with errno = the error of
 * the first task that failed (the others were then cancelled, and what
 * they returned is not looked at; neither is what tasks return once
 * coro_group_cancel was called).  Or -1 with errno =
 *   ETIMEDOUT  deadline_ns passed first: the tasks go on; wait again;
 *   ECANCELED  the caller was cancelled first: the group is cancelled too
 *              (coro_group_cancel) and its tasks go on until they see it;
 *              wait again (the cancel was delivered once) before freeing.
 * One waiter at a time: a second, or a task of the group waiting for its
 * own group, stops the program (API misuse). */
int coro_group_wait(coro_group *g, int64_t deadline_ns);

/* Tasks not yet returned. */
size_t coro_group_size(const coro_group *g);

/* Frees g.  With tasks not yet returned, or a waiter: API misuse.  NULL is
 * ignored.  Does not suspend. */
void coro_group_free(coro_group *g);

#ifdef __cplusplus
}
#endif
#endif
