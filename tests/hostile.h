/* hostile.h - what the hostile-server test programs share.
 *
 * test_hostile.c (slow, stalling and endless servers),
 * test_hostile_close.c (resets, early answers, half-close) and
 * test_hostile_faults.c (faults in the runtime under the client) all make
 * a client, time one request and check the code and the time it ended
 * with; the first two also send requests too big for any socket buffer.
 * Header-only, like check.h: expect() and run_in_child() count failures in
 * the including program's check_failures.
 */
#ifndef BAREAWAIT_HOSTILE_H
#define BAREAWAIT_HOSTILE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/client.h>
#include "testserver.h"

#define BIG_REQUEST (4 << 20) /* a request head far above any socket buffer */

/* Upper bounds on elapsed times are multiplied by this under valgrind or
 * ASan, which slow everything down. */
static inline int slow(void)
{
    return ts_slow_tools() ? 5 : 1;
}

static inline http_client *client_with(int64_t read_ms, int64_t total_ms)
{
    http_client_opts o = {.connect_timeout_ms = 2000, .read_timeout_ms = read_ms,
                          .total_timeout_ms = total_ms};
    return http_client_open(&o);
}

/* SUSPENDS.  One request; returns its code, the response (maybe NULL) in
 * *r and the time it took in *ms. */
static inline int timed_send(http_client *c, const http_request *req, http_response **r,
                             int64_t *ms)
{
    int64_t t0 = ts_now_ms();
    int err = http_send(c, req, r);
    *ms = ts_now_ms() - t0;
    return err;
}

/* The code and the time window a case must end with. */
static inline void expect(const char *what, int err, int want, int64_t ms, int64_t lo,
                          int64_t hi)
{
    if (!CHECK_INT(err, want))
        fprintf(stderr, "    %s: got %d (%s), errno %d\n", what, err, http_strerror(err), errno);
    int64_t most = hi * slow();
    if (!CHECK(ms >= lo && ms <= most))
        fprintf(stderr, "    %s: took %lld ms, expected %lld..%lld\n", what,
                (long long)ms, (long long)lo, (long long)most);
}

/* "X-Big: vvvv...", BIG_REQUEST bytes: a request head that cannot fit in
 * any socket buffer.  Freed by the caller. */
static inline char *big_header(void)
{
    char *h = malloc(BIG_REQUEST);
    if (!h)
        abort();
    memset(h, 'v', BIG_REQUEST - 1);
    memcpy(h, "X-Big: ", 7);
    h[BIG_REQUEST - 1] = '\0';
    return h;
}

/* The head of a chunked 200, for servers that send chunks after it. */
#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

/* Runs a case in a child process and checks how the child ended: for
 * cases that change process limits, or that could kill the process (a
 * client must survive a hostile server, SIGPIPE included). */
static inline void run_in_child(const char *name, void (*body)(void *))
{
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        CHECK(pid >= 0);
        return;
    }
    if (pid == 0) {
        check_failures = 0; /* the parent's, copied by fork */
        int rc = ts_run(name, body, NULL);
        _exit(rc == 0 && check_summary() == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        fprintf(stderr, "    %s: the process was killed by signal %d (%s)\n", name,
                WTERMSIG(st), strsignal(WTERMSIG(st)));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

#endif
