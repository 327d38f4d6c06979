/* server_conn.c - one connection's coroutine (ba_srv_conn_main):
 *
 *     loop:  read a head          parks until bytes come (idle, then head
 *                                 deadline); answers 400/408/431/505 itself
 *            framing, the body    server_body.c (413, 417, 400, 408)
 *            handler(req, reply)  may park as it likes (http_get...)
 *            finish the answer    server_reply.c (500 if there was none)
 *            keep what follows    a pipelined next request, already read
 *     end:   linger, close, leave the server's list
 *
 * The request's strings point into c->buf, NUL-terminated in place (the
 * parser is done with the bytes by then); c->buf does not move from the
 * head until the handler returns, so they stay valid.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bareawait/io.h>
#include "server_internal.h"

#define READ_MIN 4096           /* the buffer's first size, and the room kept
                                   after a head for a chunked body's bytes */
#define FIELDS_MIN 16           /* header fields room at first */
#define LINGER_MS 1000          /* after an answer with close: reading... */
#define LINGER_BYTES (1 << 20)  /* ...and dropping at most this much */

/* How a request ended when the connection does not go on: `status` to
 * answer (0: none), `why` for the CLOSED event, `linger` to read what the
 * client still sends before the close. */
typedef struct ending {
    int status;
    const char *why;
    bool linger;
} ending;

static int64_t deadline_after(int64_t start_ns, int64_t ms)
{
    if (ms < 0 || ms > (CORO_NEVER - start_ns) / 1000000)
        return CORO_NEVER;
    return start_ns + ms * 1000000;
}

/* ---- buffers ---- */

/* Room in c->buf for at least `want` bytes in all.  0 or -1/ENOMEM. */
static int buf_room(ba_srv_conn *c, size_t want)
{
    if (want <= c->cap)
        return 0;
    size_t cap = c->cap ? c->cap : READ_MIN;
    while (cap < want)
        cap *= 2;
    char *grown = realloc(c->buf, cap);
    if (!grown)
        return -1;
    c->buf = grown;
    c->cap = cap;
    return 0;
}

/* The header arrays, for `n` fields.  0 or -1/ENOMEM. */
static int fields_room(ba_srv_conn *c, size_t n)
{
    http_header *f = realloc(c->fields, n * sizeof *f);
    if (f)
        c->fields = f;
    http_server_field *p = f ? realloc(c->pub, n * sizeof *p) : NULL;
    if (!p)
        return -1;
    c->pub = p;
    c->fields_cap = n;
    return 0;
}

/* ---- the head ---- */

/* What io_read's failure (or end, n == 0) means while a head comes. */
static ending head_read_failed(const ba_srv_conn *c, ssize_t n)
{
    if (n == 0)
        return (ending){0, "the client closed", false};
    if (errno == ETIMEDOUT && c->have > 0)
        return (ending){408, "the head came too slowly", true};
    if (errno == ETIMEDOUT)
        return (ending){0, c->first ? "no request came" : "idle", false};
    if (errno == ECANCELED)
        return (ending){0, "the server stopped", false};
    return (ending){0, "the connection broke", false};
}

/* What http_parse_request's verdict means: 0 (keep reading, or try again
 * after the array grew: *retry), or the status to answer. */
static int head_verdict(ba_srv_conn *c, int ret, bool *retry)
{
    const http_server_opts *o = &c->srv->opts;
    *retry = false;
    if (ret == -1)
        return 400;
    if (ret == -4)
        return 505;
    if (ret == -3) {
        if (c->fields_cap >= o->max_headers)
            return 431;
        size_t n = c->fields_cap * 2 < o->max_headers ? c->fields_cap * 2 : o->max_headers;
        *retry = fields_room(c, n) == 0;
        return *retry ? 0 : 500;
    }
    return c->have >= o->max_head_bytes ? 431 : 0;
}

/* SUSPENDS.  Reads until c->buf holds a whole head and parses it into q;
 * returns its length, or 0 with *end saying why not. */
static size_t read_head(ba_srv_conn *c, http_request_head *q, ending *end)
{
    const http_server_opts *o = &c->srv->opts;
    /* The first request's head is timed from the accept; a later one from
     * its first byte (pipelined bytes already here: from now). */
    int64_t head_deadline = c->first ? deadline_after(c->accepted_ns, o->header_timeout_ms)
                          : deadline_after(coro_now(), o->header_timeout_ms);
    size_t last_len = 0;
    for (;;) {
        if (c->have > 0) {
            *q = (http_request_head){.headers = c->fields, .num_headers = c->fields_cap};
            int ret = http_parse_request(c->buf, c->have, last_len, q);
            if (ret > 0 && (size_t)ret > o->max_head_bytes)
                ret = -2;              /* whole, but too big: as if it went on */
            if (ret > 0)
                return (size_t)ret;
            bool retry;
            int status = head_verdict(c, ret, &retry);
            if (status) {
                *end = (ending){status, "refused the request", true};
                return 0;
            }
            if (retry)
                continue;
            last_len = c->have;
        }
        if (c->have == c->cap && buf_room(c, c->cap * 2) < 0) {
            *end = (ending){0, "out of memory", false};
            return 0;
        }
        bool waiting = c->have == 0;   /* for the first byte of a request */
        int64_t deadline = waiting && !c->first
            ? deadline_after(coro_now(), o->idle_timeout_ms) : head_deadline;
        c->idle = waiting;
        ssize_t n = io_read(c->fd, c->buf + c->have, c->cap - c->have, deadline);
        c->idle = false;
        if (n <= 0) {
            *end = head_read_failed(c, n);
            return 0;
        }
        if (waiting && !c->first)
            head_deadline = deadline_after(coro_now(), o->header_timeout_ms);
        c->have += (size_t)n;
    }
}

/* Keeps READ_MIN bytes of room after a head of head_len bytes, for a
 * chunked body to be read into; if c->buf has to move for it, parses the
 * head again, so q points into the new place.  0 or -1/ENOMEM. */
static int room_after_head(ba_srv_conn *c, size_t head_len, http_request_head *q)
{
    if (c->cap - head_len >= READ_MIN)
        return 0;
    if (buf_room(c, head_len + READ_MIN) < 0)
        return -1;
    *q = (http_request_head){.headers = c->fields, .num_headers = c->fields_cap};
    return http_parse_request(c->buf, c->have, 0, q) == (int)head_len ? 0 : -1;
}

/* ---- the request the handler sees ---- */

/* The part of an absolute-form target after its authority. */
static const char *path_of(const char *target, http_target_form form)
{
    if (form != HTTP_TARGET_ABSOLUTE)
        return target;
    const char *p = strstr(target, "://");
    p = p ? p + 3 : target;
    return p + strcspn(p, "/?");
}

/* Fills c->req from q, NUL-terminating each string in c->buf: the byte
 * after a method, target, name or value is a space, colon, CR or blank,
 * all of which the parser is done with. */
static void build_request(ba_srv_conn *c, const http_request_head *q)
{
    char *b = c->buf;
    http_server_request *r = &c->req;
    b[q->method - b + (ptrdiff_t)q->method_len] = '\0';
    b[q->target - b + (ptrdiff_t)q->target_len] = '\0';
    for (size_t i = 0; i < q->num_headers; i++) {
        const http_header *h = &q->headers[i];
        b[h->name - b + (ptrdiff_t)h->name_len] = '\0';
        b[h->value - b + (ptrdiff_t)h->value_len] = '\0';
        c->pub[i] = (http_server_field){h->name, h->value};
    }
    *r = (http_server_request){
        .method = q->method, .target = q->target, .path = path_of(q->target, q->form),
        .minor_version = q->minor_version, .headers = c->pub, .num_headers = q->num_headers,
        .body = "", .peer = (const struct sockaddr *)&c->peer, .peer_len = c->peer_len,
    };
}

/* ---- one request ---- */

/* Runs the handler and finishes its answer.  true if the connection may
 * carry another request. */
static bool handle(ba_srv_conn *c, ending *end)
{
    http_server *s = c->srv;
    if (s->opts.on_event) {            /* formatted only for someone to read */
        char line[160];
        snprintf(line, sizeof line, "%.64s %.80s HTTP/1.%d", c->req.method, c->req.target,
                 c->req.minor_version);
        ba_srv_emit(s, HTTP_SERVER_EV_REQUEST, c->fd, line);
    }
    int rc = s->handler(&c->req, &c->reply, s->user);
    if (c->cancelled) {                /* no answer: the drain's deadline passed */
        c->reply.state = REPLY_OVER;
        *end = (ending){0, "cancelled at the stop's deadline", false};
        return false;
    }
    if (ba_srv_reply_finish(c, rc))
        return true;
    bool broke = c->reply.err != 0 && c->reply.err != EMSGSIZE;
    *end = (ending){0, broke ? (c->reply.err == ETIMEDOUT ? "write timeout" : "write failed")
                             : "answered, closing", !broke};
    return false;
}

/* SUSPENDS.  One request, head to answer.  true to go on with the next. */
static bool one_request(ba_srv_conn *c, ending *end)
{
    http_request_head q;
    size_t head_len = read_head(c, &q, end);
    if (head_len == 0)
        return false;
    http_framing f;
    int framing = http_request_framing(&q, &f);
    if (framing < 0) {
        *end = (ending){framing == -2 ? 501 : 400, "refused the framing", true};
        return false;
    }
    if (room_after_head(c, head_len, &q) < 0) {
        *end = (ending){0, "out of memory", false};
        return false;
    }
    build_request(c, &q);
    bool head_only = q.method_len == 4 && memcmp(q.method, "HEAD", 4) == 0;
    ba_srv_reply_begin(c, head_only, !f.keep_alive);
    size_t body_end;
    int64_t deadline = deadline_after(coro_now(), c->srv->opts.body_timeout_ms);
    int rc = ba_srv_read_body(c, head_len, &f, deadline, &body_end);
    if (rc != 0) {
        *end = rc > 0 ? (ending){rc, "refused the body", true}
                      : (ending){0, "the body did not come", false};
        return false;
    }
    bool again = handle(c, end);
    memmove(c->buf, c->buf + body_end, c->have - body_end);   /* the next request's */
    c->have -= body_end;
    c->first = false;
    return again;
}

/* ---- the connection's life ---- */

/* SUSPENDS.  After the last answer: no more writes, and what the client
 * still sends is read and dropped for a while, so the answer is not lost
 * to a reset (a close with unread bytes sends one). */
static void linger(ba_srv_conn *c)
{
    shutdown(c->fd, SHUT_WR);
    int64_t until = coro_deadline_in(LINGER_MS);
    size_t dropped = 0;
    while (dropped < LINGER_BYTES) {
        ssize_t n = io_read(c->fd, c->buf, c->cap, until);
        if (n <= 0)
            break;
        dropped += (size_t)n;
    }
}

/* Closes the connection, takes it off the list and frees it; the last
 * one out while the server drains wakes http_server_run. */
static void leave(ba_srv_conn *c, const char *why)
{
    http_server *s = c->srv;
    ba_srv_emit(s, HTTP_SERVER_EV_CLOSED, c->fd, why);
    coro_close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->open--;
    free(c->buf);
    free(c->fields);
    free(c->pub);
    free(c->body);
    free(c->reply.extra);
    free(c);
    if (s->stopping && s->runner)
        coro_wakeup(s->runner);
}

void *ba_srv_conn_main(void *arg)
{
    ba_srv_conn *c = arg;
    int one = 1;  /* each answer is one write: nothing to gain from Nagle */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->first = true;
    c->reply.conn = c;
    ending end = {0, "out of memory", false};
    size_t fields = FIELDS_MIN < c->srv->opts.max_headers ? FIELDS_MIN : c->srv->opts.max_headers;
    if (buf_room(c, READ_MIN) == 0 && fields_room(c, fields) == 0)
        while (one_request(c, &end))
            ;
    if (end.status && !c->cancelled && ba_srv_reply_error(c, end.status) < 0)
        end.linger = false;
    if (end.linger && !c->cancelled)
        linger(c);
    leave(c, end.why);
    return NULL;
}
