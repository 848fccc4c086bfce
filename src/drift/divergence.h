/*
 * divergence.h
 *		Drift and representation measures between distributions: PSI,
 *		Kullback-Leibler and Jensen-Shannon divergences, the two-sample
 *		Kolmogorov-Smirnov statistic, and class imbalance.
 */
#ifndef AISEC_DIVERGENCE_H
#define AISEC_DIVERGENCE_H

#include "postgres.h"

/* Default smoothing for empty bins: zero proportions become this. */
#define DIVERGENCE_DEFAULT_EPSILON	1e-4

#endif							/* AISEC_DIVERGENCE_H */
