/* parse_request.c - HTTP/1.1 request heads and their body framing, the
 * server's side of parse.c (contracts and the strictness rules in
 * parse.h).
 *
 * Two passes, as parse.c does for responses:
 *   1. while the head is incomplete, each call scans only the new bytes:
 *      every control byte must be a tab or half of a CR LF pair, and the
 *      first CR LF CR LF ends the head; a few bytes at the start are
 *      checked as a method.  Junk is refused at once, and a head fed a
 *      byte at a time costs O(n) in all.
 *   2. once complete, the head is parsed in one pass.  Pass 1 has
 *      already vouched for its line ends (CR LF, nothing else), so pass 2
 *      looks for CR alone.
 * Simple on purpose: the head is read twice.  picohttpparser parses as
 * the bytes arrive, with SIMD; request heads are small.
 */
#include <limits.h>
#include <string.h>

#include "chars.h"
#include "parse.h"
#include "parse_chars.h"
#include "parse_list.h"

/* ---- pass 1: the bytes as they arrive ---- */

#define METHOD_CHECK_LEN 24   /* method bytes checked before the head is whole */

/* The size of the head if buf[0..len) completes it, 0 if not yet, -1 if
 * a byte new since last_len breaks the line rules (a control byte, a bare
 * CR or LF).  A CR at last_len - 1 is checked again now that its next
 * byte may be here; a CR LF CR LF ending at last_len or later starts at
 * last_len - 3 at the earliest. */
static long scan_new_bytes(const char *buf, size_t len, size_t last_len)
{
    size_t i = last_len > 3 && last_len <= len ? last_len - 3 : 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c >= 0x20 && c != 0x7f)
            continue;                  /* the common case first: one test */
        if (c == '\t')
            continue;
        if (c == '\r') {
            if (i + 1 < len && buf[i + 1] != '\n')
                return -1;             /* bare CR */
            continue;
        }
        if (c != '\n' || i == 0 || buf[i - 1] != '\r')
            return -1;                 /* another control byte, a bare LF */
        if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return (long)(i + 1);
    }
    return 0;
}

/* Checks what has arrived of the method: after one optional CR LF, token
 * bytes up to a space, which must not be followed by another space.
 * Looks at no more than METHOD_CHECK_LEN bytes, so it costs the same on
 * every call.  -1 at the first byte that cannot be right, else 0. */
static int check_method_start(const char *buf, size_t len)
{
    size_t i = len >= 2 && buf[0] == '\r' && buf[1] == '\n' ? 2 : 0;
    size_t stop = len < i + METHOD_CHECK_LEN ? len : i + METHOD_CHECK_LEN;
    size_t start = i;
    for (; i < stop; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == ' ')
            return i == start || (i + 1 < len && buf[i + 1] == ' ') ? -1 : 0;
        if (!ba_is_tchar(c))
            return c == '\r' && i == 0 ? 0 : -1; /* "\r" may start the CR LF */
    }
    return 0;
}

/* ---- pass 2: the whole head ---- */

/* A request-target byte: anything but a space or a control byte. */
static bool is_target_byte(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

static bool method_is(const http_request_head *r, const char *name)
{
    size_t n = strlen(name);
    return r->method_len == n && memcmp(r->method, name, n) == 0; /* case counts */
}

/* An authority-form target, "host:port": a host without '/', '?', '#' or
 * '@' (an IPv6 one in brackets), a colon, 1 to 5 digits. */
static bool is_authority_form(const char *t, size_t n)
{
    size_t colon = n;
    while (colon > 0 && t[colon - 1] != ':')
        colon--;
    if (colon < 2 || n - colon < 1 || n - colon > 5)
        return false;                  /* no host, no port, too long a port */
    for (size_t i = colon; i < n; i++)
        if (!is_digit((unsigned char)t[i]))
            return false;
    for (size_t i = 0; i + 1 < colon; i++)
        if (strchr("/?#@", t[i]))
            return false;
    return true;
}

/* An absolute-form target starts with a scheme: a letter, then letters,
 * digits, '+', '-' or '.', then ':' (RFC 3986 section 3.1). */
static bool has_scheme(const char *t, size_t n)
{
    if (n == 0 || !((t[0] | 0x20) >= 'a' && (t[0] | 0x20) <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == ':')
            return true;
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !is_digit(c) &&
            c != '+' && c != '-' && c != '.')
            return false;
    }
    return false;
}

/* Sets r->form from the target and the method; -1 if the two do not go
 * together (CONNECT takes only authority-form, "*" only OPTIONS). */
static int classify_target(http_request_head *r)
{
    const char *t = r->target;
    size_t n = r->target_len;
    if (method_is(r, "CONNECT")) {
        r->form = HTTP_TARGET_AUTHORITY;
        return is_authority_form(t, n) ? 0 : -1;
    }
    if (n == 1 && t[0] == '*') {
        r->form = HTTP_TARGET_ASTERISK;
        return method_is(r, "OPTIONS") ? 0 : -1;
    }
    if (t[0] == '/') {
        r->form = HTTP_TARGET_ORIGIN;
        return 0;
    }
    r->form = HTTP_TARGET_ABSOLUTE;
    return has_scheme(t, n) ? 0 : -1;
}

/* Parses "HTTP/D.D" CR LF at p.  Returns the position after it, or NULL;
 * *version gets major * 10 + minor. */
static const char *parse_version(const char *p, const char *end, int *version)
{
    if (end - p < 10 || memcmp(p, "HTTP/", 5) != 0 || !is_digit((unsigned char)p[5]) ||
        p[6] != '.' || !is_digit((unsigned char)p[7]) || p[8] != '\r')
        return NULL;                   /* pass 1 vouched for the LF after a CR */
    *version = (p[5] - '0') * 10 + (p[7] - '0');
    return p + 10;
}

/* Parses the request line into r (but for r->form).  Returns the
 * position after it, or NULL if malformed; *version as parse_version's. */
static const char *parse_request_line(const char *p, const char *end,
                                      http_request_head *r, int *version)
{
    if (p[0] == '\r')
        p += 2;                        /* the one empty line allowed first */
    r->method = p;
    while (p < end && ba_is_tchar((unsigned char)*p))
        p++;
    r->method_len = (size_t)(p - r->method);
    if (r->method_len == 0 || p == end || *p++ != ' ')
        return NULL;
    r->target = p;
    while (p < end && is_target_byte((unsigned char)*p))
        p++;
    r->target_len = (size_t)(p - r->target);
    if (r->target_len == 0 || p == end || *p++ != ' ')
        return NULL;
    p = parse_version(p, end, version);
    if (p)
        r->minor_version = *version % 10;
    return p;
}

/* Parses one "name:value" line (no fold: a line may not start with a
 * space or tab) into h.  Returns the position after its CR LF, or NULL. */
static const char *parse_header_line(const char *p, const char *end, http_header *h)
{
    const char *name = p;
    while (p < end && ba_is_tchar((unsigned char)*p))
        p++;
    /* Catches an empty name (a fold among them), whitespace before the
     * colon and no colon at all. */
    if (p == name || p == end || *p != ':')
        return NULL;
    h->name = name;
    h->name_len = (size_t)(p - name);
    const char *text = p + 1;
    const char *stop = memchr(text, '\r', (size_t)(end - text));
    if (!stop)
        return NULL;
    const char *next = stop + 2;
    while (text < stop && is_ows((unsigned char)*text))
        text++;
    while (stop > text && is_ows((unsigned char)stop[-1]))
        stop--;
    h->value = text;
    h->value_len = (size_t)(stop - text);
    return next;
}

/* RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one in 1.0. */
static bool host_count_ok(const http_request_head *r)
{
    int first = http_header_find(r->headers, r->num_headers, "Host", 0);
    if (first < 0)
        return r->minor_version == 0;
    return http_header_find(r->headers, r->num_headers, "Host", (size_t)first + 1) < 0;
}

int http_parse_request(const char *buf, size_t len, size_t last_len,
                       http_request_head *req)
{
    long head_len = scan_new_bytes(buf, len, last_len);
    if (head_len < 0 || check_method_start(buf, len) < 0)
        return -1;
    if (head_len == 0)
        return -2;
    if (head_len > INT_MAX)
        return -1;

    const char *end = buf + head_len;
    int version;
    const char *p = parse_request_line(buf, end, req, &version);
    if (!p)
        return -1;
    if (version != 10 && version != 11)
        return -4;                     /* before the form: "PRI * HTTP/2.0" is a 505 */
    if (classify_target(req) < 0)
        return -1;
    size_t count = 0, capacity = req->num_headers;
    while (p && !(p[0] == '\r' && p + 2 == end)) {
        if (count == capacity)
            return -3;                 /* the caller may grow its array */
        p = parse_header_line(p, end, &req->headers[count++]);
    }
    if (!p)
        return -1;
    req->num_headers = count;
    return host_count_ok(req) ? (int)head_len : -1;
}

/* ---- body framing ---- */

/* The Transfer-Encoding lines' verdict: CHUNKED (0), or -1 (the last
 * coding is not chunked, or chunked comes twice), or -2 (another coding
 * before the final chunked). */
static int transfer_codings(const http_header *h, size_t n)
{
    bool last_chunked = false, other = false;
    int chunked = 0;
    for (int i = http_header_find(h, n, "Transfer-Encoding", 0); i >= 0;
         i = http_header_find(h, n, "Transfer-Encoding", (size_t)i + 1)) {
        const char *cursor = h[i].value, *item;
        size_t len;
        while (ba_list_next(&cursor, h[i].value + h[i].value_len, &item, &len)) {
            if (len == 0)
                continue;              /* RFC 9110 5.6.1: ignore empty elements */
            last_chunked = ba_is_token(item, len, "chunked");
            chunked += last_chunked;
            other |= !last_chunked;
        }
    }
    if (chunked > 1 || !last_chunked)
        return -1;
    return other ? -2 : 0;
}

/* The one Content-Length line's value into *length: 0, or -1 if it is
 * not all digits, too big, or there is a second line. */
static int content_length(const http_header *h, size_t n, int first, uint64_t *length)
{
    if (http_header_find(h, n, "Content-Length", (size_t)first + 1) >= 0)
        return -1;
    return ba_parse_length(h[first].value, h[first].value_len, length);
}

int http_request_framing(const http_request_head *req, http_framing *out)
{
    const http_header *h = req->headers;
    size_t n = req->num_headers;
    bool says_close = ba_header_lists(h, n, "Connection", "close");
    bool keep_alive = req->minor_version >= 1
        ? !says_close
        : !says_close && ba_header_lists(h, n, "Connection", "keep-alive");
    *out = (http_framing){ .kind = HTTP_BODY_NONE, .length = 0, .keep_alive = false };

    int cl = http_header_find(h, n, "Content-Length", 0);
    int te = http_header_find(h, n, "Transfer-Encoding", 0);
    int verdict = 0;
    if (te >= 0 && (cl >= 0 || req->minor_version == 0))
        return -1;                     /* smuggling, or 1.0 with a coding */
    if (te >= 0) {
        verdict = transfer_codings(h, n);
        out->kind = HTTP_BODY_CHUNKED;
    } else if (cl >= 0) {
        verdict = content_length(h, n, cl, &out->length);
        out->kind = HTTP_BODY_LENGTH;
    }
    if (verdict < 0) {
        out->kind = HTTP_BODY_NONE;
        out->length = 0;
        return verdict;
    }
    out->keep_alive = keep_alive;
    return 0;
}
