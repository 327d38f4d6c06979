/* test_io_hint.c - io_read's guess that a read would only say EAGAIN.
 *
 * After a read of an fd comes back short (the fd was empty then), the
 * next io_read of it waits for epoll first instead of trying a read that
 * would fail (io.h).  Each case: two bytes wait in a socketpair; a first
 * io_read asks for some of them; then something happens (more bytes come
 * before the second io_read or during it, the peer closes, the deadline is
 * already past, a cancel is pending, the fd is closed and its number
 * reused); the second io_read must return what the old "try first" rule
 * would have returned, and the test counts its read system calls
 * (/proc/self/io's syscr, which counts failed reads too) and its parks
 * (the trace hook).  The reader has waited on its fd once before, as a
 * connection's socket has by its second answer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "sanitize.h"

#define MS 1000000 /* nanoseconds */

enum then {
    NOTHING,     /* nobody writes again */
    MORE_BEFORE, /* a byte is written right before the second read */
    MORE_LATER,  /* ...20 ms into it, by another coroutine */
    EOF_LATER,   /* the peer shuts its side 20 ms into it */
    REOPENED,    /* the pair is closed and a new one (same fd numbers) has a byte */
};

struct hint_case {
    const char *name;
    size_t first_ask; /* 2 bytes are there: 64 reads short, 1 reads full */
    enum then then;
    bool past_deadline; /* the second read's deadline has passed */
    bool cancelled;     /* a coro_cancel of the reader is pending */
    long want_got;      /* the second read's result... */
    int want_errno;     /* ...its errno when -1 */
    long want_reads;    /* its read system calls */
    long want_parks;    /* its PARK_FD events */
};

static const struct hint_case cases[] = {
    {"short read, more later: waits first, one read", 64, MORE_LATER, false, false,
     1, 0, 1, 1},
    {"short read, more before: a wrong guess still reads it", 64, MORE_BEFORE, false, false,
     1, 0, 1, 1},
    {"full read: tries first, no wait", 1, NOTHING, false, false, 1, 0, 1, 0},
    {"short read, more before, deadline past: the byte", 64, MORE_BEFORE, true, false,
     1, 0, 1, 1},
    {"short read, nothing, deadline past: ETIMEDOUT after one read", 64, NOTHING, true, false,
     -1, ETIMEDOUT, 1, 1},
    {"short read, more before, cancel pending: tries first, the byte", 64, MORE_BEFORE, false,
     true, 1, 0, 1, 0},
    {"short read, then EOF: waits, reads 0", 64, EOF_LATER, false, false, 0, 0, 1, 1},
    {"short read, fd closed and reused: the guess is forgotten", 64, REOPENED, false, false,
     1, 0, 1, 0},
};

static int sv[2];
static const struct hint_case *now_case;
static long parks; /* the reader's PARK_FD events so far */

static void count_parks(const coro_event *ev, void *user)
{
    (void)user;
    if (ev->kind == CORO_EV_PARK_FD)
        parks++;
}

static long read_syscalls(void)
{
    return (long)check_proc_kib("/proc/self/io", "syscr:");
}

static void *write_later(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(20));
    if (now_case->then == EOF_LATER)
        CHECK_INT(shutdown(sv[0], SHUT_WR), 0);
    else
        CHECK_INT(write(sv[0], "c", 1), 1);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    const struct hint_case *c = now_case;
    char buf[64];
    /* Waited on once, as a connection's socket is before its first answer:
     * the guess is kept only for an fd epoll watches (io.h). */
    CHECK_INT(coro_wait(sv[1], CORO_READ, coro_deadline_in(5000)), CORO_WOKE_READY);
    CHECK_INT(io_read(sv[1], buf, c->first_ask, coro_deadline_in(5000)),
              c->first_ask < 2 ? (long)c->first_ask : 2);
    if (c->then == MORE_BEFORE)
        CHECK_INT(write(sv[0], "c", 1), 1);
    if (c->then == MORE_LATER || c->then == EOF_LATER)
        coro_spawn(write_later, NULL, &(coro_opts){.detached = true});
    if (c->then == REOPENED) {
        int old[2] = {sv[0], sv[1]};
        coro_close(sv[0]);
        coro_close(sv[1]);
        CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        CHECK_INT(sv[0] == old[0] && sv[1] == old[1], 1); /* the numbers are reused */
        CHECK_INT(write(sv[0], "c", 1), 1);
    }
    if (c->cancelled)
        coro_cancel(coro_self());
    int64_t deadline = c->past_deadline ? coro_now() - MS : coro_deadline_in(5000);

    long k = read_syscalls();
    k = read_syscalls() - k; /* what one look at /proc/self/io costs */
    long parks0 = parks;
    long reads0 = read_syscalls();
    errno = 0;
    long got = (long)io_read(sv[1], buf, sizeof buf, deadline);
    int err = errno;
    long reads = read_syscalls() - reads0 - k;
    if (!CHECK_INT(got, c->want_got) || (got < 0 && !CHECK_INT(err, c->want_errno)))
        fprintf(stderr, "  case: %s\n", c->name);
    /* (valgrind makes read calls of its own, on a pipe it locks threads
     * with, when a coroutine parks: there only the parks are counted.) */
    if ((!san_on_valgrind() && !CHECK_INT(reads, c->want_reads)) ||
        !CHECK_INT(parks - parks0, c->want_parks))
        fprintf(stderr, "  case: %s\n", c->name);
    if (c->cancelled) /* not taken by the read: the next wait sees it */
        CHECK_INT(coro_park(CORO_NEVER), CORO_WOKE_CANCELLED);
    return NULL;
}

/* Outside the table: io_read(-1) in a runtime whose fd table is still
 * empty (the first thing this program does), and a read of 0 bytes after
 * a short read -- neither may wait. */
static void *bad_fd_and_zero(void *arg)
{
    (void)arg;
    char buf[8];
    errno = 0;
    CHECK_INT(io_read(-1, buf, sizeof buf, CORO_NEVER), -1);
    CHECK_INT(errno, EBADF);
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    CHECK_INT(coro_wait(sv[1], CORO_READ, coro_deadline_in(20)), CORO_WOKE_TIMEOUT);
    CHECK_INT(write(sv[0], "a", 1), 1);
    CHECK_INT(io_read(sv[1], buf, sizeof buf, coro_deadline_in(5000)), 1); /* short */
    long parks0 = parks;
    CHECK_INT(io_read(sv[1], buf, 0, CORO_NEVER), 0);
    CHECK_INT(parks - parks0, 0);
    coro_close(sv[0]);
    coro_close(sv[1]);
    return NULL;
}

static void run_case(const struct hint_case *c)
{
    now_case = c;
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    CHECK_INT(write(sv[0], "ab", 2), 2);
    coro_set_trace(count_parks, NULL);
    coro_spawn(reader, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    coro_set_trace(NULL, NULL);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    if (read_syscalls() < 0) {
        printf("skip: no /proc/self/io (task I/O accounting) to count reads with\n");
        return 77;
    }
    int fds = check_count_fds();
    int failed = check_failures;
    coro_set_trace(count_parks, NULL);
    coro_spawn(bad_fd_and_zero, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    coro_set_trace(NULL, NULL);
    printf("%s io_read(-1), and of 0 bytes after a short read: no wait\n",
           check_failures == failed ? "ok  " : "FAIL");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = check_failures;
        run_case(&cases[i]);
        printf("%s %s\n", check_failures == before ? "ok  " : "FAIL", cases[i].name);
    }
    CHECK_INT(check_count_fds(), fds);
    return check_summary();
}
