/* resolve.c - getaddrinfo on a helper thread, woken through an eventfd.
 *
 * A lookup job belongs to the coroutine that starts it; the thread only
 * fills in the result and writes 1 to the job's eventfd.  The thread is
 * joinable and always joined, and the eventfd is closed only after the
 * join, so the thread never writes to a closed (perhaps reused) fd number.
 *
 * A lookup can be given up while getaddrinfo still runs (the deadline
 * passed, or the coroutine was cancelled): getaddrinfo cannot be stopped
 * safely, so the job is handed to a small detached coroutine of its own
 * ("http-resolve") that waits for the eventfd, joins the thread and frees
 * the job.  The request returns at once; the runtime does not: coro_run()
 * returns only once every lookup thread has ended, so no thread outlives
 * the runtime (or shows up as leaked memory at exit).  The price: a
 * program whose lookup timed out waits, at its end, for getaddrinfo to
 * give up too (the resolver's own timeout, resolv.conf's timeout x
 * attempts).  If even that coroutine cannot be had (out of memory), the
 * thread is joined on the spot, holding up the scheduler until it ends:
 * rare, and never wrong.
 * Simple on purpose: one thread per lookup; a resolver pool (or a real
 * async DNS client) would amortise thread creation.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include "resolve.h"

static _Atomic(http_lookup_fn) lookup_fn; /* test hook; NULL = getaddrinfo */

void http_set_lookup(http_lookup_fn fn)
{
    atomic_store(&lookup_fn, fn);
}

struct job {
    pthread_t thread;        /* joined by whoever frees the job */
    int efd;                 /* written once by the thread when it is done */
    char host[256];          /* what to look up (the thread's copy) */
    char port[8];
    struct addrinfo *res;    /* the result, owned by the job until taken */
    int gai_err;             /* getaddrinfo's return code */
};

static const struct addrinfo tcp_hints = {
    .ai_family = AF_UNSPEC,
    .ai_socktype = SOCK_STREAM,
    .ai_protocol = IPPROTO_TCP,
};

static void *lookup_thread(void *arg)
{
    struct job *j = arg;
    http_lookup_fn fn = atomic_load(&lookup_fn);
    j->gai_err = (fn ? fn : getaddrinfo)(j->host, j->port, &tcp_hints, &j->res);
    uint64_t one = 1;
    ssize_t rc = write(j->efd, &one, sizeof one);
    (void)rc; /* an eventfd write of 1 cannot fail short of overflow */
    return NULL;
}

/* Makes the job and starts its thread.  The job, or NULL with errno:
 * ENOMEM, EMFILE/ENFILE (no fd for the eventfd), or pthread_create's
 * EAGAIN (no thread: the system's limits). */
static struct job *job_start(const char *host, const char *port)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        errno = ENOMEM;
        return NULL;
    }
    snprintf(j->host, sizeof j->host, "%s", host);
    snprintf(j->port, sizeof j->port, "%s", port);
    j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int err = j->efd < 0 ? errno : pthread_create(&j->thread, NULL, lookup_thread, j);
    if (err == 0)
        return j;
    if (j->efd >= 0)
        close(j->efd); /* never waited on: the reactor has not seen it */
    free(j);
    errno = err;
    return NULL;
}

/* Whether the thread has written its eventfd (resetting it). */
static bool job_done(const struct job *j)
{
    uint64_t n;
    return read(j->efd, &n, sizeof n) == (ssize_t)sizeof n;
}

/* Joins the thread (done, or about to be: writing the eventfd is the last
 * thing it does) and frees the job.  The result goes to *res, or is freed
 * if res is NULL.  Returns getaddrinfo's code. */
static int job_end(struct job *j, struct addrinfo **res)
{
    pthread_join(j->thread, NULL); /* from here on, what it wrote is ours */
    int gai_err = j->gai_err;
    if (res)
        *res = j->res;
    else if (j->res)
        freeaddrinfo(j->res);
    coro_close(j->efd);
    free(j);
    return gai_err;
}

/* SUSPENDS.  Waits for the thread; 0 or -1 with ETIMEDOUT/ECANCELED. */
static int job_wait(struct job *j, int64_t deadline_ns)
{
    while (!job_done(j)) {
        coro_wake why = coro_wait(j->efd, CORO_READ, deadline_ns);
        if (why != CORO_WOKE_READY) {
            errno = why == CORO_WOKE_TIMEOUT ? ETIMEDOUT : ECANCELED;
            return -1;
        }
    }
    return 0;
}

/* The coroutine that sees a given-up lookup through: until its thread has
 * ended, it keeps the runtime (coro_run) going. */
static void *job_orphan_main(void *arg)
{
    struct job *j = arg;
    while (!job_done(j))
        coro_wait(j->efd, CORO_READ, CORO_NEVER); /* nobody cancels us */
    job_end(j, NULL);
    return NULL;
}

/* The coroutine gave up on j: hand it to a coroutine of its own. */
static void job_abandon(struct job *j)
{
    coro_opts opts = {.name = "http-resolve", .detached = true};
    if (!coro_spawn(job_orphan_main, j, &opts))
        job_end(j, NULL); /* no memory: wait for the thread here, blocking */
}

static int resolve_name(const char *host, const char *port, int64_t deadline_ns,
                        struct addrinfo **res, int *gai_err)
{
    struct job *j = job_start(host, port);
    if (!j)
        return -1;
    if (job_wait(j, deadline_ns) < 0) {
        int saved = errno;
        job_abandon(j);
        errno = saved;
        return -1;
    }
    *gai_err = job_end(j, res);
    if (*gai_err != 0) {
        errno = *gai_err == EAI_MEMORY ? ENOMEM : ENOENT;
        return -1;
    }
    return 0;
}

int ba_resolve(const char *host, uint16_t port, int64_t deadline_ns,
            struct addrinfo **res, int *gai_err)
{
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    *gai_err = 0;
    *res = NULL;
    /* A numeric address needs no lookup at all: no thread, no wait. */
    struct addrinfo hints = tcp_hints;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, portstr, &hints, res) == 0)
        return 0;
    *res = NULL;
    return resolve_name(host, portstr, deadline_ns, res, gai_err);
}
