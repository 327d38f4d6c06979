/* proxy.h - the client's plain-HTTP proxy: its URL as curl takes it, its
 * credentials, and the no_proxy list.  No sockets; does not suspend.
 * Internal to http/.
 */
#ifndef BAREAWAIT_PROXY_H
#define BAREAWAIT_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include <bareawait/url.h>

/* The proxy a client uses. */
typedef struct proxy {
    char *text;          /* "http://[user:pw@]host[:port]", malloc'd */
    http_url url;        /* text parsed: only host and port are used */
    char *credentials;   /* "user:password" from its userinfo, decoded,
                            malloc'd; NULL without one */
    size_t credentials_len;
} proxy;

/* Fills *p from opts.proxy's spelling: "http://host[:port]" or curl's
 * bare "host[:port]" (taken as http://), with an optional "user:pw@";
 * a path or query after the authority is ignored (the request's own
 * target is sent).  0, or -1 with errno EINVAL (another scheme, a bad
 * host or port) or ENOMEM; ba_proxy_free is due either way. */
int ba_proxy_parse(const char *spelling, proxy *p);

void ba_proxy_free(proxy *p);

/* Whether u's host is on the comma-separated no_proxy list, as curl reads
 * it: the whole value "*" is every host; a name matches itself and its
 * subdomains, case-insensitively, a leading '.' and a trailing one (on
 * the name or the host) ignored; an IP literal matches as written, or an
 * IPv4 one falls in an "a.b.c.d/bits" entry; blanks around entries are
 * ignored. */
bool ba_proxy_bypass(const char *no_proxy, const http_url *u);

#endif
