/* rawsrv.c - the one-connection server of rawsrv.h: one coroutine that
 * accepts, plays and closes, and the plays that test_hostile.c and
 * test_hostile_close.c give it (the endless 100 Continue of
 * test_hostile.c stays there, next to its only case).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "rawsrv.h"

static void srv_reset_on_close(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static void *rawsrv_main(void *arg)
{
    rawsrv *s = arg;
    int fd = io_accept(s->lfd, NULL, NULL, CORO_NEVER);
    if (fd >= 0) {
        s->play(s, fd);
        coro_close(fd);
    }
    return NULL;
}

/* Listens on 127.0.0.1 with a receive buffer of `rcvbuf` bytes (0: the
 * default), inherited by the accepted socket.  Does not suspend. */
int rawsrv_start(rawsrv *s, int rcvbuf, void (*play)(rawsrv *, int), const char *reply)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    s->play = play;
    s->reply = reply;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->lfd < 0)
        return -1;
    if (rcvbuf)
        setsockopt(s->lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(s->lfd, 4) < 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &len) < 0) {
        close(s->lfd);
        return -1;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    s->co = coro_spawn(rawsrv_main, s, &(coro_opts){.name = "rawsrv", .stack_size = 256 << 10});
    if (!s->co) {
        close(s->lfd);
        return -1;
    }
    return 0;
}

/* SUSPENDS until the server's coroutine has ended. */
void rawsrv_stop(rawsrv *s)
{
    coro_cancel(s->co);
    coro_join(s->co, NULL);
    coro_close(s->lfd);
}

void rawsrv_play_never_read(rawsrv *s, int fd)
{
    (void)s, (void)fd;
    coro_sleep_until(CORO_NEVER); /* until rawsrv_stop cancels us */
}

/* SUSPENDS.  Waits for the first bytes of the request, so that the client
 * is connected and writing, then sends the answer.  0 or -1. */
static int answer_early(rawsrv *s, int fd)
{
    char buf[512];
    if (io_read(fd, buf, sizeof buf, coro_deadline_in(2000)) <= 0)
        return -1;
    return io_send(fd, s->reply, strlen(s->reply), CORO_NEVER) < 0 ? -1 : 0;
}

void rawsrv_play_answer_then_drain(rawsrv *s, int fd)
{
    char buf[4096];
    if (answer_early(s, fd) == 0)
        while (io_read(fd, buf, sizeof buf, CORO_NEVER) > 0)
            ;
}

void rawsrv_play_answer_then_reset(rawsrv *s, int fd)
{
    answer_early(s, fd);
    srv_reset_on_close(fd);
}

/* The answer and a FIN first (the client's side goes to CLOSE_WAIT), the
 * RST a moment later: the client's next write then fails with EPIPE,
 * which also raises SIGPIPE unless the write says MSG_NOSIGNAL. */
void rawsrv_play_answer_fin_then_reset(rawsrv *s, int fd)
{
    answer_early(s, fd);
    shutdown(fd, SHUT_WR);
    coro_sleep_until(coro_deadline_in(30));
    srv_reset_on_close(fd);
}

/* A chunked body that never ends: 16 KiB chunks until the client leaves. */
void rawsrv_play_endless_chunks(rawsrv *s, int fd)
{
    static char chunk[6 + 16384 + 2];
    memcpy(chunk, "4000\r\n", 6);
    memset(chunk + 6, 'c', 16384);
    memcpy(chunk + 6 + 16384, "\r\n", 2);
    char buf[4096];
    if (io_read(fd, buf, sizeof buf, coro_deadline_in(2000)) <= 0)
        return;
    if (io_send(fd, s->reply, strlen(s->reply), CORO_NEVER) < 0)
        return;
    while (io_send(fd, chunk, sizeof chunk, CORO_NEVER) > 0)
        ;
}
