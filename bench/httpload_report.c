/* httpload_report.c - wrk-shaped text and one-line JSON.
 *
 * The text keeps wrk's landmarks so a reader who knows wrk finds things
 * where they expect them: the "threads and connections" header, the
 * Thread Stats table (Avg, Stdev, Max, +/- Stdev), the Latency
 * Distribution block, "N requests in Ts, B read", "Requests/sec:" and
 * "Transfer/sec:".  Two lines are ours: errors by HTTP_E* name and the
 * client's own CPU per request.
 */
#include <string.h>

#include <bareawait/client.h>
#include "httpload_report.h"

static const char *const error_names[LOAD_ERROR_SLOTS] = {
    [-HTTP_E_SCHEME] = "HTTP_E_SCHEME",
    [-HTTP_E_URL] = "HTTP_E_URL",
    [-HTTP_E_RESOLVE] = "HTTP_E_RESOLVE",
    [-HTTP_E_CONNECT] = "HTTP_E_CONNECT",
    [-HTTP_E_CONNECT_TIMEOUT] = "HTTP_E_CONNECT_TIMEOUT",
    [-HTTP_E_READ_TIMEOUT] = "HTTP_E_READ_TIMEOUT",
    [-HTTP_E_TOTAL_TIMEOUT] = "HTTP_E_TOTAL_TIMEOUT",
    [-HTTP_E_MALFORMED] = "HTTP_E_MALFORMED",
    [-HTTP_E_HEAD_TOO_LARGE] = "HTTP_E_HEAD_TOO_LARGE",
    [-HTTP_E_TRUNCATED] = "HTTP_E_TRUNCATED",
    [-HTTP_E_RESET] = "HTTP_E_RESET",
    [-HTTP_E_EMPTY_REPLY] = "HTTP_E_EMPTY_REPLY",
    [-HTTP_E_TOO_MANY_REDIRECTS] = "HTTP_E_TOO_MANY_REDIRECTS",
    [-HTTP_E_BODY_TOO_LARGE] = "HTTP_E_BODY_TOO_LARGE",
    [-HTTP_E_NOMEM] = "HTTP_E_NOMEM",
    [-HTTP_E_ABORTED] = "HTTP_E_ABORTED",
    [-HTTP_E_CANCELLED] = "HTTP_E_CANCELLED",
    [-HTTP_E_BAD_REQUEST] = "HTTP_E_BAD_REQUEST",
    [LOAD_ERROR_SLOTS - 1] = "HTTP_E_OTHER",
};

int report_error_slot(int code)
{
    int slot = -code;
    if (slot <= 0 || slot >= LOAD_ERROR_SLOTS || !error_names[slot])
        return LOAD_ERROR_SLOTS - 1;
    return slot;
}

const char *report_error_name(int code)
{
    return error_names[report_error_slot(code)];
}

static bool is_2xx(int status)
{
    return status >= 200 && status < 300;
}

static uint64_t non_2xx(const load_result *r)
{
    uint64_t n = 0;
    for (int s = 0; s < LOAD_MAX_STATUS; s++)
        if (!is_2xx(s))
            n += r->by_status[s];
    return n;
}

uint64_t report_error_total(const load_result *r)
{
    uint64_t n = non_2xx(r);
    for (int i = 1; i < LOAD_ERROR_SLOTS; i++)
        n += r->errors[i];
    return n;
}

/* ---- units, as wrk shows them ---- */

static void fmt_time(char *out, size_t size, double ns)
{
    if (ns < 1e6)
        snprintf(out, size, "%.2fus", ns / 1e3);
    else if (ns < 1e9)
        snprintf(out, size, "%.2fms", ns / 1e6);
    else
        snprintf(out, size, "%.2fs", ns / 1e9);
}

static void fmt_count(char *out, size_t size, double n)
{
    if (n < 1e3)
        snprintf(out, size, "%.2f", n);
    else if (n < 1e6)
        snprintf(out, size, "%.2fk", n / 1e3);
    else
        snprintf(out, size, "%.2fM", n / 1e6);
}

static void fmt_bytes(char *out, size_t size, double b)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (b >= 1024 && u < 4)
        b /= 1024, u++;
    snprintf(out, size, "%.2f%s", b, units[u]);
}

static double cpu_us_per_response(const load_result *r)
{
    if (r->responses == 0)
        return 0;
    return (r->cpu_user_s + r->cpu_sys_s) * 1e6 / (double)r->responses;
}

/* ---- text ---- */

static void stats_row(FILE *out, const char *label, const char *avg, const char *sd,
                      const char *max, double within)
{
    fprintf(out, "    %-9s%9s %9s %9s %8.2f%%\n", label, avg, sd, max, within);
}

static void thread_stats(FILE *out, const load_result *r)
{
    char avg[32], sd[32], max[32];
    fprintf(out, "  Thread Stats %8s %9s %9s %9s\n", "Avg", "Stdev", "Max", "+/- Stdev");
    const hist *l = r->latency_ns;
    fmt_time(avg, sizeof avg, hist_mean(l));
    fmt_time(sd, sizeof sd, hist_stdev(l));
    fmt_time(max, sizeof max, (double)(l->count ? l->max : 0));
    stats_row(out, "Latency", avg, sd, max, hist_within_stdev(l));
    const hist *q = r->rate;
    fmt_count(avg, sizeof avg, hist_mean(q));
    fmt_count(sd, sizeof sd, hist_stdev(q));
    fmt_count(max, sizeof max, (double)(q->count ? q->max : 0));
    stats_row(out, "Req/Sec", avg, sd, max, hist_within_stdev(q));
}

static void distribution(FILE *out, const load_result *r)
{
    static const double pcts[] = {50, 75, 90, 99, 99.9};
    fprintf(out, "  Latency Distribution\n");
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
        char t[32], p[16];
        fmt_time(t, sizeof t, (double)hist_percentile(r->latency_ns, pcts[i]));
        snprintf(p, sizeof p, "%g%%", pcts[i]);
        fprintf(out, "  %7s %9s\n", p, t);
    }
}

static void error_lines(FILE *out, const load_result *r)
{
    bool any = false;
    for (int i = 1; i < LOAD_ERROR_SLOTS; i++) {
        if (!r->errors[i])
            continue;
        fprintf(out, any ? ", %s %llu" : "  Errors: %s %llu", error_names[i],
                (unsigned long long)r->errors[i]);
        any = true;
    }
    if (any)
        fprintf(out, "\n");
    uint64_t bad = non_2xx(r);
    if (!bad)
        return;
    fprintf(out, "  Non-2xx responses: %llu (", (unsigned long long)bad);
    const char *sep = "";
    for (int s = 0; s < LOAD_MAX_STATUS; s++) {
        if (r->by_status[s] && !is_2xx(s)) {
            fprintf(out, "%s%d: %llu", sep, s, (unsigned long long)r->by_status[s]);
            sep = ", ";
        }
    }
    fprintf(out, ")\n");
}

void report_text(FILE *out, const load_result *r, bool latency)
{
    char b[32], rate[32];
    if (r->planned_requests)
        fprintf(out, "Running %llu requests test @ %s\n",
                (unsigned long long)r->planned_requests, r->url);
    else
        fprintf(out, "Running %gs test @ %s\n", r->planned_s, r->url);
    fprintf(out, "  %d threads and %d connections (switch backend %s)\n", r->threads,
            r->connections, r->backend);
    if (r->warmup_requests)
        fprintf(out, "  first %llu requests were the warm-up, not counted\n",
                (unsigned long long)r->warmup_requests);
    else if (r->warmup_s > 0)
        fprintf(out, "  %gs warm-up first, not counted\n", r->warmup_s);
    thread_stats(out, r);
    if (latency)
        distribution(out, r);
    fmt_bytes(b, sizeof b, (double)r->bytes);
    fprintf(out, "  %llu requests in %.2fs, %s read\n", (unsigned long long)r->responses,
            r->seconds, b);
    error_lines(out, r);
    fprintf(out, "  Client CPU: %.2fus per request (user %.2fs, sys %.2fs)\n",
            cpu_us_per_response(r), r->cpu_user_s, r->cpu_sys_s);
    double secs = r->seconds > 0 ? r->seconds : 1;
    fmt_bytes(rate, sizeof rate, (double)r->bytes / secs);
    fprintf(out, "Requests/sec: %10.2f\n", (double)r->responses / secs);
    fprintf(out, "Transfer/sec: %10s\n", rate);
}

/* ---- JSON ---- */

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void json_error_kinds(FILE *out, const load_result *r)
{
    const char *sep = "";
    fprintf(out, "\"error_kinds\":{");
    for (int i = 1; i < LOAD_ERROR_SLOTS; i++) {
        if (r->errors[i]) {
            fprintf(out, "%s\"%s\":%llu", sep, error_names[i],
                    (unsigned long long)r->errors[i]);
            sep = ",";
        }
    }
    for (int s = 0; s < LOAD_MAX_STATUS; s++) {
        if (r->by_status[s] && !is_2xx(s)) {
            fprintf(out, "%s\"status_%d\":%llu", sep, s, (unsigned long long)r->by_status[s]);
            sep = ",";
        }
    }
    fprintf(out, "}");
}

void report_json(FILE *out, const load_result *r)
{
    const hist *l = r->latency_ns;
    double secs = r->seconds > 0 ? r->seconds : 1;
    fprintf(out, "{\"url\":");
    json_string(out, r->url);
    fprintf(out, ",\"backend\":\"%s\",\"threads\":%d,\"connections\":%d,\"warmup_s\":%g,\"warmup_requests\":%llu,"
            "\"duration_s\":%.3f,"
            "\"requests\":%llu,\"requests_per_sec\":%.2f,\"bytes\":%llu,"
            "\"transfer_bytes_per_sec\":%.0f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,"
            "\"cpu_us_per_request\":%.3f,",
            r->backend, r->threads, r->connections, r->warmup_s,
            (unsigned long long)r->warmup_requests, r->seconds,
            (unsigned long long)r->responses, (double)r->responses / secs,
            (unsigned long long)r->bytes, (double)r->bytes / secs, r->cpu_user_s,
            r->cpu_sys_s, cpu_us_per_response(r));
    fprintf(out, "\"latency_mean_us\":%.2f,\"latency_stdev_us\":%.2f,\"p50_us\":%.2f,"
            "\"p75_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f,",
            hist_mean(l) / 1e3, hist_stdev(l) / 1e3,
            (double)hist_percentile(l, 50) / 1e3, (double)hist_percentile(l, 75) / 1e3,
            (double)hist_percentile(l, 90) / 1e3, (double)hist_percentile(l, 99) / 1e3,
            (double)hist_percentile(l, 99.9) / 1e3, (double)(l->count ? l->max : 0) / 1e3);
    fprintf(out, "\"errors\":%llu,", (unsigned long long)report_error_total(r));
    json_error_kinds(out, r);
    fprintf(out, "}\n");
}
