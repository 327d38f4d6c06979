/* tutorial_trace.h - the tutorials' --trace: every scheduler event, one line.
 *
 * The numbered tutorials take --trace.  With it, each event the runtime
 * reports through its trace hook (coro_set_trace, runtime/coro.h) is printed
 * on stderr as it happens, so the program's own output (stdout) stays the
 * same:
 *
 *     +0.412 ms  park   3 "client.get" on fd 5 until it is readable
 *     +0.420 ms  poll   no coroutine is ready: epoll_wait, asleep until an fd or a deadline
 *   +100.561 ms                ...epoll_wait returned after 100.1 ms
 *   +100.570 ms  ready  3 "client.get": the reactor saw fd 5 ready after 100.2 ms (runs later)
 *   +100.581 ms  run    3 "client.get"
 *
 * "ready" is the wake (back on the run queue); "run" is the switch to it,
 * which may come after others have run.  fetch --trace (fetch_trace.c)
 * tells the same events in the words of the seed's seven steps.
 */
#ifndef TUTORIAL_TRACE_H
#define TUTORIAL_TRACE_H

/* Removes a "--trace" from argv (so the rest reads as before) and, if there
 * was one, installs the printing hook on the calling thread.  Returns argc
 * without it.  Call from main() before coro_run. */
int tutorial_trace_args(int argc, char **argv);

#endif
