/* url.h - the "http://host:port/path?query" URLs the client fetches.
 *
 * Pure functions: no sockets, no allocation, no suspension.  Only the
 * http scheme is supported (no TLS in bareawait).
 */
#ifndef BAREAWAIT_HTTP_URL_H
#define BAREAWAIT_HTTP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes of http_url_parse. */
enum {
    HTTP_URL_OK = 0,
    HTTP_URL_MALFORMED = -1,
    HTTP_URL_UNSUPPORTED_SCHEME = -2,
    HTTP_URL_TOO_LONG = -3          /* longer than HTTP_URL_MAX bytes */
};

/* The longest URL accepted (and the longest a redirect may produce):
 * far above any real one, low enough that a hostile Location cannot make
 * the client allocate without bound. */
#define HTTP_URL_MAX (1024 * 1024)

typedef struct http_url {
    char host[256];         /* NUL-terminated; an IPv6 literal without its
                               brackets */
    bool host_is_ipv6;      /* it was [...]: the Host header needs the
                               brackets back */
    uint16_t port;          /* 80 when not given */
    bool port_given;        /* the URL named a port (even ":80"); the Host
                               header carries the port iff it is not 80 */
    const char *userinfo;   /* "user:password" before '@', still percent-
                               encoded, pointing into the parsed string (not
                               NUL-terminated); NULL if the URL had none */
    size_t userinfo_len;
    const char *target;     /* path and query, pointing into the parsed
                               string (not NUL-terminated); "/" (static)
                               if the URL had none; fragment excluded */
    size_t target_len;
} http_url;

/* Parses an absolute URL "http://host[:port][/path][?query][#fragment]"
 * into *u; u->target points into s, so s must outlive u.
 * Returns HTTP_URL_OK;
 * HTTP_URL_UNSUPPORTED_SCHEME for a well-formed scheme other than http
 * (https, ftp...; schemes compare case-insensitively, "HTTP://" is fine);
 * HTTP_URL_MALFORMED for: no "scheme://"; a space, control character or
 * DEL anywhere (which also rules out header injection through CR LF); an
 * empty or over-255-byte host; a host byte other than letters, digits,
 * '-', '.', '_'; userinfo ("user@"); a port that is empty, not digits,
 * 0 or over 65535; a bad IPv6 literal ("[::1", "[]", "[zz]", zones with
 * '%'); a query without a path ("http://h?q": the target must start with
 * '/' and, pointing into s, cannot get one added). */
int http_url_parse(const char *s, http_url *u);

/* A human message for a return code of http_url_parse (static string). */
const char *http_url_strerror(int code);

/* Resolves a redirect's Location `loc` against `base` (a URL that
 * http_url_parse accepted) into out[0..size), NUL-terminated:
 *   "scheme:..."  absolute, copied as is;
 *   "//host/p"    gets base's scheme;
 *   "/p"          replaces base's path and query;
 *   "?q"          replaces base's query, adding the path "/" if base had
 *                 none ("#f" likewise replaces the fragment);
 *   anything else is relative to base's directory ("a/b" against
 *   "http://h/x/y" is "http://h/x/a/b").
 * Simple on purpose: "." and ".." segments are sent as they are, not
 * removed as RFC 3986 section 5.2.4 would; most servers resolve them, and
 * redirects that use them are rare.
 * Returns 0, or -1 if loc is empty or has a space or control character,
 * base has no "://", or out is too small. */
int http_url_resolve(const char *base, const char *loc, char *out, size_t size);

/* Normalizes an absolute URL the way curl and RFC 3986 do before it is
 * sent: bytes >= 0x80 and spaces are percent-encoded, "." and ".."
 * segments are removed from the path, an empty path before a query
 * becomes "/"; the fragment is dropped.  Returns a malloc'd string that
 * http_url_parse accepts, or NULL with *code set (an HTTP_URL_* code, or
 * HTTP_URL_MALFORMED with errno = ENOMEM when out of memory). */
char *http_url_normalize(const char *s, int *code);

/* Resolves a redirect's Location `loc` against `base` (a URL that
 * http_url_parse accepted) as RFC 3986 section 5.2 does, dot segments
 * included, and normalizes the result (http_url_normalize).  Returns a
 * malloc'd absolute URL, or NULL with *code set. */
char *http_url_join(const char *base, const char *loc, int *code);

/* Writes the Host header value for u into out[0..size), NUL-terminated:
 * "example.com", "example.com:8080", "[::1]:8080".  Returns its length,
 * or -1 if it does not fit (out is then "", if size > 0). */
int http_url_host_header(const http_url *u, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
