/* httpload_args.h - httpload's command line, parsed and checked.
 * Plain parsing: nothing here suspends, and only usage() and a failed
 * parse print anything.
 */
#ifndef BAREAWAIT_HTTPLOAD_ARGS_H
#define BAREAWAIT_HTTPLOAD_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "threads.h"

typedef struct options {
    int connections;      /* -c: concurrent connections, one coroutine each */
    int threads;          /* -t: threads, each its own runtime and client */
    int cpus[THREADS_MAX];/* --cpus: thread i runs on cpus[i]... */
    bool pinned;          /* ...if given */
    double seconds;       /* -d: measured time; 0 with -n alone */
    uint64_t requests;    /* -n: stop after this many requests; 0 = no limit */
    double warmup_s;      /* -w: warm-up time with -d (0 with -n) */
    uint64_t warmup_requests; /* with -n: this many, over all threads, are the warm-up */
    double timeout_s;     /* --timeout: connect and read timeout */
    bool latency;         /* --latency: print the distribution */
    bool json;            /* --json: one JSON object instead of the text */
    const char *url;
} options;

/* The usage text. */
void args_usage(FILE *out);

/* Fills *o from argv, the warm-up decided (a time with -d, 5% of the
 * requests with -n).  0; or -1 for a malformed command line (the caller
 * prints the usage), or -2 after printing, on stderr, what is wrong with
 * a well-formed one (-c below -t, a --cpus list that does not fit).
 * -h prints the usage on stdout and exits 0. */
int args_parse(int argc, char **argv, options *o);

#endif
