/* fetch_testserver.c - an HTTP server with scripted routes, for test_fetch.sh.
 *
 * test_fetch.sh drives the built fetch binary, so its server must be a
 * process of its own.  This one runs on the runtime: one accept coroutine,
 * one coroutine per connection.  It listens on 127.0.0.1 (ephemeral port)
 * and on ::1 when the machine has it, and prints one line on stdout:
 *
 *     PORT REFUSED_PORT BLACKHOLE_PORT IPV6_PORT
 *
 * IPV6_PORT serves the same routes on ::1 (0 if there is no ::1);
 * REFUSED_PORT is bound but not listening (a connect gets RST: refused);
 * BLACKHOLE_PORT listens with a full accept queue (a connect's SYN is
 * dropped: it hangs until its timeout).  The server lives until killed,
 * or for `lifetime` seconds (argv[1], default 120) so that a crashed test
 * leaves nothing behind.
 *
 * The request's body (Content-Length or chunked) is read before the
 * answer, whatever the route, so that keep-alive stays in step.
 *
 * Routes (any method; HEAD gets the head only; a route matches the
 * target's path, before any '?'):
 *   /ok              200 "hello from fetch_testserver\n"
 *   /slow300         the same after 300 ms
 *   /slow-body       1.6 MiB in 16 pieces, 40 ms apart (the progress bar)
 *   /big64m          64 MiB of a text pattern
 *   /404             404 "not found\n";  /status/N: status N
 *   /redirect-to-ok  302 to /ok;  /redirect-loop: 302 to itself
 *   /r/N             302 to /r/N-1; /r/0 is 200 "arrived\n"
 *   /chunked         a valid chunked body "hello chunked\n"
 *   /chunked-bad     a chunk size "zz"
 *   /truncated       Content-Length 100, 10 bytes, close
 *   /empty           close without a byte
 *   /reset           a head and part of the body, then RST
 *   /reset-early     RST before any byte
 *   /nothttp         "SSH-2.0-OpenSSH_9.2\r\n", close
 *   /hang            never answers (waits until the client leaves)
 *   /cl-negative     Content-Length: -5
 *   /headers-huge    a 100 KB head
 *   /echo-headers    the request's header lines as the body
 *   /conn            "connection N\n": which accepted connection this is
 *   /stats           "connections N\n": how many were accepted
 *   /te-gzip         Transfer-Encoding: gzip (fetch exits 61), close
 *   /echo, /echo/... 200, the request as read: request line, every header
 *                    line, blank line, then the body (chunks joined)
 *   /redirect-to?status=N&url=URL  N (default 302) to URL, percent-decoded
 *   /binary          "binary\n" then the 256 byte values 0..255 (NUL bytes)
 *   /big/N           N MiB of the /big64m pattern
 *   /slow/MS         "slow\n" after MS milliseconds
 *   /retry/N/ID      503 for the first N requests with this ID, then 200
 *                    "ok after N\n"
 *   /type            Content-Type: text/plain; charset=utf-8
 *   /p/REST          "REST\n": the rest of the target (globbed URLs)
 *   http://HOST/PATH an absolute target (a request to a proxy) is routed
 *                    by PATH: the server plays the proxy (-x tests)
 *
 * The routes are in fetch_testserver_routes.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>

#include "fetch_testserver.h"

#define CONN_STACK (128 * 1024)
#define READ_DEADLINE_MS 30000

int accepted; /* connections so far */

/* ---- connections ---- */

/* SUSPENDS.  Reads more bytes after c->buf's; -1 at EOF, on error, or
 * when the buffer is full. */
static int read_more(conn *c)
{
    if (c->have == HEAD_MAX)
        return -1;
    ssize_t n = io_read(c->fd, c->buf + c->have, HEAD_MAX - c->have,
                        coro_deadline_in(READ_DEADLINE_MS));
    if (n <= 0)
        return -1;
    c->have += (size_t)n;
    c->buf[c->have] = '\0';
    return 0;
}

/* Drops the first n buffered bytes (they were used). */
static void consume(conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->have - n);
    c->have -= n;
    c->buf[c->have] = '\0';
}

/* SUSPENDS.  The length of what ends with the first `end` in the buffer
 * (a line, a head), reading until it is there; -1 if it never comes. */
static long read_until(conn *c, const char *end)
{
    for (;;) {
        c->buf[c->have] = '\0';
        char *at = strstr(c->buf, end);
        if (at)
            return at + strlen(end) - c->buf;
        if (read_more(c) < 0)
            return -1;
    }
}

/* The value of header `name` in r's head, or NULL. */
static const char *header_value(const request *r, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *line = r->headers; line && *line; line = strstr(line, "\r\n")) {
        line += line[0] == '\r' ? 2 : 0;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1 + strspn(line + n + 1, " \t");
            snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
            return out;
        }
    }
    return NULL;
}

/* SUSPENDS.  Appends the next n body bytes to r->body. */
static int read_body_bytes(conn *c, request *r, size_t n)
{
    if (n > BODY_MAX - r->body_len)
        return -1;
    char *b = realloc(r->body, r->body_len + n + 1);
    if (!b)
        return -1;
    r->body = b;
    while (n > 0) {
        if (c->have == 0 && read_more(c) < 0)
            return -1;
        size_t k = n < c->have ? n : c->have;
        memcpy(r->body + r->body_len, c->buf, k);
        r->body_len += k;
        consume(c, k);
        n -= k;
    }
    return 0;
}

/* SUSPENDS.  A chunked body: "SIZE\r\n" DATA "\r\n" ... "0\r\n\r\n"
 * (trailers are not expected from fetch). */
static int read_chunked(conn *c, request *r)
{
    for (;;) {
        long line = read_until(c, "\r\n");
        char *end;
        unsigned long size = line < 0 ? 0 : strtoul(c->buf, &end, 16);
        if (line < 0 || end == c->buf)
            return -1;
        consume(c, (size_t)line);
        if (size > 0 && read_body_bytes(c, r, size) < 0)
            return -1;
        long crlf = read_until(c, "\r\n");
        if (crlf != 2)
            return -1;
        consume(c, 2);
        if (size == 0)
            return 0;
    }
}

/* SUSPENDS.  The body the head announces, by Content-Length or chunked. */
static int read_body(conn *c, request *r)
{
    char v[64];
    if (header_value(r, "Transfer-Encoding", v, sizeof v))
        return strcasecmp(v, "chunked") == 0 ? read_chunked(c, r) : -1;
    if (!header_value(r, "Content-Length", v, sizeof v))
        return 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v || *end || n > BODY_MAX)
        return -1;
    return read_body_bytes(c, r, (size_t)n);
}

/* SUSPENDS.  The next request on c: its head copied into r, then its
 * body.  1, 0 at a clean end of the connection, -1 if malformed. */
static int read_request(conn *c, request *r)
{
    memset(r, 0, offsetof(request, head));
    r->body = NULL;
    r->body_len = 0;
    long head = read_until(c, "\r\n\r\n");
    if (head < 0)
        return c->have == 0 ? 0 : -1;
    memcpy(r->head, c->buf, (size_t)head);
    r->head[head] = '\0';
    r->head_len = (size_t)head;
    consume(c, (size_t)head);
    if (sscanf(r->head, "%15s %511s", r->method, r->path) != 2)
        return -1;
    r->head_only = strcmp(r->method, "HEAD") == 0;
    r->headers = strstr(r->head, "\r\n") + 2;
    r->headers_len = r->head_len - (size_t)(r->headers - r->head);
    return read_body(c, r) < 0 ? -1 : 1;
}

static void *serve(void *arg)
{
    conn *c = arg;
    request r;
    int got;
    while ((got = read_request(c, &r)) > 0) {
        int rc = dispatch(c, &r);
        free(r.body);
        if (rc < 0)
            break;
    }
    if (got < 0)
        free(r.body);
    coro_close(c->fd);
    free(c);
    return NULL;
}

static void *accept_loop(void *arg)
{
    int lfd = *(int *)arg;
    for (;;) {
        int fd = io_accept(lfd, NULL, NULL, CORO_NEVER);
        if (fd < 0) {
            perror("fetch_testserver: accept");
            coro_sleep_until(coro_deadline_in(10)); /* EMFILE and the like: breathe, go on */
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        if (!c) {
            coro_close(fd);
            continue;
        }
        c->fd = fd;
        c->serial = ++accepted;
        coro_opts co = {.name = "conn", .stack_size = CONN_STACK, .detached = true};
        if (!coro_spawn(serve, c, &co)) {
            free(c);
            coro_close(fd);
        }
    }
    return NULL;
}

/* ---- sockets ---- */

/* A TCP socket bound to 127.0.0.1 on an ephemeral port; listening with
 * `backlog` unless it is -1.  Its port in *port. */
static int loopback_socket(int backlog, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        (backlog >= 0 && listen(fd, backlog) < 0) ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        perror("fetch_testserver: socket");
        exit(1);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* A socket listening on [::1], port in *port; -1 if there is no ::1. */
static int listen_ipv6(int *port)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        *port = 0;
        return -1;
    }
    *port = ntohs(a.sin6_port);
    return fd;
}

/* Fills the blackhole's accept queue (backlog 0 holds one connection):
 * after this, a new SYN is dropped.  Waits for the filler's handshake. */
static void fill_queue(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)) {
        perror("fetch_testserver: blackhole");
        exit(1);
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    poll(&p, 1, 2000);
    /* fd stays open (and queued) for the server's whole life */
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    alarm(argc > 1 ? (unsigned)atoi(argv[1]) : 120);
    int port, refused, blackhole, port6;
    int lfd = loopback_socket(SOMAXCONN, &port);
    int lfd6 = listen_ipv6(&port6);
    loopback_socket(-1, &refused);
    loopback_socket(0, &blackhole);
    fill_queue(blackhole);
    printf("%d %d %d %d\n", port, refused, blackhole, port6);
    fflush(stdout);
    coro_opts co = {.name = "accept"};
    if (!coro_spawn(accept_loop, &lfd, &co) ||
        (lfd6 >= 0 && !coro_spawn(accept_loop, &lfd6, &co))) {
        perror("fetch_testserver: spawn");
        return 1;
    }
    coro_run(); /* serves until killed or the alarm */
    return 0;
}
