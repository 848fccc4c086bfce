/*
 * drift.h
 *		The door of src/drift/: histogram and category-count states and the
 *		divergences between them.  No other folder uses them today; this is
 *		the header one would include.
 */
#ifndef AISEC_DRIFT_H
#define AISEC_DRIFT_H

#include "category.h"
#include "divergence.h"
#include "histogram.h"

#endif							/* AISEC_DRIFT_H */
