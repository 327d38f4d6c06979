/* reactor_epoll.c - the epoll backend of the reactor.
 *
 * Level-triggered, with lazily kept interest: once an fd is in epoll it
 * stays there after its waiter wakes, because the next wait on the same fd
 * (the next read on a keep-alive connection, say) is likely and then costs
 * no epoll_ctl.  An event that nobody waits for ("stray") makes us drop the
 * fd from epoll, so a closed-by-peer idle socket cannot wake us forever.
 *
 * Simple on purpose: timeouts are rounded up to whole milliseconds for
 * epoll_wait; epoll_pwait2 or a timerfd would give nanosecond deadlines.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include "reactor.h"

#define MAX_EVENTS 256 /* events taken per epoll_wait */

struct fd_entry {
    void *reader;        /* waiting for readable, or NULL */
    void *writer;        /* waiting for writable, or NULL */
    uint32_t registered; /* EPOLLIN/EPOLLOUT bits epoll has; 0: not in epoll */
    bool read_drained;   /* ba_reactor_note_read's, until EPOLLIN */
};

/* One reactor per thread (the thread's scheduler drives it). */
struct reactor {
    int epfd;                          /* the epoll instance */
    struct fd_entry *fds;              /* indexed by fd */
    int nfds;                          /* entries in fds */
    long waiters;                      /* non-NULL reader/writer slots */
    struct epoll_event events[MAX_EVENTS];
};
static _Thread_local struct reactor *rp __attribute__((tls_model("initial-exec")));

int ba_reactor_open(void)
{
    struct reactor *nr = calloc(1, sizeof *nr);
    if (!nr)
        return -1;
    nr->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (nr->epfd < 0) {
        free(nr);
        return -1;
    }
    rp = nr;
    return 0;
}

void ba_reactor_close(void)
{
    if (!rp)
        return;
    close(rp->epfd);
    free(rp->fds);
    free(rp);
    rp = NULL;
}

static struct fd_entry *entry_for(int fd)
{
    if (fd >= rp->nfds) {
        int n = rp->nfds ? rp->nfds : 64;
        while (n <= fd)
            n *= 2;
        struct fd_entry *grown = realloc(rp->fds, (size_t)n * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + rp->nfds, 0, (size_t)(n - rp->nfds) * sizeof *grown);
        rp->fds = grown;
        rp->nfds = n;
    }
    return &rp->fds[fd];
}

/* Tells epoll to watch fd for `bits` (0: not at all). */
static int set_interest(int fd, struct fd_entry *e, uint32_t bits)
{
    struct epoll_event ev = {.events = bits, .data.fd = fd};
    int rc;
    if (bits == 0)
        rc = epoll_ctl(rp->epfd, EPOLL_CTL_DEL, fd, NULL);
    else if (e->registered)
        rc = epoll_ctl(rp->epfd, EPOLL_CTL_MOD, fd, &ev);
    else
        rc = epoll_ctl(rp->epfd, EPOLL_CTL_ADD, fd, &ev);
    /* The table can be wrong if fd was closed and reused behind our back
     * (the kernel drops closed fds from epoll): retry the other way. */
    if (rc < 0 && errno == ENOENT && bits)
        rc = epoll_ctl(rp->epfd, EPOLL_CTL_ADD, fd, &ev);
    else if (rc < 0 && errno == EEXIST)
        rc = epoll_ctl(rp->epfd, EPOLL_CTL_MOD, fd, &ev);
    if (rc < 0 && !(bits == 0 && (errno == ENOENT || errno == EBADF)))
        return -1;
    e->registered = bits;
    if (!(bits & EPOLLIN))
        e->read_drained = false; /* kept only while epoll would report */
    return 0;
}

int ba_reactor_watch(int fd, int events, void *waiter)
{
    struct fd_entry *e = entry_for(fd);
    if (!e) {
        errno = ENOMEM;
        return -1;
    }
    if (((events & CORO_READ) && e->reader) || ((events & CORO_WRITE) && e->writer)) {
        errno = EBUSY; /* the scheduler stops the program: API misuse */
        return -1;
    }
    uint32_t need = ((events & CORO_READ) ? EPOLLIN : 0u) |
                    ((events & CORO_WRITE) ? EPOLLOUT : 0u);
    /* Only when epoll lacks a bit we need do we pay for an epoll_ctl, and
     * then we also drop the bits nobody waits for (a connect's EPOLLOUT
     * would otherwise wake the first read for nothing). */
    uint32_t others = (e->reader ? EPOLLIN : 0u) | (e->writer ? EPOLLOUT : 0u);
    if ((e->registered & need) != need && set_interest(fd, e, need | others) < 0)
        return -1;
    if (events & CORO_READ)
        e->reader = waiter, rp->waiters++;
    if (events & CORO_WRITE)
        e->writer = waiter, rp->waiters++;
    return 0;
}

void ba_reactor_unwatch(int fd, int events)
{
    struct fd_entry *e = &rp->fds[fd];
    if ((events & CORO_READ) && e->reader)
        e->reader = NULL, rp->waiters--;
    if ((events & CORO_WRITE) && e->writer)
        e->writer = NULL, rp->waiters--;
}

void ba_reactor_unwatch_waiter(int fd, int events, const void *waiter)
{
    if (fd >= rp->nfds)
        return;
    struct fd_entry *e = &rp->fds[fd];
    if ((events & CORO_READ) && e->reader == waiter)
        e->reader = NULL, rp->waiters--;
    if ((events & CORO_WRITE) && e->writer == waiter)
        e->writer = NULL, rp->waiters--;
}

void ba_reactor_forget(int fd, reactor_ready_fn ready)
{
    if (!rp || fd < 0 || fd >= rp->nfds)
        return;
    struct fd_entry *e = &rp->fds[fd];
    if (e->reader)
        ready(e->reader); /* the scheduler unwatches a coro_wait's */
    if (e->writer)
        ready(e->writer);
    /* A select's watches stay until it runs: drop them now, or a new fd of
     * the same number could not be waited on meanwhile (EBUSY). */
    ba_reactor_unwatch(fd, CORO_READ | CORO_WRITE);
    /* A DEL that fails (ENOMEM) changes nothing: the close that follows
     * drops fd from epoll anyway.  The table must say so, or the next fd
     * of that number would be taken as watched and never added. */
    if (e->registered && set_interest(fd, e, 0) < 0)
        e->registered = 0;
    e->read_drained = false;
}

void ba_reactor_note_read(int fd, bool drained)
{
    if (fd >= 0 && fd < rp->nfds && (rp->fds[fd].registered & EPOLLIN))
        rp->fds[fd].read_drained = drained;
}

bool ba_reactor_read_drained(int fd)
{
    return fd >= 0 && fd < rp->nfds && rp->fds[fd].read_drained;
}

/* Wakes the waiters an event concerns; drops interest nobody has. */
static int dispatch(int fd, uint32_t got, reactor_ready_fn ready)
{
    struct fd_entry *e = &rp->fds[fd];
    int woken = 0;
    /* Errors and hang-ups wake both sides: their next syscall reports it. */
    if (got & (EPOLLERR | EPOLLHUP))
        got |= EPOLLIN | EPOLLOUT;
    if (got & EPOLLIN)
        e->read_drained = false; /* something came: a read will see it */
    uint32_t awaited = (e->reader ? EPOLLIN : 0u) | (e->writer ? EPOLLOUT : 0u);
    if ((got & EPOLLIN) && e->reader)
        ready(e->reader), woken++;
    if ((got & EPOLLOUT) && e->writer) /* ready() cleared e->writer if it */
        ready(e->writer), woken++;     /* was the same coroutine */
    uint32_t stray = got & e->registered & ~awaited;
    if (stray) /* keep only the interest someone still has */
        set_interest(fd, e, e->registered & ~stray);
    return woken;
}

int ba_reactor_poll(int64_t timeout_ns, reactor_ready_fn ready)
{
    int ms;
    if (timeout_ns < 0)
        ms = -1;
    else if (timeout_ns >= (int64_t)INT_MAX * 1000000)
        ms = INT_MAX;
    else
        ms = (int)((timeout_ns + 999999) / 1000000);
    int n = epoll_wait(rp->epfd, rp->events, MAX_EVENTS, ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    int woken = 0;
    for (int i = 0; i < n; i++)
        woken += dispatch(rp->events[i].data.fd, rp->events[i].events, ready);
    return woken;
}

long ba_reactor_waiters(void)
{
    return rp->waiters;
}
