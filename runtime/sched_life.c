/* sched_life.c - a thread's runtime from its first spawn to the end of
 * its coro_run: the scheduler, epoll instance, overflow report and stacks
 * of one thread, made together and freed together.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bareawait/coro.h>
#include "mailbox.h"
#include "misuse.h"
#include "overflow.h"
#include "reactor.h"
#include "sanitize.h"
#include "sched_internal.h"
#include "scheduler.h"
#include "stack.h"
#include "timerheap.h"
#include "trace.h"

int ba_sched_start(void)
{
    struct sched *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->mail.fd = -1;
    if (ba_reactor_open() < 0)
        goto fail;
    if (ba_overflow_arm(&s->current, &s->main_co) < 0) {
        ba_reactor_close();
        goto fail;
    }
    s->main_co.owner = s;
    s->main_co.wait_fd = -1;
    s->main_co.timer.index = TIMERHEAP_NONE;
    s->main_co.tsan_fiber = san_fiber_current();
    strcpy(s->main_co.name, "main");
    s->current = &s->main_co;
    s->next_id = 1;
    ba_switch_fpenv_now(&s->fp_start);
    ba_sched_tls = s;
    return 0;
fail:
    free(s);
    return -1;
}

static void teardown(struct sched *s)
{
    ba_overflow_disarm();
    ba_mailbox_close(&s->mail);
    ba_reactor_close();
    ba_stack_release_all();
    ba_timerheap_free(&s->timers);
    ba_sched_tls = NULL;
    free(s);
}

int coro_run(void)
{
    struct sched *s = ba_sched_tls;
    if (!s)
        return 0; /* nothing was ever spawned on this thread */
    if (ba_trace_inside())
        ba_misuse("coro_run", "called from the trace hook");
    if (s->current != &s->main_co)
        ba_misusef("coro_run", "called from coroutine %" PRIu64 " \"%s\"; only main() runs "
                               "the scheduler", s->current->id, s->current->name);
    ba_sched_switch_away(s); /* main parks until every coroutine is done */
    bool deadlock = s->deadlock;
    teardown(s);
    if (deadlock) {
        errno = EDEADLK;
        return -1;
    }
    return 0;
}
