/* 05_fetch_one.c - the seed's fetch_data(url), step for step.
 *
 *     async def fetch_data(url):
 *         async with httpx.AsyncClient() as client:
 *             response = await client.get(url)
 *         return response.text
 *
 * The seed's seven steps, in C:
 *   1 coro_spawn(fetch_data, url)   coroutine created, waiting to run
 *   2 http_client_open()            client ready
 *   3 http_get() parks              request sent, waiting for the response
 *   4 http_get() returns 0          response (status, body) available
 *   5 http_client_close()           client closed
 *   6 return text                   data returned
 *   7 the coroutine ends            coro_join hands the text over
 * (fetch --trace prints these steps live; this program's --trace prints
 * the scheduler's events under them.)
 *
 *     05_fetch_one [--trace] [URL]
 *
 * With no URL it fetches from a server coroutine in this process (the demo
 * server, on 127.0.0.1); with one, from there (plain http://).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "demo_server.h"
#include "tutorial_trace.h"

static void *fetch_data(void *url)
{
    http_client *client = http_client_open(NULL);   /* async with AsyncClient() as client: */
    http_response *response = NULL;
    int err = client ? http_get(client, url, &response) : HTTP_E_NOMEM; /* await client.get(url) */
    if (client)
        http_client_close(client);                  /* leaving `async with` */
    if (err)
        fprintf(stderr, "%s: %s\n", (const char *)url, http_strerror(err));
    char *text = err ? NULL : strdup(response->body); /* return response.text */
    http_response_free(response);
    return text;
}

static int ok;

static void *main_coro(void *arg)
{
    const char *url = arg;
    demo_server *server = NULL;
    if (!url) { /* no URL given: the local one */
        if (!(server = demo_server_start(NULL)))
            return NULL;
        url = demo_server_url(server, "/");
    }
    coro_t *task = coro_spawn(fetch_data, (void *)url, &(coro_opts){.name = "fetch_data"});
    void *text = NULL;
    if (task)
        coro_join(task, &text);                     /* text = await fetch_data(url) */
    printf("fetch_data returned: %s", text ? (char *)text : "nothing (it failed)\n");
    ok = text != NULL;
    free(text);
    if (server)
        demo_server_stop(server);
    return NULL;
}

int main(int argc, char **argv)
{
    argc = tutorial_trace_args(argc, argv);            /* --trace: every event on stderr */
    if (argc > 2) {
        fprintf(stderr, "usage: %s [--trace] [URL]\n", argv[0]);
        return 2;
    }
    if (!coro_spawn(main_coro, argc == 2 ? argv[1] : NULL, &(coro_opts){.name = "main"}))
        return 1;
    coro_run();
    return ok ? 0 : 1;
}
