/* parse_list.h - header-value rules the request side of the parser uses:
 * comma-separated lists (RFC 9110 section 5.6.1), a token in a list, and
 * a decimal length.  Static inline: nothing here is exported.  ASCII only.
 *
 * parse.c (the response side) has its own copies of list_next and
 * parse_length from before this file; moving it onto these is left to do
 * (one place for one rule).  Request values never hold folds, so only
 * spaces and tabs are trimmed here.
 */
#ifndef BAREAWAIT_PARSE_LIST_H
#define BAREAWAIT_PARSE_LIST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "chars.h"
#include "parse.h"
#include "parse_chars.h"

/* Takes the next element of a comma-separated list from *cursor..end,
 * trimmed of spaces and tabs; empty elements ("a, , b") come back empty.
 * *cursor becomes NULL after the last one.  Returns false when the list
 * is used up. */
static inline bool ba_list_next(const char **cursor, const char *end,
                                const char **item, size_t *item_len)
{
    const char *p = *cursor;
    if (!p)
        return false;
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma ? comma : end;
    while (p < stop && is_ows((unsigned char)*p))
        p++;
    while (stop > p && is_ows((unsigned char)stop[-1]))
        stop--;
    *item = p;
    *item_len = (size_t)(stop - p);
    *cursor = comma ? comma + 1 : NULL;
    return true;
}

/* Whether item[0..len) is `token`, ASCII case aside. */
static inline bool ba_is_token(const char *item, size_t len, const char *token)
{
    return len == strlen(token) && ba_ieq(item, token, len);
}

/* Whether some header called `name` lists `token` (both compared without
 * regard to case), as in "Connection: Upgrade, close". */
static inline bool ba_header_lists(const http_header *h, size_t n, const char *name,
                                   const char *token)
{
    for (int i = http_header_find(h, n, name, 0); i >= 0;
         i = http_header_find(h, n, name, (size_t)i + 1)) {
        const char *cursor = h[i].value, *item;
        size_t len;
        while (ba_list_next(&cursor, h[i].value + h[i].value_len, &item, &len))
            if (ba_is_token(item, len, token))
                return true;
    }
    return false;
}

/* Decimal digits s[0..n) to *out: 0, or -1 if empty, not all digits
 * ("-1", "+5", "1 2", "5,5"), or above INT64_MAX. */
static inline int ba_parse_length(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > ((uint64_t)INT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

#endif
