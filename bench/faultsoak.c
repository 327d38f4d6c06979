/* faultsoak.c - the gateway under load while its upstream misbehaves.
 *
 *   faultsoak [--seconds N] [--clients N] [--timeout MS] [--gateway PATH]
 *
 * Starts an upstream (an http_server in this process), runs the real
 * examples/gateway binary in front of it (--timeout MS for its upstream),
 * and loads the gateway with N keep-alive clients for N seconds.  Each
 * request's path says what the upstream does with it (kind_of below):
 * answer at once (Content-Length or chunked), trickle the body, stall past
 * the gateway's timeout, cut the body short, or reset the connection.  The
 * clients know which, so every answer is checked against what it must be:
 * a whole, byte-exact body; a 504 for a stall; for a cut or a reset, a 502
 * or an answer cut short.  Anything else is counted and shown: a request
 * with no answer (lost), a 200 with wrong or missing bytes (corrupted), any
 * other outcome (unexpected).  Meanwhile the gateway's RSS and open fds are
 * sampled every 5 s, and its fds counted again once the load has ended and
 * its idle connections have closed.
 *
 * Prints a Markdown report on stdout (bench/results/FAULTSOAK.md is one).
 * Exit status 0 if nothing was lost, corrupted or unexpected and the fds
 * came back to their count before the load; 1 otherwise; 2 for a bad
 * command line.  A benchmark program: only its smoke run is in the suite.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/server.h>
#include "faultsoak.h"

static soak_config cfg = {.seconds = 60, .clients = 32, .timeout_ms = 500};
static soak_counts counts;
static volatile bool stopping; /* the run's time is up: clients finish */

/* ---- the clients ---- */

typedef struct check {
    uint64_t seq;
    uint64_t offset;     /* body bytes seen */
    bool bad;            /* a byte differed */
} check;

static int check_sink(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns;
    check *c = user;
    for (size_t i = 0; i < len; i++, c->offset++)
        if ((unsigned char)data[i] != soak_byte(c->seq, c->offset))
            c->bad = true;
    return 0;
}

static soak_outcome outcome_of(uint64_t seq, int err, int status, const check *c)
{
    if (err == 0 && status == 200 && !c->bad && c->offset == soak_body_len(seq))
        return SOAK_GOT_WHOLE;
    if (err == 0 && (status == 502 || status == 504))
        return status == 502 ? SOAK_GOT_502 : SOAK_GOT_504;
    if (err == HTTP_E_TRUNCATED || err == HTTP_E_EMPTY_REPLY || err == HTTP_E_RESET)
        return SOAK_GOT_CUT;
    return SOAK_GOT_OTHER;
}

/* One request's outcome against what its kind must give. */
static void judge(uint64_t seq, int err, int status, const check *c)
{
    soak_kind k = soak_kind_of(seq);
    soak_outcome got = outcome_of(seq, err, status, c);
    counts.by_kind[k]++;
    counts.outcome[k][got]++;
    bool empty = soak_body_len(seq) == 0; /* half of nothing is all of it */
    bool fine;
    switch (k) {
    case SOAK_STALL: fine = got == SOAK_GOT_504; break;
    case SOAK_CUT:
    case SOAK_RESET: fine = got == SOAK_GOT_502 || got == SOAK_GOT_CUT ||
                            (empty && got == SOAK_GOT_WHOLE); break;
    default: fine = got == SOAK_GOT_WHOLE; break;
    }
    const char *what = NULL;
    if (fine)
        counts.as_expected++;
    else if (err == HTTP_E_TOTAL_TIMEOUT)
        counts.lost++, what = "lost (no answer in time)";
    else if (err == 0 && status == 200)
        counts.corrupted++, what = c->bad ? "corrupted (wrong bytes)" : "corrupted (length)";
    else
        counts.unexpected++, what = "unexpected";
    if (what && counts.shown++ < 10)
        fprintf(stderr, "faultsoak: request %" PRIu64 " (%s): %s: %s, status %d, %" PRIu64
                " of %" PRIu64 " bytes\n", seq, soak_kind_name(k), what,
                err ? http_strerror(err) : "ok", status, c->offset, soak_body_len(seq));
}

static uint64_t next_seq;

static void *client(void *gw_url)
{
    http_client_opts o = {.read_timeout_ms = 20000};
    http_client *cl = http_client_open(&o);
    if (!cl) {
        perror("faultsoak: client");
        counts.unexpected++;
        return NULL;
    }
    while (!stopping) {
        uint64_t seq = next_seq++;
        char url[96];
        snprintf(url, sizeof url, "%s/k/%" PRIu64, (const char *)gw_url, seq);
        check c = {.seq = seq};
        http_request req = {.method = "GET", .url = url, .sink = check_sink, .sink_user = &c,
                            .timeout_ms = 30000};
        http_response *resp = NULL;
        int err = http_send(cl, &req, &resp);
        judge(seq, err, resp ? resp->status : 0, &c);
        http_response_free(resp);
    }
    http_client_close(cl);
    return NULL;
}

/* ---- the run ---- */

static pid_t gateway_pid;

static void *sampler(void *arg)
{
    (void)arg;
    for (int t = 0; t <= cfg.seconds && counts.samples < SOAK_SAMPLES_MAX; t += 5) {
        soak_sample *s = &counts.sample[counts.samples++];
        s->t = t;
        s->rss_kib = soak_rss_kib(gateway_pid);
        s->fds = soak_fds(gateway_pid);
        if (coro_sleep_until(coro_deadline_in(t + 5 <= cfg.seconds ? 5000 : 0)) < 0)
            return NULL;
        if (t + 5 > cfg.seconds)
            break;
    }
    return NULL;
}

static void *upstream_run(void *s)
{
    if (http_server_run(s) < 0)
        perror("faultsoak: upstream");
    return NULL;
}

/* The load, then the wait for the gateway's idle connections. */
static void *run(void *arg)
{
    http_server *up = arg;
    coro_t *up_co = coro_spawn(upstream_run, up, &(coro_opts){.name = "upstream"});
    char gw_url[64];
    counts.fds_before = soak_fds(gateway_pid);
    snprintf(gw_url, sizeof gw_url, "http://127.0.0.1:%d", cfg.gateway_port);
    coro_t **cs = calloc((size_t)cfg.clients, sizeof *cs);
    coro_t *samp = coro_spawn(sampler, NULL, &(coro_opts){.name = "sampler"});
    for (int i = 0; cs && i < cfg.clients; i++)
        cs[i] = coro_spawn(client, gw_url, &(coro_opts){.name = "client"});
    coro_sleep_until(coro_deadline_in((int64_t)cfg.seconds * 1000));
    stopping = true;
    for (int i = 0; cs && i < cfg.clients; i++)
        if (cs[i])
            coro_join(cs[i], NULL);
    free(cs);
    if (samp)
        coro_join(samp, NULL);
    counts.fds_loaded = counts.samples > 1 ? counts.sample[1].fds : -1;
    /* The gateway's client closes an upstream connection idle 5 s. */
    for (int waited = 0; waited < 15; waited++) {
        counts.fds_after = soak_fds(gateway_pid);
        counts.waited_s = waited;
        if (counts.fds_after <= counts.fds_before)
            break;
        coro_sleep_until(coro_deadline_in(1000));
    }
    http_server_stop(up, coro_now());
    coro_join(up_co, NULL);
    return NULL;
}

int main(int argc, char **argv)
{
    int rc = soak_parse_args(argc, argv, &cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    signal(SIGPIPE, SIG_IGN);
    http_server *up = soak_upstream_open();
    if (!up) {
        perror("faultsoak: upstream");
        return 1;
    }
    if ((gateway_pid = soak_gateway_start(&cfg, http_server_port(up))) < 0) {
        http_server_close(up);
        return 1;
    }
    if (!coro_spawn(run, up, &(coro_opts){.name = "run"}) || coro_run() < 0)
        perror("faultsoak");
    kill(gateway_pid, SIGTERM);
    int status = 0;
    waitpid(gateway_pid, &status, 0);
    http_server_close(up);
    soak_report(&cfg, &counts, status);
    bool ok = counts.lost == 0 && counts.corrupted == 0 && counts.unexpected == 0 &&
              counts.fds_after <= counts.fds_before && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0;
    return ok ? 0 : 1;
}
