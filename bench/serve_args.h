/* serve_args.h - bench/serve's command line, parsed and checked.
 * Plain parsing: nothing here suspends; only serve_usage() and a failed
 * parse print anything.
 */
#ifndef BAREAWAIT_SERVE_ARGS_H
#define BAREAWAIT_SERVE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "threads.h"

/* What the command line asks for. */
typedef struct serve_options {
    int port;               /* -p; 0 = any free port */
    size_t bytes;           /* -b: body size */
    const char *port_file;  /* --port-file, or NULL */
    int threads;            /* -t: threads, each its own runtime and listener */
    int cpus[THREADS_MAX];  /* --cpus: thread i runs on cpus[i]... */
    bool pinned;            /* ...if given */
} serve_options;

/* The usage text. */
void serve_usage(FILE *out);

/* Fills *o from argv (o comes in holding the defaults).  0; or -1 for a
 * malformed command line (the caller prints the usage), or -2 after
 * printing, on stderr, what is wrong with a well-formed one (a bad -t, a
 * --cpus list that does not fit).  -h prints the usage and exits 0. */
int serve_parse_args(int argc, char **argv, serve_options *o);

#endif
