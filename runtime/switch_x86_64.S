/* switch_x86_64.S - ba_switch_jump for x86_64 System V (Linux, the BSDs).
 *
 * Why only these registers: switch_asm.h.  AT&T syntax: `op source, dest`.
 *
 * A parked coroutine's stack, as ba_switch_jump leaves it:
 *
 *     higher addresses
 *     |  ... the parked code's own frames ...        |
 *     |  return address into its ba_switch_jump caller  |  sp + 56
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
 * reverse, and `ret` returns into the code that called ba_switch_jump back when
 * it parked.
 *
 * A coroutine that never ran has no such frame (ba_switch_make, drawn in
 * switch_asm.c, writes only the floating-point settings it starts with and
 * its entry, and
 * makes ctx->sp odd to say so) and is entered by a jump to
 * ba_switch_trampoline, which calls the entry.  When the entry
 * returns -- the coroutine is done -- the trampoline resumes the context it
 * returned, saving nothing.  Why not `ret` into the trampoline, and a last
 * ba_switch_jump out of the finished coroutine: the CPU predicts each `ret`
 * from a small ring of the addresses its `call`s pushed.  A `ret` no `call`
 * matched, and calls that are never returned from (a finished coroutine's
 * frames), leave stale entries in that ring, and the returns that meet them
 * are mispredicted.  This way, in a spawn and a join, every call is matched
 * by its return: the caller that started the coroutine pushed the address
 * the finished one's last `ret` lands on.
 *
 * No endbr64 or shadow-stack handling: this object carries no CET property
 * note, so the linker marks the program as not CET-ready and the kernel
 * leaves the shadow stack off.  (With it on, every switch would have to
 * switch shadow stacks too: a `ret` on the other stack returns to an
 * address this thread's shadow stack never had pushed, and would fault.)
 */
	.text

/* void ba_switch_jump(switch_ctx *from, switch_ctx *to)
 *                  from in rdi,      to in rsi
 *
 * The floating-point control state (MXCSR, x87 CW) is saved on every
 * switch but loaded only when its control bits differ from the running
 * one's: ldmxcsr and fldcw cost more than the rest of the switch together
 * (far more when the value changes), and nearly always every coroutine of
 * a thread runs with the same settings.  MXCSR's six low bits are sticky
 * "an exception happened" flags, which the ABI leaves to the caller (not
 * preserved across a call), so they do not count as a difference: else
 * one inexact division in main() would make every switch load.  The
 * compare reads back each field at the size it was stored (a wider load
 * over two fresh stores would stall store forwarding), and the loads and
 * the first run of a new coroutine are out of line, so the common path is
 * straight and ends in the `ret` the return stack buffer predicts. */
	.globl	ba_switch_jump
	.type	ba_switch_jump, @function
	.p2align 4
ba_switch_jump:
	/* 1. Save what our caller expects a call to preserve.  The call
	 *    itself already pushed the return address. */
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)		/* SSE control and status, 4 bytes */
	fnstcw	4(%rsp)		/* x87 control word, 2 bytes */
	movl	(%rsp), %eax	/* ours, to compare with theirs (eax, ecx, */
	movzwl	4(%rsp), %ecx	/* rdx: scratch, the ABI lets us clobber them) */
	movq	%rsp, (%rdi)	/* from->sp = rsp: we are parked */

	/* 2. The switch: pick up their stack pointer.  From the next
	 *    instruction on we are on the other coroutine's stack. */
	movq	(%rsi), %rdx	/* to->sp: odd if it never ran */
	testb	$1, %dl
	jne	.Lfirst_run
	movq	%rdx, %rsp	/* rsp = to->sp */

	/* 3. Restore what they saved when they parked, in reverse order. */
	xorl	(%rsp), %eax	/* which bits differ, */
	testl	$~0x3f, %eax	/* not counting the six status flags */
	jne	.Lload_mxcsr
.Lmxcsr_done:
	cmpw	4(%rsp), %cx
	jne	.Lload_cw
.Lpop:
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret			/* into their ba_switch_jump caller */

	/* Out of line: their settings differ from ours. */
.Lload_mxcsr:
	ldmxcsr	(%rsp)
	jmp	.Lmxcsr_done
.Lload_cw:
	fldcw	4(%rsp)
	jmp	.Lpop

	/* Out of line: a coroutine that never ran.  Its stack holds only what
	 * ba_switch_make wrote; nothing to pop.  Enter it by a jump: a `ret`
	 * here would return to an address no `call` pushed. */
.Lfirst_run:
	leaq	-1(%rdx), %rsp	/* the frame ba_switch_make wrote */
	movq	8(%rsp), %rdx	/* its entry */
	xorl	(%rsp), %eax
	testl	$~0x3f, %eax
	je	1f
	ldmxcsr	(%rsp)
1:	cmpw	4(%rsp), %cx
	je	2f
	fldcw	4(%rsp)
2:	xorl	%ebp, %ebp	/* debuggers stop walking frames here */
	jmp	ba_switch_trampoline	/* with the entry in rdx */
	.size	ba_switch_jump, .-ba_switch_jump

/* A new coroutine starts here, with rsp a multiple of 16 and its entry in
 * rdx; the `call` pushes 8 bytes, so entry starts with rsp + 8 a multiple
 * of 16, as System V promises every function.
 *
 * When entry returns, the coroutine is done: this stack is never resumed,
 * so nothing of it is saved, and its settings are not read either (stmxcsr
 * is the slowest instruction of a switch): the next context's are loaded
 * as they are, whether or not they differ.  ldmxcsr and fldcw of the
 * value already in force cost little; this way a rounding mode the
 * finished coroutine set dies with it. */
	.type	ba_switch_trampoline, @function
	.p2align 4
ba_switch_trampoline:
	.cfi_startproc
	.cfi_undefined rip	/* the outermost frame: debuggers stop here */
	call	*%rdx		/* entry(): returns the context to resume */
	movq	(%rax), %rdx	/* its sp: odd if it never ran */
	testb	$1, %dl
	jne	.Lnext_is_new
	movq	%rdx, %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	jmp	.Lpop
.Lnext_is_new:
	leaq	-1(%rdx), %rsp	/* its first frame, as in .Lfirst_run */
	movq	8(%rsp), %rdx
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	xorl	%ebp, %ebp
	jmp	ba_switch_trampoline
	.cfi_endproc
	.size	ba_switch_trampoline, .-ba_switch_trampoline

/* This code needs no executable stack; without this note the linker would
 * assume it does. */
	.section .note.GNU-stack,"",@progbits
