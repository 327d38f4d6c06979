/* fetch_main.c - the command line of fetch, a small curl on bareawait.
 *
 *     fetch [options] URL...
 *
 * Options are spelled as curl spells them (see usage()).  Short flags
 * combine ("-sL"), and a short option's value may be
 * attached ("-m0.5", "-oout.txt") or the next argument.  Long options take
 * their value as the next argument, as curl's do.  "--" ends the options.
 *
 * Decisions where curl offered a choice:
 *   -o  pairs with URLs in order, as in curl: the 1st -o names the 1st
 *       URL's file, the 2nd the 2nd; URLs without one go to stdout.  More
 *       -o than URLs is a usage error (exit 2); curl only warns.
 *   -s  hides the progress bar only.  Error lines always print: this is
 *       curl's -sS, since a silent failure helps nobody reading a textbook.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ba_config.h"
#include "fetch.h"

#define PARALLEL_DEFAULT 50

/* The parsed command line: fetch's options plus what ends the program
 * before any fetching.  The arrays have room for every argument. */
typedef struct cli {
    fetch_opts o;
    bool help;     /* -h */
    bool version;  /* -V */
    bool only_urls;/* "--" was seen */
} cli;

/* Says what is wrong with the command line; the caller exits 2. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fetch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see fetch --help)\n", stderr);
    va_end(ap);
    return -1;
}

/* ---- values ---- */

/* SECONDS, fractions allowed, into milliseconds (0 stays 0: no limit). */
static int parse_seconds(const char *option, const char *v, int64_t *ms)
{
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (end == v || *end || errno || !(s >= 0 && s <= 1e9))
        return usage_error("%s wants seconds (like 2 or 0.5), not \"%s\"", option, v);
    *ms = (int64_t)(s * 1000 + 0.5);
    if (s > 0 && *ms == 0)
        *ms = 1; /* a tiny limit is still a limit */
    return 0;
}

static int parse_count(const char *option, const char *v, int min, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end || errno || n < min || n > 1000000)
        return usage_error("%s wants a whole number >= %d, not \"%s\"", option, min, v);
    *out = (int)n;
    return 0;
}

/* "Name: value": a name of visible characters, a colon, no CR or LF. */
static bool header_ok(const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h || strpbrk(h, "\r\n"))
        return false;
    for (const char *p = h; p < colon; p++)
        if (*p <= ' ' || *p >= 127)
            return false;
    return true;
}

/* ---- the options ---- */

static int opt_output(cli *c, const char *v) { c->o.outfiles[c->o.n_outfiles++] = v; return 0; }
static int opt_include(cli *c, const char *v) { (void)v; c->o.include_head = true; return 0; }
static int opt_location(cli *c, const char *v) { (void)v; c->o.follow = true; return 0; }
static int opt_fail(cli *c, const char *v) { (void)v; c->o.fail = true; return 0; }
static int opt_silent(cli *c, const char *v) { (void)v; c->o.silent = true; return 0; }
static int opt_verbose(cli *c, const char *v) { (void)v; c->o.verbose = true; return 0; }
static int opt_trace(cli *c, const char *v) { (void)v; c->o.trace = true; return 0; }
static int opt_help(cli *c, const char *v) { (void)v; c->help = true; return 0; }
static int opt_version(cli *c, const char *v) { (void)v; c->version = true; return 0; }

static int opt_head(cli *c, const char *v)
{
    (void)v;
    c->o.head_only = true;
    c->o.include_head = true; /* a HEAD's head is all there is to show */
    return 0;
}

static int opt_max_redirs(cli *c, const char *v)
{
    return parse_count("--max-redirs", v, 0, &c->o.max_redirs);
}

static int opt_max_time(cli *c, const char *v)
{
    return parse_seconds("--max-time", v, &c->o.max_time_ms);
}

static int opt_connect_timeout(cli *c, const char *v)
{
    return parse_seconds("--connect-timeout", v, &c->o.connect_timeout_ms);
}

static int opt_parallel_max(cli *c, const char *v)
{
    return parse_count("--parallel-max", v, 1, &c->o.parallel_max);
}

static int opt_header(cli *c, const char *v)
{
    if (!header_ok(v))
        return usage_error("-H wants \"Name: value\", not \"%s\"", v);
    c->o.headers[c->o.n_headers++] = v;
    return 0;
}

typedef struct option {
    char short_name;        /* 'o', or 0 if there is none */
    const char *long_name;  /* "output" */
    bool takes_value;
    int (*apply)(cli *c, const char *value); /* 0, or -1 after saying why */
} option;

static const option options[] = {
    {'o', "output", true, opt_output},
    {'i', "include", false, opt_include},
    {'I', "head", false, opt_head},
    {'L', "location", false, opt_location},
    {0, "max-redirs", true, opt_max_redirs},
    {'m', "max-time", true, opt_max_time},
    {0, "connect-timeout", true, opt_connect_timeout},
    {'H', "header", true, opt_header},
    {'f', "fail", false, opt_fail},
    {'s', "silent", false, opt_silent},
    {'v', "verbose", false, opt_verbose},
    {0, "parallel-max", true, opt_parallel_max},
    {0, "trace", false, opt_trace},
    {'h', "help", false, opt_help},
    {'V', "version", false, opt_version},
};

static const option *find_option(char short_name, const char *long_name)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        if (short_name && options[i].short_name == short_name)
            return &options[i];
        if (long_name && strcmp(options[i].long_name, long_name) == 0)
            return &options[i];
    }
    return NULL;
}

/* "--max-time 5": the value is the next argument. */
static int parse_long(cli *c, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    const option *opt = find_option(0, arg + 2);
    if (!opt)
        return usage_error("unknown option %s", arg);
    const char *value = NULL;
    if (opt->takes_value) {
        if (*i + 1 >= argc)
            return usage_error("%s needs a value", arg);
        value = argv[++*i];
    }
    return opt->apply(c, value);
}

/* "-sL", "-o FILE", "-oFILE", "-m0.5". */
static int parse_shorts(cli *c, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    for (size_t k = 1; arg[k]; k++) {
        const option *opt = find_option(arg[k], NULL);
        if (!opt)
            return usage_error("unknown option -%c", arg[k]);
        if (!opt->takes_value) {
            if (opt->apply(c, NULL) < 0)
                return -1;
            continue;
        }
        const char *value = arg[k + 1] ? arg + k + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!value)
            return usage_error("-%c needs a value", arg[k]);
        return opt->apply(c, value);
    }
    return 0;
}

/* Fills c from argv.  0, or -1 after a usage error was printed. */
static int parse(cli *c, int argc, char **argv)
{
    size_t room = (size_t)argc;
    c->o.urls = calloc(room, sizeof *c->o.urls);
    c->o.outfiles = calloc(room, sizeof *c->o.outfiles);
    c->o.headers = calloc(room, sizeof *c->o.headers);
    if (!c->o.urls || !c->o.outfiles || !c->o.headers)
        return usage_error("out of memory");
    c->o.max_redirs = -1;
    c->o.parallel_max = PARALLEL_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc = 0;
        if (c->only_urls || arg[0] != '-' || arg[1] == '\0')
            c->o.urls[c->o.n_urls++] = arg;
        else if (strcmp(arg, "--") == 0)
            c->only_urls = true;
        else if (arg[1] == '-')
            rc = parse_long(c, argc, argv, &i);
        else
            rc = parse_shorts(c, argc, argv, &i);
        if (rc < 0)
            return -1;
    }
    size_t urls = c->o.n_urls ? c->o.n_urls : 1; /* no URL: the demo's one */
    if (c->o.n_outfiles > urls)
        return usage_error("%zu -o options for %zu URL%s: one -o per URL at most",
                           c->o.n_outfiles, urls, urls == 1 ? "" : "s");
    return 0;
}

static void cli_free(cli *c)
{
    free(c->o.urls);
    free(c->o.outfiles);
    free(c->o.headers);
}

/* ---- -h, -V ---- */

static void usage(void)
{
    fputs(
"Usage: fetch [options] URL...\n"
"Fetches each http:// URL and writes its body to stdout, in URL order.\n"
"Several URLs are fetched at once, each by its own coroutine, through one\n"
"client that keeps connections alive.  With no URL, fetch serves a page from\n"
"a coroutine in this same process and fetches it with --trace: the demo.\n"
"\n"
"  -o, --output FILE        write the body to FILE; the 1st -o is for the 1st\n"
"                           URL, the 2nd for the 2nd...; the other URLs go to\n"
"                           stdout (as does -o -).  More -o than URLs: exit 2\n"
"  -i, --include            write the status line and headers first\n"
"  -I, --head               send HEAD; write the head\n"
"  -L, --location           follow redirects\n"
"      --max-redirs N       at most N redirects with -L (default: the client's, 20)\n"
"  -m, --max-time SECS      give up on a URL after SECS (fractions allowed)\n"
"      --connect-timeout SECS  give up connecting after SECS\n"
"  -H, --header 'Name: value'  send this header too (repeatable)\n"
"  -f, --fail               exit 22 on a status >= 400, writing nothing\n"
"  -s, --silent             no progress bar; error lines still print (curl -sS)\n"
"  -v, --verbose            the request (>) and response (<) heads on stderr\n"
"      --parallel-max N     at most N requests at once (default 50)\n"
"      --trace              the seed's seven steps and the runtime's events on\n"
"                           stderr, as they happen (not curl's --trace FILE)\n"
"  -h, --help               this help\n"
"  -V, --version            the version\n"
"\n"
"Exit codes are curl's: 0 ok, 1 unsupported protocol (https: no TLS here),\n"
"2 bad usage, 3 malformed URL, 6 host not resolved, 7 could not connect,\n"
"8 malformed or over-limit response, 18 body shorter than announced, 22 HTTP\n"
"error with -f, 23 write error, 28 timeout, 47 too many redirects, 52 empty\n"
"reply, 56 connection reset.  With several URLs: the first failure's code,\n"
"in URL order.  Every failure prints one line on stderr.\n",
        stdout);
}

static void version(void)
{
    printf("fetch %s (bareawait, %s context switch)\n"
           "Protocols: http (https is out of scope: no TLS)\n"
           "Features: keep-alive, parallel, --trace\n",
           BA_VERSION, BA_SWITCH_NAME);
}

/* ---- main ---- */

/* Colour only for a person at a terminal who has not said NO_COLOR. */
static bool want_colour(void)
{
    const char *no = getenv("NO_COLOR");
    return isatty(STDERR_FILENO) && !(no && no[0]);
}

/* Fetches c's URLs (or runs the demo); the exit code. */
static int run(cli *c)
{
    if (c->o.n_urls == 0)
        c->o.trace = true; /* the demo is the trace */
    if (c->o.trace)
        fetch_trace_begin(want_colour());
    int code = FETCH_EXIT_OK;
    if (c->o.n_urls == 0) {
        code = fetch_demo(&c->o);
    } else if (!fetch_spawn(&c->o, false, &code)) {
        perror("fetch");
        code = FETCH_EXIT_NOMEM;
    } else if (coro_run() < 0) {
        perror("fetch: coroutines deadlocked");
        code = FETCH_EXIT_ABORTED;
    }
    if (c->o.trace)
        fetch_trace_end();
    return code;
}

int main(int argc, char **argv)
{
    /* A closed pipe on stdout is a write error (EPIPE, exit 23), not a
     * silent death by signal. */
    signal(SIGPIPE, SIG_IGN);
    output_guard_stdio();
    cli c = {0};
    int code = FETCH_EXIT_OK;
    if (parse(&c, argc, argv) < 0)
        code = FETCH_EXIT_USAGE;
    else if (c.help)
        usage();
    else if (c.version)
        version();
    else
        code = run(&c);
    cli_free(&c);
    return code;
}
