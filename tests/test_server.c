/* test_server.c - http_server: requests, answers, keep-alive, pipelining,
 * streams, the handler's failures, IPv6, and the seed's case (a handler
 * that awaits an upstream through a shared client).
 *
 * Each case is a coroutine with a runtime of its own; the fds open after
 * it must be those open before (st_run_case).  The server is driven by
 * the project's client where a client would do, and by raw sockets where
 * the bytes on the wire matter (pipelining, HTTP/1.0, Expect).
 */
#include "server_test.h"
#include <bareawait/client.h>

/* ---- the handler: by path ---- */

static int stream(http_server_reply *reply, int64_t length, const char *const *pieces)
{
    if (http_reply_start(reply, 200, "text/plain", length) < 0)
        return -1;
    for (; *pieces; pieces++)
        if (http_reply_write(reply, *pieces, strlen(*pieces)) < 0)
            return -1;
    return 0;    /* returning 0 ends the stream, as http_reply_end would */
}

enum { BIG = 16 << 20, PIECE = 64 << 10 };

/* BIG bytes of ts_pattern_byte in PIECE-sized writes from one buffer:
 * each write returns when the socket took it, so the server holds no more
 * than the piece, however slow the client. */
static int big_stream(http_server_reply *reply, bool length_known)
{
    static unsigned char piece[PIECE];
    if (http_reply_start(reply, 200, "application/octet-stream", length_known ? BIG : -1) < 0)
        return -1;
    for (size_t at = 0; at < BIG; at += PIECE) {
        for (size_t i = 0; i < PIECE; i++)
            piece[i] = ts_pattern_byte(at + i);
        if (http_reply_write(reply, piece, PIECE) < 0)
            return -1;
    }
    return http_reply_end(reply);
}

static int routes(const http_server_request *req, http_server_reply *reply, void *user)
{
    static const char *const hello[] = {"hello ", "world!", NULL};
    static const char *const three[] = {"one ", "", "two ", "three", NULL};
    static const char *const short3[] = {"abc", NULL};
    const char *p = req->path;
    if (strcmp(p, "/stream/length") == 0)
        return stream(reply, 12, hello);
    if (strcmp(p, "/stream/unknown") == 0)
        return stream(reply, -1, three);
    if (strcmp(p, "/stream/short") == 0)  /* promises 10, ends after 3 */
        return stream(reply, 10, short3) < 0 ? -1 : http_reply_end(reply);
    if (strcmp(p, "/stream/long") == 0) {
        CHECK_INT(stream(reply, 2, short3), -1);
        CHECK_INT(errno, EMSGSIZE);
        return -1;
    }
    if (strcmp(p, "/stream/broken") == 0) {
        stream(reply, -1, three);
        return -1;                     /* a stream under way: the client sees it cut */
    }
    if (strncmp(p, "/big/", 5) == 0)
        return big_stream(reply, strcmp(p, "/big/length") == 0);
    if (strcmp(p, "/fail") == 0)
        return -1;
    if (strcmp(p, "/nothing") == 0)
        return 0;
    if (strcmp(p, "/close") == 0) {
        CHECK_INT(http_reply_header(reply, "Connection", "close"), 0);
        return http_reply(reply, 200, NULL, "bye", 3);
    }
    if (strcmp(p, "/headers") == 0) {
        static const char *const bad[][2] = {
            {"Content-Length", "3"}, {"transfer-encoding", "chunked"}, {"Date", "x"},
            {"Connection", "keep-alive"}, {"Bad Name", "v"}, {"", "v"}, {"X", "a\r\nb"},
            {"X", "a\nb"}, {"X(", "v"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            if (!CHECK_INT(http_reply_header(reply, bad[i][0], bad[i][1]), -1) ||
                !CHECK_INT(errno, EINVAL))
                fprintf(stderr, "    header \"%s: %s\"\n", bad[i][0], bad[i][1]);
        CHECK_INT(http_reply_header(reply, "X-Tab", "a\tb"), 0);
        CHECK_INT(http_reply(reply, 200, "text/\x01plain", "x", 1), -1);
        return http_reply(reply, 201, "text/plain", "made", 4);
    }
    return st_echo(req, reply, user);
}

/* ---- through the client ---- */

typedef struct source {
    const char *text;
    size_t at;
} source;

static long give(void *user, char *buf, size_t cap, int64_t deadline_ns)
{
    (void)deadline_ns;
    source *s = user;
    size_t n = strlen(s->text + s->at);
    n = n < cap ? n : cap;
    n = n < 5 ? n : 5;                 /* several chunks */
    memcpy(buf, s->text + s->at, n);
    s->at += n;
    return (long)n;
}

static const struct {
    const char *method, *path, *body;
    bool chunked;                      /* the body from a body_source: chunked */
    int status;
    const char *want;                  /* the body the answer must have */
    const char *header, *value;        /* and a header of it */
} requests[] = {
    {"GET", "/a", NULL, false, 200, "GET /a body=0:", "Content-Type", "text/plain"},
    {"HEAD", "/a", NULL, false, 200, "", "Content-Length", "15"},
    {"POST", "/p", "hello", false, 200, "POST /p body=5:hello", NULL, NULL},
    {"POST", "/c", "a chunked body", true, 200, "POST /c body=14:a chunked body", NULL, NULL},
    {"PUT", "/empty", NULL, false, 200, "PUT /empty body=0:", NULL, NULL},
    {"DELETE", "/x?q=1&r", NULL, false, 200, "DELETE /x?q=1&r body=0:", NULL, NULL},
    {"GET", "/stream/length", NULL, false, 200, "hello world!", "Content-Length", "12"},
    {"GET", "/stream/unknown", NULL, false, 200, "one two three", "Transfer-Encoding", "chunked"},
    {"HEAD", "/stream/unknown", NULL, false, 200, "", "Transfer-Encoding", "chunked"},
    {"GET", "/fail", NULL, false, 500, "500 Internal Server Error\n", NULL, NULL},
    {"GET", "/nothing", NULL, false, 500, "500 Internal Server Error\n", NULL, NULL},
    {"GET", "/headers", NULL, false, 201, "made", "X-Tab", "a\tb"},
    {"GET", "/after-all-that", NULL, false, 200, "GET /after-all-that body=0:", NULL, NULL},
};

/* Every request above, one after the other on one client: all on one
 * connection, kept alive (failures and streams included). */
static void *methods_bodies_keepalive(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, routes, NULL) < 0)
        return NULL;
    http_client *c = http_client_open(NULL);
    char url[128];
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", sv.port, requests[i].path);
        source src = {requests[i].body, 0};
        http_request rq = {.method = requests[i].method, .url = url};
        if (requests[i].body && requests[i].chunked)
            rq = (http_request){.method = requests[i].method, .url = url, .body_source = give,
                                .body_user = &src, .body_length = -1};
        else if (requests[i].body)
            rq = (http_request){.method = requests[i].method, .url = url,
                                .body = requests[i].body, .body_len = strlen(requests[i].body)};
        http_response *r = NULL;
        int err = http_send(c, &rq, &r);
        bool ok = CHECK_INT(err, 0) && CHECK_INT(r->status, requests[i].status) &&
                  CHECK_STR(r->body, requests[i].want);
        if (ok && requests[i].header)
            ok = CHECK_STR(http_response_header(r, requests[i].header), requests[i].value);
        if (!ok)
            fprintf(stderr, "    request %s %s\n", requests[i].method, requests[i].path);
        http_response_free(r);
    }
    CHECK_INT(sv.accepted, 1);         /* one connection carried them all */
    http_client_close(c);
    st_down(&sv);
    return NULL;
}

/* A stream that breaks its promise: the client sees the body cut short,
 * and the server closes the connection (the next request opens another). */
static void *broken_streams(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, routes, NULL) < 0)
        return NULL;
    http_client *c = http_client_open(NULL);
    static const char *const paths[] = {"/stream/short", "/stream/broken", "/stream/long"};
    static const int want[] = {HTTP_E_TRUNCATED, HTTP_E_TRUNCATED, 0};
    char url[128];
    for (size_t i = 0; i < 3; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", sv.port, paths[i]);
        http_response *r = NULL;
        int err = http_get(c, url, &r);
        if (!CHECK_INT(err, want[i]))
            fprintf(stderr, "    %s: %s\n", paths[i], http_strerror(err));
        if (want[i] == 0 && r)         /* nothing had gone out: a 500 */
            CHECK_INT(r->status, 500);
        http_response_free(r);
    }
    CHECK_INT(sv.accepted, 3);
    http_client_close(c);
    st_down(&sv);
    return NULL;
}

/* The client's sink: every byte must be the pattern's next. */
typedef struct tally {
    size_t bytes;
    bool wrong;
} tally;

static int count_bytes(void *user, const char *data, size_t len, int64_t deadline_ns)
{
    (void)deadline_ns;
    tally *t = user;
    for (size_t i = 0; i < len; i++)
        t->wrong |= (unsigned char)data[i] != ts_pattern_byte(t->bytes + i);
    t->bytes += len;
    return 0;
}

/* 16 MiB streamed, with a length and chunked: every byte arrives, in order. */
static void *big_streams(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, routes, NULL) < 0)
        return NULL;
    http_client *c = http_client_open(NULL);
    static const char *const paths[] = {"/big/length", "/big/chunked"};
    char url[128];
    for (size_t i = 0; i < 2; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", sv.port, paths[i]);
        tally t = {0};
        http_response *r = NULL;
        http_request rq = {.url = url, .sink = count_bytes, .sink_user = &t};
        if (!CHECK_INT(http_send(c, &rq, &r), 0) || !CHECK_INT(t.bytes, BIG) || !CHECK(!t.wrong))
            fprintf(stderr, "    %s\n", paths[i]);
        http_response_free(r);
    }
    http_client_close(c);
    st_down(&sv);
    return NULL;
}

/* ---- raw bytes ---- */

#define H "Host: a\r\n"

/* Three requests in one write, answered in order; the last says close. */
static void *pipelined_three(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, routes, NULL) < 0)
        return NULL;
    int fd = st_connect(AF_INET, sv.port);
    static char buf[8192];
    size_t len = 0, at = 0;
    if (fd >= 0 && CHECK_INT(st_send(fd, "GET /1 HTTP/1.1\r\n" H "\r\n"
                                         "POST /2 HTTP/1.1\r\n" H "Content-Length: 3\r\n\r\nabc"
                                         "GET /3 HTTP/1.1\r\n" H "Connection: close\r\n\r\n"), 0))
        CHECK_INT(st_read_all(fd, buf, sizeof buf, 2000 * st_slow(), &len), ST_EOF);
    static const char *const want[] = {"GET /1 body=0:", "POST /2 body=3:abc", "GET /3 body=0:"};
    for (int i = 0; i < 3; i++) {
        st_answer a;
        if (!CHECK(st_next_answer(buf, len, &at, false, &a)) || !CHECK_STR(a.body, want[i]))
            break;
        CHECK(st_head_has(&a, "Connection: close") == (i == 2));
    }
    CHECK_INT(at, len);                /* and nothing more */
    if (fd >= 0)
        coro_close(fd);
    st_down(&sv);
    return NULL;
}

/* HTTP/1.0: closed after the answer, unless it asks for keep-alive; a
 * stream of unknown length to it goes until the close. */
static void *http10(void *arg)
{
    (void)arg;
    static const struct {
        const char *send;
        int answers;
        const char *last_body, *line;  /* the last answer's body, a line of its head */
    } cases[] = {
        {"GET /old HTTP/1.0\r\n\r\n", 1, "GET /old body=0:", "Connection: close"},
        {"GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /k2 HTTP/1.0\r\n\r\n", 2,
         "GET /k2 body=0:", "Connection: close"},
        {"GET /stream/unknown HTTP/1.0\r\n\r\n", 1, "one two three", "Connection: close"},
    };
    st_server sv;
    if (st_up(&sv, NULL, routes, NULL) < 0)
        return NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = st_connect(AF_INET, sv.port);
        static char buf[8192];
        size_t len = 0, at = 0;
        if (fd < 0 || !CHECK_INT(st_send(fd, cases[i].send), 0) ||
            !CHECK_INT(st_read_all(fd, buf, sizeof buf, 2000 * st_slow(), &len), ST_EOF))
            fprintf(stderr, "    case %zu\n", i);
        st_answer a = {0};
        int got = 0;
        while (st_next_answer(buf, len, &at, false, &a))
            if (++got == 1 && cases[i].answers == 2)
                CHECK(st_head_has(&a, "Connection: keep-alive"));
        if (!CHECK_INT(got, cases[i].answers) || !CHECK_STR(a.body, cases[i].last_body) ||
            !CHECK(st_head_has(&a, cases[i].line)))
            fprintf(stderr, "    case %zu: %s\n", i, buf);
        if (fd >= 0)
            coro_close(fd);
    }
    st_down(&sv);
    return NULL;
}

/* Expect: 100-continue gets a 100 before the body is sent. */
static void *expect_continue(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, routes, NULL) < 0)
        return NULL;
    int fd = st_connect(AF_INET, sv.port);
    char buf[1024];
    size_t len = 0;
    if (fd >= 0 && CHECK_INT(st_send(fd, "POST /e HTTP/1.1\r\n" H "Content-Length: 4\r\n"
                                         "Expect: 100-Continue\r\n\r\n"), 0)) {
        ssize_t n = io_read(fd, buf, sizeof buf - 1, coro_deadline_in(2000));
        buf[n > 0 ? n : 0] = '\0';
        CHECK_STR(buf, "HTTP/1.1 100 Continue\r\n\r\n");
        CHECK_INT(st_send(fd, "body"), 0);
        shutdown(fd, SHUT_WR);
        CHECK_INT(st_read_all(fd, buf, sizeof buf, 2000 * st_slow(), &len), ST_EOF);
        size_t at = 0;
        st_answer a;
        if (CHECK(st_next_answer(buf, len, &at, false, &a)))
            CHECK_STR(a.body, "POST /e body=4:body");
    }
    if (fd >= 0)
        coro_close(fd);
    st_down(&sv);
    return NULL;
}

/* A handler's "Connection: close" closes after the answer. */
static void *handler_closes(void *arg)
{
    (void)arg;
    st_server sv;
    if (st_up(&sv, NULL, routes, NULL) < 0)
        return NULL;
    int fd = st_connect(AF_INET, sv.port);
    char buf[2048];
    size_t len = 0, at = 0;
    st_answer a;
    if (fd >= 0 && CHECK_INT(st_send(fd, "GET /close HTTP/1.1\r\n" H "\r\n"), 0) &&
        CHECK_INT(st_read_all(fd, buf, sizeof buf, 2000 * st_slow(), &len), ST_EOF) &&
        CHECK(st_next_answer(buf, len, &at, false, &a)))
        if (CHECK(st_head_has(&a, "Connection: close")))
            CHECK_STR(a.body, "bye");
    if (fd >= 0)
        coro_close(fd);
    st_down(&sv);
    return NULL;
}

/* ---- addresses ---- */

/* "[::1]:0": IPv6, a port the kernel picks; and bad listen addresses. */
static void *ipv6_port_zero(void *arg)
{
    (void)arg;
    static const char *const bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                                      "127.0.0.1:-1", "127.0.0.1:80x", "::1:80", "[::1]80",
                                      "[::1", "localhost:80", ":80", "[]:80", "1.2.3:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_server *s = http_server_open(&(http_server_opts){.listen = bad[i]}, routes, NULL);
        if (!CHECK(s == NULL) || !CHECK_INT(errno, EINVAL))
            fprintf(stderr, "    listen \"%s\"\n", bad[i]);
        http_server_close(s);
    }
    st_server sv;
    http_server_opts o = {.listen = "[::1]:0"};
    http_server *probe = http_server_open(&o, routes, NULL);
    if (!probe && errno == EADDRNOTAVAIL) {
        printf("    (no ::1 on this machine: the IPv6 part is skipped)\n");
        return NULL;
    }
    http_server_close(probe);
    if (st_up(&sv, &o, routes, NULL) < 0)
        return NULL;
    CHECK(sv.port > 0);
    http_client *c = http_client_open(NULL);
    char url[64];
    snprintf(url, sizeof url, "http://[::1]:%d/six", sv.port);
    http_response *r = NULL;
    if (CHECK_INT(http_get(c, url, &r), 0))
        CHECK_STR(r->body, "GET /six body=0:");
    http_response_free(r);
    http_client_close(c);
    st_down(&sv);
    return NULL;
}

/* reuse_port: two servers on one port (a listener per thread); without
 * it the second bind is EADDRINUSE. */
static void *reuse_port(void *arg)
{
    (void)arg;
    http_server_opts o = {.reuse_port = true};
    http_server *a = http_server_open(&o, routes, NULL);
    if (!CHECK(a != NULL))
        return NULL;
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", http_server_port(a));
    o.listen = listen;
    http_server *b = http_server_open(&o, routes, NULL);
    if (CHECK(b != NULL))
        CHECK_INT(http_server_port(b), http_server_port(a));
    http_server *c = http_server_open(&(http_server_opts){.listen = listen}, routes, NULL);
    if (!CHECK(c == NULL))
        http_server_close(c);
    CHECK_INT(errno, EADDRINUSE);
    http_server_close(b);
    http_server_close(a);
    return NULL;
}

/* ---- the seed: a handler awaiting an upstream, shared client ---- */

typedef struct gateway {
    http_client *client;
    int upstream_port;
} gateway;

static int gateway_handler(const http_server_request *req, http_server_reply *reply, void *user)
{
    gateway *g = user;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g->upstream_port, req->path);
    http_response *r = NULL;
    int err = http_get(g->client, url, &r);         /* the await */
    int rc = err ? http_reply(reply, 502, NULL, "bad gateway", 11)
                 : http_reply(reply, r->status, http_response_header(r, "Content-Type"),
                              r->body, r->body_len);
    http_response_free(r);
    return rc;
}

enum { FETCHERS = 20 };

typedef struct fetch_job {
    int port, n;
    http_client *client;
    int err;
    char body[64];
} fetch_job;

static void *fetch_one(void *arg)
{
    fetch_job *j = arg;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/n%d", j->port, j->n);
    http_response *r = NULL;
    j->err = http_get(j->client, url, &r);
    if (!j->err)
        snprintf(j->body, sizeof j->body, "%s", r->body);
    http_response_free(r);
    return NULL;
}

static void *seed_gateway(void *arg)
{
    (void)arg;
    st_server up, gw;
    gateway g = {.client = http_client_open(NULL)};
    if (st_up(&up, NULL, routes, NULL) < 0)
        return NULL;
    g.upstream_port = up.port;
    if (st_up(&gw, NULL, gateway_handler, &g) < 0)
        return NULL;
    http_client *users = http_client_open(&(http_client_opts){.max_per_host = FETCHERS});
    fetch_job jobs[FETCHERS];
    coro_t *co[FETCHERS];
    for (int i = 0; i < FETCHERS; i++) {
        jobs[i] = (fetch_job){.port = gw.port, .n = i, .client = users};
        co[i] = coro_spawn(fetch_one, &jobs[i], NULL);
    }
    for (int i = 0; i < FETCHERS; i++) {
        char want[64];
        snprintf(want, sizeof want, "GET /n%d body=0:", i);
        coro_join(co[i], NULL);
        if (!CHECK_INT(jobs[i].err, 0) || !CHECK_STR(jobs[i].body, want))
            fprintf(stderr, "    fetcher %d\n", i);
    }
    CHECK_INT(gw.accepted, FETCHERS);  /* all at once: one connection each */
    http_client_close(users);
    st_down(&gw);
    http_client_close(g.client);
    st_down(&up);
    return NULL;
}

#define CASE(fn) {#fn, run_##fn}
#define RUNNER(fn) static void run_##fn(void) { st_run_case(fn); }
RUNNER(methods_bodies_keepalive)
RUNNER(broken_streams)
RUNNER(big_streams)
RUNNER(pipelined_three)
RUNNER(http10)
RUNNER(expect_continue)
RUNNER(handler_closes)
RUNNER(ipv6_port_zero)
RUNNER(reuse_port)
RUNNER(seed_gateway)

static const check_case cases[] = {
    CASE(methods_bodies_keepalive), CASE(broken_streams), CASE(big_streams),
    CASE(pipelined_three),
    CASE(http10), CASE(expect_continue), CASE(handler_closes), CASE(ipv6_port_zero),
    CASE(reuse_port), CASE(seed_gateway),
};

int main(void)
{
    return check_run(cases, sizeof cases / sizeof cases[0], 1);
}
