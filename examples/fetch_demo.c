/* fetch_demo.c - `fetch` with no URL: the demo a newcomer runs first.
 *
 * No network needed: fetch starts a small HTTP server coroutine on
 * 127.0.0.1 in this same process, then fetches from it with --trace on.
 * In Python it would read:
 *
 *     async def demo():
 *         server = start_demo_server(delay=0.1)     # a coroutine, here
 *         text = await fetch_data(server.url)       # traced, step by step
 *         await server.stop()
 *
 * The server answers while the client is parked in `await`, and both run
 * on one thread: the trace shows fetch parking, the server's coroutines
 * running meanwhile, and the reactor waking fetch when the answer lands.
 */
#include <stdio.h>

#include "demo_server.h"
#include "fetch.h"

#define DEMO_DELAY_MS 100 /* long enough to see the wait, short enough not to */

static const char demo_body[] =
    "Hello from the demo server!\n"
    "This answer came from a coroutine in the same process as fetch, on the\n"
    "same thread: while fetch was parked in await, the server ran.\n";

/* What the demo coroutine needs and gives back. */
typedef struct demo {
    fetch_opts *o;
    const char *urls[1]; /* the demo server's URL */
    int exit_code;
} demo;

/* demo_server_opts.on_event: the server's doings, as trace lines. */
static void server_said(void *user, const char *what)
{
    (void)user;
    fetch_trace_note("%s", what);
}

/* The body of the "demo" coroutine: serve, fetch, stop. */
static void *demo_coroutine(void *arg)
{
    demo *d = arg;
    demo_server_opts so = {.body = demo_body, .delay_ms = DEMO_DELAY_MS, .on_event = server_said};
    demo_server *srv = demo_server_start(&so);
    if (!srv) {
        perror("fetch: demo: cannot listen on 127.0.0.1");
        d->exit_code = FETCH_EXIT_CONNECT;
        return NULL;
    }
    d->urls[0] = demo_server_url(srv, "/");
    d->o->urls = d->urls;
    d->o->n_urls = 1;
    fetch_trace_note("demo: no URL given, so fetch serves one itself: \"demo-server\" listens on %s",
                     d->urls[0]);
    fetch_trace_note("demo: it is a coroutine in this process, on this thread, and answers after "
                     "%d ms; watch it run while fetch waits", DEMO_DELAY_MS);
    coro_t *f = fetch_spawn(d->o, true, &d->exit_code);
    if (f) {
        coro_join(f, NULL); /* await fetch_data(url) */
    } else {
        perror("fetch: demo: cannot start fetch");
        d->exit_code = FETCH_EXIT_NOMEM;
    }
    demo_server_stop(srv);
    fetch_trace_note("demo: done.  One thread served and fetched: the server answered "
                     "while fetch was parked in await.");
    return NULL;
}

int fetch_demo(fetch_opts *o)
{
    demo d = {.o = o, .exit_code = FETCH_EXIT_OK};
    const char **cli_urls = o->urls; /* main frees its own array */
    coro_opts co = {.name = "demo", .detached = true};
    if (!coro_spawn(demo_coroutine, &d, &co)) {
        perror("fetch: demo");
        coro_run(); /* frees the runtime the failed spawn may have started */
        return FETCH_EXIT_NOMEM;
    }
    if (coro_run() < 0) {
        perror("fetch: demo: coroutines deadlocked");
        d.exit_code = FETCH_EXIT_ABORTED;
    }
    o->urls = cli_urls;
    o->n_urls = 0;
    return d.exit_code;
}
