/* server_threads.h - N threads, each serving HTTP on a runtime of its
 * own until SIGINT or SIGTERM: the part gateway and bench/serve share.
 *
 * Thread i's first coroutine calls open(i) for the http_server it serves
 * with (its own listener: with N > 1 the caller opens them with
 * reuse_port on one port), runs it, and calls close(i) once it has ended.
 * A second coroutine per thread waits to be told to stop: thread 0 reads
 * a signalfd for SIGINT and SIGTERM (both blocked for every thread before
 * any starts, so they arrive nowhere else) and then writes every other
 * thread's eventfd; each thread then calls http_server_stop with a drain
 * deadline: no more accepts, idle connections closed, requests in flight
 * finished.  A thread that fails tells the others to stop too, so they do
 * not wait for a signal that may never come.  Threads share nothing else.
 *
 * Plain threads: nothing here suspends; call it from main().
 */
#ifndef BAREAWAIT_BENCH_SERVER_THREADS_H
#define BAREAWAIT_BENCH_SERVER_THREADS_H

#include <stdint.h>

#include <bareawait/server.h>

typedef struct server_threads {
    const char *prog;    /* for messages: "gateway: ..." */
    int threads;         /* 1..THREADS_MAX */
    const int *cpus;     /* thread i pinned to cpus[i]; NULL: not pinned */
    int64_t drain_ms;    /* how long requests in flight get once told to stop */
    /* On thread i's first coroutine: the server it runs, or NULL with errno
     * after printing why (the thread fails).  May suspend. */
    http_server *(*open)(int index, void *user);
    /* After its server has ended and been closed (or open failed): frees
     * what open made.  Optional. */
    void (*close)(int index, void *user);
    void *user;
} server_threads;

/* Runs the threads until every server has ended.  0 if all ran and
 * stopped cleanly; 1 if one failed to start or serve (said on stderr as
 * "PROG: ..."). */
int server_threads_run(const server_threads *st);

#endif
