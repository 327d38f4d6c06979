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
 * mixes two coroutines' frames and misses or invents races. */
#ifdef BA_TSAN
#include <sanitizer/tsan_interface.h>
static inline void *san_fiber_create(void)
{
    return __tsan_create_fiber(0);
}
static inline void *san_fiber_current(void)
{
    return __tsan_get_current_fiber();
}
static inline void san_fiber_switch(void *fiber)
{
    __tsan_switch_to_fiber(fiber, 0);
}
static inline void san_fiber_destroy(void *fiber)
{
    if (fiber)
        __tsan_destroy_fiber(fiber);
}
#else
static inline void *san_fiber_create(void)
{
    return 0;
}
static inline void *san_fiber_current(void)
{
    return 0;
}
static inline void san_fiber_switch(void *fiber)
{
    (void)fiber;
}
static inline void san_fiber_destroy(void *fiber)
{
    (void)fiber;
}
#endif

#if HAVE_VALGRIND_H
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
/* A guard page, as memcheck should see it: no access.  (It cannot know
 * what madvise(MADV_GUARD_INSTALL) did; its leak check would otherwise
 * read every guard page of a process that dies holding them, taking a
 * SIGSEGV each.) */
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
