/* httpload.c - a wrk-like HTTP/1.1 load generator on bareawait.
 *
 *   httpload [-t THREADS] [-c CONNECTIONS] [-d SECONDS] [-n REQUESTS] [--latency] [--json] URL
 *
 * It is this Python, with one coroutine per connection:
 *
 *     async with httpx.AsyncClient(limits=Limits(max_connections=c)) as client:
 *         async def worker():
 *             while not done:
 *                 t0 = now(); await client.get(url); record(now() - t0)
 *         await asyncio.gather(*(worker() for _ in range(c)))
 *
 * The c workers share one http_client whose per-host limit is c, so each
 * keeps a kept-alive connection busy; bodies go to a sink that only counts
 * them.  A warm-up comes first (the first 10% of -d, at most 0.5 s, or the
 * first 5% of -n) and is counted nowhere; then every response's latency
 * goes into a log-bucketed histogram (httpload_hist.h) and the process's
 * CPU time is read at both ends of the window.  Output: httpload_report.h.
 *
 * With -t N (wrk's -t) that loop runs on N threads (threads.h), each with
 * its own bareawait runtime and its own http_client, the connections
 * spread over them: c/N each, the first c%N threads one more.  Thread 0 is
 * the main thread, so -t 1 starts no thread at all.  On the way of a
 * request the threads share nothing but an atomic load of the phase (and,
 * with -n, an atomic add to the count of requests started): each counts
 * into its own struct loader, and main() adds those up once every thread
 * has been joined.  The clock is thread 0's: its ticker opens
 * the window (when every thread has probed the server and the warm-up is
 * over) and closes it; with -n, the request that ends the warm-up opens
 * it, on whichever thread, and the last thread to finish closes it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "httpload_args.h"
#include "httpload_report.h"
#include "switch.h"
#include "threads.h"

#define SAMPLE_NS 100000000 /* Req/Sec is sampled over 100 ms windows */
#define RETRY_PAUSE_MS 10   /* after a failed connect, before trying again */
#define READY_POLL_MS 1     /* thread 0 waiting for the others' probes */

/* The run's phases: WARMUP (nothing counted) -> MEASURE -> DONE (workers
 * finish the request in hand and stop; nothing more is counted).  Every
 * thread may read the phase at any time; it only moves forward, in
 * begin_measure and end_measure. */
enum phase { WARMUP, MEASURE, DONE };

/* What the threads share.  The window's ends are written under `moving`,
 * before the release store of the phase that publishes them; a thread
 * that has loaded MEASURE (acquire) may read t_begin, and main() reads
 * the rest after joining every thread. */
static struct {
    options opt;
    alignas(64) _Atomic int phase; /* enum phase; read by every request */
    alignas(64) atomic_uint_fast64_t issued; /* requests started, all threads (-n) */
    atomic_uint_fast64_t warmed; /* with -n: requests finished in the warm-up */
    atomic_int ready;           /* threads whose probe succeeded */
    atomic_int failed;          /* a thread could not start: the run is void */
    atomic_int loading;         /* threads whose workers are not all done */
    pthread_mutex_t moving;     /* held while the phase moves */
    int64_t t_begin, t_end;     /* the measured window, coro_now() */
    struct rusage ru_begin, ru_end;
} run = {.moving = PTHREAD_MUTEX_INITIALIZER};

/* One thread's load: its runtime's coroutines use only this and `run`. */
typedef struct loader {
    int index;              /* 0 = the main thread, the clock */
    int connections;        /* this thread's share of -c */
    http_client *client;    /* this thread's own */
    uint64_t completed;     /* requests finished here, any outcome, any phase */
    hist latency_ns;        /* responses in the window */
    hist rate;              /* this thread's Req/Sec samples */
    load_result res;        /* the counts only: responses, bytes, errors */
} loader;

/* ---- the measured window ---- */

static enum phase phase_now(void)
{
    return atomic_load_explicit(&run.phase, memory_order_acquire);
}

static void begin_measure(void)
{
    pthread_mutex_lock(&run.moving);
    if (atomic_load_explicit(&run.phase, memory_order_relaxed) == WARMUP) {
        run.t_begin = coro_now();
        getrusage(RUSAGE_SELF, &run.ru_begin);
        atomic_store_explicit(&run.phase, MEASURE, memory_order_release);
    }
    pthread_mutex_unlock(&run.moving);
}

static void end_measure(void)
{
    pthread_mutex_lock(&run.moving);
    enum phase was = atomic_load_explicit(&run.phase, memory_order_relaxed);
    if (was != DONE) {
        run.t_end = coro_now();
        getrusage(RUSAGE_SELF, &run.ru_end);
        if (was == WARMUP) { /* never opened: an empty window */
            run.t_begin = run.t_end;
            run.ru_begin = run.ru_end;
        }
        atomic_store_explicit(&run.phase, DONE, memory_order_release);
    }
    pthread_mutex_unlock(&run.moving);
}

/* A thread cannot take part: the run stops everywhere, and main() prints
 * no report. */
static void give_up(void)
{
    atomic_store(&run.failed, 1);
    end_measure();
}

/* ---- one request ---- */

/* Where streamed body bytes go: only counted. */
static int count_sink(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns;
    (void)data;
    *(uint64_t *)user += len;
    return 0;
}

/* The size of the head as sent, rebuilt from its parsed parts (exact for
 * the usual "Name: value" spelling; the client keeps no raw copy). */
static uint64_t head_size(const http_response *r)
{
    uint64_t n = strlen("HTTP/1.1 200 ") + strlen(r->reason) + 2 + 2;
    for (size_t i = 0; i < r->n_headers; i++)
        n += strlen(r->headers[i].name) + 2 + strlen(r->headers[i].value) + 2;
    return n;
}

static void record(loader *l, int err, const http_response *resp, uint64_t body, int64_t ns)
{
    l->completed++;
    enum phase p = phase_now();
    /* With -n the warm-up is counted over all threads; the request that
     * ends it is the first one measured. */
    if (p == WARMUP && run.opt.warmup_requests &&
        atomic_fetch_add_explicit(&run.warmed, 1, memory_order_relaxed) + 1 >=
            run.opt.warmup_requests) {
        begin_measure();
        p = phase_now();
    }
    if (p != MEASURE)
        return;
    if (err) {
        l->res.errors[report_error_slot(err)]++;
        return;
    }
    l->res.responses++;
    l->res.bytes += head_size(resp) + body;
    int s = resp->status;
    l->res.by_status[s >= 0 && s < LOAD_MAX_STATUS ? s : 0]++;
    hist_record(&l->latency_ns, (uint64_t)ns);
}

static bool may_start_another(void)
{
    if (phase_now() == DONE)
        return false;
    return !run.opt.requests ||
           atomic_fetch_add_explicit(&run.issued, 1, memory_order_relaxed) < run.opt.requests;
}

/* One connection's coroutine: request after request until told to stop. */
static void *worker(void *arg)
{
    loader *l = arg;
    uint64_t body = 0;
    http_request req = {.method = "GET", .url = run.opt.url,
                        .sink = count_sink, .sink_user = &body};
    while (may_start_another()) {
        http_response *resp;
        body = 0;
        int64_t t0 = coro_now();
        int err = http_send(l->client, &req, &resp);
        record(l, err, resp, body, coro_now() - t0);
        http_response_free(resp);
        if (err == HTTP_E_CANCELLED)
            break;
        /* A server that refuses connections is not hammered in a busy loop. */
        if ((err == HTTP_E_CONNECT || err == HTTP_E_CONNECT_TIMEOUT) &&
            coro_sleep_until(coro_deadline_in(RETRY_PAUSE_MS)) < 0)
            break;
    }
    return NULL;
}

/* ---- the clock: warm-up, Req/Sec samples, the end of a -d run ---- */

/* When the measured window closes: CORO_NEVER before it opens or without -d. */
static int64_t measure_end(void)
{
    if (phase_now() != MEASURE || run.opt.seconds <= 0)
        return CORO_NEVER;
    return run.t_begin + (int64_t)(run.opt.seconds * 1e9);
}

/* Every thread's: samples its Req/Sec; thread 0's also times the warm-up
 * of a -d run and closes its window. */
static void *ticker(void *arg)
{
    loader *l = arg;
    bool clock = l->index == 0;
    if (clock && phase_now() == WARMUP && !run.opt.warmup_requests) {
        if (coro_sleep_until(coro_now() + (int64_t)(run.opt.warmup_s * 1e9)) < 0)
            return NULL;
        begin_measure();
    }
    uint64_t last = l->completed;
    int64_t next = coro_now() + SAMPLE_NS;
    while (phase_now() != DONE) {
        int64_t end = clock ? measure_end() : CORO_NEVER;
        if (coro_sleep_until(next < end ? next : end) < 0)
            return NULL; /* cancelled: this thread's workers are done */
        if (clock && coro_now() >= measure_end()) {
            end_measure();
            break;
        }
        if (phase_now() == MEASURE)
            hist_record(&l->rate, (l->completed - last) * (1000000000 / SAMPLE_NS));
        last = l->completed;
        next += SAMPLE_NS;
    }
    return NULL;
}

/* ---- one thread's run ---- */

/* One request before the load: a URL that cannot be reached is reported
 * plainly (once, by the first thread to find out) instead of as a million
 * errors. */
static int probe(loader *l)
{
    uint64_t body = 0;
    http_request req = {.url = run.opt.url, .sink = count_sink, .sink_user = &body};
    http_response *resp;
    errno = 0;
    int err = http_send(l->client, &req, &resp);
    http_response_free(resp);
    if (err == 0)
        return 0;
    if (atomic_exchange(&run.failed, 1))
        return -1;
    fprintf(stderr, "httpload: cannot reach %s: %s", run.opt.url, http_strerror(err));
    if (errno && (err == HTTP_E_CONNECT || err == HTTP_E_RESET))
        fprintf(stderr, " (%s)", strerror(errno));
    fprintf(stderr, "\n");
    return -1;
}

/* Thread 0's: the window opens only once every thread is connected.
 * The others load meanwhile: that is warm-up.  0, or -1 if a thread
 * failed. */
static int wait_for_threads(void)
{
    while (atomic_load(&run.ready) < run.opt.threads)
        if (atomic_load(&run.failed) || coro_sleep_until(coro_deadline_in(READY_POLL_MS)) < 0)
            return -1;
    return atomic_load(&run.failed) ? -1 : 0;
}

/* The last thread to finish closes a -n window: a -n run ends when its
 * last request does.  (A -d run is closed by thread 0's ticker already.) */
static void finished(void)
{
    if (atomic_fetch_sub(&run.loading, 1) == 1)
        end_measure();
}

static void spawn_workers(loader *l, coro_t **workers)
{
    for (int i = 0; i < l->connections; i++) {
        workers[i] = coro_spawn(worker, l, &(coro_opts){.name = "worker"});
        if (!workers[i]) {
            perror("httpload: spawning a worker");
            exit(1);
        }
    }
}

/* Closes the client as soon as the load is over: its pool's reaper, a
 * coroutine that sleeps until the idle connections time out, would
 * otherwise keep coro_run going that long. */
static void close_client(loader *l)
{
    http_client_close(l->client);
    l->client = NULL;
}

static void *load(void *arg)
{
    loader *l = arg;
    bool reached = probe(l) == 0;
    if (reached)
        atomic_fetch_add(&run.ready, 1);
    if (!reached || (l->index == 0 && wait_for_threads() < 0)) {
        give_up();
        finished();
        close_client(l);
        return NULL;
    }
    if (l->index == 0 && run.opt.warmup_s == 0 && !run.opt.warmup_requests)
        begin_measure(); /* no warm-up: the very first request counts */
    coro_t *tick = coro_spawn(ticker, l, &(coro_opts){.name = "ticker"});
    coro_t **workers = calloc((size_t)l->connections, sizeof *workers);
    if (!tick || !workers) {
        perror("httpload");
        exit(1);
    }
    spawn_workers(l, workers);
    for (int i = 0; i < l->connections; i++)
        coro_join(workers[i], NULL);
    finished();
    coro_cancel(tick);
    coro_join(tick, NULL);
    free(workers);
    close_client(l);
    return NULL;
}

/* A thread's body: its own client and runtime, torn down before it ends. */
static void *run_thread(void *arg)
{
    loader *l = arg;
    int64_t timeout_ms = (int64_t)(run.opt.timeout_s * 1000);
    http_client_opts copts = {
        .max_per_host = l->connections,
        .connect_timeout_ms = timeout_ms > 0 ? timeout_ms : -1,
        .read_timeout_ms = timeout_ms > 0 ? timeout_ms : -1,
    };
    l->client = http_client_open(&copts);
    if (!l->client || !coro_spawn(load, l, &(coro_opts){.name = "load"}) || coro_run() < 0) {
        perror("httpload");
        give_up();
    }
    if (l->client) /* load() did not run */
        http_client_close(l->client);
    return NULL;
}

/* ---- the report ---- */

/* Many connections need many fds: take the hard limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static double seconds_of(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Adds one thread's counts to the run's. */
static void add_counts(load_result *into, const load_result *from)
{
    into->responses += from->responses;
    into->bytes += from->bytes;
    for (int i = 0; i < LOAD_ERROR_SLOTS; i++)
        into->errors[i] += from->errors[i];
    for (int s = 0; s < LOAD_MAX_STATUS; s++)
        into->by_status[s] += from->by_status[s];
}

static void fill_result(load_result *r, const loader *ls, hist *latency_ns, hist *rate)
{
    const options *o = &run.opt;
    for (int i = 0; i < o->threads; i++) {
        add_counts(r, &ls[i].res);
        hist_merge(latency_ns, &ls[i].latency_ns);
        hist_merge(rate, &ls[i].rate);
    }
    r->url = o->url;
    r->backend = ba_switch_backend_name();
    r->threads = o->threads;
    r->connections = o->connections;
    r->warmup_s = o->warmup_requests ? 0 : o->warmup_s;
    r->warmup_requests = o->warmup_requests;
    r->planned_s = o->seconds;
    r->planned_requests = o->requests;
    r->seconds = (double)(run.t_end - run.t_begin) / 1e9;
    r->cpu_user_s = seconds_of(run.ru_end.ru_utime) - seconds_of(run.ru_begin.ru_utime);
    r->cpu_sys_s = seconds_of(run.ru_end.ru_stime) - seconds_of(run.ru_begin.ru_stime);
    r->latency_ns = latency_ns;
    r->rate = rate;
}

static loader *make_loaders(int n, int connections)
{
    loader *ls = calloc((size_t)n, sizeof *ls);
    if (!ls)
        return NULL;
    for (int i = 0; i < n; i++) {
        ls[i].index = i;
        ls[i].connections = connections / n + (i < connections % n);
        hist_reset(&ls[i].latency_ns);
        hist_reset(&ls[i].rate);
    }
    return ls;
}

/* Runs the load on every thread and prints the merged report.  The exit
 * status. */
static int run_and_report(loader *ls, void **args)
{
    int n = run.opt.threads;
    for (int i = 0; i < n; i++)
        args[i] = &ls[i];
    if (threads_run(n, run.opt.pinned ? run.opt.cpus : NULL, run_thread, args) < 0) {
        /* Threads already started still use ls: no freeing, no return. */
        fprintf(stderr, "httpload: cannot start %d threads: %s\n", n, strerror(errno));
        exit(1);
    }
    if (atomic_load(&run.failed))
        return 1;
    static load_result res;
    static hist latency_ns, rate;
    hist_reset(&latency_ns);
    hist_reset(&rate);
    fill_result(&res, ls, &latency_ns, &rate);
    if (run.opt.json)
        report_json(stdout, &res);
    else
        report_text(stdout, &res, run.opt.latency);
    return res.responses ? 0 : 1;
}

int main(int argc, char **argv)
{
    int rc = args_parse(argc, argv, &run.opt);
    if (rc < 0) {
        if (rc == -1)
            args_usage(stderr);
        return 2;
    }
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN); /* a server gone away is EPIPE, not death */
    atomic_init(&run.loading, run.opt.threads);
    loader *ls = make_loaders(run.opt.threads, run.opt.connections);
    void **args = calloc((size_t)run.opt.threads, sizeof *args);
    int status = 1;
    if (ls && args)
        status = run_and_report(ls, args);
    else
        perror("httpload");
    free(ls);
    free(args);
    return status;
}
