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
};

static struct {
    int epfd;                          /* the epoll instance, -1 when closed */
    struct fd_entry *fds;              /* indexed by fd */
    int nfds;                          /* entries in fds */
    long waiters;                      /* non-NULL reader/writer slots */
    struct epoll_event events[MAX_EVENTS];
} r = {.epfd = -1};

int ba_reactor_open(void)
{
    r.epfd = epoll_create1(EPOLL_CLOEXEC);
    return r.epfd < 0 ? -1 : 0;
}

void ba_reactor_close(void)
{
    if (r.epfd >= 0)
        close(r.epfd);
    free(r.fds);
    r.epfd = -1;
    r.fds = NULL;
    r.nfds = 0;
    r.waiters = 0;
}

static struct fd_entry *entry_for(int fd)
{
    if (fd >= r.nfds) {
        int n = r.nfds ? r.nfds : 64;
        while (n <= fd)
            n *= 2;
        struct fd_entry *grown = realloc(r.fds, (size_t)n * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + r.nfds, 0, (size_t)(n - r.nfds) * sizeof *grown);
        r.fds = grown;
        r.nfds = n;
    }
    return &r.fds[fd];
}

/* Tells epoll to watch fd for `bits` (0: not at all). */
static int set_interest(int fd, struct fd_entry *e, uint32_t bits)
{
    struct epoll_event ev = {.events = bits, .data.fd = fd};
    int rc;
    if (bits == 0)
        rc = epoll_ctl(r.epfd, EPOLL_CTL_DEL, fd, NULL);
    else if (e->registered)
        rc = epoll_ctl(r.epfd, EPOLL_CTL_MOD, fd, &ev);
    else
        rc = epoll_ctl(r.epfd, EPOLL_CTL_ADD, fd, &ev);
    /* The table can be wrong if fd was closed and reused behind our back
     * (the kernel drops closed fds from epoll): retry the other way. */
    if (rc < 0 && errno == ENOENT && bits)
        rc = epoll_ctl(r.epfd, EPOLL_CTL_ADD, fd, &ev);
    else if (rc < 0 && errno == EEXIST)
        rc = epoll_ctl(r.epfd, EPOLL_CTL_MOD, fd, &ev);
    if (rc < 0 && !(bits == 0 && (errno == ENOENT || errno == EBADF)))
        return -1;
    e->registered = bits;
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
        e->reader = waiter, r.waiters++;
    if (events & CORO_WRITE)
        e->writer = waiter, r.waiters++;
    return 0;
}

void ba_reactor_unwatch(int fd, int events)
{
    struct fd_entry *e = &r.fds[fd];
    if ((events & CORO_READ) && e->reader)
        e->reader = NULL, r.waiters--;
    if ((events & CORO_WRITE) && e->writer)
        e->writer = NULL, r.waiters--;
}

void ba_reactor_forget(int fd, reactor_ready_fn ready)
{
    if (fd < 0 || fd >= r.nfds)
        return;
    struct fd_entry *e = &r.fds[fd];
    if (e->reader)
        ready(e->reader); /* the scheduler unwatches it */
    if (e->writer)
        ready(e->writer);
    if (e->registered)
        set_interest(fd, e, 0);
}

/* Wakes the waiters an event concerns; drops interest nobody has. */
static int dispatch(int fd, uint32_t got, reactor_ready_fn ready)
{
    struct fd_entry *e = &r.fds[fd];
    int woken = 0;
    /* Errors and hang-ups wake both sides: their next syscall reports it. */
    if (got & (EPOLLERR | EPOLLHUP))
        got |= EPOLLIN | EPOLLOUT;
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
    int n = epoll_wait(r.epfd, r.events, MAX_EVENTS, ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    int woken = 0;
    for (int i = 0; i < n; i++)
        woken += dispatch(r.events[i].data.fd, r.events[i].events, ready);
    return woken;
}

long ba_reactor_waiters(void)
{
    return r.waiters;
}
