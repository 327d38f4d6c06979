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

/* http_request.body_source for -T: the file's next bytes.  body_user is
 * the descriptor itself (no allocation, so nothing to leak); -1 if the
 * file could not be opened, which read() reports as EBADF.  read() on a
 * pipe blocks the whole thread: simple on purpose, as stdout's writes
 * (a non-blocking stdin would change it for whoever shares it). */
static long upload_read(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    (void)deadline_ns;
    int fd = (int)(intptr_t)user;
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return -1;
    }
}

/* -T: opens the file (each URL reads it from the start); a regular file
 * is sent with its Content-Length, a pipe chunked. */
static void upload_init(const fetch_opts *o, http_request *req)
{
    int fd = upload_is_stdin(o) ? STDIN_FILENO : open(o->upload_file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    req->body_source = upload_read;
    req->body_user = (void *)(intptr_t)fd;
    req->body_length = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
}

void fetch_request_init(const fetch_job *j, http_request *req)
{
    const fetch_opts *o = j->run->o;
    memset(req, 0, sizeof *req);
    req->method = method_of(o);
    req->url = j->url;
    req->headers = (const char *const *)o->headers;
    req->n_headers = o->n_headers;
    req->userpwd = o->userpwd;
    if (o->has_data) {
        req->body = o->data;
        req->body_len = o->data_len;
        req->body_type = o->data_type;
    } else if (o->upload_file) {
        upload_init(o, req);
    }
}

void fetch_request_done(const fetch_job *j, http_request *req)
{
    const fetch_opts *o = j->run->o;
    if (req->body_source != upload_read)
        return;
    int fd = (int)(intptr_t)req->body_user;
    if (fd >= 0 && !upload_is_stdin(o))
        close(fd);
    req->body_source = NULL;
    req->body_user = NULL;
}
