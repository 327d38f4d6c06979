/* server_body.c - a request's body, read whole before the handler runs
 * (ba_srv_read_body in server_internal.h).
 *
 *   Content-Length  what already followed the head in the connection's
 *                   buffer, then the rest read straight into the body's
 *   chunked         decoded by http_chunked_feed from the buffer, after
 *                   the head; once it is used up, more is read into the
 *                   same place (server_conn.c leaves room there), so the
 *                   head stays where the request's strings point
 * Either way the bytes after the body stay in the buffer: the next
 * pipelined request.  Simple on purpose: the whole body is collected,
 * bounded by max_body_bytes.  A handler that streams the body as it
 * comes (an upload proxied on) would want a body_source of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bareawait/io.h>
#include "chars.h"
#include "server_internal.h"

const char *http_server_header(const http_server_request *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->num_headers; i++)
        if (strlen(req->headers[i].name) == n && ba_ieq(req->headers[i].name, name, n))
            return req->headers[i].value;
    return NULL;
}

/* Room for n bytes and a NUL in c->body.  0 or -1/ENOMEM. */
static int body_room(ba_srv_conn *c, size_t n)
{
    if (n + 1 <= c->body_cap)
        return 0;
    size_t cap = c->body_cap ? c->body_cap : 1024;
    while (cap < n + 1)
        cap *= 2;
    char *grown = realloc(c->body, cap);
    if (!grown)
        return -1;
    c->body = grown;
    c->body_cap = cap;
    return 0;
}

/* What a failed read of the body means: 408 past the deadline, else an
 * end without an answer (closed, reset, cancelled). */
static int read_failed(ssize_t n)
{
    return n < 0 && errno == ETIMEDOUT ? 408 : -1;
}

static int read_length(ba_srv_conn *c, size_t head_len, size_t len, int64_t deadline,
                       size_t *end)
{
    if (body_room(c, len) < 0)
        return -1;
    size_t buffered = c->have - head_len;
    size_t got = buffered < len ? buffered : len;
    memcpy(c->body, c->buf + head_len, got);
    *end = head_len + got;
    while (got < len) {
        ssize_t n = io_read(c->fd, c->body + got, len - got, deadline);
        if (n <= 0)
            return read_failed(n);
        got += (size_t)n;
    }
    c->body[len] = '\0';
    c->req.body_len = len;
    return 0;
}

static int read_chunked(ba_srv_conn *c, size_t head_len, int64_t deadline, size_t *end)
{
    http_chunked ch = {.strict = true}; /* a request: no bare LF (parse.h) */
    size_t pos = head_len, got = 0, max = c->srv->opts.max_body_bytes;
    while (!http_chunked_done(&ch)) {
        if (pos == c->have) {          /* used up: read more where it was */
            c->have = pos = head_len;
            ssize_t n = io_read(c->fd, c->buf + head_len, c->cap - head_len, deadline);
            if (n <= 0)
                return read_failed(n);
            c->have += (size_t)n;
        }
        const char *data;
        size_t n;
        long used = http_chunked_feed(&ch, c->buf + pos, c->have - pos, &data, &n);
        if (used < 0)
            return 400;
        if (n > max - got)
            return 413;
        if (body_room(c, got + n) < 0)
            return -1;
        memcpy(c->body + got, data, n);
        got += n;
        pos += (size_t)used;
    }
    c->body[got] = '\0';               /* body_room ran at least once: the 0 chunk */
    c->req.body_len = got;
    *end = pos;
    return 0;
}

/* RFC 9110 section 10.1.1: "100-continue" gets a 100 before the body is
 * read, unless some of the body is already here; any other expectation is
 * 417.  An HTTP/1.0 request's Expect is ignored, as the RFC says. */
static int expectation(ba_srv_conn *c, size_t head_len)
{
    const char *expect = http_server_header(&c->req, "Expect");
    if (!expect || c->req.minor_version == 0)
        return 0;
    if (strlen(expect) != 12 || !ba_ieq(expect, "100-continue", 12))
        return 417;
    if (c->have > head_len)
        return 0;
    static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct iovec iov = {(void *)go_on, sizeof go_on - 1};
    return ba_srv_send(c, &iov, 1) == 0 ? 0 : -1;
}

int ba_srv_read_body(ba_srv_conn *c, size_t head_len, const http_framing *f,
                     int64_t deadline, size_t *end)
{
    c->req.body = "";
    c->req.body_len = 0;
    *end = head_len;
    if (f->kind == HTTP_BODY_NONE)
        return 0;
    if (f->kind == HTTP_BODY_LENGTH && f->length > c->srv->opts.max_body_bytes)
        return 413;                    /* before a byte of it is read */
    int e = expectation(c, head_len);
    if (e != 0)
        return e;
    int rc = f->kind == HTTP_BODY_LENGTH
        ? read_length(c, head_len, (size_t)f->length, deadline, end)
        : read_chunked(c, head_len, deadline, end);
    if (rc == 0)
        c->req.body = c->body;
    return rc;
}
