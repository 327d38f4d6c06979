/* httpload_hist.h - a log-bucketed latency histogram, HdrHistogram-style.
 *
 * Recording is one array increment, so a load generator can keep every
 * sample of millions of requests without storing (or sorting) them.
 * Values are split into octaves [2^e, 2^(e+1)), and each octave into
 * HIST_SUB equal buckets, so a bucket is never wider than 1/HIST_SUB of
 * the value it holds: percentiles are exact to within 0.8%.  Values below
 * HIST_SUB have a bucket each and are exact.  Min, max, mean and standard
 * deviation are kept exactly, beside the buckets.
 *
 * Plain memory: no allocation, no I/O, nothing suspends.
 */
#ifndef BAREAWAIT_HTTPLOAD_HIST_H
#define BAREAWAIT_HTTPLOAD_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1 << HIST_SUB_BITS) /* buckets per octave: 128 */
/* Enough buckets for any uint64_t: octaves 7..63 plus the exact ones. */
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

typedef struct hist {
    uint64_t count;                 /* values recorded */
    uint64_t min, max;              /* exact extremes (min = UINT64_MAX if empty) */
    double sum, sum_sq;             /* for the exact mean and stdev */
    uint64_t buckets[HIST_BUCKETS]; /* counts, see hist.c for the layout */
} hist;

/* Empties h (also the way to initialise one). */
void hist_reset(hist *h);

/* Records one value (a latency in ns, say). */
void hist_record(hist *h, uint64_t value);

/* Adds every value recorded in `from` to `into`, as if each had been
 * recorded there too (per-thread histograms merged into one). */
void hist_merge(hist *into, const hist *from);

/* The value at percentile p (0 < p <= 100): the upper end of the bucket
 * holding the ceil(p% * count)-th smallest value, capped at the exact max.
 * 0 for an empty histogram. */
uint64_t hist_percentile(const hist *h, double p);

/* Exact mean and (population) standard deviation; 0 when empty. */
double hist_mean(const hist *h);
double hist_stdev(const hist *h);

/* Percentage of values within one standard deviation of the mean (wrk's
 * "+/- Stdev" column), to bucket precision.  0 when empty. */
double hist_within_stdev(const hist *h);

#endif
