/* test_offload_giveup.c - a coroutine that stops waiting for its job
 * (offload.h): by deadline, by cancel, and in a race of either with fn's
 * return, run many times.  Whatever happens, fn runs once, and drop is
 * called on the worker (with fn's result) exactly when coro_offload
 * returned -1 -- the arg each job mallocs is freed by whoever ended up
 * owning it, so valgrind and ASan see a job lost or freed twice.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/offload.h>
#include "offload_test.h"

#define RACES 400          /* jobs per race */
#define VALGRIND_RACES 60  /* under valgrind, which runs one thread at a time */

/* ---- giving up: deadline and cancel ---- */

/* A job whose arg is malloc'd: drop checks fn's result and frees it. */
struct slow {
    int64_t sleep;          /* how long fn takes */
    int id;
};

static atomic_int drops, drop_mismatch, fn_runs;
static atomic_int drop_of[RACES]; /* per id */
static pthread_t runtime_thread;

static void *slow_fn(void *arg)
{
    struct slow *s = arg;
    sleep_ns(s->sleep);
    atomic_fetch_add(&fn_runs, 1);
    return (char *)arg + 1; /* a result drop can recognise */
}

static void slow_drop(void *arg, void *result)
{
    struct slow *s = arg;
    if (result != (char *)arg + 1 || pthread_equal(pthread_self(), runtime_thread))
        atomic_fetch_add(&drop_mismatch, 1);
    atomic_fetch_add(&drop_of[s->id], 1);
    atomic_fetch_add(&drops, 1);
    free(s);
}

static struct slow *new_slow(int64_t sleep, int id)
{
    struct slow *s = malloc(sizeof *s);
    if (s)
        *s = (struct slow){sleep, id};
    return s;
}

static void reset_drops(void)
{
    atomic_store(&drops, 0);
    atomic_store(&drop_mismatch, 0);
    atomic_store(&fn_runs, 0);
    for (int i = 0; i < RACES; i++)
        atomic_store(&drop_of[i], 0);
    runtime_thread = pthread_self();
}

/* Up to 5 s for `want` drops to have been made on the workers. */
static int drops_within(int want)
{
    for (int i = 0; i < 500 && atomic_load(&drops) < want; i++)
        sleep_ns(10 * MS);
    return atomic_load(&drops);
}

static void *timeout_body(void *arg)
{
    (void)arg;
    struct slow *s = new_slow(200 * MS, 0);
    int64_t deadline = coro_deadline_in(20);
    errno = 0;
    CHECK_INT(coro_offload(slow_fn, s, slow_drop, NULL, deadline), -1);
    CHECK_INT(errno, ETIMEDOUT);
    int64_t late = coro_now() - deadline;
    if (!CHECK(late >= 0 && late < late_ok()))
        fprintf(stderr, "    returned %lld ns after the deadline\n", (long long)late);
    return NULL;
}

static void test_timeout(void)
{
    reset_drops();
    run_one(timeout_body, NULL);
    CHECK_INT(drops_within(1), 1);
    CHECK_INT(atomic_load(&drop_mismatch), 0);
    CHECK_INT(atomic_load(&fn_runs), 1);
}

struct cancel_run {
    coro_t *victim;
    int64_t cancelled_at;
    int rc, err;
    int64_t returned_at;
};

static void *victim_body(void *arg)
{
    struct cancel_run *r = arg;
    r->rc = coro_offload(slow_fn, new_slow(200 * MS, 0), slow_drop, NULL, CORO_NEVER);
    r->err = errno;
    r->returned_at = coro_now();
    return NULL;
}

static void *canceller(void *arg)
{
    struct cancel_run *r = arg;
    coro_sleep_until(coro_deadline_in(20));
    r->cancelled_at = coro_now();
    coro_cancel(r->victim);
    return NULL;
}

/* Cancelled before the call: ECANCELED at once, and fn still runs.  fn
 * takes 50 ms: one that returned at once could be done before the caller
 * looks, and then its result is taken (offload.h), a race the test of the
 * races below covers. */
static void *cancelled_first(void *arg)
{
    (void)arg;
    coro_cancel(coro_self());
    errno = 0;
    CHECK_INT(coro_offload(slow_fn, new_slow(50 * MS, 0), slow_drop, NULL, CORO_NEVER), -1);
    CHECK_INT(errno, ECANCELED);
    return NULL;
}

static void test_cancel(void)
{
    reset_drops();
    struct cancel_run r = {NULL, 0, 0, 0, 0};
    r.victim = coro_spawn(victim_body, &r, &(coro_opts){.detached = true});
    coro_spawn(canceller, &r, &(coro_opts){.detached = true});
    CHECK_INT(coro_run(), 0);
    CHECK_INT(r.rc, -1);
    CHECK_INT(r.err, ECANCELED);
    CHECK(r.returned_at - r.cancelled_at < late_ok());
    run_one(cancelled_first, NULL);
    CHECK_INT(drops_within(2), 2);
    CHECK_INT(atomic_load(&drop_mismatch), 0);
}

/* ---- the race: fn returns just as the caller gives up ---- */

static int races(void)
{
    return san_on_valgrind() ? VALGRIND_RACES : RACES;
}

static int race_err[RACES];  /* 0: the result was taken; else errno */

/* fn takes 0 to 2 ms; the deadline (or a cancel) comes at about 1 ms. */
static int64_t race_sleep(int i)
{
    return (int64_t)(i % 9) * 250 * 1000;
}

static void *cancel_after_1ms(void *arg)
{
    coro_sleep_until(coro_deadline_in(1));
    coro_cancel(arg);
    return NULL;
}

/* One job of the race; by deadline, or (cancel) by a canceller's cancel. */
static void race_once(int i, bool cancel)
{
    struct slow *s = new_slow(race_sleep(i), i);
    void *result = NULL;
    if (cancel)
        coro_spawn(cancel_after_1ms, coro_self(), &(coro_opts){.detached = true});
    int64_t deadline = cancel ? CORO_NEVER : coro_deadline_in(1);
    int rc = coro_offload(slow_fn, s, slow_drop, &result, deadline);
    race_err[i] = rc == 0 ? 0 : errno;
    if (rc == 0) {
        CHECK(result == (char *)s + 1);
        free(s);
    }
    if (cancel && rc == 0) /* the cancel, come or coming, is still due */
        CHECK_INT(coro_sleep_until(coro_deadline_in(1000)), -1);
}

static void *race_body(void *arg)
{
    bool cancel = *(bool *)arg;
    for (int i = 0; i < races(); i++)
        race_once(i, cancel);
    return NULL;
}

static void check_race(bool cancel)
{
    reset_drops();
    run_one(race_body, &cancel);
    int given_up = 0, taken = 0;
    for (int i = 0; i < races(); i++) {
        given_up += race_err[i] != 0;
        taken += race_err[i] == 0;
        if (race_err[i])
            CHECK_INT(race_err[i], cancel ? ECANCELED : ETIMEDOUT);
    }
    CHECK_INT(drops_within(given_up), given_up);
    for (int i = 0; i < races(); i++) /* drop exactly when -1 was returned */
        if (!CHECK_INT(atomic_load(&drop_of[i]), race_err[i] != 0))
            fprintf(stderr, "    job %d: returned %s\n", i, race_err[i] ? "-1" : "0");
    CHECK_INT(atomic_load(&fn_runs), races()); /* none lost */
    CHECK_INT(atomic_load(&drop_mismatch), 0);
    printf("     %d jobs: %d results taken, %d given up\n", races(), taken, given_up);
}

static void test_race_deadline(void)
{
    check_race(false);
}

static void test_race_cancel(void)
{
    check_race(true);
}

/* fn has returned, and the worker has posted, before the cancel is seen:
 * the result is taken, and the cancel stays pending for the next wait. */
static atomic_int fn_returned;

static void *quick_fn(void *arg)
{
    atomic_store(&fn_returned, 1);
    return arg;
}

static void *spin_then_cancel(void *arg)
{
    while (!atomic_load(&fn_returned))
        ; /* holds the thread: the post cannot be delivered meanwhile */
    sleep_ns(20 * MS); /* the worker's post is made by now */
    coro_cancel(arg);
    return NULL;
}

static void *late_cancel_body(void *arg)
{
    (void)arg;
    atomic_store(&fn_returned, 0);
    coro_spawn(spin_then_cancel, coro_self(), &(coro_opts){.detached = true});
    void *result = NULL;
    CHECK_INT(coro_offload(quick_fn, &fn_returned, NULL, &result, CORO_NEVER), 0);
    CHECK(result == &fn_returned);
    errno = 0;
    CHECK_INT(coro_yield(), -1);
    CHECK_INT(errno, ECANCELED);
    return NULL;
}

static void test_late_cancel(void)
{
    run_one(late_cancel_body, NULL);
}


int main(void)
{
    static const check_case cases[] = {
        {"a deadline while fn runs: ETIMEDOUT, drop on the worker", test_timeout},
        {"a cancel while fn runs, and before the call: ECANCELED, drop", test_cancel},
        {"fn returns as the deadline passes: never a job lost", test_race_deadline},
        {"fn returns as the cancel comes: never a job lost", test_race_cancel},
        {"a cancel after fn returned: the result, and the cancel stays due", test_late_cancel},
    };
    return check_run(cases, sizeof cases / sizeof cases[0], 1);
}
