/* test_url.c - http/url: parsing and the Host header.  (http_url_normalize
 * and http_url_join: test_url_join.c.)
 *
 * Table-driven.  Every parse starts from a struct filled with garbage, so
 * a field the parser forgot to set cannot pass by luck.
 */
#include <stdlib.h>

#include "check.h"
#include <bareawait/url.h>

enum {
    OK = HTTP_URL_OK, SCHEME = HTTP_URL_UNSUPPORTED_SCHEME, NOSCHEME = HTTP_URL_NO_SCHEME,
    HOST = HTTP_URL_BAD_HOST, IPV6 = HTTP_URL_BAD_IPV6, PORT = HTTP_URL_BAD_PORT,
    CTL = HTTP_URL_CONTROL_CHAR, SPACE = HTTP_URL_SPACE, NOPATH = HTTP_URL_NO_PATH
};

/* URLs that parse, and what they parse into. */
static const struct {
    const char *input;
    const char *host;
    int port;
    bool port_given, ipv6;
    const char *target;
    const char *userinfo;   /* NULL: none */
} good_urls[] = {
    { "http://h", "h", 80, false, false, "/", NULL },
    { "http://h:8080/p?q#frag", "h", 8080, true, false, "/p?q", NULL },
    { "http://[::1]:9/x", "::1", 9, true, true, "/x", NULL },
    { "http://[::1]", "::1", 80, false, true, "/", NULL },
    { "http://[2001:db8::1]/a", "2001:db8::1", 80, false, true, "/a", NULL },
    { "http://[::ffff:1.2.3.4]:81/", "::ffff:1.2.3.4", 81, true, true, "/", NULL },
    { "http://127.0.0.1", "127.0.0.1", 80, false, false, "/", NULL },
    { "HTTP://Example.COM", "Example.COM", 80, false, false, "/", NULL },
    { "hTtP://h/", "h", 80, false, false, "/", NULL },
    { "http://h:80/", "h", 80, true, false, "/", NULL },
    { "http://h:65535/", "h", 65535, true, false, "/", NULL },
    { "http://h:00081/", "h", 81, true, false, "/", NULL },
    { "http://h#frag", "h", 80, false, false, "/", NULL },
    { "http://h/#", "h", 80, false, false, "/", NULL },
    { "http://h/a?b/c#d?e", "h", 80, false, false, "/a?b/c", NULL },
    { "http://my_host-1.example/a/b.html?x=1&y=%20", "my_host-1.example", 80,
      false, false, "/a/b.html?x=1&y=%20", NULL },
    { "http://h/caf\xc3\xa9", "h", 80, false, false, "/caf\xc3\xa9", NULL },
    /* zones (RFC 6874, and curl's lenient "%eth0") */
    { "http://[fe80::1%25eth0]:8080/", "fe80::1%eth0", 8080, true, true, "/", NULL },
    { "http://[fe80::1%eth0]/x", "fe80::1%eth0", 80, false, true, "/x", NULL },
    { "http://[fe80::1%252]/", "fe80::1%2", 80, false, true, "/", NULL },
    { "http://[fe80::1%2]/", "fe80::1%2", 80, false, true, "/", NULL },
    { "http://[fe80::1%25]/", "fe80::1%25", 80, false, true, "/", NULL },
    { "http://[fe80::1%25en-0.a_b~]/", "fe80::1%en-0.a_b~", 80, false, true, "/", NULL },
    /* userinfo, up to the last '@' of the authority */
    { "http://user:pa%40ss@host/", "host", 80, false, false, "/", "user:pa%40ss" },
    { "http://u@h:81", "h", 81, true, false, "/", "u" },
    { "http://@h/", "h", 80, false, false, "/", "" },
    { "http://a@b:c@h/x", "h", 80, false, false, "/x", "a@b:c" },
    { "http://u:p@[::1]:9/", "::1", 9, true, true, "/", "u:p" },
    { "http://h/p@q", "h", 80, false, false, "/p@q", NULL },
    { "http://h?x@y/", NULL, 0, false, false, NULL, NULL },  /* refused: NO_PATH */
};

/* URLs that must be refused, and the code they get. */
static const struct { const char *input; int code; } bad_urls[] = {
    /* other schemes */
    { "https://x", SCHEME }, { "ftp://x", SCHEME }, { "HTTPs://x", SCHEME },
    { "git+ssh://x/y", SCHEME }, { "https://x y", SPACE },
    /* no "scheme://" */
    { "", NOSCHEME }, { "localhost", NOSCHEME }, { "localhost:8080", NOSCHEME },
    { "http:/h", NOSCHEME }, { "http:h", NOSCHEME }, { "://h", NOSCHEME },
    { "1http://h", NOSCHEME }, { "mailto:a@b", NOSCHEME },
    /* host */
    { "http://", HOST }, { "http:///p", HOST }, { "http://:80/", HOST }, { "http://?q", HOST },
    { "http://u@/", HOST }, { "http://u@:80/", HOST }, { "http://h%41/", HOST },
    { "http://h!/", HOST }, { "http://h,i/", HOST }, { "http://caf\xc3\xa9/", HOST },
    { "http://::1/", HOST }, { "http://a@b@/", HOST },
    /* port */
    { "http://h:0", PORT }, { "http://h:65536", PORT }, { "http://h:99999999999999999999", PORT },
    { "http://h:", PORT }, { "http://h:/", PORT }, { "http://h:8x", PORT }, { "http://h:-1", PORT },
    { "http://h:+1", PORT }, { "http://a:1:2/", PORT }, { "http://[::1]x/", PORT },
    { "http://[::1]:/", PORT }, { "http://u:p@h:p/", PORT },
    /* IPv6 and zones */
    { "http://[::1", IPV6 }, { "http://[::1/x", IPV6 }, { "http://[]/", IPV6 },
    { "http://[zz]/", IPV6 }, { "http://[1:2]/", IPV6 }, { "http://[h]/", IPV6 },
    { "http://[fe80::1%]/", IPV6 }, { "http://[fe80::1%25%65th0]/", IPV6 },
    { "http://[fe80::1%eth/0]/", IPV6 }, { "http://[fe80::1%e:t]/", IPV6 },
    { "http://[%25eth0]/", IPV6 }, { "http://[1.2.3.4]/", IPV6 },
    /* forbidden bytes anywhere */
    { "http://h/a b", SPACE }, { "http://h/a\r\nX: y", CTL }, { "http://h/\x7f", CTL },
    { "http://h/\t", CTL }, { " http://h/", SPACE }, { "http://h/x ", SPACE },
    { "http://h\n/", CTL }, { "http://h/#a b", SPACE }, { "http://h/ \x01", CTL },
    /* a query with no path: the target cannot start with '/' (see url.h) */
    { "http://h?q", NOPATH }, { "http://u@h:8?q", NOPATH }, { "http://h?x@y/", NOPATH },
};

static void check_urls(void)
{
    for (size_t i = 0; i < sizeof good_urls / sizeof good_urls[0]; i++) {
        const char *s = good_urls[i].input;
        if (!good_urls[i].host)
            continue;                  /* a reminder row, checked in bad_urls */
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
        if (ok && good_urls[i].userinfo) {
            char info[256];
            snprintf(info, sizeof info, "%.*s", (int)u.userinfo_len, u.userinfo);
            ok = CHECK(u.userinfo >= s && u.userinfo + u.userinfo_len <= s + strlen(s)) &&
                 CHECK_STR(info, good_urls[i].userinfo);
        } else if (ok) {
            ok = CHECK(u.userinfo == NULL) && CHECK_INT(u.userinfo_len, 0);
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
        if (CHECK_INT(http_url_parse(s, &u), len <= 255 ? OK : HOST) && len <= 255)
            CHECK_INT(strlen(u.host), len);
    }
}

/* Every code has a message of its own; anything else is "unknown". */
static void check_strerror(void)
{
    static const int codes[] = {
        HTTP_URL_OK, HTTP_URL_MALFORMED, HTTP_URL_UNSUPPORTED_SCHEME, HTTP_URL_TOO_LONG,
        HTTP_URL_NO_SCHEME, HTTP_URL_BAD_HOST, HTTP_URL_BAD_IPV6, HTTP_URL_BAD_PORT,
        HTTP_URL_CONTROL_CHAR, HTTP_URL_SPACE, HTTP_URL_NO_PATH,
    };
    static const struct { int code; const char *word; } words[] = {
        { HTTP_URL_MALFORMED, "malformed" }, { HTTP_URL_UNSUPPORTED_SCHEME, "scheme" },
        { HTTP_URL_TOO_LONG, "long" }, { HTTP_URL_BAD_PORT, "port" },
        { HTTP_URL_BAD_IPV6, "IPv6" }, { HTTP_URL_BAD_HOST, "host" },
        { HTTP_URL_CONTROL_CHAR, "control" }, { HTTP_URL_SPACE, "space" },
    };
    size_t n = sizeof codes / sizeof codes[0];
    const char *unknown = http_url_strerror(42);
    CHECK(unknown != NULL && strstr(unknown, "unknown") != NULL);
    CHECK_STR(http_url_strerror(HTTP_URL_NO_PATH - 1), unknown);
    for (size_t i = 0; i < n; i++) {
        const char *m = http_url_strerror(codes[i]);
        if (!CHECK(m != NULL && strcmp(m, unknown) != 0))
            fprintf(stderr, "    for code %d\n", codes[i]);
        for (size_t j = 0; m && j < i; j++)
            if (!CHECK(strcmp(m, http_url_strerror(codes[j])) != 0))
                fprintf(stderr, "    codes %d and %d: \"%s\"\n", codes[i], codes[j], m);
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!CHECK(strstr(http_url_strerror(words[i].code), words[i].word) != NULL))
            fprintf(stderr, "    code %d: \"%s\" lacks \"%s\"\n", words[i].code,
                    http_url_strerror(words[i].code), words[i].word);
}

/* HTTP_URL_MAX bytes parse; one more is HTTP_URL_TOO_LONG, even when a
 * worse fault comes later. */
static void check_url_max(void)
{
    char *s = malloc(HTTP_URL_MAX + 2);
    if (!s)
        abort();
    memcpy(s, "http://h/", 9);
    memset(s + 9, 'a', HTTP_URL_MAX - 9);
    s[HTTP_URL_MAX] = '\0';
    http_url u;
    if (CHECK_INT(http_url_parse(s, &u), OK))
        CHECK_INT(u.target_len, HTTP_URL_MAX - 8);
    s[HTTP_URL_MAX] = '\n';
    s[HTTP_URL_MAX + 1] = '\0';
    CHECK_INT(http_url_parse(s, &u), HTTP_URL_TOO_LONG);
    free(s);
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
    { "http://[fe80::1%25eth0]:8080/", 64, 14, "[fe80::1]:8080" },   /* no zone */
    { "http://[fe80::1%eth0]/", 64, 9, "[fe80::1]" },
    { "http://[fe80::1%25eth0]/", 10, 9, "[fe80::1]" },             /* exactly fits */
    { "http://u:p@h:81/", 64, 4, "h:81" },                          /* no userinfo */
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
    check_url_max();
    check_host_header();
    return check_summary();
}
