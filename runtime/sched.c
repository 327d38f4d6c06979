/* sched.c - the scheduler: run queue, switching, parking and waking.
 *
 * There is no scheduler "thread" or loop of its own.  Whoever gives up the
 * CPU -- a coroutine parking in coro_wait, yielding, or returning, or main()
 * inside coro_run -- runs the scheduling step itself (ba_sched_switch_away):
 *
 *     next = pop the run queue
 *     while nothing is ready: sleep in epoll until an fd or deadline is due
 *     switch straight to next
 *
 * So a hand-off from A to B is one context switch, never two through a
 * separate scheduler context.  main() is switched back to only when the last
 * coroutine has returned (or when nothing could ever run again).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "misuse.h"
#include "reactor.h"
#include "sanitize.h"
#include "sched_state.h"

/* While coroutines keep each other busy, still look at epoll (without
 * sleeping) once every this many switches, so fd waiters are not starved. */
#define POLL_EVERY 64

struct sched ba_sched;

int64_t coro_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t coro_deadline_in(int64_t ms)
{
    if (ms < 0)
        return CORO_NEVER;
    int64_t now = coro_now();
    if (ms > (CORO_NEVER - now) / 1000000)
        return CORO_NEVER; /* further than the clock goes: never */
    return now + ms * 1000000;
}

/* ---- run queue ---- */

void ba_sched_make_ready(struct coro *c)
{
    c->state = CORO_READY;
    c->next = NULL;
    if (ba_sched.runq_tail)
        ba_sched.runq_tail->next = c;
    else
        ba_sched.runq_head = c;
    ba_sched.runq_tail = c;
}

static struct coro *runq_pop(void)
{
    struct coro *c = ba_sched.runq_head;
    if (c) {
        ba_sched.runq_head = c->next;
        if (!ba_sched.runq_head)
            ba_sched.runq_tail = NULL;
    }
    return c;
}

/* ---- waking ---- */

void ba_sched_wake(struct coro *c, coro_wake reason)
{
    assert(c->state == CORO_PARKED);
    if (c->wait_fd >= 0) {
        ba_reactor_unwatch(c->wait_fd, c->wait_events);
        c->wait_fd = -1;
    }
    if (c->timer.index != TIMERHEAP_NONE)
        ba_timerheap_remove(&ba_sched.timers, &c->timer);
    c->wake_reason = reason;
    sched_trace(CORO_EV_WAKE, c, reason);
    ba_sched_make_ready(c);
}

static void wake_ready(void *waiter)
{
    ba_sched_wake(waiter, CORO_WOKE_READY);
}

static void expire_timers(void)
{
    if (!ba_sched.timers.len)
        return;
    int64_t now = coro_now();
    timer_node *t;
    while ((t = ba_timerheap_peek(&ba_sched.timers)) && t->deadline <= now) {
        struct coro *c = (struct coro *)((char *)t - offsetof(struct coro, timer));
        ba_sched_wake(c, CORO_WOKE_TIMEOUT);
    }
}

/* Asks epoll what is ready (sleeping until the nearest deadline if `block`)
 * and moves every coroutine whose fd or deadline is due to the run queue. */
static void poll_reactor(int block)
{
    int64_t timeout = 0;
    if (block) {
        timer_node *t = ba_timerheap_peek(&ba_sched.timers);
        timeout = t ? t->deadline - coro_now() : -1;
        if (t && timeout < 0)
            timeout = 0;
        sched_trace(CORO_EV_POLL, NULL, CORO_WOKE_READY);
    }
    if (ba_reactor_poll(timeout, wake_ready) < 0) {
        perror("bareawait: epoll_wait");
        abort(); /* the epoll fd itself is broken: a bug, not bad input */
    }
    expire_timers();
    ba_sched.since_poll = 0;
}

/* ---- switching ---- */

/* The next coroutine to run: the head of the run queue, after sleeping in
 * the reactor if the queue is empty.  main_co when everything has finished
 * or when nothing could ever run again (deadlock). */
static struct coro *pick_next(void)
{
    if (++ba_sched.since_poll >= POLL_EVERY && (ba_reactor_waiters() || ba_sched.timers.len))
        poll_reactor(0);
    for (;;) {
        struct coro *c = runq_pop();
        if (c)
            return c;
        if (ba_sched.live == 0)
            return &ba_sched.main_co;
        if (ba_reactor_waiters() == 0 && ba_sched.timers.len == 0) {
            ba_sched.deadlock = true;
            return &ba_sched.main_co;
        }
        poll_reactor(1);
    }
}

static void switch_to(struct coro *next)
{
    struct coro *self = ba_sched.current;
    bool dying = self->state == CORO_DONE;
    ba_sched.current = next;
    next->state = CORO_RUNNING;
    sched_trace(CORO_EV_RESUME, next, CORO_WOKE_READY);
    san_switch_begin(dying ? NULL : &self->asan_fake_stack, next->stack.lo,
                     (size_t)(next->stack.hi - next->stack.lo));
    ba_switch_jump(&self->ctx, &next->ctx);
    ba_sched_arrived();
}

void ba_sched_arrived(void)
{
    const void *from_bottom = NULL;
    size_t from_size = 0;
    san_switch_end(ba_sched.current->asan_fake_stack, &from_bottom, &from_size);
    if (from_bottom && !ba_sched.main_co.stack.lo && ba_sched.current != &ba_sched.main_co) {
        /* The first switch away from main tells us where main's stack is;
         * ASan needs it to switch back. */
        ba_sched.main_co.stack.lo = (char *)from_bottom;
        ba_sched.main_co.stack.hi = (char *)from_bottom + from_size;
    }
    if (ba_sched.zombie) {
        ba_sched.zombie->state = CORO_GONE;
        ba_stack_put(&ba_sched.zombie->stack);
        ba_sched.zombie = NULL;
    }
}

void ba_sched_switch_away(void)
{
    struct coro *next = pick_next();
    if (next != ba_sched.current) {
        switch_to(next);
    } else { /* we were the one made ready: carry on, no switch needed */
        next->state = CORO_RUNNING;
        sched_trace(CORO_EV_RESUME, next, CORO_WOKE_READY);
    }
}

/* ---- misuse: coro.h's contracts, checked in every build type ---- */

static _Noreturn void misuse_outside(const char *call)
{
    if (ba_sched.in_trace)
        ba_misuse(call, "called from the trace hook, which must not suspend");
    ba_misuse(call, "called outside any coroutine");
}

void ba_sched_need_coroutine(const char *call)
{
    /* !up: nothing was spawned yet, or coro_run has returned. */
    if (__builtin_expect(!ba_sched.up || ba_sched.current == &ba_sched.main_co ||
                         ba_sched.in_trace, 0))
        misuse_outside(call);
}

static _Noreturn void misuse_events(const char *call, int fd, int events)
{
    char what[128];
    snprintf(what, sizeof what, "events %d on fd %d: CORO_READ, CORO_WRITE or both",
             events, fd);
    ba_misuse(call, what);
}

static _Noreturn void misuse_second_waiter(const char *call, int fd, int events)
{
    const struct coro *self = ba_sched.current;
    const char *how = events == CORO_READ ? "read" : events == CORO_WRITE ? "write" : "read and write";
    char what[192];
    snprintf(what, sizeof what,
             "coroutine %" PRIu64 " \"%s\" waits to %s fd %d, which another coroutine "
             "already waits on (one waiter per fd and direction)",
             self->id, self->name, how, fd);
    ba_misuse(call, what);
}

/* ---- the public waits ---- */

coro_wake ba_sched_wait(const char *call, int fd, int events, int64_t deadline_ns)
{
    ba_sched_need_coroutine(call);
    struct coro *self = ba_sched.current;
    if (fd >= 0 && (events & ~(CORO_READ | CORO_WRITE) || events == 0))
        misuse_events(call, fd, events);
    if (self->cancel_pending) {
        self->cancel_pending = false;
        return CORO_WOKE_CANCELLED;
    }
    /* A regular file cannot be polled (EPERM): it is always ready.  Other
     * failures (ENOMEM) also return at once: the caller's syscall retries. */
    if (fd >= 0 && ba_reactor_watch(fd, events, self) < 0) {
        if (errno == EBUSY)
            misuse_second_waiter(call, fd, events);
        return CORO_WOKE_READY;
    }
    self->wait_fd = fd >= 0 ? fd : -1;
    self->wait_events = events;
    if (deadline_ns != CORO_NEVER) {
        self->timer.deadline = deadline_ns;
        ba_timerheap_insert(&ba_sched.timers, &self->timer);
    }
    self->state = CORO_PARKED;
    sched_trace(fd >= 0 ? CORO_EV_PARK_FD : CORO_EV_PARK_TIMER, self, CORO_WOKE_READY);
    ba_sched_switch_away();
    coro_wake why = self->wake_reason;
    self->wake_reason = CORO_WOKE_READY; /* delivered */
    return why;
}

coro_wake coro_wait(int fd, int events, int64_t deadline_ns)
{
    return ba_sched_wait("coro_wait", fd, events, deadline_ns);
}

int coro_sleep_until(int64_t deadline_ns)
{
    /* A coro_wakeup is not the time having come: sleep again. */
    for (;;) {
        coro_wake why = ba_sched_wait("coro_sleep_until", -1, 0, deadline_ns);
        if (why == CORO_WOKE_CANCELLED) {
            errno = ECANCELED;
            return -1;
        }
        if (why == CORO_WOKE_TIMEOUT)
            return 0;
    }
}

int coro_yield(void)
{
    ba_sched_need_coroutine("coro_yield");
    struct coro *self = ba_sched.current;
    ba_sched_make_ready(self);
    ba_sched_switch_away();
    if (self->cancel_pending) {
        self->cancel_pending = false;
        errno = ECANCELED;
        return -1;
    }
    return 0;
}

int coro_close(int fd)
{
    if (ba_sched.up)
        ba_reactor_forget(fd, wake_ready);
    return close(fd);
}

/* ---- life of the runtime ---- */

int ba_sched_init(void)
{
    coro_trace_fn fn = ba_sched.trace_fn; /* the hook survives restarts */
    void *user = ba_sched.trace_user;
    memset(&ba_sched, 0, sizeof ba_sched);
    ba_sched.trace_fn = fn;
    ba_sched.trace_user = user;
    if (ba_reactor_open() < 0)
        return -1;
    if (ba_overflow_handler_install() < 0) {
        ba_reactor_close();
        return -1;
    }
    ba_sched.main_co.wait_fd = -1;
    ba_sched.main_co.timer.index = TIMERHEAP_NONE;
    strcpy(ba_sched.main_co.name, "main");
    ba_sched.current = &ba_sched.main_co;
    ba_sched.next_id = 1;
    ba_sched.up = true;
    return 0;
}

void ba_sched_teardown(void)
{
    ba_reactor_close();
    ba_stack_release_all();
    ba_timerheap_free(&ba_sched.timers);
    ba_overflow_handler_remove();
    ba_sched.up = false;
    ba_sched.current = NULL;
    ba_sched.runq_head = ba_sched.runq_tail = NULL;
    ba_sched.live = 0;
}

static _Noreturn void misuse_run_nested(void)
{
    char what[128];
    snprintf(what, sizeof what,
             "called from coroutine %" PRIu64 " \"%s\"; only main() runs the scheduler",
             ba_sched.current->id, ba_sched.current->name);
    ba_misuse("coro_run", what);
}

int coro_run(void)
{
    if (!ba_sched.up)
        return 0; /* nothing was ever spawned */
    if (ba_sched.in_trace)
        ba_misuse("coro_run", "called from the trace hook");
    if (ba_sched.current != &ba_sched.main_co)
        misuse_run_nested();
    ba_sched_switch_away(); /* main parks until every coroutine is done */
    bool deadlock = ba_sched.deadlock;
    ba_sched_teardown();
    if (deadlock) {
        errno = EDEADLK;
        return -1;
    }
    return 0;
}
