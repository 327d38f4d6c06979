/* test_url.c - http/url: parsing, redirect resolution, the Host header.
 *
 * Table-driven.  Every parse starts from a struct filled with garbage, so
 * a field the parser forgot to set cannot pass by luck.
 */
#include <stdlib.h>

#include "check.h"
#include <bareawait/url.h>

enum { OK = HTTP_URL_OK, BAD = HTTP_URL_MALFORMED, SCHEME = HTTP_URL_UNSUPPORTED_SCHEME };

/* URLs that parse, and what they parse into. */
static const struct {
    const char *input;
    const char *host;
    int port;
    bool port_given, ipv6;
    const char *target;
} good_urls[] = {
    { "http://h", "h", 80, false, false, "/" },
    { "http://h:8080/p?q#frag", "h", 8080, true, false, "/p?q" },
    { "http://[::1]:9/x", "::1", 9, true, true, "/x" },
    { "http://[::1]", "::1", 80, false, true, "/" },
    { "http://[2001:db8::1]/a", "2001:db8::1", 80, false, true, "/a" },
    { "http://[::ffff:1.2.3.4]:81/", "::ffff:1.2.3.4", 81, true, true, "/" },
    { "http://127.0.0.1", "127.0.0.1", 80, false, false, "/" },
    { "HTTP://Example.COM", "Example.COM", 80, false, false, "/" },
    { "hTtP://h/", "h", 80, false, false, "/" },
    { "http://h:80/", "h", 80, true, false, "/" },
    { "http://h:65535/", "h", 65535, true, false, "/" },
    { "http://h:00081/", "h", 81, true, false, "/" },
    { "http://h#frag", "h", 80, false, false, "/" },
    { "http://h/#", "h", 80, false, false, "/" },
    { "http://h/a?b/c#d?e", "h", 80, false, false, "/a?b/c" },
    { "http://my_host-1.example/a/b.html?x=1&y=%20", "my_host-1.example", 80,
      false, false, "/a/b.html?x=1&y=%20" },
    { "http://h/caf\xc3\xa9", "h", 80, false, false, "/caf\xc3\xa9" },
};

/* URLs that must be refused, and the code they get. */
static const struct { const char *input; int code; } bad_urls[] = {
    /* other schemes */
    { "https://x", SCHEME }, { "ftp://x", SCHEME }, { "HTTPs://x", SCHEME },
    { "git+ssh://x/y", SCHEME }, { "https://x y", BAD },
    /* no "scheme://" */
    { "", BAD }, { "localhost", BAD }, { "localhost:8080", BAD }, { "http:/h", BAD },
    { "http:h", BAD }, { "://h", BAD }, { "1http://h", BAD }, { "mailto:a@b", BAD },
    /* host */
    { "http://", BAD }, { "http:///p", BAD }, { "http://:80/", BAD }, { "http://?q", BAD },
    { "http://u@h/", BAD }, { "http://u:p@h/", BAD }, { "http://h%41/", BAD },
    { "http://h!/", BAD }, { "http://h,i/", BAD },
    /* port */
    { "http://h:0", BAD }, { "http://h:65536", BAD }, { "http://h:99999999999999999999", BAD },
    { "http://h:", BAD }, { "http://h:/", BAD }, { "http://h:8x", BAD }, { "http://h:-1", BAD },
    { "http://h:+1", BAD }, { "http://a:1:2/", BAD },
    /* IPv6 */
    { "http://[::1", BAD }, { "http://[::1/x", BAD }, { "http://[]/", BAD },
    { "http://[zz]/", BAD }, { "http://[1:2]/", BAD }, { "http://[fe80::1%25eth0]/", BAD },
    { "http://[::1]x/", BAD }, { "http://[::1]:/", BAD }, { "http://[h]/", BAD },
    { "http://::1/", BAD },
    /* forbidden bytes anywhere */
    { "http://h/a b", BAD }, { "http://h/a\r\nX: y", BAD }, { "http://h/\x7f", BAD },
    { "http://h/\t", BAD }, { " http://h/", BAD }, { "http://h/x ", BAD },
    { "http://h\n/", BAD },
    /* a query with no path: the target cannot start with '/' (see url.h) */
    { "http://h?q", BAD },
};

static void check_urls(void)
{
    for (size_t i = 0; i < sizeof good_urls / sizeof good_urls[0]; i++) {
        const char *s = good_urls[i].input;
        http_url u;
        memset(&u, 0xAA, sizeof u);
        bool ok = CHECK_INT(http_url_parse(s, &u), OK);
        if (ok) {
            char target[256];
            snprintf(target, sizeof target, "%.*s", (int)u.target_len, u.target);
            bool into_input = u.target >= s && u.target + u.target_len <= s + strlen(s);
            ok = CHECK_STR(u.host, good_urls[i].host) && CHECK_INT(u.port, good_urls[i].port) &&
                 CHECK_INT(u.port_given, good_urls[i].port_given) &&
                 CHECK_INT(u.host_is_ipv6, good_urls[i].ipv6) &&
                 CHECK_STR(target, good_urls[i].target) &&
                 CHECK(into_input || strcmp(target, "/") == 0);
        }
        if (!ok)
            fprintf(stderr, "    in case \"%s\"\n", s);
    }
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        http_url u;
        if (!CHECK_INT(http_url_parse(bad_urls[i].input, &u), bad_urls[i].code))
            fprintf(stderr, "    in case \"%s\"\n", bad_urls[i].input);
    }
}

/* Hosts of 255 bytes fit host[256]; 256 bytes do not. */
static void check_host_length(void)
{
    char s[300];
    http_url u;
    for (size_t len = 254; len <= 257; len++) {
        int n = snprintf(s, sizeof s, "http://%0*d/", (int)len, 0);
        CHECK_INT(n, len + 8);
        if (CHECK_INT(http_url_parse(s, &u), len <= 255 ? OK : BAD) && len <= 255)
            CHECK_INT(strlen(u.host), len);
    }
}

static void check_strerror(void)
{
    const char *ok = http_url_strerror(OK), *bad = http_url_strerror(BAD);
    const char *scheme = http_url_strerror(SCHEME), *other = http_url_strerror(42);
    CHECK(ok && bad && scheme && other);
    CHECK(strstr(bad, "malformed") != NULL);
    CHECK(strstr(scheme, "scheme") != NULL);
    CHECK(strcmp(ok, bad) != 0 && strcmp(bad, scheme) != 0 && strcmp(scheme, other) != 0);
}

static const struct {
    const char *base, *loc;
    size_t size;          /* of the output buffer */
    int ret;
    const char *out;      /* when ret is 0 */
} resolves[] = {
    { "http://a/b/c?q", "http://other:81/x", 64, 0, "http://other:81/x" },
    { "http://a/b/c?q", "HTTPS://s/", 64, 0, "HTTPS://s/" },
    { "http://a/b", "//cdn.example/p?x", 64, 0, "http://cdn.example/p?x" },
    { "http://a:8080/b/c?q#f", "/new?x", 64, 0, "http://a:8080/new?x" },
    { "http://a", "/x", 64, 0, "http://a/x" },
    { "http://a/b/c?old#f", "?new", 64, 0, "http://a/b/c?new" },
    { "http://a", "?q", 64, 0, "http://a/?q" },
    { "http://a#f", "?q", 64, 0, "http://a/?q" },
    { "http://a/b?q#f", "#g", 64, 0, "http://a/b?q#g" },
    { "http://a/b/c", "d", 64, 0, "http://a/b/d" },
    { "http://a/b/c/", "d/e?f", 64, 0, "http://a/b/c/d/e?f" },
    { "http://a", "d", 64, 0, "http://a/d" },
    { "http://a/", "d", 64, 0, "http://a/d" },
    { "http://a/b/c?x=/y/z", "d", 64, 0, "http://a/b/d" },
    { "http://a/b/c", "../d", 64, 0, "http://a/b/../d" },     /* not normalised */
    { "http://a/b", "/xyz", 13, 0, "http://a/xyz" },          /* exactly fits */
    { "http://a/b", "/xyz", 12, -1, NULL },                         /* one byte short */
    { "http://a/b", "d", 0, -1, NULL },
    { "http://a/b", "", 64, -1, NULL },
    { "http://a/b", "/x\r\nSet-Cookie: y", 64, -1, NULL },
    { "http://a/b", "/a b", 64, -1, NULL },
    { "a/b", "c", 64, -1, NULL },
};

static void check_resolve(void)
{
    for (size_t i = 0; i < sizeof resolves / sizeof resolves[0]; i++) {
        char out[64];
        memset(out, 'Z', sizeof out);
        int r = http_url_resolve(resolves[i].base, resolves[i].loc, out, resolves[i].size);
        bool ok = CHECK_INT(r, resolves[i].ret);
        if (ok && r == 0) {
            http_url u;
            ok = CHECK_STR(out, resolves[i].out);
            if (ok && strncmp(out, "http://", 7) == 0)
                ok = CHECK_INT(http_url_parse(out, &u), OK);
        }
        if (!ok)
            fprintf(stderr, "    in case \"%s\" + \"%s\"\n", resolves[i].base, resolves[i].loc);
    }
}

static const struct {
    const char *url;
    size_t size;
    int ret;
    const char *out;
} host_headers[] = {
    { "http://example.com", 64, 11, "example.com" },
    { "http://example.com:8080/x", 64, 16, "example.com:8080" },
    { "http://example.com:80/", 64, 11, "example.com" },
    { "http://[::1]:8080/", 64, 10, "[::1]:8080" },
    { "http://[::1]/", 64, 5, "[::1]" },
    { "http://h:8080", 7, 6, "h:8080" },      /* exactly fits */
    { "http://h:8080", 6, -1, "" },           /* one byte short */
    { "http://[::1]", 5, -1, "" },
};

static void check_host_header(void)
{
    for (size_t i = 0; i < sizeof host_headers / sizeof host_headers[0]; i++) {
        http_url u;
        char out[64];
        memset(out, 'Z', sizeof out);
        if (!CHECK_INT(http_url_parse(host_headers[i].url, &u), OK))
            continue;
        int r = http_url_host_header(&u, out, host_headers[i].size);
        if (!CHECK_INT(r, host_headers[i].ret) || !CHECK_STR(out, host_headers[i].out))
            fprintf(stderr, "    in case \"%s\", size %zu\n", host_headers[i].url,
                    host_headers[i].size);
    }
    http_url u;
    if (CHECK_INT(http_url_parse("http://h", &u), OK))
        CHECK_INT(http_url_host_header(&u, NULL, 0), -1);
}

int main(void)
{
    check_urls();
    check_host_length();
    check_strerror();
    check_resolve();
    check_host_header();
    return check_summary();
}
