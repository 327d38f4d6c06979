/* serve.c - a small static HTTP server on bareawait's http_server.
 *
 *   serve [-t THREADS] [-p PORT] [-b BYTES] [--port-file F] [--cpus LIST]
 *
 * Any GET (or HEAD, POST...) answers 200 with the same body of BYTES
 * bytes ("Hello, World!" repeated; 13 bytes: the benchmark classic).  The
 * runtime that fetches in httpload serves here, through the server side
 * users get (http/server.h): request heads parsed, keep-alive, pipelining,
 * the limits and answers of its own.  In Python's terms:
 *
 *     async def endpoint(path):                     answer()
 *         return PlainTextResponse(BODY)
 *     uvicorn.run(app, host="127.0.0.1", port=p)    server_threads_run()
 *
 * With -t N, N threads (bench/server_threads.c, shared with the gateway)
 * each run a runtime and a server of their own on the same port
 * (SO_REUSEPORT: the kernel spreads new connections over the listeners),
 * so a connection lives and dies on one thread.  SIGINT or SIGTERM stops
 * every thread: in-flight requests finish, then the counts are printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bareawait/server.h>
#include "serve_args.h"
#include "server_threads.h"

#define DRAIN_MS 1000 /* how long requests in flight get once told to stop */

/* What the threads share (read-only once main() has made it), and what
 * each counts: thread i writes only counts[i], main() reads them once the
 * threads are joined. */
typedef struct app {
    serve_options *o;
    char *body;
    struct counts {
        unsigned long long requests, connections;
    } *counts;
} app;

typedef struct thread_arg {
    app *a;
    int index;
} thread_arg;

static int answer(const http_server_request *req, http_server_reply *reply, void *user)
{
    (void)req;
    thread_arg *t = user;
    t->a->counts[t->index].requests++;
    return http_reply(reply, 200, "text/plain", t->a->body, t->a->o->bytes);
}

static void count_accepts(void *user, http_server_event ev, int fd, const char *detail)
{
    (void)fd, (void)detail;
    thread_arg *t = user;
    if (ev == HTTP_SERVER_EV_ACCEPTED)
        t->a->counts[t->index].connections++;
}

/* Writes the port to path through a temporary file and a rename, so a
 * script polling for the file never reads half of it. */
static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* Thread i's server; thread 0 then says where it listens. */
static http_server *open_thread(int i, void *user)
{
    static thread_arg args[THREADS_MAX]; /* each thread its own entry */
    app *a = user;
    serve_options *o = a->o;
    args[i] = (thread_arg){.a = a, .index = i};
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", o->port);
    http_server_opts so = {.listen = listen, .reuse_port = o->threads > 1,
                           .conn_name = "serve-conn", .on_event = count_accepts,
                           .event_user = &args[i]};
    http_server *s = http_server_open(&so, answer, &args[i]);
    if (!s) {
        fprintf(stderr, "serve: cannot listen on %s: %s\n", listen, strerror(errno));
        return NULL;
    }
    if (i != 0)
        return s;
    int port = http_server_port(s);
    if (o->port_file && write_port_file(o->port_file, port) < 0) {
        fprintf(stderr, "serve: cannot write %s: %s\n", o->port_file, strerror(errno));
        http_server_close(s);
        return NULL;
    }
    if (o->threads > 1)
        printf("listening on 127.0.0.1:%d (%d threads)\n", port, o->threads);
    else
        printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    return s;
}

/* With -t N and -p 0, the threads' listeners must agree on one port
 * before any opens: a plain listener (no SO_REUSEPORT: it would join
 * another serve's group on a taken port) takes a free one and lets it go
 * at once.  0, or -1/errno. */
static int claim_port(serve_options *o)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* past TIME_WAIT */
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
                     getsockname(fd, (struct sockaddr *)&sa, &len) == 0
                 ? 0
                 : -1;
    int saved = errno;
    close(fd);
    errno = saved;
    if (rc == 0)
        o->port = ntohs(sa.sin_port);
    return rc;
}

/* The body: "Hello, World!" repeated to `bytes`. */
static char *make_body(size_t bytes)
{
    static const char hello[] = "Hello, World!";
    char *b = malloc(bytes + 1);
    for (size_t i = 0; b && i < bytes; i++)
        b[i] = hello[i % (sizeof hello - 1)];
    return b;
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
    if (o.threads > 1 && claim_port(&o) < 0) {
        fprintf(stderr, "serve: cannot listen on 127.0.0.1:%d: %s\n", o.port, strerror(errno));
        return 1;
    }
    app a = {.o = &o, .body = make_body(o.bytes),
             .counts = calloc((size_t)o.threads, sizeof *a.counts)};
    if (!a.body || !a.counts) {
        perror("serve");
        return 1;
    }
    server_threads st = {.prog = "serve", .threads = o.threads,
                         .cpus = o.pinned ? o.cpus : NULL, .drain_ms = DRAIN_MS,
                         .open = open_thread, .user = &a};
    int status = server_threads_run(&st);
    unsigned long long requests = 0, connections = 0;
    for (int i = 0; i < o.threads; i++) {
        requests += a.counts[i].requests;
        connections += a.counts[i].connections;
    }
    fprintf(stderr, "serve: %llu requests on %llu connections\n", requests, connections);
    free(a.body);
    free(a.counts);
    return status;
}
