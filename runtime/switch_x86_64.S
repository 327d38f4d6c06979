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
 * The floating-point state that a call preserves: MXCSR (SSE rounding and
 * exception masks; its six low bits are sticky "an exception happened"
 * flags) and the x87 control word.  Both are saved on every switch; they
 * are restored differently, because the two instructions that read and
 * write them cost differently:
 *   MXCSR  loaded as saved, always (ldmxcsr of any value is cheap).  The
 *          costly part would be to *compare*: the branch would wait for
 *          stmxcsr, the slowest instruction here, and a load of what it
 *          just stored (a copy of each way in a loop: 8.0 ns against
 *          5.5-6.2 ns on the AMD EPYC VM of bench/results/PEERS.md;
 *          Boost.Context loads it always too).  So the sticky flags come back with the coroutine
 *          that raised them, which the ABI allows (it leaves them to the
 *          caller).  Where ldmxcsr of a *different* value is slow (an
 *          earlier session's Intel VM: ~70 ns), two coroutines whose flags
 *          differ pay that on each switch between them.
 *   x87 CW compared (fnstcw is cheap), loaded only when it differs: fldcw
 *          of a new value costs ~50 ns.
 * The compare reads back the field at the size it was stored (a wider load
 * over two fresh stores would stall store forwarding), and the x87 load and
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
	movzwl	4(%rsp), %ecx	/* ours, to compare with theirs (scratch) */
	movq	%rsp, (%rdi)	/* from->sp = rsp: we are parked */

	/* 2. The switch: pick up their stack pointer.  From the next
	 *    instruction on we are on the other coroutine's stack.  (The
	 *    trampoline comes here too, with nothing to save.) */
.Lswitch_in:
	movq	(%rsi), %rdx	/* to->sp: odd if it never ran */
	testb	$1, %dl
	jne	.Lfirst_run
	movq	%rdx, %rsp	/* rsp = to->sp */

	/* 3. Restore what they saved when they parked, in reverse order. */
	ldmxcsr	(%rsp)
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

	/* Out of line: their x87 control word differs from ours. */
.Lload_cw:
	fldcw	4(%rsp)
	jmp	.Lpop

	/* Out of line: a coroutine that never ran.  Its stack holds only what
	 * ba_switch_make wrote; nothing to pop.  Enter it by a jump: a `ret`
	 * here would return to an address no `call` pushed. */
.Lfirst_run:
	leaq	-1(%rdx), %rsp	/* the frame ba_switch_make wrote */
	movq	8(%rsp), %rdx	/* its entry */
	ldmxcsr	(%rsp)
	cmpw	4(%rsp), %cx
	je	1f
	fldcw	4(%rsp)
1:	xorl	%ebp, %ebp	/* debuggers stop walking frames here */
	jmp	ba_switch_trampoline	/* with the entry in rdx */
	.size	ba_switch_jump, .-ba_switch_jump

/* A new coroutine starts here, with rsp a multiple of 16 and its entry in
 * rdx; the `call` pushes 8 bytes, so entry starts with rsp + 8 a multiple
 * of 16, as System V promises every function. */
	.type	ba_switch_trampoline, @function
	.p2align 4
ba_switch_trampoline:
	.cfi_startproc
	.cfi_undefined rip	/* the outermost frame: debuggers stop here */
	call	*%rdx		/* entry(): returns the context to resume */
	/* Done: this stack is never resumed, so nothing of it is saved.  Its
	 * x87 control word goes in ecx, as step 1 leaves it, and the context
	 * to resume in rsi. */
	movq	%rax, %rsi
	subq	$8, %rsp
	fnstcw	4(%rsp)
	movzwl	4(%rsp), %ecx
	jmp	.Lswitch_in
	.cfi_endproc
	.size	ba_switch_trampoline, .-ba_switch_trampoline

/* This code needs no executable stack; without this note the linker would
 * assume it does. */
	.section .note.GNU-stack,"",@progbits
