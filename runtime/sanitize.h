/* sanitize.h - telling AddressSanitizer and valgrind about our stacks.
 *
 * ASan tracks one stack per thread; when we switch stacks it must be told
 * (start_switch_fiber before, finish_switch_fiber after), or it reports
 * false stack overflows and mis-attributes frames.  valgrind likewise wants
 * every coroutine stack registered, and ThreadSanitizer each stack as a
 * fiber.  Without these tools they compile to nothing.
 */
#ifndef BAREAWAIT_SANITIZE_H
#define BAREAWAIT_SANITIZE_H

#include <stddef.h>

#include "ba_config.h"

#if defined(__SANITIZE_ADDRESS__)
#define BA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BA_ASAN 1
#endif
#endif

#ifdef BA_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
/* About to switch to the stack [bottom, bottom + size).  *fake keeps ASan's
 * per-fiber state; pass fake == NULL when the current fiber is dying. */
static inline void san_switch_begin(void **fake, const void *bottom, size_t size)
{
    __sanitizer_start_switch_fiber(fake, bottom, size);
}
/* Just arrived on a stack; reports the stack we came from. */
static inline void san_switch_end(void *fake, const void **old_bottom, size_t *old_size)
{
    __sanitizer_finish_switch_fiber(fake, old_bottom, old_size);
}
/* A recycled stack may still carry poison from its last owner's frames. */
static inline void san_stack_reset(void *lo, size_t size)
{
    __asan_unpoison_memory_region(lo, size);
}
#else
static inline void san_switch_begin(void **fake, const void *bottom, size_t size)
{
    (void)fake, (void)bottom, (void)size;
}
static inline void san_switch_end(void *fake, const void **old_bottom, size_t *old_size)
{
    (void)fake, (void)old_bottom, (void)old_size;
}
static inline void san_stack_reset(void *lo, size_t size)
{
    (void)lo, (void)size;
}
#endif

#if defined(__SANITIZE_THREAD__)
#define BA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BA_TSAN 1
#endif
#endif

/* ThreadSanitizer keeps a shadow stack and a happens-before clock per
 * thread; on a stack switch it must be told which "fiber" runs now, or it
 * mixes two coroutines' frames and misses or invents races.  A switch with
 * flags 0 also orders the two fibers (the one left happens before the one
 * entered), as the coroutines of one thread are.
 *
 * A fiber exists only while its coroutine is under way: made at its first
 * switch in, destroyed at its last switch out.  TSan counts fibers as
 * threads, with a limit of about 8k at once, and a new one costs it a
 * large zeroed allocation: a coroutine spawned and not yet run, or
 * finished and not yet joined, holds none.  (So ten thousand spawned at
 * once are fine; ten thousand *parked* at once are over TSan's limit.)
 * One still parked when its runtime ends in deadlock keeps its fiber (of
 * TSan's memory) until the process exits.
 *
 * Reading a report: with the ucontext backend, a coroutine's stack in it
 * ends in the switch_to that first ran it.  ba_switch_jump is C there,
 * instrumented, and entered after the fiber switch: its entry is counted
 * on the fiber switched to, and a new context never returns from it.
 * (The asm backend's jump is not instrumented.) */
#ifdef BA_TSAN
#include <sanitizer/tsan_interface.h>
/* The fiber of the code running now (a thread's own, outside coroutines). */
static inline void *san_fiber_current(void)
{
    return __tsan_get_current_fiber();
}
/* From now on *fiber runs; made first if *fiber is NULL (a first run). */
static inline void san_fiber_switch(void **fiber)
{
    if (!*fiber)
        *fiber = __tsan_create_fiber(0);
    __tsan_switch_to_fiber(*fiber, 0);
}
/* Destroys *fiber, if any, and sets it to NULL.  *fiber must not be the
 * one running. */
static inline void san_fiber_destroy(void **fiber)
{
    if (*fiber)
        __tsan_destroy_fiber(*fiber);
    *fiber = NULL;
}
/* 1 in a ThreadSanitizer build: tests keep fewer coroutines under way. */
static inline int san_on_tsan(void)
{
    return 1;
}
#else
static inline void *san_fiber_current(void)
{
    return 0;
}
static inline void san_fiber_switch(void **fiber)
{
    (void)fiber;
}
static inline void san_fiber_destroy(void **fiber)
{
    (void)fiber;
}
static inline int san_on_tsan(void)
{
    return 0;
}
#endif

/* 1 when a sanitizer follows our stack switches (ASan or TSan).  Each
 * needs to be told of a switch right before the jump, with nothing of the
 * old stack's code run after it: the scheduler then lets a finished
 * coroutine leave by an ordinary switch, not by returning to the
 * trampoline (scheduler.c, coro_entry). */
#if defined(BA_ASAN) || defined(BA_TSAN)
#define BA_SAN_FIBERS 1
#else
#define BA_SAN_FIBERS 0
#endif

#if HAVE_VALGRIND_H
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
/* A guard page, as memcheck should see it: no access.  (It cannot know
 * what madvise(MADV_GUARD_INSTALL) did; its leak check would otherwise
 * read every guard page of a process that dies holding them, taking a
 * SIGSEGV each.) */
/* A recycled stack, as memcheck should see it: writable, contents
 * undefined.  (Below its last owner's stack pointer memcheck had marked it
 * unaddressable, and a new handle, coloured differently, may land there.) */
static inline void san_valgrind_reuse(void *lo, size_t size)
{
    if (RUNNING_ON_VALGRIND)
        (void)VALGRIND_MAKE_MEM_UNDEFINED(lo, size);
}
static inline void san_valgrind_noaccess(void *page, size_t size)
{
    if (RUNNING_ON_VALGRIND)
        (void)VALGRIND_MAKE_MEM_NOACCESS(page, size);
}
static inline unsigned san_valgrind_register(void *lo, void *hi)
{
    return RUNNING_ON_VALGRIND ? VALGRIND_STACK_REGISTER(lo, hi) : 0;
}
static inline void san_valgrind_deregister(unsigned id)
{
    if (RUNNING_ON_VALGRIND)
        VALGRIND_STACK_DEREGISTER(id);
}
static inline int san_on_valgrind(void)
{
    return RUNNING_ON_VALGRIND;
}
#else
static inline void san_valgrind_reuse(void *lo, size_t size)
{
    (void)lo, (void)size;
}
static inline void san_valgrind_noaccess(void *page, size_t size)
{
    (void)page, (void)size;
}
static inline unsigned san_valgrind_register(void *lo, void *hi)
{
    (void)lo, (void)hi;
    return 0;
}
static inline void san_valgrind_deregister(unsigned id)
{
    (void)id;
}
static inline int san_on_valgrind(void)
{
    return 0;
}
#endif

#endif
