/* test_server_hostile.c - http_server against clients that misbehave, and
 * its graceful stop.
 *
 *   - a client that resets in the middle of its body;
 *   - a client that never reads its answer: the write gives up after
 *     write_timeout_ms, and meanwhile the other connections are served;
 *   - garbage pipelined after a valid request: the request is answered,
 *     the garbage gets 400;
 *   - http_server_stop with a request in flight (it completes, with
 *     Connection: close), idle connections (closed at once), a handler
 *     that outlives the deadline (cancelled), and the runner cancelled.
 * Each case must leave as many fds open as it found.
 */
#include <netinet/tcp.h>

#include "server_test.h"
#include <bareawait/client.h>

#define H "Host: a\r\n"

/* ---- handlers ---- */

typedef struct stuck {
    int rc, err;          /* what the last write of /flood said */
    int64_t ms;           /* how long /flood wrote */
    bool done;
} stuck;

static int hostile_routes(const http_server_request *req, http_server_reply *reply, void *user)
{
    stuck *st = user;
    if (strcmp(req->path, "/slow") == 0) {        /* in flight for 300 ms */
        if (coro_sleep_until(coro_deadline_in(300)) < 0)
            return -1;
        return http_reply(reply, 200, NULL, "slow", 4);
    }
    if (strcmp(req->path, "/forever") == 0) {
        coro_sleep_until(coro_deadline_in(10000));
        return -1;                                /* cancelled: ECANCELED */
    }
    if (strcmp(req->path, "/flood") == 0) {       /* more than any buffer holds */
        static char block[256 * 1024];
        int64_t t0 = ts_now_ms();
        http_reply_start(reply, 200, NULL, -1);
        int rc;
        while ((rc = http_reply_write(reply, block, sizeof block)) == 0)
            ;
        *st = (stuck){rc, errno, ts_now_ms() - t0, true};
        return -1;
    }
    return st_echo(req, reply, NULL);
}

/* SUSPENDS.  One GET through a fresh connection: the body, or "" on error. */
static void quick_get(int port, const char *path, char *body, size_t size)
{
    http_client *c = http_client_open(NULL);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    http_response *r = NULL;
    int err = http_get(c, url, &r);
    snprintf(body, size, "%s", err ? "" : r->body);
    http_response_free(r);
    http_client_close(c);
}

/* ---- clients that misbehave ---- */

/* A reset in the middle of a body: the connection ends quietly, and the
 * server serves the next one. */
static void *reset_mid_body(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, hostile_routes, NULL) < 0)
        return NULL;
    int fd = st_connect(AF_INET, sv.port);
    if (fd >= 0 && CHECK_INT(st_send(fd, "POST /up HTTP/1.1\r\n" H "Content-Length: 100000\r\n\r\n"
                                         "the first bytes of a long body"), 0)) {
        coro_sleep_until(coro_deadline_in(20));   /* the server is reading it */
        struct linger now = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    }
    if (fd >= 0)
        coro_close(fd);                           /* RST */
    while (sv.closed < 1 && coro_sleep_until(coro_deadline_in(1)) == 0)
        ;
    CHECK_STR(sv.last_closed, "the body did not come");
    char body[64];
    quick_get(sv.port, "/next", body, sizeof body);
    CHECK_STR(body, "GET /next body=0:");
    st_down(&sv);
    return NULL;
}

/* A client that never reads: the answer's writes stall, and after
 * write_timeout_ms the server gives up on it (ETIMEDOUT to the handler,
 * the connection closed).  Meanwhile another client is served at once. */
static void *never_reads(void *arg)
{
    (void)arg;
    stuck st = {0};
    st_server sv;
    if (st_up(&sv, &(http_server_opts){.write_timeout_ms = 300}, hostile_routes, &st) < 0)
        return NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int small = 4096;                  /* so the server's writes stall soon */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sv.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (CHECK_INT(io_connect(fd, (struct sockaddr *)&a, sizeof a, coro_deadline_in(2000)), 0))
        CHECK_INT(st_send(fd, "GET /flood HTTP/1.1\r\n" H "\r\n"), 0);
    coro_sleep_until(coro_deadline_in(100));      /* the flood is stalled by now */
    int64_t t0 = ts_now_ms();
    char body[64];
    quick_get(sv.port, "/meanwhile", body, sizeof body);
    CHECK_STR(body, "GET /meanwhile body=0:");
    CHECK(ts_now_ms() - t0 < 200 * st_slow());
    while (!st.done && coro_sleep_until(coro_deadline_in(5)) == 0)
        ;
    CHECK_INT(st.rc, -1);
    CHECK_INT(st.err, ETIMEDOUT);
    if (!CHECK(st.ms >= 290 && st.ms <= 1500 * st_slow()))
        fprintf(stderr, "    the flood gave up after %lld ms\n", (long long)st.ms);
    while (sv.closed < 2 && coro_sleep_until(coro_deadline_in(1)) == 0)
        ;
    coro_close(fd);
    st_down(&sv);
    return NULL;
}

/* A valid request and garbage behind it, in one write: 200, then 400. */
static void *garbage_after_valid(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, hostile_routes, NULL) < 0)
        return NULL;
    int fd = st_connect(AF_INET, sv.port);
    static char buf[4096];
    size_t len = 0, at = 0;
    if (fd >= 0 && CHECK_INT(st_send(fd, "GET /ok HTTP/1.1\r\n" H "\r\n\x01garbage\r\n\r\n"), 0))
        CHECK_INT(st_read_all(fd, buf, sizeof buf, 2000 * st_slow(), &len), ST_EOF);
    st_answer a;
    if (CHECK(st_next_answer(buf, len, &at, false, &a)))
        if (CHECK_INT(a.status, 200))
            CHECK_STR(a.body, "GET /ok body=0:");
    if (CHECK(st_next_answer(buf, len, &at, false, &a)))
        if (CHECK_INT(a.status, 400))
            CHECK(st_head_has(&a, "Connection: close"));
    CHECK_INT(at, len);
    if (fd >= 0)
        coro_close(fd);
    st_down(&sv);
    return NULL;
}

/* ---- the graceful stop ---- */

typedef struct reader {
    int fd;
    char buf[2048];
    size_t len;
    int how;
    int64_t ms;           /* from the stop to the close */
    int64_t stop_at;
} reader;

static void *read_to_close(void *arg)
{
    reader *r = arg;
    r->how = st_read_all(r->fd, r->buf, sizeof r->buf, 3000 * st_slow(), &r->len);
    r->ms = ts_now_ms() - r->stop_at;
    coro_close(r->fd);                 /* as a client does after "close" */
    return NULL;
}

/* Stop with a request in flight, a kept-alive idle connection and one
 * that never sent a byte: the idle two close at once, the request is
 * answered (Connection: close), run returns when it is done, and the port
 * is closed to new connections. */
static void *stop_graceful(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, hostile_routes, NULL) < 0)
        return NULL;
    int busy = st_connect(AF_INET, sv.port), kept = st_connect(AF_INET, sv.port);
    int silent = st_connect(AF_INET, sv.port);
    char tmp[256];
    CHECK_INT(st_send(kept, "GET /warm HTTP/1.1\r\n" H "\r\n"), 0);
    CHECK(io_read(kept, tmp, sizeof tmp, coro_deadline_in(2000)) > 0);  /* now idle */
    CHECK_INT(st_send(busy, "GET /slow HTTP/1.1\r\n" H "\r\n"), 0);
    coro_sleep_until(coro_deadline_in(50));       /* /slow is in its handler */
    reader r[3] = {{.fd = busy}, {.fd = kept}, {.fd = silent}};
    coro_t *co[3];
    int64_t t0 = ts_now_ms();
    for (int i = 0; i < 3; i++) {
        r[i].stop_at = t0;
        co[i] = coro_spawn(read_to_close, &r[i], NULL);
    }
    http_server_stop(sv.s, coro_deadline_in(2000));
    for (int i = 0; i < 3; i++)
        coro_join(co[i], NULL);
    coro_join(sv.runner, NULL);
    int64_t run_ms = ts_now_ms() - t0;
    size_t at = 0;
    st_answer a;
    if (CHECK_INT(r[0].how, ST_EOF) && CHECK(st_next_answer(r[0].buf, r[0].len, &at, false, &a)))
        if (CHECK_STR(a.body, "slow"))
            CHECK(st_head_has(&a, "Connection: close"));
    CHECK(r[0].ms >= 200 && r[0].ms <= 1000 * st_slow());
    for (int i = 1; i < 3; i++)
        if (!CHECK_INT(r[i].how, ST_EOF) || !CHECK_INT(r[i].len, 0) ||
            !CHECK(r[i].ms < 150 * st_slow()))
            fprintf(stderr, "    idle connection %d: %d after %lld ms\n", i, r[i].how,
                    (long long)r[i].ms);
    if (!CHECK(run_ms >= 200 && run_ms < 900 * st_slow()))
        fprintf(stderr, "    http_server_run returned after %lld ms\n", (long long)run_ms);
    CHECK_INT(sv.run_rc, 0);
    int late = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sv.port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_INT(io_connect(late, (struct sockaddr *)&addr, sizeof addr, coro_deadline_in(1000)), -1);
    CHECK_INT(errno, ECONNREFUSED);
    coro_close(late);
    http_server_close(sv.s);
    return NULL;
}

/* A handler that outlives the drain deadline is cancelled there: its
 * connection closes without an answer, and run returns. */
static void *stop_deadline(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, hostile_routes, NULL) < 0)
        return NULL;
    int fd = st_connect(AF_INET, sv.port);
    CHECK_INT(st_send(fd, "GET /forever HTTP/1.1\r\n" H "\r\n"), 0);
    coro_sleep_until(coro_deadline_in(20));
    int64_t t0 = ts_now_ms();
    http_server_stop(sv.s, coro_deadline_in(200));
    http_server_stop(sv.s, coro_deadline_in(5000));   /* later: ignored */
    coro_join(sv.runner, NULL);
    int64_t ms = ts_now_ms() - t0;
    if (!CHECK(ms >= 180 && ms < 1000 * st_slow()))
        fprintf(stderr, "    run returned after %lld ms\n", (long long)ms);
    char buf[256];
    size_t len;
    CHECK_INT(st_read_all(fd, buf, sizeof buf, 1000, &len), ST_EOF);
    CHECK_INT(len, 0);
    CHECK_STR(sv.last_closed, "cancelled at the stop's deadline");
    coro_close(fd);
    http_server_close(sv.s);
    return NULL;
}

/* The runner's coroutine cancelled: every connection is cancelled at
 * once, and run returns -1/ECANCELED. */
static void *runner_cancelled(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, hostile_routes, NULL) < 0)
        return NULL;
    int fd = st_connect(AF_INET, sv.port);
    CHECK_INT(st_send(fd, "GET /forever HTTP/1.1\r\n" H "\r\n"), 0);
    coro_sleep_until(coro_deadline_in(20));
    coro_cancel(sv.runner);
    coro_join(sv.runner, NULL);
    CHECK_INT(sv.run_rc, -1);
    CHECK_INT(sv.closed, 1);
    CHECK_INT(http_server_run(sv.s), 0);              /* again: at once */
    coro_close(fd);
    http_server_close(sv.s);
    return NULL;
}

/* stop before run: run returns at once. */
static void *stop_before_run(void *arg)
{
    (void)arg;
    http_server *s = http_server_open(NULL, hostile_routes, NULL);
    if (!CHECK(s != NULL))
        return NULL;
    http_server_stop(s, CORO_NEVER);
    CHECK_INT(http_server_run(s), 0);
    http_server_close(s);
    http_server_close(NULL);
    return NULL;
}

#define RUNNER(fn) static void run_##fn(void) { st_run_case(fn); }
RUNNER(reset_mid_body)
RUNNER(never_reads)
RUNNER(garbage_after_valid)
RUNNER(stop_graceful)
RUNNER(stop_deadline)
RUNNER(runner_cancelled)
RUNNER(stop_before_run)
#define CASE(fn) {#fn, run_##fn}

static const check_case cases[] = {
    CASE(reset_mid_body), CASE(never_reads), CASE(garbage_after_valid),
    CASE(stop_graceful), CASE(stop_deadline), CASE(runner_cancelled),
    CASE(stop_before_run),
};

int main(void)
{
    return check_run(cases, sizeof cases / sizeof cases[0], 1);
}
