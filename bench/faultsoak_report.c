/* faultsoak_report.c - faultsoak's command line and its Markdown report. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "faultsoak.h"

static void usage(FILE *out)
{
    fputs("usage: faultsoak [--seconds N] [--clients N] [--timeout MS] [--gateway PATH]\n"
          "  --seconds N     how long the load lasts (1..86400; default 60)\n"
          "  --clients N     keep-alive clients at once (1..1000; default 32)\n"
          "  --timeout MS    the gateway's upstream timeout (10..60000; default 500);\n"
          "                  a stalled upstream says nothing for 3x as long\n"
          "  --gateway PATH  the gateway binary (default ../examples/gateway from here)\n"
          "Exit status: 0 all answers as they must be and fds back; 1 otherwise; 2 usage.\n",
          out);
}

/* A whole number in [lo, hi], or -1 after saying what is wrong. */
static long number(const char *flag, const char *v, long lo, long hi)
{
    char *end;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || end == v || *end || n < lo || n > hi) {
        fprintf(stderr, "faultsoak: %s wants a whole number from %ld to %ld, not '%s'\n", flag,
                lo, hi, v ? v : "(nothing)");
        return -1;
    }
    return n;
}

int soak_parse_args(int argc, char **argv, soak_config *c)
{
    c->argv0 = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--seconds") == 0) {
            n = c->seconds = (int)number(a, v, 1, 86400);
        } else if (strcmp(a, "--clients") == 0) {
            n = c->clients = (int)number(a, v, 1, 1000);
        } else if (strcmp(a, "--timeout") == 0) {
            n = c->timeout_ms = number(a, v, 10, 60000);
        } else if (strcmp(a, "--gateway") == 0 && v) {
            c->gateway = v;
        } else {
            fprintf(stderr, "faultsoak: unknown option or missing value: %s\n", a);
            usage(stderr);
            return -1;
        }
        if (n < 0)
            return -1;
        i++;
    }
    return 0;
}

void soak_report(const soak_config *c, const soak_counts *n, int status)
{
    struct utsname u;
    uname(&u);
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    uint64_t total = 0;
    for (int k = 0; k < SOAK_KINDS; k++)
        total += n->by_kind[k];
    printf("# The gateway under load while its upstream misbehaves\n\n");
    printf("Made by `faultsoak --seconds %d --clients %d --timeout %" PRId64 "` (a release "
           "build's bench/faultsoak) on %s, Linux %s.\n\n", c->seconds, c->clients,
           c->timeout_ms, when, u.release);
    printf("| upstream does | requests | whole 200 | 502 | 504 | cut short | other |\n"
           "|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < SOAK_KINDS; k++) {
        printf("| %s | %" PRIu64, soak_kind_name((soak_kind)k), n->by_kind[k]);
        for (int o = 0; o < SOAK_OUTCOMES; o++)
            printf(" | %" PRIu64, n->outcome[k][o]);
        printf(" |\n");
    }
    printf("\nMust be: whole for whole, chunked and trickle; 504 for a stall; 502 or cut "
           "short for a cut or a reset.\n");
    printf("\n%" PRIu64 " requests: %" PRIu64 " answered as they must be, %" PRIu64
           " lost, %" PRIu64 " corrupted, %" PRIu64 " unexpected.\n\n", total,
           n->as_expected, n->lost, n->corrupted, n->unexpected);
    printf("| s | gateway RSS KiB | gateway fds |\n|---|---|---|\n");
    for (int i = 0; i < n->samples; i++)
        printf("| %d | %ld | %d |\n", n->sample[i].t, n->sample[i].rss_kib, n->sample[i].fds);
    printf("\nfds: %d before the load, %d under it, %d %d s after it ended.  The gateway %s.\n",
           n->fds_before, n->fds_loaded, n->fds_after, n->waited_s,
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "exited 0 on SIGTERM"
                                                         : "did NOT exit 0 on SIGTERM");
}
