/* select_check.h - what the coro_select tests share: two channels, three
 * socketpairs, cases made in one call, and small helpers.  Header-only
 * (static inline), for test_sync_select.c and test_sync_select_fd.c.
 */
#ifndef BAREAWAIT_SELECT_CHECK_H
#define BAREAWAIT_SELECT_CHECK_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <bareawait/coro.h>
#include <bareawait/sync.h>
#include "trail.h"

#define MS 1000000 /* nanoseconds */

static coro_chan *c1, *c2;
static int a[2], b[2], z[2]; /* socketpairs: [0] is waited on, [1] written */

static inline coro_select_case recv_case(coro_chan *ch, int *into)
{
    return (coro_select_case){.op = CORO_SELECT_RECV, .chan = ch, .value = into};
}

static inline coro_select_case send_case(coro_chan *ch, int *value)
{
    return (coro_select_case){.op = CORO_SELECT_SEND, .chan = ch, .value = value};
}

static inline coro_select_case read_case(int fd)
{
    return (coro_select_case){.op = CORO_SELECT_READ, .fd = fd};
}

static inline bool pairs(void)
{
    return CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0) &&
           CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0) &&
           CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, z), 0);
}

static inline void unpairs(void)
{
    int *fds[] = {a, b, z};
    for (int i = 0; i < 3; i++)
        coro_close(fds[i][0]), coro_close(fds[i][1]);
}

static inline void setup(size_t cap1, size_t cap2)
{
    trail_reset();
    c1 = coro_chan_new(sizeof(int), cap1);
    c2 = coro_chan_new(sizeof(int), cap2);
}

static inline void teardown(void)
{
    coro_chan_free(c1);
    coro_chan_free(c2);
}

/* A try-send of v on ch: "ok" or "T". */
static inline const char *try_send(coro_chan *ch, int v)
{
    return coro_chan_send(ch, &v, 0) == 0 ? "ok" : errno == ETIMEDOUT ? "T" : "?";
}

static inline char drain(int fd)
{
    char byte = 0;
    CHECK_INT(read(fd, &byte, 1), 1);
    return byte;
}

static coro_t *selector;

struct sel_result {
    int index, err; /* coro_select's result (err: its errno) */
    int next;       /* its next wait (a yield): 0 or errno */
};

#endif
