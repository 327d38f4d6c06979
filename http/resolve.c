/* resolve.c - getaddrinfo on a helper thread, woken through an eventfd.
 *
 * A lookup job is shared by the coroutine and the thread; whichever lets go
 * last frees it.  The eventfd belongs to the coroutine alone.  The thread
 * writes to it under the job's lock, and only if the coroutine has not
 * given up (timeout, cancel); the coroutine marks the job abandoned under
 * the same lock before closing the eventfd.  So the thread never writes to
 * a closed (perhaps reused) fd number, and no fd outlives the lookup.
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
    atomic_int refs;         /* 2 while both sides hold it */
    atomic_bool done;        /* the thread has stored its result */
    pthread_mutex_t lock;    /* guards efd against abandonment */
    bool abandoned;          /* the coroutine gave up: do not touch efd */
    int efd;                 /* the coroutine's eventfd */
    char host[256];
    char port[8];
    struct addrinfo *res;    /* the result, owned by the job until taken */
    int gai_err;             /* getaddrinfo's return code */
};

static const struct addrinfo tcp_hints = {
    .ai_family = AF_UNSPEC,
    .ai_socktype = SOCK_STREAM,
    .ai_protocol = IPPROTO_TCP,
};

static void job_unref(struct job *j)
{
    if (atomic_fetch_sub(&j->refs, 1) != 1)
        return;
    if (j->res)
        freeaddrinfo(j->res);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

static void *lookup_thread(void *arg)
{
    struct job *j = arg;
    http_lookup_fn fn = atomic_load(&lookup_fn);
    j->gai_err = (fn ? fn : getaddrinfo)(j->host, j->port, &tcp_hints, &j->res);
    atomic_store(&j->done, true);
    pthread_mutex_lock(&j->lock);
    if (!j->abandoned) {
        uint64_t one = 1;
        ssize_t rc = write(j->efd, &one, sizeof one);
        (void)rc; /* an eventfd write of 1 cannot fail short of overflow */
    }
    pthread_mutex_unlock(&j->lock);
    job_unref(j);
    return NULL;
}

/* Starts the thread.  0 or -1/errno. */
static int job_start(struct job *j)
{
    j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (j->efd < 0)
        return -1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int err = pthread_create(&t, &attr, lookup_thread, j);
    pthread_attr_destroy(&attr);
    if (err == 0)
        return 0;
    coro_close(j->efd);
    errno = err;
    return -1;
}

/* Waits for the thread's eventfd write; 0 or -1 with ETIMEDOUT/ECANCELED. */
static int job_wait(struct job *j, int efd, int64_t deadline_ns)
{
    while (!atomic_load(&j->done)) {
        coro_wake why = coro_wait(efd, CORO_READ, deadline_ns);
        if (why == CORO_WOKE_TIMEOUT || why == CORO_WOKE_CANCELLED) {
            errno = why == CORO_WOKE_TIMEOUT ? ETIMEDOUT : ECANCELED;
            return -1;
        }
        uint64_t n;
        ssize_t rc = read(efd, &n, sizeof n); /* reset the eventfd */
        (void)rc;
    }
    return 0;
}

static int resolve_name(const char *host, const char *port, int64_t deadline_ns,
                        struct addrinfo **res, int *gai_err)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        errno = ENOMEM;
        return -1;
    }
    atomic_init(&j->refs, 2);
    pthread_mutex_init(&j->lock, NULL);
    snprintf(j->host, sizeof j->host, "%s", host);
    snprintf(j->port, sizeof j->port, "%s", port);
    if (job_start(j) < 0) {
        pthread_mutex_destroy(&j->lock);
        free(j);
        return -1;
    }
    int rc = job_wait(j, j->efd, deadline_ns);
    int saved = errno;
    pthread_mutex_lock(&j->lock);
    j->abandoned = true; /* from here on the thread leaves efd alone */
    pthread_mutex_unlock(&j->lock);
    coro_close(j->efd);
    if (rc == 0) {
        *gai_err = j->gai_err;
        *res = j->res;
        j->res = NULL; /* ours now */
    }
    job_unref(j);
    errno = saved;
    if (rc == 0 && *gai_err != 0) {
        errno = *gai_err == EAI_MEMORY ? ENOMEM : ENOENT;
        return -1;
    }
    return rc;
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
