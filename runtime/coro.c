/* coro.c - the life of one coroutine: spawn, run, return, join; plus
 * cancellation, names, the trace hook and the stack-overflow report.
 * The scheduling itself is in sched.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "misuse.h"
#include "sched_state.h"

#define MAX_STACK ((size_t)1 << 30) /* refuse absurd stack sizes */

/* Every coroutine starts here, on its fresh stack. */
static void coro_entry(void)
{
    ba_sched_arrived();
    struct coro *self = ba_sched.current;
    self->result = self->fn(self->arg);

    self->state = CORO_DONE;
    ba_sched.live--;
    sched_trace(CORO_EV_EXIT, self, CORO_WOKE_READY);
    if (self->joiner && self->joiner->state == CORO_PARKED)
        ba_sched_wake(self->joiner, CORO_WOKE_READY);
    if (self->detached)
        ba_sched.zombie = self; /* its stack is freed by whoever runs next */
    ba_sched_switch_away();
    abort(); /* a finished coroutine is never switched to again */
}

static void copy_name(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

/* What a stack of `size` usable bytes asks of ba_stack_get: the handle lives
 * at the top, cache-line aligned. */
static size_t stack_request(size_t size)
{
    return size + sizeof(struct coro) + 64;
}

/* What a new coroutine writes at once at the top of its stack: its handle
 * (which holds a whole ucontext_t with that backend: 1 KiB on x86_64,
 * 4.5 KiB on aarch64), the switch frame and coro_entry's frame below it. */
#define HOT_TOP (sizeof(struct coro) + 64 + 512)

int coro_reserve(size_t count, size_t stack_size)
{
    const struct coro *self = coro_self();
    if (self && (size_t)((const char *)self - self->stack.lo) < CORO_DEFAULT_STACK)
        ba_misuse("coro_reserve", "called from a coroutine with a stack smaller than "
                                  "CORO_DEFAULT_STACK (its helper threads need more)");
    size_t size = stack_size ? stack_size : CORO_DEFAULT_STACK;
    if (size > MAX_STACK) {
        errno = EINVAL;
        return -1;
    }
    if (!ba_sched.up && ba_sched_init() < 0)
        return -1;
    /* Each reserved stack commits at least a page: more stacks than the
     * machine has pages can never fit, and would end in the OOM killer
     * rather than in ENOMEM. */
    long pages = sysconf(_SC_PHYS_PAGES);
    if (count > SIZE_MAX / 2 - ba_sched.live || (pages > 0 && count > (size_t)pages)) {
        errno = ENOMEM;
        return -1;
    }
    /* The timer heap first (cheap), so that it does not grow by copying
     * mid-burst; then the stacks. */
    if (ba_timerheap_reserve(&ba_sched.timers, ba_sched.live + count) < 0)
        return -1;
    return ba_stack_reserve(stack_request(size), count, HOT_TOP);
}

coro_t *coro_spawn(coro_fn fn, void *arg, const coro_opts *opts)
{
    if (!fn)
        ba_misuse("coro_spawn", "fn is NULL");
    size_t size = opts && opts->stack_size ? opts->stack_size : CORO_DEFAULT_STACK;
    if (size > MAX_STACK) {
        errno = EINVAL;
        return NULL;
    }
    if (!ba_sched.up && ba_sched_init() < 0)
        return NULL;
    /* Room for this coroutine's timer, so that parking can never fail. */
    if (ba_timerheap_reserve(&ba_sched.timers, ba_sched.live + 1) < 0)
        return NULL;
    stack_slot slot;
    if (ba_stack_get(stack_request(size), &slot) < 0)
        return NULL;

    /* The handle lives at the top of its own stack: one page holds both the
     * handle and the first frames, which is most of a parked coroutine. */
    struct coro *c = (struct coro *)(((uintptr_t)slot.hi - sizeof *c) & ~(uintptr_t)63);
    c->next = NULL;
    c->fn = fn;
    c->arg = arg;
    c->result = NULL;
    c->detached = opts && opts->detached;
    c->cancel_pending = false;
    c->wake_reason = CORO_WOKE_READY;
    c->wait_fd = -1;
    c->wait_events = 0;
    c->timer.index = TIMERHEAP_NONE;
    c->joiner = NULL;
    c->stack = slot;
    c->asan_fake_stack = NULL;
    c->id = ba_sched.next_id++;
    copy_name(c->name, sizeof c->name, opts && opts->name ? opts->name : "coro");
    ba_switch_make(&c->ctx, slot.lo, (size_t)((char *)c - slot.lo), coro_entry);

    ba_sched.live++;
    ba_sched_make_ready(c);
    sched_trace(CORO_EV_SPAWN, c, CORO_WOKE_READY);
    return c;
}

/* ---- join and detach: the handle's one owner ---- */

/* A GONE handle's memory is a free stack: only its id is still to be
 * trusted (the free list's link may have overwritten the end of its name). */
static _Noreturn void misuse_handle(const char *call, const struct coro *c, const char *what)
{
    char line[160];
    snprintf(line, sizeof line, "coroutine %" PRIu64 " %s", c->id, what);
    ba_misuse(call, line);
}

/* What join and detach both need: a live handle nobody else has claimed. */
static void check_unclaimed(const char *call, const struct coro *c)
{
    if (!c)
        ba_misuse(call, "a NULL handle");
    else if (c->detached)
        misuse_handle(call, c, "is detached (nobody may join or detach it again)");
    else if (c->state == CORO_GONE)
        misuse_handle(call, c, "was already joined (its handle is gone)");
    else if (c->joiner) {
        char what[96];
        snprintf(what, sizeof what, "is already being joined by coroutine %" PRIu64,
                 c->joiner->id);
        misuse_handle(call, c, what);
    }
}

/* The handle's memory goes back to the stack pool: c lived there. */
static void release(struct coro *c)
{
    c->state = CORO_GONE;
    ba_stack_put(&c->stack);
}

int coro_join(coro_t *c, void **result)
{
    ba_sched_need_coroutine("coro_join");
    check_unclaimed("coro_join", c);
    if (c == ba_sched.current)
        misuse_handle("coro_join", c, "cannot join itself");
    /* Only c's exit ends this wait; a coro_wakeup just loops. */
    while (c->state != CORO_DONE) {
        c->joiner = ba_sched.current;
        if (ba_sched_wait("coro_join", -1, 0, CORO_NEVER) == CORO_WOKE_CANCELLED) {
            c->joiner = NULL;
            errno = ECANCELED;
            return -1;
        }
    }
    if (result)
        *result = c->result;
    release(c); /* do not touch c again */
    return 0;
}

void coro_detach(coro_t *c)
{
    check_unclaimed("coro_detach", c);
    if (c->state == CORO_DONE)
        release(c);
    else
        c->detached = true;
}

void coro_cancel(coro_t *c)
{
    if (!c || c->state == CORO_DONE || c->state == CORO_GONE)
        return;
    if (c->state == CORO_PARKED)
        ba_sched_wake(c, CORO_WOKE_CANCELLED);
    else if (c->wake_reason != CORO_WOKE_CANCELLED)
        c->cancel_pending = true; /* ready or running: its next wait sees it */
    /* else: woken by an earlier cancel it has not seen yet; once is enough */
}

void coro_wakeup(coro_t *c)
{
    if (c && c->state == CORO_PARKED)
        ba_sched_wake(c, CORO_WOKE_READY);
}

coro_t *coro_self(void)
{
    return ba_sched.up && ba_sched.current != &ba_sched.main_co ? ba_sched.current : NULL;
}

uint64_t coro_id(const coro_t *c)
{
    return c ? c->id : 0;
}

const char *coro_name(const coro_t *c)
{
    return c ? c->name : "main";
}

/* ---- tracing ---- */

void coro_set_trace(coro_trace_fn fn, void *user)
{
    ba_sched.trace_fn = fn;
    ba_sched.trace_user = user;
}

void ba_sched_trace_emit(coro_event_kind kind, const struct coro *c, coro_wake reason)
{
    coro_event ev = {
        .kind = kind,
        .co = c,
        .id = c ? c->id : 0,
        .name = c ? c->name : "",
        .fd = c ? c->wait_fd : -1,
        .events = c ? c->wait_events : 0,
        .deadline_ns = c && c->timer.index != TIMERHEAP_NONE ? c->timer.deadline : CORO_NEVER,
        .reason = reason,
        .at_ns = coro_now(),
    };
    bool outer = ba_sched.in_trace; /* a hook that spawns traces a SPAWN */
    ba_sched.in_trace = true;
    ba_sched.trace_fn(&ev, ba_sched.trace_user);
    ba_sched.in_trace = outer;
}

/* ---- stack overflow report ----
 * A coroutine that runs off the bottom of its stack touches its guard page
 * and gets SIGSEGV.  Its own stack is unusable then, so the handler runs on
 * an alternate signal stack, checks that the fault address is the current
 * coroutine's guard page, says so plainly, and aborts.  Any other SIGSEGV
 * goes back to whatever handler was there before us. */

#define ALT_STACK_SIZE (64 * 1024)

static struct sigaction old_segv;
static stack_t old_altstack;
static void *altstack_mem;

/* write(2) only: the handler must be async-signal-safe. */
static void say(const char *s)
{
    ssize_t rc = write(2, s, strlen(s));
    (void)rc;
}

static void say_number(uint64_t n)
{
    char buf[24];
    char *p = buf + sizeof buf - 1;
    *p = '\0';
    do
        *--p = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    say(p);
}

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
    (void)sig, (void)uctx;
    struct coro *c = ba_sched.current;
    if (c && c != &ba_sched.main_co && ba_stack_is_guard_hit(c->stack.lo, si->si_addr)) {
        say("bareawait: stack overflow in coroutine ");
        say_number(c->id);
        say(" \"");
        say(c->name);
        say("\" (stack of ");
        say_number((uint64_t)((char *)c - c->stack.lo));
        say(" bytes); give it a bigger coro_opts.stack_size\n");
        abort();
    }
    /* Not ours: put the previous handler back; the fault happens again
     * on return and goes there. */
    sigaction(SIGSEGV, &old_segv, NULL);
}

int ba_overflow_handler_install(void)
{
    altstack_mem = malloc(ALT_STACK_SIZE);
    if (!altstack_mem)
        return -1;
    stack_t ss = {.ss_sp = altstack_mem, .ss_size = ALT_STACK_SIZE};
    if (sigaltstack(&ss, &old_altstack) < 0)
        goto fail;
    struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &old_segv) < 0) {
        sigaltstack(&old_altstack, NULL);
        goto fail;
    }
    return 0;
fail:
    free(altstack_mem);
    altstack_mem = NULL;
    return -1;
}

void ba_overflow_handler_remove(void)
{
    sigaction(SIGSEGV, &old_segv, NULL);
    /* The old alternate stack may be "none"; restoring it must not fail
     * because ours was in use (it is not: we are not in the handler). */
    if (old_altstack.ss_flags & SS_DISABLE) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
    } else {
        sigaltstack(&old_altstack, NULL);
    }
    free(altstack_mem);
    altstack_mem = NULL;
}
