/* test_hostile.c - servers that misbehave on purpose, and faults in the
 * runtime under the client.
 *
 * Every case must end with the documented HTTP_E_* code, within a bounded
 * time (checked with generous margins), with every fd closed (ts_run
 * counts them before and after).  The scripted server (testserver.h)
 * plays most of them; a one-connection server of our own (rawsrv) does
 * what a script cannot: a tiny receive buffer so that a big request
 * blocks the client's write, an endless chunked body, an answer before
 * the request is read; and a thread that floods faster than the client
 * reads.  Cases that could kill the process (SIGPIPE) or
 * that change process limits run in a child process.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "coro.h"
#include "io.h"
#include "testserver.h"

#define BIG_REQUEST (4 << 20) /* a request head far above any socket buffer */

/* Upper bounds on elapsed times are multiplied by this under valgrind or
 * ASan, which slow everything down. */
static int slow(void)
{
    return ts_slow_tools() ? 5 : 1;
}

static http_client *client_with(int64_t read_ms, int64_t total_ms)
{
    http_client_opts o = {.connect_timeout_ms = 2000, .read_timeout_ms = read_ms,
                          .total_timeout_ms = total_ms};
    return http_client_open(&o);
}

/* SUSPENDS.  One request; returns its code, the response (maybe NULL) in
 * *r and the time it took in *ms. */
static int timed_send(http_client *c, const http_request *req, http_response **r,
                      int64_t *ms)
{
    int64_t t0 = ts_now_ms();
    int err = http_send(c, req, r);
    *ms = ts_now_ms() - t0;
    return err;
}

/* The code and the time window a case must end with. */
static void expect(const char *what, int err, int want, int64_t ms, int64_t lo, int64_t hi)
{
    if (!CHECK_INT(err, want))
        fprintf(stderr, "    %s: got %d (%s), errno %d\n", what, err, http_strerror(err), errno);
    int64_t most = hi * slow();
    if (!CHECK(ms >= lo && ms <= most))
        fprintf(stderr, "    %s: took %lld ms, expected %lld..%lld\n", what,
                (long long)ms, (long long)lo, (long long)most);
}

/* "X-Big: vvvv...", BIG_REQUEST bytes: a request head that cannot fit in
 * any socket buffer.  Freed by the caller. */
static char *big_header(void)
{
    char *h = malloc(BIG_REQUEST);
    if (!h)
        abort();
    memset(h, 'v', BIG_REQUEST - 1);
    memcpy(h, "X-Big: ", 7);
    h[BIG_REQUEST - 1] = '\0';
    return h;
}

/* ---- rawsrv: a one-connection server of our own ---- */

typedef struct rawsrv rawsrv;

struct rawsrv {
    int lfd;
    char url[64];
    void (*play)(rawsrv *s, int fd); /* SUSPENDS: what to do with the connection */
    const char *reply;               /* what play sends, if it sends */
    coro_t *co;
};

static void srv_reset_on_close(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static void *rawsrv_main(void *arg)
{
    rawsrv *s = arg;
    int fd = io_accept(s->lfd, NULL, NULL, CORO_NEVER);
    if (fd >= 0) {
        s->play(s, fd);
        coro_close(fd);
    }
    return NULL;
}

/* Listens on 127.0.0.1 with a receive buffer of `rcvbuf` bytes (0: the
 * default), inherited by the accepted socket.  Does not suspend. */
static int rawsrv_start(rawsrv *s, int rcvbuf, void (*play)(rawsrv *, int),
                        const char *reply)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    s->play = play;
    s->reply = reply;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->lfd < 0)
        return -1;
    if (rcvbuf)
        setsockopt(s->lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(s->lfd, 4) < 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &len) < 0) {
        close(s->lfd);
        return -1;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    s->co = coro_spawn(rawsrv_main, s, &(coro_opts){.name = "rawsrv", .stack_size = 256 << 10});
    return s->co ? 0 : -1;
}

/* SUSPENDS until the server's coroutine has ended. */
static void rawsrv_stop(rawsrv *s)
{
    coro_cancel(s->co);
    coro_join(s->co, NULL);
    coro_close(s->lfd);
}

static void play_never_read(rawsrv *s, int fd)
{
    (void)s, (void)fd;
    coro_sleep_until(CORO_NEVER); /* until rawsrv_stop cancels us */
}

/* SUSPENDS.  Waits for the first bytes of the request, so that the client
 * is connected and writing, then sends the answer.  0 or -1. */
static int answer_early(rawsrv *s, int fd)
{
    char buf[512];
    if (io_read(fd, buf, sizeof buf, coro_deadline_in(2000)) <= 0)
        return -1;
    return io_send(fd, s->reply, strlen(s->reply), CORO_NEVER) < 0 ? -1 : 0;
}

static void play_answer_then_drain(rawsrv *s, int fd)
{
    char buf[4096];
    if (answer_early(s, fd) == 0)
        while (io_read(fd, buf, sizeof buf, CORO_NEVER) > 0)
            ;
}

static void play_answer_then_reset(rawsrv *s, int fd)
{
    answer_early(s, fd);
    srv_reset_on_close(fd);
}

/* The answer and a FIN first (the client's side goes to CLOSE_WAIT), the
 * RST a moment later: the client's next write then fails with EPIPE,
 * which also raises SIGPIPE unless the write says MSG_NOSIGNAL. */
static void play_answer_fin_then_reset(rawsrv *s, int fd)
{
    answer_early(s, fd);
    shutdown(fd, SHUT_WR);
    coro_sleep_until(coro_deadline_in(30));
    srv_reset_on_close(fd);
}

/* A chunked body that never ends: 16 KiB chunks until the client leaves. */
static void play_endless_chunks(rawsrv *s, int fd)
{
    static char chunk[6 + 16384 + 2];
    memcpy(chunk, "4000\r\n", 6);
    memset(chunk + 6, 'c', 16384);
    memcpy(chunk + 6 + 16384, "\r\n", 2);
    char buf[4096];
    if (io_read(fd, buf, sizeof buf, coro_deadline_in(2000)) <= 0)
        return;
    if (io_send(fd, s->reply, strlen(s->reply), CORO_NEVER) < 0)
        return;
    while (io_send(fd, chunk, sizeof chunk, CORO_NEVER) > 0)
        ;
}

/* ---- slowloris ---- */

#define SMALL_OK "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

/* One byte per 300 ms, read timeout 100 ms: cut off after the first byte. */
static void test_slowloris_head(void *arg)
{
    (void)arg;
    static const ts_step script[] = {TS_READ(), TS_DRIP(SMALL_OK, 1, 300), TS_END()};
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = client_with(100, 0);
    http_request req = {.url = ts_url(ts, "/")};
    http_response *r = NULL;
    int64_t ms;
    int err = timed_send(c, &req, &r, &ms);
    expect("slowloris head", err, HTTP_E_READ_TIMEOUT, ms, 90, 1000);
    CHECK(r == NULL); /* no head had arrived */
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

/* The head at once, then the body one byte per 300 ms: a partial response. */
static void test_slowloris_body(void *arg)
{
    (void)arg;
    static const ts_step script[] = {
        TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
        TS_DRIP("hello", 1, 300), TS_END()};
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = client_with(100, 0);
    http_request req = {.url = ts_url(ts, "/")};
    http_response *r = NULL;
    int64_t ms;
    int err = timed_send(c, &req, &r, &ms);
    expect("slowloris body", err, HTTP_E_READ_TIMEOUT, ms, 90, 1000);
    if (CHECK(r != NULL)) {
        CHECK_INT(r->status, 200);
        CHECK(r->body_len <= 1);
    }
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

/* Each byte well within the read timeout, the whole far beyond the total
 * deadline: the total deadline ends it. */
static void test_slowloris_total(void *arg)
{
    (void)arg;
    static const ts_step script[] = {TS_READ(), TS_DRIP(SMALL_OK, 1, 20), TS_END()};
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = client_with(1000, 300);
    http_request req = {.url = ts_url(ts, "/")};
    http_response *r = NULL;
    int64_t ms;
    int err = timed_send(c, &req, &r, &ms);
    expect("slowloris total", err, HTTP_E_TOTAL_TIMEOUT, ms, 290, 1500);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

/* ---- resets ---- */

#define RESET_BODY 1000

/* The server resets after k bytes of a 200 with a 1000-byte body, for
 * k = 0, the edges of the head and the body, and points drawn from a
 * fixed seed.  Before the last byte: HTTP_E_RESET (with a partial
 * response once the head is in); at the end: the full response. */
static void test_reset_points(void *arg)
{
    (void)arg;
    static char resp[128 + RESET_BODY];
    int head = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
                        RESET_BODY);
    memset(resp + head, 'r', RESET_BODY);
    size_t total = (size_t)head + RESET_BODY;
    size_t points[16] = {0, 1, (size_t)head - 1, (size_t)head, total - 1, total};
    unsigned seed = 20240601;
    for (int i = 6; i < 16; i++) {
        seed = seed * 1103515245u + 12345u;
        points[i] = (seed >> 8) % total;
    }
    http_client *c = client_with(2000, 5000);
    for (int i = 0; i < 16; i++) {
        ts_step script[] = {TS_READ(), TS_SEND_N(resp, points[i]), TS_SLEEP(0), TS_RESET()};
        if (points[i] == 0)
            script[1] = (ts_step)TS_SLEEP(0);
        testserver *ts = ts_start(AF_INET, script);
        http_request req = {.url = ts_url(ts, "/")};
        http_response *r = NULL;
        int64_t ms;
        int err = timed_send(c, &req, &r, &ms);
        char what[64];
        snprintf(what, sizeof what, "reset after %zu of %zu bytes", points[i], total);
        expect(what, err, points[i] == total ? HTTP_OK : HTTP_E_RESET, ms, 0, 1000);
        CHECK_INT(r != NULL, points[i] >= (size_t)head);
        if (r && points[i] < total)
            CHECK_INT(r->body_len + (size_t)head <= points[i], 1);
        http_response_free(r);
        ts_stop(ts);
    }
    http_client_close(c);
}

/* ---- a server that never reads ---- */

/* The request is far bigger than the socket buffers and the server never
 * reads it: the client's write blocks, and a timeout must end it. */
static void test_never_reads(void *arg)
{
    (void)arg;
    char *big = big_header();
    const char *headers[] = {big};
    static const struct { int64_t read_ms, total_ms; int want; } cases[] = {
        {200, 0, HTTP_E_READ_TIMEOUT},   /* the per-step timeout covers writing */
        {-1, 300, HTTP_E_TOTAL_TIMEOUT}, /* no step timeout: the total one */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rawsrv s;
        if (!CHECK_INT(rawsrv_start(&s, 4096, play_never_read, NULL), 0))
            break;
        http_client *c = client_with(cases[i].read_ms, cases[i].total_ms);
        http_request req = {.url = s.url, .headers = headers, .n_headers = 1};
        http_response *r = NULL;
        int64_t ms;
        int err = timed_send(c, &req, &r, &ms);
        int64_t limit = cases[i].read_ms > 0 ? cases[i].read_ms : cases[i].total_ms;
        expect("server never reads", err, cases[i].want, ms, limit - 10, limit + 1000);
        CHECK(r == NULL);
        http_response_free(r);
        http_client_close(c);
        rawsrv_stop(&s);
    }
    free(big);
}

/* ---- endless heads and bodies ---- */

static char endless_head[1 << 20]; /* "HTTP/1.1 200 OK\r\nX-Endless: aaaa..." */

static void test_endless_header(void *arg)
{
    (void)arg;
    static const ts_step script[] = {
        TS_READ(), TS_SEND_N(endless_head, sizeof endless_head), TS_DRAIN()};
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = client_with(2000, 0);
    http_request req = {.url = ts_url(ts, "/")};
    http_response *r = NULL;
    int64_t ms;
    int err = timed_send(c, &req, &r, &ms);
    expect("endless header", err, HTTP_E_HEAD_TOO_LARGE, ms, 0, 1000);
    CHECK(r == NULL);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

/* "100 Continue" after "100 Continue", forever. */
static void play_endless_1xx(rawsrv *s, int fd)
{
    (void)s;
    static char block[25 * 400];
    for (size_t i = 0; i < sizeof block; i += 25)
        memcpy(block + i, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    char buf[4096];
    if (io_read(fd, buf, sizeof buf, coro_deadline_in(2000)) <= 0)
        return;
    while (io_send(fd, block, sizeof block, CORO_NEVER) > 0)
        ;
}

/* Interim (1xx) heads are skipped, but not without end: their bytes count
 * against max_head_bytes like any head's.  (A total deadline guards the
 * test; it must not be what stops the request.) */
static void test_endless_1xx(void *arg)
{
    (void)arg;
    rawsrv s;
    if (!CHECK_INT(rawsrv_start(&s, 0, play_endless_1xx, NULL), 0))
        return;
    http_client *c = client_with(2000, 3000);
    http_request req = {.url = s.url};
    http_response *r = NULL;
    int64_t ms;
    int err = timed_send(c, &req, &r, &ms);
    expect("endless 100 Continue", err, HTTP_E_HEAD_TOO_LARGE, ms, 0, 1000);
    http_response_free(r);
    http_client_close(c);
    rawsrv_stop(&s);
}

/* max_head_bytes below the client's first read buffer (16 KiB): a head
 * over the limit is refused even when it arrives in a single read. */
static void test_small_head_limit(void *arg)
{
    (void)arg;
    static char head[5000 + 64];
    static const char start[] = "HTTP/1.1 200 OK\r\nX-Long: ";
    static const char end[] = "\r\nContent-Length: 2\r\n\r\nok";
    memset(head, 'l', 5000);
    memcpy(head, start, sizeof start - 1);
    memcpy(head + 5000, end, sizeof end);
    static const ts_step script[] = {TS_READ(), TS_SEND(head), TS_DRAIN()};
    testserver *ts = ts_start(AF_INET, script);
    http_client_opts o = {.read_timeout_ms = 2000, .max_head_bytes = 1000};
    http_client *c = http_client_open(&o);
    http_request req = {.url = ts_url(ts, "/")};
    http_response *r = NULL;
    int64_t ms;
    int err = timed_send(c, &req, &r, &ms);
    expect("5000-byte head, max_head_bytes 1000", err, HTTP_E_HEAD_TOO_LARGE, ms, 0, 1000);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

static int count_sink(void *user, const char *data, size_t len)
{
    (void)data;
    *(size_t *)user += len;
    return 0;
}

/* An endless chunked body: max_body stops it; without max_body (streamed
 * to a sink, so memory stays flat) the total deadline does. */
static void test_endless_chunked(void *arg)
{
    (void)arg;
    for (int with_limit = 1; with_limit >= 0; with_limit--) {
        rawsrv s;
        if (!CHECK_INT(rawsrv_start(&s, 0, play_endless_chunks, CHUNKED_HEAD), 0))
            break;
        http_client *c = client_with(2000, with_limit ? 0 : 300);
        size_t got = 0;
        http_request req = {.url = s.url, .max_body = with_limit ? 1 << 20 : 0,
                            .sink = with_limit ? NULL : count_sink, .sink_user = &got};
        http_response *r = NULL;
        int64_t ms;
        int err = timed_send(c, &req, &r, &ms);
        if (with_limit) {
            expect("endless chunked, max_body 1 MiB", err, HTTP_E_BODY_TOO_LARGE, ms, 0, 2000);
            CHECK(r && r->body_len <= (1 << 20));
        } else {
            expect("endless chunked, total 300 ms", err, HTTP_E_TOTAL_TIMEOUT, ms, 290, 2000);
            CHECK(got > 0);
        }
        http_response_free(r);
        http_client_close(c);
        rawsrv_stop(&s);
    }
}

/* ---- a server that never lets a read wait ---- */

/* A thread of its own (blocking calls on its own socket, nothing of the
 * runtime) that answers with an endless chunked body as fast as the
 * kernel takes it: the client's socket is never empty, so no read ever
 * has to wait. */
typedef struct flood {
    int lfd;
    int port;
    pthread_t thread;
} flood;

static void *flood_main(void *arg)
{
    flood *f = arg;
    static char chunk[6 + 16384 + 2];
    memcpy(chunk, "4000\r\n", 6);
    memset(chunk + 6, 'f', 16384);
    memcpy(chunk + 6 + 16384, "\r\n", 2);
    int fd = accept(f->lfd, NULL, NULL);
    char buf[4096];
    if (fd >= 0 && read(fd, buf, sizeof buf) > 0 &&
        send(fd, CHUNKED_HEAD, strlen(CHUNKED_HEAD), MSG_NOSIGNAL) > 0)
        while (send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) > 0)
            ;
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int flood_start(flood *f)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(f->lfd, 1) < 0 || getsockname(f->lfd, (struct sockaddr *)&a, &len) < 0)
        return -1;
    f->port = ntohs(a.sin_port);
    return pthread_create(&f->thread, NULL, flood_main, f) == 0 ? 0 : -1;
}

/* A sink slower than the flood (1 ms of work per call), which gives up
 * after 5 s so that a missed deadline fails the test instead of hanging it. */
static int slow_sink(void *user, const char *data, size_t len)
{
    (void)data, (void)len;
    int64_t *started = user, t = coro_now();
    while (coro_now() - t < 1000000)
        ;
    return coro_now() - *started > 5000000000 ? -1 : 0;
}

/* total_timeout_ms is for the whole request even when every read finds
 * bytes waiting (io_read only looks at its deadline when it must wait). */
static void test_flood_total(void *arg)
{
    (void)arg;
    flood f;
    if (!CHECK_INT(flood_start(&f), 0))
        return;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", f.port);
    http_client *c = client_with(2000, 300);
    int64_t started = coro_now();
    http_request req = {.url = url, .sink = slow_sink, .sink_user = &started};
    http_response *r = NULL;
    int64_t ms;
    int err = timed_send(c, &req, &r, &ms);
    expect("a server that never lets a read wait, total 300 ms", err, HTTP_E_TOTAL_TIMEOUT,
           ms, 290, 1500);
    http_response_free(r);
    http_client_close(c); /* the flood's next send fails: it ends */
    pthread_join(f.thread, NULL);
    close(f.lfd);
}

/* ---- an answer before the request is written ---- */

#define EARLY_ANSWER "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

/* The server answers at once, then reads the (big) request: the client
 * finishes writing and finds the answer waiting. */
static void test_early_answer_drained(void *arg)
{
    (void)arg;
    char *big = big_header();
    const char *headers[] = {big};
    rawsrv s;
    if (CHECK_INT(rawsrv_start(&s, 4096, play_answer_then_drain, EARLY_ANSWER), 0)) {
        http_client *c = client_with(2000, 0);
        http_request req = {.url = s.url, .headers = headers, .n_headers = 1};
        http_response *r = NULL;
        int64_t ms;
        int err = timed_send(c, &req, &r, &ms);
        expect("early answer, request drained", err, HTTP_OK, ms, 0, 3000);
        if (r)
            CHECK_STR(r->body, "ok");
        http_response_free(r);
        http_client_close(c);
        rawsrv_stop(&s);
    }
    free(big);
}

/* The server answers, then resets while the client is still writing. */
static void early_answer_reset(void (*play)(rawsrv *, int), const char *what)
{
    char *big = big_header();
    const char *headers[] = {big};
    rawsrv s;
    if (CHECK_INT(rawsrv_start(&s, 4096, play, EARLY_ANSWER), 0)) {
        http_client *c = client_with(2000, 0);
        http_request req = {.url = s.url, .headers = headers, .n_headers = 1};
        http_response *r = NULL;
        int64_t ms;
        int err = timed_send(c, &req, &r, &ms);
        expect(what, err, HTTP_E_RESET, ms, 0, 1000);
        http_response_free(r);
        http_client_close(c);
        rawsrv_stop(&s);
    }
    free(big);
}

static void test_early_answer_reset(void *arg)
{
    (void)arg;
    early_answer_reset(play_answer_then_reset, "early answer, then RST");
}

static void test_early_answer_fin_reset(void *arg)
{
    (void)arg;
    early_answer_reset(play_answer_fin_then_reset, "early answer, FIN, then RST");
}

/* ---- half-close ---- */

/* shutdown(SHUT_WR) after a complete response is fine; the idle
 * connection is then dead, and the next request must notice that and go
 * out on a new connection. */
static void test_half_close_after_response(void *arg)
{
    (void)arg;
    static const ts_step script[] = {
        TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        TS_SHUTDOWN_WR(), TS_DRAIN()};
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = client_with(2000, 0);
    for (int i = 0; i < 2; i++) {
        http_response *r = NULL;
        int64_t t0 = ts_now_ms();
        int err = http_get(c, ts_url(ts, "/"), &r);
        expect("half-close after a complete response", err, HTTP_OK, ts_now_ms() - t0, 0, 1000);
        if (r)
            CHECK_STR(r->body, "ok");
        http_response_free(r);
    }
    CHECK_INT(ts_connections(ts), 2);
    http_client_close(c);
    ts_stop(ts);
}

/* shutdown(SHUT_WR) in the middle: of a head, a length body, chunks. */
static void test_half_close_midway(void *arg)
{
    (void)arg;
    static const struct { const char *sent; int want; } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Le", HTTP_E_MALFORMED},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", HTTP_E_TRUNCATED},
        {CHUNKED_HEAD "5\r\nhello\r\n5\r\nwo", HTTP_E_TRUNCATED},
    };
    http_client *c = client_with(2000, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts_step script[] = {TS_READ(), TS_SEND(cases[i].sent), TS_SHUTDOWN_WR(), TS_DRAIN()};
        testserver *ts = ts_start(AF_INET, script);
        http_response *r = NULL;
        int64_t t0 = ts_now_ms();
        int err = http_get(c, ts_url(ts, "/"), &r);
        expect(cases[i].sent, err, cases[i].want, ts_now_ms() - t0, 0, 1000);
        if (cases[i].want == HTTP_E_TRUNCATED && CHECK(r != NULL))
            CHECK_INT(r->body_len, i == 1 ? 4 : 7); /* "half", "hellowo" */
        http_response_free(r);
        ts_stop(ts);
    }
    http_client_close(c);
}

/* ---- faults in the runtime ---- */

/* Kilobytes of address space in use (VmSize). */
static long vm_size_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void *return_arg(void *arg)
{
    return arg;
}

/* Out of address space for a stack: coro_spawn says ENOMEM, and the
 * runtime goes on.  (Run in a child: it lowers RLIMIT_AS.) */
static void test_spawn_enomem(void *arg)
{
    (void)arg;
    struct rlimit old;
    getrlimit(RLIMIT_AS, &old);
    struct rlimit low = old;
    low.rlim_cur = (rlim_t)(vm_size_kb() + 512L * 1024) * 1024; /* 512 MiB more */
    CHECK_INT(setrlimit(RLIMIT_AS, &low), 0);
    errno = 0;
    coro_t *huge = coro_spawn(return_arg, NULL, &(coro_opts){.stack_size = 768 << 20});
    CHECK(huge == NULL);
    CHECK_INT(errno, ENOMEM);
    coro_t *fine = coro_spawn(return_arg, (void *)7, NULL); /* small ones still work */
    void *result = NULL;
    if (CHECK(fine != NULL))
        CHECK_INT(coro_join(fine, &result), 0);
    CHECK(result == (void *)7);
    setrlimit(RLIMIT_AS, &old);
    huge = coro_spawn(return_arg, NULL, &(coro_opts){.stack_size = 768 << 20});
    if (CHECK(huge != NULL)) /* and with the limit back, the big one too */
        CHECK_INT(coro_join(huge, NULL), 0);
    errno = 0;
    CHECK(coro_spawn(return_arg, NULL, &(coro_opts){.stack_size = (size_t)4 << 30}) == NULL);
    CHECK_INT(errno, EINVAL); /* absurd sizes are refused before trying */
}

typedef struct cancel_job {
    http_client *client;
    const char *url;
    int err;
} cancel_job;

static void *get_job(void *arg)
{
    cancel_job *j = arg;
    http_response *r = NULL;
    j->err = http_get(j->client, j->url, &r);
    http_response_free(r);
    return NULL;
}

/* A request cancelled halfway through its response must not give its
 * connection back to the pool: the next request goes out on a new one
 * (and succeeds), and the one after that reuses it. */
static void test_cancel_mid_request(void *arg)
{
    (void)arg;
    static const ts_step script[] = {
        TS_READ(), TS_DRIP("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
                           "0123456789012345678901234567890123456789", 4, 20),
        TS_LOOP()};
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = client_with(2000, 0);
    cancel_job j = {.client = c, .url = ts_url(ts, "/")};
    coro_t *co = coro_spawn(get_job, &j, NULL);
    coro_sleep_until(coro_deadline_in(60)); /* the head is in, the body not */
    coro_cancel(co);
    coro_join(co, NULL);
    CHECK_INT(j.err, HTTP_E_CANCELLED);
    for (int i = 0; i < 2; i++) {
        http_response *r = NULL;
        CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK);
        if (r)
            CHECK_INT(r->body_len, 40);
        http_response_free(r);
    }
    CHECK_INT(ts_requests(ts), 3);
    CHECK_INT(ts_request_connection(ts, 1), 1); /* a new connection */
    CHECK_INT(ts_request_connection(ts, 2), 1); /* kept and reused */
    CHECK_INT(ts_connections(ts), 2);
    http_client_close(c);
    ts_stop(ts);
}

/* ---- running ---- */

/* Runs a case in a child process and checks how the child ended: for
 * cases that change process limits, or that could kill the process (a
 * client must survive a hostile server, SIGPIPE included). */
static void run_in_child(const char *name, void (*body)(void *))
{
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        CHECK(pid >= 0);
        return;
    }
    if (pid == 0) {
        check_failures = 0; /* the parent's, copied by fork */
        int rc = ts_run(name, body, NULL);
        _exit(rc == 0 && check_summary() == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        fprintf(stderr, "    %s: the process was killed by signal %d (%s)\n", name,
                WTERMSIG(st), strsignal(WTERMSIG(st)));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
    static const char start[] = "HTTP/1.1 200 OK\r\nX-Endless: ";
    memset(endless_head, 'a', sizeof endless_head);
    memcpy(endless_head, start, sizeof start - 1);

    CHECK_INT(ts_run("hostile: slowloris head (read timeout)", test_slowloris_head, NULL), 0);
    CHECK_INT(ts_run("hostile: slowloris body (read timeout)", test_slowloris_body, NULL), 0);
    CHECK_INT(ts_run("hostile: slowloris (total deadline)", test_slowloris_total, NULL), 0);
    CHECK_INT(ts_run("hostile: resets at 16 points", test_reset_points, NULL), 0);
    CHECK_INT(ts_run("hostile: never reads a big request", test_never_reads, NULL), 0);
    CHECK_INT(ts_run("hostile: endless header", test_endless_header, NULL), 0);
    CHECK_INT(ts_run("hostile: endless 100 Continue", test_endless_1xx, NULL), 0);
    CHECK_INT(ts_run("hostile: head over a small max_head_bytes", test_small_head_limit, NULL), 0);
    CHECK_INT(ts_run("hostile: endless chunked body", test_endless_chunked, NULL), 0);
    CHECK_INT(ts_run("hostile: a flood that never lets a read wait (total deadline)",
                     test_flood_total, NULL), 0);
    CHECK_INT(ts_run("hostile: answer before the request is read, then drain",
                     test_early_answer_drained, NULL), 0);
    CHECK_INT(ts_run("hostile: answer before the request is read, then RST",
                     test_early_answer_reset, NULL), 0);
    run_in_child("hostile: answer, FIN, then RST while the client writes (SIGPIPE?)",
                 test_early_answer_fin_reset);
    CHECK_INT(ts_run("hostile: half-close after a response", test_half_close_after_response,
                     NULL), 0);
    CHECK_INT(ts_run("hostile: half-close midway", test_half_close_midway, NULL), 0);
    if (check_under_qemu()) /* it keeps RLIMIT_AS for its own mappings */
        fprintf(stderr, "-- faults: no address space for a stack: skipped, qemu-user "
                        "ignores setrlimit(RLIMIT_AS)\n");
    else
        run_in_child("faults: no address space for a stack", test_spawn_enomem);
    CHECK_INT(ts_run("faults: cancelled mid-request", test_cancel_mid_request, NULL), 0);
    return check_summary();
}
