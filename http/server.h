/* server.h - an HTTP/1.1 server on coroutines: the C behind
 *
 *     @app.get("/{path}")                            handler(req, reply, user)
 *     async def endpoint(path):
 *         r = await client.get(UPSTREAM + path)          http_get(...) -- SUSPENDS
 *         return Response(r.content, r.status_code)      http_reply(reply, ...)
 *     uvicorn.run(app, host="127.0.0.1", port=8080)  http_server_open + http_server_run
 *
 * One coroutine (the one that calls http_server_run) accepts; each
 * connection gets a coroutine of its own, which reads requests one after
 * another (keep-alive, pipelining: answers go out in order), reads each
 * request's body whole, and calls the handler on that coroutine.  A
 * handler may therefore call SUSPENDS functions -- http_get on a client
 * shared by every connection is the seed's case -- and only its own
 * connection waits meanwhile.
 *
 * Threads: a server belongs to the thread that opened it; its connections
 * are that thread's coroutines.  http_server_run, http_server_stop and
 * http_server_close on another thread stop the program (API misuse).  For
 * a listener per thread, open one server per thread with reuse_port.
 *
 * Errors: -1 and errno, NULL and errno, or the documented answer sent to
 * the client.  API misuse -- breaking a contract below that says so --
 * prints "bareawait: CALL: WHAT (API misuse)" and aborts, in every build.
 *
 * What the server answers by itself, with "Connection: close", closing the
 * connection after it (each limit is an option below):
 *   400  a head the request parser refuses (parse.h lists the rules: bare
 *        LF or CR, obs-fold, space before a colon, no or two Host lines,
 *        Content-Length with Transfer-Encoding, a bad Content-Length, a
 *        Transfer-Encoding not ending in chunked), a bad chunked body (a
 *        bare LF or a blank after a size in its framing included)
 *   408  the head did not arrive within header_timeout_ms (after its
 *        first byte), or the body within body_timeout_ms
 *   413  a body above max_body_bytes (a Content-Length above it is
 *        answered before a byte of the body is read)
 *   417  an Expect other than 100-continue
 *   431  a head above max_head_bytes or with more than max_headers fields
 *   500  a handler that returned without a reply (or -1 before replying)
 *   501  a Transfer-Encoding with another coding before chunked
 *   503  a connection beyond max_connections (answered without reading)
 *   505  a version other than HTTP/1.0 and HTTP/1.1
 * After an answer of its own the server stops writing and reads (and
 * drops) what the client still sends for up to a second, so that the
 * client gets the answer before the close instead of a reset.
 * A connection idle past idle_timeout_ms, a client that stops reading for
 * write_timeout_ms, and a client that closes or resets are closed without
 * an answer.  For "Expect: 100-continue" the server sends "100 Continue"
 * before it reads the body.
 */
#ifndef BAREAWAIT_HTTP_SERVER_H
#define BAREAWAIT_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct http_server http_server;             /* opaque */
typedef struct http_server_reply http_server_reply; /* opaque: one request's answer */

/* One header field of a request.  Both strings are NUL-terminated and
 * point into the connection's buffer. */
typedef struct http_server_field {
    const char *name;   /* as sent (case preserved) */
    const char *value;  /* leading and trailing blanks removed; may be "" */
} http_server_field;

/* A request, valid until the handler returns.  Every string is
 * NUL-terminated and owned by the server. */
typedef struct http_server_request {
    const char *method;       /* "GET", as sent (methods are case-sensitive) */
    const char *target;       /* the request-target as sent: "/a?b=1",
                                 "http://host/a" (to a proxy), "host:443"
                                 (CONNECT), "*" (OPTIONS) */
    const char *path;         /* the target's path and query: the target
                                 itself, but for absolute-form the part from
                                 the first '/' after the authority ("" if
                                 none: "http://host") */
    int minor_version;        /* 0 or 1: HTTP/1.0, HTTP/1.1 */
    const http_server_field *headers;
    size_t num_headers;
    const char *body;         /* the whole body, read before the handler
                                 runs ("" if none); a NUL follows it, and it
                                 may hold NULs of its own */
    size_t body_len;
    const struct sockaddr *peer;  /* the client's address */
    socklen_t peer_len;
} http_server_request;

/* The value of the first header called `name` (ASCII case ignored), or
 * NULL if there is none. */
const char *http_server_header(const http_server_request *req, const char *name);

/* Called on the connection's coroutine for each request, in order.  It
 * answers with http_reply, or with http_reply_start, http_reply_write...
 * and http_reply_end, and may suspend as it likes meanwhile.  Returns 0
 * when it answered; a stream started and not ended is then ended as
 * http_reply_end would.  Returns -1 on failure: with nothing sent yet, the
 * server answers 500 (the connection stays open if the request allowed
 * it); with a stream under way, the connection is closed, so the client
 * sees a body cut short.  Returning 0 without any reply is answered 500
 * too.  `req` and `reply` are valid only until it returns.  When the
 * server cancels its connection (http_server_stop's deadline), the
 * handler's waits return ECANCELED (HTTP_E_CANCELLED from http_send): it
 * should return then, and its connection is closed without an answer. */
typedef int (*http_handler)(const http_server_request *req, http_server_reply *reply,
                            void *user);

/* ---- answering ----
 * A handler answers once: one http_reply, or one stream.  Calls on a
 * reply whose handler has returned (caught until the connection's next
 * request comes: the reply is that request's then), a second answer, a
 * status outside
 * 200..999, http_reply_write or http_reply_end without http_reply_start,
 * and a body for a 204 or 304 stop the program (API misuse).  For a HEAD
 * request the head goes out as for GET (Content-Length included) and the
 * body bytes are dropped.  The server adds Date, Content-Length or
 * Transfer-Encoding, and Connection when it must (close, or HTTP/1.0
 * keep-alive).  Write failures are -1 with errno: EPIPE or ECONNRESET
 * (the client left), ETIMEDOUT (it read nothing for write_timeout_ms),
 * ECANCELED (the server is being stopped); the connection is then closed
 * after the handler returns, and later writes fail the same way. */

/* Adds a header line to the answer, before it is sent.  name is a token,
 * value has no control byte but tab; Content-Length, Transfer-Encoding
 * and Date are the server's (EINVAL), and Connection may only be "close"
 * (the connection is then closed after the answer).  Both are copied.
 * 0, or -1 with errno EINVAL (or ENOMEM, or EMSGSIZE past 64 KiB of
 * header lines).  Does not suspend. */
int http_reply_header(http_server_reply *reply, const char *name, const char *value);

/* SUSPENDS.  Sends the whole answer -- status line, headers and body[0..len)
 * -- in one writev (more only when the socket takes it in parts).
 * content_type may be NULL (no Content-Type line); it follows
 * http_reply_header's rules.  body is borrowed for the call.  0, or -1
 * with errno (EINVAL for a bad content_type; nothing is sent then). */
int http_reply(http_server_reply *reply, int status, const char *content_type,
               const void *body, size_t len);

/* Starts a streamed answer, for a body produced piece by piece (an
 * upstream's body as it comes): content_length >= 0 sends it as is, with
 * that Content-Length; -1 (not known) sends it chunked to an HTTP/1.1
 * client, and to an HTTP/1.0 one until the connection closes.  Nothing
 * goes out yet: the head leaves with the first http_reply_write (or
 * http_reply_end), in the same writev.  0, or -1/EINVAL for a bad
 * content_type or a content_length below -1.  Does not suspend. */
int http_reply_start(http_server_reply *reply, int status, const char *content_type,
                     int64_t content_length);

/* SUSPENDS.  Sends data[0..len) of a started answer (the head first, if
 * it has not gone yet), as one chunk when chunked; returns when the socket
 * has taken all of it, so memory stays the caller's buffer.  len 0 does
 * nothing.  0, or -1 with errno; EMSGSIZE if it would pass the
 * content_length given (nothing of it is sent, and the connection will
 * be closed). */
int http_reply_write(http_server_reply *reply, const void *data, size_t len);

/* SUSPENDS.  Ends a started answer: the last chunk when chunked (the head
 * first, if nothing was written).  0, or -1 with errno; EMSGSIZE when
 * fewer bytes than the content_length were written (the connection is
 * then closed, so the client sees the body cut short). */
int http_reply_end(http_server_reply *reply);

/* ---- the server ---- */

/* What a server saw, for tools that show it (a gateway's --trace). */
typedef enum http_server_event {
    HTTP_SERVER_EV_ACCEPTED,  /* a connection came and has its coroutine;
                                 detail: the client's "address:port" */
    HTTP_SERVER_EV_REFUSED,   /* max_connections reached: answered 503 and
                                 closed at once; detail: the client */
    HTTP_SERVER_EV_REQUEST,   /* a request's head and body are in; detail:
                                 its request line */
    HTTP_SERVER_EV_ANSWERED,  /* the server answered by itself; detail:
                                 "431 Request Header Fields Too Large" */
    HTTP_SERVER_EV_CLOSED     /* the connection closed; detail: why ("the
                                 client closed", "idle", "write timeout") */
} http_server_event;

/* fd is the connection's socket.  Runs on the coroutine concerned; it
 * must not suspend. */
typedef void (*http_server_event_fn)(void *user, http_server_event ev, int fd,
                                     const char *detail);

typedef struct http_server_opts {
    const char *listen;         /* "ADDRESS:PORT", numeric: "127.0.0.1:8080",
                                   "0.0.0.0:80", "[::1]:8080", "[::]:80" (IPv6
                                   only: a v4 listener is a second server);
                                   port 0 = any free port (http_server_port
                                   says which); NULL = "127.0.0.1:0" */
    bool reuse_port;            /* SO_REUSEPORT: several servers (one per
                                   thread) on one port, the kernel spreading
                                   connections among them */
    int backlog;                /* listen()'s queue; 0 = SOMAXCONN */
    size_t max_head_bytes;      /* request line + headers; 0 = 16 KiB; 431 */
    size_t max_headers;         /* header fields per request; 0 = 100; 431 */
    size_t max_body_bytes;      /* a request's body; 0 = 1 MiB; 413 */
    int64_t header_timeout_ms;  /* the whole head, from the connection's
                                   accept for its first request, from the
                                   first byte for the next ones (a slowloris
                                   trickling a byte at a time gains nothing);
                                   0 = 10000, <0 = none; 408 */
    int64_t body_timeout_ms;    /* the whole body, from the end of the head;
                                   0 = 60000, <0 = none; 408 */
    int64_t idle_timeout_ms;    /* a kept-alive connection waiting for the
                                   first byte of its next request; 0 = 60000,
                                   <0 = none; closed */
    int64_t write_timeout_ms;   /* an answer's write making no progress (the
                                   client does not read); 0 = 30000, <0 =
                                   none; closed */
    int max_connections;        /* open at once; 0 = 10000; 503 beyond */
    size_t stack_size;          /* each connection's coroutine (its handler
                                   runs there); 0 = CORO_DEFAULT_STACK */
    const char *conn_name;      /* the connections' coroutine name; NULL =
                                   "http-conn"; borrowed */
    http_server_event_fn on_event;  /* optional */
    void *event_user;
} http_server_opts;

/* Opens a server: binds opts->listen, listens (TCP_NODELAY is set on each
 * accepted connection: an answer is written whole, so nothing is gained by
 * waiting), and returns it, not accepting yet: http_server_run does.  opts
 * may be NULL (all defaults); it is copied (conn_name is borrowed).
 * handler (not NULL: API misuse) gets `user` with each request.  Returns
 * NULL with errno: EINVAL (a malformed listen address), EADDRINUSE,
 * EACCES, EMFILE, ENOMEM...  Does not suspend: main() may call it. */
http_server *http_server_open(const http_server_opts *opts, http_handler handler,
                              void *user);

/* The port the server listens on (the one the kernel chose for port 0).
 * Any thread. */
int http_server_port(const http_server *s);

/* SUSPENDS.  Accepts and serves, on the calling coroutine, until
 * http_server_stop has been called and every connection is gone (the
 * drain: see there).  Returns 0 then.  If the calling coroutine is
 * cancelled (while it accepts or while it drains), it stops at once --
 * every connection still open is cancelled, and waited for -- and returns
 * -1/ECANCELED.  An accept error that is not
 * passing (EMFILE, ENFILE, ENOBUFS and ENOMEM are: it waits 10 ms and
 * tries again) ends it the same way, with that errno.  Called again after
 * it returned, it returns 0 at once.  Called from outside a coroutine, or
 * while another call runs, it stops the program (API misuse). */
int http_server_run(http_server *s);

/* Stops the server gracefully: no more connections are accepted (the
 * listening socket is closed), connections waiting idle for a request
 * are closed at once, and the others finish the request they are in --
 * answered with "Connection: close" -- until drain_deadline_ns (on
 * coro_now's clock; CORO_NEVER: no deadline).  At the deadline, the
 * connections still open are cancelled (their handlers see ECANCELED) and
 * closed.  http_server_run returns once all are gone.  A later call may
 * bring the deadline closer, never push it back.  Does not suspend: any
 * code on the server's thread may call it (a coroutine of its own, a
 * handler, main() before coro_run). */
void http_server_stop(http_server *s, int64_t drain_deadline_ns);

/* Frees the server (and closes its listening socket if still open).
 * http_server_run must have returned, or never been called.  NULL does
 * nothing.  Does not suspend. */
void http_server_close(http_server *s);

#ifdef __cplusplus
}
#endif
#endif
