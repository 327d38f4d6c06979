/* fuzz_chunked.c - the chunked-body decoder alone (http_chunked_feed).
 *
 * Input: bytes 0-3 seed the split points; the rest is a chunked body
 * (perhaps followed by bytes of the next response).  It is decoded whole
 * and in random pieces, each piece in its own exact-size heap copy so a
 * read past the bytes given is caught, and per call:
 *   - the return is -1 or 0..len, and > 0 whenever bytes were given and
 *     the body was not over (no call can stall);
 *   - the payload span lies inside the bytes consumed by that call;
 *   - once done, done stays true and nothing more is consumed.
 * Both ways must agree: malformed or done or still incomplete, the same
 * payload bytes (before the error, when there is one) and, when done, the
 * same end offset.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "parse.h"

typedef struct decoded {
    int result;        /* -1 malformed, 1 done, 0 incomplete at the end */
    size_t end;        /* done: offset of the first byte after the body */
    char *payload;     /* the data runs, concatenated */
    size_t payload_len;
} decoded;

/* Feeds piece[0..n) (an exact-size copy) until it is used up or the body
 * ends; returns -1, or the bytes consumed. */
static long feed_piece(http_chunked *ch, const uint8_t *src, size_t n, decoded *d)
{
    char *piece = malloc(n ? n : 1);
    FZ_CHECK(piece != NULL);
    memcpy(piece, src, n);
    size_t used = 0;
    long rc = 0;
    while (used < n && !http_chunked_done(ch)) {
        const char *data;
        size_t dlen;
        long got = http_chunked_feed(ch, piece + used, n - used, &data, &dlen);
        FZ_CHECK(got >= -1 && got <= (long)(n - used));
        if (got < 0) {
            rc = -1;
            break;
        }
        FZ_CHECK(got > 0);
        FZ_CHECK(data >= piece + used && dlen <= (size_t)(piece + used + got - data));
        memcpy(d->payload + d->payload_len, data, dlen);
        d->payload_len += dlen;
        used += (size_t)got;
    }
    free(piece);
    return rc < 0 ? -1 : (long)used;
}

static void decode(const uint8_t *body, size_t len, bool whole, uint32_t seed,
                   decoded *d)
{
    *d = (decoded){0};
    d->payload = malloc(len ? len : 1);
    FZ_CHECK(d->payload != NULL);
    http_chunked ch = {0};
    size_t at = 0;
    while (at < len) {
        size_t n = whole ? len - at : fz_piece(&seed, len - at);
        long used = feed_piece(&ch, body + at, n, d);
        if (used < 0) {
            d->result = -1;
            return;
        }
        at += (size_t)used;
        if (http_chunked_done(&ch))
            break;
        FZ_EQ(used, n);  /* all bytes are taken unless the body ends */
    }
    if (http_chunked_done(&ch)) {
        const char *data;
        size_t dlen;
        FZ_EQ(http_chunked_feed(&ch, "x", 1, &data, &dlen), 0);
        FZ_CHECK(http_chunked_done(&ch));
        d->result = 1;
        d->end = at;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed = 0;
    size_t at = 0;
    for (; at < size && at < 4; at++)
        seed = seed << 8 | data[at];
    decoded whole, pieces;
    decode(data + at, size - at, true, 0, &whole);
    decode(data + at, size - at, false, seed, &pieces);
    FZ_EQ(pieces.result, whole.result);
    FZ_EQ(pieces.end, whole.end);
    FZ_EQ(pieces.payload_len, whole.payload_len);
    FZ_CHECK(memcmp(pieces.payload, whole.payload, whole.payload_len) == 0);
    free(whole.payload);
    free(pieces.payload);
    return 0;
}
