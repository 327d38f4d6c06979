/* switch_aarch64.c - the fast backend's C half on aarch64: a new
 * coroutine's first frame.  ba_switch_jump itself is in switch_aarch64.S.
 *
 * A parked context is resumed by loading the frame drawn in
 * switch_aarch64.S.  A coroutine that has never run has no such frame: it
 * is entered by a branch to ba_switch_trampoline, which calls its entry.
 * So all ba_switch_make writes at the top of its stack is what the
 * trampoline needs, and it marks ctx->sp as "never ran" by making it odd (a
 * parked stack's top is always a multiple of 16):
 *
 *     top = lo + size, rounded down to 16
 *     |  FPCR to start with |  entry                     |  top - 16  <- ctx->sp - 1,
 *                                                             sp in the trampoline
 *
 * The first ba_switch_jump into it loads that FPCR (if it differs from the
 * running one) and branches to the trampoline with sp = top - 16, a
 * multiple of 16: AAPCS64 requires it, and Linux has the CPU fault on a
 * load or store through a misaligned sp.  The trampoline's `blr` puts its
 * return address in x30 (nothing is pushed), so entry starts with that same
 * aligned sp and x29 = 0; its prologue saves that x29 as the caller's frame
 * pointer, and a frame-pointer walk stops there.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "switch.h"

const char *ba_switch_backend_name(void)
{
    return "asm";
}

/* The drawing above as a struct, lowest address first: what
 * switch_aarch64.S reads at ctx->sp on a first run. */
struct first_frame {
    uint64_t fpcr;           /* floating-point control to start with */
    switch_entry entry;      /* what the trampoline calls */
};

_Static_assert(sizeof(struct first_frame) == 16, "layout drawn above");
_Static_assert(offsetof(switch_ctx, sp) == 0, "switch_aarch64.S reads ctx->sp at 0");

void ba_switch_fpenv_now(switch_fpenv *out)
{
    /* FPCR holds settings only (the sticky exception flags are in FPSR,
     * which is not carried over: see switch_aarch64.S). */
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    out->fpcr = fpcr;
}

void ba_switch_make(switch_ctx *ctx, void *lo, size_t size, switch_entry entry,
                    const switch_fpenv *fp)
{
    /* Room for the frame and for entry's first frames, at the least. */
    assert(size >= 8 * sizeof(struct first_frame));
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    struct first_frame *f = (struct first_frame *)top - 1;

    *f = (struct first_frame){.fpcr = fp->fpcr, .entry = entry};
    ctx->sp = (char *)f + 1; /* odd: "never ran" (a parked sp is a multiple of 16) */
}
