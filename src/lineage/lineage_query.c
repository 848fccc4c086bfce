/*
 * lineage_query.c
 *		aisec.lineage_up() and aisec.lineage_down(): ancestors or
 *		descendants of row versions, transitively, breadth first, over the
 *		two indexes of aisec.lineage_edge (doc/lineage.md "Queries").
 *
 * Each row is reported once, at the smallest depth at which it is
 * reached; the start rows are never reported; a hash set of the rows
 * seen makes cycles harmless.  Only ids, versions and transform ids come
 * out: no row data, so reading lineage needs one of aisec's four roles
 * and no privilege on the tables.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "core/core.h"
#include "versioning/versioning.h"
#include "lineage_internal.h"

/* Columns of aisec.lineage_edge. */
#define E_CHILD			0
#define E_CHILD_FROM	1
#define E_LO			2
#define E_HI			3
#define E_PARENTS		4
#define E_TRANSFORM		5

typedef struct Seen
{
	int64		rid;
} Seen;

typedef struct TableName
{
	int32		table_no;
	Oid			relid;
} TableName;

/* A walk in progress. */
typedef struct Walk
{
	Relation	edges;
	Relation	index;
	Snapshot	snap;
	TupleTableSlot *slot;
	HTAB	   *seen;
	HTAB	   *names;
	Tuplestorestate *out;
	TupleDesc	desc;
	int64	   *next;			/* the next depth's rows */
	int			nnext;
	int			capnext;
} Walk;

/* A hash table of entries of size entry whose first keysize bytes are the key. */
static HTAB *
MakeHash(const char *name, Size keysize, Size entry, int n)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entry;
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(name, Max(n, 64), &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* The relation a rid's table number names now, or InvalidOid. */
static Oid
RelOf(Walk *w, int64 rid)
{
	int32		no = (int32) (rid >> RID_TABLE_SHIFT);
	bool		found;
	TableName  *e = hash_search(w->names, &no, HASH_ENTER, &found);

	if (!found)
	{
		TrackedTable tt;

		e->relid = history_lookup_no(no, &tt) ? tt.relid : InvalidOid;
	}
	return e->relid;
}

/* Report rid (new at depth) and queue it for the next depth. */
static void
Reach(Walk *w, int depth, int64 rid, int64 valid_from, int64 transform)
{
	bool		found;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	Oid			rel;

	(void) hash_search(w->seen, &rid, HASH_ENTER, &found);
	if (found)
		return;
	rel = RelOf(w, rid);
	values[0] = Int32GetDatum(depth);
	values[1] = Int64GetDatum(rid);
	values[2] = ObjectIdGetDatum(rel);
	nulls[2] = !OidIsValid(rel);
	values[3] = Int64GetDatum(valid_from);
	values[4] = Int64GetDatum(transform);
	tuplestore_putvalues(w->out, w->desc, values, nulls);
	if (w->nnext == w->capnext)
	{
		w->capnext *= 2;
		w->next = repalloc(w->next, sizeof(int64) * w->capnext);
	}
	w->next[w->nnext++] = rid;
}

/* Scan the edge rows of child key (up: btree on child). */
static void
ScanFor(Walk *w, IndexScanDesc *scan, int64 key)
{
	ScanKeyData skey;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key));
	if (*scan == NULL)
		*scan = index_beginscan(w->edges, w->index, w->snap, 1, 0);
	index_rescan(*scan, &skey, 1, NULL, 0);
}

/*
 * The widest parent range (parent_hi - parent_lo) of an edge row of each
 * width class of the down index (doc/lineage.md "Indexes"): a point, a run
 * or small set, a set within one block.
 */
static const int64 class_width[LINEAGE_WIDTH_CLASSES] = {0, LINEAGE_RUN_SPAN, LINEAGE_BLOCK_MASK};

/*
 * Scan the edge rows of width class k whose parent range may hold key:
 * those whose parent_lo lies in [key - the class's widest range, key]
 * (btree on (class, parent_lo)); the caller checks parent_hi.
 */
static void
ScanDown(Walk *w, IndexScanDesc *scan, int k, int64 key)
{
	ScanKeyData skey[3];

	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(k));
	ScanKeyInit(&skey[1], 2, BTGreaterEqualStrategyNumber, F_INT8GE,
				Int64GetDatum(key - class_width[k]));
	ScanKeyInit(&skey[2], 2, BTLessEqualStrategyNumber, F_INT8LE, Int64GetDatum(key));
	if (*scan == NULL)
		*scan = index_beginscan(w->edges, w->index, w->snap, 3, 0);
	index_rescan(*scan, skey, 3, NULL, 0);
}

/*
 * Scan the run rows (doc/lineage.md "Runs") that may hold child key: a
 * run row's child column is its first child negated, and a run holds at
 * most LINEAGE_RUN_MAX children.
 */
static void
ScanRuns(Walk *w, IndexScanDesc *scan, int64 key)
{
	ScanKeyData skey[2];

	ScanKeyInit(&skey[0], 1, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(-key));
	ScanKeyInit(&skey[1], 1, BTLessEqualStrategyNumber, F_INT8LE,
				Int64GetDatum(-key + LINEAGE_RUN_MAX - 1));
	if (*scan == NULL)
		*scan = index_beginscan(w->edges, w->index, w->snap, 2, 0);
	index_rescan(*scan, skey, 2, NULL, 0);
}

/* The run in the edge row in w->slot, if it is one: its parents in child order. */
static int64 *
SlotRun(Walk *w, int *n, int64 *valid_from)
{
	bool		isnull;
	bytea	   *b = DatumGetByteaPP(slot_getattr(w->slot, E_PARENTS + 1, &isnull));
	int64		lo;
	int64		hi;

	if (!lineage_is_run(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)))
		return NULL;
	lo = DatumGetInt64(slot_getattr(w->slot, E_LO + 1, &isnull));
	hi = DatumGetInt64(slot_getattr(w->slot, E_HI + 1, &isnull));
	return lineage_decode_run(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), lo, hi, n, valid_from);
}

/* The decoded parents of the edge row in w->slot. */
static LineageParent *
SlotParents(Walk *w, int *n)
{
	bool		isnull;
	bytea	   *b = DatumGetByteaPP(slot_getattr(w->slot, E_PARENTS + 1, &isnull));
	int64		lo = DatumGetInt64(slot_getattr(w->slot, E_LO + 1, &isnull));

	return lineage_decode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b),
						  lo >> LINEAGE_BLOCK_SHIFT, n);
}

static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Order parents by rid only (a set holds a rid's versions side by side). */
static int
CompareParentRid(const void *a, const void *b)
{
	int64		x = ((const LineageParent *) a)->rid;
	int64		y = ((const LineageParent *) b)->rid;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* One depth going up: the parents of every row of frontier. */
static void
StepUp(Walk *w, int depth, const int64 *frontier, int n)
{
	IndexScanDesc scan = NULL;
	IndexScanDesc runs = NULL;

	for (int i = 0; i < n; i++)
	{
		if (frontier[i] <= 0)
			continue;			/* no row id; run rows' child column is negative */
		ScanFor(w, &scan, frontier[i]);
		while (index_getnext_slot(scan, ForwardScanDirection, w->slot))
		{
			bool		isnull;
			int64		transform = DatumGetInt64(slot_getattr(w->slot, E_TRANSFORM + 1, &isnull));
			int			np;
			LineageParent *p = SlotParents(w, &np);

			for (int k = 0; k < np; k++)
				Reach(w, depth, p[k].rid, p[k].valid_from, transform);
			pfree(p);
		}
		ScanRuns(w, &runs, frontier[i]);
		while (index_getnext_slot(runs, ForwardScanDirection, w->slot))
		{
			bool		isnull;
			int64		first = -DatumGetInt64(slot_getattr(w->slot, E_CHILD + 1, &isnull));
			int64		transform = DatumGetInt64(slot_getattr(w->slot, E_TRANSFORM + 1, &isnull));
			int			np;
			int64		pf;
			int64	   *p = SlotRun(w, &np, &pf);

			if (p != NULL && frontier[i] - first < np)
				Reach(w, depth, p[frontier[i] - first], pf, transform);
			if (p != NULL)
				pfree(p);
		}
	}
	if (scan)
		index_endscan(scan);
	if (runs)
		index_endscan(runs);
}

/* If the edge row in w->slot names parent key, reach its child (or children). */
static void
DownRow(Walk *w, int depth, int64 key)
{
	bool		isnull;
	int			np;
	int64		pf;
	int64	   *run;
	LineageParent *p;
	LineageParent probe = {key, 0};
	int64		cf;
	int64		tr;

	if (DatumGetInt64(slot_getattr(w->slot, E_HI + 1, &isnull)) < key)
		return;					/* its range ends below key */
	cf = DatumGetInt64(slot_getattr(w->slot, E_CHILD_FROM + 1, &isnull));
	tr = DatumGetInt64(slot_getattr(w->slot, E_TRANSFORM + 1, &isnull));
	{
		bytea	   *b = DatumGetByteaPP(slot_getattr(w->slot, E_PARENTS + 1, &isnull));

		if (lineage_is_down_run(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)))
		{
			int64		lo = DatumGetInt64(slot_getattr(w->slot, E_LO + 1, &isnull));
			int64		hi = DatumGetInt64(slot_getattr(w->slot, E_HI + 1, &isnull));
			int64	   *e = lineage_decode_down_run(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b),
													lo, hi, &np, &pf);

			for (int k = 0; k < np; k++)
				if (e[2 * k + 1] == key)
					Reach(w, depth, e[2 * k], cf, tr);
			pfree(e);
			return;
		}
	}
	run = SlotRun(w, &np, &pf);
	if (run != NULL)
	{
		int64		first = -DatumGetInt64(slot_getattr(w->slot, E_CHILD + 1, &isnull));

		for (int k = 0; k < np; k++)
			if (run[k] == key)
				Reach(w, depth, first + k, cf, tr);
		pfree(run);
		return;
	}
	p = SlotParents(w, &np);
	/* The range holds the rid; the set may not. */
	if (bsearch(&probe, p, np, sizeof(LineageParent), CompareParentRid))
		Reach(w, depth, DatumGetInt64(slot_getattr(w->slot, E_CHILD + 1, &isnull)), cf, tr);
	pfree(p);
}

/* One depth going down: the children of every row of frontier. */
static void
StepDown(Walk *w, int depth, const int64 *frontier, int n)
{
	IndexScanDesc scan = NULL;

	for (int i = 0; i < n; i++)
		for (int cls = 0; cls < LINEAGE_WIDTH_CLASSES; cls++)
		{
			ScanDown(w, &scan, cls, frontier[i]);
			while (index_getnext_slot(scan, ForwardScanDirection, w->slot))
				DownRow(w, depth, frontier[i]);
		}
	if (scan)
		index_endscan(scan);
}

/* Run lineage_up (up) or lineage_down from the rows of argument 0. */
static Datum
LineageWalk(FunctionCallInfo fcinfo, bool up, bool array, const char *fn)
{
	Walk		w;
	int			maxdepth = PG_INT32_MAX;
	int64	   *frontier;
	int			n = 0;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER | AISEC_ROLE_DPO |
					   AISEC_ROLE_AUDITOR, fn);
	if (!PG_ARGISNULL(1))
	{
		maxdepth = PG_GETARG_INT32(1);
		if (maxdepth < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("depth must not be negative"),
					 errhint("Pass NULL to follow lineage all the way.")));
	}
	memset(&w, 0, sizeof(w));
	w.out = aisec_begin_srf(fcinfo, &w.desc);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	if (array)
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
		Datum	   *elems;
		bool	   *nulls;

		if (ARR_NDIM(a) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("rids must be a one-dimensional array")));
		if (array_contains_nulls(a))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("rids must not contain NULL")));
		deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
		frontier = palloc(sizeof(int64) * Max(n, 1));
		for (int i = 0; i < n; i++)
			frontier[i] = DatumGetInt64(elems[i]);
	}
	else
	{
		frontier = palloc(sizeof(int64));
		frontier[0] = PG_GETARG_INT64(0);
		n = 1;
	}

	w.seen = MakeHash("aisec lineage seen", sizeof(int64), sizeof(Seen), n * 4);
	w.names = MakeHash("aisec lineage tables", sizeof(int32), sizeof(TableName), 16);
	for (int i = 0; i < n; i++)
		(void) hash_search(w.seen, &frontier[i], HASH_ENTER, NULL);
	w.edges = table_open(aisec_relid("lineage_edge"), AccessShareLock);
	w.index = index_open(aisec_relid(up ? "lineage_edge_child" : "lineage_edge_parent"),
						 AccessShareLock);
	w.snap = GetActiveSnapshot();
	w.slot = table_slot_create(w.edges, NULL);
	w.capnext = 64;
	w.next = palloc(sizeof(int64) * w.capnext);
	for (int depth = 1; depth <= maxdepth && n > 0; depth++)
	{
		CHECK_FOR_INTERRUPTS();
		qsort(frontier, n, sizeof(int64), CompareInt64);
		w.nnext = 0;
		if (up)
			StepUp(&w, depth, frontier, n);
		else
			StepDown(&w, depth, frontier, n);
		/* The rows reached become the frontier. */
		pfree(frontier);
		frontier = w.next;
		n = w.nnext;
		w.capnext = Max(64, n);
		w.next = palloc(sizeof(int64) * w.capnext);
	}
	ExecDropSingleTupleTableSlot(w.slot);
	index_close(w.index, AccessShareLock);
	table_close(w.edges, AccessShareLock);
	return (Datum) 0;
}

/* SQL: aisec.lineage_up(rid, depth): the rows a row was made from. */
PG_FUNCTION_INFO_V1(aisec_lineage_up);
Datum
aisec_lineage_up(PG_FUNCTION_ARGS)
{
	return LineageWalk(fcinfo, true, false, "aisec.lineage_up()");
}

/* SQL: aisec.lineage_up(rids, depth): the rows some rows were made from. */
PG_FUNCTION_INFO_V1(aisec_lineage_up_array);
Datum
aisec_lineage_up_array(PG_FUNCTION_ARGS)
{
	return LineageWalk(fcinfo, true, true, "aisec.lineage_up()");
}

/* SQL: aisec.lineage_down(rid, depth): the rows made from a row. */
PG_FUNCTION_INFO_V1(aisec_lineage_down);
Datum
aisec_lineage_down(PG_FUNCTION_ARGS)
{
	return LineageWalk(fcinfo, false, false, "aisec.lineage_down()");
}

/* SQL: aisec.lineage_down(rids, depth): the rows made from some rows. */
PG_FUNCTION_INFO_V1(aisec_lineage_down_array);
Datum
aisec_lineage_down_array(PG_FUNCTION_ARGS)
{
	return LineageWalk(fcinfo, false, true, "aisec.lineage_down()");
}
