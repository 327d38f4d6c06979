/* test_reserve.c - coro_reserve: stacks made ready ahead of a burst.
 *
 * What it promises, checked from outside through resident memory
 * (/proc/self/statm): the pages are faulted in by coro_reserve, not by the
 * spawns after it; freed stacks count towards a reservation; bad arguments
 * fail with the documented errno and leave the runtime usable.  That the
 * reserved stacks have their guard pages is checked in test_overflow.c.
 * Under valgrind and qemu-user the resident size is the tool's (it grows
 * with what it tracks per stack and per mapping), and under ASan and
 * TSan it includes the shadow memory written for each stack, so there only
 * the behaviour is checked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include "sanitize.h"

#define BURST 20000 /* over 8192, so ba_stack_reserve uses its helper threads */

/* How many of n reserved stacks are taken by coroutines under way at once:
 * all of them, but an eighth under ThreadSanitizer, which counts each such
 * coroutine as a thread and stops at ~8k.  (The reservations stay whole:
 * their helper threads are what TSan is there to watch.) */
static long live(long n)
{
    return san_on_tsan() ? n / 8 : n;
}

/* Resident pages of this process; -1 under valgrind, ASan, TSan or qemu-user
 * (see above). */
static long resident_pages(void)
{
#ifdef BA_ASAN
    return -1;
#endif
    if (san_on_valgrind() || san_on_tsan() || check_under_qemu())
        return -1;
    long size = 0, resident = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    if (f)
        fclose(f);
    return resident;
}

static long finished;

static void *sleep_a_moment(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(10));
    finished++;
    return NULL;
}

static void *returns_at_once(void *arg)
{
    return arg;
}

/* coro_reserve faults the pages in; the spawns that follow do not. */
static void test_reserve_then_spawn(void)
{
    finished = 0;
    long before = resident_pages();
    CHECK_INT(coro_reserve(BURST, 0), 0);
    long reserved = resident_pages();
    coro_opts detached = {.detached = true};
    for (long i = 0; i < live(BURST); i++)
        if (!CHECK(coro_spawn(sleep_a_moment, NULL, &detached)))
            break;
    long spawned = resident_pages();
    CHECK_INT(coro_run(), 0);
    CHECK_INT(finished, live(BURST));
    if (before < 0)
        return;
    /* One page per stack at least (the top one), in the reservation. */
    if (!CHECK(reserved - before >= BURST))
        fprintf(stderr, "  coro_reserve(%d) grew RSS by %ld pages\n", BURST, reserved - before);
    /* Spawning touches only pages that are there already: allow a tenth. */
    if (!CHECK(spawned - reserved < BURST / 10))
        fprintf(stderr, "  %d spawns after coro_reserve grew RSS by %ld pages\n", BURST,
                spawned - reserved);
}

static void *sleep_until_cancelled(void *arg)
{
    (void)arg;
    coro_sleep_until(CORO_NEVER);
    return NULL;
}

/* Reserve, use half, reserve again: the second reservation does not fit in
 * what is left of the first one's mapping.  What is left must still be
 * used (through the free list), not stranded with its pages committed. */
static void *reserve_twice(void *arg)
{
    (void)arg;
    static coro_t *parked[BURST + BURST / 2];
    long before = resident_pages();
    CHECK_INT(coro_reserve(BURST, 0), 0);
    long first = resident_pages() - before; /* BURST stacks' worth of pages */
    long taken = live(BURST + BURST / 2);
    for (long i = 0; i < live(BURST / 2); i++)
        parked[i] = coro_spawn(sleep_until_cancelled, NULL, NULL);
    CHECK_INT(coro_reserve(BURST, 0), 0);
    for (long i = live(BURST / 2); i < taken; i++)
        parked[i] = coro_spawn(sleep_until_cancelled, NULL, NULL);
    coro_yield(); /* all of them park */
    long after = resident_pages();
    /* 1.5 * BURST live coroutines: 1.5 times what the first reservation
     * took (a page each, two with ucontext on aarch64); a stranded rest
     * would make it 2 times. */
    if (before >= 0 && !CHECK(after - before < first * 3 / 2 + first / 10))
        fprintf(stderr, "  %d coroutines after two reservations: RSS grew by %ld pages, "
                "the first reservation by %ld\n", BURST + BURST / 2, after - before, first);
    for (long i = 0; i < taken; i++) {
        coro_cancel(parked[i]);
        CHECK_INT(coro_join(parked[i], NULL), 0);
    }
    return NULL;
}

static void test_second_reservation_strands_nothing(void)
{
    coro_spawn(reserve_twice, NULL, NULL);
    CHECK_INT(coro_run(), 0);
}

static void *join_many(void *arg)
{
    long n = (long)(intptr_t)arg;
    for (long i = 0; i < n; i++) {
        coro_t *c = coro_spawn(returns_at_once, NULL, NULL);
        if (!CHECK(c) || !CHECK_INT(coro_join(c, NULL), 0))
            break;
    }
    return NULL;
}

/* Stacks on the free list are ready already: no new page for them. */
static void *reserve_after_frees(void *arg)
{
    (void)arg;
    coro_t *kids[64];
    for (int i = 0; i < 64; i++)
        kids[i] = coro_spawn(returns_at_once, NULL, NULL);
    for (int i = 0; i < 64; i++)
        CHECK_INT(coro_join(kids[i], NULL), 0); /* 64 stacks now free */
    long before = resident_pages();
    CHECK_INT(coro_reserve(64, 0), 0);
    for (int i = 0; i < 64; i++) /* all at once: each needs its own stack */
        kids[i] = coro_spawn(returns_at_once, NULL, NULL);
    long after = resident_pages();
    if (before >= 0 && !CHECK(after - before < 32))
        fprintf(stderr, "  reserving and spawning 64 with 64 free stacks grew RSS by %ld pages\n",
                after - before);
    for (int i = 0; i < 64; i++)
        CHECK_INT(coro_join(kids[i], NULL), 0);
    return NULL;
}

static void test_free_stacks_count(void)
{
    coro_spawn(reserve_after_frees, NULL, NULL);
    CHECK_INT(coro_run(), 0);
}

static void test_reserve_errors(void)
{
    CHECK_INT(coro_reserve(0, 0), 0);
    errno = 0;
    CHECK_INT(coro_reserve(1, SIZE_MAX), -1);
    CHECK_INT(errno, EINVAL);
    errno = 0;
    CHECK_INT(coro_reserve(SIZE_MAX, 0), -1);
    CHECK_INT(errno, ENOMEM);
    errno = 0;
    CHECK_INT(coro_reserve(SIZE_MAX / 2 / 4096, 0), -1); /* more bytes than size_t */
    CHECK_INT(errno, ENOMEM);
    errno = 0;
    CHECK_INT(coro_reserve((size_t)1 << 40, 0), -1); /* more stacks than the machine has pages */
    CHECK_INT(errno, ENOMEM);
    /* The runtime works after all that, and with a small custom size. */
    CHECK_INT(coro_reserve(100, 16 * 1024), 0);
    coro_spawn(join_many, (void *)(intptr_t)100, NULL);
    CHECK_INT(coro_run(), 0);
}

static const check_case tests[] = {
    {"reserve then spawn", test_reserve_then_spawn},
    {"free stacks count towards a reservation", test_free_stacks_count},
    {"a second reservation strands nothing", test_second_reservation_strands_nothing},
    {"reserve errors", test_reserve_errors},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 0);
}
