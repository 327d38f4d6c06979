/* parse.h - the HTTP/1.1 parsers: response heads (parse.c), request
 * heads (parse_request.c), body framing, chunks (parse_chunked.c).
 *
 * Pure functions over the caller's bytes.  Nothing here knows about
 * sockets or coroutines, nothing allocates, and every pointer handed back
 * points into the buffer the caller passed in.  No call suspends.
 *
 * The return convention is picohttpparser's: >= 0 bytes consumed,
 * -2 "incomplete, call again with more bytes", -1 malformed; and -3
 * "the caller's header array is full" from http_parse_response and
 * http_parse_request, -4 "an HTTP version we do not speak" from
 * http_parse_request.
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

/* ---- the request side (parse_request.c) ----
 *
 * Strict by default, like llhttp, since a server reads what any client
 * (or a proxy in front of it) sends, and two parsers that disagree about
 * where a request ends are a request-smuggling hole.  The rules:
 *   - Line ends are CR LF.  A bare LF is malformed: llhttp's default
 *     too (its lenient_optional_cr_before_lf flag is off unless set);
 *     RFC 9112 section 2.2 only *allows* a recipient to take one.  A bare
 *     CR (not followed by LF) is malformed, as the RFC requires.
 *   - No control byte anywhere in the head but tab in a header value
 *     (NUL, DEL and the rest are malformed); bytes >= 0x80 are allowed in
 *     header values (obs-text) and, as nginx takes them, in the target.
 *   - One empty line (CR LF) before the request line is skipped (RFC 9112
 *     section 2.2: a server SHOULD ignore at least one); two are
 *     malformed.
 *   - Request line: method SP request-target SP HTTP-version, single
 *     spaces.  The method is any token (RFC 9110 tchar).  The target has
 *     no space or control byte and one of four forms: origin-form
 *     ("/path?query"; not for CONNECT), absolute-form ("scheme:...", as
 *     sent to a proxy; RFC 9112 section 3.2.2 says a server MUST accept
 *     it), authority-form ("host:port", for CONNECT and only CONNECT),
 *     asterisk-form ("*", for OPTIONS and only OPTIONS).  The version is
 *     "HTTP/" DIGIT "." DIGIT: 1.0 and 1.1 parse; any other (HTTP/2.0,
 *     HTTP/1.2, HTTP/0.9) is -4, for a 505 answer; "HTTP/2" or
 *     "http/1.1" are malformed.
 *   - Header lines: a token name, then ':' at once (whitespace between
 *     the name and the colon is malformed: RFC 9112 section 5.1);
 *     obsolete line folding -- a line starting with a space or tab -- is
 *     malformed (RFC 9112 section 5.2 lets a server reject it).
 *   - Host: an HTTP/1.1 request must have exactly one, an HTTP/1.0 one
 *     at most one (RFC 9112 section 3.2: else 400).
 * Body framing (Content-Length, Transfer-Encoding) is
 * http_request_framing's, below. */

/* The four shapes of a request-target (RFC 9112 section 3.2). */
typedef enum http_target_form {
    HTTP_TARGET_ORIGIN,     /* "/where?query": the usual one */
    HTTP_TARGET_ABSOLUTE,   /* "http://host/where": a request to a proxy */
    HTTP_TARGET_AUTHORITY,  /* "host:port": CONNECT */
    HTTP_TARGET_ASTERISK    /* "*": OPTIONS for the server as a whole */
} http_target_form;

/* A parsed request head.  Every pointer points into the parsed buffer;
 * the strings are not NUL-terminated. */
typedef struct http_request_head {
    const char *method;     /* the method token, as sent ("GET") */
    size_t method_len;
    const char *target;     /* the request-target, as sent */
    size_t target_len;
    http_target_form form;  /* which of the four shapes target has */
    int minor_version;      /* 0 or 1 (HTTP/1.0, HTTP/1.1) */
    http_header *headers;   /* the caller's array, filled in order */
    size_t num_headers;     /* its capacity on entry, the count on return */
} http_request_head;

/* Parses a request head (request line, header lines, blank line) at
 * buf[0..len).  last_len is the len passed on the previous call for the
 * same buffer (0 the first time): only the bytes new since then are
 * scanned until the head is complete, so feeding a head one byte at a
 * time stays O(n).  req->headers and req->num_headers (its capacity) are
 * set by the caller.
 *
 * Returns > 0, the size of the head: the head is complete and well-formed
 * and the body (or the next request) starts at buf + ret; *req is filled.
 *
 * Returns -2 if the head is incomplete and nothing seen so far is wrong:
 * call again with more bytes.  There is no size limit here; the caller
 * decides when -2 has lasted too long (a server answers 431).
 *
 * Returns -1 as soon as the bytes cannot be a request head by the rules
 * above.  A control byte, a bare CR or LF, and a method that is not a
 * token (a TLS hello, an SSH banner) are seen as they arrive, before the
 * head is complete; the rest of the grammar once it is.
 *
 * Returns -3 if the head is complete but has more header fields than
 * req->num_headers: call again with the same buf, len and last_len and a
 * bigger array, or answer 431.
 *
 * Returns -4 if the head is complete, its request line well-formed, and
 * its version not HTTP/1.0 or HTTP/1.1 (answer 505); req's method,
 * target and minor_version (the digit after the dot) are set, its form
 * and headers are not (the target is not checked against the method).
 *
 * The output fields are unspecified after -1, -2 and -3.  Heads over
 * INT_MAX bytes are -1. */
int http_parse_request(const char *buf, size_t len, size_t last_len,
                       http_request_head *req);

/* Decides how the body of a parsed request is delimited (RFC 9112
 * section 6), strictly:
 *   - neither Content-Length nor Transfer-Encoding: NONE (a request
 *     without either has no body: RFC 9112 section 6.3, rule 7);
 *   - Content-Length alone: LENGTH.  Its value must be all digits and at
 *     most INT64_MAX.  It may come once: a second Content-Length line, or
 *     a list ("5, 5"), is -1 even when the values agree -- RFC 9110
 *     section 8.6 lets a recipient take identical values, but llhttp
 *     refuses them and so do we (one less way for two parsers to
 *     disagree);
 *   - Transfer-Encoding alone, in HTTP/1.1: its codings over all its
 *     lines, empty list elements skipped, must end with one "chunked":
 *     CHUNKED.  A last coding other than chunked ("gzip", "chunked,
 *     gzip", "identity") is -1 (RFC 9112 section 6.3: the length cannot
 *     be known, answer 400); chunked twice is -1; another coding before
 *     the final chunked ("gzip, chunked") is -2 (RFC 9110 section 15.6.2:
 *     a coding the server does not implement, answer 501);
 *   - Content-Length and Transfer-Encoding together: -1 (the classic
 *     request-smuggling pair; RFC 9112 section 6.1 allows a server to
 *     reject it, and llhttp does);
 *   - Transfer-Encoding in an HTTP/1.0 request: -1 (RFC 9112 section 6.1:
 *     1.0 has no transfer codings, the framing is faulty).
 * keep_alive: HTTP/1.1 unless Connection lists "close"; HTTP/1.0 only if
 * Connection lists "keep-alive" (and not "close"); false after -1 and -2.
 * A chunked body is read with http_chunked_feed (below) with its strict
 * flag set: CR LF only, nothing but ';' after a chunk size.
 * Returns 0 and fills *out, or -1 (answer 400), or -2 (answer 501). */
int http_request_framing(const http_request_head *req, http_framing *out);

/* The chunked-body decoder's state.  Zero-initialise it to start
 * ({0} or memset; set strict there too); the other fields are private to
 * parse_chunked.c. */
typedef struct http_chunked {
    int state;            /* where in the chunk grammar we are (parse.c
                             lists the states) */
    unsigned digits;      /* hex digits read on the current size line */
    uint64_t size;        /* while reading a size line: its value so far;
                             inside a chunk: payload bytes still to come */
    size_t ext_len;       /* bytes after the size on the current size line
                             (the chunk extension), at most 4096 */
    size_t trailer_len;   /* bytes of trailer lines so far, at most 65536 */
    bool strict;          /* the one field a caller sets (before the first
                             feed): false (zero), the response side's
                             leniency -- a bare LF taken for CR LF, blanks
                             allowed after a size; true, a request's rules
                             (llhttp's): both are malformed */
} http_chunked;

/* Feeds chunked-encoded bytes buf[0..len).  Every byte given is consumed
 * unless the body ends first, so data may be split anywhere (inside a hex
 * size, a CRLF, an extension, a trailer) and the caller never keeps
 * partial bytes.  One call consumes framing bytes and at most one run of
 * payload: *data, *data_len are set to that payload, pointing into buf
 * (*data_len may be 0); it also stops after the last chunk's size line,
 * so that the trailer section (its lines and the final blank line) is
 * consumed by calls of its own (http_chunked_in_trailers).  When the
 * last chunk, the trailers and the final CRLF are consumed,
 * http_chunked_done() turns true and the call stops
 * there: what follows belongs to the next response and is not consumed.
 * Call in a loop while consumed < len and not done.
 * Returns the bytes consumed (>= 0; > 0 whenever len > 0 and not done), or
 * -1 if the encoding is malformed: no or non-hex size digits, a size over
 * 64 bits, no CRLF after chunk data (strict: a bare LF anywhere, a blank
 * after a size), an extension over 4096 bytes, a
 * control byte (but tab) or a bare CR in a trailer line, or trailers over
 * 65536 bytes.  Trailer lines are otherwise skipped unread.  After -1 the state is unspecified. */
long http_chunked_feed(http_chunked *c, const char *buf, size_t len,
                       const char **data, size_t *data_len);

/* Whether the whole chunked body, trailers included, has been consumed. */
bool http_chunked_done(const http_chunked *c);

/* Whether the last chunk's size line is consumed and the body is not yet
 * done: every byte the next feed consumes belongs to the trailer section
 * (trailer lines, then the blank line that ends the body). */
bool http_chunked_in_trailers(const http_chunked *c);

#ifdef __cplusplus
}
#endif
#endif
