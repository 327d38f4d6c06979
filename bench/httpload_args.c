/* httpload_args.c - httpload's command line.
 *
 * A flag that does not parse is a usage error (the caller prints the
 * usage); one that parses but cannot be honoured (-c below -t, a CPU the
 * process may not use) gets a sentence of its own, like wrk's "number of
 * connections must be >= threads".
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "httpload_args.h"

void args_usage(FILE *out)
{
    fprintf(out,
        "usage: httpload [-t THREADS] [-c CONNECTIONS] [-d SECONDS] [-n REQUESTS] [--latency]\n"
        "                [--json] [--cpus LIST] URL\n"
        "  -t, --threads N      threads, each with its own runtime and client; the\n"
        "                       connections are spread over them (default 1, at most %d)\n"
        "  -c, --connections N  connections kept open, one coroutine each (default 10)\n"
        "  -d, --duration T     measure for T seconds: 10, 2.5, 500ms, 1m (default 10)\n"
        "  -n, --requests N     stop after N requests (then no -d limit unless given)\n"
        "  -w, --warmup T       warm-up before measuring (default 10%% of -d, at most 0.5s;\n"
        "                       with -n the first 5%% of the requests)\n"
        "      --cpus LIST      pin thread i to the i-th CPU of LIST (0,1 or 0-3)\n"
        "      --timeout T      connect and read timeout (default 2s)\n"
        "      --latency        print the latency distribution\n"
        "      --json           print one JSON object instead\n"
        "  URL is http://host[:port]/path (loopback servers only, please)\n",
        THREADS_MAX);
}

/* "10", "2.5", "10s", "500ms", "1m" -> seconds.  0, or -1 if malformed. */
static int parse_time(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        v /= 1000;
    else if (strcmp(end, "m") == 0)
        v *= 60;
    else if (*end && strcmp(end, "s") != 0)
        return -1;
    *out = v;
    return 0;
}

/* A positive whole number.  0, or -1 if malformed. */
static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

/* Decides the warm-up: a time with -d, a number of requests with -n. */
static void plan_warmup(options *o)
{
    if (o->requests) {
        o->warmup_requests = o->requests / 20; /* 0 for a tiny -n: none */
        o->warmup_s = 0;
    } else if (o->warmup_s < 0) {
        o->warmup_s = o->seconds / 10 < 0.5 ? o->seconds / 10 : 0.5;
    }
}

/* What is left to check once every flag has parsed: -2 after saying what. */
static int check(options *o, const char *cpus)
{
    if (o->connections < o->threads) {
        fprintf(stderr, "httpload: number of connections (%d) must be >= threads (%d)\n",
                o->connections, o->threads);
        return -2;
    }
    if (!cpus)
        return 0;
    if (threads_cpus_option("httpload", cpus, o->threads, o->cpus) < 0)
        return -2;
    o->pinned = true;
    return 0;
}

int args_parse(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"threads", required_argument, NULL, 't'},
        {"connections", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, 'd'},
        {"requests", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},
        {"cpus", required_argument, NULL, 'C'},
        {"timeout", required_argument, NULL, 'T'},
        {"latency", no_argument, NULL, 'L'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    *o = (options){.connections = 10, .threads = 1, .seconds = -1, .warmup_s = -1,
                   .timeout_s = 2};
    const char *cpus = NULL;
    uint64_t n;
    int ch;
    while ((ch = getopt_long(argc, argv, "t:c:d:n:w:h", longs, NULL)) != -1) {
        switch (ch) {
        case 't':
            if ((o->threads = threads_parse_count("httpload", optarg)) < 0)
                return -2;
            break;
        case 'c':
            if (parse_count(optarg, &n) < 0 || n > 1000000)
                return -1;
            o->connections = (int)n;
            break;
        case 'd': if (parse_time(optarg, &o->seconds) < 0 || o->seconds == 0) return -1; break;
        case 'n': if (parse_count(optarg, &o->requests) < 0) return -1; break;
        case 'w': if (parse_time(optarg, &o->warmup_s) < 0) return -1; break;
        case 'C': cpus = optarg; break;
        case 'T': if (parse_time(optarg, &o->timeout_s) < 0) return -1; break;
        case 'L': o->latency = true; break;
        case 'J': o->json = true; break;
        case 'h': args_usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc - 1)
        return -1;
    o->url = argv[optind];
    if (o->seconds < 0)
        o->seconds = o->requests ? 0 : 10;
    plan_warmup(o);
    return check(o, cpus);
}
