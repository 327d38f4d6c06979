/* fuzz_url.c - URL parsing, normalizing, joining and the Host header
 * (http/url.h).
 *
 * Input: byte 0 picks the size of the Host header's output buffer (bit 7
 * set: a small size, bits 0-6; clear: 4096), then a URL up to the first
 * NUL byte, then a redirect's Location up to the next NUL or the end.
 * Each string gets an exact-size heap copy and the buffer exactly its
 * size, so a byte read or written past either is caught.
 *
 * Invariants, beyond memory safety:
 *   - every code returned is a documented one, with a message;
 *   - a URL that parses has a sane host, port, userinfo and target
 *     (pointing into the URL, starting with '/', no fragment, no
 *     forbidden byte); its Host header fits in the 300 bytes message.c
 *     gives it, and "http://" + Host + target parses back to the same
 *     host (less its zone), port and target;
 *   - http_url_normalize and http_url_join return a URL, or NULL and a
 *     code (never both, never neither); what they return parses, has no
 *     space, control byte or byte >= 0x80, is at most HTTP_URL_MAX long,
 *     and normalizes to itself;
 *   - a URL that parses normalizes (unless too long) to the same host,
 *     ignoring case, and port; joining "" or "#..." to it gives the same
 *     as normalizing it;
 *   - joining to a URL that does not parse fails with its parse code; to
 *     one that parses: a Location with a control byte (even in its
 *     fragment) is refused; an absolute one gives what normalizing it
 *     gives; a relative one (no scheme, not "//host") gives a URL, unless
 *     too long, on the base's host (ignoring case) and port, and a "/p"
 *     the target that "http://h/p" normalizes to;
 *   - a Host header written into a smaller buffer is the same string, or
 *     -1 and "" exactly when it does not fit.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include <bareawait/url.h>

#define HOST_HEADER_ROOM 300 /* message.c's buffer for the Host header */
#define BIG 4096

static char *copy_string(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    FZ_CHECK(s != NULL);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static bool forbidden(unsigned char c)
{
    return c <= 0x20 || c == 0x7f;
}

static bool alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Does s start with "scheme:" (RFC 3986)? */
static bool has_scheme(const char *s)
{
    size_t i = 0;
    if (!alpha((unsigned char)s[0]))
        return false;
    while (alpha((unsigned char)s[i]) || (s[i] >= '0' && s[i] <= '9') ||
           s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':';
}

static void check_code(int code)
{
    FZ_CHECK(code <= HTTP_URL_OK && code >= HTTP_URL_NO_PATH);
    FZ_CHECK(strstr(http_url_strerror(code), "unknown") == NULL);
}

static void check_parsed(const char *s, const http_url *u)
{
    if (u->userinfo) {
        FZ_CHECK(u->userinfo >= s && u->userinfo + u->userinfo_len <= s + strlen(s));
        FZ_CHECK(u->userinfo[u->userinfo_len] == '@');
        FZ_CHECK(strcspn(u->userinfo, "/?#") >= u->userinfo_len);
    } else {
        FZ_EQ(u->userinfo_len, 0);
    }
    size_t host_len = strlen(u->host);
    FZ_CHECK(host_len > 0 && host_len < sizeof u->host);
    for (size_t i = 0; i < host_len; i++)
        FZ_CHECK(!forbidden((unsigned char)u->host[i]) && u->host[i] != '/' &&
                 u->host[i] != '@' && u->host[i] != '#' && u->host[i] != '?');
    FZ_CHECK(u->port != 0);
    if (!u->port_given)
        FZ_EQ(u->port, 80);
    FZ_CHECK(u->target_len >= 1 && u->target[0] == '/');
    bool in_s = u->target >= s && u->target + u->target_len <= s + strlen(s);
    FZ_CHECK(in_s || (u->target_len == 1 && strcmp(u->target, "/") == 0));
    for (size_t i = 0; i < u->target_len; i++)
        FZ_CHECK(!forbidden((unsigned char)u->target[i]) && u->target[i] != '#');
}

/* Parses "http://" + Host header + target and compares with u. */
static void check_round_trip(const http_url *u, const char *host_header)
{
    size_t n = 7 + strlen(host_header) + u->target_len;
    char *again = malloc(n + 1);
    FZ_CHECK(again != NULL);
    snprintf(again, n + 1, "http://%s%.*s", host_header, (int)u->target_len, u->target);
    http_url v;
    FZ_EQ(http_url_parse(again, &v), HTTP_URL_OK);
    size_t host_len = strcspn(u->host, "%");    /* the Host header has no zone */
    FZ_CHECK(strlen(v.host) == host_len && memcmp(v.host, u->host, host_len) == 0);
    FZ_EQ(v.host_is_ipv6, u->host_is_ipv6);
    FZ_EQ(v.port, u->port);
    FZ_EQ(v.target_len, u->target_len);
    FZ_CHECK(memcmp(v.target, u->target, u->target_len) == 0);
    free(again);
}

static void check_host_header(const http_url *u, size_t small)
{
    char room[HOST_HEADER_ROOM];
    int n = http_url_host_header(u, room, sizeof room);
    FZ_CHECK(n > 0 && (size_t)n == strlen(room)); /* it always fits */
    check_round_trip(u, room);

    char *out = malloc(small ? small : 1);
    FZ_CHECK(out != NULL);
    int m = http_url_host_header(u, out, small);
    if ((size_t)n < small) {
        FZ_EQ(m, n);
        FZ_CHECK(strcmp(out, room) == 0);
    } else {
        FZ_EQ(m, -1);
        if (small > 0)
            FZ_EQ(out[0], '\0');
    }
    free(out);
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if (forbidden((unsigned char)*s) && *s != ' ')
            return true;
    return false;
}

/* What http_url_normalize and http_url_join return: a URL or a code. */
static void check_normalized(const char *n, int code)
{
    check_code(code);
    FZ_CHECK((n != NULL) == (code == HTTP_URL_OK));
    if (!n)
        return;
    size_t len = strlen(n);
    FZ_CHECK(len <= HTTP_URL_MAX);
    for (size_t i = 0; i < len; i++)
        FZ_CHECK(!forbidden((unsigned char)n[i]) && (unsigned char)n[i] < 0x80);
    http_url u;
    FZ_EQ(http_url_parse(n, &u), HTTP_URL_OK);
    FZ_CHECK(memchr(n, '#', len) == NULL);
    int again_code = -100;
    char *again = http_url_normalize(n, &again_code);
    FZ_EQ(again_code, HTTP_URL_OK);
    FZ_CHECK(again && strcmp(again, n) == 0);
    free(again);
}

/* The same host (ignoring case) and port as the URL it came from. */
static void check_same_origin(const http_url *u, const char *n)
{
    http_url v;
    FZ_EQ(http_url_parse(n, &v), HTTP_URL_OK);
    FZ_CHECK(strcasecmp(u->host, v.host) == 0);
    FZ_EQ(u->port, v.port);
    FZ_EQ(u->host_is_ipv6, v.host_is_ipv6);
}

/* A Location "/p" replaces base's path and query: the target is the one
 * "http://h/p" normalizes to (never longer than the join, which cannot
 * have a shorter authority). */
static void check_absolute_path(const char *joined, const char *loc)
{
    size_t n = strlen(loc);
    char *alone = malloc(sizeof "http://h" + n);
    FZ_CHECK(alone != NULL);
    memcpy(alone, "http://h", sizeof "http://h" - 1);
    memcpy(alone + sizeof "http://h" - 1, loc, n + 1);
    int code = -100;
    char *want = http_url_normalize(alone, &code);
    FZ_EQ(code, HTTP_URL_OK);
    http_url j, w;
    FZ_EQ(http_url_parse(joined, &j), HTTP_URL_OK);
    FZ_EQ(http_url_parse(want, &w), HTTP_URL_OK);
    FZ_EQ(j.target_len, w.target_len);
    FZ_CHECK(memcmp(j.target, w.target, j.target_len) == 0);
    free(want);
    free(alone);
}

/* loc joined to a base that parses, by the kind of reference it is. */
static void check_join_kind(const http_url *base, const char *loc, const char *j, int code)
{
    if (strlen(loc) > HTTP_URL_MAX) {
        FZ_EQ(code, HTTP_URL_TOO_LONG);
        return;
    }
    if (has_control(loc)) {                       /* even in the fragment */
        FZ_EQ(code, HTTP_URL_CONTROL_CHAR);
        return;
    }
    if (has_scheme(loc)) {                        /* absolute: loc normalized */
        int ncode = -100;
        char *n = http_url_normalize(loc, &ncode);
        FZ_EQ(code, ncode);
        FZ_CHECK(j ? n && strcmp(j, n) == 0 : n == NULL);
        free(n);
        return;
    }
    if (loc[0] == '/' && loc[1] == '/')
        return;                                   /* another authority */
    /* Relative: it works (unless the result is too long), and keeps the
     * base's host and port. */
    FZ_CHECK(j != NULL || code == HTTP_URL_TOO_LONG);
    if (!j)
        return;
    check_same_origin(base, j);
    if (loc[0] == '/')
        check_absolute_path(j, loc);
}

/* parsed: url parsed (else NULL, and parse_code says why). */
static void check_normalize_join(const char *url, const http_url *parsed, int parse_code,
                                 const char *loc)
{
    int code = -100;
    char *n = http_url_normalize(url, &code);
    check_normalized(n, code);
    if (parsed && code != HTTP_URL_TOO_LONG) {
        FZ_EQ(code, HTTP_URL_OK);
        check_same_origin(parsed, n);
    }
    int jcode = -100;
    char *j = http_url_join(url, loc, &jcode);
    check_normalized(j, jcode);
    if (!parsed)
        FZ_EQ(jcode, parse_code);                 /* base's code */
    if (parsed && (loc[0] == '\0' || loc[0] == '#') && code == HTTP_URL_OK &&
        !has_control(loc))
        FZ_CHECK(j && strcmp(j, n) == 0);
    if (parsed)
        check_join_kind(parsed, loc, j, jcode);
    free(n);
    free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t small = data[0] & 0x80 ? data[0] & 0x7f : BIG;
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
    char *url = copy_string(p, (size_t)((nul ? nul : end) - p));
    const uint8_t *q = nul ? nul + 1 : end;
    const uint8_t *nul2 = memchr(q, 0, (size_t)(end - q));
    char *loc = copy_string(q, (size_t)((nul2 ? nul2 : end) - q));

    http_url u;
    int code = http_url_parse(url, &u);
    check_code(code);
    if (code == HTTP_URL_OK) {
        check_parsed(url, &u);
        check_host_header(&u, small);
    }
    check_normalize_join(url, code == HTTP_URL_OK ? &u : NULL, code, loc);
    free(url);
    free(loc);
    return 0;
}
