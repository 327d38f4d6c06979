/* test_million.c - a million coroutines parked at once, with guard pages.
 *
 * Each coroutine sleeps 20 ms and exits; all of them are parked in the
 * timer heap at the same moment.  Done twice: spawning alone, then after
 * coro_reserve(1000000).  Peak resident memory must stay within 5 GiB
 * (4 KiB a coroutine, plus page tables and the runtime's arrays) where a
 * parked coroutine keeps one page, as it does on x86_64 and with the asm
 * backend; with ucontext on aarch64 it keeps two (see pages_each).
 * Skipped (exit 77, saying why) under
 * valgrind or ASan (too slow there), when the machine lacks the memory, or
 * when the kernel has no MADV_GUARD_INSTALL and max_map_count cannot hold
 * two mappings per stack, or under qemu-user (BA_UNDER_QEMU).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "ba_config.h"

#include "check.h"
#include <bareawait/coro.h>
#include "sanitize.h"

#define COUNT 1000000
#define NEED_BYTES (6ull << 30)     /* a page each: ~4 GiB, with room to spare */
#define MAX_PEAK_BYTES (5ll << 30)  /* a page each: the asm backend's target */

/* Pages a parked coroutine keeps: the top of its stack, which holds its
 * handle.  With the ucontext backend the handle holds a ucontext_t: 1 KiB
 * on x86_64, 4.5 KiB on aarch64, where that makes two pages. */
static unsigned pages_each(void)
{
#if BA_SWITCH_ASM
    return 1;
#else
    return (unsigned)((sizeof(ucontext_t) + 1024 + 4095) / 4096);
#endif
}

static long parked, max_parked, finished;

static void *sleeper(void *arg)
{
    (void)arg;
    if (++parked > max_parked)
        max_parked = parked;
    coro_sleep_until(coro_deadline_in(20));
    parked--;
    finished++;
    return NULL;
}

struct run {
    bool reserve;
    long spawned;
};

static void *spawner(void *arg)
{
    struct run *r = arg;
    long *spawned = &r->spawned;
    coro_opts opts = {.detached = true, .name = "sleeper"};
    if (r->reserve && !CHECK_INT(coro_reserve(COUNT, 0), 0))
        return NULL;
    for (; *spawned < COUNT; ++*spawned)
        if (!coro_spawn(sleeper, NULL, &opts))
            break;
    return NULL;
}

static const char *why_skip(void)
{
    if (san_on_valgrind())
        return "too slow under valgrind";
    if (check_under_qemu()) /* stack.c falls back to mprotect guards there */
        return "under qemu-user: emulated, and a guard page each would need "
               "two million mappings (vm.max_map_count)";
#ifdef BA_ASAN
    return "too slow under ASan";
#endif
    long long avail = check_proc_kib("/proc/meminfo", "MemAvailable:") * 1024;
    static char why[64];
    if (avail >= 0 && (unsigned long long)avail < NEED_BYTES * pages_each()) {
        snprintf(why, sizeof why, "less than %llu GiB of memory available",
                 (NEED_BYTES * pages_each()) >> 30);
        return why;
    }
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int guards = p != MAP_FAILED && madvise(p, 4096, 102 /* MADV_GUARD_INSTALL */) == 0;
    if (p != MAP_FAILED)
        munmap(p, 4096);
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    long maps = 0;
    if (f && fscanf(f, "%ld", &maps) != 1)
        maps = 0;
    if (f)
        fclose(f);
    if (!guards && maps < 2L * COUNT + 10000)
        return "no MADV_GUARD_INSTALL and vm.max_map_count too small for mprotect guards";
    return NULL;
}

/* One million sleepers, spawned by one coroutine; checks that all were
 * parked at once and all finished. */
static void run_million(bool reserve)
{
    struct run r = {.reserve = reserve};
    parked = max_parked = finished = 0;
    int64_t t0 = coro_now();
    coro_spawn(spawner, &r, NULL);
    CHECK_INT(coro_run(), 0);
    double secs = (double)(coro_now() - t0) / 1e9;
    CHECK_INT(r.spawned, COUNT);
    CHECK_INT(max_parked, COUNT);
    CHECK_INT(finished, COUNT);
    printf("%d coroutines parked at once%s; spawn, sleep, exit and teardown took %.2f s\n",
           COUNT, reserve ? ", after coro_reserve" : "", secs);
}

int main(void)
{
    const char *skip = why_skip();
    if (skip) {
        printf("skipped: %s\n", skip);
        return 77;
    }
    run_million(false);
    run_million(true);
    long long peak = check_proc_kib("/proc/self/status", "VmHWM:") * 1024;
    printf("peak RSS %lld MiB\n", peak >> 20);
    long long limit = MAX_PEAK_BYTES * pages_each();
    if (!CHECK(peak > 0 && peak <= limit))
        fprintf(stderr, "  peak RSS %lld MiB, limit %lld MiB\n", peak >> 20, limit >> 20);
    return check_summary();
}
