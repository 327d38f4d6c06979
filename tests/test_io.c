/* test_io.c - the I/O helpers (io.h) over socketpairs and TCP loopback.
 *
 * Each helper is "try the syscall; on EAGAIN wait; retry", so every test
 * arranges for the wait to happen (a reader that shows up late, a full
 * socket buffer, a connection that is not there yet) and checks both the
 * bytes and the reason a wait ended.  No outside network: 127.0.0.1 and ::1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "sanitize.h"

#define MS 1000000 /* nanoseconds */
#define SAFETY_MS 5000 /* deadline for I/O that should end much sooner */

static int sv[2]; /* the socketpair of the current test */

static int open_pair(void)
{
    return CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static void close_pair(void)
{
    coro_close(sv[0]);
    coro_close(sv[1]);
}

/* ---- reading and writing ---- */

#define BIG (4 << 20) /* far more than a socket buffer holds */

static unsigned char pattern_byte(size_t i)
{
    return (unsigned char)((i * 2654435761u) >> 13);
}

static void *write_big(void *arg)
{
    unsigned char *buf = arg;
    CHECK_INT(io_write(sv[0], buf, BIG, coro_deadline_in(SAFETY_MS)), BIG);
    coro_close(sv[0]);
    sv[0] = -1;
    return NULL;
}

/* Starts late, so the writer fills the buffer and has to wait for us. */
static void *read_big(void *arg)
{
    unsigned char *buf = arg;
    coro_sleep_until(coro_deadline_in(5));
    size_t got = 0;
    ssize_t n;
    while ((n = io_read(sv[1], buf + got, BIG + 1 - got, coro_deadline_in(SAFETY_MS))) > 0)
        got += (size_t)n;
    CHECK_INT(n, 0); /* end of stream once the writer closed */
    CHECK_INT(got, BIG);
    return NULL;
}

static void test_big_write_waits_for_reader(void)
{
    unsigned char *out = malloc(BIG), *in = malloc(BIG + 1);
    if (CHECK(out && in) && open_pair()) {
        for (size_t i = 0; i < BIG; i++)
            out[i] = pattern_byte(i);
        coro_spawn(write_big, out, NULL);
        coro_spawn(read_big, in, NULL);
        CHECK_INT(coro_run(), 0);
        size_t differ = 0;
        while (differ < BIG && in[differ] == out[differ])
            differ++;
        CHECK_INT(differ, BIG); /* the first differing offset, if any */
        coro_close(sv[1]);
    }
    free(out);
    free(in);
}

static void *write_abc_and_close(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(2));
    CHECK_INT(io_write(sv[0], "abc", 3, CORO_NEVER), 3);
    coro_close(sv[0]);
    return NULL;
}

static void *read_until_eof(void *arg)
{
    (void)arg;
    char buf[16] = "";
    CHECK_INT(io_read(sv[1], buf, sizeof buf, coro_deadline_in(SAFETY_MS)), 3);
    CHECK_STR(buf, "abc");
    CHECK_INT(io_read(sv[1], buf, sizeof buf, coro_deadline_in(SAFETY_MS)), 0);
    CHECK_INT(io_read(sv[1], buf, sizeof buf, coro_deadline_in(SAFETY_MS)), 0);
    return NULL;
}

static void test_read_eof(void)
{
    if (!open_pair())
        return;
    coro_spawn(write_abc_and_close, NULL, NULL);
    coro_spawn(read_until_eof, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    coro_close(sv[1]);
}

static void *read_nothing(void *arg)
{
    (void)arg;
    char c;
    int64_t deadline = coro_deadline_in(20);
    errno = 0;
    CHECK_INT(io_read(sv[0], &c, 1, deadline), -1); /* nobody writes to sv[1] */
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(coro_now() >= deadline);
    CHECK(coro_now() <= deadline + 200 * MS);
    return NULL;
}

static void *write_to_full_buffer(void *arg)
{
    (void)arg;
    static char chunk[1 << 20];
    int64_t deadline = coro_deadline_in(20);
    errno = 0;
    ssize_t n;
    do /* nobody reads sv[1]: sooner or later the buffer is full */
        n = io_write(sv[0], chunk, sizeof chunk, deadline);
    while (n > 0);
    CHECK_INT(n, -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(coro_now() >= deadline);
    return NULL;
}

static void test_deadlines(void)
{
    if (!open_pair())
        return;
    coro_spawn(read_nothing, NULL, NULL);
    coro_spawn(write_to_full_buffer, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    close_pair();
}

static void *write_after_hangup(void *arg)
{
    (void)arg;
    coro_close(sv[1]);
    errno = 0;
    CHECK_INT(io_write(sv[0], "x", 1, coro_deadline_in(SAFETY_MS)), -1);
    CHECK_INT(errno, EPIPE);
    return NULL;
}

static void test_write_to_closed_peer(void)
{
    if (!open_pair())
        return;
    coro_spawn(write_after_hangup, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    coro_close(sv[0]);
}

static coro_t *victim;

static void *read_until_cancelled(void *arg)
{
    (void)arg;
    char c;
    errno = 0;
    CHECK_INT(io_read(sv[1], &c, 1, CORO_NEVER), -1);
    CHECK_INT(errno, ECANCELED);
    return NULL;
}

static void *cancel_victim_after_5ms(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(5));
    coro_cancel(victim);
    return NULL;
}

static void test_cancel_read(void)
{
    if (!open_pair())
        return;
    int64_t t0 = coro_now();
    victim = coro_spawn(read_until_cancelled, NULL, NULL);
    coro_spawn(cancel_victim_after_5ms, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK(coro_now() - t0 < 1000 * MS);
    close_pair();
}

static void test_nonblock(void)
{
    int p[2];
    if (!CHECK_INT(pipe(p), 0))
        return;
    CHECK_INT(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
    CHECK_INT(io_nonblock(p[0]), 0);
    CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    close(p[0]);
    close(p[1]);
    errno = 0;
    CHECK_INT(io_nonblock(p[0]), -1);
    CHECK_INT(errno, EBADF);
}

/* ---- TCP over loopback ---- */

/* A loopback address of `family` with port 0 (the kernel picks one). */
static socklen_t loopback(int family, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        return sizeof *a;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a;
}

/* A non-blocking TCP socket bound to loopback, listening if `backlog` >= 0.
 * Fills *addr with where it is.  -1 if the family has no loopback here. */
static int bound_socket(int family, int backlog, struct sockaddr_storage *addr,
                        socklen_t *len)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    *len = loopback(family, addr);
    if (bind(fd, (struct sockaddr *)addr, *len) < 0 ||
        (backlog >= 0 && listen(fd, backlog) < 0) ||
        getsockname(fd, (struct sockaddr *)addr, len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

struct tcp_case {
    int family;
    int lfd;                      /* the listening socket */
    struct sockaddr_storage addr; /* where it listens */
    socklen_t len;
};

static void *serve_one(void *arg)
{
    struct tcp_case *t = arg;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int fd = io_accept(t->lfd, (struct sockaddr *)&peer, &plen, coro_deadline_in(SAFETY_MS));
    if (!CHECK(fd >= 0))
        return NULL;
    CHECK_INT(peer.ss_family, t->family);
    CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    char buf[8] = "";
    CHECK_INT(io_read(fd, buf, 4, coro_deadline_in(SAFETY_MS)), 4);
    CHECK_STR(buf, "ping");
    CHECK_INT(io_write(fd, "pong", 4, coro_deadline_in(SAFETY_MS)), 4);
    coro_close(fd);
    return NULL;
}

static void *connect_and_ping(void *arg)
{
    struct tcp_case *t = arg;
    int fd = socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!CHECK(fd >= 0))
        return NULL;
    CHECK_INT(io_connect(fd, (struct sockaddr *)&t->addr, t->len, coro_deadline_in(SAFETY_MS)), 0);
    CHECK_INT(io_write(fd, "ping", 4, coro_deadline_in(SAFETY_MS)), 4);
    char buf[8] = "";
    CHECK_INT(io_read(fd, buf, sizeof buf - 1, coro_deadline_in(SAFETY_MS)), 4);
    CHECK_STR(buf, "pong");
    CHECK_INT(io_read(fd, buf, sizeof buf, coro_deadline_in(SAFETY_MS)), 0);
    coro_close(fd);
    return NULL;
}

static void tcp_round_trip(int family, const char *label)
{
    struct tcp_case t = {.family = family};
    t.lfd = bound_socket(family, 16, &t.addr, &t.len);
    if (t.lfd < 0) {
        if (family == AF_INET6) {
            printf("     skipped %s: no IPv6 loopback here (%s)\n", label, strerror(errno));
            return;
        }
        CHECK(t.lfd >= 0);
        return;
    }
    /* The client first, so the server's accept has nothing yet... */
    coro_spawn(connect_and_ping, &t, NULL);
    coro_spawn(serve_one, &t, NULL);
    CHECK_INT(coro_run(), 0);
    /* ...and then the server first, so accept must wait. */
    coro_spawn(serve_one, &t, NULL);
    coro_spawn(connect_and_ping, &t, NULL);
    CHECK_INT(coro_run(), 0);
    coro_close(t.lfd);
}

static void test_tcp_ipv4(void)
{
    tcp_round_trip(AF_INET, "127.0.0.1");
}

static void test_tcp_ipv6(void)
{
    tcp_round_trip(AF_INET6, "::1");
}

static void *connect_refused(void *arg)
{
    struct tcp_case *t = arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!CHECK(fd >= 0))
        return NULL;
    errno = 0;
    CHECK_INT(io_connect(fd, (struct sockaddr *)&t->addr, t->len, coro_deadline_in(SAFETY_MS)), -1);
    CHECK_INT(errno, ECONNREFUSED);
    coro_close(fd);
    return NULL;
}

/* A port that is bound but not listening: nobody else can take it while
 * the test runs, and a connection to it is refused. */
static void test_connect_refused(void)
{
    struct tcp_case t = {.family = AF_INET};
    t.lfd = bound_socket(AF_INET, -1, &t.addr, &t.len);
    if (!CHECK(t.lfd >= 0))
        return;
    coro_spawn(connect_refused, &t, NULL);
    CHECK_INT(coro_run(), 0);
    close(t.lfd);
}

static void *accept_nobody(void *arg)
{
    struct tcp_case *t = arg;
    int64_t deadline = coro_deadline_in(20);
    errno = 0;
    CHECK_INT(io_accept(t->lfd, NULL, NULL, deadline), -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(coro_now() >= deadline);
    CHECK(coro_now() <= deadline + 200 * MS);
    return NULL;
}

static void test_accept_deadline(void)
{
    struct tcp_case t = {.family = AF_INET};
    t.lfd = bound_socket(AF_INET, 16, &t.addr, &t.len);
    if (!CHECK(t.lfd >= 0))
        return;
    coro_spawn(accept_nobody, &t, NULL);
    CHECK_INT(coro_run(), 0);
    coro_close(t.lfd);
}

/* A listener with backlog 0 that never accepts: its queue holds one
 * connection, and the SYNs of any further ones are dropped, so those
 * connects stay in progress (the kernel retries only after a second). */
static int connect_to(const struct tcp_case *t, int64_t deadline)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!CHECK(fd >= 0))
        return -1;
    errno = 0;
    if (io_connect(fd, (const struct sockaddr *)&t->addr, t->len, deadline) < 0) {
        int e = errno;
        coro_close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void *connect_to_full_queue(void *arg)
{
    struct tcp_case *t = arg;
    int first = connect_to(t, coro_deadline_in(SAFETY_MS));
    CHECK(first >= 0); /* sits in the accept queue */
    int64_t deadline = coro_deadline_in(20);
    CHECK_INT(connect_to(t, deadline), -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(coro_now() >= deadline);
    CHECK(coro_now() <= deadline + 200 * MS);
    if (first >= 0)
        coro_close(first);
    return NULL;
}

static void test_connect_deadline(void)
{
    struct tcp_case t = {.family = AF_INET};
    t.lfd = bound_socket(AF_INET, 0, &t.addr, &t.len);
    if (!CHECK(t.lfd >= 0))
        return;
    coro_spawn(connect_to_full_queue, &t, NULL);
    CHECK_INT(coro_run(), 0);
    coro_close(t.lfd);
}

/* A coro_wakeup is not the connection being made: io_connect must not
 * report success for a connect still in progress. */
static void *connect_despite_wakeup(void *arg)
{
    struct tcp_case *t = arg;
    int first = connect_to(t, coro_deadline_in(SAFETY_MS));
    CHECK(first >= 0);
    int64_t deadline = coro_deadline_in(50);
    int fd = connect_to(t, deadline);
    if (fd >= 0) { /* then it must really be connected */
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        CHECK_INT(getpeername(fd, (struct sockaddr *)&peer, &plen), 0);
        coro_close(fd);
    }
    CHECK_INT(fd, -1);
    CHECK_INT(errno, ETIMEDOUT);
    if (first >= 0)
        coro_close(first);
    return NULL;
}

static void *wake_victim_after_5ms(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(5));
    coro_wakeup(victim);
    return NULL;
}

static void test_wakeup_does_not_end_connect(void)
{
    struct tcp_case t = {.family = AF_INET};
    t.lfd = bound_socket(AF_INET, 0, &t.addr, &t.len);
    if (!CHECK(t.lfd >= 0))
        return;
    victim = coro_spawn(connect_despite_wakeup, &t, NULL);
    coro_spawn(wake_victim_after_5ms, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    coro_close(t.lfd);
}

static const check_case tests[] = {
    {"4 MiB write waits for the reader", test_big_write_waits_for_reader},
    {"read returns 0 at EOF", test_read_eof},
    {"read and write deadlines", test_deadlines},
    {"write to a closed peer", test_write_to_closed_peer},
    {"cancel a read", test_cancel_read},
    {"io_nonblock", test_nonblock},
    {"TCP over 127.0.0.1", test_tcp_ipv4},
    {"TCP over ::1", test_tcp_ipv6},
    {"connect to a closed port", test_connect_refused},
    {"accept deadline", test_accept_deadline},
    {"connect deadline", test_connect_deadline},
    {"wakeup does not end a connect", test_wakeup_does_not_end_connect},
};

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* io_write reports EPIPE instead */
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
