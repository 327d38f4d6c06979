/* faultsoak.h - the parts of bench/faultsoak: what each request's upstream
 * does (its kind), the upstream that does it, the gateway child, /proc
 * sampling, the command line and the report.  faultsoak.c runs the load.
 */
#ifndef BAREAWAIT_BENCH_FAULTSOAK_H
#define BAREAWAIT_BENCH_FAULTSOAK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <bareawait/server.h>

/* What the upstream does with request number seq (path /k/SEQ). */
typedef enum soak_kind {
    SOAK_WHOLE,     /* answers at once, with a Content-Length */
    SOAK_CHUNKED,   /* answers at once, chunked */
    SOAK_TRICKLE,   /* 512-byte pieces, 1 ms apart */
    SOAK_STALL,     /* says nothing for 3x the gateway's timeout: 504 */
    SOAK_CUT,       /* announces a length, sends half of it and closes */
    SOAK_RESET,     /* sends part of the body, then resets (RST) */
    SOAK_KINDS
} soak_kind;

soak_kind soak_kind_of(uint64_t seq);
const char *soak_kind_name(soak_kind k);
/* The body's length, and its byte at offset i (what the client checks). */
uint64_t soak_body_len(uint64_t seq);
unsigned char soak_byte(uint64_t seq, uint64_t i);

typedef struct soak_config {
    int seconds;          /* the load's length */
    int clients;          /* keep-alive clients, one coroutine each */
    int64_t timeout_ms;   /* the gateway's --timeout for its upstream */
    const char *gateway;  /* the binary; NULL: next to this one */
    const char *argv0;
    int gateway_port;     /* filled by soak_gateway_start */
} soak_config;

#define SOAK_SAMPLES_MAX 1000

typedef struct soak_sample {
    int t;                /* seconds into the load */
    long rss_kib;
    int fds;
} soak_sample;

/* How a request ended, as the client saw it. */
typedef enum soak_outcome {
    SOAK_GOT_WHOLE,   /* 200, every byte right */
    SOAK_GOT_502,
    SOAK_GOT_504,
    SOAK_GOT_CUT,     /* the answer cut short, or none before the close */
    SOAK_GOT_OTHER,   /* anything else: lost, corrupted or unexpected */
    SOAK_OUTCOMES
} soak_outcome;

typedef struct soak_counts {
    uint64_t by_kind[SOAK_KINDS];
    uint64_t outcome[SOAK_KINDS][SOAK_OUTCOMES];
    uint64_t as_expected, lost, corrupted, unexpected, shown;
    soak_sample sample[SOAK_SAMPLES_MAX];
    int samples;
    int fds_before, fds_loaded, fds_after, waited_s;
} soak_counts;

/* Parses the command line into *c: 0; 1 after printing the usage for
 * --help; -1 after saying what is wrong. */
int soak_parse_args(int argc, char **argv, soak_config *c);

/* The upstream server, on 127.0.0.1:0, not yet running.  NULL/errno. */
http_server *soak_upstream_open(void);

/* Starts the gateway in front of 127.0.0.1:upstream_port, on a free port
 * (c->gateway_port once it says it listens).  Its pid, or -1 after saying
 * why.  Called before coro_run: it waits (up to 10 s) for the gateway. */
pid_t soak_gateway_start(soak_config *c, int upstream_port);

/* A process's resident memory (KiB) and open fds; -1 if unreadable. */
long soak_rss_kib(pid_t pid);
int soak_fds(pid_t pid);

/* The Markdown report, on stdout; status is the gateway's wait status. */
void soak_report(const soak_config *c, const soak_counts *n, int status);

#endif
