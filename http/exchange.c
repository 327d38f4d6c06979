/* exchange.c - write the request, parse the reply as it trickles in.
 *
 * The parser (parse.c) is handed whatever bytes have arrived; it says
 * "complete", "need more" or "malformed", and never keeps state of its own
 * for the head.  This file owns the socket side: when the parser needs
 * more, read more (parking the coroutine until bytes come).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include <bareawait/io.h>
#include "message.h"
#include "misuse.h"
#include "redirect.h"

#define SOURCE_PIECE 16384  /* what one body_source call may give */
#define CHUNK_LINE_ROOM 8   /* "4000\r\n": SOURCE_PIECE in hex, CRLF */

static void emit(const exchange *x, http_event ev, int fd, const char *detail)
{
    ba_emit(x->opts, ev, fd, detail);
}

/* SUSPENDS.  Writes all of buf; 0 or an HTTP_E* code (RESET when the
 * server went away: EPIPE, ECONNRESET). */
static int send_all(struct conn *c, const exchange *x, const void *buf, size_t len)
{
    if (io_send(c->fd, buf, len, ba_step_deadline(x->dl, x->dl->read_ns)) < 0)
        return ba_io_error(x->dl, HTTP_E_READ_TIMEOUT, HTTP_E_RESET);
    return 0;
}

/* The code for a callback (body source, sink) that returned -1: its
 * errno says whether the request's deadline or a cancel stopped it (the
 * runtime tells a coroutine of its cancel once: the callback's wait got
 * it, so the request must pass it on), else it is `own`. */
static int callback_error(const exchange *x, int own)
{
    if (errno == ECANCELED)
        return HTTP_E_CANCELLED;
    if (errno == ETIMEDOUT && x->dl->total != CORO_NEVER && coro_now() >= x->dl->total)
        return HTTP_E_TOTAL_TIMEOUT;
    return own;
}

/* One piece from the body source, at most SOURCE_PIECE bytes: its size,
 * 0 at the end, or HTTP_E_SEND_BODY with the errno the source left
 * (callback_error's codes). */
static long source_piece(const exchange *x, char *buf)
{
    const http_request *req = x->req;
    errno = 0; /* a source that fails without saying why leaves 0 */
    long n = req->body_source(req->body_user, buf, SOURCE_PIECE, x->dl->total);
    if (n > SOURCE_PIECE)
        ba_misuse("http_send", "body_source returned more bytes than it was given room for");
    return n < 0 ? callback_error(x, HTTP_E_SEND_BODY) : n;
}

/* SUSPENDS (in the source too).  Streams the body source: as it comes
 * when its length was announced (checking that it keeps to it), else as
 * one chunk per piece and the last chunk.  buf has CHUNK_LINE_ROOM bytes
 * before, and 2 after, SOURCE_PIECE for the chunk framing. */
static int send_source(struct conn *c, const exchange *x, char *buf)
{
    const http_request *req = x->req;
    bool chunked = req->body_length < 0;
    uint64_t sent = 0;
    char *data = buf + CHUNK_LINE_ROOM;
    for (;;) {
        /* A source that always has bytes ready never waits on the deadline. */
        if (x->dl->total != CORO_NEVER && coro_now() >= x->dl->total) {
            errno = ETIMEDOUT;
            return HTTP_E_TOTAL_TIMEOUT;
        }
        long n = source_piece(x, data);
        if (n <= 0) {
            if (n < 0)
                return (int)n;
            break;
        }
        sent += (uint64_t)n;
        if (!chunked && sent > (uint64_t)req->body_length)
            return HTTP_E_SEND_BODY_LONG;
        char *at = data;
        size_t len = (size_t)n;
        if (chunked) {
            char line[CHUNK_LINE_ROOM + 1];
            int ll = snprintf(line, sizeof line, "%lx\r\n", (unsigned long)n);
            at -= ll;
            memcpy(at, line, (size_t)ll);
            data[n] = '\r'; /* the chunk's closing CR LF */
            data[n + 1] = '\n';
            len += (size_t)ll + 2;
        }
        int err = send_all(c, x, at, len);
        if (err)
            return err;
    }
    if (!chunked && sent < (uint64_t)req->body_length)
        return HTTP_E_SEND_BODY_SHORT;
    return chunked ? send_all(c, x, "0\r\n\r\n", 5) : 0;
}

static int send_body(struct conn *c, const exchange *x)
{
    const http_request *req = x->req;
    if (!req->body_source)
        return req->body_len ? send_all(c, x, req->body, req->body_len) : 0;
    char *buf = malloc(CHUNK_LINE_ROOM + SOURCE_PIECE + 2); /* not on a small stack */
    if (!buf)
        return HTTP_E_NOMEM;
    int err = send_source(c, x, buf);
    free(buf);
    return err;
}

/* SUSPENDS.  The head, then the body if this hop has one.  Simple on
 * purpose: a body from memory is a second write, not copied behind the
 * head (a writev would send both in one). */
static int send_request(struct conn *c, exchange *x)
{
    if (x->req->on_request)
        x->req->on_request(x->req->user, x->head, x->head_len);
    int err = send_all(c, x, x->head, x->head_len);
    if (!err && x->with_body)
        err = send_body(c, x);
    if (err)
        return err;
    if (x->opts->on_event) { /* the detail costs a snprintf: only for a listener */
        char line[128];
        snprintf(line, sizeof line, "%.*s", (int)(strcspn(x->head, "\r")), x->head);
        emit(x, HTTP_EV_REQUEST_SENT, c->fd, line);
    }
    return 0;
}

/* Reads until a whole final (non-1xx) head is buffered and parsed.
 * Interim 1xx heads are parsed and passed over but left in the buffer,
 * before the final one: h->raw is then every head's bytes as received,
 * with no copy (take_head consumes them all).  Their bytes count against
 * the head limit too, or a server could send "100 Continue" forever.
 * Returns the length of the heads, interim ones included, or an HTTP_E*
 * code. */
static long read_head(struct conn *c, exchange *x, response_head *h)
{
    size_t last_len = 0, interim = 0;
    long err = ba_conn_await_reply(c, x->dl);
    if (err)
        return err;
    for (;;) {
        if (c->len > interim) {
            h->n_headers = c->max_headers;
            int n = http_parse_response(c->buf + interim, c->len - interim, last_len,
                                        &h->minor_version, &h->status, &h->reason,
                                        &h->reason_len, c->headers, &h->n_headers);
            h->headers = c->headers;
            if (n == -3) { /* more headers than room: grow, parse again */
                if ((err = ba_conn_grow_headers(c, x->max_head)) != 0)
                    return err;
                last_len = 0;
                continue;
            }
            if (n == -1 || (n > 0 && h->status == 101))
                return HTTP_E_MALFORMED; /* 101: we never asked to switch */
            if (n > 0 && interim + (size_t)n > x->max_head)
                return HTTP_E_HEAD_TOO_LARGE;
            if (n > 0 && h->status >= 200) {
                h->raw = c->buf;
                h->raw_len = interim + (size_t)n;
                return (long)h->raw_len;
            }
            if (n > 0) {                 /* 100 Continue, 103 ...: pass over it */
                interim += (size_t)n;
                last_len = 0;
                continue;
            }
            if (c->len >= x->max_head)
                return HTTP_E_HEAD_TOO_LARGE;
            last_len = c->len - interim;
        }
        long got = ba_conn_fill(c, x->max_head, x->dl);
        if (got == 0)
            return x->got_bytes ? HTTP_E_MALFORMED : HTTP_E_EMPTY_REPLY;
        if (got < 0)
            return got;
        if (!x->got_bytes)
            emit(x, HTTP_EV_FIRST_BYTE, c->fd, NULL);
        x->got_bytes = true;
    }
}

/* Hands body bytes to the caller's sink, or collects them. */
static int deliver(exchange *x, const char *data, size_t len)
{
    http_response *r = x->resp;
    size_t max = x->req->max_body;
    uint64_t so_far = x->redirect ? x->dropped : r->body_len;
    if (max && so_far + len > max)
        return HTTP_E_BODY_TOO_LARGE;
    if (x->redirect) { /* read and dropped: counted apart, never in resp */
        x->dropped += len;
        return 0;
    }
    if (!x->req->sink)
        return ba_response_append(r, data, len);
    r->body_len += len;
    errno = 0;
    if (x->req->sink(x->req->sink_user, data, len, x->dl->total) == 0)
        return 0;
    return callback_error(x, HTTP_E_ABORTED);
}

/* Reads more body bytes; end of stream before the end is `eof_code`. */
static int more(struct conn *c, exchange *x, int eof_code)
{
    long got = ba_conn_fill(c, c->cap, x->dl);
    if (got == 0)
        return eof_code;
    return got < 0 ? (int)got : 0;
}

static int body_by_length(struct conn *c, exchange *x, uint64_t left)
{
    for (;;) {
        size_t n = c->len < left ? c->len : (size_t)left;
        int err = n ? deliver(x, c->buf, n) : 0;
        if (err)
            return err;
        ba_conn_consume(c, n);
        left -= n;
        if (left == 0)
            return 0;
        if ((err = more(c, x, HTTP_E_TRUNCATED)) != 0)
            return err;
    }
}

static int body_chunked(struct conn *c, exchange *x)
{
    http_chunked ch = {0};
    bool keep = x->req->keep_raw_head;
    for (;;) {
        size_t used = 0;
        while (used < c->len && !http_chunked_done(&ch)) {
            const char *data;
            size_t dlen;
            bool trailer = keep && http_chunked_in_trailers(&ch);
            long n = http_chunked_feed(&ch, c->buf + used, c->len - used, &data, &dlen);
            if (n < 0)
                return HTTP_E_MALFORMED;
            int err = dlen ? deliver(x, data, dlen) : 0;
            if (!err && trailer) /* (the decoder stops where they start) */
                err = ba_response_append_trailer(x->resp, c->buf + used, (size_t)n);
            if (err)
                return err;
            used += (size_t)n;
        }
        ba_conn_consume(c, used);
        if (http_chunked_done(&ch))
            return 0;
        int err = more(c, x, HTTP_E_TRUNCATED);
        if (err)
            return err;
    }
}

static int body_until_close(struct conn *c, exchange *x)
{
    for (;;) {
        int err = c->len ? deliver(x, c->buf, c->len) : 0;
        if (err)
            return err;
        ba_conn_consume(c, c->len);
        long got = ba_conn_fill(c, c->cap, x->dl);
        if (got == 0)
            return 0; /* the end of the stream is the end of the body */
        if (got < 0)
            return (int)got;
    }
}

static int read_body(struct conn *c, exchange *x, const http_framing *f)
{
    switch (f->kind) {
    case HTTP_BODY_NONE: return 0;
    case HTTP_BODY_LENGTH: return body_by_length(c, x, f->length);
    case HTTP_BODY_CHUNKED: return body_chunked(c, x);
    case HTTP_BODY_CLOSE: return body_until_close(c, x);
    }
    return HTTP_E_MALFORMED;
}

/* The head is parsed: make the response object and decide the framing.
 * The response is made first, so that a head whose body we cannot
 * decode (HTTP_E_UNSUPPORTED_CODING) still comes back to the caller. */
static int take_head(struct conn *c, exchange *x, long head_len, const response_head *h,
                     http_framing *f)
{
    int framing = http_framing_of(h->status, x->head_only, h->minor_version, h->headers,
                                  h->n_headers, f);
    if (framing == -1)
        return HTTP_E_MALFORMED;
    x->resp = ba_response_new(x->url, h, x->req->keep_raw_head);
    if (!x->resp)
        return HTTP_E_NOMEM;
    if (f->kind == HTTP_BODY_LENGTH)
        x->resp->content_length = (int64_t)f->length;
    x->redirect = framing == 0 && x->follow_redirects && ba_redirect_location(x->resp);
    if (x->opts->on_event) {
        char line[128];
        snprintf(line, sizeof line, "HTTP/1.%d %d %s", h->minor_version, h->status,
                 x->resp->reason);
        emit(x, HTTP_EV_HEAD_RECEIVED, c->fd, line);
    }
    ba_conn_consume(c, (size_t)head_len);
    if (framing == -2) /* a coding other than chunked (gzip...) */
        return HTTP_E_UNSUPPORTED_CODING;
    if (f->kind == HTTP_BODY_LENGTH && x->req->max_body && f->length > x->req->max_body)
        return HTTP_E_BODY_TOO_LARGE; /* no need to read it to know */
    return 0;
}

int ba_exchange_run(struct conn *c, exchange *x)
{
    int err = send_request(c, x);
    if (err)
        return err;
    response_head h;
    long head_len = read_head(c, x, &h);
    if (head_len < 0)
        return (int)head_len;
    http_framing f;
    err = take_head(c, x, head_len, &h, &f);
    if (err && err != HTTP_E_UNSUPPORTED_CODING)
        return err;
    /* A body we cannot decode still has a final head to show (fetch -i). */
    if (!x->redirect && x->req->on_head && x->req->on_head(x->req->user, x->resp) != 0)
        return HTTP_E_ABORTED;
    if (err)
        return err;
    if ((err = read_body(c, x, &f)))
        return err;
    if (!x->req->sink && !x->resp->body && (err = ba_response_append(x->resp, "", 0)))
        return err; /* a collected empty body is "", not NULL */
    if (x->opts->on_event) {
        char size[32];
        snprintf(size, sizeof size, "%llu", x->redirect ? (unsigned long long)x->dropped
                                                         : (unsigned long long)x->resp->body_len);
        emit(x, HTTP_EV_BODY_DONE, c->fd, size);
    }
    /* Bytes after the body mean the server sent more than it announced:
     * do not trust the connection with another request. */
    x->reusable = f.keep_alive && c->len == 0;
    return 0;
}
