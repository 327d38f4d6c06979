/* sync_select.c - coro_select (sync.h): the first of several channel
 * operations, fd readinesses and a deadline.
 *
 * One round, repeated until something happens:
 *
 *     look:     poll(2) the fds without waiting; go through the cases in
 *               order, doing the first channel operation that can be done
 *               at once or taking the first fd that is ready
 *     enlist:   a waiter on each case's channel queue, all sharing one
 *               struct ba_select; a watch on each fd in the reactor
 *     park:     until a peer completes one of the waiters, an fd is ready,
 *               the deadline or a cancel
 *     delist:   take every waiter out, drop every watch
 *
 * A peer that completes one of our channel waiters sets `fired`, which
 * makes every other waiter of ours one to pass over (ba_waitq_first): so
 * at most one channel case happens, even if several peers come in the same
 * round.  An fd only says "ready": after a wake that no channel fired,
 * `look` finds out which (the first ready one, if several fired in one
 * epoll batch: the others stay ready, level-triggered, for the next call).
 * The reactor wakes us through the scheduler once; later readiness of our
 * other fds finds us no longer parked, which is a no-op.  If a cancel comes
 * before any of it, ECANCELED, and nothing happened; if it comes after a
 * peer fired a case (or after an fd woke us), the case is returned and the
 * cancel is left for the next wait, as everywhere in sync.h.
 *
 * Simple on purpose: the fds are watched and unwatched on every park, and
 * polled with poll(2) on every round; epoll keeps their interest between
 * calls (reactor_epoll.c), so a select in a loop costs no epoll_ctl after
 * the first, but one poll(2) per round.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "misuse.h"
#include "reactor.h"
#include "sync_internal.h"

#define INLINE_CASES 8 /* bookkeeping on the stack up to this many cases */

static bool is_channel(const coro_select_case *c)
{
    return c->op == CORO_SELECT_RECV || c->op == CORO_SELECT_SEND;
}

static int fd_events(const coro_select_case *c)
{
    return c->op == CORO_SELECT_READ ? CORO_READ : CORO_WRITE;
}

static void check_cases(const coro_select_case *cases, size_t n)
{
    if (!cases && n)
        ba_misusef("coro_select", "cases is NULL with n = %zu", n);
    if (n > INT_MAX)
        ba_misusef("coro_select", "%zu cases: an index must fit in an int", n);
    for (size_t i = 0; i < n; i++) {
        const coro_select_case *c = &cases[i];
        if (is_channel(c))
            ba_chan_check_value("coro_select", c->chan, c->value);
        else if (c->op != CORO_SELECT_READ && c->op != CORO_SELECT_WRITE)
            ba_misusef("coro_select", "case %zu: op %d is not a CORO_SELECT_ op", i, c->op);
        else if (c->fd < 0)
            ba_misusef("coro_select", "case %zu: fd %d", i, c->fd);
    }
}

/* ---- look: what can happen now ---- */

/* The index of the first case that happened now (its err set), -1 if none
 * can, or -2 with errno set if poll(2) failed. */
static int look(coro_select_case *cases, size_t n, struct pollfd *pfd)
{
    nfds_t nfd = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_channel(&cases[i]))
            pfd[nfd++] = (struct pollfd){
                .fd = cases[i].fd,
                .events = cases[i].op == CORO_SELECT_READ ? POLLIN : POLLOUT};
    if (nfd && poll(pfd, nfd, 0) < 0) {
        if (errno != EINTR)
            return -2;
        for (nfds_t k = 0; k < nfd; k++)
            pfd[k].revents = 0; /* a signal: nothing seen this time */
    }
    nfds_t k = 0;
    for (size_t i = 0; i < n; i++) {
        coro_select_case *c = &cases[i];
        int e = 0;
        if (c->op == CORO_SELECT_SEND)
            e = ba_chan_try_send(c->chan, c->value);
        else if (c->op == CORO_SELECT_RECV)
            e = ba_chan_try_recv(c->chan, c->value);
        else if (!pfd[k++].revents) /* POLLERR, POLLHUP, POLLNVAL count */
            e = EAGAIN;
        if (e != EAGAIN) {
            c->err = e;
            return (int)i;
        }
    }
    return -1;
}

/* ---- enlist and delist ---- */

/* Takes out the waiters and watches of the first k cases. */
static void delist(const coro_select_case *cases, size_t k, struct ba_waiter *w,
                   const struct coro *self)
{
    for (size_t i = 0; i < k; i++) {
        const coro_select_case *c = &cases[i];
        if (is_channel(c))
            ba_waitq_remove(ba_chan_queue(c->chan, c->op == CORO_SELECT_SEND), &w[i]);
        else
            ba_reactor_unwatch_waiter(c->fd, fd_events(c), self);
    }
}

/* A watch on one fd.  0, EAGAIN (the fd cannot be polled: a regular file,
 * always ready, so look again) or ENOMEM. */
static int watch(const coro_select_case *c, size_t i, struct coro *self)
{
    if (ba_reactor_watch(c->fd, fd_events(c), self) == 0)
        return 0;
    if (errno == EBUSY)
        ba_misusef("coro_select", "case %zu: coroutine %" PRIu64 " \"%s\" waits to %s fd %d, "
                                  "which another coroutine or case already waits on (one "
                                  "waiter per fd and direction)",
                   i, self->id, self->name, c->op == CORO_SELECT_READ ? "read" : "write", c->fd);
    return errno == EPERM ? EAGAIN : ENOMEM;
}

/* Enlists every case, all of whose channel waiters share `sel`.  0, or
 * an error of watch() with everything undone. */
static int enlist(coro_select_case *cases, size_t n, struct ba_waiter *w, struct coro *self,
                  struct ba_select *sel)
{
    for (size_t i = 0; i < n; i++) {
        coro_select_case *c = &cases[i];
        if (is_channel(c)) {
            w[i] = (struct ba_waiter){.co = self, .value = c->value, .sel = sel,
                                      .index = (int)i};
            ba_waitq_push(ba_chan_queue(c->chan, c->op == CORO_SELECT_SEND), &w[i]);
            continue;
        }
        int e = watch(c, i, self);
        if (e) {
            delist(cases, i, w, self);
            return e;
        }
    }
    return 0;
}

/* ---- the rounds ---- */

static int select_rounds(coro_select_case *cases, size_t n, struct ba_waiter *w,
                         struct pollfd *pfd, int64_t deadline_ns)
{
    struct coro *self = ba_sched_current();
    for (;;) {
        int i = look(cases, n, pfd);
        if (i >= 0)
            return i;
        if (i == -2)
            return -1;
        if (ba_deadline_passed(deadline_ns))
            return ba_sync_result(ETIMEDOUT);
        struct ba_select sel = {.fired = -1};
        int e = enlist(cases, n, w, self, &sel);
        if (e == EAGAIN)
            continue;
        if (e)
            return ba_sync_result(e);
        coro_wake why = ba_sched_wait("coro_select", -1, 0, deadline_ns);
        delist(cases, n, w, self);
        if (sel.fired >= 0) { /* a peer did it before we ran: it happened */
            cases[sel.fired].err = w[sel.fired].outcome;
            return sel.fired;
        }
        if (why == CORO_WOKE_CANCELLED)
            return ba_sync_result(ECANCELED);
        if (why == CORO_WOKE_TIMEOUT)
            return ba_sync_result(ETIMEDOUT);
        /* an fd (or a plain coro_wakeup): look again */
    }
}

int coro_select(coro_select_case *cases, size_t n, int64_t deadline_ns)
{
    ba_sched_need_coroutine("coro_select");
    check_cases(cases, n);
    struct ba_waiter inline_w[INLINE_CASES];
    struct pollfd inline_pfd[INLINE_CASES];
    struct ba_waiter *w = inline_w;
    struct pollfd *pfd = inline_pfd;
    void *block = NULL;
    if (n > INLINE_CASES) {
        block = malloc(n * (sizeof *w + sizeof *pfd));
        if (!block)
            return ba_sync_result(ENOMEM);
        w = block;
        pfd = (struct pollfd *)(w + n); /* pollfd's alignment is int's */
    }
    int r = select_rounds(cases, n, w, pfd, deadline_ns);
    free(block);
    return r;
}
