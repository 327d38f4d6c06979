/* server_test.h - what the http_server test programs share.
 *
 * test_server.c (requests, answers, keep-alive), test_server_limits.c
 * (each limit and the answer it gets) and test_server_hostile.c (clients
 * that misbehave, graceful stop) each run cases as coroutines against a
 * server on the loopback, talking to it through the project's client or
 * through raw sockets, which can send what no client would.  Header-only,
 * like check.h: failures count in the including program's check_failures.
 *
 *     st_server sv;
 *     st_up(&sv, &(http_server_opts){.max_body_bytes = 10}, st_echo, NULL);
 *     int fd = st_connect(AF_INET, sv.port);
 *     st_send(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 *     ...
 *     st_down(&sv);
 */
#ifndef BAREAWAIT_SERVER_TEST_H
#define BAREAWAIT_SERVER_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/io.h>
#include <bareawait/server.h>
#include "parse.h"
#include "testserver.h"

/* Upper bounds on elapsed times are multiplied by this under valgrind or
 * ASan, which slow everything down. */
static inline int st_slow(void)
{
    return ts_slow_tools() ? 5 : 1;
}

/* ---- a server under test ---- */

typedef struct st_server {
    http_server *s;
    coro_t *runner;      /* the coroutine in http_server_run */
    int port;
    int run_rc;          /* what http_server_run returned */
    int accepted;        /* HTTP_SERVER_EV_ACCEPTED so far */
    int refused;         /* HTTP_SERVER_EV_REFUSED */
    int closed;          /* HTTP_SERVER_EV_CLOSED */
    char last_closed[96];/* the last CLOSED event's reason */
} st_server;

static inline void st_event(void *user, http_server_event ev, int fd, const char *detail)
{
    st_server *sv = user;
    (void)fd;
    if (ev == HTTP_SERVER_EV_ACCEPTED)
        sv->accepted++;
    if (ev == HTTP_SERVER_EV_REFUSED)
        sv->refused++;
    if (ev == HTTP_SERVER_EV_CLOSED) {
        sv->closed++;
        snprintf(sv->last_closed, sizeof sv->last_closed, "%s", detail);
    }
}

static inline void *st_run(void *arg)
{
    st_server *sv = arg;
    sv->run_rc = http_server_run(sv->s);
    return NULL;
}

/* Opens a server with opts (NULL: defaults; on_event is taken for the
 * counters) and spawns the coroutine that runs it.  0 or -1. */
static inline int st_up(st_server *sv, const http_server_opts *opts, http_handler h, void *user)
{
    http_server_opts o = opts ? *opts : (http_server_opts){0};
    memset(sv, 0, sizeof *sv);
    o.on_event = st_event;
    o.event_user = sv;
    sv->s = http_server_open(&o, h, user);
    if (!CHECK(sv->s != NULL))
        return -1;
    sv->port = http_server_port(sv->s);
    sv->runner = coro_spawn(st_run, sv, &(coro_opts){.name = "st-runner"});
    return CHECK(sv->runner != NULL) ? 0 : -1;
}

/* SUSPENDS.  Stops the server (connections get `drain_ms` to finish),
 * waits for http_server_run to return, and closes the server. */
static inline void st_down_within(st_server *sv, int64_t drain_ms)
{
    http_server_stop(sv->s, coro_deadline_in(drain_ms));
    coro_join(sv->runner, NULL);
    CHECK_INT(sv->run_rc, 0);
    http_server_close(sv->s);
}

static inline void st_down(st_server *sv)
{
    st_down_within(sv, 0);
}

/* ---- handlers ---- */

/* Answers "METHOD PATH body=N:BODY" as text/plain. */
static inline int st_echo(const http_server_request *req, http_server_reply *reply, void *user)
{
    (void)user;
    size_t cap = req->body_len + 256;
    char *out = malloc(cap);
    if (!out)
        return -1;
    int n = snprintf(out, cap, "%s %s body=%zu:", req->method, req->path, req->body_len);
    memcpy(out + n, req->body, req->body_len);
    int rc = http_reply(reply, 200, "text/plain", out, (size_t)n + req->body_len);
    free(out);
    return rc;
}

/* ---- a raw client ---- */

/* SUSPENDS.  A connected non-blocking socket to the loopback of `family`
 * at port, or -1. */
static inline int st_connect(int family, int port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons((uint16_t)port);
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = htons((uint16_t)port);
        len = sizeof *a;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!CHECK(fd >= 0))
        return -1;
    if (!CHECK(io_connect(fd, (struct sockaddr *)&ss, len, coro_deadline_in(2000)) == 0)) {
        coro_close(fd);
        return -1;
    }
    return fd;
}

/* SUSPENDS.  Sends the string whole.  0 or -1. */
static inline int st_send(int fd, const char *s)
{
    size_t n = strlen(s);
    return io_send(fd, s, n, coro_deadline_in(2000)) == (ssize_t)n ? 0 : -1;
}

/* How a read ended. */
enum { ST_EOF, ST_RESET, ST_TIMEOUT, ST_FULL };

/* SUSPENDS.  Reads into buf[0..cap) (NUL-terminated: cap - 1 bytes at
 * most) until the server closes, resets, cap is reached or `ms` pass.
 * Returns how it ended; *len the bytes read. */
static inline int st_read_all(int fd, char *buf, size_t cap, int64_t ms, size_t *len)
{
    int64_t deadline = coro_deadline_in(ms);
    *len = 0;
    for (;;) {
        if (*len + 1 >= cap) {
            buf[*len] = '\0';
            return ST_FULL;
        }
        ssize_t n = io_read(fd, buf + *len, cap - 1 - *len, deadline);
        if (n <= 0) {
            buf[*len] = '\0';
            return n == 0 ? ST_EOF : errno == ETIMEDOUT ? ST_TIMEOUT : ST_RESET;
        }
        *len += (size_t)n;
    }
}

/* One answer taken from a stream of them. */
typedef struct st_answer {
    int status;
    char head[1024];    /* the head, NUL-terminated (cut at 1023 bytes) */
    char body[4096];    /* the body, decoded, NUL-terminated (cut) */
    size_t body_len;
} st_answer;

/* Takes the answer at buf[*at..len): its status, head and body (by
 * Content-Length or chunked; HEAD answers have none when head_only).
 * Returns 1 and moves *at past it, or 0 if there is none complete there. */
static inline int st_next_answer(const char *buf, size_t len, size_t *at, bool head_only,
                                 st_answer *a)
{
    http_header h[64];
    size_t n = 64, reason_len;
    int minor;
    const char *reason;
    const char *p = buf + *at;
    size_t left = len - *at;
    int head = http_parse_response(p, left, 0, &minor, &a->status, &reason, &reason_len, h, &n);
    if (head <= 0)
        return 0;
    snprintf(a->head, sizeof a->head, "%.*s", head, p);
    http_framing f;
    if (http_framing_of(a->status, head_only, minor, h, n, &f) != 0)
        return 0;
    size_t used = (size_t)head;
    a->body_len = 0;
    if (f.kind == HTTP_BODY_LENGTH || f.kind == HTTP_BODY_CLOSE) {
        size_t blen = f.kind == HTTP_BODY_LENGTH ? (size_t)f.length : left - used;
        if (left - used < blen)
            return 0;
        a->body_len = blen < sizeof a->body - 1 ? blen : sizeof a->body - 1;
        memcpy(a->body, p + used, a->body_len);
        used += blen;
    } else if (f.kind == HTTP_BODY_CHUNKED) {
        http_chunked ch = {0};
        while (used < left && !http_chunked_done(&ch)) {
            const char *data;
            size_t dn;
            long r = http_chunked_feed(&ch, p + used, left - used, &data, &dn);
            if (r < 0)
                return 0;
            if (a->body_len + dn < sizeof a->body) {
                memcpy(a->body + a->body_len, data, dn);
                a->body_len += dn;
            }
            used += (size_t)r;
        }
        if (!http_chunked_done(&ch))
            return 0;
    }
    a->body[a->body_len] = '\0';
    *at += used;
    return 1;
}

/* Whether a head holds the line `line` ("Connection: close"). */
static inline bool st_head_has(const st_answer *a, const char *line)
{
    char want[256];
    snprintf(want, sizeof want, "\r\n%s\r\n", line);
    return strstr(a->head, want) != NULL;
}

/* ---- running a case ---- */

/* Runs fn in a coroutine with its own runtime (coro_run), and checks that
 * the process has as many fds open afterwards as before. */
static inline void st_run_case(void *(*fn)(void *))
{
    int fds = check_count_fds();
    if (!CHECK(coro_spawn(fn, NULL, &(coro_opts){.name = "case"}) != NULL))
        return;
    CHECK_INT(coro_run(), 0);
    CHECK_INT(check_count_fds(), fds);
}

#endif
