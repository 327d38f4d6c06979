/* bench/peers/epoll.c - the floor under an fd wake: a bare epoll loop in C.
 *
 *   epoll N     N round trips over two pipes; prints "fd_wake_ns <one-way>"
 *
 * Two "tasks" as plain callbacks on one thread, no stacks, no scheduler:
 * the pinger writes a byte to pipe A; epoll_wait reports A readable; the
 * echo callback reads it and writes to pipe B; epoll_wait reports B; the
 * pinger's callback reads it and writes to A again.  One-way = one write,
 * one epoll_wait, one read: what bareawait's fd wake does at the least
 * (it also switches stacks).  Each read asks for 64 bytes and gets the one
 * written, as bench/sched's reader.
 * Level-triggered, each fd added once: the cheapest way epoll is used.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    if (n < 1) {
        fprintf(stderr, "usage: epoll [ROUND-TRIPS]\n");
        return 2;
    }
    int a[2], b[2];
    if (pipe2(a, O_NONBLOCK | O_CLOEXEC) < 0 || pipe2(b, O_NONBLOCK | O_CLOEXEC) < 0)
        die("pipe2");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = a[0]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, a[0], &ev) < 0)
        die("epoll_ctl");
    ev.data.fd = b[0];
    if (epoll_ctl(ep, EPOLL_CTL_ADD, b[0], &ev) < 0)
        die("epoll_ctl");
    char c = 'p';
    long back = 0;
    double t0 = now_ns();
    if (write(a[1], &c, 1) != 1)
        die("write");
    while (back < n) {
        struct epoll_event got[4];
        int k = epoll_wait(ep, got, 4, -1);
        if (k < 0)
            die("epoll_wait");
        for (int i = 0; i < k; i++) {
            int fd = got[i].data.fd;
            char buf[64]; /* as bareawait's reader asks (bench/sched.c) */
            if (read(fd, buf, sizeof buf) != 1)
                die("read");
            if (fd == a[0]) { /* the echo task */
                if (write(b[1], &c, 1) != 1)
                    die("write");
            } else if (++back < n && write(a[1], &c, 1) != 1) { /* the pinger */
                die("write");
            }
        }
    }
    double t1 = now_ns();
    printf("fd_wake_ns %.2f\n", (t1 - t0) / (2.0 * (double)n));
    return 0;
}
