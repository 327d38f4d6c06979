/* test_hostile_close.c - servers that end the exchange early or halfway,
 * against the HTTP client: resets at every point of a response, an
 * answer before the request is written (then a drain, an RST, or a FIN
 * and an RST while the client writes), and half-close.
 *
 * Every case must end with the documented HTTP_E_* code, within a bounded
 * time (checked with generous margins), with every fd closed (ts_run
 * counts them before and after).  The scripted server (testserver.h)
 * plays the resets and half-closes; the early answers need a server of
 * our own (rawsrv.h) with a tiny receive buffer, so that the big request
 * is still being written when the answer comes.  The case that could kill
 * the process (SIGPIPE) runs in a child process (hostile.h).  Slow,
 * stalling and endless servers are in test_hostile.c, faults in the
 * runtime in test_hostile_faults.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include <bareawait/client.h>
#include "hostile.h"
#include "rawsrv.h"
#include "testserver.h"

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
    if (CHECK_INT(rawsrv_start(&s, 4096, rawsrv_play_answer_then_drain, EARLY_ANSWER), 0)) {
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
    early_answer_reset(rawsrv_play_answer_then_reset, "early answer, then RST");
}

static void test_early_answer_fin_reset(void *arg)
{
    (void)arg;
    early_answer_reset(rawsrv_play_answer_fin_then_reset, "early answer, FIN, then RST");
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

int main(void)
{
    CHECK_INT(ts_run("hostile: resets at 16 points", test_reset_points, NULL), 0);
    CHECK_INT(ts_run("hostile: answer before the request is read, then drain",
                     test_early_answer_drained, NULL), 0);
    CHECK_INT(ts_run("hostile: answer before the request is read, then RST",
                     test_early_answer_reset, NULL), 0);
    run_in_child("hostile: answer, FIN, then RST while the client writes (SIGPIPE?)",
                 test_early_answer_fin_reset);
    CHECK_INT(ts_run("hostile: half-close after a response", test_half_close_after_response,
                     NULL), 0);
    CHECK_INT(ts_run("hostile: half-close midway", test_half_close_midway, NULL), 0);
    return check_summary();
}
