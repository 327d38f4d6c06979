/* offload.c - coro_offload: blocking calls run on a pool of worker threads
 * (offload.h).
 *
 * The pool is process-wide: one FIFO of jobs under one mutex, and one
 * condition variable the idle workers sleep on.  A job that finds no idle
 * worker starts one (up to CORO_OFFLOAD_WORKERS); a worker that has waited
 * CORO_OFFLOAD_IDLE_MS for work ends.
 *
 * Ended workers are joined, each by the next one to end, the last by the
 * process's exit (pool_at_exit), which also ends the idle ones first.  A
 * thread still alive at exit holds memory of glibc's (its TLS vector) that
 * valgrind would call possibly lost; one joined has freed it.  A worker
 * still running a job at exit is left to it: exit must not wait on fn.
 *
 * The way back is the caller's runtime: the caller expects a post
 * (scheduler.h) before it hands the job over, and the worker posts it when
 * fn has returned, which wakes the caller's thread through its mailbox.
 *
 * Who owns a job is decided by its state, an atomic both sides try to move
 * out of WAITING with one compare-exchange:
 *   WAITING    handed over: fn has not returned yet, or has and the worker
 *              is about to claim the job;
 *   DONE       the worker won: it posts to the caller, who takes the result
 *              and frees the job;
 *   ABANDONED  the caller won (its deadline passed, or it was cancelled):
 *              it forgets the post and returns; the worker calls drop and
 *              frees the job.
 * The post itself lives on the caller's stack, and the worker touches it
 * only after winning: an abandoned caller may be long gone.
 *
 * Simple on purpose: one lock and one queue for the whole pool, which every
 * hand-over and every worker takes.  Many runtimes handing over short jobs
 * at once would contend on it; a queue per runtime (with workers stealing
 * from the others) would not.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include <bareawait/offload.h>
#include "misuse.h"
#include "scheduler.h"

enum job_state { JOB_WAITING, JOB_DONE, JOB_ABANDONED };

struct job {
    struct job *next;          /* the pool's FIFO, under pool.lock */
    coro_offload_fn fn;        /* what to run, and on what */
    void *arg;
    coro_offload_drop_fn drop; /* for an abandoned job's result, or NULL */
    void *result;              /* fn's, written before the state moves */
    struct ba_post *post;      /* on the caller's stack: only a winning
                                  worker uses it */
    _Atomic int state;         /* enum job_state */
};

static struct pool {
    pthread_mutex_t lock;      /* guards everything below */
    pthread_cond_t work;       /* idle workers wait here for a job */
    struct job *head, *tail;   /* jobs handed over and not yet started */
    unsigned queued;           /* jobs in that list */
    unsigned workers;          /* started and not yet ended */
    unsigned idle;             /* of those, waiting on `work` */
    _Atomic unsigned busy;     /* of those, between taking a job and
                                  being done with it (atomic: the worker's
                                  decrement takes no lock) */
    bool broken;               /* `work` could not be made: no workers */
    bool quitting;             /* the process exits: idle workers end */
    pthread_cond_t ended;      /* a worker ended (pool_at_exit waits) */
    bool unjoined;             /* last_ended has yet to be joined */
    pthread_t last_ended;      /* the worker that ended last */
    struct job *left_by_fork;  /* a forked child's copy of the parent's
                                  queue: never run, kept reachable */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .ended = PTHREAD_COND_INITIALIZER};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* ---- the pool ---- */

/* pool.work, on the monotonic clock (the idle wait must not jump with the
 * wall clock), which needs a condition variable made at run time. */
static bool make_work_cond(void)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return false;
    bool made = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
                pthread_cond_init(&pool.work, &attr) == 0;
    pthread_condattr_destroy(&attr);
    return made;
}

/* fork() copies the pool but none of its workers.  The child starts with
 * an empty pool: the jobs queued at the fork are the parent's (their posts
 * would ring the parent's runtimes through the shared eventfds). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&pool.lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&pool.lock);
}

static void fork_child(void)
{
    if (pool.head) { /* (a child of a child keeps both lists) */
        pool.tail->next = pool.left_by_fork;
        pool.left_by_fork = pool.head;
    }
    pool.head = pool.tail = NULL;
    pool.queued = pool.workers = pool.idle = 0;
    atomic_store_explicit(&pool.busy, 0, memory_order_relaxed);
    pool.unjoined = false; /* not a thread of this process */
    /* The parent's waiters are still counted inside the condition
     * variables: fresh ones, and the lock this thread holds, released. */
    pool.broken = !make_work_cond() || pthread_cond_init(&pool.ended, NULL) != 0;
    pthread_mutex_unlock(&pool.lock);
}

/* At exit: ends the idle workers and joins every ended one.  Workers busy
 * with a job are not waited for (nor any started from here on). */
static void pool_at_exit(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.quitting = true;
    pthread_cond_broadcast(&pool.work);
    while (pool.workers > atomic_load_explicit(&pool.busy, memory_order_relaxed))
        pthread_cond_wait(&pool.ended, &pool.lock);
    bool join = pool.unjoined;
    pool.unjoined = false;
    pthread_t last = pool.last_ended;
    pthread_mutex_unlock(&pool.lock);
    if (join) /* which joined the one before it, and so on */
        pthread_join(last, NULL);
}

/* Once per process.  Without atexit (it cannot fail short of memory for
 * the handler) workers would merely be left idle at exit. */
static void pool_init(void)
{
    pool.broken = !make_work_cond() ||
                  pthread_atfork(fork_prepare, fork_parent, fork_child) != 0;
    if (!pool.broken)
        (void)atexit(pool_at_exit);
}

/* With pool.lock held: the next job, waiting for one up to
 * CORO_OFFLOAD_IDLE_MS in all; NULL when none came. */
static struct job *take_job(void)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += CORO_OFFLOAD_IDLE_MS / 1000;
    until.tv_nsec += (long)(CORO_OFFLOAD_IDLE_MS % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    while (!pool.head) {
        if (pool.quitting)
            return NULL;
        pool.idle++;
        int rc = pthread_cond_timedwait(&pool.work, &pool.lock, &until);
        pool.idle--;
        if (rc == ETIMEDOUT && !pool.head)
            return NULL;
    }
    struct job *j = pool.head;
    pool.head = j->next;
    if (!pool.head)
        pool.tail = NULL;
    pool.queued--;
    atomic_fetch_add_explicit(&pool.busy, 1, memory_order_relaxed);
    return j;
}

/* On the worker: runs j, then either hands it back or, if the caller gave
 * up on it, drops it. */
static void run_job(struct job *j)
{
    struct ba_post *post = j->post;
    j->result = j->fn(j->arg);
    int was = JOB_WAITING;
    /* acq_rel on success: the release is not what carries fn's writes to
     * the caller (the post does, release/acquire in the mailbox), but it
     * costs nothing here.  acquire on failure: pairs with the caller's
     * release when it abandoned the job, so everything it did to the job
     * happens before the drop and the free below. */
    if (atomic_compare_exchange_strong_explicit(&j->state, &was, JOB_DONE,
                                                memory_order_acq_rel, memory_order_acquire)) {
        /* Free again before the caller hears of it: a caller that
         * offloads its next job at once then finds this worker counted as
         * free, and starts no other.  (Relaxed: only a count; the post
         * orders it before the caller's next look.) */
        atomic_fetch_sub_explicit(&pool.busy, 1, memory_order_relaxed);
        ba_sched_post(post); /* from here on the job is the caller's */
        return;
    }
    if (j->drop)
        j->drop(j->arg, j->result);
    free(j);
    atomic_fetch_sub_explicit(&pool.busy, 1, memory_order_relaxed);
}

static void *worker_main(void *unused)
{
    (void)unused;
    prctl(PR_SET_NAME, CORO_OFFLOAD_THREAD_NAME); /* for top -H, gdb, tests */
    pthread_mutex_lock(&pool.lock);
    struct job *j;
    while ((j = take_job()) != NULL) {
        pthread_mutex_unlock(&pool.lock);
        run_job(j);
        pthread_mutex_lock(&pool.lock);
    }
    pool.workers--;
    bool join = pool.unjoined;
    pthread_t before = pool.last_ended;
    pool.last_ended = pthread_self();
    pool.unjoined = true;
    pthread_cond_signal(&pool.ended);
    pthread_mutex_unlock(&pool.lock);
    if (join) /* it has ended, or is about to: a short wait */
        pthread_join(before, NULL);
    return NULL;
}

/* Starts a worker with every signal blocked (a signal meant for the
 * program must not land in fn: offload.h).  True if it started. */
static bool start_worker(void)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return false;
    pthread_attr_setstacksize(&attr, (size_t)CORO_OFFLOAD_STACK);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    bool started = pthread_create(&t, &attr, worker_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return started;
}

/* Queues j for a worker, starting one if every free worker (idle, or done
 * with its fn and on its way back for more) already has a job queued for
 * it.  0, or -1/EAGAIN: no worker was free and none could be started.  The
 * unlock here and the lock in take_job carry what the caller wrote before
 * to the worker. */
static int pool_submit(struct job *j)
{
    pthread_once(&pool_once, pool_init);
    pthread_mutex_lock(&pool.lock);
    if (pool.broken) {
        pthread_mutex_unlock(&pool.lock);
        errno = EAGAIN;
        return -1;
    }
    /* Started with the lock held: rare (once per worker), and simpler
     * than undoing the enqueue when it fails. */
    unsigned spare = pool.workers - atomic_load_explicit(&pool.busy, memory_order_relaxed);
    if (spare <= pool.queued && pool.workers < CORO_OFFLOAD_WORKERS) {
        if (start_worker()) {
            pool.workers++;
        } else if (spare == 0) {
            pthread_mutex_unlock(&pool.lock);
            errno = EAGAIN;
            return -1;
        }
    }
    j->next = NULL;
    if (pool.tail)
        pool.tail->next = j;
    else
        pool.head = j;
    pool.tail = j;
    pool.queued++;
    bool wake = pool.idle > 0;
    pthread_mutex_unlock(&pool.lock);
    /* After the unlock, so the woken worker does not block on the lock
     * we still hold.  No wake is lost: a worker looks at the queue under
     * the lock before it waits. */
    if (wake)
        pthread_cond_signal(&pool.work);
    return 0;
}

/* ---- coro_offload ---- */

/* The caller's side of the compare-exchange: true if it now owns nothing
 * of j (the worker will drop and free it).  release on success: what the
 * caller did to j happens before the worker's drop and free.  relaxed on
 * failure: the worker won, and fn's result comes with the post. */
static bool abandon(struct job *j)
{
    int was = JOB_WAITING;
    return atomic_compare_exchange_strong_explicit(&j->state, &was, JOB_ABANDONED,
                                                   memory_order_release, memory_order_relaxed);
}

/* SUSPENDS.  The worker won the race against a deadline or a cancel: its
 * post is coming, and post must stay in use until it is delivered.  A
 * cancel that came is left pending for the caller's next wait. */
static void wait_for_post(struct ba_post *post, bool cancelled)
{
    coro_wake why;
    while ((why = ba_sched_post_wait("coro_offload", post, CORO_NEVER)) != CORO_WOKE_READY)
        cancelled = cancelled || why == CORO_WOKE_CANCELLED;
    if (cancelled)
        coro_cancel(coro_self());
}

int coro_offload(coro_offload_fn fn, void *arg, coro_offload_drop_fn drop, void **result,
                 int64_t deadline_ns)
{
    ba_sched_need_coroutine("coro_offload");
    if (!fn)
        ba_misuse("coro_offload", "fn is NULL");
    struct job *j = malloc(sizeof *j);
    if (!j) {
        errno = ENOMEM;
        return -1;
    }
    struct ba_post post;
    *j = (struct job){.fn = fn, .arg = arg, .drop = drop, .post = &post};
    atomic_init(&j->state, JOB_WAITING);
    if (ba_sched_post_expect(&post) < 0) {
        int err = errno;
        free(j);
        errno = err;
        return -1;
    }
    if (pool_submit(j) < 0) {
        ba_sched_post_forget(&post);
        free(j);
        errno = EAGAIN;
        return -1;
    }
    coro_wake why = ba_sched_post_wait("coro_offload", &post, deadline_ns);
    if (why != CORO_WOKE_READY) {
        if (abandon(j)) { /* do not touch j again */
            ba_sched_post_forget(&post);
            errno = why == CORO_WOKE_TIMEOUT ? ETIMEDOUT : ECANCELED;
            return -1;
        }
        wait_for_post(&post, why == CORO_WOKE_CANCELLED);
    }
    if (result)
        *result = j->result;
    free(j);
    return 0;
}
