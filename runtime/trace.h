/* trace.h - the trace hook (coro_set_trace): one per thread.
 * The scheduler reports each event through ba_trace; the hook runs
 * synchronously, and while it runs ba_trace_inside() is true so that a
 * SUSPENDS call from it is caught.
 * Internal to the runtime.
 */
#ifndef BAREAWAIT_TRACE_H
#define BAREAWAIT_TRACE_H

#include <stdbool.h>

#include <bareawait/coro.h>

struct coro;

/* The calling thread's hook, or NULL (read on every event: inline). */
extern _Thread_local coro_trace_fn ba_trace_fn __attribute__((tls_model("initial-exec")));

/* Calls the hook with event `kind` about c (NULL for POLL). */
void ba_trace_emit(coro_event_kind kind, const struct coro *c, coro_wake reason);

/* True when the thread has a hook: for an event whose arguments cost
 * something to work out, tested before them. */
static inline bool ba_tracing(void)
{
    return __builtin_expect(ba_trace_fn != 0, 0);
}

/* Costs one predictable branch when no hook is installed. */
static inline void ba_trace(coro_event_kind kind, const struct coro *c, coro_wake reason)
{
    if (ba_tracing())
        ba_trace_emit(kind, c, reason);
}

/* True while the calling thread runs its hook (read by every SUSPENDS
 * call: inline). */
extern _Thread_local bool ba_trace_in_hook __attribute__((tls_model("initial-exec")));
static inline bool ba_trace_inside(void)
{
    return ba_trace_in_hook;
}

#endif
