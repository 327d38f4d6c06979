/* test_overflow.c - a coroutine that runs off its stack is reported plainly.
 *
 * Each scenario runs in a forked child whose stderr goes into a pipe; the
 * parent reads what the child said and how it died.  The overflow must end
 * in SIGABRT with "stack overflow in coroutine", the coroutine's id, name
 * and stack size; any other crash must not be mistaken for one.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include "sanitize.h"

#define SMALL_STACK (16 * 1024)

/* A recursion the compiler can neither flatten nor turn into a loop: each
 * frame holds a volatile buffer it uses after the call returns.  The limit
 * is volatile so the compiler cannot see that it is (practically) endless. */
static volatile int depth_limit = INT_MAX;

static int recurse(int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    if (depth >= depth_limit)
        return frame[0];
    return recurse(depth + 1) + frame[sizeof frame - 1];
}

static void *recurse_forever(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)recurse(0);
}

/* 30 frames of ~300 bytes: fits in 16 KiB. */
static void *recurse_30(void *arg)
{
    (void)arg;
    depth_limit = 30;
    return (void *)(intptr_t)recurse(0);
}

static void *write_through_null(void *arg)
{
    *(volatile int *)arg = 1;
    return NULL;
}

/* What a child said on stderr and how it ended. */
struct outcome {
    char said[4096];
    int status; /* from waitpid */
};

static void *no_op(void *arg)
{
    return arg;
}

/* Stacks taken before and by a reservation, in a child of run_in_child. */
struct setup {
    long before;   /* coroutines spawned (not yet run) before coro_reserve */
    long reserved; /* coro_reserve(reserved); 0: no reservation */
    int on_thread; /* the runtime runs on a second thread, not on main's */
};

struct child_job {
    coro_fn fn;
    void *arg;
    const char *name;
    struct setup setup;
};

/* The child's runtime: spawns as `setup` says, then runs.  Its exit code. */
static int child_runtime(const struct child_job *j)
{
    coro_opts opts = {.stack_size = SMALL_STACK, .name = j->name};
    coro_opts quick = {.stack_size = SMALL_STACK, .detached = true};
    for (long i = 0; i < j->setup.before; i++)
        coro_spawn(no_op, NULL, &quick);
    if (j->setup.reserved > 0 && coro_reserve((size_t)j->setup.reserved, SMALL_STACK) < 0)
        return 4;
    for (long i = 1; i < j->setup.reserved; i++)
        coro_spawn(no_op, NULL, &quick);
    coro_spawn(j->fn, j->arg, &opts);
    return coro_run() == 0 ? 0 : 3;
}

static void *child_thread(void *arg)
{
    return (void *)(intptr_t)child_runtime(arg);
}

/* The child's main(): the runtime on this thread or on a new one. */
static int child_main(const struct child_job *j)
{
    if (!j->setup.on_thread)
        return child_runtime(j);
    pthread_t t;
    void *rc;
    if (pthread_create(&t, NULL, child_thread, (void *)j) != 0 || pthread_join(t, &rc) != 0)
        return 5;
    return (int)(intptr_t)rc;
}

/* Runs fn in a coroutine with a 16 KiB stack, in a child process.  With
 * setup.reserved > 0 the child first spawns setup.before coroutines that
 * return at once, calls coro_reserve(reserved) and spawns reserved - 1
 * more, so fn gets the last of the reserved stacks (with 20000, one that a
 * ba_stack_reserve helper thread prepared, on a machine with 2+ cores). */
static int run_in_child(coro_fn fn, void *arg, const char *name, struct setup setup,
                        struct outcome *out)
{
    int p[2];
    if (!CHECK_INT(pipe(p), 0))
        return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (!CHECK(pid >= 0))
        return 0;
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        struct child_job j = {fn, arg, name, setup};
        _exit(child_main(&j));
    }
    close(p[1]);
    size_t got = 0;
    ssize_t n;
    while ((n = read(p[0], out->said + got, sizeof out->said - 1 - got)) > 0)
        got += (size_t)n;
    out->said[got] = '\0';
    close(p[0]);
    return CHECK_INT(waitpid(pid, &out->status, 0), pid);
}

static int died_of(int status)
{
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* The number after "(stack of " in the report, or -1. */
static long reported_stack(const char *said)
{
    const char *p = strstr(said, "(stack of ");
    return p ? strtol(p + strlen("(stack of "), NULL, 10) : -1;
}

/* The overflow report of coroutine `id`, whose stack came as `setup` says. */
static void check_overflow_report(long id, struct setup setup)
{
    struct outcome out;
    if (!run_in_child(recurse_forever, NULL, "deep-recursion", setup, &out))
        return;
    char want[64];
    snprintf(want, sizeof want, "stack overflow in coroutine %ld ", id);
    int ok = CHECK_INT(died_of(out.status), SIGABRT);
    ok &= CHECK(strstr(out.said, want) != NULL);
    ok &= CHECK(strstr(out.said, "\"deep-recursion\"") != NULL);
    /* The usable size: what was asked for, plus rounding to whole pages. */
    long size = reported_stack(out.said);
    ok &= CHECK(size >= SMALL_STACK && size <= SMALL_STACK + 8192);
    if (!ok)
        fprintf(stderr, "  the child said:\n%s\n", out.said);
    if (strstr(out.said, "AddressSanitizer: stack-overflow"))
        fprintf(stderr, "  ASan took the SIGSEGV itself: does ASAN_OPTIONS set "
                        "handle_segv=2 or allow_user_segv_handler=0?\n");
}

static void test_overflow_is_reported(void)
{
    check_overflow_report(1, (struct setup){0, 0, 0});
}

/* A runtime on a thread other than main's has its own alternate signal
 * stack and its own view of the running coroutine: the same report. */
static void test_overflow_on_another_thread(void)
{
    check_overflow_report(1, (struct setup){0, 0, 1});
}

/* coro_reserve's stacks have guard pages too, also those its helper
 * threads prepared (20000 is over the 8192 slots it does alone). */
static void test_reserved_stack_has_a_guard(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) < 2)
        printf("     (one usable core: no helper thread prepares stacks here)\n");
    check_overflow_report(20000, (struct setup){0, 20000, 0});
}

/* A reservation that starts in the middle of a mapping already carved
 * from (113 stacks taken: 16 + 32 + 64 in full, 1 of the next 128), and
 * fits in its rest: the reserved stacks are the ones after those taken. */
static void test_reservation_mid_chunk_has_guards(void)
{
    check_overflow_report(213, (struct setup){113, 100, 0});
}

/* The guard page does not fire early: a recursion that fits, fits. */
static void test_deep_but_fitting(void)
{
    struct outcome out;
    if (!run_in_child(recurse_30, NULL, "fits", (struct setup){0, 0, 0}, &out))
        return;
    CHECK(WIFEXITED(out.status));
    CHECK_INT(WIFEXITED(out.status) ? WEXITSTATUS(out.status) : -1, 0);
    /* (ASan may have said something of its own at startup.) */
    CHECK(strstr(out.said, "overflow") == NULL);
}

/* A fault that is not an overflow is not reported as one. */
static void test_other_segv_is_not_an_overflow(void)
{
    struct outcome out;
    if (san_on_valgrind())
        printf("     (valgrind reports the child's write through NULL below: on purpose)\n");
    if (!run_in_child(write_through_null, NULL, "null", (struct setup){0, 0, 0}, &out))
        return;
    /* How it dies is up to the handler before ours: the default one
     * (SIGSEGV), or a sanitizer's, which may abort or exit. */
    CHECK(!WIFEXITED(out.status) || WEXITSTATUS(out.status) != 0);
    if (!CHECK(strstr(out.said, "stack overflow") == NULL))
        fprintf(stderr, "  the child said:\n%s\n", out.said);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"overflow is reported", test_overflow_is_reported},
    {"overflow on another thread is reported", test_overflow_on_another_thread},
    {"a reserved stack has its guard page", test_reserved_stack_has_a_guard},
    {"a reservation in the middle of a mapping", test_reservation_mid_chunk_has_guards},
    {"deep but fitting recursion", test_deep_but_fitting},
    {"another SIGSEGV is not an overflow", test_other_segv_is_not_an_overflow},
};

int main(void)
{
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = check_failures;
        tests[i].fn();
        printf("%s %s\n", check_failures == before ? "ok  " : "FAIL", tests[i].name);
    }
    return check_summary();
}
