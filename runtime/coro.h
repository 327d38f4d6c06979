/* coro.h - coroutines, the scheduler, and the one wait primitive.
 *
 * This is the part of bareawait that `await` hides.  A coroutine is a
 * function with its own stack.  When it must wait (for a socket, a
 * deadline, another coroutine), it *parks*: the scheduler saves its
 * registers and switches straight to the next ready coroutine.  When
 * nothing is ready, the scheduler asks the reactor (epoll) to sleep
 * until an fd is ready or the nearest deadline passes.
 *
 * A runtime per thread.  A thread's first coro_spawn() (or coro_reserve())
 * gives it a runtime of its own -- scheduler, run queue, epoll reactor,
 * timers, stack pool, trace hook -- torn down (stacks unmapped, epoll fd
 * closed) when that thread's coro_run() returns.  Threads share nothing
 * through it: two threads may each spawn and run their own coroutines at
 * the same time, and a coroutine runs only ever on the thread that spawned
 * it (never migrates).  Every call below acts on the calling thread's
 * runtime; a handle (coro_t *) may be used only on the thread that spawned
 * it -- joining, detaching, cancelling or waking another thread's coroutine
 * stops the program (API misuse).  To hand work or news between threads,
 * see offload.h (coro_offload, coro_notifier): those calls say which
 * threads may make them.  For coroutines that wait for each other
 * (semaphores, channels, select, task groups), see sync.h.
 *
 * Signals: the thread's signal mask is the thread's, not a coroutine's.  A
 * switch neither saves nor restores it: a signal one coroutine blocks with
 * pthread_sigmask stays blocked for every coroutine and for main() until
 * someone unblocks it, and a new coroutine starts with the mask of the
 * moment it first runs.  The same with either switch backend.
 *
 * Floating point: the control settings (rounding mode, exception masks;
 * MXCSR and the x87 control word, FPCR on aarch64) are each coroutine's,
 * kept across its switches as the ABI keeps them across a call.  A new
 * coroutine starts, with the asm backend, with those its thread had when
 * its runtime started (the first coro_spawn or coro_reserve since the last
 * coro_run returned), not its spawner's: reading the running settings is
 * the slowest step of a switch on x86_64, and a spawn need not; with
 * ucontext, with those of the process's first spawn.  The sticky
 * exception flags (fetestexcept) are promised neither way, as the ABI does
 * not keep them across a call: a coroutine gets them back as they were
 * when it switched out on x86_64 and with ucontext; with asm on aarch64
 * (FPSR) they are the thread's.
 *
 * Errors: -1 and errno, like POSIX.  Calls marked SUSPENDS may park the
 * calling coroutine; every other call returns without switching.  Only a
 * coroutine may call a SUSPENDS function, and not from the trace hook.
 *
 * API misuse -- breaking a contract below that says "stops the program
 * (API misuse)" -- is a bug in the caller: the runtime prints one line,
 * "bareawait: CALL: WHAT (API misuse)", on stderr and calls abort(), in
 * every build type (NDEBUG or not).  A SUSPENDS call from outside a
 * coroutine is one, on its first call, even when it would not have had to
 * wait.
 */
#ifndef BAREAWAIT_CORO_H
#define BAREAWAIT_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct coro coro_t;            /* opaque; a handle to one coroutine */
typedef void *(*coro_fn)(void *arg);   /* body; its return value is the result */

/* Options for coro_spawn.  Pass NULL for all defaults. */
typedef struct coro_opts {
    size_t stack_size;  /* usable stack in bytes; 0 = CORO_DEFAULT_STACK.
                           Rounded up to whole pages. */
    const char *name;   /* for traces and error messages; copied (truncated
                           to 23 bytes); NULL = "coro" */
    bool detached;      /* true: nobody will join; its memory is recycled
                           as soon as it returns and the handle is invalid */
} coro_opts;

#define CORO_DEFAULT_STACK (64 * 1024)

/* Creates a coroutine that will run fn(arg).  It does not run yet: it is
 * put at the tail of the run queue and starts when the scheduler reaches
 * it (the seed's step 1: "coroutine created, waiting to run").
 * Returns a handle, or NULL with errno = ENOMEM (no stack could be had)
 * or EINVAL (stack_size absurdly large).  A NULL fn stops the program
 * (API misuse).  Does not suspend. */
coro_t *coro_spawn(coro_fn fn, void *arg, const coro_opts *opts);

/* Gets the next `count` coro_spawn() calls with this stack_size (0 = the
 * default; any size that rounds to the same whole pages will do) ready
 * ahead, for a burst you know is coming.  Stacks already free count.  The
 * others are mapped, their guard pages installed, and the top of each (the
 * page or two where the coroutine's handle and first frames go) faulted in
 * now -- spread over the cores this process may use when count is in the
 * thousands: up to 8 helper threads, one per 8192 stacks, all joined
 * before this returns.  (A side effect: glibc counts the process as
 * multi-threaded from then on, which makes malloc and stdio take their
 * locks.)  Without it, each coro_spawn that finds no free stack pays its
 * own page fault (~1.7 us on the dev VM, most of such a spawn).  The pages
 * stay committed, as if that many coroutines had run.
 * Does not suspend, but holds up every coroutine while it works (~1 s for
 * a million on the dev VM).  Call it from main() or from a coroutine with
 * a stack of at least CORO_DEFAULT_STACK: starting threads needs a few KiB
 * of stack more; a smaller one stops the program (API misuse).
 * Returns 0, or -1 with errno = ENOMEM (count
 * more than the machine's pages, or out of memory or address space),
 * EINVAL (stack_size absurdly large), or an error of epoll_create1 when it
 * starts the runtime. */
int coro_reserve(size_t count, size_t stack_size);

/* Runs the calling thread's scheduler until every coroutine of that thread
 * has finished, then frees its runtime's resources.  Called from main() or
 * from the top of any thread (the thread's own stack); from a coroutine (or
 * the trace hook) it stops the program (API misuse).  Without a runtime on
 * this thread (nothing spawned) it returns 0 at once.
 * Returns 0; or -1 with errno = EDEADLK if coroutines remain parked with
 * nothing that could ever wake them (no fd, no deadline, nobody to join):
 * those are abandoned -- their stacks are unmapped without unwinding, and
 * fds they held stay open. */
int coro_run(void);

/* Why a wait ended. */
typedef enum coro_wake {
    CORO_WOKE_READY = 0,     /* the fd is ready, or another coroutine woke us */
    CORO_WOKE_TIMEOUT = 1,   /* the deadline passed first */
    CORO_WOKE_CANCELLED = 2, /* coro_cancel() was called on us */
    CORO_WOKE_FAILED = 3     /* the fd could not be watched (epoll_ctl failed:
                                errno ENOMEM, ENOSPC...): nothing was waited
                                for, and retrying at once would spin */
} coro_wake;

/* What to wait for on an fd. */
enum { CORO_READ = 1, CORO_WRITE = 2 };

/* No deadline. */
#define CORO_NEVER INT64_MAX

/* SUSPENDS.  The one wait primitive every blocking call funnels into.
 * Parks the calling coroutine until
 *   - fd (>= 0) becomes ready for `events` (CORO_READ and/or CORO_WRITE;
 *     errors and hang-ups count as ready: the next syscall reports them),
 *   - the monotonic clock reaches `deadline_ns` (see coro_now; CORO_NEVER
 *     for none), or
 *   - the coroutine is cancelled.
 * With fd < 0 it only sleeps until the deadline (or cancellation), and
 * events is ignored.
 * Stops the program (API misuse) when a second coroutine waits on an fd
 * for a direction another already waits for, or when fd >= 0 and events is
 * not CORO_READ, CORO_WRITE or both.
 * Returns why it woke; CORO_WOKE_FAILED, without waiting, when epoll
 * cannot watch fd (errno ENOMEM or ENOSPC, as epoll_ctl gave it): the
 * caller must treat that as an error, since trying its syscall again at
 * once would spin without ever yielding.  (A regular file, which epoll
 * refuses, is always ready: CORO_WOKE_READY at once.) */
coro_wake coro_wait(int fd, int events, int64_t deadline_ns);

/* SUSPENDS.  Parks the calling coroutine until another coroutine of its
 * thread calls coro_wakeup on it (CORO_WOKE_READY), deadline_ns passes
 * (CORO_WOKE_TIMEOUT; CORO_NEVER for none) or it is cancelled
 * (CORO_WOKE_CANCELLED).  The same as coro_wait(-1, 0, deadline_ns), named
 * for what it means: "until woken".  A wakeup may come for news the caller
 * has already seen, so callers check their condition and park again. */
coro_wake coro_park(int64_t deadline_ns);

/* Monotonic clock in nanoseconds, the time base of every deadline.  Any
 * thread. */
int64_t coro_now(void);

/* Deadline `ms` milliseconds from now; a negative ms means CORO_NEVER.
 * Any thread. */
int64_t coro_deadline_in(int64_t ms);

/* SUSPENDS.  Sleeps until deadline_ns.  0 when the time came;
 * -1/ECANCELED if cancelled first. */
int coro_sleep_until(int64_t deadline_ns);

/* SUSPENDS.  Goes to the back of the run queue so others run first.
 * 0; or -1/ECANCELED if the coroutine was cancelled before or during. */
int coro_yield(void);

/* SUSPENDS.  Waits for `c` to return and stores its result in *result
 * (result may be NULL), then frees the handle.  0 on success.
 * -1/ECANCELED if the caller was cancelled while waiting: the handle stays
 * valid and can be joined again.  Stops the program (API misuse) when c is
 * NULL, detached, the caller itself, already being joined by another
 * coroutine, or already joined.  (A joined or detached-and-finished
 * handle is caught only until a later coro_spawn reuses its memory: after
 * that it names the new coroutine.)  The same as
 * coro_join_until(c, result, CORO_NEVER). */
int coro_join(coro_t *c, void **result);

/* SUSPENDS.  coro_join with a deadline: also -1/ETIMEDOUT when
 * deadline_ns passes before c returns; the handle then stays valid and
 * joinable (c runs on), as after ECANCELED.  A c that has already
 * returned is joined at once, whatever the deadline. */
int coro_join_until(coro_t *c, void **result, int64_t deadline_ns);

/* Makes c, parked in coro_wait, ready again: its wait returns
 * CORO_WOKE_READY.  This is how one coroutine hands news to another (a
 * free connection, a finished job).  Does nothing unless c is parked.
 * Does not suspend. */
void coro_wakeup(coro_t *c);

/* Gives up the right to join c: its memory is recycled when it returns
 * (at once if it already has).  Stops the program (API misuse) when c is
 * NULL, already detached, being joined, or already joined (caught as in
 * coro_join).  Does not suspend. */
void coro_detach(coro_t *c);

/* Asks c to stop: its current wait -- or, if it is not waiting, its next
 * one -- returns CORO_WOKE_CANCELLED (ECANCELED from helpers).  Delivered
 * once, like asyncio's CancelledError: later waits work again, so the
 * coroutine can still clean up (close, join its children).  Cancelling a
 * finished coroutine, or oneself, is harmless.  Does not suspend. */
void coro_cancel(coro_t *c);

/* The running coroutine, or NULL when called from outside any coroutine. */
coro_t *coro_self(void);

/* A coroutine's id (1, 2, ... in spawn order on its thread, starting
 * again at 1 with each runtime; 0 for NULL = main).  Any thread, while the
 * handle is valid. */
uint64_t coro_id(const coro_t *c);

/* A coroutine's name ("main" for NULL).  Any thread, as coro_id. */
const char *coro_name(const coro_t *c);

/* Forgets everything the reactor knows about fd, then closes it.  Use it
 * instead of close() for every fd a coroutine has waited on (io.h's
 * helpers wait on theirs): after a plain close() the reactor would take a
 * new fd of that number for the old one, and a wait on it might not end
 * before its deadline.  Returns close()'s result.  Does not suspend. */
int coro_close(int fd);

/* ---- tracing: what the runtime did, for tools such as fetch --trace ---- */

typedef enum coro_event_kind {
    CORO_EV_SPAWN,      /* co was created (not yet running) */
    CORO_EV_RESUME,     /* the scheduler switched to co */
    CORO_EV_PARK_FD,    /* co parked on fd for events, maybe with a deadline */
    CORO_EV_PARK_TIMER, /* co parked with no fd: until its deadline, or
                           until another coroutine wakes it (join) */
    CORO_EV_WAKE,       /* co was made ready again, for `reason` */
    CORO_EV_EXIT,       /* co's function returned */
    CORO_EV_POLL,       /* nothing is ready: the thread is about to sleep in
                           epoll_wait (not traced for a poll that cannot
                           sleep).  `co` is the coroutine whose deadline
                           limits the sleep, `deadline_ns` that deadline;
                           co NULL and CORO_NEVER: no limit */
    CORO_EV_POLL_DONE   /* epoll_wait returned (co is NULL); the WAKEs since
                           the POLL are what it (and the timers) made ready */
} coro_event_kind;

typedef struct coro_event {
    coro_event_kind kind;
    const coro_t *co;     /* the coroutine concerned (NULL for POLL) */
    uint64_t id;          /* coro_id(co) */
    const char *name;     /* coro_name(co) */
    int fd;               /* PARK_FD, WAKE: the fd waited on; otherwise -1 */
    int events;           /* PARK_FD, WAKE: CORO_READ / CORO_WRITE */
    int64_t deadline_ns;  /* PARK_*, WAKE, POLL: the deadline, CORO_NEVER if none */
    coro_wake reason;     /* WAKE: why */
    int64_t at_ns;        /* coro_now() when it happened */
} coro_event;

typedef void (*coro_trace_fn)(const coro_event *ev, void *user);

/* Installs (or with NULL removes) the calling thread's trace hook: it sees
 * that thread's runtime's events, across restarts of it.  Called
 * synchronously on the coroutine concerned; a SUSPENDS call (or coro_run)
 * from it stops the program (API misuse).  Costs one predictable branch
 * per event when off. */
void coro_set_trace(coro_trace_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
