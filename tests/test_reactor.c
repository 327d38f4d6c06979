/* test_reactor.c - coro_wait on file descriptors: the epoll reactor seen
 * through the one wait primitive.
 *
 * Every test uses socketpairs between coroutines of the same process, so
 * nothing depends on the outside world.  An order log (a string each step
 * appends to) shows who ran when; waits that should never block long carry
 * a generous deadline so a bug fails the check instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include "sanitize.h"

#define MS 1000000 /* nanoseconds */
#define SAFETY_MS 5000 /* deadline for waits that should end much sooner */

static char trail[256];

static void step(const char *fmt, ...)
{
    size_t used = strlen(trail);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(trail + used, sizeof trail - used, fmt, ap);
    va_end(ap);
}

static int sv[2]; /* the socketpair of the current test */

static int open_pair(void)
{
    trail[0] = '\0';
    return CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static void close_pair(void)
{
    coro_close(sv[0]);
    coro_close(sv[1]);
}

/* Writes until the socket buffer is full; returns the bytes written. */
static size_t fill(int fd)
{
    static char junk[65536];
    size_t total = 0;
    ssize_t n;
    while ((n = write(fd, junk, sizeof junk)) > 0)
        total += (size_t)n;
    CHECK_INT(errno, EAGAIN);
    return total;
}

/* Reads until nothing is left; returns the bytes read. */
static size_t drain(int fd)
{
    static char sink[65536];
    size_t total = 0;
    ssize_t n;
    while ((n = read(fd, sink, sizeof sink)) > 0)
        total += (size_t)n;
    return total;
}

static void *sleep_5ms_then_write(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(5));
    step("write ");
    CHECK_INT(write(sv[1], "x", 1), 1);
    return NULL;
}

/* ---- readable, writable, timeout ---- */

static void *wait_readable(void *arg)
{
    (void)arg;
    step("wait ");
    CHECK_INT(coro_wait(sv[0], CORO_READ, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    char c = 0;
    CHECK_INT(read(sv[0], &c, 1), 1);
    step("read %c", c);
    return NULL;
}

static void test_read_wakes_on_write(void)
{
    if (!open_pair())
        return;
    coro_spawn(wait_readable, NULL, NULL);
    coro_spawn(sleep_5ms_then_write, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "wait write read x");
    close_pair();
}

static size_t filled;

static void *wait_writable(void *arg)
{
    (void)arg;
    filled = fill(sv[0]);
    step("full ");
    CHECK_INT(coro_wait(sv[0], CORO_WRITE, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    step("writable");
    CHECK(write(sv[0], "y", 1) == 1);
    return NULL;
}

static void *sleep_5ms_then_drain(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(5));
    step("drain ");
    CHECK_INT(drain(sv[1]), filled);
    return NULL;
}

static void test_write_wakes_on_drain(void)
{
    if (!open_pair())
        return;
    coro_spawn(wait_writable, NULL, NULL);
    coro_spawn(sleep_5ms_then_drain, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "full drain writable");
    CHECK(filled > 0);
    close_pair();
}

static void *wait_for_nothing(void *arg)
{
    (void)arg;
    int64_t t0 = coro_now();
    int64_t deadline = t0 + 20 * MS;
    CHECK_INT(coro_wait(sv[0], CORO_READ, deadline), CORO_WOKE_TIMEOUT);
    int64_t now = coro_now();
    CHECK(now >= deadline);
    CHECK(now <= deadline + 200 * MS);
    /* The timed-out wait was forgotten: data now wakes the next one. */
    CHECK_INT(write(sv[1], "z", 1), 1);
    CHECK_INT(coro_wait(sv[0], CORO_READ, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    step("ok");
    return NULL;
}

static void test_timeout(void)
{
    if (!open_pair())
        return;
    coro_spawn(wait_for_nothing, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "ok");
    close_pair();
}

/* ---- fds epoll cannot watch, closing, hang-ups ---- */

static int regular_fd;

static void *wait_on_regular_file(void *arg)
{
    (void)arg;
    CHECK_INT(coro_wait(regular_fd, CORO_READ, CORO_NEVER), CORO_WOKE_READY);
    CHECK_INT(coro_wait(regular_fd, CORO_READ | CORO_WRITE, CORO_NEVER), CORO_WOKE_READY);
    step("file ");
    return NULL;
}

static void *log_other(void *arg)
{
    (void)arg;
    step("other ");
    return NULL;
}

/* A regular file is always ready: the wait returns without parking, so the
 * coroutine queued behind does not get to run first. */
static void test_regular_file_is_ready_at_once(void)
{
    trail[0] = '\0';
    FILE *f = tmpfile();
    if (!CHECK(f != NULL))
        return;
    regular_fd = fileno(f);
    coro_spawn(wait_on_regular_file, NULL, NULL);
    coro_spawn(log_other, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "file other ");
    fclose(f);
}

static void *wait_then_read_closed(void *arg)
{
    (void)arg;
    CHECK_INT(coro_wait(sv[0], CORO_READ, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    char c;
    errno = 0;
    CHECK_INT(read(sv[0], &c, 1), -1);
    CHECK_INT(errno, EBADF); /* the next syscall reports it */
    step("woken");
    return NULL;
}

static void *close_after_5ms(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(5));
    step("close ");
    CHECK_INT(coro_close(sv[0]), 0);
    return NULL;
}

static void test_close_wakes_waiter(void)
{
    if (!open_pair())
        return;
    int64_t t0 = coro_now();
    coro_spawn(wait_then_read_closed, NULL, NULL);
    coro_spawn(close_after_5ms, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "close woken");
    CHECK(coro_now() - t0 < 1000 * MS);
    coro_close(sv[1]);
}

static void *wait_for_eof(void *arg)
{
    (void)arg;
    CHECK_INT(coro_wait(sv[0], CORO_READ, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    char c;
    CHECK_INT(read(sv[0], &c, 1), 0);
    step("eof");
    return NULL;
}

static void *hang_up_after_5ms(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(5));
    step("hangup ");
    coro_close(sv[1]);
    return NULL;
}

static void test_hangup_wakes_reader(void)
{
    if (!open_pair())
        return;
    coro_spawn(wait_for_eof, NULL, NULL);
    coro_spawn(hang_up_after_5ms, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "hangup eof");
    coro_close(sv[0]);
}

/* ---- one reader and one writer on the same fd ---- */

static void *reader_on_sv0(void *arg)
{
    (void)arg;
    CHECK_INT(coro_wait(sv[0], CORO_READ, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    step("R ");
    return NULL;
}

static void *writer_on_sv0(void *arg)
{
    (void)arg;
    CHECK_INT(coro_wait(sv[0], CORO_WRITE, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    step("W ");
    return NULL;
}

static void *drain_then_write_back(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(5));
    step("drain ");
    drain(sv[1]);
    coro_sleep_until(coro_deadline_in(5));
    step("write ");
    CHECK_INT(write(sv[1], "r", 1), 1);
    return NULL;
}

static void test_reader_and_writer_on_one_fd(void)
{
    if (!open_pair())
        return;
    fill(sv[0]);
    coro_spawn(reader_on_sv0, NULL, NULL);
    coro_spawn(writer_on_sv0, NULL, NULL);
    coro_spawn(drain_then_write_back, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "drain W write R ");
    close_pair();
}

/* ---- many fds ---- */

struct echo_pair {
    int fd[2];   /* fd[0]: the driver's end; fd[1]: the echoer's */
    int echoed;  /* bytes the echoer sent back */
};

static struct echo_pair *pairs;
static int npairs, rounds;

/* Reads one byte at a time from its end and sends it back plus one. */
static void *echo(void *arg)
{
    struct echo_pair *p = arg;
    for (int i = 0; i < rounds; i++) {
        if (coro_wait(p->fd[1], CORO_READ, coro_deadline_in(SAFETY_MS)) != CORO_WOKE_READY)
            return NULL;
        unsigned char c;
        if (read(p->fd[1], &c, 1) != 1)
            return NULL;
        c++;
        if (write(p->fd[1], &c, 1) == 1)
            p->echoed++;
    }
    return NULL;
}

/* Each round: a byte to every echoer at once (so one epoll_wait reports
 * many fds), then every answer collected. */
static void *drive(void *arg)
{
    (void)arg;
    int wrong = 0;
    for (int r = 0; r < rounds; r++) {
        unsigned char c = (unsigned char)r;
        for (int i = 0; i < npairs; i++)
            CHECK_INT(write(pairs[i].fd[0], &c, 1), 1);
        for (int i = 0; i < npairs; i++) {
            unsigned char got = 0;
            if (coro_wait(pairs[i].fd[0], CORO_READ, coro_deadline_in(SAFETY_MS)) != CORO_WOKE_READY ||
                read(pairs[i].fd[0], &got, 1) != 1 || got != (unsigned char)(r + 1))
                wrong++;
        }
    }
    CHECK_INT(wrong, 0);
    return NULL;
}

static void test_two_hundred_pairs(void)
{
    npairs = 200;
    rounds = san_on_valgrind() ? 5 : 50;
    pairs = calloc((size_t)npairs, sizeof *pairs);
    if (!CHECK(pairs != NULL))
        return;
    int opened = 0;
    for (; opened < npairs; opened++)
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pairs[opened].fd) < 0)
            break;
    if (CHECK_INT(opened, npairs)) {
        for (int i = 0; i < npairs; i++)
            coro_spawn(echo, &pairs[i], NULL);
        coro_spawn(drive, NULL, NULL);
        CHECK_INT(coro_run(), 0);
        int echoed = 0;
        for (int i = 0; i < npairs; i++)
            echoed += pairs[i].echoed;
        CHECK_INT(echoed, npairs * rounds);
    }
    for (int i = 0; i < opened; i++) {
        coro_close(pairs[i].fd[0]);
        coro_close(pairs[i].fd[1]);
    }
    free(pairs);
}

/* ---- stray events and level semantics ---- */

static int polls; /* POLL trace events seen */

static void count_polls(const coro_event *ev, void *user)
{
    (void)user;
    if (ev->kind == CORO_EV_POLL)
        polls++;
}

/* Data arrives while nobody waits on the fd (the reactor sees a "stray"
 * event and drops its interest); a wait afterwards must still see it, and
 * a wait after that must still be woken by new data. */
static void *stray_then_wait(void *arg)
{
    (void)arg;
    char c;
    /* 1. Wait once, so epoll keeps an interest in sv[0]. */
    CHECK_INT(write(sv[1], "a", 1), 1);
    CHECK_INT(coro_wait(sv[0], CORO_READ, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    CHECK_INT(read(sv[0], &c, 1), 1);
    /* 2. Data arrives while we sleep: epoll reports it, nobody waits. */
    coro_spawn(sleep_5ms_then_write, NULL, NULL);
    coro_sleep_until(coro_deadline_in(20));
    /* 3. The data is there: the wait sees it. */
    CHECK_INT(coro_wait(sv[0], CORO_READ, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    CHECK_INT(read(sv[0], &c, 1), 1);
    /* 4. Nothing pending: a new write wakes us. */
    coro_spawn(sleep_5ms_then_write, NULL, NULL);
    CHECK_INT(coro_wait(sv[0], CORO_READ, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    CHECK_INT(read(sv[0], &c, 1), 1);
    step("ok");
    return NULL;
}

static void test_stray_event(void)
{
    if (!open_pair())
        return;
    coro_spawn(stray_then_wait, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "write write ok");
    close_pair();
}

/* After a wait for writable, the always-writable socket must not keep
 * waking epoll while we wait for something else (here: 30 ms of nothing). */
static void *write_then_wait_read(void *arg)
{
    (void)arg;
    CHECK_INT(coro_wait(sv[0], CORO_WRITE, coro_deadline_in(SAFETY_MS)), CORO_WOKE_READY);
    polls = 0;
    CHECK_INT(coro_wait(sv[0], CORO_READ, coro_deadline_in(30)), CORO_WOKE_TIMEOUT);
    CHECK(polls <= 5); /* a busy loop would make thousands */
    return NULL;
}

static void test_stale_interest_does_not_spin(void)
{
    if (!open_pair())
        return;
    coro_set_trace(count_polls, NULL);
    coro_spawn(write_then_wait_read, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    coro_set_trace(NULL, NULL);
    close_pair();
}

/* Level-triggered: unread data keeps the fd ready, wait after wait. */
static void *wait_twice_without_reading(void *arg)
{
    (void)arg;
    CHECK_INT(write(sv[1], "d", 1), 1);
    for (int i = 0; i < 3; i++)
        CHECK_INT(coro_wait(sv[0], CORO_READ, coro_deadline_in(1000)), CORO_WOKE_READY);
    step("level");
    return NULL;
}

static void test_level_semantics(void)
{
    if (!open_pair())
        return;
    coro_spawn(wait_twice_without_reading, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "level");
    close_pair();
}

/* The one-waiter-per-direction rule stops the program in every build
 * type: test_misuse.c ("two readers on one fd", "two writers on one fd"). */

static const check_case tests[] = {
    {"read wakes on write", test_read_wakes_on_write},
    {"write wakes on drain", test_write_wakes_on_drain},
    {"timeout", test_timeout},
    {"regular file is ready at once", test_regular_file_is_ready_at_once},
    {"coro_close wakes the waiter", test_close_wakes_waiter},
    {"hang-up wakes the reader", test_hangup_wakes_reader},
    {"a reader and a writer on one fd", test_reader_and_writer_on_one_fd},
    {"200 socketpairs", test_two_hundred_pairs},
    {"stray event", test_stray_event},
    {"stale interest does not spin", test_stale_interest_does_not_spin},
    {"level semantics", test_level_semantics},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
