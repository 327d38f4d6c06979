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
 * Routes (any method; HEAD gets the head only):
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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>

#define HEAD_MAX 16384
#define CONN_STACK (128 * 1024)

typedef struct conn {
    int fd;
    int serial; /* 1 for the first accepted connection, ... */
} conn;

typedef struct request {
    char method[16];
    char path[512];
    const char *headers; /* the header lines after the request line */
    size_t headers_len;  /* up to and including the blank line */
    bool head_only;      /* a HEAD request: no body in the answer */
} request;

static int accepted; /* connections so far */

/* ---- writing answers ---- */

static int put(conn *c, const char *data, size_t len)
{
    return io_write(c->fd, data, len, coro_deadline_in(10000)) < 0 ? -1 : 0;
}

static int put_str(conn *c, const char *s)
{
    return put(c, s, strlen(s));
}

/* A complete answer with a Content-Length; 0 keeps the connection. */
static int answer(conn *c, const request *r, int status, const char *reason,
                  const char *extra_headers, const char *body, size_t len)
{
    char head[1024];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s\r\n",
                     status, reason, len, extra_headers ? extra_headers : "");
    if (put(c, head, (size_t)n) < 0)
        return -1;
    return r->head_only ? 0 : put(c, body, len);
}

static int text(conn *c, const request *r, int status, const char *reason, const char *body)
{
    return answer(c, r, status, reason, NULL, body, strlen(body));
}

/* Ends the connection with RST instead of FIN. */
static int reset(conn *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    return -1; /* the caller closes */
}

static int pause_ms(int ms)
{
    return coro_sleep_until(coro_deadline_in(ms));
}

/* ---- the routes: each returns 0 to keep the connection, -1 to close ---- */

static int route_ok(conn *c, const request *r)
{
    return text(c, r, 200, "OK", "hello from fetch_testserver\n");
}

static int route_slow300(conn *c, const request *r)
{
    return pause_ms(300) < 0 ? -1 : text(c, r, 200, "OK", "slow\n");
}

static int route_slow_body(conn *c, const request *r)
{
    static char piece[100 * 1024];
    memset(piece, 's', sizeof piece);
    char head[128];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", 16 * sizeof piece);
    if (put_str(c, head) < 0)
        return -1;
    if (r->head_only)
        return 0;
    for (int i = 0; i < 16; i++)
        if (pause_ms(40) < 0 || put(c, piece, sizeof piece) < 0)
            return -1;
    return 0;
}

static int route_big64m(conn *c, const request *r)
{
    static char block[64 * 1024];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (i % 64 == 63) ? '\n' : (char)('a' + (i / 64) % 26);
    size_t total = (size_t)64 << 20;
    char head[128];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", total);
    if (put_str(c, head) < 0)
        return -1;
    for (size_t sent = 0; !r->head_only && sent < total; sent += sizeof block)
        if (put(c, block, sizeof block) < 0)
            return -1;
    return 0;
}

static int route_404(conn *c, const request *r)
{
    return text(c, r, 404, "Not Found", "not found\n");
}

static int route_status(conn *c, const request *r)
{
    int status = atoi(r->path + strlen("/status/"));
    if (status < 100 || status > 599)
        status = 400;
    char body[32];
    snprintf(body, sizeof body, "status %d\n", status);
    return text(c, r, status, "Scripted", body);
}

static int redirect(conn *c, const request *r, const char *to)
{
    char loc[600];
    snprintf(loc, sizeof loc, "Location: %s\r\n", to);
    return answer(c, r, 302, "Found", loc, "redirecting\n", 12);
}

static int route_redirect_to_ok(conn *c, const request *r) { return redirect(c, r, "/ok"); }
static int route_redirect_loop(conn *c, const request *r) { return redirect(c, r, "/redirect-loop"); }

static int route_r(conn *c, const request *r)
{
    int n = atoi(r->path + strlen("/r/"));
    if (n <= 0)
        return text(c, r, 200, "OK", "arrived\n");
    char to[32];
    snprintf(to, sizeof to, "/r/%d", n - 1);
    return redirect(c, r, to);
}

static int route_chunked(conn *c, const request *r)
{
    if (put_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") < 0)
        return -1;
    return r->head_only ? 0 : put_str(c, "6\r\nhello \r\n8\r\nchunked\n\r\n0\r\n\r\n");
}

static int route_chunked_bad(conn *c, const request *r)
{
    (void)r;
    put_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    return -1;
}

static int route_truncated(conn *c, const request *r)
{
    (void)r;
    put_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly 10 b\n");
    return -1;
}

static int route_empty(conn *c, const request *r)
{
    (void)c, (void)r;
    return -1;
}

static int route_reset(conn *c, const request *r)
{
    (void)r;
    put_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
    pause_ms(50); /* let the bytes leave before the RST */
    return reset(c);
}

static int route_reset_early(conn *c, const request *r)
{
    (void)r;
    return reset(c);
}

static int route_nothttp(conn *c, const request *r)
{
    (void)r;
    put_str(c, "SSH-2.0-OpenSSH_9.2\r\n");
    return -1;
}

static int route_hang(conn *c, const request *r)
{
    (void)r;
    char buf[512];
    while (io_read(c->fd, buf, sizeof buf, CORO_NEVER) > 0)
        ; /* until the client gives up and closes */
    return -1;
}

static int route_cl_negative(conn *c, const request *r)
{
    (void)r;
    put_str(c, "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello");
    return -1;
}

static int route_headers_huge(conn *c, const request *r)
{
    (void)r;
    char line[520];
    if (put_str(c, "HTTP/1.1 200 OK\r\n") < 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        int n = snprintf(line, sizeof line, "X-Filler-%03d: %0500d\r\n", i, 0);
        if (put(c, line, (size_t)n) < 0)
            return -1;
    }
    put_str(c, "Content-Length: 2\r\n\r\nhi");
    return -1;
}

static int route_echo_headers(conn *c, const request *r)
{
    return answer(c, r, 200, "OK", NULL, r->headers, r->headers_len);
}

static int route_conn(conn *c, const request *r)
{
    char body[48];
    snprintf(body, sizeof body, "connection %d\n", c->serial);
    return text(c, r, 200, "OK", body);
}

static int route_stats(conn *c, const request *r)
{
    char body[48];
    snprintf(body, sizeof body, "connections %d\n", accepted);
    return text(c, r, 200, "OK", body);
}

/* fetchout's: a Transfer-Encoding the client cannot decode (exit 61). */
static int route_te_gzip(conn *c, const request *r)
{
    (void)r;
    put_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nnot really gzip");
    return -1;
}

typedef struct route {
    const char *path;  /* exact, or a prefix if it ends with '/' */
    int (*fn)(conn *c, const request *r);
} route;

static const route routes[] = {
    {"/ok", route_ok}, {"/slow300", route_slow300}, {"/slow-body", route_slow_body},
    {"/big64m", route_big64m}, {"/404", route_404}, {"/status/", route_status},
    {"/redirect-to-ok", route_redirect_to_ok}, {"/redirect-loop", route_redirect_loop},
    {"/r/", route_r}, {"/chunked", route_chunked}, {"/chunked-bad", route_chunked_bad},
    {"/truncated", route_truncated}, {"/empty", route_empty}, {"/reset", route_reset},
    {"/reset-early", route_reset_early}, {"/nothttp", route_nothttp}, {"/hang", route_hang},
    {"/cl-negative", route_cl_negative}, {"/headers-huge", route_headers_huge},
    {"/echo-headers", route_echo_headers}, {"/conn", route_conn}, {"/stats", route_stats},
    {"/te-gzip", route_te_gzip},
};

static int dispatch(conn *c, const request *r)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *p = routes[i].path;
        size_t n = strlen(p);
        bool prefix = p[n - 1] == '/';
        if (prefix ? strncmp(r->path, p, n) == 0 : strcmp(r->path, p) == 0)
            return routes[i].fn(c, r);
    }
    return text(c, r, 404, "Not Found", "no such route\n");
}

/* ---- connections ---- */

/* SUSPENDS.  Reads one request head into buf; its length, 0 at EOF, -1. */
static long read_head(conn *c, char *buf, size_t *have)
{
    for (;;) {
        buf[*have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end)
            return end + 4 - buf;
        if (*have == HEAD_MAX)
            return -1;
        ssize_t n = io_read(c->fd, buf + *have, HEAD_MAX - *have, CORO_NEVER);
        if (n <= 0)
            return n;
        *have += (size_t)n;
    }
}

/* "GET /path HTTP/1.1" and the header lines after it. */
static int parse_request(char *buf, size_t head_len, request *r)
{
    if (sscanf(buf, "%15s %511s", r->method, r->path) != 2)
        return -1;
    r->head_only = strcmp(r->method, "HEAD") == 0;
    const char *eol = strstr(buf, "\r\n");
    r->headers = eol + 2;
    r->headers_len = head_len - (size_t)(r->headers - buf);
    return 0;
}

static void *serve(void *arg)
{
    conn c = *(conn *)arg;
    free(arg);
    char buf[HEAD_MAX + 1];
    size_t have = 0;
    long head;
    while ((head = read_head(&c, buf, &have)) > 0) {
        request r;
        if (parse_request(buf, (size_t)head, &r) < 0 || dispatch(&c, &r) < 0)
            break;
        memmove(buf, buf + head, have - (size_t)head);
        have -= (size_t)head;
    }
    coro_close(c.fd);
    return NULL;
}

static void *accept_loop(void *arg)
{
    int lfd = *(int *)arg;
    for (;;) {
        int fd = io_accept(lfd, NULL, NULL, CORO_NEVER);
        if (fd < 0) {
            perror("fetch_testserver: accept");
            pause_ms(10); /* EMFILE and the like: breathe, go on */
            continue;
        }
        conn *c = malloc(sizeof *c);
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
