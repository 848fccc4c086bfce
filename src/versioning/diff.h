/*
 * diff.h
 *		Private to src/versioning/: what diff.c (aisec.diff() and
 *		aisec.diff_summary(), rows matched by row id) and diff_keyed.c (rows
 *		matched by the values of key columns) share.
 */
#ifndef AISEC_DIFF_H
#define AISEC_DIFF_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "utils/snapshot.h"

#include "version.h"

/*
 * One row of a diff: its images at the lower and the higher of the two
 * versions (lo, hi), whichever is from_version.  Matched by row id, both
 * images have the same row id; matched by key, each has its own.
 */
typedef struct DiffRow
{
	int64		rid;			/* hash key when matched by row id */
	int64		lo_rid;			/* row id of the image at lo */
	int64		hi_rid;			/* row id of the image at hi */
	Datum		lo;				/* row at the lower version, if in it */
	Datum		hi;				/* row at the higher version, if in it */
	bool		has_lo;
	bool		has_hi;
	bool		lo_null;		/* redacted image */
	bool		hi_null;
} DiffRow;

/* The key columns of a keyed diff, resolved against the table's columns. */
typedef struct DiffKey
{
	int			n;				/* 0: rows are matched by row id */
	AttrNumber *attnums;
	Oid		   *collations;
	FmgrInfo  **hash;			/* the types' hash functions (typcache's) */
	FmgrInfo  **eq;				/* and equality operators */
	int16	   *typlen;
	bool	   *typbyval;
} DiffKey;

/* diff_keyed.c */
extern void diff_resolve_key(Oid relid, TupleDesc desc, Datum key, DiffKey *out);
extern DiffRow **diff_keyed_rows(const TrackedTable *tt, TupleDesc desc, const DiffKey *key,
								 int64 from, int64 to, int64 rows_hint, Snapshot snap,
								 int *nrows);

#endif							/* AISEC_DIFF_H */
