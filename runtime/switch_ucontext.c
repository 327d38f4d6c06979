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

const char switch_backend_name[] = "ucontext";

static ucontext_t template_uc;
static bool template_ready;

void switch_make(switch_ctx *ctx, void *lo, size_t size, void (*entry)(void))
{
    if (!template_ready) {
        int rc = getcontext(&template_uc);
        assert(rc == 0);
        (void)rc;
        template_ready = true;
    }
    memcpy(&ctx->uc, &template_uc, sizeof ctx->uc);
    /* The copy's FPU-state pointer still points into the template; point
     * it at the copy's own save area, as getcontext would have. */
    ctx->uc.uc_mcontext.fpregs = &ctx->uc.__fpregs_mem;
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL; /* entry never returns */
    makecontext(&ctx->uc, entry, 0);
}

void switch_jump(switch_ctx *from, switch_ctx *to)
{
    int rc = swapcontext(&from->uc, &to->uc);
    assert(rc == 0);
    (void)rc;
}
