/* gateway.c - the seed's FastAPI endpoint as a program:
 *
 *     gateway --upstream http://HOST:PORT [--listen ADDR:PORT] [-t N]
 *             [--cpus LIST] [--timeout MS] [--trace]
 *
 * Each of the -t threads runs a runtime of its own with everything of
 * its own: one http_client (the shared AsyncClient of the seed, opened
 * once per thread), one http_server (its own SO_REUSEPORT listener when
 * N > 1: the kernel spreads the connections) and one stop watcher.
 * Threads share nothing but the stop eventfds.
 *
 * Stopping (bench/server_threads.c, shared with bench/serve): SIGINT and
 * SIGTERM reach thread 0's signalfd only; it tells every thread, and each
 * calls http_server_stop with a deadline DRAIN_MS away: no more accepts,
 * idle connections closed, requests in flight finished.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bareawait/server.h>
#include "gateway.h"
#include "server_threads.h"
#include "threads.h"

#define DRAIN_MS 5000 /* how long requests in flight get once told to stop */

typedef struct options {
    const char *upstream;
    const char *listen;
    int threads;
    int cpus[THREADS_MAX];
    bool pinned;          /* --cpus given */
    int64_t timeout_ms;   /* the upstream's connect and read timeouts */
    bool trace;
} options;

static void usage(FILE *out)
{
    fputs(
"NAME\n"
"    gateway - the seed's FastAPI endpoint: GET /path awaits GET UPSTREAM/path\n"
"\n"
"SYNOPSIS\n"
"    gateway --upstream http://HOST:PORT [--listen ADDR:PORT] [-t N]\n"
"            [--cpus LIST] [--timeout MS] [--trace]\n"
"\n"
"DESCRIPTION\n"
"    Answers GET and HEAD by sending the same request, path and query\n"
"    included, to the upstream through one client shared by every\n"
"    connection of a thread (kept-alive connections), and streams the\n"
"    answer back as it comes: the upstream's status, Content-Type and body\n"
"    (with its Content-Length when it sent one, chunked otherwise).  Memory\n"
"    per request stays bounded whatever the body's size.  Other methods get\n"
"    405.  An upstream that cannot be reached, resets or sends something\n"
"    that is not HTTP gives 502; one that times out gives 504; both with a\n"
"    one-line text/plain body naming the cause.  One that fails in the\n"
"    middle of a body cuts the answer short (the connection is closed).\n"
"\n"
"OPTIONS\n"
"    --upstream URL   where requests go: http://HOST:PORT (required)\n"
"    --listen A:P     where to listen: 127.0.0.1:8080 by default; [::1]:8080\n"
"                     for IPv6; port 0 picks a free one (only with -t 1)\n"
"    -t N             N threads (1..256), each with its own runtime, client\n"
"                     and SO_REUSEPORT listener; 1 by default\n"
"    --cpus LIST      pin thread i to the i-th CPU of LIST (taskset -c's\n"
"                     syntax: 0,1 or 0-3)\n"
"    --timeout MS     the upstream's connect timeout and longest silence\n"
"                     while reading (504 past it); 30000 by default\n"
"    --trace          per request, on stderr, the seed's seven steps as the\n"
"                     handler goes through them, tagged with the request\n"
"                     and connection, among the other connections' events\n"
"    -h, --help       this text\n"
"\n"
"SIGNALS\n"
"    SIGINT, SIGTERM  stop accepting, close idle connections, let requests\n"
"                     in flight finish for up to 5 s, then exit 0\n"
"\n"
"EXIT STATUS\n"
"    0 stopped by a signal, 1 could not start or serve, 2 bad usage\n", out);
}

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "gateway: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\ngateway: try 'gateway --help'\n");
    return -1;
}

/* "--name VALUE" or "--name=VALUE": the value, advancing *i; NULL if arg
 * is not that option. */
static const char *option_value(char **argv, int argc, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

static int parse_timeout(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 86400000)
        return bad_usage("--timeout wants milliseconds from 1 to 86400000, not '%s'", s);
    *out = v;
    return 0;
}

/* 0 to run, 1 for --help, -1 for bad usage (said on stderr). */
static int parse_args(int argc, char **argv, options *o, const char **cpus)
{
    for (int i = 1; i < argc; i++) {
        bool missing = false;
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
        if (!strcmp(argv[i], "--trace"))
            o->trace = true;
        else if ((v = option_value(argv, argc, &i, "--upstream", &missing)))
            o->upstream = v;
        else if ((v = option_value(argv, argc, &i, "--listen", &missing)))
            o->listen = v;
        else if ((v = option_value(argv, argc, &i, "--cpus", &missing)))
            *cpus = v;
        else if ((v = option_value(argv, argc, &i, "--timeout", &missing))) {
            if (parse_timeout(v, &o->timeout_ms) < 0)
                return -1;
        } else if ((v = option_value(argv, argc, &i, "-t", &missing))) {
            if ((o->threads = threads_parse_count("gateway", v)) < 0)
                return -1;
        } else if (missing)
            return bad_usage("%s wants a value", argv[i]);
        else
            return bad_usage("unknown option '%s'", argv[i]);
    }
    return 0;
}

/* The options as a whole: what parse_args cannot see one at a time. */
static int check_options(options *o, const char *cpus)
{
    char err[160];
    if (!o->upstream)
        return bad_usage("%s", "--upstream http://HOST:PORT is required");
    if (gateway_check_upstream(o->upstream, err, sizeof err) < 0) {
        fprintf(stderr, "gateway: --upstream '%s': %s\ngateway: try 'gateway --help'\n",
                o->upstream, err);
        return -1;
    }
    size_t n = strlen(o->listen);
    if (o->threads > 1 && n >= 2 && strcmp(o->listen + n - 2, ":0") == 0)
        return bad_usage("--listen %s: port 0 would give each thread a port of its own; "
                         "name a port with -t", o->listen);
    if (cpus) {
        if (threads_cpus_option("gateway", cpus, o->threads, o->cpus) < 0)
            return -1;
        o->pinned = true;
    }
    return 0;
}

/* ---- the threads (server_threads.h runs them) ---- */

/* What every thread's open and close share: each touches only its own
 * entry of gateways[]. */
typedef struct app {
    const options *o;
    gateway **gateways;   /* one per thread: its client */
} app;

/* Thread i's client and server. */
static http_server *open_thread(int i, void *user)
{
    app *a = user;
    const options *o = a->o;
    gateway_config cfg = {.upstream = o->upstream, .connect_timeout_ms = o->timeout_ms,
                          .read_timeout_ms = o->timeout_ms, .trace = o->trace,
                          .thread_index = i, .threads = o->threads};
    gateway *g = a->gateways[i] = gateway_open(&cfg);
    if (!g) {
        fprintf(stderr, "gateway: cannot open the client: %s\n", strerror(errno));
        return NULL;
    }
    http_server_opts so = {.listen = o->listen, .reuse_port = o->threads > 1,
                           .conn_name = "gateway-conn",
                           .on_event = o->trace ? gateway_server_event : NULL, .event_user = g};
    http_server *s = http_server_open(&so, gateway_handle, g);
    if (!s) {
        fprintf(stderr, "gateway: cannot listen on %s: %s\n", o->listen, strerror(errno));
        return NULL;
    }
    if (i == 0)
        fprintf(stderr, "gateway: listening on %s (port %d), %d thread%s, upstream %s\n",
                o->listen, http_server_port(s), o->threads, o->threads > 1 ? "s" : "",
                o->upstream);
    return s;
}

static void close_thread(int i, void *user)
{
    app *a = user;
    gateway_close(a->gateways[i]);
    a->gateways[i] = NULL;
}

int main(int argc, char **argv)
{
    static options o = {.listen = "127.0.0.1:8080", .threads = 1};
    const char *cpus = NULL;
    int rc = parse_args(argc, argv, &o, &cpus);
    if (rc == 1) {
        usage(stdout);
        return 0;
    }
    if (rc < 0 || check_options(&o, cpus) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN); /* a client gone away is EPIPE, not death */
    app a = {.o = &o, .gateways = calloc((size_t)o.threads, sizeof *a.gateways)};
    if (!a.gateways) {
        perror("gateway");
        return 1;
    }
    server_threads st = {.prog = "gateway", .threads = o.threads,
                         .cpus = o.pinned ? o.cpus : NULL, .drain_ms = DRAIN_MS,
                         .open = open_thread, .close = close_thread, .user = &a};
    int status = server_threads_run(&st);
    free(a.gateways);
    return status;
}
