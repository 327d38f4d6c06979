/* test_sync_select_fd.c - coro_select (sync.h) with fds: deadlines, a
 * regular file, two fds ready in one epoll batch, a cancel or a hand-off
 * racing an fd's readiness, an fd closed (and its number reused) under a
 * select.
 */
#include <fcntl.h>

#include "select_check.h"

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
    {"select: deadlines, and nothing left behind", test_deadline},
    {"select: a regular file is always ready", test_regular_file},
    {"select: two fds ready in one epoll batch", test_two_fds_one_batch},
    {"select: a cancel racing an fd's readiness", test_cancel_races_readiness},
    {"select: an fd closed under it, its number reused", test_fd_closed_and_reused},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
