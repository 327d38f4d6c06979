/* trace.c - the thread's trace hook and the event it is given. */
#include "scheduler.h"
#include "trace.h"

_Thread_local coro_trace_fn ba_trace_fn __attribute__((tls_model("initial-exec")));
static _Thread_local void *trace_user;
_Thread_local bool ba_trace_in_hook __attribute__((tls_model("initial-exec")));

void coro_set_trace(coro_trace_fn fn, void *user)
{
    ba_trace_fn = fn;
    trace_user = user;
}

void ba_trace_emit(coro_event_kind kind, const struct coro *c, coro_wake reason)
{
    coro_event ev = {
        .kind = kind,
        .co = c,
        .id = c ? c->id : 0,
        .name = c ? c->name : "",
        .fd = c ? c->wait_fd : -1,
        .events = c ? c->wait_events : 0,
        .deadline_ns = c && c->timer.index != TIMERHEAP_NONE ? c->timer.deadline : CORO_NEVER,
        .reason = reason,
        .at_ns = coro_now(),
    };
    bool outer = ba_trace_in_hook; /* a hook that spawns traces a SPAWN */
    ba_trace_in_hook = true;
    ba_trace_fn(&ev, trace_user);
    ba_trace_in_hook = outer;
}
