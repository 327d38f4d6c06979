/* test_client_rawhead.c - http_request.keep_raw_head: the head's bytes as
 * received (resp->raw_head: 1xx heads first, then the final one) and a
 * chunked body's trailer section (resp->raw_trailer).
 *
 * Table-driven.  Each response is served in one write and then split in
 * two at every byte boundary, with a pass of the reactor between the
 * halves (as test_client_framing.c does), and must give the same bytes;
 * a second response on the same connection proves that the client
 * consumed the heads and trailers exactly.  Without keep_raw_head the
 * pointers are NULL and raw_head_len still counts the heads.
 */
#include <stdlib.h>

#include "check.h"
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include "client_test.h"
#include "testserver.h"

typedef struct rawhead_case {
    const char *name;
    const char *head;     /* what the server sends first, and raw_head */
    const char *body;     /* sent after it (chunked framing included) */
    const char *decoded;  /* the body the caller gets */
    const char *trailer;  /* the expected raw_trailer, or NULL */
} rawhead_case;

#define CHUNKED "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

static const rawhead_case cases[] = {
    {"plain", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", "ok", "ok", NULL},
    {"spacing, tabs, a fold, the reason as sent",
     "HTTP/1.1 200  Fine  \r\nX-A:v\r\nX-Tab:\tt\t \r\nX-Fold: a\r\n  b\r\n"
     "Content-Length: 2\r\n\r\n", "ok", "ok", NULL},
    {"bare LF line ends", "HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 2\n\n", "ok", "ok", NULL},
    {"no reason phrase", "HTTP/1.1 204\r\n\r\n", "", "", NULL},
    {"100 and 103 before the answer",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", "ok", "ok", NULL},
    {"chunked without trailers", CHUNKED, "2\r\nok\r\n0\r\n\r\n", "ok", "\r\n"},
    {"chunked with trailers", CHUNKED, "2\r\nok\r\n0\r\nX-T: t\r\nX-U:  u \r\n\r\n", "ok",
     "X-T: t\r\nX-U:  u \r\n\r\n"},
    {"trailers after bare LFs", CHUNKED, "2\nok\n0\nX-T: t\n\n", "ok", "X-T: t\n\n"},
    {"an extension on the last chunk", CHUNKED, "2\r\nok\r\n0;e=1\r\nX: y\r\n\r\n", "ok",
     "X: y\r\n\r\n"},
    {"1xx, then chunked with a trailer", "HTTP/1.1 100 Continue\r\n\r\n" CHUNKED,
     "1\r\nk\r\n0\r\nX: 1\r\n\r\n", "k", "X: 1\r\n\r\n"},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static http_client *open_client(void)
{
    return client_open_defaults((http_client_opts){0}, 3000, 10000);
}

/* The response's bytes: head then body, in a static buffer. */
static const char *whole(const rawhead_case *rc, size_t *len)
{
    static char buf[1024];
    *len = (size_t)snprintf(buf, sizeof buf, "%s%s", rc->head, rc->body);
    return buf;
}

/* Compares r with the case; keep: whether keep_raw_head was set. */
static int check_raw(const rawhead_case *rc, int err, const http_response *r, bool keep)
{
    int before = check_failures;
    if (!CHECK_INT(err, HTTP_OK) || !CHECK(r != NULL))
        return check_failures - before;
    CHECK_STR(r->body, rc->decoded);
    CHECK_INT(r->raw_head_len, strlen(rc->head));
    if (!keep) {
        CHECK(r->raw_head == NULL);
        CHECK(r->raw_trailer == NULL);
        CHECK_INT(r->raw_trailer_len, 0);
        return check_failures - before;
    }
    CHECK_STR(r->raw_head, rc->head);
    if (rc->trailer && CHECK(r->raw_trailer != NULL)) {
        CHECK_STR(r->raw_trailer, rc->trailer);
        CHECK_INT(r->raw_trailer_len, strlen(rc->trailer));
    } else if (!rc->trailer) {
        CHECK(r->raw_trailer == NULL);
    }
    return check_failures - before;
}

/* Serves `script`, requests /1 (and /2 if `second`), checks the first. */
static int run_case(const rawhead_case *rc, const ts_step *script, bool keep, bool second,
                    const char *how)
{
    testserver *ts = ts_start(AF_INET, script);
    http_client *c = open_client();
    int failed = !CHECK(ts != NULL) + !CHECK(c != NULL);
    if (!failed) {
        http_request req = {.url = ts_url(ts, "/1"), .keep_raw_head = keep};
        http_response *r = NULL;
        int err = http_send(c, &req, &r);
        failed = check_raw(rc, err, r, keep);
        http_response_free(r);
        r = NULL;
        if (second && !failed) {
            req.url = ts_url(ts, "/2");
            failed += !CHECK_INT(http_send(c, &req, &r), HTTP_OK);
            failed += r && !CHECK_STR(r->body, "ok");
            failed += !CHECK_INT(ts_connections(ts), 1);
            http_response_free(r);
        }
    }
    if (failed)
        fprintf(stderr, "    in case \"%s\", %s\n", rc->name, how);
    http_client_close(c);
    ts_stop(ts);
    return failed;
}

static void test_whole_then_reuse(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < N_CASES; i++) {
        size_t n;
        const char *bytes = whole(&cases[i], &n);
        for (int keep = 0; keep <= 1; keep++) {
            ts_step script[] = {TS_READ(), TS_SEND_N(bytes, n), TS_READ(), TS_SEND(OK_2),
                                TS_END()};
            run_case(&cases[i], script, keep, true,
                     keep ? "kept, then a second request" : "not kept, then a second request");
        }
    }
}

/* Every split point; under valgrind, of every third case only. */
static void test_every_split(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < N_CASES; i++) {
        if (ts_on_valgrind() && i % 3 != 0)
            continue;
        size_t n;
        const char *bytes = whole(&cases[i], &n);
        for (size_t at = 1; at < n; at++) {
            ts_step script[] = {TS_READ(), TS_SEND_N(bytes, at), TS_SLEEP(0),
                                TS_SEND_N(bytes + at, n - at), TS_END()};
            char how[64];
            snprintf(how, sizeof how, "split at byte %zu of %zu", at, n);
            if (run_case(&cases[i], script, true, false, how))
                break; /* one failing split per case is enough to read */
        }
    }
}

int main(void)
{
    CHECK_INT(ts_run("rawhead: each response whole, kept or not, then reuse",
                     test_whole_then_reuse, NULL), 0);
    CHECK_INT(ts_run("rawhead: split at every byte boundary", test_every_split, NULL), 0);
    return check_summary();
}
