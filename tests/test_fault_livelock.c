/* test_fault_livelock.c - a wait that cannot be registered with epoll
 * (epoll_ctl failing with ENOMEM, as under kernel memory pressure) is an
 * error for its caller, never a retry that does not yield; and one that
 * cannot be removed (a DEL failing in coro_close) does not leave the next
 * fd of that number unwatched.
 *
 * This executable defines epoll_ctl itself, so the runtime linked into it
 * calls this one: it passes the call to the kernel, or fails it with
 * ENOMEM while `fail_epoll_ctl` is set.  Before the fix a coroutine whose
 * io_read got EAGAIN asked epoll, was told "ready" at once, read EAGAIN
 * again, and so on for ever at 100% CPU; a watchdog alarm turns that into
 * a failure with a message instead of a hung test.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/io.h>

#define WATCHDOG_S 20 /* a livelock is reported after this long */

static volatile int fail_epoll_ctl;   /* every call fails */
static volatile int fail_next_del;    /* the next EPOLL_CTL_DEL fails */
static volatile long epoll_ctl_calls;

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    epoll_ctl_calls++;
    if (fail_epoll_ctl || (op == EPOLL_CTL_DEL && fail_next_del)) {
        fail_next_del = 0;
        errno = ENOMEM;
        return -1;
    }
    return (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
}

static void watchdog(int sig)
{
    (void)sig;
    static const char msg[] = "test_fault_livelock: still running after the watchdog's "
                              "time: a wait that cannot be registered spins (livelock)\n";
    ssize_t rc = write(2, msg, sizeof msg - 1);
    (void)rc;
    _exit(1);
}

/* ---- two coroutines, each reading a socket nobody writes to ---- */

struct reader {
    int fd;
    ssize_t got;   /* io_read's result */
    int err;       /* its errno */
    int64_t took;  /* ns from start to return */
};

static void *read_one(void *arg)
{
    struct reader *r = arg;
    char buf[16];
    int64_t t0 = coro_now();
    errno = 0;
    r->got = io_read(r->fd, buf, sizeof buf, CORO_NEVER);
    r->err = errno;
    r->took = coro_now() - t0;
    return NULL;
}

static void test_two_readers(void)
{
    int sv[2];
    if (!CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0))
        return;
    struct reader r[2] = {{.fd = sv[0]}, {.fd = sv[1]}};
    fail_epoll_ctl = 1;
    CHECK(coro_spawn(read_one, &r[0], &(coro_opts){.detached = true}) != NULL);
    CHECK(coro_spawn(read_one, &r[1], &(coro_opts){.detached = true}) != NULL);
    CHECK_INT(coro_run(), 0);
    fail_epoll_ctl = 0;
    for (int i = 0; i < 2; i++) {
        CHECK_INT(r[i].got, -1);
        CHECK_INT(r[i].err, ENOMEM);
        CHECK(r[i].took < 1000000000); /* within a second */
    }
    close(sv[0]);
    close(sv[1]);
}

/* ---- coro_wait itself says CORO_WOKE_FAILED, errno kept ---- */

static void *wait_once(void *arg)
{
    int *fd = arg;
    errno = 0;
    coro_wake w = coro_wait(*fd, CORO_READ, coro_deadline_in(5000));
    CHECK_INT(w, CORO_WOKE_FAILED);
    CHECK_INT(errno, ENOMEM);
    return NULL;
}

static void test_coro_wait_failed(void)
{
    int sv[2];
    if (!CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0))
        return;
    fail_epoll_ctl = 1;
    CHECK(coro_spawn(wait_once, &sv[0], &(coro_opts){.detached = true}) != NULL);
    CHECK_INT(coro_run(), 0);
    fail_epoll_ctl = 0;
    close(sv[0]);
    close(sv[1]);
}

/* ---- the HTTP client: a documented code, not a hang ---- */

struct get {
    int port;
    int rc;      /* http_get's result */
    int err;     /* errno after it */
    int64_t took;
};

static void *get_one(void *arg)
{
    struct get *g = arg;
    http_client *cl = http_client_open(NULL);
    if (!CHECK(cl != NULL))
        return NULL;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", g->port);
    http_response *resp = NULL;
    int64_t t0 = coro_now();
    g->rc = http_get(cl, url, &resp);
    g->err = errno;
    g->took = coro_now() - t0;
    http_response_free(resp);
    http_client_close(cl);
    return NULL;
}

/* A listening socket that never accepts: the kernel completes the
 * handshake, takes the request, and the reply never comes -- so the
 * client must wait, on a connect or on the read, and that wait fails. */
static void test_client_nomem(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (!CHECK(lfd >= 0) || !CHECK_INT(bind(lfd, (struct sockaddr *)&sa, len), 0) ||
        !CHECK_INT(listen(lfd, 8), 0) ||
        !CHECK_INT(getsockname(lfd, (struct sockaddr *)&sa, &len), 0))
        return;
    struct get g[2] = {{.port = ntohs(sa.sin_port)}, {.port = ntohs(sa.sin_port)}};
    fail_epoll_ctl = 1;
    coro_spawn(get_one, &g[0], &(coro_opts){.detached = true});
    coro_spawn(get_one, &g[1], &(coro_opts){.detached = true});
    CHECK_INT(coro_run(), 0);
    fail_epoll_ctl = 0;
    for (int i = 0; i < 2; i++) {
        if (!CHECK_INT(g[i].rc, HTTP_E_NOMEM))
            fprintf(stderr, "  http_get said %s\n", http_strerror(g[i].rc));
        CHECK_INT(g[i].err, ENOMEM);
        CHECK(g[i].took < 1000000000);
    }
    close(lfd);
}

static void *write_later(void *arg)
{
    int *fd = arg;
    coro_sleep_until(coro_deadline_in(20));
    CHECK_INT(write(*fd, "x", 1), 1);
    return NULL;
}

/* ---- a DEL that fails in coro_close, then the fd number comes back ---- */

static void *read_after_reuse(void *arg)
{
    (void)arg;
    int sv[2], again[2];
    char c;
    if (!CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0))
        return NULL;
    /* Waited on once (so in epoll), then closed while DEL fails. */
    CHECK_INT(io_read(sv[0], &c, 1, coro_deadline_in(10)), -1);
    fail_next_del = 1;
    coro_close(sv[0]);
    close(sv[1]);
    if (!CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, again), 0))
        return NULL;
    CHECK_INT(again[0], sv[0]); /* the same number, a new socket */
    /* The writer comes after the reader parks: only epoll can wake it. */
    coro_t *w = coro_spawn(write_later, &again[1], NULL);
    errno = 0;
    CHECK_INT(io_read(again[0], &c, 1, coro_deadline_in(5000)), 1);
    coro_join(w, NULL);
    coro_close(again[0]);
    close(again[1]);
    return NULL;
}

static void test_failed_del_then_reuse(void)
{
    CHECK(coro_spawn(read_after_reuse, NULL, &(coro_opts){.detached = true}) != NULL);
    CHECK_INT(coro_run(), 0);
}

int main(void)
{
    signal(SIGALRM, watchdog);
    alarm(WATCHDOG_S);
    test_coro_wait_failed();
    test_two_readers();
    test_client_nomem();
    test_failed_del_then_reuse();
    CHECK(epoll_ctl_calls > 0); /* the runtime did call ours */
    return check_summary();
}
