/* trail.h - the order log the scheduler tests compare.
 *
 * Every step of a scenario appends a word with step(); the test compares
 * the whole string at the end, so a failure prints the full sequence of
 * what ran, not just the first step that differed.  Header-only: each test
 * program has its own log.
 */
#ifndef BAREAWAIT_TRAIL_H
#define BAREAWAIT_TRAIL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char trail[512];

static inline void trail_reset(void)
{
    trail[0] = '\0';
}

static inline void step(const char *fmt, ...)
{
    size_t used = strlen(trail);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(trail + used, sizeof trail - used, fmt, ap);
    va_end(ap);
}

#endif
