/* io.h - non-blocking I/O helpers over coro_wait.
 *
 * Each helper is libtask's fdread pattern: try the syscall; if it would
 * block (EAGAIN), park on the fd with the deadline; retry.  (io_read skips
 * the first try when its last read of the fd says it would fail.)  The fd must be
 * non-blocking (io_nonblock sets that).  A deadline is absolute, on
 * coro_now()'s clock; CORO_NEVER for none.
 *
 * Every helper marked SUSPENDS may park the caller.  All return -1 with
 * errno on failure; errno ETIMEDOUT means the deadline passed,
 * ECANCELED that the coroutine was cancelled, and ENOMEM or ENOSPC that
 * the wait could not be registered with epoll (coro_wait's
 * CORO_WOKE_FAILED): an error, never a retry that spins.  Like every SUSPENDS call
 * (coro.h), each stops the program (API misuse) when called from outside
 * a coroutine, even if its syscall would not block, or when a second
 * coroutine waits on the same fd for the same direction (two readers of
 * one socket).
 */
#ifndef BAREAWAIT_IO_H
#define BAREAWAIT_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Makes fd non-blocking.  0 or -1/errno.  Does not suspend. */
int io_nonblock(int fd);

/* SUSPENDS.  Reads at most n bytes.  Returns the count (>0), 0 at end of
 * stream, or -1/errno.  After a read of fd that came back short (a stream
 * socket or a pipe was empty then), the next io_read of it (n > 0) waits
 * for epoll first, unless epoll has reported fd readable meanwhile: that
 * read would most likely have said EAGAIN.  The fd must be closed with
 * coro_close, as coro.h asks of every fd a coroutine waited on: after a
 * plain close(), the reactor still takes a new fd of that number for the
 * old one, and a wait on it -- now even an io_read with bytes ready, or
 * of a regular file -- may not end before its deadline. */
ssize_t io_read(int fd, void *buf, size_t n, int64_t deadline_ns);

/* SUSPENDS.  Writes all n bytes (looping over short writes).  Returns n,
 * or -1/errno (some bytes may have been written). */
ssize_t io_write(int fd, const void *buf, size_t n, int64_t deadline_ns);

/* SUSPENDS.  io_write for a socket: the same, but a peer that has gone
 * away gives -1/EPIPE instead of raising SIGPIPE. */
ssize_t io_send(int fd, const void *buf, size_t n, int64_t deadline_ns);

/* SUSPENDS.  Accepts one connection from a non-blocking listening socket.
 * The new fd is non-blocking and close-on-exec.  addr/len may be NULL.
 * Returns the fd or -1/errno. */
int io_accept(int lfd, struct sockaddr *addr, socklen_t *len,
              int64_t deadline_ns);

/* SUSPENDS.  Connects a non-blocking socket: starts the connect, waits for
 * writable, reads SO_ERROR.  0 on success, -1/errno (ECONNREFUSED,
 * ETIMEDOUT, ...). */
int io_connect(int fd, const struct sockaddr *addr, socklen_t len,
               int64_t deadline_ns);

#ifdef __cplusplus
}
#endif
#endif
