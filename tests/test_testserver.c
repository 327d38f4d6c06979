/* test_testserver.c - the scripted test server, checked with a raw client.
 *
 * The client tests trust the server to put exactly the scripted bytes on
 * the wire, in the scripted pieces, and to count and record honestly.
 * This checks that with nothing but sockets and the runtime's io helpers,
 * so it runs before (and without) the HTTP client.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "testserver.h"

#define RESP_HI "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
#define REQ_A "GET /a HTTP/1.1\r\nHost: x\r\nX-Two:  spaced \r\n\r\n"

/* ---- a raw client ---- */

/* SUSPENDS.  A connected non-blocking socket to the server, or -1. */
static int raw_connect(int family, int port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons((uint16_t)port);
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = htons((uint16_t)port);
        len = sizeof *a;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (io_connect(fd, (struct sockaddr *)&ss, len, coro_deadline_in(2000)) < 0) {
        int e = errno;
        coro_close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* What a raw read loop saw. */
typedef struct raw_reply {
    char *data;   /* everything read, NUL-terminated (heap) */
    size_t len;
    int reads;    /* read calls that returned bytes */
    int error;    /* errno of the read that failed, 0 if it ended by EOF
                     or by reaching `want` bytes */
} raw_reply;

/* SUSPENDS.  Reads until EOF, an error, or `want` bytes (0: no limit). */
static raw_reply raw_read(int fd, size_t want)
{
    raw_reply r = {0};
    size_t cap = 4096;
    r.data = malloc(cap);
    for (;;) {
        if (want && r.len >= want)
            break;
        if (r.len + 1 >= cap) {
            cap *= 2;
            r.data = realloc(r.data, cap);
        }
        size_t room = cap - r.len - 1;
        if (want && want - r.len < room)
            room = want - r.len;
        ssize_t got = io_read(fd, r.data + r.len, room, coro_deadline_in(5000));
        if (got < 0)
            r.error = errno;
        if (got <= 0)
            break;
        r.len += (size_t)got;
        r.reads++;
    }
    r.data[r.len] = '\0';
    return r;
}

/* SUSPENDS.  Connects, sends `request`, reads until EOF; closes. */
static raw_reply raw_exchange(int family, int port, const char *request)
{
    raw_reply r = {0};
    int fd = raw_connect(family, port);
    if (!CHECK(fd >= 0)) {
        r.data = calloc(1, 1);
        r.error = errno;
        return r;
    }
    CHECK_INT(io_write(fd, request, strlen(request), coro_deadline_in(2000)),
              (long long)strlen(request));
    r = raw_read(fd, 0);
    coro_close(fd);
    return r;
}

/* ---- tests ---- */

static void test_basic(void *arg)
{
    (void)arg;
    static const ts_step script[] = {TS_READ(), TS_SEND(RESP_HI), TS_END()};
    testserver *ts = ts_start(AF_INET, script);
    if (!CHECK(ts != NULL))
        return;
    raw_reply r = raw_exchange(AF_INET, ts_port(ts), REQ_A);
    CHECK_STR(r.data, RESP_HI);
    CHECK_INT(r.error, 0);
    CHECK_INT(ts_connections(ts), 1);
    CHECK_INT(ts_requests(ts), 1);
    CHECK_STR(ts_request(ts, 0), REQ_A);
    CHECK_STR(ts_last_request(ts), REQ_A);
    CHECK(ts_request(ts, 1) == NULL);
    CHECK_INT(ts_request_connection(ts, 0), 0);
    char want[64], line[64], value[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/p?q", ts_port(ts));
    CHECK_STR(ts_url(ts, "/p?q"), want);
    snprintf(want, sizeof want, "127.0.0.1:%d", ts_port(ts));
    CHECK_STR(ts_authority(ts), want);
    ts_head_request_line(ts_request(ts, 0), line, sizeof line);
    CHECK_STR(line, "GET /a HTTP/1.1");
    CHECK_INT(ts_head_header(REQ_A, "x-two", value, sizeof value), 1);
    CHECK_STR(value, "spaced");
    free(r.data);
    ts_stop(ts);
}

static void test_head_helpers(void *arg)
{
    (void)arg;
    const char *head = "GET /host: HTTP/1.1\r\nHost: h\r\nset-cookie: a\r\n"
                       "Set-Cookie:b\r\nEmpty:\r\nX-Host: no\r\n\r\n";
    char v[32];
    CHECK_INT(ts_head_header(head, "Host", v, sizeof v), 1);
    CHECK_STR(v, "h");
    CHECK_INT(ts_head_header(head, "SET-COOKIE", v, sizeof v), 2);
    CHECK_STR(v, "a");
    CHECK_INT(ts_head_header(head, "empty", v, sizeof v), 1);
    CHECK_STR(v, "");
    CHECK_INT(ts_head_header(head, "missing", v, sizeof v), 0);
    CHECK_STR(v, "");
    CHECK_INT(ts_head_header(head, "Host", NULL, 0), 1);
}

/* Several requests in one write, then a second connection. */
static void test_keepalive_loop(void *arg)
{
    (void)arg;
    static const ts_step script[] = {TS_READ(), TS_SEND(RESP_HI), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, script);
    if (!CHECK(ts != NULL))
        return;
    int fd = raw_connect(AF_INET, ts_port(ts));
    if (!CHECK(fd >= 0))
        goto out;
    const char *three = "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n";
    io_write(fd, three, strlen(three), CORO_NEVER);
    raw_reply r = raw_read(fd, 3 * strlen(RESP_HI));
    CHECK_STR(r.data, RESP_HI RESP_HI RESP_HI);
    free(r.data);
    CHECK_INT(ts_requests(ts), 3);
    CHECK_STR(ts_request(ts, 2), "GET /3 HTTP/1.1\r\n\r\n");
    int fd2 = raw_connect(AF_INET, ts_port(ts));
    io_write(fd2, "GET /4 HTTP/1.1\r\n\r\n", 19, CORO_NEVER);
    r = raw_read(fd2, strlen(RESP_HI));
    CHECK_STR(r.data, RESP_HI);
    free(r.data);
    CHECK_INT(ts_connections(ts), 2);
    CHECK_INT(ts_open_connections(ts), 2);
    CHECK_INT(ts_max_open_connections(ts), 2);
    CHECK_INT(ts_request_connection(ts, 3), 1);
    coro_close(fd);
    coro_close(fd2);
    CHECK_INT(ts_wait_requests(ts, 5, 50), -1); /* nobody sends a 5th */
    CHECK_INT(errno, ETIMEDOUT);
out:
    ts_stop(ts);
}

/* Byte-at-a-time delivery really arrives in separate reads. */
static void test_drip(void *arg)
{
    (void)arg;
    static const ts_step slow[] = {TS_READ(), TS_DRIP(RESP_HI, 1, 1), TS_END()};
    static const ts_step fast[] = {TS_READ(), TS_DRIP(RESP_HI, 1, 0), TS_END()};
    static const ts_step threes[] = {TS_READ(), TS_DRIP(RESP_HI, 3, 1), TS_END()};
    const ts_step *scripts[] = {slow, fast, threes};
    testserver *ts = ts_start_scripts(AF_INET, scripts, 3);
    if (!CHECK(ts != NULL))
        return;
    int n = (int)strlen(RESP_HI);
    raw_reply r = raw_exchange(AF_INET, ts_port(ts), REQ_A);
    CHECK_STR(r.data, RESP_HI);
    CHECK_INT(r.reads, n);
    free(r.data);
    r = raw_exchange(AF_INET, ts_port(ts), REQ_A);
    CHECK_STR(r.data, RESP_HI);
    CHECK(r.reads > n / 2);
    free(r.data);
    r = raw_exchange(AF_INET, ts_port(ts), REQ_A);
    CHECK_STR(r.data, RESP_HI);
    CHECK_INT(r.reads, (n + 2) / 3);
    free(r.data);
    ts_stop(ts);
}

/* Split in two at every point, with a 1 ms pause or none (TS_SLEEP(0) is
 * still one pass of the reactor, which runs the reader before the timer):
 * exactly two reads each time. */
static void test_split(void *arg)
{
    (void)arg;
    const char *resp = RESP_HI;
    size_t n = strlen(resp);
    for (size_t at = 1; at < 2 * n; at++) {
        size_t cut = at < n ? at : at - n + 1;
        int pause = at < n ? 1 : 0;
        if (cut >= n)
            break;
        ts_step script[] = {TS_READ(), TS_SEND_N(resp, cut), TS_SLEEP(pause),
                            TS_SEND_N(resp + cut, n - cut), TS_END()};
        testserver *ts = ts_start(AF_INET, script);
        if (!CHECK(ts != NULL))
            return;
        raw_reply r = raw_exchange(AF_INET, ts_port(ts), REQ_A);
        if (!CHECK_STR(r.data, resp) || !CHECK_INT(r.reads, 2))
            fprintf(stderr, "    split at %zu, pause %d ms\n", cut, pause);
        free(r.data);
        ts_stop(ts);
    }
}

static void test_close_reset_shutdown(void *arg)
{
    (void)arg;
    static const ts_step closes[] = {TS_READ(), TS_CLOSE(), TS_SEND("never")};
    static const ts_step resets[] = {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\n"),
                                     TS_SLEEP(20), TS_RESET()};
    static const ts_step half[] = {TS_READ(), TS_SHUTDOWN_WR(), TS_READ(), TS_END()};
    const ts_step *scripts[] = {closes, resets, half};
    testserver *ts = ts_start_scripts(AF_INET, scripts, 3);
    if (!CHECK(ts != NULL))
        return;
    raw_reply r = raw_exchange(AF_INET, ts_port(ts), REQ_A);
    CHECK_INT(r.len, 0);
    CHECK_INT(r.error, 0); /* a clean EOF */
    free(r.data);

    r = raw_exchange(AF_INET, ts_port(ts), REQ_A);
    CHECK_STR(r.data, "HTTP/1.1 200 OK\r\n");
    CHECK_INT(r.error, ECONNRESET);
    free(r.data);

    int fd = raw_connect(AF_INET, ts_port(ts));
    io_write(fd, REQ_A, strlen(REQ_A), CORO_NEVER);
    r = raw_read(fd, 0);
    CHECK_INT(r.len, 0); /* EOF: the server shut its side */
    CHECK_INT(r.error, 0);
    free(r.data);
    io_write(fd, REQ_A, strlen(REQ_A), CORO_NEVER); /* it still reads */
    CHECK_INT(ts_wait_requests(ts, 4, 2000), 0);
    coro_close(fd);
    ts_stop(ts);
}

/* Drain ends when the client closes; open count goes back to 0. */
static void test_drain(void *arg)
{
    (void)arg;
    static const ts_step script[] = {TS_READ(), TS_DRAIN(), TS_SEND("never")};
    testserver *ts = ts_start(AF_INET, script);
    if (!CHECK(ts != NULL))
        return;
    int fd = raw_connect(AF_INET, ts_port(ts));
    io_write(fd, REQ_A, strlen(REQ_A), CORO_NEVER);
    io_write(fd, "junk", 4, CORO_NEVER);
    CHECK_INT(ts_wait_requests(ts, 1, 2000), 0);
    CHECK_INT(ts_open_connections(ts), 1);
    coro_close(fd);
    for (int i = 0; i < 2000 && ts_open_connections(ts) > 0; i++)
        coro_sleep_until(coro_deadline_in(1));
    CHECK_INT(ts_open_connections(ts), 0);
    ts_stop(ts);
}

/* Verifies a pattern body, decoding chunked framing if asked. */
static void check_pattern_body(const char *p, size_t n, uint64_t want, bool chunked)
{
    uint64_t off = 0;
    size_t i = 0;
    while (i < n) {
        size_t len = n - i;
        if (chunked) {
            char *end;
            len = strtoul(p + i, &end, 16);
            if (!CHECK(end[0] == '\r' && end[1] == '\n'))
                return;
            i = (size_t)(end - p) + 2;
            if (len == 0) {
                CHECK(memcmp(p + i, "\r\n", 2) == 0);
                CHECK_INT(n, i + 2);
                break;
            }
        }
        for (size_t k = 0; k < len; k++, off++)
            if ((unsigned char)p[i + k] != ts_pattern_byte(off)) {
                CHECK_INT((unsigned char)p[i + k], ts_pattern_byte(off));
                return;
            }
        i += len;
        if (chunked) {
            CHECK(memcmp(p + i, "\r\n", 2) == 0);
            i += 2;
        }
    }
    CHECK_INT(off, want);
}

static void test_send_body(void *arg)
{
    (void)arg;
    const uint64_t size = 300000;
    static const char head[] = "H\r\n\r\n";
    static const ts_step plain[] = {TS_READ(), TS_SEND(head), TS_SEND_BODY(300000), TS_END()};
    static const ts_step chunks[] = {TS_READ(), TS_SEND(head),
                                     TS_SEND_CHUNKED_BODY(300000, 1000), TS_END()};
    static const ts_step big_chunks[] = {TS_READ(), TS_SEND(head),
                                         TS_SEND_CHUNKED_BODY(300000, 0), TS_END()};
    const ts_step *scripts[] = {plain, chunks, big_chunks};
    testserver *ts = ts_start_scripts(AF_INET, scripts, 3);
    if (!CHECK(ts != NULL))
        return;
    for (int k = 0; k < 3; k++) {
        raw_reply r = raw_exchange(AF_INET, ts_port(ts), REQ_A);
        CHECK(r.len > 5 && memcmp(r.data, head, 5) == 0);
        check_pattern_body(r.data + 5, r.len - 5, size, k > 0);
        free(r.data);
    }
    ts_stop(ts);
}

/* ts_start_fixed under a crowd: many connections, several requests each. */
typedef struct crowd {
    testserver *ts;
    int done;
} crowd;

static void *crowd_member(void *arg)
{
    crowd *cr = arg;
    int fd = raw_connect(AF_INET, ts_port(cr->ts));
    if (!CHECK(fd >= 0))
        return NULL;
    const char *want = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    for (int i = 0; i < 3; i++) {
        io_write(fd, "GET / HTTP/1.1\r\n\r\n", 18, CORO_NEVER);
        raw_reply r = raw_read(fd, strlen(want));
        CHECK_STR(r.data, want);
        free(r.data);
    }
    coro_close(fd);
    cr->done++;
    return NULL;
}

static void test_fixed_crowd(void *arg)
{
    (void)arg;
    crowd cr = {ts_start_fixed(AF_INET, "hello"), 0};
    if (!CHECK(cr.ts != NULL))
        return;
    int n = ts_on_valgrind() ? 20 : 200;
    coro_t **co = calloc((size_t)n, sizeof *co);
    for (int i = 0; i < n; i++)
        co[i] = coro_spawn(crowd_member, &cr, NULL);
    for (int i = 0; i < n; i++)
        coro_join(co[i], NULL);
    free(co);
    CHECK_INT(cr.done, n);
    CHECK_INT(ts_connections(cr.ts), n);
    CHECK_INT(ts_requests(cr.ts), 3 * n);
    CHECK(ts_max_open_connections(cr.ts) <= n);
    ts_stop(cr.ts);
}

/* ts_stop with connections parked in every kind of step. */
static void test_stop_live(void *arg)
{
    (void)arg;
    static const ts_step sleeps[] = {TS_READ(), TS_SLEEP(60000), TS_END()};
    static const ts_step drains[] = {TS_READ(), TS_DRAIN()};
    static const ts_step drips[] = {TS_READ(), TS_DRIP(RESP_HI, 1, 1000)};
    static const ts_step reads[] = {TS_READ(), TS_READ()};
    const ts_step *scripts[] = {sleeps, drains, drips, reads};
    testserver *ts = ts_start_scripts(AF_INET, scripts, 4);
    if (!CHECK(ts != NULL))
        return;
    int fd[5];
    for (int i = 0; i < 5; i++) {
        fd[i] = raw_connect(AF_INET, ts_port(ts));
        if (i < 4)
            io_write(fd[i], REQ_A, strlen(REQ_A), CORO_NEVER);
    }
    CHECK_INT(ts_wait_requests(ts, 4, 2000), 0);
    CHECK_INT(ts_open_connections(ts), 5);
    int64_t t0 = ts_now_ms();
    ts_stop(ts);
    CHECK(ts_now_ms() - t0 < 500);
    for (int i = 0; i < 5; i++) {
        raw_reply r = raw_read(fd[i], 0);
        CHECK(r.error == 0 || r.error == ECONNRESET); /* the server closed */
        free(r.data);
        coro_close(fd[i]);
    }
}

/* A server writing to a client that went away gets EPIPE, not SIGPIPE. */
static void test_client_gone(void *arg)
{
    (void)arg;
    static char big[1 << 20];
    memset(big, 'x', sizeof big);
    static const ts_step script[] = {TS_READ(), TS_SLEEP(20), TS_SEND_N(big, sizeof big),
                                     TS_SEND_N(big, sizeof big), TS_END()};
    testserver *ts = ts_start(AF_INET, script);
    if (!CHECK(ts != NULL))
        return;
    int fd = raw_connect(AF_INET, ts_port(ts));
    io_write(fd, REQ_A, strlen(REQ_A), CORO_NEVER);
    CHECK_INT(ts_wait_requests(ts, 1, 2000), 0);
    coro_close(fd);
    for (int i = 0; i < 2000 && ts_open_connections(ts) > 0; i++)
        coro_sleep_until(coro_deadline_in(1));
    CHECK_INT(ts_open_connections(ts), 0);
    ts_stop(ts);
}

static void test_nothing_listens(void *arg)
{
    (void)arg;
    int port = ts_unused_port(AF_INET);
    CHECK(port > 0);
    CHECK_INT(raw_connect(AF_INET, port), -1);
    CHECK_INT(errno, ECONNREFUSED);

    ts_blackhole bh;
    if (!CHECK_INT(ts_blackhole_open(&bh), 0))
        return;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)bh.port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int64_t t0 = ts_now_ms();
    CHECK_INT(io_connect(fd, (struct sockaddr *)&a, sizeof a, coro_deadline_in(100)), -1);
    CHECK_INT(errno, ETIMEDOUT);
    int64_t took = ts_now_ms() - t0;
    CHECK(took >= 90 && took < 1000);
    coro_close(fd);
    ts_blackhole_close(&bh);
}

static void test_lookup(void *arg)
{
    (void)arg;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int calls = ts_lookup_calls();
    CHECK_INT(ts_lookup("nxdomain.test", "80", &hints, &res), EAI_NONAME);
    CHECK_INT(ts_lookup("v4.test", "81", &hints, &res), 0);
    CHECK_INT(res->ai_family, AF_INET);
    CHECK_INT(ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port), 81);
    freeaddrinfo(res);
    CHECK_INT(ts_lookup("v6.test", "82", &hints, &res), 0);
    CHECK_INT(res->ai_family, AF_INET6);
    freeaddrinfo(res);
    CHECK_INT(ts_lookup("both.test", "83", &hints, &res), 0);
    CHECK_INT(res->ai_family, AF_INET6);
    CHECK(res->ai_next && res->ai_next->ai_family == AF_INET);
    freeaddrinfo(res);
    int64_t t0 = ts_now_ms();
    CHECK_INT(ts_lookup("slow-50.test", "84", &hints, &res), 0);
    CHECK(ts_now_ms() - t0 >= 50);
    CHECK_INT(res->ai_family, AF_INET);
    freeaddrinfo(res);
    CHECK_INT(ts_lookup("127.0.0.1", "85", &hints, &res), 0);
    freeaddrinfo(res);
    CHECK_INT(ts_lookup_calls() - calls, 6);
}

static void test_ipv6(void *arg)
{
    bool *skipped = arg;
    static const ts_step script[] = {TS_READ(), TS_SEND(RESP_HI), TS_END()};
    testserver *ts = ts_start(AF_INET6, script);
    if (!ts) {
        fprintf(stderr, "    skipped: no ::1 here (%s)\n", strerror(errno));
        *skipped = true;
        return;
    }
    raw_reply r = raw_exchange(AF_INET6, ts_port(ts), REQ_A);
    CHECK_STR(r.data, RESP_HI);
    free(r.data);
    char want[64];
    snprintf(want, sizeof want, "http://[::1]:%d/", ts_port(ts));
    CHECK_STR(ts_url(ts, "/"), want);
    ts_stop(ts);
}

int main(void)
{
    bool v6_skipped = false;
    CHECK_INT(ts_run("basic exchange and recording", test_basic, NULL), 0);
    CHECK_INT(ts_run("request head helpers", test_head_helpers, NULL), 0);
    CHECK_INT(ts_run("keep-alive loop, pipelined", test_keepalive_loop, NULL), 0);
    CHECK_INT(ts_run("drip", test_drip, NULL), 0);
    CHECK_INT(ts_run("split at every point", test_split, NULL), 0);
    CHECK_INT(ts_run("close, reset, half close", test_close_reset_shutdown, NULL), 0);
    CHECK_INT(ts_run("drain", test_drain, NULL), 0);
    CHECK_INT(ts_run("generated bodies", test_send_body, NULL), 0);
    CHECK_INT(ts_run("fixed responses to a crowd", test_fixed_crowd, NULL), 0);
    CHECK_INT(ts_run("stop with live connections", test_stop_live, NULL), 0);
    CHECK_INT(ts_run("client gone while sending", test_client_gone, NULL), 0);
    CHECK_INT(ts_run("nothing listening, blackhole", test_nothing_listens, NULL), 0);
    CHECK_INT(ts_run("lookup stand-in", test_lookup, NULL), 0);
    CHECK_INT(ts_run("IPv6", test_ipv6, &v6_skipped), 0);
    return check_summary();
}
