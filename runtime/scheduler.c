/* scheduler.c - the scheduler: a thread's run queue, switching, parking and
 * waking, and the life of a coroutine from its first instruction to exit.
 *
 * There is no scheduler "thread" or loop of its own.  Whoever gives up the
 * CPU -- a coroutine parking, yielding or returning, or main() inside
 * coro_run -- runs the scheduling step itself (switch_away):
 *
 *     next = pop the run queue
 *     while nothing is ready: sleep in epoll until an fd or deadline is due
 *     switch straight to next
 *
 * So a hand-off from A to B is one context switch, never two through a
 * separate scheduler context.  main() is switched back to only when the last
 * coroutine has returned (or when nothing could ever run again).
 *
 * One scheduler per thread (struct sched in sched_internal.h, reached
 * through a thread-local pointer): nothing here is shared between threads
 * but the mailbox other threads post to (sched_post.c), and a thread's
 * coroutines only ever run on it.  sched_life.c starts and ends a thread's
 * runtime.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailbox.h"
#include "misuse.h"
#include "reactor.h"
#include "sanitize.h"
#include "sched_internal.h"
#include "scheduler.h"
#include "trace.h"

/* This thread's scheduler (scheduler.h).  initial-exec: one load off the
 * thread pointer, and safe in the overflow handler. */
_Thread_local struct sched *ba_sched_tls __attribute__((tls_model("initial-exec")));

/* While coroutines keep each other busy, still look at epoll (without
 * sleeping) once every this many switches, so fd waiters are not starved. */
#define POLL_EVERY 64

/* ---- run queue ---- */

static void make_ready(struct sched *s, struct coro *c)
{
    c->state = CORO_READY;
    c->next = NULL;
    if (s->runq_tail)
        s->runq_tail->next = c;
    else
        s->runq_head = c;
    s->runq_tail = c;
}

static struct coro *runq_pop(struct sched *s)
{
    struct coro *c = s->runq_head;
    if (c) {
        s->runq_head = c->next;
        if (!s->runq_head)
            s->runq_tail = NULL;
    }
    return c;
}

/* ---- waking ---- */

void ba_sched_wake(struct coro *c, coro_wake reason)
{
    if (c->state != CORO_PARKED)
        return;
    struct sched *s = c->owner;
    ba_trace(CORO_EV_WAKE, c, reason); /* while it still says what it waited on */
    if (c->wait_fd >= 0) {
        ba_reactor_unwatch(c->wait_fd, c->wait_events);
        c->wait_fd = -1;
    }
    if (c->timer.index != TIMERHEAP_NONE)
        ba_timerheap_remove(&s->timers, &c->timer);
    c->wait_post = NULL;
    c->wake_reason = reason;
    make_ready(s, c);
}

static void expected_done(struct sched *s)
{
    if (--s->posts_expected == 0)
        ba_reactor_unwatch(s->mail.fd, CORO_READ);
}

/* The mailbox's fd is readable: deliver every post made so far
 * (sched_post.c has the rest of a post's life). */
static void take_posts(struct sched *s)
{
    struct ba_mail *m = ba_mailbox_take(&s->mail);
    while (m) {
        struct ba_post *p = (struct ba_post *)m;
        m = m->next; /* p may be freed once delivered */
        p->delivered = true;
        expected_done(s);
        if (p->waiter->wait_post == p)
            ba_sched_wake(p->waiter, CORO_WOKE_READY);
    }
}

void ba_sched_post_forget(struct ba_post *p)
{
    expected_done(p->to);
}

/* The reactor's callback: a coroutine, or the post fd's marker. */
static void wake_ready(void *waiter)
{
    struct sched *s = ba_sched_tls;
    if (waiter == &s->mail)
        take_posts(s);
    else
        ba_sched_wake(waiter, CORO_WOKE_READY);
}

static struct coro *coro_of_timer(timer_node *t)
{
    return (struct coro *)((char *)t - offsetof(struct coro, timer));
}

static void expire_timers(struct sched *s)
{
    if (!s->timers.len)
        return;
    int64_t now = coro_now();
    timer_node *t;
    while ((t = ba_timerheap_peek(&s->timers)) && t->deadline <= now) {
        ba_sched_wake(coro_of_timer(t), CORO_WOKE_TIMEOUT);
    }
}

/* Asks epoll what is ready (sleeping until the nearest deadline if `block`)
 * and moves every coroutine whose fd or deadline is due to the run queue.
 * noinline: inlined, it made switch_away save five registers on every
 * switch for a path taken once in 64. */
__attribute__((noinline)) static void poll_reactor(struct sched *s, int block)
{
    int64_t timeout = 0;
    if (block) {
        timer_node *t = ba_timerheap_peek(&s->timers);
        timeout = t ? t->deadline - coro_now() : -1;
        if (t && timeout < 0)
            timeout = 0;
        if (ba_tracing() && timeout != 0) /* a real sleep: whose deadline limits it */
            ba_trace_emit(CORO_EV_POLL, t ? coro_of_timer(t) : NULL, CORO_WOKE_READY);
    }
    if (ba_reactor_poll(timeout, wake_ready) < 0) {
        perror("bareawait: epoll_wait");
        abort(); /* the epoll fd itself is broken: a bug, not bad input */
    }
    expire_timers(s);
    if (ba_tracing() && timeout != 0)
        ba_trace_emit(CORO_EV_POLL_DONE, NULL, CORO_WOKE_READY);
    s->since_poll = 0;
}

/* ---- switching ---- */

/* The next coroutine to run: the head of the run queue, after sleeping in
 * the reactor if the queue is empty.  main_co when everything has finished
 * or when nothing could ever run again (deadlock). */
static struct coro *pick_next(struct sched *s)
{
    if (++s->since_poll >= POLL_EVERY) {
        if (ba_reactor_waiters() || s->timers.len)
            poll_reactor(s, 0);
        else
            s->since_poll = 0; /* nothing to poll for: ask again in POLL_EVERY */
    }
    for (;;) {
        struct coro *c = runq_pop(s);
        if (c)
            return c;
        if (s->live == 0)
            return &s->main_co;
        if (ba_reactor_waiters() == 0 && s->timers.len == 0) {
            s->deadlock = true;
            return &s->main_co;
        }
        poll_reactor(s, 1);
    }
}

/* Runs on a stack right after arriving there: finishes the sanitizer's
 * switch and frees a zombie we just left. */
static void arrived(struct sched *s)
{
    const void *from_bottom = NULL;
    size_t from_size = 0;
    san_switch_end(s->current->asan_fake_stack, &from_bottom, &from_size);
    if (from_bottom && !s->main_co.stack.lo && s->current != &s->main_co) {
        /* The first switch away from main tells us where main's stack is;
         * ASan needs it to switch back. */
        s->main_co.stack.lo = (char *)from_bottom;
        s->main_co.stack.hi = (char *)from_bottom + from_size;
    }
    if (s->zombie) {
        ba_sched_release(s->zombie);
        s->zombie = NULL;
    }
}

/* All of a switch from self to next but the jump itself: who runs now,
 * the trace, and what the sanitizers must hear just before the jump. */
static inline void hand_over(struct sched *s, struct coro *self, struct coro *next)
{
    bool dying = self->state == CORO_DONE;
    s->current = next;
    next->state = CORO_RUNNING;
    ba_trace(CORO_EV_RESUME, next, CORO_WOKE_READY);
    san_switch_begin(dying ? NULL : &self->asan_fake_stack, next->stack.lo,
                     (size_t)(next->stack.hi - next->stack.lo));
    san_fiber_switch(&next->tsan_fiber);
    if (dying) /* its last switch out: TSan's view of it can go */
        san_fiber_destroy(&self->tsan_fiber);
}

static void switch_to(struct sched *s, struct coro *next)
{
    struct coro *self = s->current;
    hand_over(s, self, next);
    ba_switch_jump(&self->ctx, &next->ctx);
    arrived(s);
}

void ba_sched_switch_away(struct sched *s)
{
    struct coro *next = pick_next(s);
    if (next != s->current) {
        /* The one after next: with many coroutines ready, its handle and
         * frame are cold by now (a burst of a million first runs). */
        if (next->next) {
            __builtin_prefetch(next->next, 1);
            __builtin_prefetch((char *)next->next - 64, 1);
        }
        switch_to(s, next);
    } else { /* we were the one made ready: carry on, no switch needed */
        next->state = CORO_RUNNING;
        ba_trace(CORO_EV_RESUME, next, CORO_WOKE_READY);
    }
}

/* ---- birth and death ---- */

/* Every coroutine starts here, on its fresh stack, and ends here: the one
 * exit path.  It returns the context to resume in its place (switch.h):
 * the trampoline that called it jumps there, and this stack is never
 * resumed. */
static switch_ctx *coro_entry(void)
{
    struct sched *s = ba_sched_tls;
    arrived(s);
    struct coro *self = s->current;
    self->result = self->fn(self->arg);

    self->state = CORO_DONE;
    s->live--;
    ba_trace(CORO_EV_EXIT, self, CORO_WOKE_READY);
    if (self->joiner)
        ba_sched_wake(self->joiner, CORO_WOKE_READY);
    if (self->detached)
        s->zombie = self; /* its stack is freed by whoever runs next */
    struct coro *next = pick_next(s);
#if BA_SAN_FIBERS
    /* Under a sanitizer the switch must come last (sanitize.h): returning
     * from here after it would be counted on the next coroutine's stack. */
    switch_to(s, next);
    abort(); /* a finished coroutine is never switched to again */
#else
    hand_over(s, self, next);
    return &next->ctx;
#endif
}

/* Stacks are "coloured": a coroutine's handle, and so its frames, sit one
 * of COLORS steps of COLOR_STEP bytes below the top of its slot, by its
 * id.  Slots lie a whole number of pages apart, so without this every
 * coroutine's frames would have the same offsets within a page, and when
 * a switch pushes on one stack and pops from the other, the CPU would
 * take loads and stores whose addresses agree in their low 12 bits for
 * the same memory until proven otherwise ("4K aliasing"), and hold the
 * pops back behind the pushes. */
#define COLOR_STEP ((size_t)128)
#define COLORS 8

static uintptr_t color_of(uint64_t id)
{
    return (uintptr_t)(id % COLORS) * COLOR_STEP;
}

/* What a stack of `size` usable bytes asks of ba_stack_get: the handle lives
 * at the top, below its colour, cache-line aligned. */
static size_t stack_request(size_t size)
{
    return size + (COLORS - 1) * COLOR_STEP + sizeof(struct coro) + 64;
}

/* What a new coroutine writes at once at the top of its stack: its handle
 * (which holds a whole ucontext_t with that backend: 1 KiB on x86_64,
 * 4.5 KiB on aarch64) below its colour, the switch frame and coro_entry's
 * frame below that. */
#define HOT_TOP ((COLORS - 1) * COLOR_STEP + sizeof(struct coro) + 64 + 512)

static void copy_name(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

struct coro *ba_sched_spawn(coro_fn fn, void *arg, size_t stack_size, const char *name,
                            bool detached)
{
    struct sched *s = ba_sched_tls;
    /* Room for this coroutine's timer, so that parking can never fail. */
    if (ba_timerheap_reserve(&s->timers, s->live + 1) < 0)
        return NULL;
    stack_slot slot = ba_stack_get(stack_request(stack_size));
    if (!slot.lo)
        return NULL;

    /* The handle lives at the top of its own stack: one page holds both the
     * handle and the first frames, which is most of a parked coroutine. */
    uint64_t id = s->next_id++;
    struct coro *c = (struct coro *)(((uintptr_t)slot.hi - color_of(id) - sizeof *c) &
                                     ~(uintptr_t)63);
    c->next = NULL;
    c->owner = s;
    c->fn = fn;
    c->arg = arg;
    c->result = NULL;
    c->detached = detached;
    c->cancel_pending = false;
    c->wake_reason = CORO_WOKE_READY;
    c->wait_fd = -1;
    c->wait_events = 0;
    c->timer.index = TIMERHEAP_NONE;
    c->joiner = NULL;
    c->wait_post = NULL;
    c->stack = slot;
    c->asan_fake_stack = NULL;
    c->tsan_fiber = NULL; /* made at its first switch in */
    c->id = id;
    if (name)
        copy_name(c->name, sizeof c->name, name);
    else
        memcpy(c->name, "coro", sizeof "coro");
    ba_switch_make(&c->ctx, slot.lo, (size_t)((char *)c - slot.lo), coro_entry, &s->fp_start);

    s->live++;
    make_ready(s, c);
    ba_trace(CORO_EV_SPAWN, c, CORO_WOKE_READY);
    return c;
}

int ba_sched_reserve(size_t count, size_t stack_size)
{
    struct sched *s = ba_sched_tls;
    /* Each reserved stack commits at least a page: more stacks than the
     * machine has pages can never fit, and would end in the OOM killer
     * rather than in ENOMEM. */
    long pages = sysconf(_SC_PHYS_PAGES);
    if (count > SIZE_MAX / 2 - s->live || (pages > 0 && count > (size_t)pages)) {
        errno = ENOMEM;
        return -1;
    }
    /* The timer heap first (cheap), so that it does not grow by copying
     * mid-burst; then the stacks. */
    if (ba_timerheap_reserve(&s->timers, s->live + count) < 0)
        return -1;
    return ba_stack_reserve(stack_request(stack_size), count, HOT_TOP);
}

void ba_sched_release(struct coro *c)
{
    c->state = CORO_GONE;
    ba_stack_put(&c->stack);
}

/* ---- who runs ---- */

struct coro *ba_sched_current(void)
{
    struct sched *s = ba_sched_tls;
    return s && s->current != &s->main_co ? s->current : NULL;
}


/* ---- misuse: coro.h's contracts, checked in every build type ---- */

static _Noreturn void misuse_outside(const char *call)
{
    if (ba_trace_inside())
        ba_misuse(call, "called from the trace hook, which must not suspend");
    ba_misuse(call, "called outside any coroutine");
}

/* ba_sched_need_coroutine's check, and this thread's scheduler: always
 * inlined, so that coro_yield's path makes no call but the switch's. */
static inline __attribute__((always_inline)) struct sched *need_coroutine(const char *call)
{
    struct sched *s = ba_sched_tls;
    if (__builtin_expect(!s || s->current == &s->main_co || ba_trace_inside(), 0))
        misuse_outside(call);
    return s;
}

struct coro *ba_sched_need_coroutine(const char *call)
{
    return need_coroutine(call)->current;
}

/* ---- the waits ---- */

/* Parks the running coroutine (its fd and post already recorded) until
 * its deadline, a wake or a cancel; returns why it woke. */
static coro_wake park(struct sched *s, struct coro *self, coro_event_kind kind,
                      int64_t deadline_ns)
{
    if (deadline_ns != CORO_NEVER) {
        self->timer.deadline = deadline_ns;
        ba_timerheap_insert(&s->timers, &self->timer);
    }
    self->state = CORO_PARKED;
    ba_trace(kind, self, CORO_WOKE_READY);
    ba_sched_switch_away(s);
    coro_wake why = self->wake_reason;
    self->wake_reason = CORO_WOKE_READY; /* delivered */
    return why;
}

coro_wake ba_sched_park(struct coro *self, int64_t deadline_ns)
{
    if (self->cancel_pending) {
        self->cancel_pending = false;
        return CORO_WOKE_CANCELLED;
    }
    /* (wait_fd is -1 already: ba_sched_wake resets it.) */
    return park(self->owner, self, CORO_EV_PARK_TIMER, deadline_ns);
}

coro_wake ba_sched_wait(const char *call, int fd, int events, int64_t deadline_ns)
{
    struct sched *s = need_coroutine(call);
    struct coro *self = s->current;
    if (fd < 0)
        return ba_sched_park(self, deadline_ns);
    if (events & ~(CORO_READ | CORO_WRITE) || events == 0)
        ba_misusef(call, "events %d on fd %d: CORO_READ, CORO_WRITE or both", events, fd);
    if (self->cancel_pending) {
        self->cancel_pending = false;
        return CORO_WOKE_CANCELLED;
    }
    /* A regular file cannot be polled (EPERM): it is always ready.  Any
     * other failure (ENOMEM, ENOSPC) is the caller's error: "ready" would
     * send it back to a syscall that says EAGAIN again, without ever
     * yielding -- a livelock while the failure lasts. */
    if (ba_reactor_watch(fd, events, self) < 0) {
        if (errno == EBUSY)
            ba_misusef(call, "coroutine %" PRIu64 " \"%s\" waits to %s fd %d, which another "
                             "coroutine already waits on (one waiter per fd and direction)",
                       self->id, self->name, events == CORO_READ    ? "read"
                                             : events == CORO_WRITE ? "write"
                                                                    : "read and write", fd);
        return errno == EPERM ? CORO_WOKE_READY : CORO_WOKE_FAILED;
    }
    self->wait_fd = fd;
    self->wait_events = events;
    return park(s, self, CORO_EV_PARK_FD, deadline_ns);
}

int ba_sched_yield(const char *call)
{
    struct sched *s = need_coroutine(call);
    struct coro *self = s->current;
    struct coro *next = s->runq_head;
    if (next && s->since_poll + 1 < POLL_EVERY) {
        /* The common case, switch_away's steps without the ones that
         * cannot apply: someone else is ready and the reactor is not due,
         * so the head of the queue runs and we go to its tail. */
        s->since_poll++;
        runq_pop(s);
        make_ready(s, self);
        switch_to(s, next);
    } else {
        make_ready(s, self);
        ba_sched_switch_away(s);
    }
    if (self->cancel_pending) {
        self->cancel_pending = false;
        errno = ECANCELED;
        return -1;
    }
    return 0;
}

int coro_close(int fd)
{
    if (ba_sched_tls)
        ba_reactor_forget(fd, wake_ready);
    return close(fd);
}
