/* switch_asm.c - the fast backend's C half on x86_64: a new coroutine's
 * first frame.  ba_switch_jump itself is in switch_x86_64.S.
 *
 * A parked context is resumed by popping the frame drawn in
 * switch_x86_64.S.  A coroutine that has never run has no such frame: it
 * is entered by a jump to ba_switch_trampoline, which calls its entry.  So
 * all ba_switch_make writes at the top of its stack is what the trampoline
 * needs, and it marks ctx->sp as "never ran" by making it odd (a parked
 * stack's top is always a multiple of 16):
 *
 *     top = lo + size, rounded down to 16
 *     |  entry                          |  top - 8    nothing lives above
 *     |  MXCSR, x87 CW to start with   |  top - 16   <- ctx->sp - 1, and
 *                                                      rsp in the trampoline
 *
 * The first switch into it loads those settings (the x87 word only if it
 * differs from the running one) and jumps to the trampoline with
 * rsp = top - 16,
 * a multiple of 16.  The trampoline's `call` pushes 8 bytes, so entry
 * starts with rsp + 8 a multiple of 16: exactly what System V promises
 * every function at its first instruction (and what SSE code that spills
 * to aligned stack slots relies on).
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
 * switch_x86_64.S reads at ctx->sp on a first run. */
struct first_frame {
    uint32_t mxcsr;          /* SSE control: rounding mode, exception masks */
    uint16_t x87_cw;         /* x87 control: precision, rounding */
    uint16_t unused;
    switch_entry entry;      /* what the trampoline calls */
};

_Static_assert(sizeof(struct first_frame) == 16, "layout drawn above");
_Static_assert(offsetof(switch_ctx, sp) == 0, "switch_x86_64.S reads ctx->sp at 0");

void ba_switch_fpenv_now(switch_fpenv *out)
{
    /* The sticky flags in MXCSR's low 6 bits too, as C11 has a new thread
     * start with its creator's whole floating-point environment: and so a
     * switch between two coroutines that raised nothing loads the value
     * already in force. */
    uint32_t mxcsr;
    uint16_t x87_cw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(x87_cw));
    *out = (switch_fpenv){.mxcsr = mxcsr, .x87_cw = x87_cw};
}

void ba_switch_make(switch_ctx *ctx, void *lo, size_t size, switch_entry entry,
                    const switch_fpenv *fp)
{
    /* Room for the frame and for entry's first frames, at the least. */
    assert(size >= 8 * sizeof(struct first_frame));
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    struct first_frame *f = (struct first_frame *)top - 1;

    *f = (struct first_frame){.mxcsr = fp->mxcsr, .x87_cw = fp->x87_cw, .entry = entry};
    ctx->sp = (char *)f + 1; /* odd: "never ran" (a parked sp is a multiple of 16) */
}
