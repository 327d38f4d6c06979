/* chars.h - the byte rules and sizes that more than one file of http/
 * needs, each written once: ASCII case, RFC 9110 tchar, hex digits,
 * control bytes, port digits, and the room for "host:port".  Static
 * inline: nothing here is exported.  ASCII only, never the locale's
 * ctype.  Internal to http/.
 */
#ifndef BAREAWAIT_CHARS_H
#define BAREAWAIT_CHARS_H

#include <stdbool.h>
#include <stddef.h>

#include <bareawait/url.h>

/* The longest host http_url holds, and a port's most digits. */
#define BA_HOST_MAX (sizeof ((http_url *)0)->host - 1)
#define BA_PORT_DIGITS 5
/* Room for "[host]:65535" and its NUL: a pool key ("host:port") or a
 * Host header's value. */
#define BA_HOST_PORT_MAX (1 + BA_HOST_MAX + 1 + 1 + BA_PORT_DIGITS + 1)

static inline unsigned char ba_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Whether a[0..n) and b[0..n) are equal, ASCII case aside. */
static inline bool ba_ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ba_lower((unsigned char)a[i]) != ba_lower((unsigned char)b[i]))
            return false;
    return true;
}

/* RFC 9110 tchar: what a method or a header name is made of. */
static inline bool ba_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) { /* a switch, not strchr: '-' is in most header names */
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

/* A hex digit's value (either case), or -1. */
static inline int ba_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = ba_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Control bytes other than tab: never in a line's text. */
static inline bool ba_is_bad_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Writes port's decimal digits at out (room for BA_PORT_DIGITS, no NUL);
 * returns how many.  By hand, not snprintf: this runs for every request. */
static inline size_t ba_put_port(char *out, unsigned port)
{
    char digits[BA_PORT_DIGITS];
    size_t d = 0, n = 0;
    do
        digits[d++] = (char)('0' + port % 10);
    while ((port /= 10) != 0 && d < BA_PORT_DIGITS);
    while (d > 0)
        out[n++] = digits[--d];
    return n;
}

#endif
