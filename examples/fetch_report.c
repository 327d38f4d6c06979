/* fetch_report.c - how one URL ended: its exit code (curl's numbers), the
 * one error line that says why, and the -w values.
 *
 * The error line names what a person needs to act on it:
 *
 *     fetch: http://a/: could not connect: Connection refused
 *     fetch: http://a/ -> http://b/x: unsupported protocol ...   (after -L)
 *     fetch: http://h/hang: timed out after 0.2 s (-m 0.2) while waiting
 *            for the head
 *     fetch: not-a-url: malformed URL: no "scheme://"
 *
 * A URL of 100 KB is not echoed: its start and end are kept, and the line
 * says how many bytes were left out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bareawait/url.h>

#include "fetch.h"

/* URLs longer than this are shortened in error lines, keeping this much
 * of the start and of the end. */
#define URL_SHOWN_MAX 200
#define URL_SHOWN_HEAD 120
#define URL_SHOWN_TAIL 60
_Static_assert(URL_SHOWN_MAX + 64 <= FETCH_SHOWN_URL_SIZE, "room for a shortened URL");

/* ---- exit codes ---- */

/* curl's exit code for what http_send returned. */
static int exit_code_of_error(int err)
{
    switch (err) {
    case HTTP_OK: return FETCH_EXIT_OK;
    case HTTP_E_SCHEME: return FETCH_EXIT_UNSUPPORTED;
    case HTTP_E_URL: return FETCH_EXIT_URL;
    case HTTP_E_RESOLVE: return FETCH_EXIT_RESOLVE;
    case HTTP_E_CONNECT: return FETCH_EXIT_CONNECT;
    case HTTP_E_CONNECT_TIMEOUT:
    case HTTP_E_READ_TIMEOUT:
    case HTTP_E_TOTAL_TIMEOUT: return FETCH_EXIT_TIMEOUT;
    case HTTP_E_MALFORMED:
    case HTTP_E_HEAD_TOO_LARGE:
    case HTTP_E_BODY_TOO_LARGE: return FETCH_EXIT_MALFORMED;
    case HTTP_E_TRUNCATED: return FETCH_EXIT_TRUNCATED;
    case HTTP_E_RESET: return FETCH_EXIT_RECV;
    case HTTP_E_EMPTY_REPLY: return FETCH_EXIT_EMPTY_REPLY;
    case HTTP_E_TOO_MANY_REDIRECTS: return FETCH_EXIT_REDIRECTS;
    case HTTP_E_NOMEM: return FETCH_EXIT_NOMEM;
    case HTTP_E_BAD_REQUEST: return FETCH_EXIT_USAGE;
    case HTTP_E_UNSUPPORTED_CODING: return FETCH_EXIT_CODING;
    case HTTP_E_NOT_REPLAYABLE: return FETCH_EXIT_REWIND;
    case HTTP_E_SEND_BODY: return FETCH_EXIT_READ;
    default: return FETCH_EXIT_ABORTED; /* ABORTED without a reason of ours, CANCELLED */
    }
}

/* --fail-with-body: the body was written, the status still fails. */
static bool failed_with_body(const fetch_job *j)
{
    return j->run->o->fail_with_body && j->err == HTTP_OK && j->status >= 400;
}

int report_exit_code(const fetch_job *j)
{
    if (j->write_errno)
        return FETCH_EXIT_WRITE;
    switch (j->aborted) {
    case FETCH_ABORT_STATUS: return FETCH_EXIT_HTTP_ERROR;
    case FETCH_ABORT_REDIRECTS: return FETCH_EXIT_REDIRECTS;
    case FETCH_ABORT_BINARY:
    case FETCH_ABORT_NO_NAME: return FETCH_EXIT_WRITE;
    case FETCH_ABORT_RETRY: /* the last try does not abort; a cut one is its error's */
    case FETCH_ABORT_NONE: break;
    }
    if (failed_with_body(j))
        return FETCH_EXIT_HTTP_ERROR;
    if (j->err == HTTP_E_RESOLVE && j->to_proxy)
        return FETCH_EXIT_PROXY; /* curl's 5: the proxy did not resolve */
    return exit_code_of_error(j->err);
}

/* ---- the reason ---- */

/* "0.2", "2.5", "30": seconds, as a person would write them. */
static void seconds(int64_t ms, char *out, size_t size)
{
    snprintf(out, size, "%.*f", ms % 1000 == 0 ? 0 : ms % 100 == 0 ? 1 : 3, (double)ms / 1000);
}

/* A measured time: "0.2", "12.3", "0.05". */
static void elapsed(int64_t ns, char *out, size_t size)
{
    double s = (double)ns / 1e9;
    snprintf(out, size, s >= 0.1 ? "%.1f" : "%.2f", s);
}

/* What the request was doing when its time ran out. */
static void phase_text(const fetch_job *j, char *out, size_t size)
{
    switch (j->phase) {
    case FETCH_PHASE_CONNECT: snprintf(out, size, "while connecting"); break;
    case FETCH_PHASE_HEAD: snprintf(out, size, "while waiting for the head"); break;
    case FETCH_PHASE_BODY:
        snprintf(out, size, "while receiving the body, %llu bytes in",
                 (unsigned long long)j->received);
        break;
    }
}

/* "timed out after 0.2 s (-m 0.2) while receiving the body, 1234 bytes in". */
static void timeout_reason(const fetch_job *j, char *out, size_t size)
{
    const fetch_opts *o = j->run->o;
    char took[32], limit[64] = "", what[80];
    elapsed(j->t.end_ns - j->t.start_ns, took, sizeof took);
    if (j->err == HTTP_E_TOTAL_TIMEOUT) {
        char s[32];
        seconds(o->max_time_ms, s, sizeof s);
        snprintf(limit, sizeof limit, " (-m %s)", s);
    } else if (j->err == HTTP_E_CONNECT_TIMEOUT) {
        char s[32];
        seconds(o->connect_timeout_ms, s, sizeof s);
        snprintf(limit, sizeof limit, o->connect_timeout_ms > 0 ? " (--connect-timeout %s)"
                                                               : " (the default connect timeout)", s);
    } else {
        snprintf(limit, sizeof limit, " of silence");
    }
    phase_text(j, what, sizeof what);
    snprintf(out, size, "timed out after %s s%s %s", took, limit, what);
}

/* "malformed URL: <why>", of the URL that failed to parse. */
static void url_reason(const fetch_job *j, char *out, size_t size)
{
    http_url u;
    int code = http_url_parse(j->last_url ? j->last_url : j->url, &u);
    const char *why = code == HTTP_URL_OK ? "" : http_url_strerror(code);
    if (code == HTTP_URL_OK || strncmp(why, "malformed URL", strlen("malformed URL")) == 0)
        snprintf(out, size, "%s", code == HTTP_URL_OK ? http_strerror(j->err) : why);
    else
        snprintf(out, size, "malformed URL: %s", why);
}

/* Why -O found no name in url: no path at all, or one ending in '/'. */
static const char *no_name_why(const char *url)
{
    const char *sep = strstr(url, "://");
    const char *path = sep ? sep + 3 + strcspn(sep + 3, "/?#") : url;
    return *path == '/' ? "its path ends in /" : "it has no path";
}

/* Reasons of our own: a write error, and the aborts of our callbacks. */
static bool own_reason(const fetch_job *j, char *out, size_t size)
{
    const char *o_name = j->outfile ? j->outfile : "stdout";
    if (j->write_errno && j->spill_failed)
        snprintf(out, size, "could not keep the body for its turn in a temporary file in %s: %s",
                 spill_dir(), strerror(j->write_errno));
    else if (j->write_errno)
        snprintf(out, size, "could not write to %s: %s", o_name, strerror(j->write_errno));
    else if (j->aborted == FETCH_ABORT_STATUS)
        snprintf(out, size, "the server answered %d %s (-f)", j->status, j->reason);
    else if (j->aborted == FETCH_ABORT_REDIRECTS)
        snprintf(out, size, "too many redirects: %d %s with --max-redirs 0", j->status,
                 j->reason);
    else if (j->aborted == FETCH_ABORT_BINARY)
        snprintf(out, size, "the body is binary (it has NUL bytes) and stdout is a terminal: "
                 "not written; -o FILE saves it, -o - writes it here anyway");
    else if (j->aborted == FETCH_ABORT_RETRY)
        snprintf(out, size, "the server answered %d %s", j->status, j->reason);
    else if (j->aborted == FETCH_ABORT_NO_NAME)
        snprintf(out, size, "-O: the URL has no file name to save to (%s)",
                 no_name_why(j->url));
    else if (failed_with_body(j))
        snprintf(out, size, "the server answered %d %s (--fail-with-body)", j->status, j->reason);
    else
        return false;
    return true;
}

/* A lookup or a connection that failed on the way to the proxy, not to
 * the origin: "could not connect to proxy 127.0.0.1:3128: Connection
 * refused". */
static void proxy_reason(const fetch_job *j, char *out, size_t size)
{
    const fetch_opts *o = j->run->o;
    const char *v6 = strchr(o->proxy_host, ':') ? "[" : "";
    char where[300];
    snprintf(where, sizeof where, "%s%s%s:%d", v6, o->proxy_host, v6[0] ? "]" : "",
             o->proxy_port);
    if (j->err == HTTP_E_RESOLVE)
        snprintf(out, size, "could not resolve proxy %s", where);
    else if (j->err == HTTP_E_CONNECT_TIMEOUT)
        snprintf(out, size, "timed out connecting to proxy %s", where);
    else
        snprintf(out, size, "could not connect to proxy %s%s%s", where, j->err_errno ? ": " : "",
                 j->err_errno ? strerror(j->err_errno) : "");
}

/* The client's error, with errno's word where it has one. */
static void client_reason(const fetch_job *j, char *out, size_t size)
{
    int e = j->err_errno;
    switch (j->err) {
    case HTTP_E_SCHEME:
        snprintf(out, size, "unsupported protocol: fetch speaks http:// only "
                 "(TLS is out of scope for bareawait)");
        break;
    case HTTP_E_URL: url_reason(j, out, size); break;
    case HTTP_E_READ_TIMEOUT:
    case HTTP_E_TOTAL_TIMEOUT: timeout_reason(j, out, size); break;
    case HTTP_E_SEND_BODY:
        if (j->run->o->upload_file)
            snprintf(out, size, "could not read %s: %s", j->run->o->upload_file,
                     e ? strerror(e) : "read failed");
        else
            snprintf(out, size, "could not read the request body");
        break;
    case HTTP_E_HEAD_TOO_LARGE:
        /* fetch leaves http_client_opts.max_head_bytes at its default */
        snprintf(out, size, "%s: over 64 KiB, the client's limit (max_head_bytes)",
                 http_strerror(j->err));
        break;
    case HTTP_E_UNSUPPORTED_CODING:
        snprintf(out, size, "the server used a Transfer-Encoding fetch cannot decode");
        break;
    case HTTP_E_NOT_REPLAYABLE:
        snprintf(out, size, "the %d redirect wants the request body again, but it was "
                 "streamed from a pipe or stdin (-T) and cannot be sent twice", j->status);
        break;
    case HTTP_E_CONNECT:
    case HTTP_E_CONNECT_TIMEOUT:
    case HTTP_E_RESOLVE:
        if (j->to_proxy) {
            proxy_reason(j, out, size);
            break;
        }
        if (j->err == HTTP_E_CONNECT_TIMEOUT) {
            timeout_reason(j, out, size);
            break;
        }
        if (j->err == HTTP_E_RESOLVE) {
            snprintf(out, size, "%s", http_strerror(j->err));
            break;
        }
        /* fall through */
    case HTTP_E_RESET:
        if (e) {
            snprintf(out, size, "%s: %s", http_strerror(j->err), strerror(e));
            break;
        }
        /* fall through */
    default: snprintf(out, size, "%s", http_strerror(j->err)); break;
    }
}

void report_reason(const fetch_job *j, char *out, size_t size)
{
    out[0] = '\0';
    if (report_exit_code(j) == FETCH_EXIT_OK)
        return;
    if (!own_reason(j, out, size))
        client_reason(j, out, size);
    if (j->not_retried) {
        size_t n = strlen(out);
        snprintf(out + n, size - n, " (not retried: %llu bytes of it were already on stdout)",
                 (unsigned long long)j->stdout_bytes);
    }
}

/* ---- the line ---- */

/* A URL for an error line: whole, or its start and end around a note. */
static void shown_url(const char *raw, char *out, size_t size)
{
    char *url = fetch_masked_dup(raw); /* masked first: no cut half password */
    size_t len = url ? strlen(url) : 0;
    if (!url)
        snprintf(out, size, "(a URL: out of memory to show it)");
    else if (len <= URL_SHOWN_MAX)
        snprintf(out, size, "%s", url);
    else
        snprintf(out, size, "%.*s...[%zu bytes left out]...%s", URL_SHOWN_HEAD, url,
                 len - URL_SHOWN_HEAD - URL_SHOWN_TAIL, url + len - URL_SHOWN_TAIL);
    free(url);
}

void report_shown_url(const char *url, char *out, size_t size)
{
    shown_url(url, out, size);
}

void report_error(fetch_job *j)
{
    char why[640], first[FETCH_SHOWN_URL_SIZE], last[FETCH_SHOWN_URL_SIZE] = "";
    report_reason(j, why, sizeof why);
    shown_url(j->url, first, sizeof first);
    if (j->last_url)
        shown_url(j->last_url, last, sizeof last);
    output_progress_end(j->run); /* the bar's line must not swallow ours */
    /* -s does not hide it (curl's -sS, not curl's -s). */
    fprintf(stderr, "fetch: %s%s%s: %s\n", first, last[0] ? " -> " : "", last, why);
}
/* ---- -w ---- */

/* Seconds from the try's start to a moment, 0 if it never came. */
static double since_start(const fetch_job *j, int64_t at_ns)
{
    return at_ns ? (double)(at_ns - j->t.start_ns) / 1e9 : 0;
}

/* The last request's body: -T's bytes read, or -d's unless a redirect
 * turned it into a GET. */
static uint64_t upload_size(const fetch_job *j)
{
    const fetch_opts *o = j->run->o;
    if (o->upload_file)
        return j->uploaded;
    bool dropped = strcmp(j->method_sent, "GET") == 0 || strcmp(j->method_sent, "HEAD") == 0;
    return o->has_data && !dropped && j->method_sent[0] ? o->data_len : 0;
}

/* The "Name: value\n" lines of fields (NULL: none). */
static int count_lines(const char *fields)
{
    int n = 0;
    for (const char *p = fields; p && *p; p++)
        n += *p == '\n';
    return n;
}

int report_write_out(fetch_job *j)
{
    char why[640];
    report_reason(j, why, sizeof why);
    /* %{url_effective} is the URL as requested, as curl shows it: "/" for
     * an empty path, dot segments resolved (the redirects' last_url is
     * already in that form).  A URL that does not normalize is shown as
     * given. */
    int code;
    char *effective = j->last_url ? NULL : http_url_normalize(j->url, &code);
    double total = since_start(j, j->t.end_ns);
    fetch_writeout v = {
        .http_code = j->status,
        .url_effective = j->last_url ? j->last_url : effective ? effective : j->url,
        .size_download = j->received,
        .size_header = j->head_bytes,
        .num_redirects = j->redirects,
        .time_namelookup = since_start(j, j->t.resolved_ns),
        .time_connect = since_start(j, j->t.connected_ns),
        .time_starttransfer = since_start(j, j->t.first_byte_ns),
        .time_total = since_start(j, j->t.end_ns),
        .exitcode = report_exit_code(j),
        .errormsg = why,
        .content_type = j->content_type,
        .method = j->method_sent[0] ? j->method_sent : j->method ? j->method : "GET",
        .redirect_url = j->redirect_url,
        .filename_effective = j->outfile,
        .remote_ip = j->remote_ip,
        .remote_port = j->remote_port,
        .http_version = !j->status ? "0" : j->minor_version == 0 ? "1.0" : "1.1",
        .scheme = "HTTP",
        .size_request = j->request_bytes,
        .size_upload = upload_size(j),
        .urlnum = (int)j->index,
        .url = j->url,
        .num_connects = j->connects,
        .num_headers = count_lines(j->fields),
        .time_pretransfer = since_start(j, j->t.connected_ns),
        .speed_download = total > 0 ? (uint64_t)((double)j->received / total) : 0,
        .referer = j->run->o->referer,
        .headers = j->fields,
    };
    int rc = fetch_write_out(j->run->o->write_out, &v, stdout);
    free(effective);
    /* Bodies go out with write(2): stdio's buffer must be empty before
     * the next one. */
    if (fflush(stdout) == EOF)
        rc = -1;
    return rc;
}
