/* serve_args.c - bench/serve's command line.  -t and --cpus are read by
 * threads.c, the same way as httpload's, with the same messages.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "serve_args.h"

void serve_usage(FILE *out)
{
    fprintf(out,
        "usage: serve [-t THREADS] [-p PORT] [-b BYTES] [--port-file F] [--cpus LIST]\n"
        "  -t, --threads N      threads, each with its own runtime and its own listener on\n"
        "                       the port (SO_REUSEPORT; default 1, at most %d)\n"
        "  -p, --port PORT      listen on 127.0.0.1:PORT (default 8080; 0 = any free port)\n"
        "  -b, --bytes BYTES    body size of every answer (default 13: \"Hello, World!\")\n"
        "      --port-file F    write the port to F once listening\n"
        "      --cpus LIST      pin thread i to the i-th CPU of LIST (0,1 or 0-3)\n"
        "Stops cleanly on SIGINT or SIGTERM.\n",
        THREADS_MAX);
}

int serve_parse_args(int argc, char **argv, serve_options *o)
{
    static const struct option longs[] = {
        {"threads", required_argument, NULL, 't'},
        {"port", required_argument, NULL, 'p'},
        {"bytes", required_argument, NULL, 'b'},
        {"port-file", required_argument, NULL, 'f'},
        {"cpus", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *cpus = NULL;
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "t:p:b:h", longs, NULL)) != -1) {
        switch (ch) {
        case 't':
            if ((o->threads = threads_parse_count("serve", optarg)) < 0)
                return -2;
            break;
        case 'p':
            o->port = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || o->port < 0 || o->port > 65535)
                return -1;
            break;
        case 'b':
            errno = 0;
            o->bytes = strtoull(optarg, &end, 10);
            if (errno || *end || end == optarg || optarg[0] == '-' || o->bytes > ((size_t)1 << 30))
                return -1;
            break;
        case 'f': o->port_file = optarg; break;
        case 'C': cpus = optarg; break;
        case 'h': serve_usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc)
        return -1;
    if (!cpus)
        return 0;
    if (threads_cpus_option("serve", cpus, o->threads, o->cpus) < 0)
        return -2;
    o->pinned = true;
    return 0;
}

