/* fetch_testserver.h - what fetch_testserver.c (connections, requests)
 * and fetch_testserver_routes.c (the answers) share.  A test program's
 * header: nothing here is a library API. */
#ifndef BAREAWAIT_FETCH_TESTSERVER_H
#define BAREAWAIT_FETCH_TESTSERVER_H

#include <stdbool.h>
#include <stddef.h>

#define HEAD_MAX 16384
#define BODY_MAX ((size_t)64 << 20) /* a larger request body gets 413 */

typedef struct conn {
    int fd;
    int serial;             /* 1 for the first accepted connection, ... */
    char buf[HEAD_MAX + 1]; /* bytes read and not yet used, NUL after them */
    size_t have;
} conn;

typedef struct request {
    char method[16];
    char path[512];          /* the request target, query included */
    char head[HEAD_MAX + 1]; /* the request line and header lines as sent,
                                the blank line included */
    size_t head_len;
    const char *headers;     /* the header lines, inside head */
    size_t headers_len;      /* up to and including the blank line */
    bool head_only;          /* a HEAD request: no body in the answer */
    char *body;              /* the request body, de-chunked (malloc'd) */
    size_t body_len;
} request;

/* Connections accepted so far (/stats). */
extern int accepted;

/* Answers r on c.  0 keeps the connection, -1 closes it.  SUSPENDS. */
int dispatch(conn *c, const request *r);

#endif
