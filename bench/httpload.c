/* httpload.c - a wrk-like HTTP/1.1 load generator on bareawait.
 *
 *   httpload [-c CONNECTIONS] [-d SECONDS] [-n REQUESTS] [--latency] [--json] URL
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
 * Simple on purpose: one thread, so one core.  wrk's -t spreads the same
 * loop over threads; here that would be one runtime per process.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "httpload_report.h"
#include "switch.h"

#define SAMPLE_NS 100000000 /* Req/Sec is sampled over 100 ms windows */
#define RETRY_PAUSE_MS 10   /* after a failed connect, before trying again */

typedef struct options {
    int connections;      /* -c: concurrent connections, one coroutine each */
    double seconds;       /* -d: measured time; 0 with -n alone */
    uint64_t requests;    /* -n: stop after this many requests; 0 = no limit */
    double warmup_s;      /* -w: warm-up time with -d; <0 = the default */
    double timeout_s;     /* --timeout: connect and read timeout */
    bool latency;         /* --latency: print the distribution */
    bool json;            /* --json: one JSON object instead of the text */
    const char *url;
} options;

/* The run's phases: WARMUP (nothing counted) -> MEASURE -> DONE (workers
 * finish the request in hand and stop; nothing more is counted). */
enum phase { WARMUP, MEASURE, DONE };

static struct {
    options opt;
    http_client *client;
    enum phase phase;
    uint64_t issued;            /* requests started (for -n) */
    uint64_t completed;         /* requests finished, any outcome */
    uint64_t warmup_requests;   /* with -n: this many are the warm-up */
    int64_t t_begin, t_end;     /* the measured window, coro_now() */
    struct rusage ru_begin, ru_end;
    hist latency_ns;
    hist rate;
    load_result res;
} run;

/* ---- the measured window ---- */

static void begin_measure(void)
{
    run.phase = MEASURE;
    hist_reset(&run.latency_ns);
    hist_reset(&run.rate);
    run.t_begin = coro_now();
    getrusage(RUSAGE_SELF, &run.ru_begin);
}

static void end_measure(void)
{
    if (run.phase == DONE)
        return;
    run.phase = DONE;
    run.t_end = coro_now();
    getrusage(RUSAGE_SELF, &run.ru_end);
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

static void record(int err, const http_response *resp, uint64_t body, int64_t ns)
{
    run.completed++;
    if (run.phase == WARMUP && run.warmup_requests && run.completed >= run.warmup_requests)
        begin_measure();
    if (run.phase != MEASURE)
        return;
    if (err) {
        run.res.errors[report_error_slot(err)]++;
        return;
    }
    run.res.responses++;
    run.res.bytes += head_size(resp) + body;
    int s = resp->status;
    run.res.by_status[s >= 0 && s < LOAD_MAX_STATUS ? s : 0]++;
    hist_record(&run.latency_ns, (uint64_t)ns);
}

static bool may_start_another(void)
{
    if (run.phase == DONE)
        return false;
    if (run.opt.requests && run.issued >= run.opt.requests)
        return false;
    run.issued++;
    return true;
}

/* One connection's coroutine: request after request until told to stop. */
static void *worker(void *arg)
{
    (void)arg;
    uint64_t body = 0;
    http_request req = {.method = "GET", .url = run.opt.url,
                        .sink = count_sink, .sink_user = &body};
    while (may_start_another()) {
        http_response *resp;
        body = 0;
        int64_t t0 = coro_now();
        int err = http_send(run.client, &req, &resp);
        record(err, resp, body, coro_now() - t0);
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
    if (run.phase != MEASURE || run.opt.seconds <= 0)
        return CORO_NEVER;
    return run.t_begin + (int64_t)(run.opt.seconds * 1e9);
}

static void *ticker(void *arg)
{
    (void)arg;
    if (run.phase == WARMUP && !run.warmup_requests) {
        if (coro_sleep_until(coro_now() + (int64_t)(run.opt.warmup_s * 1e9)) < 0)
            return NULL;
        begin_measure();
    }
    uint64_t last = run.completed;
    int64_t next = coro_now() + SAMPLE_NS;
    while (run.phase != DONE) {
        int64_t end = measure_end();
        if (coro_sleep_until(next < end ? next : end) < 0)
            return NULL; /* cancelled: a -n run is over */
        if (coro_now() >= measure_end()) {
            end_measure();
            break;
        }
        if (run.phase == MEASURE)
            hist_record(&run.rate, (run.completed - last) * (1000000000 / SAMPLE_NS));
        last = run.completed;
        next += SAMPLE_NS;
    }
    return NULL;
}

/* ---- the run ---- */

/* One request before the load: a URL that cannot be reached is reported
 * plainly instead of as a million errors. */
static int probe(void)
{
    uint64_t body = 0;
    http_request req = {.url = run.opt.url, .sink = count_sink, .sink_user = &body};
    http_response *resp;
    errno = 0;
    int err = http_send(run.client, &req, &resp);
    http_response_free(resp);
    if (err == 0)
        return 0;
    fprintf(stderr, "httpload: cannot reach %s: %s", run.opt.url, http_strerror(err));
    if (errno && (err == HTTP_E_CONNECT || err == HTTP_E_RESET))
        fprintf(stderr, " (%s)", strerror(errno));
    fprintf(stderr, "\n");
    return -1;
}

static void *load(void *arg)
{
    int *status = arg;
    if (probe() < 0) {
        *status = 1;
        return NULL;
    }
    if (run.opt.warmup_s == 0 && !run.warmup_requests)
        begin_measure(); /* no warm-up: the very first request counts */
    coro_t *tick = coro_spawn(ticker, NULL, &(coro_opts){.name = "ticker"});
    coro_t **workers = calloc((size_t)run.opt.connections, sizeof *workers);
    if (!tick || !workers) {
        perror("httpload");
        exit(1);
    }
    for (int i = 0; i < run.opt.connections; i++) {
        workers[i] = coro_spawn(worker, NULL, &(coro_opts){.name = "worker"});
        if (!workers[i]) {
            perror("httpload: spawning a worker");
            exit(1);
        }
    }
    for (int i = 0; i < run.opt.connections; i++)
        coro_join(workers[i], NULL);
    end_measure(); /* a -n run ends when its last request does */
    coro_cancel(tick);
    coro_join(tick, NULL);
    free(workers);
    *status = run.res.responses ? 0 : 1;
    return NULL;
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
    fprintf(out,
        "usage: httpload [-c CONNECTIONS] [-d SECONDS] [-n REQUESTS] [--latency] [--json] URL\n"
        "  -c, --connections N  connections kept open, one coroutine each (default 10)\n"
        "  -d, --duration T     measure for T seconds: 10, 2.5, 500ms, 1m (default 10)\n"
        "  -n, --requests N     stop after N requests (then no -d limit unless given)\n"
        "  -w, --warmup T       warm-up before measuring (default 10%% of -d, at most 0.5s;\n"
        "                       with -n the first 5%% of the requests)\n"
        "      --timeout T      connect and read timeout (default 2s)\n"
        "      --latency        print the latency distribution\n"
        "      --json           print one JSON object instead\n"
        "  URL is http://host[:port]/path (loopback servers only, please)\n");
}

/* "10", "2.5", "10s", "500ms", "1m" -> seconds.  0, or -1 if malformed. */
static int parse_time(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        v /= 1000;
    else if (strcmp(end, "m") == 0)
        v *= 60;
    else if (*end && strcmp(end, "s") != 0)
        return -1;
    *out = v;
    return 0;
}

/* A positive whole number.  0, or -1 if malformed. */
static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"connections", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, 'd'},
        {"requests", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 'T'},
        {"latency", no_argument, NULL, 'L'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    *o = (options){.connections = 10, .seconds = -1, .warmup_s = -1, .timeout_s = 2};
    uint64_t n;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:d:n:w:h", longs, NULL)) != -1) {
        switch (ch) {
        case 'c':
            if (parse_count(optarg, &n) < 0 || n > 1000000)
                return -1;
            o->connections = (int)n;
            break;
        case 'd': if (parse_time(optarg, &o->seconds) < 0 || o->seconds == 0) return -1; break;
        case 'n': if (parse_count(optarg, &o->requests) < 0) return -1; break;
        case 'w': if (parse_time(optarg, &o->warmup_s) < 0) return -1; break;
        case 'T': if (parse_time(optarg, &o->timeout_s) < 0) return -1; break;
        case 'L': o->latency = true; break;
        case 'J': o->json = true; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc - 1)
        return -1;
    o->url = argv[optind];
    if (o->seconds < 0)
        o->seconds = o->requests ? 0 : 10;
    return 0;
}

/* Decides the warm-up: a time with -d, a number of requests with -n. */
static void plan_warmup(options *o)
{
    if (o->requests) {
        run.warmup_requests = o->requests / 20; /* 0 for a tiny -n: none */
        o->warmup_s = 0;
    } else if (o->warmup_s < 0) {
        o->warmup_s = o->seconds / 10 < 0.5 ? o->seconds / 10 : 0.5;
    }
}

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

static void fill_result(void)
{
    load_result *r = &run.res;
    r->url = run.opt.url;
    r->backend = ba_switch_backend_name;
    r->connections = run.opt.connections;
    r->warmup_s = run.warmup_requests ? 0 : run.opt.warmup_s;
    r->warmup_requests = run.warmup_requests;
    r->planned_s = run.opt.seconds;
    r->planned_requests = run.opt.requests;
    r->seconds = (double)(run.t_end - run.t_begin) / 1e9;
    r->cpu_user_s = seconds_of(run.ru_end.ru_utime) - seconds_of(run.ru_begin.ru_utime);
    r->cpu_sys_s = seconds_of(run.ru_end.ru_stime) - seconds_of(run.ru_begin.ru_stime);
    r->latency_ns = &run.latency_ns;
    r->rate = &run.rate;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv, &run.opt) < 0) {
        usage(stderr);
        return 2;
    }
    plan_warmup(&run.opt);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN); /* a server gone away is EPIPE, not death */
    hist_reset(&run.latency_ns);
    hist_reset(&run.rate);
    int64_t timeout_ms = (int64_t)(run.opt.timeout_s * 1000);
    http_client_opts copts = {
        .max_per_host = run.opt.connections,
        .connect_timeout_ms = timeout_ms > 0 ? timeout_ms : -1,
        .read_timeout_ms = timeout_ms > 0 ? timeout_ms : -1,
    };
    run.client = http_client_open(&copts);
    if (!run.client) {
        perror("httpload");
        return 1;
    }
    int status = 1;
    if (!coro_spawn(load, &status, &(coro_opts){.name = "load"}) || coro_run() < 0) {
        perror("httpload");
        return 1;
    }
    http_client_close(run.client);
    if (status == 0 || run.phase == DONE) {
        fill_result();
        if (run.opt.json)
            report_json(stdout, &run.res);
        else
            report_text(stdout, &run.res, run.opt.latency);
    }
    return status;
}
