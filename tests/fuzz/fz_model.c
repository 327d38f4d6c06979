/* fz_model.c - the client's decoding steps over an in-memory stream, with
 * the parse.h contract checked at every call (see fz_model.h).
 *
 * The buffer plays the connection's read buffer (http/conn.c): bytes
 * arrive at its end, the parser looks at buf[0..have), consumed bytes
 * leave from its front.  Everything past `have` is fenced off: poisoned
 * under ASan, no-access under valgrind, so a parser that reads one byte
 * past what it was given is caught even though the allocation goes on.
 */
#include <string.h>

#include <bareawait/client.h>
#include "fuzz.h"
#include "fz_model.h"
#include "parse.h"
#include "sanitize.h"

#ifdef BA_ASAN
#include <sanitizer/asan_interface.h>
#endif
#if HAVE_VALGRIND_H
#include <valgrind/memcheck.h>
#endif

typedef struct model {
    const uint8_t *stream;  /* the whole reply... */
    size_t len;             /* ...and its size */
    size_t fed;             /* stream bytes handed to the buffer so far */
    fz_split split;
    uint32_t seed;          /* FZ_PIECES: the split generator's state */
    char *buf;              /* the "read buffer", `cap` = len (+1) bytes */
    size_t cap;
    size_t have;            /* bytes in buf not yet consumed */
    bool head_only;
    size_t max_body;
    fz_outcome *out;
} model;

/* The fence: buf[have..cap) is unreadable to the tools.  Only the bytes
 * that change sides are (un)poisoned, so a byte-at-a-time decode stays
 * linear. */
static void fence_off(char *p, size_t n)    /* make p[0..n) unreadable */
{
#ifdef BA_ASAN
    ASAN_POISON_MEMORY_REGION(p, n);
#endif
#if HAVE_VALGRIND_H
    VALGRIND_MAKE_MEM_NOACCESS(p, n);
#endif
    (void)p, (void)n;
}

static void fence_open(char *p, size_t n)   /* make p[0..n) writable */
{
#ifdef BA_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
#if HAVE_VALGRIND_H
    VALGRIND_MAKE_MEM_UNDEFINED(p, n);
#endif
    (void)p, (void)n;
}

/* One "read": the next piece of the stream.  Its size, or 0 at the end. */
static size_t fill(model *m)
{
    size_t left = m->len - m->fed;
    if (left == 0)
        return 0;
    size_t n = m->split == FZ_WHOLE ? left
             : m->split == FZ_BYTES ? 1 : fz_piece(&m->seed, left);
    fence_open(m->buf + m->have, n);
    memcpy(m->buf + m->have, m->stream + m->fed, n);
    m->have += n;
    m->fed += n;
    return n;
}

static void consume(model *m, size_t n)
{
    FZ_CHECK(n <= m->have);
    memmove(m->buf, m->buf + n, m->have - n);
    m->have -= n;
    fence_off(m->buf + m->have, n);
}

/* Whether [p, p + n) lies inside [lo, hi). */
static bool inside(const char *p, size_t n, const char *lo, const char *hi)
{
    return p >= lo && p <= hi && n <= (size_t)(hi - p);
}

/* A value's folds: every LF comes right after a CR or not, and right
 * before a space or tab; unfolded, no CR or LF is left, and the value
 * keeps its first and last byte. */
static void check_folds(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\r')
            FZ_CHECK(i + 1 < n && v[i + 1] == '\n');
        if (v[i] == '\n')
            FZ_CHECK(i + 1 < n && (v[i + 1] == ' ' || v[i + 1] == '\t'));
    }
    char *out = malloc(n ? n : 1);
    FZ_CHECK(out != NULL);
    size_t len = http_header_unfold(out, v, n);
    FZ_CHECK(len <= n);
    FZ_CHECK(memchr(out, '\n', len) == NULL && memchr(out, '\r', len) == NULL);
    if (n > 0)
        FZ_CHECK(len > 0 && out[0] == v[0] && out[len - 1] == v[n - 1]);
    free(out);
}

/* The contract of a head that http_parse_response accepted (ret > 0). */
static void check_head(const model *m, int ret, int minor, int status,
                       const char *reason, size_t reason_len,
                       const http_header *h, size_t nh, size_t cap)
{
    const char *end = m->buf + ret;
    FZ_CHECK((size_t)ret <= m->have);
    FZ_CHECK(minor == 0 || minor == 1);
    FZ_CHECK(status >= 100 && status <= 999);
    FZ_CHECK(nh <= cap);
    FZ_CHECK(inside(reason, reason_len, m->buf, end));
    for (size_t i = 0; i < nh; i++) {
        FZ_CHECK(h[i].name_len > 0);
        FZ_CHECK(inside(h[i].name, h[i].name_len, m->buf, end));
        FZ_CHECK(inside(h[i].value, h[i].value_len, m->buf, end));
        FZ_CHECK(h[i].value > h[i].name + h[i].name_len); /* after the colon */
        FZ_CHECK(memchr(h[i].name, ':', h[i].name_len) == NULL);
        check_folds(h[i].value, h[i].value_len);
        if (h[i].value_len) {  /* trimmed of blanks at both ends */
            FZ_CHECK(h[i].value[0] != ' ' && h[i].value[0] != '\t');
            FZ_CHECK(h[i].value[h[i].value_len - 1] != ' ' &&
                     h[i].value[h[i].value_len - 1] != '\t');
        }
    }
}

/* The header array, grown on -3 as the client grows its own: twice the
 * room each time, from FZ_MAX_HEADERS. */
typedef struct headers {
    http_header *h;
    size_t cap;
} headers;

static void grow(headers *hs)
{
    hs->cap *= 2;
    hs->h = realloc(hs->h, hs->cap * sizeof *hs->h);
    FZ_CHECK(hs->h != NULL);
}

/* read_head of exchange.c: a final head's length, or an HTTP_E* code. */
static long read_head(model *m, int *minor, int *status, headers *hs, size_t *nh)
{
    size_t last_len = 0;
    bool got_bytes = m->fed > 0;
    for (;;) {
        if (m->have > 0) {
            const char *reason;
            size_t reason_len;
            *nh = hs->cap;
            int n = http_parse_response(m->buf, m->have, last_len, minor, status,
                                        &reason, &reason_len, hs->h, nh);
            FZ_CHECK(n == -1 || n == -2 || n == -3 || n > 0);
            if (n == -3) {      /* the head is all here: only the array is short */
                grow(hs);
                continue;
            }
            if (n > 0)
                check_head(m, n, *minor, *status, reason, reason_len, hs->h, *nh, hs->cap);
            if (n > 0 && *status >= 200)
                return n;
            if (n > 0 && *status == 101)
                return HTTP_E_MALFORMED;
            if (n > 0) {        /* 1xx: skipped */
                consume(m, (size_t)n);
                last_len = 0;
                continue;
            }
            if (n == -1)
                return HTTP_E_MALFORMED;
            last_len = m->have;
        }
        if (fill(m) == 0)
            return got_bytes ? HTTP_E_MALFORMED : HTTP_E_EMPTY_REPLY;
        got_bytes = true;
    }
}

/* deliver of exchange.c: the limit, then the bytes. */
static int deliver(model *m, const char *data, size_t n)
{
    fz_outcome *o = m->out;
    if (m->max_body && o->body_len + n > m->max_body)
        return HTTP_E_BODY_TOO_LARGE;
    FZ_CHECK(o->body_len + n <= m->len); /* a body never outgrows its stream */
    memcpy(o->body + o->body_len, data, n);
    o->body_len += n;
    return 0;
}

static int body_by_length(model *m, uint64_t left)
{
    for (;;) {
        size_t n = m->have < left ? m->have : (size_t)left;
        int err = n ? deliver(m, m->buf, n) : 0;
        if (err)
            return err;
        consume(m, n);
        left -= n;
        if (left == 0)
            return 0;
        if (fill(m) == 0)
            return HTTP_E_TRUNCATED;
    }
}

/* One http_chunked_feed call, with its contract checked. */
static long feed(model *m, http_chunked *ch, size_t used, const char **data,
                 size_t *dlen)
{
    const char *p = m->buf + used;
    size_t len = m->have - used;
    bool was_done = http_chunked_done(ch);
    long n = http_chunked_feed(ch, p, len, data, dlen);
    FZ_CHECK(n >= -1 && n <= (long)len);
    if (n < 0)
        return n;
    FZ_CHECK(inside(*data, *dlen, p, p + n));
    if (len > 0 && !was_done)
        FZ_CHECK(n > 0);   /* progress, unless the body was over */
    if (was_done)
        FZ_EQ(n, 0);
    return n;
}

static int body_chunked(model *m)
{
    http_chunked ch = {0};
    for (;;) {
        size_t used = 0;
        while (used < m->have && !http_chunked_done(&ch)) {
            const char *data;
            size_t dlen;
            long n = feed(m, &ch, used, &data, &dlen);
            if (n < 0)
                return HTTP_E_MALFORMED;
            int err = dlen ? deliver(m, data, dlen) : 0;
            if (err)
                return err;
            used += (size_t)n;
        }
        consume(m, used);
        if (http_chunked_done(&ch)) {
            const char *data;
            size_t dlen;
            FZ_EQ(feed(m, &ch, 0, &data, &dlen), 0); /* done stays done */
            return 0;
        }
        if (fill(m) == 0)
            return HTTP_E_TRUNCATED;
    }
}

static int body_until_close(model *m)
{
    do {
        int err = m->have ? deliver(m, m->buf, m->have) : 0;
        if (err)
            return err;
        consume(m, m->have);
    } while (fill(m) > 0);
    return 0;
}

/* The framing's own contract (parse.h). */
static void check_framing(const model *m, int status, const http_framing *f)
{
    FZ_CHECK(f->kind >= HTTP_BODY_NONE && f->kind <= HTTP_BODY_CLOSE);
    if (m->head_only || status / 100 == 1 || status == 204 || status == 304)
        FZ_EQ(f->kind, HTTP_BODY_NONE);
    if (f->kind == HTTP_BODY_CLOSE)
        FZ_CHECK(!f->keep_alive);
    if (f->kind != HTTP_BODY_LENGTH)
        FZ_EQ(f->length, 0);
}

/* ba_exchange_run's steps after the request is sent. */
static int decode(model *m)
{
    fz_outcome *o = m->out;
    int minor, status;
    size_t nh;
    headers hs = {malloc(FZ_MAX_HEADERS * sizeof *hs.h), FZ_MAX_HEADERS};
    FZ_CHECK(hs.h != NULL);
    long head_len = read_head(m, &minor, &status, &hs, &nh);
    http_framing f;
    int framing = head_len < 0 ? 0 : http_framing_of(status, m->head_only, minor, hs.h, nh, &f);
    free(hs.h);
    if (head_len < 0)
        return (int)head_len;
    FZ_CHECK(framing == 0 || framing == -1 || framing == -2);
    if (framing == -2)      /* parse.h: still a CLOSE framing */
        FZ_CHECK(f.kind == HTTP_BODY_CLOSE && !f.keep_alive);
    if (framing == -1)      /* a bad length: no response handed back */
        return HTTP_E_MALFORMED;
    check_framing(m, status, &f);
    o->response = true;     /* for an unsupported coding too: its head came */
    o->head_end = m->fed - m->have + (size_t)head_len; /* the buffer starts at fed - have */
    o->status = status;
    o->minor_version = minor;
    o->n_headers = nh;
    if (f.kind == HTTP_BODY_LENGTH)
        o->content_length = (int64_t)f.length;
    if (framing == -2)
        return HTTP_E_UNSUPPORTED_CODING;
    consume(m, (size_t)head_len);
    if (f.kind == HTTP_BODY_LENGTH && m->max_body && f.length > m->max_body)
        return HTTP_E_BODY_TOO_LARGE;
    switch (f.kind) {
    case HTTP_BODY_NONE: return 0;
    case HTTP_BODY_LENGTH: return body_by_length(m, f.length);
    case HTTP_BODY_CHUNKED: return body_chunked(m);
    case HTTP_BODY_CLOSE: return body_until_close(m);
    }
    return HTTP_E_MALFORMED;
}

void fz_model_decode(const uint8_t *stream, size_t len, bool head_only,
                     size_t max_body, fz_split split, uint32_t seed,
                     fz_outcome *out)
{
    *out = (fz_outcome){.content_length = -1};
    model m = {.stream = stream, .len = len, .split = split, .seed = seed,
               .cap = len ? len : 1, .head_only = head_only,
               .max_body = max_body, .out = out};
    m.buf = malloc(m.cap);
    out->body = malloc(m.cap);
    FZ_CHECK(m.buf && out->body);
    fence_off(m.buf, m.cap);
    out->code = decode(&m);
    out->end = m.fed - m.have;
    fence_open(m.buf, m.cap);
    free(m.buf);
}

void fz_model_compare(const fz_outcome *a, const fz_outcome *b, const char *what)
{
    /* Over max_body, the run of bytes that crossed the limit is refused
     * whole, so how much came before depends on the split: the bodies
     * need only be prefixes of one another. */
    size_t shorter = a->body_len < b->body_len ? a->body_len : b->body_len;
    bool same_body = a->code == HTTP_E_BODY_TOO_LARGE || a->body_len == b->body_len;
    bool same = a->code == b->code && a->response == b->response &&
                a->status == b->status && a->minor_version == b->minor_version &&
                a->n_headers == b->n_headers &&
                a->content_length == b->content_length && same_body &&
                memcmp(a->body, b->body, shorter) == 0 &&
                (a->code != HTTP_OK || a->end == b->end);
    if (same)
        return;
    fprintf(stderr, "fuzz: %s disagree:\n", what);
    const fz_outcome *o[2] = {a, b};
    for (int i = 0; i < 2; i++)
        fprintf(stderr, "  code %d (%s) response %d status %d minor %d headers %zu "
                        "content-length %lld body %zu bytes end %zu\n",
                o[i]->code, http_strerror(o[i]->code), o[i]->response, o[i]->status,
                o[i]->minor_version, o[i]->n_headers, (long long)o[i]->content_length,
                o[i]->body_len, o[i]->end);
    abort();
}

size_t fz_max_body_of(uint8_t flags)
{
    static const size_t limits[8] = {0, 0, 0, 0, 1, 5, 16, 300};
    return limits[(flags >> 1) & 7];
}
