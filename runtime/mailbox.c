/* mailbox.c - a Treiber stack plus an eventfd (mailbox.h). */
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mailbox.h"

int ba_mailbox_open(ba_mailbox *m)
{
    atomic_init(&m->head, NULL);
    m->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return m->fd < 0 ? -1 : 0;
}

void ba_mailbox_close(ba_mailbox *m)
{
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
}

void ba_mailbox_push(ba_mailbox *m, struct ba_mail *mail)
{
    int fd = m->fd; /* read before the push: m may be gone after it */
    struct ba_mail *old = atomic_load_explicit(&m->head, memory_order_relaxed);
    do
        mail->next = old;
    while (!atomic_compare_exchange_weak_explicit(&m->head, &old, mail, memory_order_release,
                                                  memory_order_relaxed));
    /* Only the push that found the list empty rings.  The owner takes the
     * list only after reading a ring, so it cannot take this mail (and free
     * it, or end its runtime) before this write is done. */
    if (!old) {
        uint64_t one = 1;
        ssize_t rc = write(fd, &one, sizeof one);
        (void)rc; /* an eventfd's counter cannot fill up with ones */
    }
}

struct ba_mail *ba_mailbox_take(ba_mailbox *m)
{
    uint64_t rings;
    /* Not rung after all: a list taken now could hold a mail whose ring is
     * still to come, so leave it for that ring. */
    if (read(m->fd, &rings, sizeof rings) != (ssize_t)sizeof rings)
        return NULL;
    return atomic_exchange_explicit(&m->head, NULL, memory_order_acquire);
}
