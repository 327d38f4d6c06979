/* test_sync_select.c - coro_select (sync.h): the first of channel sends,
 * receives, fd readiness and a deadline; at most one channel case
 * happens; two fds in one epoll batch; a cancel racing a readiness or a
 * hand-off; an fd closed (and its number reused) under a select.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/sync.h>
#include "trail.h"

#define MS 1000000 /* nanoseconds */

static coro_chan *c1, *c2;
static int a[2], b[2], z[2]; /* socketpairs: [0] is waited on, [1] written */

static coro_select_case recv_case(coro_chan *ch, int *into)
{
    return (coro_select_case){.op = CORO_SELECT_RECV, .chan = ch, .value = into};
}

static coro_select_case send_case(coro_chan *ch, int *value)
{
    return (coro_select_case){.op = CORO_SELECT_SEND, .chan = ch, .value = value};
}

static coro_select_case read_case(int fd)
{
    return (coro_select_case){.op = CORO_SELECT_READ, .fd = fd};
}

static bool pairs(void)
{
    return CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0) &&
           CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0) &&
           CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, z), 0);
}

static void unpairs(void)
{
    int *fds[] = {a, b, z};
    for (int i = 0; i < 3; i++)
        coro_close(fds[i][0]), coro_close(fds[i][1]);
}

static void setup(size_t cap1, size_t cap2)
{
    trail_reset();
    c1 = coro_chan_new(sizeof(int), cap1);
    c2 = coro_chan_new(sizeof(int), cap2);
}

static void teardown(void)
{
    coro_chan_free(c1);
    coro_chan_free(c2);
}

/* A try-send of v on ch: "ok" or "T". */
static const char *try_send(coro_chan *ch, int v)
{
    return coro_chan_send(ch, &v, 0) == 0 ? "ok" : errno == ETIMEDOUT ? "T" : "?";
}

static char drain(int fd)
{
    char byte = 0;
    CHECK_INT(read(fd, &byte, 1), 1);
    return byte;
}

/* ---- what can happen at once ---- */

static void *immediate(void *arg)
{
    (void)arg;
    int x = 0, y = 0, v = 1, w = 2;
    CHECK_INT(coro_chan_send(c1, &v, 0), 0);
    CHECK_INT(coro_chan_send(c2, &w, 0), 0);
    coro_select_case cs[] = {recv_case(c1, &x), recv_case(c2, &y)};
    CHECK_INT(coro_select(cs, 2, 0), 0); /* the first of two ready */
    CHECK_INT(x, 1);
    CHECK_INT(y, 0);
    CHECK_INT(coro_chan_len(c2), 1); /* the second did not happen */
    CHECK_INT(coro_select(cs, 2, 0), 1);
    CHECK_INT(y, 2);
    CHECK_INT(cs[1].err, 0);
    errno = 0;
    CHECK_INT(coro_select(cs, 2, 0), -1); /* nothing left: a try */
    CHECK_INT(errno, ETIMEDOUT);
    /* An fd that is ready, after a channel that is not. */
    CHECK_INT(write(a[1], "x", 1), 1);
    coro_select_case mixed[] = {recv_case(c1, &x), read_case(a[0])};
    CHECK_INT(coro_select(mixed, 2, CORO_NEVER), 1);
    CHECK_INT(drain(a[0]), 'x'); /* readiness only: the byte is still there */
    /* A closed channel "happens", with EPIPE. */
    coro_chan_close(c1);
    CHECK_INT(coro_select(mixed, 2, CORO_NEVER), 0);
    CHECK_INT(mixed[0].err, EPIPE);
    return NULL;
}

static void test_immediate(void)
{
    setup(1, 1);
    if (pairs())
        coro_spawn(immediate, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    unpairs();
    teardown();
}

/* ---- waiting for channels ---- */

static void *select_two_recvs(void *arg)
{
    int *got = arg;
    coro_select_case cs[] = {recv_case(c1, &got[0]), recv_case(c2, &got[1])};
    int i = coro_select(cs, 2, coro_deadline_in(5000));
    step("sel%d ", i);
    CHECK_INT(coro_yield(), 0); /* no cancel pending */
    return NULL;
}

/* Two senders come in the same round: only the first case happens, and
 * the second sender finds nobody (a stale waiter of ours is passed over). */
static void *send_both(void *arg)
{
    (void)arg;
    coro_yield(); /* the select parks */
    step("c2:%s ", try_send(c2, 7));
    step("c1:%s ", try_send(c1, 8));
    return NULL;
}

static void test_one_case_happens(void)
{
    int got[2] = {0, 0};
    setup(0, 0);
    coro_spawn(select_two_recvs, got, NULL);
    coro_spawn(send_both, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "c2:ok c1:T sel1 ");
    CHECK_INT(got[0], 0);
    CHECK_INT(got[1], 7);
    teardown();
}

static void *select_send(void *arg)
{
    int v = 42;
    coro_select_case cs[] = {send_case(c1, &v), recv_case(c2, arg)};
    CHECK_INT(coro_select(cs, 2, CORO_NEVER), 0);
    CHECK_INT(cs[0].err, 0);
    step("sent ");
    return NULL;
}

static void *receive_c1(void *arg)
{
    (void)arg;
    int v = 0;
    coro_yield();
    CHECK_INT(coro_chan_recv(c1, &v, CORO_NEVER), 0);
    step("got%d ", v);
    return NULL;
}

static void *fill_c1(void *arg)
{
    (void)arg;
    CHECK_STR(try_send(c1, 1), "ok");
    return NULL;
}

/* A SEND case, on an unbuffered channel and on a full one (where a
 * receive refills the buffer from the select's value). */
static void test_send_case(void)
{
    int unused = 0;
    setup(0, 0);
    coro_spawn(select_send, &unused, NULL);
    coro_spawn(receive_c1, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "got42 sent ");
    teardown();

    setup(1, 0);
    coro_spawn(fill_c1, NULL, NULL);
    coro_spawn(select_send, &unused, NULL);
    coro_spawn(receive_c1, NULL, NULL);
    coro_spawn(receive_c1, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "got1 got42 sent ");
    teardown();
}

static void *close_c2_later(void *arg)
{
    (void)arg;
    coro_yield();
    coro_chan_close(c2);
    return NULL;
}

static void *select_until_closed(void *arg)
{
    int v = 0;
    (void)arg;
    coro_select_case cs[] = {recv_case(c1, &v), recv_case(c2, &v)};
    CHECK_INT(coro_select(cs, 2, CORO_NEVER), 1);
    CHECK_INT(cs[1].err, EPIPE);
    step("closed ");
    return NULL;
}

static void test_close_wakes_select(void)
{
    setup(0, 3);
    coro_spawn(select_until_closed, NULL, NULL);
    coro_spawn(close_c2_later, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "closed ");
    teardown();
}

/* More cases than the select keeps on its stack. */
static void *select_twelve(void *arg)
{
    coro_chan **chans = arg;
    coro_select_case cs[12];
    int into[12] = {0};
    for (int i = 0; i < 12; i++)
        cs[i] = recv_case(chans[i], &into[i]);
    CHECK_INT(coro_select(cs, 12, CORO_NEVER), 11);
    CHECK_INT(into[11], 99);
    return NULL;
}

static void *send_to_last(void *arg)
{
    coro_chan **chans = arg;
    coro_yield();
    CHECK_STR(try_send(chans[11], 99), "ok");
    CHECK_STR(try_send(chans[10], 98), "T"); /* the select is gone */
    return NULL;
}

static void test_many_cases(void)
{
    coro_chan *chans[12];
    for (int i = 0; i < 12; i++)
        chans[i] = coro_chan_new(sizeof(int), 0);
    coro_spawn(select_twelve, chans, NULL);
    coro_spawn(send_to_last, chans, NULL);
    CHECK_INT(coro_run(), 0);
    for (int i = 0; i < 12; i++)
        coro_chan_free(chans[i]);
}

/* ---- deadlines and fds ---- */

static void *time_out_then_reuse(void *arg)
{
    (void)arg;
    int v = 0;
    coro_select_case cs[] = {recv_case(c1, &v), read_case(a[0]),
                             {.op = CORO_SELECT_WRITE, .fd = b[0]}};
    /* b[0] is writable at once: take it out to wait for the others. */
    int64_t t0 = coro_now();
    errno = 0;
    CHECK_INT(coro_select(cs, 2, coro_deadline_in(10)), -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(coro_now() - t0 >= 10 * MS);
    CHECK_INT(coro_select(cs, 3, coro_deadline_in(10)), 2);
    /* Nothing of the select is left: the channel has no receiver and the
     * fd can be waited on again. */
    CHECK_STR(try_send(c1, 1), "T");
    CHECK_INT(coro_wait(a[0], CORO_READ, coro_deadline_in(1)), CORO_WOKE_TIMEOUT);
    /* No cases: a sleep. */
    t0 = coro_now();
    CHECK_INT(coro_select(NULL, 0, coro_deadline_in(5)), -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(coro_now() - t0 >= 5 * MS);
    return NULL;
}

static void test_deadline(void)
{
    setup(0, 0);
    if (pairs())
        coro_spawn(time_out_then_reuse, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    unpairs();
    teardown();
}

/* A regular file cannot be watched (epoll says EPERM): always ready. */
static void *select_file(void *arg)
{
    int fd = *(int *)arg, v = 0;
    coro_select_case cs[] = {recv_case(c1, &v), read_case(fd)};
    CHECK_INT(coro_select(cs, 2, CORO_NEVER), 1);
    return NULL;
}

static void test_regular_file(void)
{
    FILE *f = tmpfile();
    if (!CHECK(f))
        return;
    int fd = fileno(f);
    setup(0, 0);
    coro_spawn(select_file, &fd, NULL);
    CHECK_INT(coro_run(), 0);
    teardown();
    fclose(f);
}

static void *select_a_b(void *arg)
{
    (void)arg;
    coro_select_case cs[] = {read_case(a[0]), read_case(b[0])};
    CHECK_INT(coro_select(cs, 2, coro_deadline_in(5000)), 0);
    step("a ");
    CHECK_INT(drain(a[0]), 'a');
    /* b fired in the same batch: still ready, not lost. */
    CHECK_INT(coro_select(cs, 2, 0), 1);
    step("b ");
    CHECK_INT(drain(b[0]), 'b');
    return NULL;
}

static void *write_b_then_a(void *arg)
{
    (void)arg;
    coro_yield(); /* the select parks */
    CHECK_INT(write(b[1], "b", 1), 1);
    CHECK_INT(write(a[1], "a", 1), 1);
    step("written ");
    coro_sleep_until(0); /* nothing ready: one epoll_wait sees both */
    return NULL;
}

static void test_two_fds_one_batch(void)
{
    setup(0, 0);
    if (pairs()) {
        coro_spawn(select_a_b, NULL, NULL);
        coro_spawn(write_b_then_a, NULL, NULL);
    }
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "written a b ");
    unpairs();
    teardown();
}

/* ---- a cancel racing a readiness or a hand-off ----
 *
 * The select waits on [RECV c1, READ a[0]].  To have something happen to
 * it after the reactor has woken it and before it runs, a third coroutine
 * waits on z[0]: a writer makes z[0] readable first and a[0] second, then
 * parks, so that one epoll_wait wakes the z-waiter first (epoll hands out
 * fds in the order they became ready) and it acts while the select is
 * still only ready.
 */

static coro_t *selector;

struct sel_result {
    int index, err; /* coro_select's result (err: its errno) */
    int next;       /* its next wait (a yield): 0 or errno */
};

static void *selector_main(void *arg)
{
    struct sel_result *r = arg;
    int v = 0;
    coro_select_case cs[] = {recv_case(c1, &v), read_case(a[0])};
    errno = 0;
    r->index = coro_select(cs, 2, coro_deadline_in(5000));
    r->err = r->index < 0 ? errno : 0;
    step("sel%d(%d) ", r->index, r->index == 0 ? v : 0);
    errno = 0;
    r->next = coro_yield() == 0 ? 0 : errno;
    return NULL;
}

static const char *z_action;

static void *z_waiter(void *arg)
{
    (void)arg;
    CHECK_INT(coro_wait(z[0], CORO_READ, coro_deadline_in(5000)), CORO_WOKE_READY);
    for (const char *act = z_action; *act; act++) {
        if (*act == 'c')
            coro_cancel(selector), step("z:cancel ");
        else if (*act == 's')
            step("z:send:%s ", try_send(c1, 5));
    }
    return NULL;
}

static void *write_z_then_a(void *arg)
{
    (void)arg;
    coro_yield(); /* both park */
    CHECK_INT(write(z[1], "z", 1), 1);
    CHECK_INT(write(a[1], "a", 1), 1);
    coro_sleep_until(0);
    return NULL;
}

static void *cancel_then_write_a(void *arg)
{
    (void)arg;
    coro_yield();
    coro_cancel(selector);
    step("cancel ");
    CHECK_INT(write(a[1], "a", 1), 1);
    coro_sleep_until(0);
    return NULL;
}

typedef struct fd_race {
    const char *name;
    const char *z_action;  /* "": the cancel comes first, from the writer */
    const char *want;
    int index, err, next;
} fd_race;

static const fd_race fd_races[] = {
    /* cancelled before the fd was ready: ECANCELED, the fd stays ready */
    {"cancel, then readiness", NULL, "cancel sel-1(0) ", -1, ECANCELED, 0},
    /* the fd woke it first: the fd is reported, the cancel waits */
    {"readiness, then cancel", "c", "z:cancel sel1(0) ", 1, 0, ECANCELED},
    /* the fd woke it, then a value came: the value is taken (a case that
     * happened is reported); the fd is still ready for the next call */
    {"readiness, then a hand-off", "s", "z:send:ok sel0(5) ", 0, 0, 0},
    {"readiness, hand-off, cancel", "sc", "z:send:ok z:cancel sel0(5) ", 0, 0, ECANCELED},
    /* the fd had woken it: the cancel waits, and the select still takes
     * the value (as a semaphore waiter woken by coro_wakeup would) */
    {"readiness, cancel, hand-off", "cs", "z:cancel z:send:ok sel0(5) ", 0, 0, ECANCELED},
};

static void test_cancel_races_readiness(void)
{
    for (size_t i = 0; i < sizeof fd_races / sizeof fd_races[0]; i++) {
        const fd_race *fr = &fd_races[i];
        struct sel_result r = {0, 0, 0};
        setup(0, 0);
        if (!pairs())
            return;
        z_action = fr->z_action;
        selector = coro_spawn(selector_main, &r, NULL);
        if (fr->z_action) {
            coro_spawn(z_waiter, NULL, NULL);
            coro_spawn(write_z_then_a, NULL, NULL);
        } else {
            coro_spawn(cancel_then_write_a, NULL, NULL);
        }
        CHECK_INT(coro_run(), 0);
        int before = check_failures;
        CHECK_STR(trail, fr->want);
        CHECK_INT(r.index, fr->index);
        CHECK_INT(r.err, fr->err);
        CHECK_INT(r.next, fr->next);
        /* Whatever happened, a[0]'s byte was not consumed. */
        CHECK_INT(drain(a[0]), 'a');
        if (check_failures != before)
            fprintf(stderr, "  in \"%s\"\n", fr->name);
        unpairs();
        teardown();
    }
}

/* A cancel racing a hand-off, without fds: [RECV c1, RECV c2] parked,
 * then in one round a try-send on c1 and a cancel, in both orders. */
static void *select_c1_c2(void *arg)
{
    struct sel_result *r = arg;
    int v = 0;
    coro_select_case cs[] = {recv_case(c1, &v), recv_case(c2, &v)};
    errno = 0;
    r->index = coro_select(cs, 2, CORO_NEVER);
    r->err = r->index < 0 ? errno : 0;
    step("sel%d(%d) ", r->index, v);
    errno = 0;
    r->next = coro_yield() == 0 ? 0 : errno;
    return NULL;
}

static bool send_first;

static void *send_and_cancel(void *arg)
{
    (void)arg;
    coro_yield();
    if (send_first)
        step("send:%s ", try_send(c1, 3));
    coro_cancel(selector);
    step("cancel ");
    if (!send_first)
        step("send:%s ", try_send(c1, 3));
    step("c2:%s ", try_send(c2, 4)); /* never: the select is done either way */
    return NULL;
}

static void test_cancel_races_hand_off(void)
{
    for (int order = 0; order < 2; order++) {
        struct sel_result r = {0, 0, 0};
        setup(0, 0);
        send_first = order == 0;
        selector = coro_spawn(select_c1_c2, &r, NULL);
        coro_spawn(send_and_cancel, NULL, NULL);
        CHECK_INT(coro_run(), 0);
        if (send_first) {
            CHECK_STR(trail, "send:ok cancel c2:T sel0(3) ");
            CHECK_INT(r.index, 0);
            CHECK_INT(r.next, ECANCELED);
        } else {
            CHECK_STR(trail, "cancel send:T c2:T sel-1(0) ");
            CHECK_INT(r.err, ECANCELED);
            CHECK_INT(r.next, 0);
        }
        teardown();
    }
}

/* ---- an fd closed under a select, its number taken at once ---- */

static int reused = -1;

static void *select_on_a(void *arg)
{
    (void)arg;
    coro_select_case cs[] = {read_case(a[0])};
    /* Woken by the close; by the time it runs the number is another
     * socket's, which is readable. */
    CHECK_INT(coro_select(cs, 1, coro_deadline_in(5000)), 0);
    step("select ");
    return NULL;
}

static void *close_and_reuse(void *arg)
{
    (void)arg;
    int fresh[2];
    coro_yield(); /* the select parks */
    int old = a[0];
    coro_close(old);
    if (!CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fresh), 0))
        return NULL;
    CHECK_INT(fresh[0], old); /* the lowest free number */
    a[0] = fresh[0];
    reused = fresh[1];
    CHECK_INT(write(reused, "n", 1), 1);
    /* Waiting on the reused number must work: the close dropped the
     * select's watch, and the select must not drop ours when it runs. */
    CHECK_INT(coro_wait(a[0], CORO_READ, coro_deadline_in(5000)), CORO_WOKE_READY);
    step("wait ");
    CHECK_INT(drain(a[0]), 'n');
    return NULL;
}

static void test_fd_closed_and_reused(void)
{
    setup(0, 0);
    if (pairs()) {
        coro_spawn(select_on_a, NULL, NULL);
        coro_spawn(close_and_reuse, NULL, NULL);
    }
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "select wait ");
    close(reused);
    unpairs();
    teardown();
}

static const check_case tests[] = {
    {"select: what can happen at once, first in order", test_immediate},
    {"select: at most one channel case happens", test_one_case_happens},
    {"select: a send case, unbuffered and full", test_send_case},
    {"select: a close wakes it with EPIPE", test_close_wakes_select},
    {"select: twelve cases (more than kept on the stack)", test_many_cases},
    {"select: deadlines, and nothing left behind", test_deadline},
    {"select: a regular file is always ready", test_regular_file},
    {"select: two fds ready in one epoll batch", test_two_fds_one_batch},
    {"select: a cancel racing an fd's readiness", test_cancel_races_readiness},
    {"select: a cancel racing a channel hand-off", test_cancel_races_hand_off},
    {"select: an fd closed under it, its number reused", test_fd_closed_and_reused},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
