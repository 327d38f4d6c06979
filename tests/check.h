/* check.h - the tiny assertion header every test uses.
 *
 * A failed check prints file:line, the expression, both values and errno,
 * counts the failure, and carries on (so one run shows every failure).
 * main() ends with `return check_summary();`, or runs a table of cases
 * with `return check_run(cases, n, fd_check);`.
 * Exit 77 means "skipped" to meson.
 */
#ifndef BAREAWAIT_CHECK_H
#define BAREAWAIT_CHECK_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int check_failures;

static inline void check_fail_(const char *file, int line, const char *expr,
                               const char *detail)
{
    int e = errno;
    fprintf(stderr, "%s:%d: check failed: %s%s%s (errno %d: %s)\n", file, line,
            expr, detail[0] ? " -- " : "", detail, e, strerror(e));
    check_failures++;
}

static inline int check_int_(const char *file, int line, const char *expr,
                             long long got, long long want)
{
    if (got == want)
        return 1;
    char d[128];
    snprintf(d, sizeof d, "got %lld, want %lld", got, want);
    check_fail_(file, line, expr, d);
    return 0;
}

static inline int check_str_(const char *file, int line, const char *expr,
                             const char *got, const char *want)
{
    if (got && want && strcmp(got, want) == 0)
        return 1;
    char d[512];
    snprintf(d, sizeof d, "got \"%.200s\", want \"%.200s\"", got ? got : "(null)",
             want ? want : "(null)");
    check_fail_(file, line, expr, d);
    return 0;
}

static inline int check_true_(const char *file, int line, const char *expr, int ok)
{
    if (!ok)
        check_fail_(file, line, expr, "");
    return ok;
}

/* CHECK(cond); CHECK_INT(got, want); CHECK_STR(got, want).  Each evaluates
 * to 1 when it passed, so a test may write `if (!CHECK(p)) return;`. */
#define CHECK(cond) check_true_(__FILE__, __LINE__, #cond, !!(cond))
#define CHECK_INT(got, want) \
    check_int_(__FILE__, __LINE__, #got " == " #want, (long long)(got), (long long)(want))
#define CHECK_STR(got, want) \
    check_str_(__FILE__, __LINE__, #got " == " #want, (got), (want))

/* True when the test runs under user-mode emulation: the meson cross file
 * scripts/cross-aarch64.ini sets BA_UNDER_QEMU=1 in its exe_wrapper.  For
 * the few checks that cannot mean anything there, which then skip, saying
 * why (never pass in silence). */
static inline int check_under_qemu(void)
{
    const char *v = getenv("BA_UNDER_QEMU");
    return v && *v && strcmp(v, "0") != 0;
}

static inline int check_summary(void)
{
    if (check_failures)
        fprintf(stderr, "%d check(s) failed\n", check_failures);
    return check_failures ? 1 : 0;
}

/* Number of open fds in this process (entries in /proc/self/fd), for
 * leak checks: take it before, compare after. */
#include <dirent.h>
static inline int check_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the DIR's own fd */
}

/* A "Key:   1234 kB" line of a /proc file ("/proc/self/status" with
 * "VmRSS:", "VmHWM:", "VmSize:"; "/proc/meminfo" with "MemAvailable:"),
 * in KiB; -1 if the file or the key is missing. */
static inline long long check_proc_kib(const char *file, const char *key)
{
    FILE *f = fopen(file, "r");
    char line[256];
    long long kib = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0)
            kib = strtoll(line + n, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

/* One case of a table-driven test program. */
typedef struct check_case {
    const char *name;
    void (*fn)(void);
} check_case;

/* Runs the n cases in order, printing "ok" or "FAIL", the name and how
 * long each took.  With fd_check, the run must also end with as many open
 * fds as it started with.  Returns what main() should: check_summary(). */
static inline int check_run(const check_case *cases, size_t n, int fd_check)
{
    int fds = fd_check ? check_count_fds() : 0;
    for (size_t i = 0; i < n; i++) {
        int before = check_failures;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cases[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        printf("%s %s (%.1f ms)\n", check_failures == before ? "ok  " : "FAIL", cases[i].name, ms);
    }
    if (fd_check)
        CHECK_INT(check_count_fds(), fds);
    return check_summary();
}

#endif
