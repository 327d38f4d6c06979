/* 00_toy_scheduler.c - the whole idea of bareawait in one file: read this first.
 *
 * Three coroutines on one thread.  "fetch" sends a request down a pipe and
 * waits for the reply on another; "server" answers 50 ms later (a timer);
 * "reactor" is the event loop as just another coroutine (libtask's idea):
 * with nothing else to run it sleeps in poll() until an fd is ready or a
 * timer is due, and wakes whoever waited.  "step N" lines are the seed's.
 *
 * Simpler on purpose than the real runtime, which has instead:
 *   - no scheduler context: here every switch goes through main() (two per
 *     hand-off, as in libtask); runtime/scheduler.c (ba_sched_switch_away, switch_to)
 *     switches straight to the next coroutine;
 *   - no reactor coroutine: runtime/scheduler.c (pick_next, poll_reactor)
 *     calls runtime/reactor_epoll.c (ba_reactor_poll, epoll_wait) from
 *     whichever coroutine gives up the CPU when nothing is ready;
 *   - a timer heap (runtime/timerheap.c), not a linear scan; guard pages and
 *     pooled stacks (runtime/stack.c); sanitizer and valgrind annotations
 *     (runtime/sanitize.h); cancellation, join, deadlines on every wait.
 */
#define _GNU_SOURCE 1 /* pipe2; the same as meson's -D_GNU_SOURCE */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#define STACK_SIZE (64 * 1024)
#define MAX_TASKS 8

/* One coroutine (runtime/scheduler.h: struct coro). */
typedef struct task {
    ucontext_t ctx;       /* its saved registers and stack pointer (ba_switch_jump) */
    const char *name;
    void (*fn)(void);     /* what it runs */
    char *stack;          /* malloc'd: no guard page, no pool */
    struct task *next;    /* run queue link */
    int fd;               /* the fd it waits on, or -1 */
    short events;         /* POLLIN or POLLOUT */
    long long deadline;   /* when its timer is due (ms), or -1 */
} task;

static ucontext_t sched_ctx;               /* main()'s loop */
static task tasks[MAX_TASKS], *current;    /* all coroutines; the running one */
static int n_tasks, live;
static task *runq_head, *runq_tail;        /* the run queue: FIFO */

static long long now_ms(void)
{
    struct timespec ts;
    return clock_gettime(CLOCK_MONOTONIC, &ts), ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* ---- the run queue (scheduler.c: make_ready, runq_pop) ---- */
static void make_ready(task *t)
{
    t->next = NULL;
    if (runq_tail)
        runq_tail->next = t;
    else
        runq_head = t;
    runq_tail = t;
}

static task *runq_pop(void)
{
    task *t = runq_head;
    if (t && !(runq_head = t->next))
        runq_tail = NULL;
    return t;
}

/* ---- spawn (coro.c: coro_spawn -> scheduler.c: ba_sched_spawn) ---- */
static void entry(void) /* returning goes to uc_link: back to main()'s loop */
{
    current->fn();
    live--; /* step 7 in the real thing: scheduler.c coro_entry */
}

static void spawn(void (*fn)(void), const char *name)
{
    task *t = &tasks[n_tasks++];
    *t = (task){.name = name, .fn = fn, .stack = malloc(STACK_SIZE), .fd = -1, .deadline = -1};
    if (!t->stack || getcontext(&t->ctx) < 0) /* switch_ucontext.c: ba_switch_make */
        abort();
    t->ctx.uc_stack.ss_sp = t->stack;
    t->ctx.uc_stack.ss_size = STACK_SIZE;
    t->ctx.uc_link = &sched_ctx;
    makecontext(&t->ctx, entry, 0);
    live++;
    make_ready(t); /* created, waiting to run: nothing runs until main() loops */
    printf("        spawn %s (coroutine %d): on the run queue, not running yet\n", name, n_tasks);
}

/* ---- park and wake (scheduler.c: park, ba_sched_wait, ba_sched_wake) ---- */
static void wake(task *t, const char *why)
{
    printf("        reactor: %s -> wake %s\n", why, t->name);
    t->fd = -1, t->deadline = -1;
    make_ready(t);
}

/* The one wait (coro_wait): on fd for events, or until deadline.  Gives up
 * the CPU until someone puts us back on the run queue; our stack stays as
 * it is, frames and all. */
static void wait_for(int fd, short events, long long deadline)
{
    current->fd = fd, current->events = events, current->deadline = deadline;
    swapcontext(&current->ctx, &sched_ctx);
}

/* io.c: io_read -- try the syscall; on EAGAIN wait for the fd; retry. */
static ssize_t toy_read(int fd, char *buf, size_t n)
{
    for (;;) {
        ssize_t got = read(fd, buf, n);
        if (got >= 0 || errno != EAGAIN)
            return got;
        printf("        %s: read(fd %d) says EAGAIN -> park until it is readable\n", current->name, fd);
        wait_for(fd, POLLIN, -1);
    }
}

/* ---- the reactor (scheduler.c: poll_reactor; reactor_epoll.c: ba_reactor_poll) ---- */
static void reactor(void)
{
    while (live > 1) { /* anyone but us */
        struct pollfd fds[MAX_TASKS]; /* fds[i] is tasks[i]'s; poll skips fd -1 */
        task *timer = NULL;           /* the nearest deadline's */
        int waiting = 0;
        for (int i = 0; i < n_tasks; i++) {
            fds[i] = (struct pollfd){.fd = tasks[i].fd, .events = tasks[i].events};
            waiting += tasks[i].fd >= 0;
            if (tasks[i].deadline >= 0 && (!timer || tasks[i].deadline < timer->deadline))
                timer = &tasks[i];
        }
        if (!waiting && !timer)
            break; /* parked forever: a deadlock (scheduler.c: pick_next says so too) */
        /* Others ready: only ask.  None: sleep until the nearest deadline. */
        long long left = timer ? timer->deadline - now_ms() : -1;
        int timeout = runq_head ? 0 : timer ? (int)(left > 0 ? left : 0) : -1;
        if (!runq_head)
            printf("        reactor: nothing else to run: poll() until an fd is ready%s%s\n",
                   timer ? " or the timer of " : " (no timer)", timer ? timer->name : "");
        if (poll(fds, (nfds_t)n_tasks, timeout) < 0 && errno != EINTR)
            abort();
        for (int i = 0; i < n_tasks; i++)
            if (fds[i].revents)
                wake(&tasks[i], fds[i].revents & POLLIN ? "fd readable" : "fd writable");
            else if (tasks[i].deadline >= 0 && tasks[i].deadline <= now_ms())
                wake(&tasks[i], "timer due");
        make_ready(current); /* yield: let the woken run, then poll again */
        wait_for(-1, 0, -1);
    }
    printf("        reactor: no coroutine left to wait for: done\n");
}

/* ---- the program: fetch and a server, talking through two pipes ---- */
static int request_pipe[2], reply_pipe[2];

static void fetch(void)
{
    printf("step 3  fetch: running; writes \"GET /\" down the request pipe, then reads the reply\n");
    char buf[64] = "";
    if (write(request_pipe[1], "GET /", 5) != 5 || toy_read(reply_pipe[0], buf, sizeof buf - 1) < 0)
        abort();
    printf("step 4  fetch: resumed where it parked, inside toy_read: got \"%s\"\n", buf);
    printf("step 7  fetch: returns; the coroutine is complete\n");
}

static void server(void)
{
    char buf[64] = "";
    toy_read(request_pipe[0], buf, sizeof buf - 1);
    printf("        server: got \"%s\"; answers in 50 ms -> park on a timer\n", buf);
    wait_for(-1, 0, now_ms() + 50);
    printf("        server: writes \"200 OK hello\" down the reply pipe, and ends\n");
    if (write(reply_pipe[1], "200 OK hello", 12) != 12)
        abort();
}

int main(void)
{
    if (pipe2(request_pipe, O_NONBLOCK) < 0 || pipe2(reply_pipe, O_NONBLOCK) < 0)
        return 1;
    printf("step 1  spawning is not running:\n");
    spawn(fetch, "fetch");
    spawn(server, "server");
    spawn(reactor, "reactor");
    /* The scheduler loop (scheduler.c: coro_run, pick_next): run whoever is
     * at the head of the queue until it parks, yields or ends. */
    while ((current = runq_pop())) {
        printf("        scheduler: switch to %s\n", current->name);
        swapcontext(&sched_ctx, &current->ctx);
    }
    for (int i = 0; i < n_tasks; i++)
        free(tasks[i].stack);
    return live == 0 ? 0 : 1;
}
