/* url.h - the "http://host:port/path?query" URLs the client fetches.
 *
 * Pure functions: no sockets, no suspension; only http_url_normalize and
 * http_url_join allocate (the string they return).  Only the http scheme
 * is supported (no TLS in bareawait).
 */
#ifndef BAREAWAIT_HTTP_URL_H
#define BAREAWAIT_HTTP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes of http_url_parse, http_url_normalize and http_url_join.
 * Each has its own message (http_url_strerror); a caller that only needs
 * "bad URL or not" tests for != HTTP_URL_OK. */
enum {
    HTTP_URL_OK = 0,
    HTTP_URL_MALFORMED = -1,         /* generic; from http_url_normalize and
                                        http_url_join: out of memory (errno
                                        ENOMEM) */
    HTTP_URL_UNSUPPORTED_SCHEME = -2, /* a scheme other than http: https, ftp */
    HTTP_URL_TOO_LONG = -3,          /* longer than HTTP_URL_MAX bytes */
    HTTP_URL_NO_SCHEME = -4,         /* no "scheme://" at the start:
                                        "localhost:8080", "mailto:a@b", "" */
    HTTP_URL_BAD_HOST = -5,          /* host empty, over 255 bytes, or with a
                                        byte other than letters, digits, '-',
                                        '.', '_' ("http://h!/", "http:///p") */
    HTTP_URL_BAD_IPV6 = -6,          /* "[...]" is not an IPv6 address with an
                                        optional zone: "[::1", "[zz]", "[]" */
    HTTP_URL_BAD_PORT = -7,          /* port empty, not digits, 0 or over
                                        65535, or junk after "[...]" */
    HTTP_URL_CONTROL_CHAR = -8,      /* a control byte or DEL (CR, LF, TAB,
                                        NUL...): never sent, so no header
                                        injection through a URL */
    HTTP_URL_SPACE = -9,             /* a space (http_url_normalize encodes
                                        spaces in the path and query) */
    HTTP_URL_NO_PATH = -10           /* a query without a path, "http://h?q"
                                        (http_url_normalize adds the '/') */
};

/* The longest URL accepted (and the longest a redirect may produce):
 * far above any real one, low enough that a hostile Location cannot make
 * the client allocate without bound. */
#define HTTP_URL_MAX ((size_t)1024 * 1024)

typedef struct http_url {
    char host[256];         /* NUL-terminated; an IPv6 literal without its
                               brackets, with its zone after a '%' as
                               getaddrinfo takes it ("fe80::1%eth0") */
    bool host_is_ipv6;      /* it was [...]: the Host header needs the
                               brackets back (and leaves the zone out) */
    uint16_t port;          /* 80 when not given */
    bool port_given;        /* the URL named a port (even ":80"); the Host
                               header carries the port iff it is not 80 */
    const char *userinfo;   /* "user:password" before the last '@' of the
                               authority, still percent-encoded, pointing
                               into the parsed string (not NUL-terminated;
                               may be empty, "http://@h/"); NULL if the URL
                               had no '@' */
    size_t userinfo_len;
    const char *target;     /* path and query, pointing into the parsed
                               string (not NUL-terminated); "/" (static)
                               if the URL had none; fragment excluded */
    size_t target_len;
} http_url;

/* Parses an absolute URL
 * "http://[userinfo@]host[:port][/path][?query][#fragment]" into *u;
 * u->target and u->userinfo point into s, so s must outlive u.  Nothing
 * is decoded or rewritten: bytes >= 0x80 in the path and query are
 * accepted as they are (http_url_normalize encodes them).
 * Returns HTTP_URL_OK, or (checked in this order):
 *   HTTP_URL_TOO_LONG      s is longer than HTTP_URL_MAX;
 *   HTTP_URL_CONTROL_CHAR  a control byte or DEL anywhere;
 *   HTTP_URL_SPACE         a space anywhere;
 *   HTTP_URL_NO_SCHEME     s does not start with "scheme://";
 *   HTTP_URL_UNSUPPORTED_SCHEME  a scheme other than http (compared
 *                          case-insensitively: "HTTP://" is fine);
 *   HTTP_URL_BAD_HOST      the host is empty, over 255 bytes, or has a
 *                          byte other than letters, digits, '-', '.', '_'
 *                          (no IDNA: "caf\xc3\xa9.example" is refused);
 *   HTTP_URL_BAD_IPV6      "[...]" is not inet_pton's IPv6 address, then
 *                          an optional zone (RFC 6874 "%25eth0", or curl's
 *                          lenient "%eth0") of letters, digits, '-', '.',
 *                          '_', '~';
 *   HTTP_URL_BAD_PORT      a port that is empty, not digits, 0 or over
 *                          65535 ("h:", "h:8x", "[::1]x");
 *   HTTP_URL_NO_PATH       a query without a path ("http://h?q": the
 *                          target points into s and cannot get a '/'). */
int http_url_parse(const char *s, http_url *u);

/* A human message for any HTTP_URL_* code (a static string; "unknown URL
 * error" for other values). */
const char *http_url_strerror(int code);

/* Normalizes an absolute URL the way curl and RFC 3986 section 6 do
 * before it is sent: the scheme and host are lower-cased (not the
 * userinfo, port or an IPv6 zone); spaces and bytes >= 0x80 in the
 * userinfo, path and query are percent-encoded ("%20", "%C3%A9"); "." and
 * ".." segments are removed from the path (RFC 3986 section 5.2.4: ".."
 * above the root stays at the root, "/a/../../b" is "/b"); an empty path
 * becomes "/" ("http://h?q" is "http://h/?q"); the fragment is dropped;
 * a zone written "%eth0" becomes "%25eth0".  Existing "%XX" escapes are
 * kept as they are (never decoded, so "%2e" is not a dot segment).
 * Returns a malloc'd string (the caller frees it) that http_url_parse
 * accepts and that normalizes to itself; or NULL with *code set:
 * HTTP_URL_TOO_LONG if s or the result is longer than HTTP_URL_MAX,
 * http_url_parse's code if the result does not parse (control byte, bad
 * host or port, another scheme...), HTTP_URL_MALFORMED with errno ENOMEM
 * when out of memory.  *code is HTTP_URL_OK on success. */
char *http_url_normalize(const char *s, int *code);

/* Resolves a reference `loc` (a redirect's Location) against `base` (a
 * URL that http_url_parse accepts) as RFC 3986 section 5.2 does:
 *   "http://other/p"  absolute: itself ("https://..." is refused:
 *                     HTTP_URL_UNSUPPORTED_SCHEME);
 *   "//host/p"        another authority, base's scheme;
 *   "/p?q"            base's authority, this path and query;
 *   "?q"              base's path, this query;
 *   "#f", ""          base itself (the fragment is dropped);
 *   "a/b", "../x"     merged with base's directory, dot segments removed;
 * then normalized (http_url_normalize: spaces and bytes >= 0x80 encoded,
 * so a Location with raw UTF-8 or spaces works as in curl).
 * Returns a malloc'd absolute URL, or NULL with *code set: base's parse
 * code if base does not parse, HTTP_URL_TOO_LONG if base, loc or the
 * result is longer than HTTP_URL_MAX, else as http_url_normalize. */
char *http_url_join(const char *base, const char *loc, int *code);

/* Writes the Host header value for u into out[0..size), NUL-terminated:
 * "example.com", "example.com:8080", "[::1]:8080"; an IPv6 zone is left
 * out ("[fe80::1]:8080": it means something only to this machine).  Returns its length,
 * or -1 if it does not fit (out is then "", if size > 0). */
int http_url_host_header(const http_url *u, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
