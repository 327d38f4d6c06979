/* test_parse.c - http/parse: response heads, body framing, chunked bodies.
 *
 * Table-driven.  Every good response is parsed whole, then as every
 * truncated prefix (each in its own exact-size heap copy, so ASan and
 * valgrind catch a read past len), then grown one byte at a time with
 * last_len.  Every chunked body is decoded whole, split in two at every
 * point, and one byte at a time, and must give the same bytes.
 */
#include <stdlib.h>

#include "check.h"
#include "parse.h"

#define MAX_HEADERS 16

/* ---- helpers ---- */

/* An escaped excerpt of p[from..n), at most 40 bytes, into out. */
static void excerpt(const char *p, size_t n, size_t from, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = from; i < n && i < from + 40 && o + 5 < size; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r' || c == '\n')
            o += (size_t)snprintf(out + o, size - o, c == '\r' ? "\\r" : "\\n");
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Compares byte strings; on a mismatch prints where they differ and an
 * escaped excerpt of both from just before that point. */
static int check_bytes_(const char *file, int line, const char *expr,
                        const char *got, size_t got_len,
                        const char *want, size_t want_len)
{
    size_t i = 0;
    while (i < got_len && i < want_len && got[i] == want[i])
        i++;
    if (i == got_len && i == want_len)
        return 1;
    char a[200], b[200], detail[512];
    size_t from = i > 10 ? i - 10 : 0;
    excerpt(got, got_len, from, a, sizeof a);
    excerpt(want, want_len, from, b, sizeof b);
    snprintf(detail, sizeof detail,
             "%zu vs %zu bytes, first difference at %zu: got \"%s\", want \"%s\"",
             got_len, want_len, i, a, b);
    check_fail_(file, line, expr, detail);
    return 0;
}
#define CHECK_BYTES(got, got_len, want, want_len) \
    check_bytes_(__FILE__, __LINE__, #got " == " #want, (got), (got_len), (want), (want_len))

/* Says which case (and which prefix or split) a failed check was in. */
static void where(const char *name, const char *what, size_t at)
{
    fprintf(stderr, "    in case \"%s\", %s %zu\n", name, what, at);
}

static char *copy(const char *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (!c)
        abort();
    memcpy(c, p, n);
    return c;
}

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

/* The result of decoding a whole chunked body. */
struct decoded {
    long consumed;      /* bytes consumed in total; -1 if the decoder
                           refused them, -2 if it broke its contract */
    bool done;
    char body[256];     /* the payload, reassembled */
    size_t body_len;
};

/* Feeds enc[0..len) to a fresh decoder as a socket reader would: first
 * enc[0..split), then the rest in pieces of `step` bytes (0: one piece).
 * Each piece is an exact-size heap copy, dropped once fed. */
static struct decoded decode(const char *enc, size_t len, size_t split, size_t step)
{
    struct decoded d = { 0 };
    http_chunked c = { 0 };
    size_t pos = 0;
    while (pos < len && !http_chunked_done(&c)) {
        size_t end = len;
        if (pos < split)
            end = split;
        else if (step > 0 && pos + step < len)
            end = pos + step;
        char *piece = copy(enc + pos, end - pos);
        size_t fed = 0;
        while (fed < end - pos && !http_chunked_done(&c)) {
            const char *data;
            size_t n;
            long r = http_chunked_feed(&c, piece + fed, end - pos - fed, &data, &n);
            if (r < 0) {
                d.consumed = -1;
            } else if (!CHECK(r > 0) ||       /* progress while not done */
                       !CHECK(n == 0 || (data >= piece + fed && data + n <= piece + fed + r)) ||
                       !CHECK(d.body_len + n <= sizeof d.body)) {
                d.consumed = -2;
            } else {
                memcpy(d.body + d.body_len, data, n);
                d.body_len += n;
                fed += (size_t)r;
                continue;
            }
            free(piece);
            return d;
        }
        free(piece);
        pos += fed;
    }
    d.consumed = (long)pos;
    d.done = http_chunked_done(&c);
    return d;
}

static bool decoded_as(const char *name, const char *how, size_t at,
                       struct decoded d, long want_consumed, const char *want_body)
{
    bool ok = CHECK_INT(d.consumed, want_consumed);
    if (ok && want_consumed >= 0)
        ok = CHECK(d.done) && CHECK_BYTES(d.body, d.body_len, want_body, strlen(want_body));
    if (!ok)
        where(name, how, at);
    return ok;
}

/* Decodes enc one byte at a time and split in two at every point (every
 * 509th for long inputs; split 0 is "all at once").  Each way must consume
 * want_consumed bytes (-1: must be refused) and yield want_body. */
static void check_decoding(const char *name, const char *enc, size_t len,
                           long want_consumed, const char *want_body)
{
    size_t stride = len > 4096 ? 509 : 1;
    if (!decoded_as(name, "one byte at a time, length", len, decode(enc, len, 0, 1),
                    want_consumed, want_body))
        return;
    for (size_t split = 0; split <= len; split += stride)
        if (!decoded_as(name, "split at", split, decode(enc, len, split, 0),
                        want_consumed, want_body))
            return;
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
    const char *value;      /* ...and its value */
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
    { "Content-Length UINT64_MAX", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n",
      "", .minor = 1, .status = 200, .reason = "OK", .num_headers = 1,
      .kind = HTTP_BODY_LENGTH, .length = UINT64_MAX, .keep_alive = true },
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
      .kind = HTTP_BODY_CHUNKED, .keep_alive = true, .body = "hello world" },
    { "TE in two headers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
      "transfer-encoding: CHUNKED\r\n\r\n", HELLO_CHUNKS, .minor = 1, .status = 200,
      .reason = "OK", .num_headers = 2, .kind = HTTP_BODY_CHUNKED, .keep_alive = true,
      .body = "hello world" },
    { "TE with empty list elements", "HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked,\r\n\r\n",
      HELLO_CHUNKS, .minor = 1, .status = 200, .reason = "OK", .num_headers = 1,
      .kind = HTTP_BODY_CHUNKED, .keep_alive = true, .body = "hello world" },
    { "TE chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      "raw", .minor = 1, .status = 200, .reason = "OK", .num_headers = 1,
      .kind = HTTP_BODY_CLOSE },
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
    http_framing f;
    ok = ok && CHECK_INT(http_framing_of(h.status, c->head_request, h.minor, h.h, h.n, &f), 0) &&
         CHECK_INT(f.kind, c->kind) && CHECK_INT(f.keep_alive, c->keep_alive) &&
         CHECK_INT(f.length, c->length);
    /* Room for exactly the headers is enough; one less is an error. */
    ok = ok && CHECK_INT(parse(buf, head_len, 0, c->num_headers, &h), head_len);
    if (ok && c->num_headers > 0)
        ok = CHECK_INT(parse(buf, head_len, 0, c->num_headers - 1, &h), -1);
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
    { "status 99", "HTTP/1.1 99 OK\r\n\r\n", 10 },
    { "status 20", "HTTP/1.1 20 OK\r\n\r\n", 12 },
    { "status 1000", "HTTP/1.1 1000 OK\r\n\r\n", 13 },
    { "status 2OO", "HTTP/1.1 2OO OK\r\n\r\n", 11 },
    { "status 600", "HTTP/1.1 600 X\r\n\r\n", 10 },
    { "status 099", "HTTP/1.1 099 X\r\n\r\n", 10 },
    { "tab after status", "HTTP/1.1 200\tOK\r\n\r\n", 13 },
    { "control char in reason", "HTTP/1.1 200 O\x02K\r\n\r\n", 0 },
    { "CR CR LF", "HTTP/1.1 200 OK\r\r\n\r\n", 0 },
    { "header without colon", "HTTP/1.1 200 OK\r\nX-Foo\r\n\r\n", 0 },
    { "space before colon", "HTTP/1.1 200 OK\r\nX-Foo : bar\r\n\r\n", 0 },
    { "empty name", "HTTP/1.1 200 OK\r\n: bar\r\n\r\n", 0 },
    { "bad name char", "HTTP/1.1 200 OK\r\nX(y): 1\r\n\r\n", 0 },
    { "obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 0 },
    { "obs-fold with tab", "HTTP/1.1 200 OK\r\nX: a\n\tb\n\n", 0 },
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

/* ---- chunked bodies that must be refused ---- */

static const struct { const char *name, *enc; } bad_chunks[] = {
    { "no size", "\r\nabc\r\n0\r\n\r\n" },
    { "empty size line after a chunk", "3\r\nabc\r\n\r\n0\r\n\r\n" },
    { "extension without size", ";x=1\r\nabc\r\n0\r\n\r\n" },
    { "bad hex", "1g\r\nx\r\n0\r\n\r\n" },
    { "0x prefix", "0x5\r\nhello\r\n0\r\n\r\n" },
    { "17 significant hex digits", "10000000000000000\r\nx\r\n0\r\n\r\n" },
    { "data longer than size", "3\r\nabcd\r\n0\r\n\r\n" },
    { "garbage instead of CRLF after data", "3\r\nabcX0\r\n\r\n" },
    { "CR without LF after data", "3\r\nabc\rX0\r\n\r\n" },
    { "CR without LF after size", "3\rabc\r\n0\r\n\r\n" },
    { "control char in extension", "3;a\x01" "b\r\nabc\r\n0\r\n\r\n" },
    { "CR without LF at the end", "0\r\n\rX" },
};

/* "1;aaa...\r\nx\r\n0\r\n\r\n" with ext_len bytes from the ';' to the
 * line end.  Caller frees. */
static char *long_extension(size_t ext_len, size_t *len)
{
    char *s = malloc(ext_len + 32);
    if (!s)
        abort();
    s[0] = '1';
    s[1] = ';';
    memset(s + 2, 'a', ext_len - 1);
    *len = 1 + ext_len + (size_t)sprintf(s + 1 + ext_len, "\r\nx\r\n0\r\n\r\n");
    return s;
}

/* "1\r\nx\r\n0\r\n", then trailer lines "X: yyy...\r\n" of 128 bytes
 * (the first one longer to make up trailer_len exactly, which must be >=
 * 128), then the final "\r\n".  Caller frees. */
static char *long_trailers(size_t trailer_len, size_t *len)
{
    char *s = malloc(trailer_len + 32);
    if (!s)
        abort();
    size_t n = (size_t)sprintf(s, "1\r\nx\r\n0\r\n");
    size_t line = 128 + trailer_len % 128;
    for (size_t done = 0; done < trailer_len; done += line, line = 128) {
        memcpy(s + n, "X: ", 3);
        memset(s + n + 3, 'y', line - 5);
        memcpy(s + n + line - 2, "\r\n", 2);
        n += line;
    }
    *len = n + (size_t)sprintf(s + n, "\r\n");
    return s;
}

static void check_bad_chunks(void)
{
    for (size_t i = 0; i < sizeof bad_chunks / sizeof bad_chunks[0]; i++)
        check_decoding(bad_chunks[i].name, bad_chunks[i].enc, strlen(bad_chunks[i].enc), -1, "");

    /* The limits: a 4096-byte extension and 65536 bytes of trailers pass;
     * one byte more fails. */
    static const struct { const char *name; size_t ext, trailers; bool ok; } limits[] = {
        { "4096-byte extension", 4096, 0, true },
        { "4097-byte extension", 4097, 0, false },
        { "65536 bytes of trailers", 0, 65536, true },
        { "65537 bytes of trailers", 0, 65537, false },
        { "endless trailers", 0, 200000, false },
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        size_t len;
        char *s = limits[i].ext ? long_extension(limits[i].ext, &len)
                                : long_trailers(limits[i].trailers, &len);
        check_decoding(limits[i].name, s, len, limits[i].ok ? (long)len : -1, "x");
        free(s);
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

/* Sizes up to 16 hex digits are fine; nothing is consumed once done. */
static void check_chunked_edges(void)
{
    http_chunked c = { 0 };
    const char *data;
    size_t n;
    const char big[] = "FFFFFFFFFFFFFFFF\r\nab";
    CHECK_INT(http_chunked_feed(&c, big, 0, &data, &n), 0);
    CHECK_INT(http_chunked_feed(&c, big, sizeof big - 1, &data, &n), sizeof big - 1);
    CHECK_BYTES(data, n, "ab", 2);
    CHECK(!http_chunked_done(&c));

    http_chunked d = { 0 };
    const char last[] = "0\r\n\r\n0\r\n\r\n";
    CHECK_INT(http_chunked_feed(&d, last, sizeof last - 1, &data, &n), 5);
    CHECK(http_chunked_done(&d));
    CHECK_INT(http_chunked_feed(&d, last + 5, 5, &data, &n), 0);
    CHECK_INT(n, 0);
}

int main(void)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        check_good(&good[i]);
    check_bad_heads();
    check_bad_framing();
    check_bad_chunks();
    check_two_heads();
    check_header_find();
    check_big_head();
    check_chunked_edges();
    return check_summary();
}
