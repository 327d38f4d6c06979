/* test_misuse.c - every API misuse the runtime's headers forbid stops the
 * program with one line, in every build type (runtime/misuse.h).
 *
 * Each case runs in a child process of its own, with stderr on a pipe
 * (misuse_child.h): the child must die of SIGABRT, and what it wrote must
 * hold the line "bareawait: CALL: WHAT (API misuse)".  The same table runs
 * in a debug build and with NDEBUG: nothing here may rest on assert().
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "misuse_child.h"

#define FD 50            /* the child's socket, at a number the lines can name */
#define SMALL_STACK (16 * 1024)

/* ---- helpers the cases share ---- */

static void *return_at_once(void *arg)
{
    (void)arg;
    return NULL;
}

static void *park_forever(void *arg)
{
    (void)arg;
    coro_wait(-1, 0, CORO_NEVER);
    return NULL;
}

/* A non-blocking socketpair whose first end is FD.  Returns the other end,
 * or -1. */
static int socket_at_fd(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || dup2(sv[0], FD) < 0 ||
        io_nonblock(FD) < 0)
        return -1;
    return sv[1];
}

/* A non-blocking TCP listener on 127.0.0.1 and its address. */
static int listener(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    socklen_t len = sizeof *addr;
    *addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || bind(fd, (struct sockaddr *)addr, len) < 0 || listen(fd, 8) < 0 ||
        getsockname(fd, (struct sockaddr *)addr, &len) < 0)
        return -1;
    return fd;
}

/* ---- SUSPENDS calls outside a coroutine ---- */

static void wait_before_any_spawn(void)
{
    coro_wait(-1, 0, CORO_NEVER); /* the runtime is not even up */
}

static void yield_from_main(void)
{
    coro_spawn(return_at_once, NULL, NULL); /* the runtime is up */
    coro_yield();
}

static void sleep_from_main(void)
{
    coro_sleep_until(coro_deadline_in(1));
}

static void join_from_main(void)
{
    coro_join(coro_spawn(return_at_once, NULL, NULL), NULL);
}

/* The byte is there: read(2) would not block, and still it is a misuse. */
static void read_from_main(void)
{
    char c = 'x';
    int peer = socket_at_fd();
    if (peer >= 0 && write(peer, &c, 1) == 1)
        io_read(FD, &c, 1, CORO_NEVER);
}

static void write_from_main(void)
{
    if (socket_at_fd() >= 0)
        io_write(FD, "x", 1, CORO_NEVER);
}

static void send_from_main(void)
{
    if (socket_at_fd() >= 0)
        io_send(FD, "x", 1, CORO_NEVER);
}

static void accept_from_main(void)
{
    struct sockaddr_in addr;
    int lfd = listener(&addr);
    if (lfd >= 0)
        io_accept(lfd, NULL, NULL, CORO_NEVER);
}

static void connect_from_main(void)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (listener(&addr) >= 0 && fd >= 0)
        io_connect(fd, (struct sockaddr *)&addr, sizeof addr, CORO_NEVER);
}

/* The client's SUSPENDS path ends in the runtime's, which catches it. */
static void http_get_from_main(void)
{
    http_client *client = http_client_open(NULL);
    http_response *resp = NULL;
    if (client)
        http_get(client, "http://127.0.0.1:9/", &resp);
}

/* http_send with no URL, from a coroutine: the client's own check. */
static void *send_null_url(void *arg)
{
    (void)arg;
    http_client *client = http_client_open(NULL);
    http_request req = {.method = "GET"};
    http_response *resp = NULL;
    if (client)
        http_send(client, &req, &resp);
    return NULL;
}

/* A client opened on main's thread, used from a coroutine of another. */
static void *get_on_foreign_client(void *client)
{
    http_response *resp = NULL;
    http_get(client, "http://127.0.0.1:9/", &resp);
    return NULL;
}

static void *foreign_thread(void *client)
{
    coro_spawn(get_on_foreign_client, client, NULL);
    coro_run();
    return NULL;
}

static void client_of_another_thread(void)
{
    http_client *client = http_client_open(NULL);
    pthread_t t;
    if (client && pthread_create(&t, NULL, foreign_thread, client) == 0)
        pthread_join(t, NULL);
}

static void http_send_null_url(void)
{
    coro_spawn(send_null_url, NULL, NULL);
    coro_run();
}

/* ---- the trace hook must not suspend ---- */

static void yield_in_hook(const coro_event *ev, void *user)
{
    (void)user;
    if (ev->kind == CORO_EV_RESUME)
        coro_yield();
}

static void yield_from_trace_hook(void)
{
    coro_set_trace(yield_in_hook, NULL);
    coro_spawn(return_at_once, NULL, NULL);
    coro_run();
}

static void run_in_hook(const coro_event *ev, void *user)
{
    (void)user;
    if (ev->kind == CORO_EV_EXIT)
        coro_run();
}

static void run_from_trace_hook(void)
{
    coro_set_trace(run_in_hook, NULL);
    coro_spawn(return_at_once, NULL, NULL);
    coro_run();
}

/* ---- coro_run from a coroutine ---- */

static void *call_run(void *arg)
{
    (void)arg;
    coro_run();
    return NULL;
}

static void run_from_coroutine(void)
{
    coro_spawn(call_run, NULL, &(coro_opts){.name = "runner"});
    coro_run();
}

/* ---- one waiter per fd and direction ---- */

static void *read_fd(void *arg)
{
    (void)arg;
    char c;
    io_read(FD, &c, 1, CORO_NEVER);
    return NULL;
}

/* Two coroutines, "first" and "second", run fn on FD. */
static void two_on_fd(coro_fn fn, void *arg)
{
    if (socket_at_fd() < 0)
        return;
    coro_spawn(fn, arg, &(coro_opts){.name = "first"});
    coro_spawn(fn, arg, &(coro_opts){.name = "second"});
    coro_run();
}

static void two_readers(void)
{
    two_on_fd(read_fd, NULL);
}

/* Parks on writable even though the socket is: the second one comes first. */
static void *wait_writable(void *arg)
{
    (void)arg;
    coro_wait(FD, CORO_WRITE, CORO_NEVER);
    return NULL;
}

static void two_writers(void)
{
    two_on_fd(wait_writable, NULL);
}

/* The first coroutine stops the program: no second one. */
static void *wait_events(void *arg)
{
    coro_wait(FD, (int)(intptr_t)arg, CORO_NEVER);
    return NULL;
}

static void no_events(void)
{
    two_on_fd(wait_events, (void *)(intptr_t)0);
}

static void unknown_events(void)
{
    two_on_fd(wait_events, (void *)(intptr_t)4);
}

/* ---- join and detach: one owner per handle ---- */

static void *join_arg(void *arg)
{
    coro_join(arg, NULL);
    return NULL;
}

static void second_joiner(void)
{
    coro_t *c = coro_spawn(park_forever, NULL, NULL);       /* 1 */
    coro_spawn(join_arg, c, NULL);                          /* 2 */
    coro_spawn(join_arg, c, NULL);                          /* 3 */
    coro_run();
}

static void join_detached(void)
{
    coro_t *c = coro_spawn(park_forever, NULL, &(coro_opts){.detached = true});
    coro_spawn(join_arg, c, NULL);
    coro_run();
}

/* Coroutine 1 has finished (detached: its handle is gone) when 2 runs. */
static void join_detached_finished(void)
{
    coro_t *c = coro_spawn(return_at_once, NULL, &(coro_opts){.detached = true});
    coro_spawn(join_arg, c, NULL);
    coro_run();
}

static void *join_twice(void *arg)
{
    coro_join(arg, NULL);
    coro_join(arg, NULL);
    return NULL;
}

static void join_joined(void)
{
    coro_t *c = coro_spawn(return_at_once, NULL, NULL);
    coro_spawn(join_twice, c, NULL);
    coro_run();
}

static void *join_me(void *arg)
{
    (void)arg;
    coro_join(coro_self(), NULL);
    return NULL;
}

static void join_self(void)
{
    coro_spawn(join_me, NULL, NULL);
    coro_run();
}

static void join_null(void)
{
    coro_spawn(join_arg, NULL, NULL);
    coro_run();
}

static void detach_twice(void)
{
    coro_t *c = coro_spawn(park_forever, NULL, NULL);
    coro_detach(c);
    coro_detach(c);
}

static void *join_then_detach(void *arg)
{
    coro_join(arg, NULL);
    coro_detach(arg);
    return NULL;
}

static void detach_joined(void)
{
    coro_t *c = coro_spawn(return_at_once, NULL, NULL);
    coro_spawn(join_then_detach, c, NULL);
    coro_run();
}

static void *detach_arg(void *arg)
{
    coro_detach(arg);
    return NULL;
}

/* 2 parks joining 1; then 3 detaches 1. */
static void detach_while_joined(void)
{
    coro_t *c = coro_spawn(park_forever, NULL, NULL);
    coro_spawn(join_arg, c, NULL);
    coro_spawn(detach_arg, c, NULL);
    coro_run();
}

static void detach_null(void)
{
    coro_detach(NULL);
}

/* ---- spawn and reserve ---- */

static void spawn_null_fn(void)
{
    coro_spawn(NULL, NULL, NULL);
}

static void *reserve(void *arg)
{
    (void)arg;
    coro_reserve(1, 0);
    return NULL;
}

static void reserve_on_small_stack(void)
{
    coro_spawn(reserve, NULL, &(coro_opts){.stack_size = SMALL_STACK});
    coro_run();
}

/* ---- http_client_close with a request in flight ----
 * The requester's GET goes to a listener of ours; a second coroutine
 * accepts it, reads the request (so it is surely in flight: the requester
 * now waits for the answer) and closes the client under it. */

static struct sockaddr_in srv_addr;
static int srv_fd;
static http_client *shared_client;

static void *requester(void *arg)
{
    (void)arg;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)ntohs(srv_addr.sin_port));
    http_response *resp = NULL;
    http_get(shared_client, url, &resp);
    return NULL;
}

static void *closer(void *arg)
{
    (void)arg;
    char buf[256];
    int fd = io_accept(srv_fd, NULL, NULL, CORO_NEVER);
    if (fd >= 0 && io_read(fd, buf, sizeof buf, CORO_NEVER) > 0)
        http_client_close(shared_client);
    return NULL;
}

static void client_close_in_flight(void)
{
    srv_fd = listener(&srv_addr);
    shared_client = http_client_open(NULL);
    if (srv_fd < 0 || !shared_client)
        return;
    coro_spawn(requester, NULL, NULL);
    coro_spawn(closer, NULL, NULL);
    coro_run();
}

/* ---- the table ---- */

static const misuse_case cases[] = {
    {"coro_wait before any spawn", wait_before_any_spawn, "coro_wait", OUTSIDE},
    {"coro_yield from main", yield_from_main, "coro_yield", OUTSIDE},
    {"coro_sleep_until from main", sleep_from_main, "coro_sleep_until", OUTSIDE},
    {"coro_join from main", join_from_main, "coro_join", OUTSIDE},
    {"io_read from main, with a byte ready", read_from_main, "io_read", OUTSIDE},
    {"io_write from main", write_from_main, "io_write", OUTSIDE},
    {"io_send from main", send_from_main, "io_send", OUTSIDE},
    {"io_accept from main", accept_from_main, "io_accept", OUTSIDE},
    {"io_connect from main", connect_from_main, "io_connect", OUTSIDE},
    {"http_get called from main(), outside any coroutine", http_get_from_main, "http_send",
     OUTSIDE},
    {"http_send with req->url NULL", http_send_null_url, "http_send", "req->url is NULL"},
    {"http_get on another thread's client", client_of_another_thread, "http_send",
     "the client belongs to another thread (a client is used only on the thread that "
     "opened it: one per thread's runtime)"},
    {"coro_yield from the trace hook", yield_from_trace_hook, "coro_yield", IN_HOOK},
    {"coro_run from the trace hook", run_from_trace_hook, "coro_run",
     "called from the trace hook"},
    {"coro_run from a coroutine", run_from_coroutine, "coro_run",
     "called from coroutine 1 \"runner\"; only main() runs the scheduler"},
    {"two readers on one fd", two_readers, "io_read",
     "coroutine 2 \"second\" waits to read fd 50, which another coroutine already "
     "waits on (one waiter per fd and direction)"},
    {"two writers on one fd", two_writers, "coro_wait",
     "coroutine 2 \"second\" waits to write fd 50, which another coroutine already "
     "waits on (one waiter per fd and direction)"},
    {"coro_wait on an fd for no events", no_events, "coro_wait",
     "events 0 on fd 50: CORO_READ, CORO_WRITE or both"},
    {"coro_wait on an fd for unknown events", unknown_events, "coro_wait",
     "events 4 on fd 50: CORO_READ, CORO_WRITE or both"},
    {"a second joiner", second_joiner, "coro_join",
     "coroutine 1 is already being joined by coroutine 2"},
    {"joining a detached coroutine", join_detached, "coro_join",
     "coroutine 1 is detached (nobody may join or detach it again)"},
    {"joining a detached coroutine that finished", join_detached_finished, "coro_join",
     "coroutine 1 is detached (nobody may join or detach it again)"},
    {"joining a joined handle", join_joined, "coro_join",
     "coroutine 1 was already joined (its handle is gone)"},
    {"joining oneself", join_self, "coro_join", "coroutine 1 cannot join itself"},
    {"joining NULL", join_null, "coro_join", "a NULL handle"},
    {"coro_detach twice", detach_twice, "coro_detach",
     "coroutine 1 is detached (nobody may join or detach it again)"},
    {"detaching a joined handle", detach_joined, "coro_detach",
     "coroutine 1 was already joined (its handle is gone)"},
    {"detaching a coroutine being joined", detach_while_joined, "coro_detach",
     "coroutine 1 is already being joined by coroutine 2"},
    {"detaching NULL", detach_null, "coro_detach", "a NULL handle"},
    {"coro_spawn with a NULL fn", spawn_null_fn, "coro_spawn", "fn is NULL"},
    {"coro_reserve on a small stack", reserve_on_small_stack, "coro_reserve",
     "called from a coroutine with a stack smaller than CORO_DEFAULT_STACK "
     "(its helper threads need more)"},
    /* the client words the WHAT (http/client.c) */
    {"http_client_close with a request in flight", client_close_in_flight,
     "http_client_close", NULL},
};

int main(void)
{
    return misuse_run(cases, sizeof cases / sizeof cases[0]);
}
