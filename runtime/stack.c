/* stack.c - slots carved from big mappings, guard pages, free lists.
 *
 * Simple on purpose: freed slots keep their pages (no MADV_DONTNEED), so a
 * burst of a million coroutines leaves its memory committed until the
 * runtime shuts down.  A long-running server would return idle slots to
 * the kernel in the background.
 *
 * Where the time goes when a million stacks are made: not in this file's
 * bookkeeping but in the kernel.  Each stack needs a guard page (a system
 * call) and one fresh page at its top (a page fault: the kernel zeroes a
 * page and maps it, ~1.7 us on the dev VM).  So guards go in 64 at a time
 * with one process_madvise() call, and ba_stack_reserve() spreads the page
 * faults over the cores we may use.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sanitize.h"
#include "stack.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13; older headers lack it */
#endif

#ifndef PIDFD_SELF_THREAD
#define PIDFD_SELF_THREAD (-10000) /* "the calling thread" for pidfd calls */
#endif

#define FIRST_CHUNK_SLOTS 16     /* the first mapping of a size is small... */
#define MAX_CHUNK_SLOTS 16384    /* ...and each next one twice as big, to this */
#define GUARD_BATCH 64           /* guards per process_madvise call */
#define MAX_HELPERS 8            /* threads ba_stack_reserve may use */
#define SLOTS_PER_HELPER 8192    /* ...and no more than one per this many slots */
#define HELPER_STACK ((size_t)64 * 1024) /* a helper needs a few KiB */

struct free_slot {               /* lives at the top of a free slot */
    struct free_slot *next;
};

struct chunk {                   /* one big mapping */
    struct chunk *next;
    char *base;                  /* what mmap returned */
    size_t len;                  /* its length */
    unsigned *valgrind_ids;      /* per carved slot, when under valgrind */
    size_t carved;               /* slots handed out at least once */
    size_t guarded;              /* slots [0, guarded) have their guard page */
};

struct pool {                    /* all slots of one size */
    struct pool *next;
    size_t slot_size;            /* guard page + usable bytes */
    struct free_slot *free;      /* returned slots, most recent first */
    size_t free_count;           /* how many */
    struct chunk *chunks;        /* newest first; carving happens in the head */
    size_t next_chunk_slots;     /* size of the next mapping, in slots */
    bool valgrind;               /* under valgrind: tell it of reused slots
                                    (asked once: the question costs a
                                    dozen instructions a spawn) */
};

/* How guard pages are put in, from fastest to slowest.  Decided by
 * guard_settle() at the first guard of the process (two runtimes' threads
 * that get there at once decide the same) and never changed after:
 * ba_stack_reserve's helper threads only read it. */
enum guard_how {
    GUARD_UNKNOWN,
    GUARD_BATCHED,   /* process_madvise(MADV_GUARD_INSTALL), 64 per call */
    GUARD_MADVISE,   /* madvise(MADV_GUARD_INSTALL), one call per guard */
    GUARD_MPROTECT,  /* older kernel, or a madvise that only pretends
                        (qemu-user): a PROT_NONE mapping each */
};

/* The calling thread's pools: each runtime has its own stacks. */
static _Thread_local struct pool *pools;
/* Facts of the process, the same whichever thread finds them out first:
 * relaxed atomics, as two threads may both write the same value. */
static _Atomic size_t page_size;
static _Atomic enum guard_how guard_how;

/* The page size, found out once.  Inline for the hot paths here (an
 * exported function called from this file is not inlined in a PIC
 * build). */
static inline size_t page_bytes(void)
{
    size_t size = atomic_load_explicit(&page_size, memory_order_relaxed);
    if (!size) {
        size = (size_t)sysconf(_SC_PAGESIZE);
        atomic_store_explicit(&page_size, size, memory_order_relaxed);
    }
    return size;
}

size_t ba_stack_page_size(void)
{
    return page_bytes();
}

/* A new, empty pool for slots of slot_size, or NULL.  Out of line: the
 * hot paths below only find the pool they need. */
__attribute__((noinline)) static struct pool *pool_new(size_t slot_size)
{
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->slot_size = slot_size;
    p->next_chunk_slots = FIRST_CHUNK_SLOTS;
    p->valgrind = san_on_valgrind() != 0;
    p->next = pools;
    pools = p;
    return p;
}

static inline struct pool *pool_for(size_t slot_size)
{
    for (struct pool *p = pools; p; p = p->next)
        if (p->slot_size == slot_size)
            return p;
    return pool_new(slot_size);
}

static size_t chunk_slots(const struct pool *p, const struct chunk *c)
{
    return c->len / p->slot_size;
}

/* Maps a new chunk of `slots` slots and makes it the one carved from:
 * address space only (MAP_NORESERVE), nothing committed. */
static struct chunk *chunk_new(struct pool *p, size_t slots)
{
    if (slots > SIZE_MAX / p->slot_size)
        return NULL;
    struct chunk *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
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
    return c;
fail_unmap:
    munmap(c->base, c->len);
fail:
    free(c);
    return NULL;
}

/* Is the guard page the kernel just said yes to really there?  An emulator
 * may answer 0 to an advice it does not know and install nothing (qemu-user
 * 7.2 does, for madvise), and then an overflow would write into the next
 * stack down instead of faulting.  A system call that reads a guard page
 * fails with EFAULT, so let write() copy one byte of it into a pipe.
 * Without a spare pipe (out of fds) we cannot tell, and trust the answer. */
static bool guard_is_real(const char *page)
{
    int fd[2];
    if (pipe2(fd, O_CLOEXEC) < 0)
        return true;
    int saved = errno;
    bool real = write(fd[1], page, 1) < 0 && errno == EFAULT;
    close(fd[0]);
    close(fd[1]);
    errno = saved;
    return real;
}

/* Up to GUARD_BATCH guards in one system call, through process_madvise on
 * our own process (PIDFD_SELF_THREAD: this thread, whose memory is the
 * process's).  0 if all are in, else -1.  (64 per call is as fast as the
 * 1024 the kernel allows, and keeps this frame at 1 KiB.) */
static int guard_batch(char *first, size_t stride, size_t n)
{
#ifdef SYS_process_madvise
    struct iovec iov[GUARD_BATCH];
    for (size_t i = 0; i < n; i++) {
        iov[i].iov_base = first + i * stride;
        iov[i].iov_len = ba_stack_page_size();
    }
    long done = syscall(SYS_process_madvise, PIDFD_SELF_THREAD, iov, n, MADV_GUARD_INSTALL, 0);
    return done == (long)(n * ba_stack_page_size()) ? 0 : -1;
#else
    (void)first, (void)stride, (void)n;
    errno = ENOSYS;
    return -1;
#endif
}

/* Decides how guards are put in, by guarding `page` (the process's first
 * guard) the fastest way that works.  Every later guard only reads
 * guard_how. */
static int guard_settle(char *page)
{
    size_t size = ba_stack_page_size();
    /* (valgrind 3.19 knows no process_madvise: straight to madvise there.) */
    if (!san_on_valgrind() && guard_batch(page, size, 1) == 0)
        guard_how = guard_is_real(page) ? GUARD_BATCHED : GUARD_MPROTECT;
    else if (madvise(page, size, MADV_GUARD_INSTALL) == 0)
        guard_how = guard_is_real(page) ? GUARD_MADVISE : GUARD_MPROTECT;
    else if (errno == EINVAL) /* a kernel before 6.13 */
        guard_how = GUARD_MPROTECT;
    else
        return -1; /* ENOMEM and the like: decide next time */
    return guard_how == GUARD_MPROTECT ? mprotect(page, size, PROT_NONE) : 0;
}

/* Guards n <= GUARD_BATCH slots in a row, the first at `first`: in one
 * call if the kernel can, else one by one. */
static int guard_window(char *first, size_t stride, size_t n)
{
    if (guard_how == GUARD_BATCHED && guard_batch(first, stride, n) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) { /* installing a guard twice is harmless */
        char *page = first + i * stride;
        int rc = guard_how == GUARD_MPROTECT
                     ? mprotect(page, ba_stack_page_size(), PROT_NONE)
                     : madvise(page, ba_stack_page_size(), MADV_GUARD_INSTALL);
        if (rc < 0)
            return -1;
        san_valgrind_noaccess(page, ba_stack_page_size());
    }
    return 0;
}

/* Puts the guard page below each of the slots [from, to) of chunk c. */
static int guard_slots(const struct pool *p, struct chunk *c, size_t from, size_t to)
{
    if (guard_how == GUARD_UNKNOWN && from < to) {
        if (guard_settle(c->base + from * p->slot_size) < 0)
            return -1;
        san_valgrind_noaccess(c->base + from * p->slot_size, ba_stack_page_size());
        from++;
    }
    for (size_t at = from; at < to; at += GUARD_BATCH) {
        size_t left = to - at;
        if (guard_window(c->base + at * p->slot_size, p->slot_size,
                         left < GUARD_BATCH ? left : GUARD_BATCH) < 0)
            return -1;
    }
    return 0;
}

/* Takes the next never-used slot from the newest chunk (mapping a new one
 * when it is full).  Guards are put in GUARD_BATCH slots ahead: a guard
 * costs no memory, and one system call for 64 of them is faster than 64
 * (0.40 s instead of 0.75 s for a million, on the dev VM).  Its lo is
 * NULL if no slot could be had.  Out of line: the hot path is a free
 * slot. */
__attribute__((noinline)) static stack_slot carve(struct pool *p)
{
    struct chunk *c = p->chunks;
    if (!c || c->carved == chunk_slots(p, c)) {
        c = chunk_new(p, p->next_chunk_slots);
        if (!c)
            return (stack_slot){NULL, NULL};
        if (p->next_chunk_slots < MAX_CHUNK_SLOTS)
            p->next_chunk_slots *= 2;
    }
    if (c->carved == c->guarded) {
        size_t end = c->carved + GUARD_BATCH;
        if (end > chunk_slots(p, c))
            end = chunk_slots(p, c);
        if (guard_slots(p, c, c->carved, end) < 0)
            return (stack_slot){NULL, NULL};
        c->guarded = end;
    }
    char *base = c->base + c->carved * p->slot_size;
    stack_slot out = {base + ba_stack_page_size(), base + p->slot_size};
    if (c->valgrind_ids)
        c->valgrind_ids[c->carved] = san_valgrind_register(out.lo, out.hi);
    c->carved++;
    return out;
}

/* A guard page and `size` rounded up to whole pages (a power of two). */
static size_t slot_size_for(size_t size)
{
    size_t page = page_bytes();
    return page + ((size + page - 1) & ~(page - 1));
}

stack_slot ba_stack_get(size_t size)
{
    if (size > SIZE_MAX / 2)
        goto nomem;
    size_t slot_size = slot_size_for(size);
    size_t usable = slot_size - page_bytes();
    struct pool *p = pool_for(slot_size);
    if (!p)
        goto nomem;
    if (p->free) {
        struct free_slot *f = p->free;
        p->free = f->next;
        p->free_count--;
        char *hi = (char *)f + sizeof *f;
        san_stack_reset(hi - usable, usable);
        if (p->valgrind)
            san_valgrind_reuse(hi - usable, usable);
        return (stack_slot){hi - usable, hi};
    }
    stack_slot out = carve(p);
    if (out.lo)
        return out;
nomem:
    errno = ENOMEM;
    return (stack_slot){NULL, NULL};
}

void ba_stack_put(const stack_slot *s)
{
    size_t slot_size = (size_t)(s->hi - s->lo) + page_bytes();
    struct pool *p = pool_for(slot_size);
    if (!p)
        return; /* cannot happen: the pool exists since the slot came from it */
    struct free_slot *f = (struct free_slot *)(s->hi - sizeof *f);
    f->next = p->free;
    p->free = f;
    p->free_count++;
}

/* ---- ba_stack_reserve: slots made ready ahead, page faults spread over cores */

struct share {                   /* one thread's part of the slots to prepare */
    const struct pool *p;
    struct chunk *c;
    size_t from, to;
    size_t hot;                  /* bytes at the top of each to fault in */
    int err;
};

/* Guards the slots [from, to) and writes a byte into each page of the top
 * `hot` bytes of each, so that the kernel hands out the pages where the
 * coroutine's handle and first frames will live now, on this thread,
 * instead of at spawn. */
static void *prepare_share(void *arg)
{
    struct share *s = arg;
    s->err = guard_slots(s->p, s->c, s->from, s->to);
    for (size_t i = s->from; i < s->to && !s->err; i++) {
        char *top = s->c->base + (i + 1) * s->p->slot_size;
        for (size_t down = 1; down <= s->hot; down += ba_stack_page_size())
            *(volatile char *)(top - down) = 0;
    }
    return NULL;
}

static size_t cores_we_may_use(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0)
        return 1;
    return (size_t)CPU_COUNT(&set);
}

/* Starts a helper thread on one share: with a small stack (it needs a few
 * KiB, not the default 8 MiB) and every signal blocked, so that a signal
 * meant for the process is never handled on a thread the program does not
 * know about. */
static bool start_helper(pthread_t *t, struct share *s)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return false;
    pthread_attr_setstacksize(&attr, HELPER_STACK);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool started = pthread_create(t, &attr, prepare_share, s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return started;
}

/* Prepares slots [from, to) of chunk c on up to one thread per core.  The
 * threads touch disjoint pages of one mapping; the kernel takes their page
 * faults in parallel (per-VMA locks), which is the whole point.  They are
 * joined before this returns: no thread outlives the call. */
static int prepare(const struct pool *p, struct chunk *c, size_t from, size_t to, size_t hot)
{
    size_t most = cores_we_may_use();
    if (most > MAX_HELPERS)
        most = MAX_HELPERS;
    if (most < 1)
        most = 1;
    size_t shares = 1 + (to - from) / SLOTS_PER_HELPER;
    if (shares > most)
        shares = most;
    struct share part[MAX_HELPERS] = {{NULL}}; /* (all set below; analyzers cannot tell) */
    pthread_t thread[MAX_HELPERS];
    bool started[MAX_HELPERS] = {false};
    size_t each = (to - from + shares - 1) / shares;
    for (size_t i = 0; i < shares; i++) {
        size_t a = from + i * each < to ? from + i * each : to;
        part[i] = (struct share){p, c, a, a + each < to ? a + each : to, hot, 0};
    }
    /* Our own part first, up to its first guard: if that is the first guard
     * of the process, it decides how guards are put in (guard_settle)
     * before any helper reads that. */
    struct share head = part[0];
    head.to = head.from + 1;
    prepare_share(&head);
    if (head.err)
        return -1;
    part[0].from++;
    for (size_t i = 1; i < shares; i++)
        started[i] = start_helper(&thread[i], &part[i]);
    int err = 0;
    for (size_t i = 0; i < shares; i++) {
        if (started[i])
            pthread_join(thread[i], NULL);
        else
            prepare_share(&part[i]); /* ours, or a thread that could not start */
        err |= part[i].err;
    }
    return err ? -1 : 0;
}

int ba_stack_reserve(size_t size, size_t count, size_t hot)
{
    if (size > SIZE_MAX / 2)
        goto nomem;
    if (hot > size)
        hot = size;
    struct pool *p = pool_for(slot_size_for(size));
    if (!p)
        goto nomem;
    if (count <= p->free_count)
        return 0; /* freed slots are ready already */
    count -= p->free_count;
    struct chunk *c = p->chunks;
    if (c && chunk_slots(p, c) - c->carved < count) {
        /* Not enough room left here for the whole burst.  Hand out the rest
         * of this chunk through the free list (an earlier reservation may
         * have faulted it in), so that none of it is stranded when the new
         * chunk becomes the one carved from. */
        while (c->carved < chunk_slots(p, c)) {
            stack_slot s = carve(p);
            if (!s.lo)
                goto nomem;
            ba_stack_put(&s);
            count--;
        }
        c = NULL;
    }
    if (!c) {
        c = chunk_new(p, count > p->next_chunk_slots ? count : p->next_chunk_slots);
        if (!c)
            goto nomem;
    }
    if (prepare(p, c, c->carved, c->carved + count, hot) < 0)
        goto nomem;
    if (c->guarded < c->carved + count)
        c->guarded = c->carved + count;
    return 0;
nomem:
    errno = ENOMEM;
    return -1;
}

void ba_stack_release_all(void)
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

bool ba_stack_is_guard_hit(const char *lo, const void *addr)
{
    const char *a = addr;
    return a < lo && a >= lo - ba_stack_page_size();
}
