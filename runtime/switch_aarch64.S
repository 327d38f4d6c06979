/* switch_aarch64.S - ba_switch_jump for aarch64 Linux (AAPCS64).
 *
 * What a called function must hand back unchanged under AAPCS64, and so
 * what ba_switch_jump saves (everything else the caller has saved already, if
 * it still needs it: see switch_asm.h):
 *   x19-x28          general registers
 *   x29 (fp), x30 (lr), sp
 *   d8-d15           the low 64 bits of v8-v15 (the upper halves are not
 *                    callee-saved: callers keep them if they need them)
 *   FPCR             floating-point *control*: rounding mode, flush-to-zero,
 *                    default NaN.  A coroutine that sets a rounding mode
 *                    must not leak it into the one it switches to.
 * Not saved: FPSR, floating-point *status* (the sticky "an exception
 * happened" flags and the saturation flag).  The ABI does not preserve it
 * across calls either -- any callee may raise a flag -- so no caller can
 * rely on it surviving a call to ba_switch_jump.
 *
 * A parked coroutine's stack, as ba_switch_jump leaves it (176 bytes, so sp
 * stays a multiple of 16: aarch64 faults on a misaligned sp used for a
 * load or store):
 *
 *     higher addresses
 *     |  ... the parked code's own frames ...        |
 *     |  x29 (fp)          |  x30 (lr): where to     |  sp + 160
 *     |                    |  resume, in its caller  |
 *     |  d14               |  d15                    |  sp + 144
 *     |  d12               |  d13                    |  sp + 128
 *     |  d10               |  d11                    |  sp + 112
 *     |  d8                |  d9                     |  sp + 96
 *     |  x27               |  x28                    |  sp + 80
 *     |  x25               |  x26                    |  sp + 64
 *     |  x23               |  x24                    |  sp + 48
 *     |  x21               |  x22                    |  sp + 32
 *     |  x19               |  x20                    |  sp + 16
 *     |  FPCR              |  unused                 |  sp + 0  <- ctx->sp
 *     lower addresses: the stack grows down; each cell is 8 bytes
 *
 * Unlike x86, `bl` does not push the return address: it is in x30, saved
 * here with the rest, and `ret` jumps to x30.
 *
 * A coroutine that never ran has no such frame (ba_switch_make, drawn in
 * switch_aarch64.c, writes only its FPCR and its entry, and makes ctx->sp
 * odd to say so) and is entered by a branch to ba_switch_trampoline, which
 * calls the entry; when the entry returns (the
 * coroutine is done) the trampoline resumes the context it returned,
 * saving nothing.  So every `bl` is matched by one `ret`, and the CPU's
 * return-address predictor (a stack of the addresses `bl` wrote) stays in
 * step: switch_x86_64.S says why that matters.
 *
 * No BTI landing pads or PAC signing.  BTI: this object carries no GNU
 * property note saying it has landing pads, so the linker marks the program
 * as not BTI-ready and the kernel leaves branch-target checks off.  PAC:
 * ba_switch_jump neither signs nor checks x30.  Code built with pac-ret signs
 * and checks its own return address in its own frame, on its own stack, so
 * a switch does not disturb it; the x30 saved here is only ever loaded back
 * by this same code, from the same stack.
 */
	.text

/* void ba_switch_jump(switch_ctx *from, switch_ctx *to)
 *                  from in x0,       to in x1          */
	.globl	ba_switch_jump
	.type	ba_switch_jump, %function
	.p2align 4
ba_switch_jump:
	/* 1. Save what our caller expects a call to preserve. */
	sub	sp, sp, #176
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	stp	x29, x30, [sp, #160]
	mrs	x9, fpcr		/* x9-x11: scratch, the ABI lets us clobber them */
	str	x9, [sp]
	mov	x10, sp
	str	x10, [x0]		/* from->sp = sp: we are parked */

	/* 2. The switch: pick up their stack pointer (sp cannot be loaded
	 *    directly: it goes through x10).  From the `mov sp` on we are on
	 *    the other coroutine's stack.  (The trampoline comes here too,
	 *    with nothing to save.) */
.Lswitch_in:
	ldr	x10, [x1]		/* to->sp: odd if it never ran */
	tbnz	x10, #0, .Lfirst_run
	mov	sp, x10

	/* 3. Restore what they saved when they parked.  FPCR is written only
	 *    if it differs: it almost never does, and on some cores a write to
	 *    it waits for every floating point instruction in flight. */
	ldr	x10, [sp]
	cmp	x9, x10
	b.eq	1f
	msr	fpcr, x10
1:	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	ldp	x29, x30, [sp, #160]
	add	sp, sp, #176
	ret				/* to x30: their ba_switch_jump caller */

	/* Out of line: a coroutine that never ran.  Its stack holds only what
	 * ba_switch_make wrote; enter it by a branch, not a `ret`. */
.Lfirst_run:
	sub	x10, x10, #1		/* the frame ba_switch_make wrote */
	mov	sp, x10
	ldp	x10, x11, [sp]		/* its FPCR and its entry */
	cmp	x9, x10
	b.eq	2f
	msr	fpcr, x10
2:	mov	x29, xzr		/* debuggers stop walking frames here */
	b	ba_switch_trampoline	/* with the entry in x11 */
	.size	ba_switch_jump, .-ba_switch_jump

/* A new coroutine starts here, with sp a multiple of 16 and its entry in
 * x11. */
	.type	ba_switch_trampoline, %function
	.p2align 4
ba_switch_trampoline:
	.cfi_startproc
	.cfi_undefined x30	/* the outermost frame: debuggers stop here */
	blr	x11		/* entry(): returns the context to resume */
	/* Done: this stack is never resumed, so nothing of it is saved.  Our
	 * FPCR goes in x9, as step 1 leaves it, and the context in x1. */
	mov	x1, x0
	mrs	x9, fpcr
	b	.Lswitch_in
	.cfi_endproc
	.size	ba_switch_trampoline, .-ba_switch_trampoline

	.section .note.GNU-stack,"",%progbits
