/* threads.h - the threads of a bench tool's -t N, each pinned to a CPU of
 * --cpus LIST if one was given.
 *
 * bench/httpload and bench/serve run one bareawait runtime per thread, as
 * the runtime wants it: a thread that calls coro_spawn/coro_run owns its
 * own scheduler, reactor and stacks, and its coroutines never leave it.
 * This module only starts, pins and joins the threads; what each runs is
 * the caller's.  Nothing here suspends: these are plain threads, called
 * from main() outside any coroutine.
 */
#ifndef BAREAWAIT_BENCH_THREADS_H
#define BAREAWAIT_BENCH_THREADS_H

#include <stddef.h>

#define THREADS_MAX 256 /* the largest -t the tools accept */

/* Parses -t's argument: a whole number from 1 to THREADS_MAX.  The count;
 * or -1 if malformed or out of range, after printing so on stderr as
 * "PROG: -t wants ...". */
int threads_parse_count(const char *prog, const char *s);

/* Parses a CPU list, as taskset -c writes it: "0,1", "0-3", "0-1,4"
 * (decimal numbers, ranges low-high, no spaces), into cpus[0..max) in the
 * order written; the same CPU may appear more than once.  Every CPU must
 * be one this process may run on (its sched_getaffinity mask).
 * Returns how many CPUs the list names; or -1 with a message in
 * err[0..errlen) (malformed, more than max CPUs, a CPU not allowed --
 * naming the allowed set). */
int threads_parse_cpus(const char *list, int *cpus, int max, char *err, size_t errlen);

/* The --cpus option of a tool with -t threads: threads_parse_cpus into
 * cpus[0..THREADS_MAX), and the list must name at least `threads` CPUs
 * (thread i runs on the i-th; any more are not used).  0; or -1 after
 * printing what is wrong on stderr as "PROG: --cpus ...". */
int threads_cpus_option(const char *prog, const char *list, int threads, int *cpus);

/* Runs fn(args[i]) for each i in 0..n: i >= 1 each on a new thread, i = 0
 * on the calling thread, then joins the new ones.  With cpus (non-NULL,
 * n entries), thread i is pinned to cpus[i] before fn runs; the caller
 * stays pinned to cpus[0] after the call.
 * Returns 0 once every fn has returned; or -1 with errno (a thread could
 * not be created or pinned) *without* running fn on the caller: threads
 * already started are left running, so the caller should report it and
 * exit. */
int threads_run(int n, const int *cpus, void *(*fn)(void *), void *const *args);

#endif
