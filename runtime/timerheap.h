/* timerheap.h - a binary min-heap of deadlines.
 *
 * Nodes are embedded in their owners (a coroutine embeds one), and each
 * node remembers its position so it can be removed in O(log n) when its
 * owner wakes for another reason.  The heap never allocates on insert: the
 * owner reserves room beforehand (ba_timerheap_reserve), so parking cannot fail.
 * Internal to the runtime.
 */
#ifndef BAREAWAIT_TIMERHEAP_H
#define BAREAWAIT_TIMERHEAP_H

#include <stddef.h>
#include <stdint.h>

#define TIMERHEAP_NONE SIZE_MAX /* index of a node that is not in the heap */

typedef struct timer_node {
    int64_t deadline; /* monotonic ns */
    size_t index;     /* position in the heap, TIMERHEAP_NONE if absent */
} timer_node;

typedef struct timerheap {
    timer_node **items; /* items[0] has the earliest deadline */
    size_t len;         /* nodes in the heap */
    size_t cap;         /* room in items */
} timerheap;

/* ba_timerheap_reserve's work when the heap must grow. */
int ba_timerheap_grow(timerheap *h, size_t n);

/* Makes sure `n` nodes fit.  0, or -1/ENOMEM.  (Inline: every spawn asks,
 * and the answer is nearly always "they do".) */
static inline int ba_timerheap_reserve(timerheap *h, size_t n)
{
    return n <= h->cap ? 0 : ba_timerheap_grow(h, n);
}

/* Adds a node (room must have been reserved; asserted). */
void ba_timerheap_insert(timerheap *h, timer_node *n);

/* Removes a node that is in the heap. */
void ba_timerheap_remove(timerheap *h, timer_node *n);

/* The node with the earliest deadline, or NULL when empty. */
timer_node *ba_timerheap_peek(const timerheap *h);

/* Frees the heap's array. */
void ba_timerheap_free(timerheap *h);

#endif
