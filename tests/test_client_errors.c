/* test_client_errors.c - every way a request fails maps to its HTTP_E* code.
 *
 * First a table of bad servers (each a short script for the test server)
 * with the code each must give and, where a head had arrived, the partial
 * response that must come with it.  Then the failures that need a special
 * setting: timeouts, nothing listening, a connect that hangs, lookups,
 * URLs, bad requests, callbacks that stop the request.
 */
#include <stdlib.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "testserver.h"

static http_client *open_client_with(http_client_opts o)
{
    if (!o.read_timeout_ms)
        o.read_timeout_ms = 3000;
    if (!o.total_timeout_ms)
        o.total_timeout_ms = 10000;
    return http_client_open(&o);
}

/* SUSPENDS.  After a looked-up request returns, its resolver thread may
 * hold an fd for a moment more (test_client_load checks that on its own);
 * tests about something else wait for it so their fd counts are exact. */
static void let_lookup_threads_end(void)
{
    coro_sleep_until(coro_deadline_in(50));
}

static void say_err(int got)
{
    fprintf(stderr, "    got %d: %s (errno %d)\n", got, http_strerror(got), errno);
}

/* ---- the table of bad servers ---- */

#define MAX_STEPS 6
#define NO_RESPONSE 0 /* *out must be NULL */
#define ANY_RESPONSE -1 /* *out may be NULL or not */

typedef struct err_case {
    const char *name;
    ts_step script[MAX_STEPS]; /* ends at the first TS_END() */
    size_t max_body;           /* the request's max_body */
    size_t max_head_bytes;     /* the client's (0: default 64 KiB) */
    int err;                   /* the code it must give */
    int partial_status;        /* status of the partial response, or one of
                                  NO_RESPONSE, ANY_RESPONSE */
    const char *partial_body;  /* body so far (NULL: not checked) */
} err_case;

#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
#define OK_2_RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define CL100_HEAD "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"

static char endless_header[100 * 1024]; /* "HTTP/1.1 200 OK\r\nX-Endless: aaaa..." */
static char long_header[2048];          /* the same, 2 KiB */
static char big_head_ok[50 * 1024];     /* a whole 50 KiB head, then "ok" */
static char many_headers[16384];        /* 1000 header lines, then "ok" */
static char short_headers[4 * 5000 + 64]; /* 5000 lines "a:\r\n" */

static const err_case err_cases[] = {
    {"not HTTP at all (an SSH banner)", {TS_READ(), TS_SEND("SSH-2.0-x\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, NO_RESPONSE, NULL},
    {"four-digit status", {TS_READ(), TS_SEND("HTTP/1.1 2000 OK\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, NO_RESPONSE, NULL},
    {"status line without a code", {TS_READ(), TS_SEND("HTTP/1.1 OK\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, NO_RESPONSE, NULL},
    {"HTTP/2.0 status line", {TS_READ(), TS_SEND("HTTP/2.0 200 OK\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, NO_RESPONSE, NULL},
    {"lower-case http/1.1", {TS_READ(), TS_SEND("http/1.1 200 OK\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, NO_RESPONSE, NULL},
    {"header line without a colon",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, NO_RESPONSE, NULL},
    {"obsolete line folding is unfolded (test_client_framing)",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_OK, 200, ""},
    {"a fold before the first header",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\n b\r\nContent-Length: 0\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, NO_RESPONSE, NULL},
    {"Transfer-Encoding: gzip",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz"), TS_DRAIN()},
     0, 0, HTTP_E_UNSUPPORTED_CODING, 200, NULL},
    {"Transfer-Encoding: chunked, gzip",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_UNSUPPORTED_CODING, 200, NULL},
    {"101 Switching Protocols (never asked for)",
     {TS_READ(), TS_SEND("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, NO_RESPONSE, NULL},
    {"negative Content-Length",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, ANY_RESPONSE, NULL},
    {"Content-Length not a number",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, ANY_RESPONSE, NULL},
    {"conflicting Content-Lengths",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
      TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, ANY_RESPONSE, NULL},
    {"conflicting Content-Lengths in one header",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, ANY_RESPONSE, NULL},
    {"Content-Length over 64 bits",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
      TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, ANY_RESPONSE, NULL},
    {"invalid chunk size",
     {TS_READ(), TS_SEND(CHUNKED_HEAD "zz\r\nhello\r\n0\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, 200, ""},
    {"chunk size over 64 bits",
     {TS_READ(), TS_SEND(CHUNKED_HEAD "10000000000000000\r\nhello\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, 200, ""},
    {"chunk data not followed by CRLF",
     {TS_READ(), TS_SEND(CHUNKED_HEAD "5\r\nhelloXX0\r\n\r\n"), TS_DRAIN()},
     0, 0, HTTP_E_MALFORMED, 200, NULL},
    {"closed in the middle of the head",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Le"), TS_CLOSE()},
     0, 0, HTTP_E_MALFORMED, NO_RESPONSE, NULL},
    {"endless header (default 64 KiB limit)",
     {TS_READ(), TS_SEND_N(endless_header, sizeof endless_header), TS_DRAIN()},
     0, 0, HTTP_E_HEAD_TOO_LARGE, NO_RESPONSE, NULL},
    {"2 KiB header over max_head_bytes 1024",
     {TS_READ(), TS_SEND_N(long_header, sizeof long_header), TS_DRAIN()},
     0, 1024, HTTP_E_HEAD_TOO_LARGE, NO_RESPONSE, NULL},
    {"Content-Length 100, 10 bytes, close",
     {TS_READ(), TS_SEND(CL100_HEAD "0123456789"), TS_CLOSE()},
     0, 0, HTTP_E_TRUNCATED, 200, "0123456789"},
    {"chunked, closed before the last chunk",
     {TS_READ(), TS_SEND(CHUNKED_HEAD "5\r\nhello\r\n"), TS_CLOSE()},
     0, 0, HTTP_E_TRUNCATED, 200, "hello"},
    {"chunked, closed inside a chunk",
     {TS_READ(), TS_SEND(CHUNKED_HEAD "a\r\nhel"), TS_CLOSE()},
     0, 0, HTTP_E_TRUNCATED, 200, "hel"},
    {"chunked, closed inside the trailers",
     {TS_READ(), TS_SEND(CHUNKED_HEAD "2\r\nhi\r\n0\r\nX-T: 1\r\n"), TS_CLOSE()},
     0, 0, HTTP_E_TRUNCATED, 200, "hi"},
    {"reset in the middle of the body",
     {TS_READ(), TS_SEND(CL100_HEAD "0123456789"), TS_SLEEP(20), TS_RESET()},
     0, 0, HTTP_E_RESET, 200, "0123456789"},
    {"reset before a single byte", {TS_READ(), TS_RESET()},
     0, 0, HTTP_E_RESET, NO_RESPONSE, NULL},
    {"read the request, then close", {TS_READ(), TS_CLOSE()},
     0, 0, HTTP_E_EMPTY_REPLY, NO_RESPONSE, NULL},
    {"half close without reading", {TS_SHUTDOWN_WR(), TS_DRAIN()},
     0, 0, HTTP_E_EMPTY_REPLY, NO_RESPONSE, NULL},
    {"max_body 10, Content-Length 100",
     {TS_READ(), TS_SEND(CL100_HEAD), TS_DRAIN()},
     10, 0, HTTP_E_BODY_TOO_LARGE, 200, NULL},
    {"max_body 10, 16 bytes chunked",
     {TS_READ(), TS_SEND(CHUNKED_HEAD "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n"), TS_DRAIN()},
     10, 0, HTTP_E_BODY_TOO_LARGE, 200, NULL},
    {"max_body 10, 16 bytes until close",
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\n\r\n0123456789abcdef"), TS_CLOSE()},
     10, 0, HTTP_E_BODY_TOO_LARGE, 200, NULL},
    {"a 50 KiB head, under the 64 KiB limit",
     {TS_READ(), TS_SEND(big_head_ok), TS_END()},
     0, 0, HTTP_OK, 200, "ok"},
    {"1000 header lines (the array grows)", {TS_READ(), TS_SEND(many_headers), TS_END()},
     0, 0, HTTP_OK, 200, "ok"},
    {"5000 short header lines over max_head_bytes 16 KiB",
     {TS_READ(), TS_SEND(short_headers), TS_DRAIN()},
     0, 16384, HTTP_E_HEAD_TOO_LARGE, NO_RESPONSE, NULL},
    {"max_body 10, exactly 10 bytes", /* the limit itself is allowed */
     {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"), TS_END()},
     10, 0, HTTP_OK, 200, "0123456789"},
};
#define N_ERR_CASES (sizeof err_cases / sizeof err_cases[0])

static void test_bad_servers(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < N_ERR_CASES; i++) {
        const err_case *ec = &err_cases[i];
        int before = check_failures;
        testserver *ts = ts_start(AF_INET, ec->script);
        http_client *c = open_client_with((http_client_opts){.max_head_bytes = ec->max_head_bytes});
        http_request req = {.url = ts_url(ts, "/bad"), .max_body = ec->max_body};
        http_response *r = NULL;
        int err = http_send(c, &req, &r);
        if (!CHECK_INT(err, ec->err))
            say_err(err);
        if (ec->partial_status == NO_RESPONSE)
            CHECK(r == NULL);
        else if (ec->partial_status != ANY_RESPONSE && CHECK(r != NULL)) {
            CHECK_INT(r->status, ec->partial_status);
            if (ec->partial_body)
                CHECK_STR(r->body ? r->body : "", ec->partial_body);
        }
        if (check_failures != before)
            fprintf(stderr, "    in case \"%s\"\n", ec->name);
        http_response_free(r);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* ---- timeouts ---- */

/* SUSPENDS.  One GET; checks the code and that it took [min_ms, max_ms]. */
static void get_expect(http_client *c, const char *url, int want, int64_t min_ms,
                       int64_t max_ms)
{
    int64_t t0 = ts_now_ms();
    http_response *r = NULL;
    int err = http_get(c, url, &r);
    int64_t took = ts_now_ms() - t0;
    if (!CHECK_INT(err, want))
        say_err(err);
    if (!CHECK(took >= min_ms && took <= max_ms))
        fprintf(stderr, "    took %lld ms, want %lld..%lld\n", (long long)took,
                (long long)min_ms, (long long)max_ms);
    http_response_free(r);
}

static void test_read_timeout(void *arg)
{
    (void)arg;
    static const ts_step silent[] = {TS_READ(), TS_DRAIN()};
    static const ts_step stalls[] = {
        TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"), TS_DRAIN()};
    /* Bytes every 40 ms: never 150 ms of silence, so no read timeout. */
    static const ts_step drips[] = {
        TS_READ(), TS_DRIP("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 8, 40), TS_END()};
    const ts_step *scripts[] = {silent, stalls, drips};
    testserver *ts = ts_start_scripts(AF_INET, scripts, 3);
    http_client *c = open_client_with((http_client_opts){.read_timeout_ms = 150});
    get_expect(c, ts_url(ts, "/silent"), HTTP_E_READ_TIMEOUT, 140, 3000);
    get_expect(c, ts_url(ts, "/stalls"), HTTP_E_READ_TIMEOUT, 140, 3000);
    get_expect(c, ts_url(ts, "/drips"), HTTP_OK, 190, 5000); /* 6 pieces */
    http_client_close(c);
    ts_stop(ts);
}

static void test_total_timeout(void *arg)
{
    (void)arg;
    static const ts_step drips[] = {
        TS_READ(),
        TS_DRIP("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                "0123456789012345678901234567890123456789012345678901234567890123456789"
                "012345678901234567890123456789", 1, 50),
        TS_END()};
    testserver *ts = ts_start(AF_INET, drips);
    http_client *c = open_client_with((http_client_opts){.read_timeout_ms = 1000,
                                                         .total_timeout_ms = 200});
    get_expect(c, ts_url(ts, "/drip"), HTTP_E_TOTAL_TIMEOUT, 190, 3000);
    http_client_close(c);
    ts_stop(ts);
}

/* ---- connecting ---- */

static void test_connect_refused(void *arg)
{
    (void)arg;
    http_client *c = open_client_with((http_client_opts){0});
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ts_unused_port(AF_INET));
    http_response *r = NULL;
    int err = http_get(c, url, &r);
    if (!CHECK_INT(err, HTTP_E_CONNECT))
        say_err(err);
    CHECK_INT(errno, ECONNREFUSED); /* "errno still holds the system's reason" */
    CHECK(r == NULL);
    http_client_close(c);
}

static void test_connect_timeout_blackhole(void *arg)
{
    (void)arg;
    ts_blackhole bh;
    if (!CHECK_INT(ts_blackhole_open(&bh), 0))
        return;
    http_client *c = open_client_with((http_client_opts){.connect_timeout_ms = 200});
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", bh.port);
    get_expect(c, url, HTTP_E_CONNECT_TIMEOUT, 190, 3000);
    /* A total timeout shorter than the connect timeout wins. */
    http_client *c2 = open_client_with((http_client_opts){.connect_timeout_ms = 5000,
                                                          .total_timeout_ms = 150});
    get_expect(c2, url, HTTP_E_TOTAL_TIMEOUT, 140, 3000);
    http_client_close(c2);
    http_client_close(c);
    ts_blackhole_close(&bh);
}

/* The lookup counts against connect_timeout_ms. */
static void test_connect_timeout_slow_lookup(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {
        TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), TS_END()};
    testserver *ts = ts_start(AF_INET, ok);
    http_set_lookup(ts_lookup);
    http_client *c = open_client_with((http_client_opts){.connect_timeout_ms = 100});
    char url[64];
    snprintf(url, sizeof url, "http://slow-400.test:%d/", ts_port(ts));
    get_expect(c, url, HTTP_E_CONNECT_TIMEOUT, 90, 350);
    CHECK_INT(ts_connections(ts), 0);
    /* The lookup still sleeps on its worker: let it end, so that no worker
     * is still busy when this program exits (valgrind would count that
     * thread's TLS as possibly lost). */
    coro_sleep_until(coro_deadline_in(500));
    snprintf(url, sizeof url, "http://slow-20.test:%d/", ts_port(ts));
    get_expect(c, url, HTTP_OK, 15, 3000);
    http_client_close(c);
    http_set_lookup(NULL);
    ts_stop(ts);
    let_lookup_threads_end();
}

static void test_resolve(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {
        TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), TS_END()};
    testserver *ts = ts_start(AF_INET, ok);
    http_set_lookup(ts_lookup);
    http_client *c = open_client_with((http_client_opts){0});
    char url[64];
    snprintf(url, sizeof url, "http://nxdomain.test:%d/", ts_port(ts));
    get_expect(c, url, HTTP_E_RESOLVE, 0, 3000);
    snprintf(url, sizeof url, "http://v4.test:%d/", ts_port(ts));
    get_expect(c, url, HTTP_OK, 0, 3000);
    /* ::1 first, where nothing listens on this port: the next address. */
    snprintf(url, sizeof url, "http://both.test:%d/", ts_port(ts));
    get_expect(c, url, HTTP_OK, 0, 3000);
    char host[64];
    snprintf(host, sizeof host, "both.test:%d", ts_port(ts));
    if (CHECK_INT(ts_requests(ts), 2))
        CHECK_INT(ts_head_header(ts_last_request(ts), "Host", NULL, 0), 1);
    char value[64];
    ts_head_header(ts_last_request(ts), "Host", value, sizeof value);
    CHECK_STR(value, host);
    http_client_close(c);
    http_set_lookup(NULL);
    ts_stop(ts);
    let_lookup_threads_end();
}

/* ---- the request itself is wrong ---- */

static void test_bad_urls(void *arg)
{
    (void)arg;
    static const struct {
        const char *url;
        int err;
    } urls[] = {
        {"https://127.0.0.1/", HTTP_E_SCHEME},
        {"HTTPS://127.0.0.1/", HTTP_E_SCHEME},
        {"ftp://127.0.0.1/file", HTTP_E_SCHEME},
        {"http://h:99999/", HTTP_E_URL},
        {"http://h:0/", HTTP_E_URL},
        {"http://h:/", HTTP_E_URL},
        {"http://", HTTP_E_URL},
        {"http:///path", HTTP_E_URL},
        {"127.0.0.1/x", HTTP_E_URL},
        {"http://a b/", HTTP_E_URL},
        {"http://h/a\r\nX-Injected: 1", HTTP_E_URL},
        {"http://[::1/", HTTP_E_URL},
        {"http://user@/", HTTP_E_URL},
        {"http://h/\x01", HTTP_E_URL},
        {"", HTTP_E_URL},
    };
    http_client *c = open_client_with((http_client_opts){0});
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        http_response *r = NULL;
        int err = http_get(c, urls[i].url, &r);
        if (!CHECK_INT(err, urls[i].err) || !CHECK(r == NULL))
            fprintf(stderr, "    for URL \"%s\"\n", urls[i].url);
        http_response_free(r);
    }
    http_client_close(c);
}

static void test_bad_requests(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {
        TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), TS_LOOP()};
    static const char *const bad_headers[] = {
        "X-Evil: a\r\nInjected: 1",
        "X-Evil: a\nInjected: 1",
        "X-Evil: a\rb",
        "X-Nul: a\x01",
        "NoColon",
        ": no name",
        "Bad Name: x",
        "Content-Length: 5",
        "transfer-encoding: chunked",
        "Content-Length:",
        "X-Semi;x",
    };
    testserver *ts = ts_start(AF_INET, ok);
    http_client *c = open_client_with((http_client_opts){0});
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        http_request req = {.url = ts_url(ts, "/"), .headers = &bad_headers[i], .n_headers = 1};
        http_response *r = NULL;
        int err = http_send(c, &req, &r);
        if (!CHECK_INT(err, HTTP_E_BAD_REQUEST))
            fprintf(stderr, "    for header \"%s\"\n", bad_headers[i]);
        http_response_free(r);
    }
    /* Any token is a method ("get", "PURGE"; test_client_request.c);
     * these are not tokens. */
    static const char *const methods[] = {"GE T", "GET\r\n", "", "G(ET", "GET/", "\"GET\"",
                                          "G\x7f", "GET\t"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        http_request req = {.method = methods[i], .url = ts_url(ts, "/")};
        http_response *r = NULL;
        int err = http_send(c, &req, &r);
        if (!CHECK_INT(err, HTTP_E_BAD_REQUEST))
            fprintf(stderr, "    for method \"%s\"\n", methods[i]);
        http_response_free(r);
    }
    CHECK_INT(ts_connections(ts), 0); /* refused before connecting */
    http_response *r = NULL;          /* and the client is fine after */
    CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

/* ---- the caller stops the request ---- */

static int stop_sink(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns;
    size_t *seen = user;
    (void)data;
    *seen += len;
    return *seen >= 10 ? -1 : 0;
}

static int stop_on_head(void *user, const http_response *head)
{
    int *status = user;
    *status = head->status;
    return -1;
}

static void test_aborted(void *arg)
{
    (void)arg;
    static const ts_step big[] = {TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"),
                                  TS_SEND_BODY(100000), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, big);
    http_client *c = open_client_with((http_client_opts){0});
    size_t seen = 0;
    http_request req = {.url = ts_url(ts, "/"), .sink = stop_sink, .sink_user = &seen};
    http_response *r = NULL;
    CHECK_INT(http_send(c, &req, &r), HTTP_E_ABORTED);
    CHECK(seen >= 10 && seen < 100000);
    if (CHECK(r != NULL))
        CHECK_INT(r->status, 200);
    http_response_free(r);

    int status = 0;
    http_request req2 = {.url = ts_url(ts, "/"), .on_head = stop_on_head, .user = &status};
    r = NULL;
    CHECK_INT(http_send(c, &req2, &r), HTTP_E_ABORTED);
    CHECK_INT(status, 200);
    http_response_free(r);

    r = NULL; /* an aborted body leaves the connection unusable, not the client */
    CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK);
    if (r)
        CHECK_INT(r->body_len, 100000);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

/* A request head far bigger than the server's buffer: the server gives up
 * and closes with unread bytes (RST) while the client is still writing.
 * The client must report it, not die of SIGPIPE. */
static void test_server_gives_up_mid_request(void *arg)
{
    (void)arg;
    static const ts_step script[] = {TS_READ(), TS_SEND(OK_2_RESPONSE), TS_END()};
    size_t size = 8 << 20;
    char *huge = malloc(size);
    memset(huge, 'v', size - 1);
    memcpy(huge, "X-Huge: ", 8);
    huge[size - 1] = '\0';
    const char *headers[] = {huge};
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = open_client_with((http_client_opts){0});
    http_request req = {.url = ts_url(ts, "/"), .headers = headers, .n_headers = 1};
    http_response *r = NULL;
    int err = http_send(c, &req, &r);
    if (!CHECK_INT(err, HTTP_E_RESET))
        say_err(err);
    http_response_free(r);
    free(huge);
    r = NULL; /* and the client goes on */
    CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

static void test_strerror(void *arg)
{
    (void)arg;
    for (int e = HTTP_OK; e >= HTTP_E_BAD_REQUEST; e--) {
        const char *s = http_strerror(e);
        if (!CHECK(s && *s && strcmp(s, "unknown error") != 0))
            fprintf(stderr, "    code %d\n", e);
        for (int f = e - 1; f >= HTTP_E_BAD_REQUEST; f--)
            CHECK(strcmp(s, http_strerror(f)) != 0);
    }
    CHECK(http_strerror(-1000) != NULL);
    CHECK(http_strerror(5) != NULL);
}

int main(void)
{
    static const char start[] = "HTTP/1.1 200 OK\r\nX-Endless: ";
    memset(endless_header, 'a', sizeof endless_header);
    memcpy(endless_header, start, sizeof start - 1);
    memset(long_header, 'a', sizeof long_header);
    memcpy(long_header, start, sizeof start - 1);

    static const char big_start[] = "HTTP/1.1 200 OK\r\nX-Big: ";
    static const char big_end[] = "\r\nContent-Length: 2\r\n\r\nok";
    memset(big_head_ok, 'b', sizeof big_head_ok - 1);
    memcpy(big_head_ok, big_start, sizeof big_start - 1);
    memcpy(big_head_ok + sizeof big_head_ok - sizeof big_end, big_end, sizeof big_end);
    size_t at = (size_t)snprintf(many_headers, sizeof many_headers, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 999; i++)
        at += (size_t)snprintf(many_headers + at, sizeof many_headers - at, "X-H%d: %d\r\n", i, i);
    snprintf(many_headers + at, sizeof many_headers - at, "Content-Length: 2\r\n\r\nok");

    at = (size_t)snprintf(short_headers, sizeof short_headers, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 5000; i++)
        at += (size_t)snprintf(short_headers + at, sizeof short_headers - at, "a:\r\n");
    CHECK_INT(ts_run("errors: bad servers", test_bad_servers, NULL), 0);
    CHECK_INT(ts_run("errors: read timeout", test_read_timeout, NULL), 0);
    CHECK_INT(ts_run("errors: total timeout", test_total_timeout, NULL), 0);
    CHECK_INT(ts_run("errors: connection refused", test_connect_refused, NULL), 0);
    CHECK_INT(ts_run("errors: connect timeout (full accept queue)",
                     test_connect_timeout_blackhole, NULL), 0);
    CHECK_INT(ts_run("errors: connect timeout (slow lookup)",
                     test_connect_timeout_slow_lookup, NULL), 0);
    CHECK_INT(ts_run("errors: name lookups", test_resolve, NULL), 0);
    CHECK_INT(ts_run("errors: bad URLs", test_bad_urls, NULL), 0);
    CHECK_INT(ts_run("errors: bad requests", test_bad_requests, NULL), 0);
    CHECK_INT(ts_run("errors: callbacks stop the request", test_aborted, NULL), 0);
    CHECK_INT(ts_run("errors: the server gives up in the middle of the request",
                     test_server_gives_up_mid_request, NULL), 0);
    CHECK_INT(ts_run("errors: every code has its message", test_strerror, NULL), 0);
    return check_summary();
}
