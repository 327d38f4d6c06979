/* mailbox.h - a list any thread may push onto, read by one owner thread
 * that an eventfd wakes.
 *
 * The scheduler keeps one per runtime for posts from other threads
 * (scheduler.h, ba_sched_post): the owner watches `fd` in its reactor and
 * takes the whole list when it is readable.  Lock-free (a Treiber stack:
 * pushes are compare-and-swap, the take is one exchange), and the eventfd
 * is written only by the push that finds the list empty, so a burst of
 * posts costs the owner one wake-up.
 * Internal to the runtime.
 */
#ifndef BAREAWAIT_MAILBOX_H
#define BAREAWAIT_MAILBOX_H

#include <stdatomic.h>

/* Embedded in what is posted. */
struct ba_mail {
    struct ba_mail *next;
};

typedef struct ba_mailbox {
    _Atomic(struct ba_mail *) head; /* newest first */
    int fd;                          /* eventfd, readable when rung */
} ba_mailbox;

/* Makes the eventfd.  0, or -1/errno (EMFILE, ENFILE, ENOMEM). */
int ba_mailbox_open(ba_mailbox *m);

/* Closes it.  Nothing may be pushed any more. */
void ba_mailbox_close(ba_mailbox *m);

/* From any thread: adds `mail`.  What the pusher wrote before is visible to
 * the owner once ba_mailbox_take hands `mail` over (release here, acquire
 * there).  After the call, the pusher must not touch the mailbox or the
 * mail: the owner may take it, and free both, at once. */
void ba_mailbox_push(ba_mailbox *m, struct ba_mail *mail);

/* On the owner's thread, when fd is readable: every mail pushed so far,
 * newest first, or NULL if the fd was not rung after all. */
struct ba_mail *ba_mailbox_take(ba_mailbox *m);

#endif
