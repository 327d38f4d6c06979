/* server.c - http_server's life (contracts in server.h):
 *
 *     open:   parse "ADDRESS:PORT", socket, bind, listen
 *     run:    accept loop   parks on the listening socket; each connection
 *                           gets a coroutine (server_conn.c), or a 503 when
 *                           max_connections are open
 *             drain         after stop: parks until the connections are
 *                           gone, cancelling them at the deadline
 *     stop:   no suspend: a flag, the listening socket closed (which wakes
 *             the accept loop), idle connections cancelled
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "misuse.h"
#include "server_internal.h"

#define ACCEPT_BURST 64   /* accepts in a row before letting others run */
#define ACCEPT_PAUSE_MS 10 /* after EMFILE and friends: a passing shortage */

/* ---- the address and the socket ---- */

/* "1.2.3.4:80" or "[::1]:80" into *ss.  0, or -1/EINVAL. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[INET6_ADDRSTRLEN];
    const char *port, *host_end;
    bool v6 = spec[0] == '[';
    if (v6) {
        host_end = strchr(spec, ']');
        port = host_end && host_end[1] == ':' ? host_end + 2 : NULL;
        spec++;
    } else {
        host_end = strrchr(spec, ':');
        port = host_end ? host_end + 1 : NULL;
    }
    size_t host_len = port ? (size_t)(host_end - spec) : 0;
    char *stop;
    long p = port && *port >= '0' && *port <= '9' ? strtol(port, &stop, 10) : -1;
    if (!port || host_len == 0 || host_len >= sizeof host || p < 0 || p > 65535 || *stop)
        goto bad;
    memcpy(host, spec, host_len);
    host[host_len] = '\0';
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (v6 ? inet_pton(AF_INET6, host, &a6->sin6_addr) != 1
           : inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        goto bad;
    ss->ss_family = v6 ? AF_INET6 : AF_INET;
    if (v6)
        a6->sin6_port = htons((uint16_t)p);
    else
        a4->sin_port = htons((uint16_t)p);
    *len = v6 ? sizeof *a6 : sizeof *a4;
    return 0;
bad:
    errno = EINVAL;
    return -1;
}

/* A non-blocking listening socket for s->opts; s->lfd and s->port. */
static int listen_socket(http_server *s)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_listen(s->opts.listen, &ss, &len) < 0)
        return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    /* A restart binds again at once, though old connections linger in
     * TIME_WAIT; a v6 socket is v6 only, whatever the system's default. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        (s->opts.reuse_port &&
         setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
        (ss.ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
        bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, s->opts.backlog) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    s->lfd = fd;
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

/* "address:port" of sa, for events. */
static void addr_text(const struct sockaddr *sa, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, size, "[%s]:%u", host, ntohs(a->sin6_port));
        return;
    }
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    snprintf(out, size, "%s:%u", host, ntohs(a->sin_port));
}

static void fill_defaults(http_server_opts *o)
{
    if (!o->listen)
        o->listen = "127.0.0.1:0";
    if (o->backlog <= 0)
        o->backlog = SOMAXCONN;
    if (!o->max_head_bytes)
        o->max_head_bytes = (size_t)16 * 1024;
    if (!o->max_headers)
        o->max_headers = 100;
    if (!o->max_body_bytes)
        o->max_body_bytes = (size_t)1024 * 1024;
    o->header_timeout_ms = o->header_timeout_ms ? o->header_timeout_ms : 10000;
    o->body_timeout_ms = o->body_timeout_ms ? o->body_timeout_ms : 60000;
    o->idle_timeout_ms = o->idle_timeout_ms ? o->idle_timeout_ms : 60000;
    o->write_timeout_ms = o->write_timeout_ms ? o->write_timeout_ms : 30000;
    if (o->max_connections <= 0)
        o->max_connections = 10000;
    if (!o->conn_name)
        o->conn_name = "http-conn";
}

http_server *http_server_open(const http_server_opts *opts, http_handler handler, void *user)
{
    if (!handler)
        ba_misuse("http_server_open", "handler is NULL");
    http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (opts)
        s->opts = *opts;
    fill_defaults(&s->opts);
    s->handler = handler;
    s->user = user;
    s->owner = pthread_self();
    s->drain_deadline = CORO_NEVER;
    if (listen_socket(s) < 0) {
        int e = errno;
        free(s);
        errno = e;
        return NULL;
    }
    return s;
}

int http_server_port(const http_server *s)
{
    return s->port;
}

static void check_thread(const char *call, const http_server *s)
{
    if (!s || !pthread_equal(s->owner, pthread_self()))
        ba_misuse(call, !s ? "the server is NULL"
                           : "the server belongs to another thread (a server is used only "
                             "on the thread that opened it)");
}

/* ---- accepting ---- */

/* max_connections are open: a 503 sent without waiting, what the client
 * already sent dropped (a close with unread bytes would reset the answer
 * away), and the close.  No coroutine is spent on it. */
static void refuse(int fd)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                               "Content-Length: 24\r\nConnection: close\r\n\r\n"
                               "503 Service Unavailable\n";
    char sink[1024];
    ssize_t put = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)put;   /* nothing more to do if even that fails */
    for (int i = 0; i < 16 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
        ;
    shutdown(fd, SHUT_WR);
    coro_close(fd);
}

/* A new connection: its coroutine, on the list; or a 503. */
static void admit(http_server *s, int fd, const struct sockaddr_storage *peer, socklen_t len)
{
    char who[INET6_ADDRSTRLEN + 16];
    addr_text((const struct sockaddr *)peer, who, sizeof who);
    ba_srv_conn *c = s->open < s->opts.max_connections ? calloc(1, sizeof *c) : NULL;
    coro_opts co = {.name = s->opts.conn_name, .stack_size = s->opts.stack_size,
                    .detached = true};
    if (c) {
        *c = (ba_srv_conn){.srv = s, .fd = fd, .peer = *peer, .peer_len = len,
                           .accepted_ns = coro_now()};
        c->co = coro_spawn(ba_srv_conn_main, c, &co);   /* it runs later */
    }
    if (!c || !c->co) {
        free(c);
        ba_srv_emit(s, HTTP_SERVER_EV_REFUSED, fd, who);
        refuse(fd);
        return;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->open++;
    ba_srv_emit(s, HTTP_SERVER_EV_ACCEPTED, fd, who);
}

/* SUSPENDS.  Accepts until stopped: 0; or the errno that ends it
 * (ECANCELED when the calling coroutine is cancelled). */
static int accept_loop(http_server *s)
{
    int burst = 0;
    while (!s->stopping) {
        struct sockaddr_storage peer;
        memset(&peer, 0, sizeof peer); /* the analyzer cannot see accept4 fill it */
        socklen_t len = sizeof peer;
        int fd = accept4(s->lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            admit(s, fd, &peer, len);
            if (++burst % ACCEPT_BURST == 0 && coro_yield() < 0)
                return ECANCELED;
            continue;
        }
        int e = errno;
        coro_wake w = CORO_WOKE_READY;
        if (e == EAGAIN)               /* stop wakes us here, closing lfd */
            w = coro_wait(s->lfd, CORO_READ, CORO_NEVER);
        else if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
            w = coro_park(coro_deadline_in(ACCEPT_PAUSE_MS));
        else if (e != EINTR && e != ECONNABORTED && e != EPROTO)
            return e;
        if (w == CORO_WOKE_FAILED)     /* epoll could not watch lfd: pause, */
            w = coro_park(coro_deadline_in(ACCEPT_PAUSE_MS)); /* not spin */
        if (w == CORO_WOKE_CANCELLED)
            return ECANCELED;
    }
    return 0;
}

/* ---- stopping ---- */

static void cancel_conn(ba_srv_conn *c)
{
    if (c->cancelled)
        return;
    c->cancelled = true;
    coro_cancel(c->co);
}

/* SUSPENDS.  Until every connection is gone; those still open at the
 * drain deadline are cancelled.  Returns ECANCELED if the caller was
 * cancelled meanwhile (then at once), else 0. */
static int drain(http_server *s)
{
    bool all_cancelled = false;
    int err = 0;
    while (s->conns) {
        if (!all_cancelled && coro_now() >= s->drain_deadline) {
            for (ba_srv_conn *c = s->conns; c; c = c->next)
                cancel_conn(c);
            all_cancelled = true;
        }
        /* Woken by each connection that leaves, and by a closer deadline. */
        coro_wake w = coro_park(all_cancelled ? CORO_NEVER : s->drain_deadline);
        if (w == CORO_WOKE_CANCELLED) {
            s->drain_deadline = 0;     /* cancelled ourselves: no more waiting */
            err = ECANCELED;
        }
    }
    return err;
}

int http_server_run(http_server *s)
{
    check_thread("http_server_run", s);
    if (!coro_self())
        ba_misuse("http_server_run", "called outside a coroutine");
    if (s->runner)
        ba_misuse("http_server_run", "the server is already running in another coroutine");
    if (s->ran)
        return 0;
    s->runner = coro_self();
    int err = accept_loop(s);
    if (err)
        http_server_stop(s, 0);        /* an error or a cancel: stop now */
    int drained = drain(s);
    err = err ? err : drained;
    s->runner = NULL;
    s->ran = true;
    errno = err;
    return err ? -1 : 0;
}

void http_server_stop(http_server *s, int64_t drain_deadline_ns)
{
    check_thread("http_server_stop", s);
    if (!s->stopping || drain_deadline_ns < s->drain_deadline)
        s->drain_deadline = drain_deadline_ns;
    s->stopping = true;
    if (s->lfd >= 0) {
        coro_close(s->lfd);            /* wakes the accept loop, if parked there */
        s->lfd = -1;
    }
    for (ba_srv_conn *c = s->conns; c; c = c->next)
        if (c->idle)
            cancel_conn(c);
    if (s->runner)
        coro_wakeup(s->runner);        /* a closer deadline, or the last call */
}

void http_server_close(http_server *s)
{
    if (!s)
        return;
    check_thread("http_server_close", s);
    if (s->runner)
        ba_misuse("http_server_close", "http_server_run is still running");
    if (s->lfd >= 0)
        coro_close(s->lfd);
    free(s);
}
