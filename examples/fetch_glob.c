/* fetch_glob.c - curl's URL globbing: one argument, several URLs.
 *
 *     http://h/[1-3]        /1 /2 /3
 *     http://h/[01-10]      /01 /02 ... /10   (a leading zero pads)
 *     http://h/[a-c]        /a /b /c
 *     http://h/[1-10:2]     /1 /3 /5 /7 /9    (a step)
 *     http://h/{x,y,z}      /x /y /z
 *
 * Several globs give every combination, the rightmost changing fastest,
 * as curl orders them: {a,b}/[1-2] is a/1 a/2 b/1 b/2.  A backslash
 * makes a following [ ] { } plain text (inside {...} it escapes any
 * character), and "[" that opens an IPv6 address ("[::1]") is plain text.
 *
 * A parsed glob is a list of parts, each plain text or one glob; the k-th
 * URL is built from k written in mixed radix (digit i counting glob i),
 * so nothing needs iterating and any URL can be asked for directly.
 */
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "fetch_cli.h"

#define NUMBER_MAX 999999999999ULL /* twelve digits: more is surely a typo */

typedef enum part_kind {
    PART_TEXT,    /* plain text, escapes removed */
    PART_SET,     /* {x,y,z} */
    PART_NUMBERS, /* [1-10:2], [01-10] */
    PART_LETTERS  /* [a-z] */
} part_kind;

typedef struct part {
    part_kind kind;
    char **items;              /* TEXT: items[0]; SET: the alternatives */
    size_t n_items;
    unsigned long long first;  /* NUMBERS, LETTERS: value i is first + i*step */
    unsigned long long step;
    size_t count;              /* how many values (1 for TEXT) */
    int pad;                   /* NUMBERS: zero-padded to this many digits */
} part;

struct fetch_glob {
    part *parts;
    size_t n_parts;
    size_t n_globs;   /* parts that are not TEXT */
    size_t count;     /* URLs in all: the product of the counts */
};

/* The parser's state: where it is, and the first error. */
typedef struct parser {
    const char *url;
    size_t at;               /* offset of the next character */
    fetch_glob *g;
    fetch_glob_error *err;
    char *buf;               /* the text being collected */
    size_t len, cap;
} parser;

static int fail(parser *p, size_t pos, const char *why)
{
    p->err->pos = pos;
    p->err->why = why;
    return -1;
}

static int buf_add(parser *p, char ch)
{
    if (p->len + 1 >= p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        char *b = realloc(p->buf, cap);
        if (!b)
            return fail(p, p->at, "out of memory");
        p->buf = b;
        p->cap = cap;
    }
    p->buf[p->len++] = ch;
    p->buf[p->len] = '\0';
    return 0;
}

/* Takes the collected text as a new string; NULL if out of memory. */
static char *buf_take(parser *p)
{
    char *s = malloc(p->len + 1);
    if (s) {
        memcpy(s, p->buf ? p->buf : "", p->len);
        s[p->len] = '\0';
    }
    p->len = 0;
    return s;
}

static part *new_part(parser *p, part_kind kind)
{
    part *parts = realloc(p->g->parts, (p->g->n_parts + 1) * sizeof *parts);
    if (!parts) {
        fail(p, p->at, "out of memory");
        return NULL;
    }
    p->g->parts = parts;
    part *pt = &parts[p->g->n_parts++];
    memset(pt, 0, sizeof *pt);
    pt->kind = kind;
    pt->count = 1;
    return pt;
}

static int add_item(parser *p, part *pt)
{
    char **items = realloc(pt->items, (pt->n_items + 1) * sizeof *items);
    char *s = items ? buf_take(p) : NULL;
    if (items)
        pt->items = items;
    if (!s)
        return fail(p, p->at, "out of memory");
    pt->items[pt->n_items++] = s;
    return 0;
}

/* Ends a run of plain text (if there is one) as a TEXT part. */
static int flush_text(parser *p)
{
    if (p->len == 0)
        return 0;
    part *pt = new_part(p, PART_TEXT);
    return pt ? add_item(p, pt) : -1;
}

/* A glob part is complete: count it towards the total, within the cap. */
static int count_glob(parser *p, part *pt, size_t start)
{
    p->g->n_globs++;
    if (pt->count > FETCH_GLOB_MAX_URLS / p->g->count)
        return fail(p, start, "expands to more than " FETCH_GLOB_MAX_URLS_TEXT " URLs");
    p->g->count *= pt->count;
    return 0;
}

/* "{x,y,z}": p->at is just after the '{'. */
static int parse_set(parser *p)
{
    size_t start = p->at - 1;
    part *pt = new_part(p, PART_SET);
    if (!pt)
        return -1;
    for (;;) {
        char ch = p->url[p->at];
        if (ch == '\0')
            return fail(p, start, "unmatched brace");
        p->at++;
        if (ch == '{' || ch == '[')
            return fail(p, p->at - 1, "nested brace");
        /* "{}" makes no URL at all (curl refuses it too); "{a,}" and
         * "{,}" are sets with empty items, as in curl. */
        if (ch == '}' && pt->n_items == 0 && p->len == 0)
            return fail(p, p->at - 1, "empty braces {} (nothing to choose from)");
        if (ch == ',' || ch == '}') {
            if (add_item(p, pt) < 0)
                return -1;
            if (ch == '}')
                break;
            continue;
        }
        if (ch == '\\' && p->url[p->at])
            ch = p->url[p->at++];
        if (buf_add(p, ch) < 0)
            return -1;
    }
    pt->count = pt->n_items;
    return count_glob(p, pt, start);
}

/* A decimal number at p->at; its digit count, or -1. */
static int parse_number(parser *p, unsigned long long *n)
{
    int digits = 0;
    *n = 0;
    while (isdigit((unsigned char)p->url[p->at])) {
        *n = *n * 10 + (unsigned long long)(p->url[p->at++] - '0');
        if (++digits > 12 || *n > NUMBER_MAX)
            return -1;
    }
    return digits ? digits : -1;
}

/* ":N" after a range, or nothing (a step of 1). */
static int parse_step(parser *p, unsigned long long *step)
{
    *step = 1;
    if (p->url[p->at] != ':')
        return 0;
    p->at++;
    return parse_number(p, step) < 0 ? -1 : 0;
}

/* The range's values must go up from first to last by step, as curl's. */
static int finish_range(parser *p, part *pt, size_t start, unsigned long long last)
{
    if (p->url[p->at] != ']')
        return fail(p, p->at, "bad range");
    p->at++;
    unsigned long long first = pt->first, step = pt->step;
    if (step == 0 || first > last || (first != last && step > last - first))
        return fail(p, start, "bad range");
    unsigned long long count = (last - first) / step + 1;
    if (count > FETCH_GLOB_MAX_URLS)
        return fail(p, start, "expands to more than " FETCH_GLOB_MAX_URLS_TEXT " URLs");
    pt->count = (size_t)count;
    return count_glob(p, pt, start);
}

/* "[a-z]", "[A-Z:2]": p->at is on the first letter. */
static int parse_letters(parser *p, size_t start)
{
    const char *s = p->url + p->at;
    if (s[1] != '-' || !s[2])
        return fail(p, start, "bad range");
    bool lower = islower((unsigned char)s[0]) && islower((unsigned char)s[2]);
    bool upper = isupper((unsigned char)s[0]) && isupper((unsigned char)s[2]);
    if (!lower && !upper)
        return fail(p, start, "bad range");
    part *pt = new_part(p, PART_LETTERS);
    if (!pt)
        return -1;
    pt->first = (unsigned char)s[0];
    p->at += 3;
    if (parse_step(p, &pt->step) < 0)
        return fail(p, p->at, "bad range");
    return finish_range(p, pt, start, (unsigned char)s[2]);
}

/* "[1-3]", "[01-10]", "[0-100:10]": p->at is on the first digit. */
static int parse_numbers(parser *p, size_t start)
{
    part *pt = new_part(p, PART_NUMBERS);
    if (!pt)
        return -1;
    bool zero = p->url[p->at] == '0';
    int digits = parse_number(p, &pt->first);
    unsigned long long last;
    if (digits < 0 || p->url[p->at] != '-')
        return fail(p, p->at, "bad range");
    p->at++;
    if (parse_number(p, &last) < 0 || parse_step(p, &pt->step) < 0)
        return fail(p, p->at, "bad range");
    pt->pad = zero ? digits : 0; /* curl's rule: "[01-10]" pads to 2 */
    return finish_range(p, pt, start, last);
}

/* Does "[" at p->at open an IPv6 address, as in http://[::1]:80/? */
static size_t ipv6_length(const parser *p)
{
    const char *s = p->url + p->at;
    size_t n = 1;
    bool colon = false;
    while (s[n] && s[n] != ']') {
        char ch = s[n];
        if (ch == '%') {           /* a zone: "[fe80::1%25eth0]" */
            while (isalnum((unsigned char)s[n + 1]) || s[n + 1] == '%')
                n++;
        } else if (!isxdigit((unsigned char)ch) && ch != ':' && ch != '.') {
            return 0;
        }
        colon = colon || ch == ':';
        n++;
    }
    return s[n] == ']' && colon ? n + 1 : 0;
}

/* "[...]": an address, or a range of numbers or letters. */
static int parse_bracket(parser *p)
{
    size_t v6 = ipv6_length(p);
    if (v6) {
        for (size_t i = 0; i < v6; i++)
            if (buf_add(p, p->url[p->at++]) < 0)
                return -1;
        return 0;
    }
    if (flush_text(p) < 0)
        return -1;
    size_t start = p->at++;
    if (isalpha((unsigned char)p->url[p->at]))
        return parse_letters(p, start);
    if (isdigit((unsigned char)p->url[p->at]))
        return parse_numbers(p, start);
    return fail(p, p->url[p->at] ? p->at : start, "bad range");
}

/* One step of the top level: plain text, an escape, or a glob. */
static int parse_one(parser *p)
{
    char ch = p->url[p->at];
    if (ch == '[')
        return parse_bracket(p);
    if (ch == ']' || ch == '}')
        return fail(p, p->at, "unmatched close brace/bracket");
    p->at++;
    if (ch == '{')
        return flush_text(p) < 0 ? -1 : parse_set(p);
    if (ch == '\\' && p->url[p->at] && strchr("[]{}", p->url[p->at]))
        ch = p->url[p->at++];
    return buf_add(p, ch);
}

int fetch_glob_parse(const char *url, fetch_glob **out, fetch_glob_error *err)
{
    *out = NULL;
    fetch_glob *g = calloc(1, sizeof *g);
    parser p = {.url = url, .g = g, .err = err};
    if (!g)
        return fail(&p, 0, "out of memory");
    g->count = 1;
    int rc = 0;
    while (rc == 0 && url[p.at])
        rc = parse_one(&p);
    if (rc == 0)
        rc = flush_text(&p);
    free(p.buf);
    if (rc < 0) {
        fetch_glob_free(g);
        return -1;
    }
    *out = g;
    return 0;
}

void fetch_glob_free(fetch_glob *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_parts; i++) {
        for (size_t k = 0; k < g->parts[i].n_items; k++)
            free(g->parts[i].items[k]);
        free(g->parts[i].items);
    }
    free(g->parts);
    free(g);
}

size_t fetch_glob_count(const fetch_glob *g)
{
    return g->count;
}

/* ---- the k-th URL ---- */

/* The text of value i of part pt; num holds a number's digits. */
static const char *value_text(const part *pt, size_t i, char num[32])
{
    unsigned long long v = pt->first + (unsigned long long)i * pt->step;
    switch (pt->kind) {
    case PART_TEXT: return pt->items[0];
    case PART_SET: return pt->items[i];
    case PART_LETTERS:
        num[0] = (char)v;
        num[1] = '\0';
        return num;
    case PART_NUMBERS:
        snprintf(num, 32, "%0*llu", pt->pad, v);
        return num;
    }
    return "";
}

/* Which value each part takes in the k-th URL: k in mixed radix, the
 * rightmost glob its fastest digit. */
static void digits_of(const fetch_glob *g, size_t k, size_t *digit)
{
    for (size_t i = g->n_parts; i-- > 0;) {
        digit[i] = k % g->parts[i].count;
        k /= g->parts[i].count;
    }
}

/* The text of glob n (from 1) in the k-th URL, or NULL if there is no n. */
static const char *glob_text(const fetch_glob *g, const size_t *digit, size_t n, char num[32])
{
    for (size_t i = 0; i < g->n_parts; i++)
        if (g->parts[i].kind != PART_TEXT && --n == 0)
            return value_text(&g->parts[i], digit[i], num);
    return NULL;
}

/* Appends s to the growing string *out. */
static int append(char **out, size_t *len, const char *s, size_t n)
{
    char *b = realloc(*out, *len + n + 1);
    if (!b)
        return -1;
    memcpy(b + *len, s, n);
    *len += n;
    b[*len] = '\0';
    *out = b;
    return 0;
}

/* Every part's text for the given digits. */
static int put_url(const fetch_glob *g, const size_t *digit, char **out, size_t *len)
{
    char num[32];
    for (size_t i = 0; i < g->n_parts; i++) {
        const char *s = value_text(&g->parts[i], digit[i], num);
        if (append(out, len, s, strlen(s)) < 0)
            return -1;
    }
    return 0;
}

/* name, each "#N" replaced by glob N's text for the given digits. */
static int put_name(const fetch_glob *g, const size_t *digit, const char *name,
                    char **out, size_t *len)
{
    char num[32];
    for (const char *s = name; *s; s++) {
        const char *text = NULL;
        char *end = NULL;
        if (s[0] == '#' && isdigit((unsigned char)s[1])) {
            unsigned long n = strtoul(s + 1, &end, 10);
            text = n ? glob_text(g, digit, n, num) : NULL;
        }
        if (!text) { /* "#9" with no 9th glob stays as it is */
            if (append(out, len, s, 1) < 0)
                return -1;
            continue;
        }
        if (append(out, len, text, strlen(text)) < 0)
            return -1;
        s = end - 1;
    }
    return 0;
}

/* The k-th URL (name NULL), or name for the k-th URL: a new string. */
static char *build(const fetch_glob *g, size_t k, const char *name)
{
    size_t *digit = calloc(g->n_parts + 1, sizeof *digit);
    char *out = NULL;
    size_t len = 0;
    int rc = digit ? append(&out, &len, "", 0) : -1;
    if (rc == 0) {
        digits_of(g, k, digit);
        rc = name ? put_name(g, digit, name, &out, &len) : put_url(g, digit, &out, &len);
    }
    free(digit);
    if (rc < 0) {
        free(out);
        return NULL;
    }
    return out;
}

char *fetch_glob_url(const fetch_glob *g, size_t k)
{
    return build(g, k, NULL);
}

char *fetch_glob_name(const fetch_glob *g, size_t k, const char *name)
{
    return build(g, k, name);
}
