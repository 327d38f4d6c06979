/* parse.h - the HTTP/1.1 response parser: head, body framing, chunks.
 *
 * Pure functions over the caller's bytes.  Nothing here knows about
 * sockets or coroutines, nothing allocates, and every pointer handed back
 * points into the buffer the caller passed in.  No call suspends.
 *
 * The return convention is picohttpparser's: >= 0 bytes consumed,
 * -2 "incomplete, call again with more bytes", -1 malformed; and -3
 * "the caller's header array is full" from http_parse_response.
 */
#ifndef BAREAWAIT_HTTP_PARSE_H
#define BAREAWAIT_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One header field.  Both strings point into the parsed buffer and are
 * not NUL-terminated.  The value has its leading and trailing spaces and
 * tabs removed and may be empty.  A value continued on further lines by
 * obsolete line folding (RFC 9112 section 5.2: "X: a\r\n  b") is one
 * value whose bytes include the folds as sent ("a\r\n  b"): CR and LF
 * appear in a value only there, each LF followed by a space or tab.
 * Copy it out with http_header_unfold to get "a b". */
typedef struct http_header {
    const char *name;   /* field name, as sent (case preserved) */
    size_t name_len;
    const char *value;  /* field value, trimmed, folds included */
    size_t value_len;
} http_header;

/* Parses a response head (status line, header lines, blank line) at
 * buf[0..len).  last_len is the len passed on the previous call for the
 * same buffer (0 the first time): the end of the head is looked for only
 * in the new bytes, so feeding a head one byte at a time stays O(n).
 *
 * Returns > 0, the size of the head: the head is complete and the body
 * starts at buf + ret.  Fills *minor_version (0 or 1), *status (any
 * three digits, 100..999, as curl takes them), *reason, *reason_len (may
 * be empty), headers[0..*num_headers).  *num_headers is the capacity on
 * entry and the count on return.
 *
 * Returns -2 if the head is incomplete: call again with more bytes.  There
 * is no size limit here; the caller decides when -2 has lasted too long.
 *
 * Returns -3 if the head is complete but has more header fields than
 * *num_headers: call again with the same buf, len and last_len and a
 * bigger array (there is no count limit here either: the caller's limit
 * on the head's bytes bounds it).
 *
 * Returns -1 if the bytes are not an HTTP/1.x response head: bad status
 * line (a status of 2 or 4 digits included), bad header line, a fold
 * before the first header field, control characters (a bare CR
 * included), or a head over INT_MAX bytes.  A reply that does not start
 * like "HTTP/1.x NNN" fails at its first wrong byte, before a full line
 * has arrived.  The output arguments are unspecified after -1, -2 and
 * -3. */
int http_parse_response(const char *buf, size_t len, size_t last_len,
                        int *minor_version, int *status,
                        const char **reason, size_t *reason_len,
                        http_header *headers, size_t *num_headers);

/* Copies a header value src[0..len) into dst (room for len bytes; dst may
 * be src), each obs-fold -- a line break with the spaces and tabs around
 * it, "\r\n  " or " \n\t" -- replaced by one space, as RFC 9112 section
 * 5.2 allows a recipient to.  Other bytes are copied as they are.
 * Returns the length written (<= len); dst is not NUL-terminated. */
size_t http_header_unfold(char *dst, const char *src, size_t len);

/* Index of the first of h[start..n) whose name is `name`, compared
 * ASCII-case-insensitively; -1 if there is none. */
int http_header_find(const http_header *h, size_t n, const char *name,
                     size_t start);

/* How the end of a response body is found. */
typedef enum http_body_kind {
    HTTP_BODY_NONE,     /* no body at all (HEAD, 1xx, 204, 304) */
    HTTP_BODY_LENGTH,   /* exactly `length` bytes follow */
    HTTP_BODY_CHUNKED,  /* chunked transfer coding: use http_chunked_feed */
    HTTP_BODY_CLOSE     /* everything until the server closes */
} http_body_kind;

typedef struct http_framing {
    http_body_kind kind;  /* how the body is delimited */
    uint64_t length;      /* HTTP_BODY_LENGTH: the Content-Length; else 0 */
    bool keep_alive;      /* may the connection carry another request after
                             this response */
} http_framing;

/* Decides how the body of a response is delimited (RFC 9112 section 6.3),
 * from the status, whether the request was HEAD, and the headers.
 *   - HEAD request, 1xx, 204, 304: NONE (Content-Length and
 *     Transfer-Encoding are not looked at).
 *   - Transfer-Encoding (over all its headers, "identity" and empty list
 *     elements ignored): exactly "chunked": CHUNKED; nothing left: CLOSE.
 *     Content-Length is then ignored, but its presence forbids keep-alive
 *     (a message with both is a smuggling attempt or a broken proxy).
 *   - Content-Length: LENGTH.  Identical repeats ("5, 5", or two headers
 *     saying 5) are accepted, as RFC 9110 allows.
 *   - Otherwise: CLOSE.
 * keep_alive: HTTP/1.1 unless Connection lists "close"; HTTP/1.0 only if
 * Connection lists "keep-alive" (and not "close"); never with CLOSE.
 * Returns 0 and fills *out;
 * -2 if Transfer-Encoding names a coding we cannot decode (gzip, deflate,
 * br, "chunked, gzip": anything but chunked, last): *out is then CLOSE
 * without keep-alive, so a caller may still pass the raw body on;
 * -1 if a Content-Length is malformed (empty, not all digits, over
 * INT64_MAX), Content-Lengths disagree, or "chunked" comes twice. */
int http_framing_of(int status, bool head_request, int minor_version,
                    const http_header *h, size_t n, http_framing *out);

/* The chunked-body decoder's state.  Zero-initialise it to start
 * ({0} or memset); the fields are private to parse.c. */
typedef struct http_chunked {
    int state;            /* where in the chunk grammar we are (parse.c
                             lists the states) */
    unsigned digits;      /* hex digits read on the current size line */
    uint64_t size;        /* while reading a size line: its value so far;
                             inside a chunk: payload bytes still to come */
    size_t ext_len;       /* bytes after the size on the current size line
                             (the chunk extension), at most 4096 */
    size_t trailer_len;   /* bytes of trailer lines so far, at most 65536 */
} http_chunked;

/* Feeds chunked-encoded bytes buf[0..len).  Every byte given is consumed
 * unless the body ends first, so data may be split anywhere (inside a hex
 * size, a CRLF, an extension, a trailer) and the caller never keeps
 * partial bytes.  One call consumes framing bytes and at most one run of
 * payload: *data, *data_len are set to that payload, pointing into buf
 * (*data_len may be 0).  When the last chunk, the trailers and the final
 * CRLF are consumed, http_chunked_done() turns true and the call stops
 * there: what follows belongs to the next response and is not consumed.
 * Call in a loop while consumed < len and not done.
 * Returns the bytes consumed (>= 0; > 0 whenever len > 0 and not done), or
 * -1 if the encoding is malformed: no or non-hex size digits, a size over
 * 64 bits, no CRLF after chunk data, an extension over 4096 bytes, or
 * trailers over 65536 bytes.  After -1 the state is unspecified. */
long http_chunked_feed(http_chunked *c, const char *buf, size_t len,
                       const char **data, size_t *data_len);

/* Whether the whole chunked body, trailers included, has been consumed. */
bool http_chunked_done(const http_chunked *c);

#ifdef __cplusplus
}
#endif
#endif
