/* switch_ucontext.c - the reference backend: POSIX ucontext.
 *
 * makecontext needs a context that getcontext filled in.  getcontext is a
 * syscall (it reads the signal mask), so we call it once, keep the result as
 * a template, and copy the template for every new coroutine.
 */
#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "switch.h"

const char ba_switch_backend_name[] = "ucontext";

static ucontext_t template_uc;
static bool template_ready;

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

void ba_switch_make(switch_ctx *ctx, void *lo, size_t size, void (*entry)(void))
{
    if (!template_ready) {
        int rc = getcontext(&template_uc);
        assert(rc == 0);
        (void)rc;
        template_ready = true;
    }
    memcpy(&ctx->uc, &template_uc, sizeof ctx->uc);
    own_fpregs(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL; /* entry never returns */
    makecontext(&ctx->uc, entry, 0);
}

void ba_switch_jump(switch_ctx *from, switch_ctx *to)
{
    int rc = swapcontext(&from->uc, &to->uc);
    assert(rc == 0);
    (void)rc;
}
