/* parse_check.h - what the two http/parse test programs share.
 *
 * test_parse.c (response heads and body framing) and test_parse_chunked.c
 * (chunked bodies) both compare byte strings with CHECK_BYTES, say which
 * case a failure was in with where(), and decode chunked bodies with
 * check_decoding(): test_parse.c for the bodies of its good responses,
 * test_parse_chunked.c for the ones that must be refused.  Every chunked
 * body is decoded whole, split in two at every point, and one byte at a
 * time, and must give the same bytes.  Header-only, like check.h: the
 * checks count failures in the including program's check_failures.
 */
#ifndef BAREAWAIT_PARSE_CHECK_H
#define BAREAWAIT_PARSE_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "parse.h"

/* Set by a test to decode as a server does (http_chunked.strict). */
static bool decode_strict;

/* An escaped excerpt of p[from..n), at most 40 bytes, into out. */
static inline void excerpt(const char *p, size_t n, size_t from, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = from; i < n && i < from + 40 && o + 5 < size; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r' || c == '\n')
            o += (size_t)snprintf(out + o, size - o, c == '\r' ? "\\r" : "\\n");
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Compares byte strings; on a mismatch prints where they differ and an
 * escaped excerpt of both from just before that point. */
static inline int check_bytes_(const char *file, int line, const char *expr,
                               const char *got, size_t got_len,
                               const char *want, size_t want_len)
{
    size_t i = 0;
    while (i < got_len && i < want_len && got[i] == want[i])
        i++;
    if (i == got_len && i == want_len)
        return 1;
    char a[200], b[200], detail[512];
    size_t from = i > 10 ? i - 10 : 0;
    excerpt(got, got_len, from, a, sizeof a);
    excerpt(want, want_len, from, b, sizeof b);
    snprintf(detail, sizeof detail,
             "%zu vs %zu bytes, first difference at %zu: got \"%s\", want \"%s\"",
             got_len, want_len, i, a, b);
    check_fail_(file, line, expr, detail);
    return 0;
}
#define CHECK_BYTES(got, got_len, want, want_len) \
    check_bytes_(__FILE__, __LINE__, #got " == " #want, (got), (got_len), (want), (want_len))

/* Says which case (and which prefix or split) a failed check was in. */
static inline void where(const char *name, const char *what, size_t at)
{
    fprintf(stderr, "    in case \"%s\", %s %zu\n", name, what, at);
}

static inline char *copy(const char *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (!c)
        abort();
    memcpy(c, p, n);
    return c;
}

/* The result of decoding a whole chunked body. */
struct decoded {
    long consumed;      /* bytes consumed in total; -1 if the decoder
                           refused them, -2 if it broke its contract */
    bool done;
    char body[256];     /* the payload, reassembled */
    size_t body_len;
};

/* Feeds enc[0..len) to a fresh decoder as a socket reader would: first
 * enc[0..split), then the rest in pieces of `step` bytes (0: one piece).
 * Each piece is an exact-size heap copy, dropped once fed. */
static inline struct decoded decode(const char *enc, size_t len, size_t split, size_t step)
{
    struct decoded d = { 0 };
    http_chunked c = {.strict = decode_strict};
    size_t pos = 0;
    while (pos < len && !http_chunked_done(&c)) {
        size_t end = len;
        if (pos < split)
            end = split;
        else if (step > 0 && pos + step < len)
            end = pos + step;
        char *piece = copy(enc + pos, end - pos);
        size_t fed = 0;
        while (fed < end - pos && !http_chunked_done(&c)) {
            const char *data;
            size_t n;
            long r = http_chunked_feed(&c, piece + fed, end - pos - fed, &data, &n);
            if (r < 0) {
                d.consumed = -1;
            } else if (!CHECK(r > 0) ||       /* progress while not done */
                       !CHECK(n == 0 || (data >= piece + fed && data + n <= piece + fed + r)) ||
                       !CHECK(d.body_len + n <= sizeof d.body)) {
                d.consumed = -2;
            } else {
                memcpy(d.body + d.body_len, data, n);
                d.body_len += n;
                fed += (size_t)r;
                continue;
            }
            free(piece);
            return d;
        }
        free(piece);
        pos += fed;
    }
    d.consumed = (long)pos;
    d.done = http_chunked_done(&c);
    return d;
}

static inline bool decoded_as(const char *name, const char *how, size_t at,
                              struct decoded d, long want_consumed, const char *want_body)
{
    bool ok = CHECK_INT(d.consumed, want_consumed);
    if (ok && want_consumed >= 0)
        ok = CHECK(d.done) && CHECK_BYTES(d.body, d.body_len, want_body, strlen(want_body));
    if (!ok)
        where(name, how, at);
    return ok;
}

/* Decodes enc one byte at a time and split in two at every point (every
 * 509th for long inputs; split 0 is "all at once").  Each way must consume
 * want_consumed bytes (-1: must be refused) and yield want_body. */
static inline void check_decoding(const char *name, const char *enc, size_t len,
                                  long want_consumed, const char *want_body)
{
    size_t stride = len > 4096 ? 509 : 1;
    if (!decoded_as(name, "one byte at a time, length", len, decode(enc, len, 0, 1),
                    want_consumed, want_body))
        return;
    for (size_t split = 0; split <= len; split += stride)
        if (!decoded_as(name, "split at", split, decode(enc, len, split, 0),
                        want_consumed, want_body))
            return;
}

#endif
