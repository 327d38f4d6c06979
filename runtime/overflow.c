/* overflow.c - the stack-overflow report: a SIGSEGV handler on an
 * alternate signal stack.
 *
 * The handler is the process's (sigaction has no per-thread form), so the
 * first thread to arm installs it and the last to disarm removes it; the
 * alternate stack and the view of "the coroutine running here" are the
 * thread's own.  The handler reads only that thread-local view (an
 * initial-exec TLS variable: no allocation, async-signal-safe) and calls
 * only write(2) and abort().
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "overflow.h"
#include "scheduler.h"

#define ALT_STACK_SIZE ((size_t)64 * 1024)

/* The arming thread's view. */
struct view {
    struct coro *const *current;
    const struct coro *main_co;
    void *altstack;
    stack_t old_altstack;
};
static _Thread_local struct view me __attribute__((tls_model("initial-exec")));

/* The process's handler, installed while any thread is armed. */
static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned armed_threads;
static struct sigaction old_segv;

static void say(const char *s)
{
    ssize_t rc = write(2, s, strlen(s));
    (void)rc;
}

static void say_number(uint64_t n)
{
    char buf[24];
    char *p = buf + sizeof buf - 1;
    *p = '\0';
    do
        *--p = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    say(p);
}

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
    (void)sig, (void)uctx;
    const struct coro *c = me.current ? *me.current : NULL;
    if (c && c != me.main_co && ba_stack_is_guard_hit(c->stack.lo, si->si_addr)) {
        say("bareawait: stack overflow in coroutine ");
        say_number(c->id);
        say(" \"");
        say(c->name);
        say("\" (stack of ");
        say_number((uint64_t)((const char *)c - c->stack.lo));
        say(" bytes); give it a bigger coro_opts.stack_size\n");
        abort();
    }
    /* Not ours: put the previous handler back; the fault happens again on
     * return and goes there.  (Other threads' overflows are then reported
     * by the kernel's default, a plain crash: the process is ending.) */
    sigaction(SIGSEGV, &old_segv, NULL);
}

static int handler_get(void)
{
    int rc = 0;
    pthread_mutex_lock(&handler_lock);
    if (armed_threads == 0) {
        struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
        sigemptyset(&sa.sa_mask);
        rc = sigaction(SIGSEGV, &sa, &old_segv);
    }
    if (rc == 0)
        armed_threads++;
    pthread_mutex_unlock(&handler_lock);
    return rc;
}

static void handler_put(void)
{
    pthread_mutex_lock(&handler_lock);
    if (--armed_threads == 0)
        sigaction(SIGSEGV, &old_segv, NULL);
    pthread_mutex_unlock(&handler_lock);
}

int ba_overflow_arm(struct coro *const *current, const struct coro *main_co)
{
    void *mem = malloc(ALT_STACK_SIZE);
    if (!mem)
        return -1;
    stack_t ss = {.ss_sp = mem, .ss_size = ALT_STACK_SIZE};
    if (sigaltstack(&ss, &me.old_altstack) < 0) {
        free(mem);
        return -1;
    }
    if (handler_get() < 0) {
        sigaltstack(&me.old_altstack, NULL);
        free(mem);
        return -1;
    }
    me.altstack = mem;
    me.main_co = main_co;
    me.current = current;
    return 0;
}

void ba_overflow_disarm(void)
{
    if (!me.altstack)
        return;
    me.current = NULL;
    handler_put();
    /* The old alternate stack may be "none"; restoring it must not fail
     * because ours was in use (it is not: we are not in the handler). */
    if (me.old_altstack.ss_flags & SS_DISABLE) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
    } else {
        sigaltstack(&me.old_altstack, NULL);
    }
    free(me.altstack);
    me.altstack = NULL;
}
