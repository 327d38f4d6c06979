/* serve.c - a small static HTTP server on the bareawait runtime.
 *
 *   serve [-t THREADS] [-p PORT] [-b BYTES] [--port-file F] [--cpus LIST]
 *
 * GET of any path answers 200 with the same body of BYTES bytes (13:
 * "Hello, World!", the benchmark classic).  The same runtime that fetches
 * in httpload serves here, and the code has the shape of Python's
 * asyncio.start_server:
 *
 *     async def handle(reader, writer):          serve_conn()
 *         while head := await read_head(reader):     read, find "\r\n\r\n"
 *             writer.write(RESPONSE)                 answer()
 *             await writer.drain()
 *     await asyncio.start_server(handle, "127.0.0.1", port)   acceptor()
 *
 * One coroutine accepts, one per connection serves, one waits for SIGINT
 * or SIGTERM on a signalfd and then stops the others.  No busy loop:
 * every one of them is parked in coro_wait when there is nothing to do.
 *
 * With -t N, N threads (threads.h) each run all of that on a runtime of
 * their own, with a listener of their own on the same port
 * (SO_REUSEPORT: the kernel spreads new connections over the listeners),
 * so a connection lives and dies on one thread and the threads share
 * nothing but the fixed answer.  Thread 0 (the main thread) watches the
 * signalfd; the others each watch an eventfd that thread 0 writes to when
 * the signal comes.  -t 1 starts no thread and sets no SO_REUSEPORT.
 *
 * Simple on purpose: request heads are not parsed, only delimited (the
 * blank line) and searched for "Connection: close" and HTTP/1.0; request
 * bodies are not supported (a POST's body would be taken for the next
 * head); HEAD gets the same bytes as GET.  A real server would parse the
 * head (the client's http/parse.c is the response-side twin of that).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "serve_args.h"
#include "threads.h"

#define HEAD_MAX 8192    /* a request head longer than this gets 431 */
#define BATCH_MAX 64     /* pipelined answers sent in one writev */

/* The answers, the same for every thread; read-only once main() has
 * built them. */
static struct {
    char *keep;           /* the whole answer, head and body... */
    size_t keep_len;
    char *close;          /* ...and the same with "Connection: close" */
    size_t close_len;
} reply;

/* One thread's server: only that thread's coroutines touch it, and main()
 * reads the counts once the thread is joined. */
struct server {
    int index;            /* 0 = the main thread, the signal's watcher */
    int lfd;              /* this thread's listening socket */
    int stop_fd;          /* readable when it is time to stop: the signalfd
                             for thread 0, an eventfd for the others */
    struct server *all;   /* every thread's, for thread 0 to pass a stop on */
    int threads;          /* ...how many */
    coro_t *acceptor;
    struct client *clients;
    unsigned long long requests, connections; /* served so far */
    bool failed;          /* its runtime could not start or run */
    bool passed_on;       /* thread 0: the others have been told to stop */
};

/* One accepted connection; all of a server's are on a list so a signal
 * can cancel them. */
struct client {
    int fd;
    coro_t *co;
    struct server *srv;   /* whose list */
    struct client *prev, *next;
};

/* ---- the fixed answer ---- */

static char *build_answer(size_t body_len, bool close, size_t *len)
{
    static const char hello[] = "Hello, World!";
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nServer: bareawait-serve\r\n"
                      "Content-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n",
                      body_len, close ? "Connection: close\r\n" : "");
    char *a = malloc((size_t)hl + body_len);
    if (!a)
        return NULL;
    memcpy(a, head, (size_t)hl);
    for (size_t i = 0; i < body_len; i++) /* "Hello, World!" repeated */
        a[hl + i] = hello[i % (sizeof hello - 1)];
    *len = (size_t)hl + body_len;
    return a;
}

/* ---- reading heads ---- */

/* The end of the first complete head in buf[0..len) (just past its blank
 * line), or NULL.  `from` is how far an earlier call already looked. */
static const char *head_end(const char *buf, size_t len, size_t from)
{
    size_t i = from > 3 ? from - 3 : 0;
    for (; i + 4 <= len; i++)
        if (buf[i] == '\r' && memcmp(buf + i, "\r\n\r\n", 4) == 0)
            return buf + i + 4;
    return NULL;
}

/* Does the head ask to close after the answer?  HTTP/1.1 closes only on
 * "Connection: close"; HTTP/1.0 always (simple on purpose: 1.0's
 * "Connection: keep-alive" is not honoured). */
static bool wants_close(const char *head, const char *end)
{
    const char *eol = memchr(head, '\n', (size_t)(end - head));
    if (eol && eol - head >= 9 && memcmp(eol - 9, "HTTP/1.0", 8) == 0)
        return true;
    for (const char *line = eol ? eol + 1 : end; line < end;) {
        const char *next = memchr(line, '\n', (size_t)(end - line));
        next = next ? next + 1 : end;
        if (strncasecmp(line, "connection:", 11) == 0) {
            for (const char *p = line + 11; p + 5 <= next; p++)
                if (strncasecmp(p, "close", 5) == 0)
                    return true;
        }
        line = next;
    }
    return false;
}

/* ---- writing answers ---- */

/* SUSPENDS.  Sends `count` copies of answer[0..len) back to back, up to
 * BATCH_MAX per writev: pipelined requests get their answers in few
 * syscalls.  0, or -1/errno. */
static int send_copies(int fd, const char *answer, size_t len, int count)
{
    struct iovec iov[BATCH_MAX];
    size_t skip = 0; /* bytes of the first copy already sent */
    while (count > 0) {
        int n = count < BATCH_MAX ? count : BATCH_MAX;
        for (int i = 0; i < n; i++)
            iov[i] = (struct iovec){(char *)answer, len};
        iov[0].iov_base = (char *)answer + skip;
        iov[0].iov_len = len - skip;
        ssize_t put = writev(fd, iov, n);
        if (put < 0 && errno == EAGAIN) {
            if (coro_wait(fd, CORO_WRITE, CORO_NEVER) == CORO_WOKE_CANCELLED) {
                errno = ECANCELED;
                return -1;
            }
            continue;
        }
        if (put < 0 && errno != EINTR)
            return -1;
        if (put < 0)
            continue;
        size_t done = skip + (size_t)put; /* bytes of the copies, from the first */
        count -= (int)(done / len);
        skip = done % len;
    }
    return 0;
}

/* ---- the coroutines ---- */

/* SUSPENDS.  Answers every complete head in buf; keeps the partial one.
 * Returns 1 to go on reading, 0 to close (asked for, or an error). */
static int answer_heads(struct server *srv, int fd, char *buf, size_t *len, size_t *scanned)
{
    const char *p = buf, *end;
    int count = 0;
    bool close = false;
    while (!close && (end = head_end(p, *len - (size_t)(p - buf), p == buf ? *scanned : 0))) {
        close = wants_close(p, end);
        if (!close)
            count++;
        p = end;
    }
    srv->requests += (unsigned long long)count + close;
    if (count && send_copies(fd, reply.keep, reply.keep_len, count) < 0)
        return 0;
    if (close) {
        io_write(fd, reply.close, reply.close_len, CORO_NEVER);
        return 0;
    }
    /* Keep the partial head; all of it has been searched already. */
    size_t left = *len - (size_t)(p - buf);
    memmove(buf, p, left);
    *scanned = left;
    *len = left;
    return 1;
}

static void *serve_conn(void *arg)
{
    struct client *c = arg;
    char buf[HEAD_MAX];
    size_t len = 0, scanned = 0;
    for (;;) {
        ssize_t got = io_read(c->fd, buf + len, sizeof buf - len, CORO_NEVER);
        if (got <= 0)
            break; /* the client closed, reset, or we were cancelled */
        len += (size_t)got;
        if (!answer_heads(c->srv, c->fd, buf, &len, &scanned))
            break;
        if (len == sizeof buf) {
            static const char too_large[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                            "Content-Length: 0\r\nConnection: close\r\n\r\n";
            io_write(c->fd, too_large, sizeof too_large - 1, CORO_NEVER);
            break;
        }
    }
    coro_close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    return NULL;
}

static int start_client(struct server *srv, int fd)
{
    struct client *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    int one = 1; /* an answer goes out in one write: no need to wait for more */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->srv = srv;
    c->co = coro_spawn(serve_conn, c, &(coro_opts){.name = "conn", .detached = true});
    if (!c->co) {
        free(c);
        return -1;
    }
    c->next = srv->clients;
    if (srv->clients)
        srv->clients->prev = c;
    srv->clients = c;
    srv->connections++;
    return 0;
}

static void *acceptor(void *arg)
{
    struct server *srv = arg;
    for (;;) {
        int fd = io_accept(srv->lfd, NULL, NULL, CORO_NEVER);
        if (fd < 0 && errno == ECANCELED)
            break;
        if (fd < 0) { /* EMFILE and friends: breathe, then try again */
            perror("serve: accept");
            if (coro_sleep_until(coro_deadline_in(10)) < 0)
                break;
            continue;
        }
        if (start_client(srv, fd) < 0) {
            perror("serve: new connection");
            coro_close(fd);
        }
    }
    coro_close(srv->lfd);
    return NULL;
}

/* Thread 0's: passes the stop on to every other thread, once.  An
 * eventfd write only adds to its counter: it cannot block or fail here. */
static void stop_others(struct server *srv)
{
    uint64_t one = 1;
    if (srv->passed_on)
        return; /* once: each of those threads closes its eventfd when told */
    srv->passed_on = true;
    for (int i = 1; i < srv->threads; i++)
        if (write(srv->all[i].stop_fd, &one, sizeof one) != (ssize_t)sizeof one)
            perror("serve: stopping a thread");
}

/* Waits for SIGINT or SIGTERM (thread 0) or for thread 0 to say so (the
 * others), then stops the acceptor and every connection; coro_run
 * returns once they have all closed. */
static void *stop_watcher(void *arg)
{
    struct server *srv = arg;
    if (srv->index == 0) {
        struct signalfd_siginfo si;
        if (io_read(srv->stop_fd, &si, sizeof si, CORO_NEVER) == (ssize_t)sizeof si)
            fprintf(stderr, "serve: %s, stopping\n", strsignal((int)si.ssi_signo));
        stop_others(srv);
    } else {
        uint64_t count;
        io_read(srv->stop_fd, &count, sizeof count, CORO_NEVER);
    }
    coro_close(srv->stop_fd);
    coro_cancel(srv->acceptor);
    for (struct client *c = srv->clients; c; c = c->next)
        coro_cancel(c->co);
    coro_join(srv->acceptor, NULL);
    return NULL;
}

/* A thread's body: its own runtime, until it is told to stop. */
static void *run_server(void *arg)
{
    struct server *srv = arg;
    srv->acceptor = coro_spawn(acceptor, srv, &(coro_opts){.name = "acceptor"});
    coro_opts watcher = {.name = "stop", .detached = true};
    if (!srv->acceptor || !coro_spawn(stop_watcher, srv, &watcher) || coro_run() < 0) {
        perror("serve");
        srv->failed = true;
        if (srv->index == 0)
            stop_others(srv); /* nobody else would pass the signal on */
    }
    return NULL;
}

/* ---- setup ---- */

/* Blocks SIGINT and SIGTERM (before any coroutine exists, so every
 * context inherits the mask) and returns a signalfd for them. */
static int signal_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Listens on 127.0.0.1:port (0: the kernel picks); *port gets the real one.
 * With `shared`, SO_REUSEPORT first: one listener per thread on one port. */
static int listen_on(int *port, bool shared)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        goto fail;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)*port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
        goto fail;
    *port = ntohs(a.sin_port);
    return fd;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* With -t N: SO_REUSEPORT would let the threads' listeners join those of
 * another serve of ours on the same port, splitting its connections with
 * it.  A plain listener takes the port only if nobody holds it (or picks
 * a free one for -p 0); closed again at once, its port is the one the
 * threads' listeners then share.  0, or -1/errno. */
static int claim_port(serve_options *o)
{
    if (o->threads == 1)
        return 0;
    int fd = listen_on(&o->port, false);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Each thread's server: its listener (the first one picks the port the
 * others share) and what tells it to stop (sfd for thread 0).  0, or -1
 * after saying why. */
static int make_servers(struct server *srvs, serve_options *o, int sfd)
{
    if (claim_port(o) < 0) {
        fprintf(stderr, "serve: cannot listen on 127.0.0.1:%d: %s\n", o->port, strerror(errno));
        return -1;
    }
    for (int i = 0; i < o->threads; i++) {
        srvs[i] = (struct server){.index = i, .all = srvs, .threads = o->threads};
        if ((srvs[i].lfd = listen_on(&o->port, o->threads > 1)) < 0) {
            fprintf(stderr, "serve: cannot listen on 127.0.0.1:%d: %s\n", o->port,
                    strerror(errno));
            return -1;
        }
        srvs[i].stop_fd = i == 0 ? sfd : eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (srvs[i].stop_fd < 0) {
            perror("serve: eventfd");
            return -1;
        }
    }
    return 0;
}

/* Writes the port to path through a temporary file and a rename, so a
 * script polling for the file never reads half of it. */
static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* Runs every thread's server until the signal; -1 if one could not run. */
static int run_servers(struct server *srvs, const serve_options *o)
{
    void **args = calloc((size_t)o->threads, sizeof *args);
    if (!args)
        return -1;
    for (int i = 0; i < o->threads; i++)
        args[i] = &srvs[i];
    int rc = threads_run(o->threads, o->pinned ? o->cpus : NULL, run_server, args);
    free(args);
    if (rc < 0) {
        fprintf(stderr, "serve: cannot start %d threads: %s\n", o->threads, strerror(errno));
        return -1;
    }
    unsigned long long requests = 0, connections = 0;
    for (int i = 0; i < o->threads; i++) {
        requests += srvs[i].requests;
        connections += srvs[i].connections;
        rc |= srvs[i].failed ? -1 : 0;
    }
    fprintf(stderr, "serve: %llu requests on %llu connections\n", requests, connections);
    return rc;
}

int main(int argc, char **argv)
{
    static serve_options o = {.port = 8080, .bytes = 13, .threads = 1};
    int rc = serve_parse_args(argc, argv, &o);
    if (rc < 0) {
        if (rc == -1)
            serve_usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a client gone away is EPIPE, not death */
    reply.keep = build_answer(o.bytes, false, &reply.keep_len);
    reply.close = build_answer(o.bytes, true, &reply.close_len);
    int sfd = signal_fd();
    struct server *srvs = calloc((size_t)o.threads, sizeof *srvs);
    rc = -1;
    if (!reply.keep || !reply.close || sfd < 0 || !srvs) {
        perror("serve");
        goto out;
    }
    if (make_servers(srvs, &o, sfd) < 0)
        goto out;
    if (o.port_file && write_port_file(o.port_file, o.port) < 0) {
        fprintf(stderr, "serve: cannot write %s: %s\n", o.port_file, strerror(errno));
        goto out;
    }
    if (o.threads > 1)
        printf("listening on 127.0.0.1:%d (%d threads)\n", o.port, o.threads);
    else
        printf("listening on 127.0.0.1:%d\n", o.port);
    fflush(stdout);
    rc = run_servers(srvs, &o);
out: /* the fds go with the process */
    free(srvs);
    free(reply.keep);
    free(reply.close);
    return rc < 0 ? 1 : 0;
}
