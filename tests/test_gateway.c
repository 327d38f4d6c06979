/* test_gateway.c - examples/gateway end to end: the endpoint in-process
 * (gateway_proxy.c between an upstream http_server and clients), and the
 * built program driven from outside for its flags and SIGTERM.
 *
 *     test_gateway GATEWAY_BINARY
 *
 * The upstream serves the table `routes` below: bodies of 0 B, 13 B,
 * 16 KiB and 1 MiB with a length, chunked ones, other statuses.  Every
 * body byte is a function of its route and offset, so a client checks
 * each one as it arrives (bounded memory, and a corrupted byte is caught
 * where it is).  Each case is a coroutine with a runtime of its own, and
 * must leave as many fds open as it found.
 */
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "check.h"
#include "rawsrv.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/server.h>
#include "gateway.h"

static const char *gateway_binary;

/* ---- the upstream ---- */

typedef struct route {
    const char *path;
    int status;
    const char *type;  /* NULL: no Content-Type */
    long size;
    bool chunked;      /* no Content-Length: the gateway must chunk it too */
} route;

static const route routes[] = {
    {"/empty", 200, "text/plain", 0, false},
    {"/13", 200, "text/plain", 13, false},
    {"/16k", 200, "application/octet-stream", 16384, false},
    {"/1m", 200, "application/octet-stream", 1L << 20, false},
    {"/chunked", 200, "text/csv", 100001, true},
    {"/chunked-empty", 200, "text/plain", 0, true},
    {"/missing?q=1", 404, "text/html", 27, false},
    {"/teapot", 418, NULL, 5, true},
    {"/nocontent", 204, NULL, 0, false},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static unsigned char byte_at(size_t route_index, size_t offset)
{
    return (unsigned char)(offset * 131 + route_index * 17 + (offset >> 9));
}

/* Sends route r's body in pieces of up to 4 KiB, as an upstream would. */
static int serve_route(http_server_reply *reply, size_t r)
{
    const route *rt = &routes[r];
    if (rt->status == 204)
        return http_reply(reply, 204, NULL, NULL, 0);
    if (http_reply_start(reply, rt->status, rt->type, rt->chunked ? -1 : rt->size) < 0)
        return -1;
    char piece[4096];
    for (long off = 0; off < rt->size;) {
        size_t n = 0;
        for (; n < sizeof piece && off + (long)n < rt->size; n++)
            piece[n] = (char)byte_at(r, (size_t)off + n);
        if (http_reply_write(reply, piece, n) < 0)
            return -1;
        off += (long)n;
    }
    return http_reply_end(reply);
}

/* The routes, and: /slow (300 ms, then 13 bytes), /stall (10 s: past any
 * timeout the gateway has), /cut (promises 100000 bytes, sends 50000). */
static int upstream(const http_server_request *req, http_server_reply *reply, void *user)
{
    (void)user;
    for (size_t r = 0; r < N_ROUTES; r++)
        if (strcmp(req->path, routes[r].path) == 0)
            return serve_route(reply, r);
    if (strcmp(req->path, "/slow") == 0 || strcmp(req->path, "/stall") == 0) {
        int64_t ms = req->path[2] == 'l' ? 300 : 10000;
        if (coro_sleep_until(coro_deadline_in(ms)) < 0)
            return -1;
        return http_reply(reply, 200, "text/plain", "slow answer\n", 12);
    }
    if (strcmp(req->path, "/cut") == 0) {
        static char half[50000];
        if (http_reply_start(reply, 200, "text/plain", 100000) < 0 ||
            http_reply_write(reply, half, sizeof half) < 0)
            return -1;
        return -1; /* a stream under way: the connection is closed */
    }
    return http_reply(reply, 404, "text/plain", "no such route\n", 14);
}

/* ---- the rig: upstream, gateway, both serving on coroutines ---- */

typedef struct rig {
    http_server *up, *gw;
    coro_t *up_run, *gw_run;
    gateway *g;
    char upstream_url[64];
    char gw_url[64];
    int accepted;        /* connections the gateway accepted */
    rawsrv raw;          /* the upstream, when it is a raw one */
    bool raw_on;
} rig;

static void *run_server(void *s)
{
    CHECK_INT(http_server_run(s), 0);
    return NULL;
}

static void count_accepts(void *user, http_server_event ev, int fd, const char *detail)
{
    (void)fd, (void)detail;
    if (ev == HTTP_SERVER_EV_ACCEPTED)
        ((rig *)user)->accepted++;
}

/* A port nothing listens on (bound, then closed: nobody takes it back in
 * the instant the test needs it). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Starts the upstream (unless `down`: then the gateway points at a port
 * nobody listens on; if `raw`, a raw server that answers the first request
 * with those bytes) and the gateway, with the client's read timeout. */
static int rig_start_raw(rig *r, bool down, int64_t read_timeout_ms, const char *raw)
{
    *r = (rig){0};
    int port = down ? free_port() : -1;
    if (raw) {
        if (!CHECK_INT(rawsrv_start(&r->raw, 0, rawsrv_play_answer_then_drain, raw), 0))
            return -1;
        r->raw_on = true;
        port = atoi(strrchr(r->raw.url, ':') + 1);
    } else if (!down) {
        r->up = http_server_open(NULL, upstream, NULL);
        if (!CHECK(r->up != NULL))
            return -1;
        port = http_server_port(r->up);
        r->up_run = coro_spawn(run_server, r->up, &(coro_opts){.name = "upstream"});
    }
    snprintf(r->upstream_url, sizeof r->upstream_url, "http://127.0.0.1:%d/", port);
    gateway_config cfg = {.upstream = r->upstream_url, .read_timeout_ms = read_timeout_ms,
                          .threads = 1};
    r->g = gateway_open(&cfg);
    http_server_opts so = {.on_event = count_accepts, .event_user = r,
                           .conn_name = "gateway-conn"};
    r->gw = r->g ? http_server_open(&so, gateway_handle, r->g) : NULL;
    if (!CHECK(r->gw != NULL))
        return -1;
    snprintf(r->gw_url, sizeof r->gw_url, "http://127.0.0.1:%d", http_server_port(r->gw));
    r->gw_run = coro_spawn(run_server, r->gw, &(coro_opts){.name = "gateway"});
    return 0;
}

static int rig_start(rig *r, bool down, int64_t read_timeout_ms)
{
    return rig_start_raw(r, down, read_timeout_ms, NULL);
}

static void stop_server(http_server *s, coro_t *runner)
{
    if (!s)
        return;
    http_server_stop(s, coro_now());
    if (runner)
        coro_join(runner, NULL);
    http_server_close(s);
}

static void rig_stop(rig *r)
{
    stop_server(r->gw, r->gw_run);
    stop_server(r->up, r->up_run);
    if (r->raw_on)
        rawsrv_stop(&r->raw);
    gateway_close(r->g);
}

/* ---- a checking client ---- */

/* What one GET through the gateway brought, checked byte by byte. */
typedef struct got {
    size_t route;        /* the expected body's pattern */
    size_t offset;       /* bytes seen */
    size_t bad_at;       /* first wrong byte + 1; 0 = none */
} got;

static int check_sink(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns;
    got *g = user;
    for (size_t i = 0; i < len; i++, g->offset++)
        if (!g->bad_at && (unsigned char)data[i] != byte_at(g->route, g->offset))
            g->bad_at = g->offset + 1;
    return 0;
}

static int lost, corrupted, delivered;

/* GET or HEAD route r through the gateway on client c: all as promised? */
static void fetch_route(http_client *c, const char *gw_url, size_t r, const char *method)
{
    const route *rt = &routes[r];
    char url[128];
    snprintf(url, sizeof url, "%s%s", gw_url, rt->path);
    got g = {.route = r};
    http_request req = {.method = method, .url = url, .sink = check_sink, .sink_user = &g};
    http_response *resp = NULL;
    int err = http_send(c, &req, &resp);
    bool head = strcmp(method, "HEAD") == 0;
    const char *type = resp ? http_response_header(resp, "Content-Type") : NULL;
    long want = head ? 0 : rt->size;
    if (err) {
        fprintf(stderr, "%s %s: %s\n", method, url, http_strerror(err));
        lost++;
    } else if (resp->status != rt->status || (long)g.offset != want || g.bad_at ||
               (rt->type ? !type || strcmp(type, rt->type) : type != NULL) ||
               (head && !rt->chunked && rt->status != 204 &&
                !CHECK(http_response_header(resp, "Content-Length")))) {
        fprintf(stderr, "%s %s: status %d (want %d), %zu bytes (want %ld), bad byte at %zu, "
                "type %s (want %s)\n", method, url, resp->status, rt->status, g.offset, want,
                g.bad_at, type ? type : "none", rt->type ? rt->type : "none");
        corrupted++;
    } else {
        delivered++;
    }
    http_response_free(resp);
}

#define CLIENTS 50
#define ROUNDS 2

static void *keepalive_client(void *arg)
{
    rig *r = arg;
    /* one connection per client: every request after the first reuses it */
    http_client *c = http_client_open(&(http_client_opts){.max_per_host = 1});
    if (!CHECK(c != NULL))
        return NULL;
    for (int round = 0; round < ROUNDS; round++)
        for (size_t i = 0; i < N_ROUTES; i++)
            fetch_route(c, r->gw_url, (i + (size_t)round * 3) % N_ROUTES,
                        i == 1 && round == 1 ? "HEAD" : "GET");
    http_client_close(c);
    return NULL;
}

/* ---- the cases ---- */

static void *case_fifty_keepalive(void *arg)
{
    (void)arg;
    rig r;
    if (rig_start(&r, false, 0) == 0) {
        lost = corrupted = delivered = 0;
        coro_t *cs[CLIENTS];
        for (int i = 0; i < CLIENTS; i++)
            cs[i] = coro_spawn(keepalive_client, &r, &(coro_opts){.name = "client"});
        for (int i = 0; i < CLIENTS; i++)
            if (CHECK(cs[i] != NULL))
                coro_join(cs[i], NULL);
        CHECK_INT(lost, 0);
        CHECK_INT(corrupted, 0);
        CHECK_INT(delivered, CLIENTS * ROUNDS * (int)N_ROUTES);
        CHECK_INT(r.accepted, CLIENTS); /* keep-alive: one connection each */
        CHECK_INT(gateway_answered(r.g), CLIENTS * ROUNDS * (int)N_ROUTES);
    }
    rig_stop(&r);
    return NULL;
}

/* One request through the gateway, collected: status and body. */
static int get_through(const rig *r, const char *method, const char *path, http_response **out)
{
    http_client *c = http_client_open(NULL);
    char url[128];
    snprintf(url, sizeof url, "%s%s", r->gw_url, path);
    http_request req = {.method = method, .url = url};
    int err = c ? http_send(c, &req, out) : HTTP_E_NOMEM;
    http_client_close(c);
    return err;
}

/* What the gateway answers for an upstream failure or a method. */
typedef struct failure_case {
    bool down;               /* the upstream is not listening */
    const char *raw;         /* else, if set: what a raw upstream answers */
    int64_t read_timeout_ms; /* the gateway's client's */
    const char *method, *path;
    int want_status;         /* 0: the client must see the reply cut short;
                                -1: the connection closed before any answer
                                (the head was still in the gateway's buffer) */
    const char *want_in_body;/* a part of the one-line body; NULL: none */
} failure_case;

static const failure_case failures[] = {
    {true, NULL, 0, "GET", "/13", 502, "could not connect"},
    {true, NULL, 0, "HEAD", "/13", 502, NULL},
    {false, NULL, 200, "GET", "/stall", 504, "timed out"},
    {false, NULL, 0, "GET", "/cut", 0, NULL},
    {false, NULL, 0, "POST", "/13", 405, "only GET and HEAD"},
    {false, NULL, 0, "DELETE", "/13", 405, "only GET and HEAD"},
    /* A malformed upstream answer is the upstream's fault: 502, naming it. */
    {false, "garbage\r\n\r\n", 0, "GET", "/13", 502, "malformed"},
    {false, "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 0, "GET", "/13", 502,
     "malformed"},
    {false, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
     0, "GET", "/13", 502, "malformed"},
    {false, "HTTP/1.1 2000 OK\r\n\r\n", 0, "GET", "/13", 502, "malformed"},
    {false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, "GET",
     "/13", -1, NULL},
};

static void *case_failures(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        const failure_case *f = &failures[i];
        rig r;
        if (rig_start_raw(&r, f->down, f->read_timeout_ms, f->raw) == 0) {
            http_response *resp = NULL;
            int err = get_through(&r, f->method, f->path, &resp);
            fprintf(stderr, "  %s %s (upstream %s): %s, status %d, body \"%s\"\n", f->method,
                    f->path, f->down ? "down" : f->raw ? "raw" : "up",
                    err ? http_strerror(err) : "ok",
                    resp ? resp->status : 0, resp && resp->body ? resp->body : "");
            if (f->want_status == 0) {
                CHECK_INT(err, HTTP_E_TRUNCATED);
            } else if (f->want_status == -1) {
                CHECK_INT(err, HTTP_E_EMPTY_REPLY);
            } else if (CHECK_INT(err, 0)) {
                CHECK_INT(resp->status, f->want_status);
                if (f->want_in_body)
                    CHECK(strstr(resp->body, f->want_in_body) != NULL);
                if (f->want_in_body && f->want_status >= 500)
                    CHECK(strchr(resp->body, '\n') == resp->body + resp->body_len - 1);
            }
            http_response_free(resp);
        }
        rig_stop(&r);
    }
    return NULL;
}

/* http_server_stop during a slow request: it completes, then the run ends. */
static void *stop_soon(void *arg)
{
    rig *r = arg;
    coro_sleep_until(coro_deadline_in(100));
    http_server_stop(r->gw, coro_deadline_in(5000));
    return NULL;
}

static void *case_drain(void *arg)
{
    (void)arg;
    rig r;
    if (rig_start(&r, false, 0) == 0) {
        coro_t *stopper = coro_spawn(stop_soon, &r, NULL);
        http_response *resp = NULL;
        int64_t t0 = coro_now();
        if (CHECK_INT(get_through(&r, "GET", "/slow", &resp), 0)) {
            CHECK_INT(resp->status, 200);
            CHECK_STR(resp->body, "slow answer\n");
        }
        http_response_free(resp);
        coro_join(stopper, NULL);
        coro_join(r.gw_run, NULL); /* the drain ended the run by itself */
        r.gw_run = NULL;
        CHECK(coro_now() - t0 < 4000000000LL);
    }
    rig_stop(&r);
    return NULL;
}

/* ---- the program: flags and SIGTERM ---- */

/* Runs the gateway binary with args through the shell: exit status, and
 * stdout + stderr in out. */
static int run_binary(const char *args, char *out, size_t size)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", gateway_binary, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

typedef struct flag_case {
    const char *args;
    int want_exit;
    const char *want_out;
} flag_case;

static const flag_case flags[] = {
    {"--help", 0, "SYNOPSIS"},
    {"", 2, "--upstream http://HOST:PORT is required"},
    {"--bogus", 2, "unknown option '--bogus'"},
    {"--upstream", 2, "--upstream wants a value"},
    {"--upstream ftp://h:1", 2, "--upstream 'ftp://h:1'"},
    {"--upstream http://127.0.0.1:1/path", 2, "without a path"},
    {"--upstream http://127.0.0.1:1 -t 0", 2, "-t wants"},
    {"--upstream http://127.0.0.1:1 --timeout x", 2, "--timeout wants"},
    {"--upstream http://127.0.0.1:1 -t 2 --listen 127.0.0.1:0", 2, "port 0"},
    {"--upstream http://127.0.0.1:1 --cpus 9999", 2, "--cpus"},
    {"--upstream http://127.0.0.1:1 --listen nonsense", 1, "cannot listen on nonsense"},
};

static void case_flags(void)
{
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        char out[8192];
        int rc = run_binary(flags[i].args, out, sizeof out);
        if (!CHECK_INT(rc, flags[i].want_exit) || !CHECK(strstr(out, flags[i].want_out)))
            fprintf(stderr, "  gateway %s said:\n%s\n", flags[i].args, out);
    }
}

/* Starts the binary in front of the rig's upstream on a free port. */
static pid_t start_binary(const rig *r, int port)
{
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        execl(gateway_binary, gateway_binary, "--upstream", r->upstream_url, "--listen", listen,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* The child's exit status, polling (waitpid would stop every coroutine). */
static int wait_child(pid_t pid, int64_t deadline_ns)
{
    int st;
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (coro_now() > deadline_ns) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        coro_sleep_until(coro_deadline_in(10));
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

typedef struct sigterm_job {
    pid_t pid;
} sigterm_job;

static void *sigterm_soon(void *arg)
{
    coro_sleep_until(coro_deadline_in(100));
    kill(((sigterm_job *)arg)->pid, SIGTERM);
    return NULL;
}

static void *case_sigterm(void *arg)
{
    (void)arg;
    rig r;
    int port = free_port();
    if (rig_start(&r, false, 0) == 0 && CHECK(port > 0)) {
        sigterm_job job = {.pid = start_binary(&r, port)};
        snprintf(r.gw_url, sizeof r.gw_url, "http://127.0.0.1:%d", port);
        http_response *resp = NULL;
        int err = HTTP_E_CONNECT;
        for (int tries = 0; err == HTTP_E_CONNECT && tries < 500; tries++) {
            http_response_free(resp);
            resp = NULL;
            coro_sleep_until(coro_deadline_in(10)); /* until it listens */
            err = get_through(&r, "GET", "/13", &resp);
        }
        CHECK_INT(err, 0);
        http_response_free(resp);
        resp = NULL;
        coro_t *killer = coro_spawn(sigterm_soon, &job, NULL);
        if (CHECK_INT(get_through(&r, "GET", "/slow", &resp), 0)) {
            CHECK_INT(resp->status, 200);
            CHECK_STR(resp->body, "slow answer\n");
        }
        http_response_free(resp);
        coro_join(killer, NULL);
        CHECK_INT(wait_child(job.pid, coro_deadline_in(10000)), 0);
    }
    rig_stop(&r);
    return NULL;
}

/* ---- main ---- */

static void run_case(void *(*fn)(void *))
{
    if (CHECK(coro_spawn(fn, NULL, &(coro_opts){.name = "case"}) != NULL))
        CHECK_INT(coro_run(), 0);
}

/* The two cases that start the gateway binary itself cannot run under
 * qemu-user here: an aarch64 binary started by exec needs binfmt_misc,
 * which containers often lack (scripts/test says the same of fetch's). */
static int binary_runs_here(void)
{
    if (!check_under_qemu())
        return 1;
    printf("     (skipped under qemu-user: the binary cannot be exec'd without binfmt_misc)\n");
    return 0;
}

static void fifty_keepalive(void) { run_case(case_fifty_keepalive); }
static void upstream_failures(void) { run_case(case_failures); }
static void drain(void) { run_case(case_drain); }
static void flags_of_binary(void)
{
    if (binary_runs_here())
        case_flags();
}
static void sigterm(void)
{
    if (binary_runs_here())
        run_case(case_sigterm);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_gateway GATEWAY_BINARY\n");
        return 2;
    }
    gateway_binary = argv[1];
    signal(SIGPIPE, SIG_IGN);
    static const check_case cases[] = {
        {"50 keep-alive clients, every body byte checked", fifty_keepalive},
        {"upstream down 502, stalled 504, cut short, 405", upstream_failures},
        {"http_server_stop during a slow request: it completes", drain},
        {"the binary's flags: messages, exit 2", flags_of_binary},
        {"the binary: SIGTERM during a slow request, exit 0", sigterm},
    };
    return check_run(cases, sizeof cases / sizeof cases[0], 1);
}
