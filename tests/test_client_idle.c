/* test_client_idle.c - idle kept-alive connections are closed when their
 * idle timeout passes, with no request to notice it (the pool's reaper
 * coroutine, http/pool.c), and the reaper never holds a program up.
 *
 * Sockets are counted in /proc/self/fd: the client's and the in-process
 * server's ends both close when the reaper closes the client's.  Waits are
 * generous (seconds for a 200 ms timeout); none is a measurement.
 */
#include <stdlib.h>

#include "check.h"
#include <bareawait/client.h>
#include "client_test.h"
#include <bareawait/coro.h>
#include "testserver.h"

#define IDLE_MS 200   /* the idle timeout the tests use... */
#define SLOW_IDLE_MS 1000 /* ...and under valgrind or ASan, where a burst is slower */
#define BURST 8       /* concurrent requests, so as many connections */

static int64_t idle_ms(void)
{
    return ts_slow_tools() ? SLOW_IDLE_MS : IDLE_MS;
}

static http_client *open_idle_client(int64_t idle_ms)
{
    return client_open_defaults((http_client_opts){.idle_timeout_ms = idle_ms,
                                                   .max_per_host = BURST},
                                3000, 10000);
}

/* SUSPENDS.  GET url; checks it succeeded with "ok". */
static void get_ok(http_client *c, const char *url)
{
    http_response *r = NULL;
    int err = http_get(c, url, &r);
    if (!CHECK_INT(err, HTTP_OK))
        fprintf(stderr, "    GET %s: %s\n", url, http_strerror(err));
    else if (CHECK(r != NULL))
        CHECK_STR(r->body ? r->body : "", "ok");
    http_response_free(r);
}

typedef struct burst_job {
    http_client *c;
    const char *url;
} burst_job;

static void *burst_get(void *arg)
{
    burst_job *j = arg;
    get_ok(j->c, j->url);
    return NULL;
}

/* SUSPENDS.  BURST GETs of url at once, each from its own coroutine. */
static void burst(http_client *c, const char *url)
{
    burst_job j = {c, url};
    coro_t *co[BURST];
    for (int i = 0; i < BURST; i++)
        co[i] = coro_spawn(burst_get, &j, NULL);
    for (int i = 0; i < BURST; i++)
        if (co[i])
            coro_join(co[i], NULL);
}

/* SUSPENDS.  Waits (without a request) until at most `fds` fds are open,
 * or limit_ms passes.  Returns how long it took, in ms, or -1. */
static int64_t wait_fds_down_to(int fds, int64_t limit_ms)
{
    int64_t t0 = ts_now_ms();
    while (check_count_fds() > fds) {
        if (ts_now_ms() - t0 > limit_ms)
            return -1;
        coro_sleep_until(coro_deadline_in(10));
    }
    return ts_now_ms() - t0;
}

/* How long the sockets may take to go: the timeout and a generous margin. */
static int64_t close_limit_ms(void)
{
    return idle_ms() * 5;
}

/* After a burst, every socket is closed about one idle timeout later with
 * no further request; the next request opens a fresh connection. */
static void test_burst_then_idle(void *arg)
{
    (void)arg;
    static const ts_step slow[] = {TS_READ(), TS_SLEEP(30), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, slow);
    int fds = check_count_fds();
    http_client *c = open_idle_client(idle_ms());
    burst(c, ts_url(ts, "/"));
    CHECK_INT(ts_connections(ts), BURST);
    CHECK_INT(check_count_fds(), fds + 2 * BURST); /* both ends of each */
    int64_t took = wait_fds_down_to(fds, close_limit_ms());
    if (!CHECK(took >= 0))
        fprintf(stderr, "    %d fds still open after %lld ms, %d before the burst\n",
                check_count_fds(), (long long)close_limit_ms(), fds);
    CHECK_INT(ts_open_connections(ts), 0);
    get_ok(c, ts_url(ts, "/again"));
    CHECK_INT(ts_connections(ts), BURST + 1);
    CHECK_INT(ts_request_connection(ts, BURST), BURST); /* on the new one */
    http_client_close(c);
    ts_stop(ts);
}

/* A connection used more often than its timeout is kept: the reaper
 * closes only what has been idle too long. */
static void test_busy_connection_kept(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, ok);
    http_client *c = open_idle_client(idle_ms());
    for (int i = 0; i < 6; i++) {
        get_ok(c, ts_url(ts, "/"));
        coro_sleep_until(coro_deadline_in(idle_ms() / 4));
    }
    CHECK_INT(ts_connections(ts), 1);
    http_client_close(c);
    ts_stop(ts);
}

/* Two hosts: each one's idle connections go; the client stays usable. */
static void test_two_hosts(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *a = ts_start(AF_INET, ok), *b = ts_start(AF_INET, ok);
    int fds = check_count_fds();
    http_client *c = open_idle_client(idle_ms());
    get_ok(c, ts_url(a, "/"));
    get_ok(c, ts_url(b, "/"));
    CHECK(wait_fds_down_to(fds, close_limit_ms()) >= 0);
    CHECK_INT(ts_open_connections(a) + ts_open_connections(b), 0);
    get_ok(c, ts_url(b, "/"));
    get_ok(c, ts_url(a, "/"));
    CHECK_INT(ts_connections(a) + ts_connections(b), 4);
    http_client_close(c);
    ts_stop(a);
    ts_stop(b);
}

/* ---- the reaper and the end of the program ---- */

static http_client *forgotten; /* left open by the body, closed by main */

/* Keeps a connection idle with a long timeout, then closes the client:
 * coro_run must return at once, not when the timeout passes. */
static void test_close_does_not_wait(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, ok);
    http_client *c = open_idle_client(60 * 1000);
    get_ok(c, ts_url(ts, "/"));
    coro_sleep_until(coro_deadline_in(20)); /* the reaper is asleep by now */
    http_client_close(c);
    ts_stop(ts);
}

/* Leaves the client open with a connection idle: coro_run ends anyway,
 * once the connection's timeout has passed (ts_run checks no fd is left). */
static void test_forgotten_close(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, ok);
    forgotten = open_idle_client(idle_ms());
    get_ok(forgotten, ts_url(ts, "/"));
    ts_stop(ts);
}

/* Runs body under ts_run and checks coro_run took less than limit_ms. */
static void run_within(const char *name, void (*body)(void *), int64_t limit_ms)
{
    int64_t t0 = ts_now_ms();
    CHECK_INT(ts_run(name, body, NULL), 0);
    int64_t took = ts_now_ms() - t0;
    if (!CHECK(took < limit_ms))
        fprintf(stderr, "    coro_run returned after %lld ms, want < %lld\n",
                (long long)took, (long long)limit_ms);
}

int main(void)
{
    CHECK_INT(ts_run("idle: a burst's sockets close without a request", test_burst_then_idle,
                     NULL), 0);
    CHECK_INT(ts_run("idle: a busy connection is kept", test_busy_connection_kept, NULL), 0);
    CHECK_INT(ts_run("idle: two hosts", test_two_hosts, NULL), 0);
    run_within("idle: http_client_close does not wait for the reaper",
               test_close_does_not_wait, 20 * 1000);
    run_within("idle: a client never closed lets coro_run end", test_forgotten_close,
               20 * 1000);
    http_client_close(forgotten); /* outside the runtime: nothing is left in it */
    return check_summary();
}
