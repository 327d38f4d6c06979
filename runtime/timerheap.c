/* timerheap.c - array-backed binary heap: parent of i is (i - 1) / 2. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "timerheap.h"

static void place(timerheap *h, size_t i, timer_node *n)
{
    h->items[i] = n;
    n->index = i;
}

/* Moves the node at i up while it is earlier than its parent. */
static void sift_up(timerheap *h, size_t i)
{
    timer_node *n = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->items[parent]->deadline <= n->deadline)
            break;
        place(h, i, h->items[parent]);
        i = parent;
    }
    place(h, i, n);
}

/* Moves the node at i down while a child is earlier. */
static void sift_down(timerheap *h, size_t i)
{
    timer_node *n = h->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len &&
            h->items[child + 1]->deadline < h->items[child]->deadline)
            child++;
        if (n->deadline <= h->items[child]->deadline)
            break;
        place(h, i, h->items[child]);
        i = child;
    }
    place(h, i, n);
}

int ba_timerheap_grow(timerheap *h, size_t n)
{
    if (n <= h->cap)
        return 0;
    if (n > SIZE_MAX / 2 / sizeof *h->items) { /* cap * size would overflow */
        errno = ENOMEM;
        return -1;
    }
    size_t cap = h->cap ? h->cap : 64;
    while (cap < n)
        cap *= 2;
    timer_node **items = realloc(h->items, cap * sizeof *items);
    if (!items) {
        errno = ENOMEM;
        return -1;
    }
    h->items = items;
    h->cap = cap;
    return 0;
}

void ba_timerheap_insert(timerheap *h, timer_node *n)
{
    assert(h->len < h->cap);
    place(h, h->len++, n);
    sift_up(h, n->index);
}

void ba_timerheap_remove(timerheap *h, timer_node *n)
{
    size_t i = n->index;
    assert(i < h->len && h->items[i] == n);
    n->index = TIMERHEAP_NONE;
    timer_node *last = h->items[--h->len];
    if (last == n)
        return;
    /* Put the last node in the hole; it may belong above or below. */
    place(h, i, last);
    sift_up(h, i);
    sift_down(h, last->index);
}

timer_node *ba_timerheap_peek(const timerheap *h)
{
    return h->len ? h->items[0] : NULL;
}

void ba_timerheap_free(timerheap *h)
{
    free(h->items);
    h->items = NULL;
    h->len = h->cap = 0;
}
