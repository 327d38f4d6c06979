/* sched_post.c - posts from other threads: how offload's workers (and
 * anything else on another thread) wake a coroutine of this runtime.
 *
 * The owner says beforehand that a post will come (ba_sched_post_expect):
 * from then on its mailbox's eventfd is in epoll.  The other thread pushes
 * the post on the lock-free mailbox and bumps the eventfd
 * (ba_sched_post); the owner's epoll_wait reports it, and scheduler.c's
 * take_posts marks each post delivered and wakes its waiter.
 */
#include <stdbool.h>

#include <bareawait/coro.h>
#include "mailbox.h"
#include "reactor.h"
#include "sched_internal.h"
#include "scheduler.h"

int ba_sched_post_expect(struct ba_post *p)
{
    struct sched *s = ba_sched_tls;
    if (s->mail.fd < 0 && ba_mailbox_open(&s->mail) < 0)
        return -1;
    if (s->posts_expected == 0 && ba_reactor_watch(s->mail.fd, CORO_READ, &s->mail) < 0)
        return -1;
    s->posts_expected++;
    p->waiter = s->current;
    p->to = s;
    p->delivered = false;
    return 0;
}

void ba_sched_post(struct ba_post *p)
{
    ba_mailbox_push(&p->to->mail, &p->mail);
}

coro_wake ba_sched_post_wait(const char *call, struct ba_post *p, int64_t deadline_ns)
{
    struct coro *self = ba_sched_need_coroutine(call);
    for (;;) {
        if (p->delivered)
            return CORO_WOKE_READY;
        self->wait_post = p; /* what take_posts looks for */
        coro_wake why = ba_sched_park(self, deadline_ns);
        self->wait_post = NULL;
        if (why != CORO_WOKE_READY)
            return why;
        /* READY without the post: a coro_wakeup; wait on */
    }
}
