/* fuzz_client.c - the whole client against a server that replies with
 * fuzzed bytes: `response = await client.get(url)` with a hostile peer.
 *
 * Input: the same layout as fuzz_parse (byte 0 flags: bit 0 HEAD, bits
 * 1-3 max_body, bit 4 keep_raw_head (fuzz_parse ignores it); bytes 1-4
 * seed the server's write sizes; the rest is the reply), so the two
 * corpora are interchangeable.
 *
 * Each input runs the runtime from scratch: coro_run starts with two
 * coroutines and ends with the runtime torn down.
 *   server  accepts one connection on a loopback listener (made once, kept
 *           for the whole process), reads the request head, writes the
 *           reply in fuzzed-size pieces with a pass of the scheduler
 *           between them, and closes.
 *   driver  opens a client, sends the request with short timeouts,
 *           closes the client, then stops and joins the server.
 * Checks: the client returns a documented code, and exactly the one (and
 * the status, headers count, body bytes) that fz_model_decode predicts
 * from the same bytes; a partial response comes back exactly when a head
 * was accepted, with raw_head_len where the model's final head ended and,
 * when kept, the raw head and trailer bytes as they were in the stream; coro_run ends cleanly; no fd is left open; no memory is
 * leaked (LeakSanitizer in the fuzz build, valgrind in the replay).
 *
 * Speed: about 4,000 inputs a second per core with ASan and UBSan (4,500
 * uninstrumented), not 10,000: half of an input's time is the kernel's
 * loopback TCP (connect, accept, a transmit per write, close on both
 * sides), and about a sixth is mapping and unmapping fresh stacks, since
 * the runtime is torn down after every input.  Run two with -jobs=2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bareawait/client.h>
#include "conn.h"
#include <bareawait/coro.h>
#include "fuzz.h"
#include "fz_model.h"
#include <bareawait/io.h>

_Static_assert(FZ_MAX_HEADERS == CONN_MAX_HEADERS, "the model must hold what the client holds");

#define FD_WINDOW 8          /* fds compared before and after each input */
#define STEP_TIMEOUT_MS 2000 /* the server always closes: no step should wait */

typedef struct run {
    const uint8_t *reply;    /* what the server sends */
    size_t len;
    uint32_t seed;           /* its write sizes */
    bool head_only;
    bool keep_raw;           /* http_request.keep_raw_head */
    size_t max_body;
    char url[64];
    int code;                /* what http_send returned */
    http_response *resp;     /* and handed back */
} run;

static int listen_fd = -1;
static int listen_port;

/* The loopback listener, made on the first input and kept. */
static void listener_once(void)
{
    if (listen_fd >= 0)
        return;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FZ_CHECK(listen_fd >= 0);
    FZ_CHECK(bind(listen_fd, (struct sockaddr *)&a, sizeof a) == 0);
    FZ_CHECK(listen(listen_fd, 16) == 0);
    FZ_CHECK(getsockname(listen_fd, (struct sockaddr *)&a, &alen) == 0);
    listen_port = ntohs(a.sin_port);
}

/* SUSPENDS.  Reads the request head.  The client sends a head and
 * nothing after it, so the head is over when what came ends with the
 * blank line. */
static int read_request(int fd, int64_t deadline)
{
    char buf[4096];
    size_t have = 0;
    while (have < 4 || memcmp(buf + have - 4, "\r\n\r\n", 4) != 0) {
        if (have == sizeof buf)
            return -1;
        ssize_t n = io_read(fd, buf + have, sizeof buf - have, deadline);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    return 0;
}

/* The reply goes out in at most MAX_PIECES writes, cut at points drawn
 * from the seed.  Few pieces on purpose: every write is a trip through the
 * loopback TCP stack, the bulk of an input's cost.  (fuzz_parse splits
 * everywhere, one byte at a time included; here the point is the socket
 * side: short reads, a head or a chunk size cut across reads, EOF.) */
#define MAX_PIECES 8

static void *server(void *arg)
{
    run *r = arg;
    int64_t deadline = coro_deadline_in(STEP_TIMEOUT_MS);
    int fd = io_accept(listen_fd, NULL, NULL, deadline);
    FZ_CHECK(fd >= 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (read_request(fd, deadline) == 0) {
        uint32_t seed = r->seed;
        int pieces = 1 + (int)(fz_next(&seed) % MAX_PIECES);
        for (size_t at = 0; at < r->len; pieces--) {
            size_t n = pieces == 1 ? r->len - at : fz_piece(&seed, r->len - at);
            if (io_send(fd, r->reply + at, n, deadline) < 0)
                break;
            at += n;
            if (at < r->len && coro_yield() < 0)
                break;
        }
    }
    coro_close(fd);
    return NULL;
}

static void *driver(void *arg)
{
    run *r = arg;
    coro_opts so = {.name = "server", .stack_size = 128 * 1024};
    coro_t *srv = coro_spawn(server, r, &so);
    FZ_CHECK(srv != NULL);
    http_client_opts o = {.connect_timeout_ms = STEP_TIMEOUT_MS,
                          .read_timeout_ms = STEP_TIMEOUT_MS,
                          .total_timeout_ms = 2 * STEP_TIMEOUT_MS};
    http_client *c = http_client_open(&o);
    FZ_CHECK(c != NULL);
    http_request req = {.method = r->head_only ? "HEAD" : "GET", .url = r->url,
                        .max_body = r->max_body, .keep_raw_head = r->keep_raw};
    r->code = http_send(c, &req, &r->resp);
    http_client_close(c);
    coro_cancel(srv);  /* it may still be writing to a client that is done */
    FZ_EQ(coro_join(srv, NULL), 0);
    return NULL;
}

static bool documented(int code)
{
    switch (code) {
    case HTTP_OK: case HTTP_E_MALFORMED: case HTTP_E_TRUNCATED:
    case HTTP_E_EMPTY_REPLY: case HTTP_E_BODY_TOO_LARGE: case HTTP_E_UNSUPPORTED_CODING:
        return true;
    }
    return false;  /* RESET, timeouts...: the server never does that */
}

/* keep_raw_head: raw_head is the stream's first bytes, up to where the
 * model's final head ended; a trailer section, the bytes just before
 * where the response ended.  Without it, nothing is kept but the length. */
static void compare_raw(const run *r, const fz_outcome *want)
{
    const http_response *resp = r->resp;
    FZ_EQ(resp->raw_head_len, want->head_end);
    if (!r->keep_raw) {
        FZ_CHECK(resp->raw_head == NULL && resp->raw_trailer == NULL);
        return;
    }
    FZ_CHECK(resp->raw_head != NULL && resp->raw_head[resp->raw_head_len] == '\0');
    FZ_CHECK(memcmp(resp->raw_head, r->reply, resp->raw_head_len) == 0);
    size_t tl = resp->raw_trailer_len;
    if (!resp->raw_trailer || r->code != HTTP_OK)
        return;
    FZ_CHECK(tl > 0 && tl <= want->end - want->head_end && resp->raw_trailer[tl] == '\0');
    FZ_CHECK(resp->raw_trailer[tl - 1] == '\n');
    FZ_CHECK(memcmp(resp->raw_trailer, r->reply + want->end - tl, tl) == 0);
}

static void compare(const run *r, const fz_outcome *want)
{
    if (!documented(r->code) || r->code != want->code) {
        fprintf(stderr, "fuzz_client: got %d (%s), the model says %d (%s)\n", r->code,
                http_strerror(r->code), want->code, http_strerror(want->code));
        abort();
    }
    FZ_EQ(r->resp != NULL, want->response);
    if (!r->resp)
        return;
    FZ_EQ(r->resp->status, want->status);
    FZ_EQ(r->resp->minor_version, want->minor_version);
    FZ_EQ(r->resp->n_headers, want->n_headers);
    FZ_EQ(r->resp->content_length, want->content_length);
    compare_raw(r, want);
    size_t len = r->resp->body_len;
    if (r->code == HTTP_E_BODY_TOO_LARGE) /* how much came first depends on */
        FZ_CHECK(len <= r->max_body);      /* the split: see fz_model_compare */
    else
        FZ_EQ(len, want->body_len);
    if (r->code == HTTP_OK)
        FZ_CHECK(r->resp->body && r->resp->body[len] == '\0');
    if (len == 0)
        return;
    FZ_CHECK(r->resp->body != NULL);
    if (r->code != HTTP_E_BODY_TOO_LARGE) {
        FZ_CHECK(memcmp(r->resp->body, want->body, len) == 0);
        return;
    }
    /* Whatever part came must be the start of the body without a limit. */
    fz_outcome all;
    fz_model_decode(r->reply, r->len, r->head_only, 0, FZ_WHOLE, 0, &all);
    FZ_CHECK(len <= all.body_len && memcmp(r->resp->body, all.body, len) == 0);
    free(all.body);
}

/* Which of the fds lo..lo+FD_WINDOW-1 are open, as bits.  An input opens
 * a handful (epoll, two sockets), always at the lowest free numbers, so
 * with lo the lowest free one before the input, a leaked fd shows up
 * here.  Cheaper than listing /proc/self/fd per input. */
static uint32_t open_fds(int lo)
{
    uint32_t bits = 0;
    for (int i = 0; i < FD_WINDOW; i++)
        if (fcntl(lo + i, F_GETFD) >= 0)
            bits |= (uint32_t)1 << i;
    return bits;
}

/* The lowest fd number not in use. */
static int lowest_free_fd(void)
{
    int fd = fcntl(0, F_DUPFD, 0);
    FZ_CHECK(fd >= 0);
    close(fd);
    return fd;
}

/* The model does not know max_head_bytes (64 KiB by default); replies
 * stay below it.  (libFuzzer's inputs are 4 KiB unless told otherwise.) */
#define MAX_REPLY 60000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_REPLY)
        return 0;
    listener_once();
    run r = {.seed = 0};
    uint8_t flags = size > 0 ? data[0] : 0;
    size_t at = size > 0 ? 1 : 0;
    for (; at < size && at < 5; at++)
        r.seed = r.seed << 8 | data[at];
    r.reply = data + at;
    r.len = size - at;
    r.head_only = flags & 1;
    r.keep_raw = flags & 16;
    r.max_body = fz_max_body_of(flags);
    snprintf(r.url, sizeof r.url, "http://127.0.0.1:%d/fuzz", listen_port);

    int lo = lowest_free_fd();
    uint32_t fds_before = open_fds(lo);
    coro_opts dopts = {.name = "driver", .stack_size = 256 * 1024};
    FZ_CHECK(coro_spawn(driver, &r, &dopts) != NULL);
    FZ_EQ(coro_run(), 0);
    FZ_EQ(open_fds(lo), fds_before);

    fz_outcome want;
    fz_model_decode(r.reply, r.len, r.head_only, r.max_body, FZ_WHOLE, 0, &want);
    compare(&r, &want);
    free(want.body);
    http_response_free(r.resp);
    return 0;
}
