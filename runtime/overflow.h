/* overflow.h - the stack-overflow report.
 *
 * A coroutine that runs off the bottom of its stack touches its guard page
 * and gets SIGSEGV.  The handler (one per process) runs on the faulting
 * thread's alternate signal stack (one per thread with a runtime), checks
 * that the fault address is the guard page of the coroutine that thread is
 * running, says so plainly, and aborts.  Any other SIGSEGV goes back to
 * whatever handler was there before.
 * Internal to the runtime.
 */
#ifndef BAREAWAIT_OVERFLOW_H
#define BAREAWAIT_OVERFLOW_H

struct coro;

/* Arms the report for the calling thread: `current` is where that thread's
 * scheduler keeps its running coroutine, `main_co` the record that stands
 * for the thread's own stack (a fault there is not a coroutine's).
 * Installs the process's handler at the first arm.  0, or -1/errno. */
int ba_overflow_arm(struct coro *const *current, const struct coro *main_co);

/* Undoes ba_overflow_arm for the calling thread; the last disarm puts the
 * previous SIGSEGV handler back. */
void ba_overflow_disarm(void);

#endif
