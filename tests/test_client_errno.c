/* test_client_errno.c - errno after a failed request is the system's
 * reason where there was one, else 0, never what an earlier call left
 * (client.h lists which code comes with which errno); and closing a
 * client with a request in flight stops the program (API misuse).
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "client_test.h"
#include "testserver.h"

#define MAX_STEPS 5
#define STALE_ERRNO EINPROGRESS /* what a non-blocking connect leaves behind */

/* Where a case sends its request. */
enum { TO_SERVER, TO_UNUSED_PORT, TO_BLACKHOLE, TO_NXDOMAIN, TO_BAD_URL, CANCELLED };

static long failing_source(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    (void)deadline_ns;
    (void)user, (void)buf, (void)cap;
    errno = EPIPE;
    return -1;
}

static long silent_failing_source(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    (void)deadline_ns;
    (void)user, (void)buf, (void)cap;
    return -1;
}

static int stop_on_head(void *user, const http_response *head)
{
    (void)user, (void)head;
    return -1;
}

typedef struct errno_case {
    const char *name;
    int to;
    ts_step script[MAX_STEPS];
    http_client_opts opts;      /* timeouts default to 3 s read, 10 s total */
    http_request req;           /* url filled in */
    int err;
    int want_errno;
} errno_case;

#define CL100 "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"

static const errno_case cases[] = {
    {"connection refused", TO_UNUSED_PORT, {TS_END()}, {0}, {0}, HTTP_E_CONNECT, ECONNREFUSED},
    {"connect timeout", TO_BLACKHOLE, {TS_END()}, {.connect_timeout_ms = 100}, {0},
     HTTP_E_CONNECT_TIMEOUT, ETIMEDOUT},
    {"no such host", TO_NXDOMAIN, {TS_END()}, {0}, {0}, HTTP_E_RESOLVE, 0},
    {"malformed URL", TO_BAD_URL, {TS_END()}, {0}, {0}, HTTP_E_URL, 0},
    {"reset before a byte", TO_SERVER, {TS_READ(), TS_RESET()}, {0}, {0}, HTTP_E_RESET,
     ECONNRESET},
    {"read timeout", TO_SERVER, {TS_READ(), TS_DRAIN()}, {.read_timeout_ms = 100}, {0},
     HTTP_E_READ_TIMEOUT, ETIMEDOUT},
    {"total timeout", TO_SERVER, {TS_READ(), TS_DRAIN()}, {.total_timeout_ms = 100}, {0},
     HTTP_E_TOTAL_TIMEOUT, ETIMEDOUT},
    {"truncated body", TO_SERVER, {TS_READ(), TS_SEND(CL100 "0123"), TS_CLOSE()}, {0}, {0},
     HTTP_E_TRUNCATED, 0},
    {"empty reply", TO_SERVER, {TS_READ(), TS_CLOSE()}, {0}, {0}, HTTP_E_EMPTY_REPLY, 0},
    {"malformed reply", TO_SERVER, {TS_READ(), TS_SEND("SSH-2.0\r\n"), TS_DRAIN()}, {0}, {0},
     HTTP_E_MALFORMED, 0},
    {"head too large", TO_SERVER, {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nX: 0123456789\r\n"),
                                   TS_DRAIN()},
     {.max_head_bytes = 20}, {0}, HTTP_E_HEAD_TOO_LARGE, 0},
    {"body too large", TO_SERVER, {TS_READ(), TS_SEND(CL100), TS_DRAIN()}, {0},
     {.max_body = 10}, HTTP_E_BODY_TOO_LARGE, 0},
    {"too many redirects", TO_SERVER,
     {TS_READ(), TS_SEND("HTTP/1.1 302 F\r\nLocation: /\r\nContent-Length: 0\r\n\r\n"),
      TS_LOOP()},
     {.follow_redirects = true, .max_redirects = 2}, {0}, HTTP_E_TOO_MANY_REDIRECTS, 0},
    {"aborted by on_head", TO_SERVER, {TS_READ(), TS_SEND(OK_2), TS_LOOP()}, {0},
     {.on_head = stop_on_head}, HTTP_E_ABORTED, 0},
    {"bad request", TO_SERVER, {TS_END()}, {0}, {.method = "G T"}, HTTP_E_BAD_REQUEST, 0},
    {"body source failed with EPIPE", TO_SERVER, {TS_READ(), TS_DRAIN()}, {0},
     {.method = "PUT", .body_source = failing_source, .body_length = -1}, HTTP_E_SEND_BODY,
     EPIPE},
    {"body source failed without errno", TO_SERVER, {TS_READ(), TS_DRAIN()}, {0},
     {.method = "PUT", .body_source = silent_failing_source, .body_length = -1},
     HTTP_E_SEND_BODY, 0},
    {"cancelled", CANCELLED, {TS_READ(), TS_DRAIN()}, {0}, {0}, HTTP_E_CANCELLED, ECANCELED},
};

typedef struct job {
    http_client *c;
    http_request req;
    int err;
    int err_errno;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    http_response *r = NULL;
    errno = STALE_ERRNO;
    j->err = http_send(j->c, &j->req, &r);
    j->err_errno = errno;
    http_response_free(r);
    return NULL;
}

/* The URL for a case; NULL when it needs none of these. */
static const char *url_for(const errno_case *ec, testserver *ts, ts_blackhole *bh,
                           char *buf, size_t size)
{
    switch (ec->to) {
    case TO_UNUSED_PORT:
        snprintf(buf, size, "http://127.0.0.1:%d/", ts_unused_port(AF_INET));
        return buf;
    case TO_BLACKHOLE:
        snprintf(buf, size, "http://127.0.0.1:%d/", bh->port);
        return buf;
    case TO_NXDOMAIN:
        snprintf(buf, size, "http://nxdomain.test:%d/", ts_port(ts));
        return buf;
    case TO_BAD_URL: return "http://bad host/";
    default: return ts_url(ts, "/");
    }
}

static void one_case(const errno_case *ec)
{
    int before = check_failures;
    testserver *ts = ts_start(AF_INET, ec->script);
    ts_blackhole bh = {.listen_fd = -1, .filler_fd = -1};
    if (ec->to == TO_BLACKHOLE && !CHECK_INT(ts_blackhole_open(&bh), 0))
        return;
    char url[128];
    job j = {.c = client_open_defaults(ec->opts, 3000, 10000), .req = ec->req};
    j.req.url = url_for(ec, ts, &bh, url, sizeof url);
    coro_t *co = coro_spawn(run_job, &j, NULL);
    if (ec->to == CANCELLED) {
        ts_wait_requests(ts, 1, 3000);
        coro_cancel(co);
    }
    coro_join(co, NULL);
    CHECK_INT(j.err, ec->err);
    CHECK_INT(j.err_errno, ec->want_errno);
    if (check_failures != before)
        fprintf(stderr, "    in case \"%s\"\n", ec->name);
    http_client_close(j.c);
    if (ec->to == TO_BLACKHOLE)
        ts_blackhole_close(&bh);
    ts_stop(ts);
}

static void test_errno(void *arg)
{
    (void)arg;
    http_set_lookup(ts_lookup);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        one_case(&cases[i]);
    http_set_lookup(NULL);
}

/* ---- http_client_close with a request in flight ---- */

static void close_in_flight(void *arg)
{
    (void)arg;
    static const ts_step silent[] = {TS_READ(), TS_DRAIN()};
    testserver *ts = ts_start(AF_INET, silent);
    job j = {.c = client_open_defaults((http_client_opts){0}, 3000, 10000)};
    j.req.url = ts_url(ts, "/");
    coro_spawn(run_job, &j, NULL);
    ts_wait_requests(ts, 1, 3000);
    http_client_close(j.c); /* must not return */
    _exit(0);
}

/* Runs close_in_flight in a child; its stderr must say why it aborted. */
static void test_close_in_flight(void)
{
    int pipefd[2];
    if (!CHECK_INT(pipe(pipefd), 0))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        ts_run("misuse: close in flight (child)", close_in_flight, NULL);
        _exit(0);
    }
    close(pipefd[1]);
    char out[1024] = "";
    size_t at = 0;
    ssize_t n;
    while (at < sizeof out - 1 && (n = read(pipefd[0], out + at, sizeof out - 1 - at)) > 0)
        at += (size_t)n;
    out[at] = '\0';
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    if (!CHECK(strstr(out, "bareawait: http_client_close: 1 requests still in flight") != NULL))
        fprintf(stderr, "    child said: %s\n", out);
}

int main(void)
{
    CHECK_INT(ts_run("errno: per error kind", test_errno, NULL), 0);
    fprintf(stderr, "-- misuse: http_client_close with a request in flight\n");
    test_close_in_flight();
    return check_summary();
}
