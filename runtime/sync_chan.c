/* sync_chan.c - channels (sync.h): unbuffered and bounded, with close.
 *
 * A channel is a ring of `capacity` values and two queues of waiters:
 * senders that found no receiver and no room, receivers that found nothing.
 * A value always takes the shortest way: a send with a receiver waiting copies straight into the
 * receiver's variable (the ring is empty then), a receive from a full ring
 * refills it from the first waiting sender.  So an unbuffered channel
 * (capacity 0) is a rendezvous: the only way a value moves is from a
 * sender's variable to a receiver's, while one of them waits.
 *
 * Invariants, which keep the order of values the order of sends:
 *   - a live receiver waits only while the ring is empty;
 *   - a live sender waits only while the ring is full (for capacity 0:
 *     always) and no live receiver waits.
 * ("Live": one ba_waitq_first would hand something to; the queues may
 * also hold waiters on their way out, woken by a deadline or a cancel.)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "misuse.h"
#include "sync_internal.h"

struct coro_chan {
    size_t elem_size;          /* bytes per value */
    size_t capacity;           /* values the ring holds; 0: unbuffered */
    size_t head;               /* ring index of the oldest value */
    size_t len;                /* values in the ring */
    bool closed;               /* coro_chan_close was called */
    struct ba_waitq senders;   /* waiting to send, FIFO */
    struct ba_waitq receivers; /* waiting to receive, FIFO */
    const void *thread;        /* ba_sync_thread() of the maker */
    unsigned char ring[];      /* capacity * elem_size bytes */
};

static void check(const char *call, const coro_chan *ch)
{
    ba_sync_check(call, ch, ch ? ch->thread : NULL, "channel");
}

void ba_chan_check_value(const char *call, const coro_chan *ch, const void *value)
{
    check(call, ch);
    if (!value && ch->elem_size)
        ba_misusef(call, "a NULL value for a channel of %zu-byte values", ch->elem_size);
}

coro_chan *coro_chan_new(size_t elem_size, size_t capacity)
{
    if (elem_size && capacity > (SIZE_MAX - sizeof(coro_chan)) / elem_size) {
        errno = EINVAL;
        return NULL;
    }
    coro_chan *ch = calloc(1, sizeof *ch + elem_size * capacity);
    if (!ch)
        return NULL;
    ch->elem_size = elem_size;
    ch->capacity = capacity;
    ch->thread = ba_sync_thread();
    return ch;
}

/* ---- moving one value (memcpy of 0 bytes from NULL is not allowed) ---- */

static void copy_value(const coro_chan *ch, void *to, const void *from)
{
    if (ch->elem_size)
        memcpy(to, from, ch->elem_size);
}

static void ring_put(coro_chan *ch, const void *value)
{
    size_t at = (ch->head + ch->len) % ch->capacity;
    copy_value(ch, ch->ring + at * ch->elem_size, value);
    ch->len++;
}

static void ring_take(coro_chan *ch, void *value)
{
    copy_value(ch, value, ch->ring + ch->head * ch->elem_size);
    ch->head = (ch->head + 1) % ch->capacity;
    ch->len--;
}

/* ---- the two directions, without waiting ---- */

int ba_chan_try_send(coro_chan *ch, const void *value)
{
    if (ch->closed)
        return EPIPE;
    struct ba_waiter *r = ba_waitq_first(&ch->receivers);
    if (r) { /* the ring is empty (see the top): straight to the receiver */
        copy_value(ch, r->value, value);
        ba_waiter_finish(&ch->receivers, r, 0);
        return 0;
    }
    if (ch->len < ch->capacity) {
        ring_put(ch, value);
        return 0;
    }
    return EAGAIN;
}

int ba_chan_try_recv(coro_chan *ch, void *value)
{
    struct ba_waiter *s = ba_waitq_first(&ch->senders);
    if (ch->len) {
        ring_take(ch, value);
        if (s) { /* the room just freed goes to the first waiting sender */
            ring_put(ch, s->value);
            ba_waiter_finish(&ch->senders, s, 0);
        }
        return 0;
    }
    if (s) { /* unbuffered (or a ring of 0 values waiting): the rendezvous */
        copy_value(ch, value, s->value);
        ba_waiter_finish(&ch->senders, s, 0);
        return 0;
    }
    return ch->closed ? EPIPE : EAGAIN;
}

struct ba_waitq *ba_chan_queue(coro_chan *ch, bool send)
{
    return send ? &ch->senders : &ch->receivers;
}

/* ---- the public calls ---- */

/* SUSPENDS.  What send and receive share once the quick way failed: wait
 * in `q` with `value` until a peer completes us. */
static int wait_in(const char *call, struct ba_waitq *q, void *value, int64_t deadline_ns)
{
    if (ba_deadline_passed(deadline_ns))
        return ba_sync_result(ETIMEDOUT);
    struct ba_waiter w = {.co = ba_sched_current(), .value = value};
    ba_waitq_push(q, &w);
    return ba_sync_result(ba_waiter_park(call, q, &w, deadline_ns));
}

int coro_chan_send(coro_chan *ch, const void *value, int64_t deadline_ns)
{
    ba_sched_need_coroutine("coro_chan_send");
    ba_chan_check_value("coro_chan_send", ch, value);
    int e = ba_chan_try_send(ch, value);
    if (e != EAGAIN)
        return ba_sync_result(e);
    /* A receiver only reads through the waiter's value: the cast drops a
     * const that nobody writes through. */
    return wait_in("coro_chan_send", &ch->senders, (void *)value, deadline_ns);
}

int coro_chan_recv(coro_chan *ch, void *value, int64_t deadline_ns)
{
    ba_sched_need_coroutine("coro_chan_recv");
    ba_chan_check_value("coro_chan_recv", ch, value);
    int e = ba_chan_try_recv(ch, value);
    if (e != EAGAIN)
        return ba_sync_result(e);
    return wait_in("coro_chan_recv", &ch->receivers, value, deadline_ns);
}

void coro_chan_close(coro_chan *ch)
{
    check("coro_chan_close", ch);
    if (ch->closed)
        ba_misuse("coro_chan_close", "the channel is already closed");
    ch->closed = true;
    /* A live receiver waits only on an empty ring: it gets EPIPE at once,
     * as it would on its next receive. */
    ba_waitq_finish_all(&ch->receivers, EPIPE);
    ba_waitq_finish_all(&ch->senders, EPIPE);
}

size_t coro_chan_len(const coro_chan *ch)
{
    check("coro_chan_len", ch);
    return ch->len;
}

void coro_chan_free(coro_chan *ch)
{
    if (!ch)
        return;
    check("coro_chan_free", ch);
    const struct ba_waitq *q = ch->senders.len ? &ch->senders : &ch->receivers;
    if (q->len)
        ba_misusef("coro_chan_free", "coroutine %" PRIu64 " still waits to %s on the "
                                     "channel (%zu waiter(s) in all)",
                   q->head->co->id, q == &ch->senders ? "send" : "receive",
                   ch->senders.len + ch->receivers.len);
    free(ch);
}
