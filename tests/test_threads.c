/* test_threads.c - a runtime per thread: two threads, each with its own
 * coroutines, sockets and timers at the same time, sharing nothing; and a
 * handle used on the wrong thread stops the program.
 * (Work handed between threads, coro_offload and coro_notifier, is
 * test_offload.c's.)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/io.h>

#define PAIRS 8         /* ping-pong pairs per thread */
#define ROUNDS 300      /* round trips per pair */
#define TICKS 20        /* 1 ms sleeps of the ticker */

/* ---- two runtimes at once ---- */

struct pair {
    int fd;             /* this side's end of a socketpair */
    int rounds_done;
};

static void *pinger(void *arg)
{
    struct pair *p = arg;
    for (int i = 0; i < ROUNDS; i++) {
        char b = (char)i, got = 0;
        if (io_write(p->fd, &b, 1, CORO_NEVER) != 1 || io_read(p->fd, &got, 1, CORO_NEVER) != 1 ||
            got != (char)(b + 1))
            break;
        p->rounds_done++;
    }
    coro_close(p->fd);
    return NULL;
}

static void *ponger(void *arg)
{
    struct pair *p = arg;
    char b;
    while (io_read(p->fd, &b, 1, CORO_NEVER) == 1) {
        b++;
        if (io_write(p->fd, &b, 1, CORO_NEVER) != 1)
            break;
        p->rounds_done++;
    }
    coro_close(p->fd);
    return NULL;
}

static void *ticker(void *arg)
{
    int *ticks = arg;
    for (int i = 0; i < TICKS; i++)
        if (coro_sleep_until(coro_deadline_in(1)) == 0)
            (*ticks)++;
    return NULL;
}

struct thread_run {
    pthread_barrier_t *start;     /* both threads begin together */
    struct pair ping[PAIRS], pong[PAIRS];
    int ticks;
    uint64_t first_id;            /* id of the thread's first coroutine */
    int run_rc;
    int failed_setup;
};

static void *thread_main(void *arg)
{
    struct thread_run *t = arg;
    pthread_barrier_wait(t->start);
    for (int i = 0; i < PAIRS; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
            t->failed_setup = 1;
            return NULL;
        }
        t->ping[i].fd = sv[0];
        t->pong[i].fd = sv[1];
        coro_t *a = coro_spawn(pinger, &t->ping[i], &(coro_opts){.detached = true});
        coro_t *b = coro_spawn(ponger, &t->pong[i], &(coro_opts){.detached = true});
        if (i == 0)
            t->first_id = coro_id(a);
        t->failed_setup |= !a || !b;
    }
    t->failed_setup |= !coro_spawn(ticker, &t->ticks, &(coro_opts){.detached = true});
    t->run_rc = coro_run();
    return NULL;
}

static void test_two_runtimes_at_once(void)
{
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    static struct thread_run run[2];
    memset(run, 0, sizeof run);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        run[i].start = &start;
        CHECK_INT(pthread_create(&th[i], NULL, thread_main, &run[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        CHECK_INT(pthread_join(th[i], NULL), 0);
        CHECK_INT(run[i].failed_setup, 0);
        CHECK_INT(run[i].run_rc, 0);
        CHECK_INT(run[i].first_id, 1); /* ids are per runtime */
        CHECK_INT(run[i].ticks, TICKS);
        for (int p = 0; p < PAIRS; p++) {
            CHECK_INT(run[i].ping[p].rounds_done, ROUNDS);
            CHECK_INT(run[i].pong[p].rounds_done, ROUNDS);
        }
    }
    pthread_barrier_destroy(&start);
}

/* ---- one thread's deadlock is its own ---- */

static void *park_forever(void *arg)
{
    (void)arg;
    coro_park(CORO_NEVER); /* nobody will wake it */
    return NULL;
}

static void *sleep_a_while(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(20));
    return NULL;
}

struct rc_errno {
    coro_fn fn;
    int rc, err;
};

static void *run_one(void *arg)
{
    struct rc_errno *r = arg;
    coro_spawn(r->fn, NULL, NULL);
    errno = 0;
    r->rc = coro_run();
    r->err = errno;
    return NULL;
}

static void test_deadlock_is_per_thread(void)
{
    struct rc_errno stuck = {park_forever, 0, 0}, fine = {sleep_a_while, 0, 0};
    pthread_t a, b;
    CHECK_INT(pthread_create(&a, NULL, run_one, &stuck), 0);
    CHECK_INT(pthread_create(&b, NULL, run_one, &fine), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK_INT(stuck.rc, -1);
    CHECK_INT(stuck.err, EDEADLK);
    CHECK_INT(fine.rc, 0);
}

/* ---- a thread's runtime starts again after coro_run ---- */

static void *note_id(void *arg)
{
    *(uint64_t *)arg = coro_id(coro_self());
    return NULL;
}

static void *run_twice(void *arg)
{
    uint64_t *ids = arg;
    for (int i = 0; i < 2; i++) {
        coro_spawn(note_id, &ids[i], NULL);
        coro_spawn(note_id, &ids[i + 2], NULL);
        if (coro_run() != 0)
            ids[i] = 99;
    }
    return NULL;
}

static void test_restart_on_a_thread(void)
{
    uint64_t ids[4] = {0};
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, run_twice, ids), 0);
    pthread_join(t, NULL);
    CHECK_INT(ids[0], 1);
    CHECK_INT(ids[2], 2);
    CHECK_INT(ids[1], 1); /* the second runtime counts from 1 again */
    CHECK_INT(ids[3], 2);
}

/* ---- the trace hook is the thread's ---- */

struct seen {
    int events;
    int foreign; /* events about coroutines other than "mine" and main */
};

static void count_event(const coro_event *ev, void *user)
{
    struct seen *s = user;
    s->events++;
    if (ev->co && strcmp(ev->name, "mine") != 0 && strcmp(ev->name, "main") != 0)
        s->foreign++;
}

static void *yield_some(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        coro_yield();
    return NULL;
}

static void *traced_thread(void *arg)
{
    coro_set_trace(count_event, arg);
    coro_spawn(yield_some, NULL, &(coro_opts){.name = "mine"});
    coro_run();
    coro_set_trace(NULL, NULL);
    return NULL;
}

static void *untraced_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 4; i++)
        coro_spawn(yield_some, NULL, &(coro_opts){.name = "other"});
    coro_run();
    return NULL;
}

static void test_trace_is_per_thread(void)
{
    struct seen seen = {0, 0};
    pthread_t a, b;
    CHECK_INT(pthread_create(&a, NULL, traced_thread, &seen), 0);
    CHECK_INT(pthread_create(&b, NULL, untraced_thread, NULL), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK(seen.events > 50);
    CHECK_INT(seen.foreign, 0);
}

/* ---- a handle is used only on its own thread ---- */

static void *idle(void *arg)
{
    (void)arg;
    return NULL;
}

static void *cancel_it(void *arg)
{
    coro_cancel(arg); /* another thread's coroutine: API misuse */
    return NULL;
}

static void test_foreign_handle_is_misuse(void)
{
    int p[2];
    if (!CHECK_INT(pipe(p), 0))
        return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        coro_t *c = coro_spawn(idle, NULL, &(coro_opts){.name = "main's"});
        pthread_t t;
        if (pthread_create(&t, NULL, cancel_it, c) == 0)
            pthread_join(t, NULL);
        _exit(0); /* not reached if the misuse is caught */
    }
    close(p[1]);
    char said[1024];
    size_t got = 0;
    ssize_t n;
    while ((n = read(p[0], said + got, sizeof said - 1 - got)) > 0)
        got += (size_t)n;
    said[got] = '\0';
    close(p[0]);
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK_INT(WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGABRT);
    const char *want = "bareawait: coro_cancel: coroutine 1 belongs to another thread's runtime";
    if (!CHECK(strstr(said, want) != NULL))
        fprintf(stderr, "  want: %s\n  got:  %s\n", want, said);
}

int main(void)
{
    static const check_case cases[] = {
        {"two runtimes at once: sockets and timers on both threads", test_two_runtimes_at_once},
        {"a deadlock on one thread leaves the other alone", test_deadlock_is_per_thread},
        {"a thread's runtime starts again after coro_run", test_restart_on_a_thread},
        {"the trace hook sees its own thread only", test_trace_is_per_thread},
        {"a handle used on another thread is API misuse", test_foreign_handle_is_misuse},
    };
    return check_run(cases, sizeof cases / sizeof cases[0], 1);
}
