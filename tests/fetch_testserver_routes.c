/* fetch_testserver_routes.c - the answers of fetch_testserver, one
 * function per route (the list is at the top of fetch_testserver.c).
 * Each returns 0 to keep the connection, -1 to close it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>

#include "fetch_testserver.h"

#define RETRY_IDS 64   /* /retry/N/ID: how many IDs are remembered */
#define SLOW_MAX_MS 60000
#define BIG_MAX_MIB 1024

/* ---- writing answers ---- */

static int put(conn *c, const char *data, size_t len)
{
    return io_write(c->fd, data, len, coro_deadline_in(10000)) < 0 ? -1 : 0;
}

static int put_str(conn *c, const char *s)
{
    return put(c, s, strlen(s));
}

/* A complete answer with a Content-Length; 0 keeps the connection. */
static int answer(conn *c, const request *r, int status, const char *reason,
                  const char *extra_headers, const char *body, size_t len)
{
    char head[1024];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s\r\n",
                     status, reason, len, extra_headers ? extra_headers : "");
    if (put(c, head, (size_t)n) < 0)
        return -1;
    return r->head_only ? 0 : put(c, body, len);
}

static int text(conn *c, const request *r, int status, const char *reason, const char *body)
{
    return answer(c, r, status, reason, NULL, body, strlen(body));
}

/* Ends the connection with RST instead of FIN. */
static int reset(conn *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    return -1; /* the caller closes */
}

static int pause_ms(int ms)
{
    return coro_sleep_until(coro_deadline_in(ms));
}

/* ---- the routes: each returns 0 to keep the connection, -1 to close ---- */

static int route_ok(conn *c, const request *r)
{
    return text(c, r, 200, "OK", "hello from fetch_testserver\n");
}

static int route_slow300(conn *c, const request *r)
{
    return pause_ms(300) < 0 ? -1 : text(c, r, 200, "OK", "slow\n");
}

static int route_slow_body(conn *c, const request *r)
{
    static char piece[100 * 1024];
    memset(piece, 's', sizeof piece);
    char head[128];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", 16 * sizeof piece);
    if (put_str(c, head) < 0)
        return -1;
    if (r->head_only)
        return 0;
    for (int i = 0; i < 16; i++)
        if (pause_ms(40) < 0 || put(c, piece, sizeof piece) < 0)
            return -1;
    return 0;
}

/* size bytes of a text pattern: lines of 63 letters, fast to make. */
static int send_pattern(conn *c, const request *r, size_t total)
{
    static char block[64 * 1024];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (i % 64 == 63) ? '\n' : (char)('a' + (i / 64) % 26);
    char head[128];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", total);
    if (put_str(c, head) < 0)
        return -1;
    for (size_t sent = 0; !r->head_only && sent < total; sent += sizeof block)
        if (put(c, block, total - sent < sizeof block ? total - sent : sizeof block) < 0)
            return -1;
    return 0;
}

static int route_big64m(conn *c, const request *r)
{
    return send_pattern(c, r, (size_t)64 << 20);
}

/* /big/N: N MiB. */
static int route_big(conn *c, const request *r)
{
    long mib = strtol(r->path + strlen("/big/"), NULL, 10);
    if (mib < 0 || mib > BIG_MAX_MIB)
        return text(c, r, 400, "Bad Request", "size out of range\n");
    return send_pattern(c, r, (size_t)mib << 20);
}

static int route_404(conn *c, const request *r)
{
    return text(c, r, 404, "Not Found", "not found\n");
}

static int route_status(conn *c, const request *r)
{
    int status = atoi(r->path + strlen("/status/"));
    if (status < 100 || status > 599)
        status = 400;
    char body[32];
    snprintf(body, sizeof body, "status %d\n", status);
    return text(c, r, status, "Scripted", body);
}

static int redirect(conn *c, const request *r, const char *to)
{
    char loc[600];
    snprintf(loc, sizeof loc, "Location: %s\r\n", to);
    return answer(c, r, 302, "Found", loc, "redirecting\n", 12);
}

static int route_redirect_to_ok(conn *c, const request *r) { return redirect(c, r, "/ok"); }
static int route_redirect_loop(conn *c, const request *r) { return redirect(c, r, "/redirect-loop"); }

static int route_r(conn *c, const request *r)
{
    int n = atoi(r->path + strlen("/r/"));
    if (n <= 0)
        return text(c, r, 200, "OK", "arrived\n");
    char to[32];
    snprintf(to, sizeof to, "/r/%d", n - 1);
    return redirect(c, r, to);
}

static int route_chunked(conn *c, const request *r)
{
    if (put_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") < 0)
        return -1;
    return r->head_only ? 0 : put_str(c, "6\r\nhello \r\n8\r\nchunked\n\r\n0\r\n\r\n");
}

static int route_chunked_bad(conn *c, const request *r)
{
    (void)r;
    put_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    return -1;
}

static int route_truncated(conn *c, const request *r)
{
    (void)r;
    put_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly 10 b\n");
    return -1;
}

static int route_empty(conn *c, const request *r)
{
    (void)c, (void)r;
    return -1;
}

static int route_reset(conn *c, const request *r)
{
    (void)r;
    put_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
    pause_ms(50); /* let the bytes leave before the RST */
    return reset(c);
}

static int route_reset_early(conn *c, const request *r)
{
    (void)r;
    return reset(c);
}

static int route_nothttp(conn *c, const request *r)
{
    (void)r;
    put_str(c, "SSH-2.0-OpenSSH_9.2\r\n");
    return -1;
}

static int route_hang(conn *c, const request *r)
{
    (void)r;
    char buf[512];
    while (io_read(c->fd, buf, sizeof buf, CORO_NEVER) > 0)
        ; /* until the client gives up and closes */
    return -1;
}

static int route_cl_negative(conn *c, const request *r)
{
    (void)r;
    put_str(c, "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello");
    return -1;
}

static int route_headers_huge(conn *c, const request *r)
{
    (void)r;
    char line[520];
    if (put_str(c, "HTTP/1.1 200 OK\r\n") < 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        int n = snprintf(line, sizeof line, "X-Filler-%03d: %0500d\r\n", i, 0);
        if (put(c, line, (size_t)n) < 0)
            return -1;
    }
    put_str(c, "Content-Length: 2\r\n\r\nhi");
    return -1;
}

static int route_echo_headers(conn *c, const request *r)
{
    return answer(c, r, 200, "OK", NULL, r->headers, r->headers_len);
}

static int route_conn(conn *c, const request *r)
{
    char body[48];
    snprintf(body, sizeof body, "connection %d\n", c->serial);
    return text(c, r, 200, "OK", body);
}

static int route_stats(conn *c, const request *r)
{
    char body[48];
    snprintf(body, sizeof body, "connections %d\n", accepted);
    return text(c, r, 200, "OK", body);
}

/* /echo: the request as the server read it: the request line, every
 * header line, the blank line, then the body (chunks joined). */
static int route_echo(conn *c, const request *r)
{
    size_t len = r->head_len + r->body_len;
    char *all = malloc(len + 1);
    if (!all)
        return -1;
    memcpy(all, r->head, r->head_len);
    if (r->body_len)
        memcpy(all + r->head_len, r->body, r->body_len);
    int rc = answer(c, r, 200, "OK", "Content-Type: text/plain\r\n", all, len);
    free(all);
    return rc;
}

/* %XX decoding, in place. */
static void percent_decode(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            char hex[3] = {s[1], s[2], 0};
            *out++ = (char)strtol(hex, NULL, 16);
            s += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

/* The value of query parameter name in r's target, decoded, into out. */
static bool query_param(const request *r, const char *name, char *out, size_t size)
{
    const char *q = strchr(r->path, '?');
    size_t n = strlen(name);
    for (const char *p = q; p; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, name, n) != 0 || p[1 + n] != '=')
            continue;
        const char *v = p + 2 + n;
        snprintf(out, size, "%.*s", (int)strcspn(v, "&"), v);
        percent_decode(out);
        return true;
    }
    return false;
}

/* /redirect-to?status=N&url=URL: N (302 by default) to the decoded URL. */
static int route_redirect_to(conn *c, const request *r)
{
    char url[512], status[16], loc[600];
    if (!query_param(r, "url", url, sizeof url))
        return text(c, r, 400, "Bad Request", "no url parameter\n");
    int code = query_param(r, "status", status, sizeof status) ? atoi(status) : 302;
    if (code < 300 || code > 399)
        code = 302;
    snprintf(loc, sizeof loc, "Location: %s\r\n", url);
    return answer(c, r, code, "Redirect", loc, "redirecting\n", 12);
}

/* /binary: "binary\n", then the 256 byte values in order, NUL first. */
static int route_binary(conn *c, const request *r)
{
    char bytes[7 + 256];
    memcpy(bytes, "binary\n", 7);
    for (int i = 0; i < 256; i++)
        bytes[7 + i] = (char)i;
    return answer(c, r, 200, "OK", "Content-Type: application/octet-stream\r\n",
                  bytes, sizeof bytes);
}

/* /slow/MS: "slow\n" after MS milliseconds. */
static int route_slow(conn *c, const request *r)
{
    long ms = strtol(r->path + strlen("/slow/"), NULL, 10);
    if (ms < 0 || ms > SLOW_MAX_MS)
        return text(c, r, 400, "Bad Request", "delay out of range\n");
    return pause_ms((int)ms) < 0 ? -1 : text(c, r, 200, "OK", "slow\n");
}

/* How many requests each /retry/N/ID has had. */
static struct retry_count {
    char id[64];
    int seen;
} retry_counts[RETRY_IDS];

static int *retry_seen(const char *id)
{
    for (size_t i = 0; i < RETRY_IDS; i++) {
        struct retry_count *rc = &retry_counts[i];
        if (rc->id[0] && strcmp(rc->id, id) == 0)
            return &rc->seen;
        if (!rc->id[0]) {
            snprintf(rc->id, sizeof rc->id, "%s", id);
            return &rc->seen;
        }
    }
    return NULL;
}

/* /retry/N/ID: 503 for the first N requests with this ID, then 200. */
static int route_retry(conn *c, const request *r)
{
    char *end;
    long n = strtol(r->path + strlen("/retry/"), &end, 10);
    int *seen = *end == '/' && end[1] ? retry_seen(end + 1) : NULL;
    if (!seen)
        return text(c, r, 400, "Bad Request", "want /retry/N/ID\n");
    char body[64];
    if ((*seen)++ < n)
        return text(c, r, 503, "Service Unavailable", "try again\n");
    snprintf(body, sizeof body, "ok after %ld\n", n);
    return text(c, r, 200, "OK", body);
}

/* fetchout's: a Transfer-Encoding the client cannot decode (exit 61). */
static int route_te_gzip(conn *c, const request *r)
{
    (void)r;
    put_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nnot really gzip");
    return -1;
}

/* /p/REST: "REST\n", the rest of the target (for globbed URLs). */
static int route_p(conn *c, const request *r)
{
    char body[520];
    snprintf(body, sizeof body, "%s\n", r->path + strlen("/p/"));
    return text(c, r, 200, "OK", body);
}

/* /type: a Content-Type with a parameter. */
static int route_type(conn *c, const request *r)
{
    return answer(c, r, 200, "OK", "Content-Type: text/plain; charset=utf-8\r\n", "typed\n", 6);
}

typedef struct route {
    const char *path;  /* exact, or a prefix if it ends with '/' */
    int (*fn)(conn *c, const request *r);
} route;

static const route routes[] = {
    {"/ok", route_ok}, {"/slow300", route_slow300}, {"/slow-body", route_slow_body},
    {"/big64m", route_big64m}, {"/404", route_404}, {"/status/", route_status},
    {"/redirect-to-ok", route_redirect_to_ok}, {"/redirect-loop", route_redirect_loop},
    {"/r/", route_r}, {"/chunked", route_chunked}, {"/chunked-bad", route_chunked_bad},
    {"/truncated", route_truncated}, {"/empty", route_empty}, {"/reset", route_reset},
    {"/reset-early", route_reset_early}, {"/nothttp", route_nothttp}, {"/hang", route_hang},
    {"/cl-negative", route_cl_negative}, {"/headers-huge", route_headers_huge},
    {"/echo-headers", route_echo_headers}, {"/conn", route_conn}, {"/stats", route_stats},
    {"/echo", route_echo}, {"/echo/", route_echo}, {"/redirect-to", route_redirect_to}, {"/binary", route_binary},
    {"/big/", route_big}, {"/slow/", route_slow}, {"/retry/", route_retry},
    {"/type", route_type}, {"/p/", route_p}, {"/te-gzip", route_te_gzip},
};

/* A route matches the target's path (the part before any '?').  An
 * absolute target ("GET http://host/echo", as a client talks to a proxy)
 * is routed by its path too, so that this server can play the proxy;
 * /echo shows the target as it came. */
int dispatch(conn *c, const request *r)
{
    request routed = *r;
    if (strncmp(r->path, "http://", 7) == 0) {
        const char *path = strchr(r->path + 7, '/');
        snprintf(routed.path, sizeof routed.path, "%s", path ? path : "/");
        r = &routed;
    }
    size_t path_len = strcspn(r->path, "?");
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *p = routes[i].path;
        size_t n = strlen(p);
        bool prefix = p[n - 1] == '/';
        if (prefix ? strncmp(r->path, p, n) == 0
                   : n == path_len && strncmp(r->path, p, n) == 0)
            return routes[i].fn(c, r);
    }
    return text(c, r, 404, "Not Found", "no such route\n");
}

