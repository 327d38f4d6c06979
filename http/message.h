/* message.h - building a request head and a response object: the bytes
 * and structs of HTTP, with no sockets involved.  Internal to http/.
 */
#ifndef BAREAWAIT_MESSAGE_H
#define BAREAWAIT_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bareawait/client.h>
#include "parse.h"
#include <bareawait/url.h>

/* body_length of a request_spec that is not a size. */
#define BA_BODY_NONE (-1)    /* no body, no framing header */
#define BA_BODY_CHUNKED (-2) /* Transfer-Encoding: chunked */

/* Everything one hop's request head is made of. */
typedef struct request_spec {
    const char *method;           /* a token (checked here) */
    const http_url *url;          /* where it goes */
    bool absolute_form;           /* through a proxy: "GET http://h:p/x" */
    const char *user_agent;       /* the default User-Agent */
    const char *const *headers;   /* the caller's lines, curl's rules */
    size_t n_headers;
    bool cross_origin;            /* not the first URL's origin: the caller's
                                     Authorization, Cookie,
                                     Proxy-Authorization and Host are left out */
    const char *credentials;      /* "user:password" bytes for Basic auth, or
                                     NULL (never given when cross_origin) */
    size_t credentials_len;
    const char *proxy_credentials; /* the same for Proxy-Authorization (only
                                     with absolute_form), or NULL */
    size_t proxy_credentials_len;
    int64_t body_length;          /* >= 0: Content-Length; BA_BODY_NONE;
                                     BA_BODY_CHUNKED */
    const char *body_type;        /* Content-Type of the body, or NULL (given
                                     only with a body; a caller's own
                                     Content-Type line wins) */
} request_spec;

/* Builds "METHOD target HTTP/1.1", then Host, Authorization (Basic, from
 * credentials), User-Agent and Accept -- each replaced in its place by
 * the caller's lines of that name, or removed by a "Name:" line -- the
 * caller's other lines in order, and the body's framing header.  Returns
 * a malloc'd head (*len bytes, NUL-terminated), or NULL with *err =
 * HTTP_E_BAD_REQUEST (a method that is not a token; a line that is not
 * "Name: value", "Name:" or "Name;", has CR, LF or another control byte,
 * or sets Content-Length or Transfer-Encoding, which the client writes
 * itself; a body_type with a control byte) or HTTP_E_NOMEM. */
char *ba_request_head(const request_spec *spec, size_t *len, int *err);

/* Percent-decodes s[0..n) ("%41" -> 'A'; a '%' without two hex digits is
 * kept as it is) into a malloc'd buffer; *out_len bytes, NUL-terminated.
 * NULL if out of memory. */
char *ba_percent_decode(const char *s, size_t n, size_t *out_len);

/* A parsed response head, pointing into the buffer it was parsed from. */
typedef struct response_head {
    int minor_version;            /* 0 or 1 */
    int status;                   /* 100..999 */
    const char *reason;           /* not NUL-terminated: */
    size_t reason_len;            /*   reason[0..reason_len) */
    const http_header *headers;   /* headers[0..n_headers) */
    size_t n_headers;
    const char *raw;              /* the bytes it was parsed from, any interim */
    size_t raw_len;               /*   1xx heads before it: raw[0..raw_len) */
} response_head;

/* "user:password" from s[0..n), percent-decoded if `encoded` (a URL's
 * userinfo), malloc'd, *len bytes, NUL-terminated.  A name without a
 * password ("user", or nothing) gets an empty one, "user:" and ":", as
 * curl sends them; the ':' is looked for before decoding, so "%3A" stays
 * part of the name.  NULL if out of memory. */
char *ba_credentials(const char *s, size_t n, bool encoded, size_t *len);

/* Makes a response for url from a parsed head: one allocation holding
 * the struct, the header array and NUL-terminated copies of every string
 * (a folded value gets one space for each fold), and of h->raw when
 * keep_raw (raw_head; its length is set either way).  NULL if out of
 * memory. */
http_response *ba_response_new(const char *url, const response_head *h, bool keep_raw);

/* Appends body bytes to resp->body (kept NUL-terminated).  0, or
 * HTTP_E_NOMEM. */
int ba_response_append(http_response *r, const char *data, size_t len);

/* Appends trailer-section bytes to resp->raw_trailer (kept
 * NUL-terminated).  0, or HTTP_E_NOMEM. */
int ba_response_append_trailer(http_response *r, const char *data, size_t len);

#endif
