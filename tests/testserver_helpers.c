/* testserver_helpers.c - the parts of testserver.h that work without a
 * server: loopback sockets (which the server in testserver.c binds too),
 * request heads, places where nothing answers, the lookup stand-in, and
 * running a test.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include "sanitize.h"
#include "testserver.h"
#include "testserver_internal.h"

/* ---- loopback sockets ---- */

/* Fills an address for 127.0.0.1 or ::1 with `port`; returns its length. */
static socklen_t loopback_addr(int family, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons((uint16_t)port);
        return sizeof *a;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons((uint16_t)port);
    return sizeof *a;
}

/* A socket bound to the loopback address of `family`, port 0 (the kernel
 * picks); *port receives it.  Returns the fd or -1/errno. */
int ts_bound_socket(int family, int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = loopback_addr(family, 0, &ss);
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* ---- request heads ---- */

int ts_head_header(const char *head, const char *name, char *value, size_t size)
{
    size_t nlen = strlen(name);
    int count = 0;
    if (value && size)
        value[0] = '\0';
    const char *line = strstr(head, "\r\n");
    while (line && line[2] != '\r' && line[2] != '\0') {
        line += 2;
        const char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            if (count++ == 0 && value && size) {
                const char *v = line + nlen + 1;
                const char *e = eol;
                while (v < e && (*v == ' ' || *v == '\t'))
                    v++;
                while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                    e--;
                snprintf(value, size, "%.*s", (int)(e - v), v);
            }
        }
        line = eol;
    }
    return count;
}

void ts_head_request_line(const char *head, char *out, size_t size)
{
    const char *eol = strstr(head, "\r\n");
    int n = eol ? (int)(eol - head) : (int)strlen(head);
    snprintf(out, size, "%.*s", n, head);
}

/* ---- places where nothing answers ---- */

int ts_unused_port(int family)
{
    int port;
    int fd = ts_bound_socket(family, &port);
    if (fd < 0)
        return -1;
    close(fd); /* nobody listens there now (another test could bind it,
                  but the kernel hands out ephemeral ports round-robin) */
    return port;
}

int ts_blackhole_open(ts_blackhole *bh)
{
    struct sockaddr_storage ss;
    bh->filler_fd = -1;
    bh->listen_fd = ts_bound_socket(AF_INET, &bh->port);
    if (bh->listen_fd < 0)
        return -1;
    if (listen(bh->listen_fd, 0) < 0)
        goto fail;
    /* With backlog 0 one connection fills the accept queue; the kernel
     * then drops further SYNs, and their connects hang. */
    bh->filler_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (bh->filler_fd < 0)
        goto fail;
    socklen_t len = loopback_addr(AF_INET, bh->port, &ss);
    if (connect(bh->filler_fd, (struct sockaddr *)&ss, len) < 0)
        goto fail;
    return 0;
fail:;
    int e = errno;
    ts_blackhole_close(bh);
    errno = e;
    return -1;
}

void ts_blackhole_close(ts_blackhole *bh)
{
    if (bh->filler_fd >= 0)
        close(bh->filler_fd);
    if (bh->listen_fd >= 0)
        close(bh->listen_fd);
    bh->filler_fd = bh->listen_fd = -1;
}

/* ---- the lookup stand-in ---- */

static atomic_int lookup_calls;

static int lookup_numeric(const char *addr, const char *port,
                          const struct addrinfo *hints, struct addrinfo **res)
{
    struct addrinfo h = {.ai_socktype = SOCK_STREAM};
    if (hints)
        h = *hints;
    h.ai_flags |= AI_NUMERICHOST;
    h.ai_family = AF_UNSPEC;
    return getaddrinfo(addr, port, &h, res);
}

int ts_lookup(const char *host, const char *port, const struct addrinfo *hints,
              struct addrinfo **res)
{
    atomic_fetch_add(&lookup_calls, 1);
    int ms;
    char dot;
    if (strcmp(host, "nxdomain.test") == 0)
        return EAI_NONAME;
    if (sscanf(host, "slow-%d.tes%c", &ms, &dot) == 2 && dot == 't') {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        return lookup_numeric("127.0.0.1", port, hints, res);
    }
    if (strcmp(host, "v4.test") == 0)
        return lookup_numeric("127.0.0.1", port, hints, res);
    if (strcmp(host, "v6.test") == 0)
        return lookup_numeric("::1", port, hints, res);
    if (strcmp(host, "both.test") == 0) {
        struct addrinfo *v6, *v4;
        int rc = lookup_numeric("::1", port, hints, &v6);
        if (rc != 0)
            return rc;
        rc = lookup_numeric("127.0.0.1", port, hints, &v4);
        if (rc != 0) {
            freeaddrinfo(v6);
            return rc;
        }
        struct addrinfo *last = v6;
        while (last->ai_next)
            last = last->ai_next;
        last->ai_next = v4; /* freeaddrinfo walks the whole list */
        *res = v6;
        return 0;
    }
    return getaddrinfo(host, port, hints, res);
}

int ts_lookup_calls(void)
{
    return atomic_load(&lookup_calls);
}

/* ---- running a test ---- */

typedef struct run_args {
    void (*body)(void *);
    void *arg;
} run_args;

static void *run_body(void *p)
{
    run_args *ra = p;
    ra->body(ra->arg);
    return NULL;
}

int ts_run(const char *name, void (*body)(void *arg), void *arg)
{
    fprintf(stderr, "-- %s\n", name);
    int fds_before = check_count_fds();
    run_args ra = {body, arg};
    coro_opts opts = {.name = "test", .stack_size = 256 * 1024, .detached = true};
    if (!coro_spawn(run_body, &ra, &opts)) {
        perror("ts_run: coro_spawn");
        return -1;
    }
    int rc = 0;
    if (coro_run() < 0) {
        fprintf(stderr, "ts_run: %s: coro_run: %s (coroutines left parked)\n", name,
                strerror(errno));
        rc = -1;
    }
    int fds_after = check_count_fds();
    if (fds_after != fds_before) {
        fprintf(stderr, "ts_run: %s: %d fds open before, %d after\n", name,
                fds_before, fds_after);
        rc = -1;
    }
    return rc;
}

bool ts_on_valgrind(void)
{
    return san_on_valgrind() != 0;
}

bool ts_slow_tools(void)
{
#ifdef BA_ASAN
    return true;
#else
    return ts_on_valgrind();
#endif
}

int64_t ts_now_ms(void)
{
    return coro_now() / 1000000;
}
