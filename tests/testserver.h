/* testserver.h - an in-process HTTP server that plays scripts, for tests.
 *
 * The server is made of coroutines of the runtime under test, living in the
 * same process and the same scheduler as the client it talks to: one
 * coroutine accepts on 127.0.0.1 or ::1 (ephemeral port), and each
 * accepted connection gets its own coroutine that plays a *script*, a list
 * of steps such as "read a request", "send these bytes one at a time",
 * "sleep 50 ms", "reset the connection".  A test says what the server does
 * on the wire; the server counts connections and records requests so the
 * test can check what the client did.
 *
 *     static const ts_step hello[] = {
 *         TS_READ(),
 *         TS_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
 *         TS_LOOP(),                    // keep-alive: serve the next request
 *     };
 *     testserver *ts = ts_start(AF_INET, hello);
 *     ... http_get(client, ts_url(ts, "/x"), &resp) ...
 *     CHECK_INT(ts_connections(ts), 1);
 *     ts_stop(ts);
 *
 * Simple on purpose: there is no routing by path -- a connection's
 * script says what its 1st, 2nd... request gets; a request body is read
 * and recorded, never answered to (no Expect: 100-continue).
 *
 * Calls marked SUSPENDS must come from a coroutine; the others never
 * switch.  Errors: NULL or -1 with errno.
 */
#ifndef BAREAWAIT_TESTSERVER_H
#define BAREAWAIT_TESTSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct addrinfo;

/* What one step of a connection's script does. */
typedef enum ts_op {
    TS_OP_END = 0,      /* end of the script: close the connection */
    TS_OP_READ_REQUEST, /* read up to the blank line that ends a request head
                           and record the head, then its body (by its
                           Content-Length, or chunked), decoded; if the
                           peer closes (or resets) first, the connection
                           ends quietly */
    TS_OP_SEND,         /* write data[0..len) (len 0: strlen(data)); if
                           piece > 0, in pieces of that many bytes with a
                           pause of `ms` (0: one pass of the reactor)
                           between pieces */
    TS_OP_SEND_BODY,    /* write len bytes of ts_pattern_byte(0...): as they
                           are, or if `chunked`, as chunks of `piece` bytes
                           (0: 64 KiB) ending with "0\r\n\r\n" */
    TS_OP_SLEEP,        /* pause for `ms`; 0: one pass of the reactor,
                           which wakes a peer parked on the data just
                           sent before our timer (a clean two-part
                           delivery without a real delay) */
    TS_OP_CLOSE,        /* close (FIN; the kernel sends RST instead if
                           request bytes were left unread) */
    TS_OP_RESET,        /* close with SO_LINGER {1, 0}: the peer gets RST */
    TS_OP_SHUTDOWN_WR,  /* shutdown(SHUT_WR): the peer reads EOF, and the
                           script goes on (it can still read) */
    TS_OP_DRAIN,        /* read and discard until the peer closes */
    TS_OP_LOOP          /* start the script again at its first step */
} ts_op;

/* One step.  Fields a step does not use stay zero. */
typedef struct ts_step {
    ts_op op;
    const char *data; /* SEND: the bytes (borrowed: keep them alive) */
    size_t len;       /* SEND: how many (0: strlen(data)); SEND_BODY: size */
    size_t piece;     /* SEND: bytes per write (0: all at once);
                         SEND_BODY chunked: chunk size (0: 64 KiB) */
    int ms;           /* SEND: pause between pieces; SLEEP: duration */
    bool chunked;     /* SEND_BODY: use the chunked coding */
} ts_step;

/* Step constructors, for script tables. */
#define TS_READ() {.op = TS_OP_READ_REQUEST}
#define TS_SEND(str) {.op = TS_OP_SEND, .data = (str)}
#define TS_SEND_N(ptr, n) {.op = TS_OP_SEND, .data = (ptr), .len = (n)}
#define TS_DRIP(str, piece_bytes, pause_ms) \
    {.op = TS_OP_SEND, .data = (str), .piece = (piece_bytes), .ms = (pause_ms)}
#define TS_SEND_BODY(size) {.op = TS_OP_SEND_BODY, .len = (size)}
#define TS_SEND_CHUNKED_BODY(size, chunk) \
    {.op = TS_OP_SEND_BODY, .len = (size), .piece = (chunk), .chunked = true}
#define TS_SLEEP(pause_ms) {.op = TS_OP_SLEEP, .ms = (pause_ms)}
#define TS_CLOSE() {.op = TS_OP_CLOSE}
#define TS_RESET() {.op = TS_OP_RESET}
#define TS_SHUTDOWN_WR() {.op = TS_OP_SHUTDOWN_WR}
#define TS_DRAIN() {.op = TS_OP_DRAIN}
#define TS_LOOP() {.op = TS_OP_LOOP}
#define TS_END() {.op = TS_OP_END}

typedef struct testserver testserver; /* opaque */

/* Starts a server on 127.0.0.1 (AF_INET) or ::1 (AF_INET6), port chosen by
 * the kernel, whose every connection plays `script` (ended by TS_END() or
 * TS_LOOP()).  The steps are borrowed: they must outlive the server.
 * Returns the server, or NULL with errno (EADDRNOTAVAIL: no ::1 here).
 * Spawns the accept coroutine; does not suspend. */
testserver *ts_start(int family, const ts_step *script);

/* Like ts_start, but the i-th accepted connection (0-based) plays
 * scripts[i], and every connection after the n-th plays scripts[n - 1].
 * The pointer array is copied (n <= 16); the steps are borrowed. */
testserver *ts_start_scripts(int family, const ts_step *const *scripts, size_t n);

/* The "fast path" for load tests: every request on every connection gets
 * "HTTP/1.1 200 OK" with Content-Length and `body`, keep-alive, for any
 * number of connections.  body is copied. */
testserver *ts_start_fixed(int family, const char *body);

/* Stops the server: cancels the accept coroutine and every connection
 * coroutine, waits for them to finish, closes every fd and frees
 * everything (strings from ts_url and ts_request included).
 * SUSPENDS until its coroutines are gone (they end at their next wait). */
void ts_stop(testserver *ts);

/* The server's port. */
int ts_port(const testserver *ts);

/* "127.0.0.1:PORT" or "[::1]:PORT": what a Host header should say. */
const char *ts_authority(const testserver *ts);

/* "http://127.0.0.1:PORT" + path (path should start with '/').  The
 * string is owned by the server and lives until ts_stop. */
const char *ts_url(testserver *ts, const char *path);

/* Connections accepted so far. */
int ts_connections(const testserver *ts);

/* Connections open right now, and the most that were ever open at once. */
int ts_open_connections(const testserver *ts);
int ts_max_open_connections(const testserver *ts);

/* Request heads read so far (by TS_READ steps). */
int ts_requests(const testserver *ts);

/* The i-th request head received (0-based), NUL-terminated, blank line
 * included; NULL if there is no such request.  Owned by the server. */
const char *ts_request(const testserver *ts, int i);

/* The i-th request's body, decoded from its Content-Length or chunked
 * framing, NUL-terminated ("" if it had none), its length in *len (when
 * len is not NULL); NULL if there is no such request.  Owned by the
 * server. */
const char *ts_request_body(const testserver *ts, int i, size_t *len);

/* The 0-based number of the connection the i-th request came on, or -1. */
int ts_request_connection(const testserver *ts, int i);

/* The last request head received, or NULL if none. */
const char *ts_last_request(const testserver *ts);

/* SUSPENDS.  Waits until the server has read at least n requests; 0, or
 * -1/ETIMEDOUT after timeout_ms (polls every millisecond: simple on
 * purpose). */
int ts_wait_requests(const testserver *ts, int n, int64_t timeout_ms);

/* ---- helpers for request heads ---- */

/* How many header lines of `head` are named `name` (case-insensitive);
 * copies the value of the first one, trimmed, into value[0..size) when
 * value is not NULL (empty string if there is none).  The request line is
 * not a header. */
int ts_head_header(const char *head, const char *name, char *value, size_t size);

/* Copies the request line of head (without CRLF) into out[0..size). */
void ts_head_request_line(const char *head, char *out, size_t size);

/* ---- the body pattern of TS_SEND_BODY ---- */

/* Byte i of every generated body: not periodic at any power of two, so a
 * lost, repeated or misplaced block shows up. */
static inline unsigned char ts_pattern_byte(uint64_t i)
{
    return (unsigned char)(i % 251 + (i >> 16) * 7);
}

/* ---- places where nothing answers ---- */

/* A port on 127.0.0.1 (or ::1) where nothing listens: bound, read, and
 * closed again.  Does not suspend.  Returns the port or -1/errno. */
int ts_unused_port(int family);

/* A listening socket whose accept queue is full (backlog 0 and one
 * connection already queued), so that a new connect's SYN is dropped and
 * the connect hangs until its timeout.  Does not suspend. */
typedef struct ts_blackhole {
    int listen_fd;  /* listen(fd, 0) */
    int filler_fd;  /* the connection that fills the queue */
    int port;       /* where to connect to hang */
} ts_blackhole;
int ts_blackhole_open(ts_blackhole *bh);    /* 0 or -1/errno */
void ts_blackhole_close(ts_blackhole *bh);

/* ---- a name lookup stand-in for http_set_lookup ---- */

/* Resolves, on the resolver thread:
 *   "nxdomain.test"         fails with EAI_NONAME;
 *   "slow-N.test"           sleeps N milliseconds, then answers 127.0.0.1;
 *   "v4.test"               answers 127.0.0.1;
 *   "v6.test"               answers ::1;
 *   "both.test"             answers ::1, then 127.0.0.1;
 *   any other name          is given to getaddrinfo as it is.
 * The result must be freed with freeaddrinfo, as getaddrinfo's. */
int ts_lookup(const char *host, const char *port, const struct addrinfo *hints,
              struct addrinfo **res);

/* How many times ts_lookup was called (any thread). */
int ts_lookup_calls(void);

/* ---- running a test ---- */

/* Called from main(), not from a coroutine: runs body(arg) in a fresh
 * coroutine with the runtime (coro_run) until every coroutine has ended,
 * and compares the number of open fds before and after.  Prints
 * "-- name" first, and what went wrong if anything did.  Returns 0, or -1
 * if fds leaked, coro_run failed (deadlock) or the body could not start. */
int ts_run(const char *name, void (*body)(void *arg), void *arg);

/* Whether the process runs under valgrind or a sanitizer (ASan), which
 * make it much slower or bigger: tests scale their loops down. */
bool ts_slow_tools(void);
bool ts_on_valgrind(void);

/* Milliseconds since an arbitrary point on coro_now()'s clock. */
int64_t ts_now_ms(void);

#endif
