/* url.c - parsing http:// URLs, resolving redirects, the Host header.
 *
 * Simple on purpose: a hand-written scan for the one scheme we speak, not
 * a general RFC 3986 parser.  No percent-decoding (the target is sent as
 * written), no IDNA, and IPv4 literals are checked only for their
 * characters: "999.1.1.1" passes here and fails in getaddrinfo.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <bareawait/url.h>

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Space, control characters and DEL: never inside a URL we send. */
static bool is_forbidden(unsigned char c)
{
    return c <= 0x20 || c == 0x7f;
}

static bool has_forbidden(const char *s)
{
    for (; *s; s++)
        if (is_forbidden((unsigned char)*s))
            return true;
    return false;
}

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool ascii_ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    return true;
}

/* Length of the scheme that starts s (RFC 3986: ALPHA *( ALPHA / DIGIT /
 * "+" / "-" / "." ) followed by ':'), or 0 if s does not start with one. */
static size_t scheme_len(const char *s)
{
    size_t i = 0;
    if (!is_alpha((unsigned char)s[0]))
        return 0;
    while (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
           s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' ? i : 0;
}

/* The bytes of a host name or IPv4 literal.  (IPv6 literals are left to
 * inet_pton, which takes hex digits, ':' and a dotted IPv4 tail, and
 * refuses zones such as "%25eth0".) */
static bool is_host_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

/* Copies the host at the start of the authority p..end into u->host.
 * Returns where the host ends (at the ':' of a port, or end), or NULL if
 * it is malformed. */
static const char *parse_host(const char *p, const char *end, http_url *u)
{
    const char *start = p, *stop, *after;
    u->host_is_ipv6 = *p == '[';
    if (u->host_is_ipv6) {
        start = p + 1;
        stop = memchr(start, ']', (size_t)(end - start));
        if (!stop)
            return NULL;               /* "[::1" */
        after = stop + 1;
    } else {
        stop = memchr(p, ':', (size_t)(end - p));
        if (!stop)
            stop = end;
        after = stop;
    }
    size_t len = (size_t)(stop - start);
    if (len == 0 || len >= sizeof u->host)
        return NULL;
    memcpy(u->host, start, len);
    u->host[len] = '\0';
    if (u->host_is_ipv6) {
        struct in6_addr addr;
        return inet_pton(AF_INET6, u->host, &addr) == 1 ? after : NULL;
    }
    for (size_t i = 0; i < len; i++)
        if (!is_host_char((unsigned char)start[i]))
            return NULL;               /* "h%41", "h!" */
    return after;
}

/* Parses what follows the host: nothing, or ":port".  0, or -1. */
static int parse_port(const char *p, const char *end, http_url *u)
{
    unsigned long port = 0;
    u->port = 80;
    u->port_given = p < end;
    if (p == end)
        return 0;
    if (*p++ != ':' || p == end)
        return -1;                     /* "[::1]x", "h:" */
    for (; p < end; p++) {
        if (!is_digit((unsigned char)*p))
            return -1;
        port = port * 10 + (unsigned long)(*p - '0');
        if (port > 65535)
            return -1;
    }
    if (port == 0)
        return -1;
    u->port = (uint16_t)port;
    return 0;
}

int http_url_parse(const char *s, http_url *u)
{
    if (has_forbidden(s))
        return HTTP_URL_MALFORMED;
    size_t n = scheme_len(s);
    if (n == 0 || strncmp(s + n, "://", 3) != 0)
        return HTTP_URL_MALFORMED;     /* "localhost", "mailto:x" */
    if (n != 4 || !ascii_ieq(s, "http", 4))
        return HTTP_URL_UNSUPPORTED_SCHEME;

    const char *authority = s + n + 3;
    const char *end = authority + strcspn(authority, "/?#");
    if (authority == end || memchr(authority, '@', (size_t)(end - authority)))
        return HTTP_URL_MALFORMED;     /* "http://", "http://user@h/" */
    const char *port = parse_host(authority, end, u);
    if (!port || parse_port(port, end, u) < 0)
        return HTTP_URL_MALFORMED;

    if (*end == '?')
        return HTTP_URL_MALFORMED;     /* a query with no path: see url.h */
    size_t len = strcspn(end, "#");
    u->target = len > 0 ? end : "/";
    u->target_len = len > 0 ? len : 1;
    return HTTP_URL_OK;
}

const char *http_url_strerror(int code)
{
    switch (code) {
    case HTTP_URL_OK:
        return "no error";
    case HTTP_URL_MALFORMED:
        return "malformed URL (expected http://host[:port][/path])";
    case HTTP_URL_UNSUPPORTED_SCHEME:
        return "unsupported URL scheme (only http:// is supported)";
    }
    return "unknown URL error";
}

/* out = base[0..keep) + glue + loc.  0, or -1 if it does not fit. */
static int join(char *out, size_t size, const char *base, size_t keep,
                const char *glue, const char *loc)
{
    size_t glue_len = strlen(glue), loc_len = strlen(loc);
    if (keep + glue_len + loc_len >= size)
        return -1;
    memcpy(out, base, keep);
    memcpy(out + keep, glue, glue_len);
    memcpy(out + keep + glue_len, loc, loc_len + 1);
    return 0;
}

int http_url_resolve(const char *base, const char *loc, char *out, size_t size)
{
    const char *sep = strstr(base, "://");
    if (loc[0] == '\0' || has_forbidden(loc) || !sep)
        return -1;
    /* base = scheme "://" authority [path] ["?" query] ["#" fragment] */
    size_t scheme_end = (size_t)(sep - base);
    size_t path_start = scheme_end + 3 + strcspn(sep + 3, "/?#");
    size_t path_end = path_start + strcspn(base + path_start, "?#");
    size_t keep;                       /* how much of base survives */
    const char *glue = "";             /* what goes between it and loc */

    if (scheme_len(loc) > 0)
        keep = 0;                                      /* "http://other/" */
    else if (loc[0] == '/' && loc[1] == '/')
        keep = scheme_end + 1;                         /* keep "http:" */
    else if (loc[0] == '/')
        keep = path_start;
    else if (loc[0] == '?') {
        keep = path_end;
        if (path_end == path_start)
            glue = "/";                /* "http://h" + "?q": the target needs a path */
    } else if (loc[0] == '#')
        keep = path_start + strcspn(base + path_start, "#");
    else {
        /* Relative: keep base's directory, up to its last '/'. */
        keep = path_end;
        while (keep > path_start && base[keep - 1] != '/')
            keep--;
        if (keep == path_start)
            glue = "/";                /* base had no path at all */
    }
    return join(out, size, base, keep, glue, loc);
}

int http_url_host_header(const http_url *u, char *out, size_t size)
{
    /* By hand, not snprintf: this runs for every request. */
    char port[8] = "";
    size_t plen = 0;
    if (u->port != 80) {
        char digits[5];
        int d = 0;
        unsigned p = u->port;
        do
            digits[d++] = (char)('0' + p % 10);
        while ((p /= 10) != 0);
        port[plen++] = ':';
        while (d > 0)
            port[plen++] = digits[--d];
    }
    size_t hlen = strlen(u->host), br = u->host_is_ipv6 ? 1 : 0;
    size_t n = br + hlen + br + plen;
    if (n >= size) {
        if (size > 0)
            out[0] = '\0';
        return -1;
    }
    char *o = out;
    if (br)
        *o++ = '[';
    memcpy(o, u->host, hlen);
    o += hlen;
    if (br)
        *o++ = ']';
    memcpy(o, port, plen);
    o[plen] = '\0';
    return (int)n;
}
