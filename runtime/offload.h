/* offload.h - work and news handed between threads.
 *
 * A runtime belongs to one thread (coro.h), and nothing may block that
 * thread: while one coroutine sat in a blocking call, every other one would
 * wait.  Two ways across:
 *   - coro_offload: a coroutine hands a blocking call (getaddrinfo, a disk
 *     read, a long computation) to a worker thread and parks until it is
 *     done -- Python's asyncio.to_thread;
 *   - coro_notifier: a thread that is not the runtime's (a worker of the
 *     program's own, a library's callback thread) tells a coroutine that
 *     something happened -- asyncio's loop.call_soon_threadsafe.
 *
 * Errors: -1 and errno, as coro.h.
 */
#ifndef BAREAWAIT_OFFLOAD_H
#define BAREAWAIT_OFFLOAD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- coro_offload ---- */

typedef void *(*coro_offload_fn)(void *arg);
typedef void (*coro_offload_drop_fn)(void *arg, void *result);

/* Worker threads at most, shared by every runtime of the process; a
 * worker is started when a job finds none idle, and ends after
 * CORO_OFFLOAD_IDLE_MS without work.  exit() ends the idle ones (and joins
 * every ended one); a worker still running fn is not waited for. */
#define CORO_OFFLOAD_WORKERS 16
#define CORO_OFFLOAD_IDLE_MS 1000
/* The stack of a worker thread: fn runs on it. */
#define CORO_OFFLOAD_STACK (256 * 1024)
/* A worker thread's name (what top -H and /proc/PID/task/TID/comm show). */
#define CORO_OFFLOAD_THREAD_NAME "ba-offload"

/* SUSPENDS.  Runs fn(arg) on a worker thread and parks the calling
 * coroutine until fn returns; then stores fn's result in *result (result
 * may be NULL) and returns 0.  Jobs start in the order they were handed
 * over, at most CORO_OFFLOAD_WORKERS at once in the process.
 * fn runs on the worker with every signal blocked.  It must not call into
 * the caller's runtime (coro_*, io_*, http_* of the caller's thread); it
 * may run a runtime of its own.
 * Memory: what the caller wrote before this call is visible to fn; what fn
 * wrote is visible to the caller when this returns 0.
 * Returns -1 with errno =
 *   ETIMEDOUT  deadline_ns passed first, or
 *   ECANCELED  the caller was cancelled first:
 *              the caller stops waiting at once, but fn cannot be stopped:
 *              it runs (or, if not started yet, still starts) to its end on
 *              the worker, which then calls drop(arg, result) there (unless
 *              drop is NULL).  So arg must stay valid until then: after
 *              this error the caller no longer owns arg; drop frees it.
 *              (If fn had already returned when the deadline or the cancel
 *              came, the result is taken and 0 returned; a cancel then
 *              stays pending for the caller's next wait.)
 *   EAGAIN     no worker was idle and none could be started;
 *   EMFILE / ENFILE  no fd for the eventfd the calling thread's runtime
 *              makes on its first offload (to be woken through);
 *   ENOMEM     no memory for the job.
 * A NULL fn stops the program (API misuse).
 * fork(): the child starts with no workers and an empty queue; jobs
 * handed over before the fork run in the parent only (in the child, a
 * coroutine waiting for one waits until its deadline). */
int coro_offload(coro_offload_fn fn, void *arg, coro_offload_drop_fn drop, void **result,
                 int64_t deadline_ns);

/* ---- coro_notifier ---- */

/* A count other threads add to, which one coroutine waits on.  Made with
 * an eventfd: one file descriptor each. */
typedef struct coro_notifier coro_notifier;

/* Makes a notifier with a count of 0.  Any thread; needs no runtime.
 * NULL with errno = EMFILE, ENFILE or ENOMEM. */
coro_notifier *coro_notifier_new(void);

/* Adds one to n's count and wakes the coroutine waiting on it, if any.
 * Any thread, also the waiter's own, at any time until coro_notifier_free
 * (never during or after it).  Does not suspend.  Memory: what the caller
 * wrote before coro_notify is visible to the waiter once the
 * coro_notifier_wait that takes this count has returned (release here,
 * acquire there).  0, or -1/errno (the eventfd write failed: EBADF after a
 * free is API misuse the kernel may or may not catch).  A NULL n stops the
 * program (API misuse). */
int coro_notify(coro_notifier *n);

/* SUSPENDS.  Waits until n's count is above 0, then takes the whole count
 * (sets it to 0) and returns it (>= 1): notifies that came while nobody
 * waited are not lost, and several may be taken at once.  -1/ETIMEDOUT if
 * deadline_ns passed first, -1/ECANCELED if cancelled first (the count is
 * left).  One waiter at a time: a second coroutine waiting on the same n
 * (of any thread), or a NULL n, stops the program (API misuse). */
long coro_notifier_wait(coro_notifier *n, int64_t deadline_ns);

/* Frees n and closes its eventfd.  On the waiter's thread, with nobody
 * waiting on n and no other thread still to call coro_notify on it.  NULL
 * is ignored.  Does not suspend. */
void coro_notifier_free(coro_notifier *n);

#ifdef __cplusplus
}
#endif
#endif
