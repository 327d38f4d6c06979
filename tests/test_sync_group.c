/* test_sync_group.c - coro_group (sync.h) and coro_join_until (coro.h):
 * a group waits for all its tasks, the first failure cancels the rest and
 * is what the wait returns, cancel on demand, the wait's deadline and
 * cancel; a join that times out leaves the handle joinable.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/sync.h>
#include "trail.h"

#define MS 1000000 /* nanoseconds */
#define LONG_MS 10000 /* "for ever" in a test: 10 s */

static coro_group *group;

/* ---- tasks ---- */

static int count_and_yield(void *arg)
{
    int *count = arg;
    coro_yield();
    (*count)++;
    return 0;
}

/* Sleeps "for ever"; a cancel ends it.  Logs how it ended. */
static int sleeper(void *arg)
{
    const char *name = arg;
    errno = 0;
    int r = coro_sleep_until(coro_deadline_in(LONG_MS));
    step("%s:%s ", name, r == 0 ? "slept" : errno == ECANCELED ? "cancelled" : "?");
    return r == 0 ? 0 : errno; /* ECANCELED: not looked at, the group was cancelled */
}

/* Fails with the errno value in arg after a few yields (arg is an int). */
static int fail_after_yields(void *arg)
{
    int e = (int)(intptr_t)arg;
    for (int i = 0; i < 3; i++)
        coro_yield();
    step("fail%d ", e);
    return e;
}

/* ---- waiting for all ---- */

static void *wait_all(void *arg)
{
    int *count = arg;
    CHECK_INT(coro_group_wait(group, CORO_NEVER), 0);
    CHECK_INT(*count, 10);
    CHECK_INT(coro_group_size(group), 0);
    CHECK_INT(coro_group_wait(group, 0), 0); /* empty: at once */
    return NULL;
}

static void test_all_succeed(void)
{
    int count = 0;
    coro_group_free(NULL); /* ignored */
    group = coro_group_new();
    if (!CHECK(group))
        return;
    /* Spawned from main, before the scheduler runs, and waited for in a
     * coroutine. */
    for (int i = 0; i < 10; i++)
        CHECK_INT(coro_group_spawn(group, count_and_yield, &count, NULL), 0);
    CHECK_INT(coro_group_size(group), 10);
    coro_spawn(wait_all, &count, NULL);
    CHECK_INT(coro_run(), 0);
    coro_group_free(group);
}

static void *wait_expect(void *arg)
{
    int want = (int)(intptr_t)arg;
    int64_t t0 = coro_now();
    errno = 0;
    int r = coro_group_wait(group, CORO_NEVER);
    step("wait:%d ", r == 0 ? 0 : errno);
    CHECK_INT(r == 0 ? 0 : errno, want);
    CHECK(coro_now() - t0 < (int64_t)LONG_MS * MS / 2); /* the sleepers did not run out */
    return NULL;
}

/* The first failure cancels the others; a second failure is not news. */
static void test_first_error_cancels_the_rest(void)
{
    trail_reset();
    group = coro_group_new();
    coro_group_spawn(group, sleeper, "s1", NULL);
    coro_group_spawn(group, fail_after_yields, (void *)(intptr_t)ECONNREFUSED, NULL);
    coro_group_spawn(group, sleeper, "s2", NULL);
    coro_spawn(wait_expect, (void *)(intptr_t)ECONNREFUSED, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "fail111 s1:cancelled s2:cancelled wait:111 ");
    coro_group_free(group);

    trail_reset();
    group = coro_group_new();
    coro_group_spawn(group, fail_after_yields, (void *)(intptr_t)EHOSTUNREACH, NULL);
    coro_group_spawn(group, fail_after_yields, (void *)(intptr_t)ECONNRESET, NULL);
    coro_spawn(wait_expect, (void *)(intptr_t)EHOSTUNREACH, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "fail113 fail104 wait:113 ");
    coro_group_free(group);
}

static int spawn_after_cancel(void *arg)
{
    (void)arg;
    coro_yield(); /* the failure comes first */
    errno = 0;
    CHECK_INT(coro_group_spawn(group, sleeper, "late", NULL), -1);
    CHECK_INT(errno, ECANCELED);
    step("refused ");
    return 0;
}

static int fail_at_once(void *arg)
{
    (void)arg;
    return EIO;
}

/* A task cancelled before it ever ran still runs, exactly once; a group
 * being cancelled takes no new task. */
static void test_cancelled_before_start(void)
{
    trail_reset();
    group = coro_group_new();
    coro_group_spawn(group, fail_at_once, NULL, NULL);
    coro_group_spawn(group, sleeper, "s", NULL);
    coro_group_spawn(group, spawn_after_cancel, NULL, NULL);
    coro_spawn(wait_expect, (void *)(intptr_t)EIO, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "s:cancelled refused wait:5 ");
    coro_group_free(group);
}

/* ---- cancel on demand, deadline, the waiter cancelled ---- */

static void *cancel_group_soon(void *arg)
{
    (void)arg;
    coro_yield();
    step("cancel ");
    coro_group_cancel(group);
    coro_group_cancel(group); /* harmless */
    return NULL;
}

static void test_cancel_on_demand(void)
{
    trail_reset();
    group = coro_group_new();
    coro_group_spawn(group, sleeper, "s1", NULL);
    coro_group_spawn(group, sleeper, "s2", NULL);
    coro_spawn(wait_expect, (void *)0, NULL); /* ECANCELED results ignored */
    coro_spawn(cancel_group_soon, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "cancel s1:cancelled s2:cancelled wait:0 ");
    coro_group_free(group);
}

static void *wait_with_deadline(void *arg)
{
    (void)arg;
    errno = 0;
    CHECK_INT(coro_group_wait(group, 0), -1); /* a try */
    CHECK_INT(errno, ETIMEDOUT);
    int64_t t0 = coro_now();
    CHECK_INT(coro_group_wait(group, coro_deadline_in(10)), -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(coro_now() - t0 >= 10 * MS);
    CHECK_INT(coro_group_size(group), 2); /* they go on */
    step("timeout ");
    coro_group_cancel(group);
    CHECK_INT(coro_group_wait(group, coro_deadline_in(LONG_MS)), 0);
    step("joined ");
    return NULL;
}

static void test_wait_deadline(void)
{
    trail_reset();
    group = coro_group_new();
    coro_group_spawn(group, sleeper, "s1", NULL);
    coro_group_spawn(group, sleeper, "s2", NULL);
    coro_spawn(wait_with_deadline, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "timeout s1:cancelled s2:cancelled joined ");
    coro_group_free(group);
}

static coro_t *waiter;

static void *wait_cancelled(void *arg)
{
    (void)arg;
    errno = 0;
    CHECK_INT(coro_group_wait(group, CORO_NEVER), -1);
    CHECK_INT(errno, ECANCELED);
    step("wait:cancelled(%zu) ", coro_group_size(group));
    CHECK_INT(coro_group_wait(group, CORO_NEVER), 0); /* delivered once */
    step("joined ");
    return NULL;
}

static void *cancel_waiter(void *arg)
{
    (void)arg;
    coro_yield();
    coro_cancel(waiter);
    return NULL;
}

/* Cancelling the waiter cancels its group too (as asyncio's TaskGroup). */
static void test_waiter_cancelled(void)
{
    trail_reset();
    group = coro_group_new();
    coro_group_spawn(group, sleeper, "s1", NULL);
    waiter = coro_spawn(wait_cancelled, NULL, NULL);
    coro_spawn(cancel_waiter, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "wait:cancelled(1) s1:cancelled joined ");
    coro_group_free(group);
}

/* A task spawns a sibling; the wait covers it too. */
static int spawn_sibling(void *arg)
{
    int *count = arg;
    CHECK_INT(coro_group_spawn(group, count_and_yield, count, &(coro_opts){.name = "sib"}), 0);
    (*count)++;
    return 0;
}

static void *wait_count(void *arg)
{
    CHECK_INT(coro_group_wait(group, CORO_NEVER), 0);
    CHECK_INT(*(int *)arg, 2);
    return NULL;
}

static void test_nested_spawn(void)
{
    int count = 0;
    group = coro_group_new();
    coro_group_spawn(group, spawn_sibling, &count, NULL);
    coro_spawn(wait_count, &count, NULL);
    CHECK_INT(coro_run(), 0);
    coro_group_free(group);
}

/* ---- coro_join_until ---- */

static void *nap_then_return(void *arg)
{
    coro_sleep_until(coro_deadline_in(20));
    return arg;
}

static void *join_with_deadlines(void *arg)
{
    (void)arg;
    coro_t *c = coro_spawn(nap_then_return, (void *)"done", NULL);
    void *result = NULL;
    errno = 0;
    int64_t t0 = coro_now();
    CHECK_INT(coro_join_until(c, &result, coro_deadline_in(2)), -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(coro_now() - t0 >= 2 * MS);
    CHECK(result == NULL);
    /* The handle is still valid and joinable. */
    CHECK_STR(coro_name(c), "coro");
    CHECK_INT(coro_join_until(c, &result, coro_deadline_in(LONG_MS)), 0);
    CHECK_STR(result, "done");
    /* One that has returned is joined at once, whatever the deadline. */
    c = coro_spawn(nap_then_return, (void *)"again", NULL);
    coro_sleep_until(coro_deadline_in(40));
    CHECK_INT(coro_join_until(c, &result, 0), 0);
    CHECK_STR(result, "again");
    return NULL;
}

static void test_join_until(void)
{
    coro_spawn(join_with_deadlines, NULL, NULL);
    CHECK_INT(coro_run(), 0);
}

static const check_case tests[] = {
    {"group: every task runs; the wait returns 0", test_all_succeed},
    {"group: the first failure cancels the rest, and is the result", test_first_error_cancels_the_rest},
    {"group: a task cancelled before it ran; no spawn after a cancel", test_cancelled_before_start},
    {"group: cancel on demand", test_cancel_on_demand},
    {"group: the wait's deadline leaves the tasks running", test_wait_deadline},
    {"group: a cancelled waiter cancels its group", test_waiter_cancelled},
    {"group: a task spawns into its own group", test_nested_spawn},
    {"join_until: times out, then joins; a finished one at once", test_join_until},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
