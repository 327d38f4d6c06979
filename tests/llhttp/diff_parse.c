/* diff_parse.c - bareawait's side of the differential test against llhttp
 * (the project README's "Parsers against llhttp").
 *
 * Reads records from a file (argv[1]) or stdin: one byte 'R' (a stream
 * of responses) or 'Q' (a stream of requests), one flags byte (bit 0: the
 * responses answer HEAD requests), a 4-byte big-endian length, the bytes.
 * Decodes each stream with http/parse.h the way a connection would --
 * heads, framing, bodies, one message after another while the connection
 * may be kept alive -- and prints one line per record:
 *
 *   CANONICAL <tab> NOTE
 *
 * CANONICAL lists every message that completed ("S200 V1.1 K1 H2 name=value
 * ... B5:fnv" for a response, "Qmethod target V1.1 ..." for a request;
 * names, values, method and target hex-encoded, values unfolded; K- for
 * the keep-alive of a HEAD response, which llhttp_parse.js cannot get)
 * then how the stream ended: E:ok (at a message boundary), E:eof (inside
 * a message), E:reject, E:closed (bytes after a message that closes the
 * connection), E:upgrade (a 101).  tests/llhttp/llhttp_parse.js prints
 * the same for llhttp.  NOTE says where a reject came from, or notes
 * leniencies (te-unsupported); it is for the runner's allowlist and is
 * not compared.
 *
 * Every stream is decoded several times -- whole, in two pieces at every
 * split point (at 64 random ones for streams over 256 bytes), one byte
 * at a time -- and all decodes must print the same, or the line is
 * "SPLIT-MISMATCH", which no allowlist entry excuses.
 * libc and http/parse.h only.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define SPLIT_ALL_MAX 256   /* streams up to this size: every split point */
#define RANDOM_SPLITS 64    /* longer ones: this many random split points */

/* ---- output: a growing string ---- */

typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void reserve(text *t, size_t more)
{
    if (t->n + more + 1 <= t->cap)
        return;
    t->cap = (t->n + more + 1) * 2;
    t->p = realloc(t->p, t->cap);
    if (!t->p) {
        perror("diff_parse");
        exit(2);
    }
}

static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    reserve(t, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(t->p + t->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->n += (size_t)n;
}

static void put_hex(text *t, const char *s, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    reserve(t, 2 * n);
    for (size_t i = 0; i < n; i++) {   /* by hand: this is the hot loop */
        t->p[t->n++] = digits[(unsigned char)s[i] >> 4];
        t->p[t->n++] = digits[(unsigned char)s[i] & 15];
    }
    t->p[t->n] = '\0';
}

/* ---- input: the stream, handed over in pieces ---- */

typedef struct reader {
    const char *s;      /* the whole stream... */
    size_t len;         /* ...and its size */
    size_t pos;         /* bytes consumed by the decoder */
    size_t fed;         /* bytes "arrived" so far */
    const size_t *cuts; /* where pieces end, increasing (or NULL) */
    size_t ncuts, next;
    size_t step;        /* nonzero: pieces of this many bytes */
} reader;

/* The next piece arrives.  false at the end of the stream. */
static bool fill(reader *r)
{
    if (r->fed == r->len)
        return false;
    size_t to = r->len;
    if (r->step)
        to = r->len - r->fed < r->step ? r->len : r->fed + r->step;
    while (!r->step && r->next < r->ncuts && r->cuts[r->next] <= r->fed)
        r->next++;
    if (!r->step && r->next < r->ncuts)
        to = r->cuts[r->next];
    r->fed = to;
    return true;
}

/* ---- one decode ---- */

typedef struct headers {
    http_header *h;
    size_t cap;
    size_t n;
} headers;

static void grow(headers *hs)
{
    hs->cap = hs->cap ? hs->cap * 2 : 8;
    hs->h = realloc(hs->h, hs->cap * sizeof *hs->h);
    if (!hs->h) {
        perror("diff_parse");
        exit(2);
    }
}

/* How a stream ends (E:...), or 0: go on. */
enum { GO_ON, END_OK, END_EOF, END_REJECT, END_CLOSED, END_UPGRADE };
static const char *const end_names[] = {"", "ok", "eof", "reject", "closed", "upgrade"};

typedef struct body {
    uint64_t len;
    uint32_t fnv;       /* FNV-1a over the body bytes */
} body;

static void body_add(body *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b->fnv = (b->fnv ^ (unsigned char)p[i]) * 16777619u;
    b->len += n;
}

static void put_headers(text *t, const headers *hs)
{
    put(t, " H%zu", hs->n);
    for (size_t i = 0; i < hs->n; i++) {
        const http_header *h = &hs->h[i];
        char *v = malloc(h->value_len + 1);
        size_t vn = http_header_unfold(v, h->value, h->value_len);
        put(t, " ");
        put_hex(t, h->name, h->name_len);
        put(t, "=");
        put_hex(t, v, vn);
        free(v);
    }
}

/* Reads a body framed by f (a request's chunked framing strictly, as the
 * server reads it).  GO_ON, END_EOF or END_REJECT. */
static int read_body(reader *r, const http_framing *f, bool request, body *b, text *note)
{
    *b = (body){0, 2166136261u};
    if (f->kind == HTTP_BODY_LENGTH) {
        while (r->fed - r->pos < f->length)
            if (!fill(r))
                return END_EOF;
        body_add(b, r->s + r->pos, (size_t)f->length);
        r->pos += (size_t)f->length;
    } else if (f->kind == HTTP_BODY_CLOSE) {
        while (fill(r)) {
        }
        body_add(b, r->s + r->pos, r->len - r->pos);
        r->pos = r->len;
    } else if (f->kind == HTTP_BODY_CHUNKED) {
        http_chunked c = {.strict = request};
        while (!http_chunked_done(&c)) {
            if (r->pos == r->fed && !fill(r))
                return END_EOF;
            const char *data;
            size_t dlen;
            long n = http_chunked_feed(&c, r->s + r->pos, r->fed - r->pos, &data, &dlen);
            if (n < 0) {
                put(note, "reject@chunk");
                return END_REJECT;
            }
            body_add(b, data, dlen);
            r->pos += (size_t)n;
        }
    }
    return GO_ON;
}

/* After a message: another may follow if the connection stays open. */
static int after_message(const reader *r, bool keep_alive)
{
    if (keep_alive)
        return GO_ON;
    return r->pos < r->len ? END_CLOSED : END_OK;
}

/* Waits for a head: calls parse(buf, len, last_len) until it is not -2
 * (or -3: then grows the array and calls again).  The parser's result, or
 * -END_OK / -END_EOF when the stream ends first. */
#define STREAM_END (-100)
typedef int parse_fn(reader *r, size_t last_len, headers *hs, void *out);

static int wait_head(reader *r, headers *hs, parse_fn *parse, void *out)
{
    size_t last = 0;
    for (;;) {
        size_t avail = r->fed - r->pos;
        if (avail > 0) {
            int n = parse(r, last, hs, out);
            if (n == -3) {
                grow(hs);
                continue;
            }
            if (n != -2)
                return n;
            last = avail;
        }
        if (!fill(r))
            return STREAM_END - (avail ? END_EOF : END_OK);
    }
}

typedef struct response {
    int minor, status;
} response;

static int parse_response(reader *r, size_t last, headers *hs, void *out)
{
    response *m = out;
    const char *reason;
    size_t reason_len;
    hs->n = hs->cap;
    return http_parse_response(r->s + r->pos, r->fed - r->pos, last, &m->minor,
                               &m->status, &reason, &reason_len, hs->h, &hs->n);
}

/* One response: GO_ON when another may follow, else how the stream ends. */
static int one_response(reader *r, bool head, headers *hs, text *t, text *note)
{
    response m;
    int n = wait_head(r, hs, parse_response, &m);
    if (n == STREAM_END - END_EOF)
        put(note, "eof@head");
    if (n <= STREAM_END)
        return STREAM_END - n;
    if (n < 0) {
        put(note, "reject@head");
        return END_REJECT;
    }
    r->pos += (size_t)n;
    http_framing f;
    int fr = http_framing_of(m.status, head, m.minor, hs->h, hs->n, &f);
    if (fr == -1) {
        put(note, "reject@framing");
        return END_REJECT;
    }
    if (fr == -2)
        put(note, "te-unsupported ");
    if (f.kind == HTTP_BODY_NONE && http_header_find(hs->h, hs->n, "Content-Length", 0) >= 0)
        put(note, "cl-ignored ");      /* no body by status or HEAD */
    if (f.kind == HTTP_BODY_NONE && http_header_find(hs->h, hs->n, "Transfer-Encoding", 0) >= 0)
        put(note, "te-ignored ");
    body b;
    int end = read_body(r, &f, false, &b, note);
    if (end != GO_ON)
        return end;
    /* K- for HEAD: llhttp_parse.js cannot get llhttp's real answer */
    put(t, head ? "S%d V1.%d K-" : "S%d V1.%d K%d", m.status, m.minor, f.keep_alive);
    put_headers(t, hs);
    put(t, " B%llu:%08x ; ", (unsigned long long)b.len, b.fnv);
    if (m.status == 101)
        return END_UPGRADE;
    if (m.status / 100 == 1)
        return GO_ON;
    return after_message(r, f.keep_alive);
}

static int parse_request(reader *r, size_t last, headers *hs, void *out)
{
    http_request_head *q = out;
    q->headers = hs->h;
    q->num_headers = hs->cap;
    int n = http_parse_request(r->s + r->pos, r->fed - r->pos, last, q);
    hs->n = q->num_headers;
    return n;
}

static int one_request(reader *r, headers *hs, text *t, text *note)
{
    http_request_head q;
    int n = wait_head(r, hs, parse_request, &q);
    if (n == STREAM_END - END_EOF)
        put(note, "eof@head");
    if (n <= STREAM_END)
        return STREAM_END - n;
    if (n < 0) {
        put(note, "reject@head%d", n);
        return END_REJECT;
    }
    r->pos += (size_t)n;
    http_framing f;
    int fr = http_request_framing(&q, &f);
    if (fr < 0) {
        put(note, "reject@framing%d", fr);
        return END_REJECT;
    }
    body b;
    int end = read_body(r, &f, true, &b, note);
    if (end != GO_ON)
        return end;
    put(t, "Q");
    put_hex(t, q.method, q.method_len);
    put(t, " ");
    put_hex(t, q.target, q.target_len);
    put(t, " V1.%d K%d", q.minor_version, f.keep_alive);
    put_headers(t, hs);
    put(t, " B%llu:%08x ; ", (unsigned long long)b.len, b.fnv);
    return after_message(r, f.keep_alive);
}

/* Decodes one stream with reader r into t (canonical) and note. */
static void decode(reader *r, char kind, bool head, text *t, text *note)
{
    headers hs = {0};
    grow(&hs);
    t->n = note->n = 0;
    put(t, "%s", "");
    put(note, "%s", "");
    int end;
    do
        end = kind == 'Q' ? one_request(r, &hs, t, note) : one_response(r, head, &hs, t, note);
    while (end == GO_ON);
    put(t, "E:%s", end_names[end]);
    free(hs.h);
}

/* ---- the splits ---- */

static uint32_t rng = 2463534242u;

static uint32_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Decodes s whole, then split, and prints the line. */
static void check_stream(const char *s, size_t len, char kind, bool head)
{
    text want = {0}, note = {0}, got = {0}, scratch = {0};
    reader r = {.s = s, .len = len};
    decode(&r, kind, head, &want, &note);
    size_t points = len <= SPLIT_ALL_MAX ? len : RANDOM_SPLITS;
    const char *bad = NULL;
    for (size_t i = 0; i <= points && !bad; i++) {
        size_t cut = len <= SPLIT_ALL_MAX ? i : 1 + next_random() % (len - 1);
        reader split = {.s = s, .len = len, .cuts = &cut, .ncuts = 1};
        if (i == points)
            split = (reader){.s = s, .len = len, .step = 1};
        decode(&split, kind, head, &got, &scratch);
        if (strcmp(got.p, want.p) != 0)
            bad = i == points ? "byte-at-a-time" : "two-pieces";
    }
    if (bad)
        printf("SPLIT-MISMATCH %s whole=%s split=%s\t%s\n", bad, want.p, got.p, note.p);
    else
        printf("%s\t%s\n", want.p, note.p);
    free(want.p);
    free(note.p);
    free(got.p);
    free(scratch.p);
}

int main(int argc, char **argv)
{
    FILE *in = argc > 1 ? fopen(argv[1], "rb") : stdin;
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    unsigned char hdr[6];
    while (fread(hdr, 1, 6, in) == 6) {
        size_t len = (size_t)hdr[2] << 24 | (size_t)hdr[3] << 16 | (size_t)hdr[4] << 8 | hdr[5];
        char *s = malloc(len ? len : 1);
        if (!s || fread(s, 1, len, in) != len) {
            fprintf(stderr, "diff_parse: truncated record\n");
            return 2;
        }
        check_stream(s, len, (char)hdr[0], hdr[1] & 1);
        free(s);
    }
    return 0;
}
