/* test_client_framing.c - the client reads every kind of response body.
 *
 * Table-driven.  Each response is served by the scripted test server
 * three ways: in one write; one byte at a time; and split in two at every
 * byte boundary, with a pass of the reactor between the halves
 * (TS_SLEEP(0): the client is woken and reads the first half before the
 * server's timer fires; test_testserver checks that it takes two reads).  Every way must give
 * the same status, reason, headers and body (byte for byte).  Then the
 * responses that allow keep-alive are followed by a second request on the
 * same connection, which proves the client stopped reading exactly at the
 * end of the first body.
 */
#include <stdlib.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "testserver.h"

/* ---- helpers ---- */

/* An escaped excerpt of p[from..n), for failure messages. */
static void escape(const char *p, size_t n, size_t from, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = from; i < n && i < from + 48 && o + 5 < size; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f)
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", ch);
    }
    out[o] = '\0';
}

/* CHECK_BYTES: got[0..got_len) equals want[0..want_len); prints the first
 * difference, escaped, if not. */
static int check_bytes_(const char *file, int line, const char *expr, const char *got,
                        size_t got_len, const char *want, size_t want_len)
{
    if (!got && got_len == 0)
        got = "";
    size_t i = 0;
    while (got && i < got_len && i < want_len && got[i] == want[i])
        i++;
    if (got && i == got_len && i == want_len)
        return 1;
    char a[256] = "(null)", b[256], d[640];
    size_t from = i > 8 ? i - 8 : 0;
    if (got)
        escape(got, got_len, from, a, sizeof a);
    escape(want, want_len, from, b, sizeof b);
    snprintf(d, sizeof d, "%zu vs %zu bytes, differ at %zu: got \"%s\", want \"%s\"",
             got_len, want_len, i, a, b);
    check_fail_(file, line, expr, d);
    return 0;
}
#define CHECK_BYTES(got, got_len, want, want_len) \
    check_bytes_(__FILE__, __LINE__, #got " == " #want, (got), (got_len), (want), (want_len))

static http_client *open_client(void)
{
    http_client_opts o = {.read_timeout_ms = 3000, .total_timeout_ms = 10000};
    return http_client_open(&o);
}

/* ---- the cases ---- */

typedef struct framing_case {
    const char *name;
    const char *method;       /* NULL: GET */
    const char *response;     /* what the server sends; then it closes */
    size_t response_len;      /* 0: strlen(response) */
    int status;
    int minor;                /* 1: HTTP/1.1 */
    const char *reason;
    const char *body;         /* expected body... */
    size_t body_len;          /* ...and its size (0: strlen(body)) */
    int64_t content_length;   /* expected resp->content_length */
    size_t n_headers;         /* expected count of headers */
    const char *hname;        /* a header to look up (any case)... */
    const char *hvalue;       /* ...and its expected value */
    bool keep_alive;          /* a second request may follow on the conn */
} framing_case;

#define CHUNKED "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
#define LETTERS31 "abcdefghijklmnopqrstuvwxyzABCDE"

#define BIN_RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\na\0b\0"
#define BIG_HEAD "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
static char big_body[100000];                           /* filled by main */
static char big_response[sizeof BIG_HEAD - 1 + sizeof big_body]; /* likewise */

static const framing_case cases[] = {
    {"content-length", NULL, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0,
     200, 1, "OK", "hello", 0, 5, 1, "content-length", "5", true},
    {"content-length 0", NULL, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0,
     200, 1, "OK", "", 0, 0, 1, NULL, NULL, true},
    {"binary body with NULs", NULL, BIN_RESPONSE, sizeof BIN_RESPONSE - 1,
     200, 1, "OK", "a\0b\0", 4, 4, 1, NULL, NULL, true},
    {"chunked, lower-case hex", NULL, CHUNKED "a\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n", 0,
     200, 1, "OK", "0123456789x", 0, -1, 1, "transfer-encoding", "chunked", true},
    {"chunked, upper-case hex", NULL,
     CHUNKED "A\r\n0123456789\r\n1F\r\n" LETTERS31 "\r\n0\r\n\r\n", 0,
     200, 1, "OK", "0123456789" LETTERS31, 0, -1, 1, NULL, NULL, true},
    {"chunked, leading zeros", NULL, CHUNKED "005\r\nhello\r\n000\r\n\r\n", 0,
     200, 1, "OK", "hello", 0, -1, 1, NULL, NULL, true},
    {"chunked, extensions", NULL,
     CHUNKED "5;name=value\r\nhello\r\n6;q=\"a b\";flag\r\n world\r\n0;last=1\r\n\r\n", 0,
     200, 1, "OK", "hello world", 0, -1, 1, NULL, NULL, true},
    {"chunked, trailers", NULL,
     CHUNKED "4\r\nwiki\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n", 0,
     200, 1, "OK", "wiki", 0, -1, 1, NULL, NULL, true},
    {"chunked, empty body", NULL, CHUNKED "0\r\n\r\n", 0,
     200, 1, "OK", "", 0, -1, 1, NULL, NULL, true},
    {"chunked, Transfer-Encoding in odd case", NULL,
     "HTTP/1.1 200 OK\r\ntransfer-ENCODING: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 0,
     200, 1, "OK", "abc", 0, -1, 1, NULL, NULL, true},
    {"until close", NULL, "HTTP/1.1 200 OK\r\nServer: t\r\n\r\nuntil the end", 0,
     200, 1, "OK", "until the end", 0, -1, 1, "server", "t", false},
    {"HTTP/1.0 until close", NULL, "HTTP/1.0 200 OK\r\n\r\nold school", 0,
     200, 0, "OK", "old school", 0, -1, 0, NULL, NULL, false},
    {"HEAD with Content-Length", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 0,
     200, 1, "OK", "", 0, -1, 1, "Content-Length", "100", true},
    {"HEAD with chunked", "HEAD", CHUNKED, 0,
     200, 1, "OK", "", 0, -1, 1, NULL, NULL, true},
    {"204 No Content", NULL, "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", 0,
     204, 1, "No Content", "", 0, -1, 1, "x-a", "1", true},
    {"304 with Content-Length", NULL,
     "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"e\"\r\n\r\n", 0,
     304, 1, "Not Modified", "", 0, -1, 2, "etag", "\"e\"", true},
    {"100 Continue skipped", NULL,
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0,
     200, 1, "OK", "ok", 0, 2, 1, NULL, NULL, true},
    {"103 Early Hints and 100 skipped", NULL,
     "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
     "HTTP/1.1 100 Continue\r\n\r\n"
     "HTTP/1.1 201 Created\r\nContent-Length: 3\r\nX-Final: y\r\n\r\nnew", 0,
     201, 1, "Created", "new", 0, 3, 2, "x-final", "y", true},
    {"empty reason phrase", NULL, "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok", 0,
     200, 1, "", "ok", 0, 2, 1, NULL, NULL, true},
    {"long reason phrase", NULL,
     "HTTP/1.1 418 I'm a teapot, short and stout\r\nContent-Length: 0\r\n\r\n", 0,
     418, 1, "I'm a teapot, short and stout", "", 0, 0, 1, NULL, NULL, true},
    {"headers in any case", NULL,
     "HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: 3\r\nX-MiXeD-CaSe: Value\r\n\r\nabc", 0,
     200, 1, "OK", "abc", 0, 3, 2, "X-MIXED-CASE", "Value", true},
    {"header values trimmed", NULL,
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX-Pad: \t padded value \t\r\nX-Empty:\r\n\r\n!", 0,
     200, 1, "OK", "!", 0, 1, 3, "x-pad", "padded value", true},
    {"404 with a body", NULL, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", 0,
     404, 1, "Not Found", "not found", 0, 9, 1, NULL, NULL, true},
    {"500 chunked", NULL, "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n", 0,
     500, 1, "Oops", "bad", 0, -1, 1, NULL, NULL, true},
    {"Transfer-Encoding and Content-Length: chunked wins", NULL,
     "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5\r\nhello\r\n0\r\n\r\n", 0,
     200, 1, "OK", "hello", 0, -1, 2, NULL, NULL, false},
    {"100000-byte body", NULL, big_response, sizeof big_response,
     200, 1, "OK", big_body, sizeof big_body, sizeof big_body, 1, NULL, NULL, true},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static size_t response_len(const framing_case *fc)
{
    return fc->response_len ? fc->response_len : strlen(fc->response);
}

static size_t body_len(const framing_case *fc)
{
    return fc->body_len ? fc->body_len : strlen(fc->body);
}

static void where(const framing_case *fc, const char *how)
{
    fprintf(stderr, "    in case \"%s\", %s\n", fc->name, how);
}

/* Compares a response with what the case expects; returns the failures. */
static int check_response(const framing_case *fc, int err, const http_response *r)
{
    int before = check_failures;
    if (!CHECK_INT(err, HTTP_OK))
        fprintf(stderr, "    (%s)\n", http_strerror(err));
    if (!CHECK(r != NULL))
        return check_failures - before;
    CHECK_INT(r->status, fc->status);
    CHECK_INT(r->minor_version, fc->minor);
    CHECK_STR(r->reason, fc->reason);
    CHECK_BYTES(r->body, r->body_len, fc->body, body_len(fc));
    if (r->body) /* NULL for an empty body: test_empty_body checks that */
        CHECK_INT(r->body[r->body_len], 0);
    CHECK_INT(r->content_length, fc->content_length);
    CHECK_INT(r->n_headers, fc->n_headers);
    if (fc->hname)
        CHECK_STR(http_response_header(r, fc->hname), fc->hvalue);
    return check_failures - before;
}

/* Serves `script` on a fresh server and client, requests the case, checks. */
static int run_case(const framing_case *fc, const ts_step *script, const char *how)
{
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = open_client();
    if (!CHECK(ts != NULL) || !CHECK(c != NULL)) {
        http_client_close(c);
        ts_stop(ts);
        return 1;
    }
    http_request req = {.method = fc->method, .url = ts_url(ts, "/f")};
    http_response *r = NULL;
    int err = http_send(c, &req, &r);
    int failed = check_response(fc, err, r);
    if (failed)
        where(fc, how);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
    return failed;
}

/* ---- tests ---- */

static void test_whole(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < N_CASES; i++) {
        const framing_case *fc = &cases[i];
        ts_step script[] = {TS_READ(), TS_SEND_N(fc->response, response_len(fc)), TS_END()};
        run_case(fc, script, "sent in one write");
    }
}

static void test_byte_at_a_time(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < N_CASES; i++) {
        const framing_case *fc = &cases[i];
        if (response_len(fc) > 2000)
            continue; /* the big body is split by TCP anyway */
        ts_step script[] = {TS_READ(), {.op = TS_OP_SEND, .data = fc->response,
                                        .len = response_len(fc), .piece = 1}, TS_END()};
        run_case(fc, script, "one byte at a time");
    }
}

/* Every split point of every short response; under valgrind, only of a
 * few (each split is a whole request, and valgrind is 30x slower). */
static void test_every_split(void *arg)
{
    (void)arg;
    int requests = 0, responses = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        const framing_case *fc = &cases[i];
        size_t n = response_len(fc);
        if (n > 2000 || (ts_on_valgrind() && i % 6 != 0))
            continue;
        for (size_t at = 1; at < n; at++) {
            ts_step script[] = {TS_READ(), TS_SEND_N(fc->response, at), TS_SLEEP(0),
                                TS_SEND_N(fc->response + at, n - at), TS_END()};
            char how[64];
            snprintf(how, sizeof how, "split at byte %zu of %zu", at, n);
            requests++;
            if (run_case(fc, script, how))
                break; /* one failing split per case is enough to read */
        }
        responses++;
    }
    fprintf(stderr, "    %d responses, %d split points\n", responses, requests);
}

/* A second response follows the first on the same connection: the client
 * must have stopped exactly at the end of the first. */
static void test_then_reuse(void *arg)
{
    (void)arg;
    const char *second = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond";
    for (size_t i = 0; i < N_CASES; i++) {
        const framing_case *fc = &cases[i];
        if (!fc->keep_alive)
            continue;
        ts_step script[] = {TS_READ(), TS_SEND_N(fc->response, response_len(fc)),
                            TS_READ(), TS_SEND(second), TS_END()};
        testserver *ts = ts_start(AF_INET, script);
        http_client *c = open_client();
        if (!CHECK(ts != NULL) || !CHECK(c != NULL)) {
            http_client_close(c);
            ts_stop(ts);
            return;
        }
        http_request req = {.method = fc->method, .url = ts_url(ts, "/1")};
        http_response *r = NULL;
        int err = http_send(c, &req, &r);
        int failed = check_response(fc, err, r);
        http_response_free(r);
        r = NULL;
        err = http_get(c, ts_url(ts, "/2"), &r);
        failed += !CHECK_INT(err, HTTP_OK);
        if (r)
            failed += !CHECK_BYTES(r->body, r->body_len, "second", 6);
        failed += !CHECK_INT(ts_connections(ts), 1);
        if (failed)
            where(fc, "then a second request on the same connection");
        http_response_free(r);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* client.h: body is "NUL-terminated ...; NULL when streamed to a sink".
 * So a collected empty body is "", as Python's response.text is. */
static void test_empty_body(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < N_CASES; i++) {
        const framing_case *fc = &cases[i];
        if (body_len(fc) != 0)
            continue;
        ts_step script[] = {TS_READ(), TS_SEND_N(fc->response, response_len(fc)), TS_END()};
        testserver *ts = ts_start(AF_INET, script);
        http_client *c = open_client();
        http_request req = {.method = fc->method, .url = ts_url(ts, "/e")};
        http_response *r = NULL;
        CHECK_INT(http_send(c, &req, &r), HTTP_OK);
        if (r && !(CHECK(r->body != NULL) && CHECK_STR(r->body, "")))
            where(fc, "collected empty body");
        http_response_free(r);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* Repeated header names are all kept, in order, as sent. */
static void test_repeated_headers(void *arg)
{
    (void)arg;
    static const ts_step script[] = {
        TS_READ(),
        TS_SEND("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nVary: x\r\nset-cookie: b=2\r\n"
                "SET-COOKIE:c=3  \r\nContent-Length: 0\r\n\r\n"),
        TS_END()};
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = open_client();
    http_response *r = NULL;
    if (!CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK) || !CHECK(r))
        goto out;
    const char *names[] = {"Set-Cookie", "Vary", "set-cookie", "SET-COOKIE", "Content-Length"};
    const char *values[] = {"a=1", "x", "b=2", "c=3", "0"};
    if (CHECK_INT(r->n_headers, 5))
        for (int i = 0; i < 5; i++) {
            CHECK_STR(r->headers[i].name, names[i]);
            CHECK_STR(r->headers[i].value, values[i]);
        }
    CHECK_STR(http_response_header(r, "set-cookie"), "a=1");
    CHECK(http_response_header(r, "Set-Cookie2") == NULL);
    CHECK(http_response_header(r, "Set-Cooki") == NULL);
    CHECK_STR(r->url, ts_url(ts, "/"));
    CHECK_INT(r->redirects, 0);
out:
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

/* An obs-fold is one space in the value the caller sees, however the
 * bytes arrive. */
static void test_folded_header(void *arg)
{
    (void)arg;
    static const ts_step folded[] = {
        TS_READ(), TS_DRIP("HTTP/1.1 200 OK\r\nX-Fold: a  \r\n  b\r\n\tc\r\nX-Next: n\r\n"
                           "Content-Length: 2\r\n\r\nok", 3, 0), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, folded);
    http_client *c = open_client();
    http_response *r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK);
    if (CHECK(r != NULL)) {
        CHECK_STR(http_response_header(r, "X-Fold"), "a b c");
        CHECK_STR(http_response_header(r, "X-Next"), "n");
        CHECK_INT(r->n_headers, 3);
        CHECK_STR(r->body, "ok");
    }
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

int main(void)
{
    for (size_t i = 0; i < sizeof big_body; i++)
        big_body[i] = (char)ts_pattern_byte(i);
    memcpy(big_response, BIG_HEAD, sizeof BIG_HEAD - 1);
    memcpy(big_response + sizeof BIG_HEAD - 1, big_body, sizeof big_body);

    CHECK_INT(ts_run("framing: each response in one write", test_whole, NULL), 0);
    CHECK_INT(ts_run("framing: one byte at a time", test_byte_at_a_time, NULL), 0);
    CHECK_INT(ts_run("framing: a folded header is unfolded", test_folded_header, NULL), 0);
    CHECK_INT(ts_run("framing: split at every byte boundary", test_every_split, NULL), 0);
    CHECK_INT(ts_run("framing: a second response on the same connection", test_then_reuse, NULL), 0);
    CHECK_INT(ts_run("framing: an empty body is \"\", not NULL", test_empty_body, NULL), 0);
    CHECK_INT(ts_run("framing: repeated headers in order", test_repeated_headers, NULL), 0);
    return check_summary();
}
