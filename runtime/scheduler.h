/* scheduler.h - the scheduler's interface to the rest of the runtime.
 *
 * scheduler.c (with sched_post.c and sched_life.c, which share
 * sched_internal.h) owns every piece of a thread's scheduler state (the
 * run queue, the current coroutine, the timer heap, the reactor it drives,
 * the stack pool it takes stacks from) and the life of a coroutine from
 * its first instruction to its exit.  coro.c (the public API), io.c and offload.c
 * are built on the calls below; none of them sees struct sched.
 *
 * Per thread: a thread's first coro_spawn (or coro_reserve) gives it a
 * runtime of its own, torn down when its coro_run returns.  Every call here
 * acts on the calling thread's runtime; only ba_sched_post may be called
 * from another thread.
 * Internal to the runtime: users see only coro.h and offload.h.
 */
#ifndef BAREAWAIT_SCHEDULER_H
#define BAREAWAIT_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include <bareawait/coro.h>
#include "mailbox.h"
#include "stack.h"
#include "switch.h"
#include "timerheap.h"

struct sched;
struct ba_post;

/* A coroutine's life:
 *   READY   on the run queue, waiting for the CPU (new ones start here)
 *   RUNNING the one coroutine whose code is executing on its thread
 *   PARKED  inside a wait: on an fd, a deadline, another coroutine, or a
 *           post from another thread
 *   DONE    its function returned; the handle waits for coro_join
 *   GONE    joined, or detached and finished: the memory is a free stack
 *           now.  Written so that a later join or detach of the stale
 *           handle can say so -- until a new coro_spawn reuses the stack.
 */
enum coro_state { CORO_READY, CORO_RUNNING, CORO_PARKED, CORO_DONE, CORO_GONE };

/* One coroutine.  It lives at the top of its own stack.  scheduler.c writes the
 * scheduling fields; coro.c reads them and owns detached/joiner/result. */
struct coro {
    switch_ctx ctx;         /* registers saved while not running */
    struct coro *next;      /* run-queue link */
    struct sched *owner;    /* the runtime (thread) it belongs to, for ever */
    coro_fn fn;             /* the body... */
    void *arg;              /* ...its argument... */
    void *result;           /* ...and what it returned */
    enum coro_state state;
    bool detached;          /* recycle at exit; nobody joins */
    bool cancel_pending;    /* coro_cancel() not yet delivered to a wait */
    coro_wake wake_reason;  /* why the last wait ended */
    int wait_fd;            /* PARKED on this fd, or -1 */
    int wait_events;        /* CORO_READ / CORO_WRITE on wait_fd */
    timer_node timer;       /* deadline of the current wait, if any */
    struct coro *joiner;    /* parked in coro_join on us, or NULL */
    const struct ba_post *wait_post; /* PARKED for this post, or NULL */
    stack_slot stack;       /* the slot this struct lives at the top of */
    void *asan_fake_stack;  /* ASan's per-fiber state (unused otherwise) */
    void *tsan_fiber;       /* ThreadSanitizer's fiber from its first run to
                               its exit, else NULL (unused otherwise) */
    uint64_t id;            /* 1, 2, ... per thread; 0 is main */
    char name[24];
};

/* ---- the running coroutine and its runtime ---- */

/* This thread's scheduler (opaque here), NULL while it has no runtime. */
extern _Thread_local struct sched *ba_sched_tls __attribute__((tls_model("initial-exec")));

/* ba_sched_up's work when the thread has no runtime yet (sched_life.c). */
int ba_sched_start(void);

/* Starts this thread's runtime if it has none.  0, or -1/errno (an error of
 * epoll_create1, sigaltstack, or ENOMEM).  Inline: every spawn asks. */
static inline int ba_sched_up(void)
{
    return ba_sched_tls ? 0 : ba_sched_start();
}

/* The running coroutine, or NULL outside any (main, or no runtime). */
struct coro *ba_sched_current(void);



/* Stops the program (API misuse) unless the caller is a coroutine, and not
 * inside the trace hook: `call` is the public SUSPENDS function it called.
 * Every SUSPENDS call starts with it, so that the misuse shows the first
 * time, not only on the day the syscall would block.  Returns the caller. */
struct coro *ba_sched_need_coroutine(const char *call);

/* True if c belongs to the calling thread's runtime. */
static inline bool ba_sched_owns(const struct coro *c)
{
    return c->owner == ba_sched_tls;
}

/* ---- birth and death ---- */

/* A new coroutine with `stack_size` usable bytes that will run fn(arg),
 * named `name` (truncated; NULL: "coro"), at the tail of the run queue.
 * The runtime must be up (ba_sched_up).  NULL/ENOMEM. */
struct coro *ba_sched_spawn(coro_fn fn, void *arg, size_t stack_size, const char *name,
                            bool detached);

/* coro_reserve's work (arguments checked by the caller; the runtime up). */
int ba_sched_reserve(size_t count, size_t stack_size);

/* A DONE coroutine's handle goes back to the stack pool (state GONE). */
void ba_sched_release(struct coro *c);

/* ---- parking and waking ---- */

/* coro_wait(fd, events, deadline_ns), with `call` named in any misuse
 * report (a second waiter on fd, events that are neither CORO_READ nor
 * CORO_WRITE).  CORO_WOKE_FAILED with errno when fd cannot be watched
 * (coro.h).  SUSPENDS. */
coro_wake ba_sched_wait(const char *call, int fd, int events, int64_t deadline_ns);

/* ba_sched_wait with no fd, for a caller that has made sure with
 * ba_sched_need_coroutine that `self` is the running coroutine.  SUSPENDS. */
coro_wake ba_sched_park(struct coro *self, int64_t deadline_ns);

/* Goes to the back of the run queue.  0, or -1/ECANCELED (a cancel that
 * was pending, or came meanwhile, is delivered).  SUSPENDS. */
int ba_sched_yield(const char *call);

/* Makes a PARKED coroutine ready, for `reason`, undoing its fd watch and
 * its timer.  Does nothing to a coroutine that is not parked. */
void ba_sched_wake(struct coro *c, coro_wake reason);

/* ---- news from another thread ---- */

/* A wake another thread sends to a coroutine of this runtime: offload.c's
 * worker posts it when a job is done.  The owner fills it in with
 * ba_sched_post_expect; another thread hands it back with ba_sched_post;
 * the owner waits in ba_sched_post_wait. */
struct ba_post {
    struct ba_mail mail;       /* in the owner's mailbox (first member) */
    struct coro *waiter;       /* who waits for it */
    struct sched *to;          /* the waiter's runtime */
    bool delivered;            /* set by the owner when it takes the post */
};

/* On the owner's thread: `p` will be posted to the running coroutine.
 * 0, or -1/errno (the runtime's eventfd could not be made: EMFILE...). */
int ba_sched_post_expect(struct ba_post *p);

/* From any thread, once per ba_sched_post_expect: hands p to its owner and
 * wakes the owner's thread if it sleeps in epoll_wait.  Everything the
 * poster wrote before this call is visible to the waiter once
 * ba_sched_post_wait returns CORO_WOKE_READY (release here, acquire there).
 * After it returns the poster must not touch p: the waiter may free it. */
void ba_sched_post(struct ba_post *p);

/* SUSPENDS.  Parks until p has been posted (CORO_WOKE_READY), the deadline
 * passes or the caller is cancelled.  A coroutine cancelled or timed out
 * here must still wait again (CORO_NEVER) if the post can still come:
 * p stays in use until it is delivered. */
coro_wake ba_sched_post_wait(const char *call, struct ba_post *p, int64_t deadline_ns);

/* On the owner's thread: the post p was expected for will never be made
 * (the other thread was told to drop it and agreed).  Undoes
 * ba_sched_post_expect. */
void ba_sched_post_forget(struct ba_post *p);

#endif
