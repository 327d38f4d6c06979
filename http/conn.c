/* conn.c - connect and read: the socket side of a request.
 *
 * Errors from the runtime come as -1 and errno; this file turns them into
 * the client's HTTP_E* codes, deciding which deadline was the one that
 * passed: the request's total one, or the per-step one.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "conn.h"
#include <bareawait/io.h>
#include "resolve.h"

/* The first read buffer; it grows only for big heads.  Room for a 16 KiB
 * body with its head: a body that size, sent by the server right behind
 * its head, comes in one read and goes on to a sink (a gateway's reply) in
 * one piece, where a buffer of just 16 KiB would split it in two.  Pages
 * are touched only as bytes arrive, so a small reply costs no more. */
#define CONN_FIRST_BUF 32768

#define NS_PER_MS 1000000

int64_t ba_ms_to_ns(int64_t ms)
{
    if (ms > CORO_NEVER / NS_PER_MS)
        return CORO_NEVER;
    if (ms < -(CORO_NEVER / NS_PER_MS))
        return -CORO_NEVER;
    return ms * NS_PER_MS;
}

int64_t ba_step_deadline(const deadlines *dl, int64_t step_ns)
{
    if (step_ns < 0)
        return dl->total;
    int64_t now = coro_now();
    int64_t d = step_ns >= CORO_NEVER - now ? CORO_NEVER : now + step_ns;
    return d < dl->total ? d : dl->total;
}

/* ETIMEDOUT means the total deadline if that one has passed. */
static int timeout_code(const deadlines *dl, int step_code)
{
    return dl->total != CORO_NEVER && coro_now() >= dl->total ? HTTP_E_TOTAL_TIMEOUT
                                                               : step_code;
}

int ba_io_error(const deadlines *dl, int step_timeout, int other)
{
    switch (errno) {
    case ETIMEDOUT: return timeout_code(dl, step_timeout);
    case ECANCELED: return HTTP_E_CANCELLED;
    case ENOMEM:
    case ENOSPC: return HTTP_E_NOMEM; /* ENOSPC: epoll's watch limit */
    default: return other;
    }
}

void ba_emit(const http_client_opts *o, http_event ev, int fd, const char *detail)
{
    if (o->on_event)
        o->on_event(o->event_user, ev, fd, detail);
}

static void describe(const struct addrinfo *ai, char *out, size_t size)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ai->ai_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ai->ai_addr;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(out, size, "%s:%d", ip, port);
    } else {
        const struct sockaddr_in6 *a = (const void *)ai->ai_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(out, size, "[%s]:%d", ip, port);
    }
}

/* SUSPENDS.  One address: socket, non-blocking connect, wait.  The fd or
 * -1/errno. */
static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (io_connect(fd, ai->ai_addr, ai->ai_addrlen, deadline) < 0) {
        int saved = errno;
        coro_close(fd);
        errno = saved;
        return -1;
    }
    /* Requests go out in one write; do not let Nagle hold the next one. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int lookup(const char *host, uint16_t port, const deadlines *dl,
                  const http_client_opts *o, struct addrinfo **res)
{
    ba_emit(o, HTTP_EV_RESOLVING, -1, host);
    int gai_err;
    if (ba_resolve(host, port, ba_step_deadline(dl, dl->connect_ns), res, &gai_err) == 0)
        return 0;
    return ba_io_error(dl, HTTP_E_CONNECT_TIMEOUT, HTTP_E_RESOLVE);
}

int ba_conn_open(const char *host, uint16_t port, const deadlines *dl,
              const http_client_opts *o, struct conn **out)
{
    struct addrinfo *res;
    int err = lookup(host, port, dl, o, &res);
    if (err)
        return err;
    int64_t deadline = ba_step_deadline(dl, dl->connect_ns);
    char where[INET6_ADDRSTRLEN + 16];
    describe(res, where, sizeof where);
    ba_emit(o, HTTP_EV_RESOLVED, -1, where);
    int fd = -1, saved = ECONNREFUSED;
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        describe(ai, where, sizeof where);
        ba_emit(o, HTTP_EV_CONNECTING, -1, where);
        fd = connect_one(ai, deadline);
        saved = errno;
        if (fd < 0 && (saved == ETIMEDOUT || saved == ECANCELED))
            break; /* out of time: do not try the next address */
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = saved;
        return ba_io_error(dl, HTTP_E_CONNECT_TIMEOUT, HTTP_E_CONNECT);
    }
    ba_emit(o, HTTP_EV_CONNECTED, fd, where);
    struct conn *c = calloc(1, sizeof *c);
    if (!c || !(c->buf = malloc(CONN_FIRST_BUF)) ||
        !(c->headers = malloc(CONN_FIRST_HEADERS * sizeof *c->headers))) {
        if (c)
            free(c->buf);
        free(c);
        coro_close(fd);
        errno = ENOMEM;
        return HTTP_E_NOMEM;
    }
    c->fd = fd;
    c->cap = CONN_FIRST_BUF;
    c->max_headers = CONN_FIRST_HEADERS;
    *out = c;
    return 0;
}

void ba_conn_close(struct conn *c)
{
    if (!c)
        return;
    coro_close(c->fd);
    free(c->buf);
    free(c->headers);
    free(c);
}

long ba_conn_await_reply(struct conn *c, const deadlines *dl)
{
    switch (coro_wait(c->fd, CORO_READ, ba_step_deadline(dl, dl->read_ns))) {
    case CORO_WOKE_READY: return 0;
    case CORO_WOKE_TIMEOUT: errno = ETIMEDOUT; break;
    case CORO_WOKE_CANCELLED: errno = ECANCELED; break;
    case CORO_WOKE_FAILED: break; /* errno says why (ENOMEM) */
    }
    return ba_io_error(dl, HTTP_E_READ_TIMEOUT, HTTP_E_RESET);
}

long ba_conn_fill(struct conn *c, size_t limit, const deadlines *dl)
{
    /* io_read looks at the deadline only when it has to wait: a peer that
     * always has the next bytes ready would otherwise never time out. */
    if (dl->total != CORO_NEVER && coro_now() >= dl->total) {
        errno = ETIMEDOUT;
        return HTTP_E_TOTAL_TIMEOUT;
    }
    if (c->len == c->cap && c->cap < limit) {
        size_t cap = c->cap * 2 < limit ? c->cap * 2 : limit;
        char *grown = realloc(c->buf, cap);
        if (!grown) {
            errno = ENOMEM;
            return HTTP_E_NOMEM;
        }
        c->buf = grown;
        c->cap = cap;
    }
    ssize_t n = io_read(c->fd, c->buf + c->len, c->cap - c->len,
                        ba_step_deadline(dl, dl->read_ns));
    if (n >= 0) {
        c->len += (size_t)n;
        return n;
    }
    return ba_io_error(dl, HTTP_E_READ_TIMEOUT, HTTP_E_RESET); /* ECONNRESET... */
}

void ba_conn_consume(struct conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

int ba_conn_grow_headers(struct conn *c, size_t max_head)
{
    size_t most = max_head / (sizeof "a:\n" - 1) + 1; /* the shortest line (bare LF) */
    if (c->max_headers >= most)
        return HTTP_E_HEAD_TOO_LARGE;
    size_t n = c->max_headers * 2 < most ? c->max_headers * 2 : most;
    http_header *grown = realloc(c->headers, n * sizeof *grown);
    if (!grown) {
        errno = ENOMEM;
        return HTTP_E_NOMEM;
    }
    c->headers = grown;
    c->max_headers = n;
    return 0;
}
