/* test_sync_misuse.c - every misuse of sync.h (and coro_join_until) stops
 * the program with one line, in every build type: one child per case
 * (misuse_child.h).
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>
#include <bareawait/sync.h>
#include "misuse_child.h"

#define FD 50 /* the child's socket, at a number the lines can name */

static coro_sem *sem;
static coro_chan *chan;
static coro_group *group;

static void *park_forever(void *arg)
{
    (void)arg;
    coro_park(CORO_NEVER);
    return NULL;
}

/* ---- semaphores ---- */

static void sem_acquire_from_main(void)
{
    coro_sem_acquire(coro_sem_new(1), CORO_NEVER);
}

static void sem_release_null(void)
{
    coro_sem_release(NULL);
}

static void *release_sem(void *arg)
{
    (void)arg;
    coro_sem_release(sem);
    return NULL;
}

static void sem_of_another_thread(void)
{
    pthread_t t;
    sem = coro_sem_new(0);
    if (pthread_create(&t, NULL, release_sem, NULL) == 0)
        pthread_join(t, NULL);
}

static void *acquire_sem(void *arg)
{
    (void)arg;
    coro_sem_acquire(sem, CORO_NEVER);
    return NULL;
}

static void *free_sem(void *arg)
{
    (void)arg;
    coro_sem_free(sem);
    return NULL;
}

static void sem_free_with_waiter(void)
{
    sem = coro_sem_new(0);
    coro_spawn(acquire_sem, NULL, NULL);
    coro_spawn(free_sem, NULL, NULL);
    coro_run();
}

static void sem_overflow(void)
{
    coro_sem_release(coro_sem_new(LONG_MAX));
}

/* ---- channels ---- */

static void chan_send_from_main(void)
{
    int v = 1;
    coro_chan_send(coro_chan_new(sizeof v, 1), &v, CORO_NEVER);
}

static void *recv_null(void *arg)
{
    (void)arg;
    coro_chan_recv(chan, NULL, CORO_NEVER);
    return NULL;
}

static void chan_recv_null_value(void)
{
    chan = coro_chan_new(sizeof(int), 0);
    coro_spawn(recv_null, NULL, NULL);
    coro_run();
}

static void chan_close_twice(void)
{
    chan = coro_chan_new(0, 0);
    coro_chan_close(chan);
    coro_chan_close(chan);
}

static void *recv_int(void *arg)
{
    int v;
    (void)arg;
    coro_chan_recv(chan, &v, CORO_NEVER);
    return NULL;
}

static void *free_chan(void *arg)
{
    (void)arg;
    coro_chan_free(chan);
    return NULL;
}

static void chan_free_with_receiver(void)
{
    chan = coro_chan_new(sizeof(int), 0);
    coro_spawn(recv_int, NULL, NULL);
    coro_spawn(free_chan, NULL, NULL);
    coro_run();
}

static void *chan_len(void *arg)
{
    (void)arg;
    coro_chan_len(chan);
    return NULL;
}

static void chan_of_another_thread(void)
{
    pthread_t t;
    chan = coro_chan_new(1, 1);
    if (pthread_create(&t, NULL, chan_len, NULL) == 0)
        pthread_join(t, NULL);
}

/* ---- select ---- */

static coro_select_case cases[2];
static size_t ncases;

static void *run_select(void *arg)
{
    (void)arg;
    coro_select(ncases ? cases : NULL, ncases ? ncases : 1, CORO_NEVER);
    return NULL;
}

static void select_with(coro_select_case a, coro_select_case b, size_t n)
{
    cases[0] = a;
    cases[1] = b;
    ncases = n;
    coro_spawn(run_select, NULL, NULL);
    coro_run();
}

static void select_from_main(void)
{
    coro_select(NULL, 0, CORO_NEVER);
}

static void select_null_cases(void)
{
    select_with((coro_select_case){0}, (coro_select_case){0}, 0);
}

static void select_unknown_op(void)
{
    select_with((coro_select_case){.op = 9}, (coro_select_case){0}, 1);
}

static void select_negative_fd(void)
{
    select_with((coro_select_case){.op = CORO_SELECT_READ, .fd = -1}, (coro_select_case){0}, 1);
}

static void select_null_channel(void)
{
    select_with((coro_select_case){.op = CORO_SELECT_RECV}, (coro_select_case){0}, 1);
}

static void select_same_fd_twice(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || dup2(sv[0], FD) < 0 || io_nonblock(FD) < 0)
        return;
    coro_select_case rd = {.op = CORO_SELECT_READ, .fd = FD};
    select_with(rd, rd, 2);
}

/* ---- groups, and join_until ---- */

static int park_task(void *arg)
{
    (void)arg;
    coro_park(CORO_NEVER);
    return 0;
}

static void group_free_with_task(void)
{
    group = coro_group_new();
    coro_group_spawn(group, park_task, NULL, NULL);
    coro_group_free(group);
}

static void *wait_group(void *arg)
{
    (void)arg;
    coro_group_wait(group, CORO_NEVER);
    return NULL;
}

static void group_second_waiter(void)
{
    group = coro_group_new();
    coro_group_spawn(group, park_task, NULL, NULL); /* coroutine 1 */
    coro_spawn(wait_group, NULL, NULL);             /* coroutine 2 */
    coro_spawn(wait_group, NULL, NULL);
    coro_run();
}

static int wait_own_group(void *arg)
{
    (void)arg;
    coro_group_wait(group, CORO_NEVER);
    return 0;
}

static void group_task_waits_for_itself(void)
{
    group = coro_group_new();
    coro_group_spawn(group, wait_own_group, NULL, NULL);
    coro_run();
}

static void group_spawn_null_fn(void)
{
    coro_group_spawn(coro_group_new(), NULL, NULL, NULL);
}

static void group_wait_from_main(void)
{
    coro_group_wait(coro_group_new(), CORO_NEVER);
}

static void join_until_from_main(void)
{
    coro_join_until(coro_spawn(park_forever, NULL, NULL), NULL, CORO_NEVER);
}

#define OTHER_THREAD(what) \
    "the " what " belongs to another thread (a " what " is used only on the thread that made it)"

static const misuse_case cases_table[] = {
    {"coro_sem_acquire from main", sem_acquire_from_main, "coro_sem_acquire", OUTSIDE},
    {"coro_sem_release(NULL)", sem_release_null, "coro_sem_release", "a NULL semaphore"},
    {"a semaphore used on another thread", sem_of_another_thread, "coro_sem_release",
     OTHER_THREAD("semaphore")},
    {"coro_sem_free with a waiter", sem_free_with_waiter, "coro_sem_free",
     "1 coroutine(s) still wait on the semaphore (coroutine 1 first)"},
    {"coro_sem_release past LONG_MAX", sem_overflow, "coro_sem_release",
     "the semaphore already holds LONG_MAX units (released more often than acquired?)"},
    {"coro_chan_send from main", chan_send_from_main, "coro_chan_send", OUTSIDE},
    {"coro_chan_recv into NULL", chan_recv_null_value, "coro_chan_recv",
     "a NULL value for a channel of 4-byte values"},
    {"coro_chan_close twice", chan_close_twice, "coro_chan_close",
     "the channel is already closed"},
    {"coro_chan_free with a receiver", chan_free_with_receiver, "coro_chan_free",
     "coroutine 1 still waits to receive on the channel (1 waiter(s) in all)"},
    {"a channel used on another thread", chan_of_another_thread, "coro_chan_len",
     OTHER_THREAD("channel")},
    {"coro_select from main", select_from_main, "coro_select", OUTSIDE},
    {"coro_select with cases NULL", select_null_cases, "coro_select", "cases is NULL with n = 1"},
    {"coro_select with an unknown op", select_unknown_op, "coro_select",
     "case 0: op 9 is not a CORO_SELECT_ op"},
    {"coro_select on fd -1", select_negative_fd, "coro_select", "case 0: fd -1"},
    {"coro_select on a NULL channel", select_null_channel, "coro_select", "a NULL channel"},
    {"coro_select reading one fd twice", select_same_fd_twice, "coro_select",
     "case 1: coroutine 1 \"coro\" waits to read fd 50, which another coroutine or case "
     "already waits on (one waiter per fd and direction)"},
    {"coro_group_free with a task", group_free_with_task, "coro_group_free",
     "1 task(s) of the group have not returned (coroutine 1 first): coro_group_wait first"},
    {"a second group waiter", group_second_waiter, "coro_group_wait",
     "coroutine 2 already waits for the group (one waiter at a time)"},
    {"a task waiting for its own group", group_task_waits_for_itself, "coro_group_wait",
     "coroutine 1 is a task of the group: it would wait for itself"},
    {"coro_group_spawn with a NULL fn", group_spawn_null_fn, "coro_group_spawn", "fn is NULL"},
    {"coro_group_wait from main", group_wait_from_main, "coro_group_wait", OUTSIDE},
    {"coro_join_until from main", join_until_from_main, "coro_join_until", OUTSIDE},
};

int main(void)
{
    return misuse_run(cases_table, sizeof cases_table / sizeof cases_table[0]);
}
