/* fuzz_parse.c - the response parser, framing and chunked decoder
 * (http/parse.h), fed as a socket would feed them.
 *
 * Input: byte 0 is flags (bit 0: the request was HEAD; bits 1-3: a
 * max_body, see fz_max_body_of), bytes 1-4 seed the split points, and the
 * rest is the server's reply.  The reply is decoded three times -- whole,
 * in random pieces, one byte at a time -- through fz_model_decode, which
 * checks the parser's contract on every call (return values, pointers
 * inside the buffer, chunked progress), and the three outcomes must agree:
 * same error or success, status, headers, body bytes, and where the
 * response ended.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "fz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t flags = size > 0 ? data[0] : 0;
    uint32_t seed = 0;
    size_t at = size > 0 ? 1 : 0;
    for (; at < size && at < 5; at++)
        seed = seed << 8 | data[at];
    const uint8_t *reply = data + at;
    size_t len = size - at;
    bool head_only = flags & 1;
    size_t max_body = fz_max_body_of(flags);

    fz_outcome whole, pieces, bytes;
    fz_model_decode(reply, len, head_only, max_body, FZ_WHOLE, 0, &whole);
    fz_model_decode(reply, len, head_only, max_body, FZ_PIECES, seed, &pieces);
    fz_model_decode(reply, len, head_only, max_body, FZ_BYTES, 0, &bytes);
    fz_model_compare(&whole, &pieces, "whole and random pieces");
    fz_model_compare(&whole, &bytes, "whole and byte by byte");
    free(whole.body);
    free(pieces.body);
    free(bytes.body);
    return 0;
}
