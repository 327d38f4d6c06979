/* test_client_cancel.c - cancelling a request: while it waits for the
 * head, in the middle of it, before it starts, while it connects or
 * resolves, while it waits for a pool slot or is handed one.
 *
 * A cancelled request ends with HTTP_E_CANCELLED and leaves the client
 * usable.  Load, big bodies, IPv6 and lookups are in test_client_load.c.
 */
#include "check.h"
#include <bareawait/client.h>
#include "client_test.h"
#include <bareawait/coro.h>
#include "testserver.h"

static http_client *open_client_with(http_client_opts o)
{
    return client_open_defaults(o, 5000, 30000);
}

/* ---- cancellation ---- */

typedef struct job {
    http_client *c;
    const char *url;
    int err;               /* what http_send returned */
    int64_t took_ms;
    http_sink_fn sink;     /* optional */
    void *sink_user;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    http_request req = {.url = j->url, .sink = j->sink, .sink_user = j->sink_user};
    http_response *r = NULL;
    int64_t t0 = ts_now_ms();
    j->err = http_send(j->c, &req, &r);
    j->took_ms = ts_now_ms() - t0;
    http_response_free(r);
    return NULL;
}

/* SUSPENDS.  Starts a job, lets it run `after_ms`, cancels it, joins it;
 * it must end with HTTP_E_CANCELLED within 100 ms of the cancel. */
static void cancel_after(job *j, int after_ms, const char *what)
{
    coro_t *co = coro_spawn(run_job, j, NULL);
    if (after_ms >= 0)
        coro_sleep_until(coro_deadline_in(after_ms));
    coro_cancel(co);
    coro_join(co, NULL);
    if (!CHECK_INT(j->err, HTTP_E_CANCELLED) | !CHECK(j->took_ms < after_ms + 100))
        fprintf(stderr, "    cancelled %s: %s after %lld ms\n", what, http_strerror(j->err),
                (long long)j->took_ms);
}

static void test_cancel(void *arg)
{
    (void)arg;
    static const ts_step hold[] = {TS_READ(), TS_DRAIN()};
    static const ts_step drip[] = {
        TS_READ(), TS_DRIP("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789",
                           4, 20)};
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    const ts_step *scripts[] = {hold, drip, ok};
    testserver *ts = ts_start_scripts(AF_INET, scripts, 3);
    http_client *c = open_client_with((http_client_opts){0});
    job j = {c, ts_url(ts, "/")};
    cancel_after(&j, 50, "while waiting for the head");
    j = (job){c, ts_url(ts, "/")};
    cancel_after(&j, 50, "in the middle of the head");
    j = (job){c, ts_url(ts, "/")};
    cancel_after(&j, -1, "before it started");
    /* The client is still good, and the cancelled connections were closed. */
    http_response *r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK);
    http_response_free(r);
    for (int i = 0; i < 100 && ts_open_connections(ts) > 1; i++)
        coro_sleep_until(coro_deadline_in(1));
    CHECK_INT(ts_open_connections(ts), 1);
    http_client_close(c);
    ts_stop(ts);
}

static void test_cancel_connecting(void *arg)
{
    (void)arg;
    ts_blackhole bh;
    if (!CHECK_INT(ts_blackhole_open(&bh), 0))
        return;
    http_client *c = open_client_with((http_client_opts){0});
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", bh.port);
    job j = {c, url};
    cancel_after(&j, 50, "while connecting");
    http_set_lookup(ts_lookup);
    snprintf(url, sizeof url, "http://slow-300.test:%d/", bh.port);
    j = (job){c, url};
    cancel_after(&j, 50, "while resolving");
    http_set_lookup(NULL);
    http_client_close(c);
    ts_blackhole_close(&bh);
    /* The cancelled lookup ends on its worker: before this program's exit
     * (valgrind would count a busy worker's TLS as possibly lost). */
    coro_sleep_until(coro_deadline_in(350));
}

/* Cancel a request queued for a pool slot, while another holds it. */
static void test_cancel_pool_wait(void *arg)
{
    (void)arg;
    static const ts_step slow[] = {TS_READ(), TS_SLEEP(100), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, slow);
    http_client *c = open_client_with((http_client_opts){.max_per_host = 1});
    job holder = {c, ts_url(ts, "/")}, waiter = {c, ts_url(ts, "/")};
    coro_t *h = coro_spawn(run_job, &holder, NULL);
    coro_yield();
    cancel_after(&waiter, 20, "while waiting for a slot");
    coro_join(h, NULL);
    CHECK_INT(holder.err, HTTP_OK);
    http_response *r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK);
    http_response_free(r);
    CHECK_INT(ts_connections(ts), 1);
    http_client_close(c);
    ts_stop(ts);
}

/* The holder's sink cancels the waiter; the holder then finishes without
 * parking again and hands its slot to the waiter in the same step.  The
 * waiter must still end with HTTP_E_CANCELLED (asyncio: a cancelled task
 * that was just handed a lock gives it on and raises CancelledError). */
typedef struct handover {
    coro_t *waiter;
} handover;

static int cancel_waiter_sink(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns;
    handover *ho = user;
    (void)data, (void)len;
    coro_cancel(ho->waiter);
    return 0;
}

static void test_cancel_during_handover(void *arg)
{
    (void)arg;
    static const ts_step slow[] = {TS_READ(), TS_SLEEP(50), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, slow);
    http_client *c = open_client_with((http_client_opts){.max_per_host = 1});
    handover ho = {0};
    job holder = {c, ts_url(ts, "/"), .sink = cancel_waiter_sink, .sink_user = &ho};
    job waiter = {c, ts_url(ts, "/")};
    coro_t *h = coro_spawn(run_job, &holder, NULL);
    coro_yield(); /* the holder takes the slot */
    ho.waiter = coro_spawn(run_job, &waiter, NULL);
    coro_join(h, NULL);
    coro_join(ho.waiter, NULL);
    CHECK_INT(holder.err, HTTP_OK);
    if (!CHECK_INT(waiter.err, HTTP_E_CANCELLED))
        fprintf(stderr, "    the waiter was cancelled but ran anyway: %s\n",
                http_strerror(waiter.err));
    http_response *r = NULL; /* the slot was not lost either way */
    CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK);
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

int main(void)
{
    CHECK_INT(ts_run("cancel: reading, mid-head, before start", test_cancel, NULL), 0);
    CHECK_INT(ts_run("cancel: connecting, resolving", test_cancel_connecting, NULL), 0);
    CHECK_INT(ts_run("cancel: waiting for a pool slot", test_cancel_pool_wait, NULL), 0);
    CHECK_INT(ts_run("cancel: while a slot is handed over", test_cancel_during_handover, NULL), 0);
    return check_summary();
}
