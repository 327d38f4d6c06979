/* bench/sched.c - what the runtime costs, measured against its own floor.
 *
 *   raw switch     two contexts ping-ponging through ba_switch_jump alone:
 *                  the cheapest a hand-off can be with this backend
 *   yield          coroutine A yields, B resumes, through the scheduler
 *   spawn + join   a coroutine that returns at once, from a warm pool
 *   fd wake        a coroutine parked on a pipe read, woken by another
 *                  coroutine's write (half a round trip through epoll);
 *                  reads ask for 64 bytes, and again for exactly the one
 *                  byte written ("exact")
 *   parked         resident memory per coroutine asleep on a far deadline
 *
 * Each figure is the median of several rounds.  Usage:
 *   sched [--quick] [--json] [--million]
 *   sched --threads N [--quick] [--json]
 * --quick: tiny counts, a smoke test; --json: one line of JSON;
 * --million: also park a million coroutines, three times spawning alone
 * and three times after coro_reserve (which faults the stacks' pages in on
 * every core this process may use), and three times the floor under both:
 * one fresh page touched in each of a million (a page fault each, the
 * kernel's zeroing and page tables, nothing of ours), alternating; medians.
 * --threads N: instead, how a runtime per thread scales (sched_threads.c):
 * yield and spawn + join on N threads at once, each its own runtime,
 * against one runtime alone, in alternating rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/io.h>
#include "sanitize.h"
#include "sched_measure.h"
#include "switch.h"

#define ROUNDS 5
#define FAR_MS (3600 * 1000) /* "far" deadline: an hour */

static const struct counts full = {2000000, 1000000, 500000, 100000, 100000, 0};
/* (Small enough for ThreadSanitizer, which runs --quick --threads 2 and
 * pays for every coroutine's first switch in.) */
static const struct counts quick = {10000, 10000, 100, 500, 2000, 100000};
/* --threads: longer rounds than `full`'s, so that a moment's other load on
 * a core is a smaller part of one. */
static const struct counts scaling = {0, 2000000, 1000000, 0, 0, 50000000};

/* The stretch this thread's last yield or spawn + join measure timed. */
_Thread_local struct timed timed;
_Thread_local void (*timing_starts)(void);
static _Thread_local int64_t cpu_at_start;

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t stretch_start(void)
{
    if (timing_starts)
        timing_starts();
    cpu_at_start = thread_cpu_ns();
    return coro_now();
}

void stretch_end(int64_t from, double ops)
{
    int64_t to = coro_now();
    timed = (struct timed){from, to, ops, thread_cpu_ns() - cpu_at_start};
}

double median(double *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void run_or_die(void)
{
    if (coro_run() < 0) {
        perror("coro_run");
        exit(1);
    }
}

static coro_t *spawn_or_die(coro_fn fn, void *arg, const coro_opts *opts)
{
    coro_t *c = coro_spawn(fn, arg, opts);
    if (!c) {
        perror("coro_spawn");
        exit(1);
    }
    return c;
}

/* ---- raw switch: switch.h alone, no scheduler ---- */

#define PEER_STACK (64 * 1024)

struct side {
    switch_ctx ctx;  /* saved while the other side runs */
    void *fake;      /* ASan's per-fiber state */
    void *fiber;     /* TSan's fiber */
    const void *lo;  /* this side's stack, for ASan */
    size_t size;
};

static struct side main_side, peer_side;

/* Both sides run this same loop, so both call ba_switch_jump from the same
 * instruction, as two coroutines yielding through the scheduler do: the
 * CPU then predicts the `ret` that lands on the other stack.  noclone:
 * else gcc -O3 gives the peer's call (constant arguments) a copy of its
 * own, the two sides call from different places, and every `ret` is
 * mispredicted -- the figure would be the misprediction's, not the
 * switch's.  (The ASan and TSan calls compile to nothing in a normal
 * build.) */
#if defined(__GNUC__) && !defined(__clang__)
#define NOT_CLONED __attribute__((noinline, noclone))
#else
#define NOT_CLONED __attribute__((noinline))
#endif
NOT_CLONED static void bounce(struct side *self, struct side *other, long n)
{
    for (long i = 0; i < n; i++) {
        san_switch_begin(&self->fake, other->lo, other->size);
        san_fiber_switch(&other->fiber);
        ba_switch_jump(&self->ctx, &other->ctx);
        san_switch_end(self->fake, NULL, NULL);
    }
}

/* The peer jumps straight back, forever; it is abandoned when done. */
static switch_ctx *peer_entry(void)
{
    san_switch_end(NULL, &main_side.lo, &main_side.size);
    bounce(&peer_side, &main_side, LONG_MAX);
    return NULL; /* not reached */
}

static double raw_switch_ns(long round_trips)
{
    char *stack = mmap(NULL, PEER_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    unsigned vg = san_valgrind_register(stack, stack + PEER_STACK);
    peer_side.lo = stack;
    peer_side.size = PEER_STACK;
    main_side.fiber = san_fiber_current();
    switch_fpenv fp;
    ba_switch_fpenv_now(&fp);
    ba_switch_make(&peer_side.ctx, stack, PEER_STACK, peer_entry, &fp);
    int64_t t0 = coro_now();
    bounce(&main_side, &peer_side, round_trips);
    int64_t t1 = coro_now();
    san_fiber_destroy(&peer_side.fiber);
    san_valgrind_deregister(vg);
    munmap(stack, PEER_STACK);
    return (double)(t1 - t0) / (2.0 * (double)round_trips);
}

/* ---- yield: A yields, B resumes ---- */

/* Per thread: --threads runs this measure on several at once. */
static _Thread_local int64_t yield_t0;

static void *yield_loop(void *arg)
{
    long n = *(long *)arg;
    if (!yield_t0)
        yield_t0 = stretch_start();
    for (long i = 0; i < n; i++)
        coro_yield();
    stretch_end(yield_t0, 2.0 * (double)n); /* the second to finish has the last word */
    return NULL;
}

double yield_ns(long n)
{
    yield_t0 = 0;
    spawn_or_die(yield_loop, &n, NULL);
    spawn_or_die(yield_loop, &n, NULL);
    run_or_die();
    return (double)(timed.to - timed.from) / (2.0 * (double)n);
}

/* ---- spawn + join ---- */

static void *return_at_once(void *arg)
{
    return arg;
}

static void *spawn_join_loop(void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < 1000 && i < n; i++) /* warm up: fill the stack pool */
        coro_join(spawn_or_die(return_at_once, NULL, NULL), NULL);
    int64_t t0 = stretch_start();
    for (long i = 0; i < n; i++)
        coro_join(spawn_or_die(return_at_once, NULL, NULL), NULL);
    stretch_end(t0, (double)n);
    return NULL;
}

double spawn_join_ns(long n)
{
    spawn_or_die(spawn_join_loop, &n, NULL);
    run_or_die();
    return (double)(timed.to - timed.from) / (double)n;
}

/* ---- fd wake: ping-pong over two pipes ---- */

static int ping[2], pong[2];
static int64_t wake_elapsed;
/* How much each read asks for: READ_ASK, as a reader with a buffer does
 * (it gets the one byte there is: a short read, after which io_read knows
 * the pipe is empty and waits before its next read), or exactly the one
 * byte written (a full read: io_read cannot tell, and tries first). */
#define READ_ASK 64
static size_t read_ask;

static void *echo_loop(void *arg)
{
    long n = *(long *)arg;
    char c[READ_ASK];
    for (long i = 0; i < n; i++)
        if (io_read(ping[0], c, read_ask, CORO_NEVER) != 1 ||
            io_write(pong[1], c, 1, CORO_NEVER) != 1)
            break;
    return NULL;
}

static void *ping_loop(void *arg)
{
    long n = *(long *)arg;
    char c[READ_ASK] = {'p'};
    int64_t t0 = coro_now();
    for (long i = 0; i < n; i++)
        if (io_write(ping[1], c, 1, CORO_NEVER) != 1 ||
            io_read(pong[0], c, read_ask, CORO_NEVER) != 1)
            break;
    wake_elapsed = coro_now() - t0;
    return NULL;
}

/* One-way: each round trip is two wakes (echo, then pinger), each being
 * write + epoll_wait + switch + read (+ with exact reads, the read that
 * got EAGAIN). */
static double fd_wake_with(long round_trips, size_t ask)
{
    if (pipe2(ping, O_NONBLOCK | O_CLOEXEC) < 0 || pipe2(pong, O_NONBLOCK | O_CLOEXEC) < 0) {
        perror("pipe2");
        exit(1);
    }
    read_ask = ask;
    spawn_or_die(echo_loop, &round_trips, NULL);
    spawn_or_die(ping_loop, &round_trips, NULL);
    run_or_die();
    for (int i = 0; i < 2; i++) {
        coro_close(ping[i]);
        coro_close(pong[i]);
    }
    return (double)wake_elapsed / (2.0 * (double)round_trips);
}

static double fd_wake_ns(long round_trips)
{
    return fd_wake_with(round_trips, READ_ASK);
}

static double fd_wake_exact_ns(long round_trips)
{
    return fd_wake_with(round_trips, 1);
}

/* ---- parked coroutines: memory and creation time ---- */

/* A field of /proc/self/status ("VmRSS:", "VmPTE:") in bytes, or -1. */
static long status_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            kb = strtol(line + strlen(field), NULL, 10);
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

struct park_run {
    long n;
    bool reserve;       /* coro_reserve(n) first, inside the timing */
    coro_t **handles;   /* n slots, touched before measuring */
    double create_s;    /* spawn of all + each one running until it parks */
    long rss_bytes;     /* VmRSS growth once all are parked */
    long pte_bytes;     /* page-table growth (not part of VmRSS) */
};

static void *sleep_far(void *arg)
{
    coro_sleep_until(*(int64_t *)arg);
    return NULL;
}

static void *park_many(void *arg)
{
    struct park_run *p = arg;
    static int64_t far;
    far = coro_deadline_in(FAR_MS);
    coro_opts detached = {.detached = true};
    long rss0 = status_bytes("VmRSS:"), pte0 = status_bytes("VmPTE:");
    int64_t t0 = coro_now();
    if (p->reserve && coro_reserve((size_t)p->n, 0) < 0) {
        perror("coro_reserve");
        exit(1);
    }
    for (long i = 0; i < p->n; i++)
        p->handles[i] = spawn_or_die(sleep_far, &far, &detached);
    coro_yield(); /* each runs once, in order, and parks; then us again */
    p->create_s = (double)(coro_now() - t0) / 1e9;
    p->rss_bytes = status_bytes("VmRSS:") - rss0;
    p->pte_bytes = status_bytes("VmPTE:") - pte0;
    for (long i = 0; i < p->n; i++)
        coro_cancel(p->handles[i]); /* they wake, return, and are recycled */
    return NULL;
}

static void park(struct park_run *p)
{
    p->handles = malloc((size_t)p->n * sizeof *p->handles);
    if (!p->handles) {
        perror("malloc");
        exit(1);
    }
    memset(p->handles, 0, (size_t)p->n * sizeof *p->handles);
    spawn_or_die(park_many, p, NULL);
    run_or_die();
    free(p->handles);
}

/* ---- putting it together ---- */

struct figures {
    double raw, yield, spawn_join, fd_wake, fd_wake_exact;
    double per_parked, pte_per_parked, create_s;  /* at counts.parked */
    double million_create_s, million_rss;         /* --million only */
    double million_reserved_s;                    /* ...after coro_reserve */
    double million_floor_s;                       /* 1M fresh pages touched */
    int cores;                                    /* threads coro_reserve uses */
};

static double median_of(double (*measure)(long), long n)
{
    double v[ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        v[r] = measure(n);
    return median(v, ROUNDS);
}

static void measure_parked(long n, struct figures *f)
{
    double bytes[ROUNDS], pte[ROUNDS], secs[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        struct park_run p = {.n = n};
        park(&p);
        bytes[r] = (double)p.rss_bytes / (double)n;
        pte[r] = (double)p.pte_bytes / (double)n;
        secs[r] = p.create_s;
    }
    f->per_parked = median(bytes, ROUNDS);
    f->pte_per_parked = median(pte, ROUNDS);
    f->create_s = median(secs, ROUNDS);
}

#define MILLION_ROUNDS 3

/* The page-fault floor: seconds to touch one fresh page in each of n, in
 * one anonymous mapping, spaced a default stack and its guard page apart
 * (as the stacks of parked coroutines are, so that the page tables grow
 * as theirs do).
 * Every parked coroutine dirties at least one page of its stack: no way
 * of parking n coroutines with a stack each can beat this. */
static double fault_floor_s(long n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), stride = CORO_DEFAULT_STACK + page;
    size_t len = (size_t)n * stride;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    int64_t t0 = coro_now();
    for (long i = 0; i < n; i++)
        ((volatile char *)m)[(size_t)i * stride + stride - 1] = 1; /* top of each, as a stack */
    int64_t t1 = coro_now();
    munmap(m, len);
    return (double)(t1 - t0) / 1e9;
}

static void measure_million(struct figures *f)
{
    double lazy[MILLION_ROUNDS], reserved[MILLION_ROUNDS], rss[MILLION_ROUNDS];
    double floor_s[MILLION_ROUNDS];
    for (int r = 0; r < MILLION_ROUNDS; r++) {
        floor_s[r] = fault_floor_s(1000000);
        struct park_run p = {.n = 1000000};
        park(&p);
        lazy[r] = p.create_s;
        rss[r] = (double)p.rss_bytes;
        struct park_run q = {.n = 1000000, .reserve = true};
        park(&q);
        reserved[r] = q.create_s;
    }
    f->million_create_s = median(lazy, MILLION_ROUNDS);
    f->million_reserved_s = median(reserved, MILLION_ROUNDS);
    f->million_rss = median(rss, MILLION_ROUNDS);
    f->million_floor_s = median(floor_s, MILLION_ROUNDS);
    cpu_set_t set;
    f->cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    if (f->cores > 8)
        f->cores = 8; /* coro_reserve's limit on helper threads (runtime/stack.c) */
}

static void print_human(const struct figures *f, const struct counts *c, bool million)
{
    printf("bareawait bench/sched  backend: %s  (medians of %d rounds)\n",
           ba_switch_backend_name(), ROUNDS);
    printf("  raw switch      %8.1f ns  (ba_switch_jump alone)\n", f->raw);
    printf("  yield           %8.1f ns  %5.2fx raw switch\n", f->yield, f->yield / f->raw);
    printf("  spawn + join    %8.1f ns  %5.2fx raw switch\n", f->spawn_join,
           f->spawn_join / f->raw);
    printf("  fd wake         %8.1f ns  (one-way: half a pipe round trip; reads ask %d bytes)\n",
           f->fd_wake, READ_ASK);
    printf("  fd wake, exact  %8.1f ns  (reads ask for the 1 byte written)\n", f->fd_wake_exact);
    printf("  parked          %8.0f bytes RSS each at %ld (+%.0f bytes of page tables);"
           " created in %.3f s\n",
           f->per_parked, c->parked, f->pte_per_parked, f->create_s);
    if (million)
        printf("  1,000,000 parked: created in %.2f s spawning alone, %.2f s after"
               " coro_reserve (%d cores); RSS grew by %.0f MiB\n"
               "  1,000,000 fresh pages touched (the page-fault floor): %.2f s;"
               " parked / floor %.2fx alone, %.2fx reserved\n",
               f->million_create_s, f->million_reserved_s, f->cores,
               f->million_rss / (1024 * 1024), f->million_floor_s,
               f->million_create_s / f->million_floor_s,
               f->million_reserved_s / f->million_floor_s);
}

static void print_json(const struct figures *f, bool million)
{
    printf("{\"backend\": \"%s\", \"raw_switch_ns\": %.1f, \"yield_ns\": %.1f, "
           "\"spawn_join_ns\": %.1f, \"fd_wake_ns\": %.1f, \"fd_wake_exact_ns\": %.1f, "
           "\"bytes_per_parked\": %.0f, \"pte_bytes_per_parked\": %.0f, \"create_parked_s\": %.4f",
           ba_switch_backend_name(), f->raw, f->yield, f->spawn_join, f->fd_wake, f->fd_wake_exact,
           f->per_parked, f->pte_per_parked, f->create_s);
    if (million)
        printf(", \"million_create_s\": %.3f, \"million_reserved_create_s\": %.3f, "
               "\"reserve_cores\": %d, \"million_rss_bytes\": %.0f, \"million_floor_s\": %.3f",
               f->million_create_s, f->million_reserved_s, f->cores, f->million_rss,
               f->million_floor_s);
    printf("}\n");
}

/* "sched: WHAT 'ARG'" (ARG if not NULL), the usage, and exit status 2. */
static int usage(const char *what, const char *arg)
{
    fprintf(stderr, "sched: %s", what);
    if (arg)
        fprintf(stderr, " '%s'", arg);
    fprintf(stderr, "\nusage: sched [--quick] [--json] [--million]\n"
                    "       sched --threads N [--quick] [--json]   (N from 1 to %d)\n",
            SCHED_MAX_THREADS);
    return 2;
}

/* N of --threads N: a whole number from 1 to SCHED_MAX_THREADS, else 0. */
static int parse_threads(const char *s)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || end == s || *end || n < 1 || n > SCHED_MAX_THREADS)
        return 0;
    return (int)n;
}

int main(int argc, char **argv)
{
    bool json = false, million = false;
    int threads = 0;
    const struct counts *c = &full;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--quick") == 0)
            c = &quick;
        else if (strcmp(argv[i], "--million") == 0)
            million = true;
        else if (strcmp(argv[i], "--threads") == 0) {
            if (i + 1 == argc)
                return usage("--threads wants a number of threads after it", NULL);
            if (!(threads = parse_threads(argv[++i])))
                return usage("--threads: not a number of threads", argv[i]);
        } else {
            return usage("unknown argument", argv[i]);
        }
    }
    if (threads && million)
        return usage("--million and --threads measure different things: one at a time", NULL);
    if (threads)
        return sched_threads(threads, c == &quick ? &quick : &scaling, json);
    struct figures f = {0};
    f.raw = median_of(raw_switch_ns, c->switches);
    f.yield = median_of(yield_ns, c->yields);
    f.spawn_join = median_of(spawn_join_ns, c->spawns);
    f.fd_wake = median_of(fd_wake_ns, c->wakes);
    f.fd_wake_exact = median_of(fd_wake_exact_ns, c->wakes);
    measure_parked(c->parked, &f);
    if (million)
        measure_million(&f);
    if (json)
        print_json(&f, million);
    else
        print_human(&f, c, million);
    return 0;
}
