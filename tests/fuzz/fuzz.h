/* fuzz.h - what every fuzz target shares.
 *
 * A target is one function, LLVMFuzzerTestOneInput, built two ways:
 *   - with clang -fsanitize=fuzzer (meson -Dfuzz=true, scripts/fuzz): the
 *     libFuzzer engine calls it with generated inputs;
 *   - with fuzz_replay.c's tiny main, in every normal build (gcc, ASan,
 *     valgrind): it is called once per file of the target's seed corpus,
 *     so every input that ever found a bug stays a regression test.
 * A target that finds its invariants broken says what and where on stderr
 * and aborts: to libFuzzer that is a crash, whose input it saves.
 */
#ifndef BAREAWAIT_FUZZ_H
#define BAREAWAIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The entry point libFuzzer (or fuzz_replay.c) calls for each input.
 * Returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with file:line and both values unless got == want. */
static inline void fz_expect_(const char *file, int line, const char *expr,
                              long long got, long long want)
{
    if (got == want)
        return;
    fprintf(stderr, "%s:%d: fuzz invariant broken: %s (got %lld, want %lld)\n",
            file, line, expr, got, want);
    abort();
}

/* FZ_CHECK(cond): cond must hold.  FZ_EQ(got, want): two integers agree. */
#define FZ_CHECK(cond) fz_expect_(__FILE__, __LINE__, #cond, !!(cond), 1)
#define FZ_EQ(got, want) \
    fz_expect_(__FILE__, __LINE__, #got " == " #want, (long long)(got), (long long)(want))

/* A tiny deterministic generator (xorshift32) for split points drawn from
 * a seed taken out of the input: the same input always splits the same way. */
static inline uint32_t fz_next(uint32_t *state)
{
    uint32_t x = *state ? *state : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* The size of the next piece of a stream, 1..limit: mostly small pieces
 * (a byte or a few: splits inside CRLFs, hex sizes, names), sometimes
 * large ones. */
static inline size_t fz_piece(uint32_t *state, size_t limit)
{
    uint32_t r = fz_next(state);
    size_t n;
    switch (r & 3) {
    case 0:  n = 1; break;
    case 1:  n = 1 + (r >> 2) % 8; break;
    case 2:  n = 1 + (r >> 2) % 64; break;
    default: n = 1 + (r >> 2) % 4096; break;
    }
    return n < limit ? n : limit;
}

#endif
