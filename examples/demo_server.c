/* demo_server.c - one accept coroutine, one coroutine per connection.
 *
 *     accept loop:  fd = io_accept(...)       parks until a client connects
 *                   spawn serve(fd)
 *     serve(fd):    read a request head       parks until bytes arrive
 *                   sleep delay_ms            parks on a timer
 *                   write the answer          parks if the socket is full
 *                   (again, for keep-alive)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bareawait/coro.h>
#include "demo_server.h"
#include <bareawait/io.h>

#define HEAD_MAX 4096 /* longest request head we read */

static const char default_body[] = "Hello from the demo server, a coroutine in this process.\n";

/* One open connection, on the server's list until its coroutine ends. */
typedef struct demo_conn {
    demo_server *srv;
    int fd;
    coro_t *co;              /* its coroutine (detached) */
    struct demo_conn *prev;  /* neighbours on srv->conns */
    struct demo_conn *next;
} demo_conn;

struct demo_server {
    int lfd;                 /* the listening socket */
    uint16_t port;           /* the port the kernel gave us */
    demo_server_opts opts;   /* a copy of the caller's options */
    coro_t *acceptor;        /* the accept coroutine (joined by stop) */
    demo_conn *conns;        /* connections still being served */
    coro_t *stopper;         /* parked in demo_server_stop until conns is empty */
    char url[96];            /* demo_server_url's answer */
};

/* Tells opts.on_event, if set, what just happened. */
static void say(demo_server *s, const char *fmt, ...)
{
    if (!s->opts.on_event)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->opts.on_event(s->opts.user, line);
}

/* SUSPENDS.  Reads until buf[0..*have) holds a whole request head.
 * Returns the head's length (blank line included), 0 if the client
 * closed, -1 on error, a head over HEAD_MAX, or cancellation. */
static long read_head(int fd, char *buf, size_t *have)
{
    for (;;) {
        buf[*have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end)
            return end + 4 - buf;
        if (*have == HEAD_MAX)
            return -1;
        ssize_t n = io_read(fd, buf + *have, HEAD_MAX - *have, CORO_NEVER);
        if (n <= 0)
            return n;
        *have += (size_t)n;
    }
}

/* SUSPENDS.  Writes the fixed answer (only its head for HEAD). */
static int answer(demo_conn *c, bool head_only)
{
    const char *body = c->srv->opts.body ? c->srv->opts.body : default_body;
    size_t len = strlen(body);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\nServer: bareawait-demo\r\n\r\n", len);
    if (io_write(c->fd, head, (size_t)n, CORO_NEVER) < 0)
        return -1;
    if (!head_only && io_write(c->fd, body, len, CORO_NEVER) < 0)
        return -1;
    say(c->srv, "demo-conn: answered 200 OK (%zu bytes of body)", head_only ? 0 : len);
    return 0;
}

/* SUSPENDS.  Serves one request already in buf: wait, answer. */
static int serve_one(demo_conn *c, const char *buf)
{
    demo_server *s = c->srv;
    int line_len = (int)strcspn(buf, "\r");
    if (s->opts.delay_ms > 0) {
        say(s, "demo-conn: got \"%.*s\"; answering in %lld ms", line_len, buf,
            (long long)s->opts.delay_ms);
        if (coro_sleep_until(coro_deadline_in(s->opts.delay_ms)) < 0)
            return -1;
    } else {
        say(s, "demo-conn: got \"%.*s\"", line_len, buf);
    }
    return answer(c, strncmp(buf, "HEAD ", 5) == 0);
}

/* The body of a connection coroutine: requests until the client closes. */
static void *serve_conn(void *arg)
{
    demo_conn *c = arg;
    demo_server *s = c->srv;
    char buf[HEAD_MAX + 1];
    size_t have = 0;
    long head;
    while ((head = read_head(c->fd, buf, &have)) > 0) {
        if (serve_one(c, buf) < 0)
            break;
        /* Keep what followed the head: a pipelined next request. */
        memmove(buf, buf + head, have - (size_t)head);
        have -= (size_t)head;
    }
    coro_close(c->fd);
    /* Leave the list; the last one out lets demo_server_stop go on. */
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    if (!s->conns && s->stopper)
        coro_wakeup(s->stopper);
    return NULL;
}

/* Puts a new connection on the list and gives it a coroutine. */
static void start_conn(demo_server *s, int fd)
{
    demo_conn *c = calloc(1, sizeof *c);
    if (!c) {
        coro_close(fd);
        return;
    }
    c->srv = s;
    c->fd = fd;
    coro_opts co = {.name = "demo-conn", .detached = true};
    c->co = coro_spawn(serve_conn, c, &co); /* it runs later, not now */
    if (!c->co) {
        free(c);
        coro_close(fd);
        return;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    say(s, "demo-server: accepted a connection (fd %d), spawned a demo-conn", fd);
}

/* The body of the accept coroutine: until cancelled by demo_server_stop. */
static void *accept_loop(void *arg)
{
    demo_server *s = arg;
    for (;;) {
        int fd = io_accept(s->lfd, NULL, NULL, CORO_NEVER);
        if (fd < 0)
            break; /* ECANCELED from stop; anything else also ends the demo */
        start_conn(s, fd);
    }
    coro_close(s->lfd);
    return NULL;
}

/* A non-blocking socket listening on 127.0.0.1; its port in *port. */
static int listen_loopback(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        int e = errno;
        coro_close(fd);
        errno = e;
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

demo_server *demo_server_start(const demo_server_opts *opts)
{
    demo_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (opts)
        s->opts = *opts;
    s->lfd = listen_loopback(&s->port);
    if (s->lfd < 0)
        goto fail;
    coro_opts co = {.name = "demo-server"};
    s->acceptor = coro_spawn(accept_loop, s, &co);
    if (!s->acceptor)
        goto fail_listen;
    return s;
fail_listen:
    coro_close(s->lfd);
fail:
    free(s);
    return NULL;
}

const char *demo_server_url(demo_server *s, const char *path)
{
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u%s", (unsigned)s->port,
             path ? path : "/");
    return s->url;
}

void demo_server_stop(demo_server *s)
{
    coro_cancel(s->acceptor);
    coro_join(s->acceptor, NULL);
    for (demo_conn *c = s->conns; c; c = c->next)
        coro_cancel(c->co);
    s->stopper = coro_self();
    while (s->conns)
        coro_park(CORO_NEVER);
    free(s);
}
