/*
 * histogram.h
 *		The fixed-bin histogram aggregate (aisec.histogram) and its state
 *		type aisec.histogram_stats, compared by the drift measures in
 *		divergence.c.
 */
#ifndef AISEC_HISTOGRAM_H
#define AISEC_HISTOGRAM_H

#include "postgres.h"

#include "fmgr.h"

#define HISTOGRAM_TYPE_NAME		"aisec.histogram_stats"
#define HISTOGRAM_MAX_BINS		1000000

/*
 * A decoded, validated aisec.histogram_stats value.  counts has bins + 2
 * slots numbered as width_bucket() numbers buckets: 0 counts values below
 * lower, 1..bins the bins, bins + 1 values at or above upper (and NaN).
 */
typedef struct HistogramView
{
	double		lower;
	double		upper;
	int32		bins;
	int64		n;
	int64	   *counts;
} HistogramView;

extern void histogram_decode(const struct varlena *v, HistogramView *h);

#endif							/* AISEC_HISTOGRAM_H */
