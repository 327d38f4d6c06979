/* client.c - the client's lifecycle and the request loop:
 *
 *   http_send
 *     for each redirect hop:
 *       parse the URL, build the request head     (url.c, message.c)
 *       take a slot and maybe an idle connection  (pool.c)
 *       connect if there is none                  (conn.c, resolve.c)
 *       send and receive                          (exchange.c, parse.c)
 *       give the slot back, keeping the connection if it can be reused
 *       decide the next hop                       (redirect.c)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ba_config.h"
#include "chars.h"
#include "conn.h"
#include "exchange.h"
#include "message.h"
#include "proxy.h"
#include "misuse.h"
#include "redirect.h"
#include <bareawait/url.h>


struct http_client {
    http_client_opts opts;  /* with defaults filled in; strings are ours */
    char *user_agent;       /* our copy */
    bool has_proxy;         /* opts.proxy was given: */
    proxy proxy;            /*   parsed, with its credentials */
    char *no_proxy;         /* our copy, or NULL */
    pool pool;              /* kept-alive connections */
    int in_flight;          /* requests running now */
    pthread_t owner;        /* the thread that opened it: its sockets are
                               in that thread's reactor */
};

/* One http_send: what stays the same over its hops. */
typedef struct request_run {
    http_client *c;
    const http_request *req;
    deadlines dl;
    bool started;           /* the first hop has set `first` */
    http_url first;         /* the first URL's origin: host and port (its
                               target and userinfo are cleared) */
    char *credentials;      /* "user:password" for the first origin, or NULL */
    size_t credentials_len;
    int why;                /* errno where the failure happened */
} request_run;

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
    [-HTTP_E_UNSUPPORTED_CODING] = "unsupported transfer coding (only chunked)",
    [-HTTP_E_NOT_REPLAYABLE] = ("redirect needs the request body again, "
                                "but it came from a stream"),
    [-HTTP_E_SEND_BODY] = "could not read the request body",
    [-HTTP_E_SEND_BODY_SHORT] = "request body shorter than its announced length",
    [-HTTP_E_SEND_BODY_LONG] = "request body longer than its announced length",
};

const char *http_strerror(int err)
{
    if (err > 0 || -err >= (int)(sizeof messages / sizeof messages[0]))
        return "unknown error";
    return messages[-err];
}

/* ---- opening and closing ---- */

static int64_t or_default(int64_t v, int64_t dflt)
{
    return v == 0 ? dflt : v;
}

/* Whether s can be a header's value: no control byte but tab. */
static bool is_header_value(const char *s)
{
    for (; *s; s++)
        if (ba_is_bad_ctl((unsigned char)*s))
            return false;
    return true;
}

/* Copies the option strings; checks the User-Agent; parses the proxy.
 * 0, or -1/errno. */
static int take_strings(http_client *c)
{
    http_client_opts *o = &c->opts;
    c->user_agent = strdup(o->user_agent ? o->user_agent : "bareawait/" BA_VERSION);
    c->no_proxy = o->no_proxy ? strdup(o->no_proxy) : NULL;
    if (!c->user_agent || (o->no_proxy && !c->no_proxy)) {
        errno = ENOMEM;
        return -1;
    }
    if (!is_header_value(c->user_agent)) {
        errno = EINVAL; /* a CR or LF would start another header line */
        return -1;
    }
    o->user_agent = c->user_agent;
    o->no_proxy = c->no_proxy;
    c->has_proxy = o->proxy != NULL;
    if (c->has_proxy && ba_proxy_parse(o->proxy, &c->proxy) < 0)
        return -1;
    o->proxy = c->proxy.text;
    return 0;
}

static void free_client(http_client *c)
{
    free(c->user_agent);
    ba_proxy_free(&c->proxy);
    free(c->no_proxy);
    free(c);
}

http_client *http_client_open(const http_client_opts *opts)
{
    http_client *c = calloc(1, sizeof *c);
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    if (opts)
        c->opts = *opts;
    http_client_opts *o = &c->opts;
    o->connect_timeout_ms = or_default(o->connect_timeout_ms, 10000);
    o->read_timeout_ms = or_default(o->read_timeout_ms, 30000);
    o->max_per_host = o->max_per_host > 0 ? o->max_per_host : 10;
    o->idle_timeout_ms = or_default(o->idle_timeout_ms, 5000);
    o->max_redirects = o->max_redirects < 0 ? 0 : o->max_redirects ? o->max_redirects : 20;
    o->max_head_bytes = o->max_head_bytes ? o->max_head_bytes : 64 * 1024;
    if (take_strings(c) < 0) {
        int e = errno;
        free_client(c);
        errno = e;
        return NULL;
    }
    c->pool.max_per_host = o->max_per_host;
    c->pool.idle_timeout_ns = ba_ms_to_ns(o->idle_timeout_ms);
    c->owner = pthread_self();
    return c;
}

/* A client is used on the thread that opened it only. */
static void check_thread(const char *call, const http_client *c)
{
    if (!pthread_equal(c->owner, pthread_self()))
        ba_misuse(call, "the client belongs to another thread (a client is used only on "
                        "the thread that opened it: one per thread's runtime)");
}

void http_client_close(http_client *c)
{
    if (!c)
        return;
    check_thread("http_client_close", c);
    if (c->in_flight) {
        char what[96];
        snprintf(what, sizeof what, "%d requests still in flight on this client",
                 c->in_flight);
        ba_misuse("http_client_close", what);
    }
    ba_pool_close(&c->pool);
    free_client(c);
}

/* ---- where a hop connects ---- */

static bool via_proxy(const http_client *c, const http_url *u)
{
    return c->has_proxy && !(c->no_proxy && ba_proxy_bypass(c->no_proxy, u));
}

/* "host:port", the pool's key: memcpy and a few digits, not a snprintf
 * on every request. */
static void host_key(const http_url *u, char key[BA_HOST_PORT_MAX])
{
    size_t n = strlen(u->host); /* at most BA_HOST_MAX */
    memcpy(key, u->host, n);
    key[n++] = ':';
    n += ba_put_port(key + n, u->port);
    key[n] = '\0';
}

/* ---- one hop ---- */

static bool idempotent(const char *method)
{
    static const char *const safe[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
        if (strcmp(method, safe[i]) == 0)
            return true;
    return false;
}

/* SUSPENDS.  One request and its response to `to` (the origin, or the
 * proxy), on a kept-alive connection if there is one.  A kept-alive
 * connection may have been closed by the server while idle; if it fails
 * before a single byte of reply, the request is sent once more on a fresh
 * connection -- when `may_retry`: a server may have acted on a request
 * and died before answering, harmless only for an idempotent method, and
 * possible only with a body that can be sent again. */
static int hop(request_run *run, const http_url *to, exchange *x, bool may_retry)
{
    http_client *c = run->c;
    char key[BA_HOST_PORT_MAX];
    host_key(to, key);
    struct pool_host *host;
    struct conn *conn;
    if (ba_pool_acquire(&c->pool, key, run->dl.total, may_retry, &host, &conn) < 0) {
        run->why = errno;
        return ba_io_error(&run->dl, HTTP_E_TOTAL_TIMEOUT, HTTP_E_NOMEM);
    }
    int err;
    for (int attempt = 0;; attempt++) {
        if (conn)
            ba_emit(&c->opts, HTTP_EV_REUSED, conn->fd, key);
        if (!conn && (err = ba_conn_open(to->host, to->port, &run->dl, &c->opts, &conn))) {
            run->why = errno;
            break;
        }
        x->got_bytes = false;
        err = ba_exchange_run(conn, x);
        run->why = errno;
        bool stale = err && conn->reused && !x->got_bytes &&
                     (err == HTTP_E_RESET || err == HTTP_E_EMPTY_REPLY);
        if (!stale || !may_retry || attempt > 0)
            break;
        http_response_free(x->resp);
        x->resp = NULL;
        ba_conn_close(conn);
        conn = NULL;
        if ((err = ba_redirect_rewind(x->req, x->with_body)) != 0)
            break; /* the body cannot start over: the failure stands */
    }
    ba_pool_release(&c->pool, host, conn, err == 0 && x->reusable);
    return err;
}

static int url_error(int code)
{
    if (code == HTTP_URL_MALFORMED && errno == ENOMEM)
        return HTTP_E_NOMEM; /* http_url_normalize ran out of memory */
    return code == HTTP_URL_UNSUPPORTED_SCHEME ? HTTP_E_SCHEME : HTTP_E_URL;
}

/* The first URL's origin and credentials (userpwd, else its userinfo). */
static int start(request_run *run, const http_url *u)
{
    const http_request *req = run->req;
    run->started = true;
    run->first = *u;
    /* Only the origin is kept: the target and userinfo point into this
     * hop's URL, which the next hop frees. */
    run->first.target = NULL;
    run->first.target_len = 0;
    run->first.userinfo = NULL;
    run->first.userinfo_len = 0;
    if (req->userpwd)
        run->credentials = ba_credentials(req->userpwd, strlen(req->userpwd), false,
                                          &run->credentials_len);
    else if (u->userinfo)
        run->credentials = ba_credentials(u->userinfo, u->userinfo_len, true,
                                          &run->credentials_len);
    else
        return 0;
    return run->credentials ? 0 : HTTP_E_NOMEM;
}

/* What the head says of the body: its length, chunked, or none. */
static int64_t body_length(const http_request *req, const hop_plan *p)
{
    if (p->with_body && req->body_source)
        return req->body_length >= 0 ? req->body_length : BA_BODY_CHUNKED;
    if (p->with_body)
        return (int64_t)req->body_len;
    bool expects_body = strcmp(p->method, "POST") == 0 || strcmp(p->method, "PUT") == 0;
    return expects_body ? 0 : BA_BODY_NONE;
}

/* SUSPENDS.  The hop that p describes; *out gets its response, *redirect
 * whether that is a redirect to follow. */
static int run_hop(request_run *run, const hop_plan *p, http_response **out,
                   bool *redirect)
{
    http_client *c = run->c;
    const http_request *req = run->req;
    http_url u = {0};
    int code = http_url_parse(p->url, &u);
    if (code != HTTP_URL_OK)
        return url_error(code);
    int err = run->started ? 0 : start(run, &u);
    if (err)
        return err;
    bool cross = !ba_same_origin(&u, &run->first), proxied = via_proxy(c, &u);
    request_spec spec = {
        .method = p->method, .url = &u, .absolute_form = proxied,
        .user_agent = c->user_agent, .headers = req->headers, .n_headers = req->n_headers,
        .cross_origin = cross, .credentials = cross ? NULL : run->credentials,
        .credentials_len = run->credentials_len, .body_length = body_length(req, p),
        .proxy_credentials = proxied ? c->proxy.credentials : NULL,
        .proxy_credentials_len = c->proxy.credentials_len,
        .body_type = p->with_body ? req->body_type : NULL};
    exchange x = {.req = req, .url = p->url, .dl = &run->dl, .with_body = p->with_body,
                  .head_only = strcmp(p->method, "HEAD") == 0,
                  .max_head = c->opts.max_head_bytes,
                  .follow_redirects = c->opts.follow_redirects, .opts = &c->opts};
    char *head = ba_request_head(&spec, &x.head_len, &err);
    if (!head)
        return err;
    x.head = head;
    bool replayable = !(p->with_body && req->body_source) || req->body_rewind;
    err = hop(run, proxied ? &c->proxy.url : &u, &x, idempotent(p->method) && replayable);
    free(head);
    *out = x.resp;
    if (x.resp)
        x.resp->redirects = 0;
    *redirect = x.redirect;
    return err;
}

/* SUSPENDS.  The redirect loop around run_hop. */
static int send_hops(request_run *run, hop_plan *plan, http_response **out)
{
    const http_request *req = run->req;
    for (int redirects = 0;; redirects++) {
        bool redirect = false;
        int err = run_hop(run, plan, out, &redirect);
        if (*out)
            (*out)->redirects = redirects;
        if (err || !redirect)
            return err;
        if (redirects >= run->c->opts.max_redirects)
            return HTTP_E_TOO_MANY_REDIRECTS;
        if ((err = ba_redirect_follow(plan, req, *out)) != 0)
            return err;
        if (req->on_redirect && req->on_redirect(req->user, *out, plan->url) != 0)
            return HTTP_E_ABORTED;
        ba_emit(&run->c->opts, HTTP_EV_REDIRECT, -1, plan->url);
        http_response_free(*out);
        *out = NULL;
    }
}

/* errno after a failed request: the system's reason, or 0 (client.h). */
static int reason_for(int err, int why)
{
    switch (err) {
    case HTTP_E_CONNECT:
    case HTTP_E_RESET:
    case HTTP_E_SEND_BODY:
        return why;
    case HTTP_E_CONNECT_TIMEOUT:
    case HTTP_E_READ_TIMEOUT:
    case HTTP_E_TOTAL_TIMEOUT:
        return ETIMEDOUT;
    case HTTP_E_RESOLVE: /* EAGAIN: no worker thread; EMFILE: no fd; a name */
        return why == ENOENT ? 0 : why; /* that does not resolve is no system error */
    case HTTP_E_CANCELLED: return ECANCELED;
    case HTTP_E_NOMEM: return ENOMEM;
    default: return 0;
    }
}

/* The whole request's deadline: the request's own, else the client's. */
static int64_t total_deadline(const http_client *c, const http_request *req)
{
    int64_t ms = req->timeout_ms ? req->timeout_ms : c->opts.total_timeout_ms;
    deadlines none = {.total = CORO_NEVER};
    return ms > 0 ? ba_step_deadline(&none, ba_ms_to_ns(ms)) : CORO_NEVER;
}

/* A per-step timeout in ns; -1 (none) for a negative one. */
static int64_t step_ns(int64_t ms)
{
    return ms < 0 ? -1 : ba_ms_to_ns(ms);
}

/* The caller's side of http_send's contract: a coroutine to suspend, and
 * something to send. */
static void check_call(const http_client *c, const http_request *req, http_response **out)
{
    if (!coro_self())
        ba_misuse("http_send", "called outside any coroutine");
    if (!c)
        ba_misuse("http_send", "the client is NULL");
    else /* (an else only for the analyzers, which do not all know ba_misuse returns not) */
        check_thread("http_send", c);
    if (!req)
        ba_misuse("http_send", "req is NULL");
    if (!out)
        ba_misuse("http_send", "out is NULL");
    if (!req->url)
        ba_misuse("http_send", "req->url is NULL");
}

int http_send(http_client *c, const http_request *req, http_response **out)
{
    check_call(c, req, out);
    *out = NULL;
    request_run run = {.c = c, .req = req, .dl = {
        .total = total_deadline(c, req),
        .connect_ns = step_ns(c->opts.connect_timeout_ms),
        .read_ns = step_ns(c->opts.read_timeout_ms),
    }};
    int code;
    hop_plan plan = {.url = http_url_normalize(req->url, &code),
                     .method = req->method ? req->method : "GET",
                     .with_body = req->body || req->body_source};
    c->in_flight++;
    int err = plan.url ? send_hops(&run, &plan, out) : url_error(code);
    c->in_flight--;
    free(plan.url);
    free(run.credentials);
    if (err)
        errno = reason_for(err, run.why);
    return err;
}

int http_get(http_client *c, const char *url, http_response **out)
{
    http_request req = {.method = "GET", .url = url};
    return http_send(c, &req, out);
}
