/* fetch_run.c - the coroutines of fetch.
 *
 * The shape is the seed's fetch_data, with gather when there are several
 * URLs:
 *
 *     async def fetch(urls):                          fetch_coroutine
 *         async with httpx.AsyncClient() as client:   http_client_open
 *             await gather(*(client.get(u) ...))      one coroutine per URL
 *         return the texts                            http_client_close
 *
 * With one URL the fetch coroutine awaits it itself, exactly as the seed's
 * fetch_data does.  With several it spawns one coroutine per URL, at most
 * --parallel-max at once, all sharing the client (and so its kept-alive
 * connections), and parks until they are done.
 *
 * Output order: bodies reach stdout in URL order, whatever order they
 * arrive in.  run->turn is the first URL not yet retired; only it writes to
 * stdout, later ones keep their bytes in memory.  When a job is done, every
 * done job at the head of the line is retired (its kept bytes written, its
 * error line printed) and the turn passes on.  The price: a later URL's
 * body sits in memory until every earlier one is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"

/* Our callbacks and the client's frames run on these stacks; pages are
 * only touched when used, so being generous costs address space only. */
#define FETCH_STACK (256 * 1024)

/* ---- exit codes and the error line ---- */

/* curl's exit code for what http_send returned. */
static int exit_code_of_error(int err)
{
    switch (err) {
    case HTTP_OK: return FETCH_EXIT_OK;
    case HTTP_E_SCHEME: return FETCH_EXIT_UNSUPPORTED;
    case HTTP_E_URL: return FETCH_EXIT_URL;
    case HTTP_E_RESOLVE: return FETCH_EXIT_RESOLVE;
    case HTTP_E_CONNECT: return FETCH_EXIT_CONNECT;
    case HTTP_E_CONNECT_TIMEOUT:
    case HTTP_E_READ_TIMEOUT:
    case HTTP_E_TOTAL_TIMEOUT: return FETCH_EXIT_TIMEOUT;
    case HTTP_E_MALFORMED:
    case HTTP_E_HEAD_TOO_LARGE:
    case HTTP_E_BODY_TOO_LARGE: return FETCH_EXIT_MALFORMED;
    case HTTP_E_TRUNCATED: return FETCH_EXIT_TRUNCATED;
    case HTTP_E_RESET: return FETCH_EXIT_RECV;
    case HTTP_E_EMPTY_REPLY: return FETCH_EXIT_EMPTY_REPLY;
    case HTTP_E_TOO_MANY_REDIRECTS: return FETCH_EXIT_REDIRECTS;
    case HTTP_E_NOMEM: return FETCH_EXIT_NOMEM;
    case HTTP_E_BAD_REQUEST: return FETCH_EXIT_USAGE;
    default: return FETCH_EXIT_ABORTED; /* ABORTED without a reason of ours, CANCELLED */
    }
}

/* The exit code of one job: a write error first, then our own reasons. */
static int exit_code_of(const fetch_job *j)
{
    if (j->write_errno)
        return FETCH_EXIT_WRITE;
    if (j->aborted == FETCH_ABORT_STATUS)
        return FETCH_EXIT_HTTP_ERROR;
    if (j->aborted == FETCH_ABORT_REDIRECTS)
        return FETCH_EXIT_REDIRECTS;
    return exit_code_of_error(j->err);
}

/* The limit behind a timeout, to say so in the error line: "-m 0.2". */
static void timeout_hint(const fetch_job *j, char *out, size_t size)
{
    const fetch_opts *o = j->run->o;
    if (j->err == HTTP_E_TOTAL_TIMEOUT)
        snprintf(out, size, ": -m %g", (double)o->max_time_ms / 1000);
    else if (j->err == HTTP_E_CONNECT_TIMEOUT && o->connect_timeout_ms > 0)
        snprintf(out, size, ": --connect-timeout %g", (double)o->connect_timeout_ms / 1000);
    else
        out[0] = '\0';
}

/* The one line that says what went wrong with j and where, on stderr.
 * -s does not hide it (curl's -sS, not curl's -s). */
static void report(fetch_job *j)
{
    char why[320];
    int e = j->err_errno;
    if (j->write_errno)
        snprintf(why, sizeof why, "could not write to %s: %s",
                 j->outfile ? j->outfile : "stdout", strerror(j->write_errno));
    else if (j->aborted == FETCH_ABORT_STATUS)
        snprintf(why, sizeof why, "the server answered %d %s (-f)", j->status, j->reason);
    else if (j->aborted == FETCH_ABORT_REDIRECTS)
        snprintf(why, sizeof why, "too many redirects: %d %s with --max-redirs 0",
                 j->status, j->reason);
    else if (j->err == HTTP_E_SCHEME)
        snprintf(why, sizeof why, "unsupported protocol: fetch speaks http:// only "
                 "(TLS is out of scope for bareawait)");
    else if ((j->err == HTTP_E_CONNECT || j->err == HTTP_E_RESET) && e)
        snprintf(why, sizeof why, "%s: %s", http_strerror(j->err), strerror(e));
    else {
        char hint[48];
        timeout_hint(j, hint, sizeof hint);
        snprintf(why, sizeof why, "%s%s", http_strerror(j->err), hint);
    }
    output_progress_end(j->run); /* the bar's line must not swallow ours */
    fprintf(stderr, "fetch: %s: %s\n", j->url, why);
}

/* ---- the output's turn ---- */

/* Lets every done job at the head of the line out, in URL order. */
static void retire(fetch_run *run)
{
    while (run->turn < run->n_jobs && run->jobs[run->turn].done) {
        fetch_job *j = &run->jobs[run->turn];
        if (!j->write_errno && output_flush(j) < 0)
            j->write_errno = errno;
        if (exit_code_of(j) != FETCH_EXIT_OK)
            report(j);
        free(j->pending);
        j->pending = NULL;
        run->turn++;
    }
    /* The next in line writes straight to stdout from now on: out with
     * what it kept so far.  A failure stops it at its next body bytes. */
    if (run->turn < run->n_jobs) {
        fetch_job *next = &run->jobs[run->turn];
        if (!next->write_errno && output_flush(next) < 0)
            next->write_errno = errno;
    }
}

/* ---- one request ---- */

/* http_request.on_head: the final response's head, before its body. */
static int on_head(void *user, const http_response *r)
{
    fetch_job *j = user;
    const fetch_opts *o = j->run->o;
    j->status = r->status;
    snprintf(j->reason, sizeof j->reason, "%s", r->reason);
    j->content_length = r->content_length;
    if (o->verbose)
        output_verbose_response(r);
    if (o->fail && r->status >= 400) {
        j->aborted = FETCH_ABORT_STATUS;
        return -1;
    }
    /* -L --max-redirs 0: the client was told not to follow (it has no way
     * to say "zero"), so a redirect ends here, as curl's exit 47. */
    if (o->follow && o->max_redirs == 0 && r->status >= 300 && r->status < 400 &&
        http_response_header(r, "Location")) {
        j->aborted = FETCH_ABORT_REDIRECTS;
        return -1;
    }
    /* The -o file is created only now, when there is something to put in
     * it; a refused connection leaves no empty file behind. */
    if (j->outfile) {
        j->out_fd = open(j->outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (j->out_fd < 0) {
            j->write_errno = errno;
            return -1;
        }
    }
    if (o->include_head && output_head(j, r) < 0) {
        j->write_errno = errno;
        return -1;
    }
    return 0;
}

/* http_request.sink: body bytes as they arrive. */
static int on_body(void *user, const char *data, size_t len)
{
    fetch_job *j = user;
    j->received += len;
    if (j->write_errno)
        return -1; /* stdout broke while retiring an earlier URL */
    if (output_bytes(j, data, len) < 0) {
        j->write_errno = errno;
        return -1;
    }
    if (j->run->progress)
        output_progress(j->run);
    return 0;
}

/* http_request.on_request: -v shows the request head. */
static void on_request(void *user, const char *head, size_t len)
{
    (void)user;
    output_verbose_request(head, len);
}

/* SUSPENDS.  `response = await client.get(url)` for one job. */
static void fetch_one(fetch_job *j)
{
    fetch_run *run = j->run;
    const fetch_opts *o = run->o;
    http_request req;
    fetch_request_init(j, &req);
    req.sink = on_body;
    req.sink_user = j;
    req.on_head = on_head;
    req.on_request = o->verbose ? on_request : NULL;
    req.user = j;
    j->co = coro_self();
    fetch_trace_awaiting(j, run->n_jobs);
    http_response *resp = NULL;
    errno = 0;
    j->err = http_send(run->client, &req, &resp);
    j->err_errno = errno;
    fetch_request_done(j, &req);
    fetch_trace_received(j, run->n_jobs);
    http_response_free(resp);
    if (j->out_fd >= 0 && close(j->out_fd) < 0 && !j->write_errno)
        j->write_errno = errno; /* e.g. EDQUOT: the data never made it */
    j->out_fd = -1;
}

/* The job's request is over: retire what can be, tell the fetch coroutine. */
static void job_done(fetch_job *j)
{
    fetch_run *run = j->run;
    j->done = true;
    run->running--;
    run->finished++;
    retire(run);
    if (run->waiter)
        coro_wakeup(run->waiter);
}

/* The body of a per-URL coroutine. */
static void *job_coroutine(void *arg)
{
    fetch_job *j = arg;
    fetch_one(j);
    job_done(j);
    return NULL;
}

/* ---- all of them ---- */

/* Gives j a coroutine of its own ("fetch #3"). */
static void spawn_job(fetch_job *j)
{
    char name[24];
    snprintf(name, sizeof name, "fetch #%zu", j->index + 1);
    coro_opts co = {.name = name, .stack_size = FETCH_STACK, .detached = true};
    j->run->running++;
    if (!coro_spawn(job_coroutine, j, &co)) {
        j->err = HTTP_E_NOMEM;
        job_done(j);
    }
}

/* SUSPENDS.  asyncio.gather with a limit: spawns the jobs, at most
 * parallel_max running at once, and parks until all are done.  Every
 * job_done wakes us; the loops check whether it is time to go on. */
static void gather(fetch_run *run)
{
    run->waiter = coro_self();
    for (size_t i = 0; i < run->n_jobs; i++) {
        while (run->running >= (size_t)run->o->parallel_max)
            coro_wait(-1, 0, CORO_NEVER);
        spawn_job(&run->jobs[i]);
    }
    while (run->finished < run->n_jobs)
        coro_wait(-1, 0, CORO_NEVER);
    run->waiter = NULL;
}

/* The job whose coroutine is running, for the client's events. */
static const fetch_job *job_of_self(const fetch_run *run)
{
    const coro_t *self = coro_self();
    for (size_t i = 0; i < run->n_jobs; i++)
        if (run->jobs[i].co == self && !run->jobs[i].done)
            return &run->jobs[i];
    return NULL;
}

/* http_client_opts.on_event: -v's "*" lines and --trace's indented ones. */
static void on_event(void *user, http_event ev, int fd, const char *detail)
{
    fetch_run *run = user;
    if (run->o->verbose)
        output_verbose_event(ev, fd, detail);
    fetch_trace_http_event(job_of_self(run), run->n_jobs, ev, fd, detail);
}

static http_client_opts client_opts(fetch_run *run)
{
    const fetch_opts *o = run->o;
    bool events = o->verbose || o->trace;
    return (http_client_opts){
        .connect_timeout_ms = o->connect_timeout_ms,
        .total_timeout_ms = o->max_time_ms,
        .max_per_host = o->parallel_max, /* the client must not queue below our limit */
        .follow_redirects = o->follow && o->max_redirs != 0,
        .max_redirects = o->max_redirs > 0 ? o->max_redirs : 0,
        .on_event = events ? on_event : NULL,
        .event_user = run,
    };
}

/* Fills in the jobs; whether any of them writes to a file. */
static bool init_jobs(fetch_run *run)
{
    const fetch_opts *o = run->o;
    bool files = false;
    for (size_t i = 0; i < run->n_jobs; i++) {
        fetch_job *j = &run->jobs[i];
        j->run = run;
        j->index = i;
        j->url = o->urls[i];
        j->outfile = i < o->n_outfiles ? o->outfiles[i] : NULL;
        if (j->outfile && strcmp(j->outfile, "-") == 0)
            j->outfile = NULL; /* curl's -o -: stdout */
        j->out_fd = -1;
        j->content_length = -1;
        files = files || j->outfile != NULL;
    }
    return files;
}

/* The exit code: the first failure in URL order. */
static int first_failure(const fetch_run *run)
{
    for (size_t i = 0; i < run->n_jobs; i++) {
        int code = exit_code_of(&run->jobs[i]);
        if (code != FETCH_EXIT_OK)
            return code;
    }
    return FETCH_EXIT_OK;
}

/* SUSPENDS.  The whole command, on the fetch coroutine; the exit code. */
static int fetch_all(const fetch_opts *o)
{
    fetch_run run = {.o = o, .n_jobs = o->n_urls, .start_ns = coro_now()};
    run.jobs = calloc(run.n_jobs, sizeof *run.jobs);
    http_client_opts copts = client_opts(&run);
    run.client = run.jobs ? http_client_open(&copts) : NULL;
    if (!run.client) {
        fprintf(stderr, "fetch: out of memory\n");
        free(run.jobs);
        return FETCH_EXIT_NOMEM;
    }
    fetch_trace_client_opened();
    bool files = init_jobs(&run);
    run.progress = files && !o->silent && isatty(STDERR_FILENO);
    if (run.n_jobs == 1) {
        run.running = 1;
        fetch_one(&run.jobs[0]);
        job_done(&run.jobs[0]);
    } else {
        gather(&run);
    }
    http_client_close(run.client);
    fetch_trace_client_closed();
    output_progress_end(&run);
    fetch_trace_returned(&run);
    int code = first_failure(&run);
    free(run.jobs);
    return code;
}

/* What fetch_spawn hands its coroutine. */
struct fetch_args {
    const fetch_opts *o;
    int *exit_code;
};

static void *fetch_coroutine(void *arg)
{
    struct fetch_args a = *(struct fetch_args *)arg;
    free(arg);
    *a.exit_code = fetch_all(a.o);
    return NULL;
}

coro_t *fetch_spawn(const fetch_opts *o, bool joinable, int *exit_code)
{
    struct fetch_args *a = malloc(sizeof *a);
    if (!a)
        return NULL;
    a->o = o;
    a->exit_code = exit_code;
    coro_opts co = {.name = "fetch", .stack_size = FETCH_STACK, .detached = !joinable};
    coro_t *c = coro_spawn(fetch_coroutine, a, &co);
    if (!c) {
        free(a);
        return NULL;
    }
    fetch_trace_spawned(c, o->n_urls);
    return c;
}
