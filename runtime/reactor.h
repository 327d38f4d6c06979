/* reactor.h - readiness of file descriptors (epoll behind a few functions).
 *
 * The reactor only *marks* waiters ready: ba_reactor_poll calls back with each
 * waiter whose fd became ready, and the scheduler puts it on the run queue.
 * It knows nothing of coroutines (a waiter is a void *) or of sockets.
 * The scheduler drives it.  One thing more it keeps per fd, because only
 * it sees epoll's reports, which end it: whether io_read's last read of
 * the fd came back short (ba_reactor_note_read).
 * One reactor per thread: every call acts on the calling thread's.
 * Internal to the runtime.
 */
#ifndef BAREAWAIT_REACTOR_H
#define BAREAWAIT_REACTOR_H

#include <stdbool.h>
#include <stdint.h>

/* Called by ba_reactor_poll (and ba_reactor_forget) for each waiter to wake. */
typedef void (*reactor_ready_fn)(void *waiter);

/* Creates the calling thread's epoll instance.  0 or -1/errno. */
int ba_reactor_open(void);

/* Closes it and frees the fd table.  No fd may still be watched. */
void ba_reactor_close(void);

/* Records that `waiter` waits for fd to be readable (CORO_READ) and/or
 * writable (CORO_WRITE), and makes sure epoll watches for that.  0, or
 * -1/errno: EBUSY if fd already has a waiter for one of those directions
 * (nothing changed); EPERM means the fd cannot be polled (a regular file:
 * it is always ready); ENOMEM. */
int ba_reactor_watch(int fd, int events, void *waiter);

/* Forgets the waiter of fd for `events` (it woke for another reason).
 * epoll's interest is kept, so the next wait on this fd costs no syscall. */
void ba_reactor_unwatch(int fd, int events);

/* Forgets `waiter`'s watch of fd for `events`, where it is still the
 * waiter recorded: for a caller that watches fds the scheduler does not
 * know of (coro_select, several at once), and whose watch a
 * ba_reactor_forget may have dropped -- the fd may even be someone else's
 * by now. */
void ba_reactor_unwatch_waiter(int fd, int events, const void *waiter);

/* Before fd is closed: wakes its waiters through `ready`, then drops them
 * (a waiter the scheduler does not unwatch in `ready`, a coro_select's,
 * too), and removes fd from epoll and from the table. */
void ba_reactor_forget(int fd, reactor_ready_fn ready);

/* io_read's memory of fd: `drained` says its last read came back short
 * (for a stream socket or a pipe: it was empty then).  Kept only while
 * epoll watches fd for reading (a coroutine has waited to read it, so
 * coro_close will forget it), and cleared when epoll reports fd readable,
 * or with `drained` false.  Any fd number, -1 included. */
void ba_reactor_note_read(int fd, bool drained);

/* True if the last read of fd came back short and epoll has not reported
 * fd readable since: a read now would most likely say EAGAIN. */
bool ba_reactor_read_drained(int fd);

/* Waits up to timeout_ns (0: just look; -1: no limit) for fds to become
 * ready, and calls ready(waiter) for each waiter whose fd is.  Returns how
 * many waiters it woke, or -1/errno on failure (EINTR counts as 0). */
int ba_reactor_poll(int64_t timeout_ns, reactor_ready_fn ready);

/* Number of waiters currently recorded (for deadlock detection). */
long ba_reactor_waiters(void);

#endif
