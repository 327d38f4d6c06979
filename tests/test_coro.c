/* test_coro.c - coroutines and the scheduler, checked against coro.h.
 *
 * Each test is one scenario: spawn a few coroutines, coro_run, look at what
 * happened.  Most record an order log -- a string every step appends to --
 * and compare the whole log, so a failure shows the full sequence.
 * The runtime is set up and torn down by every scenario, so the table in
 * main() also shows that it restarts cleanly, again and again.
 * Cancellation and coro_wakeup are in test_cancel.c.
 */
#include <errno.h>
#include <fenv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include <bareawait/coro.h>
#include "sanitize.h"
#include "trail.h"

#define MS 1000000 /* nanoseconds */

static void *log_name(void *arg)
{
    step("%s ", (const char *)arg);
    return NULL;
}

/* ---- order ---- */

static void test_spawn_is_lazy_and_fifo(void)
{
    trail_reset();
    coro_spawn(log_name, "a", NULL);
    coro_spawn(log_name, "b", NULL);
    coro_spawn(log_name, "c", NULL);
    step("main ");
    CHECK_INT(coro_run(), 0);
    step("back");
    CHECK_STR(trail, "main a b c back");
}

static void *take_turns(void *arg)
{
    for (int i = 1; i <= 3; i++) {
        step("%s%d ", (const char *)arg, i);
        CHECK_INT(coro_yield(), 0);
    }
    return NULL;
}

static void test_yield_alternates(void)
{
    trail_reset();
    coro_spawn(take_turns, "A", NULL);
    coro_spawn(take_turns, "B", NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "A1 B1 A2 B2 A3 B3 ");
}

/* A child spawned by a running coroutine goes behind those already queued. */
static void *spawn_child_then_yield(void *arg)
{
    (void)arg;
    step("P1 ");
    coro_spawn(log_name, "C", NULL);
    step("P2 ");
    coro_yield();
    step("P3");
    return NULL;
}

static void test_spawn_from_coroutine_queues_at_tail(void)
{
    trail_reset();
    coro_spawn(spawn_child_then_yield, NULL, NULL);
    coro_spawn(log_name, "Q", NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "P1 P2 Q C P3");
}

/* ---- join and detach ---- */

static void *return_arg(void *arg)
{
    return arg;
}

static void *join_running_child(void *arg)
{
    (void)arg;
    coro_t *c = coro_spawn(return_arg, (void *)(intptr_t)42, NULL);
    void *res = NULL;
    CHECK_INT(coro_join(c, &res), 0);
    CHECK_INT((intptr_t)res, 42);
    return NULL;
}

static void *join_finished_child(void *arg)
{
    (void)arg;
    coro_t *c = coro_spawn(return_arg, (void *)(intptr_t)7, NULL);
    coro_yield(); /* the child runs and returns */
    step("yielded ");
    void *res = NULL;
    CHECK_INT(coro_join(c, &res), 0);
    CHECK_INT((intptr_t)res, 7);
    step("joined");
    return NULL;
}

static void test_join_returns_result(void)
{
    trail_reset();
    coro_spawn(join_running_child, NULL, NULL);
    coro_spawn(join_finished_child, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "yielded joined");
}

/* Detached coroutines run; their memory is recycled as soon as they return.
 * The stack pool hands out the most recently freed slot first, so recycling
 * shows as the next coroutine getting the same handle address. */
static coro_t *seen[4];

static void *remember_self(void *arg)
{
    seen[(intptr_t)arg] = coro_self();
    step("d%d ", (int)(intptr_t)arg);
    return NULL;
}

static void *detach_children(void *arg)
{
    (void)arg;
    coro_opts detached = {.detached = true};
    coro_spawn(remember_self, (void *)0, &detached);
    coro_yield(); /* d0 runs and is recycled */
    coro_spawn(remember_self, (void *)1, &detached);
    coro_yield();

    /* coro_detach after the child has finished frees it at once. */
    coro_t *c = coro_spawn(remember_self, (void *)2, NULL);
    coro_yield();
    coro_detach(c);
    coro_spawn(remember_self, (void *)3, &detached);
    coro_yield();
    return NULL;
}

static bool same_slot(const void *a, const void *b)
{
    intptr_t d = (intptr_t)a - (intptr_t)b;
    return d > -4096 && d < 4096;
}

static void test_detached_are_recycled(void)
{
    trail_reset();
    memset(seen, 0, sizeof seen);
    coro_spawn(detach_children, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "d0 d1 d2 d3 ");
    CHECK(seen[0] != NULL);
    /* The same stack again: the handles differ at most by their colour
     * (scheduler.c), well under a page. */
    CHECK(same_slot(seen[1], seen[0]));
    CHECK(same_slot(seen[3], seen[2]));
}

/* coro_detach of a coroutine that has not run yet: it still runs. */
static void test_detach_before_it_runs(void)
{
    trail_reset();
    coro_t *c = coro_spawn(log_name, "x", NULL);
    coro_detach(c);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "x ");
}

/* ---- many coroutines ---- */

static void *yield_three_times(void *arg)
{
    for (int i = 0; i < 3; i++)
        coro_yield();
    return arg;
}

static void *spawn_and_join_all(void *arg)
{
    int n = *(int *)arg;
    coro_t **kids = malloc((size_t)n * sizeof *kids);
    if (!CHECK(kids != NULL))
        return NULL;
    int spawned = 0, wrong = 0;
    for (int i = 0; i < n; i++)
        if ((kids[i] = coro_spawn(yield_three_times, (void *)(intptr_t)i, NULL)))
            spawned++;
    CHECK_INT(spawned, n);
    for (int i = 0; i < n && kids[i]; i++) {
        void *res = NULL;
        if (coro_join(kids[i], &res) != 0 || (intptr_t)res != i) {
            if (!wrong)
                CHECK_INT((intptr_t)res, i); /* show the first one */
            wrong++;
        }
    }
    CHECK_INT(wrong, 0);
    free(kids);
    return NULL;
}

static void test_ten_thousand(void)
{
    /* (TSan counts each coroutine under way as a thread, up to ~8k.) */
    int n = san_on_valgrind() || san_on_tsan() ? 2000 : 10000;
    coro_spawn(spawn_and_join_all, &n, NULL);
    CHECK_INT(coro_run(), 0);
}

/* ---- sleeping ---- */

#define SLEEPERS 20

struct sleeper {
    int64_t deadline;
    int64_t woke;
};

static int wake_order[SLEEPERS];
static int woken;

static struct sleeper sleepers[SLEEPERS];

static void *sleep_and_record(void *arg)
{
    int i = (int)(intptr_t)arg;
    CHECK_INT(coro_sleep_until(sleepers[i].deadline), 0);
    sleepers[i].woke = coro_now();
    wake_order[woken++] = i;
    return NULL;
}

static void test_sleeps_wake_in_deadline_order(void)
{
    woken = 0;
    int64_t start = coro_now();
    for (int i = 0; i < SLEEPERS; i++) {
        sleepers[i].deadline = start + (int64_t)(SLEEPERS - i) * 2 * MS;
        coro_spawn(sleep_and_record, (void *)(intptr_t)i, NULL);
    }
    CHECK_INT(coro_run(), 0);
    CHECK_INT(woken, SLEEPERS);
    for (int k = 0; k < woken; k++) {
        int i = wake_order[k];
        CHECK_INT(i, SLEEPERS - 1 - k); /* the shortest sleep first */
        CHECK(sleepers[i].woke >= sleepers[i].deadline);
        CHECK(sleepers[i].woke <= sleepers[i].deadline + 200 * MS);
    }
}

/* A deadline already in the past: the sleep still parks (others run
 * first) and then returns 0. */
static void test_sleep_in_the_past(void)
{
    trail_reset();
    sleepers[0].deadline = coro_now() - 1000 * MS;
    woken = 0;
    coro_spawn(sleep_and_record, (void *)0, NULL);
    coro_spawn(log_name, "other", NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(woken, 1);
    CHECK_STR(trail, "other ");
}

/* ---- identity ---- */

static coro_t *handles[2];

static void *check_identity(void *arg)
{
    int i = (int)(intptr_t)arg;
    CHECK(coro_self() == handles[i]);
    CHECK_INT(coro_id(coro_self()), coro_id(handles[0]) + (uint64_t)i);
    step("%s|", coro_name(coro_self()));
    return NULL;
}

static void test_identity(void)
{
    trail_reset();
    CHECK(coro_self() == NULL);
    CHECK_INT(coro_id(NULL), 0);
    CHECK_STR(coro_name(NULL), "main");

    char name[] = "fetch-0123456789abcdefghij"; /* 26 chars */
    coro_opts opts = {.name = name};
    handles[0] = coro_spawn(check_identity, (void *)0, &opts);
    name[0] = 'X'; /* the runtime kept a copy */
    handles[1] = coro_spawn(check_identity, (void *)1, NULL);
    CHECK(coro_id(handles[0]) > 0);
    CHECK_STR(coro_name(handles[0]), "fetch-0123456789abcdefg"); /* 23 */
    CHECK_STR(coro_name(handles[1]), "coro");
    CHECK(coro_self() == NULL); /* still main, even with the runtime up */
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "fetch-0123456789abcdefg|coro|");
    CHECK(coro_self() == NULL);
}

static int ran_tiny;

static void *set_ran_tiny(void *arg)
{
    ran_tiny = 1;
    return arg;
}

static void test_spawn_errors(void)
{
    coro_opts huge = {.stack_size = (size_t)1 << 40};
    errno = 0;
    CHECK(coro_spawn(return_arg, NULL, &huge) == NULL);
    CHECK_INT(errno, EINVAL);
    CHECK_INT(coro_run(), 0); /* nothing was spawned: returns at once */

    /* A tiny stack is rounded up to a page and works (for a body that
     * needs almost nothing: here just a store). */
    coro_opts tiny = {.stack_size = 1};
    ran_tiny = 0;
    CHECK(coro_spawn(set_ran_tiny, NULL, &tiny) != NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(ran_tiny, 1);
}

/* ---- deadlock ---- */

static void *park_forever(void *arg)
{
    (void)arg;
    step("parked ");
    coro_park(CORO_NEVER);
    step("never");
    return NULL;
}

static void *join_handle(void *arg)
{
    coro_join(*(coro_t **)arg, NULL);
    step("never");
    return NULL;
}

static void test_deadlock(void)
{
    trail_reset();
    coro_spawn(park_forever, NULL, NULL);
    coro_spawn(log_name, "other", NULL);
    errno = 0;
    CHECK_INT(coro_run(), -1);
    CHECK_INT(errno, EDEADLK);
    CHECK_STR(trail, "parked other ");

    /* A joins B and B joins A. */
    handles[0] = coro_spawn(join_handle, &handles[1], NULL);
    handles[1] = coro_spawn(join_handle, &handles[0], NULL);
    errno = 0;
    CHECK_INT(coro_run(), -1);
    CHECK_INT(errno, EDEADLK);
    CHECK_STR(trail, "parked other ");

    /* The runtime works again afterwards. */
    trail_reset();
    coro_spawn(log_name, "after", NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "after ");
}

/* ---- tracing ---- */

static char trace_log[256];
static int trace_polls;
static int64_t trace_deadline;
static int64_t trace_poll_deadline; /* the last POLL's */
static int64_t trace_wake_deadline; /* the WAKE's: what it waited for */
static int trace_polls_done;

static const char *kind_name(coro_event_kind k)
{
    static const char *const names[] = {
        [CORO_EV_SPAWN] = "SPAWN",         [CORO_EV_RESUME] = "RESUME",
        [CORO_EV_PARK_FD] = "PARK_FD",     [CORO_EV_PARK_TIMER] = "PARK_TIMER",
        [CORO_EV_WAKE] = "WAKE",           [CORO_EV_EXIT] = "EXIT",
        [CORO_EV_POLL] = "POLL",           [CORO_EV_POLL_DONE] = "POLL_DONE",
    };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static void record_event(const coro_event *ev, void *user)
{
    CHECK(user == trace_log);
    if (ev->kind == CORO_EV_POLL) { /* limited by the sleeper's deadline */
        CHECK(ev->co != NULL);
        CHECK_STR(ev->name, "traced");
        trace_poll_deadline = ev->deadline_ns;
        trace_polls++;
        return;
    }
    if (ev->kind == CORO_EV_POLL_DONE) {
        CHECK(ev->co == NULL);
        trace_polls_done++;
        return;
    }
    if (strcmp(ev->name, "traced") != 0)
        return;
    CHECK(ev->co != NULL);
    CHECK_INT(ev->id, coro_id(ev->co));
    CHECK(ev->at_ns > 0);
    size_t used = strlen(trace_log);
    const char *reason = ev->reason == CORO_WOKE_TIMEOUT ? "(TIMEOUT)"
                         : ev->reason == CORO_WOKE_CANCELLED ? "(CANCELLED)"
                                                             : "(READY)";
    snprintf(trace_log + used, sizeof trace_log - used, "%s%s ", kind_name(ev->kind),
             ev->kind == CORO_EV_WAKE ? reason : "");
    if (ev->kind == CORO_EV_PARK_TIMER) {
        trace_deadline = ev->deadline_ns;
        CHECK_INT(ev->fd, -1);
    }
    if (ev->kind == CORO_EV_WAKE)
        trace_wake_deadline = ev->deadline_ns;
}

/* 50 ms: long enough that, even under valgrind on a busy machine, the
 * deadline is still ahead when the scheduler computes its epoll_wait
 * timeout (a deadline already past gives a poll that cannot sleep, which
 * is not traced). */
static void *sleep_briefly(void *arg)
{
    *(int64_t *)arg = coro_deadline_in(50);
    coro_sleep_until(*(int64_t *)arg);
    return NULL;
}

static void test_trace(void)
{
    int64_t deadline = 0;
    trace_log[0] = '\0';
    trace_polls = trace_polls_done = 0;
    coro_set_trace(record_event, trace_log);
    coro_opts opts = {.name = "traced"};
    coro_spawn(sleep_briefly, &deadline, &opts);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trace_log, "SPAWN RESUME PARK_TIMER WAKE(TIMEOUT) RESUME EXIT ");
    CHECK_INT(trace_deadline, deadline);
    CHECK(trace_polls >= 1); /* the sleep happened in epoll_wait */
    CHECK_INT(trace_polls_done, trace_polls);
    CHECK_INT(trace_poll_deadline, deadline);
    CHECK_INT(trace_wake_deadline, deadline);

    /* Removed: nothing more is recorded. */
    coro_set_trace(NULL, NULL);
    trace_log[0] = '\0';
    coro_spawn(sleep_briefly, &deadline, &opts);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trace_log, "");
}

/* ---- the switch keeps what a function call keeps ---- */

/* Eight doubles live across every yield: the compiler keeps them in
 * callee-saved FP registers (d8-d15 on aarch64), which the switch must
 * save.  Two coroutines with different seeds would see each other's values
 * if it did not. */
static void *hold_doubles(void *arg)
{
    volatile double seed = *(const double *)arg;
    double s = seed;
    double a = s, b = 2 * s, c = 3 * s, d = 4 * s, e = 5 * s, f = 6 * s, g = 7 * s,
           h = 8 * s;
    for (int i = 0; i < 3; i++) {
        coro_yield();
        a += 1, b += 1, c += 1, d += 1, e += 1, f += 1, g += 1, h += 1;
    }
    CHECK(a == s + 3 && b == 2 * s + 3 && c == 3 * s + 3 && d == 4 * s + 3);
    CHECK(e == 5 * s + 3 && f == 6 * s + 3 && g == 7 * s + 3 && h == 8 * s + 3);
    return NULL;
}

static void test_doubles_survive_a_switch(void)
{
    double one = 1, hundred = 100;
    coro_spawn(hold_doubles, &one, &(coro_opts){.detached = true});
    coro_spawn(hold_doubles, &hundred, &(coro_opts){.detached = true});
    CHECK_INT(coro_run(), 0);
}

/* The rounding mode in force, as fegetround() says it, or -1 if the SSE
 * unit's disagrees: glibc's fegetround() on x86_64 reads the x87 control
 * word alone, and the switch keeps MXCSR by another path. */
static int rounding(void)
{
    int mode = fegetround();
#if defined(__x86_64__)
    uint32_t mxcsr;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    /* MXCSR's rounding field (bits 13-14) uses the x87 encoding, which the
     * FE_* values are (at bits 10-11). */
    if ((int)((mxcsr >> 13) & 3) << 10 != mode)
        return -1;
#endif
    return mode;
}

/* The rounding mode is floating-point *control* state (MXCSR and the x87
 * control word; FPCR on aarch64): one coroutine's setting must not leak
 * into another, nor out of coro_run. */
static void *round_upward(void *arg)
{
    (void)arg;
    CHECK_INT(fesetround(FE_UPWARD), 0);
    coro_yield(); /* the other one runs, and checks its own mode */
    CHECK_INT(rounding(), FE_UPWARD);
    CHECK_INT(fesetround(FE_TONEAREST), 0);
    return NULL;
}

static void *expect_nearest(void *arg)
{
    (void)arg;
    CHECK_INT(rounding(), FE_TONEAREST);
    coro_yield();
    CHECK_INT(rounding(), FE_TONEAREST);
    return NULL;
}

static void test_rounding_mode_is_per_coroutine(void)
{
    CHECK_INT(rounding(), FE_TONEAREST);
    coro_spawn(round_upward, NULL, &(coro_opts){.detached = true});
    coro_spawn(expect_nearest, NULL, &(coro_opts){.detached = true});
    CHECK_INT(coro_run(), 0);
    CHECK_INT(rounding(), FE_TONEAREST);
}

/* A new coroutine starts with the settings its runtime started with, not
 * its spawner's (coro.h), and a finished coroutine's setting dies with it:
 * neither the joiner it hands over to nor the next new one sees it. */
static void *child_sets_upward(void *arg)
{
    (void)arg;
    CHECK_INT(rounding(), FE_TONEAREST); /* the runtime's, not the parent's */
    CHECK_INT(fesetround(FE_UPWARD), 0);
    return NULL; /* without restoring it */
}

static void *parent_downward(void *arg)
{
    (void)arg;
    CHECK_INT(fesetround(FE_DOWNWARD), 0);
    coro_t *c = coro_spawn(child_sets_upward, NULL, NULL);
    CHECK_INT(coro_join(c, NULL), 0);
    CHECK_INT(rounding(), FE_DOWNWARD); /* resumed by a finished one */
    c = coro_spawn(child_sets_upward, NULL, NULL);
    coro_t *d = coro_spawn(child_sets_upward, NULL, NULL); /* runs after c ends */
    CHECK_INT(coro_join(c, NULL), 0);
    CHECK_INT(coro_join(d, NULL), 0);
    CHECK_INT(rounding(), FE_DOWNWARD);
    CHECK_INT(fesetround(FE_TONEAREST), 0);
    return NULL;
}

static void test_new_coroutines_start_with_the_runtime_settings(void)
{
    CHECK_INT(rounding(), FE_TONEAREST);
    coro_spawn(parent_downward, NULL, &(coro_opts){.detached = true});
    coro_spawn(child_sets_upward, NULL, &(coro_opts){.detached = true}); /* ends first */
    CHECK_INT(coro_run(), 0);
    CHECK_INT(rounding(), FE_TONEAREST); /* main's own, after parent_downward ends */
}

#if defined(__x86_64__)
/* The x87 control word alone (precision control, which fesetround leaves
 * alone) differs between two coroutines whose MXCSR is the same: the
 * switch compares the x87 word on its own and must still load it. */
static uint16_t x87_cw(void)
{
    uint16_t cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

static void set_x87_cw(uint16_t cw)
{
    __asm__ volatile("fldcw %0" : : "m"(cw));
}

static void *x87_single_precision(void *arg)
{
    uint16_t *start = arg;
    uint16_t single = (uint16_t)(*start & ~0x0300); /* PC = 00: 24-bit mantissa */
    set_x87_cw(single);
    coro_yield();
    CHECK_INT(x87_cw(), single);
    set_x87_cw(*start);
    return NULL;
}

static void *x87_expect_start(void *arg)
{
    uint16_t *start = arg;
    CHECK_INT(x87_cw(), *start);
    coro_yield();
    CHECK_INT(x87_cw(), *start);
    return NULL;
}

static void test_x87_control_word_is_per_coroutine(void)
{
    if (san_on_valgrind())
        return; /* valgrind runs x87 code at one precision and reads back its own word */
    uint16_t start = x87_cw();
    coro_spawn(x87_single_precision, &start, &(coro_opts){.detached = true});
    coro_spawn(x87_expect_start, &start, &(coro_opts){.detached = true});
    CHECK_INT(coro_run(), 0);
    CHECK_INT(x87_cw(), start);
}
#endif

/* After coro_run returns nothing is left open, and the runtime starts
 * again on the next spawn.  (Memory is checked by valgrind and ASan.) */
/* ---- resources ---- */

static void test_no_fd_leak_and_restart(void)
{
    int fds = check_count_fds();
    for (int round = 0; round < 2; round++) {
        trail_reset();
        coro_spawn(take_turns, "A", NULL);
        coro_spawn(sleep_briefly, &(int64_t){0}, NULL);
        CHECK_INT(coro_run(), 0);
        CHECK_STR(trail, "A1 A2 A3 ");
        CHECK_INT(check_count_fds(), fds);
        CHECK(coro_self() == NULL);
    }
}

/* ---- the table ---- */

static const check_case tests[] = {
    {"spawn is lazy and FIFO", test_spawn_is_lazy_and_fifo},
    {"yield alternates", test_yield_alternates},
    {"spawn from a coroutine queues at the tail", test_spawn_from_coroutine_queues_at_tail},
    {"join returns the result", test_join_returns_result},
    {"detached coroutines are recycled", test_detached_are_recycled},
    {"detach before it runs", test_detach_before_it_runs},
    {"ten thousand coroutines", test_ten_thousand},
    {"sleeps wake in deadline order", test_sleeps_wake_in_deadline_order},
    {"sleep until a past deadline", test_sleep_in_the_past},
    {"identity", test_identity},
    {"spawn errors", test_spawn_errors},
    {"deadlock", test_deadlock},
    {"trace", test_trace},
    {"doubles survive a switch", test_doubles_survive_a_switch},
    {"the rounding mode is per coroutine", test_rounding_mode_is_per_coroutine},
    {"new coroutines start with the runtime's settings",
     test_new_coroutines_start_with_the_runtime_settings},
#if defined(__x86_64__)
    {"the x87 control word alone is per coroutine", test_x87_control_word_is_per_coroutine},
#endif
    {"no fd leak, restart", test_no_fd_leak_and_restart},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
