/* test_sync_chan.c - coro_chan (sync.h): rendezvous and bounded channels,
 * values copied in order, close with waiters on both sides, timeouts and
 * cancels.  Races against a hand-off are in test_sync_chan_race.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/sync.h>
#include "trail.h"

#define MS 1000000 /* nanoseconds */

static coro_chan *ch;

/* ---- rendezvous and buffers ---- */

static void *send_three(void *arg)
{
    (void)arg;
    for (int v = 1; v <= 3; v++) {
        CHECK_INT(coro_chan_send(ch, &v, CORO_NEVER), 0);
        step("sent%d ", v);
    }
    return NULL;
}

static void *receive_three(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        int v = 0;
        CHECK_INT(coro_chan_recv(ch, &v, CORO_NEVER), 0);
        step("got%d ", v);
    }
    return NULL;
}

/* A send completes when a receiver takes the value: later, when one comes
 * (the sender runs first and parks: got1 before sent1), or at once when
 * one waits (the receiver parked for 2: sent2 before it runs to log it). */
static void test_rendezvous(void)
{
    trail_reset();
    ch = coro_chan_new(sizeof(int), 0);
    coro_spawn(send_three, NULL, NULL);
    coro_spawn(receive_three, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "got1 sent1 sent2 got2 got3 sent3 ");
    CHECK_INT(coro_chan_len(ch), 0);
    coro_chan_free(ch);
}

static void *fill_then_one_more(void *arg)
{
    (void)arg;
    for (int v = 1; v <= 4; v++) {
        CHECK_INT(coro_chan_send(ch, &v, CORO_NEVER), 0);
        step("sent%d(%zu) ", v, coro_chan_len(ch));
    }
    return NULL;
}

static void *receive_four(void *arg)
{
    (void)arg;
    for (int want = 1; want <= 4; want++) {
        int v = 0;
        CHECK_INT(coro_chan_recv(ch, &v, CORO_NEVER), 0);
        CHECK_INT(v, want);
        step("got%d ", v);
    }
    return NULL;
}

/* Three sends fit without a switch; the fourth waits for room, and takes
 * the room the first receive frees, behind the three already buffered. */
static void test_bounded(void)
{
    trail_reset();
    ch = coro_chan_new(sizeof(int), 3);
    coro_spawn(fill_then_one_more, NULL, NULL);
    coro_spawn(receive_four, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "sent1(1) sent2(2) sent3(3) got1 got2 got3 got4 sent4(0) ");
    coro_chan_free(ch);
}

struct big {
    char text[40];
    double x;
};

static void *send_big_then_scribble(void *arg)
{
    (void)arg;
    struct big b = {"first", 1.5};
    CHECK_INT(coro_chan_send(ch, &b, CORO_NEVER), 0);
    memset(&b, 'x', sizeof b); /* the channel kept a copy, not a pointer */
    struct big c = {"second", 2.5};
    CHECK_INT(coro_chan_send(ch, &c, CORO_NEVER), 0);
    memset(&c, 'y', sizeof c);
    return NULL;
}

static void *receive_big(void *arg)
{
    (void)arg;
    coro_yield(); /* both sent (one buffered, one waiting) before we look */
    struct big b;
    CHECK_INT(coro_chan_recv(ch, &b, CORO_NEVER), 0);
    CHECK_STR(b.text, "first");
    CHECK(b.x == 1.5);
    CHECK_INT(coro_chan_recv(ch, &b, CORO_NEVER), 0);
    CHECK_STR(b.text, "second");
    CHECK(b.x == 2.5);
    return NULL;
}

static void test_values_are_copied(void)
{
    ch = coro_chan_new(sizeof(struct big), 1);
    coro_spawn(send_big_then_scribble, NULL, NULL);
    coro_spawn(receive_big, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    coro_chan_free(ch);
}

static void *signal_twice(void *arg)
{
    (void)arg;
    CHECK_INT(coro_chan_send(ch, NULL, CORO_NEVER), 0);
    CHECK_INT(coro_chan_send(ch, NULL, CORO_NEVER), 0);
    coro_chan_close(ch);
    return NULL;
}

static void *count_signals(void *arg)
{
    int *n = arg;
    while (coro_chan_recv(ch, NULL, CORO_NEVER) == 0)
        (*n)++;
    CHECK_INT(errno, EPIPE);
    return NULL;
}

static void test_events_channel(void)
{
    int n = 0;
    errno = 0;
    CHECK(coro_chan_new(16, SIZE_MAX / 8) == NULL);
    CHECK_INT(errno, EINVAL);
    coro_chan_free(NULL); /* ignored */
    ch = coro_chan_new(0, 0);
    coro_spawn(signal_twice, NULL, NULL);
    coro_spawn(count_signals, &n, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(n, 2);
    coro_chan_free(ch);
}

/* ---- close ---- */

static void *receive_expect(void *arg)
{
    int want = (int)(intptr_t)arg, v = -1;
    errno = 0;
    int r = coro_chan_recv(ch, &v, CORO_NEVER);
    step("%s ", r == 0 ? "value" : errno == EPIPE ? "EPIPE" : "other");
    if (want)
        CHECK_INT(v, want);
    return NULL;
}

static void *send_expect(void *arg)
{
    int v = (int)(intptr_t)arg;
    errno = 0;
    int r = coro_chan_send(ch, &v, CORO_NEVER);
    step("%s ", r == 0 ? "sent" : errno == EPIPE ? "s-EPIPE" : "other");
    return NULL;
}

/* Spawned after the waiters, so they are all parked when it runs. */
static void *close_now(void *arg)
{
    (void)arg;
    step("close ");
    coro_chan_close(ch);
    int v = 9;
    errno = 0;
    CHECK_INT(coro_chan_send(ch, &v, CORO_NEVER), -1); /* at once */
    CHECK_INT(errno, EPIPE);
    return NULL;
}

/* Receivers waiting on an empty channel, then a close. */
static void test_close_wakes_receivers(void)
{
    trail_reset();
    ch = coro_chan_new(sizeof(int), 2);
    coro_spawn(receive_expect, NULL, NULL);
    coro_spawn(receive_expect, NULL, NULL);
    coro_spawn(close_now, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "close EPIPE EPIPE ");
    coro_chan_free(ch);
}

static void *close_then_drain(void *arg)
{
    close_now(arg);
    receive_expect((void *)1);
    receive_expect(NULL);
    return NULL;
}

/* A full channel of 1 and two senders waiting: the close refuses their
 * values at once, and a receiver still gets the buffered one, then EPIPE. */
static void test_close_wakes_senders(void)
{
    trail_reset();
    ch = coro_chan_new(sizeof(int), 1);
    coro_spawn(send_expect, (void *)1, NULL); /* buffered */
    coro_spawn(send_expect, (void *)2, NULL); /* waits */
    coro_spawn(send_expect, (void *)3, NULL); /* waits */
    coro_spawn(close_then_drain, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "sent close value EPIPE s-EPIPE s-EPIPE ");
    coro_chan_free(ch);
}

/* Unbuffered, a sender waiting and no receiver: the close refuses the
 * value, and a receiver arriving after it gets EPIPE, not that value. */
static void test_close_unbuffered(void)
{
    trail_reset();
    ch = coro_chan_new(sizeof(int), 0);
    coro_spawn(send_expect, (void *)5, NULL);
    coro_spawn(close_now, NULL, NULL);
    coro_spawn(receive_expect, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "close EPIPE s-EPIPE ");
    coro_chan_free(ch);
}

/* ---- timeouts and cancels ---- */

static bool other_ran;

static void *set_other_ran(void *arg)
{
    (void)arg;
    other_ran = true;
    return NULL;
}

static void *waits_that_time_out(void *arg)
{
    (void)arg;
    int v = 7;
    coro_spawn(set_other_ran, NULL, NULL);
    errno = 0;
    CHECK_INT(coro_chan_recv(ch, &v, 0), -1); /* a try: the deadline is past */
    CHECK_INT(errno, ETIMEDOUT);
    CHECK_INT(coro_chan_send(ch, &v, 0), -1); /* no receiver: no rendezvous */
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(!other_ran); /* neither parked */
    int64_t t0 = coro_now();
    CHECK_INT(coro_chan_recv(ch, &v, coro_deadline_in(5)), -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK(coro_now() - t0 >= 5 * MS);
    CHECK_INT(coro_chan_send(ch, &v, coro_deadline_in(5)), -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK_INT(v, 7);
    return NULL;
}

static void test_timeouts(void)
{
    other_ran = false;
    ch = coro_chan_new(sizeof(int), 0);
    coro_spawn(waits_that_time_out, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    coro_chan_free(ch); /* nobody is left queued */
}

static coro_t *victim;

static void *receive_cancelled(void *arg)
{
    (void)arg;
    int v = 0;
    errno = 0;
    CHECK_INT(coro_chan_recv(ch, &v, coro_deadline_in(10000)), -1);
    CHECK_INT(errno, ECANCELED);
    step("cancelled ");
    CHECK_INT(coro_chan_recv(ch, &v, CORO_NEVER), 0); /* delivered once */
    step("got%d ", v);
    return NULL;
}

static void *cancel_victim_then_send(void *arg)
{
    (void)arg;
    coro_yield(); /* it parks */
    coro_cancel(victim);
    int v = 4;
    errno = 0;
    /* The cancelled receiver is passed over: a try finds nobody. */
    CHECK_INT(coro_chan_send(ch, &v, 0), -1);
    CHECK_INT(errno, ETIMEDOUT);
    CHECK_INT(coro_chan_send(ch, &v, CORO_NEVER), 0);
    step("sent ");
    return NULL;
}

static void test_cancel(void)
{
    trail_reset();
    ch = coro_chan_new(sizeof(int), 0);
    victim = coro_spawn(receive_cancelled, NULL, NULL);
    coro_spawn(cancel_victim_then_send, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_STR(trail, "cancelled got4 sent ");
    coro_chan_free(ch);
}

static const check_case tests[] = {
    {"chan: unbuffered is a rendezvous", test_rendezvous},
    {"chan: bounded, in order; a send waits for room", test_bounded},
    {"chan: values are copied in and out", test_values_are_copied},
    {"chan: a channel of 0-byte events; sizes that overflow", test_events_channel},
    {"chan: close wakes waiting receivers with EPIPE", test_close_wakes_receivers},
    {"chan: close refuses waiting senders; the buffer drains first", test_close_wakes_senders},
    {"chan: close of an unbuffered channel with a sender waiting", test_close_unbuffered},
    {"chan: send and receive time out; a past deadline is a try", test_timeouts},
    {"chan: a cancelled receiver takes nothing; the next receive works", test_cancel},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
