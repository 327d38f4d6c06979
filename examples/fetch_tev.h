/* fetch_tev.h - the one event stream behind --trace, --timeline and
 * --trace-json.
 *
 * fetch_trace.c records every runtime event (coro_set_trace's) and every
 * step of the seed's table here, as it happens.  --trace prints them live;
 * at the end fetch_tl_build turns the same stream into lanes, bars, step
 * marks and wake arrows, which fetch_timeline.c draws as SVG and
 * fetch_tracejson.c writes in the Chrome Trace Event format.  So the
 * three outputs cannot disagree about what happened when.
 */
#ifndef FETCH_TEV_H
#define FETCH_TEV_H

#include <stdint.h>
#include <stdio.h>

#include <bareawait/coro.h>

/* A recorded event: a coroutine event, or one of the seven steps. */
enum { FETCH_TEV_STEP = 100 }; /* kind of a step; others are coro_event_kind */

typedef struct fetch_tev {
    int kind;            /* coro_event_kind, or FETCH_TEV_STEP */
    uint64_t id;         /* the coroutine's id (POLL: the limiting one's) */
    char name[24];       /* its name ("" for none) */
    int fd;              /* PARK_FD, WAKE: the fd waited on; else -1 */
    int events;          /* CORO_READ / CORO_WRITE */
    int64_t deadline_ns; /* PARK_*, WAKE, POLL: CORO_NEVER if none */
    int reason;          /* WAKE: a coro_wake */
    int64_t at_ns;       /* coro_now() when it happened */
    int step;            /* STEP: 1-7 */
    char label[56];      /* STEP: the seed's action ("await client.get(url)") */
} fetch_tev;

/* Appends a copy of e (a lost event on out of memory: fetch goes on, and
 * fetch_tev_lost counts it).  fetch_tev_reset frees the stream. */
void fetch_tev_record(const fetch_tev *e);
void fetch_tev_reset(void);
void fetch_tev_set_start(int64_t ns); /* time 0: --trace's "+0.000 ms" */
size_t fetch_tev_lost(void);

/* ---- the stream as a picture: lanes, bars, marks, arrows ---- */

typedef enum fetch_bar_kind {
    FETCH_BAR_RUN,        /* the coroutine has the CPU */
    FETCH_BAR_PARK_FD,    /* parked on an fd (maybe with a deadline) */
    FETCH_BAR_PARK_TIMER, /* parked on a deadline alone (a sleep) */
    FETCH_BAR_PARK_WAKE,  /* parked until another coroutine wakes it */
    FETCH_BAR_READY,      /* made ready, waiting for the CPU */
    FETCH_BAR_POLL,       /* lane 0: the thread inside epoll_wait */
    FETCH_BAR_KINDS
} fetch_bar_kind;

/* Stable names ("run", "park-fd"...): SVG classes and JSON names. */
const char *fetch_bar_name(fetch_bar_kind k);

typedef struct fetch_lane {
    uint64_t id;   /* the coroutine's id; lane 0 is the thread in epoll_wait */
    char name[40]; /* "fetch (1)", "epoll_wait (the thread)" */
} fetch_lane;

typedef struct fetch_bar {
    int lane;
    fetch_bar_kind kind;
    int64_t t0, t1; /* ns on coro_now's clock */
    char label[72]; /* "fd 5 readable", "at most 100.0 ms: the timer of demo-conn (4)" */
} fetch_bar;

typedef struct fetch_mark {
    int lane; /* the lane that had the CPU when the step happened */
    int64_t t;
    int step;
    char label[56];
} fetch_mark;

typedef struct fetch_arrow {
    int from, to;   /* lanes: the waker (0: the reactor) and the woken */
    int64_t t0, t1; /* made ready at t0, resumed at t1 (t0 if never) */
    char label[48]; /* "fd 5 readable", "timer", "woken by demo (1)" */
} fetch_arrow;

typedef struct fetch_tl {
    fetch_lane *lanes;
    size_t n_lanes;
    fetch_bar *bars;
    size_t n_bars;
    fetch_mark *marks;
    size_t n_marks;
    fetch_arrow *arrows;
    size_t n_arrows;
    int64_t t_start, t_end; /* the first and last event */
} fetch_tl;

/* Builds tl from the recorded stream.  0, or -1 (ENOMEM; tl freed). */
int fetch_tl_build(fetch_tl *tl);
void fetch_tl_free(fetch_tl *tl);

/* Write tl to f: 0, or -1 with errno (a write error).  The caller closes f. */
int fetch_timeline_write(const fetch_tl *tl, FILE *f);
int fetch_tracejson_write(const fetch_tl *tl, FILE *f);

#endif
