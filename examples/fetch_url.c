/* fetch_url.c - URLs as fetch shows them and changes them.
 *
 * A password in a URL ("http://u:SECRET@h/") must never reach a terminal
 * or a log: every line fetch prints with a URL in it goes through
 * fetch_masked first, which keeps the user name and writes "***" for the
 * password, as a person reading the line needs to know one was there.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

#define MASK "***"

/* The end of the authority that starts at s: the first '/', '?', '#',
 * blank or end of string. */
static const char *authority_end(const char *s)
{
    return s + strcspn(s, "/?# \t\r\n");
}

/* Appends n bytes of s to out (size bytes, *used so far), cutting at
 * the end, always NUL-terminated. */
static void append(char *out, size_t size, size_t *used, const char *s, size_t n)
{
    if (*used + 1 >= size)
        return;
    size_t room = size - 1 - *used;
    if (n > room)
        n = room;
    memcpy(out + *used, s, n);
    *used += n;
    out[*used] = '\0';
}

/* The last '@' in [s, end) -- the userinfo's end: a password may hold
 * one -- or NULL. */
static const char *last_at(const char *s, const char *end)
{
    const char *at = NULL;
    for (; s < end; s++)
        if (*s == '@')
            at = s;
    return at;
}

void fetch_masked(const char *text, char *out, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return;
    out[0] = '\0';
    const char *p = text;
    for (bool first = true;; first = false) {
        const char *sep = strstr(p, "://");
        /* A URL without its scheme ("u:pw@h/") is masked as well. */
        const char *auth = sep ? sep + 3 : first ? text : NULL;
        if (!auth) {
            append(out, size, &used, p, strlen(p));
            return;
        }
        const char *end = authority_end(auth);
        const char *at = last_at(auth, end);
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            append(out, size, &used, p, (size_t)(colon + 1 - p));
            append(out, size, &used, MASK, strlen(MASK));
            p = at;
        }
        append(out, size, &used, p, (size_t)(end - p));
        p = end;
    }
}

char *fetch_masked_dup(const char *text)
{
    /* Each URL grows by at most the mask (a one-byte password). */
    size_t urls = 1;
    for (const char *p = strstr(text, "://"); p; p = strstr(p + 3, "://"))
        urls++;
    size_t size = strlen(text) + urls * strlen(MASK) + 1;
    char *out = malloc(size);
    if (out)
        fetch_masked(text, out, size);
    return out;
}

int fetch_bad_proxy(const char *where, const char *proxy, const char *why)
{
    char *shown = fetch_masked_dup(proxy);
    fprintf(stderr, "fetch: %s%sbad proxy URL '%s'%s%s\n", where ? where : "", where ? ": " : "",
            shown ? shown : "(out of memory to show it)", why ? ": " : "", why ? why : "");
    free(shown);
    return FETCH_EXIT_PROXY;
}

/* Bytes a path segment keeps as they are (RFC 3986's unreserved). */
static bool unreserved(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

char *fetch_upload_url(const char *url, const char *file)
{
    const char *sep = strstr(url, "://");
    const char *path = sep ? sep + 3 + strcspn(sep + 3, "/?#") : url + strlen(url);
    const char *path_end = path + strcspn(path, "?#");
    bool wants_name = path == path_end || path_end[-1] == '/';
    const char *slash = strrchr(file, '/');
    const char *base = slash ? slash + 1 : file;
    if (!wants_name || !base[0])
        return strdup(url);
    size_t size = strlen(url) + 1 + 3 * strlen(base) + 1, used = 0;
    char *out = malloc(size);
    if (!out)
        return NULL;
    used += (size_t)snprintf(out, size, "%.*s%s", (int)(path_end - url), url,
                             path == path_end ? "/" : "");
    for (const char *p = base; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        used += (size_t)snprintf(out + used, size - used, unreserved(ch) ? "%c" : "%%%02X", ch);
    }
    snprintf(out + used, size - used, "%s", path_end);
    return out;
}
