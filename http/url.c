/* url.c - parsing http:// URLs and the Host header (normalizing and
 * resolving a redirect against its base, RFC 3986, are in url_join.c).
 *
 * Simple on purpose: a hand-written scan for the one scheme we speak, not
 * a general RFC 3986 parser.  No percent-decoding (the target is sent as
 * written), no IDNA, and IPv4 literals are checked only for their
 * characters: "999.1.1.1" passes here and fails in getaddrinfo.
 */
#include <arpa/inet.h>
#include <string.h>

#include <bareawait/url.h>
#include "chars.h"
#include "url_chars.h"


/* The checks that look at every byte: the length, control bytes, spaces
 * (in url.h's order).  One pass, bounded by HTTP_URL_MAX. */
static int check_bytes(const char *s)
{
    bool control = false, space = false;
    for (size_t i = 0; s[i]; i++) {
        if (i == HTTP_URL_MAX)
            return HTTP_URL_TOO_LONG;
        control |= url_is_control((unsigned char)s[i]);
        space |= s[i] == ' ';
    }
    return control ? HTTP_URL_CONTROL_CHAR : space ? HTTP_URL_SPACE : HTTP_URL_OK;
}

/* The bytes of a host name or IPv4 literal. */
static bool is_host_char(unsigned char c)
{
    return url_is_alpha(c) || url_is_digit(c) || c == '-' || c == '.' || c == '_';
}

/* RFC 6874's ZoneID: unreserved bytes (pct-encoded ones are not taken:
 * interface names and numbers never need them). */
static bool is_zone_char(unsigned char c)
{
    return is_host_char(c) || c == '~';
}

/* Splits "user:pass@" off the authority p..end: u->userinfo is what comes
 * before its last '@' (a raw '@' in a password still finds the host).
 * Returns where the host starts. */
static const char *parse_userinfo(const char *p, const char *end, http_url *u)
{
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q;
    u->userinfo = at ? p : NULL;
    u->userinfo_len = at ? (size_t)(at - p) : 0;
    return at ? at + 1 : p;
}

/* Appends "%zone" to the address in out[0..room) from the bytes between
 * '%' and ']'.  The zone's '%' may itself be encoded, "%25eth0" (RFC
 * 6874), or not, "%eth0" (what people type, and curl takes); "%25" alone
 * is zone "25".  HTTP_URL_OK or HTTP_URL_BAD_IPV6. */
static int copy_zone(const char *z, const char *close, char *out, size_t room)
{
    if (url_zone_encoded(z, (size_t)(close - z)))
        z += 2;
    size_t len = (size_t)(close - z);
    if (len == 0 || len + 2 > room)
        return HTTP_URL_BAD_IPV6;      /* "[fe80::1%]", or no room for '%' zone NUL */
    for (size_t i = 0; i < len; i++)
        if (!is_zone_char((unsigned char)z[i]))
            return HTTP_URL_BAD_IPV6;
    out[0] = '%';
    memcpy(out + 1, z, len);
    out[len + 1] = '\0';
    return HTTP_URL_OK;
}

/* "[address%zone]" at p (the '['): u->host gets "address%zone" as
 * getaddrinfo takes it.  Sets *after past the ']'. */
static int parse_ipv6(const char *p, const char *end, http_url *u, const char **after)
{
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (!close)
        return HTTP_URL_BAD_IPV6;      /* "[::1" */
    const char *addr = p + 1;
    const char *pct = memchr(addr, '%', (size_t)(close - addr));
    size_t len = (size_t)((pct ? pct : close) - addr);
    if (len == 0 || len >= INET6_ADDRSTRLEN)
        return HTTP_URL_BAD_IPV6;      /* "[]" */
    memcpy(u->host, addr, len);
    u->host[len] = '\0';
    struct in6_addr bin;
    if (inet_pton(AF_INET6, u->host, &bin) != 1)
        return HTTP_URL_BAD_IPV6;      /* "[zz]", "[1:2]", "[h]" */
    *after = close + 1;
    return pct ? copy_zone(pct + 1, close, u->host + len, sizeof u->host - len)
               : HTTP_URL_OK;
}

/* Copies the host at p..end (an authority without its userinfo) into
 * u->host.  Sets *after where the host ends (at the ':' of a port, or
 * end).  HTTP_URL_OK or a code. */
static int parse_host(const char *p, const char *end, http_url *u, const char **after)
{
    u->host_is_ipv6 = p < end && *p == '[';
    if (u->host_is_ipv6)
        return parse_ipv6(p, end, u, after);
    const char *stop = memchr(p, ':', (size_t)(end - p));
    if (!stop)
        stop = end;
    size_t len = (size_t)(stop - p);
    if (len == 0 || len >= sizeof u->host)
        return HTTP_URL_BAD_HOST;      /* "http://", "http://:80/", 256 bytes */
    for (size_t i = 0; i < len; i++)
        if (!is_host_char((unsigned char)p[i]))
            return HTTP_URL_BAD_HOST;  /* "h%41", "h!" */
    memcpy(u->host, p, len);
    u->host[len] = '\0';
    *after = stop;
    return HTTP_URL_OK;
}

/* Parses what follows the host: nothing, or ":port". */
static int parse_port(const char *p, const char *end, http_url *u)
{
    unsigned long port = 0;
    u->port = 80;
    u->port_given = p < end;
    if (p == end)
        return HTTP_URL_OK;
    if (*p++ != ':' || p == end)
        return HTTP_URL_BAD_PORT;      /* "[::1]x", "h:" */
    for (; p < end; p++) {
        if (!url_is_digit((unsigned char)*p))
            return HTTP_URL_BAD_PORT;
        port = port * 10 + (unsigned long)(*p - '0');
        if (port > 65535)
            return HTTP_URL_BAD_PORT;
    }
    if (port == 0)
        return HTTP_URL_BAD_PORT;
    u->port = (uint16_t)port;
    return HTTP_URL_OK;
}

int http_url_parse(const char *s, http_url *u)
{
    int code = check_bytes(s);
    if (code != HTTP_URL_OK)
        return code;
    size_t n = url_scheme_len(s);
    if (n == 0 || strncmp(s + n, "://", 3) != 0)
        return HTTP_URL_NO_SCHEME;     /* "localhost", "mailto:x" */
    if (n != 4 || !ba_ieq(s, "http", 4))
        return HTTP_URL_UNSUPPORTED_SCHEME;

    const char *authority = s + n + 3;
    const char *end = authority + strcspn(authority, "/?#");
    const char *host = parse_userinfo(authority, end, u), *port = NULL;
    if ((code = parse_host(host, end, u, &port)) != HTTP_URL_OK ||
        (code = parse_port(port, end, u)) != HTTP_URL_OK)
        return code;
    if (*end == '?')
        return HTTP_URL_NO_PATH;       /* see url.h */
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
    case HTTP_URL_TOO_LONG:
        return "URL too long (over 1 MiB)";
    case HTTP_URL_NO_SCHEME:
        return "not an absolute URL: no scheme (expected http://host[:port][/path])";
    case HTTP_URL_BAD_HOST:
        return "bad host name in URL (empty, over 255 bytes, or not letters, digits, '-', '.', '_')";
    case HTTP_URL_BAD_IPV6:
        return "bad IPv6 address in URL (expected [address] or [address%25zone])";
    case HTTP_URL_BAD_PORT:
        return "bad port number in URL (expected 1 to 65535)";
    case HTTP_URL_CONTROL_CHAR:
        return "control character in URL (CR, LF, TAB, NUL or DEL)";
    case HTTP_URL_SPACE:
        return "space in URL (percent-encode it as %20)";
    case HTTP_URL_NO_PATH:
        return "query without a path in URL (expected http://host/?query)";
    }
    return "unknown URL error";
}

int http_url_host_header(const http_url *u, char *out, size_t size)
{
    /* By hand, not snprintf: this runs for every request. */
    char port[1 + BA_PORT_DIGITS];
    size_t plen = 0;
    if (u->port != 80) {
        port[plen++] = ':';
        plen += ba_put_port(port + plen, u->port);
    }
    size_t br = u->host_is_ipv6 ? 1 : 0;
    size_t hlen = br ? strcspn(u->host, "%") : strlen(u->host); /* no zone */
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
