/* 04_gather.c - many URLs at once.
 *
 *     async def main(urls):
 *         async with httpx.AsyncClient() as client:
 *             responses = await asyncio.gather(*(client.get(u) for u in urls))
 *         for url, r in zip(urls, responses):
 *             print(url, r.status_code, len(r.text))
 *
 * Each request is a coroutine of its own (spawn = the generator, join =
 * gather).  The server takes 200 ms per answer, yet ten requests take
 * about 200 ms in all, not 2 s: they all wait at the same time.
 */
#include <stdio.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "demo_server.h"
#include "tutorial_trace.h"

#define N_URLS 10
#define DELAY_MS 200

typedef struct get_job {
    http_client *client;
    char url[64];
    http_response *response; /* the result, NULL if the request failed */
} get_job;

static int ok;

static void *get(void *arg)
{
    get_job *job = arg;
    http_get(job->client, job->url, &job->response);
    return NULL;
}

static void *main_coro(void *arg)
{
    (void)arg;
    demo_server *server = demo_server_start(&(demo_server_opts){.delay_ms = DELAY_MS});
    http_client *client = http_client_open(NULL);
    if (!server || !client)
        return NULL;
    get_job jobs[N_URLS] = {0};
    coro_t *tasks[N_URLS];
    int64_t start = coro_now();

    for (int i = 0; i < N_URLS; i++) {                  /* client.get(u) for u in urls */
        jobs[i].client = client;
        char path[16];
        snprintf(path, sizeof path, "/page/%d", i + 1);
        snprintf(jobs[i].url, sizeof jobs[i].url, "%s", demo_server_url(server, path));
        tasks[i] = coro_spawn(get, &jobs[i], &(coro_opts){.name = "get"});
    }
    int good = 0;
    for (int i = 0; i < N_URLS; i++) {                  /* await gather(...) */
        if (tasks[i])
            coro_join(tasks[i], NULL);
        http_response *r = jobs[i].response;
        printf("%s: %d, %zu bytes\n", jobs[i].url, r ? r->status : 0, r ? r->body_len : 0);
        good += r && r->status == 200;
        http_response_free(r);
    }
    double ms = (double)(coro_now() - start) / 1e6;
    printf("%d requests of %d ms each took %.0f ms in all: they waited together\n", N_URLS,
           DELAY_MS, ms);
    ok = good == N_URLS && ms < N_URLS * DELAY_MS / 2;
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
    return ok ? 0 : 1;
}
