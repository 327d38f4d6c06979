/* 06_gateway.c - the seed's endpoint: a server handler that awaits a client.
 *
 *     client = httpx.AsyncClient()
 *     @app.get("/{path}")
 *     async def endpoint(path):
 *         r = await client.get(UPSTREAM + path)
 *         return Response(r.content, r.status_code, media_type=r.headers["content-type"])
 *
 * The handler runs on its connection's coroutine: while it is parked in
 * http_get, the other connections go on being served.  Here the upstream
 * is the demo server (100 ms per answer) and two clients ask at once: both
 * are answered after ~100 ms, not 200.  (examples/gateway.c is the full
 * program: the body streamed, 502/504, signals, threads, --trace.)
 */
#include <stdio.h>
#include <string.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/server.h>
#include "demo_server.h"
#include "tutorial_trace.h"

static http_client *client;   /* one, shared by every connection */
static char upstream[64];     /* "http://127.0.0.1:PORT" */

static int endpoint(const http_server_request *req, http_server_reply *reply, void *user)
{
    (void)user;
    char url[256];
    snprintf(url, sizeof url, "%s%s", upstream, req->path);
    http_response *r = NULL;
    int err = http_get(client, url, &r);                 /* r = await client.get(url) */
    int rc = err ? http_reply(reply, 502, "text/plain", http_strerror(err),
                              strlen(http_strerror(err)))
                 : http_reply(reply, r->status, http_response_header(r, "Content-Type"),
                              r->body, r->body_len);     /* return Response(...) */
    http_response_free(r);
    return rc;
}

static int answered;

static void *visitor(void *gateway_url)                  /* a client of the gateway */
{
    http_response *r = NULL;
    if (http_get(client, gateway_url, &r) == 0 && r->status == 200)
        printf("visitor %d got: %s", ++answered, r->body);
    http_response_free(r);
    return NULL;
}

static void *serve(void *gw)                             /* uvicorn.run(app) */
{
    http_server_run(gw);
    return NULL;
}

static void *main_coro(void *arg)
{
    (void)arg;
    demo_server *up = demo_server_start(&(demo_server_opts){.delay_ms = 100});
    client = http_client_open(NULL);
    http_server *gw = up && client ? http_server_open(NULL, endpoint, NULL) : NULL;
    if (gw) {
        snprintf(upstream, sizeof upstream, "%s", demo_server_url(up, ""));
        coro_t *server = coro_spawn(serve, gw, NULL);
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", http_server_port(gw));
        coro_t *a = coro_spawn(visitor, url, NULL), *b = coro_spawn(visitor, url, NULL);
        if (a)
            coro_join(a, NULL);                          /* await asyncio.gather(a, b) */
        if (b)
            coro_join(b, NULL);
        http_server_stop(gw, coro_now());
        coro_join(server, NULL);
        http_server_close(gw);
    }
    if (client)
        http_client_close(client);
    if (up)
        demo_server_stop(up);
    return NULL;
}

int main(int argc, char **argv)
{
    tutorial_trace_args(argc, argv);                   /* --trace: every event on stderr */
    if (!coro_spawn(main_coro, NULL, &(coro_opts){.name = "main"}))
        return 1;
    coro_run();
    return answered == 2 ? 0 : 1;
}
