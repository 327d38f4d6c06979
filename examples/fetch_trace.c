/* fetch_trace.c - --trace: the seed's execution table, as it happens.
 *
 * The seed explains `response = await client.get(url)` with a table of
 * seven steps and a tracker of three variables.  Here each step is printed
 * when fetch reaches it, one line each:
 *
 *     step N: action | what was evaluated | result | time since start | tracker
 *
 * and between the steps, indented, what happened underneath: the client's
 * events (resolve, connect, request sent...), and the runtime's, from the
 * hook coro_set_trace installs: a coroutine parks on an fd, the thread
 * sleeps in epoll_wait, the reactor wakes the coroutine, and which other
 * coroutines ran in the meantime.  Steps 1-6 are called by fetch_run.c;
 * step 7 is the runtime telling us the fetch coroutine returned.
 *
 * One trace per process (like the runtime), so the state is a static.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

/* A coroutine of ours, parked: since when, on what, and who ran since. */
typedef struct parked {
    const coro_t *co;
    int64_t since_ns;
    int fd;              /* -1: parked on no fd (a timer, or a wakeup) */
    int events;          /* CORO_READ / CORO_WRITE */
    char meanwhile[120]; /* names of the other coroutines that ran */
} parked;

static struct {
    bool on;
    bool colour;           /* ANSI colours: a terminal, and no NO_COLOR */
    int64_t start_ns;
    const coro_t *seed_co; /* the fetch coroutine: its exit is step 7 */
    size_t n_urls;
    const char *client;    /* the tracker: "none", "open", "closed" */
    char response[64];
    char text[48];
    size_t n_received;     /* responses that came back, for several URLs */
    uint64_t text_bytes;   /* their bodies together */
    parked *parked;        /* our coroutines now parked */
    size_t n_parked;
    size_t cap_parked;
} tr;

static double ms_since_start(int64_t at_ns)
{
    return (double)(at_ns - tr.start_ns) / 1e6;
}

/* One line of the table. */
static void step(int n, const char *action, const char *evaluated, const char *result)
{
    const char *bold = tr.colour ? "\033[1m" : "";
    const char *plain = tr.colour ? "\033[0m" : "";
    fprintf(stderr, "%sstep %d:%s %-26s | %-44s | %-36s | +%.3f ms | client=%s response=%s text=%s\n",
            bold, n, plain, action, evaluated, result, ms_since_start(coro_now()), tr.client,
            tr.response, tr.text);
}

/* One indented line of what happened underneath, at time at_ns. */
static void note_at(int64_t at_ns, const char *text)
{
    const char *dim = tr.colour ? "\033[2m" : "";
    const char *plain = tr.colour ? "\033[0m" : "";
    fprintf(stderr, "%s    %+10.3f ms  %s%s\n", dim, ms_since_start(at_ns), text, plain);
}

void fetch_trace_note(const char *fmt, ...)
{
    if (!tr.on)
        return;
    char text[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    note_at(coro_now(), text);
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

/* ---- the runtime's events ---- */

/* Our coroutines are "fetch" and "fetch #N"; the rest (the demo server's)
 * only show up as "meanwhile ran". */
static bool ours(const coro_event *ev)
{
    return strncmp(ev->name, "fetch", 5) == 0;
}

static parked *find_parked(const coro_t *co)
{
    for (size_t i = 0; i < tr.n_parked; i++)
        if (tr.parked[i].co == co)
            return &tr.parked[i];
    return NULL;
}

static void on_park(const coro_event *ev)
{
    if (tr.n_parked == tr.cap_parked) {
        size_t cap = tr.cap_parked ? tr.cap_parked * 2 : 8;
        parked *p = realloc(tr.parked, cap * sizeof *p);
        if (!p)
            return; /* the trace loses a line; fetch goes on */
        tr.parked = p;
        tr.cap_parked = cap;
    }
    tr.parked[tr.n_parked++] = (parked){ev->co, ev->at_ns, ev->fd, ev->events, ""};
    char text[200], left[32] = "";
    if (ev->deadline_ns != CORO_NEVER)
        duration(ev->deadline_ns - ev->at_ns, left, sizeof left);
    if (ev->fd >= 0)
        snprintf(text, sizeof text, "%s parks on fd %d until it is %s%s%s", ev->name, ev->fd,
                 ev->events & CORO_WRITE ? "writable" : "readable",
                 left[0] ? ", at most " : "", left);
    else if (left[0])
        snprintf(text, sizeof text, "%s parks for %s, or until woken", ev->name, left);
    else
        snprintf(text, sizeof text, "%s parks until another coroutine wakes it", ev->name);
    note_at(ev->at_ns, text);
}

static void on_wake(const coro_event *ev)
{
    parked *p = find_parked(ev->co);
    if (!p)
        return;
    char after[32], text[320];
    duration(ev->at_ns - p->since_ns, after, sizeof after);
    if (ev->reason == CORO_WOKE_TIMEOUT)
        snprintf(text, sizeof text, "%s's deadline passed after %s", ev->name, after);
    else if (ev->reason == CORO_WOKE_CANCELLED)
        snprintf(text, sizeof text, "%s was cancelled after %s", ev->name, after);
    else if (p->fd >= 0)
        snprintf(text, sizeof text, "the reactor woke %s after %s: fd %d is %s", ev->name, after,
                 p->fd, p->events & CORO_WRITE ? "writable" : "readable");
    else
        snprintf(text, sizeof text, "%s woke %s after %s", coro_name(coro_self()), ev->name, after);
    if (p->meanwhile[0]) {
        size_t n = strlen(text);
        snprintf(text + n, sizeof text - n, "; meanwhile ran: %s", p->meanwhile);
    }
    note_at(ev->at_ns, text);
    *p = tr.parked[--tr.n_parked];
}

/* Another coroutine runs: remember it in each parked one of ours. */
static void on_other_resumed(const coro_event *ev)
{
    for (size_t i = 0; i < tr.n_parked; i++) {
        char *m = tr.parked[i].meanwhile;
        size_t len = strlen(m);
        if (strstr(m, ev->name) || len + strlen(ev->name) + 3 >= sizeof tr.parked[i].meanwhile)
            continue; /* already listed, or no room: simple on purpose */
        snprintf(m + len, sizeof tr.parked[i].meanwhile - len, "%s%s", len ? ", " : "", ev->name);
    }
}

static void on_coro_event(const coro_event *ev, void *user)
{
    (void)user;
    char text[160];
    switch (ev->kind) {
    case CORO_EV_SPAWN:
        if (strcmp(ev->name, "fetch") != 0) { /* the fetch coroutine is step 1 */
            snprintf(text, sizeof text, "spawn: coroutine %llu \"%s\" created, waiting to run",
                     (unsigned long long)ev->id, ev->name);
            note_at(ev->at_ns, text);
        }
        break;
    case CORO_EV_PARK_FD:
    case CORO_EV_PARK_TIMER:
        if (ours(ev))
            on_park(ev);
        break;
    case CORO_EV_WAKE:
        on_wake(ev);
        break;
    case CORO_EV_RESUME:
        if (!ours(ev))
            on_other_resumed(ev);
        break;
    case CORO_EV_POLL:
        note_at(ev->at_ns, "no coroutine is ready: the thread sleeps in epoll_wait");
        break;
    case CORO_EV_EXIT:
        if (ev->co == tr.seed_co) {
            step(7, "function ends", "the fetch coroutine returned",
                 "coroutine complete, data ready");
            tr.seed_co = NULL;
        } else {
            snprintf(text, sizeof text, "coroutine %llu \"%s\" returned",
                     (unsigned long long)ev->id, ev->name);
            note_at(ev->at_ns, text);
        }
        break;
    }
}

/* ---- the seven steps ---- */

void fetch_trace_begin(bool colour)
{
    tr.on = true;
    tr.colour = colour;
    tr.start_ns = coro_now();
    tr.client = "none";
    fprintf(stderr, "fetch --trace: the seed's execution table, live: \"step\" lines are its\n"
                    "seven steps; indented lines are what happens underneath, as it happens.\n");
    snprintf(tr.response, sizeof tr.response, "none");
    snprintf(tr.text, sizeof tr.text, "none");
    coro_set_trace(on_coro_event, NULL);
}

void fetch_trace_end(void)
{
    coro_set_trace(NULL, NULL);
    free(tr.parked);
    tr.parked = NULL;
    tr.n_parked = tr.cap_parked = 0;
    tr.on = false;
}

void fetch_trace_spawned(const coro_t *co, size_t n_urls)
{
    if (!tr.on)
        return;
    tr.seed_co = co;
    tr.n_urls = n_urls;
    step(1, n_urls == 1 ? "call fetch_data(url)" : "call fetch_data(urls)",
         "coro_spawn(fetch_coroutine)", "coroutine created, waiting to run");
}

void fetch_trace_client_opened(void)
{
    if (!tr.on)
        return;
    tr.client = "open";
    step(2, "enter async with Client()", "http_client_open(&opts)", "client ready");
}

void fetch_trace_awaiting(const fetch_job *j, size_t n_jobs)
{
    if (!tr.on)
        return;
    char action[48], evaluated[400];
    if (n_jobs == 1) {
        snprintf(action, sizeof action, "await client.get(url)");
        snprintf(tr.response, sizeof tr.response, "awaiting");
    } else {
        snprintf(action, sizeof action, "await client.get(url #%zu)", j->index + 1);
        snprintf(tr.response, sizeof tr.response, "#%zu awaiting (%zu/%zu in)", j->index + 1,
                 tr.n_received, n_jobs);
    }
    char url[FETCH_SHOWN_URL_SIZE];
    report_shown_url(j->url, url, sizeof url);
    snprintf(evaluated, sizeof evaluated, "http_send(%s %s)", j->method ? j->method : "GET", url);
    step(3, action, evaluated, "request goes out; coroutine parks");
}

void fetch_trace_received(const fetch_job *j, size_t n_jobs)
{
    if (!tr.on)
        return;
    char action[48], evaluated[48], result[120];
    snprintf(action, sizeof action, n_jobs == 1 ? "response received" : "response #%zu received",
             j->index + 1);
    snprintf(evaluated, sizeof evaluated, "http_send(...) returned %d", j->err);
    tr.n_received++;
    tr.text_bytes += j->received;
    if (j->err != HTTP_OK && j->status == 0)
        snprintf(result, sizeof result, "no response: %s", http_strerror(j->err));
    else
        snprintf(result, sizeof result, "%d %s, %llu bytes of body", j->status, j->reason,
                 (unsigned long long)j->received);
    char got[48];
    if (j->status)
        snprintf(got, sizeof got, "%d %.40s", j->status, j->reason);
    else
        snprintf(got, sizeof got, "failed");
    if (n_jobs == 1)
        snprintf(tr.response, sizeof tr.response, "%s", got);
    else
        snprintf(tr.response, sizeof tr.response, "#%zu %s (%zu/%zu in)", j->index + 1, got,
                 tr.n_received, n_jobs);
    snprintf(tr.text, sizeof tr.text, "%llu bytes", (unsigned long long)tr.text_bytes);
    step(4, action, evaluated, result);
}

void fetch_trace_client_closed(void)
{
    if (!tr.on)
        return;
    tr.client = "closed";
    step(5, "exit async with", "http_client_close(client)", "client closed");
}

void fetch_trace_returned(const fetch_run *run)
{
    if (!tr.on)
        return;
    char result[80];
    snprintf(result, sizeof result, "%llu bytes returned, on %s",
             (unsigned long long)tr.text_bytes, run->o->n_outfiles ? "stdout / -o" : "stdout");
    if (run->n_jobs == 1)
        step(6, "return response.text", "the body (written out as it came)", result);
    else
        step(6, "return the texts", "the bodies (written out in URL order)", result);
}

void fetch_trace_http_event(const fetch_job *j, size_t n_jobs, http_event ev, int fd,
                            const char *detail)
{
    if (!tr.on)
        return;
    char d[FETCH_SHOWN_URL_SIZE]; /* a redirect's URL, a request line: masked */
    fetch_masked(detail ? detail : "", d, sizeof d);
    char who[24] = "client";
    if (n_jobs > 1 && j)
        snprintf(who, sizeof who, "client (#%zu)", j->index + 1);
    switch (ev) {
    case HTTP_EV_RESOLVING: fetch_trace_note("%s: resolving %s", who, d); break;
    case HTTP_EV_RESOLVED: fetch_trace_note("%s: resolved to %s", who, d); break;
    case HTTP_EV_CONNECTING: fetch_trace_note("%s: connecting to %s (non-blocking)", who, d); break;
    case HTTP_EV_CONNECTED: fetch_trace_note("%s: connected to %s (fd %d)", who, d, fd); break;
    case HTTP_EV_REUSED: fetch_trace_note("%s: reusing a kept-alive connection (fd %d)", who, fd); break;
    case HTTP_EV_REQUEST_SENT: fetch_trace_note("%s: request sent on fd %d: %s", who, fd, d); break;
    case HTTP_EV_HEAD_RECEIVED: fetch_trace_note("%s: response head on fd %d: %s", who, fd, d); break;
    case HTTP_EV_BODY_DONE: fetch_trace_note("%s: body complete, %s bytes", who, d); break;
    case HTTP_EV_REDIRECT: fetch_trace_note("%s: redirected to %s", who, d); break;
    case HTTP_EV_FIRST_BYTE: fetch_trace_note("%s: first byte of the reply on fd %d", who, fd); break;
    }
}
