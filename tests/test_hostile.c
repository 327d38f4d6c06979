/* test_hostile.c - servers that are slow, stall or never end, against the
 * HTTP client: slowloris, a server that never reads, endless heads and
 * bodies, and a flood that never lets a read wait.
 *
 * Every case must end with the documented HTTP_E_* code, within a bounded
 * time (checked with generous margins), with every fd closed (ts_run
 * counts them before and after).  The scripted server (testserver.h)
 * plays most of them; a one-connection server of our own (rawsrv.h) does
 * what a script cannot: a tiny receive buffer so that a big request
 * blocks the client's write, an endless chunked body; and a thread that
 * floods faster than the client reads.  The helpers the hostile programs
 * share are in hostile.h; resets, early answers and half-close are in
 * test_hostile_close.c, faults in the runtime in test_hostile_faults.c.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "hostile.h"
#include <bareawait/io.h>
#include "rawsrv.h"
#include "testserver.h"

/* ---- slowloris ---- */

#define SMALL_OK "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

/* One request to a scripted server: what it plays, the client's options,
 * and the code and time window the request must end with. */
typedef struct scripted_case {
    const char *what;
    const ts_step *script;
    http_client_opts opts;
    int want;
    int64_t lo_ms, hi_ms;
} scripted_case;

/* SUSPENDS.  Runs case k and checks its code and time; returns the
 * response (NULL if none) for the caller's own checks, and to free. */
static http_response *against_script(const scripted_case *k)
{
    testserver *ts = ts_start(AF_INET, k->script);
    http_client *c = http_client_open(&k->opts);
    http_request req = {.url = ts_url(ts, "/")};
    http_response *r = NULL;
    int64_t ms;
    int err = timed_send(c, &req, &r, &ms);
    expect(k->what, err, k->want, ms, k->lo_ms, k->hi_ms);
    http_client_close(c);
    ts_stop(ts);
    return r;
}

/* One byte per 300 ms, read timeout 100 ms: cut off after the first byte. */
static void test_slowloris_head(void *arg)
{
    (void)arg;
    static const ts_step script[] = {TS_READ(), TS_DRIP(SMALL_OK, 1, 300), TS_END()};
    static const scripted_case k = {"slowloris head", script,
        {.connect_timeout_ms = 2000, .read_timeout_ms = 100}, HTTP_E_READ_TIMEOUT, 90, 1000};
    http_response *r = against_script(&k);
    CHECK(r == NULL); /* no head had arrived */
    http_response_free(r);
}

/* The head at once, then the body one byte per 300 ms: a partial response. */
static void test_slowloris_body(void *arg)
{
    (void)arg;
    static const ts_step script[] = {
        TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
        TS_DRIP("hello", 1, 300), TS_END()};
    static const scripted_case k = {"slowloris body", script,
        {.connect_timeout_ms = 2000, .read_timeout_ms = 100}, HTTP_E_READ_TIMEOUT, 90, 1000};
    http_response *r = against_script(&k);
    if (CHECK(r != NULL)) {
        CHECK_INT(r->status, 200);
        CHECK(r->body_len <= 1);
    }
    http_response_free(r);
}

/* Each byte well within the read timeout, the whole far beyond the total
 * deadline: the total deadline ends it. */
static void test_slowloris_total(void *arg)
{
    (void)arg;
    static const ts_step script[] = {TS_READ(), TS_DRIP(SMALL_OK, 1, 20), TS_END()};
    static const scripted_case k = {"slowloris total", script,
        {.connect_timeout_ms = 2000, .read_timeout_ms = 1000, .total_timeout_ms = 300},
        HTTP_E_TOTAL_TIMEOUT, 290, 1500};
    http_response_free(against_script(&k));
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
        if (!CHECK_INT(rawsrv_start(&s, 4096, rawsrv_play_never_read, NULL), 0))
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
    static const scripted_case k = {"endless header", script,
        {.connect_timeout_ms = 2000, .read_timeout_ms = 2000}, HTTP_E_HEAD_TOO_LARGE, 0, 1000};
    http_response *r = against_script(&k);
    CHECK(r == NULL);
    http_response_free(r);
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
    static const scripted_case k = {"5000-byte head, max_head_bytes 1000", script,
        {.connect_timeout_ms = 2000, .read_timeout_ms = 2000, .max_head_bytes = 1000},
        HTTP_E_HEAD_TOO_LARGE, 0, 1000};
    http_response_free(against_script(&k));
}

static int count_sink(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns;
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
        if (!CHECK_INT(rawsrv_start(&s, 0, rawsrv_play_endless_chunks, CHUNKED_HEAD), 0))
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
static int slow_sink(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns;
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

int main(void)
{
    static const char start[] = "HTTP/1.1 200 OK\r\nX-Endless: ";
    memset(endless_head, 'a', sizeof endless_head);
    memcpy(endless_head, start, sizeof start - 1);

    CHECK_INT(ts_run("hostile: slowloris head (read timeout)", test_slowloris_head, NULL), 0);
    CHECK_INT(ts_run("hostile: slowloris body (read timeout)", test_slowloris_body, NULL), 0);
    CHECK_INT(ts_run("hostile: slowloris (total deadline)", test_slowloris_total, NULL), 0);
    CHECK_INT(ts_run("hostile: never reads a big request", test_never_reads, NULL), 0);
    CHECK_INT(ts_run("hostile: endless header", test_endless_header, NULL), 0);
    CHECK_INT(ts_run("hostile: endless 100 Continue", test_endless_1xx, NULL), 0);
    CHECK_INT(ts_run("hostile: head over a small max_head_bytes", test_small_head_limit, NULL), 0);
    CHECK_INT(ts_run("hostile: endless chunked body", test_endless_chunked, NULL), 0);
    CHECK_INT(ts_run("hostile: a flood that never lets a read wait (total deadline)",
                     test_flood_total, NULL), 0);
    return check_summary();
}
