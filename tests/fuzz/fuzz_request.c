/* fuzz_request.c - the request parser (http_parse_request), its framing
 * (http_request_framing) and the chunked decoder, fed as a server's
 * connection would feed them: heads, bodies and pipelined requests one
 * after another on one stream.
 *
 * Input: bytes 0-3 seed the split points; the rest is what a client sent.
 * The stream is read three times -- whole, in random pieces, one byte at a
 * time -- each time in a heap block of exactly the bytes arrived so far
 * (so a read past them is caught), the header array grown on -3 as a
 * server would, up to MAX_FIELDS.  Every call is checked against the
 * contract (return values, pointers inside the head, the grammar of what
 * came back: token method and names, no space or control byte in the
 * target, no CR or LF in a value, no blank at a value's ends), and
 * everything the three readings saw is written to a transcript: they must
 * be the same, byte for byte.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "chars.h"
#include "fuzz.h"
#include "parse.h"

#define MAX_FIELDS 256   /* a server's max_headers: -3 beyond it is final */

/* What one reading saw, as text. */
typedef struct transcript {
    char *text;
    size_t len, cap;
} transcript;

static void say(transcript *t, const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t add = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (t->len + add > t->cap) {
        t->cap = (t->len + add) * 2;
        t->text = realloc(t->text, t->cap);
        FZ_CHECK(t->text != NULL);
    }
    memcpy(t->text + t->len, line, add);
    t->len += add;
}

#define HASH_START 2166136261u   /* FNV-1a */

static uint32_t hash_more(uint32_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* Adds bytes p[0..n) to the transcript as a hash, not as text: values
 * can be long, and only equality matters. */
static void say_bytes(transcript *t, const char *what, const char *p, size_t n)
{
    say(t, "%s %zu %08x\n", what, n, hash_more(HASH_START, p, n));
}

enum { HEAD, BODY_LENGTH, BODY_CHUNKED, OVER };

/* One reading of the stream. */
typedef struct reader {
    const uint8_t *src;      /* the whole input... */
    size_t src_len;
    char *buf;               /* ...and the part that has arrived, exactly */
    size_t have;
    size_t pos;              /* where the current head or body goes on */
    size_t last_len;         /* for the current head */
    int phase;
    uint64_t body_left;      /* BODY_LENGTH */
    http_chunked ch;         /* BODY_CHUNKED */
    uint32_t body_hash;      /* of the current body's payload so far... */
    size_t body_len;         /* ...and its length: pieces split it anywhere */
    http_header *fields;
    size_t capacity;
    transcript t;
} reader;

static void check_head(reader *r, const http_request_head *q, int ret)
{
    const char *lo = r->buf + r->pos, *hi = lo + ret;
    FZ_CHECK(ret >= 4 && memcmp(hi - 4, "\r\n\r\n", 4) == 0);
    FZ_CHECK(q->method >= lo && q->method + q->method_len <= hi && q->method_len > 0);
    FZ_CHECK(q->target >= lo && q->target + q->target_len <= hi && q->target_len > 0);
    for (size_t i = 0; i < q->method_len; i++)
        FZ_CHECK(ba_is_tchar((unsigned char)q->method[i]));
    for (size_t i = 0; i < q->target_len; i++)
        FZ_CHECK((unsigned char)q->target[i] > 0x20 && q->target[i] != 0x7f);
    FZ_CHECK(q->minor_version == 0 || q->minor_version == 1);
    for (size_t k = 0; k < q->num_headers; k++) {
        const http_header *h = &q->headers[k];
        FZ_CHECK(h->name >= lo && h->name + h->name_len <= hi && h->name_len > 0);
        FZ_CHECK(h->value >= lo && h->value + h->value_len <= hi);
        for (size_t i = 0; i < h->name_len; i++)
            FZ_CHECK(ba_is_tchar((unsigned char)h->name[i]));
        for (size_t i = 0; i < h->value_len; i++)
            FZ_CHECK(!ba_is_bad_ctl((unsigned char)h->value[i]));
        if (h->value_len > 0)
            FZ_CHECK(h->value[0] != ' ' && h->value[0] != '\t' &&
                     h->value[h->value_len - 1] != ' ' && h->value[h->value_len - 1] != '\t');
    }
}

/* Writes a parsed head and its framing down; sets the next phase. */
static void took_head(reader *r, const http_request_head *q, int ret)
{
    check_head(r, q, ret);
    say(&r->t, "head %d form %d minor %d fields %zu\n", ret, q->form,
        q->minor_version, q->num_headers);
    say_bytes(&r->t, "method", q->method, q->method_len);
    say_bytes(&r->t, "target", q->target, q->target_len);
    for (size_t k = 0; k < q->num_headers; k++) {
        say_bytes(&r->t, "name", q->headers[k].name, q->headers[k].name_len);
        say_bytes(&r->t, "value", q->headers[k].value, q->headers[k].value_len);
    }
    http_framing f;
    int fr = http_request_framing(q, &f);
    FZ_CHECK(fr == 0 || fr == -1 || fr == -2);
    FZ_CHECK(fr == 0 || (!f.keep_alive && f.kind == HTTP_BODY_NONE));
    say(&r->t, "framing %d kind %d length %llu keep %d\n", fr, f.kind,
        (unsigned long long)f.length, f.keep_alive);
    r->pos += (size_t)ret;
    r->last_len = 0;
    r->phase = fr < 0 ? OVER : f.kind == HTTP_BODY_LENGTH ? BODY_LENGTH
             : f.kind == HTTP_BODY_CHUNKED ? BODY_CHUNKED : HEAD;
    r->body_left = f.length;
    r->ch = (http_chunked){0};
    r->body_hash = HASH_START;
    r->body_len = 0;
}

/* One step on the bytes arrived; false when it needs more (or is over). */
static bool step_head(reader *r)
{
    size_t len = r->have - r->pos;
    if (len == 0)
        return false;
    http_request_head q = {.headers = r->fields, .num_headers = r->capacity};
    int ret = http_parse_request(r->buf + r->pos, len, r->last_len, &q);
    FZ_CHECK(ret >= -4 && ret != 0 && ret <= (long long)len);
    if (ret == -3 && r->capacity < MAX_FIELDS) {
        r->capacity *= 2;              /* the same call again, with room */
        r->fields = realloc(r->fields, r->capacity * sizeof *r->fields);
        FZ_CHECK(r->fields != NULL);
        return true;
    }
    if (ret == -2) {
        r->last_len = len;
        return false;
    }
    if (ret < 0) {
        say(&r->t, "refused %d\n", ret);
        r->phase = OVER;
        return false;
    }
    took_head(r, &q, ret);
    return true;
}

static bool step_body(reader *r)
{
    size_t len = r->have - r->pos;
    if (len == 0)
        return false;
    if (r->phase == BODY_LENGTH) {
        size_t n = r->body_left < len ? (size_t)r->body_left : len;
        r->body_hash = hash_more(r->body_hash, r->buf + r->pos, n);
        r->body_len += n;
        r->pos += n;
        r->body_left -= n;
    } else {
        const char *data;
        size_t n;
        long used = http_chunked_feed(&r->ch, r->buf + r->pos, len, &data, &n);
        FZ_CHECK(used >= -1 && used <= (long)len);
        if (used < 0) {
            say(&r->t, "bad chunk\n");
            r->phase = OVER;
            r->pos = 0;                /* where in the call it failed is not said */
            return false;
        }
        FZ_CHECK(used > 0 && data >= r->buf + r->pos && data + n <= r->buf + r->pos + used);
        r->body_hash = hash_more(r->body_hash, data, n);
        r->body_len += n;
        r->pos += (size_t)used;
        if (!http_chunked_done(&r->ch))
            return true;
    }
    if (r->phase == BODY_LENGTH && r->body_left > 0)
        return true;
    say(&r->t, "body %zu %08x over at %zu\n", r->body_len, r->body_hash, r->pos);
    r->phase = HEAD;
    return true;
}

/* Takes n more bytes of the input: a fresh block of exactly have + n. */
static void arrive(reader *r, size_t n)
{
    char *grown = malloc(r->have + n);
    FZ_CHECK(grown != NULL);
    if (r->have)
        memcpy(grown, r->buf, r->have);
    memcpy(grown + r->have, r->src + r->have, n);
    free(r->buf);
    r->buf = grown;
    r->have += n;
}

enum { WHOLE, PIECES, BYTES };

static transcript read_stream(const uint8_t *src, size_t len, int how, uint32_t seed)
{
    reader r = {.src = src, .src_len = len, .phase = HEAD, .capacity = 4};
    r.fields = malloc(r.capacity * sizeof *r.fields);
    FZ_CHECK(r.fields != NULL);
    while (r.phase != OVER) {
        bool progress = r.phase == HEAD ? step_head(&r) : step_body(&r);
        if (progress || r.phase == OVER)
            continue;
        if (r.have == len)
            break;
        size_t left = len - r.have;
        arrive(&r, how == WHOLE ? left : how == BYTES ? 1 : fz_piece(&seed, left));
    }
    say(&r.t, "end phase %d at %zu, body so far %zu %08x\n", r.phase, r.pos, r.body_len,
        r.body_hash);
    free(r.buf);
    free(r.fields);
    return r.t;
}

static void compare(const transcript *a, const transcript *b, const char *how)
{
    size_t i = 0;
    while (i < a->len && i < b->len && a->text[i] == b->text[i])
        i++;
    if (i == a->len && i == b->len)
        return;
    size_t from = i > 80 ? i - 80 : 0;
    fprintf(stderr, "fuzz_request: whole and %s disagree at byte %zu:\n--- whole:\n%.*s\n"
            "--- %s:\n%.*s\n", how, i, (int)(a->len - from > 200 ? 200 : a->len - from),
            a->text + from, how, (int)(b->len - from > 200 ? 200 : b->len - from),
            b->text + from);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed = 0;
    size_t at = 0;
    for (; at < size && at < 4; at++)
        seed = seed << 8 | data[at];
    transcript whole = read_stream(data + at, size - at, WHOLE, 0);
    transcript pieces = read_stream(data + at, size - at, PIECES, seed);
    transcript bytes = read_stream(data + at, size - at, BYTES, 0);
    compare(&whole, &pieces, "random pieces");
    compare(&whole, &bytes, "byte by byte");
    free(whole.text);
    free(pieces.text);
    free(bytes.text);
    return 0;
}
