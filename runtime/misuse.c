/* misuse.c - the one place an API misuse is reported (misuse.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "misuse.h"

_Noreturn void ba_misuse(const char *call, const char *what)
{
    /* One write of one line: stdio's stderr may be in any state here, and
     * a line cut in two by another thread's output helps nobody. */
    char line[512];
    int n = snprintf(line, sizeof line, "bareawait: %s: %s (API misuse)\n", call, what);
    if (n > 0) {
        size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        ssize_t w = write(STDERR_FILENO, line, len);
        (void)w; /* nothing better to do if stderr is gone: abort anyway */
    }
    abort();
}

_Noreturn void ba_misusef(const char *call, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    ba_misuse(call, what);
}
