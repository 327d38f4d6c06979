/* test_signals.c - the signal mask belongs to the thread, not to a
 * coroutine (coro.h): a switch neither saves nor restores it, on either
 * switch backend.
 *
 * glibc's swapcontext saves and restores a mask per context; the ucontext
 * backend must undo that, so that a coroutine blocking SIGTERM blocks it
 * for the whole program, as it does with the asm backend.  Each case ends
 * with the mask it started with.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include <bareawait/coro.h>

static volatile sig_atomic_t delivered; /* SIGUSR1s the handler saw */

static void on_usr1(int sig)
{
    (void)sig;
    delivered++;
}

/* Is sig blocked in the calling thread's mask right now? */
static int blocked(int sig)
{
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, sig);
}

static int pending(int sig)
{
    sigset_t set;
    sigpending(&set);
    return sigismember(&set, sig);
}

static void set_blocked(int sig, int how)
{
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    CHECK_INT(pthread_sigmask(how, &one, NULL), 0);
}

/* ---- one coroutine's mask is the next one's ---- */

static void *block_then_yield(void *arg)
{
    (void)arg;
    set_blocked(SIGUSR1, SIG_BLOCK);
    coro_yield();  /* the other one sees it blocked, and unblocks it */
    CHECK_INT(blocked(SIGUSR1), 0);
    return NULL;
}

static void *see_blocked_then_unblock(void *arg)
{
    (void)arg;
    CHECK_INT(blocked(SIGUSR1), 1);
    set_blocked(SIGUSR1, SIG_UNBLOCK);
    coro_yield();
    CHECK_INT(blocked(SIGUSR1), 0);
    return NULL;
}

static void test_mask_crosses_switches(void)
{
    coro_spawn(block_then_yield, NULL, NULL);
    coro_spawn(see_blocked_then_unblock, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(blocked(SIGUSR1), 0);
}

/* ---- a signal raised while blocked stays pending ---- */

static void *block_and_wait(void *arg)
{
    (void)arg;
    set_blocked(SIGUSR1, SIG_BLOCK);
    coro_yield(); /* the other raises SIGUSR1 */
    CHECK_INT(blocked(SIGUSR1), 1);
    CHECK_INT(pending(SIGUSR1), 1);
    CHECK_INT(delivered, 0);
    coro_yield(); /* the other unblocks: delivered there, at once */
    CHECK_INT(delivered, 1);
    CHECK_INT(pending(SIGUSR1), 0);
    CHECK_INT(blocked(SIGUSR1), 0);
    return NULL;
}

static void *raise_then_unblock(void *arg)
{
    (void)arg;
    CHECK_INT(raise(SIGUSR1), 0);
    CHECK_INT(delivered, 0);
    CHECK_INT(pending(SIGUSR1), 1);
    coro_yield();
    CHECK_INT(delivered, 0);
    set_blocked(SIGUSR1, SIG_UNBLOCK);
    CHECK_INT(delivered, 1);
    return NULL;
}

static void test_blocked_signal_stays_pending(void)
{
    delivered = 0;
    coro_spawn(block_and_wait, NULL, NULL);
    coro_spawn(raise_then_unblock, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(delivered, 1);
}

/* ---- a new coroutine starts with the thread's mask ----
 * (with ucontext, its context was copied from a template taken when the
 * first coroutine was made, with the mask of that moment) */

static void *report_blocked(void *arg)
{
    *(int *)arg = blocked(SIGUSR1);
    return NULL;
}

static void *block_then_spawn(void *arg)
{
    set_blocked(SIGUSR1, SIG_BLOCK);
    coro_t *c = coro_spawn(report_blocked, arg, NULL);
    CHECK_INT(coro_join(c, NULL), 0);
    set_blocked(SIGUSR1, SIG_UNBLOCK);
    return NULL;
}

static void test_new_coroutine_gets_thread_mask(void)
{
    int seen = -1;
    coro_spawn(block_then_spawn, &seen, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(seen, 1);
}

/* ---- main() gets back the mask the coroutines left ---- */

static void *block_usr2_and_return(void *arg)
{
    (void)arg;
    set_blocked(SIGUSR2, SIG_BLOCK);
    return NULL;
}

static void *unblock_usr2_and_return(void *arg)
{
    (void)arg;
    CHECK_INT(blocked(SIGUSR2), 1); /* main blocked it before coro_run */
    set_blocked(SIGUSR2, SIG_UNBLOCK);
    return NULL;
}

static void test_main_sees_coroutines_mask(void)
{
    coro_spawn(block_usr2_and_return, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(blocked(SIGUSR2), 1);
    /* and the other way: main's mask reaches the coroutines */
    coro_spawn(unblock_usr2_and_return, NULL, NULL);
    CHECK_INT(coro_run(), 0);
    CHECK_INT(blocked(SIGUSR2), 0);
}

static const check_case tests[] = {
    {"a mask set in one coroutine holds in the next", test_mask_crosses_switches},
    {"a signal raised while blocked stays pending", test_blocked_signal_stays_pending},
    {"a new coroutine starts with the thread's mask", test_new_coroutine_gets_thread_mask},
    {"main gets the mask the coroutines left", test_main_sees_coroutines_mask},
};

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) < 0) {
        perror("sigaction");
        return 1;
    }
    return check_run(tests, sizeof tests / sizeof tests[0], 1);
}
