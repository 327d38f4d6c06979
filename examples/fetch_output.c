/* fetch_output.c - where fetch's bytes go.
 *
 * A body goes to its -o file as it arrives, or to stdout.  Stdout is
 * shared by every URL and must show the bodies in URL order, so only the
 * job whose turn it is (run->turn, see fetch_run.c) writes there; the
 * others keep their bytes (fetch_spill.c: a small window in memory, the
 * rest in a temporary file) until their turn comes, when they are copied
 * out in one go and the job writes straight through from then on.
 *
 * Writes are plain blocking write() loops: stdout may be a pipe, and
 * putting it in non-blocking mode would change it for every process that
 * shares it.  The cost is that a slow reader stalls the whole thread; the
 * better version would write through a pipe the runtime can wait on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"

/* EBADF if fetch was started with stdout closed, else 0. */
static int stdout_closed_errno;

void output_guard_stdio(void)
{
    /* A closed fd 0, 1 or 2 would be handed to the next socket or to
     * epoll, and the body would be written into it.  Park /dev/null
     * there; a closed stdout still fails every write, as it should. */
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        if (fd == STDOUT_FILENO)
            stdout_closed_errno = EBADF;
        int null_fd = open("/dev/null", O_RDWR);
        if (null_fd >= 0 && null_fd != fd) {
            dup2(null_fd, fd);
            close(null_fd);
        }
    }
}

/* Writes to stdout, unless it was closed when fetch started. */
static int write_stdout(const char *data, size_t len)
{
    if (stdout_closed_errno) {
        errno = stdout_closed_errno;
        return -1;
    }
    return output_write_all(STDOUT_FILENO, data, len);
}

int output_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1; /* EPIPE, EBADF, ENOSPC...: the caller says where */
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- where a URL's bytes go ---- */

/* -O: the last segment of the URL's path (query and fragment cut off),
 * malloc'd; NULL if there is none ("http://h/" or "http://h"). */
static char *remote_name(const char *url)
{
    const char *host = strstr(url, "://");
    const char *path = strchr(host ? host + 3 : url, '/');
    if (!path)
        return NULL;
    size_t end = strcspn(path, "?#");
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    return end > start ? strndup(path + start, end - start) : NULL;
}

void output_init_job(fetch_job *j, const char *outfile)
{
    j->out_fd = -1;
    if (outfile == FETCH_REMOTE_NAME) {
        j->remote_name = remote_name(j->url);
        j->outfile = j->remote_name;
        if (!j->outfile)
            j->aborted = FETCH_ABORT_NO_NAME; /* or out of memory: no name either */
    } else if (outfile && strcmp(outfile, "-") == 0) {
        j->explicit_stdout = true; /* curl's -o -: stdout, binary or not */
    } else {
        j->outfile = outfile;
    }
}

/* Out with what j kept, to stdout; a failure reading the temporary file
 * is the spill's, not stdout's. */
int output_flush(fetch_job *j)
{
    if (j->outfile || spill_empty(&j->pending))
        return 0;
    if (stdout_closed_errno) {
        spill_discard(&j->pending);
        errno = stdout_closed_errno;
        return -1;
    }
    uint64_t kept = j->pending.fd >= 0 ? j->pending.file_len : j->pending.mem_len;
    bool reading;
    int rc = spill_drain(&j->pending, STDOUT_FILENO, &reading);
    if (rc < 0 && reading)
        j->spill_failed = true;
    if (rc == 0)
        j->stdout_bytes += kept;
    return rc;
}

int output_bytes(fetch_job *j, const char *data, size_t len)
{
    if (j->outfile)
        return output_write_all(j->out_fd, data, len);
    if (j->index != j->run->turn) {
        if (spill_add(&j->pending, data, len) < 0) {
            j->spill_failed = true;
            return -1;
        }
        return 0;
    }
    if (output_flush(j) < 0 || write_stdout(data, len) < 0)
        return -1;
    j->stdout_bytes += len;
    return 0;
}

/* ---- -i: the head as the server sent it ---- */

size_t output_head_size(const http_response *r)
{
    return r->raw_head_len;
}

int output_head(fetch_job *j, const http_response *r)
{
    /* The bytes as received, 1xx heads first: the client kept them
     * (keep_raw_head) because fetch_request_init asked for -i. */
    return r->raw_head ? output_bytes(j, r->raw_head, r->raw_head_len) : 0;
}

/* The end of the line that starts at p (past its LF), or end. */
static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

int output_trailer(fetch_job *j, const http_response *r)
{
    /* As curl writes them: each line with CR LF, whatever its line end
     * was, and without the blank line that ends the section. */
    if (!r->raw_trailer || r->raw_trailer_len <= 2)
        return 0; /* none, or only that blank line */
    char *out = malloc(2 * r->raw_trailer_len);
    if (!out)
        return -1;
    size_t n = 0;
    const char *end = r->raw_trailer + r->raw_trailer_len;
    for (const char *p = r->raw_trailer; p < end;) {
        const char *next = line_end(p, end);
        size_t len = (size_t)(next - p);
        while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
            len--;
        if (len > 0) { /* (a trailer line is never empty: only the last) */
            memcpy(out + n, p, len);
            memcpy(out + n + len, "\r\n", 2);
            n += len + 2;
        }
        p = next;
    }
    int rc = output_bytes(j, out, n);
    int e = errno;
    free(out);
    errno = e;
    return rc;
}

/* ---- -v: the conversation on stderr, marked like curl's ---- */

/* "[#2] " when there are several URLs, else "". */
static const char *tag(const fetch_job *j, char *out, size_t size)
{
    out[0] = '\0';
    if (j && j->run->n_jobs > 1)
        snprintf(out, size, "[#%zu] ", j->index + 1);
    return out;
}

void output_verbose_request(const fetch_job *j, const char *head, size_t len)
{
    /* One "> " line per line of the head, the final blank one included,
     * each with its CR LF, as curl shows them. */
    char t[32];
    tag(j, t, sizeof t);
    const char *end = head + len;
    for (const char *p = head; p < end;) {
        const char *next = line_end(p, end);
        /* A proxy's absolute-form request line holds the whole URL. */
        char *line = strndup(p, (size_t)(next - p));
        char *shown = line ? fetch_masked_dup(line) : NULL;
        fprintf(stderr, "%s> %s", t, shown ? shown : "(out of memory)\n");
        free(shown);
        free(line);
        p = next;
    }
}

void output_verbose_response(const fetch_job *j, const http_response *r)
{
    /* One "< " line per line as received (line ends too); as curl, the
     * blank line that ends a 1xx head is not shown, the last one is. */
    if (!r->raw_head)
        return;
    char t[32];
    tag(j, t, sizeof t);
    const char *end = r->raw_head + r->raw_head_len;
    for (const char *p = r->raw_head; p < end;) {
        const char *next = line_end(p, end);
        bool blank = p[0] == '\n' || (p[0] == '\r' && next - p == 2);
        if (!blank || next == end)
            fprintf(stderr, "%s< %.*s", t, (int)(next - p), p);
        p = next;
    }
}

void output_verbose_event(const fetch_job *j, http_event ev, int fd, const char *detail)
{
    char *masked = fetch_masked_dup(detail ? detail : ""); /* a redirect's URL */
    const char *d = masked ? masked : "(out of memory)";
    char t[32];
    tag(j, t, sizeof t);
    switch (ev) {
    case HTTP_EV_RESOLVING: fprintf(stderr, "%s* Resolving %s\n", t, d); break;
    case HTTP_EV_RESOLVED: fprintf(stderr, "%s* Resolved to %s\n", t, d); break;
    case HTTP_EV_CONNECTING: fprintf(stderr, "%s*   Trying %s...\n", t, d); break;
    case HTTP_EV_CONNECTED: fprintf(stderr, "%s* Connected to %s (fd %d)\n", t, d, fd); break;
    case HTTP_EV_REUSED: fprintf(stderr, "%s* Re-using a kept-alive connection (fd %d)\n", t, fd); break;
    case HTTP_EV_REDIRECT: fprintf(stderr, "%s* Following the redirect to %s\n", t, d); break;
    case HTTP_EV_BODY_DONE: fprintf(stderr, "%s* Body complete: %s bytes\n", t, d); break;
    case HTTP_EV_REQUEST_SENT:  /* shown as the "> " lines */
    case HTTP_EV_HEAD_RECEIVED: /* shown as the "< " lines */
    case HTTP_EV_FIRST_BYTE:    /* only timed (-w), not shown */
        break;
    }
    free(masked);
}

/* ---- the progress bar (-o, stderr a terminal, no -s) ---- */

#define PROGRESS_AFTER_NS 500000000 /* quick transfers show no bar at all */
#define PROGRESS_EVERY_NS 100000000 /* at most ten redraws a second */

/* "12.3 MiB" and friends. */
static void human_size(double bytes, char *out, size_t size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(out, size, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* One redraw: bytes of every -o file together, rate, and the percent and
 * a bar when every length is known. */
static void draw(fetch_run *run, int64_t now)
{
    uint64_t got = 0;
    uint64_t total = 0;
    bool known = true;
    for (size_t i = 0; i < run->n_jobs; i++) {
        const fetch_job *j = &run->jobs[i];
        if (!j->outfile)
            continue;
        got += j->received;
        known = known && j->content_length >= 0;
        total += j->content_length > 0 ? (uint64_t)j->content_length : 0;
    }
    double secs = (double)(now - run->start_ns) / 1e9;
    char size[24], rate[24];
    human_size((double)got, size, sizeof size);
    human_size(secs > 0 ? (double)got / secs : 0, rate, sizeof rate);
    if (known && total > 0) {
        int pct = (int)(got * 100 / total);
        int fill = pct / 5;
        fprintf(stderr, "\r[%.*s%*s] %3d%%  %10s  %10s/s ", fill, "####################",
                20 - fill, "", pct, size, rate);
    } else {
        fprintf(stderr, "\r%10s  %10s/s ", size, rate);
    }
    run->progress_last_ns = now;
}

void output_progress(fetch_run *run)
{
    int64_t now = coro_now();
    if (now - run->start_ns < PROGRESS_AFTER_NS || now - run->progress_last_ns < PROGRESS_EVERY_NS)
        return;
    draw(run, now);
}

void output_progress_end(fetch_run *run)
{
    if (!run->progress_last_ns)
        return; /* never drawn, or already ended */
    draw(run, coro_now());
    fputc('\n', stderr);
    run->progress_last_ns = 0;
}
