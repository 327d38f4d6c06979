/* server_threads.c - the threads of server_threads.h: a runtime each, one
 * server each, and the stop passed from thread 0's signalfd to all. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>
#include <bareawait/sync.h>
#include "server_threads.h"
#include "threads.h"

/* One thread's share; server_threads_run owns the array. */
typedef struct worker {
    int index;
    const server_threads *st;
    struct worker *all;   /* every worker, for stop_all */
    int stop_fd;          /* eventfd: readable once it is time to stop */
    int signal_fd;        /* thread 0 only (else -1): SIGINT, SIGTERM */
    http_server *server;
    bool failed;
} worker;

/* Tells every thread to stop.  An eventfd write only adds to a counter:
 * it cannot block, and telling twice does no harm. */
static void stop_all(worker *w)
{
    uint64_t one = 1;
    for (int i = 0; i < w->st->threads; i++)
        if (write(w->all[i].stop_fd, &one, sizeof one) != (ssize_t)sizeof one)
            fprintf(stderr, "%s: stopping a thread: %s\n", w->st->prog, strerror(errno));
}

/* Waits until it is time to stop, then drains the server.  Cancelled when
 * the server ended by itself. */
static void *stop_watcher(void *arg)
{
    worker *w = arg;
    coro_select_case cases[2] = {{.op = CORO_SELECT_READ, .fd = w->stop_fd},
                                 {.op = CORO_SELECT_READ, .fd = w->signal_fd}};
    int which = coro_select(cases, w->signal_fd >= 0 ? 2 : 1, CORO_NEVER);
    if (which < 0 && errno == ECANCELED)
        return NULL; /* cancelled: nothing to stop */
    if (which < 0) { /* epoll could not watch the fds (ENOMEM): a signal */
        fprintf(stderr, "%s: cannot wait for a signal: %s\n", w->st->prog, strerror(errno));
        w->failed = true; /* would never be seen: stop now, with an error */
        stop_all(w);
    }
    if (which == 1) {
        struct signalfd_siginfo si;
        if (io_read(w->signal_fd, &si, sizeof si, CORO_NEVER) == (ssize_t)sizeof si)
            fprintf(stderr, "%s: %s, draining\n", w->st->prog, strsignal((int)si.ssi_signo));
        stop_all(w);
    }
    http_server_stop(w->server, coro_deadline_in(w->st->drain_ms));
    return NULL;
}

/* A thread's first coroutine: its server, until stopped. */
static void *serve(void *arg)
{
    worker *w = arg;
    const server_threads *st = w->st;
    w->server = st->open(w->index, st->user);
    coro_t *watcher = w->server ? coro_spawn(stop_watcher, w, &(coro_opts){.name = "stop"}) : NULL;
    if (!watcher) {
        if (w->server)
            fprintf(stderr, "%s: %s\n", st->prog, strerror(errno));
        w->failed = true;
        stop_all(w);
    } else {
        if (http_server_run(w->server) < 0) {
            fprintf(stderr, "%s: serving: %s\n", st->prog, strerror(errno));
            w->failed = true;
            stop_all(w);
        }
        coro_cancel(watcher);
        coro_join(watcher, NULL);
    }
    http_server_close(w->server);
    if (st->close)
        st->close(w->index, st->user);
    return NULL;
}

static void *run_thread(void *arg)
{
    worker *w = arg;
    bool spawned = coro_spawn(serve, w, &(coro_opts){.name = w->st->prog}) != NULL;
    int e = errno;
    /* Even after a failed spawn: frees the runtime it may have started. */
    if (coro_run() < 0 || !spawned) {
        fprintf(stderr, "%s: %s\n", w->st->prog, strerror(spawned ? errno : e));
        w->failed = true;
        stop_all(w);
    }
    return NULL;
}

/* Blocks SIGINT and SIGTERM for every thread to come; a signalfd for them. */
static int signal_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Makes the workers' fds, starts them and waits: the exit status. */
static int run(const server_threads *st, worker *ws, void **args)
{
    for (int i = 0; i < st->threads; i++) {
        ws[i] = (worker){.index = i, .st = st, .all = ws, .signal_fd = -1};
        ws[i].stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        args[i] = &ws[i];
        if (ws[i].stop_fd < 0) {
            fprintf(stderr, "%s: eventfd: %s\n", st->prog, strerror(errno));
            return 1;
        }
    }
    if ((ws[0].signal_fd = signal_fd()) < 0) {
        fprintf(stderr, "%s: signalfd: %s\n", st->prog, strerror(errno));
        return 1;
    }
    if (threads_run(st->threads, st->cpus, run_thread, args) < 0) {
        fprintf(stderr, "%s: cannot start %d threads: %s\n", st->prog, st->threads,
                strerror(errno));
        if (st->threads == 1)
            return 1; /* none started: the caller closes the fds */
        exit(1); /* threads already started are still running */
    }
    int status = 0;
    for (int i = 0; i < st->threads; i++)
        status |= ws[i].failed;
    return status;
}

int server_threads_run(const server_threads *st)
{
    worker *ws = calloc((size_t)st->threads, sizeof *ws);
    void **args = calloc((size_t)st->threads, sizeof *args);
    int status = 1;
    if (ws && args)
        status = run(st, ws, args);
    else
        fprintf(stderr, "%s: %s\n", st->prog, strerror(ENOMEM));
    for (int i = 0; ws && i < st->threads; i++) {
        if (ws[i].stop_fd > 0)
            close(ws[i].stop_fd);
        if (ws[i].signal_fd > 0)
            close(ws[i].signal_fd);
    }
    free(ws);
    free(args);
    return status;
}
