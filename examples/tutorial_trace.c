/* tutorial_trace.c - the tutorials' --trace (see tutorial_trace.h). */
#include <stdio.h>
#include <string.h>

#include <bareawait/coro.h>
#include "tutorial_trace.h"

static int64_t start_ns = -1;  /* the first event's time: +0 */
static int64_t poll_ns = -1;   /* when the thread went into epoll_wait, or -1 */
static struct {
    int64_t ns; /* when it parked */
    int fd;     /* on which fd, or -1 */
} parked[64];   /* coroutine id % 64's last park (the tutorials have few) */

static double ms(int64_t ns)
{
    return (double)ns / 1e6;
}

static void line(int64_t at_ns, const char *word, const coro_event *ev, const char *rest)
{
    if (ev && ev->id)
        fprintf(stderr, "%+11.3f ms  %-6s %llu \"%s\"%s\n", ms(at_ns - start_ns), word,
                (unsigned long long)ev->id, ev->name, rest);
    else
        fprintf(stderr, "%+11.3f ms  %-6s %s\n", ms(at_ns - start_ns), word,
                ev ? "main() (coro_run's caller)" : rest);
}

static const char *why(const coro_event *ev, char *buf, size_t size)
{
    double after = ms(ev->at_ns - parked[ev->id % 64].ns);
    int fd = parked[ev->id % 64].fd;
    if (ev->reason == CORO_WOKE_TIMEOUT)
        snprintf(buf, size, ": its deadline came after %.1f ms (runs later)", after);
    else if (ev->reason == CORO_WOKE_CANCELLED)
        snprintf(buf, size, ": cancelled after %.1f ms (runs later)", after);
    else if (fd >= 0)
        snprintf(buf, size, ": the reactor saw fd %d ready after %.1f ms (runs later)", fd, after);
    else
        snprintf(buf, size, ": woken by %s after %.1f ms (runs later)", coro_name(coro_self()),
                 after);
    return buf;
}

static void on_event(const coro_event *ev, void *user)
{
    (void)user;
    char rest[160];
    if (start_ns < 0)
        start_ns = ev->at_ns;
    if (poll_ns >= 0) {
        snprintf(rest, sizeof rest, "       ...epoll_wait returned after %.1f ms",
                 ms(ev->at_ns - poll_ns));
        line(ev->at_ns, "", NULL, rest);
        poll_ns = -1;
    }
    switch (ev->kind) {
    case CORO_EV_SPAWN:
        line(ev->at_ns, "spawn", ev, ": on the run queue, not running yet");
        break;
    case CORO_EV_RESUME:
        line(ev->at_ns, "run", ev, "");
        break;
    case CORO_EV_PARK_FD:
    case CORO_EV_PARK_TIMER: {
        parked[ev->id % 64].ns = ev->at_ns;
        parked[ev->id % 64].fd = ev->kind == CORO_EV_PARK_FD ? ev->fd : -1;
        char limit[48] = "";
        if (ev->deadline_ns != CORO_NEVER)
            snprintf(limit, sizeof limit, ", at most %.1f ms", ms(ev->deadline_ns - ev->at_ns));
        if (ev->kind == CORO_EV_PARK_FD)
            snprintf(rest, sizeof rest, " on fd %d until it is %s%s", ev->fd,
                     ev->events & CORO_WRITE ? "writable" : "readable", limit);
        else if (limit[0])
            snprintf(rest, sizeof rest, " on a timer%s, or until woken", limit);
        else
            snprintf(rest, sizeof rest, " until another coroutine wakes it");
        line(ev->at_ns, "park", ev, rest);
        break;
    }
    case CORO_EV_WAKE:
        line(ev->at_ns, "ready", ev, why(ev, rest, sizeof rest));
        break;
    case CORO_EV_EXIT:
        line(ev->at_ns, "exit", ev, ": its function returned");
        break;
    case CORO_EV_POLL: {
        poll_ns = ev->at_ns;
        char limit[96] = "";
        if (ev->deadline_ns != CORO_NEVER && ev->id) /* when the runtime says whose */
            snprintf(limit, sizeof limit, ", at most %.1f ms: the deadline of %llu \"%s\"",
                     ms(ev->deadline_ns - ev->at_ns), (unsigned long long)ev->id, ev->name);
        snprintf(rest, sizeof rest,
                 "no coroutine is ready: epoll_wait, asleep until an fd or a deadline%s", limit);
        line(ev->at_ns, "poll", NULL, rest);
        break;
    }
    default: /* an event this printer does not know: shown if it names a coroutine */
        if (ev->co)
            line(ev->at_ns, "event", ev, "");
    }
}

int tutorial_trace_args(int argc, char **argv)
{
    int out = 1;
    int on = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trace") == 0)
            on = 1;
        else
            argv[out++] = argv[i];
    }
    argv[out] = NULL;
    if (on) {
        setvbuf(stdout, NULL, _IOLBF, 0); /* stdout and stderr in the order written */
        coro_set_trace(on_event, NULL);
    }
    return out;
}
