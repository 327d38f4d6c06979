/* offload_test.h - what test_offload.c, test_offload_giveup.c and
 * test_notifier.c share: sleeping a thread, timing slack, running one
 * coroutine, counting workers, and a child process that must stop with an
 * API misuse line.  Header-only, like check.h.
 */
#ifndef BAREAWAIT_OFFLOAD_TEST_H
#define BAREAWAIT_OFFLOAD_TEST_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/offload.h>
#include "sanitize.h"

#define MS 1000000LL

/* Blocks the calling thread (a worker, or the runtime's on purpose). */
static inline void sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* How late a timed-out wait may return: epoll rounds to whole ms, the
 * dev VM is shared, and valgrind runs one thread at a time. */
static inline int64_t late_ok(void)
{
    return san_on_valgrind() ? 300 * MS : 30 * MS;
}

/* Spawns fn(arg) and runs the runtime: coro_run must return 0. */
static inline void run_one(coro_fn fn, void *arg)
{
    if (CHECK(coro_spawn(fn, arg, NULL) != NULL))
        CHECK_INT(coro_run(), 0);
}

/* The offload pool's workers alive now (threads named
 * CORO_OFFLOAD_THREAD_NAME): unlike a count of all threads, blind to those
 * of qemu-user and of ThreadSanitizer. */
static inline int count_workers(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char path[300], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(path, "r") : NULL;
        if (f && fgets(name, sizeof name, f))
            n += strcmp(name, CORO_OFFLOAD_THREAD_NAME "\n") == 0;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

/* Runs body in a child process with stderr on a pipe: the child must die
 * of SIGABRT having written the line `want`. */
static inline void expect_misuse(void (*body)(void), const char *want)
{
    int p[2];
    if (!CHECK_INT(pipe(p), 0))
        return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* an expected abort: no core file */
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        alarm(60);
        body();
        _exit(0); /* not reached if the misuse is caught */
    }
    close(p[1]);
    char said[1024];
    size_t got = 0;
    ssize_t n;
    while (got + 1 < sizeof said && (n = read(p[0], said + got, sizeof said - 1 - got)) > 0)
        got += (size_t)n;
    said[got] = '\0';
    close(p[0]);
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK_INT(WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGABRT);
    if (!CHECK(strstr(said, want) != NULL))
        fprintf(stderr, "    want: %s\n    got:  %s\n", want, said);
}

#endif
