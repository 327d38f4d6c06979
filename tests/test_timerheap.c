/* test_timerheap.c - the runtime's internal deadline heap (timerheap.h).
 *
 * The reference is deliberately dumb: a flag per node saying whether it is
 * in the heap, and a linear scan for the minimum.  A fixed-seed random walk
 * of inserts and removes is applied to both; after every step the heap must
 * agree with the reference and its own bookkeeping must be consistent.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "sanitize.h"
#include "timerheap.h"

#define NODES 200

static timer_node nodes[NODES];
static bool in_heap[NODES]; /* the reference */

/* xorshift64: the same sequence on every machine and libc. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The reference's answer for peek: the earliest deadline, INT64_MAX if none. */
static int64_t reference_min(size_t *count)
{
    int64_t min = INT64_MAX;
    *count = 0;
    for (int i = 0; i < NODES; i++) {
        if (in_heap[i]) {
            (*count)++;
            if (nodes[i].deadline < min)
                min = nodes[i].deadline;
        }
    }
    return min;
}

/* Everything that must hold between operations.  Returns 0 on the first
 * broken rule (after reporting it), so one bug does not print thousands. */
static int heap_is_consistent(const timerheap *h, long op)
{
    size_t count;
    int64_t min = reference_min(&count);
    if (!CHECK_INT(h->len, count) || !CHECK(h->len <= h->cap))
        goto broken;
    timer_node *top = ba_timerheap_peek(h);
    if (!CHECK_INT(top ? top->deadline : INT64_MAX, min))
        goto broken;
    for (size_t i = 0; i < h->len; i++) {
        timer_node *n = h->items[i];
        if (!CHECK_INT(n->index, i) || !CHECK(in_heap[n - nodes]))
            goto broken;
        if (i > 0 && !CHECK(h->items[(i - 1) / 2]->deadline <= n->deadline))
            goto broken;
    }
    for (int i = 0; i < NODES; i++)
        if (!in_heap[i] && !CHECK(nodes[i].index == TIMERHEAP_NONE))
            goto broken;
    return 1;
broken:
    fprintf(stderr, "  (after operation %ld)\n", op);
    return 0;
}

/* Random inserts and removes; deadlines from a small range so that ties are
 * common.  Biased towards inserting while the heap is small. */
static void test_random_walk(void)
{
    long ops = san_on_valgrind() ? 5000 : 50000;
    timerheap h = {0};
    for (int i = 0; i < NODES; i++) {
        nodes[i].index = TIMERHEAP_NONE;
        in_heap[i] = false;
    }
    if (!CHECK_INT(ba_timerheap_reserve(&h, NODES), 0))
        return;
    for (long op = 0; op < ops; op++) {
        int i = (int)(rng() % NODES);
        if (in_heap[i]) {
            ba_timerheap_remove(&h, &nodes[i]);
            in_heap[i] = false;
        } else {
            nodes[i].deadline = (int64_t)(rng() % 1000) - 500; /* negatives too */
            ba_timerheap_insert(&h, &nodes[i]);
            in_heap[i] = true;
        }
        if (!heap_is_consistent(&h, op))
            break;
    }
    ba_timerheap_free(&h);
    CHECK(h.items == NULL);
    CHECK_INT(h.len, 0);
}

/* Taking the minimum until empty yields the deadlines in order. */
static void test_drains_in_order(void)
{
    timerheap h = {0};
    if (!CHECK_INT(ba_timerheap_reserve(&h, NODES), 0))
        return;
    for (int i = 0; i < NODES; i++) {
        nodes[i].deadline = (int64_t)(rng() % 100000);
        ba_timerheap_insert(&h, &nodes[i]);
    }
    int64_t last = INT64_MIN;
    int taken = 0, out_of_order = 0;
    timer_node *n;
    while ((n = ba_timerheap_peek(&h))) {
        out_of_order += n->deadline < last;
        last = n->deadline;
        ba_timerheap_remove(&h, n);
        CHECK(n->index == TIMERHEAP_NONE);
        taken++;
    }
    CHECK_INT(taken, NODES);
    CHECK_INT(out_of_order, 0);
    ba_timerheap_free(&h);
}

static void test_edges(void)
{
    timerheap h = {0};
    CHECK(ba_timerheap_peek(&h) == NULL);
    CHECK_INT(ba_timerheap_reserve(&h, 0), 0);
    CHECK_INT(ba_timerheap_reserve(&h, 1000), 0);
    CHECK(h.cap >= 1000);
    size_t cap = h.cap;
    CHECK_INT(ba_timerheap_reserve(&h, 10), 0); /* never shrinks */
    CHECK_INT(h.cap, cap);

    /* One node: in, top, out. */
    timer_node a = {.deadline = 5, .index = TIMERHEAP_NONE};
    ba_timerheap_insert(&h, &a);
    CHECK(ba_timerheap_peek(&h) == &a);
    CHECK_INT(a.index, 0);
    ba_timerheap_remove(&h, &a);
    CHECK(ba_timerheap_peek(&h) == NULL);
    CHECK(a.index == TIMERHEAP_NONE);

    /* Extremes of the deadline range (CORO_NEVER is INT64_MAX). */
    timer_node lo = {.deadline = INT64_MIN}, hi = {.deadline = INT64_MAX};
    ba_timerheap_insert(&h, &hi);
    ba_timerheap_insert(&h, &lo);
    CHECK(ba_timerheap_peek(&h) == &lo);
    ba_timerheap_remove(&h, &lo);
    CHECK(ba_timerheap_peek(&h) == &hi);
    ba_timerheap_remove(&h, &hi);
    ba_timerheap_free(&h);
    CHECK_INT(h.cap, 0);
}

static const check_case tests[] = {
    {"random inserts and removes against a reference", test_random_walk},
    {"drains in order", test_drains_in_order},
    {"edges", test_edges},
};

int main(void)
{
    return check_run(tests, sizeof tests / sizeof tests[0], 0);
}
