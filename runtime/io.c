/* io.c - "try; on EAGAIN wait; retry" for the syscalls a network client
 * needs (io_read skips the first try when it would most likely fail).
 * Each wait is a coro_wait on the fd with the caller's deadline
 * (ba_sched_wait: the same wait, with the helper's name in any misuse
 * report).  Each helper checks first that a coroutine called it, even when
 * its syscall would not block: a helper called from main() is a bug on the
 * first call, not only on the day the peer is slow. */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "reactor.h"
#include "scheduler.h"

int io_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Parks until fd is ready for `events`; 0, or -1 with ETIMEDOUT/ECANCELED,
 * or with the reactor's errno (ENOMEM...) when the wait could not even be
 * registered: asking the syscall again would only spin. */
static int wait_ready(const char *call, int fd, int events, int64_t deadline_ns)
{
    switch (ba_sched_wait(call, fd, events, deadline_ns)) {
    case CORO_WOKE_READY:
        return 0;
    case CORO_WOKE_TIMEOUT:
        errno = ETIMEDOUT;
        return -1;
    case CORO_WOKE_CANCELLED:
        errno = ECANCELED;
        return -1;
    case CORO_WOKE_FAILED:
        return -1; /* errno says why */
    }
    return -1;
}

/* Whether io_read should wait before its first read: when its last read
 * of fd came back short (a stream socket or a pipe was empty then) and
 * epoll has not reported fd readable since, that read would most likely
 * say EAGAIN, a system call for nothing -- in a request and response, the
 * one read before every answer.  A wrong guess (a datagram socket, where
 * a short read is every read; bytes that came after the last epoll_wait)
 * costs a trip through the scheduler: the reader is woken by the next
 * epoll_wait, which ready coroutines ahead of it may delay (by up to
 * POLL_EVERY switches, scheduler.c).  Not with a cancel pending: the wait
 * would deliver it where the read might have succeeded; not for n == 0,
 * which never waits. */
static bool read_would_fail(const struct coro *self, int fd, size_t n)
{
    return n > 0 && ba_reactor_read_drained(fd) && !self->cancel_pending;
}

ssize_t io_read(int fd, void *buf, size_t n, int64_t deadline_ns)
{
    struct coro *self = ba_sched_need_coroutine("io_read");
    coro_wake first = CORO_WOKE_READY;
    if (read_would_fail(self, fd, n)) {
        first = ba_sched_wait("io_read", fd, CORO_READ, deadline_ns);
        if (first == CORO_WOKE_CANCELLED) {
            errno = ECANCELED;
            return -1;
        }
        /* READY: read.  TIMEOUT: read once, for what came meanwhile.
         * FAILED: the loop's own wait fails the same way if need be. */
    }
    for (;;) {
        ssize_t got = read(fd, buf, n);
        if (got >= 0) {
            ba_reactor_note_read(fd, got > 0 && (size_t)got < n);
            return got;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        if (errno == EAGAIN && first == CORO_WOKE_TIMEOUT) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno == EAGAIN && wait_ready("io_read", fd, CORO_READ, deadline_ns) < 0)
            return -1;
    }
}

/* The loop of io_write and io_send: write(2), or send(2) with flags. */
static ssize_t put_all(const char *call, int fd, const void *buf, size_t n,
                       int64_t deadline_ns, int flags, int use_send)
{
    ba_sched_need_coroutine(call);
    const char *p = buf;
    size_t left = n;
    while (left > 0) {
        ssize_t put = use_send ? send(fd, p, left, flags) : write(fd, p, left);
        if (put > 0) {
            p += put;
            left -= (size_t)put;
        } else if (put < 0 && errno == EAGAIN) {
            if (wait_ready(call, fd, CORO_WRITE, deadline_ns) < 0)
                return -1;
        } else if (put < 0 && errno != EINTR) {
            return -1;
        }
    }
    return (ssize_t)n;
}

ssize_t io_write(int fd, const void *buf, size_t n, int64_t deadline_ns)
{
    return put_all("io_write", fd, buf, n, deadline_ns, 0, 0);
}

ssize_t io_send(int fd, const void *buf, size_t n, int64_t deadline_ns)
{
    /* MSG_NOSIGNAL: a peer that went away is an EPIPE for this request,
     * not a SIGPIPE that kills the whole process. */
    return put_all("io_send", fd, buf, n, deadline_ns, MSG_NOSIGNAL, 1);
}

int io_accept(int lfd, struct sockaddr *addr, socklen_t *len, int64_t deadline_ns)
{
    ba_sched_need_coroutine("io_accept");
    for (;;) {
        int fd = accept4(lfd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
            return fd;
        if (errno == EAGAIN && wait_ready("io_accept", lfd, CORO_READ, deadline_ns) < 0)
            return -1;
    }
}

int io_connect(int fd, const struct sockaddr *addr, socklen_t len, int64_t deadline_ns)
{
    ba_sched_need_coroutine("io_connect");
    if (connect(fd, addr, len) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EINTR)
        return -1;
    /* The handshake is under way: the socket turns writable when it ends.
     * Asking connect() again then tells how it ended: 0 (or EISCONN) when
     * connected, EALREADY if still under way (we were woken for another
     * reason), EINPROGRESS if an interrupted first call (EINTR) had not
     * started it and this one did, else the error itself (ECONNREFUSED...). */
    for (;;) {
        if (wait_ready("io_connect", fd, CORO_WRITE, deadline_ns) < 0)
            return -1;
        if (connect(fd, addr, len) == 0 || errno == EISCONN)
            return 0;
        if (errno != EALREADY && errno != EINPROGRESS && errno != EINTR)
            return -1;
    }
}
