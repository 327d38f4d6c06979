/* resolve.c - getaddrinfo handed to the runtime's worker pool (offload.h).
 *
 * A numeric host is converted on the spot.  A name is looked up by
 * coro_offload: the lookup runs on a worker thread while the coroutine is
 * parked, and the worker's post wakes it like any other wait.
 *
 * The lookup is a malloc'd job of its own, not on the coroutine's stack: a
 * request may give up on it (its deadline passed, or it was cancelled)
 * while getaddrinfo still runs, and getaddrinfo cannot be stopped safely.
 * Then the job belongs to the worker, which frees it and whatever
 * getaddrinfo returned once it does return (lookup_drop).  The request
 * returns at once, and so may coro_run: a given-up lookup holds nothing of
 * the runtime, only the worker thread it runs on.
 * Simple on purpose: getaddrinfo on a thread, as glibc offers nothing
 * asynchronous that would be portable; a DNS client of our own on the
 * reactor (as c-ares does) would need no thread at all.
 */
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bareawait/coro.h>
#include <bareawait/offload.h>
#include "resolve.h"

static _Atomic(http_lookup_fn) lookup_fn; /* test hook; NULL = getaddrinfo */

void http_set_lookup(http_lookup_fn fn)
{
    atomic_store(&lookup_fn, fn);
}

struct lookup {
    char port[8];            /* what to look up, the job's own copy... */
    struct addrinfo *res;    /* the result, owned by the job until taken */
    int gai_err;             /* getaddrinfo's return code */
    char host[];             /* ...and the name, whole */
};

static const struct addrinfo tcp_hints = {
    .ai_family = AF_UNSPEC,
    .ai_socktype = SOCK_STREAM,
    .ai_protocol = IPPROTO_TCP,
};

/* On the worker. */
static void *lookup_run(void *arg)
{
    struct lookup *l = arg;
    http_lookup_fn fn = atomic_load(&lookup_fn);
    l->gai_err = (fn ? fn : getaddrinfo)(l->host, l->port, &tcp_hints, &l->res);
    return NULL;
}

/* On the worker, for a lookup the request gave up on. */
static void lookup_drop(void *arg, void *result)
{
    (void)result;
    struct lookup *l = arg;
    if (l->res)
        freeaddrinfo(l->res);
    free(l);
}

static int resolve_name(const char *host, const char *port, int64_t deadline_ns,
                        struct addrinfo **res, int *gai_err)
{
    size_t len = strlen(host);
    struct lookup *l = calloc(1, sizeof *l + len + 1);
    if (!l) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(l->host, host, len + 1);
    snprintf(l->port, sizeof l->port, "%s", port);
    if (coro_offload(lookup_run, l, lookup_drop, NULL, deadline_ns) < 0) {
        int err = errno;
        if (err != ETIMEDOUT && err != ECANCELED)
            free(l); /* never handed over: still ours */
        errno = err;
        return -1;
    }
    *gai_err = l->gai_err;
    *res = l->res;
    free(l);
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
