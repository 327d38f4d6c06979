/* gateway_proxy.c - the gateway's endpoint: one request relayed upstream
 * and streamed back, and --trace's seven steps of it.
 *
 *     handler(req)                       on the connection's coroutine
 *       http_send(GET UPSTREAM+path)     parks; other connections run
 *         on_head(upstream head)         http_reply_start(status, type, length)
 *         sink(piece) ...                http_reply_write(piece): parks until
 *                                        the client's socket took it, so a
 *                                        body of any size costs one buffer
 *       http_reply_end                   last chunk, when chunked
 *
 * Before the upstream's head arrives nothing has been sent to the client,
 * so a failure can still be answered 502/504.  After it, the client has a
 * status line already: a failure can only cut the body short.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/url.h>
#include "gateway.h"

struct gateway {
    http_client *client;  /* shared by every connection of this thread */
    gateway_config cfg;   /* a copy; cfg.upstream is borrowed */
    size_t upstream_len;  /* without a trailing '/' */
    uint64_t requests;    /* handler calls so far: the trace's request ids */
    uint64_t answered;    /* handler calls that have returned */
    int64_t start_ns;     /* the trace's time origin */
};

/* One request on its way through: what the client's callbacks need. */
typedef struct relay {
    gateway *g;
    http_server_reply *reply;
    bool head_only;       /* a HEAD: no body comes, none goes */
    bool started;         /* http_reply_start done: 502/504 is too late */
    uint64_t id;          /* the trace's request id */
    uint64_t conn;        /* the connection coroutine's id */
    uint64_t answered_at_send; /* g->answered when the request went out */
    uint64_t bytes;       /* body bytes passed on */
} relay;

int gateway_check_upstream(const char *upstream, char *err, size_t errlen)
{
    http_url u;
    int rc = http_url_parse(upstream, &u);
    if (rc != HTTP_URL_OK) {
        snprintf(err, errlen, "%s", http_url_strerror(rc));
        return -1;
    }
    if (u.target_len > 1) { /* the request's path is appended to it */
        snprintf(err, errlen, "wants http://HOST:PORT, without a path");
        return -1;
    }
    return 0;
}

gateway *gateway_open(const gateway_config *cfg)
{
    gateway *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cfg = *cfg;
    g->upstream_len = strlen(cfg->upstream);
    while (g->upstream_len > 0 && cfg->upstream[g->upstream_len - 1] == '/')
        g->upstream_len--;
    g->start_ns = coro_now();
    http_client_opts o = {.connect_timeout_ms = cfg->connect_timeout_ms,
                          .read_timeout_ms = cfg->read_timeout_ms,
                          /* every connection of the thread goes to one
                           * host: let as many reach it as are open */
                          .max_per_host = 1024};
    g->client = http_client_open(&o);
    if (!g->client) {
        free(g);
        return NULL;
    }
    return g;
}

void gateway_close(gateway *g)
{
    if (!g)
        return;
    http_client_close(g->client);
    free(g);
}

uint64_t gateway_answered(const gateway *g)
{
    return g->answered;
}

/* ---- --trace ---- */

/* "step N: ..." for request r, tagged with its request and connection. */
static void step(const relay *r, int n, const char *action, const char *result)
{
    if (!r->g->cfg.trace)
        return;
    char tag[48];
    if (r->g->cfg.threads > 1)
        snprintf(tag, sizeof tag, "t%d req %" PRIu64 " conn %" PRIu64, r->g->cfg.thread_index,
                 r->id, r->conn);
    else
        snprintf(tag, sizeof tag, "req %" PRIu64 " conn %" PRIu64, r->id, r->conn);
    fprintf(stderr, "[%s] step %d: %-30s | %-52s | +%.3f ms\n", tag, n, action, result,
            (double)(coro_now() - r->g->start_ns) / 1e6);
}

void gateway_server_event(void *user, http_server_event ev, int fd, const char *detail)
{
    gateway *g = user;
    if (!g->cfg.trace)
        return;
    static const char *const names[] = {"accepted", "refused", "request", "answered by the server",
                                        "closed"};
    if (ev == HTTP_SERVER_EV_REQUEST)
        return; /* the handler's step 1 says it */
    /* ACCEPTED and REFUSED come from the accepting coroutine, the rest
     * from the connection's own */
    const char *who = ev <= HTTP_SERVER_EV_REFUSED ? "server" : "conn";
    fprintf(stderr, "        %s %" PRIu64 " (fd %d): %s %s | +%.3f ms\n", who,
            coro_id(coro_self()), fd, names[ev], detail ? detail : "",
            (double)(coro_now() - g->start_ns) / 1e6);
}

/* ---- the client's callbacks ---- */

/* The upstream's Content-Length for a HEAD (the client reports -1: no
 * body follows), else the length the client parsed. */
static int64_t length_of(const relay *r, const http_response *head)
{
    if (!r->head_only)
        return head->content_length;
    const char *v = http_response_header(head, "Content-Length");
    if (!v)
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    return (errno || end == v || *end || n < 0) ? -1 : (int64_t)n;
}

/* on_head: the upstream's status, type and length become ours. */
static int on_head(void *user, const http_response *head)
{
    relay *r = user;
    int64_t length = length_of(r, head);
    char what[96];
    if (length >= 0)
        snprintf(what, sizeof what, "%d %.40s, Content-Length %lld passed on", head->status,
                 head->reason, (long long)length);
    else
        snprintf(what, sizeof what, "%d %.40s, no length: chunked", head->status, head->reason);
    step(r, 4, "response received", what);
    if (head->status < 200)
        return -1; /* the client handles 1xx itself; anything else is odd */
    const char *type = http_response_header(head, "Content-Type");
    if (http_reply_start(r->reply, head->status, type, length) < 0 &&
        http_reply_start(r->reply, head->status, NULL, length) < 0)
        return -1; /* a bad type is dropped; a second refusal cannot be */
    r->started = true;
    return 0;
}

/* sink: each piece of the upstream's body goes out before the next is read. */
static int sink(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns; /* the server's write_timeout_ms bounds the write */
    relay *r = user;
    r->bytes += len;
    return http_reply_write(r->reply, data, len);
}

/* ---- the handler ---- */

static bool is_timeout(int err)
{
    return err == HTTP_E_CONNECT_TIMEOUT || err == HTTP_E_READ_TIMEOUT ||
           err == HTTP_E_TOTAL_TIMEOUT;
}

/* 502 or 504 with one line naming the cause, while nothing has gone out. */
static int answer_failure(relay *r, const char *url, int err, int sys_errno)
{
    int status = is_timeout(err) ? 504 : 502;
    if (is_timeout(err))
        sys_errno = 0; /* ETIMEDOUT would only say it again */
    char line[400];
    int n = snprintf(line, sizeof line, "%.300s: %s%s%s\n", url, http_strerror(err),
                     sys_errno ? ": " : "", sys_errno ? strerror(sys_errno) : "");
    if (n < 0 || (size_t)n >= sizeof line)
        n = snprintf(line, sizeof line, "upstream: %s\n", http_strerror(err));
    char shown[sizeof line];
    snprintf(shown, sizeof shown, "%d: %.*s", status, n - 1, line); /* without its newline */
    step(r, 4, "response failed", shown);
    return http_reply(r->reply, status, "text/plain", line, (size_t)n);
}

/* UPSTREAM+path, in memory of its own: a path may be as long as the
 * server's max_head_bytes, too much for a coroutine's stack. */
static char *upstream_url(const gateway *g, const http_server_request *req)
{
    const char *path = req->path[0] == '/' ? req->path : "/";
    size_t len = g->upstream_len + strlen(path);
    char *url = malloc(len + 1);
    if (url)
        snprintf(url, len + 1, "%.*s%s", (int)g->upstream_len, g->cfg.upstream, path);
    return url;
}

/* Sends the request upstream; the head and body go back through on_head
 * and sink as they come.  HTTP_OK or an HTTP_E code, errno in *sys_errno. */
static int send_upstream(relay *r, const http_server_request *req, const char *url,
                         int *sys_errno)
{
    step(r, 2, "enter async with Client()", "the thread's shared client: open, kept alive");
    http_request hr = {.method = req->method, .url = url, .sink = sink, .sink_user = r,
                       .on_head = on_head, .user = r};
    char sent[160];
    snprintf(sent, sizeof sent, "http_send(%s %.80s): handler parks", req->method, url);
    step(r, 3, "await client.get(url)", sent);
    r->answered_at_send = r->g->answered;
    http_response *resp = NULL;
    int err = http_send(r->g->client, &hr, &resp);
    *sys_errno = errno;
    http_response_free(resp);
    return err;
}

/* GET or HEAD UPSTREAM+path, streamed back. */
static int relay_request(relay *r, const http_server_request *req)
{
    char *url = upstream_url(r->g, req);
    if (!url)
        return -1; /* no memory: the server answers 500 */
    int sys_errno = 0;
    int err = send_upstream(r, req, url, &sys_errno);
    int rc = -1;
    if (err == HTTP_E_CANCELLED)
        goto out; /* the server is stopping this connection */
    if (err && !r->started) {
        rc = answer_failure(r, url, err, sys_errno);
        goto out;
    }
    step(r, 5, "exit async with", "client stays open: shared by every connection");
    if (err || http_reply_end(r->reply) < 0)
        goto out; /* cut short mid-body: the client must see it */
    char done[96];
    snprintf(done, sizeof done, "%" PRIu64 " bytes streamed; meanwhile %" PRIu64
             " other requests answered", r->bytes, r->g->answered - r->answered_at_send);
    step(r, 6, "return response", done);
    rc = 0;
out:
    free(url);
    return rc;
}

int gateway_handle(const http_server_request *req, http_server_reply *reply, void *user)
{
    gateway *g = user;
    relay r = {.g = g, .reply = reply, .id = ++g->requests, .conn = coro_id(coro_self()),
               .head_only = strcmp(req->method, "HEAD") == 0};
    char called[96];
    snprintf(called, sizeof called, "handler(%s %.60s) on its conn coroutine", req->method,
             req->target);
    step(&r, 1, "call endpoint(path)", called);
    int rc;
    if (r.head_only || strcmp(req->method, "GET") == 0) {
        rc = relay_request(&r, req);
    } else {
        rc = http_reply_header(reply, "Allow", "GET, HEAD");
        if (rc == 0)
            rc = http_reply(reply, 405, "text/plain", "only GET and HEAD are relayed\n", 30);
    }
    g->answered++;
    step(&r, 7, "function ends", rc == 0 ? "handler returned: answer complete"
                                         : "handler returned -1: connection closed");
    return rc;
}
