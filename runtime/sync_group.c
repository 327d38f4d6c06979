/* sync_group.c - task groups (sync.h): asyncio.TaskGroup, trio's nursery.
 *
 * Each task is a detached coroutine running task_main, which calls the
 * task's fn and then reports to the group: it takes its record out of the
 * group's list, keeps the first error, and wakes the waiter when the group
 * is empty.  The list holds exactly the tasks that have not returned, so
 * the handles in it are always live (a detached coroutine's handle is
 * valid until it returns, and a task leaves the list just before): the
 * group never cancels a stale handle, and never needs to join one.
 *
 * The first failure cancels the others (coro_cancel each: its current or
 * next wait fails with ECANCELED); from then on, and after
 * coro_group_cancel, what the tasks return is not looked at -- an
 * ECANCELED they return is the cancel they were sent, not news.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "misuse.h"
#include "sync_internal.h"

struct group_task {
    struct group_task *next, *prev; /* in the group's list */
    coro_group *g;                  /* the group it belongs to */
    coro_task_fn fn;                /* the task... */
    void *arg;                      /* ...and its argument */
    coro_t *co;                     /* its coroutine (detached) */
};

struct coro_group {
    struct group_task *tasks; /* not yet returned, oldest first... */
    struct group_task *last;  /* ...and the newest */
    size_t size;              /* entries in tasks */
    int error;                /* the first failure's, or 0 */
    bool cancelled;           /* a task failed, or coro_group_cancel */
    coro_t *waiter;           /* in coro_group_wait, or NULL */
    const void *thread;       /* ba_sync_thread() of the maker */
};

static void check(const char *call, const coro_group *g)
{
    ba_sync_check(call, g, g ? g->thread : NULL, "group");
}

coro_group *coro_group_new(void)
{
    coro_group *g = calloc(1, sizeof *g);
    if (g)
        g->thread = ba_sync_thread();
    return g;
}

static void link_task(coro_group *g, struct group_task *t)
{
    t->next = NULL;
    t->prev = g->last;
    if (g->last)
        g->last->next = t;
    else
        g->tasks = t;
    g->last = t;
    g->size++;
}

static void unlink_task(coro_group *g, struct group_task *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        g->tasks = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        g->last = t->prev;
    g->size--;
}

void coro_group_cancel(coro_group *g)
{
    check("coro_group_cancel", g);
    g->cancelled = true;
    /* coro_cancel does not switch: the list cannot change under us. */
    for (struct group_task *t = g->tasks; t; t = t->next)
        coro_cancel(t->co);
}

/* Every task starts here. */
static void *task_main(void *arg)
{
    struct group_task *t = arg;
    int err = t->fn(t->arg);
    coro_group *g = t->g;
    unlink_task(g, t); /* before anything else: t->co is dying */
    free(t);
    if (err && !g->cancelled) {
        g->error = err;
        coro_group_cancel(g);
    }
    if (g->size == 0 && g->waiter)
        coro_wakeup(g->waiter);
    return NULL; /* nobody looks at it: the coroutine is detached */
}

int coro_group_spawn(coro_group *g, coro_task_fn fn, void *arg, const coro_opts *opts)
{
    check("coro_group_spawn", g);
    if (!fn)
        ba_misuse("coro_group_spawn", "fn is NULL");
    if (g->cancelled)
        return ba_sync_result(ECANCELED);
    struct group_task *t = malloc(sizeof *t);
    if (!t)
        return -1;
    *t = (struct group_task){.g = g, .fn = fn, .arg = arg};
    coro_opts o = opts ? *opts : (coro_opts){0};
    o.detached = true;
    t->co = coro_spawn(task_main, t, &o);
    if (!t->co) {
        free(t);
        return -1; /* coro_spawn's errno */
    }
    link_task(g, t);
    return 0;
}

static void check_waiter(const coro_group *g, const coro_t *self)
{
    if (g->waiter)
        ba_misusef("coro_group_wait", "coroutine %" PRIu64 " already waits for the group "
                                      "(one waiter at a time)", coro_id(g->waiter));
    for (const struct group_task *t = g->tasks; t; t = t->next)
        if (t->co == self)
            ba_misusef("coro_group_wait", "coroutine %" PRIu64 " is a task of the group: it "
                                          "would wait for itself", coro_id(self));
}

int coro_group_wait(coro_group *g, int64_t deadline_ns)
{
    ba_sched_need_coroutine("coro_group_wait");
    check("coro_group_wait", g);
    coro_t *self = coro_self();
    check_waiter(g, self);
    while (g->size) {
        if (ba_deadline_passed(deadline_ns))
            return ba_sync_result(ETIMEDOUT);
        g->waiter = self;
        coro_wake why = ba_sched_wait("coro_group_wait", -1, 0, deadline_ns);
        g->waiter = NULL;
        if (why == CORO_WOKE_CANCELLED) { /* our work is cancelled with us */
            coro_group_cancel(g);
            return ba_sync_result(ECANCELED);
        }
        if (why == CORO_WOKE_TIMEOUT)
            return ba_sync_result(ETIMEDOUT);
        /* the last task returned, or a plain coro_wakeup: look again */
    }
    return ba_sync_result(g->error);
}

size_t coro_group_size(const coro_group *g)
{
    check("coro_group_size", g);
    return g->size;
}

void coro_group_free(coro_group *g)
{
    if (!g)
        return;
    check("coro_group_free", g);
    if (g->size)
        ba_misusef("coro_group_free", "%zu task(s) of the group have not returned "
                                      "(coroutine %" PRIu64 " first): coro_group_wait first",
                   g->size, coro_id(g->tasks->co));
    if (g->waiter)
        ba_misusef("coro_group_free", "coroutine %" PRIu64 " waits for the group",
                   coro_id(g->waiter));
    free(g);
}
