/* fetch_cli.h - the command line of fetch: argv -> fetch_opts.
 *
 *   fetch_args.c     the option table, each option's value
 *   fetch_cli.c      after the options: URLs (globs, a missing scheme),
 *                    -o/-O per URL, the header list, the proxy, -d's body
 *   fetch_glob.c     curl's URL globs: [1-3] [01-10] [a-c] [1-9:2] {x,y}
 *
 * Internal to the fetch program; nothing here is a library API.
 */
#ifndef BAREAWAIT_FETCH_CLI_H
#define BAREAWAIT_FETCH_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "fetch.h"

/* A local file named by -d @FILE, -T or -w @FILE that cannot be read is
 * FETCH_EXIT_READ (curl's 26, in fetch.h). */

/* fetch_opts.max_redirs for --max-redirs -1: no limit, as curl's -1. */
#define FETCH_REDIRS_UNLIMITED INT_MAX
#define FETCH_REDIRS_DEFAULT 50 /* curl's --max-redirs when none is given */

/* The parsed command line: fetch's options plus what ends the program
 * before any fetching.  The arrays have room for every argument. */
typedef struct fetch_cli {
    fetch_opts o;
    bool help;            /* -h */
    bool version;         /* -V */
    bool only_urls;       /* "--" was seen */
    bool globoff;         /* -g: [ ] { } are plain characters */
    bool transfer_option; /* an option that only means something with a URL
                             was given (not -v, -s, -S, --trace, -h, -V):
                             without a URL, that is "no URL specified" */
    const char **args;    /* the URL arguments (and --url), before globbing */
    size_t n_args;
    const char **names;   /* -o FILE / -O (FETCH_REMOTE_NAME), k-th for the
                             k-th URL argument */
    size_t n_names;
    char *data;           /* -d's pieces joined with '&' (may hold NULs) */
    size_t data_len;
    size_t data_cap;
    size_t url_cap;       /* room in o.urls and o.outfiles */
    char **owned;         /* every string allocated for o: freed at the end */
    size_t n_owned;
    size_t owned_cap;
} fetch_cli;

/* Says what is wrong with the command line on stderr ("fetch: ... (see
 * fetch --help)"); returns FETCH_EXIT_USAGE. */
int fetch_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fills c from argv: the options, then fetch_cli_finish.  Returns 0, or
 * the exit code after printing why (2 bad usage, 3 bad glob, 26 a file
 * that cannot be read, 27 out of memory). */
int fetch_args_parse(fetch_cli *c, int argc, char **argv);

/* After the options: the URLs globbed and given a scheme, -o/-O names
 * paired with them, the header list, proxy settings from the environment.
 * Returns 0 or an exit code, as fetch_args_parse. */
int fetch_cli_finish(fetch_cli *c);

/* Says "fetch: out of memory"; returns FETCH_EXIT_NOMEM. */
int fetch_no_memory(void);

/* Keeps s to be freed by fetch_cli_free; returns s, or NULL (s freed) if
 * there is no memory to remember it. */
char *fetch_cli_keep(fetch_cli *c, char *s);

/* Reads all of FILE ("-" = stdin) into a new buffer with a NUL after it;
 * its length in *len.  NULL/errno on failure. */
char *fetch_read_file(const char *path, size_t *len);

/* Frees what c allocated. */
void fetch_cli_free(fetch_cli *c);

/* ---- fetch_glob.c ---- */

/* The most URLs one argument may expand to (a typo such as [1-1000000000]
 * must not allocate for a billion). */
#define FETCH_GLOB_MAX_URLS 100000
#define FETCH_GLOB_MAX_URLS_TEXT "100000"

typedef struct fetch_glob fetch_glob; /* opaque: a parsed pattern */

/* Where and why a pattern is bad: pos is a 0-based offset into it. */
typedef struct fetch_glob_error {
    size_t pos;
    const char *why;  /* "bad range", "unmatched brace", ... (static) */
} fetch_glob_error;

/* Parses url's globs.  0 and *out (free with fetch_glob_free), or -1 with
 * *err filled ("out of memory" is one of the reasons). */
int fetch_glob_parse(const char *url, fetch_glob **out, fetch_glob_error *err);
void fetch_glob_free(fetch_glob *g);

/* How many URLs the pattern makes (1 without globs): at most
 * FETCH_GLOB_MAX_URLS. */
size_t fetch_glob_count(const fetch_glob *g);

/* The k-th URL (0 <= k < count), in curl's order, as a new string; NULL if
 * out of memory. */
char *fetch_glob_url(const fetch_glob *g, size_t k);

/* name with "#1", "#2"... replaced by the k-th URL's text for the 1st,
 * 2nd... glob (curl's -o rule); "#N" without an N-th glob stays as it
 * is.  A new string, or NULL if out of memory. */
char *fetch_glob_name(const fetch_glob *g, size_t k, const char *name);

#endif
