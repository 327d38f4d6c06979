/* resolve.h - name lookup that does not block the scheduler.
 *
 * getaddrinfo blocks, and there is no non-blocking version in libc.  So a
 * numeric host is converted on the spot, and a name is looked up on one
 * of the runtime's worker threads (coro_offload, offload.h) while the
 * coroutine is parked.
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
 *   EAGAIN     no worker thread was free and none could be started (the
 *              system's limits)
 *   EMFILE / ENFILE  no fd for the eventfd the runtime is woken through
 *              (made on its first lookup)
 *   ENOMEM     no memory
 * After ETIMEDOUT or ECANCELED getaddrinfo runs on, on its worker, which
 * then frees the lookup and its result: the runtime does not wait for it
 * (coro_run may return first), and the worker stays busy until it ends. */
int ba_resolve(const char *host, uint16_t port, int64_t deadline_ns,
            struct addrinfo **res, int *gai_err);

#endif
