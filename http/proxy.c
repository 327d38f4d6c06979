/* proxy.c - the proxy's URL and the no_proxy list, curl's way.
 *
 * Simple on purpose: no_proxy is scanned for every request that could go
 * through the proxy; lists are short, and parsing it once into a table
 * would be the faster version.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "message.h"
#include "proxy.h"

#define IPV4_BITS 32

int ba_proxy_parse(const char *spelling, proxy *p)
{
    *p = (proxy){0};
    bool bare = strstr(spelling, "://") == NULL; /* curl's "host:port" */
    size_t n = strlen(spelling);
    if (!(p->text = malloc(n + sizeof "http://"))) {
        errno = ENOMEM;
        return -1;
    }
    size_t scheme = bare ? sizeof "http://" - 1 : 0;
    memcpy(p->text, "http://", scheme);
    memcpy(p->text + scheme, spelling, n + 1);
    if (http_url_parse(p->text, &p->url) != HTTP_URL_OK) {
        errno = EINVAL;
        return -1;
    }
    if (!p->url.userinfo)
        return 0;
    p->credentials = ba_credentials(p->url.userinfo, p->url.userinfo_len, true,
                                    &p->credentials_len);
    if (!p->credentials) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void ba_proxy_free(proxy *p)
{
    free(p->text);
    free(p->credentials);
    *p = (proxy){0};
}

static bool is_ipv4(const char *host, struct in_addr *a)
{
    return inet_pton(AF_INET, host, a) == 1;
}

/* Whether IPv4 host is inside entry[0..n) written "a.b.c.d/bits". */
static bool in_cidr(const char *host, const char *entry, size_t n)
{
    const char *slash = memchr(entry, '/', n);
    char addr[INET_ADDRSTRLEN];
    size_t alen = slash ? (size_t)(slash - entry) : 0;
    if (!slash || alen >= sizeof addr)
        return false;
    memcpy(addr, entry, alen);
    addr[alen] = '\0';
    unsigned bits = 0;
    size_t digits = n - alen - 1;
    if (digits == 0 || digits > 2)
        return false;
    for (const char *d = slash + 1; d < entry + n; d++) {
        if (*d < '0' || *d > '9')
            return false;
        bits = bits * 10 + (unsigned)(*d - '0');
    }
    struct in_addr net, h;
    if (bits > IPV4_BITS || !is_ipv4(addr, &net) || !is_ipv4(host, &h))
        return false;
    uint32_t mask = bits ? UINT32_MAX << (IPV4_BITS - bits) : 0;
    return (ntohl(net.s_addr) & mask) == (ntohl(h.s_addr) & mask);
}

/* Whether host[0..hlen) matches the name or literal entry[0..n). */
static bool matches(const char *host, size_t hlen, bool literal, const char *entry,
                    size_t n)
{
    if (n > 0 && entry[0] == '.') { /* ".example.com" = "example.com" */
        entry++;
        n--;
    }
    if (n > 0 && entry[n - 1] == '.')
        n--;
    if (n == 0 || n > hlen || strncasecmp(host + hlen - n, entry, n) != 0)
        return false;
    return n == hlen || (!literal && host[hlen - n - 1] == '.');
}

bool ba_proxy_bypass(const char *list, const http_url *u)
{
    size_t skip = strspn(list, " \t");
    size_t whole = strlen(list + skip);
    while (whole > 0 && (list[skip + whole - 1] == ' ' || list[skip + whole - 1] == '\t'))
        whole--;
    if (whole == 1 && list[skip] == '*')
        return true;
    struct in_addr a;
    bool literal = u->host_is_ipv6 || is_ipv4(u->host, &a);
    size_t hlen = strlen(u->host);
    if (hlen > 0 && u->host[hlen - 1] == '.') /* "localhost." is localhost */
        hlen--;
    for (const char *p = list; *p;) {
        p += strspn(p, " \t,");
        const char *entry = p;
        size_t n = strcspn(p, ",");
        p += n;
        while (n > 0 && (entry[n - 1] == ' ' || entry[n - 1] == '\t'))
            n--;
        if (matches(u->host, hlen, literal, entry, n) ||
            (!u->host_is_ipv6 && literal && in_cidr(u->host, entry, n)))
            return true;
    }
    return false;
}
