/* resolve.h - name lookup that does not block the scheduler.
 *
 * getaddrinfo blocks, and there is no non-blocking version in libc.  So a
 * numeric host is converted on the spot, and a name is looked up on a
 * helper thread that, when done, writes to an eventfd the coroutine is
 * parked on: the reactor wakes the coroutine like for any other fd.
 * Internal to http/.
 */
#ifndef BAREAWAIT_RESOLVE_H
#define BAREAWAIT_RESOLVE_H

#include <stdint.h>

#include <bareawait/client.h>

struct addrinfo;

/* SUSPENDS (for names only).  Resolves host and port into a list of TCP
 * addresses (free it with freeaddrinfo).  Returns 0, or -1 with errno:
 *   ENOENT     the name does not resolve (*gai_err holds getaddrinfo's code)
 *   ETIMEDOUT  the deadline passed first
 *   ECANCELED  the coroutine was cancelled
 *   EAGAIN     no thread could be started (the system's limits)
 *   EMFILE / ENFILE  no fd for the eventfd
 *   ENOMEM     no memory
 * After ETIMEDOUT or ECANCELED the lookup thread runs on, seen through by
 * a detached coroutine ("http-resolve") that joins it: coro_run() returns
 * only once every lookup thread has ended. */
int ba_resolve(const char *host, uint16_t port, int64_t deadline_ns,
            struct addrinfo **res, int *gai_err);

#endif
