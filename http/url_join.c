/* url_join.c - normalizing URLs and resolving references against a base
 * (RFC 3986 sections 5.2 and 6), as curl does before it sends one.
 *
 * Both build a new string and then let http_url_parse judge it, so what a
 * valid URL is lives in one place (url.c); the code here only rewrites.
 * Simple on purpose: "%XX" escapes are never decoded (so "%2e" is not a
 * dot segment and "%7e" is not turned into "~"), there is no IDNA, and a
 * backslash is an ordinary byte, not a '/' as in browsers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bareawait/url.h>
#include "chars.h"
#include "url_chars.h"

#define ESCAPED_LEN 3   /* a byte written as "%XX" */
#define ZONE_PCT "%25"  /* RFC 6874's encoding of the '%' before a zone */

/* The pieces of "scheme://authority/path?query#fragment", pointing into
 * the string they were split from. */
typedef struct url_parts {
    size_t scheme_len;       /* bytes before "://" */
    const char *authority;   /* after "://", up to the path, query or fragment */
    size_t authority_len;
    const char *path;        /* "" or starting with '/' */
    size_t path_len;
    const char *query;       /* starting with '?', or "" (query_len 0) */
    size_t query_len;
} url_parts;

/* A string being built into a buffer its caller sized for the worst case. */
typedef struct builder {
    char *p;
    size_t len;
} builder;

static int split(const char *s, url_parts *u)
{
    size_t n = url_scheme_len(s);
    if (n == 0 || strncmp(s + n, "://", 3) != 0)
        return HTTP_URL_NO_SCHEME;
    u->scheme_len = n;
    u->authority = s + n + 3;
    u->authority_len = strcspn(u->authority, "/?#");
    u->path = u->authority + u->authority_len;
    u->path_len = strcspn(u->path, "?#");
    u->query = u->path + u->path_len;
    u->query_len = *u->query == '?' ? strcspn(u->query, "#") : 0;
    return HTTP_URL_OK;
}

static void put(builder *b, const char *s, size_t n)
{
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void put_lower(builder *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b->p[b->len++] = (char)ba_lower((unsigned char)s[i]);
}

/* Copies s[0..n), spaces and bytes >= 0x80 as "%XX" (upper-case hex, as
 * RFC 3986 section 6.2.2.1 recommends). */
static void put_escaped(builder *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != ' ' && c < 0x80) {
            b->p[b->len++] = (char)c;
            continue;
        }
        b->p[b->len++] = '%';
        b->p[b->len++] = hex[c >> 4];
        b->p[b->len++] = hex[c & 0xf];
    }
}

/* "[ADDR%zone]rest": the address lower-cased, the zone's '%' written as
 * "%25" (the zone itself is a case-sensitive interface name), the rest
 * (":port", or junk that http_url_parse will refuse) as it is. */
static void put_ipv6_host(builder *b, const char *h, size_t n)
{
    const char *close = memchr(h, ']', n);
    const char *pct = close ? memchr(h, '%', (size_t)(close - h)) : NULL;
    if (!pct) {
        put_lower(b, h, close ? (size_t)(close - h) : n);
        if (close)
            put(b, close, n - (size_t)(close - h));
        return;
    }
    const char *zone = pct + 1;
    size_t zone_len = (size_t)(close - zone);
    put_lower(b, h, (size_t)(pct - h));
    /* An empty zone stays empty, for http_url_parse to refuse: "%25" in
     * its place would be the zone "25". */
    if (zone_len > 0 && !url_zone_encoded(zone, zone_len))
        put(b, ZONE_PCT, strlen(ZONE_PCT));
    else
        put(b, "%", 1);
    put(b, zone, n - (size_t)(zone - h));
}

/* "userinfo@host:port": the userinfo escaped, the host lower-cased. */
static void put_authority(builder *b, const char *a, size_t n)
{
    size_t host = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] == '@')
            host = i + 1;              /* after the last '@', as url.c splits */
    put_escaped(b, a, host);
    a += host;
    n -= host;
    if (n > 0 && a[0] == '[') {
        put_ipv6_host(b, a, n);
        return;
    }
    const char *colon = memchr(a, ':', n);
    size_t name = colon ? (size_t)(colon - a) : n;
    put_lower(b, a, name);
    put(b, a + name, n - name);
}

/* RFC 3986 section 5.2.4 on p[0..n), an absolute path ('/' first), in
 * place; returns the new length.  Each round takes one "/segment" off the
 * input: "/." is dropped, "/.." drops the last segment written (none above
 * the root), anything else is copied.  When "." or ".." ends the path the
 * result ends with '/' ("/a/b/.." is "/a/").  The output never outgrows
 * the input read so far, so one buffer holds both. */
static size_t remove_dot_segments(char *p, size_t n)
{
    size_t r = 0, w = 0;
    while (r < n) {
        size_t end = r + 1;
        while (end < n && p[end] != '/')
            end++;
        size_t seg = end - r - 1;
        bool dot = seg == 1 && p[r + 1] == '.';
        bool dotdot = seg == 2 && p[r + 1] == '.' && p[r + 2] == '.';
        if (dotdot) {
            while (w > 0 && p[w - 1] != '/')
                w--;
            w = w > 0 ? w - 1 : 0;     /* and the '/' before that segment */
        }
        if ((dot || dotdot) && end == n)
            p[w++] = '/';
        if (!dot && !dotdot) {
            memmove(p + w, p + r, end - r);
            w += end - r;
        }
        r = end;
    }
    return w;
}

/* The worst case of what build() writes for an input of len bytes: every
 * byte escaped, plus "%25" for a '%', plus a '/' for an empty path. */
static size_t worst_case(size_t len)
{
    return len * ESCAPED_LEN + strlen(ZONE_PCT) + 2;
}

/* Writes the normalized form of u into b (see url.h). */
static void build(builder *b, const char *s, const url_parts *u)
{
    put_lower(b, s, u->scheme_len);
    put(b, "://", 3);
    put_authority(b, u->authority, u->authority_len);
    size_t path = b->len;
    put_escaped(b, u->path, u->path_len);
    b->len = path + remove_dot_segments(b->p + path, b->len - path);
    if (b->len == path)
        put(b, "/", 1);
    put_escaped(b, u->query, u->query_len);
    b->p[b->len] = '\0';
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if (url_is_control((unsigned char)*s))
            return true;
    return false;
}

/* http_url_normalize without the limit on the input's length (join's
 * input is made of two strings that may each be HTTP_URL_MAX long). */
static char *normalize(const char *s, int *code)
{
    url_parts u;
    http_url parsed;
    /* A control byte is refused even in the fragment, which is dropped:
     * a URL with one is not one the user meant. */
    if (has_control(s) || split(s, &u) != HTTP_URL_OK) {
        *code = http_url_parse(s, &parsed);
        *code = *code != HTTP_URL_OK ? *code : HTTP_URL_MALFORMED; /* cannot happen */
        return NULL;
    }
    builder b = {malloc(worst_case(strlen(s))), 0};
    if (!b.p) {
        *code = HTTP_URL_MALFORMED;    /* errno is ENOMEM */
        return NULL;
    }
    build(&b, s, &u);
    *code = b.len > HTTP_URL_MAX ? HTTP_URL_TOO_LONG : http_url_parse(b.p, &parsed);
    if (*code != HTTP_URL_OK) {
        free(b.p);
        return NULL;
    }
    char *fit = realloc(b.p, b.len + 1);   /* give back the worst case's room */
    if (fit)
        b.p = fit;
    return b.p;
}

char *http_url_normalize(const char *s, int *code)
{
    if (strlen(s) > HTTP_URL_MAX) {
        *code = HTTP_URL_TOO_LONG;
        return NULL;
    }
    return normalize(s, code);
}

/* RFC 3986 section 5.2.2 for a reference without a scheme: writes the
 * target URL, not yet normalized (dot segments in), into b. */
static void merge(builder *b, const char *base, const url_parts *u, const char *loc)
{
    if (loc[0] == '/' && loc[1] == '/') {          /* "//host/p": base's scheme */
        put(b, base, u->scheme_len + 1);
        put(b, loc, strlen(loc));
        return;
    }
    put(b, base, (size_t)(u->path - base));       /* "scheme://authority" */
    size_t loc_path = strcspn(loc, "?#");
    if (loc_path == 0) {                           /* "", "?q", "#f" */
        put(b, u->path, u->path_len);
        if (loc[0] == '?')
            put(b, loc, strcspn(loc, "#"));
        else
            put(b, u->query, u->query_len);
        return;
    }
    if (loc[0] != '/') {                           /* relative: base's directory */
        size_t dir = u->path_len;
        while (dir > 0 && u->path[dir - 1] != '/')
            dir--;
        if (dir == 0)
            put(b, "/", 1);                        /* section 5.2.3: no base path */
        else
            put(b, u->path, dir);
    }
    put(b, loc, strlen(loc));                      /* the fragment goes in normalize */
}

char *http_url_join(const char *base, const char *loc, int *code)
{
    http_url parsed;
    url_parts u;
    if ((*code = http_url_parse(base, &parsed)) != HTTP_URL_OK)
        return NULL;
    size_t loc_len = strlen(loc);
    if (loc_len > HTTP_URL_MAX || has_control(loc)) {
        /* (A control byte in a fragment would be dropped, unseen.) */
        *code = loc_len > HTTP_URL_MAX ? HTTP_URL_TOO_LONG : HTTP_URL_CONTROL_CHAR;
        return NULL;
    }
    if (url_scheme_len(loc) > 0)
        return normalize(loc, code);               /* absolute */
    if (split(base, &u) != HTTP_URL_OK) {
        *code = HTTP_URL_NO_SCHEME;                /* cannot happen: base parsed */
        return NULL;
    }
    builder b = {malloc(strlen(base) + loc_len + 2), 0};
    if (!b.p) {
        *code = HTTP_URL_MALFORMED;
        return NULL;
    }
    merge(&b, base, &u, loc);
    b.p[b.len] = '\0';
    char *joined = normalize(b.p, code);
    int saved = errno;
    free(b.p);
    errno = saved;
    return joined;
}
