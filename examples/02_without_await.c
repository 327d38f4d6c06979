/* 02_without_await.c - without await you get a handle, not a result.
 *
 * The seed's quiz asks what happens if we remove `await` before
 * client.get(url).  In Python, a coroutine object, which never runs at all
 * until something awaits it or makes a task of it:
 *
 *     async def main(url):
 *         async with httpx.AsyncClient() as client:
 *             pending = client.get(url)            # <coroutine object ...>: nothing runs
 *             task = asyncio.create_task(pending)  # scheduled, not started
 *             print(task.done())                   # False
 *             await asyncio.sleep(0)               # main parks: the task starts,
 *                                                  # and parks inside the request
 *             response = await task                # now we have a response
 *             print(response.status_code, response.text)
 *
 * C has no bare coroutine call.  http_get is a function: calling it runs
 * the request there and then, and any call to it may park the caller
 * (http/client.h marks it SUSPENDS), so there is no "http_get without
 * await" to write.  What comes closest is a coroutine of its own:
 * coro_spawn is asyncio.create_task.  It hands back a coro_t * (a handle)
 * and puts the coroutine on the run queue; it starts when the caller next
 * gives up the CPU (here the coro_yield, or else the coro_join), never before.
 * coro_join parks until the coroutine returns its result: `await task`.
 */
#include <stdio.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "demo_server.h"
#include "tutorial_trace.h"

typedef struct get_args {
    http_client *client;
    const char *url;
} get_args;

static int ok;      /* for the smoke test */
static int started; /* get's first line has run */

/* client.get(url), as a coroutine of its own: returns the response. */
static void *get(void *arg)
{
    get_args *a = arg;
    started = 1;
    http_response *response = NULL;
    http_get(a->client, a->url, &response);          /* parks until the reply */
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

    coro_t *pending = coro_spawn(get, &args, &(coro_opts){.name = "client.get"}); /* create_task */
    if (!pending)
        return NULL;
    printf("without await: %p, a handle to coroutine %llu \"%s\": no status, no text\n",
           (void *)pending, (unsigned long long)coro_id(pending), coro_name(pending));
    printf("started yet?   %s\n", started ? "yes" : "no: spawning is not running");

    coro_yield();                                   /* await asyncio.sleep(0) */
    printf("after a yield: %s\n", started ? "started, and parked inside http_get" : "not started");

    void *result;
    coro_join(pending, &result);                    /* response = await task */
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

int main(int argc, char **argv)
{
    tutorial_trace_args(argc, argv);                   /* --trace: every event on stderr */
    if (!coro_spawn(main_coro, NULL, &(coro_opts){.name = "main"}))
        return 1;
    coro_run();
    return ok && started ? 0 : 1;
}
