/* fetch_tracejson.c - --trace-json FILE: the run in the Chrome Trace Event
 * format, which Perfetto (ui.perfetto.dev) and chrome://tracing load.
 *
 * Each lane of fetch_tl is a "thread" (tid = lane + 1, named by an "M"
 * thread_name event, in lane order by thread_sort_index); each bar an
 * "X" (complete) event with ts and dur in microseconds from the first
 * event; each step an "i" (instant) event on the lane that had the CPU;
 * each wake a flow ("s" on the waker at the wake, "f" on the woken at its
 * resume).  Also here: opening and writing both output files.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fetch.h"
#include "fetch_tev.h"

/* s as a JSON string: quotes, backslashes and control bytes escaped. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static double us(const fetch_tl *tl, int64_t t)
{
    return (double)(t - tl->t_start) / 1e3;
}

static void lanes(const fetch_tl *tl, FILE *f)
{
    fprintf(f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"tid\":0,"
               "\"args\":{\"name\":\"fetch: one thread, its coroutines\"}}");
    for (size_t i = 0; i < tl->n_lanes; i++) {
        fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%zu,\"args\":{\"name\":",
                i + 1);
        json_str(f, tl->lanes[i].name);
        fprintf(f, "}},\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":%zu,"
                   "\"args\":{\"sort_index\":%zu}}", i + 1, i);
    }
}

static void bars(const fetch_tl *tl, FILE *f)
{
    for (size_t i = 0; i < tl->n_bars; i++) {
        const fetch_bar *b = &tl->bars[i];
        fprintf(f, ",\n{\"ph\":\"X\",\"cat\":\"coro\",\"name\":\"%s\",\"pid\":1,\"tid\":%d,"
                   "\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"detail\":",
                fetch_bar_name(b->kind), b->lane + 1, us(tl, b->t0), us(tl, b->t1) - us(tl, b->t0));
        json_str(f, b->label);
        fputs("}}", f);
    }
}

static void marks(const fetch_tl *tl, FILE *f)
{
    for (size_t i = 0; i < tl->n_marks; i++) {
        const fetch_mark *m = &tl->marks[i];
        char name[80];
        snprintf(name, sizeof name, "step %d: %s", m->step, m->label);
        fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"step\",\"name\":");
        json_str(f, name);
        fprintf(f, ",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"args\":{\"step\":%d}}", m->lane + 1,
                us(tl, m->t), m->step);
    }
}

static void arrows(const fetch_tl *tl, FILE *f)
{
    for (size_t i = 0; i < tl->n_arrows; i++) {
        const fetch_arrow *a = &tl->arrows[i];
        fprintf(f, ",\n{\"ph\":\"s\",\"cat\":\"wake\",\"name\":");
        json_str(f, a->label);
        fprintf(f, ",\"id\":%zu,\"pid\":1,\"tid\":%d,\"ts\":%.3f}", i + 1, a->from + 1,
                us(tl, a->t0));
        fprintf(f, ",\n{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"wake\",\"name\":");
        json_str(f, a->label);
        fprintf(f, ",\"id\":%zu,\"pid\":1,\"tid\":%d,\"ts\":%.3f}", i + 1, a->to + 1,
                us(tl, a->t1));
    }
}

int fetch_tracejson_write(const fetch_tl *tl, FILE *f)
{
    fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"tool\":\"bareawait fetch --trace-json\","
          "\"lanes\":\"one per coroutine; epoll_wait is the thread asleep in the reactor\"},\n"
          "\"traceEvents\":[\n", f);
    lanes(tl, f);
    bars(tl, f);
    marks(tl, f);
    arrows(tl, f);
    fputs("\n]}\n", f);
    return ferror(f) ? -1 : 0;
}

/* ---- the two files ---- */

static FILE *open_out(const char *flag, const char *path)
{
    if (!path)
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "fetch: %s %s: cannot open for writing: %s\n", flag, path, strerror(errno));
    return f;
}

int fetch_trace_files_open(const fetch_opts *o, fetch_trace_files *tf)
{
    *tf = (fetch_trace_files){.timeline_path = o->timeline, .json_path = o->trace_json};
    tf->timeline = open_out("--timeline", o->timeline);
    if (o->timeline && !tf->timeline)
        return FETCH_EXIT_WRITE;
    tf->json = open_out("--trace-json", o->trace_json);
    if (o->trace_json && !tf->json) {
        if (tf->timeline)
            fclose(tf->timeline);
        tf->timeline = NULL;
        return FETCH_EXIT_WRITE;
    }
    return FETCH_EXIT_OK;
}

/* Writes one file with `write` and closes it; false after saying why. */
static bool finish(FILE *f, const char *flag, const char *path, const fetch_tl *tl,
                   int (*write)(const fetch_tl *, FILE *))
{
    if (!f)
        return true;
    int rc = tl ? write(tl, f) : -1;
    int saved = tl ? errno : ENOMEM;
    if (fclose(f) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc < 0)
        fprintf(stderr, "fetch: %s %s: %s\n", flag, path, strerror(saved));
    return rc == 0;
}

int fetch_trace_files_write(fetch_trace_files *tf)
{
    fetch_tl tl;
    bool built = (tf->timeline || tf->json) && fetch_tl_build(&tl) == 0;
    if (fetch_tev_lost())
        fprintf(stderr, "fetch: out of memory: the trace lost %zu events\n", fetch_tev_lost());
    bool ok = finish(tf->timeline, "--timeline", tf->timeline_path, built ? &tl : NULL,
                     fetch_timeline_write);
    ok = finish(tf->json, "--trace-json", tf->json_path, built ? &tl : NULL,
                fetch_tracejson_write) && ok;
    if (built)
        fetch_tl_free(&tl);
    fetch_tev_reset();
    tf->timeline = tf->json = NULL;
    return ok ? FETCH_EXIT_OK : FETCH_EXIT_WRITE;
}
