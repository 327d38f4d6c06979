/* test_notifier.c - coro_notifier (offload.h): news from another thread.
 * Notifies that come while nobody waits are not lost and are taken
 * together; the counts taken add up to the notifies made, whether the
 * waiter was parked or busy; what the notifier wrote before is visible to
 * the waiter; a deadline, a cancel and a coro_wakeup; API misuse.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/offload.h>
#include "offload_test.h"

#define NOTIFIES 20000
#define VALGRIND_NOTIFIES 2000

static int notifies(void)
{
    return san_on_valgrind() ? VALGRIND_NOTIFIES : NOTIFIES;
}

/* ---- before any wait ---- */

static void *wait_for_3(void *arg)
{
    CHECK_INT(coro_notifier_wait(arg, coro_deadline_in(5000)), 3);
    return NULL;
}

static void *notify_3(void *arg)
{
    for (int i = 0; i < 3; i++)
        CHECK_INT(coro_notify(arg), 0);
    return NULL;
}

/* Three notifies from main with no runtime at all, then from another
 * thread before the waiter exists: each time the wait takes all three. */
static void test_before_wait(void)
{
    coro_notifier *n = coro_notifier_new();
    if (!CHECK(n != NULL))
        return;
    notify_3(n);
    run_one(wait_for_3, n);
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, notify_3, n), 0);
    pthread_join(t, NULL);
    run_one(wait_for_3, n);
    coro_notifier_free(n);
    coro_notifier_free(NULL); /* ignored */
}

/* ---- from another thread, many times ---- */

struct flood {
    coro_notifier *n;
    int *data;        /* data[i] written before notify i (plain writes) */
    int sum;          /* counts taken */
    int most;         /* the largest count taken at once */
    int waits;
};

static void *flood_thread(void *arg)
{
    struct flood *f = arg;
    for (int i = 0; i < notifies(); i++) {
        f->data[i] = i + 1;
        coro_notify(f->n);
        if (i % 64 == 0) /* now and then, let the waiter get ahead */
            sleep_ns((i % 3) * 100 * 1000);
    }
    return NULL;
}

static void *flood_waiter(void *arg)
{
    struct flood *f = arg;
    while (f->sum < notifies()) {
        long got = coro_notifier_wait(f->n, coro_deadline_in(10000));
        if (!CHECK(got >= 1))
            return NULL;
        f->sum += (int)got;
        f->waits++;
        f->most = got > f->most ? (int)got : f->most;
        if (f->sum <= notifies()) /* release/acquire: all of it is there */
            CHECK_INT(f->data[f->sum - 1], f->sum);
        if (f->waits % 3 == 0) /* and now and then be busy: counts pile up */
            coro_sleep_until(coro_deadline_in(1));
    }
    return NULL;
}

static void test_flood(void)
{
    struct flood f = {coro_notifier_new(), calloc((size_t)notifies(), sizeof(int)), 0, 0, 0};
    if (!CHECK(f.n != NULL && f.data != NULL))
        return;
    CHECK(coro_spawn(flood_waiter, &f, NULL) != NULL);
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, flood_thread, &f), 0);
    CHECK_INT(coro_run(), 0);
    pthread_join(t, NULL);
    CHECK_INT(f.sum, notifies());
    printf("     %d notifies taken in %d waits, at most %d at once\n", f.sum, f.waits, f.most);
    coro_notifier_free(f.n);
    free(f.data);
}

/* ---- deadline, cancel, wakeup ---- */

static void *timeout_body(void *arg)
{
    int64_t deadline = coro_deadline_in(20);
    errno = 0;
    CHECK_INT(coro_notifier_wait(arg, deadline), -1);
    CHECK_INT(errno, ETIMEDOUT);
    int64_t late = coro_now() - deadline;
    CHECK(late >= 0 && late < late_ok());
    return NULL;
}

static void test_timeout(void)
{
    coro_notifier *n = coro_notifier_new();
    if (!CHECK(n != NULL))
        return;
    run_one(timeout_body, n);
    coro_notifier_free(n);
}

struct poke {
    coro_notifier *n;
    coro_t *waiter;
    bool cancel;       /* cancel it; else coro_wakeup, then notify */
};

static void *poker(void *arg)
{
    struct poke *p = arg;
    coro_sleep_until(coro_deadline_in(10));
    if (p->cancel) {
        coro_cancel(p->waiter);
        return NULL;
    }
    coro_wakeup(p->waiter); /* not news: the wait goes on */
    coro_sleep_until(coro_deadline_in(10));
    coro_notify(p->n); /* from the waiter's own thread */
    return NULL;
}

static void *poked(void *arg)
{
    struct poke *p = arg;
    errno = 0;
    long got = coro_notifier_wait(p->n, coro_deadline_in(5000));
    if (p->cancel) {
        CHECK_INT(got, -1);
        CHECK_INT(errno, ECANCELED);
        CHECK_INT(coro_notify(p->n), 0); /* and the notifier works on */
        CHECK_INT(coro_notifier_wait(p->n, coro_deadline_in(5000)), 1);
    } else {
        CHECK_INT(got, 1);
    }
    return NULL;
}

static void poke(bool cancel)
{
    struct poke p = {coro_notifier_new(), NULL, cancel};
    if (!CHECK(p.n != NULL))
        return;
    p.waiter = coro_spawn(poked, &p, &(coro_opts){.detached = true});
    coro_spawn(poker, &p, &(coro_opts){.detached = true});
    CHECK_INT(coro_run(), 0);
    coro_notifier_free(p.n);
}

static void test_cancel(void)
{
    poke(true);
}

static void test_wakeup(void)
{
    poke(false);
}

/* ---- API misuse ---- */

static void *wait_on(void *arg)
{
    coro_notifier_wait(arg, CORO_NEVER);
    return NULL;
}

static void two_waiters(void)
{
    coro_notifier *n = coro_notifier_new();
    coro_spawn(wait_on, n, NULL);
    coro_spawn(wait_on, n, NULL);
    coro_run();
}

static void wait_from_main(void)
{
    coro_notifier_wait(coro_notifier_new(), CORO_NEVER);
}

static void *wait_on_null(void *arg)
{
    coro_notifier_wait(arg, CORO_NEVER);
    return NULL;
}

static void wait_null(void)
{
    coro_spawn(wait_on_null, NULL, NULL);
    coro_run();
}

static void notify_null(void)
{
    coro_notify(NULL);
}

static void test_misuse(void)
{
    expect_misuse(two_waiters, "bareawait: coro_notifier_wait: coroutine 2 \"coro\" waits on a "
                               "notifier another coroutine already waits on (one waiter at a "
                               "time) (API misuse)");
    expect_misuse(wait_from_main,
                  "bareawait: coro_notifier_wait: called outside any coroutine (API misuse)");
    expect_misuse(wait_null, "bareawait: coro_notifier_wait: a NULL notifier (API misuse)");
    expect_misuse(notify_null, "bareawait: coro_notify: a NULL notifier (API misuse)");
}

int main(void)
{
    static const check_case cases[] = {
        {"notifies before any wait are not lost", test_before_wait},
        {"notified from another thread: the counts add up", test_flood},
        {"a deadline: ETIMEDOUT", test_timeout},
        {"a cancel: ECANCELED, and the notifier works on", test_cancel},
        {"a coro_wakeup is not news: the wait goes on", test_wakeup},
        {"two waiters, from main, or NULL: API misuse", test_misuse},
    };
    return check_run(cases, sizeof cases / sizeof cases[0], 1);
}
