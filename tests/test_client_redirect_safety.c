/* test_client_redirect_safety.c - what a followed redirect carries along:
 * credentials only to the first URL's origin, the method and body as curl
 * rewrites them, and on_redirect for every hop.
 *
 * Two servers on two ports of 127.0.0.1; "localhost" names the first one
 * under another host name, which is another origin too.
 */
#include "check.h"
#include <bareawait/client.h>
#include "client_test.h"
#include "testserver.h"

#define FINAL "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"

static http_client *open_following(void)
{
    return client_open_defaults((http_client_opts){.follow_redirects = true}, 3000, 10000);
}

/* The 3xx the first server sends, filled in before the request. */
static char redirect_reply[512];

static const ts_step redirect_then_final[] = {
    TS_READ(), TS_SEND(redirect_reply), TS_READ(), TS_SEND(FINAL), TS_LOOP()};
static const ts_step final_only[] = {TS_READ(), TS_SEND(FINAL), TS_LOOP()};

/* ---- credentials and origins ---- */

enum { SAME_ORIGIN, OTHER_PORT, OTHER_HOST, BACK_HOME };

static const struct {
    const char *name;
    int where;
    bool keeps; /* the second request still has the credentials */
} origins[] = {
    {"same origin (a path)", SAME_ORIGIN, true},
    {"another port", OTHER_PORT, false},
    {"another host (localhost for 127.0.0.1)", OTHER_HOST, false},
    {"the first origin spelled in full", BACK_HOME, true},
};

/* How the credentials are given. */
static const struct {
    const char *name;
    const char *userpwd;
    const char *authorization; /* the header line the server must see */
    bool in_url;               /* as the first URL's userinfo */
} creds[] = {
    {"Authorization header", NULL, "Bearer token", false},
    {"userpwd", "user:pass", "Basic dXNlcjpwYXNz", false},
    {"the URL's userinfo", NULL, "Basic dXNlcjpwYXNz", true},
};

static void location_for(int where, testserver *a, testserver *b, char *out, size_t size)
{
    switch (where) {
    case OTHER_PORT: snprintf(out, size, "%s", ts_url(b, "/next")); break;
    case OTHER_HOST: snprintf(out, size, "http://localhost:%d/next", ts_port(a)); break;
    case BACK_HOME: snprintf(out, size, "%s", ts_url(a, "/next")); break;
    default: snprintf(out, size, "/next"); break;
    }
}

/* Checks one header of the second request: present with `want`, or absent. */
static void expect_header(const char *head, const char *name, const char *want)
{
    char value[128];
    int n = ts_head_header(head, name, value, sizeof value);
    if (!want) {
        if (!CHECK_INT(n, 0))
            fprintf(stderr, "    %s: %s should not have gone along\n", name, value);
        return;
    }
    if (CHECK_INT(n, 1))
        CHECK_STR(value, want);
}

static void one_origin_case(size_t o, size_t k)
{
    int before = check_failures;
    const ts_step *scripts[] = {redirect_then_final, final_only};
    testserver *a = ts_start_scripts(AF_INET, scripts, 2);
    testserver *b = ts_start(AF_INET, final_only);
    char location[256];
    location_for(origins[o].where, a, b, location, sizeof location);
    snprintf(redirect_reply, sizeof redirect_reply,
             "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n", location);
    char auth_line[64];
    snprintf(auth_line, sizeof auth_line, "Authorization: %s", creds[k].authorization);
    const char *headers[] = {"Cookie: c=1", "Proxy-Authorization: Basic cHJveHk=",
                             "Host: custom.example", "X-Keep: 1", auth_line};
    char first_url[128];
    snprintf(first_url, sizeof first_url, "http://%s%s/first", creds[k].in_url ? "user:pass@" : "",
             ts_authority(a));
    bool header = !creds[k].userpwd && !creds[k].in_url;
    http_request req = {.url = first_url, .headers = headers, .n_headers = header ? 5 : 4,
                        .userpwd = creds[k].userpwd};
    http_client *c = open_following();
    http_response *r = NULL;
    CHECK_INT(http_send(c, &req, &r), HTTP_OK);
    if (CHECK(r != NULL))
        CHECK_STR(r->body, "final");
    const char *first = ts_request(a, 0);
    const char *second = origins[o].where == OTHER_PORT ? ts_request(b, 0) : ts_request(a, 1);
    if (CHECK(first != NULL) && CHECK(second != NULL)) {
        expect_header(first, "Authorization", creds[k].authorization);
        bool keeps = origins[o].keeps;
        expect_header(second, "Authorization", keeps ? creds[k].authorization : NULL);
        expect_header(second, "Cookie", keeps ? "c=1" : NULL);
        expect_header(second, "Proxy-Authorization", keeps ? "Basic cHJveHk=" : NULL);
        char host[64];
        snprintf(host, sizeof host, "localhost:%d", ts_port(a));
        expect_header(second, "Host", keeps ? "custom.example"
                                      : origins[o].where == OTHER_HOST ? host
                                                                      : ts_authority(b));
        expect_header(second, "X-Keep", "1");
    }
    if (check_failures != before)
        fprintf(stderr, "    in case \"%s\" with %s\n", origins[o].name, creds[k].name);
    http_response_free(r);
    http_client_close(c);
    ts_stop(b);
    ts_stop(a);
}

static void test_credentials(void *arg)
{
    (void)arg;
    for (size_t o = 0; o < sizeof origins / sizeof origins[0]; o++)
        for (size_t k = 0; k < sizeof creds / sizeof creds[0]; k++)
            one_origin_case(o, k);
}

/* ---- method and body ---- */

enum { NO_BODY, MEMORY_BODY, SOURCE_BODY, REWIND_BODY };

#define BODY_TYPE "text/x-test" /* the body_type of every case with a body */

static long give_once(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    (void)deadline_ns;
    int *calls = user;
    (void)cap;
    if ((*calls)++ > 0)
        return 0;
    memcpy(buf, "data", 4);
    return 4;
}

/* body_rewind: the source starts over. */
static int rewind_once(void *user)
{
    *(int *)user = 0;
    return 0;
}

static const struct {
    int status;
    const char *method;
    int body;
    int err;                 /* what http_send returns */
    const char *want_method; /* of the second request; NULL: none is sent */
    const char *want_body;   /* what the server read with it */
    const char *want_length; /* its Content-Length, NULL: none */
} methods[] = {
    {301, "POST", MEMORY_BODY, HTTP_OK, "GET", "", NULL},
    {302, "POST", MEMORY_BODY, HTTP_OK, "GET", "", NULL},
    {303, "POST", MEMORY_BODY, HTTP_OK, "GET", "", NULL},
    {303, "PUT", MEMORY_BODY, HTTP_OK, "GET", "", NULL},
    {303, "HEAD", NO_BODY, HTTP_OK, "HEAD", "", NULL},
    {303, "POST", SOURCE_BODY, HTTP_OK, "GET", "", NULL},
    {301, "PUT", MEMORY_BODY, HTTP_OK, "PUT", "data", "4"},
    {302, "DELETE", NO_BODY, HTTP_OK, "DELETE", "", NULL},
    {307, "POST", MEMORY_BODY, HTTP_OK, "POST", "data", "4"},
    {308, "PUT", MEMORY_BODY, HTTP_OK, "PUT", "data", "4"},
    {307, "POST", NO_BODY, HTTP_OK, "POST", "", "0"},
    {307, "POST", SOURCE_BODY, HTTP_E_NOT_REPLAYABLE, NULL, NULL, NULL},
    {308, "PUT", SOURCE_BODY, HTTP_E_NOT_REPLAYABLE, NULL, NULL, NULL},
    {302, "PUT", SOURCE_BODY, HTTP_E_NOT_REPLAYABLE, NULL, NULL, NULL},
    {307, "POST", REWIND_BODY, HTTP_OK, "POST", "data", "4"},
    {302, "PUT", REWIND_BODY, HTTP_OK, "PUT", "data", "4"},
    {303, "POST", REWIND_BODY, HTTP_OK, "GET", "", NULL},
};

static void one_method_case(size_t i)
{
    int before = check_failures;
    testserver *a = ts_start(AF_INET, redirect_then_final);
    snprintf(redirect_reply, sizeof redirect_reply,
             "HTTP/1.1 %d R\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n", methods[i].status);
    int calls = 0;
    http_request req = {.method = methods[i].method, .url = ts_url(a, "/first")};
    if (methods[i].body == MEMORY_BODY) {
        req.body = "data";
        req.body_len = 4;
    } else if (methods[i].body != NO_BODY) {
        req.body_source = give_once;
        req.body_user = &calls;
        req.body_length = 4;
        if (methods[i].body == REWIND_BODY)
            req.body_rewind = rewind_once;
    }
    if (methods[i].body != NO_BODY)
        req.body_type = BODY_TYPE;
    http_client *c = open_following();
    http_response *r = NULL;
    CHECK_INT(http_send(c, &req, &r), methods[i].err);
    if (methods[i].err == HTTP_E_NOT_REPLAYABLE && CHECK(r != NULL))
        CHECK_INT(r->status, methods[i].status); /* the redirect not followed */
    if (methods[i].want_method && CHECK_INT(ts_requests(a), 2)) {
        char line[64], want[64];
        ts_head_request_line(ts_request(a, 1), line, sizeof line);
        snprintf(want, sizeof want, "%s /next HTTP/1.1", methods[i].want_method);
        CHECK_STR(line, want);
        CHECK_STR(ts_request_body(a, 1, NULL), methods[i].want_body);
        expect_header(ts_request(a, 1), "Content-Length", methods[i].want_length);
        /* the body's type goes with the body, and only with it */
        bool kept = methods[i].body != NO_BODY && methods[i].want_body[0];
        expect_header(ts_request(a, 0), "Content-Type",
                      methods[i].body != NO_BODY ? BODY_TYPE : NULL);
        expect_header(ts_request(a, 1), "Content-Type", kept ? BODY_TYPE : NULL);
    } else if (!methods[i].want_method) {
        CHECK_INT(ts_requests(a), 1);
    }
    if (check_failures != before)
        fprintf(stderr, "    in case %d %s, body %d\n", methods[i].status, methods[i].method,
                methods[i].body);
    http_response_free(r);
    http_client_close(c);
    ts_stop(a);
}

/* A Content-Type line of the caller's wins over body_type, and stays
 * when a 303 drops the body (it is the caller's, as in curl). */
static void test_callers_type(void *arg)
{
    (void)arg;
    testserver *a = ts_start(AF_INET, redirect_then_final);
    snprintf(redirect_reply, sizeof redirect_reply,
             "HTTP/1.1 303 R\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n");
    static const char *const lines[] = {"Content-Type: a/b"};
    http_request req = {.method = "POST", .url = ts_url(a, "/first"), .body = "data",
                        .body_len = 4, .body_type = BODY_TYPE, .headers = lines,
                        .n_headers = 1};
    http_client *c = open_following();
    http_response *r = NULL;
    CHECK_INT(http_send(c, &req, &r), HTTP_OK);
    if (CHECK_INT(ts_requests(a), 2)) {
        expect_header(ts_request(a, 0), "Content-Type", "a/b");
        expect_header(ts_request(a, 1), "Content-Type", "a/b");
    }
    http_response_free(r);
    http_client_close(c);
    ts_stop(a);
}

static void test_methods(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        one_method_case(i);
}

/* ---- what is not a redirect, and on_redirect ---- */

static void test_empty_location(void *arg)
{
    (void)arg;
    static const char *const replies[] = {
        "HTTP/1.1 302 Found\r\nLocation:\r\nContent-Length: 2\r\n\r\nno",
        "HTTP/1.1 301 Moved\r\nLocation:   \r\nContent-Length: 2\r\n\r\nno",
        "HTTP/1.1 307 T\r\nContent-Length: 2\r\n\r\nno",
    };
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        snprintf(redirect_reply, sizeof redirect_reply, "%s", replies[i]);
        testserver *a = ts_start(AF_INET, redirect_then_final);
        http_client *c = open_following();
        http_response *r = NULL;
        if (!CHECK_INT(http_get(c, ts_url(a, "/"), &r), HTTP_OK) | !CHECK(r != NULL) ||
            !CHECK_STR(r->body, "no") | !CHECK_INT(ts_requests(a), 1))
            fprintf(stderr, "    for reply %zu\n", i);
        http_response_free(r);
        http_client_close(c);
        ts_stop(a);
    }
}

typedef struct hops_seen {
    char log[512];
    int stop_at; /* return -1 at this call (1-based), 0: never */
    int calls;
} hops_seen;

static int note_hop(void *user, const http_response *hop, const char *next_url)
{
    hops_seen *h = user;
    size_t at = strlen(h->log);
    snprintf(h->log + at, sizeof h->log - at, "%d -> %s; ", hop->status, next_url);
    return ++h->calls == h->stop_at ? -1 : 0;
}

static void test_on_redirect(void *arg)
{
    (void)arg;
    static const ts_step chain[] = {
        TS_READ(), TS_SEND("HTTP/1.1 301 M\r\nLocation: /two\r\nContent-Length: 3\r\n\r\nabc"),
        TS_READ(), TS_SEND("HTTP/1.1 307 T\r\nLocation: three\r\nContent-Length: 0\r\n\r\n"),
        TS_READ(), TS_SEND(FINAL), TS_LOOP()};
    for (int stop_at = 0; stop_at <= 2; stop_at++) {
        testserver *a = ts_start(AF_INET, chain);
        http_client *c = open_following();
        hops_seen seen = {.stop_at = stop_at};
        http_request req = {.url = ts_url(a, "/one"), .on_redirect = note_hop, .user = &seen};
        http_response *r = NULL;
        int err = http_send(c, &req, &r);
        char want[512];
        snprintf(want, sizeof want, "301 -> %s; 307 -> %s; ", ts_url(a, "/two"),
                 ts_url(a, "/three"));
        if (stop_at == 1)
            want[strlen(ts_url(a, "/two")) + 9] = '\0'; /* only the first hop */
        CHECK_STR(seen.log, want);
        CHECK_INT(err, stop_at ? HTTP_E_ABORTED : HTTP_OK);
        CHECK_INT(ts_requests(a), stop_at ? stop_at : 3);
        if (CHECK(r != NULL))
            CHECK_INT(r->status, stop_at == 1 ? 301 : stop_at == 2 ? 307 : 200);
        http_response_free(r);
        http_client_close(c);
        ts_stop(a);
    }
}

/* ---- chains: there and back, IPv6, through a proxy ---- */

/* The replies of a chain's servers, filled in before each case. */
static char chain_first[256], chain_second[256];

static const ts_step chain_a[] = {TS_READ(), TS_SEND(chain_first), TS_READ(), TS_SEND(FINAL),
                                  TS_LOOP()};
static const ts_step chain_b[] = {TS_READ(), TS_SEND(chain_second), TS_LOOP()};
/* A proxy answers every hop itself: the 302 to B, B's 302 back, the final. */
static const ts_step chain_proxy[] = {TS_READ(), TS_SEND(chain_first), TS_READ(),
                                      TS_SEND(chain_second), TS_READ(), TS_SEND(FINAL),
                                      TS_LOOP()};

enum { CHAIN_THERE_AND_BACK, CHAIN_IPV6_PATH, CHAIN_IPV6_TO_IPV4, CHAIN_PROXY };

static const struct {
    const char *name;
    int kind;
    int hops;            /* requests made in all */
    bool auth[3];        /* whether request i carries the Authorization */
} chains[] = {
    {"A -> B -> A: dropped at B, back at A", CHAIN_THERE_AND_BACK, 3, {true, false, true}},
    {"[::1] origin, to a path: kept", CHAIN_IPV6_PATH, 2, {true, true}},
    {"[::1] origin, to 127.0.0.1: dropped", CHAIN_IPV6_TO_IPV4, 2, {true, false}},
    {"through a proxy, A -> B -> A", CHAIN_PROXY, 3, {true, false, true}},
};

#define REDIRECT_TO "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"

/* The i-th request the chain's servers saw, in order. */
static const char *chain_request(int kind, testserver *a, testserver *b, int i)
{
    if (kind == CHAIN_PROXY || kind == CHAIN_IPV6_PATH)
        return ts_request(a, i);
    if (kind == CHAIN_IPV6_TO_IPV4)
        return i == 0 ? ts_request(a, 0) : ts_request(b, 0);
    return i == 1 ? ts_request(b, 0) : ts_request(a, i / 2); /* A, B, A */
}

static void one_chain(size_t i)
{
    int before = check_failures, kind = chains[i].kind;
    bool six = kind == CHAIN_IPV6_PATH || kind == CHAIN_IPV6_TO_IPV4;
    testserver *a = ts_start(six ? AF_INET6 : AF_INET, kind == CHAIN_PROXY ? chain_proxy
                                                                            : chain_a);
    if (!a && six) {
        fprintf(stderr, "    no ::1 here: \"%s\" skipped\n", chains[i].name);
        return;
    }
    testserver *b = ts_start(AF_INET, chain_b);
    char first_url[128], proxy[64] = "";
    switch (kind) {
    case CHAIN_PROXY:
        snprintf(first_url, sizeof first_url, "http://a.example/first");
        snprintf(chain_first, sizeof chain_first, REDIRECT_TO, "http://b.example/x");
        snprintf(chain_second, sizeof chain_second, REDIRECT_TO, "http://a.example/back");
        snprintf(proxy, sizeof proxy, "http://pu:pp@%s", ts_authority(a));
        break;
    case CHAIN_IPV6_PATH:
        snprintf(first_url, sizeof first_url, "%s", ts_url(a, "/first"));
        snprintf(chain_first, sizeof chain_first, REDIRECT_TO, "/back");
        break;
    default:
        snprintf(first_url, sizeof first_url, "%s", ts_url(a, "/first"));
        snprintf(chain_first, sizeof chain_first, REDIRECT_TO, ts_url(b, "/x"));
        snprintf(chain_second, sizeof chain_second, REDIRECT_TO, ts_url(a, "/back"));
        break;
    }
    http_client *c = client_open_defaults(
        (http_client_opts){.follow_redirects = true, .proxy = proxy[0] ? proxy : NULL},
        3000, 10000);
    http_request req = {.url = first_url, .userpwd = "user:pass"};
    http_response *r = NULL;
    CHECK_INT(http_send(c, &req, &r), HTTP_OK);
    if (CHECK(r != NULL))
        CHECK_STR(r->body, "final");
    for (int h = 0; h < chains[i].hops; h++) {
        const char *head = chain_request(kind, a, b, h);
        if (!CHECK(head != NULL))
            continue;
        expect_header(head, "Authorization", chains[i].auth[h] ? "Basic dXNlcjpwYXNz" : NULL);
        if (kind == CHAIN_PROXY) /* the proxy's own, on every hop */
            expect_header(head, "Proxy-Authorization", "Basic cHU6cHA=");
        if (check_failures != before) {
            fprintf(stderr, "    at request %d\n", h);
            break;
        }
    }
    if (check_failures != before)
        fprintf(stderr, "    in chain \"%s\"\n", chains[i].name);
    http_response_free(r);
    http_client_close(c);
    ts_stop(b);
    ts_stop(a);
}

static void test_chains(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++)
        one_chain(i);
}

int main(void)
{
    CHECK_INT(ts_run("redirect safety: credentials stay with their origin",
                     test_credentials, NULL), 0);
    CHECK_INT(ts_run("redirect safety: method and body per status", test_methods, NULL), 0);
    CHECK_INT(ts_run("redirect safety: the caller's Content-Type wins", test_callers_type,
                     NULL), 0);
    CHECK_INT(ts_run("redirect safety: an empty Location is no redirect",
                     test_empty_location, NULL), 0);
    CHECK_INT(ts_run("redirect safety: on_redirect sees every hop", test_on_redirect, NULL), 0);
    CHECK_INT(ts_run("redirect safety: chains (back home, IPv6, a proxy)", test_chains, NULL),
              0);
    return check_summary();
}
