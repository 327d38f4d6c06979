/* test_soak.c - load, soak, and running out of fds.
 *
 *   - 10,000 coroutines fetch at once through one client (max_per_host 64)
 *     from the in-process server: every one succeeds, and the server never
 *     sees more than 64 connections;
 *   - a soak: 32 coroutines fetch in a loop at full speed for
 *     BA_SOAK_SECONDS (default 5) from a server that keeps nothing, while
 *     the RSS and the fd count are sampled every second and printed;
 *     after a warm-up both must stay flat;
 *   - the fd limit: with RLIMIT_NOFILE just above the fds in use, 50 GETs
 *     at once: each one that cannot get a socket fails with HTTP_E_CONNECT
 *     and errno EMFILE, quickly and without spinning; with the limit back,
 *     all succeed.  The server for this one lives in a child process, so
 *     that only the client runs out.
 * Sizes shrink under valgrind and ASan (ts_slow_tools).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "testserver.h"

/* ---- many at once ---- */

typedef struct crowd {
    http_client *client;
    const char *url;
    int ok;          /* GETs that got "hello" */
    int first_err;   /* the first failure, 0 if none */
    int emfile;      /* failures that were HTTP_E_CONNECT with EMFILE */
    int other_err;   /* any other failure */
} crowd;

static void *crowd_get(void *arg)
{
    crowd *cr = arg;
    http_response *r = NULL;
    int err = http_get(cr->client, cr->url, &r);
    int saved = errno; /* before anything else can run on this thread */
    if (err == HTTP_OK && r && strcmp(r->body, "hello") == 0)
        cr->ok++;
    else if (err == HTTP_E_CONNECT && saved == EMFILE)
        cr->emfile++;
    else
        cr->other_err++;
    if (err && !cr->first_err)
        cr->first_err = err;
    http_response_free(r);
    return NULL;
}

/* SUSPENDS.  n GETs from n coroutines at once; returns when all are done. */
static void crowd_run(crowd *cr, int n)
{
    coro_t **co = calloc((size_t)n, sizeof *co);
    if (!CHECK(co != NULL))
        return;
    for (int i = 0; i < n; i++)
        CHECK((co[i] = coro_spawn(crowd_get, cr, NULL)) != NULL);
    for (int i = 0; i < n; i++)
        if (co[i])
            coro_join(co[i], NULL);
    free(co);
}

static void test_ten_thousand(void *arg)
{
    (void)arg;
    int n = ts_on_valgrind() ? 300 : ts_slow_tools() ? 3000 : 10000;
    testserver *ts = ts_start_fixed(AF_INET, "hello");
    http_client_opts o = {.read_timeout_ms = 10000, .total_timeout_ms = 60000,
                          .max_per_host = 64};
    crowd cr = {.client = http_client_open(&o), .url = ts_url(ts, "/")};
    int64_t t0 = ts_now_ms();
    crowd_run(&cr, n);
    fprintf(stderr, "    %d GETs at once: %lld ms, %d connections, at most %d open\n", n,
            (long long)(ts_now_ms() - t0), ts_connections(ts),
            ts_max_open_connections(ts));
    if (!CHECK_INT(cr.ok, n))
        fprintf(stderr, "    first failure: %s\n", http_strerror(cr.first_err));
    CHECK(ts_max_open_connections(ts) <= 64);
    http_client_close(cr.client);
    ts_stop(ts);
}

/* ---- a keep-alive server that remembers nothing ---- */

/* The soak's server.  The scripted server keeps every request head for
 * the tests to look at, which is growth the soak would measure; this one
 * answers every request head with the same bytes and keeps nothing.  It
 * runs until its clients have closed their connections. */
#define PLAIN_RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

static struct {
    int lfd;
    char url[64];
    coro_t *acceptor;
    int live;           /* connection coroutines running */
} plain = {.lfd = -1};

static void *plain_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    size_t have = 0;
    ssize_t n;
    while (have < sizeof buf &&
           (n = io_read(fd, buf + have, sizeof buf - have, CORO_NEVER)) > 0) {
        have += (size_t)n;
        const char *end;
        while ((end = memmem(buf, have, "\r\n\r\n", 4)) != NULL) {
            size_t len = (size_t)(end + 4 - buf);
            if (io_send(fd, PLAIN_RESPONSE, strlen(PLAIN_RESPONSE), CORO_NEVER) < 0)
                goto out;
            memmove(buf, buf + len, have - len);
            have -= len;
        }
    }
out:
    coro_close(fd);
    plain.live--;
    return NULL;
}

static void *plain_accept(void *arg)
{
    (void)arg;
    int fd;
    while ((fd = io_accept(plain.lfd, NULL, NULL, CORO_NEVER)) >= 0) {
        coro_opts o = {.name = "plain-conn", .detached = true};
        if (coro_spawn(plain_conn, (void *)(intptr_t)fd, &o))
            plain.live++;
        else
            coro_close(fd);
    }
    return NULL;
}

static int plain_start(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    plain.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (plain.lfd < 0 || bind(plain.lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(plain.lfd, 128) < 0 || getsockname(plain.lfd, (struct sockaddr *)&a, &len) < 0)
        return -1;
    snprintf(plain.url, sizeof plain.url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    plain.acceptor = coro_spawn(plain_accept, NULL, NULL);
    return plain.acceptor ? 0 : -1;
}

/* SUSPENDS.  Call after the clients are closed: their connections end. */
static void plain_stop(void)
{
    coro_cancel(plain.acceptor);
    coro_join(plain.acceptor, NULL);
    for (int i = 0; i < 2000 && plain.live > 0; i++)
        coro_sleep_until(coro_deadline_in(1));
    CHECK_INT(plain.live, 0);
    coro_close(plain.lfd);
    plain.lfd = -1;
}

/* ---- soak ---- */

#define SOAK_WORKERS 32
#define SOAK_MAX_SAMPLES 3600
#define SOAK_WARMUP 2          /* samples taken before the baseline */
#define SOAK_RSS_MARGIN_KB 2048 /* growth allowed after the warm-up */
#define SOAK_FD_MARGIN 2

typedef struct soak {
    http_client *client;
    const char *url;
    bool stop;
    long requests;
    long errors;
    int first_err;
} soak;

static void *soak_worker(void *arg)
{
    soak *s = arg;
    while (!s->stop) {
        http_response *r = NULL;
        int err = http_get(s->client, s->url, &r);
        s->requests++;
        if (err != HTTP_OK) {
            if (!s->errors++)
                s->first_err = err;
        }
        http_response_free(r);
    }
    return NULL;
}

static long rss_kb(void)
{
    long pages_total = 0, pages_resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2)
            pages_resident = 0;
        fclose(f);
    }
    return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int soak_seconds(void)
{
    const char *env = getenv("BA_SOAK_SECONDS");
    int s = env ? atoi(env) : 5;
    if (ts_on_valgrind() && !env)
        s = 3;
    return s < SOAK_WARMUP + 1 ? SOAK_WARMUP + 1
         : s > SOAK_MAX_SAMPLES ? SOAK_MAX_SAMPLES : s;
}

static void test_soak(void *arg)
{
    (void)arg;
    int seconds = soak_seconds();
    if (!CHECK_INT(plain_start(), 0))
        return;
    http_client_opts o = {.read_timeout_ms = 10000, .max_per_host = 16};
    soak s = {.client = http_client_open(&o), .url = plain.url};
    coro_t *workers[SOAK_WORKERS];
    for (int i = 0; i < SOAK_WORKERS; i++)
        CHECK((workers[i] = coro_spawn(soak_worker, &s, NULL)) != NULL);

    static long rss[SOAK_MAX_SAMPLES], fds[SOAK_MAX_SAMPLES];
    long last = 0;
    for (int t = 0; t < seconds; t++) {
        coro_sleep_until(coro_deadline_in(1000));
        rss[t] = rss_kb();
        fds[t] = check_count_fds();
        fprintf(stderr, "    t=%3ds  rss %6ld KiB  fds %3ld  requests %8ld (%ld/s)\n", t + 1,
                rss[t], fds[t], s.requests, s.requests - last);
        last = s.requests;
    }
    s.stop = true;
    for (int i = 0; i < SOAK_WORKERS; i++)
        if (workers[i])
            coro_join(workers[i], NULL);

    if (!CHECK_INT(s.errors, 0))
        fprintf(stderr, "    first failure: %s\n", http_strerror(s.first_err));
    CHECK(s.requests > seconds); /* it did run */
    long rss_base = rss[SOAK_WARMUP - 1], fd_base = fds[SOAK_WARMUP - 1];
    long rss_max = rss_base, fd_max = fd_base;
    for (int t = SOAK_WARMUP; t < seconds; t++) {
        rss_max = rss[t] > rss_max ? rss[t] : rss_max;
        fd_max = fds[t] > fd_max ? fds[t] : fd_max;
    }
    fprintf(stderr, "    after warm-up: rss %ld -> max %ld KiB, fds %ld -> max %ld\n",
            rss_base, rss_max, fd_base, fd_max);
    CHECK(fd_max <= fd_base + SOAK_FD_MARGIN);
    if (ts_slow_tools()) /* ASan's quarantine and valgrind make RSS meaningless */
        fprintf(stderr, "    (RSS not checked under ASan or valgrind)\n");
    else
        CHECK(rss_max <= rss_base + SOAK_RSS_MARGIN_KB);
    http_client_close(s.client);
    plain_stop();
}

/* ---- running out of fds ---- */

/* The server of the fd-limit test, in a child process: it writes its port
 * to `port_fd`, serves until `stop_fd` reads end of file (the parent
 * closed it, or died), then stops. */
typedef struct child_server {
    int port_fd;
    int stop_fd;
} child_server;

static void *child_server_main(void *arg)
{
    child_server *cs = arg;
    testserver *ts = ts_start_fixed(AF_INET, "hello");
    int port = ts ? ts_port(ts) : -1;
    ssize_t w = write(cs->port_fd, &port, sizeof port);
    (void)w;
    char byte;
    io_nonblock(cs->stop_fd);
    while (io_read(cs->stop_fd, &byte, 1, CORO_NEVER) > 0)
        ;
    if (ts)
        ts_stop(ts);
    return NULL;
}

/* Starts the server process; returns its pid and port, and the fd whose
 * closing stops it.  Called before this process's runtime starts. */
static pid_t child_server_start(int *port, int *stop_fd)
{
    int port_pipe[2], stop_pipe[2];
    if (pipe2(port_pipe, O_CLOEXEC) < 0 || pipe2(stop_pipe, O_CLOEXEC) < 0)
        return -1;
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(port_pipe[0]);
        close(stop_pipe[1]);
        child_server cs = {port_pipe[1], stop_pipe[0]};
        coro_spawn(child_server_main, &cs, NULL);
        _exit(coro_run() == 0 ? 0 : 1);
    }
    close(port_pipe[1]);
    close(stop_pipe[0]);
    *port = -1;
    if (pid < 0 || read(port_pipe[0], port, sizeof *port) != (ssize_t)sizeof *port)
        *port = -1;
    close(port_pipe[0]);
    *stop_fd = stop_pipe[1];
    return pid;
}

/* The RLIMIT_NOFILE that leaves exactly `spare` fds to open: the limit
 * bounds fd numbers, and new fds take the lowest free ones. */
static rlim_t limit_leaving(int spare)
{
    int fd = 0;
    for (int found = 0;; fd++)
        if (fcntl(fd, F_GETFD) < 0 && ++found == spare)
            break;
    return (rlim_t)fd + 1;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

typedef struct fd_limit_args {
    int port;
} fd_limit_args;

static void test_fd_limit(void *arg)
{
    fd_limit_args *a = arg;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", a->port);
    http_client_opts o = {.connect_timeout_ms = 2000, .read_timeout_ms = 2000,
                          .max_per_host = 100};
    crowd cr = {.client = http_client_open(&o), .url = url};
    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    low.rlim_cur = limit_leaving(8);
    CHECK_INT(setrlimit(RLIMIT_NOFILE, &low), 0);

    int64_t t0 = ts_now_ms();
    double cpu0 = cpu_seconds();
    crowd_run(&cr, 50);
    int64_t ms = ts_now_ms() - t0;
    double cpu = cpu_seconds() - cpu0;
    fprintf(stderr, "    limit %llu: %d ok, %d EMFILE, %d other, %lld ms, %.3f s CPU\n",
            (unsigned long long)low.rlim_cur, cr.ok, cr.emfile, cr.other_err,
            (long long)ms, cpu);
    CHECK_INT(cr.ok + cr.emfile, 50);
    CHECK_INT(cr.other_err, 0);
    CHECK(cr.emfile >= 40); /* at most 8 fds: at most 8 connections */
    CHECK(ms < 2000 * (ts_slow_tools() ? 5 : 1));
    CHECK(cpu < 1.0 * (ts_slow_tools() ? 5 : 1)); /* no spinning on EMFILE */

    CHECK_INT(setrlimit(RLIMIT_NOFILE, &old), 0);
    crowd again = {.client = cr.client, .url = url};
    crowd_run(&again, 50);
    if (!CHECK_INT(again.ok, 50))
        fprintf(stderr, "    first failure: %s\n", http_strerror(again.first_err));
    http_client_close(cr.client);
}

int main(void)
{
    int port = -1, stop_fd = -1;
    pid_t server = child_server_start(&port, &stop_fd);
    CHECK(server > 0 && port > 0);

    CHECK_INT(ts_run("load: 10,000 GETs at once, max_per_host 64", test_ten_thousand, NULL), 0);
    CHECK_INT(ts_run("soak: full speed, RSS and fds sampled", test_soak, NULL), 0);
    if (server > 0 && port > 0) {
        fd_limit_args a = {port};
        CHECK_INT(ts_run("fds: RLIMIT_NOFILE hit by 50 GETs", test_fd_limit, &a), 0);
    }

    if (stop_fd >= 0)
        close(stop_fd);
    int st = 0;
    if (server > 0)
        waitpid(server, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* the server ended cleanly */
    return check_summary();
}
