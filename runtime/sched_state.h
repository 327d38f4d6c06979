/* sched_state.h - the scheduler's insides, shared by sched.c and coro.c.
 * Internal to the runtime: users see only coro.h.
 */
#ifndef BAREAWAIT_SCHED_STATE_H
#define BAREAWAIT_SCHED_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <bareawait/coro.h>
#include "stack.h"
#include "switch.h"
#include "timerheap.h"
#include "wait.h"

/* A coroutine's life:
 *   READY   on the run queue, waiting for the CPU (new ones start here)
 *   RUNNING the one coroutine whose code is executing (ba_sched.current)
 *   PARKED  inside coro_wait: on an fd, a deadline, or another coroutine
 *   DONE    its function returned; the handle waits for coro_join
 *   GONE    joined, or detached and finished: the memory is a free stack
 *           now.  Written so that a later join or detach of the stale
 *           handle can say so -- until a new coro_spawn reuses the stack.
 */
enum coro_state { CORO_READY, CORO_RUNNING, CORO_PARKED, CORO_DONE, CORO_GONE };

struct coro {
    switch_ctx ctx;         /* registers saved while not running */
    struct coro *next;      /* run-queue link */
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
    stack_slot stack;       /* the slot this struct lives at the top of */
    void *asan_fake_stack;  /* ASan's per-fiber state (unused otherwise) */
    uint64_t id;            /* 1, 2, ...; 0 is main */
    char name[24];
};

struct sched {
    bool up;                  /* runtime initialised (first spawn) */
    struct coro *current;     /* who runs now (&main_co outside coroutines) */
    struct coro main_co;      /* the context that called coro_run */
    struct coro *runq_head;   /* ready coroutines, FIFO */
    struct coro *runq_tail;
    uint64_t live;            /* spawned and not yet returned */
    uint64_t next_id;         /* id of the next spawn */
    unsigned since_poll;      /* switches since the reactor was last asked */
    bool deadlock;            /* nothing can ever wake the parked ones */
    bool in_trace;            /* inside the trace hook, which must not suspend */
    struct coro *zombie;      /* finished detached coroutine whose stack is
                                 freed once we are off it */
    timerheap timers;         /* parked coroutines with a deadline */
    coro_trace_fn trace_fn;   /* the trace hook, or NULL */
    void *trace_user;
};

extern struct sched ba_sched;

/* Emits a trace event if a hook is installed. */
void ba_sched_trace_emit(coro_event_kind kind, const struct coro *c, coro_wake reason);
static inline void sched_trace(coro_event_kind kind, const struct coro *c,
                               coro_wake reason)
{
    if (__builtin_expect(ba_sched.trace_fn != 0, 0))
        ba_sched_trace_emit(kind, c, reason);
}

/* Appends c to the run queue (state READY). */
void ba_sched_make_ready(struct coro *c);

/* Makes a PARKED coroutine ready, for `reason`, undoing its fd watch and
 * its timer. */
void ba_sched_wake(struct coro *c, coro_wake reason);

/* Gives the CPU to the next ready coroutine, sleeping in the reactor if
 * none is ready.  Returns when someone makes the caller ready again. */
void ba_sched_switch_away(void);

/* Runs on a stack right after arriving there: finishes the sanitizer's
 * switch and frees a zombie we just left. */
void ba_sched_arrived(void);

/* Sets the runtime up at the first spawn; tears it down at coro_run's end. */
int ba_sched_init(void);
void ba_sched_teardown(void);

/* Installs / removes the SIGSEGV handler that reports stack overflows. */
int ba_overflow_handler_install(void);
void ba_overflow_handler_remove(void);

#endif
