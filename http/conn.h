/* conn.h - one TCP connection to a server and its read buffer.  The pool
 * of kept-alive connections is in pool.h, included at the end.  Internal
 * to http/.
 */
#ifndef BAREAWAIT_CONN_H
#define BAREAWAIT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "parse.h"

#define CONN_FIRST_HEADERS 128 /* room for response headers at first; grows */
/* The name tests/fuzz's model (fz_model.h) checks its first room against. */
#define CONN_MAX_HEADERS CONN_FIRST_HEADERS

/* The deadlines one request runs under (absolute, on coro_now's clock). */
typedef struct deadlines {
    int64_t total;       /* the whole request; CORO_NEVER if none */
    int64_t connect_ns;  /* length allowed for resolve + connect; <0 none */
    int64_t read_ns;     /* longest silence allowed while reading; <0 none */
} deadlines;

/* ms in nanoseconds, saturated: CORO_NEVER above what int64_t holds
 * (-CORO_NEVER below), so that a huge timeout is "no timeout", never a
 * signed overflow.  The one place http/ turns ms into ns. */
int64_t ba_ms_to_ns(int64_t ms);

/* The earlier of dl->total and step_ns from now (step_ns < 0: none),
 * without overflow for a huge step_ns. */
int64_t ba_step_deadline(const deadlines *dl, int64_t step_ns);

struct pool_host;

struct conn {
    int fd;
    struct conn *next;           /* link in its host's idle list */
    struct pool_host *host;      /* the host:port it belongs to */
    int64_t idle_since;          /* when it was last returned to the pool */
    bool reused;                 /* it carried a request before this one */
    char *buf;                   /* bytes read and not yet consumed: */
    size_t len;                  /*   buf[0..len) */
    size_t cap;                  /*   room in buf */
    http_header *headers;        /* the parsed response head's headers: */
    size_t max_headers;          /*   room in headers */
};

/* SUSPENDS.  Resolves host, then tries each address in turn until one
 * accepts.  Returns 0 and *out, or an HTTP_E* code (RESOLVE, CONNECT,
 * CONNECT_TIMEOUT, TOTAL_TIMEOUT, CANCELLED, NOMEM) with errno set. */
int ba_conn_open(const char *host, uint16_t port, const deadlines *dl,
              const http_client_opts *opts, struct conn **out);

/* Closes the socket and frees the connection.  Does not suspend. */
void ba_conn_close(struct conn *c);

/* SUSPENDS.  Reads more bytes into c->buf (growing it up to `limit`
 * bytes in all).  Returns the count, 0 at end of stream, or an HTTP_E*
 * code: RESET, READ_TIMEOUT, TOTAL_TIMEOUT (also when the total deadline
 * has passed while bytes kept coming), CANCELLED, NOMEM. */
long ba_conn_fill(struct conn *c, size_t limit, const deadlines *dl);

/* SUSPENDS.  Parks until c is readable: right after a request is sent the
 * reply cannot be there yet (the server has to run first), so waiting at
 * once saves a read() that would only say EAGAIN.  0, or an HTTP_E* code:
 * READ_TIMEOUT, TOTAL_TIMEOUT, CANCELLED. */
long ba_conn_await_reply(struct conn *c, const deadlines *dl);

/* Drops the first n buffered bytes. */
void ba_conn_consume(struct conn *c, size_t n);

/* Doubles c->headers, for a head with more headers than it holds.  The
 * count is capped where max_head bytes could not hold more lines ("a:"
 * and CRLF is the shortest), so that the byte limit, not a count, is the
 * real limit.  0, or HTTP_E_HEAD_TOO_LARGE (at the cap) or HTTP_E_NOMEM. */
int ba_conn_grow_headers(struct conn *c, size_t max_head);

/* The HTTP_E* code for a runtime call that failed with errno: ETIMEDOUT
 * is `step_timeout`, or HTTP_E_TOTAL_TIMEOUT once dl->total has passed;
 * ECANCELED is HTTP_E_CANCELLED; ENOMEM HTTP_E_NOMEM; anything else
 * `other`.  The one place where errno becomes a code; errno is kept. */
int ba_io_error(const deadlines *dl, int step_timeout, int other);

/* Calls o->on_event if there is one. */
void ba_emit(const http_client_opts *o, http_event ev, int fd, const char *detail);

/* The pool of kept-alive connections (pool.c) is declared in pool.h. */
#include "pool.h"

#endif
