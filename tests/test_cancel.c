/* test_cancel.c - coro_cancel and coro_wakeup, checked against coro.h.
 *
 * A cancel is delivered once, to the coroutine's current or next wait,
 * which returns CORO_WOKE_CANCELLED (asyncio's CancelledError, without the
 * exception).  A wakeup ends a bare coro_wait but not a join or a sleep,
 * which wait again.  Scenarios record an order log (trail.h) and compare it
 * whole.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include "trail.h"

#define MS 1000000 /* nanoseconds */

static void *return_arg(void *arg)
{
    return arg;
}

/* ---- cancellation ---- */

static coro_t *victim;

static void *cancel_victim_after_5ms(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(5));
    step("cancel ");
    coro_cancel(victim);
    return NULL;
}

static void *long_sleep(void *arg)
{
    (void)arg;
    int64_t t0 = coro_now();
    errno = 0;
    CHECK_INT(coro_sleep_until(coro_deadline_in(10000)), -1);
    CHECK_INT(errno, ECANCELED);
    CHECK(coro_now() - t0 < 1000 * MS); /* promptly, not after 10 s */
    step("cancelled ");
    /* Delivered once: the next wait works normally. */
    CHECK_INT(coro_sleep_until(coro_deadline_in(1)), 0);
    step("slept");
    return NULL;
}

static void test_cancel_sleeper(void)
{
    trail_reset();
    victim = coro_spawn(long_sleep, NULL, NULL);
    coro_spawn(cancel_victim_after_5ms, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "cancel cancelled slept");
}

static int pair[2];

static void *wait_on_fd(void *arg)
{
    (void)arg;
    CHECK_INT(coro_wait(pair[0], CORO_READ, CORO_NEVER), CORO_WOKE_CANCELLED);
    step("cancelled ");
    /* The cancelled wait left no trace in the reactor: waiting again on
     * the same fd works and sees the data. */
    CHECK_INT(write(pair[1], "x", 1), 1);
    CHECK_INT(coro_wait(pair[0], CORO_READ, coro_deadline_in(5000)), CORO_WOKE_READY);
    step("ready");
    return NULL;
}

static void test_cancel_fd_waiter(void)
{
    trail_reset();
    if (!CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0))
        return;
    victim = coro_spawn(wait_on_fd, NULL, NULL);
    coro_spawn(cancel_victim_after_5ms, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "cancel cancelled ready");
    close(pair[0]);
    close(pair[1]);
}

static void *wait_twice(void *arg)
{
    (void)arg;
    errno = 0;
    CHECK_INT(coro_sleep_until(coro_deadline_in(1)), -1);
    CHECK_INT(errno, ECANCELED);
    CHECK_INT(coro_sleep_until(coro_deadline_in(1)), 0);
    step("w ");
    return NULL;
}

static void *yield_twice(void *arg)
{
    (void)arg;
    errno = 0;
    CHECK_INT(coro_yield(), -1);
    CHECK_INT(errno, ECANCELED);
    CHECK_INT(coro_yield(), 0);
    step("y ");
    return NULL;
}

/* Cancelled before it ever ran: its first wait (or yield) reports it. */
static void test_cancel_before_start(void)
{
    trail_reset();
    coro_cancel(coro_spawn(wait_twice, NULL, NULL));
    coro_cancel(coro_spawn(yield_twice, NULL, NULL));
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "y w ");
}

/* Cancelling twice before the victim resumes is still one cancellation:
 * like asyncio, a second cancel() of a task already being cancelled does
 * not raise CancelledError a second time. */
static void *cancel_victim_twice(void *arg)
{
    (void)arg;
    coro_yield(); /* let the victim park */
    coro_cancel(victim);
    coro_cancel(victim);
    return NULL;
}

static void *sleep_cancelled_once(void *arg)
{
    (void)arg;
    CHECK_INT(coro_sleep_until(coro_deadline_in(10000)), -1);
    CHECK_INT(coro_sleep_until(coro_deadline_in(1)), 0);
    step("once");
    return NULL;
}

static void test_cancel_twice_is_delivered_once(void)
{
    trail_reset();
    victim = coro_spawn(sleep_cancelled_once, NULL, NULL);
    coro_spawn(cancel_victim_twice, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "once");
}

/* Cancelling a finished coroutine, or oneself, does no harm. */
static void *cancel_finished_and_self(void *arg)
{
    (void)arg;
    coro_t *c = coro_spawn(return_arg, (void *)(intptr_t)5, NULL);
    coro_yield(); /* c finishes */
    coro_cancel(c);
    void *res = NULL;
    CHECK_INT(coro_join(c, &res), 0);
    CHECK_INT((intptr_t)res, 5);
    CHECK_INT(coro_sleep_until(coro_deadline_in(1)), 0); /* not hit by it */

    /* Oneself: we are not waiting, so it is our next wait that sees it. */
    coro_cancel(coro_self());
    CHECK_INT(coro_sleep_until(coro_deadline_in(1)), -1);
    CHECK_INT(coro_sleep_until(coro_deadline_in(1)), 0);
    step("done");
    return NULL;
}

static void test_cancel_finished_and_self(void)
{
    trail_reset();
    coro_spawn(cancel_finished_and_self, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "done");
}

/* A joiner cancelled while it waits gets ECANCELED; the handle stays valid
 * and a second join collects the result. */
static void *sleep_20ms_return_9(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(20));
    step("child ");
    return (void *)(intptr_t)9;
}

static void *join_cancelled(void *arg)
{
    (void)arg;
    coro_t *c = coro_spawn(sleep_20ms_return_9, NULL, NULL);
    void *res = NULL;
    errno = 0;
    CHECK_INT(coro_join(c, &res), -1);
    CHECK_INT(errno, ECANCELED);
    step("again ");
    CHECK_INT(coro_join(c, &res), 0);
    CHECK_INT((intptr_t)res, 9);
    step("joined");
    return NULL;
}

static void test_cancel_joiner(void)
{
    trail_reset();
    victim = coro_spawn(join_cancelled, NULL, NULL);
    coro_spawn(cancel_victim_after_5ms, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "cancel again child joined");
}

/* ---- coro_wakeup ---- */

static void *wake_victim_after_2ms(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(2));
    step("wake ");
    coro_wakeup(victim);
    coro_wakeup(victim); /* it is ready now, no longer parked: no effect */
    return NULL;
}

static void *park_until_woken(void *arg)
{
    (void)arg;
    coro_wakeup(coro_self()); /* not parked: does nothing */
    CHECK_INT(coro_wait(-1, 0, CORO_NEVER), CORO_WOKE_READY);
    step("woken ");
    /* The extra wakeups left nothing behind: this one times out. */
    CHECK_INT(coro_wait(-1, 0, coro_deadline_in(1)), CORO_WOKE_TIMEOUT);
    step("timeout");
    return NULL;
}

static void test_wakeup(void)
{
    trail_reset();
    victim = coro_spawn(park_until_woken, NULL, NULL);
    coro_spawn(wake_victim_after_2ms, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "wake woken timeout");
}

/* coro_join and coro_sleep_until are built on coro_wait, so another
 * coroutine can coro_wakeup them.  Neither may end early because of it:
 * join waits for the child to return, sleep for its deadline. */
static void *join_despite_wakeup(void *arg)
{
    (void)arg;
    coro_t *c = coro_spawn(sleep_20ms_return_9, NULL, NULL);
    void *res = NULL;
    CHECK_INT(coro_join(c, &res), 0);
    CHECK_INT((intptr_t)res, 9);
    step("joined");
    return NULL;
}

static void test_wakeup_does_not_end_join(void)
{
    trail_reset();
    victim = coro_spawn(join_despite_wakeup, NULL, NULL);
    coro_spawn(wake_victim_after_2ms, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "wake child joined");
}

static void *sleep_despite_wakeup(void *arg)
{
    (void)arg;
    int64_t deadline = coro_deadline_in(20);
    CHECK_INT(coro_sleep_until(deadline), 0);
    CHECK(coro_now() >= deadline);
    step("slept");
    return NULL;
}

static void test_wakeup_does_not_end_sleep(void)
{
    trail_reset();
    victim = coro_spawn(sleep_despite_wakeup, NULL, NULL);
    coro_spawn(wake_victim_after_2ms, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "wake slept");
}

static const check_case tests[] = {
    {"cancel a sleeper", test_cancel_sleeper},
    {"cancel an fd waiter", test_cancel_fd_waiter},
    {"cancel before start", test_cancel_before_start},
    {"cancel twice is delivered once", test_cancel_twice_is_delivered_once},
    {"cancel a finished coroutine, and oneself", test_cancel_finished_and_self},
    {"cancel a joiner", test_cancel_joiner},
    {"wakeup", test_wakeup},
    {"wakeup does not end a join", test_wakeup_does_not_end_join},
    {"wakeup does not end a sleep", test_wakeup_does_not_end_sleep},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
