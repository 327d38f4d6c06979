/* test_sync_chan.c - coro_chan (sync.h): rendezvous and bounded channels,
 * values copied in order, close with waiters on both sides, timeouts and
 * cancels, and a cancel or a deadline racing a hand-off of a value, on
 * both sides, in every order the scheduler can be made to produce.
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

/* ---- a cancel, a wakeup or a deadline racing a hand-off ----
 *
 * Two racers, w1 then w2, wait on the channel: both to receive, or both to
 * send (w1 sends 10, w2 20).  A driver then plays a script before w1 runs
 * again unless it yields (the letters of test_sync_sem.c):
 *   s  a try-send (deadline past) of 100, 101, ...: "s:ok" or "s:T"
 *   r  a try-receive: "r:VALUE" or "r:T"
 *   c  coro_cancel(w1)      w  coro_wakeup(w1)      y  coro_yield
 *   t  w1's deadline passes and its timer fires, before w1 runs
 * Then everyone runs to the end, whoever still waits is cancelled, and the
 * trail ends with each racer's outcome ("w1=ok:100", "w2=C"; "+C" if its
 * next wait, a yield, was cancelled).  And every value is accounted for:
 * the values sent are the values received plus those left buffered.
 */

#define T_NS (20 * MS)

struct racer {
    bool sends;
    int value;
    int64_t deadline;
    int got, next;  /* results: 0 or an errno */
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    errno = 0;
    int rc = r->sends ? coro_chan_send(ch, &r->value, r->deadline)
                      : coro_chan_recv(ch, &r->value, r->deadline);
    r->got = rc == 0 ? 0 : errno;
    if (rc == 0) {
        errno = 0;
        r->next = coro_yield() == 0 ? 0 : errno;
    }
    return NULL;
}

typedef struct race_case {
    size_t capacity;
    bool prefill;       /* a 5 is buffered before the racers come */
    bool racers_send;
    const char *script;
    const char *want;
} race_case;

static const race_case races[] = {
    /* receivers on an unbuffered channel */
    {0, false, false, "s", "s:ok | w1=ok:100 w2=C"},
    {0, false, false, "ss", "s:ok s:ok | w1=ok:100 w2=ok:101"},
    {0, false, false, "sc", "s:ok | w1=ok:100+C w2=C"},
    {0, false, false, "cs", "s:ok | w1=C w2=ok:100"},
    {0, false, false, "css", "s:ok s:T | w1=C w2=ok:100"},
    {0, false, false, "cys", "s:ok | w1=C w2=ok:100"},
    {0, false, false, "ws", "s:ok | w1=ok:100 w2=C"},
    {0, false, false, "wcs", "s:ok | w1=ok:100+C w2=C"},
    {0, false, false, "ts", "s:ok | w1=T w2=ok:100"},
    {0, false, false, "st", "s:ok | w1=ok:100 w2=C"},
    {0, false, false, "tcs", "s:ok | w1=T w2=ok:100"},
    /* receivers on an empty buffered channel: a send goes straight to w1 */
    {2, false, false, "cs", "s:ok | w1=C w2=ok:100"},
    {2, false, false, "sss", "s:ok s:ok s:ok | w1=ok:100 w2=ok:101"},
    /* senders on an unbuffered channel */
    {0, false, true, "r", "r:10 | w1=ok w2=C"},
    {0, false, true, "rr", "r:10 r:20 | w1=ok w2=ok"},
    {0, false, true, "rc", "r:10 | w1=ok+C w2=C"},
    {0, false, true, "cr", "r:20 | w1=C w2=ok"},
    {0, false, true, "crr", "r:20 r:T | w1=C w2=ok"},
    {0, false, true, "wr", "r:10 | w1=ok w2=C"},
    {0, false, true, "tr", "r:20 | w1=T w2=ok"},
    {0, false, true, "rt", "r:10 | w1=ok w2=C"},
    /* senders on a full channel of 1: a receive refills from a sender */
    {1, true, true, "r", "r:5 | w1=ok w2=C"},
    {1, true, true, "rr", "r:5 r:10 | w1=ok w2=ok"},
    {1, true, true, "rc", "r:5 | w1=ok+C w2=C"},
    {1, true, true, "cr", "r:5 | w1=C w2=ok"},
    {1, true, true, "crr", "r:5 r:20 | w1=C w2=ok"},
    {1, true, true, "tr", "r:5 | w1=T w2=ok"},
    {1, true, true, "cyrr", "r:5 r:20 | w1=C w2=ok"},
};

static const race_case *race;
static struct racer r1, r2;
static long sent_sum, received_sum; /* what the driver sent and received */

static const char *err_name(int e)
{
    return e == 0 ? "ok" : e == ETIMEDOUT ? "T" : e == ECANCELED ? "C" : "?";
}

static void play(const char *script, coro_t *w1)
{
    int next_value = 100;
    for (const char *a = script; *a; a++) {
        int v = next_value;
        if (*a == 's') {
            int rc = coro_chan_send(ch, &v, 0);
            step("s:%s ", rc == 0 ? "ok" : err_name(errno));
            sent_sum += rc == 0 ? v : 0;
            next_value++;
        } else if (*a == 'r') {
            if (coro_chan_recv(ch, &v, 0) == 0)
                step("r:%d ", v), received_sum += v;
            else
                step("r:%s ", err_name(errno));
        } else if (*a == 'c') {
            coro_cancel(w1);
        } else if (*a == 'w') {
            coro_wakeup(w1);
        } else if (*a == 'y') {
            coro_yield();
        } else if (*a == 't') {
            while (coro_now() <= r1.deadline)
                ; /* no switch: w1's timer cannot fire yet */
            coro_sleep_until(0);
        }
    }
}

static void report(const char *name, const struct racer *r)
{
    step(" %s=%s", name, err_name(r->got));
    if (r->got == 0 && !r->sends)
        step(":%d", r->value);
    if (r->next)
        step("+%s", err_name(r->next));
}

static void *driver(void *arg)
{
    (void)arg;
    bool timed = strchr(race->script, 't') != NULL;
    int five = 5;
    if (race->prefill)
        CHECK_INT(coro_chan_send(ch, &five, 0), 0), sent_sum += 5;
    r1 = (struct racer){race->racers_send, 10, timed ? coro_now() + T_NS : CORO_NEVER, -1, 0};
    r2 = (struct racer){race->racers_send, 20, CORO_NEVER, -1, 0};
    coro_t *w1 = coro_spawn(racer_main, &r1, NULL);
    coro_t *w2 = coro_spawn(racer_main, &r2, NULL);
    coro_yield(); /* both park */
    play(race->script, w1);
    for (int i = 0; i < 8; i++)
        coro_yield();
    coro_cancel(w1); /* harmless for one that has returned */
    coro_cancel(w2);
    CHECK_INT(coro_join(w1, NULL), 0);
    CHECK_INT(coro_join(w2, NULL), 0);
    step("|");
    report("w1", &r1);
    report("w2", &r2);
    int v;
    while (coro_chan_recv(ch, &v, 0) == 0) /* what is left buffered */
        received_sum += v;
    return NULL;
}

static void test_cancel_races_hand_off(void)
{
    for (size_t i = 0; i < sizeof races / sizeof races[0]; i++) {
        race = &races[i];
        trail_reset();
        sent_sum = received_sum = 0;
        ch = coro_chan_new(sizeof(int), race->capacity);
        coro_spawn(driver, NULL, NULL);
        CHECK_INT(coro_run(), 0);
        const struct racer *rs[] = {&r1, &r2};
        for (int k = 0; k < 2; k++)
            if (rs[k]->got == 0) {
                if (rs[k]->sends)
                    sent_sum += rs[k]->value;
                else
                    received_sum += rs[k]->value;
            }
        int before = check_failures;
        CHECK_STR(trail, race->want);
        CHECK_INT(received_sum, sent_sum); /* nothing lost, nothing twice */
        if (check_failures != before)
            fprintf(stderr, "  in script \"%s\" (capacity %zu, racers %s)\n", race->script,
                    race->capacity, race->racers_send ? "send" : "receive");
        coro_chan_free(ch);
    }
}

/* ---- many producers and consumers: every value arrives once ---- */

#define PRODUCERS 20
#define PER_PRODUCER 100

static void *produce(void *arg)
{
    int base = (int)(intptr_t)arg * PER_PRODUCER;
    for (int i = 0; i < PER_PRODUCER; i++) {
        int v = base + i;
        CHECK_INT(coro_chan_send(ch, &v, CORO_NEVER), 0);
        if (i % 7 == 0)
            coro_yield();
    }
    return NULL;
}

static void *consume(void *arg)
{
    unsigned char *seen = arg;
    int v, last_of[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++)
        last_of[p] = -1;
    while (coro_chan_recv(ch, &v, CORO_NEVER) == 0) {
        CHECK(v >= 0 && v < PRODUCERS * PER_PRODUCER);
        seen[v]++;
        /* one consumer of several sees each producer's values in order */
        CHECK(v % PER_PRODUCER > last_of[v / PER_PRODUCER]);
        last_of[v / PER_PRODUCER] = v % PER_PRODUCER;
    }
    return NULL;
}

static void *close_after_producers(void *arg)
{
    coro_t **producers = arg;
    for (int p = 0; p < PRODUCERS; p++)
        coro_join(producers[p], NULL);
    coro_chan_close(ch);
    return NULL;
}

static void test_many(void)
{
    static unsigned char seen[PRODUCERS * PER_PRODUCER];
    coro_t *producers[PRODUCERS];
    memset(seen, 0, sizeof seen);
    ch = coro_chan_new(sizeof(int), 4);
    for (int c = 0; c < 5; c++)
        coro_spawn(consume, seen, NULL);
    for (int p = 0; p < PRODUCERS; p++)
        producers[p] = coro_spawn(produce, (void *)(intptr_t)p, NULL);
    coro_spawn(close_after_producers, producers, NULL);
    CHECK_INT(coro_run(), 0);
    int once = 0;
    for (size_t i = 0; i < sizeof seen; i++)
        once += seen[i] == 1;
    CHECK_INT(once, PRODUCERS * PER_PRODUCER);
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
    {"chan: a cancel, wakeup or deadline racing a hand-off, every order", test_cancel_races_hand_off},
    {"chan: 20 producers, 5 consumers: every value once", test_many},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
