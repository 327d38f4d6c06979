/* message.c - request heads out, response objects in.
 *
 * The caller's header lines follow curl's rules: "Name: value" replaces a
 * default line of that name in its place (or is added), "Name:" removes
 * it, "Name;" sends the name with an empty value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "message.h"

#define HEAD_FIXED_BYTES 256 /* request line words, default names, framing */

/* A response and what it points to, in one allocation. */
struct response_block {
    http_response pub;  /* what the caller sees; must stay first */
    size_t body_cap;    /* room in pub.body */
    size_t trailer_cap; /* room in pub.raw_trailer */
    http_field fields[]; /* then the strings */
};

/* ---- the caller's header lines ---- */

/* What a caller's line asks for. */
typedef enum line_kind {
    LINE_SET,    /* "Name: value": send it as written */
    LINE_REMOVE, /* "Name:" (blanks at most after the colon): send nothing */
    LINE_EMPTY   /* "Name;": send "Name:" */
} line_kind;

typedef struct line_view {
    const char *text;   /* the whole line */
    size_t name_len;    /* text[0..name_len) is the name */
    line_kind kind;
} line_view;

static bool is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!ba_is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

static bool only_blanks(const char *s)
{
    return s[strspn(s, " \t")] == '\0';
}

/* Takes one caller line apart.  No CR, LF or other control byte may be
 * anywhere in it (that would smuggle in another header line). */
static bool view_line(const char *line, line_view *v)
{
    for (const char *p = line; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ba_is_bad_ctl(ch))
            return false;
    }
    size_t name_len = strcspn(line, ":;");
    if (!is_token(line, name_len) || line[name_len] == '\0')
        return false;
    const char *rest = line + name_len + 1;
    v->text = line;
    v->name_len = name_len;
    if (line[name_len] == ';')
        v->kind = LINE_EMPTY;
    else
        v->kind = only_blanks(rest) ? LINE_REMOVE : LINE_SET;
    return line[name_len] == ':' || only_blanks(rest); /* "Name;x" is neither */
}

static bool named(const line_view *v, const char *name)
{
    return strlen(name) == v->name_len && strncasecmp(v->text, name, v->name_len) == 0;
}

/* Lines the client writes itself: the caller may not frame the body. */
static bool is_framing(const line_view *v)
{
    return named(v, "Content-Length") || named(v, "Transfer-Encoding");
}

/* Lines that do not follow a redirect to another origin. */
static bool is_credential(const line_view *v)
{
    return named(v, "Authorization") || named(v, "Cookie") ||
           named(v, "Proxy-Authorization") || named(v, "Host");
}

/* ---- writing the head ---- */

/* Appends s at out + *at (the caller sized out). */
static void put_n(char *out, size_t *at, const char *s, size_t n)
{
    memcpy(out + *at, s, n);
    *at += n;
}

static void put(char *out, size_t *at, const char *s)
{
    put_n(out, at, s, strlen(s));
}

static void put_line(char *out, size_t *at, const char *name, const char *value)
{
    put(out, at, name);
    put(out, at, ": ");
    put(out, at, value);
    put(out, at, "\r\n");
}

static void put_view(char *out, size_t *at, const line_view *v)
{
    if (v->kind == LINE_REMOVE)
        return;
    if (v->kind == LINE_EMPTY) {
        put_n(out, at, v->text, v->name_len);
        put(out, at, ":\r\n");
        return;
    }
    put(out, at, v->text);
    put(out, at, "\r\n");
}

static size_t base64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

static void put_base64(char *out, size_t *at, const unsigned char *s, size_t n)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        out[(*at)++] = digits[v >> 18 & 63];
        out[(*at)++] = digits[v >> 12 & 63];
        out[(*at)++] = digits[v >> 6 & 63];
        out[(*at)++] = digits[v & 63];
        if (i + 2 >= n) /* one or two bytes in the last group: pad */
            out[*at - 1] = '=';
        if (i + 1 >= n)
            out[*at - 2] = '=';
    }
}

/* One default line: the caller's lines of that name in its place, else
 * the default itself (value NULL: none, unless the caller gives one).
 * Host is the exception: a request has one, so the caller's first Host
 * line decides and later ones are dropped, as curl does. */
static void put_default(char *out, size_t *at, const line_view *v, size_t n,
                        const char *name, const char *value)
{
    bool replaced = false, only_one = strcmp(name, "Host") == 0;
    for (size_t i = 0; i < n && !(replaced && only_one); i++) {
        if (v[i].text && named(&v[i], name)) {
            put_view(out, at, &v[i]);
            replaced = true;
        }
    }
    if (!replaced && value)
        put_line(out, at, name, value);
}

static bool is_default(const line_view *v)
{
    return named(v, "Host") || named(v, "Authorization") || named(v, "User-Agent") ||
           named(v, "Accept");
}

static void put_request_line(char *out, size_t *at, const request_spec *s,
                             const char *host)
{
    put(out, at, s->method);
    put(out, at, " ");
    if (s->absolute_form) {
        put(out, at, "http://");
        put(out, at, host);
    }
    put_n(out, at, s->url->target, s->url->target_len);
    put(out, at, " HTTP/1.1\r\n");
}

/* "Name: Basic base64(credentials)", unless the caller has a line of
 * that name (theirs wins). */
static void put_basic(char *out, size_t *at, const request_spec *s, const line_view *v,
                      const char *name, const char *credentials, size_t len)
{
    for (size_t i = 0; i < s->n_headers; i++)
        if (v[i].text && named(&v[i], name))
            return;
    put(out, at, name);
    put(out, at, ": Basic ");
    put_base64(out, at, (const unsigned char *)credentials, len);
    put(out, at, "\r\n");
}

/* Whether the caller gave a line of this name (kept or removing). */
static bool has_line(const line_view *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].text && named(&v[i], name))
            return true;
    return false;
}

/* A Content-Type value we may send: printable, no CR or LF. */
static bool type_ok(const char *t)
{
    for (; *t; t++)
        if (ba_is_bad_ctl((unsigned char)*t))
            return false;
    return true;
}

static void put_lines(char *out, size_t *at, const request_spec *s, const line_view *v,
                      const char *host)
{
    put_default(out, at, v, s->n_headers, "Host", host);
    if (s->credentials)
        put_basic(out, at, s, v, "Authorization", s->credentials, s->credentials_len);
    if (s->proxy_credentials)
        put_basic(out, at, s, v, "Proxy-Authorization", s->proxy_credentials,
                  s->proxy_credentials_len);
    put_default(out, at, v, s->n_headers, "Authorization", NULL);
    put_default(out, at, v, s->n_headers, "User-Agent", s->user_agent);
    put_default(out, at, v, s->n_headers, "Accept", "*/*");
    for (size_t i = 0; i < s->n_headers; i++)
        if (v[i].text && !is_default(&v[i]))
            put_view(out, at, &v[i]);
    if (s->body_type && !has_line(v, s->n_headers, "Content-Type"))
        put_line(out, at, "Content-Type", s->body_type);
    if (s->body_length == BA_BODY_CHUNKED) {
        put(out, at, "Transfer-Encoding: chunked\r\n");
    } else if (s->body_length >= 0) {
        char digits[32];
        snprintf(digits, sizeof digits, "%lld", (long long)s->body_length);
        put_line(out, at, "Content-Length", digits);
    }
    put(out, at, "\r\n");
}

/* Checks every caller line into v[]; a line left out (a credential on a
 * cross-origin hop) gets text NULL.  Adds the bytes they need to *need. */
static bool view_lines(const request_spec *s, line_view *v, size_t *need)
{
    for (size_t i = 0; i < s->n_headers; i++) {
        if (!view_line(s->headers[i], &v[i]) || is_framing(&v[i]))
            return false;
        *need += strlen(s->headers[i]) + 2;
        if (s->cross_origin && is_credential(&v[i]))
            v[i].text = NULL;
    }
    return true;
}

char *ba_request_head(const request_spec *s, size_t *len, int *err)
{
    *err = HTTP_E_BAD_REQUEST;
    if (!is_token(s->method, strlen(s->method)))
        return NULL;
    char host[BA_HOST_PORT_MAX];
    http_url_host_header(s->url, host, sizeof host);
    size_t need = strlen(s->method) + 2 * strlen(host) + s->url->target_len +
                  strlen(s->user_agent) + HEAD_FIXED_BYTES;
    if (s->credentials)
        need += base64_len(s->credentials_len);
    if (s->proxy_credentials)
        need += base64_len(s->proxy_credentials_len);
    if (s->body_type) {
        if (!type_ok(s->body_type))
            return NULL;
        need += strlen(s->body_type);
    }
    line_view *v = malloc((s->n_headers ? s->n_headers : 1) * sizeof *v);
    if (!v) {
        *err = HTTP_E_NOMEM;
        return NULL;
    }
    char *out = NULL;
    if (!view_lines(s, v, &need))
        goto done;
    *err = HTTP_E_NOMEM;
    if (!(out = malloc(need)))
        goto done;
    /* memcpy, not snprintf: this runs for every request. */
    size_t at = 0;
    put_request_line(out, &at, s, host);
    put_lines(out, &at, s, v, host);
    out[at] = '\0';
    *len = at;
    *err = HTTP_OK;
done:
    free(v);
    return out;
}

char *ba_percent_decode(const char *s, size_t n, size_t *out_len)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = s[i] == '%' && i + 2 < n ? ba_hex_value((unsigned char)s[i + 1]) : -1;
        int lo = hi >= 0 ? ba_hex_value((unsigned char)s[i + 2]) : -1;
        if (lo >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

char *ba_credentials(const char *s, size_t n, bool encoded, size_t *len)
{
    bool has_colon = memchr(s, ':', n) != NULL;
    char *out = encoded ? ba_percent_decode(s, n, len) : strndup(s, n);
    if (!out)
        return NULL;
    if (!encoded)
        *len = n;
    if (has_colon)
        return out;
    char *grown = realloc(out, *len + 2);
    if (!grown) {
        free(out);
        return NULL;
    }
    grown[(*len)++] = ':';
    grown[*len] = '\0';
    return grown;
}

/* ---- responses ---- */

/* Copies len bytes to *at as a NUL-terminated string; advances *at. */
static const char *stash(char **at, const char *s, size_t len)
{
    char *dst = *at;
    memcpy(dst, s, len);
    dst[len] = '\0';
    *at += len + 1;
    return dst;
}

/* The same for a header value, each obs-fold becoming one space. */
static const char *stash_value(char **at, const char *s, size_t len)
{
    char *dst = *at;
    size_t n = http_header_unfold(dst, s, len);
    dst[n] = '\0';
    *at += n + 1;
    return dst;
}

http_response *ba_response_new(const char *url, const response_head *head, bool keep_raw)
{
    const http_header *h = head->headers;
    size_t n = head->n_headers;
    size_t strings = strlen(url) + 1 + head->reason_len + 1;
    for (size_t i = 0; i < n; i++)
        strings += h[i].name_len + 1 + h[i].value_len + 1;
    if (keep_raw)
        strings += head->raw_len + 1;
    struct response_block *b = malloc(sizeof *b + n * sizeof b->fields[0] + strings);
    if (!b)
        return NULL;
    char *at = (char *)&b->fields[n];
    for (size_t i = 0; i < n; i++) {
        b->fields[i].name = stash(&at, h[i].name, h[i].name_len);
        b->fields[i].value = stash_value(&at, h[i].value, h[i].value_len);
    }
    b->body_cap = 0;
    b->trailer_cap = 0;
    /* Every field by name, none left to a zeroing of the whole struct
     * (which gcc turns into a `rep stos` at this size, slower than the
     * stores).  A new field of http_response must be set here. */
    http_response *r = &b->pub;
    r->status = head->status;
    r->minor_version = head->minor_version;
    r->reason = stash(&at, head->reason, head->reason_len);
    r->headers = b->fields;
    r->n_headers = n;
    r->content_length = -1;
    r->body = NULL;
    r->body_len = 0;
    r->url = stash(&at, url, strlen(url));
    r->redirects = 0;
    /* only when asked: the one copy of the head's bytes */
    r->raw_head = keep_raw ? stash(&at, head->raw, head->raw_len) : NULL;
    r->raw_head_len = head->raw_len;
    r->raw_trailer = NULL;
    r->raw_trailer_len = 0;
    return r;
}

/* Appends data[0..len) to the NUL-terminated *buf of *used bytes in *cap
 * of room, growing it by doubling.  0, or HTTP_E_NOMEM. */
static int append(char **buf, size_t *used, size_t *cap, const char *data, size_t len)
{
    if (*used + len + 1 > *cap) {
        size_t room = *cap ? *cap : 256;
        while (room < *used + len + 1)
            room *= 2;
        char *grown = realloc(*buf, room);
        if (!grown)
            return HTTP_E_NOMEM;
        *buf = grown;
        *cap = room;
    }
    memcpy(*buf + *used, data, len);
    *used += len;
    (*buf)[*used] = '\0';
    return 0;
}

int ba_response_append(http_response *r, const char *data, size_t len)
{
    struct response_block *b = (struct response_block *)r;
    return append(&r->body, &r->body_len, &b->body_cap, data, len);
}

int ba_response_append_trailer(http_response *r, const char *data, size_t len)
{
    struct response_block *b = (struct response_block *)r;
    char *trailer = (char *)r->raw_trailer; /* the response's own: malloc'd here */
    int err = append(&trailer, &r->raw_trailer_len, &b->trailer_cap, data, len);
    r->raw_trailer = trailer;
    return err;
}

const char *http_response_header(const http_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

void http_response_free(http_response *r)
{
    if (!r)
        return;
    free(r->body);
    free((char *)r->raw_trailer);
    free(r);
}
