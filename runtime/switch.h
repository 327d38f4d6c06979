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

/* Prepares ctx so that the first ba_switch_jump into it runs entry() on the
 * stack [lo, lo + size).  entry takes no arguments (it finds its coroutine
 * through the scheduler), so no pointer has to squeeze through makecontext's
 * int arguments.  entry must never return. */
void ba_switch_make(switch_ctx *ctx, void *lo, size_t size, void (*entry)(void));

/* Saves the running context into *from and resumes *to.  Returns when
 * something later jumps back to *from.  The signal mask is the thread's:
 * whatever it is when a switch starts, it still is when the other context
 * runs (both backends). */
void ba_switch_jump(switch_ctx *from, switch_ctx *to);

/* The backend's name, "ucontext" or "asm", for reports. */
extern const char ba_switch_backend_name[];

#endif
