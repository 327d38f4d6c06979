/* demo_server.h - a tiny HTTP server coroutine for the examples.
 *
 * It listens on 127.0.0.1 (a port the kernel picks) and answers every
 * request with one fixed 200 response, optionally after a delay.  It runs
 * in the same process and on the same thread as the client that fetches
 * from it: while the client is parked in `await`, the server's coroutines
 * run, and the other way round.  That is the whole point of the demos.
 *
 * Simple on purpose: one fixed answer to every request, whatever its
 * method or path.  It is a handler on http_server (server.h), which does
 * the parsing, the keep-alive and the limits.
 */
#ifndef BAREAWAIT_DEMO_SERVER_H
#define BAREAWAIT_DEMO_SERVER_H

#include <stdint.h>

typedef struct demo_server demo_server; /* opaque */

typedef struct demo_server_opts {
    const char *body;   /* the answer's body; NULL = a short greeting */
    int64_t delay_ms;   /* wait this long before each answer; 0 = none */
    /* Optional: told what the server does ("accepted ...", "answered ..."),
     * for fetch --trace.  Runs on a server coroutine; must not suspend. */
    void (*on_event)(void *user, const char *what);
    void *user;
} demo_server_opts;

/* Binds 127.0.0.1 on an ephemeral port, listens, and spawns the server's
 * accept coroutine ("demo-server"); each connection is then served by a
 * coroutine of its own ("demo-conn").  opts may be NULL; it is copied,
 * but body must stay valid until demo_server_stop.  Returns the server,
 * or NULL with errno.  Does not suspend: main() may call it before
 * coro_run(). */
demo_server *demo_server_start(const demo_server_opts *opts);

/* The URL of `path` ("/" if NULL) on the server, "http://127.0.0.1:PORT/",
 * in a buffer owned by the server (overwritten by the next call). */
const char *demo_server_url(demo_server *s, const char *path);

/* SUSPENDS.  Stops accepting, cancels the connections still open, waits
 * until every server coroutine has finished, and frees the server.  Call
 * it from a coroutine, after the clients are done. */
void demo_server_stop(demo_server *s);

#endif
