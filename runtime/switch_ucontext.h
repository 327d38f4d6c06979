/* switch_ucontext.h - saved state for the ucontext backend: the whole
 * ucontext_t (~1 KiB: general registers, FPU environment, signal mask). */
#ifndef BAREAWAIT_SWITCH_UCONTEXT_H
#define BAREAWAIT_SWITCH_UCONTEXT_H

#include <ucontext.h>

typedef struct switch_ctx {
    ucontext_t uc;        /* what swapcontext saves and restores */
    struct switch_ctx *(*entry)(void); /* what a new context runs first */
} switch_ctx;

/* A new context takes its floating-point settings from the getcontext
 * template (switch_ucontext.c): nothing to hand over. */
typedef struct switch_fpenv {
    char unused;
} switch_fpenv;

#endif
