/* test_server_limits.c - every limit of http_server and what passing it
 * gets: the status (400, 408, 413, 417, 431, 501, 505, 503), then the
 * close -- a FIN, not a reset, so the answer is read -- or a close with no
 * answer at all (an idle connection, one that never sent a byte).
 *
 * Table-driven: each row is a server with its options, the bytes a raw
 * client sends (at once, or trickled a byte at a time), and what must come
 * back, within what time.  A few cases that need more than one connection
 * follow the table.  Each row runs as its own case: the fds open after it
 * must be those open before.
 */
#include "server_test.h"

#define H "Host: a\r\n"
#define C "Connection: close\r\n"   /* for the rows that pass: then the close */

typedef struct row {
    const char *name;
    http_server_opts opts;
    const char *send;          /* sent at once, or... */
    int trickle_ms;            /* ...a byte every trickle_ms (the rest unsent
                                  when the server answers) */
    size_t filler;             /* then this many bytes of 'x' (a huge head) */
    int status;                /* the answer; 0: closed without one */
    int64_t min_ms, max_ms;    /* when the close must come (0, 0: no check) */
} row;

static const row rows[] = {
    {"a head above max_head_bytes: 431", {.max_head_bytes = 1024},
     "GET / HTTP/1.1\r\n" H "X-Big: ", 0, 64 * 1024, 431, 0, 0},
    {"a head of max_head_bytes is fine", {.max_head_bytes = 46},
     "GET / HTTP/1.1\r\n" H C "\r\n", 0, 0, 200, 0, 0},
    {"a head a byte over max_head_bytes, arriving whole: 431", {.max_head_bytes = 45},
     "GET / HTTP/1.1\r\n" H C "\r\n", 0, 0, 431, 0, 0},
    {"more than max_headers fields: 431", {.max_headers = 5},
     "GET / HTTP/1.1\r\n" H "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 0, 0, 431, 0, 0},
    {"exactly max_headers fields is fine", {.max_headers = 5},
     "GET / HTTP/1.1\r\n" H C "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 0, 0, 200, 0, 0},
    {"a Content-Length above max_body_bytes: 413 before the body",
     {.max_body_bytes = 10}, "POST / HTTP/1.1\r\n" H "Content-Length: 11\r\n\r\n", 0, 0, 413, 0, 0},
    {"a chunked body above max_body_bytes: 413", {.max_body_bytes = 10},
     "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n5\r\n12345\r\n0\r\n\r\n",
     0, 0, 413, 0, 0},
    {"a chunked body of max_body_bytes is fine", {.max_body_bytes = 10},
     "POST / HTTP/1.1\r\n" H C "Transfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n4\r\n1234\r\n"
     "0\r\n\r\n", 0, 0, 200, 0, 0},
    {"slowloris: a head trickled past header_timeout_ms: 408", {.header_timeout_ms = 300},
     "GET / HTTP/1.1\r\n" H "X-Slow: 0123456789012345678901234567890123456789\r\n\r\n", 20, 0,
     408, 280, 900},
    {"a body slower than body_timeout_ms: 408", {.body_timeout_ms = 200},
     "POST / HTTP/1.1\r\n" H "Content-Length: 10\r\n\r\n123", 0, 0, 408, 180, 800},
    {"a connection that sends nothing: closed at header_timeout_ms",
     {.header_timeout_ms = 200}, "", 0, 0, 0, 180, 800},
    {"a head begun and left: 408 at header_timeout_ms", {.header_timeout_ms = 200},
     "GET / HTT", 0, 0, 408, 180, 800},
    {"HTTP/2.0: 505", {0}, "GET / HTTP/2.0\r\n" H "\r\n", 0, 0, 505, 0, 0},
    {"the HTTP/2 preface: 505", {0}, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, 0, 505, 0, 0},
    {"Content-Length and Transfer-Encoding: 400", {0},
     "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     0, 0, 400, 0, 0},
    {"two Content-Lengths: 400", {0},
     "POST / HTTP/1.1\r\n" H "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx", 0, 0, 400, 0, 0},
    {"a bad chunk size: 400", {0},
     "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 0, 0,
     400, 0, 0},
    {"a bare LF in a chunked body's framing: 400 (a smuggling pattern)", {0},
     "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 0, 0,
     400, 0, 0},
    {"a blank after a chunk size: 400", {0},
     "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", 0,
     0, 400, 0, 0},
    {"a coding before chunked: 501", {0},
     "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 0, 0, 501, 0, 0},
    {"a last coding that is not chunked: 400", {0},
     "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n", 0, 0, 400, 0, 0},
    {"an Expect other than 100-continue: 417", {0},
     "POST / HTTP/1.1\r\n" H "Expect: something\r\nContent-Length: 1\r\n\r\nx", 0, 0, 417, 0, 0},
    {"a bare LF: 400", {0}, "GET / HTTP/1.1\nHost: a\n\n", 0, 0, 400, 0, 0},
    {"obs-fold: 400", {0}, "GET / HTTP/1.1\r\n" H "X: a\r\n b\r\n\r\n", 0, 0, 400, 0, 0},
    {"HTTP/1.1 without Host: 400", {0}, "GET / HTTP/1.1\r\n\r\n", 0, 0, 400, 0, 0},
    {"a TLS hello: 400 at once, headers never complete", {0}, "\x16\x03\x01\x02", 0, 0, 400,
     0, 500},
};

static const row *current;

/* Sends the row's bytes a byte at a time (a coroutine of its own, so the
 * case can read meanwhile); stops at the first failure (the server
 * closed). */
static void *trickle(void *arg)
{
    int fd = *(int *)arg;
    for (const char *p = current->send; *p; p++) {
        if (io_send(fd, p, 1, coro_deadline_in(2000)) != 1)
            break;
        if (coro_sleep_until(coro_deadline_in(current->trickle_ms)) < 0)
            break;
    }
    return NULL;
}

/* The row's filler: a head too big for any limit, written until the
 * server has answered (it reads and drops it meanwhile). */
static void send_filler(int fd, size_t n)
{
    char *x = malloc(n);
    if (!x)
        abort();
    memset(x, 'x', n);
    io_send(fd, x, n, coro_deadline_in(3000));   /* may fail: the server closed */
    free(x);
}

static void *run_row(void *arg)
{
    (void)arg;
    const row *r = current;
    st_server sv;
    if (st_up(&sv, &r->opts, st_echo, NULL) < 0)
        return NULL;
    int fd = st_connect(AF_INET, sv.port);
    if (fd < 0) {
        st_down(&sv);
        return NULL;
    }
    int64_t t0 = ts_now_ms();
    coro_t *sender = NULL;
    if (r->trickle_ms)
        sender = coro_spawn(trickle, &fd, NULL);
    else if (*r->send)
        CHECK_INT(st_send(fd, r->send), 0);
    if (r->filler)
        send_filler(fd, r->filler);
    static char buf[16384];
    size_t len = 0, at = 0;
    int how = st_read_all(fd, buf, sizeof buf, 3000 * st_slow(), &len);
    int64_t ms = ts_now_ms() - t0;
    if (sender) {
        coro_cancel(sender);
        coro_join(sender, NULL);
    }
    if (!CHECK_INT(how, ST_EOF))       /* a FIN: the answer was not reset away */
        fprintf(stderr, "    %s: read ended %d after %zu bytes\n", r->name, how, len);
    st_answer a = {0};
    if (r->status == 0) {
        CHECK_INT(len, 0);
    } else if (CHECK(st_next_answer(buf, len, &at, false, &a))) {
        CHECK_INT(a.status, r->status);
        CHECK(r->status == 200 || st_head_has(&a, "Connection: close"));
    }
    if (r->max_ms && !CHECK(ms >= r->min_ms && ms <= r->max_ms * st_slow()))
        fprintf(stderr, "    %s: closed after %lld ms, want %lld..%lld\n", r->name,
                (long long)ms, (long long)r->min_ms, (long long)r->max_ms * st_slow());
    coro_close(fd);
    st_down(&sv);
    CHECK_INT(sv.closed, 1);
    return NULL;
}

static void check_rows(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int before = check_failures;
        current = &rows[i];
        st_run_case(run_row);
        if (check_failures != before)
            fprintf(stderr, "    in row \"%s\"\n", rows[i].name);
    }
}

/* ---- beyond the table ---- */

/* Answered, then idle past idle_timeout_ms: closed, without an answer. */
static void *idle_keepalive(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, &(http_server_opts){.idle_timeout_ms = 200}, st_echo, NULL) < 0)
        return NULL;
    int fd = st_connect(AF_INET, sv.port);
    char buf[1024];
    if (fd >= 0 && CHECK_INT(st_send(fd, "GET /once HTTP/1.1\r\n" H "\r\n"), 0)) {
        ssize_t n = io_read(fd, buf, sizeof buf, coro_deadline_in(2000));
        CHECK(n > 0 && strstr(buf, "GET /once body=0:") != NULL);
        int64_t t0 = ts_now_ms();
        size_t len;
        CHECK_INT(st_read_all(fd, buf, sizeof buf, 3000, &len), ST_EOF);
        CHECK_INT(len, 0);
        int64_t ms = ts_now_ms() - t0;
        if (!CHECK(ms >= 180 && ms <= 800 * st_slow()))
            fprintf(stderr, "    closed after %lld ms idle\n", (long long)ms);
        CHECK_STR(sv.last_closed, "idle");
    }
    if (fd >= 0)
        coro_close(fd);
    st_down(&sv);
    return NULL;
}

/* max_connections open: the next gets 503 and a close at once, and the
 * open ones are served still. */
static void *max_connections(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, &(http_server_opts){.max_connections = 2}, st_echo, NULL) < 0)
        return NULL;
    int a = st_connect(AF_INET, sv.port), b = st_connect(AF_INET, sv.port);
    while (sv.accepted < 2 && coro_sleep_until(coro_deadline_in(1)) == 0)
        ;
    int c = st_connect(AF_INET, sv.port);
    static char buf[4096];
    size_t len = 0, at = 0;
    st_answer ans;
    if (c >= 0 && CHECK_INT(st_read_all(c, buf, sizeof buf, 2000, &len), ST_EOF) &&
        CHECK(st_next_answer(buf, len, &at, false, &ans))) {
        CHECK_INT(ans.status, 503);
        CHECK(st_head_has(&ans, "Connection: close"));
    }
    CHECK_INT(sv.refused, 1);
    if (a >= 0 && CHECK_INT(st_send(a, "GET /still HTTP/1.1\r\n" H "Connection: close\r\n\r\n"), 0)) {
        CHECK_INT(st_read_all(a, buf, sizeof buf, 2000, &len), ST_EOF);
        CHECK(strstr(buf, "GET /still body=0:") != NULL);
    }
    for (int fd, i = 0; i < 3; i++)
        if ((fd = i == 0 ? a : i == 1 ? b : c) >= 0)
            coro_close(fd);
    st_down(&sv);
    return NULL;
}

static void run_idle(void) { st_run_case(idle_keepalive); }
static void run_max(void) { st_run_case(max_connections); }

static const check_case cases[] = {
    {"the limits, one row each", check_rows},
    {"idle keep-alive connection closed", run_idle},
    {"max_connections: 503", run_max},
};

int main(void)
{
    return check_run(cases, sizeof cases / sizeof cases[0], 1);
}
