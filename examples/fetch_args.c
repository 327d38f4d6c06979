/* fetch_args.c - the options of fetch, as curl spells them.
 *
 * Short flags combine ("-sSfL"), and a value-taking one may come last
 * ("-sSo FILE", "-Lo-"); a short option's value may be attached ("-m0.5",
 * "-oout.txt") or the next argument.  Long options take their value as the
 * next argument, as curl's do.  "--" ends the options.  Every option means
 * what it means to curl; where fetch differs, the option says so here and
 * in fetch.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch_cli.h"

#define PARALLEL_DEFAULT 50
#define COUNT_MAX 1000000

const char FETCH_REMOTE_NAME[] = "<the URL's file name>";

int fetch_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fetch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see fetch --help)\n", stderr);
    va_end(ap);
    return FETCH_EXIT_USAGE;
}

/* A local file that cannot be read: curl's exit 26. */
static int read_error(const char *option, const char *path)
{
    fprintf(stderr, "fetch: %s: cannot read %s: %s\n", option, path, strerror(errno));
    return FETCH_EXIT_READ;
}

/* ---- values ---- */

/* SECONDS, fractions allowed, into milliseconds (0 stays 0: no limit). */
static int parse_seconds(const char *option, const char *v, int64_t *ms)
{
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (end == v || *end || errno || !(s >= 0 && s <= 1e9))
        return fetch_usage_error("%s wants seconds (like 2 or 0.5), not \"%s\"", option, v);
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
    if (end == v || *end || errno || n < min || n > COUNT_MAX)
        return fetch_usage_error("%s wants a whole number >= %d, not \"%s\"", option, min, v);
    *out = (int)n;
    return 0;
}

/* An HTTP token (a method, a header name): visible ASCII but separators. */
static bool is_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= ' ' || ch >= 127 || strchr("\"(),/:;<=>?@[\\]{}", ch))
            return false;
    }
    return true;
}

/* curl's three forms: "Name: value" (sent), "Name:" (a default removed),
 * "Name;" (sent with an empty value); never a CR or LF. */
static bool header_ok(const char *h)
{
    size_t name = strcspn(h, ":;");
    if (!h[name] || !is_token(h, name) || strpbrk(h, "\r\n"))
        return false;
    if (h[name] == ';')
        return h[name + 1 + strspn(h + name + 1, " \t")] == '\0';
    return true;
}

/* ---- the options ---- */

/* Each returns 0, or an exit code after saying why. */
static int opt_output(fetch_cli *c, const char *v) { c->names[c->n_names++] = v; return 0; }
static int opt_include(fetch_cli *c, const char *v) { (void)v; c->o.include_head = true; return 0; }
static int opt_location(fetch_cli *c, const char *v) { (void)v; c->o.follow = true; return 0; }
static int opt_fail(fetch_cli *c, const char *v) { (void)v; c->o.fail = true; return 0; }
static int opt_silent(fetch_cli *c, const char *v) { (void)v; c->o.silent = true; return 0; }
static int opt_verbose(fetch_cli *c, const char *v) { (void)v; c->o.verbose = true; return 0; }
static int opt_trace(fetch_cli *c, const char *v) { (void)v; c->o.trace = true; return 0; }
static int opt_timeline(fetch_cli *c, const char *v) { c->o.timeline = v; return 0; }
static int opt_trace_json(fetch_cli *c, const char *v) { c->o.trace_json = v; return 0; }
static int opt_help(fetch_cli *c, const char *v) { (void)v; c->help = true; return 0; }
static int opt_version(fetch_cli *c, const char *v) { (void)v; c->version = true; return 0; }
static int opt_globoff(fetch_cli *c, const char *v) { (void)v; c->globoff = true; return 0; }
static int opt_user_agent(fetch_cli *c, const char *v) { c->o.user_agent = v; return 0; }
/* -e URL.  curl's "URL;auto" (a new Referer on each redirect) is refused:
 * the client sends the same header lines on every hop. */
static int opt_referer(fetch_cli *c, const char *v)
{
    const char *suffix = ";auto";
    size_t len = strlen(v), n = strlen(suffix);
    if (len >= n && strcmp(v + len - n, suffix) == 0)
        return fetch_usage_error("-e \"%s\": fetch has no ';auto' (a Referer per redirect); "
                                 "give the URL alone", v);
    c->o.referer = v;
    return 0;
}
static int opt_noproxy(fetch_cli *c, const char *v) { c->o.no_proxy = v; return 0; }
static int opt_proxy(fetch_cli *c, const char *v) { c->o.proxy = v; return 0; }
static int opt_url(fetch_cli *c, const char *v) { c->args[c->n_args++] = v; return 0; }

/* -S and -Z: what they ask for is always so (errors always print; URLs
 * are always fetched at once, --parallel-max of them). */
static int opt_always(fetch_cli *c, const char *v) { (void)c, (void)v; return 0; }

static int opt_remote_name(fetch_cli *c, const char *v)
{
    (void)v;
    c->names[c->n_names++] = FETCH_REMOTE_NAME;
    return 0;
}

static int opt_head(fetch_cli *c, const char *v)
{
    (void)v;
    c->o.head_only = true;
    c->o.include_head = true; /* a HEAD's head is all there is to show */
    return 0;
}

static int opt_fail_with_body(fetch_cli *c, const char *v)
{
    (void)v;
    c->o.fail_with_body = true;
    return 0;
}

/* --max-redirs -1 is curl's "no limit". */
static int opt_max_redirs(fetch_cli *c, const char *v)
{
    int rc = parse_count("--max-redirs", v, -1, &c->o.max_redirs);
    if (rc == 0 && c->o.max_redirs == -1)
        c->o.max_redirs = FETCH_REDIRS_UNLIMITED;
    return rc;
}

static int opt_max_time(fetch_cli *c, const char *v)
{
    return parse_seconds("--max-time", v, &c->o.max_time_ms);
}

static int opt_connect_timeout(fetch_cli *c, const char *v)
{
    return parse_seconds("--connect-timeout", v, &c->o.connect_timeout_ms);
}

static int opt_parallel_max(fetch_cli *c, const char *v)
{
    return parse_count("--parallel-max", v, 1, &c->o.parallel_max);
}

static int opt_retry(fetch_cli *c, const char *v)
{
    return parse_count("--retry", v, 0, &c->o.retry);
}

/* Does header line h name `name` (any of the three forms)? */
static bool header_names(const char *h, const char *name)
{
    size_t len = strlen(name);
    return strncasecmp(h, name, len) == 0 && (h[len] == ':' || h[len] == ';');
}

static int opt_header(fetch_cli *c, const char *v)
{
    if (!header_ok(v))
        return fetch_usage_error("-H wants \"Name: value\" (or \"Name:\" to drop a default, "
                                 "\"Name;\" for an empty value), not \"%s\"", v);
    /* The client refuses them too, but only once connected, and vaguely. */
    static const char *const framing[] = {"Content-Length", "Transfer-Encoding"};
    for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++)
        if (header_names(v, framing[i]))
            return fetch_usage_error("-H %s: fetch frames the request body itself (from -d "
                                     "or -T), so it cannot be set", framing[i]);
    c->o.headers[c->o.n_headers++] = v;
    return 0;
}

/* -r 0-99 (or "100-", "-50", "0-9,20-29"): curl's byte range, sent as
 * "Range: bytes=...".  The answer is written as it comes (a 206 or, from
 * a server that ignores Range, the whole 200), as curl does. */
static int opt_range(fetch_cli *c, const char *v)
{
    if (!*v || strspn(v, "0123456789-,") != strlen(v) || !strchr(v, '-'))
        return fetch_usage_error("-r wants a byte range such as 0-99, 100- or -50, not \"%s\"", v);
    size_t len = strlen("Range: bytes=") + strlen(v) + 1;
    char *line = fetch_cli_keep(c, malloc(len));
    if (!line)
        return fetch_no_memory();
    snprintf(line, len, "Range: bytes=%s", v);
    c->o.headers[c->o.n_headers++] = line;
    return 0;
}

static int opt_request(fetch_cli *c, const char *v)
{
    if (!is_token(v, strlen(v)))
        return fetch_usage_error("-X wants a method name (a token such as PUT), not \"%s\"", v);
    c->o.method = v;
    return 0;
}

/* curl prompts for the password of "-u user"; fetch asks for it up front. */
static int opt_user(fetch_cli *c, const char *v)
{
    if (!strchr(v, ':'))
        return fetch_usage_error("-u wants user:password: fetch does not prompt for a "
                                 "password (curl does)");
    c->o.userpwd = v;
    return 0;
}

/* Appends one -d piece to the body, '&' between pieces as curl joins them. */
static int add_data(fetch_cli *c, const char *piece, size_t len, bool strip_newlines)
{
    size_t need = c->data_len + 1 + len + 1;
    if (need > c->data_cap) {
        size_t cap = need * 2;
        char *d = realloc(c->data, cap);
        if (!d)
            return fetch_no_memory();
        c->data = d;
        c->data_cap = cap;
    }
    if (c->o.has_data)
        c->data[c->data_len++] = '&';
    for (size_t i = 0; i < len; i++)
        if (!strip_newlines || (piece[i] != '\r' && piece[i] != '\n'))
            c->data[c->data_len++] = piece[i];
    c->data[c->data_len] = '\0';
    c->o.has_data = true;
    return 0;
}

/* -d and --data-binary: "@FILE" ("@-": stdin) is FILE's bytes; -d also
 * drops every CR and LF from them, as curl does. */
static int data_value(fetch_cli *c, const char *option, const char *v, bool strip)
{
    if (v[0] != '@')
        return add_data(c, v, strlen(v), false);
    size_t len;
    char *bytes = fetch_read_file(v + 1, &len);
    if (!bytes)
        return read_error(option, v + 1);
    int rc = add_data(c, bytes, len, strip);
    free(bytes);
    return rc;
}

static int opt_data(fetch_cli *c, const char *v) { return data_value(c, "-d", v, true); }
static int opt_data_binary(fetch_cli *c, const char *v) { return data_value(c, "--data-binary", v, false); }
static int opt_data_raw(fetch_cli *c, const char *v) { return add_data(c, v, strlen(v), false); }

/* -T FILE: checked now, so that a typo is one clear line before any
 * connection; fetch_request.c opens it again for each URL. */
static int opt_upload_file(fetch_cli *c, const char *v)
{
    if (strcmp(v, "-") != 0) {
        int fd = open(v, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
            return read_error("-T", v);
        int rc = fstat(fd, &st);
        close(fd);
        if (rc == 0 && S_ISDIR(st.st_mode))
            errno = EISDIR;
        if (rc < 0 || S_ISDIR(st.st_mode))
            return read_error("-T", v);
    }
    c->o.upload_file = v;
    return 0;
}

/* -w FORMAT, or -w @FILE ("@-": stdin) to read the format from a file. */
static int opt_write_out(fetch_cli *c, const char *v)
{
    if (v[0] != '@') {
        c->o.write_out = v;
        return 0;
    }
    size_t len;
    char *format = fetch_read_file(v + 1, &len);
    if (!format)
        return read_error("-w", v + 1);
    /* As curl: the file's line ends are dropped (a "\n" in it still
     * writes one), so a format file's last newline is not output. */
    size_t kept = 0;
    for (size_t i = 0; i < len; i++)
        if (format[i] != '\r' && format[i] != '\n')
            format[kept++] = format[i];
    format[kept] = '\0';
    if (!fetch_cli_keep(c, format))
        return fetch_no_memory();
    c->o.write_out = format;
    return 0;
}

typedef struct option {
    char short_name;        /* 'o', or 0 if there is none */
    const char *long_name;  /* "output" */
    bool takes_value;
    bool shows;             /* about showing what happens: allowed without a
                               URL (the demo), -h, -V */
    int (*apply)(fetch_cli *c, const char *value);
} option;

static const option options[] = {
    {'o', "output", true, false, opt_output},
    {'O', "remote-name", false, false, opt_remote_name},
    {'i', "include", false, false, opt_include},
    {'I', "head", false, false, opt_head},
    {'L', "location", false, false, opt_location},
    {0, "max-redirs", true, false, opt_max_redirs},
    {'m', "max-time", true, false, opt_max_time},
    {0, "connect-timeout", true, false, opt_connect_timeout},
    {'H', "header", true, false, opt_header},
    {'A', "user-agent", true, false, opt_user_agent},
    {'e', "referer", true, false, opt_referer},
    {'u', "user", true, false, opt_user},
    {'r', "range", true, false, opt_range},
    {'X', "request", true, false, opt_request},
    {'d', "data", true, false, opt_data},
    {0, "data-binary", true, false, opt_data_binary},
    {0, "data-raw", true, false, opt_data_raw},
    {'T', "upload-file", true, false, opt_upload_file},
    {'f', "fail", false, false, opt_fail},
    {0, "fail-with-body", false, false, opt_fail_with_body},
    {'w', "write-out", true, false, opt_write_out},
    {0, "retry", true, false, opt_retry},
    {'x', "proxy", true, false, opt_proxy},
    {0, "noproxy", true, false, opt_noproxy},
    {'g', "globoff", false, false, opt_globoff},
    {0, "url", true, false, opt_url},
    {'Z', "parallel", false, false, opt_always},
    {0, "parallel-max", true, false, opt_parallel_max},
    {'s', "silent", false, true, opt_silent},
    {'S', "show-error", false, true, opt_always},
    {'v', "verbose", false, true, opt_verbose},
    {0, "trace", false, true, opt_trace},
    {0, "timeline", true, true, opt_timeline},
    {0, "trace-json", true, true, opt_trace_json},
    {'h', "help", false, true, opt_help},
    {'V', "version", false, true, opt_version},
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

static int apply(fetch_cli *c, const option *opt, const char *value)
{
    if (!opt->shows)
        c->transfer_option = true;
    return opt->apply(c, value);
}

/* "--max-time 5": the value is the next argument. */
static int parse_long(fetch_cli *c, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    const option *opt = find_option(0, arg + 2);
    if (!opt)
        return fetch_usage_error("unknown option %s", arg);
    const char *value = NULL;
    if (opt->takes_value) {
        if (*i + 1 >= argc)
            return fetch_usage_error("%s needs a value", arg);
        value = argv[++*i];
    }
    return apply(c, opt, value);
}

/* "-sL", "-o FILE", "-oFILE", "-m0.5", "-sSo FILE". */
static int parse_shorts(fetch_cli *c, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    for (size_t k = 1; arg[k]; k++) {
        const option *opt = find_option(arg[k], NULL);
        if (!opt)
            return fetch_usage_error("unknown option -%c", arg[k]);
        if (!opt->takes_value) {
            int rc = apply(c, opt, NULL);
            if (rc)
                return rc;
            continue;
        }
        const char *value = arg[k + 1] ? arg + k + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!value)
            return fetch_usage_error("-%c needs a value", arg[k]);
        return apply(c, opt, value);
    }
    return 0;
}

int fetch_args_parse(fetch_cli *c, int argc, char **argv)
{
    size_t room = (size_t)argc + 1;
    c->args = calloc(room, sizeof *c->args);
    c->names = calloc(room, sizeof *c->names);
    c->o.headers = calloc(room + 2, sizeof *c->o.headers); /* + -A, -e */
    if (!c->args || !c->names || !c->o.headers)
        return fetch_no_memory();
    c->o.max_redirs = FETCH_REDIRS_DEFAULT;
    c->o.parallel_max = PARALLEL_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc = 0;
        if (c->only_urls || arg[0] != '-' || arg[1] == '\0')
            c->args[c->n_args++] = arg;
        else if (strcmp(arg, "--") == 0)
            c->only_urls = true;
        else if (arg[1] == '-')
            rc = parse_long(c, argc, argv, &i);
        else
            rc = parse_shorts(c, argc, argv, &i);
        if (rc)
            return rc;
    }
    return fetch_cli_finish(c);
}
