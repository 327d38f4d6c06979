/* bench/sched_threads.c - bench/sched --threads N: does a runtime per
 * thread scale?
 *
 * The yield and spawn + join measures of bench/sched.c, run on N threads at
 * once -- each thread spawns and runs a runtime of its own, so nothing is
 * shared between them -- against the same measures on one thread alone.
 * The rounds alternate (one runtime, N runtimes, one, N, ...) so that both
 * see the same machine: a neighbour's load, the CPU's clock.  Each figure
 * is a median of SCALING_ROUNDS, more than the rest of bench/sched takes:
 * a round is short, and N threads are at the mercy of whatever else runs.
 * The one-runtime rounds also run on a thread of their own, started the
 * same way, not on main().
 *
 * N runtimes' throughput: all their operations, over the wall time from the
 * first thread's timed stretch starting to the last one's ending.  (Adding
 * up each thread's own rate would also credit a thread for the time it ran
 * alone, before the others started or after they ended.)  The threads line
 * up just before their timed stretches, their runtimes set up and warm, so
 * that none starts while another is still mapping its stacks; they wait
 * for each other spinning (sched_yield), not asleep: a sleeping thread's
 * idle vCPU can take milliseconds to wake, a good part of a round.
 * Unpinned: the kernel places the threads.
 *
 * Next to it, the same ratio per second on a CPU (each thread's
 * CLOCK_THREAD_CPUTIME_ID over its timed stretch): what N runtimes would
 * give if the machine's other work left them their cores.  Near 1.0x
 * means the runtimes do not slow each other down (no shared lock, no
 * cache line bouncing between them); a wall-time ratio below N with a
 * CPU-time ratio near 1.0x means the cores were busy with something else.
 * Two controls, measured the same way in the same run: the same work in N
 * processes instead of N threads -- processes share nothing by
 * construction, so that is what this machine gives N of this work at once
 * (on a VM, two vCPUs may share a core of the host) -- and a bare loop of
 * arithmetic with no runtime at all.  N runtimes near the processes' ratio
 * means a runtime per thread costs nothing for being in one process.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched_measure.h"
#include "switch.h"

#define SCALING_ROUNDS 9

struct start_line {            /* where a round's timed stretches start */
    atomic_int arrived;        /* lanes there so far */
    int lanes;                 /* of this many */
};

struct lane {                  /* one thread (or process) of a round */
    struct start_line *go;
    double (*measure)(long);   /* yield_ns, spawn_join_ns or bare_loop_ns */
    long n;                    /* its count */
    struct timed got;          /* what the measure timed there */
};

/* A round's shared state: in memory mapped MAP_SHARED, so that lanes that
 * are processes line up and report back through it too. */
struct round {
    struct start_line go;
    struct lane lane[SCHED_MAX_THREADS];
};

static _Thread_local struct start_line *my_line;

/* timing_starts: holds the whole thread, runtime and all, until every lane
 * is ready (nothing else of this runtime has anything to do then).  The
 * counter is a lock-free atomic_int, which works between processes too. */
static void line_up(void)
{
    atomic_fetch_add(&my_line->arrived, 1);
    while (atomic_load(&my_line->arrived) < my_line->lanes)
        sched_yield(); /* the core is the others' if they need it */
}

static void *lane_main(void *arg)
{
    struct lane *l = arg;
    my_line = l->go;
    timing_starts = line_up;
    l->measure(l->n);
    l->got = timed;
    return NULL;
}

/* The control: `steps` multiply-adds, each waiting for the one before, and
 * nothing else (no runtime, no memory).  Returns ns per step. */
static double bare_loop_ns(long steps)
{
    uint64_t x = 1;
    int64_t from = stretch_start();
    for (long i = 0; i < steps; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        __asm__ volatile("" : "+r"(x)); /* keep every step, in order */
    }
    stretch_end(from, (double)steps);
    volatile uint64_t sink = x;
    (void)sink;
    return (double)(timed.to - timed.from) / (double)steps;
}

/* What one round measured, all its lanes together. */
struct rates {
    double per_s;      /* operations per second of wall time */
    double per_cpu_s;  /* operations per second its lanes were on a CPU */
};

static _Noreturn void die(const char *what, int lane, int lanes, int err)
{
    fprintf(stderr, "sched: lane %d of %d: %s: %s\n", lane + 1, lanes, what, strerror(err));
    exit(1);
}

/* Starts lane i as a thread (into *tid) or a child process (into *pid). */
static void start_lane(struct round *r, int i, bool process, pthread_t *tid, pid_t *pid)
{
    int lanes = r->go.lanes;
    if (!process) {
        int err = pthread_create(tid, NULL, lane_main, &r->lane[i]);
        if (err) /* the lanes started wait at the line: end it all */
            die("pthread_create", i, lanes, err);
        return;
    }
    fflush(NULL); /* a child that exits must not write our buffers again */
    *pid = fork();
    if (*pid < 0)
        die("fork", i, lanes, errno);
    if (*pid == 0) {
        lane_main(&r->lane[i]);
        _exit(0);
    }
}

static void end_lane(struct round *r, int i, bool process, pthread_t tid, pid_t pid)
{
    if (!process) {
        pthread_join(tid, NULL);
        return;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid", i, r->go.lanes, errno);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "sched: lane %d of %d, a process, failed\n", i + 1, r->go.lanes);
        exit(1);
    }
}

/* One round of `measure` on `lanes` threads at once, each its own runtime,
 * or on as many processes. */
static struct rates one_round(double (*measure)(long), long n, int lanes, bool processes)
{
    struct round *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                           -1, 0);
    if (r == MAP_FAILED)
        die("mmap", 0, lanes, errno);
    atomic_init(&r->go.arrived, 0);
    r->go.lanes = lanes;
    pthread_t tid[SCHED_MAX_THREADS];
    pid_t pid[SCHED_MAX_THREADS];
    for (int i = 0; i < lanes; i++) {
        r->lane[i] = (struct lane){&r->go, measure, n, {0, 0, 0, 0}};
        start_lane(r, i, processes, &tid[i], &pid[i]);
    }
    int64_t from = INT64_MAX, to = INT64_MIN, cpu_ns = 0;
    double ops = 0;
    for (int i = 0; i < lanes; i++) {
        end_lane(r, i, processes, tid[i], pid[i]);
        const struct timed *t = &r->lane[i].got;
        from = t->from < from ? t->from : from;
        to = t->to > to ? t->to : to;
        ops += t->ops;
        cpu_ns += t->cpu_ns;
    }
    munmap(r, sizeof *r);
    return (struct rates){ops * 1e9 / (double)(to - from), ops * 1e9 / (double)cpu_ns};
}

struct scaling {            /* medians of the rounds */
    struct rates one;       /* one runtime alone */
    struct rates many;      /* N runtimes at once, threads of this process */
    double procs_per_s;     /* the same in N processes */
};

static struct scaling scale(double (*measure)(long), long n, int threads)
{
    double one[SCALING_ROUNDS], many[SCALING_ROUNDS], procs[SCALING_ROUNDS];
    double one_cpu[SCALING_ROUNDS], many_cpu[SCALING_ROUNDS];
    for (int r = 0; r < SCALING_ROUNDS; r++) {
        struct rates a = one_round(measure, n, 1, false);
        struct rates b = one_round(measure, n, threads, false);
        procs[r] = one_round(measure, n, threads, true).per_s;
        one[r] = a.per_s, one_cpu[r] = a.per_cpu_s;
        many[r] = b.per_s, many_cpu[r] = b.per_cpu_s;
    }
    return (struct scaling){
        {median(one, SCALING_ROUNDS), median(one_cpu, SCALING_ROUNDS)},
        {median(many, SCALING_ROUNDS), median(many_cpu, SCALING_ROUNDS)},
        median(procs, SCALING_ROUNDS),
    };
}

static int usable_cores(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

static void print_line(const char *what, struct scaling s)
{
    printf("  %-13s %9.2f M/s %10.2f M/s %6.2fx %8.2fx %10.2fx\n", what, s.one.per_s / 1e6,
           s.many.per_s / 1e6, s.many.per_s / s.one.per_s,
           s.many.per_cpu_s / s.one.per_cpu_s, s.procs_per_s / s.one.per_s);
}

static void print_json(const char *what, struct scaling s)
{
    printf(", \"%s_per_s_1\": %.0f, \"%s_per_s_n\": %.0f, \"%s_ratio\": %.3f, "
           "\"%s_per_cpu_s_ratio\": %.3f, \"%s_processes_ratio\": %.3f",
           what, s.one.per_s, what, s.many.per_s, what, s.many.per_s / s.one.per_s, what,
           s.many.per_cpu_s / s.one.per_cpu_s, what, s.procs_per_s / s.one.per_s);
}

int sched_threads(int threads, const struct counts *c, bool json)
{
    struct scaling yield = scale(yield_ns, c->yields, threads);
    struct scaling spawn = scale(spawn_join_ns, c->spawns, threads);
    struct scaling bare = scale(bare_loop_ns, c->steps, threads);
    int cores = usable_cores();
    if (json) {
        printf("{\"backend\": \"%s\", \"threads\": %d, \"cores\": %d",
               ba_switch_backend_name(), threads, cores);
        print_json("yield", yield);
        print_json("spawn_join", spawn);
        print_json("bare_loop", bare);
        printf("}\n");
        return 0;
    }
    printf("bareawait bench/sched --threads %d  backend: %s  (%d cores usable; medians of %d "
           "rounds, alternating)\n",
           threads, ba_switch_backend_name(), cores, SCALING_ROUNDS);
    char many[32], procs[32];
    snprintf(many, sizeof many, "%d runtime%s", threads, threads == 1 ? "" : "s");
    snprintf(procs, sizeof procs, "%d process%s", threads, threads == 1 ? "" : "es");
    printf("  %-13s %13s %14s %7s %9s %11s\n", "", "1 runtime", many, "ratio", "on a CPU",
           procs);
    print_line("yield", yield);
    print_line("spawn + join", spawn);
    print_line("bare loop", bare);
    printf("  (operations per second of all runtimes together: their operations over the\n"
           "   wall time from the first one's start to the last one's end.  on a CPU: the\n"
           "   same per second their threads were on a CPU, against one runtime's; 1.00x\n"
           "   if they do not slow each other down, whatever else keeps the cores busy.\n"
           "   processes: the same work in as many processes, which share nothing by\n"
           "   construction: what this machine gives that many at once.  bare loop:\n"
           "   arithmetic alone, no runtime.)\n");
    return 0;
}
