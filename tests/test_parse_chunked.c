/* test_parse_chunked.c - http/parse: chunked bodies that must be refused,
 * the decoder's limits, and its edges.
 *
 * Table-driven.  Each body is decoded one byte at a time and split in two
 * at every point (check_decoding, in parse_check.h).  The chunked bodies
 * of good responses are decoded in test_parse.c, with their heads.
 */
#include <stdlib.h>

#include "check.h"
#include "parse.h"
#include "parse_check.h"

/* ---- chunked bodies that must be refused ---- */

static const struct { const char *name, *enc; } bad_chunks[] = {
    { "no size", "\r\nabc\r\n0\r\n\r\n" },
    { "empty size line after a chunk", "3\r\nabc\r\n\r\n0\r\n\r\n" },
    { "extension without size", ";x=1\r\nabc\r\n0\r\n\r\n" },
    { "bad hex", "1g\r\nx\r\n0\r\n\r\n" },
    { "0x prefix", "0x5\r\nhello\r\n0\r\n\r\n" },
    { "17 significant hex digits", "10000000000000000\r\nx\r\n0\r\n\r\n" },
    { "data longer than size", "3\r\nabcd\r\n0\r\n\r\n" },
    { "garbage instead of CRLF after data", "3\r\nabcX0\r\n\r\n" },
    { "CR without LF after data", "3\r\nabc\rX0\r\n\r\n" },
    { "CR without LF after size", "3\rabc\r\n0\r\n\r\n" },
    { "control char in extension", "3;a\x01" "b\r\nabc\r\n0\r\n\r\n" },
    { "CR without LF at the end", "0\r\n\rX" },
    /* found by tests/llhttp (llhttp refuses them too) */
    { "control byte in a trailer", "0\r\nA: \x01\r\n\r\n" },
    { "DEL in a trailer", "1\r\nx\r\n0\r\nA: b\x7f" "c\r\n\r\n" },
    { "bare CR in a trailer", "0\r\nA: b\rc\r\n\r\n" },
    { "CR CR LF ending a trailer", "0\r\nA: b\r\r\n\r\n" },
};

/* "1;aaa...\r\nx\r\n0\r\n\r\n" with ext_len bytes from the ';' to the
 * line end.  Caller frees. */
static char *long_extension(size_t ext_len, size_t *len)
{
    char *s = malloc(ext_len + 32);
    if (!s)
        abort();
    s[0] = '1';
    s[1] = ';';
    memset(s + 2, 'a', ext_len - 1);
    *len = 1 + ext_len + (size_t)sprintf(s + 1 + ext_len, "\r\nx\r\n0\r\n\r\n");
    return s;
}

/* "1\r\nx\r\n0\r\n", then trailer lines "X: yyy...\r\n" of 128 bytes
 * (the first one longer to make up trailer_len exactly, which must be >=
 * 128), then the final "\r\n".  Caller frees. */
static char *long_trailers(size_t trailer_len, size_t *len)
{
    char *s = malloc(trailer_len + 32);
    if (!s)
        abort();
    size_t n = (size_t)sprintf(s, "1\r\nx\r\n0\r\n");
    size_t line = 128 + trailer_len % 128;
    for (size_t done = 0; done < trailer_len; done += line, line = 128) {
        memcpy(s + n, "X: ", 3);
        memset(s + n + 3, 'y', line - 5);
        memcpy(s + n + line - 2, "\r\n", 2);
        n += line;
    }
    *len = n + (size_t)sprintf(s + n, "\r\n");
    return s;
}

static void check_bad_chunks(void)
{
    for (size_t i = 0; i < sizeof bad_chunks / sizeof bad_chunks[0]; i++)
        check_decoding(bad_chunks[i].name, bad_chunks[i].enc, strlen(bad_chunks[i].enc), -1, "");

    /* The limits: a 4096-byte extension and 65536 bytes of trailers pass;
     * one byte more fails. */
    static const struct { const char *name; size_t ext, trailers; bool ok; } limits[] = {
        { "4096-byte extension", 4096, 0, true },
        { "4097-byte extension", 4097, 0, false },
        { "65536 bytes of trailers", 0, 65536, true },
        { "65537 bytes of trailers", 0, 65537, false },
        { "endless trailers", 0, 200000, false },
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        size_t len;
        char *s = limits[i].ext ? long_extension(limits[i].ext, &len)
                                : long_trailers(limits[i].trailers, &len);
        check_decoding(limits[i].name, s, len, limits[i].ok ? (long)len : -1, "x");
        free(s);
    }
}

/* ---- the strict rules of a request's chunked body ---- */

/* What the response side takes (a bare LF for CR LF, a blank after the
 * size) and a server must refuse: where a front end and a back end
 * disagree on a chunk's end, a request can be smuggled past one of them. */
static const struct { const char *name, *enc, *body; } lenient_only[] = {
    { "bare LF after the size", "3\nabc\r\n0\r\n\r\n", "abc" },
    { "bare LF after the data", "3\r\nabc\n0\r\n\r\n", "abc" },
    { "bare LF after the last size", "3\r\nabc\r\n0\n\r\n", "abc" },
    { "bare LF ending the body", "3\r\nabc\r\n0\r\n\n", "abc" },
    { "bare LF after an extension", "3;a=b\nabc\r\n0\r\n\r\n", "abc" },
    { "bare LF ending a trailer", "0\r\nA: b\n\r\n", "" },
    { "a blank after the size", "3 \r\nabc\r\n0\r\n\r\n", "abc" },
    { "a tab after the size", "3\t;x\r\nabc\r\n0\r\n\r\n", "abc" },
};

static void check_strict(void)
{
    for (size_t i = 0; i < sizeof lenient_only / sizeof lenient_only[0]; i++) {
        const char *enc = lenient_only[i].enc;
        char name[96];
        decode_strict = false;
        snprintf(name, sizeof name, "lenient: %s", lenient_only[i].name);
        check_decoding(name, enc, strlen(enc), (long)strlen(enc), lenient_only[i].body);
        decode_strict = true;
        snprintf(name, sizeof name, "strict: %s", lenient_only[i].name);
        check_decoding(name, enc, strlen(enc), -1, "");
    }
    /* ...and strict takes what is well-formed. */
    const char good[] = "3;a=\"b c\"\r\nabc\r\n0\r\nX: y\r\n\r\n";
    check_decoding("strict: a well-formed body", good, sizeof good - 1, sizeof good - 1, "abc");
    decode_strict = false;
}

/* ---- single behaviours ---- */

/* Sizes up to 16 hex digits are fine; nothing is consumed once done. */
static void check_chunked_edges(void)
{
    http_chunked c = { 0 };
    const char *data;
    size_t n;
    const char big[] = "FFFFFFFFFFFFFFFF\r\nab";
    CHECK_INT(http_chunked_feed(&c, big, 0, &data, &n), 0);
    CHECK_INT(http_chunked_feed(&c, big, sizeof big - 1, &data, &n), sizeof big - 1);
    CHECK_BYTES(data, n, "ab", 2);
    CHECK(!http_chunked_done(&c));

    /* The feed stops where the trailer section starts, then takes it. */
    http_chunked d = { 0 };
    const char last[] = "0\r\n\r\n0\r\n\r\n";
    CHECK(!http_chunked_in_trailers(&d));
    CHECK_INT(http_chunked_feed(&d, last, sizeof last - 1, &data, &n), 3);
    CHECK(http_chunked_in_trailers(&d));
    CHECK_INT(http_chunked_feed(&d, last + 3, sizeof last - 4, &data, &n), 2);
    CHECK(http_chunked_done(&d));
    CHECK(!http_chunked_in_trailers(&d));
    CHECK_INT(http_chunked_feed(&d, last + 5, 5, &data, &n), 0);
    CHECK_INT(n, 0);
}

static const check_case tests[] = {
    {"chunked bodies that must be refused, and the limits", check_bad_chunks},
    {"chunk sizes of 16 hex digits, nothing consumed once done", check_chunked_edges},
    {"strict (a request's body): no bare LF, no blank after a size", check_strict},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 0);
}
