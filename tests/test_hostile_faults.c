/* test_hostile_faults.c - faults in the runtime under the HTTP client:
 * no address space for a coroutine's stack, and a request cancelled
 * halfway through its response.
 *
 * The stack case lowers RLIMIT_AS, so it runs in a child process
 * (run_in_child, hostile.h).  Servers that misbehave are in
 * test_hostile.c and test_hostile_close.c.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "hostile.h"
#include "testserver.h"

/* ---- faults in the runtime ---- */

static void *return_arg(void *arg)
{
    return arg;
}

/* Out of address space for a stack: coro_spawn and coro_reserve say
 * ENOMEM, and the runtime goes on.  (Run in a child: it lowers RLIMIT_AS.) */
static void test_spawn_enomem(void *arg)
{
    (void)arg;
    struct rlimit old;
    getrlimit(RLIMIT_AS, &old);
    struct rlimit low = old;
    long long in_use_kib = check_proc_kib("/proc/self/status", "VmSize:");
    low.rlim_cur = (rlim_t)(in_use_kib + 512L * 1024) * 1024; /* 512 MiB more */
    CHECK_INT(setrlimit(RLIMIT_AS, &low), 0);
    errno = 0;
    coro_t *huge = coro_spawn(return_arg, NULL, &(coro_opts){.stack_size = 768 << 20});
    CHECK(huge == NULL);
    CHECK_INT(errno, ENOMEM);
    errno = 0; /* 100 000 default stacks: ~7 GiB of address space to map */
    CHECK_INT(coro_reserve(100000, 0), -1);
    CHECK_INT(errno, ENOMEM);
    coro_t *fine = coro_spawn(return_arg, (void *)7, NULL); /* small ones still work */
    void *result = NULL;
    if (CHECK(fine != NULL))
        CHECK_INT(coro_join(fine, &result), 0);
    CHECK(result == (void *)7);
    setrlimit(RLIMIT_AS, &old);
    huge = coro_spawn(return_arg, NULL, &(coro_opts){.stack_size = 768 << 20});
    if (CHECK(huge != NULL)) /* and with the limit back, the big one too */
        CHECK_INT(coro_join(huge, NULL), 0);
    errno = 0;
    CHECK(coro_spawn(return_arg, NULL, &(coro_opts){.stack_size = (size_t)4 << 30}) == NULL);
    CHECK_INT(errno, EINVAL); /* absurd sizes are refused before trying */
}

typedef struct cancel_job {
    http_client *client;
    const char *url;
    int err;
} cancel_job;

static void *get_job(void *arg)
{
    cancel_job *j = arg;
    http_response *r = NULL;
    j->err = http_get(j->client, j->url, &r);
    http_response_free(r);
    return NULL;
}

/* A request cancelled halfway through its response must not give its
 * connection back to the pool: the next request goes out on a new one
 * (and succeeds), and the one after that reuses it. */
static void test_cancel_mid_request(void *arg)
{
    (void)arg;
    static const ts_step script[] = {
        TS_READ(), TS_DRIP("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
                           "0123456789012345678901234567890123456789", 4, 20),
        TS_LOOP()};
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = client_with(2000, 0);
    cancel_job j = {.client = c, .url = ts_url(ts, "/")};
    coro_t *co = coro_spawn(get_job, &j, NULL);
    coro_sleep_until(coro_deadline_in(60)); /* the head is in, the body not */
    coro_cancel(co);
    coro_join(co, NULL);
    CHECK_INT(j.err, HTTP_E_CANCELLED);
    for (int i = 0; i < 2; i++) {
        http_response *r = NULL;
        CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK);
        if (r)
            CHECK_INT(r->body_len, 40);
        http_response_free(r);
    }
    CHECK_INT(ts_requests(ts), 3);
    CHECK_INT(ts_request_connection(ts, 1), 1); /* a new connection */
    CHECK_INT(ts_request_connection(ts, 2), 1); /* kept and reused */
    CHECK_INT(ts_connections(ts), 2);
    http_client_close(c);
    ts_stop(ts);
}

int main(void)
{
    if (check_under_qemu()) /* it keeps RLIMIT_AS for its own mappings */
        fprintf(stderr, "-- faults: no address space for a stack: skipped, qemu-user "
                        "ignores setrlimit(RLIMIT_AS)\n");
    else
        run_in_child("faults: no address space for a stack", test_spawn_enomem);
    CHECK_INT(ts_run("faults: cancelled mid-request", test_cancel_mid_request, NULL), 0);
    return check_summary();
}
