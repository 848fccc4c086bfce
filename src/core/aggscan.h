/*
 * aggscan.h
 *		The aggregate scan: an aggregate-only query over one plain table,
 *		SELECT f(a, b, ...) [, g(...)] FROM t, computed in one tight loop
 *		over the table's heap pages instead of a sequential scan feeding an
 *		Agg node row by row.  See aggscan.c.
 *
 * A capability offers one of its aggregates to the scan by registering
 * the C transition function the aggregate is declared with, and a function
 * that adds one row's arguments to the state straight (no function call
 * interface, no slot).  The scan replaces only aggregates whose transition
 * function it knows; everything else about the aggregate (its final
 * function, its privileges) is read from the catalog as the Agg node would.
 */
#ifndef AISEC_AGGSCAN_H
#define AISEC_AGGSCAN_H

#include "postgres.h"

#include "fmgr.h"

#include "aggbox.h"

#define AGGSCAN_MAX_ARGS	8

/* One kind of aggregate the scan computes. */
typedef struct AggScanKind
{
	PGFunction	transfn;		/* the transition function it stands for */
	int			nargs;			/* the aggregate's arguments */
	const AggBoxMethods *box;	/* its state (the aggregate's STYPE); needs create */
	/*
	 * Add one row: values and isnull hold the aggregate's arguments, in
	 * order, exactly as the transition function would receive them.  It
	 * must give the same state and raise the same errors as the transition
	 * function, and return whether the row counted: false where the
	 * transition function would have returned its NULL state unchanged (a
	 * row it skips before any row has counted), so that over no counted row
	 * the result is the final function's of NULL, as from the Agg node.
	 */
	bool		(*add_row) (void *state, const Datum *values, const bool *isnull);
} AggScanKind;

extern void aggscan_register(const AggScanKind *kind);
extern void aisec_aggscan_init(void);

#endif							/* AISEC_AGGSCAN_H */
