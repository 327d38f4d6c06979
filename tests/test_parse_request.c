/* test_parse_request.c - http/parse_request.c: request heads and their
 * body framing.
 *
 * Table-driven.  Every request is parsed whole, as every truncated prefix
 * (each in its own exact-size heap copy, so ASan and valgrind catch a read
 * past len), split in two at every point (the first part, then the whole
 * with last_len), and grown one byte at a time with last_len.  A bad head
 * says the shortest prefix already refused: junk must be refused as it
 * arrives, not when a blank line finally comes.  Chunked request bodies
 * are decoded as parse_check.h says.
 */
#include <stdlib.h>

#include "check.h"
#include "parse.h"
#include "parse_check.h"

#define MAX_HEADERS 16

/* One call of http_parse_request and everything it returned. */
struct head {
    int ret;
    http_request_head r;
    http_header h[MAX_HEADERS];
};

static int parse(const char *buf, size_t len, size_t last_len, size_t capacity,
                 struct head *out)
{
    out->r = (http_request_head){ .headers = out->h, .num_headers = capacity };
    out->ret = http_parse_request(buf, len, last_len, &out->r);
    return out->ret;
}

/* Parses buf[0..len) every way a socket could deliver it: every prefix
 * must give -2 below `threshold` and `final` from there on; every split
 * below the threshold (the first part, then all of it with last_len) and
 * a byte-at-a-time growth must give the same answers. */
static void check_splits(const char *name, const char *buf, size_t len,
                         size_t threshold, int final)
{
    struct head h;
    char *grown = NULL;
    int whole_want = len < threshold ? -2 : final;
    for (size_t k = 0; k <= len; k++) {
        int want = k < threshold ? -2 : final;
        char *exact = copy(buf, k);
        int fresh = parse(exact, k, 0, MAX_HEADERS, &h);
        free(exact);
        if (!CHECK_INT(fresh, want)) {
            where(name, "prefix length", k);
            break;
        }
        if (k > threshold)
            continue;
        if (want == -2) {
            char *whole = copy(buf, len);
            int second = parse(whole, len, k, MAX_HEADERS, &h);
            free(whole);
            if (!CHECK_INT(second, whole_want)) {
                where(name, "split at", k);
                break;
            }
        }
        grown = realloc(grown, k ? k : 1);
        if (!grown)
            abort();
        if (k > 0)
            grown[k - 1] = buf[k - 1];
        if (!CHECK_INT(parse(grown, k, k ? k - 1 : 0, MAX_HEADERS, &h), want)) {
            where(name, "fed byte by byte, length", k);
            break;
        }
    }
    free(grown);
}

/* ---- complete requests that must parse ---- */

struct good_case {
    const char *name;
    const char *head;       /* request line to blank line, inclusive */
    const char *rest;       /* what follows: the body, maybe the next request */
    const char *method, *target;
    http_target_form form;
    int minor;
    size_t num_headers;
    const char *find;       /* a header to look up (any case)... */
    const char *value;      /* ...and its value */
    http_body_kind kind;
    uint64_t length;        /* HTTP_BODY_LENGTH */
    bool keep_alive;
    const char *body;       /* HTTP_BODY_CHUNKED: the decoded payload... */
    size_t leftover;        /* ...and the bytes of rest after the body */
};

#define HOST "Host: a\r\n"
#define CHUNKED_POST "POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
#define NEXT "GET /next HTTP/1.1\r\n" HOST "\r\n"

static const struct good_case good[] = {
    { "GET", "GET / HTTP/1.1\r\n" HOST "\r\n", "", "GET", "/", HTTP_TARGET_ORIGIN, 1, 1,
      "host", "a", HTTP_BODY_NONE, .keep_alive = true },
    { "HEAD with a query, pipelined next", "HEAD /a/b?c=d&e HTTP/1.1\r\n" HOST "\r\n", NEXT,
      "HEAD", "/a/b?c=d&e", HTTP_TARGET_ORIGIN, 1, 1, .kind = HTTP_BODY_NONE,
      .keep_alive = true },
    { "POST with Content-Length", "POST /form HTTP/1.1\r\n" HOST "Content-Length: 5\r\n\r\n",
      "hello" NEXT, "POST", "/form", HTTP_TARGET_ORIGIN, 1, 2, "CONTENT-LENGTH", "5",
      HTTP_BODY_LENGTH, 5, true },
    { "Content-Length 0", "PUT /x HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n", "",
      "PUT", "/x", HTTP_TARGET_ORIGIN, 1, 2, .kind = HTTP_BODY_LENGTH, .keep_alive = true },
    { "Content-Length leading zeros", "POST / HTTP/1.1\r\n" HOST "content-length: 007\r\n\r\n",
      "1234567", "POST", "/", HTTP_TARGET_ORIGIN, 1, 2, .kind = HTTP_BODY_LENGTH,
      .length = 7, .keep_alive = true },
    { "Content-Length INT64_MAX", "POST / HTTP/1.1\r\n" HOST
      "Content-Length: 9223372036854775807\r\n\r\n", "", "POST", "/", HTTP_TARGET_ORIGIN, 1, 2,
      .kind = HTTP_BODY_LENGTH, .length = INT64_MAX, .keep_alive = true },
    { "chunked", CHUNKED_POST, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "POST", "/up",
      HTTP_TARGET_ORIGIN, 1, 2, "transfer-encoding", "chunked", HTTP_BODY_CHUNKED,
      .keep_alive = true, .body = "hello world" },
    { "chunked: extensions, trailers, then the next request", CHUNKED_POST,
      "4;a=b\r\nWiki\r\n0\r\nX-Sum: 1\r\n\r\n" NEXT, "POST", "/up", HTTP_TARGET_ORIGIN, 1, 2,
      .kind = HTTP_BODY_CHUNKED, .keep_alive = true, .body = "Wiki",
      .leftover = sizeof NEXT - 1 },
    { "Transfer-Encoding: empty list elements", "POST / HTTP/1.1\r\n" HOST
      "Transfer-Encoding: , CHUNKED,\r\n\r\n", "0\r\n\r\n", "POST", "/", HTTP_TARGET_ORIGIN, 1,
      2, .kind = HTTP_BODY_CHUNKED, .keep_alive = true, .body = "" },
    { "Transfer-Encoding: an empty line, then chunked", "POST / HTTP/1.1\r\n" HOST
      "Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n\r\n", "0\r\n\r\n", "POST", "/",
      HTTP_TARGET_ORIGIN, 1, 3, .kind = HTTP_BODY_CHUNKED, .keep_alive = true, .body = "" },
    { "HTTP/1.0 without Host closes", "GET /old HTTP/1.0\r\n\r\n", "", "GET", "/old",
      HTTP_TARGET_ORIGIN, 0, 0, .kind = HTTP_BODY_NONE },
    { "HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n" HOST "\r\n", "",
      "GET", "/", HTTP_TARGET_ORIGIN, 0, 2, .kind = HTTP_BODY_NONE, .keep_alive = true },
    { "HTTP/1.0 keep-alive and close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
      "", "GET", "/", HTTP_TARGET_ORIGIN, 0, 1, .kind = HTTP_BODY_NONE },
    { "HTTP/1.1 Connection: close", "GET / HTTP/1.1\r\n" HOST "Connection: Upgrade, CLOSE\r\n\r\n",
      "", "GET", "/", HTTP_TARGET_ORIGIN, 1, 2, .kind = HTTP_BODY_NONE },
    { "absolute-form", "GET http://example.com:8080/x?y HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
      "", "GET", "http://example.com:8080/x?y", HTTP_TARGET_ABSOLUTE, 1, 1,
      .kind = HTTP_BODY_NONE, .keep_alive = true },
    { "absolute-form, odd scheme", "GET a+b-c.d:x HTTP/1.1\r\n" HOST "\r\n", "", "GET",
      "a+b-c.d:x", HTTP_TARGET_ABSOLUTE, 1, 1, .kind = HTTP_BODY_NONE, .keep_alive = true },
    { "CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", "",
      "CONNECT", "example.com:443", HTTP_TARGET_AUTHORITY, 1, 1, .kind = HTTP_BODY_NONE,
      .keep_alive = true },
    { "CONNECT to IPv6", "CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", "",
      "CONNECT", "[::1]:8080", HTTP_TARGET_AUTHORITY, 1, 1, .kind = HTTP_BODY_NONE,
      .keep_alive = true },
    { "OPTIONS *", "OPTIONS * HTTP/1.1\r\n" HOST "\r\n", "", "OPTIONS", "*",
      HTTP_TARGET_ASTERISK, 1, 1, .kind = HTTP_BODY_NONE, .keep_alive = true },
    { "any token is a method", "BREW-2!#$%&'*+.^_`|~ /pot HTTP/1.1\r\n" HOST "\r\n", "",
      "BREW-2!#$%&'*+.^_`|~", "/pot", HTTP_TARGET_ORIGIN, 1, 1, .kind = HTTP_BODY_NONE,
      .keep_alive = true },
    { "one empty line first", "\r\nGET / HTTP/1.1\r\n" HOST "\r\n", "", "GET", "/",
      HTTP_TARGET_ORIGIN, 1, 1, .kind = HTTP_BODY_NONE, .keep_alive = true },
    { "values trimmed, tabs kept inside, empty value", "GET / HTTP/1.1\r\n" HOST
      "X-Pad: \t a\tb \t\r\nX-Empty:\r\nX-Tight:v\r\n\r\n", "", "GET", "/", HTTP_TARGET_ORIGIN,
      1, 4, "x-pad", "a\tb", HTTP_BODY_NONE, .keep_alive = true },
    { "obs-text in a value and the target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" HOST
      "X: \xc3\xa9t\xc3\xa9\r\n\r\n", "", "GET", "/caf\xc3\xa9", HTTP_TARGET_ORIGIN, 1, 2, "x",
      "\xc3\xa9t\xc3\xa9", HTTP_BODY_NONE, .keep_alive = true },
    { "colon in a value, every tchar in a name", "GET / HTTP/1.1\r\n" HOST
      "X-!#$%&'*+.^_`|~: a:b: c\r\n\r\n", "", "GET", "/", HTTP_TARGET_ORIGIN, 1, 2,
      "x-!#$%&'*+.^_`|~", "a:b: c", HTTP_BODY_NONE, .keep_alive = true },
    { "lower-case Host", "GET / HTTP/1.1\r\nhOsT: b\r\n\r\n", "", "GET", "/",
      HTTP_TARGET_ORIGIN, 1, 1, "Host", "b", HTTP_BODY_NONE, .keep_alive = true },
};

static void check_good(const struct good_case *c)
{
    size_t head_len = strlen(c->head), rest_len = strlen(c->rest), len = head_len + rest_len;
    char *buf = malloc(len + 1);
    if (!buf)
        abort();
    memcpy(buf, c->head, head_len);
    memcpy(buf + head_len, c->rest, rest_len + 1);

    struct head h;
    bool ok = CHECK_INT(parse(buf, len, 0, MAX_HEADERS, &h), head_len) &&
              CHECK_BYTES(h.r.method, h.r.method_len, c->method, strlen(c->method)) &&
              CHECK_BYTES(h.r.target, h.r.target_len, c->target, strlen(c->target)) &&
              CHECK_INT(h.r.form, c->form) && CHECK_INT(h.r.minor_version, c->minor) &&
              CHECK_INT(h.r.num_headers, c->num_headers);
    if (ok && c->find) {
        int i = http_header_find(h.r.headers, h.r.num_headers, c->find, 0);
        ok = CHECK(i >= 0) &&
             CHECK_BYTES(h.h[i].value, h.h[i].value_len, c->value, strlen(c->value));
    }
    http_framing f;
    ok = ok && CHECK_INT(http_request_framing(&h.r, &f), 0) && CHECK_INT(f.kind, c->kind) &&
         CHECK_INT(f.length, c->length) && CHECK_INT(f.keep_alive, c->keep_alive);
    /* Room for exactly the headers is enough; with one less the head is -3,
     * and the same call with room enough succeeds. */
    ok = ok && CHECK_INT(parse(buf, head_len, 0, c->num_headers, &h), head_len);
    if (ok && c->num_headers > 0)
        ok = CHECK_INT(parse(buf, head_len, head_len - 1, c->num_headers - 1, &h), -3) &&
             CHECK_INT(parse(buf, head_len, head_len - 1, c->num_headers, &h), head_len);
    if (!ok)
        where(c->name, "whole, length", len);

    check_splits(c->name, buf, len, head_len, (int)head_len);
    if (c->kind == HTTP_BODY_CHUNKED)
        check_decoding(c->name, c->rest, rest_len, (long)(rest_len - c->leftover), c->body);
    free(buf);
}

static void check_good_all(void)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        check_good(&good[i]);
}

/* ---- heads that must be refused ---- */

#define V "HTTP/1.1\r\n" HOST "\r\n"

static const struct {
    const char *name, *raw;
    size_t fails_at;  /* the shortest prefix already refused; 0: only the whole */
    int want;         /* -4 for a version we do not speak; 0 means -1 */
    size_t len;       /* raw's length when it holds a NUL; 0: strlen */
} bad_heads[] = {
    { "TLS client hello", "\x16\x03\x01\x02\x00\x01", 1, 0 },
    { "NUL first", "\0GET / " V, 1, 0, sizeof "\0GET / " V - 1 },
    { "SSH banner", "SSH-2.0-OpenSSH_9.6\r\n\r\n", 20, 0 },
    { "space first", " GET / " V, 1, 0 },
    { "two spaces after the method", "GET  / " V, 5, 0 },
    { "tab after the method", "GET\t/ " V, 4, 0 },
    { "two empty lines first", "\r\n\r\nGET / " V, 3, 0 },
    { "empty line of a bare LF first", "\nGET / " V, 1, 0 },
    { "bare LF ends the request line", "GET / HTTP/1.1\n" HOST "\r\n", 15, 0 },
    { "bare LF ends a header line", "GET / HTTP/1.1\r\nHost: a\n\r\n", 24, 0 },
    { "bare LF ends the head", "GET / HTTP/1.1\r\n" HOST "\n", 26, 0 },
    { "LF only, throughout", "GET / HTTP/1.1\nHost: a\n\n", 15, 0 },
    { "bare CR in a value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 25, 0 },
    { "CR CR LF", "GET / HTTP/1.1\r\r\n" HOST "\r\n", 16, 0 },
    { "NUL in the target", "GET /\0 " V, 6, 0, sizeof "GET /\0 " V - 1 },
    { "DEL in a value", "GET / HTTP/1.1\r\n" HOST "X: a\x7f\r\n\r\n", 30, 0 },
    { "escape byte in a value", "GET / HTTP/1.1\r\n" HOST "X: \x1b[0m\r\n\r\n", 29, 0 },
    { "no target", "GET HTTP/1.1\r\n" HOST "\r\n", 0, 0 },
    { "two spaces before the version", "GET /  " V, 0, 0 },
    { "tab in the target", "GET /a\tb " V, 0, 0 },
    { "no version", "GET /\r\n" HOST "\r\n", 0, 0 },
    { "lower-case version", "GET / http/1.1\r\n" HOST "\r\n", 0, 0 },
    { "HTTP/2 without a minor", "GET / HTTP/2\r\n" HOST "\r\n", 0, 0 },
    { "HTTP/1.10", "GET / HTTP/1.10\r\n" HOST "\r\n", 0, 0 },
    { "space after the version", "GET / HTTP/1.1 \r\n" HOST "\r\n", 0, 0 },
    { "header without colon", "GET / HTTP/1.1\r\n" HOST "X-Foo\r\n\r\n", 0, 0 },
    { "space before the colon", "GET / HTTP/1.1\r\n" HOST "X-Foo : bar\r\n\r\n", 0, 0 },
    { "tab before the colon", "GET / HTTP/1.1\r\n" HOST "X-Foo\t: bar\r\n\r\n", 0, 0 },
    { "empty name", "GET / HTTP/1.1\r\n" HOST ": bar\r\n\r\n", 0, 0 },
    { "bad name byte", "GET / HTTP/1.1\r\n" HOST "X(y): 1\r\n\r\n", 0, 0 },
    { "obs-fold", "GET / HTTP/1.1\r\n" HOST "X: a\r\n b\r\n\r\n", 0, 0 },
    { "obs-fold with a tab", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n" HOST "\r\n", 0, 0 },
    { "whitespace before the first header", "GET / HTTP/1.1\r\n " HOST "\r\n", 0, 0 },
    { "HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: 1\r\n\r\n", 0, 0 },
    { "two Host lines", "GET / HTTP/1.1\r\n" HOST "Host: b\r\n\r\n", 0, 0 },
    { "two Host lines in 1.0", "GET / HTTP/1.0\r\n" HOST HOST "\r\n", 0, 0 },
    { "CONNECT with origin-form", "CONNECT / " V, 0, 0 },
    { "CONNECT without a port", "CONNECT example.com " V, 0, 0 },
    { "CONNECT with a 6-digit port", "CONNECT a:123456 " V, 0, 0 },
    { "CONNECT with a path", "CONNECT a/b:80 " V, 0, 0 },
    { "CONNECT with userinfo", "CONNECT u@a:80 " V, 0, 0 },
    { "CONNECT with an empty host", "CONNECT :80 " V, 0, 0 },
    { "asterisk with GET", "GET * " V, 0, 0 },
    { "authority-form with GET", "GET 1a:80 " V, 0, 0 },
    { "no scheme, no slash", "GET example.com/x " V, 0, 0 },
    { "HTTP/2.0", "GET / HTTP/2.0\r\n" HOST "\r\n", 0, -4 },
    { "HTTP/1.2", "GET / HTTP/1.2\r\n" HOST "\r\n", 0, -4 },
    { "HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 0, -4 },
    { "HTTP/3.0, headers not looked at", "GET / HTTP/3.0\r\nX : y\r\n\r\n", 0, -4 },
    { "the HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 18, -4 },
};

static void check_bad_heads(void)
{
    for (size_t i = 0; i < sizeof bad_heads / sizeof bad_heads[0]; i++) {
        size_t len = bad_heads[i].len ? bad_heads[i].len : strlen(bad_heads[i].raw);
        size_t fails_at = bad_heads[i].fails_at ? bad_heads[i].fails_at : len;
        int want = bad_heads[i].want ? bad_heads[i].want : -1;
        check_splits(bad_heads[i].name, bad_heads[i].raw, len, fails_at, want);
    }
}

/* -4 still says what the request line held. */
static void check_version_fields(void)
{
    const char buf[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    struct head h;
    if (!CHECK_INT(parse(buf, sizeof buf - 1, 0, MAX_HEADERS, &h), -4))
        return;
    CHECK_BYTES(h.r.method, h.r.method_len, "PRI", 3);
    CHECK_BYTES(h.r.target, h.r.target_len, "*", 1);
    CHECK_INT(h.r.minor_version, 0);
}

/* ---- heads that parse, but whose body framing is refused ---- */

static const struct { const char *name, *headers; int minor, want; } bad_framing[] = {
    { "CL and TE", "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 1, -1 },
    { "TE and CL", "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 1, -1 },
    { "CL and TE gzip", "Content-Length: 3\r\nTransfer-Encoding: gzip, chunked\r\n", 1, -1 },
    { "CL twice, equal", "Content-Length: 5\r\nContent-Length: 5\r\n", 1, -1 },
    { "CL twice, different", "Content-Length: 5\r\nContent-Length: 6\r\n", 1, -1 },
    { "CL list, equal", "Content-Length: 5, 5\r\n", 1, -1 },
    { "CL negative", "Content-Length: -1\r\n", 1, -1 },
    { "CL plus sign", "Content-Length: +5\r\n", 1, -1 },
    { "CL trailing letter", "Content-Length: 12a\r\n", 1, -1 },
    { "CL hex", "Content-Length: 0x10\r\n", 1, -1 },
    { "CL inner space", "Content-Length: 1 2\r\n", 1, -1 },
    { "CL empty", "Content-Length: \r\n", 1, -1 },
    { "CL INT64_MAX + 1", "Content-Length: 9223372036854775808\r\n", 1, -1 },
    { "CL overflow", "Content-Length: 99999999999999999999999\r\n", 1, -1 },
    { "TE gzip", "Transfer-Encoding: gzip\r\n", 1, -1 },
    { "TE chunked, gzip", "Transfer-Encoding: chunked, gzip\r\n", 1, -1 },
    { "TE identity", "Transfer-Encoding: identity\r\n", 1, -1 },
    { "TE empty", "Transfer-Encoding: \r\n", 1, -1 },
    { "TE chunked twice", "Transfer-Encoding: chunked, chunked\r\n", 1, -1 },
    { "TE chunked on two lines", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 1, -1 },
    { "TE chunked, then gzip on a second line", "Transfer-Encoding: chunked\r\n"
      "Transfer-Encoding: gzip\r\n", 1, -1 },
    { "TE in HTTP/1.0", "Transfer-Encoding: chunked\r\n", 0, -1 },
    { "TE gzip, chunked: not implemented", "Transfer-Encoding: gzip, chunked\r\n", 1, -2 },
    { "TE identity, chunked: not implemented", "Transfer-Encoding: identity, chunked\r\n", 1, -2 },
    { "TE deflate, then chunked on a second line", "Transfer-Encoding: deflate\r\n"
      "Transfer-Encoding: chunked\r\n", 1, -2 },
};

static void check_bad_framing(void)
{
    for (size_t i = 0; i < sizeof bad_framing / sizeof bad_framing[0]; i++) {
        char buf[256];
        struct head h;
        http_framing f;
        int n = snprintf(buf, sizeof buf, "POST / HTTP/1.%d\r\n" HOST "%s\r\n",
                         bad_framing[i].minor, bad_framing[i].headers);
        bool ok = CHECK_INT(parse(buf, (size_t)n, 0, MAX_HEADERS, &h), n) &&
                  CHECK_INT(http_request_framing(&h.r, &f), bad_framing[i].want) &&
                  CHECK_INT(f.keep_alive, false) && CHECK_INT(f.kind, HTTP_BODY_NONE);
        if (!ok)
            where(bad_framing[i].name, "length", (size_t)n);
    }
}

/* ---- single behaviours ---- */

/* A head with 1000 header fields: -3 until the array is big enough. */
static void check_many_headers(void)
{
    enum { N = 1000 };
    char *buf = malloc(N * 16 + 64);
    http_header *hs = malloc((N + 1) * sizeof *hs);
    if (!buf || !hs)
        abort();
    size_t len = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 1; i < N; i++)
        len += (size_t)sprintf(buf + len, "H%d: v\r\n", i);
    len += (size_t)sprintf(buf + len, "\r\n");
    http_request_head r;
    int ret = -3;
    size_t cap = 1, calls = 0;
    for (; ret == -3 && calls < 20; cap *= 2, calls++) {   /* as a caller grows */
        r = (http_request_head){ .headers = hs, .num_headers = cap < N + 1 ? cap : N + 1 };
        ret = http_parse_request(buf, len, 0, &r);
    }
    if (CHECK_INT(ret, len) && CHECK_INT(r.num_headers, N) && CHECK_INT(calls, 11))
        CHECK_BYTES(hs[N - 1].name, hs[N - 1].name_len, "H999", 4);
    free(buf);
    free(hs);
}

/* A 1 MiB head fed one byte at a time.  With last_len this is O(n); a
 * parser that rescanned from the start would take about 5e11 steps. */
static void check_big_head(void)
{
    size_t value_len = 1 << 20, len = 0;
    char *buf = malloc(value_len + 64);
    if (!buf)
        abort();
    len += (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    memset(buf + len, 'v', value_len);
    len += value_len;
    len += (size_t)sprintf(buf + len, "\r\n\r\n");
    struct head h;
    int r = -2;
    size_t k = 0;
    while (r == -2 && k < len) {
        k++;
        r = parse(buf, k, k - 1, MAX_HEADERS, &h);
    }
    if (CHECK_INT(r, len) && CHECK_INT(k, len))
        CHECK_INT(h.h[1].value_len, value_len);
    free(buf);
}

/* A long method is checked once the head is whole, and is fine. */
static void check_long_method(void)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%0200d / " V, 7);
    struct head h;
    if (CHECK_INT(parse(buf, (size_t)n, 0, MAX_HEADERS, &h), n))
        CHECK_INT(h.r.method_len, 200);
    n = snprintf(buf, sizeof buf, "%0200d\x01 / " V, 7);  /* a control byte in it */
    check_splits("long method with a control byte", buf, (size_t)n, 201, -1);
    n = snprintf(buf, sizeof buf, "%0200d( / " V, 7);     /* a non-token byte */
    check_splits("long method with a non-token byte", buf, (size_t)n, (size_t)n, -1);
}

static const check_case tests[] = {
    {"complete requests that must parse", check_good_all},
    {"heads that must be refused, as early as can be", check_bad_heads},
    {"a version we do not speak still names the request", check_version_fields},
    {"heads that parse, but whose body framing is refused", check_bad_framing},
    {"1000 header fields, the array grown on -3", check_many_headers},
    {"a 1 MiB head fed byte by byte", check_big_head},
    {"long methods", check_long_method},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 0);
}
