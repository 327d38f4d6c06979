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
 * stdout, later ones keep their bytes (fetch_spill.c: up to a small window
 * in memory, the rest in an unlinked temporary file, so memory stays
 * bounded whatever the bodies weigh).  When a job is done, every done job
 * at the head of the line is retired (its kept bytes copied out, its -w
 * line and error line printed) and the turn passes on; the new head of the line
 * copies out what it kept so far and writes straight through from then on.
 *
 * --retry: a try that failed in a way curl calls transient (a timeout, or
 * a 408, 429, 500, 502, 503, 504 status) is sent again after 1 s, 2 s,
 * 4 s... (or the server's Retry-After seconds), its partial body thrown
 * away first: an -o file is cut back to empty, kept stdout bytes are
 * forgotten.  Bytes already written to stdout cannot be taken back; then
 * the failure stands and its error line says why it was not retried.
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

/* ---- the output's turn ---- */

/* j's turn has come: out with what it kept. */
static void flush_kept(fetch_job *j)
{
    if (!j->write_errno && output_flush(j) < 0)
        j->write_errno = errno;
}

/* Lets every done job at the head of the line out, in URL order. */
static void retire(fetch_run *run)
{
    while (run->turn < run->n_jobs && run->jobs[run->turn].done) {
        fetch_job *j = &run->jobs[run->turn];
        flush_kept(j);
        if (run->o->write_out && report_write_out(j) < 0 && !j->write_errno)
            j->write_errno = errno;
        if (report_exit_code(j) != FETCH_EXIT_OK)
            report_error(j);
        spill_free(&j->pending);
        run->turn++;
    }
    /* The next in line writes straight to stdout from now on: out with
     * what it kept so far.  A failure stops it at its next body bytes. */
    if (run->turn < run->n_jobs)
        flush_kept(&run->jobs[run->turn]);
}

/* ---- one request ---- */

/* -v: the "<" lines of a head are out; so may its held-back "* Body
 * complete" line be (a redirect's body is read before on_redirect runs). */
static void verbose_head_shown(fetch_job *j)
{
    j->head_unshown = false;
    if (j->body_done[0])
        output_verbose_event(j, HTTP_EV_BODY_DONE, -1, j->body_done);
    j->body_done[0] = '\0';
}

/* -v: an event line, in the order a reader expects: a body's line after
 * its head's. */
static void verbose_event(fetch_job *j, http_event ev, int fd, const char *detail)
{
    if (j && ev == HTTP_EV_HEAD_RECEIVED)
        j->head_unshown = true;
    if (j && ev == HTTP_EV_BODY_DONE && j->head_unshown) {
        snprintf(j->body_done, sizeof j->body_done, "%s", detail ? detail : "");
        return;
    }
    output_verbose_event(j, ev, fd, detail);
}

/* The -o file is created only when there is something to put in it (a
 * head for -i, even a redirect's, or the final head): a refused
 * connection leaves no empty file behind.  A retry keeps it open and
 * cuts it back instead.  0, or -1 with j->write_errno set. */
static int open_outfile(fetch_job *j)
{
    if (j->outfile && j->out_fd < 0) {
        j->out_fd = open(j->outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (j->out_fd < 0) {
            j->write_errno = errno;
            return -1;
        }
    }
    return 0;
}

/* http_request.on_head: the final response's head, before its body. */
static int on_head(void *user, const http_response *r)
{
    fetch_job *j = user;
    const fetch_opts *o = j->run->o;
    note_head(j, r);
    if (o->verbose) {
        output_verbose_response(j, r);
        verbose_head_shown(j);
    }
    if (retry_this_head(j, r)) {
        j->aborted = FETCH_ABORT_RETRY;
        return -1;
    }
    /* -f: the status fails the URL, after -i's head (as curl). */
    bool failed = o->fail && !o->fail_with_body && r->status >= 400;
    if (failed && !o->include_head) {
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
    if (open_outfile(j) < 0)
        return -1;
    if (o->include_head && output_head(j, r) < 0) {
        j->write_errno = errno;
        return -1;
    }
    if (failed) {
        j->aborted = FETCH_ABORT_STATUS;
        return -1;
    }
    return 0;
}

/* http_request.on_redirect: -i writes every hop's head, -v shows it. */
static int on_redirect(void *user, const http_response *hop, const char *next_url)
{
    fetch_job *j = user;
    const fetch_opts *o = j->run->o;
    j->head_bytes += output_head_size(hop);
    note_hop(j, next_url);
    if (o->verbose) {
        output_verbose_response(j, hop);
        verbose_head_shown(j);
    }
    /* Its body was read and dropped; its trailers, if any, follow its
     * head, as curl writes them. */
    if (o->include_head && (open_outfile(j) < 0 || output_head(j, hop) < 0 ||
                            output_trailer(j, hop) < 0)) {
        j->write_errno = errno;
        return -1;
    }
    return 0;
}

/* A body with a NUL byte, on its way to a terminal nobody asked for. */
static bool binary_for_terminal(const fetch_job *j, const char *data, size_t len)
{
    return !j->outfile && !j->explicit_stdout && j->run->stdout_tty && memchr(data, 0, len);
}

/* http_request.sink: body bytes as they arrive. */
static int on_body(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns;
    fetch_job *j = user;
    if (j->write_errno)
        return -1; /* stdout broke while retiring an earlier URL */
    if (binary_for_terminal(j, data, len)) {
        j->aborted = FETCH_ABORT_BINARY;
        return -1;
    }
    j->received += len;
    if (output_bytes(j, data, len) < 0) {
        j->write_errno = errno;
        return -1;
    }
    if (j->run->progress)
        output_progress(j->run);
    return 0;
}

/* http_request.on_request, every hop: -w counts it and keeps its method,
 * -v shows it. */
static void on_request(void *user, const char *head, size_t len)
{
    fetch_job *j = user;
    j->request_bytes += len;
    size_t method_len = strcspn(head, " ");
    if (method_len < sizeof j->method_sent && method_len < len)
        snprintf(j->method_sent, sizeof j->method_sent, "%.*s", (int)method_len, head);
    if (j->run->o->verbose)
        output_verbose_request(j, head, len);
}

/* SUSPENDS.  One try: `response = await client.get(url)`. */
static void try_once(fetch_job *j)
{
    fetch_run *run = j->run;
    http_request req;
    fetch_request_init(j, &req);
    req.sink = on_body;
    req.sink_user = j;
    req.on_head = on_head;
    req.on_redirect = on_redirect;
    req.on_request = on_request;
    req.user = j;
    j->method = req.method;
    note_reset(j);
    j->tries++;
    fetch_trace_awaiting(j, run->n_jobs);
    http_response *resp = NULL;
    errno = 0;
    /* A space in a URL of the command line is refused, as curl refuses
     * it (exit 3): likely a quoting slip.  The client would encode it, as
     * it encodes (like curl) the spaces of a redirect's Location. */
    j->err = strchr(j->url, ' ') ? HTTP_E_URL : http_send(run->client, &req, &resp);
    j->err_errno = errno;
    j->t.end_ns = coro_now();
    /* -i: a chunked body's trailer lines come after it. */
    if (run->o->include_head && j->err == HTTP_OK && !j->write_errno &&
        output_trailer(j, resp) < 0)
        j->write_errno = errno;
    if (run->o->verbose) { /* a hop not followed (too many redirects...) */
        if (j->head_unshown && resp)
            output_verbose_response(j, resp);
        verbose_head_shown(j);
    }
    fetch_request_done(j, &req);
    note_failed_hop(j, resp);
    fetch_trace_received(j, run->n_jobs);
    http_response_free(resp);
}

/* SUSPENDS.  Every try of one URL, until one counts. */
static void fetch_one(fetch_job *j)
{
    j->co = coro_self();
    if (j->aborted != FETCH_ABORT_NO_NAME) {
        for (;;) {
            try_once(j);
            int64_t wait_ms = retry_wait_ms(j);
            if (wait_ms < 0 || !retry_rewind(j))
                break;
            retry_announce(j, wait_ms);
            if (coro_sleep_until(coro_deadline_in(wait_ms)) < 0)
                break; /* cancelled: the last try's failure stands */
        }
    }
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
            coro_park(CORO_NEVER);
        spawn_job(&run->jobs[i]);
    }
    while (run->finished < run->n_jobs)
        coro_park(CORO_NEVER);
    run->waiter = NULL;
}

/* The job whose coroutine is running, for the client's events. */
static fetch_job *job_of_self(fetch_run *run)
{
    const coro_t *self = coro_self();
    for (size_t i = 0; i < run->n_jobs; i++)
        if (run->jobs[i].co == self && !run->jobs[i].done)
            return &run->jobs[i];
    return NULL;
}

/* http_client_opts.on_event: what we track, -v's "*" lines and --trace's
 * indented ones. */
static void on_event(void *user, http_event ev, int fd, const char *detail)
{
    fetch_run *run = user;
    fetch_job *j = job_of_self(run);
    if (j)
        note_event(j, ev, fd, detail);
    if (run->o->verbose)
        verbose_event(j, ev, fd, detail);
    fetch_trace_http_event(j, run->n_jobs, ev, fd, detail);
}

static http_client_opts client_opts(fetch_run *run)
{
    const fetch_opts *o = run->o;
    return (http_client_opts){
        .connect_timeout_ms = o->connect_timeout_ms,
        /* no silence limit unless asked for: curl has none */
        .read_timeout_ms = o->read_timeout_ms > 0 ? o->read_timeout_ms : -1,
        .total_timeout_ms = o->max_time_ms,
        .max_per_host = o->parallel_max, /* the client must not queue below our limit */
        .follow_redirects = o->follow && o->max_redirs != 0,
        /* --max-redirs -1 arrives as INT_MAX */
        .max_redirects = o->max_redirs,
        .on_event = on_event,
        .event_user = run,
        .proxy = o->proxy,
        .no_proxy = o->no_proxy,
    };
}

/* Fills in the jobs; whether any of them writes to stdout, to a file. */
static void init_jobs(fetch_run *run, bool *to_stdout, bool *to_files)
{
    const fetch_opts *o = run->o;
    *to_stdout = *to_files = false;
    for (size_t i = 0; i < run->n_jobs; i++) {
        fetch_job *j = &run->jobs[i];
        j->run = run;
        j->index = i;
        j->url = o->urls[i];
        j->content_length = -1;
        j->upload_fd = -1;
        spill_init(&j->pending);
        output_init_job(j, i < o->n_outfiles ? o->outfiles[i] : NULL);
        *to_files = *to_files || j->outfile != NULL;
        *to_stdout = *to_stdout || j->outfile == NULL;
    }
}

/* The exit code: the first failure in URL order. */
static int first_failure(const fetch_run *run)
{
    for (size_t i = 0; i < run->n_jobs; i++) {
        int code = report_exit_code(&run->jobs[i]);
        if (code != FETCH_EXIT_OK)
            return code;
    }
    return FETCH_EXIT_OK;
}

static void free_jobs(fetch_run *run)
{
    for (size_t i = 0; i < run->n_jobs; i++) {
        fetch_job *j = &run->jobs[i];
        spill_free(&j->pending);
        free(j->last_url);
        free(j->content_type);
        free(j->remote_name);
        free(j->fields);
        free(j->redirect_url);
    }
    free(run->jobs);
}

/* SUSPENDS.  The whole command, on the fetch coroutine; the exit code. */
static int fetch_all(const fetch_opts *o)
{
    fetch_run run = {.o = o, .n_jobs = o->n_urls, .start_ns = coro_now()};
    run.jobs = calloc(run.n_jobs, sizeof *run.jobs);
    http_client_opts copts = client_opts(&run);
    run.client = run.jobs ? http_client_open(&copts) : NULL;
    if (!run.client) {
        /* EINVAL: the proxy (fetch_cli.c checks it first, so rarely). */
        int code = run.jobs && errno == EINVAL ? fetch_bad_proxy(NULL, o->proxy, NULL)
                                               : FETCH_EXIT_NOMEM;
        if (code == FETCH_EXIT_NOMEM)
            fprintf(stderr, "fetch: out of memory\n");
        free(run.jobs);
        return code;
    }
    fetch_trace_client_opened();
    bool to_stdout, to_files;
    init_jobs(&run, &to_stdout, &to_files);
    run.progress = to_files && !o->silent && isatty(STDERR_FILENO);
    run.stdout_tty = to_stdout && isatty(STDOUT_FILENO);
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
    free_jobs(&run);
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
