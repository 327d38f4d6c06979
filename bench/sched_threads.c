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
 * up at a barrier just before their timed stretches, their runtimes set up
 * and warm, so that none starts while another is still mapping its stacks.
 * Unpinned: the kernel places the threads.
 *
 * Next to it, the same ratio per second on a CPU (each thread's
 * CLOCK_THREAD_CPUTIME_ID over its timed stretch): what N runtimes would
 * give if the machine's other work left them their cores.  Near 1.0x
 * means the runtimes do not slow each other down (no shared lock, no
 * cache line bouncing between them); a wall-time ratio below N with a
 * CPU-time ratio near 1.0x means the cores were busy with something else.
 * And as a control, a bare loop of arithmetic with no runtime at all,
 * measured the same way in the same run: the most N threads get on this
 * machine at this moment.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_measure.h"
#include "switch.h"

#define SCALING_ROUNDS 9

struct lane {                  /* one thread of a round */
    pthread_barrier_t *go;     /* where the lanes' timed stretches start */
    double (*measure)(long);   /* yield_ns or spawn_join_ns */
    long n;                    /* its count */
    struct timed got;          /* what the measure timed on this thread */
};

static _Thread_local pthread_barrier_t *my_barrier;

/* timing_starts: blocks the whole thread, runtime and all, until every
 * lane is ready (nothing else of this runtime has anything to do then). */
static void line_up(void)
{
    pthread_barrier_wait(my_barrier);
}

static void *lane_main(void *arg)
{
    struct lane *l = arg;
    my_barrier = l->go;
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

/* What one round measured, all its threads together. */
struct rates {
    double per_s;      /* operations per second of wall time */
    double per_cpu_s;  /* operations per second its threads were on a CPU */
};

/* One round of `measure` on `threads` threads at once, each its own
 * runtime. */
static struct rates one_round(double (*measure)(long), long n, int threads)
{
    struct lane lane[SCHED_MAX_THREADS];
    pthread_t tid[SCHED_MAX_THREADS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        lane[i] = (struct lane){&go, measure, n, {0, 0, 0, 0}};
        int err = pthread_create(&tid[i], NULL, lane_main, &lane[i]);
        if (err) { /* the lanes started wait at the barrier: end it all */
            fprintf(stderr, "sched: thread %d of %d: pthread_create: %s\n", i + 1, threads,
                    strerror(err));
            exit(1);
        }
    }
    int64_t from = INT64_MAX, to = INT64_MIN, cpu_ns = 0;
    double ops = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        from = lane[i].got.from < from ? lane[i].got.from : from;
        to = lane[i].got.to > to ? lane[i].got.to : to;
        ops += lane[i].got.ops;
        cpu_ns += lane[i].got.cpu_ns;
    }
    pthread_barrier_destroy(&go);
    return (struct rates){ops * 1e9 / (double)(to - from), ops * 1e9 / (double)cpu_ns};
}

struct scaling {            /* medians of the rounds */
    struct rates one;       /* one runtime alone */
    struct rates many;      /* N runtimes at once */
};

static struct scaling scale(double (*measure)(long), long n, int threads)
{
    double one[SCALING_ROUNDS], many[SCALING_ROUNDS];
    double one_cpu[SCALING_ROUNDS], many_cpu[SCALING_ROUNDS];
    for (int r = 0; r < SCALING_ROUNDS; r++) {
        struct rates a = one_round(measure, n, 1);
        struct rates b = one_round(measure, n, threads);
        one[r] = a.per_s, one_cpu[r] = a.per_cpu_s;
        many[r] = b.per_s, many_cpu[r] = b.per_cpu_s;
    }
    return (struct scaling){
        {median(one, SCALING_ROUNDS), median(one_cpu, SCALING_ROUNDS)},
        {median(many, SCALING_ROUNDS), median(many_cpu, SCALING_ROUNDS)},
    };
}

static int usable_cores(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

static void print_line(const char *what, struct scaling s)
{
    printf("  %-14s %9.2f M/s  %9.2f M/s  %6.2fx  %8.2fx\n", what, s.one.per_s / 1e6,
           s.many.per_s / 1e6, s.many.per_s / s.one.per_s,
           s.many.per_cpu_s / s.one.per_cpu_s);
}

static void print_json(const char *what, struct scaling s)
{
    printf(", \"%s_per_s_1\": %.0f, \"%s_per_s_n\": %.0f, \"%s_ratio\": %.3f, "
           "\"%s_per_cpu_s_ratio\": %.3f",
           what, s.one.per_s, what, s.many.per_s, what, s.many.per_s / s.one.per_s, what,
           s.many.per_cpu_s / s.one.per_cpu_s);
}

int sched_threads(int threads, const struct counts *c, bool json)
{
    struct scaling yield = scale(yield_ns, c->yields, threads);
    struct scaling spawn = scale(spawn_join_ns, c->spawns, threads);
    struct scaling bare = scale(bare_loop_ns, c->steps, threads);
    int cores = usable_cores();
    if (json) {
        printf("{\"backend\": \"%s\", \"threads\": %d, \"cores\": %d",
               ba_switch_backend_name, threads, cores);
        print_json("yield", yield);
        print_json("spawn_join", spawn);
        print_json("bare_loop", bare);
        printf("}\n");
        return 0;
    }
    printf("bareawait bench/sched --threads %d  backend: %s  (%d cores usable; medians of %d "
           "rounds, 1 and %d runtimes alternating)\n",
           threads, ba_switch_backend_name, cores, SCALING_ROUNDS, threads);
    char many[32];
    snprintf(many, sizeof many, "%d runtime%s", threads, threads == 1 ? "" : "s");
    printf("  %-14s %13s  %13s  %7s  %9s\n", "", "1 runtime", many, "ratio", "on a CPU");
    print_line("yield", yield);
    print_line("spawn + join", spawn);
    print_line("bare loop", bare);
    printf("  (operations per second, all runtimes together: their operations over the wall\n"
           "   time from the first one's start to the last one's end.  on a CPU: operations\n"
           "   per second their threads were on a CPU, %d runtimes against one; 1.00x if they\n"
           "   do not slow each other down, whatever else keeps the cores busy.  bare loop:\n"
           "   arithmetic alone, no runtime, on as many threads: the machine's own ratio)\n",
           threads);
    return 0;
}
