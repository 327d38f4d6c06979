/* httpload_report.h - what one httpload run measured, and the two ways of
 * printing it: wrk's layout for people, one JSON object for scripts.
 * Printing only: nothing here suspends or allocates.
 */
#ifndef BAREAWAIT_HTTPLOAD_REPORT_H
#define BAREAWAIT_HTTPLOAD_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "httpload_hist.h"

/* Error slots: index -code for each HTTP_E* code (0 is unused: HTTP_OK);
 * any code the table does not know lands in the last slot. */
#define LOAD_ERROR_SLOTS 20
#define LOAD_MAX_STATUS 600 /* statuses 0..599 are counted one by one */

typedef struct load_result {
    const char *url;
    const char *backend;        /* the switch backend, "asm" or "ucontext" */
    int threads;                /* -t: one runtime and client each */
    int connections;            /* over all threads */
    double planned_s;           /* -d, or 0 */
    uint64_t planned_requests;  /* -n, or 0 */
    double warmup_s;            /* run before the window, counted nowhere... */
    uint64_t warmup_requests;   /* ...or this many requests (with -n) */
    double seconds;             /* the measured window */
    uint64_t responses;         /* responses completed in the window, any status */
    uint64_t bytes;             /* response heads (as parsed) and bodies */
    double cpu_user_s;          /* this process's CPU over the window */
    double cpu_sys_s;
    const hist *latency_ns;     /* one sample per response */
    const hist *rate;           /* requests/s, one sample per thread per 100 ms */
    uint64_t errors[LOAD_ERROR_SLOTS];      /* failed requests by -code */
    uint64_t by_status[LOAD_MAX_STATUS];    /* responses by status */
} load_result;

/* The name of an HTTP_E* code ("HTTP_E_CONNECT"), "HTTP_E_OTHER" if unknown. */
const char *report_error_name(int code);

/* The error slot for an HTTP_E* code. */
int report_error_slot(int code);

/* Requests that failed, plus responses outside 2xx. */
uint64_t report_error_total(const load_result *r);

/* wrk's layout; with `latency`, the distribution block too. */
void report_text(FILE *out, const load_result *r, bool latency);

/* One JSON object on one line. */
void report_json(FILE *out, const load_result *r);

#endif
