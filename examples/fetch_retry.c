/* fetch_retry.c - --retry N: curl's transient failures, tried again.
 *
 * Transient, as curl counts it: a timeout (connect, silence, -m), or a
 * status 408, 429, 500, 502, 503 or 504.  A refused connection is not
 * (curl wants --retry-connrefused for that), nor is anything else.  The
 * waits are 1 s, 2 s, 4 s... up to 10 minutes, or the seconds of the
 * server's Retry-After.  The failed try's body is thrown away first: an
 * -o file is cut back to empty, bytes kept for stdout are forgotten.
 * Bytes already written to stdout cannot be taken back: then the failure
 * stands, and its error line says why it was not retried.  A transient
 * status is caught at its head (fetch_run.c's on_head asks
 * retry_this_head), so its body is never written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fetch.h"

/* The first wait, and the most any wait may grow to. */
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS (10 * 60 * 1000)

/* The transient statuses curl's --retry retries. */
static bool retryable_status(int status)
{
    static const int statuses[] = {408, 429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (status == statuses[i])
            return true;
    return false;
}

/* --retry: this head is transient, a try is left, and its bytes could be
 * taken back (nothing of this URL on stdout yet). */
bool retry_this_head(const fetch_job *j, const http_response *r)
{
    return j->tries <= j->run->o->retry && retryable_status(r->status) &&
           (j->outfile || j->stdout_bytes == 0);
}

/* Retry-After in whole seconds (an HTTP date is not parsed: -1). */
int64_t retry_after_header(const http_response *r)
{
    const char *v = http_response_header(r, "Retry-After");
    if (!v || *v < '0' || *v > '9')
        return -1;
    char *end;
    long long secs = strtoll(v, &end, 10);
    if (*end || secs > RETRY_MAX_MS / 1000)
        return *end ? -1 : RETRY_MAX_MS;
    return secs * 1000;
}

/* How long to wait before trying j again, or -1: no retry. */
int64_t retry_wait_ms(const fetch_job *j)
{
    bool timeout = j->err == HTTP_E_CONNECT_TIMEOUT || j->err == HTTP_E_READ_TIMEOUT ||
                   j->err == HTTP_E_TOTAL_TIMEOUT;
    bool transient = j->aborted == FETCH_ABORT_RETRY ||
                     (timeout && !j->write_errno && j->aborted == FETCH_ABORT_NONE);
    if (!transient || j->tries > j->run->o->retry)
        return -1;
    if (j->retry_after_ms >= 0)
        return j->retry_after_ms;
    int64_t wait = RETRY_FIRST_MS;
    for (int i = 1; i < j->tries && wait < RETRY_MAX_MS; i++)
        wait *= 2;
    return wait < RETRY_MAX_MS ? wait : RETRY_MAX_MS;
}

/* Throws the failed try's body away; false if it cannot be. */
bool retry_rewind(fetch_job *j)
{
    if (j->outfile) {
        if (j->out_fd >= 0 && (ftruncate(j->out_fd, 0) < 0 || lseek(j->out_fd, 0, SEEK_SET) < 0)) {
            j->write_errno = errno;
            return false;
        }
        return true;
    }
    if (j->stdout_bytes > 0) {
        j->not_retried = true; /* out of our hands: it stays a failure */
        return false;
    }
    spill_discard(&j->pending);
    return true;
}

/* "fetch: URL: reason; trying again in 2 s (2 retries left)", unless -s. */
void retry_announce(fetch_job *j, int64_t wait_ms)
{
    const fetch_opts *o = j->run->o;
    if (o->silent)
        return;
    char why[640];
    report_reason(j, why, sizeof why);
    /* Counted as curl does: the try about to start is one of those left. */
    int left = o->retry - j->tries + 1;
    char url[FETCH_SHOWN_URL_SIZE];
    report_shown_url(j->url, url, sizeof url);
    output_progress_end(j->run);
    fprintf(stderr, "fetch: %s: %s; trying again in %.3g s (%d retr%s left)\n", url, why,
            (double)wait_ms / 1000, left, left == 1 ? "y" : "ies");
}

