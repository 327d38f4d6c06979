/* test_offload.c - coro_offload (offload.h): results and memory carried
 * both ways, the pool's limit and its order, two runtimes offloading at
 * once, no deadlock while a job runs, a forked child's own pool, no thread
 * to be had, API misuse, and idle workers ending.  Giving up on a job is
 * test_offload_giveup.c's; coro_notifier is test_notifier.c's.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/offload.h>
#include "offload_test.h"

/* ---- results, and memory both ways ---- */

struct work {
    int in[16];         /* the caller's, before the call */
    int out[16];        /* fn's */
    long sum;
    pthread_t ran_on;
    bool signals_blocked;
};

static void *compute(void *arg)
{
    struct work *w = arg;
    for (int i = 0; i < 16; i++) {
        w->out[i] = w->in[i] * 2;
        w->sum += w->in[i];
    }
    w->ran_on = pthread_self();
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    w->signals_blocked = sigismember(&now, SIGINT) && sigismember(&now, SIGTERM) &&
                         sigismember(&now, SIGUSR1) && sigismember(&now, SIGCHLD);
    return &w->sum;
}

static void *result_body(void *arg)
{
    (void)arg;
    static const int firsts[] = {0, 1, -7, 1000};
    for (size_t k = 0; k < sizeof firsts / sizeof firsts[0]; k++) {
        struct work w = {.sum = 0};
        for (int i = 0; i < 16; i++)
            w.in[i] = firsts[k] + i;
        void *result = NULL;
        CHECK_INT(coro_offload(compute, &w, NULL, &result, CORO_NEVER), 0);
        CHECK(result == &w.sum);
        CHECK_INT(w.sum, 16 * firsts[k] + 120);
        for (int i = 0; i < 16; i++)
            CHECK_INT(w.out[i], 2 * (firsts[k] + i));
        CHECK(!pthread_equal(w.ran_on, pthread_self()));
        CHECK(w.signals_blocked);
    }
    struct work w = {.in = {5}};
    CHECK_INT(coro_offload(compute, &w, NULL, NULL, CORO_NEVER), 0); /* result NULL */
    CHECK_INT(w.out[0], 10);
    return NULL;
}

static void test_result(void)
{
    run_one(result_body, NULL);
}

/* ---- many at once: the limit ---- */

#define MANY 64

static atomic_int running, most_running, finished;

static void *count_running(void *arg)
{
    int now = atomic_fetch_add(&running, 1) + 1;
    int most = atomic_load(&most_running);
    while (now > most && !atomic_compare_exchange_weak(&most_running, &most, now))
        ;
    sleep_ns(5 * MS);
    atomic_fetch_sub(&running, 1);
    atomic_fetch_add(&finished, 1);
    return arg;
}

static void *many_body(void *arg)
{
    int *ok = arg;
    void *result = NULL;
    if (coro_offload(count_running, ok, NULL, &result, CORO_NEVER) == 0 && result == ok)
        (*ok)++;
    return NULL;
}

static void test_many(void)
{
    atomic_store(&running, 0);
    atomic_store(&most_running, 0);
    atomic_store(&finished, 0);
    int ok = 0;
    for (int i = 0; i < MANY; i++)
        CHECK(coro_spawn(many_body, &ok, &(coro_opts){.detached = true}) != NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(ok, MANY);
    CHECK_INT(atomic_load(&finished), MANY);
    CHECK(atomic_load(&most_running) <= CORO_OFFLOAD_WORKERS);
    CHECK(atomic_load(&most_running) > 1);
    printf("     %d jobs, at most %d running at once (limit %d)\n", MANY,
           atomic_load(&most_running), CORO_OFFLOAD_WORKERS);
}

/* ---- the queue is first in, first out ---- */

/* Every worker is held in a blocker; then jobs A, B, C are queued, and the
 * blockers let go one at a time: each freed worker takes the queue's head. */
static sem_t hold[CORO_OFFLOAD_WORKERS];
static atomic_int holding;
static char order[8];
static atomic_int recorded;

static void *blocker(void *arg)
{
    atomic_fetch_add(&holding, 1);
    while (sem_wait(arg) < 0 && errno == EINTR)
        ;
    return NULL;
}

static void *record(void *arg)
{
    order[atomic_load(&recorded)] = *(const char *)arg;
    atomic_fetch_add(&recorded, 1);
    return NULL;
}

static void *hold_body(void *arg)
{
    coro_offload(blocker, arg, NULL, NULL, CORO_NEVER);
    return NULL;
}

static void *record_body(void *arg)
{
    coro_offload(record, arg, NULL, NULL, CORO_NEVER);
    return NULL;
}

static void wait_until(atomic_int *v, int want)
{
    int64_t give_up = coro_deadline_in(10000);
    while (atomic_load(v) < want && coro_now() < give_up)
        coro_sleep_until(coro_deadline_in(1));
}

static void *fifo_body(void *arg)
{
    (void)arg;
    for (int i = 0; i < CORO_OFFLOAD_WORKERS; i++)
        coro_spawn(hold_body, &hold[i], &(coro_opts){.detached = true});
    wait_until(&holding, CORO_OFFLOAD_WORKERS);
    static const char names[] = "ABC";
    for (int i = 0; i < 3; i++) /* they hand over in spawn order */
        coro_spawn(record_body, (void *)&names[i], &(coro_opts){.detached = true});
    coro_yield(); /* all three are queued once they have run */
    for (int i = 0; i < CORO_OFFLOAD_WORKERS; i++) {
        sem_post(&hold[i]);
        if (i < 3)
            wait_until(&recorded, i + 1);
    }
    return NULL;
}

static void test_fifo(void)
{
    for (int i = 0; i < CORO_OFFLOAD_WORKERS; i++)
        sem_init(&hold[i], 0, 0);
    atomic_store(&holding, 0);
    atomic_store(&recorded, 0);
    memset(order, 0, sizeof order);
    run_one(fifo_body, NULL);
    CHECK_STR(order, "ABC");
    for (int i = 0; i < CORO_OFFLOAD_WORKERS; i++)
        sem_destroy(&hold[i]);
}

/* ---- two runtimes offloading at once ---- */

#define PER_THREAD 4    /* coroutines per thread */
#define JOBS 200        /* offloads per coroutine */

static void *add_one(void *arg)
{
    return (void *)((intptr_t)arg + 1);
}

struct offloader {
    intptr_t base;
    int ok;
};

static void *offloader_body(void *arg)
{
    struct offloader *o = arg;
    for (intptr_t i = 0; i < JOBS; i++) {
        void *r = NULL;
        if (coro_offload(add_one, (void *)(o->base + i), NULL, &r, CORO_NEVER) == 0 &&
            (intptr_t)r == o->base + i + 1)
            o->ok++;
    }
    return NULL;
}

struct thread_run {
    struct offloader co[PER_THREAD];
    int run_rc;
};

static void *thread_main(void *arg)
{
    struct thread_run *t = arg;
    for (int i = 0; i < PER_THREAD; i++)
        coro_spawn(offloader_body, &t->co[i], &(coro_opts){.detached = true});
    t->run_rc = coro_run();
    return NULL;
}

static void test_two_threads(void)
{
    static struct thread_run run[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        memset(&run[i], 0, sizeof run[i]);
        for (int k = 0; k < PER_THREAD; k++)
            run[i].co[k].base = (intptr_t)(i * PER_THREAD + k) * 100000;
        CHECK_INT(pthread_create(&th[i], NULL, thread_main, &run[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        CHECK_INT(pthread_join(th[i], NULL), 0);
        CHECK_INT(run[i].run_rc, 0);
        for (int k = 0; k < PER_THREAD; k++)
            CHECK_INT(run[i].co[k].ok, JOBS);
    }
}

/* ---- not a deadlock ---- */

struct parked {
    bool offloaded;   /* coro_offload returned 0 */
};

static void *sleep_50ms(void *arg)
{
    sleep_ns(50 * MS);
    return arg;
}

static void *offload_then_park(void *arg)
{
    struct parked *p = arg;
    p->offloaded = coro_offload(sleep_50ms, NULL, NULL, NULL, CORO_NEVER) == 0;
    coro_park(CORO_NEVER); /* nothing can wake it now */
    return NULL;
}

/* Parked in coro_offload, a coroutine waits for a worker: coro_run must
 * not call that a deadlock.  Parked for good afterwards, it is one. */
static void test_not_a_deadlock(void)
{
    struct parked p = {false};
    CHECK(coro_spawn(offload_then_park, &p, NULL) != NULL);
    errno = 0;
    CHECK_INT(coro_run(), -1);
    CHECK_INT(errno, EDEADLK);
    CHECK(p.offloaded); /* the deadlock came after the job, not during it */
}

/* ---- a forked child, and no thread to be had ---- */

/* Runs body in a child process; its checks must all pass.  The child
 * ends with exit(), not _exit(): exit ends the child's idle workers, so
 * valgrind finds no thread alive. */
static void in_child(void (*body)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        check_failures = 0;
        body();
        exit(check_summary());
    }
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The parent has workers (the cases before); the child has none of them,
 * and starts its own. */
static void fresh_pool(void)
{
    run_one(result_body, NULL);
}

static void test_forked_child(void)
{
    if (san_on_valgrind()) {
        printf("     skipped under valgrind: the child's copy of glibc's memory for the\n"
               "     parent's threads, which the child has not, would count as lost\n");
        return;
    }
    if (check_under_qemu()) {
        printf("     skipped: qemu-user cannot start a thread in the child of a\n"
               "     multi-threaded fork\n");
        return;
    }
#ifdef BA_TSAN
    printf("     skipped: ThreadSanitizer takes a thread of the child for one of the\n"
           "     parent's (whose stack it reuses)\n");
    return;
#endif
    CHECK(count_workers() > 0); /* the workers of the cases before */
    in_child(fresh_pool);
}

/* With RLIMIT_AS below what a worker's stack needs, in a child of a
 * process that has had no worker yet: EAGAIN, fn never runs; with the
 * limit back, offloads work. */
static void *no_thread_body(void *arg)
{
    (void)arg;
    struct rlimit old, low;
    getrlimit(RLIMIT_AS, &old);
    low = old;
    long long in_use_kib = check_proc_kib("/proc/self/status", "VmSize:");
    low.rlim_cur = (rlim_t)in_use_kib * 1024 + CORO_OFFLOAD_STACK / 2;
    CHECK_INT(setrlimit(RLIMIT_AS, &low), 0);
    struct work w = {.in = {1}};
    errno = 0;
    CHECK_INT(coro_offload(compute, &w, NULL, NULL, CORO_NEVER), -1);
    CHECK_INT(errno, EAGAIN);
    CHECK_INT(w.out[0], 0);
    setrlimit(RLIMIT_AS, &old);
    CHECK_INT(coro_offload(compute, &w, NULL, NULL, CORO_NEVER), 0);
    CHECK_INT(w.out[0], 2);
    return NULL;
}

static void no_thread(void)
{
    run_one(no_thread_body, NULL);
}

static void test_no_thread(void)
{
    if (check_under_qemu()) {
        printf("     skipped: qemu-user ignores setrlimit(RLIMIT_AS)\n");
        return;
    }
#ifdef BA_TSAN
    printf("     skipped: ThreadSanitizer maps its memory as it goes, and dies when\n"
           "     RLIMIT_AS stops it\n");
    return;
#endif
    in_child(no_thread);
}

/* ---- API misuse ---- */

static void offload_from_main(void)
{
    struct work w;
    coro_offload(compute, &w, NULL, NULL, CORO_NEVER);
}

static void *offload_null_fn(void *arg)
{
    coro_offload(NULL, arg, NULL, NULL, CORO_NEVER);
    return NULL;
}

static void null_fn(void)
{
    coro_spawn(offload_null_fn, NULL, NULL);
    coro_run();
}

static void test_misuse(void)
{
    expect_misuse(offload_from_main,
                  "bareawait: coro_offload: called outside any coroutine (API misuse)");
    expect_misuse(null_fn, "bareawait: coro_offload: fn is NULL (API misuse)");
}

/* ---- idle workers end ---- */

static void test_idle_end(void)
{
    run_one(result_body, NULL);
    CHECK(count_workers() > 0);
    int n = count_workers();
    for (int waited = 0; waited < 3 * CORO_OFFLOAD_IDLE_MS && n > 0; waited += 10) {
        sleep_ns(10 * MS);
        n = count_workers();
    }
    CHECK_INT(n, 0);
}

int main(void)
{
    CHECK_INT(count_workers(), 0);
    static const check_case cases[] = {
        /* First: a child forked with workers about would start its own
         * on the stacks glibc keeps of the parent's threads, needing no
         * new memory. */
        {"no thread to be had: EAGAIN", test_no_thread},
        {"results, and memory both ways; signals blocked in fn", test_result},
        {"64 jobs at once: all done, never more than the limit running", test_many},
        {"jobs start in the order they were handed over", test_fifo},
        {"two threads, each with its own runtime, offloading at once", test_two_threads},
        {"a coroutine in coro_offload is no deadlock", test_not_a_deadlock},
        {"a forked child has a pool of its own", test_forked_child},
        {"coro_offload from main, or with a NULL fn: API misuse", test_misuse},
        {"idle workers end", test_idle_end},
    };
    return check_run(cases, sizeof cases / sizeof cases[0], 1);
}
