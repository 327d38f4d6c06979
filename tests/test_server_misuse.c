/* test_server_misuse.c - every API misuse server.h names stops the
 * program with one line, "bareawait: CALL: WHAT (API misuse)", in every
 * build type.
 *
 * As test_misuse.c does for the runtime and the client, through
 * misuse_child.h: each case runs in a child process with stderr on a
 * pipe; the child must die of SIGABRT having written the line.  The cases
 * on a reply run a server and a raw client in the child, and the handler
 * commits the misuse.
 */
#include <pthread.h>

#include "misuse_child.h"
#include "server_test.h"

static int answer(const http_server_request *req, http_server_reply *reply, void *user)
{
    (void)req;
    (void)user;
    return http_reply(reply, 200, NULL, "ok", 2);
}

/* ---- the server's own calls ---- */

static void open_without_handler(void)
{
    http_server_open(NULL, NULL, NULL);
}

static void run_from_main(void)
{
    http_server_run(http_server_open(NULL, answer, NULL));
}

static void *stop_there(void *s)
{
    http_server_stop(s, CORO_NEVER);
    return NULL;
}

static void stop_on_another_thread(void)
{
    http_server *s = http_server_open(NULL, answer, NULL);
    pthread_t t;
    pthread_create(&t, NULL, stop_there, s);
    pthread_join(t, NULL);
}

static void *close_it(void *s)
{
    coro_sleep_until(coro_deadline_in(10));   /* the runner is in run by now */
    http_server_close(s);
    return NULL;
}

static void *run_it(void *s)
{
    http_server_run(s);
    return NULL;
}

static void close_while_running(void)
{
    http_server *s = http_server_open(NULL, answer, NULL);
    coro_spawn(run_it, s, NULL);
    coro_spawn(close_it, s, NULL);
    coro_run();
}

static void run_twice_at_once(void)
{
    http_server *s = http_server_open(NULL, answer, NULL);
    coro_spawn(run_it, s, NULL);
    coro_spawn(run_it, s, NULL);
    coro_run();
}

/* ---- a handler's misuse ---- */

static http_server_reply *kept;  /* a reply kept past its handler */


static int answer_twice(const http_server_request *req, http_server_reply *reply, void *user)
{
    answer(req, reply, user);
    return answer(req, reply, user);
}

static int status_99(const http_server_request *req, http_server_reply *reply, void *user)
{
    (void)req, (void)user;
    return http_reply(reply, 99, NULL, "", 0);
}

static int body_on_204(const http_server_request *req, http_server_reply *reply, void *user)
{
    (void)req, (void)user;
    return http_reply(reply, 204, NULL, "x", 1);
}

static int write_unstarted(const http_server_request *req, http_server_reply *reply, void *user)
{
    (void)req, (void)user;
    return http_reply_write(reply, "x", 1);
}

static int header_too_late(const http_server_request *req, http_server_reply *reply, void *user)
{
    answer(req, reply, user);
    return http_reply_header(reply, "X", "y");
}

static void *use_kept(void *arg)
{
    (void)arg;
    coro_sleep_until(coro_deadline_in(10));   /* its handler has returned */
    http_reply(kept, 200, NULL, "late", 4);
    return NULL;
}

static int keep_reply(const http_server_request *req, http_server_reply *reply, void *user)
{
    kept = reply;
    coro_spawn(use_kept, NULL, &(coro_opts){.detached = true});
    return answer(req, reply, user);
}

/* A connection that sends two requests, a moment apart. */
static void *client(void *port)
{
    int fd = st_connect(AF_INET, *(int *)port);
    st_send(fd, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
    coro_sleep_until(coro_deadline_in(50));
    st_send(fd, "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    coro_sleep_until(coro_deadline_in(2000));
    return NULL;
}

/* Serves that connection with h. */
static void serve_one(http_handler h)
{
    http_server *s = http_server_open(NULL, h, NULL);
    int port = http_server_port(s);
    coro_spawn(run_it, s, NULL);
    coro_spawn(client, &port, NULL);
    coro_run();
}

static void reply_twice(void) { serve_one(answer_twice); }
static void reply_status_99(void) { serve_one(status_99); }
static void reply_body_on_204(void) { serve_one(body_on_204); }
static void reply_write_unstarted(void) { serve_one(write_unstarted); }
static void reply_header_too_late(void) { serve_one(header_too_late); }
static void reply_after_handler(void) { serve_one(keep_reply); }

/* ---- the table ---- */

static const misuse_case cases[] = {
    {"open without a handler", open_without_handler, "http_server_open", "handler is NULL"},
    {"run from main", run_from_main, "http_server_run", "called outside a coroutine"},
    {"stop on another thread", stop_on_another_thread, "http_server_stop",
     "the server belongs to another thread (a server is used only on the thread that "
     "opened it)"},
    {"close while running", close_while_running, "http_server_close",
     "http_server_run is still running"},
    {"run twice at once", run_twice_at_once, "http_server_run",
     "the server is already running in another coroutine"},
    {"reply twice", reply_twice, "http_reply",
     "this request was already answered (or a stream started)"},
    {"status 99", reply_status_99, "http_reply", "status 99 is not a final status (200..999)"},
    {"a body on a 204", reply_body_on_204, "http_reply", "a 204 answer has no body"},
    {"write without a stream", reply_write_unstarted, "http_reply_write",
     "no stream was started (http_reply_start)"},
    {"a header after the answer", reply_header_too_late, "http_reply_header",
     "the answer's head has already been sent or started"},
    {"a reply used after its handler", reply_after_handler, "http_reply",
     "the handler of this reply has returned"},
};

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return misuse_run(cases, sizeof cases / sizeof cases[0]);
}
