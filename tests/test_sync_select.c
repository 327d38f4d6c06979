/* test_sync_select.c - coro_select (sync.h) over channels: the first case
 * that can happen, at most one channel case happens, send cases, a close,
 * more cases than kept on the stack, a cancel racing a hand-off.  The fd
 * cases are in test_sync_select_fd.c.
 */
#include "select_check.h"

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

static const check_case tests[] = {
    {"select: what can happen at once, first in order", test_immediate},
    {"select: at most one channel case happens", test_one_case_happens},
    {"select: a send case, unbuffered and full", test_send_case},
    {"select: a close wakes it with EPIPE", test_close_wakes_select},
    {"select: twelve cases (more than kept on the stack)", test_many_cases},
    {"select: a cancel racing a channel hand-off", test_cancel_races_hand_off},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
