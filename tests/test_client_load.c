/* test_client_load.c - many requests at once, big bodies, IPv6, and what
 * a lookup leaves behind.
 *
 * What `await` promises beyond one request: a thousand of them share one
 * thread; a slow lookup parks only its own coroutine; a 64 MiB body flows
 * through a sink without being held in memory.  Cancellation is in
 * test_client_cancel.c.  Sizes shrink under valgrind and ASan
 * (ts_slow_tools), which are many times slower/bigger.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/client.h>
#include "client_test.h"
#include <bareawait/coro.h>
#include "testserver.h"

static http_client *open_client_with(http_client_opts o)
{
    return client_open_defaults(o, 5000, 30000);
}

/* ---- many at once ---- */

typedef struct crowd {
    http_client *c;
    const char *url;
    int ok;        /* GETs that returned the expected body */
    int first_err; /* the first failure's code, 0 if none */
} crowd;

static void *crowd_get(void *arg)
{
    crowd *cr = arg;
    http_response *r = NULL;
    int err = http_get(cr->c, cr->url, &r);
    if (err == HTTP_OK && r && r->body && strcmp(r->body, "hello") == 0)
        cr->ok++;
    else if (!cr->first_err)
        cr->first_err = err ? err : -1000;
    http_response_free(r);
    return NULL;
}

/* SUSPENDS.  n GETs from n coroutines at once; all must succeed. */
static void run_crowd(int n, int max_per_host)
{
    testserver *ts = ts_start_fixed(AF_INET, "hello");
    crowd cr = {open_client_with((http_client_opts){.max_per_host = max_per_host}),
                ts_url(ts, "/")};
    coro_t **co = calloc((size_t)n, sizeof *co);
    int64_t t0 = ts_now_ms();
    for (int i = 0; i < n; i++)
        co[i] = coro_spawn(crowd_get, &cr, NULL);
    for (int i = 0; i < n; i++)
        if (co[i])
            coro_join(co[i], NULL);
    free(co);
    fprintf(stderr, "    %d GETs, max_per_host %d: %lld ms, %d connections\n", n,
            max_per_host, (long long)(ts_now_ms() - t0), ts_connections(ts));
    if (!CHECK_INT(cr.ok, n))
        fprintf(stderr, "    first failure: %s\n", http_strerror(cr.first_err));
    CHECK_INT(ts_requests(ts), n);
    CHECK(ts_max_open_connections(ts) <= max_per_host);
    http_client_close(cr.c);
    ts_stop(ts);
}

static void test_thousand(void *arg)
{
    (void)arg;
    int n = ts_on_valgrind() ? 100 : 1000;
    run_crowd(n, 10); /* the default max_per_host */
    /* One connection each: 2n fds in this process (client and server). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(2 * n + 64))
        fprintf(stderr, "    skipped %d connections at once: RLIMIT_NOFILE is %llu\n", n,
                (unsigned long long)rl.rlim_cur);
    else
        run_crowd(n, n);
}

/* ---- a slow lookup parks only its own coroutine ---- */

typedef struct ticker {
    bool stop;
    int ticks;
} ticker;

static void *tick(void *arg)
{
    ticker *t = arg;
    while (!t->stop) {
        coro_sleep_until(coro_deadline_in(10));
        t->ticks++;
    }
    return NULL;
}

static void test_slow_lookup_ticks(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_END()};
    testserver *ts = ts_start(AF_INET, ok);
    http_set_lookup(ts_lookup);
    http_client *c = open_client_with((http_client_opts){0});
    ticker t = {0};
    coro_t *tk = coro_spawn(tick, &t, NULL);
    char url[64];
    snprintf(url, sizeof url, "http://slow-200.test:%d/", ts_port(ts));
    int64_t t0 = ts_now_ms();
    http_response *r = NULL;
    CHECK_INT(http_get(c, url, &r), HTTP_OK);
    int64_t took = ts_now_ms() - t0;
    t.stop = true;
    coro_join(tk, NULL);
    CHECK(took >= 200);
    if (!CHECK(t.ticks >= 5))
        fprintf(stderr, "    %d ticks in %lld ms\n", t.ticks, (long long)took);
    http_response_free(r);
    http_client_close(c);
    http_set_lookup(NULL);
    ts_stop(ts);
}

/* ---- a big body through a sink ---- */

typedef struct counter {
    uint64_t bytes;    /* received so far */
    uint64_t sum;      /* a simple checksum: sum of byte * (offset % 65521 + 1) */
    uint64_t bad_at;   /* offset of the first wrong byte, or UINT64_MAX */
    int calls;
} counter;

static int count_sink(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns;
    counter *k = user;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)data[i];
        uint64_t off = k->bytes + i;
        if (b != ts_pattern_byte(off) && k->bad_at == UINT64_MAX)
            k->bad_at = off;
        k->sum += b * (off % 65521 + 1);
    }
    k->bytes += len;
    k->calls++;
    return 0;
}

static uint64_t pattern_sum(uint64_t n)
{
    uint64_t sum = 0;
    for (uint64_t off = 0; off < n; off++)
        sum += ts_pattern_byte(off) * (off % 65521 + 1);
    return sum;
}

/* Resets the peak RSS to the current RSS (Linux >= 4.0); 0 or -1. */
static int reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int rc = fputs("5", f) < 0 ? -1 : 0;
    return fclose(f) < 0 ? -1 : rc;
}

static void test_streaming(void *arg)
{
    (void)arg;
    const uint64_t size = ts_slow_tools() ? (uint64_t)4 << 20 : (uint64_t)64 << 20;
    char head[128];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
             (unsigned long long)size);
    ts_step by_length[] = {TS_READ(), TS_SEND(head), TS_SEND_BODY(size), TS_LOOP()};
    ts_step chunked[] = {TS_READ(),
                         TS_SEND("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
                         TS_SEND_CHUNKED_BODY(size, 40000), TS_LOOP()};
    const uint64_t want_sum = pattern_sum(size);
    for (int kind = 0; kind < 2; kind++) {
        testserver *ts = ts_start(AF_INET, kind ? chunked : by_length);
        http_client *c = open_client_with((http_client_opts){0});
        counter k = {.bad_at = UINT64_MAX};
        http_request req = {.url = ts_url(ts, "/big"), .sink = count_sink, .sink_user = &k};
        http_response *r = NULL;
        bool measured = reset_peak_rss() == 0;
        long rss0 = check_proc_kib("/proc/self/status", "VmRSS:");
        CHECK_INT(http_send(c, &req, &r), HTTP_OK);
        long grew_mib = (check_proc_kib("/proc/self/status", "VmHWM:") - rss0) / 1024;
        fprintf(stderr, "    %s, %llu MiB: %d sink calls, peak RSS grew %ld MiB%s\n",
                kind ? "chunked" : "Content-Length", (unsigned long long)(size >> 20),
                k.calls, grew_mib, measured ? "" : " (not measured)");
        CHECK_INT(k.bytes, size);
        CHECK_INT(k.bad_at, UINT64_MAX);
        CHECK_INT(k.sum, want_sum);
        if (CHECK(r != NULL)) {
            CHECK(r->body == NULL);
            CHECK_INT(r->body_len, size);
            CHECK_INT(r->content_length, kind ? -1 : (int64_t)size);
        }
        if (measured && !ts_slow_tools())
            CHECK(grew_mib < 32);
        http_response_free(r);
        /* The connection is reused after a big body, too. */
        k = (counter){.bad_at = UINT64_MAX};
        r = NULL;
        CHECK_INT(http_send(c, &req, &r), HTTP_OK);
        CHECK_INT(k.bytes, size);
        CHECK_INT(ts_connections(ts), 1);
        http_response_free(r);
        http_client_close(c);
        ts_stop(ts);
    }
}

/* And a collected one: 4 MiB in resp->body, byte for byte. */
static void test_collected_body(void *arg)
{
    (void)arg;
    const uint64_t size = (uint64_t)4 << 20;
    static const ts_step chunked[] = {
        TS_READ(), TS_SEND("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        TS_SEND_CHUNKED_BODY((uint64_t)4 << 20, 12345), TS_END()};
    testserver *ts = ts_start(AF_INET, chunked);
    http_client *c = open_client_with((http_client_opts){0});
    http_response *r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/"), &r), HTTP_OK);
    if (CHECK(r != NULL) && CHECK(r->body != NULL) && CHECK_INT(r->body_len, size)) {
        counter k = {.bad_at = UINT64_MAX};
        count_sink(&k, r->body, r->body_len, CORO_NEVER);
        CHECK_INT(k.bad_at, UINT64_MAX);
        CHECK_INT(r->body[size], 0);
    }
    http_response_free(r);
    http_client_close(c);
    ts_stop(ts);
}

/* ---- IPv6 ---- */

static void test_ipv6(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET6, ok);
    if (!ts) {
        fprintf(stderr, "    skipped: ::1 is not available here (%s)\n", strerror(errno));
        return;
    }
    http_client *c = open_client_with((http_client_opts){0});
    http_response *r = NULL;
    CHECK_INT(http_get(c, ts_url(ts, "/six"), &r), HTTP_OK);
    if (CHECK(r != NULL)) {
        CHECK_STR(r->body, "ok");
        CHECK_STR(r->url, ts_url(ts, "/six"));
    }
    http_response_free(r);
    char value[64];
    ts_head_header(ts_last_request(ts), "Host", value, sizeof value);
    CHECK_STR(value, ts_authority(ts)); /* "[::1]:PORT" */
    /* A name that resolves to ::1 only. */
    http_set_lookup(ts_lookup);
    char url[64];
    snprintf(url, sizeof url, "http://v6.test:%d/", ts_port(ts));
    r = NULL;
    CHECK_INT(http_get(c, url, &r), HTTP_OK);
    http_response_free(r);
    http_set_lookup(NULL);
    http_client_close(c);
    ts_stop(ts);
}

/* ---- what a lookup leaves behind ---- */

#define MAX_FD_SCAN 4096
static bool inherited[MAX_FD_SCAN]; /* open before the test: not ours to judge */

static void note_inherited_fds(void)
{
    for (int fd = 0; fd < MAX_FD_SCAN; fd++)
        inherited[fd] = fcntl(fd, F_GETFD) >= 0;
}

/* Whether every fd opened since note_inherited_fds is close-on-exec;
 * prints those that are not. */
static bool all_cloexec(const char *when)
{
    bool ok = true;
    for (int fd = 0; fd < MAX_FD_SCAN; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (!inherited[fd] && flags >= 0 && !(flags & FD_CLOEXEC)) {
            char path[64], target[256] = "";
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(path, target, sizeof target - 1);
            target[n > 0 ? n : 0] = '\0';
            fprintf(stderr, "    %s: fd %d (%s) is not close-on-exec\n", when, fd, target);
            ok = false;
        }
    }
    return ok;
}

typedef struct fd_probe {
    bool stop;
    bool cloexec;  /* every fd seen during the request was close-on-exec */
} fd_probe;

static void *probe_fds(void *arg)
{
    fd_probe *p = arg;
    while (!p->stop) {
        if (p->cloexec && !all_cloexec("during a lookup"))
            p->cloexec = false; /* said once is enough */
        coro_sleep_until(coro_deadline_in(20));
    }
    return NULL;
}

/* SUSPENDS.  The server's ends of connections are fds of this process
 * too: let its coroutines see the client's closes.  Yields only, no sleep:
 * what the fd count then shows is what the client left behind. */
static void server_settles(testserver *ts)
{
    for (int k = 0; k < 1000 && ts_open_connections(ts) > 0; k++)
        coro_yield();
}

/* A program that forks and execs while a request runs must not hand the
 * child the client's fds; and once a request has returned and the client
 * is closed, nothing of it may be left open. */
static void test_lookup_leftovers(void *arg)
{
    (void)arg;
    static const ts_step ok[] = {TS_READ(), TS_SEND(OK_2), TS_LOOP()};
    testserver *ts = ts_start(AF_INET, ok);
    http_set_lookup(ts_lookup);
    char url[64];
    snprintf(url, sizeof url, "http://slow-100.test:%d/", ts_port(ts));
    note_inherited_fds();
    http_client *c = open_client_with((http_client_opts){0});
    fd_probe p = {.cloexec = true};
    coro_t *probe = coro_spawn(probe_fds, &p, NULL);
    http_response *r = NULL;
    CHECK_INT(http_get(c, url, &r), HTTP_OK);
    http_response_free(r);
    p.stop = true;
    coro_join(probe, NULL);
    CHECK(p.cloexec);
    http_client_close(c);

    snprintf(url, sizeof url, "http://v4.test:%d/", ts_port(ts));
    int left = 0;
    for (int i = 0; i < 10; i++) {
        c = open_client_with((http_client_opts){0});
        server_settles(ts);
        int before = check_count_fds();
        r = NULL;
        CHECK_INT(http_get(c, url, &r), HTTP_OK);
        http_response_free(r);
        http_client_close(c);
        server_settles(ts);
        left += check_count_fds() != before;
    }
    if (!CHECK_INT(left, 0))
        fprintf(stderr, "    %d of 10 looked-up GETs left an fd open after returning "
                "(the resolver's)\n", left);
    http_set_lookup(NULL);
    ts_stop(ts);
}

int main(void)
{
    CHECK_INT(ts_run("load: streaming a big body", test_streaming, NULL), 0);
    CHECK_INT(ts_run("load: a collected 4 MiB body", test_collected_body, NULL), 0);
    CHECK_INT(ts_run("load: 1000 concurrent GETs", test_thousand, NULL), 0);
    CHECK_INT(ts_run("load: a slow lookup parks only its coroutine", test_slow_lookup_ticks, NULL), 0);
    CHECK_INT(ts_run("IPv6", test_ipv6, NULL), 0);
    CHECK_INT(ts_run("lookup: fds close-on-exec, nothing left behind",
                     test_lookup_leftovers, NULL), 0);
    return check_summary();
}
