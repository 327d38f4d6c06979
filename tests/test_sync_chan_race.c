/* test_sync_chan_race.c - coro_chan (sync.h): a cancel, a wakeup or a
 * deadline racing the hand-off of a value, on both sides, in every order
 * the scheduler can be made to produce; and many producers and consumers.
 * Nothing may be lost or received twice.
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
    {"chan: a cancel, wakeup or deadline racing a hand-off, every order", test_cancel_races_hand_off},
    {"chan: 20 producers, 5 consumers: every value once", test_many},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
