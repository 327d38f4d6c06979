/* test_client_request.c - what the client writes: request heads as curl
 * builds them from the caller's lines, Basic auth, any method, bodies from
 * memory or from a source (Content-Length or chunked), which kept-alive
 * connections are retried, the per-request timeout and HTTP_EV_FIRST_BYTE.
 *
 * The test server records every request head and body, so each case says
 * the exact bytes the server must have read.
 */
#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/url.h>
#include "client_test.h"
#include "testserver.h"

#define UA "test-agent"
#define MAX_LINES 4

static http_client *open_client_with(http_client_opts o)
{
    o.user_agent = UA;
    return client_open_defaults(o, 3000, 10000);
}

/* ---- the head, byte for byte ---- */

typedef struct head_case {
    const char *name;
    const char *method;
    const char *lines[MAX_LINES]; /* the caller's header lines, NULL-ended */
    const char *userpwd;
    const char *body;             /* from memory, or NULL */
    const char *want;             /* the head; %s is the server's authority */
} head_case;

static const head_case head_cases[] = {
    {"defaults", NULL, {NULL}, NULL, NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"User-Agent replaced in its place", NULL, {"X-A: 1", "User-Agent: mine"}, NULL, NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: mine\r\nAccept: */*\r\nX-A: 1\r\n\r\n"},
    {"Host replaced", NULL, {"Host: other.example"}, NULL, NULL,
     "GET /p HTTP/1.1\r\nHost: other.example\r\nUser-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"two Host lines: the first only, as curl", NULL,
     {"Host: one.example", "X-A: 1", "Host: two.example"}, NULL, NULL,
     "GET /p HTTP/1.1\r\nHost: one.example\r\nUser-Agent: " UA "\r\nAccept: */*\r\n"
     "X-A: 1\r\n\r\n"},
    {"Accept removed", NULL, {"Accept:"}, NULL, NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\n\r\n"},
    {"Host and User-Agent removed (blanks after the colon)", NULL,
     {"Host:", "user-agent: \t "}, NULL, NULL, "GET /p HTTP/1.1\r\nAccept: */*\r\n\r\n"},
    {"removing a header that is not there sends nothing", NULL, {"X-Gone:"}, NULL, NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"Name; sends an empty header", NULL, {"X-Empty;", "X-Blank;  "}, NULL, NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: */*\r\n"
     "X-Empty:\r\nX-Blank:\r\n\r\n"},
    {"added lines keep their order", NULL, {"X-B: 2", "Accept: text/html", "X-A: 1"}, NULL,
     NULL, "GET /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: text/html\r\n"
           "X-B: 2\r\nX-A: 1\r\n\r\n"},
    {"userpwd is Basic auth", NULL, {NULL}, "user:pass", NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"
     "User-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"userpwd with odd lengths", NULL, {NULL}, "a:b", NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic YTpi\r\n"
     "User-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"empty password", NULL, {NULL}, "ab:", NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic YWI6\r\n"
     "User-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"userpwd without a colon: an empty password", NULL, {NULL}, "user", NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic dXNlcjo=\r\n"
     "User-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"empty userpwd: \":\"", NULL, {NULL}, "", NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic Og==\r\n"
     "User-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"an Authorization line wins over userpwd", NULL, {"Authorization: Bearer t"}, "u:p",
     NULL, "GET /p HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer t\r\n"
           "User-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"Authorization: removes it", NULL, {"Authorization:"}, "u:p", NULL,
     "GET /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"any method token", "PURGE", {NULL}, NULL, NULL,
     "PURGE /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"lower-case methods are tokens too", "get", {NULL}, NULL, NULL,
     "get /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"POST without a body: Content-Length 0", "POST", {NULL}, NULL, NULL,
     "POST /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: */*\r\n"
     "Content-Length: 0\r\n\r\n"},
    {"PUT without a body: Content-Length 0", "PUT", {NULL}, NULL, NULL,
     "PUT /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: */*\r\n"
     "Content-Length: 0\r\n\r\n"},
    {"DELETE without a body: none", "DELETE", {NULL}, NULL, NULL,
     "DELETE /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: */*\r\n\r\n"},
    {"POST with a body", "POST", {"Content-Type: text/plain"}, NULL, "hello",
     "POST /p HTTP/1.1\r\nHost: %s\r\nUser-Agent: " UA "\r\nAccept: */*\r\n"
     "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n"},
};

static void test_heads(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, ok);
    http_client *c = open_client_with((http_client_opts){0});
    for (size_t i = 0; i < sizeof head_cases / sizeof head_cases[0]; i++) {
        const head_case *hc = &head_cases[i];
        size_t n = 0;
        while (n < MAX_LINES && hc->lines[n])
            n++;
        http_request req = {.method = hc->method, .url = ts_url(ts, "/p"),
                            .headers = hc->lines, .n_headers = n, .userpwd = hc->userpwd,
                            .body = hc->body, .body_len = hc->body ? strlen(hc->body) : 0};
        http_response *r = NULL;
        int before = check_failures;
        CHECK_INT(http_send(c, &req, &r), HTTP_OK);
        char want[512];
        snprintf(want, sizeof want, hc->want, ts_authority(ts));
        const char *got = ts_last_request(ts);
        CHECK_STR(got, want);
        CHECK_STR(ts_request_body(ts, ts_requests(ts) - 1, NULL), hc->body ? hc->body : "");
        if (check_failures != before)
            fprintf(stderr, "    in case \"%s\"\n", hc->name);
        http_response_free(r);
    }
    http_client_close(c);
    ts_stop(ts);
}

/* ---- the URL: normalized, any length up to HTTP_URL_MAX, userinfo ---- */

static void test_urls(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, ok);
    http_client *c = open_client_with((http_client_opts){0});
    static const struct {
        const char *path;   /* after http://127.0.0.1:PORT */
        const char *target; /* what the server must be asked for */
    } urls[] = {
        {"/a b/./c/../d?q=1#frag", "/a%20b/d?q=1"},
        {"/x/../../y", "/y"},
        {"?only=query", "/?only=query"},
        {"/caf\xc3\xa9", "/caf%C3%A9"},
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        http_response *r = NULL;
        CHECK_INT(http_get(c, ts_url(ts, urls[i].path), &r), HTTP_OK);
        char line[128], want[128];
        ts_head_request_line(ts_last_request(ts), line, sizeof line);
        snprintf(want, sizeof want, "GET %s HTTP/1.1", urls[i].target);
        if (!CHECK_STR(line, want))
            fprintf(stderr, "    for \"%s\"\n", urls[i].path);
        http_response_free(r);
    }
    /* No fixed URL buffer: 10 KiB is fine, past HTTP_URL_MAX is not. */
    size_t big = 10 * 1024, huge = HTTP_URL_MAX + 1;
    char *path = malloc(huge + 1);
    memset(path, 'p', huge);
    path[0] = '/';
    path[big] = '\0';
    http_response *r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, path), &r), HTTP_OK);
    CHECK_INT(strlen(ts_last_request(ts)) > big, 1);
    http_response_free(r);
    path[big] = 'p';
    path[huge] = '\0';
    r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, path), &r), HTTP_E_URL);
    CHECK(r == NULL);
    free(path);
    /* userinfo, percent-decoded, is Basic auth; the Host has none of it;
     * no ':' means an empty password, as curl. */
    static const struct {
        const char *userinfo, *want;
    } infos[] = {
        {"us%65r:p%40ss", "Basic dXNlcjpwQHNz"}, /* user:p@ss */
        {"user", "Basic dXNlcjo="},              /* user: */
        {"", "Basic Og=="},                      /* : */
        {"us%3Aer", "Basic dXM6ZXI6"},           /* us:er: (an encoded ':' is the name's) */
    };
    for (size_t i = 0; i < sizeof infos / sizeof infos[0]; i++) {
        char url[128];
        snprintf(url, sizeof url, "http://%s@%s/", infos[i].userinfo, ts_authority(ts));
        r = NULL;
        CHECK_INT(http_get(c, url, &r), HTTP_OK);
        char value[128];
        ts_head_header(ts_last_request(ts), "Authorization", value, sizeof value);
        if (!CHECK_STR(value, infos[i].want))
            fprintf(stderr, "    for %s\n", url);
        ts_head_header(ts_last_request(ts), "Host", value, sizeof value);
        CHECK_STR(value, ts_authority(ts));
        http_response_free(r);
    }
    http_client_close(c);
    ts_stop(ts);
}

/* ---- bodies from a source ---- */

typedef struct source {
    size_t total;    /* bytes to give in all */
    size_t piece;    /* at most this many per call */
    size_t given;
    bool suspend;    /* sleep a moment before each piece */
    long fail_at;    /* return -1 (errno EIO) once `given` reaches it; <0 never */
} source;

static long give(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    (void)deadline_ns;
    source *s = user;
    if (s->suspend)
        coro_sleep_until(coro_deadline_in(1));
    if (s->fail_at >= 0 && s->given >= (size_t)s->fail_at) {
        errno = EIO;
        return -1;
    }
    size_t n = s->total - s->given;
    n = n < s->piece ? n : s->piece;
    n = n < cap ? n : cap;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)ts_pattern_byte(s->given + i);
    s->given += n;
    return (long)n;
}

static const struct {
    const char *name;
    size_t total, piece;
    int64_t length;   /* body_length: -1 chunked */
    bool suspend;
    long fail_at;
    int err;
    int want_errno;
    const char *framing; /* the header the server must see */
} sources[] = {
    {"announced length", 5000, 1000, 5000, false, -1, HTTP_OK, 0, "Content-Length"},
    {"chunked", 5000, 777, -1, false, -1, HTTP_OK, 0, "Transfer-Encoding"},
    {"chunked, big pieces", 200000, 65536, -1, false, -1, HTTP_OK, 0, "Transfer-Encoding"},
    {"chunked, empty", 0, 10, -1, false, -1, HTTP_OK, 0, "Transfer-Encoding"},
    {"a source that suspends", 3000, 500, -1, true, -1, HTTP_OK, 0, "Transfer-Encoding"},
    {"length 0", 0, 10, 0, false, -1, HTTP_OK, 0, "Content-Length"},
    {"fewer bytes than announced", 300, 100, 400, false, -1, HTTP_E_SEND_BODY_SHORT, 0, NULL},
    {"more bytes than announced", 500, 100, 400, false, -1, HTTP_E_SEND_BODY_LONG, 0, NULL},
    {"the source fails", 500, 100, 500, false, 200, HTTP_E_SEND_BODY, EIO, NULL},
    {"the source fails at once (chunked)", 500, 100, -1, false, 0, HTTP_E_SEND_BODY, EIO, NULL},
};

static bool body_is_pattern(const char *body, size_t len, size_t want)
{
    if (len != want)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)body[i] != ts_pattern_byte(i))
            return false;
    return true;
}

static void test_sources(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        int before = check_failures;
        testserver *ts = ts_start(AF_INET, ok);
        http_client *c = open_client_with((http_client_opts){0});
        source s = {.total = sources[i].total, .piece = sources[i].piece,
                    .suspend = sources[i].suspend, .fail_at = sources[i].fail_at};
        http_request req = {.method = "PUT", .url = ts_url(ts, "/up"), .body_source = give,
                            .body_user = &s, .body_length = sources[i].length};
        http_response *r = NULL;
        int err = http_send(c, &req, &r);
        CHECK_INT(err, sources[i].err);
        if (err)
            CHECK_INT(errno, sources[i].want_errno);
        if (!err && CHECK_INT(ts_requests(ts), 1)) {
            size_t len;
            const char *body = ts_request_body(ts, 0, &len);
            if (!CHECK(body_is_pattern(body, len, sources[i].total)))
                fprintf(stderr, "    server read %zu bytes, want %zu\n", len, sources[i].total);
            CHECK_INT(ts_head_header(ts_request(ts, 0), sources[i].framing, NULL, 0), 1);
        }
        if (check_failures != before)
            fprintf(stderr, "    in case \"%s\"\n", sources[i].name);
        http_response_free(r);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* ---- a kept-alive connection the server closed ---- */

/* Closed while idle: every method goes out on a fresh connection -- one
 * that cannot be retried because a peek before reuse finds the close, one
 * that can by the retry.  Closed after reading the request, before
 * answering: retried only when safe. */
static const struct {
    const char *method;
    bool from_source;
    bool retried;     /* when the server closed after reading the request */
    bool rewinds;     /* the source has a body_rewind */
} retries[] = {
    {"GET", false, true, false},     {"HEAD", false, true, false},
    {"PUT", false, true, false},     {"DELETE", false, true, false},
    {"OPTIONS", false, true, false}, {"POST", false, false, false},
    {"PATCH", false, false, false},  {"PUT", true, false, false},
    {"PUT", true, true, true},       {"POST", true, false, true},
};

static int rewind_abc(void *user)
{
    *(int *)user = 0;
    return 0;
}

static long give_abc(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    int *calls = user;
    (void)cap;
    (void)deadline_ns;
    if ((*calls)++ % 2)
        return 0;
    memcpy(buf, "abc", 3);
    return 3;
}

/* One case: the first request on connection 0, the second after the
 * server closed it (while idle, or after reading the second request). */
static void retry_case(size_t i, bool while_idle)
{
    int before = check_failures;
    static const ts_step closes_idle[] = {TS_READ(), TS_SEND(OK_2), TS_CLOSE()};
    static const ts_step closes_unanswered[] = {TS_READ(), TS_SEND(OK_2), TS_READ(),
                                                TS_CLOSE()};
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    const ts_step *scripts[] = {while_idle ? closes_idle : closes_unanswered, ok};
    testserver *ts = ts_start_scripts(AF_INET, scripts, 2);
    http_client *c = open_client_with((http_client_opts){0});
    http_response *r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/1"), &r), HTTP_OK);
    http_response_free(r);
    if (while_idle)
        coro_sleep_until(coro_deadline_in(30)); /* the server has closed by now */
    int calls = 0;
    http_request req = {.method = retries[i].method, .url = ts_url(ts, "/2")};
    if (retries[i].from_source) {
        req.body_source = give_abc;
        req.body_user = &calls;
        req.body_length = 3;
        if (retries[i].rewinds)
            req.body_rewind = rewind_abc;
    } else if (strcmp(req.method, "HEAD") != 0) {
        req.body = "abc";
        req.body_len = 3;
    }
    r = NULL;
    int err = http_send(c, &req, &r);
    bool head = strcmp(req.method, "HEAD") == 0;
    if (while_idle || retries[i].retried) {
        CHECK_INT(err, HTTP_OK);
        CHECK_INT(ts_connections(ts), 2);
        CHECK_INT(ts_request_connection(ts, ts_requests(ts) - 1), 1);
        CHECK_STR(ts_request_body(ts, ts_requests(ts) - 1, NULL), head ? "" : "abc");
    } else {
        CHECK(err == HTTP_E_RESET || err == HTTP_E_EMPTY_REPLY);
        CHECK_INT(ts_connections(ts), 1);
    }
    if (check_failures != before)
        fprintf(stderr, "    for %s%s, closed %s: %s\n", retries[i].method,
                retries[i].from_source ? " from a source" : "",
                while_idle ? "while idle" : "unanswered", http_strerror(err));
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

static void test_retries(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof retries / sizeof retries[0]; i++) {
        retry_case(i, true);
        retry_case(i, false);
    }
}

/* ---- the per-request timeout ---- */

static void test_request_timeout(void *arg)
{
    (void)arg;
    static const ts_step slow[] = {TS_READ(), TS_SLEEP(400), TS_SEND(OK_2), TS_LOOP()};
    static const struct {
        int64_t client_ms, request_ms;
        int err;
    } cases[] = {
        {0, 100, HTTP_E_TOTAL_TIMEOUT},     /* the request's own */
        {100, -1, HTTP_OK},                 /* none for this request */
        {100, 0, HTTP_E_TOTAL_TIMEOUT},     /* the client's */
        {5000, 100, HTTP_E_TOTAL_TIMEOUT},  /* shorter than the client's */
        {100, 5000, HTTP_OK},               /* longer than the client's */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        testserver *ts = ts_start(AF_INET, slow);
        http_client *c = open_client_with((http_client_opts){
            .total_timeout_ms = cases[i].client_ms ? cases[i].client_ms : -1});
        http_request req = {.url = ts_url(ts, "/"), .timeout_ms = cases[i].request_ms};
        http_response *r = NULL;
        int64_t t0 = ts_now_ms();
        int err = http_send(c, &req, &r);
        int64_t took = ts_now_ms() - t0;
        if (!CHECK_INT(err, cases[i].err) | !CHECK(err == 0 || (took >= 90 && took < 390)))
            fprintf(stderr, "    client %lld ms, request %lld ms: took %lld ms\n",
                    (long long)cases[i].client_ms, (long long)cases[i].request_ms,
                    (long long)took);
        http_response_free(r);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* The request's timeout covers every hop of its redirects. */
static void test_timeout_over_redirects(void *arg)
{
    (void)arg;
    static const ts_step hops[] = {
        TS_READ(), TS_SLEEP(60),
        TS_SEND("HTTP/1.1 302 F\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, hops);
    http_client *c = open_client_with((http_client_opts){.follow_redirects = true,
                                                         .max_redirects = 100});
    http_request req = {.url = ts_url(ts, "/"), .timeout_ms = 200};
    http_response *r = NULL;
    CHECK_INT(http_send(c, &req, &r), HTTP_E_TOTAL_TIMEOUT);
    CHECK(ts_requests(ts) >= 3 && ts_requests(ts) <= 5);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

/* ---- HTTP_EV_FIRST_BYTE ---- */

typedef struct first_byte_log {
    int first_bytes;      /* FIRST_BYTE events */
    bool before_head;     /* each came before its HEAD_RECEIVED */
    int heads;
} first_byte_log;

static void on_event(void *user, http_event ev, int fd, const char *detail)
{
    first_byte_log *log = user;
    (void)detail;
    if (ev == HTTP_EV_FIRST_BYTE) {
        log->first_bytes++;
        CHECK(fd >= 0);
        CHECK(detail == NULL);
    }
    if (ev == HTTP_EV_HEAD_RECEIVED) {
        log->before_head &= log->first_bytes == log->heads + 1;
        log->heads++;
    }
}

static void test_first_byte(void *arg)
{
    (void)arg;
    static const ts_step steps[] = {
        TS_READ(), TS_DRIP("HTTP/1.1 100 Continue\r\n\r\n", 3, 0),
        TS_DRIP("HTTP/1.1 302 F\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n", 5, 0),
        TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, steps);
    first_byte_log log = {.before_head = true};
    http_client *c = open_client_with((http_client_opts){
        .follow_redirects = true, .on_event = on_event, .event_user = &log});
    http_response *r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/a"), &r), HTTP_OK);
    CHECK_INT(log.first_bytes, 2); /* once per hop, however the bytes come */
    CHECK_INT(log.heads, 2);
    CHECK(log.before_head);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

int main(void)
{
    CHECK_INT(ts_run("request: heads byte for byte", test_heads, NULL), 0);
    CHECK_INT(ts_run("request: the URL", test_urls, NULL), 0);
    CHECK_INT(ts_run("request: bodies from a source", test_sources, NULL), 0);
    CHECK_INT(ts_run("request: retries only when safe", test_retries, NULL), 0);
    CHECK_INT(ts_run("request: per-request timeout", test_request_timeout, NULL), 0);
    CHECK_INT(ts_run("request: the timeout covers redirects", test_timeout_over_redirects,
                     NULL), 0);
    CHECK_INT(ts_run("request: HTTP_EV_FIRST_BYTE", test_first_byte, NULL), 0);
    return check_summary();
}
