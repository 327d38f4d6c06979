/* test_client_pool.c - what the client puts on the wire, and how it keeps,
 * reuses, limits and retries connections (and the events it reports).
 *
 * The test server counts connections and records every request head, so
 * each test states what the client must have done: "5 GETs, 1 connection",
 * "never more than 2 open at once".  Redirects, on the same server, are in
 * test_client_redirects.c.
 */
#include <stdlib.h>

#include "ba_config.h"
#include "check.h"
#include <bareawait/client.h>
#include "client_test.h"
#include <bareawait/coro.h>
#include "testserver.h"

static http_client *open_client_with(http_client_opts o)
{
    return client_open_defaults(o, 3000, 10000);
}

/* SUSPENDS.  GET url; checks it succeeded with `body`. */
static void get_ok(http_client *c, const char *url, const char *body)
{
    http_response *r = NULL;
    int err = http_get(c, url, &r);
    if (!CHECK_INT(err, HTTP_OK))
        fprintf(stderr, "    GET %s: %s\n", url, http_strerror(err));
    else if (CHECK(r != NULL))
        CHECK_STR(r->body ? r->body : "", body);
    http_response_free(r);
}

/* ---- the request on the wire ---- */

typedef struct format_case {
    const char *name;
    const char *method;          /* NULL: GET */
    const char *path;            /* appended to the server's base URL */
    const char *extra[3];        /* extra header lines (NULL-padded) */
    const char *user_agent;      /* the client option, or NULL */
    const char *line;            /* the request line it must send */
    const char *ua;              /* the one User-Agent it must send */
    const char *accept;          /* the one Accept it must send */
    const char *want_header;     /* an extra header that must be there... */
    const char *want_value;      /* ...with this value */
} format_case;

static const format_case format_cases[] = {
    {"path and query", NULL, "/path?q=1&r=2", {NULL}, NULL,
     "GET /path?q=1&r=2 HTTP/1.1", "bareawait/" BA_VERSION, "*/*", NULL, NULL},
    {"no path", NULL, "", {NULL}, NULL,
     "GET / HTTP/1.1", "bareawait/" BA_VERSION, "*/*", NULL, NULL},
    {"fragment not sent", NULL, "/p?x#frag", {NULL}, NULL,
     "GET /p?x HTTP/1.1", "bareawait/" BA_VERSION, "*/*", NULL, NULL},
    {"HEAD", "HEAD", "/h", {NULL}, NULL,
     "HEAD /h HTTP/1.1", "bareawait/" BA_VERSION, "*/*", NULL, NULL},
    {"extra headers", NULL, "/x", {"X-One: 1", "X-Two:  two words", NULL}, NULL,
     "GET /x HTTP/1.1", "bareawait/" BA_VERSION, "*/*", "x-two", "two words"},
    {"User-Agent replaced by a header", NULL, "/", {"User-Agent: custom/1", NULL}, NULL,
     "GET / HTTP/1.1", "custom/1", "*/*", NULL, NULL},
    {"user-agent replaced, any case", NULL, "/", {"user-agent: lower/1", NULL}, NULL,
     "GET / HTTP/1.1", "lower/1", "*/*", NULL, NULL},
    {"Accept replaced", NULL, "/", {"Accept: text/plain", NULL}, NULL,
     "GET / HTTP/1.1", "bareawait/" BA_VERSION, "text/plain", NULL, NULL},
    {"user_agent option", NULL, "/", {NULL}, "opt-agent/2",
     "GET / HTTP/1.1", "opt-agent/2", "*/*", NULL, NULL},
    {"header beats the option", NULL, "/", {"User-Agent: hdr/3", NULL}, "opt-agent/2",
     "GET / HTTP/1.1", "hdr/3", "*/*", NULL, NULL},
};

static void on_request(void *user, const char *head, size_t len)
{
    char **copy = user;
    free(*copy);
    *copy = strndup(head, len);
}

static void test_request_format(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0]; i++) {
        const format_case *fc = &format_cases[i];
        int before = check_failures;
        testserver *ts = ts_start(AF_INET, ok);
        http_client *c = open_client_with((http_client_opts){.user_agent = fc->user_agent});
        size_t n = 0;
        while (n < 3 && fc->extra[n])
            n++;
        char *sent = NULL;
        http_request req = {.method = fc->method, .url = ts_url(ts, fc->path),
                            .headers = fc->extra, .n_headers = n,
                            .on_request = on_request, .user = &sent};
        http_response *r = NULL;
        CHECK_INT(http_send(c, &req, &r), HTTP_OK);
        http_response_free(r);
        const char *head = ts_last_request(ts);
        if (!CHECK(head != NULL))
            goto next;
        char line[256], value[256];
        ts_head_request_line(head, line, sizeof line);
        CHECK_STR(line, fc->line);
        CHECK_INT(ts_head_header(head, "Host", value, sizeof value), 1);
        CHECK_STR(value, ts_authority(ts));
        CHECK_INT(ts_head_header(head, "User-Agent", value, sizeof value), 1);
        CHECK_STR(value, fc->ua);
        CHECK_INT(ts_head_header(head, "Accept", value, sizeof value), 1);
        CHECK_STR(value, fc->accept);
        if (fc->want_header) {
            CHECK_INT(ts_head_header(head, fc->want_header, value, sizeof value), 1);
            CHECK_STR(value, fc->want_value);
        }
        CHECK_INT(ts_head_header(head, "Content-Length", NULL, 0), 0);
        CHECK_INT(ts_head_header(head, "Transfer-Encoding", NULL, 0), 0);
        CHECK_STR(sent, head); /* on_request saw exactly the bytes sent */
    next:
        if (check_failures != before)
            fprintf(stderr, "    in case \"%s\"; the server got:\n%s", fc->name,
                    head ? head : "(nothing)\n");
        free(sent);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* ---- keep-alive ---- */

static void test_five_gets_one_connection(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, ok);
    http_client *c = open_client_with((http_client_opts){0});
    for (int i = 0; i < 5; i++)
        get_ok(c, ts_url(ts, "/"), "ok");
    CHECK_INT(ts_connections(ts), 1);
    CHECK_INT(ts_requests(ts), 5);
    CHECK_INT(ts_request_connection(ts, 4), 0);
    http_client_close(c);
    ts_stop(ts);
}

/* Responses after which the connection must not be reused (the server
 * would happily go on: it loops), and some after which it must be. */
static void test_reuse_rules(void *arg)
{
    (void)arg;
    static const struct {
        const char *name;
        const char *response;
        int connections; /* after two GETs */
    } cases[] = {
        {"Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 2},
        {"Connection: Close (any case)",
         "HTTP/1.1 200 OK\r\nconnection: CLOSE\r\nContent-Length: 2\r\n\r\nok", 2},
        {"Connection: keep-alive, close",
         "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok", 2},
        {"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 2},
        {"HTTP/1.0 with Connection: keep-alive",
         "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 1},
        {"Transfer-Encoding and Content-Length",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"
         "2\r\nok\r\n0\r\n\r\n", 2},
        {"bytes beyond the announced body", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", 2},
        {"plain HTTP/1.1", OK_2, 1},
        {"Connection: keep-alive", "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = check_failures;
        ts_step script[] = {TS_READ(), TS_SEND(cases[i].response), TS_LOOP()};
        testserver *ts = ts_start(AF_INET, script);
        http_client *c = open_client_with((http_client_opts){0});
        get_ok(c, ts_url(ts, "/1"), "ok");
        get_ok(c, ts_url(ts, "/2"), "ok");
        CHECK_INT(ts_connections(ts), cases[i].connections);
        if (check_failures != before)
            fprintf(stderr, "    in case \"%s\"\n", cases[i].name);
        http_client_close(c);
        ts_stop(ts);
    }
}

static void test_idle_expiry(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, ok);
    http_client *c = open_client_with((http_client_opts){.idle_timeout_ms = 50});
    get_ok(c, ts_url(ts, "/1"), "ok");
    coro_sleep_until(coro_deadline_in(100));
    get_ok(c, ts_url(ts, "/2"), "ok");
    CHECK_INT(ts_connections(ts), 2);
    /* The expired connection was closed, not just left aside. */
    for (int i = 0; i < 100 && ts_open_connections(ts) > 1; i++)
        coro_sleep_until(coro_deadline_in(1));
    CHECK_INT(ts_open_connections(ts), 1);
    http_client_close(c);
    ts_stop(ts);
}

/* A kept-alive connection the server dropped is replaced transparently. */
static void test_stale_retry(void *arg)
{
    (void)arg;
    static const ts_step closes[] = {TS_READ(), TS_SEND(OK_2), TS_CLOSE()};
    static const ts_step resets[] = {TS_READ(), TS_SEND(OK_2), TS_SLEEP(10), TS_RESET()};
    /* The race a real server loses: it closes as the next request arrives. */
    static const ts_step reads_then_closes[] = {TS_READ(), TS_SEND(OK_2), TS_READ(), TS_CLOSE()};
    static const ts_step reads_then_resets[] = {TS_READ(), TS_SEND(OK_2), TS_READ(), TS_RESET()};
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    static const struct {
        const char *name;
        const ts_step *first;
    } cases[] = {
        {"closed right after the first response", closes},
        {"reset while idle", resets},
        {"closed on receiving the second request", reads_then_closes},
        {"reset on receiving the second request", reads_then_resets},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = check_failures;
        const ts_step *scripts[] = {cases[i].first, ok};
        testserver *ts = ts_start_scripts(AF_INET, scripts, 2);
        http_client *c = open_client_with((http_client_opts){0});
        get_ok(c, ts_url(ts, "/1"), "ok");
        coro_sleep_until(coro_deadline_in(30));
        get_ok(c, ts_url(ts, "/2"), "ok");
        CHECK_INT(ts_connections(ts), 2);
        get_ok(c, ts_url(ts, "/3"), "ok"); /* and the new one is kept */
        CHECK_INT(ts_connections(ts), 2);
        if (check_failures != before)
            fprintf(stderr, "    in case \"%s\"\n", cases[i].name);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* No retry once a byte of the reply came, nor on a fresh connection. */
static void test_no_retry(void *arg)
{
    (void)arg;
    static const ts_step partial[] = {
        TS_READ(), TS_SEND(OK_2), TS_READ(),
        TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), TS_CLOSE()};
    static const ts_step fresh_empty[] = {TS_READ(), TS_CLOSE()};
    testserver *ts = ts_start(AF_INET, partial);
    http_client *c = open_client_with((http_client_opts){0});
    get_ok(c, ts_url(ts, "/1"), "ok");
    http_response *r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/2"), &r), HTTP_E_TRUNCATED);
    http_response_free(r);
    CHECK_INT(ts_connections(ts), 1);
    http_client_close(c);
    ts_stop(ts);

    ts = ts_start(AF_INET, fresh_empty);
    c = open_client_with((http_client_opts){0});
    r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_E_EMPTY_REPLY);
    http_response_free(r);
    CHECK_INT(ts_connections(ts), 1);
    http_client_close(c);
    ts_stop(ts);
}

/* ---- the per-host limit ---- */

typedef struct crowd {
    http_client *c;
    const char *url;
    int ok;         /* requests that succeeded */
    int failed[20]; /* the error codes of the others, by request */
    int n_failed;
} crowd;

static void *crowd_get(void *arg)
{
    crowd *cr = arg;
    http_response *r = NULL;
    int err = http_get(cr->c, cr->url, &r);
    if (err == HTTP_OK && r && r->body && strcmp(r->body, "ok") == 0)
        cr->ok++;
    else if (cr->n_failed < 20)
        cr->failed[cr->n_failed++] = err;
    http_response_free(r);
    return NULL;
}

/* SUSPENDS.  n concurrent GETs of url, each from its own coroutine. */
static void run_crowd(crowd *cr, int n)
{
    coro_t *co[64];
    for (int i = 0; i < n; i++)
        co[i] = coro_spawn(crowd_get, cr, NULL);
    for (int i = 0; i < n; i++)
        coro_join(co[i], NULL);
}

static void test_pool_limit(void *arg)
{
    (void)arg;
    static const ts_step slow[] = {TS_READ(), TS_SLEEP(50), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, slow);
    crowd cr = {open_client_with((http_client_opts){.max_per_host = 2}), ts_url(ts, "/")};
    int64_t t0 = ts_now_ms();
    run_crowd(&cr, 10);
    int64_t took = ts_now_ms() - t0;
    CHECK_INT(cr.ok, 10);
    for (int i = 0; i < cr.n_failed; i++)
        fprintf(stderr, "    failed: %s\n", http_strerror(cr.failed[i]));
    CHECK(ts_max_open_connections(ts) <= 2);
    CHECK_INT(ts_connections(ts), 2);
    CHECK(took >= 5 * 50 - 10); /* 10 requests, 2 at a time, 50 ms each */
    http_client_close(cr.c);
    ts_stop(ts);
}

/* The limit is per host:port: two servers are served side by side. */
static void test_pool_per_host(void *arg)
{
    (void)arg;
    static const ts_step slow[] = {TS_READ(), TS_SLEEP(300), TS_SEND(OK_2), TS_LOOP()};
    testserver *a = ts_start(AF_INET, slow), *b = ts_start(AF_INET, slow);
    http_client *c = open_client_with((http_client_opts){.max_per_host = 1});
    crowd ca = {c, ts_url(a, "/")}, cb = {c, ts_url(b, "/")};
    int64_t t0 = ts_now_ms();
    coro_t *x = coro_spawn(crowd_get, &ca, NULL), *y = coro_spawn(crowd_get, &cb, NULL);
    coro_join(x, NULL);
    coro_join(y, NULL);
    CHECK_INT(ca.ok + cb.ok, 2);
    int64_t took = ts_now_ms() - t0;
    if (!CHECK(took < 500)) /* side by side ~300 ms; one after the other 600 */
        fprintf(stderr, "    took %lld ms\n", (long long)took);
    http_client_close(c);
    ts_stop(a);
    ts_stop(b);
}

/* A request waiting for a slot is bounded by the total timeout. */
static void test_pool_wait_timeout(void *arg)
{
    (void)arg;
    static const ts_step slow[] = {TS_READ(), TS_SLEEP(300), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, slow);
    crowd cr = {open_client_with((http_client_opts){.max_per_host = 1, .total_timeout_ms = 100}),
                ts_url(ts, "/")};
    run_crowd(&cr, 2);
    CHECK_INT(cr.ok, 0);
    if (CHECK_INT(cr.n_failed, 2)) {
        CHECK_INT(cr.failed[0], HTTP_E_TOTAL_TIMEOUT);
        CHECK_INT(cr.failed[1], HTTP_E_TOTAL_TIMEOUT);
    }
    /* Not checked: whether the waiter, granted the slot in the same step as
     * its deadline passed, still connects (it does; see test_client_cancel's
     * "cancelled while a slot is handed over" for the deterministic case). */
    http_client_close(cr.c);
    ts_stop(ts);
}

/* ---- events ---- */

typedef struct event_log {
    char text[1024];
} event_log;

static void log_event(void *user, http_event ev, int fd, const char *detail)
{
    static const char *const names[] = {"RESOLVING", "RESOLVED", "CONNECTING", "CONNECTED",
                                        "REUSED", "REQUEST_SENT", "HEAD_RECEIVED",
                                        "BODY_DONE", "REDIRECT", "FIRST_BYTE"};
    event_log *log = user;
    (void)fd;
    if (ev == HTTP_EV_RESOLVING || ev == HTTP_EV_RESOLVED || ev == HTTP_EV_CONNECTING)
        return; /* whether a numeric host is "resolved" is the client's choice */
    bool with_detail = ev == HTTP_EV_REQUEST_SENT || ev == HTTP_EV_HEAD_RECEIVED ||
                       ev == HTTP_EV_BODY_DONE || ev == HTTP_EV_REDIRECT;
    size_t at = strlen(log->text);
    snprintf(log->text + at, sizeof log->text - at, with_detail ? "%s(%s); " : "%s; ",
             (unsigned)ev < sizeof names / sizeof names[0] ? names[ev] : "?", detail);
}

static void test_events(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, ok);
    event_log log = {""};
    http_client *c = open_client_with((http_client_opts){.on_event = log_event,
                                                         .event_user = &log});
    get_ok(c, ts_url(ts, "/x"), "ok");
    get_ok(c, ts_url(ts, "/y"), "ok");
    CHECK_STR(log.text, "CONNECTED; REQUEST_SENT(GET /x HTTP/1.1); FIRST_BYTE; "
                        "HEAD_RECEIVED(HTTP/1.1 200 OK); BODY_DONE(2); REUSED; "
                        "REQUEST_SENT(GET /y HTTP/1.1); FIRST_BYTE; "
                        "HEAD_RECEIVED(HTTP/1.1 200 OK); BODY_DONE(2); ");
    http_client_close(c);
    ts_stop(ts);
}

int main(void)
{
    CHECK_INT(ts_run("request: the head on the wire", test_request_format, NULL), 0);
    CHECK_INT(ts_run("keep-alive: 5 GETs, 1 connection", test_five_gets_one_connection, NULL), 0);
    CHECK_INT(ts_run("keep-alive: when not to reuse", test_reuse_rules, NULL), 0);
    CHECK_INT(ts_run("keep-alive: idle expiry", test_idle_expiry, NULL), 0);
    CHECK_INT(ts_run("keep-alive: stale connection retried", test_stale_retry, NULL), 0);
    CHECK_INT(ts_run("keep-alive: no retry when not safe", test_no_retry, NULL), 0);
    CHECK_INT(ts_run("pool: max_per_host 2, 10 concurrent", test_pool_limit, NULL), 0);
    CHECK_INT(ts_run("pool: the limit is per host", test_pool_per_host, NULL), 0);
    CHECK_INT(ts_run("pool: waiting for a slot times out", test_pool_wait_timeout, NULL), 0);
    CHECK_INT(ts_run("events", test_events, NULL), 0);
    return check_summary();
}
