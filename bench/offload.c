/* bench/offload.c - what a coro_offload round trip costs, against its floor.
 *
 *   offload        one coroutine calls coro_offload on an empty function in
 *                  a loop: the job goes to a worker (pool lock, condition
 *                  variable), the worker posts it back (the caller's
 *                  mailbox, its eventfd, epoll)
 *   eventfd        the floor: thread A writes eventfd 1, thread B, blocked
 *                  in read on it, wakes and writes eventfd 2, which A is
 *                  blocked reading.  Two wake-ups of a sleeping thread, as
 *                  in an offload, and nothing else
 *
 * Rounds of the two alternate, so that both see the same machine; each
 * figure is the median of its rounds.  Usage:
 *   offload [--quick] [--json]
 * --quick: tiny counts, a smoke test; --json: one line of JSON.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include <bareawait/offload.h>

#define ROUNDS 7
#define FULL_TRIPS 20000  /* round trips per round */
#define QUICK_TRIPS 200

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static _Noreturn void die(const char *what)
{
    perror(what);
    exit(1);
}

/* ---- offload: the round trip through the pool ---- */

static void *empty_fn(void *arg)
{
    return arg;
}

struct offload_round {
    long trips;
    double ns;  /* per round trip */
};

static void *offload_loop(void *arg)
{
    struct offload_round *r = arg;
    /* A warm worker: its start is not what is measured. */
    if (coro_offload(empty_fn, NULL, NULL, NULL, CORO_NEVER) < 0)
        die("coro_offload");
    int64_t t0 = coro_now();
    for (long i = 0; i < r->trips; i++)
        if (coro_offload(empty_fn, NULL, NULL, NULL, CORO_NEVER) < 0)
            die("coro_offload");
    r->ns = (double)(coro_now() - t0) / (double)r->trips;
    return NULL;
}

static double offload_ns(long trips)
{
    struct offload_round r = {trips, 0};
    if (!coro_spawn(offload_loop, &r, NULL))
        die("coro_spawn");
    if (coro_run() < 0)
        die("coro_run");
    return r.ns;
}

/* ---- eventfd: two threads, two eventfds, blocking reads ---- */

struct pingpong {
    int there;  /* A writes, B reads */
    int back;   /* B writes, A reads */
};

static void put(int fd, uint64_t v)
{
    if (write(fd, &v, sizeof v) != (ssize_t)sizeof v)
        die("eventfd write");
}

static uint64_t get(int fd)
{
    uint64_t v;
    if (read(fd, &v, sizeof v) != (ssize_t)sizeof v)
        die("eventfd read");
    return v;
}

/* Thread B: answers each 1 with a 1; a 2 ends it. */
static void *answer(void *arg)
{
    const struct pingpong *p = arg;
    while (get(p->there) == 1)
        put(p->back, 1);
    return NULL;
}

static double eventfd_ns(long trips)
{
    struct pingpong p = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
    if (p.there < 0 || p.back < 0)
        die("eventfd");
    pthread_t b;
    if (pthread_create(&b, NULL, answer, &p) != 0)
        die("pthread_create");
    put(p.there, 1); /* B is up and blocked in read from here on */
    get(p.back);
    int64_t t0 = coro_now();
    for (long i = 0; i < trips; i++) {
        put(p.there, 1);
        get(p.back);
    }
    double ns = (double)(coro_now() - t0) / (double)trips;
    put(p.there, 2);
    pthread_join(b, NULL);
    close(p.there);
    close(p.back);
    return ns;
}

/* ---- the run ---- */

static void print_command(int argc, char **argv, FILE *to)
{
    for (int i = 0; i < argc; i++)
        fprintf(to, "%s%s", i ? " " : "", argv[i]);
}

int main(int argc, char **argv)
{
    bool json = false;
    long trips = FULL_TRIPS;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--quick") == 0)
            trips = QUICK_TRIPS;
        else {
            fprintf(stderr, "offload: unknown argument '%s'\n"
                            "usage: offload [--quick] [--json]\n", argv[i]);
            return 2;
        }
    }
    double off[ROUNDS], efd[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        off[i] = offload_ns(trips);
        efd[i] = eventfd_ns(trips);
    }
    double a = median(off, ROUNDS), b = median(efd, ROUNDS);
    if (json) {
        printf("{\"command\": \"");
        print_command(argc, argv, stdout);
        printf("\", \"trips\": %ld, \"rounds\": %d, \"offload_ns\": %.0f, "
               "\"eventfd_ns\": %.0f, \"ratio\": %.2f}\n", trips, ROUNDS, a, b, a / b);
        return 0;
    }
    printf("bareawait bench/offload  (");
    print_command(argc, argv, stdout);
    printf("; medians of %d alternating rounds of %ld round trips)\n", ROUNDS, trips);
    printf("  coro_offload round trip  %8.0f ns  (empty fn, one coroutine)\n", a);
    printf("  eventfd round trip       %8.0f ns  (two threads, blocking reads: the floor)\n", b);
    printf("  ratio                    %8.2fx\n", a / b);
    return 0;
}
