/* fetch_trace.c - --trace: the seed's execution table, as it happens.
 *
 * The seed explains `response = await client.get(url)` with a table of
 * seven steps and a tracker of three variables.  Here each step is printed
 * at the moment it happens, one line each:
 *
 *     step N: action | what was evaluated | result | time since start | tracker
 *
 * and between the steps, indented, what happened underneath: the client's
 * events (resolve, connect, request sent...) and the runtime's
 * (fetch_trace_rt.c: parks, the thread's sleeps in epoll_wait, wakes, and
 * each time the CPU moves to another coroutine).  When each step happens:
 *
 *   1  coro_spawn returned (fetch_run.c)     2  http_client_open returned
 *   3  the request's bytes were written      4  http_send returned
 *   5  http_client_close returned            6  the bodies are all out
 *   7  the runtime says the fetch coroutine returned (its EXIT event)
 *
 * Everything, printed or not, also goes into the event stream (fetch_tev.c)
 * that --timeline and --trace-json are drawn from.  One trace per process
 * (like the runtime), so the state is a static.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "fetch_tev.h"

/* The tracker of one URL. */
typedef struct url_track {
    char response[48]; /* "none", "awaiting", "200 OK", "failed" */
    char text[24];     /* "none" until step 6, then "161 bytes" */
    bool sent;         /* step 3 printed for its current try */
    int err;           /* what http_send returned (step 4) */
} url_track;

static struct {
    bool on;               /* recording (--trace, --timeline, --trace-json) */
    bool print;            /* --trace: lines on stderr */
    bool colour;           /* ANSI colours: a terminal, and no NO_COLOR */
    int64_t start_ns;
    const coro_t *seed_co; /* the fetch coroutine: its exit is step 7 */
    const char *client;    /* the tracker: "none", "open", "closed" */
    url_track *urls;       /* one per URL */
    size_t n_urls;
    char failed[96];       /* the first failure, for steps 6 and 7 */
} tr;

static double ms_since_start(int64_t at_ns)
{
    return (double)(at_ns - tr.start_ns) / 1e6;
}

/* The tracker: one URL's, or (url NULL) every URL's. */
static void tracker(const url_track *url, char *out, size_t size)
{
    int n = snprintf(out, size, "client=%s", tr.client);
    if (url && tr.n_urls > 1) { /* the URL's own tracker */
        snprintf(out + n, size - (size_t)n, " #%zu: response=%s text=%s",
                 (size_t)(url - tr.urls) + 1, url->response, url->text);
        return;
    }
    if (tr.n_urls <= 1) {
        const url_track *u = tr.n_urls ? &tr.urls[0] : NULL;
        snprintf(out + n, size - (size_t)n, " response=%s text=%s", u ? u->response : "none",
                 u ? u->text : "none");
        return;
    }
    for (size_t i = 0; i < tr.n_urls && (size_t)n < size; i++)
        n += snprintf(out + n, size - (size_t)n, " #%zu:%s/%s", i + 1, tr.urls[i].response,
                      tr.urls[i].text);
}

/* One line of the table (and a step mark in the stream). */
static void step(int n, const char *action, const char *evaluated, const char *result,
                 const url_track *url)
{
    int64_t now = coro_now();
    fetch_tev e = {.kind = FETCH_TEV_STEP, .fd = -1, .deadline_ns = CORO_NEVER, .at_ns = now,
                   .step = n};
    snprintf(e.label, sizeof e.label, "%s", action);
    fetch_tev_record(&e);
    if (!tr.print)
        return;
    char track[400];
    tracker(url, track, sizeof track);
    const char *bold = tr.colour ? "\033[1m" : "";
    const char *plain = tr.colour ? "\033[0m" : "";
    fprintf(stderr, "%sstep %d:%s %-26s | %-44s | %-36s | +%.3f ms | %s\n", bold, n, plain, action,
            evaluated, result, ms_since_start(now), track);
}

void fetch_trace_note_at(int64_t at_ns, const char *text)
{
    if (!tr.print)
        return;
    const char *dim = tr.colour ? "\033[2m" : "";
    const char *plain = tr.colour ? "\033[0m" : "";
    fprintf(stderr, "%s    %+10.3f ms  %s%s\n", dim, ms_since_start(at_ns), text, plain);
}

void fetch_trace_note(const char *fmt, ...)
{
    if (!tr.print)
        return;
    char text[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fetch_trace_note_at(coro_now(), text);
}

/* The runtime's hook: into the stream, then (--trace) a line. */
static void on_coro_event(const coro_event *ev, void *user)
{
    (void)user;
    fetch_tev e = {.kind = (int)ev->kind, .id = ev->id, .fd = ev->fd, .events = ev->events,
                   .deadline_ns = ev->deadline_ns, .reason = (int)ev->reason, .at_ns = ev->at_ns};
    snprintf(e.name, sizeof e.name, "%s", ev->name ? ev->name : "");
    if (ev->kind == CORO_EV_EXIT && ev->co == tr.seed_co) {
        fetch_tev_record(&e);
        tr.seed_co = NULL;
        step(7, "function ends", "the fetch coroutine returned",
             tr.failed[0] ? "coroutine complete, with a failure" : "coroutine complete, data ready",
             NULL);
        return;
    }
    fetch_tev_record(&e);
    if (tr.print)
        fetch_trace_rt_event(ev);
}

/* ---- the seven steps ---- */

void fetch_trace_begin(bool print, bool colour)
{
    tr.on = true;
    tr.print = print;
    tr.colour = colour;
    tr.start_ns = coro_now();
    fetch_tev_set_start(tr.start_ns);
    tr.client = "none";
    if (print)
        fprintf(stderr,
                "fetch --trace: the seed's execution table, live: \"step\" lines are its seven\n"
                "steps, printed when each happens; indented lines are what happens underneath.\n"
                "Coroutines are \"name (id)\"; a \"cpu ->\" line is a switch to another one.\n");
    coro_set_trace(on_coro_event, NULL);
}

void fetch_trace_end(void)
{
    coro_set_trace(NULL, NULL);
    fetch_trace_rt_reset();
    free(tr.urls);
    tr.urls = NULL;
    tr.n_urls = 0;
    tr.on = tr.print = false;
    tr.failed[0] = '\0';
}

bool fetch_trace_printing(void)
{
    return tr.print;
}

void fetch_trace_spawned(const coro_t *co, size_t n_urls)
{
    if (!tr.on)
        return;
    tr.seed_co = co;
    free(tr.urls);
    tr.urls = calloc(n_urls ? n_urls : 1, sizeof *tr.urls);
    tr.n_urls = tr.urls ? n_urls : 0;
    for (size_t i = 0; i < tr.n_urls; i++) {
        snprintf(tr.urls[i].response, sizeof tr.urls[i].response, "none");
        snprintf(tr.urls[i].text, sizeof tr.urls[i].text, "none");
    }
    char evaluated[64];
    snprintf(evaluated, sizeof evaluated, "coro_spawn(fetch_coroutine) = %s (%llu)", coro_name(co),
             (unsigned long long)coro_id(co));
    step(1, n_urls == 1 ? "call fetch_data(url)" : "call fetch_data(urls)", evaluated,
         "coroutine created, waiting to run", NULL);
}

void fetch_trace_client_opened(void)
{
    if (!tr.on)
        return;
    tr.client = "open";
    step(2, "enter async with Client()", "http_client_open(&opts)", "client ready", NULL);
}

static url_track *track_of(const fetch_job *j)
{
    return j && j->index < tr.n_urls ? &tr.urls[j->index] : NULL;
}

static void get_action(const fetch_job *j, size_t n_jobs, char *out, size_t size)
{
    if (n_jobs == 1)
        snprintf(out, size, "await client.get(url)");
    else
        snprintf(out, size, "await client.get(url #%zu)", j->index + 1);
}

/* http_send is called: step 3 waits for the request's bytes to go out. */
void fetch_trace_awaiting(const fetch_job *j, size_t n_jobs)
{
    url_track *u = track_of(j);
    if (!tr.on || !u)
        return;
    snprintf(u->response, sizeof u->response, "awaiting");
    u->sent = false;
    char url[FETCH_SHOWN_URL_SIZE];
    report_shown_url(j->url, url, sizeof url);
    fetch_trace_note("%s (%llu) calls http_send(%s %s): it resolves, connects and writes, "
                     "parking at each wait", coro_name(coro_self()),
                     (unsigned long long)coro_id(coro_self()), j->method ? j->method : "GET", url);
    (void)n_jobs;
}

static void step3(const fetch_job *j, size_t n_jobs, const char *result)
{
    url_track *u = track_of(j);
    char action[48], evaluated[FETCH_SHOWN_URL_SIZE + 16], url[FETCH_SHOWN_URL_SIZE];
    get_action(j, n_jobs, action, sizeof action);
    report_shown_url(j->url, url, sizeof url);
    snprintf(evaluated, sizeof evaluated, "http_send(%s %s)", j->method ? j->method : "GET", url);
    u->sent = true;
    step(3, action, evaluated, result, u);
}

void fetch_trace_received(const fetch_job *j, size_t n_jobs)
{
    url_track *u = track_of(j);
    if (!tr.on || !u)
        return;
    u->err = j->err;
    char result[120], evaluated[48], action[48];
    if (j->err != HTTP_OK && j->status == 0) {
        if (!u->sent) /* it never went out: say so where step 3 would be */
            step3(j, n_jobs, "request did not go out");
        snprintf(result, sizeof result, "no response: %s", http_strerror(j->err));
        snprintf(u->response, sizeof u->response, "failed");
        if (!tr.failed[0] && n_jobs > 1)
            snprintf(tr.failed, sizeof tr.failed, "#%zu: %s", j->index + 1, http_strerror(j->err));
        else if (!tr.failed[0])
            snprintf(tr.failed, sizeof tr.failed, "%s", http_strerror(j->err));
    } else {
        snprintf(result, sizeof result, "%d %s, %llu bytes of body", j->status, j->reason,
                 (unsigned long long)j->received);
        snprintf(u->response, sizeof u->response, "%d %.36s", j->status, j->reason);
    }
    snprintf(action, sizeof action, n_jobs == 1 ? "response received" : "response #%zu received",
             j->index + 1);
    snprintf(evaluated, sizeof evaluated, "http_send(...) returned %d", j->err);
    step(4, action, evaluated, result, u);
}

void fetch_trace_client_closed(void)
{
    if (!tr.on)
        return;
    tr.client = "closed";
    step(5, "exit async with", "http_client_close(client)", "client closed", NULL);
}

void fetch_trace_returned(const fetch_run *run)
{
    if (!tr.on)
        return;
    uint64_t bytes = 0;
    for (size_t i = 0; i < run->n_jobs && i < tr.n_urls; i++) {
        bytes += run->jobs[i].received;
        if (tr.urls[i].err == HTTP_OK)
            snprintf(tr.urls[i].text, sizeof tr.urls[i].text, "%llu bytes",
                     (unsigned long long)run->jobs[i].received);
    }
    char result[160];
    if (tr.failed[0])
        snprintf(result, sizeof result, "failed: %s", tr.failed);
    else /* the body went out as it came, inside http_send: before step 4 */
        snprintf(result, sizeof result, "%llu bytes, written as they came", (unsigned long long)bytes);
    if (run->n_jobs == 1)
        step(6, "return response.text", "the body (streamed to stdout / -o)", result, NULL);
    else
        step(6, "return the texts", "the bodies (written in URL order)", result, NULL);
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
    url_track *u = track_of(j);
    switch (ev) {
    case HTTP_EV_RESOLVING: fetch_trace_note("%s: resolving %s", who, d); break;
    case HTTP_EV_RESOLVED: fetch_trace_note("%s: resolved to %s", who, d); break;
    case HTTP_EV_CONNECTING: fetch_trace_note("%s: connecting to %s (non-blocking)", who, d); break;
    case HTTP_EV_CONNECTED: fetch_trace_note("%s: connected to %s (fd %d)", who, d, fd); break;
    case HTTP_EV_REUSED: fetch_trace_note("%s: reusing a kept-alive connection (fd %d)", who, fd); break;
    case HTTP_EV_REQUEST_SENT:
        fetch_trace_note("%s: request written to fd %d: %s", who, fd, d);
        if (u && !u->sent) /* the first hop's request is the seed's step 3 */
            step3(j, n_jobs, "request went out; waiting for the reply");
        break;
    case HTTP_EV_HEAD_RECEIVED: fetch_trace_note("%s: response head on fd %d: %s", who, fd, d); break;
    case HTTP_EV_BODY_DONE: fetch_trace_note("%s: body complete, %s bytes", who, d); break;
    case HTTP_EV_REDIRECT: fetch_trace_note("%s: redirected to %s", who, d); break;
    case HTTP_EV_FIRST_BYTE: fetch_trace_note("%s: first byte of the reply on fd %d", who, fd); break;
    }
}
