/* switch_asm.c - the fast backend's C half on x86_64: a new coroutine's
 * first frame.  ba_switch_jump itself is in switch_x86_64.S.
 *
 * ba_switch_jump resumes a context by popping the frame drawn in switch_x86_64.S
 * and executing `ret`.  A coroutine that has never run has no such frame, so
 * ba_switch_make writes one at the top of its stack, as if the coroutine had
 * parked inside ba_switch_jump called from ba_switch_trampoline (in the .S
 * file):
 *
 *     top = lo + size, rounded down to 16
 *     |  0                              |  top - 8    nothing lives above the
 *     |  0                              |  top - 16   trampoline: rsp lands here
 *     |  ba_switch_trampoline           |  top - 24   popped by the first `ret`
 *     |  rbp = 0                        |             ends the frame-pointer chain
 *     |  rbx = entry                    |             the trampoline calls *rbx...
 *     |  r12 = entry_returned           |             ...then *r12 if it returned
 *     |  r13, r14, r15 = 0              |
 *     |  MXCSR, x87 CW of the creator   |  top - 80   <- ctx->sp
 *
 * The first ba_switch_jump into it loads those registers, and `ret` jumps to
 * the trampoline with rsp = top - 16, a multiple of 16.  The trampoline's
 * `call *%rbx` pushes 8 bytes, so entry starts with rsp + 8 a multiple of 16:
 * exactly what System V promises every function at its first instruction
 * (and what SSE code that spills to aligned stack slots relies on).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "switch.h"

const char ba_switch_backend_name[] = "asm";

/* The drawing above as a struct, lowest address first.  The first eight
 * words are what switch_x86_64.S pops, at the offsets it hard-codes. */
struct first_frame {
    uint32_t mxcsr;          /* SSE control: rounding mode, exception masks */
    uint16_t x87_cw;         /* x87 control: precision, rounding */
    uint16_t unused;
    uint64_t r15, r14, r13;  /* zero: a new coroutine has no values yet */
    void (*r12)(void);       /* the trampoline calls this if entry returns */
    void (*rbx)(void);       /* the trampoline calls this first: entry */
    uint64_t rbp;            /* zero: debuggers stop walking frames here */
    void (*ret)(void);       /* ba_switch_trampoline */
    uint64_t above[2];       /* zero; the trampoline starts with rsp here */
};

_Static_assert(sizeof(struct first_frame) == 80, "layout drawn above");
_Static_assert(offsetof(switch_ctx, sp) == 0, "switch_x86_64.S reads ctx->sp at 0");

/* In switch_x86_64.S: `call *%rbx; call *%r12`. */
void ba_switch_trampoline(void);

/* Where a coroutine goes if its entry function returns.  It must not --
 * there is no caller to return to -- so say so and abort rather than run
 * off the top of the stack. */
static _Noreturn void entry_returned(void)
{
    static const char msg[] = "bareawait: a coroutine's entry function returned\n";
    ssize_t rc = write(2, msg, sizeof msg - 1);
    (void)rc;
    abort();
}

void ba_switch_make(switch_ctx *ctx, void *lo, size_t size, void (*entry)(void))
{
    assert(size >= 2 * sizeof(struct first_frame));
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    struct first_frame *f = (struct first_frame *)top - 1;

    /* Like pthread_create, a new coroutine inherits its creator's floating
     * point settings.  MXCSR's low 6 bits are sticky "an exception happened"
     * flags, not settings: start with them clear. */
    uint32_t mxcsr;
    uint16_t x87_cw;
    __asm__("stmxcsr %0" : "=m"(mxcsr));
    __asm__("fnstcw %0" : "=m"(x87_cw));

    *f = (struct first_frame){
        .mxcsr = mxcsr & ~UINT32_C(0x3f),
        .x87_cw = x87_cw,
        .r12 = entry_returned,
        .rbx = entry,
        .ret = ba_switch_trampoline,
    };
    ctx->sp = f;
}
