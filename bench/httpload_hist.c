/* httpload_hist.c - the log-bucketed histogram.
 *
 * Bucket layout, with S = HIST_SUB_BITS:
 *   v < 2^S:   bucket v (exact).
 *   otherwise: let e be v's highest set bit and shift = e - S; the top
 *              S+1 bits of v, top = v >> shift, lie in [2^S, 2^(S+1)).
 *              The bucket is shift * 2^S + top.
 * Consecutive values map to consecutive or equal buckets, so walking the
 * array in order walks the values in order.
 */
#include <math.h>
#include <string.h>

#include "httpload_hist.h"

void hist_reset(hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

static unsigned bucket_of(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
    return shift * HIST_SUB + (unsigned)(v >> shift);
}

/* The largest value that falls in bucket i. */
static uint64_t bucket_top(unsigned i)
{
    if (i < HIST_SUB)
        return i;
    unsigned shift = i / HIST_SUB - 1;
    uint64_t top = i - (uint64_t)shift * HIST_SUB;
    return ((top + 1) << shift) - 1;
}

void hist_record(hist *h, uint64_t value)
{
    h->buckets[bucket_of(value)]++;
    h->count++;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
    h->sum += (double)value;
    h->sum_sq += (double)value * (double)value;
}

void hist_merge(hist *into, const hist *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
    into->sum += from->sum;
    into->sum_sq += from->sum_sq;
}

uint64_t hist_percentile(const hist *h, double p)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = bucket_top(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

double hist_mean(const hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

double hist_stdev(const hist *h)
{
    if (h->count == 0)
        return 0.0;
    double mean = hist_mean(h);
    double var = h->sum_sq / (double)h->count - mean * mean;
    return var > 0 ? sqrt(var) : 0.0;
}

double hist_within_stdev(const hist *h)
{
    if (h->count == 0)
        return 0.0;
    double mean = hist_mean(h), sd = hist_stdev(h);
    double lo = mean - sd, hi = mean + sd;
    uint64_t inside = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        if (h->buckets[i] && (double)bucket_top(i) >= lo && (double)bucket_top(i) <= hi)
            inside += h->buckets[i];
    return 100.0 * (double)inside / (double)h->count;
}
