/* redirect.h - following a 3xx: where the next hop goes, with which
 * method and body, and whether the first URL's credentials may go along.
 * No sockets; does not suspend.  Internal to http/.
 */
#ifndef BAREAWAIT_REDIRECT_H
#define BAREAWAIT_REDIRECT_H

#include <stdbool.h>

#include <bareawait/client.h>
#include <bareawait/url.h>

/* What one hop of a request sends, and where. */
typedef struct hop_plan {
    char *url;          /* absolute URL of the hop, malloc'd (owned) */
    const char *method; /* the request's method, or GET (HEAD) after a
                           redirect that turns it into one */
    bool with_body;     /* the request's body goes with this hop */
} hop_plan;

/* r's Location when r is a redirect the client follows (301, 302, 303,
 * 307, 308) and it has a non-empty one; else NULL: r is the answer. */
const char *ba_redirect_location(const http_response *r);

/* Moves *p on to the hop redirect r leads to, as curl does: the Location
 * joined to p->url; 303 makes it a GET without a body (HEAD stays HEAD),
 * 301 and 302 make a POST a GET without a body, 307 and 308 keep method
 * and body.  0, or an HTTP_E* code with *p unchanged: NOT_REPLAYABLE (the
 * body must go again but came from a body_source that cannot start over),
 * MALFORMED (a Location that is not a URL), SCHEME (one we cannot fetch),
 * NOMEM.  SUSPENDS (through body_rewind). */
int ba_redirect_follow(hop_plan *p, const http_request *req, const http_response *r);

/* The body is about to go again (with_body: the hop sends one): a
 * body_source is started over with body_rewind.  0, or NOT_REPLAYABLE
 * when there is no body_rewind or it fails.  SUSPENDS (body_rewind may). */
int ba_redirect_rewind(const http_request *req, bool with_body);

/* Whether a and b are one origin: the same scheme (always http here),
 * host (ASCII-case-insensitively, as written: 127.0.0.1 is not localhost)
 * and port.  Only host, host_is_ipv6 and port are looked at. */
bool ba_same_origin(const http_url *a, const http_url *b);

#endif
