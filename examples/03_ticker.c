/* 03_ticker.c - a ticker keeps ticking while a request waits.
 *
 *     async def ticker():
 *         n = 0
 *         while True:
 *             await asyncio.sleep(0.1)
 *             n += 1
 *             print(f"tick {n}")
 *
 *     async def main(url):                       # the server takes 300 ms
 *         t = asyncio.create_task(ticker())
 *         async with httpx.AsyncClient() as client:
 *             response = await client.get(url)   # parks: the ticker ticks
 *         t.cancel()
 *         print(response.text)
 *
 * The wait does not block: while main_coro is parked in http_get, the
 * thread runs the ticker (and the server, a coroutine in this process that
 * answers after 300 ms).  Three coroutines, one thread.
 */
#include <stdio.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "demo_server.h"
#include "tutorial_trace.h"

#define TICK_MS 100

static int ticks;
static int err = -1;

static void *ticker(void *arg)
{
    (void)arg;
    /* Absolute deadlines (start + n ticks): late wake-ups do not drift. */
    int64_t start = coro_now();
    while (coro_sleep_until(start + (ticks + 1) * TICK_MS * 1000000LL) == 0) {
        ticks++;
        printf("tick %d  (the request is still waiting)\n", ticks);
    }
    return NULL; /* cancelled */
}

static void *main_coro(void *arg)
{
    (void)arg;
    demo_server_opts slow = {.body = "the slow answer, 300 ms later\n", .delay_ms = 300};
    demo_server *server = demo_server_start(&slow);
    coro_t *t = coro_spawn(ticker, NULL, &(coro_opts){.name = "ticker"});
    http_client *client = http_client_open(NULL);
    if (!server || !t || !client)
        return NULL;

    http_response *response = NULL;
    err = http_get(client, demo_server_url(server, "/"), &response);
    http_client_close(client);
    coro_cancel(t);                                   /* t.cancel() */
    coro_join(t, NULL);
    if (err == HTTP_OK)
        printf("response after %d ticks: %s", ticks, response->body);
    else
        printf("request failed: %s\n", http_strerror(err));
    http_response_free(response);
    demo_server_stop(server);
    return NULL;
}

int main(int argc, char **argv)
{
    tutorial_trace_args(argc, argv);                   /* --trace: every event on stderr */
    if (!coro_spawn(main_coro, NULL, &(coro_opts){.name = "main"}))
        return 1;
    coro_run();
    return err == HTTP_OK && ticks >= 2 ? 0 : 1; /* it ticked while waiting */
}
