/* sched_internal.h - a thread's scheduler state, shared by the three files
 * that make up the scheduler:
 *   scheduler.c   the run queue, switching, parking and waking, and a
 *                 coroutine's life from its first instruction to exit
 *   sched_post.c  posts from other threads (ba_sched_post and its wait)
 *   sched_life.c  a thread's runtime: started by its first spawn (coro.c
 *                 calls ba_sched_up), torn down when coro_run returns
 * Calls go one way, from the two to scheduler.c.
 * Nothing else sees struct sched: coro.c, io.c and offload.c use
 * scheduler.h.  Internal to the runtime.
 */
#ifndef BAREAWAIT_SCHED_INTERNAL_H
#define BAREAWAIT_SCHED_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox.h"
#include "scheduler.h"
#include "timerheap.h"

struct sched {
    struct coro *current;     /* who runs now (&main_co outside coroutines) */
    struct coro main_co;      /* the context that called coro_run */
    struct coro *runq_head;   /* ready coroutines, FIFO */
    struct coro *runq_tail;
    uint64_t live;            /* spawned and not yet returned */
    uint64_t next_id;         /* id of the next spawn */
    unsigned since_poll;      /* switches since the reactor was last asked */
    bool deadlock;            /* nothing can ever wake the parked ones */
    struct coro *zombie;      /* finished detached coroutine whose stack is
                                 freed once we are off it */
    timerheap timers;         /* parked coroutines with a deadline */
    ba_mailbox mail;          /* posts from other threads (ba_sched_post);
                                 fd -1 until the first expected */
    long posts_expected;      /* expected and not yet delivered; mail.fd is
                                 watched while this is > 0 */
    switch_fpenv fp_start;    /* floating-point settings the thread had when
                                 this runtime started: each new coroutine's */
};

/* Gives the CPU to the next ready coroutine, sleeping in the reactor if
 * none is ready.  Returns when someone makes the caller ready again (for
 * main, in coro_run: when every coroutine is done, or none can run).
 * SUSPENDS. */
void ba_sched_switch_away(struct sched *s);

#endif
