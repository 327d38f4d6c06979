/* fetch_request.c - the request fetch sends for one URL, from the options:
 * method, URL, headers, body, credentials.  fetch_run.c adds its callbacks
 * (where the body goes, -v, -f) and sends it.
 *
 * The header lines were put together on the command line (fetch_cli.c):
 * -H's, then -A's User-Agent and -e's Referer where -H did not name them.
 * -d's Content-Type goes as body_type, so that the client drops it with
 * the body when a redirect turns the POST into a GET.  -H's "Name:" (drop a default) and "Name;" (send it
 * empty) go to the client as they are: it knows both forms.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"

/* The method: -X wins, as in curl; else what the other options imply. */
static const char *method_of(const fetch_opts *o)
{
    if (o->method)
        return o->method;
    if (o->head_only)
        return "HEAD";
    if (o->has_data)
        return "POST";
    if (o->upload_file)
        return "PUT";
    return "GET";
}

static bool upload_is_stdin(const fetch_opts *o)
{
    return strcmp(o->upload_file, "-") == 0;
}

/* SUSPENDS until fd has bytes (or its end) to read, the deadline passes
 * (-1/ETIMEDOUT) or the coroutine is cancelled (-1/ECANCELED).  poll()
 * asks first, without waiting: a regular file is always ready (and epoll
 * would refuse it); a pipe or a terminal that is not parks this
 * coroutine only, on the reactor. */
static int wait_readable(int fd, int64_t deadline_ns)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, 0);
        if (ready > 0)
            return 0;
        if (ready < 0 && errno != EINTR)
            return -1;
        if (ready < 0)
            continue;
        coro_wake why = coro_wait(fd, CORO_READ, deadline_ns);
        if (why != CORO_WOKE_READY) {
            if (why != CORO_WOKE_FAILED) /* FAILED: errno says why */
                errno = why == CORO_WOKE_TIMEOUT ? ETIMEDOUT : ECANCELED;
            return -1;
        }
    }
}

/* SUSPENDS (wait_readable).  http_request.body_source for -T: the file's
 * next bytes.  body_user is the job, whose upload_fd is -1 if the file
 * could not be opened: read() reports that as EBADF.  The descriptor stays blocking (a non-blocking stdin
 * would change it for whoever shares it): read() comes only once poll
 * says it will not block, so -m bounds a pipe that never ends. */
static long upload_read(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    fetch_job *j = user;
    int fd = j->upload_fd;
    for (;;) {
        if (fd >= 0 && wait_readable(fd, deadline_ns) < 0)
            return -1;
        ssize_t n = read(fd, buf, cap);
        if (n >= 0) {
            j->uploaded += (uint64_t)n;
            return (long)n;
        }
        if (errno != EINTR)
            return -1;
    }
}

/* http_request.body_rewind for a regular file: back to its first byte,
 * so that a 307/308 (or a 301/302 that keeps PUT) sends it again. */
static int upload_rewind(void *user)
{
    fetch_job *j = user;
    j->uploaded = 0;
    return lseek(j->upload_fd, 0, SEEK_SET) == 0 ? 0 : -1;
}

/* -T: opens the file (each URL reads it from the start); a regular file
 * is sent with its Content-Length and can be sent again after a
 * redirect; a pipe goes chunked, once. */
static void upload_init(fetch_job *j, const fetch_opts *o, http_request *req)
{
    int fd = upload_is_stdin(o) ? STDIN_FILENO : open(o->upload_file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    j->upload_fd = fd;
    j->uploaded = 0;
    req->body_source = upload_read;
    req->body_user = j;
    bool regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    req->body_length = regular ? st.st_size : -1;
    /* stdin may not start at offset 0 (a script read some): sent once. */
    req->body_rewind = regular && !upload_is_stdin(o) ? upload_rewind : NULL;
}

void fetch_request_init(fetch_job *j, http_request *req)
{
    const fetch_opts *o = j->run->o;
    memset(req, 0, sizeof *req);
    req->method = method_of(o);
    req->url = j->url;
    req->headers = (const char *const *)o->headers;
    req->n_headers = o->n_headers;
    req->userpwd = o->userpwd;
    req->keep_raw_head = o->include_head || o->verbose; /* shown as received */
    if (o->has_data) {
        req->body = o->data;
        req->body_len = o->data_len;
        req->body_type = o->data_type;
    } else if (o->upload_file) {
        upload_init(j, o, req);
    }
}

void fetch_request_done(fetch_job *j, http_request *req)
{
    const fetch_opts *o = j->run->o;
    if (req->body_source != upload_read)
        return;
    int fd = j->upload_fd;
    j->upload_fd = -1;
    if (fd >= 0 && !upload_is_stdin(o))
        coro_close(fd); /* it may have been waited on (a FIFO): coro.h */
    req->body_source = NULL;
    req->body_user = NULL;
}
