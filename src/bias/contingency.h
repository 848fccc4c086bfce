/*
 * contingency.h
 *		The contingency-table aggregate (aisec.contingency) and the tests of
 *		independence computed from it: Pearson's chi-square and Cramer's V.
 */
#ifndef AISEC_CONTINGENCY_H
#define AISEC_CONTINGENCY_H

#include "postgres.h"

#include "core/core.h"

#define CONTINGENCY_TYPE_NAME	"aisec.contingency_stats"
/* At most this many cells (rows x columns) per table. */
#define CONTINGENCY_MAX_CELLS	(1 << 22)

/* The in-memory aggregate state: a dense, growable R x C count matrix. */
typedef struct ContingencyState
{
	LabelSet	rows;			/* distinct values of the first argument */
	LabelSet	cols;			/* distinct values of the second argument */
	uint32		rcap;			/* rows the matrix has room for */
	uint32		ccap;			/* columns it has room for (the row stride) */
	int64	   *cells;			/* rcap * ccap counts, row-major */
	int64		n;				/* pairs counted */
} ContingencyState;

/* A decoded, validated aisec.contingency_stats value (labels in byte order). */
typedef struct ContingencyView
{
	uint32		nrows;
	uint32		ncols;
	const char **rlab;
	uint32	   *rlen;
	const char **clab;
	uint32	   *clen;
	int64	   *counts;			/* nrows * ncols, row-major */
	int64		n;
} ContingencyView;

/* Offer aisec.contingency() to the aggregate scan (contingency.c). */
extern void aisec_contingency_scan_init(void);

#endif							/* AISEC_CONTINGENCY_H */
