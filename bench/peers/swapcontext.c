/* bench/peers/swapcontext.c - the floor under the ucontext backend: two
 * contexts ping-ponging through glibc's swapcontext, nothing else.
 *
 *   swapcontext N     N round trips; prints "switch_ns <one-way ns>"
 *
 * Each swapcontext saves and restores the signal mask (a sigprocmask
 * syscall) as bareawait's ucontext backend does, so this is the pair that
 * backend's yield is compared with.  One-way: a round trip is two switches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

static ucontext_t main_ctx, peer_ctx;
static long rounds;

static void peer(void)
{
    for (;;)
        swapcontext(&peer_ctx, &main_ctx);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 200000;
    if (rounds < 1) {
        fprintf(stderr, "usage: swapcontext [ROUND-TRIPS]\n");
        return 2;
    }
    static char stack[64 * 1024];
    getcontext(&peer_ctx);
    peer_ctx.uc_stack.ss_sp = stack;
    peer_ctx.uc_stack.ss_size = sizeof stack;
    peer_ctx.uc_link = NULL;
    makecontext(&peer_ctx, peer, 0);
    swapcontext(&main_ctx, &peer_ctx); /* warm: the peer's first run */
    double t0 = now_ns();
    for (long i = 0; i < rounds; i++)
        swapcontext(&main_ctx, &peer_ctx);
    double t1 = now_ns();
    printf("switch_ns %.2f\n", (t1 - t0) / (2.0 * (double)rounds));
    return 0;
}
