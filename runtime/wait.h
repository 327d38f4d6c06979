/* wait.h - coro_wait for the runtime's own SUSPENDS calls (io.c, coro.c),
 * so that a misuse is reported in the name of the call the user made
 * ("io_read: called outside any coroutine"), not of coro_wait underneath.
 * Internal to the runtime.
 */
#ifndef BAREAWAIT_WAIT_H
#define BAREAWAIT_WAIT_H

#include <stdint.h>

#include <bareawait/coro.h>

/* Stops the program (API misuse) unless the caller is a coroutine, and not
 * inside the trace hook: `call` is the public SUSPENDS function it called.
 * Every SUSPENDS call starts with it, so that the misuse shows the first
 * time, not only on the day the syscall would block. */
void ba_sched_need_coroutine(const char *call);

/* coro_wait(fd, events, deadline_ns), with `call` named in any misuse
 * report (a second waiter on fd, events that are neither CORO_READ nor
 * CORO_WRITE). */
coro_wake ba_sched_wait(const char *call, int fd, int events, int64_t deadline_ns);

#endif
