/* stack.h - coroutine stacks.
 *
 * A slot is [guard page][usable bytes ... top).  Slots are carved out of
 * large anonymous mappings (reserved, not committed: a page costs memory
 * only once touched), so a million stacks need ~70 mappings, not a million.
 * The guard page below each slot is installed with MADV_GUARD_INSTALL where
 * the kernel has it (no new mapping; 64 per system call where
 * process_madvise takes it) and with mprotect otherwise.  Freed slots go on
 * a free list per slot size and are reused first.
 * Per thread: each thread's runtime has its own pools, and every call acts
 * on the calling thread's (a slot goes back to the pool it came from).
 * Internal to the runtime.
 */
#ifndef BAREAWAIT_STACK_H
#define BAREAWAIT_STACK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct stack_slot {
    char *lo;  /* lowest usable byte, just above the guard page */
    char *hi;  /* one past the highest usable byte (the stack grows down
                  from here) */
} stack_slot;

/* Hands out a slot with at least `size` usable bytes (rounded up to whole
 * pages).  Its memory may hold a previous owner's bytes.  On failure its lo
 * is NULL, and errno = ENOMEM.  (Returned by value, in two registers: a
 * slot written to memory and read back at once as one 16-byte copy stalls
 * the CPU's store forwarding.) */
stack_slot ba_stack_get(size_t size);

/* Makes the next `count` ba_stack_get(size) calls cheap: maps the slots,
 * installs their guard pages and faults in every page of the top `hot`
 * bytes of each (what a new coroutine touches at once: its handle, its
 * first frames) now, on up to one thread per usable core (threads that end
 * before this returns).  Slots on the free list count.  0, or -1 with
 * errno = ENOMEM. */
int ba_stack_reserve(size_t size, size_t count, size_t hot);

/* Returns a slot to the free list of its size.  Its memory stays mapped. */
void ba_stack_put(const stack_slot *s);

/* Unmaps every slot, free or not.  Called when the runtime shuts down. */
void ba_stack_release_all(void);

/* True if addr falls in the guard page below the slot whose usable bytes
 * start at lo: that is a stack overflow.  Async-signal-safe. */
bool ba_stack_is_guard_hit(const char *lo, const void *addr);

/* The page size (cached). */
size_t ba_stack_page_size(void);

#endif
