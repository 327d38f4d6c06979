/* test_client_redirects.c - how the client follows redirects, and when
 * it does not.
 *
 * The test server records every request head, so each test states what
 * the client must have asked for: "the second request was GET /b", "one
 * connection for the whole chain".  Keep-alive and the pool are in
 * test_client_pool.c.
 */
#include "check.h"
#include <bareawait/client.h>
#include "client_test.h"
#include "testserver.h"

static http_client *open_client_with(http_client_opts o)
{
    return client_open_defaults(o, 3000, 10000);
}

/* ---- redirects ---- */

/* The kinds of Location, each resolved against http://HOST:PORT/dir/a. */
enum { LOC_PATH, LOC_ABSOLUTE, LOC_RELATIVE, LOC_NO_SCHEME, N_LOC };

/* Fills `location` for `kind`; returns the target the client must ask for. */
static const char *make_location(testserver *ts, int kind, char *location, size_t size)
{
    switch (kind) {
    case LOC_ABSOLUTE:
        snprintf(location, size, "%s", ts_url(ts, "/b?x=1"));
        return "/b?x=1";
    case LOC_RELATIVE:
        snprintf(location, size, "b");
        return "/dir/b";
    case LOC_NO_SCHEME:
        snprintf(location, size, "//%s/b?x=1", ts_authority(ts));
        return "/b?x=1";
    default:
        snprintf(location, size, "/b?x=1");
        return "/b?x=1";
    }
}

static void test_redirects_followed(void *arg)
{
    (void)arg;
    static const int codes[] = {301, 302, 303, 307, 308};
    static const ts_step final[] = {
        TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"), TS_LOOP()};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        for (int kind = 0; kind < N_LOC; kind++) {
            int before = check_failures;
            /* The Location needs the server's port: the first connection's
             * script points at `redirect`, filled once the server runs. */
            char location[128], redirect[256];
            ts_step first[] = {TS_READ(), TS_SEND(redirect), TS_READ(),
                               TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"),
                               TS_LOOP()};
            const ts_step *scripts[] = {first, final};
            testserver *ts = ts_start_scripts(AF_INET, scripts, 2);
            const char *target = make_location(ts, kind, location, sizeof location);
            snprintf(redirect, sizeof redirect,
                     "HTTP/1.1 %d Moved\r\nLocation: %s\r\nContent-Length: 5\r\n\r\nmoved",
                     codes[i], location);
            http_client *c = open_client_with((http_client_opts){.follow_redirects = true});
            http_response *r = NULL;
            int err = http_get(c, ts_url(ts, "/dir/a"), &r);
            CHECK_INT(err, HTTP_OK);
            if (CHECK(r != NULL)) {
                CHECK_INT(r->status, 200);
                CHECK_STR(r->body, "final");
                CHECK_STR(r->url, ts_url(ts, target));
                CHECK_INT(r->redirects, 1);
            }
            char line[128], want_line[128];
            snprintf(want_line, sizeof want_line, "GET %s HTTP/1.1", target);
            if (CHECK_INT(ts_requests(ts), 2)) {
                ts_head_request_line(ts_request(ts, 1), line, sizeof line);
                CHECK_STR(line, want_line);
            }
            CHECK_INT(ts_connections(ts), 1); /* the 3xx body was read: reused */
            if (check_failures != before)
                fprintf(stderr, "    in case %d, Location: %s\n", codes[i], location);
            http_response_free(r);
            http_client_close(c);
            ts_stop(ts);
        }
    }
}

static void test_redirects_not_followed(void *arg)
{
    (void)arg;
    static const ts_step moved[] = {
        TS_READ(), TS_SEND("HTTP/1.1 301 Moved Permanently\r\nLocation: /b\r\n"
                           "Content-Length: 5\r\n\r\nmoved"), TS_LOOP()};
    static const ts_step no_location[] = {
        TS_READ(), TS_SEND("HTTP/1.1 302 Found\r\nContent-Length: 2\r\n\r\nno"), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, moved);
    http_client *c = open_client_with((http_client_opts){0}); /* follow_redirects off */
    http_response *r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/a"), &r), HTTP_OK);
    if (CHECK(r != NULL)) {
        CHECK_INT(r->status, 301);
        CHECK_STR(http_response_header(r, "location"), "/b");
        CHECK_STR(r->body, "moved");
        CHECK_STR(r->url, ts_url(ts, "/a"));
        CHECK_INT(r->redirects, 0);
    }
    CHECK_INT(ts_requests(ts), 1);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);

    /* Following, but a 3xx without Location is a final response. */
    ts = ts_start(AF_INET, no_location);
    c = open_client_with((http_client_opts){.follow_redirects = true});
    r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/a"), &r), HTTP_OK);
    if (CHECK(r != NULL)) {
        CHECK_INT(r->status, 302);
        CHECK_STR(r->body, "no");
    }
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

static void test_redirect_loop(void *arg)
{
    (void)arg;
    static const ts_step loop[] = {
        TS_READ(), TS_SEND("HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"),
        TS_LOOP()};
    static const int limits[] = {5, 0}; /* 0: the default, 20 */
    static const int requests[] = {6, 21};
    for (int i = 0; i < 2; i++) {
        testserver *ts = ts_start(AF_INET, loop);
        http_client *c = open_client_with((http_client_opts){.follow_redirects = true,
                                                             .max_redirects = limits[i]});
        http_response *r = NULL;
        int err = http_get(c, ts_url(ts, "/loop"), &r);
        if (!CHECK_INT(err, HTTP_E_TOO_MANY_REDIRECTS) | !CHECK_INT(ts_requests(ts), requests[i]))
            fprintf(stderr, "    with max_redirects = %d\n", limits[i]);
        CHECK_INT(ts_connections(ts), 1);
        http_response_free(r);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* A chain over two servers: a chunked 3xx body, a query-only Location,
 * an absolute one to the other server; and the same chain for HEAD, which
 * stays HEAD all along (the 3xx bodies are then absent). */
static void chain(testserver *b, bool head)
{
    char to_b[256];
    snprintf(to_b, sizeof to_b, "HTTP/1.1 307 T\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n",
             ts_url(b, "/end"));
    ts_step steps[] = {
        TS_READ(), TS_SEND("HTTP/1.1 302 Found\r\nLocation: /two\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        TS_READ(), TS_SEND("HTTP/1.1 301 M\r\nLocation: ?three\r\nContent-Length: 0\r\n\r\n"),
        TS_READ(), TS_SEND(to_b), TS_LOOP()};
    if (head) /* no body after a HEAD */
        steps[1] = (ts_step)TS_SEND("HTTP/1.1 302 Found\r\nLocation: /two\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n");
    testserver *a = ts_start(AF_INET, steps);
    http_client *c = open_client_with((http_client_opts){.follow_redirects = true});
    http_request req = {.method = head ? "HEAD" : "GET", .url = ts_url(a, "/one")};
    http_response *r = NULL;
    CHECK_INT(http_send(c, &req, &r), HTTP_OK);
    if (CHECK(r != NULL)) {
        CHECK_INT(r->redirects, 3);
        CHECK_STR(r->url, ts_url(b, "/end"));
        CHECK_INT(r->body_len, head ? 0 : 3);
    }
    http_response_free(r);
    char line[128], want[128];
    snprintf(want, sizeof want, "%s /two?three HTTP/1.1", req.method);
    if (CHECK_INT(ts_requests(a), 3)) {
        ts_head_request_line(ts_request(a, 2), line, sizeof line);
        CHECK_STR(line, want);
    }
    snprintf(want, sizeof want, "%s /end HTTP/1.1", req.method);
    ts_head_request_line(ts_last_request(b), line, sizeof line);
    CHECK_STR(line, want);
    CHECK_INT(ts_connections(a), 1);
    http_client_close(c);
    ts_stop(a);
}

static void test_redirect_chain(void *arg)
{
    (void)arg;
    static const ts_step final[] = {
        TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend"), TS_LOOP()};
    testserver *b = ts_start(AF_INET, final);
    chain(b, false);
    chain(b, true);
    CHECK_INT(ts_requests(b), 2);
    ts_stop(b);
}

int main(void)
{
    CHECK_INT(ts_run("redirects: followed", test_redirects_followed, NULL), 0);
    CHECK_INT(ts_run("redirects: not followed", test_redirects_not_followed, NULL), 0);
    CHECK_INT(ts_run("redirects: a loop", test_redirect_loop, NULL), 0);
    CHECK_INT(ts_run("redirects: a chain over two servers", test_redirect_chain, NULL), 0);
    return check_summary();
}
