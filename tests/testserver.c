/* testserver.c - the scripted in-process HTTP server of testserver.h.
 *
 * One accept coroutine, one coroutine per connection.  A connection's
 * coroutine walks its script step by step (play_step); each step is a few
 * lines over the runtime's io helpers.  The server keeps a list of its live
 * connections so that ts_stop can cancel them and wait until the last one
 * has unlinked itself.
 *
 * Reading a request (the TS_READ step) is in testserver_read.c.  The
 * helpers of testserver.h that work without a server (request heads,
 * places where nothing answers, the lookup stand-in, running a test) and
 * the loopback sockets are in testserver_helpers.c.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "testserver.h"
#include "testserver_internal.h"

#define BODY_BLOCK 65536        /* SEND_BODY writes this much at a time */

/* ---- small helpers ---- */

int ts_strings_add(ts_strings *s, char *str)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **grown = realloc(s->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        s->items = grown;
        s->cap = cap;
    }
    s->items[s->n++] = str;
    return 0;
}

static void strings_free(ts_strings *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i]);
    free(s->items);
    s->items = NULL;
    s->n = s->cap = 0;
}

/* ---- the steps ---- */


/* SUSPENDS.  Sleeps ms (0: just long enough for one pass of the reactor,
 * so the peer gets to read what we wrote before we write more). */
static int pause_ms(int ms)
{
    return coro_sleep_until(ms > 0 ? coro_deadline_in(ms) : coro_now());
}

static int step_send(ts_conn *cn, const ts_step *s)
{
    size_t len = s->len ? s->len : strlen(s->data);
    size_t piece = s->piece ? s->piece : len;
    for (size_t at = 0; at < len; at += piece) {
        if (at > 0 && pause_ms(s->ms) < 0)
            return STEP_STOP;
        size_t n = len - at < piece ? len - at : piece;
        if (io_send(cn->fd, s->data + at, n, CORO_NEVER) < 0)
            return STEP_STOP;
    }
    return STEP_NEXT;
}

/* Writes len bytes of the pattern, starting at pattern offset 0, as they
 * are (chunk_size 0) or each block as one chunk of the chunked coding. */
static int send_pattern(int fd, uint64_t len, size_t block, bool chunked, char *buf)
{
    for (uint64_t at = 0; at < len; at += block) {
        size_t n = len - at < block ? (size_t)(len - at) : block;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)ts_pattern_byte(at + i);
        char size_line[32];
        int sl = snprintf(size_line, sizeof size_line, "%zx\r\n", n);
        if (chunked && io_send(fd, size_line, (size_t)sl, CORO_NEVER) < 0)
            return -1;
        if (io_send(fd, buf, n, CORO_NEVER) < 0)
            return -1;
        if (chunked && io_send(fd, "\r\n", 2, CORO_NEVER) < 0)
            return -1;
    }
    if (chunked && io_send(fd, "0\r\n\r\n", 5, CORO_NEVER) < 0)
        return -1;
    return 0;
}

static int step_send_body(ts_conn *cn, const ts_step *s)
{
    size_t block = s->chunked && s->piece ? s->piece : BODY_BLOCK;
    char *buf = malloc(block); /* not on the coroutine's small stack */
    if (!buf)
        return STEP_STOP;
    int rc = send_pattern(cn->fd, s->len, block, s->chunked, buf);
    free(buf);
    return rc < 0 ? STEP_STOP : STEP_NEXT;
}

static void close_conn_fd(ts_conn *cn)
{
    if (cn->fd >= 0)
        coro_close(cn->fd);
    cn->fd = -1;
}

static int step_reset(ts_conn *cn)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(cn->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close_conn_fd(cn);
    return STEP_STOP;
}

static int step_drain(ts_conn *cn)
{
    char buf[512];
    while (io_read(cn->fd, buf, sizeof buf, CORO_NEVER) > 0)
        ;
    return STEP_STOP;
}

/* Plays one step.  STEP_NEXT: go on; STEP_AGAIN: restart the script;
 * STEP_STOP: the connection is over (closed by a step, by the peer, an
 * error, or ts_stop's cancellation). */
static int play_step(ts_conn *cn, const ts_step *s)
{
    switch (s->op) {
    case TS_OP_READ_REQUEST:
        return ts_step_read_request(cn);
    case TS_OP_SEND:
        return step_send(cn, s);
    case TS_OP_SEND_BODY:
        return step_send_body(cn, s);
    case TS_OP_SLEEP:
        return pause_ms(s->ms) < 0 ? STEP_STOP : STEP_NEXT;
    case TS_OP_RESET:
        return step_reset(cn);
    case TS_OP_SHUTDOWN_WR:
        shutdown(cn->fd, SHUT_WR);
        return STEP_NEXT;
    case TS_OP_DRAIN:
        return step_drain(cn);
    case TS_OP_LOOP:
        return STEP_AGAIN;
    case TS_OP_END:
    case TS_OP_CLOSE:
        break;
    }
    return STEP_STOP;
}

/* ---- connections ---- */

static void *conn_main(void *arg)
{
    ts_conn *cn = arg;
    testserver *ts = cn->ts;
    const ts_step *s = cn->script;
    while (!ts->stopping) {
        int next = play_step(cn, s);
        if (next == STEP_STOP)
            break;
        s = next == STEP_AGAIN ? cn->script : s + 1;
    }
    close_conn_fd(cn);
    *cn->prev_next = cn->next;
    if (cn->next)
        cn->next->prev_next = cn->prev_next;
    ts->open_now--;
    if (!ts->conns && ts->stopper)
        coro_wakeup(ts->stopper);
    free(cn);
    return NULL;
}

static int start_conn(testserver *ts, int fd)
{
    int one = 1; /* no Nagle: byte-at-a-time replies must leave at once */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ts_conn *cn = malloc(sizeof *cn);
    if (!cn)
        return -1;
    cn->ts = ts;
    cn->fd = fd;
    cn->index = ts->accepted;
    cn->script = ts->scripts[(size_t)ts->accepted < ts->n_scripts
                                 ? (size_t)ts->accepted : ts->n_scripts - 1];
    cn->have = 0;
    coro_opts opts = {.name = "ts-conn", .detached = true};
    cn->co = coro_spawn(conn_main, cn, &opts);
    if (!cn->co) {
        free(cn);
        return -1;
    }
    cn->next = ts->conns;
    cn->prev_next = &ts->conns;
    if (ts->conns)
        ts->conns->prev_next = &cn->next;
    ts->conns = cn;
    ts->accepted++;
    if (++ts->open_now > ts->open_max)
        ts->open_max = ts->open_now;
    return 0;
}

static void *accept_main(void *arg)
{
    testserver *ts = arg;
    while (!ts->stopping) {
        int fd = io_accept(ts->lfd, NULL, NULL, CORO_NEVER);
        if (fd < 0 && errno == ECANCELED)
            break;
        if (fd < 0) {
            if (pause_ms(1) < 0) /* EMFILE and friends: let others finish */
                break;
            continue;
        }
        if (ts->stopping || start_conn(ts, fd) < 0)
            coro_close(fd);
    }
    return NULL;
}

/* ---- starting and stopping ---- */

testserver *ts_start_scripts(int family, const ts_step *const *scripts, size_t n)
{
    if (n == 0 || n > MAX_SCRIPTS || (family != AF_INET && family != AF_INET6)) {
        errno = EINVAL;
        return NULL;
    }
    testserver *ts = calloc(1, sizeof *ts);
    if (!ts)
        return NULL;
    ts->family = family;
    memcpy(ts->scripts, scripts, n * sizeof *scripts);
    ts->n_scripts = n;
    ts->lfd = ts_bound_socket(family, &ts->port);
    if (ts->lfd < 0)
        goto fail;
    if (listen(ts->lfd, SOMAXCONN) < 0)
        goto fail_close;
    snprintf(ts->authority, sizeof ts->authority,
             family == AF_INET6 ? "[::1]:%d" : "127.0.0.1:%d", ts->port);
    coro_opts opts = {.name = "ts-accept"};
    ts->acceptor = coro_spawn(accept_main, ts, &opts);
    if (!ts->acceptor)
        goto fail_close;
    return ts;
fail_close:;
    int e = errno;
    close(ts->lfd);
    errno = e;
fail:
    free(ts);
    return NULL;
}

testserver *ts_start(int family, const ts_step *script)
{
    return ts_start_scripts(family, &script, 1);
}

testserver *ts_start_fixed(int family, const char *body)
{
    size_t blen = strlen(body);
    size_t size = blen + 128;
    char *resp = malloc(size);
    if (!resp)
        return NULL;
    snprintf(resp, size, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", blen, body);
    /* The script lives inside the server, so start with a stand-in and
     * point the server at its own copy before anything is accepted. */
    static const ts_step placeholder[] = {TS_END()};
    testserver *ts = ts_start(family, placeholder);
    if (!ts) {
        free(resp);
        return NULL;
    }
    ts->fixed_response = resp;
    ts->fixed[0] = (ts_step)TS_READ();
    ts->fixed[1] = (ts_step)TS_SEND(resp);
    ts->fixed[2] = (ts_step)TS_LOOP();
    ts->scripts[0] = ts->fixed;
    return ts;
}

void ts_stop(testserver *ts)
{
    if (!ts)
        return;
    ts->stopping = true;
    coro_cancel(ts->acceptor);
    while (coro_join(ts->acceptor, NULL) < 0)
        ; /* we were cancelled ourselves: the acceptor still needs joining */
    coro_close(ts->lfd);
    for (ts_conn *cn = ts->conns; cn; cn = cn->next)
        coro_cancel(cn->co);
    ts->stopper = coro_self();
    while (ts->conns)
        coro_park(CORO_NEVER); /* conn_main wakes us at the last one */
    strings_free(&ts->requests);
    strings_free(&ts->bodies);
    strings_free(&ts->urls);
    free(ts->request_conn);
    free(ts->body_len);
    free(ts->fixed_response);
    free(ts);
}

/* ---- what the server saw ---- */

int ts_port(const testserver *ts)
{
    return ts->port;
}

const char *ts_authority(const testserver *ts)
{
    return ts->authority;
}

const char *ts_url(testserver *ts, const char *path)
{
    size_t size = strlen(ts->authority) + strlen(path) + 16;
    char *url = malloc(size);
    if (!url)
        abort(); /* a test cannot go on without it */
    snprintf(url, size, "http://%s%s", ts->authority, path);
    if (ts_strings_add(&ts->urls, url) < 0)
        abort();
    return url;
}

int ts_connections(const testserver *ts)
{
    return ts->accepted;
}

int ts_open_connections(const testserver *ts)
{
    return ts->open_now;
}

int ts_max_open_connections(const testserver *ts)
{
    return ts->open_max;
}

int ts_requests(const testserver *ts)
{
    return (int)ts->requests.n;
}

const char *ts_request(const testserver *ts, int i)
{
    return i >= 0 && (size_t)i < ts->requests.n ? ts->requests.items[i] : NULL;
}

const char *ts_request_body(const testserver *ts, int i, size_t *len)
{
    if (i < 0 || (size_t)i >= ts->bodies.n)
        return NULL;
    if (len)
        *len = ts->body_len[i];
    return ts->bodies.items[i];
}

int ts_request_connection(const testserver *ts, int i)
{
    return i >= 0 && (size_t)i < ts->requests.n ? ts->request_conn[i] : -1;
}

const char *ts_last_request(const testserver *ts)
{
    return ts_request(ts, (int)ts->requests.n - 1);
}

int ts_wait_requests(const testserver *ts, int n, int64_t timeout_ms)
{
    int64_t deadline = coro_deadline_in(timeout_ms);
    while (ts_requests(ts) < n) {
        if (coro_now() >= deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (pause_ms(1) < 0)
            return -1;
    }
    return 0;
}
