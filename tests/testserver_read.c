/* testserver_read.c - the TS_READ step of the scripted server
 * (testserver.h): read a request head, then its body by Content-Length or
 * the chunked coding, and record both.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bareawait/io.h>
#include "testserver_internal.h"

static char *copy_bytes(const char *p, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, p, n);
        c[n] = '\0';
    }
    return c;
}

/* Where "\r\n\r\n" ends in p[0..n), or 0 if it does not occur. */
static size_t head_end(const char *p, size_t n)
{
    for (size_t i = 3; i < n; i++)
        if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
            return i + 1;
    return 0;
}

static int record_request(ts_conn *cn, size_t len)
{
    testserver *ts = cn->ts;
    char *head = copy_bytes(cn->buf, len);
    int *grown = realloc(ts->request_conn, (ts->requests.n + 1) * sizeof *grown);
    if (grown)
        ts->request_conn = grown;
    size_t *lens = realloc(ts->body_len, (ts->requests.n + 1) * sizeof *lens);
    if (lens)
        ts->body_len = lens;
    if (!head || !grown || !lens) {
        free(head);
        return -1;
    }
    ts->request_conn[ts->requests.n] = cn->index;
    if (ts_strings_add(&ts->requests, head) < 0) {
        free(head);
        return -1;
    }
    cn->have -= len;
    memmove(cn->buf, cn->buf + len, cn->have);
    return 0;
}

/* SUSPENDS.  Reads more request bytes into cn->buf: 0, or -1 when the
 * peer closed, reset, we were cancelled or the buffer is full. */
static int read_more(ts_conn *cn)
{
    if (cn->have == sizeof cn->buf)
        return -1; /* absurd head or chunk line: give up on this client */
    ssize_t got = io_read(cn->fd, cn->buf + cn->have, sizeof cn->buf - cn->have,
                          CORO_NEVER);
    if (got <= 0)
        return -1;
    cn->have += (size_t)got;
    return 0;
}

/* A growing body buffer, kept NUL-terminated. */
typedef struct ts_body {
    char *data;
    size_t len, cap;
} ts_body;

static int body_take(ts_conn *cn, ts_body *b, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, cn->buf, n);
    b->len += n;
    b->data[b->len] = '\0';
    cn->have -= n;
    memmove(cn->buf, cn->buf + n, cn->have);
    return 0;
}

/* SUSPENDS.  Moves the next n body bytes into b. */
static int read_body_bytes(ts_conn *cn, ts_body *b, uint64_t n)
{
    while (n > 0) {
        if (cn->have == 0 && read_more(cn) < 0)
            return -1;
        size_t take = cn->have < n ? cn->have : (size_t)n;
        if (body_take(cn, b, take) < 0)
            return -1;
        n -= take;
    }
    return 0;
}

/* SUSPENDS.  Reads one CRLF-ended line of cn->buf and drops it: its
 * value as hex into *size (for a chunk-size line). */
static int read_line(ts_conn *cn, uint64_t *size)
{
    char *eol;
    while ((eol = memchr(cn->buf, '\n', cn->have)) == NULL)
        if (read_more(cn) < 0)
            return -1;
    size_t n = (size_t)(eol - cn->buf) + 1;
    *size = strtoull(cn->buf, NULL, 16);
    bool blank = n == 2;
    cn->have -= n;
    memmove(cn->buf, cn->buf + n, cn->have);
    return blank ? 1 : 0;
}

/* SUSPENDS.  A chunked body, decoded (extensions and trailers dropped). */
static int read_chunked(ts_conn *cn, ts_body *b)
{
    uint64_t size, ignored;
    for (;;) {
        if (read_line(cn, &size) < 0)
            return -1;
        if (size == 0)
            break;
        if (read_body_bytes(cn, b, size) < 0 || read_line(cn, &ignored) < 0)
            return -1;
    }
    int blank;
    while ((blank = read_line(cn, &ignored)) == 0)
        ; /* trailer lines, up to the blank one */
    return blank < 0 ? -1 : 0;
}

/* SUSPENDS.  The body of the request whose head was just recorded, by its
 * Content-Length or chunked coding, recorded beside it. */
static int read_request_body(ts_conn *cn)
{
    testserver *ts = cn->ts;
    const char *head = ts->requests.items[ts->requests.n - 1];
    char value[64];
    ts_body b = {0};
    int rc = 0;
    if (ts_head_header(head, "Transfer-Encoding", value, sizeof value) > 0)
        rc = read_chunked(cn, &b);
    else if (ts_head_header(head, "Content-Length", value, sizeof value) > 0)
        rc = read_body_bytes(cn, &b, strtoull(value, NULL, 10));
    if (rc == 0 && !b.data)
        b.data = calloc(1, 1);
    if (rc < 0 || !b.data || ts_strings_add(&ts->bodies, b.data) < 0) {
        free(b.data);
        return -1;
    }
    ts->body_len[ts->bodies.n - 1] = b.len;
    return 0;
}

int ts_step_read_request(ts_conn *cn)
{
    size_t end;
    while ((end = head_end(cn->buf, cn->have)) == 0)
        if (read_more(cn) < 0)
            return STEP_STOP; /* closed, reset, cancelled or absurd */
    if (record_request(cn, end) < 0 || read_request_body(cn) < 0)
        return STEP_STOP;
    return STEP_NEXT;
}
