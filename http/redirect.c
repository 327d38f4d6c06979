/* redirect.c - the rules of following a redirect.
 *
 * Which method and body the next hop carries is curl's behaviour, itself
 * the browsers': RFC 9110 says a 301/302 should keep the method, but every
 * client turns POST into GET, and servers rely on it.  Which credentials
 * go along is decided by the caller (client.c) with ba_same_origin.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redirect.h"

static bool is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 ||
           status == 308;
}

const char *ba_redirect_location(const http_response *r)
{
    if (!is_redirect(r->status))
        return NULL;
    const char *loc = http_response_header(r, "Location");
    return loc && *loc ? loc : NULL;
}

bool ba_same_origin(const http_url *a, const http_url *b)
{
    return a->port == b->port && a->host_is_ipv6 == b->host_is_ipv6 &&
           strcasecmp(a->host, b->host) == 0;
}

/* Location resolved against base (http_url_join), malloc'd; NULL with
 * *err set.  A Location we cannot make a URL of is the server's fault. */
static char *join(const char *base, const char *loc, int *err)
{
    int code;
    char *out = http_url_join(base, loc, &code);
    if (!out)
        *err = code == HTTP_URL_UNSUPPORTED_SCHEME ? HTTP_E_SCHEME
             : code == HTTP_URL_MALFORMED && errno == ENOMEM ? HTTP_E_NOMEM
             : HTTP_E_MALFORMED;
    return out;
}

int ba_redirect_rewind(const http_request *req, bool with_body)
{
    if (!with_body || !req->body_source)
        return 0; /* memory can be sent again as it is */
    if (!req->body_rewind || req->body_rewind(req->body_user) != 0)
        return HTTP_E_NOT_REPLAYABLE; /* it was read once and is gone */
    return 0;
}

int ba_redirect_follow(hop_plan *p, const http_request *req, const http_response *r)
{
    const char *method = p->method;
    bool with_body = p->with_body;
    bool head = strcmp(method, "HEAD") == 0;
    if (r->status == 303 || ((r->status == 301 || r->status == 302) &&
                             strcmp(method, "POST") == 0)) {
        method = head ? "HEAD" : "GET";
        with_body = false;
    }
    int err = with_body ? ba_redirect_rewind(req, true) : 0;
    if (err)
        return err;
    char *url = join(p->url, ba_redirect_location(r), &err);
    if (!url)
        return err;
    free(p->url);
    p->url = url;
    p->method = method;
    p->with_body = with_body;
    return 0;
}
