/*
 * bias.h
 *		The door of src/bias/: the fairness and contingency states.  No
 *		other folder uses them today; this is the header one would include.
 *		specfun.h (special functions for p-values) is private to the folder.
 *		module.c calls aisec_fairness_scan_init() to offer the fairness
 *		aggregates to the aggregate scan (core/aggscan.c).
 */
#ifndef AISEC_BIAS_H
#define AISEC_BIAS_H

#include "contingency.h"
#include "fairness.h"

#endif							/* AISEC_BIAS_H */
