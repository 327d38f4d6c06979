/* testserver_internal.h - internal to the testserver library (testserver.c
 * and testserver_helpers.c): what one of its files uses of the other.
 * Tests include testserver.h, never this.
 */
#ifndef BAREAWAIT_TESTSERVER_INTERNAL_H
#define BAREAWAIT_TESTSERVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <bareawait/coro.h>
#include "testserver.h"

#define MAX_SCRIPTS 16          /* per-connection scripts of ts_start_scripts */
#define MAX_REQUEST_HEAD 16384  /* a request head bigger than this ends the
                                   connection */

typedef struct ts_conn {
    struct ts_conn *next;       /* in the server's list of live connections */
    struct ts_conn **prev_next; /* the pointer that points at us */
    testserver *ts;
    coro_t *co;                 /* the coroutine playing the script */
    int fd;                     /* -1 once closed */
    int index;                  /* 0 for the first accepted connection... */
    const ts_step *script;
    size_t have;                /* bytes in buf not yet taken as a request */
    char buf[MAX_REQUEST_HEAD]; /* what was read of the next request */
} ts_conn;

/* Heap strings the server hands out and frees at ts_stop. */
typedef struct ts_strings {
    char **items;
    size_t n, cap;
} ts_strings;

struct testserver {
    int family;                 /* AF_INET or AF_INET6 */
    int lfd;                    /* the listening socket */
    int port;
    char authority[64];         /* "127.0.0.1:PORT" or "[::1]:PORT" */
    const ts_step *scripts[MAX_SCRIPTS]; /* per connection; the last repeats */
    size_t n_scripts;
    ts_step fixed[4];           /* the script of ts_start_fixed... */
    char *fixed_response;       /* ...and the response it sends */
    coro_t *acceptor;           /* the accept coroutine (joined at stop) */
    ts_conn *conns;             /* live connections */
    coro_t *stopper;            /* ts_stop waiting for conns to empty */
    bool stopping;
    int accepted;               /* connections accepted */
    int open_now, open_max;     /* connections open now / at most */
    ts_strings requests;        /* request heads, in order */
    ts_strings bodies;          /* their bodies, decoded, NUL-terminated */
    size_t *body_len;           /* the length of each body */
    int *request_conn;          /* connection index of each request */
    ts_strings urls;            /* strings returned by ts_url */
};

/* What a step tells the connection loop: go on, restart the script, stop. */
enum { STEP_NEXT, STEP_AGAIN, STEP_STOP };

/* Appends str (taken over) to s: 0, or -1 (out of memory; str not taken). */
int ts_strings_add(ts_strings *s, char *str);

/* SUSPENDS.  The TS_READ step: a request head and its body, recorded.
 * STEP_NEXT, or STEP_STOP when the peer closed, reset, we were cancelled
 * or the head was absurd.  (In testserver_read.c.) */
int ts_step_read_request(ts_conn *cn);

/* A socket bound to the loopback address of `family`, port 0 (the kernel
 * picks), non-blocking and close-on-exec, not yet listening; *port
 * receives the port.  Returns the fd or -1/errno.  Does not suspend.
 * (In testserver_helpers.c.) */
int ts_bound_socket(int family, int *port);

#endif
