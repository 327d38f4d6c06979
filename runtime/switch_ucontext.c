/* switch_ucontext.c - the reference backend: POSIX ucontext.
 *
 * makecontext needs a context that getcontext filled in.  getcontext is a
 * syscall (it reads the signal mask), so we call it once, keep the result as
 * a template, and copy the template for every new coroutine.
 *
 * The signal mask.  The rule (switch.h, coro.h) is that it belongs to the
 * thread: a switch neither saves nor restores it.  glibc's swapcontext
 * does both, in its one rt_sigprocmask call: it saves the thread's mask
 * into `from` and installs the one saved in `to` -- a mask per coroutine,
 * so that a SIGTERM blocked in one coroutine would be unblocked again by
 * the next switch.  We undo that on arrival: the context we came from has
 * just had the thread's mask saved into it, the kernel has just installed
 * ours (saved when we last left, or the template's); only when the two
 * differ -- someone changed the mask while we were away -- do we put the
 * thread's back, with a second syscall.  Most switches find them equal and
 * cost no more than before.  (The faster version is the asm backend, which
 * never touches the mask: no syscall at all.)
 */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "switch.h"

const char *ba_switch_backend_name(void)
{
    return "ucontext";
}

/* The kernel reads and writes only this much of a sigset_t (8 bytes on
 * Linux; glibc's type is 128): the rest of a saved mask is never written,
 * so it is not compared. */
#define KERNEL_SIGSET_BYTES (_NSIG / 8)

/* What every new context starts as: getcontext's, once per process. */
static ucontext_t template_uc;
static pthread_once_t template_once = PTHREAD_ONCE_INIT;

/* Set by ba_switch_jump just before its swapcontext, read on arrival in
 * the other context (nothing runs in between); per thread, as switches are. */
static _Thread_local const switch_ctx *leaving;  /* holds the thread's mask, just saved */
static _Thread_local switch_ctx *arriving; /* a new context finds itself here */

static void template_make(void)
{
    int rc = getcontext(&template_uc);
    assert(rc == 0);
    (void)rc;
}

#if defined(__x86_64__)
/* glibc's x86_64 ucontext_t holds its FPU state in __fpregs_mem and points
 * at it from uc_mcontext.fpregs.  A copy's pointer still points into the
 * template; point it at the copy's own save area, as getcontext would. */
static void own_fpregs(ucontext_t *uc)
{
    uc->uc_mcontext.fpregs = &uc->__fpregs_mem;
}
#else
/* Elsewhere (aarch64: the FP registers sit inside uc_mcontext.__reserved)
 * nothing in a ucontext_t points into itself, so a plain copy is whole. */
static void own_fpregs(ucontext_t *uc)
{
    (void)uc;
}
#endif

/* On arrival: `installed` is the mask swapcontext just put in place. */
static void keep_thread_mask(const sigset_t *installed)
{
    const sigset_t *thread = &leaving->uc.uc_sigmask;
    if (memcmp(installed, thread, KERNEL_SIGSET_BYTES) != 0)
        pthread_sigmask(SIG_SETMASK, thread, NULL);
}

/* What makecontext starts: a new context's first arrival, and, once its
 * entry returns, its last switch.  (Saving the finished context there is
 * wasted but harmless: nothing jumps to it again.) */
static void first_run(void)
{
    switch_ctx *self = arriving;
    keep_thread_mask(&self->uc.uc_sigmask);
    switch_ctx *next = self->entry();
    ba_switch_jump(self, next);
    abort(); /* switch.h: a finished context is never resumed */
}

void ba_switch_fpenv_now(switch_fpenv *out)
{
    out->unused = 0;
}

void ba_switch_make(switch_ctx *ctx, void *lo, size_t size, switch_entry entry,
                    const switch_fpenv *fp)
{
    (void)fp; /* the template's settings: switch.h */
    pthread_once(&template_once, template_make);
    memcpy(&ctx->uc, &template_uc, sizeof ctx->uc);
    own_fpregs(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL; /* first_run never returns */
    ctx->entry = entry;
    makecontext(&ctx->uc, first_run, 0);
}

void ba_switch_jump(switch_ctx *from, switch_ctx *to)
{
    leaving = from;
    arriving = to;
    int rc = swapcontext(&from->uc, &to->uc);
    assert(rc == 0);
    (void)rc;
    keep_thread_mask(&from->uc.uc_sigmask); /* we are `from` again */
}
