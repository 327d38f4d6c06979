/* test_url_join.c - http/url: http_url_normalize and http_url_join.
 *
 * Table-driven: each case is an input and the URL it must become, or the
 * code it must get.  Every result must also parse (http_url_parse) and
 * normalize to itself; those checks run on every row, so a case cannot
 * pass with an output the client would refuse.
 */
#include <stdlib.h>

#include "check.h"
#include <bareawait/url.h>

enum {
    OK = HTTP_URL_OK, SCHEME = HTTP_URL_UNSUPPORTED_SCHEME, NOSCHEME = HTTP_URL_NO_SCHEME,
    HOST = HTTP_URL_BAD_HOST, IPV6 = HTTP_URL_BAD_IPV6, PORT = HTTP_URL_BAD_PORT,
    CTL = HTTP_URL_CONTROL_CHAR, LONG = HTTP_URL_TOO_LONG
};

/* A result of normalize or join: it parses, and normalizing it again
 * changes nothing. */
static bool check_stable(const char *url)
{
    http_url u;
    int code = 0;
    bool ok = CHECK_INT(http_url_parse(url, &u), OK);
    char *again = http_url_normalize(url, &code);
    ok = CHECK_INT(code, OK) && CHECK(again != NULL) && ok;
    if (again)
        ok = CHECK_STR(again, url) && ok;
    free(again);
    return ok;
}

/* One call's result against the row's: `want` NULL means "refused with
 * want_code". */
static bool check_result(char *got, int code, const char *want, int want_code)
{
    bool ok;
    if (!want)
        ok = CHECK(got == NULL) && CHECK_INT(code, want_code);
    else
        ok = CHECK_INT(code, OK) && CHECK_STR(got, want) && check_stable(got);
    free(got);
    return ok;
}

static const struct {
    const char *input;
    const char *want;   /* NULL: refused with `code` */
    int code;
} normalizes[] = {
    { "http://h", "http://h/", OK },
    { "http://h/", "http://h/", OK },
    { "HTTP://Example.COM:8080/A/B?Q=X#Frag", "http://example.com:8080/A/B?Q=X", OK },
    { "http://h?q", "http://h/?q", OK },
    { "http://h#f", "http://h/", OK },
    { "http://h:00081", "http://h:00081/", OK },
    /* spaces and bytes >= 0x80 encoded in path, query, userinfo; kept %XX */
    { "http://h/a b?c d", "http://h/a%20b?c%20d", OK },
    { "http://h/caf\xc3\xa9?\xff", "http://h/caf%C3%A9?%FF", OK },
    { "http://h/%20%zz%", "http://h/%20%zz%", OK },
    { "http://h/a b#frag with space", "http://h/a%20b", OK },
    { "http://J Doe:p\xc3\xa4ss@H/", "http://J%20Doe:p%C3%A4ss@h/", OK },
    { "http://User:PW@Host/P", "http://User:PW@host/P", OK },
    /* dot segments (RFC 3986 5.2.4) */
    { "http://h/a/./b/../c", "http://h/a/c", OK },
    { "http://h/a/b/..", "http://h/a/", OK },
    { "http://h/a/b/.", "http://h/a/b/", OK },
    { "http://h/..", "http://h/", OK },
    { "http://h/.", "http://h/", OK },
    { "http://h/../../x", "http://h/x", OK },
    { "http://h/a/../../../b/./c/", "http://h/b/c/", OK },
    { "http://h/a//../b", "http://h/a/b", OK },
    { "http://h/.../..a/a../.b", "http://h/.../..a/a../.b", OK },
    { "http://h/a/%2e%2E/b", "http://h/a/%2e%2E/b", OK },      /* not decoded */
    { "http://h/a/..?x/../y", "http://h/?x/../y", OK },        /* not in the query */
    { "http://h/ ./..", "http://h/", OK },
    /* IPv6 and zones */
    { "http://[FE80::1]:8080", "http://[fe80::1]:8080/", OK },
    { "http://[FE80::A%eth0]/", "http://[fe80::a%25eth0]/", OK },
    { "http://[fe80::1%25Eth0]/", "http://[fe80::1%25Eth0]/", OK },
    { "http://[fe80::1%25]/", "http://[fe80::1%2525]/", OK },
    { "http://[fe80::1%2]/", "http://[fe80::1%252]/", OK },
    /* refused, with the reason */
    { "https://h/", NULL, SCHEME },
    { "HTTPS://h/", NULL, SCHEME },
    { "h/x", NULL, NOSCHEME },
    { "", NULL, NOSCHEME },
    { "http://h/a\r\nX: y", NULL, CTL },
    { "http://h/#\t", NULL, CTL },                 /* even in the fragment */
    { "http://a b/", NULL, HTTP_URL_SPACE },
    { "http://caf\xc3\xa9/", NULL, HOST },
    { "http://h:0/", NULL, PORT },
    { "http://[fe80::1%e/th]/", NULL, IPV6 },
    { "http://[::1/", NULL, IPV6 },
    { "http://[fe80::1%]/", NULL, IPV6 },         /* not the zone "25" */
};

static void check_normalize(void)
{
    for (size_t i = 0; i < sizeof normalizes / sizeof normalizes[0]; i++) {
        int code = 12345;
        char *got = http_url_normalize(normalizes[i].input, &code);
        if (!check_result(got, code, normalizes[i].want, normalizes[i].code))
            fprintf(stderr, "    in case \"%s\"\n", normalizes[i].input);
    }
}

#define RFC_BASE "http://a/b/c/d;p?q"

static const struct {
    const char *base, *loc;
    const char *want;   /* NULL: refused with `code` */
    int code;
} joins[] = {
    /* RFC 3986 section 5.4.1, normal examples (those with our scheme) */
    { RFC_BASE, "g", "http://a/b/c/g", OK },
    { RFC_BASE, "./g", "http://a/b/c/g", OK },
    { RFC_BASE, "g/", "http://a/b/c/g/", OK },
    { RFC_BASE, "/g", "http://a/g", OK },
    { RFC_BASE, "//g", "http://g/", OK },
    { RFC_BASE, "?y", "http://a/b/c/d;p?y", OK },
    { RFC_BASE, "g?y", "http://a/b/c/g?y", OK },
    { RFC_BASE, "#s", "http://a/b/c/d;p?q", OK },
    { RFC_BASE, "g#s", "http://a/b/c/g", OK },
    { RFC_BASE, "g?y#s", "http://a/b/c/g?y", OK },
    { RFC_BASE, ";x", "http://a/b/c/;x", OK },
    { RFC_BASE, "g;x", "http://a/b/c/g;x", OK },
    { RFC_BASE, "g;x?y#s", "http://a/b/c/g;x?y", OK },
    { RFC_BASE, "", "http://a/b/c/d;p?q", OK },
    { RFC_BASE, ".", "http://a/b/c/", OK },
    { RFC_BASE, "./", "http://a/b/c/", OK },
    { RFC_BASE, "..", "http://a/b/", OK },
    { RFC_BASE, "../", "http://a/b/", OK },
    { RFC_BASE, "../g", "http://a/b/g", OK },
    { RFC_BASE, "../..", "http://a/", OK },
    { RFC_BASE, "../../", "http://a/", OK },
    { RFC_BASE, "../../g", "http://a/g", OK },
    /* 5.4.2, abnormal examples */
    { RFC_BASE, "../../../g", "http://a/g", OK },
    { RFC_BASE, "../../../../g", "http://a/g", OK },
    { RFC_BASE, "/./g", "http://a/g", OK },
    { RFC_BASE, "/../g", "http://a/g", OK },
    { RFC_BASE, "g.", "http://a/b/c/g.", OK },
    { RFC_BASE, ".g", "http://a/b/c/.g", OK },
    { RFC_BASE, "g..", "http://a/b/c/g..", OK },
    { RFC_BASE, "..g", "http://a/b/c/..g", OK },
    { RFC_BASE, "./../g", "http://a/b/g", OK },
    { RFC_BASE, "./g/.", "http://a/b/c/g/", OK },
    { RFC_BASE, "g/./h", "http://a/b/c/g/h", OK },
    { RFC_BASE, "g/../h", "http://a/b/c/h", OK },
    { RFC_BASE, "g;x=1/./y", "http://a/b/c/g;x=1/y", OK },
    { RFC_BASE, "g;x=1/../y", "http://a/b/c/y", OK },
    { RFC_BASE, "g?y/./x", "http://a/b/c/g?y/./x", OK },
    { RFC_BASE, "g#s/../x", "http://a/b/c/g", OK },
    /* bases without a path, with a port, userinfo, a fragment, a '/' in
     * the query */
    { "http://h", "x", "http://h/x", OK },
    { "http://a", "/x", "http://a/x", OK },
    { "http://h", "?q", "http://h/?q", OK },
    { "http://h#f", "?q", "http://h/?q", OK },
    { "http://h", "../x", "http://h/x", OK },
    { "http://U@H:81/a/b?q#f", "c", "http://U@h:81/a/c", OK },
    { "http://h:81/a", "//other/x", "http://other/x", OK },
    { "http://a/b", "//cdn.example/p?x", "http://cdn.example/p?x", OK },
    { "http://a:8080/b/c?q#f", "/new?x", "http://a:8080/new?x", OK },
    { "http://a/b?q#f", "#g", "http://a/b?q", OK },
    { "http://a/b/c?x=/y/z", "d", "http://a/b/d", OK },
    { "http://h/a/b", "/x/../y?z", "http://h/y?z", OK },
    { "http://[fe80::1%25eth0]:8/a/", "b", "http://[fe80::1%25eth0]:8/a/b", OK },
    /* absolute references, normalized */
    { "http://h/a", "HTTP://Other/./x", "http://other/x", OK },
    { "http://h/a", "http://o", "http://o/", OK },
    { "http://a/b/c?q", "http://other:81/x", "http://other:81/x", OK },
    /* Locations curl sends fixed: spaces and raw UTF-8 encoded */
    { "http://h/a/b", "new place/caf\xc3\xa9?q r", "http://h/a/new%20place/caf%C3%A9?q%20r", OK },
    { "http://h/a", "/x y", "http://h/x%20y", OK },
    /* refused */
    { "http://h/a", "https://h/", NULL, SCHEME },
    { "http://h/a", "ftp://h/", NULL, SCHEME },
    { "http://h/a", "mailto:x@y", NULL, NOSCHEME },
    { "http://h/a", "/x\r\nSet-Cookie: y", NULL, CTL },
    { "http://h/a", "//bad host/", NULL, HTTP_URL_SPACE },
    { "http://h/a", "//h:99999/", NULL, PORT },
    { "http://h/a", "//[::1/", NULL, IPV6 },
    { "http://h/a", "#\x01", NULL, CTL },
    { "https://h/a", "b", NULL, SCHEME },          /* base's code */
    { "h/a", "b", NULL, NOSCHEME },
    { "http://h?q", "b", NULL, HTTP_URL_NO_PATH },
};

static void check_join(void)
{
    for (size_t i = 0; i < sizeof joins / sizeof joins[0]; i++) {
        int code = 12345;
        char *got = http_url_join(joins[i].base, joins[i].loc, &code);
        if (!check_result(got, code, joins[i].want, joins[i].code))
            fprintf(stderr, "    in case \"%s\" + \"%s\"\n", joins[i].base, joins[i].loc);
    }
}

/* "http://h/" then `fill` bytes of `c`: a malloc'd string of len bytes. */
static char *long_url(size_t len, char c)
{
    char *s = malloc(len + 1);
    if (!s)
        abort();
    memcpy(s, "http://h/", 9);
    memset(s + 9, c, len - 9);
    s[len] = '\0';
    return s;
}

/* HTTP_URL_MAX bytes in and out pass; one more, in or out, does not. */
static void check_limits(void)
{
    static const struct {
        size_t len;
        char fill;
        int code;
    } cases[] = {
        { HTTP_URL_MAX, 'a', OK },
        { HTTP_URL_MAX + 1, 'a', LONG },
        { HTTP_URL_MAX / 3 + 10, ' ', LONG }, /* grows threefold once encoded */
        { HTTP_URL_MAX / 4, ' ', OK },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = long_url(cases[i].len, cases[i].fill);
        int code = 12345;
        char *n = http_url_normalize(s, &code);
        if (!CHECK_INT(code, cases[i].code) || !CHECK((n != NULL) == (code == OK)))
            fprintf(stderr, "    in case %zu bytes of '%c'\n", cases[i].len, cases[i].fill);
        free(n);
        free(s);
    }
    /* join: a Location too long by itself, and a result too long */
    char *loc = long_url(HTTP_URL_MAX + 1, 'a');
    int code = 12345;
    CHECK(http_url_join("http://h/", loc, &code) == NULL);
    CHECK_INT(code, LONG);
    char *rel = long_url(HTTP_URL_MAX - 1, 'a');
    CHECK(http_url_join("http://longer-host/", rel + 9, &code) == NULL);
    CHECK_INT(code, LONG);
    char *joined = http_url_join("http://h/x/y/", "../../../a/..", &code);
    if (CHECK_INT(code, OK))
        CHECK_STR(joined, "http://h/");
    free(joined);
    free(loc);
    free(rel);
}

static const check_case tests[] = {
    {"http_url_normalize", check_normalize},
    {"http_url_join: RFC 3986's examples and curl's habits", check_join},
    {"HTTP_URL_MAX, in and out", check_limits},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 0);
}
