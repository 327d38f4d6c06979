/* fetch_trace_rt.c - --trace's lines for the runtime's events.
 *
 * One line per event, as it happens, each coroutine as "name (id)":
 *
 *     spawn: demo-conn (4) created, ready      a coroutine exists, not running
 *     cpu -> fetch (3): resumes, ready 12 us   the CPU moved to another one
 *     fetch (3) parks: fd 5 readable?          it gave up the CPU, and why
 *     fetch (3) made ready: woken by ...       put on the run queue (not yet
 *                                              running: see its "cpu ->")
 *     thread sleeps in epoll_wait, at most 100.0 ms: the timer of demo-conn (4)
 *     thread woke after 100.4 ms: fd 5 readable -> fetch (3) made ready
 *
 * The sleep line comes only when the thread really enters epoll_wait with
 * nothing ready (the runtime's POLL event); the wakes made while it was
 * inside are told on its "woke" line, in the order the reactor made them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fetch.h"

/* A coroutine we have seen, and what it is doing. */
typedef struct seen {
    const coro_t *co;
    char who[40];  /* "fetch (3)" */
    int state;     /* NEW, PARKED, READY, RUNNING */
    int fd;        /* PARKED: on fd, or -1 */
    int events;
    int64_t since; /* when it entered its state */
} seen;

enum { NEW, PARKED, READY, RUNNING };

#define MAX_SEEN 64 /* more at once are traced without their history */

static struct {
    seen co[MAX_SEEN];
    size_t n;
    const coro_t *on_cpu;   /* the last coroutine resumed */
    bool in_poll;
    int64_t poll_start;
    char woke[400];         /* the wakes made inside epoll_wait */
} rt;

void fetch_trace_rt_reset(void)
{
    memset(&rt, 0, sizeof rt);
}

static seen *seen_of(const coro_event *ev)
{
    for (size_t i = 0; i < rt.n; i++)
        if (rt.co[i].co == ev->co)
            return &rt.co[i];
    if (rt.n == MAX_SEEN)
        return NULL;
    seen *s = &rt.co[rt.n++];
    *s = (seen){.co = ev->co, .state = NEW, .fd = -1, .since = ev->at_ns};
    snprintf(s->who, sizeof s->who, "%.24s (%llu)", ev->name, (unsigned long long)ev->id);
    return s;
}

static void forget(const coro_t *co)
{
    for (size_t i = 0; i < rt.n; i++)
        if (rt.co[i].co == co) {
            rt.co[i] = rt.co[--rt.n];
            return;
        }
}

/* "812 us", "200.3 ms" or "30.0 s". */
static void duration(int64_t ns, char *out, size_t size)
{
    if (ns < 1000000)
        snprintf(out, size, "%lld us", (long long)(ns / 1000));
    else if (ns < 1000000000)
        snprintf(out, size, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(out, size, "%.1f s", (double)ns / 1e9);
}

static void line(int64_t at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(int64_t at, const char *fmt, ...)
{
    char text[520];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fetch_trace_note_at(at, text);
}

static void on_resume(const coro_event *ev, seen *s)
{
    if (ev->co == rt.on_cpu)
        return; /* no switch: it carries on */
    rt.on_cpu = ev->co;
    char ago[32];
    duration(ev->at_ns - s->since, ago, sizeof ago);
    if (s->state == NEW && ev->id != 0)
        line(ev->at_ns, "cpu -> %s: starts", s->who);
    else if (s->state == READY)
        line(ev->at_ns, "cpu -> %s: resumes (made ready %s ago)", s->who, ago);
    else
        line(ev->at_ns, "cpu -> %s", s->who);
    s->state = RUNNING;
    s->since = ev->at_ns;
}

static void on_park(const coro_event *ev, seen *s)
{
    char left[32] = "";
    if (ev->deadline_ns != CORO_NEVER)
        duration(ev->deadline_ns - ev->at_ns, left, sizeof left);
    if (ev->kind == CORO_EV_PARK_FD)
        line(ev->at_ns, "%s parks: waits for fd %d to be %s%s%s", s->who, ev->fd,
             ev->events & CORO_WRITE ? "writable" : "readable", left[0] ? ", at most " : "", left);
    else if (left[0])
        line(ev->at_ns, "%s parks: sleeps on its timer, %s", s->who, left);
    else
        line(ev->at_ns, "%s parks until another coroutine wakes it", s->who);
    rt.on_cpu = NULL; /* its next run is a resume, even with no one between */
    s->state = PARKED;
    s->fd = ev->kind == CORO_EV_PARK_FD ? ev->fd : -1;
    s->events = ev->events;
    s->since = ev->at_ns;
}

/* Why it was made ready: "fd 5 readable", "its timer"... */
static void wake_cause(const coro_event *ev, const seen *s, char *out, size_t size)
{
    const coro_t *self = coro_self();
    if (ev->reason == CORO_WOKE_TIMEOUT)
        snprintf(out, size, "the %s of %s is due", ev->fd >= 0 ? "deadline" : "timer", s->who);
    else if (ev->reason == CORO_WOKE_CANCELLED)
        snprintf(out, size, "cancelled");
    else if (ev->fd >= 0 && rt.in_poll)
        snprintf(out, size, "fd %d %s", ev->fd, ev->events & CORO_WRITE ? "writable" : "readable");
    else if (ev->fd >= 0) /* a poll that could not sleep, or coro_close on the fd */
        snprintf(out, size, "fd %d %s or closed", ev->fd,
                 ev->events & CORO_WRITE ? "writable" : "readable");
    else if (self)
        snprintf(out, size, "woken by %.24s (%llu)", coro_name(self),
                 (unsigned long long)coro_id(self));
    else
        snprintf(out, size, "woken");
}

static void on_wake(const coro_event *ev, seen *s)
{
    char cause[80], after[32];
    wake_cause(ev, s, cause, sizeof cause);
    duration(ev->at_ns - s->since, after, sizeof after);
    if (rt.in_poll) {
        size_t n = strlen(rt.woke);
        snprintf(rt.woke + n, sizeof rt.woke - n, "%s%s -> %s made ready", n ? "; " : "", cause,
                 s->who);
    } else {
        line(ev->at_ns, "%s made ready: %s (parked %s)", s->who, cause, after);
    }
    s->state = READY;
    s->since = ev->at_ns;
}

/* "fd 3 (demo-server (2)), fd 5 (fetch (3))": who waits on what. */
static void awaited_fds(char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < rt.n && n < size; i++)
        if (rt.co[i].state == PARKED && rt.co[i].fd >= 0)
            n += (size_t)snprintf(out + n, size - n, "%sfd %d (%s)", n ? ", " : "", rt.co[i].fd,
                                  rt.co[i].who);
}

static void on_poll(const coro_event *ev)
{
    char limit[120], fds[200];
    if (ev->co && ev->deadline_ns != CORO_NEVER) {
        char left[32];
        duration(ev->deadline_ns - ev->at_ns, left, sizeof left);
        snprintf(limit, sizeof limit, "at most %s: the timer of %.24s (%llu)", left, ev->name,
                 (unsigned long long)ev->id);
    } else {
        snprintf(limit, sizeof limit, "no time limit");
    }
    awaited_fds(fds, sizeof fds);
    line(ev->at_ns, "thread sleeps in epoll_wait, %s%s%s", limit, fds[0] ? "; awaited: " : "", fds);
    rt.in_poll = true;
    rt.poll_start = ev->at_ns;
    rt.woke[0] = '\0';
    rt.on_cpu = NULL; /* whoever runs next, it is a move of the CPU */
}

static void on_poll_done(const coro_event *ev)
{
    char after[32];
    duration(ev->at_ns - rt.poll_start, after, sizeof after);
    line(ev->at_ns, "thread woke after %s: %s", after,
         rt.woke[0] ? rt.woke : "nothing made ready (a stray event)");
    rt.in_poll = false;
}

void fetch_trace_rt_event(const coro_event *ev)
{
    seen *s = ev->co && ev->kind != CORO_EV_POLL ? seen_of(ev) : NULL;
    switch (ev->kind) {
    case CORO_EV_SPAWN:
        if (s)
            line(ev->at_ns, "spawn: %s created, ready: it runs when the CPU comes to it", s->who);
        break;
    case CORO_EV_RESUME:
        if (s)
            on_resume(ev, s);
        break;
    case CORO_EV_PARK_FD:
    case CORO_EV_PARK_TIMER:
        if (s)
            on_park(ev, s);
        break;
    case CORO_EV_WAKE:
        if (s)
            on_wake(ev, s);
        break;
    case CORO_EV_EXIT:
        line(ev->at_ns, "%.24s (%llu) returned", ev->name, (unsigned long long)ev->id);
        forget(ev->co);
        rt.on_cpu = NULL;
        break;
    case CORO_EV_POLL: on_poll(ev); break;
    case CORO_EV_POLL_DONE: on_poll_done(ev); break;
    }
}
