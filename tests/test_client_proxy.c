/* test_client_proxy.c - a plain-HTTP proxy: the request goes to the proxy
 * in absolute form with the origin's Host, connections are pooled per
 * proxy, and no_proxy's hosts (and their subdomains) go direct.
 *
 * The test server plays the proxy: it records the absolute-form target.
 * Names other than IP literals fail to resolve at once (a lookup stand-in),
 * so a request that reached the proxy proves the client did not look the
 * origin up, and one that went direct fails without reaching it.
 */
#include <arpa/inet.h>
#include <netdb.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "client_test.h"
#include "testserver.h"

/* IP literals resolve (numerically); every name fails with EAI_NONAME. */
static int numeric_only(const char *host, const char *port, const struct addrinfo *hints,
                        struct addrinfo **res)
{
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
        return EAI_NONAME;
    return ts_lookup(host, port, hints, res);
}

static http_client *open_proxied(testserver *proxy, const char *no_proxy)
{
    char url[64];
    snprintf(url, sizeof url, "http://%s", ts_authority(proxy));
    return client_open_defaults((http_client_opts){.proxy = url, .no_proxy = no_proxy},
                                3000, 10000);
}

static void test_absolute_form(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *proxy = ts_start(AF_INET, ok);
    http_client *c = open_proxied(proxy, NULL);
    static const struct {
        const char *url;
        const char *line; /* what the proxy is asked */
        const char *host; /* with this Host */
    } cases[] = {
        {"http://origin.example:8080/p?q=1#f", "GET http://origin.example:8080/p?q=1 HTTP/1.1",
         "origin.example:8080"},
        {"http://Other.Example/", "GET http://other.example/ HTTP/1.1", "other.example"},
        {"http://u:pw@third.example/x", "GET http://third.example/x HTTP/1.1", "third.example"},
        {"http://[::1]:81/six", "GET http://[::1]:81/six HTTP/1.1", "[::1]:81"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_response *r = NULL;
        int before = check_failures;
        CHECK_INT(http_get(c, cases[i].url, &r), HTTP_OK);
        if (CHECK(r != NULL))
            CHECK_STR(r->body, "ok");
        char line[128], host[128];
        ts_head_request_line(ts_last_request(proxy), line, sizeof line);
        CHECK_STR(line, cases[i].line);
        ts_head_header(ts_last_request(proxy), "Host", host, sizeof host);
        CHECK_STR(host, cases[i].host);
        if (check_failures != before)
            fprintf(stderr, "    for %s\n", cases[i].url);
        http_response_free(r);
    }
    CHECK_INT(ts_connections(proxy), 1); /* pooled by the proxy, not the origin */
    http_client_close(c);
    ts_stop(proxy);
}

static void test_no_proxy(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    static const struct {
        const char *no_proxy;
        const char *host;
        bool direct;
    } cases[] = {
        {"*", "example.com", true},
        {"example.com", "example.com", true},
        {"example.com", "www.example.com", true},
        {"example.com", "EXAMPLE.com", true},
        {"Example.COM", "a.b.example.com", true},
        {".example.com", "example.com", true},
        {"a.test, example.com ,b.test", "x.example.com", true},
        {"example.com", "badexample.com", false},
        {"example.com", "example.org", false},
        {"www.example.com", "example.com", false},
        {"", "example.com", false},
        {",,", "example.com", false},
        {"127.0.0.9", "127.0.0.9", true},
        {"0.0.9", "127.0.0.9", false}, /* IP literals: whole, never a suffix */
        {"::9", "[::9]", true},
        {"a.test, *", "example.com", false},   /* "*" is all only as the whole value */
        {" * ", "example.com", true},
        {"localhost", "localhost.", true},     /* a trailing dot is ignored */
        {"example.com.", "www.example.com", true},
        {"a.test ,  example.com", "example.com", true},
        {"127.0.0.0/8", "127.0.0.9", true},    /* IPv4 CIDR */
        {"127.0.1.0/24", "127.0.0.9", false},
        {"10.0.0.0/8, 127.0.0.8/31", "127.0.0.9", true},
        {"0.0.0.0/0", "127.0.0.9", true},
        {"127.0.0.0/33", "127.0.0.9", false},
        {"127.0.0.0/8", "example.com", false},
    };
    testserver *proxy = ts_start(AF_INET, ok);
    http_set_lookup(numeric_only);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_client *c = open_proxied(proxy, cases[i].no_proxy);
        int seen = ts_requests(proxy);
        char url[128];
        snprintf(url, sizeof url, "http://%s:%d/", cases[i].host, ts_unused_port(AF_INET));
        http_response *r = NULL;
        int err = http_get(c, url, &r);
        bool went_direct = ts_requests(proxy) == seen;
        if (!CHECK_INT(went_direct, cases[i].direct) |
            !CHECK_INT(err == HTTP_OK, !cases[i].direct))
            fprintf(stderr, "    no_proxy \"%s\", host %s: %s\n", cases[i].no_proxy,
                    cases[i].host, http_strerror(err));
        http_response_free(r);
        http_client_close(c);
    }
    http_set_lookup(NULL);
    ts_stop(proxy);
}

static void test_bad_proxy(void *arg)
{
    (void)arg;
    static const char *const bad[] = {"https://p:1/", "http://", "http://a b", "h:0",
                                      "ftp://h:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        http_client *c = http_client_open(&(http_client_opts){.proxy = bad[i]});
        if (!CHECK(c == NULL) | !CHECK_INT(errno, EINVAL))
            fprintf(stderr, "    for proxy \"%s\"\n", bad[i]);
        http_client_close(c);
    }
}

/* How the proxy may be spelled, and its credentials: they go to the
 * proxy as Proxy-Authorization, never to an origin reached directly. */
static void test_proxy_spellings(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    static const struct {
        const char *spelling;   /* %s: the proxy's authority */
        const char *proxy_auth; /* the Proxy-Authorization it must see, or NULL */
    } cases[] = {
        {"http://%s", NULL},
        {"%s", NULL},                             /* curl's bare host:port */
        {"HTTP://%s/", NULL},
        {"http://%s/ignored/path?and=query", NULL}, /* the path is ignored */
        {"http://pu:pp@%s", "Basic cHU6cHA="},    /* pu:pp */
        {"pu%%40x:p%%3Ap@%s", "Basic cHVAeDpwOnA="}, /* pu@x:p:p, decoded */
        {"http://pu@%s", "Basic cHU6"},           /* pu: */
    };
    testserver *proxy = ts_start(AF_INET, ok);
    testserver *origin = ts_start(AF_INET, ok);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = check_failures;
        char spelling[128];
        snprintf(spelling, sizeof spelling, cases[i].spelling, ts_authority(proxy));
        http_client *c = client_open_defaults(
            (http_client_opts){.proxy = spelling, .no_proxy = "localhost"}, 3000, 10000);
        if (!CHECK(c != NULL)) {
            fprintf(stderr, "    for proxy \"%s\"\n", spelling);
            continue;
        }
        http_response *r = NULL;
        CHECK_INT(http_get(c, "http://origin.example/p", &r), HTTP_OK);
        http_response_free(r);
        char line[128], auth[128];
        ts_head_request_line(ts_last_request(proxy), line, sizeof line);
        CHECK_STR(line, "GET http://origin.example/p HTTP/1.1");
        int n = ts_head_header(ts_last_request(proxy), "Proxy-Authorization", auth, sizeof auth);
        if (CHECK_INT(n, cases[i].proxy_auth != NULL) && n)
            CHECK_STR(auth, cases[i].proxy_auth);
        /* Direct to an origin (no_proxy): no Proxy-Authorization. */
        char url[64];
        snprintf(url, sizeof url, "http://localhost:%d/d", ts_port(origin));
        r = NULL;
        CHECK_INT(http_get(c, url, &r), HTTP_OK);
        http_response_free(r);
        CHECK_INT(ts_head_header(ts_last_request(origin), "Proxy-Authorization", NULL, 0), 0);
        if (check_failures != before)
            fprintf(stderr, "    for proxy \"%s\"\n", spelling);
        http_client_close(c);
    }
    ts_stop(origin);
    ts_stop(proxy);
}

int main(void)
{
    CHECK_INT(ts_run("proxy: absolute form, origin's Host, one pool", test_absolute_form,
                     NULL), 0);
    CHECK_INT(ts_run("proxy: no_proxy", test_no_proxy, NULL), 0);
    CHECK_INT(ts_run("proxy: a bad proxy URL", test_bad_proxy, NULL), 0);
    CHECK_INT(ts_run("proxy: spellings and credentials", test_proxy_spellings, NULL), 0);
    return check_summary();
}
