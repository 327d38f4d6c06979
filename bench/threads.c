/* threads.c - start, pin and join a bench tool's threads; parse --cpus.
 *
 * A new thread is pinned through its attributes (pthread_attr_setaffinity_np)
 * so that it never runs a single instruction on another CPU; the calling
 * thread pins itself with pthread_setaffinity_np.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"

int threads_parse_count(const char *prog, const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > THREADS_MAX) {
        fprintf(stderr, "%s: -t wants a number of threads from 1 to %d, not '%s'\n", prog,
                THREADS_MAX, s);
        return -1;
    }
    return (int)v;
}

/* ---- --cpus ---- */

/* A CPU number at *s (decimal digits only): advances *s; -1 if none or
 * absurdly large.  (One past CPU_SETSIZE is still a number: the caller
 * says it is not an allowed CPU.) */
static int cpu_number(const char **s)
{
    if (**s < '0' || **s > '9')
        return -1;
    long v = 0;
    while (**s >= '0' && **s <= '9') {
        v = v * 10 + (**s - '0');
        if (v > 1000000000)
            return -1;
        (*s)++;
    }
    return (int)v;
}

/* The allowed set as a list ("0-1,3") for an error message. */
static void format_set(const cpu_set_t *set, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int c = 0; c < CPU_SETSIZE && used < size; c++) {
        if (!CPU_ISSET(c, set) || (c > 0 && CPU_ISSET(c - 1, set)))
            continue; /* not in the set, or inside a run already written */
        int last = c;
        while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set))
            last++;
        int n = last == c ? snprintf(out + used, size - used, "%s%d", used ? "," : "", c)
                          : snprintf(out + used, size - used, "%s%d-%d", used ? "," : "", c, last);
        used += n > 0 ? (size_t)n : 0;
    }
}

int threads_parse_cpus(const char *list, int *cpus, int max, char *err, size_t errlen)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) < 0) {
        snprintf(err, errlen, "cannot read this process's CPUs: %s", strerror(errno));
        return -1;
    }
    int n = 0;
    const char *s = list;
    for (;;) {
        int lo = cpu_number(&s), hi = lo;
        if (lo >= 0 && *s == '-') {
            s++;
            hi = cpu_number(&s);
        }
        if (lo < 0 || hi < lo || (*s != ',' && *s != '\0')) {
            snprintf(err, errlen, "'%s' is not a CPU list (like 0,1 or 0-3)", list);
            return -1;
        }
        for (int c = lo; c <= hi; c++) {
            if (c >= CPU_SETSIZE || !CPU_ISSET(c, &allowed)) {
                char set[256];
                format_set(&allowed, set, sizeof set);
                snprintf(err, errlen, "CPU %d is not one this process may run on (allowed: %s)", c, set);
                return -1;
            }
            if (n == max) {
                snprintf(err, errlen, "'%s' names more than %d CPUs", list, max);
                return -1;
            }
            cpus[n++] = c;
        }
        if (*s == '\0')
            return n;
        s++; /* the ',' */
    }
}

int threads_cpus_option(const char *prog, const char *list, int threads, int *cpus)
{
    char err[512];
    int n = threads_parse_cpus(list, cpus, THREADS_MAX, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "%s: --cpus: %s\n", prog, err);
        return -1;
    }
    if (n < threads) {
        fprintf(stderr, "%s: --cpus %s names %d CPU%s for %d threads\n", prog, list, n,
                n == 1 ? "" : "s", threads);
        return -1;
    }
    return 0;
}

/* ---- the threads ---- */

static int pin_attr(pthread_attr_t *attr, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_attr_setaffinity_np(attr, sizeof set, &set);
}

/* Starts thread i running fn(arg), pinned to cpu unless cpu < 0.
 * 0, or an error number. */
static int start(pthread_t *t, int cpu, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc)
        return rc;
    if (cpu >= 0)
        rc = pin_attr(&attr, cpu);
    if (!rc)
        rc = pthread_create(t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc;
}

int threads_run(int n, const int *cpus, void *(*fn)(void *), void *const *args)
{
    pthread_t *ts = calloc((size_t)n, sizeof *ts);
    if (!ts)
        return -1;
    int rc = 0;
    if (cpus) {
        cpu_set_t self;
        CPU_ZERO(&self);
        CPU_SET(cpus[0], &self);
        rc = pthread_setaffinity_np(pthread_self(), sizeof self, &self);
    }
    for (int i = 1; i < n && !rc; i++)
        rc = start(&ts[i], cpus ? cpus[i] : -1, fn, args[i]);
    if (rc) {
        free(ts);
        errno = rc;
        return -1;
    }
    fn(args[0]);
    for (int i = 1; i < n; i++)
        pthread_join(ts[i], NULL);
    free(ts);
    return 0;
}
