/* url_chars.h - the byte classes and the scheme scan that url.c (parsing)
 * and url_join.c (normalizing, joining) share.  Static inline: nothing
 * here is exported from the library.  ASCII only, never the locale's
 * ctype.
 */
#ifndef BAREAWAIT_URL_CHARS_H
#define BAREAWAIT_URL_CHARS_H

#include <stdbool.h>
#include <stddef.h>

static inline bool url_is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool url_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Control characters and DEL: never inside a URL we send. */
static inline bool url_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}


/* Length of the scheme that starts s (RFC 3986: ALPHA *( ALPHA / DIGIT /
 * "+" / "-" / "." ) followed by ':'), or 0 if s does not start with one. */
static inline size_t url_scheme_len(const char *s)
{
    size_t i = 0;
    if (!url_is_alpha((unsigned char)s[0]))
        return 0;
    while (url_is_alpha((unsigned char)s[i]) || url_is_digit((unsigned char)s[i]) ||
           s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' ? i : 0;
}

/* Whether the zone after an IPv6 literal's '%', z[0..len) up to the ']',
 * starts with RFC 6874's "25" (the '%' itself percent-encoded) rather
 * than being curl's lenient "%eth0".  "%25" with nothing after it is the
 * lenient zone "25". */
static inline bool url_zone_encoded(const char *z, size_t len)
{
    return len > 2 && z[0] == '2' && z[1] == '5';
}

#endif
