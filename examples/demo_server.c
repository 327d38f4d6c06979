/* demo_server.c - the examples' server, on http_server (server.h):
 *
 *     demo_server_start:  http_server_open("127.0.0.1:0")   listens
 *                         spawn "demo-server": http_server_run
 *                              accepts; each connection gets a "demo-conn"
 *     answer(req):        sleep delay_ms                   parks on a timer
 *                         http_reply(200, body)            parks if the socket is full
 *     demo_server_stop:   http_server_stop(now), join      cancels what is left
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bareawait/coro.h>
#include <bareawait/server.h>
#include "demo_server.h"

static const char default_body[] = "Hello from the demo server, a coroutine in this process.\n";

struct demo_server {
    http_server *http;       /* the server itself */
    coro_t *runner;          /* "demo-server": http_server_run (joined by stop) */
    demo_server_opts opts;   /* a copy of the caller's options */
    char url[96];            /* demo_server_url's answer */
};

/* Tells opts.on_event, if set, what just happened. */
static void say(demo_server *s, const char *fmt, ...)
{
    if (!s->opts.on_event)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->opts.on_event(s->opts.user, line);
}

/* http_server_opts.on_event: the accepts, for fetch --trace. */
static void server_event(void *user, http_server_event ev, int fd, const char *detail)
{
    (void)detail;
    if (ev == HTTP_SERVER_EV_ACCEPTED)
        say(user, "demo-server: accepted a connection (fd %d), spawned a demo-conn", fd);
}

/* The handler, on the connection's coroutine: wait, then the fixed answer
 * (http_server drops the body of a HEAD's). */
static int answer(const http_server_request *req, http_server_reply *reply, void *user)
{
    demo_server *s = user;
    if (s->opts.delay_ms > 0) {
        say(s, "demo-conn: got \"%s %s HTTP/1.%d\"; answering in %lld ms", req->method,
            req->target, req->minor_version, (long long)s->opts.delay_ms);
        if (coro_sleep_until(coro_deadline_in(s->opts.delay_ms)) < 0)
            return -1;
    } else {
        say(s, "demo-conn: got \"%s %s HTTP/1.%d\"", req->method, req->target,
            req->minor_version);
    }
    const char *body = s->opts.body ? s->opts.body : default_body;
    size_t len = strlen(body);
    if (http_reply_header(reply, "Server", "bareawait-demo") < 0 ||
        http_reply(reply, 200, "text/plain", body, len) < 0)
        return -1;
    say(s, "demo-conn: answered 200 OK (%zu bytes of body)",
        strcmp(req->method, "HEAD") == 0 ? 0 : len);
    return 0;
}

static void *run(void *arg)
{
    demo_server *s = arg;
    http_server_run(s->http);
    return NULL;
}

demo_server *demo_server_start(const demo_server_opts *opts)
{
    demo_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (opts)
        s->opts = *opts;
    http_server_opts o = {.listen = "127.0.0.1:0", .conn_name = "demo-conn",
                          .on_event = server_event, .event_user = s};
    s->http = http_server_open(&o, answer, s);
    if (!s->http)
        goto fail;
    s->runner = coro_spawn(run, s, &(coro_opts){.name = "demo-server"});
    if (!s->runner)
        goto fail_open;
    return s;
fail_open:
    http_server_close(s->http);
fail:
    free(s);
    return NULL;
}

const char *demo_server_url(demo_server *s, const char *path)
{
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d%s", http_server_port(s->http),
             path ? path : "/");
    return s->url;
}

void demo_server_stop(demo_server *s)
{
    http_server_stop(s->http, coro_now());   /* no drain: cancel what is left */
    coro_join(s->runner, NULL);
    http_server_close(s->http);
    free(s);
}
