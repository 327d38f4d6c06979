/* fetch_timeline.c - --timeline FILE.svg: the run as a picture.
 *
 * One lane per coroutine, and on top one for the thread asleep in
 * epoll_wait; bars for running, parked on an fd, parked on a timer,
 * parked until woken and ready (made ready, waiting for the CPU); the
 * seven steps as numbered marks on the lane that had the CPU; an arrow
 * for each wake, from the waker (the reactor's lane for fds and timers)
 * to the moment the woken coroutine resumes.
 *
 * Time runs left to right to scale, except that a stretch longer than
 * GAP_NS in which nothing happens is drawn GAP_W pixels wide with its
 * length written on it (the demo's 100 ms of waiting would otherwise
 * squeeze its half millisecond of work into a few pixels).  The picture
 * says so in its header.  Every element carries a class (and bars a
 * data-lane) so that tests can count them.
 */
#include <stdlib.h>
#include <string.h>

#include "fetch_tev.h"

#define WIDTH 1200    /* px */
#define LABEL_W 200   /* the lane names' column */
#define RIGHT_W 64     /* room right of the plot for steps queued at its end */
#define PLOT_W (WIDTH - LABEL_W - RIGHT_W)
#define TOP 64        /* the header's height */
#define ROW 30        /* one lane */
#define GAP_NS 1000000 /* idle stretches longer than this are compressed */
#define GAP_W 48      /* ...to this width */

/* Where time goes on the x axis: at times[i], x is xs[i]. */
typedef struct scale {
    int64_t *times;
    double *xs;
    bool *gap;    /* times[i]..times[i+1] is a compressed stretch */
    size_t n;
    double px_per_ns;
    double gap_w;
} scale;

static int cmp_time(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static size_t collect_times(const fetch_tl *tl, int64_t *t)
{
    size_t n = 0;
    t[n++] = tl->t_start;
    t[n++] = tl->t_end;
    for (size_t i = 0; i < tl->n_bars; i++)
        t[n++] = tl->bars[i].t0, t[n++] = tl->bars[i].t1;
    for (size_t i = 0; i < tl->n_marks; i++)
        t[n++] = tl->marks[i].t;
    for (size_t i = 0; i < tl->n_arrows; i++)
        t[n++] = tl->arrows[i].t0, t[n++] = tl->arrows[i].t1;
    qsort(t, n, sizeof *t, cmp_time);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || t[i] != t[u - 1])
            t[u++] = t[i];
    return u;
}

static int scale_make(scale *s, const fetch_tl *tl)
{
    size_t most = 2 + 2 * tl->n_bars + tl->n_marks + 2 * tl->n_arrows;
    s->times = malloc(most * sizeof *s->times);
    s->xs = malloc(most * sizeof *s->xs);
    s->gap = calloc(most, sizeof *s->gap);
    if (!s->times || !s->xs || !s->gap)
        return -1;
    s->n = collect_times(tl, s->times);
    size_t gaps = 0;
    double busy = 0;
    for (size_t i = 0; i + 1 < s->n; i++) {
        int64_t dt = s->times[i + 1] - s->times[i];
        s->gap[i] = dt > GAP_NS;
        if (s->gap[i])
            gaps++;
        else
            busy += (double)dt;
    }
    s->gap_w = gaps * GAP_W > PLOT_W / 2 ? (double)PLOT_W / 2 / (double)gaps : GAP_W;
    s->px_per_ns = busy > 0 ? (PLOT_W - (double)gaps * s->gap_w) / busy : 0;
    double x = LABEL_W;
    for (size_t i = 0; i < s->n; i++) {
        s->xs[i] = x;
        if (i + 1 < s->n)
            x += s->gap[i] ? s->gap_w : (double)(s->times[i + 1] - s->times[i]) * s->px_per_ns;
    }
    return 0;
}

static void scale_free(scale *s)
{
    free(s->times);
    free(s->xs);
    free(s->gap);
}

static double x_of(const scale *s, int64_t t)
{
    size_t lo = 0, hi = s->n; /* the last times[i] <= t */
    if (s->n == 0)
        return LABEL_W;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->times[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (lo + 1 >= s->n)
        return s->xs[lo];
    double frac = (double)(t - s->times[lo]) / (double)(s->times[lo + 1] - s->times[lo]);
    return s->xs[lo] + frac * (s->xs[lo + 1] - s->xs[lo]);
}

/* The time at x (for the axis's labels): x_of backwards. */
static int64_t t_of(const scale *s, double x)
{
    size_t i = 0;
    if (s->n == 0)
        return 0;
    while (i + 1 < s->n && s->xs[i + 1] <= x)
        i++;
    if (i + 1 >= s->n || s->xs[i + 1] <= s->xs[i])
        return s->times[i];
    double frac = (x - s->xs[i]) / (s->xs[i + 1] - s->xs[i]);
    return s->times[i] + (int64_t)(frac * (double)(s->times[i + 1] - s->times[i]));
}

/* ---- drawing ---- */

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20)
                fputc(*s, f);
        }
    }
}

static double lane_y(int lane)
{
    return TOP + lane * ROW;
}

static const char *const bar_fill[FETCH_BAR_KINDS] = {
    [FETCH_BAR_RUN] = "#2e7d32",        [FETCH_BAR_PARK_FD] = "#1e88e5",
    [FETCH_BAR_PARK_TIMER] = "#fb8c00", [FETCH_BAR_PARK_WAKE] = "#bdbdbd",
    [FETCH_BAR_READY] = "#fdd835",      [FETCH_BAR_POLL] = "#8e24aa",
};

/* Bar height as a share of the row: running is the tallest. */
static double bar_h(fetch_bar_kind k)
{
    return k == FETCH_BAR_RUN || k == FETCH_BAR_POLL ? 20 : k == FETCH_BAR_READY ? 6 : 12;
}

static void header(FILE *f, const fetch_tl *tl, const scale *s, int height)
{
    size_t gaps = 0;
    for (size_t i = 0; i + 1 < s->n; i++)
        gaps += s->gap[i];
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            WIDTH, height, WIDTH, height);
    fprintf(f, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
               "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
               "fill=\"#c62828\"/></marker></defs>\n");
    fprintf(f, "<rect class=\"background\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", WIDTH,
            height);
    fprintf(f, "<text x=\"12\" y=\"22\" font-size=\"15\" font-weight=\"bold\">fetch: where the "
               "CPU went, %.3f ms, one thread</text>\n", (double)(tl->t_end - tl->t_start) / 1e6);
    if (gaps)
        fprintf(f, "<text class=\"scale-note\" x=\"12\" y=\"42\">Time is to scale except the "
                   "%zu grey band%s: stretches over %d ms in which nothing happened, drawn "
                   "%.0f px wide, their length written on them.</text>\n",
                gaps, gaps == 1 ? "" : "s", GAP_NS / 1000000, s->gap_w);
    else
        fprintf(f, "<text class=\"scale-note\" x=\"12\" y=\"42\">Time is to scale.</text>\n");
}

static void gap_bands(FILE *f, const fetch_tl *tl, const scale *s)
{
    double h = (double)tl->n_lanes * ROW;
    for (size_t i = 0; i + 1 < s->n; i++) {
        if (!s->gap[i])
            continue;
        fprintf(f, "<g class=\"gap\"><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.0f\" "
                   "fill=\"#eeeeee\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                   "font-size=\"10\" fill=\"#555\">%.1f ms</text></g>\n",
                s->xs[i], TOP - 4, s->gap_w, h + 4, s->xs[i] + s->gap_w / 2, TOP - 8,
                (double)(s->times[i + 1] - s->times[i]) / 1e6);
    }
}

static void lanes(FILE *f, const fetch_tl *tl)
{
    for (size_t i = 0; i < tl->n_lanes; i++) {
        double y = lane_y((int)i);
        fprintf(f, "<g class=\"lane\" data-lane=\"%zu\"><line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" "
                   "y2=\"%.0f\" stroke=\"#e0e0e0\"/><text x=\"12\" y=\"%.0f\">", i, LABEL_W,
                y + ROW / 2.0, WIDTH - RIGHT_W, y + ROW / 2.0, y + ROW / 2.0 + 4);
        xml_text(f, tl->lanes[i].name);
        fputs("</text></g>\n", f);
    }
}

static void bars(FILE *f, const fetch_tl *tl, const scale *s)
{
    for (size_t i = 0; i < tl->n_bars; i++) {
        const fetch_bar *b = &tl->bars[i];
        double x0 = x_of(s, b->t0), x1 = x_of(s, b->t1), h = bar_h(b->kind);
        double w = x1 - x0 < 1.5 ? 1.5 : x1 - x0; /* a switch is never invisible */
        fprintf(f, "<rect class=\"bar %s\" data-lane=\"%d\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                   "height=\"%.0f\" fill=\"%s\"><title>%s %.3f ms",
                fetch_bar_name(b->kind), b->lane, x0, lane_y(b->lane) + (ROW - h) / 2.0, w, h,
                bar_fill[b->kind], fetch_bar_name(b->kind), (double)(b->t1 - b->t0) / 1e6);
        if (b->label[0]) {
            fputs(": ", f);
            xml_text(f, b->label);
        }
        fputs("</title></rect>\n", f);
    }
}

static void arrows(FILE *f, const fetch_tl *tl, const scale *s)
{
    for (size_t i = 0; i < tl->n_arrows; i++) {
        const fetch_arrow *a = &tl->arrows[i];
        fprintf(f, "<line class=\"wake\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
                   "stroke=\"#c62828\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"><title>",
                x_of(s, a->t0), lane_y(a->from) + ROW / 2.0, x_of(s, a->t1),
                lane_y(a->to) + ROW / 2.0);
        xml_text(f, a->label);
        fputs("</title></line>\n", f);
    }
}

static void marks(FILE *f, const fetch_tl *tl, const scale *s)
{
    double last_x = -100;
    int last_lane = -1;
    for (size_t i = 0; i < tl->n_marks; i++) {
        const fetch_mark *m = &tl->marks[i];
        double at = x_of(s, m->t), y = lane_y(m->lane) + 5;
        /* Steps a few microseconds apart would overlap: they queue to the
         * right, a stem pointing down to when each happened. */
        double x = m->lane == last_lane && at < last_x + 15 ? last_x + 15 : at;
        last_x = x;
        last_lane = m->lane;
        fprintf(f, "<g class=\"mark\" data-step=\"%d\"><line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" "
                   "y2=\"%.0f\" stroke=\"#000\"/><circle cx=\"%.1f\" cy=\"%.0f\" r=\"7\" "
                   "fill=\"#000\"/><text x=\"%.1f\" y=\"%.0f\" fill=\"#fff\" font-size=\"10\" "
                   "text-anchor=\"middle\">%d</text><title>step %d: ", m->step, x, y, at, y + 18, x,
                y, x, y + 3.5, m->step, m->step);
        xml_text(f, m->label);
        fputs("</title></g>\n", f);
    }
}

/* Ticks every 150 px, with the time since the start under each. */
static void axis(FILE *f, const fetch_tl *tl, const scale *s, double y)
{
    for (int px = LABEL_W; px <= WIDTH - RIGHT_W; px += 140) {
        double x = px;
        double ms = (double)(t_of(s, x) - tl->t_start) / 1e6;
        fprintf(f, "<g class=\"tick\"><line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
                   "stroke=\"#999\"/><text x=\"%.0f\" y=\"%.0f\" font-size=\"10\" "
                   "text-anchor=\"middle\">+%.3f ms</text></g>\n",
                x, y, x, y + 5, x, y + 17, ms);
    }
}

static void legend(FILE *f, const fetch_tl *tl, double y)
{
    static const char *const what[FETCH_BAR_KINDS] = {
        [FETCH_BAR_RUN] = "running",          [FETCH_BAR_PARK_FD] = "parked on an fd",
        [FETCH_BAR_PARK_TIMER] = "parked on a timer", [FETCH_BAR_PARK_WAKE] = "parked until woken",
        [FETCH_BAR_READY] = "ready, not running", [FETCH_BAR_POLL] = "thread in epoll_wait",
    };
    for (int k = 0; k < FETCH_BAR_KINDS; k++)
        fprintf(f, "<rect x=\"%d\" y=\"%.0f\" width=\"14\" height=\"10\" fill=\"%s\"/>"
                   "<text x=\"%d\" y=\"%.0f\">%s</text>\n",
                12 + k * 170, y, bar_fill[k], 30 + k * 170, y + 9, what[k]);
    fprintf(f, "<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" stroke=\"#c62828\" "
               "marker-end=\"url(#arrow)\"/><text x=\"%d\" y=\"%.0f\">wake: made ready, "
               "then resumed where the arrow lands</text>\n",
            12, y + 26, 40, y + 26, 48, y + 30);
    for (size_t i = 0; i < tl->n_marks; i++) {
        const fetch_mark *m = &tl->marks[i];
        fprintf(f, "<text class=\"step-legend\" x=\"%d\" y=\"%.0f\">step %d  +%.3f ms  ",
                12 + (int)(i % 2) * 560, y + 50 + (int)(i / 2) * 16, m->step,
                (double)(m->t - tl->t_start) / 1e6);
        xml_text(f, m->label);
        fputs("</text>\n", f);
    }
}

int fetch_timeline_write(const fetch_tl *tl, FILE *f)
{
    scale s = {0};
    if (scale_make(&s, tl) < 0) {
        scale_free(&s);
        return -1;
    }
    double plot_bottom = lane_y((int)tl->n_lanes);
    int height = (int)plot_bottom + 24 + 56 + (int)(tl->n_marks + 1) / 2 * 16 + 12;
    header(f, tl, &s, height);
    gap_bands(f, tl, &s);
    lanes(f, tl);
    bars(f, tl, &s);
    arrows(f, tl, &s);
    marks(f, tl, &s);
    axis(f, tl, &s, plot_bottom);
    legend(f, tl, plot_bottom + 28);
    fputs("</svg>\n", f);
    scale_free(&s);
    return ferror(f) ? -1 : 0;
}
