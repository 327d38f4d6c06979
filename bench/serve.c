/* serve.c - a small static HTTP server on the bareawait runtime.
 *
 *   serve [-p PORT] [-b BYTES] [--port-file F]
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
 * Simple on purpose: request heads are not parsed, only delimited (the
 * blank line) and searched for "Connection: close" and HTTP/1.0; request
 * bodies are not supported (a POST's body would be taken for the next
 * head); HEAD gets the same bytes as GET.  A real server would parse the
 * head (the client's http/parse.c is the response-side twin of that).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>

#define HEAD_MAX 8192    /* a request head longer than this gets 431 */
#define BATCH_MAX 64     /* pipelined answers sent in one writev */

/* One accepted connection; all of them are on a list so a signal can
 * cancel them. */
struct client {
    int fd;
    coro_t *co;
    struct client *prev, *next;
};

static struct {
    char *keep;           /* the whole answer, head and body... */
    size_t keep_len;
    char *close;          /* ...and the same with "Connection: close" */
    size_t close_len;
    int lfd;              /* the listening socket */
    coro_t *acceptor;
    struct client *clients;
    unsigned long long requests, connections; /* served so far */
} srv;

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
static int answer_heads(int fd, char *buf, size_t *len, size_t *scanned)
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
    srv.requests += (unsigned long long)count + close;
    if (count && send_copies(fd, srv.keep, srv.keep_len, count) < 0)
        return 0;
    if (close) {
        io_write(fd, srv.close, srv.close_len, CORO_NEVER);
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
        if (!answer_heads(c->fd, buf, &len, &scanned))
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
        srv.clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    return NULL;
}

static int start_client(int fd)
{
    struct client *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    int one = 1; /* an answer goes out in one write: no need to wait for more */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->co = coro_spawn(serve_conn, c, &(coro_opts){.name = "conn", .detached = true});
    if (!c->co) {
        free(c);
        return -1;
    }
    c->next = srv.clients;
    if (srv.clients)
        srv.clients->prev = c;
    srv.clients = c;
    srv.connections++;
    return 0;
}

static void *acceptor(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = io_accept(srv.lfd, NULL, NULL, CORO_NEVER);
        if (fd < 0 && errno == ECANCELED)
            break;
        if (fd < 0) { /* EMFILE and friends: breathe, then try again */
            perror("serve: accept");
            if (coro_sleep_until(coro_deadline_in(10)) < 0)
                break;
            continue;
        }
        if (start_client(fd) < 0) {
            perror("serve: new connection");
            coro_close(fd);
        }
    }
    coro_close(srv.lfd);
    return NULL;
}

/* Waits for SIGINT or SIGTERM, then stops the acceptor and every
 * connection; coro_run returns once they have all closed. */
static void *signal_watcher(void *arg)
{
    int sfd = *(int *)arg;
    struct signalfd_siginfo si;
    if (io_read(sfd, &si, sizeof si, CORO_NEVER) == (ssize_t)sizeof si)
        fprintf(stderr, "serve: %s, stopping\n", strsignal((int)si.ssi_signo));
    coro_close(sfd);
    coro_cancel(srv.acceptor);
    for (struct client *c = srv.clients; c; c = c->next)
        coro_cancel(c->co);
    coro_join(srv.acceptor, NULL);
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

/* Listens on 127.0.0.1:port (0: the kernel picks); *port gets the real one. */
static int listen_on(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)*port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
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

static void usage(FILE *out)
{
    fprintf(out,
        "usage: serve [-p PORT] [-b BYTES] [--port-file F]\n"
        "  -p, --port PORT      listen on 127.0.0.1:PORT (default 8080; 0 = any free port)\n"
        "  -b, --bytes BYTES    body size of every answer (default 13: \"Hello, World!\")\n"
        "      --port-file F    write the port to F once listening\n"
        "Stops cleanly on SIGINT or SIGTERM.\n");
}

static int parse_args(int argc, char **argv, int *port, size_t *bytes, const char **port_file)
{
    static const struct option longs[] = {
        {"port", required_argument, NULL, 'p'},
        {"bytes", required_argument, NULL, 'b'},
        {"port-file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "p:b:h", longs, NULL)) != -1) {
        switch (ch) {
        case 'p':
            *port = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || *port < 0 || *port > 65535)
                return -1;
            break;
        case 'b':
            errno = 0;
            *bytes = strtoull(optarg, &end, 10);
            if (errno || *end || end == optarg || optarg[0] == '-' || *bytes > ((size_t)1 << 30))
                return -1;
            break;
        case 'f': *port_file = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    int port = 8080;
    size_t bytes = 13;
    const char *port_file = NULL;
    if (parse_args(argc, argv, &port, &bytes, &port_file) < 0) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a client gone away is EPIPE, not death */
    srv.keep = build_answer(bytes, false, &srv.keep_len);
    srv.close = build_answer(bytes, true, &srv.close_len);
    int sfd = signal_fd();
    if (!srv.keep || !srv.close || sfd < 0) {
        perror("serve");
        return 1;
    }
    if ((srv.lfd = listen_on(&port)) < 0) {
        fprintf(stderr, "serve: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    if (port_file && write_port_file(port_file, port) < 0) {
        fprintf(stderr, "serve: cannot write %s: %s\n", port_file, strerror(errno));
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    srv.acceptor = coro_spawn(acceptor, NULL, &(coro_opts){.name = "acceptor"});
    coro_opts watcher = {.name = "signals", .detached = true};
    if (!srv.acceptor || !coro_spawn(signal_watcher, &sfd, &watcher) || coro_run() < 0) {
        perror("serve");
        return 1;
    }
    fprintf(stderr, "serve: %llu requests on %llu connections\n", srv.requests, srv.connections);
    free(srv.keep);
    free(srv.close);
    return 0;
}
