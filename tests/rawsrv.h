/* rawsrv.h - a one-connection server of our own, for the hostile tests.
 *
 * It does what a testserver.h script cannot: a tiny receive buffer, so
 * that a big request blocks the client's write, and any behaviour a test
 * writes as a `play` function (an endless chunked body, an answer before
 * the request is read, a reset while the client writes).  It accepts one
 * connection on 127.0.0.1 in a coroutine of its own, hands it to play,
 * and closes it when play returns.  Used by test_hostile.c and
 * test_hostile_close.c; the code is in rawsrv.c.
 */
#ifndef BAREAWAIT_RAWSRV_H
#define BAREAWAIT_RAWSRV_H

#include <bareawait/coro.h>

typedef struct rawsrv rawsrv;

/* Filled by rawsrv_start; the caller owns the struct (on its stack). */
struct rawsrv {
    int lfd;                         /* the listening socket */
    char url[64];                    /* "http://127.0.0.1:PORT/" */
    void (*play)(rawsrv *s, int fd); /* SUSPENDS: what to do with the connection */
    const char *reply;               /* what play sends, if it sends */
    coro_t *co;                      /* the coroutine that accepts and plays */
};

/* Listens on 127.0.0.1 with a receive buffer of `rcvbuf` bytes (0: the
 * default), inherited by the accepted socket, and spawns the coroutine
 * that accepts one connection and runs play(s, fd) on it; `reply` is
 * borrowed (play may send it).  0, or -1 if the socket or the coroutine
 * could not be made.  Does not suspend. */
int rawsrv_start(rawsrv *s, int rcvbuf, void (*play)(rawsrv *, int), const char *reply);

/* Cancels the server's coroutine (play's next wait returns), joins it and
 * closes the listening socket.  SUSPENDS until the server's coroutine has
 * ended. */
void rawsrv_stop(rawsrv *s);

/* ---- plays: what the server does with its connection ----
 * Each SUSPENDS, and returns when it is done or cancelled (rawsrv_stop). */

/* Never reads, never writes: waits until rawsrv_stop cancels it. */
void rawsrv_play_never_read(rawsrv *s, int fd);

/* Waits for the first bytes of the request, sends s->reply, then reads and
 * discards the rest of the request until the client closes. */
void rawsrv_play_answer_then_drain(rawsrv *s, int fd);

/* Waits for the first bytes of the request, sends s->reply, then closes
 * with an RST while the client is still writing. */
void rawsrv_play_answer_then_reset(rawsrv *s, int fd);

/* Waits for the first bytes of the request, sends s->reply and a FIN,
 * then an RST 30 ms later. */
void rawsrv_play_answer_fin_then_reset(rawsrv *s, int fd);

/* Waits for the first bytes of the request, sends s->reply (a chunked
 * head), then 16 KiB chunks until the client leaves. */
void rawsrv_play_endless_chunks(rawsrv *s, int fd);

#endif
