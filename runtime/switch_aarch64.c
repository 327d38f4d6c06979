/* switch_aarch64.c - the fast backend's C half on aarch64: a new
 * coroutine's first frame.  ba_switch_jump itself is in switch_aarch64.S.
 *
 * ba_switch_jump resumes a context by loading the frame drawn in
 * switch_aarch64.S and executing `ret`, which jumps to the restored x30.  A
 * coroutine that has never run has no such frame, so ba_switch_make writes one
 * at the top of its stack, as if the coroutine had parked inside
 * ba_switch_jump called from ba_switch_trampoline (in the .S file):
 *
 *     top = lo + size, rounded down to 16
 *     |  0                 |  0                          |  top - 16  <- sp in the trampoline
 *     |  x29 = 0           |  x30 = ba_switch_trampoline |  top - 32
 *     |  d8 .. d15 = 0   (8 cells)                       |  top - 96
 *     |  x21 .. x28 = 0  (8 cells)                       |  top - 160
 *     |  x19 = entry       |  x20 = entry_returned       |  top - 176
 *     |  FPCR of creator   |  unused                     |  top - 192  <- ctx->sp
 *
 * x19 and x20 are callee-saved, so they survive into the trampoline, which
 * calls x19 and, should it return, x20.  x29 = 0 ends the frame-pointer
 * chain; the zero pair at the top is an empty frame record, there so that
 * nothing lives above the trampoline.
 *
 * The first ba_switch_jump into it loads those registers and `ret`s to the
 * trampoline with sp = top - 16, a multiple of 16: AAPCS64 requires it,
 * and Linux has the CPU fault on a load or store through a misaligned sp.
 * The trampoline's `blr x19` puts its return address in x30 (nothing is
 * pushed), so entry starts with that same aligned sp; its prologue saves
 * x29 = 0 as the caller's frame pointer, and a frame-pointer walk stops
 * there.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "switch.h"

const char ba_switch_backend_name[] = "asm";

/* The drawing above as a struct, lowest address first.  All but `above`
 * is what switch_aarch64.S loads, at the offsets it hard-codes. */
struct first_frame {
    uint64_t fpcr;           /* floating-point control of the creator */
    uint64_t unused;         /* keeps the frame a multiple of 16 bytes */
    void (*x19)(void);       /* the trampoline calls this first: entry */
    void (*x20)(void);       /* the trampoline calls this if entry returns */
    uint64_t x21_x28[8];     /* zero: a new coroutine has no values yet */
    uint64_t d8_d15[8];      /* zero, likewise (bit patterns of doubles) */
    uint64_t x29;            /* zero: debuggers stop walking frames here */
    void (*x30)(void);       /* ba_switch_trampoline, where `ret` goes */
    uint64_t above[2];       /* zero; the trampoline starts with sp here */
};

_Static_assert(sizeof(struct first_frame) == 192, "layout drawn above");
_Static_assert(offsetof(struct first_frame, x19) == 16, "switch_aarch64.S: x19 at sp + 16");
_Static_assert(offsetof(struct first_frame, d8_d15) == 96, "switch_aarch64.S: d8 at sp + 96");
_Static_assert(offsetof(struct first_frame, x29) == 160, "switch_aarch64.S: x29 at sp + 160");
_Static_assert(offsetof(switch_ctx, sp) == 0, "switch_aarch64.S reads ctx->sp at 0");

/* In switch_aarch64.S: `blr x19; blr x20`. */
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
     * point settings.  FPCR holds settings only (the sticky exception flags
     * are in FPSR, which is not carried over: see switch_aarch64.S). */
    uint64_t fpcr;
    __asm__("mrs %0, fpcr" : "=r"(fpcr));

    *f = (struct first_frame){
        .fpcr = fpcr,
        .x19 = entry,
        .x20 = entry_returned,
        .x30 = ba_switch_trampoline,
    };
    ctx->sp = f;
}
