/* switch_asm.h - saved state for the x86_64 assembly backend: one pointer.
 *
 * Why so little?  To the code that calls it, switch_jump is an ordinary
 * function call.  The System V ABI lets a called function clobber rax, rcx,
 * rdx, rsi, rdi, r8-r11, every xmm register and the flags, so the compiler
 * has already saved whatever it still needs from those before the call.
 * What a function must hand back unchanged are the *callee-saved* ones:
 * rsp, rbp, rbx, r12-r15, the control bits of MXCSR (SSE rounding and
 * exception masks) and the x87 control word.  So switch_jump pushes those
 * onto the stack it is leaving, and the only thing left to remember is where
 * that stack's top now is.  (ucontext saves ~1 KiB, signal mask included,
 * with a syscall; the signal mask belongs to the thread, not to a coroutine.)
 *
 * A parked coroutine's stack, as switch_jump left it:
 *
 *     higher addresses
 *     |  ... the parked code's own frames ...        |
 *     |  return address into its switch_jump caller  |  sp + 56
 *     |  rbp                                         |  sp + 48
 *     |  rbx                                         |  sp + 40
 *     |  r12                                         |  sp + 32
 *     |  r13                                         |  sp + 24
 *     |  r14                                         |  sp + 16
 *     |  r15                                         |  sp + 8
 *     |  unused (2) | x87 control word (2) | MXCSR (4)|  sp + 0  <- ctx->sp
 *     lower addresses: the stack grows down
 *
 * Resuming is the mirror image: load rsp from ctx->sp, pop the same slots in
 * reverse, and `ret` returns into the code that called switch_jump back when
 * it parked.  A coroutine that never ran gets this frame written by hand
 * (switch_make, drawn in switch_asm.c).
 */
#ifndef BAREAWAIT_SWITCH_ASM_H
#define BAREAWAIT_SWITCH_ASM_H

typedef struct switch_ctx {
    void *sp; /* the parked stack's top (the drawing above); stale while
                 the context runs.  switch_x86_64.S expects it at offset 0 */
} switch_ctx;

#endif
