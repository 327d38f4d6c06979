/* fetch_request.c - the request fetch sends for one URL, from the options:
 * method, URL, headers.  fetch_run.c adds its callbacks (where the body
 * goes, -v, -f) and sends it. */
#include <string.h>

#include "fetch.h"

void fetch_request_init(const fetch_job *j, http_request *req)
{
    const fetch_opts *o = j->run->o;
    memset(req, 0, sizeof *req);
    req->method = o->head_only ? "HEAD" : "GET";
    req->url = j->url;
    req->headers = (const char *const *)o->headers;
    req->n_headers = o->n_headers;
}
