/* stack.c - slots carved from big mappings, guard pages, free lists.
 *
 * Simple on purpose: freed slots keep their pages (no MADV_DONTNEED), so a
 * burst of a million coroutines leaves its memory committed until the
 * runtime shuts down.  A long-running server would return idle slots to
 * the kernel in the background.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sanitize.h"
#include "stack.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13; older headers lack it */
#endif

#define FIRST_CHUNK_SLOTS 16     /* the first mapping of a size is small... */
#define MAX_CHUNK_SLOTS 16384    /* ...and each next one twice as big, to this */

struct free_slot {               /* lives at the top of a free slot */
    struct free_slot *next;
};

struct chunk {                   /* one big mapping */
    struct chunk *next;
    char *base;                  /* what mmap returned */
    size_t len;                  /* its length */
    unsigned *valgrind_ids;      /* per carved slot, when under valgrind */
    size_t carved;               /* slots handed out at least once */
};

struct pool {                    /* all slots of one size */
    struct pool *next;
    size_t slot_size;            /* guard page + usable bytes */
    struct free_slot *free;      /* returned slots, most recent first */
    struct chunk *chunks;        /* newest first; carving happens in the head */
    size_t next_chunk_slots;     /* size of the next mapping, in slots */
};

static struct pool *pools;
static size_t page_size;
static bool guard_by_mprotect;   /* kernel lacks MADV_GUARD_INSTALL */

size_t stack_page_size(void)
{
    if (!page_size)
        page_size = (size_t)sysconf(_SC_PAGESIZE);
    return page_size;
}

static struct pool *pool_for(size_t slot_size)
{
    for (struct pool *p = pools; p; p = p->next)
        if (p->slot_size == slot_size)
            return p;
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->slot_size = slot_size;
    p->next_chunk_slots = FIRST_CHUNK_SLOTS;
    p->next = pools;
    pools = p;
    return p;
}

/* Maps a new chunk: address space only (MAP_NORESERVE), nothing committed. */
static struct chunk *chunk_new(struct pool *p)
{
    struct chunk *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    size_t slots = p->next_chunk_slots;
    c->len = slots * p->slot_size;
    c->base = mmap(NULL, c->len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (c->base == MAP_FAILED)
        goto fail;
    if (san_on_valgrind()) {
        c->valgrind_ids = calloc(slots, sizeof *c->valgrind_ids);
        if (!c->valgrind_ids)
            goto fail_unmap;
    }
    c->next = p->chunks;
    p->chunks = c;
    if (p->next_chunk_slots < MAX_CHUNK_SLOTS)
        p->next_chunk_slots *= 2;
    return c;
fail_unmap:
    munmap(c->base, c->len);
fail:
    free(c);
    return NULL;
}

/* Makes the lowest page of a fresh slot fault on any access. */
static int guard_install(char *page)
{
    if (!guard_by_mprotect) {
        if (madvise(page, stack_page_size(), MADV_GUARD_INSTALL) == 0)
            return 0;
        if (errno != EINVAL)
            return -1;
        guard_by_mprotect = true; /* older kernel: fall back for good */
    }
    return mprotect(page, stack_page_size(), PROT_NONE);
}

/* Takes the next never-used slot from the newest chunk (mapping a new one
 * when it is full) and puts its guard page in place. */
static int carve(struct pool *p, stack_slot *out)
{
    struct chunk *c = p->chunks;
    if (!c || (c->carved + 1) * p->slot_size > c->len) {
        c = chunk_new(p);
        if (!c)
            return -1;
    }
    char *base = c->base + c->carved * p->slot_size;
    if (guard_install(base) < 0)
        return -1;
    out->lo = base + stack_page_size();
    out->hi = base + p->slot_size;
    if (c->valgrind_ids)
        c->valgrind_ids[c->carved] = san_valgrind_register(out->lo, out->hi);
    c->carved++;
    return 0;
}

int stack_get(size_t size, stack_slot *out)
{
    size_t page = stack_page_size();
    if (size > SIZE_MAX / 2)
        goto nomem;
    size_t slot_size = page + (size + page - 1) / page * page;
    struct pool *p = pool_for(slot_size);
    if (!p)
        goto nomem;
    if (p->free) {
        struct free_slot *f = p->free;
        p->free = f->next;
        out->hi = (char *)f + sizeof *f;
        out->lo = out->hi - (slot_size - page);
        san_stack_reset(out->lo, slot_size - page);
        return 0;
    }
    if (carve(p, out) == 0)
        return 0;
nomem:
    errno = ENOMEM;
    return -1;
}

void stack_put(const stack_slot *s)
{
    size_t slot_size = (size_t)(s->hi - s->lo) + stack_page_size();
    struct pool *p = pool_for(slot_size);
    if (!p)
        return; /* cannot happen: the pool exists since the slot came from it */
    struct free_slot *f = (struct free_slot *)(s->hi - sizeof *f);
    f->next = p->free;
    p->free = f;
}

void stack_release_all(void)
{
    while (pools) {
        struct pool *p = pools;
        pools = p->next;
        while (p->chunks) {
            struct chunk *c = p->chunks;
            p->chunks = c->next;
            for (size_t i = 0; c->valgrind_ids && i < c->carved; i++)
                san_valgrind_deregister(c->valgrind_ids[i]);
            munmap(c->base, c->len);
            free(c->valgrind_ids);
            free(c);
        }
        free(p);
    }
}

bool stack_is_guard_hit(const char *lo, const void *addr)
{
    const char *a = addr;
    return a < lo && a >= lo - stack_page_size();
}
