/* test_resolve.c - lookups run on the offload pool's workers (offload.h):
 * a lookup given up on runs on without holding the runtime, a burst of
 * lookups never takes more than CORO_OFFLOAD_WORKERS workers, the workers
 * end when idle, and no thread to be had is an error, not a hang.
 *
 * Lookups go to ts_lookup (http_set_lookup): "slow-N.test" sleeps N ms on
 * the worker, long after the request gave up on it.  Once the workers have
 * been idle for CORO_OFFLOAD_IDLE_MS none may be left; under valgrind
 * (--errors-for-leak-kinds=definite,indirect,possible) this program then
 * exits clean: a given-up lookup's job and result were freed on its
 * worker.
 */
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/offload.h>
#include "resolve.h"
#include "sanitize.h"
#include "testserver.h"

#define SLOW_HOST "slow-400.test" /* answers 400 ms after it is asked */
#define GIVE_UP_MS 30             /* when the requests give up on it */

static bool under_tsan(void)
{
#ifdef BA_TSAN
    return true;
#else
    return false;
#endif
}

/* The offload pool's workers alive now: threads named
 * CORO_OFFLOAD_THREAD_NAME (blind to the threads qemu-user and
 * ThreadSanitizer keep in the process). */
static int count_workers(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char path[300], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(path, "r") : NULL;
        if (f && fgets(name, sizeof name, f))
            n += strcmp(name, CORO_OFFLOAD_THREAD_NAME "\n") == 0;
        if (f)
            fclose(f);
    }
    closedir(d);
    return n;
}

/* The worker count once it has come down to `want`, or what it still is
 * after `ms`: a worker ends CORO_OFFLOAD_IDLE_MS after its last job. */
static int workers_within(int want, int ms)
{
    int n = count_workers();
    for (int waited = 0; waited < ms && n > want; waited += 10) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
        n = count_workers();
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
    /* The lookup goes on without us, on a worker (whose name may take a
     * moment to show under valgrind, which runs one thread at a time). */
    int workers = count_workers();
    for (int waited = 0; waited < 1000 && workers < 1; waited += 10) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
        workers = count_workers();
    }
    CHECK_INT(workers, 1);
    http_client_close(j.c);
}   /* and coro_run returns while it does: the worker frees what it leaves */


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

/* ---- a burst of lookups: the pool's limit ---- */

#define BURST 40                    /* lookups at once, over the limit */
#define BURST_HOST "slow-50.test"
#define BURST_MS 20000              /* for all of them: far more than needed */

struct burst {
    int done;        /* lookups that resolved */
    int ended;       /* lookups that returned, resolved or not */
    int peak;        /* most workers seen at once */
};

static void *burst_lookup(void *arg)
{
    struct burst *b = arg;
    struct addrinfo *res = NULL;
    int gai_err = 0;
    if (ba_resolve(BURST_HOST, 80, coro_deadline_in(BURST_MS), &res, &gai_err) == 0) {
        b->done++;
        freeaddrinfo(res);
    }
    b->ended++;
    return NULL;
}

/* BURST lookups at once, each 50 ms on a worker: they all resolve, and
 * the workers sampled meanwhile never exceed the pool's limit. */
static void test_burst(void *arg)
{
    (void)arg;
    http_set_lookup(ts_lookup);
    struct burst b = {0, 0, 0};
    int spawned = 0;
    for (int i = 0; i < BURST; i++)
        spawned += coro_spawn(burst_lookup, &b, &(coro_opts){.detached = true}) != NULL;
    CHECK_INT(spawned, BURST);
    int64_t give_up = coro_deadline_in(BURST_MS);
    while (b.ended < spawned && coro_now() < give_up) {
        int n = count_workers();
        b.peak = n > b.peak ? n : b.peak;
        coro_sleep_until(coro_deadline_in(2));
    }
    CHECK_INT(b.done, BURST);
    CHECK(b.peak > 1);
    if (!CHECK(b.peak <= CORO_OFFLOAD_WORKERS))
        fprintf(stderr, "    %d workers at once, want at most %d\n", b.peak,
                CORO_OFFLOAD_WORKERS);
}

/* ---- no thread to be had ---- */

/* pthread_create fails: an error at once, EAGAIN, and nothing leaks
 * (ts_run counts the fds).  Lowers RLIMIT_AS below what a worker's stack
 * needs, so it runs in a child process (with no worker yet). */
static void test_no_thread(void *arg)
{
    (void)arg;
    http_set_lookup(ts_lookup);
    http_client *c = http_client_open(NULL);
    size_t stack = CORO_OFFLOAD_STACK;
    struct rlimit old;
    getrlimit(RLIMIT_AS, &old);
    struct rlimit low = old;
    long long in_use_kib = check_proc_kib("/proc/self/status", "VmSize:");
    low.rlim_cur = (rlim_t)in_use_kib * 1024 + stack / 2; /* room for small things only */
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

/* Runs a case in a child process that ends with exit(), not _exit():
 * exit ends and joins the child's workers, so valgrind finds none of
 * their threads' memory left over. */
static void in_child(const char *name, void (*body)(void *))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        CHECK(pid >= 0);
        return;
    }
    if (pid == 0) {
        check_failures = 0; /* the parent's, copied by fork */
        int rc = ts_run(name, body, NULL);
        exit(rc == 0 && check_summary() == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
    CHECK_INT(count_workers(), 0);
    /* First, while the process has no worker: the child starts none. */
    if (check_under_qemu())
        fprintf(stderr, "-- resolve: no thread to be had: skipped, qemu-user ignores "
                        "setrlimit(RLIMIT_AS)\n");
    else if (under_tsan())
        fprintf(stderr, "-- resolve: no thread to be had: skipped, ThreadSanitizer dies "
                        "when RLIMIT_AS stops its own mappings\n");
    else
        in_child("resolve: no thread to be had", test_no_thread);
    CHECK_INT(ts_run("resolve: a lookup that timed out", test_timed_out, NULL), 0);
    CHECK_INT(ts_run("resolve: a lookup cancelled", test_cancelled, NULL), 0);
    CHECK_INT(ts_run("resolve: a burst of lookups", test_burst, NULL), 0);
    /* The slowest given-up lookup has a few hundred ms to go; then every
     * worker ends once idle. */
    CHECK_INT(workers_within(0, 3 * CORO_OFFLOAD_IDLE_MS + 500), 0);
    http_set_lookup(NULL);
    return check_summary();
}
