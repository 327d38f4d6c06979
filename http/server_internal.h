/* server_internal.h - what the files of http_server share (server.h is
 * the contract).  Internal to http/.
 *
 *   server.c        open, listen, the accept loop, stop and the drain
 *   server_conn.c   a connection's coroutine: heads, the handler, keep-alive
 *   server_body.c   a request's body: Content-Length, chunked, Expect
 *   server_reply.c  answers: heads, one writev, streams, the server's own
 *
 * Calls go one way: server.c -> server_conn.c -> server_body.c ->
 * server_reply.c.
 */
#ifndef BAREAWAIT_SERVER_INTERNAL_H
#define BAREAWAIT_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <bareawait/coro.h>
#include <bareawait/server.h>
#include "parse.h"

/* ---- the answer to one request ---- */

/* Where an answer is (http_server_reply.state):
 *   REPLY_NONE      nothing sent or started: http_reply_header, http_reply
 *                   and http_reply_start may come
 *   REPLY_PENDING   a stream started, its head not sent yet
 *   REPLY_STREAMING a stream whose head went out
 *   REPLY_DONE      the whole answer went out
 *   REPLY_FAILED    a write failed (err says why): the connection closes
 *   REPLY_OVER      the handler returned: any call is API misuse */
enum { REPLY_NONE, REPLY_PENDING, REPLY_STREAMING, REPLY_DONE, REPLY_FAILED, REPLY_OVER };

/* How a streamed body is delimited. */
enum { STREAM_LENGTH, STREAM_CHUNKED, STREAM_UNTIL_CLOSE };

#define BA_REPLY_FIXED_MAX 160   /* status line + Date, or framing + Connection */
#define BA_REPLY_EXTRA_MAX ((size_t)64 * 1024) /* the handler's header lines */

struct ba_srv_conn;

struct http_server_reply {
    struct ba_srv_conn *conn;
    int state;            /* REPLY_* */
    int status;
    int mode;             /* STREAM_*: how a stream's body is delimited */
    int64_t length;       /* STREAM_LENGTH: the bytes promised... */
    int64_t sent;         /* ...and written so far */
    bool head_only;       /* a HEAD request: no body bytes go out */
    bool close;           /* say Connection: close, and close after */
    bool head_sent;       /* the head went out (or its send failed) */
    int err;              /* REPLY_FAILED: the write's errno */
    char *extra;          /* header lines from http_reply_header, CRLF each */
    size_t extra_len, extra_cap;
    char head[BA_REPLY_FIXED_MAX];  /* built when sent: status line, Date... */
    size_t head_len;
    char tail[BA_REPLY_FIXED_MAX];  /* ...and framing, Connection, blank line */
    size_t tail_len;
    char chunk_line[24];  /* a chunk's size line, while it is sent */
};

/* ---- one connection ---- */

typedef struct ba_srv_conn {
    http_server *srv;
    int fd;
    coro_t *co;                    /* its coroutine (detached) */
    struct ba_srv_conn *prev, *next;  /* on srv->conns */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    bool idle;                     /* parked for a request's first byte: stop
                                      closes it at once */
    bool cancelled;                /* the server cancelled it (drain deadline) */
    bool first;                    /* no request answered yet */
    int64_t accepted_ns;           /* when it was accepted */
    char *buf;                     /* what was read: the head, then what follows */
    size_t cap, have;
    http_header *fields;           /* the parser's array... */
    http_server_field *pub;        /* ...and the handler's, as many */
    size_t fields_cap;
    char *body;                    /* the request's body, NUL-terminated */
    size_t body_cap;
    http_server_request req;
    http_server_reply reply;
} ba_srv_conn;

struct http_server {
    int lfd;                       /* listening socket, -1 once closed */
    int port;
    pthread_t owner;               /* the thread that opened it */
    http_server_opts opts;         /* the caller's, defaults filled in */
    http_handler handler;
    void *user;
    coro_t *runner;                /* the coroutine in http_server_run */
    bool ran;                      /* http_server_run has returned once */
    bool stopping;                 /* http_server_stop was called */
    int64_t drain_deadline;        /* when stopping: cancel what is left */
    ba_srv_conn *conns;            /* open connections */
    int open;                      /* how many */
};

/* Tells opts.on_event, if set. */
static inline void ba_srv_emit(const http_server *s, http_server_event ev, int fd,
                               const char *detail)
{
    if (s->opts.on_event)
        s->opts.on_event(s->opts.event_user, ev, fd, detail);
}

/* ---- server_conn.c ---- */

/* The body of a connection's coroutine: arg is a ba_srv_conn already on
 * the server's list, fd and peer set.  Serves requests until the
 * connection ends, then closes it, leaves the list, wakes the runner if it
 * drains, and frees the connection.  SUSPENDS (it is a coroutine). */
void *ba_srv_conn_main(void *arg);

/* ---- server_body.c ---- */

/* SUSPENDS.  Reads the body of the request whose head is buf[0..head_len)
 * into c->body, by its framing f, by `deadline`; afterwards c->req.body
 * and body_len are set and *end is where the body ended in c->buf (the
 * next request starts there).  Sends "100 Continue" first when the head
 * asks for it.  Returns 0; or a status to answer (400, 408, 413, 417);
 * or -1 when the connection must end quietly (closed, reset, cancelled,
 * out of memory). */
int ba_srv_read_body(ba_srv_conn *c, size_t head_len, const http_framing *f,
                     int64_t deadline, size_t *end);

/* ---- server_reply.c ---- */

/* Makes c->reply ready for a new request (head_only for HEAD; close when
 * the request does not keep the connection alive). */
void ba_srv_reply_begin(ba_srv_conn *c, bool head_only, bool close);

/* After the handler returned `rc`: ends a stream left open, or answers
 * 500 when nothing was sent.  Returns true if the connection may carry
 * another request. */
bool ba_srv_reply_finish(ba_srv_conn *c, int rc);

/* SUSPENDS.  The server's own answer: status, its reason as a one-line
 * text body, Connection: close.  Tells on_event.  0 or -1/errno. */
int ba_srv_reply_error(ba_srv_conn *c, int status);

/* SUSPENDS.  Writes iov[0..n) whole to c's socket (changing iov), each
 * stall allowed write_timeout_ms.  0 or -1/errno. */
int ba_srv_send(ba_srv_conn *c, struct iovec *iov, int n);

/* The reason phrase of a status ("Not Found"), "" for one we do not know. */
const char *ba_srv_reason(int status);

#endif
