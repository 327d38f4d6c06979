/* parse_chars.h - the byte classes parse.c (heads, framing) and
 * parse_chunked.c (chunked bodies) share.  Static inline: nothing here is
 * exported.  ASCII only, never the locale's ctype.
 */
#ifndef BAREAWAIT_PARSE_CHARS_H
#define BAREAWAIT_PARSE_CHARS_H

#include <stdbool.h>

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline bool is_ows(unsigned char c)    /* "optional whitespace" */
{
    return c == ' ' || c == '\t';
}


#endif
