/* test_resolve.c - the resolver thread never outlives the runtime, and a
 * thread that cannot be started is an error, not a hang.
 *
 * Lookups go to ts_lookup (http_set_lookup): "slow-N.test" sleeps N ms on
 * the resolver thread, long after the request gave up on it.  When
 * coro_run() has returned, the process must be back to one thread; under
 * valgrind (--errors-for-leak-kinds=definite,indirect,possible) this
 * program then exits clean, which a thread still running would not.
 */
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "hostile.h"
#include "resolve.h"
#include "sanitize.h"
#include "testserver.h"

#define SLOW_HOST "slow-400.test" /* answers 400 ms after it is asked */
#define GIVE_UP_MS 30             /* when the requests give up on it */

/* The threads the process had before any lookup: 1, or more under
 * qemu-user, whose emulator keeps threads of its own in the process. */
static int base_threads;

/* Threads of this process (entries in /proc/self/task), or -1. */
static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The thread count once it has come down to `want`, or what it still is
 * after 100 ms: a joined thread can linger in /proc/self/task for a
 * moment under qemu-user, whose emulated threads end after the join.
 * (Short on purpose: a lookup coro_run did not wait for has ~370 ms to
 * go, and must still be seen.) */
static int settled_threads(int want)
{
    int n = count_threads();
    for (int i = 0; i < 10 && n > want; i++) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
        n = count_threads();
    }
    return n;
}

typedef struct lookup_job {
    http_client *c;
    char url[64];
    int err;       /* what http_get returned */
} lookup_job;

static void *get_job(void *arg)
{
    lookup_job *j = arg;
    http_response *r = NULL;
    j->err = http_get(j->c, j->url, &r);
    http_response_free(r);
    return NULL;
}

/* A lookup that outlives its request's connect timeout. */
static void test_timed_out(void *arg)
{
    (void)arg;
    http_set_lookup(ts_lookup);
    lookup_job j = {http_client_open(&(http_client_opts){.connect_timeout_ms = GIVE_UP_MS})};
    snprintf(j.url, sizeof j.url, "http://%s:9/", SLOW_HOST);
    get_job(&j);
    CHECK_INT(j.err, HTTP_E_CONNECT_TIMEOUT);
    CHECK_INT(count_threads(), base_threads + 1); /* the lookup goes on without us */
    http_client_close(j.c);
}

/* A lookup whose coroutine is cancelled. */
static void test_cancelled(void *arg)
{
    (void)arg;
    http_set_lookup(ts_lookup);
    lookup_job j = {http_client_open(NULL)};
    snprintf(j.url, sizeof j.url, "http://%s:9/", SLOW_HOST);
    coro_t *co = coro_spawn(get_job, &j, NULL);
    if (!CHECK(co != NULL))
        return;
    coro_sleep_until(coro_deadline_in(GIVE_UP_MS));
    coro_cancel(co);
    CHECK_INT(coro_join(co, NULL), 0);
    CHECK_INT(j.err, HTTP_E_CANCELLED);
    http_client_close(j.c);
}

/* ---- no thread to be had ---- */

/* pthread_create fails: an error at once, EAGAIN, and nothing leaks
 * (ts_run counts the fds: the eventfd is closed).  Lowers RLIMIT_AS below
 * what a thread's stack needs, so it runs in a child process. */
static void test_no_thread(void *arg)
{
    (void)arg;
    http_set_lookup(ts_lookup);
    http_client *c = http_client_open(NULL);
    pthread_attr_t attr;
    size_t stack = 0;
    if (!CHECK_INT(pthread_getattr_default_np(&attr), 0))
        return;
    pthread_attr_getstacksize(&attr, &stack);
    pthread_attr_destroy(&attr);
    struct rlimit old;
    getrlimit(RLIMIT_AS, &old);
    struct rlimit low = old;
    long long in_use_kib = check_proc_kib("/proc/self/status", "VmSize:");
    low.rlim_cur = (rlim_t)in_use_kib * 1024 + stack / 2; /* room for small things */
    CHECK_INT(setrlimit(RLIMIT_AS, &low), 0);
    struct addrinfo *res = NULL;
    int gai_err = -1;
    errno = 0;
    CHECK_INT(ba_resolve("v4.test", 80, coro_deadline_in(5000), &res, &gai_err), -1);
    CHECK_INT(errno, EAGAIN);
    CHECK(res == NULL);
    http_response *r = NULL;
    errno = 0;
    CHECK_INT(http_get(c, "http://v4.test:9/", &r), HTTP_E_RESOLVE);
    CHECK_INT(errno, EAGAIN);
    CHECK(r == NULL);
    setrlimit(RLIMIT_AS, &old);
    CHECK_INT(ba_resolve("v4.test", 80, coro_deadline_in(5000), &res, &gai_err), 0);
    if (CHECK(res != NULL)) /* and with the limit back, lookups work again */
        freeaddrinfo(res);
    http_client_close(c);
}

static void *no_op(void *arg)
{
    return arg;
}

int main(void)
{
    int threads = base_threads = count_threads();
    if (!check_under_qemu())
        CHECK_INT(threads, 1);
    /* First: glibc keeps the stacks of joined threads for the next ones,
     * and a child forked after the other cases would need no new stack. */
    if (check_under_qemu())
        fprintf(stderr, "-- resolve: no thread to be had: skipped, qemu-user ignores "
                        "setrlimit(RLIMIT_AS)\n");
    else
        run_in_child("resolve: no thread to be had", test_no_thread);
    /* ThreadSanitizer starts a thread of its own, for good, with the
     * process's first pthread_create: let that happen before the count. */
    pthread_t t;
    if (san_on_tsan() && CHECK_INT(pthread_create(&t, NULL, no_op, NULL), 0)) {
        pthread_join(t, NULL);
        threads = base_threads = count_threads();
    }
    CHECK_INT(ts_run("resolve: a lookup that timed out", test_timed_out, NULL), 0);
    CHECK_INT(settled_threads(threads), threads); /* coro_run waited for the thread */
    CHECK_INT(ts_run("resolve: a lookup cancelled", test_cancelled, NULL), 0);
    CHECK_INT(settled_threads(threads), threads);
    http_set_lookup(NULL);
    return check_summary();
}
