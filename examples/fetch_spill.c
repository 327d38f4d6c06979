/* fetch_spill.c - a body waiting for its turn on stdout, in bounded memory.
 *
 * Stdout shows the bodies in URL order, so a URL that answers before the
 * ones in front of it must keep its bytes until its turn.  Keeping them in
 * memory costs the whole body (two 300 MB bodies behind a slow first URL
 * would hold 600 MB).  So a waiting body keeps only its first
 * FETCH_SPILL_WINDOW bytes in memory; when they overflow, the window and
 * everything after it go to a temporary file that has no name (O_TMPFILE,
 * or mkstemp and unlink where the file system has no O_TMPFILE), in
 * $TMPDIR or /tmp.  At its turn the body is copied out, the file closed
 * and its space freed.  The kernel's page cache holds what was recently
 * written; that memory is the kernel's to reclaim, not ours.
 *
 * A file that cannot be made or written (no $TMPDIR, a full disk) is a
 * write error of that URL with its own message, never silent truncation.
 *
 * Simple on purpose: the copy is a pread/write loop through the window;
 * copy_file_range or sendfile would spare the copy through user space.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"

/* Small enough that --parallel-max 50 waiting bodies stay a few MiB. */
#define FETCH_SPILL_WINDOW (64 * 1024)

const char *spill_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && dir[0] ? dir : "/tmp";
}

void spill_init(fetch_spill *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

/* A file in spill_dir() that no other process can open: -1/errno. */
static int anonymous_file(void)
{
    const char *dir = spill_dir();
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd; /* made, or the directory itself is the problem */
    char path[4096];
    if (snprintf(path, sizeof path, "%s/fetch-XXXXXX", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path); /* the open fd keeps it; nobody can find it */
    return fd;
}

/* Moves the window into a new temporary file: 0 or -1/errno. */
static int spill_to_file(fetch_spill *s)
{
    s->fd = anonymous_file();
    if (s->fd < 0)
        return -1;
    if (output_write_all(s->fd, s->mem, s->mem_len) < 0)
        return -1;
    s->file_len = s->mem_len;
    s->mem_len = 0;
    return 0;
}

int spill_add(fetch_spill *s, const char *data, size_t len)
{
    if (!s->mem && !(s->mem = malloc(FETCH_SPILL_WINDOW)))
        return -1; /* errno = ENOMEM */
    if (s->fd < 0 && s->mem_len + len <= FETCH_SPILL_WINDOW) {
        memcpy(s->mem + s->mem_len, data, len);
        s->mem_len += len;
        return 0;
    }
    if (s->fd < 0 && spill_to_file(s) < 0)
        return -1;
    if (output_write_all(s->fd, data, len) < 0)
        return -1;
    s->file_len += len;
    return 0;
}

bool spill_empty(const fetch_spill *s)
{
    return s->fd < 0 && s->mem_len == 0;
}

/* The file's bytes to fd, through the window: 0 or -1/errno, with
 * *reading telling whether reading the file failed. */
static int copy_file(fetch_spill *s, int fd, bool *reading)
{
    for (uint64_t off = 0; off < s->file_len;) {
        size_t want = s->file_len - off < FETCH_SPILL_WINDOW ? (size_t)(s->file_len - off)
                                                           : FETCH_SPILL_WINDOW;
        ssize_t n = pread(s->fd, s->mem, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* shorter than we wrote: the file was cut */
            *reading = true;
            return -1;
        }
        if (output_write_all(fd, s->mem, (size_t)n) < 0)
            return -1;
        off += (uint64_t)n;
    }
    return 0;
}

int spill_drain(fetch_spill *s, int fd, bool *reading)
{
    *reading = false;
    int rc = 0;
    if (s->fd >= 0)
        rc = copy_file(s, fd, reading);
    else if (s->mem_len > 0)
        rc = output_write_all(fd, s->mem, s->mem_len);
    int e = errno;
    spill_discard(s);
    errno = e;
    return rc;
}

void spill_discard(fetch_spill *s)
{
    if (s->fd >= 0)
        close(s->fd); /* its last reference: the kernel frees the blocks */
    s->fd = -1;
    s->file_len = 0;
    s->mem_len = 0;
}

void spill_free(fetch_spill *s)
{
    spill_discard(s);
    free(s->mem);
    s->mem = NULL;
}
