/* fetch_main.c - main() of fetch, a small curl on bareawait.
 *
 *     fetch [options] URL...
 *
 * The command line becomes a fetch_opts in fetch_args.c and fetch_cli.c
 * (fetch_cli.h); this file prints -h and -V, and runs the rest: the URLs
 * (fetch_run.c), or with no URL at all the demo (fetch_demo.c).
 *
 * Decisions where curl offered a choice:
 *   -o  pairs with URLs in order, as in curl: the 1st -o names the 1st
 *       URL's file, the 2nd the 2nd; URLs without one go to stdout.  More
 *       -o than URLs is a usage error (exit 2); curl only warns.
 *   -s  hides the progress bar only.  Error lines always print: this is
 *       curl's -sS, since a silent failure helps nobody reading a textbook.
 *   no URL: the demo, but only for a bare `fetch` or one with only -v, -s,
 *       -S, --trace, --timeline, --trace-json; any other option without a URL is curl's "no URL
 *       specified" (exit 2), so that `fetch -f -o out $UNSET` fails.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ba_config.h"
#include "fetch_cli.h"

/* ---- -h, -V ---- */

static void usage(void)
{
    fputs(
"Usage: fetch [options] URL...\n"
"Fetches each http:// URL and writes its body to stdout, in URL order.\n"
"Several URLs are fetched at once, each by its own coroutine, through one\n"
"client that keeps connections alive.  With no URL (and no option but -v,\n"
"-s, -S, --trace, --timeline, --trace-json), fetch serves a page from a coroutine in this same process\n"
"and fetches it with --trace: the demo.  Options mean what they mean to curl.\n"
"\n"
"URLs: a URL without scheme:// is http://.  Globs as curl's: [1-3] [01-10]\n"
"[a-c] [1-9:2] {x,y} make several URLs (every combination); -g turns them off.\n"
"\n"
"Output:\n"
"  -o, --output FILE        write the body to FILE; the 1st -o (or -O) is for\n"
"                           the 1st URL, the 2nd for the 2nd...; the other URLs\n"
"                           go to stdout (as does -o -).  \"#1\", \"#2\" in FILE\n"
"                           are the 1st, 2nd glob's text.  More than URLs: exit 2\n"
"  -O, --remote-name        write to the URL's file name, in this directory\n"
"  -i, --include            write the status line and headers first\n"
"  -w, --write-out FORMAT   after each URL, FORMAT (or @FILE) with %{http_code}\n"
"                           %{url_effective} %{size_download} %{size_header}\n"
"                           %{num_redirects} %{time_namelookup} %{time_connect}\n"
"                           %{time_starttransfer} %{time_total} %{exitcode}\n"
"                           %{errormsg} %{content_type} %{method}\n"
"                           %{redirect_url} %{filename_effective} %{remote_ip}\n"
"                           %{remote_port} %{http_version} %{scheme}\n"
"                           %{size_request} %{size_upload} %{urlnum} %{url}\n"
"                           %{num_connects} %{num_headers} %{time_pretransfer}\n"
"                           %{speed_download} %{referer} (and curl's TLS ones:\n"
"                           0) %header{NAME} %{stdout} %{stderr},\n"
"                           %%, \\n \\r \\t (a \\ before anything else stays)\n"
"  -f, --fail               exit 22 on a status >= 400, writing nothing\n"
"      --fail-with-body     exit 22 on a status >= 400, the body written\n"
"  -s, --silent             no progress bar; error lines still print (curl -sS)\n"
"  -S, --show-error         accepted: error lines always print\n"
"  -v, --verbose            the request (>) and response (<) heads on stderr\n"
"      --trace              the seed's seven steps and the runtime's events on\n"
"                           stderr, as they happen (not curl's --trace FILE)\n"
"      --timeline FILE      an SVG picture of the run: a lane per coroutine\n"
"                           and one for the thread in epoll_wait\n"
"      --trace-json FILE    the same events as Chrome Trace Event JSON (Perfetto,\n"
"                           chrome://tracing); either FILE unwritable: exit 23\n"
"The request:\n"
"  -X, --request METHOD     send METHOD (default GET; HEAD with -I, POST with\n"
"                           -d, PUT with -T)\n"
"  -I, --head               send HEAD; write the head\n"
"  -H, --header 'Name: value'  send this header too (repeatable); 'Name:'\n"
"                           drops a default header, 'Name;' sends it empty\n"
"  -A, --user-agent TEXT    User-Agent: TEXT\n"
"  -e, --referer URL        Referer: URL (curl's \"URL;auto\" is refused: exit 2)\n"
"  -u, --user USER:PASS     Basic authentication (no password prompt: exit 2)\n"
"  -d, --data DATA          POST DATA (repeatable, joined with &), as\n"
"                           application/x-www-form-urlencoded unless -H says;\n"
"                           @FILE reads FILE (@- stdin) without its CR and LF\n"
"      --data-binary DATA   as -d, but @FILE is sent as it is\n"
"      --data-raw DATA      as -d, but @ is just a character\n"
"  -T, --upload-file FILE   PUT FILE (- is stdin, then one URL only); a URL\n"
"                           ending in / gets FILE's name; -L sends a regular\n"
"                           FILE again where a redirect wants it\n"
"  -r, --range RANGE        Range: bytes=RANGE (0-99, 100-, -50); the answer\n"
"                           is written as it comes (206, or a whole 200)\n"
"      --url URL            one more URL\n"
"Connections:\n"
"  -L, --location           follow redirects\n"
"      --max-redirs N       at most N redirects with -L (default 50; -1: no limit)\n"
"  -m, --max-time SECS      give up on a URL after SECS (fractions allowed)\n"
"      --connect-timeout SECS  give up connecting after SECS\n"
"      --retry N            try a transient failure again, up to N times\n"
"  -x, --proxy [http://]HOST:PORT  through this plain-HTTP proxy (\"\": none)\n"
"      --noproxy HOSTS      comma-separated hosts reached directly (* = all)\n"
"  -Z, --parallel           accepted: URLs are always fetched at once\n"
"      --parallel-max N     at most N requests at once (default 50)\n"
"  -g, --globoff            [ ] { } in URLs are plain characters\n"
"  -h, --help               this help\n"
"  -V, --version            the version\n"
"\n"
"Environment: http_proxy (lowercase only, as curl: HTTP_PROXY is ignored on\n"
"purpose, since a CGI program's HTTP_PROXY can come from a request's Proxy:\n"
"header -- httpoxy), else all_proxy or ALL_PROXY; no_proxy or NO_PROXY; -x\n"
"and --noproxy win.\n"
"\n"
"Exit codes are curl's: 0 ok, 1 unsupported protocol (https: no TLS here),\n"
"2 bad usage, 3 malformed URL or glob, 5 bad or unresolved proxy, 6 host not\n"
"resolved, 7 could not connect, 8 malformed or over-limit response, 18 body\n"
"shorter than announced, 22 HTTP error with -f, 23 write error, 26 a local\n"
"file could not be read, 27 out of memory, 28 timeout, 47 too many redirects,\n"
"52 empty reply, 56 connection reset, 61 a Transfer-Encoding fetch cannot\n"
"decode, 65 a redirect wants a body that was streamed from a pipe.\n"
"With several URLs: the first failure's code, in URL order (curl 7.88\n"
"gives the last one's: a script must not miss a failure).  Every failure\n"
"prints one line on stderr.  See fetch(1).\n",
        stdout);
}

static void version(void)
{
    printf("fetch %s (bareawait, %s context switch)\n"
           "Protocols: http (https is out of scope: no TLS)\n"
           "Features: keep-alive, parallel, globbing, --trace, --timeline, --trace-json\n",
           BA_VERSION, BA_SWITCH_NAME);
}

/* ---- main ---- */

/* Colour only for a person at a terminal who has not said NO_COLOR. */
static bool want_colour(void)
{
    const char *no = getenv("NO_COLOR");
    return isatty(STDERR_FILENO) && !(no && no[0]);
}

/* Fetches o's URLs (or runs the demo); the exit code. */
static int run(fetch_opts *o)
{
    if (o->n_urls == 0)
        o->trace = true; /* the demo is the trace */
    fetch_trace_files tf;
    int code = fetch_trace_files_open(o, &tf);
    if (code != FETCH_EXIT_OK)
        return code;
    bool recording = o->trace || tf.timeline || tf.json;
    if (recording)
        fetch_trace_begin(o->trace, want_colour());
    if (o->n_urls == 0) {
        code = fetch_demo(o);
    } else if (!fetch_spawn(o, false, &code)) {
        perror("fetch");
        code = FETCH_EXIT_NOMEM;
        coro_run(); /* frees the runtime the failed spawn may have started */
    } else if (coro_run() < 0) {
        perror("fetch: coroutines deadlocked");
        code = FETCH_EXIT_ABORTED;
    }
    if (recording) {
        fetch_trace_end();
        int wrote = fetch_trace_files_write(&tf);
        if (code == FETCH_EXIT_OK)
            code = wrote;
    }
    return code;
}

int main(int argc, char **argv)
{
    /* A closed pipe on stdout is a write error (EPIPE, exit 23), not a
     * silent death by signal. */
    signal(SIGPIPE, SIG_IGN);
    output_guard_stdio();
    fetch_cli c = {0};
    int code = fetch_args_parse(&c, argc, argv);
    if (code == 0 && c.help)
        usage();
    else if (code == 0 && c.version)
        version();
    else if (code == 0)
        code = run(&c.o);
    fetch_cli_free(&c);
    return code;
}
