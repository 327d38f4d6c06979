/* switch_asm.h - saved state for the assembly backends: one pointer.
 *
 * Why so little?  To the code that calls it, ba_switch_jump is an ordinary
 * function call, and the ABI lets a called function clobber most registers
 * (on x86_64: rax, rcx, rdx, rsi, rdi, r8-r11, every xmm register and the
 * flags; on aarch64: x0-x18 and all but the low halves of v8-v15), so the
 * compiler has already saved whatever it still needs from those before the
 * call.  What a function must hand back unchanged are the *callee-saved*
 * ones:
 *   x86_64   rsp, rbp, rbx, r12-r15, the control bits of MXCSR (SSE
 *            rounding and exception masks) and the x87 control word
 *   aarch64  sp, x19-x28, x29 (fp), x30 (lr, where to return), d8-d15
 *            and FPCR (rounding mode, flush-to-zero)
 * So ba_switch_jump pushes those onto the stack it is leaving, and the only
 * thing left to remember is where that stack's top now is.  (ucontext saves
 * ~1 KiB, signal mask included, with a syscall; the signal mask belongs to
 * the thread, not to a coroutine.)
 *
 * Which registers, in which slots, is the architecture's business, so each
 * frame is drawn next to the code that writes it:
 *   x86_64   switch_x86_64.S (a parked frame), switch_asm.c (a first frame)
 *   aarch64  switch_aarch64.S (a parked frame), switch_aarch64.c (a first one)
 * Both keep the one pointer below, so the rest of the runtime does not care
 * which it runs on.  A context that never ran has no frame yet: its sp is
 * odd (a parked stack's top is a multiple of 16) and points one byte past
 * what ba_switch_make wrote for the trampoline (drawn in the .c files).
 */
#ifndef BAREAWAIT_SWITCH_ASM_H
#define BAREAWAIT_SWITCH_ASM_H

#include <stdint.h>

typedef struct switch_ctx {
    void *sp; /* the parked stack's top (the frame drawn in the .S file);
                 stale while the context runs.  Both .S files expect it at
                 offset 0 */
} switch_ctx;

/* Floating-point control settings, as a first frame holds them. */
typedef struct switch_fpenv {
#if defined(__x86_64__)
    uint32_t mxcsr;  /* control bits and the six sticky flags */
    uint16_t x87_cw;
#else
    uint64_t fpcr;
#endif
} switch_fpenv;

#endif
