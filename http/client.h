/* client.h - an HTTP/1.1 client on non-blocking sockets: the C behind
 *
 *     async with httpx.AsyncClient() as client:      http_client_open()
 *         response = await client.get(url)           http_get() -- SUSPENDS
 *     return response.text                           resp->body
 *                                                    http_client_close()
 *
 * A request walks through resolve (DNS on a worker thread), connect, send,
 * and an incremental parse of the reply; every step that would block parks
 * only the calling coroutine.  Any number of coroutines may use one client
 * at once; connections are kept alive and reused per host:port.
 *
 * Threads: a client belongs to the thread that opened it (its connections
 * are watched by that thread's runtime, coro.h).  Each thread that runs a
 * runtime opens a client of its own; calling http_send or
 * http_client_close on another thread's client stops the program (API
 * misuse).  The name lookups run on coro_offload's workers (offload.h).
 *
 * Errors: calls return 0 or one of the negative HTTP_E* codes below;
 * http_strerror() names it.  After http_send (http_get) fails, errno is
 * the system's reason where there was one, else 0 -- never a stale value:
 *   HTTP_E_CONNECT          connect's errno (ECONNREFUSED, ENETUNREACH,
 *                           EMFILE when out of fds...)
 *   HTTP_E_RESET            ECONNRESET, EPIPE
 *   HTTP_E_*_TIMEOUT        ETIMEDOUT
 *   HTTP_E_CANCELLED        ECANCELED
 *   HTTP_E_NOMEM            ENOMEM (also when epoll could not watch the
 *                           socket: a wait that cannot be registered is
 *                           an error, ENOMEM or ENOSPC, never a spin)
 *   HTTP_E_SEND_BODY        what the body_source left in errno (0 if it
 *                           set none; ETIMEDOUT past the deadline and
 *                           ECANCELED are TOTAL_TIMEOUT and CANCELLED)
 *   HTTP_E_RESOLVE          EAGAIN when no worker thread for the lookup
 *                           was free and none could be started,
 *                           EMFILE/ENFILE when out of fds; 0 when the name
 *                           does not resolve
 *   every other code        0 (the reply or the request was wrong, not
 *                           the system: MALFORMED, TRUNCATED...)
 */
#ifndef BAREAWAIT_HTTP_CLIENT_H
#define BAREAWAIT_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every way a request can fail.  fetch maps each to curl's exit code. */
enum {
    HTTP_OK = 0,
    HTTP_E_SCHEME = -1,           /* not http:// (https, ftp, ...): TLS is out of scope */
    HTTP_E_URL = -2,              /* malformed URL */
    HTTP_E_RESOLVE = -3,          /* host name did not resolve */
    HTTP_E_CONNECT = -4,          /* no address accepted the connection */
    HTTP_E_CONNECT_TIMEOUT = -5,  /* connect_timeout_ms passed while connecting */
    HTTP_E_READ_TIMEOUT = -6,     /* read_timeout_ms passed with no byte received */
    HTTP_E_TOTAL_TIMEOUT = -7,    /* total_timeout_ms passed for the whole request */
    HTTP_E_MALFORMED = -8,        /* not HTTP, bad status line, header, chunk or length */
    HTTP_E_HEAD_TOO_LARGE = -9,   /* response head above max_head_bytes */
    HTTP_E_TRUNCATED = -10,       /* body ended before its announced length */
    HTTP_E_RESET = -11,           /* connection reset, or broken while sending */
    HTTP_E_EMPTY_REPLY = -12,     /* closed without sending a single byte */
    HTTP_E_TOO_MANY_REDIRECTS = -13,
    HTTP_E_BODY_TOO_LARGE = -14,  /* body above the request's max_body */
    HTTP_E_NOMEM = -15,           /* out of memory */
    HTTP_E_ABORTED = -16,         /* a callback (on_head, sink) asked to stop */
    HTTP_E_CANCELLED = -17,       /* the calling coroutine was cancelled */
    HTTP_E_BAD_REQUEST = -18,     /* bad method or header in the request itself */
    HTTP_E_UNSUPPORTED_CODING = -19, /* a Transfer-Encoding other than chunked (gzip...) */
    HTTP_E_NOT_REPLAYABLE = -20,  /* a 307/308 (or a retry) needs the request body
                                     again, but it came from a body_source */
    HTTP_E_SEND_BODY = -21,       /* the request's body_source failed (returned -1) */
    HTTP_E_SEND_BODY_SHORT = -22, /* body_source ended before body_length bytes */
    HTTP_E_SEND_BODY_LONG = -23   /* body_source gave more than body_length bytes */
};

/* A short, lower-case message for an HTTP_E* code ("connection refused"
 * is errno's; this says "could not connect"). */
const char *http_strerror(int err);

/* Step-by-step events of a request, for tools that show them (fetch --trace). */
typedef enum http_event {
    HTTP_EV_RESOLVING,      /* detail: the host name being looked up */
    HTTP_EV_RESOLVED,       /* detail: the first address found */
    HTTP_EV_CONNECTING,     /* detail: "address:port" */
    HTTP_EV_CONNECTED,      /* detail: "address:port" */
    HTTP_EV_REUSED,         /* an idle kept-alive connection was taken */
    HTTP_EV_REQUEST_SENT,   /* detail: the request line */
    HTTP_EV_HEAD_RECEIVED,  /* detail: the status line */
    HTTP_EV_BODY_DONE,      /* detail: the body size in bytes */
    HTTP_EV_REDIRECT,       /* detail: the new URL */
    HTTP_EV_FIRST_BYTE      /* the first byte of a reply arrived, once per
                               hop (fetch -w %{time_starttransfer});
                               detail: NULL */
} http_event;

/* fd is the connection's socket, or -1 while there is none yet (RESOLVING,
 * RESOLVED, CONNECTING) and for REDIRECT. */
typedef void (*http_event_fn)(void *user, http_event ev, int fd, const char *detail);

typedef struct http_client_opts {
    int64_t connect_timeout_ms; /* resolve + connect; 0 = 10000, <0 = none */
    int64_t read_timeout_ms;    /* longest silence while waiting for bytes;
                                   0 = 30000, <0 = none */
    int64_t total_timeout_ms;   /* whole request incl. redirects; 0 or <0 = none */
    int max_per_host;           /* connections per host:port; more requests
                                   wait their turn; 0 = 10 */
    int64_t idle_timeout_ms;    /* a kept-alive connection idle this long is
                                   closed, even with no further request: by
                                   one coroutine of the client's own
                                   ("http-idle"), which sleeps until the next
                                   expiry and ends when nothing is idle;
                                   http_client_close stops it at once, and a
                                   program that never closes its client still
                                   ends, at most this long after its last
                                   request; 0 = 5000 */
    bool follow_redirects;      /* follow 301/302/303/307/308 */
    int max_redirects;          /* when following; 0 = 20; <0 = none allowed
                                   (the first redirect is an error) */
    const char *user_agent;     /* NULL = "bareawait/VERSION"; copied; a
                                   control byte other than tab (CR, LF...)
                                   in it is EINVAL from http_client_open */
    size_t max_head_bytes;      /* response status line + headers; 0 = 64 KiB */
    http_event_fn on_event;     /* optional step-by-step events */
    void *event_user;
    const char *proxy;          /* a plain-HTTP proxy, or NULL: "http://host[:port]"
                                   or curl's bare "host[:port]" (port 80 if
                                   none); a "user:password@" in it (percent-
                                   decoded; no ':' = empty password) is sent
                                   to the proxy as Proxy-Authorization:
                                   Basic, never to an origin reached
                                   directly; a path or query after the
                                   authority is ignored.  Requests go to it
                                   in absolute form ("GET http://h/p
                                   HTTP/1.1") with the origin's Host;
                                   connections are pooled per proxy; copied */
    const char *no_proxy;       /* comma-separated hosts reached directly: a
                                   name matches itself and its subdomains
                                   ("example.com" covers a.example.com),
                                   case-insensitively, a trailing '.' on
                                   the name or the host ignored
                                   ("localhost." is localhost); IP literals
                                   compare as written, and an IPv4 one
                                   falls in an "a.b.c.d/bits" entry (no
                                   IPv6 ranges); blanks around entries and
                                   a leading '.' are ignored; the whole
                                   value "*" = all (a "*" entry among
                                   others matches nothing); copied */
} http_client_opts;

typedef struct http_client http_client; /* opaque */

/* Opens a client (async with ... as client).  opts may be NULL.  Returns
 * NULL with errno = ENOMEM when out of memory, EINVAL when opts->proxy is
 * not a proxy URL (see proxy) or opts->user_agent has a control byte.
 * Does not suspend. */
http_client *http_client_open(const http_client_opts *opts);

/* Closes every pooled connection and frees the client.  No request may be
 * in flight on it: that is API misuse, which stops the program with a
 * message in every build.  Does not suspend. */
void http_client_close(http_client *c);

/* One response header, NUL-terminated copies owned by the response. */
typedef struct http_field {
    const char *name;   /* as the server spelled it */
    const char *value;  /* leading and trailing blanks removed */
} http_field;

typedef struct http_response {
    int status;                 /* 200 */
    int minor_version;          /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
    const char *reason;         /* "OK"; may be "" */
    const http_field *headers;  /* in the order received, repeats kept */
    size_t n_headers;
    int64_t content_length;     /* announced body size, -1 if none (chunked,
                                   until close, HEAD) */
    char *body;                 /* collected body, NUL-terminated (the NUL is
                                   not counted); NULL when streamed to a sink.
                                   A followed redirect's body is read and
                                   dropped: "" (NULL with a sink) */
    size_t body_len;            /* bytes of body received (also when
                                   streamed); 0 for a dropped redirect body
                                   (its bytes still count against max_body) */
    const char *url;            /* the URL that answered (after redirects) */
    int redirects;              /* how many were followed */
    /* The head's bytes exactly as received: any interim 1xx heads first,
     * then this response's own, status line to blank line, spacing,
     * folds and line ends (CR LF or bare LF) as the server sent them.
     * raw_head_len is always set (at most max_head_bytes); raw_head only
     * when the request asked (http_request.keep_raw_head), else NULL: no
     * copy is made for a caller that does not look.  NUL-terminated,
     * owned by the response. */
    const char *raw_head;
    size_t raw_head_len;
    /* With keep_raw_head, a complete chunked body's trailer section as
     * received: the lines after the last chunk through the blank line
     * that ends them ("\r\n" alone when there were none; at most 64 KiB
     * and that line; of a body cut short there, the part that came).
     * NULL and 0 without keep_raw_head, for a body that was not chunked
     * or ended before its trailers.  Owned by the response. */
    const char *raw_trailer;
    size_t raw_trailer_len;
} http_response;

/* First value of header `name` (case-insensitive), or NULL. */
const char *http_response_header(const http_response *r, const char *name);

/* Frees a response (NULL is fine). */
void http_response_free(http_response *r);

/* The two callbacks below run on the requesting coroutine and may
 * suspend (io_read on a pipe, io_write to one).  deadline_ns is the
 * request's total deadline (coro_now's clock; CORO_NEVER when it has
 * none): the client cannot interrupt a callback, so one that waits must
 * wait no longer than that -- pass it as the deadline of io_read,
 * io_write, coro_wait.  A callback that fails (-1) with errno ETIMEDOUT
 * once the deadline has passed ends the request with
 * HTTP_E_TOTAL_TIMEOUT; one whose coroutine was cancelled (a wait gave
 * ECANCELED: -1 with errno ECANCELED) with HTTP_E_CANCELLED. */

/* Produces the request body for http_request.body_source: writes at most
 * cap bytes into buf and returns how many, 0 at the end of the body, or -1
 * to stop the request with HTTP_E_SEND_BODY (but see above). */
typedef long (*http_body_fn)(void *user, char *buf, size_t cap, int64_t deadline_ns);

/* Receives body bytes as they arrive.  Return 0 to go on, -1 to stop the
 * request with HTTP_E_ABORTED (but see above). */
typedef int (*http_sink_fn)(void *user, const char *data, size_t len, int64_t deadline_ns);

typedef struct http_request {
    const char *method;          /* any method token (RFC 9110 tchars, else
                                    HTTP_E_BAD_REQUEST); NULL = "GET" */
    const char *url;             /* absolute http:// URL */
    /* Extra header lines, as curl takes them: "Name: value" replaces a
     * default of the same name (Host, Authorization, User-Agent, Accept)
     * in its place or is added (of several Host lines only the first
     * counts, as curl); "Name:" (blanks at most after the colon)
     * removes that default and sends nothing; "Name;" sends "Name:" with
     * an empty value.  A line with CR, LF or another control byte, or
     * one naming Content-Length or Transfer-Encoding (the client frames
     * the body itself), is HTTP_E_BAD_REQUEST. */
    const char *const *headers;
    size_t n_headers;
    /* The request body: body_len bytes at body (kept by the caller until
     * http_send returns; sent with Content-Length), or, when body_source
     * is set, whatever it produces (Content-Length: body_length when that
     * is >= 0, else Transfer-Encoding: chunked; a source that gives
     * fewer or more bytes than body_length is HTTP_E_SEND_BODY_SHORT or
     * _LONG).  Neither: no body, but POST and PUT send Content-Length: 0.
     * A kept-alive connection found closed before the first byte of the
     * reply is retried on a fresh one only for GET, HEAD, PUT, DELETE,
     * OPTIONS and TRACE, and only without a body_source. */
    const void *body;
    size_t body_len;
    http_body_fn body_source;
    void *body_user;
    int64_t body_length;         /* with body_source: the size if known, else -1 */
    /* The body's Content-Type, or NULL: sent with the body and dropped with
     * it when a redirect turns the request into a GET (a Content-Type line
     * among `headers` is the caller's own and stays, as in curl). */
    const char *body_type;
    /* With body_source: starts the body over before it must be sent again
     * (a 307/308 redirect, a 301/302 that keeps PUT, a retry on a fresh
     * connection); returns 0, or -1 when it cannot (HTTP_E_NOT_REPLAYABLE).
     * NULL: a body_source is sent once at most.  May suspend. */
    int (*body_rewind)(void *body_user);
    /* "user:password" for Basic authentication, or NULL: then the first
     * URL's userinfo (percent-decoded), if it has one.  Without a ':'
     * (before decoding) the password is empty, as curl sends it: "user"
     * is "user:", "" (or "http://@h/") is ":".  A header line
     * naming Authorization wins over both.  Sent to the first URL's
     * origin only: a hop to another scheme, host or port goes without it
     * (and without the caller's Authorization, Cookie,
     * Proxy-Authorization and Host lines); a hop back to the first
     * origin has them again. */
    const char *userpwd;
    /* The whole request, redirects included: overrides the client's
     * total_timeout_ms.  0 = the client's; <0 = none for this request.
     * Passing it is HTTP_E_TOTAL_TIMEOUT. */
    int64_t timeout_ms;
    size_t max_body;             /* HTTP_E_BODY_TOO_LARGE above; 0 = no limit */
    http_sink_fn sink;           /* NULL: collect into resp->body */
    void *sink_user;
    /* Called once with the final response's head (after redirects), before
     * any body byte -- also for one whose body is then not read
     * (HTTP_E_UNSUPPORTED_CODING); return -1 to stop with HTTP_E_ABORTED
     * (fetch -f). */
    int (*on_head)(void *user, const http_response *head);
    /* Called with the exact request head bytes written (fetch -v), once
     * per hop. */
    void (*on_request)(void *user, const char *head, size_t len);
    /* When following: called with each redirect's response (head only:
     * its body is read and dropped, body "" and body_len 0) and the
     * absolute URL it leads to, before that hop; return -1 to stop with
     * HTTP_E_ABORTED, the redirect's response then in *out (fetch -i
     * shows each hop's head).  NULL: not called.  A 3xx with an empty or
     * no Location is not a redirect: it is the answer. */
    int (*on_redirect)(void *user, const http_response *hop, const char *next_url);
    void *user;                  /* for on_head, on_request, on_redirect */
    /* Keep each response's head bytes (raw_head, raw_trailer) for the
     * caller, e.g. to show them as sent (fetch -i, -v); false: none is
     * copied. */
    bool keep_raw_head;
} http_request;

/* SUSPENDS.  Performs one request (following redirects if the client
 * does).  Called from a coroutine, with c, req, req->url and out not
 * NULL: anything else is API misuse, which stops the program with a
 * message naming http_send (http_get too) in every build.  Returns 0 and
 * a response in *out, or an HTTP_E* code; on error *out is NULL, or --
 * when a head had arrived (e.g. HTTP_E_TRUNCATED, HTTP_E_UNSUPPORTED_CODING
 * (its body is not read), or the redirect that was not followed for
 * HTTP_E_TOO_MANY_REDIRECTS, HTTP_E_NOT_REPLAYABLE) -- the partial
 * response, which the caller frees either way.  req->url is normalized
 * first (http_url_normalize); a URL it refuses is HTTP_E_URL
 * (HTTP_E_SCHEME for another scheme): ask http_url_parse and
 * http_url_strerror why. */
int http_send(http_client *c, const http_request *req, http_response **out);

/* SUSPENDS.  GET url, collecting the body: `response = await client.get(url)`. */
int http_get(http_client *c, const char *url, http_response **out);

/* Test hook: replaces getaddrinfo for name lookups (NULL restores it).
 * Runs on the resolver thread. */
struct addrinfo;
typedef int (*http_lookup_fn)(const char *host, const char *port,
                              const struct addrinfo *hints, struct addrinfo **res);
void http_set_lookup(http_lookup_fn fn);

#ifdef __cplusplus
}
#endif
#endif
