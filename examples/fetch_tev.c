/* fetch_tev.c - the recorded event stream, and the lanes and bars made
 * from it (for --timeline and --trace-json).
 *
 * The bars follow the scheduler's states, one lane per coroutine:
 *
 *     SPAWN -> ready -> RESUME -> run -> PARK_* -> parked -> WAKE -> ready
 *                                     -> EXIT (the lane ends)
 *
 * and lane 0 holds the thread's sleeps in epoll_wait (POLL -> POLL_DONE).
 * A wake makes an arrow from whoever woke the coroutine (lane 0 for the
 * reactor and the timers, else the coroutine running then) to the moment
 * the woken one resumes: the gap between them is "ready, not running".
 */
#include <stdlib.h>
#include <string.h>

#include "fetch_tev.h"

static struct {
    fetch_tev *ev;
    size_t n, cap, lost;
    int64_t start_ns; /* time 0 of the pictures; 0: the first event */
} st;

void fetch_tev_set_start(int64_t ns)
{
    st.start_ns = ns;
}

void fetch_tev_record(const fetch_tev *e)
{
    if (st.n == st.cap) {
        size_t cap = st.cap ? st.cap * 2 : 256;
        fetch_tev *grown = realloc(st.ev, cap * sizeof *grown);
        if (!grown) {
            st.lost++;
            return;
        }
        st.ev = grown;
        st.cap = cap;
    }
    st.ev[st.n++] = *e;
}

void fetch_tev_reset(void)
{
    free(st.ev);
    memset(&st, 0, sizeof st);
}

size_t fetch_tev_lost(void)
{
    return st.lost;
}

const char *fetch_bar_name(fetch_bar_kind k)
{
    static const char *const names[FETCH_BAR_KINDS] = {
        [FETCH_BAR_RUN] = "run",          [FETCH_BAR_PARK_FD] = "park-fd",
        [FETCH_BAR_PARK_TIMER] = "park-timer", [FETCH_BAR_PARK_WAKE] = "park-wake",
        [FETCH_BAR_READY] = "ready",      [FETCH_BAR_POLL] = "epoll-wait",
    };
    return (unsigned)k < FETCH_BAR_KINDS ? names[k] : "?";
}

/* ---- building ---- */

/* Per lane while building: the bar now open on it (-1: none). */
typedef struct lane_state {
    long open_bar;
    long pending_arrow; /* a wake not yet followed by its resume */
} lane_state;

typedef struct builder {
    fetch_tl *tl;
    lane_state *ls;
    size_t cap_lanes, cap_bars, cap_marks, cap_arrows;
    int running;  /* the lane with the CPU, -1: none (switching, or asleep) */
    int last_ran; /* the last lane that had it */
    bool in_poll;
    bool nomem;
} builder;

/* Grows *arr (of *cap elements of size) to hold one more than n. */
static bool room(builder *b, void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 32;
    void *grown = realloc(*arr, c * size);
    if (!grown) {
        b->nomem = true;
        return false;
    }
    *arr = grown;
    *cap = c;
    return true;
}

static int lane_of(builder *b, uint64_t id, const char *name)
{
    fetch_tl *tl = b->tl;
    for (size_t i = 1; i < tl->n_lanes; i++)
        if (tl->lanes[i].id == id)
            return (int)i;
    size_t before = b->cap_lanes;
    if (!room(b, (void **)&tl->lanes, &b->cap_lanes, tl->n_lanes, sizeof *tl->lanes))
        return -1;
    if (b->cap_lanes != before || !b->ls) {
        lane_state *ls = realloc(b->ls, b->cap_lanes * sizeof *ls);
        if (!ls) {
            b->nomem = true;
            return -1;
        }
        b->ls = ls;
    }
    fetch_lane *l = &tl->lanes[tl->n_lanes];
    l->id = id;
    if (tl->n_lanes == 0)
        snprintf(l->name, sizeof l->name, "%s", name);
    else
        snprintf(l->name, sizeof l->name, "%.24s (%llu)", name, (unsigned long long)id);
    b->ls[tl->n_lanes] = (lane_state){-1, -1};
    return (int)tl->n_lanes++;
}

/* src (NULL: "") into dst, cut to fit. */
static void copy_cut(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < size; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

static void open_bar(builder *b, int lane, fetch_bar_kind kind, int64_t t, const char *label)
{
    fetch_tl *tl = b->tl;
    if (lane < 0 || !b->ls ||
        !room(b, (void **)&tl->bars, &b->cap_bars, tl->n_bars, sizeof *tl->bars))
        return;
    fetch_bar *bar = &tl->bars[tl->n_bars];
    *bar = (fetch_bar){.lane = lane, .kind = kind, .t0 = t, .t1 = t};
    copy_cut(bar->label, sizeof bar->label, label);
    b->ls[lane].open_bar = (long)tl->n_bars++;
}

static void close_bar(builder *b, int lane, int64_t t)
{
    if (lane < 0 || !b->ls || b->ls[lane].open_bar < 0)
        return;
    b->tl->bars[b->ls[lane].open_bar].t1 = t;
    b->ls[lane].open_bar = -1;
}

static bool bar_is(builder *b, int lane, fetch_bar_kind kind)
{
    return lane >= 0 && b->ls && b->ls[lane].open_bar >= 0 &&
           b->tl->bars[b->ls[lane].open_bar].kind == kind;
}

static void on_resume(builder *b, int lane, int64_t t)
{
    if (lane == b->running && bar_is(b, lane, FETCH_BAR_RUN))
        return; /* it carries on: no switch happened */
    if (b->running >= 0)
        close_bar(b, b->running, t);
    close_bar(b, lane, t); /* its ready bar */
    open_bar(b, lane, FETCH_BAR_RUN, t, NULL);
    if (lane >= 0 && b->ls[lane].pending_arrow >= 0) {
        b->tl->arrows[b->ls[lane].pending_arrow].t1 = t;
        b->ls[lane].pending_arrow = -1;
    }
    b->running = b->last_ran = lane;
}

static void wake_label(const fetch_tev *e, const fetch_tl *tl, int from, char *out, size_t size)
{
    if (e->reason == CORO_WOKE_TIMEOUT)
        snprintf(out, size, "its timer");
    else if (e->reason == CORO_WOKE_CANCELLED)
        snprintf(out, size, "cancelled");
    else if (e->fd >= 0)
        snprintf(out, size, "fd %d %s", e->fd, e->events & CORO_WRITE ? "writable" : "readable");
    else
        snprintf(out, size, "woken by %.38s", from > 0 ? tl->lanes[from].name : "the reactor");
}

static void on_wake(builder *b, const fetch_tev *e, int lane)
{
    fetch_tl *tl = b->tl;
    close_bar(b, lane, e->at_ns);
    open_bar(b, lane, FETCH_BAR_READY, e->at_ns, NULL);
    int from = b->in_poll || b->running < 0 ? 0 : b->running;
    if (lane < 0 || !room(b, (void **)&tl->arrows, &b->cap_arrows, tl->n_arrows, sizeof *tl->arrows))
        return;
    fetch_arrow *a = &tl->arrows[tl->n_arrows];
    *a = (fetch_arrow){.from = from, .to = lane, .t0 = e->at_ns, .t1 = e->at_ns};
    wake_label(e, tl, from, a->label, sizeof a->label);
    b->ls[lane].pending_arrow = (long)tl->n_arrows++;
}

static void on_park(builder *b, const fetch_tev *e, int lane)
{
    char label[160] = "";
    fetch_bar_kind kind = FETCH_BAR_PARK_WAKE;
    if (e->kind == CORO_EV_PARK_FD) {
        kind = FETCH_BAR_PARK_FD;
        snprintf(label, sizeof label, "fd %d (%s)", e->fd,
                 e->events & CORO_WRITE ? "writable?" : "readable?");
    } else if (e->deadline_ns != CORO_NEVER) {
        kind = FETCH_BAR_PARK_TIMER;
        snprintf(label, sizeof label, "timer");
    }
    close_bar(b, lane, e->at_ns);
    open_bar(b, lane, kind, e->at_ns, label);
    if (b->running == lane)
        b->running = -1;
}

static void on_poll(builder *b, const fetch_tev *e)
{
    char label[160] = "no limit";
    if (e->id && e->deadline_ns != CORO_NEVER)
        snprintf(label, sizeof label, "at most %.1f ms: the timer of %.24s (%llu)",
                 (double)(e->deadline_ns - e->at_ns) / 1e6, e->name, (unsigned long long)e->id);
    if (b->running >= 0)
        close_bar(b, b->running, e->at_ns);
    b->running = -1;
    b->in_poll = true;
    open_bar(b, 0, FETCH_BAR_POLL, e->at_ns, label);
}

static void on_step(builder *b, const fetch_tev *e)
{
    fetch_tl *tl = b->tl;
    if (!room(b, (void **)&tl->marks, &b->cap_marks, tl->n_marks, sizeof *tl->marks))
        return;
    fetch_mark *m = &tl->marks[tl->n_marks++];
    *m = (fetch_mark){.lane = b->running >= 0 ? b->running : b->last_ran, .t = e->at_ns,
                      .step = e->step};
    snprintf(m->label, sizeof m->label, "%s", e->label);
}

static void feed(builder *b, const fetch_tev *e)
{
    int lane = e->kind == FETCH_TEV_STEP || e->kind == CORO_EV_POLL || e->kind == CORO_EV_POLL_DONE
                   ? -1
                   : lane_of(b, e->id, e->name);
    switch (e->kind) {
    case CORO_EV_SPAWN: open_bar(b, lane, FETCH_BAR_READY, e->at_ns, NULL); break;
    case CORO_EV_RESUME: on_resume(b, lane, e->at_ns); break;
    case CORO_EV_PARK_FD:
    case CORO_EV_PARK_TIMER: on_park(b, e, lane); break;
    case CORO_EV_WAKE: on_wake(b, e, lane); break;
    case CORO_EV_EXIT:
        close_bar(b, lane, e->at_ns);
        if (b->running == lane)
            b->running = -1;
        break;
    case CORO_EV_POLL: on_poll(b, e); break;
    case CORO_EV_POLL_DONE:
        close_bar(b, 0, e->at_ns);
        b->in_poll = false;
        break;
    case FETCH_TEV_STEP: on_step(b, e); break;
    }
}

int fetch_tl_build(fetch_tl *tl)
{
    memset(tl, 0, sizeof *tl);
    builder b = {.tl = tl, .running = -1, .last_ran = -1};
    lane_of(&b, UINT64_MAX, "epoll_wait (the thread)");
    /* main has the CPU from the start: it spawns the first coroutine. */
    int main_lane = lane_of(&b, 0, "main");
    if (st.n) {
        tl->t_start = st.start_ns && st.start_ns < st.ev[0].at_ns ? st.start_ns : st.ev[0].at_ns;
        tl->t_end = st.ev[st.n - 1].at_ns;
        open_bar(&b, main_lane, FETCH_BAR_RUN, tl->t_start, NULL);
        b.running = b.last_ran = main_lane;
    }
    for (size_t i = 0; i < st.n && !b.nomem; i++)
        feed(&b, &st.ev[i]);
    for (size_t i = 0; i < tl->n_lanes && !b.nomem; i++)
        close_bar(&b, (int)i, tl->t_end);
    free(b.ls);
    if (b.nomem) {
        fetch_tl_free(tl);
        return -1;
    }
    return 0;
}

void fetch_tl_free(fetch_tl *tl)
{
    free(tl->lanes);
    free(tl->bars);
    free(tl->marks);
    free(tl->arrows);
    memset(tl, 0, sizeof *tl);
}
