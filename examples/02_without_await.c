/* 02_without_await.c - without await you get a handle, not a result.
 *
 * The seed's quiz asks what happens if we remove `await` before
 * client.get(url).  Answer: a coroutine, not a response.
 *
 *     async def main(url):
 *         async with httpx.AsyncClient() as client:
 *             pending = client.get(url)      # no await
 *             print(pending)                 # <coroutine object ...>
 *             response = await pending       # now we have a response
 *             print(response.status_code, response.text)
 *
 * In C the two moments are coro_spawn, which hands back a coro_t * (a
 * handle: the request has not even started), and coro_join, which parks
 * until the coroutine returns its result.
 */
#include <stdio.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "demo_server.h"

typedef struct get_args {
    http_client *client;
    const char *url;
} get_args;

static int ok; /* for the smoke test */

/* client.get(url), as a coroutine of its own: returns the response. */
static void *get(void *arg)
{
    get_args *a = arg;
    http_response *response = NULL;
    http_get(a->client, a->url, &response);
    return response; /* NULL if it failed */
}

static void *main_coro(void *arg)
{
    (void)arg;
    demo_server *server = demo_server_start(NULL);
    http_client *client = http_client_open(NULL);
    if (!server || !client)
        return NULL;
    get_args args = {client, demo_server_url(server, "/")};

    coro_t *pending = coro_spawn(get, &args, &(coro_opts){.name = "client.get"});
    if (!pending)
        return NULL;
    printf("without await: %p, a handle to coroutine %llu \"%s\": no status, no text\n",
           (void *)pending, (unsigned long long)coro_id(pending), coro_name(pending));

    void *result;
    coro_join(pending, &result);                    /* response = await pending */
    http_response *response = result;
    if (response) {
        printf("with await:    status %d, text: %s", response->status, response->body);
        ok = response->status == 200;
    }
    http_response_free(response);
    http_client_close(client);
    demo_server_stop(server);
    return NULL;
}

int main(void)
{
    if (!coro_spawn(main_coro, NULL, NULL))
        return 1;
    coro_run();
    return ok ? 0 : 1;
}
