/* fz_model.h - a response decoded the way the client decodes it, without
 * sockets: the reference the fuzz targets compare against.
 *
 * fz_model_decode walks the same steps as http/exchange.c (read a head,
 * skip 1xx heads, decide the framing, read the body by length, chunks or
 * until the end) over an in-memory stream, handed over in pieces the way
 * a socket would deliver it.  On every parser call it checks the parse.h
 * contract: return values in range, every pointer handed back inside the
 * bytes given, chunked calls that make progress.  Any break aborts.
 *
 * The outcome must not depend on where the stream is split: fuzz_parse
 * decodes each input whole, in random pieces and one byte at a time and
 * compares; fuzz_client compares the real client's answer with the whole
 * decode.
 */
#ifndef BAREAWAIT_FZ_MODEL_H
#define BAREAWAIT_FZ_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Response headers the client has room for at first; must equal
 * CONN_MAX_HEADERS (http/conn.h; fuzz_client checks at compile time).
 * On -3 (more fields than that) the model doubles its array and parses
 * again, as the client does: the head's byte limit is the only limit. */
#define FZ_MAX_HEADERS 128

/* How the stream reaches the decoder. */
typedef enum fz_split {
    FZ_WHOLE,    /* all at once, as one read */
    FZ_PIECES,   /* pieces of fz_piece() sizes drawn from `seed` */
    FZ_BYTES     /* one byte per read */
} fz_split;

typedef struct fz_outcome {
    int code;               /* HTTP_OK or the HTTP_E_* the client must give */
    bool response;          /* a final head was accepted: the client hands
                               back a (maybe partial) response */
    int status;             /* of the final head, when `response` */
    int minor_version;
    size_t n_headers;
    int64_t content_length; /* as http_response.content_length */
    char *body;             /* body delivered (malloc'd, caller frees) */
    size_t body_len;
    size_t end;             /* HTTP_OK: stream offset where the response
                               ended (bytes after it are left unread) */
    size_t head_end;        /* when `response`: where the final head ended
                               (1xx heads before it included), as
                               http_response.raw_head_len */
} fz_outcome;

/* Decodes the response in stream[0..len) as a request with `head_only`
 * (HEAD) and `max_body` (0: no limit) would.  Fills *out; free out->body.
 * Aborts if a parser breaks its contract. */
void fz_model_decode(const uint8_t *stream, size_t len, bool head_only,
                     size_t max_body, fz_split split, uint32_t seed,
                     fz_outcome *out);

/* Aborts unless a and b are the same outcome (`what` names the pair). */
void fz_model_compare(const fz_outcome *a, const fz_outcome *b, const char *what);

/* The max_body a flags byte asks for: 0 (none) or a small limit. */
size_t fz_max_body_of(uint8_t flags);

#endif
