/* test_parse.c - http/parse: response heads and body framing.
 *
 * Table-driven.  Every good response is parsed whole, then as every
 * truncated prefix (each in its own exact-size heap copy, so ASan and
 * valgrind catch a read past len), then grown one byte at a time with
 * last_len.  The chunked bodies of good responses are decoded as
 * parse_check.h says; chunked bodies that must be refused, and the
 * decoder's limits, are in test_parse_chunked.c.
 */
#include <stdlib.h>

#include "check.h"
#include "parse.h"
#include "parse_check.h"

#define MAX_HEADERS 16

/* ---- helpers (the shared ones are in parse_check.h) ---- */

/* One call of http_parse_response and everything it returned. */
struct head {
    int ret, minor, status;
    const char *reason;
    size_t reason_len;
    http_header h[MAX_HEADERS];
    size_t n;
};

static int parse(const char *buf, size_t len, size_t last_len, size_t capacity,
                 struct head *out)
{
    out->n = capacity;
    out->ret = http_parse_response(buf, len, last_len, &out->minor, &out->status,
                                   &out->reason, &out->reason_len, out->h, &out->n);
    return out->ret;
}

/* Parses every prefix buf[0..k) of buf[0..len): a fresh parse must return
 * -2 while k < threshold and `final` from then on.  Up to the threshold
 * (where a real caller stops) the buffer is also grown one byte at a time
 * with last_len, which must give the same answers. */
static void check_prefixes(const char *name, const char *buf, size_t len,
                           size_t threshold, int final)
{
    struct head h;
    char *grown = NULL;
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

/* ---- complete responses that must parse ---- */

struct good_case {
    const char *name;
    const char *head;       /* status line to blank line, inclusive */
    const char *rest;       /* what follows: the body, maybe the next response */
    bool head_request;      /* the request was HEAD */
    int minor, status;
    const char *reason;
    size_t num_headers;
    const char *find;       /* a header to look up (any case)... */
    const char *value;      /* ...its value, as it points into the buffer... */
    const char *unfolded;   /* ...and as http_header_unfold copies it (NULL:
                               the same as value) */
    int framing;            /* what http_framing_of returns: 0, or -2 for a
                               coding we cannot decode */
    http_body_kind kind;
    uint64_t length;        /* HTTP_BODY_LENGTH */
    bool keep_alive;
    const char *body;       /* HTTP_BODY_CHUNKED: the decoded payload... */
    size_t leftover;        /* ...and the bytes of rest after the body */
};

#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
#define HELLO_CHUNKS "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

static const struct good_case good[] = {
    { "length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "hello",
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 1, .find = "content-length",
      .value = "5", .kind = HTTP_BODY_LENGTH, .length = 5, .keep_alive = true },
    { "empty reason", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "",
      .minor = 1, .status = 200, .reason = "", .num_headers = 1,
      .kind = HTTP_BODY_LENGTH, .length = 0, .keep_alive = true },
    { "no space, no reason", "HTTP/1.1 204\r\n\r\n", "",
      .minor = 1, .status = 204, .reason = "", .kind = HTTP_BODY_NONE, .keep_alive = true },
    { "reason with spaces, close", "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n"
      "Connection: close\r\n\r\n", "nop", .minor = 1, .status = 404, .reason = "Not Found",
      .num_headers = 2, .find = "CONNECTION", .value = "close",
      .kind = HTTP_BODY_LENGTH, .length = 3 },
    { "Connection list with close", "HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\n"
      "Content-Length: 1\r\n\r\n", "x", .minor = 1, .status = 200, .reason = "OK",
      .num_headers = 2, .kind = HTTP_BODY_LENGTH, .length = 1 },
    { "mixed-case names", "HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: 2\r\nX-UPPER: A\r\n\r\n", "hi",
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 2, .find = "x-upper",
      .value = "A", .kind = HTTP_BODY_LENGTH, .length = 2, .keep_alive = true },
    { "values trimmed, empty value", "HTTP/1.1 200 OK\r\nX-Pad: \t a\tb \t\r\nX-Empty:\r\n\r\n",
      "all of it", .minor = 1, .status = 200, .reason = "OK", .num_headers = 2,
      .find = "x-pad", .value = "a\tb", .kind = HTTP_BODY_CLOSE },
    { "colon in value, every tchar in name", "HTTP/1.1 301 Moved\r\n"
      "Location: http://x:81/y\r\nX-!#$%&'*+.^_`|~: 1\r\n\r\n", "", .minor = 1,
      .status = 301, .reason = "Moved", .num_headers = 2, .find = "location",
      .value = "http://x:81/y", .kind = HTTP_BODY_CLOSE },
    { "obs-text in reason and value", "HTTP/1.1 200 \xc3\x89t\xc3\xa9\r\nX: caf\xc3\xa9\r\n\r\n",
      "", .minor = 1, .status = 200, .reason = "\xc3\x89t\xc3\xa9", .num_headers = 1,
      .find = "x", .value = "caf\xc3\xa9", .kind = HTTP_BODY_CLOSE },
    { "bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\n", "hi", .minor = 1, .status = 200,
      .reason = "OK", .num_headers = 1, .kind = HTTP_BODY_LENGTH, .length = 2, .keep_alive = true },
    { "LF lines, CRLF blank line", "HTTP/1.1 200 OK\nA: 1\n\r\n", "", .minor = 1,
      .status = 200, .reason = "OK", .num_headers = 1, .find = "a", .value = "1",
      .kind = HTTP_BODY_CLOSE },
    { "1.0 closes by default", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", "hi",
      .minor = 0, .status = 200, .reason = "OK", .num_headers = 1,
      .kind = HTTP_BODY_LENGTH, .length = 2 },
    { "1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\n",
      "hi", .minor = 0, .status = 200, .reason = "OK", .num_headers = 2,
      .kind = HTTP_BODY_LENGTH, .length = 2, .keep_alive = true },
    { "1.0 keep-alive but no length", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n",
      "until close", .minor = 0, .status = 200, .reason = "OK", .num_headers = 1,
      .kind = HTTP_BODY_CLOSE },
    { "1.0 keep-alive and close", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
      "Connection: close\r\nContent-Length: 0\r\n\r\n", "", .minor = 0, .status = 200,
      .reason = "OK", .num_headers = 3, .kind = HTTP_BODY_LENGTH },
    { "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", "", .head_request = true,
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 1,
      .kind = HTTP_BODY_NONE, .keep_alive = true },
    { "304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", "", .minor = 1,
      .status = 304, .reason = "Not Modified", .num_headers = 1,
      .kind = HTTP_BODY_NONE, .keep_alive = true },
    { "1xx", "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n", "", .minor = 1,
      .status = 103, .reason = "Early Hints", .num_headers = 1, .find = "link",
      .value = "</s.css>", .kind = HTTP_BODY_NONE, .keep_alive = true },
    { "Content-Length repeated, equal", "HTTP/1.1 599 X\r\nContent-Length: 5, 5\r\n"
      "Content-Length: 5\r\n\r\n", "hello", .minor = 1, .status = 599, .reason = "X",
      .num_headers = 2, .kind = HTTP_BODY_LENGTH, .length = 5, .keep_alive = true },
    { "Content-Length INT64_MAX", "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n",
      "", .minor = 1, .status = 200, .reason = "OK", .num_headers = 1,
      .kind = HTTP_BODY_LENGTH, .length = INT64_MAX, .keep_alive = true },
    { "Content-Length leading zeros", "HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n", "1234567",
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 1,
      .kind = HTTP_BODY_LENGTH, .length = 7, .keep_alive = true },
    { "chunked", CHUNKED_HEAD, HELLO_CHUNKS, .minor = 1, .status = 200, .reason = "OK",
      .num_headers = 1, .kind = HTTP_BODY_CHUNKED, .keep_alive = true, .body = "hello world" },
    { "chunk sizes in any case, leading zeros, next response after", CHUNKED_HEAD,
      "000A\r\n0123456789\r\n00b\r\nabcdefghijk\r\n1F\r\n0123456789012345678901234567890\r\n"
      "f\r\nfffffffffffffff\r\n00000000000000000000001\r\n!\r\n0000\r\n\r\nHTTP/1.1 200 OK\r\n",
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 1, .kind = HTTP_BODY_CHUNKED,
      .keep_alive = true, .leftover = 17,
      .body = "0123456789abcdefghijk0123456789012345678901234567890fffffffffffffff!" },
    { "chunk extensions", CHUNKED_HEAD,
      "4;name=value\r\nWiki\r\n5;q=\"a;b\\\"c\"\r\npedia\r\n3 ;x\r\n in\r\n0;last\r\n\r\n",
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 1, .kind = HTTP_BODY_CHUNKED,
      .keep_alive = true, .body = "Wikipedia in" },
    { "trailers, then the next bytes", CHUNKED_HEAD,
      "3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\nNEXT", .minor = 1, .status = 200,
      .reason = "OK", .num_headers = 1, .kind = HTTP_BODY_CHUNKED, .keep_alive = true,
      .body = "abc", .leftover = 4 },
    { "chunked with bare LF", CHUNKED_HEAD, "3;e\nabc\n0\nT: 1\n\nX", .minor = 1, .status = 200,
      .reason = "OK", .num_headers = 1, .kind = HTTP_BODY_CHUNKED, .keep_alive = true,
      .body = "abc", .leftover = 1 },
    { "TE gzip, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      HELLO_CHUNKS, .minor = 1, .status = 200, .reason = "OK", .num_headers = 1,
      .framing = -2, .kind = HTTP_BODY_CLOSE },
    { "TE in two headers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
      "transfer-encoding: CHUNKED\r\n\r\n", HELLO_CHUNKS, .minor = 1, .status = 200,
      .reason = "OK", .num_headers = 2, .framing = -2, .kind = HTTP_BODY_CLOSE },
    { "TE chunked in two headers, identities", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n"
      "transfer-encoding: CHUNKED, Identity\r\n\r\n", HELLO_CHUNKS, .minor = 1, .status = 200,
      .reason = "OK", .num_headers = 2, .kind = HTTP_BODY_CHUNKED, .keep_alive = true,
      .body = "hello world" },
    { "TE identity alone", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n"
      "Content-Length: 2\r\n\r\n", "until close", .minor = 1, .status = 200, .reason = "OK",
      .num_headers = 2, .kind = HTTP_BODY_CLOSE },
    { "TE gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "\x1f\x8b",
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 1, .framing = -2,
      .kind = HTTP_BODY_CLOSE },
    { "TE deflate on a HEAD: no body to decode", "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
      "deflate\r\n\r\n", "", .head_request = true, .minor = 1, .status = 200, .reason = "OK",
      .num_headers = 1, .kind = HTTP_BODY_NONE, .keep_alive = true },
    { "TE chunked folded onto a second line", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n"
      " chunked\r\n\r\n", "x", .minor = 1, .status = 200, .reason = "OK", .num_headers = 1,
      .find = "transfer-encoding", .value = "gzip,\r\n chunked", .unfolded = "gzip, chunked",
      .framing = -2, .kind = HTTP_BODY_CLOSE },
    { "TE identity, chunked folded", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity,\n"
      "\tchunked\r\n\r\n", HELLO_CHUNKS, .minor = 1, .status = 200, .reason = "OK",
      .num_headers = 1, .kind = HTTP_BODY_CHUNKED, .keep_alive = true, .body = "hello world" },
    { "TE with empty list elements", "HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked,\r\n\r\n",
      HELLO_CHUNKS, .minor = 1, .status = 200, .reason = "OK", .num_headers = 1,
      .kind = HTTP_BODY_CHUNKED, .keep_alive = true, .body = "hello world" },
    { "TE chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      "raw", .minor = 1, .status = 200, .reason = "OK", .num_headers = 1, .framing = -2,
      .kind = HTTP_BODY_CLOSE },
    /* any three-digit status, as curl takes it */
    { "status 600", "HTTP/1.1 600 Odd\r\nContent-Length: 1\r\n\r\n", "x", .minor = 1,
      .status = 600, .reason = "Odd", .num_headers = 1, .kind = HTTP_BODY_LENGTH, .length = 1,
      .keep_alive = true },
    { "status 999, no reason", "HTTP/1.0 999\r\n\r\n", "rest", .minor = 0, .status = 999,
      .reason = "", .kind = HTTP_BODY_CLOSE },
    { "status 199 is interim", "HTTP/1.1 199 X\r\nContent-Length: 5\r\n\r\n", "", .minor = 1,
      .status = 199, .reason = "X", .num_headers = 1, .kind = HTTP_BODY_NONE, .keep_alive = true },
    /* obs-fold (RFC 9112 5.2): one value, the folds inside it */
    { "obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", "",
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 2, .find = "x",
      .value = "a\r\n b", .unfolded = "a b", .kind = HTTP_BODY_LENGTH, .keep_alive = true },
    { "obs-fold, bare LF, tabs, several lines", "HTTP/1.1 200 OK\nX: a \t\n\t\tb\n \n  c d \n\n",
      "", .minor = 1, .status = 200, .reason = "OK", .num_headers = 1, .find = "x",
      .value = "a \t\n\t\tb\n \n  c d", .unfolded = "a b c d", .kind = HTTP_BODY_CLOSE },
    { "obs-fold after an empty value", "HTTP/1.1 200 OK\r\nX:\r\n  b\r\nY: 1\r\n\r\n", "",
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 2, .find = "x", .value = "b",
      .kind = HTTP_BODY_CLOSE },
    { "obs-fold of blanks only", "HTTP/1.1 200 OK\r\nX: a\r\n \t\r\nY:\r\n \r\n\r\n", "",
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 2, .find = "x", .value = "a",
      .kind = HTTP_BODY_CLOSE },
    { "Content-Length folded", "HTTP/1.1 200 OK\r\nContent-Length: 3,\r\n 3\r\n\r\n", "abc",
      .minor = 1, .status = 200, .reason = "OK", .num_headers = 1, .find = "content-length",
      .value = "3,\r\n 3", .unfolded = "3, 3", .kind = HTTP_BODY_LENGTH, .length = 3,
      .keep_alive = true },
    { "TE and CL", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      HELLO_CHUNKS, .minor = 1, .status = 200, .reason = "OK", .num_headers = 2,
      .kind = HTTP_BODY_CHUNKED, .body = "hello world" },
};

static void check_good(const struct good_case *c)
{
    size_t head_len = strlen(c->head), rest_len = strlen(c->rest);
    char *buf = malloc(head_len + rest_len + 1);
    if (!buf)
        abort();
    memcpy(buf, c->head, head_len);
    memcpy(buf + head_len, c->rest, rest_len + 1);

    struct head h;
    bool ok = CHECK_INT(parse(buf, head_len + rest_len, 0, MAX_HEADERS, &h), head_len) &&
              CHECK_INT(h.minor, c->minor) && CHECK_INT(h.status, c->status) &&
              CHECK_BYTES(h.reason, h.reason_len, c->reason, strlen(c->reason)) &&
              CHECK_INT(h.n, c->num_headers);
    if (ok && c->find) {
        int i = http_header_find(h.h, h.n, c->find, 0);
        ok = CHECK(i >= 0) &&
             CHECK_BYTES(h.h[i].value, h.h[i].value_len, c->value, strlen(c->value));
    }
    if (ok && c->find) {
        int i = http_header_find(h.h, h.n, c->find, 0);
        const char *want = c->unfolded ? c->unfolded : c->value;
        char *out = malloc(h.h[i].value_len + 1);
        if (!out)
            abort();
        size_t n = http_header_unfold(out, h.h[i].value, h.h[i].value_len);
        ok = CHECK_BYTES(out, n, want, strlen(want));
        free(out);
    }
    http_framing f;
    ok = ok && CHECK_INT(http_framing_of(h.status, c->head_request, h.minor, h.h, h.n, &f),
                         c->framing) &&
         CHECK_INT(f.kind, c->kind) && CHECK_INT(f.keep_alive, c->keep_alive) &&
         CHECK_INT(f.length, c->length);
    /* Room for exactly the headers is enough; with one less the head is
     * -3, and a second call with the same arguments and room succeeds
     * (last_len as a caller that had the head but the last byte has it). */
    ok = ok && CHECK_INT(parse(buf, head_len, 0, c->num_headers, &h), head_len);
    if (ok && c->num_headers > 0)
        ok = CHECK_INT(parse(buf, head_len, head_len - 1, c->num_headers - 1, &h), -3) &&
             CHECK_INT(parse(buf, head_len, head_len - 1, c->num_headers, &h), head_len) &&
             CHECK_INT(h.n, c->num_headers);
    if (!ok)
        where(c->name, "whole, length", head_len + rest_len);

    check_prefixes(c->name, buf, head_len + rest_len, head_len, (int)head_len);
    if (c->kind == HTTP_BODY_CHUNKED)
        check_decoding(c->name, c->rest, rest_len, (long)(rest_len - c->leftover), c->body);
    free(buf);
}

/* ---- heads that must be refused ---- */

static const struct { const char *name, *raw; size_t fails_at; } bad_heads[] = {
    /* fails_at: the shortest prefix already refused; 0 = only the whole */
    { "SSH banner", "SSH-2.0-OpenSSH_9.6\r\n\r\n", 1 },
    { "HTML", "<html>\n\n", 1 },
    { "blank line first", "\r\n\r\n", 1 },
    { "lowercase http", "http/1.1 200 OK\r\n\r\n", 1 },
    { "HTTP/2", "HTTP/2 200\r\n\r\n", 6 },
    { "HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", 8 },
    { "two spaces", "HTTP/1.1  200 OK\r\n\r\n", 10 },
    { "status 99", "HTTP/1.1 99 OK\r\n\r\n", 12 },
    { "status 20", "HTTP/1.1 20 OK\r\n\r\n", 12 },
    { "status 1000", "HTTP/1.1 1000 OK\r\n\r\n", 13 },
    { "status 2OO", "HTTP/1.1 2OO OK\r\n\r\n", 11 },
    { "status 10000", "HTTP/1.1 10000 X\r\n\r\n", 13 },
    { "status 1 digit", "HTTP/1.1 2 OK\r\n\r\n", 11 },
    { "status 099", "HTTP/1.1 099 X\r\n\r\n", 10 },
    { "tab after status", "HTTP/1.1 200\tOK\r\n\r\n", 13 },
    { "control char in reason", "HTTP/1.1 200 O\x02K\r\n\r\n", 0 },
    { "CR CR LF", "HTTP/1.1 200 OK\r\r\n\r\n", 0 },
    { "header without colon", "HTTP/1.1 200 OK\r\nX-Foo\r\n\r\n", 0 },
    { "space before colon", "HTTP/1.1 200 OK\r\nX-Foo : bar\r\n\r\n", 0 },
    { "empty name", "HTTP/1.1 200 OK\r\n: bar\r\n\r\n", 0 },
    { "bad name char", "HTTP/1.1 200 OK\r\nX(y): 1\r\n\r\n", 0 },
    { "obs-fold on the first header line", "HTTP/1.1 200 OK\r\n b\r\nX: a\r\n\r\n", 0 },
    { "obs-fold with tab on the first line", "HTTP/1.1 200 OK\n\tX: a\n\n", 0 },
    { "obs-fold with a bare CR", "HTTP/1.1 200 OK\r\nX: a\r\n b\rc\r\n\r\n", 0 },
    { "obs-fold with a control char", "HTTP/1.1 200 OK\r\nX: a\r\n b\x01\r\n\r\n", 0 },
    { "control char in value", "HTTP/1.1 200 OK\r\nX: a\x01" "b\r\n\r\n", 0 },
    { "DEL in value", "HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n", 0 },
    { "bare CR in value", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", 0 },
    { "line starting with CR", "HTTP/1.1 200 OK\r\n\rX: 1\r\n\r\n", 0 },
};

static void check_bad_heads(void)
{
    for (size_t i = 0; i < sizeof bad_heads / sizeof bad_heads[0]; i++) {
        size_t len = strlen(bad_heads[i].raw);
        size_t fails_at = bad_heads[i].fails_at ? bad_heads[i].fails_at : len;
        check_prefixes(bad_heads[i].name, bad_heads[i].raw, len, fails_at, -1);
    }
}

/* ---- heads that parse, but whose body framing is malformed ---- */

static const struct { const char *name, *headers; } bad_framing[] = {
    { "negative", "Content-Length: -1\r\n" },
    { "plus sign", "Content-Length: +5\r\n" },
    { "trailing letter", "Content-Length: 12a\r\n" },
    { "inner space", "Content-Length: 1 2\r\n" },
    { "empty", "Content-Length: \r\n" },
    { "empty list element", "Content-Length: 5,,5\r\n" },
    { "conflicting headers", "Content-Length: 5\r\nContent-Length: 6\r\n" },
    { "conflicting list", "Content-Length: 1, 2\r\n" },
    { "overflow", "Content-Length: 99999999999999999999999\r\n" },
    { "UINT64_MAX + 1", "Content-Length: 18446744073709551616\r\n" },
    { "INT64_MAX + 1 (content_length is an int64_t)", "Content-Length: 9223372036854775808\r\n" },
    { "UINT64_MAX", "Content-Length: 18446744073709551615\r\n" },
    { "folded into two numbers", "Content-Length: 1\r\n 2\r\n" },
    { "chunked twice", "Transfer-Encoding: chunked, chunked\r\n" },
    { "chunked twice, in two headers", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n" },
    { "chunked twice, and gzip", "Transfer-Encoding: chunked, gzip, chunked\r\n" },
};

static void check_bad_framing(void)
{
    for (size_t i = 0; i < sizeof bad_framing / sizeof bad_framing[0]; i++) {
        char buf[256];
        struct head h;
        http_framing f;
        int n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\n%s\r\n", bad_framing[i].headers);
        if (!CHECK_INT(parse(buf, (size_t)n, 0, MAX_HEADERS, &h), n) ||
            !CHECK_INT(http_framing_of(h.status, false, h.minor, h.h, h.n, &f), -1))
            where(bad_framing[i].name, "length", (size_t)n);
    }
}

/* ---- single behaviours ---- */

/* A 100 Continue head, then the real response, in one buffer. */
static void check_two_heads(void)
{
    const char buf[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    struct head h;
    http_framing f;
    int first = parse(buf, sizeof buf - 1, 0, MAX_HEADERS, &h);
    if (!CHECK_INT(first, 25) || !CHECK_INT(h.status, 100))
        return;
    CHECK_INT(http_framing_of(h.status, false, h.minor, h.h, h.n, &f), 0);
    CHECK_INT(f.kind, HTTP_BODY_NONE);
    CHECK_INT(parse(buf + first, sizeof buf - 1 - (size_t)first, 0, MAX_HEADERS, &h), 38);
    CHECK_INT(h.status, 200);
    CHECK_BYTES(buf + first + h.ret, 2, "hi", 2);
}

/* Repeated names stay in order; lookup ignores case and needs the whole name. */
static void check_header_find(void)
{
    const char buf[] = "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX: 0\r\nset-cookie: b=2\r\n"
                       "SET-COOKIE: c=3\r\n\r\n";
    const char *want[] = { "a=1", "b=2", "c=3" };
    struct head h;
    if (!CHECK_INT(parse(buf, sizeof buf - 1, 0, MAX_HEADERS, &h), sizeof buf - 1))
        return;
    int i = -1;
    for (size_t k = 0; k < 3; k++) {
        i = http_header_find(h.h, h.n, "Set-Cookie", (size_t)i + 1);
        if (!CHECK(i >= 0))
            return;
        CHECK_BYTES(h.h[i].value, h.h[i].value_len, want[k], strlen(want[k]));
    }
    CHECK_INT(http_header_find(h.h, h.n, "set-cookie", (size_t)i + 1), -1);
    CHECK_INT(http_header_find(h.h, h.n, "Set", 0), -1);
    CHECK_INT(http_header_find(h.h, h.n, "x", 0), 1);
    CHECK_INT(http_header_find(h.h, h.n, "x", 99), -1);
}

/* http_header_unfold on its own, in place and into another buffer. */
static void check_unfold(void)
{
    static const struct { const char *in, *out; } cases[] = {
        { "", "" },
        { "abc", "abc" },
        { "a\r\n b", "a b" },
        { "a\n\tb", "a b" },
        { "a \t\r\n \t b", "a b" },          /* the blanks around the break too */
        { "a\r\n \r\n\tb", "a b" },          /* folds in a row: one space */
        { "a  b\t\tc", "a  b\t\tc" },        /* blanks without a break stay */
        { "a\rb", "a\rb" },                   /* not a fold (never in a parsed value) */
        { "a\r\n b\r\n c", "a b c" },
        { "\r\n x", " x" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].in);
        char *in_place = copy(cases[i].in, len), *other = malloc(len + 1);
        if (!other)
            abort();
        size_t a = http_header_unfold(other, cases[i].in, len);
        size_t b = http_header_unfold(in_place, in_place, len);
        if (!CHECK_BYTES(other, a, cases[i].out, strlen(cases[i].out)) ||
            !CHECK_BYTES(in_place, b, cases[i].out, strlen(cases[i].out)))
            where(cases[i].in, "length", len);
        free(in_place);
        free(other);
    }
}

/* A head with 1000 header fields: -3 until the array is big enough. */
static void check_many_headers(void)
{
    enum { N = 1000 };
    char *buf = malloc(N * 16 + 64);
    http_header *h = malloc((N + 1) * sizeof *h);
    if (!buf || !h)
        abort();
    size_t len = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(buf + len, "H%d: v\r\n", i);
    len += (size_t)sprintf(buf + len, "\r\n");
    int minor, status, r = -3;
    const char *reason;
    size_t reason_len, cap = 1, n = 0, calls = 0;
    for (; r == -3 && calls < 20; cap *= 2, calls++) {   /* as a caller grows */
        n = cap < N + 1 ? cap : N + 1;
        r = http_parse_response(buf, len, 0, &minor, &status, &reason, &reason_len, h, &n);
    }
    if (CHECK_INT(r, len) && CHECK_INT(n, N) && CHECK_INT(calls, 11))
        CHECK_BYTES(h[N - 1].name, h[N - 1].name_len, "H999", 4);
    free(buf);
    free(h);
}

/* A 1 MiB head fed one byte at a time.  With last_len this is O(n); a
 * parser that rescans from the start would take about 5e11 steps here. */
static void check_big_head(void)
{
    size_t value_len = 1 << 20;
    size_t len = 0;
    char *buf = malloc(value_len + 64);
    if (!buf)
        abort();
    len += (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\nX-Big: ");
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
        CHECK_INT(h.h[0].value_len, value_len);
    free(buf);
}

static void check_good_all(void)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        check_good(&good[i]);
}

static const check_case tests[] = {
    {"complete responses that must parse", check_good_all},
    {"heads that must be refused", check_bad_heads},
    {"heads that parse, but whose body framing is malformed", check_bad_framing},
    {"a 100 Continue head, then the real response", check_two_heads},
    {"repeated headers, and lookup by name", check_header_find},
    {"a 1 MiB head fed one byte at a time", check_big_head},
    {"http_header_unfold", check_unfold},
    {"a head with 1000 fields: -3 until the array is big enough", check_many_headers},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 0);
}
