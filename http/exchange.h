/* exchange.h - one request and its response over one connection: send
 * the head, read the response head (1xx heads passed over), then the body by its
 * framing.  Internal to http/.
 */
#ifndef BAREAWAIT_EXCHANGE_H
#define BAREAWAIT_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include <bareawait/client.h>
#include "conn.h"

typedef struct exchange {
    /* in */
    const http_request *req;      /* callbacks, sink, max_body */
    const char *url;              /* the URL being fetched now */
    bool head_only;               /* a HEAD request: no body follows */
    const char *head;             /* the request head's bytes... */
    size_t head_len;              /* ...and their length */
    bool with_body;               /* req's body (body or body_source) follows
                                     the head, framed as the head says */
    const deadlines *dl;
    size_t max_head;              /* response head limit */
    bool follow_redirects;        /* a 3xx with Location is not final */
    const http_client_opts *opts; /* for events */
    /* out */
    http_response *resp;          /* once the head arrived */
    bool got_bytes;               /* any response byte arrived */
    bool reusable;                /* the connection may carry another request */
    bool redirect;                /* resp is a redirect to follow */
    uint64_t dropped;             /* body bytes of a redirect, read and not
                                     kept (resp->body_len stays 0) */
} exchange;

/* SUSPENDS.  Runs the exchange on c.  0, or an HTTP_E* code (x->resp may
 * be set even then: a truncated body still has a head). */
int ba_exchange_run(struct conn *c, exchange *x);

#endif
