/* message.c - request heads out, response objects in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message.h"

/* A response and what it points to, in one allocation. */
struct response_block {
    http_response pub;  /* what the caller sees; must stay first */
    size_t body_cap;    /* room in pub.body */
    http_field fields[]; /* then the strings */
};

/* A caller's header line is "Name: value" with a token name, and no CR, LF
 * or other control byte anywhere (that would smuggle in another header). */
static int header_line_ok(const char *line)
{
    const char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return 0;
    for (const char *p = line; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return 0;
        if (p < colon && (ch == ' ' || ch == '\t'))
            return 0;
    }
    return 1;
}

/* Does one of the caller's headers have this name? */
static int overridden(const char *name, const char *const *headers, size_t n)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (strncasecmp(headers[i], name, len) == 0 && headers[i][len] == ':')
            return 1;
    return 0;
}

static int method_ok(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

/* Appends s at out + *at (the caller sized out). */
static void put(char *out, size_t *at, const char *s)
{
    size_t n = strlen(s);
    memcpy(out + *at, s, n);
    *at += n;
}

/* Appends "<prefix><value>\r\n". */
static void put_line(char *out, size_t *at, const char *prefix, const char *value)
{
    put(out, at, prefix);
    put(out, at, value);
    put(out, at, "\r\n");
}

char *ba_request_head(const char *method, const http_url *u, const char *user_agent,
                   const char *const *headers, size_t n, size_t *len, int *err)
{
    *err = HTTP_E_BAD_REQUEST;
    if (!method_ok(method))
        return NULL;
    size_t need = strlen(method) + u->target_len + strlen(user_agent) + 600;
    for (size_t i = 0; i < n; i++) {
        if (!header_line_ok(headers[i]))
            return NULL;
        need += strlen(headers[i]) + 2;
    }
    *err = HTTP_E_NOMEM;
    char *out = malloc(need);
    if (!out)
        return NULL;
    char host[300];
    http_url_host_header(u, host, sizeof host);
    /* memcpy, not snprintf: this runs for every request. */
    size_t at = 0;
    put(out, &at, method);
    put(out, &at, " ");
    memcpy(out + at, u->target, u->target_len);
    at += u->target_len;
    put(out, &at, " HTTP/1.1\r\n");
    if (!overridden("Host", headers, n))
        put_line(out, &at, "Host: ", host);
    if (!overridden("User-Agent", headers, n))
        put_line(out, &at, "User-Agent: ", user_agent);
    if (!overridden("Accept", headers, n))
        put(out, &at, "Accept: */*\r\n");
    for (size_t i = 0; i < n; i++)
        put_line(out, &at, "", headers[i]);
    put(out, &at, "\r\n");
    *len = at;
    *err = HTTP_OK;
    return out;
}

/* Copies len bytes to *at as a NUL-terminated string; advances *at. */
static const char *stash(char **at, const char *s, size_t len)
{
    char *dst = *at;
    memcpy(dst, s, len);
    dst[len] = '\0';
    *at += len + 1;
    return dst;
}

http_response *ba_response_new(const char *url, int minor_version, int status,
                            const char *reason, size_t reason_len,
                            const http_header *h, size_t n)
{
    size_t strings = strlen(url) + 1 + reason_len + 1;
    for (size_t i = 0; i < n; i++)
        strings += h[i].name_len + 1 + h[i].value_len + 1;
    struct response_block *b = malloc(sizeof *b + n * sizeof b->fields[0] + strings);
    if (!b)
        return NULL;
    char *at = (char *)&b->fields[n];
    for (size_t i = 0; i < n; i++) {
        b->fields[i].name = stash(&at, h[i].name, h[i].name_len);
        b->fields[i].value = stash(&at, h[i].value, h[i].value_len);
    }
    b->body_cap = 0;
    b->pub = (http_response){
        .status = status,
        .minor_version = minor_version,
        .reason = stash(&at, reason, reason_len),
        .headers = b->fields,
        .n_headers = n,
        .content_length = -1,
        .url = stash(&at, url, strlen(url)),
    };
    return &b->pub;
}

int ba_response_append(http_response *r, const char *data, size_t len)
{
    struct response_block *b = (struct response_block *)r;
    if (r->body_len + len + 1 > b->body_cap) {
        size_t cap = b->body_cap ? b->body_cap : 256;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        char *grown = realloc(r->body, cap);
        if (!grown)
            return HTTP_E_NOMEM;
        r->body = grown;
        b->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return 0;
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
    free(r);
}
