/* sched_measure.h - what bench/sched.c and bench/sched_threads.c share. */
#ifndef BAREAWAIT_BENCH_SCHED_MEASURE_H
#define BAREAWAIT_BENCH_SCHED_MEASURE_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_MAX_THREADS 256  /* --threads N: at most this many */

struct counts {       /* iterations per round */
    long switches;    /* raw round trips */
    long yields;      /* per coroutine */
    long spawns;
    long wakes;       /* pipe round trips */
    long parked;
    long steps;       /* --threads' bare loop, no runtime */
};

/* What the calling thread's last yield_ns or spawn_join_ns timed: from
 * `from` to `to` (coro_now), `ops` operations (yields, or spawns each
 * joined), and how long of it the thread was on a CPU. */
struct timed {
    int64_t from, to;
    double ops;
    int64_t cpu_ns;
};
extern _Thread_local struct timed timed;

/* If set, called on the calling thread by yield_ns and spawn_join_ns just
 * before their timed stretch starts (from inside a coroutine, the runtime
 * set up and warm): --threads lines its threads up there. */
extern _Thread_local void (*timing_starts)(void);

/* A timed stretch starts (timing_starts first, if set): its coro_now()... */
int64_t stretch_start(void);

/* ...and ends, `ops` operations after `from`: fills in `timed`. */
void stretch_end(int64_t from, double ops);

/* The median of v[0..n); sorts v. */
double median(double *v, int n);

/* Two coroutines yielding n times each: ns per yield.  Runs a runtime on
 * the calling thread (coro_run) and sets `timed`. */
double yield_ns(long n);

/* n coroutines spawned and joined one after another, from a warm pool: ns
 * per spawn + join.  Runs a runtime on the calling thread and sets `timed`. */
double spawn_join_ns(long n);

/* --threads N: yield and spawn + join on `threads` runtimes at once against
 * one alone, printed as text or one line of JSON.  main()'s exit status. */
int sched_threads(int threads, const struct counts *c, bool json);

#endif
