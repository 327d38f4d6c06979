/* parse.c - HTTP/1.1 response head and body framing (the chunked decoder
 * is in parse_chunked.c).
 *
 * Three small machines over the caller's bytes (contracts in parse.h):
 *   1. http_parse_response finds the blank line that ends the head,
 *      scanning only the bytes that are new since the last call, and then
 *      parses the whole head in one pass.
 *   2. http_framing_of applies RFC 9112 section 6.3's rules in order.
 *   3. http_chunked_feed (parse_chunked.c) is a byte-at-a-time state
 *      machine, so chunked input may be split anywhere.
 *
 * Simple on purpose: the head is read twice, once to find its end and once
 * to parse it.  A faster parser (picohttpparser) parses as bytes arrive
 * and scans 16 bytes at a time with SSE4.2; heads are small, so clarity
 * wins here.
 */
#include <limits.h>
#include <string.h>

#include "chars.h"
#include "parse.h"
#include "parse_chars.h"

/* Byte classes: parse_chars.h (with parse_chunked.c), chars.h (all of http/). */

/* ---- the response head ---- */

#define STATUS_START_LEN 13   /* "HTTP/1.1 200" and the byte after it */

/* Checks the fixed-position start of a status line, "HTTP/1.x NNN" and
 * the space or line end after it, as far as it has arrived.  -1 at the
 * first byte that cannot be right ("SSH-2.0", "<html>", status 99 or
 * 1000), else 0.  Any three digits from 100 to 999 pass, as in curl: a
 * code we do not know is read like the x00 of its class.  Costs at most
 * 13 byte compares per call. */
static int check_status_start(const char *buf, size_t len)
{
    for (size_t i = 0; i < len && i < STATUS_START_LEN; i++) {
        unsigned char c = (unsigned char)buf[i];
        bool ok;
        switch (i) {
        case 7:  ok = c == '0' || c == '1'; break;    /* minor version */
        case 9:  ok = c >= '1' && c <= '9'; break;    /* status 100-999 */
        case 10:
        case 11: ok = is_digit(c); break;
        case 12: ok = c == ' ' || c == '\r' || c == '\n'; break;
        default: ok = c == (unsigned char)"HTTP/1.x "[i]; break;
        }
        if (!ok)
            return -1;
    }
    return 0;
}

/* The size of the head if buf[0..len) holds the blank line that ends it
 * (an LF followed by LF or by CR LF), else 0.  The previous call saw no
 * blank line in buf[0..last_len), so a new one ends at last_len or later
 * and starts at most 2 bytes before it: the scan starts there. */
static size_t find_head_end(const char *buf, size_t len, size_t last_len)
{
    size_t i = last_len > 2 && last_len <= len ? last_len - 2 : 0;
    const char *p = buf + i, *end = buf + len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) { /* libc's vector scan */
        size_t at = (size_t)(p - buf);
        if (at + 1 < len && buf[at + 1] == '\n')
            return at + 2;
        if (at + 2 < len && buf[at + 1] == '\r' && buf[at + 2] == '\n')
            return at + 3;
        p++;
    }
    return 0;
}

/* Finds the end of the line of text starting at p: returns where its CR LF
 * (or bare LF) starts and sets *next past it.  NULL if a control character
 * comes first, a bare CR included. */
static const char *line_end(const char *p, const char *end, const char **next)
{
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != 0x7f) /* the common case first: one test */
            continue;
        if (c == '\n') {
            *next = p + 1;
            return p;
        }
        if (c == '\r' && p + 1 < end && p[1] == '\n') {
            *next = p + 2;
            return p;
        }
        if (ba_is_bad_ctl(c))
            return NULL;
    }
    return NULL;
}

/* Parses "HTTP/1.x NNN[ reason]" and its line end.  Returns the position
 * after the line, or NULL if malformed. */
static const char *parse_status_line(const char *p, const char *end,
                                     int *minor_version, int *status,
                                     const char **reason, size_t *reason_len)
{
    if (end - p < STATUS_START_LEN || check_status_start(p, STATUS_START_LEN) < 0)
        return NULL;
    *minor_version = p[7] - '0';
    *status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    p += 12;
    if (*p == ' ')      /* "HTTP/1.1 200\r\n" has no space and no reason */
        p++;
    const char *next;
    const char *stop = line_end(p, end, &next);
    if (!stop)
        return NULL;
    *reason = p;
    *reason_len = (size_t)(stop - p);
    return next;
}

/* Parses one "name: value" field: its line and the obs-fold lines that
 * continue it (RFC 9112 section 5.2: a line starting with a space or
 * tab).  The value runs from its first to its last byte that is not a
 * space or tab, over the folds: they stay inside it, as they came,
 * since the buffer is not ours to rewrite (http_header_unfold).
 * Returns the position after the field, or NULL if malformed. */
static const char *parse_header_line(const char *p, const char *end,
                                     http_header *h)
{
    const char *name = p;
    while (p < end && ba_is_tchar((unsigned char)*p))
        p++;
    /* Catches an empty name, a fold with no field before it (a line
     * starting with a space or tab), a space before the colon, and no
     * colon at all. */
    if (p == name || p == end || *p != ':')
        return NULL;
    h->name = name;
    h->name_len = (size_t)(p - name);
    const char *first = NULL, *last = NULL, *next = p + 1;
    do {
        const char *text = next;
        const char *stop = line_end(text, end, &next);
        if (!stop)
            return NULL;
        while (text < stop && is_ows((unsigned char)*text))
            text++;
        while (stop > text && is_ows((unsigned char)stop[-1]))
            stop--;
        if (text < stop) {
            first = first ? first : text;
            last = stop;
        }
        h->value = first ? first : stop;   /* an empty value: anywhere after ':' */
    } while (next < end && is_ows((unsigned char)*next));
    h->value_len = first ? (size_t)(last - first) : 0;
    return next;
}

static bool is_blank_line(const char *p, const char *end)
{
    return p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'));
}

int http_parse_response(const char *buf, size_t len, size_t last_len,
                        int *minor_version, int *status,
                        const char **reason, size_t *reason_len,
                        http_header *headers, size_t *num_headers)
{
    if (check_status_start(buf, len) < 0)
        return -1;
    size_t head_len = find_head_end(buf, len, last_len);
    if (head_len == 0)
        return -2;
    if (head_len > INT_MAX)
        return -1;

    const char *end = buf + head_len;
    const char *p = parse_status_line(buf, end, minor_version, status,
                                      reason, reason_len);
    size_t count = 0;
    while (p && !is_blank_line(p, end)) {
        if (count == *num_headers)
            return -3;                 /* the caller may grow its array: parse.h */
        p = parse_header_line(p, end, &headers[count++]);
    }
    if (!p)
        return -1;
    *num_headers = count;
    return (int)head_len;
}

/* Whether c may be part of a fold: the line break, and the blanks on
 * either side of it. */
static bool is_fold_byte(unsigned char c)
{
    return is_ows(c) || c == '\r' || c == '\n';
}

size_t http_header_unfold(char *dst, const char *src, size_t len)
{
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        size_t run = i;
        bool line_break = false;
        while (run < len && is_fold_byte((unsigned char)src[run]))
            line_break |= src[run++] == '\n';
        if (!line_break)
            run = i + 1;               /* not a fold: copy one byte */
        if (line_break)
            dst[out++] = ' ';
        else
            dst[out++] = src[i];       /* out <= i: dst == src is fine */
        i = run;
    }
    return out;
}

int http_header_find(const http_header *h, size_t n, const char *name,
                     size_t start)
{
    size_t len = strlen(name);
    for (size_t i = start; i < n; i++)
        if (h[i].name_len == len && ba_ieq(h[i].name, name, len))
            return (int)i;
    return -1;
}

/* ---- body framing ---- */

/* Takes the next element of a comma-separated list (RFC 9110 section
 * 5.6.1) from *cursor..end, trimmed of spaces, tabs and folds; empty
 * elements ("a, , b") come back empty.  *cursor becomes NULL after the
 * last one.  Returns false when the list is used up. */
static bool list_next(const char **cursor, const char *end,
                      const char **item, size_t *item_len)
{
    const char *p = *cursor;
    if (!p)
        return false;
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma ? comma : end;
    while (p < stop && is_fold_byte((unsigned char)*p))
        p++;
    while (stop > p && is_fold_byte((unsigned char)stop[-1]))
        stop--;
    *item = p;
    *item_len = (size_t)(stop - p);
    *cursor = comma ? comma + 1 : NULL;
    return true;
}

/* Whether some header called `name` lists `token` (both compared without
 * regard to case), as in "Connection: Upgrade, close". */
static bool header_lists(const http_header *h, size_t n, const char *name,
                         const char *token)
{
    size_t token_len = strlen(token);
    for (int i = http_header_find(h, n, name, 0); i >= 0;
         i = http_header_find(h, n, name, (size_t)i + 1)) {
        const char *cursor = h[i].value, *item;
        size_t item_len;
        while (list_next(&cursor, h[i].value + h[i].value_len, &item, &item_len))
            if (item_len == token_len && ba_ieq(item, token, token_len))
                return true;
    }
    return false;
}

/* What the Transfer-Encoding headers ask for, all taken together:
 *   TE_ABSENT       there is none;
 *   TE_IDENTITY     only "identity" (a no-op) and empty elements;
 *   TE_CHUNKED      one "chunked", the last coding but for identities;
 *   TE_UNSUPPORTED  another coding (gzip, deflate, br...) anywhere, or
 *                   "chunked" before another: we cannot decode the body;
 *   TE_TWICE        "chunked" more than once (RFC 9112 section 7 forbids
 *                   it: malformed). */
enum { TE_ABSENT, TE_IDENTITY, TE_CHUNKED, TE_UNSUPPORTED, TE_TWICE };

static int transfer_coding(const http_header *h, size_t n)
{
    bool present = false, other = false, chunked_last = false;
    int chunked = 0;
    for (int i = http_header_find(h, n, "Transfer-Encoding", 0); i >= 0;
         i = http_header_find(h, n, "Transfer-Encoding", (size_t)i + 1)) {
        const char *cursor = h[i].value, *item;
        size_t len;
        present = true;
        while (list_next(&cursor, h[i].value + h[i].value_len, &item, &len)) {
            if (len == 0 || (len == 8 && ba_ieq(item, "identity", 8)))
                continue;
            chunked_last = len == 7 && ba_ieq(item, "chunked", 7);
            chunked += chunked_last;
            other |= !chunked_last;
        }
    }
    if (!present)
        return TE_ABSENT;
    if (chunked > 1)
        return TE_TWICE;
    if (other)
        return TE_UNSUPPORTED;
    return chunked_last ? TE_CHUNKED : TE_IDENTITY;
}

/* Decimal digits to a length: 0, or -1 if empty, not all digits, or above
 * INT64_MAX (http_response.content_length is an int64_t). */
static int parse_length(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;                 /* "-1", "+5", "12a" */
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > ((uint64_t)INT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

/* Reads every element of every Content-Length header into *length.  They
 * must all be valid and equal.  0, or -1. */
static int content_length(const http_header *h, size_t n, uint64_t *length)
{
    bool seen = false;
    for (int i = http_header_find(h, n, "Content-Length", 0); i >= 0;
         i = http_header_find(h, n, "Content-Length", (size_t)i + 1)) {
        const char *cursor = h[i].value, *item;
        size_t item_len;
        uint64_t v;
        while (list_next(&cursor, h[i].value + h[i].value_len, &item, &item_len)) {
            if (parse_length(item, item_len, &v) < 0 || (seen && v != *length))
                return -1;
            *length = v;
            seen = true;
        }
    }
    return 0;
}

int http_framing_of(int status, bool head_request, int minor_version,
                    const http_header *h, size_t n, http_framing *out)
{
    bool says_close = header_lists(h, n, "Connection", "close");
    bool keep_alive = minor_version >= 1
        ? !says_close
        : !says_close && header_lists(h, n, "Connection", "keep-alive");
    *out = (http_framing){ .kind = HTTP_BODY_CLOSE, .length = 0,
                           .keep_alive = keep_alive };

    if (head_request || status / 100 == 1 || status == 204 || status == 304) {
        out->kind = HTTP_BODY_NONE;
        return 0;
    }
    int te = transfer_coding(h, n);
    bool has_cl = http_header_find(h, n, "Content-Length", 0) >= 0;
    if (te == TE_TWICE)
        return -1;
    if (te != TE_ABSENT) {
        /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3 item 3);
         * a message carrying both is suspect, so the connection is not
         * trusted with another request. */
        out->kind = te == TE_CHUNKED ? HTTP_BODY_CHUNKED : HTTP_BODY_CLOSE;
        if (has_cl)
            out->keep_alive = false;
    } else if (has_cl) {
        if (content_length(h, n, &out->length) < 0)
            return -1;
        out->kind = HTTP_BODY_LENGTH;
    }
    if (out->kind == HTTP_BODY_CLOSE)
        out->keep_alive = false;
    return te == TE_UNSUPPORTED ? -2 : 0;
}
