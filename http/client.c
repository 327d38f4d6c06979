/* client.c - the client's lifecycle and the request loop:
 *
 *   http_send
 *     for each redirect hop:
 *       parse the URL, build the request head     (url.c, message.c)
 *       take a slot and maybe an idle connection  (pool.c)
 *       connect if there is none                  (conn.c, resolve.c)
 *       send and receive                          (exchange.c, parse.c)
 *       give the slot back, keeping the connection if it can be reused
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ba_config.h"
#include "conn.h"
#include "exchange.h"
#include "message.h"
#include <bareawait/url.h>

struct http_client {
    http_client_opts opts;  /* with defaults filled in */
    char *user_agent;       /* our copy */
    pool pool;              /* kept-alive connections */
    int in_flight;          /* requests running now */
};

static const char *const messages[] = {
    [-HTTP_OK] = "ok",
    [-HTTP_E_SCHEME] = "unsupported protocol (only http://; TLS is out of scope)",
    [-HTTP_E_URL] = "malformed URL",
    [-HTTP_E_RESOLVE] = "could not resolve host",
    [-HTTP_E_CONNECT] = "could not connect",
    [-HTTP_E_CONNECT_TIMEOUT] = "connect timed out",
    [-HTTP_E_READ_TIMEOUT] = "read timed out (server sent nothing)",
    [-HTTP_E_TOTAL_TIMEOUT] = "request timed out (total time limit)",
    [-HTTP_E_MALFORMED] = "malformed response",
    [-HTTP_E_HEAD_TOO_LARGE] = "response head too large",
    [-HTTP_E_TRUNCATED] = "body shorter than announced (connection closed early)",
    [-HTTP_E_RESET] = "connection reset",
    [-HTTP_E_EMPTY_REPLY] = "empty reply from server",
    [-HTTP_E_TOO_MANY_REDIRECTS] = "too many redirects",
    [-HTTP_E_BODY_TOO_LARGE] = "body larger than the limit",
    [-HTTP_E_NOMEM] = "out of memory",
    [-HTTP_E_ABORTED] = "aborted by the caller",
    [-HTTP_E_CANCELLED] = "cancelled",
    [-HTTP_E_BAD_REQUEST] = "bad request (method or header)",
};

const char *http_strerror(int err)
{
    if (err > 0 || -err >= (int)(sizeof messages / sizeof messages[0]))
        return "unknown error";
    return messages[-err];
}

static int64_t or_default(int64_t v, int64_t dflt)
{
    return v == 0 ? dflt : v;
}

http_client *http_client_open(const http_client_opts *opts)
{
    http_client *c = calloc(1, sizeof *c);
    if (!c)
        goto nomem;
    if (opts)
        c->opts = *opts;
    http_client_opts *o = &c->opts;
    o->connect_timeout_ms = or_default(o->connect_timeout_ms, 10000);
    o->read_timeout_ms = or_default(o->read_timeout_ms, 30000);
    o->max_per_host = o->max_per_host > 0 ? o->max_per_host : 10;
    o->idle_timeout_ms = or_default(o->idle_timeout_ms, 5000);
    o->max_redirects = o->max_redirects < 0 ? 0 : o->max_redirects ? o->max_redirects : 20;
    o->max_head_bytes = o->max_head_bytes ? o->max_head_bytes : 64 * 1024;
    c->user_agent = strdup(o->user_agent ? o->user_agent : "bareawait/" BA_VERSION);
    if (!c->user_agent)
        goto nomem;
    o->user_agent = c->user_agent;
    c->pool.max_per_host = o->max_per_host;
    c->pool.idle_timeout_ns = o->idle_timeout_ms * 1000000;
    return c;
nomem:
    free(c);
    errno = ENOMEM;
    return NULL;
}

void http_client_close(http_client *c)
{
    if (!c)
        return;
    assert(c->in_flight == 0 && "http_client_close with requests in flight");
    ba_pool_close(&c->pool);
    free(c->user_agent);
    free(c);
}

static int pool_error(void)
{
    return errno == ECANCELED ? HTTP_E_CANCELLED
         : errno == ENOMEM ? HTTP_E_NOMEM : HTTP_E_TOTAL_TIMEOUT;
}

/* "host:port", the pool's key, into key[0..300): memcpy and a few
 * digits, not a snprintf on every request. */
static void host_key(const http_url *u, char key[300])
{
    size_t n = strlen(u->host); /* at most 255 */
    memcpy(key, u->host, n);
    key[n++] = ':';
    char digits[5];
    int d = 0;
    unsigned port = u->port;
    do
        digits[d++] = (char)('0' + port % 10);
    while ((port /= 10) != 0);
    while (d > 0)
        key[n++] = digits[--d];
    key[n] = '\0';
}

/* SUSPENDS.  One hop: one request and its response, on a kept-alive
 * connection if there is one.  A kept-alive connection may have been
 * closed by the server while idle; if it fails before a single byte of
 * reply, the request is sent once more on a fresh connection. */
static int hop(http_client *c, const http_url *u, exchange *x)
{
    char key[300];
    host_key(u, key);
    struct pool_host *host;
    struct conn *conn;
    if (ba_pool_acquire(&c->pool, key, x->dl->total, &host, &conn) < 0)
        return pool_error();
    int err;
    for (int attempt = 0;; attempt++) {
        if (conn && c->opts.on_event)
            c->opts.on_event(c->opts.event_user, HTTP_EV_REUSED, conn->fd, key);
        if (!conn && (err = ba_conn_open(u->host, u->port, x->dl, &c->opts, &conn)) != 0)
            break;
        x->got_bytes = false;
        err = ba_exchange_run(conn, x);
        bool stale = err && conn->reused && !x->got_bytes &&
                     (err == HTTP_E_RESET || err == HTTP_E_EMPTY_REPLY);
        if (!stale || attempt > 0)
            break;
        http_response_free(x->resp);
        x->resp = NULL;
        ba_conn_close(conn);
        conn = NULL;
    }
    ba_pool_release(&c->pool, host, conn, err == 0 && x->reusable);
    return err;
}

/* Where a redirect points, resolved against the URL that sent it. */
static int next_url(const http_response *r, char *url, size_t size)
{
    char base[4096];
    snprintf(base, sizeof base, "%s", url);
    if (http_url_resolve(base, http_response_header(r, "Location"), url, size) < 0)
        return HTTP_E_MALFORMED;
    return 0;
}

static int url_error(int code)
{
    return code == HTTP_URL_UNSUPPORTED_SCHEME ? HTTP_E_SCHEME : HTTP_E_URL;
}

/* SUSPENDS.  The redirect loop around hop(). */
static int send_hops(http_client *c, const http_request *req, const deadlines *dl,
                     http_response **out)
{
    char url[4096];
    size_t url_len = strlen(req->url);
    if (url_len >= sizeof url)
        return HTTP_E_URL;
    memcpy(url, req->url, url_len + 1);
    const char *method = req->method ? req->method : "GET";
    for (int redirects = 0;; redirects++) {
        http_url u;
        int code = http_url_parse(url, &u);
        if (code != HTTP_URL_OK)
            return url_error(code);
        exchange x = {.req = req, .url = url, .dl = dl,
                      .head_only = strcmp(method, "HEAD") == 0,
                      .max_head = c->opts.max_head_bytes,
                      .follow_redirects = c->opts.follow_redirects,
                      .opts = &c->opts};
        int err;
        char *head = ba_request_head(method, &u, c->user_agent, req->headers,
                                  req->n_headers, &x.head_len, &err);
        if (!head)
            return err;
        x.head = head;
        err = hop(c, &u, &x);
        free(head);
        *out = x.resp;
        if (x.resp)
            x.resp->redirects = redirects;
        if (err || !x.redirect)
            return err;
        assert(x.resp); /* take_head made it before it set x.redirect */
        if (redirects >= c->opts.max_redirects)
            return HTTP_E_TOO_MANY_REDIRECTS;
        if ((err = next_url(x.resp, url, sizeof url)) != 0)
            return err;
        if (c->opts.on_event)
            c->opts.on_event(c->opts.event_user, HTTP_EV_REDIRECT, -1, url);
        if (x.resp->status == 303)
            method = x.head_only ? "HEAD" : "GET";
        http_response_free(x.resp);
        *out = NULL;
    }
}

int http_send(http_client *c, const http_request *req, http_response **out)
{
    *out = NULL;
    deadlines dl = {
        .total = c->opts.total_timeout_ms > 0 ? coro_deadline_in(c->opts.total_timeout_ms)
                                              : CORO_NEVER,
        .connect_ns = c->opts.connect_timeout_ms < 0 ? -1 : c->opts.connect_timeout_ms * 1000000,
        .read_ns = c->opts.read_timeout_ms < 0 ? -1 : c->opts.read_timeout_ms * 1000000,
    };
    c->in_flight++;
    int err = send_hops(c, req, &dl, out);
    c->in_flight--;
    return err;
}

int http_get(http_client *c, const char *url, http_response **out)
{
    http_request req = {.method = "GET", .url = url};
    return http_send(c, &req, out);
}
