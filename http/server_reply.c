/* server_reply.c - answers (contracts in server.h): the head built from
 * the status, the handler's header lines and the framing; a buffered
 * answer in one writev; a stream written as it comes; the server's own
 * answers (400, 431, 500...).
 *
 * An answer leaves as up to six pieces of one sendmsg:
 *   head   "HTTP/1.1 200 OK" CRLF "Date: ..." CRLF
 *   extra  the handler's lines (Content-Type among them)
 *   tail   "Content-Length: 13" CRLF [Connection] CRLF CRLF
 *   body   the caller's bytes, never copied (for a chunk: its size line
 *          before, CRLF after)
 * TCP_NODELAY is on, so one send is one segment train with no wait.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chars.h"
#include "misuse.h"
#include "server_internal.h"

/* ---- pieces of a head ---- */

const char *ba_srv_reason(int status)
{
    static const struct { short code; const char *text; } reasons[] = {
        {100, "Continue"}, {200, "OK"}, {201, "Created"}, {202, "Accepted"},
        {204, "No Content"}, {206, "Partial Content"}, {301, "Moved Permanently"},
        {302, "Found"}, {303, "See Other"}, {304, "Not Modified"},
        {307, "Temporary Redirect"}, {308, "Permanent Redirect"}, {400, "Bad Request"},
        {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {408, "Request Timeout"}, {409, "Conflict"},
        {411, "Length Required"}, {413, "Content Too Large"}, {414, "URI Too Long"},
        {417, "Expectation Failed"}, {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"}, {500, "Internal Server Error"},
        {501, "Not Implemented"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
        {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == status)
            return reasons[i].text;
    return "";
}

/* "Date: Sun, 06 Nov 1994 08:49:37 GMT" CRLF (RFC 9110 section 5.6.7),
 * made again only when the second changes.  By hand, not strftime: %a
 * and %b follow the locale. */
static const char *date_line(void)
{
    static _Thread_local time_t made_at;
    static _Thread_local char line[48];
    static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    if (now == made_at && line[0])
        return line;
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(line, sizeof line, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
             days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
    made_at = now;
    return line;
}

static bool no_body_status(int status)
{
    return status == 204 || status == 304;
}

/* The head's fixed pieces are put together by hand, not with snprintf:
 * this runs for every answer.  Each piece is bounded (a status line with
 * the longest reason and Date; Content-Length of 19 digits and
 * Connection), well within BA_REPLY_FIXED_MAX. */
static void put(char *out, size_t *n, const char *s, size_t len)
{
    memcpy(out + *n, s, len);
    *n += len;
}

static void put_text(char *out, size_t *n, const char *s)
{
    put(out, n, s, strlen(s));
}

static void put_decimal(char *out, size_t *n, uint64_t v)
{
    char digits[20];
    size_t k = 0;
    do
        digits[k++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (k > 0)
        out[(*n)++] = digits[--k];
}

/* Writes the status line and Date into r->head; decides Connection:
 * close now (the server may have begun to stop since the request came). */
static void build_head(http_server_reply *r)
{
    r->close |= r->conn->srv->stopping;
    size_t n = 0;
    put_text(r->head, &n, "HTTP/1.1 ");
    put_decimal(r->head, &n, (uint64_t)r->status);
    put_text(r->head, &n, " ");
    put_text(r->head, &n, ba_srv_reason(r->status));
    put_text(r->head, &n, "\r\n");
    put_text(r->head, &n, date_line());
    r->head_len = n;
}

/* Writes the framing lines, Connection and the blank line into r->tail;
 * length < 0 means chunked, no_body_status() none at all. */
static void build_tail(http_server_reply *r, int64_t length, bool until_close)
{
    size_t n = 0;
    if (length < 0 && !until_close) {
        put_text(r->tail, &n, "Transfer-Encoding: chunked\r\n");
    } else if (length >= 0 && !no_body_status(r->status)) {
        put_text(r->tail, &n, "Content-Length: ");
        put_decimal(r->tail, &n, (uint64_t)length);
        put_text(r->tail, &n, "\r\n");
    }
    if (r->close)
        put_text(r->tail, &n, "Connection: close\r\n");
    else if (r->conn->req.minor_version == 0)
        put_text(r->tail, &n, "Connection: keep-alive\r\n");
    put_text(r->tail, &n, "\r\n");
    r->tail_len = n;
}

/* The head's three pieces into iov[0..3). */
static int head_iov(http_server_reply *r, struct iovec *iov)
{
    iov[0] = (struct iovec){r->head, r->head_len};
    iov[1] = (struct iovec){r->extra, r->extra_len};
    iov[2] = (struct iovec){r->tail, r->tail_len};
    return 3;
}

/* ---- the handler's header lines ---- */

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!ba_is_tchar((unsigned char)*s))
            return false;
    return true;
}

static bool is_field_value(const char *s)
{
    for (; *s; s++)
        if (ba_is_bad_ctl((unsigned char)*s))
            return false;
    return true;
}

static bool named(const char *name, const char *what)
{
    size_t n = strlen(what);
    return strlen(name) == n && ba_ieq(name, what, n);
}

/* Appends "name: value" CRLF to r->extra.  0, or -1/ENOMEM or EMSGSIZE. */
static int append_line(http_server_reply *r, const char *name, const char *value)
{
    size_t line = strlen(name) + strlen(value) + 4, need = r->extra_len + line;
    if (need > BA_REPLY_EXTRA_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    if (need + 1 > r->extra_cap) {     /* + 1: snprintf's NUL, not sent */
        size_t cap = r->extra_cap ? r->extra_cap : 256;
        while (cap < need + 1)
            cap *= 2;
        char *grown = realloc(r->extra, cap);
        if (!grown)
            return -1;
        r->extra = grown;
        r->extra_cap = cap;
    }
    snprintf(r->extra + r->extra_len, line + 1, "%s: %s\r\n", name, value);
    r->extra_len = need;
    return 0;
}

/* Stops the program unless `call` may act on r now. */
static void check_open(const char *call, const http_server_reply *r)
{
    if (!r || r->state == REPLY_OVER)
        ba_misuse(call, !r ? "reply is NULL" : "the handler of this reply has returned");
}

int http_reply_header(http_server_reply *r, const char *name, const char *value)
{
    check_open("http_reply_header", r);
    if (r->state != REPLY_NONE)
        ba_misuse("http_reply_header", "the answer's head has already been sent or started");
    if (!name || !value || !is_token(name) || !is_field_value(value) ||
        named(name, "Content-Length") || named(name, "Transfer-Encoding") ||
        named(name, "Date") || (named(name, "Connection") && !named(value, "close"))) {
        errno = EINVAL;
        return -1;
    }
    if (named(name, "Connection")) {
        r->close = true;               /* the tail says it */
        return 0;
    }
    return append_line(r, name, value);
}

/* ---- sending ---- */

/* Drops the first `sent` bytes from iov[0..*n), and the empty entries. */
static struct iovec *advance(struct iovec *iov, int *n, size_t sent)
{
    while (*n > 0 && (sent > 0 || iov->iov_len == 0)) {
        size_t take = sent < iov->iov_len ? sent : iov->iov_len;
        iov->iov_base = (char *)iov->iov_base + take;
        iov->iov_len -= take;
        sent -= take;
        if (iov->iov_len == 0) {
            iov++;
            (*n)--;
        }
    }
    return iov;
}

int ba_srv_send(ba_srv_conn *c, struct iovec *iov, int n)
{
    int64_t timeout = c->srv->opts.write_timeout_ms;
    iov = advance(iov, &n, 0);
    while (n > 0) {
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t sent = sendmsg(c->fd, &m, MSG_NOSIGNAL); /* a gone client is EPIPE, not SIGPIPE */
        if (sent >= 0) {
            iov = advance(iov, &n, (size_t)sent);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -1;
        /* Each stall gets the whole timeout: a slow reader is not a dead one. */
        coro_wake w = coro_wait(c->fd, CORO_WRITE, coro_deadline_in(timeout));
        if (w != CORO_WOKE_READY) {
            if (w != CORO_WOKE_FAILED) /* FAILED: errno says why */
                errno = w == CORO_WOKE_TIMEOUT ? ETIMEDOUT : ECANCELED;
            return -1;
        }
    }
    return 0;
}

/* Sends iov[0..n) for r, recording a failure. */
static int send_for(http_server_reply *r, struct iovec *iov, int n)
{
    r->head_sent = true;
    if (ba_srv_send(r->conn, iov, n) == 0)
        return 0;
    r->err = errno;
    r->state = REPLY_FAILED;
    return -1;
}

static void check_status(const char *call, int status, size_t body_len)
{
    if (status < 200 || status > 999)
        ba_misusef(call, "status %d is not a final status (200..999)", status);
    if (no_body_status(status) && body_len > 0)
        ba_misusef(call, "a %d answer has no body", status);
}

int http_reply(http_server_reply *r, int status, const char *content_type,
               const void *body, size_t len)
{
    check_open("http_reply", r);
    if (r->state != REPLY_NONE)
        ba_misuse("http_reply", "this request was already answered (or a stream started)");
    check_status("http_reply", status, len);
    if (content_type && http_reply_header(r, "Content-Type", content_type) < 0)
        return -1;
    r->status = status;
    build_head(r);
    build_tail(r, (int64_t)len, false);
    struct iovec iov[4];
    int n = head_iov(r, iov);
    if (!r->head_only && len > 0)
        iov[n++] = (struct iovec){(void *)body, len};
    if (send_for(r, iov, n) < 0)
        return -1;
    r->state = REPLY_DONE;
    return 0;
}

int http_reply_start(http_server_reply *r, int status, const char *content_type,
                     int64_t content_length)
{
    check_open("http_reply_start", r);
    if (r->state != REPLY_NONE)
        ba_misuse("http_reply_start", "this request was already answered (or a stream started)");
    check_status("http_reply_start", status, content_length > 0 ? (size_t)content_length : 0);
    if (content_length < -1 || (content_type &&
                                http_reply_header(r, "Content-Type", content_type) < 0)) {
        errno = EINVAL;
        return -1;
    }
    r->status = status;
    r->length = no_body_status(status) ? 0 : content_length;
    r->sent = 0;
    r->mode = r->length >= 0 ? STREAM_LENGTH
            : r->conn->req.minor_version >= 1 ? STREAM_CHUNKED : STREAM_UNTIL_CLOSE;
    if (r->mode == STREAM_UNTIL_CLOSE)
        r->close = true;               /* HTTP/1.0 knows no chunks */
    r->state = REPLY_PENDING;
    return 0;
}

/* The head's pieces into iov when it has not gone yet; how many. */
static int pending_head(http_server_reply *r, struct iovec *iov)
{
    if (r->state != REPLY_PENDING)
        return 0;
    build_head(r);
    build_tail(r, r->length, r->mode == STREAM_UNTIL_CLOSE);
    return head_iov(r, iov);
}

/* Stops the program unless r is a stream under way; -1 with its errno if
 * it failed before. */
static int check_stream(const char *call, const http_server_reply *r)
{
    check_open(call, r);
    if (r->state == REPLY_NONE)
        ba_misuse(call, "no stream was started (http_reply_start)");
    if (r->state == REPLY_DONE)
        ba_misuse(call, "the answer is already complete");
    if (r->state == REPLY_FAILED) {
        errno = r->err;
        return -1;
    }
    return 0;
}

int http_reply_write(http_server_reply *r, const void *data, size_t len)
{
    if (check_stream("http_reply_write", r) < 0)
        return -1;
    if (len == 0)
        return 0;
    if (no_body_status(r->status))
        ba_misusef("http_reply_write", "a %d answer has no body", r->status);
    if (r->mode == STREAM_LENGTH && (uint64_t)len > (uint64_t)(r->length - r->sent)) {
        r->err = EMSGSIZE;             /* more than promised: the client cannot */
        r->state = REPLY_FAILED;       /* tell where the body ends, so close */
        errno = EMSGSIZE;
        return -1;
    }
    struct iovec iov[6];
    int n = pending_head(r, iov);
    if (!r->head_only && r->mode == STREAM_CHUNKED) {
        int k = snprintf(r->chunk_line, sizeof r->chunk_line, "%zx\r\n", len);
        iov[n++] = (struct iovec){r->chunk_line, (size_t)k};
    }
    if (!r->head_only)
        iov[n++] = (struct iovec){(void *)data, len};
    if (!r->head_only && r->mode == STREAM_CHUNKED)
        iov[n++] = (struct iovec){"\r\n", 2};
    r->state = REPLY_STREAMING;        /* the head is in iov if it was pending */
    r->sent += (int64_t)len;
    return send_for(r, iov, n);
}

int http_reply_end(http_server_reply *r)
{
    if (check_stream("http_reply_end", r) < 0)
        return -1;
    if (r->mode == STREAM_LENGTH && r->sent < r->length && !r->head_only) {
        r->err = EMSGSIZE;             /* the body was promised longer */
        r->state = REPLY_FAILED;
        errno = EMSGSIZE;
        return -1;
    }
    struct iovec iov[4];
    int n = pending_head(r, iov);
    if (!r->head_only && r->mode == STREAM_CHUNKED)
        iov[n++] = (struct iovec){"0\r\n\r\n", 5};
    if (send_for(r, iov, n) < 0)
        return -1;
    r->state = REPLY_DONE;
    return 0;
}

/* ---- the server's side of an answer ---- */

void ba_srv_reply_begin(ba_srv_conn *c, bool head_only, bool close)
{
    http_server_reply *r = &c->reply;
    r->conn = c;
    r->state = REPLY_NONE;
    r->status = 0;
    r->head_only = head_only;
    r->close = close;
    r->head_sent = false;
    r->err = 0;
    r->extra_len = 0;
}

/* The server's own answer: its reason as a text body. */
static int answer_text(ba_srv_conn *c, int status)
{
    http_server_reply *r = &c->reply;
    char body[64];
    int n = snprintf(body, sizeof body, "%d %s\n", status, ba_srv_reason(status));
    r->state = REPLY_NONE;
    r->head_sent = false;
    r->extra_len = 0;                  /* not the handler's lines */
    char line[80];
    snprintf(line, sizeof line, "%d %s", status, ba_srv_reason(status));
    ba_srv_emit(c->srv, HTTP_SERVER_EV_ANSWERED, c->fd, line);
    return http_reply(r, status, "text/plain", body, (size_t)n);
}

int ba_srv_reply_error(ba_srv_conn *c, int status)
{
    c->reply.conn = c;
    c->reply.close = true;
    c->reply.head_only = false;
    return answer_text(c, status);
}

bool ba_srv_reply_finish(ba_srv_conn *c, int rc)
{
    http_server_reply *r = &c->reply;
    bool again;
    if (r->state == REPLY_FAILED && !r->head_sent)
        r->state = REPLY_NONE;         /* a stream that broke its length before
                                          its head went out: a 500 still can */
    switch (r->state) {
    case REPLY_NONE:                   /* no answer: the handler failed */
        again = answer_text(c, 500) == 0 && !r->close;
        break;
    case REPLY_PENDING:
    case REPLY_STREAMING:
        again = rc == 0 && http_reply_end(r) == 0 && !r->close;
        break;
    case REPLY_DONE:
        again = !r->close;
        break;
    default:
        again = false;
        break;
    }
    r->state = REPLY_OVER;
    return again;
}
