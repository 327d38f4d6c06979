/* test_client_contracts.c - promises of client.h that reviewers found
 * broken: a dropped redirect body is empty, a body source or sink is
 * bounded by the request's deadline and sees its cancellation, bad
 * client options are refused, a head that arrived comes back with the
 * error.
 */
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "client_test.h"
#include "testserver.h"

#define REDIRECT_WITH_BODY(code) \
    "HTTP/1.1 " code " R\r\nLocation: /next\r\nContent-Length: 11\r\n\r\nhop's bytes"

/* ---- a followed redirect's body is dropped: "" and 0 ---- */

static int seen_hops;

static int check_hop(void *user, const http_response *hop, const char *next_url)
{
    (void)user;
    (void)next_url;
    seen_hops++;
    CHECK_INT((long long)hop->body_len, 0);
    CHECK_STR(hop->body, "");
    return 0;
}

static long give_xyz(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    int *calls = user;
    (void)cap;
    (void)deadline_ns;
    if ((*calls)++)
        return 0;
    memcpy(buf, "xyz", 3);
    return 3;
}

static const struct {
    const char *name;
    const char *code;       /* the redirect's status */
    int max_redirects;      /* the client's */
    bool from_source;       /* a PUT with a body_source */
    int err;
    int hops;               /* on_redirect calls */
    const char *final_body; /* of *out */
} dropped[] = {
    {"followed, seen by on_redirect", "302", 0, false, HTTP_OK, 1, "final"},
    {"too many redirects: the partial response", "302", -1, false,
     HTTP_E_TOO_MANY_REDIRECTS, 0, ""},
    {"not replayable: the partial response", "307", 0, true, HTTP_E_NOT_REPLAYABLE, 0, ""},
};

static void test_dropped_body(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++) {
        int before = check_failures;
        const char *reply = strcmp(dropped[i].code, "302") == 0 ? REDIRECT_WITH_BODY("302")
                                                                 : REDIRECT_WITH_BODY("307");
        const ts_step steps[] = {TS_READ(), TS_SEND(reply), TS_READ(),
                                 TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"),
                                 TS_LOOP()};
        testserver *ts = ts_start(AF_INET, steps);
        http_client *c = client_open_defaults((http_client_opts){
            .follow_redirects = true, .max_redirects = dropped[i].max_redirects}, 3000, 10000);
        int calls = 0;
        http_request req = {.url = ts_url(ts, "/"), .on_redirect = check_hop};
        if (dropped[i].from_source) {
            req.method = "PUT";
            req.body_source = give_xyz;
            req.body_user = &calls;
            req.body_length = 3;
        }
        seen_hops = 0;
        http_response *r = NULL;
        CHECK_INT(http_send(c, &req, &r), dropped[i].err);
        CHECK_INT(seen_hops, dropped[i].hops);
        if (CHECK(r != NULL)) {
            CHECK_STR(r->body, dropped[i].final_body);
            CHECK_INT((long long)r->body_len, (long long)strlen(dropped[i].final_body));
        }
        if (check_failures != before)
            fprintf(stderr, "    in case \"%s\"\n", dropped[i].name);
        http_response_free(r);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* ---- a source or sink that waits: bounded by the deadline, cancellable ---- */

/* A callback that waits for a byte on a pipe nobody writes to, as long as
 * the request's deadline allows. */
typedef struct waiter {
    int fd;        /* the pipe's read end (non-blocking) */
    bool entered;  /* the callback has started waiting */
    int64_t deadline_ns;
} waiter;

static int wait_on_pipe(waiter *w, int64_t deadline_ns)
{
    char byte;
    w->entered = true;
    w->deadline_ns = deadline_ns;
    return io_read(w->fd, &byte, 1, deadline_ns) < 0 ? -1 : 0;
}

static long waiting_source(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    (void)buf;
    (void)cap;
    return wait_on_pipe(user, deadline_ns) < 0 ? -1 : 0;
}

static int waiting_sink(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)data;
    (void)len;
    return wait_on_pipe(user, deadline_ns);
}

typedef struct wait_job {
    http_client *c;
    http_request req;
    int err, err_errno;
} wait_job;

static void *run_wait_job(void *arg)
{
    wait_job *j = arg;
    http_response *r = NULL;
    j->err = http_send(j->c, &j->req, &r);
    j->err_errno = errno;
    http_response_free(r);
    return NULL;
}

static const struct {
    const char *name;
    bool sink;      /* the sink waits, else the body source */
    bool cancel;    /* cancelled while it waits, else timeout_ms runs out */
    int err, err_errno;
} waits[] = {
    {"a source past timeout_ms", false, false, HTTP_E_TOTAL_TIMEOUT, ETIMEDOUT},
    {"a sink past timeout_ms", true, false, HTTP_E_TOTAL_TIMEOUT, ETIMEDOUT},
    {"a source cancelled", false, true, HTTP_E_CANCELLED, ECANCELED},
    {"a sink cancelled", true, true, HTTP_E_CANCELLED, ECANCELED},
};

static void test_waiting_callbacks(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
        int before = check_failures;
        int fds[2];
        if (!CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0))
            return;
        testserver *ts = ts_start(AF_INET, ok);
        waiter w = {.fd = fds[0]};
        wait_job j = {.c = client_open_defaults((http_client_opts){0}, 3000, -1),
                      .req = {.url = ts_url(ts, "/"), .timeout_ms = waits[i].cancel ? -1 : 300}};
        if (waits[i].sink) {
            j.req.sink = waiting_sink;
            j.req.sink_user = &w;
        } else {
            j.req.method = "PUT";
            j.req.body_source = waiting_source;
            j.req.body_user = &w;
            j.req.body_length = -1;
        }
        coro_t *co = coro_spawn(run_wait_job, &j, NULL);
        while (waits[i].cancel && !w.entered)
            coro_sleep_until(coro_deadline_in(1));
        if (waits[i].cancel)
            coro_cancel(co);
        coro_join(co, NULL);
        CHECK_INT(j.err, waits[i].err);
        CHECK_INT(j.err_errno, waits[i].err_errno);
        CHECK(w.entered);
        CHECK(waits[i].cancel ? w.deadline_ns == CORO_NEVER : w.deadline_ns != CORO_NEVER);
        if (check_failures != before)
            fprintf(stderr, "    in case \"%s\": %s\n", waits[i].name, http_strerror(j.err));
        http_client_close(j.c);
        ts_stop(ts);
        close(fds[0]);
        close(fds[1]);
    }
}

/* ---- options http_client_open refuses ---- */

static const struct {
    const char *user_agent;
    bool ok;
} agents[] = {
    {"plain/1.0", true},
    {"with\ttab", true},
    {"evil\r\nX-Injected: 1", false},
    {"bare\nLF", false},
    {"bare\rCR", false},
    {"nul-free but \x01", false},
    {"del \x7f", false},
};

static void test_bad_options(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof agents / sizeof agents[0]; i++) {
        errno = 0;
        http_client *c = http_client_open(&(http_client_opts){.user_agent = agents[i].user_agent});
        int e = errno;
        if (!CHECK_INT(c != NULL, agents[i].ok) | !CHECK_INT(c ? 0 : e, agents[i].ok ? 0 : EINVAL))
            fprintf(stderr, "    for user_agent \"%s\"\n", agents[i].user_agent);
        http_client_close(c);
    }
}

/* ---- timeouts too big for nanoseconds in an int64_t: none at all ---- */

#define HUGE_MS INT64_C(9300000000000) /* 9.3e18 ns: above INT64_MAX */

static int64_t source_deadline;

static long record_deadline(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    (void)user;
    (void)buf;
    (void)cap;
    source_deadline = deadline_ns;
    return 0;
}

static void test_huge_timeouts(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    static const struct {
        const char *name;
        http_client_opts opts;
        int64_t request_ms;
    } cases[] = {
        {"request timeout_ms", {0}, HUGE_MS},
        {"client total_timeout_ms", {.total_timeout_ms = HUGE_MS}, 0},
        {"connect, read and idle timeouts",
         {.connect_timeout_ms = HUGE_MS, .read_timeout_ms = HUGE_MS,
          .idle_timeout_ms = HUGE_MS}, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = check_failures;
        testserver *ts = ts_start(AF_INET, ok);
        http_client *c = http_client_open(&cases[i].opts);
        for (int round = 0; round < 2; round++) { /* the second reuses the first's */
            http_request req = {.method = "PUT", .url = ts_url(ts, "/"),
                                .timeout_ms = cases[i].request_ms,
                                .body_source = record_deadline, .body_length = -1};
            http_response *r = NULL;
            source_deadline = 0;
            CHECK_INT(http_send(c, &req, &r), HTTP_OK);
            CHECK(source_deadline == CORO_NEVER);
            http_response_free(r);
        }
        CHECK_INT(ts_connections(ts), 1);
        if (check_failures != before)
            fprintf(stderr, "    in case \"%s\"\n", cases[i].name);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* ---- a head that arrived comes back with the error ---- */

static const struct {
    const char *name;
    const char *reply;
    int err;
    int status;          /* of *out; 0: *out is NULL */
} partial[] = {
    {"gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nX-A: 1\r\n\r\nzzzz",
     HTTP_E_UNSUPPORTED_CODING, 200},
    {"chunked, then gzip", "HTTP/1.1 404 NF\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     HTTP_E_UNSUPPORTED_CODING, 404},
    {"a truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
     HTTP_E_TRUNCATED, 200},
    {"a bad Content-Length: no response", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
     HTTP_E_MALFORMED, 0},
};

static int count_head(void *user, const http_response *head)
{
    (void)head;
    ++*(int *)user;
    return 0;
}

static void test_partial(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++) {
        int before = check_failures;
        const ts_step steps[] = {TS_READ(), TS_SEND(partial[i].reply), TS_CLOSE()};
        testserver *ts = ts_start(AF_INET, steps);
        http_client *c = client_open_defaults((http_client_opts){0}, 3000, 10000);
        http_response *r = NULL;
        int heads = 0;
        http_request req = {.url = ts_url(ts, "/"), .on_head = count_head, .user = &heads};
        CHECK_INT(http_send(c, &req, &r), partial[i].err);
        if (CHECK_INT(r != NULL, partial[i].status != 0) && r)
            CHECK_INT(r->status, partial[i].status);
        CHECK_INT(heads, partial[i].status != 0); /* on_head saw it (fetch -i shows it) */
        if (check_failures != before)
            fprintf(stderr, "    in case \"%s\"\n", partial[i].name);
        http_response_free(r);
        http_client_close(c);
        ts_stop(ts);
    }
}

int main(void)
{
    CHECK_INT(ts_run("contracts: a dropped redirect body", test_dropped_body, NULL), 0);
    CHECK_INT(ts_run("contracts: a waiting source or sink", test_waiting_callbacks, NULL), 0);
    CHECK_INT(ts_run("contracts: options refused", test_bad_options, NULL), 0);
    CHECK_INT(ts_run("contracts: huge timeouts", test_huge_timeouts, NULL), 0);
    CHECK_INT(ts_run("contracts: partial responses", test_partial, NULL), 0);
    return check_summary();
}
