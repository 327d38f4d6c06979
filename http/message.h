/* message.h - building a request head and a response object: the bytes
 * and structs of HTTP, with no sockets involved.  Internal to http/.
 */
#ifndef BAREAWAIT_MESSAGE_H
#define BAREAWAIT_MESSAGE_H

#include <stddef.h>

#include <bareawait/client.h>
#include "parse.h"
#include <bareawait/url.h>

/* Builds "METHOD target HTTP/1.1" with Host, User-Agent, Accept and the
 * caller's headers (which replace a default of the same name).  Returns a
 * malloc'd head (*len bytes, NUL-terminated), or NULL with *err =
 * HTTP_E_BAD_REQUEST (a header without a colon or with CR/LF, a bad
 * method) or HTTP_E_NOMEM. */
char *ba_request_head(const char *method, const http_url *u, const char *user_agent,
                   const char *const *headers, size_t n, size_t *len, int *err);

/* Makes a response from a parsed head: one allocation holding the struct,
 * the header array and NUL-terminated copies of every string.  NULL if out
 * of memory. */
http_response *ba_response_new(const char *url, int minor_version, int status,
                            const char *reason, size_t reason_len,
                            const http_header *h, size_t n);

/* Appends body bytes to resp->body (kept NUL-terminated).  0, or
 * HTTP_E_NOMEM. */
int ba_response_append(http_response *r, const char *data, size_t len);

#endif
