/* gateway.h - the seed's FastAPI endpoint as a request handler:
 *
 *     client = httpx.AsyncClient()                   gateway_open (one per thread)
 *     @app.get("/{path}")                            gateway_handle, on the
 *     async def endpoint(path):                        connection's coroutine
 *         r = await client.get(UPSTREAM + path)        http_send -- SUSPENDS
 *         return StreamingResponse(r.aiter_bytes(),    the sink writes each piece
 *                 r.status_code, media_type=...)         into http_reply_write
 *
 * gateway_proxy.c is the endpoint (and --trace); gateway.c is the program
 * around it (options, threads, signals).  A gateway belongs to the thread
 * that opened it, like its client and its server.
 */
#ifndef BAREAWAIT_EXAMPLES_GATEWAY_H
#define BAREAWAIT_EXAMPLES_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bareawait/server.h>

typedef struct gateway_config {
    const char *upstream;        /* "http://HOST:PORT" (a trailing '/' is
                                    dropped); borrowed */
    int64_t connect_timeout_ms;  /* the client's; 0 = its default */
    int64_t read_timeout_ms;     /* the client's; 0 = its default */
    bool trace;                  /* the seven steps of each request, on stderr */
    int thread_index;            /* shown in the trace when threads > 1 */
    int threads;
} gateway_config;

typedef struct gateway gateway; /* opaque: one thread's client and counters */

/* Checks the upstream URL: 0, or -1 with a message in err[0..errlen). */
int gateway_check_upstream(const char *upstream, char *err, size_t errlen);

/* Opens the thread's shared client (http_client_open).  cfg is copied
 * (upstream stays borrowed).  NULL with errno.  Does not suspend. */
gateway *gateway_open(const gateway_config *cfg);

/* http_handler: GET and HEAD are relayed to the upstream, the reply
 * streamed back; other methods are answered 405.  An upstream that fails
 * before its head is answered 502 (refused, reset, malformed...) or 504
 * (a timeout), with one plain-text line naming the cause; one that fails
 * mid-body cuts the reply short (-1: the connection is closed).
 * SUSPENDS. */
int gateway_handle(const http_server_request *req, http_server_reply *reply, void *gw);

/* http_server_opts.on_event for --trace (user: the gateway). */
void gateway_server_event(void *gw, http_server_event ev, int fd, const char *detail);

/* Requests answered so far (by the handler, any status). */
uint64_t gateway_answered(const gateway *g);

/* Closes the client (no request may be in flight) and frees g. */
void gateway_close(gateway *g);

#endif
