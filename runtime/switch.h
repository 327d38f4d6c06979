/* switch.h - the context-switch backend: the only code that touches
 * registers.  Two implementations share this tiny interface, picked by the
 * meson option -Dswitch:
 *   switch_ucontext.c  getcontext/makecontext/swapcontext (the reference;
 *                      glibc's swapcontext also swaps the signal mask, with
 *                      a sigprocmask syscall on every switch, which the
 *                      backend undoes: see the rule below)
 *   asm                callee-saved registers only (fast); one pair of
 *                      files per architecture, and meson refuses
 *                      -Dswitch=asm on any other:
 *                        x86_64   switch_asm.c + switch_x86_64.S
 *                        aarch64  switch_aarch64.c + switch_aarch64.S
 * Internal to the runtime; bench/sched uses it to time the raw primitive.
 */
#ifndef BAREAWAIT_SWITCH_H
#define BAREAWAIT_SWITCH_H

#include <stddef.h>

#include "ba_config.h"

#if BA_SWITCH_ASM
#include "switch_asm.h"
#else
#include "switch_ucontext.h"
#endif

/* What a new context runs: it returns, when it is done, the context to
 * resume in its place.  Its own context is dead then, and is never
 * resumed: nothing may jump to it again. */
typedef struct switch_ctx *(*switch_entry)(void);

/* The floating-point control settings running now (rounding mode,
 * exception masks...; with ucontext an empty record): what a runtime hands
 * its new contexts, read once when it starts on a thread. */
void ba_switch_fpenv_now(switch_fpenv *out);

/* Prepares ctx so that the first ba_switch_jump into it runs entry() on the
 * stack [lo, lo + size).  Its floating-point control settings: with asm,
 * *fp (the runtime passes those its thread had when it started), loaded at
 * its first run whatever ran before it, so a finished coroutine's rounding
 * mode never leaks into a new one; with ucontext, those of the process's
 * first ba_switch_make (its getcontext template), and fp is not read.
 * Reading the running settings is the slow part of a switch on x86_64
 * (stmxcsr), so a spawn does not.  entry takes no arguments (it finds its
 * coroutine through the scheduler), so no pointer has to squeeze through
 * makecontext's int arguments. */
void ba_switch_make(switch_ctx *ctx, void *lo, size_t size, switch_entry entry,
                    const switch_fpenv *fp);

/* Saves the running context into *from and resumes *to: where it parked
 * in an earlier ba_switch_jump, or at its entry if it never ran.  Returns
 * when something later jumps back to *from.  The signal mask is the
 * thread's: whatever it is when a switch starts, it still is when the
 * other context runs (both backends). */
void ba_switch_jump(switch_ctx *from, switch_ctx *to);

/* The backend's name, "ucontext" or "asm", for reports.  A function, not
 * an array: an exported array gets an ASan ODR marker symbol
 * (__odr_asan.<name>) beside it, a name outside the library's prefixes. */
const char *ba_switch_backend_name(void);

#endif
