/* parse_chunked.c - the chunked transfer coding's decoder (contract in
 * parse.h): a byte-at-a-time state machine, so chunked input may be split
 * anywhere.  Simple on purpose: one switch per framing byte; payload runs
 * are handed out whole, never copied.
 */
#include <limits.h>

#include "parse.h"
#include "chars.h"
#include "parse_chars.h"

#define CHUNK_EXT_MAX 4096   /* bytes of chunk extension on one size line */
#define TRAILERS_MAX 65536   /* bytes of trailer lines after the last chunk */


/* ---- the chunked decoder (RFC 9112 section 7.1) ----
 *
 * The body is   1*( size [ext] CRLF  data CRLF )  "0" [ext] CRLF
 *               *( trailer-line CRLF )  CRLF
 * read one byte at a time through these states:
 *
 *   CK_SIZE           hex digits of a chunk size (zero-initialised start)
 *   CK_EXT            after the digits, up to the line end: an extension
 *                     (";name=value", quoted strings...) skipped unread
 *   CK_SIZE_LF        the size line's CR came; its LF must follow
 *   CK_DATA           `size` payload bytes still to come
 *   CK_DATA_CR        the chunk's data is over; CR (or bare LF) must follow
 *   CK_DATA_LF        that CR came; its LF must follow
 *   CK_TRAILER_START  start of a line after the last chunk: a trailer line,
 *                     or the blank line that ends the body
 *   CK_TRAILER        inside a trailer line, skipped unread but for its
 *                     control bytes: tab only, as in a head
 *   CK_TRAILER_LF     a trailer line's CR came; its LF must follow
 *   CK_FINAL_LF       the final blank line's CR came; its LF must follow
 *   CK_DONE           the body is over; no more bytes are consumed
 *
 * Lenient (the default, for responses, as curl reads them): a bare LF is
 * accepted wherever CR LF is expected, and blanks may follow the size.
 * Strict (c->strict, for requests, as llhttp reads them): neither -- a
 * front end and a back end that disagree on where a chunk ends are how a
 * request is smuggled past one of them.
 */
enum {
    CK_SIZE, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF,
    CK_TRAILER_START, CK_TRAILER, CK_TRAILER_LF, CK_FINAL_LF, CK_DONE
};

/* The transitions below return 0 so that a case can end in one of them
 * (end_size_line 1 at the last chunk: the feed stops there). */
static int enter(http_chunked *c, int state)
{
    c->state = state;
    return 0;
}

/* A line ended by LF alone: fine unless strict. */
static int bare_lf(http_chunked *c, int (*then)(http_chunked *))
{
    return c->strict ? -1 : then(c);
}

static int done(http_chunked *c)
{
    return enter(c, CK_DONE);
}

static int trailer_start(http_chunked *c)
{
    return enter(c, CK_TRAILER_START);
}

/* (c->size is already 0: the chunk's data counted it down.) */
static int begin_size_line(http_chunked *c)
{
    c->digits = 0;
    return enter(c, CK_SIZE);
}

/* The size line is over: a chunk's data follows, or the trailers.  At
 * the trailers the call stops (1), so that a caller that keeps the
 * trailer section's bytes gets them from calls of their own. */
static int end_size_line(http_chunked *c)
{
    if (c->size > 0)
        return enter(c, CK_DATA);
    enter(c, CK_TRAILER_START);
    return 1;
}

static int size_byte(http_chunked *c, unsigned char ch)
{
    int v = ba_hex_value(ch);
    if (v >= 0) {
        if (c->size > UINT64_MAX >> 4)
            return -1;                 /* a 17th significant digit */
        c->size = c->size << 4 | (uint64_t)v;
        c->digits++;
        return 0;
    }
    if (c->digits == 0)
        return -1;                     /* no size at all */
    if (ch == ';' || (is_ows(ch) && !c->strict)) {
        c->ext_len = 1;
        return enter(c, CK_EXT);
    }
    if (ch == '\r')
        return enter(c, CK_SIZE_LF);
    return ch == '\n' ? bare_lf(c, end_size_line) : -1;    /* else "1g", "0x10" */
}

/* A byte of a trailer line: counted against the limit and checked for
 * control bytes (a NUL or a bare CR in a trailer is as malformed as in a
 * head: two parsers must not disagree on where a line ends), otherwise
 * unread. */
static int trailer_byte(http_chunked *c, unsigned char ch)
{
    if (++c->trailer_len > TRAILERS_MAX)
        return -1;
    if (c->state == CK_TRAILER_LF)
        return ch == '\n' ? enter(c, CK_TRAILER_START) : -1;
    if (ch == '\r')
        return enter(c, CK_TRAILER_LF);
    if (ch == '\n')
        return bare_lf(c, trailer_start);
    return ba_is_bad_ctl(ch) ? -1 : 0;
}

/* One framing byte (any state but CK_DATA and CK_DONE).  0, 1 when the
 * trailers start after it, or -1. */
static int framing_byte(http_chunked *c, unsigned char ch)
{
    switch (c->state) {
    case CK_SIZE:
        return size_byte(c, ch);
    case CK_EXT:
        if (ch == '\r')
            return enter(c, CK_SIZE_LF);
        if (ch == '\n')
            return bare_lf(c, end_size_line);
        return ba_is_bad_ctl(ch) || ++c->ext_len > CHUNK_EXT_MAX ? -1 : 0;
    case CK_SIZE_LF:
        return ch == '\n' ? end_size_line(c) : -1;
    case CK_DATA_CR:                   /* anything else: the chunk was
                                          longer than its size */
        if (ch == '\r')
            return enter(c, CK_DATA_LF);
        return ch == '\n' ? bare_lf(c, begin_size_line) : -1;
    case CK_DATA_LF:
        return ch == '\n' ? begin_size_line(c) : -1;
    case CK_TRAILER_START:
        if (ch == '\r')
            return enter(c, CK_FINAL_LF);
        if (ch == '\n')
            return bare_lf(c, done);
        c->state = CK_TRAILER;
        return trailer_byte(c, ch);    /* the first byte of a trailer line */
    case CK_TRAILER:
    case CK_TRAILER_LF:
        return trailer_byte(c, ch);
    case CK_FINAL_LF:
        return ch == '\n' ? enter(c, CK_DONE) : -1;
    }
    return -1;                         /* CK_DATA, CK_DONE: not framing */
}

long http_chunked_feed(http_chunked *c, const char *buf, size_t len,
                       const char **data, size_t *data_len)
{
    size_t i = 0;
    if (len > LONG_MAX)
        len = LONG_MAX;                /* the rest is consumed by the next call */
    *data = buf;
    *data_len = 0;
    while (i < len && c->state != CK_DONE) {
        if (c->state == CK_DATA) {
            size_t run = len - i;
            if (run > c->size)
                run = (size_t)c->size;
            *data = buf + i;
            *data_len = run;
            c->size -= run;
            i += run;
            if (c->size == 0)
                c->state = CK_DATA_CR;
            break;                     /* one run of payload per call */
        }
        int step = framing_byte(c, (unsigned char)buf[i]);
        if (step < 0)
            return -1;
        i++;
        if (step > 0)
            break;                     /* the trailer section starts */
    }
    return (long)i;
}

bool http_chunked_in_trailers(const http_chunked *c)
{
    return c->state >= CK_TRAILER_START && c->state != CK_DONE;
}

bool http_chunked_done(const http_chunked *c)
{
    return c->state == CK_DONE;
}
