/* test_sync_sem.c - coro_sem (sync.h): the contract, FIFO hand-off with no
 * barging, timeouts and cancels of acquire, and a cancel or a deadline
 * racing a hand-off in every order the scheduler can be made to produce.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/sync.h>
#include "trail.h"

#define MS 1000000 /* nanoseconds */

static coro_sem *sem;

/* ---- the contract ---- */

static void *take_two_give_one(void *arg)
{
    (void)arg;
    CHECK_INT(coro_sem_acquire(sem, CORO_NEVER), 0);
    CHECK_INT(coro_sem_acquire(sem, CORO_NEVER), 0);
    CHECK_INT(coro_sem_value(sem), 0);
    coro_sem_release(sem);
    CHECK_INT(coro_sem_value(sem), 1);
    return NULL;
}

static void test_contract(void)
{
    errno = 0;
    CHECK(coro_sem_new(-1) == NULL);
    CHECK_INT(errno, EINVAL);
    coro_sem_free(NULL); /* ignored */
    sem = coro_sem_new(2);
    if (!CHECK(sem))
        return;
    CHECK_INT(coro_sem_value(sem), 2);
    CHECK_INT(coro_sem_waiters(sem), 0);
    coro_spawn(take_two_give_one, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    /* From main(), and across runs of the scheduler: */
    coro_sem_release(sem);
    CHECK_INT(coro_sem_value(sem), 2);
    coro_spawn(take_two_give_one, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    coro_sem_free(sem);
}

/* ---- FIFO, and no barging ---- */

static void *acquire_and_log(void *arg)
{
    CHECK_INT(coro_sem_acquire(sem, CORO_NEVER), 0);
    step("%s ", (const char *)arg);
    return NULL;
}

static void *release_five_when_all_wait(void *arg)
{
    (void)arg;
    while (coro_sem_waiters(sem) < 5)
        coro_yield();
    for (int i = 0; i < 5; i++)
        coro_sem_release(sem);
    step("released ");
    return NULL;
}

static void test_fifo(void)
{
    trail_reset();
    sem = coro_sem_new(0);
    coro_spawn(release_five_when_all_wait, NULL, NULL);
    static const char *names[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        coro_spawn(acquire_and_log, (void *)names[i], NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "released a b c d e ");
    CHECK_INT(coro_sem_value(sem), 0);
    coro_sem_free(sem);
}

/* The holder gives its unit back while a waiter is queued and at once
 * tries to take one again: the unit is the waiter's already. */
static void *hold_release_retake(void *arg)
{
    (void)arg;
    CHECK_INT(coro_sem_acquire(sem, CORO_NEVER), 0);
    while (coro_sem_waiters(sem) < 1)
        coro_yield();
    coro_sem_release(sem);
    errno = 0;
    CHECK_INT(coro_sem_acquire(sem, 0), -1); /* a try: the deadline is past */
    CHECK_INT(errno, ETIMEDOUT);
    step("holder-refused ");
    CHECK_INT(coro_sem_acquire(sem, CORO_NEVER), 0); /* queued behind */
    step("holder ");
    coro_sem_release(sem);
    return NULL;
}

static void *wait_then_hold_briefly(void *arg)
{
    CHECK_INT(coro_sem_acquire(sem, CORO_NEVER), 0);
    step("%s ", (const char *)arg);
    coro_yield();
    coro_sem_release(sem);
    return NULL;
}

static void test_no_barging(void)
{
    trail_reset();
    sem = coro_sem_new(1);
    coro_spawn(hold_release_retake, NULL, NULL);
    coro_spawn(wait_then_hold_briefly, "waiter", NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "holder-refused waiter holder ");
    CHECK_INT(coro_sem_value(sem), 1);
    coro_sem_free(sem);
}

/* ---- timeouts and cancels ---- */

static bool other_ran;

static void *set_other_ran(void *arg)
{
    (void)arg;
    other_ran = true;
    return NULL;
}

static void *acquire_with_deadlines(void *arg)
{
    (void)arg;
    coro_spawn(set_other_ran, NULL, NULL);
    errno = 0;
    CHECK_INT(coro_sem_acquire(sem, coro_now() - 1), -1); /* passed: no park */
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(!other_ran);
    int64_t t0 = coro_now();
    CHECK_INT(coro_sem_acquire(sem, coro_deadline_in(5)), -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(coro_now() - t0 >= 5 * MS);
    CHECK_INT(coro_sem_waiters(sem), 0);
    return NULL;
}

static void test_timeout(void)
{
    other_ran = false;
    sem = coro_sem_new(0);
    coro_spawn(acquire_with_deadlines, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(coro_sem_value(sem), 0);
    coro_sem_free(sem);
}

static coro_t *victim;

static void *acquire_cancelled(void *arg)
{
    (void)arg;
    errno = 0;
    CHECK_INT(coro_sem_acquire(sem, coro_deadline_in(10000)), -1);
    CHECK_INT(errno, ECANCELED);
    CHECK_INT(coro_sem_waiters(sem), 0);
    /* The cancel was delivered once: the next acquire waits normally. */
    CHECK_INT(coro_sem_acquire(sem, CORO_NEVER), 0);
    step("got ");
    return NULL;
}

static void *cancel_then_release(void *arg)
{
    (void)arg;
    coro_yield(); /* let the victim park */
    coro_cancel(victim);
    coro_yield(); /* it sees the cancel and parks again */
    step("release ");
    coro_sem_release(sem);
    return NULL;
}

static void test_cancel(void)
{
    trail_reset();
    sem = coro_sem_new(0);
    victim = coro_spawn(acquire_cancelled, NULL, NULL);
    coro_spawn(cancel_then_release, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "release got ");
    CHECK_INT(coro_sem_value(sem), 0);
    coro_sem_free(sem);
}

/* ---- a cancel, a wakeup or a deadline racing a hand-off ----
 *
 * Two waiters, w1 then w2, are queued on an empty semaphore.  A driver
 * then plays a script, one letter per action, all before w1 runs again
 * unless the script yields:
 *   r  coro_sem_release
 *   c  coro_cancel(w1)
 *   w  coro_wakeup(w1) (a plain wakeup: w1 keeps its place)
 *   t  w1's deadline passes and its timer fires (the driver busy-waits past
 *      it, then sleeps until a time already past: both timers fire in one
 *      round, the driver's first, so it goes on before w1 runs)
 *   y  coro_yield (w1 and w2 run if they are ready)
 * Then everyone runs to the end; whoever still waits is cancelled.  A
 * holder yields once (a cancel left pending shows there) and keeps its
 * unit, so that the units free plus the units held must be the units
 * released: none lost, none given twice.
 */

#define T_NS (20 * MS) /* w1's deadline, in scripts with a 't' */

struct racer {
    int64_t deadline;
    int got;      /* acquire's result: 0, or its errno */
    int next;     /* a holder's next wait (a coro_yield): 0, or its errno */
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    errno = 0;
    r->got = coro_sem_acquire(sem, r->deadline) == 0 ? 0 : errno;
    if (r->got == 0) {
        errno = 0;
        r->next = coro_yield() == 0 ? 0 : errno;
    }
    return NULL;
}

static void play(const char *script, coro_t *w1, int64_t w1_deadline)
{
    for (const char *a = script; *a; a++) {
        if (*a == 'r')
            coro_sem_release(sem);
        else if (*a == 'c')
            coro_cancel(w1);
        else if (*a == 'w')
            coro_wakeup(w1);
        else if (*a == 'y')
            coro_yield();
        else if (*a == 't') {
            while (coro_now() <= w1_deadline)
                ; /* no switch: w1's timer cannot fire yet */
            coro_sleep_until(0);
        }
    }
}

typedef struct race_case {
    const char *script;
    int w1_got, w1_next; /* what w1 gets, and its next wait */
    int w2_got;          /* w2 (cancelled at the end if still waiting) */
} race_case;

static const race_case races[] = {
    {"r", 0, 0, ECANCELED},
    {"rr", 0, 0, 0},
    {"c", ECANCELED, 0, ECANCELED},
    {"rc", 0, ECANCELED, ECANCELED},    /* handed first: the cancel waits */
    {"cr", ECANCELED, 0, 0},            /* cancelled first: w2 gets it */
    {"crr", ECANCELED, 0, 0},
    {"cyr", ECANCELED, 0, 0},
    {"ryc", 0, ECANCELED, ECANCELED},   /* w1 holds it, in its yield */
    {"wr", 0, 0, ECANCELED},            /* a wakeup keeps w1's place */
    {"wcr", 0, ECANCELED, ECANCELED},   /* not parked: the cancel waits */
    {"tr", ETIMEDOUT, 0, 0},            /* timed out first: w2 gets it */
    {"rt", 0, 0, ECANCELED},
    {"tcr", ETIMEDOUT, 0, 0},
    {"ctr", ECANCELED, 0, 0},
    {"trr", ETIMEDOUT, 0, 0},
    {"tyr", ETIMEDOUT, 0, 0},
};

static const race_case *race;
static struct racer r1, r2;

static void *driver(void *arg)
{
    (void)arg;
    bool timed = strchr(race->script, 't') != NULL;
    r1 = (struct racer){.deadline = timed ? coro_now() + T_NS : CORO_NEVER, .got = -1};
    r2 = (struct racer){.deadline = CORO_NEVER, .got = -1};
    coro_t *w1 = coro_spawn(racer_main, &r1, NULL);
    coro_t *w2 = coro_spawn(racer_main, &r2, NULL);
    while (coro_sem_waiters(sem) < 2)
        coro_yield();
    play(race->script, w1, r1.deadline);
    for (int i = 0; i < 8; i++)
        coro_yield();
    coro_cancel(w1); /* harmless for one that has returned */
    coro_cancel(w2);
    CHECK_INT(coro_join(w1, NULL), 0);
    CHECK_INT(coro_join(w2, NULL), 0);
    return NULL;
}

static void test_cancel_races_hand_off(void)
{
    for (size_t i = 0; i < sizeof races / sizeof races[0]; i++) {
        race = &races[i];
        sem = coro_sem_new(0);
        coro_spawn(driver, NULL, NULL);
        CHECK_INT(coro_run(), 0);
        long released = 0;
        for (const char *a = race->script; *a; a++)
            released += *a == 'r';
        int before = check_failures;
        CHECK_INT(r1.got, race->w1_got);
        CHECK_INT(r1.next, race->w1_next);
        CHECK_INT(r2.got, race->w2_got);
        /* Nothing lost, nothing given twice. */
        CHECK_INT(coro_sem_value(sem) + (r1.got == 0) + (r2.got == 0), released);
        CHECK_INT(coro_sem_waiters(sem), 0);
        if (check_failures != before)
            fprintf(stderr, "  in script \"%s\"\n", race->script);
        coro_sem_free(sem);
    }
}

/* ---- many waiters, many rounds: units are conserved ---- */

#define CHURN 200

static void *churn(void *arg)
{
    int *held = arg;
    for (int i = 0; i < 20; i++) {
        if (coro_sem_acquire(sem, coro_deadline_in(i % 3 ? 50 : 0)) < 0)
            continue;
        (*held)++;
        CHECK((*held) <= 3);
        coro_yield();
        (*held)--;
        coro_sem_release(sem);
    }
    return NULL;
}

static void test_churn(void)
{
    int held = 0;
    sem = coro_sem_new(3);
    for (int i = 0; i < CHURN; i++)
        coro_spawn(churn, &held, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(held, 0);
    CHECK_INT(coro_sem_value(sem), 3);
    coro_sem_free(sem);
}

static const check_case tests[] = {
    {"sem: the contract, from main and across runs", test_contract},
    {"sem: waiters are served first come, first served", test_fifo},
    {"sem: a release hands the unit to the waiter, not to a late arrival", test_no_barging},
    {"sem: acquire times out, and a past deadline is a try", test_timeout},
    {"sem: a cancelled acquire takes nothing; the next one works", test_cancel},
    {"sem: a cancel, wakeup or deadline racing a hand-off, every order", test_cancel_races_hand_off},
    {"sem: 200 coroutines on 3 units, with timeouts: units conserved", test_churn},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
